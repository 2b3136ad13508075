/*
 * Zone lines (zone.c): every supported type parsed into the right RDATA,
 * TTL and class in either order, names relative and absolute, empty
 * non-terminals, the hash lookup, and each kind of bad line refused with a
 * reason.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "modules/dns/zone.h"

static struct dns_zone *z;
static char err[256];

static void setup(void)
{
	z = dns_zone_new("Lab.Test.", err, sizeof(err));
	ck_assert_ptr_nonnull(z);
}

static void teardown(void)
{
	dns_zone_free(z);
}

static const struct dns_rr *rr_of(const char *name, uint16_t type)
{
	uint8_t n[DNS_NAME_MAX];
	const struct dns_rrset *s;

	ck_assert_int_eq(dns_name_from_text(name, strlen(name), NULL, n, err,
					    sizeof(err)),
			 0);
	s = dns_node_rrset(dns_zone_find(z, n), type);
	ck_assert_ptr_nonnull(s);
	return &s->rr[0];
}

static void ok(const char *line)
{
	ck_assert_msg(dns_zone_add_line(z, line, 3600, err, sizeof(err)) == 0,
		      "\"%s\": %s", line, err);
}

static void bad(const char *line, const char *reason)
{
	err[0] = 0;
	ck_assert_msg(dns_zone_add_line(z, line, 3600, err, sizeof(err)) == -1,
		      "\"%s\" was accepted", line);
	ck_assert_msg(strstr(err, reason) != NULL, "\"%s\": \"%s\" lacks \"%s\"",
		      line, err, reason);
}

START_TEST(test_every_type_parsed)
{
	const struct dns_rr *r;
	static const uint8_t a[] = {10, 0, 0, 2};
	static const uint8_t mx[] = {0, 10, 3, 'm', 'x', '1', 3, 'L', 'a', 'b',
				     4, 'T', 'e', 's', 't', 0};
	static const uint8_t srv[] = {0, 1, 0, 2, 0, 80, 3, 'w', 'w', 'w', 3,
				      'L', 'a', 'b', 4, 'T', 'e', 's', 't', 0};
	static const uint8_t txt[] = {5, 'v', '=', 'l', 'a', 'b',
				      3, 'a', '"', 'b', 2, 'x', 'y'};
	static const uint8_t soa_tail[] = {0, 0, 0, 1, 0, 0, 0x0e, 0x10,
					   0, 0, 2, 0x58, 0, 1, 0x51, 0x80,
					   0, 0, 0, 60};

	ok("@ SOA ns1 hostmaster 1 3600 600 86400 60");
	ok("www A 10.0.0.2");
	ok("www AAAA fd00::2");
	ok("mail MX 10 mx1");
	ok("@ TXT \"v=lab\" \"a\\\"b\" xy");
	ok("_http._tcp SRV 1 2 80 www");
	ok("alias CNAME www.Lab.Test.");
	ok("@ NS ns1");
	ok("2 PTR www");
	r = rr_of("www.lab.test.", DNS_T_A);
	ck_assert_uint_eq(r->rdlen, 4);
	ck_assert_mem_eq(r->rdata, a, 4);
	ck_assert_uint_eq(r->ttl, 3600);
	r = rr_of("www.lab.test.", DNS_T_AAAA);
	ck_assert_uint_eq(r->rdlen, 16);
	ck_assert_uint_eq(r->rdata[0], 0xfd);
	ck_assert_uint_eq(r->rdata[15], 2);
	r = rr_of("mail.lab.test.", DNS_T_MX);
	ck_assert_uint_eq(r->rdlen, sizeof(mx));
	ck_assert_mem_eq(r->rdata, mx, sizeof(mx));
	r = rr_of("_http._tcp.lab.test.", DNS_T_SRV);
	ck_assert_uint_eq(r->rdlen, sizeof(srv));
	ck_assert_mem_eq(r->rdata, srv, sizeof(srv));
	r = rr_of("lab.test.", DNS_T_TXT);
	ck_assert_uint_eq(r->rdlen, sizeof(txt));
	ck_assert_mem_eq(r->rdata, txt, sizeof(txt));
	r = rr_of("lab.test.", DNS_T_SOA);
	ck_assert_uint_eq(r->rdlen, 14 + 21 + 20);
	ck_assert_mem_eq(r->rdata + r->rdlen - 20, soa_tail, 20);
	ck_assert_uint_eq(dns_zone_neg_ttl(z), 60);
	ck_assert_int_eq(dns_zone_finish(z, err, sizeof(err)), 0);
	r = rr_of("2.lab.test.", DNS_T_PTR);
	ck_assert_uint_eq(r->rdlen, 1 + 3 + 1 + 3 + 1 + 4 + 1);
	ck_assert_uint_eq(z->records, 9);
}
END_TEST

START_TEST(test_ttl_and_class_in_either_order)
{
	ok("a 300 IN A 10.0.0.1");
	ok("b IN 300 A 10.0.0.1");
	ok("c in 1h30m a 10.0.0.1");
	ok("d 2d A 10.0.0.1");
	ok("e A 10.0.0.1 ; a comment");
	ck_assert_uint_eq(rr_of("a.lab.test.", DNS_T_A)->ttl, 300);
	ck_assert_uint_eq(rr_of("b.lab.test.", DNS_T_A)->ttl, 300);
	ck_assert_uint_eq(rr_of("c.lab.test.", DNS_T_A)->ttl, 5400);
	ck_assert_uint_eq(rr_of("d.lab.test.", DNS_T_A)->ttl, 172800);
	ck_assert_uint_eq(rr_of("e.lab.test.", DNS_T_A)->ttl, 3600);
}
END_TEST

START_TEST(test_empty_non_terminals_and_case)
{
	uint8_t n[DNS_NAME_MAX];
	struct dns_node *node;

	ok("x.y.z A 10.0.0.1");
	dns_name_from_text("Y.Z.LAB.TEST.", 13, NULL, n, NULL, 0);
	node = dns_zone_find(z, n);
	ck_assert_ptr_nonnull(node); /* exists, case-insensitively */
	ck_assert_ptr_null(node->sets); /* with no data */
	dns_name_from_text("z.lab.test.", 11, NULL, n, NULL, 0);
	ck_assert_ptr_nonnull(dns_zone_find(z, n));
	dns_name_from_text("q.lab.test.", 11, NULL, n, NULL, 0);
	ck_assert_ptr_null(dns_zone_find(z, n));
	ck_assert_ptr_nonnull(z->apex);
}
END_TEST

START_TEST(test_many_names_hash)
{
	char line[64];
	uint8_t n[DNS_NAME_MAX];

	for (int i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "h%d A 10.0.%d.%d", i, i / 256,
			 i % 256);
		ok(line);
	}
	ck_assert_uint_ge(z->tabsize, 2000);
	for (int i = 0; i < 2000; i += 7) {
		snprintf(line, sizeof(line), "h%d.lab.test.", i);
		dns_name_from_text(line, strlen(line), NULL, n, NULL, 0);
		ck_assert_ptr_nonnull(dns_node_rrset(dns_zone_find(z, n),
						     DNS_T_A));
	}
}
END_TEST

START_TEST(test_bad_lines)
{
	ok("@ SOA ns1 hostmaster 1 3600 600 86400 60");
	ok("www A 10.0.0.2");
	bad("x A 10.0.0.256", "not an IPv4 address");
	bad("x AAAA 10.0.0.1", "not an IPv6 address");
	bad("x HINFO a b", "unknown or unsupported type");
	bad("x", "owner [ttl] [class] type data");
	bad("x A", "takes 1 field");
	bad("x A 10.0.0.1 10.0.0.2", "takes 1 field");
	bad("x MX 70000 mx", "preference");
	bad("x SRV 0 0 http www", "SRV");
	bad("x 99999999999 A 10.0.0.1", "bad TTL");
	bad("x 5q A 10.0.0.1", "bad TTL");
	bad("x CH A 10.0.0.1", "only class IN");
	bad("www.example.com. A 10.0.0.1", "outside the zone");
	bad("sub SOA ns1 hm 1 2 3 4 5", "only at the zone's apex");
	bad("@ SOA ns1 hm 2 3600 600 86400 60", "a second SOA");
	bad("@ SOA ns1 hm 1 3600 600 86400", "takes 7 fields");
	bad("www CNAME other", "other data");
	bad("x TYPE41 \\# 0", "cannot be stored");
	bad("www A 10.0.0.2", "duplicate");
	bad("x TXT \"unterminated", "unterminated quote");
	bad("x TXT", "at least one string");
	bad("x..y A 10.0.0.1", "empty label");
	bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	    "A 10.0.0.1",
	    "at most 63");
	bad("x CNAME a\\", "bad label");
	bad("x MX 10 ( mx1 )", "parentheses");
	ok("c CNAME www");
	bad("c A 10.0.0.9", "has a CNAME");
}
END_TEST

START_TEST(test_zone_without_soa)
{
	ok("www A 10.0.0.2");
	ck_assert_int_eq(dns_zone_finish(z, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no SOA"));
}
END_TEST

START_TEST(test_zone_set_longest_match)
{
	struct dns_zones zs;
	struct dns_zone *sub = dns_zone_new("sub.lab.test", err, sizeof(err));
	uint8_t n[DNS_NAME_MAX];

	dns_zones_init(&zs);
	ok("@ SOA ns1 hm 1 1 1 1 1");
	ck_assert_int_eq(dns_zone_add_line(sub, "@ SOA ns1 hm 1 1 1 1 1", 60,
					   err, sizeof(err)),
			 0);
	ck_assert_int_eq(dns_zones_add(&zs, z), 0);
	ck_assert_int_eq(dns_zones_add(&zs, sub), 0);
	ck_assert_int_eq(dns_zones_index(&zs), 0);
	dns_name_from_text("a.sub.lab.test.", 15, NULL, n, NULL, 0);
	ck_assert_ptr_eq(dns_zones_find(&zs, n), sub);
	dns_name_from_text("a.lab.test.", 11, NULL, n, NULL, 0);
	ck_assert_ptr_eq(dns_zones_find(&zs, n), z);
	dns_name_from_text("test.", 5, NULL, n, NULL, 0);
	ck_assert_ptr_null(dns_zones_find(&zs, n));
	dns_zones_free(&zs);
	z = dns_zone_new("x.test", err, sizeof(err)); /* for teardown */
	ck_assert_ptr_null(dns_zone_new("a..b", err, sizeof(err)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_zone");
	TCase *tc = tcase_create("zone");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_type_parsed);
	tcase_add_test(tc, test_ttl_and_class_in_either_order);
	tcase_add_test(tc, test_empty_non_terminals_and_case);
	tcase_add_test(tc, test_many_names_hash);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_zone_without_soa);
	tcase_add_test(tc, test_zone_set_longest_match);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
