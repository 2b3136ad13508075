/*
 * The echo module: RFC 862 echo, RFC 863 discard and RFC 864 chargen.
 *
 * This is the example to copy when writing a module.  It shows the whole
 * contract of <tapir/module.h>: settings declared as descriptors (tapird
 * reads and range-checks them into struct ports), a pure check() for what
 * descriptors cannot say (two services on one port), init() that binds
 * ports through the host API, reconfigure() that applies new ports all or
 * nothing, and fini().
 *
 * Settings (0 disables a service):
 *   udp_port = 7;          tcp_port = 7;
 *   discard_udp_port = 9;  discard_tcp_port = 9;
 *   chargen_udp_port = 19; chargen_tcp_port = 19;
 *   chargen_rate = 100;    chargen replies per second (0: no limit)
 * Over TCP: echo sends back what it reads, with flow control (what it
 * cannot send yet stays unread, so the peer's window closes); discard
 * reads and drops; chargen fills the send buffer with RFC 864 lines for as
 * long as the connection lasts.
 *
 * UDP services answer forged sources too, so they must not become weapons:
 * no answer to a source port below 1024 (another echo or chargen service
 * would answer back, for ever: inetd's loop check), none to broadcasts,
 * and chargen, which sends more than it gets, is rate limited.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/module.h>

enum svc { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_COUNT };

#define CHARGEN_RATE_DEFAULT 100
#define MIN_CLIENT_PORT 1024

static const char *const svc_names[SVC_COUNT] = {"echo", "discard",
						 "chargen"};

/* The settings, as tapird fills them from the descriptors below. */
struct ports {
	uint16_t udp[SVC_COUNT];
	uint16_t tcp[SVC_COUNT];
	unsigned chargen_rate;
};

#define PORT(key, field, dflt)                                               \
	{key, TAPIR_SET_INT, TAPIR_FIELD(struct ports, field), .min = 0,      \
	 .max = 65535, .def = dflt, .unit = "(0 disables)"}

static const struct tapir_setting settings[] = {
	PORT("udp_port", udp[SVC_ECHO], 7),
	PORT("tcp_port", tcp[SVC_ECHO], 7),
	PORT("discard_udp_port", udp[SVC_DISCARD], 9),
	PORT("discard_tcp_port", tcp[SVC_DISCARD], 9),
	PORT("chargen_udp_port", udp[SVC_CHARGEN], 19),
	PORT("chargen_tcp_port", tcp[SVC_CHARGEN], 19),
	{"chargen_rate", TAPIR_SET_INT, TAPIR_FIELD(struct ports, chargen_rate),
	 .min = 0, .max = 1000000, .def = CHARGEN_RATE_DEFAULT,
	 .unit = "replies per second (0: no limit)"},
	{.name = NULL}};

struct echo {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct ports ports;
	struct tapir_udp *udp[SVC_COUNT];
	uint64_t *rx[SVC_COUNT];
	uint64_t *limited;
	struct tapir_tcp_listener *tcp[SVC_COUNT];
	uint64_t *tcp_conns;
	unsigned open_conns; /* connections with a context of ours */
	unsigned chargen_pos; /* where the next chargen line starts */
	uint64_t tokens_us;   /* chargen bucket: time's worth of replies */
	uint64_t last_ms;
};

/* Two services on one port would shadow each other. */
static int echo_check(const struct tapir_check *chk, const void *conf)
{
	const struct ports *p = conf;
	int bad = 0;

	for (int i = 0; i < SVC_COUNT; i++)
		for (int j = i + 1; j < SVC_COUNT; j++) {
			if (p->udp[i] && p->udp[i] == p->udp[j]) {
				chk->error(chk, NULL,
					   "%s and %s share UDP port %u",
					   svc_names[i], svc_names[j],
					   p->udp[i]);
				bad = -1;
			}
			if (p->tcp[i] && p->tcp[i] == p->tcp[j]) {
				chk->error(chk, NULL,
					   "%s and %s share TCP port %u",
					   svc_names[i], svc_names[j],
					   p->tcp[i]);
				bad = -1;
			}
		}
	return bad;
}

static void reply(struct echo *e, enum svc svc, const struct tapir_udp_meta *m,
		  const void *data, size_t len)
{
	struct tapir_udp_dst dst = {.ip = m->src_ip, .port = m->src_port};

	e->api->udp_send(e->udp[svc], &dst, data, len);
}

/* Broadcasts would turn one datagram into many answers; a service port
 * (below 1024) may be another echo or chargen that answers back. */
static bool answerable(const struct tapir_udp_meta *m)
{
	return !m->broadcast && m->src_port >= MIN_CLIENT_PORT;
}

/* Token bucket: up to one second's worth of chargen replies at once. */
static bool chargen_allowed(struct echo *e)
{
	uint64_t now = e->api->now_ms(e->host);
	uint64_t rate = e->ports.chargen_rate;

	if (!rate)
		return true;
	e->tokens_us += (now - e->last_ms) * 1000;
	e->last_ms = now;
	if (e->tokens_us > 1000000)
		e->tokens_us = 1000000;
	if (e->tokens_us < 1000000 / rate) {
		++*e->limited;
		return false;
	}
	e->tokens_us -= 1000000 / rate;
	return true;
}

static void on_echo(void *arg, const struct tapir_udp_meta *m,
		    const uint8_t *data, size_t len)
{
	struct echo *e = arg;

	++*e->rx[SVC_ECHO];
	if (!answerable(m))
		return;
	reply(e, SVC_ECHO, m, data, len);
}

static void on_discard(void *arg, const struct tapir_udp_meta *m,
		       const uint8_t *data, size_t len)
{
	struct echo *e = arg;

	(void)m;
	(void)data;
	(void)len;
	++*e->rx[SVC_DISCARD];
}

/* RFC 864: lines of 72 printable characters (ASCII 32..126, 95 of them),
 * each starting one character further on, ended by CR LF. */
#define CHARGEN_LINE 72
#define CHARGEN_LINES 6 /* 444 bytes: within RFC 864's 0..512 */

static void on_chargen(void *arg, const struct tapir_udp_meta *m,
		       const uint8_t *data, size_t len)
{
	struct echo *e = arg;
	char out[CHARGEN_LINES * (CHARGEN_LINE + 2)];
	size_t n = 0;

	(void)data;
	(void)len;
	++*e->rx[SVC_CHARGEN];
	if (!answerable(m) || !chargen_allowed(e))
		return;
	for (int l = 0; l < CHARGEN_LINES; l++) {
		for (int c = 0; c < CHARGEN_LINE; c++)
			out[n++] = (char)(32 + (e->chargen_pos + c) % 95);
		out[n++] = '\r';
		out[n++] = '\n';
		e->chargen_pos = (e->chargen_pos + 1) % 95;
	}
	reply(e, SVC_CHARGEN, m, out, n);
}

static const tapir_udp_recv_fn handlers[SVC_COUNT] = {on_echo, on_discard,
						      on_chargen};

/* ---- TCP --------------------------------------------------------------- */

struct tconn {
	struct echo *e;
	enum svc svc;
	unsigned off; /* chargen: where in the stream's period we are */
	bool peer_done;
	bool backlog; /* echo: data left unread for want of send room */
};

/* The chargen stream repeats every 95 lines: one period, built once. */
#define CHARGEN_PERIOD (95 * (CHARGEN_LINE + 2))
static char chargen_period[CHARGEN_PERIOD];

static void chargen_period_init(void)
{
	size_t n = 0;

	if (chargen_period[0])
		return;
	for (unsigned l = 0; l < 95; l++) {
		for (unsigned i = 0; i < CHARGEN_LINE; i++)
			chargen_period[n++] = (char)(32 + (l + i) % 95);
		chargen_period[n++] = '\r';
		chargen_period[n++] = '\n';
	}
}

/* Fill c's send buffer with chargen lines, resuming where it stopped. */
static void chargen_fill(struct tconn *t, struct tapir_tcp *c)
{
	const struct tapir_host_api *api = t->e->api;

	chargen_period_init();
	for (;;) {
		size_t n = CHARGEN_PERIOD - t->off, sent;

		sent = api->tcp_send(c, chargen_period + t->off, n);
		t->off = (unsigned)((t->off + sent) % CHARGEN_PERIOD);
		if (sent < n)
			return; /* full: writable() brings us back */
	}
}

static void *tcp_accepted(void *arg, struct tapir_tcp *c, enum svc svc)
{
	struct echo *e = arg;
	struct tconn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->e = e;
	t->svc = svc;
	e->open_conns++;
	++*e->tcp_conns;
	if (svc == SVC_CHARGEN)
		chargen_fill(t, c);
	return t;
}

static void *tcp_accept_echo(void *arg, struct tapir_tcp *c)
{
	return tcp_accepted(arg, c, SVC_ECHO);
}

static void *tcp_accept_discard(void *arg, struct tapir_tcp *c)
{
	return tcp_accepted(arg, c, SVC_DISCARD);
}

static void *tcp_accept_chargen(void *arg, struct tapir_tcp *c)
{
	return tcp_accepted(arg, c, SVC_CHARGEN);
}

static size_t tcp_recv(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		       size_t len)
{
	struct tconn *t = ctx;
	size_t sent;

	*t->e->rx[t->svc] += len ? 1 : 0;
	if (t->svc != SVC_ECHO)
		return len; /* discard and chargen drop what they read */
	/* Echo what fits; the rest stays unread until writable(). */
	sent = t->e->api->tcp_send(c, data, len);
	t->backlog = sent < len;
	return sent;
}

static void tcp_writable(void *ctx, struct tapir_tcp *c)
{
	struct tconn *t = ctx;

	if (t->svc == SVC_CHARGEN) {
		chargen_fill(t, c);
		return;
	}
	t->e->api->tcp_recv_resume(c);
	/* Everything echoed after the peer finished: finish too. */
	if (t->peer_done && !t->backlog)
		t->e->api->tcp_shutdown(c);
}

static void tcp_peer_closed(void *ctx, struct tapir_tcp *c)
{
	struct tconn *t = ctx;

	t->peer_done = true;
	/* The FIN goes after whatever is still queued, once everything
	 * read has been echoed. */
	if (!t->backlog)
		t->e->api->tcp_shutdown(c);
}

static void tcp_closed(void *ctx, struct tapir_tcp *c, int err)
{
	struct tconn *t = ctx;

	(void)c;
	(void)err;
	t->e->open_conns--;
	free(t);
}

static const struct tapir_tcp_handlers tcp_handlers[SVC_COUNT] = {
	[SVC_ECHO] = {tcp_accept_echo, tcp_recv, tcp_writable, tcp_peer_closed,
		      tcp_closed},
	[SVC_DISCARD] = {tcp_accept_discard, tcp_recv, tcp_writable,
			 tcp_peer_closed, tcp_closed},
	[SVC_CHARGEN] = {tcp_accept_chargen, tcp_recv, tcp_writable,
			 tcp_peer_closed, tcp_closed},
};

static void unlisten_all(struct echo *e)
{
	for (int i = 0; i < SVC_COUNT; i++) {
		if (e->tcp[i])
			e->api->tcp_unlisten(e->tcp[i]);
		e->tcp[i] = NULL;
	}
}

/* Listen on the TCP ports of p; on failure undo and return -1. */
static int listen_all(struct echo *e, const struct ports *p)
{
	for (int i = 0; i < SVC_COUNT; i++) {
		e->tcp[i] = NULL;
		if (!p->tcp[i])
			continue;
		e->tcp[i] = e->api->tcp_listen(e->host, p->tcp[i],
					       &tcp_handlers[i], e);
		if (!e->tcp[i]) {
			e->api->log(e->host, TAPIR_LOG_ERR,
				    "cannot listen on TCP port %u for %s: %s",
				    p->tcp[i], svc_names[i], strerror(errno));
			unlisten_all(e);
			return -1;
		}
	}
	return 0;
}

/* Bind the UDP ports of p into udp[]; on failure unbind what was bound. */
static int bind_all(struct echo *e, const struct ports *p,
		    struct tapir_udp *udp[SVC_COUNT])
{
	for (int i = 0; i < SVC_COUNT; i++) {
		udp[i] = NULL;
		if (!p->udp[i])
			continue;
		udp[i] = e->api->udp_bind(e->host, p->udp[i], handlers[i], e);
		if (!udp[i]) {
			e->api->log(e->host, TAPIR_LOG_ERR,
				    "cannot bind UDP port %u for %s: %s",
				    p->udp[i], svc_names[i], strerror(errno));
			for (int j = 0; j < i; j++)
				e->api->udp_unbind(udp[j]);
			return -1;
		}
	}
	return 0;
}

static void unbind_all(struct echo *e)
{
	for (int i = 0; i < SVC_COUNT; i++) {
		e->api->udp_unbind(e->udp[i]);
		e->udp[i] = NULL;
	}
}

static void log_ports(struct echo *e)
{
	e->api->log(e->host, TAPIR_LOG_INFO,
		    "UDP echo %u, discard %u, chargen %u; TCP echo %u, "
		    "discard %u, chargen %u (0 = off)",
		    e->ports.udp[SVC_ECHO], e->ports.udp[SVC_DISCARD],
		    e->ports.udp[SVC_CHARGEN], e->ports.tcp[SVC_ECHO],
		    e->ports.tcp[SVC_DISCARD], e->ports.tcp[SVC_CHARGEN]);
}

static void *echo_init(struct tapir_host *host,
		       const struct tapir_host_api *api, const void *conf)
{
	struct echo *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->host = host;
	e->api = api;
	e->ports = *(const struct ports *)conf;
	e->rx[SVC_ECHO] = api->counter(host, "echo_rx");
	e->rx[SVC_DISCARD] = api->counter(host, "discard_rx");
	e->rx[SVC_CHARGEN] = api->counter(host, "chargen_rx");
	e->limited = api->counter(host, "chargen_rate_limited");
	e->tcp_conns = api->counter(host, "tcp_connections");
	e->last_ms = api->now_ms(host);
	e->tokens_us = 1000000;
	if (!e->rx[SVC_ECHO] || !e->rx[SVC_DISCARD] || !e->rx[SVC_CHARGEN] ||
	    !e->limited || !e->tcp_conns ||
	    bind_all(e, &e->ports, e->udp) < 0) {
		free(e);
		return NULL;
	}
	if (listen_all(e, &e->ports) < 0) {
		unbind_all(e);
		free(e);
		return NULL;
	}
	log_ports(e);
	return e;
}

/* New ports all or nothing.  TCP first: a changed port is listened on
 * before the old one is let go, so failure leaves everything as it was
 * (a port moving between two of our services cannot be taken this way and
 * is refused).  Then UDP: release the old ports, bind the new; when that
 * fails, bind the old ones again.  Nothing arrives in between: tapird runs
 * one event at a time. */
static int echo_reconfigure(void *state, const void *conf)
{
	struct echo *e = state;
	struct tapir_tcp_listener *fresh[SVC_COUNT] = {NULL};
	struct ports p = *(const struct ports *)conf;
	for (int i = 0; i < SVC_COUNT; i++) {
		if (!p.tcp[i] || p.tcp[i] == e->ports.tcp[i])
			continue;
		fresh[i] = e->api->tcp_listen(e->host, p.tcp[i],
					      &tcp_handlers[i], e);
		if (!fresh[i]) {
			e->api->log(e->host, TAPIR_LOG_ERR,
				    "cannot listen on TCP port %u: %s",
				    p.tcp[i], strerror(errno));
			for (int j = 0; j < i; j++)
				if (fresh[j])
					e->api->tcp_unlisten(fresh[j]);
			return -1;
		}
	}
	unbind_all(e);
	if (bind_all(e, &p, e->udp) < 0) {
		for (int i = 0; i < SVC_COUNT; i++)
			if (fresh[i])
				e->api->tcp_unlisten(fresh[i]);
		if (bind_all(e, &e->ports, e->udp) < 0)
			e->api->log(e->host, TAPIR_LOG_ERR,
				    "could not bind the old ports again");
		return -1;
	}
	/* Commit TCP: connections on unchanged ports keep running. */
	for (int i = 0; i < SVC_COUNT; i++) {
		if (p.tcp[i] == e->ports.tcp[i])
			continue;
		if (e->tcp[i])
			e->api->tcp_unlisten(e->tcp[i]);
		e->tcp[i] = fresh[i];
	}
	e->ports = p;
	log_ports(e);
	return 0;
}

static void echo_fini(void *state)
{
	struct echo *e = state;

	unbind_all(e);
	unlisten_all(e); /* resets connections; closed() frees each */
	free(e);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	TAPIR_MODULE_HEAD,
	.name = "echo",
	.description = "RFC 862 echo, RFC 863 discard, RFC 864 chargen",
	.settings = settings,
	.settings_size = sizeof(struct ports),
	.check = echo_check,
	.init = echo_init,
	.reconfigure = echo_reconfigure,
	.fini = echo_fini,
};
