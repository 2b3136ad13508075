/* Connection and listener tables; see flow.h for the theory of operation. */
#include "net/flow.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t flow_key_siphash(const struct flow_key *k,
			  const uint8_t key[TAPIR_SIPHASH_KEY_LEN])
{
	uint8_t b[36];

	if (inany_is_v4(&k->laddr) && inany_is_v4(&k->raddr))
		return tapir_siphash24_12(key,
					  (uint64_t)inany_v4(&k->laddr) |
						  (uint64_t)inany_v4(&k->raddr)
							  << 32,
					  (uint32_t)k->lport |
						  (uint32_t)k->rport << 16);
	memcpy(b, k->laddr.a, 16);
	memcpy(b + 16, k->raddr.a, 16);
	b[32] = (uint8_t)k->lport;
	b[33] = (uint8_t)(k->lport >> 8);
	b[34] = (uint8_t)k->rport;
	b[35] = (uint8_t)(k->rport >> 8);
	return tapir_siphash24(b, sizeof(b), key);
}

static uint32_t hash_key(const struct flow_table *t, const struct flow_key *k)
{
	return (uint32_t)flow_key_siphash(k, t->key);
}

static size_t index_of(const struct flow_table *t, uint32_t hash)
{
	return hash & (t->nbuckets - 1);
}

size_t flow_bucket_of(const struct flow_table *t, const struct flow_key *k)
{
	return index_of(t, hash_key(t, k));
}

/* The smallest power of two >= n (and >= 1), or 0 if there is none. */
static size_t pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n) {
		if (p > SIZE_MAX / 2)
			return 0;
		p <<= 1;
	}
	return p;
}

int flow_table_init(struct flow_table *t, size_t nbuckets_pow2,
		    const uint8_t key[TAPIR_SIPHASH_KEY_LEN])
{
	size_t n = pow2_at_least(nbuckets_pow2);

	memset(t, 0, sizeof(*t));
	if (!n)
		return -ENOMEM;
	t->bucket = calloc(n, sizeof(*t->bucket));
	if (!t->bucket)
		return -ENOMEM;
	t->nbuckets = n;
	memcpy(t->key, key, TAPIR_SIPHASH_KEY_LEN);
	t->max_buckets = FLOW_MAX_BUCKETS_DEFAULT;
	return 0;
}

void flow_table_fini(struct flow_table *t)
{
	assert(t->count == 0);
	free(t->bucket);
	t->bucket = NULL;
	t->nbuckets = 0;
}

/* The entry with key k and hash h in its chain, or NULL. */
static struct flow *find(const struct flow_table *t, const struct flow_key *k,
			 uint32_t h)
{
	struct flow *f;

	for (f = t->bucket[index_of(t, h)]; f; f = f->next)
		if (f->hash == h && flow_key_eq(&f->key, k))
			return f;
	return NULL;
}

struct flow *flow_lookup(const struct flow_table *t, const struct flow_key *k)
{
	return find(t, k, hash_key(t, k));
}

/* Double the bucket array and move every entry (by its stored hash).  On
 * allocation failure the table is left as it was. */
static void grow(struct flow_table *t)
{
	size_t n = t->nbuckets * 2, i;
	struct flow **nb, *f, *next;

	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (f = t->bucket[i]; f; f = next) {
			size_t j = f->hash & (n - 1);

			next = f->next;
			f->next = nb[j];
			nb[j] = f;
		}
	}
	free(t->bucket);
	t->bucket = nb;
	t->nbuckets = n;
}

int flow_insert(struct flow_table *t, struct flow *f)
{
	uint32_t h = hash_key(t, &f->key);
	size_t i;

	if (find(t, &f->key, h))
		return -EEXIST;
	f->hash = h;
	i = index_of(t, h);
	f->next = t->bucket[i];
	t->bucket[i] = f;
	t->count++;
	if (t->count > t->nbuckets && t->nbuckets < t->max_buckets)
		grow(t);
	return 0;
}

void flow_remove(struct flow_table *t, struct flow *f)
{
	struct flow **pp = &t->bucket[index_of(t, f->hash)];

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	assert(*pp == f);
	if (!*pp)
		return;
	*pp = f->next;
	f->next = NULL;
	t->count--;
}

/* ---- Listeners ----------------------------------------------------------- */

static size_t listener_slot(uint16_t port)
{
	return port % LISTENER_BUCKETS;
}

void listener_table_init(struct listener_table *lt)
{
	memset(lt, 0, sizeof(*lt));
}

int listener_add(struct listener_table *lt, struct listener *l)
{
	struct listener **chain = &lt->bucket[listener_slot(l->port)], *o;

	for (o = *chain; o; o = o->next) {
		if (o->port != l->port)
			continue;
		if (inany_eq(&o->addr, &l->addr) ||
		    inany_is_unspec(&o->addr) || inany_is_unspec(&l->addr))
			return -EADDRINUSE;
	}
	l->next = *chain;
	*chain = l;
	return 0;
}

void listener_remove(struct listener_table *lt, struct listener *l)
{
	struct listener **pp = &lt->bucket[listener_slot(l->port)];

	while (*pp && *pp != l)
		pp = &(*pp)->next;
	assert(*pp == l);
	if (!*pp)
		return;
	*pp = l->next;
	l->next = NULL;
}

struct listener *listener_find(const struct listener_table *lt,
			       const union inany *addr, uint16_t port)
{
	struct listener *l, *any = NULL;

	for (l = lt->bucket[listener_slot(port)]; l; l = l->next) {
		if (l->port != port)
			continue;
		if (inany_eq(&l->addr, addr))
			return l;
		if (inany_is_unspec(&l->addr))
			any = l;
	}
	return any;
}

bool listener_table_empty(const struct listener_table *lt)
{
	size_t i;

	for (i = 0; i < LISTENER_BUCKETS; i++)
		if (lt->bucket[i])
			return false;
	return true;
}
