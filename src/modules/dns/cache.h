/*
 * The cache of forwarded answers: at most max_entries answers and
 * max_bytes bytes, least recently used evicted first, each kept until its
 * TTL runs out (the smallest TTL of its records, after the caps the
 * forwarder applied).  Keyed by the question (name case-insensitively,
 * type, class) and the query bits that change an answer (DO, CD), hashed
 * with SipHash under a key chosen at start: the names come from outside.
 *
 * Pure: the caller passes the clock.
 */
#ifndef TAPIR_DNS_CACHE_H
#define TAPIR_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/siphash.h>

#include "fwdmsg.h"

struct dns_ckey {
	uint8_t name[DNS_NAME_MAX]; /* wire form, lower case */
	size_t nlen;
	uint16_t type, class;
	uint8_t bits; /* DNS_CK_DO, DNS_CK_CD */
};
#define DNS_CK_DO 1u
#define DNS_CK_CD 2u

/* The key for qname (any case). */
void dns_ckey_make(struct dns_ckey *k, const uint8_t *qname, uint16_t type,
		   uint16_t class, uint8_t bits);
uint64_t dns_ckey_hash(const struct dns_ckey *k,
		       const uint8_t key[TAPIR_SIPHASH_KEY_LEN]);
bool dns_ckey_eq(const struct dns_ckey *a, const struct dns_ckey *b);

struct dns_cache_ent {
	struct dns_fview v; /* the answer, its TTLs as stored */
	uint64_t stored_ms, expires_ms;
};

struct dns_cache;

struct dns_cache *dns_cache_new(unsigned max_entries, size_t max_bytes,
				const uint8_t key[TAPIR_SIPHASH_KEY_LEN]);
void dns_cache_free(struct dns_cache *c);
/* The live answer for k, made the most recently used; NULL when absent or
 * expired (an expired one is dropped). */
const struct dns_cache_ent *dns_cache_get(struct dns_cache *c,
					  const struct dns_ckey *k,
					  uint64_t now_ms);
/* Keep a copy of v for ttl seconds (ttl > 0), replacing what k had and
 * evicting the least recently used until it fits.  -1 when it cannot be
 * kept (larger than the whole cache, or no memory). */
int dns_cache_put(struct dns_cache *c, const struct dns_ckey *k,
		  const struct dns_fview *v, uint32_t ttl, uint64_t now_ms);
unsigned dns_cache_count(const struct dns_cache *c);
size_t dns_cache_bytes(const struct dns_cache *c);

#endif
