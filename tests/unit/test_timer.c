/* The timer wheel (timer.c): arm, cancel, fire order, re-arming from
 * callbacks, timers beyond one turn, timer_wheel_next(), clock jumps. */
#include "helpers.h"

#include <string.h>

#define TURN_MS ((uint64_t)TIMER_SLOTS * TIMER_TICK_MS)

static struct timer_wheel w;
static uint64_t now; /* the wheel's clock in these tests */

/* What fired, in order, and when. */
#define LOG_MAX 4096
static struct {
	int id;
	uint64_t at;
} fired[LOG_MAX];
static size_t nfired;

struct tt {
	struct timer t;
	int id;
	uint64_t period;    /* re-arm from the callback after this */
	unsigned left;      /* re-arms still to do */
	struct tt *other;   /* cancelled or re-armed from the callback */
	uint64_t other_ms;  /* 0: cancel other; else re-arm it this far */
};

static bool cross_done; /* the first cross callback acted */

static void log_fire(struct timer *t, void *arg)
{
	struct tt *x = arg;

	ck_assert_ptr_eq(t, &x->t);
	ck_assert(!timer_pending(t));
	ck_assert_uint_lt(nfired, LOG_MAX);
	fired[nfired].id = x->id;
	fired[nfired].at = now;
	nfired++;
	if (x->left) {
		x->left--;
		timer_arm(&w, &x->t, now, x->period);
	}
}

static void cross_fire(struct timer *t, void *arg)
{
	struct tt *x = arg;

	log_fire(t, arg);
	if (cross_done)
		return;
	cross_done = true;
	if (x->other_ms)
		timer_arm(&w, &x->other->t, now, x->other_ms);
	else
		timer_cancel(&w, &x->other->t);
}

static void tt_init(struct tt *x, int id)
{
	memset(x, 0, sizeof(*x));
	x->id = id;
	timer_init(&x->t, log_fire, x);
}

static void setup(void)
{
	now = 0;
	nfired = 0;
	cross_done = false;
	timer_wheel_init(&w, now);
}

static size_t run_at(uint64_t t)
{
	now = t;
	return timer_wheel_run(&w, now);
}

START_TEST(test_init_empty)
{
	struct tt a;

	tt_init(&a, 1);
	ck_assert_uint_eq(w.count, 0);
	ck_assert(!timer_pending(&a.t));
	ck_assert_int_eq(timer_wheel_next(&w, 0), -1);
	ck_assert_uint_eq(run_at(100000), 0);
	/* Cancelling a timer that was never armed is harmless. */
	timer_cancel(&w, &a.t);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_fire_order)
{
	struct tt a, b, c;

	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&c, 3);
	timer_arm(&w, &a.t, now, 100);
	timer_arm(&w, &b.t, now, 52);
	timer_arm(&w, &c.t, now, 200);
	ck_assert_uint_eq(w.count, 3);
	ck_assert(timer_pending(&a.t) && timer_pending(&b.t) &&
		  timer_pending(&c.t));
	/* Nothing before its time. */
	ck_assert_uint_eq(run_at(51), 0);
	ck_assert_uint_eq(run_at(52), 1);
	ck_assert_uint_eq(run_at(99), 0);
	ck_assert_uint_eq(run_at(100), 1);
	ck_assert_uint_eq(run_at(199), 0);
	ck_assert_uint_eq(run_at(200), 1);
	ck_assert_uint_eq(nfired, 3);
	ck_assert_int_eq(fired[0].id, 2);
	ck_assert_uint_eq(fired[0].at, 52);
	ck_assert_int_eq(fired[1].id, 1);
	ck_assert_uint_eq(fired[1].at, 100);
	ck_assert_int_eq(fired[2].id, 3);
	ck_assert_uint_eq(fired[2].at, 200);
	ck_assert_uint_eq(w.count, 0);
	ck_assert(!timer_pending(&a.t));
	ck_assert_int_eq(timer_wheel_next(&w, now), -1);
}
END_TEST

START_TEST(test_fire_order_one_run)
{
	struct tt t[5];
	static const uint64_t delay[5] = {400, 40, 4000, 800, 8};
	static const int order[5] = {4, 1, 0, 3, 2};

	for (int i = 0; i < 5; i++) {
		tt_init(&t[i], i);
		timer_arm(&w, &t[i].t, now, delay[i]);
	}
	/* One run over all of them fires them by expiry. */
	ck_assert_uint_eq(run_at(4000), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(fired[i].id, order[i]);
}
END_TEST

START_TEST(test_cancel)
{
	struct tt a, b;

	tt_init(&a, 1);
	tt_init(&b, 2);
	timer_arm(&w, &a.t, now, 100);
	timer_arm(&w, &b.t, now, 100); /* the same slot */
	timer_cancel(&w, &a.t);
	ck_assert(!timer_pending(&a.t));
	ck_assert(timer_pending(&b.t));
	ck_assert_uint_eq(w.count, 1);
	timer_cancel(&w, &a.t); /* twice is harmless */
	ck_assert_uint_eq(w.count, 1);
	ck_assert_uint_eq(run_at(1000), 1);
	ck_assert_int_eq(fired[0].id, 2);
	/* Cancel the last one in a slot: the wheel is empty again. */
	timer_arm(&w, &a.t, now, 100);
	timer_cancel(&w, &a.t);
	ck_assert_uint_eq(w.count, 0);
	ck_assert_int_eq(timer_wheel_next(&w, now), -1);
	ck_assert_uint_eq(run_at(5000), 0);
	ck_assert_uint_eq(nfired, 1);
}
END_TEST

START_TEST(test_cancel_middle_of_chain)
{
	struct tt t[3];

	/* Three timers chained in one slot; unlink the middle one. */
	for (int i = 0; i < 3; i++) {
		tt_init(&t[i], i);
		timer_arm(&w, &t[i].t, now, 200);
	}
	timer_cancel(&w, &t[1].t);
	ck_assert_uint_eq(w.count, 2);
	ck_assert_uint_eq(run_at(200), 2);
	ck_assert(fired[0].id != 1 && fired[1].id != 1);
	ck_assert(fired[0].id != fired[1].id);
}
END_TEST

START_TEST(test_rearm_pending)
{
	struct tt a;

	tt_init(&a, 1);
	timer_arm(&w, &a.t, now, 100);
	/* Re-arming a pending timer moves it; it is armed once. */
	timer_arm(&w, &a.t, now, 300);
	ck_assert_uint_eq(w.count, 1);
	ck_assert_uint_eq(run_at(100), 0);
	ck_assert_uint_eq(run_at(296), 0);
	ck_assert_uint_eq(run_at(300), 1);
	ck_assert_uint_eq(run_at(2000), 0);
	ck_assert_uint_eq(nfired, 1);
	/* Earlier works too. */
	timer_arm(&w, &a.t, now, 500);
	timer_arm(&w, &a.t, now, 20);
	ck_assert_uint_eq(run_at(2020), 1);
	ck_assert_uint_eq(run_at(2500), 0);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_rearm_from_callback)
{
	struct tt a;

	tt_init(&a, 1);
	a.period = 100;
	a.left = 9;
	timer_arm(&w, &a.t, now, 100);
	for (uint64_t t = 0; t <= 2000; t += 4)
		run_at(t);
	ck_assert_uint_eq(nfired, 10);
	for (size_t i = 0; i < 10; i++)
		ck_assert_uint_eq(fired[i].at, 100 * (i + 1));
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_rearm_zero_from_callback)
{
	struct tt a;

	tt_init(&a, 1);
	a.period = 0;
	a.left = 3;
	timer_arm(&w, &a.t, now, 8);
	/* A timer re-armed for "now" from its callback waits for the next
	 * tick: one run fires it once, never in a loop. */
	ck_assert_uint_eq(run_at(8), 1);
	ck_assert(timer_pending(&a.t));
	ck_assert_uint_eq(run_at(8), 0);
	ck_assert_uint_eq(run_at(8 + TIMER_TICK_MS), 1);
	ck_assert_uint_eq(run_at(8 + 2 * TIMER_TICK_MS), 1);
	ck_assert_uint_eq(run_at(8 + 3 * TIMER_TICK_MS), 1);
	ck_assert(!timer_pending(&a.t));
	ck_assert_uint_eq(nfired, 4);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_callback_cancels_itself)
{
	struct tt a, b;

	tt_init(&a, 1);
	tt_init(&b, 2);
	timer_init(&a.t, cross_fire, &a);
	a.other = &a;
	timer_arm(&w, &a.t, now, 40);
	timer_arm(&w, &b.t, now, 40);
	ck_assert_uint_eq(run_at(40), 2);
	ck_assert_uint_eq(w.count, 0);
	ck_assert(!timer_pending(&a.t));
}
END_TEST

START_TEST(test_callback_arms_other)
{
	struct tt a, b;

	tt_init(&a, 1);
	tt_init(&b, 2);
	timer_init(&a.t, cross_fire, &a);
	a.other = &b;
	a.other_ms = 60;
	timer_arm(&w, &a.t, now, 40);
	ck_assert_uint_eq(run_at(40), 1);
	ck_assert(timer_pending(&b.t));
	ck_assert_uint_eq(run_at(99), 0);
	ck_assert_uint_eq(run_at(100), 1);
	ck_assert_int_eq(fired[1].id, 2);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_far_timers)
{
	struct tt near, far, farther;

	tt_init(&near, 1);
	tt_init(&far, 2);
	tt_init(&farther, 3);
	/* near and far share a slot, a turn apart; farther is three turns
	 * out. */
	timer_arm(&w, &near.t, now, 8);
	timer_arm(&w, &far.t, now, 8 + TURN_MS);
	timer_arm(&w, &farther.t, now, 3 * TURN_MS + 100);
	for (uint64_t t = 4; t <= 4 * TURN_MS; t += 4) {
		run_at(t);
		if (t < 8)
			ck_assert_uint_eq(nfired, 0);
		else if (t < 8 + TURN_MS)
			ck_assert_uint_eq(nfired, 1);
		else if (t < 3 * TURN_MS + 100)
			ck_assert_uint_eq(nfired, 2);
		else
			ck_assert_uint_eq(nfired, 3);
	}
	ck_assert_int_eq(fired[0].id, 1);
	ck_assert_uint_eq(fired[0].at, 8);
	ck_assert_int_eq(fired[1].id, 2);
	ck_assert_uint_eq(fired[1].at, 8 + TURN_MS);
	ck_assert_int_eq(fired[2].id, 3);
	ck_assert_uint_eq(fired[2].at, 3 * TURN_MS + 100);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_far_timer_big_steps)
{
	struct tt a;

	tt_init(&a, 1);
	timer_arm(&w, &a.t, now, 10000);
	/* Steps of 100 ms: the slot comes up twice before it is due. */
	for (uint64_t t = 100; t < 10000; t += 100)
		ck_assert_uint_eq(run_at(t), 0);
	ck_assert_uint_eq(run_at(10000), 1);
}
END_TEST

/* Three 64-slot bitmap words and three ticks further. */
#define WORDS3 (64 * TIMER_TICK_MS * 3 + 3 * TIMER_TICK_MS)

START_TEST(test_next_values)
{
	struct tt a, b;

	tt_init(&a, 1);
	tt_init(&b, 2);
	ck_assert_int_eq(timer_wheel_next(&w, now), -1);
	timer_arm(&w, &a.t, now, 100);
	ck_assert_int_eq(timer_wheel_next(&w, 0), 100);
	ck_assert_int_eq(timer_wheel_next(&w, 60), 40);
	ck_assert_int_eq(timer_wheel_next(&w, 100), 0);
	/* Overdue (the loop is late): run now. */
	ck_assert_int_eq(timer_wheel_next(&w, 150), 0);
	ck_assert_int_eq(timer_wheel_next(&w, 100 + 2 * TURN_MS), 0);
	/* The earliest of several. */
	timer_arm(&w, &b.t, now, 48);
	ck_assert_int_eq(timer_wheel_next(&w, 0), 48);
	ck_assert_uint_eq(run_at(48), 1);
	ck_assert_int_eq(timer_wheel_next(&w, now), 52);
	ck_assert_uint_eq(run_at(100), 1);
	ck_assert_int_eq(timer_wheel_next(&w, now), -1);
	/* Slots in different bitmap words: 64 slots apart and more. */
	timer_arm(&w, &a.t, now, WORDS3);
	ck_assert_int_eq(timer_wheel_next(&w, now), WORDS3);
	timer_arm(&w, &b.t, now, TURN_MS - TIMER_TICK_MS);
	ck_assert_int_eq(timer_wheel_next(&w, now), WORDS3);
	timer_cancel(&w, &a.t);
	ck_assert_int_eq(timer_wheel_next(&w, now),
			 (int64_t)(TURN_MS - TIMER_TICK_MS));
	timer_cancel(&w, &b.t);
	ck_assert_int_eq(timer_wheel_next(&w, now), -1);
}
END_TEST

START_TEST(test_next_far_timer)
{
	struct tt a;
	unsigned wakeups = 0;

	tt_init(&a, 1);
	timer_arm(&w, &a.t, now, 10000);
	/* Beyond one turn, next() may answer early (the slot comes up once
	 * per turn) but never late, and the timer never fires early. */
	while (!nfired) {
		int64_t n = timer_wheel_next(&w, now);

		ck_assert_int_gt(n, 0);
		ck_assert_uint_le(now + (uint64_t)n, 10000);
		run_at(now + (uint64_t)n);
		ck_assert_uint_lt(++wakeups, 5);
	}
	ck_assert_uint_eq(fired[0].at, 10000);
	ck_assert_int_eq(timer_wheel_next(&w, now), -1);
}
END_TEST

START_TEST(test_large_jumps)
{
	struct tt t[5];
	static const uint64_t delay[5] = {100, 5000, 50000, 1000000000ull,
					  1000000000ull + TIMER_TICK_MS};

	for (int i = 0; i < 5; i++) {
		tt_init(&t[i], i);
		timer_arm(&w, &t[i].t, now, delay[i]);
	}
	/* Far past every one of them in one step: all fire, once. */
	ck_assert_uint_eq(run_at(1000000000ull), 4);
	ck_assert(timer_pending(&t[4].t));
	ck_assert_int_eq(timer_wheel_next(&w, now), TIMER_TICK_MS);
	ck_assert_uint_eq(run_at(1000000000ull + TIMER_TICK_MS), 1);
	ck_assert_uint_eq(nfired, 5);
	ck_assert_uint_eq(w.count, 0);
	/* After the jump the wheel works as before. */
	timer_arm(&w, &t[0].t, now, 100);
	ck_assert_int_eq(timer_wheel_next(&w, now), 100);
	ck_assert_uint_eq(run_at(now + 99), 0);
	ck_assert_uint_eq(run_at(now + 1), 1);
	/* A jump of 2^40 ms with a timer armed before and one not due. */
	timer_arm(&w, &t[1].t, now, 10);
	timer_arm(&w, &t[2].t, now, (1ull << 40) + 5000);
	ck_assert_uint_eq(run_at(now + (1ull << 40)), 1);
	ck_assert(timer_pending(&t[2].t));
	ck_assert_uint_eq(run_at(now + 5000), 1);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

START_TEST(test_arm_while_wheel_behind)
{
	struct tt a;

	tt_init(&a, 1);
	/* The wheel last ran at 0; the owner arms at 10000 without running
	 * it first.  The timer is due at 10100, not earlier. */
	timer_arm(&w, &a.t, 10000, 100);
	ck_assert_uint_eq(run_at(10000), 0);
	ck_assert_uint_eq(run_at(10096), 0);
	ck_assert_uint_eq(run_at(10100), 1);
}
END_TEST

START_TEST(test_many_timers)
{
	static struct tt t[1000];
	uint32_t x = 12345;
	uint64_t last = 0;

	/* Expiries on tick boundaries (see test_regression_unaligned_expiry_late
	 * for the others). */
	for (int i = 0; i < 1000; i++) {
		x = x * 1103515245u + 12345u;
		tt_init(&t[i], i);
		timer_arm(&w, &t[i].t, now,
			  (x >> 8) % 5000 * TIMER_TICK_MS);
		if (t[i].t.expires > last)
			last = t[i].t.expires;
	}
	ck_assert_uint_eq(w.count, 1000);
	/* Uneven steps: each timer fires in the first run at or after its
	 * expiry, never before. */
	while (now < last) {
		size_t before = nfired;
		uint64_t prev = now;

		x = x * 1103515245u + 12345u;
		run_at(now + (x >> 8) % 97);
		for (size_t i = before; i < nfired; i++) {
			ck_assert_uint_ge(fired[i].at,
					  t[fired[i].id].t.expires);
			ck_assert_uint_gt(t[fired[i].id].t.expires, prev);
		}
	}
	ck_assert_uint_eq(nfired, 1000);
	ck_assert_uint_eq(w.count, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert(!timer_pending(&t[i].t));
}
END_TEST

/* ---- Regressions: each of these once failed ------------------------------ */

/* A timer whose expiry is not on a tick boundary sits in the slot of the
 * tick its expiry falls in.  Running the wheel in that tick but before the
 * expiry marks the tick processed without firing it, and the slot is not
 * visited again for a whole turn: the timer fires ~4 s late.  The event
 * loop wakes exactly there, because timer_wheel_next() answers with the
 * start of that tick. */
START_TEST(test_regression_unaligned_expiry_late)
{
	struct tt a;

	tt_init(&a, 1);
	timer_arm(&w, &a.t, now, 10);
	for (uint64_t t = 1; t <= 10 + TURN_MS && !nfired; t++)
		run_at(t);
	ck_assert_uint_eq(nfired, 1);
	ck_assert_uint_ge(fired[0].at, 10);
	ck_assert_msg(fired[0].at <= 10 + TIMER_TICK_MS,
		      "timer due at 10 ms fired at %llu ms",
		      (unsigned long long)fired[0].at);
}
END_TEST

START_TEST(test_regression_next_then_run_late)
{
	struct tt a;

	tt_init(&a, 1);
	now = 1001;
	timer_arm(&w, &a.t, now, 1000);
	/* Drive the wheel exactly as the daemon does. */
	while (!nfired) {
		int64_t n = timer_wheel_next(&w, now);

		ck_assert_int_ge(n, 0);
		run_at(now + (uint64_t)n);
	}
	ck_assert_msg(fired[0].at >= 2001 &&
			      fired[0].at <= 2001 + TIMER_TICK_MS,
		      "timer due at 2001 ms fired at %llu ms",
		      (unsigned long long)fired[0].at);
}
END_TEST

/* Two timers due in the same run; the first one's callback cancels the
 * second.  The second must not fire (its owner may have freed it). */
START_TEST(test_regression_cancel_due_from_callback)
{
	struct tt a, b;

	tt_init(&a, 1);
	tt_init(&b, 2);
	timer_init(&a.t, cross_fire, &a);
	timer_init(&b.t, cross_fire, &b);
	a.other = &b;
	b.other = &a;
	timer_arm(&w, &a.t, now, 40);
	timer_arm(&w, &b.t, now, 40);
	ck_assert_uint_eq(run_at(40), 1);
	ck_assert_uint_eq(nfired, 1);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

/* The same with a re-arm: the second timer must fire once, later, and the
 * wheel must stay consistent. */
START_TEST(test_regression_rearm_due_from_callback)
{
	struct tt a, b, c;

	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&c, 3);
	timer_init(&a.t, cross_fire, &a);
	timer_init(&b.t, cross_fire, &b);
	a.other = &b;
	b.other = &a;
	a.other_ms = b.other_ms = 1000;
	timer_arm(&w, &c.t, now, 1040); /* shares the re-armed timer's slot */
	timer_arm(&w, &a.t, now, 40);
	timer_arm(&w, &b.t, now, 40);
	ck_assert_uint_eq(run_at(40), 1);
	ck_assert_uint_eq(w.count, 2);
	ck_assert_uint_eq(run_at(1039), 0);
	ck_assert_uint_eq(run_at(1040), 2);
	ck_assert_uint_eq(nfired, 3);
	ck_assert_uint_eq(w.count, 0);
}
END_TEST

static Suite *timer_suite(void)
{
	Suite *su = suite_create("timer");
	TCase *tc = tcase_create("wheel");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init_empty);
	tcase_add_test(tc, test_fire_order);
	tcase_add_test(tc, test_fire_order_one_run);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_middle_of_chain);
	tcase_add_test(tc, test_rearm_pending);
	tcase_add_test(tc, test_rearm_from_callback);
	tcase_add_test(tc, test_rearm_zero_from_callback);
	tcase_add_test(tc, test_callback_cancels_itself);
	tcase_add_test(tc, test_callback_arms_other);
	tcase_add_test(tc, test_far_timers);
	tcase_add_test(tc, test_far_timer_big_steps);
	tcase_add_test(tc, test_next_values);
	tcase_add_test(tc, test_next_far_timer);
	tcase_add_test(tc, test_large_jumps);
	tcase_add_test(tc, test_arm_while_wheel_behind);
	tcase_add_test(tc, test_many_timers);
	tcase_add_test(tc, test_regression_unaligned_expiry_late);
	tcase_add_test(tc, test_regression_next_then_run_late);
	tcase_add_test(tc, test_regression_cancel_due_from_callback);
	tcase_add_test(tc, test_regression_rearm_due_from_callback);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(timer_suite());
}
