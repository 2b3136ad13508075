/*
 * systemd notifications (notify.c), read back from a NOTIFY_SOCKET the test
 * binds itself.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/notify.h"

static int sock = -1;
static char path[108];

static void setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};

	snprintf(path, sizeof(path), "/tmp/tapir-notify-%d", (int)getpid());
	unlink(path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setenv("NOTIFY_SOCKET", path, 1);
}

static void teardown(void)
{
	close(sock);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

/* The next datagram on the socket, as a string. */
static const char *next_msg(void)
{
	static char buf[1024];
	ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_ready)
{
	notify_ready("running on tapir0");
	ck_assert_str_eq(next_msg(), "READY=1\nSTATUS=running on tapir0");
}
END_TEST

START_TEST(test_reloading_carries_monotonic_time)
{
	struct timespec ts;
	unsigned long long before, usec = 0;
	const char *m, *p;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (unsigned long long)ts.tv_sec * 1000000ull +
		 (unsigned long long)ts.tv_nsec / 1000;
	notify_reloading("reloading");
	m = next_msg();
	ck_assert(strncmp(m, "RELOADING=1\n", 12) == 0);
	p = strstr(m, "MONOTONIC_USEC=");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "MONOTONIC_USEC=%llu", &usec), 1);
	ck_assert(usec >= before && usec < before + 5000000ull);
	ck_assert_ptr_nonnull(strstr(m, "\nSTATUS=reloading"));
}
END_TEST

START_TEST(test_stopping_status_watchdog)
{
	notify_status("reload failed: %s", "t.conf:3: bad");
	ck_assert_str_eq(next_msg(), "STATUS=reload failed: t.conf:3: bad");
	notify_watchdog();
	ck_assert_str_eq(next_msg(), "WATCHDOG=1");
	notify_stopping("stopping");
	ck_assert_str_eq(next_msg(), "STOPPING=1\nSTATUS=stopping");
}
END_TEST

START_TEST(test_watchdog_interval)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	ck_assert_uint_eq(notify_watchdog_usec(), 0);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	setenv("WATCHDOG_USEC", "30000000", 1);
	ck_assert_uint_eq(notify_watchdog_usec(), 30000000);
	/* Meant for another process: not ours. */
	setenv("WATCHDOG_PID", "1", 1);
	ck_assert_uint_eq(notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("sd_notify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ready);
	tcase_add_test(tc, test_reloading_carries_monotonic_time);
	tcase_add_test(tc, test_stopping_status_watchdog);
	tcase_add_test(tc, test_watchdog_interval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(notify_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
