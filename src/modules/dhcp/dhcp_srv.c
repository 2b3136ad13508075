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
#define LOG_NOTICE 5
#define LOG_INFO 6
/* Seconds between two lines about a lease file that stays unwritable. */
#define JFAIL_REPEAT 300

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
	[DC_UNWRITTEN] = "ack_unwritten",
	[DC_NO_SUBNET] = "no_subnet",
	[DC_MAC_CAP] = "mac_cap",
	[DC_PING] = "ping_check",
	[DC_PING_TAKEN] = "ping_answered",
	[DC_PING_BUSY] = "ping_busy",
};

enum slot_state { S_FREE, S_OFFERED, S_BOUND, S_DECLINED };

struct slot {
	uint32_t addr;
	uint8_t state;
	bool reserved;
	bool published;
	bool probing;     /* offered, waiting for its ping check */
	bool has_mac;     /* in the MAC hash */
	uint8_t sub;      /* 0: the link; k + 1: relay subnet k */
	uint8_t inq;      /* Q_NONE, or which queue the slot is in */
	uint16_t res;     /* reservation index when reserved */
	uint8_t keylen;   /* 0: never used (or forgotten) */
	uint8_t key[KEY_MAX];
	uint8_t mac[6];
	char host[JREC_HOST_MAX + 1];
	int64_t expires;  /* lease end, offer end or quarantine end */
	uint32_t hnext;   /* client-key hash chain */
	uint32_t mnext;   /* MAC hash chain */
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

/* A DISCOVER waiting for the ping check of the address it is to get. */
struct probe {
	struct dhcp_srv *s;
	bool used;
	uint8_t tries;  /* addresses found taken so far */
	uint32_t slot;
	void *handle;
	uint32_t src_ip;
	uint8_t key[KEY_MAX];
	uint8_t keylen;
	uint16_t len;
	uint8_t data[DHCP_MSG_MAX];
};

#define NSUB (DHCP_MAX_SUBNETS + 1)

struct dhcp_srv {
	struct dhcp_cfg cfg; /* res and opts point into the caller's config */
	struct dhcp_env env;
	struct slot *slot;
	uint32_t nslots;
	uint32_t *bucket;
	uint32_t *mbucket; /* by MAC */
	uint32_t nbuckets;
	uint32_t qhead[NSUB], qtail[NSUB]; /* free queues, per subnet */
	uint32_t ohead[NSUB], otail[NSUB]; /* offer queues */
	struct probe *probe; /* DHCP_MAX_PROBES, when ping_check */
	uint8_t tries;       /* of the DISCOVER being served again */
	const uint8_t *raw;  /* the message being served, as received */
	size_t rawlen;
	uint32_t raw_src;
	uint8_t rerun[DHCP_MSG_MAX];
	uint32_t nbound, nactive;
	uint8_t hkey[TAPIR_SIPHASH_KEY_LEN];
	struct lease_journal j;
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
	/* The journal cannot be written; the last line logged about it. */
	bool jfail;
	int64_t jfail_logged;
	unsigned long rewrite_retry; /* no compaction below this many records */
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
	c->ping_timeout_ms = 500;
}

void dhcp_cfg_free(struct dhcp_cfg *c)
{
	free(c->res);
	free(c->opts);
	free(c->subnets);
	c->res = NULL;
	c->opts = NULL;
	c->subnets = NULL;
	c->nres = c->nopts = c->nsubnets = 0;
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

/* The MAC hash: every slot that has served a client is chained under its
 * client's MAC, so the clients behind one MAC are counted without a walk
 * over the whole pool. */
static uint32_t mac_hash(const struct dhcp_srv *s, const uint8_t *mac)
{
	return (uint32_t)tapir_siphash24(mac, 6, s->hkey) & (s->nbuckets - 1);
}

static void mac_set(struct dhcp_srv *s, uint32_t i, const uint8_t *mac)
{
	struct slot *sl = &s->slot[i];
	uint32_t h;

	if (sl->has_mac) {
		if (memcmp(sl->mac, mac, 6) == 0)
			return;
		for (uint32_t *pp = &s->mbucket[mac_hash(s, sl->mac)];
		     *pp != NONE; pp = &s->slot[*pp].mnext) {
			if (*pp == i) {
				*pp = sl->mnext;
				break;
			}
		}
	}
	memcpy(sl->mac, mac, 6);
	h = mac_hash(s, mac);
	sl->mnext = s->mbucket[h];
	s->mbucket[h] = i;
	sl->has_mac = true;
}

static bool active(uint8_t st);

/* Dynamic addresses offered or bound to clients behind mac whose key is
 * not key: the other client identifiers one MAC holds addresses for. */
static uint32_t mac_others(const struct dhcp_srv *s, const uint8_t *mac,
			   const uint8_t *key, size_t keylen)
{
	uint32_t n = 0;

	for (uint32_t i = s->mbucket[mac_hash(s, mac)]; i != NONE;
	     i = s->slot[i].mnext) {
		const struct slot *sl = &s->slot[i];

		if (!sl->reserved && active(sl->state) &&
		    memcmp(sl->mac, mac, 6) == 0 &&
		    !(sl->keylen == keylen && memcmp(sl->key, key, keylen) == 0))
			n++;
	}
	return n;
}

static uint32_t *q_head(struct dhcp_srv *s, uint8_t q, uint8_t sub)
{
	return q == Q_OFFER ? &s->ohead[sub] : &s->qhead[sub];
}

static uint32_t *q_tail(struct dhcp_srv *s, uint8_t q, uint8_t sub)
{
	return q == Q_OFFER ? &s->otail[sub] : &s->qtail[sub];
}

static void q_remove(struct dhcp_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];

	if (sl->inq == Q_NONE)
		return;
	if (sl->qprev != NONE)
		s->slot[sl->qprev].qnext = sl->qnext;
	else
		*q_head(s, sl->inq, sl->sub) = sl->qnext;
	if (sl->qnext != NONE)
		s->slot[sl->qnext].qprev = sl->qprev;
	else
		*q_tail(s, sl->inq, sl->sub) = sl->qprev;
	sl->inq = Q_NONE;
	sl->qprev = sl->qnext = NONE;
}

static void q_push_tail(struct dhcp_srv *s, uint32_t i, uint8_t q)
{
	struct slot *sl = &s->slot[i];
	uint32_t *tail = q_tail(s, q, sl->sub);

	if (sl->inq != Q_NONE || sl->reserved)
		return;
	sl->qnext = NONE;
	sl->qprev = *tail;
	if (*tail != NONE)
		s->slot[*tail].qnext = i;
	else
		*q_head(s, q, sl->sub) = i;
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
	if (st != S_OFFERED)
		sl->probing = false;
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
		mac_set(s, i, r->mac);
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
	rc = lj_append(&s->j, s->rec, s->reclen, s->nrec);
	s->count[DC_FSYNC]++;
	s->reclen = 0;
	s->nrec = 0;
	if (rc) {
		/* Nothing of the batch is in the file: its ACKs are dropped,
		 * not sent.  Silence, not a NAK: a NAK tells a client its
		 * address is wrong (RFC 2131 4.3.2) and sends a bound client
		 * back to INIT; unanswered, it retransmits (4.1) or keeps its
		 * lease and renews later (4.4.5), and the next REQUEST tries
		 * the file again. */
		s->count[DC_JOURNAL_ERR]++;
		s->count[DC_UNWRITTEN] += s->npend;
		if (!s->jfail || now(s) - s->jfail_logged >= JFAIL_REPEAT) {
			slog(s, LOG_ERR, "cannot write lease file %s: %s; "
			     "leases are not granted until it can be "
			     "written%s", s->cfg.lease_file, strerror(-rc),
			     -rc == ENOSPC || -rc == EDQUOT ?
			     " (free space on its file system)" : "");
			s->jfail_logged = now(s);
		}
		s->jfail = true;
		s->npend = 0;
		return;
	}
	if (s->jfail) {
		slog(s, LOG_NOTICE, "lease file %s written again; leases are "
		     "granted", s->cfg.lease_file);
		s->jfail = false;
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
	if (s->j.records > 1024 && s->j.records > 4ul * (s->nbound + 256) &&
	    s->j.records >= s->rewrite_retry) {
		rc = rewrite(s);
		if (rc) {
			/* The old file stays in use; try again when it has
			 * grown by another 1024 records, not on every batch. */
			s->rewrite_retry = s->j.records + 1024;
			slog(s, LOG_ERR, "cannot compact lease file %s: %s; "
			     "it is kept and grows until it can be",
			     s->cfg.lease_file, strerror(-rc));
		}
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

static bool in_net(uint32_t a, uint32_t net, unsigned prefix)
{
	uint32_t mask = tapir_v4_mask(prefix);

	return (a & mask) == (net & mask);
}

/* The network or broadcast address of net/prefix (none on a /31, /32). */
static bool net_edge(uint32_t a, unsigned prefix)
{
	uint32_t mask = tapir_v4_mask(prefix);

	return prefix < 31 && ((a & ~mask) == 0 || (a & ~mask) == ~mask);
}

/* The subnet an address belongs to: k + 1 for relay subnet k, else 0. */
static uint8_t sub_of_addr(const struct dhcp_cfg *c, uint32_t a)
{
	for (unsigned k = 0; k < c->nsubnets; k++)
		if (in_net(a, c->subnets[k].net, c->subnets[k].prefix))
			return (uint8_t)(k + 1);
	return 0;
}

struct dhcp_srv *dhcp_srv_new(const struct dhcp_cfg *cfg,
			      const struct dhcp_env *env, char *err,
			      size_t errlen)
{
	struct dhcp_srv *s = calloc(1, sizeof(*s));
	uint32_t *addrs = NULL, n = 0;
	struct lj_stats st;
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
	if (cfg->nsubnets > DHCP_MAX_SUBNETS) {
		snprintf(err, errlen, "%u subnets: at most %u", cfg->nsubnets,
			 DHCP_MAX_SUBNETS);
		goto fail;
	}
	for (unsigned k = 0; k < cfg->nsubnets; k++) {
		const struct dhcp_subnet *sn = &cfg->subnets[k];
		unsigned p = sn->prefix < env->prefix ? sn->prefix : env->prefix;

		if (in_net(sn->net, env->server_ip, p)) {
			snprintf(err, errlen, "subnet %u.%u.%u.%u/%u overlaps "
				 "the interface's own subnet", sn->net >> 24,
				 (sn->net >> 16) & 255, (sn->net >> 8) & 255,
				 sn->net & 255, sn->prefix);
			goto fail;
		}
	}
	for (unsigned k = 0; k < cfg->nsubnets; k++)
		for (unsigned r = 0; r < cfg->subnets[k].nranges; r++)
			total += (uint64_t)cfg->subnets[k].range[r].last -
				 cfg->subnets[k].range[r].first + 1;
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
	if (cfg->ping_check && env->ping && env->ping_cancel)
		s->probe = calloc(DHCP_MAX_PROBES, sizeof(*s->probe));
	if (!addrs || !s->slot || !s->pend || !s->rec ||
	    (cfg->ping_check && env->ping && env->ping_cancel && !s->probe)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Every pool address except ours, the subnet's network and broadcast
	 * addresses; then the reservations (which may lie in the pool). */
	for (unsigned r = 0; r < cfg->nranges; r++) {
		for (uint64_t a = cfg->range[r].first; a <= cfg->range[r].last;
		     a++) {
			uint32_t x = (uint32_t)a;

			if (x == env->server_ip || net_edge(x, env->prefix))
				continue;
			addrs[n++] = x;
		}
	}
	/* Each relay subnet's pool, without its network and broadcast
	 * addresses. */
	for (unsigned k = 0; k < cfg->nsubnets; k++) {
		const struct dhcp_subnet *sn = &cfg->subnets[k];

		for (unsigned r = 0; r < sn->nranges; r++) {
			for (uint64_t a = sn->range[r].first;
			     a <= sn->range[r].last; a++) {
				uint32_t x = (uint32_t)a;

				if (x == env->server_ip ||
				    net_edge(x, sn->prefix))
					continue;
				addrs[n++] = x;
			}
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
	for (uint32_t k = 0; k < n; k++) {
		if (k == 0 || addrs[k] != addrs[k - 1]) {
			s->slot[s->nslots].addr = addrs[k];
			s->slot[s->nslots++].sub = sub_of_addr(cfg, addrs[k]);
		}
	}
	free(addrs);
	addrs = NULL;
	for (s->nbuckets = 64; s->nbuckets < s->nslots; s->nbuckets *= 2)
		;
	s->bucket = malloc(s->nbuckets * sizeof(*s->bucket));
	s->mbucket = malloc(s->nbuckets * sizeof(*s->mbucket));
	if (!s->bucket || !s->mbucket) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memset(s->bucket, 0xff, s->nbuckets * sizeof(*s->bucket));
	memset(s->mbucket, 0xff, s->nbuckets * sizeof(*s->mbucket));
	for (unsigned k = 0; k < NSUB; k++) {
		s->qhead[k] = s->qtail[k] = NONE;
		s->ohead[k] = s->otail[k] = NONE;
	}
	for (uint32_t i = 0; i < s->nslots; i++) {
		s->slot[i].hnext = s->slot[i].qprev = s->slot[i].qnext = NONE;
		s->slot[i].mnext = NONE;
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
	lj_close(&s->j);
	for (unsigned k = 0; s->probe && k < DHCP_MAX_PROBES; k++)
		if (s->probe[k].used)
			s->env.ping_cancel(s->env.arg, s->probe[k].handle);
	free(s->probe);
	free(s->slot);
	free(s->bucket);
	free(s->mbucket);
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

/* ---- subnets and lease times -------------------------------------------- */

static uint32_t sub_net(const struct dhcp_srv *s, uint8_t sub)
{
	return sub ? s->cfg.subnets[sub - 1].net : s->env.server_ip;
}

static unsigned sub_prefix(const struct dhcp_srv *s, uint8_t sub)
{
	return sub ? s->cfg.subnets[sub - 1].prefix : s->env.prefix;
}

static bool in_sub(const struct dhcp_srv *s, uint8_t sub, uint32_t a)
{
	return in_net(a, sub_net(s, sub), sub_prefix(s, sub));
}

/* The subnet a request is served from, or -1 when none of ours: a relay's
 * (RFC 2131 4.3.1: giaddr chooses), else for a client that talks to us
 * straight with an address (a renewal, RFC 2131 4.3.2) the subnet of that
 * address, else the link. */
static int req_sub(const struct dhcp_srv *s, const struct dhcp_msg *m)
{
	if (m->giaddr) {
		uint8_t k = sub_of_addr(&s->cfg, m->giaddr);

		if (k)
			return k;
		return in_sub(s, 0, m->giaddr) ? 0 : -1;
	}
	if (m->ciaddr)
		return sub_of_addr(&s->cfg, m->ciaddr);
	return 0;
}

static uint32_t base_lease(const struct dhcp_srv *s, uint8_t sub)
{
	if (sub && s->cfg.subnets[sub - 1].lease_time)
		return s->cfg.subnets[sub - 1].lease_time;
	return s->cfg.lease_time;
}

/* The lease to grant: the one the client asks for (option 51, RFC 2131
 * 3.5) within min_lease_time..max_lease_time, else the subnet's. */
static uint32_t lease_want(const struct dhcp_srv *s, const struct dhcp_msg *m,
			   uint8_t sub)
{
	uint32_t base = base_lease(s, sub), v;
	uint32_t lo = s->cfg.min_lease_time ? s->cfg.min_lease_time : base;
	uint32_t hi = s->cfg.max_lease_time ? s->cfg.max_lease_time : base;

	if (!dhcp_opt_u32(m, OPT_LEASE_TIME, &v))
		return base;
	if (lo > base)
		lo = base;
	if (hi < base)
		hi = base;
	return v < lo ? lo : v > hi ? hi : v;
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

/* The options that depend on the parameter request list, with the
 * subnet's mask, routers and DNS servers. */
static void put_config(struct dhcp_srv *s, struct dhcp_out *o,
		       const struct dhcp_msg *m, const char *host, uint8_t sub)
{
	bool prl;
	uint32_t mask = tapir_v4_mask(sub_prefix(s, sub));
	const struct dhcp_subnet *sn = sub ? &s->cfg.subnets[sub - 1] : NULL;

	if (in_prl(m, OPT_SUBNET_MASK, &prl))
		dhcp_out_u32(o, OPT_SUBNET_MASK, mask);
	if (in_prl(m, OPT_ROUTER, &prl)) {
		if (sn)
			put_addrs(o, OPT_ROUTER, sn->router, sn->nrouters);
		else
			put_addrs(o, OPT_ROUTER, s->cfg.router,
				  s->cfg.nrouters);
	}
	if (in_prl(m, OPT_DNS, &prl)) {
		if (sn && sn->ndns)
			put_addrs(o, OPT_DNS, sn->dns, sn->ndns);
		else
			put_addrs(o, OPT_DNS, s->cfg.dns, s->cfg.ndns);
	}
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

/* RFC 4702 2.1: the flags of the client FQDN option. */
#define FQDN_S 0x01 /* the server updates the A record */
#define FQDN_O 0x02 /* the server overrode the client's S */
#define FQDN_E 0x04 /* the name is in canonical wire format */
#define FQDN_N 0x08 /* no DNS update at all */

static bool fqdn_no_update(const struct dhcp_msg *m)
{
	size_t len;
	const uint8_t *p = dhcp_opt(m, OPT_FQDN, &len);

	return p && len >= 3 && (p[0] & FQDN_N);
}

/* True when host is the host name of a reservation other than own (a
 * reservation index, or -1): that name is the reserved client's, whether
 * or not it is here now, and another client must not have it published. */
static bool reserved_name(const struct dhcp_srv *s, long own, const char *host)
{
	for (unsigned k = 0; k < s->cfg.nres; k++)
		if ((long)k != own &&
		    tapir_ieq_str(host, strlen(host), s->cfg.res[k].host))
			return true;
	return false;
}

/* The name a lease of slot sl is published under: its reservation's,
 * else the client's own (option 81, else 12) unless the client asked for
 * no DNS update (RFC 4702 N flag) or the name is another reservation's.
 * Returns it (in out or the config), or NULL. */
static const char *lease_name(const struct dhcp_srv *s,
			      const struct dhcp_msg *m, const struct slot *sl,
			      char out[64])
{
	long own = sl->reserved ? (long)sl->res : -1;

	if (sl->reserved && s->cfg.res[sl->res].host[0])
		return s->cfg.res[sl->res].host;
	if (fqdn_no_update(m) || !dhcp_client_hostname(m, out) ||
	    reserved_name(s, own, out))
		return NULL;
	return out;
}

/* RFC 4702 (a server that updates DNS itself: the dns module answers A
 * and PTR for the lease's name): the option in a reply to a client that
 * sent one.  S set when we publish the name (O when the client had asked
 * otherwise), N when we do not; RCODEs 255; the name as we publish it,
 * host.domain, in the client's encoding (E: canonical wire format,
 * RFC 1035 3.1 labels, fully qualified when the domain is known). */
static void put_fqdn(struct dhcp_srv *s, struct dhcp_out *o,
		     const struct dhcp_msg *m, const char *host)
{
	size_t len, n = 3, hl, dl = strlen(s->cfg.domain);
	const uint8_t *p = dhcp_opt(m, OPT_FQDN, &len);
	uint8_t b[3 + 1 + 63 + 1 + 256 + 1];

	if (!p || len < 3)
		return;
	b[0] = p[0] & FQDN_E;
	if (host) {
		b[0] |= FQDN_S;
		if (!(p[0] & FQDN_S))
			b[0] |= FQDN_O;
	} else {
		b[0] |= FQDN_N;
		if (p[0] & FQDN_S)
			b[0] |= FQDN_O;
	}
	b[1] = b[2] = 255;
	if (host) {
		hl = strlen(host);
		if (b[0] & FQDN_E) {
			b[n++] = (uint8_t)hl;
			memcpy(b + n, host, hl);
			n += hl;
			for (size_t i = 0, start = 0; dl && i <= dl; i++) {
				if (i < dl && s->cfg.domain[i] != '.')
					continue;
				b[n++] = (uint8_t)(i - start);
				memcpy(b + n, s->cfg.domain + start, i - start);
				n += i - start;
				start = i + 1;
			}
			if (dl)
				b[n++] = 0;
		} else {
			memcpy(b + n, host, hl);
			n += hl;
			if (dl) {
				b[n++] = '.';
				memcpy(b + n, s->cfg.domain, dl);
				n += dl;
			}
		}
	}
	dhcp_out_opt(o, OPT_FQDN, b, n);
}

/* RFC 3046 2.2: the relay agent information of a relayed request goes
 * back unchanged, as the last option of every reply to it. */
static void put_relay_info(struct dhcp_out *o, const struct dhcp_msg *m)
{
	size_t len;
	const uint8_t *p;

	if (!m->giaddr)
		return;
	p = dhcp_opt(m, OPT_RELAY_INFO, &len);
	if (p)
		dhcp_out_opt(o, OPT_RELAY_INFO, p, len);
}

/* What a reply says besides its type and addresses. */
struct rinfo {
	uint8_t sub;
	uint32_t want;  /* the lease granted (sets T1 and T2) */
	uint32_t lease; /* the lease time sent (less for a lease running) */
};

/* Build a reply into s->out; returns its length. */
static size_t build(struct dhcp_srv *s, const struct dhcp_msg *m, uint8_t type,
		    uint32_t ciaddr, uint32_t yiaddr, const struct slot *sl,
		    const char *text, const struct rinfo *ri)
{
	struct dhcp_out o;
	const char *host = NULL;
	char name[64];

	dhcp_out_start(&o, s->out, reply_cap(s, m), m, type, ciaddr, yiaddr,
		       0);
	dhcp_out_u32(&o, OPT_SERVER_ID, s->env.server_ip);
	if (type == DHCPNAK) {
		if (text)
			dhcp_out_opt(&o, OPT_MESSAGE, text, strlen(text));
		put_relay_info(&o, m);
		return dhcp_out_finish(&o);
	}
	if (sl) {
		/* T1 and T2 keep their share of the lease when the client
		 * asked for another length. */
		uint32_t lease = ri->lease, base = s->cfg.lease_time;
		uint64_t t1 = s->cfg.t1 ? (uint64_t)s->cfg.t1 * ri->want / base
					: ri->want / 2;
		uint64_t t2 = s->cfg.t2 ? (uint64_t)s->cfg.t2 * ri->want / base
					: (uint64_t)ri->want * 7 / 8;

		dhcp_out_u32(&o, OPT_LEASE_TIME, lease);
		dhcp_out_u32(&o, OPT_T1,
			     (uint32_t)(t1 < lease ? t1 : lease / 2));
		dhcp_out_u32(&o, OPT_T2,
			     (uint32_t)(t2 < lease ? t2
						   : (uint64_t)lease * 7 / 8));
		host = sl->reserved && s->cfg.res[sl->res].host[0]
			       ? s->cfg.res[sl->res].host
			       : NULL;
	}
	put_config(s, &o, m, host, ri ? ri->sub : 0);
	if (sl)
		put_fqdn(s, &o, m, lease_name(s, m, sl, name));
	put_relay_info(&o, m);
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
	size_t len = build(s, m, DHCPNAK, 0, 0, NULL, why, NULL);

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
	bool has_mac;  /* Ethernet: mac is chaddr */
	uint8_t mac[6];
	uint8_t sub;   /* the subnet it is served from */
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
	if (m->htype == 1 && m->hlen == 6) {
		memcpy(c->mac, m->chaddr, 6);
		c->has_mac = true;
	}
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

/* The client's slot if it has one that may serve it now, on the subnet it
 * is served from.  A reserved client has only its reservation: on another
 * subnet it gets nothing. */
static uint32_t client_slot(struct dhcp_srv *s, const struct client *c)
{
	if (c->res != NONE)
		return s->slot[c->res].state == S_DECLINED ||
				       s->slot[c->res].sub != c->sub
			       ? NONE
			       : c->res;
	if (c->dyn != NONE && s->slot[c->dyn].state != S_DECLINED &&
	    s->slot[c->dyn].sub == c->sub)
		return c->dyn;
	return NONE;
}

static bool may_activate(struct dhcp_srv *s, uint32_t i)
{
	return active(s->slot[i].state) || !s->cfg.max_leases ||
	       s->nactive < s->cfg.max_leases;
}

/* max_leases_per_mac: may slot i become the client's?  Its own active
 * slot always may; a new one only while the other client identifiers
 * behind its MAC hold fewer addresses than the cap.  Reservations are
 * the operator's word and not counted. */
static bool mac_cap_ok(const struct dhcp_srv *s, const struct client *c,
		       uint32_t i)
{
	const struct slot *sl = &s->slot[i];

	if (!s->cfg.max_leases_per_mac || !c->has_mac || sl->reserved)
		return true;
	if (active(sl->state) && sl->keylen == c->keylen &&
	    memcmp(sl->key, c->key, c->keylen) == 0)
		return true;
	return mac_others(s, c->mac, c->key, c->keylen) <
	       s->cfg.max_leases_per_mac;
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

/* Offer slot i to the client. */
static void offer(struct dhcp_srv *s, const struct dhcp_msg *m,
		  const struct client *c, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	struct rinfo ri = {c->sub, lease_want(s, m, c->sub), 0};
	size_t len;

	ri.lease = ri.want;
	if (sl->state != S_BOUND) {
		if (!sl->reserved)
			set_key(s, i, c->key, c->keylen);
		mac_set(s, i, c->mac);
		sl->expires = now(s) + s->cfg.offer_time;
		set_state(s, i, S_OFFERED);
	} else {
		/* A lease running: what is left of it. */
		int64_t left = sl->expires - now(s);

		if (left > 0 && left < ri.lease)
			ri.lease = (uint32_t)left;
	}
	drop_other(s, c, i);
	len = build(s, m, DHCPOFFER, 0, sl->addr, sl, NULL, &ri);
	send_now(s, m, DHCPOFFER, sl->addr, 0, len);
	s->count[DC_OFFER]++;
}

static void probe_done(void *ctx, int result);

/* Hold slot i for the client and ping its address first; the offer (or
 * another address) follows in probe_done. */
static void start_probe(struct dhcp_srv *s, const struct dhcp_msg *m,
			const struct client *c, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	struct probe *p = NULL;

	for (unsigned k = 0; k < DHCP_MAX_PROBES; k++) {
		struct probe *q = &s->probe[k];

		if (q->used && q->keylen == c->keylen &&
		    memcmp(q->key, c->key, c->keylen) == 0)
			return; /* a retransmission: its check runs */
		if (!q->used && !p)
			p = q;
	}
	if (!p || !s->raw || s->rawlen > sizeof(p->data)) {
		s->count[DC_PING_BUSY]++;
		return;
	}
	set_key(s, i, c->key, c->keylen);
	mac_set(s, i, c->mac);
	sl->expires = now(s) + s->cfg.offer_time;
	set_state(s, i, S_OFFERED);
	drop_other(s, c, i);
	/* Out of the offer queue: not given to another client meanwhile. */
	q_remove(s, i);
	sl->probing = true;
	p->s = s;
	p->used = true;
	p->tries = s->tries;
	p->slot = i;
	p->src_ip = s->raw_src;
	memcpy(p->key, c->key, c->keylen);
	p->keylen = (uint8_t)c->keylen;
	memcpy(p->data, s->raw, s->rawlen);
	p->len = (uint16_t)s->rawlen;
	p->handle = s->env.ping(s->env.arg, sl->addr, s->cfg.ping_timeout_ms,
				probe_done, p);
	if (!p->handle) {
		/* No check to be had: offer unchecked. */
		p->used = false;
		sl->probing = false;
		offer(s, m, c, i);
		return;
	}
	s->count[DC_PING]++;
}

static void discover(struct dhcp_srv *s, const struct dhcp_msg *m,
		     const struct client *c);

static void probe_done(void *ctx, int result)
{
	struct probe *p = ctx;
	struct dhcp_srv *s = p->s;
	struct slot *sl = &s->slot[p->slot];
	struct dhcp_msg *m = &s->msg;
	struct client c;
	struct jrec r;
	uint32_t i = p->slot;
	size_t len = p->len;
	int sub;
	char a[16];

	p->used = false;
	p->handle = NULL;
	/* Expired or given away meanwhile: the client asks again. */
	if (!sl->probing || sl->state != S_OFFERED || sl->keylen != p->keylen ||
	    memcmp(sl->key, p->key, p->keylen) != 0)
		return;
	sl->probing = false;
	memcpy(s->rerun, p->data, len);
	if (dhcp_parse(s->rerun, len, m) != DHCP_OK || !client_of(s, m, &c) ||
	    (sub = req_sub(s, m)) < 0) {
		set_state(s, i, S_FREE);
		return;
	}
	c.sub = (uint8_t)sub;
	if (result != 1) {
		offer(s, m, &c, i);
		return;
	}
	/* Someone answers on the address: set it aside as if declined. */
	s->count[DC_PING_TAKEN]++;
	ip_str(sl->addr, a);
	slog(s, LOG_WARNING, "%s answers pings: not offered, set aside for "
	     "%u s", a, s->cfg.decline_time);
	hash_remove(s, i);
	sl->expires = now(s) + s->cfg.decline_time;
	set_state(s, i, S_DECLINED);
	slot_rec(sl, &r);
	add_rec(s, &r);
	if (p->tries + 1 >= DHCP_PROBE_TRIES) {
		s->count[DC_NO_ADDRESS]++;
		return;
	}
	/* Serve the DISCOVER again: another address, checked again. */
	client_of(s, m, &c);
	c.sub = (uint8_t)sub;
	s->tries = (uint8_t)(p->tries + 1);
	s->raw = s->rerun;
	s->rawlen = len;
	s->raw_src = p->src_ip;
	discover(s, m, &c);
	s->tries = 0;
	s->raw = NULL;
}

static void discover(struct dhcp_srv *s, const struct dhcp_msg *m,
		     const struct client *c)
{
	uint32_t i = client_slot(s, c), req;
	struct slot *sl;

	if (i == NONE && c->res == NONE && dhcp_opt_u32(m, OPT_REQUESTED_IP, &req)) {
		uint32_t r = addr_slot(s, req);

		if (r != NONE && !s->slot[r].reserved &&
		    s->slot[r].state == S_FREE && s->slot[r].sub == c->sub)
			i = r;
	}
	if (i == NONE && c->res == NONE)
		i = s->qhead[c->sub];
	/* The pool has run dry: an offer is no reservation a stranger can
	 * hold (RFC 2131 4.3.1 lets the server take it back); the oldest
	 * one still unanswered goes to this client.  So a flood of
	 * DISCOVERs from made-up clients cannot keep a real one, which
	 * answers its offer at once, from getting its lease. */
	if (i == NONE && c->res == NONE && s->ohead[c->sub] != NONE) {
		i = s->ohead[c->sub];
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
	if (!mac_cap_ok(s, c, i)) {
		s->count[DC_MAC_CAP]++;
		return;
	}
	sl = &s->slot[i];
	if (sl->probing)
		return; /* a retransmission while its address is checked */
	if (sl->state == S_FREE && s->probe && !sl->reserved) {
		start_probe(s, m, c, i);
		return;
	}
	offer(s, m, c, i);
}

/* Bind slot i to the client and queue the ACK behind the journal. */
static void bind(struct dhcp_srv *s, const struct dhcp_msg *m,
		 const struct client *c, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	struct rinfo ri = {c->sub, lease_want(s, m, c->sub), 0};
	struct dest d;
	struct pend *p;
	struct jrec r;
	char host[64];

	if (!may_activate(s, i)) {
		s->count[DC_NO_ADDRESS]++;
		return;
	}
	if (!mac_cap_ok(s, c, i)) {
		s->count[DC_MAC_CAP]++;
		return;
	}
	if (s->npend >= s->cfg.batch_max)
		dhcp_srv_flush(s);
	if (!sl->reserved)
		set_key(s, i, c->key, c->keylen);
	mac_set(s, i, c->mac);
	if (dhcp_client_hostname(m, host) && !fqdn_no_update(m) &&
	    !reserved_name(s, sl->reserved ? (long)sl->res : -1, host))
		memcpy(sl->host, host, sizeof(sl->host));
	else if (fqdn_no_update(m))
		sl->host[0] = 0; /* RFC 4702: no name in the DNS */
	ri.lease = ri.want;
	sl->expires = now(s) + ri.want;
	set_state(s, i, S_BOUND);
	drop_other(s, c, i);
	slot_rec(sl, &r);
	add_rec(s, &r);
	p = &s->pend[s->npend++];
	p->slot = i;
	p->len = (uint16_t)build(s, m, DHCPACK, m->ciaddr, sl->addr, sl, NULL,
				 &ri);
	memcpy(p->data, s->out, p->len);
	d = dest_of(m, DHCPACK, sl->addr, 0);
	p->ip = d.ip;
	p->port = d.port;
	p->has_mac = d.mac != NULL;
	if (d.mac)
		memcpy(p->mac, d.mac, 6);
}

/* Whether address a is on the client's subnet or one of its slots. */
static bool ours(const struct dhcp_srv *s, uint8_t sub, uint32_t a)
{
	uint32_t i;

	if (in_sub(s, sub, a))
		return true;
	i = addr_slot(s, a);
	return i != NONE && s->slot[i].sub == sub;
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
			if (i != NONE && s->slot[i].state == S_OFFERED &&
			    !s->slot[i].probing)
				set_state(s, i, S_FREE);
			s->count[DC_IGNORED]++;
			return;
		}
		if (!has_req || m->ciaddr) {
			s->count[DC_IGNORED]++;
			return;
		}
		if (i != NONE && s->slot[i].addr == req &&
		    !s->slot[i].probing &&
		    (active(s->slot[i].state) || s->slot[i].state == S_FREE)) {
			bind(s, m, c, i);
			return;
		}
		nak(s, m, "offer no longer valid");
		return;
	}
	if (has_req && !m->ciaddr) {
		/* INIT-REBOOT: is the remembered address still right? */
		if (!ours(s, c->sub, req)) {
			nak(s, m, "wrong network");
			return;
		}
		if (i != NONE && s->slot[i].addr == req &&
		    !s->slot[i].probing) {
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
		if (i != NONE && s->slot[i].addr == m->ciaddr &&
		    !s->slot[i].probing) {
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
	    s->slot[i].addr != req || !active(s->slot[i].state) ||
	    s->slot[i].probing) {
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
 * it must be a host address of the client's subnet; else anyone could aim
 * our replies at any address. */
static bool inform_ciaddr_ok(const struct dhcp_srv *s, uint8_t sub,
			     uint32_t ciaddr, uint32_t src_ip)
{
	if (src_ip && ciaddr == src_ip)
		return true;
	if (!in_sub(s, sub, ciaddr))
		return false;
	return !net_edge(ciaddr, sub_prefix(s, sub));
}

static void inform(struct dhcp_srv *s, const struct dhcp_msg *m,
		   uint32_t src_ip, uint8_t sub)
{
	struct rinfo ri = {sub, 0, 0};
	size_t len;

	if (!m->ciaddr && !src_ip && !m->giaddr) {
		s->count[DC_IGNORED]++;
		return;
	}
	if (m->ciaddr && !m->giaddr &&
	    !inform_ciaddr_ok(s, sub, m->ciaddr, src_ip)) {
		s->count[DC_IGNORED]++;
		return;
	}
	len = build(s, m, DHCPACK, m->ciaddr, 0, NULL, NULL, &ri);
	send_now(s, m, DHCPACK, 0, m->ciaddr ? m->ciaddr : src_ip, len);
	s->count[DC_ACK]++;
}

void dhcp_srv_input(struct dhcp_srv *s, uint32_t src_ip, uint16_t src_port,
		    const uint8_t *data, size_t len)
{
	struct dhcp_msg *m = &s->msg;
	struct client c;
	uint8_t type;
	int sub;

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
	/* A relay on a subnet we have no pool for would hand its clients
	 * addresses that do not work there. */
	sub = req_sub(s, m);
	if (sub < 0) {
		s->count[DC_NO_SUBNET]++;
		return;
	}
	c.sub = (uint8_t)sub;
	s->raw = data;
	s->rawlen = len;
	s->raw_src = src_ip;
	s->tries = 0;
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
		inform(s, m, src_ip, c.sub);
		break;
	default:
		s->count[DC_IGNORED]++;
		break;
	}
	s->raw = NULL;
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
