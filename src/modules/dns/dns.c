/*
 * The dns module: an authoritative DNS server for the zones in its
 * configuration, over UDP and TCP (RFC 1035, 7766); names outside them
 * are forwarded to upstream servers when configured (forward.c) or
 * refused.
 *
 *   { name = "dns"; port = 53;
 *     zones = ( { name = "lab.test"; records = [ "@ SOA ns1 hostmaster 1
 *                 3600 600 86400 60", "www A 10.0.0.2", ... ]; } ); }
 *
 * A zone may also (or instead) name a master file, zone_file = "lab.zone",
 * read by zonefile.c relative to the configuration file's directory.
 *
 * The answers are computed by answer.c from the zones of zone.c; this file
 * declares the settings (tapird reads them; the zones, a custom setting,
 * are read here), binds the ports, frames DNS over TCP, limits the
 * response rate per source prefix and keeps the counters.  tapir.conf(5)
 * documents every setting.
 *
 * Over TCP a connection carries any number of queries, each with its 2-byte
 * length; they are answered in order.  Per connection at most one query is
 * buffered in and one response out: while a response waits for send room,
 * nothing more is read (the window closes).  One timer per connection
 * bounds it: tcp_idle_timeout from its start, from the last whole query
 * taken, or from the first byte of the query being read, which must then
 * arrive whole before it runs out (bytes dripped in do not extend it);
 * a response that waits for send room must likewise be taken whole
 * within it, and the timer restarts once it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapir/bytes.h>
#include <tapir/module.h>

#include "answer.h"
#include "dyn.h"
#include "forward.h"
#include <tapir/siphash.h>
#include "wire.h"
#include "zone.h"
#include "zonefile.h"
#include "dot.h"

/* The settings as tapird fills them from the descriptors below. */
struct dns_settings {
	uint16_t port;
	uint32_t default_ttl;
	uint16_t edns_payload;
	bool tcp;
	unsigned tcp_idle_timeout; /* seconds */
	unsigned max_tcp;
	unsigned rl_rate, rl_prefix, rl_slip, rl_table;
	uint32_t dhcp_ttl;
	const char *dhcp_zone; /* NULL: the first zone; "": none */
	const config_setting_t *zones;
	struct dns_fwd_settings fwd; /* forward.h */
	bool chaos;
	const char *server_id;
	unsigned zone_file_check; /* seconds, 0: never */
	const config_setting_t *tls; /* DNS over TLS (dot.c) */
	uint16_t tls_port;
};

#define INT_SETTING(key, member, lo, hi, dflt, u)                            \
	{key, TAPIR_SET_INT, TAPIR_FIELD(struct dns_settings, member),        \
	 .min = lo, .max = hi, .def = dflt, .unit = u}

static const struct tapir_setting settings[] = {
	INT_SETTING("port", port, 1, 65535, 53, NULL),
	INT_SETTING("default_ttl", default_ttl, 1, DNS_TTL_MAX, 3600,
		    "seconds"),
	INT_SETTING("edns_payload", edns_payload, 512, 4096, 1232, "bytes"),
	{"tcp", TAPIR_SET_BOOL, TAPIR_FIELD(struct dns_settings, tcp),
	 .def = true},
	INT_SETTING("tcp_idle_timeout", tcp_idle_timeout, 1, 3600, 10,
		    "seconds"),
	INT_SETTING("max_tcp_connections", max_tcp, 1, 10000, 64, NULL),
	INT_SETTING("rate_limit", rl_rate, 0, 1000000, 0,
		    "responses per second (0: off)"),
	INT_SETTING("rate_limit_prefix", rl_prefix, 8, 32, 24, "bits"),
	INT_SETTING("rate_limit_slip", rl_slip, 0, 10, 2, "(0: never)"),
	INT_SETTING("rate_limit_table_size", rl_table, 16, 1048576, 4096,
		    "entries"),
	INT_SETTING("dhcp_ttl", dhcp_ttl, 0, DNS_TTL_MAX, 60, "seconds"),
	{"dhcp_zone", TAPIR_SET_STRING,
	 TAPIR_FIELD(struct dns_settings, dhcp_zone)},
	{"zones", TAPIR_SET_CUSTOM, TAPIR_FIELD(struct dns_settings, zones)},
	DNS_FWD_SETTINGS(struct dns_settings, fwd),
	{"chaos", TAPIR_SET_BOOL, TAPIR_FIELD(struct dns_settings, chaos),
	 .def = false},
	{"server_id", TAPIR_SET_STRING,
	 TAPIR_FIELD(struct dns_settings, server_id), .min = 1, .max = 255},
	INT_SETTING("zone_file_check", zone_file_check, 0, 86400, 5,
		    "seconds (0: never)"),
	{"tls", TAPIR_SET_TLS, TAPIR_FIELD(struct dns_settings, tls)},
	INT_SETTING("tls_port", tls_port, 1, 65535, DNS_DOT_PORT, NULL),
	{.name = NULL}};

struct conf {
	uint16_t port;
	uint32_t default_ttl;
	uint16_t edns_payload;
	bool tcp;
	unsigned tcp_idle_ms;
	unsigned max_tcp;
	unsigned rl_rate, rl_prefix, rl_slip, rl_table;
	uint32_t dhcp_ttl;
	int dhcp_zone; /* index into zones, -1: none */
	struct dns_zones zones;
	struct dns_fwd_conf fwd;
	bool chaos;
	char server_id[256]; /* "": none */
	unsigned zone_check_ms;
	uint16_t tls_port; /* 0: no DNS over TLS */
};

enum { RC_NOERROR, RC_FORMERR, RC_SERVFAIL, RC_NXDOMAIN, RC_NOTIMP,
       RC_REFUSED, RC_BADVERS, RC_COUNT };
static const char *const rc_names[RC_COUNT] = {
	"rcode_noerror", "rcode_formerr", "rcode_servfail", "rcode_nxdomain",
	"rcode_notimp",	 "rcode_refused", "rcode_badvers"};

static const struct {
	uint16_t type;
	const char *name;
} qtypes[] = {
	{DNS_T_A, "qtype_a"},	  {DNS_T_AAAA, "qtype_aaaa"},
	{DNS_T_CNAME, "qtype_cname"}, {DNS_T_PTR, "qtype_ptr"},
	{DNS_T_MX, "qtype_mx"},	  {DNS_T_TXT, "qtype_txt"},
	{DNS_T_SRV, "qtype_srv"}, {DNS_T_NS, "qtype_ns"},
	{DNS_T_SOA, "qtype_soa"}, {DNS_T_ANY, "qtype_any"},
	{0, "qtype_other"},
};
#define NQTYPES (sizeof(qtypes) / sizeof(qtypes[0]))

/* A slot of the rate limiter: the answers of one second to the prefixes
 * that hash to it. */
struct rl_ent {
	uint32_t second;
	uint32_t count;
	uint32_t slip;
};

struct dns_srv {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct conf conf;
	struct tapir_udp *udp;
	struct tapir_tcp_listener *tcp;
	struct tapir_tcp_listener *dot; /* DNS over TLS, when tls is set */
	unsigned nconns;
	struct rl_ent *rl;
	uint8_t rl_key[TAPIR_SIPHASH_KEY_LEN];
	struct dns_dyn dyn;
	struct dns_fwd *fwd; /* NULL: names outside our zones are refused */
	struct dns_fwd_counters fctr;
	struct tapir_timer *zone_check;
	uint64_t *rc[RC_COUNT];
	uint64_t *qt[NQTYPES];
	uint64_t *dropped, *truncated, *rate_limited, *tcp_conns,
		*tcp_refused, *tcp_idle;
	uint8_t out[2 + DNS_MSG_MAX];
	/* Query in to answer out (host API 6; NULL on an older tapird). */
	struct tapir_histogram *latency;
};

/* ---- Settings ------------------------------------------------------------ */

struct zf_report {
	const struct tapir_check *chk;
	const config_setting_t *at;
};

static void zf_report(void *arg, const char *msg)
{
	struct zf_report *r = arg;

	if (r->chk)
		r->chk->error(r->chk, r->at, "%s", msg);
}

/* zone_file = "path": a master file, relative to the directory of the
 * configuration file that names it. */
static int read_zone_file(const struct tapir_check *chk,
			  const config_setting_t *file, uint32_t default_ttl,
			  struct dns_zone *z)
{
	const char *path = config_setting_get_string(file);
	const char *conf = config_setting_source_file(file);
	struct zf_report rep = {chk, file};
	struct dns_zonefile zf = {.default_ttl = default_ttl,
				  .report = zf_report,
				  .arg = &rep};
	char full[4096];
	const char *slash;

	if (!path || !*path) {
		if (chk)
			chk->error(chk, file, "zone_file is a file name");
		return -1;
	}
	slash = conf ? strrchr(conf, '/') : NULL;
	if (path[0] != '/' && slash) {
		if ((size_t)snprintf(full, sizeof(full), "%.*s/%s",
				     (int)(slash - conf), conf,
				     path) >= sizeof(full)) {
			if (chk)
				chk->error(chk, file, "zone_file: path too long");
			return -1;
		}
		path = full;
	}
	return dns_zonefile_load(z, path, &zf);
}

static int read_zone(const struct tapir_check *chk, const config_setting_t *zs,
		     struct conf *c)
{
	const config_setting_t *name = config_setting_get_member(zs, "name");
	const config_setting_t *recs = config_setting_get_member(zs, "records");
	const config_setting_t *file = config_setting_get_member(zs, "zone_file");
	struct dns_zone *z;
	char err[256];
	int bad = 0;

	if (config_setting_type(zs) != CONFIG_TYPE_GROUP) {
		if (chk)
			chk->error(chk, zs,
				   "each zone is a group { name = ...; "
				   "records = [ ... ]; }");
		return -1;
	}
	for (int i = 0; i < config_setting_length(zs); i++) {
		const config_setting_t *m = config_setting_get_elem(zs, (unsigned)i);
		const char *k = config_setting_name(m);

		if (k && strcmp(k, "name") && strcmp(k, "records") &&
		    strcmp(k, "zone_file")) {
			if (chk)
				chk->error(chk, m,
					   "unknown zone setting \"%s\" (name, "
					   "records, zone_file)",
					   k);
			bad = -1;
		}
	}
	if (!name || config_setting_type(name) != CONFIG_TYPE_STRING) {
		if (chk)
			chk->error(chk, name ? name : zs,
				   "a zone needs name = \"domain\";");
		return -1;
	}
	z = dns_zone_new(config_setting_get_string(name), err, sizeof(err));
	if (!z) {
		if (chk)
			chk->error(chk, name, "zone name: %s", err);
		return -1;
	}
	for (unsigned i = 0; i < c->zones.n; i++)
		if (dns_name_eq(c->zones.z[i]->origin, z->origin)) {
			if (chk)
				chk->error(chk, name, "zone %s twice",
					   config_setting_get_string(name));
			bad = -1;
		}
	if ((!recs && !file) ||
	    (recs && config_setting_type(recs) != CONFIG_TYPE_ARRAY &&
	     config_setting_type(recs) != CONFIG_TYPE_LIST)) {
		if (chk)
			chk->error(chk, recs ? recs : zs,
				   "a zone needs records = [ \"...\", ... ]; "
				   "or zone_file = \"path\";");
		dns_zone_free(z);
		return -1;
	}
	if (file && read_zone_file(chk, file, c->default_ttl, z) < 0)
		bad = -1;
	for (int i = 0; recs && i < config_setting_length(recs); i++) {
		const config_setting_t *r = config_setting_get_elem(recs, (unsigned)i);

		if (config_setting_type(r) != CONFIG_TYPE_STRING) {
			if (chk)
				chk->error(chk, r, "a record is a string");
			bad = -1;
			continue;
		}
		if (dns_zone_add_line(z, config_setting_get_string(r),
				      c->default_ttl, err, sizeof(err)) < 0) {
			if (chk)
				chk->error(chk, r, "record \"%s\": %s",
					   config_setting_get_string(r), err);
			bad = -1;
		}
	}
	if (!bad && dns_zone_finish(z, err, sizeof(err)) < 0) {
		if (chk)
			chk->error(chk, name, "zone %s: %s",
				   config_setting_get_string(name), err);
		bad = -1;
	}
	if (bad || dns_zones_add(&c->zones, z) < 0) {
		dns_zone_free(z);
		return -1;
	}
	return 0;
}

/* Turn the settings into c (zones built); report through chk when it is
 * non-NULL.  On failure c holds nothing to free. */
static int read_conf(const struct tapir_check *chk,
		     const struct dns_settings *set, struct conf *c)
{
	const config_setting_t *s = set->zones;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	dns_zones_init(&c->zones);
	c->port = set->port;
	c->tls_port = set->tls ? set->tls_port : 0;
	if (set->tls && set->tls_port == set->port && set->tcp) {
		if (chk)
			chk->error_at(chk, "tls_port", -1,
				      "tls_port must differ from port");
		bad = -1;
	}
	c->default_ttl = set->default_ttl;
	c->edns_payload = set->edns_payload;
	c->tcp_idle_ms = set->tcp_idle_timeout * 1000;
	c->max_tcp = set->max_tcp;
	c->rl_rate = set->rl_rate;
	c->rl_prefix = set->rl_prefix;
	c->rl_slip = set->rl_slip;
	c->rl_table = set->rl_table;
	c->dhcp_ttl = set->dhcp_ttl;
	c->tcp = set->tcp;
	c->chaos = set->chaos;
	c->zone_check_ms = set->zone_file_check * 1000;
	if (set->server_id)
		snprintf(c->server_id, sizeof(c->server_id), "%s",
			 set->server_id);
	if (s && config_setting_type(s) != CONFIG_TYPE_LIST) {
		if (chk)
			chk->error(chk, s,
				   "zones is a list: ( { name = ...; "
				   "records = [ ... ]; }, ... )");
		bad = -1;
	} else if (s) {
		for (int i = 0; i < config_setting_length(s); i++)
			if (read_zone(chk, config_setting_get_elem(s, (unsigned)i),
				      c) < 0)
				bad = -1;
	}
	c->dhcp_zone = c->zones.n ? 0 : -1;
	if (set->dhcp_zone) {
		uint8_t name[DNS_NAME_MAX];
		const char *t = set->dhcp_zone;
		char buf[1100];
		size_t l = strlen(t);

		c->dhcp_zone = -1;
		if (l && l + 2 < sizeof(buf)) {
			memcpy(buf, t, l);
			if (t[l - 1] != '.')
				buf[l++] = '.';
			if (dns_name_from_text(buf, l, NULL, name, NULL, 0) == 0)
				for (unsigned i = 0; i < c->zones.n; i++)
					if (dns_name_eq(c->zones.z[i]->origin,
							name))
						c->dhcp_zone = (int)i;
		}
		if (c->dhcp_zone < 0 && *t) {
			if (chk)
				chk->error_at(chk, "dhcp_zone", -1,
					      "dhcp_zone must name one of the "
					      "zones (\"\": none)");
			bad = -1;
		}
	}
	if (dns_fwd_read(chk, &set->fwd, &c->fwd) < 0)
		bad = -1;
	if (!bad && dns_zones_index(&c->zones) < 0) {
		if (chk)
			chk->error(chk, NULL, "out of memory");
		bad = -1;
	}
	if (bad)
		dns_zones_free(&c->zones);
	return bad;
}

static int dns_check(const struct tapir_check *chk, const void *conf)
{
	struct conf c;

	if (read_conf(chk, conf, &c) < 0)
		return -1;
	dns_zones_free(&c.zones);
	return 0;
}

/* ---- Answering --------------------------------------------------------- */

static void count(struct dns_srv *d, const struct dns_result *r)
{
	static const int map[] = {RC_NOERROR, RC_FORMERR, RC_SERVFAIL,
				  RC_NXDOMAIN, RC_NOTIMP, RC_REFUSED};
	size_t i;

	if (r->rcode < 0) {
		++*d->dropped;
		return;
	}
	if (r->rcode == DNS_R_BADVERS)
		++*d->rc[RC_BADVERS];
	else if (r->rcode < (int)(sizeof(map) / sizeof(map[0])))
		++*d->rc[map[r->rcode]];
	if (r->truncated)
		++*d->truncated;
	if (!r->qtype)
		return;
	for (i = 0; i < NQTYPES - 1 && qtypes[i].type != r->qtype; i++)
		;
	++*d->qt[i];
}

/* rcode of a query handed to the forwarder (answered by it). */
#define RCODE_FORWARDED (-2)

/* The answer to q from src:port; tag is the TCP connection (NULL for
 * UDP).  A name outside our zones goes to the forwarder when there is
 * one: then 0 is returned, r->rcode is RCODE_FORWARDED and the answer
 * comes through fwd_reply(). */
static size_t answer(struct dns_srv *d, const uint8_t *q, size_t len, bool tcp,
		     uint8_t *out, struct dns_result *r,
		     const struct tapir_addr *src, uint16_t port, void *tag)
{
	struct dns_ctx ctx = {&d->conf.zones, d->conf.edns_payload, NULL,
			      NULL};
	struct dns_dynamic dy;
	struct dns_chaos ch;
	size_t n;

	if (d->conf.chaos) {
		ch.version = TAPIR_HOST_HAS(d->api, tapird_version)
				     ? d->api->tapird_version(d->host)
				     : NULL;
		ch.id = d->conf.server_id[0] ? d->conf.server_id : NULL;
		ctx.chaos = &ch;
	}

	if (d->conf.dhcp_zone >= 0 && dns_dyn_count(&d->dyn)) {
		dy.zone = d->conf.zones.z[d->conf.dhcp_zone];
		dy.lookup_a = dns_dyn_lookup_a;
		dy.lookup_ptr = dns_dyn_lookup_ptr;
		dy.arg = &d->dyn;
		dy.ttl = d->conf.dhcp_ttl;
		dns_dyn_set_zone(&d->dyn, dy.zone->origin);
		ctx.dyn = &dy;
	}
	n = dns_answer(&ctx, q, len, tcp, out, r);
	if (r->rcode == DNS_R_REFUSED && d->fwd &&
	    dns_fwd_query(d->fwd, q, len, tcp, src, port, tag)) {
		r->rcode = RCODE_FORWARDED;
		return 0;
	}
	count(d, r);
	return n;
}

/* Response rate limiting per source prefix: at most rl_rate responses a
 * second; of those over, every rl_slip-th is sent as an empty truncated
 * answer (a real client retries over TCP), the rest are dropped.
 *
 * The table is direct-mapped by a SipHash of the prefix under a key chosen
 * at start, so nobody outside can pick prefixes that share a slot; the
 * slot comes from the hash's high bits, all of which depend on every bit
 * of the prefix.  Prefixes that do share a slot are counted together for
 * the second: a newcomer never resets another prefix's count. */
enum rl_verdict { RL_SEND, RL_SLIP, RL_DROP };

static enum rl_verdict rate_check(struct dns_srv *d,
				  const struct tapir_addr *src)
{
	uint32_t prefix = tapir_addr_v4(src) & tapir_v4_mask(d->conf.rl_prefix);
	uint32_t sec = (uint32_t)(d->api->now_ms(d->host) / 1000);
	uint64_t h;
	struct rl_ent *e;

	if (!d->conf.rl_rate || !d->rl)
		return RL_SEND;
	if (tapir_addr_is_v4(src)) {
		h = tapir_siphash24(&prefix, sizeof(prefix), d->rl_key);
	} else {
		/* Not IPv4: the /64, what one site is usually given. */
		h = tapir_siphash24(src->b, 8, d->rl_key);
	}
	e = &d->rl[((h >> 32) * d->conf.rl_table) >> 32];
	if (e->second != sec) {
		e->second = sec;
		e->count = 0;
	}
	if (++e->count <= d->conf.rl_rate)
		return RL_SEND;
	++*d->rate_limited;
	if (d->conf.rl_slip && ++e->slip % d->conf.rl_slip == 0)
		return RL_SLIP;
	return RL_DROP;
}

/* The arrival time of a query, for the latency histogram: 0 when there
 * is none. */
static uint64_t arrival(struct dns_srv *d)
{
	uint64_t t0 = d->latency ? d->api->now_us(d->host) : 0;

	dns_fwd_arrival(d->fwd, t0);
	return t0;
}

/* An answer to the query that came at t0 (0: not measured) went out. */
static void answered(struct dns_srv *d, uint64_t t0)
{
	uint64_t now;

	if (!d->latency || !t0)
		return;
	now = d->api->now_us(d->host);
	tapir_hist_observe(d->latency, now > t0 ? now - t0 : 0);
}

/* Send the answer out[0, n) to ip:port, within the rate limit; t0 is
 * when its query came. */
static void udp_reply(struct dns_srv *d, const struct tapir_addr *ip,
		      uint16_t port, uint8_t *out, size_t n,
		      const struct dns_result *r, uint64_t t0)
{
	struct tapir_udp_dst dst = {.ip = *ip, .port = port};

	switch (rate_check(d, ip)) {
	case RL_DROP:
		return;
	case RL_SLIP: /* header and question only, TC set */
		n = r->qend;
		out[2] |= DNS_F_TC >> 8;
		memset(out + 6, 0, 6);
		break;
	case RL_SEND:
		break;
	}
	d->api->udp_send(d->udp, &dst, out, n);
	answered(d, t0);
}

static void on_udp(void *arg, const struct tapir_udp_meta *m,
		   const uint8_t *data, size_t len)
{
	struct dns_srv *d = arg;
	struct dns_result r;
	uint64_t t0;
	size_t n;

	if (m->broadcast || !m->src_port) {
		++*d->dropped;
		return;
	}
	t0 = arrival(d);
	n = answer(d, data, len, false, d->out, &r, &m->src_ip, m->src_port,
		   NULL);
	if (!n)
		return;
	udp_reply(d, &m->src_ip, m->src_port, d->out, n, &r, t0);
}

/* ---- TCP ----------------------------------------------------------------- */

struct tconn {
	struct dns_srv *d;
	struct tapir_tcp *c;
	struct tapir_timer *idle;
	uint8_t lenb[2];
	unsigned lenhave;
	uint8_t *msg; /* the query being read */
	size_t need, have;
	uint8_t *pend; /* a response waiting for send room */
	size_t pend_len, pend_off;
	bool peer_done;
	bool waiting; /* for the forwarder's answer: nothing more is read */
	bool in_recv;
};

static void tconn_free(struct tconn *t)
{
	dns_fwd_cancel(t->d->fwd, t);
	t->d->nconns--;
	if (t->idle)
		t->d->api->timer_free(t->idle);
	free(t->msg);
	free(t->pend);
	free(t);
}

/* Let the connection go (no more callbacks) and free it. */
static void tconn_close(struct tconn *t, bool reset)
{
	if (reset)
		t->d->api->tcp_abort(t->c);
	else
		t->d->api->tcp_close(t->c);
	tconn_free(t);
}

static void on_idle(void *arg)
{
	struct tconn *t = arg;

	++*t->d->tcp_idle;
	tconn_close(t, false);
}

static void *tcp_accepted(void *arg, struct tapir_tcp *c)
{
	struct dns_srv *d = arg;
	struct tconn *t;

	if (d->nconns >= d->conf.max_tcp) {
		++*d->tcp_refused;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->d = d;
	t->c = c;
	t->idle = d->api->timer_new(d->host, on_idle, t);
	if (!t->idle) {
		free(t);
		return NULL;
	}
	d->nconns++;
	++*d->tcp_conns;
	d->api->timer_arm(t->idle, d->conf.tcp_idle_ms);
	d->api->tcp_set_nodelay(c, true);
	return t;
}

/* Send what waits; true when nothing is left. */
static bool flush(struct tconn *t)
{
	size_t n;

	if (!t->pend_len)
		return true;
	n = t->d->api->tcp_send(t->c, t->pend + t->pend_off,
				t->pend_len - t->pend_off);
	t->pend_off += n;
	if (t->pend_off < t->pend_len)
		return false;
	free(t->pend);
	t->pend = NULL;
	t->pend_len = t->pend_off = 0;
	return true;
}

/* Send the response msg[0, n) (msg - 2 has room for its length). */
static void tcp_respond(struct tconn *t, uint8_t *msg, size_t n)
{
	size_t sent;

	tapir_put_be16(msg - 2, (uint16_t)n);
	sent = t->d->api->tcp_send(t->c, msg - 2, n + 2);
	if (sent < n + 2) {
		t->pend = malloc(n + 2 - sent);
		if (!t->pend) {
			t->pend_len = 0;
			return;
		}
		memcpy(t->pend, msg - 2 + sent, n + 2 - sent);
		t->pend_len = n + 2 - sent;
		t->pend_off = 0;
	}
}

/* Answer the complete query in t->msg. */
static void tcp_query(struct tconn *t)
{
	struct dns_srv *d = t->d;
	struct dns_result r;
	struct tapir_addr peer;
	uint16_t port = 0;
	uint64_t t0 = arrival(d);
	size_t n;

	d->api->tcp_peer(t->c, &peer, &port);
	t->waiting = true; /* an answer from the cache comes at once */
	n = answer(d, t->msg, t->need, true, d->out + 2, &r, &peer, port, t);
	if (r.rcode != RCODE_FORWARDED)
		t->waiting = false;
	free(t->msg);
	t->msg = NULL;
	t->have = t->need = 0;
	t->lenhave = 0;
	if (n) {
		tcp_respond(t, d->out + 2, n);
		answered(d, t0);
	}
}

/* The forwarder's answer for a client: over UDP, or on the connection
 * tag. */
static void fwd_reply(void *owner, void *tag, const struct tapir_addr *to,
		      uint16_t port, const uint8_t *msg, size_t len,
		      const struct dns_result *r)
{
	struct dns_srv *d = owner;
	struct tconn *t = tag;

	count(d, r);
	if (len > DNS_MSG_MAX)
		return;
	memcpy(d->out + 2, msg, len);
	if (!t) {
		udp_reply(d, to, port, d->out + 2, len, r, r->t0_us);
		return;
	}
	if (!t->waiting)
		return; /* cannot happen: one query at a time */
	t->waiting = false;
	tcp_respond(t, d->out + 2, len);
	answered(d, r->t0_us);
	if (t->in_recv || t->pend_len)
		return; /* tcp_recv() goes on; writable() resumes */
	d->api->timer_arm(t->idle, d->conf.tcp_idle_ms);
	if (t->peer_done) {
		tconn_close(t, false);
		return;
	}
	d->api->tcp_recv_resume(t->c);
}

static size_t tcp_recv(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		       size_t len)
{
	struct tconn *t = ctx;
	size_t taken = 0;

	(void)c;
	t->in_recv = true;
	while (taken < len && !t->pend_len && !t->waiting) {
		if (t->lenhave < 2) {
			if (!t->lenhave) /* a query starts: its deadline */
				t->d->api->timer_arm(t->idle,
						     t->d->conf.tcp_idle_ms);
			t->lenb[t->lenhave++] = data[taken++];
			if (t->lenhave < 2)
				continue;
			t->need = tapir_get_be16(t->lenb);
			if (t->need < DNS_HDR_LEN) {
				/* No message fits: the stream is broken. */
				++*t->d->dropped;
				tconn_close(t, true);
				return len;
			}
			t->msg = malloc(t->need);
			if (!t->msg) {
				tconn_close(t, true);
				return len;
			}
			t->have = 0;
			continue;
		}
		{
			size_t n = len - taken < t->need - t->have
					   ? len - taken
					   : t->need - t->have;

			memcpy(t->msg + t->have, data + taken, n);
			t->have += n;
			taken += n;
		}
		if (t->have == t->need) {
			tcp_query(t);
			/* A whole query: the connection is in use. */
			t->d->api->timer_arm(t->idle, t->d->conf.tcp_idle_ms);
		}
	}
	t->in_recv = false;
	return taken;
}

static void tcp_writable(void *ctx, struct tapir_tcp *c)
{
	struct tconn *t = ctx;

	/* The response must be taken whole within the deadline set when
	 * its query arrived: a reader taking a few bytes at a time does not
	 * extend it.  Once it is out, the connection is idle from now. */
	if (!flush(t))
		return;
	t->d->api->timer_arm(t->idle, t->d->conf.tcp_idle_ms);
	if (t->peer_done && !t->waiting) {
		tconn_close(t, false);
		return;
	}
	t->d->api->tcp_recv_resume(c);
}

static void tcp_peer_closed(void *ctx, struct tapir_tcp *c)
{
	struct tconn *t = ctx;

	(void)c;
	t->peer_done = true;
	if (!t->pend_len && !t->waiting)
		tconn_close(t, false);
}

static void tcp_closed(void *ctx, struct tapir_tcp *c, int err)
{
	(void)c;
	(void)err;
	tconn_free(ctx);
}

static const struct tapir_tcp_handlers tcp_handlers = {
	.accepted = tcp_accepted,
	.recv = tcp_recv,
	.writable = tcp_writable,
	.peer_closed = tcp_peer_closed,
	.closed = tcp_closed,
};

/* ---- Zone files changed ---------------------------------------------------- */

static void zone_check_log(void *arg, const char *msg)
{
	struct dns_srv *d = arg;

	d->api->log(d->host, TAPIR_LOG_ERR, "%s", msg);
}

static void log_conf(struct dns_srv *d);

/* Every zone_file_check seconds: zones whose files changed are read
 * again, all or nothing; with an error the old ones go on. */
static void on_zone_check(void *arg)
{
	struct dns_srv *d = arg;
	struct dns_zonefile zf = {.report = zone_check_log, .arg = d};
	int rc = dns_zones_reread(&d->conf.zones, &zf);

	if (rc > 0) {
		d->api->log(d->host, TAPIR_LOG_NOTICE,
			    "zone files changed: read again");
		log_conf(d);
	} else if (rc < 0) {
		d->api->log(d->host, TAPIR_LOG_ERR,
			    "zone files changed but cannot be read: the "
			    "zones stay as they were");
	}
	d->api->timer_arm(d->zone_check, d->conf.zone_check_ms);
}

static void zone_check_arm(struct dns_srv *d)
{
	bool files = false;

	for (unsigned i = 0; i < d->conf.zones.n; i++)
		files |= d->conf.zones.z[i]->file != NULL;
	d->api->timer_cancel(d->zone_check);
	if (files && d->conf.zone_check_ms)
		d->api->timer_arm(d->zone_check, d->conf.zone_check_ms);
}

/* ---- Lifecycle ----------------------------------------------------------- */

static int counters(struct dns_srv *d)
{
	for (int i = 0; i < RC_COUNT; i++)
		if (!(d->rc[i] = d->api->counter(d->host, rc_names[i])))
			return -1;
	for (size_t i = 0; i < NQTYPES; i++)
		if (!(d->qt[i] = d->api->counter(d->host, qtypes[i].name)))
			return -1;
	d->dropped = d->api->counter(d->host, "dropped");
	d->truncated = d->api->counter(d->host, "truncated");
	d->rate_limited = d->api->counter(d->host, "rate_limited");
	d->tcp_conns = d->api->counter(d->host, "tcp_connections");
	d->tcp_refused = d->api->counter(d->host, "tcp_refused");
	d->tcp_idle = d->api->counter(d->host, "tcp_idle_closed");
	if (dns_fwd_counters(d->host, d->api, &d->fctr) < 0)
		return -1;
	if (TAPIR_HOST_HAS(d->api, histogram) && TAPIR_HOST_HAS(d->api, now_us))
		d->latency = d->api->histogram(
			d->host, "answer_duration",
			"DNS answers: from the query in to the answer out "
			"(authoritative, cached and forwarded), in seconds.");
	return d->dropped && d->truncated && d->rate_limited && d->tcp_conns &&
			       d->tcp_refused && d->tcp_idle
		       ? 0
		       : -1;
}

/* Bind UDP and listen on TCP for c; all or nothing. */
static int open_ports(struct dns_srv *d, const struct conf *c,
		      struct tapir_udp **udp, struct tapir_tcp_listener **tcp)
{
	*udp = d->api->udp_bind(d->host, c->port, on_udp, d);
	*tcp = NULL;
	if (!*udp) {
		d->api->log(d->host, TAPIR_LOG_ERR, "cannot bind UDP port %u: %s",
			    c->port, strerror(errno));
		return -1;
	}
	if (c->tcp) {
		*tcp = d->api->tcp_listen(d->host, c->port, &tcp_handlers, d);
		if (!*tcp) {
			d->api->log(d->host, TAPIR_LOG_ERR,
				    "cannot listen on TCP port %u: %s", c->port,
				    strerror(errno));
			d->api->udp_unbind(*udp);
			*udp = NULL;
			return -1;
		}
	}
	return 0;
}

static struct rl_ent *rl_table(const struct conf *c)
{
	return c->rl_rate ? calloc(c->rl_table, sizeof(struct rl_ent)) : NULL;
}

static void log_conf(struct dns_srv *d)
{
	size_t records = 0;

	for (unsigned i = 0; i < d->conf.zones.n; i++)
		records += d->conf.zones.z[i]->records;
	d->api->log(d->host, TAPIR_LOG_INFO,
		    "port %u%s: %u zone%s, %zu records", d->conf.port,
		    d->tcp ? " (UDP and TCP)" : " (UDP)", d->conf.zones.n,
		    d->conf.zones.n == 1 ? "" : "s", records);
	if (d->fwd)
		d->api->log(d->host, TAPIR_LOG_INFO,
			    "forwarding: %u server%s for other names, %u "
			    "forward zone%s, cache of %u answers",
			    d->conf.fwd.g[0].n,
			    d->conf.fwd.g[0].n == 1 ? "" : "s",
			    d->conf.fwd.ngroups - 1,
			    d->conf.fwd.ngroups == 2 ? "" : "s",
			    d->conf.fwd.cache_size);
}

/* The forwarder for c (NULL when c does not forward); false on failure. */
static bool fwd_make(struct dns_srv *d, const struct conf *c,
		     struct dns_fwd **out)
{
	*out = NULL;
	if (!c->fwd.on)
		return true;
	*out = dns_fwd_new(d->host, d->api, &c->fwd, &d->fctr, c->port,
			   c->edns_payload, fwd_reply, d);
	if (!*out)
		d->api->log(d->host, TAPIR_LOG_ERR,
			    "cannot start forwarding (no randomness or "
			    "memory)");
	return *out != NULL;
}

static void *dns_init(struct tapir_host *host, const struct tapir_host_api *api,
		      const void *conf)
{
	struct dns_srv *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->host = host;
	d->api = api;
	if (!TAPIR_HOST_HAS(api, random) ||
	    api->random(host, d->rl_key, sizeof(d->rl_key)) != 0) {
		/* No randomness (a host without random(), or early
		 * boot): weaker, but still not a key anyone outside can
		 * know in advance. */
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)d;

		memcpy(d->rl_key, &t, sizeof(t));
	}
	dns_dyn_init(&d->dyn);
	d->zone_check = api->timer_new(host, on_zone_check, d);
	if (!d->zone_check || counters(d) < 0 ||
	    read_conf(NULL, conf, &d->conf) < 0) {
		if (d->zone_check)
			api->timer_free(d->zone_check);
		free(d);
		return NULL;
	}
	d->rl = rl_table(&d->conf);
	if ((d->conf.rl_rate && !d->rl) || !fwd_make(d, &d->conf, &d->fwd) ||
	    open_ports(d, &d->conf, &d->udp, &d->tcp) < 0) {
		dns_fwd_free(d->fwd, false);
		free(d->rl);
		dns_zones_free(&d->conf.zones);
		api->timer_free(d->zone_check);
		free(d);
		return NULL;
	}
	if (dns_dot_open(host, api, ((const struct dns_settings *)conf)->tls,
			 d->conf.tls_port, &tcp_handlers, d, &d->dot) < 0) {
		d->api->udp_unbind(d->udp);
		if (d->tcp)
			d->api->tcp_unlisten(d->tcp);
		dns_fwd_free(d->fwd, false);
		free(d->rl);
		dns_zones_free(&d->conf.zones);
		api->timer_free(d->zone_check);
		free(d);
		return NULL;
	}
	dns_dyn_watch(&d->dyn, host, api);
	zone_check_arm(d);
	log_conf(d);
	return d;
}

/* New zones and settings all or nothing; connections on an unchanged port
 * keep running. */
static int dns_reconfigure(void *state, const void *conf)
{
	struct dns_srv *d = state;
	struct conf c;
	struct rl_ent *rl;
	struct dns_fwd *fwd, *old_fwd;

	if (read_conf(NULL, conf, &c) < 0)
		return -1;
	rl = rl_table(&c);
	if ((c.rl_rate && !rl) || !fwd_make(d, &c, &fwd)) {
		free(rl);
		dns_zones_free(&c.zones);
		return -1;
	}
	if (dns_dot_reconf(d->host, d->api,
			   ((const struct dns_settings *)conf)->tls, c.tls_port,
			   d->conf.tls_port, &tcp_handlers, d, &d->dot) < 0) {
		dns_fwd_free(fwd, false);
		free(rl);
		dns_zones_free(&c.zones);
		return -1;
	}
	if (c.port != d->conf.port || c.tcp != d->conf.tcp) {
		struct tapir_udp *udp = NULL;
		struct tapir_tcp_listener *tcp = NULL;
		bool same_port = c.port == d->conf.port;

		/* The same port cannot be bound twice: release it first and
		 * take the old one back on failure. */
		if (same_port) {
			d->api->udp_unbind(d->udp);
			if (d->tcp)
				d->api->tcp_unlisten(d->tcp);
			d->udp = NULL;
			d->tcp = NULL;
		}
		if (open_ports(d, &c, &udp, &tcp) < 0) {
			if (same_port &&
			    open_ports(d, &d->conf, &d->udp, &d->tcp) < 0)
				d->api->log(d->host, TAPIR_LOG_ERR,
					    "could not bind the old port again");
			dns_fwd_free(fwd, false);
			free(rl);
			dns_zones_free(&c.zones);
			return -1;
		}
		if (!same_port) {
			d->api->udp_unbind(d->udp);
			if (d->tcp)
				d->api->tcp_unlisten(d->tcp);
		}
		d->udp = udp;
		d->tcp = tcp;
	}
	dns_zones_free(&d->conf.zones);
	free(d->rl);
	d->rl = rl;
	d->conf = c;
	/* A new forwarder, its cache empty; who waited on the old one gets
	 * SERVFAIL now rather than nothing. */
	old_fwd = d->fwd;
	d->fwd = fwd;
	dns_fwd_free(old_fwd, true);
	zone_check_arm(d);
	log_conf(d);
	return 0;
}

static void dns_fini(void *state)
{
	struct dns_srv *d = state;

	dns_dyn_fini(&d->dyn);
	d->api->timer_free(d->zone_check);
	d->api->udp_unbind(d->udp);
	if (d->tcp)
		d->api->tcp_unlisten(d->tcp); /* closed() frees each */
	if (d->dot)
		d->api->tcp_unlisten(d->dot);
	dns_fwd_free(d->fwd, false);
	dns_zones_free(&d->conf.zones);
	free(d->rl);
	free(d);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	TAPIR_MODULE_HEAD,
	.flags = TAPIR_MODF_RECONFIGURE_ALWAYS, /* zone files: read on every reload */
	.name = "dns",
	.description = "authoritative DNS for the configured zones, "
		       "forwarding with a cache for other names",
	.settings = settings,
	.settings_size = sizeof(struct dns_settings),
	.check = dns_check,
	.init = dns_init,
	.reconfigure = dns_reconfigure,
	.fini = dns_fini,
};
