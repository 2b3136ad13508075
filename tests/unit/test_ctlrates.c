/* tapirctl stats --interval: reading the text stats answer, and the rates
 * between two answers, as text and as JSON. */
#include "ctlrates.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *t)
{
	char *p = strdup(t);

	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(test_parse)
{
	struct ctr_sample s = {0};
	char *t = xstrdup("link_rx_frames                                   "
		      "                  120\n"
		      "tcp_dropped reason=paws                          "
		      "                    7\n"
		      "tcp_connections state=established                "
		      "                    3\n"
		      "tcp_memory_bytes                                 "
		      "                 8192\n"
		      "tcp_memory_peak_bytes                            "
		      "                16384\n"
		      "module_http_requests                             "
		      "                   18446744073709551615\n");

	ck_assert_int_eq(ctr_sample_parse(&s, t), 0);
	ck_assert_uint_eq(s.n, 3); /* the gauges left out */
	ck_assert_str_eq(s.c[0].name, "link_rx_frames");
	ck_assert_uint_eq(ctr_sample_get(&s, "link_rx_frames"), 120);
	ck_assert_uint_eq(ctr_sample_get(&s, "tcp_dropped reason=paws"), 7);
	ck_assert_uint_eq(ctr_sample_get(&s, "module_http_requests"),
			  UINT64_MAX);
	ck_assert_uint_eq(ctr_sample_get(&s, "tcp_connections state=established"),
			  0);
	ck_assert_uint_eq(ctr_sample_get(&s, "tcp_memory_bytes"), 0);
	ck_assert_uint_eq(ctr_sample_get(&s, "absent"), 0);
	ctr_sample_free(&s);
	free(t);
}
END_TEST

START_TEST(test_parse_bad)
{
	static const char *const bad[] = {
		"novalue\n", "name 12x\n", " 12\n", "name -3\n", "name \n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctr_sample s = {0};
		char *t = xstrdup(bad[i]);

		ck_assert_msg(ctr_sample_parse(&s, t) < 0, "%s read", bad[i]);
		ctr_sample_free(&s);
		free(t);
	}
}
END_TEST

/* No more than CTR_SAMPLE_MAX counters are kept, however long the
 * answer. */
START_TEST(test_parse_bounded)
{
	size_t n = CTR_SAMPLE_MAX + 10, len = 0;
	char *t = malloc(n * 32);
	struct ctr_sample s = {0};

	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(t + len, "c%zu %zu\n", i, i);
	ck_assert_int_eq(ctr_sample_parse(&s, t), 0);
	ck_assert_uint_eq(s.n, CTR_SAMPLE_MAX);
	ctr_sample_free(&s);
	free(t);
}
END_TEST

static char *print(const char *a, const char *b, double secs, bool json)
{
	struct ctr_sample p = {0}, c = {0};
	char *ta = xstrdup(a), *tb = xstrdup(b), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ctr_sample_parse(&p, ta), 0);
	ck_assert_int_eq(ctr_sample_parse(&c, tb), 0);
	ctr_rates_print(f, &p, &c, secs, "2026-12-07T10:00:00Z", json);
	fclose(f);
	ctr_sample_free(&p);
	ctr_sample_free(&c);
	free(ta);
	free(tb);
	return out;
}

/* Changes over the span; unchanged counters left out; one that appeared
 * counts from zero; one that went down (tapird restarted) too. */
START_TEST(test_rates)
{
	const char *a = "ip4_rx 100\nip4_tx 50\ntcp_dropped reason=paws 9\n"
			"module_dns_queries 1000\n";
	const char *b = "ip4_rx 110\nip4_tx 50\ntcp_dropped reason=paws 9\n"
			"icmp4_echo_requests 4\nmodule_dns_queries 6\n";
	char *out = print(a, b, 2.0, false);

	ck_assert_str_eq(out,
			 "2026-12-07T10:00:00Z  per second over 2.000 s\n"
			 "  ip4_rx                                           "
			 "           5.0\n"
			 "  icmp4_echo_requests                              "
			 "           2.0\n"
			 "  module_dns_queries                               "
			 "           3.0\n");
	free(out);
	out = print(a, b, 0.5, true);
	ck_assert_str_eq(out,
			 "{\"time\":\"2026-12-07T10:00:00Z\","
			 "\"interval_seconds\":0.500,\"rates\":{"
			 "\"ip4_rx\":20.000,\"icmp4_echo_requests\":8.000,"
			 "\"module_dns_queries\":12.000}}\n");
	free(out);
	out = print(a, a, 1.0, false);
	ck_assert_str_eq(out, "2026-12-07T10:00:00Z  per second over 1.000 s\n"
			      "  (no counter changed)\n");
	free(out);
	out = print(a, a, 1.0, true);
	ck_assert_str_eq(out, "{\"time\":\"2026-12-07T10:00:00Z\","
			      "\"interval_seconds\":1.000,\"rates\":{}}\n");
	free(out);
	/* A drop reason keeps its name in the JSON key. */
	out = print("x 1\n", "tcp_dropped reason=paws 3\n", 1.0, true);
	ck_assert_ptr_nonnull(strstr(out, "\"tcp_dropped reason=paws\":3.000"));
	free(out);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("ctlrates");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_parse_bounded);
	tcase_add_test(tc, test_rates);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
