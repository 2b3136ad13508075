/*
 * Query builder and response parser for the dns tests; see dns_msg.h.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns_msg.h"
#include "modules/dns/zone.h"

size_t mkq(uint8_t *buf, const char *name, uint16_t qtype, uint16_t qclass,
	   const struct qopt *o)
{
	static const struct qopt none = {.qdcount = -1};
	struct dns_writer w;
	uint8_t wire[DNS_NAME_MAX];
	char err[128];
	int qd;
	struct dns_hdr h;
	size_t l = strlen(name);
	char tmp[600];

	if (!o)
		o = &none;
	qd = o->qdcount < 0 ? 1 : o->qdcount;
	snprintf(tmp, sizeof(tmp), "%s%s", name,
		 l && name[l - 1] == '.' ? "" : ".");
	ck_assert_int_eq(dns_name_from_text(tmp, strlen(tmp), NULL, wire, err,
					    sizeof(err)),
			 0);
	dns_writer_init(&w, buf, DNS_MSG_MAX, DNS_MSG_MAX);
	h = (struct dns_hdr){o->id ? o->id : 0x1234, o->flags, (uint16_t)qd,
			     0, 0, o->edns ? 1 : 0};
	ck_assert_int_eq(dns_put_hdr(&w, &h), 0);
	for (int i = 0; i < qd; i++) {
		ck_assert_int_eq(dns_put_bytes(&w, wire, dns_name_len(wire)), 0);
		dns_put_u16(&w, qtype);
		dns_put_u16(&w, qclass);
	}
	if (o->edns) {
		dns_put_u8(&w, 0);
		dns_put_u16(&w, DNS_T_OPT);
		dns_put_u16(&w, o->payload);
		dns_put_u8(&w, 0);
		dns_put_u8(&w, o->version);
		dns_put_u16(&w, o->do_bit ? DNS_EDNS_DO : 0);
		dns_put_u16(&w, (uint16_t)o->opt_len);
		dns_put_bytes(&w, o->opt, o->opt_len);
	}
	return w.len;
}

static void name_text(struct dns_reader *r, char *out, size_t size)
{
	uint8_t n[DNS_NAME_MAX];
	size_t l;

	ck_assert_int_eq(dns_read_name(r, n, &l), 0);
	ck_assert_int_ge(dns_name_to_text(n, out, size), 0);
}

static void rdata_text(const uint8_t *msg, size_t len, size_t at,
		       struct prr *rr)
{
	struct dns_reader r;
	char a[300], b[300];
	uint16_t x, y, z;
	uint32_t v[5];

	dns_reader_init(&r, msg, len);
	ck_assert_int_eq(dns_skip(&r, at), 0);
	rr->text[0] = 0;
	switch (rr->type) {
	case DNS_T_A:
		ck_assert_uint_eq(rr->rdlen, 4);
		inet_ntop(AF_INET, rr->rdata, rr->text, sizeof(rr->text));
		break;
	case DNS_T_AAAA:
		ck_assert_uint_eq(rr->rdlen, 16);
		inet_ntop(AF_INET6, rr->rdata, rr->text, sizeof(rr->text));
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		name_text(&r, rr->text, sizeof(rr->text));
		ck_assert_uint_eq(dns_reader_pos(&r), at + rr->rdlen);
		break;
	case DNS_T_MX:
		dns_read_u16(&r, &x);
		name_text(&r, a, sizeof(a));
		ck_assert_uint_eq(dns_reader_pos(&r), at + rr->rdlen);
		snprintf(rr->text, sizeof(rr->text), "%u %s", x, a);
		break;
	case DNS_T_SRV:
		dns_read_u16(&r, &x);
		dns_read_u16(&r, &y);
		dns_read_u16(&r, &z);
		/* RFC 2782: no compression in the target. */
		for (size_t i = dns_reader_pos(&r); i < at + rr->rdlen; i++)
			ck_assert_uint_ne(msg[i] & 0xc0, 0xc0);
		name_text(&r, a, sizeof(a));
		ck_assert_uint_eq(dns_reader_pos(&r), at + rr->rdlen);
		snprintf(rr->text, sizeof(rr->text), "%u %u %u %s", x, y, z,
			 a);
		break;
	case DNS_T_SOA:
		name_text(&r, a, sizeof(a));
		name_text(&r, b, sizeof(b));
		for (int i = 0; i < 5; i++)
			ck_assert_int_eq(dns_read_u32(&r, &v[i]), 0);
		ck_assert_uint_eq(dns_reader_pos(&r), at + rr->rdlen);
		snprintf(rr->text, sizeof(rr->text), "%s %s %u %u %u %u %u",
			 a, b, v[0], v[1], v[2], v[3], v[4]);
		break;
	case DNS_T_TXT: {
		size_t o = 0, i = 0;

		while (i < rr->rdlen) {
			unsigned l = rr->rdata[i++];

			ck_assert_uint_le(i + l, rr->rdlen);
			o += (size_t)snprintf(rr->text + o,
					      sizeof(rr->text) - o, "%s\"%.*s\"",
					      o ? " " : "", (int)l,
					      (const char *)rr->rdata + i);
			i += l;
		}
		break;
	}
	}
}

static struct parsed P;

const struct parsed *parse(const uint8_t *m, size_t len)
{
	struct dns_reader r;
	uint16_t counts[3];

	memset(&P, 0, sizeof(P));
	dns_reader_init(&r, m, len);
	ck_assert_int_eq(dns_read_hdr(&r, &P.h), 0);
	ck_assert_uint_le(P.h.qdcount, 1);
	if (P.h.qdcount) {
		name_text(&r, P.qname, sizeof(P.qname));
		ck_assert_int_eq(dns_read_u16(&r, &P.qtype), 0);
		ck_assert_int_eq(dns_read_u16(&r, &P.qclass), 0);
	}
	counts[0] = P.h.ancount;
	counts[1] = P.h.nscount;
	counts[2] = P.h.arcount;
	for (int s = 0; s < 3; s++)
		for (unsigned i = 0; i < counts[s]; i++) {
			struct prr rr;
			size_t at;

			memset(&rr, 0, sizeof(rr));
			name_text(&r, rr.name, sizeof(rr.name));
			ck_assert_int_eq(dns_read_u16(&r, &rr.type), 0);
			ck_assert_int_eq(dns_read_u16(&r, &rr.class), 0);
			ck_assert_int_eq(dns_read_u32(&r, &rr.ttl), 0);
			ck_assert_int_eq(dns_read_u16(&r, &rr.rdlen), 0);
			at = dns_reader_pos(&r);
			ck_assert_uint_le(rr.rdlen, sizeof(rr.rdata));
			ck_assert_int_eq(dns_skip(&r, rr.rdlen), 0);
			memcpy(rr.rdata, m + at, rr.rdlen);
			if (rr.type == DNS_T_OPT) {
				ck_assert_int_eq(s, 2);
				ck_assert(!P.opt);
				ck_assert_str_eq(rr.name, ".");
				P.opt = true;
				P.opt_payload = rr.class;
				P.opt_ext_rcode = (uint8_t)(rr.ttl >> 24);
				P.opt_version = (uint8_t)(rr.ttl >> 16);
				P.opt_flags = (uint16_t)rr.ttl;
				P.opt_rdlen = rr.rdlen;
				continue;
			}
			ck_assert_uint_eq(rr.class, DNS_C_IN);
			rdata_text(m, len, at, &rr);
			ck_assert_uint_lt(P.n[s], PR_MAX);
			P.rr[s][P.n[s]++] = rr;
		}
	ck_assert_uint_eq(dns_reader_pos(&r), len); /* nothing after the records */
	return &P;
}

static const char *type_name(uint16_t t)
{
	switch (t) {
	case DNS_T_A: return "A";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_NS: return "NS";
	case DNS_T_CNAME: return "CNAME";
	case DNS_T_PTR: return "PTR";
	case DNS_T_MX: return "MX";
	case DNS_T_SRV: return "SRV";
	case DNS_T_SOA: return "SOA";
	case DNS_T_TXT: return "TXT";
	}
	return "?";
}

bool has_rr(const struct parsed *p, int s, const char *line)
{
	char buf[2000];

	for (unsigned i = 0; i < p->n[s]; i++) {
		const struct prr *rr = &p->rr[s][i];

		snprintf(buf, sizeof(buf), "%s %u %s %s", rr->name, rr->ttl,
			 type_name(rr->type), rr->text);
		if (!strcasecmp(buf, line))
			return true;
	}
	return false;
}
