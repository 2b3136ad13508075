/* The neighbour cache; see neigh.h for the theory of operation. */
#include "net/neigh.h"
#include "net/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void neigh_timeout(struct timer *tm, void *arg);

static void bump(struct neigh_table *t, int id)
{
	if (id >= 0)
		t->s->stats.v[id]++;
}

/* Fibonacci hashing of the address's last word: addresses on one link
 * differ there, and the table is small and never keyed by an outsider's
 * choice alone (entries are only made for next hops and for neighbours
 * that ask for us, with the bounds above). */
static unsigned neigh_hash(const struct neigh_table *t, const union inany *a)
{
	uint32_t w = (uint32_t)a->a[12] << 24 | (uint32_t)a->a[13] << 16 |
		     (uint32_t)a->a[14] << 8 | a->a[15];

	w ^= (uint32_t)a->a[8] << 24 | (uint32_t)a->a[9] << 16 |
	     (uint32_t)a->a[10] << 8 | a->a[11];
	return (w * 2654435761u) % t->p.size;
}

static struct neigh_entry *neigh_find(const struct neigh_table *t,
				      const union inany *a)
{
	uint32_t i;

	if (!t->e)
		return NULL;
	for (i = t->bucket[neigh_hash(t, a)]; i; i = t->e[i - 1].next)
		if (inany_eq(&t->e[i - 1].addr, a))
			return &t->e[i - 1];
	return NULL;
}

int neigh_init(struct neigh_table *t, struct stack *s,
	       const struct neigh_ops *ops, const struct neigh_stat_ids *ids,
	       const struct neigh_params *p)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->ops = ops;
	t->ids = *ids;
	t->p = *p;
	if (t->p.size == 0)
		t->p.size = 1;
	t->e = calloc(t->p.size, sizeof(*t->e));
	t->bucket = calloc(t->p.size, sizeof(*t->bucket));
	if (!t->e || !t->bucket) {
		free(t->e);
		free(t->bucket);
		t->e = NULL;
		t->bucket = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Drop what waits in e, counting packets (not their fragments). */
static void neigh_drop_queue(struct neigh_table *t, struct neigh_entry *e)
{
	while (e->q) {
		struct neigh_queued *q = e->q;

		e->q = q->next;
		t->queued_bytes -= q->len;
		if (q->first)
			bump(t, t->ids.unresolved_drop);
		free(q);
	}
	e->qlen = 0;
}

static void neigh_free_entry(struct neigh_table *t, struct neigh_entry *e)
{
	uint32_t idx = (uint32_t)(e - t->e) + 1;
	uint32_t *link = &t->bucket[neigh_hash(t, &e->addr)];

	while (*link != idx)
		link = &t->e[*link - 1].next;
	*link = e->next;
	timer_cancel(&t->s->timers, &e->timer);
	neigh_drop_queue(t, e);
	if (e->state == NEIGH_INCOMPLETE)
		t->incomplete--;
	if (e->state == NEIGH_PERMANENT)
		t->permanent--;
	e->state = NEIGH_FREE;
	e->next = 0;
	t->used--;
}

void neigh_fini(struct neigh_table *t)
{
	if (!t->e)
		return;
	for (unsigned i = 0; i < t->p.size; i++)
		if (t->e[i].state != NEIGH_FREE)
			neigh_free_entry(t, &t->e[i]);
	free(t->e);
	free(t->bucket);
	t->e = NULL;
	t->bucket = NULL;
}

/* The victim to make room: for a new INCOMPLETE entry when a quarter of the
 * table is resolving already, the oldest INCOMPLETE one; otherwise the
 * least recently updated resolved entry that is not the router's. */
static struct neigh_entry *neigh_victim(struct neigh_table *t, bool incomplete)
{
	struct neigh_entry *victim = NULL;

	for (unsigned i = 0; i < t->p.size; i++) {
		struct neigh_entry *c = &t->e[i];

		if ((c->state == NEIGH_INCOMPLETE) != incomplete ||
		    c->state == NEIGH_PERMANENT ||
		    (!inany_is_unspec(&t->keep) && inany_eq(&c->addr, &t->keep)))
			continue;
		/* A STALE entry goes before one in use (RFC 6583 7.1). */
		if (!victim ||
		    (c->state == NEIGH_STALE && victim->state != NEIGH_STALE) ||
		    ((c->state == NEIGH_STALE) == (victim->state == NEIGH_STALE) &&
		     c->updated < victim->updated))
			victim = c;
	}
	return victim;
}

/* A slot for a, to be made INCOMPLETE (resolving) or filled at once.  NULL
 * when nothing may be evicted. */
static struct neigh_entry *neigh_alloc(struct neigh_table *t,
				       const union inany *a, bool resolving)
{
	struct neigh_entry *e = NULL;
	unsigned max_incomplete = t->p.size / 4 ? t->p.size / 4 : 1;
	unsigned h;

	if (!t->e)
		return NULL;
	if (resolving && t->incomplete >= max_incomplete)
		e = neigh_victim(t, true);
	for (unsigned i = 0; i < t->p.size && !e; i++)
		if (t->e[i].state == NEIGH_FREE)
			e = &t->e[i];
	if (!e)
		e = neigh_victim(t, false);
	if (!e)
		return NULL;
	if (e->state != NEIGH_FREE) {
		neigh_free_entry(t, e);
		bump(t, t->ids.evict);
	}
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->addr = *a;
	timer_init(&e->timer, neigh_timeout, e);
	h = neigh_hash(t, a);
	e->next = t->bucket[h];
	t->bucket[h] = (uint32_t)(e - t->e) + 1;
	t->used++;
	if (resolving) {
		e->state = NEIGH_INCOMPLETE;
		t->incomplete++;
	}
	return e;
}

/* The NUD states' timer (RFC 4861 7.3.3). */
static void neigh_nud_timeout(struct neigh_table *t, struct neigh_entry *e,
			      uint64_t now)
{
	switch (e->state) {
	case NEIGH_REACHABLE:
		e->state = NEIGH_STALE;
		timer_arm(&t->s->timers, &e->timer, now, t->p.stale_ms);
		break;
	case NEIGH_STALE: /* unused all this while */
		bump(t, t->ids.expire);
		neigh_free_entry(t, e);
		break;
	case NEIGH_DELAY:
		e->state = NEIGH_PROBE;
		e->tries = 0;
		__attribute__((fallthrough));
	case NEIGH_PROBE:
		if (e->tries >= t->p.retries) {
			bump(t, t->ids.resolve_fail);
			neigh_free_entry(t, e);
			return;
		}
		e->tries++;
		t->ops->solicit(t->s, &e->addr, e->mac);
		timer_arm(&t->s->timers, &e->timer, now, t->p.retry_ms);
		break;
	default:
		break;
	}
}

static void neigh_timeout(struct timer *tm, void *arg)
{
	struct neigh_entry *e = arg;
	struct neigh_table *t = e->t;
	uint64_t now = stack_now(t->s);

	(void)tm;
	if (t->p.nud && e->state != NEIGH_INCOMPLETE) {
		neigh_nud_timeout(t, e, now);
		return;
	}
	switch (e->state) {
	case NEIGH_REACHABLE:
		if (now - e->used >= t->p.timeout_ms) {
			bump(t, t->ids.expire);
			neigh_free_entry(t, e);
			return;
		}
		e->state = NEIGH_STALE;
		e->tries = 0;
		/* re-ask the neighbour by unicast */
		__attribute__((fallthrough));
	case NEIGH_STALE:
	case NEIGH_INCOMPLETE:
		if (e->tries >= t->p.retries) {
			bump(t, e->state == NEIGH_INCOMPLETE ? t->ids.resolve_fail
							     : t->ids.expire);
			neigh_free_entry(t, e);
			return;
		}
		e->tries++;
		t->ops->solicit(t->s, &e->addr,
				e->state == NEIGH_STALE ? e->mac : NULL);
		timer_arm(&t->s->timers, &e->timer, now, t->p.retry_ms);
		break;
	default:
		break;
	}
}

/* Mark e resolved to mac and send, in order, what waited for it.  Only a
 * protocol's input gets here, so the stack's tx buffer is free to carry
 * the frames. */
static void neigh_resolved(struct neigh_table *t, struct neigh_entry *e,
			   const uint8_t *mac)
{
	struct stack *s = t->s;
	uint64_t now = stack_now(s);

	if (e->state == NEIGH_INCOMPLETE)
		t->incomplete--;
	memcpy(e->mac, mac, sizeof(e->mac));
	e->state = NEIGH_REACHABLE;
	e->tries = 0;
	e->updated = now;
	timer_arm(&s->timers, &e->timer, now, t->p.timeout_ms);
	while (e->q) {
		struct neigh_queued *q = e->q;
		struct pbuf *pb = &s->tx;

		e->q = q->next;
		t->queued_bytes -= q->len;
		pbuf_reset(pb);
		memcpy(pbuf_put(pb, q->len), q->data, q->len);
		eth_output(s, e->mac, q->type, pb, NULL);
		free(q);
	}
	e->qlen = 0;
}

bool neigh_confirm(struct neigh_table *t, const union inany *addr,
		   const uint8_t *mac)
{
	struct neigh_entry *e = neigh_find(t, addr);

	if (!e)
		return false;
	if (e->state != NEIGH_PERMANENT) /* configured: not for packets */
		neigh_resolved(t, e, mac);
	return true;
}

void neigh_learn(struct neigh_table *t, const union inany *addr,
		 const uint8_t *mac)
{
	struct neigh_entry *e;

	if (neigh_confirm(t, addr, mac))
		return;
	e = neigh_alloc(t, addr, false);
	if (e) {
		neigh_resolved(t, e, mac);
		e->used = e->updated;
	}
}

bool neigh_update(struct neigh_table *t, const union inany *addr,
		  const uint8_t *mac, unsigned how)
{
	struct neigh_entry *e = neigh_find(t, addr);
	uint64_t now = stack_now(t->s);
	bool changed;

	if (e && e->state == NEIGH_PERMANENT)
		return true; /* configured: no packet changes it */
	if (!e) {
		if (!(how & NEIGH_CREATE) || !mac)
			return false;
		e = neigh_alloc(t, addr, false);
		if (!e)
			return false;
		/* Learnt, not confirmed: STALE (RFC 4861 7.2.3). */
		memcpy(e->mac, mac, sizeof(e->mac));
		e->state = NEIGH_STALE;
		e->updated = e->used = now;
		timer_arm(&t->s->timers, &e->timer, now, t->p.stale_ms);
		return true;
	}
	if (e->state == NEIGH_INCOMPLETE) {
		if (!mac)
			return true; /* nothing to resolve it with */
		neigh_resolved(t, e, mac);
		if (!(how & NEIGH_SOLICITED)) {
			e->state = NEIGH_STALE;
			timer_arm(&t->s->timers, &e->timer, now, t->p.stale_ms);
		}
		return true;
	}
	changed = mac && memcmp(mac, e->mac, sizeof(e->mac)) != 0;
	if (how & NEIGH_CREATE) {
		/* A solicitation with a new address: take it, unconfirmed. */
		if (changed) {
			memcpy(e->mac, mac, sizeof(e->mac));
			e->state = NEIGH_STALE;
			e->updated = now;
			timer_arm(&t->s->timers, &e->timer, now, t->p.stale_ms);
		}
		return true;
	}
	/* An advertisement (7.2.5): without the override flag a new link
	 * address is only a hint that ours may be old. */
	if (changed && !(how & NEIGH_OVERRIDE)) {
		if (e->state == NEIGH_REACHABLE) {
			e->state = NEIGH_STALE;
			timer_arm(&t->s->timers, &e->timer, now, t->p.stale_ms);
		}
		return true;
	}
	if (changed)
		memcpy(e->mac, mac, sizeof(e->mac));
	if (how & NEIGH_SOLICITED) {
		neigh_resolved(t, e, e->mac);
	} else if (changed) {
		e->state = NEIGH_STALE;
		e->updated = now;
		timer_arm(&t->s->timers, &e->timer, now, t->p.stale_ms);
	}
	return true;
}

/* Drop the pieces of the last packet on e's queue (the one a later piece
 * could not join). */
static void neigh_drop_last(struct neigh_table *t, struct neigh_entry *e)
{
	struct neigh_queued **start = NULL, **pp, *q;

	for (pp = &e->q; *pp; pp = &(*pp)->next)
		if ((*pp)->first)
			start = pp;
	if (!start)
		return;
	while ((q = *start)) {
		*start = q->next;
		t->queued_bytes -= q->len;
		free(q);
	}
	e->qlen--;
}

/* What neigh_enqueue() did with a piece. */
enum neigh_fate {
	NEIGH_QUEUED,
	NEIGH_DROPPED,       /* the piece's packet is lost: count it */
	NEIGH_DROPPED_AGAIN, /* a further piece of a packet counted lost */
};

/* Keep a copy of pb on e's queue, within the bounds.  A NEIGH_MORE piece
 * follows the fate of the packet it belongs to: when it cannot be kept,
 * neither is the rest of its packet. */
static enum neigh_fate neigh_enqueue(struct neigh_table *t,
				     struct neigh_entry *e, uint16_t type,
				     const struct pbuf *pb, unsigned flags)
{
	bool more = flags & NEIGH_MORE;
	struct neigh_queued *q = NULL, **tail;

	if (more && e->last_dropped)
		return NEIGH_DROPPED_AGAIN;
	if ((more || e->qlen < t->p.queue_len) &&
	    t->queued_bytes + pb->len <= t->p.queue_bytes)
		q = malloc(sizeof(*q) + pb->len);
	if (!q) {
		/* What of the packet waits already goes with it. */
		if (more)
			neigh_drop_last(t, e);
		e->last_dropped = true;
		return NEIGH_DROPPED;
	}
	q->next = NULL;
	q->type = type;
	q->first = !more;
	q->len = pb->len;
	memcpy(q->data, pb->buf + pb->off, pb->len);
	for (tail = &e->q; *tail; tail = &(*tail)->next)
		;
	*tail = q;
	if (!more)
		e->qlen++;
	t->queued_bytes += q->len;
	e->last_dropped = false;
	return NEIGH_QUEUED;
}

int neigh_output(struct neigh_table *t, const union inany *next_hop,
		 uint16_t type, struct pbuf *pb,
		 const struct stack_tx_offload *off, unsigned flags)
{
	struct neigh_entry *e = neigh_find(t, next_hop);
	uint64_t now = stack_now(t->s);
	enum neigh_fate fate;
	bool fresh = false;

	if (e && e->state != NEIGH_INCOMPLETE) {
		e->used = now;
		if (t->p.nud && e->state == NEIGH_STALE) {
			/* Used again: confirm it soon (RFC 4861 7.3.3). */
			e->state = NEIGH_DELAY;
			timer_arm(&t->s->timers, &e->timer, now,
				  t->p.delay_ms);
		}
		return eth_output(t->s, e->mac, type, pb, off);
	}
	/* What waits leaves whole and finished: offloads may be asked for
	 * only towards a resolved next hop (neigh_ready()), and a frame
	 * that breaks that rule is refused rather than queued unfinished. */
	if (off && (off->csum || off->gso_size)) {
		bump(t, t->ids.queue_drop);
		return -EINVAL;
	}
	if (!e) {
		/* A further piece whose first found no entry: counted. */
		if (flags & NEIGH_MORE)
			return -ENOBUFS;
		e = neigh_alloc(t, next_hop, true);
		if (!e) {
			bump(t, t->ids.queue_drop);
			return -ENOBUFS;
		}
		e->updated = now;
		e->used = now;
		fresh = true;
	}
	fate = neigh_enqueue(t, e, type, pb, flags);
	if (fate == NEIGH_DROPPED)
		bump(t, t->ids.queue_drop);
	if (fresh) /* ask even when nothing could wait */
		neigh_timeout(&e->timer, e);
	return fate == NEIGH_QUEUED ? 0 : -ENOBUFS;
}

int neigh_lookup(const struct neigh_table *t, const union inany *addr,
		 uint8_t mac[6])
{
	const struct neigh_entry *e = neigh_find(t, addr);

	if (!e || e->state == NEIGH_INCOMPLETE)
		return -ENOENT;
	memcpy(mac, e->mac, 6);
	return 0;
}

bool neigh_ready(const struct neigh_table *t, const union inany *addr)
{
	const struct neigh_entry *e = neigh_find(t, addr);

	return e && e->state != NEIGH_INCOMPLETE;
}

int neigh_set_static(struct neigh_table *t, const union inany *addr,
		     const uint8_t *mac)
{
	struct neigh_entry *e = neigh_find(t, addr);

	if (e && e->state == NEIGH_PERMANENT) {
		memcpy(e->mac, mac, sizeof(e->mac));
		e->updated = stack_now(t->s);
		return 0;
	}
	if (t->permanent + 1 >= t->p.size)
		return -ENOSPC;
	if (!e)
		e = neigh_alloc(t, addr, false);
	if (!e)
		return -ENOSPC;
	neigh_resolved(t, e, mac); /* sends what waited */
	timer_cancel(&t->s->timers, &e->timer);
	e->state = NEIGH_PERMANENT;
	t->permanent++;
	return 0;
}

void neigh_clear_static(struct neigh_table *t)
{
	for (unsigned i = 0; t->e && i < t->p.size; i++)
		if (t->e[i].state == NEIGH_PERMANENT)
			neigh_free_entry(t, &t->e[i]);
}

void neigh_foreach(const struct neigh_table *t, neigh_visit_fn fn, void *arg)
{
	static const char *const names[] = {"free",  "incomplete", "reachable",
					    "stale", "delay",      "probe",
					    "permanent"};
	uint64_t now;

	if (!t->e)
		return;
	now = stack_now(t->s);
	for (unsigned i = 0; i < t->p.size; i++) {
		const struct neigh_entry *e = &t->e[i];

		if (e->state == NEIGH_FREE)
			continue;
		fn(arg, &e->addr, e->mac, names[e->state],
		   now > e->updated ? now - e->updated : 0);
	}
}
