/*
 * Forwarding the names outside our zones to upstream servers, with a
 * cache (cache.c) of what they answer.
 *
 * A query is sent over UDP through tapird's stack from a port and with an
 * ID both drawn at random for every try (RFC 5452 §9.2), and an answer is
 * taken only from the address and port it went to, with that ID and the
 * same question (RFC 5452 §9.1); everything else is dropped and counted.
 * An answer with TC set is asked again over TCP (RFC 7766 §5).  A server
 * that stays silent is tried `forward_tries` times, `forward_timeout`
 * apart, then the next one; after the last the clients get SERVFAIL.
 * Identical questions in flight share one upstream query.
 *
 * Answers are cached for the smallest TTL of their records (capped);
 * NXDOMAIN and NODATA answers for the TTL their SOA gives (RFC 2308 §5),
 * and not at all without one.  A reload empties the cache.
 */
#ifndef TAPIR_DNS_FORWARD_H
#define TAPIR_DNS_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/module.h>

#include "answer.h"
#include "wire.h"

#define DNS_FWD_SERVERS_MAX 8  /* upstream servers of one list */
#define DNS_FWD_ZONES_MAX 64   /* forward_zones entries */

/* The settings as tapird fills them (see DNS_FWD_SETTINGS). */
struct dns_fwd_settings {
	bool forward;
	struct tapir_strings upstream;
	const config_setting_t *zones;
	unsigned timeout_ms;
	unsigned tries;
	unsigned max_outstanding;
	unsigned max_per_client;
	unsigned cache_size;
	unsigned cache_max_bytes;
	uint32_t cache_max_ttl;
	uint32_t cache_max_negative_ttl;
};

/* The descriptors, for the module's table; T is the module's settings
 * struct and f its struct dns_fwd_settings member. */
#define DNS_FWD_SETTINGS(T, f)                                                \
	{"forward", TAPIR_SET_BOOL, TAPIR_FIELD(T, f.forward), .def = true},   \
	{"upstream", TAPIR_SET_STRINGS, TAPIR_SETF_SCALAR,                     \
	 TAPIR_FIELD(T, f.upstream), .max = DNS_FWD_SERVERS_MAX},              \
	{"forward_zones", TAPIR_SET_CUSTOM, TAPIR_FIELD(T, f.zones)},          \
	{"forward_timeout", TAPIR_SET_INT, TAPIR_FIELD(T, f.timeout_ms),       \
	 .min = 50, .max = 30000, .def = 1000, .unit = "milliseconds"},       \
	{"forward_tries", TAPIR_SET_INT, TAPIR_FIELD(T, f.tries), .min = 1,   \
	 .max = 10, .def = 2, .unit = "tries per server"},                     \
	{"forward_max_outstanding", TAPIR_SET_INT,                             \
	 TAPIR_FIELD(T, f.max_outstanding), .min = 1, .max = 4096,             \
	 .def = 512, .unit = "queries"},                                       \
	{"forward_max_per_client", TAPIR_SET_INT,                              \
	 TAPIR_FIELD(T, f.max_per_client), .min = 1, .max = 4096, .def = 64,   \
	 .unit = "queries"},                                                   \
	{"cache_size", TAPIR_SET_INT, TAPIR_FIELD(T, f.cache_size), .min = 0,  \
	 .max = 1048576, .def = 4096, .unit = "answers (0: no cache)"},        \
	{"cache_max_bytes", TAPIR_SET_INT, TAPIR_FIELD(T, f.cache_max_bytes),  \
	 .min = 65536, .max = 1073741824, .def = 4194304, .unit = "bytes"},    \
	{"cache_max_ttl", TAPIR_SET_INT, TAPIR_FIELD(T, f.cache_max_ttl),      \
	 .min = 1, .max = 604800, .def = 86400, .unit = "seconds"},            \
	{"cache_max_negative_ttl", TAPIR_SET_INT,                              \
	 TAPIR_FIELD(T, f.cache_max_negative_ttl), .min = 1, .max = 86400,     \
	 .def = 3600, .unit = "seconds"}

struct dns_fwd_server {
	struct tapir_addr ip;
	uint16_t port;
};

/* The servers for the names at and below zone (the root for `upstream`). */
struct dns_fwd_group {
	uint8_t zone[DNS_NAME_MAX];
	unsigned labels;
	unsigned n;
	struct dns_fwd_server s[DNS_FWD_SERVERS_MAX];
};

struct dns_fwd_conf {
	bool on; /* forward = true and some server to forward to */
	unsigned ngroups; /* g[0] is `upstream` (maybe without servers) */
	struct dns_fwd_group g[1 + DNS_FWD_ZONES_MAX];
	unsigned timeout_ms, tries, max_outstanding, max_per_client;
	unsigned cache_size;
	size_t cache_max_bytes;
	uint32_t max_ttl, max_neg_ttl;
};

/* "10.0.1.53", "10.0.1.53:5353", "fd01::53", "[fd01::53]:5353": 0 or -1. */
int dns_fwd_parse_server(const char *s, struct dns_fwd_server *out);
/* The settings into c, each problem reported through chk (when not
 * NULL); 0 or -1. */
int dns_fwd_read(const struct tapir_check *chk,
		 const struct dns_fwd_settings *s, struct dns_fwd_conf *c);

struct dns_fwd_counters {
	uint64_t *forwarded, *cache_hits, *cache_misses, *upstream_queries,
		*timeouts, *bad_answers, *tcp, *over_limit, *servfail,
		*coalesced;
};
/* Register the counters; 0 or -1. */
int dns_fwd_counters(struct tapir_host *h, const struct tapir_host_api *api,
		     struct dns_fwd_counters *c);

/* An answer for a client: to its address and port (UDP), or for tag (the
 * caller's TCP connection, given to dns_fwd_query). */
typedef void (*dns_fwd_reply_fn)(void *owner, void *tag,
				 const struct tapir_addr *to, uint16_t port,
				 const uint8_t *msg, size_t len,
				 const struct dns_result *r);

struct dns_fwd;

struct dns_fwd *dns_fwd_new(struct tapir_host *h,
			    const struct tapir_host_api *api,
			    const struct dns_fwd_conf *c,
			    const struct dns_fwd_counters *ctr, uint16_t our_port,
			    uint16_t edns_payload, dns_fwd_reply_fn fn,
			    void *owner);
/* Stop: with answer, the clients still waiting get SERVFAIL. */
void dns_fwd_free(struct dns_fwd *f, bool answer);
/* The query q[0, len) from src:port (over TCP when tcp; tag for the
 * reply), which our zones refused.  True when it is ours: answered now
 * (from the cache, or refused over a limit) or later through fn; false
 * when no server is configured for its name (or it is no plain IN
 * query), so it stays REFUSED. */
bool dns_fwd_query(struct dns_fwd *f, const uint8_t *q, size_t len, bool tcp,
		   const struct tapir_addr *src, uint16_t port, void *tag);
/* The next query dns_fwd_query() takes came in at us (the host's now_us
 * clock); its answer, now or later, carries it as dns_result.t0_us. */
void dns_fwd_arrival(struct dns_fwd *f, uint64_t us);
/* The client behind tag is gone: its waiting queries get no answer. */
void dns_fwd_cancel(struct dns_fwd *f, void *tag);
/* Answers in the cache (for tests). */
unsigned dns_fwd_cached(const struct dns_fwd *f);

#endif
