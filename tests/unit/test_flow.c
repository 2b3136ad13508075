/* The connection table and its hashing (siphash.c, flow.c, tcp_isn.c):
 * SipHash-2-4 reference vectors, flow insert/lookup/remove and growth,
 * chain lengths, the listener rules, RFC 6528 ISNs. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/flow.h"
#include "tapir/siphash.h"
#include "net/tcp/tcp_isn.h"

/* ---- SipHash-2-4 --------------------------------------------------------- */

/*
 * SipHash-2-4 with key 00 01 .. 0f of the messages 00 01 .. (n-1), for
 * n = 0..63: the test vectors of the paper's appendix / the reference
 * vectors.h, written here as the 64-bit little-endian value of the 8 output
 * bytes.  How they were checked: (1) siphash.c's output for all 64 was
 * compared with a separate Python 3 implementation written from the paper
 * (int.from_bytes, no code shared), identical; (2) n = 0, 1, 2 match the
 * widely published 726fdb47dd0e0e31, 74f839c593dc67fd, 0d6c8009d9a94f5a
 * and n = 15 the worked example in the paper (a129ca6149be45e5); (3) all
 * 64 match the byte table of the reference implementation's vectors.h
 * (first row 31 0e 0e dd 47 db 6f 72, last 72 45 06 eb 4c 32 8a 95).
 */
static const uint64_t sip_vectors[64] = {
	0x726fdb47dd0e0e31ull, /*  0 */
	0x74f839c593dc67fdull, /*  1 */
	0x0d6c8009d9a94f5aull, /*  2 */
	0x85676696d7fb7e2dull, /*  3 */
	0xcf2794e0277187b7ull, /*  4 */
	0x18765564cd99a68dull, /*  5 */
	0xcbc9466e58fee3ceull, /*  6 */
	0xab0200f58b01d137ull, /*  7 */
	0x93f5f5799a932462ull, /*  8 */
	0x9e0082df0ba9e4b0ull, /*  9 */
	0x7a5dbbc594ddb9f3ull, /* 10 */
	0xf4b32f46226bada7ull, /* 11 */
	0x751e8fbc860ee5fbull, /* 12 */
	0x14ea5627c0843d90ull, /* 13 */
	0xf723ca908e7af2eeull, /* 14 */
	0xa129ca6149be45e5ull, /* 15 */
	0x3f2acc7f57c29bdbull, /* 16 */
	0x699ae9f52cbe4794ull, /* 17 */
	0x4bc1b3f0968dd39cull, /* 18 */
	0xbb6dc91da77961bdull, /* 19 */
	0xbed65cf21aa2ee98ull, /* 20 */
	0xd0f2cbb02e3b67c7ull, /* 21 */
	0x93536795e3a33e88ull, /* 22 */
	0xa80c038ccd5ccec8ull, /* 23 */
	0xb8ad50c6f649af94ull, /* 24 */
	0xbce192de8a85b8eaull, /* 25 */
	0x17d835b85bbb15f3ull, /* 26 */
	0x2f2e6163076bcfadull, /* 27 */
	0xde4daaaca71dc9a5ull, /* 28 */
	0xa6a2506687956571ull, /* 29 */
	0xad87a3535c49ef28ull, /* 30 */
	0x32d892fad841c342ull, /* 31 */
	0x7127512f72f27cceull, /* 32 */
	0xa7f32346f95978e3ull, /* 33 */
	0x12e0b01abb051238ull, /* 34 */
	0x15e034d40fa197aeull, /* 35 */
	0x314dffbe0815a3b4ull, /* 36 */
	0x027990f029623981ull, /* 37 */
	0xcadcd4e59ef40c4dull, /* 38 */
	0x9abfd8766a33735cull, /* 39 */
	0x0e3ea96b5304a7d0ull, /* 40 */
	0xad0c42d6fc585992ull, /* 41 */
	0x187306c89bc215a9ull, /* 42 */
	0xd4a60abcf3792b95ull, /* 43 */
	0xf935451de4f21df2ull, /* 44 */
	0xa9538f0419755787ull, /* 45 */
	0xdb9acddff56ca510ull, /* 46 */
	0xd06c98cd5c0975ebull, /* 47 */
	0xe612a3cb9ecba951ull, /* 48 */
	0xc766e62cfcadaf96ull, /* 49 */
	0xee64435a9752fe72ull, /* 50 */
	0xa192d576b245165aull, /* 51 */
	0x0a8787bf8ecb74b2ull, /* 52 */
	0x81b3e73d20b49b6full, /* 53 */
	0x7fa8220ba3b2eceaull, /* 54 */
	0x245731c13ca42499ull, /* 55 */
	0xb78dbfaf3a8d83bdull, /* 56 */
	0xea1ad565322a1a0bull, /* 57 */
	0x60e61c23a3795013ull, /* 58 */
	0x6606d7e446282b93ull, /* 59 */
	0x6ca4ecb15c5f91e1ull, /* 60 */
	0x9f626da15c9625f3ull, /* 61 */
	0xe51b38608ef25f57ull, /* 62 */
	0x958a324ceb064572ull, /* 63 */
};

static const uint8_t ref_key[16] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

/* splitmix64: a deterministic stream of test keys. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void setup(void)
{
	rng_state = 42;
}

START_TEST(test_siphash_vectors)
{
	uint8_t msg[64];
	size_t n;

	for (n = 0; n < sizeof(msg); n++)
		msg[n] = (uint8_t)n;
	for (n = 0; n < 64; n++)
		ck_assert_msg(tapir_siphash24(msg, n, ref_key) == sip_vectors[n],
			      "n=%zu: got %016llx", n,
			      (unsigned long long)tapir_siphash24(msg, n, ref_key));
	/* The ones named in the brief, spelled out. */
	ck_assert_uint_eq(tapir_siphash24(msg, 0, ref_key), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(tapir_siphash24(msg, 1, ref_key), 0x74f839c593dc67fdull);
	ck_assert_uint_eq(tapir_siphash24(msg, 2, ref_key), 0x0d6c8009d9a94f5aull);
	ck_assert_uint_eq(tapir_siphash24(msg, 7, ref_key), 0xab0200f58b01d137ull);
	ck_assert_uint_eq(tapir_siphash24(msg, 8, ref_key), 0x93f5f5799a932462ull);
	ck_assert_uint_eq(tapir_siphash24(msg, 15, ref_key), 0xa129ca6149be45e5ull);
	ck_assert_uint_eq(tapir_siphash24(msg, 16, ref_key), 0x3f2acc7f57c29bdbull);
	ck_assert_uint_eq(tapir_siphash24(msg, 63, ref_key), 0x958a324ceb064572ull);
}
END_TEST

/* Byte loads: the same message at any alignment hashes the same. */
START_TEST(test_siphash_unaligned)
{
	uint8_t buf[64 + 8];
	size_t n, off;

	for (n = 0; n < 64; n++) {
		for (off = 1; off < 8; off++) {
			size_t i;

			for (i = 0; i < n; i++)
				buf[off + i] = (uint8_t)i;
			ck_assert_uint_eq(tapir_siphash24(buf + off, n, ref_key),
					  sip_vectors[n]);
		}
	}
}
END_TEST

/* tapir_siphash24_12() is tapir_siphash24() of the 12 little-endian bytes. */
START_TEST(test_siphash_12)
{
	uint8_t key[16], msg[12];
	int round, i;

	for (round = 0; round < 1000; round++) {
		uint64_t w0 = rng();
		uint32_t w1 = (uint32_t)rng();

		for (i = 0; i < 16; i++)
			key[i] = (uint8_t)rng();
		for (i = 0; i < 8; i++)
			msg[i] = (uint8_t)(w0 >> (8 * i));
		for (i = 0; i < 4; i++)
			msg[8 + i] = (uint8_t)(w1 >> (8 * i));
		ck_assert_uint_eq(tapir_siphash24_12(key, w0, w1),
				  tapir_siphash24(msg, 12, key));
	}
	/* And against the reference vector for 00..0b. */
	ck_assert_uint_eq(
	    tapir_siphash24_12(ref_key, 0x0706050403020100ull, 0x0b0a0908u),
	    sip_vectors[12]);
}
END_TEST

/* The key matters, every bit of it. */
START_TEST(test_siphash_key)
{
	uint8_t key[16], msg[16];
	uint64_t h0;
	int i;

	memset(msg, 0xab, sizeof(msg));
	memcpy(key, ref_key, sizeof(key));
	h0 = tapir_siphash24(msg, sizeof(msg), key);
	for (i = 0; i < 128; i++) {
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_uint_ne(tapir_siphash24(msg, sizeof(msg), key), h0);
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ck_assert_uint_eq(tapir_siphash24(msg, sizeof(msg), key), h0);
}
END_TEST

/* ---- Flow table ---------------------------------------------------------- */

/* A connection as the TCP layer will have it: the flow embedded. */
struct conn {
	int id;
	struct flow flow;
};

static const uint8_t tkey[16] = {
	0x3c, 0x91, 0x07, 0xe2, 0x5a, 0xd8, 0x66, 0x14,
	0xb9, 0x2f, 0x80, 0x4e, 0xc3, 0x71, 0x1d, 0xa5,
};

static struct flow_key key_of(uint32_t l, uint32_t r, uint16_t lp, uint16_t rp)
{
	struct flow_key k = {.laddr = inany_from_v4(l),
			     .raddr = inany_from_v4(r),
			     .lport = lp,
			     .rport = rp};

	return k;
}

/* A pointer to the IPv4-mapped form of x, for calls that take one. */
#define A4(x) (&(union inany[1]){inany_from_v4(x)}[0])

/* An IPv6 address 2001:db8::n. */
static union inany v6_of(uint8_t n)
{
	uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};

	b[15] = n;
	return inany_from_v6(b);
}

static struct flow_key random_key(void)
{
	uint64_t x = rng();

	return key_of((uint32_t)x, (uint32_t)(x >> 32), (uint16_t)rng(),
		      (uint16_t)rng());
}

/* The hash uses the documented layout: laddr, raddr, lport, rport, each
 * little-endian, 12 bytes. */
START_TEST(test_flow_hash_layout)
{
	struct flow_key k = key_of(0x0a000002u, 0xc0a80101u, 80, 54321);
	uint8_t b[12] = {
		0x02, 0x00, 0x00, 0x0a, /* laddr 10.0.0.2 */
		0x01, 0x01, 0xa8, 0xc0, /* raddr 192.168.1.1 */
		0x50, 0x00,             /* lport 80 */
		0x31, 0xd4,             /* rport 54321 */
	};

	ck_assert_uint_eq(flow_key_siphash(&k, tkey), tapir_siphash24(b, 12, tkey));
}
END_TEST

/* With an IPv6 address on either side the hash is over 36 bytes: both
 * addresses as on the wire, then lport and rport little-endian. */
START_TEST(test_flow_hash_layout_v6)
{
	struct flow_key k = {.laddr = v6_of(2), .raddr = v6_of(1),
			     .lport = 80, .rport = 54321};
	uint8_t b[36] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x50, 0x00, /* lport 80 */
		0x31, 0xd4, /* rport 54321 */
	};

	ck_assert_uint_eq(flow_key_siphash(&k, tkey),
			  tapir_siphash24(b, sizeof(b), tkey));
	/* A mixed key (one side IPv4-mapped) takes the long form too. */
	k.laddr = inany_from_v4(0x0a000002u);
	memcpy(b, k.laddr.a, 16);
	ck_assert_uint_eq(flow_key_siphash(&k, tkey),
			  tapir_siphash24(b, sizeof(b), tkey));
}
END_TEST

/* IPv4 and IPv6 connections share one table; keys that differ only in
 * family, or in one bit of a 128-bit address, are distinct entries. */
START_TEST(test_flow_v6_keys)
{
	static struct conn c[5];
	struct flow_table t;
	struct flow_key k;
	size_t i;

	c[0].flow.key = key_of(0x0a000002u, 0x0a000001u, 80, 40000);
	c[1].flow.key = (struct flow_key){v6_of(2), v6_of(1), 80, 40000};
	c[2].flow.key = c[1].flow.key;
	c[2].flow.key.raddr.a[0] ^= 0x80; /* the top bit */
	c[3].flow.key = c[1].flow.key;
	c[3].flow.key.laddr.a[8] ^= 0x01; /* inside the address */
	/* ::a00:1 is not ::ffff:10.0.0.1 */
	c[4].flow.key = c[0].flow.key;
	c[4].flow.key.raddr.v4.ones[0] = c[4].flow.key.raddr.v4.ones[1] = 0;
	ck_assert_int_eq(flow_table_init(&t, 1, tkey), 0);
	for (i = 0; i < 5; i++) {
		c[i].id = (int)i;
		ck_assert_int_eq(flow_insert(&t, &c[i].flow), 0);
	}
	ck_assert_uint_eq(flow_count(&t), 5);
	for (i = 0; i < 5; i++) {
		k = c[i].flow.key;
		ck_assert_ptr_eq(flow_lookup(&t, &k), &c[i].flow);
	}
	k = c[1].flow.key;
	ck_assert_int_eq(flow_insert(&t, &(struct conn){.flow.key = k}.flow),
			 -EEXIST);
	for (i = 0; i < 5; i++)
		flow_remove(&t, &c[i].flow);
	flow_table_fini(&t);
}
END_TEST

START_TEST(test_flow_init_sizes)
{
	struct flow_table t;

	ck_assert_int_eq(flow_table_init(&t, 16, tkey), 0);
	ck_assert_uint_eq(t.nbuckets, 16);
	ck_assert_uint_eq(flow_count(&t), 0);
	ck_assert_uint_eq(t.max_buckets, FLOW_MAX_BUCKETS_DEFAULT);
	ck_assert_mem_eq(t.key, tkey, 16);
	flow_table_fini(&t);
	ck_assert_ptr_null(t.bucket);

	ck_assert_int_eq(flow_table_init(&t, 100, tkey), 0);
	ck_assert_uint_eq(t.nbuckets, 128);
	flow_table_fini(&t);
	ck_assert_int_eq(flow_table_init(&t, 0, tkey), 0);
	ck_assert_uint_eq(t.nbuckets, 1);
	flow_table_fini(&t);
	ck_assert_int_eq(flow_table_init(&t, 1, tkey), 0);
	ck_assert_uint_eq(t.nbuckets, 1);
	flow_table_fini(&t);
	/* More buckets than a size_t can count: -ENOMEM, nothing to free. */
	ck_assert_int_eq(flow_table_init(&t, SIZE_MAX / 2 + 2, tkey), -ENOMEM);
}
END_TEST

START_TEST(test_flow_basic)
{
	struct flow_table t;
	struct conn a = {.id = 1}, b = {.id = 2};
	struct flow_key ka = key_of(0x0a000002u, 0x0a000001u, 7, 40000);
	struct flow_key kb = key_of(0x0a000002u, 0x0a000001u, 7, 40001);
	struct flow *f;

	ck_assert_int_eq(flow_table_init(&t, 8, tkey), 0);
	ck_assert_ptr_null(flow_lookup(&t, &ka));
	a.flow.key = ka;
	b.flow.key = kb;
	ck_assert_int_eq(flow_insert(&t, &a.flow), 0);
	ck_assert_uint_eq(flow_count(&t), 1);
	ck_assert_uint_eq(a.flow.hash, (uint32_t)flow_key_siphash(&ka, tkey));
	f = flow_lookup(&t, &ka);
	ck_assert_ptr_eq(f, &a.flow);
	ck_assert_int_eq(flow_entry(f, struct conn, flow)->id, 1);
	ck_assert_ptr_null(flow_lookup(&t, &kb));

	ck_assert_int_eq(flow_insert(&t, &b.flow), 0);
	ck_assert_uint_eq(flow_count(&t), 2);
	ck_assert_int_eq(
	    flow_entry(flow_lookup(&t, &kb), struct conn, flow)->id, 2);
	ck_assert_ptr_eq(flow_lookup(&t, &ka), &a.flow);

	flow_remove(&t, &a.flow);
	ck_assert_uint_eq(flow_count(&t), 1);
	ck_assert_ptr_null(flow_lookup(&t, &ka));
	ck_assert_ptr_eq(flow_lookup(&t, &kb), &b.flow);
	/* Removed entries can go back in. */
	ck_assert_int_eq(flow_insert(&t, &a.flow), 0);
	ck_assert_ptr_eq(flow_lookup(&t, &ka), &a.flow);
	flow_remove(&t, &a.flow);
	flow_remove(&t, &b.flow);
	ck_assert_uint_eq(flow_count(&t), 0);
	ck_assert_ptr_null(flow_lookup(&t, &kb));
	flow_table_fini(&t);
}
END_TEST

START_TEST(test_flow_eexist)
{
	struct flow_table t;
	struct conn a = {.id = 1}, dup = {.id = 2};
	struct flow_key k = key_of(1, 2, 3, 4);

	ck_assert_int_eq(flow_table_init(&t, 4, tkey), 0);
	a.flow.key = k;
	dup.flow.key = k;
	ck_assert_int_eq(flow_insert(&t, &a.flow), 0);
	ck_assert_int_eq(flow_insert(&t, &dup.flow), -EEXIST);
	ck_assert_uint_eq(flow_count(&t), 1);
	ck_assert_ptr_eq(flow_lookup(&t, &k), &a.flow);
	flow_remove(&t, &a.flow);
	/* Once the first is gone the second may take the key. */
	ck_assert_int_eq(flow_insert(&t, &dup.flow), 0);
	ck_assert_ptr_eq(flow_lookup(&t, &k), &dup.flow);
	flow_remove(&t, &dup.flow);
	flow_table_fini(&t);
}
END_TEST

/* Keys that differ in one field (or swap local and remote) are different
 * flows, each found as itself. */
START_TEST(test_flow_one_field)
{
	static struct conn c[9];
	struct flow_table t;
	struct flow_key base = key_of(0x0a000002u, 0x0a000001u, 80, 50000);
	size_t i;

	for (i = 0; i < 9; i++)
		c[i].flow.key = base;
	c[1].flow.key.laddr.v4.a4[3] ^= 1;
	c[2].flow.key.raddr.v4.a4[3] ^= 1;
	c[3].flow.key.lport ^= 1;
	c[4].flow.key.rport ^= 1;
	c[5].flow.key.laddr.v4.a4[0] ^= 0x80;
	c[6].flow.key.rport ^= 0x8000;
	/* Local and remote swapped. */
	c[7].flow.key = (struct flow_key){base.raddr, base.laddr, base.rport,
					  base.lport};
	/* Ports swapped only. */
	c[8].flow.key = (struct flow_key){base.laddr, base.raddr, base.rport,
					  base.lport};

	ck_assert_int_eq(flow_table_init(&t, 1, tkey), 0);
	for (i = 0; i < 9; i++) {
		c[i].id = (int)i;
		ck_assert_int_eq(flow_insert(&t, &c[i].flow), 0);
	}
	ck_assert_uint_eq(flow_count(&t), 9);
	for (i = 0; i < 9; i++) {
		struct flow *f = flow_lookup(&t, &c[i].flow.key);

		ck_assert_ptr_eq(f, &c[i].flow);
	}
	/* Removing one leaves its neighbours. */
	flow_remove(&t, &c[0].flow);
	ck_assert_ptr_null(flow_lookup(&t, &base));
	for (i = 1; i < 9; i++)
		ck_assert_ptr_eq(flow_lookup(&t, &c[i].flow.key), &c[i].flow);
	for (i = 1; i < 9; i++)
		flow_remove(&t, &c[i].flow);
	ck_assert_uint_eq(flow_count(&t), 0);
	flow_table_fini(&t);
}
END_TEST

/* One bucket, so every entry shares the chain: remove head, middle, tail. */
START_TEST(test_flow_one_chain)
{
	static struct conn c[10];
	struct flow_table t;
	static const int order[10] = {9, 0, 5, 4, 6, 1, 8, 2, 7, 3};
	size_t i, j;

	ck_assert_int_eq(flow_table_init(&t, 1, tkey), 0);
	t.max_buckets = 1;
	for (i = 0; i < 10; i++) {
		c[i].flow.key = key_of(1, 2, 3, (uint16_t)i);
		ck_assert_int_eq(flow_insert(&t, &c[i].flow), 0);
	}
	ck_assert_uint_eq(t.nbuckets, 1);
	for (i = 0; i < 10; i++) {
		flow_remove(&t, &c[order[i]].flow);
		ck_assert_uint_eq(flow_count(&t), 9 - i);
		for (j = 0; j < 10; j++) {
			bool gone = false;
			size_t m;

			for (m = 0; m <= i; m++)
				gone |= (size_t)order[m] == j;
			if (gone)
				ck_assert_ptr_null(
				    flow_lookup(&t, &c[j].flow.key));
			else
				ck_assert_ptr_eq(
				    flow_lookup(&t, &c[j].flow.key),
				    &c[j].flow);
		}
	}
	ck_assert_ptr_null(t.bucket[0]);
	flow_table_fini(&t);
}
END_TEST

#define MANY 100000

/* Many flows from a small table: it grows, all are found, absent keys are
 * not, and removing everything leaves it empty. */
START_TEST(test_flow_many)
{
	struct flow_table t;
	struct conn *c = calloc(MANY, sizeof(*c));
	size_t i;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(flow_table_init(&t, 16, tkey), 0);
	for (i = 0; i < MANY; i++) {
		/* Clients of one server port: the realistic worst case for
		 * an unkeyed hash. */
		c[i].id = (int)i;
		c[i].flow.key =
		    key_of(0x0a000002u, 0x0a000000u + (uint32_t)(i >> 14), 80,
			   (uint16_t)(1024 + (i & 0x3fff)));
		ck_assert_int_eq(flow_insert(&t, &c[i].flow), 0);
		ck_assert_uint_le(flow_count(&t), t.nbuckets);
	}
	ck_assert_uint_eq(flow_count(&t), MANY);
	ck_assert_uint_eq(t.nbuckets, 131072);
	for (i = 0; i < MANY; i++) {
		struct flow *f = flow_lookup(&t, &c[i].flow.key);

		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(flow_entry(f, struct conn, flow)->id, (int)i);
	}
	/* Absent: the next client ports, another server port. */
	for (i = 0; i < 1000; i++) {
		struct flow_key k = c[i].flow.key;

		k.lport = 81;
		ck_assert_ptr_null(flow_lookup(&t, &k));
		k = key_of(0x0a000002u, 0x0b000000u + (uint32_t)i, 80, 1024);
		ck_assert_ptr_null(flow_lookup(&t, &k));
	}
	/* Inserting them again fails, changing nothing. */
	for (i = 0; i < MANY; i += 97) {
		struct conn d = {.flow.key = c[i].flow.key};

		ck_assert_int_eq(flow_insert(&t, &d.flow), -EEXIST);
	}
	ck_assert_uint_eq(flow_count(&t), MANY);
	/* Remove every other, check, then the rest. */
	for (i = 0; i < MANY; i += 2)
		flow_remove(&t, &c[i].flow);
	ck_assert_uint_eq(flow_count(&t), MANY / 2);
	for (i = 0; i < MANY; i++) {
		struct flow *f = flow_lookup(&t, &c[i].flow.key);

		if (i % 2)
			ck_assert_ptr_eq(f, &c[i].flow);
		else
			ck_assert_ptr_null(f);
	}
	for (i = 1; i < MANY; i += 2)
		flow_remove(&t, &c[i].flow);
	ck_assert_uint_eq(flow_count(&t), 0);
	for (i = 0; i < t.nbuckets; i++)
		ck_assert_ptr_null(t.bucket[i]);
	for (i = 0; i < MANY; i += 101)
		ck_assert_ptr_null(flow_lookup(&t, &c[i].flow.key));
	flow_table_fini(&t);
	free(c);
}
END_TEST

/* Growth stops at max_buckets; past it chains get longer but everything
 * still works. */
START_TEST(test_flow_max_buckets)
{
	struct flow_table t;
	static struct conn c[2000];
	size_t i;

	ck_assert_int_eq(flow_table_init(&t, 4, tkey), 0);
	t.max_buckets = 64;
	for (i = 0; i < 2000; i++) {
		c[i].flow.key = random_key();
		ck_assert_int_eq(flow_insert(&t, &c[i].flow), 0);
	}
	ck_assert_uint_eq(t.nbuckets, 64);
	for (i = 0; i < 2000; i++)
		ck_assert_ptr_eq(flow_lookup(&t, &c[i].flow.key), &c[i].flow);
	/* Raising the limit lets it grow again on the next insert. */
	t.max_buckets = FLOW_MAX_BUCKETS_DEFAULT;
	{
		struct conn d = {.flow.key = random_key()};

		ck_assert_int_eq(flow_insert(&t, &d.flow), 0);
		ck_assert_uint_eq(t.nbuckets, 128);
		ck_assert_ptr_eq(flow_lookup(&t, &d.flow.key), &d.flow);
		flow_remove(&t, &d.flow);
	}
	for (i = 0; i < 2000; i++) {
		ck_assert_ptr_eq(flow_lookup(&t, &c[i].flow.key), &c[i].flow);
		flow_remove(&t, &c[i].flow);
	}
	ck_assert_uint_eq(flow_count(&t), 0);
	flow_table_fini(&t);
}
END_TEST

/* The longest chain in t. */
static size_t max_chain(const struct flow_table *t, size_t *nonempty)
{
	size_t i, max = 0;

	*nonempty = 0;
	for (i = 0; i < t->nbuckets; i++) {
		size_t len = 0;
		struct flow *f;

		for (f = t->bucket[i]; f; f = f->next)
			len++;
		if (len)
			(*nonempty)++;
		if (len > max)
			max = len;
	}
	return max;
}

/* Chains stay short for random keys and for structured ones (one server,
 * clients on consecutive addresses and ports).  With 100000 entries in
 * 131072 buckets the longest chain of a good hash is about 8 and about
 * 1 - e^(-0.76) = 53% of buckets are in use. */
START_TEST(test_flow_distribution)
{
	struct flow_table t;
	struct conn *c = calloc(MANY, sizeof(*c));
	size_t i, pass, max, nonempty;

	ck_assert_ptr_nonnull(c);
	for (pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(flow_table_init(&t, 16, tkey), 0);
		for (i = 0; i < MANY; i++) {
			uint32_t peer = 0x0a000000u + (uint32_t)i;
			uint16_t port = (uint16_t)(32768 + (i & 0xff));

			if (pass == 0)
				c[i].flow.key = random_key();
			else
				c[i].flow.key = key_of(0xc0a80001u, peer, 443,
						       port);
			ck_assert_int_eq(flow_insert(&t, &c[i].flow), 0);
		}
		ck_assert_uint_eq(t.nbuckets, 131072);
		max = max_chain(&t, &nonempty);
		ck_assert_uint_le(max, 14);
		ck_assert_uint_ge(nonempty, 131072 * 50 / 100);
		ck_assert_uint_le(nonempty, 131072 * 56 / 100);
		for (i = 0; i < MANY; i++)
			flow_remove(&t, &c[i].flow);
		flow_table_fini(&t);
	}
	free(c);
}
END_TEST

/* The secret key decides where a flow lands: the same keys under another
 * secret go to other buckets. */
START_TEST(test_flow_keyed)
{
	struct flow_table a, b;
	uint8_t other[16];
	size_t i, same = 0;

	memcpy(other, tkey, sizeof(other));
	other[15] ^= 1;
	ck_assert_int_eq(flow_table_init(&a, 1024, tkey), 0);
	ck_assert_int_eq(flow_table_init(&b, 1024, other), 0);
	for (i = 0; i < 10000; i++) {
		struct flow_key k =
		    key_of(0x0a000002u, 0x0a000001u, 80, (uint16_t)i);

		same += flow_bucket_of(&a, &k) == flow_bucket_of(&b, &k);
	}
	/* 1 in 1024 by chance: about 10. */
	ck_assert_uint_le(same, 40);
	flow_table_fini(&a);
	flow_table_fini(&b);
}
END_TEST

/* ---- Listener table ------------------------------------------------------ */

START_TEST(test_listener_basic)
{
	struct listener_table lt;
	struct listener a = {.port = 80, .addr = inany_from_v4(0)};
	struct listener b = {.port = 22, .addr = inany_from_v4(0x0a000002u)};
	struct listener c = {.port = 80 + LISTENER_BUCKETS, .addr = inany_from_v4(0)};

	listener_table_init(&lt);
	ck_assert(listener_table_empty(&lt));
	ck_assert_ptr_null(listener_find(&lt, A4(0x0a000002u), 80));
	ck_assert_int_eq(listener_add(&lt, &a), 0);
	ck_assert_int_eq(listener_add(&lt, &b), 0);
	ck_assert_int_eq(listener_add(&lt, &c), 0); /* same chain as a */
	ck_assert(!listener_table_empty(&lt));
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 80), &a);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x01020304u), 80), &a);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 80 + LISTENER_BUCKETS),
			 &c);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 22), &b);
	ck_assert_ptr_null(listener_find(&lt, A4(0x0a000003u), 22));
	ck_assert_ptr_null(listener_find(&lt, A4(0x0a000002u), 23));
	ck_assert_ptr_null(
	    listener_find(&lt, A4(0x0a000002u), 22 + LISTENER_BUCKETS));
	listener_remove(&lt, &a);
	ck_assert_ptr_null(listener_find(&lt, A4(0x0a000002u), 80));
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 80 + LISTENER_BUCKETS),
			 &c);
	listener_remove(&lt, &c);
	listener_remove(&lt, &b);
	ck_assert(listener_table_empty(&lt));
}
END_TEST

START_TEST(test_listener_conflicts)
{
	struct listener_table lt;
	struct listener s1 = {.port = 53, .addr = inany_from_v4(0x0a000002u)};
	struct listener s2 = {.port = 53, .addr = inany_from_v4(0x0a000003u)};
	struct listener s1b = {.port = 53, .addr = inany_from_v4(0x0a000002u)};
	struct listener any = {.port = 53, .addr = inany_from_v4(0)};
	struct listener any2 = {.port = 53, .addr = inany_from_v4(0)};
	struct listener other = {.port = 54, .addr = inany_from_v4(0)};

	listener_table_init(&lt);
	/* Specific addresses: distinct ones coexist, the same one does not,
	 * and then no any-address listener. */
	ck_assert_int_eq(listener_add(&lt, &s1), 0);
	ck_assert_int_eq(listener_add(&lt, &s2), 0);
	ck_assert_int_eq(listener_add(&lt, &s1b), -EADDRINUSE);
	ck_assert_int_eq(listener_add(&lt, &any), -EADDRINUSE);
	ck_assert_int_eq(listener_add(&lt, &other), 0); /* another port */
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 53), &s1);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000003u), 53), &s2);
	ck_assert_ptr_null(listener_find(&lt, A4(0x0a000004u), 53));
	/* Any-address only once the specific ones are gone. */
	listener_remove(&lt, &s1);
	ck_assert_int_eq(listener_add(&lt, &any), -EADDRINUSE);
	listener_remove(&lt, &s2);
	ck_assert_int_eq(listener_add(&lt, &any), 0);
	ck_assert_int_eq(listener_add(&lt, &any2), -EADDRINUSE);
	ck_assert_int_eq(listener_add(&lt, &s1), -EADDRINUSE);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 53), &any);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000004u), 53), &any);
	listener_remove(&lt, &any);
	listener_remove(&lt, &other);
	ck_assert(listener_table_empty(&lt));
}
END_TEST

/* listener_find() prefers the exact address to an any-address listener
 * wherever each sits in the chain.  listener_add() never lets both exist
 * on one port, so build that chain by hand. */
/* The any-address listener (::) takes both families; a specific IPv6
 * address conflicts only with itself and the any-address listener. */
START_TEST(test_listener_v6)
{
	struct listener_table lt;
	struct listener any = {.port = 443, .addr = INANY_ANY};
	struct listener six = {.port = 80, .addr = v6_of(2)};
	struct listener four = {.port = 80, .addr = inany_from_v4(0x0a000002u)};
	struct listener six_again = {.port = 80, .addr = v6_of(2)};
	union inany other = v6_of(3), ours = v6_of(2);

	listener_table_init(&lt);
	ck_assert_int_eq(listener_add(&lt, &any), 0);
	ck_assert_ptr_eq(listener_find(&lt, &ours, 443), &any);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 443), &any);
	ck_assert_int_eq(listener_add(&lt, &six), 0);
	ck_assert_int_eq(listener_add(&lt, &four), 0);
	ck_assert_int_eq(listener_add(&lt, &six_again), -EADDRINUSE);
	ck_assert_ptr_eq(listener_find(&lt, &ours, 80), &six);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 80), &four);
	ck_assert_ptr_null(listener_find(&lt, &other, 80));
	listener_remove(&lt, &four);
	listener_remove(&lt, &six);
	listener_remove(&lt, &any);
	ck_assert(listener_table_empty(&lt));
}
END_TEST

START_TEST(test_listener_exact_first)
{
	struct listener_table lt;
	struct listener any = {.port = 7, .addr = inany_from_v4(0)};
	struct listener ex = {.port = 7, .addr = inany_from_v4(0x0a000002u)};
	size_t b = 7 % LISTENER_BUCKETS;

	listener_table_init(&lt);
	lt.bucket[b] = &any;
	any.next = &ex;
	ex.next = NULL;
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 7), &ex);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000009u), 7), &any);
	lt.bucket[b] = &ex;
	ex.next = &any;
	any.next = NULL;
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000002u), 7), &ex);
	ck_assert_ptr_eq(listener_find(&lt, A4(0x0a000009u), 7), &any);
}
END_TEST

/* ---- RFC 6528 ISNs ------------------------------------------------------- */

static const uint8_t isn_key[16] = {
	0x8e, 0x05, 0x4b, 0xf1, 0x27, 0x9c, 0x63, 0xda,
	0x10, 0xb4, 0x79, 0x3e, 0xe8, 0x52, 0xc6, 0x0f,
};

START_TEST(test_isn_formula)
{
	struct flow_key k = key_of(0x0a000002u, 0x0a000001u, 80, 40000);
	uint32_t f = (uint32_t)tapir_siphash24_12(isn_key, 0x0a0000010a000002ull,
					    40000u << 16 | 80u);

	/* M = 0: the ISN is F itself. */
	ck_assert_uint_eq(tcp_isn(&k, isn_key, 0), f);
	ck_assert_uint_eq(tcp_isn(&k, isn_key, 3), f);
	ck_assert_uint_eq(tcp_isn(&k, isn_key, 4000), (uint32_t)(f + 1000));
	/* M is truncated to 32 bits: it wraps after 2^32 ticks. */
	ck_assert_uint_eq(tcp_isn(&k, isn_key, 4ull << 32), f);
	ck_assert_uint_eq(tcp_isn(&k, isn_key, (4ull << 32) + 8),
			  (uint32_t)(f + 2));
}
END_TEST

START_TEST(test_isn_clock)
{
	struct flow_key k = key_of(0xc0a80001u, 0x08080808u, 443, 1234);
	uint64_t t0 = 1234567890123ull;
	uint32_t isn = tcp_isn(&k, isn_key, t0);
	int i;

	/* Same tuple, same time: same ISN. */
	ck_assert_uint_eq(tcp_isn(&k, isn_key, t0), isn);
	/* One tick every 4 us, wrapping in 32 bits. */
	ck_assert_uint_eq(tcp_isn(&k, isn_key, t0 + 4), (uint32_t)(isn + 1));
	ck_assert_uint_eq(tcp_isn(&k, isn_key, t0 + 4000000),
			  (uint32_t)(isn + 1000000));
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(
		    tcp_isn(&k, isn_key, t0 - t0 % 4 + (uint64_t)i), isn);
	ck_assert_uint_eq(tcp_isn(&k, isn_key, t0 - t0 % 4 + 4),
			  (uint32_t)(isn + 1));
	ck_assert_uint_eq(
	    tcp_isn(&k, isn_key, UINT64_MAX),
	    (uint32_t)(isn + (uint32_t)(UINT64_MAX / 4) - (uint32_t)(t0 / 4)));
}
END_TEST

/* F differs with every field of the tuple and with the secret; the ISN
 * minus M is F and does not depend on the time. */
START_TEST(test_isn_tuple_and_key)
{
	struct flow_key base = key_of(0x0a000002u, 0x0a000001u, 80, 40000);
	struct flow_key k[6];
	uint8_t key2[16];
	uint64_t t = 4000000;
	uint32_t m = (uint32_t)(t / 4), f[6];
	size_t i, j;

	for (i = 0; i < 6; i++)
		k[i] = base;
	k[1].laddr.v4.a4[3]++;
	k[2].raddr.v4.a4[3]++;
	k[3].lport++;
	k[4].rport++;
	k[5] = (struct flow_key){base.raddr, base.laddr, base.rport, base.lport};
	for (i = 0; i < 6; i++) {
		f[i] = tcp_isn(&k[i], isn_key, t) - m;
		ck_assert_uint_eq(f[i], tcp_isn(&k[i], isn_key, 0));
		for (j = 0; j < i; j++)
			ck_assert_uint_ne(f[i], f[j]);
	}
	memcpy(key2, isn_key, sizeof(key2));
	for (i = 0; i < 16; i++) {
		key2[i] ^= 0x01;
		ck_assert_uint_ne(tcp_isn(&base, key2, t),
				  tcp_isn(&base, isn_key, t));
		key2[i] ^= 0x01;
	}
	/* Many ports of one peer: F spreads over the whole space (no two
	 * alike among a few thousand, with high probability). */
	{
		static uint32_t seen[4096];
		size_t n = 0;

		for (i = 0; i < 4096; i++) {
			struct flow_key p = base;

			p.rport = (uint16_t)(1024 + i);
			seen[n++] = tcp_isn(&p, isn_key, 0);
		}
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (seen[i] == seen[j])
					ck_abort_msg("F collision at %zu, %zu",
						     i, j);
	}
}
END_TEST

static Suite *flow_suite(void)
{
	Suite *su = suite_create("flow");
	TCase *sip = tcase_create("siphash");
	TCase *fl = tcase_create("flow");
	TCase *li = tcase_create("listener");
	TCase *isn = tcase_create("isn");

	tcase_add_checked_fixture(sip, setup, NULL);
	tcase_add_test(sip, test_siphash_vectors);
	tcase_add_test(sip, test_siphash_unaligned);
	tcase_add_test(sip, test_siphash_12);
	tcase_add_test(sip, test_siphash_key);
	suite_add_tcase(su, sip);

	tcase_add_checked_fixture(fl, setup, NULL);
	tcase_set_timeout(fl, 30);
	tcase_add_test(fl, test_flow_hash_layout);
	tcase_add_test(fl, test_flow_hash_layout_v6);
	tcase_add_test(fl, test_flow_v6_keys);
	tcase_add_test(fl, test_flow_init_sizes);
	tcase_add_test(fl, test_flow_basic);
	tcase_add_test(fl, test_flow_eexist);
	tcase_add_test(fl, test_flow_one_field);
	tcase_add_test(fl, test_flow_one_chain);
	tcase_add_test(fl, test_flow_many);
	tcase_add_test(fl, test_flow_max_buckets);
	tcase_add_test(fl, test_flow_distribution);
	tcase_add_test(fl, test_flow_keyed);
	suite_add_tcase(su, fl);

	tcase_add_test(li, test_listener_basic);
	tcase_add_test(li, test_listener_conflicts);
	tcase_add_test(li, test_listener_v6);
	tcase_add_test(li, test_listener_exact_first);
	suite_add_tcase(su, li);

	tcase_add_test(isn, test_isn_formula);
	tcase_add_test(isn, test_isn_clock);
	tcase_add_test(isn, test_isn_tuple_and_key);
	suite_add_tcase(su, isn);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(flow_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
