/* TCP connections and listeners: lifetime and the owner's calls. */
#include "net/tcp/tcp.h"
#include "net/core.h"
#include "net/tcp/tcp_isn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const tcp_state_names[TCP_NSTATES] = {
	[TCP_CLOSED] = "closed",
	[TCP_LISTEN] = "listen",
	[TCP_SYN_SENT] = "syn_sent",
	[TCP_SYN_RECEIVED] = "syn_received",
	[TCP_ESTABLISHED] = "established",
	[TCP_FIN_WAIT_1] = "fin_wait_1",
	[TCP_FIN_WAIT_2] = "fin_wait_2",
	[TCP_CLOSE_WAIT] = "close_wait",
	[TCP_CLOSING] = "closing",
	[TCP_LAST_ACK] = "last_ack",
	[TCP_TIME_WAIT] = "time_wait",
};

void tcp_params_default(struct tcp_params *p)
{
	p->max_conns = 4096;
	p->max_time_wait = 16384;
	p->syn_backlog = 256;
	p->sndbuf = 256 * 1024;
	p->rcvbuf = 256 * 1024;
	p->ooo_limit = 256 * 1024;
	p->memory_limit = 256u << 20;
	p->time_wait_ms = 60000;
	p->rto_min_ms = 200;
	p->rto_max_ms = 60000;
	p->rto_initial_ms = 1000;
	p->max_retries = 15;
	p->syn_retries = 5;
	p->delack_ms = 40;
	p->syncookies = true;
	p->cc = &tcp_cc_cubic;
	p->keepalive_idle_ms = 7200000; /* RFC 1122: no less than 2 hours */
	p->keepalive_intvl_ms = 75000;
	p->keepalive_probes = 9;
}

unsigned tcp_active_count(const struct stack *s)
{
	return s->tcp.count - s->tcp.by_state[TCP_TIME_WAIT];
}

static void tcp_mem_timer(struct timer *t, void *arg);

int tcp_init(struct stack *s, const struct stack_secrets *secrets)
{
	timer_init(&s->tcp.mem_timer, tcp_mem_timer, s);
	s->tcp.mem_waiters = NULL;
	memcpy(s->tcp.isn_key, secrets->isn_key, sizeof(s->tcp.isn_key));
	memcpy(s->tcp.cookie_key, secrets->cookie_key,
	       sizeof(s->tcp.cookie_key));
	listener_table_init(&s->tcp.listeners);
	return flow_table_init(&s->tcp.flows, 64, secrets->flow_key);
}

void tcp_fini(struct stack *s)
{
	timer_cancel(&s->timers, &s->tcp.mem_timer);
	for (size_t i = 0; i < s->tcp.flows.nbuckets; i++)
		while (s->tcp.flows.bucket && s->tcp.flows.bucket[i])
			tcp_destroy(flow_entry(s->tcp.flows.bucket[i],
					       struct tcp_conn, flow),
				    -ECONNABORTED);
	flow_table_fini(&s->tcp.flows);
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state st)
{
	struct tcp_stack *t = &c->s->tcp;

	t->by_state[c->state]--;
	t->by_state[st]++;
	if (c->listener && c->state == TCP_SYN_RECEIVED)
		c->listener->pending--;
	c->state = (uint8_t)st;
}

/* Unhook c from its owner: no more callbacks. */
static void tcp_release_owner(struct tcp_conn *c)
{
	c->cb = NULL;
	c->ctx = NULL;
	c->released = true;
}

/* ---- Memory pressure -----------------------------------------------------
 *
 * tcp_memory_limit bounds every connection's buffers together (struct
 * buf_pool); when it is reached, a buffer that would grow gets nothing.
 * Left at that, the memory would stay with whoever took it first: peers
 * that never read (a zero window, our send buffer full behind it) or that
 * send only beyond a hole (our out-of-order queue full) would keep every
 * other connection, new ones included, from sending a byte, and a module
 * refused memory would never hear that it came back.  So past 7/8 of the
 * limit no ring grows beyond a share (mem_share(): what is left goes to
 * many, not to the first few), and a refusal arms mem_timer, which
 *   1. while more than 7/8 of the limit is in use, frees out-of-order
 *      queues (data not acknowledged: the peer sends it again; RFC 2018 8
 *      lets a receiver discard what it SACKed), then aborts, with a reset,
 *      connections whose peer has kept a zero window for TCP_MEM_STALL_MS
 *      or more while data waits for it (counted as tcp_memory_aborts);
 *   2. tells the connections refused memory in tcp_send() that they may
 *      send (writable), those holding the least buffer memory first, so
 *      that a new connection is served before the ones already holding
 *      much;
 *   3. comes back every TCP_MEM_RETRY_MS while any still wait.
 * The limit itself is never exceeded. */

static void mem_wait_del(struct tcp_conn *c)
{
	if (!c->mem_wait)
		return;
	*c->mw_pprev = c->mw_next;
	if (c->mw_next)
		c->mw_next->mw_pprev = c->mw_pprev;
	c->mem_wait = false;
	c->mw_next = NULL;
	c->mw_pprev = NULL;
}

static void mem_wait_add(struct tcp_conn *c)
{
	struct tcp_stack *t = &c->s->tcp;

	if (c->mem_wait)
		return;
	c->mem_wait = true;
	c->mw_next = t->mem_waiters;
	if (c->mw_next)
		c->mw_next->mw_pprev = &c->mw_next;
	c->mw_pprev = &t->mem_waiters;
	t->mem_waiters = c;
}

void tcp_mem_pressure(struct stack *s)
{
	s->tcp.mem.refused = false;
	if (!timer_pending(&s->tcp.mem_timer))
		timer_arm(&s->timers, &s->tcp.mem_timer, stack_now(s), 0);
}

void tcp_note_wnd(struct tcp_conn *c, uint32_t wnd)
{
	if (wnd)
		c->zero_wnd_since = 0;
	else if (!c->zero_wnd_since)
		c->zero_wnd_since = stack_now(c->s) | 1; /* never 0 */
}

/* The share of a ring under pressure: the larger of 8 KiB and the limit
 * over twice the connections. */
static void mem_share(struct stack *s)
{
	struct tcp_stack *t = &s->tcp;
	size_t share = t->count ? t->mem.limit / (2 * (size_t)t->count) : 0;

	t->mem.share = share > 8192 ? share : 8192;
}

static size_t conn_mem(const struct tcp_conn *c)
{
	return c->snd.cap + c->rcv.cap + c->ooo.bytes;
}

/* Free memory until at most mark bytes are in use: out-of-order queues
 * first, then connections stalled behind a zero window. */
static void mem_reclaim(struct stack *s, size_t mark)
{
	struct tcp_stack *t = &s->tcp;
	struct tcp_conn *list = NULL, *c;
	uint64_t now = stack_now(s);

	for (size_t b = 0; b < t->flows.nbuckets && t->mem.used > mark; b++)
		for (struct flow *f = t->flows.bucket[b];
		     f && t->mem.used > mark; f = f->next) {
			c = flow_entry(f, struct tcp_conn, flow);
			if (!c->ooo.bytes)
				continue;
			STAT_INC(&s->stats, TCP_MEM_OOO_PRUNED);
			tcp_ooo_fini(&c->ooo);
		}
	if (t->mem.used <= mark)
		return;
	/* Choose first, then abort: an owner's closed() may change the
	 * table.  busy keeps every chosen one's memory until the end. */
	for (size_t b = 0; b < t->flows.nbuckets; b++)
		for (struct flow *f = t->flows.bucket[b]; f; f = f->next) {
			c = flow_entry(f, struct tcp_conn, flow);
			if (c->dead || !c->snd.len || c->snd_wnd ||
			    !c->zero_wnd_since ||
			    now - c->zero_wnd_since < TCP_MEM_STALL_MS)
				continue;
			c->busy++;
			c->reclaim_next = list;
			list = c;
		}
	while (list) {
		c = list;
		list = c->reclaim_next;
		if (!c->dead && t->mem.used > mark) {
			STAT_INC(&s->stats, TCP_MEM_ABORTS);
			tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK, c->snd_nxt);
			tcp_destroy(c, -ENOBUFS);
		}
		if (--c->busy == 0 && c->dead)
			free(c);
	}
}

/* Tell the connections refused memory that they may send again, those
 * holding the least buffer memory first (a pass per bound below), while
 * room is left. */
static void mem_wake(struct stack *s)
{
	static const size_t upto[] = {0, 8192, 65536, 524288, SIZE_MAX};
	struct tcp_stack *t = &s->tcp;
	struct tcp_conn *list = NULL, *c;

	for (c = t->mem_waiters; c; c = c->mw_next) {
		c->busy++;
		c->reclaim_next = list;
		list = c;
	}
	for (size_t pass = 0; pass < sizeof(upto) / sizeof(upto[0]); pass++)
		for (c = list; c; c = c->reclaim_next) {
			if (t->mem.used + 2 * 4096 > t->mem.limit)
				break;
			if (c->dead || !c->mem_wait || conn_mem(c) > upto[pass])
				continue;
			mem_wait_del(c);
			if (c->want_writable && tcp_send_room(c) && c->cb &&
			    c->cb->writable) {
				c->want_writable = false;
				c->cb->writable(c->ctx, c);
			}
		}
	while (list) {
		c = list;
		list = c->reclaim_next;
		if (--c->busy == 0 && c->dead)
			free(c);
	}
}

static void tcp_mem_timer(struct timer *tm, void *arg)
{
	struct stack *s = arg;
	struct tcp_stack *t = &s->tcp;

	(void)tm;
	t->mem.refused = false;
	mem_reclaim(s, t->mem.limit - t->mem.limit / 8);
	mem_wake(s);
	if (t->mem_waiters || t->mem.refused) {
		t->mem.refused = false;
		timer_arm(&s->timers, &t->mem_timer, stack_now(s),
			  TCP_MEM_RETRY_MS);
	}
}

void tcp_destroy(struct tcp_conn *c, int err)
{
	struct stack *s = c->s;
	const struct tcp_callbacks *cb = c->cb;
	void *ctx = c->ctx;

	if (c->dead)
		return;
	c->dead = true;
	c->cb = NULL;
	tcp_set_state(c, TCP_CLOSED);
	s->tcp.by_state[TCP_CLOSED]--;
	s->tcp.count--;
	flow_remove(&s->tcp.flows, &c->flow);
	mem_share(s);
	if (c->listener) {
		*c->lpprev = c->lnext;
		if (c->lnext)
			c->lnext->lpprev = c->lpprev;
		c->listener->count--;
	}
	timer_cancel(&s->timers, &c->rtx);
	timer_cancel(&s->timers, &c->delack);
	timer_cancel(&s->timers, &c->keepalive);
	timer_cancel(&s->timers, &c->rack);
	mem_wait_del(c);
	tcp_sb_fini(c);
	bytering_fini(&c->snd);
	bytering_fini(&c->rcv);
	tcp_ooo_fini(&c->ooo);
	if (cb && cb->closed)
		cb->closed(ctx, c, err);
	if (!c->busy)
		free(c);
}

int tcp_listen(struct stack *s, struct tcp_listener *l, uint16_t port,
	       const struct tcp_callbacks *cb, void *arg)
{
	if (port == 0)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->l.port = port;
	l->cb = cb;
	l->arg = arg;
	return listener_add(&s->tcp.listeners, &l->l);
}

/* The window scale that lets buf bytes be advertised (RFC 7323 2.2). */
uint8_t tcp_ws_for(uint32_t buf)
{
	uint8_t ws = 0;

	while (ws < TCP_MAX_WS && (buf >> ws) > 65535)
		ws++;
	return ws;
}

/* ---- Making connections -------------------------------------------------- */

struct tcp_conn *tcp_conn_new(struct stack *s, const struct flow_key *k,
			      struct tcp_listener *owner)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->flow.key = *k;
	if (flow_insert(&s->tcp.flows, &c->flow) < 0) {
		free(c);
		return NULL;
	}
	s->tcp.count++;
	s->tcp.by_state[TCP_CLOSED]++;
	c->state = TCP_CLOSED;
	c->listener = owner;
	c->lnext = owner->conns;
	if (c->lnext)
		c->lnext->lpprev = &c->lnext;
	c->lpprev = &owner->conns;
	owner->conns = c;
	owner->count++;
	bytering_init(&c->snd, s->p.tcp.sndbuf);
	bytering_init(&c->rcv, s->p.tcp.rcvbuf);
	tcp_ooo_init(&c->ooo, s->p.tcp.ooo_limit);
	s->tcp.mem.limit = s->p.tcp.memory_limit;
	mem_share(s);
	c->snd.pool = c->rcv.pool = c->ooo.pool = &s->tcp.mem;
	tcp_timers_init(c);
	c->nagle = true;
	c->reo_mult = 1;
	c->cc = s->p.tcp.cc;
	return c;
}

/* Active open (RFC 9293 3.10.1); see tcp.h. */
struct tcp_conn *tcp_connect(struct stack *s, struct tcp_listener *group,
			     const union inany *raddr, uint16_t rport,
			     const struct tcp_callbacks *cb, void *ctx,
			     int *err)
{
	struct flow_key k = {l3_source(s, raddr), *raddr, 0, rport};
	uint32_t r = tcp_isn(&k, s->tcp.isn_key, stack_now(s) * 1000);
	struct tcp_conn *c = NULL;

	*err = rport ? l3_reachable(s, raddr) : -EINVAL;
	if (*err)
		return NULL;
	if (tcp_active_count(s) >= s->p.tcp.max_conns) {
		*err = -ENOBUFS;
		return NULL;
	}
	/* An ephemeral port (RFC 6056): from a keyed starting point, the
	 * first free one in 49152..65535. */
	for (uint32_t i = 0; i < 16384 && !c; i++) {
		k.lport = (uint16_t)(49152 + (r + i) % 16384);
		if (!flow_lookup(&s->tcp.flows, &k))
			c = tcp_conn_new(s, &k, group);
	}
	if (!c) {
		*err = -ENOBUFS;
		return NULL;
	}
	c->cb = cb;
	c->ctx = ctx;
	c->iss = tcp_isn(&k, s->tcp.isn_key, stack_now(s) * 1000);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->snd_nxt;
	c->recover = c->iss;
	c->mss = (uint16_t)(pmtu_get(s, &k.raddr) - l3_hlen(&k.raddr) - TCP_HLEN);
	c->rcv_ws = tcp_ws_for(s->p.tcp.rcvbuf);
	c->cc->init(c);
	tcp_set_state(c, TCP_SYN_SENT);
	STAT_INC(&s->stats, TCP_ACTIVE_OPENS);
	tcp_send_ctl(c, TCP_FLAG_SYN, c->iss);
	tcp_arm_rtx(c);
	return c;
}

void tcp_group_init(struct tcp_listener *group)
{
	memset(group, 0, sizeof(*group));
}

void tcp_unlisten(struct stack *s, struct tcp_listener *l)
{
	if (l->l.port)
		listener_remove(&s->tcp.listeners, &l->l);
	/* Every connection is reset; its owner hears closed(). */
	while (l->conns) {
		struct tcp_conn *c = l->conns;

		if (c->state != TCP_TIME_WAIT && c->state != TCP_SYN_SENT)
			tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK, c->snd_nxt);
		tcp_destroy(c, -ECONNABORTED);
	}
}

const char *tcp_cc_phase(const struct tcp_conn *c)
{
	if (c->in_recovery)
		return "recovery";
	/* Until what was in flight at the timeout is acknowledged (the
	 * flag is also cleared then, so that no wrap of the sequence space
	 * brings it back). */
	if (c->ctr.loss && seq_lt(c->snd_una, c->ctr.loss_end))
		return "loss";
	return c->cwnd < c->ssthresh ? "slow_start" : "congestion_avoidance";
}

void tcp_foreach(struct stack *s, tcp_visit_fn fn, void *arg)
{
	const struct flow_table *t = &s->tcp.flows;

	for (size_t b = 0; b < t->nbuckets; b++)
		for (const struct flow *f = t->bucket[b]; f; f = f->next)
			fn(arg, flow_entry(f, const struct tcp_conn, flow));
}

size_t tcp_send_room(const struct tcp_conn *c)
{
	if (c->fin_queued || (c->state != TCP_ESTABLISHED &&
			      c->state != TCP_CLOSE_WAIT &&
			      c->state != TCP_SYN_RECEIVED &&
			      c->state != TCP_SYN_SENT))
		return 0;
	return bytering_room(&c->snd);
}

size_t tcp_send(struct tcp_conn *c, const void *data, size_t len)
{
	size_t n = 0;
	struct buf_pool *pool = c->snd.pool;
	bool refused = pool && pool->refused;

	if (pool)
		pool->refused = false;
	if (tcp_send_room(c))
		n = bytering_append(&c->snd, data, len);
	if (n < len)
		c->want_writable = true;
	if (pool && pool->refused) {
		/* Memory, not the buffer's own limit, stopped it. */
		mem_wait_add(c);
		tcp_mem_pressure(c->s);
	} else if (pool) {
		pool->refused = refused;
	}
	if (n)
		tcp_output(c);
	return n;
}

void tcp_shutdown(struct tcp_conn *c)
{
	if (c->fin_queued)
		return;
	switch (c->state) {
	case TCP_ESTABLISHED:
		c->fin_queued = true;
		tcp_set_state(c, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		c->fin_queued = true;
		tcp_set_state(c, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	tcp_output(c);
}

void tcp_close(struct tcp_conn *c)
{
	/* Inside recv(), the bytes it was offered count as read. */
	size_t offered = c->delivering ? c->delivering_n : 0;
	size_t unread = c->rcv.len > offered ? c->rcv.len - offered : 0;

	tcp_release_owner(c);
	/* Data the owner will never read: reset (RFC 1122 4.2.2.13). */
	if (unread || c->state == TCP_SYN_SENT) {
		tcp_abort(c);
		return;
	}
	tcp_shutdown(c);
	/* Already in FIN_WAIT_2: do not wait for the peer's FIN for ever. */
	if (c->state == TCP_FIN_WAIT_2) {
		timer_cancel(&c->s->timers, &c->rtx);
		timer_arm(&c->s->timers, &c->rtx, stack_now(c->s),
			  c->s->p.tcp.time_wait_ms);
	}
}

void tcp_abort(struct tcp_conn *c)
{
	tcp_release_owner(c);
	if (c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT &&
	    c->state != TCP_CLOSED)
		tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK, c->snd_nxt);
	tcp_destroy(c, -ECONNABORTED);
}

void tcp_set_nodelay(struct tcp_conn *c, bool on)
{
	c->nagle = !on;
	if (on)
		tcp_output(c);
}

void tcp_set_keepalive(struct tcp_conn *c, bool on)
{
	c->ka_on = on;
	c->ka_sent = 0;
	if (on)
		tcp_keepalive_touch(c);
	else
		timer_cancel(&c->s->timers, &c->keepalive);
}

void tcp_deliver(struct tcp_conn *c)
{
	const uint8_t *p;
	size_t n, took;
	uint16_t before = tcp_rcv_window(c);

	if (c->delivering)
		return; /* recv() called us back: the outer loop goes on */
	while (c->cb && c->cb->recv && (n = bytering_head_run(&c->rcv, &p))) {
		c->delivering = true;
		c->delivering_n = n;
		took = c->cb->recv(c->ctx, c, p, n);
		c->delivering = false;
		if (c->dead)
			return;
		if (took > n)
			took = n;
		bytering_consume(&c->rcv, took);
		if (took < n)
			break;
	}
	/* Nobody reads any more: what arrives is dropped, but acknowledged
	 * only until we reset (tcp_close() resets when data is pending). */
	if (!c->cb && c->rcv.len)
		bytering_consume(&c->rcv, c->rcv.len);
	/* A window that opened a lot is worth telling at once. */
	if (before == 0 && tcp_rcv_window(c) > 0)
		c->ack_now = true;
	/* The peer's FIN waited for the data before it to be taken. */
	if (c->fin_pending && !c->rcv.len) {
		c->fin_pending = false;
		tcp_fin_in_order(c);
	}
}

void tcp_recv_resume(struct tcp_conn *c)
{
	if (c->delivering)
		return; /* from inside recv(): delivery continues anyway */
	c->busy++;
	tcp_deliver(c);
	if (!c->dead)
		tcp_output(c);
	if (--c->busy == 0 && c->dead)
		free(c);
}
