/* The transport layers' way to IP; see l3.h. */
#include "net/l3.h"
#include "net/csum.h"
#include "net/core.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ip4.h"
#include "wire/ip6.h"

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
	if (inany_is_v4(dst) || inany_is_v4(src))
		return -EAFNOSUPPORT;
	return ip6_output(s, src, dst, proto, 0, dst_mac, pb, off);
}

bool l3_offload_ok(struct stack *s, const union inany *dst)
{
	if (inany_is_v4(dst))
		return ip4_offload_ok(s, inany_v4(dst));
	return ip6_offload_ok(s, dst);
}

union inany l3_source(const struct stack *s, const union inany *dst)
{
	if (inany_is_v4(dst))
		return inany_from_v4(s->p.addr);
	return ip6_source(s, dst);
}

int l3_reachable(const struct stack *s, const union inany *dst)
{
	if (inany_is_unspec(dst))
		return -EINVAL;
	if (!inany_is_v4(dst))
		return ip6_reachable(s, dst);
	return ip4_reachable(s, inany_v4(dst));
}

void l3_port_unreachable(struct stack *s, const struct l3_rx *rx)
{
	if (inany_is_v4(&rx->src))
		icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, rx);
	else
		icmp6_send_error(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0,
				 rx);
}

/* A token bucket in milli-tokens: icmp_rate a second, icmp_burst deep. */
bool l3_icmp_allow(struct stack *s)
{
	uint64_t now = stack_now(s);
	uint64_t cap = (uint64_t)s->p.icmp_burst * 1000;

	s->icmp_tokens += (now - s->icmp_last_ms) * s->p.icmp_rate;
	s->icmp_last_ms = now;
	if (s->icmp_tokens > cap)
		s->icmp_tokens = cap;
	if (s->icmp_tokens < 1000)
		return false;
	s->icmp_tokens -= 1000;
	return true;
}

/* RFC 1191 7: with no MTU in a Fragmentation Needed from an old router,
 * the next plateau below the size of the datagram that was too big. */
static uint32_t pmtu_plateau(uint32_t too_big)
{
	static const uint32_t plateau[] = {32000, 17914, 8166, 4352, 2002,
					   1492, 1006, 508, 296, 68};

	for (size_t i = 0; i < sizeof(plateau) / sizeof(plateau[0]); i++)
		if (plateau[i] < too_big)
			return plateau[i];
	return 68;
}

/* Read the quoted IPv6 header's chain up to the transport header: false
 * when it is not there (cut short, too long a chain).  A later fragment
 * names its transport in the Fragment header but carries none of its
 * header: *ports is false then. */
static bool quote_walk6(struct cur *q, uint8_t *proto, bool *ports)
{
	*ports = true;
	switch (ip6_skip_ext(q, proto, 8)) {
	case IP6_SKIP_UPPER:
		return true;
	case IP6_SKIP_LATER_FRAG:
		*ports = false; /* only the first fragment carries them */
		return !ip6_is_ext(*proto);
	default:
		return false;
	}
}

void l3_icmp_error(struct stack *s, const struct l3_rx *rx, struct cur quote,
		   enum l3_err_kind kind, uint32_t mtu)
{
	union inany src, dst;
	struct flow_key k;
	const uint8_t *p;
	uint8_t proto;
	bool ports; /* the quote holds the transport header's start */

	STAT_INC(&s->stats, ICMP_ERR_RX);
	/* The quote is of the error's own family (RFC 792, RFC 4443 3):
	 * a router of one family never saw our datagram of the other. */
	if (inany_is_v4(&rx->src) && quote.len >= IP4_HLEN &&
	    quote.p[0] >> 4 == 4) {
		size_t ihl = (size_t)(quote.p[0] & 0x0f) * 4;

		if (ihl < IP4_HLEN || !(p = cur_pull(&quote, ihl)))
			goto bad;
		src = inany_from_v4(be32(p + 12));
		dst = inany_from_v4(be32(p + 16));
		proto = p[9];
		if (!ip4_is_local(s, inany_v4(&src)))
			goto bad;
		if (kind == L3_ERR_MTU && mtu == 0)
			mtu = pmtu_plateau(be16(p + 2));
		ports = !(be16(p + 6) & IP4_OFF_MASK); /* a later fragment */
	} else if (!inany_is_v4(&rx->src) && quote.len >= 40 &&
		   quote.p[0] >> 4 == 6) {
		p = cur_pull(&quote, 40);
		src = inany_from_v6(p + 8);
		dst = inany_from_v6(p + 24);
		proto = p[6];
		if (!ip6_addr_find(s, &src))
			goto bad;
		if (!quote_walk6(&quote, &proto, &ports))
			goto bad; /* not a datagram we could have sent */
	} else {
		goto bad;
	}
	if (quote.len < 8)
		ports = false;
	if (proto != L3_PROTO_TCP) {
		/* UDP and ICMP keep no state to check the error against or
		 * to tell of it: the path MTU is all there is to learn. */
		if (kind == L3_ERR_MTU)
			pmtu_update(s, &dst, mtu);
		return;
	}
	/* TCP acts, on the path MTU too, only when the quoted sequence
	 * number is one in flight (RFC 5927 4.1): a quote without it (cut
	 * short, or a later fragment, which our TCP never sends) is not
	 * acted on. */
	if (!ports)
		goto bad;
	k.laddr = src;
	k.raddr = dst;
	k.lport = be16(quote.p);
	k.rport = be16(quote.p + 2);
	tcp_icmp_error(s, &k, be32(quote.p + 4), kind, mtu);
	return;
bad:
	STAT_INC(&s->stats, ICMP_ERR_DROP_QUOTE);
}

void l3_reasm_expired(struct stack *s, const struct l3_rx *rx)
{
	if (inany_is_v4(&rx->src))
		icmp4_send_error(s, ICMP4_TIME_EXCEEDED, ICMP4_EXC_FRAGTIME,
				 rx);
	else
		icmp6_reasm_expired(s, rx);
}

int stack_echo_send(struct stack *s, const union inany *dst, uint16_t id,
		    uint16_t seq)
{
	if (inany_is_v4(dst)) {
		int err = ip4_reachable(s, inany_v4(dst));

		if (ip4_is_broadcast(s, inany_v4(dst)) ||
		    ip4_is_multicast(inany_v4(dst)))
			return -EINVAL;
		return err ? err : icmp4_echo_send(s, inany_v4(dst), id, seq);
	}
	if (!s->p.ipv6)
		return -EAFNOSUPPORT;
	return icmp6_echo_send(s, dst, id, seq);
}

bool stack_neigh_known(struct stack *s, const union inany *addr)
{
	if (inany_is_v4(addr))
		return ip4_neigh_ready(s, inany_v4(addr));
	return s->p.ipv6 && ip6_neigh_ready(s, addr);
}
