/*
 * Congestion control (tcp_cc.c) on its own: a connection record with an
 * MSS, a smoothed RTT and the stack's fake clock, fed ACKs by hand.
 * NewReno's byte counting in slow start and congestion avoidance, the
 * rule that an unused window does not grow, the loss responses, and
 * CUBIC's curve (RFC 9438): its plateau at the window of the last loss
 * after K seconds, fast convergence, and the Reno-friendly region.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

#define MSS 1000u

static struct stack *S;
static struct tcp_conn C;

/* A connection record with ops, just initialised, RTT rtt_ms. */
static struct tcp_conn *conn(const struct tcp_cc_ops *ops, unsigned rtt_ms)
{
	S = th_stack_new(NULL);
	memset(&C, 0, sizeof(C));
	C.s = S;
	C.mss = MSS;
	C.cc = ops;
	C.srtt8 = rtt_ms * 8;
	C.snd_una = C.snd_nxt = C.snd_max = 1000;
	ops->init(&C);
	return &C;
}

static void done(void)
{
	th_stack_free(S);
	S = NULL;
}

/* One ACK of acked bytes while the whole window was in flight. */
static void ack_full(struct tcp_conn *c, uint32_t acked)
{
	c->cc->on_ack(c, acked, c->cwnd);
}

/* A loss as the state machine reports it: the window was in flight. */
static void loss(struct tcp_conn *c)
{
	c->snd_nxt = c->snd_una + c->cwnd;
	c->ssthresh = c->cc->on_loss(c);
	c->cwnd = c->ssthresh;
	c->snd_nxt = c->snd_una;
}

START_TEST(test_initial_window)
{
	struct tcp_conn *c = conn(&tcp_cc_newreno, 100);

	/* RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
	ck_assert_uint_eq(c->cwnd, 10 * MSS);
	ck_assert_uint_eq(c->ssthresh, UINT32_MAX);
	done();
	c = conn(&tcp_cc_cubic, 100);
	ck_assert_uint_eq(c->cwnd, 10 * MSS);
	done();
}
END_TEST

START_TEST(test_find)
{
	ck_assert_ptr_eq(tcp_cc_find("cubic"), &tcp_cc_cubic);
	ck_assert_ptr_eq(tcp_cc_find("newreno"), &tcp_cc_newreno);
	ck_assert_ptr_eq(tcp_cc_find("reno"), &tcp_cc_newreno);
	ck_assert_ptr_null(tcp_cc_find("bbr"));
	ck_assert_ptr_null(tcp_cc_find(""));
}
END_TEST

/* A stretch ACK for a whole window in slow start grows the window by all
 * it acknowledged, not by one segment. */
START_TEST(test_slow_start_counts_bytes)
{
	struct tcp_conn *c = conn(&tcp_cc_newreno, 100);

	ack_full(c, 10 * MSS);
	ck_assert_uint_eq(c->cwnd, 20 * MSS);
	ack_full(c, 2 * MSS);
	ack_full(c, 500);
	ck_assert_uint_eq(c->cwnd, 22 * MSS + 500);
	done();
}
END_TEST

/* Slow start stops at ssthresh; what the ACK acknowledged beyond goes to
 * congestion avoidance's byte count. */
START_TEST(test_slow_start_stops_at_ssthresh)
{
	struct tcp_conn *c = conn(&tcp_cc_newreno, 100);

	c->ssthresh = 15 * MSS;
	ack_full(c, 10 * MSS);
	ck_assert_uint_eq(c->cwnd, 15 * MSS);
	ck_assert_uint_eq(c->cc_st.acked, 5 * MSS);
	done();
}
END_TEST

/* Congestion avoidance: one segment per window's worth of acknowledged
 * bytes, whether it came in ten ACKs, one stretch ACK, or many small. */
START_TEST(test_avoidance_counts_bytes)
{
	struct tcp_conn *c = conn(&tcp_cc_newreno, 100);

	c->cwnd = c->ssthresh = 10 * MSS;
	for (int i = 0; i < 9; i++)
		ack_full(c, MSS);
	ck_assert_uint_eq(c->cwnd, 10 * MSS);
	ack_full(c, MSS);
	ck_assert_uint_eq(c->cwnd, 11 * MSS);
	ack_full(c, 11 * MSS); /* one ACK for the whole window */
	ck_assert_uint_eq(c->cwnd, 12 * MSS);
	for (int i = 0; i < 48; i++) /* 12000 bytes in 250-byte ACKs */
		ack_full(c, 250);
	ck_assert_uint_eq(c->cwnd, 13 * MSS);
	/* An ACK for several windows at once still adds one segment per
	 * window it covers. */
	ack_full(c, 13 * MSS + 14 * MSS);
	ck_assert_uint_eq(c->cwnd, 15 * MSS);
	done();
}
END_TEST

/* RFC 7661: a window the sender does not fill does not grow, in slow
 * start (less than half in use) or after (more than three segments
 * short). */
START_TEST(test_unused_window_does_not_grow)
{
	struct tcp_conn *c = conn(&tcp_cc_newreno, 100);

	c->cc->on_ack(c, 2 * MSS, 4 * MSS);
	ck_assert_uint_eq(c->cwnd, 10 * MSS);
	c->cc->on_ack(c, 2 * MSS, 5 * MSS);
	ck_assert_uint_eq(c->cwnd, 12 * MSS);
	c->ssthresh = c->cwnd;
	c->cc->on_ack(c, 12 * MSS, 8 * MSS);
	ck_assert_uint_eq(c->cwnd, 12 * MSS);
	c->cc->on_ack(c, 12 * MSS, 9 * MSS);
	ck_assert_uint_eq(c->cwnd, 13 * MSS);
	done();
	c = conn(&tcp_cc_cubic, 100);
	c->cc->on_ack(c, 2 * MSS, 4 * MSS);
	ck_assert_uint_eq(c->cwnd, 10 * MSS);
	done();
}
END_TEST

/* RFC 5681 (4): half the flight, at least two segments. */
START_TEST(test_newreno_loss)
{
	struct tcp_conn *c = conn(&tcp_cc_newreno, 100);

	c->snd_nxt = c->snd_una + 30 * MSS;
	ck_assert_uint_eq(c->cc->on_loss(c), 15 * MSS);
	c->snd_nxt = c->snd_una + 3 * MSS;
	ck_assert_uint_eq(c->cc->on_loss(c), 2 * MSS);
	done();
}
END_TEST

/* RFC 9438 4.6, 4.7: the threshold is 0.7 of the window; a loss below the
 * previous plateau lowers the plateau further (fast convergence). */
START_TEST(test_cubic_loss_and_fast_convergence)
{
	struct tcp_conn *c = conn(&tcp_cc_cubic, 100);

	c->cwnd = 100 * MSS;
	loss(c);
	ck_assert_uint_eq(c->ssthresh, 70 * MSS);
	ck_assert(c->cc_st.w_max == 100.0 * MSS);
	ck_assert(c->cc_st.cwnd_prior == 100.0 * MSS);
	c->cwnd = 80 * MSS; /* below the plateau */
	loss(c);
	ck_assert_uint_eq(c->ssthresh, 56 * MSS);
	ck_assert(c->cc_st.w_max > 68.0 * MSS - 1 &&
		  c->cc_st.w_max < 68.0 * MSS + 1);
	c->cwnd = 2 * MSS;
	ck_assert_uint_eq(c->cc->on_loss(c), 2 * MSS);
	done();
}
END_TEST

/* Feed a window of ACKs every rtt ms for ms milliseconds. */
static void run(struct tcp_conn *c, unsigned rtt, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += rtt) {
		th_clock_ms += rtt;
		/* the window in ten ACKs */
		for (int i = 0; i < 10; i++)
			ack_full(c, c->cwnd / 10);
	}
}

/* After a loss at 1000 segments the window climbs back to 1000 in
 * K = cbrt(1000 * 0.3 / 0.4) = 9.09 s, concave (fast at first), stays
 * near it, then grows faster and faster (convex), on a 100 ms path where
 * the curve, not the Reno-friendly estimate, governs (4.2, 4.4, 4.5). */
START_TEST(test_cubic_curve)
{
	struct tcp_conn *c = conn(&tcp_cc_cubic, 100);
	uint32_t at4, at9, at10, at14;

	th_clock_ms = 10000;
	c->cwnd = 1000 * MSS;
	loss(c);
	ck_assert_uint_eq(c->cwnd, 700 * MSS);
	run(c, 100, 4500);
	at4 = c->cwnd;
	run(c, 100, 4500);
	at9 = c->cwnd;
	run(c, 100, 1000);
	at10 = c->cwnd;
	run(c, 100, 4000);
	at14 = c->cwnd;
	ck_assert(c->cc_st.k > 9.08 && c->cc_st.k < 9.09);
	/* Concave: W(4.5) = 1000 - 0.4 * 4.59^3 = 961 segments. */
	ck_assert_uint_gt(at4, 950 * MSS);
	ck_assert_uint_lt(at4, 975 * MSS);
	/* At the plateau around K. */
	ck_assert_uint_ge(at9, 995 * MSS);
	ck_assert_uint_le(at9, 1001 * MSS);
	ck_assert_uint_le(at10, 1003 * MSS);
	/* Convex: W(14) = 1000 + 0.4 * 4.91^3 = 1047. */
	ck_assert_uint_gt(at14, 1040 * MSS);
	ck_assert_uint_lt(at14, 1056 * MSS);
	done();
}
END_TEST

/* On a short path Reno would outgrow the curve: CUBIC follows the
 * Reno-friendly estimate, 0.53 segments a round trip until the window of
 * the last loss, then one (RFC 9438 4.3). */
START_TEST(test_cubic_reno_friendly)
{
	struct tcp_conn *c = conn(&tcp_cc_cubic, 4);

	th_clock_ms = 10000;
	c->cwnd = 10 * MSS;
	loss(c);
	ck_assert_uint_eq(c->cwnd, 7 * MSS);
	run(c, 4, 400); /* 100 round trips: the curve would be at 8.5 */
	ck_assert_uint_gt(c->cwnd, 90 * MSS);
	ck_assert_uint_lt(c->cwnd, 110 * MSS);
	done();
}
END_TEST

/* Time the sender spends not using its window does not count toward the
 * curve: the epoch starts again when it does. */
START_TEST(test_cubic_idle_restarts_epoch)
{
	struct tcp_conn *c = conn(&tcp_cc_cubic, 100);
	uint32_t w;

	th_clock_ms = 10000;
	c->cwnd = 100 * MSS;
	loss(c);
	run(c, 100, 1000);
	ck_assert_uint_ne(c->cc_st.epoch, 0);
	c->cc->on_ack(c, MSS, 10 * MSS); /* application-limited */
	ck_assert_uint_eq(c->cc_st.epoch, 0);
	th_clock_ms += 60000; /* a minute idle */
	w = c->cwnd;
	run(c, 100, 100);
	/* Not the far convex end of the curve: still concave, below 100. */
	ck_assert_uint_gt(c->cwnd, w);
	ck_assert_uint_lt(c->cwnd, 100 * MSS);
	done();
}
END_TEST

static Suite *tcp_cc_suite(void)
{
	Suite *s = suite_create("tcp_cc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_initial_window);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_slow_start_counts_bytes);
	tcase_add_test(tc, test_slow_start_stops_at_ssthresh);
	tcase_add_test(tc, test_avoidance_counts_bytes);
	tcase_add_test(tc, test_unused_window_does_not_grow);
	tcase_add_test(tc, test_newreno_loss);
	tcase_add_test(tc, test_cubic_loss_and_fast_convergence);
	tcase_add_test(tc, test_cubic_curve);
	tcase_add_test(tc, test_cubic_reno_friendly);
	tcase_add_test(tc, test_cubic_idle_restarts_epoch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tcp_cc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
