/*
 * Initial sequence numbers per RFC 6528:
 *
 *	ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock ticking every 4 microseconds: now_us / 4, truncated to 32
 * bits (it wraps every 2^32 * 4 us, about 4.77 hours, like RFC 793's ISN
 * clock).  F is SipHash-2-4 (a keyed PRF, so F cannot be computed or
 * predicted from outside) of the 4-tuple in flow.h's fixed 12-byte layout,
 * under a 128-bit secret, truncated to 32 bits.
 *
 * So each 4-tuple gets its own sequence number space, offset by a value an
 * off-path attacker cannot guess, that still advances with time the way the
 * RFC 793 clock does: a new incarnation of the same connection starts
 * beyond the sequence numbers the old one used, as long as the old one
 * averaged less than 250,000 octets per second, so old duplicates fall
 * outside the new window.  The ISN of one tuple tells nothing about the
 * ISNs of others.
 *
 * The secret is drawn at start (getrandom()) and kept for the daemon's
 * life, as RFC 6528 section 3 allows.  It must be a different key from the
 * connection table's: the table's hash is the same SipHash of the same
 * bytes, and its key should not let anything learnt about chain placement
 * (timing) bear on sequence numbers.  now_us should come from a monotonic
 * clock.
 */
#ifndef TAPIR_TCP_ISN_H
#define TAPIR_TCP_ISN_H

#include <stdint.h>

#include "net/flow.h"
#include "tapir/siphash.h"

/* The RFC 6528 ISN for the connection k at now_us (microseconds). */
uint32_t tcp_isn(const struct flow_key *k, const uint8_t key[TAPIR_SIPHASH_KEY_LEN],
		 uint64_t now_us);

#endif
