/* The DHCPv6 server proper (RFC 8415); see dhcp6_srv.h. */
#include "dhcp6_srv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapir/bytes.h>
#include <tapir/siphash.h>
#include <tapir/text.h>

#define NONE UINT32_MAX
#define BATCH_HARD_MAX 1024
#define LOG_ERR 3
#define LOG_WARNING 4
#define LOG_NOTICE 5
#define LOG_INFO 6
/* Seconds between two lines about a lease file that stays unwritable. */
#define JFAIL_REPEAT 300

const char *const d6_count_names[C6_COUNT] = {
	[C6_RX] = "rx",
	[C6_SOLICIT] = "solicit",
	[C6_REQUEST] = "request",
	[C6_CONFIRM] = "confirm",
	[C6_RENEW] = "renew",
	[C6_REBIND] = "rebind",
	[C6_RELEASE] = "release",
	[C6_DECLINE] = "decline",
	[C6_INFO_REQUEST] = "information_request",
	[C6_ADVERTISE] = "advertise",
	[C6_REPLY] = "reply",
	[C6_RAPID_COMMIT] = "rapid_commit",
	[C6_NO_ADDRS] = "no_addrs_avail",
	[C6_NO_BINDING] = "no_binding",
	[C6_NOT_ON_LINK] = "not_on_link",
	[C6_USE_MULTICAST] = "use_multicast",
	[C6_DROP_MALFORMED] = "drop_malformed",
	[C6_DROP_RELAY] = "drop_relay",
	[C6_DROP_TYPE] = "drop_type",
	[C6_DROP_NO_CLIENTID] = "drop_client_id",
	[C6_DROP_SERVERID] = "drop_server_id_present",
	[C6_DROP_NO_SERVERID] = "drop_server_id_missing",
	[C6_DROP_NOT_US] = "drop_not_for_us",
	[C6_DROP_IA_IN_INFO] = "drop_ia_in_information_request",
	[C6_DROP_NO_ADDR] = "drop_confirm_without_address",
	[C6_EXPIRED] = "expired",
	[C6_FSYNC] = "fsync",
	[C6_JOURNAL_ERR] = "journal_error",
	[C6_UNWRITTEN] = "reply_unwritten",
};

enum slot_state { S_FREE, S_BOUND, S_DECLINED };

struct slot {
	struct tapir_addr addr;
	uint8_t state;
	bool reserved;
	bool published;
	bool inq;        /* in the free queue */
	uint16_t res;    /* reservation index when reserved */
	uint8_t keylen;  /* 0: never used (or forgotten) */
	uint8_t key[D6_KEY_MAX];
	char host[D6_HOST_MAX + 1];
	int64_t expires; /* lease end or quarantine end */
	uint32_t hnext;  /* key hash chain */
	uint32_t qprev, qnext;
};

#define PEND_SLOTS D6_MAX_IA

struct pend {
	struct d6_from to;
	uint32_t slot[PEND_SLOTS];
	unsigned nslot;
	uint16_t len;
	uint8_t data[D6_REPLY_MAX];
};

struct d6_srv {
	struct d6_cfg cfg; /* res points into the caller's config */
	struct d6_env env;
	struct slot *slot;
	uint32_t nslots;
	uint32_t *bucket;
	uint32_t nbuckets;
	uint32_t qhead, qtail;
	uint32_t nbound;
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
	struct d6_msg msg;
	uint8_t out[D6_REPLY_MAX];
	/* The journal cannot be written; the last line logged about it. */
	bool jfail;
	int64_t jfail_logged;
	unsigned long rewrite_retry; /* no compaction below this many records */
	uint64_t count[C6_COUNT];
	int64_t warned;
	uint32_t rewrite_pos;
	int64_t load_now;
};

static void slog(struct d6_srv *s, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void slog(struct d6_srv *s, int prio, const char *fmt, ...)
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

static int64_t now(struct d6_srv *s)
{
	return s->env.now(s->env.arg);
}

void d6_cfg_default(struct d6_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->preferred = 3600;
	c->valid = 7200;
	c->decline_time = 600;
	c->batch_ms = 5;
	c->batch_max = 64;
}

void d6_cfg_free(struct d6_cfg *c)
{
	free(c->res);
	c->res = NULL;
	c->nres = 0;
}

static uint64_t lo64(const struct tapir_addr *a)
{
	uint64_t v = 0;

	for (int i = 8; i < 16; i++)
		v = v << 8 | a->b[i];
	return v;
}

bool d6_range_has(const struct d6_range *r, const struct tapir_addr *a)
{
	uint64_t lo = lo64(a);

	return memcmp(a->b, r->hi, 8) == 0 && lo >= r->first && lo <= r->last;
}

/* ---- slots, the key hash and the free queue ----------------------------- */

static uint32_t key_hash(const struct d6_srv *s, const uint8_t *k, size_t len)
{
	return (uint32_t)tapir_siphash24(k, len, s->hkey) & (s->nbuckets - 1);
}

static uint32_t hash_find(const struct d6_srv *s, const uint8_t *k, size_t len)
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

static void hash_remove(struct d6_srv *s, uint32_t i)
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

static void q_remove(struct d6_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];

	if (!sl->inq)
		return;
	if (sl->qprev != NONE)
		s->slot[sl->qprev].qnext = sl->qnext;
	else
		s->qhead = sl->qnext;
	if (sl->qnext != NONE)
		s->slot[sl->qnext].qprev = sl->qprev;
	else
		s->qtail = sl->qprev;
	sl->qprev = sl->qnext = NONE;
	sl->inq = false;
}

static void q_push_tail(struct d6_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];

	if (sl->reserved || sl->inq)
		return;
	sl->qnext = NONE;
	sl->qprev = s->qtail;
	if (s->qtail != NONE)
		s->slot[s->qtail].qnext = i;
	else
		s->qhead = i;
	s->qtail = i;
	sl->inq = true;
}

static void unpublish(struct d6_srv *s, uint32_t i);

/* Slot i becomes free: back into the queue, remembering its client. */
static void make_free(struct d6_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];

	unpublish(s, i);
	if (sl->state == S_BOUND)
		s->nbound--;
	sl->state = S_FREE;
	q_push_tail(s, i);
}

/* Give slot i the key k, taking it from any other slot (which is freed
 * when it was bound: a key holds one address).  A slot that changes
 * hands forgets its host name. */
static void set_key(struct d6_srv *s, uint32_t i, const uint8_t *k, size_t len)
{
	struct slot *sl = &s->slot[i];
	uint32_t other, h;

	if (sl->keylen == len && memcmp(sl->key, k, len) == 0)
		return;
	other = hash_find(s, k, len);
	if (other != NONE) {
		if (s->slot[other].state == S_BOUND)
			make_free(s, other);
		hash_remove(s, other);
	}
	hash_remove(s, i);
	sl->host[0] = 0;
	memcpy(sl->key, k, len);
	sl->keylen = (uint8_t)len;
	h = key_hash(s, k, len);
	sl->hnext = s->bucket[h];
	s->bucket[h] = i;
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static uint32_t addr_slot(const struct d6_srv *s, const struct tapir_addr *a)
{
	uint32_t lo = 0, hi = s->nslots;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->slot[mid].addr.b, a->b, 16);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* ---- publishing ---------------------------------------------------------- */

static const char *slot_host(const struct d6_srv *s, const struct slot *sl)
{
	if (sl->reserved && s->cfg.res[sl->res].host[0])
		return s->cfg.res[sl->res].host;
	return sl->host;
}

static void publish(struct d6_srv *s, uint32_t i)
{
	struct slot *sl = &s->slot[i];
	const char *host = slot_host(s, sl);
	char key[TAPIR_ADDR_STRLEN], val[512], duid[2 * D6_DUID_MAX + 1];
	unsigned dl = sl->keylen >= 4 ? sl->keylen - 4u : 0;

	if (!s->env.publish || sl->state != S_BOUND)
		return;
	for (unsigned k = 0; k < dl; k++)
		snprintf(duid + 2 * k, 3, "%02x", sl->key[k]);
	duid[2 * dl] = 0;
	tapir_addr_format(&sl->addr, key);
	snprintf(val, sizeof(val), "duid=%s iaid=%u expires=%lld%s%s", duid,
		 dl ? tapir_get_be32(sl->key + dl) : 0u,
		 (long long)sl->expires, host[0] ? " hostname=" : "", host);
	s->env.publish(s->env.arg, key, val);
	sl->published = true;
}

static void unpublish(struct d6_srv *s, uint32_t i)
{
	char key[TAPIR_ADDR_STRLEN];

	if (!s->slot[i].published)
		return;
	s->slot[i].published = false;
	if (!s->env.unpublish)
		return;
	tapir_addr_format(&s->slot[i].addr, key);
	s->env.unpublish(s->env.arg, key);
}

void d6_srv_publish_all(struct d6_srv *s)
{
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->slot[i].state == S_BOUND)
			publish(s, i);
}

void d6_srv_unpublish_all(struct d6_srv *s)
{
	for (uint32_t i = 0; i < s->nslots; i++)
		unpublish(s, i);
}

/* ---- the journal --------------------------------------------------------- */

static void load_rec(void *arg, const struct j6rec *r)
{
	struct d6_srv *s = arg;
	uint32_t i = addr_slot(s, &r->addr);
	struct slot *sl;

	if (i == NONE)
		return; /* no longer in the configuration */
	sl = &s->slot[i];
	switch (r->kind) {
	case 'L':
		if (sl->reserved) {
			const struct d6_res *res = &s->cfg.res[sl->res];

			/* Another client's reserved address. */
			if (r->keylen != res->duidlen + 4u ||
			    memcmp(r->key, res->duid, res->duidlen) != 0)
				return;
		}
		if (sl->state == S_BOUND)
			s->nbound--;
		set_key(s, i, r->key, r->keylen);
		memcpy(sl->host, r->host, sizeof(sl->host));
		sl->expires = r->time;
		if (r->time > s->load_now) {
			sl->state = S_BOUND;
			s->nbound++;
		} else {
			sl->state = S_FREE;
		}
		break;
	case 'R':
		if (sl->state == S_BOUND)
			s->nbound--;
		sl->state = S_FREE;
		break;
	case 'D':
		if (sl->state == S_BOUND)
			s->nbound--;
		hash_remove(s, i);
		sl->state = r->time > s->load_now ? S_DECLINED : S_FREE;
		sl->expires = r->time;
		break;
	}
}

static void slot_rec(const struct slot *sl, struct j6rec *r)
{
	memset(r, 0, sizeof(*r));
	r->addr = sl->addr;
	if (sl->state == S_BOUND) {
		r->kind = 'L';
		r->time = sl->expires;
		r->keylen = sl->keylen;
		memcpy(r->key, sl->key, sl->keylen);
		memcpy(r->host, sl->host, sizeof(r->host));
	} else if (sl->state == S_DECLINED) {
		r->kind = 'D';
		r->time = sl->expires;
	} else {
		r->kind = 'R';
	}
}

static bool rewrite_next(void *arg, struct j6rec *r)
{
	struct d6_srv *s = arg;

	while (s->rewrite_pos < s->nslots) {
		const struct slot *sl = &s->slot[s->rewrite_pos++];

		if (sl->state != S_FREE) {
			slot_rec(sl, r);
			return true;
		}
	}
	return false;
}

static int rewrite(struct d6_srv *s)
{
	s->rewrite_pos = 0;
	return j6_rewrite(&s->j, s->cfg.lease_file, rewrite_next, s);
}

/* Queue a record of slot i for the open batch. */
static void add_rec(struct d6_srv *s, uint32_t i)
{
	struct j6rec r;

	slot_rec(&s->slot[i], &r);
	if (s->reclen + J6_LINE_MAX > s->reccap)
		d6_srv_flush(s);
	s->reclen += j6rec_format(&r, s->rec + s->reclen);
	s->nrec++;
	if (!s->batch_open) {
		s->batch_open = true;
		if (s->env.batch_open)
			s->env.batch_open(s->env.arg);
	}
}

void d6_srv_flush(struct d6_srv *s)
{
	int rc;

	if (!s->batch_open)
		return;
	s->batch_open = false;
	rc = lj_append(&s->j, s->rec, s->reclen, s->nrec);
	s->count[C6_FSYNC]++;
	s->reclen = 0;
	s->nrec = 0;
	if (rc) {
		/* Nothing of the batch is in the file: its Replies are
		 * dropped, not sent.  Silence rather than NoAddrsAvail or
		 * UnspecFail: the client retransmits with back-off (RFC 8415
		 * 15), a renewing client keeps its addresses until T2 and
		 * Rebinds (18.2.4, 18.2.5), and the next retransmission
		 * tries the file again. */
		s->count[C6_JOURNAL_ERR]++;
		s->count[C6_UNWRITTEN] += s->npend;
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

		s->env.send(s->env.arg, &p->to, p->data, p->len);
		s->count[C6_REPLY]++;
		for (unsigned q = 0; q < p->nslot; q++)
			if (s->slot[p->slot[q]].state == S_BOUND)
				publish(s, p->slot[q]);
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

/* ---- setup --------------------------------------------------------------- */

struct d6_srv *d6_srv_new(const struct d6_cfg *cfg, const struct d6_env *env,
			  char *err, size_t errlen)
{
	struct d6_srv *s = calloc(1, sizeof(*s));
	uint64_t total = cfg->nres;
	struct tapir_addr *addrs = NULL;
	struct lj_stats st;
	uint32_t n = 0;
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->env = *env;
	s->j.fd = -1;
	s->qhead = s->qtail = NONE;
	if (s->cfg.batch_max < 1)
		s->cfg.batch_max = 1;
	if (s->cfg.batch_max > BATCH_HARD_MAX)
		s->cfg.batch_max = BATCH_HARD_MAX;
	for (unsigned r = 0; r < cfg->nranges; r++)
		total += cfg->range[r].last - cfg->range[r].first + 1;
	if (total > D6_MAX_SLOTS) {
		snprintf(err, errlen, "pool and reservations: over %u addresses",
			 D6_MAX_SLOTS);
		goto fail;
	}
	addrs = calloc(total ? total : 1, sizeof(*addrs));
	s->slot = calloc(total ? total : 1, sizeof(*s->slot));
	for (s->nbuckets = 16; s->nbuckets < 2 * total; s->nbuckets *= 2)
		;
	s->bucket = malloc(s->nbuckets * sizeof(*s->bucket));
	s->pend = calloc(s->cfg.batch_max, sizeof(*s->pend));
	s->reccap = ((size_t)s->cfg.batch_max * D6_MAX_IA + 16) * J6_LINE_MAX;
	s->rec = malloc(s->reccap);
	if (!addrs || !s->slot || !s->bucket || !s->pend || !s->rec) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (uint32_t b = 0; b < s->nbuckets; b++)
		s->bucket[b] = NONE;
	if (!env->random || env->random(env->arg, s->hkey, sizeof(s->hkey))) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)s;

		memcpy(s->hkey, &t, sizeof(t));
	}
	/* Every address once: pool ranges, then reservations. */
	for (unsigned r = 0; r < cfg->nranges; r++)
		for (uint64_t lo = cfg->range[r].first;; lo++) {
			struct tapir_addr *a = &addrs[n++];

			memcpy(a->b, cfg->range[r].hi, 8);
			for (int k = 0; k < 8; k++)
				a->b[15 - k] = (uint8_t)(lo >> (8 * k));
			if (lo == cfg->range[r].last)
				break;
		}
	for (unsigned r = 0; r < cfg->nres; r++)
		addrs[n++] = cfg->res[r].addr;
	qsort(addrs, n, sizeof(*addrs), addr_cmp);
	for (uint32_t k = 0; k < n; k++) {
		if (s->nslots && tapir_addr_eq(&s->slot[s->nslots - 1].addr,
					       &addrs[k]))
			continue;
		struct slot *sl = &s->slot[s->nslots++];

		sl->addr = addrs[k];
		sl->hnext = sl->qprev = sl->qnext = NONE;
	}
	free(addrs);
	addrs = NULL;
	for (unsigned r = 0; r < cfg->nres; r++) {
		uint32_t i = addr_slot(s, &cfg->res[r].addr);

		s->slot[i].reserved = true;
		s->slot[i].res = (uint16_t)r;
	}
	s->load_now = now(s);
	rc = j6_load(cfg->lease_file, load_rec, s, &st);
	if (rc) {
		snprintf(err, errlen, "cannot read %s: %s", cfg->lease_file,
			 strerror(-rc));
		goto fail;
	}
	if (st.bad || st.torn)
		slog(s, LOG_WARNING, "%s: %lu bad and %lu torn records ignored",
		     cfg->lease_file, st.bad, st.torn);
	/* Free slots never used first, then those that remember a client. */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < s->nslots; i++)
			if (s->slot[i].state == S_FREE &&
			    !!s->slot[i].keylen == pass)
				q_push_tail(s, i);
	rc = rewrite(s);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", cfg->lease_file,
			 strerror(-rc));
		goto fail;
	}
	if (st.records)
		slog(s, LOG_INFO, "%u leases from %s", s->nbound,
		     cfg->lease_file);
	return s;
fail:
	free(addrs);
	d6_srv_free(s);
	return NULL;
}

void d6_srv_free(struct d6_srv *s)
{
	if (!s)
		return;
	if (s->j.fd >= 0)
		d6_srv_flush(s);
	lj_close(&s->j);
	free(s->slot);
	free(s->bucket);
	free(s->pend);
	free(s->rec);
	free(s);
}

const uint64_t *d6_srv_counters(const struct d6_srv *s)
{
	return s->count;
}

size_t d6_srv_bound(const struct d6_srv *s)
{
	return s->nbound;
}

void d6_srv_set_onlink(struct d6_srv *s, const struct tapir_addr *a,
		       const unsigned *len, unsigned n)
{
	if (n > D6_MAX_ONLINK)
		n = D6_MAX_ONLINK;
	for (unsigned k = 0; k < n; k++) {
		s->env.onlink[k] = a[k];
		s->env.onlink_len[k] = len[k];
	}
	s->env.nonlink = n;
}

/* ---- replies ------------------------------------------------------------- */

static void put_opt(struct tapir_wbuf *w, uint16_t code, const void *data,
		    size_t len)
{
	tapir_wbuf_be16(w, code);
	tapir_wbuf_be16(w, (uint16_t)len);
	tapir_wbuf_put(w, data, len);
}

static void put_status(struct tapir_wbuf *w, uint16_t code, const char *msg)
{
	size_t ml = strlen(msg);

	tapir_wbuf_be16(w, O6_STATUS_CODE);
	tapir_wbuf_be16(w, (uint16_t)(2 + ml));
	tapir_wbuf_be16(w, code);
	tapir_wbuf_put(w, msg, ml);
}

/* Start an option whose length is patched by end_opt(). */
static size_t begin_opt(struct tapir_wbuf *w, uint16_t code)
{
	size_t at = w->len;

	tapir_wbuf_be16(w, code);
	tapir_wbuf_be16(w, 0);
	return at;
}

static void end_opt(struct tapir_wbuf *w, size_t at)
{
	if (w->ok)
		tapir_put_be16(w->p + at + 2, (uint16_t)(w->len - at - 4));
}

/* Type, transaction ID, the client's DUID and ours (RFC 8415 18.3). */
static void begin_reply(struct d6_srv *s, struct tapir_wbuf *w,
			const struct d6_msg *m, uint8_t type)
{
	*w = tapir_wbuf(s->out, sizeof(s->out));
	tapir_wbuf_u8(w, type);
	tapir_wbuf_put(w, m->xid, 3);
	if (m->cid)
		put_opt(w, O6_CLIENTID, m->cid, m->cidlen);
	put_opt(w, O6_SERVERID, s->env.duid, s->env.duidlen);
}

/* A domain name in wire form (RFC 1035 3.1) into w. */
static void put_name(struct tapir_wbuf *w, const char *name, bool complete)
{
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t ll = dot ? (size_t)(dot - p) : strlen(p);

		tapir_wbuf_u8(w, (uint8_t)ll);
		tapir_wbuf_put(w, p, ll);
		p += ll;
		if (*p == '.')
			p++;
	}
	if (complete)
		tapir_wbuf_u8(w, 0);
}

/* The configuration options the client asked for in its ORO (RFC 8415
 * 18.3: the server includes the options it was asked for). */
static void put_config(struct d6_srv *s, struct tapir_wbuf *w,
		       const struct d6_msg *m, bool info)
{
	if (s->cfg.ndns && d6_requested(m, O6_DNS_SERVERS)) {
		size_t at = begin_opt(w, O6_DNS_SERVERS);

		for (unsigned i = 0; i < s->cfg.ndns; i++)
			tapir_wbuf_put(w, s->cfg.dns[i].b, 16);
		end_opt(w, at);
	}
	if (s->cfg.nsearch && d6_requested(m, O6_DOMAIN_LIST)) {
		size_t at = begin_opt(w, O6_DOMAIN_LIST);

		for (unsigned i = 0; i < s->cfg.nsearch; i++)
			put_name(w, s->cfg.search[i], true);
		end_opt(w, at);
	}
	/* RFC 8415 21.23: only in a Reply to an Information-request. */
	if (info && s->cfg.info_refresh) {
		tapir_wbuf_be16(w, O6_INFO_REFRESH_TIME);
		tapir_wbuf_be16(w, 4);
		tapir_wbuf_be32(w, s->cfg.info_refresh);
	}
}

static uint32_t t1_of(const struct d6_srv *s)
{
	return s->cfg.t1 ? s->cfg.t1 : s->cfg.preferred / 2;
}

static uint32_t t2_of(const struct d6_srv *s)
{
	return s->cfg.t2 ? s->cfg.t2 : (uint32_t)((uint64_t)s->cfg.preferred * 4 / 5);
}

static void put_iaaddr(struct tapir_wbuf *w, const struct tapir_addr *a,
		       uint32_t pref, uint32_t valid)
{
	tapir_wbuf_be16(w, O6_IAADDR);
	tapir_wbuf_be16(w, 24);
	tapir_wbuf_put(w, a->b, 16);
	tapir_wbuf_be32(w, pref);
	tapir_wbuf_be32(w, valid);
}

/* What the server says about one IA of the message. */
struct ia_out {
	uint32_t slot;   /* the address it holds, or NONE */
	uint16_t status; /* when slot is NONE (or a Release/Decline) */
	bool zero_others; /* the client's other addresses: lifetimes 0 */
	bool silent;     /* say nothing of this IA */
};

static void put_ia(struct d6_srv *s, struct tapir_wbuf *w,
		   const struct d6_ia *ia, const struct ia_out *o)
{
	size_t at;
	const struct slot *sl = o->slot != NONE ? &s->slot[o->slot] : NULL;

	if (o->silent)
		return;
	at = begin_opt(w, ia->code);
	tapir_wbuf_be32(w, ia->iaid);
	if (ia->code != O6_IA_TA) {
		tapir_wbuf_be32(w, sl ? t1_of(s) : 0);
		tapir_wbuf_be32(w, sl ? t2_of(s) : 0);
	}
	if (sl)
		put_iaaddr(w, &sl->addr, s->cfg.preferred, s->cfg.valid);
	if (o->zero_others)
		for (unsigned k = 0; k < ia->naddr; k++)
			if (!sl || !tapir_addr_eq(&ia->addr[k], &sl->addr))
				put_iaaddr(w, &ia->addr[k], 0, 0);
	if (!sl) {
		static const char *const text[] = {
			[ST_SUCCESS] = "ok",
			[ST_NO_ADDRS_AVAIL] = "no addresses available",
			[ST_NO_BINDING] = "no binding for this IA",
			[ST_NOT_ON_LINK] = "not on link",
			[ST_NO_PREFIX_AVAIL] = "no prefixes delegated here",
		};
		put_status(w, o->status,
			   o->status < sizeof(text) / sizeof(text[0]) &&
					   text[o->status]
				   ? text[o->status]
				   : "failed");
	}
	end_opt(w, at);
}

/* The client's host name from its FQDN option, unless it asked us not to
 * update DNS (N) or the name is another client's reservation. */
static bool client_host(const struct d6_srv *s, const struct d6_msg *m,
			const uint8_t *duid, size_t dl, char out[D6_HOST_MAX + 1])
{
	if (!m->has_fqdn || (m->fqdn[0] & 4) ||
	    !d6_fqdn_host(m->fqdn, m->fqdnlen, out))
		return false;
	for (unsigned k = 0; k < s->cfg.nres; k++) {
		const struct d6_res *r = &s->cfg.res[k];

		if (r->host[0] && strcmp(r->host, out) == 0 &&
		    !(r->duidlen == dl && memcmp(r->duid, duid, dl) == 0))
			return false;
	}
	return true;
}

/* RFC 4704 4.2: our answer to the client's FQDN option. */
static void put_fqdn(struct d6_srv *s, struct tapir_wbuf *w,
		     const struct d6_msg *m, const char *host)
{
	uint8_t cflags, flags;
	size_t at;
	char full[D6_HOST_MAX + 1 + 254];

	if (!m->has_fqdn)
		return;
	cflags = m->fqdn[0];
	if ((cflags & 4) || !host[0]) {
		flags = 4; /* N: we update nothing */
	} else {
		flags = 1;                 /* S: we answer its AAAA */
		if (!(cflags & 1))
			flags |= 2;        /* O: it did not ask us to */
	}
	at = begin_opt(w, O6_CLIENT_FQDN);
	tapir_wbuf_u8(w, flags);
	if (host[0]) {
		if (s->cfg.nsearch) {
			snprintf(full, sizeof(full), "%s.%s", host,
				 s->cfg.search[0]);
			put_name(w, full, true);
		} else {
			put_name(w, host, false);
		}
	}
	end_opt(w, at);
}

static void send_now(struct d6_srv *s, const struct d6_from *to,
		     const struct tapir_wbuf *w)
{
	if (!w->ok)
		return;
	s->env.send(s->env.arg, to, w->p, w->len);
}

/* Queue the reply in w behind the open batch, with the slots to publish
 * once it is durable. */
static void send_after_journal(struct d6_srv *s, const struct d6_from *to,
			       const struct tapir_wbuf *w,
			       const uint32_t *slots, unsigned nslots)
{
	struct pend *p;

	if (!w->ok)
		return;
	if (!s->batch_open) {
		/* Nothing to wait for. */
		s->env.send(s->env.arg, to, w->p, w->len);
		s->count[C6_REPLY]++;
		return;
	}
	p = &s->pend[s->npend++];
	p->to = *to;
	p->len = (uint16_t)w->len;
	memcpy(p->data, w->p, w->len);
	p->nslot = 0;
	for (unsigned k = 0; k < nslots && k < PEND_SLOTS; k++)
		p->slot[p->nslot++] = slots[k];
	if (s->npend >= s->cfg.batch_max)
		d6_srv_flush(s);
}

/* ---- choosing and binding addresses --------------------------------------- */

static size_t make_key(const struct d6_msg *m, uint32_t iaid, uint8_t *k)
{
	memcpy(k, m->cid, m->cidlen);
	tapir_put_be32(k + m->cidlen, iaid);
	return m->cidlen + 4u;
}

/* The reserved slot of the client's DUID, or NONE. */
static uint32_t res_slot(const struct d6_srv *s, const struct d6_msg *m)
{
	for (unsigned r = 0; r < s->cfg.nres; r++)
		if (s->cfg.res[r].duidlen == m->cidlen &&
		    memcmp(s->cfg.res[r].duid, m->cid, m->cidlen) == 0)
			return addr_slot(s, &s->cfg.res[r].addr);
	return NONE;
}

static bool may_bind(const struct d6_srv *s, uint32_t i)
{
	return s->slot[i].state == S_BOUND || !s->cfg.max_leases ||
	       s->nbound < s->cfg.max_leases;
}

/* The slot for the IA keyed k: the client's own (bound or remembered),
 * its reservation, the free address it asks for, or the next free one.
 * With commit false (an Advertise) nothing is taken: the free slot named
 * moves to the back of the queue and remembers the client. */
static uint32_t pick(struct d6_srv *s, const struct d6_msg *m,
		     const struct d6_ia *ia, const uint8_t *k, size_t kl,
		     bool commit)
{
	uint32_t i = hash_find(s, k, kl), r;

	if (i != NONE && (s->slot[i].state == S_BOUND ||
			  s->slot[i].state == S_FREE))
		return may_bind(s, i) ? i : NONE;
	r = res_slot(s, m);
	if (r != NONE && s->slot[r].state == S_FREE)
		return may_bind(s, r) ? r : NONE;
	if (!s->cfg.max_leases || s->nbound < s->cfg.max_leases) {
		for (unsigned a = 0; a < ia->naddr; a++) {
			i = addr_slot(s, &ia->addr[a]);
			if (i != NONE && !s->slot[i].reserved &&
			    s->slot[i].state == S_FREE)
				break;
			i = NONE;
		}
		if (i == NONE)
			i = s->qhead;
	} else {
		i = NONE;
	}
	if (i == NONE) {
		if (now(s) - s->warned >= 60) {
			s->warned = now(s);
			slog(s, LOG_WARNING, "no address to give (pool "
			     "exhausted or max_leases reached); said at most "
			     "once a minute");
		}
		return NONE;
	}
	if (!commit) {
		q_remove(s, i);
		q_push_tail(s, i);
		set_key(s, i, k, kl);
	}
	return i;
}

/* Bind (or extend) slot i for key k; a record joins the batch. */
static void bind(struct d6_srv *s, uint32_t i, const uint8_t *k, size_t kl,
		 const char *host)
{
	struct slot *sl = &s->slot[i];

	q_remove(s, i);
	set_key(s, i, k, kl);
	if (sl->state != S_BOUND)
		s->nbound++;
	sl->state = S_BOUND;
	sl->expires = now(s) + s->cfg.valid;
	if (host && host[0] && strcmp(host, sl->host) != 0) {
		unpublish(s, i);
		snprintf(sl->host, sizeof(sl->host), "%s", host);
	}
	add_rec(s, i);
}

/* Is a on our link: in a prefix of ours, or in a pool range's /64? */
static bool on_link(const struct d6_srv *s, const struct tapir_addr *a)
{
	for (unsigned k = 0; k < s->env.nonlink; k++) {
		unsigned pl = s->env.onlink_len[k], full = pl / 8, rest = pl % 8;
		const uint8_t *p = s->env.onlink[k].b;

		if (pl > 128 || memcmp(p, a->b, full) != 0)
			continue;
		if (rest && ((p[full] ^ a->b[full]) & (0xff << (8 - rest))))
			continue;
		return true;
	}
	for (unsigned r = 0; r < s->cfg.nranges; r++)
		if (memcmp(s->cfg.range[r].hi, a->b, 8) == 0)
			return true;
	for (unsigned r = 0; r < s->cfg.nres; r++)
		if (memcmp(s->cfg.res[r].addr.b, a->b, 8) == 0)
			return true;
	return false;
}

/* ---- the exchanges -------------------------------------------------------- */

/* Solicit (Advertise, or with Rapid Commit a Reply) and Request (RFC 8415
 * 18.3.1, 18.3.2). */
static void assign(struct d6_srv *s, const struct d6_msg *m,
		   const struct d6_from *from, bool commit, bool rapid)
{
	struct ia_out out[D6_MAX_IA];
	uint32_t bound[D6_MAX_IA];
	unsigned nbound = 0, ngiven = 0, nna = 0;
	uint8_t k[D6_KEY_MAX];
	char host[D6_HOST_MAX + 1] = "";
	const char *name = "";
	struct tapir_wbuf w;

	if (!client_host(s, m, m->cid, m->cidlen, host))
		host[0] = 0;
	for (unsigned a = 0; a < m->nia; a++) {
		const struct d6_ia *ia = &m->ia[a];
		size_t kl;

		out[a] = (struct ia_out){.slot = NONE};
		if (ia->code == O6_IA_PD) {
			out[a].status = ST_NO_PREFIX_AVAIL;
			continue;
		}
		if (ia->code == O6_IA_TA) {
			out[a].status = ST_NO_ADDRS_AVAIL;
			continue;
		}
		nna++;
		kl = make_key(m, ia->iaid, k);
		out[a].slot = pick(s, m, ia, k, kl, commit);
		if (out[a].slot == NONE) {
			out[a].status = ST_NO_ADDRS_AVAIL;
			s->count[C6_NO_ADDRS]++;
			continue;
		}
		ngiven++;
		if (commit) {
			bind(s, out[a].slot, k, kl, host);
			bound[nbound++] = out[a].slot;
		}
		if (!name[0])
			name = s->slot[out[a].slot].reserved &&
					       s->cfg.res[s->slot[out[a].slot].res].host[0]
				       ? s->cfg.res[s->slot[out[a].slot].res].host
				       : host;
	}
	begin_reply(s, &w, m, commit ? D6_REPLY : D6_ADVERTISE);
	if (rapid)
		put_opt(&w, O6_RAPID_COMMIT, NULL, 0);
	if (!commit && s->cfg.preference)
		put_opt(&w, O6_PREFERENCE, &s->cfg.preference, 1);
	for (unsigned a = 0; a < m->nia; a++)
		put_ia(s, &w, &m->ia[a], &out[a]);
	/* RFC 8415 18.3.1/18.3.2: no address for any IA. */
	if (nna && !ngiven)
		put_status(&w, ST_NO_ADDRS_AVAIL, "no addresses available");
	put_config(s, &w, m, false);
	put_fqdn(s, &w, m, name);
	if (!commit) {
		s->count[C6_ADVERTISE]++;
		send_now(s, from, &w);
		return;
	}
	if (rapid)
		s->count[C6_RAPID_COMMIT]++;
	send_after_journal(s, from, &w, bound, nbound);
}

/* Renew and Rebind (RFC 8415 18.3.4, 18.3.5). */
static void extend(struct d6_srv *s, const struct d6_msg *m,
		   const struct d6_from *from, bool rebind)
{
	struct ia_out out[D6_MAX_IA];
	uint32_t bound[D6_MAX_IA];
	unsigned nbound = 0;
	uint8_t k[D6_KEY_MAX];
	char host[D6_HOST_MAX + 1] = "";
	const char *name = "";
	struct tapir_wbuf w;

	if (!client_host(s, m, m->cid, m->cidlen, host))
		host[0] = 0;
	for (unsigned a = 0; a < m->nia; a++) {
		const struct d6_ia *ia = &m->ia[a];
		size_t kl = make_key(m, ia->iaid, k);
		uint32_t i = hash_find(s, k, kl);

		out[a] = (struct ia_out){.slot = NONE, .zero_others = true};
		if (ia->code != O6_IA_NA) {
			out[a].status = ST_NO_BINDING;
			out[a].zero_others = false;
			continue;
		}
		if (i == NONE || s->slot[i].state != S_BOUND) {
			/* No binding: the address the client has may be
			 * given again when it is free and ours to give (RFC
			 * 8415 18.3.4 allows a new binding). */
			i = NONE;
			for (unsigned q = 0; q < ia->naddr && i == NONE; q++) {
				uint32_t c = addr_slot(s, &ia->addr[q]);

				if (c != NONE && s->slot[c].state == S_FREE &&
				    may_bind(s, c) &&
				    (!s->slot[c].reserved ||
				     c == res_slot(s, m)) &&
				    (!s->slot[c].keylen ||
				     (s->slot[c].keylen == kl &&
				      memcmp(s->slot[c].key, k, kl) == 0)))
					i = c;
			}
		}
		if (i == NONE) {
			bool all_off = ia->naddr > 0;

			for (unsigned q = 0; q < ia->naddr; q++)
				if (on_link(s, &ia->addr[q]))
					all_off = false;
			if (rebind && all_off) {
				/* Not for this link: lifetimes 0. */
				out[a].status = ST_SUCCESS;
				out[a].zero_others = true;
				s->count[C6_NOT_ON_LINK]++;
			} else {
				out[a].status = ST_NO_BINDING;
				out[a].zero_others = false;
				s->count[C6_NO_BINDING]++;
			}
			continue;
		}
		bind(s, i, k, kl, host);
		out[a].slot = i;
		bound[nbound++] = i;
		if (!name[0])
			name = slot_host(s, &s->slot[i]);
	}
	begin_reply(s, &w, m, D6_REPLY);
	for (unsigned a = 0; a < m->nia; a++) {
		if (out[a].slot == NONE && out[a].status == ST_SUCCESS) {
			/* Zero lifetimes, no status (RFC 8415 18.3.5). */
			size_t at = begin_opt(&w, m->ia[a].code);

			tapir_wbuf_be32(&w, m->ia[a].iaid);
			tapir_wbuf_be32(&w, 0);
			tapir_wbuf_be32(&w, 0);
			for (unsigned q = 0; q < m->ia[a].naddr; q++)
				put_iaaddr(&w, &m->ia[a].addr[q], 0, 0);
			end_opt(&w, at);
			continue;
		}
		put_ia(s, &w, &m->ia[a], &out[a]);
	}
	put_config(s, &w, m, false);
	put_fqdn(s, &w, m, name);
	send_after_journal(s, from, &w, bound, nbound);
}

/* Release and Decline (RFC 8415 18.3.7, 18.3.8). */
static void let_go(struct d6_srv *s, const struct d6_msg *m,
		   const struct d6_from *from, bool decline)
{
	struct ia_out out[D6_MAX_IA];
	uint8_t k[D6_KEY_MAX];
	struct tapir_wbuf w;

	for (unsigned a = 0; a < m->nia; a++) {
		const struct d6_ia *ia = &m->ia[a];
		size_t kl = make_key(m, ia->iaid, k);
		uint32_t i = hash_find(s, k, kl);
		bool mine = false;

		out[a] = (struct ia_out){.slot = NONE, .silent = true};
		if (ia->code == O6_IA_NA && i != NONE &&
		    s->slot[i].state == S_BOUND)
			for (unsigned q = 0; q < ia->naddr; q++)
				if (tapir_addr_eq(&ia->addr[q], &s->slot[i].addr))
					mine = true;
		if (!mine) {
			out[a] = (struct ia_out){.slot = NONE,
						 .status = ST_NO_BINDING};
			s->count[C6_NO_BINDING]++;
			continue;
		}
		if (decline && s->cfg.decline_time) {
			make_free(s, i);
			q_remove(s, i);
			hash_remove(s, i);
			s->slot[i].state = S_DECLINED;
			s->slot[i].expires = now(s) + s->cfg.decline_time;
			slog(s, LOG_WARNING, "an address was declined; it rests "
			     "for %u s", s->cfg.decline_time);
		} else {
			make_free(s, i);
		}
		add_rec(s, i);
	}
	begin_reply(s, &w, m, D6_REPLY);
	put_status(&w, ST_SUCCESS, decline ? "declined" : "released");
	for (unsigned a = 0; a < m->nia; a++)
		put_ia(s, &w, &m->ia[a], &out[a]);
	send_after_journal(s, from, &w, NULL, 0);
}

/* Confirm (RFC 8415 18.3.3): are the client's addresses on our link? */
static void confirm(struct d6_srv *s, const struct d6_msg *m,
		    const struct d6_from *from)
{
	unsigned naddr = 0;
	bool ok = true;
	struct tapir_wbuf w;

	for (unsigned a = 0; a < m->nia; a++)
		for (unsigned q = 0; q < m->ia[a].naddr; q++) {
			naddr++;
			if (!on_link(s, &m->ia[a].addr[q]))
				ok = false;
		}
	if (!naddr) {
		s->count[C6_DROP_NO_ADDR]++;
		return;
	}
	begin_reply(s, &w, m, D6_REPLY);
	if (ok) {
		put_status(&w, ST_SUCCESS, "all addresses on link");
	} else {
		put_status(&w, ST_NOT_ON_LINK, "not on this link");
		s->count[C6_NOT_ON_LINK]++;
	}
	send_now(s, from, &w);
	s->count[C6_REPLY]++;
}

static void info_reply(struct d6_srv *s, const struct d6_msg *m,
		       const struct d6_from *from)
{
	struct tapir_wbuf w;

	begin_reply(s, &w, m, D6_REPLY);
	put_config(s, &w, m, true);
	send_now(s, from, &w);
	s->count[C6_REPLY]++;
}

/* RFC 8415 18.4: we offer no Server Unicast option, so a message that
 * came by unicast is answered with UseMulticast only. */
static void use_multicast(struct d6_srv *s, const struct d6_msg *m,
			  const struct d6_from *from)
{
	struct tapir_wbuf w;

	begin_reply(s, &w, m, D6_REPLY);
	put_status(&w, ST_USE_MULTICAST, "send to ff02::1:2");
	send_now(s, from, &w);
	s->count[C6_USE_MULTICAST]++;
	s->count[C6_REPLY]++;
}

static bool sid_is_ours(const struct d6_srv *s, const struct d6_msg *m)
{
	return m->sidlen == s->env.duidlen &&
	       memcmp(m->sid, s->env.duid, m->sidlen) == 0;
}

/* The server identifier rules of RFC 8415 16: need says whether the type
 * requires our DUID (1), forbids any (0), or allows ours (2). */
static bool check_ids(struct d6_srv *s, const struct d6_msg *m, int need,
		      bool client_needed)
{
	if ((client_needed && m->ncid != 1) || m->ncid > 1) {
		s->count[C6_DROP_NO_CLIENTID]++;
		return false;
	}
	if (m->nsid > 1 || (need == 0 && m->nsid)) {
		s->count[C6_DROP_SERVERID]++;
		return false;
	}
	if (need == 1 && !m->nsid) {
		s->count[C6_DROP_NO_SERVERID]++;
		return false;
	}
	if (m->nsid && !sid_is_ours(s, m)) {
		s->count[C6_DROP_NOT_US]++;
		return false;
	}
	return true;
}

void d6_srv_input(struct d6_srv *s, const struct d6_from *from,
		  const uint8_t *data, size_t len)
{
	struct d6_msg *m = &s->msg;
	enum d6_parse_err e;

	s->count[C6_RX]++;
	e = d6_parse(data, len, m);
	if (e == D6_ERR_RELAY) {
		s->count[C6_DROP_RELAY]++;
		return;
	}
	if (e != D6_OK) {
		s->count[C6_DROP_MALFORMED]++;
		return;
	}
	switch (m->type) {
	case D6_SOLICIT:
		s->count[C6_SOLICIT]++;
		if (!check_ids(s, m, 0, true))
			return;
		assign(s, m, from, m->rapid_commit && s->cfg.rapid_commit,
		       m->rapid_commit && s->cfg.rapid_commit);
		return;
	case D6_REQUEST:
	case D6_RENEW:
	case D6_RELEASE:
	case D6_DECLINE:
		s->count[m->type == D6_REQUEST	 ? C6_REQUEST
			 : m->type == D6_RENEW	 ? C6_RENEW
			 : m->type == D6_RELEASE ? C6_RELEASE
						 : C6_DECLINE]++;
		if (!check_ids(s, m, 1, true))
			return;
		if (!from->multicast) {
			use_multicast(s, m, from);
			return;
		}
		if (m->type == D6_REQUEST)
			assign(s, m, from, true, false);
		else if (m->type == D6_RENEW)
			extend(s, m, from, false);
		else
			let_go(s, m, from, m->type == D6_DECLINE);
		return;
	case D6_REBIND:
		s->count[C6_REBIND]++;
		if (check_ids(s, m, 0, true))
			extend(s, m, from, true);
		return;
	case D6_CONFIRM:
		s->count[C6_CONFIRM]++;
		if (check_ids(s, m, 0, true))
			confirm(s, m, from);
		return;
	case D6_INFO_REQUEST:
		s->count[C6_INFO_REQUEST]++;
		if (!check_ids(s, m, 2, false))
			return;
		if (m->nia_all) {
			s->count[C6_DROP_IA_IN_INFO]++;
			return;
		}
		info_reply(s, m, from);
		return;
	default:
		s->count[C6_DROP_TYPE]++;
		return;
	}
}

void d6_srv_tick(struct d6_srv *s)
{
	int64_t t = now(s);

	for (uint32_t i = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slot[i];

		if (sl->state == S_BOUND && sl->expires <= t) {
			make_free(s, i);
			s->count[C6_EXPIRED]++;
		} else if (sl->state == S_DECLINED && sl->expires <= t) {
			sl->state = S_FREE;
			q_push_tail(s, i);
		}
	}
}
