/*
 * ARP (RFC 826, with RFC 5227's conflict rules): answer for our address,
 * resolve next hops for output, and keep a bounded cache.
 *
 * Cache entries live in one table of arp_cache_size slots chained into hash
 * buckets by index.  States: INCOMPLETE (a request is out; up to
 * arp_queue_len datagrams wait), REACHABLE (usable until arp_timeout_ms),
 * STALE (timed out but used recently: still usable while we re-ask by
 * unicast; freed when nobody answers).  Replies and gratuitous ARPs only
 * update entries that already exist; a request addressed to us teaches us
 * its sender, as RFC 826 says.
 *
 * Outsiders can still make us resolve: every datagram from a spoofed
 * on-link source needs a reply.  So at most a quarter of the table may be
 * INCOMPLETE (the oldest such entry is recycled), the queued copies have a
 * global byte limit, and the gateway's entry is never evicted.
 */
#include "net/stack.h"
#include "wire/arp.h"
#include "wire/ip4.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE, ARP_STALE };

struct arp_queued {
	struct arp_queued *next;
	size_t len;
	uint8_t data[]; /* an IPv4 datagram */
};

struct arp_entry {
	struct stack *s;
	uint32_t ip;
	uint8_t mac[ETH_ALEN];
	uint8_t state;
	uint8_t tries;
	uint32_t next; /* index + 1 of the next entry in the chain, 0 = end */
	uint64_t updated;
	uint64_t used;
	struct timer timer;
	struct arp_queued *q;
	unsigned qlen;
};

#define ARP_DEFEND_INTERVAL_MS 10000 /* RFC 5227 DEFEND_INTERVAL */
#define ARP_ANNOUNCE_INTERVAL_MS 2000 /* RFC 5227 ANNOUNCE_INTERVAL */
#define ARP_QUEUE_BYTES_MAX (2u << 20) /* over all waiting datagrams */

static const uint8_t zero_mac[ETH_ALEN];

static unsigned arp_hash(const struct stack *s, uint32_t ip)
{
	return (ip * 2654435761u) % s->arp_nbuckets;
}

static struct arp_entry *arp_find(struct stack *s, uint32_t ip)
{
	uint32_t i = s->arp_bucket[arp_hash(s, ip)];

	while (i) {
		struct arp_entry *e = &s->arp[i - 1];

		if (e->ip == ip)
			return e;
		i = e->next;
	}
	return NULL;
}

static void arp_drop_queue(struct stack *s, struct arp_entry *e)
{
	while (e->q) {
		struct arp_queued *q = e->q;

		e->q = q->next;
		s->arp_queued_bytes -= q->len;
		free(q);
		STAT_INC(&s->stats, ARP_UNRESOLVED_DROP);
	}
	e->qlen = 0;
}

static void arp_free_entry(struct stack *s, struct arp_entry *e)
{
	uint32_t idx = (uint32_t)(e - s->arp) + 1;
	uint32_t *link = &s->arp_bucket[arp_hash(s, e->ip)];

	while (*link != idx)
		link = &s->arp[*link - 1].next;
	*link = e->next;
	timer_cancel(&s->timers, &e->timer);
	arp_drop_queue(s, e);
	if (e->state == ARP_INCOMPLETE)
		s->arp_incomplete--;
	e->state = ARP_FREE;
	e->next = 0;
	s->arp_used--;
}

static void arp_timeout(struct timer *t, void *arg);
static void arp_announce_now(struct stack *s);
static void arp_announce_again(struct timer *t, void *arg);

/* The victim to make room: for a new INCOMPLETE entry when a quarter of the
 * table is resolving already, the oldest INCOMPLETE one; otherwise the
 * least recently updated resolved entry that is not the gateway's. */
static struct arp_entry *arp_victim(struct stack *s, bool incomplete)
{
	struct arp_entry *victim = NULL;

	for (unsigned i = 0; i < s->p.arp_cache_size; i++) {
		struct arp_entry *c = &s->arp[i];

		if ((c->state == ARP_INCOMPLETE) != incomplete ||
		    (c->ip == s->p.gateway && c->ip != 0))
			continue;
		if (!victim || c->updated < victim->updated)
			victim = c;
	}
	return victim;
}

/* A slot for ip, to be made INCOMPLETE (resolving) or filled at once.
 * NULL when nothing may be evicted. */
static struct arp_entry *arp_alloc(struct stack *s, uint32_t ip,
				   bool resolving)
{
	struct arp_entry *e = NULL;
	unsigned max_incomplete = s->p.arp_cache_size / 4;
	unsigned h;

	if (max_incomplete == 0)
		max_incomplete = 1;
	if (resolving && s->arp_incomplete >= max_incomplete)
		e = arp_victim(s, true);
	for (unsigned i = 0; i < s->p.arp_cache_size && !e; i++)
		if (s->arp[i].state == ARP_FREE)
			e = &s->arp[i];
	if (!e)
		e = arp_victim(s, false);
	if (!e)
		return NULL;
	if (e->state != ARP_FREE) {
		arp_free_entry(s, e);
		STAT_INC(&s->stats, ARP_CACHE_EVICT);
	}
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->ip = ip;
	timer_init(&e->timer, arp_timeout, e);
	h = arp_hash(s, ip);
	e->next = s->arp_bucket[h];
	s->arp_bucket[h] = (uint32_t)(e - s->arp) + 1;
	s->arp_used++;
	if (resolving) {
		e->state = ARP_INCOMPLETE;
		s->arp_incomplete++;
	}
	return e;
}

static void arp_send(struct stack *s, uint16_t op, const uint8_t *eth_dst,
		     const uint8_t *tha, uint32_t tpa)
{
	struct pbuf *pb = &s->arp_tx;
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = op,
		.spa = s->p.addr,
		.tpa = tpa,
	};

	memcpy(a.sha, s->p.mac, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	pbuf_reset(pb);
	arp_hdr_write(pbuf_put(pb, ARP_LEN), &a);
	s->stats.v[op == ARP_OP_REQUEST ? STAT_ARP_TX_REQUEST
					 : STAT_ARP_TX_REPLY]++;
	eth_output(s, eth_dst, ETH_TYPE_ARP, pb, NULL);
}

/* Mark e resolved to mac and send what waited for it. */
static void arp_resolved(struct stack *s, struct arp_entry *e,
			 const uint8_t *mac)
{
	uint64_t now = stack_now(s);

	if (e->state == ARP_INCOMPLETE)
		s->arp_incomplete--;
	memcpy(e->mac, mac, ETH_ALEN);
	e->state = ARP_REACHABLE;
	e->tries = 0;
	e->updated = now;
	timer_arm(&s->timers, &e->timer, now, s->p.arp_timeout_ms);
	/* Only arp_input() gets here, so s->tx is free to carry them. */
	while (e->q) {
		struct arp_queued *q = e->q;
		struct pbuf *pb = &s->tx;

		e->q = q->next;
		e->qlen--;
		s->arp_queued_bytes -= q->len;
		pbuf_reset(pb);
		memcpy(pbuf_put(pb, q->len), q->data, q->len);
		free(q);
		ip4_xmit(s, e->mac, pb, NULL);
	}
}

static void arp_timeout(struct timer *t, void *arg)
{
	struct arp_entry *e = arg;
	struct stack *s = e->s;
	uint64_t now = stack_now(s);

	(void)t;
	switch (e->state) {
	case ARP_REACHABLE:
		if (now - e->used >= s->p.arp_timeout_ms) {
			STAT_INC(&s->stats, ARP_CACHE_EXPIRE);
			arp_free_entry(s, e);
			return;
		}
		e->state = ARP_STALE;
		e->tries = 0;
		/* re-ask the neighbour by unicast */
		__attribute__((fallthrough));
	case ARP_STALE:
	case ARP_INCOMPLETE:
		if (e->tries >= s->p.arp_retries) {
			if (e->state == ARP_INCOMPLETE)
				STAT_INC(&s->stats, ARP_RESOLVE_FAIL);
			else
				STAT_INC(&s->stats, ARP_CACHE_EXPIRE);
			arp_free_entry(s, e);
			return;
		}
		e->tries++;
		arp_send(s, ARP_OP_REQUEST,
			 e->state == ARP_STALE ? e->mac : eth_broadcast,
			 zero_mac, e->ip);
		timer_arm(&s->timers, &e->timer, now, s->p.arp_retry_ms);
		break;
	default:
		break;
	}
}

void arp_init(struct stack *s)
{
	unsigned n = s->p.arp_cache_size ? s->p.arp_cache_size : 1;

	s->p.arp_cache_size = n;
	s->arp_nbuckets = n;
	timer_init(&s->arp_announce_timer, arp_announce_again, s);
	s->arp = calloc(n, sizeof(*s->arp));
	s->arp_bucket = calloc(n, sizeof(*s->arp_bucket));
	if (!s->arp || !s->arp_bucket) {
		free(s->arp);
		free(s->arp_bucket);
		s->arp = NULL;
		s->arp_bucket = NULL;
	}
}

void arp_fini(struct stack *s)
{
	timer_cancel(&s->timers, &s->arp_announce_timer);
	if (!s->arp)
		return;
	for (unsigned i = 0; i < s->p.arp_cache_size; i++)
		if (s->arp[i].state != ARP_FREE)
			arp_free_entry(s, &s->arp[i]);
	free(s->arp);
	free(s->arp_bucket);
	s->arp = NULL;
	s->arp_bucket = NULL;
}

int arp_lookup(struct stack *s, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	struct arp_entry *e = arp_find(s, ip);

	if (!e || e->state == ARP_INCOMPLETE)
		return -ENOENT;
	memcpy(mac, e->mac, ETH_ALEN);
	return 0;
}

static bool arp_sender_ok(const struct stack *s, const struct arp_hdr *a)
{
	static const uint8_t zero[ETH_ALEN];

	if (eth_is_multicast(a->sha) || memcmp(a->sha, zero, ETH_ALEN) == 0)
		return false;
	if (a->spa == 0) /* an RFC 5227 probe */
		return true;
	return !ip4_is_multicast(a->spa) && !ip4_is_loopback(a->spa) &&
	       !stack_is_broadcast(s, a->spa);
}

void arp_input(struct stack *s, struct cur c)
{
	struct arp_hdr a;
	struct arp_entry *e = NULL;

	STAT_INC(&s->stats, ARP_RX);
	if (!arp_hdr_parse(&c, &a)) {
		STAT_INC(&s->stats, ARP_DROP_MALFORMED);
		return;
	}
	if (a.op != ARP_OP_REQUEST && a.op != ARP_OP_REPLY) {
		STAT_INC(&s->stats, ARP_DROP_OP);
		return;
	}
	if (!arp_sender_ok(s, &a)) {
		STAT_INC(&s->stats, ARP_DROP_BAD_SENDER);
		return;
	}
	if (stack_is_local(s, a.spa)) {
		/* Someone else claims our address (RFC 5227 2.4): count it
		 * and defend once with an announcement. */
		uint64_t now = stack_now(s);

		if (memcmp(a.sha, s->p.mac, ETH_ALEN) != 0) {
			STAT_INC(&s->stats, ARP_CONFLICT);
			if (!s->arp_defended ||
			    now - s->arp_defend_ms >= ARP_DEFEND_INTERVAL_MS) {
				s->arp_defended = true;
				s->arp_defend_ms = now;
				arp_announce_now(s);
			}
		}
		return;
	}
	/* RFC 826 merge: update the sender if we already know it. */
	if (a.spa) {
		e = arp_find(s, a.spa);
		if (e)
			arp_resolved(s, e, a.sha);
	}
	if (!stack_is_local(s, a.tpa)) {
		if (!e)
			s->stats.v[a.op == ARP_OP_REPLY
					   ? STAT_ARP_DROP_UNSOLICITED
					   : STAT_ARP_DROP_NOT_US]++;
		return;
	}
	if (a.op == ARP_OP_REPLY) {
		if (!e)
			STAT_INC(&s->stats, ARP_DROP_UNSOLICITED);
		return;
	}
	/* A request for us: learn the asker (it is about to talk to us). */
	if (!e && a.spa) {
		e = arp_alloc(s, a.spa, false);
		if (e) {
			arp_resolved(s, e, a.sha);
			e->used = e->updated;
		}
	}
	arp_send(s, ARP_OP_REPLY, a.sha, a.sha, a.spa);
}

void arp_foreach(struct stack *s, arp_visit_fn fn, void *arg)
{
	static const char *const names[] = {"free", "incomplete", "reachable",
					    "stale"};
	uint64_t now = stack_now(s);

	for (unsigned i = 0; i < s->p.arp_cache_size; i++) {
		const struct arp_entry *e = &s->arp[i];

		if (e->state == ARP_FREE)
			continue;
		fn(arg, e->ip, e->mac, names[e->state],
		   now > e->updated ? now - e->updated : 0);
	}
}

bool arp_ready(struct stack *s, uint32_t next_hop)
{
	const struct arp_entry *e = arp_find(s, next_hop);

	return e && e->state != ARP_INCOMPLETE;
}

int arp_output(struct stack *s, uint32_t next_hop, struct pbuf *pb,
	       const struct stack_tx_offload *off)
{
	struct arp_entry *e = arp_find(s, next_hop);
	struct arp_queued *q, **tail;
	uint64_t now = stack_now(s);
	bool fresh = false;

	if (e && e->state != ARP_INCOMPLETE) {
		e->used = now;
		return ip4_xmit(s, e->mac, pb, off);
	}
	/* A queued datagram leaves whole and finished: the caller asked
	 * for offloads only towards a resolved next hop. */
	assert(!off || (!off->csum && !off->gso_size));
	if (!e) {
		e = arp_alloc(s, next_hop, true);
		if (!e) {
			STAT_INC(&s->stats, ARP_QUEUE_DROP);
			return -ENOBUFS;
		}
		e->updated = now;
		e->used = now;
		fresh = true;
	}
	q = NULL;
	if (e->qlen < s->p.arp_queue_len &&
	    s->arp_queued_bytes + pb->len <= ARP_QUEUE_BYTES_MAX)
		q = malloc(sizeof(*q) + pb->len);
	if (q) {
		/* pb is borrowed: keep a copy, whole (fragmented on send). */
		q->next = NULL;
		q->len = pb->len;
		memcpy(q->data, pbuf_data(pb), pb->len);
		for (tail = &e->q; *tail; tail = &(*tail)->next)
			;
		*tail = q;
		e->qlen++;
		s->arp_queued_bytes += q->len;
	} else {
		STAT_INC(&s->stats, ARP_QUEUE_DROP);
	}
	if (fresh) /* ask even when nothing could wait */
		arp_timeout(&e->timer, e);
	return q ? 0 : -ENOBUFS;
}

static void arp_announce_again(struct timer *t, void *arg)
{
	struct stack *s = arg;

	(void)t;
	arp_announce_now(s);
}

/* One gratuitous ARP for our address. */
static void arp_announce_now(struct stack *s)
{
	if (s->p.addr)
		arp_send(s, ARP_OP_REQUEST, eth_broadcast, zero_mac, s->p.addr);
}

/* Announce our address (RFC 5227 2.3): now and once more two seconds
 * later, so a neighbour that missed the first learns it too. */
void arp_announce(struct stack *s)
{
	arp_announce_now(s);
	timer_arm(&s->timers, &s->arp_announce_timer, stack_now(s),
		  ARP_ANNOUNCE_INTERVAL_MS);
}
