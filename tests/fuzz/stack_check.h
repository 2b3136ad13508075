/*
 * The checks the whole-stack harnesses share (fuzz_eth, fuzz_ip6): every
 * frame the stack hands its link, the timer wheel, and the state the stack
 * keeps between frames.  A check that fails prints
 *
 *   <harness>: invariant violated: <what>
 *
 * and calls abort(), which libFuzzer reports as a crash (scripts/fuzz greps
 * for the line).
 *
 * Frames (sc_frame(), from the harness's xmit callback):
 *   Ethernet   length within [14, 14 + MTU] (a frame the link is to cut up
 *              may be longer; its pieces may not), our source MAC, type
 *              ARP, IPv4 or IPv6; offloads only when the stack was made
 *              with them, a checksum left to the link only for TCP or UDP
 *              and at the right place.
 *   ARP        a well-formed Ethernet/IPv4 request or reply from our MAC
 *              and our address while it is in use (RFC 5227: not while
 *              probed for or another host's), or a probe from 0.0.0.0
 *              for the address being probed for, only while probing.
 *   IPv4       a 20-byte header with a valid checksum, total length equal
 *              to the frame, from an address the stack has had, to neither
 *              0.0.0.0 nor loopback, TTL not 0, fragments 8-byte aligned
 *              and within 65535; for unfragmented UDP, ICMP and TCP a
 *              valid transport checksum; ICMP only echo replies, port
 *              unreachables and reassembly timeouts, errors within 576.
 *   IPv6       version 6, payload length equal to the frame's; the source
 *              an address of ours that was preferred (at once or while the
 *              frame waited for its neighbour), or :: for a DAD
 *              solicitation only, never multicast; the destination not ::,
 *              loopback, IPv4-mapped or one of our preferred addresses; a
 *              multicast destination sent to 33:33 and its low 32 bits;
 *              hop limit 255 for Neighbor Discovery (types 133-137),
 *              params.hop_limit otherwise; no extension header but a
 *              Fragment header, and that never atomic (RFC 8021), with
 *              non-final pieces a non-zero multiple of 8 bytes, within
 *              65535, reserved bits clear, never around ND or from ::.
 *              A fragmented datagram whose pieces go out in order is put
 *              back together and checked as a whole.
 *   ICMPv6     checksum valid (pseudo-header of RFC 8200 8.1); only echo
 *              replies, NS, NA and errors (destination unreachable, time
 *              exceeded, parameter problem) with codes in range.
 *              NS/NA: code 0, at least 24 bytes, reserved bits clear, the
 *              target not multicast, options with non-zero length inside
 *              the message, only our own link-layer address in the option
 *              its type allows (RFC 4861 4.3, 4.4).  An NS from :: is a DAD
 *              probe: for an address of ours still tentative, to its
 *              solicited-node group, no option (RFC 4862 5.4.2).  Any other
 *              NS is for a target that is not ours, to its solicited-node
 *              group with our link-layer address, or by unicast to the
 *              target.  An NA is for our own (source) address, without the
 *              router flag, not marked solicited when sent to a group.
 *              Errors: never to a multicast address (nor ::), at most 1280
 *              bytes (RFC 4443 2.4 (c)), quoting a whole IPv6 header whose
 *              source is the error's destination, never about a packet to
 *              a multicast group except a parameter problem about an
 *              option (2.4 (e.3)), never quoting an ICMPv6 error or a
 *              redirect however many extension headers come before it
 *              (2.4 (e.1, e.2)), a parameter problem's pointer inside the
 *              offending packet.
 *   UDP, TCP   as for IPv4; an IPv6 UDP checksum is never 0 (RFC 8200
 *              8.1); a checksum left to the link holds the pseudo-header
 *              sum.
 *
 * State (sc_state(), after every step): the IPv4 reassembly limits, and for
 * both neighbour caches (ARP, ND) the counts of entries, INCOMPLETE entries
 * and queued bytes agreeing with the table and within their bounds, a queue
 * only on an INCOMPLETE entry, a timer armed for every entry but the
 * PERMANENT ones (static neighbours, which have none), and every static
 * neighbour at its configured MAC.  Timers (sc_timers()): see
 * stack_check.c.  After the drain (sc_drained()): no timer armed, no
 * reassembly, no neighbour entry in either cache but the static ones, no
 * IPv6 address still tentative.
 */
#ifndef TAPIR_FUZZ_STACK_CHECK_H
#define TAPIR_FUZZ_STACK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/core.h"

/* The harness's own loops (checks, payload patterns) are not the code
 * under test: keep them out of the coverage feedback and the comparison
 * tracing, which otherwise dominate the run time. */
#ifdef __clang__
#define HARNESS_ONLY __attribute__((no_sanitize("coverage"), noinline))
#else
#define HARNESS_ONLY __attribute__((noinline))
#endif

__attribute__((noreturn, format(printf, 1, 2))) void sc_fail(const char *fmt,
							     ...);
#define FAIL(...) sc_fail(__VA_ARGS__)

/* Once, from LLVMFuzzerInitialize(): the harness's name for the failure
 * lines, and TAPIR_FUZZ_LAX_TIMERS=1 from the environment (the two timing
 * checks of sc_timers() skipped, to keep fuzzing for other bugs while a
 * timing bug is open). */
void sc_init(const char *harness);
/* Start checking s, a fresh stack: what earlier stacks had is forgotten. */
void sc_start(struct stack *s);
/* Take note of the addresses s has now (its IPv4 address, its preferred
 * IPv6 ones): a frame that waited for its neighbour may leave from one of
 * them after it is gone.  Call after every step. */
void sc_note(void);
/* Check a frame the stack hands the link. */
void sc_frame(const uint8_t *frame, size_t len,
	      const struct stack_tx_offload *off);
/* Check the timer wheel: links, slot bitmap and count agree; after a run
 * (after_run) nothing more than a tick overdue is left behind;
 * stack_next_timer() says "now" when something is due and never sleeps past
 * the earliest expiry by more than a tick.  now is the harness's clock. */
void sc_timers(uint64_t now, bool after_run);
/* Check the reassembly limits and both neighbour caches. */
void sc_state(void);
/* After the clock has run past every timeout: nothing may be left. */
void sc_drained(void);

/* The IPv6 pseudo-header sum for an upper-layer message of len bytes
 * (RFC 8200 8.1), for csum_partial(): worked out here, not with the
 * stack's l3_pseudo(). */
uint32_t sc_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh,
		    size_t len);

#endif
