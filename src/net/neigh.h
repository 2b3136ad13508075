/*
 * The neighbour cache: which link address a next hop has, shared by ARP
 * (IPv4) and, with the same code, Neighbor Discovery (IPv6).
 *
 * Theory of operation.  A table of a fixed number of entries, chained into
 * hash buckets by index, keyed by union inany.  States:
 *
 *   INCOMPLETE  a solicitation is out; up to queue_len packets wait
 *   REACHABLE   usable until timeout_ms after the last confirmation
 *   STALE       timed out but used since: still usable while the neighbour
 *               is asked again by unicast; freed when it does not answer
 *   PERMANENT   configured (neigh_set_static()): usable, no timer, never
 *               evicted, and nothing received changes it
 *
 * The protocol (arp.c, later nd6.c) parses and sends its own messages and
 * tells the cache what it learnt: neigh_confirm() for an answer about an
 * address we asked about or know (never creates an entry), neigh_learn()
 * for a neighbour that is about to talk to us (creates one).  The cache
 * calls back into the protocol only to solicit.
 *
 * Output: the network layer has already routed and fragmented; it hands
 * each frame's payload to neigh_output() with the next hop.  When the next
 * hop is known the frame goes straight to eth_output(); otherwise a copy
 * waits and goes to eth_output() when the answer comes.  Nothing calls
 * back up into the network layer.  The pieces of one datagram count as one
 * packet against queue_len (a fragment marked NEIGH_MORE belongs to the
 * packet before it and shares its fate), so a fragmented datagram waits
 * whole or not at all.
 *
 * Bounds an outsider could push against: at most a quarter of the table is
 * INCOMPLETE (the oldest such entry is recycled), queued bytes have one
 * limit over the whole table, and the router's entry is never evicted.
 */
#ifndef TAPIR_NET_NEIGH_H
#define TAPIR_NET_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "net/pbuf.h"
#include "net/timer.h"

struct stack;
struct stack_tx_offload;
struct neigh_table;
struct neigh_entry;

enum neigh_state {
	NEIGH_FREE,
	NEIGH_INCOMPLETE,
	NEIGH_REACHABLE,
	NEIGH_STALE,
	NEIGH_DELAY, /* NUD only: stale, used, waiting before a probe */
	NEIGH_PROBE, /* NUD only: asked by unicast, not answered yet */
	NEIGH_PERMANENT, /* configured: fixed until neigh_clear_static() */
};

/* What the protocol does for the cache. */
struct neigh_ops {
	/* Ask for addr's link address: by broadcast (or the solicited-node
	 * multicast) when mac is NULL, by unicast to mac otherwise. */
	void (*solicit)(struct stack *s, const union inany *addr,
			const uint8_t *mac);
};

/* Counter indices (enum stat_id) the cache bumps for its protocol. */
struct neigh_stat_ids {
	int queue_drop;       /* a packet not queued (full, or no entry) */
	int unresolved_drop;  /* a queued packet dropped unsent */
	int evict;            /* an entry recycled to make room */
	int expire;           /* an entry timed out */
	int resolve_fail;     /* a solicitation never answered */
};

struct neigh_params {
	unsigned size;       /* entries */
	unsigned timeout_ms; /* lifetime of a confirmation */
	unsigned retry_ms;   /* between solicitations */
	unsigned retries;    /* solicitations before giving up */
	unsigned queue_len;  /* packets held per unresolved entry */
	size_t queue_bytes;  /* held over the whole table */
	/* Neighbor Unreachability Detection (RFC 4861 7.3), for ND: a
	 * REACHABLE entry goes STALE after timeout_ms and stays usable;
	 * the first packet sent to a STALE entry makes it DELAY, and
	 * delay_ms later, unless confirmed meanwhile, PROBE: up to retries
	 * unicast solicitations retry_ms apart, then the entry goes.  A
	 * STALE entry unused for stale_ms goes too.  Without nud, the ARP
	 * behaviour described above. */
	bool nud;
	unsigned delay_ms;   /* RFC 4861 DELAY_FIRST_PROBE_TIME */
	unsigned stale_ms;
};

struct neigh_queued {
	struct neigh_queued *next;
	uint16_t type; /* EtherType */
	bool first;    /* the first piece of a packet */
	size_t len;
	uint8_t data[];
};

struct neigh_entry {
	struct neigh_table *t;
	union inany addr;
	uint8_t mac[6];
	uint8_t state; /* enum neigh_state */
	uint8_t tries;
	bool last_dropped; /* the last packet offered was not queued */
	uint32_t next;     /* index + 1 of the next entry in the chain */
	uint64_t updated;  /* last confirmed (or created) */
	uint64_t used;     /* last sent to */
	struct timer timer;
	struct neigh_queued *q;
	unsigned qlen; /* packets (not fragments) waiting */
};

struct neigh_table {
	struct stack *s;
	const struct neigh_ops *ops;
	struct neigh_stat_ids ids;
	struct neigh_params p;
	struct neigh_entry *e;
	uint32_t *bucket; /* index + 1 of the first entry, 0 = empty */
	unsigned used;       /* entries not FREE */
	unsigned incomplete; /* entries resolving */
	size_t queued_bytes;
	union inany keep; /* never evicted (the router); unspecified: none */
	unsigned permanent; /* PERMANENT entries */
};

/* Set up t for s.  0, or -ENOMEM (t is then empty and every output fails
 * with -ENOBUFS). */
int neigh_init(struct neigh_table *t, struct stack *s,
	       const struct neigh_ops *ops, const struct neigh_stat_ids *ids,
	       const struct neigh_params *p);
/* Free every entry and what waits in it. */
void neigh_fini(struct neigh_table *t);

/* Flags for neigh_output(). */
#define NEIGH_MORE 1u /* a further fragment of the packet offered before */

/* Send pb's bytes as an Ethernet frame of the given type to next_hop's
 * link address, resolving it first when needed.  pb is borrowed: while
 * resolving, a copy waits.  off (NULL: none) goes to the link with the
 * frame; it is only for a next hop neigh_ready() said is resolved, since
 * what waits is kept as plain frames.  0 when sent or waiting, -ENOBUFS
 * when dropped, or the link's error. */
int neigh_output(struct neigh_table *t, const union inany *next_hop,
		 uint16_t type, struct pbuf *pb,
		 const struct stack_tx_offload *off, unsigned flags);

/* An answer about addr: when an entry exists, it is now REACHABLE at mac
 * and what waited goes out.  Returns whether the entry existed. */
bool neigh_confirm(struct neigh_table *t, const union inany *addr,
		   const uint8_t *mac);
/* addr at mac is about to talk to us: confirm it, creating the entry
 * (marked as just used) when there is room. */
void neigh_learn(struct neigh_table *t, const union inany *addr,
		 const uint8_t *mac);

/* What neigh_update() was told (RFC 4861 7.2.3, 7.2.5). */
#define NEIGH_SOLICITED 1u /* an answer to our solicitation: reachable */
#define NEIGH_OVERRIDE 2u  /* the link address replaces the one we have */
#define NEIGH_CREATE 4u    /* a solicitation from addr: make the entry */

/* Neighbor Discovery's update of addr's entry with mac (NULL: none given)
 * and how (NEIGH_*): an advertisement (SOLICITED, OVERRIDE as its flags
 * say) or a solicitation from addr (CREATE).  A new or changed link
 * address that nothing confirmed leaves the entry STALE.  Returns whether
 * the entry exists now. */
bool neigh_update(struct neigh_table *t, const union inany *addr,
		  const uint8_t *mac, unsigned how);

/* Make addr's entry PERMANENT at mac (a static neighbour): what waited
 * for it goes out, and from then on no confirmation, learning or update
 * changes it, no timer runs for it and nothing evicts it.  0, or -ENOSPC
 * when it would leave no entry for dynamic neighbours (at most size - 1
 * are permanent). */
int neigh_set_static(struct neigh_table *t, const union inany *addr,
		     const uint8_t *mac);
/* Free every PERMANENT entry (before setting a new list). */
void neigh_clear_static(struct neigh_table *t);

/* 0 and the MAC when addr is resolved, -ENOENT otherwise. */
int neigh_lookup(const struct neigh_table *t, const union inany *addr,
		 uint8_t mac[6]);
/* Whether a packet to addr would leave at once. */
bool neigh_ready(const struct neigh_table *t, const union inany *addr);

/* Visit every entry: address, MAC, state name ("incomplete", "reachable",
 * "stale", "delay", "probe", "permanent") and ms since it was last
 * confirmed (set, for a permanent one). */
typedef void (*neigh_visit_fn)(void *arg, const union inany *addr,
			       const uint8_t *mac, const char *state,
			       uint64_t age_ms);
void neigh_foreach(const struct neigh_table *t, neigh_visit_fn fn, void *arg);

#endif
