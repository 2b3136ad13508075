/*
 * tapirctl stats --interval: the counters of one "stats" answer, and the
 * rates between two of them.
 *
 * A sample is read from the text report (one "NAME[ reason=R]   VALUE" a
 * line; a counter the text leaves out is zero).  The tcp_connections lines
 * are gauges, not counters, and are left out.
 */
#ifndef TAPIR_CTLRATES_H
#define TAPIR_CTLRATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTR_SAMPLE_MAX 4096 /* counters kept per sample */

struct ctr_entry {
	char *name;
	uint64_t v;
};

struct ctr_sample {
	struct ctr_entry *c;
	size_t n;
};

/* Read text (changed in place) into s, which must be empty.  0, or -1
 * when a line does not read or memory runs out (s then holds what was
 * read; ctr_sample_free() it either way). */
int ctr_sample_parse(struct ctr_sample *s, char *text);
void ctr_sample_free(struct ctr_sample *s);
/* The value of counter name in s; 0 when s does not have it. */
uint64_t ctr_sample_get(const struct ctr_sample *s, const char *name);

/* Print each counter of cur that changed since prev, as its change per
 * second over secs (> 0): a text block headed by `when` and the span, or
 * one line of JSON {"time":when,"interval_seconds":secs,"rates":{...}}.
 * A counter that went down (tapird started again) counts from zero. */
void ctr_rates_print(FILE *f, const struct ctr_sample *prev,
		     const struct ctr_sample *cur, double secs,
		     const char *when, bool json);

#endif
