/*
 * The fake host of ra_fake.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/modconf.h"
#include "ra_fake.h"

struct ra_fake rf;

struct tapir_host {
	int unused;
};
struct tapir_icmp6 {
	int unused;
};

static struct tapir_host the_host;
static struct tapir_icmp6 the_binding;
static config_t cfg;
static bool cfg_live;
static struct modconf mc;

static void f_log(struct tapir_host *h, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void f_log(struct tapir_host *h, int prio, const char *fmt, ...)
{
	va_list ap;

	(void)h;
	(void)prio;
	va_start(ap, fmt);
	vsnprintf(rf.last_log, sizeof(rf.last_log), fmt, ap);
	va_end(ap);
	rf.logs++;
}

static uint64_t f_now(struct tapir_host *h)
{
	(void)h;
	return rf.now;
}

static int f_if_addr(struct tapir_host *h, unsigned i, struct tapir_addr *a,
		     unsigned *plen)
{
	(void)h;
	if (i == 0) {
		*a = tapir_addr_from_v4(0x0a000002u);
		*plen = 24;
		return 0;
	}
	if (i > rf.naddr)
		return -ENOENT;
	*a = rf.addr[i - 1];
	*plen = rf.plen[i - 1];
	return 0;
}

static struct tapir_timer *f_timer_new(struct tapir_host *h, tapir_timer_fn fn,
				       void *arg)
{
	(void)h;
	for (int i = 0; i < RF_MAX_TIMERS; i++)
		if (!rf.timers[i].used) {
			rf.timers[i] = (struct tapir_timer){true, false, 0, fn,
							    arg};
			return &rf.timers[i];
		}
	return NULL;
}

static void f_timer_arm(struct tapir_timer *t, uint64_t ms)
{
	t->armed = true;
	t->due = rf.now + ms;
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
	for (unsigned i = 0; i < rf.ncounters; i++)
		if (!strcmp(rf.counters[i].name, name))
			return &rf.counters[i].v;
	if (rf.ncounters >= RF_MAX_COUNTERS || strlen(name) > 64)
		return NULL;
	snprintf(rf.counters[rf.ncounters].name, sizeof(rf.counters[0].name),
		 "%s", name);
	return &rf.counters[rf.ncounters++].v;
}

/* Repeatable: a counter through splitmix64. */
static int f_random(struct tapir_host *h, void *buf, size_t len)
{
	(void)h;
	if (len > TAPIR_RANDOM_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (rf.random_seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		((uint8_t *)buf)[i] = (uint8_t)(z >> 56);
	}
	return 0;
}

static void f_if_link(struct tapir_host *h, uint8_t mac[6], unsigned *mtu)
{
	(void)h;
	if (mac)
		memcpy(mac, rf.mac, 6);
	if (mtu)
		*mtu = rf.mtu;
}

static int f_mcast_join(struct tapir_host *h, const struct tapir_addr *g)
{
	(void)h;
	if (g->b[0] != 0xff || (g->b[1] & 0x0f) != 2)
		return -EINVAL;
	for (unsigned i = 0; i < rf.ngroups; i++)
		if (tapir_addr_eq(&rf.groups[i], g)) {
			rf.group_refs[i]++;
			return 0;
		}
	if (rf.ngroups == 4)
		return -ENOSPC;
	rf.groups[rf.ngroups] = *g;
	rf.group_refs[rf.ngroups++] = 1;
	return 0;
}

static void f_mcast_leave(struct tapir_host *h, const struct tapir_addr *g)
{
	(void)h;
	for (unsigned i = 0; i < rf.ngroups; i++)
		if (tapir_addr_eq(&rf.groups[i], g) && rf.group_refs[i] > 0)
			rf.group_refs[i]--;
}

static struct tapir_icmp6 *f_icmp6_bind(struct tapir_host *h, uint8_t type,
					tapir_icmp6_recv_fn fn, void *arg)
{
	(void)h;
	if (type != 133) {
		errno = EINVAL;
		return NULL;
	}
	if (rf.bound) {
		errno = EADDRINUSE;
		return NULL;
	}
	rf.bound = true;
	rf.bound_type = type;
	rf.rx_fn = fn;
	rf.rx_arg = arg;
	return &the_binding;
}

static void f_icmp6_unbind(struct tapir_icmp6 *b)
{
	(void)b;
	rf.bound = false;
}

static int f_icmp6_send(struct tapir_host *h, const struct tapir_addr *dst,
			const uint8_t *mac, const void *msg, size_t len)
{
	(void)h;
	if (rf.send_rc)
		return rf.send_rc;
	if (len < 4 || ((const uint8_t *)msg)[0] != 134 || len > rf.mtu - 40)
		return -EINVAL;
	if (rf.nsent < RF_MAX_SENT) {
		struct rf_sent *s = &rf.sent[rf.nsent];

		s->at = rf.now;
		s->dst = *dst;
		s->to_mac = mac != NULL;
		memcpy(s->msg, msg, len < RF_MSG_MAX ? len : RF_MSG_MAX);
		s->len = len;
	}
	rf.nsent++;
	return 0;
}

static void f_set_router(struct tapir_host *h, bool on)
{
	(void)h;
	rf.router = on;
	rf.router_calls++;
}

const struct tapir_host_api rf_api = {
	.size = sizeof(struct tapir_host_api),
	.version = TAPIR_HOST_API_VERSION,
	.log = f_log,
	.now_ms = f_now,
	.if_addr = f_if_addr,
	.timer_new = f_timer_new,
	.timer_arm = f_timer_arm,
	.timer_cancel = f_timer_cancel,
	.timer_free = f_timer_free,
	.counter = f_counter,
	.random = f_random,
	.if_link = f_if_link,
	.mcast_join = f_mcast_join,
	.mcast_leave = f_mcast_leave,
	.icmp6_bind = f_icmp6_bind,
	.icmp6_unbind = f_icmp6_unbind,
	.icmp6_send = f_icmp6_send,
	.set_router = f_set_router,
};

void rf_reset(void)
{
	memset(&rf, 0, sizeof(rf));
	rf.now = 1000000;
	memcpy(rf.mac, "\x02\x00\x00\x00\x00\x02", 6);
	rf.mtu = 1500;
	rf_add_addr("fe80::2", 64);
	rf_add_addr("fd00::2", 64);
}

void rf_add_addr(const char *addr, unsigned plen)
{
	if (rf.naddr < RF_MAX_ADDRS &&
	    tapir_addr_parse(addr, &rf.addr[rf.naddr]))
		rf.plen[rf.naddr++] = plen;
}

static void f_report(void *arg, const config_setting_t *s, const char *msg)
{
	(void)arg;
	if (rf.nerrors < 8)
		snprintf(rf.errors[rf.nerrors++], sizeof(rf.errors[0]),
			 "line %u: %s", s ? config_setting_source_line(s) : 0,
			 msg);
}

config_setting_t *rf_section(const char *text)
{
	rf_section_free();
	config_init(&cfg);
	cfg_live = true;
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		fprintf(stderr, "config line %d: %s\n", config_error_line(&cfg),
			config_error_text(&cfg));
		return NULL;
	}
	return config_root_setting(&cfg);
}

int rf_check(const config_setting_t *s)
{
	modconf_free(&mc);
	rf.nerrors = 0;
	return modconf_check(&tapir_module, s, f_report, NULL, &mc) ? -1 : 0;
}

const void *rf_conf(void)
{
	return mc.values;
}

void rf_section_free(void)
{
	modconf_free(&mc);
	if (cfg_live)
		config_destroy(&cfg);
	cfg_live = false;
}

void *rf_start(const char *text)
{
	config_setting_t *s = rf_section(text);

	if (!s || rf_check(s))
		return NULL;
	return tapir_module.init(&the_host, &rf_api, rf_conf());
}

void rf_rx(const char *src, uint8_t hl, const uint8_t *msg, size_t len)
{
	struct tapir_icmp6_meta m = {.hop_limit = hl};

	tapir_addr_parse(src, &m.src_ip);
	tapir_addr_parse("ff02::2", &m.dst_ip);
	memcpy(m.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	if (rf.bound)
		rf.rx_fn(rf.rx_arg, &m, msg, len);
}

void rf_rs(void)
{
	static const uint8_t rs[] = {133, 0, 0, 0, 0, 0, 0, 0,
				     1,   1, 2, 0, 0, 0, 0, 1};

	rf_rx("fe80::1", 255, rs, sizeof(rs));
}

void rf_advance(uint64_t ms)
{
	uint64_t end = rf.now + ms;

	for (;;) {
		struct tapir_timer *next = NULL;

		for (int i = 0; i < RF_MAX_TIMERS; i++) {
			struct tapir_timer *t = &rf.timers[i];

			if (t->used && t->armed && t->due <= end &&
			    (!next || t->due < next->due))
				next = t;
		}
		if (!next)
			break;
		if (next->due > rf.now)
			rf.now = next->due;
		next->armed = false;
		next->fn(next->arg);
	}
	rf.now = end;
}

uint64_t rf_counter(const char *name)
{
	for (unsigned i = 0; i < rf.ncounters; i++)
		if (!strcmp(rf.counters[i].name, name))
			return rf.counters[i].v;
	return 0;
}

unsigned rf_timers_armed(void)
{
	unsigned n = 0;

	for (int i = 0; i < RF_MAX_TIMERS; i++)
		n += rf.timers[i].used && rf.timers[i].armed;
	return n;
}

const struct rf_sent *rf_msg(unsigned i)
{
	return i < rf.nsent && i < RF_MAX_SENT ? &rf.sent[i] : NULL;
}

bool rf_joined(const char *group)
{
	struct tapir_addr g;

	if (!tapir_addr_parse(group, &g))
		return false;
	for (unsigned i = 0; i < rf.ngroups; i++)
		if (tapir_addr_eq(&rf.groups[i], &g))
			return rf.group_refs[i] > 0;
	return false;
}
