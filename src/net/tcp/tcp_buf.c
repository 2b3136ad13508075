/* TCP byte buffers; see tcp_buf.h for the theory of operation. */
#include "net/tcp/tcp_buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define BYTERING_MIN 4096
#define TCP_OOO_MAX_SEGS 256

static void pool_note_peak(struct buf_pool *p)
{
	if (p->used > p->peak)
		p->peak = p->used;
}

/* ---- bytering ----------------------------------------------------------- */

void bytering_init(struct bytering *r, size_t limit)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit;
}

void bytering_fini(struct bytering *r)
{
	struct buf_pool *pool = r->pool;
	size_t limit = r->limit;

	if (pool)
		pool->used -= r->cap + r->resv;
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->pool = pool;
	r->limit = limit;
}

size_t bytering_room(const struct bytering *r)
{
	return r->limit - r->len;
}

/* The capacity that holds need bytes: a power of two, at least the
 * current one. */
static size_t grow_cap(const struct bytering *r, size_t need)
{
	size_t cap = r->cap ? r->cap : BYTERING_MIN;

	while (cap < need)
		cap *= 2;
	return cap;
}

/* Whether the pool lets r hold cap bytes in all (what r holds and has
 * reserved counted as given back); a refusal is noted in the pool. */
static bool pool_allows(const struct bytering *r, size_t cap)
{
	struct buf_pool *p = r->pool;

	if (!p)
		return true;
	if (p->used - r->cap - r->resv + cap > p->limit ||
	    (p->share && cap > p->share && p->used > p->limit - p->limit / 8)) {
		p->refused = true;
		return false;
	}
	return true;
}

/* Make room for need bytes in total; false when memory runs out.  A
 * reservation is used up: what it covers is allocated without asking the
 * pool again. */
static bool bytering_grow(struct bytering *r, size_t need)
{
	size_t cap = grow_cap(r, need);
	uint8_t *b;

	if (cap == r->cap)
		return true;
	if (cap <= r->cap + r->resv)
		cap = r->cap + r->resv;
	else if (!pool_allows(r, cap))
		return false;
	b = malloc(cap);
	if (!b)
		return false;
	if (r->pool) {
		r->pool->used = r->pool->used - r->cap - r->resv + cap;
		pool_note_peak(r->pool);
	}
	r->resv = 0;
	/* Unwrap the old contents to the start of the new storage. */
	if (r->len) {
		size_t first = r->cap - r->head < r->len ? r->cap - r->head
							 : r->len;

		memcpy(b, r->buf + r->head, first);
		memcpy(b + first, r->buf, r->len - first);
	}
	free(r->buf);
	r->buf = b;
	r->cap = cap;
	r->head = 0;
	return true;
}

size_t bytering_append(struct bytering *r, const void *data, size_t len)
{
	const uint8_t *d = data;
	size_t tail, first;

	if (len > bytering_room(r))
		len = bytering_room(r);
	if (!len || !bytering_grow(r, r->len + len))
		return 0;
	tail = (r->head + r->len) & (r->cap - 1);
	first = r->cap - tail < len ? r->cap - tail : len;
	memcpy(r->buf + tail, d, first);
	memcpy(r->buf, d + first, len - first);
	r->len += len;
	return len;
}

bool bytering_reserve(struct bytering *r, size_t len)
{
	size_t cap;

	if (len > bytering_room(r))
		len = bytering_room(r);
	if (!len)
		return true;
	cap = grow_cap(r, r->len + len);
	if (cap <= r->cap + r->resv)
		return true;
	if (!pool_allows(r, cap))
		return false;
	/* Charged to the pool, not allocated: a segment the owner takes
	 * whole never costs an allocation. */
	if (r->pool) {
		r->pool->used = r->pool->used - r->cap - r->resv + cap;
		pool_note_peak(r->pool);
	}
	r->resv = cap - r->cap;
	return true;
}

/* Idle connections hold no buffer: free an empty ring's storage. */
static void release_empty(struct bytering *r)
{
	if (r->len || !r->cap)
		return;
	if (r->pool)
		r->pool->used -= r->cap;
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
}

void bytering_trim(struct bytering *r)
{
	if (r->pool)
		r->pool->used -= r->resv;
	r->resv = 0;
	release_empty(r);
}

void bytering_peek(const struct bytering *r, size_t off, void *out,
		   size_t len)
{
	uint8_t *o = out;
	size_t at, first;

	assert(off + len <= r->len);
	if (!len)
		return;
	at = (r->head + off) & (r->cap - 1);
	first = r->cap - at < len ? r->cap - at : len;
	memcpy(o, r->buf + at, first);
	memcpy(o + first, r->buf, len - first);
}

void bytering_consume(struct bytering *r, size_t n)
{
	assert(n <= r->len);
	r->len -= n;
	r->head = r->len ? (r->head + n) & (r->cap - 1) : 0;
	release_empty(r);
}

size_t bytering_head_run(const struct bytering *r, const uint8_t **p)
{
	if (!r->len) {
		*p = NULL;
		return 0;
	}
	*p = r->buf + r->head;
	return r->cap - r->head < r->len ? r->cap - r->head : r->len;
}

/* ---- out-of-order queue ------------------------------------------------- */

struct ooo_seg {
	struct ooo_seg *next;
	uint32_t seq;
	size_t len;
	uint8_t data[];
};

/* What a segment costs against the limit: its bytes and its bookkeeping,
 * so a flood of one-byte segments is bounded too. */
static size_t seg_cost(size_t len)
{
	return sizeof(struct ooo_seg) + len;
}

void tcp_ooo_init(struct tcp_ooo *q, size_t limit)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
}

static void ooo_free(struct tcp_ooo *q, struct ooo_seg **pp)
{
	struct ooo_seg *s = *pp;

	*pp = s->next;
	q->bytes -= seg_cost(s->len);
	if (q->pool)
		q->pool->used -= seg_cost(s->len);
	q->nsegs--;
	free(s);
}

void tcp_ooo_fini(struct tcp_ooo *q)
{
	while (q->head)
		ooo_free(q, &q->head);
	q->have_last = false;
}

/* Insert a copy of [seq, seq+len) before *pp; false when over the limit or
 * out of memory. */
static bool ooo_insert(struct tcp_ooo *q, struct ooo_seg **pp, uint32_t seq,
		       const uint8_t *data, size_t len)
{
	struct ooo_seg *s;

	/* A bound on the list itself: each insertion walks it. */
	if (q->bytes + seg_cost(len) > q->limit || q->nsegs >= TCP_OOO_MAX_SEGS)
		return false;
	if (q->pool && q->pool->used + seg_cost(len) > q->pool->limit) {
		q->pool->refused = true;
		return false;
	}
	s = malloc(sizeof(*s) + len);
	if (!s)
		return false;
	if (q->pool) {
		q->pool->used += seg_cost(len);
		pool_note_peak(q->pool);
	}
	s->seq = seq;
	s->len = len;
	memcpy(s->data, data, len);
	s->next = *pp;
	*pp = s;
	q->bytes += seg_cost(len);
	q->nsegs++;
	return true;
}

size_t tcp_ooo_add(struct tcp_ooo *q, uint32_t rcv_nxt, uint32_t seq,
		   const uint8_t *data, size_t len)
{
	struct ooo_seg **pp = &q->head;
	size_t added = 0;
	uint32_t first = seq;
	bool any = false;

	/* Only what lies after RCV.NXT belongs here. */
	if (seq_diff(seq, rcv_nxt) < 0) {
		uint32_t skip = rcv_nxt - seq;

		if (skip >= len)
			return 0;
		data += skip;
		len -= (size_t)skip;
		seq = rcv_nxt;
	}
	/* Walk the ranges in order, filling each hole the segment covers. */
	while (len) {
		struct ooo_seg *s = *pp;
		size_t piece = len;

		if (s && seq_diff(s->seq, seq) <= 0) {
			/* seq is at or after this range's start. */
			int32_t end = seq_diff(s->seq + (uint32_t)s->len, seq);

			if (end > 0) {
				/* Overlap: skip the bytes it already holds. */
				size_t skip = (size_t)end < len ? (size_t)end
								: len;

				data += skip;
				seq += (uint32_t)skip;
				len -= skip;
			}
			pp = &s->next;
			continue;
		}
		/* A hole before s (or at the end): fill up to s's start. */
		if (s && (uint32_t)seq_diff(s->seq, seq) < len)
			piece = (size_t)seq_diff(s->seq, seq);
		if (!ooo_insert(q, pp, seq, data, piece))
			break;
		if (!any)
			first = seq;
		any = true;
		added += piece;
		pp = &(*pp)->next;
		data += piece;
		seq += (uint32_t)piece;
		len -= piece;
	}
	if (any) {
		q->last_start = first;
		q->have_last = true;
	}
	return added;
}

size_t tcp_ooo_drain(struct tcp_ooo *q, uint32_t *rcv_nxt,
		     struct bytering *rb)
{
	size_t moved = 0;

	while (q->head) {
		struct ooo_seg *s = q->head;
		int32_t off = seq_diff(*rcv_nxt, s->seq);
		size_t n, took;

		if (off < 0)
			break; /* a hole remains before the first range */
		if ((size_t)off >= s->len) {
			ooo_free(q, &q->head); /* already delivered */
			continue;
		}
		n = s->len - (size_t)off;
		took = bytering_append(rb, s->data + off, n);
		*rcv_nxt += (uint32_t)took;
		moved += took;
		if (took < n)
			break; /* the receive buffer is full */
		ooo_free(q, &q->head);
	}
	if (!q->head)
		q->have_last = false;
	return moved;
}

unsigned tcp_ooo_sack(const struct tcp_ooo *q, struct tcp_sack_block *out,
		      unsigned max)
{
	struct tcp_sack_block blocks[64];
	unsigned n = 0, k = 0;
	int recent = -1;

	/* Merge adjacent ranges into blocks. */
	for (const struct ooo_seg *s = q->head; s && n < 64; s = s->next) {
		uint32_t end = s->seq + (uint32_t)s->len;

		if (n && blocks[n - 1].end == s->seq)
			blocks[n - 1].end = end;
		else
			blocks[n++] = (struct tcp_sack_block){s->seq, end};
		if (q->have_last && s->seq == q->last_start)
			recent = (int)n - 1;
	}
	if (!max)
		return 0;
	/* The block with the latest segment first (RFC 2018 4). */
	if (recent >= 0)
		out[k++] = blocks[recent];
	for (unsigned i = 0; i < n && k < max; i++)
		if ((int)i != recent)
			out[k++] = blocks[i];
	return k;
}
