/* Ethernet II: accept what is for us, hand it up by type; prepend on output. */
#include "net/core.h"
#include "wire/arp.h"

#include <errno.h>

/* The only multicast group we are a member of: all-hosts 224.0.0.1. */
static const uint8_t all_hosts_mac[ETH_ALEN] = {0x01, 0x00, 0x5e,
						0x00, 0x00, 0x01};

/* IPv6 multicast (RFC 2464 7): all-nodes ff02::1, the solicited-node
 * group ff02::1:ffXX:XXXX of each of our addresses, and the groups
 * modules joined. */
static bool eth_accept6(const struct stack *s, const uint8_t *dst)
{
	static const uint8_t all_nodes[ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 1};

	if (memcmp(dst, all_nodes, ETH_ALEN) == 0)
		return s->naddr6 > 0;
	for (unsigned i = 0; i < s->nmcast6; i++)
		if (memcmp(dst + 2, s->mcast6[i].g + 12, 4) == 0)
			return true;
	if (dst[2] != 0xff)
		return false;
	for (unsigned i = 0; i < s->naddr6; i++)
		if (memcmp(dst + 3, s->addr6[i].a.a + 13, 3) == 0)
			return true;
	return false;
}

static bool eth_accept(const struct stack *s, const uint8_t *dst)
{
	if (dst[0] == 0x33 && dst[1] == 0x33)
		return eth_accept6(s, dst);
	return memcmp(dst, s->p.mac, ETH_ALEN) == 0 || eth_is_broadcast(dst) ||
	       memcmp(dst, all_hosts_mac, ETH_ALEN) == 0;
}

void eth_input(struct stack *s, struct cur c, unsigned flags)
{
	struct eth_hdr eh;

	STAT_INC(&s->stats, ETH_RX);
	if (!eth_hdr_parse(&c, &eh)) {
		STAT_INC(&s->stats, ETH_DROP_SHORT);
		return;
	}
	if (!eth_accept(s, eh.dst)) {
		STAT_INC(&s->stats, ETH_DROP_NOT_US);
		return;
	}
	if (eth_is_multicast(eh.src)) {
		STAT_INC(&s->stats, ETH_DROP_BAD_SRC);
		return;
	}
	switch (eh.type) {
	case ETH_TYPE_ARP:
		arp_input(s, c);
		break;
	case ETH_TYPE_IP4:
		ip4_input(s, c, &eh, flags);
		break;
	case ETH_TYPE_IP6:
		ip6_input(s, c, &eh, flags);
		break;
	default:
		STAT_INC(&s->stats, ETH_DROP_TYPE);
		break;
	}
}

int eth_output(struct stack *s, const uint8_t *dst_mac, uint16_t type,
	       struct pbuf *pb, const struct stack_tx_offload *off)
{
	struct eth_hdr eh = {.type = type};
	int err;

	memcpy(eh.dst, dst_mac, ETH_ALEN);
	memcpy(eh.src, s->p.mac, ETH_ALEN);
	eth_hdr_write(pbuf_push(pb, ETH_HLEN), &eh);
	STAT_INC(&s->stats, ETH_TX);
	err = s->xmit(s->xmit_ctx, pbuf_data(pb), pb->len, off);
	if (err) {
		STAT_INC(&s->stats, LINK_TX_ERR);
		return err;
	}
	STAT_INC(&s->stats, LINK_TX);
	return 0;
}
