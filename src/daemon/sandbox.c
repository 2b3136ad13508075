/* The sandbox: capabilities and the system call allow-list (sandbox.h).
 *
 * The allow-list is what tapird does after start-up, and nothing it does
 * only while starting (opening the TAP, creating the control socket,
 * changing its ids, daemon(3)):
 *
 *   the event loop    libevent's epoll backend, its signal pipe, timers
 *                     from the clock (no timerfd, no signalfd)
 *   the link          read/readv and write/writev on the TAP descriptor
 *   reload            the configuration re-read (open, fstat, read,
 *                     close), modules loaded with dlopen() (open, read,
 *                     pread, mmap and mprotect of a shared object, never
 *                     writable and executable at once), the host side of
 *                     the TAP re-checked or changed (rtnetlink for its
 *                     addresses, SIOC[GS]IF* ioctls for its MTU and
 *                     flags, on an AF_NETLINK socket)
 *   the control       accept4, recv/send, the FIONREAD libevent asks
 *     socket          before reading, shutdown, close
 *   modules' files    lease journals (open, write, fsync, fdatasync,
 *                     rename, unlink, ftruncate), files served (openat2,
 *                     fstat, pread, sendfile, getdents64 for an index),
 *                     zone files read on reload, an access log
 *   logging           stderr (journald's stream) or syslog's socket
 *   systemd           sd_notify: a datagram on an AF_UNIX socket
 *   the rest          getrandom, clock_gettime, memory (brk, mmap,
 *                     munmap, mremap, madvise), exit
 *
 * What is not in the list raises SIGSYS (SCMP_ACT_TRAP): the handler
 * writes one line naming the call, with async-signal-safe calls only, and
 * the process ends by that signal, so that systemd restarts it and the
 * operator reads which call was missing.  One call fails instead of ending
 * the process: socket() for AF_INET and AF_INET6, which tapird never
 * opens (it has its own stack, and sets host addresses through
 * rtnetlink), fails with EAFNOSUPPORT, so that a library falling back to
 * such a socket gets an error it handles rather than killing the daemon.
 * Any other socket family, any other ioctl, fork, exec, ptrace and the
 * rest end the process.
 */
#include "daemon/sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

/* ---- Capabilities -------------------------------------------------------- */

/* Capabilities the kernel knows: PR_CAPBSET_READ fails past the last. */
static int cap_count(void)
{
	int n = 0;

	while (n < 64 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0)
		n++;
	return n;
}

bool sandbox_has_caps(void)
{
	int last = cap_count();

	if (capng_get_caps_process() < 0)
		return true; /* cannot tell: assume the worst */
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return true;
	for (int c = 0; c < last; c++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			return true;
	return false;
}

/* Whether the bounding set still holds any capability. */
static bool bounding_nonempty(void)
{
	int last = cap_count();

	for (int c = 0; c < last; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return true;
	return false;
}

int sandbox_change_id(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int rc;

	/* No capability is kept across the change, and the bounding set is
	 * emptied while CAP_SETPCAP still allows it. */
	capng_clear(CAPNG_SELECT_ALL);
	rc = capng_change_id(uid == (uid_t)-1 ? -1 : (int)uid,
			     gid == (gid_t)-1 ? -1 : (int)gid,
			     CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc < 0) {
		snprintf(err, errlen, "cannot change to uid %d gid %d without "
				      "capabilities (libcap-ng error %d): %s",
			 uid == (uid_t)-1 ? -1 : (int)uid,
			 gid == (gid_t)-1 ? -1 : (int)gid, rc,
			 strerror(errno));
		return -1;
	}
	/* Ambient capabilities go with a change from root; make sure. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (sandbox_has_caps() || (uid != 0 && bounding_nonempty())) {
		snprintf(err, errlen, "capabilities remain after changing to "
				      "uid %d gid %d",
			 uid == (uid_t)-1 ? -1 : (int)uid,
			 gid == (gid_t)-1 ? -1 : (int)gid);
		return -1;
	}
	return 0;
}

int sandbox_drop_caps(bool *bounding_kept, char *err, size_t errlen)
{
	*bounding_kept = false;
	if (capng_get_caps_process() < 0) {
		snprintf(err, errlen, "cannot read the capabilities: %s",
			 strerror(errno));
		return -1;
	}
	/* The bounding set first, while CAP_SETPCAP (if we have it) is
	 * still effective. */
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
		capng_clear(CAPNG_SELECT_BOUNDS);
		if (capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
			snprintf(err, errlen,
				 "cannot empty the capability bounding set: %s",
				 strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "cannot clear the ambient capabilities: "
				      "%s",
			 strerror(errno));
		return -1;
	}
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		snprintf(err, errlen,
			 "cannot drop the capabilities: %s (capset is needed "
			 "once, after the TAP is configured; a system call "
			 "filter must allow it)",
			 strerror(errno));
		return -1;
	}
	if (sandbox_has_caps()) {
		snprintf(err, errlen, "capabilities remain after dropping them");
		return -1;
	}
	*bounding_kept = bounding_nonempty();
	return 0;
}

/* ---- The allow-list ------------------------------------------------------ */

/* Allowed whatever their arguments.  Keep each group with the reason. */
static const char *const allowed[] = {
	/* The event loop: libevent's epoll backend, its signal socketpair
	 * (written by the handler, read by the loop), and signal handling
	 * (handlers restored at exit). */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	/* Clocks (vDSO first; the system calls are its fallback). */
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	/* Descriptors: the TAP, sockets, files. */
	"read", "readv", "pread64", "preadv", "write", "writev", "pwrite64",
	"close", "lseek", "fcntl", "dup",
	/* Files: the configuration and zone files on reload, modules
	 * loaded on reload (the dynamic loader), lease journals, files and
	 * directory indexes served, an access log, packet captures (their
	 * directory made on the first capture: mkdir). */
	"open", "openat", "openat2", "fstat", "newfstatat", "stat", "lstat",
	"statx", "access", "faccessat", "faccessat2", "readlink",
	"readlinkat", "getcwd", "getdents64", "fsync", "fdatasync",
	"ftruncate", "rename", "renameat", "renameat2", "unlink", "unlinkat",
	"sendfile", "mkdir", "mkdirat",
	/* Memory. */
	"brk", "munmap", "mremap", "madvise",
	/* Sockets that exist (the control socket, syslog's, sd_notify's,
	 * netlink for getifaddrs on reload) and the calls on them. */
	"accept", "accept4", "connect", "bind", "getsockname", "getpeername",
	"recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown", "getsockopt",
	"setsockopt",
	/* Odds and ends: random bytes, qsort's look at memory (sysinfo),
	 * ids, uname, glibc's locks. */
	"getrandom", "sysinfo", "getpid", "gettid", "getuid", "geteuid",
	"getgid", "getegid", "uname", "futex",
	/* The end. */
	"exit", "exit_group",
};

/* AddressSanitizer's runtime, in the builds made for tests only
 * (--enable-sanitizers): an alternate signal stack, and LeakSanitizer's
 * check at exit, which stops the process with a tracer thread (clone,
 * ptrace, wait4, prctl, and the old getdents to list the threads).  Never
 * part of a build without the sanitizers. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif
#ifdef SANDBOX_ASAN
static const char *const sanitizer_allowed[] = {
	"sigaltstack", "clone", "ptrace", "prctl", "wait4", "getppid",
	"sched_yield", "kill", "process_vm_readv", "getdents",
};
#endif

/* The ioctls made after start-up: FIONREAD (libevent, before reading the
 * control socket), TCGETS (isatty), and those that re-check or change the
 * MTU and link flags of the TAP's host side on reload (tap.c; addresses
 * go through rtnetlink), with if_nametoindex()'s SIOCGIFINDEX. */
static const unsigned long allowed_ioctls[] = {
	FIONREAD,   TCGETS,	  SIOCGIFMTU,	SIOCSIFMTU,
	SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFINDEX, SIOCGIFNAME,
};

/* The name of every system call number, resolved before the filter is in
 * place: the SIGSYS handler may not allocate. */
#define SANDBOX_NR_MAX 1024
static const char *syscall_names[SANDBOX_NR_MAX];
static unsigned sigsys_flags;

const char *sandbox_syscall_name(long nr)
{
	if (nr < 0 || nr >= SANDBOX_NR_MAX || !syscall_names[nr])
		return "?";
	return syscall_names[nr];
}

static void resolve_names(void)
{
	for (int nr = 0; nr < SANDBOX_NR_MAX; nr++)
		if (!syscall_names[nr])
			syscall_names[nr] =
				seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
								 nr);
}

/* Async-signal-safe formatting: append s at *p, within end. */
static void put(char **p, const char *end, const char *s)
{
	while (*s && *p < end)
		*(*p)++ = *s++;
}

static void put_num(char **p, const char *end, long v)
{
	char digits[24];
	int n = 0;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	if (v < 0)
		put(p, end, "-");
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < (int)sizeof(digits));
	while (n > 0 && *p < end)
		*(*p)++ = digits[--n];
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* One datagram to syslog's socket, as syslog(3) would send it. */
static void send_syslog(const char *msg, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX,
				 .sun_path = "/dev/log"};
	char buf[512], *p = buf;
	const char *end = buf + sizeof(buf);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	put(&p, end, "<");
	put_num(&p, end, LOG_DAEMON | LOG_CRIT);
	put(&p, end, ">tapird[");
	put_num(&p, end, (long)getpid());
	put(&p, end, "]: ");
	if ((size_t)(end - p) < len)
		len = (size_t)(end - p);
	memcpy(p, msg, len);
	p += len;
	(void)sendto(fd, buf, (size_t)(p - buf), MSG_NOSIGNAL,
		     (const struct sockaddr *)&sa, sizeof(sa));
	close(fd);
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char line[256], *p = line;
	const char *end = line + sizeof(line) - 1;
	long nr = si->si_syscall;
	int e = errno;

	(void)uctx;
	put(&p, end, "seccomp: system call ");
	put(&p, end, sandbox_syscall_name(nr));
	put(&p, end, " (");
	put_num(&p, end, nr);
	put(&p, end, ") is not in tapird's allow-list; stopping (report "
		     "it; seccomp = false turns the filter off)");
	if (sigsys_flags & SANDBOX_LOG_SYSLOG) {
		send_syslog(line, (size_t)(p - line));
	} else {
		char out[300], *q = out;
		const char *oend = out + sizeof(out) - 1;

		put(&q, oend, sigsys_flags & SANDBOX_LOG_JOURNAL ? "<2>"
								: "tapird: ");
		*p = '\0';
		put(&q, oend, line);
		*q++ = '\n';
		write_all(STDERR_FILENO, out, (size_t)(q - out));
	}
	/* SA_RESETHAND made SIGSYS fatal again: end by it once the handler
	 * returns (the raise is pending while the handler blocks it). */
	(void)syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	errno = e;
}

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name,
	       unsigned n, const struct scmp_arg_cmp *args, char *err,
	       size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0; /* not a system call of this architecture */
	rc = seccomp_rule_add_array(ctx, action, nr, n, args);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot add the rule for %s: %s",
			 name, strerror(-rc));
		return -1;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	/* mmap and mprotect: never writable and executable at once. */
	static const uint64_t prots[] = {0, PROT_WRITE, PROT_EXEC};
	static const int families[] = {AF_UNIX, AF_NETLINK};
	static const int ip_families[] = {AF_INET, AF_INET6};
	uint32_t ip_action = SCMP_ACT_ERRNO(EAFNOSUPPORT);
	struct scmp_arg_cmp a;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL, err, errlen))
			return -1;
#ifdef SANDBOX_ASAN
	for (size_t i = 0;
	     i < sizeof(sanitizer_allowed) / sizeof(sanitizer_allowed[0]); i++)
		if (add(ctx, SCMP_ACT_ALLOW, sanitizer_allowed[i], 0, NULL, err,
			errlen))
			return -1;
#endif
	for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
		a = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC,
			    prots[i]);
		if (add(ctx, SCMP_ACT_ALLOW, "mmap", 1, &a, err, errlen) ||
		    add(ctx, SCMP_ACT_ALLOW, "mprotect", 1, &a, err, errlen))
			return -1;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (uint64_t)families[i]);
		if (add(ctx, SCMP_ACT_ALLOW, "socket", 1, &a, err, errlen))
			return -1;
	}
	for (size_t i = 0; i < sizeof(ip_families) / sizeof(ip_families[0]);
	     i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (uint64_t)ip_families[i]);
		if (add(ctx, ip_action, "socket", 1, &a, err, errlen))
			return -1;
	}
	for (size_t i = 0; i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]);
	     i++) {
		/* The request is an int to the kernel: compare 32 bits. */
		a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
			    (uint64_t)allowed_ioctls[i]);
		if (add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &a, err, errlen))
			return -1;
	}
	/* Signals to ourselves only (raise(3), the SIGSYS handler). */
	a = SCMP_A0(SCMP_CMP_EQ, (uint64_t)getpid());
	return add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &a, err, errlen);
}

int sandbox_seccomp(unsigned flags, char *err, size_t errlen)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int rc;

	resolve_names();
	sigsys_flags = flags;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, errlen, "seccomp: cannot handle SIGSYS: %s",
			 strerror(errno));
		return -1;
	}
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot make a filter (out of "
				      "memory?)");
		return -1;
	}
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
	/* A binary tree of the allowed numbers rather than a list: every
	 * read and write of the data path passes the filter. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif
	if (add_rules(ctx, err, errlen) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	/* no_new_privs (libseccomp's default) lets an unprivileged process
	 * load the filter. */
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen,
			 "seccomp: cannot load the filter: %s%s", strerror(-rc),
			 rc == -EINVAL ? " (a kernel without "
					 "CONFIG_SECCOMP_FILTER? set seccomp "
					 "= false)"
				       : "");
		return -1;
	}
	return 0;
}
