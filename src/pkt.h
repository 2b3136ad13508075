/*
 * Packet bytes: a bounds-checked read cursor for parsing, and frame buffers
 * with headroom for building.
 *
 * Theory of operation.  Every parser in tapir reads untrusted bytes through a
 * struct cur, a (pointer, remaining length) pair.  cur_pull(c, n) hands out n
 * bytes and advances, or returns NULL when fewer than n remain, so a parser
 * checks a header's fixed part once and then reads it through the returned
 * pointer with the be16()/be32() accessors (no casts into the frame, no
 * alignment assumptions).  A length read from the wire is applied with
 * cur_trim(), which refuses to grow the view: a lying length field fails
 * there, once, and nothing after it can overrun.
 *
 * Output frames are built back to front in a struct pbuf: the payload is
 * written at an offset that leaves PBUF_HEADROOM bytes free, and each layer
 * prepends its header with pbuf_push() (lwIP's pbuf_add_header idea).  A
 * pbuf is owned by whoever filled it; the stack's transmit path never keeps
 * a pointer to it after the call returns (ARP copies what it must queue).
 */
#ifndef TAPIR_PKT_H
#define TAPIR_PKT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
	const uint8_t *p;
	size_t len;
};

static inline struct cur cur_make(const void *p, size_t len)
{
	struct cur c = {.p = p, .len = len};
	return c;
}

/* Take n bytes from the front; NULL (and c unchanged) when fewer remain. */
static inline const uint8_t *cur_pull(struct cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (n > c->len)
		return NULL;
	c->p += n;
	c->len -= n;
	return p;
}

/* Limit the view to its first n bytes; false when n exceeds what remains. */
static inline bool cur_trim(struct cur *c, size_t n)
{
	if (n > c->len)
		return false;
	c->len = n;
	return true;
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Room for Ethernet + IPv4 with options + the largest transport header. */
#define PBUF_HEADROOM 128
/* The largest IPv4 datagram plus headroom. */
#define PBUF_SIZE (PBUF_HEADROOM + 65536)

struct pbuf {
	size_t off; /* start of valid data within buf */
	size_t len; /* bytes of valid data */
	uint8_t buf[PBUF_SIZE];
};

/* Make p empty with the full headroom in front. */
static inline void pbuf_reset(struct pbuf *p)
{
	p->off = PBUF_HEADROOM;
	p->len = 0;
}

static inline uint8_t *pbuf_data(struct pbuf *p)
{
	return p->buf + p->off;
}

/* Append n bytes at the tail; NULL when they do not fit. */
static inline uint8_t *pbuf_put(struct pbuf *p, size_t n)
{
	uint8_t *q;

	if (n > sizeof(p->buf) - p->off - p->len)
		return NULL;
	q = p->buf + p->off + p->len;
	p->len += n;
	return q;
}

/* Prepend n bytes of header; the headroom is ours, so running out of it is
 * a bug in the stack, not an input error. */
static inline uint8_t *pbuf_push(struct pbuf *p, size_t n)
{
	assert(n <= p->off);
	p->off -= n;
	p->len += n;
	return p->buf + p->off;
}

#endif
