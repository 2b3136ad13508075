/*
 * TCP (RFC 9293): connections, listeners and the calls the rest of tapir
 * makes.  tcp_in.c processes arriving segments, tcp_out.c sends, and
 * tcp_timer.c runs retransmission, delayed ACK and TIME_WAIT.
 *
 * A connection is a struct tcp_conn in the stack's flow table, keyed by its
 * 4-tuple.  A listener is a struct tcp_listener in the listener table.  The
 * owner of a connection (a module, through the host API) sees it through a
 * struct tcp_callbacks: data arrives through recv(), which takes what it
 * can; the rest stays in the receive buffer, and the window advertised to
 * the peer is what that buffer has room for.  The owner sends with
 * tcp_send(), which takes what the send buffer has room for (backpressure),
 * and hears writable() when room comes back.
 *
 * Lifetime: the stack owns every connection.  The owner's handle is valid
 * from accepted() until it calls tcp_close() or tcp_abort(), or until
 * closed() is called (at the latest when the connection enters TIME_WAIT);
 * after that no callback names the connection again, though the connection
 * itself may live on (sending what is queued, FIN, TIME_WAIT) until the
 * stack frees it.  closed() must not call back into the connection.
 */
#ifndef TAPIR_TCP_H
#define TAPIR_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/flow.h"
#include "net/l3.h"
#include "net/pbuf.h"
#include "net/tcp/tcp_buf.h"
#include "net/tcp/tcp_cc.h"
#include "net/tcp/tcp_opt.h"
#include "net/timer.h"

struct stack;
struct l3_rx;
struct tcp_conn;

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_NSTATES
};

extern const char *const tcp_state_names[TCP_NSTATES];

struct tcp_callbacks {
	/* A connection to a listener is established.  Return the context
	 * passed to the other callbacks, or NULL to refuse it (reset). */
	void *(*accepted)(void *arg, struct tcp_conn *c);
	/* In-order data: return how many bytes were taken (0..len). */
	size_t (*recv)(void *ctx, struct tcp_conn *c, const uint8_t *data,
		       size_t len);
	/* The send buffer has room again after tcp_send() took less than
	 * it was offered. */
	void (*writable)(void *ctx, struct tcp_conn *c);
	/* The peer sent FIN: no more data will arrive. */
	void (*peer_closed)(void *ctx, struct tcp_conn *c);
	/* The connection is gone: 0 after an orderly close, -ECONNRESET,
	 * -ETIMEDOUT, -ECONNREFUSED.  The handle is invalid once this
	 * returns. */
	void (*closed)(void *ctx, struct tcp_conn *c, int err);
	/* An active open (tcp_connect) is established. */
	void (*connected)(void *ctx, struct tcp_conn *c);
};

struct tcp_listener {
	struct listener l;
	const struct tcp_callbacks *cb;
	void *arg;
	struct tcp_conn *conns; /* accepted or pending, for unlisten */
	unsigned pending;       /* in SYN_RECEIVED */
	unsigned count;         /* all of its connections */
};

/* One segment sent and not yet cumulatively acknowledged. */
struct tcp_seg {
	uint32_t seq, end; /* end counts the FIN */
	uint32_t xmit;     /* ms of its last transmission */
	uint32_t order;    /* transmission counter then */
	uint8_t flags;
};
#define TCP_SEG_SACKED 0x01
#define TCP_SEG_LOST 0x02
#define TCP_SEG_RETRANS 0x04
#define TCP_SEG_FIN 0x08

struct tcp_sb {
	struct tcp_seg *v; /* ring of cap (a power of two) records */
	uint32_t head, n, cap;
	uint32_t nsacked, nlost, nretrans; /* records with those flags */
	uint32_t order;          /* transmissions so far */
	uint32_t rack_order;     /* latest transmission known delivered */
	bool rack_set;
};

struct tcp_conn {
	struct flow flow;
	struct stack *s;
	struct tcp_listener *listener; /* or the owner's group (connect) */
	const void *owner_data; /* for the owner's use (the host API) */
	struct tcp_conn *lnext, **lpprev; /* in the listener's list */
	const struct tcp_callbacks *cb; /* NULL once the owner let go */
	void *ctx;
	uint8_t state;
	bool dead;     /* destroyed while busy: freed when input unwinds */
	unsigned busy; /* input is running on it */

	/* What the owner asked for and what happened. */
	bool fin_queued;   /* send FIN after the queued data */
	bool fin_sent;     /* the FIN is out (again after a go-back) */
	uint32_t fin_seq;  /* its sequence number, once first sent */
	bool cookie_syn;   /* a stateless SYN-ACK: TSval carries cookie_ts */
	uint8_t cookie_ts; /* its low 6 bits (window scale, SACK) */
	bool fin_seq_set;
	bool released;     /* the owner let go (close/abort/closed) */
	unsigned probes;   /* zero-window probes without any ACK since */
	bool fin_acked;
	bool fin_rcvd;     /* peer's FIN processed */
	bool fin_pending;  /* peer's FIN in order, waiting for the owner to
			    * take the data before it */
	bool delivering;   /* inside recv(): tcp_close/resume adjust */
	size_t delivering_n; /* bytes offered to that recv() call */
	bool ooo_fin;      /* peer's FIN seen beyond a hole */
	uint32_t ooo_fin_seq;
	bool nagle;
	bool want_writable;
	bool ack_now;      /* send an ACK at the next output */
	unsigned unacked_segs; /* full segments received since our last ACK */
	uint16_t rcv_mss;      /* largest segment received: what "full" is */

	/* Negotiated options. */
	bool ts_ok, sack_ok;
	uint8_t snd_ws, rcv_ws;
	uint16_t mss; /* most payload bytes per segment we send */
	unsigned pmtu_gen; /* the stack's pmtu_gen when mss last met the path */
	uint32_t ts_recent;

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
	uint32_t ack_sent; /* the last ACK number sent */
	/* A duplicate received, to report once as a D-SACK (RFC 2883). */
	bool dsack;
	uint32_t dsack_start, dsack_end;

	struct bytering snd; /* from SND.UNA on */
	struct bytering rcv; /* in order, not yet taken by the owner */
	struct tcp_ooo ooo;

	/* Retransmission (RFC 6298), times in ms. */
	struct timer rtx;
	struct timer delack;
	struct timer keepalive;
	bool ka_on;
	unsigned ka_sent; /* probes unanswered */
	uint32_t srtt8, rttvar4; /* scaled by 8 and 4; 0: no sample yet */
	uint32_t rto;
	unsigned backoff;
	bool rtt_pending;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	bool persist; /* rtx timer is probing a zero window */
	uint64_t zero_wnd_since; /* ms: the peer's window is zero since (0: not) */
	/* Waiting for TCP buffer memory (tcp_send() was refused it): on
	 * struct tcp_stack's mem_waiters until memory frees. */
	bool mem_wait;
	struct tcp_conn *mw_next, **mw_pprev;
	struct tcp_conn *reclaim_next; /* a pass of tcp_mem_reclaim() */

	/* Congestion control (RFC 5681, NewReno RFC 6582). */
	const struct tcp_cc_ops *cc;
	struct tcp_cc_state cc_st;
	uint32_t cwnd, ssthresh, recover;
	unsigned dupacks;
	bool in_recovery;
	bool rtx_first; /* resend the first lost segment at once */
	/* Proportional rate reduction (RFC 6937) during SACK recovery. */
	bool prr_on;
	uint32_t prr_delivered, prr_out, recover_fs;

	/* The retransmission scoreboard (tcp_loss.c). */
	struct tcp_sb sb;
	struct timer rack; /* RACK's reordering wait; tail loss probe */
	bool rack_wait;    /* the rack timer is RACK's wait, not a probe */
	bool tlp_out;      /* a loss probe is out, not yet answered */
	/* The probe's episode (RFC 8985 7.4): until an ACK covers tlp_end,
	 * whether a retransmitted probe repaired a loss is not known. */
	bool tlp_episode, tlp_retrans;
	uint32_t tlp_end;
	/* RACK's reordering window in quarters of SRTT, widened by the
	 * peer's D-SACKs (RFC 8985 6.2 step 4): one step per round trip,
	 * kept for 16 recoveries after the last. */
	uint8_t reo_mult, reo_persist;
	bool dsack_round_set;
	uint32_t dsack_round;

	/* What the connection did, for reports (tapirctl connections). */
	struct tcp_conn_ctr {
		uint64_t bytes_sent;     /* data bytes sent, resent ones too */
		uint64_t bytes_retrans;  /* of those, resent */
		uint64_t bytes_acked;    /* data bytes cumulatively acked */
		uint64_t bytes_received; /* data bytes received in order */
		uint64_t segs_retrans;   /* data segments resent */
		uint64_t delivered;      /* bytes acked or SACKed */
		/* The delivery rate: bytes delivered over the last sample
		 * period (a round trip, at least TCP_RATE_MIN_MS). */
		bool rate_on;            /* a period is running */
		uint64_t rate_start;     /* ms the period began */
		uint64_t rate_mark;      /* delivered then */
		uint64_t delivery_rate;  /* bytes per second; 0: none yet */
		/* After a retransmission timeout, until everything in
		 * flight then (up to loss_end) is acknowledged: the "loss"
		 * phase.  A SYN's timeout ends with the handshake. */
		bool loss;
		uint32_t loss_end;
	} ctr;
};

#define TCP_RATE_MIN_MS 50

/* Where congestion control stands: "slow_start", "congestion_avoidance",
 * "recovery" (fast recovery) or "loss" (after a timeout). */
const char *tcp_cc_phase(const struct tcp_conn *c);

/* Stack-wide TCP state, embedded in struct stack. */
struct tcp_stack {
	struct flow_table flows;
	struct listener_table listeners;
	uint8_t isn_key[16];
	uint8_t cookie_key[16];
	uint64_t cookie_until;    /* ACKs may carry cookies until then (ms) */
	struct buf_pool mem;      /* every connection's buffers together */
	struct timer mem_timer;   /* reclaims memory while it runs short */
	struct tcp_conn *mem_waiters; /* refused memory by tcp_send() */
	uint64_t challenge_sec;   /* challenge ACK rate limit: this second */
	unsigned challenge_count; /* and how many went out in it */
	unsigned count;
	unsigned by_state[TCP_NSTATES];
};

/* Limits and timers, part of struct stack_params. */
struct tcp_params {
	unsigned max_conns;       /* not counting TIME_WAIT */
	unsigned max_time_wait;   /* connections in TIME_WAIT */
	unsigned syn_backlog;     /* per listener, in SYN_RECEIVED */
	unsigned sndbuf, rcvbuf;  /* bytes per connection */
	unsigned ooo_limit;       /* bytes held out of order per connection */
	unsigned memory_limit;    /* bytes of buffers over all connections */
	unsigned time_wait_ms;
	unsigned rto_min_ms, rto_max_ms, rto_initial_ms;
	unsigned max_retries;     /* data retransmissions before giving up */
	unsigned syn_retries;     /* SYN-ACK retransmissions */
	unsigned delack_ms;
	bool syncookies;          /* answer SYNs statelessly past the backlog */
	const struct tcp_cc_ops *cc; /* congestion control of new connections */
	unsigned keepalive_idle_ms;  /* quiet time before the first probe */
	unsigned keepalive_intvl_ms; /* between unanswered probes */
	unsigned keepalive_probes;   /* unanswered probes before a reset */
};

void tcp_params_default(struct tcp_params *p);
/* Connections that count against max_conns: all but TIME_WAIT. */
unsigned tcp_active_count(const struct stack *s);
struct stack_secrets;
/* Set up TCP's tables with its three keys (ISN, cookie, flow table) from
 * secrets.  0 or -ENOMEM. */
int tcp_init(struct stack *s, const struct stack_secrets *secrets);
void tcp_fini(struct stack *s);

/* Input from the network layer (ip4_deliver()). */
void tcp_input(struct stack *s, struct cur seg, const struct l3_rx *rx);
/* An ICMP error about the segment of connection k with sequence number
 * seq (of either family; mtu: what the router reported, for L3_ERR_MTU). */
void tcp_icmp_error(struct stack *s, const struct flow_key *k, uint32_t seq,
		    enum l3_err_kind kind, unsigned mtu);

int tcp_listen(struct stack *s, struct tcp_listener *l, uint16_t port,
	       const struct tcp_callbacks *cb, void *arg);
/* Stop listening; every connection it accepted is aborted (reset). */
void tcp_unlisten(struct stack *s, struct tcp_listener *l);

/* Active open to raddr:rport from our address and an ephemeral port.
 * group (a tcp_listener set up with tcp_group_init, never listening)
 * collects the connection for tcp_unlisten.  The callbacks run with ctx;
 * connected() when the handshake completes, closed(-ECONNREFUSED) on a
 * reset, closed(-ETIMEDOUT) when the SYN is never answered.  NULL with
 * -errno in *err: -ENOBUFS at the connection limit or with no free port,
 * -EHOSTUNREACH off-link without a gateway, -EINVAL for address 0 (or
 * no address of ours in its family), -EAFNOSUPPORT for a family the stack
 * does not speak. */
struct tcp_conn *tcp_connect(struct stack *s, struct tcp_listener *group,
			     const union inany *raddr, uint16_t rport,
			     const struct tcp_callbacks *cb, void *ctx,
			     int *err);
/* A listener structure used only to own active connections. */
void tcp_group_init(struct tcp_listener *group);

/* Queue data; returns the bytes taken (the rest did not fit). */
size_t tcp_send(struct tcp_conn *c, const void *data, size_t len);
size_t tcp_send_room(const struct tcp_conn *c);
/* Send FIN once the queued data is out; receiving goes on. */
void tcp_shutdown(struct tcp_conn *c);
/* Shutdown, and the owner lets go of c: no more callbacks. */
void tcp_close(struct tcp_conn *c);
/* Reset the connection; the owner lets go of c: no more callbacks. */
void tcp_abort(struct tcp_conn *c);
/* The owner can take data again: deliver what waits. */
void tcp_recv_resume(struct tcp_conn *c);
void tcp_set_nodelay(struct tcp_conn *c, bool on);
/* Keepalive probes (RFC 1122 4.2.3.6), off by default. */
void tcp_set_keepalive(struct tcp_conn *c, bool on);

/* Visit every connection (for reports); fn must not change any. */
typedef void (*tcp_visit_fn)(void *arg, const struct tcp_conn *c);
void tcp_foreach(struct stack *s, tcp_visit_fn fn, void *arg);

/* ---- Internal, between tcp*.c ------------------------------------------ */

void tcp_set_state(struct tcp_conn *c, enum tcp_state st);
/* A new connection for k, in the table and on owner's list, in CLOSED with
 * its buffers and timers ready.  NULL when memory runs out or k is taken. */
struct tcp_conn *tcp_conn_new(struct stack *s, const struct flow_key *k,
			      struct tcp_listener *owner);
/* The buffer pool refused memory: reclaim it soon (tcp_mem_reclaim). */
void tcp_mem_pressure(struct stack *s);
/* Take in the peer's window wnd: remembers since when it is zero. */
void tcp_note_wnd(struct tcp_conn *c, uint32_t wnd);
/* How long a peer's window must have stayed zero, with data waiting for
 * it, before the connection may be aborted to free memory. */
#define TCP_MEM_STALL_MS 5000
/* Memory pressure: retried this often while connections wait. */
#define TCP_MEM_RETRY_MS 100
/* The window scale that lets buf bytes be advertised (RFC 7323 2.2). */
uint8_t tcp_ws_for(uint32_t buf);
/* End c: unlink it, cancel its timers, tell the owner closed(err) unless
 * it let go.  Freed at once, or when the input running on it unwinds. */
void tcp_destroy(struct tcp_conn *c, int err);
/* Send what the windows allow, and an ACK when one is due. */
void tcp_output(struct tcp_conn *c);
/* Send a segment with no data: flags plus options for a SYN. */
void tcp_send_ctl(struct tcp_conn *c, uint8_t flags, uint32_t seq);
/* Reset in answer to a segment for no connection (RFC 9293 3.10.7.1). */
void tcp_send_reset(struct stack *s, const struct l3_rx *rx,
		    const struct tcp_hdr *h, size_t seg_len);
/* Recovery on an ACK (tcp_loss.c): a duplicate ACK; an ACK of new data for
 * congestion control or the end of recovery; a loss probe's outcome. */
void tcp_dupack(struct tcp_conn *c);
void tcp_cc_ack(struct tcp_conn *c, uint32_t acked, uint32_t ack,
		uint32_t flight);
void tcp_tlp_ack(struct tcp_conn *c, uint32_t ack, const struct tcp_opts *o);
/* Resend the last segment sent (a tail loss probe). */
void tcp_resend_last(struct tcp_conn *c);
/* Resend the SYN or SYN-ACK. */
void tcp_retransmit_syn(struct tcp_conn *c);
/* The scoreboard (tcp_loss.c).  tcp_sb_sent: a data or FIN segment went
 * out (call before SND.MAX moves).  tcp_sb_ack: an acceptable ACK, with
 * its SACK blocks (o may be NULL): returns the bytes newly delivered.  tcp_sb_detect: mark what is lost;
 * returns how many were newly marked, *wake_ms > 0 when RACK waits that
 * long on more.  tcp_sb_pipe: bytes in flight (RFC 6675).
 * tcp_sb_next_lost: the lowest LOST record, at most mss bytes of it. */
void tcp_sb_fini(struct tcp_conn *c);
/* Records that may still be added (one per segment of new data). */
uint32_t tcp_sb_free(struct tcp_conn *c);
void tcp_sb_sent(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin,
		 uint32_t mss);
/* Returns the bytes this ACK newly delivered (acked or SACKed). */
uint32_t tcp_sb_ack(struct tcp_conn *c, uint32_t ack,
		    const struct tcp_opts *o);
void tcp_sb_reset(struct tcp_conn *c);
/* The ACK's first SACK block reports a duplicate (RFC 2883). */
bool tcp_is_dsack(const struct tcp_opts *o, uint32_t ack);
/* Loss recovery has ended: a widened reordering window lasts 16. */
void tcp_sb_recovery_done(struct tcp_conn *c);
bool tcp_sb_mark_head_lost(struct tcp_conn *c);
unsigned tcp_sb_detect(struct tcp_conn *c, uint64_t *wake_ms);
uint32_t tcp_sb_pipe(const struct tcp_conn *c);
bool tcp_sb_next_lost(struct tcp_conn *c, uint32_t mss, uint32_t *seq,
		      uint32_t *len, bool *fin);
/* Loss marks changed: enter recovery when they call for it; then set
 * the window for the ACK that delivered `delivered` bytes (PRR). */
void tcp_loss_check(struct tcp_conn *c, uint32_t delivered);
/* Our advertised window, scaled for the header. */
uint16_t tcp_rcv_window(struct tcp_conn *c);
void tcp_timers_init(struct tcp_conn *c);
void tcp_arm_rtx(struct tcp_conn *c);
/* A tail loss probe (RFC 8985 7) after about two round trips. */
void tcp_arm_tlp(struct tcp_conn *c);
/* RACK's reordering wait: look for losses again in ms. */
void tcp_arm_rack(struct tcp_conn *c, uint64_t ms);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_ms);
void tcp_deliver(struct tcp_conn *c);
void tcp_enter_time_wait(struct tcp_conn *c);
/* The peer's FIN, in order and with all data before it taken. */
void tcp_fin_in_order(struct tcp_conn *c);
/* Something arrived: restart the keepalive clock. */
void tcp_keepalive_touch(struct tcp_conn *c);

#endif
