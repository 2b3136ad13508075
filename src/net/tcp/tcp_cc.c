/* Congestion control: NewReno (RFC 5681, 6582, 6928) and CUBIC (RFC 9438).
 * Windows are in bytes. */
#include "net/tcp/tcp_cc.h"
#include "net/core.h"
#include "net/tcp/tcp.h"

#include <string.h>

#define CWND_MAX (1u << 30)

/* RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
static void initial_window(struct tcp_conn *c)
{
	uint32_t w = 2u * c->mss > 14600 ? 2u * c->mss : 14600;

	c->cwnd = 10u * c->mss < w ? 10u * c->mss : w;
	c->ssthresh = UINT32_MAX;
	memset(&c->cc_st, 0, sizeof(c->cc_st));
}

/* Was the window in use when this ACK came (RFC 7661)?  In slow start
 * half of it is enough (it doubles each round trip); after that, all but
 * a few segments (Nagle and silly-window avoidance stop short). */
static bool cwnd_limited(const struct tcp_conn *c, uint32_t flight)
{
	if (c->cwnd < c->ssthresh)
		return (uint64_t)flight * 2 >= c->cwnd;
	return (uint64_t)flight + 3u * c->mss >= c->cwnd;
}

/* Slow start (RFC 5681 3.1) counting bytes (RFC 3465): the window grows
 * by what was acknowledged, up to ssthresh.  RFC 3465's limit of two
 * segments per ACK is not applied: a receiver that acknowledges a whole
 * window at once would hold slow start to two segments a round trip
 * (Linux counts every segment acknowledged too).  Returns the bytes left
 * over for congestion avoidance. */
static uint32_t slow_start(struct tcp_conn *c, uint32_t acked)
{
	uint32_t room = c->ssthresh - c->cwnd, n = acked < room ? acked : room;

	c->cwnd = c->cwnd + n > CWND_MAX ? CWND_MAX : c->cwnd + n;
	return acked - n;
}

/* Congestion avoidance, RFC 5681 3.1's recommended form: one segment each
 * time a window's worth of bytes has been acknowledged, however many ACKs
 * that took. */
static void reno_increase(struct tcp_conn *c, uint32_t acked)
{
	uint32_t n;

	c->cc_st.acked += acked;
	if (c->cc_st.acked < c->cwnd)
		return;
	n = c->cc_st.acked / c->cwnd;
	c->cc_st.acked -= n * c->cwnd;
	c->cwnd = (uint64_t)c->cwnd + (uint64_t)n * c->mss > CWND_MAX
			  ? CWND_MAX
			  : c->cwnd + n * c->mss;
}

static void newreno_on_ack(struct tcp_conn *c, uint32_t acked,
			   uint32_t flight)
{
	if (!cwnd_limited(c, flight))
		return;
	if (c->cwnd < c->ssthresh)
		acked = slow_start(c, acked);
	if (acked && c->cwnd >= c->ssthresh)
		reno_increase(c, acked);
}

/* RFC 5681 (4): half the data in flight, at least two segments. */
static uint32_t newreno_on_loss(struct tcp_conn *c)
{
	uint32_t flight = c->snd_nxt - c->snd_una;

	c->cc_st.acked = 0;
	return flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = initial_window,
	.on_ack = newreno_on_ack,
	.on_loss = newreno_on_loss,
};

/* ---- CUBIC (RFC 9438) ---------------------------------------------------- */

#define CUBIC_C 0.4    /* segments per second cubed (4.2) */
#define CUBIC_BETA 0.7 /* multiplicative decrease (4.6) */
/* The Reno-friendly region's additive increase, 3(1-beta)/(1+beta) (4.3). */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/* The cube root of x >= 0 by Newton's method, a bounded number of steps
 * (K is at most a few hundred seconds; no libm needed). */
static double cube_root(double x)
{
	double r = 1.0 + x / 3.0;

	if (x <= 0.0)
		return 0.0;
	for (int i = 0; i < 200; i++) {
		double n = (2.0 * r + x / (r * r)) / 3.0;
		double d = n > r ? n - r : r - n;

		r = n;
		if (d <= r * 1e-12)
			break;
	}
	return r;
}

/* W_cubic(t) in bytes, t in seconds since the epoch (4.2). */
static double w_cubic(const struct tcp_conn *c, double t)
{
	double d = t - c->cc_st.k;

	return CUBIC_C * d * d * d * c->mss + c->cc_st.origin;
}

/* The first ACK of congestion avoidance after a reduction (or after the
 * sender was idle) starts an epoch: K is how long the curve takes from
 * here back to the window of the last loss. */
static void cubic_begin_epoch(struct tcp_conn *c, uint64_t now)
{
	struct tcp_cc_state *st = &c->cc_st;

	st->epoch = now ? now : 1;
	if (c->cwnd < st->w_max) {
		st->k = cube_root((st->w_max - c->cwnd) / (CUBIC_C * c->mss));
		st->origin = st->w_max;
	} else {
		st->k = 0.0;
		st->origin = c->cwnd;
	}
	st->w_est = c->cwnd;
}

static void cubic_on_ack(struct tcp_conn *c, uint32_t acked,
			 uint32_t flight)
{
	struct tcp_cc_state *st = &c->cc_st;
	uint64_t now = stack_now(c->s);
	double t, rtt, target, cwnd, alpha;

	if (!cwnd_limited(c, flight)) {
		/* Idle or application-limited: time spent so does not
		 * count toward the curve (Linux restarts the epoch too). */
		st->epoch = 0;
		return;
	}
	/* Plain slow start: without HyStart++ (RFC 9406, not implemented)
	 * it ends at ssthresh or the first loss, never on rising delay. */
	if (c->cwnd < c->ssthresh) {
		acked = slow_start(c, acked);
		if (!acked || c->cwnd < c->ssthresh)
			return;
	}
	if (!st->epoch)
		cubic_begin_epoch(c, now);
	cwnd = c->cwnd;
	t = (double)(now - st->epoch) / 1000.0;
	rtt = c->srtt8 ? (double)c->srtt8 / 8000.0 : 0.1;
	/* Where the curve will be one round trip from now, at most half
	 * again the window (4.2). */
	target = w_cubic(c, t + rtt);
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	/* The Reno-friendly estimate grows by alpha segments a round trip,
	 * by 1 once past the window of the last loss (4.3). */
	alpha = st->w_est >= st->cwnd_prior ? 1.0 : CUBIC_ALPHA;
	st->w_est += alpha * c->mss * ((double)acked / cwnd);
	if (w_cubic(c, t) < st->w_est) {
		cwnd = st->w_est; /* Reno-friendly region */
	} else {
		/* Concave or convex region: (target - cwnd)/cwnd per
		 * segment acknowledged (4.4, 4.5). */
		cwnd += (target - cwnd) * ((double)acked / cwnd);
	}
	if (cwnd > CWND_MAX)
		cwnd = CWND_MAX;
	if (cwnd > c->cwnd)
		c->cwnd = (uint32_t)cwnd;
}

/* Multiplicative decrease with fast convergence (4.6, 4.7); a timeout
 * (4.8) ends the epoch as well. */
static uint32_t cubic_on_loss(struct tcp_conn *c)
{
	struct tcp_cc_state *st = &c->cc_st;
	double cwnd = c->cwnd, ss;

	if (cwnd < st->w_max)
		st->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
	else
		st->w_max = cwnd;
	st->cwnd_prior = cwnd;
	st->epoch = 0;
	ss = cwnd * CUBIC_BETA;
	if (ss < 2.0 * c->mss)
		ss = 2.0 * c->mss;
	return (uint32_t)(ss + 0.5);
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.init = initial_window,
	.on_ack = cubic_on_ack,
	.on_loss = cubic_on_loss,
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!strcmp(name, "cubic"))
		return &tcp_cc_cubic;
	if (!strcmp(name, "newreno") || !strcmp(name, "reno"))
		return &tcp_cc_newreno;
	return NULL;
}
