/* Ethernet II header (IEEE 802.3 / RFC 894). */
#ifndef TAPIR_WIRE_ETH_H
#define TAPIR_WIRE_ETH_H

#include <stdbool.h>
#include <string.h>

#include "wire/cur.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_TYPE_IP4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_IP6 0x86dd
#define ETH_TYPE_MIN 0x0600 /* smaller values are 802.3 lengths */

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
};

static const uint8_t eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff,
						0xff, 0xff, 0xff};

static inline bool eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

static inline bool eth_is_broadcast(const uint8_t *mac)
{
	return memcmp(mac, eth_broadcast, ETH_ALEN) == 0;
}

/* Parse and consume an Ethernet header; false when too short. */
static inline bool eth_hdr_parse(struct cur *c, struct eth_hdr *h)
{
	const uint8_t *p = cur_pull(c, ETH_HLEN);

	if (!p)
		return false;
	memcpy(h->dst, p, ETH_ALEN);
	memcpy(h->src, p + 6, ETH_ALEN);
	h->type = be16(p + 12);
	return true;
}

static inline void eth_hdr_write(uint8_t *p, const struct eth_hdr *h)
{
	memcpy(p, h->dst, ETH_ALEN);
	memcpy(p + 6, h->src, ETH_ALEN);
	put_be16(p + 12, h->type);
}

#endif
