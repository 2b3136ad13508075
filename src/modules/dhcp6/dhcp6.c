/*
 * The dhcp6 module: a DHCPv6 server (RFC 8415) on UDP port 547, listening
 * to All_DHCP_Relay_Agents_and_Servers (ff02::1:2).  Stateless service
 * (Information-request: DNS servers, RFC 3646, and the domain search list)
 * and addresses (IA_NA) from a pool with durable leases, and client names
 * from the Client FQDN option (RFC 4704) published on the topic
 * "dhcp6.lease" for the dns module.  This file is the glue between
 * tapird's host API and the server (dhcp6_srv.c): settings, the port and
 * group, the server's DUID, the timers (journal batch, expiry).
 *
 * The server's DUID (a DUID-LLT made from our MAC address, RFC 8415 11.2)
 * is kept in <lease_file>.duid and read back on every start, so clients
 * see the same server after a restart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapir/bytes.h>
#include <tapir/module.h>
#include <tapir/text.h>

#include "dhcp6_srv.h"

#define DHCP6_PORT 547
#define TOPIC "dhcp6.lease"
#define TICK_MS 1000
#define DEFAULT_LEASE_FILE "/var/lib/tapir/dhcp6.leases"
#define DUID_EPOCH 946684800 /* 2000-01-01T00:00:00Z, RFC 8415 11.2 */

struct dhcp6_settings {
	struct tapir_strings pool, dns, search;
	uint32_t preferred, valid, t1, t2;
	const char *domain;
	uint32_t info_refresh;
	bool rapid_commit;
	uint8_t preference;
	const char *lease_file;
	const config_setting_t *reservations;
	uint32_t decline_time, max_leases, batch_ms, batch_max;
};

#define SECONDS(key, member, lo, hi, dflt)                                   \
	{key, TAPIR_SET_INT, TAPIR_FIELD(struct dhcp6_settings, member),      \
	 .min = lo, .max = hi, .def = dflt, .unit = "seconds"}

static const struct tapir_setting settings[] = {
	{"pool", TAPIR_SET_STRINGS, TAPIR_FIELD(struct dhcp6_settings, pool),
	 .flags = TAPIR_SETF_SCALAR, .max = D6_MAX_RANGES},
	SECONDS("preferred_lifetime", preferred, 60, 31536000, 3600),
	SECONDS("valid_lifetime", valid, 60, 31536000, 7200),
	SECONDS("t1", t1, 0, 31536000, 0),
	SECONDS("t2", t2, 0, 31536000, 0),
	{"dns", TAPIR_SET_STRINGS, TAPIR_FIELD(struct dhcp6_settings, dns),
	 .flags = TAPIR_SETF_SCALAR, .max = D6_MAX_DNS},
	{"domain", TAPIR_SET_STRING, TAPIR_FIELD(struct dhcp6_settings, domain),
	 .max = 253},
	{"search", TAPIR_SET_STRINGS, TAPIR_FIELD(struct dhcp6_settings, search),
	 .flags = TAPIR_SETF_SCALAR, .max = D6_MAX_SEARCH - 1},
	SECONDS("info_refresh_time", info_refresh, 0, 31536000, 0),
	{"rapid_commit", TAPIR_SET_BOOL,
	 TAPIR_FIELD(struct dhcp6_settings, rapid_commit), .def = 0},
	{"preference", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp6_settings, preference), .min = 0, .max = 255,
	 .def = 0},
	{"lease_file", TAPIR_SET_STRING,
	 TAPIR_FIELD(struct dhcp6_settings, lease_file), .max = 4000,
	 .def_str = DEFAULT_LEASE_FILE},
	{"reservations", TAPIR_SET_CUSTOM,
	 TAPIR_FIELD(struct dhcp6_settings, reservations)},
	SECONDS("decline_time", decline_time, 0, 86400, 600),
	{"max_leases", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp6_settings, max_leases), .min = 0,
	 .max = D6_MAX_SLOTS, .def = 0, .unit = "(0: no limit)"},
	{"batch_ms", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp6_settings, batch_ms), .min = 0, .max = 1000,
	 .def = 5, .unit = "milliseconds"},
	{"batch_max", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp6_settings, batch_max), .min = 1, .max = 1024,
	 .def = 64, .unit = "replies"},
	{.name = NULL}};

struct dhcp6 {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct tapir_udp *udp;
	struct tapir_timer *batch, *tick;
	bool batch_armed, joined;
	struct d6_cfg cfg;
	struct d6_srv *srv;
	uint8_t duid[D6_DUID_MAX];
	size_t duidlen;
	uint64_t *ctr[C6_COUNT];
	uint64_t base[C6_COUNT];
	int64_t wall0;
	uint64_t ms0;
};

/* ---- settings ------------------------------------------------------------ */

struct rd {
	const struct tapir_check *chk;
	int bad;
};

static void bad(struct rd *rd, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct rd *rd, const config_setting_t *s, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	rd->bad++;
	if (!rd->chk)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rd->chk->error(rd->chk, s, "%s", msg);
}

static void bad_at(struct rd *rd, const char *key, int index,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void bad_at(struct rd *rd, const char *key, int index,
		   const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	rd->bad++;
	if (!rd->chk)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rd->chk->error_at(rd->chk, key, index, "%s", msg);
}

/* A global IPv6 address (not IPv4, not multicast, not unspecified). */
static bool parse_v6(const char *str, struct tapir_addr *a)
{
	return tapir_addr_parse(str, a) && !tapir_addr_is_v4(a) &&
	       !tapir_addr_is_unspec(a) && a->b[0] != 0xff;
}

/* Hex bytes, with or without colons: "00:01:02" or "000102". */
static bool parse_hex(const char *str, uint8_t *out, size_t max, size_t *n)
{
	*n = 0;
	while (*str) {
		int hi, lo;

		if (*str == ':' && *n) {
			str++;
			continue;
		}
		hi = tapir_hexval((uint8_t)str[0]);
		lo = hi < 0 ? -1 : tapir_hexval((uint8_t)str[1]);
		if (lo < 0 || *n >= max)
			return false;
		out[(*n)++] = (uint8_t)(hi << 4 | lo);
		str += 2;
	}
	return *n > 0;
}

static bool domain_ok(const char *d)
{
	size_t len = strlen(d), start = 0;

	if (len < 1 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (!d6_label_ok(d + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static uint64_t lo64(const struct tapir_addr *a)
{
	uint64_t v = 0;

	for (int i = 8; i < 16; i++)
		v = v << 8 | a->b[i];
	return v;
}

static void get_pool(struct rd *rd, const struct tapir_strings *pool,
		     struct d6_cfg *c)
{
	uint64_t total = 0;

	for (size_t i = 0; i < pool->n; i++) {
		const char *str = pool->v[i];
		char first[64];
		const char *dash = strchr(str, '-');
		struct tapir_addr a, b;
		struct d6_range r;

		snprintf(first, sizeof(first), "%.*s",
			 dash ? (int)(dash - str) : (int)strlen(str), str);
		if (!parse_v6(first, &a) || !parse_v6(dash ? dash + 1 : first, &b) ||
		    memcmp(a.b, b.b, 8) != 0 || lo64(&b) < lo64(&a)) {
			bad_at(rd, "pool", (int)i,
			       "pool: \"%s\" is not a range \"first-last\" of "
			       "IPv6 addresses in one /64", str);
			continue;
		}
		memcpy(r.hi, a.b, 8);
		r.first = lo64(&a);
		r.last = lo64(&b);
		if (r.last - r.first >= D6_MAX_SLOTS) {
			bad_at(rd, "pool", (int)i,
			       "pool: \"%s\" has over %u addresses", str,
			       D6_MAX_SLOTS);
			continue;
		}
		for (unsigned k = 0; k < c->nranges; k++)
			if (memcmp(c->range[k].hi, r.hi, 8) == 0 &&
			    r.first <= c->range[k].last &&
			    c->range[k].first <= r.last) {
				bad_at(rd, "pool", (int)i,
				       "pool: \"%s\" overlaps another range",
				       str);
				break;
			}
		total += r.last - r.first + 1;
		c->range[c->nranges++] = r;
	}
	if (total > D6_MAX_SLOTS)
		bad_at(rd, "pool", -1, "pool: over %u addresses in all",
		       D6_MAX_SLOTS);
}

static void get_reservations(struct rd *rd, const config_setting_t *s,
			     struct d6_cfg *c)
{
	int len;

	if (!s)
		return;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		bad(rd, s, "reservations must be a list of groups");
		return;
	}
	len = config_setting_length(s);
	if (len > D6_MAX_RES) {
		bad(rd, s, "reservations: at most %d", D6_MAX_RES);
		return;
	}
	c->res = calloc(len ? (size_t)len : 1, sizeof(*c->res));
	if (!c->res) {
		bad(rd, s, "out of memory");
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct d6_res *r = &c->res[c->nres];
		const char *duid = NULL, *addr = NULL, *host = NULL;
		int n, before = rd->bad;
		size_t dl;

		memset(r, 0, sizeof(*r));
		if (!config_setting_is_group(e)) {
			bad(rd, e, "a reservation is a group { duid; address; "
				   "hostname; }");
			continue;
		}
		n = config_setting_length(e);
		for (int k = 0; k < n; k++) {
			const config_setting_t *f = config_setting_get_elem(e, (unsigned)k);
			const char *name = config_setting_name(f);
			const char *v = config_setting_get_string(f);

			if (!v)
				bad(rd, f, "%s must be a string", name);
			else if (strcmp(name, "duid") == 0)
				duid = v;
			else if (strcmp(name, "address") == 0)
				addr = v;
			else if (strcmp(name, "hostname") == 0)
				host = v;
			else
				bad(rd, f, "reservation: unknown setting '%s'",
				    name);
		}
		if (!duid || !parse_hex(duid, r->duid, D6_DUID_MAX, &dl) || dl < 2)
			bad(rd, e, "reservation: duid missing or not 2..%d hex "
				   "bytes (00:01:...)", D6_DUID_MAX);
		else
			r->duidlen = (uint8_t)dl;
		if (!addr || !parse_v6(addr, &r->addr))
			bad(rd, e, "reservation: address missing or not an "
				   "IPv6 address");
		if (host) {
			if (!d6_label_ok(host, strlen(host)))
				bad(rd, e, "reservation: hostname \"%s\" is not "
					   "one DNS label (letters, digits, "
					   "hyphens; 1..63)", host);
			else
				for (size_t k = 0; host[k]; k++)
					r->host[k] = (char)tapir_lower((uint8_t)host[k]);
		}
		if (rd->bad != before)
			continue;
		for (unsigned k = 0; k < c->nres; k++) {
			const struct d6_res *o = &c->res[k];

			if (tapir_addr_eq(&o->addr, &r->addr))
				bad(rd, e, "reservation: address %s is "
					   "reserved twice", addr);
			else if (o->duidlen == r->duidlen &&
				 memcmp(o->duid, r->duid, r->duidlen) == 0)
				bad(rd, e, "reservation: duid %s is reserved "
					   "twice", duid);
			else if (r->host[0] && strcmp(o->host, r->host) == 0)
				bad(rd, e, "reservation: hostname %s is "
					   "reserved twice", r->host);
		}
		if (rd->bad == before)
			c->nres++;
	}
}

/* Turn the settings into c; the number of problems (each reported
 * through chk when it is not NULL). */
static int read_cfg(const struct tapir_check *chk,
		    const struct dhcp6_settings *set, struct d6_cfg *c)
{
	struct rd rd = {chk, 0};

	d6_cfg_default(c);
	get_pool(&rd, &set->pool, c);
	c->preferred = set->preferred;
	c->valid = set->valid;
	c->t1 = set->t1;
	c->t2 = set->t2;
	if (c->preferred > c->valid)
		bad_at(&rd, "preferred_lifetime", -1,
		       "preferred_lifetime must not exceed valid_lifetime");
	if ((c->t1 || c->t2) &&
	    !((c->t1 ? c->t1 : c->preferred / 2) <=
		      (c->t2 ? c->t2 : c->preferred / 5 * 4) &&
	      (c->t2 ? c->t2 : c->preferred / 5 * 4) <= c->preferred))
		bad_at(&rd, c->t1 ? "t1" : "t2", -1,
		       "t1 <= t2 <= preferred_lifetime is required");
	for (size_t i = 0; i < set->dns.n; i++) {
		if (!parse_v6(set->dns.v[i], &c->dns[c->ndns]))
			bad_at(&rd, "dns", (int)i,
			       "dns: \"%s\" is not an IPv6 address",
			       set->dns.v[i]);
		else
			c->ndns++;
	}
	if (set->domain) {
		if (!domain_ok(set->domain))
			bad_at(&rd, "domain", -1,
			       "domain must be a domain name (labels of "
			       "letters, digits and hyphens)");
		else
			snprintf(c->search[c->nsearch++], sizeof(c->search[0]),
				 "%s", set->domain);
	}
	for (size_t i = 0; i < set->search.n; i++) {
		if (!domain_ok(set->search.v[i]))
			bad_at(&rd, "search", (int)i,
			       "search: \"%s\" is not a domain name",
			       set->search.v[i]);
		else
			snprintf(c->search[c->nsearch++], sizeof(c->search[0]),
				 "%s", set->search.v[i]);
	}
	if (set->search.n && !set->domain)
		bad_at(&rd, "search", -1,
		       "search needs domain (the first entry of the list "
		       "and the domain of client names)");
	c->info_refresh = set->info_refresh;
	/* RFC 8415 21.23: at least IRT_MINIMUM (600 s). */
	if (c->info_refresh && c->info_refresh < 600)
		bad_at(&rd, "info_refresh_time", -1,
		       "info_refresh_time: 0 (not sent) or at least 600");
	c->rapid_commit = set->rapid_commit;
	c->preference = set->preference;
	get_reservations(&rd, set->reservations, c);
	snprintf(c->lease_file, sizeof(c->lease_file), "%s", set->lease_file);
	if (set->lease_file[0] != '/')
		bad_at(&rd, "lease_file", -1,
		       "lease_file must be an absolute path");
	c->decline_time = set->decline_time;
	c->max_leases = set->max_leases;
	c->batch_ms = set->batch_ms;
	c->batch_max = set->batch_max;
	return rd.bad;
}

static int dhcp6_check(const struct tapir_check *chk, const void *conf)
{
	struct d6_cfg c;
	int n = read_cfg(chk, conf, &c);

	d6_cfg_free(&c);
	return n ? -1 : 0;
}

/* ---- the server's DUID ---------------------------------------------------- */

/* Read the DUID from path; 1 when read, 0 when there is none, -1 when the
 * file is there but not a DUID. */
static int duid_read(const char *path, uint8_t *duid, size_t *len)
{
	char buf[512];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return errno == ENOENT ? 0 : -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	if (!parse_hex(buf, duid, D6_DUID_MAX, len) || *len < 2)
		return -1;
	return 1;
}

/* The DUID kept beside the lease file, made (DUID-LLT from our MAC
 * address) and stored when there is none yet.  0, or -1 (logged). */
static int load_duid(struct dhcp6 *d, const char *lease_file)
{
	char path[4200], text[3 * D6_DUID_MAX + 2];
	uint8_t mac[6] = {0};
	size_t tl = 0;
	int rc;

	snprintf(path, sizeof(path), "%s.duid", lease_file);
	rc = duid_read(path, d->duid, &d->duidlen);
	if (rc > 0)
		return 0;
	if (rc < 0)
		d->api->log(d->host, TAPIR_LOG_WARNING,
			    "%s is not a DUID: making a new one", path);
	if (!TAPIR_HOST_HAS(d->api, if_link)) {
		d->api->log(d->host, TAPIR_LOG_ERR,
			    "this tapird cannot say its MAC address (host API "
			    "4 needed) to make a DUID");
		return -1;
	}
	d->api->if_link(d->host, mac, NULL);
	/* DUID-LLT (RFC 8415 11.2): type 1, hardware type 1 (Ethernet),
	 * seconds since 2000 (mod 2^32), link-layer address. */
	tapir_put_be16(d->duid, 1);
	tapir_put_be16(d->duid + 2, 1);
	tapir_put_be32(d->duid + 4, (uint32_t)((int64_t)time(NULL) - DUID_EPOCH));
	memcpy(d->duid + 8, mac, 6);
	d->duidlen = 14;
	for (size_t i = 0; i < d->duidlen; i++)
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s%02x",
				       i ? ":" : "", d->duid[i]);
	text[tl++] = '\n';
	rc = lj_write_file(path, text, tl);
	if (rc) {
		d->api->log(d->host, TAPIR_LOG_ERR, "cannot write %s: %s",
			    path, strerror(-rc));
		return -1;
	}
	d->api->log(d->host, TAPIR_LOG_INFO, "new server DUID in %s", path);
	return 0;
}

/* ---- environment for the server ------------------------------------------- */

static int64_t env_now(void *arg)
{
	struct dhcp6 *d = arg;

	return d->wall0 + (int64_t)((d->api->now_ms(d->host) - d->ms0) / 1000);
}

static void env_send(void *arg, const struct d6_from *to, const uint8_t *data,
		     size_t len)
{
	struct dhcp6 *d = arg;
	struct tapir_udp_dst dst = {
		.ip = to->ip, .port = to->port,
		.mac = to->has_mac ? to->mac : NULL};

	if (d->udp)
		d->api->udp_send(d->udp, &dst, data, len);
}

static void env_publish(void *arg, const char *key, const char *value)
{
	struct dhcp6 *d = arg;
	int rc = d->api->publish(d->host, TOPIC, key, value, strlen(value));

	if (rc)
		d->api->log(d->host, TAPIR_LOG_WARNING,
			    "cannot publish lease %s: %s", key, strerror(-rc));
}

static void env_unpublish(void *arg, const char *key)
{
	struct dhcp6 *d = arg;

	d->api->unpublish(d->host, TOPIC, key);
}

static void env_batch_open(void *arg)
{
	struct dhcp6 *d = arg;

	if (d->cfg.batch_ms && !d->batch_armed) {
		d->api->timer_arm(d->batch, d->cfg.batch_ms);
		d->batch_armed = true;
	}
}

static int env_random(void *arg, void *buf, size_t len)
{
	struct dhcp6 *d = arg;

	return d->api->random(d->host, buf, len) ? -1 : 0;
}

static void env_log(void *arg, int prio, const char *msg)
{
	struct dhcp6 *d = arg;

	d->api->log(d->host, prio, "%s", msg);
}

static void sync_counters(struct dhcp6 *d)
{
	const uint64_t *c = d6_srv_counters(d->srv);

	for (int i = 0; i < C6_COUNT; i++)
		if (d->ctr[i])
			*d->ctr[i] = d->base[i] + c[i];
}

/* Our IPv6 prefixes but the link-local one, as the host has them now. */
static void update_onlink(struct dhcp6 *d)
{
	struct tapir_addr a[D6_MAX_ONLINK], x;
	unsigned len[D6_MAX_ONLINK], n = 0, pl;

	for (unsigned i = 1; i < 64 && n < D6_MAX_ONLINK; i++) {
		if (d->api->if_addr(d->host, i, &x, &pl) < 0)
			break;
		if (tapir_addr_is_v4(&x) || (x.b[0] == 0xfe && (x.b[1] & 0xc0) == 0x80))
			continue;
		a[n] = x;
		len[n++] = pl;
	}
	d6_srv_set_onlink(d->srv, a, len, n);
}

static struct d6_srv *make_srv(struct dhcp6 *d, const struct d6_cfg *cfg)
{
	struct d6_env env = {
		.arg = d,
		.now = env_now,
		.send = env_send,
		.publish = env_publish,
		.unpublish = env_unpublish,
		.batch_open = env_batch_open,
		.log = env_log,
		.random = env_random,
	};
	char err[300];
	struct d6_srv *s;

	memcpy(env.duid, d->duid, d->duidlen);
	env.duidlen = d->duidlen;
	s = d6_srv_new(cfg, &env, err, sizeof(err));
	if (!s)
		d->api->log(d->host, TAPIR_LOG_ERR, "%s", err);
	return s;
}

/* ---- events --------------------------------------------------------------- */

static void on_recv(void *arg, const struct tapir_udp_meta *m,
		    const uint8_t *data, size_t len)
{
	struct dhcp6 *d = arg;
	struct d6_from from = {.ip = m->src_ip, .port = m->src_port,
			       .has_mac = true,
			       .multicast = m->broadcast || m->dst_ip.b[0] == 0xff};

	if (tapir_addr_is_v4(&m->src_ip) || m->src_port == 0)
		return; /* DHCPv6 is IPv6's */
	memcpy(from.mac, m->src_mac, 6);
	update_onlink(d);
	d6_srv_input(d->srv, &from, data, len);
	if (!d->cfg.batch_ms)
		d6_srv_flush(d->srv);
	sync_counters(d);
}

static void on_batch(void *arg)
{
	struct dhcp6 *d = arg;

	d->batch_armed = false;
	d6_srv_flush(d->srv);
	sync_counters(d);
}

static void on_tick(void *arg)
{
	struct dhcp6 *d = arg;

	d6_srv_tick(d->srv);
	sync_counters(d);
	d->api->timer_arm(d->tick, TICK_MS);
}

static void dhcp6_fini(void *state);

static const struct tapir_addr all_servers = {
	{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2}};

static void *dhcp6_init(struct tapir_host *h, const struct tapir_host_api *api,
			const void *conf)
{
	struct dhcp6 *d = calloc(1, sizeof(*d));
	const struct dhcp6_settings *set = conf;
	int rc;

	if (!d)
		return NULL;
	d->host = h;
	d->api = api;
	d->wall0 = (int64_t)time(NULL);
	d->ms0 = api->now_ms(h);
	if (!TAPIR_HOST_HAS(api, mcast_join)) {
		api->log(h, TAPIR_LOG_ERR, "this tapird cannot join multicast "
					   "groups (host API 4 needed)");
		free(d);
		return NULL;
	}
	if (read_cfg(NULL, set, &d->cfg) || load_duid(d, d->cfg.lease_file)) {
		d6_cfg_free(&d->cfg);
		free(d);
		return NULL;
	}
	for (int i = 0; i < C6_COUNT; i++)
		d->ctr[i] = api->counter(h, d6_count_names[i]);
	d->batch = api->timer_new(h, on_batch, d);
	d->tick = api->timer_new(h, on_tick, d);
	d->srv = d->batch && d->tick ? make_srv(d, &d->cfg) : NULL;
	if (!d->srv) {
		dhcp6_fini(d);
		return NULL;
	}
	d->udp = api->udp_bind(h, DHCP6_PORT, on_recv, d);
	if (!d->udp) {
		api->log(h, TAPIR_LOG_ERR, "cannot bind UDP port %d: %s",
			 DHCP6_PORT, strerror(errno));
		dhcp6_fini(d);
		return NULL;
	}
	rc = api->mcast_join(h, &all_servers);
	if (rc) {
		api->log(h, TAPIR_LOG_ERR, "cannot join ff02::1:2: %s",
			 strerror(-rc));
		dhcp6_fini(d);
		return NULL;
	}
	d->joined = true;
	d6_srv_publish_all(d->srv);
	api->timer_arm(d->tick, TICK_MS);
	return d;
}

static int dhcp6_reconfigure(void *state, const void *conf)
{
	struct dhcp6 *d = state;
	struct d6_cfg cfg;
	struct d6_srv *ns;
	const uint64_t *c;

	uint8_t old_duid[D6_DUID_MAX];
	size_t old_len = d->duidlen;

	if (read_cfg(NULL, conf, &cfg)) {
		d6_cfg_free(&cfg);
		return -1;
	}
	memcpy(old_duid, d->duid, sizeof(old_duid));
	/* Another lease file: the DUID kept beside it. */
	if (strcmp(cfg.lease_file, d->cfg.lease_file) != 0 &&
	    load_duid(d, cfg.lease_file)) {
		memcpy(d->duid, old_duid, sizeof(old_duid));
		d->duidlen = old_len;
		d6_cfg_free(&cfg);
		return -1;
	}
	/* Everything replied is on disk before the new server reads the
	 * file. */
	d6_srv_flush(d->srv);
	ns = make_srv(d, &cfg);
	if (!ns) {
		memcpy(d->duid, old_duid, sizeof(old_duid));
		d->duidlen = old_len;
		d6_cfg_free(&cfg);
		return -1;
	}
	c = d6_srv_counters(d->srv);
	for (int i = 0; i < C6_COUNT; i++)
		d->base[i] += c[i];
	d6_srv_unpublish_all(d->srv);
	d6_srv_free(d->srv);
	d6_cfg_free(&d->cfg);
	d->cfg = cfg;
	d->srv = ns;
	d6_srv_publish_all(d->srv);
	sync_counters(d);
	return 0;
}

static void dhcp6_fini(void *state)
{
	struct dhcp6 *d = state;

	d6_srv_free(d->srv);
	if (d->joined)
		d->api->mcast_leave(d->host, &all_servers);
	if (d->udp)
		d->api->udp_unbind(d->udp);
	if (d->batch)
		d->api->timer_free(d->batch);
	if (d->tick)
		d->api->timer_free(d->tick);
	d6_cfg_free(&d->cfg);
	free(d);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	TAPIR_MODULE_HEAD,
	.name = "dhcp6",
	.description = "DHCPv6 server (RFC 8415) with durable leases",
	.settings = settings,
	.settings_size = sizeof(struct dhcp6_settings),
	.check = dhcp6_check,
	.init = dhcp6_init,
	.reconfigure = dhcp6_reconfigure,
	.fini = dhcp6_fini,
};
