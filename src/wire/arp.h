/* ARP for IPv4 over Ethernet (RFC 826). */
#ifndef TAPIR_WIRE_ARP_H
#define TAPIR_WIRE_ARP_H

#include <stdbool.h>
#include <string.h>

#include "wire/cur.h"
#include "wire/eth.h"

#define ARP_LEN 28
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_hdr {
	uint16_t htype;
	uint16_t ptype;
	uint8_t hlen;
	uint8_t plen;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa; /* host order */
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
};

/* Parse an Ethernet/IPv4 ARP packet.  False when short or when the hardware
 * and protocol types or lengths are not Ethernet and IPv4. */
static inline bool arp_hdr_parse(struct cur *c, struct arp_hdr *h)
{
	const uint8_t *p = cur_pull(c, ARP_LEN);

	if (!p)
		return false;
	h->htype = be16(p);
	h->ptype = be16(p + 2);
	h->hlen = p[4];
	h->plen = p[5];
	h->op = be16(p + 6);
	memcpy(h->sha, p + 8, ETH_ALEN);
	h->spa = be32(p + 14);
	memcpy(h->tha, p + 18, ETH_ALEN);
	h->tpa = be32(p + 24);
	return h->htype == ARP_HTYPE_ETHER && h->ptype == ETH_TYPE_IP4 &&
	       h->hlen == ETH_ALEN && h->plen == 4;
}

static inline void arp_hdr_write(uint8_t *p, const struct arp_hdr *h)
{
	put_be16(p, h->htype);
	put_be16(p + 2, h->ptype);
	p[4] = h->hlen;
	p[5] = h->plen;
	put_be16(p + 6, h->op);
	memcpy(p + 8, h->sha, ETH_ALEN);
	put_be32(p + 14, h->spa);
	memcpy(p + 18, h->tha, ETH_ALEN);
	put_be32(p + 24, h->tpa);
}

#endif
