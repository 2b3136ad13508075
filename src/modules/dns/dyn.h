/*
 * Names that DHCP hands out, learnt from the "dhcp.lease" topic that the
 * dhcp module publishes through the host API:
 *
 *   key   "10.0.0.123"
 *   value "mac=02:00:00:00:00:01 expires=1790000000 hostname=foo"
 *
 * An entry with a hostname makes <hostname>.<dhcp_zone> answer A with the
 * address and the address's PTR answer that name, while the entry exists
 * and has not expired.  Names in the configuration win over these, and a
 * name already answered for another live lease wins over a newer one: the
 * newer lease gets no name and no PTR until it is published again after
 * the first has gone.  The table holds at most DNS_DYN_MAX names (the
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

struct dns_dyn_ent;

struct dns_dyn {
	struct dns_dyn_ent *byip[DNS_DYN_BUCKETS];
	struct dns_dyn_ent *byname[DNS_DYN_BUCKETS];
	size_t n;
	const uint8_t *origin; /* the zone names live in (wire form) */
	const struct tapir_host_api *api;
	struct tapir_watch *watch;
	int64_t (*now)(void); /* Unix time; replaceable for tests */
};

void dns_dyn_init(struct dns_dyn *t);
/* Watch the topic when the host has the API; 0, or -1 (logged). */
int dns_dyn_watch(struct dns_dyn *t, struct tapir_host *h,
		  const struct tapir_host_api *api);
void dns_dyn_fini(struct dns_dyn *t);
/* One change of the topic (value NULL: removed); the watch callback. */
void dns_dyn_update(struct dns_dyn *t, const char *key, const void *value,
		    size_t len);
size_t dns_dyn_count(const struct dns_dyn *t);
void dns_dyn_set_zone(struct dns_dyn *t, const uint8_t *origin);
/* For struct dns_dynamic (answer.h); arg is the struct dns_dyn. */
bool dns_dyn_lookup_a(void *arg, const uint8_t *name, uint32_t *ip);
bool dns_dyn_lookup_ptr(void *arg, uint32_t ip, uint8_t *name);

#endif
