/* The transport layers' way to IP; see l3.h. */
#include "net/l3.h"
#include "net/csum.h"
#include "net/core.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"

#include <errno.h>

uint32_t l3_pseudo(const union inany *src, const union inany *dst,
		   uint8_t proto, size_t len)
{
	uint64_t sum;

	if (inany_is_v4(src) && inany_is_v4(dst))
		return csum_pseudo4(inany_v4(src), inany_v4(dst), proto,
				    (uint16_t)len);
	/* IPv6: both addresses, the 32-bit length and the next header. */
	sum = csum_partial(src->a, 16, 0);
	sum = csum_partial(dst->a, 16, (uint32_t)sum);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto;
	while (sum >> 32)
		sum = (sum & 0xffffffffu) + (sum >> 32);
	return (uint32_t)sum;
}

int l3_output(struct stack *s, const union inany *src, const union inany *dst,
	      uint8_t proto, const uint8_t *dst_mac, struct pbuf *pb,
	      const struct stack_tx_offload *off)
{
	if (inany_is_v4(dst) && inany_is_v4(src))
		return ip4_output_offload(s, inany_v4(src), inany_v4(dst),
					  proto, dst_mac, pb, off);
	return -EAFNOSUPPORT;
}

bool l3_offload_ok(struct stack *s, const union inany *dst)
{
	return inany_is_v4(dst) && ip4_offload_ok(s, inany_v4(dst));
}

union inany l3_source(const struct stack *s, const union inany *dst)
{
	if (inany_is_v4(dst))
		return inany_from_v4(s->p.addr);
	return INANY_ANY;
}

int l3_reachable(const struct stack *s, const union inany *dst)
{
	if (inany_is_unspec(dst))
		return -EINVAL;
	if (!inany_is_v4(dst))
		return -EAFNOSUPPORT;
	return ip4_reachable(s, inany_v4(dst));
}

void l3_port_unreachable(struct stack *s, const struct l3_rx *rx)
{
	if (inany_is_v4(&rx->src))
		icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, rx);
}

void l3_reasm_expired(struct stack *s, const struct l3_rx *rx)
{
	if (inany_is_v4(&rx->src))
		icmp4_send_error(s, ICMP4_TIME_EXCEEDED, ICMP4_EXC_FRAGTIME,
				 rx);
	/* IPv6: filled in by icmp6.c */
}
