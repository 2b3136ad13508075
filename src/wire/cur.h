/*
 * The bounds-checked read cursor and the big-endian byte accessors through
 * which the stack core (src/net, with the formats of src/wire) reads
 * untrusted bytes.  Modules cannot use it (they include only <tapir/...>):
 * they read through the installed cursor of <tapir/bytes.h>, built the same
 * way (the dns module's wire reader, the dhcp module's option areas), and
 * the http module through a line parser over text (http_parse.c).
 *
 * Theory of operation.  A struct cur is a (pointer, remaining length) pair.
 * cur_pull(c, n) hands out n bytes and advances, or returns NULL when fewer
 * than n remain, so a parser checks a header's fixed part once and then reads
 * it through the returned pointer with the be16()/be32() accessors (no casts
 * into the frame, no alignment assumptions).  A length read from the wire is
 * applied with cur_trim(), which refuses to grow the view: a lying length
 * field fails there, once, and nothing after it can overrun.
 *
 * This header includes nothing of tapir's: every wire format builds on it.
 */
#ifndef TAPIR_WIRE_CUR_H
#define TAPIR_WIRE_CUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
