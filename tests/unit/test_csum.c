/* The Internet checksum (csum.c): RFC 1071 vectors, odd lengths, chaining,
 * carries, and the IPv4 pseudo-header. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* A deliberately naive one's complement sum: fold after every word. */
static uint16_t ref_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8;

		if (i + 1 < n)
			w |= p[i + 1];
		s += w;
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)~s;
}

START_TEST(test_rfc1071_example)
{
	/* RFC 1071 section 3: the sum of these words is 0xddf2. */
	static const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03,
				    0xf4, 0xf5, 0xf6, 0xf7};

	ck_assert_uint_eq(csum(d, sizeof(d)), 0x220d);
	ck_assert_uint_eq(csum_fold(csum_partial(d, sizeof(d), 0)), 0x220d);
	ck_assert_uint_eq(ref_csum(d, sizeof(d)), 0x220d);
}
END_TEST

START_TEST(test_ip_header_vector)
{
	/* A captured IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) with
	 * its checksum field zeroed; the right checksum is 0xb861. */
	uint8_t h[] = {
		0x45, 0x00, 0x00, 0x73, /* v4, IHL 5, total length 115 */
		0x00, 0x00, 0x40, 0x00, /* id 0, DF */
		0x40, 0x11, 0x00, 0x00, /* TTL 64, UDP, checksum 0 */
		0xc0, 0xa8, 0x00, 0x01, /* 192.168.0.1 */
		0xc0, 0xa8, 0x00, 0xc7, /* 192.168.0.199 */
	};

	ck_assert_uint_eq(csum(h, sizeof(h)), 0xb861);
	put_be16(h + 10, 0xb861);
	/* A header carrying its checksum sums to zero. */
	ck_assert_uint_eq(csum(h, sizeof(h)), 0);
	/* One flipped bit is caught. */
	h[8] ^= 0x01;
	ck_assert_uint_ne(csum(h, sizeof(h)), 0);
}
END_TEST

START_TEST(test_empty_and_zero)
{
	static const uint8_t z[64];

	ck_assert_uint_eq(csum(z, 0), 0xffff);
	ck_assert_uint_eq(csum(NULL, 0), 0xffff);
	ck_assert_uint_eq(csum(z, sizeof(z)), 0xffff);
	ck_assert_uint_eq(csum(z, 1), 0xffff);
}
END_TEST

START_TEST(test_odd_length)
{
	static const uint8_t one[] = {0xab};
	uint8_t d[9] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11};
	uint8_t padded[10];

	/* A trailing byte is the high byte of a zero-padded word. */
	ck_assert_uint_eq(csum(one, 1), (uint16_t)~0xab00);
	memcpy(padded, d, sizeof(d));
	padded[9] = 0;
	ck_assert_uint_eq(csum(d, sizeof(d)), csum(padded, sizeof(padded)));
	ck_assert_uint_eq(csum(d, sizeof(d)), ref_csum(d, sizeof(d)));
	/* 0x1234 + 0x5678 + 0x9abc + 0xdef0 + 0x1100 = 0x1f358 ->
	 * 0xf359 -> ~ = 0x0ca6 */
	ck_assert_uint_eq(csum(d, sizeof(d)), 0x0ca6);
}
END_TEST

START_TEST(test_chained_pieces)
{
	uint8_t d[301];
	uint32_t sum;

	th_pattern(d, sizeof(d), 7);
	/* Even pieces, then an odd last one: the same as one pass. */
	sum = csum_partial(d, 100, 0);
	sum = csum_partial(d + 100, 2, sum);
	sum = csum_partial(d + 102, 198, sum);
	sum = csum_partial(d + 300, 1, sum);
	ck_assert_uint_eq(csum_fold(sum), csum(d, sizeof(d)));
	ck_assert_uint_eq(csum_fold(sum), ref_csum(d, sizeof(d)));
}
END_TEST

START_TEST(test_carries)
{
	size_t n = 65535;
	uint8_t *d = malloc(n);

	ck_assert_ptr_nonnull(d);
	/* Every word 0xffff: a carry on every addition. */
	memset(d, 0xff, n);
	ck_assert_uint_eq(csum(d, n), ref_csum(d, n));
	ck_assert_uint_eq(csum(d, n - 1), 0);
	/* Alternating words that sum to 0xffff pairwise. */
	for (size_t i = 0; i + 1 < n; i += 4) {
		d[i] = 0xf0;
		d[i + 1] = 0x0f;
		if (i + 3 < n) {
			d[i + 2] = 0x0f;
			d[i + 3] = 0xf0;
		}
	}
	ck_assert_uint_eq(csum(d, n), ref_csum(d, n));
	free(d);
}
END_TEST

START_TEST(test_against_reference)
{
	uint8_t buf[600];

	/* Every length up to 512 at four alignments. */
	for (unsigned seed = 0; seed < 4; seed++) {
		th_pattern(buf, sizeof(buf), seed);
		for (size_t len = 0; len <= 512; len++)
			ck_assert_uint_eq(csum(buf + seed, len),
					  ref_csum(buf + seed, len));
	}
}
END_TEST

START_TEST(test_fold)
{
	ck_assert_uint_eq(csum_fold(0), 0xffff);
	ck_assert_uint_eq(csum_fold(0xffff), 0);
	ck_assert_uint_eq(csum_fold(0x1fffe), 0);
	ck_assert_uint_eq(csum_fold(0xffffffffu), 0);
	/* 0x1234 + 0x5678 = 0x68ac */
	ck_assert_uint_eq(csum_fold(0x12345678u), 0x9753);
}
END_TEST

START_TEST(test_partial_large_start)
{
	static const uint8_t w[] = {0x00, 0x01};

	/* The running sum is 32 bits wide: a carry out of it must come back
	 * in.  0xffffffff is 0xffff in one's complement, + 1 = 1. */
	ck_assert_uint_eq(csum_fold(csum_partial(w, 2, 0xffffffffu)), 0xfffe);
	ck_assert_uint_eq(csum_fold(csum_partial(w, 2, 0xfffffffeu)), 0);
}
END_TEST

/* The L3 seam's pseudo-header sum: for IPv4-mapped addresses the same as
 * csum_pseudo4(); for IPv6 the sum of RFC 8200 8.1's 40-byte pseudo-header
 * (source, destination, 32-bit length, three zero bytes, next header). */
START_TEST(test_l3_pseudo)
{
	uint8_t ph[40] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x16, 0x3e, 0xff, 0xfe,
		0x12, 0x34, 0x56,
	};
	union inany a4 = inany_from_v4(0x0a000002u), b4 = inany_from_v4(0xc0a80101u);
	union inany a6 = inany_from_v6(ph), b6 = inany_from_v6(ph + 16);
	size_t lens[] = {0, 8, 1480, 65535, 70000};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];

		if (len <= 65535)
			ck_assert_uint_eq(csum_fold(l3_pseudo(&a4, &b4, 17, len)),
					  csum_fold(csum_pseudo4(0x0a000002u,
								 0xc0a80101u, 17,
								 (uint16_t)len)));
		ph[32] = (uint8_t)(len >> 24);
		ph[33] = (uint8_t)(len >> 16);
		ph[34] = (uint8_t)(len >> 8);
		ph[35] = (uint8_t)len;
		ph[39] = 6;
		ck_assert_uint_eq(csum_fold(l3_pseudo(&a6, &b6, 6, len)),
				  csum_fold(csum_partial(ph, sizeof(ph), 0)));
	}
}
END_TEST

START_TEST(test_pseudo4)
{
	struct {
		uint32_t src, dst;
		uint8_t proto;
		uint16_t len;
	} v[] = {
		{0x0a000001, 0x0a000002, IP4_PROTO_UDP, 8},
		{0xc0a80001, 0xc0a800c7, IP4_PROTO_TCP, 1480},
		{0xffffffff, 0xffffffff, 0xff, 0xffff},
		{0, 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t ph[12];

		put_be32(ph, v[i].src);
		put_be32(ph + 4, v[i].dst);
		ph[8] = 0;
		ph[9] = v[i].proto;
		put_be16(ph + 10, v[i].len);
		ck_assert_uint_eq(csum_fold(csum_pseudo4(v[i].src, v[i].dst,
							 v[i].proto,
							 v[i].len)),
				  csum(ph, sizeof(ph)));
	}
}
END_TEST

START_TEST(test_udp_datagram_verifies)
{
	uint8_t seg[UDP_HLEN + 13];
	struct udp_hdr h = {.sport = 5353, .dport = 53};
	uint32_t src = 0x0a000001, dst = 0x0a000002;
	uint16_t len;

	th_udp_write(seg, src, dst, &h, "hello, world!", 13, false);
	len = (uint16_t)sizeof(seg);
	/* The receiver's check: header + data + pseudo-header sums to 0. */
	ck_assert_uint_eq(csum_fold(csum_partial(seg, len,
						 csum_pseudo4(src, dst,
							      IP4_PROTO_UDP,
							      len))),
			  0);
	/* Against the wrong destination it does not. */
	ck_assert_uint_ne(csum_fold(csum_partial(seg, len,
						 csum_pseudo4(src, dst + 1,
							      IP4_PROTO_UDP,
							      len))),
			  0);
}
END_TEST

static Suite *csum_suite(void)
{
	Suite *su = suite_create("csum");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc1071_example);
	tcase_add_test(tc, test_ip_header_vector);
	tcase_add_test(tc, test_empty_and_zero);
	tcase_add_test(tc, test_odd_length);
	tcase_add_test(tc, test_chained_pieces);
	tcase_add_test(tc, test_carries);
	tcase_add_test(tc, test_against_reference);
	tcase_add_test(tc, test_fold);
	tcase_add_test(tc, test_partial_large_start);
	tcase_add_test(tc, test_pseudo4);
	tcase_add_test(tc, test_l3_pseudo);
	tcase_add_test(tc, test_udp_datagram_verifies);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(csum_suite());
}
