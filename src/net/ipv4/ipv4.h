/*
 * IPv4 (net/ipv4/): ARP, IP input and output, ICMP.  Reassembly is the
 * core's, for both families (net/frag.h).  The
 * entry points the other layers call; see each file for its protocol.
 */
#ifndef TAPIR_NET_IPV4_H
#define TAPIR_NET_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/l3.h"
#include "net/pbuf.h"
#include "wire/cur.h"
#include "wire/eth.h"
#include "wire/ip4.h"

struct stack;
struct stack_tx_offload;

/* RFC 5227 Address Conflict Detection of our address (arp.c). */
enum acd_state {
	ACD_IDLE,     /* not probed for yet: not used */
	ACD_PROBING,  /* probing: not used */
	ACD_BOUND,    /* ours (probed, or acd off): used and defended */
	ACD_CONFLICT, /* another host has it: not used, probed again later */
};

/* Our addresses, as IPv4 sees them. */
/* True when a is our unicast address and it is usable (not probing). */
bool ip4_is_local(const struct stack *s, uint32_t a);
/* Whether our address is set and usable (ACD_BOUND). */
bool ip4_addr_usable(const struct stack *s);

/* True for 255.255.255.255 and the directed broadcast of our subnet. */
bool ip4_is_broadcast(const struct stack *s, uint32_t a);


void arp_input(struct stack *s, struct cur c);
/* Send pb (an IPv4 datagram or fragment that fits the link, or a segment
 * the link cuts up) to next_hop, resolving it first if needed.  pb is
 * borrowed: while resolving, a copy waits in a bounded queue (0 is
 * returned: it is on its way).  off (NULL: none) only for a next hop
 * arp_ready() said is resolved.  flags: NEIGH_MORE for a fragment after
 * the first of its datagram. */
int arp_output(struct stack *s, uint32_t next_hop, struct pbuf *pb,
	       const struct stack_tx_offload *off, unsigned flags);
/* Whether a datagram to next_hop would leave at once (its MAC known). */
bool arp_ready(struct stack *s, uint32_t next_hop);
void arp_announce(struct stack *s);
/* Take our address into use: probe for it (acd), else announce it. */
void arp_start(struct stack *s);
/* s->p changed (stack_update()): probe for a new address, announce a
 * new MAC, follow acd turned on or off. */
void arp_changed(struct stack *s, uint32_t old_addr, const uint8_t *old_mac,
		 bool old_acd);
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
 * it to mtu (the path's) unless the link cuts it up (gso_size): to mac
 * when given, else to next_hop's resolved address.  Uses s->frag; pb must
 * not be s->frag. */
int ip4_xmit(struct stack *s, const uint8_t *mac, uint32_t next_hop,
	     unsigned mtu, struct pbuf *pb,
	     const struct stack_tx_offload *off);
/* Whether a datagram to dst may use the link's offloads: they are on and
 * dst is unicast with its next hop resolved (what waits for ARP is kept as
 * plain frames, without offload metadata). */
bool ip4_offload_ok(struct stack *s, uint32_t dst);
/* Whether dst's next hop (not a broadcast) has a known MAC. */
bool ip4_neigh_ready(struct stack *s, uint32_t dst);
/* Whether a datagram to dst can be sent: 0, -EINVAL (dst or our address
 * 0), -EHOSTUNREACH (off our subnet with no gateway). */
int ip4_reachable(const struct stack *s, uint32_t dst);

void icmp4_input(struct stack *s, struct cur c, struct l3_rx *rx);
/* An echo request to dst (host order) from our address. */
int icmp4_echo_send(struct stack *s, uint32_t dst, uint16_t id, uint16_t seq);
/* Send an ICMP error (destination unreachable, time exceeded) about the
 * datagram described by rx, unless RFC 1122 or the rate limit forbids it. */
void icmp4_send_error(struct stack *s, uint8_t type, uint8_t code,
		      const struct l3_rx *rx);

#endif
