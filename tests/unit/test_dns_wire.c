/*
 * The dns module's wire code (wire.c): round trips through the writer and
 * the reader, name compression, and every malformed shape the reader must
 * refuse without reading out of bounds (RFC 9267; the NAME:WRECK shapes):
 * forward and self pointers, pointer loops, long pointer chains, labels
 * over 63 bytes, names over 255, reserved label types, truncated names,
 * and, through dns_answer(), counts and RDLENGTHs beyond the message.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "modules/dns/answer.h"
#include "modules/dns/wire.h"
#include "modules/dns/zone.h"

static uint8_t buf[DNS_MSG_MAX];

static void wire(const char *text, uint8_t *out)
{
	ck_assert_int_eq(dns_name_from_text(text, strlen(text), NULL, out, NULL,
					    0),
			 0);
}

/* Read a name from m at pos; -1 or 0, and the text. */
static int read_at(const uint8_t *m, size_t len, size_t pos, char *text,
		   size_t *end)
{
	struct dns_reader r;
	uint8_t n[DNS_NAME_MAX];
	size_t l;

	dns_reader_init(&r, m, len);
	if (dns_skip(&r, pos) < 0 || dns_read_name(&r, n, &l) < 0)
		return -1;
	ck_assert_uint_eq(l, dns_name_len(n));
	if (text)
		ck_assert_int_ge(dns_name_to_text(n, text, 300), 0);
	if (end)
		*end = dns_reader_pos(&r);
	return 0;
}

START_TEST(test_header_round_trip)
{
	struct dns_writer w;
	struct dns_reader r;
	struct dns_hdr h = {0xabcd, 0x8580, 1, 2, 3, 4}, g;

	dns_writer_init(&w, buf, sizeof(buf), sizeof(buf));
	ck_assert_int_eq(dns_put_hdr(&w, &h), 0);
	ck_assert_uint_eq(w.len, 12);
	ck_assert_uint_eq(buf[0], 0xab);
	ck_assert_uint_eq(buf[3], 0x80);
	dns_reader_init(&r, buf, w.len);
	ck_assert_int_eq(dns_read_hdr(&r, &g), 0);
	ck_assert_mem_eq(&g, &h, sizeof(h));
	dns_reader_init(&r, buf, 11);
	ck_assert_int_eq(dns_read_hdr(&r, &g), -1);
}
END_TEST

START_TEST(test_names_round_trip_with_compression)
{
	static const char *const names[] = {
		"www.lab.test.", "mx1.lab.test.", "lab.test.", "a.b.c.d.e.",
		"WWW.LAB.TEST.", "test.", "."};
	struct dns_writer w;
	size_t at[7], end;
	uint8_t n[DNS_NAME_MAX];
	char text[300];

	dns_writer_init(&w, buf, sizeof(buf), sizeof(buf));
	for (int i = 0; i < 7; i++) {
		at[i] = w.len;
		wire(names[i], n);
		ck_assert_int_eq(dns_put_name(&w, n, true), 0);
	}
	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(read_at(buf, w.len, at[i], text, &end), 0);
		/* Compression is case-insensitive: WWW.LAB.TEST reads back
		 * as the first spelling. */
		ck_assert_str_eq(text, i == 4 ? "www.lab.test." : names[i]);
		ck_assert_uint_eq(end, i < 6 ? at[i + 1] : w.len);
	}
	/* mx1.lab.test: the label, then a pointer to lab.test (offset 4). */
	ck_assert_uint_eq(at[2] - at[1], 4 + 2);
	ck_assert_uint_eq(buf[at[1] + 4], 0xc0);
	ck_assert_uint_eq(buf[at[1] + 5], 4);
	/* lab.test, WWW.LAB.TEST and test: one pointer each. */
	ck_assert_uint_eq(at[3] - at[2], 2);
	ck_assert_uint_eq(at[5] - at[4], 2);
	ck_assert_uint_eq(at[6] - at[5], 2);
	/* Without compression the name is written out. */
	at[0] = w.len;
	wire("www.lab.test.", n);
	ck_assert_int_eq(dns_put_name(&w, n, false), 0);
	ck_assert_uint_eq(w.len - at[0], 14);
}
END_TEST

START_TEST(test_writer_limit_and_marks)
{
	struct dns_writer w;
	struct dns_mark m;
	uint8_t n[DNS_NAME_MAX];

	dns_writer_init(&w, buf, sizeof(buf), 20);
	ck_assert_int_eq(dns_put_u32(&w, 1), 0);
	m = dns_writer_mark(&w);
	wire("www.lab.test.", n);
	ck_assert_int_eq(dns_put_name(&w, n, true), 0); /* 4 + 14 = 18 */
	ck_assert_int_eq(dns_put_u16(&w, 1), 0);       /* 20 */
	ck_assert_int_eq(dns_put_u8(&w, 1), -1);        /* 21: over */
	ck_assert_uint_eq(w.len, 20);
	dns_writer_reset(&w, m);
	ck_assert_uint_eq(w.len, 4);
	ck_assert_uint_eq(w.ncomp, 0); /* the name is forgotten too */
	/* A name that does not fit fails as a whole. */
	dns_writer_init(&w, buf, sizeof(buf), 10);
	ck_assert_int_eq(dns_put_name(&w, n, true), -1);
}
END_TEST

START_TEST(test_forward_and_self_pointers_rejected)
{
	/* At 0: a pointer to 2 (forward); at 2: the name "a". */
	static const uint8_t fwd[] = {0xc0, 0x02, 0x01, 'a', 0x00};
	/* A pointer to itself. */
	static const uint8_t self[] = {0x01, 'a', 0xc0, 0x02};
	/* Two labels then a pointer back to the first label of the same
	 * name: a loop through backward jumps only is impossible, but the
	 * target must also be below the name's own start. */
	static const uint8_t loop[] = {0x01, 'a', 0x01, 'b', 0xc0, 0x00};

	ck_assert_int_eq(read_at(fwd, sizeof(fwd), 0, NULL, NULL), -1);
	ck_assert_int_eq(read_at(fwd, sizeof(fwd), 2, NULL, NULL), 0);
	ck_assert_int_eq(read_at(self, sizeof(self), 0, NULL, NULL), -1);
	ck_assert_int_eq(read_at(loop, sizeof(loop), 0, NULL, NULL), -1);
}
END_TEST

START_TEST(test_pointer_chain_bounded)
{
	/* "x" at 0, then pointers each to the one before: a chain of
	 * DNS_MAX_POINTERS is fine, one more is refused. */
	uint8_t m[3 + 2 * (DNS_MAX_POINTERS + 2)];
	size_t len = 3, prev = 0;
	char text[300];

	m[0] = 1;
	m[1] = 'x';
	m[2] = 0;
	for (int i = 0; i < DNS_MAX_POINTERS + 1; i++) {
		m[len] = (uint8_t)(0xc0 | prev >> 8);
		m[len + 1] = (uint8_t)prev;
		prev = len;
		len += 2;
	}
	/* The last pointer starts a chain of DNS_MAX_POINTERS + 1 jumps. */
	ck_assert_int_eq(read_at(m, len, prev, NULL, NULL), -1);
	ck_assert_int_eq(read_at(m, len, prev - 2, text, NULL), 0);
	ck_assert_str_eq(text, "x.");
}
END_TEST

START_TEST(test_label_types_and_lengths)
{
	uint8_t m[400];
	char text[300];

	/* 63 is the longest label; 64 (0x40: extended type) is refused. */
	memset(m, 'a', sizeof(m));
	m[0] = 63;
	m[64] = 0;
	ck_assert_int_eq(read_at(m, 65, 0, text, NULL), 0);
	m[0] = 64;
	m[65] = 0;
	ck_assert_int_eq(read_at(m, 66, 0, NULL, NULL), -1);
	m[0] = 0x80 | 1; /* reserved type 10 */
	ck_assert_int_eq(read_at(m, 66, 0, NULL, NULL), -1);
}
END_TEST

START_TEST(test_name_length_limit)
{
	/* Four 63-byte labels: 4 * 64 + 1 = 257 bytes: too long.  Three
	 * 63-byte labels and one of 61: 255, the longest name. */
	uint8_t m[300];
	size_t p = 0;

	for (int i = 0; i < 4; i++) {
		m[p++] = 63;
		memset(m + p, 'a', 63);
		p += 63;
	}
	m[p++] = 0;
	ck_assert_int_eq(read_at(m, p, 0, NULL, NULL), -1);
	m[192] = 61;
	m[192 + 62] = 0;
	ck_assert_int_eq(read_at(m, 192 + 63, 0, NULL, NULL), 0);
	/* The limit holds across pointers: 128 bytes of labels, then a
	 * pointer back to them makes 256. */
	{
		uint8_t c[400];
		size_t q = 0;

		for (int i = 0; i < 2; i++) {
			c[q++] = 63;
			memset(c + q, 'b', 63);
			q += 63;
		}
		c[q++] = 0; /* 129 bytes: a name of its own */
		size_t start = q;

		for (int i = 0; i < 2; i++) {
			c[q++] = 63;
			memset(c + q, 'c', 63);
			q += 63;
		}
		c[q++] = 0xc0;
		c[q++] = 0;
		ck_assert_int_eq(read_at(c, q, start, NULL, NULL), -1);
	}
}
END_TEST

START_TEST(test_truncated_names)
{
	static const uint8_t cut_label[] = {0x05, 'a', 'b'};
	static const uint8_t no_end[] = {0x01, 'a'};
	static const uint8_t half_ptr[] = {0x01, 'a', 0x00, 0xc0};

	ck_assert_int_eq(read_at(cut_label, sizeof(cut_label), 0, NULL, NULL),
			 -1);
	ck_assert_int_eq(read_at(no_end, sizeof(no_end), 0, NULL, NULL), -1);
	ck_assert_int_eq(read_at(half_ptr, sizeof(half_ptr), 3, NULL, NULL),
			 -1);
	ck_assert_int_eq(read_at(no_end, 0, 0, NULL, NULL), -1);
}
END_TEST

/* A zone for the message-level shapes below. */
static struct dns_zones zs;
static struct dns_ctx ctx;

static void setup(void)
{
	struct dns_zone *z = dns_zone_new("lab.test", NULL, 0);

	dns_zones_init(&zs);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(dns_zone_add_line(z, "@ SOA ns1 hm 1 1 1 1 1", 60,
					   NULL, 0),
			 0);
	ck_assert_int_eq(dns_zone_add_line(z, "www A 10.0.0.2", 60, NULL, 0),
			 0);
	ck_assert_int_eq(dns_zones_add(&zs, z), 0);
	ck_assert_int_eq(dns_zones_index(&zs), 0);
	ctx = (struct dns_ctx){&zs, 1232, NULL, NULL};
}

static void teardown(void)
{
	dns_zones_free(&zs);
}

static unsigned answer_rcode(const uint8_t *m, size_t len)
{
	static uint8_t out[DNS_MSG_MAX];
	struct dns_result r;
	size_t n = dns_answer(&ctx, m, len, false, out, &r);

	ck_assert_uint_gt(n, 0);
	return DNS_RCODE(parse(out, n)->h.flags);
}

START_TEST(test_counts_beyond_the_message_formerr)
{
	uint8_t m[512];
	size_t n = mkq(m, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);

	ck_assert_uint_eq(answer_rcode(m, n), DNS_R_NOERROR);
	m[7] = 1; /* ANCOUNT 1, but no record follows */
	ck_assert_uint_eq(answer_rcode(m, n), DNS_R_FORMERR);
	m[7] = 0;
	m[10] = 0xff; /* ARCOUNT 65280 */
	ck_assert_uint_eq(answer_rcode(m, n), DNS_R_FORMERR);
	m[10] = 0;
	m[5] = 1; /* QDCOUNT 1 ok; name cut off */
	ck_assert_uint_eq(answer_rcode(m, 16), DNS_R_FORMERR);
}
END_TEST

START_TEST(test_rdlength_beyond_the_message_formerr)
{
	uint8_t m[512];
	size_t n = mkq(m, "www.lab.test", DNS_T_A, DNS_C_IN, NULL);
	/* An additional A record claiming 200 bytes of RDATA. */
	static const uint8_t rr[] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 200, 1, 2};

	memcpy(m + n, rr, sizeof(rr));
	m[11] = 1;
	ck_assert_uint_eq(answer_rcode(m, n + sizeof(rr)), DNS_R_FORMERR);
	/* Made honest (RDLENGTH 2), it is accepted. */
	m[n + 10] = 2;
	ck_assert_uint_eq(answer_rcode(m, n + sizeof(rr)), DNS_R_NOERROR);
}
END_TEST

START_TEST(test_bad_question_name_formerr)
{
	/* The question's name is a pointer forward into itself. */
	uint8_t m[] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		       0xc0, 0x0e, 0x01, 'a', 0x00, 0, 1, 0, 1};
	const struct parsed *p;
	static uint8_t out[DNS_MSG_MAX];
	struct dns_result r;
	size_t n = dns_answer(&ctx, m, sizeof(m), false, out, &r);

	p = parse(out, n);
	ck_assert_uint_eq(DNS_RCODE(p->h.flags), DNS_R_FORMERR);
	ck_assert_uint_eq(p->h.qdcount, 0); /* nothing to echo */
	ck_assert_uint_eq(p->h.id, 0x1234);
	/* A label over 63 in the question. */
	m[12] = 0x40;
	n = dns_answer(&ctx, m, sizeof(m), false, out, &r);
	ck_assert_uint_eq(DNS_RCODE(parse(out, n)->h.flags), DNS_R_FORMERR);
}
END_TEST

START_TEST(test_name_text_and_reverse)
{
	uint8_t n[DNS_NAME_MAX], a[16];
	char text[300];
	static const uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0, 0x2a};

	wire("a\\.b\\032c.lab.test.", n);
	ck_assert_uint_eq(n[0], 5);
	ck_assert_int_gt(dns_name_to_text(n, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "a\\.b\\032c.lab.test.");
	ck_assert_int_eq(dns_name_to_text(n, text, 8), -1);
	wire("4.3.2.1.in-addr.arpa.", n);
	ck_assert_uint_eq(dns_reverse_addr(n, a), 4);
	ck_assert_uint_eq(a[0], 1);
	ck_assert_uint_eq(a[3], 4);
	wire("256.3.2.1.in-addr.arpa.", n);
	ck_assert_uint_eq(dns_reverse_addr(n, a), 0);
	wire("3.2.1.in-addr.arpa.", n);
	ck_assert_uint_eq(dns_reverse_addr(n, a), 0);
	wire("a.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d."
	     "f.ip6.arpa.",
	     n);
	ck_assert_uint_eq(dns_reverse_addr(n, a), 16);
	ck_assert_mem_eq(a, v6, 16);
	wire("G.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d."
	     "f.ip6.arpa.",
	     n);
	ck_assert_uint_eq(dns_reverse_addr(n, a), 0);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("dns_wire");
	TCase *tc = tcase_create("wire");
	TCase *tm = tcase_create("messages");

	tcase_add_test(tc, test_header_round_trip);
	tcase_add_test(tc, test_names_round_trip_with_compression);
	tcase_add_test(tc, test_writer_limit_and_marks);
	tcase_add_test(tc, test_forward_and_self_pointers_rejected);
	tcase_add_test(tc, test_pointer_chain_bounded);
	tcase_add_test(tc, test_label_types_and_lengths);
	tcase_add_test(tc, test_name_length_limit);
	tcase_add_test(tc, test_truncated_names);
	tcase_add_test(tc, test_name_text_and_reverse);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, test_counts_beyond_the_message_formerr);
	tcase_add_test(tm, test_rdlength_beyond_the_message_formerr);
	tcase_add_test(tm, test_bad_question_name_formerr);
	suite_add_tcase(s, tm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
