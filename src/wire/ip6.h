/* IPv6 header and extension headers (RFC 8200), addresses (RFC 4291). */
#ifndef TAPIR_WIRE_IP6_H
#define TAPIR_WIRE_IP6_H

#include <stdbool.h>
#include <string.h>

#include "wire/cur.h"

#define IP6_HLEN 40
#define IP6_MIN_MTU 1280 /* RFC 8200 5 */
#define IP6_MAX_PAYLOAD 65535

/* Next header values: extension headers and the end of the chain. */
#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_ESP 50
#define IP6_NH_AH 51
#define IP6_NH_NONE 59
#define IP6_NH_DSTOPTS 60
#define IP6_NH_ICMP6 58
#define IP6_NH_TCP 6
#define IP6_NH_UDP 17

#define IP6_FRAG_HLEN 8
#define IP6_FRAG_OFF_MASK 0xfff8 /* offset in 8-byte units, shifted by 3 */
#define IP6_FRAG_MORE 0x0001

/* Options of the Hop-by-Hop and Destination Options headers (RFC 8200 4.2). */
#define IP6_OPT_PAD1 0
#define IP6_OPT_PADN 1
#define IP6_OPT_ROUTER_ALERT 5
/* The two high bits of an option type: what to do when it is unknown. */
#define IP6_OPT_ACTION(t) ((uint8_t)(t) >> 6)
#define IP6_OPT_SKIP 0
#define IP6_OPT_DISCARD 1
#define IP6_OPT_DISCARD_ICMP 2       /* and send a parameter problem */
#define IP6_OPT_DISCARD_ICMP_UNI 3   /* ... unless sent to multicast */

struct ip6_hdr {
	uint8_t tclass;
	uint32_t flow; /* 20 bits */
	uint16_t payload_len;
	uint8_t next;
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
};

enum ip6_parse_err {
	IP6_OK = 0,
	IP6_ERR_SHORT,   /* fewer than 40 bytes */
	IP6_ERR_VERSION, /* not 6 */
	IP6_ERR_LEN,     /* payload length past the frame, or 0 (jumbo) */
};

/* Parse an IPv6 header from c.  On success it is consumed and c trimmed to
 * the payload length (link-layer padding dropped).  A payload length of 0
 * belongs to a jumbogram (RFC 2675), which no Ethernet link carries. */
static inline enum ip6_parse_err ip6_hdr_parse(struct cur *c, struct ip6_hdr *h)
{
	const uint8_t *p;
	uint32_t w;

	if (c->len < IP6_HLEN)
		return IP6_ERR_SHORT;
	p = c->p;
	if (p[0] >> 4 != 6)
		return IP6_ERR_VERSION;
	w = be32(p);
	h->tclass = (uint8_t)(w >> 20);
	h->flow = w & 0xfffff;
	h->payload_len = be16(p + 4);
	h->next = p[6];
	h->hop_limit = p[7];
	memcpy(h->src, p + 8, 16);
	memcpy(h->dst, p + 24, 16);
	if (h->payload_len == 0 || h->payload_len > c->len - IP6_HLEN)
		return IP6_ERR_LEN;
	cur_pull(c, IP6_HLEN);
	cur_trim(c, h->payload_len);
	return IP6_OK;
}

static inline void ip6_hdr_write(uint8_t *p, const struct ip6_hdr *h)
{
	put_be32(p, 6u << 28 | (uint32_t)h->tclass << 20 | (h->flow & 0xfffff));
	put_be16(p + 4, h->payload_len);
	p[6] = h->next;
	p[7] = h->hop_limit;
	memcpy(p + 8, h->src, 16);
	memcpy(p + 24, h->dst, 16);
}

/* The Fragment header (RFC 8200 4.5). */
struct ip6_frag_hdr {
	uint8_t next;
	uint16_t off; /* in bytes */
	bool more;
	uint32_t id;
};

static inline bool ip6_frag_parse(struct cur *c, struct ip6_frag_hdr *f)
{
	const uint8_t *p = cur_pull(c, IP6_FRAG_HLEN);

	if (!p)
		return false;
	f->next = p[0];
	f->off = be16(p + 2) & IP6_FRAG_OFF_MASK;
	f->more = be16(p + 2) & IP6_FRAG_MORE;
	f->id = be32(p + 4);
	return true;
}

static inline void ip6_frag_write(uint8_t *p, const struct ip6_frag_hdr *f)
{
	p[0] = f->next;
	p[1] = 0;
	put_be16(p + 2, (uint16_t)((f->off & IP6_FRAG_OFF_MASK) |
				   (f->more ? IP6_FRAG_MORE : 0)));
	put_be32(p + 4, f->id);
}

/* Whether nh names an extension header this walker knows the shape of
 * (Hop-by-Hop, Routing, Fragment, Destination Options: the generic
 * length format, or the fixed 8-byte Fragment header). */
static inline bool ip6_is_ext(uint8_t nh)
{
	return nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING ||
	       nh == IP6_NH_FRAGMENT || nh == IP6_NH_DSTOPTS;
}

/* How ip6_skip_ext() ended. */
enum ip6_skip {
	IP6_SKIP_UPPER,      /* at the first header that is not skipped */
	IP6_SKIP_SHORT,      /* a header runs past the bytes there are */
	IP6_SKIP_LATER_FRAG, /* past a Fragment header with an offset */
	IP6_SKIP_LONG,       /* more than max headers */
};

/* Step over the extension headers at c, the first of type *nh, by their
 * lengths alone, whatever is in them: Hop-by-Hop, Routing, Destination
 * Options, Authentication (RFC 4302: its length in 4-byte units) and
 * Fragment headers, at most max of them.  IP6_SKIP_UPPER: *nh is the
 * first header that is none of those (an upper layer's, or one unknown)
 * and c starts at it.  IP6_SKIP_LATER_FRAG: a fragment other than the
 * first, whose data shows no header; *nh is its Next Header and c is past
 * it.  Reading packets of ours quoted in errors, and first fragments,
 * which the walk in ip6.c judges in full. */
static inline enum ip6_skip ip6_skip_ext(struct cur *c, uint8_t *nh,
					 unsigned max)
{
	for (unsigned n = 0;; n++) {
		const uint8_t *p;
		size_t len;
		bool later;

		switch (*nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_ROUTING:
		case IP6_NH_DSTOPTS:
			if (c->len < 2)
				return IP6_SKIP_SHORT;
			len = ((size_t)c->p[1] + 1) * 8;
			break;
		case IP6_NH_AH:
			if (c->len < 2)
				return IP6_SKIP_SHORT;
			len = ((size_t)c->p[1] + 2) * 4;
			break;
		case IP6_NH_FRAGMENT:
			len = IP6_FRAG_HLEN;
			break;
		default:
			return IP6_SKIP_UPPER;
		}
		if (n == max)
			return IP6_SKIP_LONG;
		later = *nh == IP6_NH_FRAGMENT && c->len >= 4 &&
			(be16(c->p + 2) & IP6_FRAG_OFF_MASK);
		p = cur_pull(c, len);
		if (!p)
			return IP6_SKIP_SHORT;
		*nh = p[0];
		if (later)
			return IP6_SKIP_LATER_FRAG;
	}
}

/* ---- Addresses (RFC 4291) ---- */

static inline bool ip6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool ip6_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static inline bool ip6_is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static inline bool ip6_is_loopback(const uint8_t *a)
{
	static const uint8_t lo[16] = {[15] = 1};

	return memcmp(a, lo, 16) == 0;
}

/* ::ffff:0:0/96, which must never appear on the wire (RFC 4291 2.5.5.2). */
static inline bool ip6_is_v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = {[10] = 0xff, [11] = 0xff};

	return memcmp(a, prefix, 12) == 0;
}

/* Multicast scope (RFC 4291 2.7): 1 interface, 2 link, 5 site, 14 global. */
static inline unsigned ip6_mcast_scope(const uint8_t *a)
{
	return a[1] & 0x0f;
}

/* ff02::1, all nodes on the link. */
static const uint8_t ip6_all_nodes[16] = {0xff, 0x02, [15] = 1};
/* ff02::2, all routers on the link. */
static const uint8_t ip6_all_routers[16] = {0xff, 0x02, [15] = 2};
/* ff02::16, all MLDv2-capable routers (RFC 3810 5.2.14). */
static const uint8_t ip6_all_mldv2[16] = {0xff, 0x02, [15] = 0x16};

/* The solicited-node multicast address of a (RFC 4291 2.7.1):
 * ff02::1:ff00:0/104 and a's low 24 bits. */
static inline void ip6_solicited_node(const uint8_t *a, uint8_t out[16])
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01,
					   [12] = 0xff};

	memcpy(out, prefix, 13);
	memcpy(out + 13, a + 13, 3);
}

/* The Ethernet address of multicast group a (RFC 2464 7). */
static inline void ip6_mcast_mac(const uint8_t *a, uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

/* Whether a and b share their first plen bits. */
static inline bool ip6_prefix_eq(const uint8_t *a, const uint8_t *b,
				 unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (plen > 128)
		return false;
	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

#endif
