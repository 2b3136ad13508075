/*
 * Forwarding in the dns module (forward.c, fwdmsg.c, cache.c) on the fake
 * host: what goes upstream (random ID and port per try, RFC 5452), which
 * answers are taken (only from the server and port asked, with the ID and
 * the question), retries and the next server, SERVFAIL at the end, TCP
 * after TC (RFC 7766), the cache (TTLs decremented, RFC 2308 negative
 * caching, the caps, eviction), the limits on waiting queries, coalescing,
 * conditional forwarding, and check() on the new settings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_fake.h"
#include "dns_msg.h"
#include "modules/dns/cache.h"
#include "modules/dns/forward.h"
#include "modules/dns/fwdmsg.h"
#include "modules/dns/zone.h"

extern const struct tapir_module tapir_module;

static void *mod;
static uint8_t q[DNS_MSG_MAX], r[DNS_MSG_MAX];

#define UP1 0x0a000135u /* 10.0.1.53 */
#define UP2 0x0a000235u /* 10.0.2.53 */

static const char base[] =
	"port = 53;\n"
	"zones = ( { name = \"lab.test\"; records = [\n"
	"  \"@ SOA ns1 hostmaster 1 3600 600 86400 60\", \"www A 10.0.0.2\" ];"
	" } );\n";

static void start(const char *extra)
{
	char text[4096];
	config_setting_t *s;

	snprintf(text, sizeof(text), "%s%s", base, extra);
	s = fk_section(text);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(fk_check_section(s) == 0, "%s", fk.errors[0]);
	mod = tapir_module.init((struct tapir_host *)&fk, &fk_api, fk_conf());
	ck_assert_ptr_nonnull(mod);
}

static void setup(void)
{
	fk_reset();
	mod = NULL;
}

static void teardown(void)
{
	if (mod)
		tapir_module.fini(mod);
	mod = NULL;
	fk_section_free();
}

static unsigned rcode(const struct parsed *p)
{
	return DNS_RCODE(p->h.flags);
}

/* ---- Upstream answers ---------------------------------------------------- */

struct rrspec {
	const char *owner; /* NULL: the question's name (a pointer to it) */
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rd;
	uint16_t rdlen;
};

static size_t put_name_text(uint8_t *p, const char *text)
{
	uint8_t name[DNS_NAME_MAX];
	size_t l;

	ck_assert_int_eq(dns_name_from_text(text, strlen(text), NULL, name,
					    NULL, 0),
			 0);
	l = dns_name_len(name);
	memcpy(p, name, l);
	return l;
}

static size_t put_rr(uint8_t *p, const struct rrspec *s)
{
	size_t n = 0;

	if (s->owner) {
		n = put_name_text(p, s->owner);
	} else {
		p[0] = 0xc0;
		p[1] = 12;
		n = 2;
	}
	p[n++] = (uint8_t)(s->type >> 8);
	p[n++] = (uint8_t)s->type;
	p[n++] = 0;
	p[n++] = DNS_C_IN;
	p[n++] = (uint8_t)(s->ttl >> 24);
	p[n++] = (uint8_t)(s->ttl >> 16);
	p[n++] = (uint8_t)(s->ttl >> 8);
	p[n++] = (uint8_t)s->ttl;
	p[n++] = (uint8_t)(s->rdlen >> 8);
	p[n++] = (uint8_t)s->rdlen;
	memcpy(p + n, s->rd, s->rdlen);
	return n + s->rdlen;
}

/* The response to the query sent[0, slen): its ID and question, flags
 * (QR added), the records of the answer and authority sections, and an
 * OPT when opt. */
static size_t mkresp(uint8_t *out, const uint8_t *sent, size_t slen,
		     uint16_t flags, const struct rrspec *an, unsigned nan,
		     const struct rrspec *ns, unsigned nns, bool opt)
{
	size_t qend = DNS_HDR_LEN, n;

	while (sent[qend])
		qend += sent[qend] + 1u;
	qend += 5;
	ck_assert_uint_le(qend, slen);
	memcpy(out, sent, qend);
	out[2] = (uint8_t)((flags | DNS_F_QR) >> 8);
	out[3] = (uint8_t)(flags | DNS_F_RA);
	out[6] = 0;
	out[7] = (uint8_t)nan;
	out[8] = 0;
	out[9] = (uint8_t)nns;
	out[10] = 0;
	out[11] = opt ? 1 : 0;
	n = qend;
	for (unsigned i = 0; i < nan; i++)
		n += put_rr(out + n, &an[i]);
	for (unsigned i = 0; i < nns; i++)
		n += put_rr(out + n, &ns[i]);
	if (opt) {
		static const uint8_t o[11] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};

		memcpy(out + n, o, sizeof(o));
		n += sizeof(o);
	}
	return n;
}

static const uint8_t a_10_0_1_1[4] = {10, 0, 1, 1};
static const struct rrspec www_a = {NULL, DNS_T_A, 300, a_10_0_1_1, 4};

/* SOA up.test.: ns.up.test. hm.up.test. 1 3600 600 86400 <minimum>. */
static struct rrspec soa_rr(uint32_t ttl, uint32_t minimum, uint8_t *buf)
{
	size_t n = put_name_text(buf, "ns.up.test.");

	n += put_name_text(buf + n, "hm.up.test.");
	for (int i = 0; i < 5; i++) {
		uint32_t v = i == 0 ? 1 : i == 1 ? 3600 : i == 2 ? 600
					: i == 3 ? 86400 : minimum;

		buf[n++] = (uint8_t)(v >> 24);
		buf[n++] = (uint8_t)(v >> 16);
		buf[n++] = (uint8_t)(v >> 8);
		buf[n++] = (uint8_t)v;
	}
	return (struct rrspec){"up.test.", DNS_T_SOA, ttl, buf, (uint16_t)n};
}

/* The last query socket that sent: its index, checked to have sent to
 * ip:port. */
static int sent_to(uint32_t ip, uint16_t port)
{
	struct tapir_addr a = tapir_addr_from_v4(ip);
	int i = fk.qs_last;

	ck_assert_int_ge(i, 0);
	ck_assert(fk.qs[i].used);
	ck_assert(tapir_addr_eq(&fk.qs[i].to, &a));
	ck_assert_uint_eq(fk.qs[i].to_port, port);
	return i;
}

static void up_reply(int i, uint32_t ip, uint16_t port, const uint8_t *m,
		     size_t len)
{
	struct tapir_addr a = tapir_addr_from_v4(ip);

	fk_qsock_recv(i, &a, port, m, len);
}

/* Ask name/type from the client, answer from UP1 with the records given;
 * returns the parsed answer the client got. */
static const struct parsed *ask_answer(const char *name, uint16_t type,
				       uint16_t flags, const struct rrspec *an,
				       unsigned nan, const struct rrspec *ns,
				       unsigned nns)
{
	size_t ql = mkq(q, name, type, DNS_C_IN, NULL), rl;
	int i;

	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0); /* nothing yet: it waits */
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, flags, an, nan, ns,
		    nns, true);
	up_reply(i, UP1, 53, r, rl);
	ck_assert_uint_gt(fk.sent_len, 0);
	return parse(fk.sent, fk.sent_len);
}

static const char up1[] = "upstream = [ \"10.0.1.53\" ];\n";

/* ---- Tests --------------------------------------------------------------- */

START_TEST(test_forwards_and_answers_with_the_clients_id_and_case)
{
	struct qopt o = {.qdcount = -1, .id = 0x1234, .flags = DNS_F_RD};
	const struct parsed *p;
	size_t ql, rl;
	int i;

	start(up1);
	ql = mkq(q, "WwW.Up.TeSt", DNS_T_A, DNS_C_IN, &o);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	i = sent_to(UP1, 53);
	/* Its own ID and a port of its own, not the client's. */
	ck_assert_uint_ne(tapir_get_be16(fk.qs[i].sent), 0x1234);
	ck_assert_uint_ge(fk.qs[i].port, 1024);
	ck_assert(tapir_get_be16(fk.qs[i].sent + 2) & DNS_F_RD);
	ck_assert(!(tapir_get_be16(fk.qs[i].sent + 2) & DNS_F_QR));
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	up_reply(i, UP1, 53, r, rl);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(p->h.id, 0x1234);
	ck_assert_str_eq(p->qname, "WwW.Up.TeSt.");
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert(!(p->h.flags & DNS_F_AA));
	ck_assert(p->h.flags & DNS_F_RA);
	ck_assert(p->h.flags & DNS_F_RD);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert_uint_eq(p->rr[0][0].ttl, 300);
	ck_assert(!p->opt); /* the client sent none */
	ck_assert_uint_eq(fk_counter("forwarded"), 1);
	ck_assert_uint_eq(fk_counter("cache_misses"), 1);
	ck_assert_uint_eq(fk_counter("upstream_queries"), 1);
	ck_assert_uint_eq(fk_counter("rcode_noerror"), 1);
	ck_assert_uint_eq(fk_counter("rcode_refused"), 0);
	ck_assert_uint_eq(fk_qsocks_bound(), 0); /* its port let go */
	/* Our own zone is still answered by us. */
	ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	p = parse(fk.sent, fk.sent_len);
	ck_assert(p->h.flags & DNS_F_AA);
	ck_assert_uint_eq(fk_counter("forwarded"), 1);
}
END_TEST

/* The answer latency histogram counts a forwarded answer from the
 * client's query to the answer sent to it, the upstream's time included;
 * an answer from our own zone, from the cache, and SERVFAIL after the
 * last try count too, each from its own query. */
START_TEST(test_latency_histogram_includes_forwarded_answers)
{
	size_t ql, rl;
	int i;

	start(up1);
	ck_assert_str_eq(fk.hist_name, "answer_duration");
	fk.now = 5000;
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.hist.count, 0); /* no answer yet */
	i = sent_to(UP1, 53);
	fk_advance(150); /* the upstream takes 150 ms */
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	up_reply(i, UP1, 53, r, rl);
	ck_assert_uint_gt(fk.sent_len, 0);
	ck_assert_uint_eq(fk.hist.count, 1);
	ck_assert_uint_eq(fk.hist.sum_us, 150000);
	ck_assert_uint_eq(fk.hist.bucket[tapir_hist_index(150000)], 1);
	/* From the cache and from our zone: at once (the fake clock stands
	 * still), in the first bucket. */
	fk_udp(q, ql);
	ql = mkq(q, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.hist.count, 3);
	ck_assert_uint_eq(fk.hist.bucket[0], 2);
	ck_assert_uint_eq(fk.hist.sum_us, 150000);
	/* No answer from anyone: SERVFAIL when the tries run out, counted
	 * with the whole wait. */
	ql = mkq(q, "nothing.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk.sent_len = 0;
	fk_udp(q, ql);
	for (int k = 0; k < 40 && !fk.sent_len; k++)
		fk_advance(500);
	ck_assert_uint_gt(fk.sent_len, 0);
	ck_assert_uint_eq(fk.hist.count, 4);
	ck_assert_uint_gt(fk.hist.sum_us, 150000 + 1000000);
}
END_TEST

START_TEST(test_each_query_new_id_and_port)
{
	size_t ql;
	int a, b;
	uint16_t ida, idb;

	start(up1);
	ql = mkq(q, "a.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	a = sent_to(UP1, 53);
	ida = tapir_get_be16(fk.qs[a].sent);
	ql = mkq(q, "b.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	b = sent_to(UP1, 53);
	idb = tapir_get_be16(fk.qs[b].sent);
	ck_assert_int_ne(a, b);
	ck_assert_uint_ne(fk.qs[a].port, fk.qs[b].port);
	ck_assert_uint_ne(ida, idb);
	/* A retry after the timeout: again another port and ID. */
	fk_advance(1000);
	ck_assert_uint_eq(fk_counter("upstream_timeouts"), 2);
	ck_assert_uint_eq(fk.qsends, 4);
}
END_TEST

START_TEST(test_answers_not_matching_are_dropped)
{
	uint8_t bad[DNS_MSG_MAX];
	size_t ql, rl, bl;
	int i;
	const struct parsed *p;

	start(up1);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	/* From another address, and from another port. */
	up_reply(i, UP2, 53, r, rl);
	up_reply(i, UP1, 5353, r, rl);
	/* Another ID. */
	memcpy(bad, r, rl);
	bad[1] ^= 1;
	up_reply(i, UP1, 53, bad, rl);
	/* Another name, type, class. */
	memcpy(bad, r, rl);
	bad[13] ^= 1; /* "www" -> "vww" */
	up_reply(i, UP1, 53, bad, rl);
	memcpy(bad, r, rl);
	bad[DNS_HDR_LEN + 13 + 1] = DNS_T_AAAA;
	up_reply(i, UP1, 53, bad, rl);
	memcpy(bad, r, rl);
	bad[DNS_HDR_LEN + 13 + 3] = DNS_C_CH;
	up_reply(i, UP1, 53, bad, rl);
	/* Not a response; cut short. */
	memcpy(bad, r, rl);
	bad[2] &= 0x7f;
	up_reply(i, UP1, 53, bad, rl);
	up_reply(i, UP1, 53, r, rl - 3);
	/* Two questions. */
	memcpy(bad, r, rl);
	bad[5] = 2;
	up_reply(i, UP1, 53, bad, rl);
	ck_assert_uint_eq(fk_counter("upstream_bad_answers"), 9);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(dns_fwd_cached(NULL), 0);
	/* The name in another case is the same question. */
	memcpy(bad, r, rl);
	bad[13] = 'W';
	bad[17] = 'U';
	bl = rl;
	up_reply(i, UP1, 53, bad, bl);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert_str_eq(p->qname, "www.up.test.");
	ck_assert_uint_eq(fk_counter("upstream_bad_answers"), 9);
}
END_TEST

START_TEST(test_cache_hit_decrements_ttl_then_expires)
{
	const struct parsed *p;
	size_t ql;

	start(up1);
	p = ask_answer("www.up.test", DNS_T_A, 0, &www_a, 1, NULL, 0);
	ck_assert_uint_eq(p->rr[0][0].ttl, 300);
	fk_advance(100 * 1000);
	ql = mkq(q, "WWW.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert_uint_eq(p->rr[0][0].ttl, 200);
	ck_assert_str_eq(p->qname, "WWW.up.test.");
	ck_assert_uint_eq(fk_counter("cache_hits"), 1);
	ck_assert_uint_eq(fk.qsends, 1);
	/* Another type is another question. */
	ql = mkq(q, "www.up.test", DNS_T_AAAA, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.qsends, 2);
	/* At 300 s it is gone. */
	fk_advance(200 * 1000);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk.qsends, 4); /* the AAAA retried, the A anew */
}
END_TEST

START_TEST(test_negative_answers_cached_for_soa_minimum)
{
	uint8_t sb[256];
	struct rrspec soa = soa_rr(3600, 60, sb);
	const struct parsed *p;
	size_t ql;

	start(up1);
	p = ask_answer("nx.up.test", DNS_T_A, DNS_R_NXDOMAIN, NULL, 0, &soa, 1);
	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	ck_assert_uint_eq(p->n[1], 1);
	/* RFC 2308 §5: the SOA's TTL at most its MINIMUM. */
	ck_assert_uint_eq(p->rr[1][0].ttl, 60);
	fk_advance(30 * 1000);
	ql = mkq(q, "nx.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	ck_assert_uint_eq(p->rr[1][0].ttl, 30);
	ck_assert_uint_eq(fk_counter("cache_hits"), 1);
	ck_assert_uint_eq(fk_counter("rcode_nxdomain"), 2);
	fk_advance(30 * 1000);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0); /* expired: asked again */
	ck_assert_uint_eq(fk.qsends, 2);
}
END_TEST

START_TEST(test_nodata_cached_no_soa_not_cached)
{
	uint8_t sb[256];
	struct rrspec soa = soa_rr(20, 600, sb);
	const struct parsed *p;
	size_t ql;

	start(up1);
	/* NODATA: NOERROR, no answer, the SOA (its TTL 20 below MINIMUM). */
	p = ask_answer("www.up.test", DNS_T_MX, 0, NULL, 0, &soa, 1);
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->rr[1][0].ttl, 20);
	fk_advance(19 * 1000);
	ql = mkq(q, "www.up.test", DNS_T_MX, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_gt(fk.sent_len, 0);
	ck_assert_uint_eq(fk_counter("cache_hits"), 1);
	/* Without an SOA a negative answer is not cached. */
	p = ask_answer("nosoa.up.test", DNS_T_A, DNS_R_NXDOMAIN, NULL, 0, NULL,
		       0);
	ck_assert_uint_eq(rcode(p), DNS_R_NXDOMAIN);
	ql = mkq(q, "nosoa.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk_counter("cache_hits"), 1);
}
END_TEST

START_TEST(test_ttl_caps)
{
	struct rrspec big = www_a;
	uint8_t sb[256];
	struct rrspec soa = soa_rr(9000, 9000, sb);
	const struct parsed *p;

	start("upstream = \"10.0.1.53\"; cache_max_ttl = 100;\n"
	      "cache_max_negative_ttl = 50;\n");
	big.ttl = 3000;
	p = ask_answer("www.up.test", DNS_T_A, 0, &big, 1, NULL, 0);
	ck_assert_uint_eq(p->rr[0][0].ttl, 100);
	p = ask_answer("nx.up.test", DNS_T_A, DNS_R_NXDOMAIN, NULL, 0, &soa, 1);
	ck_assert_uint_eq(p->rr[1][0].ttl, 50);
	/* A TTL with the top bit set is 0 (RFC 2181 §8): not cached. */
	big.ttl = 0x80000001u;
	p = ask_answer("top.up.test", DNS_T_A, 0, &big, 1, NULL, 0);
	ck_assert_uint_eq(p->rr[0][0].ttl, 0);
	fk_udp(q, mkq(q, "top.up.test", DNS_T_A, DNS_C_IN, NULL));
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk_counter("cache_hits"), 0);
}
END_TEST

START_TEST(test_timeout_retry_next_server_then_servfail)
{
	size_t ql;
	const struct parsed *p;
	struct tapir_addr v6;

	start("upstream = [ \"10.0.1.53\", \"[fd01::53]:5353\" ];\n"
	      "forward_timeout = 500; forward_tries = 2;\n");
	ql = mkq(q, "slow.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	sent_to(UP1, 53);
	fk_advance(500);
	sent_to(UP1, 53); /* the second try */
	ck_assert_uint_eq(fk.qsends, 2);
	fk_advance(500);
	ck_assert(tapir_addr_parse("fd01::53", &v6));
	ck_assert(tapir_addr_eq(&fk.qs[fk.qs_last].to, &v6));
	ck_assert_uint_eq(fk.qs[fk.qs_last].to_port, 5353);
	ck_assert_uint_eq(fk.sent_len, 0);
	fk_advance(1000);
	ck_assert_uint_eq(fk.qsends, 4);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(rcode(p), DNS_R_SERVFAIL);
	ck_assert_uint_eq(fk_counter("upstream_timeouts"), 4);
	ck_assert_uint_eq(fk_counter("forward_servfail"), 1);
	ck_assert_uint_eq(fk_qsocks_bound(), 0);
	ck_assert_uint_eq(fk_timers_armed(), 0);
}
END_TEST

START_TEST(test_upstream_servfail_next_server)
{
	size_t ql, rl;
	int i;
	const struct parsed *p;

	start("upstream = [ \"10.0.1.53\", \"10.0.2.53\" ];\n");
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, DNS_R_SERVFAIL, NULL,
		    0, NULL, 0, true);
	up_reply(i, UP1, 53, r, rl);
	ck_assert_uint_eq(fk.sent_len, 0);
	i = sent_to(UP2, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    false);
	up_reply(i, UP2, 53, r, rl);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(rcode(p), DNS_R_NOERROR);
	ck_assert_uint_eq(p->n[0], 1);
}
END_TEST

START_TEST(test_limits_refused_per_client_servfail_in_all)
{
	const char *names[] = {"a.up.test", "b.up.test", "c.up.test",
			       "d.up.test", "e.up.test"};
	size_t ql;

	start("upstream = \"10.0.1.53\";\n forward_max_outstanding = 3;\n"
	      "forward_max_per_client = 2;\n");
	for (int k = 0; k < 2; k++) {
		ql = mkq(q, names[k], DNS_T_A, DNS_C_IN, NULL);
		fk_udp_from(0x0a000001u, q, ql);
		ck_assert_uint_eq(fk.sent_len, 0);
	}
	/* The same client a third time: REFUSED. */
	ql = mkq(q, names[2], DNS_T_A, DNS_C_IN, NULL);
	fk_udp_from(0x0a000001u, q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	/* Another client fills the total ... */
	fk_udp_from(0x0a000007u, q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	/* ... and a third gets SERVFAIL. */
	ql = mkq(q, names[3], DNS_T_A, DNS_C_IN, NULL);
	fk_udp_from(0x0a000008u, q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_SERVFAIL);
	ck_assert_uint_eq(fk_counter("forward_over_limit"), 2);
	ck_assert_uint_eq(fk.qsends, 3);
	/* Once they are answered (here: given up) there is room again. */
	fk_advance(10000);
	ql = mkq(q, names[4], DNS_T_A, DNS_C_IN, NULL);
	fk_udp_from(0x0a000008u, q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk_counter("forward_over_limit"), 2);
}
END_TEST

START_TEST(test_identical_questions_share_one_query)
{
	struct qopt o1 = {.qdcount = -1, .id = 1}, o2 = {.qdcount = -1, .id = 2};
	size_t ql, rl;
	int i;
	unsigned got = 0;

	start(up1);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, &o1);
	fk_udp_from(0x0a000001u, q, ql);
	fk_udp_from(0x0a000001u, q, ql); /* a retransmission: not twice */
	ql = mkq(q, "WWW.UP.TEST", DNS_T_A, DNS_C_IN, &o2);
	fk_udp_from(0x0a000009u, q, ql);
	ck_assert_uint_eq(fk.qsends, 1);
	ck_assert_uint_eq(fk_counter("forward_coalesced"), 1);
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	fk.sends = 0;
	up_reply(i, UP1, 53, r, rl);
	ck_assert_uint_eq(fk.sends, 2);
	/* The last one sent is one of the two, with its own ID and case. */
	{
		const struct parsed *p = parse(fk.sent, fk.sent_len);

		got = p->h.id;
		ck_assert(got == 1 || got == 2);
		ck_assert_str_eq(p->qname, got == 1 ? "www.up.test."
						    : "WWW.UP.TEST.");
	}
}
END_TEST

START_TEST(test_tc_answer_fetched_over_tcp)
{
	size_t ql, rl, len;
	int i, c;
	struct rrspec many[40];
	uint8_t ips[40][4];
	uint8_t framed[DNS_MSG_MAX + 2];
	const struct parsed *p;
	struct qopt o = {.qdcount = -1, .id = 77, .edns = true,
			 .payload = 4096};

	start(up1);
	ql = mkq(q, "big.up.test", DNS_T_A, DNS_C_IN, &o);
	fk_udp(q, ql);
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, DNS_F_TC, NULL, 0,
		    NULL, 0, true);
	up_reply(i, UP1, 53, r, rl);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk_counter("upstream_tcp"), 1);
	c = fk.tcp_last;
	ck_assert_int_ge(c, 0);
	ck_assert(fk.conns[c].outgoing);
	{
		struct tapir_addr a = tapir_addr_from_v4(UP1);

		ck_assert(tapir_addr_eq(&fk.conns[c].peer, &a));
	}
	ck_assert_uint_eq(fk.conns[c].peer_port, 53);
	len = tapir_get_be16(fk.conns[c].out);
	ck_assert_uint_eq(len + 2, fk.conns[c].out_len);
	for (int k = 0; k < 40; k++) {
		ips[k][0] = 10;
		ips[k][1] = 9;
		ips[k][2] = 0;
		ips[k][3] = (uint8_t)k;
		many[k] = (struct rrspec){NULL, DNS_T_A, 600, ips[k], 4};
	}
	rl = mkresp(framed + 2, fk.conns[c].out + 2, len, 0, many, 40, NULL, 0,
		    true);
	tapir_put_be16(framed, (uint16_t)rl);
	/* In two pieces, as a stream may bring it. */
	fk_tcp_peer_data((unsigned)c, framed, 7);
	ck_assert_uint_eq(fk.sent_len, 0);
	fk_tcp_peer_data((unsigned)c, framed + 7, rl + 2 - 7);
	p = parse(fk.sent, fk.sent_len);
	ck_assert_uint_eq(p->h.id, 77);
	ck_assert_uint_eq(p->n[0], 40);
	ck_assert(!(p->h.flags & DNS_F_TC));
	ck_assert(fk.conns[c].closed);
	/* A client without EDNS gets TC: 40 records are over 512 bytes. */
	ql = mkq(q, "big.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	p = parse(fk.sent, fk.sent_len);
	ck_assert(p->h.flags & DNS_F_TC);
	ck_assert_uint_eq(p->n[0], 0);
	ck_assert_uint_eq(fk_counter("truncated"), 1);
	/* Over TCP the client gets it all, from the cache. */
	ck_assert(fk_tcp_open(0, 65536));
	q[0] = 0;
	q[1] = (uint8_t)ql;
	ql = mkq(q + 2, "big.up.test", DNS_T_A, DNS_C_IN, NULL);
	ck_assert_uint_eq(fk_tcp_data(0, q, ql + 2), ql + 2);
	len = tapir_get_be16(fk.conns[0].out);
	p = parse(fk.conns[0].out + 2, len);
	ck_assert_uint_eq(p->n[0], 40);
	ck_assert_uint_eq(fk_counter("cache_hits"), 2);
}
END_TEST

START_TEST(test_tcp_answer_with_wrong_id_fails_the_try)
{
	size_t ql, rl, len;
	int i, c;
	uint8_t framed[1024];

	start("upstream = \"10.0.1.53\"; forward_tries = 1;\n");
	ql = mkq(q, "big.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, DNS_F_TC, NULL, 0,
		    NULL, 0, true);
	up_reply(i, UP1, 53, r, rl);
	c = fk.tcp_last;
	len = tapir_get_be16(fk.conns[c].out);
	rl = mkresp(framed + 2, fk.conns[c].out + 2, len, 0, &www_a, 1, NULL, 0,
		    false);
	framed[3] ^= 0xff; /* the ID */
	tapir_put_be16(framed, (uint16_t)rl);
	fk_tcp_peer_data((unsigned)c, framed, rl + 2);
	ck_assert_uint_eq(fk_counter("upstream_bad_answers"), 1);
	ck_assert(fk.conns[c].reset);
	/* The only server, one try: SERVFAIL. */
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_SERVFAIL);
}
END_TEST

START_TEST(test_tcp_client_waits_and_gets_the_answer)
{
	size_t ql, rl, len;
	int i;
	const struct parsed *p;

	start(up1);
	ck_assert(fk_tcp_open(0, 65536));
	ql = mkq(q + 2, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	tapir_put_be16(q, (uint16_t)ql);
	/* Two queries pipelined: the second waits for the first. */
	memcpy(q + 2 + ql, q, ql + 2);
	ck_assert_uint_eq(fk_tcp_data(0, q, 2 * (ql + 2)), ql + 2);
	ck_assert_uint_eq(fk.conns[0].out_len, 0);
	i = sent_to(UP1, 53);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	up_reply(i, UP1, 53, r, rl);
	len = tapir_get_be16(fk.conns[0].out);
	p = parse(fk.conns[0].out + 2, len);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert_uint_eq(fk.conns[0].resumes, 1);
	/* The stack offers the rest again: answered from the cache. */
	ck_assert_uint_eq(fk_tcp_data(0, q + ql + 2, ql + 2), ql + 2);
	ck_assert_uint_eq(fk.conns[0].out_len, 2 * (len + 2));
	/* A connection that goes away while waiting is forgotten. */
	ql = mkq(q + 2, "gone.up.test", DNS_T_A, DNS_C_IN, NULL);
	tapir_put_be16(q, (uint16_t)ql);
	ck_assert_uint_eq(fk_tcp_data(0, q, ql + 2), ql + 2);
	i = sent_to(UP1, 53);
	fk.tcp_cb->closed(fk.conns[0].ctx, &fk.conns[0], -104);
	fk.conns[0].open = false;
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	up_reply(i, UP1, 53, r, rl);
	ck_assert_uint_eq(fk_counter("upstream_bad_answers"), 0);
}
END_TEST

/* A TCP client that asks and goes away, again and again, leaves no
 * question upstream behind: each goes with its port when its last waiter
 * does, so the limit on waiting queries also bounds the ports held. */
START_TEST(test_tcp_clients_gone_leave_no_query_behind)
{
	char name[32];
	size_t ql;

	start("upstream = \"10.0.1.53\";\n forward_max_outstanding = 2;\n"
	      "forward_max_per_client = 2;\n");
	for (int k = 0; k < 20; k++) {
		ck_assert(fk_tcp_open(0, 65536));
		snprintf(name, sizeof(name), "n%d.up.test", k);
		ql = mkq(q + 2, name, DNS_T_A, DNS_C_IN, NULL);
		tapir_put_be16(q, (uint16_t)ql);
		ck_assert_uint_eq(fk_tcp_data(0, q, ql + 2), ql + 2);
		ck_assert_uint_eq(fk.conns[0].out_len, 0); /* it waits */
		fk.tcp_cb->closed(fk.conns[0].ctx, &fk.conns[0], -104);
		fk.conns[0].open = false;
		ck_assert_uint_eq(fk_qsocks_bound(), 0);
	}
	ck_assert_uint_eq(fk.qsends, 20);
	ck_assert_uint_eq(fk_counter("forward_over_limit"), 0);
	/* Nothing left to time out and ask again. */
	fk_advance(60000);
	ck_assert_uint_eq(fk.qsends, 20);
}
END_TEST

START_TEST(test_conditional_forwarding_longest_suffix)
{
	size_t ql;

	start("upstream = \"10.0.1.53\";\n"
	      "forward_zones = ( { name = \"corp.test\"; upstream = "
	      "[ \"10.0.2.53\" ]; },\n"
	      " { name = \"x.corp.test.\"; upstream = \"10.0.1.53:5300\"; } );\n");
	ql = mkq(q, "host.corp.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	sent_to(UP2, 53);
	ql = mkq(q, "CORP.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	sent_to(UP2, 53);
	ql = mkq(q, "a.x.corp.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	sent_to(UP1, 5300);
	ql = mkq(q, "notcorp.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	sent_to(UP1, 53);
}
END_TEST

START_TEST(test_forward_zone_without_default_upstream)
{
	size_t ql;

	start("forward_zones = ( { name = \"corp.test\"; upstream = "
	      "\"10.0.2.53\"; } );\n");
	ql = mkq(q, "host.corp.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	sent_to(UP2, 53);
	ql = mkq(q, "elsewhere.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	ck_assert_uint_eq(fk.qsends, 1);
}
END_TEST

START_TEST(test_forward_false_or_no_upstream_refuses)
{
	size_t ql;

	start("upstream = \"10.0.1.53\"; forward = false;\n");
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	ck_assert_uint_eq(fk.qsends, 0);
	tapir_module.fini(mod);
	fk_reset();
	start("");
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	ck_assert_uint_eq(fk.qsends, 0);
	ck_assert_uint_eq(fk_counter("forwarded"), 0);
	/* Not a plain IN query: refused even with a server. */
	tapir_module.fini(mod);
	fk_reset();
	start(up1);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_CH, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	ql = mkq(q, "www.up.test", DNS_T_AXFR, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_REFUSED);
	ck_assert_uint_eq(fk.qsends, 0);
}
END_TEST

START_TEST(test_edns_do_bit_separate_cache_entries)
{
	struct qopt o = {.qdcount = -1, .edns = true, .payload = 1232,
			 .do_bit = true};
	size_t ql, rl;
	int i;
	const struct parsed *p;

	start(up1);
	ask_answer("www.up.test", DNS_T_A, 0, &www_a, 1, NULL, 0);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, &o);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0); /* not the answer without DO */
	i = sent_to(UP1, 53);
	/* The DO bit goes upstream. */
	ck_assert(fk.qs[i].sent[fk.qs[i].sent_len - 4] & 0x80);
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, &www_a, 1, NULL, 0,
		    true);
	up_reply(i, UP1, 53, r, rl);
	p = parse(fk.sent, fk.sent_len);
	ck_assert(p->opt);
	ck_assert(p->opt_flags & DNS_EDNS_DO);
	ck_assert_uint_eq(p->opt_payload, 1232);
}
END_TEST

START_TEST(test_reload_answers_waiting_clients)
{
	config_setting_t *s;
	size_t ql;

	start(up1);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	s = fk_section("port = 53; upstream = \"10.0.2.53\";");
	ck_assert_int_eq(fk_check_section(s), 0);
	ck_assert_int_eq(tapir_module.reconfigure(mod, fk_conf()), 0);
	ck_assert_uint_eq(rcode(parse(fk.sent, fk.sent_len)), DNS_R_SERVFAIL);
	ck_assert_uint_eq(fk_qsocks_bound(), 0);
	fk_udp(q, ql);
	sent_to(UP2, 53);
}
END_TEST

START_TEST(test_check_reports_bad_forward_settings)
{
	config_setting_t *s = fk_section(
		"upstream = [ \"10.0.1.53\",\n"             /* 1 */
		"  \"nonsense\", \"10.0.0.1:0\",\n"          /* 2 */
		"  \"[fd00::1\" ];\n"                        /* 3 */
		"forward_zones = ( { name = \"a..b\";\n"     /* 4 */
		"  upstream = [ \"10.0.0.1\" ]; },\n"        /* 5 */
		" { name = \"c.test\"; upstream = [ ]; },\n" /* 6 */
		" { name = \"d.test\"; upstream = \"1.2.3.4\"; bad = 1; } );\n"
		"forward_max_per_client = 100; forward_max_outstanding = 10;\n");

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(fk_check_section(s), -1);
	ck_assert_uint_eq(fk.nerrors, 7);
	ck_assert_ptr_nonnull(strstr(fk.errors[0], "line 2: upstream: \"nonsense\""));
	ck_assert_ptr_nonnull(strstr(fk.errors[1], "line 2: upstream: \"10.0.0.1:0\""));
	ck_assert_ptr_nonnull(strstr(fk.errors[2], "line 3: upstream: \"[fd00::1\""));
	ck_assert_ptr_nonnull(strstr(fk.errors[3], "line 4: forward zone name"));
	ck_assert_ptr_nonnull(strstr(fk.errors[4], "line 6: a forward zone needs upstream"));
	ck_assert_ptr_nonnull(strstr(fk.errors[5], "line 7: unknown forward zone setting \"bad\""));
	ck_assert_ptr_nonnull(strstr(fk.errors[6], "forward_max_per_client"));
}
END_TEST

START_TEST(test_parse_server_forms)
{
	struct dns_fwd_server s;
	struct tapir_addr a;

	ck_assert_int_eq(dns_fwd_parse_server("10.0.1.53", &s), 0);
	ck_assert(tapir_addr_eq(&s.ip, &(struct tapir_addr){0}) == false);
	ck_assert_uint_eq(tapir_addr_v4(&s.ip), UP1);
	ck_assert_uint_eq(s.port, 53);
	ck_assert_int_eq(dns_fwd_parse_server("10.0.1.53:5353", &s), 0);
	ck_assert_uint_eq(s.port, 5353);
	ck_assert_int_eq(dns_fwd_parse_server("fd01::53", &s), 0);
	ck_assert(tapir_addr_parse("fd01::53", &a));
	ck_assert(tapir_addr_eq(&s.ip, &a));
	ck_assert_uint_eq(s.port, 53);
	ck_assert_int_eq(dns_fwd_parse_server("[fd01::53]:5300", &s), 0);
	ck_assert(tapir_addr_eq(&s.ip, &a));
	ck_assert_uint_eq(s.port, 5300);
	ck_assert_int_eq(dns_fwd_parse_server("[fd01::53]", &s), 0);
	ck_assert_uint_eq(s.port, 53);
	ck_assert_int_eq(dns_fwd_parse_server("10.0.1.53:65536", &s), -1);
	ck_assert_int_eq(dns_fwd_parse_server("10.0.1.53:", &s), -1);
	ck_assert_int_eq(dns_fwd_parse_server("10.0.1.53:5x", &s), -1);
	ck_assert_int_eq(dns_fwd_parse_server("[fd01::53]x", &s), -1);
	ck_assert_int_eq(dns_fwd_parse_server("0.0.0.0", &s), -1);
	ck_assert_int_eq(dns_fwd_parse_server("", &s), -1);
	ck_assert_int_eq(dns_fwd_parse_server("host.example", &s), -1);
}
END_TEST

/* ---- The cache alone ----------------------------------------------------- */

static struct dns_fmsg fm;

START_TEST(test_cache_evicts_least_recently_used)
{
	static const uint8_t key[TAPIR_SIPHASH_KEY_LEN] = {1, 2, 3};
	struct dns_cache *c = dns_cache_new(3, 1 << 20, key);
	struct dns_ckey k[4];
	const char *names[4] = {"a.up.test.", "b.up.test.", "c.up.test.",
				"d.up.test."};
	size_t ql, rl;

	ck_assert_ptr_nonnull(c);
	for (int i = 0; i < 4; i++) {
		uint8_t n[DNS_NAME_MAX];

		ck_assert_int_eq(dns_name_from_text(names[i], strlen(names[i]),
						    NULL, n, NULL, 0),
				 0);
		dns_ckey_make(&k[i], n, DNS_T_A, DNS_C_IN, 0);
	}
	ql = mkq(q, "a.up.test", DNS_T_A, DNS_C_IN, NULL);
	rl = mkresp(r, q, ql, 0, &www_a, 1, NULL, 0, false);
	ck_assert_int_eq(dns_fmsg_parse(&fm, r, rl), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(dns_cache_put(c, &k[i], &fm.v, 60, 0), 0);
	ck_assert_ptr_nonnull(dns_cache_get(c, &k[0], 1)); /* a used */
	ck_assert_int_eq(dns_cache_put(c, &k[3], &fm.v, 60, 2), 0);
	ck_assert_uint_eq(dns_cache_count(c), 3);
	ck_assert_ptr_null(dns_cache_get(c, &k[1], 3)); /* b evicted */
	ck_assert_ptr_nonnull(dns_cache_get(c, &k[0], 3));
	ck_assert_ptr_nonnull(dns_cache_get(c, &k[2], 3));
	ck_assert_ptr_nonnull(dns_cache_get(c, &k[3], 3));
	/* Expiry: at 60 s it is gone. */
	ck_assert_ptr_null(dns_cache_get(c, &k[0], 60000));
	ck_assert_uint_eq(dns_cache_count(c), 2);
	dns_cache_free(c);
	/* A byte limit: one entry's worth. */
	c = dns_cache_new(100, 300, key);
	ck_assert_int_eq(dns_cache_put(c, &k[0], &fm.v, 60, 0), 0);
	ck_assert_int_eq(dns_cache_put(c, &k[1], &fm.v, 60, 0), 0);
	ck_assert_uint_eq(dns_cache_count(c), 1);
	ck_assert_uint_le(dns_cache_bytes(c), 300);
	dns_cache_free(c);
}
END_TEST

START_TEST(test_fmsg_drops_opt_and_what_follows)
{
	size_t ql, rl;
	struct rrspec extra = {"x.up.test.", DNS_T_A, 5, a_10_0_1_1, 4};

	ql = mkq(q, "a.up.test", DNS_T_A, DNS_C_IN, NULL);
	rl = mkresp(r, q, ql, 0, &www_a, 1, NULL, 0, true);
	/* A record after the OPT. */
	rl += put_rr(r + rl, &extra);
	r[11] = 2;
	ck_assert_int_eq(dns_fmsg_parse(&fm, r, rl), 0);
	ck_assert(fm.edns);
	ck_assert_uint_eq(fm.v.an, 1);
	ck_assert_uint_eq(fm.v.ar, 0);
	ck_assert_uint_eq(fm.v.nttl, 1);
	ck_assert_uint_eq(fm.v.end, rl - 11 - 25); /* OPT, x.up.test A */
	/* An OPT in the answer section is malformed. */
	r[7] = 3;
	r[11] = 0;
	ck_assert_int_eq(dns_fmsg_parse(&fm, r, rl), -1);
}
END_TEST

START_TEST(test_no_cache_asks_every_time)
{
	size_t ql;

	start("upstream = \"10.0.1.53\"; cache_size = 0;\n");
	ask_answer("www.up.test", DNS_T_A, 0, &www_a, 1, NULL, 0);
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	ck_assert_uint_eq(fk.sent_len, 0);
	ck_assert_uint_eq(fk.qsends, 2);
	ck_assert_uint_eq(fk_counter("cache_hits"), 0);
}
END_TEST

START_TEST(test_additional_left_out_before_truncating)
{
	struct rrspec recs[40];
	uint8_t ips[40][4];
	size_t ql, rl;
	int i;
	const struct parsed *p;

	start(up1);
	for (int k = 0; k < 40; k++) {
		ips[k][0] = 10;
		ips[k][1] = 8;
		ips[k][2] = 0;
		ips[k][3] = (uint8_t)k;
		recs[k] = (struct rrspec){k ? "ns.up.test." : NULL, DNS_T_A,
					  600, ips[k], 4};
	}
	ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, NULL);
	fk_udp(q, ql);
	i = sent_to(UP1, 53);
	/* One answer, 39 records of glue in the additional section: over
	 * 512 bytes in all. */
	rl = mkresp(r, fk.qs[i].sent, fk.qs[i].sent_len, 0, recs, 1, NULL, 0,
		    false);
	for (int k = 1; k < 40; k++)
		rl += put_rr(r + rl, &recs[k]);
	r[11] = 39;
	ck_assert_uint_gt(rl, 512);
	up_reply(i, UP1, 53, r, rl);
	p = parse(fk.sent, fk.sent_len);
	ck_assert(!(p->h.flags & DNS_F_TC));
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert_uint_eq(p->n[2], 0);
	ck_assert_uint_le(fk.sent_len, 512);
	/* With room for it all, it all comes. */
	{
		struct qopt o = {.qdcount = -1, .edns = true, .payload = 1232};

		ql = mkq(q, "www.up.test", DNS_T_A, DNS_C_IN, &o);
		fk_udp(q, ql);
		p = parse(fk.sent, fk.sent_len);
		ck_assert_uint_eq(p->n[2], 39);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dns_forward");
	TCase *t = tcase_create("forward");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_forwards_and_answers_with_the_clients_id_and_case);
	tcase_add_test(t, test_each_query_new_id_and_port);
	tcase_add_test(t, test_latency_histogram_includes_forwarded_answers);
	tcase_add_test(t, test_answers_not_matching_are_dropped);
	tcase_add_test(t, test_cache_hit_decrements_ttl_then_expires);
	tcase_add_test(t, test_negative_answers_cached_for_soa_minimum);
	tcase_add_test(t, test_nodata_cached_no_soa_not_cached);
	tcase_add_test(t, test_ttl_caps);
	tcase_add_test(t, test_timeout_retry_next_server_then_servfail);
	tcase_add_test(t, test_upstream_servfail_next_server);
	tcase_add_test(t, test_limits_refused_per_client_servfail_in_all);
	tcase_add_test(t, test_identical_questions_share_one_query);
	tcase_add_test(t, test_tc_answer_fetched_over_tcp);
	tcase_add_test(t, test_tcp_answer_with_wrong_id_fails_the_try);
	tcase_add_test(t, test_tcp_client_waits_and_gets_the_answer);
	tcase_add_test(t, test_tcp_clients_gone_leave_no_query_behind);
	tcase_add_test(t, test_conditional_forwarding_longest_suffix);
	tcase_add_test(t, test_forward_zone_without_default_upstream);
	tcase_add_test(t, test_forward_false_or_no_upstream_refuses);
	tcase_add_test(t, test_edns_do_bit_separate_cache_entries);
	tcase_add_test(t, test_reload_answers_waiting_clients);
	tcase_add_test(t, test_check_reports_bad_forward_settings);
	tcase_add_test(t, test_parse_server_forms);
	tcase_add_test(t, test_cache_evicts_least_recently_used);
	tcase_add_test(t, test_fmsg_drops_opt_and_what_follows);
	tcase_add_test(t, test_no_cache_asks_every_time);
	tcase_add_test(t, test_additional_left_out_before_truncating);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
