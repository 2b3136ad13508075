/*
 * The userspace network stack: one struct stack per interface.  This is
 * its public API, what the daemon (and a test or fuzzer driving the whole
 * stack) uses: parameters and secrets, new and free, frames in, timers,
 * and visitors for reports.  The UDP and TCP calls a host makes are in
 * net/udp.h and net/tcp/tcp.h.  The stack's state and the layers' entry
 * points are the core's own business: net/core.h, which nothing in
 * src/daemon includes (scripts/layers checks).
 *
 * The stack never touches a file descriptor or the system clock.  The link
 * interface is two calls: frames come in through stack_input(), with what
 * the link knows about them (flags: its checksum verdict), and go out
 * through the link's xmit callback, with what the link is to do to them
 * (struct stack_tx_offload: finish a checksum, cut a long TCP segment).
 * Time is read from the clock callback.  The daemon wires these to the TAP
 * (daemon/tap.c) and to CLOCK_MONOTONIC, unit tests and fuzzers to a
 * recording link and a hand-advanced clock.
 *
 * Frame path (one file per layer, read top to bottom):
 *   stack_input (flags: the link's checksum verdict)
 *     -> eth_input -> arp_input (replies; answers go to the neighbour cache)
 *                  -> ip4_input -> reasm_input (net/frag.c, both families:
 *                                  a fragment; returns the whole datagram
 *                                  once complete)
 *                               -> ip4_deliver -> icmp4_input / udp_input /
 *                                                 tcp_input
 *   tcp_out.c (may ask for offloads) / udp_output
 *     -> l3_output (net/l3.c picks the family)
 *   icmp4 replies and errors ---------+
 *     -> ip4_output (header, route)
 *     -> ip4_xmit (fragment to the MTU, unless the link cuts it)
 *     -> eth_output when the MAC is known already (broadcast, multicast, or
 *        given by the caller); otherwise arp_output -> neigh_output:
 *        resolved, on at once; else a copy of each fragment waits (bounded)
 *        and goes to eth_output when the answer comes
 *     -> the link's xmit (frame and offloads)
 *   ARP's own requests and replies: arp_send -> eth_output -> the link's xmit
 */
#ifndef TAPIR_STACK_H
#define TAPIR_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "net/stats.h"
#include "net/tcp/tcp.h"
#include "net/timer.h"
#include "net/udp.h"
#include "tapir/histogram.h"
#include "tapir/siphash.h"
#include "wire/eth.h"

struct stack;

/* What the link is to do with a frame it is given: with csum, complete the
 * checksum at csum_start + csum_offset over the bytes from csum_start on
 * (the field holds the pseudo-header's sum); with gso_size as well, cut
 * the TCP payload into pieces of that size, each with a copy of the
 * hdr_len bytes of headers.  Only a stack made with params.offload asks. */
struct stack_tx_offload {
	bool csum;
	uint16_t csum_start, csum_offset;
	uint16_t gso_size, hdr_len;
};

/* Hands a finished frame to the link, with off NULL (or all zero) for a
 * frame to send as it is.  The frame is borrowed for the call.  Returns 0
 * or -errno. */
typedef int (*stack_xmit_fn)(void *ctx, const uint8_t *frame, size_t len,
			     const struct stack_tx_offload *off);
/* Monotonic milliseconds. */
typedef uint64_t (*stack_clock_fn)(void *ctx);

/* Most IPv6 addresses an interface is given, besides its link-local one. */
#define STACK_MAX_ADDR6 8

/* An IPv6 address and its prefix length (1-128), network order. */
struct stack_addr6 {
	uint8_t addr[16];
	unsigned prefix;
};

/* Most static neighbours (stack_params.static_neigh), both families. */
#define STACK_MAX_STATIC_NEIGH 16

/* A neighbour whose link address is configured: an IPv4 or IPv6 address
 * on the link and its MAC. */
struct stack_static_neigh {
	union inany addr;
	uint8_t mac[ETH_ALEN];
};

/* Tunables, with their defaults in stack_params_default(). */
struct stack_params {
	uint8_t mac[ETH_ALEN];
	uint32_t addr; /* host order */
	unsigned prefix;
	/* IPv4 Address Conflict Detection (RFC 5227, net/ipv4/arp.c): the
	 * address is probed for before it is used, when stack_announce()
	 * starts the stack and when stack_update() changes it, and is not
	 * used until probing has passed (STACK_EV_ADDR4_READY).  Without it
	 * the address is used from stack_new() on. */
	bool acd;
	uint32_t gateway; /* 0: none */
	unsigned mtu;

	/* IPv6 (net/ipv6/).  With ipv6 off, every IPv6 frame is dropped and
	 * the rest of this block is ignored.  Otherwise the stack forms a
	 * link-local address fe80::IID/64 and takes addr6[0..naddr6) as
	 * configured; each is tentative until Duplicate Address Detection
	 * (RFC 4862 5.4) has passed, unless dad is off.  The interface
	 * identifier of the link-local address is RFC 7217's stable one
	 * (keyed by stack_secrets.iid_key) or, with iid_eui64, the modified
	 * EUI-64 of the MAC (RFC 4291 appendix A). */
	bool ipv6;
	bool iid_eui64;
	bool dad;
	unsigned naddr6;
	struct stack_addr6 addr6[STACK_MAX_ADDR6];
	uint8_t gateway6[16];     /* all zero: none; on-link or link-local */
	unsigned dad_transmits;   /* RFC 4862 DupAddrDetectTransmits, >= 1 */
	unsigned nd_reachable_ms; /* RFC 4861 REACHABLE_TIME */
	unsigned nd_retrans_ms;   /* RFC 4861 RETRANS_TIMER */
	uint8_t hop_limit;        /* of the IPv6 datagrams we originate */

	unsigned arp_cache_size;    /* entries */
	unsigned arp_timeout_ms;    /* lifetime of a resolved entry */
	unsigned arp_retry_ms;      /* between requests while resolving */
	unsigned arp_retries;       /* requests before giving up */
	unsigned arp_queue_len;     /* packets held per unresolved entry */
	/* Static neighbours: permanent entries of the ARP cache (IPv4) and
	 * the Neighbor Discovery cache (IPv6; ignored with ipv6 off), set
	 * by stack_new() and stack_update(), which no ARP or Neighbor
	 * Discovery packet changes and nothing evicts.  At most
	 * arp_cache_size - 1 of each family are kept. */
	unsigned nstatic_neigh;
	struct stack_static_neigh static_neigh[STACK_MAX_STATIC_NEIGH];

	/* Reassembly (net/frag.c), IPv4 and IPv6 together. */
	unsigned reasm_max_datagrams;
	unsigned reasm_max_per_source; /* datagrams from one source address */
	unsigned reasm_max_bytes;   /* over all datagrams being reassembled */
	unsigned reasm_max_frags;   /* per datagram */
	unsigned reasm_timeout_ms;  /* IPv4 (RFC 1122 3.3.2: 60 s to 120 s
				      * suggested; 30 s is Linux's) */
	unsigned reasm_timeout6_ms; /* IPv6 (RFC 8200 4.5: 60 s) */

	unsigned icmp_rate;  /* error messages per second */
	unsigned icmp_burst; /* bucket depth */
	uint8_t ttl;
	/* The link takes offloads (a TAP with a virtio-net header): TCP
	 * segments may leave with only the pseudo-header checksum, and up to
	 * 64 KiB of TCP payload in one frame for the link to cut up. */
	bool offload;

	struct tcp_params tcp;
};

void stack_params_default(struct stack_params *p);

/* The stack's secrets.  The core has no randomness of its own: the daemon
 * fills each key from its own draw of the kernel's random source, tests
 * and fuzzers pass fixed keys.  They are unrelated to one another, so
 * nothing a peer learns about one (a hash chain's timing, an ISN, an IPv4
 * ID) bears on the others.  The stack keeps them for its whole life. */
struct stack_secrets {
	uint8_t isn_key[TAPIR_SIPHASH_KEY_LEN];    /* TCP ISNs (tcp_isn.h) */
	uint8_t cookie_key[TAPIR_SIPHASH_KEY_LEN]; /* SYN cookies (tcp_in.c) */
	uint8_t flow_key[TAPIR_SIPHASH_KEY_LEN];   /* connection table (flow.h) */
	uint8_t ip_id_key[TAPIR_SIPHASH_KEY_LEN];  /* IPv4 IDs (ip4.c) */
	/* IPv6 fragment identifications (ip6.c, RFC 7739). */
	uint8_t frag6_key[TAPIR_SIPHASH_KEY_LEN];
	/* RFC 7217 interface identifiers (nd6.c).  Unlike the others it must
	 * stay the same from one start to the next, or our link-local
	 * address would move: the daemon derives it from the machine's
	 * identity. */
	uint8_t iid_key[TAPIR_SIPHASH_KEY_LEN];
};

/* Create a stack with its parameters and secrets (copied), sending
 * through xmit and reading the time from clock.  Returns NULL when memory
 * runs out. */
struct stack *stack_new(const struct stack_params *p,
			const struct stack_secrets *secrets, stack_xmit_fn xmit,
			void *xmit_ctx, stack_clock_fn clock, void *clock_ctx);
void stack_free(struct stack *s);

/* What the link says about a received frame, for stack_input()'s flags. */
/* Its TCP/UDP checksum was checked, or is left unfinished by a sender on
 * the same host (a TAP's VIRTIO_NET_HDR_F_DATA_VALID or NEEDS_CSUM). */
#define STACK_RX_CSUM_OK 0x1u

/* Process one received Ethernet frame (borrowed for the call), with flags
 * STACK_RX_* (0 for a frame the link knows nothing about). */
void stack_input(struct stack *s, const uint8_t *frame, size_t len,
		 unsigned flags);
/* Fire due timers; call when timer_wheel_next() says so. */
void stack_run_timers(struct stack *s);
/* Milliseconds until stack_run_timers() is next needed, -1 for never. */
int64_t stack_next_timer(struct stack *s);
/* Apply new parameters live (a new address is probed for again with
 * acd, else announced by gratuitous ARP; a new MAC is announced). */
void stack_update(struct stack *s, const struct stack_params *p);
/* Take our addresses into use, as the daemon does once at start: probe
 * for the IPv4 one (with acd; else announce it at once) and start IPv6
 * Duplicate Address Detection. */
void stack_announce(struct stack *s);
/* Whether our IPv4 address is in use: set, and not being probed for or
 * found in use by another host (RFC 5227). */
bool stack_addr4_usable(const struct stack *s);
/* Its state in the words of the IPv6 addresses': "preferred" (in use),
 * "tentative" (not probed for yet, or being probed for), "duplicate"
 * (another host has it). */
const char *stack_addr4_state(const struct stack *s);

/* The stack's clock: monotonic milliseconds. */
uint64_t stack_now_ms(const struct stack *s);
/* The parameters in force (stack_update() changes them). */
const struct stack_params *stack_get_params(const struct stack *s);
/* The counters (enum stat_id, net/stats.h). */
const struct stats *stack_stats(const struct stack *s);
/* Every TCP round-trip sample the RTT estimator took (RFC 6298), in the
 * estimator's resolution: whole milliseconds, under 1 ms counted as 1. */
const struct tapir_histogram *stack_tcp_rtt(const struct stack *s);
/* Count an event of the link's (STAT_LINK_*), kept with the stack's
 * counters so that reports show them together. */
void stack_count(struct stack *s, enum stat_id id);
/* TCP connections: in all, and in each state (enum tcp_state). */
unsigned stack_tcp_count(const struct stack *s);
unsigned stack_tcp_in_state(const struct stack *s, unsigned state);
/* Bytes of TCP buffers held over all connections (tcp_memory_limit
 * bounds them): now, the most ever held, and the limit. */
struct stack_tcp_mem {
	uint64_t used, peak, limit;
};
struct stack_tcp_mem stack_tcp_memory(const struct stack *s);

/* A timer of the host's on the stack's wheel (fired by
 * stack_run_timers()): arm delay_ms from now, or cancel. */
void stack_timer_arm(struct stack *s, struct timer *t, uint64_t delay_ms);
void stack_timer_cancel(struct stack *s, struct timer *t);

/* Visit every neighbour cache entry: address, MAC, state name
 * ("incomplete", "reachable", "stale", "delay", "probe", or "permanent"
 * for a static neighbour) and ms since it was last confirmed. */
typedef void (*stack_neigh_fn)(void *arg, const union inany *addr,
			       const uint8_t *mac, const char *state,
			       uint64_t age_ms);
void stack_foreach_neigh(struct stack *s, stack_neigh_fn fn, void *arg);

/* Events the host may want to log.  addr says which of our addresses;
 * mac, where given (else NULL), the other host's link address. */
enum stack_event {
	/* DAD found another node using one of our IPv6 addresses: it will
	 * not be used. */
	STACK_EV_ADDR6_DUPLICATE,
	/* Probing (RFC 5227 2.1) found nobody else on our IPv4 address: it
	 * is in use from now on, and announced. */
	STACK_EV_ADDR4_READY,
	/* Probing found the host at mac using our IPv4 address (or probing
	 * for it): it is not used; probing starts again after a minute. */
	STACK_EV_ADDR4_CONFLICT,
	/* The host at mac claims our IPv4 address while we use it: we keep
	 * it, and defended it with an announcement (RFC 5227 2.4 (c)). */
	STACK_EV_ADDR4_DEFENDED,
	/* The same, within 10 s of the last defence: we keep the address
	 * without another announcement.  At most one such event per 10 s
	 * (the counters count every conflict). */
	STACK_EV_ADDR4_CLAIMED,
};
typedef void (*stack_event_fn)(void *ctx, enum stack_event ev,
			       const union inany *addr, const uint8_t *mac);
/* Call fn (NULL: none) on each event. */
void stack_set_event_fn(struct stack *s, stack_event_fn fn, void *ctx);

/* ---- Link services: what router advertisements, DHCPv6 and a ping
 * check need from the stack. ---- */

#define STACK_MCAST6_MAX 16 /* groups joined by stack_mcast6_join() */

/* Listen to a link-scope IPv6 multicast group (ff02::/16): what is sent
 * to it is received, and MLD reports it.  Joins are counted.  0, or
 * -EINVAL (not link-scope multicast), -ENOSPC (STACK_MCAST6_MAX groups
 * joined), -EAFNOSUPPORT (IPv6 off). */
int stack_mcast6_join(struct stack *s, const union inany *group);
/* Undo one join of group (no-op when it is not joined). */
void stack_mcast6_leave(struct stack *s, const union inany *group);
/* Whether we act as a router: Neighbor Advertisements carry the Router
 * flag and all-routers (ff02::2) is heard.  Counted like joins: each
 * true needs its false. */
void stack_set_router(struct stack *s, bool on);

/* An ICMPv6 message the stack does not consume itself (a Router
 * Solicitation, already checked for hop limit 255 and not fragmented):
 * msg is the whole message, its checksum verified. */
struct stack_icmp6_rx {
	union inany src, dst;
	uint8_t src_mac[6];
	uint8_t hop_limit;
};
typedef void (*stack_icmp6_fn)(void *arg, const struct stack_icmp6_rx *m,
			       const uint8_t *msg, size_t len);
void stack_set_icmp6_fn(struct stack *s, stack_icmp6_fn fn, void *arg);
/* Send an ICMPv6 message (msg: the whole message; the checksum is filled
 * in) from our link-local address with hop limit 255 to dst (link-local
 * or link-scope multicast), to mac when given.  0, or -EINVAL (dst not
 * link-scope, msg shorter than 4 bytes or over the MTU), -EAFNOSUPPORT,
 * -EADDRNOTAVAIL (the link-local address is not preferred yet), or the
 * link's error. */
int stack_icmp6_send(struct stack *s, const union inany *dst,
		     const uint8_t *mac, const void *msg, size_t len);

/* Send an echo request (ICMP or ICMPv6 by dst's family) with identifier
 * id and sequence seq, from our address.  0 or -errno as l3_output(). */
int stack_echo_send(struct stack *s, const union inany *dst, uint16_t id,
		    uint16_t seq);
/* Echo replies to unicast requests go to fn: who answered, id, seq. */
typedef void (*stack_echo_fn)(void *arg, const union inany *src,
			      uint16_t id, uint16_t seq);
void stack_set_echo_fn(struct stack *s, stack_echo_fn fn, void *arg);
/* Whether addr's next hop has a link address now (ARP or ND resolved). */
bool stack_neigh_known(struct stack *s, const union inany *addr);

/* Visit our IPv6 addresses, the link-local one first: address, prefix
 * length and state ("tentative", "preferred", "duplicate"). */
typedef void (*stack_addr6_fn)(void *arg, const union inany *addr,
			       unsigned prefix, const char *state);
void stack_foreach_addr6(struct stack *s, stack_addr6_fn fn, void *arg);

#endif
