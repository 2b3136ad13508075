/*
 * IPv6 (net/ipv6/): input and output, extension headers, reassembly,
 * ICMPv6, Neighbor Discovery with Duplicate Address Detection, and MLD.
 * The entry points the other layers call; see each file for its protocol.
 */
#ifndef TAPIR_NET_IPV6_H
#define TAPIR_NET_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "net/l3.h"
#include "net/pbuf.h"
#include "net/timer.h"
#include "wire/cur.h"
#include "wire/eth.h"

struct stack;
struct stack_tx_offload;
struct ip6_frag_hdr;

/* The state of one of our addresses (RFC 4862 5.4). */
enum addr6_state {
	ADDR6_TENTATIVE, /* Duplicate Address Detection under way */
	ADDR6_PREFERRED, /* ours: used and defended */
	ADDR6_DUPLICATE, /* someone else has it: never used */
};

struct addr6 {
	struct stack *s;
	union inany a;
	unsigned prefix;
	uint8_t state;    /* enum addr6_state */
	uint8_t dad_left; /* solicitations still to send */
	struct timer timer;
};

/* Our addresses, as IPv6 sees them (nd6.c). */
/* The address entry for a, whatever its state; NULL when not ours. */
struct addr6 *ip6_addr_find(struct stack *s, const union inany *a);
/* True when a is one of our addresses, usable (preferred). */
bool ip6_is_local(const struct stack *s, const union inany *a);
/* Form the addresses from s->p and start DAD on each (at start and after
 * a change of the parameters). */
void nd6_addr_setup(struct stack *s);
/* Set up the IPv6 neighbour cache; 0 or -ENOMEM. */
int nd6_init(struct stack *s);
/* Take the ND settings of s->p live. */
void nd6_update(struct stack *s);
void nd6_fini(struct stack *s);
/* The better first hop a redirect from our router named for dst: true
 * and *hop when there is one in force. */
bool nd6_redirected(struct stack *s, const uint8_t *dst, union inany *hop);
/* A Neighbor Discovery message (the whole ICMPv6 message in msg). */
void nd6_input(struct stack *s, struct cur msg, const struct l3_rx *rx,
	       bool tentative);

/* MLDv2 (mld6.c): report our solicited-node groups when they change, and
 * answer queries. */
void mld6_init(struct stack *s);
void mld6_fini(struct stack *s);
void mld6_groups_changed(struct stack *s);
/* Whether a module joined group g (stack_mcast6_join()). */
bool mld6_joined(const struct stack *s, const uint8_t *g);
void mld6_query_input(struct stack *s, struct cur msg, const struct l3_rx *rx);

/* flags: stack_input()'s, STACK_RX_*. */
void ip6_input(struct stack *s, struct cur c, const struct eth_hdr *eh,
	       unsigned flags);
/* A fragment (c: its data after the Fragment header fh, which is off bytes
 * into the packet; the field that named the Fragment header is at
 * nh_field) for the reassembler; a datagram it completes continues
 * through ip6_reasm_deliver(). */
void ip6_reasm(struct stack *s, struct cur c, struct l3_rx *rx,
	       const struct ip6_frag_hdr *fh, size_t nh_field, size_t off,
	       unsigned depth, bool tentative);
/* A parameter problem (code, pointer) about the whole packet rx
 * describes, quoted from its fixed header on. */
void ip6_param_problem(struct stack *s, struct l3_rx *rx, uint8_t code,
		       size_t pointer);
/* A pseudo-random number for protocol delays (DAD, MLD): a keyed hash of
 * a counter, so hosts that start together do not act together. */
uint32_t nd6_random(struct stack *s);
/* Continue the walk of a reassembled datagram (rx->hdr: all of it, in one
 * piece): payload starts with header nh, after hdr_len bytes of
 * unfragmentable part whose byte nh_field names it. */
void ip6_reasm_deliver(struct stack *s, struct cur payload, struct l3_rx *rx,
		       uint8_t nh, size_t nh_field, size_t hdr_len,
		       unsigned depth, bool tentative);
/* Send pb (transport header + data) as one IPv6 datagram from src to dst
 * with hop_limit (0: the default).  Multicast goes to its MAC; a non-NULL
 * dst_mac sends there without routing or resolving; off as l3_output().
 * 0 or -errno (-EADDRNOTAVAIL from :: for anything but ICMPv6). */
int ip6_output(struct stack *s, const union inany *src, const union inany *dst,
	       uint8_t proto, uint8_t hop_limit, const uint8_t *dst_mac,
	       struct pbuf *pb, const struct stack_tx_offload *off);
/* Put a complete datagram (fixed header first, no extension headers) on
 * the link, fragmenting it to mtu (the path's) unless the link cuts it
 * up.  Uses s->frag; pb must not be s->frag. */
int ip6_xmit(struct stack *s, const uint8_t *mac, const union inany *next_hop,
	     unsigned mtu, struct pbuf *pb,
	     const struct stack_tx_offload *off);
/* Whether dst is on the link (link-local, or in one of our prefixes). */
bool ip6_onlink(const struct stack *s, const uint8_t *dst);
/* Our source address for dst (RFC 6724, as far as one link needs it);
 * unspecified when no address of ours is usable yet. */
union inany ip6_source(const struct stack *s, const union inany *dst);
/* 0, -EINVAL, -EHOSTUNREACH or -EAFNOSUPPORT, as l3_reachable(). */
int ip6_reachable(const struct stack *s, const union inany *dst);
/* Whether dst's next hop (not a multicast) has a known MAC. */
bool ip6_neigh_ready(struct stack *s, const union inany *dst);
bool ip6_offload_ok(struct stack *s, const union inany *dst);

/* Time exceeded (fragment reassembly) about the datagram rx describes
 * (from the reassembler: its kept header and first fragment's data). */
void icmp6_reasm_expired(struct stack *s, const struct l3_rx *rx);
/* tentative: the destination is an address of ours still under DAD. */
/* An echo request to dst from our best source for it. */
int icmp6_echo_send(struct stack *s, const union inany *dst, uint16_t id,
		    uint16_t seq);
void icmp6_input(struct stack *s, struct cur c, struct l3_rx *rx,
		 bool tentative);
/* Send an ICMPv6 error about the datagram rx describes (param: the MTU of
 * a packet too big, the pointer of a parameter problem, else 0), unless
 * RFC 4443 2.4 or the rate limit forbids it. */
void icmp6_send_error(struct stack *s, uint8_t type, uint8_t code,
		      uint32_t param, const struct l3_rx *rx);

#endif
