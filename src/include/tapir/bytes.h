/*
 * Bytes from the wire, for modules (header-only).
 *
 * A cursor is a const view { p, len } of what is left to read.  Every read
 * checks what remains first; a read that does not fit fails the cursor
 * (p becomes NULL, len 0) and every later read on it fails too, returning
 * NULL or 0.  So a parser reads a whole header field by field and checks
 * tapir_cur_ok() once at the end, and no read can overrun:
 *
 *     struct tapir_cur c = tapir_cur(msg, len);
 *     uint16_t id = tapir_cur_be16(&c);
 *     uint8_t n = tapir_cur_u8(&c);
 *     struct tapir_cur body = tapir_cur_sub(&c, n);   a length from the wire
 *     if (!tapir_cur_ok(&c)) goto too_short;
 *
 * A length read from the wire is checked once, by tapir_cur_sub() or
 * tapir_cur_trim(), and the part it delimits is then read through a cursor
 * of its own: never trust a length twice.
 *
 * A writer { p, cap, len } appends and fails the same way (len stops, ok
 * becomes false) when the buffer is full.  tapir_get_be16() and friends
 * read and write fixed offsets the caller has already bounded.
 */
#ifndef TAPIR_BYTES_H
#define TAPIR_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Big-endian fields at a known-good address -------------------------- */

static inline uint16_t tapir_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t tapir_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void tapir_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tapir_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- Reading: the cursor ------------------------------------------------- */

struct tapir_cur {
	const uint8_t *p; /* the next byte; NULL once a read failed */
	size_t len;       /* bytes left */
};

/* A cursor over len bytes at p (p may be NULL when len is 0). */
static inline struct tapir_cur tapir_cur(const void *p, size_t len)
{
	struct tapir_cur c = {p ? (const uint8_t *)p : (const uint8_t *)"",
			      p ? len : 0};

	return c;
}

static inline bool tapir_cur_ok(const struct tapir_cur *c)
{
	return c->p != NULL;
}

/* Fail c: every later read returns NULL or 0. */
static inline void tapir_cur_fail(struct tapir_cur *c)
{
	c->p = NULL;
	c->len = 0;
}

/* The next n bytes, moving past them; NULL (and c fails) when fewer than n
 * remain. */
static inline const uint8_t *tapir_cur_pull(struct tapir_cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (!p || c->len < n) {
		tapir_cur_fail(c);
		return NULL;
	}
	c->p += n;
	c->len -= n;
	return p;
}

static inline bool tapir_cur_skip(struct tapir_cur *c, size_t n)
{
	return tapir_cur_pull(c, n) != NULL;
}

/* Keep only the next n bytes of c (the end of a length-delimited part);
 * false (and c fails) when fewer than n remain. */
static inline bool tapir_cur_trim(struct tapir_cur *c, size_t n)
{
	if (!c->p || c->len < n) {
		tapir_cur_fail(c);
		return false;
	}
	c->len = n;
	return true;
}

/* The next n bytes as a cursor of their own, c moving past them.  When
 * fewer than n remain both fail. */
static inline struct tapir_cur tapir_cur_sub(struct tapir_cur *c, size_t n)
{
	struct tapir_cur s = {c->p, n};

	if (!tapir_cur_pull(c, n))
		tapir_cur_fail(&s);
	return s;
}

static inline uint8_t tapir_cur_u8(struct tapir_cur *c)
{
	const uint8_t *p = tapir_cur_pull(c, 1);

	return p ? p[0] : 0;
}

static inline uint16_t tapir_cur_be16(struct tapir_cur *c)
{
	const uint8_t *p = tapir_cur_pull(c, 2);

	return p ? tapir_get_be16(p) : 0;
}

static inline uint32_t tapir_cur_be32(struct tapir_cur *c)
{
	const uint8_t *p = tapir_cur_pull(c, 4);

	return p ? tapir_get_be32(p) : 0;
}

/* Copy the next n bytes to out; false (c fails, out untouched) when fewer
 * remain. */
static inline bool tapir_cur_copy(struct tapir_cur *c, void *out, size_t n)
{
	const uint8_t *p = tapir_cur_pull(c, n);

	if (!p)
		return false;
	if (n)
		memcpy(out, p, n);
	return true;
}

/* ---- Reading text: delimiters and runs ---------------------------------- *
 *
 * For formats delimited by bytes rather than by lengths.  A delimiter that
 * is not (yet) there is not an error: these leave c as it is and return
 * false, so a parser of a stream can wait for more bytes.  On a failed
 * cursor they find nothing and return false or a failed cursor.
 */

/* The next byte, without moving; -1 when none is left (or c failed). */
static inline int tapir_cur_peek(const struct tapir_cur *c)
{
	return c->p && c->len ? c->p[0] : -1;
}

/* When the next byte is b, move past it and return true; otherwise c is
 * unchanged. */
static inline bool tapir_cur_eat(struct tapir_cur *c, uint8_t b)
{
	if (tapir_cur_peek(c) != b)
		return false;
	c->p++;
	c->len--;
	return true;
}

/* When the last byte of c is b, drop it (c ends one byte sooner) and
 * return true; otherwise c is unchanged. */
static inline bool tapir_cur_eat_last(struct tapir_cur *c, uint8_t b)
{
	if (!c->p || !c->len || c->p[c->len - 1] != b)
		return false;
	c->len--;
	return true;
}

/* When b occurs in c: the bytes before its first occurrence in *head, c
 * moving past them and b, and true.  Otherwise false, c and *head
 * unchanged. */
static inline bool tapir_cur_split(struct tapir_cur *c, uint8_t b,
				   struct tapir_cur *head)
{
	const uint8_t *at = c->p && c->len ? memchr(c->p, b, c->len) : NULL;
	size_t n;

	if (!at)
		return false;
	n = (size_t)(at - c->p);
	head->p = c->p;
	head->len = n;
	c->p += n + 1;
	c->len -= n + 1;
	return true;
}

/* The longest run of bytes at the start of c for which pred is true, as a
 * cursor of its own (possibly empty), c moving past it. */
static inline struct tapir_cur tapir_cur_span(struct tapir_cur *c,
					      bool (*pred)(uint8_t))
{
	struct tapir_cur s = {c->p, 0};

	while (s.len < c->len && pred(c->p[s.len]))
		s.len++;
	if (s.len) { /* never arithmetic on the NULL of a failed cursor */
		c->p += s.len;
		c->len -= s.len;
	}
	return s;
}

/* ---- Writing ------------------------------------------------------------- */

struct tapir_wbuf {
	uint8_t *p;
	size_t cap, len;
	bool ok; /* false once a write did not fit; nothing more is written */
};

static inline struct tapir_wbuf tapir_wbuf(void *buf, size_t cap)
{
	struct tapir_wbuf w = {(uint8_t *)buf, buf ? cap : 0, 0, true};

	return w;
}

/* Room for n more bytes, len moving past them; NULL (and w fails) when
 * they do not fit. */
static inline uint8_t *tapir_wbuf_room(struct tapir_wbuf *w, size_t n)
{
	uint8_t *p;

	if (!w->ok || w->cap - w->len < n) {
		w->ok = false;
		return NULL;
	}
	p = w->p + w->len;
	w->len += n;
	return p;
}

static inline bool tapir_wbuf_put(struct tapir_wbuf *w, const void *data,
				  size_t n)
{
	uint8_t *p = tapir_wbuf_room(w, n);

	if (p && n)
		memcpy(p, data, n);
	return p != NULL;
}

static inline bool tapir_wbuf_u8(struct tapir_wbuf *w, uint8_t v)
{
	return tapir_wbuf_put(w, &v, 1);
}

static inline bool tapir_wbuf_be16(struct tapir_wbuf *w, uint16_t v)
{
	uint8_t *p = tapir_wbuf_room(w, 2);

	if (p)
		tapir_put_be16(p, v);
	return p != NULL;
}

static inline bool tapir_wbuf_be32(struct tapir_wbuf *w, uint32_t v)
{
	uint8_t *p = tapir_wbuf_room(w, 4);

	if (p)
		tapir_put_be32(p, v);
	return p != NULL;
}

#ifdef __cplusplus
}
#endif
#endif
