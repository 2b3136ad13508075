/*
 * Zone lines (zone.c): every supported type parsed into the right RDATA,
 * TTL and class in either order, names relative and absolute, empty
 * non-terminals, the hash lookup, and each kind of bad line refused with a
 * reason.  The newer types (rdata.c) against their wire bytes.  Master
 * files (zonefile.c): each directive, parentheses, comments, escapes,
 * errors with their line, $INCLUDE confined to the directory.  Lookups
 * through cuts and wildcards (RFC 4592), and the answers they give.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/dns/answer.h"
#include "modules/dns/zone.h"
#include "modules/dns/zonefile.h"

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


/* ---- Newer types against their wire bytes ----------------------------- */

/* The RDATA of the only record of type at name (text). */
static const struct dns_rr *only(const char *name, uint16_t type)
{
	return rr_of(name, type);
}

#define RD_IS(name, type, ...)                                                 \
	do {                                                                   \
		static const uint8_t want_[] = {__VA_ARGS__};                  \
		const struct dns_rr *r_ = only(name, type);                    \
		ck_assert_uint_eq(r_->rdlen, sizeof(want_));                   \
		ck_assert_mem_eq(r_->rdata, want_, sizeof(want_));             \
	} while (0)

START_TEST(test_caa_sshfp_tlsa_ds_naptr)
{
	ok("@ CAA 0 issue \"ca.example\"");
	RD_IS("lab.test.", DNS_T_CAA, 0, 5, 'i', 's', 's', 'u', 'e', 'c', 'a',
	      '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e');
	ok("h SSHFP 4 2 0A 0b");
	RD_IS("h.lab.test.", DNS_T_SSHFP, 4, 2, 0x0a, 0x0b);
	ok("_443._tcp TLSA 3 1 1 dead beef");
	RD_IS("_443._tcp.lab.test.", DNS_T_TLSA, 3, 1, 1, 0xde, 0xad, 0xbe,
	      0xef);
	ok("c DS 60485 5 1 2BB183AF");
	RD_IS("c.lab.test.", DNS_T_DS, 0xec, 0x45, 5, 1, 0x2b, 0xb1, 0x83,
	      0xaf);
	ok("sip NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp");
	RD_IS("sip.lab.test.", DNS_T_NAPTR, 0, 100, 0, 10, 1, 'S', 7, 'S', 'I',
	      'P', '+', 'D', '2', 'U', 0, 4, '_', 's', 'i', 'p', 4, '_', 'u',
	      'd', 'p', 3, 'L', 'a', 'b', 4, 'T', 'e', 's', 't', 0);
	bad("x CAA 0 is-sue v", "CAA tag");
	bad("x CAA 256 issue v", "CAA flags");
	bad("x SSHFP 1 1 abc", "hexadecimal");
	bad("x TLSA 3 1 1", "at least 4");
	bad("x DS 70000 5 1 00", "key tag");
	bad("x NAPTR 1 2 S", "takes 6 fields");
	bad("@ DS 1 5 1 00", "parent zone");
}
END_TEST

START_TEST(test_svcb_https)
{
	/* RFC 9460 appendix D.2's figure 5 and 7 shapes. */
	ok("a HTTPS 1 . alpn=h2,h3 port=8443");
	RD_IS("a.lab.test.", DNS_T_HTTPS, 0, 1, 0, 0, 1, 0, 6, 2, 'h', '2', 2,
	      'h', '3', 0, 3, 0, 2, 0x20, 0xfb);
	/* Keys in any order come out sorted; mandatory lists its keys
	 * sorted; a quoted value after '='; no-default-alpn is empty. */
	ok("b SVCB 16 foo.example.org. ipv6hint=2001:db8::1 "
	   "mandatory=ipv4hint,alpn alpn=\"f\\\\oo\\,bar,h2\" "
	   "ipv4hint=192.0.2.1,192.0.2.2 no-default-alpn key65333=ex");
	RD_IS("b.lab.test.", DNS_T_SVCB, 0, 16, 3, 'f', 'o', 'o', 7, 'e', 'x',
	      'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
	      0, 0, 0, 4, 0, 1, 0, 4,			/* mandatory */
	      0, 1, 0, 12, 8, 'f', '\\', 'o', 'o', ',', 'b', 'a', 'r', 2, 'h',
	      '2',					/* alpn */
	      0, 2, 0, 0,				/* no-default-alpn */
	      0, 4, 0, 8, 192, 0, 2, 1, 192, 0, 2, 2, /* ipv4hint */
	      0, 6, 0, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	      0, 0, 1,					/* ipv6hint */
	      0xff, 0x35, 0, 2, 'e', 'x');
	ok("e HTTPS 1 . ech=AAEC");
	RD_IS("e.lab.test.", DNS_T_HTTPS, 0, 1, 0, 0, 5, 0, 3, 0, 1, 2);
	bad("x SVCB 1 . port=1 port=2", "twice");
	bad("x SVCB 1 . mandatory=port", "absent");
	bad("x SVCB 1 . mandatory=mandatory", "distinct keys");
	bad("x SVCB 1 . colour=red", "unknown key");
	bad("x SVCB 1 . key65535=x", "unknown key");
	bad("x SVCB 1 . port=99999", "port");
	bad("x SVCB 1 . ipv4hint=fd00::1", "IPv4");
	bad("x SVCB 1 . no-default-alpn=x", "no value");
	bad("x SVCB 1 . alpn=h2,,h3", "comma-separated");
	bad("x SVCB 1 . ech=AAE", "base64");
}
END_TEST

START_TEST(test_generic_rdata)
{
	ok("g TYPE65534 \\# 4 0a000001");
	RD_IS("g.lab.test.", 65534, 10, 0, 0, 1);
	ok("e CLASS1 TYPE731 \\# 0");
	ck_assert_uint_eq(only("e.lab.test.", 731)->rdlen, 0);
	/* A known type in the generic form: valid RDATA of the type. */
	ok("a TYPE1 \\# 4 0A000002");
	RD_IS("a.lab.test.", DNS_T_A, 10, 0, 0, 2);
	ok("m MX \\# 6 000a 026d7800");
	RD_IS("m.lab.test.", DNS_T_MX, 0, 10, 2, 'm', 'x', 0);
	bad("x A \\# 3 0a0000", "not valid for type A");
	bad("x CNAME \\# 2 0561", "not valid for type CNAME");
	/* No name at all: every answer would read a name that is not there. */
	bad("x CNAME \\# 0", "not valid for type CNAME");
	bad("x NS \\# 0", "not valid for type NS");
	bad("x PTR \\# 0", "not valid for type PTR");
	bad("x TYPE65534 \\# 4 0a00", "length 4 but 2 bytes");
	bad("x TYPE65534 \\# 1 0g", "hexadecimal");
	bad("x TYPE65534 00", "has no presentation form");
	bad("x TYPE65536 \\# 0", "unknown or unsupported type");
	bad("x TYPE255 \\# 0", "cannot be stored");
	bad("x CLASS3 A 10.0.0.1", "only class IN");
}
END_TEST

/* ---- Master files ------------------------------------------------------------ */

static char reports[4096];

static void collect(void *arg, const char *msg)
{
	(void)arg;
	strncat(reports, msg, sizeof(reports) - strlen(reports) - 2);
	strcat(reports, "\n");
}

static int text(const char *t, const char *incdir)
{
	struct dns_zonefile zf = {.default_ttl = 3600,
				  .include_dir = incdir,
				  .report = collect};

	reports[0] = 0;
	return dns_zonefile_parse(z, "t.zone", t, strlen(t), &zf);
}

static void reported(const char *what)
{
	ck_assert_msg(strstr(reports, what) != NULL, "\"%s\" not in: %s", what,
		      reports);
}

START_TEST(test_master_file_syntax)
{
	static const char zone[] =
		"; a comment line\n"
		"$TTL 1h ; default from here\n"
		"@ IN SOA ns1 hostmaster ( 7 ; serial\n"
		"         3600 600\n"
		"   86400 60 )\n"
		"\tIN NS ns1 ; owner of the line before: the apex\n"
		"ns1 300 A 10.0.0.1\n"
		"  AAAA fd00::1\n"
		"$ORIGIN sub\n"
		"www A 10.0.0.2\n"
		"$ORIGIN lab.test.\n"
		"t TXT \"a;b (c)\" \"quote\\\"d\" semi\\;colon sp\\032ace\n"
		"x\\.y A 10.0.0.3\n"
		"abs.lab.test. 5 IN A 10.0.0.4\r\n"
		"$TTL 120\n"
		"late A 10.0.0.5";
	static const uint8_t txt[] = {7, 'a', ';', 'b', ' ', '(', 'c', ')', 7,
				      'q', 'u', 'o', 't', 'e', '"', 'd', 10,
				      's', 'e', 'm', 'i', ';', 'c', 'o', 'l',
				      'o', 'n', 6, 's', 'p', ' ', 'a', 'c',
				      'e'};
	uint8_t n[DNS_NAME_MAX];

	ck_assert_msg(text(zone, NULL) == 0, "%s", reports);
	ck_assert_uint_eq(dns_zone_neg_ttl(z), 60);
	ck_assert_uint_eq(rr_of("lab.test.", DNS_T_SOA)->ttl, 3600);
	ck_assert_uint_eq(rr_of("lab.test.", DNS_T_NS)->ttl, 3600);
	ck_assert_uint_eq(rr_of("ns1.lab.test.", DNS_T_A)->ttl, 300);
	ck_assert_uint_eq(rr_of("ns1.lab.test.", DNS_T_AAAA)->ttl, 3600);
	ck_assert_uint_eq(rr_of("www.sub.lab.test.", DNS_T_A)->rdata[3], 2);
	RD_IS("t.lab.test.", DNS_T_TXT, 7, 'a', ';', 'b', ' ', '(', 'c', ')',
	      7, 'q', 'u', 'o', 't', 'e', '"', 'd', 10, 's', 'e', 'm', 'i',
	      ';', 'c', 'o', 'l', 'o', 'n', 6, 's', 'p', ' ', 'a', 'c', 'e');
	(void)txt;
	ck_assert_int_eq(dns_name_from_text("x\\.y.lab.test.", 14, NULL, n,
					    NULL, 0),
			 0);
	ck_assert_uint_eq(n[0], 3); /* one label "x.y" */
	ck_assert_ptr_nonnull(dns_node_rrset(dns_zone_find(z, n), DNS_T_A));
	ck_assert_uint_eq(rr_of("abs.lab.test.", DNS_T_A)->ttl, 5);
	ck_assert_uint_eq(rr_of("late.lab.test.", DNS_T_A)->ttl, 120);
	ck_assert_int_eq(dns_zone_finish(z, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_master_file_errors_have_lines)
{
	ck_assert_int_eq(text("@ SOA ns1 hm 1 1 1 1 1\n"
			      "\n"
			      "x 5q A 10.0.0.1\n"
			      "y A 10.0.0.300\n"
			      "$TTL forever\n"
			      "$ORIGIN a..b\n"
			      "$GENERATE 1-2 x$ A 10.0.0.$\n"
			      "z TXT \"open\n"
			      "w MX 10 ( mx1\n"
			      "   ( nested ) )\n"
			      ")\n",
			      NULL),
			 -1);
	reported("t.zone:3: bad TTL \"5q\"");
	reported("t.zone:4: \"10.0.0.300\" is not an IPv4 address");
	reported("t.zone:5: bad TTL \"forever\"");
	reported("t.zone:6: $ORIGIN: empty label");
	reported("t.zone:7: unknown directive \"$GENERATE\"");
	reported("t.zone:8: quoted string not closed on its line");
	reported("t.zone:10: nested '('");
}
END_TEST

START_TEST(test_master_file_more_errors)
{
	ck_assert_int_eq(text("  A 10.0.0.1\n", NULL), -1);
	reported("t.zone:1: no owner");
	ck_assert_int_eq(text("a A ( 10.0.0.1\n\n", NULL), -1);
	reported("t.zone:1: '(' not closed");
	ck_assert_int_eq(text("a A 10.0.0.1 )\n", NULL), -1);
	reported("t.zone:1: ')' without '('");
	ck_assert_int_eq(text("a\n", NULL), -1);
	reported("t.zone:1: a record is: owner");
	ck_assert_int_eq(text("$INCLUDE x.zone\n", NULL), -1);
	reported("t.zone:1: $INCLUDE is not allowed here");
	{
		static char big[DNS_LINE_MAX + 40];

		memset(big, 'a', sizeof(big) - 1);
		memcpy(big, "ok A 10.0.0.1\n", 14);
		ck_assert_int_eq(text(big, NULL), -1);
		reported("t.zone:2: line longer than");
	}
	/* Past DNS_ZONEFILE_ERRORS problems the file is given up. */
	{
		char many[1024] = "";

		for (int i = 0; i < 30; i++)
			strcat(many, "x 5q A 1.2.3.4\n");
		ck_assert_int_eq(text(many, NULL), -1);
		ck_assert_ptr_null(strstr(reports, "t.zone:11:"));
		reported("t.zone:10:");
	}
}
END_TEST

START_TEST(test_master_file_nul_byte)
{
	static const char t[] = "a A 10.0.0.1\nb\0 A 10.0.0.2\n";
	struct dns_zonefile zf = {.default_ttl = 60, .report = collect};

	reports[0] = 0;
	ck_assert_int_eq(dns_zonefile_parse(z, "t.zone", t, sizeof(t) - 1, &zf),
			 -1);
	reported("t.zone:2: a NUL byte");
}
END_TEST

static char tmpdir[64];

static void put_file(const char *rel, const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
}

static int load(const char *rel)
{
	char path[256];
	struct dns_zonefile zf = {.default_ttl = 3600, .report = collect};

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	reports[0] = 0;
	return dns_zonefile_load(z, path, &zf);
}

static void rm_rf(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_include)
{
	char path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tapir-zone.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/in", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/in/sub", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	put_file("outside.zone", "evil A 10.6.6.6\n");
	put_file("in/sub/b.zone", "b A 10.0.0.2\n$ORIGIN x\nc A 10.0.0.3\n");
	put_file("in/main.zone",
		 "$ORIGIN lab.test.\n"
		 "@ SOA ns1 hm 1 1 1 1 1\n"
		 "$INCLUDE sub/b.zone inc\n"
		 "d A 10.0.0.4 ; origin back to lab.test.\n");
	ck_assert_msg(load("in/main.zone") == 0, "%s", reports);
	ck_assert_uint_eq(rr_of("b.inc.lab.test.", DNS_T_A)->rdata[3], 2);
	ck_assert_uint_eq(rr_of("c.x.inc.lab.test.", DNS_T_A)->rdata[3], 3);
	ck_assert_uint_eq(rr_of("d.lab.test.", DNS_T_A)->rdata[3], 4);

	/* Ways out of the directory, each refused with its line. */
	snprintf(path, sizeof(path), "%s/in/link.zone", tmpdir);
	ck_assert_int_eq(symlink("../outside.zone", path), 0);
	snprintf(path, sizeof(path), "%s/in/sub/../../outside.zone", tmpdir);
	{
		char t[1024];

		snprintf(t, sizeof(t),
			 "$INCLUDE ../outside.zone\n"
			 "$INCLUDE sub/../../outside.zone\n"
			 "$INCLUDE %s/outside.zone\n"
			 "$INCLUDE link.zone\n"
			 "$INCLUDE nosuch.zone\n"
			 "$INCLUDE %s\n"
			 "$INCLUDE self.zone\n",
			 tmpdir, path);
		put_file("in/esc.zone", t);
	}
	put_file("in/self.zone", "$INCLUDE self.zone\n");
	put_file("in/empty.zone", "; nothing\n");
	{
		/* 300 includes of an empty file: 256 are read. */
		char t[8192] = "";

		for (int i = 0; i < 300; i++)
			strcat(t, "$INCLUDE empty.zone\n");
		put_file("in/fan.zone", t);
	}
	ck_assert_int_eq(load("in/esc.zone"), -1);
	reported("esc.zone:1: $INCLUDE ../outside.zone: \"..\" leaves");
	reported("esc.zone:2: $INCLUDE sub/../../outside.zone: \"..\" leaves");
	reported("esc.zone:3: $INCLUDE /tmp/tapir-zone.");
	reported("outside the zone file's directory");
	reported("esc.zone:4: $INCLUDE link.zone: outside the zone file's");
	reported("esc.zone:5: $INCLUDE nosuch.zone: No such file");
	reported("esc.zone:6: $INCLUDE");
	reported("self.zone:1: $INCLUDE nested more than 8 deep");
	ck_assert_ptr_null(strstr(reports, "evil"));
	ck_assert_int_eq(load("in/fan.zone"), -1);
	reported("fan.zone:257: more than 256 $INCLUDEs");
	ck_assert_ptr_null(strstr(reports, "fan.zone:256:"));
	/* An absolute path inside the directory is fine. */
	{
		char t[512];

		snprintf(t, sizeof(t), "$INCLUDE %s/in/sub/b.zone abs\n",
			 tmpdir);
		put_file("in/abs.zone", t);
	}
	ck_assert_msg(load("in/abs.zone") == 0, "%s", reports);
	ck_assert_uint_eq(rr_of("b.abs.lab.test.", DNS_T_A)->rdata[3], 2);
	ck_assert_int_eq(load("in/nosuch.zone"), -1);
	reported("nosuch.zone: cannot open");
	rm_rf();
}
END_TEST


START_TEST(test_reread_changed_files)
{
	struct dns_zones zs;
	uint8_t n[DNS_NAME_MAX];
	struct dns_zonefile zf = {.report = collect};
	const struct dns_zone *cur;
	char path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tapir-zone.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	put_file("r.zone", "@ SOA ns1 hm 1 1 1 1 1\n$INCLUDE inc.zone\n");
	put_file("inc.zone", "a A 10.0.0.1\n");
	ck_assert_msg(load("r.zone") == 0, "%s", reports);
	ok("inline A 10.0.0.9");
	dns_zones_init(&zs);
	ck_assert_int_eq(dns_zones_add(&zs, z), 0);
	ck_assert_int_eq(dns_zones_index(&zs), 0);
	z = NULL;
	ck_assert_int_eq(dns_zones_reread(&zs, &zf), 0); /* unchanged */

	/* The included file changes: the zone is read again, the inline
	 * record with it, and the address index follows. */
	put_file("inc.zone", "b A 10.0.0.2 ; longer\n");
	reports[0] = 0;
	ck_assert_msg(dns_zones_reread(&zs, &zf) == 1, "%s", reports);
	cur = zs.z[0];
	dns_name_from_text("b.lab.test.", 11, NULL, n, NULL, 0);
	ck_assert_ptr_nonnull(dns_node_rrset(dns_zone_find(cur, n), DNS_T_A));
	dns_name_from_text("a.lab.test.", 11, NULL, n, NULL, 0);
	ck_assert_ptr_null(dns_zone_find(cur, n));
	dns_name_from_text("inline.lab.test.", 16, NULL, n, NULL, 0);
	ck_assert_ptr_nonnull(dns_node_rrset(dns_zone_find(cur, n), DNS_T_A));
	ck_assert_ptr_nonnull(dns_zones_addr(&zs, (const uint8_t *)"\12\0\0\2", 4));
	ck_assert_ptr_null(dns_zones_addr(&zs, (const uint8_t *)"\12\0\0\1", 4));

	/* Broken: reported with its line, the zone stays; told once. */
	put_file("r.zone", "@ SOA ns1 hm 1 1 1 1 1\n$INCLUDE inc.zone\nx 5q A 1.2.3.4\n");
	reports[0] = 0;
	ck_assert_int_eq(dns_zones_reread(&zs, &zf), -1);
	reported("r.zone:3: bad TTL \"5q\"");
	ck_assert_ptr_eq(zs.z[0], cur);
	ck_assert_int_eq(dns_zones_reread(&zs, &zf), 0);
	/* Gone: the same; then back, repaired. */
	snprintf(path, sizeof(path), "%s/r.zone", tmpdir);
	ck_assert_int_eq(unlink(path), 0);
	reports[0] = 0;
	ck_assert_int_eq(dns_zones_reread(&zs, &zf), -1);
	reported("r.zone: cannot open");
	ck_assert_int_eq(dns_zones_reread(&zs, &zf), 0);
	put_file("r.zone", "@ SOA ns1 hm 2 1 1 1 1\nc A 10.0.0.3\n");
	reports[0] = 0;
	ck_assert_msg(dns_zones_reread(&zs, &zf) == 1, "%s", reports);
	dns_name_from_text("c.lab.test.", 11, NULL, n, NULL, 0);
	ck_assert_ptr_nonnull(dns_node_rrset(dns_zone_find(zs.z[0], n), DNS_T_A));
	dns_zones_free(&zs);
	rm_rf();
}
END_TEST

/* ---- Cuts and wildcards ---------------------------------------------------- */

static enum dns_match match(const char *name, uint16_t qtype,
			    const char *node_name)
{
	uint8_t n[DNS_NAME_MAX];
	const struct dns_node *node;
	enum dns_match m;

	dns_name_from_text(name, strlen(name), NULL, n, NULL, 0);
	m = dns_zone_match(z, n, qtype, &node);
	if (node_name) {
		char got[1100];

		ck_assert_ptr_nonnull(node);
		dns_name_to_text(node->name, got, sizeof(got));
		ck_assert_msg(strcasecmp(got, node_name) == 0,
			      "%s: node %s, want %s", name, got, node_name);
	}
	return m;
}

static void wild_zone(void)
{
	ok("@ SOA ns1 hm 1 1 1 1 1");
	ok("@ NS ns1");
	ok("ns1 A 10.0.0.1");
	ok("* TXT \"apex wildcard\"");
	ok("*.w A 10.0.0.50");
	ok("one.w A 10.0.0.51");
	ok("deep.ent.w A 10.0.0.52"); /* ent.w: an empty non-terminal */
	ok("child NS ns.child");
	ok("ns.child A 10.0.0.60");
	ok("child DS 1 5 1 00");
	ok("*.cw CNAME ns1");
	ok("svc HTTPS 1 ns1 alpn=h2");
	ok("ns1 HTTPS 1 . alpn=h3");
}

START_TEST(test_wildcards_and_cuts)
{
	wild_zone();
	ck_assert_int_eq(match("x.w.lab.test.", DNS_T_A, "*.w.lab.test."),
			 DNS_MATCH_WILD);
	ck_assert_int_eq(match("a.b.w.lab.test.", DNS_T_A, "*.w.lab.test."),
			 DNS_MATCH_WILD);
	ck_assert_int_eq(match("one.w.lab.test.", DNS_T_TXT, "one.w.lab.test."),
			 DNS_MATCH_NODE);
	/* Below an existing name without a wildcard child: no match, even
	 * though *.lab.test exists higher up (RFC 4592 §2.2.1). */
	ck_assert_int_eq(match("x.one.w.lab.test.", DNS_T_A, "one.w.lab.test."),
			 DNS_MATCH_NONE);
	/* The empty non-terminal exists: NODATA, and it blocks *.w. */
	ck_assert_int_eq(match("ent.w.lab.test.", DNS_T_A, "ent.w.lab.test."),
			 DNS_MATCH_NODE);
	ck_assert_int_eq(match("x.ent.w.lab.test.", DNS_T_A, "ent.w.lab.test."),
			 DNS_MATCH_NONE);
	ck_assert_int_eq(match("other.lab.test.", DNS_T_A, "*.lab.test."),
			 DNS_MATCH_WILD);
	/* The wildcard's own name is an ordinary name; so is x.*.w. */
	ck_assert_int_eq(match("*.w.lab.test.", DNS_T_A, "*.w.lab.test."),
			 DNS_MATCH_NODE);
	ck_assert_int_eq(match("x.*.w.lab.test.", DNS_T_A, "*.w.lab.test."),
			 DNS_MATCH_NONE);
	/* Cuts: at and below, glue included; DS at the cut is ours. */
	ck_assert_int_eq(match("child.lab.test.", DNS_T_A, "child.lab.test."),
			 DNS_MATCH_CUT);
	ck_assert_int_eq(match("ns.child.lab.test.", DNS_T_A,
			       "child.lab.test."),
			 DNS_MATCH_CUT);
	ck_assert_int_eq(match("x.y.child.lab.test.", DNS_T_DS,
			       "child.lab.test."),
			 DNS_MATCH_CUT);
	ck_assert_int_eq(match("child.lab.test.", DNS_T_DS, "child.lab.test."),
			 DNS_MATCH_NODE);
	ck_assert_int_eq(match("lab.test.", DNS_T_NS, "lab.test."),
			 DNS_MATCH_NODE);
}
END_TEST

/* dns_answer on one query; the response's header words. */
struct ans {
	uint16_t flags, an, ns, ar;
	uint8_t msg[DNS_MSG_MAX];
	size_t len;
};

static void query(struct dns_zones *zs, const struct dns_chaos *ch,
		  const char *name, uint16_t type, uint16_t class,
		  struct ans *a)
{
	struct dns_ctx c = {zs, 1232, NULL, ch};
	uint8_t q[300] = {0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t ql = 12;
	struct dns_result r;

	dns_name_from_text(name, strlen(name), NULL, q + ql, NULL, 0);
	ql += dns_name_len(q + ql);
	q[ql++] = (uint8_t)(type >> 8);
	q[ql++] = (uint8_t)type;
	q[ql++] = (uint8_t)(class >> 8);
	q[ql++] = (uint8_t)class;
	a->len = dns_answer(&c, q, ql, false, a->msg, &r);
	ck_assert_uint_ge(a->len, 12);
	a->flags = (uint16_t)(a->msg[2] << 8 | a->msg[3]);
	a->an = (uint16_t)(a->msg[6] << 8 | a->msg[7]);
	a->ns = (uint16_t)(a->msg[8] << 8 | a->msg[9]);
	a->ar = (uint16_t)(a->msg[10] << 8 | a->msg[11]);
}

static bool contains(const struct ans *a, const void *p, size_t n)
{
	return memmem(a->msg, a->len, p, n) != NULL;
}

START_TEST(test_answers_through_cuts_and_wildcards)
{
	struct dns_zones zs;
	struct dns_chaos ch = {"9.9.9", NULL};
	static struct ans a;
	static const uint8_t glue[] = {0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4,
				       10, 0, 0, 60};
	static const uint8_t wild_a[] = {10, 0, 0, 50};
	static const uint8_t v[] = {0, 16, 0, 3, 0, 0, 0, 0, 0, 6, 5, '9',
				    '.', '9', '.', '9'};

	wild_zone();
	dns_zones_init(&zs);
	ck_assert_int_eq(dns_zones_add(&zs, z), 0);
	ck_assert_int_eq(dns_zones_index(&zs), 0);
	z = NULL;

	query(&zs, NULL, "www.child.lab.test.", DNS_T_A, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.flags & DNS_F_AA, 0);
	ck_assert_uint_eq(a.an, 0);
	ck_assert_uint_eq(a.ns, 1);
	ck_assert_uint_eq(a.ar, 1);
	ck_assert(contains(&a, glue, sizeof(glue)));

	query(&zs, NULL, "child.lab.test.", DNS_T_DS, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & DNS_F_AA, DNS_F_AA);
	ck_assert_uint_eq(a.an, 1);

	query(&zs, NULL, "x.y.w.lab.test.", DNS_T_A, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.flags & DNS_F_AA, DNS_F_AA);
	ck_assert_uint_eq(a.an, 1);
	ck_assert(contains(&a, wild_a, sizeof(wild_a)));
	/* The owner is the name asked: compressed to the question. */
	ck_assert_uint_eq(a.msg[a.len - 16], 0xc0);
	ck_assert_uint_eq(a.msg[a.len - 15], 12);

	query(&zs, NULL, "x.w.lab.test.", DNS_T_MX, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.an, 0);
	ck_assert_uint_eq(a.ns, 1); /* the SOA: NODATA */

	query(&zs, NULL, "x.one.w.lab.test.", DNS_T_A, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NXDOMAIN);
	query(&zs, NULL, "x.ent.w.lab.test.", DNS_T_A, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NXDOMAIN);
	query(&zs, NULL, "ent.w.lab.test.", DNS_T_A, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.an, 0);

	/* A wildcard CNAME: synthesized under the name asked, then
	 * followed to the A of its target. */
	query(&zs, NULL, "x.cw.lab.test.", DNS_T_A, DNS_C_IN, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.an, 2);
	{
		static const uint8_t cname_rr[] = {0xc0, 12, 0, 5, 0, 1};
		static const uint8_t ns1_a[] = {0, 4, 10, 0, 0, 1};

		ck_assert(contains(&a, cname_rr, sizeof(cname_rr)));
		ck_assert(contains(&a, ns1_a, sizeof(ns1_a)));
	}
	/* ANY at a wildcard: one RRset, under the name asked. */
	query(&zs, NULL, "q.w.lab.test.", DNS_T_ANY, DNS_C_IN, &a);
	ck_assert_uint_eq(a.an, 1);
	ck_assert(contains(&a, wild_a, sizeof(wild_a)));

	/* HTTPS: the addresses of its target in ADDITIONAL, of the owner
	 * for a target of "." (RFC 9460 §4.2). */
	query(&zs, NULL, "svc.lab.test.", DNS_T_HTTPS, DNS_C_IN, &a);
	ck_assert_uint_eq(a.an, 1);
	ck_assert_uint_eq(a.ar, 1);
	{
		static const uint8_t ns1_a[] = {0, 4, 10, 0, 0, 1};

		ck_assert(contains(&a, ns1_a, sizeof(ns1_a)));
	}
	query(&zs, NULL, "ns1.lab.test.", DNS_T_HTTPS, DNS_C_IN, &a);
	ck_assert_uint_eq(a.an, 1);
	ck_assert_uint_eq(a.ar, 1);

	/* CHAOS: version.bind answered, id.server (no id) refused, and
	 * all of it refused without the setting. */
	query(&zs, &ch, "version.bind.", DNS_T_TXT, DNS_C_CH, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.an, 1);
	ck_assert(contains(&a, v, sizeof(v)));
	query(&zs, &ch, "version.bind.", DNS_T_A, DNS_C_CH, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_NOERROR);
	ck_assert_uint_eq(a.an, 0);
	query(&zs, &ch, "id.server.", DNS_T_TXT, DNS_C_CH, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_REFUSED);
	query(&zs, &ch, "other.bind.", DNS_T_TXT, DNS_C_CH, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_REFUSED);
	query(&zs, NULL, "version.bind.", DNS_T_TXT, DNS_C_CH, &a);
	ck_assert_uint_eq(a.flags & 0xf, DNS_R_REFUSED);
	ck_assert_uint_eq(a.an, 0);
	dns_zones_free(&zs);
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
	tcase_add_test(tc, test_caa_sshfp_tlsa_ds_naptr);
	tcase_add_test(tc, test_svcb_https);
	tcase_add_test(tc, test_generic_rdata);
	tcase_add_test(tc, test_master_file_syntax);
	tcase_add_test(tc, test_master_file_errors_have_lines);
	tcase_add_test(tc, test_master_file_more_errors);
	tcase_add_test(tc, test_master_file_nul_byte);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_reread_changed_files);
	tcase_add_test(tc, test_wildcards_and_cuts);
	tcase_add_test(tc, test_answers_through_cuts_and_wildcards);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
