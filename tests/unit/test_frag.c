/* The reassembler (net/frag.c), driven directly through reasm_input() with
 * IPv6 and IPv4 keys: orders, duplicates, overlaps, the IPv6 key and
 * header, the two families side by side, the limits they share, timeouts
 * and the IPv6 length rules.  test_ip4_frag.c covers the IPv4 path through
 * ip4_input. */
#include "helpers.h"

#include <string.h>

/* ---- The lab's IPv6 addresses ---------------------------------------------
 */

/* 2001:db8::1 (the peer), 2001:db8::3 (another), 2001:db8::2 (us). */
static const uint8_t peer6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t peer6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 3};
static const uint8_t our6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* A pointer to the address made of b, for calls that take one. */
#define A6(b) (&(union inany[1]){inany_from_v6(b)}[0])

#define IP6_HLEN 40
#define NH_UDP 17
#define NH_TCP 6
#define NH_DSTOPTS 60

/* ---- What reasm_input() handed back ----------------------------------------
 */

static struct l3_rx out;
static struct cur out_payload;
static enum reasm_result res;

/* ---- Datagrams and their fragments ----------------------------------------
 */

/* The fragmentable part of the datagram being sent. */
static uint8_t msg[70000];
static size_t msg_len;

static void make_msg(size_t len, unsigned seed)
{
	ck_assert_uint_le(len, sizeof(msg));
	th_pattern(msg, len, seed);
	msg_len = len;
}

/* The unfragmentable part of an IPv6 fragment from src to us: the IPv6
 * header and ext bytes (a multiple of 8) of a Destination Options header
 * of PadN, the last Next Header set to nh (as ip6.c leaves it).  The
 * Payload Length is the fragment's, which reassembly must rewrite. */
static uint8_t hdr6[IP6_HLEN + 256];
static size_t hdr6_len;

static void make_hdr6(const uint8_t *src, size_t ext, uint8_t nh)
{
	ck_assert(ext % 8 == 0 && ext <= 256 && (ext == 0 || ext >= 8));
	memset(hdr6, 0, sizeof(hdr6));
	hdr6[0] = 0x60;
	put_be16(hdr6 + 4, 1234); /* whatever the fragment said */
	hdr6[6] = ext ? NH_DSTOPTS : nh;
	hdr6[7] = 64;
	memcpy(hdr6 + 8, src, 16);
	memcpy(hdr6 + 24, our6, 16);
	if (ext) {
		hdr6[IP6_HLEN] = nh;
		hdr6[IP6_HLEN + 1] = (uint8_t)(ext / 8 - 1);
		hdr6[IP6_HLEN + 2] = 1; /* PadN */
		hdr6[IP6_HLEN + 3] = (uint8_t)(ext - 4);
	}
	hdr6_len = IP6_HLEN + ext;
}

/* Hand msg[off, off + len) to the reassembler as a fragment of the IPv6
 * datagram (src, us, id), Fragment header Next Header nh (which ip6.c
 * also puts in the key's proto: the reassembler must ignore it). */
static struct reasm_dgram *frag6(struct stack *s, const uint8_t *src,
				 uint32_t id, uint8_t nh, size_t off,
				 size_t len, bool more)
{
	struct l3_rx rx = {
	    .src = inany_from_v6(src),
	    .dst = inany_from_v6(our6),
	    .proto = nh,
	    .hdr = hdr6,
	    .hdr_len = hdr6_len,
	};
	struct reasm_frag f = {
	    .key = {.src = rx.src, .dst = rx.dst, .id = id, .proto = nh},
	    .off = (uint32_t)off,
	    .more = more,
	    .data = cur_make(msg + off, len),
	    .hdr = hdr6,
	    .hdr_len = hdr6_len,
	    .rx = &rx,
	};

	ck_assert_uint_le(off + len, sizeof(msg));
	memset(&out, 0, sizeof(out));
	return reasm_input(s, &f, &out, &out_payload, &res);
}

/* The same for an IPv4 fragment from src to us: 20-byte header with the
 * given id and protocol, and DF when df4 says so. */
static uint8_t hdr4[IP4_HLEN];
static bool df4;

static struct reasm_dgram *frag4(struct stack *s, uint32_t src, uint16_t id,
				 uint8_t proto, size_t off, size_t len,
				 bool more)
{
	struct ip4_hdr ih = {
	    .total_len = (uint16_t)(IP4_HLEN + len),
	    .id = id,
	    .frag = (uint16_t)(off / 8 | (more ? IP4_FLAG_MF : 0) |
			       (df4 ? IP4_FLAG_DF : 0)),
	    .ttl = 64,
	    .proto = proto,
	    .src = src,
	    .dst = TH_OUR_IP,
	};
	struct l3_rx rx = {
	    .src = inany_from_v4(src),
	    .dst = inany_from_v4(TH_OUR_IP),
	    .proto = proto,
	    .hdr = hdr4,
	    .hdr_len = IP4_HLEN,
	    .dgram_len = IP4_HLEN + len,
	};
	struct reasm_frag f = {
	    .key = {.src = rx.src, .dst = rx.dst, .id = id, .proto = proto},
	    .off = (uint32_t)off,
	    .more = more,
	    .data = cur_make(msg + off, len),
	    .hdr = hdr4,
	    .hdr_len = IP4_HLEN,
	    .rx = &rx,
	};

	memcpy(rx.src_mac, th_peer_mac, ETH_ALEN);
	ip4_hdr_write(hdr4, &ih);
	memset(&out, 0, sizeof(out));
	return reasm_input(s, &f, &out, &out_payload, &res);
}

#define PIECE 1448 /* what a 1500-byte link carries after 40 + 8 + 4 */

static size_t npieces(void)
{
	return (msg_len + PIECE - 1) / PIECE;
}

/* Piece i of msg as an IPv6 fragment. */
static struct reasm_dgram *nth6(struct stack *s, const uint8_t *src,
				uint32_t id, size_t i)
{
	size_t off = i * PIECE;
	size_t len = msg_len - off < PIECE ? msg_len - off : PIECE;

	return frag6(s, src, id, NH_UDP, off, len, off + len < msg_len);
}

/* Assert d is the whole of msg as an IPv6 datagram from src with hdr6 in
 * front, its Payload Length rewritten and Next Header nh, then release
 * it. */
static void expect6(struct stack *s, struct reasm_dgram *d, const uint8_t *src,
		    uint8_t nh)
{
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(res, REASM_DONE);
	ck_assert_uint_eq(out_payload.len, msg_len);
	ck_assert_mem_eq(out_payload.p, msg, msg_len);
	ck_assert(inany_eq(&out.src, A6(src)));
	ck_assert(inany_eq(&out.dst, A6(our6)));
	ck_assert_uint_eq(out.proto, nh);
	ck_assert(!out.csum_ok);
	ck_assert_uint_eq(out.hdr_len, hdr6_len);
	ck_assert_uint_eq(out.dgram_len, hdr6_len + msg_len);
	ck_assert_uint_eq(be16(out.hdr + 4), hdr6_len - IP6_HLEN + msg_len);
	/* The rest of the header is the offset-0 fragment's. */
	ck_assert_mem_eq(out.hdr, hdr6, 4);
	ck_assert_mem_eq(out.hdr + 6, hdr6 + 6, hdr6_len - 6);
	reasm_release(s, d);
}

static struct stack *new_stack(const struct stack_params *p)
{
	struct stack *s = th_stack_new(p);

	df4 = false;
	make_hdr6(peer6, 0, NH_UDP);
	return s;
}

static struct stack_params params(void)
{
	struct stack_params p;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	return p;
}

/* ---- IPv6 datagrams
 * ---------------------------------------------------------- */

START_TEST(test_v6_in_order)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d = NULL;

	make_msg(4000, 1);
	ck_assert_uint_eq(npieces(), 3);
	for (size_t i = 0; i < 3; i++) {
		d = nth6(s, peer6, 0x12345678, i);
		if (i < 2) {
			ck_assert_ptr_null(d);
			ck_assert_int_eq(res, REASM_HELD);
		}
	}
	expect6(s, d, peer6, NH_UDP);
	/* (Fragments received are counted by ip4.c and ip6.c, which see
	 * them all; the reassembler counts what it does with them.) */
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_OK], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_OK], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_v6_reverse_order)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d = NULL;

	make_msg(10000, 2);
	for (size_t i = npieces(); i-- > 0;)
		d = nth6(s, peer6, 7, i);
	expect6(s, d, peer6, NH_UDP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_v6_out_of_order)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d = NULL;
	size_t n;

	make_msg(12000, 3);
	n = npieces();
	ck_assert_uint_eq(n, 9);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_null(d);
		d = nth6(s, peer6, 8, (i * 4 + 1) % n);
	}
	expect6(s, d, peer6, NH_UDP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* The unfragmentable part keeps its extension headers, and the Payload
 * Length counts them. */
START_TEST(test_v6_extension_headers_kept)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d;

	make_hdr6(peer6, 24, NH_UDP);
	make_msg(3000, 4);
	nth6(s, peer6, 9, 2);
	nth6(s, peer6, 9, 1);
	d = nth6(s, peer6, 9, 0);
	ck_assert_uint_eq(hdr6_len, 64);
	expect6(s, d, peer6, NH_UDP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* RFC 8200 4.5: the key is (src, dst, id); the Next Header of the
 * offset-0 fragment is the datagram's, whatever the others say. */
START_TEST(test_v6_key_ignores_proto)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d;

	make_msg(2000, 5);
	ck_assert_ptr_null(
	    frag6(s, peer6, 10, NH_TCP, PIECE, 2000 - PIECE, false));
	ck_assert_ptr_null(frag6(s, peer6, 10, 99, 0, 8, true));
	ck_assert_uint_eq(s->reasm_count, 1);
	d = frag6(s, peer6, 10, NH_TCP, 8, PIECE - 8, true);
	expect6(s, d, peer6, 99);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_v6_duplicates_ignored)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d;

	make_msg(4000, 6);
	nth6(s, peer6, 11, 0);
	ck_assert_ptr_null(nth6(s, peer6, 11, 0));
	ck_assert_int_eq(res, REASM_HELD);
	nth6(s, peer6, 11, 2);
	nth6(s, peer6, 11, 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DUP], 2);
	ck_assert_uint_eq(s->reasm_count, 1);
	d = nth6(s, peer6, 11, 1);
	expect6(s, d, peer6, NH_UDP);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_OVERLAP], 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DUP], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* RFC 5722: a fragment that overlaps another drops the whole datagram,
 * and the fragments of it still to come. */
START_TEST(test_v6_overlap_drops_datagram)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d = NULL;
	size_t held;

	make_msg(4000, 7);
	nth6(s, peer6, 12, 0);
	nth6(s, peer6, 12, 2);
	held = s->reasm_bytes;
	th_advance(s, 10000);
	ck_assert_ptr_null(frag6(s, peer6, 12, NH_UDP, PIECE - 8, 16, true));
	ck_assert_int_eq(res, REASM_DROPPED);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_OVERLAP], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_OVERLAP], 0);
	/* Its data is gone; its key stays. */
	ck_assert_uint_eq(s->reasm_count, 1);
	ck_assert_uint_lt(s->reasm_bytes, held - 2048);
	/* The fragment that would have completed it is dropped, and so is
	 * the whole datagram sent again. */
	ck_assert_ptr_null(nth6(s, peer6, 12, 1));
	ck_assert_int_eq(res, REASM_DROPPED);
	for (size_t i = 0; i < npieces(); i++)
		ck_assert_ptr_null(nth6(s, peer6, 12, i));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_OVERLAP], 5);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_OK], 0);
	ck_assert_uint_eq(s->reasm_count, 1);
	/* Until the timeout from its first fragment (60 s for IPv6), which
	 * is no loss. */
	th_advance(s, 60000);
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_TIMEOUT], 0);
	for (size_t i = 0; i < npieces(); i++)
		d = nth6(s, peer6, 12, i);
	expect6(s, d, peer6, NH_UDP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* A dead datagram is evicted like any other, without counting a loss. */
START_TEST(test_dead_evicted_uncounted)
{
	struct stack_params p = params();
	struct stack *s;

	p.reasm_max_datagrams = 1;
	s = new_stack(&p);
	make_msg(4000, 20);
	nth6(s, peer6, 1, 0);
	frag6(s, peer6, 1, NH_UDP, 8, 8, true);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_OVERLAP], 1);
	nth6(s, peer6, 2, 0);
	ck_assert_uint_eq(s->reasm_count, 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 0);
	/* The key is free again; the living one is counted when evicted. */
	nth6(s, peer6, 1, 0);
	ck_assert_int_eq(res, REASM_HELD);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 1);
	reasm_fini(s);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* ---- The two families side by side ------------------------------------------
 */

START_TEST(test_families_do_not_mix)
{
	static uint8_t msg4[2000];
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d;

	/* The same id, the same pieces, in each family: two datagrams. */
	make_msg(2000, 8);
	memcpy(msg4, msg, sizeof(msg4));
	ck_assert_ptr_null(
	    frag4(s, TH_PEER_IP, 13, IP4_PROTO_UDP, 0, 1480, true));
	ck_assert_ptr_null(frag6(s, peer6, 13, IP4_PROTO_UDP, 0, 1480, true));
	ck_assert_uint_eq(s->reasm_count, 2);
	/* The IPv6 datagram completes with its own bytes... */
	make_msg(2000, 9);
	d = frag6(s, peer6, 13, NH_UDP, 1480, 520, false);
	memcpy(msg, msg4, 1480);
	expect6(s, d, peer6, IP4_PROTO_UDP);
	/* ...and the IPv4 one with its own, as IPv4. */
	memcpy(msg, msg4, sizeof(msg4));
	d = frag4(s, TH_PEER_IP, 13, IP4_PROTO_UDP, 1480, 520, false);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(out_payload.len, 2000);
	ck_assert_mem_eq(out_payload.p, msg4, 2000);
	ck_assert_uint_eq(inany_v4(&out.src), TH_PEER_IP);
	reasm_release(s, d);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_OK], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_OK], 1);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* The IPv4 header handed back describes the whole datagram: its total
 * length, no offset and no MF, DF as the first fragment had it, a valid
 * checksum, the rest as the first fragment had it. */
START_TEST(test_v4_header_fixed_up)
{
	struct stack *s = new_stack(NULL);
	uint8_t first[IP4_HLEN];
	struct reasm_dgram *d;

	make_msg(3000, 18);
	for (int df = 0; df < 2; df++) {
		uint16_t id = (uint16_t)(30 + df);

		df4 = df;
		frag4(s, TH_PEER_IP, id, IP4_PROTO_UDP, 1480, 1480, true);
		frag4(s, TH_PEER_IP, id, IP4_PROTO_UDP, 0, 1480, true);
		memcpy(first, hdr4, sizeof(first));
		d = frag4(s, TH_PEER_IP, id, IP4_PROTO_UDP, 2960, 40, false);
		ck_assert_ptr_nonnull(d);
		ck_assert_uint_eq(out.hdr_len, IP4_HLEN);
		ck_assert_uint_eq(out.dgram_len, IP4_HLEN + 3000);
		ck_assert_uint_eq(be16(out.hdr + 2), IP4_HLEN + 3000);
		ck_assert_uint_eq(be16(out.hdr + 6), df ? IP4_FLAG_DF : 0);
		ck_assert_uint_eq(csum(out.hdr, IP4_HLEN), 0);
		ck_assert_mem_eq(out.hdr, first, 2);
		ck_assert_mem_eq(out.hdr + 4, first + 4, 2);
		ck_assert_mem_eq(out.hdr + 8, first + 8, 2);
		ck_assert_mem_eq(out.hdr + 12, first + 12, 8);
		ck_assert_uint_eq(out_payload.len, 3000);
		ck_assert_mem_eq(out_payload.p, msg, 3000);
		reasm_release(s, d);
	}
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_OK], 2);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* One table for both: the datagram limit evicts the oldest whatever its
 * family, and counts it in that family's counters. */
START_TEST(test_shared_datagram_limit)
{
	struct stack_params p = params();
	struct stack *s;

	p.reasm_max_datagrams = 2;
	s = new_stack(&p);
	make_msg(2000, 10);
	frag4(s, TH_PEER_IP, 1, IP4_PROTO_UDP, 0, 1480, true);
	nth6(s, peer6, 1, 0);
	ck_assert_uint_eq(s->reasm_count, 2);
	nth6(s, peer6, 2, 0);
	ck_assert_uint_eq(s->reasm_count, 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_LIMIT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 0);
	nth6(s, peer6, 3, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 1);
	/* The IPv4 one is gone: its second half waits alone. */
	ck_assert_ptr_null(
	    frag4(s, TH_PEER_IP, 1, IP4_PROTO_UDP, 1480, 520, false));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 2);
	reasm_fini(s);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* The byte limit is over both families' datagrams. */
START_TEST(test_shared_byte_limit)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d;
	size_t one4, one6;

	make_msg(6000, 11);
	frag4(s, TH_PEER_IP, 1, IP4_PROTO_UDP, 0, 1480, true);
	one4 = s->reasm_bytes;
	nth6(s, peer6, 1, 0);
	one6 = s->reasm_bytes - one4;
	/* The kept header counts: IPv6's is 20 bytes longer. */
	ck_assert_uint_eq(one6, one4 + IP6_HLEN - IP4_HLEN);
	/* Room for three IPv6 ones: a third fits beside the two, a fourth
	 * evicts the oldest, the IPv4 one. */
	s->p.reasm_max_bytes = (unsigned)(3 * one6 + 16);
	nth6(s, peer6, 2, 0);
	ck_assert_uint_eq(s->reasm_count, 3);
	nth6(s, peer6, 3, 0);
	ck_assert_uint_eq(s->reasm_count, 3);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_LIMIT], 1);
	ck_assert_uint_eq(s->reasm_bytes, 3 * one6);
	/* Growing id 3 to 4096 bytes evicts the oldest, id 1. */
	nth6(s, peer6, 3, 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 1);
	ck_assert_uint_eq(s->reasm_count, 2);
	/* Growing it to 8192 bytes cannot fit: the datagram is dropped. */
	nth6(s, peer6, 3, 4);
	ck_assert_int_eq(res, REASM_DROPPED);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_TOO_BIG], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 2);
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_uint_eq(s->reasm_bytes, 0);
	/* What fits still goes through. */
	make_msg(2500, 12);
	nth6(s, peer6, 4, 1);
	d = nth6(s, peer6, 4, 0);
	expect6(s, d, peer6, NH_UDP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* An outsider on one address holds at most reasm_max_per_source
 * datagrams: its newest evicts its own oldest, and others still get
 * through without evicting anyone. */
START_TEST(test_per_source_limit)
{
	struct stack_params p = params();
	struct stack *s;
	struct reasm_dgram *d;

	p.reasm_max_datagrams = 10;
	p.reasm_max_per_source = 4;
	s = new_stack(&p);
	make_msg(2000, 19);
	for (uint32_t id = 0; id < 20; id++)
		ck_assert_ptr_null(nth6(s, peer6, id, 0));
	ck_assert_uint_eq(s->reasm_count, 4);
	ck_assert_uint_eq(reasm_from(s, A6(peer6)), 4);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_SOURCE_LIMIT], 16);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 0);
	/* Its latest four are the ones kept: one of them completes, while
	 * the second half of an earlier one starts over alone. */
	d = nth6(s, peer6, 19, 1);
	expect6(s, d, peer6, NH_UDP);
	ck_assert_ptr_null(nth6(s, peer6, 0, 1));
	ck_assert_uint_eq(s->reasm_count, 4);
	/* Other sources, of either family, have room. */
	make_hdr6(peer6b, 0, NH_UDP);
	for (uint32_t id = 0; id < 4; id++)
		ck_assert_ptr_null(nth6(s, peer6b, id, 0));
	ck_assert_ptr_null(
	    frag4(s, TH_PEER_IP, 1, IP4_PROTO_UDP, 0, 1480, true));
	ck_assert_uint_eq(s->reasm_count, 9);
	ck_assert_uint_eq(reasm_from(s, A6(peer6)), 4);
	ck_assert_uint_eq(reasm_from(s, A6(peer6b)), 4);
	ck_assert_uint_eq(reasm_from(s, TH_A4(TH_PEER_IP)), 1);
	d = nth6(s, peer6b, 3, 1);
	expect6(s, d, peer6b, NH_UDP);
	d = frag4(s, TH_PEER_IP, 1, IP4_PROTO_UDP, 1480, 520, false);
	ck_assert_ptr_nonnull(d);
	reasm_release(s, d);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_SOURCE_LIMIT], 16);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_SOURCE_LIMIT], 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_LIMIT], 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_OK], 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_OK], 1);
	/* Lowered live, the limit applies at the source's next datagram,
	 * which evicts down to it. */
	s->p.reasm_max_per_source = 1;
	make_hdr6(peer6, 0, NH_UDP);
	ck_assert_ptr_null(nth6(s, peer6, 100, 0));
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_SOURCE_LIMIT], 20);
	ck_assert_uint_eq(reasm_from(s, A6(peer6)), 1);
	ck_assert_uint_eq(s->reasm_count, 4);
	/* 0 takes none. */
	s->p.reasm_max_per_source = 0;
	ck_assert_ptr_null(nth6(s, peer6, 101, 0));
	ck_assert_int_eq(res, REASM_DROPPED);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_SOURCE_LIMIT], 21);
	ck_assert_uint_eq(s->reasm_count, 4);
	reasm_fini(s);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* ---- Timeouts -------------------------------------------------------------
 */

/* IPv6: after RFC 8200's 60 s, the datagram is freed and counted; the
 * error is icmp6.c's. */
START_TEST(test_v6_timeout)
{
	struct stack *s = new_stack(NULL);

	make_msg(4000, 13);
	nth6(s, peer6, 14, 0);
	nth6(s, peer6, 15, 1);
	th_advance(s, 59996);
	ck_assert_uint_eq(s->reasm_count, 2);
	th_advance(s, 4);
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_uint_eq(s->reasm_bytes, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_TIMEOUT], 2);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_TIMEOUT], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* IPv4: time exceeded (code 1) only when the offset-0 fragment came,
 * quoting it. */
START_TEST(test_v4_timeout_time_exceeded)
{
	struct stack *s = new_stack(NULL);
	struct ip4_hdr ih;
	struct icmp4_hdr h;
	struct cur c;

	th_learn(s, th_peer_mac, TH_PEER_IP);
	make_msg(3000, 14);
	frag4(s, TH_PEER_IP, 21, IP4_PROTO_UDP, 1480, 1480, true);
	th_advance(s, 10000);
	frag4(s, TH_PEER_IP, 22, IP4_PROTO_UDP, 0, 1480, true);
	th_advance(s, 20000);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_TIMEOUT], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_advance(s, 10000);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_TIMEOUT], 2);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp(th_frame(0), th_peer_mac, &ih, &h);
	ck_assert_uint_eq(ih.dst, TH_PEER_IP);
	ck_assert_uint_eq(h.type, ICMP4_TIME_EXCEEDED);
	ck_assert_uint_eq(h.code, ICMP4_EXC_FRAGTIME);
	/* The offset-0 fragment's header, then its first bytes. */
	ck_assert_uint_ge(c.len, IP4_HLEN + 8);
	ck_assert_mem_eq(c.p, hdr4, IP4_HLEN);
	ck_assert_mem_eq(c.p + IP4_HLEN, msg, 8);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP4_TIME_EXCEEDED_TX], 1);
	th_check_leaks(s, 1);
	th_stack_free(s);
}
END_TEST

/* ---- IPv6 lengths (RFC 8200 4.5) -------------------------------------------
 */

START_TEST(test_v6_bad_lengths)
{
	struct stack *s = new_stack(NULL);

	make_msg(4000, 15);
	/* More to come, not a multiple of 8: a parameter problem for ip6. */
	ck_assert_ptr_null(frag6(s, peer6, 16, NH_UDP, 0, 1450, true));
	ck_assert_int_eq(res, REASM_UNALIGNED);
	/* No data at all. */
	ck_assert_ptr_null(frag6(s, peer6, 16, NH_UDP, 8, 0, true));
	ck_assert_int_eq(res, REASM_DROPPED);
	ck_assert_ptr_null(frag6(s, peer6, 16, NH_UDP, 8, 0, false));
	ck_assert_int_eq(res, REASM_DROPPED);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_BAD_LEN], 3);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_BAD_LEN], 0);
	ck_assert_uint_eq(s->reasm_count, 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* The payload (extension headers kept + fragmentable part) is at most
 * 65535 bytes; a fragment that would make it longer is refused, and the
 * caller hears which rule it broke. */
START_TEST(test_v6_payload_past_65535)
{
	struct stack *s = new_stack(NULL);

	make_msg(8, 16);
	/* 65528 + 16 > 65535. */
	ck_assert_ptr_null(frag6(s, peer6, 17, NH_UDP, 65528, 16, false));
	ck_assert_int_eq(res, REASM_TOO_LONG);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_BAD_LEN], 1);
	ck_assert_uint_eq(s->reasm_count, 0);
	/* 65528 + 7 = 65535 is the most... */
	ck_assert_ptr_null(frag6(s, peer6, 17, NH_UDP, 65528, 7, false));
	ck_assert_int_eq(res, REASM_HELD);
	ck_assert_uint_eq(s->reasm_count, 1);
	/* ...without extension headers: with 8 bytes of them it is too
	 * long, however the fragment came. */
	make_hdr6(peer6, 8, NH_UDP);
	ck_assert_ptr_null(frag6(s, peer6, 18, NH_UDP, 65528, 7, false));
	ck_assert_int_eq(res, REASM_TOO_LONG);
	ck_assert_uint_eq(s->reasm_count, 1);
	/* An offset-0 fragment whose extension headers no longer fit with
	 * the length the last one fixed: the datagram is dropped. */
	ck_assert_ptr_null(frag6(s, peer6, 17, NH_UDP, 0, 8, true));
	ck_assert_int_eq(res, REASM_TOO_LONG);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_BAD_LEN], 3);
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_uint_eq(s->reasm_bytes, 0);
	/* The same the other way round: the kept header first. */
	ck_assert_ptr_null(frag6(s, peer6, 19, NH_UDP, 0, 8, true));
	make_hdr6(peer6, 0, NH_UDP);
	ck_assert_ptr_null(frag6(s, peer6, 19, NH_UDP, 65528, 7, false));
	ck_assert_int_eq(res, REASM_TOO_LONG);
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_REASM_DROP_BAD_LEN], 4);
	ck_assert_uint_eq(s->stats.v[STAT_IP4_REASM_DROP_BAD_LEN], 0);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

/* The largest IPv6 datagram: a 65535-byte payload, 16 bytes of it
 * extension headers. */
START_TEST(test_v6_largest_datagram)
{
	struct stack *s = new_stack(NULL);
	struct reasm_dgram *d = NULL;

	make_hdr6(peer6, 16, NH_UDP);
	make_msg(65535 - 16, 17);
	ck_assert_uint_eq(npieces(), 46);
	for (size_t i = 1; i < npieces(); i += 2)
		ck_assert_ptr_null(nth6(s, peer6, 0xffffffffu, i));
	for (size_t i = 0; i < npieces(); i += 2)
		d = nth6(s, peer6, 0xffffffffu, i);
	/* The Payload Length is 65535: expect6() checks it. */
	expect6(s, d, peer6, NH_UDP);
	th_check_leaks(s, 0);
	th_stack_free(s);
}
END_TEST

static Suite *frag_suite(void)
{
	Suite *su = suite_create("frag");
	TCase *tc;

	tc = tcase_create("ipv6");
	tcase_add_test(tc, test_v6_in_order);
	tcase_add_test(tc, test_v6_reverse_order);
	tcase_add_test(tc, test_v6_out_of_order);
	tcase_add_test(tc, test_v6_extension_headers_kept);
	tcase_add_test(tc, test_v6_key_ignores_proto);
	tcase_add_test(tc, test_v6_duplicates_ignored);
	tcase_add_test(tc, test_v6_overlap_drops_datagram);
	tcase_add_test(tc, test_dead_evicted_uncounted);
	suite_add_tcase(su, tc);

	tc = tcase_create("families");
	tcase_add_test(tc, test_families_do_not_mix);
	tcase_add_test(tc, test_v4_header_fixed_up);
	tcase_add_test(tc, test_shared_datagram_limit);
	tcase_add_test(tc, test_shared_byte_limit);
	tcase_add_test(tc, test_per_source_limit);
	suite_add_tcase(su, tc);

	tc = tcase_create("timeouts");
	tcase_add_test(tc, test_v6_timeout);
	tcase_add_test(tc, test_v4_timeout_time_exceeded);
	suite_add_tcase(su, tc);

	tc = tcase_create("lengths");
	tcase_add_test(tc, test_v6_bad_lengths);
	tcase_add_test(tc, test_v6_payload_past_65535);
	tcase_add_test(tc, test_v6_largest_datagram);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(frag_suite());
}
