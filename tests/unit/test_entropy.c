/* Random bytes from the kernel (entropy.c). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "daemon/entropy.h"
#include "helpers.h"

/* Every byte asked for is written: of 4096 bytes, no run of 64 is left
 * as it was (zero), which random data does once in 2^512. */
START_TEST(test_fills_all)
{
	static uint8_t buf[4096], zero[64];
	char err[256] = "";

	ck_assert_int_eq(entropy_fill(buf, sizeof(buf), err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	for (size_t i = 0; i < sizeof(buf); i += sizeof(zero))
		ck_assert(memcmp(buf + i, zero, sizeof(zero)) != 0);
}
END_TEST

/* Two draws are unrelated: keys drawn one after another differ. */
START_TEST(test_draws_differ)
{
	uint8_t a[16], b[16];
	char err[256];

	ck_assert_int_eq(entropy_fill(a, sizeof(a), err, sizeof(err)), 0);
	ck_assert_int_eq(entropy_fill(b, sizeof(b), err, sizeof(err)), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

/* Nothing asked, nothing read. */
START_TEST(test_empty)
{
	uint8_t x = 0x5a;
	char err[256];

	ck_assert_int_eq(entropy_fill(&x, 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(x, 0x5a);
}
END_TEST

static Suite *entropy_suite(void)
{
	Suite *su = suite_create("entropy");
	TCase *tc = tcase_create("getrandom");

	tcase_add_test(tc, test_fills_all);
	tcase_add_test(tc, test_draws_differ);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(entropy_suite());
}
