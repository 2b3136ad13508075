/*
 * DHCP and DHCPv6 names; see dyn.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapir/addr.h>
#include <tapir/bytes.h>

#include "dyn.h"
#include "wire.h"

struct dns_dyn_ent {
	struct tapir_addr ip; /* IPv4 mapped, or IPv6 */
	int64_t expires;
	uint8_t label[1 + DNS_LABEL_MAX]; /* length-prefixed, lowercase */
	struct dns_dyn_ent *ipnext, *namenext;
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

void dns_dyn_init(struct dns_dyn *t)
{
	memset(t, 0, sizeof(*t));
	t->now = wall_now;
}

static unsigned ip_bucket(const struct tapir_addr *ip)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < 16; i++) {
		h ^= ip->b[i];
		h *= 16777619u;
	}
	return (h * 2654435761u) >> 22; /* 10 bits */
}

static unsigned name_bucket(const uint8_t *label)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 1; i <= label[0]; i++) {
		uint8_t c = label[i];

		h ^= (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		h *= 16777619u;
	}
	return h % DNS_DYN_BUCKETS;
}

static bool label_eq(const uint8_t *a, const uint8_t *b)
{
	if (a[0] != b[0])
		return false;
	for (unsigned i = 1; i <= a[0]; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

static void remove_ip(struct dns_dyn *t, const struct tapir_addr *ip)
{
	struct dns_dyn_ent **pp = &t->byip[ip_bucket(ip)], *e;

	while ((e = *pp) && !tapir_addr_eq(&e->ip, ip))
		pp = &e->ipnext;
	if (!e)
		return;
	*pp = e->ipnext;
	for (pp = &t->byname[name_bucket(e->label)]; *pp != e;
	     pp = &(*pp)->namenext)
		;
	*pp = e->namenext;
	free(e);
	t->n--;
}

/* The value of field `key=` in the text v[0..len), into out. */
static bool field(const char *v, size_t len, const char *key, char *out,
		  size_t size)
{
	size_t kl = strlen(key), i = 0;

	while (i < len) {
		size_t s = i, e;

		while (i < len && v[i] != ' ')
			i++;
		e = i;
		while (i < len && v[i] == ' ')
			i++;
		if (e - s > kl && memcmp(v + s, key, kl) == 0 &&
		    v[s + kl] == '=') {
			size_t n = e - s - kl - 1;

			if (n >= size)
				return false;
			memcpy(out, v + s + kl + 1, n);
			out[n] = 0;
			return true;
		}
	}
	return false;
}

/* One DNS label of letters, digits and hyphens (RFC 952/1123). */
static bool ldh(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > DNS_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* True when label belongs to another address of ip's family whose entry
 * has not expired. */
static bool name_taken(const struct dns_dyn *t, const uint8_t *label,
		       const struct tapir_addr *ip)
{
	int64_t now = t->now();

	for (const struct dns_dyn_ent *e = t->byname[name_bucket(label)]; e;
	     e = e->namenext)
		if (!tapir_addr_eq(&e->ip, ip) &&
		    tapir_addr_is_v4(&e->ip) == tapir_addr_is_v4(ip) &&
		    e->expires > now && label_eq(e->label, label))
			return true;
	return false;
}

/* A lease's name is its address's until the lease ends: a later lease
 * that gives the same name is not answered at all (neither A nor PTR), so
 * one client cannot take over the name of another. */
void dns_dyn_update(struct dns_dyn *t, const char *key, const void *value,
		    size_t len)
{
	char host[DNS_LABEL_MAX + 2], exp[24];
	struct dns_dyn_ent *e;
	struct tapir_addr ip;

	if (!tapir_addr_parse(key, &ip) || tapir_addr_is_unspec(&ip))
		return;
	remove_ip(t, &ip);
	if (!value || len > 4096 ||
	    !field(value, len, "hostname", host, sizeof(host)) || !ldh(host) ||
	    t->n >= DNS_DYN_MAX)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->ip = ip;
	e->expires = INT64_MAX;
	if (field(value, len, "expires", exp, sizeof(exp))) {
		char *end;
		long long x = strtoll(exp, &end, 10);

		if (*end == 0 && end != exp)
			e->expires = x;
	}
	e->label[0] = (uint8_t)strlen(host);
	for (unsigned i = 0; i < e->label[0]; i++) {
		char c = host[i];

		e->label[1 + i] =
			(uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	if (name_taken(t, e->label, &ip)) {
		free(e);
		return;
	}
	e->ipnext = t->byip[ip_bucket(&ip)];
	t->byip[ip_bucket(&ip)] = e;
	e->namenext = t->byname[name_bucket(e->label)];
	t->byname[name_bucket(e->label)] = e;
	t->n++;
}

/* Each topic for its own family: a dhcp6 lease never names an IPv4
 * address nor a dhcp one an IPv6 address. */
static void on_watch(void *arg, const char *topic, const char *key,
		     const void *value, size_t len)
{
	struct tapir_addr ip;
	bool v6topic = strcmp(topic, DNS_DYN_TOPIC6) == 0;

	if (!tapir_addr_parse(key, &ip) || tapir_addr_is_v4(&ip) != !v6topic)
		return;
	dns_dyn_update(arg, key, value, len);
}

int dns_dyn_watch(struct dns_dyn *t, struct tapir_host *h,
		  const struct tapir_host_api *api)
{
	t->api = api;
	if (!TAPIR_HOST_HAS(api, unwatch))
		return 0; /* a host without published data */
	t->watch = api->watch(h, DNS_DYN_TOPIC, on_watch, t);
	t->watch6 = api->watch(h, DNS_DYN_TOPIC6, on_watch, t);
	if (!t->watch || !t->watch6) {
		api->log(h, TAPIR_LOG_WARNING,
			 "cannot watch %s: DHCP names are not answered",
			 t->watch ? DNS_DYN_TOPIC6 : DNS_DYN_TOPIC);
		return -1;
	}
	return 0;
}

void dns_dyn_fini(struct dns_dyn *t)
{
	if (t->watch)
		t->api->unwatch(t->watch);
	if (t->watch6)
		t->api->unwatch(t->watch6);
	t->watch = t->watch6 = NULL;
	for (unsigned b = 0; b < DNS_DYN_BUCKETS; b++) {
		struct dns_dyn_ent *e = t->byip[b], *n;

		for (; e; e = n) {
			n = e->ipnext;
			free(e);
		}
		t->byip[b] = t->byname[b] = NULL;
	}
	t->n = 0;
}

size_t dns_dyn_count(const struct dns_dyn *t)
{
	return t->n;
}

void dns_dyn_set_zone(struct dns_dyn *t, const uint8_t *origin)
{
	t->origin = origin;
}

bool dns_dyn_lookup_a(void *arg, const uint8_t *name, unsigned alen,
		      uint8_t *addr)
{
	struct dns_dyn *t = arg;
	int64_t now = t->now();

	if (!t->origin || !dns_name_eq(name + 1 + name[0], t->origin) ||
	    (alen != 4 && alen != 16))
		return false;
	for (struct dns_dyn_ent *e = t->byname[name_bucket(name)]; e;
	     e = e->namenext)
		if (label_eq(e->label, name) && e->expires > now &&
		    tapir_addr_is_v4(&e->ip) == (alen == 4)) {
			memcpy(addr, e->ip.b + 16 - alen, alen);
			return true;
		}
	return false;
}

bool dns_dyn_lookup_ptr(void *arg, const uint8_t *addr, unsigned alen,
			uint8_t *name)
{
	struct dns_dyn *t = arg;
	int64_t now = t->now();
	struct tapir_addr ip;

	if (!t->origin || (alen != 4 && alen != 16))
		return false;
	if (alen == 4) {
		ip = tapir_addr_from_v4(tapir_get_be32(addr));
	} else {
		memcpy(ip.b, addr, 16);
		if (tapir_addr_is_v4(&ip))
			return false; /* ::ffff:a.b.c.d under ip6.arpa */
	}
	for (struct dns_dyn_ent *e = t->byip[ip_bucket(&ip)]; e; e = e->ipnext)
		if (tapir_addr_eq(&e->ip, &ip) && e->expires > now) {
			size_t ol = dns_name_len(t->origin);

			if (1 + (size_t)e->label[0] + ol > DNS_NAME_MAX)
				return false;
			memcpy(name, e->label, 1 + (size_t)e->label[0]);
			memcpy(name + 1 + e->label[0], t->origin, ol);
			return true;
		}
	return false;
}
