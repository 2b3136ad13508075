/*
 * Unit-test harness for the stack core.
 *
 * The stack is driven exactly as the daemon drives it, minus the TAP and the
 * system clock: frames go in through stack_input(), every frame the stack
 * transmits is copied into a bounded array (the fake link), and time is a
 * plain variable the test sets or advances by hand (th_clock_ms; nothing here
 * ever sleeps).  th_advance() moves the clock forward the way the event loop
 * would: to each deadline stack_next_timer() reports, running the timers
 * there, then to the requested end.
 *
 * Frame builders write Ethernet/ARP/IPv4/ICMP/UDP frames with the wire
 * headers' writers and csum.h, from the wire structs the tests fill with
 * designated initialisers.  Parsers for what the stack emitted assert (ck_assert) that
 * the frame is well formed, so a test can go straight to the fields it
 * cares about.
 *
 * Leak checks: th_check_leaks() asserts the invariants of a quiescent stack
 * (no reassembly in progress, the expected number of ARP entries, and no
 * timer armed but theirs); th_stack_free() runs the teardown steps, asserts
 * that nothing is left armed or allocated, frees the stack and empties the
 * fake link.  Every test ends with th_stack_free().
 */
#ifndef TAPIR_TEST_HELPERS_H
#define TAPIR_TEST_HELPERS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/csum.h"
#include "net/pbuf.h"
#include "net/core.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ip4.h"
#include "wire/ip6.h"
#include "wire/udp.h"

/* Addresses of the lab: us (stack_params_default()) and a peer. */
#define TH_OUR_IP 0x0a000002u   /* 10.0.0.2 */
#define TH_PEER_IP 0x0a000001u  /* 10.0.0.1 */
#define TH_PEER2_IP 0x0a000003u /* 10.0.0.3 */
#define TH_BCAST_IP 0x0a0000ffu /* 10.0.0.255 */
/* A pointer to the IPv4-mapped form of x, for calls that take one. */
#define TH_A4(x) (&(union inany[1]){inany_from_v4(x)}[0])
#define TH_GW_IP 0x0a0000feu    /* 10.0.0.254 */

extern const uint8_t th_our_mac[ETH_ALEN];   /* 02:00:00:00:00:02 */
extern const uint8_t th_peer_mac[ETH_ALEN];  /* 02:00:00:00:00:01 */
extern const uint8_t th_peer2_mac[ETH_ALEN]; /* 02:00:00:00:00:03 */
extern const uint8_t th_gw_mac[ETH_ALEN];    /* 02:00:00:00:00:fe */
extern const uint8_t th_other_mac[ETH_ALEN]; /* 02:00:00:00:00:99 */
extern const uint8_t th_zero_mac[ETH_ALEN];
extern const uint8_t th_bcast_mac[ETH_ALEN];

/* The largest frame a test builds: Ethernet + the largest IPv4 datagram,
 * with room for trailing padding. */
#define TH_FRAME_MAX (ETH_HLEN + IP4_MAX_LEN + 64)

/* ---- Fake clock ---------------------------------------------------------- */

extern uint64_t th_clock_ms;

/* Advance the clock by ms, stopping at every deadline the wheel reports on
 * the way (as the daemon's event loop does) to run the stack's timers. */
void th_advance(struct stack *s, uint64_t ms);

/* ---- Fake link ----------------------------------------------------------- */

#define TH_MAX_FRAMES 128

struct th_frame {
	uint8_t *data; /* a copy, owned by the link */
	size_t len;
	/* The offloads it was sent with; the fake link has already finished
	 * its checksum, as a real one would. */
	struct stack_tx_offload off;
};

/* Frames transmitted since the last clear. */
size_t th_frame_count(void);
/* Frame i (asserts that it exists). */
const struct th_frame *th_frame(size_t i);
/* Frames the link could not record because the array was full. */
size_t th_frames_lost(void);
void th_frames_clear(void);
/* Make every following xmit fail with err (0: succeed again).  Failed
 * frames are not recorded. */
void th_link_fail(int err);

/* ---- Stack lifetime and leak checks -------------------------------------- */

/* A stack on the fake link and clock; p NULL means stack_params_default()
 * with acd off (the address usable at once; tests of RFC 5227 probing
 * pass parameters with it on).
 * Resets the link and sets the clock to 0 first. */
struct stack *th_stack_new(const struct stack_params *p);
/* The fixed secrets th_stack_new() gives every stack. */
extern const struct stack_secrets th_secrets;
/* th_stack_new() with other secrets (tests of what they key). */
struct stack *th_stack_new_keyed(const struct stack_params *p,
				 const struct stack_secrets *k);
/* Assert a quiescent stack: nothing reassembling, exactly arp_entries ARP
 * entries, and no timer armed except one per ARP entry. */
void th_check_leaks(struct stack *s, unsigned arp_entries);
/* Tear down (reassembly, ARP, UDP), assert that no timer, ARP entry or
 * reassembly buffer is left, free the stack and clear the link. */
void th_stack_free(struct stack *s);

/* Teach s the peer's MAC the way a real peer does it: an ARP request from
 * (mac, ip) for our address.  Clears the link afterwards (the reply). */
void th_learn(struct stack *s, const uint8_t *mac, uint32_t ip);

/* ---- Frame builders ------------------------------------------------------ */

/* Each writes a frame at f (TH_FRAME_MAX bytes are enough for any of them)
 * and returns its length. */

/* Ethernet header only. */
size_t th_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
	      uint16_t type);
/* Ethernet + ARP; the Ethernet source is a->sha. */
size_t th_arp_frame(uint8_t *f, const uint8_t *eth_dst,
		    const struct arp_hdr *a);
/* A broadcast Ethernet/IPv4 ARP request from (sha, spa) for tpa. */
size_t th_arp_request(uint8_t *f, const uint8_t *sha, uint32_t spa,
		      uint32_t tpa);
/* A unicast ARP reply from (sha, spa) to us. */
size_t th_arp_reply(uint8_t *f, const uint8_t *sha, uint32_t spa);

/* Ethernet + IPv4 (20-byte header, checksum computed) + payload.
 * ih->total_len 0 means 20 + len; any other value is written as given. */
size_t th_ip4_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src,
		    const struct ip4_hdr *ih, const void *payload, size_t len);
/* The same with IPv4 options (optlen a multiple of 4, at most 40). */
size_t th_ip4_frame_opts(uint8_t *f, const uint8_t *eth_dst,
			 const uint8_t *eth_src, const struct ip4_hdr *ih,
			 const uint8_t *opts, size_t optlen,
			 const void *payload, size_t len);
/* Recompute the IPv4 header checksum of a frame built above (after a test
 * patched header bytes), over the header length the IHL nibble gives. */
void th_ip4_fix_csum(uint8_t *f);

/* An ICMP message at p: header h (checksum computed over the message),
 * then data.  Returns ICMP4_HLEN + len. */
size_t th_icmp_write(uint8_t *p, const struct icmp4_hdr *h, const void *data,
		     size_t len);
/* A UDP datagram at p (h->len 0 means 8 + len; checksum computed over the
 * pseudo-header unless csum_zero).  Returns UDP_HLEN + len. */
size_t th_udp_write(uint8_t *p, uint32_t src, uint32_t dst,
		    const struct udp_hdr *h, const void *data, size_t len,
		    bool csum_zero);

/* Complete frames from the peer to us (peer MAC -> our MAC). */
size_t th_echo_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t id,
		     uint16_t seq, const void *data, size_t len);
size_t th_udp_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport,
		    uint16_t dport, const void *data, size_t len);

/* Fill buf with a recognisable pattern depending on seed. */
void th_pattern(void *buf, size_t len, unsigned seed);

/* ---- Parsers for frames the stack sent ----------------------------------- */

/* Assert fr is an Ethernet frame from our MAC to dst of the given type;
 * return the cursor past the header. */
struct cur th_expect_eth(const struct th_frame *fr, const uint8_t *dst,
			 uint16_t type);
/* Assert fr is a well-formed ARP packet (Ethernet to eth_dst) and parse it. */
void th_expect_arp(const struct th_frame *fr, const uint8_t *eth_dst,
		   struct arp_hdr *a);
/* Assert fr is IPv4 to eth_dst with a valid 20-byte header whose total
 * length matches the frame; parse it and return the payload. */
struct cur th_expect_ip4(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip4_hdr *ih);
/* Assert an unfragmented ICMP message with a valid checksum; parse it and
 * return what follows the 8-byte header. */
struct cur th_expect_icmp(const struct th_frame *fr, const uint8_t *eth_dst,
			  struct ip4_hdr *ih, struct icmp4_hdr *h);
/* Assert an unfragmented UDP datagram with a valid checksum; parse it and
 * return its data. */
struct cur th_expect_udp(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip4_hdr *ih, struct udp_hdr *h);

/* ---- TCP ------------------------------------------------------------------ */

/* A TCP segment at p: header h (h->doff 0 means 20 + optlen; the options
 * area opts, optlen a multiple of 4 and at most 40, is copied after the
 * fixed header), then data; the checksum over the pseudo-header of (src,
 * dst) is computed.  Returns the segment length. */
size_t th_tcp_write(uint8_t *p, uint32_t src, uint32_t dst,
		    const struct tcp_hdr *h, const uint8_t *opts,
		    size_t optlen, const void *data, size_t len);
/* A complete frame from the peer (peer MAC -> our MAC) carrying the
 * segment th_tcp_write() builds, in an IPv4 datagram from src to dst. */
size_t th_tcp_frame(uint8_t *f, uint32_t src, uint32_t dst,
		    const struct tcp_hdr *h, const uint8_t *opts,
		    size_t optlen, const void *data, size_t len);
/* Assert an unfragmented TCP segment with a valid checksum and well-formed
 * options; parse its header into *h and its options into *o, and return
 * its payload. */
struct cur th_expect_tcp(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip4_hdr *ih, struct tcp_hdr *h,
			 struct tcp_opts *o);

/* ---- IPv6 ------------------------------------------------------------------ */

/* The IPv6 lab: our configured address 2001:db8::2/64 (th_params6()), the
 * peer 2001:db8::1 with link-local fe80::1 (both at th_peer_mac), a second
 * peer 2001:db8::3 (th_peer2_mac), a router fe80::fe (th_gw_mac), and an
 * off-link host 2001:db9::1. */
extern const uint8_t th_our6[16];
extern const uint8_t th_peer6[16];
extern const uint8_t th_peer6_ll[16];
extern const uint8_t th_peer2_6[16];
extern const uint8_t th_gw6[16];
extern const uint8_t th_far6[16];
extern const uint8_t th_any6[16];       /* :: */
extern const uint8_t th_all_nodes6[16]; /* ff02::1 */

/* stack_params_default() with IPv6 on, DAD off, and th_our6/64 as the one
 * configured address. */
void th_params6(struct stack_params *p);
/* th_stack_new() (p NULL: th_params6()), then the IPv6 addresses formed
 * (nd6_addr_setup(), what stack_announce() does for IPv6; with DAD off
 * they are preferred at once).  The link is empty afterwards. */
struct stack *th_stack_new6(const struct stack_params *p);
/* Our link-local address (the first of ours). */
const uint8_t *th_our_ll6(const struct stack *s);
/* Teach s a neighbour the way a real one does it: a Neighbor Solicitation
 * from (mac, ip) for our address of ip's scope, with a source link-layer
 * address option.  Asserts that the cache holds it; clears the link (our
 * advertisement). */
void th_learn6(struct stack *s, const uint8_t *mac, const uint8_t *ip);
/* Whether the IPv6 neighbour cache resolves ip (and to what). */
bool th_nd_lookup(struct stack *s, const uint8_t *ip, uint8_t mac[ETH_ALEN]);
/* Assert a quiescent IPv6 stack: th_check_leaks()' invariants with
 * nd_entries IPv6 neighbour entries (one timer each) besides arp_entries
 * ARP ones, and no address of ours under DAD. */
void th_check_leaks6(struct stack *s, unsigned arp_entries,
		     unsigned nd_entries);

/* The solicited-node group of a (RFC 4291 2.7.1) and the Ethernet address
 * of multicast group g (RFC 2464 7), written here from the RFCs rather
 * than taken from the stack. */
void th_solicited6(const uint8_t *a, uint8_t out[16]);
void th_mcast_mac6(const uint8_t *g, uint8_t mac[ETH_ALEN]);
/* The IPv6 pseudo-header sum (RFC 8200 8.1) for an upper-layer packet of
 * len bytes with next header nh, to pass to csum_partial(). */
uint32_t th_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh,
		    size_t len);

/* Ethernet + IPv6 fixed header + payload (what follows the fixed header:
 * extension headers and the upper-layer packet, as the test wrote them).
 * h->payload_len 0 means len; any other value is written as given.  With
 * eth_dst NULL: our MAC, or the group's MAC for a multicast destination. */
size_t th_ip6_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src,
		    const struct ip6_hdr *h, const void *payload, size_t len);
/* An ICMPv6 message at p, its checksum over the pseudo-header of (src,
 * dst).  Returns ICMP6_HLEN + len. */
size_t th_icmp6_write(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		      const struct icmp6_hdr *h, const void *data, size_t len);
/* A UDP datagram at p (h->len 0 means 8 + len) with its IPv6 checksum,
 * or a zero checksum with csum_zero.  Returns UDP_HLEN + len. */
size_t th_udp6_write(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		     const struct udp_hdr *h, const void *data, size_t len,
		     bool csum_zero);
/* A TCP segment at p, as th_tcp_write() but with the IPv6 checksum. */
size_t th_tcp6_write(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		     const struct tcp_hdr *h, const uint8_t *opts,
		     size_t optlen, const void *data, size_t len);
/* Complete frames from the peer's MAC (hop limit 64; to our MAC, or the
 * group's for a multicast dst). */
size_t th_echo6_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		      uint16_t id, uint16_t seq, const void *data, size_t len);
size_t th_udp6_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport, const void *data,
		     size_t len);

/* Assert fr is IPv6 to eth_dst whose payload length matches the frame;
 * parse the fixed header and return what follows it. */
struct cur th_expect_ip6(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip6_hdr *h);
/* Assert an ICMPv6 message (no extension header) with a valid checksum;
 * parse it and return what follows the 8-byte header. */
struct cur th_expect_icmp6(const struct th_frame *fr, const uint8_t *eth_dst,
			   struct ip6_hdr *h, struct icmp6_hdr *ih);
/* Assert a UDP datagram (no extension header) with a valid, non-zero
 * IPv6 checksum; parse it and return its data. */
struct cur th_expect_udp6(const struct th_frame *fr, const uint8_t *eth_dst,
			  struct ip6_hdr *h, struct udp_hdr *uh);

/* The fixed header from its fields (payload length len), for tests that
 * think in addresses rather than in struct ip6_hdr. */
size_t th_ip6_frame_raw(uint8_t *f, const uint8_t *eth_dst,
			const uint8_t *eth_src, const uint8_t *src,
			const uint8_t *dst, uint8_t next, uint8_t hop_limit,
			const void *payload, size_t len);
/* th_learn6() with the solicitation's target (one of our addresses)
 * chosen by the caller. */
void th_learn6_to(struct stack *s, const uint8_t *mac, const uint8_t *ip,
		  const uint8_t *target);

/* A solicited, overriding Neighbor Advertisement from (mac, ip) to our
 * address to: the neighbour is REACHABLE (for nd_reachable_ms). */
void th_confirm6(struct stack *s, const uint8_t *mac, const uint8_t *ip,
		 const uint8_t *to);

/* Leave MLD reports (to ff02::16) off the fake link's record, for tests
 * about other traffic of a stack whose addresses change; th_stack_free()
 * turns it off again. */
void th_link_ignore_mld(bool on);

/* ---- Running suites ------------------------------------------------------ */

/* Run the suite with CK_NORMAL output; the exit status for main(). */
int th_run(Suite *su);

#endif
