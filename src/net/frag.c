/*
 * IP reassembly (RFC 791 3.2, RFC 815, RFC 8200 4.5), one reassembler for
 * IPv4 and IPv6, with limits.
 *
 * Theory of operation.  ip4.c and ip6.c parse a fragment's header and pass
 * the fragment here (struct reasm_frag, frag.h).  A datagram in progress is
 * keyed by (src, dst, id, proto) for IPv4 and (src, dst, id) for IPv6,
 * whose key ignores the protocol: only the offset-0 fragment's Next Header
 * counts.  The family is the addresses' (union inany); it picks the
 * counters and the length rule, and nothing else differs.
 *
 * A datagram collects its fragmentable part in a buffer that grows to the
 * highest byte seen, and the pieces received are kept as a sorted array of
 * disjoint [start, end) ranges.  A fragment that exactly repeats one we
 * hold is a harmless duplicate and ignored; one that partly overlaps is
 * either an error or an attack (RFC 5722), and the whole datagram is
 * dropped, as it is for a fragment that contradicts the length a last
 * fragment fixed.  RFC 5722 drops the fragments not yet received with it:
 * the datagram lives on dead, its data freed and its key kept until its
 * timeout, and drops (and counts as overlap) every fragment that comes for
 * it, which would otherwise start it over and perhaps complete it with
 * someone else's bytes.
 *
 * The offset-0 fragment gives the datagram its header (IPv4: the IP
 * header; IPv6: the unfragmentable part) and its metadata (struct l3_rx).
 * The datagram is complete when the last fragment (MF or M clear) has
 * fixed its length, the ranges cover [0, length) with no hole and the
 * header is in.  The header is then fixed up to describe the whole
 * datagram and handed back with it; the caller delivers it and releases
 * it, so it counts against the limits until then.
 *
 * Lengths: every fragment carries data, all but the last a multiple of 8
 * bytes, and no datagram may outgrow its 16-bit length field: 65535 bytes
 * with the header for IPv4 (Total Length), a 65535-byte payload for IPv6
 * (Payload Length: the extension headers of the unfragmentable part, then
 * the fragmentable part).  Each fragment is checked with its own header,
 * and again with the header the datagram keeps, which may be longer.
 *
 * Limits, the same for both families, over one list of the datagrams in
 * progress, oldest first: reasm_max_datagrams in all; at most
 * reasm_max_per_source from one source address, so that an outsider on
 * one address cannot take every slot (a source's new datagram evicts its
 * own oldest); reasm_max_bytes of memory over all of them (buffers, range
 * arrays, kept headers and bookkeeping: the oldest are evicted to make
 * room for a newer one); reasm_max_frags per datagram; and
 * reasm_timeout_ms (IPv4) or reasm_timeout6_ms (IPv6) from the first
 * fragment.  When a datagram times out
 * after its offset-0 fragment came, the sender hears of it through
 * l3_reasm_expired(): an ICMP time exceeded (RFC 1122 3.3.2, RFC 8200 4.5)
 * quoting that fragment.
 */
#include "net/frag.h"
#include "net/core.h"
#include "net/csum.h"
#include "wire/ip4.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The largest value of IPv4's Total Length and IPv6's Payload Length. */
#define REASM_LEN_MAX 65535u
/* IPv6 (RFC 8200 3): where the Payload Length sits in the header (until
 * wire/ip6.h names it). */
#define REASM_IP6_PLEN_AT 4

struct frag_range {
	uint32_t start, end;
};

struct reasm_dgram {
	struct reasm_dgram *next;
	struct stack *s;
	struct reasm_key key; /* proto 0 for IPv6 */
	bool dead;	      /* dropped (RFC 5722): holds nothing, drops all */
	bool have_last;
	uint32_t total;	   /* fragmentable part's length, once the last came */
	uint32_t received; /* bytes covered by ranges */
	uint8_t *hdr;	   /* the offset-0 fragment's header; NULL until then */
	size_t hdr_len;
	struct l3_rx rx; /* the offset-0 fragment's, without its pointers */
	uint8_t *buf;
	size_t cap;
	unsigned nranges;
	unsigned cap_ranges; /* the array's size */
	struct frag_range *ranges;
	struct timer timer;
};

#define REASM_MIN_RANGES 8

/* Each family's counters, so that every path counts into the right ones. */
struct reasm_stats {
	enum stat_id ok, dup, overlap, timeout, too_big, bad_len,
	    limit, source_limit;
};

static const struct reasm_stats reasm_stats4 = {
    .ok = STAT_IP4_REASM_OK,
    .dup = STAT_IP4_REASM_DUP,
    .overlap = STAT_IP4_REASM_DROP_OVERLAP,
    .timeout = STAT_IP4_REASM_DROP_TIMEOUT,
    .too_big = STAT_IP4_REASM_DROP_TOO_BIG,
    .bad_len = STAT_IP4_REASM_DROP_BAD_LEN,
    .limit = STAT_IP4_REASM_DROP_LIMIT,
    .source_limit = STAT_IP4_REASM_DROP_SOURCE_LIMIT,
};

static const struct reasm_stats reasm_stats6 = {
    .ok = STAT_IP6_REASM_OK,
    .dup = STAT_IP6_REASM_DUP,
    .overlap = STAT_IP6_REASM_DROP_OVERLAP,
    .timeout = STAT_IP6_REASM_DROP_TIMEOUT,
    .too_big = STAT_IP6_REASM_DROP_TOO_BIG,
    .bad_len = STAT_IP6_REASM_DROP_BAD_LEN,
    .limit = STAT_IP6_REASM_DROP_LIMIT,
    .source_limit = STAT_IP6_REASM_DROP_SOURCE_LIMIT,
};

static bool reasm_is_v4(const struct reasm_key *k)
{
	return inany_is_v4(&k->src);
}

static const struct reasm_stats *reasm_stats_of(const struct reasm_key *k)
{
	return reasm_is_v4(k) ? &reasm_stats4 : &reasm_stats6;
}

/* Count one event of kind what (a member of struct reasm_stats) against
 * the family of key k. */
#define REASM_COUNT(s, k, what) ((s)->stats.v[reasm_stats_of(k)->what]++)

/* The most a datagram of k's family may hold, kept header included: the
 * 16-bit length field counts the header in IPv4 and all but its fixed 40
 * bytes in IPv6. */
static size_t reasm_max_len(const struct reasm_key *k)
{
	return reasm_is_v4(k) ? REASM_LEN_MAX
			      : l3_hlen(&k->src) + REASM_LEN_MAX;
}

/* Memory a datagram in progress holds, as counted against the limit. */
static size_t reasm_size(const struct reasm_dgram *d)
{
	return sizeof(*d) + d->cap + d->cap_ranges * sizeof(*d->ranges) +
	       d->hdr_len;
}

static void reasm_free(struct stack *s, struct reasm_dgram *d);

/* Free d to make room for another, counting it as id unless it was dead
 * already (then no datagram is lost). */
static void reasm_evict(struct stack *s, struct reasm_dgram *d, enum stat_id id)
{
	if (!d->dead)
		s->stats.v[id]++;
	reasm_free(s, d);
}

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
		reasm_evict(s, old, reasm_stats_of(&old->key)->limit);
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
	free(d->hdr);
	free(d->buf);
	free(d->ranges);
	free(d);
}

/* Drop d's data for good (RFC 5722), keeping its key and its timer: what
 * comes for it until then is dropped too. */
static void reasm_kill(struct stack *s, struct reasm_dgram *d)
{
	s->reasm_bytes -= reasm_size(d);
	free(d->hdr);
	free(d->buf);
	free(d->ranges);
	d->hdr = d->buf = NULL;
	d->ranges = NULL;
	d->hdr_len = d->cap = 0;
	d->nranges = d->cap_ranges = 0;
	d->have_last = false;
	d->total = d->received = 0;
	d->dead = true;
	s->reasm_bytes += reasm_size(d);
}

static void reasm_timeout(struct timer *t, void *arg)
{
	struct reasm_dgram *d = arg;
	struct stack *s = d->s;

	(void)t;
	if (d->dead) {
		reasm_free(s, d);
		return;
	}
	REASM_COUNT(s, &d->key, timeout);
	/* Tell the sender, if the offset-0 fragment came: it holds what the
	 * error must quote. */
	if (d->hdr) {
		struct l3_rx rx = d->rx;

		rx.hdr = d->hdr;
		rx.hdr_len = d->hdr_len;
		rx.payload = d->buf;
		rx.payload_len = d->ranges[0].end;
		l3_reasm_expired(s, &rx);
	}
	reasm_free(s, d);
}

static bool reasm_key_eq(const struct reasm_key *a, const struct reasm_key *b)
{
	return a->id == b->id && a->proto == b->proto &&
	       inany_eq(&a->src, &b->src) && inany_eq(&a->dst, &b->dst);
}

/* The datagram in progress keyed k, or NULL; then *nsrc says how many
 * are in progress from k's source, and *oldest_src is the oldest of them
 * (NULL: none). */
static struct reasm_dgram *reasm_find(struct stack *s,
				      const struct reasm_key *k, unsigned *nsrc,
				      struct reasm_dgram **oldest_src)
{
	*nsrc = 0;
	*oldest_src = NULL;
	for (struct reasm_dgram *d = s->reasm_head; d; d = d->next) {
		if (!inany_eq(&d->key.src, &k->src))
			continue;
		if (reasm_key_eq(&d->key, k))
			return d;
		if (!*oldest_src)
			*oldest_src = d;
		++*nsrc;
	}
	return NULL;
}

/* Start a datagram keyed k, evicting what the limits ask: first the
 * source's own oldest, then anyone's oldest.  nsrc, oldest_src: as
 * reasm_find() left them.  NULL when it may not start (counted). */
static struct reasm_dgram *reasm_new(struct stack *s, const struct reasm_key *k,
				     unsigned nsrc,
				     struct reasm_dgram *oldest_src)
{
	struct reasm_dgram *d;

	if (!s->p.reasm_max_per_source) {
		REASM_COUNT(s, k, source_limit);
		return NULL;
	}
	/* The limit may have been lowered since: evict the excess too. */
	while (nsrc >= s->p.reasm_max_per_source) {
		struct reasm_dgram *next = oldest_src->next;

		reasm_evict(s, oldest_src, reasm_stats_of(k)->source_limit);
		nsrc--;
		while (next && !inany_eq(&next->key.src, &k->src))
			next = next->next;
		oldest_src = next;
	}
	if (!s->p.reasm_max_datagrams) {
		REASM_COUNT(s, k, limit);
		return NULL;
	}
	while (s->reasm_count >= s->p.reasm_max_datagrams)
		reasm_evict(s, s->reasm_head,
			    reasm_stats_of(&s->reasm_head->key)->limit);
	if (!reasm_make_room(s, NULL, sizeof(*d))) {
		REASM_COUNT(s, k, limit);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		REASM_COUNT(s, k, limit);
		return NULL;
	}
	d->s = s;
	d->key = *k;
	timer_init(&d->timer, reasm_timeout, d);
	timer_arm(&s->timers, &d->timer, stack_now(s),
		  reasm_is_v4(k) ? s->p.reasm_timeout_ms
				 : s->p.reasm_timeout6_ms);
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
	size_t most = reasm_max_len(&d->key) - l3_hlen(&d->key.src);
	size_t cap = d->cap ? d->cap : 2048;
	uint8_t *b;

	if (need <= d->cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > most)
		cap = most;
	b = reasm_realloc(s, d, d->buf, d->cap, cap);
	if (!b)
		return false;
	d->buf = b;
	d->cap = cap;
	return true;
}

/* Keep the offset-0 fragment's header and metadata, within the limit. */
static bool reasm_keep_header(struct stack *s, struct reasm_dgram *d,
			      const struct reasm_frag *f)
{
	uint8_t *h = reasm_realloc(s, d, NULL, 0, f->hdr_len);

	if (!h)
		return false;
	memcpy(h, f->hdr, f->hdr_len);
	d->hdr = h;
	d->hdr_len = f->hdr_len;
	d->rx = *f->rx;
	/* They point into the frame, which is gone after this call. */
	d->rx.hdr = d->rx.payload = NULL;
	d->rx.hdr_len = d->rx.payload_len = 0;
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
		unsigned cap =
		    d->cap_ranges ? d->cap_ranges * 2 : REASM_MIN_RANGES;
		struct frag_range *r;

		if (cap > s->p.reasm_max_frags)
			cap = s->p.reasm_max_frags;
		r = reasm_realloc(s, d, d->ranges, d->cap_ranges * sizeof(*r),
				  cap * sizeof(*r));
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

/* Whether the datagram, with the fragment [start, end) of header length
 * hdr_len added, still fits its family's length field: with the header
 * it keeps (the offset-0 fragment's, when known), up to the highest byte
 * it may hold. */
static bool reasm_fits(const struct reasm_dgram *d, uint32_t start,
		       uint32_t end, size_t hdr_len)
{
	size_t kept = d->hdr ? d->hdr_len : start == 0 ? hdr_len : 0;
	uint32_t extent = end;

	if (d->have_last)
		extent = d->total;
	else if (d->nranges && d->ranges[d->nranges - 1].end > extent)
		extent = d->ranges[d->nranges - 1].end;
	return kept + extent <= reasm_max_len(&d->key);
}

/* Fix the kept header up to describe the whole datagram.  IPv4: its
 * Total Length, no fragment offset nor MF (DF stays as the first fragment
 * had it), and the checksum.  IPv6: the Payload Length, over the extension
 * headers kept and the reassembled part. */
static void reasm_fix_header(struct reasm_dgram *d)
{
	uint8_t *h = d->hdr;

	if (reasm_is_v4(&d->key)) {
		put_be16(h + IP4_TOTAL_LEN_AT,
			 (uint16_t)(d->hdr_len + d->total));
		put_be16(h + IP4_FRAG_AT,
			 (uint16_t)(be16(h + IP4_FRAG_AT) & IP4_FLAG_DF));
		put_be16(h + IP4_CSUM_AT, 0);
		put_be16(h + IP4_CSUM_AT, csum(h, d->hdr_len));
		return;
	}
	put_be16(h + REASM_IP6_PLEN_AT,
		 (uint16_t)(d->hdr_len - l3_hlen(&d->key.src) + d->total));
}

/* Describe the complete d for delivery: its metadata in *rx, its payload
 * in *payload.  d stays in the list (so its bytes still count against the
 * limits) until the caller releases it. */
static struct reasm_dgram *reasm_complete(struct stack *s,
					  struct reasm_dgram *d,
					  struct l3_rx *rx, struct cur *payload)
{
	REASM_COUNT(s, &d->key, ok);
	reasm_fix_header(d);
	*rx = d->rx;
	rx->hdr = d->hdr;
	rx->hdr_len = d->hdr_len;
	rx->dgram_len = d->hdr_len + d->total;
	rx->payload = d->buf;
	rx->payload_len = d->total;
	/* The link vouched for fragments at most, never for the datagram
	 * they make: its transport checksum is checked in full. */
	rx->csum_ok = false;
	*payload = cur_make(d->buf, d->total);
	return d;
}

void reasm_release(struct stack *s, struct reasm_dgram *d)
{
	reasm_free(s, d);
}

struct reasm_dgram *reasm_input(struct stack *s, const struct reasm_frag *f,
				struct l3_rx *rx_out, struct cur *payload,
				enum reasm_result *res)
{
	struct reasm_key k = f->key;
	size_t len = f->data.len, max;
	uint32_t start = f->off, end;
	enum reasm_result ignored;
	struct reasm_dgram *d, *oldest_src;
	struct cur data;
	unsigned nsrc;

	if (!res)
		res = &ignored;
	*res = REASM_DROPPED;
	if (!reasm_is_v4(&k))
		k.proto = 0;
	assert(f->hdr_len >= l3_hlen(&k.src));
	/* Every fragment carries data; all but the last a multiple of 8. */
	if (len == 0) {
		REASM_COUNT(s, &k, bad_len);
		return NULL;
	}
	if (f->more && len % 8) {
		REASM_COUNT(s, &k, bad_len);
		*res = REASM_UNALIGNED;
		return NULL;
	}
	/* With its own header, the fragment fits the length field. */
	max = reasm_max_len(&k);
	if (start > max || len > max - start ||
	    f->hdr_len > max - start - len) {
		REASM_COUNT(s, &k, bad_len);
		*res = REASM_TOO_LONG;
		return NULL;
	}
	end = start + (uint32_t)len;
	d = reasm_find(s, &k, &nsrc, &oldest_src);
	if (!d) {
		d = reasm_new(s, &k, nsrc, oldest_src);
		if (!d)
			return NULL;
	}
	if (d->dead) {
		REASM_COUNT(s, &k, overlap);
		return NULL;
	}
	if (!f->more) {
		if ((d->have_last && d->total != end) ||
		    (!d->have_last && d->nranges &&
		     d->ranges[d->nranges - 1].end > end)) {
			REASM_COUNT(s, &k, overlap);
			goto kill;
		}
		d->have_last = true;
		d->total = end;
	} else if (d->have_last && end > d->total) {
		REASM_COUNT(s, &k, overlap);
		goto kill;
	}
	/* And with the header the datagram keeps. */
	if (!reasm_fits(d, start, end, f->hdr_len)) {
		REASM_COUNT(s, &k, bad_len);
		*res = REASM_TOO_LONG;
		goto drop;
	}
	switch (reasm_add_range(s, d, start, end)) {
	case RANGE_DUP:
		/* A repeat may still be the one that set the length. */
		REASM_COUNT(s, &k, dup);
		goto maybe_done;
	case RANGE_OVERLAP:
		REASM_COUNT(s, &k, overlap);
		goto kill;
	case RANGE_FULL:
		REASM_COUNT(s, &k, limit);
		goto drop;
	case RANGE_ADDED:
		break;
	}
	if (!reasm_reserve(s, d, end) ||
	    (start == 0 && !reasm_keep_header(s, d, f))) {
		REASM_COUNT(s, &k, too_big);
		goto drop;
	}
	data = f->data;
	memcpy(d->buf + start, cur_pull(&data, len), len);
maybe_done:
	*res = REASM_HELD;
	if (d->have_last && d->received == d->total && d->hdr) {
		*res = REASM_DONE;
		return reasm_complete(s, d, rx_out, payload);
	}
	return NULL;
drop:
	reasm_free(s, d);
	return NULL;
kill:
	reasm_kill(s, d);
	return NULL;
}

unsigned reasm_from(const struct stack *s, const union inany *src)
{
	unsigned n = 0;

	for (const struct reasm_dgram *d = s->reasm_head; d; d = d->next)
		n += inany_eq(&d->key.src, src);
	return n;
}

void reasm_fini(struct stack *s)
{
	while (s->reasm_head)
		reasm_free(s, s->reasm_head);
}
