/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815), with limits.
 *
 * A datagram in progress is keyed by (src, dst, id, proto).  Its payload is
 * collected in a buffer that grows to the highest byte seen (at most 65515
 * bytes), and the received pieces are kept as a sorted array of disjoint
 * [start, end) ranges.  A fragment that exactly repeats one we hold is a
 * harmless duplicate and ignored; one that partly overlaps is either an
 * error or an attack (RFC 5722 reasoning), and the whole datagram is
 * dropped.  The datagram is complete when the last fragment (MF clear) has
 * fixed its length and the ranges cover [0, length) with no hole.
 *
 * Limits: reasm_max_datagrams in progress and reasm_max_bytes of memory
 * over all of them (buffers, range arrays and bookkeeping; the oldest
 * datagrams are evicted to make room for a newer one), reasm_max_frags per
 * datagram, and reasm_timeout_ms from the first fragment.  When a datagram
 * times out after its first fragment came, the sender hears of it (ICMP
 * time exceeded, RFC 1122 3.3.2).
 */
#include "net/core.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"

#include <stdlib.h>
#include <string.h>

struct frag_range {
	uint32_t start, end;
};

struct reasm_dgram {
	struct reasm_dgram *next;
	struct stack *s;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool have_last;
	uint32_t total;    /* payload length, once the last fragment came */
	uint32_t received; /* bytes covered by ranges */
	uint8_t hdr[IP4_MAX_HLEN]; /* header of the first fragment */
	size_t hdr_len;
	struct l3_rx rx;
	uint8_t *buf;
	size_t cap;
	unsigned nranges;
	unsigned cap_ranges; /* the array's size */
	struct frag_range *ranges;
	struct timer timer;
};

#define REASM_MAX_PAYLOAD (IP4_MAX_LEN - IP4_HLEN)
#define REASM_MIN_RANGES 8

/* Memory a datagram in progress holds, as counted against the limit. */
static size_t reasm_size(const struct reasm_dgram *d)
{
	return sizeof(*d) + d->cap + d->cap_ranges * sizeof(*d->ranges);
}

static void reasm_free(struct stack *s, struct reasm_dgram *d);

/* Free the oldest datagrams other than keep until need more bytes fit.
 * False when even that is not enough. */
static bool reasm_make_room(struct stack *s, struct reasm_dgram *keep,
			    size_t need)
{
	while (s->reasm_bytes + need > s->p.reasm_max_bytes) {
		struct reasm_dgram *old = s->reasm_head;

		if (old == keep)
			old = old->next;
		if (!old)
			return false;
		STAT_INC(&s->stats, IP4_REASM_DROP_LIMIT);
		reasm_free(s, old);
	}
	return true;
}

static void reasm_unlink(struct stack *s, struct reasm_dgram *d)
{
	struct reasm_dgram **pp = &s->reasm_head;

	while (*pp != d)
		pp = &(*pp)->next;
	*pp = d->next;
	if (s->reasm_tail == &d->next)
		s->reasm_tail = pp;
}

static void reasm_free(struct stack *s, struct reasm_dgram *d)
{
	reasm_unlink(s, d);
	timer_cancel(&s->timers, &d->timer);
	s->reasm_bytes -= reasm_size(d);
	s->reasm_count--;
	free(d->buf);
	free(d->ranges);
	free(d);
}

static void reasm_timeout(struct timer *t, void *arg)
{
	struct reasm_dgram *d = arg;

	(void)t;
	STAT_INC(&d->s->stats, IP4_REASM_DROP_TIMEOUT);
	/* RFC 1122 3.3.2: tell the sender, if the first fragment came (it
	 * holds what the error must quote). */
	if (d->hdr_len && d->nranges && d->ranges[0].start == 0) {
		struct l3_rx rx = d->rx;

		rx.hdr = d->hdr;
		rx.hdr_len = d->hdr_len;
		rx.payload = d->buf;
		rx.payload_len = d->ranges[0].end;
		icmp4_send_error(d->s, ICMP4_TIME_EXCEEDED, ICMP4_EXC_FRAGTIME,
				 &rx);
	}
	reasm_free(d->s, d);
}

static struct reasm_dgram *reasm_find(struct stack *s, const struct ip4_hdr *h)
{
	for (struct reasm_dgram *d = s->reasm_head; d; d = d->next)
		if (d->id == h->id && d->src == h->src && d->dst == h->dst &&
		    d->proto == h->proto)
			return d;
	return NULL;
}

static struct reasm_dgram *reasm_new(struct stack *s, const struct ip4_hdr *h)
{
	struct reasm_dgram *d;

	if (!s->p.reasm_max_datagrams)
		return NULL;
	while (s->reasm_count >= s->p.reasm_max_datagrams) {
		STAT_INC(&s->stats, IP4_REASM_DROP_LIMIT);
		reasm_free(s, s->reasm_head);
	}
	if (!reasm_make_room(s, NULL, sizeof(*d)))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->s = s;
	d->src = h->src;
	d->dst = h->dst;
	d->id = h->id;
	d->proto = h->proto;
	timer_init(&d->timer, reasm_timeout, d);
	timer_arm(&s->timers, &d->timer, stack_now(s), s->p.reasm_timeout_ms);
	*s->reasm_tail = d;
	s->reasm_tail = &d->next;
	s->reasm_count++;
	s->reasm_bytes += reasm_size(d);
	return d;
}

/* Resize memory that d accounts for from old to new bytes, evicting older
 * datagrams if needed.  The new block, or NULL (old block untouched). */
static void *reasm_realloc(struct stack *s, struct reasm_dgram *d, void *p,
			   size_t old, size_t new)
{
	void *q;

	if (!reasm_make_room(s, d, new - old))
		return NULL;
	q = realloc(p, new);
	if (q)
		s->reasm_bytes += new - old;
	return q;
}

/* Grow d's buffer to hold need bytes, within the global byte limit. */
static bool reasm_reserve(struct stack *s, struct reasm_dgram *d, size_t need)
{
	size_t cap = d->cap ? d->cap : 2048;
	uint8_t *b;

	if (need <= d->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > REASM_MAX_PAYLOAD)
		cap = REASM_MAX_PAYLOAD;
	b = reasm_realloc(s, d, d->buf, d->cap, cap);
	if (!b)
		return false;
	d->buf = b;
	d->cap = cap;
	return true;
}

enum range_result { RANGE_ADDED, RANGE_DUP, RANGE_OVERLAP, RANGE_FULL };

/* Insert [start, end) into the sorted, disjoint range array. */
static enum range_result reasm_add_range(struct stack *s, struct reasm_dgram *d,
					 uint32_t start, uint32_t end)
{
	unsigned i = 0;

	while (i < d->nranges && d->ranges[i].end <= start)
		i++;
	if (i < d->nranges && d->ranges[i].start < end) {
		if (d->ranges[i].start == start && d->ranges[i].end == end)
			return RANGE_DUP;
		return RANGE_OVERLAP;
	}
	if (d->nranges >= s->p.reasm_max_frags)
		return RANGE_FULL;
	if (d->nranges == d->cap_ranges) {
		unsigned cap = d->cap_ranges ? d->cap_ranges * 2
					     : REASM_MIN_RANGES;
		struct frag_range *r;

		if (cap > s->p.reasm_max_frags)
			cap = s->p.reasm_max_frags;
		r = reasm_realloc(s, d, d->ranges,
				  d->cap_ranges * sizeof(*r), cap * sizeof(*r));
		if (!r)
			return RANGE_FULL;
		d->ranges = r;
		d->cap_ranges = cap;
	}
	memmove(&d->ranges[i + 1], &d->ranges[i],
		(d->nranges - i) * sizeof(*d->ranges));
	d->ranges[i].start = start;
	d->ranges[i].end = end;
	d->nranges++;
	d->received += end - start;
	return RANGE_ADDED;
}

/* Describe the complete d for delivery: its metadata in *rx, its payload
 * in *payload.  d stays in the list (so its bytes still count against the
 * limits) until the caller releases it. */
static struct reasm_dgram *reasm_complete(struct stack *s,
					  struct reasm_dgram *d,
					  struct l3_rx *rx, struct cur *payload)
{
	STAT_INC(&s->stats, IP4_REASM_OK);
	*rx = d->rx;
	rx->hdr = d->hdr;
	rx->hdr_len = d->hdr_len;
	rx->dgram_len = d->hdr_len + d->total;
	*payload = cur_make(d->buf, d->total);
	return d;
}

void ip4_reasm_release(struct stack *s, struct reasm_dgram *d)
{
	reasm_free(s, d);
}

struct reasm_dgram *ip4_reasm_input(struct stack *s, struct cur frag,
				    const struct ip4_hdr *ih, struct l3_rx *rx,
				    struct cur *payload)
{
	uint32_t start = (uint32_t)(ih->frag & IP4_OFF_MASK) * 8;
	uint32_t end = start + (uint32_t)frag.len;
	bool more = ih->frag & IP4_FLAG_MF;
	struct reasm_dgram *d;

	STAT_INC(&s->stats, IP4_FRAG_RX);
	/* Every fragment carries data; all but the last a multiple of 8. */
	if (frag.len == 0 || (more && frag.len % 8) ||
	    end + ih->ihl > IP4_MAX_LEN) {
		STAT_INC(&s->stats, IP4_REASM_DROP_BAD_LEN);
		return NULL;
	}
	d = reasm_find(s, ih);
	if (!d) {
		d = reasm_new(s, ih);
		if (!d) {
			STAT_INC(&s->stats, IP4_REASM_DROP_LIMIT);
			return NULL;
		}
	}
	if (!more) {
		if ((d->have_last && d->total != end) ||
		    (!d->have_last && d->nranges &&
		     d->ranges[d->nranges - 1].end > end)) {
			STAT_INC(&s->stats, IP4_REASM_DROP_OVERLAP);
			goto drop;
		}
		d->have_last = true;
		d->total = end;
	} else if (d->have_last && end > d->total) {
		STAT_INC(&s->stats, IP4_REASM_DROP_OVERLAP);
		goto drop;
	}
	switch (reasm_add_range(s, d, start, end)) {
	case RANGE_DUP:
		/* A repeat may still be the one that set the length. */
		STAT_INC(&s->stats, IP4_REASM_DUP);
		goto maybe_done;
	case RANGE_OVERLAP:
		STAT_INC(&s->stats, IP4_REASM_DROP_OVERLAP);
		goto drop;
	case RANGE_FULL:
		STAT_INC(&s->stats, IP4_REASM_DROP_LIMIT);
		goto drop;
	case RANGE_ADDED:
		break;
	}
	if (!reasm_reserve(s, d, end)) {
		STAT_INC(&s->stats, IP4_REASM_DROP_TOO_BIG);
		goto drop;
	}
	if (frag.len)
		memcpy(d->buf + start, frag.p, frag.len);
	if (start == 0) {
		d->hdr_len = rx->hdr_len;
		memcpy(d->hdr, rx->hdr, rx->hdr_len);
		d->rx = *rx;
	}
maybe_done:
	if (d->have_last && d->received == d->total && d->hdr_len)
		return reasm_complete(s, d, rx, payload);
	return NULL;
drop:
	reasm_free(s, d);
	return NULL;
}

void ip4_reasm_fini(struct stack *s)
{
	while (s->reasm_head)
		reasm_free(s, s->reasm_head);
}
