/* Random bytes from the kernel, and keys from the machine's identity
 * (entropy.c). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A machine-id file holding text, in a fresh temporary directory; the
 * caller removes both with id_file_done(). */
static char id_dir[64], id_path[96];

static const char *id_file(const char *text)
{
	FILE *f;

	snprintf(id_dir, sizeof(id_dir), "/tmp/tapir-entropy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(id_dir));
	snprintf(id_path, sizeof(id_path), "%s/machine-id", id_dir);
	f = fopen(id_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return id_path;
}

static void id_file_done(void)
{
	unlink(id_path);
	rmdir(id_dir);
}

#define ID "0123456789abcdef0123456789abcdef\n"

/* The key is the same for the same machine, purpose and name (it must not
 * move from one start to the next), and pinned: a change of the derivation
 * would move every link-local address, so it is never made by accident. */
START_TEST(test_machine_key_stable)
{
	static const uint8_t want[16] = {0x53, 0xcc, 0x69, 0x44, 0xed, 0x8f,
					 0xc1, 0x3f, 0xa9, 0x1f, 0x72, 0xbd,
					 0x49, 0x77, 0x19, 0xdb};
	uint8_t a[16], b[16];
	char err[256] = "";
	const char *path = id_file(ID);

	ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
					     "tapir0", a, err, sizeof(err)),
			 0);
	ck_assert_str_eq(err, "");
	ck_assert_mem_eq(a, want, sizeof(want));
	ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
					     "tapir0", b, err, sizeof(err)),
			 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	id_file_done();
	/* Without the newline, and in capitals, it is the same identity. */
	path = id_file("0123456789ABCDEF0123456789ABCDEF");
	ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
					     "tapir0", b, err, sizeof(err)),
			 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	id_file_done();
}
END_TEST

/* Another interface, purpose or machine: an unrelated key. */
START_TEST(test_machine_key_differs)
{
	uint8_t a[16], b[16], c[16], d[16];
	char err[256];
	const char *path = id_file(ID);

	ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
					     "tapir0", a, err, sizeof(err)),
			 0);
	ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
					     "tapir1", b, err, sizeof(err)),
			 0);
	/* The boundary between purpose and name counts. */
	ck_assert_int_eq(entropy_machine_key(path, "RFC 7217 interface "
						   "identifiert",
					     "apir0", c, err, sizeof(err)),
			 0);
	id_file_done();
	path = id_file("1123456789abcdef0123456789abcdef\n");
	ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
					     "tapir0", d, err, sizeof(err)),
			 0);
	id_file_done();
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert(memcmp(a, c, sizeof(a)) != 0);
	ck_assert(memcmp(a, d, sizeof(a)) != 0);
	ck_assert(memcmp(b, d, sizeof(a)) != 0);
}
END_TEST

/* No identity: a missing file, an empty one, systemd's "uninitialized"
 * of the first boot, anything but 32 hex digits.  Each says why. */
START_TEST(test_machine_key_no_id)
{
	static const char *const bad[] = {
		"", "uninitialized\n", "0123456789abcdef0123456789abcde\n",
		"0123456789abcdef0123456789abcdef0\n",
		"0123456789abcdef0123456789abcdeg\n", ID "x",
	};
	uint8_t k[16];
	char err[256];

	ck_assert_int_eq(entropy_machine_key("/nonexistent/machine-id",
					     ENTROPY_PURPOSE_IID, "tapir0", k,
					     err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "cannot read /nonexistent/machine-id: No such "
			      "file or directory");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = id_file(bad[i]);
		char want[200];

		err[0] = '\0';
		ck_assert_int_eq(entropy_machine_key(path, ENTROPY_PURPOSE_IID,
						     "tapir0", k, err,
						     sizeof(err)),
				 -1);
		snprintf(want, sizeof(want),
			 "%s holds no machine ID (32 hex digits; "
			 "systemd-machine-id-setup writes one)",
			 path);
		ck_assert_str_eq(err, want);
		id_file_done();
	}
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
	tc = tcase_create("machine key");
	tcase_add_test(tc, test_machine_key_stable);
	tcase_add_test(tc, test_machine_key_differs);
	tcase_add_test(tc, test_machine_key_no_id);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(entropy_suite());
}
