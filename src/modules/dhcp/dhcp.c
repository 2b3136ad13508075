/*
 * The dhcp module: an RFC 2131/2132 server on UDP port 67 with durable
 * leases.  This file is the glue between tapird's host API and the server
 * (dhcp_srv.c): settings, the port, the timers (journal batch, expiry) and
 * publishing each lease on the topic "dhcp.lease" (the host API's
 * published data).
 *
 * Settings (see tapir.conf(5), section "dhcp module"):
 *   pool = [ "10.0.0.100-10.0.0.199" ];  ranges or single addresses
 *   lease_time = 3600;  t1 = 0; t2 = 0;  (0: 1/2 and 7/8 of the lease)
 *   router = "10.0.0.1";  dns = [ "10.0.0.2" ];  domain = "lab.test";
 *   lease_file = "/var/lib/tapir/dhcp.leases";
 *   reservations = ( { mac = "..."; | client_id = "01:..";
 *                      address = "..."; hostname = "..."; } );
 *   options = ( { code = N; ip = [..] | text = ".." | hex = ".." |
 *                 u8 | u16 | u32 = N; } );
 *   offer_time = 30; decline_time = 600; max_leases = 0;
 *   batch_ms = 5; batch_max = 64;
 *   subnets = ( { subnet = "10.0.1.0/24"; pool = [ "10.0.1.100-10.0.1.199" ];
 *                 router = "10.0.1.1"; dns = [..]; lease_time = N; } );
 *   min_lease_time = 0; max_lease_time = 0;  (0: lease_time)
 *   max_leases_per_mac = 0;  (0: no cap)
 *   ping_check = false; ping_timeout = 500;  (milliseconds)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapir/bytes.h>
#include <tapir/module.h>

#include "dhcp_srv.h"

#define DHCP_PORT 67
#define TOPIC "dhcp.lease"
#define TICK_MS 1000
/* Under the state directory (TAPIR_SETF_STATE_PATH): /var/lib/tapir, or
 * tapird -S. */
#define DEFAULT_LEASE_FILE "dhcp.leases"

/* The settings as tapird fills them from the descriptors below;
 * reservations and options are lists of groups read here. */
struct dhcp_settings {
	struct tapir_strings pool;
	uint32_t lease_time, t1, t2;
	struct tapir_ipv4s router, dns;
	const char *domain;
	const char *lease_file;
	const config_setting_t *reservations, *options, *subnets;
	uint32_t offer_time, decline_time, max_leases, batch_ms, batch_max;
	uint32_t min_lease_time, max_lease_time, max_leases_per_mac;
	bool ping_check;
	uint32_t ping_timeout;
};

#define SECONDS(key, member, lo, hi, dflt)                                   \
	{key, TAPIR_SET_INT, TAPIR_FIELD(struct dhcp_settings, member),       \
	 .min = lo, .max = hi, .def = dflt, .unit = "seconds"}

static const struct tapir_setting settings[] = {
	{"pool", TAPIR_SET_STRINGS, TAPIR_FIELD(struct dhcp_settings, pool),
	 .max = DHCP_MAX_RANGES},
	SECONDS("lease_time", lease_time, 60, 31536000, 3600),
	SECONDS("t1", t1, 0, 31536000, 0),
	SECONDS("t2", t2, 0, 31536000, 0),
	{"router", TAPIR_SET_IPV4S, TAPIR_FIELD(struct dhcp_settings, router),
	 .flags = TAPIR_SETF_SCALAR, .max = DHCP_MAX_ADDRS},
	{"dns", TAPIR_SET_IPV4S, TAPIR_FIELD(struct dhcp_settings, dns),
	 .flags = TAPIR_SETF_SCALAR, .max = DHCP_MAX_ADDRS},
	{"domain", TAPIR_SET_STRING, TAPIR_FIELD(struct dhcp_settings, domain)},
	{"lease_file", TAPIR_SET_STRING,
	 TAPIR_FIELD(struct dhcp_settings, lease_file),
	 .flags = TAPIR_SETF_STATE_PATH, .max = 4000,
	 .def_str = DEFAULT_LEASE_FILE},
	{"reservations", TAPIR_SET_CUSTOM,
	 TAPIR_FIELD(struct dhcp_settings, reservations)},
	{"options", TAPIR_SET_CUSTOM, TAPIR_FIELD(struct dhcp_settings, options)},
	SECONDS("offer_time", offer_time, 5, 3600, 30),
	SECONDS("decline_time", decline_time, 0, 86400, 600),
	{"max_leases", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp_settings, max_leases), .min = 0,
	 .max = DHCP_MAX_SLOTS, .def = 0, .unit = "(0: no limit)"},
	{"batch_ms", TAPIR_SET_INT, TAPIR_FIELD(struct dhcp_settings, batch_ms),
	 .min = 0, .max = 1000, .def = 5, .unit = "milliseconds"},
	{"batch_max", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp_settings, batch_max), .min = 1, .max = 1024,
	 .def = 64, .unit = "leases"},
	{"subnets", TAPIR_SET_CUSTOM, TAPIR_FIELD(struct dhcp_settings, subnets)},
	SECONDS("min_lease_time", min_lease_time, 0, 31536000, 0),
	SECONDS("max_lease_time", max_lease_time, 0, 31536000, 0),
	{"max_leases_per_mac", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp_settings, max_leases_per_mac), .min = 0,
	 .max = DHCP_MAX_SLOTS, .def = 0, .unit = "(0: no limit)"},
	{"ping_check", TAPIR_SET_BOOL,
	 TAPIR_FIELD(struct dhcp_settings, ping_check), .def = 0},
	{"ping_timeout", TAPIR_SET_INT,
	 TAPIR_FIELD(struct dhcp_settings, ping_timeout), .min = 1,
	 .max = 5000, .def = 500, .unit = "milliseconds"},
	{.name = NULL}};

struct dhcp {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct tapir_udp *udp;
	struct tapir_timer *batch, *tick;
	bool batch_armed;
	struct dhcp_cfg cfg;
	struct dhcp_srv *srv;
	uint64_t *ctr[DC_COUNT];
	uint64_t base[DC_COUNT]; /* counts of servers replaced on reload */
	int64_t wall0;           /* Unix time at ms0 */
	uint64_t ms0;
	bool can_ping;
};

/* ---- settings ----------------------------------------------------------- */

struct rd {
	const struct tapir_check *chk;
	int bad;
};

/* Count a problem and, when checking, report it at setting s, or at the
 * setting named key (entry index) when s is NULL. */
static void vbad(struct rd *rd, const config_setting_t *s, const char *key,
		 int index, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static void vbad(struct rd *rd, const config_setting_t *s, const char *key,
		 int index, const char *fmt, va_list ap)
{
	char msg[300];

	rd->bad++;
	if (!rd->chk)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (s || !key)
		rd->chk->error(rd->chk, s, "%s", msg);
	else
		rd->chk->error_at(rd->chk, key, index, "%s", msg);
}

static void bad(struct rd *rd, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct rd *rd, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(rd, s, NULL, 0, fmt, ap);
	va_end(ap);
}

static void bad_at(struct rd *rd, const char *key, int index,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void bad_at(struct rd *rd, const char *key, int index,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(rd, NULL, key, index, fmt, ap);
	va_end(ap);
}

static bool parse_ip(const char *str, uint32_t *a)
{
	return tapir_ipv4_parse(str, a);
}

/* An option's ip: a string or a list/array of strings of addresses. */
static void get_ips(struct rd *rd, const config_setting_t *sec,
		    const char *key, uint32_t *out, unsigned *n)
{
	const config_setting_t *s = config_setting_get_member(sec, key);
	int len;

	*n = 0;
	if (!s)
		return;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (!parse_ip(config_setting_get_string(s), &out[0]))
			bad(rd, s, "%s: not an IPv4 address", key);
		else
			*n = 1;
		return;
	}
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		bad(rd, s, "%s must be an address or a list of addresses", key);
		return;
	}
	len = config_setting_length(s);
	if (len > DHCP_MAX_ADDRS) {
		bad(rd, s, "%s: at most %d addresses", key, DHCP_MAX_ADDRS);
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !parse_ip(config_setting_get_string(e), &out[*n]))
			bad(rd, e, "%s: not an IPv4 address", key);
		else
			(*n)++;
	}
}

static bool parse_hex(const char *str, uint8_t *out, size_t max, size_t *n)
{
	*n = 0;
	while (*str) {
		unsigned v;
		int used;

		if (*str == ':' && *n) {
			str++;
			continue;
		}
		if (sscanf(str, "%2x%n", &v, &used) != 1 || used != 2 ||
		    *n >= max)
			return false;
		out[(*n)++] = (uint8_t)v;
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
			if (!dhcp_label_ok(d + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* "first-last" or one address. */
static bool parse_range(const char *str, struct dhcp_range *r)
{
	char first[64];
	const char *dash = strchr(str, '-');

	snprintf(first, sizeof(first), "%.*s",
		 dash ? (int)(dash - str) : (int)strlen(str), str);
	return parse_ip(first, &r->first) &&
	       parse_ip(dash ? dash + 1 : first, &r->last) &&
	       r->last >= r->first;
}

static bool ranges_meet(const struct dhcp_range *a, const struct dhcp_range *b)
{
	return a->first <= b->last && b->first <= a->last;
}

static void get_pool(struct rd *rd, const struct tapir_strings *pool,
		     struct dhcp_cfg *c)
{
	for (size_t i = 0; i < pool->n; i++) {
		const char *str = pool->v[i];
		struct dhcp_range r;

		if (!parse_range(str, &r)) {
			bad_at(rd, "pool", (int)i,
			       "pool: \"%s\" is not a range \"first-last\" "
			       "of IPv4 addresses", str);
			continue;
		}
		if ((uint64_t)r.last - r.first + 1 > DHCP_MAX_SLOTS) {
			bad_at(rd, "pool", (int)i,
			       "pool: \"%s\" has over %u addresses", str,
			       DHCP_MAX_SLOTS);
			continue;
		}
		for (unsigned k = 0; k < c->nranges; k++)
			if (r.first <= c->range[k].last &&
			    c->range[k].first <= r.last) {
				bad_at(rd, "pool", (int)i,
				       "pool: \"%s\" overlaps another range",
				       str);
				break;
			}
		c->range[c->nranges++] = r;
	}
}

static void get_reservations(struct rd *rd, const config_setting_t *s,
			     struct dhcp_cfg *c)
{
	int len;

	if (!s)
		return;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		bad(rd, s, "reservations must be a list of groups");
		return;
	}
	len = config_setting_length(s);
	if (len > DHCP_MAX_RES) {
		bad(rd, s, "reservations: at most %d", DHCP_MAX_RES);
		return;
	}
	c->res = calloc(len ? (size_t)len : 1, sizeof(*c->res));
	if (!c->res) {
		bad(rd, s, "out of memory");
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct dhcp_res *r = &c->res[c->nres];
		const char *mac = NULL, *id = NULL, *addr = NULL, *host = NULL;
		int n, before = rd->bad;

		memset(r, 0, sizeof(*r)); /* a rejected one may have left bits */
		if (!config_setting_is_group(e)) {
			bad(rd, e, "a reservation is a group { mac or "
				   "client_id; address; hostname; }");
			continue;
		}
		n = config_setting_length(e);
		for (int k = 0; k < n; k++) {
			const config_setting_t *f = config_setting_get_elem(e, (unsigned)k);
			const char *name = config_setting_name(f);
			const char *v = config_setting_get_string(f);

			if (!v)
				bad(rd, f, "%s must be a string", name);
			else if (strcmp(name, "mac") == 0)
				mac = v;
			else if (strcmp(name, "client_id") == 0)
				id = v;
			else if (strcmp(name, "address") == 0)
				addr = v;
			else if (strcmp(name, "hostname") == 0)
				host = v;
			else
				bad(rd, f, "reservation: unknown setting '%s'",
				    name);
		}
		if (!!mac == !!id)
			bad(rd, e, "a reservation needs exactly one of mac "
				   "and client_id");
		if (mac) {
			size_t ml;

			r->by_mac = true;
			if (!parse_hex(mac, r->mac, 6, &ml) || ml != 6 ||
			    strlen(mac) != 17)
				bad(rd, e, "reservation: mac \"%s\" is not "
					   "xx:xx:xx:xx:xx:xx", mac);
		}
		if (id) {
			size_t il;

			if (!parse_hex(id, r->id, DHCP_CLIENT_ID_MAX, &il) ||
			    il < 2)
				bad(rd, e, "reservation: client_id \"%s\" must "
					   "be 2..%d hex bytes (01:02:...)",
				    id, DHCP_CLIENT_ID_MAX);
			r->idlen = (uint8_t)il;
		}
		if (!addr || !parse_ip(addr, &r->addr))
			bad(rd, e, "reservation: address missing or not an "
				   "IPv4 address");
		if (host) {
			if (!dhcp_label_ok(host, strlen(host)))
				bad(rd, e, "reservation: hostname \"%s\" is not "
					   "one DNS label (letters, digits, "
					   "hyphens; 1..63)", host);
			else
				for (size_t k = 0; host[k]; k++)
					r->host[k] = (char)(host[k] >= 'A' &&
							    host[k] <= 'Z'
						? host[k] - 'A' + 'a' : host[k]);
		}
		if (rd->bad != before)
			continue;
		for (unsigned k = 0; k < c->nres; k++) {
			const struct dhcp_res *o = &c->res[k];

			if (o->addr == r->addr)
				bad(rd, e, "reservation: address %s is "
					   "reserved twice", addr);
			else if (o->by_mac && r->by_mac &&
				 memcmp(o->mac, r->mac, 6) == 0)
				bad(rd, e, "reservation: mac %s is reserved "
					   "twice", mac);
			else if (!o->by_mac && !r->by_mac &&
				 o->idlen == r->idlen &&
				 memcmp(o->id, r->id, r->idlen) == 0)
				bad(rd, e, "reservation: client_id %s is "
					   "reserved twice", id);
		}
		if (rd->bad == before)
			c->nres++;
	}
}

/* Codes with a setting of their own, or that the protocol manages. */
static bool managed(unsigned code)
{
	return code == 0 || code == 1 || code == 3 || code == 6 ||
	       code == 12 || code == 15 || (code >= 50 && code <= 61) ||
	       code == 81 || code == 82 || code == 255;
}

static void get_options(struct rd *rd, const config_setting_t *s,
			struct dhcp_cfg *c)
{
	int len;

	if (!s)
		return;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		bad(rd, s, "options must be a list of groups");
		return;
	}
	len = config_setting_length(s);
	if (len > DHCP_MAX_OPTS) {
		bad(rd, s, "options: at most %d", DHCP_MAX_OPTS);
		return;
	}
	c->opts = calloc(len ? (size_t)len : 1, sizeof(*c->opts));
	if (!c->opts) {
		bad(rd, s, "out of memory");
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct dhcp_optval *o = &c->opts[c->nopts];
		int code = -1, values = 0, n, before = rd->bad;

		memset(o, 0, sizeof(*o));
		if (!config_setting_is_group(e)) {
			bad(rd, e, "an option is a group { code = N; and one "
				   "of ip, text, hex, u8, u16, u32 }");
			continue;
		}
		n = config_setting_length(e);
		for (int k = 0; k < n; k++) {
			const config_setting_t *f = config_setting_get_elem(e, (unsigned)k);
			const char *name = config_setting_name(f);
			int type = config_setting_type(f);
			size_t hl;

			if (strcmp(name, "code") == 0) {
				code = type == CONFIG_TYPE_INT
					       ? config_setting_get_int(f)
					       : -1;
				if (code < 1 || code > 254)
					bad(rd, f, "code must be 1..254");
				else if (managed((unsigned)code))
					bad(rd, f, "option %d is set by the "
						   "server or its own setting",
					    code);
				continue;
			}
			values++;
			if (strcmp(name, "text") == 0) {
				const char *v = config_setting_get_string(f);

				if (!v || strlen(v) > 255 || !v[0])
					bad(rd, f, "text must be 1..255 "
						   "characters");
				else {
					o->len = (uint8_t)strlen(v);
					memcpy(o->data, v, o->len);
				}
			} else if (strcmp(name, "hex") == 0) {
				const char *v = config_setting_get_string(f);

				if (!v || !parse_hex(v, o->data, 255, &hl))
					bad(rd, f, "hex must be 1..255 bytes "
						   "(0a:0b or 0a0b)");
				else
					o->len = (uint8_t)hl;
			} else if (strcmp(name, "ip") == 0) {
				uint32_t a[DHCP_MAX_ADDRS];
				unsigned na = 0;

				get_ips(rd, e, "ip", a, &na);
				for (unsigned q = 0; q < na; q++)
					tapir_put_be32(o->data + 4 * q, a[q]);
				o->len = (uint8_t)(4 * na);
				if (!na && rd->bad == before)
					bad(rd, f, "ip: no address");
			} else if (strcmp(name, "u8") == 0 ||
				   strcmp(name, "u16") == 0 ||
				   strcmp(name, "u32") == 0) {
				unsigned w = name[1] == '8' ? 1 : name[1] == '1' ? 2 : 4;
				long long v = config_setting_get_int64(f);

				if ((type != CONFIG_TYPE_INT &&
				     type != CONFIG_TYPE_INT64) || v < 0 ||
				    (w < 4 && v >= 1ll << (8 * w)) ||
				    v > 0xffffffffll) {
					bad(rd, f, "%s must be an unsigned "
						   "%u-bit integer", name, 8 * w);
				} else {
					for (unsigned q = 0; q < w; q++)
						o->data[q] = (uint8_t)(v >> (8 * (w - 1 - q)));
					o->len = (uint8_t)w;
				}
			} else {
				bad(rd, f, "option: unknown setting '%s'", name);
			}
		}
		if (code < 0 && rd->bad == before)
			bad(rd, e, "option: code missing");
		if (values != 1 && rd->bad == before)
			bad(rd, e, "option: give exactly one of ip, text, hex, "
				   "u8, u16, u32");
		for (unsigned k = 0; k < c->nopts && rd->bad == before; k++)
			if (c->opts[k].code == code)
				bad(rd, e, "option %d given twice", code);
		if (rd->bad == before) {
			o->code = (uint8_t)code;
			c->nopts++;
		}
	}
}

/* "a.b.c.d/len": a network with no host bits set. */
static bool parse_net(const char *str, uint32_t *net, unsigned *prefix)
{
	const char *slash = strchr(str, '/');
	char a[64];
	unsigned len = 0;
	size_t k;

	if (!slash || slash - str >= (ptrdiff_t)sizeof(a) || !slash[1])
		return false;
	snprintf(a, sizeof(a), "%.*s", (int)(slash - str), str);
	for (k = 1; slash[k]; k++) {
		if (slash[k] < '0' || slash[k] > '9' || k > 2)
			return false;
		len = len * 10 + (unsigned)(slash[k] - '0');
	}
	if (!parse_ip(a, net) || len < 1 || len > 32)
		return false;
	*prefix = len;
	return true;
}

static bool in_net(uint32_t a, uint32_t net, unsigned prefix)
{
	uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;

	return (a & mask) == (net & mask);
}

static void get_subnets(struct rd *rd, const config_setting_t *s,
			struct dhcp_cfg *c)
{
	int len;

	if (!s)
		return;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		bad(rd, s, "subnets must be a list of groups");
		return;
	}
	len = config_setting_length(s);
	if (len > DHCP_MAX_SUBNETS) {
		bad(rd, s, "subnets: at most %d", DHCP_MAX_SUBNETS);
		return;
	}
	c->subnets = calloc(len ? (size_t)len : 1, sizeof(*c->subnets));
	if (!c->subnets) {
		bad(rd, s, "out of memory");
		return;
	}
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct dhcp_subnet *sn = &c->subnets[c->nsubnets];
		const config_setting_t *pool = NULL;
		const char *net = NULL;
		int n, before = rd->bad;

		memset(sn, 0, sizeof(*sn));
		if (!config_setting_is_group(e)) {
			bad(rd, e, "a subnet is a group { subnet = \"a.b.c.d/len\"; "
				   "pool = [ ... ]; router; dns; lease_time; }");
			continue;
		}
		n = config_setting_length(e);
		for (int k = 0; k < n; k++) {
			const config_setting_t *f = config_setting_get_elem(e, (unsigned)k);
			const char *name = config_setting_name(f);

			if (strcmp(name, "subnet") == 0) {
				net = config_setting_get_string(f);
				if (!net || !parse_net(net, &sn->net, &sn->prefix))
					bad(rd, f, "subnet must be a network "
						   "\"a.b.c.d/len\" (len 1..32)");
				else if (sn->prefix < 32 &&
					 (sn->net & (0xffffffffu >> sn->prefix)))
					bad(rd, f, "subnet: \"%s\" has host bits "
						   "set", net);
			} else if (strcmp(name, "pool") == 0) {
				pool = f;
			} else if (strcmp(name, "lease_time") == 0) {
				int v = config_setting_type(f) == CONFIG_TYPE_INT
						? config_setting_get_int(f)
						: -1;

				if (v < 60 || v > 31536000)
					bad(rd, f, "lease_time must be 60..31536000 "
						   "seconds");
				else
					sn->lease_time = (uint32_t)v;
			} else if (strcmp(name, "router") != 0 &&
				   strcmp(name, "dns") != 0) {
				bad(rd, f, "subnet: unknown setting '%s'", name);
			}
		}
		get_ips(rd, e, "router", sn->router, &sn->nrouters);
		get_ips(rd, e, "dns", sn->dns, &sn->ndns);
		if (!net) {
			bad(rd, e, "a subnet needs subnet = \"a.b.c.d/len\"");
			continue;
		}
		if (!pool || (!config_setting_is_array(pool) &&
			      !config_setting_is_list(pool)) ||
		    config_setting_length(pool) < 1 ||
		    config_setting_length(pool) > DHCP_MAX_RANGES) {
			bad(rd, pool ? pool : e, "a subnet needs pool = "
			    "[ \"first-last\", ... ] (1..%d ranges)",
			    DHCP_MAX_RANGES);
			continue;
		}
		for (int k = 0; k < config_setting_length(pool); k++) {
			const config_setting_t *f = config_setting_get_elem(pool, (unsigned)k);
			const char *str = config_setting_get_string(f);
			struct dhcp_range r;

			if (!str || !parse_range(str, &r)) {
				bad(rd, f, "pool: \"%s\" is not a range "
					   "\"first-last\" of IPv4 addresses",
				    str ? str : "?");
				continue;
			}
			if (rd->bad == before &&
			    (!in_net(r.first, sn->net, sn->prefix) ||
			     !in_net(r.last, sn->net, sn->prefix))) {
				bad(rd, f, "pool: \"%s\" is not inside %s", str,
				    net);
				continue;
			}
			for (unsigned q = 0; q < sn->nranges; q++)
				if (ranges_meet(&r, &sn->range[q])) {
					bad(rd, f, "pool: \"%s\" overlaps "
						   "another range", str);
					break;
				}
			sn->range[sn->nranges++] = r;
		}
		for (unsigned q = 0; q < c->nsubnets && rd->bad == before; q++) {
			const struct dhcp_subnet *o = &c->subnets[q];
			unsigned p = o->prefix < sn->prefix ? o->prefix : sn->prefix;

			if (in_net(o->net, sn->net, p))
				bad(rd, e, "subnet %s overlaps another subnet",
				    net);
		}
		if (rd->bad == before)
			c->nsubnets++;
	}
}

/* Turn the settings into c; the number of problems (each reported
 * through chk when it is not NULL). */
static int read_cfg(const struct tapir_check *chk,
		    const struct dhcp_settings *set, struct dhcp_cfg *c)
{
	struct rd rd = {chk, 0};
	uint64_t total = 0;

	dhcp_cfg_default(c);
	get_pool(&rd, &set->pool, c);
	c->lease_time = set->lease_time;
	c->t1 = set->t1;
	c->t2 = set->t2;
	for (size_t i = 0; i < set->router.n; i++)
		c->router[c->nrouters++] = set->router.v[i];
	for (size_t i = 0; i < set->dns.n; i++)
		c->dns[c->ndns++] = set->dns.v[i];
	if (set->domain && !domain_ok(set->domain))
		bad_at(&rd, "domain", -1,
		       "domain must be a domain name (labels of letters, "
		       "digits and hyphens)");
	else if (set->domain)
		snprintf(c->domain, sizeof(c->domain), "%s", set->domain);
	get_reservations(&rd, set->reservations, c);
	get_options(&rd, set->options, c);
	snprintf(c->lease_file, sizeof(c->lease_file), "%s", set->lease_file);
	if (set->lease_file[0] != '/')
		bad_at(&rd, "lease_file", -1,
		       "lease_file must be an absolute path");
	c->offer_time = set->offer_time;
	c->decline_time = set->decline_time;
	c->max_leases = set->max_leases;
	c->batch_ms = set->batch_ms;
	c->batch_max = set->batch_max;
	if (c->t1 || c->t2) {
		uint32_t t1 = c->t1 ? c->t1 : c->lease_time / 2;
		uint32_t t2 = c->t2 ? c->t2 : c->lease_time / 8 * 7;

		if (!(t1 < t2 && t2 < c->lease_time))
			bad_at(&rd, c->t1 ? "t1" : "t2", -1,
			       "t1 < t2 < lease_time is required");
	}
	get_subnets(&rd, set->subnets, c);
	for (unsigned r = 0; r < c->nranges; r++) {
		total += (uint64_t)c->range[r].last - c->range[r].first + 1;
		for (unsigned k = 0; k < c->nsubnets; k++) {
			const struct dhcp_subnet *sn = &c->subnets[k];
			struct dhcp_range net = {
				sn->net, sn->net | (sn->prefix < 32
					? 0xffffffffu >> sn->prefix : 0)};

			if (ranges_meet(&c->range[r], &net))
				bad_at(&rd, "pool", (int)r,
				       "pool: a range reaches into subnet "
				       "%u.%u.%u.%u/%u, which has its own pool",
				       sn->net >> 24, (sn->net >> 16) & 255,
				       (sn->net >> 8) & 255, sn->net & 255,
				       sn->prefix);
		}
	}
	for (unsigned k = 0; k < c->nsubnets; k++) {
		const struct dhcp_subnet *sn = &c->subnets[k];

		for (unsigned r = 0; r < sn->nranges; r++)
			total += (uint64_t)sn->range[r].last -
				 sn->range[r].first + 1;
		if (sn->lease_time &&
		    ((set->min_lease_time &&
		      sn->lease_time < set->min_lease_time) ||
		     (set->max_lease_time &&
		      sn->lease_time > set->max_lease_time)))
			bad_at(&rd, "subnets", (int)k,
			       "subnets: a lease_time outside "
			       "min_lease_time..max_lease_time");
	}
	c->min_lease_time = set->min_lease_time;
	c->max_lease_time = set->max_lease_time;
	if (c->min_lease_time && c->min_lease_time > c->lease_time)
		bad_at(&rd, "min_lease_time", -1,
		       "min_lease_time must not exceed lease_time");
	if (c->max_lease_time && c->max_lease_time < c->lease_time)
		bad_at(&rd, "max_lease_time", -1,
		       "max_lease_time must not be under lease_time");
	c->max_leases_per_mac = set->max_leases_per_mac;
	c->ping_check = set->ping_check;
	c->ping_timeout_ms = set->ping_timeout;
	if (total + c->nres > DHCP_MAX_SLOTS)
		bad_at(&rd, "pool", -1,
		       "pool and reservations: over %u addresses",
		       DHCP_MAX_SLOTS);
	return rd.bad;
}

static int dhcp_check(const struct tapir_check *chk, const void *conf)
{
	struct dhcp_cfg c;
	int n = read_cfg(chk, conf, &c);

	dhcp_cfg_free(&c);
	return n ? -1 : 0;
}

/* ---- environment for the server ---------------------------------------- */

static int64_t env_now(void *arg)
{
	struct dhcp *d = arg;

	return d->wall0 + (int64_t)((d->api->now_ms(d->host) - d->ms0) / 1000);
}

static void env_send(void *arg, uint32_t ip, uint16_t port, const uint8_t *mac,
		     const uint8_t *data, size_t len)
{
	struct dhcp *d = arg;
	struct tapir_udp_dst dst = {
		.ip = tapir_addr_from_v4(ip), .port = port, .mac = mac};

	if (d->udp)
		d->api->udp_send(d->udp, &dst, data, len);
}

static void env_publish(void *arg, const char *key, const char *value)
{
	struct dhcp *d = arg;
	int rc;

	if (!TAPIR_HOST_HAS(d->api, publish))
		return;
	rc = d->api->publish(d->host, TOPIC, key, value, strlen(value));
	if (rc)
		d->api->log(d->host, TAPIR_LOG_WARNING,
			    "cannot publish lease %s: %s", key, strerror(-rc));
}

static void env_unpublish(void *arg, const char *key)
{
	struct dhcp *d = arg;

	if (TAPIR_HOST_HAS(d->api, unpublish))
		d->api->unpublish(d->host, TOPIC, key);
}

static void env_batch_open(void *arg)
{
	struct dhcp *d = arg;

	if (d->cfg.batch_ms && !d->batch_armed) {
		d->api->timer_arm(d->batch, d->cfg.batch_ms);
		d->batch_armed = true;
	}
}

static int env_random(void *arg, void *buf, size_t len)
{
	struct dhcp *d = arg;

	if (!TAPIR_HOST_HAS(d->api, random))
		return -1;
	return d->api->random(d->host, buf, len) ? -1 : 0;
}

/* One ping of the server's, between the host's callback and the
 * server's. */
struct pingw {
	struct dhcp *d;
	void (*done)(void *ctx, int result);
	void *ctx;
	struct tapir_ping *h;
};

static void sync_counters(struct dhcp *d);

static void on_ping(void *arg, int result, unsigned rtt_ms)
{
	struct pingw *w = arg;
	struct dhcp *d = w->d;
	void (*done)(void *, int) = w->done;
	void *ctx = w->ctx;

	(void)rtt_ms;
	free(w);
	done(ctx, result);
	if (!d->cfg.batch_ms)
		dhcp_srv_flush(d->srv);
	sync_counters(d);
}

static void *env_ping(void *arg, uint32_t ip, unsigned timeout_ms,
		      void (*done)(void *ctx, int result), void *ctx)
{
	struct dhcp *d = arg;
	struct tapir_addr a = tapir_addr_from_v4(ip);
	struct pingw *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	*w = (struct pingw){d, done, ctx, NULL};
	w->h = d->api->ping(d->host, &a, timeout_ms, on_ping, w);
	if (!w->h) {
		free(w);
		return NULL;
	}
	return w;
}

static void env_ping_cancel(void *arg, void *handle)
{
	struct dhcp *d = arg;
	struct pingw *w = handle;

	d->api->ping_cancel(w->h);
	free(w);
}

static void env_log(void *arg, int prio, const char *msg)
{
	struct dhcp *d = arg;

	d->api->log(d->host, prio, "%s", msg);
}

static void sync_counters(struct dhcp *d)
{
	const uint64_t *c = dhcp_srv_counters(d->srv);

	for (int i = 0; i < DC_COUNT; i++)
		if (d->ctr[i])
			*d->ctr[i] = d->base[i] + c[i];
}

static struct dhcp_srv *make_srv(struct dhcp *d, const struct dhcp_cfg *cfg)
{
	struct dhcp_env env = {
		.arg = d,
		.now = env_now,
		.send = env_send,
		.publish = env_publish,
		.unpublish = env_unpublish,
		.batch_open = env_batch_open,
		.log = env_log,
		.random = env_random,
		.reply_max = 1472,
	};
	if (d->can_ping) {
		env.ping = env_ping;
		env.ping_cancel = env_ping_cancel;
	}
	struct tapir_addr self;
	char err[300];
	struct dhcp_srv *s;

	if (d->api->if_addr(d->host, 0, &self, &env.prefix) < 0 ||
	    !tapir_addr_is_v4(&self)) {
		d->api->log(d->host, TAPIR_LOG_ERR,
			    "no IPv4 address to serve DHCP from");
		return NULL;
	}
	env.server_ip = tapir_addr_v4(&self);
	s = dhcp_srv_new(cfg, &env, err, sizeof(err));
	if (!s)
		d->api->log(d->host, TAPIR_LOG_ERR, "%s", err);
	return s;
}

/* ---- events ------------------------------------------------------------- */

static void on_recv(void *arg, const struct tapir_udp_meta *m,
		    const uint8_t *data, size_t len)
{
	struct dhcp *d = arg;

	if (!tapir_addr_is_v4(&m->src_ip))
		return; /* DHCP is IPv4's */
	dhcp_srv_input(d->srv, tapir_addr_v4(&m->src_ip), m->src_port, data,
		       len);
	if (!d->cfg.batch_ms)
		dhcp_srv_flush(d->srv);
	sync_counters(d);
}

static void on_batch(void *arg)
{
	struct dhcp *d = arg;

	d->batch_armed = false;
	dhcp_srv_flush(d->srv);
	sync_counters(d);
}

static void on_tick(void *arg)
{
	struct dhcp *d = arg;

	dhcp_srv_tick(d->srv);
	sync_counters(d);
	d->api->timer_arm(d->tick, TICK_MS);
}

static void dhcp_fini(void *state);

static void *dhcp_init(struct tapir_host *h, const struct tapir_host_api *api,
		       const void *conf)
{
	struct dhcp *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->host = h;
	d->api = api;
	d->wall0 = (int64_t)time(NULL);
	d->ms0 = api->now_ms(h);
	if (read_cfg(NULL, conf, &d->cfg)) {
		dhcp_cfg_free(&d->cfg);
		free(d);
		return NULL;
	}
	if (!TAPIR_HOST_HAS(api, publish))
		api->log(h, TAPIR_LOG_NOTICE,
			 "this tapird offers no published data: "
			 "leases are not handed to other modules");
	d->can_ping = TAPIR_HOST_HAS(api, ping) &&
		      TAPIR_HOST_HAS(api, ping_cancel);
	if (d->cfg.ping_check && !d->can_ping)
		api->log(h, TAPIR_LOG_WARNING,
			 "this tapird cannot ping: ping_check is off");
	for (int i = 0; i < DC_COUNT; i++)
		d->ctr[i] = api->counter(h, dhcp_count_names[i]);
	d->batch = api->timer_new(h, on_batch, d);
	d->tick = api->timer_new(h, on_tick, d);
	d->srv = d->batch && d->tick ? make_srv(d, &d->cfg) : NULL;
	if (!d->srv) {
		dhcp_fini(d);
		return NULL;
	}
	d->udp = api->udp_bind(h, DHCP_PORT, on_recv, d);
	if (!d->udp) {
		api->log(h, TAPIR_LOG_ERR, "cannot bind UDP port %d: %s",
			 DHCP_PORT, strerror(errno));
		dhcp_fini(d);
		return NULL;
	}
	dhcp_srv_publish_all(d->srv);
	api->timer_arm(d->tick, TICK_MS);
	return d;
}

static int dhcp_reconfigure(void *state, const void *conf)
{
	struct dhcp *d = state;
	struct dhcp_cfg cfg;
	struct dhcp_srv *ns;
	const uint64_t *c;

	if (read_cfg(NULL, conf, &cfg)) {
		dhcp_cfg_free(&cfg);
		return -1;
	}
	/* Everything acknowledged is on disk before the new server reads
	 * the file. */
	dhcp_srv_flush(d->srv);
	ns = make_srv(d, &cfg);
	if (!ns) {
		dhcp_cfg_free(&cfg);
		return -1;
	}
	c = dhcp_srv_counters(d->srv);
	for (int i = 0; i < DC_COUNT; i++)
		d->base[i] += c[i];
	dhcp_srv_unpublish_all(d->srv);
	dhcp_srv_free(d->srv);
	dhcp_cfg_free(&d->cfg);
	d->cfg = cfg;
	d->srv = ns;
	dhcp_srv_publish_all(d->srv);
	sync_counters(d);
	return 0;
}

static void dhcp_fini(void *state)
{
	struct dhcp *d = state;

	/* Acknowledge what is already on its way to disk. */
	dhcp_srv_free(d->srv);
	if (d->udp)
		d->api->udp_unbind(d->udp);
	d->api->timer_free(d->batch);
	d->api->timer_free(d->tick);
	dhcp_cfg_free(&d->cfg);
	free(d);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	TAPIR_MODULE_HEAD,
	.name = "dhcp",
	.description = "DHCP server (RFC 2131) with durable leases",
	.settings = settings,
	.settings_size = sizeof(struct dhcp_settings),
	.check = dhcp_check,
	.init = dhcp_init,
	.reconfigure = dhcp_reconfigure,
	.fini = dhcp_fini,
};
