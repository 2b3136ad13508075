/* UDP header (RFC 768). */
#ifndef TAPIR_WIRE_UDP_H
#define TAPIR_WIRE_UDP_H

#include <stdbool.h>

#include "wire/cur.h"

#define UDP_HLEN 8
#define UDP_MAX_PAYLOAD (65535 - 20 - UDP_HLEN)

struct udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len; /* header and data */
	uint16_t csum;
};

/* Parse and consume a UDP header; c is trimmed to the declared length.
 * False when short or when the length field is < 8 or past the end. */
static inline bool udp_hdr_parse(struct cur *c, struct udp_hdr *h)
{
	const uint8_t *p = c->p;

	if (c->len < UDP_HLEN)
		return false;
	h->sport = be16(p);
	h->dport = be16(p + 2);
	h->len = be16(p + 4);
	h->csum = be16(p + 6);
	if (h->len < UDP_HLEN || !cur_trim(c, h->len))
		return false;
	cur_pull(c, UDP_HLEN);
	return true;
}

static inline void udp_hdr_write(uint8_t *p, const struct udp_hdr *h)
{
	put_be16(p, h->sport);
	put_be16(p + 2, h->dport);
	put_be16(p + 4, h->len);
	put_be16(p + 6, h->csum);
}

#endif
