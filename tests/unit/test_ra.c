/*
 * The ra module: the RA wire format byte for byte, Router Solicitation
 * validation (RFC 4861 6.1.1), settings and check() errors, then the module
 * on a fake host with a fake clock: initial and periodic RA timing (6.2.4),
 * solicited RAs and the 3 s rate limit (6.2.6), modes to flags, default
 * prefixes and DNS servers from our addresses, MTU, reload deprecation
 * (RFC 4862 5.5.3 e) and the final RA (6.2.5).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>

#include "ra_fake.h"
#include "ra_wire.h"

/* ---- Reading what the module sent ---------------------------------------- */

/* The nth option of type in RA m (its first byte), or NULL. */
static const uint8_t *opt_find(const struct rf_sent *m, uint8_t type,
			       unsigned nth)
{
	size_t at = RA_HDR_LEN;

	while (m && at + 2 <= m->len) {
		size_t olen = (size_t)m->msg[at + 1] * 8;

		ck_assert_uint_gt(olen, 0);
		ck_assert_uint_le(at + olen, m->len);
		if (m->msg[at] == type && nth-- == 0)
			return m->msg + at;
		at += olen;
	}
	return NULL;
}

static unsigned opt_count(const struct rf_sent *m, uint8_t type)
{
	unsigned n = 0;

	while (opt_find(m, type, n))
		n++;
	return n;
}

/* The prefix information option for prefix (text) in m, or NULL. */
static const uint8_t *pio_for(const struct rf_sent *m, const char *prefix)
{
	struct tapir_addr a;
	const uint8_t *o;

	ck_assert(tapir_addr_parse(prefix, &a));
	for (unsigned i = 0; (o = opt_find(m, ND_OPT_PREFIX_INFO, i)); i++)
		if (!memcmp(o + 16, a.b, 16))
			return o;
	return NULL;
}

static const struct rf_sent *last_msg(void)
{
	ck_assert_uint_gt(rf.nsent, 0);
	return rf_msg(rf.nsent - 1);
}

/* ---- Wire format --------------------------------------------------------- */

START_TEST(test_build_bytes)
{
	static const uint8_t want[] = {
		/* type 134, code 0, checksum 0 (the host's), hop limit 64,
		 * M set, router lifetime 1800, reachable 0, retrans 0 */
		0x86, 0x00, 0x00, 0x00, 0x40, 0x80, 0x07, 0x08,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* source link-layer address */
		0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		/* MTU 1500 */
		0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
		/* prefix fd00::/64, L and A, valid 86400, preferred 14400 */
		0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80,
		0x00, 0x00, 0x38, 0x40, 0x00, 0x00, 0x00, 0x00,
		0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		/* RDNSS fd00::2, lifetime 1800 */
		0x19, 0x03, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
		0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
		/* DNSSL lab.test, lifetime 1800, padded to 24 bytes */
		0x1f, 0x03, 0x00, 0x00, 0x00, 0x00, 0x07, 0x08,
		0x03, 'l', 'a', 'b', 0x04, 't', 'e', 's',
		't', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 2};
	struct ra_prefix p = {.len = 64, .onlink = true, .autonomous = true,
			      .valid = 86400, .preferred = 14400};
	struct tapir_addr dns;
	uint8_t dnssl[64], buf[512];
	size_t dlen = 0, len;
	struct ra_adv adv = {.hop_limit = 64, .managed = true,
			     .router_lifetime = 1800, .mac = mac, .mtu = 1500,
			     .prefixes = &p, .nprefixes = 1, .rdnss = &dns,
			     .nrdnss = 1, .rdnss_lifetime = 1800,
			     .dnssl = dnssl, .dnssl_lifetime = 1800};

	ck_assert(tapir_addr_parse("fd00::", &p.prefix));
	ck_assert(tapir_addr_parse("fd00::2", &dns));
	ck_assert_int_eq(ra_dnssl_encode("lab.test.", dnssl, &dlen,
					 sizeof(dnssl)), 0);
	adv.dnssl_len = dlen;
	len = ra_build(&adv, buf, sizeof(buf));
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	/* Too small a buffer: nothing, not a truncated message. */
	ck_assert_uint_eq(ra_build(&adv, buf, sizeof(want) - 1), 0);
	/* The bare header, the flags alone. */
	adv = (struct ra_adv){.other = true};
	ck_assert_uint_eq(ra_build(&adv, buf, sizeof(buf)), RA_HDR_LEN);
	ck_assert_uint_eq(buf[5], RA_FLAG_OTHER);
}
END_TEST

START_TEST(test_build_preferred_capped)
{
	struct ra_prefix p = {.len = 48, .onlink = true, .valid = 100,
			      .preferred = 500};
	struct ra_adv adv = {.prefixes = &p, .nprefixes = 1};
	uint8_t buf[64];

	ck_assert_uint_eq(ra_build(&adv, buf, sizeof(buf)), 48);
	ck_assert_uint_eq(buf[18], 48);
	ck_assert_uint_eq(buf[19], PIO_FLAG_ONLINK);
	ck_assert_uint_eq(tapir_get_be32(buf + 20), 100);
	ck_assert_uint_eq(tapir_get_be32(buf + 24), 100); /* not 500 */
}
END_TEST

START_TEST(test_dnssl_encode)
{
	uint8_t out[300];
	size_t len = 0;
	char long_label[80];

	ck_assert_int_eq(ra_dnssl_encode("a.b", out, &len, sizeof(out)), 0);
	ck_assert_int_eq(ra_dnssl_encode("x_y-1", out, &len, sizeof(out)), 0);
	ck_assert_uint_eq(len, 5 + 7);
	ck_assert_mem_eq(out, "\001a\001b\000\005x_y-1\000", 12);
	ck_assert_int_eq(ra_dnssl_encode("", out, &len, sizeof(out)), -1);
	ck_assert_int_eq(ra_dnssl_encode(".", out, &len, sizeof(out)), -1);
	ck_assert_int_eq(ra_dnssl_encode("a..b", out, &len, sizeof(out)), -1);
	ck_assert_int_eq(ra_dnssl_encode(".a", out, &len, sizeof(out)), -1);
	ck_assert_int_eq(ra_dnssl_encode("a b", out, &len, sizeof(out)), -1);
	memset(long_label, 'x', 64);
	long_label[64] = '\0';
	ck_assert_int_eq(ra_dnssl_encode(long_label, out, &len, sizeof(out)),
			 -1);
	long_label[63] = '\0';
	ck_assert_int_eq(ra_dnssl_encode(long_label, out, &len, sizeof(out)),
			 0);
	/* Does not fit: refused, len unchanged. */
	len = 0;
	ck_assert_int_eq(ra_dnssl_encode("lab.test", out, &len, 9), -1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(ra_dnssl_encode("lab.test", out, &len, 10), 0);
}
END_TEST

START_TEST(test_prefix_parse)
{
	struct ra_prefix p;
	char err[160];

	ck_assert_int_eq(ra_prefix_parse("fd00::/64", &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.len, 64);
	ck_assert_int_eq(ra_prefix_parse("2001:db8::/32", &p, err, sizeof(err)),
			 0);
	ck_assert_int_eq(ra_prefix_parse("fd00::2/64", &p, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "host bits") && strstr(err, "fd00::/64"),
		      "%s", err);
	ck_assert_int_eq(ra_prefix_parse("fd00::", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(ra_prefix_parse("fd00::/0", &p, err, sizeof(err)), -1);
	ck_assert_int_eq(ra_prefix_parse("fd00::/129", &p, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(ra_prefix_parse("10.0.0.0/24", &p, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(ra_prefix_parse("fe80::/64", &p, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(ra_prefix_parse("ff02::/64", &p, err, sizeof(err)),
			 -1);
	ck_assert_int_eq(ra_prefix_parse("fd00::/6x", &p, err, sizeof(err)),
			 -1);
}
END_TEST

/* ---- Router Solicitation validation (RFC 4861 6.1.1) -------------------- */

START_TEST(test_rs_check)
{
	static const uint8_t bare[] = {133, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t slla[] = {133, 0, 0, 0, 0, 0, 0, 0,
				       1,   1, 2, 0, 0, 0, 0, 1};
	static const uint8_t unknown_opt[] = {133, 0, 0, 0, 0, 0, 0, 0,
					      99,  2, 0, 0, 0, 0, 0, 0,
					      0,   0, 0, 0, 0, 0, 0, 0};
	static const uint8_t zero_opt[] = {133, 0, 0, 0, 0, 0, 0, 0,
					   1,   0, 2, 0, 0, 0, 0, 1};
	static const uint8_t overrun[] = {133, 0, 0, 0, 0, 0, 0, 0,
					  1,   2, 2, 0, 0, 0, 0, 1};
	static const uint8_t half_opt[] = {133, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t code1[] = {133, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t ra[] = {134, 0, 0, 0, 0, 0, 0, 0};

	ck_assert_int_eq(ra_rs_check(bare, 8, 255, false), RS_OK);
	ck_assert_int_eq(ra_rs_check(slla, 16, 255, false), RS_OK);
	ck_assert_int_eq(ra_rs_check(unknown_opt, 24, 255, false), RS_OK);
	ck_assert_int_eq(ra_rs_check(bare, 8, 255, true), RS_OK);
	ck_assert_int_eq(ra_rs_check(slla, 16, 255, true), RS_UNSPEC_SLLA);
	ck_assert_int_eq(ra_rs_check(bare, 8, 254, false), RS_BAD_HOP_LIMIT);
	ck_assert_int_eq(ra_rs_check(bare, 7, 255, false), RS_SHORT);
	ck_assert_int_eq(ra_rs_check(bare, 0, 255, false), RS_SHORT);
	ck_assert_int_eq(ra_rs_check(code1, 8, 255, false), RS_BAD_CODE);
	ck_assert_int_eq(ra_rs_check(zero_opt, 16, 255, false), RS_BAD_OPTION);
	ck_assert_int_eq(ra_rs_check(overrun, 16, 255, false), RS_BAD_OPTION);
	ck_assert_int_eq(ra_rs_check(half_opt, 9, 255, false), RS_BAD_OPTION);
	ck_assert_int_eq(ra_rs_check(ra, 8, 255, false), RS_NOT_RS);
	ck_assert_str_eq(ra_rs_verdict_name(RS_UNSPEC_SLLA),
			 "unspecified source with a link-layer address option");
}
END_TEST

/* ---- Settings ------------------------------------------------------------ */

static void setup(void)
{
	rf_reset();
}

static void teardown(void)
{
	rf_section_free();
}

/* check() of text: the number of problems, the first in rf.errors[0]. */
static unsigned check_text(const char *text)
{
	config_setting_t *s = rf_section(text);

	ck_assert_ptr_nonnull(s);
	rf_check(s);
	return rf.nerrors;
}

START_TEST(test_check_errors)
{
	ck_assert_uint_eq(check_text(""), 0);
	ck_assert_uint_eq(check_text("mode = \"stateless\";\n"
				     "prefixes = [ \"fd00::/64\", \"2001:db8:1::/48\" ];\n"
				     "rdnss = \"fd00::53\"; dnssl = [ \"lab.test\" ];\n"
				     "min_interval = 3; max_interval = 4;\n"
				     "router_lifetime = 1800; mtu = 1280;\n"),
			  0);
	ck_assert_uint_eq(check_text("mode = \"dhcp\";"), 1);
	ck_assert_msg(strstr(rf.errors[0], "line 1:") &&
			      strstr(rf.errors[0], "\"dhcp\" is not ra-only"),
		      "%s", rf.errors[0]);
	ck_assert_uint_eq(check_text("\nprefixes = [ \"fd00::/64\",\n"
				     "  \"fd00::1/64\" ];"),
			  1);
	ck_assert_msg(strstr(rf.errors[0], "line 3:") &&
			      strstr(rf.errors[0], "host bits"),
		      "%s", rf.errors[0]);
	ck_assert_uint_eq(check_text("prefixes = [ \"fd00::/64\", \"fd00::/64\" ];"), 1);
	ck_assert_msg(strstr(rf.errors[0], "listed twice"), "%s", rf.errors[0]);
	ck_assert_uint_eq(check_text("min_interval = 451; max_interval = 600;"),
			  1);
	ck_assert_msg(strstr(rf.errors[0], "3/4"), "%s", rf.errors[0]);
	ck_assert_uint_eq(check_text("min_interval = 450; max_interval = 600;"),
			  0);
	ck_assert_uint_eq(check_text("router_lifetime = 599;"), 1);
	ck_assert_msg(strstr(rf.errors[0], "router_lifetime 599"), "%s",
		      rf.errors[0]);
	ck_assert_uint_eq(check_text("router_lifetime = 9001;"), 1);
	ck_assert_uint_eq(check_text("valid_lifetime = 10; preferred_lifetime = 11;"),
			  1);
	ck_assert_uint_eq(check_text("mtu = 1279;"), 1);
	ck_assert_uint_eq(check_text("mtu = 0;"), 0);
	ck_assert_uint_eq(check_text("mtu = -2;"), 1);
	ck_assert_uint_eq(check_text("rdnss = [ \"10.0.0.2\", \"ff02::1\", \"::\" ];"),
			  3);
	ck_assert_uint_eq(check_text("dnssl = [ \"ok.test\", \"bad..test\" ];"), 1);
	ck_assert_msg(strstr(rf.errors[0], "bad..test"), "%s", rf.errors[0]);
	ck_assert_uint_eq(check_text("prefix = \"fd00::/64\";"), 1); /* typo */
}
END_TEST

/* ---- The module on the fake host ---------------------------------------- */

START_TEST(test_init_binds)
{
	void *st = rf_start("");

	ck_assert_ptr_nonnull(st);
	ck_assert(rf.bound);
	ck_assert_uint_eq(rf.bound_type, 133);
	ck_assert(rf_joined("ff02::2"));
	/* Router lifetime 0 by default: not a router. */
	ck_assert(!rf.router);
	ck_assert_uint_eq(rf.router_calls, 0);
	tapir_module.fini(st);
	ck_assert(!rf.bound);
	ck_assert(!rf_joined("ff02::2"));
	ck_assert_uint_eq(rf_timers_armed(), 0);

	st = rf_start("router_lifetime = 1800;");
	ck_assert_ptr_nonnull(st);
	ck_assert(rf.router);
	tapir_module.fini(st);
	ck_assert(!rf.router);
}
END_TEST

START_TEST(test_init_needs_api4)
{
	struct tapir_host_api old = rf_api;
	config_setting_t *s = rf_section("");

	ck_assert_int_eq(rf_check(s), 0);
	old.size = offsetof(struct tapir_host_api, if_link);
	ck_assert_ptr_null(tapir_module.init(NULL, &old, rf_conf()));
	ck_assert_msg(strstr(rf.last_log, "host API 4"), "%s", rf.last_log);
	ck_assert(!rf.bound);
}
END_TEST

START_TEST(test_initial_ras)
{
	void *st = rf_start("");
	uint64_t t0 = rf.now;

	rf_advance(500);
	ck_assert_uint_eq(rf.nsent, 1);
	ck_assert_uint_le(rf_msg(0)->at - t0, 500);
	ck_assert_str_eq(tapir_addr_format(&rf_msg(0)->dst,
					   (char[TAPIR_ADDR_STRLEN]){0}),
			 "ff02::1");
	ck_assert(!rf_msg(0)->to_mac);
	/* Two more at most 16 s apart (RFC 4861 6.2.4) though the interval
	 * is 200..600 s, then the configured interval. */
	rf_advance(16000);
	ck_assert_uint_eq(rf.nsent, 2);
	ck_assert_uint_eq(rf_msg(1)->at - rf_msg(0)->at, 16000);
	rf_advance(16000);
	ck_assert_uint_eq(rf.nsent, 3);
	ck_assert_uint_eq(rf_msg(2)->at - rf_msg(1)->at, 16000);
	rf_advance(199999);
	ck_assert_uint_eq(rf.nsent, 3);
	rf_advance(400001);
	ck_assert_uint_eq(rf.nsent, 4);
	for (unsigned i = 0; i < 20; i++)
		rf_advance(600000);
	ck_assert_uint_ge(rf.nsent, 24);
	for (unsigned i = 4; i < rf.nsent; i++) {
		uint64_t gap = rf_msg(i)->at - rf_msg(i - 1)->at;

		ck_assert_uint_ge(gap, 200000);
		ck_assert_uint_le(gap, 600000);
	}
	ck_assert_uint_eq(rf_counter("ra_unsolicited"), rf.nsent);
	ck_assert_uint_eq(rf_counter("ra_solicited"), 0);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_fast_intervals)
{
	/* An interval under 16 s is not stretched. */
	void *st = rf_start("min_interval = 3; max_interval = 4;");

	rf_advance(500);
	ck_assert_uint_eq(rf.nsent, 1);
	for (unsigned i = 0; i < 10; i++)
		rf_advance(4000);
	ck_assert_uint_ge(rf.nsent, 11);
	ck_assert_uint_le(rf.nsent, 14);
	for (unsigned i = 1; i < rf.nsent; i++) {
		uint64_t gap = rf_msg(i)->at - rf_msg(i - 1)->at;

		ck_assert_uint_ge(gap, 3000);
		ck_assert_uint_le(gap, 4000);
	}
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_solicited)
{
	void *st = rf_start("");
	uint64_t t;

	rf_advance(20000); /* the first two initial RAs */
	ck_assert_uint_eq(rf.nsent, 2);
	t = rf.now;
	rf_rs();
	ck_assert_uint_eq(rf_counter("rs_received"), 1);
	rf_advance(500);
	ck_assert_uint_eq(rf.nsent, 3);
	ck_assert_uint_le(rf_msg(2)->at - t, 500);
	ck_assert_uint_eq(rf_counter("ra_solicited"), 1);
	ck_assert_uint_eq(rf_counter("rate_limited"), 0);

	/* 1 s later: the answer waits for 3 s after the last RA plus up to
	 * 500 ms (RFC 4861 6.2.6). */
	rf_advance(500);
	rf_rs();
	rf_advance(rf_msg(2)->at + 2999 - rf.now);
	ck_assert_uint_eq(rf.nsent, 3);
	rf_advance(rf_msg(2)->at + 3500 - rf.now);
	ck_assert_uint_eq(rf.nsent, 4);
	ck_assert_uint_ge(rf_msg(3)->at - rf_msg(2)->at, 3000);
	ck_assert_uint_le(rf_msg(3)->at - rf_msg(2)->at, 3500);
	ck_assert_uint_eq(rf_counter("rate_limited"), 1);
	ck_assert_uint_eq(rf_counter("ra_solicited"), 2);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_rs_flood_rate_limited)
{
	void *st = rf_start("");
	unsigned before;

	rf_advance(1000);
	before = rf.nsent;
	/* 1000 solicitations in 30 s: at most one RA per 3 s. */
	for (unsigned i = 0; i < 1000; i++) {
		rf_rs();
		rf_advance(30);
	}
	rf_advance(4000);
	ck_assert_uint_le(rf.nsent - before, 11);
	ck_assert_uint_ge(rf.nsent - before, 9);
	for (unsigned i = 1; i < rf.nsent; i++)
		ck_assert_uint_ge(rf_msg(i)->at - rf_msg(i - 1)->at, 3000);
	ck_assert_uint_eq(rf_counter("rs_received"), 1000);
	ck_assert_uint_ge(rf_counter("rate_limited"), 1000 - 11);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_rs_invalid_counted)
{
	static const uint8_t slla[] = {133, 0, 0, 0, 0, 0, 0, 0,
				       1,   1, 2, 0, 0, 0, 0, 1};
	void *st = rf_start("");
	unsigned before;

	rf_advance(20000);
	before = rf.nsent;
	rf_rx("::", 255, slla, sizeof(slla));     /* 6.1.1: invalid */
	rf_rx("fe80::1", 64, slla, sizeof(slla)); /* hop limit */
	rf_rx("fe80::1", 255, slla, 7);           /* short */
	rf_advance(1000);
	ck_assert_uint_eq(rf.nsent, before);
	ck_assert_uint_eq(rf_counter("rs_received"), 3);
	ck_assert_uint_eq(rf_counter("rs_invalid"), 3);
	/* The unspecified source without the option is answered. */
	rf_rx("::", 255, slla, 8);
	rf_advance(500);
	ck_assert_uint_eq(rf.nsent, before + 1);
	ck_assert_uint_eq(rf_counter("rs_invalid"), 3);
	tapir_module.fini(st);
}
END_TEST

/* The header flags and the prefix flags of the first RA in mode m. */
static void mode_flags(const char *mode, uint8_t *hdr, uint8_t *pio)
{
	char text[64];
	void *st;

	rf_reset();
	snprintf(text, sizeof(text), "mode = \"%s\";", mode);
	st = rf_start(text);
	ck_assert_ptr_nonnull(st);
	rf_advance(500);
	*hdr = last_msg()->msg[5];
	ck_assert_ptr_nonnull(pio_for(last_msg(), "fd00::"));
	*pio = pio_for(last_msg(), "fd00::")[3];
	tapir_module.fini(st);
}

START_TEST(test_modes)
{
	uint8_t hdr, pio;

	mode_flags("ra-only", &hdr, &pio);
	ck_assert_uint_eq(hdr, 0);
	ck_assert_uint_eq(pio, PIO_FLAG_ONLINK | PIO_FLAG_AUTO);
	mode_flags("slaac", &hdr, &pio);
	ck_assert_uint_eq(hdr, RA_FLAG_MANAGED | RA_FLAG_OTHER);
	ck_assert_uint_eq(pio, PIO_FLAG_ONLINK | PIO_FLAG_AUTO);
	mode_flags("stateless", &hdr, &pio);
	ck_assert_uint_eq(hdr, RA_FLAG_OTHER);
	ck_assert_uint_eq(pio, PIO_FLAG_ONLINK | PIO_FLAG_AUTO);
	mode_flags("stateful", &hdr, &pio);
	ck_assert_uint_eq(hdr, RA_FLAG_MANAGED | RA_FLAG_OTHER);
	ck_assert_uint_eq(pio, PIO_FLAG_ONLINK);
}
END_TEST

START_TEST(test_default_contents)
{
	void *st = rf_start("dnssl = \"lab.test\";");
	const struct rf_sent *m;
	const uint8_t *o;
	struct tapir_addr a;

	rf_advance(500);
	m = last_msg();
	ck_assert_uint_eq(m->msg[0], 134);
	ck_assert_uint_eq(m->msg[4], 64);                  /* hop limit */
	ck_assert_uint_eq(tapir_get_be16(m->msg + 6), 0);  /* not a router */
	ck_assert_uint_eq(tapir_get_be32(m->msg + 8), 0);  /* reachable */
	ck_assert_uint_eq(tapir_get_be32(m->msg + 12), 0); /* retrans */
	o = opt_find(m, ND_OPT_SOURCE_LLADDR, 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_mem_eq(o + 2, "\x02\x00\x00\x00\x00\x02", 6);
	o = opt_find(m, ND_OPT_MTU, 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(tapir_get_be32(o + 4), 1500);
	/* The /64 of fd00::2, not the link-local one. */
	ck_assert_uint_eq(opt_count(m, ND_OPT_PREFIX_INFO), 1);
	o = pio_for(m, "fd00::");
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o[2], 64);
	ck_assert_uint_eq(tapir_get_be32(o + 4), 86400);
	ck_assert_uint_eq(tapir_get_be32(o + 8), 14400);
	/* tapird's own address as the DNS server, for 3 x max_interval. */
	o = opt_find(m, ND_OPT_RDNSS, 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o[1], 3);
	ck_assert_uint_eq(tapir_get_be32(o + 4), 1800);
	ck_assert(tapir_addr_parse("fd00::2", &a));
	ck_assert_mem_eq(o + 8, a.b, 16);
	o = opt_find(m, ND_OPT_DNSSL, 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(tapir_get_be32(o + 4), 1800);
	ck_assert_mem_eq(o + 8, "\003lab\004test\000", 10);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_configured_contents)
{
	void *st = rf_start(
		"prefixes = [ \"fd01::/64\", \"2001:db8::/48\" ];\n"
		"rdnss = [ \"fd01::53\", \"fd01::54\" ]; mtu = 1400;\n"
		"hop_limit = 0; reachable_time = 30000; retrans_timer = 1000;\n"
		"valid_lifetime = 600; preferred_lifetime = 300;");
	const struct rf_sent *m;
	const uint8_t *o;

	rf_advance(500);
	m = last_msg();
	ck_assert_uint_eq(m->msg[4], 0);
	ck_assert_uint_eq(tapir_get_be32(m->msg + 8), 30000);
	ck_assert_uint_eq(tapir_get_be32(m->msg + 12), 1000);
	ck_assert_uint_eq(tapir_get_be32(opt_find(m, ND_OPT_MTU, 0) + 4), 1400);
	ck_assert_uint_eq(opt_count(m, ND_OPT_PREFIX_INFO), 2);
	ck_assert_ptr_null(pio_for(m, "fd00::"));
	o = pio_for(m, "fd01::");
	ck_assert_uint_eq(o[3], PIO_FLAG_ONLINK | PIO_FLAG_AUTO);
	ck_assert_uint_eq(tapir_get_be32(o + 4), 600);
	ck_assert_uint_eq(tapir_get_be32(o + 8), 300);
	/* A /48 is on-link but not for SLAAC (RFC 4862 5.5.3 d). */
	o = pio_for(m, "2001:db8::");
	ck_assert_uint_eq(o[2], 48);
	ck_assert_uint_eq(o[3], PIO_FLAG_ONLINK);
	o = opt_find(m, ND_OPT_RDNSS, 0);
	ck_assert_uint_eq(o[1], 5);
	ck_assert_ptr_null(opt_find(m, ND_OPT_DNSSL, 0));
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_mtu_and_dns_off)
{
	void *st = rf_start("mtu = 0; rdnss_self = false;");
	const struct rf_sent *m;

	rf_advance(500);
	m = last_msg();
	ck_assert_ptr_null(opt_find(m, ND_OPT_MTU, 0));
	ck_assert_ptr_null(opt_find(m, ND_OPT_RDNSS, 0));
	tapir_module.fini(st);

	/* Above the link's MTU: the link's. */
	rf_reset();
	rf.mtu = 1400;
	st = rf_start("mtu = 9000;");
	rf_advance(500);
	ck_assert_uint_eq(tapir_get_be32(opt_find(last_msg(), ND_OPT_MTU, 0) + 4),
			  1400);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_waits_for_prefix)
{
	void *st;

	rf.naddr = 1; /* the link-local address only: DAD not done */
	st = rf_start("");
	rf_advance(5000);
	ck_assert_uint_eq(rf.nsent, 0);
	ck_assert_msg(strstr(rf.last_log, "no prefix to advertise yet"), "%s",
		      rf.last_log);
	rf_add_addr("fd00::2", 64);
	rf_advance(1000);
	ck_assert_uint_eq(rf.nsent, 1);
	ck_assert_ptr_nonnull(pio_for(last_msg(), "fd00::"));
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_link_local_not_ready)
{
	void *st = rf_start("");

	rf.send_rc = -EADDRNOTAVAIL;
	rf_advance(3000);
	ck_assert_uint_eq(rf.nsent, 0);
	ck_assert_uint_eq(rf_counter("ra_unsolicited"), 0);
	ck_assert_uint_eq(rf_counter("send_errors"), 0);
	rf.send_rc = 0;
	rf_advance(1000);
	ck_assert_uint_eq(rf.nsent, 1);
	ck_assert_uint_eq(rf_counter("ra_unsolicited"), 1);
	/* Other errors are counted and logged. */
	rf.send_rc = -ENOBUFS;
	rf_advance(16000);
	ck_assert_uint_eq(rf_counter("send_errors"), 1);
	ck_assert_msg(strstr(rf.last_log, "not sent"), "%s", rf.last_log);
	rf.send_rc = 0;
	tapir_module.fini(st);
}
END_TEST

static void *reload(void *st, const char *text)
{
	config_setting_t *s = rf_section(text);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(rf_check(s), 0);
	ck_assert_int_eq(tapir_module.reconfigure(st, rf_conf()), 0);
	return st;
}

START_TEST(test_reload_deprecates)
{
	void *st = rf_start("prefixes = [ \"fd00::/64\", \"fd01::/64\" ];");
	const struct rf_sent *m;
	const uint8_t *o;
	unsigned before;

	rf_advance(40000); /* the three initial RAs */
	ck_assert_uint_eq(rf.nsent, 3);
	before = rf.nsent;
	reload(st, "prefixes = [ \"fd00::/64\" ];");
	rf_advance(500);
	ck_assert_uint_eq(rf.nsent, before + 1);
	m = last_msg();
	o = pio_for(m, "fd00::");
	ck_assert_uint_eq(tapir_get_be32(o + 8), 14400);
	o = pio_for(m, "fd01::");
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(tapir_get_be32(o + 8), 0);    /* preferred */
	ck_assert_uint_eq(tapir_get_be32(o + 4), 7200); /* valid: 2 h */
	/* Fast RAs again, the deprecated prefix counting down. */
	rf_advance(16000);
	ck_assert_uint_eq(rf.nsent, before + 2);
	o = pio_for(last_msg(), "fd01::");
	ck_assert_uint_eq(tapir_get_be32(o + 4), 7200 - 16);
	/* Two hours on it is gone. */
	rf_advance(7200000);
	rf_rs();
	rf_advance(3500);
	ck_assert_ptr_null(pio_for(last_msg(), "fd01::"));
	ck_assert_ptr_nonnull(pio_for(last_msg(), "fd00::"));
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_reload_respects_min_delay)
{
	void *st = rf_start("");

	rf_advance(500);
	ck_assert_uint_eq(rf.nsent, 1);
	reload(st, "mode = \"stateless\"; router_lifetime = 1800;");
	ck_assert(rf.router);
	rf_advance(2400);
	ck_assert_uint_eq(rf.nsent, 1);
	rf_advance(1100);
	ck_assert_uint_eq(rf.nsent, 2);
	ck_assert_uint_ge(rf_msg(1)->at - rf_msg(0)->at, 3000);
	ck_assert_uint_eq(last_msg()->msg[5], RA_FLAG_OTHER);
	ck_assert_uint_eq(tapir_get_be16(last_msg()->msg + 6), 1800);
	reload(st, "");
	ck_assert(!rf.router);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_default_prefix_gone)
{
	void *st = rf_start("");
	unsigned before;

	rf_advance(40000); /* past the initial RAs */
	before = rf.nsent;
	ck_assert_ptr_nonnull(pio_for(last_msg(), "fd00::"));
	/* The address is replaced (an interface reload): an RA within a
	 * second and a half, the old prefix deprecated. */
	rf.naddr = 1;
	rf_add_addr("fd02::2", 64);
	rf_advance(1500);
	ck_assert_uint_eq(rf.nsent, before + 1);
	ck_assert_uint_eq(tapir_get_be32(pio_for(last_msg(), "fd00::") + 8), 0);
	ck_assert_uint_eq(tapir_get_be32(pio_for(last_msg(), "fd02::") + 8),
			  14400);
	/* Nothing changes: nothing more for the next 16 s but the quick
	 * RAs. */
	rf_advance(15900);
	ck_assert_uint_eq(rf.nsent, before + 2);
	rf_advance(16000);
	ck_assert_uint_eq(rf.nsent, before + 3);
	rf_advance(190000);
	ck_assert_uint_eq(rf.nsent, before + 3);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_own_dns_appears)
{
	/* Configured prefixes go out before our address passed DAD: the
	 * RDNSS option follows as soon as it has. */
	void *st;
	struct tapir_addr a;
	unsigned before;

	rf.naddr = 1;
	st = rf_start("prefixes = \"fd00::/64\";");
	rf_advance(40000);
	before = rf.nsent;
	ck_assert_ptr_null(opt_find(last_msg(), ND_OPT_RDNSS, 0));
	rf_add_addr("fd00::2", 64);
	rf_add_addr("fd09::2", 64); /* outside the prefixes: not a server */
	rf_advance(1500);
	ck_assert_uint_eq(rf.nsent, before + 1);
	ck_assert_ptr_nonnull(opt_find(last_msg(), ND_OPT_RDNSS, 0));
	ck_assert_uint_eq(opt_find(last_msg(), ND_OPT_RDNSS, 0)[1], 3);
	ck_assert(tapir_addr_parse("fd00::2", &a));
	ck_assert_mem_eq(opt_find(last_msg(), ND_OPT_RDNSS, 0) + 8, a.b, 16);
	tapir_module.fini(st);
}
END_TEST

START_TEST(test_final_ra)
{
	void *st = rf_start("router_lifetime = 1800; dnssl = \"lab.test\";");
	const struct rf_sent *m;
	const uint8_t *o;
	unsigned before;

	rf_advance(500);
	before = rf.nsent;
	tapir_module.fini(st);
	ck_assert_uint_eq(rf.nsent, before + 1);
	m = last_msg();
	ck_assert_uint_eq(tapir_get_be16(m->msg + 6), 0); /* router lifetime */
	o = pio_for(m, "fd00::");
	ck_assert_uint_eq(tapir_get_be32(o + 4), 7200);
	ck_assert_uint_eq(tapir_get_be32(o + 8), 0);
	ck_assert_uint_eq(tapir_get_be32(opt_find(m, ND_OPT_RDNSS, 0) + 4), 0);
	ck_assert_uint_eq(tapir_get_be32(opt_find(m, ND_OPT_DNSSL, 0) + 4), 0);
	ck_assert(!rf.router);
	ck_assert_uint_eq(rf_timers_armed(), 0);

	/* Nothing advertised yet: no final RA either. */
	rf_reset();
	st = rf_start("");
	tapir_module.fini(st);
	ck_assert_uint_eq(rf.nsent, 0);
}
END_TEST

static Suite *ra_suite(void)
{
	Suite *s = suite_create("ra");
	TCase *w = tcase_create("wire");
	TCase *m = tcase_create("module");

	tcase_add_test(w, test_build_bytes);
	tcase_add_test(w, test_build_preferred_capped);
	tcase_add_test(w, test_dnssl_encode);
	tcase_add_test(w, test_prefix_parse);
	tcase_add_test(w, test_rs_check);
	suite_add_tcase(s, w);
	tcase_add_checked_fixture(m, setup, teardown);
	tcase_add_test(m, test_check_errors);
	tcase_add_test(m, test_init_binds);
	tcase_add_test(m, test_init_needs_api4);
	tcase_add_test(m, test_initial_ras);
	tcase_add_test(m, test_fast_intervals);
	tcase_add_test(m, test_solicited);
	tcase_add_test(m, test_rs_flood_rate_limited);
	tcase_add_test(m, test_rs_invalid_counted);
	tcase_add_test(m, test_modes);
	tcase_add_test(m, test_default_contents);
	tcase_add_test(m, test_configured_contents);
	tcase_add_test(m, test_mtu_and_dns_off);
	tcase_add_test(m, test_waits_for_prefix);
	tcase_add_test(m, test_link_local_not_ready);
	tcase_add_test(m, test_reload_deprecates);
	tcase_add_test(m, test_reload_respects_min_delay);
	tcase_add_test(m, test_default_prefix_gone);
	tcase_add_test(m, test_own_dns_appears);
	tcase_add_test(m, test_final_ra);
	suite_add_tcase(s, m);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ra_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
