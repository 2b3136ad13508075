/*
 * TCP byte buffers: the send buffer, the in-order receive buffer, and the
 * out-of-order queue.
 *
 * Theory of operation.  A struct bytering holds a window of a byte stream:
 * bytes are appended at the tail and released from the head.  Its storage
 * grows by doubling on demand up to a configured limit and is freed when
 * the ring empties, so an idle connection holds no buffer memory.  The send
 * buffer is a bytering whose head is SND.UNA: TCP output copies from any
 * offset (a retransmission, or new data) and ACKs release from the head.
 * The receive buffer is a bytering of in-order data the module has not yet
 * consumed; its free room is what we advertise as the receive window.
 *
 * The out-of-order queue keeps segments that arrived beyond RCV.NXT as a
 * list of disjoint byte ranges sorted by sequence number (modulo 2^32),
 * each with its own copy of the data, under a byte limit.  A new segment
 * only fills holes: bytes we already hold are not replaced.  When RCV.NXT
 * reaches the first range its bytes move to the receive buffer.  The queue
 * also names the SACK blocks to send (RFC 2018 4): the block holding the
 * most recently received segment first, then the others.
 *
 * Both may draw on a struct buf_pool, one limit over every connection's
 * buffers: what one outsider can make us hold is bounded by the pool, not
 * only by connections times per-connection limits.
 */
#ifndef TAPIR_TCP_BUF_H
#define TAPIR_TCP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/tcp/tcp_opt.h"

/* Memory shared by many buffers, with one limit over all of them. */
struct buf_pool {
	size_t used;
	size_t limit;
	size_t peak; /* the most used ever held (a high-water mark) */
	bool refused; /* a buffer was refused memory (the owner clears it) */
	/* Past 7/8 of the limit no ring grows beyond this (0: no bound), so
	 * that what is left is shared rather than taken by the first. */
	size_t share;
};

struct bytering {
	struct buf_pool *pool; /* NULL: only the ring's own limit */
	uint8_t *buf;
	size_t cap;   /* allocated, a power of two (0: nothing allocated) */
	size_t head;  /* index of the first byte */
	size_t len;   /* bytes held */
	size_t limit; /* most bytes it may hold */
	/* Pool memory charged by bytering_reserve() beyond cap, not yet
	 * allocated (the next growth uses it). */
	size_t resv;
};

void bytering_init(struct bytering *r, size_t limit);
void bytering_fini(struct bytering *r);
/* Room left under the limit. */
size_t bytering_room(const struct bytering *r);
/* Append up to len bytes; returns how many were taken (0 when full or when
 * memory runs out). */
size_t bytering_append(struct bytering *r, const void *data, size_t len);
/* Make sure len more bytes can be appended (up to the limit) without
 * asking the pool again: the pool is charged now, the storage allocated
 * only when an append needs it.  false when memory runs out. */
bool bytering_reserve(struct bytering *r, size_t len);
/* Give back a reservation, and the storage of an empty ring. */
void bytering_trim(struct bytering *r);
/* Copy len bytes starting off bytes after the head into out; the range
 * must lie within what the ring holds. */
void bytering_peek(const struct bytering *r, size_t off, void *out,
		   size_t len);
/* Release n bytes from the head (n <= len). */
void bytering_consume(struct bytering *r, size_t n);
/* The longest run of contiguous bytes at the head: sets *p, returns its
 * length (0 when empty).  Lets a consumer read in place. */
size_t bytering_head_run(const struct bytering *r, const uint8_t **p);

struct ooo_seg;

struct tcp_ooo {
	struct buf_pool *pool;
	struct ooo_seg *head; /* sorted by seq, disjoint (maybe adjacent) */
	size_t bytes;         /* data held */
	size_t limit;
	unsigned nsegs;
	uint32_t last_start;  /* the range that took the latest segment */
	bool have_last;
};

void tcp_ooo_init(struct tcp_ooo *q, size_t limit);
void tcp_ooo_fini(struct tcp_ooo *q);
/* Queue seg [seq, seq+len) received while RCV.NXT is rcv_nxt (seq must be
 * after rcv_nxt).  Bytes already held are kept; only holes are filled.
 * Returns the bytes newly queued; fewer than offered when the byte limit
 * cuts the segment (the tail beyond the limit is dropped). */
size_t tcp_ooo_add(struct tcp_ooo *q, uint32_t rcv_nxt, uint32_t seq,
		   const uint8_t *data, size_t len);
/* Move what has become in order to the receive buffer: every byte from
 * *rcv_nxt on that the queue holds and rb has room for.  Advances *rcv_nxt
 * and returns the bytes moved.  Ranges wholly before *rcv_nxt are freed. */
size_t tcp_ooo_drain(struct tcp_ooo *q, uint32_t *rcv_nxt,
		     struct bytering *rb);
/* Up to max SACK blocks, most recent first; returns how many. */
unsigned tcp_ooo_sack(const struct tcp_ooo *q, struct tcp_sack_block *out,
		      unsigned max);

#endif
