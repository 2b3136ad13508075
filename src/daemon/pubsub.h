/*
 * Published data shared between modules (the host API's publish, watch
 * and lookup): a hash table of (topic, key) -> value entries, each owned
 * by the module that published it, and watches that are told of every
 * change of a topic.
 *
 * The owner is an opaque pointer (the module's struct tapir_host); the
 * module loader drops everything an owner holds when the module stops
 * (pubsub_drop_owner).  Every size is bounded (TAPIR_TOPIC_MAX, TAPIR_KEY_MAX,
 * TAPIR_VALUE_MAX, TAPIR_ENTRIES_MAX, TAPIR_WATCHES_MAX in tapir/module.h),
 * so whoever can make a module publish cannot make tapird allocate without
 * a limit, and the table is spread with a secret SipHash key, so chosen keys
 * cannot pile up in one chain.
 *
 * Re-entrancy: watch callbacks may unwatch (any watch) and publish to other
 * topics; publish or unpublish to a topic whose callbacks are running is
 * refused with -EBUSY, and while watch() replays a topic's entries to a new
 * watcher every change is refused, so no iteration ever sees the table move
 * under it.  Nesting is bounded (PUBSUB_MAX_DEPTH).
 */
#ifndef TAPIR_PUBSUB_H
#define TAPIR_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include "tapir/module.h"

#define PUBSUB_MAX_DEPTH 4

struct pubsub;

/* An empty table with a random hash key.  NULL when memory runs out or
 * the kernel gives no random bytes (said in the log: there is no weaker
 * fallback key). */
struct pubsub *pubsub_new(void);
/* Free the table and whatever is left in it, without callbacks. */
void pubsub_free(struct pubsub *ps);

/* As the host API's publish/unpublish/watch/unwatch/lookup, for owner. */
int pubsub_publish(struct pubsub *ps, const void *owner, const char *topic,
		   const char *key, const void *value, size_t len);
/* 0 (removed, or nothing to remove), -EPERM (another owner's), -EBUSY. */
int pubsub_unpublish(struct pubsub *ps, const void *owner, const char *topic,
		     const char *key);
struct tapir_watch *pubsub_watch(struct pubsub *ps, const void *owner,
				 const char *topic, tapir_watch_fn fn,
				 void *arg);
void pubsub_unwatch(struct tapir_watch *w);
const void *pubsub_lookup(const struct pubsub *ps, const char *topic,
			  const char *key, size_t *len);

/* The owner stops: its watches go first (it is not told anything more),
 * then its entries, each removal told to the remaining watchers. */
void pubsub_drop_owner(struct pubsub *ps, const void *owner);

/* Every entry of topic, for reports (values as stored, each followed by a
 * NUL byte); fn must not change the table.  ps may be NULL. */
void pubsub_foreach(const struct pubsub *ps, const char *topic,
		    void (*fn)(void *arg, const char *key, const char *value,
			       size_t len),
		    void *arg);

size_t pubsub_entries(const struct pubsub *ps);
size_t pubsub_watches(const struct pubsub *ps);

#endif
