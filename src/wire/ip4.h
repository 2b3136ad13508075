/* IPv4 header (RFC 791). */
#ifndef TAPIR_WIRE_IP4_H
#define TAPIR_WIRE_IP4_H

#include <stdbool.h>

#include "wire/cur.h"

#define IP4_HLEN 20     /* without options */
#define IP4_MAX_HLEN 60
#define IP4_MAX_LEN 65535
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_OFF_MASK 0x1fff
#define IP4_DEFAULT_TTL 64

/* Where the fields a header is rewritten through sit. */
#define IP4_TOTAL_LEN_AT 2
#define IP4_FRAG_AT 6
#define IP4_CSUM_AT 10

#define IP4_PROTO_ICMP 1
#define IP4_PROTO_TCP 6
#define IP4_PROTO_UDP 17

#define IP4_OPT_EOL 0
#define IP4_OPT_NOP 1

#define IP4_BROADCAST 0xffffffffu
#define IP4_ALL_HOSTS 0xe0000001u /* 224.0.0.1 */

struct ip4_hdr {
	uint8_t ihl; /* in bytes */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag; /* flags and offset in 8-byte units, as on the wire */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src; /* host order */
	uint32_t dst;
};

enum ip4_parse_err {
	IP4_OK = 0,
	IP4_ERR_SHORT,    /* fewer than 20 bytes */
	IP4_ERR_VERSION,  /* not 4 */
	IP4_ERR_HLEN,     /* IHL < 5, or past the frame */
	IP4_ERR_LEN,      /* total length < IHL or past the frame */
	IP4_ERR_OPTIONS,  /* an option length runs past the header */
};

/* Walk the options in [p, p+len): every option fits, none has length < 2.
 * Returns false on a malformed option. */
static inline bool ip4_options_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = p[i];

		if (kind == IP4_OPT_EOL)
			break;
		if (kind == IP4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2 || p[i + 1] < 2 || p[i + 1] > len - i)
			return false;
		i += p[i + 1];
	}
	return true;
}

/* Parse an IPv4 header from c.  On success the header (with options) has
 * been consumed and c is trimmed to the payload the total length declares
 * (link-layer padding dropped).  The checksum is read, not verified. */
static inline enum ip4_parse_err ip4_hdr_parse(struct cur *c, struct ip4_hdr *h)
{
	const uint8_t *p;

	if (c->len < IP4_HLEN)
		return IP4_ERR_SHORT;
	p = c->p;
	if (p[0] >> 4 != 4)
		return IP4_ERR_VERSION;
	h->ihl = (uint8_t)((p[0] & 0x0f) * 4);
	h->tos = p[1];
	h->total_len = be16(p + 2);
	h->id = be16(p + 4);
	h->frag = be16(p + 6);
	h->ttl = p[8];
	h->proto = p[9];
	h->csum = be16(p + 10);
	h->src = be32(p + 12);
	h->dst = be32(p + 16);
	if (h->ihl < IP4_HLEN || h->ihl > c->len)
		return IP4_ERR_HLEN;
	if (h->total_len < h->ihl || !cur_trim(c, h->total_len))
		return IP4_ERR_LEN;
	if (!ip4_options_valid(p + IP4_HLEN, h->ihl - IP4_HLEN))
		return IP4_ERR_OPTIONS;
	cur_pull(c, h->ihl);
	return IP4_OK;
}

/* Write a 20-byte header (no options) with its checksum computed. */
void ip4_hdr_write(uint8_t *p, const struct ip4_hdr *h);

static inline bool ip4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* 240.0.0.0/4, reserved (RFC 1112 4); includes 255.255.255.255. */
static inline bool ip4_is_reserved(uint32_t a)
{
	return (a >> 28) == 0xf;
}

static inline bool ip4_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

static inline uint32_t ip4_mask(unsigned prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

#endif
