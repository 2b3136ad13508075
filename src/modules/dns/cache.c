/*
 * The cache of forwarded answers; see cache.h.
 *
 * A chained hash table whose bucket count is a power of two of at least
 * max_entries (chains stay short: the hash is keyed), and a doubly linked
 * list in order of use.  An entry is one allocation: the struct, the TTL
 * offsets, the key's name and the message.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"

struct ent {
	struct ent *hnext;
	struct ent *prev, *next; /* use order: head most recent */
	uint64_t hash;
	size_t size;
	struct dns_cache_ent pub;
	struct dns_ckey_small {
		uint16_t type, class;
		uint8_t bits, nlen;
	} k;
	/* then: uint16_t ttl_off[nttl], uint8_t name[nlen], msg[end] */
	uint16_t data[];
};

struct dns_cache {
	struct ent **bucket;
	size_t nbuckets; /* a power of two */
	struct ent *head, *tail;
	unsigned count, max_entries;
	size_t bytes, max_bytes;
	uint8_t key[TAPIR_SIPHASH_KEY_LEN];
};

void dns_ckey_make(struct dns_ckey *k, const uint8_t *qname, uint16_t type,
		   uint16_t class, uint8_t bits)
{
	k->nlen = dns_name_len(qname);
	memcpy(k->name, qname, k->nlen);
	dns_name_lower(k->name);
	k->type = type;
	k->class = class;
	k->bits = bits;
}

uint64_t dns_ckey_hash(const struct dns_ckey *k,
		       const uint8_t key[TAPIR_SIPHASH_KEY_LEN])
{
	uint8_t buf[DNS_NAME_MAX + 5];

	memcpy(buf, k->name, k->nlen);
	buf[k->nlen] = (uint8_t)(k->type >> 8);
	buf[k->nlen + 1] = (uint8_t)k->type;
	buf[k->nlen + 2] = (uint8_t)(k->class >> 8);
	buf[k->nlen + 3] = (uint8_t)k->class;
	buf[k->nlen + 4] = k->bits;
	return tapir_siphash24(buf, k->nlen + 5, key);
}

bool dns_ckey_eq(const struct dns_ckey *a, const struct dns_ckey *b)
{
	return a->type == b->type && a->class == b->class &&
	       a->bits == b->bits && a->nlen == b->nlen &&
	       memcmp(a->name, b->name, a->nlen) == 0;
}

static const uint8_t *ent_name(const struct ent *e)
{
	return (const uint8_t *)(e->data + e->pub.v.nttl);
}

static bool ent_is(const struct ent *e, uint64_t h, const struct dns_ckey *k)
{
	return e->hash == h && e->k.type == k->type &&
	       e->k.class == k->class && e->k.bits == k->bits &&
	       e->k.nlen == k->nlen &&
	       memcmp(ent_name(e), k->name, k->nlen) == 0;
}

struct dns_cache *dns_cache_new(unsigned max_entries, size_t max_bytes,
				const uint8_t key[TAPIR_SIPHASH_KEY_LEN])
{
	struct dns_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nbuckets = 16;
	while (c->nbuckets < max_entries)
		c->nbuckets <<= 1;
	c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
	if (!c->bucket) {
		free(c);
		return NULL;
	}
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	memcpy(c->key, key, TAPIR_SIPHASH_KEY_LEN);
	return c;
}

static void unlink_use(struct dns_cache *c, struct ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_front(struct dns_cache *c, struct ent *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void drop(struct dns_cache *c, struct ent *e)
{
	struct ent **pp = &c->bucket[e->hash & (c->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_use(c, e);
	c->count--;
	c->bytes -= e->size;
	free(e);
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	while (c->head)
		drop(c, c->head);
	free(c->bucket);
	free(c);
}

static struct ent *find(struct dns_cache *c, const struct dns_ckey *k,
			uint64_t h)
{
	for (struct ent *e = c->bucket[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (ent_is(e, h, k))
			return e;
	return NULL;
}

const struct dns_cache_ent *dns_cache_get(struct dns_cache *c,
					  const struct dns_ckey *k,
					  uint64_t now_ms)
{
	uint64_t h = dns_ckey_hash(k, c->key);
	struct ent *e = find(c, k, h);

	if (!e)
		return NULL;
	if (now_ms >= e->pub.expires_ms) {
		drop(c, e);
		return NULL;
	}
	unlink_use(c, e);
	push_front(c, e);
	return &e->pub;
}

int dns_cache_put(struct dns_cache *c, const struct dns_ckey *k,
		  const struct dns_fview *v, uint32_t ttl, uint64_t now_ms)
{
	uint64_t h = dns_ckey_hash(k, c->key);
	size_t size = sizeof(struct ent) + v->nttl * sizeof(uint16_t) +
		      k->nlen + v->end;
	struct ent *e, *old;
	uint8_t *p;

	if (!c->max_entries || size > c->max_bytes || !ttl)
		return -1;
	old = find(c, k, h);
	if (old)
		drop(c, old);
	while (c->tail && (c->count >= c->max_entries ||
			   c->bytes + size > c->max_bytes))
		drop(c, c->tail);
	e = malloc(size);
	if (!e)
		return -1;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->size = size;
	e->k.type = k->type;
	e->k.class = k->class;
	e->k.bits = k->bits;
	e->k.nlen = (uint8_t)k->nlen;
	memcpy(e->data, v->ttl_off, v->nttl * sizeof(uint16_t));
	p = (uint8_t *)(e->data + v->nttl);
	memcpy(p, k->name, k->nlen);
	memcpy(p + k->nlen, v->msg, v->end);
	e->pub.v = *v;
	e->pub.v.ttl_off = e->data;
	e->pub.v.msg = p + k->nlen;
	e->pub.stored_ms = now_ms;
	e->pub.expires_ms = now_ms + (uint64_t)ttl * 1000;
	e->hnext = c->bucket[h & (c->nbuckets - 1)];
	c->bucket[h & (c->nbuckets - 1)] = e;
	push_front(c, e);
	c->count++;
	c->bytes += size;
	return 0;
}

unsigned dns_cache_count(const struct dns_cache *c)
{
	return c ? c->count : 0;
}

size_t dns_cache_bytes(const struct dns_cache *c)
{
	return c ? c->bytes : 0;
}
