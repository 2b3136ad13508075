/*
 * A hashed timer wheel driven by a clock the owner supplies.
 *
 * TIMER_SLOTS slots of TIMER_TICK_MS each; a timer lives in the slot of its
 * expiry tick, and timers further out than one turn simply stay in their
 * slot until the turn that is theirs (each is compared with the current time
 * when its slot comes up).  Arm and cancel are O(1).  timer_wheel_run() walks
 * only the slots between the last run and now, and a bitmap of non-empty
 * slots lets timer_wheel_next() tell the event loop how long it may sleep
 * without scanning timers.  Nothing here knows about libevent: the daemon
 * arms one libevent timer for timer_wheel_next(), unit tests just advance
 * their clock and call timer_wheel_run().
 */
#ifndef TAPIR_TIMER_H
#define TAPIR_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_TICK_MS 4
#define TIMER_SLOTS 1024

struct timer;
typedef void (*timer_fn)(struct timer *t, void *arg);

struct timer {
	struct timer *next;
	struct timer **pprev; /* NULL when not armed */
	uint64_t expires;     /* ms on the wheel's clock */
	size_t slot;          /* where it is linked */
	timer_fn fn;
	void *arg;
};

struct timer_wheel {
	struct timer *slot[TIMER_SLOTS];
	uint64_t used[TIMER_SLOTS / 64]; /* bit set: slot non-empty */
	uint64_t tick;                   /* last tick processed */
	size_t count;                    /* armed timers */
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ms);
void timer_init(struct timer *t, timer_fn fn, void *arg);
/* (Re)arm t to fire at now_ms + delay_ms. */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t now_ms,
	       uint64_t delay_ms);
void timer_cancel(struct timer_wheel *w, struct timer *t);

static inline bool timer_pending(const struct timer *t)
{
	return t->pprev != NULL;
}

/* Fire every timer due at now_ms.  A callback may arm or cancel any timer,
 * including its own.  Returns the number fired. */
size_t timer_wheel_run(struct timer_wheel *w, uint64_t now_ms);
/* Milliseconds from now_ms until the wheel next needs running (0 when
 * something is due), or -1 when no timer is armed. */
int64_t timer_wheel_next(const struct timer_wheel *w, uint64_t now_ms);

#endif
