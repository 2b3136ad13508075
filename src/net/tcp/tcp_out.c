/*
 * TCP output: build segments, decide what the windows allow, and answer
 * segments that have no connection.
 *
 * tcp_output() is the one place that decides what to send: new data within
 * min(SND.WND, cwnd) (Nagle and sender-side silly-window avoidance, RFC
 * 9293 3.8.6.2.1), the FIN once the queued data is out, and an ACK when
 * one is due and nothing else carries it.  Every segment is built in the
 * stack's scratch buffer: payload copied from the send buffer, then the
 * header prepended, then IPv4.
 */
#include "net/tcp/tcp.h"
#include "net/csum.h"
#include "net/core.h"

#include <string.h>

uint16_t tcp_rcv_window(struct tcp_conn *c)
{
	uint32_t room = (uint32_t)bytering_room(&c->rcv);
	uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt
						     : 0; /* what we promised */
	uint32_t wnd;

	/* Receiver silly-window avoidance (RFC 9293 3.8.6.2.2): do not
	 * offer a sliver; but never take back what was offered. */
	if (room < c->rcv.limit / 2 && room < c->mss)
		room = 0;
	wnd = room > adv ? room : adv;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED)
		wnd = wnd > 65535 ? 65535 : wnd; /* SYNs are never scaled */
	else
		wnd >>= c->rcv_ws;
	return (uint16_t)(wnd > 65535 ? 65535 : wnd);
}

/* Record the window just advertised, so it is never shrunk later. */
static void tcp_note_window(struct tcp_conn *c, uint16_t win, bool syn)
{
	uint32_t edge = c->rcv_nxt + ((uint32_t)win << (syn ? 0 : c->rcv_ws));

	if (seq_gt(edge, c->rcv_adv))
		c->rcv_adv = edge;
}

/* Build and send one segment of the connection: payload len bytes taken
 * from the send buffer at seq (0 for none).  A payload longer than gso
 * (nonzero) leaves as one frame for the link to cut into gso-byte
 * segments; the caller checked the link takes that. */
static int tcp_emit(struct tcp_conn *c, uint8_t flags, uint32_t seq,
		    size_t len, uint32_t gso)
{
	uint32_t pseudo;
	struct stack *s = c->s;
	struct pbuf *pb = &s->tx;
	size_t l3h = l3_hlen(&c->flow.key.raddr);
	struct stack_tx_offload off = {0};
	struct tcp_opts o;
	struct tcp_hdr h = {
		.sport = c->flow.key.lport,
		.dport = c->flow.key.rport,
		.seq = seq,
		.flags = flags,
	};
	bool syn = flags & TCP_FLAG_SYN;
	size_t olen;
	uint8_t *p;

	pbuf_reset(pb);
	if (len)
		bytering_peek(&c->snd, seq - c->snd_una, pbuf_put(pb, len),
			      len);
	memset(&o, 0, sizeof(o));
	if (syn) {
		o.mss_ok = true;
		o.mss = (uint16_t)(s->p.mtu - l3_hlen(&c->flow.key.raddr) -
				   TCP_HLEN);
		o.ws_ok = c->state == TCP_SYN_SENT || c->rcv_ws || c->snd_ws;
		o.ws = c->rcv_ws;
		o.sack_perm = c->state == TCP_SYN_SENT || c->sack_ok;
		o.ts_ok = c->state == TCP_SYN_SENT || c->ts_ok;
	} else {
		o.ts_ok = c->ts_ok;
		if (c->sack_ok && (flags & TCP_FLAG_ACK)) {
			unsigned n = 0;

			/* A duplicate goes first, in one ACK (RFC 2883 4). */
			if (c->dsack) {
				o.sack[0].start = c->dsack_start;
				o.sack[0].end = c->dsack_end;
				c->dsack = false;
				n = 1;
				STAT_INC(&s->stats, TCP_DSACK_TX);
			}
			n += tcp_ooo_sack(&c->ooo, o.sack + n, TCP_MAX_SACK - n);
			o.nsack = (uint8_t)n;
		}
	}
	if (o.ts_ok) {
		o.tsval = (uint32_t)stack_now(s);
		/* A SYN cookie's options ride in the low bits, on a value a
		 * little in the past so later TSvals still only grow. */
		if (c->cookie_syn && syn)
			o.tsval = (((o.tsval >> 6) - 1) << 6) |
				  (uint32_t)c->cookie_ts;
		o.tsecr = c->ts_recent;
	}
	olen = tcp_opts_len(&o, syn);
	h.doff = (uint8_t)(TCP_HLEN + olen);
	if (flags & TCP_FLAG_ACK)
		h.ack = c->rcv_nxt;
	h.win = tcp_rcv_window(c);
	p = pbuf_push(pb, h.doff);
	tcp_opts_write(p + TCP_HLEN, olen, &o, syn);
	tcp_hdr_write(p, &h);
	pseudo = l3_pseudo(&c->flow.key.laddr, &c->flow.key.raddr, L3_PROTO_TCP,
			   pb->len);
	if (len && l3_offload_ok(s, &c->flow.key.raddr) &&
	    ((gso && len > gso) || pb->len + l3h <= s->p.mtu)) {
		/* The link completes the checksum (and cuts a long segment
		 * into pieces of gso bytes): the field holds the
		 * pseudo-header's sum, not inverted. */
		off.csum = true;
		off.csum_start = (uint16_t)(ETH_HLEN + l3h);
		off.csum_offset = 16;
		if (gso && len > gso) {
			off.gso_size = (uint16_t)gso;
			off.hdr_len = (uint16_t)(ETH_HLEN + l3h + h.doff);
		}
		put_be16(p + 16, (uint16_t)~csum_fold(pseudo));
	} else {
		put_be16(p + 16,
			 csum_fold(csum_partial(p, pb->len, pseudo)));
	}
	if (flags & TCP_FLAG_ACK) {
		tcp_note_window(c, h.win, syn);
		c->ack_sent = c->rcv_nxt;
		c->ack_now = false;
		c->unacked_segs = 0;
		timer_cancel(&s->timers, &c->delack);
	}
	STAT_INC(&s->stats, TCP_TX);
	return l3_output(s, &c->flow.key.laddr, &c->flow.key.raddr,
			 L3_PROTO_TCP, NULL, pb, &off);
}

void tcp_send_ctl(struct tcp_conn *c, uint8_t flags, uint32_t seq)
{
	if (flags & TCP_FLAG_RST)
		STAT_INC(&c->s->stats, TCP_RST_TX);
	tcp_emit(c, flags, seq, 0, 0);
}

/* Send a segment from seq carrying up to len data bytes (and FIN when it
 * ends the stream).  Returns the sequence space used. */
static uint32_t tcp_send_seg(struct tcp_conn *c, uint32_t seq, size_t len,
			     bool fin, uint32_t gso)
{
	uint8_t flags = TCP_FLAG_ACK;

	if (len && seq + (uint32_t)len == c->snd_una + (uint32_t)c->snd.len)
		flags |= TCP_FLAG_PSH;
	if (fin)
		flags |= TCP_FLAG_FIN;
	c->ctr.bytes_sent += len;
	if (seq_lt(seq, c->snd_max)) {
		STAT_INC(&c->s->stats, TCP_RETRANSMITS);
		c->ctr.bytes_retrans += len;
		c->ctr.segs_retrans +=
			gso && len > gso ? (len + gso - 1) / gso : 1;
	}
	/* Time one segment per round trip (Karn: never a retransmission). */
	if (!c->rtt_pending && !c->ts_ok && seq == c->snd_max && len) {
		c->rtt_pending = true;
		c->rtt_seq = seq;
		c->rtt_start = stack_now(c->s);
	}
	tcp_emit(c, flags, seq, len, gso);
	return (uint32_t)len + (fin ? 1u : 0u);
}

/* Payload per segment: the MSS less the options every data segment
 * carries (RFC 9293 3.7.1: the MSS counts data only, options come out of
 * it).  SACK blocks are sent on pure ACKs and on data alike, so they count
 * while we hold out-of-order data. */
static uint32_t tcp_eff_mss(struct tcp_conn *c)
{
	struct tcp_opts o;
	uint32_t olen;

	/* A path MTU was lowered since we last looked, maybe by an error
	 * quoting another connection's segment: every connection using the
	 * path must fit it (RFC 8201 5.2, RFC 1191 6.4), in whole segments,
	 * not in IP fragments. */
	if (c->pmtu_gen != c->s->pmtu_gen) {
		uint32_t hdrs =
			(uint32_t)l3_hlen(&c->flow.key.raddr) + TCP_HLEN;
		unsigned mtu = pmtu_get(c->s, &c->flow.key.raddr);

		c->pmtu_gen = c->s->pmtu_gen;
		if (mtu > hdrs + 64 && mtu - hdrs < c->mss) {
			c->mss = (uint16_t)(mtu - hdrs);
			STAT_INC(&c->s->stats, TCP_PMTU_REDUCED);
		}
	}
	memset(&o, 0, sizeof(o));
	o.ts_ok = c->ts_ok;
	if (c->sack_ok && (c->ooo.head || c->dsack))
		o.nsack = TCP_MAX_SACK;
	olen = (uint32_t)tcp_opts_len(&o, false);
	return c->mss > olen + 64 ? c->mss - olen : 64;
}

/* Send one segment and account for it: sequence space, SND.MAX. */
static uint32_t tcp_send_at(struct tcp_conn *c, uint32_t seq, size_t len,
			    bool fin, uint32_t mss)
{
	uint32_t used;

	tcp_sb_sent(c, seq, (uint32_t)len, fin, mss);
	used = tcp_send_seg(c, seq, len, fin, mss);
	if (c->in_recovery)
		c->prr_out += used;
	if (seq_gt(seq + used, c->snd_max))
		c->snd_max = seq + used;
	return used;
}

void tcp_output(struct tcp_conn *c)
{
	uint32_t cwnd, pipe, queued, off, used, maxlen, mss = tcp_eff_mss(c);
	size_t l3h = l3_hlen(&c->flow.key.raddr);
	bool sent = false;

	switch (c->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
	case TCP_CLOSED:
	case TCP_LISTEN:
	case TCP_TIME_WAIT:
		return;
	default:
		break;
	}
	/* Limited transmit (RFC 3042): each of the first two duplicate
	 * ACKs lets one new segment out beyond cwnd, so that a small window
	 * still produces the three duplicates fast retransmit needs. */
	cwnd = c->cwnd;
	if (!c->in_recovery && c->dupacks && c->dupacks < 3)
		cwnd += c->dupacks * mss;
	pipe = tcp_sb_pipe(c);
	/* What the scoreboard calls lost goes first, lowest first (RFC
	 * 6675 NextSeg rule 1), while the pipe leaves room. */
	while (c->sb.nlost && (pipe < cwnd || c->rtx_first)) {
		uint32_t seq, len;
		bool fin;

		if (!tcp_sb_next_lost(c, mss, &seq, &len, &fin))
			break;
		pipe += tcp_send_at(c, seq, len, fin, mss);
		c->rtx_first = false;
		sent = true;
	}
	c->rtx_first = false;
	queued = (uint32_t)c->snd.len;
	/* With the link's segmentation, up to 64 KiB go out as one frame
	 * (whole segments; the link cuts them). */
	maxlen = mss;
	if (queued > mss && l3_offload_ok(c->s, &c->flow.key.raddr) &&
	    (unsigned)c->mss + l3h + TCP_HLEN <= c->s->p.mtu)
		maxlen = (uint32_t)(65535 - l3h - TCP_HLEN - TCP_MAX_OPTLEN) /
			 mss * mss;
	for (;;) {
		uint32_t room, rwnd;
		size_t len;
		bool fin;

		off = c->snd_nxt - c->snd_una; /* bytes already sent */
		if (c->fin_sent && off > queued)
			off = queued; /* the FIN's sequence number */
		len = queued > off ? queued - off : 0;
		if (len > maxlen)
			len = maxlen;
		/* The congestion window against the pipe, the peer's window
		 * against the sequence space in use. */
		room = cwnd > pipe ? cwnd - pipe : 0;
		rwnd = c->snd_wnd > off ? c->snd_wnd - off : 0;
		if (rwnd < room)
			room = rwnd;
		if (len > room)
			len = room;
		/* New data needs scoreboard records, one per segment. */
		if (c->snd_nxt == c->snd_max && len) {
			uint32_t free = tcp_sb_free(c);

			if (!free)
				break;
			if (len > (size_t)free * mss)
				len = (size_t)free * mss;
		}
		fin = c->fin_queued && !c->fin_sent && !c->fin_acked &&
		      off + len == queued;
		if (!len && !fin)
			break;
		/* Sender silly-window avoidance (RFC 9293 3.8.6.2.1): a
		 * partial segment waits for more window, unless it is at
		 * least half the largest window the peer ever offered. */
		if (len && len < mss && off + len < queued &&
		    len < c->max_snd_wnd / 2 && !c->persist)
			break;
		/* Nagle (RFC 9293 3.7.4): one small segment in flight. */
		if (len && len < mss && c->nagle && off && !fin &&
		    !c->persist)
			break;
		if (!len && fin && !room && c->snd_wnd)
			break;
		if (fin) {
			c->fin_seq = c->snd_nxt + (uint32_t)len;
			c->fin_seq_set = true;
		}
		used = tcp_send_at(c, c->snd_nxt, len, fin, mss);
		if (fin)
			c->fin_sent = true;
		c->snd_nxt += used;
		pipe += used;
		sent = true;
	}
	/* Something in flight, or data held back (zero window: probe;
	 * silly-window avoidance: the override): the timer runs. */
	if (sent || c->snd_nxt != c->snd_una || queued > 0)
		tcp_arm_rtx(c);
	if (sent)
		tcp_arm_tlp(c);
	if (!sent && c->ack_now)
		tcp_send_ctl(c, TCP_FLAG_ACK, c->snd_nxt);
}

void tcp_resend_last(struct tcp_conn *c)
{
	uint32_t mss = tcp_eff_mss(c), seq, len;
	const struct tcp_seg *r;
	bool fin;

	if (!c->sb.n || c->snd_nxt != c->snd_max)
		return;
	r = &c->sb.v[(c->sb.head + c->sb.n - 1) & (c->sb.cap - 1)];
	fin = (r->flags & TCP_SEG_FIN) != 0;
	len = r->end - r->seq - (fin ? 1u : 0u);
	seq = r->seq;
	if (len > mss) {
		seq += len - mss;
		len = mss;
	}
	tcp_send_at(c, seq, len, fin, mss);
	tcp_arm_rtx(c);
}

void tcp_retransmit_syn(struct tcp_conn *c)
{
	if (c->state == TCP_SYN_RECEIVED)
		tcp_send_ctl(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->iss);
	else if (c->state == TCP_SYN_SENT)
		tcp_send_ctl(c, TCP_FLAG_SYN, c->iss);
}

void tcp_send_reset(struct stack *s, const struct l3_rx *rx,
		    const struct tcp_hdr *h, size_t seg_len)
{
	struct pbuf *pb = &s->tx;
	struct tcp_hdr r = {
		.sport = h->dport,
		.dport = h->sport,
		.doff = TCP_HLEN,
	};
	uint8_t *p;

	/* Never a reset in answer to a reset, nor to a broadcast. */
	if ((h->flags & TCP_FLAG_RST) || rx->l2_multi || rx->l3_multi ||
	    inany_is_unspec(&rx->src))
		return;
	if (h->flags & TCP_FLAG_ACK) {
		r.seq = h->ack;
		r.flags = TCP_FLAG_RST;
	} else {
		r.ack = h->seq + (uint32_t)seg_len +
			((h->flags & TCP_FLAG_SYN) ? 1u : 0u) +
			((h->flags & TCP_FLAG_FIN) ? 1u : 0u);
		r.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	pbuf_reset(pb);
	p = pbuf_push(pb, TCP_HLEN);
	tcp_hdr_write(p, &r);
	put_be16(p + 16, csum_fold(csum_partial(
				 p, TCP_HLEN,
				 l3_pseudo(&rx->dst, &rx->src, L3_PROTO_TCP,
					   TCP_HLEN))));
	STAT_INC(&s->stats, TCP_RST_TX);
	STAT_INC(&s->stats, TCP_TX);
	l3_output(s, &rx->dst, &rx->src, L3_PROTO_TCP, NULL, pb, NULL);
}
