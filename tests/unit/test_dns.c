/*
 * The dns module's protocol behaviour (answer.c), one test per rule of
 * RFC 1034/1035, 2181, 2308, 6891, 7766 and 8482 that it follows, then the
 * module itself on a fake host (dns.c): check() with FILE:LINE errors, UDP,
 * DNS over TCP framing with pipelining, backpressure and idle timeout,
 * rate limiting, reload, and names from the dhcp.lease topic.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_fake.h"
#include "dns_msg.h"
#include "modules/dns/answer.h"
#include "modules/dns/dyn.h"
#include "modules/dns/zone.h"

extern const struct tapir_module tapir_module;

static const char *const lab_records[] = {
	"@ SOA ns1 hostmaster 1 3600 600 86400 60",
	"@ NS ns1",
	"ns1 A 10.0.0.2",
	"www A 10.0.0.2",
	"www AAAA fd00::2",
	"mail MX 10 mx1",
	"mx1 A 10.0.0.3",
	"alias CNAME www",
	"@ TXT \"v=lab\"",
	"_http._tcp SRV 0 0 80 www",
	"c1 CNAME c2",
	"c2 CNAME alias",
	"out CNAME www.example.com.",
	"dangling CNAME nowhere",
	"loop1 CNAME loop2",
	"loop2 CNAME loop1",
	"host.sub A 10.0.0.9",
	"other 300 IN A 10.0.0.4",
};

static struct dns_zones zones;
static struct dns_ctx ctx;
static uint8_t q[DNS_MSG_MAX], out[DNS_MSG_MAX];

static struct dns_zone *zone(const char *name, const char *const *recs,
			     size_t n)
{
	char err[256];
	struct dns_zone *z = dns_zone_new(name, err, sizeof(err));

	ck_assert_ptr_nonnull(z);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(dns_zone_add_line(z, recs[i], 3600, err,
						sizeof(err)) == 0,
			      "%s: %s", recs[i], err);
	ck_assert_int_eq(dns_zone_finish(z, err, sizeof(err)), 0);
	return z;
}

static void setup(void)
{
	static const char *const second[] = {
		"@ 30 SOA ns1.lab.test. hostmaster.lab.test. 7 3600 600 "
		"86400 300",
		"deep A 10.0.0.8",
	};
	char big[64];
	struct dns_zone *z;

	dns_zones_init(&zones);
	z = zone("lab.test", lab_records,
		 sizeof(lab_records) / sizeof(lab_records[0]));
	for (int i = 1; i <= 40; i++) {
		snprintf(big, sizeof(big), "big A 10.0.1.%d", i);
		ck_assert_int_eq(dns_zone_add_line(z, big, 3600, NULL, 0), 0);
	}
	ck_assert_int_eq(dns_zones_add(&zones, z), 0);
	ck_assert_int_eq(dns_zones_add(&zones, zone("sub2.lab.test", second, 2)),
			 0);
	ck_assert_int_eq(dns_zones_index(&zones), 0);
	ctx = (struct dns_ctx){&zones, 1232, NULL, NULL};
}

static void teardown(void)
{
	dns_zones_free(&zones);
}

/* Answer a query over UDP (or TCP); parse and return the response. */
static const struct parsed *ask(const char *name, uint16_t qtype,
				const struct qopt *o, bool tcp,
				struct dns_result *res)
{
	struct dns_result r;
	size_t ql = mkq(q, name, qtype, DNS_C_IN, o);
	size_t n = dns_answer(&ctx, q, ql, tcp, out, res ? res : &r);

	ck_assert_uint_gt(n, 0);
	if (!tcp)
		ck_assert_uint_le(n, o && o->edns ? 4096 : 512);
	return parse(out, n);
}

static unsigned rcode(const struct parsed *p)
{
	return DNS_RCODE(p->h.flags) | (unsigned)p->opt_ext_rcode << 4;
}

/* ---- Answers ----------------------------------------------------------- */

START_TEST(test_answer_aa_set_ra_clear_rd_copied)
{
	struct qopt o = {.qdcount = -1, .flags = DNS_F_RD, .id = 0xbeef};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert_uint_eq(p->h.id, 0xbeef);
	ck_assert(p->h.flags & DNS_F_QR);
	ck_assert(p->h.flags & DNS_F_AA);
	ck_assert(!(p->h.flags & DNS_F_RA));
	ck_assert(p->h.flags & DNS_F_RD);
	ck_assert(!(p->h.flags & DNS_F_TC));
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	ck_assert_uint_eq(p->n[1], 0);
	ck_assert(!p->opt); /* no OPT without one in the query */
}
END_TEST

START_TEST(test_every_type)
{
	const struct parsed *p;

	p = ask("www.lab.test", DNS_T_AAAA, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 AAAA fd00::2"));
	p = ask("mail.lab.test", DNS_T_MX, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "mail.lab.test. 3600 MX 10 mx1.lab.test."));
	/* The exchange's address comes along in ADDITIONAL. */
	ck_assert(has_rr(p, 2, "mx1.lab.test. 3600 A 10.0.0.3"));
	p = ask("lab.test", DNS_T_TXT, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "lab.test. 3600 TXT \"v=lab\""));
	p = ask("_http._tcp.lab.test", DNS_T_SRV, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "_http._tcp.lab.test. 3600 SRV 0 0 80 www.lab.test."));
	ck_assert(has_rr(p, 2, "www.lab.test. 3600 A 10.0.0.2"));
	ck_assert(has_rr(p, 2, "www.lab.test. 3600 AAAA fd00::2"));
	p = ask("lab.test", DNS_T_NS, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "lab.test. 3600 NS ns1.lab.test."));
	p = ask("lab.test", DNS_T_SOA, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "lab.test. 3600 SOA ns1.lab.test. "
			       "hostmaster.lab.test. 1 3600 600 86400 60"));
	p = ask("other.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "other.lab.test. 300 A 10.0.0.4"));
}
END_TEST

START_TEST(test_nxdomain_with_soa)
{
	const struct parsed *p = ask("nosuch.lab.test", DNS_T_A, NULL, false,
				     NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	ck_assert(p->h.flags & DNS_F_AA);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_uint_eq(p->n[1], 1);
	/* TTL = min(SOA TTL 3600, MINIMUM 60). */
	ck_assert(has_rr(p, 1, "lab.test. 60 SOA ns1.lab.test. "
			       "hostmaster.lab.test. 1 3600 600 86400 60"));
}
END_TEST

START_TEST(test_negative_ttl_is_soa_ttl_when_smaller)
{
	const struct parsed *p = ask("nosuch.sub2.lab.test", DNS_T_A, NULL,
				     false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	ck_assert_uint_eq(p->n[1], 1);
	ck_assert_uint_eq(p->rr[1][0].ttl, 30); /* min(30, 300) */
	ck_assert_str_eq(p->rr[1][0].name, "sub2.lab.test.");
}
END_TEST

START_TEST(test_nodata_with_soa)
{
	const struct parsed *p = ask("www.lab.test", DNS_T_MX, NULL, false,
				     NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert(p->h.flags & DNS_F_AA);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_uint_eq(p->n[1], 1);
	ck_assert_uint_eq(p->rr[1][0].type, DNS_T_SOA);
	ck_assert_uint_eq(p->rr[1][0].ttl, 60);
}
END_TEST

START_TEST(test_empty_non_terminal_is_nodata)
{
	const struct parsed *p = ask("sub.lab.test", DNS_T_A, NULL, false,
				     NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_uint_eq(p->rr[1][0].type, DNS_T_SOA);
	p = ask("host.sub.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "host.sub.lab.test. 3600 A 10.0.0.9"));
}
END_TEST

START_TEST(test_cname_chain_followed)
{
	const struct parsed *p = ask("c1.lab.test", DNS_T_A, NULL, false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 4);
	ck_assert(has_rr(p, 0, "c1.lab.test. 3600 CNAME c2.lab.test."));
	ck_assert(has_rr(p, 0, "c2.lab.test. 3600 CNAME alias.lab.test."));
	ck_assert(has_rr(p, 0, "alias.lab.test. 3600 CNAME www.lab.test."));
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	/* Asking for the CNAME itself gives just the CNAME. */
	p = ask("c1.lab.test", DNS_T_CNAME, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 1);
}
END_TEST

START_TEST(test_cname_out_of_zone_and_dangling_and_loop)
{
	const struct parsed *p = ask("out.lab.test", DNS_T_A, NULL, false,
				     NULL);

	/* The target is not ours: the CNAME alone, NOERROR. */
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "out.lab.test. 3600 CNAME www.example.com."));
	/* A target of ours that does not exist: NXDOMAIN (RFC 6604). */
	p = ask("dangling.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert_uint_eq(p->rr[1][0].type, DNS_T_SOA);
	/* A loop ends after a bounded number of steps. */
	p = ask("loop1.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], DNS_CNAME_CHAIN_MAX + 1);
}
END_TEST

START_TEST(test_out_of_zone_refused)
{
	const struct parsed *p = ask("www.example.com", DNS_T_A, NULL, false,
				     NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_REFUSED);
	ck_assert(!(p->h.flags & DNS_F_AA));
	ck_assert_uint_eq(p->n[0] + p->n[1] + p->n[2], 0);
	ck_assert_str_eq(p->qname, "www.example.com.");
	/* A parent of our zone is outside it too. */
	p = ask("test", DNS_T_SOA, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_REFUSED);
}
END_TEST

START_TEST(test_qr_set_is_dropped)
{
	struct qopt o = {.qdcount = -1, .flags = DNS_F_QR};
	struct dns_result r;
	size_t ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, &o);

	ck_assert_uint_eq(dns_answer(&ctx, q, ql, false, out, &r), 0);
	ck_assert_int_eq(r.rcode, -1);
	/* Shorter than a header: nothing to answer either. */
	ck_assert_uint_eq(dns_answer(&ctx, q, 11, false, out, &r), 0);
	ck_assert_uint_eq(dns_answer(&ctx, q, 0, false, out, &r), 0);
}
END_TEST

START_TEST(test_qdcount_not_one_formerr)
{
	struct qopt o = {.qdcount = 0};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_FORMERR);
	ck_assert_uint_eq(p->h.qdcount, 0);
	o.qdcount = 2;
	p = ask("www.lab.test", DNS_T_A, &o, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_FORMERR);
	ck_assert_uint_eq(p->n[0], 0);
}
END_TEST

START_TEST(test_unknown_opcode_notimp)
{
	struct qopt o = {.qdcount = -1, .flags = 15u << 11};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NOTIMP);
	ck_assert_uint_eq(DNS_OPCODE(p->h.flags), 15);
	ck_assert_uint_eq(p->n[0], 0);
	o.flags = 2u << 11; /* STATUS */
	p = ask("www.lab.test", DNS_T_A, &o, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NOTIMP);
}
END_TEST

START_TEST(test_class_not_in_refused)
{
	struct dns_result r;
	size_t ql = mkq(q, "version.bind", DNS_T_TXT, DNS_C_CH, NULL);
	size_t n = dns_answer(&ctx, q, ql, false, out, &r);
	const struct parsed *p = parse(out, n);

	ck_assert_uint_eq(rcode(p), DNS_R_REFUSED);
	ck_assert_uint_eq(p->qclass, DNS_C_CH);
	ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_ANY, NULL);
	n = dns_answer(&ctx, q, ql, false, out, &r);
	ck_assert_uint_eq(rcode(parse(out, n)), DNS_R_REFUSED);
}
END_TEST

START_TEST(test_question_echoed_byte_for_byte)
{
	struct dns_result r;
	size_t ql = mkq(q, "WwW.LaB.tEsT", DNS_T_A, DNS_C_IN, NULL);
	size_t n = dns_answer(&ctx, q, ql, false, out, &r);
	const struct parsed *p = parse(out, n);

	ck_assert_uint_eq(r.qend, ql);
	ck_assert_mem_eq(out + DNS_HDR_LEN, q + DNS_HDR_LEN, ql - DNS_HDR_LEN);
	ck_assert_uint_eq(p->n[0], 1);
	/* The answer's owner points at the question: the client's case. */
	ck_assert_str_eq(p->rr[0][0].name, "WwW.LaB.tEsT.");
}
END_TEST

START_TEST(test_edns_opt_echoed_with_our_size)
{
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 4096,
			 .do_bit = true};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert(p->opt);
	ck_assert_uint_eq(p->opt_payload, 1232);
	ck_assert_uint_eq(p->opt_version, 0);
	ck_assert_uint_eq(p->opt_flags, DNS_EDNS_DO); /* DO copied */
	ck_assert_uint_eq(p->opt_rdlen, 0);
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
}
END_TEST

START_TEST(test_edns_unknown_options_ignored)
{
	static const uint8_t opts[] = {0xfd, 0xe9, 0, 3, 'a', 'b', 'c',
				       0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 1232,
			 .opt = opts, .opt_len = sizeof(opts)};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	ck_assert_uint_eq(p->opt_rdlen, 0);
}
END_TEST

START_TEST(test_edns_version_badvers)
{
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 1232,
			 .version = 1};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_BADVERS);
	ck_assert_uint_eq(DNS_RCODE(p->h.flags), 0);
	ck_assert_uint_eq(p->opt_ext_rcode, 1);
	ck_assert_uint_eq(p->opt_version, 0);
	ck_assert_uint_eq(p->n[0], 0);
}
END_TEST

START_TEST(test_edns_malformed_opt_formerr)
{
	/* An option longer than the OPT RDATA. */
	static const uint8_t bad[] = {0, 10, 0, 9, 1, 2};
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 1232,
			 .opt = bad, .opt_len = sizeof(bad)};
	const struct parsed *p = ask("www.lab.test", DNS_T_A, &o, false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_FORMERR);
	ck_assert(!p->opt);
}
END_TEST

START_TEST(test_two_opts_formerr)
{
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 1232};
	struct dns_result r;
	size_t ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, &o);
	size_t n;

	/* Append a second OPT and count it. */
	memcpy(q + ql, q + ql - 11, 11);
	q[11] = 2;
	n = dns_answer(&ctx, q, ql + 11, false, out, &r);
	ck_assert_uint_eq(rcode(parse(out, n)), DNS_R_FORMERR);
}
END_TEST

START_TEST(test_truncation_without_edns_at_512)
{
	struct dns_result r;
	const struct parsed *p = ask("big.lab.test", DNS_T_A, NULL, false, &r);

	ck_assert(p->h.flags & DNS_F_TC);
	ck_assert(r.truncated);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_str_eq(p->qname, "big.lab.test.");
}
END_TEST

START_TEST(test_truncation_at_client_and_our_size)
{
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 4096};
	struct dns_result r;
	size_t ql = mkq(q, "big.lab.test", DNS_T_A, DNS_C_IN, &o);
	size_t n = dns_answer(&ctx, q, ql, false, out, &r);
	const struct parsed *p = parse(out, n);

	/* 40 A records fit in our 1232 bytes. */
	ck_assert(!(p->h.flags & DNS_F_TC));
	ck_assert_uint_eq(p->n[0], 40);
	/* Our edns_payload caps what the client offers. */
	ctx.edns_payload = 512;
	n = dns_answer(&ctx, q, ql, false, out, &r);
	ck_assert_uint_le(n, 512);
	p = parse(out, n);
	ck_assert(p->h.flags & DNS_F_TC);
	ck_assert(p->opt);
	ck_assert_uint_eq(p->opt_payload, 512);
	/* A client offering less than 512 still gets 512. */
	ctx.edns_payload = 1232;
	o.payload = 100;
	ql = mkq(q, "www.lab.test", DNS_T_AAAA, DNS_C_IN, &o);
	n = dns_answer(&ctx, q, ql, false, out, &r);
	ck_assert(!(parse(out, n)->h.flags & DNS_F_TC));
}
END_TEST

START_TEST(test_tcp_not_truncated)
{
	const struct parsed *p = ask("big.lab.test", DNS_T_A, NULL, true, NULL);

	ck_assert(!(p->h.flags & DNS_F_TC));
	ck_assert_uint_eq(p->n[0], 40);
}
END_TEST

START_TEST(test_any_answered_minimally)
{
	const struct parsed *p = ask("www.lab.test", DNS_T_ANY, NULL, false,
				     NULL);

	/* RFC 8482: one RRset, not A and AAAA both. */
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 1);
	p = ask("lab.test", DNS_T_ANY, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 1);
}
END_TEST

START_TEST(test_names_compressed)
{
	struct dns_result r;
	size_t ql = mkq(q, "mail.lab.test", DNS_T_MX, DNS_C_IN, NULL);
	size_t n = dns_answer(&ctx, q, ql, false, out, &r);
	const struct parsed *p = parse(out, n);

	ck_assert(has_rr(p, 0, "mail.lab.test. 3600 MX 10 mx1.lab.test."));
	/* The answer's owner is a pointer to the question (offset 12). */
	ck_assert_uint_eq(out[ql], 0xc0);
	ck_assert_uint_eq(out[ql + 1], 12);
	/* The exchange "mx1" + pointer to lab.test: 3 + 4 + 2 bytes. */
	ck_assert_uint_eq(out[ql + 10] << 8 | out[ql + 11], 2 + 4 + 2);
	ck_assert_uint_eq(out[ql + 14], 3);
	ck_assert_uint_eq(out[ql + 18] & 0xc0, 0xc0);
}
END_TEST

START_TEST(test_auto_ptr_v4_and_v6)
{
	const struct parsed *p = ask("3.0.0.10.in-addr.arpa", DNS_T_PTR, NULL,
				     false, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert(p->h.flags & DNS_F_AA);
	ck_assert(has_rr(p, 0, "3.0.0.10.in-addr.arpa. 3600 PTR mx1.lab.test."));
	/* 10.0.0.2 is both ns1 and www. */
	p = ask("2.0.0.10.in-addr.arpa", DNS_T_PTR, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 2);
	p = ask("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
		"d.f.ip6.arpa",
		DNS_T_PTR, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			       "0.0.0.0.0.0.0.d.f.ip6.arpa. 3600 PTR "
			       "www.lab.test."));
	/* An address we do not have: not ours. */
	p = ask("99.0.0.10.in-addr.arpa", DNS_T_PTR, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_REFUSED);
	/* The name exists for PTR only: other types get NODATA. */
	p = ask("3.0.0.10.in-addr.arpa", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 0);
	/* Leading zeros are no address. */
	p = ask("03.0.0.10.in-addr.arpa", DNS_T_PTR, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_REFUSED);
}
END_TEST

START_TEST(test_zone_transfer_refused)
{
	const struct parsed *p = ask("lab.test", DNS_T_AXFR, NULL, true, NULL);

	ck_assert_uint_eq(rcode(p), DNS_R_REFUSED);
	p = ask("lab.test", DNS_T_OPT, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_FORMERR);
}
END_TEST

static int64_t fixed_now(void)
{
	return 1000;
}

/* A table of DHCP names in the lab zone (60 s TTL, the clock fixed),
 * answered by ask() until dyn_end(). */
static void dyn_begin(struct dns_dyn *t, struct dns_dynamic *dy)
{
	dns_dyn_init(t);
	t->now = fixed_now;
	dns_dyn_set_zone(t, zones.z[0]->origin);
	*dy = (struct dns_dynamic){zones.z[0], dns_dyn_lookup_a,
				   dns_dyn_lookup_ptr, t, 60};
	ctx.dyn = dy;
}

static void dyn_end(struct dns_dyn *t)
{
	dns_dyn_fini(t);
	ctx.dyn = NULL;
}

START_TEST(test_dynamic_names)
{
	struct dns_dyn t;
	struct dns_dynamic dy;
	static const char v1[] = "mac=02:00:00:00:00:01 expires=2000 "
				 "hostname=Laptop";
	static const char v2[] = "mac=02:00:00:00:00:02 expires=500 "
				 "hostname=old";
	static const char v3[] = "mac=02:00:00:00:00:03 expires=2000 "
				 "hostname=www";
	const struct parsed *p;

	dyn_begin(&t, &dy);
	dns_dyn_update(&t, "10.0.0.123", v1, strlen(v1));
	dns_dyn_update(&t, "10.0.0.124", v2, strlen(v2));
	dns_dyn_update(&t, "10.0.0.125", v3, strlen(v3));
	dns_dyn_update(&t, "10.0.0.126", "mac=x hostname=bad_name", 23);
	ck_assert_uint_eq(dns_dyn_count(&t), 3);
	p = ask("laptop.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "laptop.lab.test. 60 A 10.0.0.123"));
	p = ask("123.0.0.10.in-addr.arpa", DNS_T_PTR, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "123.0.0.10.in-addr.arpa. 60 PTR laptop.lab.test."));
	p = ask("laptop.lab.test", DNS_T_AAAA, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_uint_eq(p->n[1], 1);
	/* Expired: gone. */
	p = ask("old.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	/* A configured name wins over a lease's. */
	p = ask("www.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	/* Released: NXDOMAIN again. */
	dns_dyn_update(&t, "10.0.0.123", NULL, 0);
	p = ask("laptop.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	dyn_end(&t);
}
END_TEST

START_TEST(test_dynamic_name_first_wins)
{
	struct dns_dyn t;
	struct dns_dynamic dy;
	static const char v1[] = "mac=02:00:00:00:00:01 expires=2000 "
				 "hostname=laptop";
	static const char v2[] = "mac=02:00:00:00:00:02 expires=3000 "
				 "hostname=LAPTOP";
	static const char v3[] = "mac=02:00:00:00:00:03 expires=500 "
				 "hostname=old";
	static const char v4[] = "mac=02:00:00:00:00:04 expires=3000 "
				 "hostname=old";
	const struct parsed *p;

	dyn_begin(&t, &dy);
	dns_dyn_update(&t, "10.0.0.123", v1, strlen(v1));
	/* Another lease giving the same name (in any case) gets neither
	 * the name nor a PTR for its address. */
	dns_dyn_update(&t, "10.0.0.130", v2, strlen(v2));
	ck_assert_uint_eq(dns_dyn_count(&t), 1);
	p = ask("laptop.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "laptop.lab.test. 60 A 10.0.0.123"));
	p = ask("130.0.0.10.in-addr.arpa", DNS_T_PTR, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 0);
	/* The holder renews: still its own. */
	dns_dyn_update(&t, "10.0.0.123", v1, strlen(v1));
	ck_assert_uint_eq(dns_dyn_count(&t), 1);
	p = ask("laptop.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "laptop.lab.test. 60 A 10.0.0.123"));
	/* Once the holder's lease is gone, the next lease may take it. */
	dns_dyn_update(&t, "10.0.0.123", NULL, 0);
	dns_dyn_update(&t, "10.0.0.130", v2, strlen(v2));
	p = ask("laptop.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "laptop.lab.test. 60 A 10.0.0.130"));
	p = ask("130.0.0.10.in-addr.arpa", DNS_T_PTR, NULL, false, NULL);
	ck_assert(has_rr(p, 0, "130.0.0.10.in-addr.arpa. 60 PTR "
			       "laptop.lab.test."));
	/* An expired holder does not keep its name either. */
	dns_dyn_update(&t, "10.0.0.124", v3, strlen(v3));
	dns_dyn_update(&t, "10.0.0.131", v4, strlen(v4));
	p = ask("old.lab.test", DNS_T_A, NULL, false, NULL);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "old.lab.test. 60 A 10.0.0.131"));
	dyn_end(&t);
}
END_TEST

/* ---- The module on a fake host ----------------------------------------- */

static const char conf_text[] =
	"port = 53;\n"
	"zones = ( { name = \"lab.test\";\n"
	"  records = [ \"@ SOA ns1 hostmaster 1 3600 600 86400 60\",\n"
	"              \"www A 10.0.0.2\", \"mx1 A 10.0.0.3\" ]; } );\n";

static void *mod;

static void mod_setup(void)
{
	fk_reset();
	mod = NULL;
}

static void mod_teardown(void)
{
	if (mod)
		tapir_module.fini(mod);
	mod = NULL;
	ck_assert(!fk.udp_bound);
	ck_assert(!fk.listening);
	ck_assert_uint_eq(fk_timers_armed(), 0);
	fk_section_free();
	fk_reset();
}

static void start(const char *text)
{
	config_setting_t *s = fk_section(text);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(fk_check_section(s), 0);
	mod = tapir_module.init((struct tapir_host *)&fk, &fk_api, fk_conf());
	ck_assert_ptr_nonnull(mod);
}

START_TEST(test_check_reports_each_bad_record_with_its_line)
{
	config_setting_t *s = fk_section(
		"zones = ( { name = \"lab.test\";\n"                  /* 1 */
		"  records = [ \"@ SOA ns1 hm 1 3600 600 86400 60\",\n" /* 2 */
		"    \"www A 10.0.0.300\",\n"                          /* 3 */
		"    \"ok A 10.0.0.1\",\n"                             /* 4 */
		"    \"mx MX 70000 mx1\",\n"                           /* 5 */
		"    \"x.other.test. A 10.0.0.1\" ]; } );\n");         /* 6 */

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(fk_check_section(s), -1);
	ck_assert_uint_eq(fk.nerrors, 3);
	ck_assert_ptr_nonnull(strstr(fk.errors[0], "line 3: "));
	ck_assert_ptr_nonnull(strstr(fk.errors[0], "not an IPv4 address"));
	ck_assert_ptr_nonnull(strstr(fk.errors[1], "line 5: "));
	ck_assert_ptr_nonnull(strstr(fk.errors[2], "line 6: "));
	ck_assert_ptr_nonnull(strstr(fk.errors[2], "outside the zone"));
}
END_TEST

START_TEST(test_check_rejects_bad_settings)
{
	config_setting_t *s = fk_section(
		"port = 0;\n default_ttl = 0;\n edns_payload = 100;\n"
		"tcp = 3;\n dhcp_zone = \"nowhere.test\";\n zones = ();\n");

	ck_assert_int_eq(fk_check_section(s), -1);
	ck_assert_uint_eq(fk.nerrors, 5);
	ck_assert_ptr_nonnull(strstr(fk.errors[0], "line 1: port"));
	ck_assert_ptr_nonnull(strstr(fk.errors[1], "line 2: default_ttl"));
	ck_assert_ptr_nonnull(strstr(fk.errors[2], "line 3: edns_payload"));
	ck_assert_ptr_nonnull(strstr(fk.errors[3], "line 4: tcp"));
	ck_assert_ptr_nonnull(strstr(fk.errors[4], "line 5: dhcp_zone"));
	/* A zone without its SOA. */
	fk.nerrors = 0;
	s = fk_section("zones = ( { name = \"a.test\"; records = "
		       "[ \"www A 10.0.0.1\" ]; } );");
	ck_assert_int_eq(fk_check_section(s), -1);
	ck_assert_ptr_nonnull(strstr(fk.errors[0], "no SOA"));
}
END_TEST

START_TEST(test_module_udp_and_counters)
{
	size_t ql;
	const struct parsed *p;

	start(conf_text);
	/* The rate limiter's key comes from the host, not the kernel. */
	ck_assert_uint_eq(fk.randoms, 1);
	ck_assert(fk.udp_bound);
	ck_assert_uint_eq(fk.udp_port, 53);
	ck_assert(fk.listening);
	ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	p = parse(fk.sent, fk.sent_len);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	ql = mkq(q, "nosuch.lab.test", DNS_T_MX, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_NXDOMAIN);
	ck_assert_uint_eq(fk_counter("rcode_noerror"), 1);
	ck_assert_uint_eq(fk_counter("rcode_nxdomain"), 1);
	ck_assert_uint_eq(fk_counter("qtype_a"), 1);
	ck_assert_uint_eq(fk_counter("qtype_mx"), 1);
	/* A response is dropped and counted. */
	q[2] |= 0x80;
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk_counter("dropped"), 1);
}
END_TEST

/* A query framed for TCP at buf: its length with the prefix. */
static size_t tcp_query(uint8_t *buf, const char *name, uint16_t id)
{
	struct qopt o = {.qdcount = -1, .id = id};
	size_t n = mkq(buf + 2, name, DNS_T_A, DNS_C_IN, &o);

	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	return n + 2;
}

/* The i-th framed response queued on connection c. */
static const struct parsed *tcp_response(const struct tapir_tcp *c, int i)
{
	size_t off = 0;

	for (;;) {
		size_t len;

		ck_assert_uint_le(off + 2, c->out_len);
		len = (size_t)c->out[off] << 8 | c->out[off + 1];
		ck_assert_uint_le(off + 2 + len, c->out_len);
		if (i-- == 0)
			return parse(c->out + off + 2, len);
		off += 2 + len;
	}
}

START_TEST(test_tcp_pipelined_queries_split_anywhere)
{
	uint8_t buf[1024];
	size_t n;

	start(conf_text);
	ck_assert(fk_tcp_open(0, 1 << 20));
	n = tcp_query(buf, "www.lab.test", 1);
	n += tcp_query(buf + n, "mx1.lab.test", 2);
	n += tcp_query(buf + n, "nosuch.lab.test", 3);
	/* One byte at a time: the length prefix split too. */
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(fk_tcp_data(0, buf + i, 1), 1);
	ck_assert(has_rr(tcp_response(&fk.conns[0], 0), 0,
			 "www.lab.test. 3600 A 10.0.0.2"));
	ck_assert_uint_eq(tcp_response(&fk.conns[0], 1)->h.id, 2);
	ck_assert(has_rr(tcp_response(&fk.conns[0], 1), 0,
			 "mx1.lab.test. 3600 A 10.0.0.3"));
	ck_assert_uint_eq(rcode(tcp_response(&fk.conns[0], 2)),
			  DNS_R_NXDOMAIN);
	/* All three in one segment on a second connection. */
	ck_assert(fk_tcp_open(1, 1 << 20));
	ck_assert_uint_eq(fk_tcp_data(1, buf, n), n);
	ck_assert_uint_eq(tcp_response(&fk.conns[1], 2)->h.id, 3);
	ck_assert(fk.conns[0].open && fk.conns[1].open);
}
END_TEST

START_TEST(test_tcp_backpressure_bounds_buffering)
{
	uint8_t buf[1024];
	size_t n, one, took;

	start(conf_text);
	ck_assert(fk_tcp_open(0, 10)); /* room for 10 bytes */
	one = tcp_query(buf, "www.lab.test", 1);
	n = one + tcp_query(buf + one, "www.lab.test", 2);
	/* The first answer does not fit: reading stops after its query. */
	took = fk_tcp_data(0, buf, n);
	ck_assert_uint_eq(took, one);
	ck_assert_uint_eq(fk.conns[0].out_len, 10);
	/* Room comes back: the rest of the answer goes, reading resumes. */
	fk.conns[0].room = 1 << 20;
	fk.tcp_cb->writable(fk.conns[0].ctx, &fk.conns[0]);
	ck_assert_uint_eq(fk.conns[0].resumes, 1);
	ck_assert_uint_eq(fk_tcp_data(0, buf + took, n - took), n - took);
	ck_assert_uint_eq(tcp_response(&fk.conns[0], 0)->h.id, 1);
	ck_assert_uint_eq(tcp_response(&fk.conns[0], 1)->h.id, 2);
}
END_TEST

START_TEST(test_tcp_idle_timeout_and_connection_limit)
{
	uint8_t buf[512];
	size_t n;

	start("tcp_idle_timeout = 5; max_tcp_connections = 2;\n"
	      "zones = ( { name = \"lab.test\"; records = "
	      "[ \"@ SOA ns1 hm 1 3600 600 86400 60\" ]; } );");
	ck_assert(fk_tcp_open(0, 1 << 20));
	ck_assert(fk_tcp_open(1, 1 << 20));
	ck_assert(!fk_tcp_open(2, 1 << 20)); /* over the limit */
	ck_assert_uint_eq(fk_counter("tcp_refused"), 1);
	fk_advance(4000);
	n = tcp_query(buf, "lab.test", 1);
	fk_tcp_data(1, buf, n); /* activity restarts 1's timer */
	fk_advance(1500);
	ck_assert(!fk.conns[0].open && fk.conns[0].closed);
	ck_assert(fk.conns[1].open);
	fk_advance(4000);
	ck_assert(!fk.conns[1].open && fk.conns[1].closed);
	ck_assert_uint_eq(fk_counter("tcp_idle_closed"), 2);
	/* Room for new ones again. */
	ck_assert(fk_tcp_open(2, 1 << 20));
}
END_TEST

/* A response waiting for send room must be taken whole within
 * tcp_idle_timeout of its query: a reader that takes it 20 bytes every 2 s
 * is fine while the total fits, and closed when it does not. */
START_TEST(test_tcp_slow_reader_deadline)
{
	uint8_t buf[512];
	size_t n;

	start("tcp_idle_timeout = 5;\n"
	      "zones = ( { name = \"lab.test\"; records = "
	      "[ \"@ SOA ns1 hm 1 3600 600 86400 60\" ]; } );");
	ck_assert(fk_tcp_open(0, 20));
	n = tcp_query(buf, "lab.test", 1);
	ck_assert_uint_eq(fk_tcp_data(0, buf, n), n);
	for (int i = 0; i < 2; i++) {
		fk_advance(2000);
		ck_assert(fk.conns[0].open);
		fk.conns[0].room = 20;
		fk.tcp_cb->writable(fk.conns[0].ctx, &fk.conns[0]);
	}
	fk.conns[0].room = 1 << 20;
	fk.tcp_cb->writable(fk.conns[0].ctx, &fk.conns[0]);
	/* All of it: a NODATA answer with the SOA (A asked at the apex). */
	ck_assert(has_rr(tcp_response(&fk.conns[0], 0), 1,
			 "lab.test. 60 SOA ns1.lab.test. hm.lab.test. 1 3600 "
			 "600 86400 60"));
	/* Then nothing: closed after the timeout, counted from then. */
	fk_advance(4000);
	ck_assert(fk.conns[0].open);
	fk_advance(1000);
	ck_assert(fk.conns[0].closed);
	/* The same, a trickle: closed 5 s after the query, not later. */
	ck_assert(fk_tcp_open(1, 20));
	ck_assert_uint_eq(fk_tcp_data(1, buf, n), n);
	for (int i = 0; i < 2; i++) {
		fk_advance(2000);
		ck_assert(fk.conns[1].open);
		fk.conns[1].room = 20;
		fk.tcp_cb->writable(fk.conns[1].ctx, &fk.conns[1]);
	}
	fk_advance(1000);
	ck_assert(fk.conns[1].closed);
}
END_TEST

START_TEST(test_tcp_query_deadline)
{
	uint8_t buf[512];
	size_t n, took;

	start("tcp_idle_timeout = 5;\n"
	      "zones = ( { name = \"lab.test\"; records = "
	      "[ \"@ SOA ns1 hm 1 3600 600 86400 60\" ]; } );");
	n = tcp_query(buf, "lab.test", 1);
	/* A query dripped a byte a second has 5 s from its first byte. */
	ck_assert(fk_tcp_open(0, 1 << 20));
	fk_advance(1000);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(fk_tcp_data(0, buf + i, 1), 1);
		fk_advance(1000);
	}
	ck_assert(fk.conns[0].open);
	fk_advance(999);
	ck_assert(fk.conns[0].open);
	fk_advance(2);
	ck_assert(!fk.conns[0].open && fk.conns[0].closed);
	ck_assert_uint_eq(fk.conns[0].out_len, 0);
	/* Bytes offered while an answer waits for room are not taken, and
	 * do not keep the connection open either. */
	ck_assert(fk_tcp_open(1, 10));
	took = fk_tcp_data(1, buf, 2 * n);
	ck_assert_uint_eq(took, n);
	for (int i = 0; i < 4; i++) {
		fk_advance(1000);
		ck_assert_uint_eq(fk_tcp_data(1, buf, n), 0);
	}
	fk_advance(999);
	ck_assert(fk.conns[1].open);
	fk_advance(2);
	ck_assert(!fk.conns[1].open && fk.conns[1].closed);
	ck_assert_uint_eq(fk_counter("tcp_idle_closed"), 2);
}
END_TEST

START_TEST(test_tcp_short_length_resets)
{
	static const uint8_t bad[] = {0, 5, 1, 2, 3, 4, 5};

	start(conf_text);
	ck_assert(fk_tcp_open(0, 1 << 20));
	fk_tcp_data(0, bad, sizeof(bad));
	ck_assert(fk.conns[0].reset);
	ck_assert(!fk.conns[0].open);
	ck_assert_uint_eq(fk.conns[0].out_len, 0);
}
END_TEST

START_TEST(test_tcp_peer_close_and_unlisten)
{
	uint8_t buf[512];
	size_t n = tcp_query(buf, "www.lab.test", 1);

	start(conf_text);
	ck_assert(fk_tcp_open(0, 1 << 20));
	ck_assert(fk_tcp_open(1, 1 << 20));
	fk_tcp_data(0, buf, n);
	fk.tcp_cb->peer_closed(fk.conns[0].ctx, &fk.conns[0]);
	ck_assert(fk.conns[0].closed);
	ck_assert_uint_eq(tcp_response(&fk.conns[0], 0)->h.id, 1);
	/* fini resets the other through tcp_unlisten; teardown checks that
	 * no timer is left armed. */
}
END_TEST

START_TEST(test_rate_limit_drops_and_slips)
{
	size_t ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	const struct parsed *p;

	start("rate_limit = 2; rate_limit_slip = 2;\n"
	      "zones = ( { name = \"lab.test\"; records = [ \"@ SOA ns1 hm 1 "
	      "3600 600 86400 60\", \"www A 10.0.0.2\" ]; } );");
	fk.now = 10000;
	fk_udp(q, ql);
	ck_assert_uint_gt(fk.sent_len, 0);
	fk_udp(q, ql);
	ck_assert_uint_gt(fk.sent_len, 0);
	fk_udp(q, ql); /* third in this second: dropped */
	ck_assert_uint_eq(fk.sent_len, 0);
	fk_udp(q, ql); /* fourth: slips as an empty truncated answer */
	p = parse(fk.sent, fk.sent_len);
	ck_assert(p->h.flags & DNS_F_TC);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_uint_eq(fk_counter("rate_limited"), 2);
	fk.now += 1000; /* a new second */
	fk_udp(q, ql);
	ck_assert_uint_eq(parse(fk.sent, fk.sent_len)->n[0], 1);
}
END_TEST

START_TEST(test_rate_limit_shared_slot_counts_together)
{
	size_t ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	unsigned answered = 0;

	/* 17 prefixes in 16 slots: at least two share one, and the second
	 * of those is over the limit of one a second rather than wiping out
	 * the first one's count. */
	start("rate_limit = 1; rate_limit_slip = 0; "
	      "rate_limit_table_size = 16;\n"
	      "zones = ( { name = \"lab.test\"; records = [ \"@ SOA ns1 hm 1 "
	      "3600 600 86400 60\", \"www A 10.0.0.2\" ]; } );");
	fk.now = 10000;
	for (uint32_t i = 0; i < 17; i++) {
		fk_udp_from(0xc6120000u + (i << 8) + 1, q, ql);
		answered += fk.sent_len > 0;
	}
	ck_assert_uint_lt(answered, 17);
	ck_assert_uint_eq(fk_counter("rate_limited"), 17 - answered);
	/* A new second: every prefix has its answer again. */
	fk.now += 1000;
	fk_udp_from(0xc6120001u, q, ql);
	ck_assert_uint_gt(fk.sent_len, 0);
}
END_TEST

/* A source that is not IPv4 is answered at its own address and limited
 * by its /64, the share of the address space one site is usually given. */
START_TEST(test_rate_limit_ipv6_by_64)
{
	size_t ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	struct tapir_addr a1, a2, b1;

	ck_assert(tapir_addr_parse("fd00:1:2:3::1", &a1));
	ck_assert(tapir_addr_parse("fd00:1:2:3:ffff::2", &a2));
	ck_assert(tapir_addr_parse("fd00:1:2:4::1", &b1));
	start("rate_limit = 1; rate_limit_slip = 0;\n"
	      "zones = ( { name = \"lab.test\"; records = [ \"@ SOA ns1 hm 1 "
	      "3600 600 86400 60\", \"www A 10.0.0.2\" ]; } );");
	fk.now = 10000;
	fk_udp_from_addr(&a1, q, ql);
	ck_assert_uint_gt(fk.sent_len, 0);
	ck_assert(tapir_addr_eq(&fk.sent_to, &a1));
	fk_udp_from_addr(&a2, q, ql); /* the same /64: over the limit */
	ck_assert_uint_eq(fk.sent_len, 0);
	fk_udp_from_addr(&b1, q, ql); /* the next /64 has its own */
	ck_assert_uint_gt(fk.sent_len, 0);
	ck_assert(tapir_addr_eq(&fk.sent_to, &b1));
	ck_assert_uint_eq(fk_counter("rate_limited"), 1);
}
END_TEST

START_TEST(test_reload_all_or_nothing)
{
	size_t ql = mkq(q, "new.lab.test", DNS_T_A, DNS_C_IN, NULL);
	config_setting_t *s;

	start(conf_text);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_NXDOMAIN);
	s = fk_section("zones = ( { name = \"lab.test\"; records = [ \"@ SOA "
		       "ns1 hm 1 3600 600 86400 60\", \"new A 10.0.0.7\" ]; "
		       "} );");
	fk_check_section(s);
	ck_assert_int_eq(tapir_module.reconfigure(mod, fk_conf()), 0);
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "new.lab.test. 3600 A 10.0.0.7"));
	/* A broken section is refused and the zone stays. */
	s = fk_section("zones = ( { name = \"lab.test\"; records = [ \"new A "
		       "nonsense\" ]; } );");
	ck_assert_int_eq(fk_check_section(s), -1);
	ck_assert_int_eq(tapir_module.reconfigure(mod, fk_conf()), -1);
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "new.lab.test. 3600 A 10.0.0.7"));
	/* A port change moves both UDP and TCP. */
	s = fk_section("port = 5300; zones = ( { name = \"lab.test\"; records "
		       "= [ \"@ SOA ns1 hm 1 3600 600 86400 60\" ]; } );");
	fk_check_section(s);
	ck_assert_int_eq(tapir_module.reconfigure(mod, fk_conf()), 0);
	ck_assert_uint_eq(fk.udp_port, 5300);
	ck_assert_uint_eq(fk.tcp_port, 5300);
}
END_TEST

START_TEST(test_module_watches_dhcp_leases)
{
	static const char v[] = "mac=02:00:00:00:00:01 expires=4102444800 "
				"hostname=laptop";
	size_t ql = mkq(q, "laptop.lab.test", DNS_T_A, DNS_C_IN, NULL);

	start(conf_text);
	/* The fake keeps the last of the two watches: dhcp.lease, then
	 * dhcp6.lease (one callback for both). */
	ck_assert_str_eq(fk.topic, "dhcp6.lease");
	ck_assert_ptr_nonnull(fk.watch_fn);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_NXDOMAIN);
	fk.watch_fn(fk.watch_arg, "dhcp.lease", "10.0.0.123", v, strlen(v));
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "laptop.lab.test. 60 A 10.0.0.123"));
	ql = mkq(q, "123.0.0.10.in-addr.arpa", DNS_T_PTR, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "123.0.0.10.in-addr.arpa. 60 PTR laptop.lab.test."));
	fk.watch_fn(fk.watch_arg, "dhcp.lease", "10.0.0.123", NULL, 0);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
}
END_TEST

/* DHCPv6 leases give AAAA and ip6.arpa PTR; a client with both leases
 * has its A and its AAAA; each topic speaks for its own family only. */
START_TEST(test_module_watches_dhcp6_leases)
{
	static const char v4[] = "mac=02:00:00:00:00:01 expires=4102444800 "
				 "hostname=laptop";
	static const char v6[] = "duid=000100011234 iaid=7 expires=4102444800 "
				 "hostname=laptop";
	static const char other[] = "duid=00030001aabb iaid=1 "
				    "expires=4102444800 hostname=laptop";
	static const char ptr6[] =
		"0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f."
		"ip6.arpa";
	size_t ql = mkq(q, "laptop.lab.test", DNS_T_AAAA, DNS_C_IN, NULL);

	start(conf_text);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_NXDOMAIN);
	/* An IPv6 key on the IPv4 topic is not taken. */
	fk.watch_fn(fk.watch_arg, "dhcp.lease", "fd00::1000", v6, strlen(v6));
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_NXDOMAIN);
	fk.watch_fn(fk.watch_arg, "dhcp6.lease", "fd00::1000", v6, strlen(v6));
	fk.watch_fn(fk.watch_arg, "dhcp.lease", "10.0.0.123", v4, strlen(v4));
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "laptop.lab.test. 60 AAAA fd00::1000"));
	ql = mkq(q, "laptop.lab.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "laptop.lab.test. 60 A 10.0.0.123"));
	ql = mkq(q, ptr6, DNS_T_PTR, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert(has_rr(parse(fk.sent, fk.sent_len), 0,
			 "0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			 "0.0.d.f.ip6.arpa. 60 PTR laptop.lab.test."));
	/* Another IPv6 lease naming itself laptop gets no name. */
	fk.watch_fn(fk.watch_arg, "dhcp6.lease", "fd00::1001", other,
		    strlen(other));
	ql = mkq(q, "1.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
		    "0.0.d.f.ip6.arpa", DNS_T_PTR, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	/* Withdrawn: the AAAA goes, the A stays. */
	fk.watch_fn(fk.watch_arg, "dhcp6.lease", "fd00::1000", NULL, 0);
	ql = mkq(q, "laptop.lab.test", DNS_T_AAAA, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_NOERROR);
	ck_assert_uint_eq(parse(fk.sent, fk.sent_len)->n[0], 0);
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("protocol");
	TCase *tm = tcase_create("module");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_answer_aa_set_ra_clear_rd_copied);
	tcase_add_test(tc, test_every_type);
	tcase_add_test(tc, test_nxdomain_with_soa);
	tcase_add_test(tc, test_negative_ttl_is_soa_ttl_when_smaller);
	tcase_add_test(tc, test_nodata_with_soa);
	tcase_add_test(tc, test_empty_non_terminal_is_nodata);
	tcase_add_test(tc, test_cname_chain_followed);
	tcase_add_test(tc, test_cname_out_of_zone_and_dangling_and_loop);
	tcase_add_test(tc, test_out_of_zone_refused);
	tcase_add_test(tc, test_qr_set_is_dropped);
	tcase_add_test(tc, test_qdcount_not_one_formerr);
	tcase_add_test(tc, test_unknown_opcode_notimp);
	tcase_add_test(tc, test_class_not_in_refused);
	tcase_add_test(tc, test_question_echoed_byte_for_byte);
	tcase_add_test(tc, test_edns_opt_echoed_with_our_size);
	tcase_add_test(tc, test_edns_unknown_options_ignored);
	tcase_add_test(tc, test_edns_version_badvers);
	tcase_add_test(tc, test_edns_malformed_opt_formerr);
	tcase_add_test(tc, test_two_opts_formerr);
	tcase_add_test(tc, test_truncation_without_edns_at_512);
	tcase_add_test(tc, test_truncation_at_client_and_our_size);
	tcase_add_test(tc, test_tcp_not_truncated);
	tcase_add_test(tc, test_any_answered_minimally);
	tcase_add_test(tc, test_names_compressed);
	tcase_add_test(tc, test_auto_ptr_v4_and_v6);
	tcase_add_test(tc, test_zone_transfer_refused);
	tcase_add_test(tc, test_dynamic_names);
	tcase_add_test(tc, test_dynamic_name_first_wins);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tm, mod_setup, mod_teardown);
	tcase_add_test(tm, test_check_reports_each_bad_record_with_its_line);
	tcase_add_test(tm, test_check_rejects_bad_settings);
	tcase_add_test(tm, test_module_udp_and_counters);
	tcase_add_test(tm, test_tcp_pipelined_queries_split_anywhere);
	tcase_add_test(tm, test_tcp_backpressure_bounds_buffering);
	tcase_add_test(tm, test_tcp_idle_timeout_and_connection_limit);
	tcase_add_test(tm, test_tcp_slow_reader_deadline);
	tcase_add_test(tm, test_tcp_query_deadline);
	tcase_add_test(tm, test_tcp_short_length_resets);
	tcase_add_test(tm, test_tcp_peer_close_and_unlisten);
	tcase_add_test(tm, test_rate_limit_drops_and_slips);
	tcase_add_test(tm, test_rate_limit_shared_slot_counts_together);
	tcase_add_test(tm, test_rate_limit_ipv6_by_64);
	tcase_add_test(tm, test_reload_all_or_nothing);
	tcase_add_test(tm, test_module_watches_dhcp_leases);
	tcase_add_test(tm, test_module_watches_dhcp6_leases);
	suite_add_tcase(s, tm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
