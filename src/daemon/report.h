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
struct tcp_conn;

enum report_fmt { REPORT_TEXT, REPORT_JSON, REPORT_PROMETHEUS, REPORT_HTML };

/* One published entry of a topic, for lease reports. */
typedef void (*report_entry_fn)(void *arg, const char *key, const char *value,
				size_t len);

/* One running module, and one counter of a module, for the visitor. */
typedef void (*report_module_fn)(void *arg, const char *name);
typedef void (*report_counter_fn)(void *arg, const char *module,
				  const char *name, uint64_t v);
struct tapir_histogram;
typedef void (*report_histogram_fn)(void *arg, const char *module,
				    const char *name, const char *help,
				    const struct tapir_histogram *h);

/* The running modules as a report sees them, given by whoever owns them
 * (tapird hands over the module host's; tests, a fake), so reports need
 * no module loader.  Each call visits in load order; a NULL function means
 * no modules. */
struct report_modules {
	void (*foreach)(const void *ctx, report_module_fn fn, void *arg);
	/* Every counter of every module, a module's together. */
	void (*foreach_counter)(const void *ctx, report_counter_fn fn,
				void *arg);
	const void *ctx;
	/* The name of the module that owns connection c, or NULL when none
	 * does (any more); NULL function: owners unknown. */
	const char *(*conn_owner)(const void *ctx, const struct tcp_conn *c);
	/* Every histogram of every module (host API 6), a module's
	 * together; NULL: none.  help is NULL when the module gave none. */
	void (*foreach_histogram)(const void *ctx, report_histogram_fn fn,
				  void *arg);
};

struct report_src {
	struct stack *s;
	struct report_modules mods;
	const char *ifname;
	bool offload;
	uint64_t started_ms; /* the stack's clock at start */
	/* Visit every "dhcp.lease" entry; NULL when none can exist. */
	void (*leases)(const struct report_src *r, report_entry_fn fn,
		       void *arg);
	void *leases_arg;
	/* The SHA-256 fingerprint of the self-signed TLS certificate, or
	 * NULL when none was made (or the function is NULL). */
	const char *(*tls_fingerprint)(void);
};

/* Which connections the connections report lists: those in state (a
 * tcp_state; -1: any) with port (-1: any) as the local or the remote
 * port. */
struct report_conn_filter {
	int state;
	int port;
};

#define REPORT_CONN_FILTER_ALL ((struct report_conn_filter){-1, -1})

/* Read one request word into f: "state=NAME" (a state as the report
 * writes it, in any case, '-' for '_') or "port=N" (1..65535).  0, or -1
 * with a one-line reason in err. */
int report_conn_filter_parse(struct report_conn_filter *f, const char *word,
			     char *err, size_t errlen);

/* The connections report with a filter (report() lists them all). */
void report_connections(struct strbuf *b, const struct report_src *r,
			enum report_fmt fmt,
			const struct report_conn_filter *f);

/* Append the report `what` (status, stats, arp, connections, leases; or
 * metrics, whose only format is REPORT_PROMETHEUS; status also as
 * REPORT_HTML, a page for browsers) to b.  -1 for an
 * unknown report or format. */
int report(struct strbuf *b, const struct report_src *r, const char *what,
	   enum report_fmt fmt);

/* Connections listed at most, in text and JSON (the count is complete). */
#define REPORT_MAX_CONNS 10000
/* ... and on the HTML status page. */
#define REPORT_HTML_CONNS 200

#endif
