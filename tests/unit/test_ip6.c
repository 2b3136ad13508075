/* IPv6 (ip6.c) against RFC 8200 and RFC 4291: the fixed header and the
 * addresses, the walk of the extension headers with its parameter
 * problems, fragments as far as they are judged before reassembly, output
 * with fragmentation and routing, and UDP and TCP carried over IPv6. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

static uint8_t f[TH_FRAME_MAX];

/* A stack with IPv6 (th_params6(), or p) that knows the peer's MAC, its
 * counters zero. */
static struct stack *new_stack(const struct stack_params *p)
{
	struct stack *s = th_stack_new6(p);

	th_learn6(s, th_peer_mac, th_peer6);
	memset(&s->stats, 0, sizeof(s->stats));
	return s;
}

/* The IPv6 packet of the frame f holds (n bytes of frame). */
#define PKT (f + ETH_HLEN)
#define PKT_LEN(n) ((n) - ETH_HLEN)

/* A frame from the peer (src) to dst whose fixed header names first, then
 * the extension headers ext (their chain ending with next header ICMPv6)
 * and an echo request (id 7, seq) with 4 bytes of data. */
static size_t echo_ext_from(const uint8_t *src, const uint8_t *dst,
			    uint8_t first, const uint8_t *ext, size_t extlen,
			    uint16_t seq)
{
	static uint8_t pl[8192];
	struct icmp6_hdr h = {.type = ICMP6_ECHO_REQUEST,
			      .rest = 7u << 16 | seq};
	struct ip6_hdr ih = {.next = first, .hop_limit = 64};
	size_t n;

	ck_assert(extlen + ICMP6_HLEN + 4 <= sizeof(pl));
	memcpy(ih.src, src, 16);
	memcpy(ih.dst, dst, 16);
	if (extlen)
		memcpy(pl, ext, extlen);
	n = th_icmp6_write(pl + extlen, src, dst, &h, "ping", 4);
	return th_ip6_frame(f, NULL, th_peer_mac, &ih, pl, extlen + n);
}

static size_t echo_ext(const uint8_t *dst, uint8_t first, const uint8_t *ext,
		       size_t extlen, uint16_t seq)
{
	return echo_ext_from(th_peer6, dst, first, ext, extlen, seq);
}

/* A frame from the peer to us: the fixed header naming next, then len
 * bytes of payload as given. */
static size_t raw_frame(uint8_t next, const void *payload, size_t len)
{
	struct ip6_hdr ih = {.next = next, .hop_limit = 64};

	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	return th_ip6_frame(f, NULL, th_peer_mac, &ih, payload, len);
}

/* Assert frame i is an echo reply from src to the peer (seq, "ping"). */
static void expect_echo_reply_to(size_t i, const uint8_t *src,
				 const uint8_t *dst, uint16_t seq)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct cur c = th_expect_icmp6(th_frame(i), th_peer_mac, &h, &ih);

	ck_assert_mem_eq(h.src, src, 16);
	ck_assert_mem_eq(h.dst, dst, 16);
	ck_assert_uint_eq(ih.type, ICMP6_ECHO_REPLY);
	ck_assert_uint_eq(ih.code, 0);
	ck_assert_uint_eq(ih.rest, 7u << 16 | seq);
	ck_assert_uint_eq(c.len, 4);
	ck_assert_mem_eq(c.p, "ping", 4);
}

static void expect_echo_reply(size_t i, const uint8_t *src, uint16_t seq)
{
	expect_echo_reply_to(i, src, th_peer6, seq);
}

/* Assert frame i is a parameter problem (code, pointer) from our address
 * to the peer quoting the whole packet pkt of len bytes. */
static void expect_param_problem(size_t i, uint8_t code, uint32_t pointer,
				 const uint8_t *pkt, size_t len)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct cur c = th_expect_icmp6(th_frame(i), th_peer_mac, &h, &ih);

	ck_assert_mem_eq(h.src, th_our6, 16);
	ck_assert_mem_eq(h.dst, th_peer6, 16);
	ck_assert_uint_eq(h.hop_limit, 64);
	ck_assert_uint_eq(ih.type, ICMP6_PARAM_PROBLEM);
	ck_assert_uint_eq(ih.code, code);
	ck_assert_uint_eq(ih.rest, pointer);
	ck_assert_uint_eq(c.len, len);
	ck_assert_mem_eq(c.p, pkt, len);
}

/* ---- The fixed header ----------------------------------------------------- */

START_TEST(test_bad_version)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	n = th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping", 4);
	PKT[0] = 0x45; /* version 4 in an IPv6 frame */
	stack_input(s, f, n, 0);
	PKT[0] = 0x00;
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_VERSION], 2);
	/* Shorter than the fixed header. */
	n = th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping", 4);
	stack_input(s, f, ETH_HLEN + IP6_HLEN - 1, 0);
	stack_input(s, f, ETH_HLEN, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_SHORT], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* The same frame whole is answered. */
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 1);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_payload_length)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	/* Past the end of the frame by one byte. */
	n = th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping", 4);
	put_be16(PKT + 4, (uint16_t)(PKT_LEN(n) - IP6_HLEN + 1));
	stack_input(s, f, n, 0);
	/* Zero: a jumbogram, which no Ethernet link carries. */
	put_be16(PKT + 4, 0);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_LEN], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_padding_trimmed)
{
	struct stack *s = new_stack(NULL);
	size_t n = th_echo6_frame(f, th_peer6, th_our6, 7, 3, "ping", 4);

	/* Link-layer padding after the packet is not part of it: the echo's
	 * checksum and data stop at the payload length. */
	memset(f + n, 0xa5, 20);
	stack_input(s, f, n + 20, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 3);
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + IP6_HLEN + 12);
	th_stack_free(s);
}
END_TEST

START_TEST(test_disabled)
{
	struct stack_params p;
	struct stack *s;

	th_params6(&p);
	p.ipv6 = false;
	s = th_stack_new6(&p);
	ck_assert_uint_eq(s->naddr6, 0);
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping",
					 4), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_DISABLED], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_sources)
{
	static const uint8_t lo[16] = {[15] = 1};
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 10, 0, 0,
					   1};
	static const uint8_t mcast[16] = {0xff, 0x02, [15] = 1};
	struct stack *s = new_stack(NULL);
	const uint8_t *srcs[] = {mcast, lo, mapped, th_our6, th_our_ll6(s)};

	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		stack_input(s, f, th_echo6_frame(f, srcs[i], th_our6, 7,
						 (uint16_t)i, "ping", 4), 0);
		ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_SRC], i + 1);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_destinations)
{
	static const uint8_t other[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x99};
	static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
	static const uint8_t if_local[16] = {0xff, 0x01, [15] = 1};
	struct stack *s = new_stack(NULL);
	uint8_t sn[16], sn_ll[16], sn_other[16];
	size_t n;

	th_learn6(s, th_peer_mac, th_peer6_ll);
	memset(&s->stats, 0, sizeof(s->stats));
	th_solicited6(th_our6, sn);
	th_solicited6(th_our_ll6(s), sn_ll);
	th_solicited6(other, sn_other);
	/* Ours: the configured address, the link-local one, all-nodes and
	 * both solicited-node groups.  A group is answered from a unicast
	 * address of ours. */
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping",
					 4), 0);
	stack_input(s, f, echo_ext_from(th_peer6_ll, th_our_ll6(s), IP6_NH_ICMP6,
					NULL, 0, 2), 0);
	stack_input(s, f, echo_ext(th_all_nodes6, IP6_NH_ICMP6, NULL, 0, 3),
		    0);
	stack_input(s, f, echo_ext(sn, IP6_NH_ICMP6, NULL, 0, 4), 0);
	stack_input(s, f, echo_ext(sn_ll, IP6_NH_ICMP6, NULL, 0, 5), 0);
	ck_assert_uint_eq(th_frame_count(), 5);
	expect_echo_reply(0, th_our6, 1);
	expect_echo_reply_to(1, th_our_ll6(s), th_peer6_ll, 2);
	expect_echo_reply(2, th_our6, 3);
	expect_echo_reply(3, th_our6, 4);
	expect_echo_reply(4, th_our6, 5);
	th_frames_clear();
	/* Not ours: another unicast address, all-routers, another node's
	 * solicited-node group (on our MAC, so Ethernet lets them by). */
	stack_input(s, f, echo_ext(other, IP6_NH_ICMP6, NULL, 0, 6), 0);
	n = echo_ext(all_routers, IP6_NH_ICMP6, NULL, 0, 7);
	memcpy(f, th_our_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	n = echo_ext(sn_other, IP6_NH_ICMP6, NULL, 0, 8);
	memcpy(f, th_our_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	/* ::, and ff01::1 (interface-local: never on a wire). */
	stack_input(s, f, echo_ext(th_any6, IP6_NH_ICMP6, NULL, 0, 9), 0);
	n = echo_ext(if_local, IP6_NH_ICMP6, NULL, 0, 10);
	memcpy(f, th_our_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NOT_US], 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 5);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks6(s, 0, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_l2_multicast_l3_unicast)
{
	struct stack *s = new_stack(NULL);
	uint8_t sn[16], mac[ETH_ALEN];
	size_t n;

	/* Our unicast address in a frame to all-nodes, to our
	 * solicited-node group's MAC, and to broadcast: a node must not
	 * take a link-layer multicast for a unicast packet (RFC 4443 2.4
	 * (e.4) would otherwise let it be answered with errors). */
	n = th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping", 4);
	memcpy(f, (const uint8_t[ETH_ALEN]){0x33, 0x33, 0, 0, 0, 1}, ETH_ALEN);
	stack_input(s, f, n, 0);
	th_solicited6(th_our6, sn);
	th_mcast_mac6(sn, mac);
	memcpy(f, mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NOT_US], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

/* ---- Extension headers ---------------------------------------------------- */

/* An 8-byte options header (Hop-by-Hop or Destination) naming next, with
 * PadN only. */
static void pad_opts(uint8_t *p, uint8_t next)
{
	static const uint8_t pad[8] = {0, 0, IP6_OPT_PADN, 4, 0, 0, 0, 0};

	memcpy(p, pad, 8);
	p[0] = next;
}

START_TEST(test_hbh_first)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];

	pad_opts(ext, IP6_NH_ICMP6);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_HOPOPTS, ext, 8, 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_hbh_not_first)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[24];
	size_t n;

	/* Destination options naming Hop-by-Hop (RFC 8200 4.1: next header
	 * 0 anywhere but in the fixed header): code 1, pointing at the
	 * Destination Options header's next header field, offset 40. */
	pad_opts(ext, IP6_NH_HOPOPTS);
	pad_opts(ext + 8, IP6_NH_ICMP6);
	n = echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 16, 1);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_NEXTHDR, 40, PKT, PKT_LEN(n));
	/* Two deep: the second header's field, at 48. */
	pad_opts(ext, IP6_NH_DSTOPTS);
	pad_opts(ext + 8, IP6_NH_HOPOPTS);
	pad_opts(ext + 16, IP6_NH_ICMP6);
	n = echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 24, 2);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_param_problem(1, ICMP6_PARAM_NEXTHDR, 48, PKT, PKT_LEN(n));
	/* Hop-by-Hop twice: the second is not first. */
	pad_opts(ext, IP6_NH_HOPOPTS);
	pad_opts(ext + 8, IP6_NH_ICMP6);
	n = echo_ext(th_our6, IP6_NH_HOPOPTS, ext, 16, 3);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_param_problem(2, ICMP6_PARAM_NEXTHDR, 40, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_PARAM_TX], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unknown_next_header)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[16];
	size_t n;

	/* In the fixed header: the pointer is 6. */
	n = raw_frame(253, "whatever", 8);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_NEXTHDR, 6, PKT, PKT_LEN(n));
	/* Named by an extension header: its offset. */
	pad_opts(ext, IP6_NH_DSTOPTS);
	pad_opts(ext + 8, 253);
	n = raw_frame(IP6_NH_DSTOPTS, ext, 16);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_param_problem(1, ICMP6_PARAM_NEXTHDR, 48, PKT, PKT_LEN(n));
	/* After an atomic fragment: the Fragment header's offset. */
	memcpy(ext, (const uint8_t[8]){253, 0, 0, 0, 0, 0, 0, 9}, 8);
	memcpy(ext + 8, "whatever", 8);
	n = raw_frame(IP6_NH_FRAGMENT, ext, 16);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_param_problem(2, ICMP6_PARAM_NEXTHDR, 40, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_PROTO], 3);
	th_stack_free(s);
}
END_TEST

/* A Destination Options header of 8 bytes naming ICMPv6, with an empty
 * option of the given type at offset 3 (after a Pad1). */
static void opt_hdr(uint8_t *p, uint8_t type)
{
	const uint8_t h[8] = {IP6_NH_ICMP6, 0, IP6_OPT_PAD1, type, 0,
			      IP6_OPT_PADN, 1, 0};

	memcpy(p, h, 8);
}

START_TEST(test_option_skip)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];

	/* Action 00: skip over the option and go on. */
	opt_hdr(ext, 0x1e);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 8, 1), 0);
	/* The same in a Hop-by-Hop header. */
	stack_input(s, f, echo_ext(th_our6, IP6_NH_HOPOPTS, ext, 8, 2), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_echo_reply(0, th_our6, 1);
	expect_echo_reply(1, th_our6, 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_OPTION], 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_option_discard)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];

	/* Action 01: discard, say nothing. */
	opt_hdr(ext, 0x5e);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 8, 1), 0);
	stack_input(s, f, echo_ext(th_all_nodes6, IP6_NH_DSTOPTS, ext, 8, 2),
		    0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_OPTION], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_option_param_problem)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];
	size_t n;

	/* Action 10: discard and send a parameter problem, code 2, pointing
	 * at the option type (40 + 3)... */
	opt_hdr(ext, 0x9e);
	n = echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 8, 1);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_OPTION, 43, PKT, PKT_LEN(n));
	/* ...whether or not the destination was multicast (RFC 8200 4.2,
	 * RFC 4443 2.4 (e.3)); then from our unicast address. */
	n = echo_ext(th_all_nodes6, IP6_NH_DSTOPTS, ext, 8, 2);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_param_problem(1, ICMP6_PARAM_OPTION, 43, PKT, PKT_LEN(n));
	/* In a Hop-by-Hop header just the same. */
	n = echo_ext(th_our6, IP6_NH_HOPOPTS, ext, 8, 3);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_param_problem(2, ICMP6_PARAM_OPTION, 43, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_OPTION], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_option_param_problem_unicast)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];
	size_t n;

	/* Action 11: a parameter problem only when the destination was not
	 * multicast. */
	opt_hdr(ext, 0xde);
	n = echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 8, 1);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_OPTION, 43, PKT, PKT_LEN(n));
	stack_input(s, f, echo_ext(th_all_nodes6, IP6_NH_DSTOPTS, ext, 8, 2),
		    0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_OPTION], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_option_overrun)
{
	struct stack *s = new_stack(NULL);
	const uint8_t ext[8] = {IP6_NH_ICMP6, 0, IP6_OPT_PADN, 5, 0, 0, 0, 0};
	size_t n;

	/* A PadN whose length runs past its header: the packet is dropped
	 * with a parameter problem at the length field (40 + 3). */
	n = echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 8, 1);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_HEADER, 43, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_routing_type0)
{
	struct stack *s = new_stack(NULL);
	uint8_t rh[24] = {IP6_NH_ICMP6, 2, 0, 0};
	size_t n;

	memcpy(rh + 8, th_peer2_6, 16);
	/* RFC 5095 3: type 0 is processed as an unrecognized type (RFC
	 * 8200 4.4).  With no segment left the header is ignored and the
	 * packet goes on (the address in it is never used)... */
	stack_input(s, f, echo_ext(th_our6, IP6_NH_ROUTING, rh, 24, 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_RH0], 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 1);
	th_frames_clear();
	/* ...and with segments left it is dropped with a parameter problem,
	 * code 0, pointing at the routing type (40 + 2). */
	rh[3] = 1;
	n = echo_ext(th_our6, IP6_NH_ROUTING, rh, 24, 2);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_RH0], 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_HEADER, 42, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 1); /* the first only */
	th_stack_free(s);
}
END_TEST

START_TEST(test_routing_other)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[16] = {IP6_NH_ICMP6, 0, 4, 0};
	size_t n;

	/* RFC 8200 4.4: an unrecognized routing type with no segment left is
	 * ignored, and the next header processed. */
	stack_input(s, f, echo_ext(th_our6, IP6_NH_ROUTING, ext, 8, 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 1);
	/* With segments left: parameter problem code 0 at the type. */
	ext[3] = 3;
	n = echo_ext(th_our6, IP6_NH_ROUTING, ext, 8, 2);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_param_problem(1, ICMP6_PARAM_HEADER, 42, PKT, PKT_LEN(n));
	/* Behind a Destination Options header: its offset moves too. */
	pad_opts(ext, IP6_NH_ROUTING);
	memcpy(ext + 8, (const uint8_t[8]){IP6_NH_ICMP6, 0, 253, 1}, 8);
	n = echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 16, 3);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_param_problem(2, ICMP6_PARAM_HEADER, 50, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_ROUTING], 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_next_header)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[16];

	/* RFC 8200 4.7: nothing follows; bytes after it are ignored. */
	stack_input(s, f, raw_frame(IP6_NH_NONE, "ignored!", 8), 0);
	pad_opts(ext, IP6_NH_NONE);
	memcpy(ext + 8, "ignored!", 8);
	stack_input(s, f, raw_frame(IP6_NH_DSTOPTS, ext, 16), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NONE], 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_PROTO], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_ext_header_limit)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[9 * 8];

	/* Eight extension headers are walked (the limit is on extension
	 * headers, not on the upper-layer one after them)... */
	for (unsigned i = 0; i < 8; i++)
		pad_opts(ext + 8 * i, i < 7 ? IP6_NH_DSTOPTS : IP6_NH_ICMP6);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 64, 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_EXT_LIMIT], 0);
	/* ...a ninth is one too many: dropped, silently. */
	for (unsigned i = 0; i < 9; i++)
		pad_opts(ext + 8 * i, i < 8 ? IP6_NH_DSTOPTS : IP6_NH_ICMP6);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 72, 2), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_EXT_LIMIT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	/* An atomic Fragment header counts as one of them. */
	for (unsigned i = 0; i < 7; i++)
		pad_opts(ext + 8 * i, i < 6 ? IP6_NH_DSTOPTS : IP6_NH_FRAGMENT);
	memcpy(ext + 56, (const uint8_t[8]){IP6_NH_ICMP6, 0, 0, 0, 1, 2, 3, 4},
	       8);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 64, 3), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_echo_reply(1, th_our6, 3);
	memmove(ext + 8, ext, 64);
	pad_opts(ext, IP6_NH_DSTOPTS);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_DSTOPTS, ext, 72, 4), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_EXT_LIMIT], 2);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_truncated_ext_header)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];

	/* A header whose length runs past the packet. */
	pad_opts(ext, IP6_NH_ICMP6);
	ext[1] = 1; /* 16 bytes */
	stack_input(s, f, raw_frame(IP6_NH_DSTOPTS, ext, 8), 0);
	stack_input(s, f, raw_frame(IP6_NH_ROUTING, ext, 3), 0);
	stack_input(s, f, raw_frame(IP6_NH_HOPOPTS, ext, 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_EXT], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 0);
	th_stack_free(s);
}
END_TEST

/* ---- Fragments (before reassembly) ---------------------------------------- */

/* A Fragment header at p: next, offset in bytes, M, identification. */
static void frag_hdr(uint8_t *p, uint8_t next, uint16_t off, bool more,
		     uint32_t id)
{
	p[0] = next;
	p[1] = 0;
	put_be16(p + 2, (uint16_t)(off | (more ? 1 : 0)));
	put_be32(p + 4, id);
}

START_TEST(test_atomic_fragment)
{
	struct stack *s = new_stack(NULL);
	uint8_t ext[8];

	/* RFC 6946: offset 0 and M clear is a whole packet. */
	frag_hdr(ext, IP6_NH_ICMP6, 0, false, 0x12345678);
	stack_input(s, f, echo_ext(th_our6, IP6_NH_FRAGMENT, ext, 8, 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our6, 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_FRAG_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_ATOMIC_FRAG], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_FRAG], 0);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_first_fragment_chain)
{
	struct stack *s = new_stack(NULL);
	uint8_t pl[8 + 24] = {0};
	size_t n;

	/* RFC 7112: a first fragment must hold the chain up to the upper
	 * layer header.  16 bytes of a TCP header: code 3, pointer 0. */
	frag_hdr(pl, IP6_NH_TCP, 0, true, 1);
	n = raw_frame(IP6_NH_FRAGMENT, pl, 8 + 16);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_CHAIN, 0, PKT, PKT_LEN(n));
	/* A Destination Options header of 16 bytes, 8 of them there. */
	frag_hdr(pl, IP6_NH_DSTOPTS, 0, true, 2);
	pad_opts(pl + 8, IP6_NH_UDP);
	pl[9] = 1;
	n = raw_frame(IP6_NH_FRAGMENT, pl, 8 + 8);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_param_problem(1, ICMP6_PARAM_CHAIN, 0, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_CHAIN], 2);
	/* A whole UDP header is enough: no complaint (it waits for the rest
	 * of its datagram). */
	frag_hdr(pl, IP6_NH_UDP, 0, true, 3);
	memset(pl + 8, 0x11, 16);
	stack_input(s, f, raw_frame(IP6_NH_FRAGMENT, pl, 8 + 16), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_CHAIN], 2);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_fragment_not_multiple_of_8)
{
	struct stack *s = new_stack(NULL);
	uint8_t pl[8 + 12];
	size_t n;

	/* RFC 8200 4.5: M set and a length that is no multiple of 8: code
	 * 0, pointing at the payload length (4). */
	frag_hdr(pl, IP6_NH_UDP, 0, true, 1);
	memset(pl + 8, 0x22, 12);
	n = raw_frame(IP6_NH_FRAGMENT, pl, sizeof(pl));
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_HEADER, 4, PKT, PKT_LEN(n));
	/* A middle fragment the same. */
	frag_hdr(pl, IP6_NH_UDP, 64, true, 1);
	n = raw_frame(IP6_NH_FRAGMENT, pl, sizeof(pl));
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_param_problem(1, ICMP6_PARAM_HEADER, 4, PKT, PKT_LEN(n));
	/* The last may end anywhere. */
	frag_hdr(pl, IP6_NH_UDP, 64, false, 1);
	stack_input(s, f, raw_frame(IP6_NH_FRAGMENT, pl, sizeof(pl)), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_FRAG_RX], 3);
	th_stack_free(s);
}
END_TEST

START_TEST(test_fragment_past_64k)
{
	struct stack *s = new_stack(NULL);
	uint8_t pl[8 + 8];
	size_t n;

	memset(pl + 8, 0x33, 8);
	/* RFC 8200 4.5: the reassembled payload would exceed 65535 bytes
	 * (no unfragmentable headers, so offset + length): code 0 at the
	 * fragment offset field (40 + 2). */
	frag_hdr(pl, IP6_NH_UDP, 65528, false, 1);
	n = raw_frame(IP6_NH_FRAGMENT, pl, 8 + 8);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_param_problem(0, ICMP6_PARAM_HEADER, 42, PKT, PKT_LEN(n));
	/* Exactly 65535 is a payload length IPv6 can carry: the Fragment
	 * header is not part of the reassembled packet. */
	n = raw_frame(IP6_NH_FRAGMENT, pl, 8 + 7);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_PARAM_TX], 1);
	th_stack_free(s);
}
END_TEST

/* ---- Output ---------------------------------------------------------------- */

static int send_udp(struct stack *s, const uint8_t *dst, const void *data,
		    size_t len)
{
	struct udp_dst d = {.addr = inany_from_v6(dst), .port = 9};

	return udp_output(s, 5000, &d, data, len);
}

/* Assert frames [first, first + count) are the fragments of the UDP
 * datagram (5000 -> 9, data) from us to dst at mac, each within mtu; return
 * their identification. */
static uint32_t expect_fragments(size_t first, size_t count,
				 const uint8_t *dst, const uint8_t *mac,
				 unsigned mtu, const uint8_t *data, size_t len)
{
	static uint8_t want[UDP_HLEN + 8000], got[UDP_HLEN + 8000];
	struct udp_hdr uh = {.sport = 5000, .dport = 9};
	size_t wlen = th_udp6_write(want, th_our6, dst, &uh, data, len, false);
	size_t have = 0;
	uint32_t id = 0;

	for (size_t i = 0; i < count; i++) {
		const struct th_frame *fr = th_frame(first + i);
		struct ip6_hdr h;
		struct cur c = th_expect_ip6(fr, mac, &h);
		const uint8_t *fh;
		uint16_t off;

		ck_assert_uint_le(fr->len - ETH_HLEN, mtu);
		ck_assert_mem_eq(h.src, th_our6, 16);
		ck_assert_mem_eq(h.dst, dst, 16);
		ck_assert_uint_eq(h.hop_limit, 64);
		ck_assert_uint_eq(h.next, IP6_NH_FRAGMENT);
		fh = cur_pull(&c, 8);
		ck_assert_ptr_nonnull(fh);
		ck_assert_uint_eq(fh[0], IP6_NH_UDP);
		ck_assert_uint_eq(fh[1], 0);
		ck_assert_uint_eq(be16(fh + 2) & 6, 0); /* reserved */
		off = be16(fh + 2) & 0xfff8;
		ck_assert_uint_eq(off, have);
		/* M on all but the last; every piece but the last a
		 * multiple of 8 bytes. */
		ck_assert_uint_eq(be16(fh + 2) & 1, i + 1 < count);
		if (i + 1 < count)
			ck_assert_uint_eq(c.len % 8, 0);
		if (i == 0)
			id = be32(fh + 4);
		ck_assert_uint_eq(be32(fh + 4), id);
		ck_assert_uint_le(have + c.len, sizeof(got));
		memcpy(got + have, c.p, c.len);
		have += c.len;
	}
	ck_assert_uint_eq(have, wlen);
	ck_assert_mem_eq(got, want, wlen);
	return id;
}

START_TEST(test_fragment_output)
{
	static uint8_t data[3000];
	struct stack *s = new_stack(NULL);

	th_pattern(data, sizeof(data), 1);
	ck_assert_int_eq(send_udp(s, th_peer6, data, sizeof(data)), 0);
	/* 3008 bytes of UDP in pieces of 1448 (1500 - 40 - 8, rounded down
	 * to a multiple of 8): three. */
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_fragments(0, 3, th_peer6, th_peer_mac, 1500, data,
			 sizeof(data));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_FRAG_TX], 3);
	/* What fits goes whole. */
	th_frames_clear();
	ck_assert_int_eq(send_udp(s, th_peer6, data, 1500 - 48), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + 1500);
	th_stack_free(s);
}
END_TEST

START_TEST(test_fragment_output_min_mtu)
{
	static uint8_t data[4000];
	struct stack_params p;
	struct stack *s;

	th_params6(&p);
	p.mtu = 1280;
	s = new_stack(&p);
	th_pattern(data, sizeof(data), 2);
	ck_assert_int_eq(send_udp(s, th_peer6, data, sizeof(data)), 0);
	ck_assert_uint_eq(th_frame_count(), 4); /* 4008 / 1232 */
	expect_fragments(0, 4, th_peer6, th_peer_mac, 1280, data,
			 sizeof(data));
	th_stack_free(s);
}
END_TEST

START_TEST(test_fragment_output_unresolved)
{
	static uint8_t data[3000];
	struct stack *s = th_stack_new6(NULL);
	uint8_t body[24 + 8];
	struct icmp6_hdr h = {.type = ICMP6_ND_NA,
			      .rest = ND_NA_SOLICITED | ND_NA_OVERRIDE};
	struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = 255};
	static uint8_t m[64];
	size_t n;

	/* The fragments wait together for the neighbour's address. */
	th_pattern(data, sizeof(data), 3);
	ck_assert_int_eq(send_udp(s, th_peer6, data, sizeof(data)), 0);
	ck_assert_uint_eq(th_frame_count(), 1); /* the solicitation */
	memcpy(body, th_peer6, 16);
	body[16] = ND_OPT_TLLA;
	body[17] = 1;
	memcpy(body + 18, th_peer_mac, ETH_ALEN);
	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	n = th_icmp6_write(m, ih.src, ih.dst, &h, body, 24);
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, m, n), 0);
	ck_assert_uint_eq(th_frame_count(), 4);
	expect_fragments(1, 3, th_peer6, th_peer_mac, 1500, data,
			 sizeof(data));
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

/* The identification of the one fragmented datagram sent to dst. */
static uint32_t frag_id(struct stack *s, const uint8_t *dst,
			const uint8_t *mac)
{
	static uint8_t data[2000];
	uint32_t id;

	th_frames_clear();
	ck_assert_int_eq(send_udp(s, dst, data, sizeof(data)), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	id = expect_fragments(0, 2, dst, mac, 1500, data, sizeof(data));
	th_frames_clear();
	return id;
}

START_TEST(test_fragment_ids)
{
	struct stack *s = new_stack(NULL);
	struct stack_secrets k = th_secrets;
	struct stack_params p;
	uint32_t a1, a2, b1, c1;

	th_learn6(s, th_peer2_mac, th_peer2_6);
	/* RFC 7739: per destination, and not guessable from another
	 * destination's: two destinations do not get neighbouring values
	 * of one counter. */
	a1 = frag_id(s, th_peer6, th_peer_mac);
	b1 = frag_id(s, th_peer2_6, th_peer2_mac);
	a2 = frag_id(s, th_peer6, th_peer_mac);
	ck_assert_uint_ne(a1, a2);
	ck_assert_uint_ne(b1, a1);
	ck_assert_uint_ne(b1, a1 + 1);
	ck_assert_uint_ne(a2, b1 + 1);
	ck_assert_uint_ne(b1, a2);
	th_stack_free(s);
	/* Keyed: another secret, another identification for the same pair. */
	k.frag6_key[0] ^= 1;
	th_params6(&p);
	s = th_stack_new_keyed(&p, &k);
	nd6_addr_setup(s);
	th_frames_clear();
	th_learn6(s, th_peer_mac, th_peer6);
	c1 = frag_id(s, th_peer6, th_peer_mac);
	ck_assert_uint_ne(c1, a1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_route)
{
	struct stack *s = new_stack(NULL);
	union inany far = inany_from_v6(th_far6);

	ck_assert_int_eq(l3_reachable(s, &far), -EHOSTUNREACH);
	ck_assert_int_eq(send_udp(s, th_far6, "x", 1), -EHOSTUNREACH);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NO_ROUTE], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* On-link: in our prefix, and any link-local address. */
	ck_assert_int_eq(send_udp(s, th_peer6, "x", 1), 0);
	ck_assert_int_eq(l3_reachable(s, &(union inany){.a = {0xfe, 0x80,
							      [15] = 7}}),
			 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_gateway)
{
	struct stack_params p;
	struct stack *s;
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct udp_hdr uh;
	uint8_t sn[16], mac[ETH_ALEN], body[24];
	union inany far = inany_from_v6(th_far6);
	struct cur c;
	static uint8_t m[64];
	size_t n;

	th_params6(&p);
	memcpy(p.gateway6, th_gw6, 16);
	s = th_stack_new6(&p);
	ck_assert_int_eq(l3_reachable(s, &far), 0);
	ck_assert_int_eq(send_udp(s, th_far6, "far", 3), 0);
	/* Off-link: the router's address is solicited first (from our
	 * link-local address, its scope). */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_solicited6(th_gw6, sn);
	th_mcast_mac6(sn, mac);
	c = th_expect_icmp6(th_frame(0), mac, &h, &ih);
	ck_assert_uint_eq(ih.type, ICMP6_ND_NS);
	ck_assert_mem_eq(h.src, th_our_ll6(s), 16);
	ck_assert_mem_eq(h.dst, sn, 16);
	ck_assert_uint_eq(c.len, 16 + 8);
	ck_assert_mem_eq(c.p, th_gw6, 16);
	/* The router answers: the datagram goes to its MAC, still
	 * addressed to the far host. */
	memcpy(body, th_gw6, 16);
	body[16] = ND_OPT_TLLA;
	body[17] = 1;
	memcpy(body + 18, th_gw_mac, ETH_ALEN);
	memset(&h, 0, sizeof(h));
	h.next = IP6_NH_ICMP6;
	h.hop_limit = 255;
	memcpy(h.src, th_gw6, 16);
	memcpy(h.dst, th_our_ll6(s), 16);
	ih = (struct icmp6_hdr){.type = ICMP6_ND_NA,
				.rest = ND_NA_ROUTER | ND_NA_SOLICITED |
					ND_NA_OVERRIDE};
	n = th_icmp6_write(m, h.src, h.dst, &ih, body, 24);
	stack_input(s, f, th_ip6_frame(f, NULL, th_gw_mac, &h, m, n), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	c = th_expect_udp6(th_frame(1), th_gw_mac, &h, &uh);
	ck_assert_mem_eq(h.src, th_our6, 16);
	ck_assert_mem_eq(h.dst, th_far6, 16);
	ck_assert_uint_eq(c.len, 3);
	ck_assert_mem_eq(c.p, "far", 3);
	/* Another far host goes out at once. */
	ck_assert_int_eq(send_udp(s, (const uint8_t[16]){0x20, 0x01, 0x0d, 0xb9,
							 [15] = 2}, "x", 1),
			 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	th_expect_udp6(th_frame(2), th_gw_mac, &h, &uh);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

/* ---- UDP and TCP over IPv6 ------------------------------------------------- */

struct rec {
	struct udp_binding b;
	unsigned calls;
	struct udp_meta meta;
	uint8_t data[2048];
	size_t len;
	struct stack *echo_to;
};

static struct rec r;

static void rec_fn(void *arg, const struct udp_meta *m, const uint8_t *data,
		   size_t len)
{
	struct rec *x = arg;

	x->calls++;
	x->meta = *m;
	ck_assert_uint_le(len, sizeof(x->data));
	memcpy(x->data, data, len);
	x->len = len;
	if (x->echo_to) {
		struct udp_dst d = {.addr = m->src, .port = m->src_port};

		ck_assert_int_eq(udp_output(x->echo_to, m->dst_port, &d, data,
					    len),
				 0);
	}
}

static struct stack *udp_stack(void)
{
	struct stack *s = new_stack(NULL);

	memset(&r, 0, sizeof(r));
	r.b.port = 7777;
	r.b.fn = rec_fn;
	r.b.arg = &r;
	ck_assert_int_eq(udp_bind(s, &r.b), 0);
	return s;
}

START_TEST(test_udp_receive)
{
	struct stack *s = udp_stack();
	union inany peer = inany_from_v6(th_peer6), us = inany_from_v6(th_our6);

	stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000, 7777,
					"hello", 5), 0);
	ck_assert_uint_eq(r.calls, 1);
	ck_assert(inany_eq(&r.meta.src, &peer));
	ck_assert(inany_eq(&r.meta.dst, &us));
	ck_assert_uint_eq(r.meta.src_port, 4000);
	ck_assert_uint_eq(r.meta.dst_port, 7777);
	ck_assert_mem_eq(r.meta.src_mac, th_peer_mac, ETH_ALEN);
	ck_assert(!r.meta.broadcast);
	ck_assert_uint_eq(r.len, 5);
	ck_assert_mem_eq(r.data, "hello", 5);
	/* To all-nodes: received, marked as such. */
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_all_nodes6, 4000, 7777,
					"group", 5), 0);
	ck_assert_uint_eq(r.calls, 2);
	ck_assert(r.meta.broadcast);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_udp_checksum)
{
	struct stack *s = udp_stack();
	static uint8_t seg[64];
	struct udp_hdr uh = {.sport = 4000, .dport = 7777};
	struct ip6_hdr ih = {.next = IP6_NH_UDP, .hop_limit = 64};
	size_t n;

	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	/* RFC 8200 8.1: a zero UDP checksum is not allowed over IPv6. */
	n = th_udp6_write(seg, th_peer6, th_our6, &uh, "zero", 4, true);
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n), 0);
	/* A wrong one. */
	n = th_udp6_write(seg, th_peer6, th_our6, &uh, "oops", 4, false);
	seg[n - 1] ^= 1;
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n), 0);
	/* One computed without the pseudo-header. */
	n = th_udp6_write(seg, th_peer6, th_our6, &uh, "nops", 4, true);
	put_be16(seg + 6, csum(seg, n));
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n), 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 3);
	ck_assert_uint_eq(r.calls, 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_udp_reply)
{
	struct stack *s = udp_stack();
	static uint8_t data[1000];
	struct ip6_hdr h;
	struct udp_hdr uh;
	struct cur c;

	r.echo_to = s;
	th_pattern(data, sizeof(data), 4);
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000, 7777, data,
					sizeof(data)), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	/* th_expect_udp6() checks the checksum over the IPv6 pseudo-header
	 * (RFC 8200 8.1) as computed here. */
	c = th_expect_udp6(th_frame(0), th_peer_mac, &h, &uh);
	ck_assert_mem_eq(h.src, th_our6, 16);
	ck_assert_mem_eq(h.dst, th_peer6, 16);
	ck_assert_uint_eq(h.hop_limit, 64);
	ck_assert_uint_eq(uh.sport, 7777);
	ck_assert_uint_eq(uh.dport, 4000);
	ck_assert_uint_eq(c.len, sizeof(data));
	ck_assert_mem_eq(c.p, data, sizeof(data));
	/* From a link-local peer: answered from our link-local address. */
	th_learn6(s, th_peer_mac, th_peer6_ll);
	stack_input(s, f, th_udp6_frame(f, th_peer6_ll, th_our_ll6(s), 4001,
					7777, "ll", 2), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_udp6(th_frame(0), th_peer_mac, &h, &uh);
	ck_assert_mem_eq(h.src, th_our_ll6(s), 16);
	ck_assert_mem_eq(h.dst, th_peer6_ll, 16);
	ck_assert_uint_eq(uh.dport, 4001);
	ck_assert_uint_eq(c.len, 2);
	th_check_leaks6(s, 0, 2);
	th_stack_free(s);
}
END_TEST

static void *tcp_accepted(void *arg, struct tcp_conn *c)
{
	(void)c;
	return arg;
}

static size_t tcp_recv(void *ctx, struct tcp_conn *c, const uint8_t *data,
		       size_t len)
{
	(void)ctx;
	(void)c;
	(void)data;
	return len;
}

static void tcp_closed(void *ctx, struct tcp_conn *c, int err)
{
	(void)ctx;
	(void)c;
	(void)err;
}

static const struct tcp_callbacks tcp_cbs = {
	.accepted = tcp_accepted,
	.recv = tcp_recv,
	.closed = tcp_closed,
};

/* A SYN from the peer (port 40000, MSS 1460) to our port 80; assert the
 * SYN-ACK that answers it and return the MSS it offers. */
static uint16_t syn_ack_mss(struct stack *s, uint32_t iss)
{
	static const uint8_t opts[4] = {TCP_OPT_MSS, 4, 0x05, 0xb4};
	static uint8_t seg[64];
	struct tcp_hdr th = {.sport = 40000, .dport = 80, .seq = iss,
			     .flags = TCP_FLAG_SYN, .win = 65535};
	struct ip6_hdr ih = {.next = IP6_NH_TCP, .hop_limit = 64};
	struct tcp_hdr rh;
	struct tcp_opts o;
	struct cur c, optc;
	size_t n;

	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	n = th_tcp6_write(seg, th_peer6, th_our6, &th, opts, 4, NULL, 0);
	th_frames_clear();
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_ip6(th_frame(0), th_peer_mac, &ih);
	ck_assert_uint_eq(ih.next, IP6_NH_TCP);
	ck_assert_mem_eq(ih.src, th_our6, 16);
	ck_assert_mem_eq(ih.dst, th_peer6, 16);
	ck_assert_uint_eq(csum_fold(csum_partial(c.p, c.len,
						 th_pseudo6(ih.src, ih.dst,
							    IP6_NH_TCP,
							    c.len))),
			  0);
	ck_assert(tcp_hdr_parse(&c, &rh, &optc));
	ck_assert_uint_eq(rh.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	ck_assert_uint_eq(rh.sport, 80);
	ck_assert_uint_eq(rh.dport, 40000);
	ck_assert_uint_eq(rh.ack, iss + 1);
	ck_assert_int_eq(tcp_opts_parse(optc, true, &o, NULL), 0);
	ck_assert(o.mss_ok);
	return o.mss;
}

START_TEST(test_tcp_syn)
{
	struct stack_params p;
	struct stack *s;
	struct tcp_listener l;

	/* RFC 8200 5 / RFC 9293 3.7.1: the MSS is the MTU less 40 bytes of
	 * IPv6 header and 20 of TCP. */
	s = new_stack(NULL);
	ck_assert_int_eq(tcp_listen(s, &l, 80, &tcp_cbs, &l), 0);
	ck_assert_uint_eq(syn_ack_mss(s, 1000), 1500 - 60);
	ck_assert_uint_eq(s->stats.v[STAT_TCP_PASSIVE_OPENS], 1);
	tcp_unlisten(s, &l);
	th_stack_free(s);
	th_params6(&p);
	p.mtu = 1280;
	s = new_stack(&p);
	ck_assert_int_eq(tcp_listen(s, &l, 80, &tcp_cbs, &l), 0);
	ck_assert_uint_eq(syn_ack_mss(s, 2000), 1280 - 60);
	tcp_unlisten(s, &l);
	th_stack_free(s);
}
END_TEST

START_TEST(test_tcp_closed_port)
{
	static uint8_t seg[64];
	struct stack *s = new_stack(NULL);
	struct tcp_hdr th = {.sport = 40000, .dport = 81, .seq = 77,
			     .flags = TCP_FLAG_SYN, .win = 65535};
	struct ip6_hdr ih = {.next = IP6_NH_TCP, .hop_limit = 64};
	struct tcp_hdr rh;
	struct cur c, optc;
	size_t n;

	/* A SYN to a port no one listens on: a reset (RFC 9293 3.10.7.1),
	 * with its checksum over the IPv6 pseudo-header. */
	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	n = th_tcp6_write(seg, th_peer6, th_our6, &th, NULL, 0, NULL, 0);
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_ip6(th_frame(0), th_peer_mac, &ih);
	ck_assert_uint_eq(ih.next, IP6_NH_TCP);
	ck_assert_mem_eq(ih.src, th_our6, 16);
	ck_assert_mem_eq(ih.dst, th_peer6, 16);
	ck_assert_uint_eq(csum_fold(csum_partial(c.p, c.len,
						 th_pseudo6(ih.src, ih.dst,
							    IP6_NH_TCP,
							    c.len))),
			  0);
	ck_assert(tcp_hdr_parse(&c, &rh, &optc));
	ck_assert_uint_eq(rh.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	ck_assert_uint_eq(rh.ack, 78);
	ck_assert_uint_eq(s->stats.v[STAT_TCP_DROP_NO_LISTENER], 1);
	/* Not to a group. */
	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_all_nodes6, 16);
	n = th_tcp6_write(seg, th_peer6, th_all_nodes6, &th, NULL, 0, NULL, 0);
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_TCP_DROP_BCAST], 1);
	th_stack_free(s);
}
END_TEST

static Suite *ip6_suite(void)
{
	Suite *su = suite_create("ip6");
	TCase *tc;

	tc = tcase_create("input");
	tcase_add_test(tc, test_bad_version);
	tcase_add_test(tc, test_payload_length);
	tcase_add_test(tc, test_padding_trimmed);
	tcase_add_test(tc, test_disabled);
	tcase_add_test(tc, test_bad_sources);
	tcase_add_test(tc, test_destinations);
	tcase_add_test(tc, test_l2_multicast_l3_unicast);
	suite_add_tcase(su, tc);

	tc = tcase_create("extension_headers");
	tcase_add_test(tc, test_hbh_first);
	tcase_add_test(tc, test_hbh_not_first);
	tcase_add_test(tc, test_unknown_next_header);
	tcase_add_test(tc, test_option_skip);
	tcase_add_test(tc, test_option_discard);
	tcase_add_test(tc, test_option_param_problem);
	tcase_add_test(tc, test_option_param_problem_unicast);
	tcase_add_test(tc, test_option_overrun);
	tcase_add_test(tc, test_routing_type0);
	tcase_add_test(tc, test_routing_other);
	tcase_add_test(tc, test_no_next_header);
	tcase_add_test(tc, test_ext_header_limit);
	tcase_add_test(tc, test_truncated_ext_header);
	suite_add_tcase(su, tc);

	tc = tcase_create("fragments");
	tcase_add_test(tc, test_atomic_fragment);
	tcase_add_test(tc, test_first_fragment_chain);
	tcase_add_test(tc, test_fragment_not_multiple_of_8);
	tcase_add_test(tc, test_fragment_past_64k);
	suite_add_tcase(su, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_fragment_output);
	tcase_add_test(tc, test_fragment_output_min_mtu);
	tcase_add_test(tc, test_fragment_output_unresolved);
	tcase_add_test(tc, test_fragment_ids);
	tcase_add_test(tc, test_no_route);
	tcase_add_test(tc, test_gateway);
	suite_add_tcase(su, tc);

	tc = tcase_create("transport");
	tcase_add_test(tc, test_udp_receive);
	tcase_add_test(tc, test_udp_checksum);
	tcase_add_test(tc, test_udp_reply);
	tcase_add_test(tc, test_tcp_syn);
	tcase_add_test(tc, test_tcp_closed_port);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(ip6_suite());
}
