/* The http module's connection handling (src/modules/http/http.c) against
 * a fake host: a TCP whose send room the test sets, a receive side that
 * keeps what recv() did not take until tcp_recv_resume(), and timers on a
 * clock the test advances.  Covers responses and their bytes, pipelining
 * held back while a response is being sent, streaming a file through a
 * small send window, the header deadline (408), idle close, slow readers
 * (reset), max_connections, bodies read and dropped, lingering close, a
 * missing root, and check()'s errors.  Under ASan, every test also shows
 * that fini() frees every connection. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tapir/module.h>

#include "daemon/modconf.h"

extern const struct tapir_module tapir_module;

/* ---- Fake host ---------------------------------------------------------- */

struct tapir_host {
	int unused;
};

struct tapir_timer {
	tapir_timer_fn fn;
	void *arg;
	bool armed;
	uint64_t due;
	struct tapir_timer *next;
};

struct tapir_tcp_listener {
	const struct tapir_tcp_handlers *cb;
	void *arg;
};

#define MAX_CONNS 8
#define SENT_CAP (1 << 20)

struct tapir_tcp {
	void *ctx;
	bool live; /* the module may use it */
	bool shut, closed, aborted, freed_by_host;
	bool want_writable;
	size_t room;
	uint8_t *sent;
	size_t sent_len;
	uint8_t pending[65536]; /* received, not taken yet */
	size_t pending_len;
};

static struct tapir_host host;
static uint64_t clock_ms;
static struct tapir_timer *timers;
static struct tapir_tcp_listener listener;
static bool listening;
static struct tapir_tcp conns[MAX_CONNS];
static uint64_t counters[16];
static const char *counter_names[16];
static char logbuf[8192];
static char dir[64];

static void f_log(struct tapir_host *h, int prio, const char *fmt, ...)
{
	va_list ap;
	size_t o = strlen(logbuf);

	(void)h;
	if (o + 200 > sizeof(logbuf))
		return;
	o += (size_t)snprintf(logbuf + o, sizeof(logbuf) - o, "<%d>", prio);
	va_start(ap, fmt);
	vsnprintf(logbuf + o, sizeof(logbuf) - o, fmt, ap);
	va_end(ap);
	strcat(logbuf, "\n");
}

static uint64_t f_now(struct tapir_host *h)
{
	(void)h;
	return clock_ms;
}

static struct tapir_timer *f_timer_new(struct tapir_host *h, tapir_timer_fn fn,
				       void *arg)
{
	struct tapir_timer *t = calloc(1, sizeof(*t));

	(void)h;
	ck_assert_ptr_nonnull(t);
	t->fn = fn;
	t->arg = arg;
	t->next = timers;
	timers = t;
	return t;
}

static void f_timer_arm(struct tapir_timer *t, uint64_t ms)
{
	t->armed = true;
	t->due = clock_ms + ms;
}

static void f_timer_cancel(struct tapir_timer *t)
{
	t->armed = false;
}

static void f_timer_free(struct tapir_timer *t)
{
	struct tapir_timer **pp = &timers;

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	free(t);
}

static uint64_t *f_counter(struct tapir_host *h, const char *name)
{
	(void)h;
	for (int i = 0; i < 16; i++) {
		if (counter_names[i] && !strcmp(counter_names[i], name))
			return &counters[i];
		if (!counter_names[i]) {
			counter_names[i] = name;
			return &counters[i];
		}
	}
	return NULL;
}

static uint64_t counter(const char *name)
{
	for (int i = 0; i < 16; i++)
		if (counter_names[i] && !strcmp(counter_names[i], name))
			return counters[i];
	ck_abort_msg("no counter %s", name);
	return 0;
}

static struct tapir_tcp_listener *f_listen(struct tapir_host *h, uint16_t port,
					   const struct tapir_tcp_handlers *cb,
					   void *arg)
{
	(void)h;
	(void)port;
	ck_assert(!listening);
	listening = true;
	listener.cb = cb;
	listener.arg = arg;
	return &listener;
}

static void f_unlisten(struct tapir_tcp_listener *l)
{
	(void)l;
	listening = false;
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].live) {
			conns[i].live = false;
			conns[i].aborted = true;
			listener.cb->closed(conns[i].ctx, &conns[i],
					    -ECONNABORTED);
		}
}

static size_t f_send(struct tapir_tcp *c, const void *data, size_t len)
{
	size_t n = len < c->room ? len : c->room;

	ck_assert(c->live);
	ck_assert(!c->shut);
	ck_assert_uint_le(c->sent_len + n, SENT_CAP);
	memcpy(c->sent + c->sent_len, data, n);
	c->sent_len += n;
	c->room -= n;
	if (n < len)
		c->want_writable = true;
	return n;
}

static size_t f_room(struct tapir_tcp *c)
{
	return c->room;
}

static void f_shutdown(struct tapir_tcp *c)
{
	ck_assert(c->live);
	c->shut = true;
}

static void f_close(struct tapir_tcp *c)
{
	ck_assert(c->live);
	c->live = false;
	c->closed = true;
}

static void f_abort(struct tapir_tcp *c)
{
	ck_assert(c->live);
	c->live = false;
	c->aborted = true;
}

/* Offer what is pending to recv(), as the stack does. */
static void deliver(struct tapir_tcp *c)
{
	size_t took;

	if (!c->live || !c->pending_len)
		return;
	took = listener.cb->recv(c->ctx, c, c->pending, c->pending_len);
	if (!c->live)
		return;
	ck_assert_uint_le(took, c->pending_len);
	memmove(c->pending, c->pending + took, c->pending_len - took);
	c->pending_len -= took;
}

static void f_resume(struct tapir_tcp *c)
{
	deliver(c);
}

static void f_nodelay(struct tapir_tcp *c, bool on)
{
	(void)c;
	(void)on;
}

static struct tapir_addr peer_addr; /* 10.0.0.1 unless a test says */

static void f_peer(struct tapir_tcp *c, struct tapir_addr *addr,
		   uint16_t *port)
{
	*addr = peer_addr;
	*port = (uint16_t)(40000 + (c - conns));
}

/* What the fake tapird says its version is (host API 3). */
static const char *fake_version;

static const char *f_version(struct tapir_host *h)
{
	(void)h;
	return fake_version;
}

/* The reports (a fixed page) and our interface addresses: 10.0.0.2/24
 * and fd00::2/64, as tapird would give them. */
static char last_report[32]; /* the report last asked for */

static char *f_report(struct tapir_host *h, const char *what, size_t *len)
{
	char *p = strdup(!strcmp(what, "status")        ? "{\"secret\":1}"
			 : !strcmp(what, "status.html") ? "<p>page</p>\n"
							: "m 1\n");

	(void)h;
	snprintf(last_report, sizeof(last_report), "%s", what);
	ck_assert_ptr_nonnull(p);
	*len = strlen(p);
	return p;
}

static int f_if_addr(struct tapir_host *h, unsigned i, struct tapir_addr *a,
		     unsigned *len)
{
	(void)h;
	if (i == 0) {
		*a = tapir_addr_from_v4(0x0a000002);
		*len = 24;
		return 0;
	}
	if (i == 1) {
		ck_assert(tapir_addr_parse("fd00::2", a));
		*len = 64;
		return 0;
	}
	return -ENOENT;
}

static const struct tapir_host_api api = {
    .size = sizeof(struct tapir_host_api),
    .version = TAPIR_HOST_API_VERSION,
    .log = f_log,
    .now_ms = f_now,
    .timer_new = f_timer_new,
    .timer_arm = f_timer_arm,
    .timer_cancel = f_timer_cancel,
    .timer_free = f_timer_free,
    .counter = f_counter,
    .tcp_listen = f_listen,
    .tcp_unlisten = f_unlisten,
    .tcp_send = f_send,
    .tcp_send_room = f_room,
    .tcp_shutdown = f_shutdown,
    .tcp_close = f_close,
    .tcp_abort = f_abort,
    .tcp_recv_resume = f_resume,
    .tcp_set_nodelay = f_nodelay,
    .tcp_peer = f_peer,
    .report = f_report,
    .if_addr = f_if_addr,
    .tapird_version = f_version,
};

/* ---- Test plumbing ------------------------------------------------------ */

static config_t cfg;
static void *state;
static struct modconf mc;
static int check_errors;

static void count_error(void *arg, const config_setting_t *at, const char *msg)
{
	(void)arg;
	(void)at;
	(void)msg;
	check_errors++;
}

/* The section read against the module's descriptors and checked, as
 * tapird does; the number of problems.  mc holds the settings. */
static int read_section(const config_setting_t *sec)
{
	modconf_free(&mc);
	check_errors = 0;
	return modconf_check(&tapir_module, sec, count_error, NULL, &mc);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Start the module with extra settings (root is the test's directory). */
static void start(const char *extra)
{
	char text[2048];
	const config_setting_t *sec;

	snprintf(
	    text, sizeof(text),
	    "http = { port = 80; root = \"%s\"; access_log = \"daemon\"; "
	    "header_timeout = 2; idle_timeout = 3; send_timeout = 4; %s };",
	    dir, extra);
	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, text), "%s",
		      config_error_text(&cfg));
	sec = config_lookup(&cfg, "http");
	ck_assert_int_eq(read_section(sec), 0);
	state = tapir_module.init(&host, &api, mc.values);
	ck_assert_ptr_nonnull(state);
}

static void setup(void)
{
	char big[100000];

	strcpy(dir, "/tmp/tapir-http-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("index.html", "<h1>hi</h1>\n", 12);
	write_file("a.txt", "hello\n", 6);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	write_file("big.bin", big, sizeof(big));
	clock_ms = 1000;
	fake_version = "9.8.7-g1a2b3c4";
	logbuf[0] = '\0';
	peer_addr = tapir_addr_from_v4(0x0a000001);
	memset(counters, 0, sizeof(counters));
	memset(counter_names, 0, sizeof(counter_names));
	for (int i = 0; i < MAX_CONNS; i++) {
		memset(&conns[i], 0, sizeof(conns[i]));
		conns[i].sent = malloc(SENT_CAP);
		ck_assert_ptr_nonnull(conns[i].sent);
	}
	state = NULL;
}

static void teardown(void)
{
	char cmd[128];

	if (state)
		tapir_module.fini(state);
	state = NULL;
	ck_assert_ptr_null(timers); /* every connection's timer freed */
	for (int i = 0; i < MAX_CONNS; i++)
		free(conns[i].sent);
	config_destroy(&cfg);
	modconf_free(&mc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A new connection from the peer with room bytes of send space. */
static struct tapir_tcp *connect_peer(size_t room)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct tapir_tcp *c = &conns[i];

		if (c->live || c->closed || c->aborted)
			continue;
		c->room = room;
		c->live = true;
		c->ctx = listener.cb->accepted(listener.arg, c);
		if (!c->ctx) {
			c->live = false;
			c->aborted = true; /* refused: the stack resets */
		}
		return c;
	}
	ck_abort_msg("out of fake connections");
	return NULL;
}

static void send_str(struct tapir_tcp *c, const char *s)
{
	size_t n = strlen(s);

	ck_assert_uint_le(c->pending_len + n, sizeof(c->pending));
	memcpy(c->pending + c->pending_len, s, n);
	c->pending_len += n;
	deliver(c);
}

/* The peer reads everything sent so far and opens room again. */
static void drain(struct tapir_tcp *c, size_t room)
{
	c->room = room;
	if (c->live && c->want_writable) {
		c->want_writable = false;
		listener.cb->writable(c->ctx, c);
	}
}

static void advance(uint64_t ms)
{
	uint64_t end = clock_ms + ms;

	while (clock_ms < end) {
		struct tapir_timer *t;

		clock_ms++;
		for (t = timers; t; t = t->next)
			if (t->armed && t->due <= clock_ms) {
				t->armed = false;
				t->fn(t->arg);
				break; /* the list may have changed */
			}
	}
}

static void peer_fin(struct tapir_tcp *c)
{
	listener.cb->peer_closed(c->ctx, c);
}

/* How many times s occurs in what c was sent. */
static int count_in_sent(const struct tapir_tcp *c, const char *s)
{
	int n = 0;
	size_t len = strlen(s);

	for (size_t i = 0; i + len <= c->sent_len; i++)
		if (!memcmp(c->sent + i, s, len))
			n++;
	return n;
}

static bool sent_starts(const struct tapir_tcp *c, const char *s)
{
	return c->sent_len >= strlen(s) && !memcmp(c->sent, s, strlen(s));
}

/* ---- Tests -------------------------------------------------------------- */

START_TEST(test_get_and_keep_alive)
{
	struct tapir_tcp *c;

	start("");
	c = connect_peer(65536);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	ck_assert_int_eq(count_in_sent(c, "Content-Length: 6\r\n"), 1);
	ck_assert_int_eq(count_in_sent(c, "\r\n\r\nhello\n"), 1);
	ck_assert(c->live && !c->shut);
	ck_assert_ptr_nonnull(strstr(logbuf, "10.0.0.1:40000 \"GET /a.txt "
					     "HTTP/1.1\" 200 "));
	/* An IPv6 peer is logged in brackets (RFC 5952 section 6). */
	ck_assert(tapir_addr_parse("fd00::1", &peer_addr));
	{
		struct tapir_tcp *c6 = connect_peer(65536);

		send_str(c6, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
		ck_assert(sent_starts(c6, "HTTP/1.1 200 OK\r\n"));
		ck_assert_ptr_nonnull(strstr(logbuf, "[fd00::1]:40001 \"GET "));
	}
	/* Idle for idle_timeout (3 s): closed quietly. */
	c->sent_len = 0;
	advance(2999);
	ck_assert(c->live);
	advance(2);
	ck_assert(c->closed);
	ck_assert_uint_eq(c->sent_len, 0);
}
END_TEST

/* The combined log format: address, "- -", the time, the request, the
 * status, the body's bytes without the head ("-" for none: HEAD), and
 * Referer and User-Agent, quotes escaped, spaces kept, "-" when absent. */
START_TEST(test_access_log_combined)
{
	struct tapir_tcp *c;
	const char *l;

	start("access_log_format = \"combined\";");
	logbuf[0] = '\0';
	c = connect_peer(65536);
	send_str(c, "GET /a.txt?x=1 HTTP/1.1\r\nHost: x\r\n"
		    "Referer: http://r.test/p\r\n"
		    "User-Agent: ua \"q\" 1.0\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	l = strstr(logbuf, "<6>10.0.0.1 - - [");
	ck_assert_msg(l, "%s", logbuf);
	ck_assert_msg(strstr(l, " +0000] \"GET /a.txt?x=1 HTTP/1.1\" 200 6 "
				"\"http://r.test/p\" \"ua \\x22q\\x22 1.0\"\n"),
		      "%s", logbuf);
	logbuf[0] = '\0';
	send_str(c, "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_msg(strstr(logbuf, "\"HEAD /a.txt HTTP/1.1\" 200 - \"-\" "
				     "\"-\"\n"),
		      "%s", logbuf);
	/* Nothing of the "tapir" format's line. */
	ck_assert_ptr_null(strstr(logbuf, "10.0.0.1:40000"));
}
END_TEST

/* Server: names the running tapird's version, as the host gives it;
 * one that is not a plain token (or none) leaves "tapir" alone. */
START_TEST(test_server_version)
{
	struct tapir_tcp *c;

	start("");
	c = connect_peer(65536);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	ck_assert_int_eq(count_in_sent(c, "\r\nServer: tapir/9.8.7-g1a2b3c4\r\n"),
			 1);
	send_str(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(count_in_sent(c, "\r\nServer: tapir/9.8.7-g1a2b3c4\r\n"),
			 2);
}
END_TEST

START_TEST(test_server_version_not_a_token)
{
	struct tapir_tcp *c;

	fake_version = "1.0\r\nX-Injected: 1";
	start("");
	c = connect_peer(65536);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	ck_assert_int_eq(count_in_sent(c, "\r\nServer: tapir\r\n"), 1);
	ck_assert_int_eq(count_in_sent(c, "X-Injected"), 0);
}
END_TEST

START_TEST(test_pipelined_in_order)
{
	struct tapir_tcp *c;
	const char *p;

	start("");
	c = connect_peer(65536);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
		    "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(count_in_sent(c, "HTTP/1.1 "), 3);
	p = (const char *)c->sent;
	c->sent[c->sent_len - 1] = '\0'; /* the HEAD's blank line ends it */
	ck_assert_ptr_nonnull(strstr(p, "200 OK"));
	ck_assert_ptr_nonnull(strstr(p, "404 Not Found"));
	ck_assert_ptr_nonnull(strstr(p, "Content-Length: 12"));
	ck_assert(strstr(p, "200 OK") < strstr(p, "404 Not Found"));
	ck_assert(strstr(p, "404 Not Found") < strstr(p, "Content-Length: 12"));
	ck_assert_int_eq(count_in_sent(c, "<h1>"), 0); /* HEAD: no body */
}
END_TEST

START_TEST(test_stream_through_small_window)
{
	struct tapir_tcp *c;
	uint8_t want[100000];
	size_t head, rounds = 0;
	const uint8_t *body;

	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 7 + i / 251);
	start("cache_size = 0;");
	c = connect_peer(1000);
	/* The second request waits while the first is sent. */
	send_str(c,
		 "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
		 "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_uint_eq(c->sent_len, 1000);
	while (!c->shut && rounds++ < 1000) {
		if (c->sent_len < 100000)
			ck_assert_int_eq(count_in_sent(c, "HTTP/1.1 "), 1);
		drain(c, 1000);
	}
	/* 100 full windows and a bit: never more read than fits. */
	ck_assert_uint_le(rounds, 102);
	body = memmem(c->sent, c->sent_len, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(body);
	head = (size_t)(body + 4 - c->sent);
	ck_assert_uint_ge(c->sent_len, head + sizeof(want));
	ck_assert_mem_eq(c->sent + head, want, sizeof(want));
	/* Then the second response, then our FIN after it. */
	ck_assert_int_eq(count_in_sent(c, "HTTP/1.1 "), 2);
	ck_assert_int_eq(count_in_sent(c, "\r\n\r\nhello\n"), 1);
	ck_assert(c->shut);
	/* Lingering: what arrives is dropped; the peer's FIN ends it. */
	send_str(c, "garbage after close");
	ck_assert_uint_eq(c->pending_len, 0);
	peer_fin(c);
	ck_assert(c->closed);
}
END_TEST

START_TEST(test_many_pipelined_flow_control)
{
	struct tapir_tcp *c;
	char reqs[300 * 32 + 1];
	size_t rounds = 0;

	/* A head buffer of 64 + 256 + 4 bytes: most of the 9600 bytes of
	 * requests stay in TCP until answers make room. */
	start("max_request_line = 64; max_header_bytes = 256;");
	c = connect_peer(1000);
	for (int i = 0; i < 300; i++)
		memcpy(reqs + i * 32, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
		       32);
	reqs[300 * 32] = '\0';
	send_str(c, reqs);
	ck_assert_uint_gt(c->pending_len, 8000);
	while (count_in_sent(c, "HTTP/1.1 ") < 300 && rounds++ < 1000)
		drain(c, 1000);
	ck_assert_uint_eq(c->pending_len, 0);
	ck_assert_int_eq(count_in_sent(c, "HTTP/1.1 200 OK\r\n"), 300);
	ck_assert_int_eq(count_in_sent(c, "\r\n\r\nhello\n"), 300);
	ck_assert(c->live && !c->shut);
}
END_TEST

START_TEST(test_header_deadline_408)
{
	struct tapir_tcp *c;

	start("");
	c = connect_peer(65536);
	advance(500);
	send_str(c, "GET / HTTP/1.1\r\n");
	advance(1000);
	send_str(c, "Host: x\r\n"); /* trickling does not extend it */
	advance(999);
	ck_assert_uint_eq(c->sent_len, 0);
	advance(2);
	ck_assert(sent_starts(c, "HTTP/1.1 408 Request Timeout\r\n"));
	ck_assert_int_eq(count_in_sent(c, "Connection: close\r\n"), 1);
	ck_assert(c->shut);
	ck_assert_uint_eq(counter("timeouts"), 1);
	/* The peer never closes: after the linger time, let go. */
	advance(2001);
	ck_assert(c->closed);
}
END_TEST

START_TEST(test_slow_reader_reset)
{
	struct tapir_tcp *c;

	start("");
	c = connect_peer(100);
	send_str(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	/* Taking 100 bytes every 100 ms earns no more time: reset when
	 * send_timeout (4 s) runs out. */
	for (int i = 0; i < 39; i++) {
		advance(100);
		drain(c, 100);
	}
	advance(99);
	ck_assert(c->live);
	advance(2);
	ck_assert(c->aborted);
	ck_assert_uint_eq(counter("timeouts"), 1);
	/* Taking 16 KiB does: send_timeout starts again. */
	c = connect_peer(100);
	send_str(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	advance(3000);
	drain(c, 16384);
	advance(3999);
	ck_assert(c->live);
	advance(2);
	ck_assert(c->aborted);
}
END_TEST

START_TEST(test_body_deadline)
{
	struct tapir_tcp *c;

	start("");
	c = connect_peer(65536);
	send_str(c, "POST /a.txt HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 10\r\n\r\n0");
	/* A byte every half second does not extend header_timeout (2 s),
	 * which the whole body has from the head's end. */
	for (int i = 0; i < 3; i++) {
		advance(500);
		send_str(c, "1");
	}
	advance(499);
	ck_assert(c->live);
	advance(2);
	ck_assert(c->aborted);
	ck_assert_uint_eq(counter("timeouts"), 1);
}
END_TEST

START_TEST(test_max_connections)
{
	struct tapir_tcp *a, *b, *c;

	start("max_connections = 2;");
	a = connect_peer(100);
	b = connect_peer(100);
	c = connect_peer(100);
	ck_assert(a->live && b->live);
	ck_assert(!c->live && c->aborted);
	ck_assert_uint_eq(counter("connections_refused"), 1);
	listener.cb->closed(a->ctx, a, 0);
	a->live = false;
	a->closed = true;
	c = connect_peer(100);
	ck_assert(c->live);
}
END_TEST

START_TEST(test_body_dropped_then_next)
{
	struct tapir_tcp *c;

	start("");
	c = connect_peer(65536);
	send_str(c,
		 "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
		 "0123");
	ck_assert_uint_eq(c->sent_len, 0); /* the body first */
	send_str(c, "456789GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 405 Method Not Allowed\r\n"));
	ck_assert_int_eq(count_in_sent(c, "Allow: GET, HEAD\r\n"), 1);
	ck_assert_int_eq(count_in_sent(c, "HTTP/1.1 200 OK\r\n"), 1);
	ck_assert(c->live && !c->shut);
}
END_TEST

START_TEST(test_errors_close)
{
	struct tapir_tcp *c;

	start("max_request_body = 100;");
	c = connect_peer(65536);
	send_str(c, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 413 Content Too Large\r\n"));
	ck_assert(c->shut);
	ck_assert_uint_eq(counter("bad_requests"), 1);
	c = connect_peer(65536);
	send_str(c, "GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 400 Bad Request\r\n"));
	c = connect_peer(65536);
	send_str(c, "GET / HTTP/1.0\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	ck_assert_int_eq(count_in_sent(c, "Connection: close\r\n"), 1);
	ck_assert(c->shut); /* 1.0 without keep-alive */
	ck_assert_ptr_nonnull(strstr(logbuf, "\"-\" 413 "));
}
END_TEST

START_TEST(test_missing_root)
{
	struct tapir_tcp *c;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	start("");
	ck_assert_ptr_nonnull(strstr(logbuf, "<4>document root "));
	ck_assert_ptr_nonnull(strstr(logbuf, "No such file or directory"));
	c = connect_peer(65536);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 404 Not Found\r\n"));
	/* Created later: found again (at most once a second). */
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	write_file("a.txt", "hello\n", 6);
	advance(1001);
	c->sent_len = 0;
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
}
END_TEST

START_TEST(test_cache_follows_the_file)
{
	struct tapir_tcp *c;
	char name[32];

	start("");
	c = connect_peer(1 << 20);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(count_in_sent(c, "\r\n\r\nhello\n"), 2);
	ck_assert_uint_eq(counter("cache_hits"), 1);
	/* Changed on disk: the new content, not the cached copy. */
	write_file("a.txt", "changed!\n", 9);
	send_str(c, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(count_in_sent(c, "\r\n\r\nchanged!\n"), 1);
	ck_assert_uint_eq(counter("cache_hits"), 1);
	/* More files than the cache holds: the oldest go, all still right. */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "f%d.txt", i);
		write_file(name, name, strlen(name));
	}
	c->sent_len = 0;
	for (int i = 0; i < 300; i++) {
		char req[80], want[40];

		snprintf(req, sizeof(req),
			 "GET /f%d.txt HTTP/1.1\r\nHost: x\r\n\r\n", i);
		send_str(c, req);
		snprintf(want, sizeof(want), "\r\n\r\nf%d.txt", i);
		ck_assert_int_eq(count_in_sent(c, want), 1);
	}
	send_str(c, "GET /f299.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_uint_eq(counter("cache_hits"), 2);
	send_str(c, "GET /f0.txt HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_uint_eq(counter("cache_hits"), 2); /* evicted */
}
END_TEST

START_TEST(test_listing_escapes_names)
{
	struct tapir_tcp *c;
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/d", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	write_file("d/<b>&x'.txt", "1", 1);
	write_file("d/.hidden", "1", 1);
	start("listing = true;");
	c = connect_peer(65536);
	send_str(c, "GET /d/ HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	ck_assert_int_eq(count_in_sent(c, "<a href=\"%3Cb%3E%26x%27.txt\">"
					  "&lt;b&gt;&amp;x&#39;.txt</a>"),
			 1);
	ck_assert_int_eq(count_in_sent(c, "hidden"), 0);
	/* Without listing (and without index): 404. */
	tapir_module.fini(state);
	config_destroy(&cfg);
	start("");
	c = connect_peer(65536);
	send_str(c, "GET /d/ HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 404 Not Found\r\n"));
}
END_TEST

static const struct {
	const char *section;
	int errors;
} checks[] = {
    {"port = 80; root = \"/srv\";", 0},
    {"port = 0;", 1},
    {"port = \"80\";", 1},
    {"root = \"relative\";", 1},
    {"index = \"a/b\";", 1},
    {"listing = 1;", 1},
    {"max_request_line = 10;", 1},
    {"max_headers = 0;", 1},
    {"header_timeout = 0;", 1},
    {"access_log = \"somewhere\";", 1},
    {"access_log_format = \"combined\";", 0},
    {"access_log_format = \"tapir\";", 0},
    {"access_log_format = \"common\";", 1},
    {"access_log_format = 1;", 1},
    {"mime_types = [ \"noType\", \"x.y a/b\", \"ok a/b\" ];", 2},
    {"mime_types = \"x a/b\";", 1},
    {"cache_size = -1; max_connections = 0;", 2},
    {"status_allow = [ \"10.0.0.1/32\", \"fd00::1/128\", \"link\" ];", 0},
    {"status_allow = [ ];", 0},
    {"status_allow = \"10.0.0.0/8\";", 0},
    {"status_allow = [ \"10.0.0.1/24\", \"10.0.0.0/33\", \"x/8\", "
     "\"fd00::/129\", \"10.0.0.0/08\", \"10.0.0.0/\", \"/8\" ];",
     7},
    {"status_allow = [ 1 ];", 1},
    /* The HTML status page takes status_path with ".html". */
    {"metrics_path = \"/status.html\";", 1},
    {"status_path = \"/s\"; metrics_path = \"/s.html\";", 1},
    {"status_path = \"\"; metrics_path = \"/status.html\";", 0},
    {"metrics_path = \"/status.htm\";", 0},
};

/* The first status code c was sent for a request of path from peer p,
 * HEAD when head; and whether a body followed. */
static int report_status(const char *p, const char *path, bool head,
			 bool *body)
{
	struct tapir_tcp *c;
	char req[128];
	int code = 0;

	ck_assert(tapir_addr_parse(p, &peer_addr));
	c = connect_peer(65536);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\n\r\n",
		 head ? "HEAD" : "GET", path);
	send_str(c, req);
	ck_assert_uint_gt(c->sent_len, 12);
	ck_assert(sscanf((const char *)c->sent, "HTTP/1.1 %d ", &code) == 1);
	if (body) {
		const char *end = memmem(c->sent, c->sent_len, "\r\n\r\n", 4);

		ck_assert_ptr_nonnull(end);
		*body = (size_t)(end + 4 - (const char *)c->sent) < c->sent_len;
	}
	return code;
}

/* Unset, status_allow is "link": the interface's own prefixes. */
START_TEST(test_status_allow_default_link)
{
	bool body;

	start("");
	ck_assert_int_eq(report_status("10.0.0.1", "/status", false, &body),
			 200);
	ck_assert(body);
	ck_assert_int_eq(report_status("fd00::99", "/metrics", false, NULL),
			 200);
	ck_assert_uint_eq(counter("status_denied"), 0);
	ck_assert_int_eq(report_status("10.0.1.1", "/status", false, &body),
			 403);
	ck_assert(body); /* "403 Forbidden" and nothing of the report */
	ck_assert_int_eq(report_status("fd01::1", "/metrics", true, &body),
			 403);
	ck_assert(!body);
	ck_assert_uint_eq(counter("status_denied"), 2);
	/* Files are not the reports: anyone gets them. */
	ck_assert_int_eq(report_status("192.0.2.1", "/a.txt", false, NULL),
			 200);
	ck_assert_uint_eq(counter("status_denied"), 2);
}
END_TEST

/* A list: exactly its prefixes, of both families; GET and HEAD alike. */
START_TEST(test_status_allow_list)
{
	bool body;

	start("status_allow = [ \"10.0.0.1/32\", \"fd00::1/128\", "
	      "\"192.168.0.0/16\" ];");
	ck_assert_int_eq(report_status("10.0.0.1", "/status", false, NULL),
			 200);
	ck_assert_int_eq(report_status("10.0.0.1", "/status", true, &body),
			 200);
	ck_assert(!body);
	ck_assert_int_eq(report_status("fd00::1", "/metrics", false, NULL),
			 200);
	ck_assert_int_eq(report_status("192.168.255.7", "/metrics", false,
				       NULL),
			 200);
	ck_assert_uint_eq(counter("status_denied"), 0);
	/* On the link, but not listed ("link" is not in the list). */
	ck_assert_int_eq(report_status("10.0.0.3", "/status", false, NULL),
			 403);
	ck_assert_int_eq(report_status("10.0.0.3", "/status", true, &body),
			 403);
	ck_assert(!body);
	ck_assert_int_eq(report_status("fd00::2:1", "/metrics", false, NULL),
			 403);
	/* An IPv4-mapped IPv6 prefix does not leak to other IPv4 peers. */
	ck_assert_int_eq(report_status("10.0.0.0", "/metrics", false, NULL),
			 403);
	ck_assert_uint_eq(counter("status_denied"), 4);
}
END_TEST

/* An empty list lets nobody read the reports, even on the link. */
START_TEST(test_status_allow_empty)
{
	start("status_allow = [ ];");
	ck_assert_int_eq(report_status("10.0.0.1", "/status", false, NULL),
			 403);
	ck_assert_int_eq(report_status("10.0.0.1", "/a.txt", false, NULL),
			 200);
	ck_assert_uint_eq(counter("status_denied"), 1);
}
END_TEST

static bool sent_has(const struct tapir_tcp *c, const char *str)
{
	return memmem(c->sent, c->sent_len, str, strlen(str)) != NULL;
}

/* The status as a page for browsers: status_path with ".html", with its
 * type and a policy that allows no scripts and nothing from elsewhere,
 * behind status_allow like the JSON. */
START_TEST(test_status_html)
{
	struct tapir_tcp *c;
	bool body;

	start("status_allow = [ \"10.0.0.1/32\" ];");
	ck_assert(tapir_addr_parse("10.0.0.1", &peer_addr));
	c = connect_peer(65536);
	send_str(c, "GET /status.html HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert(sent_starts(c, "HTTP/1.1 200 OK\r\n"));
	ck_assert_str_eq(last_report, "status.html");
	ck_assert(sent_has(c, "\r\nContent-Type: text/html; charset=utf-8"
			      "\r\n"));
	ck_assert(sent_has(c, "\r\nContent-Security-Policy: default-src "
			      "'none'; style-src 'unsafe-inline'\r\n"));
	ck_assert(sent_has(c, "\r\n\r\n<p>page</p>\n"));
	/* The JSON is still the JSON. */
	ck_assert_int_eq(report_status("10.0.0.1", "/status", false, NULL),
			 200);
	ck_assert_str_eq(last_report, "status");
	last_report[0] = '\0';
	ck_assert_int_eq(report_status("10.0.0.3", "/status.html", false,
				       &body),
			 403);
	ck_assert_str_eq(last_report, "");
	ck_assert_uint_eq(counter("status_denied"), 1);
	/* Only that name: not a file named like it, not a longer one. */
	ck_assert_int_eq(report_status("10.0.0.1", "/status.htm", false, NULL),
			 404);
	ck_assert_int_eq(report_status("10.0.0.1", "/status.html/x", false,
				       NULL),
			 404);
	ck_assert_str_eq(last_report, "");
}
END_TEST

/* It follows status_path, and goes with it. */
START_TEST(test_status_html_path)
{
	start("status_allow = [ \"10.0.0.1/32\" ]; status_path = \"/s\";");
	ck_assert_int_eq(report_status("10.0.0.1", "/s.html", false, NULL),
			 200);
	ck_assert_str_eq(last_report, "status.html");
	last_report[0] = '\0';
	ck_assert_int_eq(report_status("10.0.0.1", "/status.html", false,
				       NULL),
			 404);
	ck_assert_str_eq(last_report, "");
}
END_TEST

START_TEST(test_status_html_off)
{
	start("status_allow = [ \"10.0.0.1/32\" ]; status_path = \"\";");
	last_report[0] = '\0';
	ck_assert_int_eq(report_status("10.0.0.1", "/.html", false, NULL),
			 404);
	ck_assert_str_eq(last_report, "");
}
END_TEST

START_TEST(test_check_errors)
{
	char text[512];
	int n;

	snprintf(text, sizeof(text), "http = { %s };", checks[_i].section);
	config_init(&cfg);
	ck_assert(config_read_string(&cfg, text));
	n = read_section(config_lookup(&cfg, "http"));
	ck_assert_int_eq(n, check_errors);
	ck_assert_msg(check_errors == checks[_i].errors, "%s: %d errors",
		      checks[_i].section, check_errors);
}
END_TEST

START_TEST(test_reconfigure_keeps_serving)
{
	struct tapir_tcp *c;
	config_t c2;
	char text[512];

	start("");
	c = connect_peer(65536);
	snprintf(text, sizeof(text),
		 "http = { port = 80; root = \"%s\"; index = \"a.txt\"; };",
		 dir);
	config_init(&c2);
	ck_assert(config_read_string(&c2, text));
	ck_assert_int_eq(read_section(config_lookup(&c2, "http")), 0);
	ck_assert_int_eq(tapir_module.reconfigure(state, mc.values), 0);
	config_destroy(&c2);
	ck_assert(c->live); /* same port: the connection carries on */
	send_str(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(count_in_sent(c, "\r\n\r\nhello\n"), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http_module");
	TCase *tc = tcase_create("connections");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_get_and_keep_alive);
	tcase_add_test(tc, test_server_version);
	tcase_add_test(tc, test_server_version_not_a_token);
	tcase_add_test(tc, test_pipelined_in_order);
	tcase_add_test(tc, test_stream_through_small_window);
	tcase_add_test(tc, test_many_pipelined_flow_control);
	tcase_add_test(tc, test_access_log_combined);
	tcase_add_test(tc, test_header_deadline_408);
	tcase_add_test(tc, test_slow_reader_reset);
	tcase_add_test(tc, test_body_deadline);
	tcase_add_test(tc, test_max_connections);
	tcase_add_test(tc, test_body_dropped_then_next);
	tcase_add_test(tc, test_errors_close);
	tcase_add_test(tc, test_missing_root);
	tcase_add_test(tc, test_reconfigure_keeps_serving);
	tcase_add_test(tc, test_cache_follows_the_file);
	tcase_add_test(tc, test_listing_escapes_names);
	tcase_add_test(tc, test_status_allow_default_link);
	tcase_add_test(tc, test_status_allow_list);
	tcase_add_test(tc, test_status_allow_empty);
	tcase_add_test(tc, test_status_html);
	tcase_add_test(tc, test_status_html_path);
	tcase_add_test(tc, test_status_html_off);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_check_errors, 0,
			    (int)(sizeof(checks) / sizeof(checks[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
