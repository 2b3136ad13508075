/*
 * Configuration loading and validation.
 *
 * The schema is fixed by tapir.conf(5): interface, module_dir, modules,
 * stack, log, user, group, control, seccomp, capture.  Unknown keys are errors at every level, so a typo
 * never passes silently.  Module sections are checked for their name here;
 * their settings are read against the module's descriptors (names, types,
 * ranges, required) by modconf.c, and what descriptors cannot say by the
 * module's own check().
 */
#include "daemon/conf.h"
#include "daemon/log.h"
#include "tapir/addr.h"
#include "wire/ip4.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Relative module paths are taken from here (see conf_set_base_dir). */
static char *base_dir;

void conf_set_base_dir(const char *dir)
{
	free(base_dir);
	base_dir = dir ? strdup(dir) : NULL;
}

const char conf_default_text[] =
	"interface = {\n"
	"  name = \"tapir0\";\n"
	"  address = \"10.0.0.2/24\";\n"
	"  host_address = \"10.0.0.1/24\";\n"
	"};\n"
	"modules = ( { name = \"echo\"; } );\n";

static void conf_verror(struct conf_errors *e, const char *file, int line,
			const char *fmt, va_list ap)
{
	char msg[512], *full;
	char **n;
	int rc;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* What is at a line says FILE:LINE; without a line (0) there is no
	 * line number to give, and without a file no place at all. */
	if (line > 0)
		rc = asprintf(&full, "%s:%d: %s", file ? file : "?", line, msg);
	else if (file)
		rc = asprintf(&full, "%s: %s", file, msg);
	else
		rc = asprintf(&full, "%s", msg);
	if (rc < 0)
		return;
	n = realloc(e->msgs, (e->n + 1) * sizeof(*n));
	if (!n) {
		free(full);
		return;
	}
	e->msgs = n;
	e->msgs[e->n++] = full;
}

void conf_error(struct conf_errors *e, const char *file, int line,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verror(e, file, line, fmt, ap);
	va_end(ap);
}

void conf_error_at(struct conf_errors *e, const config_setting_t *s,
		   const char *fallback_file, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? (int)config_setting_source_line(s) : 0;
	va_list ap;

	va_start(ap, fmt);
	conf_verror(e, file ? file : fallback_file, line, fmt, ap);
	va_end(ap);
}

void conf_errors_clear(struct conf_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
}

bool conf_parse_ip(const char *s, uint32_t *addr)
{
	return tapir_ipv4_parse(s, addr);
}

bool conf_parse_prefix(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long len;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) || !slash[1])
		return false;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (!isdigit((unsigned char)slash[1]))
		return false;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len < 1 || len > 32)
		return false;
	if (!conf_parse_ip(buf, addr))
		return false;
	*prefix = (unsigned)len;
	return true;
}

bool conf_parse_ip6(const char *s, uint8_t addr[16], char *why, size_t len)
{
	struct in_addr v4;

	if (!*s) {
		snprintf(why, len, "is empty; write an IPv6 address such as "
				   "fd00::1");
		return false;
	}
	if (strchr(s, '%')) {
		snprintf(why, len, "carries a zone index ('%s'); leave it out: "
				   "the address is on interface.name",
			 strchr(s, '%'));
		return false;
	}
	if (strchr(s, '/')) {
		snprintf(why, len, "has a prefix length; write the address "
				   "alone, such as fd00::1");
		return false;
	}
	if (s[0] == '[') {
		snprintf(why, len, "is in brackets; write the address without "
				   "them, such as fd00::1");
		return false;
	}
	if (inet_pton(AF_INET, s, &v4) == 1) {
		snprintf(why, len, "is an IPv4 address; this setting is for "
				   "IPv6 (its IPv4 twin has the same name "
				   "without the 6)");
		return false;
	}
	if (strlen(s) >= INET6_ADDRSTRLEN ||
	    inet_pton(AF_INET6, s, addr) != 1) {
		snprintf(why, len, "is not an IPv6 address (RFC 4291 text, "
				   "such as fd00::1 or 2001:db8:0:1::5)");
		return false;
	}
	return true;
}

bool conf_parse_prefix6(const char *s, uint8_t addr[16], unsigned *prefix,
			char *why, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 16];
	const char *slash = strrchr(s, '/');
	char *end;
	unsigned long n;

	if (!*s) {
		snprintf(why, len, "is empty; write ADDRESS/PREFIX, such as "
				   "fd00::2/64");
		return false;
	}
	if (!slash) {
		snprintf(why, len, "has no prefix length; write "
				   "ADDRESS/PREFIX, such as fd00::2/64");
		return false;
	}
	errno = 0;
	n = isdigit((unsigned char)slash[1]) ? strtoul(slash + 1, &end, 10) : 0;
	if (!isdigit((unsigned char)slash[1]) || errno || *end || n < 1 ||
	    n > 128) {
		snprintf(why, len, "has prefix length '%.16s'; it must be 1 to "
				   "128 (64 is usual)",
			 slash + 1);
		return false;
	}
	if ((size_t)(slash - s) >= sizeof(buf)) {
		snprintf(why, len, "is not an IPv6 address (RFC 4291 text, "
				   "such as fd00::1 or 2001:db8:0:1::5)");
		return false;
	}
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (!conf_parse_ip6(buf, addr, why, len))
		return false;
	*prefix = (unsigned)n;
	return true;
}

bool conf_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]))
			return false;
		mac[i] = (uint8_t)strtoul((char[]){s[0], s[1], 0}, NULL, 16);
		s += 2;
		if (i < 5 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

/* Loading context: where errors go and what file we are in. */
struct ld {
	struct conf_errors *errs;
	const char *file;
	struct conf *c;
};

#define ERR(ld, s, ...) conf_error_at((ld)->errs, (s), (ld)->file, __VA_ARGS__)

/* Reject any child of group not named in keys (NULL-terminated). */
static void check_keys(struct ld *ld, const config_setting_t *group,
		       const char *where, const char *const *keys)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *ch = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(ch);
		bool known = false;

		for (const char *const *k = keys; *k && !known; k++)
			known = name && strcmp(name, *k) == 0;
		if (!known)
			ERR(ld, ch, "unknown setting '%s%s%s'", where,
			    *where ? "." : "", name ? name : "?");
	}
}

/* An optional group; NULL when absent, error when not a group. */
static config_setting_t *get_group(struct ld *ld, config_setting_t *parent,
				   const char *key)
{
	config_setting_t *s = config_setting_get_member(parent, key);

	if (s && !config_setting_is_group(s)) {
		ERR(ld, s, "'%s' must be a group: %s = { ... };", key, key);
		return NULL;
	}
	return s;
}

/* An optional string; NULL when absent or wrong type (error added). */
static const char *get_str(struct ld *ld, config_setting_t *parent,
			   const char *where, const char *key,
			   config_setting_t **out)
{
	config_setting_t *s = config_setting_get_member(parent, key);

	if (out)
		*out = s;
	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(ld, s, "%s%s%s: expected a string in double quotes", where,
		    *where ? "." : "", key);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* An optional integer in [lo, hi]; *val untouched when absent or bad. */
static void get_int(struct ld *ld, config_setting_t *parent, const char *where,
		    const char *key, long long lo, long long hi, unsigned *val)
{
	config_setting_t *s = config_setting_get_member(parent, key);
	long long v;

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		ERR(ld, s, "%s.%s: expected an integer", where, key);
		return;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		ERR(ld, s, "%s.%s: %lld is out of range %lld..%lld", where, key,
		    v, lo, hi);
		return;
	}
	*val = (unsigned)v;
}

/* An optional boolean; *val untouched when absent or bad. */
static void get_bool(struct ld *ld, config_setting_t *parent,
		     const char *where, const char *key, bool *val)
{
	config_setting_t *s = config_setting_get_member(parent, key);

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		ERR(ld, s, "%s%s%s: expected true or false", where,
		    *where ? "." : "", key);
		return;
	}
	*val = config_setting_get_bool(s) != 0;
}

/* A stable, locally administered unicast MAC derived from the name. */
static void default_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x54; /* 'T' */
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

static bool valid_ifname(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return false;
	return strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
}

/* ---- IPv6 ------------------------------------------------------------ */

/* Why a cannot be one of our addresses (or the kernel side's), as a phrase
 * with its fix; NULL when it can.  Link-local is judged by the caller. */
static const char *addr6_unusable(const uint8_t a[16])
{
	static const uint8_t unspec[16], loopback[16] = {[15] = 1},
				  mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (a[0] == 0xff)
		return "is a multicast address (ff00::/8); give a unicast one, "
		       "such as fd00::2";
	if (!memcmp(a, unspec, 16))
		return "is the unspecified address; give a unicast one, such "
		       "as fd00::2";
	if (!memcmp(a, loopback, 16))
		return "is the loopback address; give one on the link, such as "
		       "fd00::2";
	if (!memcmp(a, mapped, sizeof(mapped)))
		return "is an IPv4-mapped address (::ffff:0:0/96); IPv4 "
		       "addresses go in interface.address and "
		       "interface.host_address";
	return NULL;
}

static bool is_link_local6(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Is a inside net/prefix? */
static bool in_prefix6(const uint8_t a[16], const uint8_t net[16],
		       unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, full) != 0)
		return false;
	return !rest ||
	       ((a[full] ^ net[full]) & (0xffu << (8 - rest)) & 0xff) == 0;
}

/* Are the bits of a after its prefix all zero: the Subnet-Router anycast
 * address (RFC 4291 2.6.1)?  /127 and /128 have none (RFC 6164). */
static bool is_subnet_anycast6(const uint8_t a[16], unsigned prefix)
{
	if (prefix >= 127)
		return false;
	for (unsigned bit = prefix; bit < 128; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

/* The index in addr6[0..n) of the first prefix a is inside, or -1. */
static int prefix6_of(const struct stack_params *p, const uint8_t a[16])
{
	for (unsigned i = 0; i < p->naddr6; i++)
		if (in_prefix6(a, p->addr6[i].addr, p->addr6[i].prefix))
			return (int)i;
	return -1;
}

static bool is_ours6(const struct stack_params *p, const uint8_t a[16])
{
	for (unsigned i = 0; i < p->naddr6; i++)
		if (!memcmp(a, p->addr6[i].addr, 16))
			return true;
	return false;
}

/* Where an element's error goes: its own line, or its list's when the
 * parser kept none for it. */
static const config_setting_t *elem_at(const config_setting_t *e,
				       const config_setting_t *list)
{
	return config_setting_source_line(e) ? e : list;
}

/* interface.address6: a list of ADDRESS/PREFIX, at most STACK_MAX_ADDR6. */
static void load_address6(struct ld *ld, config_setting_t *ifs)
{
	struct stack_params *p = &ld->c->params;
	config_setting_t *list = config_setting_get_member(ifs, "address6");
	char why[160], prev[INET6_ADDRSTRLEN];
	int n;

	if (!list)
		return;
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		ERR(ld, list, "interface.address6: expected a list in "
			      "brackets, e.g. address6 = [ \"fd00::2/64\" ];");
		return;
	}
	/* Too many is one error; each entry is still checked. */
	n = config_setting_length(list);
	if (n > STACK_MAX_ADDR6)
		ERR(ld, list, "interface.address6: %d addresses, but at most "
			      "%d are allowed; remove %d",
		    n, STACK_MAX_ADDR6, n - STACK_MAX_ADDR6);
	for (int i = 0; i < n; i++) {
		config_setting_t *e =
			config_setting_get_elem(list, (unsigned)i);
		const config_setting_t *at = elem_at(e, list);
		struct stack_addr6 a;
		const char *v, *bad;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERR(ld, at, "interface.address6: entry %d is not a "
				    "string; write each address in double "
				    "quotes, e.g. \"fd00::2/64\"",
			    i + 1);
			continue;
		}
		v = config_setting_get_string(e);
		if (!conf_parse_prefix6(v, a.addr, &a.prefix, why, sizeof(why)))
			ERR(ld, at, "interface.address6: '%s' %s", v, why);
		else if ((bad = addr6_unusable(a.addr)))
			ERR(ld, at, "interface.address6: '%s' %s", v, bad);
		else if (is_link_local6(a.addr))
			ERR(ld, at, "interface.address6: '%s' is link-local "
				    "(fe80::/10); tapird forms its link-local "
				    "address itself (see "
				    "interface.interface_id), so give a global "
				    "or unique local one, such as fd00::2/64",
			    v);
		else if (is_subnet_anycast6(a.addr, a.prefix))
			ERR(ld, at, "interface.address6: '%s' is the "
				    "Subnet-Router anycast address of its "
				    "prefix (all zero after the prefix); give "
				    "a host address, such as fd00::2/64",
			    v);
		else if (is_ours6(p, a.addr))
			ERR(ld, at, "interface.address6: '%s' repeats %s, "
				    "listed before it; remove one",
			    v, inet_ntop(AF_INET6, a.addr, prev, sizeof(prev)));
		else if (p->naddr6 < STACK_MAX_ADDR6)
			p->addr6[p->naddr6++] = a;
	}
}

/* interface.gateway6: link-local, or on the link of one of address6. */
static void load_gateway6(struct ld *ld, config_setting_t *ifs)
{
	struct stack_params *p = &ld->c->params;
	config_setting_t *s;
	const char *v = get_str(ld, ifs, "interface", "gateway6", &s), *bad;
	uint8_t g[16];
	char why[160];

	if (!v)
		return;
	if (!conf_parse_ip6(v, g, why, sizeof(why)))
		ERR(ld, s, "interface.gateway6: '%s' %s", v, why);
	else if ((bad = addr6_unusable(g)))
		ERR(ld, s, "interface.gateway6: '%s' %s", v, bad);
	else if (is_ours6(p, g))
		ERR(ld, s, "interface.gateway6: %s is our own address "
			   "(interface.address6); give the router's",
		    v);
	else if (!is_link_local6(g) && prefix6_of(p, g) < 0)
		ERR(ld, s, "interface.gateway6: %s is neither link-local "
			   "(fe80::/10) nor inside a prefix of "
			   "interface.address6; give the router's link-local "
			   "address, or one on the link",
		    v);
	else
		memcpy(p->gateway6, g, sizeof(g));
}

/* interface.host_address6: the kernel side, on the link of address6. */
static void load_host_address6(struct ld *ld, config_setting_t *ifs)
{
	struct conf *c = ld->c;
	config_setting_t *s;
	const char *v = get_str(ld, ifs, "interface", "host_address6", &s),
		   *bad;
	struct stack_addr6 h;
	char why[160];

	if (!v)
		return;
	if (!conf_parse_prefix6(v, h.addr, &h.prefix, why, sizeof(why)))
		ERR(ld, s, "interface.host_address6: '%s' %s", v, why);
	else if ((bad = addr6_unusable(h.addr)))
		ERR(ld, s, "interface.host_address6: '%s' %s", v, bad);
	else if (is_link_local6(h.addr))
		ERR(ld, s, "interface.host_address6: '%s' is link-local "
			   "(fe80::/10); the kernel forms its own, so give one "
			   "inside a prefix of interface.address6",
		    v);
	else if (is_subnet_anycast6(h.addr, h.prefix))
		ERR(ld, s, "interface.host_address6: '%s' is the Subnet-Router "
			   "anycast address of its prefix (all zero after the "
			   "prefix); give a host address, such as fd00::1/64",
		    v);
	else if (is_ours6(&c->params, h.addr))
		ERR(ld, s, "interface.host_address6: '%s' is our own address "
			   "(interface.address6); give the kernel side another "
			   "one",
		    v);
	else if (!c->params.naddr6)
		ERR(ld, s, "interface.host_address6: '%s' needs a prefix to "
			   "share with tapird; set interface.address6 too, "
			   "e.g. address6 = [ \"fd00::2/64\" ];",
		    v);
	else if (prefix6_of(&c->params, h.addr) < 0)
		ERR(ld, s, "interface.host_address6: '%s' is not inside a "
			   "prefix of interface.address6; give the kernel side "
			   "an address on tapird's link",
		    v);
	else {
		c->host_addr6 = h;
		c->has_host6 = true;
	}
}

/* The IPv6 settings of the interface group. */
static void load_interface6(struct ld *ld, config_setting_t *ifs)
{
	struct stack_params *p = &ld->c->params;
	config_setting_t *s;
	const char *v;

	get_bool(ld, ifs, "interface", "ipv6", &p->ipv6);
	get_bool(ld, ifs, "interface", "dad", &p->dad);
	v = get_str(ld, ifs, "interface", "interface_id", &s);
	if (v && !strcmp(v, "stable"))
		p->iid_eui64 = false;
	else if (v && !strcmp(v, "eui64"))
		p->iid_eui64 = true;
	else if (v)
		ERR(ld, s, "interface.interface_id: '%s' is not \"stable\" "
			   "(RFC 7217, the default) or \"eui64\" (from the MAC "
			   "address)",
		    v);
	load_address6(ld, ifs);
	load_gateway6(ld, ifs);
	load_host_address6(ld, ifs);
	/* IPv6 needs a link MTU of 1280 (RFC 8200 5); Linux turns IPv6 off
	 * on a device with less, the host side's address with it. */
	if (p->mtu < 1280 && (p->naddr6 || ld->c->has_host6)) {
		s = config_setting_get_member(ifs, "mtu");
		ERR(ld, s ? s : ifs,
		    "interface.mtu: %u is below 1280, the least IPv6 allows "
		    "(RFC 8200 5); raise it, or remove interface.address6 and "
		    "interface.host_address6",
		    p->mtu);
	}
}

/* One entry of interface.static_neighbours into *n; false (errors
 * given) when it is not usable. */
static bool load_static_neigh(struct ld *ld, config_setting_t *g, int i,
			      struct stack_static_neigh *n)
{
	static const char *const keys[] = {"address", "mac", NULL};
	const struct stack_params *p = &ld->c->params;
	config_setting_t *sa, *sm;
	const char *a, *m, *bad;
	uint8_t a6[16], zero[ETH_ALEN] = {0};
	uint32_t a4, mask = ip4_mask(p->prefix);
	char why[160];
	bool ok = true;

	check_keys(ld, g, "interface.static_neighbours", keys);
	a = get_str(ld, g, "interface.static_neighbours", "address", &sa);
	m = get_str(ld, g, "interface.static_neighbours", "mac", &sm);
	if (!sa || !sm) {
		ERR(ld, g, "interface.static_neighbours: entry %d needs both "
			   "address and mac, e.g. { address = \"10.0.0.1\"; "
			   "mac = \"02:00:00:00:00:01\"; }",
		    i + 1);
		return false;
	}
	if (!a || !m)
		return false; /* not strings: said already */
	if (!conf_parse_mac(m, n->mac)) {
		ERR(ld, sm, "interface.static_neighbours: '%s' is not a MAC "
			    "address like 02:00:00:00:00:01", m);
		ok = false;
	} else if (eth_is_multicast(n->mac) || !memcmp(n->mac, zero, ETH_ALEN)) {
		ERR(ld, sm, "interface.static_neighbours: %s is not a unicast "
			    "MAC address", m);
		ok = false;
	}
	if (conf_parse_ip(a, &a4)) {
		if (a4 == p->addr)
			bad = "is our own address (interface.address)";
		else if ((a4 & mask) != (p->addr & mask))
			bad = "is not inside the interface's subnet";
		else if (p->prefix < 31 && ((a4 & ~mask) == ~mask ||
					    (a4 & ~mask) == 0))
			bad = "is the subnet's broadcast or network address";
		else
			bad = NULL;
		if (bad) {
			ERR(ld, sa, "interface.static_neighbours: %s %s", a,
			    bad);
			return false;
		}
		n->addr = inany_from_v4(a4);
		return ok;
	}
	if (!conf_parse_ip6(a, a6, why, sizeof(why))) {
		ERR(ld, sa, "interface.static_neighbours: '%s' is neither an "
			    "IPv4 address nor an IPv6 one (%s)", a, why);
		return false;
	}
	if ((bad = addr6_unusable(a6)))
		ERR(ld, sa, "interface.static_neighbours: '%s' %s", a, bad);
	else if (!p->ipv6)
		ERR(ld, sa, "interface.static_neighbours: '%s' is IPv6, but "
			    "interface.ipv6 is false", a);
	else if (is_ours6(p, a6))
		ERR(ld, sa, "interface.static_neighbours: '%s' is our own "
			    "address (interface.address6)", a);
	else if (!is_link_local6(a6) && prefix6_of(p, a6) < 0)
		ERR(ld, sa, "interface.static_neighbours: '%s' is neither "
			    "link-local nor inside a prefix of "
			    "interface.address6", a);
	else {
		n->addr = inany_from_v6(a6);
		return ok;
	}
	return false;
}

/* interface.static_neighbours: ( { address = ...; mac = ...; }, ... ),
 * at most STACK_MAX_STATIC_NEIGH, each address once. */
static void load_static_neighbours(struct ld *ld, config_setting_t *ifs)
{
	struct stack_params *p = &ld->c->params;
	config_setting_t *list =
		config_setting_get_member(ifs, "static_neighbours");
	int n;

	if (!list)
		return;
	if (!config_setting_is_list(list)) {
		ERR(ld, list, "interface.static_neighbours: expected a list of "
			      "groups, e.g. static_neighbours = ( { address = "
			      "\"10.0.0.1\"; mac = \"02:00:00:00:00:01\"; } );");
		return;
	}
	n = config_setting_length(list);
	if (n > STACK_MAX_STATIC_NEIGH)
		ERR(ld, list, "interface.static_neighbours: %d entries, but at "
			      "most %d are allowed",
		    n, STACK_MAX_STATIC_NEIGH);
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		const config_setting_t *at = elem_at(g, list);
		struct stack_static_neigh sn;
		bool dup = false;

		if (!config_setting_is_group(g)) {
			ERR(ld, at, "interface.static_neighbours: entry %d is "
				    "not a group { address = ...; mac = ...; }",
			    i + 1);
			continue;
		}
		memset(&sn, 0, sizeof(sn));
		if (!load_static_neigh(ld, g, i, &sn))
			continue;
		for (unsigned j = 0; j < p->nstatic_neigh && !dup; j++)
			dup = inany_eq(&p->static_neigh[j].addr, &sn.addr);
		if (dup)
			ERR(ld, at, "interface.static_neighbours: entry %d "
				    "repeats an address listed before it",
			    i + 1);
		else if (p->nstatic_neigh < STACK_MAX_STATIC_NEIGH)
			p->static_neigh[p->nstatic_neigh++] = sn;
	}
}

static void load_interface(struct ld *ld, config_setting_t *root)
{
	static const char *const keys[] = {
		"name",		 "address",	  "gateway",	"mtu",
		"mac",		 "host_address",  "offload",	"ipv6",
		"address6",	 "gateway6",	  "host_address6", "dad",
		"interface_id", "acd", "static_neighbours", NULL};
	struct conf *c = ld->c;
	config_setting_t *ifs = get_group(ld, root, "interface"), *s;
	const char *v;

	if (!ifs) {
		if (!config_setting_get_member(root, "interface"))
			conf_error(ld->errs, ld->file, 1,
				   "missing 'interface' group: interface = "
				   "{ name = \"tapir0\"; address = "
				   "\"10.0.0.2/24\"; };");
		return;
	}
	check_keys(ld, ifs, "interface", keys);
	v = get_str(ld, ifs, "interface", "name", &s);
	c->ifname_setting = s;
	if (v && !valid_ifname(v))
		ERR(ld, s, "interface.name: '%s' is not a valid device name "
			   "(1-15 characters, no '/', ':' or spaces)", v);
	else
		snprintf(c->ifname, sizeof(c->ifname), "%s", v ? v : "tapir0");

	v = get_str(ld, ifs, "interface", "address", &s);
	if (!s)
		ERR(ld, ifs, "interface.address is required, e.g. "
			     "address = \"10.0.0.2/24\";");
	else if (v && !conf_parse_prefix(v, &c->params.addr, &c->params.prefix))
		ERR(ld, s, "interface.address: '%s' is not ADDRESS/PREFIX, "
			   "e.g. \"10.0.0.2/24\"", v);
	else if (v && (c->params.addr == 0 || ip4_is_multicast(c->params.addr) ||
		       ip4_is_loopback(c->params.addr) ||
		       c->params.addr == IP4_BROADCAST))
		ERR(ld, s, "interface.address: %s is not a usable host "
			   "address", v);

	v = get_str(ld, ifs, "interface", "gateway", &s);
	if (v) {
		uint32_t m = ip4_mask(c->params.prefix);

		if (!conf_parse_ip(v, &c->params.gateway))
			ERR(ld, s, "interface.gateway: '%s' is not an IPv4 "
				   "address", v);
		else if ((c->params.gateway & m) != (c->params.addr & m))
			ERR(ld, s, "interface.gateway: %s is not inside the "
				   "interface's subnet", v);
	}
	get_int(ld, ifs, "interface", "mtu", 68, 65521, &c->params.mtu);
	get_bool(ld, ifs, "interface", "acd", &c->params.acd);
	c->offload = true;
	get_bool(ld, ifs, "interface", "offload", &c->offload);

	v = get_str(ld, ifs, "interface", "mac", &s);
	if (v) {
		if (!conf_parse_mac(v, c->params.mac))
			ERR(ld, s, "interface.mac: '%s' is not a MAC address "
				   "like 02:00:00:00:00:02", v);
		else if (eth_is_multicast(c->params.mac))
			ERR(ld, s, "interface.mac: %s is a multicast address",
			    v);
	} else {
		default_mac(c->ifname, c->params.mac);
	}

	v = get_str(ld, ifs, "interface", "host_address", &s);
	if (v) {
		if (!conf_parse_prefix(v, &c->host_addr, &c->host_prefix))
			ERR(ld, s, "interface.host_address: '%s' is not "
				   "ADDRESS/PREFIX, e.g. \"10.0.0.1/24\"", v);
		else if (c->host_addr == c->params.addr)
			ERR(ld, s, "interface.host_address: %s is our own "
				   "address (interface.address)", v);
		else
			c->has_host = true;
	}
	load_interface6(ld, ifs);
	load_static_neighbours(ld, ifs);
}

static void load_stack(struct ld *ld, config_setting_t *root)
{
	static const char *const keys[] = {
		"arp_cache_size",      "arp_timeout",     "arp_retries",
		"arp_queue_len",       "reasm_max_datagrams",
		"reasm_max_bytes",     "reasm_max_fragments",
		"reasm_timeout",       "reasm_timeout6",  "icmp_rate",
		"icmp_burst",
		"ttl",                 "tcp_max_connections",
		"tcp_syn_backlog",     "tcp_send_buffer",
		"tcp_receive_buffer",  "tcp_out_of_order_limit",
		"tcp_time_wait",       "tcp_syn_cookies",
		"tcp_keepalive_idle",  "tcp_keepalive_interval",
		"tcp_keepalive_probes", "tcp_memory_limit",
		"tcp_max_time_wait",   "tcp_congestion_control",
		NULL};
	struct stack_params *p = &ld->c->params;
	config_setting_t *st = get_group(ld, root, "stack"), *s;
	const char *cc;
	unsigned v;

	if (!st)
		return;
	check_keys(ld, st, "stack", keys);
	get_int(ld, st, "stack", "arp_cache_size", 1, 65536, &p->arp_cache_size);
	v = p->arp_timeout_ms / 1000;
	get_int(ld, st, "stack", "arp_timeout", 1, 86400, &v);
	p->arp_timeout_ms = v * 1000;
	get_int(ld, st, "stack", "arp_retries", 1, 10, &p->arp_retries);
	get_int(ld, st, "stack", "arp_queue_len", 0, 64, &p->arp_queue_len);
	get_int(ld, st, "stack", "reasm_max_datagrams", 0, 4096,
		&p->reasm_max_datagrams);
	get_int(ld, st, "stack", "reasm_max_bytes", 65536, 1073741824,
		&p->reasm_max_bytes);
	get_int(ld, st, "stack", "reasm_max_fragments", 1, 8192,
		&p->reasm_max_frags);
	v = p->reasm_timeout_ms / 1000;
	get_int(ld, st, "stack", "reasm_timeout", 1, 120, &v);
	p->reasm_timeout_ms = v * 1000;
	v = p->reasm_timeout6_ms / 1000;
	get_int(ld, st, "stack", "reasm_timeout6", 1, 120, &v);
	p->reasm_timeout6_ms = v * 1000;
	get_int(ld, st, "stack", "icmp_rate", 0, 100000, &p->icmp_rate);
	get_int(ld, st, "stack", "icmp_burst", 1, 100000, &p->icmp_burst);
	v = p->ttl;
	get_int(ld, st, "stack", "ttl", 1, 255, &v);
	p->ttl = (uint8_t)v;
	get_int(ld, st, "stack", "tcp_max_connections", 1, 1000000,
		&p->tcp.max_conns);
	get_int(ld, st, "stack", "tcp_max_time_wait", 0, 1000000,
		&p->tcp.max_time_wait);
	get_int(ld, st, "stack", "tcp_syn_backlog", 1, 65535,
		&p->tcp.syn_backlog);
	get_int(ld, st, "stack", "tcp_send_buffer", 4096, 64 << 20,
		&p->tcp.sndbuf);
	get_int(ld, st, "stack", "tcp_receive_buffer", 4096, 64 << 20,
		&p->tcp.rcvbuf);
	get_int(ld, st, "stack", "tcp_out_of_order_limit", 4096, 64 << 20,
		&p->tcp.ooo_limit);
	v = p->tcp.time_wait_ms / 1000;
	get_int(ld, st, "stack", "tcp_time_wait", 1, 240, &v);
	p->tcp.time_wait_ms = v * 1000;
	get_bool(ld, st, "stack", "tcp_syn_cookies", &p->tcp.syncookies);
	cc = get_str(ld, st, "stack", "tcp_congestion_control", &s);
	if (cc && !tcp_cc_find(cc))
		ERR(ld, s, "stack.tcp_congestion_control: '%s' is not "
			   "\"cubic\" or \"newreno\"", cc);
	else if (cc)
		p->tcp.cc = tcp_cc_find(cc);
	v = p->tcp.keepalive_idle_ms / 1000;
	get_int(ld, st, "stack", "tcp_keepalive_idle", 1, 86400, &v);
	p->tcp.keepalive_idle_ms = v * 1000;
	v = p->tcp.keepalive_intvl_ms / 1000;
	get_int(ld, st, "stack", "tcp_keepalive_interval", 1, 3600, &v);
	p->tcp.keepalive_intvl_ms = v * 1000;
	get_int(ld, st, "stack", "tcp_keepalive_probes", 1, 100,
		&p->tcp.keepalive_probes);
	get_int(ld, st, "stack", "tcp_memory_limit", 1 << 20, 1u << 31,
		&p->tcp.memory_limit);
}

static void load_log(struct ld *ld, config_setting_t *root)
{
	static const char *const keys[] = {"level", NULL};
	static const struct {
		const char *name;
		int level;
	} levels[] = {{"err", LOG_ERR},       {"warning", LOG_WARNING},
		      {"notice", LOG_NOTICE}, {"info", LOG_INFO},
		      {"debug", LOG_DEBUG}};
	config_setting_t *lg = get_group(ld, root, "log"), *s;
	const char *v;

	if (!lg)
		return;
	check_keys(ld, lg, "log", keys);
	v = get_str(ld, lg, "log", "level", &s);
	if (!v)
		return;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(v, levels[i].name) == 0) {
			ld->c->log_level = levels[i].level;
			return;
		}
	}
	ERR(ld, s, "log.level: '%s' is not one of err, warning, notice, info, "
		   "debug", v);
}

static void load_control(struct ld *ld, config_setting_t *root)
{
	static const char *const keys[] = {"socket", NULL};
	config_setting_t *cg = get_group(ld, root, "control"), *s = NULL;
	const char *v = TAPIR_CONTROL_SOCKET;

	if (cg) {
		check_keys(ld, cg, "control", keys);
		if (config_setting_get_member(cg, "socket")) {
			v = get_str(ld, cg, "control", "socket", &s);
			ld->c->control_explicit = true;
		}
	}
	if (!v)
		return; /* get_str reported it */
	if (*v && (v[0] != '/' || strlen(v) > 107))
		ERR(ld, s ? s : cg,
		    "control.socket: '%s' is not an absolute path of at most "
		    "107 bytes (or \"\" for no control socket)",
		    v);
	else if (!(ld->c->control_socket = strdup(v)))
		conf_error(ld->errs, ld->file, 0, "out of memory");
}

static void load_capture(struct ld *ld, config_setting_t *root)
{
	static const char *const keys[] = {"directory", "max_files",
					   "max_bytes", NULL};
	config_setting_t *cg = get_group(ld, root, "capture"), *s = NULL;
	const char *v;

	ld->c->capture_max_files = 8;
	ld->c->capture_max_bytes = 64u << 20;
	if (!cg)
		return;
	check_keys(ld, cg, "capture", keys);
	get_int(ld, cg, "capture", "max_files", 1, 10000,
		&ld->c->capture_max_files);
	get_int(ld, cg, "capture", "max_bytes", 1024, UINT32_MAX,
		&ld->c->capture_max_bytes);
	v = get_str(ld, cg, "capture", "directory", &s);
	if (!v)
		return; /* absent: no capture; or get_str reported it */
	if (v[0] != '/' || strlen(v) > 4000 || strstr(v, "/../") ||
	    (strlen(v) >= 3 && !strcmp(v + strlen(v) - 3, "/..")))
		ERR(ld, s,
		    "capture.directory: '%s' is not an absolute path of at "
		    "most 4000 bytes without '..'",
		    v);
	else if (!(ld->c->capture_dir = strdup(v)))
		conf_error(ld->errs, ld->file, 0, "out of memory");
}

static bool valid_module_name(const char *n)
{
	if (!*n || strlen(n) > 64)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return true;
}

static void load_modules(struct ld *ld, config_setting_t *root)
{
	struct conf *c = ld->c;
	config_setting_t *ms = config_setting_get_member(root, "modules");
	const char *dir;
	int n;

	dir = get_str(ld, root, "", "module_dir", NULL);
	if (!dir)
		dir = getenv("TAPIR_MODULE_DIR");
	if (!dir || !*dir)
		dir = TAPIR_MODULE_DIR;
	c->module_dir = strdup(dir);
	if (!c->module_dir) {
		conf_error(ld->errs, ld->file, 0, "out of memory");
		return;
	}
	if (!ms)
		return;
	if (!config_setting_is_list(ms)) {
		ERR(ld, ms, "'modules' must be a list of groups: modules = ( "
			    "{ name = \"echo\"; } );");
		return;
	}
	n = config_setting_length(ms);
	c->mods = calloc((size_t)n + 1, sizeof(*c->mods));
	if (!c->mods) {
		ERR(ld, ms, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(ms, (unsigned)i);
		config_setting_t *ns, *ps;
		const char *name, *path;
		struct conf_module *cm;

		if (!config_setting_is_group(m)) {
			ERR(ld, m, "modules: each entry must be a group: "
				   "{ name = \"echo\"; }");
			continue;
		}
		name = get_str(ld, m, "modules", "name", &ns);
		if (!ns) {
			ERR(ld, m, "modules: entry without a name");
			continue;
		}
		if (!name)
			continue;
		if (!valid_module_name(name)) {
			ERR(ld, ns, "modules: '%s' is not a module name "
				    "(letters, digits, '_' and '-')", name);
			continue;
		}
		for (size_t j = 0; j < c->nmods; j++)
			if (strcmp(c->mods[j].name, name) == 0)
				ERR(ld, ns, "modules: '%s' is listed twice",
				    name);
		path = get_str(ld, m, "modules", "path", &ps);
		cm = &c->mods[c->nmods++];
		cm->name = strdup(name);
		cm->section = m;
		if (!path && asprintf(&cm->path, "%s/%s.so", c->module_dir,
				      name) < 0)
			cm->path = NULL;
		else if (path)
			cm->path = strdup(path);
		/* Anchor relative paths, so a reload after daemon() has
		 * changed directory still finds the same files. */
		if (cm->path && cm->path[0] != '/' && base_dir) {
			char *abs;

			if (asprintf(&abs, "%s/%s", base_dir, cm->path) < 0) {
				abs = NULL;
			}
			free(cm->path);
			cm->path = abs;
		}
		if (!cm->name || !cm->path)
			ERR(ld, m, "out of memory");
	}
}

static void load_root(struct ld *ld)
{
	static const char *const keys[] = {"interface", "module_dir", "modules",
					   "stack",     "log",        "user",
					   "group",     "control",    "seccomp",
					   "capture",   NULL};
	config_setting_t *root = config_root_setting(&ld->c->cfg);
	const char *v;

	check_keys(ld, root, "", keys);
	load_interface(ld, root);
	load_stack(ld, root);
	load_log(ld, root);
	load_control(ld, root);
	load_capture(ld, root);
	load_modules(ld, root);
	v = get_str(ld, root, "", "user", NULL);
	if (v && !(ld->c->user = strdup(v)))
		conf_error(ld->errs, ld->file, 0, "out of memory");
	v = get_str(ld, root, "", "group", NULL);
	if (v && !(ld->c->group = strdup(v)))
		conf_error(ld->errs, ld->file, 0, "out of memory");
	ld->c->seccomp = true;
	get_bool(ld, root, "", "seccomp", &ld->c->seccomp);
}

static struct conf *conf_new(const char *name)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	config_init(&c->cfg);
	c->file = strdup(name);
	if (!c->file) {
		free(c);
		return NULL;
	}
	stack_params_default(&c->params);
	c->log_level = LOG_INFO;
	return c;
}

static struct conf *conf_finish(struct conf *c, bool ok,
				struct conf_errors *errs, bool keep_invalid)
{
	struct ld ld = {.errs = errs, .file = c->file, .c = c};
	size_t before = errs->n;

	if (!ok) {
		const char *f = config_error_file(&c->cfg);

		conf_error(errs, f ? f : c->file, config_error_line(&c->cfg),
			   "%s", config_error_text(&c->cfg));
		conf_free(c);
		return NULL;
	}
	load_root(&ld);
	if (errs->n != before && !keep_invalid) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static struct conf *load_file(const char *path, struct conf_errors *errs,
			      bool keep_invalid)
{
	struct conf *c;

	if (access(path, R_OK) < 0) {
		conf_error(errs, NULL, 0, "cannot read %s: %s%s", path,
			   strerror(errno),
			   errno == EACCES ? " (run as root or fix the file's "
					     "permissions)"
					   : "");
		return NULL;
	}
	c = conf_new(path);
	if (!c) {
		conf_error(errs, path, 0, "out of memory");
		return NULL;
	}
	return conf_finish(c, config_read_file(&c->cfg, path) == CONFIG_TRUE,
			   errs, keep_invalid);
}

static struct conf *load_string(const char *text, const char *name,
				struct conf_errors *errs, bool keep_invalid)
{
	struct conf *c = conf_new(name);

	if (!c) {
		conf_error(errs, name, 0, "out of memory");
		return NULL;
	}
	return conf_finish(c, config_read_string(&c->cfg, text) == CONFIG_TRUE,
			   errs, keep_invalid);
}

struct conf *conf_load_file(const char *path, struct conf_errors *errs)
{
	return load_file(path, errs, false);
}

struct conf *conf_load_string(const char *text, const char *name,
			      struct conf_errors *errs)
{
	return load_string(text, name, errs, false);
}

struct conf *conf_parse_file(const char *path, struct conf_errors *errs)
{
	return load_file(path, errs, true);
}

struct conf *conf_parse_string(const char *text, const char *name,
			       struct conf_errors *errs)
{
	return load_string(text, name, errs, true);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nmods; i++) {
		free(c->mods[i].name);
		free(c->mods[i].path);
	}
	free(c->mods);
	free(c->module_dir);
	free(c->user);
	free(c->group);
	free(c->control_socket);
	free(c->capture_dir);
	free(c->file);
	config_destroy(&c->cfg);
	free(c);
}
