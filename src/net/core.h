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

	/* Reassembly (frag.c), both families: a list of datagrams in
	 * progress, oldest first. */
	struct reasm_dgram *reasm_head, **reasm_tail;
	unsigned reasm_count;
	size_t reasm_bytes;

	/* ICMP error token bucket (milli-tokens). */
	uint64_t icmp_tokens;
	uint64_t icmp_last_ms;

	/* IPv6: our addresses, the link-local one first (nd6.c), and the
	 * IPv6 neighbour cache. */
	struct addr6 addr6[STACK_MAX_ADDR6 + 1];
	unsigned naddr6;
	struct neigh_table nd;

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

static inline uint64_t stack_now(const struct stack *s)
{
	return s->clock(s->clock_ctx);
}

#endif
