/* The neighbour cache (neigh.c) as a protocol sees it, on a table of its
 * own keyed by IPv6 addresses: solicitations, the queue of a packet's
 * pieces (whole or not at all), ordered release on an answer, and the
 * bounds.  ARP's use of it is tested in test_arp.c. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

#define T_ETHERTYPE 0x86dd

static struct {
	unsigned n;
	union inany addr;
	const uint8_t *mac;
} sol;

static void t_solicit(struct stack *s, const union inany *addr,
		      const uint8_t *mac)
{
	(void)s;
	sol.n++;
	sol.addr = *addr;
	sol.mac = mac;
}

static const struct neigh_ops t_ops = {.solicit = t_solicit};
static const struct neigh_stat_ids t_ids = {
	.queue_drop = STAT_ARP_QUEUE_DROP,
	.unresolved_drop = STAT_ARP_UNRESOLVED_DROP,
	.evict = STAT_ARP_CACHE_EVICT,
	.expire = STAT_ARP_CACHE_EXPIRE,
	.resolve_fail = STAT_ARP_RESOLVE_FAIL,
};

static union inany v6(uint8_t n)
{
	uint8_t b[16] = {0xfe, 0x80, [15] = 0};

	b[15] = n;
	return inany_from_v6(b);
}

/* A table of 4 entries holding 2 packets each and 1000 bytes in all. */
static struct stack *setup(struct neigh_table *t)
{
	struct stack *s = th_stack_new(NULL);
	struct neigh_params p = {.size = 4, .timeout_ms = 30000,
				 .retry_ms = 1000, .retries = 3,
				 .queue_len = 2, .queue_bytes = 1000};

	memset(&sol, 0, sizeof(sol));
	ck_assert_int_eq(neigh_init(t, s, &t_ops, &t_ids, &p), 0);
	return s;
}

static void teardown(struct stack *s, struct neigh_table *t)
{
	neigh_fini(t);
	ck_assert_uint_eq(t->used, 0);
	th_stack_free(s);
}

/* A pbuf of len bytes, each byte tag. */
static struct pbuf *piece(uint8_t tag, size_t len)
{
	static struct pbuf pb;

	pbuf_reset(&pb);
	memset(pbuf_put(&pb, len), tag, len);
	return &pb;
}

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x11};

START_TEST(test_solicit_queue_release)
{
	struct neigh_table t;
	struct stack *s = setup(&t);
	union inany a = v6(1);

	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(1, 100), NULL, 0),
			 0);
	ck_assert_uint_eq(sol.n, 1);
	ck_assert(inany_eq(&sol.addr, &a));
	ck_assert_ptr_null(sol.mac); /* by multicast/broadcast */
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert(!neigh_ready(&t, &a));
	/* Two pieces of one packet count once. */
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(2, 100), NULL, 0),
			 0);
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(3, 100), NULL,
				      NEIGH_MORE),
			 0);
	ck_assert_uint_eq(t.e[0].qlen, 2);
	ck_assert_uint_eq(t.queued_bytes, 300);
	/* A third packet exceeds queue_len. */
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(4, 100), NULL, 0),
			 -ENOBUFS);
	/* ...and its further pieces share its fate. */
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(5, 100), NULL,
				      NEIGH_MORE),
			 -ENOBUFS);
	/* One packet lost, counted once however many pieces it had. */
	ck_assert_uint_eq(s->stats.v[STAT_ARP_QUEUE_DROP], 1);
	/* An unsolicited answer for another address creates nothing. */
	{
		union inany b = v6(2);

		ck_assert(!neigh_confirm(&t, &b, peer_mac));
		ck_assert(!neigh_ready(&t, &b));
	}
	/* The answer: the three frames leave in order, to the MAC. */
	ck_assert(neigh_confirm(&t, &a, peer_mac));
	ck_assert_uint_eq(th_frame_count(), 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct th_frame *fr = th_frame(i);

		ck_assert_mem_eq(fr->data, peer_mac, 6);
		ck_assert_uint_eq(be16(fr->data + 12), T_ETHERTYPE);
		ck_assert_uint_eq(fr->data[14], i + 1);
	}
	ck_assert_uint_eq(t.queued_bytes, 0);
	ck_assert(neigh_ready(&t, &a));
	/* Resolved: straight out. */
	th_frames_clear();
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(6, 50), NULL, 0),
			 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	teardown(s, &t);
}
END_TEST

/* When a later piece does not fit the byte limit, the earlier pieces of
 * its packet go too; other packets stay. */
START_TEST(test_packet_whole_or_nothing)
{
	struct neigh_table t;
	struct stack *s = setup(&t);
	union inany a = v6(1);

	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(1, 300), NULL, 0),
			 0);
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(2, 300), NULL, 0),
			 0);
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(2, 300), NULL,
				      NEIGH_MORE),
			 0);
	ck_assert_uint_eq(t.queued_bytes, 900);
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(2, 300), NULL,
				      NEIGH_MORE),
			 -ENOBUFS);
	ck_assert_uint_eq(t.queued_bytes, 300);
	ck_assert_uint_eq(t.e[0].qlen, 1);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_QUEUE_DROP], 1);
	/* Offloads are for a resolved neighbour only: refused, not queued. */
	{
		struct stack_tx_offload off = {.csum = true};

		ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(7, 10),
					      &off, 0),
				 -EINVAL);
		ck_assert_uint_eq(t.queued_bytes, 300);
	}
	ck_assert(neigh_confirm(&t, &a, peer_mac));
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(th_frame(0)->data[14], 1);
	teardown(s, &t);
}
END_TEST

/* Unanswered: retries by broadcast, then the entry and its queue go; an
 * answered entry goes stale and is re-asked by unicast. */
START_TEST(test_retries_and_stale)
{
	struct neigh_table t;
	struct stack *s = setup(&t);
	union inany a = v6(1), b = v6(2);

	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(1, 10), NULL, 0),
			 0);
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(1, 10), NULL,
				      NEIGH_MORE),
			 0);
	th_advance(s, 1000);
	th_advance(s, 1000);
	ck_assert_uint_eq(sol.n, 3);
	th_advance(s, 1000);
	ck_assert_uint_eq(t.used, 0);
	ck_assert_uint_eq(s->stats.v[STAT_ARP_RESOLVE_FAIL], 1);
	/* One packet of two pieces went unsent: counted once. */
	ck_assert_uint_eq(s->stats.v[STAT_ARP_UNRESOLVED_DROP], 1);
	ck_assert_uint_eq(t.queued_bytes, 0);

	neigh_learn(&t, &b, peer_mac);
	ck_assert(neigh_ready(&t, &b));
	sol.n = 0;
	th_advance(s, 10000);
	ck_assert_int_eq(neigh_output(&t, &b, T_ETHERTYPE, piece(1, 10), NULL, 0),
			 0);
	th_advance(s, 20000); /* used since: stale, asked by unicast */
	ck_assert_uint_eq(sol.n, 1);
	ck_assert_ptr_nonnull(sol.mac);
	ck_assert_mem_eq(sol.mac, peer_mac, 6);
	ck_assert(neigh_ready(&t, &b));
	teardown(s, &t);
}
END_TEST

/* At most a quarter of the table resolves at once, and the kept entry
 * (the router) is never the one evicted. */
START_TEST(test_bounds)
{
	struct neigh_table t;
	struct stack *s = setup(&t);
	union inany r = v6(9);

	neigh_learn(&t, &r, peer_mac);
	t.keep = r;
	for (uint8_t i = 1; i <= 6; i++) {
		union inany a = v6(i);

		neigh_output(&t, &a, T_ETHERTYPE, piece(i, 10), NULL, 0);
		ck_assert_uint_le(t.incomplete, 1);
		ck_assert_uint_le(t.used, 4);
		ck_assert(neigh_ready(&t, &r));
	}
	for (uint8_t i = 20; i <= 26; i++) {
		union inany a = v6(i);

		th_advance(s, 1);
		neigh_learn(&t, &a, peer_mac);
		ck_assert(neigh_ready(&t, &r));
	}
	ck_assert_uint_eq(t.used, 4);
	teardown(s, &t);
}
END_TEST

static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x66};

/* A permanent entry: what waited goes out to it; no confirmation,
 * learning or advertisement (override or not) changes it; no timer runs;
 * nothing evicts it; at most size - 1 of them; cleared, it is gone. */
START_TEST(test_static)
{
	struct neigh_table t;
	struct stack *s = setup(&t);
	union inany a = v6(1), b = v6(2);
	uint8_t mac[6];

	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(1, 10), NULL, 0),
			 0);
	ck_assert_int_eq(neigh_set_static(&t, &a, peer_mac), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_mem_eq(th_frame(0)->data, peer_mac, 6);
	ck_assert_uint_eq(t.incomplete, 0);
	ck_assert_uint_eq(t.permanent, 1);
	/* Spoofs of every kind. */
	ck_assert(neigh_confirm(&t, &a, other_mac));
	neigh_learn(&t, &a, other_mac);
	ck_assert(neigh_update(&t, &a, other_mac,
			       NEIGH_SOLICITED | NEIGH_OVERRIDE));
	ck_assert(neigh_update(&t, &a, other_mac, NEIGH_CREATE));
	ck_assert_int_eq(neigh_lookup(&t, &a, mac), 0);
	ck_assert_mem_eq(mac, peer_mac, 6);
	/* No timer: a day later it is still there, never solicited. */
	sol.n = 0;
	th_advance(s, 86400000);
	ck_assert_uint_eq(sol.n, 0);
	ck_assert_int_eq(neigh_lookup(&t, &a, mac), 0);
	ck_assert_mem_eq(mac, peer_mac, 6);
	th_frames_clear();
	ck_assert_int_eq(neigh_output(&t, &a, T_ETHERTYPE, piece(2, 10), NULL, 0),
			 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_mem_eq(th_frame(0)->data, peer_mac, 6);
	/* A full table of learnt neighbours does not evict it. */
	for (uint8_t i = 20; i < 40; i++) {
		union inany x = v6(i);

		th_advance(s, 1);
		neigh_learn(&t, &x, other_mac);
	}
	ck_assert(neigh_ready(&t, &a));
	ck_assert_uint_eq(t.used, 4);
	/* Reset to another MAC by configuration only. */
	ck_assert_int_eq(neigh_set_static(&t, &a, other_mac), 0);
	ck_assert_uint_eq(t.permanent, 1);
	ck_assert_int_eq(neigh_lookup(&t, &a, mac), 0);
	ck_assert_mem_eq(mac, other_mac, 6);
	/* Three of four at most: one entry stays for everyone else. */
	for (uint8_t i = 2; i <= 3; i++) {
		union inany x = v6(i);

		ck_assert_int_eq(neigh_set_static(&t, &x, peer_mac), 0);
	}
	{
		union inany x = v6(4);

		ck_assert_int_eq(neigh_set_static(&t, &x, peer_mac), -ENOSPC);
	}
	ck_assert_uint_eq(t.permanent, 3);
	neigh_learn(&t, &b, other_mac); /* (b is static: unchanged) */
	ck_assert_int_eq(neigh_lookup(&t, &b, mac), 0);
	ck_assert_mem_eq(mac, peer_mac, 6);
	neigh_clear_static(&t);
	ck_assert_uint_eq(t.permanent, 0);
	ck_assert(!neigh_ready(&t, &a));
	/* Gone, the address is learnt like any other. */
	neigh_learn(&t, &a, other_mac);
	ck_assert_int_eq(neigh_lookup(&t, &a, mac), 0);
	ck_assert_mem_eq(mac, other_mac, 6);
	teardown(s, &t);
}
END_TEST

static Suite *neigh_suite(void)
{
	Suite *su = suite_create("neigh");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_solicit_queue_release);
	tcase_add_test(tc, test_packet_whole_or_nothing);
	tcase_add_test(tc, test_retries_and_stale);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_static);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(neigh_suite());
}
