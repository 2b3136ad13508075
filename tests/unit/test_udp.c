/* UDP (udp.c): checksums, demultiplexing to bound ports, unreachable
 * ports, and output (routed, straight to a MAC, broadcast, size limits). */
#include "helpers.h"

#include <errno.h>
#include <string.h>

static uint8_t f[TH_FRAME_MAX];

/* ---- Recording listeners ------------------------------------------------- */

struct rec {
	struct udp_binding b;
	unsigned calls;
	struct udp_meta meta;
	uint8_t data[IP4_MAX_LEN];
	size_t len;
	void *arg_seen;
	struct stack *echo_to; /* non-NULL: send the data back from here */
};

static void rec_fn(void *arg, const struct udp_meta *m, const uint8_t *data,
		   size_t len)
{
	struct rec *r = arg;

	r->calls++;
	r->arg_seen = arg;
	r->meta = *m;
	memcpy(r->data, data, len);
	r->len = len;
	if (r->echo_to) {
		struct udp_dst d = {.addr = m->src, .port = m->src_port};

		ck_assert_int_eq(
		    udp_output(r->echo_to, m->dst_port, &d, data, len), 0);
	}
}

static void rec_init(struct rec *r, uint16_t port)
{
	memset(r, 0, sizeof(*r));
	r->b.port = port;
	r->b.fn = rec_fn;
	r->b.arg = r;
}

static struct rec r1, r2;

static struct stack *new_stack(const struct stack_params *p)
{
	struct stack *s = th_stack_new(p);

	rec_init(&r1, 7777);
	rec_init(&r2, 7777 + 64); /* the same hash bucket */
	ck_assert_int_eq(udp_bind(s, &r1.b), 0);
	ck_assert_int_eq(udp_bind(s, &r2.b), 0);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	return s;
}

/* A UDP frame from the peer whose datagram is the given header and data,
 * with the checksum computed (or left zero). */
static size_t udp_frame(uint16_t dport, const void *data, size_t len,
			bool csum_zero)
{
	static uint8_t seg[IP4_MAX_LEN];
	struct udp_hdr h = {.sport = 4000, .dport = dport};
	struct ip4_hdr ih = {
	    .ttl = 64,
	    .proto = IP4_PROTO_UDP,
	    .src = TH_PEER_IP,
	    .dst = TH_OUR_IP,
	};
	size_t n =
	    th_udp_write(seg, TH_PEER_IP, TH_OUR_IP, &h, data, len, csum_zero);

	return th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, seg, n);
}

#define UDP_OFF (ETH_HLEN + IP4_HLEN) /* the UDP header in a frame */

/* ---- Input --------------------------------------------------------------- */

START_TEST(test_checksum_valid)
{
	struct stack *s = new_stack(NULL);

	stack_input(s, f, udp_frame(7777, "valid", 5, false), 0);
	ck_assert_uint_ne(be16(f + UDP_OFF + 6), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(r1.len, 5);
	ck_assert_mem_eq(r1.data, "valid", 5);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_checksum_invalid)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	n = udp_frame(7777, "valid", 5, false);
	f[n - 1] ^= 0x01; /* data */
	stack_input(s, f, n, 0);
	n = udp_frame(7777, "valid", 5, false);
	f[UDP_OFF + 1] ^= 0x40; /* source port */
	stack_input(s, f, n, 0);
	/* The pseudo-header counts: the same segment to another address
	 * of ours would not verify (here: a changed IP source). */
	n = udp_frame(7777, "valid", 5, false);
	put_be32(f + ETH_HLEN + 12, TH_PEER2_IP);
	th_ip4_fix_csum(f);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 3);
	ck_assert_uint_eq(r1.calls, 0);
	/* Dropped silently: no port unreachable for a corrupt datagram. */
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* A frame the link vouches for (a TAP's virtio-net header says the kernel
 * checked the checksum, or left it unfinished for a frame it made itself)
 * is not checked again: its checksum field may hold only the pseudo-header
 * sum.  The same frame through the plain path is dropped. */
START_TEST(test_checksum_link_vouched)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	n = udp_frame(7777, "valid", 5, false);
	put_be16(f + UDP_OFF + 6, 0x1234); /* not the sum of anything */
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 1);
	ck_assert_uint_eq(r1.calls, 0);
	stack_input(s, f, n, STACK_RX_CSUM_OK);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_mem_eq(r1.data, "valid", 5);
	/* Only for that frame: the next one is checked again. */
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 2);
	ck_assert_uint_eq(r1.calls, 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_checksum_zero)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	/* Zero: the sender did not compute one; accepted as is. */
	n = udp_frame(7777, "nosum", 5, true);
	ck_assert_uint_eq(be16(f + UDP_OFF + 6), 0);
	f[n - 1] = '!';
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_mem_eq(r1.data, "nosu!", 5);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_CSUM], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* Two data bytes that make the UDP checksum of (src, dst, sport, dport,
 * data) come out as zero before the 0 -> 0xffff rule. */
static void zero_sum_data(uint8_t *data, size_t len, uint32_t src, uint32_t dst,
			  uint16_t sport, uint16_t dport)
{
	uint8_t seg[UDP_HLEN + 64];
	struct udp_hdr h = {.sport = sport, .dport = dport};
	uint16_t folded, total = (uint16_t)(UDP_HLEN + len);

	ck_assert_uint_le(len, 64);
	ck_assert_uint_eq(len % 2, 0);
	data[len - 2] = data[len - 1] = 0;
	th_udp_write(seg, src, dst, &h, data, len, true);
	/* The one's complement sum without the last word, and the word
	 * that completes it to 0xffff. */
	folded = (uint16_t)~csum_fold(csum_partial(
	    seg, total, csum_pseudo4(src, dst, IP4_PROTO_UDP, total)));
	put_be16(data + len - 2, (uint16_t)~folded);
}

START_TEST(test_checksum_ffff)
{
	struct stack *s = new_stack(NULL);
	uint8_t data[8] = "sum0..";
	size_t n;

	/* A datagram whose checksum computes to 0 is sent with 0xffff;
	 * it must verify. */
	zero_sum_data(data, sizeof(data), TH_PEER_IP, TH_OUR_IP, 4000, 7777);
	n = udp_frame(7777, data, sizeof(data), false);
	ck_assert_uint_eq(be16(f + UDP_OFF + 6), 0xffff);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_mem_eq(r1.data, data, sizeof(data));
	/* And we send such a datagram with 0xffff too. */
	zero_sum_data(data, sizeof(data), TH_OUR_IP, TH_PEER_IP, 5555, 6666);
	{
		struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP),
				    .port = 6666};
		struct ip4_hdr ih;
		struct udp_hdr uh;

		ck_assert_int_eq(udp_output(s, 5555, &d, data, sizeof(data)),
				 0);
		th_expect_udp(th_frame(0), th_peer_mac, &ih, &uh);
		ck_assert_uint_eq(uh.csum, 0xffff);
	}
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_demux)
{
	struct stack *s = new_stack(NULL);

	stack_input(s, f, udp_frame(7777, "to one", 6, false), 0);
	stack_input(s, f, udp_frame(7777 + 64, "to two", 6, false), 0);
	stack_input(s, f, udp_frame(7777 + 64, "two again", 9, false), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(r1.len, 6);
	ck_assert_mem_eq(r1.data, "to one", 6);
	ck_assert_ptr_eq(r1.arg_seen, &r1);
	ck_assert_uint_eq(r2.calls, 2);
	ck_assert_uint_eq(r2.len, 9);
	ck_assert_mem_eq(r2.data, "two again", 9);
	ck_assert_ptr_eq(r2.arg_seen, &r2);
	/* The metadata of what arrived. */
	ck_assert_uint_eq(inany_v4(&r1.meta.src), TH_PEER_IP);
	ck_assert_uint_eq(inany_v4(&r1.meta.dst), TH_OUR_IP);
	ck_assert_uint_eq(r1.meta.src_port, 4000);
	ck_assert_uint_eq(r1.meta.dst_port, 7777);
	ck_assert_mem_eq(r1.meta.src_mac, th_peer_mac, ETH_ALEN);
	ck_assert(!r1.meta.broadcast);
	ck_assert_uint_eq(r2.meta.dst_port, 7777 + 64);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_RX], 3);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_meta_broadcast)
{
	struct stack *s = new_stack(NULL);
	struct ip4_hdr ih = {
	    .ttl = 64,
	    .proto = IP4_PROTO_UDP,
	    .src = TH_PEER_IP,
	    .dst = TH_BCAST_IP,
	};
	uint8_t seg[UDP_HLEN + 4];
	struct udp_hdr h = {.sport = 137, .dport = 7777};

	th_udp_write(seg, TH_PEER_IP, TH_BCAST_IP, &h, "bcst", 4, false);
	stack_input(s, f, th_ip4_frame(f, th_bcast_mac, th_peer_mac, &ih, seg,
				       sizeof(seg)), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert(r1.meta.broadcast);
	ck_assert_uint_eq(inany_v4(&r1.meta.dst), TH_BCAST_IP);
	ck_assert_uint_eq(r1.meta.src_port, 137);
	th_stack_free(s);
}
END_TEST

START_TEST(test_empty_datagram)
{
	struct stack *s = new_stack(NULL);

	stack_input(s, f, udp_frame(7777, NULL, 0, false), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(r1.len, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_lengths)
{
	struct stack *s = new_stack(NULL);
	size_t n;

	/* UDP length field below 8, and past the IP payload. */
	n = udp_frame(7777, "abcdef", 6, true);
	put_be16(f + UDP_OFF + 4, 7);
	stack_input(s, f, n, 0);
	put_be16(f + UDP_OFF + 4, 0);
	stack_input(s, f, n, 0);
	put_be16(f + UDP_OFF + 4, UDP_HLEN + 7);
	stack_input(s, f, n, 0);
	/* An IP payload too short for the header. */
	{
		struct ip4_hdr ih = {
		    .ttl = 64,
		    .proto = IP4_PROTO_UDP,
		    .src = TH_PEER_IP,
		    .dst = TH_OUR_IP,
		};

		stack_input(s, f, th_ip4_frame(f, th_our_mac, th_peer_mac, &ih,
					       "\x1f\x40\x1e\x61\x00\x08\x00",
					       7), 0);
	}
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_SHORT], 4);
	ck_assert_uint_eq(r1.calls, 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* A UDP length shorter than the IP payload: the rest is ignored. */
	n = udp_frame(7777, "abcdef", 6, true);
	put_be16(f + UDP_OFF + 4, UDP_HLEN + 4);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(r1.len, 4);
	ck_assert_mem_eq(r1.data, "abcd", 4);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bind_errors)
{
	struct stack *s = new_stack(NULL);
	struct rec dup, zero;

	rec_init(&dup, 7777);
	ck_assert_int_eq(udp_bind(s, &dup.b), -EADDRINUSE);
	rec_init(&zero, 0);
	ck_assert_int_eq(udp_bind(s, &zero.b), -EINVAL);
	/* The first binding still gets the traffic. */
	stack_input(s, f, udp_frame(7777, "mine", 4, false), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(dup.calls, 0);
	/* Unbinding something never bound changes nothing. */
	udp_unbind(s, &dup.b);
	stack_input(s, f, udp_frame(7777, "mine", 4, false), 0);
	ck_assert_uint_eq(r1.calls, 2);
	/* Once the port is free it can be bound again. */
	udp_unbind(s, &r1.b);
	ck_assert_int_eq(udp_bind(s, &dup.b), 0);
	stack_input(s, f, udp_frame(7777, "new", 3, false), 0);
	ck_assert_uint_eq(dup.calls, 1);
	ck_assert_uint_eq(r1.calls, 2);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unbind_then_closed)
{
	struct stack *s = new_stack(NULL);
	struct ip4_hdr ih;
	struct icmp4_hdr h;
	struct cur c;
	size_t n;

	/* Unbind the second of a bucket's chain; the first stays. */
	udp_unbind(s, &r2.b);
	n = udp_frame(7777 + 64, "gone", 4, false);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(r2.calls, 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_NO_PORT], 1);
	/* A closed port: port unreachable quoting the datagram. */
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp(th_frame(0), th_peer_mac, &ih, &h);
	ck_assert_uint_eq(h.type, ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(h.code, ICMP4_UNREACH_PORT);
	ck_assert_uint_eq(c.len, n - ETH_HLEN);
	ck_assert_mem_eq(c.p, f + ETH_HLEN, n - ETH_HLEN);
	stack_input(s, f, udp_frame(7777, "here", 4, false), 0);
	ck_assert_uint_eq(r1.calls, 1);
	udp_unbind(s, &r1.b);
	stack_input(s, f, udp_frame(7777, "gone", 4, false), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_DROP_NO_PORT], 2);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_reply_from_callback)
{
	struct stack *s = new_stack(NULL);
	struct ip4_hdr ih;
	struct udp_hdr uh;
	struct cur c;

	r1.echo_to = s;
	stack_input(s, f, udp_frame(7777, "echo me", 7, false), 0);
	ck_assert_uint_eq(r1.calls, 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_udp(th_frame(0), th_peer_mac, &ih, &uh);
	ck_assert_uint_eq(uh.sport, 7777);
	ck_assert_uint_eq(uh.dport, 4000);
	ck_assert_uint_eq(c.len, 7);
	ck_assert_mem_eq(c.p, "echo me", 7);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* ---- Output -------------------------------------------------------------- */

START_TEST(test_output)
{
	struct stack *s = new_stack(NULL);
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 53};
	struct ip4_hdr ih;
	struct udp_hdr uh;
	struct cur c;

	ck_assert_int_eq(udp_output(s, 5353, &d, "question", 8), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->len, ETH_HLEN + IP4_HLEN + UDP_HLEN + 8);
	c = th_expect_udp(th_frame(0), th_peer_mac, &ih, &uh);
	ck_assert_uint_eq(ih.src, TH_OUR_IP);
	ck_assert_uint_eq(ih.dst, TH_PEER_IP);
	ck_assert_uint_eq(uh.sport, 5353);
	ck_assert_uint_eq(uh.dport, 53);
	ck_assert_uint_eq(uh.len, UDP_HLEN + 8);
	ck_assert_mem_eq(c.p, "question", 8);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX], 1);
	/* A chosen source address is used, and summed. */
	d.src = inany_from_v4(0x0a000063);
	ck_assert_int_eq(udp_output(s, 5353, &d, "again", 5), 0);
	th_expect_udp(th_frame(1), th_peer_mac, &ih, &uh);
	ck_assert_uint_eq(ih.src, 0x0a000063);
	/* Nothing at all is fine. */
	d.src = inany_from_v4(0);
	ck_assert_int_eq(udp_output(s, 5353, &d, NULL, 0), 0);
	c = th_expect_udp(th_frame(2), th_peer_mac, &ih, &uh);
	ck_assert_uint_eq(uh.len, UDP_HLEN);
	ck_assert_uint_eq(c.len, 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_to_mac)
{
	struct stack *s = th_stack_new(NULL);
	struct udp_dst d = {
	    .addr = inany_from_v4(0x0a000032), /* 10.0.0.50, never resolved */
	    .port = 68,
	    .mac = th_other_mac,
	};
	struct ip4_hdr ih;
	struct udp_hdr uh;
	struct cur c;

	/* A DHCP server's offer: straight to the client's MAC. */
	ck_assert_int_eq(udp_output(s, 67, &d, "offer", 5), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_udp(th_frame(0), th_other_mac, &ih, &uh);
	ck_assert_uint_eq(ih.dst, 0x0a000032);
	ck_assert_mem_eq(c.p, "offer", 5);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 0);
	ck_assert_uint_eq(s->arp.used, 0);
	/* Not routed either: off-link with no gateway still goes. */
	d.addr = inany_from_v4(0xc0a80105);
	ck_assert_int_eq(udp_output(s, 67, &d, "offer", 5), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_expect_udp(th_frame(1), th_other_mac, &ih, &uh);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_NO_ROUTE], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_broadcast)
{
	struct stack *s = th_stack_new(NULL);
	struct udp_dst d = {.addr = inany_from_v4(IP4_BROADCAST), .port = 68};
	struct ip4_hdr ih;
	struct udp_hdr uh;

	ck_assert_int_eq(udp_output(s, 67, &d, "ack", 3), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_udp(th_frame(0), th_bcast_mac, &ih, &uh);
	ck_assert_uint_eq(ih.dst, IP4_BROADCAST);
	/* The directed broadcast too. */
	d.addr = inany_from_v4(TH_BCAST_IP);
	ck_assert_int_eq(udp_output(s, 67, &d, "ack", 3), 0);
	th_expect_udp(th_frame(1), th_bcast_mac, &ih, &uh);
	ck_assert_uint_eq(ih.dst, TH_BCAST_IP);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_sizes)
{
	static uint8_t big[UDP_MAX_PAYLOAD + 1];
	struct stack *s = th_stack_new(NULL);
	struct udp_dst d = {.addr = inany_from_v4(IP4_BROADCAST), .port = 9};

	ck_assert_uint_eq(UDP_MAX_PAYLOAD, 65507);
	ck_assert_int_eq(udp_output(s, 9, &d, big, 65508), -EMSGSIZE);
	ck_assert_int_eq(udp_output(s, 9, &d, big, 100000), -EMSGSIZE);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX_ERR], 2);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* The largest goes, in fragments. */
	ck_assert_int_eq(udp_output(s, 9, &d, big, 65507), 0);
	ck_assert_uint_eq(th_frame_count(), 45);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX_ERR], 2);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_invalid)
{
	struct stack *s = th_stack_new(NULL);
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 0};

	ck_assert_int_eq(udp_output(s, 9, &d, "x", 1), -EINVAL);
	d.port = 9;
	d.addr = inany_from_v4(0);
	ck_assert_int_eq(udp_output(s, 9, &d, "x", 1), -EINVAL);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX_ERR], 2);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_link_error)
{
	struct stack *s = new_stack(NULL);
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 9};

	th_link_fail(-ENOBUFS);
	ck_assert_int_eq(udp_output(s, 9, &d, "x", 1), -ENOBUFS);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX_ERR], 1);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX_ERR], 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

static Suite *udp_suite(void)
{
	Suite *su = suite_create("udp");
	TCase *tc;

	tc = tcase_create("input");
	tcase_add_test(tc, test_checksum_valid);
	tcase_add_test(tc, test_checksum_invalid);
	tcase_add_test(tc, test_checksum_link_vouched);
	tcase_add_test(tc, test_checksum_zero);
	tcase_add_test(tc, test_checksum_ffff);
	tcase_add_test(tc, test_demux);
	tcase_add_test(tc, test_meta_broadcast);
	tcase_add_test(tc, test_empty_datagram);
	tcase_add_test(tc, test_bad_lengths);
	tcase_add_test(tc, test_bind_errors);
	tcase_add_test(tc, test_unbind_then_closed);
	tcase_add_test(tc, test_reply_from_callback);
	suite_add_tcase(su, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_output);
	tcase_add_test(tc, test_output_to_mac);
	tcase_add_test(tc, test_output_broadcast);
	tcase_add_test(tc, test_output_sizes);
	tcase_add_test(tc, test_output_invalid);
	tcase_add_test(tc, test_output_link_error);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(udp_suite());
}
