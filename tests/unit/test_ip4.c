/* IPv4 (ip4.c): input validation with a drop counter per reason, delivery,
 * output routing and fragmentation. */
#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t f[TH_FRAME_MAX];

/* ---- A UDP listener that records what it got ----------------------------- */

static unsigned rx_calls;
static struct udp_meta rx_meta;
static uint8_t rx_data[IP4_MAX_LEN];
static size_t rx_len;

static void rx_record(void *arg, const struct udp_meta *m, const uint8_t *data,
		      size_t len)
{
	(void)arg;
	rx_calls++;
	rx_meta = *m;
	ck_assert_uint_le(len, sizeof(rx_data));
	memcpy(rx_data, data, len);
	rx_len = len;
}

static struct udp_binding listener = {.port = 7777, .fn = rx_record};

/* A stack with the listener bound, the peer learned and the link empty. */
static struct stack *stack_with_listener(const struct stack_params *p)
{
	struct stack *s = th_stack_new(p);

	rx_calls = 0;
	rx_len = 0;
	listener.next = NULL;
	ck_assert_int_eq(udp_bind(s, &listener), 0);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	return s;
}

/* A good UDP datagram from the peer to the listener. */
static size_t good_udp(void)
{
	return th_udp_frame(f, TH_PEER_IP, TH_OUR_IP, 4000, 7777, "hello", 5);
}

static void expect_dropped(struct stack *s, enum stat_id id, uint64_t n)
{
	ck_assert_uint_eq(s->stats.v[id], n);
	ck_assert_uint_eq(rx_calls, 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_RX], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
}

static struct stack_params params(void)
{
	struct stack_params p;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	return p;
}

/* ---- Input --------------------------------------------------------------- */

START_TEST(test_deliver_udp)
{
	struct stack *s = stack_with_listener(NULL);

	stack_input(s, f, good_udp(), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_RX], 1);
	ck_assert_uint_eq(rx_calls, 1);
	ck_assert_uint_eq(rx_len, 5);
	ck_assert_mem_eq(rx_data, "hello", 5);
	ck_assert_uint_eq(inany_v4(&rx_meta.src), TH_PEER_IP);
	ck_assert_uint_eq(inany_v4(&rx_meta.dst), TH_OUR_IP);
	ck_assert(!rx_meta.broadcast);
	for (int id = STAT_IP4_DROP_SHORT; id <= STAT_IP4_DROP_NO_ROUTE; id++)
		ck_assert_uint_eq(s->stats.v[id], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_deliver_icmp)
{
	struct stack *s = stack_with_listener(NULL);
	struct ip4_hdr ih;
	struct icmp4_hdr h;

	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 1,
					"ping", 4), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_RX], 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_icmp(th_frame(0), th_peer_mac, &ih, &h);
	ck_assert_uint_eq(h.type, ICMP4_ECHO_REPLY);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_version)
{
	struct stack *s = stack_with_listener(NULL);
	size_t n = good_udp();

	f[ETH_HLEN] = 0x65;
	th_ip4_fix_csum(f);
	stack_input(s, f, n, 0);
	f[ETH_HLEN] = 0x05;
	th_ip4_fix_csum(f);
	stack_input(s, f, n, 0);
	expect_dropped(s, STAT_IP4_DROP_VERSION, 2);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_ihl)
{
	struct stack *s = stack_with_listener(NULL);
	size_t n = good_udp();

	/* IHL < 5 (the checksum cannot even be taken over 20 bytes). */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		f[ETH_HLEN] = (uint8_t)(0x40 | ihl);
		stack_input(s, f, n, 0);
	}
	expect_dropped(s, STAT_IP4_DROP_HLEN, 5);
	/* IHL past the frame: 60 bytes of header in a 33-byte datagram. */
	f[ETH_HLEN] = 0x4f;
	stack_input(s, f, n, 0);
	expect_dropped(s, STAT_IP4_DROP_HLEN, 6);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_total_length)
{
	struct stack *s = stack_with_listener(NULL);
	size_t n = good_udp();
	static const uint16_t bad[] = {0, 19, 20 + 8 + 5 + 1, 0xffff};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		good_udp();
		put_be16(f + ETH_HLEN + 2, bad[i]);
		th_ip4_fix_csum(f);
		stack_input(s, f, n, 0);
	}
	expect_dropped(s, STAT_IP4_DROP_LEN, 4);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_short)
{
	struct stack *s = stack_with_listener(NULL);

	good_udp();
	for (size_t len = 0; len < IP4_HLEN; len++)
		stack_input(s, f, ETH_HLEN + len, 0);
	expect_dropped(s, STAT_IP4_DROP_SHORT, IP4_HLEN);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_RX], IP4_HLEN);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_checksum)
{
	struct stack *s = stack_with_listener(NULL);
	size_t n = good_udp();

	f[ETH_HLEN + 10] ^= 0x01;
	stack_input(s, f, n, 0);
	/* A header byte changed without fixing the checksum. */
	good_udp();
	f[ETH_HLEN + 8] = 1; /* TTL */
	stack_input(s, f, n, 0);
	expect_dropped(s, STAT_IP4_DROP_CSUM, 2);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* The good UDP datagram with a 24-byte header carrying opts. */
static size_t udp_with_options(const uint8_t opts[4])
{
	uint8_t seg[UDP_HLEN + 5];
	struct udp_hdr uh = {.sport = 4000, .dport = 7777};
	struct ip4_hdr ih = {
	    .ttl = 64,
	    .proto = IP4_PROTO_UDP,
	    .src = TH_PEER_IP,
	    .dst = TH_OUR_IP,
	};
	size_t n =
	    th_udp_write(seg, TH_PEER_IP, TH_OUR_IP, &uh, "hello", 5, false);

	return th_ip4_frame_opts(f, th_our_mac, th_peer_mac, &ih, opts, 4, seg,
				 n);
}

START_TEST(test_bad_options)
{
	struct stack *s = stack_with_listener(NULL);

	stack_input(s, f, udp_with_options((const uint8_t[]){0x44, 0, 0, 0}),
		    0);
	stack_input(s, f, udp_with_options((const uint8_t[]){0x44, 1, 0, 0}),
		    0);
	stack_input(s, f, udp_with_options((const uint8_t[]){0x44, 5, 0, 0}),
		    0);
	stack_input(s, f, udp_with_options((const uint8_t[]){1, 1, 1, 0x83}),
		    0);
	expect_dropped(s, STAT_IP4_DROP_OPTIONS, 4);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_good_options)
{
	struct stack *s = stack_with_listener(NULL);

	stack_input(s, f, udp_with_options((const uint8_t[]){1, 1, 1, 0}),
		    0);
	stack_input(s, f,
		    udp_with_options((const uint8_t[]){0x94, 4, 0, 0}), 0);
	ck_assert_uint_eq(rx_calls, 2);
	ck_assert_uint_eq(rx_len, 5);
	ck_assert_mem_eq(rx_data, "hello", 5);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_OPTIONS], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_martian_sources)
{
	static const uint32_t src[] = {
	    0x7f000001,	 /* loopback */
	    0xe0000009,	 /* multicast */
	    0xf0000001,	 /* reserved, 240/4 */
	    0xffffffff,	 /* limited broadcast */
	    TH_BCAST_IP, /* our directed broadcast */
	    TH_OUR_IP,	 /* ourselves */
	};
	struct stack *s = stack_with_listener(NULL);
	size_t nsrc = sizeof(src) / sizeof(src[0]);

	for (size_t i = 0; i < nsrc; i++)
		stack_input(s, f, th_udp_frame(f, src[i], TH_OUR_IP, 4000,
					       7777, "x", 1), 0);
	/* An echo request from a martian is not answered either. */
	stack_input(s, f, th_echo_frame(f, 0x7f000001, TH_OUR_IP, 1, 1, "x",
					1), 0);
	expect_dropped(s, STAT_IP4_DROP_SRC, nsrc + 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_source_zero_allowed)
{
	struct stack *s = stack_with_listener(NULL);
	size_t n;

	/* A DHCP client: 0.0.0.0 -> 255.255.255.255, Ethernet broadcast. */
	n = th_udp_frame(f, 0, IP4_BROADCAST, 68, 7777, "discover", 8);
	memcpy(f, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(rx_calls, 1);
	ck_assert_uint_eq(inany_v4(&rx_meta.src), 0);
	ck_assert_uint_eq(inany_v4(&rx_meta.dst), IP4_BROADCAST);
	ck_assert(rx_meta.broadcast);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_SRC], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_not_for_us)
{
	/* Others' addresses, another subnet's broadcast, nobody, and a
	 * multicast group we are not a member of (only 224.0.0.1). */
	static const uint32_t dst[] = {TH_PEER2_IP, 0x0a0001ff, 0x08080808, 0,
				       0xe00000fb};
	struct stack *s = stack_with_listener(NULL);
	size_t ndst = sizeof(dst) / sizeof(dst[0]);

	for (size_t i = 0; i < ndst; i++)
		stack_input(s, f, th_udp_frame(f, TH_PEER_IP, dst[i], 4000,
					       7777, "x", 1), 0);
	expect_dropped(s, STAT_IP4_DROP_NOT_US, ndst);
	/* Our directed broadcast is for us. */
	stack_input(s, f, th_udp_frame(f, TH_PEER_IP, TH_BCAST_IP, 4000, 7777,
				       "x", 1), 0);
	ck_assert_uint_eq(rx_calls, 1);
	ck_assert(rx_meta.broadcast);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unknown_protocol)
{
	struct stack *s = stack_with_listener(NULL);
	struct ip4_hdr ih =
			   {
			       .ttl = 64,
			       .proto = 47, /* GRE */
			       .src = TH_PEER_IP,
			       .dst = TH_OUR_IP,
			       .id = 0x4242,
			   },
		       rih, qih;
	struct icmp4_hdr h;
	struct cur c;
	size_t n =
	    th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, "greetings", 9);

	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_PROTO], 1);
	/* Protocol unreachable, quoting the whole (short) datagram. */
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp(th_frame(0), th_peer_mac, &rih, &h);
	ck_assert_uint_eq(rih.dst, TH_PEER_IP);
	ck_assert_uint_eq(h.type, ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(h.code, ICMP4_UNREACH_PROTO);
	ck_assert_uint_eq(c.len, IP4_HLEN + 9);
	ck_assert_mem_eq(c.p, f + ETH_HLEN, IP4_HLEN + 9);
	ck_assert_int_eq(ip4_hdr_parse(&c, &qih), IP4_OK);
	ck_assert_uint_eq(qih.proto, 47);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_padding_ignored)
{
	struct stack *s = stack_with_listener(NULL);
	size_t n = good_udp();
	struct ip4_hdr ih;
	struct icmp4_hdr h;
	struct cur c;

	/* Link-layer padding after the datagram (a 60-byte minimum frame
	 * and some). */
	memset(f + n, 0xee, 30);
	stack_input(s, f, n + 30, 0);
	ck_assert_uint_eq(rx_calls, 1);
	ck_assert_uint_eq(rx_len, 5);
	ck_assert_mem_eq(rx_data, "hello", 5);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 0);
	/* The echo reply carries the data, not the padding. */
	n = th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 9, 9, "ab", 2);
	memset(f + n, 0xee, 60 - n);
	stack_input(s, f, 60, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp(th_frame(0), th_peer_mac, &ih, &h);
	ck_assert_uint_eq(ih.total_len, IP4_HLEN + ICMP4_HLEN + 2);
	ck_assert_uint_eq(c.len, 2);
	ck_assert_mem_eq(c.p, "ab", 2);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* ---- Output -------------------------------------------------------------- */

START_TEST(test_output_header_fields)
{
	struct stack_params p = params();
	struct stack *s;
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 9};
	struct ip4_hdr a, b;
	struct udp_hdr uh;

	p.ttl = 33;
	s = stack_with_listener(&p);
	ck_assert_int_eq(udp_output(s, 1234, &d, "1", 1), 0);
	ck_assert_int_eq(udp_output(s, 1234, &d, "2", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_expect_udp(th_frame(0), th_peer_mac, &a, &uh);
	th_expect_udp(th_frame(1), th_peer_mac, &b, &uh);
	ck_assert_uint_eq(a.ttl, 33);
	ck_assert_uint_eq(a.tos, 0);
	ck_assert_uint_eq(a.frag, 0);
	ck_assert_uint_eq(a.src, TH_OUR_IP);
	ck_assert_uint_eq(a.dst, TH_PEER_IP);
	/* Every datagram its own identification. */
	ck_assert_uint_eq(b.id, (uint16_t)(a.id + 1));
	ck_assert_uint_eq(s->stats.v[STAT_IP4_TX], 2);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* The identification of one UDP datagram from s to dst. */
static uint16_t id_towards(struct stack *s, uint32_t dst)
{
	struct udp_dst d = {.addr = inany_from_v4(dst), .port = 9};
	struct ip4_hdr ih;
	struct udp_hdr uh;

	th_frames_clear();
	ck_assert_int_eq(udp_output(s, 1234, &d, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_udp(th_frame(0),
		      dst == TH_PEER_IP ? th_peer_mac : th_peer2_mac, &ih, &uh);
	ck_assert_uint_eq(ih.dst, dst);
	return ih.id;
}

/* RFC 7739 5.3: what we send to one destination does not move the IDs we
 * use towards another, and they do not carry on from its sequence. */
START_TEST(test_id_per_destination)
{
	struct stack *s = stack_with_listener(NULL);
	uint16_t a0, a1, b[4];

	th_learn(s, th_peer2_mac, TH_PEER2_IP);
	a0 = id_towards(s, TH_PEER_IP);
	for (size_t i = 0; i < 4; i++)
		b[i] = id_towards(s, TH_PEER2_IP);
	a1 = id_towards(s, TH_PEER_IP);
	/* Each destination its own counter, one step per datagram. */
	ck_assert_uint_eq(a1, (uint16_t)(a0 + 1));
	for (size_t i = 1; i < 4; i++)
		ck_assert_uint_eq(b[i], (uint16_t)(b[i - 1] + 1));
	/* And its own offset: not the next ID of the other destination. */
	ck_assert_uint_ne(b[0], (uint16_t)(a0 + 1));
	ck_assert_uint_ne(a0, (uint16_t)(b[3] + 1));
	th_check_leaks(s, 2);
	th_stack_free(s);
}
END_TEST

/* The IDs of n datagrams to each of two destinations, alternating, from a
 * stack made with secrets k. */
static void ids_with(const struct stack_secrets *k, uint16_t *ids, size_t n)
{
	struct stack *s = th_stack_new_keyed(NULL, k);

	th_learn(s, th_peer_mac, TH_PEER_IP);
	th_learn(s, th_peer2_mac, TH_PEER2_IP);
	for (size_t i = 0; i < n; i++)
		ids[i] = id_towards(s, i % 2 ? TH_PEER2_IP : TH_PEER_IP);
	th_check_leaks(s, 2);
	th_stack_free(s);
}

/* The IDs are a function of the ip_id key (and the traffic): the same key
 * gives the same IDs, another key others. */
START_TEST(test_id_keyed)
{
	struct stack_secrets k = th_secrets;
	uint16_t a[8], b[8], c[8];
	size_t same = 0;

	ids_with(&th_secrets, a, 8);
	ids_with(&th_secrets, b, 8);
	ck_assert_mem_eq(a, b, sizeof(a));
	k.ip_id_key[7] ^= 0x01;
	ids_with(&k, c, 8);
	for (size_t i = 0; i < 8; i++)
		same += a[i] == c[i];
	ck_assert_uint_eq(same, 0);
}
END_TEST

/* Send len bytes of pattern over UDP; check that the frames are a correct
 * fragmentation for the MTU and that putting them back together gives the
 * datagram.  Returns the number of fragments. */
static size_t send_and_reassemble(struct stack *s, size_t len, unsigned mtu)
{
	static uint8_t data[UDP_MAX_PAYLOAD], whole[IP4_MAX_LEN];
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 9};
	size_t nfrag, got = 0;
	uint16_t id = 0;
	struct udp_hdr uh;
	struct cur c;

	th_frames_clear();
	th_pattern(data, len, (unsigned)len);
	ck_assert_int_eq(udp_output(s, 1234, &d, data, len), 0);
	nfrag = th_frame_count();
	ck_assert_uint_ge(nfrag, 1);
	for (size_t i = 0; i < nfrag; i++) {
		struct ip4_hdr ih;
		struct cur pc = th_expect_ip4(th_frame(i), th_peer_mac, &ih);
		bool last = i == nfrag - 1;

		ck_assert_uint_le(ih.total_len, mtu);
		ck_assert_uint_eq(ih.proto, IP4_PROTO_UDP);
		if (i == 0)
			id = ih.id;
		ck_assert_uint_eq(ih.id, id);
		/* In order, no gap, no overlap. */
		ck_assert_uint_eq((size_t)(ih.frag & IP4_OFF_MASK) * 8, got);
		ck_assert_uint_eq(ih.frag & IP4_FLAG_DF, 0);
		ck_assert_uint_eq(!!(ih.frag & IP4_FLAG_MF), !last);
		if (!last) {
			/* As big as the MTU allows, in 8-byte units. */
			ck_assert_uint_eq(pc.len % 8, 0);
			ck_assert_uint_eq(pc.len,
					  (size_t)(mtu - IP4_HLEN) & ~7u);
		}
		memcpy(whole + got, pc.p, pc.len);
		got += pc.len;
	}
	ck_assert_uint_eq(got, UDP_HLEN + len);
	c = cur_make(whole, got);
	ck_assert(udp_hdr_parse(&c, &uh));
	ck_assert_uint_eq(uh.len, UDP_HLEN + len);
	ck_assert_uint_eq(uh.sport, 1234);
	ck_assert_uint_eq(uh.dport, 9);
	ck_assert_uint_eq(
	    csum_fold(csum_partial(
		whole, got,
		csum_pseudo4(TH_OUR_IP, TH_PEER_IP, IP4_PROTO_UDP, uh.len))),
	    0);
	ck_assert_uint_eq(c.len, len);
	ck_assert_mem_eq(c.p, data, len);
	return nfrag;
}

START_TEST(test_output_fragmentation)
{
	struct stack *s = stack_with_listener(NULL);
	struct ip4_hdr ih;

	/* 4000 + 8 bytes over 1480-byte pieces: 1480, 1480, 1048. */
	ck_assert_uint_eq(send_and_reassemble(s, 4000, 1500), 3);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_FRAG_TX], 3);
	th_expect_ip4(th_frame(0), th_peer_mac, &ih);
	ck_assert_uint_eq(ih.total_len, 1500);
	ck_assert_uint_eq(ih.frag, IP4_FLAG_MF | 0);
	th_expect_ip4(th_frame(1), th_peer_mac, &ih);
	ck_assert_uint_eq(ih.total_len, 1500);
	ck_assert_uint_eq(ih.frag, IP4_FLAG_MF | 185);
	th_expect_ip4(th_frame(2), th_peer_mac, &ih);
	ck_assert_uint_eq(ih.total_len, IP4_HLEN + 1048);
	ck_assert_uint_eq(ih.frag, 370);
	/* Exactly the MTU is not fragmented; one byte more is. */
	ck_assert_uint_eq(send_and_reassemble(s, 1472, 1500), 1);
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + 1500);
	ck_assert_uint_eq(send_and_reassemble(s, 1473, 1500), 2);
	th_expect_ip4(th_frame(1), th_peer_mac, &ih);
	ck_assert_uint_eq(ih.total_len, IP4_HLEN + 1);
	/* The largest UDP datagram. */
	ck_assert_uint_eq(send_and_reassemble(s, UDP_MAX_PAYLOAD, 1500), 45);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_fragmentation_small_mtu)
{
	struct stack_params p = params();
	struct stack *s;

	p.mtu = 576;
	s = stack_with_listener(&p);
	/* 552-byte pieces (556 rounded down to a multiple of 8). */
	ck_assert_uint_eq(send_and_reassemble(s, 2000, 576), 4);
	ck_assert_uint_eq(send_and_reassemble(s, 548, 576), 1);
	ck_assert_uint_eq(send_and_reassemble(s, 549, 576), 2);
	p.mtu = 68; /* the RFC 791 minimum: 48-byte pieces */
	stack_update(s, &p);
	ck_assert_uint_eq(send_and_reassemble(s, 100, 68), 3);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_route_via_gateway)
{
	struct stack_params p = params();
	struct stack *s;
	struct udp_dst d = {.addr = inany_from_v4(0x08080808), .port = 53};
	struct ip4_hdr ih;
	struct udp_hdr uh;
	struct arp_hdr a;
	struct cur c;

	p.gateway = TH_GW_IP;
	s = stack_with_listener(&p);
	ck_assert_int_eq(udp_output(s, 5353, &d, "query", 5), 0);
	/* The gateway is resolved, not the destination. */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_bcast_mac, &a);
	ck_assert_uint_eq(a.tpa, TH_GW_IP);
	th_frames_clear();
	stack_input(s, f, th_arp_reply(f, th_gw_mac, TH_GW_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_udp(th_frame(0), th_gw_mac, &ih, &uh);
	ck_assert_uint_eq(ih.dst, 0x08080808);
	ck_assert_uint_eq(ih.src, TH_OUR_IP);
	ck_assert_mem_eq(c.p, "query", 5);
	/* On-link destinations still go direct. */
	d.addr = inany_from_v4(TH_PEER_IP);
	ck_assert_int_eq(udp_output(s, 5353, &d, "direct", 6), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_expect_udp(th_frame(1), th_peer_mac, &ih, &uh);
	/* An echo from far away is answered through the gateway. */
	stack_input(s, f, th_echo_frame(f, 0x01020304, TH_OUR_IP, 1, 1, "x",
					1), 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	th_expect_ip4(th_frame(2), th_gw_mac, &ih);
	ck_assert_uint_eq(ih.dst, 0x01020304);
	th_check_leaks(s, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_route)
{
	struct stack *s = stack_with_listener(NULL);
	struct udp_dst d = {.addr = inany_from_v4(0x08080808), .port = 53};

	ck_assert_int_eq(udp_output(s, 5353, &d, "query", 5), -EHOSTUNREACH);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_NO_ROUTE], 1);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX_ERR], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* Nothing was queued for resolution. */
	ck_assert_uint_eq(s->arp.used, 1);
	/* An echo from off-link cannot be answered. */
	stack_input(s, f, th_echo_frame(f, 0x01020304, TH_OUR_IP, 1, 1, "x",
					1), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_NO_ROUTE], 2);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

static Suite *ip4_suite(void)
{
	Suite *su = suite_create("ip4");
	TCase *tc;

	tc = tcase_create("input");
	tcase_add_test(tc, test_deliver_udp);
	tcase_add_test(tc, test_deliver_icmp);
	tcase_add_test(tc, test_bad_version);
	tcase_add_test(tc, test_bad_ihl);
	tcase_add_test(tc, test_bad_total_length);
	tcase_add_test(tc, test_short);
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_good_options);
	tcase_add_test(tc, test_martian_sources);
	tcase_add_test(tc, test_source_zero_allowed);
	tcase_add_test(tc, test_not_for_us);
	tcase_add_test(tc, test_unknown_protocol);
	tcase_add_test(tc, test_padding_ignored);
	suite_add_tcase(su, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_output_header_fields);
	tcase_add_test(tc, test_id_per_destination);
	tcase_add_test(tc, test_id_keyed);
	tcase_add_test(tc, test_output_fragmentation);
	tcase_add_test(tc, test_output_fragmentation_small_mtu);
	tcase_add_test(tc, test_route_via_gateway);
	tcase_add_test(tc, test_no_route);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(ip4_suite());
}
