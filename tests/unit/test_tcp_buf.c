/*
 * TCP byte buffers (tcp_buf.c): the ring's wrap, growth, limit and release;
 * the out-of-order queue's hole filling, overlaps, limits, draining across
 * sequence wrap, and SACK block order.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp/tcp_buf.h"

static uint8_t pat[70000];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 3);
}

START_TEST(test_ring_append_peek_consume)
{
	struct bytering r;
	uint8_t out[100];

	fill();
	bytering_init(&r, 10000);
	ck_assert_uint_eq(bytering_room(&r), 10000);
	ck_assert_uint_eq(bytering_append(&r, pat, 3000), 3000);
	ck_assert_uint_eq(r.cap, 4096);
	bytering_peek(&r, 2950, out, 50);
	ck_assert_mem_eq(out, pat + 2950, 50);
	/* Wrap: consume 2500, append 3000 more into 4096. */
	bytering_consume(&r, 2500);
	ck_assert_uint_eq(bytering_append(&r, pat + 3000, 3000), 3000);
	ck_assert_uint_eq(r.cap, 4096);
	ck_assert_uint_eq(r.len, 3500);
	bytering_peek(&r, 400, out, 100); /* across the wrap point */
	ck_assert_mem_eq(out, pat + 2900, 100);
	/* Growth unwraps the contents. */
	ck_assert_uint_eq(bytering_append(&r, pat + 6000, 2000), 2000);
	ck_assert_uint_eq(r.cap, 8192);
	bytering_peek(&r, 0, out, 100);
	ck_assert_mem_eq(out, pat + 2500, 100);
	bytering_peek(&r, 5400, out, 100);
	ck_assert_mem_eq(out, pat + 7900, 100);
	bytering_consume(&r, 5500);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_ptr_null(r.buf); /* empty: storage released */
	bytering_fini(&r);
}
END_TEST

START_TEST(test_ring_limit)
{
	struct bytering r;
	const uint8_t *p;

	fill();
	bytering_init(&r, 5000);
	ck_assert_uint_eq(bytering_append(&r, pat, 4000), 4000);
	ck_assert_uint_eq(bytering_append(&r, pat + 4000, 4000), 1000);
	ck_assert_uint_eq(bytering_append(&r, pat, 1), 0);
	ck_assert_uint_eq(bytering_room(&r), 0);
	ck_assert_uint_eq(bytering_head_run(&r, &p), 5000);
	ck_assert_mem_eq(p, pat, 5000);
	bytering_consume(&r, 4500);
	ck_assert_uint_eq(bytering_append(&r, pat + 5000, 4500), 4500);
	/* The head run stops at the wrap. */
	ck_assert_uint_eq(bytering_head_run(&r, &p), 8192 - 4500);
	ck_assert_mem_eq(p, pat + 4500, 8192 - 4500);
	bytering_fini(&r);
	ck_assert_uint_eq(bytering_head_run(&r, &p), 0);
}
END_TEST

/* Queue pat[off, off+len) as sequence base+off. */
static size_t add(struct tcp_ooo *q, uint32_t base, uint32_t nxt, size_t off,
		  size_t len)
{
	return tcp_ooo_add(q, base + nxt, base + (uint32_t)off, pat + off, len);
}

static void check_ooo(uint32_t base)
{
	struct tcp_ooo q;
	struct bytering rb;
	struct tcp_sack_block sk[4];
	uint32_t nxt = base;
	uint8_t out[4000];

	fill();
	tcp_ooo_init(&q, 1 << 20);
	bytering_init(&rb, 1 << 20);
	/* Holes at [0,100) [200,300): ranges [100,200) [300,400). */
	ck_assert_uint_eq(add(&q, base, 0, 100, 100), 100);
	ck_assert_uint_eq(add(&q, base, 0, 300, 100), 100);
	ck_assert_uint_eq(q.nsegs, 2);
	ck_assert_uint_eq(tcp_ooo_sack(&q, sk, 4), 2);
	ck_assert_uint_eq(sk[0].start, base + 300); /* most recent first */
	ck_assert_uint_eq(sk[1].start, base + 100);
	/* Nothing in order yet. */
	ck_assert_uint_eq(tcp_ooo_drain(&q, &nxt, &rb), 0);
	/* A segment spanning [150,350): only the hole [200,300) is new. */
	ck_assert_uint_eq(add(&q, base, 0, 150, 200), 100);
	ck_assert_uint_eq(tcp_ooo_sack(&q, sk, 4), 1); /* [100,400) merged */
	ck_assert_uint_eq(sk[0].start, base + 100);
	ck_assert_uint_eq(sk[0].end, base + 400);
	/* A duplicate adds nothing. */
	ck_assert_uint_eq(add(&q, base, 0, 100, 300), 0);
	/* The first hole is the receiver's business: RCV.NXT moves when
	 * [0,100) arrives in order; then the queue drains to 400. */
	ck_assert_uint_eq(bytering_append(&rb, pat, 100), 100);
	nxt = base + 100;
	ck_assert_uint_eq(tcp_ooo_drain(&q, &nxt, &rb), 300);
	ck_assert_uint_eq(nxt, base + 400);
	ck_assert_uint_eq(q.nsegs, 0);
	ck_assert_uint_eq(q.bytes, 0);
	bytering_peek(&rb, 0, out, 400);
	ck_assert_mem_eq(out, pat, 400);
	ck_assert_uint_eq(tcp_ooo_sack(&q, sk, 4), 0);
	/* Data before RCV.NXT is trimmed; data wholly before is refused. */
	ck_assert_uint_eq(add(&q, base, 400, 300, 200), 100);
	ck_assert_uint_eq(add(&q, base, 400, 0, 300), 0);
	ck_assert_uint_eq(tcp_ooo_drain(&q, &nxt, &rb), 100);
	ck_assert_uint_eq(nxt, base + 500);
	tcp_ooo_fini(&q);
	bytering_fini(&rb);
}

START_TEST(test_ooo_fill_and_drain)
{
	check_ooo(1000);
}
END_TEST

START_TEST(test_ooo_across_wrap)
{
	/* The same, with sequence numbers wrapping through 2^32. */
	check_ooo(0xffffff00u);
	check_ooo(0xfffffff0u);
}
END_TEST

START_TEST(test_ooo_limit_counts_bookkeeping)
{
	struct tcp_ooo q;
	size_t n = 0, added;

	fill();
	/* One-byte segments in every other byte: bookkeeping counts, so the
	 * number held is bounded far below limit / 1. */
	tcp_ooo_init(&q, 10000);
	for (size_t i = 1; i < 20000; i += 2)
		n += add(&q, 0, 0, i, 1);
	ck_assert_uint_le(q.bytes, 10000);
	ck_assert_uint_lt(n, 10000 / 8);
	ck_assert_uint_le(q.nsegs, 256);
	ck_assert_uint_eq(q.nsegs, n);
	tcp_ooo_fini(&q);
	/* A big segment is cut at the limit. */
	tcp_ooo_init(&q, 2000);
	added = add(&q, 0, 0, 10, 5000);
	ck_assert_uint_eq(added, 0); /* one piece of 5000 does not fit */
	added = add(&q, 0, 0, 10, 1000);
	ck_assert_uint_eq(added, 1000);
	tcp_ooo_fini(&q);
	ck_assert_uint_eq(q.bytes, 0);
}
END_TEST

START_TEST(test_ooo_drain_stops_when_buffer_full)
{
	struct tcp_ooo q;
	struct bytering rb;
	uint32_t nxt = 0;
	uint8_t out[300];

	fill();
	tcp_ooo_init(&q, 1 << 20);
	bytering_init(&rb, 250);
	ck_assert_uint_eq(add(&q, 0, 0, 0, 200), 200);
	ck_assert_uint_eq(add(&q, 0, 0, 200, 100), 100);
	ck_assert_uint_eq(tcp_ooo_drain(&q, &nxt, &rb), 250);
	ck_assert_uint_eq(nxt, 250);
	ck_assert_uint_eq(q.nsegs, 1); /* the rest waits */
	bytering_consume(&rb, 250);
	ck_assert_uint_eq(tcp_ooo_drain(&q, &nxt, &rb), 50);
	ck_assert_uint_eq(nxt, 300);
	bytering_peek(&rb, 0, out, 50);
	ck_assert_mem_eq(out, pat + 250, 50);
	ck_assert_uint_eq(q.nsegs, 0);
	tcp_ooo_fini(&q);
	bytering_fini(&rb);
}
END_TEST

START_TEST(test_ooo_sack_order_and_max)
{
	struct tcp_ooo q;
	struct tcp_sack_block sk[4];

	fill();
	tcp_ooo_init(&q, 1 << 20);
	for (size_t i = 0; i < 6; i++)
		add(&q, 0, 0, 100 + i * 200, 100); /* six separate blocks */
	/* Extend the third block [500,600) by [600,650): most recent. */
	ck_assert_uint_eq(add(&q, 0, 0, 600, 50), 50);
	ck_assert_uint_eq(tcp_ooo_sack(&q, sk, 4), 4);
	ck_assert_uint_eq(sk[0].start, 500);
	ck_assert_uint_eq(sk[0].end, 650);
	ck_assert_uint_eq(sk[1].start, 100);
	ck_assert_uint_eq(sk[2].start, 300);
	ck_assert_uint_eq(sk[3].start, 700);
	ck_assert_uint_eq(tcp_ooo_sack(&q, sk, 0), 0);
	tcp_ooo_fini(&q);
}
END_TEST

START_TEST(test_ooo_random_against_model)
{
	/* Random segments into a 64 KiB window; the drained stream must be
	 * the pattern, byte for byte. */
	static uint8_t got[65536];
	struct tcp_ooo q;
	struct bytering rb;
	uint32_t base = 0xfffff000u, nxt = base;
	unsigned seed = 12345;

	fill();
	tcp_ooo_init(&q, 1 << 22);
	bytering_init(&rb, 1 << 17);
	while ((size_t)(nxt - base) < sizeof(got)) {
		size_t off, len;

		seed = seed * 1103515245u + 12345u;
		off = (nxt - base) + (seed >> 8) % 3000;
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 8) % 1500;
		if (off + len > sizeof(got))
			len = sizeof(got) - off;
		if (!len)
			continue;
		if (off == (size_t)(nxt - base)) {
			/* In order: straight to the buffer, as TCP does. */
			nxt += (uint32_t)bytering_append(&rb, pat + off, len);
		} else {
			add(&q, base, nxt - base, off, len);
		}
		tcp_ooo_drain(&q, &nxt, &rb);
	}
	ck_assert_uint_eq(rb.len, sizeof(got));
	bytering_peek(&rb, 0, got, sizeof(got));
	ck_assert_mem_eq(got, pat, sizeof(got));
	tcp_ooo_fini(&q);
	bytering_fini(&rb);
}
END_TEST

START_TEST(test_pool_limits_all_buffers)
{
	struct buf_pool pool = {.limit = 8192 + 2048};
	struct bytering a, b;
	struct tcp_ooo q;

	fill();
	bytering_init(&a, 1 << 20);
	bytering_init(&b, 1 << 20);
	tcp_ooo_init(&q, 1 << 20);
	a.pool = b.pool = q.pool = &pool;
	ck_assert_uint_eq(bytering_append(&a, pat, 4096), 4096);
	ck_assert_uint_eq(bytering_append(&b, pat, 4096), 4096);
	ck_assert_uint_eq(pool.used, 8192);
	/* Growing a to 8192 would take the pool past its limit. */
	ck_assert_uint_eq(bytering_append(&a, pat, 1), 0);
	/* Out-of-order data draws on the same pool. */
	ck_assert_uint_eq(tcp_ooo_add(&q, 0, 100, pat, 1000), 1000);
	ck_assert_uint_eq(tcp_ooo_add(&q, 0, 5000, pat, 2000), 0);
	/* Releasing b makes room. */
	bytering_consume(&b, 4096);
	ck_assert_uint_eq(bytering_append(&a, pat, 1), 1);
	ck_assert_uint_eq(a.cap, 8192);
	tcp_ooo_fini(&q);
	bytering_fini(&a);
	bytering_fini(&b);
	ck_assert_uint_eq(pool.used, 0);
}
END_TEST

/* Past 7/8 of the pool's limit no ring grows beyond the share, though
 * memory is left: what remains goes to many rings, not to the first. */
START_TEST(test_pool_share_under_pressure)
{
	static uint8_t big[512 * 1024];
	struct buf_pool pool = {.limit = 1 << 20, .share = 8192};
	struct bytering a, b, c, d, e;

	bytering_init(&a, 1 << 20);
	bytering_init(&b, 1 << 20);
	bytering_init(&c, 1 << 20);
	bytering_init(&d, 1 << 20);
	bytering_init(&e, 1 << 20);
	a.pool = b.pool = c.pool = d.pool = e.pool = &pool;
	/* Up to 7/8 (896 KiB) rings grow past the share. */
	ck_assert_uint_eq(bytering_append(&a, big, 512 * 1024), 512 * 1024);
	ck_assert_uint_eq(bytering_append(&c, big, 256 * 1024), 256 * 1024);
	ck_assert_uint_eq(bytering_append(&e, big, 128 * 1024), 128 * 1024);
	ck_assert_uint_eq(pool.used, 896 * 1024);
	ck_assert(!pool.refused);
	/* Past it, up to the share only. */
	ck_assert_uint_eq(bytering_append(&b, big, 8192), 8192);
	ck_assert_uint_eq(b.cap, 8192);
	ck_assert_uint_eq(bytering_append(&b, big, 1), 0);
	ck_assert(pool.refused);
	ck_assert_uint_eq(bytering_append(&d, big, 4096), 4096);
	/* Below 7/8 again: b grows. */
	bytering_consume(&c, c.len);
	ck_assert_uint_eq(bytering_append(&b, big, 1), 1);
	ck_assert_uint_eq(b.cap, 16384);
	ck_assert_uint_le(pool.peak, pool.limit);
	bytering_fini(&a);
	bytering_fini(&b);
	bytering_fini(&c);
	bytering_fini(&d);
	bytering_fini(&e);
	ck_assert_uint_eq(pool.used, 0);
}
END_TEST

/* A reserve takes the memory an append will need; trim gives an unused
 * one back. */
START_TEST(test_ring_reserve_trim)
{
	struct buf_pool pool = {.limit = 8192};
	struct bytering r;

	fill();
	bytering_init(&r, 1 << 20);
	r.pool = &pool;
	ck_assert(bytering_reserve(&r, 100));
	ck_assert_uint_eq(pool.used, 4096);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_ptr_null(r.buf); /* charged, not allocated */
	bytering_trim(&r);
	ck_assert_uint_eq(pool.used, 0);
	ck_assert(bytering_reserve(&r, 8192));
	ck_assert(!bytering_reserve(&r, 8193));
	ck_assert_uint_eq(bytering_append(&r, pat, 100), 100);
	bytering_trim(&r); /* not empty: kept */
	ck_assert_uint_eq(pool.used, 8192);
	bytering_fini(&r);
	ck_assert_uint_eq(pool.used, 0);
	ck_assert_uint_eq(pool.peak, 8192);
}
END_TEST

static Suite *tcp_buf_suite(void)
{
	Suite *s = suite_create("tcp_buf");
	TCase *tc = tcase_create("buffers");

	tcase_add_test(tc, test_ring_append_peek_consume);
	tcase_add_test(tc, test_ring_limit);
	tcase_add_test(tc, test_ooo_fill_and_drain);
	tcase_add_test(tc, test_ooo_across_wrap);
	tcase_add_test(tc, test_ooo_limit_counts_bookkeeping);
	tcase_add_test(tc, test_ooo_drain_stops_when_buffer_full);
	tcase_add_test(tc, test_ooo_sack_order_and_max);
	tcase_add_test(tc, test_ooo_random_against_model);
	tcase_add_test(tc, test_pool_limits_all_buffers);
	tcase_add_test(tc, test_pool_share_under_pressure);
	tcase_add_test(tc, test_ring_reserve_trim);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tcp_buf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
