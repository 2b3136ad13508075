/* ICMP (icmp4.c): echo replies, destination unreachable, the RFC 1122
 * rules against error storms, and the rate limit. */
#include "helpers.h"

#include <string.h>

static uint8_t f[TH_FRAME_MAX];

static struct stack_params params(void)
{
	struct stack_params p;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	return p;
}

/* A stack that knows the peer's MAC, with an empty link. */
static struct stack *new_stack(const struct stack_params *p)
{
	struct stack *s = th_stack_new(p);

	th_learn(s, th_peer_mac, TH_PEER_IP);
	return s;
}

/* Assert frame i is an echo reply to the peer for (id, seq, data). */
static void expect_echo_reply(size_t i, uint16_t id, uint16_t seq,
			      const uint8_t *data, size_t len)
{
	struct ip4_hdr ih;
	struct icmp4_hdr h;
	struct cur c = th_expect_icmp(th_frame(i), th_peer_mac, &ih, &h);

	ck_assert_uint_eq(ih.src, TH_OUR_IP);
	ck_assert_uint_eq(ih.dst, TH_PEER_IP);
	ck_assert_uint_eq(ih.ttl, 64);
	ck_assert_uint_eq(h.type, ICMP4_ECHO_REPLY);
	ck_assert_uint_eq(h.code, 0);
	ck_assert_uint_eq(h.rest >> 16, id);
	ck_assert_uint_eq(h.rest & 0xffff, seq);
	ck_assert_uint_eq(c.len, len);
	if (len)
		ck_assert_mem_eq(c.p, data, len);
}

START_TEST(test_echo_reply)
{
	struct stack *s = new_stack(NULL);
	uint8_t data[56];

	th_pattern(data, sizeof(data), 1);
	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 0x1234, 1,
					data, sizeof(data)), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, 0x1234, 1, data, sizeof(data));
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + IP4_HLEN + 64);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ECHO_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ECHO_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_TX], 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_reply_code_zero)
{
	struct stack *s = new_stack(NULL);
	uint8_t data[8] = "codetest";
	size_t n = th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 7, 2, data,
				 sizeof(data));
	uint8_t *icmp = f + ETH_HLEN + IP4_HLEN;

	/* RFC 792: an echo reply has code 0, whatever the request had. */
	icmp[1] = 7;
	icmp[2] = icmp[3] = 0;
	put_be16(icmp + 2, csum(icmp, n - ETH_HLEN - IP4_HLEN));
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_echo_reply(0, 7, 2, data, sizeof(data));
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_sizes)
{
	static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 55, 56, 57, 999,
				       1000, 1471, 1472};
	struct stack *s = new_stack(NULL);
	static uint8_t data[1472];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		th_pattern(data, sizes[i], (unsigned)i);
		stack_input(s, f,
			    th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 77,
					  (uint16_t)i, data, sizes[i]),
			    0);
		ck_assert_uint_eq(th_frame_count(), i + 1);
		expect_echo_reply(i, 77, (uint16_t)i, data, sizes[i]);
	}
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_checksum_edge)
{
	struct stack *s = new_stack(NULL);
	uint8_t data[2] = {0, 0};

	/* Words of all ones and near it: the reply's checksum needs the
	 * end-around carry. */
	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 0xffff,
					0xf7ff, data, 2), 0);
	expect_echo_reply(0, 0xffff, 0xf7ff, data, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_echo_unknown_peer)
{
	struct stack *s = th_stack_new(NULL);
	struct arp_hdr a;

	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 5, 6, "abc",
					3), 0);
	/* The reply waits for the peer's MAC. */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_bcast_mac, &a);
	ck_assert_uint_eq(a.tpa, TH_PEER_IP);
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_echo_reply(1, 5, 6, (const uint8_t *)"abc", 3);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_broadcast_echo)
{
	static const uint8_t all_hosts[ETH_ALEN] = {0x01, 0x00, 0x5e,
						    0x00, 0x00, 0x01};
	struct stack *s = new_stack(NULL);
	size_t n;

	n = th_echo_frame(f, TH_PEER_IP, TH_BCAST_IP, 1, 1, "x", 1);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	n = th_echo_frame(f, TH_PEER_IP, IP4_BROADCAST, 1, 2, "x", 1);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	/* Our unicast address on a broadcast frame: dropped by IPv4 already
	 * (RFC 1122 3.3.6). */
	n = th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 3, "x", 1);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	/* The directed broadcast on a unicast frame. */
	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_BCAST_IP, 1, 4, "x",
					1), 0);
	/* All-hosts multicast. */
	n = th_echo_frame(f, TH_PEER_IP, 0xe0000001, 1, 5, "x", 1);
	memcpy(f, all_hosts, ETH_ALEN);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_NOT_US], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ECHO_RX], 4);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_DROP_BCAST], 4);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ECHO_TX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_checksum)
{
	struct stack *s = new_stack(NULL);
	size_t n = th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 1, "data", 4);

	f[n - 1] ^= 0x20; /* a data byte */
	stack_input(s, f, n, 0);
	n = th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 1, "data", 4);
	f[ETH_HLEN + IP4_HLEN + 2] ^= 0x80; /* the checksum itself */
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_DROP_CSUM], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ECHO_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_short)
{
	struct stack *s = new_stack(NULL);
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_ICMP,
		.src = TH_PEER_IP,
		.dst = TH_OUR_IP,
	};
	static const uint8_t seven[7] = {8, 0, 0xf7, 0xff, 0, 0, 0};

	for (size_t len = 0; len < ICMP4_HLEN; len++)
		stack_input(s, f, th_ip4_frame(f, th_our_mac, th_peer_mac, &ih,
					       seven, len), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_DROP_SHORT], ICMP4_HLEN);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* An ICMP message of the given type from the peer, quoting a datagram. */
static size_t icmp_frame(uint8_t type, uint8_t code)
{
	static const uint8_t quote[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17};
	uint8_t m[ICMP4_HLEN + sizeof(quote)];
	struct icmp4_hdr h = {.type = type, .code = code};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_ICMP,
		.src = TH_PEER_IP,
		.dst = TH_OUR_IP,
	};
	size_t n = th_icmp_write(m, &h, quote, sizeof(quote));

	return th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, m, n);
}

START_TEST(test_other_types_dropped)
{
	struct stack *s = new_stack(NULL);

	stack_input(s, f, icmp_frame(ICMP4_ECHO_REPLY, 0), 0);
	stack_input(s, f, icmp_frame(ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT),
		    0);
	stack_input(s, f, icmp_frame(ICMP4_TIME_EXCEEDED, 0), 0);
	stack_input(s, f, icmp_frame(ICMP4_REDIRECT, 1), 0);
	stack_input(s, f, icmp_frame(13, 0), 0); /* timestamp */
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_RX], 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_DROP_TYPE], 2);
	/* An echo reply is counted as one: nothing of ours asked here. */
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_PING_RX], 1);
	/* The two errors go to the transports, which find their quote (not
	 * a datagram of ours) wanting. */
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_RX], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_DROP_QUOTE], 2);
	/* Nothing answers them, in particular no error about an error. */
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_TX], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* Assert frame i is a port unreachable to the peer quoting the datagram
 * that starts at dgram (ETH_HLEN into a frame we sent), quote_len bytes
 * after its 20-byte header. */
static void expect_port_unreach(size_t i, const uint8_t *dgram,
				size_t quote_len)
{
	struct ip4_hdr ih;
	struct icmp4_hdr h;
	struct cur c = th_expect_icmp(th_frame(i), th_peer_mac, &ih, &h);

	ck_assert_uint_eq(ih.src, TH_OUR_IP);
	ck_assert_uint_eq(ih.dst, TH_PEER_IP);
	ck_assert_uint_eq(h.type, ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(h.code, ICMP4_UNREACH_PORT);
	ck_assert_uint_eq(h.rest, 0);
	ck_assert_uint_eq(c.len, IP4_HLEN + quote_len);
	ck_assert_mem_eq(c.p, dgram, IP4_HLEN + quote_len);
}

START_TEST(test_port_unreachable)
{
	struct stack *s = new_stack(NULL);
	static uint8_t data[1000];

	stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999,
				       "knock", 5), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	/* The whole offending datagram fits: header, UDP header, data. */
	expect_port_unreach(0, f + ETH_HLEN, UDP_HLEN + 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_UNREACH_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_TX], 1);
	/* A big one is quoted up to a 576-byte error. */
	th_pattern(data, sizeof(data), 2);
	stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999,
				       data, sizeof(data)), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_port_unreach(1, f + ETH_HLEN, 576 - 2 * IP4_HLEN - ICMP4_HLEN);
	ck_assert_uint_eq(th_frame(1)->len, ETH_HLEN + 576);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unreachable_quotes_options)
{
	static const uint8_t opts[4] = {IP4_OPT_NOP, IP4_OPT_NOP, IP4_OPT_NOP,
					IP4_OPT_EOL};
	struct stack *s = new_stack(NULL);
	struct udp_hdr uh = {.sport = 4000, .dport = 9999};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_UDP,
		.src = TH_PEER_IP,
		.dst = TH_OUR_IP,
	}, rih;
	struct icmp4_hdr h;
	uint8_t seg[UDP_HLEN + 3];
	size_t n = th_udp_write(seg, TH_PEER_IP, TH_OUR_IP, &uh, "abc", 3,
				false);
	struct cur c;

	stack_input(s, f, th_ip4_frame_opts(f, th_our_mac, th_peer_mac, &ih,
					    opts, 4, seg, n), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp(th_frame(0), th_peer_mac, &rih, &h);
	ck_assert_uint_eq(h.type, ICMP4_DEST_UNREACH);
	/* The header as received, options included. */
	ck_assert_uint_eq(c.len, 24 + UDP_HLEN + 3);
	ck_assert_mem_eq(c.p, f + ETH_HLEN, 24 + UDP_HLEN + 3);
	th_stack_free(s);
}
END_TEST

/* What ip4_input would have passed up for a datagram at dgram. */
static struct l3_rx rx_of(const uint8_t *dgram, size_t len)
{
	struct l3_rx rx = {
		.src = inany_from_v4(be32(dgram + 12)),
		.dst = inany_from_v4(be32(dgram + 16)),
		.proto = dgram[9],
		.hdr = dgram,
		.hdr_len = (size_t)(dgram[0] & 0x0f) * 4,
		.dgram_len = len,
	};

	memcpy(rx.src_mac, th_peer_mac, ETH_ALEN);
	rx.payload = dgram + rx.hdr_len;
	rx.payload_len = len - rx.hdr_len;
	return rx;
}

START_TEST(test_no_error_about_icmp_error)
{
	struct stack *s = new_stack(NULL);
	struct l3_rx rx;

	icmp_frame(ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT);
	rx = rx_of(f + ETH_HLEN, IP4_HLEN + ICMP4_HLEN + 28);
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PROTO, &rx);
	icmp_frame(ICMP4_TIME_EXCEEDED, 0);
	rx = rx_of(f + ETH_HLEN, IP4_HLEN + ICMP4_HLEN + 28);
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PROTO, &rx);
	/* An empty ICMP message cannot be told apart: no error either. */
	rx.payload_len = 0;
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PROTO, &rx);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_SUPPRESSED], 3);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* About an ICMP query it may. */
	icmp_frame(ICMP4_ECHO_REQUEST, 0);
	rx = rx_of(f + ETH_HLEN, IP4_HLEN + ICMP4_HLEN + 28);
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PROTO, &rx);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_SUPPRESSED], 3);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_error_about_broadcast)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	/* To our directed broadcast, and to 255.255.255.255. */
	n = th_udp_frame(f, TH_PEER_IP, TH_BCAST_IP, 4000, 9999, "x", 1);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	n = th_udp_frame(f, TH_PEER_IP, IP4_BROADCAST, 4000, 9999, "x", 1);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	/* Unicast IP on a broadcast frame: dropped by IPv4 already. */
	n = th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999, "x", 1);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	/* From a host with no address yet. */
	stack_input(s, f, th_udp_frame(f, 0, TH_OUR_IP, 68, 9999, "x", 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_NOT_US], 1);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_NO_PORT], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_SUPPRESSED], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_UNREACH_TX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_error_about_fragment)
{
	struct stack *s = new_stack(NULL);
	struct l3_rx rx;
	size_t n;

	/* A non-first fragment (offset 185, MF) of a UDP datagram. */
	n = th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999, "fragment", 8);
	put_be16(f + ETH_HLEN + 6, IP4_FLAG_MF | 185);
	th_ip4_fix_csum(f);
	rx = rx_of(f + ETH_HLEN, n - ETH_HLEN);
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, &rx);
	/* The last one (offset, no MF). */
	put_be16(f + ETH_HLEN + 6, 185);
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, &rx);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_SUPPRESSED], 2);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* The first fragment may be complained about. */
	put_be16(f + ETH_HLEN + 6, IP4_FLAG_MF);
	icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, &rx);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_error_about_reassembled)
{
	struct stack *s = new_stack(NULL);
	static uint8_t seg[UDP_HLEN + 2000], first[ETH_HLEN + IP4_HLEN + 1480];
	static uint8_t whole[IP4_HLEN + sizeof(seg)];
	struct udp_hdr uh = {.sport = 4000, .dport = 9999};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_UDP,
		.src = TH_PEER_IP,
		.dst = TH_OUR_IP,
		.id = 99,
	};
	uint8_t data[2000];

	th_pattern(data, sizeof(data), 3);
	th_udp_write(seg, TH_PEER_IP, TH_OUR_IP, &uh, data, sizeof(data),
		     false);
	/* Last fragment first, then the first one. */
	ih.frag = 1480 / 8;
	stack_input(s, f, th_ip4_frame(f, th_our_mac, th_peer_mac, &ih,
				       seg + 1480, sizeof(seg) - 1480), 0);
	ih.frag = IP4_FLAG_MF;
	stack_input(s, first, th_ip4_frame(first, th_our_mac, th_peer_mac,
					   &ih, seg, 1480), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_OK], 1);
	/* One error for the whole datagram, quoting its header (the first
	 * fragment's, now saying it is whole: no MF, the datagram's total
	 * length) and the start of the reassembled payload. */
	ck_assert_uint_eq(th_frame_count(), 1);
	ih.frag = 0;
	ih.total_len = (uint16_t)(IP4_HLEN + sizeof(seg));
	ip4_hdr_write(whole, &ih);
	memcpy(whole + IP4_HLEN, seg, sizeof(seg));
	expect_port_unreach(0, whole, 576 - 2 * IP4_HLEN - ICMP4_HLEN);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct stack_params p = params();
	struct stack *s;

	p.icmp_burst = 5;
	p.icmp_rate = 10; /* one token per 100 ms */
	s = new_stack(&p);
	for (int i = 0; i < 8; i++)
		stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000,
					       9999, "x", 1), 0);
	/* Exactly the burst, then suppression. */
	ck_assert_uint_eq(th_frame_count(), 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_UNREACH_TX], 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_RATELIMIT], 3);
	/* 96 ms: not yet a whole token. */
	th_advance(s, 96);
	stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999,
				       "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 5);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_RATELIMIT], 4);
	/* 100 ms since the bucket emptied: one. */
	th_advance(s, 4);
	for (int i = 0; i < 2; i++)
		stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000,
					       9999, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 6);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_RATELIMIT], 5);
	/* A long pause refills to the burst, not beyond. */
	th_advance(s, 10000);
	for (int i = 0; i < 7; i++)
		stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000,
					       9999, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 11);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_RATELIMIT], 7);
	for (size_t i = 0; i < th_frame_count(); i++) {
		struct ip4_hdr ih;
		struct icmp4_hdr h;

		th_expect_icmp(th_frame(i), th_peer_mac, &ih, &h);
		ck_assert_uint_eq(h.type, ICMP4_DEST_UNREACH);
	}
	/* Echo replies are not errors: never limited. */
	for (int i = 0; i < 10; i++)
		stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1,
						(uint16_t)i, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 21);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_rate_limit_shared)
{
	struct stack_params p = params();
	struct stack *s;
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = 99,
		.src = TH_PEER_IP,
		.dst = TH_OUR_IP,
	};

	p.icmp_burst = 2;
	s = new_stack(&p);
	/* Protocol and port unreachables draw from one bucket. */
	stack_input(s, f, th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, "x",
				       1), 0);
	stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 9999,
				       "x", 1), 0);
	stack_input(s, f, th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, "x",
				       1), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ERR_RATELIMIT], 1);
	th_stack_free(s);
}
END_TEST

/* ---- Regressions: each of these once failed ------------------------------ */

/* 0.0.0.0 is accepted as a source (DHCP clients) but must never be a
 * destination (RFC 1122 3.2.1.3): an echo from it cannot be answered.
 * With a gateway the reply to 0.0.0.0 is sent to the gateway. */
START_TEST(test_regression_echo_from_zero)
{
	struct stack_params p = params();
	struct stack *s;

	p.gateway = TH_GW_IP;
	s = new_stack(&p);
	th_learn(s, th_gw_mac, TH_GW_IP);
	stack_input(s, f, th_echo_frame(f, 0, TH_OUR_IP, 1, 1, "x", 1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_ECHO_RX], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

/* ---- Errors quoting the other family ---------------------------------- */

static const uint8_t our6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				 0, 0, 0, 0, 0, 0, 0, 2}; /* fd00::2 */
static const uint8_t peer6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 1}; /* fd00::1 */

/* A stack with fd00::2/64 usable at once (no DAD), knowing the peer. */
static struct stack *new_stack6(void)
{
	struct stack_params p = params();
	struct stack *s;

	p.dad = false;
	p.naddr6 = 1;
	memcpy(p.addr6[0].addr, our6, 16);
	p.addr6[0].prefix = 64;
	s = new_stack(&p);
	stack_announce(s); /* takes the addresses, and says so on the link */
	th_frames_clear();
	return s;
}

/* The first 28 bytes of an IPv4 echo reply of 1500 bytes from us to the
 * peer, as an error quotes it. */
static size_t quote4(uint8_t *q)
{
	struct ip4_hdr ih = {.ihl = IP4_HLEN, .total_len = 1500, .ttl = 64,
			     .frag = 0x4000, .proto = IP4_PROTO_ICMP,
			     .src = TH_OUR_IP, .dst = TH_PEER_IP};
	uint8_t fr[ETH_HLEN + IP4_HLEN + 8];
	static const uint8_t echo[8] = {ICMP4_ECHO_REPLY, 0, 0, 0, 0, 1, 0, 1};

	th_ip4_frame(fr, th_peer_mac, th_our_mac, &ih, echo, sizeof(echo));
	memcpy(q, fr + ETH_HLEN, IP4_HLEN + 8);
	return IP4_HLEN + 8;
}

/* The first 48 bytes of an ICMPv6 echo reply of 1500 bytes from fd00::2
 * to fd00::1. */
static size_t quote6(uint8_t *q)
{
	static const uint8_t hdr[8] = {0x60, 0, 0, 0, 0x05, 0xb4, 58, 64};
	static const uint8_t echo[8] = {129, 0, 0, 0, 0, 1, 0, 1};

	memcpy(q, hdr, 8);
	memcpy(q + 8, our6, 16);
	memcpy(q + 24, peer6, 16);
	memcpy(q + 40, echo, 8);
	return 48;
}

/* ICMPv4 Fragmentation Needed (MTU 600) from the peer quoting q. */
static size_t frag_needed4(uint8_t *fr, const uint8_t *q, size_t qlen)
{
	struct ip4_hdr ih = {.ihl = IP4_HLEN, .ttl = 64,
			     .proto = IP4_PROTO_ICMP, .src = TH_PEER_IP,
			     .dst = TH_OUR_IP};
	struct icmp4_hdr h = {.type = ICMP4_DEST_UNREACH,
			      .code = ICMP4_UNREACH_NEEDFRAG, .rest = 600};
	uint8_t m[ICMP4_HLEN + 64];
	size_t n = th_icmp_write(m, &h, q, qlen);

	return th_ip4_frame(fr, th_our_mac, th_peer_mac, &ih, m, n);
}

/* ICMPv6 Packet Too Big (MTU 600) from fd00::1 to fd00::2 quoting q. */
static size_t too_big6(uint8_t *fr, const uint8_t *q, size_t qlen)
{
	union inany src = inany_from_v6(peer6), dst = inany_from_v6(our6);
	size_t len = 8 + qlen, n = th_eth(fr, th_our_mac, th_peer_mac,
					  ETH_TYPE_IP6);
	uint8_t *ip = fr + n, *m = ip + 40;

	memset(ip, 0, 40 + len);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(len >> 8);
	ip[5] = (uint8_t)len;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, peer6, 16);
	memcpy(ip + 24, our6, 16);
	m[0] = 2; /* Packet Too Big */
	m[6] = 600 >> 8;
	m[7] = 600 & 0xff;
	memcpy(m + 8, q, qlen);
	put_be16(m + 2, csum_fold(csum_partial(m, len,
					       l3_pseudo(&src, &dst, 58, len))));
	return n + 40 + len;
}

/* An ICMPv4 error quoting an IPv6 header, or an ICMPv6 error quoting an
 * IPv4 one, reports on nothing we sent: no path MTU is lowered by it
 * (each family's own error still lowers its own). */
START_TEST(test_error_quoting_other_family)
{
	struct stack *s = new_stack6();
	union inany p6 = inany_from_v6(peer6);
	uint8_t q[64];
	size_t n;

	n = quote6(q);
	stack_input(s, f, frag_needed4(f, q, n), 0);
	ck_assert_uint_eq(s->stats.v[STAT_PMTU_LOWERED], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_DROP_QUOTE], 1);
	ck_assert_uint_eq(pmtu_get(s, &p6), 1500);

	n = quote4(q);
	stack_input(s, f, too_big6(f, q, n), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_PMTU_LOWERED], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_DROP_QUOTE], 2);
	ck_assert_uint_eq(pmtu_get(s, TH_A4(TH_PEER_IP)), 1500);

	/* Each family's own: IPv4 to 600, IPv6 to its floor, 1280. */
	n = quote4(q);
	stack_input(s, f, frag_needed4(f, q, n), 0);
	ck_assert_uint_eq(pmtu_get(s, TH_A4(TH_PEER_IP)), 600);
	n = quote6(q);
	stack_input(s, f, too_big6(f, q, n), 0);
	ck_assert_uint_eq(pmtu_get(s, &p6), 1280);
	ck_assert_uint_eq(s->stats.v[STAT_PMTU_LOWERED], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP_ERR_DROP_QUOTE], 2);
	th_stack_free(s);
}
END_TEST

static Suite *icmp4_suite(void)
{
	Suite *su = suite_create("icmp4");
	TCase *tc;

	tc = tcase_create("echo");
	tcase_add_test(tc, test_echo_reply);
	tcase_add_test(tc, test_echo_reply_code_zero);
	tcase_add_test(tc, test_echo_sizes);
	tcase_add_test(tc, test_echo_checksum_edge);
	tcase_add_test(tc, test_echo_unknown_peer);
	tcase_add_test(tc, test_broadcast_echo);
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_short);
	tcase_add_test(tc, test_other_types_dropped);
	tcase_add_test(tc, test_regression_echo_from_zero);
	suite_add_tcase(su, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_port_unreachable);
	tcase_add_test(tc, test_unreachable_quotes_options);
	tcase_add_test(tc, test_no_error_about_icmp_error);
	tcase_add_test(tc, test_no_error_about_broadcast);
	tcase_add_test(tc, test_no_error_about_fragment);
	tcase_add_test(tc, test_error_about_reassembled);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_rate_limit_shared);
	tcase_add_test(tc, test_error_quoting_other_family);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(icmp4_suite());
}
