/* TCP header (RFC 9293 3.1) and sequence-number arithmetic (RFC 9293 3.4). */
#ifndef TAPIR_WIRE_TCP_H
#define TAPIR_WIRE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/cur.h"

#define TCP_HLEN 20     /* without options */
#define TCP_MAX_HLEN 60 /* data offset 15 */
#define TCP_MAX_OPTLEN (TCP_MAX_HLEN - TCP_HLEN)

/* Control bits, byte 13 (RFC 9293 3.1; ECE and CWR from RFC 3168). */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

/* Option kinds and the lengths (kind and length bytes included) of the
 * fixed-size ones. */
#define TCP_OPT_EOL 0       /* end of option list */
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2       /* RFC 9293 3.2, SYN only */
#define TCP_OPT_WS 3        /* window scale, RFC 7323 2, SYN only */
#define TCP_OPT_SACK_PERM 4 /* RFC 2018 2, SYN only */
#define TCP_OPT_SACK 5      /* RFC 2018 3 */
#define TCP_OPT_TS 8        /* timestamps, RFC 7323 3 */

#define TCP_OLEN_MSS 4
#define TCP_OLEN_WS 3
#define TCP_OLEN_SACK_PERM 2
#define TCP_OLEN_TS 10
#define TCP_OLEN_SACK_BASE 2  /* kind and length, then the blocks */
#define TCP_OLEN_SACK_BLOCK 8 /* left edge, right edge */
#define TCP_MAX_SACK 4        /* blocks that fit in 40 bytes of options */

#define TCP_MAX_WS 14        /* the largest shift count, RFC 7323 2.3 */
#define TCP_MIN_MSS 88       /* the floor on a peer's MSS (Linux's) */
#define TCP_DEFAULT_MSS 536  /* without an MSS option, RFC 9293 3.7.1 */

struct tcp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff;  /* header length in bytes, options included */
	uint8_t flags; /* TCP_FLAG_*: all of byte 13 */
	uint16_t win;  /* as on the wire, before any scaling */
	uint16_t csum;
	uint16_t urg;
};

/* Parse and consume a TCP header with its options: on success c is left at
 * the payload and *opts is the options area (doff - 20 bytes, possibly
 * empty).  False, with c and *opts unchanged, when fewer than 20 bytes
 * remain or the data offset is < 5 or past the end of the segment.  The
 * four reserved bits of byte 12 are ignored; the checksum is read, not
 * verified. */
static inline bool tcp_hdr_parse(struct cur *c, struct tcp_hdr *h,
				 struct cur *opts)
{
	const uint8_t *p = c->p;

	if (c->len < TCP_HLEN)
		return false;
	h->sport = be16(p);
	h->dport = be16(p + 2);
	h->seq = be32(p + 4);
	h->ack = be32(p + 8);
	h->doff = (uint8_t)((p[12] >> 4) * 4);
	h->flags = p[13];
	h->win = be16(p + 14);
	h->csum = be16(p + 16);
	h->urg = be16(p + 18);
	if (h->doff < TCP_HLEN || h->doff > c->len)
		return false;
	*opts = cur_make(p + TCP_HLEN, h->doff - TCP_HLEN);
	cur_pull(c, h->doff);
	return true;
}

/* Write the 20-byte fixed header; the data offset comes from h->doff (a
 * multiple of 4 in [20, 60]: the caller writes the options after it), the
 * checksum field as given, the reserved bits as zero. */
static inline void tcp_hdr_write(uint8_t *p, const struct tcp_hdr *h)
{
	assert(h->doff >= TCP_HLEN && h->doff <= TCP_MAX_HLEN &&
	       h->doff % 4 == 0);
	put_be16(p, h->sport);
	put_be16(p + 2, h->dport);
	put_be32(p + 4, h->seq);
	put_be32(p + 8, h->ack);
	p[12] = (uint8_t)(h->doff / 4 << 4);
	p[13] = h->flags;
	put_be16(p + 14, h->win);
	put_be16(p + 16, h->csum);
	put_be16(p + 18, h->urg);
}

/*
 * Sequence numbers compare modulo 2^32 (RFC 9293 3.4): a is before b when
 * the 32-bit difference a - b, read as a signed number, is negative.  Two
 * numbers exactly 2^31 apart are each "before" the other (as in Linux's
 * before()); the stack never lets a window come near that.
 */

/* a - b as a signed distance in [-2^31, 2^31).  Converting a uint32_t above
 * INT32_MAX to int32_t is implementation-defined, so the upper half is
 * mapped by hand (compilers reduce this to a plain subtraction). */
static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;

	if (d <= INT32_MAX)
		return (int32_t)d;
	return (int32_t)(d - 0x80000000u) + INT32_MIN;
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}

/* start <= x < start + len, modulo 2^32: x lies in the len numbers from
 * start on.  Exact for any len (0 contains nothing). */
static inline bool seq_in_window(uint32_t x, uint32_t start, uint32_t len)
{
	return x - start < len;
}

#endif
