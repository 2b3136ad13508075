/*
 * The echo module: RFC 862 echo, RFC 863 discard and RFC 864 chargen.
 *
 * This is the example to copy when writing a module.  It shows the whole
 * contract of <tapir/module.h>: a pure check() that reports every bad
 * setting with its line, init() that binds ports through the host API,
 * reconfigure() that applies new ports all or nothing, and fini().
 *
 * Settings (0 disables a service):
 *   udp_port = 7;          tcp_port = 7;
 *   discard_udp_port = 9;  discard_tcp_port = 9;
 *   chargen_udp_port = 19; chargen_tcp_port = 19;
 * The TCP ports are validated now and served once tapird has TCP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/module.h>

enum svc { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_COUNT };

static const char *const settings[] = {
	"udp_port",	    "tcp_port",		"discard_udp_port",
	"discard_tcp_port", "chargen_udp_port", "chargen_tcp_port",
	NULL};

/* Index in settings[] of each service's UDP and TCP port. */
static const struct {
	const char *name;
	int udp_key, tcp_key;
	uint16_t def;
} svcs[SVC_COUNT] = {
	[SVC_ECHO] = {"echo", 0, 1, 7},
	[SVC_DISCARD] = {"discard", 2, 3, 9},
	[SVC_CHARGEN] = {"chargen", 4, 5, 19},
};

struct ports {
	uint16_t udp[SVC_COUNT];
	uint16_t tcp[SVC_COUNT];
};

struct echo {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct ports ports;
	struct tapir_udp *udp[SVC_COUNT];
	uint64_t *rx[SVC_COUNT];
	unsigned chargen_pos; /* where the next chargen line starts */
};

/* Read the ports; report problems through chk when it is non-NULL. */
static int read_ports(const struct tapir_check *chk,
		      const config_setting_t *sec, struct ports *p)
{
	int bad = 0;

	for (int i = 0; i < SVC_COUNT; i++) {
		int keys[2] = {svcs[i].udp_key, svcs[i].tcp_key};
		uint16_t *dst[2] = {&p->udp[i], &p->tcp[i]};

		for (int k = 0; k < 2; k++) {
			const config_setting_t *s =
				config_setting_get_member(sec, settings[keys[k]]);
			long long v;

			*dst[k] = svcs[i].def;
			if (!s)
				continue;
			if (config_setting_type(s) != CONFIG_TYPE_INT &&
			    config_setting_type(s) != CONFIG_TYPE_INT64) {
				if (chk)
					chk->error(chk, s, "%s must be an integer",
						   settings[keys[k]]);
				bad = -1;
				continue;
			}
			v = config_setting_get_int64(s);
			if (v < 0 || v > 65535) {
				if (chk)
					chk->error(chk, s,
						   "%s = %lld is not a port "
						   "(0-65535, 0 disables)",
						   settings[keys[k]], v);
				bad = -1;
				continue;
			}
			*dst[k] = (uint16_t)v;
		}
	}
	/* Two services on one port would shadow each other. */
	for (int i = 0; i < SVC_COUNT; i++)
		for (int j = i + 1; j < SVC_COUNT; j++) {
			if (p->udp[i] && p->udp[i] == p->udp[j]) {
				if (chk)
					chk->error(chk, sec,
						   "%s and %s share UDP port %u",
						   svcs[i].name, svcs[j].name,
						   p->udp[i]);
				bad = -1;
			}
			if (p->tcp[i] && p->tcp[i] == p->tcp[j]) {
				if (chk)
					chk->error(chk, sec,
						   "%s and %s share TCP port %u",
						   svcs[i].name, svcs[j].name,
						   p->tcp[i]);
				bad = -1;
			}
		}
	return bad;
}

static int echo_check(const struct tapir_check *chk,
		      const config_setting_t *sec)
{
	struct ports p;

	return read_ports(chk, sec, &p);
}

static void reply(struct echo *e, enum svc svc, const struct tapir_udp_meta *m,
		  const void *data, size_t len)
{
	struct tapir_udp_dst dst = {.ip = m->src_ip, .port = m->src_port};

	(void)svc;
	e->api->udp_send(e->udp[svc], &dst, data, len);
}

static void on_echo(void *arg, const struct tapir_udp_meta *m,
		    const uint8_t *data, size_t len)
{
	struct echo *e = arg;

	++*e->rx[SVC_ECHO];
	/* Answering broadcasts would turn one datagram into many. */
	if (m->broadcast || m->src_port == 0)
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
	if (m->broadcast || m->src_port == 0)
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
				    p->udp[i], svcs[i].name, strerror(errno));
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

static void note_tcp(struct echo *e)
{
	for (int i = 0; i < SVC_COUNT; i++)
		if (e->ports.tcp[i]) {
			e->api->log(e->host, TAPIR_LOG_NOTICE,
				    "TCP ports are accepted but not served: "
				    "this tapird has no TCP yet");
			return;
		}
}

static void log_ports(struct echo *e)
{
	e->api->log(e->host, TAPIR_LOG_INFO,
		    "UDP echo %u, discard %u, chargen %u (0 = off)",
		    e->ports.udp[SVC_ECHO], e->ports.udp[SVC_DISCARD],
		    e->ports.udp[SVC_CHARGEN]);
}

static void *echo_init(struct tapir_host *host,
		       const struct tapir_host_api *api,
		       const config_setting_t *sec)
{
	struct echo *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->host = host;
	e->api = api;
	e->rx[SVC_ECHO] = api->counter(host, "echo_rx");
	e->rx[SVC_DISCARD] = api->counter(host, "discard_rx");
	e->rx[SVC_CHARGEN] = api->counter(host, "chargen_rx");
	if (!e->rx[SVC_ECHO] || !e->rx[SVC_DISCARD] || !e->rx[SVC_CHARGEN] ||
	    read_ports(NULL, sec, &e->ports) < 0 ||
	    bind_all(e, &e->ports, e->udp) < 0) {
		free(e);
		return NULL;
	}
	log_ports(e);
	note_tcp(e);
	return e;
}

/* New ports all or nothing.  Changed ports are bound first while the old
 * ones keep serving; only when every bind worked are the old ones let go.
 * A port moving between two of our own services cannot be bound twice, so
 * then everything is released and bound afresh (and restored on failure). */
static int echo_reconfigure(void *state, const config_setting_t *sec)
{
	struct echo *e = state;
	struct tapir_udp *fresh[SVC_COUNT] = {NULL};
	struct ports p;
	int i;

	if (read_ports(NULL, sec, &p) < 0)
		return -1;
	for (i = 0; i < SVC_COUNT; i++) {
		if (!p.udp[i] || p.udp[i] == e->ports.udp[i])
			continue;
		fresh[i] = e->api->udp_bind(e->host, p.udp[i], handlers[i], e);
		if (!fresh[i])
			break;
	}
	if (i < SVC_COUNT) {
		for (int j = 0; j < SVC_COUNT; j++)
			e->api->udp_unbind(fresh[j]);
		unbind_all(e);
		if (bind_all(e, &p, e->udp) < 0) {
			if (bind_all(e, &e->ports, e->udp) < 0)
				e->api->log(e->host, TAPIR_LOG_ERR,
					    "could not restore the old ports");
			return -1;
		}
	} else {
		for (i = 0; i < SVC_COUNT; i++) {
			if (p.udp[i] == e->ports.udp[i])
				continue;
			e->api->udp_unbind(e->udp[i]);
			e->udp[i] = fresh[i];
		}
	}
	e->ports = p;
	log_ports(e);
	note_tcp(e);
	return 0;
}

static void echo_fini(void *state)
{
	struct echo *e = state;

	unbind_all(e);
	free(e);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	.abi = TAPIR_MODULE_ABI,
	.size = sizeof(struct tapir_module),
	.name = "echo",
	.description = "RFC 862 echo, RFC 863 discard, RFC 864 chargen",
	.settings = settings,
	.check = echo_check,
	.init = echo_init,
	.reconfigure = echo_reconfigure,
	.fini = echo_fini,
};
