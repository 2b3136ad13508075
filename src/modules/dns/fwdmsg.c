/*
 * Forwarded answers; see fwdmsg.h.
 */
#include <string.h>

#include <tapir/bytes.h>

#include "fwdmsg.h"

#define OPT_LEN 11 /* an OPT record without options */

/* The SOA's MINIMUM: RDATA is two names then five 32-bit fields. */
static int soa_minimum(const uint8_t *msg, size_t len, size_t rd,
		       uint16_t rdlen, uint32_t *minimum)
{
	struct dns_reader r;
	uint8_t name[DNS_NAME_MAX];
	size_t nlen;

	dns_reader_init(&r, msg, rd + rdlen < len ? rd + rdlen : len);
	if (dns_skip(&r, rd) || dns_read_name(&r, name, &nlen) ||
	    dns_read_name(&r, name, &nlen) || dns_skip(&r, 16) ||
	    dns_read_u32(&r, minimum))
		return -1;
	return 0;
}

int dns_fmsg_parse(struct dns_fmsg *m, const uint8_t *msg, size_t len)
{
	struct dns_reader r;
	size_t nlen, pos;
	unsigned total, i;

	memset(&m->v, 0, sizeof(m->v));
	m->v.msg = msg;
	m->v.ttl_off = m->ttl_off;
	m->edns = false;
	m->ext_rcode = 0;
	m->soa_ttl_off = 0;
	m->soa_minimum = 0;
	dns_reader_init(&r, msg, len);
	if (dns_read_hdr(&r, &m->h) < 0 || !(m->h.flags & DNS_F_QR) ||
	    m->h.qdcount != 1 || dns_read_name(&r, m->qname, &nlen) ||
	    dns_read_u16(&r, &m->qtype) || dns_read_u16(&r, &m->qclass))
		return -1;
	m->v.qend = dns_reader_pos(&r);
	if (m->v.qend != DNS_HDR_LEN + nlen + 4)
		return -1; /* a compressed question: not ours to keep */
	m->v.flags = m->h.flags;
	total = (unsigned)m->h.ancount + m->h.nscount + m->h.arcount;
	m->v.ar_start = 0;
	m->v.end = m->v.qend;
	for (i = 0; i < total; i++) {
		uint8_t name[DNS_NAME_MAX];
		uint16_t type, class, rdlen;
		uint32_t ttl;
		size_t start = dns_reader_pos(&r), ttl_at;

		if (i == (unsigned)m->h.ancount + m->h.nscount)
			m->v.ar_start = start;
		if (dns_read_name(&r, name, &nlen) || dns_read_u16(&r, &type) ||
		    dns_read_u16(&r, &class))
			return -1;
		ttl_at = dns_reader_pos(&r);
		if (dns_read_u32(&r, &ttl) || dns_read_u16(&r, &rdlen))
			return -1;
		pos = dns_reader_pos(&r);
		if (dns_skip(&r, rdlen))
			return -1;
		if (type == DNS_T_OPT) {
			/* Only in the additional section, owned by the root;
			 * it and what follows it are left out. */
			if (i < (unsigned)m->h.ancount + m->h.nscount ||
			    nlen != 1)
				return -1;
			m->edns = true;
			m->ext_rcode = (uint8_t)(ttl >> 24);
			break;
		}
		if (i >= DNS_FWD_RR_MAX)
			return -1; /* cannot happen: see DNS_FWD_RR_MAX */
		if (type == DNS_T_SOA && i >= m->h.ancount &&
		    i < (unsigned)m->h.ancount + m->h.nscount &&
		    !m->soa_ttl_off) {
			if (soa_minimum(msg, len, pos, rdlen,
					&m->soa_minimum) < 0)
				return -1;
			m->soa_ttl_off = ttl_at;
		}
		m->ttl_off[m->v.nttl++] = (uint16_t)ttl_at;
		m->v.end = dns_reader_pos(&r);
	}
	if (i < (unsigned)m->h.ancount + m->h.nscount)
		return -1; /* cannot happen: the loop breaks in additional */
	m->v.an = m->h.ancount;
	m->v.ns = m->h.nscount;
	if (!m->v.ar_start)
		m->v.ar_start = m->v.end;
	m->v.ar = (uint16_t)(i - m->v.an - m->v.ns);
	return 0;
}

size_t dns_fq_limit(const struct dns_fq *q, uint16_t our_payload)
{
	size_t want;

	if (!q->edns)
		return DNS_UDP_MIN;
	want = q->payload < DNS_UDP_MIN ? DNS_UDP_MIN : q->payload;
	return want < our_payload ? want : our_payload;
}

/* Header and question of the answer to q; its length. */
static size_t put_head(const struct dns_fq *q, uint16_t flags, uint16_t an,
		       uint16_t ns, uint16_t ar, uint8_t *out)
{
	size_t nlen = dns_name_len(q->qname);

	tapir_put_be16(out, q->id);
	tapir_put_be16(out + 2, flags);
	tapir_put_be16(out + 4, 1);
	tapir_put_be16(out + 6, an);
	tapir_put_be16(out + 8, ns);
	tapir_put_be16(out + 10, ar);
	memcpy(out + DNS_HDR_LEN, q->qname, nlen);
	tapir_put_be16(out + DNS_HDR_LEN + nlen, q->qtype);
	tapir_put_be16(out + DNS_HDR_LEN + nlen + 2, q->qclass);
	return DNS_HDR_LEN + nlen + 4;
}

static size_t put_opt(const struct dns_fq *q, uint16_t our_payload,
		      uint8_t *p)
{
	p[0] = 0;
	tapir_put_be16(p + 1, DNS_T_OPT);
	tapir_put_be16(p + 3, our_payload);
	p[5] = 0; /* extended rcode */
	p[6] = 0; /* version */
	tapir_put_be16(p + 7, q->do_bit ? DNS_EDNS_DO : 0);
	tapir_put_be16(p + 9, 0);
	return OPT_LEN;
}

static uint16_t reply_flags(const struct dns_fq *q, uint16_t up, bool tc)
{
	/* Not authoritative (AA clear), not validated (AD clear). */
	return (uint16_t)(DNS_F_QR | (q->flags & (DNS_F_RD | DNS_F_CD)) |
			  (up & DNS_F_RA) | (tc ? DNS_F_TC : 0) |
			  DNS_RCODE(up));
}

size_t dns_fview_reply(const struct dns_fview *v, const struct dns_fq *q,
		       uint32_t elapsed, size_t limit, uint16_t our_payload,
		       uint8_t *out, bool *tc)
{
	size_t qlen = DNS_HDR_LEN + dns_name_len(q->qname) + 4;
	size_t opt = q->edns ? OPT_LEN : 0;
	size_t cut = v->end, n;
	uint16_t ar = v->ar, an = v->an, ns = v->ns;

	*tc = false;
	if (qlen != v->qend)
		return 0; /* not the same question: cannot happen */
	if (qlen + (cut - v->qend) + opt > limit) {
		cut = v->ar_start;
		ar = 0;
	}
	if (qlen + (cut - v->qend) + opt > limit) {
		cut = v->qend;
		an = ns = 0;
		*tc = true;
	}
	n = put_head(q, reply_flags(q, v->flags, *tc), an, ns,
		     (uint16_t)(ar + (q->edns ? 1 : 0)), out);
	memcpy(out + n, v->msg + n, cut - n);
	for (unsigned i = 0; i < v->nttl && v->ttl_off[i] < cut; i++) {
		uint8_t *p = out + v->ttl_off[i];
		uint32_t ttl = tapir_get_be32(p);

		tapir_put_be32(p, ttl > elapsed ? ttl - elapsed : 0);
	}
	n = cut;
	if (q->edns)
		n += put_opt(q, our_payload, out + n);
	return n;
}

size_t dns_fq_error(const struct dns_fq *q, int rcode, uint16_t our_payload,
		    uint8_t *out)
{
	size_t n = put_head(q, reply_flags(q, DNS_F_RA | (uint16_t)rcode, false),
			    0, 0, q->edns ? 1 : 0, out);

	if (q->edns)
		n += put_opt(q, our_payload, out + n);
	return n;
}

size_t dns_fq_upstream(const struct dns_fq *q, uint16_t id, uint16_t payload,
		       uint8_t *out)
{
	struct dns_fq u = *q;
	size_t n;

	u.id = id;
	u.edns = true;
	n = put_head(&u, (uint16_t)(DNS_F_RD | (q->flags & DNS_F_CD)), 0, 0, 1,
		     out);
	return n + put_opt(&u, payload, out + n);
}
