/*
 * Published data shared between modules; see pubsub.h.
 *
 * Entries live in a chained hash table whose bucket array doubles (up to
 * TAPIR_ENTRIES_MAX buckets) when it holds as many entries as buckets.  An
 * entry is one allocation holding its topic and key, plus the value copy
 * (with a NUL byte after it), which a replacement swaps.  Watches are one
 * list; a watch removed while callbacks run is only marked dead and freed
 * once the outermost notification returns.
 */
#include "daemon/pubsub.h"
#include "daemon/entropy.h"
#include "daemon/log.h"
#include "tapir/siphash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PUBSUB_MIN_BUCKETS 64u

struct ps_entry {
	struct ps_entry *next;
	const void *owner;
	uint64_t hash;
	uint8_t *value;
	size_t len;
	char *key;
	char topic[]; /* then the key */
};

struct tapir_watch {
	struct tapir_watch *next;
	struct pubsub *ps;
	const void *owner;
	tapir_watch_fn fn;
	void *arg;
	bool dead;
	char topic[TAPIR_TOPIC_MAX + 1];
};

struct pubsub {
	struct ps_entry **bucket;
	size_t nbuckets; /* a power of two */
	size_t nentries;
	struct tapir_watch *watches;
	size_t nwatches;  /* live ones */
	unsigned depth;   /* callbacks running (nested) */
	unsigned replays; /* watch() replaying entries: no change allowed */
	bool dead_watches;
	const char *busy[PUBSUB_MAX_DEPTH]; /* topics being notified */
	uint8_t key[TAPIR_SIPHASH_KEY_LEN];
};

static bool valid_name(const char *s, size_t max)
{
	return s && s[0] && strnlen(s, max + 1) <= max;
}

static uint64_t entry_hash(const struct pubsub *ps, const char *topic,
			   const char *key)
{
	char buf[TAPIR_TOPIC_MAX + 1 + TAPIR_KEY_MAX + 1];
	size_t tl = strlen(topic), kl = strlen(key);

	/* Callers validated both lengths; the NUL separates them. */
	memcpy(buf, topic, tl + 1);
	memcpy(buf + tl + 1, key, kl);
	return tapir_siphash24(buf, tl + 1 + kl, ps->key);
}

struct pubsub *pubsub_new(void)
{
	struct pubsub *ps = calloc(1, sizeof(*ps));
	char err[256];

	if (!ps)
		return NULL;
	ps->nbuckets = PUBSUB_MIN_BUCKETS;
	ps->bucket = calloc(ps->nbuckets, sizeof(*ps->bucket));
	if (!ps->bucket) {
		free(ps);
		return NULL;
	}
	/* The table's hash key: without it, a module publishing names a
	 * client picks could be made to fill one chain. */
	if (entropy_fill(ps->key, sizeof(ps->key), err, sizeof(err)) < 0) {
		log_err("%s; published data (pubsub) is unavailable", err);
		free(ps->bucket);
		free(ps);
		return NULL;
	}
	return ps;
}

static void entry_free(struct ps_entry *e)
{
	free(e->value);
	free(e);
}

static void sweep_watches(struct pubsub *ps)
{
	struct tapir_watch **pp = &ps->watches;

	while (*pp) {
		struct tapir_watch *w = *pp;

		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
	ps->dead_watches = false;
}

void pubsub_free(struct pubsub *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nbuckets; i++) {
		while (ps->bucket[i]) {
			struct ps_entry *e = ps->bucket[i];

			ps->bucket[i] = e->next;
			entry_free(e);
		}
	}
	while (ps->watches) {
		struct tapir_watch *w = ps->watches;

		ps->watches = w->next;
		free(w);
	}
	free(ps->bucket);
	free(ps);
}

static struct ps_entry **find(const struct pubsub *ps, uint64_t hash,
			      const char *topic, const char *key)
{
	struct ps_entry **pp = &ps->bucket[hash & (ps->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == hash && strcmp((*pp)->topic, topic) == 0 &&
		    strcmp((*pp)->key, key) == 0)
			return pp;
	return pp;
}

static void grow(struct pubsub *ps)
{
	size_t n = ps->nbuckets * 2;
	struct ps_entry **nb;

	if (ps->nbuckets >= TAPIR_ENTRIES_MAX)
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < ps->nbuckets; i++) {
		while (ps->bucket[i]) {
			struct ps_entry *e = ps->bucket[i];

			ps->bucket[i] = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(ps->bucket);
	ps->bucket = nb;
	ps->nbuckets = n;
}

static bool topic_busy(const struct pubsub *ps, const char *topic)
{
	if (ps->replays)
		return true;
	for (unsigned i = 0; i < ps->depth && i < PUBSUB_MAX_DEPTH; i++)
		if (strcmp(ps->busy[i], topic) == 0)
			return true;
	return ps->depth >= PUBSUB_MAX_DEPTH;
}

/* Tell every live watcher of topic; value NULL: removed. */
static void notify(struct pubsub *ps, const char *topic, const char *key,
		   const void *value, size_t len)
{
	ps->busy[ps->depth++] = topic;
	for (struct tapir_watch *w = ps->watches; w; w = w->next)
		if (!w->dead && strcmp(w->topic, topic) == 0)
			w->fn(w->arg, topic, key, value, len);
	ps->depth--;
	if (ps->depth == 0 && ps->dead_watches)
		sweep_watches(ps);
}

int pubsub_publish(struct pubsub *ps, const void *owner, const char *topic,
		   const char *key, const void *value, size_t len)
{
	struct ps_entry **pp, *e;
	uint64_t hash;
	uint8_t *copy;

	if (!valid_name(topic, TAPIR_TOPIC_MAX) ||
	    !valid_name(key, TAPIR_KEY_MAX) || (!value && len))
		return -EINVAL;
	if (len > TAPIR_VALUE_MAX)
		return -E2BIG;
	if (topic_busy(ps, topic))
		return -EBUSY;
	hash = entry_hash(ps, topic, key);
	pp = find(ps, hash, topic, key);
	e = *pp;
	if (e && e->owner != owner)
		return -EPERM;
	if (!e && ps->nentries >= TAPIR_ENTRIES_MAX)
		return -ENOSPC;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, value, len);
	copy[len] = 0;
	if (!e) {
		size_t tl = strlen(topic), kl = strlen(key);

		e = calloc(1, sizeof(*e) + tl + 1 + kl + 1);
		if (!e) {
			free(copy);
			return -ENOMEM;
		}
		memcpy(e->topic, topic, tl + 1);
		e->key = e->topic + tl + 1;
		memcpy(e->key, key, kl + 1);
		e->owner = owner;
		e->hash = hash;
		*pp = e;
		ps->nentries++;
		if (ps->nentries >= ps->nbuckets)
			grow(ps);
	}
	free(e->value);
	e->value = copy;
	e->len = len;
	notify(ps, e->topic, e->key, e->value, e->len);
	return 0;
}

int pubsub_unpublish(struct pubsub *ps, const void *owner, const char *topic,
		     const char *key)
{
	struct ps_entry **pp, *e;

	if (!valid_name(topic, TAPIR_TOPIC_MAX) ||
	    !valid_name(key, TAPIR_KEY_MAX))
		return 0;
	pp = find(ps, entry_hash(ps, topic, key), topic, key);
	e = *pp;
	if (!e)
		return 0;
	if (e->owner != owner)
		return -EPERM;
	if (topic_busy(ps, topic))
		return -EBUSY;
	*pp = e->next;
	ps->nentries--;
	notify(ps, e->topic, e->key, NULL, 0);
	entry_free(e);
	return 0;
}

struct tapir_watch *pubsub_watch(struct pubsub *ps, const void *owner,
				 const char *topic, tapir_watch_fn fn,
				 void *arg)
{
	struct tapir_watch *w;

	if (!fn || !valid_name(topic, TAPIR_TOPIC_MAX)) {
		errno = EINVAL;
		return NULL;
	}
	if (ps->nwatches >= TAPIR_WATCHES_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->ps = ps;
	w->owner = owner;
	w->fn = fn;
	w->arg = arg;
	memcpy(w->topic, topic, strlen(topic) + 1);
	/* Replay what is there; nothing may change meanwhile. */
	ps->replays++;
	for (size_t i = 0; i < ps->nbuckets; i++)
		for (struct ps_entry *e = ps->bucket[i]; e; e = e->next)
			if (strcmp(e->topic, topic) == 0)
				fn(arg, e->topic, e->key, e->value, e->len);
	ps->replays--;
	w->next = ps->watches;
	ps->watches = w;
	ps->nwatches++;
	return w;
}

void pubsub_unwatch(struct tapir_watch *w)
{
	struct pubsub *ps;

	if (!w || w->dead)
		return;
	ps = w->ps;
	w->dead = true;
	ps->nwatches--;
	ps->dead_watches = true;
	if (ps->depth == 0)
		sweep_watches(ps);
}

const void *pubsub_lookup(const struct pubsub *ps, const char *topic,
			  const char *key, size_t *len)
{
	struct ps_entry *e;

	if (len)
		*len = 0;
	if (!ps || !valid_name(topic, TAPIR_TOPIC_MAX) ||
	    !valid_name(key, TAPIR_KEY_MAX))
		return NULL;
	e = *find(ps, entry_hash(ps, topic, key), topic, key);
	if (!e)
		return NULL;
	if (len)
		*len = e->len;
	return e->value;
}

void pubsub_drop_owner(struct pubsub *ps, const void *owner)
{
	if (!ps)
		return;
	for (struct tapir_watch *w = ps->watches; w; w = w->next) {
		if (w->owner == owner && !w->dead) {
			w->dead = true;
			ps->nwatches--;
			ps->dead_watches = true;
		}
	}
	if (ps->depth == 0 && ps->dead_watches)
		sweep_watches(ps);
	for (size_t i = 0; i < ps->nbuckets; i++) {
		struct ps_entry **pp = &ps->bucket[i];

		while (*pp) {
			struct ps_entry *e = *pp;

			if (e->owner != owner) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			ps->nentries--;
			/* Watchers may not change the table here: treat
			 * every topic as busy while the sweep runs. */
			ps->replays++;
			notify(ps, e->topic, e->key, NULL, 0);
			ps->replays--;
			entry_free(e);
		}
	}
}

size_t pubsub_entries(const struct pubsub *ps)
{
	return ps ? ps->nentries : 0;
}

size_t pubsub_watches(const struct pubsub *ps)
{
	return ps ? ps->nwatches : 0;
}

void pubsub_foreach(const struct pubsub *ps, const char *topic,
		    void (*fn)(void *arg, const char *key, const char *value,
			       size_t len),
		    void *arg)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nbuckets; i++)
		for (const struct ps_entry *e = ps->bucket[i]; e; e = e->next)
			if (strcmp(e->topic, topic) == 0)
				fn(arg, e->key, (const char *)e->value, e->len);
}
