/*
 * The fake host of dns_fake.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_fake.h"
#include "daemon/modconf.h"

struct fake_host fk;

struct tapir_host {
	int unused;
};
/* Server ports: two slots, so a port can move (the new one bound before
 * the old one is let go); fk describes the one bound last.  Query ports
 * of the forwarder: fk.qs[], the same index here. */
struct tapir_udp {
	bool used;
	bool query;
	int qi;
	uint16_t port;
};
struct tapir_tcp_listener {
	bool used;
	uint16_t port;
};
struct tapir_watch {
	int unused;
};

static struct tapir_udp udps[2];
static struct tapir_udp qudps[FK_MAX_QSOCKS];
static tapir_udp_recv_fn server_fn;
static struct tapir_tcp_listener listeners[2];
static struct tapir_watch the_watch;
static config_t cfg;
static bool cfg_live;

static void f_log(struct tapir_host *h, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void f_log(struct tapir_host *h, int prio, const char *fmt, ...)
{
	(void)h;
	(void)prio;
	(void)fmt;
	fk.logs++;
}

static uint64_t f_now(struct tapir_host *h)
{
	(void)h;
	return fk.now;
}

static uint64_t f_now_us(struct tapir_host *h)
{
	(void)h;
	return fk.now * 1000u;
}

/* One histogram: the module has one. */
static struct tapir_histogram *f_histogram(struct tapir_host *h,
					   const char *name, const char *help)
{
	(void)h;
	(void)help;
	snprintf(fk.hist_name, sizeof(fk.hist_name), "%s", name);
	return &fk.hist;
}

static int f_if_addr(struct tapir_host *h, unsigned i,
		     struct tapir_addr *addr, unsigned *plen)
{
	(void)h;
	if (i)
		return -ENOENT;
	if (addr)
		*addr = tapir_addr_from_v4(0x0a000002u);
	if (plen)
		*plen = 24;
	return 0;
}

static struct tapir_udp *f_udp_bind(struct tapir_host *h, uint16_t port,
				    tapir_udp_recv_fn fn, void *arg)
{
	struct tapir_udp *u = NULL;

	(void)h;
	if (!server_fn)
		server_fn = fn;
	for (int i = 0; i < FK_MAX_QSOCKS; i++)
		if ((udps[i % 2].used && udps[i % 2].port == port) ||
		    (qudps[i].used && qudps[i].port == port)) {
			errno = EADDRINUSE;
			return NULL;
		}
	if (fn != server_fn) {
		for (int i = 0; i < FK_MAX_QSOCKS; i++)
			if (!qudps[i].used) {
				qudps[i] = (struct tapir_udp){true, true, i,
							      port};
				memset(&fk.qs[i], 0, sizeof(fk.qs[i]));
				fk.qs[i].used = true;
				fk.qs[i].port = port;
				fk.qs[i].fn = fn;
				fk.qs[i].arg = arg;
				return &qudps[i];
			}
		errno = ENOBUFS;
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (udps[i].used && udps[i].port == port) {
			errno = EADDRINUSE;
			return NULL;
		}
		if (!udps[i].used)
			u = &udps[i];
	}
	if (!u) {
		errno = ENOBUFS;
		return NULL;
	}
	u->used = true;
	u->port = port;
	fk.udp_bound = true;
	fk.udp_port = port;
	fk.udp_fn = fn;
	fk.udp_arg = arg;
	return u;
}

static void f_udp_unbind(struct tapir_udp *u)
{
	if (!u)
		return;
	u->used = false;
	if (u->query) {
		fk.qs[u->qi].used = false;
		return;
	}
	fk.udp_bound = udps[0].used || udps[1].used;
}

static int f_udp_send(struct tapir_udp *u, const struct tapir_udp_dst *dst,
		      const void *data, size_t len)
{
	if (u->query) {
		struct fk_qsock *q = &fk.qs[u->qi];

		if (len > sizeof(q->sent))
			return -EMSGSIZE;
		q->to = dst->ip;
		q->to_port = dst->port;
		memcpy(q->sent, data, len);
		q->sent_len = len;
		q->sends++;
		fk.qs_last = u->qi;
		fk.qsends++;
		return 0;
	}
	if (len > sizeof(fk.sent))
		return -EMSGSIZE;
	fk.sent_to = dst->ip;
	memcpy(fk.sent, data, len);
	fk.sent_len = len;
	fk.sends++;
	return 0;
}

static struct tapir_timer *f_timer_new(struct tapir_host *h, tapir_timer_fn fn,
				       void *arg)
{
	(void)h;
	for (int i = 0; i < FK_MAX_TIMERS; i++)
		if (!fk.timers[i].used) {
			fk.timers[i] = (struct tapir_timer){true, false, 0, fn,
							    arg};
			return &fk.timers[i];
		}
	return NULL;
}

static void f_timer_arm(struct tapir_timer *t, uint64_t ms)
{
	t->armed = true;
	t->due = fk.now + ms;
}

static void f_timer_cancel(struct tapir_timer *t)
{
	t->armed = false;
}

static void f_timer_free(struct tapir_timer *t)
{
	if (t)
		memset(t, 0, sizeof(*t));
}

static uint64_t *f_counter(struct tapir_host *h, const char *name)
{
	(void)h;
	for (unsigned i = 0; i < fk.ncounters; i++)
		if (!strcmp(fk.counters[i].name, name))
			return &fk.counters[i].v;
	if (fk.ncounters >= FK_MAX_COUNTERS || strlen(name) > 64)
		return NULL;
	snprintf(fk.counters[fk.ncounters].name,
		 sizeof(fk.counters[0].name), "%s", name);
	return &fk.counters[fk.ncounters++].v;
}

static struct tapir_tcp_listener *f_tcp_listen(
	struct tapir_host *h, uint16_t port, const struct tapir_tcp_handlers *cb,
	void *arg)
{
	struct tapir_tcp_listener *l = NULL;

	(void)h;
	for (int i = 0; i < 2; i++) {
		if (listeners[i].used && listeners[i].port == port) {
			errno = EADDRINUSE;
			return NULL;
		}
		if (!listeners[i].used)
			l = &listeners[i];
	}
	if (!l) {
		errno = ENOBUFS;
		return NULL;
	}
	l->used = true;
	l->port = port;
	fk.listening = true;
	fk.tcp_port = port;
	fk.tcp_cb = cb;
	fk.tcp_arg = arg;
	return l;
}

/* The fake's connections all belong to the listener bound last. */
static void f_tcp_unlisten(struct tapir_tcp_listener *l)
{
	if (l->port == fk.tcp_port)
		for (int i = 0; i < FK_MAX_CONNS; i++)
			if (fk.conns[i].open && !fk.conns[i].outgoing) {
				fk.conns[i].open = false;
				fk.conns[i].reset = true;
				fk.tcp_cb->closed(fk.conns[i].ctx,
						  &fk.conns[i], -ECONNABORTED);
			}
	l->used = false;
	fk.listening = listeners[0].used || listeners[1].used;
}

static size_t f_tcp_send(struct tapir_tcp *c, const void *data, size_t len)
{
	size_t n = len < c->room ? len : c->room;

	if (!c->open)
		return 0;
	if (n > FK_OUT_MAX - c->out_len)
		n = FK_OUT_MAX - c->out_len;
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	c->room -= n;
	return n;
}

static size_t f_tcp_send_room(struct tapir_tcp *c)
{
	return c->room;
}

static void f_tcp_shutdown(struct tapir_tcp *c)
{
	c->shut = true;
}

static void f_tcp_close(struct tapir_tcp *c)
{
	c->open = false;
	c->closed = true;
}

static void f_tcp_abort(struct tapir_tcp *c)
{
	c->open = false;
	c->reset = true;
}

static void f_tcp_resume(struct tapir_tcp *c)
{
	c->resumes++;
}

static void f_tcp_nodelay(struct tapir_tcp *c, bool on)
{
	(void)c;
	(void)on;
}

static void f_tcp_peer(struct tapir_tcp *c, struct tapir_addr *addr,
		       uint16_t *port)
{
	(void)c;
	*addr = tapir_addr_from_v4(0x0a000001u);
	*port = 40000;
}

/* Not unpredictable: a test wants to know it was asked, and repeatable
 * runs (a xorshift from the same seed after every fk_reset()). */
static int f_random(struct tapir_host *h, void *buf, size_t len)
{
	(void)h;
	fk.randoms++;
	if (len > TAPIR_RANDOM_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		fk.rnd ^= fk.rnd << 13;
		fk.rnd ^= fk.rnd >> 7;
		fk.rnd ^= fk.rnd << 17;
		((uint8_t *)buf)[i] = (uint8_t)(fk.rnd >> 24);
	}
	return 0;
}

static struct tapir_tcp *f_tcp_connect(struct tapir_host *h,
				       const struct tapir_addr *addr,
				       uint16_t port,
				       const struct tapir_tcp_handlers *cb,
				       void *ctx)
{
	(void)h;
	/* From the last slot down: tests open theirs from 0 up. */
	for (int i = FK_MAX_CONNS - 1; i >= 0; i--) {
		struct tapir_tcp *c = &fk.conns[i];

		if (c->open)
			continue;
		free(c->out);
		memset(c, 0, sizeof(*c));
		c->out = malloc(FK_OUT_MAX);
		if (!c->out)
			break;
		c->open = true;
		c->outgoing = true;
		c->room = FK_OUT_MAX;
		c->cb = cb;
		c->ctx = ctx;
		c->peer = *addr;
		c->peer_port = port;
		fk.tcp_last = i;
		return c;
	}
	errno = ENOBUFS;
	return NULL;
}

static struct tapir_watch *f_watch(struct tapir_host *h, const char *topic,
				   tapir_watch_fn fn, void *arg)
{
	(void)h;
	snprintf(fk.topic, sizeof(fk.topic), "%s", topic);
	fk.watch_fn = fn;
	fk.watch_arg = arg;
	return &the_watch;
}

static void f_unwatch(struct tapir_watch *w)
{
	(void)w;
	fk.watch_fn = NULL;
}

const struct tapir_host_api fk_api = {
	.size = sizeof(struct tapir_host_api),
	.version = TAPIR_HOST_API_VERSION,
	.log = f_log,
	.now_ms = f_now,
	.if_addr = f_if_addr,
	.udp_bind = f_udp_bind,
	.udp_unbind = f_udp_unbind,
	.udp_send = f_udp_send,
	.timer_new = f_timer_new,
	.timer_arm = f_timer_arm,
	.timer_cancel = f_timer_cancel,
	.timer_free = f_timer_free,
	.counter = f_counter,
	.tcp_listen = f_tcp_listen,
	.tcp_unlisten = f_tcp_unlisten,
	.tcp_send = f_tcp_send,
	.tcp_send_room = f_tcp_send_room,
	.tcp_shutdown = f_tcp_shutdown,
	.tcp_close = f_tcp_close,
	.tcp_abort = f_tcp_abort,
	.tcp_recv_resume = f_tcp_resume,
	.tcp_set_nodelay = f_tcp_nodelay,
	.tcp_peer = f_tcp_peer,
	.watch = f_watch,
	.unwatch = f_unwatch,
	.random = f_random,
	.tcp_connect = f_tcp_connect,
	.histogram = f_histogram,
	.now_us = f_now_us,
};

static struct modconf mc;

static void f_report(void *arg, const config_setting_t *s, const char *msg)
{
	(void)arg;
	if (fk.nerrors < 8)
		snprintf(fk.errors[fk.nerrors++], sizeof(fk.errors[0]),
			 "line %u: %s", s ? config_setting_source_line(s) : 0,
			 msg);
}

int fk_check_section(const config_setting_t *s)
{
	modconf_free(&mc);
	return modconf_check(&tapir_module, s, f_report, NULL, &mc) ? -1 : 0;
}

const void *fk_conf(void)
{
	return mc.values;
}

void fk_reset(void)
{
	for (int i = 0; i < FK_MAX_CONNS; i++)
		free(fk.conns[i].out);
	memset(&fk, 0, sizeof(fk));
	fk.qs_last = -1;
	fk.tcp_last = -1;
	fk.rnd = 0x9e3779b97f4a7c15u;
	server_fn = NULL;
	memset(qudps, 0, sizeof(qudps));
	memset(udps, 0, sizeof(udps));
	memset(listeners, 0, sizeof(listeners));
}

config_setting_t *fk_section(const char *settings)
{
	fk_section_free();
	config_init(&cfg);
	cfg_live = true;
	if (config_read_string(&cfg, settings) != CONFIG_TRUE) {
		fprintf(stderr, "config line %d: %s\n", config_error_line(&cfg),
			config_error_text(&cfg));
		return NULL;
	}
	return config_root_setting(&cfg);
}

void fk_section_free(void)
{
	modconf_free(&mc);
	if (cfg_live)
		config_destroy(&cfg);
	cfg_live = false;
}

void fk_udp(const uint8_t *q, size_t len)
{
	fk_udp_from(0x0a000001u, q, len);
}

void fk_udp_from(uint32_t src, const uint8_t *q, size_t len)
{
	struct tapir_addr a = tapir_addr_from_v4(src);

	fk_udp_from_addr(&a, q, len);
}

void fk_udp_from_addr(const struct tapir_addr *src, const uint8_t *q,
		      size_t len)
{
	struct tapir_udp_meta m = {.src_ip = *src,
				   .dst_ip = tapir_addr_from_v4(0x0a000002u),
				   .src_port = 5353,
				   .dst_port = fk.udp_port};

	fk.sent_len = 0;
	if (fk.udp_bound)
		fk.udp_fn(fk.udp_arg, &m, q, len);
}

bool fk_tcp_open(unsigned i, size_t room)
{
	struct tapir_tcp *c = &fk.conns[i];

	free(c->out);
	memset(c, 0, sizeof(*c));
	c->out = malloc(FK_OUT_MAX);
	c->room = room;
	if (!c->out || !fk.listening)
		return false;
	c->ctx = fk.tcp_cb->accepted(fk.tcp_arg, c);
	c->open = c->ctx != NULL;
	return c->open;
}

size_t fk_tcp_data(unsigned i, const uint8_t *d, size_t len)
{
	struct tapir_tcp *c = &fk.conns[i];

	if (!c->open)
		return 0;
	return fk.tcp_cb->recv(c->ctx, c, d, len);
}

void fk_advance(uint64_t ms)
{
	uint64_t end = fk.now + ms;

	for (;;) {
		struct tapir_timer *next = NULL;

		for (int i = 0; i < FK_MAX_TIMERS; i++) {
			struct tapir_timer *t = &fk.timers[i];

			if (t->used && t->armed && t->due <= end &&
			    (!next || t->due < next->due))
				next = t;
		}
		if (!next)
			break;
		if (next->due > fk.now)
			fk.now = next->due;
		next->armed = false;
		next->fn(next->arg);
	}
	fk.now = end;
}

uint64_t fk_counter(const char *name)
{
	for (unsigned i = 0; i < fk.ncounters; i++)
		if (!strcmp(fk.counters[i].name, name))
			return fk.counters[i].v;
	return 0;
}

unsigned fk_timers_armed(void)
{
	unsigned n = 0;

	for (int i = 0; i < FK_MAX_TIMERS; i++)
		n += fk.timers[i].used && fk.timers[i].armed;
	return n;
}

void fk_qsock_recv(int i, const struct tapir_addr *src, uint16_t sport,
		   const uint8_t *d, size_t len)
{
	struct tapir_udp_meta m = {.src_ip = *src,
				   .dst_ip = tapir_addr_from_v4(0x0a000002u),
				   .src_port = sport};

	if (i < 0 || i >= FK_MAX_QSOCKS || !fk.qs[i].used)
		return;
	m.dst_port = fk.qs[i].port;
	fk.qs[i].fn(fk.qs[i].arg, &m, d, len);
}

unsigned fk_qsocks_bound(void)
{
	unsigned n = 0;

	for (int i = 0; i < FK_MAX_QSOCKS; i++)
		n += fk.qs[i].used;
	return n;
}

size_t fk_tcp_peer_data(unsigned i, const uint8_t *d, size_t len)
{
	struct tapir_tcp *c = &fk.conns[i];

	if (!c->open || !c->outgoing)
		return 0;
	return c->cb->recv(c->ctx, c, d, len);
}
