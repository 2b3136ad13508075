/*
 * Protocol text, for modules (header-only): ASCII case folding and strict
 * decimal numbers.  Locale-independent on purpose: DNS names, HTTP tokens
 * and zone-file keywords are ASCII whatever LC_CTYPE says, and a number
 * on the wire has no sign, no spaces and no base prefix.
 */
#ifndef TAPIR_TEXT_H
#define TAPIR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* c with A-Z folded to a-z; every other byte as it is. */
static inline uint8_t tapir_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/* The value of a hexadecimal digit (either case), or -1. */
static inline int tapir_hexval(uint8_t c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* Are the n bytes at a and b equal, ignoring ASCII case? */
static inline bool tapir_ieq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (tapir_lower(x[i]) != tapir_lower(y[i]))
			return false;
	return true;
}

/* Is s[0..len) the string lit, ignoring ASCII case? */
static inline bool tapir_ieq_str(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && tapir_ieq(s, lit, len);
}

/* Does s[0..len) start with lit, ignoring ASCII case? */
static inline bool tapir_iprefix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && tapir_ieq(s, lit, n);
}

/* The run of decimal digits that starts s[0..len): its length, and its
 * value in *out.  0 when s does not start with a digit or the run is
 * longer than max_digits (at most 19, so the value always fits). */
static inline size_t tapir_dec_prefix(const char *s, size_t len,
				      unsigned max_digits, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (max_digits > 19)
		max_digits = 19;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (i >= max_digits)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i)
		*out = v;
	return i;
}

/* s[0..len) as a whole decimal number: 1..max_digits digits (at most 19)
 * and nothing else, at most max.  False otherwise, *out untouched. */
static inline bool tapir_dec_parse(const char *s, size_t len,
				   unsigned max_digits, uint64_t max,
				   uint64_t *out)
{
	uint64_t v;

	if (!len || tapir_dec_prefix(s, len, max_digits, &v) != len || v > max)
		return false;
	*out = v;
	return true;
}

#ifdef __cplusplus
}
#endif
#endif
