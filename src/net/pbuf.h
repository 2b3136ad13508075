/*
 * Frame buffers with headroom, for building output frames.
 *
 * Theory of operation.  Output frames are built back to front in a struct
 * pbuf: the payload is written at an offset that leaves PBUF_HEADROOM bytes
 * free, and each layer prepends its header with pbuf_push() (lwIP's
 * pbuf_add_header idea).  A pbuf is owned by whoever filled it; the stack's
 * transmit path never keeps a pointer to it after the call returns (ARP
 * copies what it must queue).  Parsing goes the other way, through the
 * cursor of wire/cur.h.
 */
#ifndef TAPIR_NET_PBUF_H
#define TAPIR_NET_PBUF_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/cur.h"

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
