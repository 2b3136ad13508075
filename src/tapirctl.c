/*
 * tapirctl: ask a running tapird through its control socket.
 *
 *   tapirctl [-s socket] [--json] status|stats|arp|connections|leases|
 *            metrics|reload
 *   tapirctl [-s socket] capture start [--seconds S] [--count N]
 *            [--bytes B] [--name NAME]
 *   tapirctl [-s socket] capture stop|status
 *   tapirctl [-s socket] [--json] connections [--state S] [--port N]
 *   tapirctl [-s socket] [--json] stats --interval SECONDS [--count N]
 *
 * It sends "VERB", "VERB json" (and for connections "state=S" "port=N";
 * for capture "capture start seconds=S count=N bytes=B name=NAME" with the
 * options given, "capture stop", "capture status") and prints the answer;
 * the exit status is 0 when tapird answered "ok", 1 when it answered
 * "error" (a failed reload prints the configuration's FILE:LINE errors),
 * 2 when tapird could not be reached or the command line is wrong.  stats --interval asks again every SECONDS and prints
 * each counter's change per second.
 */
#include "ctlrates.h"
#include "version.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
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
		"       tapirctl [-s socket] [--json] connections "
		"[--state STATE] [--port PORT]\n"
		"       tapirctl [-s socket] [--json] stats --interval SECONDS "
		"[--count N]\n"
		"  -s socket  tapird's control socket (default: "
		"$TAPIR_CONTROL_SOCKET, else %s)\n"
		"  --json     machine-readable output (not for metrics, "
		"reload)\n"
		"  --state    connections in this state only (established, "
		"time_wait, ...)\n"
		"  --port     connections with this local or remote port only\n"
		"  --interval counters' change per second, every SECONDS\n"
		"  --count    stop after N samples (default: until interrupted)\n",
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

/* Where an answer's body goes: printed as it arrives, or collected. */
struct sink {
	char *p; /* NULL: print */
	size_t len, cap, max;
};

static bool sink_add(struct sink *k, const char *d, size_t n, bool ok)
{
	if (!k) {
		fwrite(d, 1, n, ok ? stdout : stderr);
		return true;
	}
	if (k->len + n + 1 > k->max)
		return false;
	if (k->len + n + 1 > k->cap) {
		size_t cap = k->cap ? k->cap : 8192;
		char *p;

		while (cap < k->len + n + 1)
			cap *= 2;
		if (!(p = realloc(k->p, cap)))
			return false;
		k->p = p;
		k->cap = cap;
	}
	memcpy(k->p + k->len, d, n);
	k->len += n;
	k->p[k->len] = '\0';
	return true;
}

/* One exchange: send req, take the answer.  0 for "ok", 1 for "error"
 * (the body then went to stderr, or into k), 2 when tapird could not be
 * reached or answered nonsense (said on stderr). */
static int exchange(const char *path, const char *req, struct sink *k)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timespec end;
	bool first = true, ok = false;
	char buf[65536];
	size_t have = 0;
	int fd, rc = 2;

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
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "tapirctl: cannot send to %s: %s\n", path,
			strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += TIMEOUT_MS / 1000;
	/* The first line is "ok" or "error"; the rest is the body. */
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pf, 1, remaining_ms(&end)) <= 0) {
			if (errno == EINTR && remaining_ms(&end))
				continue;
			fprintf(stderr, "tapirctl: no answer from %s\n", path);
			goto out;
		}
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tapirctl: reading from %s: %s\n", path,
				strerror(errno));
			goto out;
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
				goto out;
			}
			first = false;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (!first && have) {
			if (!sink_add(k, buf, have, ok)) {
				fprintf(stderr,
					"tapirctl: answer from %s too large\n",
					path);
				goto out;
			}
			have = 0;
		}
	}
	if (first) {
		fprintf(stderr, "tapirctl: incomplete answer from %s\n", path);
		goto out;
	}
	rc = ok ? 0 : 1;
out:
	close(fd);
	return rc;
}

/* ---- stats --interval ---------------------------------------------------- */

#define SAMPLE_BYTES (4u << 20) /* the answer to "stats" at most */

static int take_sample(const char *path, struct ctr_sample *s)
{
	struct sink k = {.max = SAMPLE_BYTES};
	int rc = exchange(path, "stats\n", &k);

	if (rc == 1)
		fprintf(stderr, "tapirctl: %s", k.p ? k.p : "error\n");
	if (rc == 0 && ctr_sample_parse(s, k.p ? k.p : (char[]){""}) < 0) {
		fprintf(stderr, "tapirctl: cannot read the counters\n");
		rc = 2;
	}
	free(k.p);
	return rc;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_rates(const struct ctr_sample *prev,
			const struct ctr_sample *cur, double secs, bool json)
{
	time_t now = time(NULL);
	struct tm tm;
	char when[32] = "";

	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ctr_rates_print(stdout, prev, cur, secs, when, json);
	fflush(stdout);
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int stats_interval(const char *path, double interval,
			  unsigned long count, bool json)
{
	struct sigaction sa = {.sa_handler = on_stop};
	struct ctr_sample prev = {0}, cur = {0};
	struct timespec next;
	double t_prev, t_cur;
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rc = take_sample(path, &prev)) != 0)
		return rc;
	t_prev = mono_s();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long n = 0; !count || n < count; n++) {
		long long ns = (long long)(interval * 1e9);

		next.tv_sec += (time_t)(ns / 1000000000);
		next.tv_nsec += (long)(ns % 1000000000);
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC,
						TIMER_ABSTIME, &next,
						NULL) == EINTR)
			;
		if (stop)
			break;
		if ((rc = take_sample(path, &cur)) != 0)
			break;
		t_cur = mono_s();
		print_rates(&prev, &cur, t_cur - t_prev, json);
		ctr_sample_free(&prev);
		prev = cur;
		cur = (struct ctr_sample){0};
		t_prev = t_cur;
	}
	ctr_sample_free(&prev);
	ctr_sample_free(&cur);
	return rc;
}

/* ---- main ---------------------------------------------------------------- */

/* A word for the request line: no spaces or controls, and short. */
static bool word_ok(const char *w)
{
	size_t n = strlen(w);

	if (!n || n > 32)
		return false;
	for (; *w; w++)
		if ((unsigned char)*w <= ' ' || *w == 0x7f)
			return false;
	return true;
}

int main(int argc, char **argv)
{
	const char *path = getenv("TAPIR_CONTROL_SOCKET"), *verb = NULL;
	const char *state = NULL, *port = NULL;
	double interval = 0;
	unsigned long count = 0;
	bool json = false, have_count = false;
	int capture_at = 0;
	char req[256];

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			path = argv[++i];
		} else if (!strcmp(argv[i], "--state") && i + 1 < argc) {
			state = argv[++i];
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = argv[++i];
		} else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			char *end;

			interval = strtod(argv[++i], &end);
			if (end == argv[i] || *end || !(interval >= 0.1) ||
			    interval > 86400) {
				fprintf(stderr,
					"tapirctl: --interval takes seconds, "
					"from 0.1 to 86400\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			char *end;

			count = strtoul(argv[++i], &end, 10);
			if (end == argv[i] || *end || argv[i][0] == '-' ||
			    !count) {
				fprintf(stderr, "tapirctl: --count takes a "
						"positive number\n");
				return 2;
			}
			have_count = true;
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
	if ((state || port) && strcmp(verb, "connections") != 0) {
		fprintf(stderr,
			"tapirctl: --state and --port apply to connections\n");
		return 2;
	}
	if ((interval > 0 || have_count) && strcmp(verb, "stats") != 0) {
		fprintf(stderr,
			"tapirctl: --interval and --count apply to stats\n");
		return 2;
	}
	if (have_count && !(interval > 0)) {
		fprintf(stderr, "tapirctl: --count needs --interval\n");
		return 2;
	}
	if ((state && !word_ok(state)) || (port && !word_ok(port))) {
		fprintf(stderr, "tapirctl: bad --state or --port value\n");
		return 2;
	}
	if (capture_at) {
		int rc = capture_line(argc - capture_at, argv + capture_at, req,
				      sizeof(req));

		return rc ? rc : exchange(path, req, NULL);
	}
	if (interval > 0)
		return stats_interval(path, interval, count, json);
	snprintf(req, sizeof(req), "%s%s%s%s%s%s\n", verb, json ? " json" : "",
		 state ? " state=" : "", state ? state : "",
		 port ? " port=" : "", port ? port : "");
	return exchange(path, req, NULL);
}
