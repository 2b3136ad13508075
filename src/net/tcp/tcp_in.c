/*
 * TCP input: segment arrival, in the order of RFC 9293 section 3.10.7.
 *
 * Theory of operation.  tcp_input() drops what no connection may take
 * (broadcast or multicast, a bad checksum unless the link vouched for it,
 * a malformed header or option area), finds the connection by its
 * 4-tuple (a bare SYN above RCV.NXT of a connection in TIME-WAIT ends it
 * first, as Linux does), and hands the segment to one of three paths:
 *
 *   no connection   -> tcp_input_listen() (3.10.7.1, 3.10.7.2): with no
 *                      listener, a reset (never for a RST).  At a
 *                      listener, a SYN within the connection limit makes
 *                      a connection in SYN-RECEIVED (past the SYN backlog
 *                      a SYN cookie answers it and nothing is kept); an
 *                      ACK that returns a valid cookie makes the
 *                      connection and goes on through tcp_input_conn();
 *                      any other ACK is answered with a reset; a RST, or
 *                      a segment with neither SYN nor ACK, is dropped;
 *   SYN-SENT        -> tcp_input_syn_sent() (3.10.7.3): the answer to our
 *                      active open; a SYN-ACK for our SYN establishes it,
 *                      a SYN alone means a simultaneous open (SYN-RECEIVED);
 *   SYN-RECEIVED and the synchronized states -> tcp_input_conn(), which
 *                      follows 3.10.7.4 step by step: sequence check (with
 *                      PAWS, RFC 7323), RST (RFC 5961 3), SYN (RFC 5961
 *                      4), ACK (RFC 5961 5, RFC 5681), urgent (ignored:
 *                      the pointer is never used as an offset), text, FIN.
 *
 * A callback into the owner (accepted, connected, recv, writable,
 * peer_closed, closed) may close or abort the connection.  While input
 * runs, c->busy keeps the memory alive: tcp_destroy() then only unlinks
 * and marks c dead, input checks c->dead after every callback and frees c
 * on the way out.
 */
#include "net/tcp/tcp.h"
#include "net/csum.h"
#include "net/core.h"
#include "tapir/siphash.h"
#include "net/tcp/tcp_isn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- SYN cookies ---------------------------------------------------------
 *
 * Past the SYN backlog, a SYN is answered without keeping any state: our
 * ISN is the cookie (RFC 4987 3.6).  Its top 24 bits are a keyed hash of
 * the 4-tuple, the peer's ISN and a 64-second time slot; then 5 bits of
 * the slot and a 3-bit index into a table of MSS values.  When the
 * handshake's ACK comes back, ACK - 1 is checked against the current and
 * the previous slot.  Window scale and SACK-permitted fit only where the
 * peer sent timestamps: in the low 6 bits of our TSval, which the ACK
 * echoes (Linux's layout: 4 bits of scale, 15 for none, and 1 of SACK).
 */

#define COOKIE_SLOT_MS 64000u
static const uint16_t cookie_mss[8] = {88, 536, 1200, 1400, 1440, 1460,
				       4312, 8960};

static uint32_t cookie_hash(const struct stack *s, const struct flow_key *k,
			    uint32_t peer_isn, uint32_t slot)
{
	uint8_t b[44];

	memcpy(b, k->laddr.a, 16);
	memcpy(b + 16, k->raddr.a, 16);
	put_be16(b + 32, k->lport);
	put_be16(b + 34, k->rport);
	put_be32(b + 36, peer_isn);
	put_be32(b + 40, slot);
	return (uint32_t)tapir_siphash24(b, sizeof(b), s->tcp.cookie_key);
}

/* Answer a SYN with a cookie SYN-ACK; nothing is kept. */
static void tcp_send_cookie(struct stack *s, const struct flow_key *k,
			    const struct tcp_hdr *h, const struct tcp_opts *o)
{
	struct tcp_conn t;
	uint32_t slot = (uint32_t)(stack_now(s) / COOKIE_SLOT_MS);
	uint16_t want = o->mss_ok ? o->mss : TCP_DEFAULT_MSS;
	uint32_t mtu_mss =
		(uint32_t)(pmtu_get(s, &k->raddr) - l3_hlen(&k->raddr) - TCP_HLEN);
	unsigned idx = 0;

	if (want > mtu_mss)
		want = (uint16_t)mtu_mss;
	for (unsigned i = 0; i < 8; i++)
		if (cookie_mss[i] <= want)
			idx = i;
	memset(&t, 0, sizeof(t));
	t.s = s;
	t.flow.key = *k;
	t.state = TCP_SYN_RECEIVED;
	t.mss = cookie_mss[idx];
	t.rcv_nxt = h->seq + 1;
	t.rcv_adv = t.rcv_nxt;
	bytering_init(&t.rcv, s->p.tcp.rcvbuf);
	t.iss = (cookie_hash(s, k, h->seq, slot) & 0xffffff00u) |
		(slot & 31) << 3 | idx;
	if (o->ts_ok) {
		t.ts_ok = true;
		t.ts_recent = o->tsval;
		t.sack_ok = o->sack_perm;
		if (o->ws_ok) {
			t.snd_ws = o->ws;
			t.rcv_ws = tcp_ws_for(s->p.tcp.rcvbuf);
		}
		t.cookie_syn = true;
		t.cookie_ts = (uint8_t)((o->ws_ok ? t.snd_ws : 15) |
					(o->sack_perm << 4));
	}
	STAT_INC(&s->stats, TCP_COOKIES_SENT);
	s->tcp.cookie_until = stack_now(s) + 2 * COOKIE_SLOT_MS;
	tcp_send_ctl(&t, TCP_FLAG_SYN | TCP_FLAG_ACK, t.iss);
}

/* Is this ACK the end of a handshake we answered with a cookie?  On
 * success fills what the SYN negotiated. */
static bool tcp_check_cookie(struct stack *s, const struct flow_key *k,
			     const struct tcp_hdr *h, const struct tcp_opts *o,
			     uint16_t *mss, int *ts_bits)
{
	uint32_t isn = h->ack - 1, now = (uint32_t)(stack_now(s) /
						     COOKIE_SLOT_MS);

	for (uint32_t back = 0; back < 2; back++) {
		uint32_t slot = now - back;

		if ((slot & 31) != ((isn >> 3) & 31))
			continue;
		if ((cookie_hash(s, k, h->seq - 1, slot) & 0xffffff00u) !=
		    (isn & 0xffffff00u))
			continue;
		*mss = cookie_mss[isn & 7];
		*ts_bits = o->ts_ok ? (int)(o->tsecr & 0x3f) : -1;
		return true;
	}
	return false;
}

/* SYN-SENT (RFC 9293 3.10.7.3). */
static void tcp_input_syn_sent(struct tcp_conn *c, const struct tcp_hdr *h,
			       const struct tcp_opts *o)
{
	struct stack *s = c->s;
	bool ack = h->flags & TCP_FLAG_ACK;
	uint32_t mtu_mss = (uint32_t)(pmtu_get(s, &c->flow.key.raddr) -
				      l3_hlen(&c->flow.key.raddr) - TCP_HLEN);

	/* First: the ACK must be for our SYN. */
	if (ack && (seq_leq(h->ack, c->iss) || seq_gt(h->ack, c->snd_nxt))) {
		if (!(h->flags & TCP_FLAG_RST))
			tcp_send_ctl(c, TCP_FLAG_RST, h->ack);
		return;
	}
	/* Second: a reset with an acceptable ACK refuses us. */
	if (h->flags & TCP_FLAG_RST) {
		if (ack) {
			STAT_INC(&s->stats, TCP_RST_RX);
			tcp_destroy(c, -ECONNREFUSED);
		}
		return;
	}
	/* Fourth: the SYN. */
	if (!(h->flags & TCP_FLAG_SYN))
		return;
	c->irs = h->seq;
	c->rcv_nxt = h->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	if (o->mss_ok && o->mss < c->mss)
		c->mss = o->mss;
	else if (!o->mss_ok)
		c->mss = TCP_DEFAULT_MSS;
	if (c->mss > mtu_mss)
		c->mss = (uint16_t)mtu_mss;
	if (o->ws_ok) {
		c->snd_ws = o->ws;
	} else {
		c->rcv_ws = 0; /* scaling needs both sides */
		c->snd_ws = 0;
	}
	c->sack_ok = o->sack_perm;
	c->ts_ok = o->ts_ok;
	c->ts_recent = o->tsval;
	c->cc->init(c); /* again: the MSS is known now */
	c->snd_wnd = h->win; /* never scaled on a SYN */
	tcp_note_wnd(c, c->snd_wnd);
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = h->seq;
	c->snd_wl2 = h->ack;
	if (!ack) {
		/* Simultaneous open: our SYN and theirs crossed. */
		tcp_set_state(c, TCP_SYN_RECEIVED);
		c->listener->pending++; /* tcp_set_state counts it back */
		tcp_send_ctl(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->iss);
		return;
	}
	c->snd_una = h->ack;
	c->backoff = 0;
	timer_cancel(&s->timers, &c->rtx);
	tcp_set_state(c, TCP_ESTABLISHED);
	c->ack_now = true;
	tcp_output(c); /* the ACK, with any data queued meanwhile */
	if (c->cb && c->cb->connected)
		c->cb->connected(c->ctx, c);
}

/* ---- LISTEN: a SYN makes a connection ----------------------------------- */

static void tcp_input_conn(struct tcp_conn *c, const struct tcp_hdr *h,
			   const struct tcp_opts *o, struct cur data);

static void tcp_input_listen(struct stack *s, const struct l3_rx *rx,
			     const struct tcp_hdr *h, const struct tcp_opts *o,
			     struct cur seg)
{
	size_t len = seg.len;
	struct tcp_listener *l;
	struct tcp_conn *c;
	uint32_t mtu_mss =
		(uint32_t)(pmtu_get(s, &rx->src) - l3_hlen(&rx->src) - TCP_HLEN);
	struct flow_key k = {rx->dst, rx->src, h->dport, h->sport};
	uint16_t cookie_mss_v = 0;
	int ts_bits = -1;
	bool cookie = false;

	l = (struct tcp_listener *)listener_find(&s->tcp.listeners, &rx->dst,
						 h->dport);
	if (!l) {
		STAT_INC(&s->stats, TCP_DROP_NO_LISTENER);
		tcp_send_reset(s, rx, h, len);
		return;
	}
	if (h->flags & TCP_FLAG_RST)
		return;
	if (h->flags & TCP_FLAG_ACK) {
		/* The last step of a handshake answered with a cookie? */
		if (!(h->flags & TCP_FLAG_SYN) &&
		    stack_now(s) < s->tcp.cookie_until &&
		    tcp_active_count(s) < s->p.tcp.max_conns) {
			cookie = tcp_check_cookie(s, &k, h, o, &cookie_mss_v,
						  &ts_bits);
			s->stats.v[cookie ? STAT_TCP_COOKIES_OK
					  : STAT_TCP_COOKIES_BAD]++;
		}
		if (!cookie) {
			tcp_send_reset(s, rx, h, len);
			return;
		}
	} else if (!(h->flags & TCP_FLAG_SYN) || inany_is_unspec(&rx->src)) {
		STAT_INC(&s->stats, TCP_DROP_NOT_SYN);
		return;
	} else if (tcp_active_count(s) >= s->p.tcp.max_conns) {
		STAT_INC(&s->stats, TCP_DROP_MAX_CONNS);
		return;
	} else if (l->pending >= s->p.tcp.syn_backlog) {
		if (s->p.tcp.syncookies) {
			tcp_send_cookie(s, &k, h, o);
			return;
		}
		STAT_INC(&s->stats, TCP_DROP_BACKLOG);
		return;
	}
	c = tcp_conn_new(s, &k, l);
	if (!c)
		return;
	tcp_set_state(c, TCP_SYN_RECEIVED);
	l->pending++;
	STAT_INC(&s->stats, TCP_PASSIVE_OPENS);
	if (cookie) {
		/* Rebuild what the SYN negotiated; the ACK itself then goes
		 * through the SYN-RECEIVED path like any other. */
		c->irs = h->seq - 1;
		c->iss = h->ack - 1;
		c->mss = cookie_mss_v;
		c->ts_ok = ts_bits >= 0;
		c->ts_recent = o->tsval;
		if (ts_bits >= 0) {
			c->sack_ok = (ts_bits >> 4) & 1;
			if ((ts_bits & 15) != 15) {
				c->snd_ws = (uint8_t)(ts_bits & 15);
				c->rcv_ws = tcp_ws_for(s->p.tcp.rcvbuf);
			}
		}
		c->snd_wnd = 0; /* set from the ACK */
	} else {
		c->irs = h->seq;
		c->iss = tcp_isn(&c->flow.key, s->tcp.isn_key,
				 stack_now(s) * 1000);
		/* Options from the SYN (RFC 7323 2.2, RFC 2018 2). */
		c->mss = (uint16_t)(o->mss_ok ? o->mss : TCP_DEFAULT_MSS);
		if (o->ws_ok) {
			c->snd_ws = o->ws;
			c->rcv_ws = tcp_ws_for(s->p.tcp.rcvbuf);
		}
		c->sack_ok = o->sack_perm;
		c->ts_ok = o->ts_ok;
		c->ts_recent = o->tsval;
		c->snd_wnd = h->win; /* a SYN's window is never scaled */
		tcp_note_wnd(c, c->snd_wnd);
	}
	if (c->mss > mtu_mss)
		c->mss = (uint16_t)mtu_mss;
	c->rcv_nxt = c->irs + 1;
	c->rcv_adv = c->rcv_nxt + (cookie ? tcp_rcv_window(c) : 0);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->snd_nxt;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = c->irs;
	c->snd_wl2 = c->iss;
	c->recover = c->iss; /* RFC 6582 3.2: no recovery before ours */
	c->cc->init(c);
	if (cookie) {
		c->busy++;
		tcp_input_conn(c, h, o, seg);
		if (--c->busy == 0 && c->dead)
			free(c);
		return;
	}
	tcp_send_ctl(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->iss);
	tcp_arm_rtx(c);
}

/* ---- Synchronized states ------------------------------------------------ */

/* RFC 5961 challenge ACK: tell a possibly blind sender where we are, at
 * most TCP_CHALLENGE_PER_S a second over the stack (RFC 5961 7), so
 * forged segments cannot turn us into an ACK flood. */
#define TCP_CHALLENGE_PER_S 1000
/* [start, end) arrived again: report it in the next ACK, sent at once,
 * as the first SACK block (RFC 2883), so that the sender can tell a
 * retransmission it did not need (and undo what it cost). */
static void tcp_note_dsack(struct tcp_conn *c, uint32_t start, uint32_t end)
{
	if (!c->sack_ok)
		return;
	c->dsack = true;
	c->dsack_start = start;
	c->dsack_end = end;
	c->ack_now = true;
}

static void tcp_challenge_ack(struct tcp_conn *c)
{
	struct tcp_stack *t = &c->s->tcp;
	uint64_t sec = stack_now(c->s) / 1000;

	if (sec != t->challenge_sec) {
		t->challenge_sec = sec;
		t->challenge_count = 0;
	}
	if (++t->challenge_count > TCP_CHALLENGE_PER_S) {
		STAT_INC(&c->s->stats, TCP_CHALLENGE_LIMITED);
		return;
	}
	STAT_INC(&c->s->stats, TCP_CHALLENGE_ACKS);
	tcp_send_ctl(c, TCP_FLAG_ACK, c->snd_nxt);
}

/* Window we accept segments into: at least what we promised. */
static uint32_t tcp_accept_window(const struct tcp_conn *c)
{
	uint32_t room = (uint32_t)bytering_room(&c->rcv);
	uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt
						     : 0;

	return room > adv ? room : adv;
}

/* The FIN has arrived in order: RFC 9293 3.10.7.4, eighth step. */
void tcp_fin_in_order(struct tcp_conn *c)
{
	bool time_wait = false;

	c->rcv_nxt++;
	c->fin_rcvd = true;
	c->ooo_fin = false;
	c->ack_now = true;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (c->fin_acked)
			time_wait = true;
		else
			tcp_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		time_wait = true;
		break;
	default:
		break;
	}
	/* The owner hears of the FIN first, then (in TIME_WAIT) closed(). */
	if (c->cb && c->cb->peer_closed)
		c->cb->peer_closed(c->ctx, c);
	if (time_wait && !c->dead)
		tcp_enter_time_wait(c);
}

/* The delivery rate: bytes acknowledged or SACKed per second, measured
 * over periods of a round trip (at least TCP_RATE_MIN_MS). */
static void tcp_rate_update(struct tcp_conn *c, uint32_t delivered)
{
	struct tcp_conn_ctr *r = &c->ctr;
	uint64_t now = stack_now(c->s), period = c->srtt8 >> 3;

	if (!delivered)
		return;
	if (!r->rate_on) {
		/* The period starts with the first delivery, which counts
		 * as its baseline. */
		r->rate_on = true;
		r->rate_start = now;
		r->delivered += delivered;
		r->rate_mark = r->delivered;
		return;
	}
	r->delivered += delivered;
	if (period < TCP_RATE_MIN_MS)
		period = TCP_RATE_MIN_MS;
	if (now - r->rate_start < period)
		return;
	r->delivery_rate =
		(r->delivered - r->rate_mark) * 1000 / (now - r->rate_start);
	r->rate_start = now;
	r->rate_mark = r->delivered;
}

/* Step five: the ACK field.  Returns false when the segment is done. */
static bool tcp_ack_in(struct tcp_conn *c, const struct tcp_hdr *h,
		       const struct tcp_opts *o, size_t len)
{
	struct stack *s = c->s;
	uint32_t ack = h->ack, wnd = (uint32_t)h->win << c->snd_ws;
	uint32_t delivered = 0;

	if (c->state == TCP_SYN_RECEIVED) {
		if (!seq_lt(c->snd_una, ack) || seq_gt(ack, c->snd_nxt)) {
			tcp_send_ctl(c, TCP_FLAG_RST, ack); /* <SEQ=SEG.ACK> */
			return false;
		}
		tcp_set_state(c, TCP_ESTABLISHED);
		c->snd_una = ack;
		c->snd_wnd = wnd;
		tcp_note_wnd(c, wnd);
		c->max_snd_wnd = wnd;
		c->snd_wl1 = h->seq;
		c->snd_wl2 = ack;
		c->backoff = 0;
		timer_cancel(&s->timers, &c->rtx);
		if (c->cb && c->cb->connected) {
			/* Simultaneous open: ours from tcp_connect(). */
			c->cb->connected(c->ctx, c);
			if (c->dead)
				return false;
		} else if (c->listener && c->listener->cb &&
			   c->listener->cb->accepted) {
			c->cb = c->listener->cb;
			c->ctx = c->cb->accepted(c->listener->arg, c);
			if (c->dead)
				return false;
			if (!c->ctx) {
				tcp_abort(c);
				return false;
			}
		}
		return true;
	}
	c->probes = 0; /* the peer is alive */
	/* RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND,
	 * SND.MAX]. */
	if (seq_gt(ack, c->snd_max)) {
		STAT_INC(&s->stats, TCP_DROP_ACK_AHEAD);
		c->ack_now = true;
		return false;
	}
	if (seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
		tcp_challenge_ack(c);
		return false;
	}
	if (seq_geq(ack, c->snd_una)) {
		delivered = tcp_sb_ack(c, ack, c->sack_ok ? o : NULL);
		tcp_rate_update(c, delivered);
		if (seq_gt(ack, c->snd_una) || o->nsack)
			c->tlp_out = false; /* the probe, if any, was answered */
		tcp_tlp_ack(c, ack, o);
	}
	if (seq_gt(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		size_t data = acked > c->snd.len ? c->snd.len : acked;
		uint64_t now = stack_now(s);

		bytering_consume(&c->snd, data);
		c->ctr.bytes_acked += data;
		c->snd_una = ack;
		if (c->ctr.loss && seq_geq(ack, c->ctr.loss_end))
			c->ctr.loss = false;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		/* Our FIN is acknowledged even when a go-back meant to send
		 * it again (fin_sent cleared). */
		if (c->fin_seq_set && seq_gt(ack, c->fin_seq))
			c->fin_acked = true;
		/* An RTT sample: timestamps, or the one timed segment. */
		if (c->ts_ok && o->ts_ok && o->tsecr &&
		    (uint32_t)now - o->tsecr < 600000)
			tcp_rtt_sample(c, (uint32_t)now - o->tsecr);
		else if (c->rtt_pending && seq_gt(ack, c->rtt_seq)) {
			tcp_rtt_sample(c, (uint32_t)(now - c->rtt_start));
			c->rtt_pending = false;
		}
		c->backoff = 0;
		c->dupacks = 0;
		tcp_cc_ack(c, acked, ack, c->snd_max - (ack - acked));
		timer_cancel(&s->timers, &c->rtx);
		if (c->snd_nxt != c->snd_una)
			tcp_arm_rtx(c);
	} else if (ack == c->snd_una && !len &&
		   !(h->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) && wnd &&
		   c->snd_max != c->snd_una &&
		   (wnd == c->snd_wnd || (c->sack_ok && o->nsack))) {
		/* A duplicate ACK (RFC 5681 2): same window, or, with SACK,
		 * any ACK reporting SACKed data (RFC 6675 2), since the
		 * receiver's window moves as its buffer drains.  Not at a
		 * zero window: those ACKs answer probes. */
		tcp_dupack(c);
	}
	/* Window update (RFC 9293 3.10.7.4, fifth step). */
	if (seq_lt(c->snd_wl1, h->seq) ||
	    (c->snd_wl1 == h->seq && seq_leq(c->snd_wl2, ack))) {
		/* The window reopens while a probe byte is out: send now
		 * from SND.UNA rather than wait for the probe timer. */
		if (c->snd_wnd == 0 && wnd && c->snd_nxt - c->snd_una <= 1 &&
		    c->snd.len) {
			c->snd_nxt = c->snd_una;
			c->backoff = 0;
			timer_cancel(&s->timers, &c->rtx);
		}
		c->snd_wnd = wnd;
		tcp_note_wnd(c, wnd);
		c->snd_wl1 = h->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		/* Nothing left to send: the probe timer can go (in
		 * FIN_WAIT_2 the same timer bounds the wait for a FIN). */
		if (wnd && c->snd_nxt == c->snd_una && timer_pending(&c->rtx) &&
		    !c->snd.len && c->state != TCP_FIN_WAIT_2)
			timer_cancel(&s->timers, &c->rtx);
	}
	/* What the ACK's SACK blocks and timing say is lost (RACK); the
	 * loss probe restarts from an ACK that delivered data. */
	tcp_loss_check(c, delivered);
	if (delivered && !(timer_pending(&c->rack) && c->rack_wait))
		tcp_arm_tlp(c);
	/* Room freed: the owner may queue more, which goes out at once, so
	 * only now, with this ACK's window and losses taken in (sending on
	 * the previous window overran the peer's). */
	if (c->want_writable && tcp_send_room(c) && c->cb &&
	    c->cb->writable) {
		c->want_writable = false;
		c->cb->writable(c->ctx, c);
		if (c->dead)
			return false;
	}
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		if (c->fin_acked) {
			tcp_set_state(c, TCP_FIN_WAIT_2);
			/* Nobody owns it any more: do not wait for the peer's
			 * FIN for ever (Linux's tcp_fin_timeout). */
			if (c->released) {
				timer_cancel(&s->timers, &c->rtx);
				timer_arm(&s->timers, &c->rtx, stack_now(s),
					  s->p.tcp.time_wait_ms);
			}
		}
		break;
	case TCP_CLOSING:
		if (c->fin_acked) {
			tcp_enter_time_wait(c);
			return false;
		}
		break;
	case TCP_LAST_ACK:
		if (c->fin_acked) {
			tcp_destroy(c, 0);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* Step seven: segment text. */
static void tcp_data_in(struct tcp_conn *c, uint32_t seq, struct cur data,
			bool fin)
{
	struct stack *s = c->s;

	if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 &&
	    c->state != TCP_FIN_WAIT_2) {
		return;
	}
	/* Data for an owner that has closed: RFC 1122 4.2.2.13, reset. */
	if (c->released && data.len) {
		tcp_send_ctl(c, TCP_FLAG_RST | TCP_FLAG_ACK, c->snd_nxt);
		tcp_destroy(c, -ECONNABORTED);
		return;
	}
	if (seq == c->rcv_nxt) {
		uint32_t rcv_before = c->rcv_nxt;
		bool had_ooo = c->ooo.head != NULL;
		size_t took = 0,
		       full = s->p.mtu - l3_hlen(&c->flow.key.raddr) - TCP_HLEN;
		bool held = false; /* the owner took less than offered */

		/* Nothing queued ahead of it and room for all of it: the
		 * owner reads it straight from the frame, and only what it
		 * leaves is copied into the receive buffer.  Normally that
		 * buffer's memory is reserved first, so the leftover is sure
		 * to fit, and the segment is received before recv() (RCV.NXT
		 * moves, so a reply sent from inside recv() acknowledges
		 * it).  When memory is short (recv() may take the pool's
		 * last bytes for its reply) the segment is received only
		 * after recv(), as far as the owner took it or the buffer
		 * could keep it: acknowledged bytes are never dropped. */
		if (data.len && !had_ooo && !c->rcv.len && c->cb &&
		    c->cb->recv && !c->delivering &&
		    bytering_room(&c->rcv) >= data.len) {
			bool reserved = bytering_reserve(&c->rcv, data.len);
			size_t used;

			if (reserved) {
				c->rcv_nxt += (uint32_t)data.len;
				if (seq_gt(c->rcv_nxt, c->rcv_adv))
					c->rcv_adv = c->rcv_nxt;
			}
			c->delivering = true;
			c->delivering_n = data.len;
			used = c->cb->recv(c->ctx, c, data.p, data.len);
			c->delivering = false;
			if (c->dead)
				return;
			if (used > data.len)
				used = data.len;
			held = used < data.len;
			took = used + bytering_append(&c->rcv, data.p + used,
						      data.len - used);
			bytering_trim(&c->rcv);
			if (!reserved)
				c->rcv_nxt += (uint32_t)took;
			else
				took = data.len; /* sure to fit */
		} else if (data.len) {
			took = bytering_append(&c->rcv, data.p, data.len);
			c->rcv_nxt += (uint32_t)took;
		}
		if (seq_gt(c->rcv_nxt, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt; /* past what we offered */
		if (had_ooo) {
			tcp_ooo_drain(&c->ooo, &c->rcv_nxt, &c->rcv);
			c->ack_now = true; /* a hole was filled */
		}
		c->ctr.bytes_received += c->rcv_nxt - rcv_before;
		/* ACK at least every second full-sized segment (RFC 9293
		 * 3.8.6.3); "full" is the largest the peer has sent (at most
		 * our MTU's worth), which its options make a little less
		 * than its MSS. */
		if (took > c->rcv_mss)
			c->rcv_mss = (uint16_t)(took > full ? full : took);
		/* A frame the link did not cut up counts as the segments
		 * it holds. */
		if (took && took >= c->rcv_mss && c->ack_sent != c->rcv_nxt)
			c->unacked_segs += (unsigned)(took / c->rcv_mss);
		if (c->unacked_segs >= 2)
			c->ack_now = true;
		if (took < data.len)
			STAT_INC(&s->stats, TCP_DROP_RCVBUF);
		/* The data goes to the owner before the FIN does: a FIN
		 * behind data the owner has not taken yet waits for it.  An
		 * owner that just took less hears again after
		 * tcp_recv_resume(). */
		if (!held)
			tcp_deliver(c);
		if (c->dead)
			return;
		if (((fin && took == data.len) ||
		     (c->ooo_fin && c->rcv_nxt == c->ooo_fin_seq)) &&
		    !c->fin_rcvd && !c->fin_pending) {
			if (c->rcv.len && c->cb)
				c->fin_pending = true;
			else
				tcp_fin_in_order(c);
		}
		if (c->dead)
			return;
	} else if (data.len || fin) {
		/* Beyond a hole: keep it, and say so at once (RFC 5681 4.2:
		 * a duplicate ACK, with SACK blocks). */
		STAT_INC(&s->stats, TCP_OOO_SEGS);
		if (data.len &&
		    tcp_ooo_add(&c->ooo, c->rcv_nxt, seq, data.p, data.len) <
			    data.len)
			STAT_INC(&s->stats, TCP_DROP_OOO_LIMIT);
		if (fin) {
			c->ooo_fin = true;
			c->ooo_fin_seq = seq + (uint32_t)data.len;
		}
		c->ack_now = true;
	}
	/* (A reply the owner sent from recv() may have acknowledged it all
	 * already.) */
	if (!c->ack_now && data.len && c->ack_sent != c->rcv_nxt &&
	    !timer_pending(&c->delack))
		timer_arm(&s->timers, &c->delack, stack_now(s),
			  s->p.tcp.delack_ms);
}

static void tcp_input_conn(struct tcp_conn *c, const struct tcp_hdr *h,
			   const struct tcp_opts *o, struct cur data)
{
	struct stack *s = c->s;
	uint32_t seq = h->seq, wnd = tcp_accept_window(c);
	bool syn = h->flags & TCP_FLAG_SYN, fin = h->flags & TCP_FLAG_FIN;
	bool rst = h->flags & TCP_FLAG_RST;
	uint32_t seg_len = (uint32_t)data.len + syn + fin;
	bool ok;

	/* A retransmitted SYN while our SYN-ACK is unanswered: send it
	 * again (it lies before RCV.NXT, so the sequence check would drop
	 * it). */
	if (c->state == TCP_SYN_RECEIVED && syn && !rst &&
	    !(h->flags & TCP_FLAG_ACK) && seq == c->irs) {
		tcp_send_ctl(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->iss);
		return;
	}
	/* PAWS (RFC 7323 5.3): a timestamp older than the last one seen
	 * marks an old duplicate. */
	if (c->ts_ok && o->ts_ok && !rst &&
	    seq_lt(o->tsval, c->ts_recent)) {
		STAT_INC(&s->stats, TCP_DROP_PAWS);
		c->ack_now = true;
		goto out;
	}
	/* First: the sequence number (RFC 9293 3.10.7.4, table 6). */
	if (seg_len == 0)
		ok = wnd ? seq_in_window(seq, c->rcv_nxt, wnd)
			 : seq == c->rcv_nxt;
	else
		ok = wnd && (seq_in_window(seq, c->rcv_nxt, wnd) ||
			     seq_in_window(seq + seg_len - 1, c->rcv_nxt, wnd));
	/* A zero window still takes ACKs and RSTs at RCV.NXT; a probe's
	 * byte is cut off and answered with our (still zero) window. */
	if (!ok && !wnd && seq == c->rcv_nxt) {
		ok = true;
		if (data.len || fin)
			c->ack_now = true;
		data.len = 0;
		fin = false;
	}
	if (!ok) {
		STAT_INC(&s->stats, TCP_DROP_OUT_OF_WINDOW);
		if (!rst)
			c->ack_now = true;
		/* Data we already have (a retransmission that was not
		 * needed): tell the sender (D-SACK, RFC 2883 4.1.1). */
		if (!rst && data.len &&
		    seq_leq(seq + (uint32_t)data.len, c->rcv_nxt))
			tcp_note_dsack(c, seq, seq + (uint32_t)data.len);
		goto out;
	}
	/* Second: RST (RFC 5961 3.2), judged by the segment's own sequence
	 * number, before any trimming.  RFC 1337: none in TIME_WAIT. */
	if (rst) {
		STAT_INC(&s->stats, TCP_RST_RX);
		if (c->state == TCP_TIME_WAIT)
			goto out;
		if (seq == c->rcv_nxt)
			tcp_destroy(c, -ECONNRESET);
		else
			tcp_challenge_ack(c);
		goto out;
	}
	/* Fourth: a SYN in a synchronized state (RFC 5961 4.2): challenge
	 * it, wherever it lies. */
	if (syn) {
		tcp_challenge_ack(c);
		goto out;
	}
	/* Keep only what lies in the window: trim the front (already
	 * received) and the back. */
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t skip = c->rcv_nxt - seq;

		if (skip > data.len)
			skip = (uint32_t)data.len;
		if (skip)
			tcp_note_dsack(c, seq, seq + skip);
		cur_pull(&data, skip);
		seq += skip;
	}
	if (data.len > wnd - (seq - c->rcv_nxt)) {
		data.len = wnd - (seq - c->rcv_nxt);
		fin = false;
	}
	/* Timestamp to echo (RFC 7323 4.3): from the segment that fills
	 * RCV.NXT. */
	if (c->ts_ok && o->ts_ok && seq_leq(seq, c->rcv_nxt))
		c->ts_recent = o->tsval;

	/* An acceptable segment: the peer is alive. */
	tcp_keepalive_touch(c);

	/* Fifth: ACK. */
	if (!(h->flags & TCP_FLAG_ACK)) {
		STAT_INC(&s->stats, TCP_DROP_NO_ACK);
		goto out;
	}
	if (c->state == TCP_TIME_WAIT) {
		/* A retransmitted FIN: acknowledge, restart the 2 MSL. */
		if (fin) {
			tcp_send_ctl(c, TCP_FLAG_ACK, c->snd_nxt);
			timer_arm(&s->timers, &c->rtx, stack_now(s),
				  s->p.tcp.time_wait_ms);
		}
		return;
	}
	if (!tcp_ack_in(c, h, o, data.len) || c->dead)
		goto out;
	/* Sixth: URG is not supported as such: urgent bytes are ordinary
	 * data in line, and the pointer is never used as an offset. */
	/* Seventh and eighth: text and FIN. */
	tcp_data_in(c, seq, data, fin);
out:
	if (!c->dead && c->state == TCP_SYN_RECEIVED && c->ack_now) {
		/* Our ACK of their SYN is the SYN-ACK. */
		c->ack_now = false;
		tcp_send_ctl(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->iss);
	} else if (!c->dead && c->state != TCP_TIME_WAIT)
		tcp_output(c);
	else if (!c->dead && c->ack_now)
		tcp_send_ctl(c, TCP_FLAG_ACK, c->snd_nxt);
}

void tcp_input(struct stack *s, struct cur seg, const struct l3_rx *rx)
{
	struct tcp_hdr h;
	struct tcp_opts o;
	struct cur opts;
	struct flow_key k;
	struct flow *f;
	struct tcp_conn *c;

	STAT_INC(&s->stats, TCP_RX);
	if (rx->l2_multi || rx->l3_multi) {
		STAT_INC(&s->stats, TCP_DROP_BCAST);
		return;
	}
#ifndef TAPIR_FUZZING
	if (!rx->csum_ok && csum_fold(csum_partial(seg.p, seg.len,
				   l3_pseudo(&rx->src, &rx->dst, L3_PROTO_TCP,
					     seg.len))) != 0) {
		STAT_INC(&s->stats, TCP_DROP_CSUM);
		return;
	}
#endif
	if (!tcp_hdr_parse(&seg, &h, &opts)) {
		STAT_INC(&s->stats, TCP_DROP_HEADER);
		return;
	}
	if (tcp_opts_parse(opts, h.flags & TCP_FLAG_SYN, &o, NULL) < 0) {
		STAT_INC(&s->stats, TCP_DROP_OPTIONS);
		return;
	}
	k.laddr = rx->dst;
	k.raddr = rx->src;
	k.lport = h.dport;
	k.rport = h.sport;
	f = flow_lookup(&s->tcp.flows, &k);
	c = f ? flow_entry(f, struct tcp_conn, flow) : NULL;
	/* A new SYN to a port pair in TIME_WAIT, beyond what the old
	 * connection used, opens a new connection (as Linux does). */
	if (c && c->state == TCP_TIME_WAIT &&
	    (h.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) ==
		    TCP_FLAG_SYN &&
	    seq_gt(h.seq, c->rcv_nxt)) {
		STAT_INC(&s->stats, TCP_TIME_WAIT_REUSED);
		tcp_destroy(c, 0);
		c = NULL;
	}
	if (!c) {
		tcp_input_listen(s, rx, &h, &o, seg);
		return;
	}
	c->busy++;
	if (c->state == TCP_SYN_SENT)
		tcp_input_syn_sent(c, &h, &o);
	else
		tcp_input_conn(c, &h, &o, seg);
	if (--c->busy == 0 && c->dead)
		free(c);
	/* Data dropped for want of memory: reclaim some for the retry. */
	if (s->tcp.mem.refused)
		tcp_mem_pressure(s);
}

/* ---- ICMP errors ---------------------------------------------------------
 *
 * An ICMP error quoting one of our segments (l3_icmp_error() found the
 * 4-tuple and the quoted sequence number).  It acts, the path MTU
 * included, only when the quoted sequence number is in flight (RFC 5927 4.1: anything else is forged or
 * stale).  A smaller path MTU lowers the MSS and sends again what was in
 * flight, in the smaller pieces, without touching the congestion window
 * (RFC 1191 6.5, RFC 8201 5.4: it is not congestion).  An unreachable or
 * refused destination ends a connect in SYN-SENT (RFC 1122 4.2.3.9 lets a
 * hard error abort; Linux does the same for a host unreachable while
 * connecting); in the synchronized states the errors are soft and the
 * retransmission timer decides (RFC 5461).
 */
void tcp_icmp_error(struct stack *s, const struct flow_key *k, uint32_t seq,
		    enum l3_err_kind kind, unsigned mtu)
{
	struct flow *f = flow_lookup(&s->tcp.flows, k);
	struct tcp_conn *c = f ? flow_entry(f, struct tcp_conn, flow) : NULL;

	if (!c || c->state == TCP_TIME_WAIT || c->state == TCP_CLOSED) {
		STAT_INC(&s->stats, ICMP_ERR_DROP_NO_CONN);
		return;
	}
	if (!seq_geq(seq, c->snd_una) || !seq_lt(seq, c->snd_max)) {
		STAT_INC(&s->stats, ICMP_ERR_DROP_SEQ);
		return;
	}
	switch (kind) {
	case L3_ERR_MTU: {
		size_t hdrs = l3_hlen(&k->raddr) + TCP_HLEN;
		uint32_t mss;

		mtu = pmtu_update(s, &k->raddr, mtu);
		mss = mtu > hdrs + 64 ? (uint32_t)(mtu - hdrs) : 64;

		if (mss >= c->mss)
			return;
		c->mss = (uint16_t)mss;
		STAT_INC(&s->stats, TCP_PMTU_REDUCED);
		if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
			return; /* the SYN is small; data will use the MSS */
		/* Send again, in pieces that fit, what was in flight.  Those
		 * are retransmissions: no RTT sample from them (Karn, RFC
		 * 6298 3), or the timed segment's would count the router's
		 * answer and the resend. */
		c->snd_nxt = c->snd_una;
		c->fin_sent = false;
		c->rtt_pending = false;
		tcp_sb_reset(c);
		tcp_output(c);
		break;
	}
	case L3_ERR_UNREACH:
	case L3_ERR_REFUSED:
		if (c->state != TCP_SYN_SENT)
			return;
		STAT_INC(&s->stats, TCP_ICMP_ABORTS);
		tcp_destroy(c, kind == L3_ERR_REFUSED ? -ECONNREFUSED
						      : -EHOSTUNREACH);
		break;
	default:
		break;
	}
}
