/*
 * SipHash-2-4, the keyed pseudo-random function of Aumasson and Bernstein
 * ("SipHash: a fast short-input PRF", 2012), written from the paper's
 * description.
 *
 * The key is 16 bytes, read as two little-endian 64-bit words k0 and k1.
 * The message is read as little-endian 64-bit words; the last word holds
 * the 0..7 trailing bytes with the message length mod 256 in its top byte.
 * Each word gets two SipRounds, the finalisation four.  All loads are
 * byte by byte, so the result (a 64-bit integer whose little-endian bytes
 * are the paper's output bytes) is the same on any host byte order and
 * needs no alignment.
 *
 * Header-only, so that modules (which link nothing of tapird's) and the
 * stack core share one implementation.  The core uses it to spread the
 * connection table (flow.c) with a secret key, so that an outsider cannot
 * choose 4-tuples that all land in one chain, and as the F() of RFC 6528
 * initial sequence numbers (tcp_isn.c); the dns and dhcp modules key their
 * client tables with it.
 */
#ifndef TAPIR_SIPHASH_H
#define TAPIR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define TAPIR_SIPHASH_KEY_LEN 16

/* The initialisation constants: "somepseudorandomlygeneratedbytes". */
#define TAPIR_SIP_C0 0x736f6d6570736575ull
#define TAPIR_SIP_C1 0x646f72616e646f6dull
#define TAPIR_SIP_C2 0x6c7967656e657261ull
#define TAPIR_SIP_C3 0x7465646279746573ull

struct tapir_sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t tapir_rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* n bytes (0..8) at p as a little-endian integer. */
static inline uint64_t tapir_load_le(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	while (n--)
		x = (x << 8) | p[n];
	return x;
}

static inline void tapir_sip_round(struct tapir_sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = tapir_rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = tapir_rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = tapir_rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = tapir_rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = tapir_rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = tapir_rotl64(s->v2, 32);
}

static inline void tapir_sip_init(struct tapir_sip_state *s, const uint8_t *key)
{
	uint64_t k0 = tapir_load_le(key, 8), k1 = tapir_load_le(key + 8, 8);

	s->v0 = k0 ^ TAPIR_SIP_C0;
	s->v1 = k1 ^ TAPIR_SIP_C1;
	s->v2 = k0 ^ TAPIR_SIP_C2;
	s->v3 = k1 ^ TAPIR_SIP_C3;
}

/* Compression: c = 2 rounds per message word. */
static inline void tapir_sip_word(struct tapir_sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	tapir_sip_round(s);
	tapir_sip_round(s);
	s->v0 ^= m;
}

/* Finalisation: d = 4 rounds. */
static inline uint64_t tapir_sip_final(struct tapir_sip_state *s)
{
	s->v2 ^= 0xff;
	tapir_sip_round(s);
	tapir_sip_round(s);
	tapir_sip_round(s);
	tapir_sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* SipHash-2-4 of len bytes at data under key. */
static inline uint64_t tapir_siphash24(const void *data, size_t len,
				       const uint8_t key[TAPIR_SIPHASH_KEY_LEN])
{
	const uint8_t *p = data;
	size_t left = len;
	struct tapir_sip_state s;

	tapir_sip_init(&s, key);
	for (; left >= 8; left -= 8, p += 8)
		tapir_sip_word(&s, tapir_load_le(p, 8));
	tapir_sip_word(&s, tapir_load_le(p, left) | (uint64_t)(len & 0xff)
							<< 56);
	return tapir_sip_final(&s);
}

/* SipHash-2-4 of a fixed 12-byte message given as words: the same value as
 * tapir_siphash24() over the 8 little-endian bytes of w0 followed by the 4
 * little-endian bytes of w1, without building the buffer. */
static inline uint64_t
tapir_siphash24_12(const uint8_t key[TAPIR_SIPHASH_KEY_LEN], uint64_t w0,
		   uint32_t w1)
{
	struct tapir_sip_state s;

	tapir_sip_init(&s, key);
	tapir_sip_word(&s, w0);
	tapir_sip_word(&s, (uint64_t)w1 | 12ull << 56);
	return tapir_sip_final(&s);
}

#endif
