/* The DHCP server proper; see dhcp_srv.h. */
#include "dhcp_srv.h"
#include <tapir/addr.h>
#include <tapir/bytes.h>
#include <tapir/siphash.h>
#include <tapir/text.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NONE UINT32_MAX
#define KEY_MAX JREC_KEY_MAX
#define BATCH_HARD_MAX 1024
#define REPLY_CAP 1472 /* 1500 - IPv4 - UDP */
#define LOG_ERR 3
#define LOG_WARNING 4
#define LOG_INFO 6

const char *const dhcp_count_names[DC_COUNT] = {
	[DC_RX] = "rx",
	[DC_BAD] = "malformed",
	[DC_DISCOVER] = "discover",
	[DC_REQUEST] = "request",
	[DC_DECLINE] = "decline",
	[DC_RELEASE] = "release",
	[DC_INFORM] = "inform",
	[DC_OFFER] = "offer",
	[DC_ACK] = "ack",
	[DC_NAK] = "nak",
	[DC_IGNORED] = "ignored",
	[DC_NO_ADDRESS] = "no_address",
	[DC_OFFER_REUSED] = "offers_reused",
	[DC_EXPIRED] = "expired",
	[DC_FSYNC] = "fsync",
	[DC_JOURNAL_ERR] = "journal_error",
};

enum slot_state { S_FREE, S_OFFERED, S_BOUND, S_DECLINED };

struct slot {
	uint32_t addr;
	uint8_t state;
	bool reserved;
	bool published;
	uint8_t inq;      /* Q_NONE, or which queue the slot is in */
	uint16_t res;     /* reservation index when reserved */
	uint8_t keylen;   /* 0: never used (or forgotten) */
	uint8_t key[KEY_MAX];
	uint8_t mac[6];
	char host[JREC_HOST_MAX + 1];
	int64_t expires;  /* lease end, offer end or quarantine end */
	uint32_t hnext;   /* client-key hash chain */
	uint32_t qprev, qnext; /* free queue, or offer queue */
};

/* The queues a dynamic slot can be in, oldest first: free (the next to
 * offer), and offered (unanswered offers, the oldest to reuse when the
 * pool runs dry). */
enum { Q_NONE, Q_FREE, Q_OFFER };

struct pend {
	uint32_t slot;
	uint32_t ip;
	uint16_t port;
	bool has_mac;
	uint8_t mac[6];
	uint16_t len;
	uint8_t data[REPLY_CAP];
};

struct dhcp_srv {
	struct dhcp_cfg cfg; /* res and opts point into the caller's config */
	struct dhcp_env env;
	struct slot *slot;
	uint32_t nslots;
	uint32_t *bucket;
	uint32_t nbuckets;
	uint32_t qhead, qtail; /* free queue */
	uint32_t ohead, otail; /* offer queue */
	uint32_t nbound, nactive;
	uint8_t hkey[TAPIR_SIPHASH_KEY_LEN];
	struct journal j;
	/* The open batch. */
	struct pend *pend;
	unsigned npend;
	char *rec;
	size_t reclen, reccap;
	unsigned nrec;
	bool batch_open;
	/* Scratch. */
	struct dhcp_msg msg;
	uint8_t out[REPLY_CAP];
	uint64_t count[DC_COUNT];
	/* Loading. */
	int64_t load_now;
	int64_t warned; /* last "no address" warning */
	uint32_t rewrite_pos;
};

static void slog(struct dhcp_srv *s, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void slog(struct dhcp_srv *s, int prio, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!s->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->env.log(s->env.arg, prio, buf);
}

static void ip_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

static int64_t now(struct dhcp_srv *s)
{
	return s->env.now(s->env.arg);
}

void dhcp_cfg_default(struct dhcp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->lease_time = 3600;
	c->offer_time = 30;
	c->decline_time = 600;
	c->max_leases = 0;
	c->batch_ms = 5;
	c->batch_max = 64;
}

void dhcp_cfg_free(struct dhcp_cfg *c)
{
	free(c->res);
	free(c->opts);
	c->res = NULL;
	c->opts = NULL;
	c->nres = c->nopts = 0;
}

/* ---- slots, the client hash and the free queue ------------------------- */

static uint32_t key_hash(const struct dhcp_srv *s, const uint8_t *k,
			 size_t len)
{
	return (uint32_t)tapir_siphash24(k, len, s->hkey) & (s->nbuckets - 1);
}

static uint32_t hash_find(const struct dhcp_srv *s, const uint8_t *k,
			  size_t len)
{
	if (!len)
		return NONE;
	for (uint32_t i = s->bucket[key_hash(s, k, len)]; i != NONE;
	     i = s->slot[i].hnext)
		if (s->slot[i].keylen == len &&
		    memcmp(s->slot[i].key, k, len) == 0)
			return i;
	return NONE;
}

static void hash_remove(struct dhcp_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	uint32_t *pp;

	if (!sl->keylen)
		return;
	for (pp = &s->bucket[key_hash(s, sl->key, sl->keylen)]; *pp != NONE;
	     pp = &s->slot[*pp].hnext) {
		if (*pp == i) {
			*pp = sl->hnext;
			break;
		}
	}
	sl->hnext = NONE;
	sl->keylen = 0;
}

/* Give slot i the client key k (taking it from any other slot).  A slot
 * that changes hands forgets its host name: the name was the old client's,
 * and the new one may send none. */
static void set_key(struct dhcp_srv *s, uint32_t i, const uint8_t *k,
		    size_t len)
{
	struct slot *sl = &s->slot[i];
	uint32_t other;
	uint32_t h;

	if (sl->keylen == len && memcmp(sl->key, k, len) == 0)
		return;
	other = hash_find(s, k, len);
	if (other != NONE && s->slot[other].reserved)
		return; /* a reservation's key stays with it alone */
	if (other != NONE)
		hash_remove(s, other);
	hash_remove(s, i);
	sl->host[0] = 0;
	memcpy(sl->key, k, len);
	sl->keylen = (uint8_t)len;
	h = key_hash(s, k, len);
	sl->hnext = s->bucket[h];
	s->bucket[h] = i;
}

static uint32_t *q_head(struct dhcp_srv *s, uint8_t q)
{
	return q == Q_OFFER ? &s->ohead : &s->qhead;
}

static uint32_t *q_tail(struct dhcp_srv *s, uint8_t q)
{
	return q == Q_OFFER ? &s->otail : &s->qtail;
}

static void q_remove(struct dhcp_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];

	if (sl->inq == Q_NONE)
		return;
	if (sl->qprev != NONE)
		s->slot[sl->qprev].qnext = sl->qnext;
	else
		*q_head(s, sl->inq) = sl->qnext;
	if (sl->qnext != NONE)
		s->slot[sl->qnext].qprev = sl->qprev;
	else
		*q_tail(s, sl->inq) = sl->qprev;
	sl->inq = Q_NONE;
	sl->qprev = sl->qnext = NONE;
}

static void q_push_tail(struct dhcp_srv *s, uint32_t i, uint8_t q)
{
	struct slot *sl = &s->slot[i];
	uint32_t *tail = q_tail(s, q);

	if (sl->inq != Q_NONE || sl->reserved)
		return;
	sl->qnext = NONE;
	sl->qprev = *tail;
	if (*tail != NONE)
		s->slot[*tail].qnext = i;
	else
		*q_head(s, q) = i;
	*tail = i;
	sl->inq = q;
}

static bool active(uint8_t st)
{
	return st == S_OFFERED || st == S_BOUND;
}

static void set_state(struct dhcp_srv *s, uint32_t i, uint8_t st)
{
	struct slot *sl = &s->slot[i];

	s->nactive += active(st) - active(sl->state);
	s->nbound += (st == S_BOUND) - (sl->state == S_BOUND);
	sl->state = st;
	/* A slot freed goes to the back of the free queue, a dynamic one
	 * offered to the back of the offer queue. */
	q_remove(s, i);
	if (st == S_FREE)
		q_push_tail(s, i, Q_FREE);
	else if (st == S_OFFERED)
		q_push_tail(s, i, Q_OFFER);
}

static uint32_t addr_slot(const struct dhcp_srv *s, uint32_t a)
{
	uint32_t lo = 0, hi = s->nslots;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->slot[mid].addr < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nslots && s->slot[lo].addr == a ? lo : NONE;
}

/* ---- publishing --------------------------------------------------------- */

static void publish(struct dhcp_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	const char *host = sl->host;
	char key[16], val[128];

	if (!s->env.publish)
		return;
	if (sl->reserved && s->cfg.res[sl->res].host[0])
		host = s->cfg.res[sl->res].host;
	ip_str(sl->addr, key);
	snprintf(val, sizeof(val),
		 "mac=%02x:%02x:%02x:%02x:%02x:%02x expires=%lld%s%s",
		 sl->mac[0], sl->mac[1], sl->mac[2], sl->mac[3], sl->mac[4],
		 sl->mac[5], (long long)sl->expires, host[0] ? " hostname=" : "",
		 host);
	s->env.publish(s->env.arg, key, val);
	sl->published = true;
}

static void unpublish(struct dhcp_srv *s, uint32_t i)
{
	char key[16];

	if (!s->slot[i].published)
		return;
	s->slot[i].published = false;
	if (!s->env.unpublish)
		return;
	ip_str(s->slot[i].addr, key);
	s->env.unpublish(s->env.arg, key);
}

void dhcp_srv_publish_all(struct dhcp_srv *s)
{
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->slot[i].state == S_BOUND)
			publish(s, i);
}

void dhcp_srv_unpublish_all(struct dhcp_srv *s)
{
	for (uint32_t i = 0; i < s->nslots; i++)
		unpublish(s, i);
}

/* ---- the journal -------------------------------------------------------- */

static void load_rec(void *arg, const struct jrec *r)
{
	struct dhcp_srv *s = arg;
	uint32_t i = addr_slot(s, r->addr);
	struct slot *sl;

	if (i == NONE)
		return; /* no longer ours */
	sl = &s->slot[i];
	switch (r->kind) {
	case 'L':
		if (sl->reserved) {
			if (sl->keylen != r->keylen ||
			    memcmp(sl->key, r->key, r->keylen) != 0)
				return; /* the reservation changed */
		} else {
			set_key(s, i, r->key, r->keylen);
		}
		memcpy(sl->mac, r->mac, 6);
		snprintf(sl->host, sizeof(sl->host), "%s", r->host);
		sl->expires = r->time;
		set_state(s, i, r->time > s->load_now ? S_BOUND : S_FREE);
		break;
	case 'R':
		if (sl->state == S_BOUND) {
			sl->expires = s->load_now;
			set_state(s, i, S_FREE);
		}
		break;
	case 'D':
		if (!sl->reserved)
			hash_remove(s, i);
		sl->expires = r->time;
		set_state(s, i, r->time > s->load_now ? S_DECLINED : S_FREE);
		break;
	}
}

static void slot_rec(const struct slot *sl, struct jrec *r)
{
	memset(r, 0, sizeof(*r));
	r->addr = sl->addr;
	if (sl->state == S_DECLINED) {
		r->kind = 'D';
		r->time = sl->expires;
		return;
	}
	r->kind = 'L';
	r->time = sl->expires;
	memcpy(r->mac, sl->mac, 6);
	r->keylen = sl->keylen;
	memcpy(r->key, sl->key, sl->keylen);
	memcpy(r->host, sl->host, sizeof(r->host));
}

/* Records of a rewrite: the bound and declined slots, and the free ones
 * that remember a client (so it gets its address back after a restart). */
static bool rewrite_next(void *arg, struct jrec *r)
{
	struct dhcp_srv *s = arg;

	while (s->rewrite_pos < s->nslots) {
		const struct slot *sl = &s->slot[s->rewrite_pos++];

		if (sl->state == S_BOUND || sl->state == S_DECLINED ||
		    (sl->keylen && sl->expires > 0 && sl->state != S_OFFERED)) {
			slot_rec(sl, r);
			if (sl->state == S_FREE && r->kind == 'L') {
				/* Expired or released: keep the client, as
				 * a lease that has ended. */
				if (r->time > now(s))
					r->time = now(s);
			}
			return true;
		}
	}
	return false;
}

static int rewrite(struct dhcp_srv *s)
{
	s->rewrite_pos = 0;
	return journal_rewrite(&s->j, s->cfg.lease_file, rewrite_next, s);
}

static bool add_rec(struct dhcp_srv *s, const struct jrec *r)
{
	if (s->reclen + JREC_LINE_MAX > s->reccap)
		dhcp_srv_flush(s);
	s->reclen += jrec_format(r, s->rec + s->reclen);
	s->nrec++;
	if (!s->batch_open) {
		s->batch_open = true;
		if (s->env.batch_open)
			s->env.batch_open(s->env.arg);
	}
	return true;
}

void dhcp_srv_flush(struct dhcp_srv *s)
{
	int rc;

	if (!s->batch_open)
		return;
	s->batch_open = false;
	rc = journal_append(&s->j, s->rec, s->reclen, s->nrec);
	s->count[DC_FSYNC]++;
	s->reclen = 0;
	s->nrec = 0;
	if (rc) {
		s->count[DC_JOURNAL_ERR]++;
		slog(s, LOG_ERR, "cannot write %s: %s; %u acknowledgements "
		     "held back", s->cfg.lease_file, strerror(-rc), s->npend);
		s->npend = 0;
		return;
	}
	for (unsigned k = 0; k < s->npend; k++) {
		struct pend *p = &s->pend[k];

		s->env.send(s->env.arg, p->ip, p->port,
			    p->has_mac ? p->mac : NULL, p->data, p->len);
		s->count[DC_ACK]++;
		if (s->slot[p->slot].state == S_BOUND)
			publish(s, p->slot);
	}
	s->npend = 0;
	/* Keep the file near the live size. */
	if (s->j.records > 1024 && s->j.records > 4ul * (s->nbound + 256)) {
		rc = rewrite(s);
		if (rc)
			slog(s, LOG_ERR, "cannot rewrite %s: %s",
			     s->cfg.lease_file, strerror(-rc));
	}
}

/* ---- setup -------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static size_t res_key(const struct dhcp_res *r, uint8_t *k)
{
	if (r->by_mac) {
		k[0] = 'H';
		k[1] = 1;
		memcpy(k + 2, r->mac, 6);
		return 8;
	}
	k[0] = 'C';
	memcpy(k + 1, r->id, r->idlen);
	return 1 + (size_t)r->idlen;
}

struct dhcp_srv *dhcp_srv_new(const struct dhcp_cfg *cfg,
			      const struct dhcp_env *env, char *err,
			      size_t errlen)
{
	struct dhcp_srv *s = calloc(1, sizeof(*s));
	uint32_t *addrs = NULL, n = 0, mask;
	struct jload_stats st;
	uint64_t total = cfg->nres;
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->env = *env;
	s->j.fd = -1;
	if (!env->random || env->random(env->arg, s->hkey, sizeof(s->hkey))) {
		/* No randomness (a host without random(), or early
		 * boot): weaker, but still not a key anyone outside can
		 * know in advance. */
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)s;

		memcpy(s->hkey, &t, sizeof(t));
	}
	for (unsigned r = 0; r < cfg->nranges; r++)
		total += (uint64_t)cfg->range[r].last - cfg->range[r].first + 1;
	if (total > DHCP_MAX_SLOTS) {
		snprintf(err, errlen, "%llu addresses: at most %u",
			 (unsigned long long)total, DHCP_MAX_SLOTS);
		goto fail;
	}
	addrs = calloc(total ? total : 1, sizeof(*addrs));
	s->slot = calloc(total ? total : 1, sizeof(*s->slot));
	s->pend = calloc(cfg->batch_max ? cfg->batch_max : 1, sizeof(*s->pend));
	s->reccap = ((size_t)cfg->batch_max + 16) * JREC_LINE_MAX;
	s->rec = malloc(s->reccap);
	if (!addrs || !s->slot || !s->pend || !s->rec) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Every pool address except ours, the subnet's network and broadcast
	 * addresses; then the reservations (which may lie in the pool). */
	mask = tapir_v4_mask(env->prefix);
	for (unsigned r = 0; r < cfg->nranges; r++) {
		for (uint64_t a = cfg->range[r].first; a <= cfg->range[r].last;
		     a++) {
			uint32_t x = (uint32_t)a;

			if (x == env->server_ip ||
			    (env->prefix < 31 && ((x & ~mask) == 0 ||
						  (x & ~mask) == ~mask)))
				continue;
			addrs[n++] = x;
		}
	}
	for (unsigned r = 0; r < cfg->nres; r++) {
		if (cfg->res[r].addr == env->server_ip) {
			snprintf(err, errlen, "reservation %u is our own "
				 "address", r + 1);
			goto fail;
		}
		addrs[n++] = cfg->res[r].addr;
	}
	qsort(addrs, n, sizeof(*addrs), cmp_u32);
	s->nslots = 0;
	for (uint32_t k = 0; k < n; k++)
		if (k == 0 || addrs[k] != addrs[k - 1])
			s->slot[s->nslots++].addr = addrs[k];
	free(addrs);
	addrs = NULL;
	for (s->nbuckets = 64; s->nbuckets < s->nslots; s->nbuckets *= 2)
		;
	s->bucket = malloc(s->nbuckets * sizeof(*s->bucket));
	if (!s->bucket) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memset(s->bucket, 0xff, s->nbuckets * sizeof(*s->bucket));
	s->qhead = s->qtail = NONE;
	s->ohead = s->otail = NONE;
	for (uint32_t i = 0; i < s->nslots; i++) {
		s->slot[i].hnext = s->slot[i].qprev = s->slot[i].qnext = NONE;
	}
	for (unsigned r = 0; r < cfg->nres; r++) {
		uint32_t i = addr_slot(s, cfg->res[r].addr);
		uint8_t k[KEY_MAX];

		s->slot[i].reserved = true;
		s->slot[i].res = (uint16_t)r;
		set_key(s, i, k, res_key(&cfg->res[r], k));
	}
	/* Never-used slots queue first, in address order. */
	for (uint32_t i = 0; i < s->nslots; i++)
		q_push_tail(s, i, Q_FREE);
	s->load_now = now(s);
	rc = journal_load(cfg->lease_file, load_rec, s, &st);
	if (rc) {
		snprintf(err, errlen, "cannot read %s: %s", cfg->lease_file,
			 strerror(-rc));
		goto fail;
	}
	if (st.bad || st.torn)
		slog(s, LOG_WARNING,
		     "%s: %lu records, %lu malformed and %lu torn ignored",
		     cfg->lease_file, st.records, st.bad, st.torn);
	/* Start from a clean file: no torn tail for appends to follow. */
	rc = rewrite(s);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", cfg->lease_file,
			 strerror(-rc));
		goto fail;
	}
	slog(s, LOG_INFO, "%u addresses, %u leases bound, journal %s",
	     s->nslots, s->nbound, cfg->lease_file);
	return s;
fail:
	free(addrs);
	dhcp_srv_free(s);
	return NULL;
}

void dhcp_srv_free(struct dhcp_srv *s)
{
	if (!s)
		return;
	if (s->j.fd >= 0)
		dhcp_srv_flush(s);
	journal_close(&s->j);
	free(s->slot);
	free(s->bucket);
	free(s->pend);
	free(s->rec);
	free(s);
}

const uint64_t *dhcp_srv_counters(const struct dhcp_srv *s)
{
	return s->count;
}

size_t dhcp_srv_bound(const struct dhcp_srv *s)
{
	return s->nbound;
}

/* ---- host names --------------------------------------------------------- */

bool dhcp_label_ok(const char *p, size_t len)
{
	if (len < 1 || len > 63 || p[0] == '-' || p[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static bool take_label(const uint8_t *p, size_t len, char out[64])
{
	size_t n = 0;

	while (n < len && p[n] != '.' && p[n] != 0)
		n++;
	if (!dhcp_label_ok((const char *)p, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = (char)p[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = 0;
	return true;
}

bool dhcp_client_hostname(const struct dhcp_msg *m, char out[64])
{
	const uint8_t *p;
	size_t len;

	/* RFC 4702: flags, two RCODEs, then the name, in wire format when
	 * the E flag is set. */
	p = dhcp_opt(m, OPT_FQDN, &len);
	if (p && len > 3) {
		const uint8_t *name = p + 3;
		size_t nl = len - 3;

		if (p[0] & 0x04) {
			if (name[0] >= 1 && (size_t)name[0] + 1 <= nl &&
			    take_label(name + 1, name[0], out) &&
			    strlen(out) == name[0])
				return true;
		} else if (take_label(name, nl, out)) {
			return true;
		}
	}
	p = dhcp_opt(m, OPT_HOSTNAME, &len);
	return p && take_label(p, len, out);
}

/* ---- replies ------------------------------------------------------------ */

static bool in_prl(const struct dhcp_msg *m, uint8_t code, bool *have_prl)
{
	size_t len;
	const uint8_t *p = dhcp_opt(m, OPT_PARAM_LIST, &len);

	*have_prl = p != NULL;
	if (!p)
		return true;
	return memchr(p, code, len) != NULL;
}

static void put_addrs(struct dhcp_out *o, uint8_t code, const uint32_t *a,
		      unsigned n)
{
	uint8_t b[4 * DHCP_MAX_ADDRS];

	if (!n)
		return;
	for (unsigned i = 0; i < n; i++)
		tapir_put_be32(b + 4 * i, a[i]);
	dhcp_out_opt(o, code, b, 4 * n);
}

/* The options that depend on the parameter request list. */
static void put_config(struct dhcp_srv *s, struct dhcp_out *o,
		       const struct dhcp_msg *m, const char *host)
{
	bool prl;
	uint32_t mask = tapir_v4_mask(s->env.prefix);

	if (in_prl(m, OPT_SUBNET_MASK, &prl))
		dhcp_out_u32(o, OPT_SUBNET_MASK, mask);
	if (in_prl(m, OPT_ROUTER, &prl))
		put_addrs(o, OPT_ROUTER, s->cfg.router, s->cfg.nrouters);
	if (in_prl(m, OPT_DNS, &prl))
		put_addrs(o, OPT_DNS, s->cfg.dns, s->cfg.ndns);
	if (s->cfg.domain[0] && in_prl(m, OPT_DOMAIN, &prl))
		dhcp_out_opt(o, OPT_DOMAIN, s->cfg.domain,
			     strlen(s->cfg.domain));
	if (host && host[0] && in_prl(m, OPT_HOSTNAME, &prl))
		dhcp_out_opt(o, OPT_HOSTNAME, host, strlen(host));
	for (unsigned k = 0; k < s->cfg.nopts; k++)
		if (in_prl(m, s->cfg.opts[k].code, &prl))
			dhcp_out_opt(o, s->cfg.opts[k].code, s->cfg.opts[k].data,
				     s->cfg.opts[k].len);
}

static size_t reply_cap(struct dhcp_srv *s, const struct dhcp_msg *m)
{
	uint16_t max = 576;
	size_t cap;

	/* Option 57 counts the IP and UDP headers (RFC 2132 9.10). */
	if (dhcp_opt_u16(m, OPT_MAX_SIZE, &max) && max < 576)
		max = 576;
	cap = (size_t)max - 28;
	if (s->env.reply_max && cap > s->env.reply_max)
		cap = s->env.reply_max;
	if (cap > REPLY_CAP)
		cap = REPLY_CAP;
	if (cap < DHCP_REPLY_MIN)
		cap = DHCP_REPLY_MIN;
	return cap;
}

/* Build a reply into s->out; returns its length. */
static size_t build(struct dhcp_srv *s, const struct dhcp_msg *m, uint8_t type,
		    uint32_t ciaddr, uint32_t yiaddr, const struct slot *sl,
		    const char *text)
{
	struct dhcp_out o;
	uint32_t lease = s->cfg.lease_time;
	uint32_t t1 = s->cfg.t1 ? s->cfg.t1 : lease / 2;
	uint32_t t2 = s->cfg.t2 ? s->cfg.t2 : (uint32_t)((uint64_t)lease * 7 / 8);
	const char *host = NULL;

	dhcp_out_start(&o, s->out, reply_cap(s, m), m, type, ciaddr, yiaddr,
		       0);
	dhcp_out_u32(&o, OPT_SERVER_ID, s->env.server_ip);
	if (type == DHCPNAK) {
		if (text)
			dhcp_out_opt(&o, OPT_MESSAGE, text, strlen(text));
		return dhcp_out_finish(&o);
	}
	if (sl) {
		/* A renewal gets what is left of its lease. */
		if (sl->state == S_BOUND) {
			int64_t left = sl->expires - now(s);

			if (left > 0 && left < lease)
				lease = (uint32_t)left;
		}
		dhcp_out_u32(&o, OPT_LEASE_TIME, lease);
		dhcp_out_u32(&o, OPT_T1, t1 < lease ? t1 : lease / 2);
		dhcp_out_u32(&o, OPT_T2, t2 < lease ? t2 : lease * 7 / 8);
		host = sl->reserved && s->cfg.res[sl->res].host[0]
			       ? s->cfg.res[sl->res].host
			       : NULL;
	}
	put_config(s, &o, m, host);
	return dhcp_out_finish(&o);
}

struct dest {
	uint32_t ip;
	uint16_t port;
	const uint8_t *mac;
};

/* RFC 2131 4.1: where a reply goes. */
static struct dest dest_of(const struct dhcp_msg *m, uint8_t type,
			   uint32_t yiaddr, uint32_t src_ip)
{
	static const uint32_t bcast = 0xffffffffu;

	if (m->giaddr)
		return (struct dest){m->giaddr, 67, NULL};
	if (type == DHCPNAK)
		return (struct dest){bcast, 68, NULL};
	if (m->ciaddr)
		return (struct dest){m->ciaddr, 68, NULL};
	if (type == DHCPACK && !yiaddr && src_ip) /* INFORM */
		return (struct dest){src_ip, 68, NULL};
	if (m->flags & DHCP_FLAG_BROADCAST || !yiaddr || m->htype != 1 ||
	    m->hlen != 6)
		return (struct dest){bcast, 68, NULL};
	return (struct dest){yiaddr, 68, m->chaddr};
}

static void send_now(struct dhcp_srv *s, const struct dhcp_msg *m,
		     uint8_t type, uint32_t yiaddr, uint32_t src_ip,
		     size_t len)
{
	struct dest d = dest_of(m, type, yiaddr, src_ip);

	/* A NAK through a relay: the relay must broadcast it. */
	if (type == DHCPNAK && m->giaddr)
		s->out[10] |= 0x80;
	s->env.send(s->env.arg, d.ip, d.port, d.mac, s->out, len);
}

static void nak(struct dhcp_srv *s, const struct dhcp_msg *m,
		const char *why)
{
	size_t len = build(s, m, DHCPNAK, 0, 0, NULL, why);

	send_now(s, m, DHCPNAK, 0, 0, len);
	s->count[DC_NAK]++;
}

/* ---- clients ------------------------------------------------------------ */

struct client {
	uint8_t key[KEY_MAX];
	size_t keylen;
	uint8_t hw[KEY_MAX]; /* the hardware key, for MAC reservations */
	size_t hwlen;
	uint32_t res;  /* reserved slot, or NONE */
	uint32_t dyn;  /* remembered dynamic slot, or NONE */
	uint8_t mac[6];
};

static bool client_of(struct dhcp_srv *s, const struct dhcp_msg *m,
		      struct client *c)
{
	size_t len;
	const uint8_t *id = dhcp_opt(m, OPT_CLIENT_ID, &len);
	uint32_t i;

	memset(c, 0, sizeof(*c));
	if (m->hlen) {
		c->hw[0] = 'H';
		c->hw[1] = m->htype;
		memcpy(c->hw + 2, m->chaddr, m->hlen);
		c->hwlen = 2 + (size_t)m->hlen;
	}
	if (id && len >= 2 && len <= DHCP_CLIENT_ID_MAX) {
		c->key[0] = 'C';
		memcpy(c->key + 1, id, len);
		c->keylen = 1 + len;
	} else if (c->hwlen) {
		memcpy(c->key, c->hw, c->hwlen);
		c->keylen = c->hwlen;
	} else {
		return false;
	}
	if (m->htype == 1 && m->hlen == 6)
		memcpy(c->mac, m->chaddr, 6);
	/* Reservations first: by MAC, then by client identifier. */
	c->res = NONE;
	i = hash_find(s, c->hw, c->hwlen);
	if (i != NONE && s->slot[i].reserved)
		c->res = i;
	i = hash_find(s, c->key, c->keylen);
	if (c->res == NONE && i != NONE && s->slot[i].reserved)
		c->res = i;
	c->dyn = i != NONE && !s->slot[i].reserved ? i : NONE;
	return true;
}

/* The client's slot if it has one that may serve it now. */
static uint32_t client_slot(struct dhcp_srv *s, const struct client *c)
{
	if (c->res != NONE)
		return s->slot[c->res].state == S_DECLINED ? NONE : c->res;
	if (c->dyn != NONE && s->slot[c->dyn].state != S_DECLINED)
		return c->dyn;
	return NONE;
}

static bool may_activate(struct dhcp_srv *s, uint32_t i)
{
	return active(s->slot[i].state) || !s->cfg.max_leases ||
	       s->nactive < s->cfg.max_leases;
}

/* Let go of a dynamic slot the client no longer uses (it moved to its
 * reservation, or to another address). */
static void drop_other(struct dhcp_srv *s, const struct client *c,
		       uint32_t keep)
{
	if (c->dyn == NONE || c->dyn == keep)
		return;
	if (active(s->slot[c->dyn].state)) {
		unpublish(s, c->dyn);
		set_state(s, c->dyn, S_FREE);
	}
}

static void discover(struct dhcp_srv *s, const struct dhcp_msg *m,
		     const struct client *c)
{
	uint32_t i = client_slot(s, c), req;
	struct slot *sl;
	size_t len;

	if (i == NONE && c->res == NONE && dhcp_opt_u32(m, OPT_REQUESTED_IP, &req)) {
		uint32_t r = addr_slot(s, req);

		if (r != NONE && !s->slot[r].reserved &&
		    s->slot[r].state == S_FREE)
			i = r;
	}
	if (i == NONE && c->res == NONE)
		i = s->qhead;
	/* The pool has run dry: an offer is no reservation a stranger can
	 * hold (RFC 2131 4.3.1 lets the server take it back); the oldest
	 * one still unanswered goes to this client.  So a flood of
	 * DISCOVERs from made-up clients cannot keep a real one, which
	 * answers its offer at once, from getting its lease. */
	if (i == NONE && c->res == NONE && s->ohead != NONE) {
		i = s->ohead;
		s->count[DC_OFFER_REUSED]++;
	}
	if (i == NONE || !may_activate(s, i)) {
		s->count[DC_NO_ADDRESS]++;
		if (now(s) - s->warned >= 60) {
			s->warned = now(s);
			slog(s, LOG_WARNING, "no address to offer (pool "
			     "exhausted or max_leases reached); said at most "
			     "once a minute");
		}
		return;
	}
	sl = &s->slot[i];
	if (sl->state != S_BOUND) {
		if (!sl->reserved)
			set_key(s, i, c->key, c->keylen);
		memcpy(sl->mac, c->mac, 6);
		sl->expires = now(s) + s->cfg.offer_time;
		set_state(s, i, S_OFFERED);
	}
	drop_other(s, c, i);
	len = build(s, m, DHCPOFFER, 0, sl->addr, sl, NULL);
	send_now(s, m, DHCPOFFER, sl->addr, 0, len);
	s->count[DC_OFFER]++;
}

/* True when host is the host name of a reservation other than the
 * client's own: that name is the reserved client's, whether or not it is
 * here now, and another client must not have it published. */
static bool reserved_name(const struct dhcp_srv *s, const struct client *c,
			  const char *host)
{
	for (unsigned k = 0; k < s->cfg.nres; k++)
		if ((c->res == NONE || s->slot[c->res].res != k) &&
		    tapir_ieq_str(host, strlen(host), s->cfg.res[k].host))
			return true;
	return false;
}

/* Bind slot i to the client and queue the ACK behind the journal. */
static void bind(struct dhcp_srv *s, const struct dhcp_msg *m,
		 const struct client *c, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	struct dest d;
	struct pend *p;
	struct jrec r;
	char host[64];

	if (!may_activate(s, i)) {
		s->count[DC_NO_ADDRESS]++;
		return;
	}
	if (s->npend >= s->cfg.batch_max)
		dhcp_srv_flush(s);
	if (!sl->reserved)
		set_key(s, i, c->key, c->keylen);
	memcpy(sl->mac, c->mac, 6);
	if (dhcp_client_hostname(m, host) && !reserved_name(s, c, host))
		memcpy(sl->host, host, sizeof(sl->host));
	sl->expires = now(s) + s->cfg.lease_time;
	set_state(s, i, S_BOUND);
	drop_other(s, c, i);
	slot_rec(sl, &r);
	add_rec(s, &r);
	p = &s->pend[s->npend++];
	p->slot = i;
	p->len = (uint16_t)build(s, m, DHCPACK, m->ciaddr, sl->addr, sl, NULL);
	memcpy(p->data, s->out, p->len);
	d = dest_of(m, DHCPACK, sl->addr, 0);
	p->ip = d.ip;
	p->port = d.port;
	p->has_mac = d.mac != NULL;
	if (d.mac)
		memcpy(p->mac, d.mac, 6);
}

static bool in_subnet(const struct dhcp_srv *s, uint32_t a)
{
	uint32_t mask = tapir_v4_mask(s->env.prefix);

	return (a & mask) == (s->env.server_ip & mask);
}

static bool ours(const struct dhcp_srv *s, uint32_t a)
{
	return in_subnet(s, a) || addr_slot(s, a) != NONE;
}

/* Someone else holds address a (bound, offered, declined or reserved
 * for another client). */
static bool taken_by_other(struct dhcp_srv *s, uint32_t a, uint32_t mine)
{
	uint32_t i = addr_slot(s, a);

	if (i == NONE || i == mine)
		return false;
	return s->slot[i].reserved || s->slot[i].state != S_FREE;
}

static void request(struct dhcp_srv *s, const struct dhcp_msg *m,
		    const struct client *c)
{
	uint32_t sid, req = 0, i = client_slot(s, c);
	bool has_req = dhcp_opt_u32(m, OPT_REQUESTED_IP, &req);

	if (dhcp_opt_u32(m, OPT_SERVER_ID, &sid)) {
		/* SELECTING. */
		if (sid != s->env.server_ip) {
			/* The client took another server's offer. */
			if (i != NONE && s->slot[i].state == S_OFFERED)
				set_state(s, i, S_FREE);
			s->count[DC_IGNORED]++;
			return;
		}
		if (!has_req || m->ciaddr) {
			s->count[DC_IGNORED]++;
			return;
		}
		if (i != NONE && s->slot[i].addr == req &&
		    (active(s->slot[i].state) || s->slot[i].state == S_FREE)) {
			bind(s, m, c, i);
			return;
		}
		nak(s, m, "offer no longer valid");
		return;
	}
	if (has_req && !m->ciaddr) {
		/* INIT-REBOOT: is the remembered address still right? */
		if (!ours(s, req)) {
			nak(s, m, "wrong network");
			return;
		}
		if (i != NONE && s->slot[i].addr == req) {
			bind(s, m, c, i);
			return;
		}
		if (i != NONE || taken_by_other(s, req, NONE)) {
			nak(s, m, "address not yours");
			return;
		}
		s->count[DC_IGNORED]++; /* no record of this client */
		return;
	}
	if (m->ciaddr) {
		/* RENEWING (unicast) or REBINDING (broadcast). */
		if (i != NONE && s->slot[i].addr == m->ciaddr) {
			bind(s, m, c, i);
			return;
		}
		if (i != NONE || taken_by_other(s, m->ciaddr, NONE)) {
			nak(s, m, "lease unknown");
			return;
		}
		s->count[DC_IGNORED]++;
		return;
	}
	s->count[DC_IGNORED]++;
}

static void decline(struct dhcp_srv *s, const struct dhcp_msg *m,
		    const struct client *c)
{
	uint32_t sid, req, i = client_slot(s, c);
	struct jrec r;
	char a[16];

	if ((dhcp_opt_u32(m, OPT_SERVER_ID, &sid) && sid != s->env.server_ip) ||
	    !dhcp_opt_u32(m, OPT_REQUESTED_IP, &req) || i == NONE ||
	    s->slot[i].addr != req || !active(s->slot[i].state)) {
		s->count[DC_IGNORED]++;
		return;
	}
	unpublish(s, i);
	if (!s->slot[i].reserved)
		hash_remove(s, i);
	s->slot[i].expires = now(s) + s->cfg.decline_time;
	set_state(s, i, S_DECLINED);
	ip_str(req, a);
	slog(s, LOG_WARNING, "%s declined: in use by another host; "
	     "quarantined for %u s", a, s->cfg.decline_time);
	slot_rec(&s->slot[i], &r);
	add_rec(s, &r);
}

static void release(struct dhcp_srv *s, const struct dhcp_msg *m,
		    const struct client *c)
{
	uint32_t sid, i = client_slot(s, c);
	struct jrec r = {.kind = 'R'};

	if ((dhcp_opt_u32(m, OPT_SERVER_ID, &sid) && sid != s->env.server_ip) ||
	    i == NONE || s->slot[i].addr != m->ciaddr ||
	    s->slot[i].state != S_BOUND) {
		s->count[DC_IGNORED]++;
		return;
	}
	unpublish(s, i);
	/* The lease ends now; the slot remembers the client. */
	s->slot[i].expires = now(s);
	set_state(s, i, S_FREE);
	r.addr = s->slot[i].addr;
	add_rec(s, &r);
}

/* Whether the reply to an INFORM may go to its ciaddr: the field is the
 * client's word alone, so unless it is the address the message came from
 * it must be a host address of our subnet; else anyone could aim our
 * replies at any address. */
static bool inform_ciaddr_ok(const struct dhcp_srv *s, uint32_t ciaddr,
			     uint32_t src_ip)
{
	uint32_t mask = tapir_v4_mask(s->env.prefix);

	if (src_ip && ciaddr == src_ip)
		return true;
	if (!in_subnet(s, ciaddr))
		return false;
	/* Not the subnet's own or broadcast address (on a /31 or /32 both
	 * are hosts). */
	return s->env.prefix >= 31 ||
	       ((ciaddr & ~mask) != 0 && (ciaddr & ~mask) != ~mask);
}

static void inform(struct dhcp_srv *s, const struct dhcp_msg *m,
		   uint32_t src_ip)
{
	size_t len;

	if (!m->ciaddr && !src_ip && !m->giaddr) {
		s->count[DC_IGNORED]++;
		return;
	}
	if (m->ciaddr && !m->giaddr &&
	    !inform_ciaddr_ok(s, m->ciaddr, src_ip)) {
		s->count[DC_IGNORED]++;
		return;
	}
	len = build(s, m, DHCPACK, m->ciaddr, 0, NULL, NULL);
	send_now(s, m, DHCPACK, 0, m->ciaddr ? m->ciaddr : src_ip, len);
	s->count[DC_ACK]++;
}

void dhcp_srv_input(struct dhcp_srv *s, uint32_t src_ip, uint16_t src_port,
		    const uint8_t *data, size_t len)
{
	struct dhcp_msg *m = &s->msg;
	struct client c;
	uint8_t type;

	(void)src_port;
	s->count[DC_RX]++;
	if (dhcp_parse(data, len, m) != DHCP_OK) {
		s->count[DC_BAD]++;
		return;
	}
	if (m->op != BOOTREQUEST || !dhcp_opt_u8(m, OPT_MSG_TYPE, &type) ||
	    !client_of(s, m, &c)) {
		s->count[DC_IGNORED]++;
		return;
	}
	/* The pools are for our link: a relay on another subnet would hand
	 * its clients addresses that do not work there. */
	if (m->giaddr && !in_subnet(s, m->giaddr)) {
		s->count[DC_IGNORED]++;
		return;
	}
	switch (type) {
	case DHCPDISCOVER:
		s->count[DC_DISCOVER]++;
		discover(s, m, &c);
		break;
	case DHCPREQUEST:
		s->count[DC_REQUEST]++;
		request(s, m, &c);
		break;
	case DHCPDECLINE:
		s->count[DC_DECLINE]++;
		decline(s, m, &c);
		break;
	case DHCPRELEASE:
		s->count[DC_RELEASE]++;
		release(s, m, &c);
		break;
	case DHCPINFORM:
		s->count[DC_INFORM]++;
		inform(s, m, src_ip);
		break;
	default:
		s->count[DC_IGNORED]++;
		break;
	}
}

void dhcp_srv_tick(struct dhcp_srv *s)
{
	int64_t t = now(s);

	for (uint32_t i = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slot[i];

		if (sl->state == S_FREE || sl->expires > t)
			continue;
		if (sl->state == S_BOUND) {
			s->count[DC_EXPIRED]++;
			unpublish(s, i);
		}
		set_state(s, i, S_FREE);
	}
}
