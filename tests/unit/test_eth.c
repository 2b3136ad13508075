/* Ethernet (eth.c): what is accepted, what is dropped and counted why, and
 * the header prepended on output. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

static uint8_t f[TH_FRAME_MAX];

/* An ARP request for us, sent to dst. */
static size_t arp_for_us(const uint8_t *dst, const uint8_t *src)
{
	struct arp_hdr a = {
	    .htype = ARP_HTYPE_ETHER,
	    .ptype = ETH_TYPE_IP4,
	    .hlen = ETH_ALEN,
	    .plen = 4,
	    .op = ARP_OP_REQUEST,
	    .spa = TH_PEER_IP,
	    .tpa = TH_OUR_IP,
	};
	size_t n;

	memcpy(a.sha, th_peer_mac, ETH_ALEN);
	n = th_arp_frame(f, dst, &a);
	/* The Ethernet source may differ from the ARP sender. */
	memcpy(f + 6, src, ETH_ALEN);
	return n;
}

static void expect_no_drops(const struct stack *s)
{
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_SHORT], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_NOT_US], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_BAD_SRC], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_TYPE], 0);
}

START_TEST(test_accept_own_mac)
{
	struct stack *s = th_stack_new(NULL);
	struct arp_hdr a;

	stack_input(s, f, arp_for_us(th_our_mac, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 1);
	expect_no_drops(s);
	/* Handed to ARP, which answered. */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_peer_mac, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REPLY);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX], 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_accept_broadcast)
{
	struct stack *s = th_stack_new(NULL);
	struct arp_hdr a;

	stack_input(s, f, arp_for_us(th_bcast_mac, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 1);
	expect_no_drops(s);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_peer_mac, &a);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_padding_accepted)
{
	struct stack *s = th_stack_new(NULL);
	size_t n = arp_for_us(th_bcast_mac, th_peer_mac);

	/* Padded to the 60-byte minimum with junk. */
	memset(f + n, 0xa5, 60 - n);
	stack_input(s, f, 60, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REPLY], 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_drop_other_unicast)
{
	struct stack *s = th_stack_new(NULL);

	stack_input(s, f, arp_for_us(th_other_mac, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_NOT_US], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_drop_other_multicast)
{
	static const uint8_t mdns[ETH_ALEN] = {0x01, 0x00, 0x5e, 0, 0, 0xfb};
	static const uint8_t v6[ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 1};
	struct stack *s = th_stack_new(NULL);

	stack_input(s, f, arp_for_us(mdns, th_peer_mac), 0);
	stack_input(s, f, arp_for_us(v6, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_NOT_US], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

static unsigned udp_calls;
static struct udp_meta udp_meta;

static void udp_count(void *arg, const struct udp_meta *m, const uint8_t *data,
		      size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	udp_meta = *m;
	udp_calls++;
}

START_TEST(test_accept_all_hosts)
{
	static const uint8_t all_hosts[ETH_ALEN] = {0x01, 0x00, 0x5e,
						    0x00, 0x00, 0x01};
	struct stack *s = th_stack_new(NULL);
	struct udp_binding b = {.port = 5000, .fn = udp_count};
	size_t n;

	udp_calls = 0;
	ck_assert_int_eq(udp_bind(s, &b), 0);
	/* UDP to 224.0.0.1 on 01:00:5e:00:00:01, the group we are in. */
	n = th_udp_frame(f, TH_PEER_IP, 0xe0000001, 4000, 5000, "hi", 2);
	memcpy(f, all_hosts, ETH_ALEN);
	stack_input(s, f, n, 0);
	expect_no_drops(s);
	ck_assert_uint_eq(udp_calls, 1);
	ck_assert(udp_meta.broadcast);
	ck_assert_uint_eq(inany_v4(&udp_meta.dst), 0xe0000001);
	th_stack_free(s);
}
END_TEST

START_TEST(test_short_frames)
{
	struct stack *s = th_stack_new(NULL);
	size_t n = arp_for_us(th_bcast_mac, th_peer_mac);

	ck_assert_uint_eq(n, ETH_HLEN + ARP_LEN);
	for (size_t len = 0; len < ETH_HLEN; len++)
		stack_input(s, f, len, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_RX], ETH_HLEN);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_SHORT], ETH_HLEN);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 0);
	/* A whole header and nothing after it is handed up, where the next
	 * layer finds it short. */
	stack_input(s, f, ETH_HLEN, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_SHORT], ETH_HLEN);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_MALFORMED], 1);
	th_eth(f, th_our_mac, th_peer_mac, ETH_TYPE_IP4);
	stack_input(s, f, ETH_HLEN, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_DROP_SHORT], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_multicast_source)
{
	static const uint8_t mc_src[ETH_ALEN] = {0x01, 0x00, 0x5e, 0, 0, 1};
	static const uint8_t odd_src[ETH_ALEN] = {0x03, 0, 0, 0, 0, 1};
	struct stack *s = th_stack_new(NULL);

	stack_input(s, f, arp_for_us(th_our_mac, mc_src), 0);
	stack_input(s, f, arp_for_us(th_bcast_mac, th_bcast_mac), 0);
	stack_input(s, f, arp_for_us(th_our_mac, odd_src), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_RX], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_BAD_SRC], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unknown_ethertype)
{
	static const uint16_t types[] = {
	    ETH_TYPE_VLAN, 0x88cc, 0x0040 /* an 802.3 length */,
	    ETH_TYPE_MIN, 0xffff,	 0};
	struct stack *s = th_stack_new(NULL);
	size_t n = arp_for_us(th_our_mac, th_peer_mac);
	size_t ntypes = sizeof(types) / sizeof(types[0]);

	for (size_t i = 0; i < ntypes; i++) {
		put_be16(f + 12, types[i]);
		stack_input(s, f, n, 0);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ETH_RX], ntypes);
	ck_assert_uint_eq(s->stats.v[STAT_ETH_DROP_TYPE], ntypes);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

static struct pbuf pb;

START_TEST(test_output_header)
{
	static const uint8_t expect[] = {
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* dst: the peer */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* src: us */
	    0x88, 0xb5,				/* type */
	    'p',  'a',	'y',  'l',  'o',  'a',	'd',
	};
	struct stack *s = th_stack_new(NULL);

	pbuf_reset(&pb);
	memcpy(pbuf_put(&pb, 7), "payload", 7);
	ck_assert_int_eq(eth_output(s, th_peer_mac, 0x88b5, &pb, NULL), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->len, sizeof(expect));
	ck_assert_mem_eq(th_frame(0)->data, expect, sizeof(expect));
	ck_assert_uint_eq(s->stats.v[STAT_ETH_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX_ERR], 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_output_link_error)
{
	struct stack_params p;
	struct stack *s;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	p.ipv6 = false; /* announcing sends ARP alone */
	s = th_stack_new(&p);

	th_link_fail(-EAGAIN);
	pbuf_reset(&pb);
	memcpy(pbuf_put(&pb, 4), "data", 4);
	ck_assert_int_eq(eth_output(s, th_peer_mac, ETH_TYPE_IP4, &pb, NULL),
			 -EAGAIN);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX_ERR], 1);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* The stack's own sends count it too and go on. */
	stack_announce(s);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX_ERR], 2);
	th_link_fail(0);
	stack_announce(s);
	ck_assert_uint_eq(s->stats.v[STAT_LINK_TX], 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_stack_free(s);
}
END_TEST

static Suite *eth_suite(void)
{
	Suite *su = suite_create("eth");
	TCase *tc = tcase_create("input");

	tcase_add_test(tc, test_accept_own_mac);
	tcase_add_test(tc, test_accept_broadcast);
	tcase_add_test(tc, test_padding_accepted);
	tcase_add_test(tc, test_drop_other_unicast);
	tcase_add_test(tc, test_drop_other_multicast);
	tcase_add_test(tc, test_accept_all_hosts);
	tcase_add_test(tc, test_short_frames);
	tcase_add_test(tc, test_multicast_source);
	tcase_add_test(tc, test_unknown_ethertype);
	suite_add_tcase(su, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, test_output_header);
	tcase_add_test(tc, test_output_link_error);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(eth_suite());
}
