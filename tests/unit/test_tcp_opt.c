/* TCP header and options (src/wire/tcp.h, src/tcp_opt.c): header round
 * trips and impossible data offsets, sequence arithmetic across the wrap,
 * option round trips, every malformed option shape, and bulk runs over
 * arbitrary option areas.  Each area is parsed from a heap block of exactly
 * its size, so under ASan a read one byte past it fails the test. */
#include "helpers.h"
#include "net/tcp/tcp_opt.h"
#include "wire/tcp.h"

#include <stdlib.h>
#include <string.h>

/* ---- Helpers ------------------------------------------------------------- */

/* Parse the n bytes at b from a heap copy of exactly n bytes. */
static int parse_n(const uint8_t *b, size_t n, bool syn, struct tcp_opts *o,
		   unsigned *ignored)
{
	uint8_t *copy = malloc(n ? n : 1);
	int r;

	if (!copy)
		ck_abort_msg("out of memory");
	if (n)
		memcpy(copy, b, n);
	r = tcp_opts_parse(cur_make(copy, n), syn, o, ignored);
	free(copy);
	return r;
}

#define PARSE(arr, syn, o, ig) parse_n(arr, sizeof(arr), syn, o, ig)

/* Every passing ck_assert() records a mark point, a write to Check's
 * message file in fork mode: far too slow for the bulk loops below, which
 * test with plain conditions and call into Check only on failure. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg(__VA_ARGS__);                             \
	} while (0)

static bool opts_none(const struct tcp_opts *o)
{
	static const struct tcp_sack_block zero;

	if (o->mss_ok || o->mss || o->ws_ok || o->ws || o->sack_perm ||
	    o->ts_ok || o->tsval || o->tsecr || o->nsack)
		return false;
	for (size_t i = 0; i < TCP_MAX_SACK; i++)
		if (memcmp(&o->sack[i], &zero, sizeof(zero)))
			return false;
	return true;
}

static bool opts_eq(const struct tcp_opts *a, const struct tcp_opts *b)
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

/* Every field of the "no options" result. */
static void expect_none(const struct tcp_opts *o)
{
	ck_assert(!o->mss_ok);
	ck_assert_uint_eq(o->mss, 0);
	ck_assert(!o->ws_ok);
	ck_assert_uint_eq(o->ws, 0);
	ck_assert(!o->sack_perm);
	ck_assert(!o->ts_ok);
	ck_assert_uint_eq(o->tsval, 0);
	ck_assert_uint_eq(o->tsecr, 0);
	ck_assert_uint_eq(o->nsack, 0);
	for (size_t i = 0; i < TCP_MAX_SACK; i++) {
		ck_assert_uint_eq(o->sack[i].start, 0);
		ck_assert_uint_eq(o->sack[i].end, 0);
	}
}

static void expect_opts_eq(const struct tcp_opts *a, const struct tcp_opts *b)
{
	ck_assert_int_eq(a->mss_ok, b->mss_ok);
	ck_assert_uint_eq(a->mss, b->mss);
	ck_assert_int_eq(a->ws_ok, b->ws_ok);
	ck_assert_uint_eq(a->ws, b->ws);
	ck_assert_int_eq(a->sack_perm, b->sack_perm);
	ck_assert_int_eq(a->ts_ok, b->ts_ok);
	ck_assert_uint_eq(a->tsval, b->tsval);
	ck_assert_uint_eq(a->tsecr, b->tsecr);
	ck_assert_uint_eq(a->nsack, b->nsack);
	for (size_t i = 0; i < a->nsack && i < TCP_MAX_SACK; i++) {
		ck_assert_uint_eq(a->sack[i].start, b->sack[i].start);
		ck_assert_uint_eq(a->sack[i].end, b->sack[i].end);
	}
}

/* Option builders: each writes one option at b and returns its length. */
static size_t put_raw(uint8_t *b, uint8_t kind, uint8_t len, uint8_t fill)
{
	b[0] = kind;
	b[1] = len;
	if (len > 2)
		memset(b + 2, fill, len - 2u);
	return len < 2 ? 2 : len;
}

static size_t put_mss(uint8_t *b, uint16_t mss)
{
	b[0] = TCP_OPT_MSS;
	b[1] = TCP_OLEN_MSS;
	put_be16(b + 2, mss);
	return TCP_OLEN_MSS;
}

static size_t put_ws(uint8_t *b, uint8_t ws)
{
	b[0] = TCP_OPT_WS;
	b[1] = TCP_OLEN_WS;
	b[2] = ws;
	return TCP_OLEN_WS;
}

static size_t put_sack_perm(uint8_t *b)
{
	b[0] = TCP_OPT_SACK_PERM;
	b[1] = TCP_OLEN_SACK_PERM;
	return TCP_OLEN_SACK_PERM;
}

static size_t put_ts(uint8_t *b, uint32_t tsval, uint32_t tsecr)
{
	b[0] = TCP_OPT_TS;
	b[1] = TCP_OLEN_TS;
	put_be32(b + 2, tsval);
	put_be32(b + 6, tsecr);
	return TCP_OLEN_TS;
}

/* n blocks: block i is [base + 1000 i, base + 1000 i + 500). */
static size_t put_sack(uint8_t *b, size_t n, uint32_t base)
{
	b[0] = TCP_OPT_SACK;
	b[1] = (uint8_t)(TCP_OLEN_SACK_BASE + n * TCP_OLEN_SACK_BLOCK);
	for (size_t i = 0; i < n; i++) {
		uint32_t s = base + 1000u * (uint32_t)i;

		put_be32(b + 2 + 8 * i, s);
		put_be32(b + 6 + 8 * i, s + 500);
	}
	return b[1];
}

static void expect_sack(const struct tcp_opts *o, size_t n, uint32_t base)
{
	ck_assert_uint_eq(o->nsack, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t s = base + 1000u * (uint32_t)i;

		ck_assert_uint_eq(o->sack[i].start, s);
		ck_assert_uint_eq(o->sack[i].end, s + 500);
	}
}

/* ---- Header -------------------------------------------------------------- */

START_TEST(test_tcp_hdr_roundtrip)
{
	static const uint8_t want_hdr[TCP_HLEN] = {
		0xc0, 0x00, 0x00, 0x50, 0xfe, 0xdc, 0xba, 0x98, 0x12, 0x34,
		0x56, 0x78, 0xa0, 0xd2, 0xfa, 0xf0, 0xbe, 0xef, 0x12, 0x34,
	};
	const struct tcp_opts o = {
		.mss_ok = true, .mss = 1460, .ws_ok = true, .ws = 7,
		.sack_perm = true, .ts_ok = true, .tsval = 0x01020304,
		.tsecr = 0,
	};
	struct tcp_hdr h = {
		.sport = 49152, .dport = 80, .seq = 0xfedcba98,
		.ack = 0x12345678,
		.flags = TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE |
			 TCP_FLAG_CWR,
		.win = 64240, .csum = 0xbeef, .urg = 0x1234,
	};
	uint8_t b[TCP_MAX_HLEN + 5];
	struct tcp_hdr out;
	struct tcp_opts po;
	struct cur c, opts;
	unsigned ignored = 0;
	size_t olen;

	olen = tcp_opts_write(b + TCP_HLEN, TCP_MAX_OPTLEN, &o, true);
	ck_assert_uint_eq(olen, 20);
	h.doff = (uint8_t)(TCP_HLEN + olen);
	tcp_hdr_write(b, &h);
	ck_assert_mem_eq(b, want_hdr, TCP_HLEN);
	memcpy(b + h.doff, "hello", 5);

	c = cur_make(b, h.doff + 5u);
	ck_assert(tcp_hdr_parse(&c, &out, &opts));
	ck_assert_uint_eq(out.sport, h.sport);
	ck_assert_uint_eq(out.dport, h.dport);
	ck_assert_uint_eq(out.seq, h.seq);
	ck_assert_uint_eq(out.ack, h.ack);
	ck_assert_uint_eq(out.doff, 40);
	ck_assert_uint_eq(out.flags, h.flags);
	ck_assert_uint_eq(out.win, h.win);
	ck_assert_uint_eq(out.csum, h.csum);
	ck_assert_uint_eq(out.urg, h.urg);
	/* c is at the payload, opts is exactly the options. */
	ck_assert_ptr_eq(c.p, b + 40);
	ck_assert_uint_eq(c.len, 5);
	ck_assert_mem_eq(c.p, "hello", 5);
	ck_assert_ptr_eq(opts.p, b + TCP_HLEN);
	ck_assert_uint_eq(opts.len, olen);
	ck_assert_int_eq(tcp_opts_parse(opts, true, &po, &ignored), 0);
	ck_assert_uint_eq(ignored, 0);
	expect_opts_eq(&po, &o);

	/* Each flag bit alone; the reserved nibble of byte 12 is ignored
	 * on input and written as zero. */
	for (unsigned bit = 0; bit < 8; bit++) {
		h.flags = (uint8_t)(1u << bit);
		h.doff = TCP_HLEN;
		tcp_hdr_write(b, &h);
		ck_assert_uint_eq(b[12], 0x50);
		b[12] |= 0x0f;
		c = cur_make(b, TCP_HLEN);
		ck_assert(tcp_hdr_parse(&c, &out, &opts));
		ck_assert_uint_eq(out.flags, 1u << bit);
		ck_assert_uint_eq(out.doff, TCP_HLEN);
		ck_assert_uint_eq(opts.len, 0);
		ck_assert_uint_eq(c.len, 0);
	}
	ck_assert_uint_eq(TCP_FLAG_FIN | TCP_FLAG_SYN | TCP_FLAG_RST |
			  TCP_FLAG_PSH | TCP_FLAG_ACK | TCP_FLAG_URG |
			  TCP_FLAG_ECE | TCP_FLAG_CWR, 0xff);
}
END_TEST

START_TEST(test_tcp_hdr_impossible_lengths)
{
	const struct tcp_hdr h = {.sport = 1, .dport = 2, .doff = TCP_HLEN};
	uint8_t b[TCP_MAX_HLEN + 4] = {0};
	const struct cur sentinel = cur_make(b, 1);
	struct tcp_hdr out;
	struct cur c, opts;

	tcp_hdr_write(b, &h);
	/* Fewer than 20 bytes: refused, nothing consumed. */
	for (size_t n = 0; n < TCP_HLEN; n++) {
		c = cur_make(b, n);
		opts = sentinel;
		ck_assert(!tcp_hdr_parse(&c, &out, &opts));
		ck_assert_ptr_eq(c.p, b);
		ck_assert_uint_eq(c.len, n);
		ck_assert_ptr_eq(opts.p, sentinel.p);
		ck_assert_uint_eq(opts.len, sentinel.len);
	}
	/* Every data offset in every segment length from 20 to 64. */
	for (unsigned nib = 0; nib < 16; nib++) {
		for (size_t len = TCP_HLEN; len <= sizeof(b); len++) {
			size_t doff = nib * 4;
			bool ok, want = doff >= TCP_HLEN && doff <= len;

			b[12] = (uint8_t)(nib << 4);
			c = cur_make(b, len);
			opts = sentinel;
			ok = tcp_hdr_parse(&c, &out, &opts);
			ck_assert_msg(ok == want,
				      "data offset %u in %zu bytes: %s", nib,
				      len, ok ? "accepted" : "refused");
			ck_assert_uint_eq(out.doff, doff);
			if (ok) {
				ck_assert_ptr_eq(c.p, b + doff);
				ck_assert_uint_eq(c.len, len - doff);
				ck_assert_ptr_eq(opts.p, b + TCP_HLEN);
				ck_assert_uint_eq(opts.len, doff - TCP_HLEN);
			} else {
				ck_assert_ptr_eq(c.p, b);
				ck_assert_uint_eq(c.len, len);
				ck_assert_ptr_eq(opts.p, sentinel.p);
				ck_assert_uint_eq(opts.len, sentinel.len);
			}
		}
	}
	/* The data offset exactly at the end: no payload, 40 option bytes. */
	b[12] = 0xf0;
	c = cur_make(b, TCP_MAX_HLEN);
	ck_assert(tcp_hdr_parse(&c, &out, &opts));
	ck_assert_uint_eq(c.len, 0);
	ck_assert_ptr_eq(c.p, b + TCP_MAX_HLEN);
	ck_assert_uint_eq(opts.len, TCP_MAX_OPTLEN);
	/* One byte short of it. */
	c = cur_make(b, TCP_MAX_HLEN - 1);
	ck_assert(!tcp_hdr_parse(&c, &out, &opts));
	/* Offsets 0..4. */
	for (unsigned nib = 0; nib < 5; nib++) {
		b[12] = (uint8_t)(nib << 4);
		c = cur_make(b, sizeof(b));
		ck_assert(!tcp_hdr_parse(&c, &out, &opts));
	}
}
END_TEST

/* ---- Sequence numbers ---------------------------------------------------- */

START_TEST(test_seq_compare)
{
	static const uint32_t bases[] = {
		0, 1, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001,
		0xfffffff0, 0xfffffffe, 0xffffffff,
	};
	static const uint32_t dists[] = {1, 2, 0x10, 1000, 0x10000,
					 0x7ffffffe, 0x7fffffff};

	/* Across the wrap. */
	ck_assert(seq_lt(0xfffffff0u, 0x10));
	ck_assert(seq_leq(0xfffffff0u, 0x10));
	ck_assert(!seq_gt(0xfffffff0u, 0x10));
	ck_assert(!seq_geq(0xfffffff0u, 0x10));
	ck_assert(!seq_lt(0x10, 0xfffffff0u));
	ck_assert(seq_gt(0x10, 0xfffffff0u));
	ck_assert(seq_geq(0x10, 0xfffffff0u));
	ck_assert(seq_lt(0xffffffffu, 0));
	ck_assert(seq_gt(0, 0xffffffffu));

	/* Signed distances, including the ends of the range. */
	ck_assert_int_eq(seq_diff(0, 1), -1);
	ck_assert_int_eq(seq_diff(1, 0), 1);
	ck_assert_int_eq(seq_diff(0x10, 0xfffffff0u), 0x20);
	ck_assert_int_eq(seq_diff(0xfffffff0u, 0x10), -0x20);
	ck_assert_int_eq(seq_diff(0x7fffffff, 0), INT32_MAX);
	ck_assert_int_eq(seq_diff(0x80000001u, 0), -INT32_MAX);
	ck_assert_int_eq(seq_diff(0x80000000u, 0), INT32_MIN);
	ck_assert_int_eq(seq_diff(0, 0x80000000u), INT32_MIN);

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t a = bases[i];

		/* Equal. */
		ck_assert(!seq_lt(a, a));
		ck_assert(seq_leq(a, a));
		ck_assert(!seq_gt(a, a));
		ck_assert(seq_geq(a, a));
		ck_assert_int_eq(seq_diff(a, a), 0);
		for (size_t j = 0; j < sizeof(dists) / sizeof(dists[0]); j++) {
			uint32_t b = a + dists[j];

			ck_assert_msg(seq_lt(a, b) && seq_leq(a, b) &&
				      !seq_gt(a, b) && !seq_geq(a, b),
				      "%08x before %08x", a, b);
			ck_assert_msg(!seq_lt(b, a) && !seq_leq(b, a) &&
				      seq_gt(b, a) && seq_geq(b, a),
				      "%08x after %08x", b, a);
			ck_assert_int_eq(seq_diff(b, a), (int32_t)dists[j]);
			ck_assert_int_eq(seq_diff(a, b), -(int32_t)dists[j]);
		}
		/* Exactly 2^31 apart: each is before the other. */
		ck_assert(seq_lt(a, a + 0x80000000u));
		ck_assert(seq_lt(a + 0x80000000u, a));
	}
}
END_TEST

START_TEST(test_seq_in_window)
{
	static const uint32_t starts[] = {0, 1, 0x7ffffff0, 0x80000000,
					  0xfffffff0, 0xffffffff};
	static const uint32_t lens[] = {1, 2, 0x20, 65535, 0x7fffffff};

	/* A window across the wrap. */
	ck_assert(seq_in_window(0xfffffff0u, 0xfffffff0u, 0x20));
	ck_assert(seq_in_window(0xffffffffu, 0xfffffff0u, 0x20));
	ck_assert(seq_in_window(0, 0xfffffff0u, 0x20));
	ck_assert(seq_in_window(0xf, 0xfffffff0u, 0x20));
	ck_assert(!seq_in_window(0x10, 0xfffffff0u, 0x20));
	ck_assert(!seq_in_window(0xffffffefu, 0xfffffff0u, 0x20));
	ck_assert(!seq_in_window(0x80000000u, 0xfffffff0u, 0x20));

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint32_t s = starts[i];

		/* Empty: holds nothing, not even its start. */
		ck_assert(!seq_in_window(s, s, 0));
		ck_assert(!seq_in_window(s - 1, s, 0));
		/* One: only the start. */
		ck_assert(seq_in_window(s, s, 1));
		ck_assert(!seq_in_window(s + 1, s, 1));
		ck_assert(!seq_in_window(s - 1, s, 1));
		/* Everything but the number before the start. */
		ck_assert(seq_in_window(s - 2, s, 0xffffffffu));
		ck_assert(!seq_in_window(s - 1, s, 0xffffffffu));
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			uint32_t len = lens[j];
			static const uint32_t offs[] = {
				0, 1, 2, 0x1f, 0x20, 0x21, 65534, 65535,
				0x7ffffffe, 0x7fffffff, 0x80000000,
				0xfffffffe, 0xffffffff,
			};

			ck_assert(seq_in_window(s + len - 1, s, len));
			ck_assert(!seq_in_window(s + len, s, len));
			/* Below 2^31 it agrees with the comparisons. */
			for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]);
			     k++) {
				uint32_t x = s + offs[k];
				bool cmp = seq_geq(x, s) && seq_lt(x, s + len);

				ck_assert_msg(seq_in_window(x, s, len) == cmp,
					      "%08x in [%08x, +%08x)", x, s,
					      len);
			}
		}
	}
}
END_TEST

/* ---- Option round trips -------------------------------------------------- */

START_TEST(test_opts_roundtrip_syn)
{
	/* Linux's SYN options, byte for byte. */
	static const uint8_t linux_syn[] = {
		0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0xde, 0xad,
		0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x01, 0x03, 0x03, 0x07,
	};

	for (unsigned m = 0; m < 16; m++) {
		struct tcp_opts o = {0}, po, dpo;
		uint8_t b[TCP_MAX_OPTLEN + 8];
		unsigned ignored = 0;
		size_t len, want = 0;

		if (m & 1) {
			o.mss_ok = true;
			o.mss = 1460;
			want += 4;
		}
		if (m & 2) {
			o.ws_ok = true;
			o.ws = 7;
			want += 4;
		}
		if (m & 4)
			o.sack_perm = true;
		if (m & 8) {
			o.ts_ok = true;
			o.tsval = 0xdeadbeef;
			o.tsecr = 0x01020304;
		}
		if (m & 8)
			want += 12;
		else if (m & 4)
			want += 4;
		memset(b, 0xaa, sizeof(b));
		len = tcp_opts_write(b, TCP_MAX_OPTLEN, &o, true);
		ck_assert_uint_eq(len, want);
		ck_assert_uint_eq(len % 4, 0);
		ck_assert_uint_eq(tcp_opts_len(&o, true), len);
		ck_assert_uint_eq(b[len], 0xaa);
		if (m == 15)
			ck_assert_mem_eq(b, linux_syn, sizeof(linux_syn));
		ck_assert_int_eq(parse_n(b, len, true, &po, &ignored), 0);
		ck_assert_uint_eq(ignored, 0);
		expect_opts_eq(&po, &o);
		/* The same bytes on a segment without SYN: only TS counts,
		 * and the rest is not "ignored" either. */
		ck_assert_int_eq(parse_n(b, len, false, &dpo, &ignored), 0);
		ck_assert_uint_eq(ignored, 0);
		ck_assert(!dpo.mss_ok && !dpo.ws_ok && !dpo.sack_perm);
		ck_assert_int_eq(dpo.ts_ok, o.ts_ok);
		ck_assert_uint_eq(dpo.tsval, o.tsval);
		ck_assert_uint_eq(dpo.tsecr, o.tsecr);
	}
}
END_TEST

START_TEST(test_opts_roundtrip_data)
{
	static const uint8_t want_full[] = {
		0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00,
		0x00, 0xc8, 0x01, 0x01, 0x05, 0x1a, 0xff, 0xff, 0xff, 0xf0,
		0x00, 0x00, 0x01, 0xe4, 0x00, 0x00, 0x03, 0xd8, 0x00, 0x00,
		0x05, 0xcc, 0x00, 0x00, 0x07, 0xc0, 0x00, 0x00, 0x09, 0xb4,
	};
	const uint32_t base = 0xfffffff0u; /* blocks across the wrap */

	for (unsigned ts = 0; ts < 2; ts++) {
		for (size_t n = 0; n <= TCP_MAX_SACK; n++) {
			struct tcp_opts o = {0}, po, spo;
			uint8_t b[TCP_MAX_OPTLEN + 8];
			unsigned ignored = 0;
			size_t len, want_n = n, want = 0;

			if (ts) {
				o.ts_ok = true;
				o.tsval = 100;
				o.tsecr = 200;
				want = 12;
				if (want_n > 3)
					want_n = 3;
			}
			o.nsack = (uint8_t)n;
			for (size_t i = 0; i < n; i++) {
				o.sack[i].start = base + 1000u * (uint32_t)i;
				o.sack[i].end = o.sack[i].start + 500;
			}
			if (want_n)
				want += 4 + 8 * want_n;
			memset(b, 0xaa, sizeof(b));
			len = tcp_opts_write(b, TCP_MAX_OPTLEN, &o, false);
			ck_assert_uint_eq(len, want);
			ck_assert_uint_eq(len % 4, 0);
			ck_assert_uint_eq(tcp_opts_len(&o, false), len);
			ck_assert_uint_eq(b[len], 0xaa);
			if (ts && n == 3)
				ck_assert_mem_eq(b, want_full,
						 sizeof(want_full));
			ck_assert_int_eq(parse_n(b, len, false, &po, &ignored),
					 0);
			ck_assert_uint_eq(ignored, 0);
			o.nsack = (uint8_t)want_n;
			expect_opts_eq(&po, &o);
			/* On a SYN the blocks mean nothing: skipped, not
			 * counted; TS still taken. */
			ck_assert_int_eq(parse_n(b, len, true, &spo, &ignored),
					 0);
			ck_assert_uint_eq(ignored, 0);
			ck_assert_uint_eq(spo.nsack, 0);
			ck_assert_int_eq(spo.ts_ok, o.ts_ok);
		}
	}
}
END_TEST

START_TEST(test_opts_write_room)
{
	const struct tcp_opts syn = {
		.mss_ok = true, .mss = 1460, .ws_ok = true, .ws = 7,
		.sack_perm = true, .ts_ok = true, .tsval = 1,
	};
	const struct tcp_opts none = {0};
	struct tcp_opts big = {.nsack = 200, .ws_ok = true, .ws = 255}, po;
	uint8_t b[TCP_MAX_OPTLEN + 8], canary[sizeof(b)];

	memset(canary, 0x5a, sizeof(canary));
	/* Too small for what is asked: 0, and not a byte written. */
	for (size_t room = 0; room < 20; room++) {
		memcpy(b, canary, sizeof(b));
		ck_assert_uint_eq(tcp_opts_write(b, room, &syn, true), 0);
		ck_assert_mem_eq(b, canary, sizeof(b));
	}
	memcpy(b, canary, sizeof(b));
	ck_assert_uint_eq(tcp_opts_write(b, 20, &syn, true), 20);
	ck_assert_uint_eq(b[20], 0x5a);
	/* Nothing asked, nothing written, whatever the room. */
	ck_assert_uint_eq(tcp_opts_write(b, 0, &none, true), 0);
	ck_assert_uint_eq(tcp_opts_write(b, 0, &none, false), 0);
	ck_assert_uint_eq(tcp_opts_len(&none, true), 0);
	ck_assert_uint_eq(tcp_opts_len(&none, false), 0);
	/* Out-of-range fields are clamped on output: 4 SACK blocks, shift
	 * 14. */
	for (size_t i = 0; i < TCP_MAX_SACK; i++) {
		big.sack[i].start = (uint32_t)i * 10;
		big.sack[i].end = (uint32_t)i * 10 + 5;
	}
	ck_assert_uint_eq(tcp_opts_write(b, sizeof(b), &big, false), 36);
	ck_assert_int_eq(parse_n(b, 36, false, &po, NULL), 0);
	ck_assert_uint_eq(po.nsack, TCP_MAX_SACK);
	ck_assert_uint_eq(tcp_opts_write(b, sizeof(b), &big, true), 4);
	ck_assert_uint_eq(b[3], TCP_MAX_WS);
	/* With TS, 40 bytes hold three blocks; room 39 holds none. */
	big.ts_ok = true;
	ck_assert_uint_eq(tcp_opts_write(b, sizeof(b), &big, false), 40);
	ck_assert_uint_eq(tcp_opts_write(b, 39, &big, false), 0);
}
END_TEST

/* ---- Malformed areas ----------------------------------------------------- */

START_TEST(test_opts_malformed)
{
	static const struct {
		const char *what;
		uint8_t b[16];
		size_t n;
	} cases[] = {
		{"length 0", {TCP_OPT_MSS, 0, 5, 180}, 4},
		{"length 1", {TCP_OPT_TS, 1, 0, 0}, 4},
		{"unknown kind, length 0", {200, 0}, 2},
		{"unknown kind, length 1", {200, 1, 1, 1}, 4},
		{"NOP then length 0", {1, 1, 1, TCP_OPT_SACK_PERM, 0}, 5},
		{"TS past the end", {TCP_OPT_TS, 10, 0, 0, 0, 0}, 6},
		{"MSS past the end", {TCP_OPT_MSS, 4, 5}, 3},
		{"unknown past the end", {30, 5, 0, 0}, 4},
		{"length 255", {30, 255, 0, 0, 0, 0, 0, 0}, 8},
		{"MSS at the last byte", {1, 1, 1, TCP_OPT_MSS}, 4},
		{"unknown at the last byte", {0x55}, 1},
		{"SACK_PERM at the last byte", {TCP_OPT_SACK_PERM}, 1},
		{"valid MSS, then WS length 0",
		 {TCP_OPT_MSS, 4, 5, 180, 1, TCP_OPT_WS, 0, 7}, 8},
		{"valid MSS, TS at the last byte",
		 {TCP_OPT_MSS, 4, 5, 180, 1, 1, 1, TCP_OPT_TS}, 8},
		{"ignored MSS, then TS length 0",
		 {TCP_OPT_MSS, 3, 0, TCP_OPT_TS, 0}, 5},
		{"valid TS, then one past the end",
		 {TCP_OPT_TS, 10, 1, 2, 3, 4, 5, 6, 7, 8, 30, 7, 0, 0, 0, 0},
		 16},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int syn = 0; syn < 2; syn++) {
			struct tcp_opts o;
			unsigned ignored = 7;

			memset(&o, 0xff, sizeof(o));
			ck_assert_msg(parse_n(cases[i].b, cases[i].n, syn, &o,
					      &ignored) == -1,
				      "%s (syn %d) accepted", cases[i].what,
				      syn);
			/* Reset to "no options"; the counter is left alone
			 * (the caller counts the drop instead). */
			expect_none(&o);
			ck_assert_uint_eq(ignored, 7);
		}
	}
	/* A 40-byte area whose last option claims one byte too many. */
	{
		uint8_t b[TCP_MAX_OPTLEN];
		struct tcp_opts o;

		memset(b, TCP_OPT_NOP, sizeof(b));
		b[30] = 30;
		b[31] = 11;
		ck_assert_int_eq(PARSE(b, true, &o, NULL), -1);
		b[31] = 10;
		ck_assert_int_eq(PARSE(b, true, &o, NULL), 0);
	}
}
END_TEST

START_TEST(test_opts_eol)
{
	/* EOL in the middle: what follows is not looked at, even when it
	 * would be malformed. */
	static const uint8_t mid[] = {TCP_OPT_MSS, 4, 5, 180, TCP_OPT_EOL,
				      TCP_OPT_WS, 3, 7};
	static const uint8_t before_bad[] = {TCP_OPT_NOP, TCP_OPT_EOL,
					     TCP_OPT_TS, 0, 1};
	static const uint8_t first[] = {TCP_OPT_EOL, TCP_OPT_MSS, 4, 5, 180};
	static const uint8_t only[] = {TCP_OPT_EOL};
	static const uint8_t pad[] = {TCP_OPT_MSS, 4, 5, 180, TCP_OPT_WS, 3,
				      7, TCP_OPT_EOL};
	struct tcp_opts o;
	unsigned ignored = 0;

	ck_assert_int_eq(PARSE(mid, true, &o, &ignored), 0);
	ck_assert(o.mss_ok);
	ck_assert_uint_eq(o.mss, 1460);
	ck_assert(!o.ws_ok);
	ck_assert_int_eq(PARSE(before_bad, true, &o, &ignored), 0);
	expect_none(&o);
	ck_assert_int_eq(PARSE(first, true, &o, &ignored), 0);
	expect_none(&o);
	ck_assert_int_eq(PARSE(only, true, &o, &ignored), 0);
	expect_none(&o);
	/* EOL as padding after the last option. */
	ck_assert_int_eq(PARSE(pad, true, &o, &ignored), 0);
	ck_assert(o.mss_ok && o.ws_ok);
	ck_assert_uint_eq(o.ws, 7);
	ck_assert_uint_eq(ignored, 0);
	/* An empty area. */
	ck_assert_int_eq(parse_n(only, 0, true, &o, &ignored), 0);
	expect_none(&o);
}
END_TEST

START_TEST(test_opts_nop_runs)
{
	uint8_t b[TCP_MAX_OPTLEN];
	struct tcp_opts o;
	unsigned ignored = 0;

	/* All NOPs, every length. */
	memset(b, TCP_OPT_NOP, sizeof(b));
	for (size_t n = 0; n <= sizeof(b); n++) {
		ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
		expect_none(&o);
	}
	/* 36 NOPs, then an MSS that ends at the last byte. */
	put_mss(b + 36, 1400);
	ck_assert_int_eq(PARSE(b, true, &o, &ignored), 0);
	ck_assert(o.mss_ok);
	ck_assert_uint_eq(o.mss, 1400);
	/* NOPs between options. */
	memset(b, TCP_OPT_NOP, sizeof(b));
	put_mss(b + 3, 1400);
	put_ws(b + 11, 2);
	put_sack_perm(b + 20);
	put_ts(b + 29, 5, 6);
	ck_assert_int_eq(PARSE(b, true, &o, &ignored), 0);
	ck_assert(o.mss_ok && o.ws_ok && o.sack_perm && o.ts_ok);
	ck_assert_uint_eq(o.ws, 2);
	ck_assert_uint_eq(o.tsval, 5);
	ck_assert_uint_eq(o.tsecr, 6);
	ck_assert_uint_eq(ignored, 0);
	/* 39 NOPs and a kind in the last byte. */
	memset(b, TCP_OPT_NOP, sizeof(b));
	b[39] = TCP_OPT_MSS;
	ck_assert_int_eq(PARSE(b, true, &o, &ignored), -1);
	/* 38 NOPs and a WS one byte short. */
	b[38] = TCP_OPT_WS;
	b[39] = TCP_OLEN_WS;
	ck_assert_int_eq(PARSE(b, true, &o, &ignored), -1);
	ck_assert_uint_eq(ignored, 0);
}
END_TEST

/* ---- Wrong lengths, clamps, repeats -------------------------------------- */

START_TEST(test_opts_wrong_lengths)
{
	static const struct {
		uint8_t kind;
		bool syn;
		uint8_t lens[6];
	} cases[] = {
		{TCP_OPT_MSS, true, {2, 3, 5, 6, 10, 0}},
		{TCP_OPT_WS, true, {2, 4, 5, 8, 0}},
		{TCP_OPT_SACK_PERM, true, {3, 4, 6, 10, 0}},
		{TCP_OPT_TS, true, {2, 8, 9, 11, 12, 0}},
		{TCP_OPT_TS, false, {2, 4, 9, 11, 18, 0}},
		{TCP_OPT_SACK, false, {2, 3, 9, 11, 17, 0}},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t k = cases[i].kind;

		for (size_t j = 0; cases[i].lens[j]; j++) {
			uint8_t b[TCP_MAX_OPTLEN];
			struct tcp_opts o;
			unsigned ignored = 0;
			size_t n;

			/* The wrong-length option, with value bytes that
			 * would show if they were read, then a valid one of
			 * the same kind, then a TS marker. */
			n = put_raw(b, k, cases[i].lens[j], 0x11);
			switch (k) {
			case TCP_OPT_MSS:
				n += put_mss(b + n, 1300);
				break;
			case TCP_OPT_WS:
				n += put_ws(b + n, 5);
				break;
			case TCP_OPT_SACK_PERM:
				n += put_sack_perm(b + n);
				break;
			case TCP_OPT_SACK:
				n += put_sack(b + n, 1, 7000);
				break;
			default:
				break;
			}
			n += put_ts(b + n, 0x1234, 0x5678);
			ck_assert_uint_le(n, sizeof(b));
			ck_assert_msg(parse_n(b, n, cases[i].syn, &o,
					      &ignored) == 0,
				      "kind %u length %u refused", k,
				      cases[i].lens[j]);
			ck_assert_msg(ignored == 1,
				      "kind %u length %u: %u ignored", k,
				      cases[i].lens[j], ignored);
			ck_assert(o.ts_ok);
			ck_assert_uint_eq(o.tsval, 0x1234);
			ck_assert_uint_eq(o.tsecr, 0x5678);
			switch (k) {
			case TCP_OPT_MSS:
				ck_assert(o.mss_ok);
				ck_assert_uint_eq(o.mss, 1300);
				break;
			case TCP_OPT_WS:
				ck_assert(o.ws_ok);
				ck_assert_uint_eq(o.ws, 5);
				break;
			case TCP_OPT_SACK_PERM:
				ck_assert(o.sack_perm);
				break;
			case TCP_OPT_SACK:
				expect_sack(&o, 1, 7000);
				break;
			default:
				break;
			}
		}
	}
}
END_TEST

START_TEST(test_opts_ws_clamp)
{
	static const uint8_t in[] = {0, 1, 7, 13, 14, 15, 16, 100, 255};

	for (size_t i = 0; i < sizeof(in); i++) {
		uint8_t b[TCP_OLEN_WS];
		struct tcp_opts o;
		unsigned ignored = 0;

		put_ws(b, in[i]);
		ck_assert_int_eq(PARSE(b, true, &o, &ignored), 0);
		ck_assert(o.ws_ok);
		ck_assert_uint_eq(o.ws, (in[i] > 14 ? 14 : in[i]));
		ck_assert_uint_eq(ignored, 0);
	}
}
END_TEST

START_TEST(test_opts_mss_floor)
{
	static const uint16_t in[] = {0, 1, 87, 88, 89, 536, 1460, 65535};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		uint8_t b[TCP_OLEN_MSS];
		struct tcp_opts o;
		unsigned ignored = 0;

		put_mss(b, in[i]);
		ck_assert_int_eq(PARSE(b, true, &o, &ignored), 0);
		ck_assert(o.mss_ok);
		ck_assert_uint_eq(o.mss, (in[i] < 88 ? 88 : in[i]));
		ck_assert_uint_eq(ignored, 0);
	}
}
END_TEST

START_TEST(test_opts_sack_shapes)
{
	static const uint8_t bad[] = {2, 9, 42};
	uint8_t b[64];
	struct tcp_opts o;
	unsigned ignored;
	size_t n;

	/* 1..4 blocks. */
	for (size_t k = 1; k <= TCP_MAX_SACK; k++) {
		ignored = 0;
		n = put_sack(b, k, 0xffffff00u);
		ck_assert_int_eq(parse_n(b, n, false, &o, &ignored), 0);
		expect_sack(&o, k, 0xffffff00u);
		ck_assert_uint_eq(ignored, 0);
	}
	/* 0 blocks, 2+7 bytes, and 5 blocks (42 bytes: only possible in an
	 * area longer than a header allows), each followed by a TS. */
	for (size_t k = 0; k < sizeof(bad); k++) {
		ignored = 0;
		n = put_raw(b, TCP_OPT_SACK, bad[k], 0x22);
		n += put_ts(b + n, 9, 10);
		ck_assert_int_eq(parse_n(b, n, false, &o, &ignored), 0);
		ck_assert_uint_eq(o.nsack, 0);
		ck_assert(o.ts_ok);
		ck_assert_uint_eq(o.tsval, 9);
		ck_assert_uint_eq(ignored, 1);
	}
	/* 5 blocks cut to a 40-byte area: past the end. */
	put_raw(b, TCP_OPT_SACK, 42, 0x22);
	ck_assert_int_eq(parse_n(b, TCP_MAX_OPTLEN, false, &o, NULL), -1);
	/* TS and 3 blocks fill 36 bytes: fine. */
	n = put_ts(b, 1, 2);
	n += put_sack(b + n, 3, 50);
	ck_assert_uint_eq(n, 36);
	ck_assert_int_eq(parse_n(b, n, false, &o, NULL), 0);
	expect_sack(&o, 3, 50);
}
END_TEST

START_TEST(test_opts_repeats)
{
	uint8_t b[TCP_MAX_OPTLEN];
	struct tcp_opts o;
	unsigned ignored = 0;
	size_t n;

	/* MSS three times: the first wins, two ignored. */
	n = put_mss(b, 1460);
	n += put_mss(b + n, 536);
	n += put_mss(b + n, 88);
	ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
	ck_assert_uint_eq(o.mss, 1460);
	ck_assert_uint_eq(ignored, 2);

	ignored = 0;
	n = put_ws(b, 7);
	n += put_ws(b + n, 2);
	ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
	ck_assert_uint_eq(o.ws, 7);
	ck_assert_uint_eq(ignored, 1);

	ignored = 0;
	n = put_sack_perm(b);
	n += put_sack_perm(b + n);
	ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
	ck_assert(o.sack_perm);
	ck_assert_uint_eq(ignored, 1);

	for (int syn = 0; syn < 2; syn++) {
		ignored = 0;
		n = put_ts(b, 1, 2);
		n += put_ts(b + n, 3, 4);
		ck_assert_int_eq(parse_n(b, n, syn, &o, &ignored), 0);
		ck_assert_uint_eq(o.tsval, 1);
		ck_assert_uint_eq(o.tsecr, 2);
		ck_assert_uint_eq(ignored, 1);
	}

	ignored = 0;
	n = put_sack(b, 2, 100);
	n += put_sack(b + n, 1, 90000);
	ck_assert_int_eq(parse_n(b, n, false, &o, &ignored), 0);
	expect_sack(&o, 2, 100);
	ck_assert_uint_eq(ignored, 1);
}
END_TEST

START_TEST(test_opts_syn_only)
{
	uint8_t b[TCP_MAX_OPTLEN];
	struct tcp_opts o;
	unsigned ignored = 0;
	size_t n;

	/* MSS, WS, SACK_PERM on a segment without SYN, right and wrong
	 * lengths: skipped, not counted. */
	n = put_mss(b, 1460);
	n += put_ws(b + n, 7);
	n += put_sack_perm(b + n);
	n += put_raw(b + n, TCP_OPT_MSS, 6, 0);
	n += put_raw(b + n, TCP_OPT_WS, 2, 0);
	n += put_raw(b + n, TCP_OPT_SACK_PERM, 3, 0);
	n += put_ts(b + n, 11, 12);
	ck_assert_int_eq(parse_n(b, n, false, &o, &ignored), 0);
	ck_assert(!o.mss_ok && !o.ws_ok && !o.sack_perm);
	ck_assert_uint_eq(o.mss, 0);
	ck_assert(o.ts_ok);
	ck_assert_uint_eq(ignored, 0);
	/* SACK blocks on a SYN, right and wrong lengths: the same. */
	n = put_sack(b, 2, 5);
	n += put_raw(b + n, TCP_OPT_SACK, 9, 0);
	n += put_ts(b + n, 11, 12);
	ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
	ck_assert_uint_eq(o.nsack, 0);
	ck_assert_uint_eq(o.sack[0].start, 0);
	ck_assert(o.ts_ok);
	ck_assert_uint_eq(ignored, 0);
}
END_TEST

START_TEST(test_opts_unknown_and_long)
{
	uint8_t b[700];
	struct tcp_opts o;
	unsigned ignored = 0;
	size_t n;

	/* Unknown kinds (old echo, MD5, Fast Open, experimental) skipped by
	 * their length, not counted. */
	n = put_raw(b, 6, 6, TCP_OPT_MSS);
	n += put_raw(b + n, 19, 18, TCP_OPT_WS);
	n += put_raw(b + n, 254, 2, 0);
	n += put_ts(b + n, 77, 78);
	n += put_raw(b + n, 34, 2, 0);
	ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
	ck_assert(o.ts_ok && !o.mss_ok && !o.ws_ok);
	ck_assert_uint_eq(o.tsval, 77);
	ck_assert_uint_eq(ignored, 0);

	/* Longer areas than a header can carry: 60 NOPs, then options, an
	 * unknown 255-byte option, more options past it, then 255 bytes of
	 * NOPs; counts stay exact. */
	memset(b, TCP_OPT_NOP, sizeof(b));
	n = 60;
	n += put_mss(b + n, 9000);
	n += put_raw(b + n, 200, 255, 0x02);
	n += put_ws(b + n, 3);
	n += put_sack_perm(b + n);
	n += put_mss(b + n, 100);
	n += put_raw(b + n, TCP_OPT_TS, 12, 0);
	n += put_ts(b + n, 1, 2);
	n += 255;
	ck_assert_uint_le(n, sizeof(b));
	ck_assert_int_eq(parse_n(b, n, true, &o, &ignored), 0);
	ck_assert(o.mss_ok && o.ws_ok && o.sack_perm && o.ts_ok);
	ck_assert_uint_eq(o.mss, 9000);
	ck_assert_uint_eq(o.ws, 3);
	ck_assert_uint_eq(o.tsval, 1);
	ck_assert_uint_eq(ignored, 2);
	/* Without the trailing NOPs it still parses; one byte fewer cuts
	 * into the TS. */
	ck_assert_int_eq(parse_n(b, n - 255, true, &o, NULL), 0);
	ck_assert_int_eq(parse_n(b, n - 256, true, &o, NULL), -1);
}
END_TEST

/* ---- Arbitrary areas ----------------------------------------------------- */

/* The walk the parser must do, written independently: 0 when every option
 * fits, -1 when one does not. */
static int ref_walk(const uint8_t *b, size_t n)
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

/* What must hold for any input: the walk agrees with ref_walk, the
 * values are in range and only where they mean something, and the options
 * survive being written and parsed again. */
static void check_area(const uint8_t *b, size_t n, bool syn)
{
	struct tcp_opts o, again;
	uint8_t w[TCP_MAX_OPTLEN];
	unsigned ignored = 0, ignored2 = 0;
	size_t len;
	int r;

	r = parse_n(b, n, syn, &o, &ignored);
	CHECK(r == ref_walk(b, n), "%zu-byte area %02x %02x, syn %d: %d", n,
	      b[0], n > 1 ? b[1] : 0, syn, r);
	if (r) {
		CHECK(opts_none(&o), "options left after a malformed area");
		CHECK(ignored == 0, "ignored counted on a malformed area");
		return;
	}
	CHECK(ignored <= n / 2, "%u ignored in %zu bytes", ignored, n);
	CHECK(o.mss_ok ? o.mss >= TCP_MIN_MSS : o.mss == 0, "mss %u", o.mss);
	CHECK(o.ws_ok ? o.ws <= TCP_MAX_WS : o.ws == 0, "ws %u", o.ws);
	CHECK(o.ts_ok || (o.tsval == 0 && o.tsecr == 0), "stray timestamps");
	CHECK(o.nsack <= TCP_MAX_SACK, "nsack %u", o.nsack);
	if (syn)
		CHECK(o.nsack == 0, "SACK blocks taken on a SYN");
	else
		CHECK(!o.mss_ok && !o.ws_ok && !o.sack_perm,
		      "SYN-only option taken without SYN");

	len = tcp_opts_write(w, sizeof(w), &o, syn);
	CHECK(len == tcp_opts_len(&o, syn) && len % 4 == 0,
	      "wrote %zu bytes", len);
	r = parse_n(w, len, syn, &again, &ignored2);
	CHECK(r == 0 && ignored2 == 0, "own options: %d, %u ignored", r,
	      ignored2);
	/* Four blocks and a TS need 44 bytes, so only an area longer than a
	 * header allows can have them; the writer keeps three. */
	if (o.ts_ok && o.nsack > 3)
		o.nsack = 3;
	CHECK(opts_eq(&again, &o), "options changed in a round trip");
}

START_TEST(test_opts_all_short_areas)
{
	uint8_t b[2];

	for (int syn = 0; syn < 2; syn++) {
		for (unsigned v = 0; v < 0x100; v++) {
			b[0] = (uint8_t)v;
			check_area(b, 1, syn);
		}
		for (unsigned v = 0; v < 0x10000; v++) {
			put_be16(b, (uint16_t)v);
			check_area(b, 2, syn);
		}
	}
}
END_TEST

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* An area of n bytes that is mostly option-shaped: NOPs, rare EOLs, known
 * kinds with their own length or a nearby wrong one, unknown kinds, and
 * random bytes, so most areas walk far before they end or break. */
static void random_area(uint8_t *b, size_t n, uint32_t *st)
{
	static const uint8_t kinds[] = {
		TCP_OPT_MSS, TCP_OPT_WS, TCP_OPT_SACK_PERM, TCP_OPT_SACK,
		TCP_OPT_TS, 6, 30, 254,
	};
	static const uint8_t lens[] = {
		TCP_OLEN_MSS, TCP_OLEN_WS, TCP_OLEN_SACK_PERM, 0,
		TCP_OLEN_TS, 6, 4, 2,
	};
	size_t i = 0;

	for (size_t j = 0; j < n; j++)
		b[j] = (uint8_t)xorshift32(st);
	while (i < n) {
		uint32_t r = xorshift32(st);
		unsigned k = (r >> 8) % sizeof(kinds);
		uint8_t len;

		switch (r % 16) {
		case 0:
		case 1:
		case 2:
			b[i++] = TCP_OPT_NOP;
			continue;
		case 3:
			b[i++] = (r >> 16) % 4 ? TCP_OPT_NOP : TCP_OPT_EOL;
			continue;
		case 4:
			i++; /* a random byte stays */
			continue;
		default:
			break;
		}
		len = lens[k];
		if (kinds[k] == TCP_OPT_SACK)
			len = (uint8_t)(2 + 8 * (1 + (r >> 12) % 5));
		switch ((r >> 16) % 16) {
		case 0:
			len = (uint8_t)((r >> 20) % 12); /* 0..11 */
			break;
		case 1:
			len = (uint8_t)(len + 1);
			break;
		case 2:
			len = (uint8_t)(len - 1);
			break;
		default:
			break;
		}
		if (i + len > n && (r >> 28) % 4) {
			/* Mostly end the area cleanly instead of with an
			 * option cut short. */
			memset(b + i, TCP_OPT_NOP, n - i);
			break;
		}
		b[i] = kinds[k];
		if (i + 1 < n)
			b[i + 1] = len;
		i += len < 2 ? 2 : len;
	}
}

START_TEST(test_opts_random_areas)
{
	uint8_t b[64];
	uint32_t st = 0x7a91c3e5u;
	unsigned long ok = 0;

	for (unsigned long iter = 0; iter < 200000; iter++) {
		size_t n = 3 + xorshift32(&st) % (TCP_MAX_OPTLEN - 2);

		random_area(b, n, &st);
		check_area(b, n, iter & 1);
		if (ref_walk(b, n) == 0)
			ok++;
	}
	/* The generator must reach both outcomes often. */
	ck_assert_msg(ok > 20000 && ok < 180000, "%lu of 200000 parsed", ok);
	/* A few longer than a header allows. */
	for (unsigned iter = 0; iter < 20000; iter++) {
		size_t n = TCP_MAX_OPTLEN + 1 + xorshift32(&st) % 24;

		random_area(b, n, &st);
		check_area(b, n, iter & 1);
	}
}
END_TEST

static Suite *tcp_opt_suite(void)
{
	Suite *su = suite_create("tcp_opt");
	TCase *tc;

	tc = tcase_create("header");
	tcase_add_test(tc, test_tcp_hdr_roundtrip);
	tcase_add_test(tc, test_tcp_hdr_impossible_lengths);
	tcase_add_test(tc, test_seq_compare);
	tcase_add_test(tc, test_seq_in_window);
	suite_add_tcase(su, tc);

	tc = tcase_create("options");
	tcase_add_test(tc, test_opts_roundtrip_syn);
	tcase_add_test(tc, test_opts_roundtrip_data);
	tcase_add_test(tc, test_opts_write_room);
	tcase_add_test(tc, test_opts_malformed);
	tcase_add_test(tc, test_opts_eol);
	tcase_add_test(tc, test_opts_nop_runs);
	tcase_add_test(tc, test_opts_wrong_lengths);
	tcase_add_test(tc, test_opts_ws_clamp);
	tcase_add_test(tc, test_opts_mss_floor);
	tcase_add_test(tc, test_opts_sack_shapes);
	tcase_add_test(tc, test_opts_repeats);
	tcase_add_test(tc, test_opts_syn_only);
	tcase_add_test(tc, test_opts_unknown_and_long);
	suite_add_tcase(su, tc);

	tc = tcase_create("arbitrary");
	/* Hundreds of thousands of areas; generous for sanitizer builds. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_opts_all_short_areas);
	tcase_add_test(tc, test_opts_random_areas);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(tcp_opt_suite());
}
