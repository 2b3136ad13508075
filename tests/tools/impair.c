/*
 * impair: a link with loss, duplication, reordering and delay, for tests on
 * kernels without sch_netem.
 *
 *   impair --pkt IF --pkt-netns PATH --tap NAME [--loss PCT] [--dup PCT]
 *          [--reorder PCT] [--delay MS] [--seed N] [--time SECS]
 *   impair --tap2 NAME2 --pkt-netns PATH --tap NAME [...]
 *
 * Started inside the client's network namespace, it creates the TAP device
 * NAME there (the client's interface: give it an address and bring it up
 * once "ready" is printed), then enters the namespace PATH (e.g.
 * /run/netns/tapir-lab-X) and opens a packet socket on IF, the kernel side
 * of tapird's TAP, which must have no IPv4 address there, and tapird must
 * run with interface.offload = false: a packet socket sees offloaded frames
 * uncut and with unfinished checksums, and passes them on as they are.  Every frame is
 * carried between the two, in each direction independently.  With --tap2
 * instead of --pkt, the other end is a second TAP device NAME2 that impair
 * creates in PATH: a link between two kernel stacks, for comparisons.
 *
 *
 *   --loss PCT     dropped with this probability (percent, may be fractional)
 *   --dup PCT      sent twice
 *   --reorder PCT  held back 2 ms past its due time, so the frames behind it
 *                  overtake it
 *   --delay MS     each frame leaves MS milliseconds after it arrived
 *
 * The random sequence comes from --seed (default: the time), printed at
 * start so a failure can be replayed.  It stops by itself after --time
 * seconds (default 600) or on SIGTERM/SIGINT, and prints its counts on
 * stderr.  At most QMAX frames wait per direction; beyond that a frame is
 * dropped and counted as an overflow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QMAX 8192
#define FRAME_MAX 9216
#define REORDER_HOLD_US 2000

struct frame {
	uint64_t due_us;
	uint32_t len;
	uint8_t data[FRAME_MAX];
};

struct dir {
	const char *name;
	int in, out;
	bool out_is_pkt;
	struct sockaddr_ll out_addr;
	/* Frames waiting, sorted by due time: a ring of indexes into pool. */
	struct frame *pool;
	unsigned free_idx[QMAX], nfree;
	unsigned q[QMAX], head, n;
	unsigned long rx, tx, lost, dups, reordered, overflow, send_err;
};

static volatile sig_atomic_t stop;
static uint64_t rng_state;
static double p_loss, p_dup, p_reorder;
static uint64_t delay_us;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* xorshift64*: plenty for coin flips, and replayable from the seed. */
static double coin(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) /
	       (double)(1ULL << 53) * 100.0;
}

static void die(const char *what)
{
	fprintf(stderr, "impair: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_tap(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	return fd;
}

static int open_pkt(const char *ifname, struct sockaddr_ll *addr)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_P_ALL));
	int one = 1, bufsz = 8 << 20;
	unsigned idx;

	if (fd < 0)
		die("packet socket");
	idx = if_nametoindex(ifname);
	if (!idx)
		die(ifname);
	memset(addr, 0, sizeof(*addr));
	addr->sll_family = AF_PACKET;
	addr->sll_protocol = htons(ETH_P_ALL);
	addr->sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("bind packet socket");
	/* Our own transmissions are not input (Linux 4.20+; PACKET_OUTGOING
	 * frames are skipped below as well). */
#ifdef PACKET_IGNORE_OUTGOING
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			 sizeof(one));
#endif
	(void)one;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	return fd;
}

static void dir_init(struct dir *d, const char *name)
{
	d->name = name;
	d->pool = calloc(QMAX, sizeof(*d->pool));
	if (!d->pool)
		die("calloc");
	for (unsigned i = 0; i < QMAX; i++)
		d->free_idx[i] = QMAX - 1 - i;
	d->nfree = QMAX;
}

/* Queue a copy of the frame, due at `due`, keeping the queue sorted. */
static void enqueue(struct dir *d, const uint8_t *data, uint32_t len,
		    uint64_t due)
{
	unsigned idx, pos;

	if (!d->nfree) {
		d->overflow++;
		return;
	}
	idx = d->free_idx[--d->nfree];
	d->pool[idx].due_us = due;
	d->pool[idx].len = len;
	memcpy(d->pool[idx].data, data, len);
	/* Insert from the tail: almost every frame goes last. */
	pos = d->n;
	while (pos > 0) {
		unsigned prev = d->q[(d->head + pos - 1) % QMAX];

		if (d->pool[prev].due_us <= due)
			break;
		d->q[(d->head + pos) % QMAX] = prev;
		pos--;
	}
	d->q[(d->head + pos) % QMAX] = idx;
	d->n++;
}

static void take(struct dir *d, const uint8_t *data, uint32_t len)
{
	uint64_t due = now_us() + delay_us;

	d->rx++;
	if (p_loss > 0 && coin() < p_loss) {
		d->lost++;
		return;
	}
	if (p_reorder > 0 && coin() < p_reorder) {
		d->reordered++;
		enqueue(d, data, len, due + REORDER_HOLD_US);
	} else {
		enqueue(d, data, len, due);
	}
	if (p_dup > 0 && coin() < p_dup) {
		d->dups++;
		enqueue(d, data, len, due);
	}
}

static void read_some(struct dir *d, bool is_pkt)
{
	static uint8_t buf[FRAME_MAX];

	for (int i = 0; i < 64; i++) {
		ssize_t n;

		if (is_pkt) {
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);

			n = recvfrom(d->in, buf, sizeof(buf), MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
			if (n >= 0 && from.sll_pkttype == PACKET_OUTGOING)
				continue;
		} else {
			n = read(d->in, buf, sizeof(buf));
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				die("read");
			return;
		}
		if (n < ETH_HLEN || n > FRAME_MAX) {
			d->overflow++;
			continue;
		}
		take(d, buf, (uint32_t)n);
	}
}

/* Send what is due; return the microseconds until the next is. */
static int64_t flush(struct dir *d, uint64_t now)
{
	while (d->n) {
		unsigned idx = d->q[d->head];
		struct frame *f = &d->pool[idx];
		ssize_t n;

		if (f->due_us > now)
			return (int64_t)(f->due_us - now);
		if (d->out_is_pkt)
			n = sendto(d->out, f->data, f->len, 0,
				   (struct sockaddr *)&d->out_addr,
				   sizeof(d->out_addr));
		else
			n = write(d->out, f->data, f->len);
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
			return 200; /* the link is full: try again shortly */
		if (n < 0)
			d->send_err++;
		else
			d->tx++;
		d->head = (d->head + 1) % QMAX;
		d->n--;
		d->free_idx[d->nfree++] = idx;
	}
	return -1;
}

static void report(const struct dir *d)
{
	fprintf(stderr,
		"impair: %s: %lu in, %lu out, %lu lost, %lu duplicated, "
		"%lu reordered, %lu overflow, %lu send errors\n",
		d->name, d->rx, d->tx, d->lost, d->dups, d->reordered,
		d->overflow, d->send_err);
}

static void usage(void)
{
	fprintf(stderr, "usage: impair {--pkt IF | --tap2 NAME2} --pkt-netns PATH --tap NAME "
			"[--loss PCT] [--dup PCT] [--reorder PCT] "
			"[--delay MS] [--seed N] [--time SECS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *pkt_if = NULL, *pkt_ns = NULL, *tap = NULL, *tap2 = NULL;
	unsigned long seed = (unsigned long)time(NULL), secs = 600;
	struct dir to_tapird, to_client;
	struct sockaddr_ll addr;
	struct sigaction sa;
	uint64_t end;
	int nsfd, tapfd, pktfd;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--pkt"))
			pkt_if = v;
		else if (!strcmp(a, "--pkt-netns"))
			pkt_ns = v;
		else if (!strcmp(a, "--tap"))
			tap = v;
		else if (!strcmp(a, "--tap2"))
			tap2 = v;
		else if (!strcmp(a, "--loss"))
			p_loss = atof(v);
		else if (!strcmp(a, "--dup"))
			p_dup = atof(v);
		else if (!strcmp(a, "--reorder"))
			p_reorder = atof(v);
		else if (!strcmp(a, "--delay"))
			delay_us = strtoull(v, NULL, 10) * 1000u;
		else if (!strcmp(a, "--seed"))
			seed = strtoul(v, NULL, 10);
		else if (!strcmp(a, "--time"))
			secs = strtoul(v, NULL, 10);
		else
			usage();
	}
	if (!pkt_if == !tap2 || !pkt_ns || !tap || !secs)
		usage();
	rng_state = (uint64_t)seed * 2654435761u + 0x9E3779B97F4A7C15ULL;

	tapfd = open_tap(tap); /* in the namespace we were started in */
	nsfd = open(pkt_ns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		die(pkt_ns);
	if (setns(nsfd, CLONE_NEWNET) < 0)
		die("setns");
	close(nsfd);
	if (tap2) {
		pktfd = open_tap(tap2);
		memset(&addr, 0, sizeof(addr));
	} else {
		pktfd = open_pkt(pkt_if, &addr);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	memset(&to_tapird, 0, sizeof(to_tapird));
	memset(&to_client, 0, sizeof(to_client));
	dir_init(&to_tapird, "to tapird");
	dir_init(&to_client, "to client");
	to_tapird.in = tapfd;
	to_tapird.out = pktfd;
	to_tapird.out_is_pkt = !tap2;
	to_tapird.out_addr = addr;
	to_client.in = pktfd;
	to_client.out = tapfd;

	fprintf(stderr,
		"impair: seed %lu, loss %g%%, dup %g%%, reorder %g%%, "
		"delay %llu ms, for %lu s\n",
		seed, p_loss, p_dup, p_reorder,
		(unsigned long long)(delay_us / 1000), secs);
	printf("ready\n");
	fflush(stdout);

	end = now_us() + (uint64_t)secs * 1000000u;
	while (!stop) {
		struct pollfd pf[2] = {{.fd = tapfd, .events = POLLIN},
				       {.fd = pktfd, .events = POLLIN}};
		uint64_t now = now_us();
		int64_t w1, w2, wait_us;
		int timeout;

		if (now >= end)
			break;
		w1 = flush(&to_tapird, now);
		w2 = flush(&to_client, now);
		wait_us = w1 < 0 ? w2 : (w2 < 0 || w1 < w2 ? w1 : w2);
		if (wait_us < 0 || wait_us > (int64_t)(end - now))
			wait_us = (int64_t)(end - now);
		timeout = (int)((wait_us + 999) / 1000);
		if (poll(pf, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[0].revents & POLLIN)
			read_some(&to_tapird, false);
		if (pf[1].revents & POLLIN)
			read_some(&to_client, !tap2);
		if ((pf[0].revents | pf[1].revents) & (POLLERR | POLLHUP))
			break;
	}
	report(&to_tapird);
	report(&to_client);
	return 0;
}
