/* ICMPv6 (icmp6.c) against RFC 4443: echo, the errors we send with what
 * they quote, the rules of section 2.4 (e) against answering what must
 * not be answered, and the rate limit shared with ICMP for IPv4. */
#include "helpers.h"

#include <string.h>

static uint8_t f[TH_FRAME_MAX];

/* The IPv6 packet of the frame f holds (n bytes of frame). */
#define PKT (f + ETH_HLEN)
#define PKT_LEN(n) ((n) - ETH_HLEN)

/* A stack with IPv6 that knows the peer's MAC (and its IPv4 address's),
 * its counters zero. */
static struct stack *new_stack(const struct stack_params *p)
{
	struct stack *s = th_stack_new6(p);

	th_learn6(s, th_peer_mac, th_peer6);
	th_learn6(s, th_peer_mac, th_peer6_ll);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	memset(&s->stats, 0, sizeof(s->stats));
	return s;
}

/* An ICMPv6 message from src to dst (type, code, rest, data), hop limit
 * 64, from the peer's MAC. */
static size_t icmp_frame(const uint8_t *src, const uint8_t *dst, uint8_t type,
			 uint8_t code, uint32_t rest, const void *data,
			 size_t len)
{
	static uint8_t m[2048];
	struct icmp6_hdr h = {.type = type, .code = code, .rest = rest};
	struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = 64};
	size_t n;

	memcpy(ih.src, src, 16);
	memcpy(ih.dst, dst, 16);
	n = th_icmp6_write(m, src, dst, &h, data, len);
	return th_ip6_frame(f, NULL, th_peer_mac, &ih, m, n);
}

/* Assert frame i is an echo reply from src to dst (at the peer's MAC) for
 * (id, seq, data). */
static void expect_echo_reply(size_t i, const uint8_t *src, const uint8_t *dst,
			      uint16_t id, uint16_t seq, const uint8_t *data,
			      size_t len)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct cur c = th_expect_icmp6(th_frame(i), th_peer_mac, &h, &ih);

	ck_assert_mem_eq(h.src, src, 16);
	ck_assert_mem_eq(h.dst, dst, 16);
	ck_assert_uint_eq(h.hop_limit, 64);
	ck_assert_uint_eq(ih.type, ICMP6_ECHO_REPLY);
	ck_assert_uint_eq(ih.code, 0);
	ck_assert_uint_eq(ih.rest >> 16, id);
	ck_assert_uint_eq(ih.rest & 0xffff, seq);
	ck_assert_uint_eq(c.len, len);
	if (len)
		ck_assert_mem_eq(c.p, data, len);
}

/* Assert frame i is an error (type, code, rest) from src to dst (at the
 * peer's MAC) quoting the quote_len first bytes of pkt. */
static void expect_error(size_t i, const uint8_t *src, const uint8_t *dst,
			 uint8_t type, uint8_t code, uint32_t rest,
			 const uint8_t *pkt, size_t quote_len)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct cur c = th_expect_icmp6(th_frame(i), th_peer_mac, &h, &ih);

	ck_assert_mem_eq(h.src, src, 16);
	ck_assert_mem_eq(h.dst, dst, 16);
	ck_assert_uint_eq(h.hop_limit, 64);
	ck_assert_uint_eq(ih.type, type);
	ck_assert_uint_eq(ih.code, code);
	ck_assert_uint_eq(ih.rest, rest);
	ck_assert_uint_eq(c.len, quote_len);
	ck_assert_mem_eq(c.p, pkt, quote_len);
}

/* ---- Echo ------------------------------------------------------------------- */

START_TEST(test_echo_reply)
{
	static const size_t sizes[] = {0, 1, 2, 7, 8, 55, 56, 57, 1000, 1451,
				       1452};
	static uint8_t data[1452];
	struct stack *s = new_stack(NULL);

	/* RFC 4443 4.2: the identifier, sequence number and data of the
	 * request, from the address it was sent to. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		th_pattern(data, sizes[i], (unsigned)i);
		stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 0x1234,
						 (uint16_t)i, data, sizes[i]),
			    0);
		ck_assert_uint_eq(th_frame_count(), i + 1);
		expect_echo_reply(i, th_our6, th_peer6, 0x1234, (uint16_t)i,
				  data, sizes[i]);
		ck_assert_uint_eq(th_frame(i)->len,
				  ETH_HLEN + IP6_HLEN + ICMP6_HLEN + sizes[i]);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 11);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_TX], 11);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_TX], 11);
	/* To our link-local address, from the peer's. */
	th_frames_clear();
	stack_input(s, f, th_echo6_frame(f, th_peer6_ll, th_our_ll6(s), 1, 2,
					 "ll", 2), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, th_our_ll6(s), th_peer6_ll, 1, 2,
			  (const uint8_t *)"ll", 2);
	th_check_leaks6(s, 1, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_checksum_edge)
{
	struct stack *s = new_stack(NULL);
	uint8_t data[2] = {0, 0};

	/* Words near all ones: the reply's checksum needs the end-around
	 * carry. */
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 0xffff, 0xfeff,
					 data, 2), 0);
	expect_echo_reply(0, th_our6, th_peer6, 0xffff, 0xfeff, data, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_multicast)
{
	struct stack *s = new_stack(NULL);
	uint8_t sn[16];

	/* RFC 4443 4.2: a request to a group is answered from a unicast
	 * address of ours, of the asker's scope. */
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_all_nodes6, 1, 1, "a",
					 1), 0);
	stack_input(s, f, th_echo6_frame(f, th_peer6_ll, th_all_nodes6, 1, 2,
					 "b", 1), 0);
	th_solicited6(th_our6, sn);
	stack_input(s, f, th_echo6_frame(f, th_peer6, sn, 1, 3, "c", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_echo_reply(0, th_our6, th_peer6, 1, 1, (const uint8_t *)"a", 1);
	expect_echo_reply(1, th_our_ll6(s), th_peer6_ll, 1, 2,
			  (const uint8_t *)"b", 1);
	expect_echo_reply(2, th_our6, th_peer6, 1, 3, (const uint8_t *)"c", 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_from_unspecified)
{
	struct stack *s = new_stack(NULL);

	/* No one to answer. */
	stack_input(s, f, th_echo6_frame(f, th_any6, th_our6, 1, 1, "x", 1),
		    0);
	stack_input(s, f, th_echo6_frame(f, th_any6, th_all_nodes6, 1, 2, "x",
					 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_TX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_checksum)
{
	struct stack *s = new_stack(NULL);
	uint8_t *icmp = PKT + IP6_HLEN;
	size_t n;

	/* A data byte changed. */
	n = th_echo6_frame(f, th_peer6, th_our6, 1, 1, "data", 4);
	f[n - 1] ^= 0x20;
	stack_input(s, f, n, 0);
	/* The checksum itself. */
	n = th_echo6_frame(f, th_peer6, th_our6, 1, 1, "data", 4);
	icmp[2] ^= 0x80;
	stack_input(s, f, n, 0);
	/* Computed without the pseudo-header, as ICMP for IPv4 does (RFC
	 * 4443 2.3 puts it in). */
	n = th_echo6_frame(f, th_peer6, th_our6, 1, 1, "data", 4);
	put_be16(icmp + 2, 0);
	put_be16(icmp + 2, csum(icmp, PKT_LEN(n) - IP6_HLEN));
	stack_input(s, f, n, 0);
	/* Computed for another destination. */
	n = th_echo6_frame(f, th_peer6, th_all_nodes6, 1, 1, "data", 4);
	memcpy(PKT + 24, th_our6, 16);
	memcpy(f, th_our_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_DROP_CSUM], 4);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_short)
{
	static const uint8_t seven[7] = {ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 0, 0};
	struct stack *s = new_stack(NULL);
	struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = 64};

	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	for (size_t len = 1; len < ICMP6_HLEN; len++)
		stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, seven,
					       len), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_DROP_SHORT], ICMP6_HLEN - 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

/* A packet from us to the peer, as an error about it quotes it. */
static const uint8_t quoted[48] = {0x60, 0, 0, 0, 0, 8, IP6_NH_UDP, 64};

START_TEST(test_other_types)
{
	static const uint8_t types[] = {ICMP6_ECHO_REPLY, ICMP6_DEST_UNREACH,
					ICMP6_PACKET_TOO_BIG,
					ICMP6_TIME_EXCEEDED,
					ICMP6_PARAM_PROBLEM, 100, 127, 200};
	struct stack *s = new_stack(NULL);

	for (size_t i = 0; i < sizeof(types); i++)
		stack_input(s, f, icmp_frame(th_peer6, th_our6, types[i], 0, 0,
					     quoted, sizeof(quoted)), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], sizeof(types));
	/* The four errors go to the transports (which find the quote is
	 * no datagram of ours); the echo reply is counted as one (nothing
	 * asked for it here), the other three as unknown. */
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_DROP_TYPE], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_PING_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_RX], 4);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_DROP_QUOTE], 4);
	/* Nothing answers them; in particular no error about an error. */
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_TX], 0);
	th_stack_free(s);
}
END_TEST

/* ---- Errors ------------------------------------------------------------------ */

START_TEST(test_port_unreachable)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	/* RFC 4443 3.1: code 4, the whole offending packet quoted, from the
	 * address it was sent to. */
	n = th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, "knock", 5);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_error(0, th_our6, th_peer6, ICMP6_DEST_UNREACH,
		     ICMP6_UNREACH_PORT, 0, PKT, PKT_LEN(n));
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_UNREACH_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_NO_PORT], 1);
	/* To our link-local address: from it. */
	n = th_udp6_frame(f, th_peer6_ll, th_our_ll6(s), 4000, 9999, "ll", 2);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_error(1, th_our_ll6(s), th_peer6_ll, ICMP6_DEST_UNREACH,
		     ICMP6_UNREACH_PORT, 0, PKT, PKT_LEN(n));
	th_check_leaks6(s, 1, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_quote_truncated)
{
	static uint8_t data[1452], pl[2048 + 8 + 200];
	struct stack *s = new_stack(NULL);
	struct udp_hdr uh = {.sport = 4000, .dport = 9999};
	struct ip6_hdr ih = {.next = IP6_NH_DSTOPTS, .hop_limit = 64};
	size_t n;

	/* RFC 4443 2.4 (c): as much of the packet as fits without the
	 * error exceeding the minimum MTU, 1280 bytes. */
	th_pattern(data, sizeof(data), 1);
	for (size_t i = 0; i < 2; i++) {
		n = th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, data,
				  i ? 1452 : 1400);
		stack_input(s, f, n, 0);
		ck_assert_uint_eq(th_frame_count(), i + 1);
		ck_assert_uint_eq(th_frame(i)->len, ETH_HLEN + 1280);
		expect_error(i, th_our6, th_peer6, ICMP6_DEST_UNREACH,
			     ICMP6_UNREACH_PORT, 0, PKT,
			     1280 - IP6_HLEN - ICMP6_HLEN);
	}
	/* One byte less than the limit: all of it. */
	th_frames_clear();
	n = th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, data,
			  1280 - 2 * IP6_HLEN - ICMP6_HLEN - UDP_HLEN - 1);
	stack_input(s, f, n, 0);
	expect_error(0, th_our6, th_peer6, ICMP6_DEST_UNREACH,
		     ICMP6_UNREACH_PORT, 0, PKT, PKT_LEN(n));
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + 1279);
	/* Extension headers longer than the room: the error still stops at
	 * 1280 bytes. */
	th_frames_clear();
	memset(pl, 0, sizeof(pl));
	pl[0] = IP6_NH_UDP;
	pl[1] = 255; /* 2048 bytes of padding options */
	for (size_t i = 2; i < 2048; i += 257) {
		size_t len = 2048 - i - 2 < 255 ? 2048 - i - 2 : 255;

		pl[i] = IP6_OPT_PADN;
		pl[i + 1] = (uint8_t)len;
		if (len < 255)
			break;
	}
	th_udp6_write(pl + 2048, th_peer6, th_our6, &uh, data, 100, false);
	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_our6, 16);
	n = th_ip6_frame(f, NULL, th_peer_mac, &ih, pl, 2048 + 8 + 100);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + 1280);
	expect_error(0, th_our6, th_peer6, ICMP6_DEST_UNREACH,
		     ICMP6_UNREACH_PORT, 0, PKT, 1280 - IP6_HLEN - ICMP6_HLEN);
	th_stack_free(s);
}
END_TEST

/* What ip6_input would have passed up for the packet at pkt (no
 * extension headers), from the peer's MAC. */
static struct l3_rx rx_of(const uint8_t *pkt, size_t len)
{
	struct l3_rx rx = {
		.src = inany_from_v6(pkt + 8),
		.dst = inany_from_v6(pkt + 24),
		.proto = pkt[6],
		.hop_limit = pkt[7],
		.hdr = pkt,
		.hdr_len = IP6_HLEN,
		.dgram_len = len,
		.payload = pkt + IP6_HLEN,
		.payload_len = len - IP6_HLEN,
	};

	memcpy(rx.src_mac, th_peer_mac, ETH_ALEN);
	rx.l3_multi = pkt[24] == 0xff;
	return rx;
}

START_TEST(test_no_error_about_error)
{
	static const uint8_t errors[] = {ICMP6_DEST_UNREACH,
					 ICMP6_PACKET_TOO_BIG,
					 ICMP6_TIME_EXCEEDED,
					 ICMP6_PARAM_PROBLEM, 127,
					 ICMP6_ND_REDIRECT};
	struct stack *s = new_stack(NULL);
	struct l3_rx rx;
	size_t n;

	/* RFC 4443 2.4 (e.1, e.2): never about an error or a redirect. */
	for (size_t i = 0; i < sizeof(errors); i++) {
		n = icmp_frame(th_peer6, th_our6, errors[i], 0, 0, quoted,
			       sizeof(quoted));
		rx = rx_of(PKT, PKT_LEN(n));
		icmp6_send_error(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 0,
				 &rx);
		icmp6_send_error(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0,
				 &rx);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_SUPPRESSED],
			  2 * sizeof(errors));
	ck_assert_uint_eq(th_frame_count(), 0);
	/* About an informational message it may. */
	n = icmp_frame(th_peer6, th_our6, ICMP6_ECHO_REQUEST, 0, 0, "x", 1);
	rx = rx_of(PKT, PKT_LEN(n));
	icmp6_send_error(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 0, &rx);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_error(0, th_our6, th_peer6, ICMP6_PARAM_PROBLEM,
		     ICMP6_PARAM_HEADER, 0, PKT, PKT_LEN(n));
	th_stack_free(s);
}
END_TEST

/* A frame from the peer to dst: a Destination Options header holding an
 * option of type opt (unknown), then an ICMPv6 message of the given type
 * quoting a packet. */
static size_t icmp_behind_option(const uint8_t *dst, uint8_t opt,
				 uint8_t type)
{
	static uint8_t pl[8 + ICMP6_HLEN + sizeof(quoted)];
	const uint8_t ext[8] = {IP6_NH_ICMP6, 0, opt, 0, IP6_OPT_PADN, 2, 0, 0};
	struct icmp6_hdr h = {.type = type};
	struct ip6_hdr ih = {.next = IP6_NH_DSTOPTS, .hop_limit = 64};
	size_t n;

	memcpy(pl, ext, 8);
	n = th_icmp6_write(pl + 8, th_peer6, dst, &h, quoted, sizeof(quoted));
	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, dst, 16);
	return th_ip6_frame(f, NULL, th_peer_mac, &ih, pl, 8 + n);
}

START_TEST(test_no_error_about_error_behind_headers)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	/* An ICMPv6 error behind an option whose action asks for a
	 * parameter problem: it is still an error, and still not answered
	 * (RFC 4443 2.4 (e.1)). */
	stack_input(s, f, icmp_behind_option(th_our6, 0x9e, ICMP6_DEST_UNREACH),
		    0);
	stack_input(s, f, icmp_behind_option(th_our6, 0xde,
					     ICMP6_PARAM_PROBLEM), 0);
	stack_input(s, f, icmp_behind_option(th_our6, 0x9e,
					     ICMP6_ND_REDIRECT), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_OPTION], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_SUPPRESSED], 3);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* An echo request behind the same option is answered with one. */
	n = icmp_behind_option(th_our6, 0x9e, ICMP6_ECHO_REQUEST);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_error(0, th_our6, th_peer6, ICMP6_PARAM_PROBLEM,
		     ICMP6_PARAM_OPTION, 42, PKT, PKT_LEN(n));
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_error_to_multicast)
{
	static const uint8_t rh[8] = {IP6_NH_UDP, 0, 4, 1};
	struct stack *s = new_stack(NULL);
	struct ip6_hdr ih = {.next = 253, .hop_limit = 64};
	struct l3_rx rx;
	size_t n;

	/* RFC 4443 2.4 (e.3): nothing about a packet sent to a group... */
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_all_nodes6, 4000, 9999,
					"x", 1), 0);
	memcpy(ih.src, th_peer6, 16);
	memcpy(ih.dst, th_all_nodes6, 16);
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, "whatever",
				       8), 0);
	ih.next = IP6_NH_ROUTING;
	stack_input(s, f, th_ip6_frame(f, NULL, th_peer_mac, &ih, rh, 8), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_SUPPRESSED], 3);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* ...but a packet too big or a parameter problem about an option
	 * (code 2). */
	n = th_udp6_frame(f, th_peer6, th_all_nodes6, 4000, 9999, "x", 1);
	rx = rx_of(PKT, PKT_LEN(n));
	ck_assert(rx.l3_multi);
	icmp6_send_error(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, &rx);
	icmp6_send_error(s, ICMP6_TIME_EXCEEDED, ICMP6_EXC_FRAGTIME, 0, &rx);
	icmp6_send_error(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 4, &rx);
	icmp6_send_error(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_NEXTHDR, 6, &rx);
	ck_assert_uint_eq(th_frame_count(), 0);
	icmp6_send_error(s, ICMP6_PACKET_TOO_BIG, 0, 1280, &rx);
	icmp6_send_error(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_OPTION, 42, &rx);
	ck_assert_uint_eq(th_frame_count(), 2);
	/* From our unicast address. */
	expect_error(0, th_our6, th_peer6, ICMP6_PACKET_TOO_BIG, 0, 1280, PKT,
		     PKT_LEN(n));
	expect_error(1, th_our6, th_peer6, ICMP6_PARAM_PROBLEM,
		     ICMP6_PARAM_OPTION, 42, PKT, PKT_LEN(n));
	/* (e.4): the same for a link-layer multicast or broadcast. */
	th_frames_clear();
	n = th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, "x", 1);
	rx = rx_of(PKT, PKT_LEN(n));
	rx.l2_multi = true;
	icmp6_send_error(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, &rx);
	ck_assert_uint_eq(th_frame_count(), 0);
	icmp6_send_error(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_OPTION, 42, &rx);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_SUPPRESSED], 8);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_error_to_unspecified)
{
	static const uint8_t mcast[16] = {0xff, 0x02, [15] = 5};
	struct stack *s = new_stack(NULL);
	struct l3_rx rx;
	size_t n;

	/* RFC 4443 2.4 (e.6): the source must name one node. */
	stack_input(s, f, th_udp6_frame(f, th_any6, th_our6, 4000, 9999, "x",
					1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_NO_PORT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_SUPPRESSED], 1);
	n = th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, "x", 1);
	memcpy(PKT + 8, mcast, 16); /* IPv6 drops it first; ask directly */
	rx = rx_of(PKT, PKT_LEN(n));
	icmp6_send_error(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, &rx);
	icmp6_send_error(s, ICMP6_PACKET_TOO_BIG, 0, 1280, &rx);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_SUPPRESSED], 3);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct stack_params p;
	struct stack *s;

	th_params6(&p);
	p.icmp_burst = 5;
	p.icmp_rate = 10; /* one token per 100 ms */
	s = new_stack(&p);
	for (int i = 0; i < 8; i++)
		stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000,
						9999, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_UNREACH_TX], 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_RATELIMIT], 3);
	th_advance(s, 99);
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, "x",
					1), 0);
	ck_assert_uint_eq(th_frame_count(), 5);
	th_advance(s, 1);
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, "x",
					1), 0);
	ck_assert_uint_eq(th_frame_count(), 6);
	/* Echo replies are not errors: never limited. */
	for (int i = 0; i < 10; i++)
		stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 1,
						 (uint16_t)i, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 16);
	th_stack_free(s);
}
END_TEST

START_TEST(test_rate_limit_shared)
{
	struct stack_params p;
	struct stack *s;

	/* RFC 4443 2.4 (f) limits the errors we originate; one bucket for
	 * both families, so neither doubles the rate. */
	th_params6(&p);
	p.icmp_burst = 3;
	s = new_stack(&p);
	for (int i = 0; i < 3; i++)
		stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000,
					       9999, "x", 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_UNREACH_TX], 3);
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000, 9999, "x",
					1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ERR_RATELIMIT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_UNREACH_TX], 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	th_stack_free(s);
	/* And the other way round. */
	s = new_stack(&p);
	for (int i = 0; i < 3; i++)
		stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000,
						9999, "x", 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_UNREACH_TX], 3);
	stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999,
				       "x", 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_RATELIMIT], 1);
	ck_assert_uint_eq(th_frame_count(), 3);
	th_stack_free(s);
}
END_TEST

static Suite *icmp6_suite(void)
{
	Suite *su = suite_create("icmp6");
	TCase *tc;

	tc = tcase_create("echo");
	tcase_add_test(tc, test_echo_reply);
	tcase_add_test(tc, test_echo_checksum_edge);
	tcase_add_test(tc, test_echo_multicast);
	tcase_add_test(tc, test_echo_from_unspecified);
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_short);
	tcase_add_test(tc, test_other_types);
	suite_add_tcase(su, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_port_unreachable);
	tcase_add_test(tc, test_quote_truncated);
	tcase_add_test(tc, test_no_error_about_error);
	tcase_add_test(tc, test_no_error_about_error_behind_headers);
	tcase_add_test(tc, test_no_error_to_multicast);
	tcase_add_test(tc, test_no_error_to_unspecified);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_rate_limit_shared);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(icmp6_suite());
}
