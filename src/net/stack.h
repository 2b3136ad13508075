/*
 * The userspace IPv4 stack: one struct stack per interface.
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
 *                  -> ip4_input -> ip4_reasm_input (a fragment; returns the
 *                                  whole datagram once complete)
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

#include "net/l3.h"
#include "net/neigh.h"
#include "net/pbuf.h"
#include "net/stats.h"
#include "net/tcp/tcp.h"
#include "net/timer.h"
#include "net/udp.h"
#include "tapir/siphash.h"
#include "wire/eth.h"
#include "wire/ip4.h"

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

/* Tunables, with their defaults in stack_params_default(). */
struct stack_params {
	uint8_t mac[ETH_ALEN];
	uint32_t addr; /* host order */
	unsigned prefix;
	uint32_t gateway; /* 0: none */
	unsigned mtu;

	unsigned arp_cache_size;    /* entries */
	unsigned arp_timeout_ms;    /* lifetime of a resolved entry */
	unsigned arp_retry_ms;      /* between requests while resolving */
	unsigned arp_retries;       /* requests before giving up */
	unsigned arp_queue_len;     /* packets held per unresolved entry */

	unsigned reasm_max_datagrams;
	unsigned reasm_max_bytes;   /* over all datagrams being reassembled */
	unsigned reasm_max_frags;   /* per datagram */
	unsigned reasm_timeout_ms;

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
};

struct reasm_dgram;
struct udp_binding;

/* Counters of IPv4 identification (a power of two). */
#define IP4_ID_BUCKETS 2048

struct stack {
	struct stack_params p;
	stack_xmit_fn xmit;
	void *xmit_ctx;
	stack_clock_fn clock;
	void *clock_ctx;

	struct stats stats;
	struct timer_wheel timers;

	/* ARP: the IPv4 neighbour cache, and our own address's defence. */
	struct neigh_table arp;
	struct timer arp_announce_timer;
	bool arp_defended;
	uint64_t arp_defend_ms;

	/* Reassembly: a list of datagrams in progress, oldest first. */
	struct reasm_dgram *reasm_head, **reasm_tail;
	unsigned reasm_count;
	size_t reasm_bytes;

	/* ICMP error token bucket (milli-tokens). */
	uint64_t icmp_tokens;
	uint64_t icmp_last_ms;

	struct udp_binding *udp_bucket[64];
	struct tcp_stack tcp;

	/* IPv4 identification (RFC 7739 5.3, ip4.c): counters selected by a
	 * keyed hash of (source, destination, protocol). */
	uint8_t ip_id_key[TAPIR_SIPHASH_KEY_LEN];
	uint16_t ip_ids[IP4_ID_BUCKETS];

	struct pbuf tx;   /* scratch for replies built by the stack itself */
	struct pbuf frag; /* scratch for one output fragment */
	struct pbuf arp_tx; /* ARP packets, so a request never clobbers the
			     * datagram that triggered it */
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
/* Apply new parameters live (address change -> gratuitous ARP). */
void stack_update(struct stack *s, const struct stack_params *p);
/* Announce our address (gratuitous ARP); done at start. */
void stack_announce(struct stack *s);

static inline uint64_t stack_now(const struct stack *s)
{
	return s->clock(s->clock_ctx);
}

/* True when a is one of our unicast addresses. */
static inline bool stack_is_local(const struct stack *s, uint32_t a)
{
	return a == s->p.addr && a != 0;
}

/* True for 255.255.255.255 and the directed broadcast of our subnet. */
bool stack_is_broadcast(const struct stack *s, uint32_t a);

/* Layer entry points (each file's public functions). */
void eth_input(struct stack *s, struct cur c, unsigned flags);
/* Prepend the Ethernet header to pb and hand the frame to the link with
 * off (NULL: none).  0 or -errno. */
int eth_output(struct stack *s, const uint8_t *dst_mac, uint16_t type,
	       struct pbuf *pb, const struct stack_tx_offload *off);

void arp_input(struct stack *s, struct cur c);
/* Send pb (an IPv4 datagram or fragment that fits the link, or a segment
 * the link cuts up) to next_hop, resolving it first if needed.  pb is
 * borrowed: while resolving, a copy waits in a bounded queue (0 is
 * returned: it is on its way).  off (NULL: none) only for a next hop
 * arp_ready() said is resolved.  flags: NEIGH_MORE for a fragment after
 * the first of its datagram. */
int arp_output(struct stack *s, uint32_t next_hop, struct pbuf *pb,
	       const struct stack_tx_offload *off, unsigned flags);
/* Visit every ARP cache entry: address, MAC, state name ("incomplete",
 * "reachable", "stale") and ms since it was last confirmed. */
typedef void (*arp_visit_fn)(void *arg, uint32_t ip, const uint8_t *mac,
			     const char *state, uint64_t age_ms);
void arp_foreach(struct stack *s, arp_visit_fn fn, void *arg);
/* Whether a datagram to next_hop would leave at once (its MAC known). */
bool arp_ready(struct stack *s, uint32_t next_hop);
void arp_announce(struct stack *s);
int arp_init(struct stack *s);
/* Take the ARP settings of s->p (all but the cache size) live. */
void arp_update(struct stack *s);
void arp_fini(struct stack *s);
/* Lookup for tests and counters dumps: 0 and the MAC if resolved. */
int arp_lookup(struct stack *s, uint32_t ip, uint8_t mac[ETH_ALEN]);

/* flags: stack_input()'s, STACK_RX_*. */
void ip4_input(struct stack *s, struct cur c, const struct eth_hdr *eh,
	       unsigned flags);
/* Deliver a complete (possibly reassembled) datagram to its protocol. */
void ip4_deliver(struct stack *s, struct cur payload, struct l3_rx *rx);
/* Send pb (transport header + data) as one IPv4 datagram.  Broadcast and
 * multicast destinations go to their link addresses; otherwise a non-NULL
 * dst_mac sends there without routing or ARP.  0 or -errno. */
int ip4_output(struct stack *s, uint32_t src, uint32_t dst, uint8_t proto,
	       const uint8_t *dst_mac, struct pbuf *pb);
/* The same for a datagram the link is to finish as off says (NULL: none;
 * only when ip4_offload_ok() said so). */
int ip4_output_offload(struct stack *s, uint32_t src, uint32_t dst,
		       uint8_t proto, const uint8_t *dst_mac, struct pbuf *pb,
		       const struct stack_tx_offload *off);
/* Put a complete datagram (20-byte header first) on the link, fragmenting
 * it to the MTU unless the link cuts it up (gso_size): to mac when given,
 * else to next_hop's resolved address.  Uses s->frag; pb must not be
 * s->frag. */
int ip4_xmit(struct stack *s, const uint8_t *mac, uint32_t next_hop,
	     struct pbuf *pb, const struct stack_tx_offload *off);
/* Whether a datagram to dst may use the link's offloads: they are on and
 * dst is unicast with its next hop resolved (what waits for ARP is kept as
 * plain frames, without offload metadata). */
bool ip4_offload_ok(struct stack *s, uint32_t dst);
/* Whether a datagram to dst can be sent: 0, -EINVAL (dst or our address
 * 0), -EHOSTUNREACH (off our subnet with no gateway). */
int ip4_reachable(const struct stack *s, uint32_t dst);

/* Add a fragment to its datagram.  When it completes one, returns the
 * datagram, with *rx describing it (the first fragment's metadata, the
 * reassembled header) and *payload its transport message; the caller
 * delivers it and then gives it back with ip4_reasm_release().  NULL
 * otherwise (kept, or dropped and counted). */
struct reasm_dgram *ip4_reasm_input(struct stack *s, struct cur frag,
				    const struct ip4_hdr *ih, struct l3_rx *rx,
				    struct cur *payload);
void ip4_reasm_release(struct stack *s, struct reasm_dgram *d);
void ip4_reasm_fini(struct stack *s);

void icmp4_input(struct stack *s, struct cur c, struct l3_rx *rx);
/* Send an ICMP error (destination unreachable, time exceeded) about the
 * datagram described by rx, unless RFC 1122 or the rate limit forbids it. */
void icmp4_send_error(struct stack *s, uint8_t type, uint8_t code,
		      const struct l3_rx *rx);

#endif
