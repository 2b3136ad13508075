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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tapir/text.h>

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

/* The IPv4 netmask of a prefix length (host order): 24 is 0xffffff00,
 * 0 is 0, 32 and beyond all ones. */
static inline uint32_t tapir_v4_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu
					      : ~0u << (32 - prefix);
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

/* s[0..len) as a dotted quad (four decimals 0..255, no leading zeros)
 * into out; false otherwise. */
static inline bool tapir_addr_parse_v4_(const char *s, size_t len,
					uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part && (i >= len || s[i++] != '.'))
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (digits && v == 0)
				return false; /* a leading zero */
			v = v * 10 + (unsigned)(s[i++] - '0');
			if (++digits > 3 || v > 255)
				return false;
		}
		if (!digits)
			return false;
		out[part] = (uint8_t)v;
	}
	return i == len;
}

/* s[0..len) in an RFC 4291 2.2 text form (groups of 1..4 hex digits, at
 * most one "::", optionally a dotted quad last) into out. */
static inline bool tapir_addr_parse_v6_(const char *s, size_t len,
					uint8_t out[16])
{
	uint16_t w[8];
	int n = 0, gap = -1;
	size_t i = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < len) {
		size_t end = i;
		bool dot = false;
		unsigned v = 0;

		while (end < len && s[end] != ':')
			dot |= s[end++] == '.';
		if (dot) { /* the last 32 bits as a dotted quad */
			uint8_t q[4];

			if (end != len || n > 6 ||
			    !tapir_addr_parse_v4_(s + i, end - i, q))
				return false;
			w[n++] = (uint16_t)(q[0] << 8 | q[1]);
			w[n++] = (uint16_t)(q[2] << 8 | q[3]);
			break;
		}
		if (end == i || end - i > 4 || n >= 8)
			return false;
		for (; i < end; i++) {
			int h = tapir_hexval((uint8_t)s[i]);

			if (h < 0)
				return false;
			v = v << 4 | (unsigned)h;
		}
		w[n++] = (uint16_t)v;
		if (i == len)
			break;
		i++; /* the ':' */
		if (i < len && s[i] == ':') {
			if (gap >= 0)
				return false;
			gap = n;
			i++;
		} else if (i == len) {
			return false; /* a single ':' at the end */
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return false;
	memset(out, 0, 16);
	for (int k = 0; k < n; k++) {
		int at = gap < 0 || k < gap ? k : 8 - n + k;

		out[2 * at] = (uint8_t)(w[k] >> 8);
		out[2 * at + 1] = (uint8_t)w[k];
	}
	return true;
}

/* A dotted quad (as inet_pton(AF_INET): four decimals 0..255, no leading
 * zeros, nothing else) into *out, host order; false otherwise. */
static inline bool tapir_ipv4_parse(const char *s, uint32_t *out)
{
	uint8_t q[4];

	if (!s || !tapir_addr_parse_v4_(s, strlen(s), q))
		return false;
	*out = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	       (uint32_t)q[2] << 8 | q[3];
	return true;
}

/* Parse a dotted quad or an IPv6 address (RFC 4291 2.2 text forms) into
 * *out; false when s is neither (*out may have changed). */
static inline bool tapir_addr_parse(const char *s, struct tapir_addr *out)
{
	uint32_t v4;

	if (!s)
		return false;
	if (tapir_ipv4_parse(s, &v4)) {
		*out = tapir_addr_from_v4(v4);
		return true;
	}
	return tapir_addr_parse_v6_(s, strlen(s), out->b);
}

#ifdef __cplusplus
}
#endif
#endif
