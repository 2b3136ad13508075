/*
 * The installed header-only helpers for modules (src/include/tapir/):
 * addr.h (family-neutral addresses: mapping, comparison, RFC 5952 text,
 * parsing, netmasks), bytes.h (the cursor that fails once and stays
 * failed, the bounded writer, big-endian fields), text.h (ASCII case,
 * strict decimals, hex digits) and histogram.h (bucket bounds).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/addr.h>
#include <tapir/bytes.h>
#include <tapir/histogram.h>
#include <tapir/text.h>

/* ---- addr.h ------------------------------------------------------------- */

START_TEST(test_addr_v4_mapping)
{
	struct tapir_addr a = tapir_addr_from_v4(0x0a000002);
	static const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0,
					 0, 0, 0xff, 0xff, 10, 0, 0, 2};

	ck_assert_mem_eq(a.b, want, 16);
	ck_assert(tapir_addr_is_v4(&a));
	ck_assert_uint_eq(tapir_addr_v4(&a), 0x0a000002);
	ck_assert(!tapir_addr_is_unspec(&a));
	a = tapir_addr_from_v4(0);
	ck_assert(tapir_addr_is_unspec(&a));
	memset(&a, 0, sizeof(a));
	ck_assert(tapir_addr_is_unspec(&a));
	ck_assert(!tapir_addr_is_v4(&a));
	a.b[15] = 1; /* ::1 */
	ck_assert(!tapir_addr_is_unspec(&a));
	ck_assert(!tapir_addr_is_v4(&a));
}
END_TEST

START_TEST(test_addr_eq)
{
	struct tapir_addr a = tapir_addr_from_v4(0xc0a80001);
	struct tapir_addr b = tapir_addr_from_v4(0xc0a80001);
	struct tapir_addr c = tapir_addr_from_v4(0xc0a80002);

	ck_assert(tapir_addr_eq(&a, &b));
	ck_assert(!tapir_addr_eq(&a, &c));
	ck_assert(tapir_addr_parse("::ffff:192.168.0.1", &c));
	ck_assert(tapir_addr_eq(&a, &c));
}
END_TEST

/* Text in, RFC 5952 (or a dotted quad) out. */
static const struct {
	const char *in, *out;
} texts[] = {
	{"10.0.0.2", "10.0.0.2"},
	{"0.0.0.0", "0.0.0.0"},
	{"255.255.255.255", "255.255.255.255"},
	{"::ffff:1.2.3.4", "1.2.3.4"},
	{"::", "::"},
	{"::1", "::1"},
	{"1::", "1::"},
	{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
	{"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
	{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one 0: kept */
	{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          /* longest run */
	{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* first of equals */
	{"fe80::0abc:def", "fe80::abc:def"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"::0.0.0.1", "::1"}, /* IPv4-compatible is not mapped */
	{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"}, /* one group: no "::" */
	{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
	{"1:0:0:0:0:0:0:0", "1::"},
	{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
};

START_TEST(test_addr_text)
{
	struct tapir_addr a;
	char buf[TAPIR_ADDR_STRLEN];

	ck_assert_msg(tapir_addr_parse(texts[_i].in, &a), "%s", texts[_i].in);
	ck_assert_str_eq(tapir_addr_format(&a, buf), texts[_i].out);
	ck_assert_uint_lt(strlen(buf), TAPIR_ADDR_STRLEN);
}
END_TEST

START_TEST(test_addr_parse_rejects)
{
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "1.2.3.4.5", "::g", "1:2:3:4:5:6:7:8:9",
		"1::2::3", " 10.0.0.1", "10.0.0.1/24", "[::1]", "01.2.3.4",
		"1.2.3.4::", "::1.2.3.4.5", "12345::", ":1::", "1:", ":::",
		"1:2:3:4:5:6:7:8::", "1:2:3:4::5:6:7:8", "::ffff:1.2.3",
		"1:2:3:4:5:6:7:1.2.3.4", "1.2.3.04", "1..2.3"};
	struct tapir_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!tapir_addr_parse(bad[i], &a), "%s", bad[i]);
	ck_assert(!tapir_addr_parse(NULL, &a));
}
END_TEST

START_TEST(test_v4_mask)
{
	ck_assert_uint_eq(tapir_v4_mask(0), 0);
	ck_assert_uint_eq(tapir_v4_mask(1), 0x80000000u);
	ck_assert_uint_eq(tapir_v4_mask(24), 0xffffff00u);
	ck_assert_uint_eq(tapir_v4_mask(31), 0xfffffffeu);
	ck_assert_uint_eq(tapir_v4_mask(32), 0xffffffffu);
	ck_assert_uint_eq(tapir_v4_mask(40), 0xffffffffu);
}
END_TEST

/* ---- bytes.h ------------------------------------------------------------ */

START_TEST(test_cur_reads_in_order)
{
	static const uint8_t m[] = {1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				    9, 8};
	struct tapir_cur c = tapir_cur(m, sizeof(m));

	ck_assert_uint_eq(tapir_cur_u8(&c), 1);
	ck_assert_uint_eq(tapir_cur_be16(&c), 0x0203);
	ck_assert_uint_eq(tapir_cur_be32(&c), 0x04050607);
	ck_assert(tapir_cur_ok(&c));
	ck_assert_uint_eq(c.len, 2);
	ck_assert_ptr_eq(tapir_cur_pull(&c, 2), m + 7);
	ck_assert(tapir_cur_ok(&c));
	ck_assert_uint_eq(c.len, 0);
	ck_assert_ptr_nonnull(tapir_cur_pull(&c, 0)); /* nothing, fine */
}
END_TEST

START_TEST(test_cur_fails_once_and_stays_failed)
{
	static const uint8_t m[] = {0xaa, 0xbb, 0xcc};
	struct tapir_cur c = tapir_cur(m, sizeof(m));
	uint8_t out[4] = {0};

	ck_assert_uint_eq(tapir_cur_be16(&c), 0xaabb);
	ck_assert_uint_eq(tapir_cur_be16(&c), 0); /* one byte left */
	ck_assert(!tapir_cur_ok(&c));
	ck_assert_uint_eq(c.len, 0);
	/* Everything after fails too, even what would have fitted. */
	ck_assert_uint_eq(tapir_cur_u8(&c), 0);
	ck_assert_ptr_null(tapir_cur_pull(&c, 0));
	ck_assert(!tapir_cur_skip(&c, 0));
	ck_assert(!tapir_cur_copy(&c, out, 1));
	ck_assert_uint_eq(out[0], 0);
	ck_assert(!tapir_cur_ok(&c));
	/* An impossible length. */
	c = tapir_cur(m, sizeof(m));
	ck_assert_ptr_null(tapir_cur_pull(&c, SIZE_MAX));
	ck_assert(!tapir_cur_ok(&c));
	/* NULL with no bytes is an empty cursor, not a failed one. */
	c = tapir_cur(NULL, 0);
	ck_assert(tapir_cur_ok(&c));
	ck_assert_uint_eq(tapir_cur_u8(&c), 0);
	ck_assert(!tapir_cur_ok(&c));
}
END_TEST

/* A length from the wire: checked once by sub() or trim(), then the part
 * it delimits cannot be read past. */
START_TEST(test_cur_sub_and_trim)
{
	static const uint8_t m[] = {3, 'a', 'b', 'c', 'd', 'e'};
	struct tapir_cur c = tapir_cur(m, sizeof(m)), part;

	part = tapir_cur_sub(&c, tapir_cur_u8(&c));
	ck_assert(tapir_cur_ok(&part));
	ck_assert_uint_eq(part.len, 3);
	ck_assert_uint_eq(c.len, 2); /* the parent moved past the part */
	ck_assert(tapir_cur_skip(&part, 3));
	ck_assert_uint_eq(tapir_cur_u8(&part), 0);
	ck_assert(!tapir_cur_ok(&part));
	ck_assert(tapir_cur_ok(&c)); /* the part's failure is its own */
	ck_assert_uint_eq(tapir_cur_u8(&c), 'd');
	/* A length past the end fails both. */
	c = tapir_cur(m, sizeof(m));
	part = tapir_cur_sub(&c, 7);
	ck_assert(!tapir_cur_ok(&part));
	ck_assert(!tapir_cur_ok(&c));
	/* trim keeps the first n bytes. */
	c = tapir_cur(m, sizeof(m));
	ck_assert(tapir_cur_trim(&c, 2));
	ck_assert_uint_eq(tapir_cur_be16(&c), 0x0361);
	ck_assert_uint_eq(tapir_cur_u8(&c), 0);
	ck_assert(!tapir_cur_ok(&c));
	c = tapir_cur(m, sizeof(m));
	ck_assert(!tapir_cur_trim(&c, 7));
	ck_assert(!tapir_cur_ok(&c));
}
END_TEST

static bool is_digit(uint8_t b)
{
	return b >= '0' && b <= '9';
}

/* Text delimited by bytes: a missing delimiter leaves the cursor as it
 * was (more may arrive); nothing is read past the end. */
START_TEST(test_cur_text)
{
	static const char m[] = "12a:b\r";
	struct tapir_cur c = tapir_cur(m, sizeof(m) - 1), head, run;

	ck_assert_int_eq(tapir_cur_peek(&c), '1');
	ck_assert_uint_eq(c.len, 6); /* peek does not move */
	ck_assert(!tapir_cur_eat(&c, '2'));
	ck_assert_uint_eq(c.len, 6);
	ck_assert(tapir_cur_eat(&c, '1'));
	ck_assert_uint_eq(c.len, 5);
	/* eat_last drops one matching byte from the end, no more. */
	ck_assert(!tapir_cur_eat_last(&c, 'b'));
	ck_assert(tapir_cur_eat_last(&c, '\r'));
	ck_assert(!tapir_cur_eat_last(&c, '\r'));
	ck_assert_uint_eq(c.len, 4); /* "2a:b" */
	/* span: the digits, then an empty run. */
	run = tapir_cur_span(&c, is_digit);
	ck_assert(tapir_cur_ok(&run));
	ck_assert_ptr_eq(run.p, (const uint8_t *)m + 1);
	ck_assert_uint_eq(run.len, 1);
	run = tapir_cur_span(&c, is_digit);
	ck_assert(tapir_cur_ok(&run));
	ck_assert_uint_eq(run.len, 0);
	ck_assert_uint_eq(c.len, 3); /* "a:b" */
	/* split: found, then not found (c unchanged, not failed). */
	ck_assert(!tapir_cur_split(&c, ';', &head));
	ck_assert_uint_eq(c.len, 3);
	ck_assert(tapir_cur_split(&c, ':', &head));
	ck_assert_ptr_eq(head.p, (const uint8_t *)m + 2);
	ck_assert_uint_eq(head.len, 1);
	ck_assert_uint_eq(c.len, 1);
	ck_assert_int_eq(tapir_cur_peek(&c), 'b');
	ck_assert(tapir_cur_split(&c, 'b', &head)); /* delimiter last */
	ck_assert_uint_eq(head.len, 0);
	ck_assert_uint_eq(c.len, 0);
	ck_assert(tapir_cur_ok(&c));
	/* Empty: nothing to peek, eat, split or span. */
	ck_assert_int_eq(tapir_cur_peek(&c), -1);
	ck_assert(!tapir_cur_eat(&c, 0));
	ck_assert(!tapir_cur_eat_last(&c, 0));
	ck_assert(!tapir_cur_split(&c, 0, &head));
	ck_assert_uint_eq(tapir_cur_span(&c, is_digit).len, 0);
	ck_assert(tapir_cur_ok(&c));
	/* A byte above 0x7f peeks as itself, not negative. */
	c = tapir_cur("\xff", 1);
	ck_assert_int_eq(tapir_cur_peek(&c), 0xff);
	/* A failed cursor finds nothing and spans a failed cursor. */
	tapir_cur_fail(&c);
	ck_assert_int_eq(tapir_cur_peek(&c), -1);
	ck_assert(!tapir_cur_eat(&c, 0));
	ck_assert(!tapir_cur_eat_last(&c, 0));
	ck_assert(!tapir_cur_split(&c, 0, &head));
	run = tapir_cur_span(&c, is_digit);
	ck_assert(!tapir_cur_ok(&run));
	ck_assert(!tapir_cur_ok(&c));
}
END_TEST

START_TEST(test_wbuf_bounded)
{
	uint8_t buf[7];
	struct tapir_wbuf w = tapir_wbuf(buf, sizeof(buf));
	static const uint8_t want[7] = {1, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef};

	ck_assert(tapir_wbuf_u8(&w, 1));
	ck_assert(tapir_wbuf_be16(&w, 0x1234));
	ck_assert(tapir_wbuf_be32(&w, 0xdeadbeef));
	ck_assert(w.ok);
	ck_assert_uint_eq(w.len, 7);
	ck_assert_mem_eq(buf, want, 7);
	ck_assert(!tapir_wbuf_u8(&w, 2)); /* full */
	ck_assert(!w.ok);
	ck_assert_uint_eq(w.len, 7);
	w = tapir_wbuf(buf, 3);
	ck_assert(tapir_wbuf_u8(&w, 9));
	ck_assert(!tapir_wbuf_be32(&w, 0)); /* does not fit: nothing written */
	ck_assert_uint_eq(w.len, 1);
	ck_assert(!tapir_wbuf_u8(&w, 9)); /* stays failed */
	ck_assert(!tapir_wbuf_put(&w, "", 0));
}
END_TEST

START_TEST(test_be_fields)
{
	uint8_t b[4];

	tapir_put_be16(b, 0xabcd);
	ck_assert_uint_eq(b[0], 0xab);
	ck_assert_uint_eq(b[1], 0xcd);
	ck_assert_uint_eq(tapir_get_be16(b), 0xabcd);
	tapir_put_be32(b, 0x01020304);
	ck_assert_uint_eq(b[0], 1);
	ck_assert_uint_eq(b[3], 4);
	ck_assert_uint_eq(tapir_get_be32(b), 0x01020304);
}
END_TEST

/* ---- text.h ------------------------------------------------------------- */

START_TEST(test_ascii_case)
{
	ck_assert_uint_eq(tapir_lower('A'), 'a');
	ck_assert_uint_eq(tapir_lower('Z'), 'z');
	ck_assert_uint_eq(tapir_lower('a'), 'a');
	ck_assert_uint_eq(tapir_lower('@'), '@');
	ck_assert_uint_eq(tapir_lower('['), '[');
	ck_assert_uint_eq(tapir_lower(0xc4), 0xc4); /* not ASCII: as it is */
	ck_assert(tapir_ieq("Content-LENGTH", "content-length", 14));
	ck_assert(!tapir_ieq("a[", "A{", 2)); /* '[' and '{' differ by 0x20 */
	ck_assert(tapir_ieq_str("Keep-Alive", 10, "keep-alive"));
	ck_assert(!tapir_ieq_str("Keep-Alive", 4, "keep-alive"));
	ck_assert(!tapir_ieq_str("close!", 6, "close"));
	ck_assert(tapir_iprefix("HTTP://x", 8, "http://"));
	ck_assert(!tapir_iprefix("HTTP:", 5, "http://"));
	ck_assert_int_eq(tapir_hexval('0'), 0);
	ck_assert_int_eq(tapir_hexval('f'), 15);
	ck_assert_int_eq(tapir_hexval('F'), 15);
	ck_assert_int_eq(tapir_hexval('g'), -1);
	ck_assert_int_eq(tapir_hexval('G'), -1);
	ck_assert_int_eq(tapir_hexval(':'), -1);
}
END_TEST

START_TEST(test_decimals)
{
	uint64_t v = 7;

	ck_assert_uint_eq(tapir_dec_prefix("123-4", 5, 19, &v), 3);
	ck_assert_uint_eq(v, 123);
	ck_assert_uint_eq(tapir_dec_prefix("-1", 2, 19, &v), 0);
	ck_assert_uint_eq(tapir_dec_prefix("", 0, 19, &v), 0);
	ck_assert_uint_eq(v, 123); /* untouched when nothing was read */
	ck_assert_uint_eq(tapir_dec_prefix("9999999999999999999", 19, 19, &v),
			  19);
	ck_assert_uint_eq(v, 9999999999999999999ull);
	ck_assert_uint_eq(tapir_dec_prefix("12345678901234567890", 20, 19, &v),
			  0); /* a 20th digit */
	ck_assert_uint_eq(tapir_dec_prefix("1234", 4, 3, &v), 0);
	ck_assert_uint_eq(tapir_dec_prefix("12", 1, 3, &v), 1); /* len bounds */
	ck_assert_uint_eq(v, 1);

	ck_assert(tapir_dec_parse("65535", 5, 10, 65535, &v));
	ck_assert_uint_eq(v, 65535);
	v = 1;
	ck_assert(!tapir_dec_parse("65536", 5, 10, 65535, &v));
	ck_assert(!tapir_dec_parse("", 0, 10, 65535, &v));
	ck_assert(!tapir_dec_parse("+1", 2, 10, 65535, &v));
	ck_assert(!tapir_dec_parse(" 1", 2, 10, 65535, &v));
	ck_assert(!tapir_dec_parse("1 ", 2, 10, 65535, &v));
	ck_assert(!tapir_dec_parse("0x10", 4, 10, 65535, &v));
	ck_assert_uint_eq(v, 1); /* untouched on failure */
	ck_assert(tapir_dec_parse("007", 3, 10, 65535, &v));
	ck_assert_uint_eq(v, 7);
}
END_TEST

/* ---- histogram.h --------------------------------------------------------- */

/* Every value lands in the first bucket whose bound it does not exceed:
 * checked on each bound, one above it, and against a plain search. */
START_TEST(test_hist_index)
{
	struct tapir_histogram h;
	uint64_t probes[] = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 1024, 1025,
			     33554431, 33554432, 33554433, UINT64_MAX / 2,
			     UINT64_MAX};

	ck_assert_uint_eq(tapir_hist_bound_us(0), 16);
	ck_assert_uint_eq(tapir_hist_bound_us(TAPIR_HIST_BUCKETS - 1),
			  33554432);
	for (unsigned i = 0; i < TAPIR_HIST_BUCKETS; i++) {
		uint64_t b = tapir_hist_bound_us(i);

		ck_assert_uint_eq(tapir_hist_index(b), i);
		ck_assert_uint_eq(tapir_hist_index(b + 1), i + 1);
		if (i)
			ck_assert_uint_eq(b, 2 * tapir_hist_bound_us(i - 1));
	}
	for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
		unsigned want = TAPIR_HIST_BUCKETS;

		for (unsigned i = 0; i < TAPIR_HIST_BUCKETS; i++)
			if (probes[k] <= tapir_hist_bound_us(i)) {
				want = i;
				break;
			}
		ck_assert_uint_eq(tapir_hist_index(probes[k]), want);
	}
	memset(&h, 0, sizeof(h));
	tapir_hist_observe(&h, 20);
	tapir_hist_observe(&h, 40000000);
	tapir_hist_observe(NULL, 5); /* no histogram: nothing happens */
	ck_assert_uint_eq(h.count, 2);
	ck_assert_uint_eq(h.sum_us, 40000020);
	ck_assert_uint_eq(h.bucket[1], 1);
	ck_assert_uint_eq(h.bucket[TAPIR_HIST_BUCKETS], 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tapir_headers");
	TCase *tc = tcase_create("addr");
	TCase *tb = tcase_create("bytes");
	TCase *tt = tcase_create("text");

	tcase_add_test(tc, test_addr_v4_mapping);
	tcase_add_test(tc, test_addr_eq);
	tcase_add_loop_test(tc, test_addr_text, 0,
			    (int)(sizeof(texts) / sizeof(texts[0])));
	tcase_add_test(tc, test_addr_parse_rejects);
	tcase_add_test(tc, test_v4_mask);
	suite_add_tcase(s, tc);
	tcase_add_test(tb, test_cur_reads_in_order);
	tcase_add_test(tb, test_cur_fails_once_and_stays_failed);
	tcase_add_test(tb, test_cur_sub_and_trim);
	tcase_add_test(tb, test_cur_text);
	tcase_add_test(tb, test_wbuf_bounded);
	tcase_add_test(tb, test_be_fields);
	suite_add_tcase(s, tb);
	tcase_add_test(tt, test_ascii_case);
	tcase_add_test(tt, test_decimals);
	tcase_add_test(tt, test_hist_index);
	suite_add_tcase(s, tt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
