/*
 * TCP timers.  Each connection has four on the stack's wheel, and none
 * scans connections: rtx (retransmission per RFC 6298; also zero-window
 * probes, the silly-window override, the bound on FIN_WAIT_2 without an
 * owner, and TIME_WAIT), rack (RACK's reordering wait and the tail loss
 * probe, RFC 8985), delack, and keepalive.
 */
#include "net/tcp/tcp.h"
#include "net/core.h"

#include <errno.h>

static void tcp_rtx_fire(struct timer *t, void *arg);
static void tcp_delack_fire(struct timer *t, void *arg);
static void tcp_keepalive_fire(struct timer *t, void *arg);
static void tcp_rack_fire(struct timer *t, void *arg);

void tcp_timers_init(struct tcp_conn *c)
{
	timer_init(&c->rtx, tcp_rtx_fire, c);
	timer_init(&c->delack, tcp_delack_fire, c);
	timer_init(&c->keepalive, tcp_keepalive_fire, c);
	timer_init(&c->rack, tcp_rack_fire, c);
	c->rto = c->s->p.tcp.rto_initial_ms;
}

static uint32_t tcp_backed_off_rto(const struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto << (c->backoff < 16 ? c->backoff : 16);

	return rto > c->s->p.tcp.rto_max_ms ? c->s->p.tcp.rto_max_ms
					    : (uint32_t)rto;
}

void tcp_arm_rtx(struct tcp_conn *c)
{
	if (!timer_pending(&c->rtx))
		timer_arm(&c->s->timers, &c->rtx, stack_now(c->s),
			  tcp_backed_off_rto(c));
}

/* RFC 6298 2.2-2.3, in ms, with SRTT and RTTVAR scaled by 8 and 4. */
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt)
{
	const struct tcp_params *p = &c->s->p.tcp;
	uint32_t rto;

	/* The clock counts milliseconds: a shorter round trip counts as
	 * one, so that SRTT 0 keeps meaning "no sample yet". */
	if (!rtt)
		rtt = 1;
	tapir_hist_observe(&c->s->tcp_rtt, (uint64_t)rtt * 1000u);
	if (!c->srtt8) {
		c->srtt8 = rtt << 3;
		c->rttvar4 = rtt << 1; /* RTTVAR = R/2, times 4 */
	} else {
		int32_t err = (int32_t)rtt - (int32_t)(c->srtt8 >> 3);
		uint32_t aerr = (uint32_t)(err < 0 ? -err : err);

		/* RTTVAR += (|err| - RTTVAR) / 4; SRTT += err / 8 */
		c->rttvar4 = c->rttvar4 - (c->rttvar4 >> 2) + aerr;
		c->srtt8 = (uint32_t)((int32_t)c->srtt8 + err);
	}
	rto = (c->srtt8 >> 3) + c->rttvar4; /* SRTT + 4 * RTTVAR */
	if (rto < p->rto_min_ms)
		rto = p->rto_min_ms;
	if (rto > p->rto_max_ms)
		rto = p->rto_max_ms;
	c->rto = rto;
}

static void tcp_rtx_fire(struct timer *t, void *arg)
{
	struct tcp_conn *c = arg;
	const struct tcp_params *p = &c->s->p.tcp;
	unsigned limit;

	(void)t;
	if (c->state == TCP_TIME_WAIT ||
	    (c->state == TCP_FIN_WAIT_2 && c->released)) {
		tcp_destroy(c, 0);
		return;
	}
	/* Zero-window probe: one byte beyond the window (RFC 9293 3.8.6.1),
	 * for as long as the peer answers; the probe byte counts as sent,
	 * so it goes again from SND.UNA each time. */
	if (c->snd_wnd == 0 && c->snd.len &&
	    c->snd_nxt - c->snd_una <= 1 && c->state != TCP_SYN_RECEIVED) {
		if (++c->probes > p->max_retries) {
			STAT_INC(&c->s->stats, TCP_TIMEOUTS);
			tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK, c->snd_nxt);
			tcp_destroy(c, -ETIMEDOUT);
			return;
		}
		STAT_INC(&c->s->stats, TCP_WINDOW_PROBES);
		c->snd_nxt = c->snd_una;
		c->snd_wnd = 1; /* let exactly one byte out */
		c->persist = true;
		tcp_output(c);
		c->persist = false;
		c->snd_wnd = 0;
		if (c->backoff < 16)
			c->backoff++;
		timer_cancel(&c->s->timers, &c->rtx);
		tcp_arm_rtx(c);
		return;
	}
	/* Data held back by silly-window avoidance with nothing in flight:
	 * send it now (RFC 9293 3.8.6.2.1's override timeout). */
	if (c->snd_nxt == c->snd_una && c->snd.len && c->snd_wnd &&
	    c->state != TCP_SYN_RECEIVED && c->state != TCP_SYN_SENT) {
		c->persist = true;
		tcp_output(c);
		c->persist = false;
		return;
	}
	if (c->snd_nxt == c->snd_una && c->state != TCP_SYN_RECEIVED &&
	    c->state != TCP_SYN_SENT)
		return; /* nothing outstanding */
	limit = (c->state == TCP_SYN_RECEIVED || c->state == TCP_SYN_SENT)
			? p->syn_retries
			: p->max_retries;
	if (c->backoff >= limit) {
		STAT_INC(&c->s->stats, TCP_TIMEOUTS);
		if (c->state != TCP_SYN_SENT)
			tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK,
				     c->snd_nxt);
		tcp_destroy(c, -ETIMEDOUT);
		return;
	}
	/* RFC 5681 (4): the window collapses; RFC 6298 5.5-5.6: back off. */
	c->ssthresh = c->cc->on_loss(c);
	c->cwnd = c->mss;
	c->in_recovery = false;
	c->ctr.loss = true;
	c->ctr.loss_end = c->snd_max;
	/* RFC 6582 4 would set recover to SND.MAX, barring fast retransmit
	 * until all that was in flight is acknowledged again; after our
	 * go-back that turns every further loss in the window into another
	 * timeout (measured: twice the RTOs at 5% loss).  Allow it. */
	c->recover = c->snd_una;
	c->dupacks = 0;
	/* After a timeout, trust nothing (RFC 6675 5.1): everything from
	 * SND.UNA goes again. */
	tcp_sb_reset(c);
	c->tlp_out = false;
	c->tlp_episode = false; /* the timeout reduces the window anyway */
	c->rack_wait = false;
	timer_cancel(&c->s->timers, &c->rack);
	c->backoff++;
	c->rtt_pending = false; /* Karn: no sample from a retransmission */
	STAT_INC(&c->s->stats, TCP_RTO_FIRED);
	if (c->state == TCP_SYN_RECEIVED || c->state == TCP_SYN_SENT) {
		tcp_retransmit_syn(c);
	} else {
		/* Go back: resend from SND.UNA, the FIN after the data. */
		c->snd_nxt = c->snd_una;
		c->fin_sent = false;
		tcp_output(c);
	}
	timer_cancel(&c->s->timers, &c->rtx);
	tcp_arm_rtx(c);
}

/* RFC 8985 7.2: PTO = 2 SRTT, plus the peer's delayed ACK when a single
 * segment is out, at least 10 ms, and never later than the RTO.  Unlike
 * RFC 8985 it is armed in recovery too (see tcp_rack_fire). */
void tcp_arm_tlp(struct tcp_conn *c)
{
	uint32_t srtt = c->srtt8 >> 3, pto;

	if (!c->sack_ok || !c->srtt8 || c->tlp_out || c->tlp_episode ||
	    c->snd_nxt == c->snd_una || c->snd_nxt != c->snd_max ||
	    c->state < TCP_ESTABLISHED || c->state == TCP_TIME_WAIT)
		return;
	if (timer_pending(&c->rack) && c->rack_wait)
		return; /* RACK's wait comes first */
	pto = 2 * srtt;
	if (c->snd_nxt - c->snd_una <= c->mss)
		pto += 50;
	if (pto < 10)
		pto = 10;
	if (pto >= c->rto)
		return;
	c->rack_wait = false;
	timer_arm(&c->s->timers, &c->rack, stack_now(c->s), pto);
}

void tcp_arm_rack(struct tcp_conn *c, uint64_t ms)
{
	c->rack_wait = true;
	timer_arm(&c->s->timers, &c->rack, stack_now(c->s), ms);
}

/* The probe: new data if the peer's window takes it, else the last
 * segment again; its ACK (with SACK) lets RACK find what was lost. */
static void tcp_send_probe(struct tcp_conn *c)
{
	uint32_t queued = (uint32_t)c->snd.len, off = c->snd_nxt - c->snd_una;
	uint32_t cwnd = c->cwnd;

	c->tlp_retrans = !(queued > off && c->snd_wnd > off);
	if (!c->tlp_retrans) {
		c->cwnd = tcp_sb_pipe(c) + c->mss;
		c->persist = true; /* past Nagle and silly-window avoidance */
		tcp_output(c);
		c->persist = false;
		c->cwnd = cwnd;
	} else {
		tcp_resend_last(c);
	}
	c->tlp_episode = true;
	c->tlp_end = c->snd_nxt;
}

static void tcp_rack_fire(struct timer *t, void *arg)
{
	struct tcp_conn *c = arg;

	(void)t;
	if (c->rack_wait) {
		c->rack_wait = false;
		tcp_loss_check(c, 0);
		tcp_output(c);
		if (!timer_pending(&c->rack))
			tcp_arm_tlp(c);
		return;
	}
	if (c->snd_nxt == c->snd_una || c->tlp_out)
		return;
	STAT_INC(&c->s->stats, TCP_LOSS_PROBES);
	c->tlp_out = true;
	/* In recovery, silence for two round trips while a loss waits for
	 * room in the pipe: send it (every ACK it elicits opens the pipe
	 * again) rather than wait for the timeout. */
	if (c->in_recovery && c->sb.nlost) {
		c->rtx_first = true;
		tcp_output(c);
		return;
	}
	tcp_send_probe(c);
}

static void tcp_delack_fire(struct timer *t, void *arg)
{
	struct tcp_conn *c = arg;

	(void)t;
	c->ack_now = true;
	tcp_output(c);
}

void tcp_keepalive_touch(struct tcp_conn *c)
{
	if (!c->ka_on)
		return;
	c->ka_sent = 0;
	timer_arm(&c->s->timers, &c->keepalive, stack_now(c->s),
		  c->s->p.tcp.keepalive_idle_ms);
}

/* RFC 1122 4.2.3.6: after an idle time, an ACK for a byte the peer has
 * already acknowledged (SEG.SEQ = SND.UNA - 1) makes a live peer answer;
 * after keepalive_probes unanswered ones the connection is reset. */
static void tcp_keepalive_fire(struct timer *t, void *arg)
{
	struct tcp_conn *c = arg;
	const struct tcp_params *p = &c->s->p.tcp;

	(void)t;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
		return;
	if (c->ka_sent >= p->keepalive_probes) {
		STAT_INC(&c->s->stats, TCP_TIMEOUTS);
		tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK, c->snd_nxt);
		tcp_destroy(c, -ETIMEDOUT);
		return;
	}
	c->ka_sent++;
	STAT_INC(&c->s->stats, TCP_KEEPALIVE_PROBES);
	tcp_send_ctl(c, TCP_FLAG_ACK, c->snd_una - 1);
	timer_arm(&c->s->timers, &c->keepalive, stack_now(c->s),
		  p->keepalive_intvl_ms);
}

void tcp_enter_time_wait(struct tcp_conn *c)
{
	const struct tcp_callbacks *cb = c->cb;
	void *ctx = c->ctx;

	/* At the TIME_WAIT limit the connection ends at once instead (as
	 * Linux does past tcp_max_tw_buckets): a bound on what a stream of
	 * short connections can make us keep. */
	if (c->s->tcp.by_state[TCP_TIME_WAIT] >= c->s->p.tcp.max_time_wait) {
		STAT_INC(&c->s->stats, TCP_TIME_WAIT_OVERFLOW);
		tcp_destroy(c, 0);
		return;
	}
	tcp_set_state(c, TCP_TIME_WAIT);
	timer_cancel(&c->s->timers, &c->keepalive);
	/* For the owner the connection is over now; TIME_WAIT is ours. */
	c->cb = NULL;
	c->ctx = NULL;
	if (cb && cb->closed)
		cb->closed(ctx, c, 0);
	timer_cancel(&c->s->timers, &c->delack);
	timer_arm(&c->s->timers, &c->rtx, stack_now(c->s),
		  c->s->p.tcp.time_wait_ms);
	/* Nothing more will be sent or arrive; what the owner has not yet
	 * taken stays until the connection is freed. */
	bytering_fini(&c->snd);
	tcp_ooo_fini(&c->ooo);
	tcp_sb_fini(c);
	timer_cancel(&c->s->timers, &c->rack);
}
