/*
 * A latency histogram with fixed, log-spaced buckets, as Prometheus
 * exposes histograms (cumulative _bucket{le=...}, _sum, _count).
 *
 * Bucket i holds the observations of more than 2^(i+3) and at most
 * 2^(i+4) microseconds (bucket 0: at most 16 us); the last finite
 * bucket ends at 2^(TAPIR_HIST_BUCKETS+3) us (33.55 s) and one more
 * holds everything above it (le="+Inf").  Powers of two make the index
 * one count of leading zeros: observing costs no allocation, no loop
 * and no division, so it fits any hot path.  The buckets are kept
 * per bucket, not cumulative; whoever exposes them adds them up.
 *
 * Header-only, like <tapir/siphash.h>: the stack core (TCP round-trip
 * samples) and modules (through the host API's histogram(), version 6)
 * share it.  A module gets its histogram from tapird and observes into
 * it directly; tapird owns the memory and exposes it in /metrics.
 */
#ifndef TAPIR_HISTOGRAM_H
#define TAPIR_HISTOGRAM_H

#include <stdint.h>

/* Finite buckets: upper bounds 16 us, 32 us, ..., 33554432 us. */
#define TAPIR_HIST_BUCKETS 22
#define TAPIR_HIST_MIN_SHIFT 4 /* the first bound is 2^4 us */

struct tapir_histogram {
	uint64_t count;  /* observations */
	uint64_t sum_us; /* their sum, in microseconds */
	/* bucket[TAPIR_HIST_BUCKETS]: above the last bound (+Inf only) */
	uint64_t bucket[TAPIR_HIST_BUCKETS + 1];
};

/* The upper bound of finite bucket i (0..TAPIR_HIST_BUCKETS-1), in us. */
static inline uint64_t tapir_hist_bound_us(unsigned i)
{
	return (uint64_t)1 << (i + TAPIR_HIST_MIN_SHIFT);
}

/* The bucket an observation of us microseconds falls in: the smallest i
 * with us <= bound(i), or TAPIR_HIST_BUCKETS above the last bound. */
static inline unsigned tapir_hist_index(uint64_t us)
{
	unsigned bits;

	if (us <= ((uint64_t)1 << TAPIR_HIST_MIN_SHIFT))
		return 0;
	/* us - 1 >= 16 has `bits` significant bits: 2^(bits-1) < us <=
	 * 2^bits, so us belongs to the bucket whose bound is 2^bits. */
	bits = 64u - (unsigned)__builtin_clzll(us - 1);
	bits -= TAPIR_HIST_MIN_SHIFT;
	return bits < TAPIR_HIST_BUCKETS ? bits : TAPIR_HIST_BUCKETS;
}

static inline void tapir_hist_observe(struct tapir_histogram *h, uint64_t us)
{
	if (!h)
		return;
	h->bucket[tapir_hist_index(us)]++;
	h->count++;
	h->sum_us += us;
}

#endif
