/*
 * Congestion control as a small interface, so that another algorithm
 * (CUBIC, RFC 9438) can be added without touching the state machine.
 *
 * The state machine keeps the mechanics every algorithm shares: slow start
 * threshold and window live in the connection; fast retransmit, NewReno's
 * recovery with window inflation (RFC 6582), and the collapse to one
 * segment after a timeout (RFC 5681 3.1) stay in tcp_in.c/tcp_timer.c.
 * An algorithm decides two things: how the window grows when new data is
 * acknowledged outside recovery, and the slow start threshold after a loss.
 */
#ifndef TAPIR_TCP_CC_H
#define TAPIR_TCP_CC_H

#include <stdint.h>

struct tcp_conn;

struct tcp_cc_ops {
	const char *name;
	/* Set the window and threshold of a new connection. */
	void (*init)(struct tcp_conn *c);
	/* acked bytes of new data were acknowledged outside recovery. */
	void (*on_ack)(struct tcp_conn *c, uint32_t acked);
	/* The slow start threshold after a loss (fast retransmit or RTO). */
	uint32_t (*ssthresh)(const struct tcp_conn *c);
};

/* RFC 5681 slow start and congestion avoidance, for NewReno. */
extern const struct tcp_cc_ops tcp_cc_newreno;

#endif
