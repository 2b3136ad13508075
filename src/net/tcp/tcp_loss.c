/*
 * TCP loss detection: the retransmission scoreboard, SACK (RFC 2018, RFC
 * 6675), RACK (RFC 8985) and the pipe estimate.
 *
 * Every segment sent and not yet cumulatively acknowledged has a record:
 * its sequence range, when it was last sent (ms) and its place in the
 * order of transmissions (a counter, since many segments share one
 * millisecond).  The records are kept in sequence order in a ring and
 * cover [SND.UNA, SND.MAX) without gaps.  An ACK's SACK blocks mark whole
 * records SACKED.  A record is deemed LOST when
 *
 *   - three or more records above it are SACKED and it was never resent
 *     (RFC 6675's IsLost with DupThresh counted in segments), or
 *   - a record sent after it (later in transmission order) has been
 *     delivered, and more than SRTT plus a reordering allowance has passed
 *     since it was sent (RACK, RFC 8985 6.2).  This also finds a lost
 *     retransmission, which RFC 6675 alone leaves to the timeout.
 *
 * tcp_output() resends LOST records first, lowest sequence first, while
 * the pipe (the bytes sent and neither SACKED nor LOST, RFC 6675 section
 * 4) is below the congestion window, then sends new data.
 *
 * The ring's size is bounded per connection (about one record per 512
 * bytes of send buffer); when it is full no new data goes out until ACKs
 * free records.
 *
 * Recovery, at the end of this file, is what the input path calls on an
 * ACK once the scoreboard is updated: tcp_loss_check() runs RACK and enters
 * fast recovery (RFC 5681 3.2, RFC 6675 5) when a loss is found, PRR (RFC
 * 6937) paces sending inside it; tcp_dupack() counts duplicates for a peer
 * without SACK; tcp_cc_ack() leaves recovery on a full ACK (RFC 6582 for a
 * partial one) or hands the ACK to congestion control; tcp_tlp_ack()
 * decides whether a loss probe repaired a loss (RFC 8985 7.4).
 */
#include "net/tcp/tcp.h"
#include "net/core.h"

#include <stdlib.h>
#include <string.h>

#define SB_SLACK 64 /* records kept for splits beyond the append limit */

static inline struct tcp_seg *sb_at(const struct tcp_conn *c, uint32_t i)
{
	return &c->sb.v[(c->sb.head + i) & (c->sb.cap - 1)];
}

static uint32_t sb_limit(const struct tcp_conn *c)
{
	uint32_t lim = c->s->p.tcp.sndbuf / 512u + 64u;

	return lim > 65536u ? 65536u : lim;
}

void tcp_sb_fini(struct tcp_conn *c)
{
	free(c->sb.v);
	memset(&c->sb, 0, sizeof(c->sb));
}

/* Make room for one more record; false when the ring may not grow. */
static bool sb_grow(struct tcp_conn *c, bool split)
{
	uint32_t cap, max = sb_limit(c) + (split ? SB_SLACK : 0);
	struct tcp_seg *v;

	if (c->sb.n < c->sb.cap)
		return c->sb.n < max;
	if (c->sb.n >= max)
		return false;
	cap = c->sb.cap ? c->sb.cap * 2 : 16;
	v = malloc((size_t)cap * sizeof(*v));
	if (!v)
		return false;
	for (uint32_t i = 0; i < c->sb.n; i++)
		v[i] = *sb_at(c, i);
	free(c->sb.v);
	c->sb.v = v;
	c->sb.cap = cap;
	c->sb.head = 0;
	return true;
}

uint32_t tcp_sb_free(struct tcp_conn *c)
{
	uint32_t lim = sb_limit(c);

	return c->sb.n < lim ? lim - c->sb.n : 0;
}

/* The first record whose end lies beyond seq (n when none). */
static uint32_t sb_find(const struct tcp_conn *c, uint32_t seq)
{
	uint32_t lo = 0, hi = c->sb.n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (seq_leq(sb_at(c, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Split record i at seq (strictly inside it); false when out of room. */
static bool sb_split(struct tcp_conn *c, uint32_t i, uint32_t seq)
{
	struct tcp_seg r;

	if (!sb_grow(c, true))
		return false;
	for (uint32_t j = c->sb.n; j > i + 1; j--)
		*sb_at(c, j) = *sb_at(c, j - 1);
	c->sb.n++;
	r = *sb_at(c, i);
	sb_at(c, i)->end = seq;
	sb_at(c, i)->flags &= (uint8_t)~TCP_SEG_FIN;
	r.seq = seq;
	*sb_at(c, i + 1) = r;
	if (r.flags & TCP_SEG_SACKED)
		c->sb.nsacked++;
	if (r.flags & TCP_SEG_LOST)
		c->sb.nlost++;
	if (r.flags & TCP_SEG_RETRANS)
		c->sb.nretrans++;
	return true;
}

static void sb_stamp(struct tcp_conn *c, struct tcp_seg *r, uint32_t now)
{
	r->xmit = now;
	r->order = ++c->sb.order;
}

void tcp_sb_sent(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin,
		 uint32_t mss)
{
	uint32_t end = seq + len + (fin ? 1u : 0u);
	uint32_t now = (uint32_t)stack_now(c->s), i;

	if (seq == end)
		return;
	/* The part already sent once: a retransmission. */
	if (seq_lt(seq, c->snd_max)) {
		uint32_t rend = seq_lt(end, c->snd_max) ? end : c->snd_max;

		i = sb_find(c, seq);
		if (i < c->sb.n && seq_lt(sb_at(c, i)->seq, seq) &&
		    sb_split(c, i, seq))
			i++;
		for (; i < c->sb.n && seq_lt(sb_at(c, i)->seq, rend); i++) {
			struct tcp_seg *r = sb_at(c, i);

			if (seq_gt(r->end, rend) && sb_split(c, i, rend))
				r = sb_at(c, i);
			if (r->flags & TCP_SEG_LOST)
				c->sb.nlost--;
			if (r->flags & TCP_SEG_SACKED)
				c->sb.nsacked--;
			if (!(r->flags & TCP_SEG_RETRANS))
				c->sb.nretrans++;
			r->flags = (uint8_t)((r->flags & TCP_SEG_FIN) |
					     TCP_SEG_RETRANS);
			sb_stamp(c, r, now);
		}
		seq = rend;
	}
	/* New data: a record per segment the link will send (one frame may
	 * carry several, cut by the link), so SACK and loss marks stay per
	 * segment.  When the ring is full (the caller checked tcp_sb_free(),
	 * so only on failing memory), the last record grows to keep the
	 * ring covering everything sent. */
	while (seq != end) {
		uint32_t piece = end - seq;

		if (mss && piece > mss && !(fin && piece == mss + 1))
			piece = mss;
		if (sb_grow(c, true)) {
			struct tcp_seg *r = sb_at(c, c->sb.n++);

			r->seq = seq;
			r->end = seq + piece;
			r->flags = fin && r->end == end ? TCP_SEG_FIN : 0;
			sb_stamp(c, r, now);
		} else if (c->sb.n) {
			struct tcp_seg *r = sb_at(c, c->sb.n - 1);

			r->end = end;
			if (fin)
				r->flags |= TCP_SEG_FIN;
			return;
		} else {
			return;
		}
		seq += piece;
	}
}

/* A record was delivered: it is RACK's newest if it was sent last. */
static void sb_delivered(struct tcp_conn *c, const struct tcp_seg *r)
{
	if (!c->sb.rack_set || seq_gt(r->order, c->sb.rack_order)) {
		c->sb.rack_order = r->order;
		c->sb.rack_set = true;
	}
}

static uint32_t sb_mark_sacked(struct tcp_conn *c, uint32_t start,
			       uint32_t end)
{
	uint32_t bytes = 0;

	for (uint32_t i = sb_find(c, start);
	     i < c->sb.n && seq_lt(sb_at(c, i)->seq, end); i++) {
		struct tcp_seg *r = sb_at(c, i);

		if (seq_lt(r->seq, start) || seq_gt(r->end, end) ||
		    (r->flags & TCP_SEG_SACKED))
			continue;
		if (r->flags & TCP_SEG_LOST) {
			r->flags &= (uint8_t)~TCP_SEG_LOST;
			c->sb.nlost--;
		}
		r->flags |= TCP_SEG_SACKED;
		c->sb.nsacked++;
		bytes += r->end - r->seq;
		sb_delivered(c, r);
	}
	return bytes;
}

/* A D-SACK (RFC 2883): the first block lies below the cumulative ACK, or
 * inside the second block. */
bool tcp_is_dsack(const struct tcp_opts *o, uint32_t ack)
{
	const struct tcp_sack_block *b = o->sack;

	if (!o->nsack || !seq_lt(b[0].start, b[0].end))
		return false;
	return seq_leq(b[0].end, ack) ||
	       (o->nsack > 1 && seq_geq(b[0].start, b[1].start) &&
		seq_leq(b[0].end, b[1].end));
}

/* The peer got something twice, so a segment was resent that was only
 * late: RACK allows more reordering (RFC 8985 6.2 step 4), by one quarter
 * of SRTT per round trip, up to a whole SRTT. */
static void sb_dsack(struct tcp_conn *c, uint32_t ack,
		     const struct tcp_opts *o)
{
	if (!tcp_is_dsack(o, ack))
		return;
	STAT_INC(&c->s->stats, TCP_DSACK_RX);
	if (c->dsack_round_set && seq_lt(c->snd_una, c->dsack_round))
		return;
	c->dsack_round = c->snd_max;
	c->dsack_round_set = true;
	if (c->reo_mult < 4)
		c->reo_mult++;
	c->reo_persist = 16;
}

void tcp_sb_recovery_done(struct tcp_conn *c)
{
	if (c->reo_persist && !--c->reo_persist)
		c->reo_mult = 1;
}

uint32_t tcp_sb_ack(struct tcp_conn *c, uint32_t ack,
		    const struct tcp_opts *o)
{
	uint32_t delivered = 0;

	if (o)
		sb_dsack(c, ack, o);

	/* SACK blocks first: only those inside what we sent (RFC 2018 8). */
	for (unsigned b = 0; o && b < o->nsack; b++) {
		uint32_t start = o->sack[b].start, end = o->sack[b].end;

		if (!seq_lt(start, end) || seq_leq(end, ack) ||
		    seq_gt(end, c->snd_max) || seq_lt(start, c->snd_una))
			continue;
		delivered += sb_mark_sacked(c, seq_lt(start, ack) ? ack : start,
					    end);
	}
	/* Then the cumulative ACK: drop what it covers. */
	while (c->sb.n && seq_leq(sb_at(c, 0)->end, ack)) {
		struct tcp_seg *r = sb_at(c, 0);

		if (r->flags & TCP_SEG_SACKED) {
			c->sb.nsacked--;
		} else {
			sb_delivered(c, r);
			delivered += r->end - r->seq;
		}
		if (r->flags & TCP_SEG_LOST)
			c->sb.nlost--;
		if (r->flags & TCP_SEG_RETRANS)
			c->sb.nretrans--;
		c->sb.head = (c->sb.head + 1) & (c->sb.cap - 1);
		c->sb.n--;
	}
	if (c->sb.n && seq_lt(sb_at(c, 0)->seq, ack)) {
		if (!(sb_at(c, 0)->flags & TCP_SEG_SACKED))
			delivered += ack - sb_at(c, 0)->seq;
		sb_at(c, 0)->seq = ack;
	}
	return delivered;
}

void tcp_sb_reset(struct tcp_conn *c)
{
	for (uint32_t i = 0; i < c->sb.n; i++)
		sb_at(c, i)->flags &= TCP_SEG_FIN;
	c->sb.nsacked = c->sb.nlost = c->sb.nretrans = 0;
	c->sb.rack_set = false;
}

bool tcp_sb_mark_head_lost(struct tcp_conn *c)
{
	uint32_t srtt = c->srtt8 >> 3;
	struct tcp_seg *r;

	if (!c->sb.n)
		return false;
	r = sb_at(c, 0);
	if (r->flags & (TCP_SEG_LOST | TCP_SEG_SACKED))
		return false;
	/* Resent less than a round trip ago: give it time to arrive. */
	if ((r->flags & TCP_SEG_RETRANS) &&
	    (uint32_t)stack_now(c->s) - r->xmit < (srtt ? srtt : 1))
		return false;
	r->flags |= TCP_SEG_LOST;
	c->sb.nlost++;
	return true;
}

/* RACK's wait: SRTT plus the reordering window, a quarter of SRTT for
 * each step D-SACKs have taken it (at least 1 ms, at most SRTT). */
static uint32_t sb_rack_wait(const struct tcp_conn *c)
{
	uint32_t srtt = c->srtt8 >> 3;
	uint32_t reo = srtt / 4 * (c->reo_mult ? c->reo_mult : 1u);

	if (reo > srtt)
		reo = srtt;
	return srtt + (reo > 1 ? reo : 1);
}

unsigned tcp_sb_detect(struct tcp_conn *c, uint64_t *wake_ms)
{
	uint32_t now = (uint32_t)stack_now(c->s), wait = sb_rack_wait(c);
	unsigned sacked_above = 0, newly = 0;
	bool waiting = false;
	uint32_t soonest = 0;

	for (uint32_t i = c->sb.n; i-- > 0;) {
		struct tcp_seg *r = sb_at(c, i);
		bool lost = false;

		if (!seq_lt(r->seq, c->snd_nxt))
			continue; /* not sent since a go-back */
		if (r->flags & TCP_SEG_SACKED) {
			sacked_above++;
			continue;
		}
		if (r->flags & TCP_SEG_LOST)
			continue;
		if (!(r->flags & TCP_SEG_RETRANS) && sacked_above >= 3)
			lost = true;
		else if (c->sb.rack_set && seq_lt(r->order, c->sb.rack_order)) {
			uint32_t age = now - r->xmit;

			if (age >= wait) {
				lost = true;
			} else if (!waiting || wait - age < soonest) {
				soonest = wait - age;
				waiting = true;
			}
		}
		if (lost) {
			r->flags |= TCP_SEG_LOST;
			c->sb.nlost++;
			newly++;
		}
	}
	*wake_ms = waiting ? soonest : 0;
	return newly;
}

uint32_t tcp_sb_pipe(const struct tcp_conn *c)
{
	uint32_t pipe = 0;

	if (!c->sb.nsacked && !c->sb.nlost)
		return c->snd_nxt - c->snd_una;
	for (uint32_t i = 0; i < c->sb.n; i++) {
		const struct tcp_seg *r = sb_at(c, i);
		uint32_t end;

		if (!seq_lt(r->seq, c->snd_nxt))
			break;
		if (r->flags & (TCP_SEG_SACKED | TCP_SEG_LOST))
			continue;
		end = seq_lt(r->end, c->snd_nxt) ? r->end : c->snd_nxt;
		pipe += end - r->seq;
	}
	return pipe;
}

bool tcp_sb_next_lost(struct tcp_conn *c, uint32_t mss, uint32_t *seq,
		      uint32_t *len, bool *fin)
{
	for (uint32_t i = 0; i < c->sb.n && c->sb.nlost; i++) {
		struct tcp_seg *r = sb_at(c, i);
		uint32_t data;

		if (!seq_lt(r->seq, c->snd_nxt))
			break;
		if (!(r->flags & TCP_SEG_LOST))
			continue;
		data = r->end - r->seq - ((r->flags & TCP_SEG_FIN) ? 1u : 0u);
		*seq = r->seq;
		*fin = (r->flags & TCP_SEG_FIN) != 0;
		if (data > mss) {
			/* One segment of it; the rest stays LOST (split off
			 * when there is room, else marked again as sent in
			 * part, which tcp_sb_sent handles). */
			if (sb_split(c, i, r->seq + mss))
				r = sb_at(c, i);
			data = mss;
			*fin = false;
		}
		*len = data;
		return true;
	}
	return false;
}

/* ---- Recovery ----------------------------------------------------------- */

/* Fast recovery begins (RFC 5681 3.2, RFC 6675 5): once per window of
 * data, the threshold halves; with SACK the window is the threshold and
 * the pipe governs, without it NewReno inflates by the three duplicates. */
static void tcp_enter_recovery(struct tcp_conn *c)
{
	STAT_INC(&c->s->stats, TCP_FAST_RETRANSMITS);
	c->ssthresh = c->cc->on_loss(c);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->rtt_pending = false;
	c->tlp_out = false;
	c->tlp_episode = false; /* recovery reduces the window itself */
	c->prr_on = c->sb.nsacked != 0;
	c->prr_delivered = c->prr_out = 0;
	c->recover_fs = c->snd_max - c->snd_una;
	c->cwnd = c->prr_on ? c->ssthresh : c->ssthresh + 3u * c->mss;
	c->rtx_first = true; /* the first loss goes whatever the pipe */
}

/* RFC 6937: during recovery, send about ssthresh/RecoverFS of what each
 * ACK delivers while the pipe is above ssthresh, then grow back to it no
 * faster than slow start (the SSRB bound). */
static void tcp_prr(struct tcp_conn *c, uint32_t delivered)
{
	uint32_t pipe = tcp_sb_pipe(c);
	int64_t sndcnt;

	c->prr_delivered += delivered;
	if (pipe > c->ssthresh) {
		uint64_t fs = c->recover_fs ? c->recover_fs : 1;

		sndcnt = (int64_t)(((uint64_t)c->prr_delivered * c->ssthresh +
				    fs - 1) / fs) - (int64_t)c->prr_out;
	} else {
		int64_t limit = (int64_t)c->prr_delivered - c->prr_out;

		if (limit < (int64_t)delivered)
			limit = delivered;
		limit += c->mss;
		sndcnt = (int64_t)(c->ssthresh - pipe);
		if (sndcnt > limit)
			sndcnt = limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	c->cwnd = pipe + (uint32_t)sndcnt;
}

void tcp_loss_check(struct tcp_conn *c, uint32_t delivered)
{
	uint64_t wake = 0;
	unsigned lost;

	if (!c->sack_ok || (!c->sb.nsacked && !c->sb.nretrans))
		return;
	lost = tcp_sb_detect(c, &wake);
	if (lost) {
		STAT_ADD(&c->s->stats, TCP_RACK_LOST, lost);
		if (!c->in_recovery && seq_geq(c->snd_una, c->recover))
			tcp_enter_recovery(c);
	}
	if (c->in_recovery && c->prr_on && delivered)
		tcp_prr(c, delivered);
	if (wake)
		tcp_arm_rack(c, wake);
}

/* Did a retransmitted loss probe repair a loss (RFC 8985 7.4.2)?  Only an
 * ACK that reaches the probe's end can tell: with a D-SACK of it, the
 * original arrived too and nothing was lost; acknowledging beyond it (or
 * a duplicate ACK without SACK) without one, the probe stood in for a
 * lost segment, and the window is reduced as for any loss. */
void tcp_tlp_ack(struct tcp_conn *c, uint32_t ack, const struct tcp_opts *o)
{
	if (!c->tlp_episode || seq_lt(ack, c->tlp_end))
		return;
	if (!c->tlp_retrans || tcp_is_dsack(o, ack)) {
		c->tlp_episode = false;
		return;
	}
	if (!seq_gt(ack, c->tlp_end) && (ack != c->snd_una || o->nsack))
		return;
	c->tlp_episode = false;
	STAT_INC(&c->s->stats, TCP_TLP_REPAIRED);
	if (c->in_recovery)
		return;
	c->ssthresh = c->cc->on_loss(c);
	if (c->cwnd > c->ssthresh)
		c->cwnd = c->ssthresh;
}

/* Congestion control on an ACK of new data (RFC 5681 3.1, RFC 6582). */
void tcp_cc_ack(struct tcp_conn *c, uint32_t acked, uint32_t ack,
		uint32_t flight)
{
	if (c->in_recovery) {
		if (seq_geq(ack, c->recover)) {
			/* Full ACK: leave recovery, deflate. */
			c->in_recovery = false;
			tcp_sb_recovery_done(c);
			c->cwnd = c->ssthresh;
		} else if (!c->sb.nsacked) {
			/* Partial ACK without SACK: the next segment is lost
			 * too; deflate by what was acked, keep going (RFC 6582
			 * 3.2 step 3). */
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : c->mss;
			c->cwnd += c->mss;
			tcp_sb_mark_head_lost(c);
		}
		return;
	}
	c->cc->on_ack(c, acked, flight);
}

/* A duplicate ACK.  With SACK the scoreboard finds losses; without it,
 * the third duplicate is the signal (RFC 5681 3.2) and each further one
 * means a segment has left the network (window inflation). */
void tcp_dupack(struct tcp_conn *c)
{
	++c->dupacks;
	if (c->sb.nsacked && c->sack_ok)
		return;
	if (c->dupacks == 3 && !c->in_recovery &&
	    seq_geq(c->snd_una, c->recover)) {
		tcp_sb_mark_head_lost(c);
		tcp_enter_recovery(c);
	} else if (c->in_recovery) {
		c->cwnd += c->mss;
	}
}
