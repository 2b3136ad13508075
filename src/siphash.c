/* SipHash-2-4; see siphash.h. */
#include "siphash.h"

/* The initialisation constants: "somepseudorandomlygeneratedbytes". */
#define SIP_C0 0x736f6d6570736575ull
#define SIP_C1 0x646f72616e646f6dull
#define SIP_C2 0x6c7967656e657261ull
#define SIP_C3 0x7465646279746573ull

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* n bytes (0..8) at p as a little-endian integer. */
static inline uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	while (n--)
		x = (x << 8) | p[n];
	return x;
}

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline void sip_init(struct sip_state *s, const uint8_t *key)
{
	uint64_t k0 = load_le(key, 8), k1 = load_le(key + 8, 8);

	s->v0 = k0 ^ SIP_C0;
	s->v1 = k1 ^ SIP_C1;
	s->v2 = k0 ^ SIP_C2;
	s->v3 = k1 ^ SIP_C3;
}

/* Compression: c = 2 rounds per message word. */
static inline void sip_word(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

/* Finalisation: d = 4 rounds. */
static inline uint64_t sip_final(struct sip_state *s)
{
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t siphash24(const void *data, size_t len,
		   const uint8_t key[SIPHASH_KEY_LEN])
{
	const uint8_t *p = data;
	size_t left = len;
	struct sip_state s;

	sip_init(&s, key);
	for (; left >= 8; left -= 8, p += 8)
		sip_word(&s, load_le(p, 8));
	sip_word(&s, load_le(p, left) | (uint64_t)(len & 0xff) << 56);
	return sip_final(&s);
}

uint64_t siphash24_12(const uint8_t key[SIPHASH_KEY_LEN], uint64_t w0,
		      uint32_t w1)
{
	struct sip_state s;

	sip_init(&s, key);
	sip_word(&s, w0);
	sip_word(&s, (uint64_t)w1 | 12ull << 56);
	return sip_final(&s);
}
