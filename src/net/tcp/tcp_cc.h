/*
 * Congestion control as a small interface, so that algorithms can be
 * chosen per connection without touching the state machine.
 *
 * The state machine keeps the mechanics every algorithm shares: slow start
 * threshold and window live in the connection; fast retransmit, recovery
 * (PRR with SACK, NewReno's window inflation without), and the collapse to
 * one segment after a timeout (RFC 5681 3.1) stay in tcp_in.c/tcp_timer.c.
 * An algorithm decides two things: how the window grows when new data is
 * acknowledged outside recovery, and the slow start threshold after a loss.
 *
 * Two are built in: NewReno (RFC 5681, 6582) and CUBIC (RFC 9438), the
 * default, as on Linux.  Both count acknowledged bytes rather than ACKs
 * (RFC 3465), so a receiver that acknowledges a whole window at once
 * (stretch ACKs, coalescing receivers) does not slow growth, and neither
 * grows the window while the sender does not use it (RFC 7661).
 */
#ifndef TAPIR_TCP_CC_H
#define TAPIR_TCP_CC_H

#include <stdint.h>

struct tcp_conn;

/* Per-connection state of the algorithms (a member of struct tcp_conn). */
struct tcp_cc_state {
	uint32_t acked;      /* NewReno: bytes toward the next increase */
	/* CUBIC (RFC 9438), windows in bytes, times in milliseconds. */
	uint64_t epoch;      /* start of this growth epoch; 0: none yet */
	double w_max;        /* the window just before the last reduction */
	double cwnd_prior;   /* cwnd at the last reduction */
	double origin;       /* the plateau of the cubic curve (W_max) */
	double k;            /* seconds from the epoch to the plateau */
	double w_est;        /* the Reno-friendly estimate (4.3) */
};

struct tcp_cc_ops {
	const char *name;
	/* Set the window and threshold of a new connection. */
	void (*init)(struct tcp_conn *c);
	/* acked bytes of new data were acknowledged outside recovery;
	 * flight is what was outstanding just before (the window in use). */
	void (*on_ack)(struct tcp_conn *c, uint32_t acked, uint32_t flight);
	/* A loss (fast retransmit, a retransmission timeout, a repairing
	 * loss probe): returns the new slow start threshold. */
	uint32_t (*on_loss)(struct tcp_conn *c);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* The algorithm called name ("cubic", "newreno"; "reno" is NewReno too),
 * or NULL. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);

#endif
