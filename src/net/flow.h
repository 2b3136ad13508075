/*
 * The TCP connection table and the listener table.
 *
 * Connections: a chained hash table keyed by the 4-tuple, intrusive like
 * the timer wheel: the owner embeds a struct flow in its connection object
 * and gets back to the object from a lookup with flow_entry().  The table
 * never allocates or frees entries, only its bucket array.
 *
 * Addresses are union inany (inany.h): IPv4 as IPv4-mapped IPv6, so one
 * table holds both families.
 *
 * The hash is SipHash-2-4 (tapir/siphash.h) of the 4-tuple under a secret
 * 128-bit key the owner supplies, truncated to 32 bits and kept in the
 * entry.  The tuple is hashed in a fixed layout, independent of the host's
 * byte order (flow_key_siphash()): when both addresses are IPv4, 12 bytes
 * (the two IPv4 addresses as host-order integers, then lport and rport, each
 * little-endian), so the common case costs two SipHash words; otherwise 36
 * bytes (the two 16-byte addresses as on the wire, then lport and rport
 * little-endian).  Because the key is secret, a peer that picks its
 * addresses and ports cannot aim many connections at one chain; with an
 * unkeyed hash it could make every lookup walk all of them.
 *
 * The bucket count is a power of two and a bucket is hash & (n - 1).  An
 * insert that leaves more entries than buckets doubles the array (rehashing
 * from the stored hashes, no SipHash), up to max_buckets; so the mean chain
 * stays at most one and lookup, insert and remove are O(1) on average.  If
 * the bigger array cannot be allocated the table carries on with the old
 * one and longer chains (and tries again on a later insert); inserting
 * never fails for lack of memory.  The array never shrinks.  Removal walks
 * the entry's chain (singly linked, to keep entries small).
 *
 * Listeners: a small separate table (as Linux splits established and
 * listening sockets), 64 chains by port.  On one port there is either one
 * any-address listener (addr ::, for both families) or any number of listeners on distinct
 * specific addresses, never both; listener_find() prefers the exact
 * address and falls back to the any-address one.
 *
 * Ports are in host byte order throughout.
 */
#ifndef TAPIR_FLOW_H
#define TAPIR_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "tapir/siphash.h"

#define FLOW_MAX_BUCKETS_DEFAULT ((size_t)1 << 20)

struct flow_key {
	union inany laddr, raddr;
	uint16_t lport, rport;
};

struct flow {
	struct flow *next;   /* chain; owned by the table while inserted */
	struct flow_key key; /* set by the owner before flow_insert() */
	uint32_t hash;       /* set by flow_insert() */
};

struct flow_table {
	struct flow **bucket;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint8_t key[TAPIR_SIPHASH_KEY_LEN];
	size_t max_buckets; /* no doubling once nbuckets >= this; settable */
};

/* The object of type type that embeds the struct flow f as member. */
#define flow_entry(f, type, member)                                            \
	((type *)(void *)((char *)(f) - offsetof(type, member)))

static inline bool flow_key_eq(const struct flow_key *a,
			       const struct flow_key *b)
{
	return a->lport == b->lport && a->rport == b->rport &&
	       inany_eq(&a->raddr, &b->raddr) && inany_eq(&a->laddr, &b->laddr);
}

/* SipHash-2-4 under key of the 12- or 36-byte layout of k described
 * above. */
uint64_t flow_key_siphash(const struct flow_key *k,
			  const uint8_t key[TAPIR_SIPHASH_KEY_LEN]);

/* An empty table with nbuckets_pow2 buckets (rounded up to a power of two,
 * at least 1) hashing under key, and max_buckets at its default.  Returns
 * 0 or -ENOMEM. */
int flow_table_init(struct flow_table *t, size_t nbuckets_pow2,
		    const uint8_t key[TAPIR_SIPHASH_KEY_LEN]);
/* Free the bucket array.  The table must be empty (asserted). */
void flow_table_fini(struct flow_table *t);

/* The entry with key k, or NULL. */
struct flow *flow_lookup(const struct flow_table *t, const struct flow_key *k);
/* Insert f (f->key set by the caller; f->next and f->hash are written).
 * Returns 0, or -EEXIST when an entry with the same key is present (the
 * table is unchanged). */
int flow_insert(struct flow_table *t, struct flow *f);
/* Unlink f, which must be in t (asserted). */
void flow_remove(struct flow_table *t, struct flow *f);

static inline size_t flow_count(const struct flow_table *t)
{
	return t->count;
}

/* The bucket index of k in t (for tests and statistics). */
size_t flow_bucket_of(const struct flow_table *t, const struct flow_key *k);

/* ---- Listeners ----------------------------------------------------------- */

#define LISTENER_BUCKETS 64

struct listener {
	struct listener *next;
	uint16_t port;
	union inany addr; /* unspecified = any */
};

struct listener_table {
	struct listener *bucket[LISTENER_BUCKETS];
};

void listener_table_init(struct listener_table *lt);
/* Add l (port and addr set by the caller).  Returns 0, or -EADDRINUSE when
 * l would overlap a listener already on the port: the same address, an
 * any-address listener when one on a specific address exists, or one on a
 * specific address when an any-address one exists. */
int listener_add(struct listener_table *lt, struct listener *l);
/* Unlink l, which must be in lt (asserted). */
void listener_remove(struct listener_table *lt, struct listener *l);
/* The listener for a SYN to addr:port: the one bound to addr, else the
 * any-address one, else NULL. */
struct listener *listener_find(const struct listener_table *lt,
			       const union inany *addr, uint16_t port);
bool listener_table_empty(const struct listener_table *lt);

#endif
