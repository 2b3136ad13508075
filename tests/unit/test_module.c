/*
 * Module loader and the reload transaction (module.c): a failing check
 * anywhere leaves the running modules untouched; changed sections are
 * reconfigured, removed modules stopped (and their ports, timers and
 * counters released by the host), new ones started.  The echo module is
 * exercised end to end: a UDP datagram in, the echo out, ports moved by a
 * reload.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "helpers.h"
#include "net/csum.h"
#include "daemon/modhost.h"
#include "daemon/pubsub.h"
#include "net/core.h"
#include "wire/ip4.h"
#include "wire/udp.h"
#include "version.h"

struct testmod_log {
	int checks, inits, reconfigures, finis;
	long long value;
	struct tapir_host *host[4];
	const struct tapir_host_api *api[4];
	bool has_random, has_report;
	int random_rc;
	bool has_tapird_version;
	const char *tapird_version;
};

static struct testmod_log *tlog;
static void *tdl;
static char tpath[1024], epath[1024];
static uint64_t now_ms;
static uint8_t last[2048];
static size_t last_len, sent;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return now_ms;
}

static int fake_xmit(void *ctx, const uint8_t *f, size_t len,
		     const struct stack_tx_offload *off)
{
	(void)ctx;
	/* These stacks are made without offloads. */
	ck_assert(!off || !off->csum);
	sent++;
	last_len = len < sizeof(last) ? len : sizeof(last);
	memcpy(last, f, last_len);
	return 0;
}

static struct stack *st;
static struct modules set;
static struct conf *cur;

static void setup(void)
{
	const char *dir = getenv("TAPIR_TEST_MODULE_DIR");
	const char *edir = getenv("TAPIR_TEST_ECHO_DIR");
	struct stack_params p;

	snprintf(tpath, sizeof(tpath), "%s/testmod.so", dir ? dir : ".libs");
	snprintf(epath, sizeof(epath), "%s/echo.so",
		 edir ? edir : "../../src/modules/.libs");
	/* Hold our own reference so the log survives the loader's dlclose. */
	tdl = dlopen(tpath, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(tdl, "%s", dlerror());
	tlog = dlsym(tdl, "testmod_log");
	ck_assert_ptr_nonnull(tlog);
	memset(tlog, 0, sizeof(*tlog));
	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	now_ms = 1000;
	sent = 0;
	st = stack_new(&p, &th_secrets, fake_xmit, NULL, fake_clock, NULL);
	ck_assert_ptr_nonnull(st);
	modules_init(&set, st);
	cur = NULL;
}

static void teardown(void)
{
	modules_stop_all(&set);
	/* Only the ARP cache's own entry timers may remain. */
	ck_assert_uint_eq(st->timers.count, st->arp.used);
	stack_free(st);
	conf_free(cur);
	dlclose(tdl);
}

/* Build a config text with the given module list body. */
static struct conf *load(const char *mods, struct conf_errors *errs)
{
	char *text;
	struct conf *c;

	ck_assert_int_ge(asprintf(&text,
				  "interface = { address = \"10.0.0.2/24\"; };\n"
				  "modules = (\n%s\n);\n",
				  mods),
			 0);
	c = conf_load_string(text, "t.conf", errs);
	free(text);
	return c;
}

/* The whole reload: load, prepare, commit or abort.  Returns the number
 * of errors (0: committed). */
static size_t reload(const char *mods, int *failures, struct conf_errors *errs)
{
	struct module_txn txn = {0};
	struct conf *c = load(mods, errs);

	if (!c)
		return errs->n;
	if (modules_prepare(&set, c, errs, &txn) < 0) {
		modules_abort(&txn);
		conf_free(c);
		return errs->n;
	}
	*failures = modules_commit(&set, &txn);
	conf_free(cur);
	cur = c;
	return 0;
}

static char *mod(const char *name, const char *path, const char *extra)
{
	static char buf[8][2048];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "{ name = \"%s\"; path = \"%s\"; %s }", name, path,
		 extra);
	return b;
}

START_TEST(test_start_and_reconfigure)
{
	struct conf_errors errs = {0};
	char mods[8192];
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "value = 1;"), &fail, &errs), 0);
	ck_assert_int_eq(fail, 0);
	ck_assert_int_eq(tlog->inits, 1);
	ck_assert_int_eq(tlog->value, 1);
	ck_assert_uint_eq(modules_count(&set), 1);

	/* Same section: nothing happens. */
	ck_assert_uint_eq(reload(mod("a", tpath, "value = 1;"), &fail, &errs), 0);
	ck_assert_int_eq(tlog->reconfigures, 0);
	ck_assert_int_eq(tlog->inits, 1);

	/* Changed section: reconfigure, no restart. */
	ck_assert_uint_eq(reload(mod("a", tpath, "value = 2;"), &fail, &errs), 0);
	ck_assert_int_eq(tlog->reconfigures, 1);
	ck_assert_int_eq(tlog->value, 2);
	ck_assert_int_eq(tlog->finis, 0);

	/* Added module: started next to the first. */
	snprintf(mods, sizeof(mods), "%s,\n%s", mod("a", tpath, "value = 2;"),
		 mod("b", tpath, "value = 5;"));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 0);
	ck_assert_uint_eq(modules_count(&set), 2);
	ck_assert_int_eq(tlog->inits, 2);

	/* Removed module: stopped. */
	ck_assert_uint_eq(reload(mod("b", tpath, "value = 5;"), &fail, &errs), 0);
	ck_assert_uint_eq(modules_count(&set), 1);
	ck_assert_int_eq(tlog->finis, 1);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_failed_check_keeps_old_state)
{
	struct conf_errors errs = {0};
	char mods[8192];
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "value = 1;"), &fail, &errs), 0);
	/* A good change to a plus a failing new module: nothing applies. */
	snprintf(mods, sizeof(mods), "%s,\n%s", mod("a", tpath, "value = 9;"),
		 mod("b", tpath, "fail_check = true;"));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 1);
	ck_assert_str_eq(errs.msgs[0], "t.conf:4: module b: asked to fail");
	ck_assert_int_eq(tlog->value, 1);
	ck_assert_int_eq(tlog->reconfigures, 0);
	ck_assert_int_eq(tlog->inits, 1);
	ck_assert_int_eq(tlog->finis, 0);
	ck_assert_uint_eq(modules_count(&set), 1);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_unknown_setting_and_missing_module)
{
	struct conf_errors errs = {0};
	char mods[8192];
	int fail = -1;

	snprintf(mods, sizeof(mods), "{ name = \"a\"; path = \"%s\";\n"
				     "  vlaue = 1; },\n%s",
		 tpath, mod("nosuch", "/nonexistent/nosuch.so", ""));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 2);
	ck_assert_str_eq(errs.msgs[0],
			 "t.conf:4: module a: unknown setting 'vlaue'");
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], "t.conf:5: cannot load "
						   "module 'nosuch'"));
	ck_assert_uint_eq(modules_count(&set), 0);
	ck_assert_int_eq(tlog->inits, 0);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_failed_reconfigure_keeps_settings)
{
	struct conf_errors errs = {0};
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "value = 1;"), &fail, &errs), 0);
	ck_assert_uint_eq(reload(mod("a", tpath,
				     "value = 3; fail_reconfigure = true;"),
			      &fail, &errs),
			  0);
	ck_assert_int_eq(fail, 1);
	ck_assert_int_eq(tlog->value, 1);
	ck_assert_uint_eq(modules_count(&set), 1);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_failed_init_is_reported)
{
	struct conf_errors errs = {0};
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "fail_init = true;"), &fail,
				 &errs),
			  0);
	ck_assert_int_eq(fail, 1);
	ck_assert_uint_eq(modules_count(&set), 0);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_host_releases_leaked_resources)
{
	struct conf_errors errs = {0};
	struct udp_binding b = {.port = 4242};
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "port = 4242;"), &fail, &errs),
			  0);
	ck_assert_int_eq(udp_bind(st, &b), -EADDRINUSE);
	ck_assert_uint_eq(st->timers.count, 1);
	/* Remove the module: fini frees only its state; the host the rest. */
	ck_assert_uint_eq(reload("", &fail, &errs), 0);
	ck_assert_uint_eq(st->timers.count, 0);
	ck_assert_int_eq(udp_bind(st, &b), 0);
	udp_unbind(st, &b);
	conf_errors_clear(&errs);
}
END_TEST

static uint16_t src_port = 5555;

/* Send a UDP datagram to 10.0.0.2:port from 10.0.0.1:src_port. */
static void send_udp(uint16_t port, const char *payload)
{
	uint8_t f[256];
	size_t plen = strlen(payload), ulen = UDP_HLEN + plen;
	struct eth_hdr eh = {.dst = {2, 0, 0, 0, 0, 2},
			     .src = {2, 0, 0, 0, 0, 1},
			     .type = ETH_TYPE_IP4};
	struct ip4_hdr ih = {.ihl = 20, .total_len = (uint16_t)(20 + ulen),
			     .ttl = 64, .proto = IP4_PROTO_UDP,
			     .src = 0x0a000001, .dst = 0x0a000002};
	struct udp_hdr uh = {.sport = src_port, .dport = port,
			     .len = (uint16_t)ulen};

	eth_hdr_write(f, &eh);
	ip4_hdr_write(f + 14, &ih);
	udp_hdr_write(f + 34, &uh);
	memcpy(f + 42, payload, plen);
	uh.csum = csum_fold(csum_partial(f + 34, ulen,
					 csum_pseudo4(ih.src, ih.dst,
						      IP4_PROTO_UDP,
						      (uint16_t)ulen)));
	udp_hdr_write(f + 34, &uh);
	sent = 0;
	stack_input(st, f, 34 + ulen, 0);
}

/* The last frame sent was a UDP datagram from port, total payload bytes
 * long, starting with payload. */
static void assert_udp_reply_len(uint16_t port, const char *payload,
				 size_t total)
{
	size_t plen = strlen(payload);

	ck_assert_uint_eq(sent, 1);
	ck_assert_uint_eq(last_len, 42 + total);
	ck_assert_uint_eq(last[23], IP4_PROTO_UDP);
	ck_assert_uint_eq(be16(last + 34), port);
	ck_assert_uint_eq(be16(last + 36), 5555);
	ck_assert_mem_eq(last + 42, payload, plen);
}

static void assert_udp_reply(uint16_t port, const char *payload)
{
	assert_udp_reply_len(port, payload, strlen(payload));
}

static void assert_port_unreachable(void)
{
	ck_assert_uint_eq(sent, 1);
	ck_assert_uint_eq(last[23], IP4_PROTO_ICMP);
	ck_assert_uint_eq(last[34], 3);
	ck_assert_uint_eq(last[35], 3);
}

/* An ARP reply to us: 10.0.0.1 is at 02:00:00:00:00:01.  What waited for
 * it goes out; `sent` counts those frames. */
static void resolve_peer(void)
{
	static const uint8_t arp[42] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 6,          /* Ethernet */
		0, 1, 8, 0, 6, 4, 0, 2,                            /* reply */
		2, 0, 0, 0, 0, 1, 10, 0, 0, 1,                     /* sender */
		2, 0, 0, 0, 0, 2, 10, 0, 0, 2,                     /* target */
	};

	sent = 0;
	stack_input(st, arp, sizeof(arp), 0);
}

START_TEST(test_echo_module_serves_and_moves)
{
	struct conf_errors errs = {0};
	int fail = -1;

	/* Resolve the peer first so replies go out at once. */
	ck_assert_uint_eq(reload(mod("echo", epath, "udp_port = 7;"), &fail,
				 &errs),
			  0);
	ck_assert_int_eq(fail, 0);
	send_udp(7, "x"); /* ARP request goes out; reply queued */
	resolve_peer();
	ck_assert_uint_eq(sent, 1); /* the queued echo */
	send_udp(7, "hello");
	assert_udp_reply(7, "hello");
	send_udp(19, "?");
	/* RFC 864: six 72-character lines, each shifted by one. */
	assert_udp_reply_len(19, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJ"
				 "KLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n!\"#",
			     6 * 74);
	send_udp(9, "gone");
	ck_assert_uint_eq(sent, 0);

	/* Reload: echo moves to 7777; 7 is closed afterwards. */
	ck_assert_uint_eq(reload(mod("echo", epath, "udp_port = 7777;"), &fail,
				 &errs),
			  0);
	ck_assert_int_eq(fail, 0);
	send_udp(7777, "moved");
	assert_udp_reply(7777, "moved");
	send_udp(7, "old");
	assert_port_unreachable();

	/* A broken echo section is refused and 7777 keeps working. */
	ck_assert_uint_eq(reload(mod("echo", epath, "udp_port = 70000;"), &fail,
				 &errs),
			  1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "t.conf:3: module echo: "
						   "udp_port = 70000"));
	send_udp(7777, "still");
	assert_udp_reply(7777, "still");

	/* Ports swapping between services are rebound. */
	ck_assert_uint_eq(reload(mod("echo", epath,
				     "udp_port = 9; discard_udp_port = 7777;"),
			      &fail, &errs),
			  0);
	ck_assert_int_eq(fail, 0);
	send_udp(9, "swap");
	assert_udp_reply(9, "swap");
	send_udp(7777, "void");
	ck_assert_uint_eq(sent, 0);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_echo_module_refuses_to_be_a_weapon)
{
	struct conf_errors errs = {0};
	int fail = -1;

	ck_assert_uint_eq(reload(mod("echo", epath, "chargen_rate = 2;"), &fail,
				 &errs),
			  0);
	send_udp(7, "x"); /* resolve 10.0.0.1 first */
	resolve_peer();
	/* A service port as source: another echo or chargen would answer
	 * back for ever.  No reply. */
	src_port = 19;
	send_udp(7, "loop");
	ck_assert_uint_eq(sent, 0);
	src_port = 7;
	send_udp(19, "loop");
	ck_assert_uint_eq(sent, 0);
	src_port = 5555;
	/* chargen_rate = 2: two replies now, then one per half second. */
	send_udp(19, "1");
	ck_assert_uint_eq(sent, 1);
	send_udp(19, "2");
	ck_assert_uint_eq(sent, 1);
	send_udp(19, "3");
	ck_assert_uint_eq(sent, 0);
	now_ms += 500;
	send_udp(19, "4");
	ck_assert_uint_eq(sent, 1);
	send_udp(19, "5");
	ck_assert_uint_eq(sent, 0);
	/* Echo is not limited: it sends no more than it gets. */
	for (int i = 0; i < 10; i++) {
		send_udp(7, "e");
		ck_assert_uint_eq(sent, 1);
	}
	/* A bad rate is refused with its line. */
	ck_assert_uint_eq(reload(mod("echo", epath, "chargen_rate = -1;"), &fail,
				 &errs),
			  1);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "t.conf:3: module echo: "
						   "chargen_rate"));
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_port_handed_over_on_reload)
{
	struct conf_errors errs = {0};
	const char *only = "discard_udp_port = 0; chargen_udp_port = 0; "
			   "tcp_port = 0; discard_tcp_port = 0; "
			   "chargen_tcp_port = 0;";
	char mods[8192], a[512], b[512];
	int fail = -1;

	snprintf(a, sizeof(a), "udp_port = 7; %s", only);
	ck_assert_uint_eq(reload(mod("a", epath, a), &fail, &errs), 0);
	send_udp(7, "x");
	resolve_peer();
	/* b, listed first, takes port 7 that a gives up in the same reload. */
	snprintf(a, sizeof(a), "udp_port = 17; %s", only);
	snprintf(b, sizeof(b), "udp_port = 7; %s", only);
	snprintf(mods, sizeof(mods), "%s,\n%s", mod("b", epath, b),
		 mod("a", epath, a));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 0);
	ck_assert_int_eq(fail, 0);
	ck_assert_uint_eq(modules_count(&set), 2);
	send_udp(7, "to b");
	assert_udp_reply(7, "to b");
	send_udp(17, "to a");
	assert_udp_reply(17, "to a");
	conf_errors_clear(&errs);
}
END_TEST

struct told {
	int calls, removals;
	char key[64];
};

static void told_cb(void *arg, const char *topic, const char *key,
		    const void *value, size_t len)
{
	struct told *t = arg;

	(void)topic;
	(void)len;
	t->calls++;
	t->removals += value == NULL;
	snprintf(t->key, sizeof(t->key), "%s", key);
}

struct hist_seen {
	unsigned n;
	char first[128], second[128];
};

/* The HELP text of the histogram "h2", into first. */
static void hist_help_cb(void *arg, const char *module, const char *name,
			 const char *help, const struct tapir_histogram *h)
{
	struct hist_seen *s = arg;

	(void)module;
	(void)h;
	if (!strcmp(name, "h2"))
		snprintf(s->first, sizeof(s->first), "%s", help ? help : "-");
}

static void hist_seen_cb(void *arg, const char *module, const char *name,
			 const char *help, const struct tapir_histogram *h)
{
	struct hist_seen *s = arg;
	char *out = s->n == 0 ? s->first : s->n == 1 ? s->second : NULL;

	s->n++;
	if (out)
		snprintf(out, 128, "%s/%s/%s/%llu", module, name,
			 help ? help : "-", (unsigned long long)h->count);
}

/* Published data: entries belong to their module; a reconfigured module keeps
 * them, a removed one loses them and the watchers are told. */
START_TEST(test_published_data_follows_module_lifetime)
{
	struct conf_errors errs = {0};
	const struct tapir_host_api *api;
	struct tapir_host *a, *b;
	struct told t = {0};
	char mods[4096];
	size_t len = 0;
	int fail = -1;

	snprintf(mods, sizeof(mods), "%s,%s", mod("a", tpath, "slot = 0;"),
		 mod("b", tpath, "slot = 1;"));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 0);
	ck_assert_int_eq(fail, 0);
	a = tlog->host[0];
	b = tlog->host[1];
	/* Each module has its own table, valid while it runs: b's outlives
	 * a, so the test calls through b's for both. */
	api = tlog->api[1];
	ck_assert_uint_eq(api->version, TAPIR_HOST_API_VERSION);
	ck_assert(TAPIR_HOST_HAS(api, publish) && TAPIR_HOST_HAS(api, lookup));
	ck_assert_int_eq(api->publish(a, "t", "10.0.0.5", "mac=x", 5), 0);
	ck_assert_int_eq(api->publish(b, "t", "10.0.0.5", "mac=y", 5), -EPERM);
	ck_assert_ptr_nonnull(api->watch(b, "t", told_cb, &t));
	ck_assert_int_eq(t.calls, 1);
	ck_assert_str_eq(t.key, "10.0.0.5");
	ck_assert_str_eq(api->lookup(b, "t", "10.0.0.5", &len), "mac=x");
	ck_assert_uint_eq(len, 5);
	/* a reconfigured: its entry stays. */
	snprintf(mods, sizeof(mods), "%s,%s",
		 mod("a", tpath, "slot = 0; value = 3;"),
		 mod("b", tpath, "slot = 1;"));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 0);
	ck_assert_int_eq(tlog->reconfigures, 1);
	ck_assert_ptr_nonnull(api->lookup(b, "t", "10.0.0.5", &len));
	ck_assert_int_eq(t.calls, 1);
	/* a removed: its entry goes, b is told. */
	ck_assert_uint_eq(reload(mod("b", tpath, "slot = 1;"), &fail, &errs),
			  0);
	ck_assert_ptr_null(api->lookup(b, "t", "10.0.0.5", &len));
	ck_assert_int_eq(t.calls, 2);
	ck_assert_int_eq(t.removals, 1);
	/* Histograms (host API 6): one per name and module, names checked,
	 * listed with the module that owns them. */
	{
		struct tapir_histogram *h1, *h2;
		struct hist_seen hs = {0};
		uint64_t t0, t1;

		ck_assert(TAPIR_HOST_HAS(api, histogram) &&
			  TAPIR_HOST_HAS(api, now_us));
		h1 = api->histogram(b, "answer_duration", "Answers.");
		ck_assert_ptr_nonnull(h1);
		ck_assert_ptr_eq(api->histogram(b, "answer_duration", NULL), h1);
		h2 = api->histogram(b, "other", NULL);
		ck_assert_ptr_nonnull(h2);
		ck_assert_ptr_ne(h1, h2);
		errno = 0;
		ck_assert_ptr_null(api->histogram(b, "Upper", NULL));
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_ptr_null(api->histogram(b, "", NULL));
		ck_assert_ptr_null(api->histogram(b, "a-b", NULL));
		ck_assert_ptr_null(api->histogram(
			b, "a123456789a123456789a123456789a123456789a12345678",
			NULL));
		tapir_hist_observe(h1, 100);
		modules_foreach_histogram(&set, hist_seen_cb, &hs);
		ck_assert_uint_eq(hs.n, 2);
		ck_assert_str_eq(hs.first, "b/answer_duration/Answers./1");
		ck_assert_str_eq(hs.second, "b/other/-/0");
		t0 = api->now_us(b);
		t1 = api->now_us(b);
		ck_assert_uint_ge(t1, t0);
		/* HELP text is one line; a module has TAPIR_HIST_MAX at most. */
		ck_assert_ptr_nonnull(api->histogram(b, "h2", "one\ntwo\rthree"));
		hs.n = 0;
		modules_foreach_histogram(&set, hist_help_cb, &hs);
		ck_assert_str_eq(hs.first, "one two three");
		for (unsigned k = 3; k < TAPIR_HIST_MAX; k++) {
			char nm[16];

			snprintf(nm, sizeof(nm), "more_%u", k);
			ck_assert_ptr_nonnull(api->histogram(b, nm, NULL));
		}
		errno = 0;
		ck_assert_ptr_null(api->histogram(b, "one_too_many", NULL));
		ck_assert_int_eq(errno, ENOSPC);
		ck_assert_ptr_eq(api->histogram(b, "other", NULL), h2);
	}
	/* b removed too: its watch goes with it (nothing left to tell). */
	ck_assert_uint_eq(reload("", &fail, &errs), 0);
	ck_assert_uint_eq(pubsub_watches(set.pubsub), 0);
	ck_assert_uint_eq(pubsub_entries(set.pubsub), 0);
	conf_errors_clear(&errs);
}
END_TEST

static int fake_render(void *ctx, struct strbuf *b, const char *what)
{
	int *calls = ctx;

	++*calls;
	strbuf_printf(b, "the %s report", what);
	return 0;
}

/* The report call: the host checks the request, asks the reporter it was given
 * (no report code here) and hands the text over; EAGAIN without one. */
START_TEST(test_report_comes_from_the_given_reporter)
{
	struct conf_errors errs = {0};
	const struct tapir_host_api *api;
	struct tapir_host *h;
	int fail = -1, calls = 0;
	size_t len = 1;
	char *out;

	ck_assert_uint_eq(reload(mod("a", tpath, "slot = 0;"), &fail, &errs),
			  0);
	h = tlog->host[0];
	api = tlog->api[0];
	ck_assert(TAPIR_HOST_HAS(api, report));
	errno = 0;
	ck_assert_ptr_null(api->report(h, "status", &len));
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_eq(len, 0);
	set.report = (struct modules_reporter){fake_render, &calls};
	out = api->report(h, "metrics", &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "the metrics report");
	ck_assert_uint_eq(len, strlen("the metrics report"));
	free(out);
	errno = 0;
	ck_assert_ptr_null(api->report(h, "arp", &len));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(calls, 1);
	conf_errors_clear(&errs);
}
END_TEST

static struct tapir_udp_meta got_meta;
static int got;

static void meta_cb(void *arg, const struct tapir_udp_meta *m,
		    const uint8_t *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	got_meta = *m;
	got++;
}

/* Addresses cross the ABI as struct tapir_addr: IPv4 mapped in, and only
 * IPv4 accepted out (for now). */
START_TEST(test_addresses_are_family_neutral)
{
	struct conf_errors errs = {0};
	const struct tapir_host_api *api;
	struct tapir_addr a, v6;
	struct tapir_udp *u;
	unsigned plen = 0;
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "slot = 0;"), &fail, &errs),
			  0);
	api = tlog->api[0];
	ck_assert_int_eq(api->if_addr(tlog->host[0], 0, &a, &plen), 0);
	ck_assert(tapir_addr_is_v4(&a));
	ck_assert_uint_eq(tapir_addr_v4(&a), 0x0a000002);
	ck_assert_uint_eq(plen, 24);
	ck_assert_int_eq(api->if_addr(tlog->host[0], 1, &a, &plen), -ENOENT);

	u = api->udp_bind(tlog->host[0], 4000, meta_cb, NULL);
	ck_assert_ptr_nonnull(u);
	got = 0;
	send_udp(4000, "hi");
	ck_assert_int_eq(got, 1);
	ck_assert(tapir_addr_is_v4(&got_meta.src_ip));
	ck_assert_uint_eq(tapir_addr_v4(&got_meta.src_ip), 0x0a000001);
	ck_assert_uint_eq(tapir_addr_v4(&got_meta.dst_ip), 0x0a000002);
	ck_assert_uint_eq(got_meta.src_port, 5555);

	ck_assert(tapir_addr_parse("fd00::1", &v6));
	{
		struct tapir_udp_dst d6 = {.ip = v6, .port = 9};
		struct tapir_udp_dst s6 = {
			.ip = tapir_addr_from_v4(0x0a000001), .port = 9,
			.src_ip = v6};
		struct tapir_udp_dst zero = {.port = 9};

		ck_assert_int_eq(api->udp_send(u, &d6, "x", 1), -EAFNOSUPPORT);
		ck_assert_int_eq(api->udp_send(u, &s6, "x", 1), -EAFNOSUPPORT);
		ck_assert_int_eq(api->udp_send(u, &zero, "x", 1), -EINVAL);
	}
	errno = 0;
	ck_assert_ptr_null(api->tcp_connect(tlog->host[0], &v6, 80, NULL, NULL));
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	api->udp_unbind(u);
	conf_errors_clear(&errs);
}
END_TEST

/* Host API 2: random bytes from the kernel, bounded per call. */
START_TEST(test_random_from_the_host)
{
	struct conf_errors errs = {0};
	const struct tapir_host_api *api;
	uint8_t a[TAPIR_RANDOM_MAX + 1], b[32], zero[32] = {0};
	int fail = -1;

	ck_assert_uint_eq(reload(mod("a", tpath, "slot = 0;"), &fail, &errs),
			  0);
	api = tlog->api[0];
	ck_assert(TAPIR_HOST_HAS(api, random));
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(api->random(tlog->host[0], a, 32), 0);
	ck_assert_int_eq(api->random(tlog->host[0], b, 32), 0);
	/* 2^-256 to fail by chance. */
	ck_assert(memcmp(a, zero, 32) != 0);
	ck_assert(memcmp(a, b, 32) != 0);
	ck_assert_int_eq(api->random(tlog->host[0], a, TAPIR_RANDOM_MAX), 0);
	ck_assert_int_eq(api->random(tlog->host[0], a, sizeof(a)), -EINVAL);
	ck_assert_int_eq(api->random(tlog->host[0], a, 0), 0);
	conf_errors_clear(&errs);
}
END_TEST

/* A module built for module ABI 1 is refused, in one line that names its
 * file and both ABIs, and nothing of it runs. */
START_TEST(test_other_abi_refused)
{
	struct conf_errors errs = {0};
	char path[1100], want[1400];
	int fail = -1;

	snprintf(path, sizeof(path), "%s/testmod_abi1.so",
		 getenv("TAPIR_TEST_MODULE_DIR") ? getenv("TAPIR_TEST_MODULE_DIR")
						 : ".libs");
	ck_assert_uint_eq(reload(mod("old", path, "value = 1;"), &fail, &errs),
			  1);
	snprintf(want, sizeof(want),
		 "t.conf:3: module 'old' (%s) was built for module ABI 1, "
		 "this tapird has ABI %d: rebuild the module",
		 path, TAPIR_MODULE_ABI);
	ck_assert_str_eq(errs.msgs[0], want);
	ck_assert_ptr_null(strchr(errs.msgs[0], '\n'));
	ck_assert_uint_eq(modules_count(&set), 0);
	conf_errors_clear(&errs);
}
END_TEST

/* A descriptor claiming a host API older than version 1 is refused. */
START_TEST(test_host_api_older_than_v1_refused)
{
	struct conf_errors errs = {0};
	char path[1100], want[1500];
	int fail = -1;

	snprintf(path, sizeof(path), "%s/testmod_tiny.so",
		 getenv("TAPIR_TEST_MODULE_DIR") ? getenv("TAPIR_TEST_MODULE_DIR")
						 : ".libs");
	ck_assert_uint_eq(reload(mod("tiny", path, ""), &fail, &errs), 1);
	snprintf(want, sizeof(want),
		 "t.conf:3: module 'tiny' (%s) was built against a host API "
		 "of 8 bytes, older than version 1 (%zu bytes) of module ABI "
		 "%d: rebuild the module",
		 path, offsetof(struct tapir_host_api, random),
		 TAPIR_MODULE_ABI);
	ck_assert_str_eq(errs.msgs[0], want);
	ck_assert_uint_eq(modules_count(&set), 0);
	conf_errors_clear(&errs);
}
END_TEST

static uint64_t old_inits;

static void find_counter(void *arg, const char *module, const char *name,
			 uint64_t v)
{
	(void)arg;
	if (!strcmp(module, "old") && !strcmp(name, "inits"))
		old_inits = v;
}

/* A module built against host API version 1 runs beside one built against
 * the current version: it gets a table of the size it knows, in which
 * TAPIR_HOST_HAS() says no to random() (version 2) and yes to the rest,
 * and it works (its port answers, its counter counts). */
START_TEST(test_older_host_api_works)
{
	struct conf_errors errs = {0};
	struct testmod_log *vlog;
	const struct tapir_host_api *api;
	struct udp_binding b = {.port = 4243};
	char vpath[1100], mods[4096];
	void *vdl;
	int fail = -1;

	snprintf(vpath, sizeof(vpath), "%s/testmod_v1.so",
		 getenv("TAPIR_TEST_MODULE_DIR") ? getenv("TAPIR_TEST_MODULE_DIR")
						 : ".libs");
	vdl = dlopen(vpath, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(vdl, "%s", dlerror());
	vlog = dlsym(vdl, "testmod_log");
	ck_assert_ptr_nonnull(vlog);
	memset(vlog, 0, sizeof(*vlog));
	snprintf(mods, sizeof(mods), "%s,\n%s",
		 mod("old", vpath, "slot = 0; port = 4243;"),
		 mod("new", tpath, "slot = 0;"));
	ck_assert_uint_eq(reload(mods, &fail, &errs), 0);
	ck_assert_int_eq(fail, 0);
	ck_assert_uint_eq(modules_count(&set), 2);
	/* What the old module was handed, and what it saw. */
	api = vlog->api[0];
	ck_assert_uint_eq(api->version, 1);
	ck_assert_uint_eq(api->size, offsetof(struct tapir_host_api, random));
	ck_assert(!TAPIR_HOST_HAS(api, random));
	ck_assert(!TAPIR_HOST_HAS(api, tapird_version));
	ck_assert(TAPIR_HOST_HAS(api, report));
	ck_assert(!vlog->has_random);
	ck_assert(!vlog->has_tapird_version);
	ck_assert(vlog->has_report);
	ck_assert_int_eq(vlog->inits, 1);
	/* It works: its port is bound, its counter counted. */
	ck_assert_int_eq(udp_bind(st, &b), -EADDRINUSE);
	old_inits = 0;
	modules_foreach_counter(&set, find_counter, NULL);
	ck_assert_uint_eq(old_inits, 1);
	ck_assert_int_eq(api->if_addr(vlog->host[0], 0, NULL, NULL), 0);
	/* The current module has the whole table, random() and
	 * tapird_version() included: the version tapird -V prints. */
	api = tlog->api[0];
	ck_assert_uint_eq(api->version, TAPIR_HOST_API_VERSION);
	ck_assert_uint_eq(api->size, sizeof(struct tapir_host_api));
	ck_assert(tlog->has_random);
	ck_assert_int_eq(tlog->random_rc, 0);
	ck_assert(tlog->has_tapird_version);
	ck_assert_str_eq(tlog->tapird_version, TAPIR_VERSION);
	ck_assert_uint_eq(reload("", &fail, &errs), 0);
	ck_assert_int_eq(vlog->finis, 1);
	ck_assert_int_eq(udp_bind(st, &b), 0);
	udp_unbind(st, &b);
	conf_errors_clear(&errs);
	dlclose(vdl);
}
END_TEST

/* A module built against host API version 2 gets random() but not
 * tapird_version() (version 3). */
START_TEST(test_host_api_v2)
{
	struct conf_errors errs = {0};
	struct testmod_log *vlog;
	const struct tapir_host_api *api;
	char vpath[1100];
	void *vdl;
	int fail = -1;

	snprintf(vpath, sizeof(vpath), "%s/testmod_v2.so",
		 getenv("TAPIR_TEST_MODULE_DIR") ? getenv("TAPIR_TEST_MODULE_DIR")
						 : ".libs");
	vdl = dlopen(vpath, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(vdl, "%s", dlerror());
	vlog = dlsym(vdl, "testmod_log");
	ck_assert_ptr_nonnull(vlog);
	memset(vlog, 0, sizeof(*vlog));
	ck_assert_uint_eq(reload(mod("v2", vpath, "slot = 0;"), &fail, &errs),
			  0);
	ck_assert_int_eq(fail, 0);
	api = vlog->api[0];
	ck_assert_uint_eq(api->version, 2);
	ck_assert_uint_eq(api->size,
			  offsetof(struct tapir_host_api, tapird_version));
	ck_assert(vlog->has_random);
	ck_assert_int_eq(vlog->random_rc, 0);
	ck_assert(!vlog->has_tapird_version);
	ck_assert_ptr_null(vlog->tapird_version);
	ck_assert_uint_eq(reload("", &fail, &errs), 0);
	ck_assert_int_eq(vlog->finis, 1);
	conf_errors_clear(&errs);
	dlclose(vdl);
}
END_TEST

static Suite *module_suite(void)
{
	Suite *s = suite_create("module");
	TCase *tc = tcase_create("transaction");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start_and_reconfigure);
	tcase_add_test(tc, test_failed_check_keeps_old_state);
	tcase_add_test(tc, test_unknown_setting_and_missing_module);
	tcase_add_test(tc, test_failed_reconfigure_keeps_settings);
	tcase_add_test(tc, test_failed_init_is_reported);
	tcase_add_test(tc, test_host_releases_leaked_resources);
	tcase_add_test(tc, test_echo_module_serves_and_moves);
	tcase_add_test(tc, test_echo_module_refuses_to_be_a_weapon);
	tcase_add_test(tc, test_port_handed_over_on_reload);
	tcase_add_test(tc, test_published_data_follows_module_lifetime);
	tcase_add_test(tc, test_report_comes_from_the_given_reporter);
	tcase_add_test(tc, test_addresses_are_family_neutral);
	tcase_add_test(tc, test_random_from_the_host);
	tcase_add_test(tc, test_other_abi_refused);
	tcase_add_test(tc, test_older_host_api_works);
	tcase_add_test(tc, test_host_api_v2);
	tcase_add_test(tc, test_host_api_older_than_v1_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(module_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
