/*
 * Answering one query; see answer.h.
 */
#include <string.h>

#include <tapir/bytes.h>

#include "answer.h"

#define OPT_LEN 11 /* an OPT record without options */
#define ADDITIONAL_MAX 16

struct query {
	struct dns_hdr h;
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	bool qok;      /* one question, well formed */
	bool rest_ok;  /* the other sections parse */
	bool edns;     /* an OPT record */
	uint8_t edns_version;
	uint16_t edns_payload;
	uint16_t edns_flags;
};

struct resp {
	struct dns_writer w;
	uint16_t an, ns, ar;
	bool tc;
	size_t qend;
	const uint8_t *added[ADDITIONAL_MAX]; /* names with glue already */
	unsigned nadded;
};

/* The sections after the question: skipped, but each record must parse,
 * and an OPT in the additional section is taken apart (RFC 6891 §6.1.1:
 * one at most, owned by the root). */
static bool parse_rest(struct dns_reader *r, struct query *q)
{
	unsigned total = (unsigned)q->h.ancount + q->h.nscount + q->h.arcount;

	for (unsigned i = 0; i < total; i++) {
		uint8_t name[DNS_NAME_MAX];
		size_t nlen;
		uint16_t type, class, rdlen;
		uint32_t ttl;

		if (dns_read_name(r, name, &nlen) || dns_read_u16(r, &type) ||
		    dns_read_u16(r, &class) || dns_read_u32(r, &ttl) ||
		    dns_read_u16(r, &rdlen))
			return false;
		if (type == DNS_T_OPT) {
			/* The RDATA as a cursor of its own: rdlen is checked
			 * once, here, and the options cannot read past it. */
			struct tapir_cur o = tapir_cur_sub(&r->cur, rdlen);

			if (i < (unsigned)q->h.ancount + q->h.nscount ||
			    q->edns || nlen != 1 || !tapir_cur_ok(&o))
				return false;
			q->edns = true;
			q->edns_payload = class;
			q->edns_version = (uint8_t)(ttl >> 16);
			q->edns_flags = (uint16_t)ttl;
			/* Options: each must fit; unknown ones are ignored. */
			while (tapir_cur_ok(&o) && o.len) {
				tapir_cur_be16(&o); /* code */
				tapir_cur_skip(&o, tapir_cur_be16(&o));
			}
			if (!tapir_cur_ok(&o))
				return false;
		} else if (dns_skip(r, rdlen)) {
			return false;
		}
	}
	return true;
}

/* The question when there is exactly one, then the other sections. */
static void parse_query(struct query *q, struct dns_reader *r)
{
	size_t nlen;

	q->qok = false;
	q->rest_ok = false;
	if (q->h.qdcount == 1)
		q->qok = dns_read_name(r, q->qname, &nlen) == 0 &&
			 dns_read_u16(r, &q->qtype) == 0 &&
			 dns_read_u16(r, &q->qclass) == 0;
	if (q->qok || q->h.qdcount == 0)
		q->rest_ok = parse_rest(r, q);
}

/* ---- Writing records --------------------------------------------------- */

static int put_rr(struct resp *p, const uint8_t *owner, uint16_t type,
		  uint32_t ttl, const uint8_t *rd, uint16_t rdlen)
{
	struct dns_writer *w = &p->w;
	size_t at;
	int rc = 0;

	if (dns_put_name(w, owner, true) || dns_put_u16(w, type) ||
	    dns_put_u16(w, DNS_C_IN) || dns_put_u32(w, ttl))
		return -1;
	at = w->len;
	if (dns_put_u16(w, 0))
		return -1;
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		rc = dns_put_name(w, rd, true);
		break;
	case DNS_T_MX:
		rc = dns_put_bytes(w, rd, 2) || dns_put_name(w, rd + 2, true);
		break;
	case DNS_T_SOA: {
		size_t l1 = dns_name_len(rd);
		size_t l2 = dns_name_len(rd + l1);

		rc = dns_put_name(w, rd, true) ||
		     dns_put_name(w, rd + l1, true) ||
		     dns_put_bytes(w, rd + l1 + l2, 20);
		break;
	}
	case DNS_T_SRV: /* RFC 2782: the target is not compressed */
		rc = dns_put_bytes(w, rd, 6) || dns_put_name(w, rd + 6, false);
		break;
	default:
		rc = dns_put_bytes(w, rd, rdlen);
	}
	if (rc)
		return -1;
	dns_put_u16_at(w, at, (uint16_t)(w->len - at - 2));
	return 0;
}

/* A whole RRset or nothing. */
static int put_rrset(struct resp *p, const uint8_t *owner,
		     const struct dns_rrset *s, uint16_t *count)
{
	struct dns_mark m = dns_writer_mark(&p->w);

	for (unsigned i = 0; i < s->n; i++)
		if (put_rr(p, owner, s->type, s->rr[i].ttl, s->rr[i].rdata,
			   s->rr[i].rdlen)) {
			dns_writer_reset(&p->w, m);
			return -1;
		}
	*count = (uint16_t)(*count + s->n);
	return 0;
}

/* Required data did not fit: TC=1 and only the question (RFC 2181 §9). */
static void truncate_resp(struct resp *p)
{
	struct dns_mark m = {p->qend, 1};

	/* Names in the question stay valid compression targets. */
	m.ncomp = p->w.ncomp;
	for (unsigned i = 0; i < p->w.ncomp; i++)
		if (p->w.comp[i] >= p->qend) {
			m.ncomp = i;
			break;
		}
	dns_writer_reset(&p->w, m);
	p->an = p->ns = p->ar = 0;
	p->tc = true;
}

static int answer_set(struct resp *p, const uint8_t *owner,
		      const struct dns_rrset *s)
{
	if (p->tc)
		return -1;
	if (put_rrset(p, owner, s, &p->an)) {
		truncate_resp(p);
		return -1;
	}
	return 0;
}

/* NXDOMAIN / NODATA: the zone's SOA in AUTHORITY with the negative TTL. */
static void negative(struct resp *p, const struct dns_zone *z)
{
	const struct dns_rrset *s = dns_zone_soa(z);

	if (p->tc || !s)
		return;
	if (put_rr(p, z->origin, DNS_T_SOA, dns_zone_neg_ttl(z),
		   s->rr[0].rdata, s->rr[0].rdlen)) {
		truncate_resp(p);
		return;
	}
	p->ns++;
}

/* Addresses of a target named in MX, SRV or NS data, when it is ours;
 * left out when they do not fit (they are optional). */
static void glue(struct resp *p, const struct dns_ctx *c, const uint8_t *name)
{
	const struct dns_zone *z = dns_zones_find(c->zones, name);
	const struct dns_node *n;
	static const uint16_t t[2] = {DNS_T_A, DNS_T_AAAA};

	if (!z || p->tc || p->nadded >= ADDITIONAL_MAX)
		return;
	for (unsigned i = 0; i < p->nadded; i++)
		if (dns_name_eq(p->added[i], name))
			return;
	n = dns_zone_find(z, name);
	if (!n)
		return;
	p->added[p->nadded++] = name;
	for (int i = 0; i < 2; i++) {
		const struct dns_rrset *s = dns_node_rrset(n, t[i]);

		if (s)
			put_rrset(p, n->name, s, &p->ar);
	}
}

static void additional(struct resp *p, const struct dns_ctx *c,
		       const uint8_t *owner, const struct dns_rrset *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		const uint8_t *rd = s->rr[i].rdata;

		if (s->type == DNS_T_MX)
			glue(p, c, rd + 2);
		else if (s->type == DNS_T_SRV)
			glue(p, c, rd + 6);
		else if (s->type == DNS_T_NS)
			glue(p, c, rd);
		else if ((s->type == DNS_T_SVCB || s->type == DNS_T_HTTPS) &&
			 s->rr[i].rdlen > 2 && (rd[2] || rd[0] || rd[1]))
			/* RFC 9460 §4.2: the target's addresses; "." in
			 * ServiceMode (priority > 0) is the owner itself. */
			glue(p, c, rd[2] ? rd + 2 : owner);
	}
}

static void put_a(struct resp *p, const uint8_t *owner, uint32_t ip,
		  uint32_t ttl)
{
	uint8_t rd[4];
	struct dns_mark m = dns_writer_mark(&p->w);

	if (p->tc)
		return;
	tapir_put_be32(rd, ip);
	if (put_rr(p, owner, DNS_T_A, ttl, rd, 4)) {
		dns_writer_reset(&p->w, m);
		truncate_resp(p);
		return;
	}
	p->an++;
}

static void put_ptr(struct resp *p, const uint8_t *owner, const uint8_t *name,
		    uint32_t ttl)
{
	struct dns_mark m = dns_writer_mark(&p->w);

	if (p->tc)
		return;
	if (put_rr(p, owner, DNS_T_PTR, ttl, name,
		   (uint16_t)dns_name_len(name))) {
		dns_writer_reset(&p->w, m);
		truncate_resp(p);
		return;
	}
	p->an++;
}

/* PTR for an address of our A/AAAA records or of a dynamic name.  True
 * when the name is such an address (answered, or NODATA for other types). */
static bool auto_ptr(struct resp *p, const struct dns_ctx *c,
		     const uint8_t *name, uint16_t qtype)
{
	uint8_t addr[16], dname[DNS_NAME_MAX];
	unsigned len = dns_reverse_addr(name, addr);
	const struct dns_addr_ent *e;
	bool dyn = false, any;
	unsigned written = 0;

	if (!len)
		return false;
	e = dns_zones_addr(c->zones, addr, len);
	if ((len == 4 || len == 16) && c->dyn && c->dyn->lookup_ptr)
		dyn = c->dyn->lookup_ptr(c->dyn->arg, addr, len, dname);
	if (!e && !dyn)
		return false;
	any = qtype == DNS_T_PTR || qtype == DNS_T_ANY;
	for (; e && any; e = e->next) {
		if (e->len != len || memcmp(e->addr, addr, len))
			continue;
		put_ptr(p, name, e->owner, e->ttl);
		written++;
		if (qtype == DNS_T_ANY || written >= 64)
			break;
	}
	if (any && !written && dyn)
		put_ptr(p, name, dname, c->dyn->ttl);
	return true;
}

static void put_aaaa(struct resp *p, const uint8_t *owner,
		     const uint8_t *ip6, uint32_t ttl)
{
	struct dns_mark m = dns_writer_mark(&p->w);

	if (p->tc)
		return;
	if (put_rr(p, owner, DNS_T_AAAA, ttl, ip6, 16)) {
		dns_writer_reset(&p->w, m);
		truncate_resp(p);
		return;
	}
	p->an++;
}

/* A name that exists only through a DHCP or DHCPv6 lease: A, AAAA, or
 * NODATA for the other types (ANY: one RRset, RFC 8482). */
static bool dynamic_name(struct resp *p, const struct dns_ctx *c,
			 const struct dns_zone *z, const uint8_t *name,
			 uint16_t qtype)
{
	uint8_t a4[4], a6[16];
	bool has4, has6;

	if (!c->dyn || c->dyn->zone != z || !c->dyn->lookup_a ||
	    dns_name_labels(name) != dns_name_labels(z->origin) + 1)
		return false;
	has4 = c->dyn->lookup_a(c->dyn->arg, name, 4, a4);
	has6 = c->dyn->lookup_a(c->dyn->arg, name, 16, a6);
	if (!has4 && !has6)
		return false;
	if (has4 && (qtype == DNS_T_A || qtype == DNS_T_ANY))
		put_a(p, name, tapir_get_be32(a4), c->dyn->ttl);
	else if (has6 && (qtype == DNS_T_AAAA || qtype == DNS_T_ANY))
		put_aaaa(p, name, a6, c->dyn->ttl);
	else
		negative(p, z);
	return true;
}

/* A referral to the zone below the cut (RFC 1034 §4.3.2 step 3b): its NS
 * RRset in AUTHORITY, the addresses of the servers (glue) in ADDITIONAL. */
static void referral(struct resp *p, const struct dns_ctx *c,
		     const struct dns_node *cut)
{
	const struct dns_rrset *ns = dns_node_rrset(cut, DNS_T_NS);

	if (p->tc || !ns)
		return;
	if (put_rrset(p, cut->name, ns, &p->ns)) {
		truncate_resp(p);
		return;
	}
	additional(p, c, cut->name, ns);
}

/* RFC 1034 §4.3.2 for the zone set, with zone cuts and wildcards
 * (RFC 4592); returns the rcode. */
static int lookup(struct resp *p, const struct dns_ctx *c, const uint8_t *qname,
		  uint16_t qtype, bool *aa)
{
	const struct dns_zone *z = dns_zones_find(c->zones, qname);
	const uint8_t *cur = qname;

	*aa = false;
	if (!z) {
		if (auto_ptr(p, c, qname, qtype)) {
			*aa = true;
			return DNS_R_NOERROR;
		}
		return DNS_R_REFUSED;
	}
	*aa = true;
	for (unsigned hop = 0; hop <= DNS_CNAME_CHAIN_MAX; hop++) {
		const struct dns_node *n;
		const struct dns_rrset *s, *cn;

		switch (dns_zone_match(z, cur, qtype, &n)) {
		case DNS_MATCH_CUT:
			/* Not ours to answer: AA only for what came before
			 * (a CNAME that led here). */
			if (hop == 0)
				*aa = false;
			referral(p, c, n);
			return DNS_R_NOERROR;
		case DNS_MATCH_NONE:
			if (dynamic_name(p, c, z, cur, qtype) ||
			    auto_ptr(p, c, cur, qtype))
				return DNS_R_NOERROR;
			negative(p, z);
			return DNS_R_NXDOMAIN;
		case DNS_MATCH_WILD:
			/* A lease's name is a closer match than a wildcard. */
			if (dynamic_name(p, c, z, cur, qtype) ||
			    auto_ptr(p, c, cur, qtype))
				return DNS_R_NOERROR;
			break; /* n is the wildcard; owner is cur */
		case DNS_MATCH_NODE:
			break;
		}
		if (qtype == DNS_T_ANY) {
			/* RFC 8482: one RRset is enough. */
			if (n->sets)
				answer_set(p, cur, n->sets);
			else
				negative(p, z);
			return DNS_R_NOERROR;
		}
		s = dns_node_rrset(n, qtype);
		if (s) {
			if (answer_set(p, cur, s) == 0)
				additional(p, c, cur, s);
			return DNS_R_NOERROR;
		}
		cn = dns_node_rrset(n, DNS_T_CNAME);
		if (!cn) {
			if (!(qtype == DNS_T_PTR && auto_ptr(p, c, cur, qtype)))
				negative(p, z);
			return DNS_R_NOERROR;
		}
		if (answer_set(p, cur, cn))
			return DNS_R_NOERROR;
		cur = cn->rr[0].rdata;
		z = dns_zones_find(c->zones, cur);
		if (!z)
			return DNS_R_NOERROR; /* the resolver goes on */
	}
	return DNS_R_NOERROR; /* chain too long: what we have */
}

/* CHAOS class TXT (the convention BIND started): the server's version and
 * identity, when the configuration allows; REFUSED otherwise. */
static int chaos(struct resp *p, const struct dns_ctx *c, const uint8_t *qname,
		 uint16_t qtype, bool *aa)
{
	static const uint8_t version_bind[] = "\7version\4bind";
	static const uint8_t version_server[] = "\7version\6server";
	static const uint8_t id_server[] = "\2id\6server";
	static const uint8_t hostname_bind[] = "\10hostname\4bind";
	const char *text = NULL;
	struct dns_mark m;
	size_t len;

	*aa = false;
	if (!c->chaos)
		return DNS_R_REFUSED;
	if (dns_name_eq(qname, version_bind) ||
	    dns_name_eq(qname, version_server))
		text = c->chaos->version;
	else if (dns_name_eq(qname, id_server) ||
		 dns_name_eq(qname, hostname_bind))
		text = c->chaos->id;
	if (!text)
		return DNS_R_REFUSED;
	*aa = true;
	if (qtype != DNS_T_TXT && qtype != DNS_T_ANY)
		return DNS_R_NOERROR; /* no data of that type */
	len = strlen(text);
	if (len > 255)
		len = 255;
	m = dns_writer_mark(&p->w);
	if (dns_put_name(&p->w, qname, true) || dns_put_u16(&p->w, DNS_T_TXT) ||
	    dns_put_u16(&p->w, DNS_C_CH) || dns_put_u32(&p->w, 0) ||
	    dns_put_u16(&p->w, (uint16_t)(len + 1)) ||
	    dns_put_u8(&p->w, (uint8_t)len) || dns_put_bytes(&p->w, text, len)) {
		dns_writer_reset(&p->w, m);
		truncate_resp(p);
		return DNS_R_NOERROR;
	}
	p->an++;
	return DNS_R_NOERROR;
}

size_t dns_answer(const struct dns_ctx *c, const uint8_t *msg, size_t len,
		  bool tcp, uint8_t *out, struct dns_result *res)
{
	struct dns_reader r;
	struct query q;
	struct resp p;
	size_t limit = DNS_UDP_MIN;
	int rcode;
	bool aa = false;
	uint16_t flags;

	memset(res, 0, sizeof(*res));
	res->rcode = -1;
	dns_reader_init(&r, msg, len);
	memset(&q, 0, sizeof(q));
	if (dns_read_hdr(&r, &q.h) < 0 || (q.h.flags & DNS_F_QR))
		return 0; /* no header to answer, or a response */
	parse_query(&q, &r);
	if (q.qok)
		res->qtype = q.qtype;

	if (q.edns && q.rest_ok) {
		size_t want = q.edns_payload < DNS_UDP_MIN ? DNS_UDP_MIN
							   : q.edns_payload;

		limit = want < c->edns_payload ? want : c->edns_payload;
	}
	if (tcp)
		limit = DNS_MSG_MAX;
	memset(&p, 0, sizeof(p));
	dns_writer_init(&p.w, out, DNS_MSG_MAX,
			limit - (q.edns && q.rest_ok ? OPT_LEN : 0));
	p.w.len = DNS_HDR_LEN;
	if (q.qok && (dns_put_name(&p.w, q.qname, false) ||
		      dns_put_u16(&p.w, q.qtype) ||
		      dns_put_u16(&p.w, q.qclass)))
		return 0; /* cannot happen: a question fits in 512 */
	p.qend = p.w.len;

	if (DNS_OPCODE(q.h.flags) != DNS_OP_QUERY)
		rcode = DNS_R_NOTIMP;
	else if (q.h.qdcount != 1 || !q.qok || !q.rest_ok)
		rcode = DNS_R_FORMERR;
	else if (q.edns && q.edns_version != 0)
		rcode = DNS_R_BADVERS;
	else if (q.qclass == DNS_C_CH && q.qtype != DNS_T_OPT &&
		 q.qtype != DNS_T_AXFR && q.qtype != DNS_T_IXFR)
		rcode = chaos(&p, c, q.qname, q.qtype, &aa);
	else if (q.qclass != DNS_C_IN)
		rcode = DNS_R_REFUSED;
	else if (q.qtype == DNS_T_OPT)
		rcode = DNS_R_FORMERR;
	else if (q.qtype == DNS_T_AXFR || q.qtype == DNS_T_IXFR)
		rcode = DNS_R_REFUSED; /* no zone transfers */
	else
		rcode = lookup(&p, c, q.qname, q.qtype, &aa);

	flags = (uint16_t)(DNS_F_QR | (q.h.flags & (0xfu << 11)) |
			   (q.h.flags & (DNS_F_RD | DNS_F_CD)) |
			   (aa ? DNS_F_AA : 0) | (p.tc ? DNS_F_TC : 0) |
			   (rcode & 0xf));
	if (q.edns && q.rest_ok) {
		p.w.limit = limit;
		if (dns_put_u8(&p.w, 0) || dns_put_u16(&p.w, DNS_T_OPT) ||
		    dns_put_u16(&p.w, c->edns_payload) ||
		    dns_put_u8(&p.w, (uint8_t)(rcode >> 4)) ||
		    dns_put_u8(&p.w, 0) ||
		    dns_put_u16(&p.w, (uint16_t)(q.edns_flags & DNS_EDNS_DO)) ||
		    dns_put_u16(&p.w, 0))
			return 0;
		p.ar++;
	} else if (rcode > 15) {
		rcode = DNS_R_FORMERR; /* cannot happen without OPT */
		flags = (uint16_t)((flags & ~0xfu) | DNS_R_FORMERR);
	}
	{
		struct dns_hdr h = {q.h.id, flags, q.qok ? 1 : 0,
				    p.an,   p.ns,  p.ar};
		size_t end = p.w.len;

		p.w.len = 0;
		p.w.limit = DNS_MSG_MAX;
		dns_put_hdr(&p.w, &h);
		p.w.len = end;
	}
	res->rcode = rcode;
	res->truncated = p.tc;
	res->qend = p.qend;
	return p.w.len;
}
