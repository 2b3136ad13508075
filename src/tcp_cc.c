/* NewReno's window growth and loss response (RFC 5681, RFC 6928). */
#include "tcp_cc.h"
#include "tcp.h"

#define CWND_MAX (1u << 30)

/* RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
static void newreno_init(struct tcp_conn *c)
{
	uint32_t w = 2u * c->mss > 14600 ? 2u * c->mss : 14600;

	c->cwnd = 10u * c->mss < w ? 10u * c->mss : w;
	c->ssthresh = UINT32_MAX;
}

/* Slow start below ssthresh (RFC 5681 3.1, with appropriate byte counting
 * capped at one MSS per ACK, RFC 3465), then about one MSS per round trip. */
static void newreno_on_ack(struct tcp_conn *c, uint32_t acked)
{
	if (c->cwnd < c->ssthresh)
		c->cwnd += acked < c->mss ? acked : c->mss;
	else
		c->cwnd += (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd) + 1;
	if (c->cwnd > CWND_MAX)
		c->cwnd = CWND_MAX;
}

/* RFC 5681 (4): half the data in flight, at least two segments. */
static uint32_t newreno_ssthresh(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_nxt - c->snd_una;

	return flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
}

const struct tcp_cc_ops tcp_cc_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.ssthresh = newreno_ssthresh,
};
