/* Hashed timer wheel; see timer.h for the theory of operation. */
#include "net/timer.h"

#include <string.h>

static size_t slot_of(uint64_t tick)
{
	return (size_t)(tick % TIMER_SLOTS);
}

static void mark(struct timer_wheel *w, size_t s, bool on)
{
	uint64_t bit = 1ull << (s % 64);

	if (on)
		w->used[s / 64] |= bit;
	else
		w->used[s / 64] &= ~bit;
}

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	w->tick = now_ms / TIMER_TICK_MS;
}

void timer_init(struct timer *t, timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

static void unlink_timer(struct timer_wheel *w, struct timer *t)
{
	size_t s = t->slot;

	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	w->count--;
	if (!w->slot[s])
		mark(w, s, false);
}

void timer_cancel(struct timer_wheel *w, struct timer *t)
{
	if (t->pprev)
		unlink_timer(w, t);
}

void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t now_ms,
	       uint64_t delay_ms)
{
	uint64_t tick;
	size_t s;

	timer_cancel(w, t);
	t->expires = now_ms + delay_ms;
	/* The first tick at whose start the timer is due (round up), so a
	 * run at that tick always finds it expired. */
	tick = (t->expires + TIMER_TICK_MS - 1) / TIMER_TICK_MS;
	/* A timer due in a tick already processed goes into the next one. */
	if (tick <= w->tick)
		tick = w->tick + 1;
	s = slot_of(tick);
	t->slot = s;
	t->next = w->slot[s];
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = &w->slot[s];
	w->slot[s] = t;
	w->count++;
	mark(w, s, true);
}

size_t timer_wheel_run(struct timer_wheel *w, uint64_t now_ms)
{
	uint64_t now_tick = now_ms / TIMER_TICK_MS;
	uint64_t steps;
	size_t fired = 0;

	if (now_tick <= w->tick)
		return 0;
	steps = now_tick - w->tick;
	if (steps > TIMER_SLOTS)
		steps = TIMER_SLOTS;
	for (uint64_t i = 1; i <= steps; i++) {
		uint64_t tick = now_tick - steps + i;
		size_t s = slot_of(tick);
		struct timer *due = NULL, *t, *next;

		/* Move what is due onto a private list first (callbacks may
		 * re-arm into this very slot), but keep each timer linked and
		 * counted there, so a callback can still cancel or re-arm any
		 * of them before its turn. */
		for (t = w->slot[s]; t; t = next) {
			next = t->next;
			if (t->expires > now_ms)
				continue;
			*t->pprev = t->next;
			if (t->next)
				t->next->pprev = t->pprev;
			t->next = due;
			if (due)
				due->pprev = &t->next;
			t->pprev = &due;
			due = t;
		}
		if (!w->slot[s])
			mark(w, s, false);
		/* The tick counts as processed before any callback runs, so
		 * a timer armed from one lands in a later tick. */
		w->tick = tick;
		while ((t = due) != NULL) {
			unlink_timer(w, t);
			fired++;
			t->fn(t, t->arg);
		}
	}
	w->tick = now_tick;
	return fired;
}

int64_t timer_wheel_next(const struct timer_wheel *w, uint64_t now_ms)
{
	uint64_t now_tick = now_ms / TIMER_TICK_MS;

	if (!w->count)
		return -1;
	if (now_tick > w->tick && now_tick - w->tick >= TIMER_SLOTS)
		return 0;
	/* The first non-empty slot after the last processed tick. */
	for (uint64_t i = 1; i <= TIMER_SLOTS; i++) {
		uint64_t tick = w->tick + i;
		size_t s = slot_of(tick);
		uint64_t word = w->used[s / 64] >> (s % 64);

		if (!word) {
			/* Skip to the next word boundary. */
			i += 63 - (s % 64);
			continue;
		}
		if (!(word & 1))
			continue;
		if (tick <= now_tick)
			return 0;
		return (int64_t)(tick * TIMER_TICK_MS - now_ms);
	}
	return 0;
}
