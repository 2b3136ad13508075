/*
 * tapirctl: ask a running tapird through its control socket.
 *
 *   tapirctl [-s socket | -i name] [--json] status|stats|arp|connections|
 *            leases|metrics|reload
 *
 * -i NAME asks the instance NAME of tapird@.service, whose control socket
 * is /run/tapir/NAME.sock.
 *
 * It sends "VERB" or "VERB json" and prints the answer; the exit status is
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
#define INSTANCE_DIR "/run/tapir/" /* tapird@NAME: INSTANCE_DIR NAME.sock */
#define TIMEOUT_MS 30000 /* a reload loads every module: allow for it */

static const char *const verbs[] = {"status", "stats",   "arp",
				    "connections", "leases", "metrics",
				    "reload", NULL};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapirctl [-s socket | -i name] [--json] "
		"status|stats|arp|connections|leases|metrics|reload\n"
		"  -s socket  tapird's control socket (default: "
		"$TAPIR_CONTROL_SOCKET, else %s)\n"
		"  -i name    the instance tapird@name: socket "
		INSTANCE_DIR "name.sock\n"
		"  --json     machine-readable output (not for metrics, "
		"reload)\n",
		DEFAULT_SOCKET);
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
	char req[64], buf[65536], inst[sizeof(sa.sun_path)];
	size_t have = 0;
	int fd;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "-i") && i + 1 < argc) {
			const char *name = argv[++i];

			/* A systemd instance name: one path component. */
			int n = snprintf(inst, sizeof(inst),
					 INSTANCE_DIR "%s.sock", name);

			if (!*name || name[0] == '.' || strchr(name, '/') ||
			    n < 0 || (size_t)n >= sizeof(inst)) {
				fprintf(stderr, "tapirctl: bad instance name "
						"'%s'\n",
					name);
				return 2;
			}
			path = inst;
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
	if (json && (!strcmp(verb, "metrics") || !strcmp(verb, "reload"))) {
		fprintf(stderr, "tapirctl: --json does not apply to %s\n",
			verb);
		return 2;
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
	snprintf(req, sizeof(req), "%s%s\n", verb, json ? " json" : "");
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
