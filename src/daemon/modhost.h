/*
 * Module loader and the reload transaction.
 *
 * modules_prepare() loads (dlopen) and checks every module a new
 * configuration names, collecting FILE:LINE errors and touching nothing
 * that runs.  Only when it succeeded for the whole file does the caller
 * modules_commit() the transaction, in three passes: removed modules (or
 * ones whose path changed) are stopped, the kept ones whose section
 * changed reconfigured, then new ones initialised, so a port a module gives
 * up is free for a newcomer.  modules_abort() throws a prepared
 * transaction away and leaves the running set exactly as it was.
 *
 * The running list is in load order, not in the configuration's: a module
 * a reload keeps stays where it was, and new ones are appended in the
 * order the configuration lists them.
 */
#ifndef TAPIR_MODULE_LOADER_H
#define TAPIR_MODULE_LOADER_H

#include <stddef.h>

#include "daemon/conf.h"
#include "daemon/modconf.h"
#include "lib/strbuf.h"
#include "net/stack.h"
#include "tapir/module.h"

struct pubsub;
struct tcp_conn;

/* The reports modules may ask for (the host API's report call), given by
 * the daemon: the host checks the request and owns the buffer, render()
 * writes report `what` ("status" as JSON, "status.html" as an HTML page,
 * "metrics" in the Prometheus text format) into b and returns 0, or -1 when it cannot. */
struct modules_reporter {
	int (*render)(void *ctx, struct strbuf *b, const char *what);
	void *ctx;
};

struct modules {
	struct stack *stack;      /* NULL in `tapird -t` */
	struct tapir_host *list;  /* running instances, in load order */
	struct pubsub *pubsub;    /* published data, or NULL */
	struct modules_reporter report; /* the report call; no render(): none */
	struct tapir_icmp6 *rs;   /* the Router Solicitation receiver */
	struct tapir_ping *pings; /* echo requests awaiting replies */
	unsigned npings;
	uint16_t ping_id, ping_seq;
};

struct module_prep {
	char *name;
	char *path;
	void *dl;
	const struct tapir_module *desc;
	struct modconf mc; /* the section read against the module's settings */
	char *text; /* canonical form of the section, for change detection */
};

struct module_txn {
	struct module_prep *p;
	size_t n;
};

void modules_init(struct modules *set, struct stack *stack);
/* Load and check every module of conf.  0 when all pass; otherwise -1 with
 * errors added (the transaction must still be aborted). */
int modules_prepare(struct modules *set, const struct conf *conf,
		    struct conf_errors *errs, struct module_txn *txn);
/* Apply a prepared transaction.  Returns the number of modules whose
 * init or reconfigure failed (each logged; a failed reconfigure keeps the
 * module's old settings, a failed init leaves the module out). */
int modules_commit(struct modules *set, struct module_txn *txn);
void modules_abort(struct module_txn *txn);
/* Stop and unload every running module. */
void modules_stop_all(struct modules *set);
size_t modules_count(const struct modules *set);
/* Comma-separated names of the running modules into buf. */
void modules_names(const struct modules *set, char *buf, size_t len);
/* Log every module counter (SIGUSR1). */
void modules_log_counters(const struct modules *set);
/* Visit every module counter, and every running module, in load order. */
typedef void (*module_counter_fn)(void *arg, const char *module,
				  const char *name, uint64_t v);
void modules_foreach_counter(const struct modules *set,
			     module_counter_fn fn, void *arg);
/* Visit every module histogram (host API 6), in load order; help is
 * NULL when the module gave none. */
typedef void (*module_histogram_fn)(void *arg, const char *module,
				    const char *name, const char *help,
				    const struct tapir_histogram *h);
void modules_foreach_histogram(const struct modules *set,
			       module_histogram_fn fn, void *arg);
void modules_foreach(const struct modules *set,
		     void (*fn)(void *arg, const char *name), void *arg);
/* The name of the module that owns connection c (one it accepted on a
 * listener, or opened), or NULL. */
const char *modules_conn_owner(const struct modules *set,
			       const struct tcp_conn *c);

#endif
