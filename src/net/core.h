/*
 * The stack's state and the entry points its layers call one another by.
 * For the core's own files (and unit tests, which look inside): the
 * daemon uses net/stack.h only.
 */
#ifndef TAPIR_NET_CORE_H
#define TAPIR_NET_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/eth.h"
#include "net/frag.h"
#include "net/ipv4/ipv4.h"
#include "net/ipv6/ipv6.h"
#include "net/l3.h"
#include "net/neigh.h"
#include "net/pbuf.h"
#include "net/pmtu.h"
#include "net/stack.h"
#include "net/stats.h"
#include "net/tcp/tcp.h"
#include "net/timer.h"
#include "net/udp.h"
#include "tapir/siphash.h"

struct reasm_dgram;
struct udp_binding;

/* Counters of IPv4 identification (a power of two). */
#define IP4_ID_BUCKETS 2048
/* Redirects remembered (RFC 4861 8.3), and for how long. */
#define ND6_REDIRECTS 16
#define ND6_REDIRECT_MS (10u * 60 * 1000)
/* Counters of IPv6 fragment identification (a power of two). */
#define IP6_ID_BUCKETS 1024

/* Groups MLD may report: solicited-node ones and joined ones. */
#define MLD6_GROUPS_MAX (STACK_MAX_ADDR6 + 1 + STACK_MCAST6_MAX)

struct stack {
	struct stack_params p;
	stack_xmit_fn xmit;
	void *xmit_ctx;
	stack_clock_fn clock;
	void *clock_ctx;
	stack_event_fn event;
	void *event_ctx;
	stack_icmp6_fn icmp6_fn; /* ICMPv6 types the stack leaves alone */
	void *icmp6_arg;
	stack_echo_fn echo_fn; /* echo replies */
	void *echo_arg;

	struct stats stats;
	struct tapir_histogram tcp_rtt; /* RTT samples (tcp_rtt_sample) */
	struct timer_wheel timers;

	/* ARP: the IPv4 neighbour cache, and our own address's conflict
	 * detection and defence (RFC 5227). */
	struct neigh_table arp;
	struct timer arp_announce_timer;
	bool arp_defended;
	uint64_t arp_defend_ms;
	uint8_t acd_state;     /* enum acd_state (ipv4.h) */
	bool arp_started;      /* arp_start() has run (stack_announce()) */
	unsigned acd_probes;   /* probes sent in this round */
	struct timer acd_timer;
	bool acd_claim_logged; /* a claim event since arp_defend_ms */

	/* Reassembly (frag.c), both families: a list of datagrams in
	 * progress, oldest first. */
	struct reasm_dgram *reasm_head, **reasm_tail;
	unsigned reasm_count;
	size_t reasm_bytes;

	/* Path MTUs learnt from ICMP (pmtu.c). */
	struct pmtu_entry pmtu[PMTU_ENTRIES];
	unsigned pmtu_used;
	unsigned pmtu_gen; /* bumped whenever a path MTU is lowered */

	/* ICMP error token bucket (milli-tokens). */
	uint64_t icmp_tokens;
	uint64_t icmp_last_ms;

	/* IPv6: our addresses, the link-local one first (nd6.c), and the
	 * IPv6 neighbour cache. */
	struct addr6 addr6[STACK_MAX_ADDR6 + 1];
	unsigned naddr6;
	struct neigh_table nd;
	uint8_t frag6_key[TAPIR_SIPHASH_KEY_LEN];
	uint32_t frag6_ids[IP6_ID_BUCKETS];
	uint8_t iid_key[TAPIR_SIPHASH_KEY_LEN];
	uint8_t ll_dad_counter; /* RFC 7217 DAD_Counter of the link-local */
	uint64_t nd6_rand;      /* state of the DAD delays' generator */
	/* Redirects from our router (nd6.c): destination -> better hop. */
	struct nd6_redirect {
		union inany dst, target;
		uint64_t updated; /* 0: a free slot */
	} redir6[ND6_REDIRECTS];
	/* Groups joined for modules (mld6.c), and the router role (nd6.c). */
	struct mcast6 {
		uint8_t g[16];
		unsigned refs;
	} mcast6[STACK_MCAST6_MAX];
	unsigned nmcast6;
	unsigned router_refs;
	bool router_joined; /* all-routers joined for the router role */
	/* MLDv2 (mld6.c): the groups we reported, and the report timer. */
	uint8_t mld_groups[MLD6_GROUPS_MAX][16];
	unsigned mld_ngroups;
	bool mld_repeat; /* the timer sends the unsolicited repeat */
	struct timer mld_timer;

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
	struct pbuf rx6;    /* a reassembled IPv6 datagram, in one piece */
};

static inline uint64_t stack_now(const struct stack *s)
{
	return s->clock(s->clock_ctx);
}

static inline void stack_event(struct stack *s, enum stack_event ev,
			       const union inany *addr, const uint8_t *mac)
{
	if (s->event)
		s->event(s->event_ctx, ev, addr, mac);
}

#endif
