/*
 * Module loader, host API and the reload transaction.
 *
 * Theory of operation.  A running module is a struct tapir_host: the
 * dlopen() handle, the module's descriptor and state, and every resource it
 * obtained through the host API (UDP ports, timers, counters), so that
 * whatever a module forgets in fini() is still released.  The host API table
 * handed to init() points at the functions below; each takes the host (or a
 * resource that knows its host) and reaches the stack through it.
 *
 * A reload is a transaction in two phases.  Prepare: for each module the new
 * file lists, dlopen it (a module already running is simply referenced
 * again), check its ABI and its setting descriptors, read its section
 * against them (modconf.c: unknown keys, types, ranges) and run its
 * check() on the settings struct that fills.  Nothing running is touched,
 * so a failure anywhere leaves the old configuration intact after abort.  Commit, in three passes: stop the
 * modules no longer listed, reconfigure those whose section text changed,
 * then init the new ones (so ports given up are free for them).  Modules
 * are matched by name and path; a change of path is a remove plus an add,
 * and the old instance is not brought back if the new one fails to start.
 * Running modules keep the order in which they were started.
 */
#include "daemon/modhost.h"
#include "daemon/entropy.h"
#include "daemon/log.h"
#include "daemon/modconf.h"
#include "daemon/pubsub.h"
#include "daemon/tls.h"
#include "version.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tapir_udp {
	struct udp_binding b;
	struct tapir_host *h;
	struct tapir_udp *next;
	tapir_udp_recv_fn fn; /* the module's receiver */
	void *arg;
};

struct tapir_timer {
	struct timer t;
	struct tapir_host *h;
	tapir_timer_fn fn;
	void *arg;
	struct tapir_timer *next;
};

/* A module's TCP listener: the stack's listener plus the module's
 * handlers, which the adapters below call with the opaque handle. */
struct tapir_tcp_listener {
	struct tcp_listener tl;
	struct tapir_host *h;
	const struct tapir_tcp_handlers *cb;
	void *arg;
	bool gone; /* the module is gone: call nothing */
	struct tls_listener *tls; /* a TLS listener's layer (host API 5) */
	struct tapir_tcp_listener *next;
};

/* A module's receiver of one ICMPv6 type (Router Solicitation). */
struct tapir_icmp6 {
	struct tapir_host *h;
	uint8_t type;
	tapir_icmp6_recv_fn fn;
	void *arg;
};

/* An echo request of a module's, until its reply, timeout or error. */
struct tapir_ping {
	struct timer t;
	struct tapir_host *h;
	union inany addr;
	uint16_t seq;
	uint64_t sent_ms;
	int err; /* the send failed: reported when the timer fires */
	tapir_ping_fn fn;
	void *arg;
	struct tapir_ping *next;
};

/* A group a module joined, and how many times. */
struct host_mcast {
	union inany g;
	unsigned n;
};

struct mod_counter {
	struct mod_counter *next;
	uint64_t v;
	char name[];
};

/* A histogram of a module (host API 6); h is what the module observes
 * into. */
struct mod_hist {
	struct mod_hist *next;
	struct tapir_histogram h;
	char *help;
	char name[];
};

struct tapir_host {
	struct tapir_host *next;
	struct modules *set;
	char *name;
	char *path;
	void *dl;
	const struct tapir_module *desc;
	void *state;
	char *text;
	struct tapir_udp *udps;
	struct tapir_timer *timers;
	struct tapir_tcp_listener *listeners;
	struct tapir_tcp_listener *group; /* owns its tcp_connect()s */
	struct mod_counter *counters;
	struct mod_hist *hists;
	struct host_mcast mcast[TAPIR_MCAST_MAX];
	unsigned nmcast;
	bool router; /* set_router(true) in force */
	struct tapir_host_api api; /* as large as the module knows it */
};

/* ---- host API ---------------------------------------------------------- */

static void host_log(struct tapir_host *h, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void host_log(struct tapir_host *h, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, h->name, fmt, ap);
	va_end(ap);
}

static uint64_t host_now_ms(struct tapir_host *h)
{
	return stack_now_ms(h->set->stack);
}

/* The want-th preferred IPv6 address (0: the first). */
struct addr6_pick {
	unsigned want, seen;
	bool found;
	union inany a;
	unsigned prefix;
};

static void addr6_pick(void *arg, const union inany *a, unsigned prefix,
		       const char *state)
{
	struct addr6_pick *p = arg;

	if (p->found || strcmp(state, "preferred") != 0)
		return;
	if (p->seen++ == p->want) {
		p->found = true;
		p->a = *a;
		p->prefix = prefix;
	}
}

static int host_if_addr(struct tapir_host *h, unsigned i,
			struct tapir_addr *addr, unsigned *prefix)
{
	struct addr6_pick pick = {.want = i - 1};

	if (i == 0) {
		const struct stack_params *p = stack_get_params(h->set->stack);

		if (addr)
			*addr = tapir_addr_from_v4(p->addr);
		if (prefix)
			*prefix = p->prefix;
		return 0;
	}
	stack_foreach_addr6(h->set->stack, addr6_pick, &pick);
	if (!pick.found)
		return -ENOENT;
	if (addr)
		memcpy(addr->b, pick.a.a, sizeof(addr->b));
	if (prefix)
		*prefix = pick.prefix;
	return 0;
}

/* The ABI's address and the core's are the same 16 bytes (IPv4 mapped
 * into IPv6, network order): the core refuses a family it does not speak
 * (-EAFNOSUPPORT), so the host passes addresses through. */
static union inany inany_of(const struct tapir_addr *a)
{
	union inany x;

	memcpy(x.a, a->b, sizeof(x.a));
	return x;
}

static struct tapir_addr tapir_addr_of(const union inany *x)
{
	struct tapir_addr a;

	memcpy(a.b, x->a, sizeof(a.b));
	return a;
}

/* The core's delivery, adapted to the module ABI. */
static void host_udp_recv(void *arg, const struct udp_meta *m,
			  const uint8_t *data, size_t len)
{
	struct tapir_udp *u = arg;
	struct tapir_udp_meta mm = {
		.src_ip = tapir_addr_of(&m->src),
		.dst_ip = tapir_addr_of(&m->dst),
		.src_port = m->src_port,
		.dst_port = m->dst_port,
		.broadcast = m->broadcast,
	};

	memcpy(mm.src_mac, m->src_mac, sizeof(mm.src_mac));
	u->fn(u->arg, &mm, data, len);
}

static struct tapir_udp *host_udp_bind(struct tapir_host *h, uint16_t port,
				       tapir_udp_recv_fn fn, void *arg)
{
	struct tapir_udp *u = calloc(1, sizeof(*u));
	int err;

	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->b.port = port;
	u->b.fn = host_udp_recv;
	u->b.arg = u;
	u->fn = fn;
	u->arg = arg;
	u->h = h;
	err = udp_bind(h->set->stack, &u->b);
	if (err) {
		free(u);
		errno = -err;
		return NULL;
	}
	u->next = h->udps;
	h->udps = u;
	return u;
}

static void host_udp_unbind(struct tapir_udp *u)
{
	struct tapir_udp **pp;

	if (!u)
		return;
	for (pp = &u->h->udps; *pp && *pp != u; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = u->next;
	udp_unbind(u->h->set->stack, &u->b);
	free(u);
}

static int host_udp_send(struct tapir_udp *u, const struct tapir_udp_dst *dst,
			 const void *data, size_t len)
{
	struct udp_dst d = {
		.addr = inany_of(&dst->ip),
		.port = dst->port,
		.mac = dst->mac,
		.src = inany_of(&dst->src_ip),
	};

	return udp_output(u->h->set->stack, u->b.port, &d, data, len);
}

static void host_timer_fire(struct timer *t, void *arg)
{
	struct tapir_timer *mt = arg;

	(void)t;
	mt->fn(mt->arg);
}

static struct tapir_timer *host_timer_new(struct tapir_host *h,
					  tapir_timer_fn fn, void *arg)
{
	struct tapir_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	timer_init(&t->t, host_timer_fire, t);
	t->h = h;
	t->fn = fn;
	t->arg = arg;
	t->next = h->timers;
	h->timers = t;
	return t;
}

static void host_timer_arm(struct tapir_timer *t, uint64_t delay_ms)
{
	struct stack *s = t->h->set->stack;

	stack_timer_arm(s, &t->t, delay_ms);
}

static void host_timer_cancel(struct tapir_timer *t)
{
	stack_timer_cancel(t->h->set->stack, &t->t);
}

static void host_timer_free(struct tapir_timer *t)
{
	struct tapir_timer **pp;

	if (!t)
		return;
	host_timer_cancel(t);
	for (pp = &t->h->timers; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	free(t);
}

static uint64_t *host_counter(struct tapir_host *h, const char *name)
{
	struct mod_counter *c;
	size_t len = strlen(name);

	for (c = h->counters; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return &c->v;
	if (len > 64)
		return NULL;
	c = calloc(1, sizeof(*c) + len + 1);
	if (!c)
		return NULL;
	memcpy(c->name, name, len + 1);
	c->next = h->counters;
	h->counters = c;
	return &c->v;
}

static struct tapir_histogram *host_histogram(struct tapir_host *h,
					       const char *name,
					       const char *help)
{
	struct mod_hist *m, **pp;
	size_t len = name ? strlen(name) : 0;
	unsigned n = 0;

	if (!len || len > TAPIR_HIST_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		errno = EINVAL;
		return NULL;
	}
	for (m = h->hists; m; m = m->next, n++)
		if (strcmp(m->name, name) == 0)
			return &m->h;
	if (n >= TAPIR_HIST_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	m = calloc(1, sizeof(*m) + len + 1);
	if (!m)
		return NULL;
	memcpy(m->name, name, len + 1);
	if (help && *help) {
		/* One line of HELP text: at most 200 bytes, control
		 * characters (line breaks) as spaces; the report escapes
		 * backslashes. */
		m->help = strndup(help, 200);
		if (!m->help) {
			free(m);
			return NULL;
		}
		for (char *p = m->help; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	}
	/* In registration order, as the counters' reports list them. */
	pp = &h->hists;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	return &m->h;
}

static uint64_t host_now_us(struct tapir_host *h)
{
	struct timespec ts;

	(void)h;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* TCP: the stack calls these, they call the module. */
static const struct tapir_tcp_handlers *tcp_handlers(struct tcp_conn *c)
{
	struct tapir_tcp_listener *wl;

	if (!c->listener)
		return NULL;
	wl = (struct tapir_tcp_listener *)(void *)c->listener;
	if (wl->gone)
		return NULL;
	/* An active open carries its own handlers. */
	if (c->owner_data)
		return c->owner_data;
	return wl->cb;
}

static void *tcp_adapt_accepted(void *arg, struct tcp_conn *c)
{
	struct tapir_tcp_listener *wl = arg;

	if (wl->gone || !wl->cb || !wl->cb->accepted)
		return NULL;
	return wl->cb->accepted(wl->arg, (struct tapir_tcp *)c);
}

static size_t tcp_adapt_recv(void *ctx, struct tcp_conn *c,
			     const uint8_t *data, size_t len)
{
	const struct tapir_tcp_handlers *cb = tcp_handlers(c);

	if (!cb || !cb->recv)
		return len;
	return cb->recv(ctx, (struct tapir_tcp *)c, data, len);
}

static void tcp_adapt_writable(void *ctx, struct tcp_conn *c)
{
	const struct tapir_tcp_handlers *cb = tcp_handlers(c);

	if (cb && cb->writable)
		cb->writable(ctx, (struct tapir_tcp *)c);
}

static void tcp_adapt_peer_closed(void *ctx, struct tcp_conn *c)
{
	const struct tapir_tcp_handlers *cb = tcp_handlers(c);

	if (cb && cb->peer_closed)
		cb->peer_closed(ctx, (struct tapir_tcp *)c);
}

static void tcp_adapt_closed(void *ctx, struct tcp_conn *c, int err)
{
	const struct tapir_tcp_handlers *cb = tcp_handlers(c);

	if (cb && cb->closed)
		cb->closed(ctx, (struct tapir_tcp *)c, err);
}

static void tcp_adapt_connected(void *ctx, struct tcp_conn *c)
{
	const struct tapir_tcp_handlers *cb = tcp_handlers(c);

	if (cb && cb->connected)
		cb->connected(ctx, (struct tapir_tcp *)c);
}

static const struct tcp_callbacks tcp_adapters = {
	.accepted = tcp_adapt_accepted,
	.recv = tcp_adapt_recv,
	.writable = tcp_adapt_writable,
	.peer_closed = tcp_adapt_peer_closed,
	.closed = tcp_adapt_closed,
	.connected = tcp_adapt_connected,
};

static struct tapir_tcp *host_tcp_connect(struct tapir_host *h,
					  const struct tapir_addr *addr,
					  uint16_t port,
					  const struct tapir_tcp_handlers *cb,
					  void *ctx)
{
	union inany to = inany_of(addr);
	struct tcp_conn *c;
	int err;

	if (!h->group) {
		h->group = calloc(1, sizeof(*h->group));
		if (!h->group) {
			errno = ENOMEM;
			return NULL;
		}
		tcp_group_init(&h->group->tl);
		h->group->h = h;
	}
	c = tcp_connect(h->set->stack, &h->group->tl, &to, port, &tcp_adapters,
			ctx, &err);
	if (!c) {
		errno = -err;
		return NULL;
	}
	c->owner_data = cb;
	return (struct tapir_tcp *)c;
}

static struct tapir_tcp_listener *
host_tcp_listen(struct tapir_host *h, uint16_t port,
		const struct tapir_tcp_handlers *cb, void *arg)
{
	struct tapir_tcp_listener *wl = calloc(1, sizeof(*wl));
	int err;

	if (!wl) {
		errno = ENOMEM;
		return NULL;
	}
	wl->h = h;
	wl->cb = cb;
	wl->arg = arg;
	err = tcp_listen(h->set->stack, &wl->tl, port, &tcp_adapters, wl);
	if (err) {
		free(wl);
		errno = -err;
		return NULL;
	}
	wl->next = h->listeners;
	h->listeners = wl;
	return wl;
}

static void host_tcp_unlisten(struct tapir_tcp_listener *wl)
{
	struct tapir_tcp_listener **pp;

	if (!wl)
		return;
	for (pp = &wl->h->listeners; *pp && *pp != wl; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = wl->next;
	if (wl->tls && wl->gone)
		tls_listener_gone(wl->tls);
	tcp_unlisten(wl->h->set->stack, &wl->tl);
	tls_listener_free(wl->tls);
	free(wl);
}

static size_t host_tcp_send(struct tapir_tcp *c, const void *data, size_t len)
{
	if (tls_is((struct tcp_conn *)c))
		return tls_send((struct tcp_conn *)c, data, len);
	return tcp_send((struct tcp_conn *)c, data, len);
}

static size_t host_tcp_send_room(struct tapir_tcp *c)
{
	if (tls_is((struct tcp_conn *)c))
		return tls_send_room((struct tcp_conn *)c);
	return tcp_send_room((struct tcp_conn *)c);
}

static void host_tcp_shutdown(struct tapir_tcp *c)
{
	if (tls_is((struct tcp_conn *)c))
		tls_shutdown((struct tcp_conn *)c);
	else
		tcp_shutdown((struct tcp_conn *)c);
}

static void host_tcp_close(struct tapir_tcp *c)
{
	if (tls_is((struct tcp_conn *)c))
		tls_close((struct tcp_conn *)c);
	else
		tcp_close((struct tcp_conn *)c);
}

static void host_tcp_abort(struct tapir_tcp *c)
{
	if (tls_is((struct tcp_conn *)c))
		tls_abort((struct tcp_conn *)c);
	else
		tcp_abort((struct tcp_conn *)c);
}

static void host_tcp_recv_resume(struct tapir_tcp *c)
{
	if (tls_is((struct tcp_conn *)c))
		tls_recv_resume((struct tcp_conn *)c);
	else
		tcp_recv_resume((struct tcp_conn *)c);
}

static void host_tcp_set_nodelay(struct tapir_tcp *c, bool nodelay)
{
	tcp_set_nodelay((struct tcp_conn *)c, nodelay);
}

static void host_tcp_set_keepalive(struct tapir_tcp *c, bool on)
{
	tcp_set_keepalive((struct tcp_conn *)c, on);
}

static void host_tcp_peer(struct tapir_tcp *c, struct tapir_addr *addr,
			  uint16_t *port)
{
	const struct tcp_conn *tc = (const struct tcp_conn *)c;

	if (addr)
		*addr = tapir_addr_of(&tc->flow.key.raddr);
	if (port)
		*port = tc->flow.key.rport;
}

/* TLS listeners (host API 5): the stack calls tls.c, which calls the
 * module with plaintext; its counters are the module's. */
static struct tapir_tcp_listener *
host_tcp_listen_tls(struct tapir_host *h, uint16_t port,
		    const config_setting_t *tls, const char *alpn,
		    const struct tapir_tcp_handlers *cb, void *arg)
{
	struct tapir_tcp_listener *wl;
	struct tls_counters ctr = {
		.handshakes = host_counter(h, "tls_handshakes"),
		.resumed = host_counter(h, "tls_resumed"),
		.tls12 = host_counter(h, "tls_version_12"),
		.tls13 = host_counter(h, "tls_version_13"),
		.fail_timeout = host_counter(h, "tls_fail_timeout"),
		.fail_limit = host_counter(h, "tls_fail_limit"),
		.fail_proto = host_counter(h, "tls_fail_protocol"),
		.fail_eof = host_counter(h, "tls_fail_eof"),
		.truncated = host_counter(h, "tls_truncated"),
	};
	char err[600];
	int rc;

	if (!tls || !cb) {
		errno = EINVAL;
		return NULL;
	}
	wl = calloc(1, sizeof(*wl));
	if (!wl) {
		errno = ENOMEM;
		return NULL;
	}
	wl->h = h;
	wl->cb = cb;
	wl->arg = arg;
	wl->tls = tls_listener_new(h->set->stack, tls, alpn, cb, arg, &ctr,
				   h->name, err, sizeof(err));
	if (!wl->tls) {
		log_err("module %s: TLS on port %u: %s", h->name, port, err);
		free(wl);
		errno = EINVAL;
		return NULL;
	}
	rc = tcp_listen(h->set->stack, &wl->tl, port, &tls_tcp_callbacks,
			wl->tls);
	if (rc) {
		tls_listener_free(wl->tls);
		free(wl);
		errno = -rc;
		return NULL;
	}
	wl->next = h->listeners;
	h->listeners = wl;
	return wl;
}

static int host_tls_update(struct tapir_tcp_listener *wl,
			   const config_setting_t *tls)
{
	char err[600];

	if (!wl || !wl->tls || !tls)
		return -EINVAL;
	if (tls_listener_update(wl->tls, tls, err, sizeof(err)) < 0) {
		log_err("module %s: TLS: %s (the old settings stay)",
			wl->h->name, err);
		return -EINVAL;
	}
	return 0;
}

static int host_tls_info(struct tapir_tcp *c, struct tapir_tls_info *info)
{
	return tls_info((const struct tcp_conn *)c, info);
}

/* Published data: one table for all modules, made on first
 * use. */
static struct pubsub *host_pubsub(struct tapir_host *h)
{
	if (!h->set->pubsub)
		h->set->pubsub = pubsub_new();
	return h->set->pubsub;
}

static int host_publish(struct tapir_host *h, const char *topic,
			const char *key, const void *value, size_t len)
{
	struct pubsub *ps = host_pubsub(h);

	if (!ps)
		return -ENOMEM;
	return pubsub_publish(ps, h, topic, key, value, len);
}

static void host_unpublish(struct tapir_host *h, const char *topic,
			   const char *key)
{
	if (h->set->pubsub &&
	    pubsub_unpublish(h->set->pubsub, h, topic, key) == -EBUSY)
		log_warn("module %s: unpublish of %s from inside a watch "
			    "of that topic ignored",
			    h->name, topic);
}

static struct tapir_watch *host_watch(struct tapir_host *h, const char *topic,
				      tapir_watch_fn fn, void *arg)
{
	struct pubsub *ps = host_pubsub(h);

	if (!ps) {
		errno = ENOMEM;
		return NULL;
	}
	return pubsub_watch(ps, h, topic, fn, arg);
}

static void host_unwatch(struct tapir_watch *w)
{
	pubsub_unwatch(w);
}

static const void *host_lookup(struct tapir_host *h, const char *topic,
			       const char *key, size_t *len)
{
	return pubsub_lookup(h->set->pubsub, topic, key, len);
}

static char *host_report(struct tapir_host *h, const char *what,
			 size_t *len)
{
	const struct modules_reporter *r = &h->set->report;
	struct strbuf b;
	char *out;

	*len = 0;
	if (!what || (strcmp(what, "status") && strcmp(what, "metrics") &&
		      strcmp(what, "status.html"))) {
		errno = EINVAL;
		return NULL;
	}
	if (!r->render) {
		errno = EAGAIN;
		return NULL;
	}
	strbuf_init(&b, 64u << 20);
	if (r->render(r->ctx, &b, what) < 0 || b.full || !b.p) {
		strbuf_free(&b);
		errno = ENOMEM;
		return NULL;
	}
	out = b.p; /* handed over: the module frees it */
	*len = b.len;
	return out;
}

/* Version 2: randomness for modules, so that no module reads the kernel
 * itself; drawn as tapird draws its own secrets (entropy.c), but never
 * waiting on the event loop: -EAGAIN while the pool is not ready. */
static int host_random(struct tapir_host *h, void *buf, size_t len)
{
	char err[256];
	int rc;

	if (len > TAPIR_RANDOM_MAX)
		return -EINVAL;
	if (!len)
		return 0;
	rc = entropy_try(buf, len, err, sizeof(err));
	if (rc < 0 && rc != -EAGAIN)
		log_err("module %s: %s", h->name, err);
	return rc;
}

/* Version 3: what tapird -V says, for a module's Server: header. */
static const char *host_version(struct tapir_host *h)
{
	(void)h;
	return TAPIR_VERSION;
}

/* ---- Version 4: link services ---- */

static void host_if_link(struct tapir_host *h, uint8_t mac[6], unsigned *mtu)
{
	const struct stack_params *p = stack_get_params(h->set->stack);

	if (mac)
		memcpy(mac, p->mac, 6);
	if (mtu)
		*mtu = p->mtu;
}

static int host_mcast_join(struct tapir_host *h, const struct tapir_addr *g)
{
	union inany x = inany_of(g);
	struct host_mcast *m = NULL;
	int err;

	for (unsigned i = 0; i < h->nmcast && !m; i++)
		if (inany_eq(&h->mcast[i].g, &x))
			m = &h->mcast[i];
	if (!m && h->nmcast >= TAPIR_MCAST_MAX)
		return -ENOSPC;
	err = stack_mcast6_join(h->set->stack, &x);
	if (err)
		return err;
	if (!m) {
		m = &h->mcast[h->nmcast++];
		m->g = x;
		m->n = 0;
	}
	m->n++;
	return 0;
}

static void host_mcast_leave(struct tapir_host *h, const struct tapir_addr *g)
{
	union inany x = inany_of(g);

	for (unsigned i = 0; i < h->nmcast; i++) {
		if (!inany_eq(&h->mcast[i].g, &x))
			continue;
		stack_mcast6_leave(h->set->stack, &x);
		if (--h->mcast[i].n == 0)
			h->mcast[i] = h->mcast[--h->nmcast];
		return;
	}
}

/* The stack's delivery of a Router Solicitation. */
static void host_icmp6_recv(void *arg, const struct stack_icmp6_rx *m,
			    const uint8_t *msg, size_t len)
{
	struct modules *set = arg;
	struct tapir_icmp6 *b = set->rs;
	struct tapir_icmp6_meta mm = {.hop_limit = m->hop_limit};

	if (!b || len < 1 || msg[0] != b->type)
		return;
	mm.src_ip = tapir_addr_of(&m->src);
	mm.dst_ip = tapir_addr_of(&m->dst);
	memcpy(mm.src_mac, m->src_mac, sizeof(mm.src_mac));
	b->fn(b->arg, &mm, msg, len);
}

#define ICMP6_TYPE_RS 133
#define ICMP6_TYPE_RA 134

static struct tapir_icmp6 *host_icmp6_bind(struct tapir_host *h, uint8_t type,
					   tapir_icmp6_recv_fn fn, void *arg)
{
	struct tapir_icmp6 *b;

	if (type != ICMP6_TYPE_RS || !fn) {
		errno = EINVAL;
		return NULL;
	}
	if (h->set->rs) {
		errno = EADDRINUSE;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->h = h;
	b->type = type;
	b->fn = fn;
	b->arg = arg;
	h->set->rs = b;
	return b;
}

static void host_icmp6_unbind(struct tapir_icmp6 *b)
{
	if (!b)
		return;
	if (b->h->set->rs == b)
		b->h->set->rs = NULL;
	free(b);
}

static int host_icmp6_send(struct tapir_host *h, const struct tapir_addr *dst,
			   const uint8_t *mac, const void *msg, size_t len)
{
	union inany d = inany_of(dst);

	if (!msg || len < 1 || ((const uint8_t *)msg)[0] != ICMP6_TYPE_RA)
		return -EINVAL;
	return stack_icmp6_send(h->set->stack, &d, mac, msg, len);
}

static void host_set_router(struct tapir_host *h, bool router)
{
	if (router == h->router)
		return;
	h->router = router;
	stack_set_router(h->set->stack, router);
}

/* Pings: one identifier for the daemon, a sequence number per request;
 * a reply must match both and come from the address asked. */
static void ping_unlink(struct tapir_ping *p)
{
	struct modules *set = p->h->set;

	for (struct tapir_ping **pp = &set->pings; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			set->npings--;
			break;
		}
	}
	stack_timer_cancel(set->stack, &p->t);
}

static void ping_done(struct tapir_ping *p, int result, unsigned rtt_ms)
{
	ping_unlink(p);
	p->fn(p->arg, result, rtt_ms);
	free(p);
}

static void ping_timeout(struct timer *t, void *arg)
{
	struct tapir_ping *p = arg;
	struct stack *s = p->h->set->stack;
	int result = p->err;

	(void)t;
	/* No answer: silence, unless the address never resolved. */
	if (!result && !stack_neigh_known(s, &p->addr))
		result = -EHOSTUNREACH;
	ping_done(p, result, 0);
}

static void host_echo_reply(void *arg, const union inany *src, uint16_t id,
			    uint16_t seq)
{
	struct modules *set = arg;

	if (id != set->ping_id)
		return;
	for (struct tapir_ping *p = set->pings; p; p = p->next) {
		if (p->seq == seq && !p->err && inany_eq(&p->addr, src)) {
			uint64_t now = stack_now_ms(set->stack);

			ping_done(p, 1, (unsigned)(now - p->sent_ms));
			return;
		}
	}
}

static struct tapir_ping *host_ping(struct tapir_host *h,
				    const struct tapir_addr *addr,
				    unsigned timeout_ms, tapir_ping_fn fn,
				    void *arg)
{
	struct modules *set = h->set;
	struct tapir_ping *p;
	int err;

	if (!addr || !fn || timeout_ms < 1 || timeout_ms > 60000) {
		errno = EINVAL;
		return NULL;
	}
	if (set->npings >= TAPIR_PING_MAX) {
		errno = EBUSY;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->h = h;
	p->addr = inany_of(addr);
	p->seq = ++set->ping_seq;
	p->fn = fn;
	p->arg = arg;
	p->sent_ms = stack_now_ms(set->stack);
	err = stack_echo_send(set->stack, &p->addr, set->ping_id, p->seq);
	if (err == -EINVAL) { /* no address to ask, or none of ours */
		free(p);
		errno = EINVAL;
		return NULL;
	}
	timer_init(&p->t, ping_timeout, p);
	p->next = set->pings;
	set->pings = p;
	set->npings++;
	if (err) {
		/* Told after the call returns, never from inside it. */
		p->err = err;
		timeout_ms = 0;
	}
	stack_timer_arm(set->stack, &p->t, timeout_ms);
	return p;
}

static void host_ping_cancel(struct tapir_ping *p)
{
	struct modules *set;

	if (!p)
		return;
	set = p->h->set;
	for (struct tapir_ping *q = set->pings; q; q = q->next) {
		if (q == p) {
			ping_unlink(p);
			free(p);
			return;
		}
	}
}

static const struct tapir_host_api host_api = {
	.size = sizeof(struct tapir_host_api),
	.version = TAPIR_HOST_API_VERSION,
	.log = host_log,
	.now_ms = host_now_ms,
	.if_addr = host_if_addr,
	.udp_bind = host_udp_bind,
	.udp_unbind = host_udp_unbind,
	.udp_send = host_udp_send,
	.timer_new = host_timer_new,
	.timer_arm = host_timer_arm,
	.timer_cancel = host_timer_cancel,
	.timer_free = host_timer_free,
	.counter = host_counter,
	.tcp_listen = host_tcp_listen,
	.tcp_unlisten = host_tcp_unlisten,
	.tcp_send = host_tcp_send,
	.tcp_send_room = host_tcp_send_room,
	.tcp_shutdown = host_tcp_shutdown,
	.tcp_close = host_tcp_close,
	.tcp_abort = host_tcp_abort,
	.tcp_recv_resume = host_tcp_recv_resume,
	.tcp_set_nodelay = host_tcp_set_nodelay,
	.tcp_peer = host_tcp_peer,
	.tcp_set_keepalive = host_tcp_set_keepalive,
	.tcp_connect = host_tcp_connect,
	.publish = host_publish,
	.unpublish = host_unpublish,
	.watch = host_watch,
	.unwatch = host_unwatch,
	.lookup = host_lookup,
	.report = host_report,
	.random = host_random,
	.tapird_version = host_version,
	.if_link = host_if_link,
	.mcast_join = host_mcast_join,
	.mcast_leave = host_mcast_leave,
	.icmp6_bind = host_icmp6_bind,
	.icmp6_unbind = host_icmp6_unbind,
	.icmp6_send = host_icmp6_send,
	.set_router = host_set_router,
	.ping = host_ping,
	.ping_cancel = host_ping_cancel,
	.tcp_listen_tls = host_tcp_listen_tls,
	.tls_update = host_tls_update,
	.tls_info = host_tls_info,
	.histogram = host_histogram,
	.now_us = host_now_us,
};

/* The size of the host API table at each version: a module built against
 * version v gets a table of api_sizes[v - 1] bytes, whatever this tapird
 * has beyond that zeroed, so TAPIR_HOST_HAS() says no to it. */
static const struct {
	uint32_t version;
	size_t size;
} api_sizes[] = {
	{1, offsetof(struct tapir_host_api, random)},
	{2, offsetof(struct tapir_host_api, tapird_version)},
	{3, offsetof(struct tapir_host_api, if_link)},
	{4, offsetof(struct tapir_host_api, tcp_listen_tls)},
	{5, offsetof(struct tapir_host_api, histogram)},
	{6, sizeof(struct tapir_host_api)},
};
#define API_V1_SIZE offsetof(struct tapir_host_api, random)

/* The table for a module built with a host API of size bytes. */
static void api_for(struct tapir_host_api *api, size_t size)
{
	*api = host_api;
	if (size >= sizeof(*api))
		return;
	memset((char *)api + size, 0, sizeof(*api) - size);
	api->size = (uint32_t)size;
	for (size_t i = 0; i < sizeof(api_sizes) / sizeof(api_sizes[0]); i++)
		if (api_sizes[i].size <= size)
			api->version = api_sizes[i].version;
}

/* ---- section text, for change detection ------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
		char *q = realloc(b->p, cap);

		if (!q)
			return;
		b->p = q;
		b->cap = cap;
	}
}

static void setting_text(struct sbuf *b, const config_setting_t *s, int depth)
{
	const char *name = config_setting_name(s);
	int n;

	if (depth > 32) /* libconfig nests finitely; stay bounded anyway */
		return;
	if (name)
		sb_add(b, "%s=", name);
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		sb_add(b, "%lld;", (long long)config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		sb_add(b, "%.17g;", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		sb_add(b, "%d;", config_setting_get_bool(s));
		break;
	case CONFIG_TYPE_STRING:
		sb_add(b, "\"%s\";", config_setting_get_string(s));
		break;
	default: /* group, array, list */
		sb_add(b, "%c", config_setting_is_group(s) ? '{' : '(');
		n = config_setting_length(s);
		for (int i = 0; i < n; i++)
			setting_text(b, config_setting_get_elem(s, (unsigned)i),
				     depth + 1);
		sb_add(b, "%c;", config_setting_is_group(s) ? '}' : ')');
		break;
	}
}

/* ---- settings errors ------------------------------------------------------ */

struct check_ctx {
	struct conf_errors *errs;
	const char *file;
	const char *module;
};

static void check_report(void *arg, const config_setting_t *at,
			 const char *msg)
{
	struct check_ctx *cx = arg;

	conf_error_at(cx->errs, at, cx->file, "module %s: %s", cx->module,
		      msg);
}

/* ---- the transaction --------------------------------------------------- */

void modules_init(struct modules *set, struct stack *stack)
{
	set->stack = stack;
	set->list = NULL;
	set->pubsub = NULL;
	set->report = (struct modules_reporter){NULL, NULL};
	set->rs = NULL;
	set->pings = NULL;
	set->npings = 0;
	set->ping_seq = 0;
	set->ping_id = 0;
	if (!stack)
		return;
	/* An identifier an outsider cannot guess, so that a forged reply
	 * cannot make a free address look taken. */
	if (entropy_try(&set->ping_id, sizeof(set->ping_id), NULL, 0) < 0)
		set->ping_id = (uint16_t)(uintptr_t)set;
	stack_set_icmp6_fn(stack, host_icmp6_recv, set);
	stack_set_echo_fn(stack, host_echo_reply, set);
}

/* Load one module and check its section; 0 or -1 with errors added. */
static int prepare_one(const struct conf *conf, const struct conf_module *cm,
		       struct conf_errors *errs, struct module_prep *p)
{
	struct check_ctx cx = {errs, conf->file, cm->name};
	const struct tapir_module *d;
	const config_setting_t *sec = cm->section;
	size_t before = errs->n;
	struct sbuf sb = {0};
	char why[200];

	p->name = strdup(cm->name);
	p->path = cm->path ? strdup(cm->path) : NULL;
	if (!p->name || !p->path) {
		conf_error_at(errs, sec, conf->file, "out of memory");
		return -1;
	}
	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		conf_error_at(errs, sec, conf->file,
			      "cannot load module '%s': %s (set module_dir or "
			      "the module's path)",
			      cm->name, dlerror());
		return -1;
	}
	d = dlsym(p->dl, "tapir_module");
	if (!d) {
		conf_error_at(errs, sec, conf->file,
			      "%s is not a tapir module (no 'tapir_module' "
			      "symbol)", p->path);
		return -1;
	}
	if (d->abi != TAPIR_MODULE_ABI ||
	    d->size < offsetof(struct tapir_module, fini) + sizeof(d->fini)) {
		conf_error_at(errs, sec, conf->file,
			      "module '%s' (%s) was built for module ABI %u, "
			      "this tapird has ABI %u: rebuild the module",
			      cm->name, p->path, d->abi, TAPIR_MODULE_ABI);
		return -1;
	}
	if (d->host_api_size < API_V1_SIZE) {
		conf_error_at(errs, sec, conf->file,
			      "module '%s' (%s) was built against a host API of "
			      "%u bytes, older than version 1 (%zu bytes) of "
			      "module ABI %u: rebuild the module",
			      cm->name, p->path, d->host_api_size, API_V1_SIZE,
			      TAPIR_MODULE_ABI);
		return -1;
	}
	if (!d->init || !d->fini || !d->name) {
		conf_error_at(errs, sec, conf->file,
			      "module '%s' lacks a name, init or fini",
			      cm->name);
		return -1;
	}
	if (modconf_validate(d, why, sizeof(why)) < 0) {
		conf_error_at(errs, sec, conf->file,
			      "module '%s' (%s) declares its settings wrongly: "
			      "%s",
			      cm->name, p->path, why);
		return -1;
	}
	p->desc = d;
	modconf_set_tls_check(tls_check);
	modconf_check(d, sec, check_report, &cx, &p->mc);
	setting_text(&sb, sec, 0);
	p->text = sb.p;
	return errs->n == before ? 0 : -1;
}

int modules_prepare(struct modules *set, const struct conf *conf,
		    struct conf_errors *errs, struct module_txn *txn)
{
	int rc = 0;

	(void)set;
	txn->n = 0;
	txn->p = calloc(conf->nmods ? conf->nmods : 1, sizeof(*txn->p));
	if (!txn->p) {
		conf_error(errs, conf->file, 0, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < conf->nmods; i++) {
		txn->n++;
		if (prepare_one(conf, &conf->mods[i], errs, &txn->p[i]) < 0)
			rc = -1;
	}
	return rc;
}

static void prep_free(struct module_prep *p)
{
	if (p->dl)
		dlclose(p->dl);
	free(p->name);
	free(p->path);
	free(p->text);
	modconf_free(&p->mc);
	memset(p, 0, sizeof(*p));
}

void modules_abort(struct module_txn *txn)
{
	tls_prepared_clear();
	for (size_t i = 0; i < txn->n; i++)
		prep_free(&txn->p[i]);
	free(txn->p);
	txn->p = NULL;
	txn->n = 0;
}

/* Stop one module and release whatever it still holds. */
static void host_stop(struct tapir_host *h)
{
	if (h->state)
		h->desc->fini(h->state);
	h->state = NULL;
	/* Its watches and published entries go; the other watchers are told. */
	pubsub_drop_owner(h->set->pubsub, h);
	while (h->udps)
		host_udp_unbind(h->udps);
	/* Listeners and connections the module forgot: reset them without
	 * calling back into a module that is gone. */
	while (h->listeners) {
		h->listeners->gone = true;
		host_tcp_unlisten(h->listeners);
	}
	if (h->group) {
		h->group->gone = true;
		tcp_unlisten(h->set->stack, &h->group->tl);
		free(h->group);
		h->group = NULL;
	}
	while (h->timers)
		host_timer_free(h->timers);
	if (h->set->rs && h->set->rs->h == h)
		host_icmp6_unbind(h->set->rs);
	for (struct tapir_ping *p = h->set->pings, *next; p; p = next) {
		next = p->next;
		if (p->h == h)
			host_ping_cancel(p);
	}
	while (h->nmcast) {
		struct host_mcast *m = &h->mcast[h->nmcast - 1];
		struct tapir_addr g = tapir_addr_of(&m->g);

		host_mcast_leave(h, &g);
	}
	host_set_router(h, false);
	while (h->counters) {
		struct mod_counter *c = h->counters;

		h->counters = c->next;
		free(c);
	}
	while (h->hists) {
		struct mod_hist *m = h->hists;

		h->hists = m->next;
		free(m->help);
		free(m);
	}
	dlclose(h->dl);
	free(h->name);
	free(h->path);
	free(h->text);
	free(h);
}

static struct tapir_host *host_start(struct modules *set, struct module_prep *p)
{
	struct tapir_host *h = calloc(1, sizeof(*h));
	struct modconf mc = p->mc;

	if (!h)
		return NULL;
	h->set = set;
	h->name = p->name;
	h->path = p->path;
	h->dl = p->dl;
	h->desc = p->desc;
	h->text = p->text;
	memset(p, 0, sizeof(*p)); /* ownership moves to h */
	api_for(&h->api, h->desc->host_api_size);
	h->state = h->desc->init(h, &h->api, mc.values);
	modconf_free(&mc);
	return h;
}

/* The prepared entry for a running module, if the new list keeps it (same
 * name and path). */
static struct module_prep *txn_find(struct module_txn *txn,
				    const struct tapir_host *h)
{
	for (size_t i = 0; i < txn->n; i++)
		if (txn->p[i].name && strcmp(txn->p[i].name, h->name) == 0 &&
		    strcmp(txn->p[i].path, h->path) == 0)
			return &txn->p[i];
	return NULL;
}

/* The descriptor's flags, when it is recent enough to have them. */
static uint32_t module_flags(const struct tapir_module *d)
{
	if (d->size < offsetof(struct tapir_module, flags) + sizeof(d->flags))
		return 0;
	return d->flags;
}

int modules_commit(struct modules *set, struct module_txn *txn)
{
	struct tapir_host *running = set->list, *h, *next;
	struct tapir_host **tail = &set->list;
	int failures = 0;

	/* 1. Stop what the new configuration no longer lists (or moved). */
	set->list = NULL;
	for (h = running; h; h = next) {
		next = h->next;
		if (!txn_find(txn, h)) {
			log_notice("module %s: stopped", h->name);
			host_stop(h);
			continue;
		}
		h->next = NULL;
		*tail = h;
		tail = &h->next;
	}
	/* 2. Reconfigure the modules that stay, before anything new starts,
	 * so ports they give up are free for the newcomers. */
	for (h = set->list; h; h = h->next) {
		struct module_prep *p = txn_find(txn, h);

		if (strcmp(h->text, p->text) != 0 ||
		    (module_flags(h->desc) & TAPIR_MODF_RECONFIGURE_ALWAYS)) {
			if (!h->desc->reconfigure ||
			    h->desc->reconfigure(h->state, p->mc.values) != 0) {
				log_err("module %s: reconfigure failed; it keeps "
					"its previous settings",
					h->name);
				failures++;
			} else {
				log_notice("module %s: reconfigured", h->name);
				free(h->text);
				h->text = p->text;
				p->text = NULL;
			}
		}
		prep_free(p); /* drops the extra dlopen reference */
	}
	/* 3. Start the new ones. */
	for (size_t i = 0; i < txn->n; i++) {
		struct module_prep *p = &txn->p[i];

		if (!p->name)
			continue; /* kept, handled above */
		h = host_start(set, p);
		if (!h || !h->state) {
			log_err("module %s: init failed; not running",
				h ? h->name : "?");
			if (h)
				host_stop(h);
			prep_free(p);
			failures++;
			continue;
		}
		log_notice("module %s: started", h->name);
		*tail = h;
		tail = &h->next;
	}
	free(txn->p);
	txn->p = NULL;
	txn->n = 0;
	/* Certificates replaced on disk under an unchanged section: new
	 * connections get them (the old ones keep theirs). */
	for (h = set->list; h; h = h->next)
		for (struct tapir_tcp_listener *wl = h->listeners; wl;
		     wl = wl->next)
			if (wl->tls && tls_listener_refresh(wl->tls, h->name))
				log_notice("module %s: TLS certificate "
					   "replaced on disk: new connections "
					   "get the new one",
					   h->name);
	tls_prepared_clear(); /* what no listener took */
	return failures;
}

void modules_stop_all(struct modules *set)
{
	while (set->list) {
		struct tapir_host *h = set->list;

		set->list = h->next;
		host_stop(h);
	}
	pubsub_free(set->pubsub);
	set->pubsub = NULL;
}

size_t modules_count(const struct modules *set)
{
	size_t n = 0;

	for (const struct tapir_host *h = set->list; h; h = h->next)
		n++;
	return n;
}

void modules_names(const struct modules *set, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (const struct tapir_host *h = set->list; h; h = h->next) {
		int n = snprintf(buf + used, len - used, "%s%s",
				 used ? ", " : "", h->name);

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

void modules_log_counters(const struct modules *set)
{
	for (const struct tapir_host *h = set->list; h; h = h->next)
		for (const struct mod_counter *c = h->counters; c; c = c->next)
			if (c->v)
				log_notice("counter module_%s_%s %llu", h->name,
				   c->name, (unsigned long long)c->v);
}

void modules_foreach_counter(const struct modules *set,
			     module_counter_fn fn, void *arg)
{
	for (const struct tapir_host *h = set->list; h; h = h->next)
		for (const struct mod_counter *c = h->counters; c; c = c->next)
			fn(arg, h->name, c->name, c->v);
}

void modules_foreach_histogram(const struct modules *set,
			       module_histogram_fn fn, void *arg)
{
	for (const struct tapir_host *h = set->list; h; h = h->next)
		for (const struct mod_hist *m = h->hists; m; m = m->next)
			fn(arg, h->name, m->name, m->help, &m->h);
}

void modules_foreach(const struct modules *set,
		     void (*fn)(void *arg, const char *name), void *arg)
{
	for (const struct tapir_host *h = set->list; h; h = h->next)
		fn(arg, h->name);
}

const char *modules_conn_owner(const struct modules *set,
			       const struct tcp_conn *c)
{
	if (!c->listener)
		return NULL;
	for (const struct tapir_host *h = set->list; h; h = h->next) {
		if (h->group && &h->group->tl == c->listener)
			return h->name;
		for (const struct tapir_tcp_listener *wl = h->listeners; wl;
		     wl = wl->next)
			if (&wl->tl == c->listener)
				return h->name;
	}
	return NULL;
}
