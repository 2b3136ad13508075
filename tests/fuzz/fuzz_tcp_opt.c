/*
 * libFuzzer harness: the TCP options parser and writer (src/tcp_opt.c).
 *
 * Input format: byte 0 bit 0 is the SYN flag (the other bits are unused),
 * the rest is an options area, cut to 40 bytes (the most a TCP header can
 * carry; run with -max_len=41).  The area is parsed from a heap copy of
 * exactly its size, so ASan catches a read past its end.
 *
 * Checked (abort() on failure):
 *   - tcp_opts_parse() fails exactly when an independent walk of the area
 *     finds an option that does not fit (a kind in the last byte, a length
 *     < 2 or past the end), and then leaves "no options" and the ignored
 *     counter untouched;
 *   - what it returns is in range and only where it means something: MSS
 *     >= TCP_MIN_MSS, WS <= TCP_MAX_WS, at most 4 SACK blocks, MSS/WS/
 *     SACK_PERM only on a SYN, SACK blocks only without one, at most one
 *     ignored option per two bytes;
 *   - writing the result back with tcp_opts_write() gives tcp_opts_len()
 *     bytes, a multiple of 4 and at most 40, which parse again, with
 *     nothing ignored, to the same options; a room one byte smaller makes
 *     the writer write nothing and return 0.
 */
#include "net/tcp/tcp_opt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef __clang__
#define HARNESS_ONLY __attribute__((no_sanitize("coverage"), noinline))
#else
#define HARNESS_ONLY __attribute__((noinline))
#endif

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr,                                                \
			"fuzz_tcp_opt: invariant violated: " __VA_ARGS__);     \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

/* The walk tcp_opts_parse() must do, written independently. */
HARNESS_ONLY static int ref_walk(const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (b[i] == TCP_OPT_EOL)
			return 0;
		if (b[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2 || b[i + 1] < 2 || b[i + 1] > n - i)
			return -1;
		i += b[i + 1];
	}
	return 0;
}

HARNESS_ONLY static bool opts_none(const struct tcp_opts *o)
{
	static const struct tcp_opts zero;

	return !memcmp(o, &zero, sizeof(zero));
}

/* The fields a parse fills in; the rest of sack[] is not compared. */
HARNESS_ONLY static bool opts_eq(const struct tcp_opts *a,
				 const struct tcp_opts *b)
{
	if (a->mss_ok != b->mss_ok || a->mss != b->mss ||
	    a->ws_ok != b->ws_ok || a->ws != b->ws ||
	    a->sack_perm != b->sack_perm || a->ts_ok != b->ts_ok ||
	    a->tsval != b->tsval || a->tsecr != b->tsecr ||
	    a->nsack != b->nsack || a->nsack > TCP_MAX_SACK)
		return false;
	for (size_t i = 0; i < a->nsack; i++)
		if (a->sack[i].start != b->sack[i].start ||
		    a->sack[i].end != b->sack[i].end)
			return false;
	return true;
}

static int parse_copy(const uint8_t *b, size_t n, bool syn, struct tcp_opts *o,
		      unsigned *ignored)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	if (!copy)
		abort();
	if (n)
		memcpy(copy, b, n);
	r = tcp_opts_parse(cur_make(copy, n), syn, o, ignored);
	free(copy);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_opts o, again;
	uint8_t w[TCP_MAX_OPTLEN + 1];
	unsigned ignored = 0, ignored2 = 0;
	size_t n, len;
	bool syn;
	int r;

	if (size < 1)
		return 0;
	syn = data[0] & 1;
	data++;
	n = size - 1 > TCP_MAX_OPTLEN ? TCP_MAX_OPTLEN : size - 1;

	/* Garbage in the result must not survive the parse. */
	memset(&o, 0xa5, sizeof(o));
	r = parse_copy(data, n, syn, &o, &ignored);
	if (r != ref_walk(data, n))
		FAIL("%zu-byte area: parse says %d, the walk %d", n, r,
		     ref_walk(data, n));
	if (r) {
		if (!opts_none(&o))
			FAIL("options left after a malformed area");
		if (ignored)
			FAIL("%u ignored counted on a malformed area", ignored);
		return 0;
	}
	if (ignored > n / 2)
		FAIL("%u ignored in %zu bytes", ignored, n);
	if (o.mss_ok ? o.mss < TCP_MIN_MSS : o.mss != 0)
		FAIL("mss %u (ok %d)", o.mss, o.mss_ok);
	if (o.ws_ok ? o.ws > TCP_MAX_WS : o.ws != 0)
		FAIL("ws %u (ok %d)", o.ws, o.ws_ok);
	if (!o.ts_ok && (o.tsval || o.tsecr))
		FAIL("timestamps without ts_ok");
	if (o.nsack > TCP_MAX_SACK)
		FAIL("nsack %u", o.nsack);
	if (syn && o.nsack)
		FAIL("SACK blocks taken on a SYN");
	if (!syn && (o.mss_ok || o.ws_ok || o.sack_perm))
		FAIL("SYN-only option taken without SYN");

	memset(w, 0xa5, sizeof(w));
	len = tcp_opts_write(w, TCP_MAX_OPTLEN, &o, syn);
	if (len != tcp_opts_len(&o, syn) || len % 4 || len > TCP_MAX_OPTLEN ||
	    w[TCP_MAX_OPTLEN] != 0xa5)
		FAIL("wrote %zu bytes, tcp_opts_len %zu", len,
		     tcp_opts_len(&o, syn));
	r = parse_copy(w, len, syn, &again, &ignored2);
	if (r || ignored2)
		FAIL("our own %zu bytes: parse %d, %u ignored", len, r,
		     ignored2);
	if (!opts_eq(&o, &again))
		FAIL("options changed in a write/parse round trip");
	if (len) {
		uint8_t small[TCP_MAX_OPTLEN];

		memset(small, 0x5a, sizeof(small));
		if (tcp_opts_write(small, len - 1, &o, syn) != 0)
			FAIL("wrote into %zu bytes of room", len - 1);
		for (size_t i = 0; i < sizeof(small); i++)
			if (small[i] != 0x5a)
				FAIL("byte %zu written without room", i);
	}
	return 0;
}
