/* ARP (arp.c): answering for our address, resolving next hops with a
 * bounded queue, retries, expiry, conflicts, announcements, and a cache
 * that unsolicited traffic cannot fill. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

static uint8_t f[TH_FRAME_MAX];

static struct stack_params params(void)
{
	struct stack_params p;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	p.ipv6 = false; /* only ARP on the wire */
	return p;
}

/* Send a small UDP datagram to ip through ARP; returns udp_output(). */
static int send_to(struct stack *s, uint32_t ip, const char *data)
{
	struct udp_dst d = {.addr = inany_from_v4(ip), .port = 9};

	return udp_output(s, 4000, &d, data, strlen(data));
}

/* Assert fr is our broadcast (or unicast to eth_dst) request for tpa. */
static void expect_request(const struct th_frame *fr, const uint8_t *eth_dst,
			   uint32_t tpa)
{
	struct arp_hdr a;

	th_expect_arp(fr, eth_dst, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REQUEST);
	ck_assert_mem_eq(a.sha, th_our_mac, ETH_ALEN);
	ck_assert_uint_eq(a.spa, TH_OUR_IP);
	ck_assert_mem_eq(a.tha, th_zero_mac, ETH_ALEN);
	ck_assert_uint_eq(a.tpa, tpa);
}

static void expect_cached(struct stack *s, uint32_t ip, const uint8_t *mac)
{
	uint8_t got[ETH_ALEN];

	ck_assert_int_eq(arp_lookup(s, ip, got), 0);
	ck_assert_mem_eq(got, mac, ETH_ALEN);
}

static void expect_not_cached(struct stack *s, uint32_t ip)
{
	uint8_t got[ETH_ALEN];

	ck_assert_int_eq(arp_lookup(s, ip, got), -ENOENT);
}

START_TEST(test_request_for_us)
{
	/* The reply, byte for byte. */
	static const uint8_t expect[] = {
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* eth dst: the asker */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* eth src: us */
	    0x08, 0x06,				/* ARP */
	    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, /* Ethernet, IPv4, 6, 4 */
	    0x00, 0x02,				/* reply */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* sha: us */
	    0x0a, 0x00, 0x00, 0x02,		/* spa: 10.0.0.2 */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* tha: the asker */
	    0x0a, 0x00, 0x00, 0x01,		/* tpa: 10.0.0.1 */
	};
	struct stack *s = th_stack_new(NULL);

	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP,
					 TH_OUR_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->len, sizeof(expect));
	ck_assert_mem_eq(th_frame(0)->data, expect, sizeof(expect));
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REPLY], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 0);
	/* The asker is about to talk to us: it is learned. */
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_request_for_other_ip)
{
	struct stack *s = th_stack_new(NULL);

	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP,
					 TH_PEER2_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_NOT_US], 1);
	expect_not_cached(s, TH_PEER_IP);
	/* A gratuitous ARP from a stranger teaches us nothing either. */
	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP,
					 TH_PEER_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_NOT_US], 2);
	expect_not_cached(s, TH_PEER_IP);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unsolicited_reply)
{
	struct stack *s = th_stack_new(NULL);
	struct arp_hdr a = {
	    .htype = ARP_HTYPE_ETHER,
	    .ptype = ETH_TYPE_IP4,
	    .hlen = ETH_ALEN,
	    .plen = 4,
	    .op = ARP_OP_REPLY,
	    .sha = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03},
	    .spa = TH_PEER2_IP,
	    .tha = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	    .tpa = TH_PEER_IP,
	};

	/* A reply to us for an address we never asked about. */
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_UNSOLICITED], 1);
	expect_not_cached(s, TH_PEER_IP);
	/* A broadcast reply addressed to someone else. */
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_UNSOLICITED], 2);
	expect_not_cached(s, TH_PEER2_IP);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->arp.used, 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_resolve_and_flush_in_order)
{
	static const char *const msgs[] = {"one", "two", "three"};
	struct stack *s = th_stack_new(NULL);

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(send_to(s, TH_PEER_IP, msgs[i]), 0);
	/* One request, broadcast, the datagrams held. */
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_request(th_frame(0), th_bcast_mac, TH_PEER_IP);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 1);
	expect_not_cached(s, TH_PEER_IP);
	ck_assert_uint_eq(s->arp.used, 1);
	th_frames_clear();

	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_UNSOLICITED], 0);
	/* The queue goes out in order, to the resolved MAC. */
	ck_assert_uint_eq(th_frame_count(), 3);
	for (size_t i = 0; i < 3; i++) {
		struct ip4_hdr ih;
		struct udp_hdr uh;
		struct cur c =
		    th_expect_udp(th_frame(i), th_peer_mac, &ih, &uh);

		ck_assert_uint_eq(ih.dst, TH_PEER_IP);
		ck_assert_uint_eq(c.len, strlen(msgs[i]));
		ck_assert_mem_eq(c.p, msgs[i], c.len);
	}
	th_frames_clear();
	/* From now on straight out, no new request. */
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "four"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_request_from_pending_resolves)
{
	struct stack *s = th_stack_new(NULL);

	ck_assert_int_eq(send_to(s, TH_PEER_IP, "held"), 0);
	th_frames_clear();
	/* The peer asks for us before answering: that resolves it too. */
	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP,
					 TH_OUR_IP), 0);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	ck_assert_uint_eq(th_frame_count(), 2);
	{
		struct ip4_hdr ih;
		struct udp_hdr uh;
		struct arp_hdr a;
		struct cur c =
		    th_expect_udp(th_frame(0), th_peer_mac, &ih, &uh);

		ck_assert_mem_eq(c.p, "held", 4);
		th_expect_arp(th_frame(1), th_peer_mac, &a);
		ck_assert_uint_eq(a.op, ARP_OP_REPLY);
	}
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_queue_bound)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_queue_len = 2;
	s = th_stack_new(&p);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "a"), 0);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "b"), 0);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "c"), -ENOBUFS);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "d"), -ENOBUFS);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_QUEUE_DROP], 2);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_TX_ERR], 2);
	ck_assert_uint_eq(th_frame_count(), 1); /* the request only */
	th_frames_clear();
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	for (size_t i = 0; i < 2; i++) {
		struct ip4_hdr ih;
		struct udp_hdr uh;
		struct cur c =
		    th_expect_udp(th_frame(i), th_peer_mac, &ih, &uh);

		ck_assert_uint_eq(c.len, 1);
		ck_assert_uint_eq(c.p[0], (uint8_t)('a' + i));
	}
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_retries_then_give_up)
{
	struct stack *s = th_stack_new(NULL); /* 3 tries, 1000 ms apart */

	ck_assert_int_eq(send_to(s, TH_PEER_IP, "x"), 0);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "y"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 999);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 1);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_advance(s, 1000);
	ck_assert_uint_eq(th_frame_count(), 3);
	for (size_t i = 0; i < 3; i++)
		expect_request(th_frame(i), th_bcast_mac, TH_PEER_IP);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 3);
	th_advance(s, 999);
	ck_assert_uint_eq(s->arp.used, 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RESOLVE_FAIL], 0);
	/* arp_retries requests unanswered: give up, drop what waited. */
	th_advance(s, 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RESOLVE_FAIL], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_UNRESOLVED_DROP], 2);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_not_cached(s, TH_PEER_IP);
	th_check_leaks(s, 0);
	th_advance(s, 60000);
	ck_assert_uint_eq(th_frame_count(), 3);
	/* A late reply is unsolicited now. */
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_UNSOLICITED], 1);
	expect_not_cached(s, TH_PEER_IP);
	th_stack_free(s);
}
END_TEST

START_TEST(test_retries_configured)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_retries = 5;
	p.arp_retry_ms = 200;
	s = th_stack_new(&p);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "x"), 0);
	th_advance(s, 996);
	ck_assert_uint_eq(th_frame_count(), 5);
	ck_assert_uint_eq(s->arp.used, 1);
	th_advance(s, 4);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RESOLVE_FAIL], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_UNRESOLVED_DROP], 1);
	ck_assert_uint_eq(th_frame_count(), 5);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_expiry_unused)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_timeout_ms = 5000;
	s = th_stack_new(&p);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "x"), 0);
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	th_frames_clear();
	th_advance(s, 4996);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EXPIRE], 0);
	/* Not used since: gone at arp_timeout_ms, without asking. */
	th_advance(s, 4);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EXPIRE], 1);
	expect_not_cached(s, TH_PEER_IP);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	/* Next use resolves afresh. */
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "y"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_request(th_frame(0), th_bcast_mac, TH_PEER_IP);
	th_stack_free(s);
}
END_TEST

START_TEST(test_expiry_used_reconfirms)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_timeout_ms = 5000;
	s = th_stack_new(&p);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	th_advance(s, 3000);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "used"), 0);
	th_frames_clear();
	/* Timed out but used recently: re-asked by unicast, still usable. */
	th_advance(s, 2000);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_request(th_frame(0), th_peer_mac, TH_PEER_IP);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "still"), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	{
		struct ip4_hdr ih;
		struct udp_hdr uh;

		th_expect_udp(th_frame(1), th_peer_mac, &ih, &uh);
	}
	/* The answer makes it fresh for another arp_timeout_ms. */
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	th_frames_clear();
	th_advance(s, 4996);
	ck_assert_uint_eq(th_frame_count(), 0);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EXPIRE], 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_expiry_used_no_answer)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_timeout_ms = 5000;
	s = th_stack_new(&p);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	th_advance(s, 4000);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "used"), 0);
	th_frames_clear();
	/* Stale at 5000: arp_retries unicast requests, then it goes. */
	th_advance(s, 1000 + 3 * 1000 - 4);
	ck_assert_uint_eq(th_frame_count(), 3);
	for (size_t i = 0; i < 3; i++)
		expect_request(th_frame(i), th_peer_mac, TH_PEER_IP);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	th_advance(s, 4);
	expect_not_cached(s, TH_PEER_IP);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EXPIRE], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RESOLVE_FAIL], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_conflict)
{
	struct stack *s = th_stack_new(NULL);
	struct arp_hdr a;

	/* Someone else says 10.0.0.2 is at their MAC. */
	stack_input(s, f, th_arp_request(f, th_other_mac, TH_OUR_IP,
					 TH_PEER_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 1);
	/* Defended once with an announcement of our own. */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_bcast_mac, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REQUEST);
	ck_assert_mem_eq(a.sha, th_our_mac, ETH_ALEN);
	ck_assert_uint_eq(a.spa, TH_OUR_IP);
	ck_assert_uint_eq(a.tpa, TH_OUR_IP);
	/* Within the defend interval: counted, not answered again. */
	th_advance(s, 5000);
	stack_input(s, f, th_arp_reply(f, th_other_mac, TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 2);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 5000);
	stack_input(s, f, th_arp_reply(f, th_other_mac, TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 3);
	ck_assert_uint_eq(th_frame_count(), 2);
	/* Our own announcement looped back is no conflict. */
	stack_input(s, f, th_arp_request(f, th_our_mac, TH_OUR_IP,
					 TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 3);
	ck_assert_uint_eq(th_frame_count(), 2);
	/* None of it is cached. */
	expect_not_cached(s, TH_OUR_IP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_announce)
{
	static const uint8_t expect[] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* broadcast */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* us */
	    0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
	    0x06, 0x04, 0x00, 0x01,		/* request */
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* sha: us */
	    0x0a, 0x00, 0x00, 0x02,		/* spa: 10.0.0.2 */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* tha: zero */
	    0x0a, 0x00, 0x00, 0x02,		/* tpa: 10.0.0.2 */
	};
	struct stack_params p = params();
	struct stack *s = th_stack_new(&p);
	struct arp_hdr a;

	stack_announce(s);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->len, sizeof(expect));
	ck_assert_mem_eq(th_frame(0)->data, expect, sizeof(expect));
	ck_assert_uint_eq(s->stats.v[STAT_ARP_TX_REQUEST], 1);
	/* RFC 5227: a second announcement two seconds later, then no more. */
	th_advance(s, 1996);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 4);
	ck_assert_uint_eq(th_frame_count(), 2);
	ck_assert_mem_eq(th_frame(1)->data, expect, sizeof(expect));
	th_advance(s, 10000);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_frames_clear();
	/* A new address is announced when it is applied. */
	p.addr = 0x0a000005;
	stack_update(s, &p);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_bcast_mac, &a);
	ck_assert_uint_eq(a.spa, 0x0a000005);
	ck_assert_uint_eq(a.tpa, 0x0a000005);
	th_advance(s, 2000);
	ck_assert_uint_eq(th_frame_count(), 2);
	/* The same parameters again: nothing to announce. */
	stack_update(s, &p);
	th_advance(s, 2000);
	ck_assert_uint_eq(th_frame_count(), 2);
	/* No address, no announcement. */
	p.addr = 0;
	stack_update(s, &p);
	stack_announce(s);
	th_advance(s, 2000);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_cache_full_evicts_oldest)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_cache_size = 2;
	s = th_stack_new(&p);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	th_advance(s, 12);
	th_learn(s, th_peer2_mac, TH_PEER2_IP);
	th_advance(s, 12);
	th_learn(s, th_gw_mac, TH_GW_IP);
	ck_assert_uint_eq(s->arp.used, 2);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EVICT], 1);
	expect_not_cached(s, TH_PEER_IP);
	expect_cached(s, TH_PEER2_IP, th_peer2_mac);
	expect_cached(s, TH_GW_IP, th_gw_mac);
	th_check_leaks(s, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_cache_bounded)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_cache_size = 4;
	s = th_stack_new(&p);
	for (uint32_t i = 0; i < 40; i++) {
		uint8_t mac[ETH_ALEN] = {0x02, 0x10, 0, 0, 0, (uint8_t)i};

		th_learn(s, mac, 0x0a000010 + i);
		ck_assert_uint_le(s->arp.used, 4);
		th_advance(s, 4);
	}
	ck_assert_uint_eq(s->arp.used, 4);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EVICT], 36);
	/* The four most recent survive. */
	for (uint32_t i = 0; i < 40; i++) {
		uint8_t got[ETH_ALEN];

		ck_assert_int_eq(arp_lookup(s, 0x0a000010 + i, got),
				 i >= 36 ? 0 : -ENOENT);
	}
	th_check_leaks(s, 4);
	th_stack_free(s);
}
END_TEST

START_TEST(test_pending_entries_are_capped)
{
	struct stack_params p = params();
	struct stack *s;

	/* A quarter of the table may be resolving: 2 of 8. */
	p.arp_cache_size = 8;
	s = th_stack_new(&p);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "a"), 0);
	th_advance(s, 4);
	ck_assert_int_eq(send_to(s, TH_PEER2_IP, "b"), 0);
	th_advance(s, 4);
	/* The third recycles the oldest resolving entry and its queue. */
	ck_assert_int_eq(send_to(s, TH_GW_IP, "c"), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EVICT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_UNRESOLVED_DROP], 1);
	ck_assert_uint_eq(s->arp.used, 2);
	ck_assert_uint_eq(s->arp.incomplete, 2);
	ck_assert_uint_eq(th_frame_count(), 3);
	expect_not_cached(s, TH_PEER_IP);
	th_frames_clear();
	/* Resolved entries still have room: a request for us is learned. */
	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP, TH_OUR_IP),
		    0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	ck_assert_uint_eq(s->arp.used, 3);
	th_check_leaks(s, 3);
	th_stack_free(s);
}
END_TEST

START_TEST(test_gateway_never_evicted)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_cache_size = 2;
	p.gateway = TH_GW_IP;
	s = th_stack_new(&p);
	th_learn(s, th_gw_mac, TH_GW_IP); /* the oldest entry */
	th_advance(s, 4);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	th_advance(s, 4);
	th_learn(s, th_peer2_mac, TH_PEER2_IP);
	expect_cached(s, TH_GW_IP, th_gw_mac);
	expect_cached(s, TH_PEER2_IP, th_peer2_mac);
	expect_not_cached(s, TH_PEER_IP);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CACHE_EVICT], 1);
	th_check_leaks(s, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_large_datagram_waits_whole)
{
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 9};
	static uint8_t big[6000];
	struct stack *s = th_stack_new(NULL);
	size_t sent = 0;

	/* Fragmented before resolving (ip4 never hears of ARP again): the
	 * five fragments wait as one packet against arp_queue_len, and go
	 * out in order when the answer comes. */
	memset(big, 0x5a, sizeof(big));
	ck_assert_int_eq(udp_output(s, 4000, &d, big, sizeof(big)), 0);
	ck_assert_uint_eq(th_frame_count(), 1); /* the ARP request */
	ck_assert_uint_eq(s->arp.queued_bytes, 5 * 20 + 8 + sizeof(big));
	ck_assert_uint_eq(s->arp.e[0].qlen, 1);
	th_frames_clear();
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 5);
	for (unsigned i = 0; i < 5; i++) {
		const struct th_frame *fr = th_frame(i);

		ck_assert_uint_le(fr->len, 14 + 1500);
		ck_assert_uint_eq(be16(fr->data + 14 + 6) & IP4_OFF_MASK,
				  sent / 8);
		sent += fr->len - 14 - 20;
	}
	ck_assert_uint_eq(sent, 8 + sizeof(big));
	ck_assert_uint_eq(s->arp.queued_bytes, 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_bad_packets)
{
	struct stack *s = th_stack_new(NULL);
	static const uint8_t mc_mac[ETH_ALEN] = {0x01, 0x00, 0x5e, 0, 0, 1};
	struct arp_hdr a = {
	    .htype = ARP_HTYPE_ETHER,
	    .ptype = ETH_TYPE_IP4,
	    .hlen = ETH_ALEN,
	    .plen = 4,
	    .op = 3, /* RARP request */
	    .sha = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
	    .spa = TH_PEER_IP,
	    .tpa = TH_OUR_IP,
	};
	size_t n;

	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_OP], 1);
	a.op = ARP_OP_REQUEST;
	a.hlen = 8;
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	a.hlen = ETH_ALEN;
	a.ptype = ETH_TYPE_IP6;
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	a.ptype = ETH_TYPE_IP4;
	n = th_arp_frame(f, th_bcast_mac, &a);
	stack_input(s, f, n - 1, 0); /* truncated */
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_MALFORMED], 3);
	/* Senders no host can be: multicast MAC (sent from a unicast
	 * Ethernet source), multicast, loopback or broadcast IP. */
	memcpy(a.sha, mc_mac, ETH_ALEN);
	th_arp_frame(f, th_bcast_mac, &a);
	memcpy(f + 6, th_peer_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	memcpy(a.sha, th_peer_mac, ETH_ALEN);
	a.spa = 0xe0000001;
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	a.spa = 0x7f000001;
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	a.spa = TH_BCAST_IP;
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	a.spa = IP4_BROADCAST;
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_BAD_SENDER], 5);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RX], 9);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->arp.used, 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_probe_answered)
{
	struct stack *s = th_stack_new(NULL);
	struct arp_hdr a;

	/* An RFC 5227 probe for our address (sender 0.0.0.0). */
	stack_input(s, f, th_arp_request(f, th_peer_mac, 0, TH_OUR_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_peer_mac, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REPLY);
	ck_assert_uint_eq(a.spa, TH_OUR_IP);
	ck_assert_mem_eq(a.tha, th_peer_mac, ETH_ALEN);
	ck_assert_uint_eq(a.tpa, 0);
	/* 0.0.0.0 is not learned. */
	ck_assert_uint_eq(s->arp.used, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_known_sender_updated)
{
	struct stack *s = th_stack_new(NULL);

	th_learn(s, th_peer_mac, TH_PEER_IP);
	/* The peer moved to a new MAC and says so (gratuitous ARP). */
	stack_input(s, f, th_arp_request(f, th_peer2_mac, TH_PEER_IP,
					 TH_PEER_IP), 0);
	expect_cached(s, TH_PEER_IP, th_peer2_mac);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_NOT_US], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "x"), 0);
	{
		struct ip4_hdr ih;
		struct udp_hdr uh;

		th_expect_udp(th_frame(0), th_peer2_mac, &ih, &uh);
	}
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_fini_drops_queue)
{
	struct stack *s = th_stack_new(NULL);

	ck_assert_int_eq(send_to(s, TH_PEER_IP, "a"), 0);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "b"), 0);
	ck_assert_uint_eq(s->arp.used, 1);
	ck_assert_uint_eq(s->timers.count, 1);
	/* Teardown with datagrams queued frees them (ASan checks). */
	arp_fini(s);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_UNRESOLVED_DROP], 2);
	th_stack_free(s);
}
END_TEST

/* ---- Regressions: each of these once failed ------------------------------ */

/* With arp_queue_len 0 (drop while resolving), arp_output() creates the
 * INCOMPLETE entry, finds the queue full and returns before sending the
 * first request or arming the retry timer: the entry never resolves, is
 * never freed, and (INCOMPLETE entries are never evicted) a few such
 * destinations fill the cache for good. */
START_TEST(test_regression_queue_len_zero)
{
	struct stack_params p = params();
	struct stack *s;

	p.arp_queue_len = 0;
	s = th_stack_new(&p);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "dropped"), -ENOBUFS);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_QUEUE_DROP], 1);
	/* Resolution must still start... */
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_request(th_frame(0), th_bcast_mac, TH_PEER_IP);
	th_check_leaks(s, 1);
	/* ...and give up in the usual way. */
	th_advance(s, 3000);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RESOLVE_FAIL], 1);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* ---- Address Conflict Detection (RFC 5227) ------------------------------ */

static unsigned n_ev;
static enum stack_event ev_kind[16];
static uint32_t ev_addr[16];
static uint8_t ev_mac[16][ETH_ALEN];
static bool ev_has_mac[16];

static void record_event(void *ctx, enum stack_event ev,
			 const union inany *addr, const uint8_t *mac)
{
	(void)ctx;
	ck_assert_uint_lt(n_ev, 16);
	ev_kind[n_ev] = ev;
	ev_addr[n_ev] = inany_v4(addr);
	ev_has_mac[n_ev] = mac != NULL;
	if (mac)
		memcpy(ev_mac[n_ev], mac, ETH_ALEN);
	n_ev++;
}

/* A stack with acd on and the events recorded. */
static struct stack *acd_stack(struct stack_params *p)
{
	struct stack *s;

	*p = params();
	p->acd = true;
	s = th_stack_new(p);
	n_ev = 0;
	stack_set_event_fn(s, record_event, NULL);
	return s;
}

/* Assert fr is a probe for tpa: a broadcast request from 0.0.0.0 with
 * our MAC and a zero target hardware address (RFC 5227 2.1.1). */
static void expect_probe(const struct th_frame *fr, uint32_t tpa)
{
	struct arp_hdr a;

	th_expect_arp(fr, th_bcast_mac, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REQUEST);
	ck_assert_mem_eq(a.sha, th_our_mac, ETH_ALEN);
	ck_assert_uint_eq(a.spa, 0);
	ck_assert_mem_eq(a.tha, th_zero_mac, ETH_ALEN);
	ck_assert_uint_eq(a.tpa, tpa);
}

/* Assert fr is an announcement of addr (spa = tpa = addr, 2.3). */
static void expect_announcement(const struct th_frame *fr, uint32_t addr)
{
	struct arp_hdr a;

	th_expect_arp(fr, th_bcast_mac, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REQUEST);
	ck_assert_mem_eq(a.sha, th_our_mac, ETH_ALEN);
	ck_assert_uint_eq(a.spa, addr);
	ck_assert_uint_eq(a.tpa, addr);
}

/* Step the clock 1 ms at a time for at most max ms until a frame is sent;
 * returns the clock then (asserts that one came). */
static uint64_t next_frame_at(struct stack *s, uint64_t max)
{
	size_t n = th_frame_count();

	for (uint64_t i = 0; i < max; i++) {
		th_advance(s, 1);
		if (th_frame_count() > n)
			return th_clock_ms;
	}
	ck_abort_msg("no frame within %llu ms", (unsigned long long)max);
	return 0;
}

/* A request for our address is not answered while it is not ours, and
 * nothing leaves from it; both counted. */
static void expect_unusable(struct stack *s)
{
	size_t n = th_frame_count();
	uint64_t drops = s->stats.v[STAT_ARP_DROP_UNUSABLE];

	ck_assert(!stack_addr4_usable(s));
	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP,
					 TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DROP_UNUSABLE], drops + 1);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "x"), -EADDRNOTAVAIL);
	/* An echo request to it: not ours, no answer. */
	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 1, "p", 1),
		    0);
	ck_assert_uint_eq(th_frame_count(), n);
}

/* Probing at start, with RFC 5227's timing, then two announcements; the
 * address is not used until ANNOUNCE_WAIT after the last probe. */
START_TEST(test_acd_probe_timing)
{
	struct stack_params p;
	struct stack *s = acd_stack(&p);
	uint64_t t[3], ready;

	/* Before start: not ours yet, and nothing is sent. */
	expect_unusable(s);
	th_advance(s, 5000);
	ck_assert_uint_eq(th_frame_count(), 0);
	stack_announce(s);
	for (int i = 0; i < 3; i++) {
		uint64_t base = i ? t[i - 1] : th_clock_ms;

		t[i] = next_frame_at(s, 2001);
		ck_assert_uint_eq(th_frame_count(), (size_t)i + 1);
		expect_probe(th_frame((size_t)i), TH_OUR_IP);
		if (i == 0) /* PROBE_WAIT: up to 1 s */
			ck_assert_uint_le(t[0] - base, 1000);
		else /* PROBE_MIN to PROBE_MAX apart */
			ck_assert(t[i] - base >= 1000 && t[i] - base <= 2000);
		expect_unusable(s);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ARP_PROBE_TX], 3);
	ck_assert_uint_eq(n_ev, 0);
	/* ANNOUNCE_WAIT (2 s) after the last probe: ours, announced. */
	ready = next_frame_at(s, 2001);
	ck_assert_uint_eq(ready - t[2], 2000);
	ck_assert(stack_addr4_usable(s));
	expect_announcement(th_frame(3), TH_OUR_IP);
	ck_assert_uint_eq(n_ev, 1);
	ck_assert_int_eq(ev_kind[0], STACK_EV_ADDR4_READY);
	ck_assert_uint_eq(ev_addr[0], TH_OUR_IP);
	ck_assert(!ev_has_mac[0]);
	ck_assert_uint_eq(next_frame_at(s, 2001) - ready, 2000);
	expect_announcement(th_frame(4), TH_OUR_IP);
	th_advance(s, 20000);
	ck_assert_uint_eq(th_frame_count(), 5);
	/* Now it answers. */
	stack_input(s, f, th_arp_request(f, th_peer_mac, TH_PEER_IP,
					 TH_OUR_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 6);
	ck_assert_int_eq(send_to(s, TH_PEER_IP, "x"), 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* Someone has the address while we probe: it is not used, the host hears
 * of it with the other MAC, and probing starts again a minute later. */
START_TEST(test_acd_conflict_during_probe)
{
	struct stack_params p;
	struct stack *s = acd_stack(&p);
	uint64_t at;

	stack_announce(s);
	next_frame_at(s, 1001);
	/* Our own probe coming back is nobody's claim. */
	stack_input(s, f, th_arp_request(f, th_our_mac, 0, TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 0);
	/* A reply from the holder: sender address ours, another MAC. */
	stack_input(s, f, th_arp_reply(f, th_other_mac, TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_PROBE_CONFLICT], 1);
	ck_assert_uint_eq(n_ev, 1);
	ck_assert_int_eq(ev_kind[0], STACK_EV_ADDR4_CONFLICT);
	ck_assert_uint_eq(ev_addr[0], TH_OUR_IP);
	ck_assert(ev_has_mac[0]);
	ck_assert_mem_eq(ev_mac[0], th_other_mac, ETH_ALEN);
	/* Never used, never announced, no more probes for a minute. */
	th_frames_clear();
	at = th_clock_ms;
	th_advance(s, 59000);
	ck_assert_uint_eq(th_frame_count(), 0);
	expect_unusable(s);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* Then probing again; nobody answers this time: ours. */
	next_frame_at(s, 2001 + 1000);
	ck_assert_uint_ge(th_clock_ms - at, 60000);
	expect_probe(th_frame(0), TH_OUR_IP);
	th_advance(s, 8000);
	ck_assert(stack_addr4_usable(s));
	ck_assert_uint_eq(n_ev, 2);
	ck_assert_int_eq(ev_kind[1], STACK_EV_ADDR4_READY);
	th_stack_free(s);
}
END_TEST

/* Another host probing for the same address at the same time (2.1.1):
 * a conflict too; a probe for some other address is not. */
START_TEST(test_acd_simultaneous_probe)
{
	struct stack_params p;
	struct stack *s = acd_stack(&p);

	stack_announce(s);
	next_frame_at(s, 1001);
	stack_input(s, f, th_arp_request(f, th_other_mac, 0, 0x0a000009), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 0);
	stack_input(s, f, th_arp_request(f, th_other_mac, 0, TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_PROBE_CONFLICT], 1);
	ck_assert_uint_eq(n_ev, 1);
	ck_assert_int_eq(ev_kind[0], STACK_EV_ADDR4_CONFLICT);
	ck_assert_mem_eq(ev_mac[0], th_other_mac, ETH_ALEN);
	th_advance(s, 10000);
	ck_assert(!stack_addr4_usable(s));
	th_stack_free(s);
}
END_TEST

/* In use, the address is defended indefinitely (2.4 (c)): at most one
 * announcement per DEFEND_INTERVAL, the host told of the defence and of
 * the first conflict after it, every conflict counted; and another
 * host's probe for it is answered, so the prober backs off. */
START_TEST(test_acd_defence_rate)
{
	struct stack_params p;
	struct stack *s = acd_stack(&p);
	struct arp_hdr a;

	stack_announce(s);
	th_advance(s, 8000);
	ck_assert(stack_addr4_usable(s));
	th_advance(s, 5000); /* past the second announcement */
	th_frames_clear();
	n_ev = 0;
	stack_input(s, f, th_arp_request(f, th_other_mac, 0, TH_OUR_IP), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_other_mac, &a);
	ck_assert_uint_eq(a.op, ARP_OP_REPLY);
	ck_assert_uint_eq(a.spa, TH_OUR_IP);
	ck_assert_uint_eq(n_ev, 0);
	th_frames_clear();
	for (int i = 0; i < 5; i++) {
		stack_input(s, f, th_arp_reply(f, th_other_mac, TH_OUR_IP), 0);
		th_advance(s, 1000);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ARP_CONFLICT], 5);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DEFEND_TX], 1);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_announcement(th_frame(0), TH_OUR_IP);
	ck_assert_uint_eq(n_ev, 2);
	ck_assert_int_eq(ev_kind[0], STACK_EV_ADDR4_DEFENDED);
	ck_assert_mem_eq(ev_mac[0], th_other_mac, ETH_ALEN);
	ck_assert_int_eq(ev_kind[1], STACK_EV_ADDR4_CLAIMED);
	ck_assert_mem_eq(ev_mac[1], th_other_mac, ETH_ALEN);
	ck_assert(stack_addr4_usable(s)); /* kept */
	/* DEFEND_INTERVAL after the defence: defended again. */
	th_advance(s, 5000);
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_OUR_IP), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_DEFEND_TX], 2);
	ck_assert_uint_eq(th_frame_count(), 2);
	ck_assert_uint_eq(n_ev, 3);
	ck_assert_int_eq(ev_kind[2], STACK_EV_ADDR4_DEFENDED);
	ck_assert_mem_eq(ev_mac[2], th_peer_mac, ETH_ALEN);
	ck_assert(stack_addr4_usable(s));
	th_stack_free(s);
}
END_TEST

/* A new address is probed for before use; turning acd off takes the
 * address at once; turning it on keeps an address in use. */
START_TEST(test_acd_update)
{
	struct stack_params p;
	struct stack *s = acd_stack(&p);

	stack_announce(s);
	th_advance(s, 8000);
	ck_assert(stack_addr4_usable(s));
	th_frames_clear();
	p.addr = 0x0a000005;
	stack_update(s, &p);
	ck_assert(!stack_addr4_usable(s));
	next_frame_at(s, 1001);
	expect_probe(th_frame(0), 0x0a000005);
	/* Off in the middle of probing: ours now, announced. */
	p.acd = false;
	stack_update(s, &p);
	ck_assert(stack_addr4_usable(s));
	ck_assert_uint_eq(th_frame_count(), 2);
	expect_announcement(th_frame(1), 0x0a000005);
	th_advance(s, 10000);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_PROBE_TX], 4);
	/* On again: the address in use stays in use, nothing sent. */
	th_frames_clear();
	p.acd = true;
	stack_update(s, &p);
	ck_assert(stack_addr4_usable(s));
	ck_assert_uint_eq(th_frame_count(), 0);
	/* Without an address, then with one: probed for then. */
	p.addr = 0;
	stack_update(s, &p);
	ck_assert(!stack_addr4_usable(s));
	th_advance(s, 10000);
	ck_assert_uint_eq(th_frame_count(), 0);
	p.addr = TH_OUR_IP;
	stack_update(s, &p);
	next_frame_at(s, 1001);
	expect_probe(th_frame(0), TH_OUR_IP);
	th_advance(s, 8000);
	ck_assert(stack_addr4_usable(s));
	th_stack_free(s);
}
END_TEST

/* Before stack_announce() nothing is probed, whatever changes; the
 * address waits for it. */
START_TEST(test_acd_waits_for_start)
{
	struct stack_params p;
	struct stack *s = acd_stack(&p);

	p.addr = 0x0a000005;
	stack_update(s, &p);
	th_advance(s, 10000);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert(!stack_addr4_usable(s));
	stack_announce(s);
	next_frame_at(s, 1001);
	expect_probe(th_frame(0), 0x0a000005);
	th_stack_free(s);
}
END_TEST

/* ---- Static neighbours --------------------------------------------------- */

/* A stack whose gateway is a static neighbour at th_gw_mac. */
static struct stack *static_gw_stack(struct stack_params *p)
{
	*p = params();
	p->gateway = TH_GW_IP;
	p->nstatic_neigh = 1;
	p->static_neigh[0].addr = inany_from_v4(TH_GW_IP);
	memcpy(p->static_neigh[0].mac, th_gw_mac, ETH_ALEN);
	return th_stack_new(p);
}

/* Off-link traffic goes to the static gateway's MAC at once, without a
 * request; spoofed replies, gratuitous ARPs and requests claiming its
 * address from another MAC change nothing; the listing says
 * "permanent". */
static void neigh_state_cb(void *arg, const union inany *addr,
			   const uint8_t *mac, const char *state,
			   uint64_t age_ms)
{
	const char **out = arg;

	(void)mac;
	(void)age_ms;
	if (inany_v4(addr) == TH_GW_IP)
		*out = state;
}

START_TEST(test_static_gateway_immune)
{
	struct stack_params p;
	struct stack *s = static_gw_stack(&p);
	const char *state = NULL;
	struct ip4_hdr ih;
	struct arp_hdr a;

	expect_cached(s, TH_GW_IP, th_gw_mac);
	ck_assert_int_eq(send_to(s, 0xc0000201u, "far"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_ip4(th_frame(0), th_gw_mac, &ih);
	th_frames_clear();
	/* An unsolicited reply, a gratuitous ARP (request and reply form)
	 * and a request for us, all from another MAC as the gateway. */
	stack_input(s, f, th_arp_reply(f, th_other_mac, TH_GW_IP), 0);
	stack_input(s, f, th_arp_request(f, th_other_mac, TH_GW_IP, TH_GW_IP),
		    0);
	a = (struct arp_hdr){.htype = ARP_HTYPE_ETHER, .ptype = ETH_TYPE_IP4,
			     .hlen = ETH_ALEN, .plen = 4, .op = ARP_OP_REPLY,
			     .spa = TH_GW_IP, .tpa = TH_GW_IP};
	memcpy(a.sha, th_other_mac, ETH_ALEN);
	memcpy(a.tha, th_bcast_mac, ETH_ALEN);
	stack_input(s, f, th_arp_frame(f, th_bcast_mac, &a), 0);
	stack_input(s, f, th_arp_request(f, th_other_mac, TH_GW_IP, TH_OUR_IP),
		    0);
	expect_cached(s, TH_GW_IP, th_gw_mac);
	/* The request for us was answered, to the MAC it came from. */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_frames_clear();
	ck_assert_int_eq(send_to(s, 0xc0000201u, "far"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_ip4(th_frame(0), th_gw_mac, &ih);
	/* A day later: still there, never asked about. */
	th_frames_clear();
	th_advance(s, 86400000);
	ck_assert_uint_eq(th_frame_count(), 0);
	expect_cached(s, TH_GW_IP, th_gw_mac);
	stack_foreach_neigh(s, neigh_state_cb, &state);
	ck_assert_ptr_nonnull(state);
	ck_assert_str_eq(state, "permanent");
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* Reload: a changed MAC applies, a removed entry is resolved again like
 * any other, an added one takes over a learnt entry. */
START_TEST(test_static_reload)
{
	struct stack_params p;
	struct stack *s = static_gw_stack(&p);

	memcpy(p.static_neigh[0].mac, th_other_mac, ETH_ALEN);
	stack_update(s, &p);
	expect_cached(s, TH_GW_IP, th_other_mac);
	p.nstatic_neigh = 0;
	stack_update(s, &p);
	expect_not_cached(s, TH_GW_IP);
	ck_assert_uint_eq(s->arp.permanent, 0);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	expect_cached(s, TH_PEER_IP, th_peer_mac);
	p.nstatic_neigh = 1;
	p.static_neigh[0].addr = inany_from_v4(TH_PEER_IP);
	memcpy(p.static_neigh[0].mac, th_peer2_mac, ETH_ALEN);
	stack_update(s, &p);
	expect_cached(s, TH_PEER_IP, th_peer2_mac);
	stack_input(s, f, th_arp_reply(f, th_peer_mac, TH_PEER_IP), 0);
	expect_cached(s, TH_PEER_IP, th_peer2_mac);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

static Suite *arp_suite(void)
{
	Suite *su = suite_create("arp");
	TCase *tc;

	tc = tcase_create("answer");
	tcase_add_test(tc, test_request_for_us);
	tcase_add_test(tc, test_request_for_other_ip);
	tcase_add_test(tc, test_unsolicited_reply);
	tcase_add_test(tc, test_probe_answered);
	tcase_add_test(tc, test_bad_packets);
	tcase_add_test(tc, test_conflict);
	tcase_add_test(tc, test_announce);
	suite_add_tcase(su, tc);

	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve_and_flush_in_order);
	tcase_add_test(tc, test_request_from_pending_resolves);
	tcase_add_test(tc, test_queue_bound);
	tcase_add_test(tc, test_retries_then_give_up);
	tcase_add_test(tc, test_retries_configured);
	tcase_add_test(tc, test_fini_drops_queue);
	tcase_add_test(tc, test_regression_queue_len_zero);
	suite_add_tcase(su, tc);

	tc = tcase_create("cache");
	tcase_add_test(tc, test_expiry_unused);
	tcase_add_test(tc, test_expiry_used_reconfirms);
	tcase_add_test(tc, test_expiry_used_no_answer);
	tcase_add_test(tc, test_known_sender_updated);
	tcase_add_test(tc, test_cache_full_evicts_oldest);
	tcase_add_test(tc, test_cache_bounded);
	tcase_add_test(tc, test_pending_entries_are_capped);
	tcase_add_test(tc, test_gateway_never_evicted);
	tcase_add_test(tc, test_large_datagram_waits_whole);
	suite_add_tcase(su, tc);

	tc = tcase_create("acd");
	tcase_add_test(tc, test_acd_probe_timing);
	tcase_add_test(tc, test_acd_conflict_during_probe);
	tcase_add_test(tc, test_acd_simultaneous_probe);
	tcase_add_test(tc, test_acd_defence_rate);
	tcase_add_test(tc, test_acd_update);
	tcase_add_test(tc, test_acd_waits_for_start);
	suite_add_tcase(su, tc);

	tc = tcase_create("static");
	tcase_add_test(tc, test_static_gateway_immune);
	tcase_add_test(tc, test_static_reload);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(arp_suite());
}
