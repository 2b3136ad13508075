/*
 * Path MTU (RFC 1191 for IPv4, RFC 8201 for IPv6): what we learnt from
 * Fragmentation Needed and Packet Too Big messages about the largest
 * datagram that reaches a destination.
 *
 * A small table of destinations, each with the MTU its path was reported
 * to have, never above the link's and never below the family's floor
 * (552 for IPv4, as Linux's min_pmtu; 1280 for IPv6, RFC 8200 5).  An
 * entry ages out PMTU_AGE_MS after it was last lowered (RFC 8201 5.3: so
 * a path that grew again is used again); when the table is full the
 * oldest entry goes, so an outsider forging errors can shrink at most
 * PMTU_ENTRIES destinations' MTUs for ten minutes, and the error must
 * quote a segment of a live connection before TCP acts on it (RFC 5927).
 */
#ifndef TAPIR_NET_PMTU_H
#define TAPIR_NET_PMTU_H

#include <stdint.h>

#include "net/inany.h"

#define PMTU_ENTRIES 64
#define PMTU_AGE_MS (10u * 60 * 1000)
#define PMTU_MIN4 552
#define PMTU_MIN6 1280

struct stack;

struct pmtu_entry {
	union inany dst;
	uint32_t mtu;     /* 0: a free slot */
	uint64_t updated; /* ms */
};

/* The MTU of the path to dst: the link's, or less when we learnt so. */
unsigned pmtu_get(struct stack *s, const union inany *dst);
/* A router said the path to dst takes at most mtu bytes.  Returns the
 * path MTU now in force for dst.  Each lowering bumps s->pmtu_gen, so the
 * packetization layers using a path see that it shrank (RFC 8201 5.2). */
unsigned pmtu_update(struct stack *s, const union inany *dst, uint32_t mtu);

#endif
