/*
 * Forwarding with a cache; see forward.h.
 *
 * A question asked upstream is a struct pq, found by its cache key in a
 * small hash table (keyed SipHash) so that clients asking the same thing
 * wait on one query; each waiting client is a struct waiter.  The number
 * of waiters is bounded (forward_max_outstanding in all,
 * forward_max_per_client per source address), and so is everything a
 * pq holds: one UDP port or one TCP connection, one timer, one answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/siphash.h>

#include "cache.h"
#include "forward.h"
#include "fwdmsg.h"
#include "zone.h"

#define PQ_BUCKETS 256
#define PORT_TRIES 8 /* random ports tried before a try is given up */
#define PORT_LOW 1024

/* ---- Settings ------------------------------------------------------------ */

int dns_fwd_parse_server(const char *s, struct dns_fwd_server *out)
{
	char buf[TAPIR_ADDR_STRLEN + 1];
	const char *host = s, *port = NULL, *colon;
	size_t hlen = strlen(s);

	out->port = 53;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -1;
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -1;
	} else if ((colon = strchr(s, ':')) && !strchr(colon + 1, ':')) {
		hlen = (size_t)(colon - s); /* IPv4 with a port */
		port = colon + 1;
	}
	if (!hlen || hlen >= sizeof(buf))
		return -1;
	memcpy(buf, host, hlen);
	buf[hlen] = 0;
	if (!tapir_addr_parse(buf, &out->ip) || tapir_addr_is_unspec(&out->ip))
		return -1;
	if (port) {
		unsigned long v = 0;

		if (!*port || strlen(port) > 5)
			return -1;
		for (const char *p = port; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (v < 1 || v > 65535)
			return -1;
		out->port = (uint16_t)v;
	}
	return 0;
}

static int read_servers(const struct tapir_check *chk,
			const config_setting_t *list, const char *key,
			struct dns_fwd_group *g)
{
	int bad = 0;

	g->n = 0;
	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *e =
			config_setting_get_elem(list, (unsigned)i);
		const char *t = config_setting_get_string(e);

		if (!t || dns_fwd_parse_server(t, &g->s[g->n]) < 0) {
			if (chk)
				chk->error(chk, e,
					   "%s: \"%s\" is no server (an "
					   "address, \"10.0.0.1:5353\" or "
					   "\"[fd00::1]:5353\")",
					   key, t ? t : "?");
			bad = -1;
			continue;
		}
		if (g->n >= DNS_FWD_SERVERS_MAX) {
			if (chk)
				chk->error(chk, e, "%s: at most %d servers",
					   key, DNS_FWD_SERVERS_MAX);
			return -1;
		}
		g->n++;
	}
	return bad;
}

static int read_zone(const struct tapir_check *chk, const config_setting_t *z,
		     struct dns_fwd_conf *c)
{
	const config_setting_t *name = config_setting_get_member(z, "name");
	const config_setting_t *up = config_setting_get_member(z, "upstream");
	struct dns_fwd_group *g = &c->g[c->ngroups];
	char buf[DNS_NAME_MAX * 4 + 2];
	const char *t;
	size_t l;
	int bad = 0;

	if (config_setting_type(z) != CONFIG_TYPE_GROUP) {
		if (chk)
			chk->error(chk, z,
				   "each forward zone is a group { name = "
				   "\"...\"; upstream = [ ... ]; }");
		return -1;
	}
	for (int i = 0; i < config_setting_length(z); i++) {
		const config_setting_t *m =
			config_setting_get_elem(z, (unsigned)i);
		const char *k = config_setting_name(m);

		if (k && strcmp(k, "name") && strcmp(k, "upstream")) {
			if (chk)
				chk->error(chk, m,
					   "unknown forward zone setting \"%s\" "
					   "(name, upstream)",
					   k);
			bad = -1;
		}
	}
	t = name && config_setting_type(name) == CONFIG_TYPE_STRING
		    ? config_setting_get_string(name)
		    : NULL;
	l = t ? strlen(t) : 0;
	if (!l || l + 2 > sizeof(buf)) {
		if (chk)
			chk->error(chk, name ? name : z,
				   "a forward zone needs name = \"domain\";");
		return -1;
	}
	memcpy(buf, t, l);
	if (buf[l - 1] != '.')
		buf[l++] = '.';
	if (dns_name_from_text(buf, l, NULL, g->zone, NULL, 0) < 0) {
		if (chk)
			chk->error(chk, name, "forward zone name \"%s\" is no "
					      "domain name", t);
		return -1;
	}
	dns_name_lower(g->zone);
	g->labels = dns_name_labels(g->zone);
	for (unsigned i = 1; i < c->ngroups; i++)
		if (dns_name_eq(c->g[i].zone, g->zone)) {
			if (chk)
				chk->error(chk, name, "forward zone %s twice",
					   t);
			bad = -1;
		}
	if (up && config_setting_type(up) == CONFIG_TYPE_STRING) {
		/* One server alone, as `upstream` takes it. */
		if (dns_fwd_parse_server(config_setting_get_string(up),
					 &g->s[0]) < 0) {
			if (chk)
				chk->error(chk, up,
					   "upstream: \"%s\" is no server (an "
					   "address, \"10.0.0.1:5353\" or "
					   "\"[fd00::1]:5353\")",
					   config_setting_get_string(up));
			return -1;
		}
		g->n = 1;
		if (bad)
			return -1;
		c->ngroups++;
		return 0;
	}
	if (!up || (config_setting_type(up) != CONFIG_TYPE_ARRAY &&
		    config_setting_type(up) != CONFIG_TYPE_LIST) ||
	    !config_setting_length(up)) {
		if (chk)
			chk->error(chk, up ? up : z,
				   "a forward zone needs upstream = [ "
				   "\"address\", ... ];");
		return -1;
	}
	if (read_servers(chk, up, "upstream", g) < 0 || bad)
		return -1;
	c->ngroups++;
	return 0;
}

int dns_fwd_read(const struct tapir_check *chk,
		 const struct dns_fwd_settings *s, struct dns_fwd_conf *c)
{
	int bad = 0;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = s->timeout_ms;
	c->tries = s->tries;
	c->max_outstanding = s->max_outstanding;
	c->max_per_client = s->max_per_client;
	c->cache_size = s->cache_size;
	c->cache_max_bytes = s->cache_max_bytes;
	c->max_ttl = s->cache_max_ttl;
	c->max_neg_ttl = s->cache_max_negative_ttl;
	c->ngroups = 1; /* the root: `upstream` */
	for (size_t i = 0; i < s->upstream.n; i++) {
		struct dns_fwd_group *g = &c->g[0];

		if (dns_fwd_parse_server(s->upstream.v[i], &g->s[g->n]) < 0) {
			if (chk)
				chk->error_at(chk, "upstream", (int)i,
					      "upstream: \"%s\" is no server "
					      "(an address, \"10.0.0.1:5353\" "
					      "or \"[fd00::1]:5353\")",
					      s->upstream.v[i]);
			bad = -1;
			continue;
		}
		g->n++;
	}
	c->g[0].zone[0] = 0;
	if (s->zones && config_setting_type(s->zones) != CONFIG_TYPE_LIST) {
		if (chk)
			chk->error(chk, s->zones,
				   "forward_zones is a list: ( { name = ...; "
				   "upstream = [ ... ]; }, ... )");
		bad = -1;
	} else if (s->zones) {
		int n = config_setting_length(s->zones);

		for (int i = 0; i < n; i++) {
			const config_setting_t *z =
				config_setting_get_elem(s->zones, (unsigned)i);

			if (c->ngroups > DNS_FWD_ZONES_MAX) {
				if (chk)
					chk->error(chk, z,
						   "at most %d forward zones",
						   DNS_FWD_ZONES_MAX);
				bad = -1;
				break;
			}
			if (read_zone(chk, z, c) < 0)
				bad = -1;
		}
	}
	if (c->max_per_client > c->max_outstanding) {
		if (chk)
			chk->error_at(chk, "forward_max_per_client", -1,
				      "forward_max_per_client must not exceed "
				      "forward_max_outstanding");
		bad = -1;
	}
	for (unsigned i = 0; i < c->ngroups; i++)
		if (c->g[i].n)
			c->on = s->forward;
	return bad;
}

int dns_fwd_counters(struct tapir_host *h, const struct tapir_host_api *api,
		     struct dns_fwd_counters *c)
{
	c->forwarded = api->counter(h, "forwarded");
	c->cache_hits = api->counter(h, "cache_hits");
	c->cache_misses = api->counter(h, "cache_misses");
	c->upstream_queries = api->counter(h, "upstream_queries");
	c->timeouts = api->counter(h, "upstream_timeouts");
	c->bad_answers = api->counter(h, "upstream_bad_answers");
	c->tcp = api->counter(h, "upstream_tcp");
	c->over_limit = api->counter(h, "forward_over_limit");
	c->servfail = api->counter(h, "forward_servfail");
	c->coalesced = api->counter(h, "forward_coalesced");
	return c->forwarded && c->cache_hits && c->cache_misses &&
			       c->upstream_queries && c->timeouts &&
			       c->bad_answers && c->tcp && c->over_limit &&
			       c->servfail && c->coalesced
		       ? 0
		       : -1;
}

/* ---- The forwarder ------------------------------------------------------- */

struct waiter {
	struct waiter *next;
	void *tag;
	struct tapir_addr addr;
	uint16_t port;
	struct dns_fq q; /* q.qname points at qname */
	uint8_t qname[DNS_NAME_MAX];
};

struct pq {
	struct pq *hnext;
	struct dns_fwd *f;
	struct dns_ckey key;
	uint64_t hash;
	struct dns_fq q; /* as the first client asked; q.qname -> qname */
	uint8_t qname[DNS_NAME_MAX];
	const struct dns_fwd_group *g;
	unsigned server, try;
	uint16_t id;
	struct tapir_udp *u;
	struct tapir_timer *timer;
	struct tapir_tcp *tcp;
	uint8_t tlen[2];
	unsigned tlenhave;
	uint8_t *tbuf;
	size_t tneed, thave;
	struct waiter *waiters;
	unsigned nwaiters;
};

struct dns_fwd {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct dns_fwd_conf conf;
	struct dns_fwd_counters ctr;
	uint16_t our_port, edns_payload;
	dns_fwd_reply_fn fn;
	void *owner;
	uint64_t arrival_us; /* of the query dns_fwd_query() takes next */
	struct dns_cache *cache;
	uint8_t key[TAPIR_SIPHASH_KEY_LEN];
	struct pq *bucket[PQ_BUCKETS];
	unsigned outstanding; /* waiters */
	struct dns_fmsg fm;   /* the answer being looked at */
	uint8_t copy[DNS_MSG_MAX];
	uint8_t out[DNS_MSG_MAX];
};

struct dns_fwd *dns_fwd_new(struct tapir_host *h,
			    const struct tapir_host_api *api,
			    const struct dns_fwd_conf *c,
			    const struct dns_fwd_counters *ctr, uint16_t our_port,
			    uint16_t edns_payload, dns_fwd_reply_fn fn,
			    void *owner)
{
	struct dns_fwd *f;

	/* No forwarding without unpredictable IDs and ports. */
	if (!TAPIR_HOST_HAS(api, random))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->host = h;
	f->api = api;
	f->conf = *c;
	f->ctr = *ctr;
	f->our_port = our_port;
	f->edns_payload = edns_payload;
	f->fn = fn;
	f->owner = owner;
	if (api->random(h, f->key, sizeof(f->key)) != 0) {
		free(f);
		return NULL;
	}
	if (c->cache_size) {
		f->cache = dns_cache_new(c->cache_size, c->cache_max_bytes,
					 f->key);
		if (!f->cache) {
			free(f);
			return NULL;
		}
	}
	return f;
}

unsigned dns_fwd_cached(const struct dns_fwd *f)
{
	return f ? dns_cache_count(f->cache) : 0;
}

/* The client's query, taken apart; -1 when it is not a plain query of
 * class IN (those stay REFUSED). */
static int parse_client(const uint8_t *msg, size_t len, struct dns_fq *q,
			uint8_t *qname)
{
	struct dns_reader r;
	struct dns_hdr h;
	size_t nlen;
	unsigned total;

	memset(q, 0, sizeof(*q));
	dns_reader_init(&r, msg, len);
	if (dns_read_hdr(&r, &h) < 0 || (h.flags & DNS_F_QR) ||
	    DNS_OPCODE(h.flags) != DNS_OP_QUERY || h.qdcount != 1 ||
	    dns_read_name(&r, qname, &nlen) || dns_read_u16(&r, &q->qtype) ||
	    dns_read_u16(&r, &q->qclass))
		return -1;
	if (q->qclass != DNS_C_IN || q->qtype == DNS_T_OPT ||
	    q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR)
		return -1;
	q->id = h.id;
	q->flags = h.flags;
	q->qname = qname;
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	for (unsigned i = 0; i < total; i++) {
		uint8_t name[DNS_NAME_MAX];
		uint16_t type, class, rdlen;
		uint32_t ttl;

		if (dns_read_name(&r, name, &nlen) || dns_read_u16(&r, &type) ||
		    dns_read_u16(&r, &class) || dns_read_u32(&r, &ttl) ||
		    dns_read_u16(&r, &rdlen) || dns_skip(&r, rdlen))
			return -1;
		if (type == DNS_T_OPT) {
			if (q->edns || ((ttl >> 16) & 0xff) != 0)
				return -1;
			q->edns = true;
			q->payload = class;
			q->do_bit = (ttl & DNS_EDNS_DO) != 0;
		}
	}
	return 0;
}

static const struct dns_fwd_group *group_for(const struct dns_fwd *f,
					     const uint8_t *name)
{
	const struct dns_fwd_group *best = &f->conf.g[0];

	for (unsigned i = 1; i < f->conf.ngroups; i++) {
		const struct dns_fwd_group *g = &f->conf.g[i];

		if (g->labels >= best->labels && dns_name_under(name, g->zone))
			best = g;
	}
	return best;
}

static void reply(struct dns_fwd *f, void *tag, const struct tapir_addr *to,
		  uint16_t port, const struct dns_fq *q, size_t n, bool tc)
{
	struct dns_result r = {
		.rcode = DNS_RCODE(tapir_get_be16(f->out + 2)),
		.qtype = q->qtype,
		.truncated = tc,
		.qend = DNS_HDR_LEN + dns_name_len(q->qname) + 4,
		.t0_us = q->t0_us,
	};

	f->fn(f->owner, tag, to, port, f->out, n, &r);
}

static void reply_error(struct dns_fwd *f, void *tag,
			const struct tapir_addr *to, uint16_t port,
			const struct dns_fq *q, int rcode)
{
	size_t n = dns_fq_error(q, rcode, f->edns_payload, f->out);

	reply(f, tag, to, port, q, n, false);
}

static void reply_view(struct dns_fwd *f, void *tag,
		       const struct tapir_addr *to, uint16_t port,
		       const struct dns_fq *q, const struct dns_fview *v,
		       uint32_t elapsed)
{
	size_t limit = tag ? DNS_MSG_MAX : dns_fq_limit(q, f->edns_payload);
	bool tc;
	size_t n = dns_fview_reply(v, q, elapsed, limit, f->edns_payload,
				   f->out, &tc);

	if (n)
		reply(f, tag, to, port, q, n, tc);
}

/* ---- One question upstream ------------------------------------------------ */

static void pq_release(struct pq *p)
{
	struct dns_fwd *f = p->f;

	if (p->u) {
		f->api->udp_unbind(p->u);
		p->u = NULL;
	}
	if (p->tcp) {
		f->api->tcp_abort(p->tcp);
		p->tcp = NULL;
	}
	free(p->tbuf);
	p->tbuf = NULL;
	p->tneed = p->thave = 0;
	p->tlenhave = 0;
}

/* Unlink p and free it; its waiters are handed back. */
static struct waiter *pq_free(struct pq *p)
{
	struct dns_fwd *f = p->f;
	struct pq **pp = &f->bucket[p->hash % PQ_BUCKETS];
	struct waiter *w = p->waiters;

	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	pq_release(p);
	f->api->timer_free(p->timer);
	f->outstanding -= p->nwaiters;
	free(p);
	return w;
}

/* Every waiter gets rcode. */
static void pq_fail(struct pq *p, int rcode)
{
	struct dns_fwd *f = p->f;
	struct waiter *w = pq_free(p), *next;

	for (; w; w = next) {
		next = w->next;
		reply_error(f, w->tag, &w->addr, w->port, &w->q, rcode);
		free(w);
	}
}

static void pq_try(struct pq *p);

/* This try came to nothing: again, or the next server, or SERVFAIL. */
static void pq_next(struct pq *p, bool next_server)
{
	pq_release(p);
	if (next_server || ++p->try >= p->f->conf.tries) {
		p->try = 0;
		p->server++;
	}
	if (p->server >= p->g->n) {
		++*p->f->ctr.servfail;
		pq_fail(p, DNS_R_SERVFAIL);
		return;
	}
	pq_try(p);
}

static void on_timeout(void *arg)
{
	struct pq *p = arg;

	++*p->f->ctr.timeouts;
	pq_next(p, false);
}

/* The TTL a checked answer in f->fm may be cached for, with the caps
 * applied to its copy in f->copy (f->fm.v then points there); 0: not
 * cacheable. */
static uint32_t cacheable(struct dns_fwd *f)
{
	struct dns_fmsg *m = &f->fm;
	int rcode = DNS_RCODE(m->h.flags);
	bool negative = rcode == DNS_R_NXDOMAIN || m->v.an == 0;
	uint32_t least = DNS_FWD_TTL_MAX;

	memcpy(f->copy, m->v.msg, m->v.end);
	m->v.msg = f->copy;
	for (unsigned i = 0; i < m->v.nttl; i++) {
		uint8_t *p = f->copy + m->v.ttl_off[i];
		uint32_t ttl = tapir_get_be32(p);

		if (ttl > DNS_FWD_TTL_MAX)
			ttl = 0; /* RFC 2181 §8 */
		if (ttl > f->conf.max_ttl)
			ttl = f->conf.max_ttl;
		if (negative && m->v.ttl_off[i] == m->soa_ttl_off) {
			/* RFC 2308 §5: the SOA's TTL, at most its MINIMUM. */
			if (ttl > m->soa_minimum)
				ttl = m->soa_minimum;
			if (ttl > f->conf.max_neg_ttl)
				ttl = f->conf.max_neg_ttl;
		}
		tapir_put_be32(p, ttl);
		if (ttl < least)
			least = ttl;
	}
	if (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN)
		return 0;
	if (m->v.flags & DNS_F_TC)
		return 0;
	if (negative && !m->soa_ttl_off)
		return 0; /* RFC 2308 §5: no SOA, no negative caching */
	if (!m->v.nttl)
		return 0;
	return least;
}

static void pq_tcp(struct pq *p);

/* An answer in f->fm that matched p's question. */
static void pq_answer(struct pq *p, bool via_tcp)
{
	struct dns_fwd *f = p->f;
	struct dns_fmsg *m = &f->fm;
	int rcode = DNS_RCODE(m->h.flags);
	struct waiter *w, *next;
	uint32_t ttl;

	if (!via_tcp && (m->h.flags & DNS_F_TC)) {
		/* Too large for UDP: the same server over TCP. */
		++*f->ctr.tcp;
		pq_tcp(p);
		return;
	}
	if (m->ext_rcode || rcode == DNS_R_SERVFAIL ||
	    rcode == DNS_R_REFUSED || rcode == DNS_R_NOTIMP ||
	    rcode == DNS_R_FORMERR) {
		/* This server cannot answer it: the next one, if any. */
		f->api->timer_cancel(p->timer);
		pq_next(p, true);
		return;
	}
	ttl = cacheable(f);
	if (ttl && f->cache)
		dns_cache_put(f->cache, &p->key, &m->v, ttl,
			      f->api->now_ms(f->host));
	w = pq_free(p);
	for (; w; w = next) {
		next = w->next;
		reply_view(f, w->tag, &w->addr, w->port, &w->q, &m->v, 0);
		free(w);
	}
}

/* Is the response msg[0, len) the answer to p's query as sent?  Leaves
 * it taken apart in f->fm. */
static bool matches(struct pq *p, const uint8_t *msg, size_t len)
{
	struct dns_fmsg *m = &p->f->fm;

	return dns_fmsg_parse(m, msg, len) == 0 && m->h.id == p->id &&
	       DNS_OPCODE(m->h.flags) == DNS_OP_QUERY &&
	       m->qtype == p->q.qtype && m->qclass == p->q.qclass &&
	       dns_name_eq(m->qname, p->qname);
}

static void on_udp_answer(void *arg, const struct tapir_udp_meta *mt,
			  const uint8_t *data, size_t len)
{
	struct pq *p = arg;
	const struct dns_fwd_server *s = &p->g->s[p->server];

	if (!tapir_addr_eq(&mt->src_ip, &s->ip) || mt->src_port != s->port ||
	    !matches(p, data, len)) {
		/* Not from where the query went, or not its answer: a
		 * spoofing attempt or a late answer to an earlier try. */
		++*p->f->ctr.bad_answers;
		return;
	}
	pq_answer(p, false);
}

/* ---- Over TCP ------------------------------------------------------------ */

static size_t tcp_recv(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		       size_t len)
{
	struct pq *p = ctx;
	size_t taken = 0;

	(void)c;
	while (taken < len) {
		size_t n;

		if (p->tlenhave < 2) {
			p->tlen[p->tlenhave++] = data[taken++];
			if (p->tlenhave < 2)
				continue;
			p->tneed = tapir_get_be16(p->tlen);
			p->tbuf = p->tneed >= DNS_HDR_LEN ? malloc(p->tneed)
							   : NULL;
			if (!p->tbuf) {
				++*p->f->ctr.bad_answers;
				p->f->api->timer_cancel(p->timer);
				pq_next(p, false);
				return len;
			}
			continue;
		}
		n = len - taken < p->tneed - p->thave ? len - taken
						      : p->tneed - p->thave;
		memcpy(p->tbuf + p->thave, data + taken, n);
		p->thave += n;
		taken += n;
		if (p->thave == p->tneed) {
			/* One answer per connection: it ends here. */
			if (!matches(p, p->tbuf, p->tneed)) {
				++*p->f->ctr.bad_answers;
				p->f->api->timer_cancel(p->timer);
				pq_next(p, false);
				return len;
			}
			p->f->api->tcp_close(p->tcp);
			p->tcp = NULL;
			pq_answer(p, true); /* f->fm points into tbuf */
			return len;
		}
	}
	return taken;
}

static void tcp_writable(void *ctx, struct tapir_tcp *c)
{
	(void)ctx;
	(void)c;
}

static void tcp_peer_closed(void *ctx, struct tapir_tcp *c)
{
	struct pq *p = ctx;

	(void)c;
	/* Closed before the whole answer came: this try failed. */
	p->f->api->timer_cancel(p->timer);
	pq_next(p, false);
}

static void tcp_closed(void *ctx, struct tapir_tcp *c, int err)
{
	struct pq *p = ctx;

	(void)c;
	(void)err;
	p->tcp = NULL; /* gone: not to be let go again */
	p->f->api->timer_cancel(p->timer);
	pq_next(p, false);
}

static void tcp_connected(void *ctx, struct tapir_tcp *c)
{
	(void)ctx;
	(void)c;
}

static const struct tapir_tcp_handlers tcp_handlers = {
	.recv = tcp_recv,
	.writable = tcp_writable,
	.peer_closed = tcp_peer_closed,
	.closed = tcp_closed,
	.connected = tcp_connected,
};

static void pq_tcp(struct pq *p)
{
	struct dns_fwd *f = p->f;
	const struct dns_fwd_server *s = &p->g->s[p->server];
	size_t n;

	pq_release(p);
	f->api->timer_arm(p->timer, f->conf.timeout_ms);
	if (!TAPIR_HOST_HAS(f->api, tcp_connect))
		return; /* the timer fails this try */
	p->tcp = f->api->tcp_connect(f->host, &s->ip, s->port, &tcp_handlers,
				     p);
	if (!p->tcp)
		return;
	n = dns_fq_upstream(&p->q, p->id, f->edns_payload, f->out + 2);
	tapir_put_be16(f->out, (uint16_t)n);
	f->api->tcp_send(p->tcp, f->out, n + 2);
	++*f->ctr.upstream_queries;
}

/* ---- Over UDP ------------------------------------------------------------ */

static void pq_try(struct pq *p)
{
	struct dns_fwd *f = p->f;
	const struct dns_fwd_server *s = &p->g->s[p->server];
	struct tapir_udp_dst dst = {.ip = s->ip, .port = s->port};
	uint8_t r[4];
	size_t n;

	pq_release(p);
	/* The timer fails the try whatever goes wrong below. */
	f->api->timer_arm(p->timer, f->conf.timeout_ms);
	for (unsigned k = 0; k < PORT_TRIES && !p->u; k++) {
		uint16_t port;

		if (f->api->random(f->host, r, sizeof(r)) != 0)
			return;
		p->id = tapir_get_be16(r);
		port = (uint16_t)(PORT_LOW + tapir_get_be16(r + 2) %
						     (65536 - PORT_LOW));
		if (port != f->our_port)
			p->u = f->api->udp_bind(f->host, port, on_udp_answer,
						p);
	}
	if (!p->u)
		return;
	n = dns_fq_upstream(&p->q, p->id, f->edns_payload, f->out);
	++*f->ctr.upstream_queries;
	f->api->udp_send(p->u, &dst, f->out, n);
}

/* ---- Clients ------------------------------------------------------------- */

static unsigned client_load(const struct dns_fwd *f,
			    const struct tapir_addr *src)
{
	unsigned n = 0;

	for (unsigned b = 0; b < PQ_BUCKETS; b++)
		for (const struct pq *p = f->bucket[b]; p; p = p->hnext)
			for (const struct waiter *w = p->waiters; w;
			     w = w->next)
				n += tapir_addr_eq(&w->addr, src);
	return n;
}

static struct waiter *waiter_new(const struct dns_fq *q, void *tag,
				 const struct tapir_addr *src, uint16_t port)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->tag = tag;
	w->addr = *src;
	w->port = port;
	w->q = *q;
	memcpy(w->qname, q->qname, dns_name_len(q->qname));
	w->q.qname = w->qname;
	return w;
}

bool dns_fwd_query(struct dns_fwd *f, const uint8_t *msg, size_t len,
		   bool tcp, const struct tapir_addr *src, uint16_t port,
		   void *tag)
{
	uint8_t qname[DNS_NAME_MAX];
	struct dns_fq q;
	struct dns_ckey key;
	const struct dns_fwd_group *g;
	const struct dns_cache_ent *e;
	uint64_t now, h;
	struct pq *p;
	struct waiter *w;

	if (!f || parse_client(msg, len, &q, qname) < 0)
		return false;
	q.t0_us = f->arrival_us;
	f->arrival_us = 0;
	g = group_for(f, qname);
	if (!g->n)
		return false;
	if (!tcp)
		tag = NULL;
	++*f->ctr.forwarded;
	dns_ckey_make(&key, qname, q.qtype, q.qclass,
		      (uint8_t)((q.do_bit ? DNS_CK_DO : 0) |
				(q.flags & DNS_F_CD ? DNS_CK_CD : 0)));
	now = f->api->now_ms(f->host);
	if (f->cache && (e = dns_cache_get(f->cache, &key, now))) {
		++*f->ctr.cache_hits;
		reply_view(f, tag, src, port, &q, &e->v,
			   (uint32_t)((now - e->stored_ms) / 1000));
		return true;
	}
	++*f->ctr.cache_misses;
	/* Over a limit: SERVFAIL when we are busy (the client may try
	 * again or elsewhere), REFUSED when this client is the one asking
	 * too much. */
	if (f->outstanding >= f->conf.max_outstanding) {
		++*f->ctr.over_limit;
		reply_error(f, tag, src, port, &q, DNS_R_SERVFAIL);
		return true;
	}
	if (client_load(f, src) >= f->conf.max_per_client) {
		++*f->ctr.over_limit;
		reply_error(f, tag, src, port, &q, DNS_R_REFUSED);
		return true;
	}
	h = dns_ckey_hash(&key, f->key);
	for (p = f->bucket[h % PQ_BUCKETS]; p; p = p->hnext)
		if (p->hash == h && dns_ckey_eq(&p->key, &key))
			break;
	if (p) {
		/* Asked already: wait for that answer.  A retransmission
		 * over UDP of a query that waits already is not queued
		 * twice (over TCP a client has one query waiting at most). */
		for (w = p->waiters; w && !tag; w = w->next)
			if (w->q.id == q.id && w->port == port && !w->tag &&
			    tapir_addr_eq(&w->addr, src))
				return true;
		w = waiter_new(&q, tag, src, port);
		if (!w)
			return true;
		w->next = p->waiters;
		p->waiters = w;
		p->nwaiters++;
		f->outstanding++;
		++*f->ctr.coalesced;
		return true;
	}
	p = calloc(1, sizeof(*p));
	w = waiter_new(&q, tag, src, port);
	if (!p || !w || !(p->timer = f->api->timer_new(f->host, on_timeout,
							p))) {
		free(p);
		free(w);
		reply_error(f, tag, src, port, &q, DNS_R_SERVFAIL);
		return true;
	}
	p->f = f;
	p->key = key;
	p->hash = h;
	p->q = q;
	memcpy(p->qname, qname, dns_name_len(qname));
	p->q.qname = p->qname;
	p->g = g;
	p->waiters = w;
	p->nwaiters = 1;
	f->outstanding++;
	p->hnext = f->bucket[h % PQ_BUCKETS];
	f->bucket[h % PQ_BUCKETS] = p;
	pq_try(p);
	return true;
}

void dns_fwd_arrival(struct dns_fwd *f, uint64_t us)
{
	if (f)
		f->arrival_us = us;
}

void dns_fwd_cancel(struct dns_fwd *f, void *tag)
{
	if (!f || !tag)
		return;
	for (unsigned b = 0; b < PQ_BUCKETS; b++)
		for (struct pq *p = f->bucket[b], *next; p; p = next) {
			next = p->hnext;
			for (struct waiter **pp = &p->waiters; *pp;) {
				struct waiter *w = *pp;

				if (w->tag != tag) {
					pp = &w->next;
					continue;
				}
				*pp = w->next;
				free(w);
				p->nwaiters--;
				f->outstanding--;
			}
			/* Nobody waits any more: the question goes too, with
			 * its port and timer.  Kept, it would count against no
			 * limit, and a client opening and closing connections
			 * could have any number of them upstream. */
			if (!p->nwaiters)
				pq_free(p);
		}
}

void dns_fwd_free(struct dns_fwd *f, bool answer)
{
	if (!f)
		return;
	for (unsigned b = 0; b < PQ_BUCKETS; b++)
		while (f->bucket[b]) {
			struct pq *p = f->bucket[b];

			if (answer) {
				pq_fail(p, DNS_R_SERVFAIL);
			} else {
				struct waiter *w = pq_free(p), *next;

				for (; w; w = next) {
					next = w->next;
					free(w);
				}
			}
		}
	dns_cache_free(f->cache);
	free(f);
}
