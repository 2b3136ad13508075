/*
 * Reports on the running daemon, shared by the control socket (tapirctl)
 * and modules (the http module's /status and /metrics): status, counters,
 * the ARP cache, TCP connections and DHCP leases, as aligned text tables,
 * as JSON, or as Prometheus text exposition format.
 */
#ifndef TAPIR_REPORT_H
#define TAPIR_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/strbuf.h"

struct stack;
struct modules;

enum report_fmt { REPORT_TEXT, REPORT_JSON, REPORT_PROMETHEUS };

/* One published entry of a topic, for lease reports. */
typedef void (*report_entry_fn)(void *arg, const char *key, const char *value,
				size_t len);

struct report_src {
	struct stack *s;
	const struct modules *mods;
	const char *ifname;
	bool offload;
	uint64_t started_ms; /* the stack's clock at start */
	/* Visit every "dhcp.lease" entry; NULL when none can exist. */
	void (*leases)(const struct report_src *r, report_entry_fn fn,
		       void *arg);
	void *leases_arg;
};

/* Append the report `what` (status, stats, arp, connections, leases; or
 * metrics, whose only format is REPORT_PROMETHEUS) to b.  -1 for an
 * unknown report or format. */
int report(struct strbuf *b, const struct report_src *r, const char *what,
	   enum report_fmt fmt);

/* Connections listed at most, in text and JSON (the count is complete). */
#define REPORT_MAX_CONNS 10000

#endif
