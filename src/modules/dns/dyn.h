/*
 * Names that DHCP and DHCPv6 hand out, learnt from the "dhcp.lease" topic
 * that the dhcp module publishes and the "dhcp6.lease" topic of the dhcp6
 * module (names from RFC 4704 Client FQDN options), through the host API:
 *
 *   key   "10.0.0.123"                  key   "fd00::1000"
 *   value "mac=02:00:00:00:00:01 expires=1790000000 hostname=foo"
 *   value "duid=000100.. iaid=1 expires=1790000000 hostname=foo"
 *
 * An entry with a hostname makes <hostname>.<dhcp_zone> answer A (an IPv4
 * lease) or AAAA (an IPv6 one) with the address, and the address's PTR
 * (in-addr.arpa or ip6.arpa) answer that name, while the entry exists and
 * has not expired.  Names in the configuration win over these, and a name
 * already answered for another live lease of the same family wins over a
 * newer one: the newer lease gets no name and no PTR until it is published
 * again after the first has gone (one name can have one A and one AAAA,
 * a client's two leases).  The table holds at most DNS_DYN_MAX names (the
 * host's table is bounded too).
 */
#ifndef TAPIR_DNS_DYN_H
#define TAPIR_DNS_DYN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/module.h>

#define DNS_DYN_MAX 65536
#define DNS_DYN_BUCKETS 1024
#define DNS_DYN_TOPIC "dhcp.lease"
#define DNS_DYN_TOPIC6 "dhcp6.lease"

struct dns_dyn_ent;

struct dns_dyn {
	struct dns_dyn_ent *byip[DNS_DYN_BUCKETS];
	struct dns_dyn_ent *byname[DNS_DYN_BUCKETS];
	size_t n;
	const uint8_t *origin; /* the zone names live in (wire form) */
	const struct tapir_host_api *api;
	struct tapir_watch *watch, *watch6;
	int64_t (*now)(void); /* Unix time; replaceable for tests */
};

void dns_dyn_init(struct dns_dyn *t);
/* Watch the topics when the host has the API; 0, or -1 (logged). */
int dns_dyn_watch(struct dns_dyn *t, struct tapir_host *h,
		  const struct tapir_host_api *api);
void dns_dyn_fini(struct dns_dyn *t);
/* One change of a topic (value NULL: removed); key is an IPv4 or an IPv6
 * address. */
void dns_dyn_update(struct dns_dyn *t, const char *key, const void *value,
		    size_t len);
size_t dns_dyn_count(const struct dns_dyn *t);
void dns_dyn_set_zone(struct dns_dyn *t, const uint8_t *origin);
/* For struct dns_dynamic (answer.h); arg is the struct dns_dyn. */
bool dns_dyn_lookup_a(void *arg, const uint8_t *name, unsigned alen,
		      uint8_t *addr);
bool dns_dyn_lookup_ptr(void *arg, const uint8_t *addr, unsigned alen,
			uint8_t *name);

#endif
