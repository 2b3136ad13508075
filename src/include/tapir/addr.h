/*
 * A family-neutral address for the module ABI (header-only).
 *
 * struct tapir_addr holds an IPv6 address in network byte order; an IPv4
 * address is stored IPv4-mapped (RFC 4291 2.5.5.2: ::ffff:a.b.c.d), so one
 * type, one comparison and one hash serve both families.  tapird's stack
 * keeps its own types; the host converts at the module boundary.
 *
 *   struct tapir_addr a = tapir_addr_from_v4(0x0a000002);   10.0.0.2
 *   tapir_addr_is_v4(&a)             true
 *   tapir_addr_v4(&a)                0x0a000002 (host order)
 *   tapir_addr_format(&a, buf)       "10.0.0.2"; IPv6 per RFC 5952
 *   tapir_addr_parse("fd00::2", &a)  true
 */
#ifndef TAPIR_ADDR_H
#define TAPIR_ADDR_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tapir_addr {
	uint8_t b[16]; /* network byte order */
};

/* Longest text tapir_addr_format() writes, with its NUL. */
#define TAPIR_ADDR_STRLEN 46

/* The IPv4 address v (host order) as ::ffff:v. */
static inline struct tapir_addr tapir_addr_from_v4(uint32_t v)
{
	struct tapir_addr a = {{0}};

	a.b[10] = 0xff;
	a.b[11] = 0xff;
	a.b[12] = (uint8_t)(v >> 24);
	a.b[13] = (uint8_t)(v >> 16);
	a.b[14] = (uint8_t)(v >> 8);
	a.b[15] = (uint8_t)v;
	return a;
}

/* Is a an IPv4-mapped address? */
static inline bool tapir_addr_is_v4(const struct tapir_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0,
					   0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

/* The IPv4 address in a (host order); meaningful when tapir_addr_is_v4(). */
static inline uint32_t tapir_addr_v4(const struct tapir_addr *a)
{
	return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 |
	       (uint32_t)a->b[14] << 8 | a->b[15];
}

/* Is a the unspecified address (::, or 0.0.0.0 mapped)? */
static inline bool tapir_addr_is_unspec(const struct tapir_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->b, zero, sizeof(zero)) == 0 ||
	       (tapir_addr_is_v4(a) && tapir_addr_v4(a) == 0);
}

static inline bool tapir_addr_eq(const struct tapir_addr *a,
				 const struct tapir_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* a as text into buf (TAPIR_ADDR_STRLEN bytes): a mapped IPv4 address as a
 * dotted quad, any other in RFC 5952's canonical form (lower case, no
 * leading zeros, the longest run of two or more zero groups -- the first
 * of equals -- as "::").  Returns buf. */
static inline char *tapir_addr_format(const struct tapir_addr *a,
				      char buf[TAPIR_ADDR_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	int best = -1, best_len = 0;
	uint16_t w[8];
	char *p = buf;

	if (tapir_addr_is_v4(a)) {
		for (int i = 12; i < 16; i++) {
			unsigned v = a->b[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 15 ? '.' : '\0';
		}
		return buf;
	}
	for (int i = 0; i < 8; i++)
		w[i] = (uint16_t)(a->b[2 * i] << 8 | a->b[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int n = 0;

		while (i + n < 8 && w[i + n] == 0)
			n++;
		if (n > best_len && n >= 2) {
			best = i;
			best_len = n;
		}
		i += n ? n : 1;
	}
	for (int i = 0; i < 8;) {
		int shift = 12;

		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len;
			continue;
		}
		if (i > 0 && i != best + best_len)
			*p++ = ':';
		while (shift > 0 && !(w[i] >> shift & 0xf))
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			*p++ = hex[w[i] >> shift & 0xf];
		i++;
	}
	*p = '\0';
	return buf;
}

/* Parse a dotted quad or an IPv6 address (RFC 4291 2.2 text forms) into
 * *out; false when s is neither. */
static inline bool tapir_addr_parse(const char *s, struct tapir_addr *out)
{
	struct in_addr v4;

	if (!s)
		return false;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		*out = tapir_addr_from_v4(ntohl(v4.s_addr));
		return true;
	}
	return inet_pton(AF_INET6, s, out->b) == 1;
}

#ifdef __cplusplus
}
#endif
#endif
