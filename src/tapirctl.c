/*
 * tapirctl: ask a running tapird through its control socket.
 *
 *   tapirctl [-s socket] [--json] status|stats|arp|connections|leases|
 *            metrics|reload
 *   tapirctl [-s socket] capture start [--seconds S] [--count N]
 *            [--bytes B] [--name NAME]
 *   tapirctl [-s socket] capture stop|status
 *
 * It sends "VERB" or "VERB json" (for capture, "capture start seconds=S
 * count=N bytes=B name=NAME" with the options given, "capture stop",
 * "capture status") and prints the answer; the exit status is
 * 0 when tapird answered "ok", 1 when it answered "error" (a failed reload
 * prints the configuration's FILE:LINE errors), 2 when tapird could not
 * be reached or the command line is wrong.
 */
#include "version.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/tapir/tapird.sock"
#define TIMEOUT_MS 30000 /* a reload loads every module: allow for it */

static const char *const verbs[] = {"status", "stats",   "arp",
				    "connections", "leases", "metrics",
				    "reload", "capture", NULL};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapirctl [-s socket] [--json] "
		"status|stats|arp|connections|leases|metrics|reload\n"
		"       tapirctl [-s socket] capture start [--seconds S] "
		"[--count N] [--bytes B] [--name NAME]\n"
		"       tapirctl [-s socket] capture stop|status\n"
		"  -s socket  tapird's control socket (default: "
		"$TAPIR_CONTROL_SOCKET, else %s)\n"
		"  --json     machine-readable output (not for metrics, "
		"reload)\n",
		DEFAULT_SOCKET);
}

/* The request line of "capture ..." from its arguments into req; 0, or
 * 2 (the exit status) with the complaint printed. */
static int capture_line(int argc, char **argv, char *req, size_t len)
{
	static const char *const opts[] = {"--seconds", "--count", "--bytes",
					   "--name"};
	static const char *const keys[] = {"seconds", "count", "bytes", "name"};
	size_t used;

	if (argc < 1 || (strcmp(argv[0], "start") && strcmp(argv[0], "stop") &&
			 strcmp(argv[0], "status"))) {
		fprintf(stderr, "tapirctl: capture start, stop or status\n");
		return 2;
	}
	if (strcmp(argv[0], "start") && argc > 1) {
		fprintf(stderr, "tapirctl: capture %s takes no options\n",
			argv[0]);
		return 2;
	}
	used = (size_t)snprintf(req, len, "capture %s", argv[0]);
	for (int i = 1; i < argc; i++) {
		int k = -1;

		for (int j = 0; j < 4; j++)
			if (!strcmp(argv[i], opts[j]))
				k = j;
		if (k < 0 || i + 1 >= argc) {
			fprintf(stderr, "tapirctl: capture start: %s '%s'\n",
				k < 0 ? "unknown option" : "no value after",
				argv[i]);
			return 2;
		}
		i++;
		/* tapird checks the values; only what would break the line
		 * is refused here. */
		if (!*argv[i] || strpbrk(argv[i], " \t\r\n=")) {
			fprintf(stderr,
				"tapirctl: capture start: bad value for %s\n",
				opts[k]);
			return 2;
		}
		used += (size_t)snprintf(req + used, len - used, " %s=%s",
					 keys[k], argv[i]);
		if (used >= len - 1) {
			fprintf(stderr, "tapirctl: capture start: options too "
					"long\n");
			return 2;
		}
	}
	snprintf(req + used, len - used, "\n");
	return 0;
}

static int remaining_ms(const struct timespec *end)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (end->tv_sec - now.tv_sec) * 1000 +
	     (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

int main(int argc, char **argv)
{
	const char *path = getenv("TAPIR_CONTROL_SOCKET"), *verb = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timespec end;
	bool json = false, first = true, ok = false;
	char req[256], buf[65536];
	int capture_at = 0;
	size_t have = 0;
	int fd;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") ||
			   !strcmp(argv[i], "--version")) {
			printf("tapirctl %s\n", TAPIR_VERSION);
			return 0;
		} else if (!verb && argv[i][0] != '-') {
			verb = argv[i];
			if (!strcmp(verb, "capture")) {
				capture_at = i + 1; /* the rest is its own */
				break;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!verb) {
		usage(stderr);
		return 2;
	}
	for (int i = 0;; i++) {
		if (!verbs[i]) {
			fprintf(stderr, "tapirctl: unknown command '%s'\n",
				verb);
			usage(stderr);
			return 2;
		}
		if (!strcmp(verbs[i], verb))
			break;
	}
	if (json && (!strcmp(verb, "metrics") || !strcmp(verb, "reload") ||
		     capture_at)) {
		fprintf(stderr, "tapirctl: --json does not apply to %s\n",
			verb);
		return 2;
	}
	if (capture_at) {
		int rc = capture_line(argc - capture_at, argv + capture_at, req,
				      sizeof(req));

		if (rc)
			return rc;
	} else {
		snprintf(req, sizeof(req), "%s%s\n", verb, json ? " json" : "");
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tapirctl: socket path too long: %s\n", path);
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr,
			"tapirctl: cannot reach tapird at %s: %s%s\n", path,
			strerror(e),
			e == ENOENT || e == ECONNREFUSED
				? " (is tapird running? set -s or control."
				  "socket)"
			: e == EACCES ? " (run as root or as tapird's user)"
				      : "");
		return 2;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "tapirctl: cannot send to %s: %s\n", path,
			strerror(errno));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += TIMEOUT_MS / 1000;
	/* The first line is "ok" or "error"; the rest is printed as is. */
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, remaining_ms(&end)) <= 0) {
			fprintf(stderr, "tapirctl: no answer from %s\n", path);
			return 2;
		}
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tapirctl: reading from %s: %s\n", path,
				strerror(errno));
			return 2;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (first) {
			char *nl = memchr(buf, '\n', have);

			if (!nl) {
				if (have == sizeof(buf))
					break;
				continue;
			}
			*nl = '\0';
			ok = !strcmp(buf, "ok");
			if (!ok && strcmp(buf, "error") != 0) {
				fprintf(stderr,
					"tapirctl: unexpected answer from %s\n",
					path);
				return 2;
			}
			first = false;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (!first && have) {
			FILE *out = ok ? stdout : stderr;

			fwrite(buf, 1, have, out);
			have = 0;
		}
	}
	if (first) {
		fprintf(stderr, "tapirctl: incomplete answer from %s\n", path);
		return 2;
	}
	close(fd);
	return ok ? 0 : 1;
}
