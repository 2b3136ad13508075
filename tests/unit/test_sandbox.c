/*
 * The sandbox (sandbox.c): each case runs in a child of its own, which
 * installs the filter or drops its capabilities, and reports through its
 * exit status (or dies by SIGSYS, its stderr read back here).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/sandbox.h"

/* What a child did: its wait status and what it wrote to stderr. */
struct run {
	int status;
	char err[1024];
};

/* Run fn in a child with stderr on a pipe. */
static void run_child(int (*fn)(unsigned), unsigned flags, struct run *r)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		_exit(fn(flags));
	}
	close(p[1]);
	while (got < sizeof(r->err) - 1 &&
	       (n = read(p[0], r->err + got, sizeof(r->err) - 1 - got)) > 0)
		got += (size_t)n;
	r->err[got] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &r->status, 0), pid);
}

static int install(unsigned flags)
{
	char err[256];

	if (sandbox_seccomp(flags, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 100;
	}
	return 0;
}

/* What the daemon does after start-up still works under the filter. */
static int allowed_calls(unsigned flags)
{
	char buf[64];
	int fd, s, n = 0;
	void *m;

	if (install(flags))
		return 100;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		return 1;
	close(fd);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || ioctl(s, FIONREAD, &n) < 0)
		return 2;
	close(s);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) < 0)
		return 3;
	munmap(m, 4096);
	if (getrandom(buf, 16, 0) != 16)
		return 4;
	/* An IP socket fails rather than kills; so does one over netlink
	 * work, as tap.c's use. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s >= 0 || errno != EAFNOSUPPORT)
		return 5;
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s >= 0 || errno != EAFNOSUPPORT)
		return 6;
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 7;
	close(s);
	return 0;
}

static int forbidden_fork(unsigned flags)
{
	if (install(flags))
		return 100;
	(void)syscall(SYS_fork);
	return 0; /* not reached: SIGSYS */
}

static int forbidden_packet_socket(unsigned flags)
{
	if (install(flags))
		return 100;
	(void)socket(AF_PACKET, SOCK_RAW, 0);
	return 0;
}

static int forbidden_wx(unsigned flags)
{
	if (install(flags))
		return 100;
	(void)mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 0;
}

START_TEST(test_allowed_calls_work)
{
	struct run r;

	run_child(allowed_calls, 0, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status %#x, stderr: %s", r.status, r.err);
}
END_TEST

START_TEST(test_forbidden_call_named_and_fatal)
{
	struct run r;

	run_child(forbidden_fork, 0, &r);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS,
		      "status %#x, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "tapird: seccomp: system call fork (") &&
			      strstr(r.err, "is not in tapird's allow-list"),
		      "stderr: %s", r.err);
	ck_assert_int_eq(strchr(r.err, '\n') - r.err + 1, (int)strlen(r.err));
}
END_TEST

START_TEST(test_journal_line_has_priority)
{
	struct run r;

	run_child(forbidden_fork, SANDBOX_LOG_JOURNAL, &r);
	ck_assert(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS);
	ck_assert_msg(!strncmp(r.err, "<2>seccomp: system call fork (", 30),
		      "stderr: %s", r.err);
}
END_TEST

START_TEST(test_other_families_and_wx_are_fatal)
{
	struct run r;

	run_child(forbidden_packet_socket, SANDBOX_LOG_JOURNAL, &r);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS,
		      "status %#x, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "system call socket ("), "stderr: %s",
		      r.err);
	run_child(forbidden_wx, 0, &r);
	ck_assert_msg(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS,
		      "status %#x, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "system call mmap ("), "stderr: %s", r.err);
}
END_TEST

static int names_resolved(unsigned flags)
{
	if (install(flags))
		return 100;
	if (strcmp(sandbox_syscall_name(SYS_openat), "openat") != 0)
		return 1;
	if (strcmp(sandbox_syscall_name(-1), "?") != 0 ||
	    strcmp(sandbox_syscall_name(1 << 20), "?") != 0)
		return 2;
	return 0;
}

START_TEST(test_syscall_names)
{
	struct run r;

	run_child(names_resolved, 0, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status %#x, stderr: %s", r.status, r.err);
}
END_TEST

static int drop_as_root(unsigned flags)
{
	char err[256];

	(void)flags;
	if (sandbox_change_id(65534, 65534, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534)
		return 2;
	if (sandbox_has_caps())
		return 3;
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return 4;
	return 0;
}

static int drop_in_place(unsigned flags)
{
	char err[256];
	bool kept;

	(void)flags;
	if (sandbox_drop_caps(&kept, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (sandbox_has_caps())
		return 2;
	/* Root has CAP_SETPCAP: the bounding set goes too. */
	if (geteuid() == 0 && kept)
		return 3;
	return 0;
}

START_TEST(test_capabilities_dropped)
{
	struct run r;

	if (geteuid() == 0) {
		run_child(drop_as_root, 0, &r);
		ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
			      "status %#x, stderr: %s", r.status, r.err);
	} else {
		/* Not root: the change of ids is refused with a reason. */
		run_child(drop_as_root, 0, &r);
		ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1);
		ck_assert_msg(strstr(r.err, "cannot change to uid 65534"),
			      "stderr: %s", r.err);
	}
	run_child(drop_in_place, 0, &r);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		      "status %#x, stderr: %s", r.status, r.err);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_allowed_calls_work);
	tcase_add_test(tc, test_forbidden_call_named_and_fatal);
	tcase_add_test(tc, test_journal_line_has_priority);
	tcase_add_test(tc, test_other_families_and_wx_are_fatal);
	tcase_add_test(tc, test_syscall_names);
	tcase_add_test(tc, test_capabilities_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sandbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
