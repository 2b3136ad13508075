/*
 * Logging (log.c): plain lines with the program name on a terminal or
 * file, <N> priority prefixes when stderr is the journal (JOURNAL_STREAM
 * names its device and inode), one line per event, and the level filter.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"

static char path[64];
static int saved = -1;

/* Point stderr at a fresh temporary file. */
static void setup(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/tapir-log-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_INFO);
}

static void teardown(void)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
	unlink(path);
	unsetenv("JOURNAL_STREAM");
}

/* Everything written to stderr so far. */
static const char *logged(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_plain)
{
	log_init("tapird");
	log_err("cannot open %s", "/dev/net/tun");
	log_info("ready");
	ck_assert_str_eq(logged(), "tapird: cannot open /dev/net/tun\n"
				   "tapird: ready\n");
}
END_TEST

START_TEST(test_journal_prefixes)
{
	struct stat st;
	char js[64];

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("tapird");
	log_err("bad");
	log_warn("careful");
	log_notice("ready");
	ck_assert_str_eq(logged(), "<3>bad\n<4>careful\n<5>ready\n");
}
END_TEST

START_TEST(test_journal_of_another_stream_ignored)
{
	/* Inherited from a parent whose stderr was the journal: not ours. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_init("tapird");
	log_err("bad");
	ck_assert_str_eq(logged(), "tapird: bad\n");
}
END_TEST

START_TEST(test_level_and_one_line)
{
	log_init("tapird");
	log_debug("hidden");
	log_set_level(LOG_DEBUG);
	log_debug("shown");
	log_set_level(LOG_WARNING);
	log_info("hidden too");
	log_err("two\nlines");
	ck_assert_str_eq(logged(), "tapird: shown\ntapird: two lines\n");
	ck_assert_int_eq(log_get_level(), LOG_WARNING);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("stderr");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_journal_prefixes);
	tcase_add_test(tc, test_journal_of_another_stream_ignored);
	tcase_add_test(tc, test_level_and_one_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
