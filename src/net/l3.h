/*
 * The seam between the transport layers and IP: one receive descriptor
 * and one way out, whichever the family.
 *
 * ip4 (and ip6 after it) fills a struct l3_rx for every datagram it
 * delivers; icmp, udp and tcp read addresses from it as union inany and
 * never look at an IP header.  Going down, udp and tcp build their message
 * in a pbuf and hand it to l3_output(), with the pseudo-header sum from
 * l3_pseudo(); the seam picks ip4 or ip6 by the destination's family.  So
 * the transport code is written once for both families, and IPv6 arrives
 * by filling in the other branch of each function here.
 */
#ifndef TAPIR_NET_L3_H
#define TAPIR_NET_L3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "net/pbuf.h"

struct stack;
struct stack_tx_offload;

/* Transport protocol numbers: IPv4's protocol and IPv6's next header
 * share one registry. */
#define L3_PROTO_ICMP 1
#define L3_PROTO_TCP 6
#define L3_PROTO_UDP 17
#define L3_PROTO_ICMP6 58

/* The length of the IP header a datagram to dst leaves with (no options,
 * no extension headers). */
static inline size_t l3_hlen(const union inany *dst)
{
	return inany_is_v4(dst) ? 20 : 40;
}

/* A received datagram, as the network layer passes it up. */
struct l3_rx {
	union inany src, dst;
	uint8_t proto;  /* the transport protocol (IP protocol number) */
	uint8_t hop_limit; /* IPv4 TTL or IPv6 hop limit, as received */
	bool fragmented; /* it came in fragments (reassembled) */
	uint8_t src_mac[6];
	bool l2_multi;  /* Ethernet destination was broadcast/multicast */
	bool l3_multi;  /* IP destination was broadcast/multicast */
	const uint8_t *hdr; /* the IP header, for quoting in ICMP errors */
	size_t hdr_len;
	size_t dgram_len; /* header + payload */
	const uint8_t *payload; /* the transport message */
	size_t payload_len;
	/* The link vouched for the transport checksum (STACK_RX_CSUM_OK on
	 * an unfragmented datagram): TCP and UDP need not check it. */
	bool csum_ok;
};

/* The pseudo-header sum for a transport checksum over len bytes from src
 * to dst (RFC 768/9293 for IPv4, RFC 8200 8.1 for IPv6), to pass to
 * csum_partial(). */
uint32_t l3_pseudo(const union inany *src, const union inany *dst,
		   uint8_t proto, size_t len);

/* Send pb (transport header + data) as one datagram from src to dst.
 * Broadcast and multicast destinations go to their link addresses;
 * otherwise a non-NULL dst_mac sends there without routing or resolving.
 * off (NULL: none) asks the link to finish the frame, only when
 * l3_offload_ok() said so.  0 or -errno (-EAFNOSUPPORT for a family the
 * stack does not speak). */
int l3_output(struct stack *s, const union inany *src, const union inany *dst,
	      uint8_t proto, const uint8_t *dst_mac, struct pbuf *pb,
	      const struct stack_tx_offload *off);

/* Whether a datagram to dst may use the link's offloads now. */
bool l3_offload_ok(struct stack *s, const union inany *dst);

/* Our source address for a datagram to dst (unspecified when we have none
 * in dst's family). */
union inany l3_source(const struct stack *s, const union inany *dst);

/* Whether we can send to dst at all: 0, -EINVAL (dst unspecified, or no
 * address of ours in its family), -EHOSTUNREACH (off-link with no router),
 * -EAFNOSUPPORT. */
int l3_reachable(const struct stack *s, const union inany *dst);

/* What an ICMP error of either family says, as the transports see it. */
enum l3_err_kind {
	L3_ERR_OTHER,   /* time exceeded, parameter problem: nothing to do */
	L3_ERR_UNREACH, /* network, host or address unreachable; prohibited */
	L3_ERR_REFUSED, /* port or protocol unreachable */
	L3_ERR_MTU,     /* fragmentation needed / packet too big */
};

/* An ICMP error arrived: rx describes the error's own datagram, quote is
 * the datagram of ours it quotes (from its IP header; often cut short).
 * For L3_ERR_MTU, mtu is the MTU the router reported (0: none given).
 * Checks the quote, lowers the path MTU, and tells the transport. */
void l3_icmp_error(struct stack *s, const struct l3_rx *rx, struct cur quote,
		   enum l3_err_kind kind, uint32_t mtu);

/* Take one token from the ICMP error bucket that IPv4 and IPv6 share;
 * false when it is empty. */
bool l3_icmp_allow(struct stack *s);

/* Tell the sender of rx that no one listens on the port it sent to (an
 * ICMP port unreachable, within the error rules and rate limit). */
void l3_port_unreachable(struct stack *s, const struct l3_rx *rx);

/* Tell the sender of rx that its datagram was dropped unfinished by the
 * reassembly timeout (an ICMP time exceeded, code 1: fragment reassembly
 * time exceeded, within the error rules and rate limit).  rx describes
 * the offset-0 fragment: its header and the data that came with it. */
void l3_reasm_expired(struct stack *s, const struct l3_rx *rx);

#endif
