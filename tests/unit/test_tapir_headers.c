/*
 * The installed header-only helpers for modules (src/include/tapir/):
 * addr.h (family-neutral addresses: mapping, comparison, RFC 5952 text,
 * parsing).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/addr.h>

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
		"1::2::3", " 10.0.0.1", "10.0.0.1/24", "[::1]"};
	struct tapir_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!tapir_addr_parse(bad[i], &a), "%s", bad[i]);
	ck_assert(!tapir_addr_parse(NULL, &a));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("tapir_headers");
	TCase *tc = tcase_create("addr");

	tcase_add_test(tc, test_addr_v4_mapping);
	tcase_add_test(tc, test_addr_eq);
	tcase_add_loop_test(tc, test_addr_text, 0,
			    (int)(sizeof(texts) / sizeof(texts[0])));
	tcase_add_test(tc, test_addr_parse_rejects);
	suite_add_tcase(s, tc);
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
