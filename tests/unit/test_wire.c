/* Wire headers (the parsers and writers in src/wire/) and the packet cursor
 * (pkt.h): round trips build -> parse -> compare for every header, and the
 * impossible lengths. */
#include "helpers.h"

#include <string.h>

/* ---- Cursor and buffers -------------------------------------------------- */

START_TEST(test_cur_pull)
{
	static const uint8_t d[5] = {1, 2, 3, 4, 5};
	struct cur c = cur_make(d, sizeof(d));
	const uint8_t *p;

	/* Zero bytes is always there and does not move. */
	ck_assert_ptr_eq(cur_pull(&c, 0), d);
	ck_assert_uint_eq(c.len, 5);
	p = cur_pull(&c, 2);
	ck_assert_ptr_eq(p, d);
	ck_assert_ptr_eq(c.p, d + 2);
	ck_assert_uint_eq(c.len, 3);
	/* One more than remains: NULL and c unchanged. */
	ck_assert_ptr_null(cur_pull(&c, 4));
	ck_assert_ptr_eq(c.p, d + 2);
	ck_assert_uint_eq(c.len, 3);
	/* A length that would wrap a pointer sum. */
	ck_assert_ptr_null(cur_pull(&c, SIZE_MAX));
	ck_assert_uint_eq(c.len, 3);
	/* Exactly what remains. */
	p = cur_pull(&c, 3);
	ck_assert_ptr_eq(p, d + 2);
	ck_assert_uint_eq(c.len, 0);
	ck_assert_ptr_null(cur_pull(&c, 1));
	ck_assert_ptr_eq(cur_pull(&c, 0), d + 5);
}
END_TEST

START_TEST(test_cur_trim)
{
	static const uint8_t d[8];
	struct cur c = cur_make(d, sizeof(d));

	/* Never grows the view. */
	ck_assert(!cur_trim(&c, 9));
	ck_assert_uint_eq(c.len, 8);
	ck_assert(!cur_trim(&c, SIZE_MAX));
	ck_assert_uint_eq(c.len, 8);
	ck_assert(cur_trim(&c, 8));
	ck_assert_uint_eq(c.len, 8);
	ck_assert(cur_trim(&c, 3));
	ck_assert_uint_eq(c.len, 3);
	ck_assert_ptr_eq(c.p, d);
	/* Once trimmed, the old length is gone for good. */
	ck_assert(!cur_trim(&c, 4));
	ck_assert_ptr_null(cur_pull(&c, 4));
	ck_assert(cur_trim(&c, 0));
	ck_assert_uint_eq(c.len, 0);
	ck_assert_ptr_null(cur_pull(&c, 1));
}
END_TEST

START_TEST(test_byte_order)
{
	uint8_t b[4];

	put_be16(b, 0xbeef);
	ck_assert_uint_eq(b[0], 0xbe);
	ck_assert_uint_eq(b[1], 0xef);
	ck_assert_uint_eq(be16(b), 0xbeef);
	put_be32(b, 0x0a000002);
	ck_assert_uint_eq(b[0], 10);
	ck_assert_uint_eq(b[3], 2);
	ck_assert_uint_eq(be32(b), 0x0a000002);
	put_be32(b, 0xffffffffu);
	ck_assert_uint_eq(be32(b), 0xffffffffu);
}
END_TEST

static struct pbuf pb;

START_TEST(test_pbuf)
{
	uint8_t *p;

	pbuf_reset(&pb);
	ck_assert_uint_eq(pb.off, PBUF_HEADROOM);
	ck_assert_uint_eq(pb.len, 0);
	p = pbuf_put(&pb, 4);
	ck_assert_ptr_eq(p, pb.buf + PBUF_HEADROOM);
	memcpy(p, "data", 4);
	p = pbuf_push(&pb, 2);
	ck_assert_ptr_eq(p, pb.buf + PBUF_HEADROOM - 2);
	ck_assert_ptr_eq(pbuf_data(&pb), p);
	ck_assert_uint_eq(pb.len, 6);
	ck_assert_mem_eq(pbuf_data(&pb) + 2, "data", 4);
	/* The tail holds the largest datagram and not a byte more. */
	pbuf_reset(&pb);
	ck_assert_ptr_nonnull(pbuf_put(&pb, PBUF_SIZE - PBUF_HEADROOM));
	ck_assert_ptr_null(pbuf_put(&pb, 1));
	pbuf_reset(&pb);
	ck_assert_ptr_null(pbuf_put(&pb, PBUF_SIZE - PBUF_HEADROOM + 1));
	ck_assert_uint_eq(pb.len, 0);
	ck_assert_ptr_nonnull(pbuf_put(&pb, IP4_MAX_LEN));
}
END_TEST

/* ---- Ethernet ------------------------------------------------------------ */

START_TEST(test_eth_roundtrip)
{
	struct eth_hdr in = {
		.dst = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02},
		.src = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
		.type = ETH_TYPE_ARP,
	}, out;
	uint8_t f[ETH_HLEN + 3] = {0};
	struct cur c = cur_make(f, sizeof(f));

	eth_hdr_write(f, &in);
	/* dst, src, then the type big-endian */
	ck_assert_uint_eq(f[12], 0x08);
	ck_assert_uint_eq(f[13], 0x06);
	ck_assert(eth_hdr_parse(&c, &out));
	ck_assert_mem_eq(out.dst, in.dst, ETH_ALEN);
	ck_assert_mem_eq(out.src, in.src, ETH_ALEN);
	ck_assert_uint_eq(out.type, in.type);
	ck_assert_ptr_eq(c.p, f + ETH_HLEN);
	ck_assert_uint_eq(c.len, 3);
}
END_TEST

START_TEST(test_eth_truncated)
{
	uint8_t f[ETH_HLEN] = {0};
	struct eth_hdr eh;

	for (size_t n = 0; n < ETH_HLEN; n++) {
		struct cur c = cur_make(f, n);

		ck_assert(!eth_hdr_parse(&c, &eh));
		ck_assert_uint_eq(c.len, n);
	}
	{
		struct cur c = cur_make(f, ETH_HLEN);

		ck_assert(eth_hdr_parse(&c, &eh));
		ck_assert_uint_eq(c.len, 0);
	}
}
END_TEST

START_TEST(test_eth_address_kinds)
{
	static const uint8_t mc[ETH_ALEN] = {0x01, 0x00, 0x5e, 0, 0, 1};

	ck_assert(eth_is_broadcast(th_bcast_mac));
	ck_assert(eth_is_multicast(th_bcast_mac));
	ck_assert(eth_is_multicast(mc));
	ck_assert(!eth_is_broadcast(mc));
	ck_assert(!eth_is_multicast(th_our_mac));
	ck_assert(!eth_is_broadcast(th_zero_mac));
}
END_TEST

/* ---- ARP ----------------------------------------------------------------- */

static struct arp_hdr arp_sample(void)
{
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = ARP_OP_REPLY,
		.sha = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
		.spa = 0x0a000001,
		.tha = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02},
		.tpa = 0x0a000002,
	};
	return a;
}

START_TEST(test_arp_roundtrip)
{
	/* The same reply as captured bytes, field by field. */
	static const uint8_t wire[ARP_LEN] = {
		0x00, 0x01,                         /* htype Ethernet */
		0x08, 0x00,                         /* ptype IPv4 */
		0x06, 0x04,                         /* hlen, plen */
		0x00, 0x02,                         /* op reply */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* sha */
		0x0a, 0x00, 0x00, 0x01,             /* spa 10.0.0.1 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* tha */
		0x0a, 0x00, 0x00, 0x02,             /* tpa 10.0.0.2 */
	};
	struct arp_hdr in = arp_sample(), out;
	uint8_t b[ARP_LEN + 18];
	struct cur c;

	memset(b, 0xee, sizeof(b));
	arp_hdr_write(b, &in);
	ck_assert_mem_eq(b, wire, ARP_LEN);
	/* Ethernet padding after the packet is left in the cursor. */
	c = cur_make(b, sizeof(b));
	ck_assert(arp_hdr_parse(&c, &out));
	ck_assert_uint_eq(c.len, 18);
	ck_assert_uint_eq(out.htype, in.htype);
	ck_assert_uint_eq(out.ptype, in.ptype);
	ck_assert_uint_eq(out.hlen, in.hlen);
	ck_assert_uint_eq(out.plen, in.plen);
	ck_assert_uint_eq(out.op, in.op);
	ck_assert_mem_eq(out.sha, in.sha, ETH_ALEN);
	ck_assert_uint_eq(out.spa, in.spa);
	ck_assert_mem_eq(out.tha, in.tha, ETH_ALEN);
	ck_assert_uint_eq(out.tpa, in.tpa);
}
END_TEST

START_TEST(test_arp_truncated)
{
	struct arp_hdr in = arp_sample(), out;
	uint8_t b[ARP_LEN];

	arp_hdr_write(b, &in);
	for (size_t n = 0; n < ARP_LEN; n++) {
		struct cur c = cur_make(b, n);

		ck_assert(!arp_hdr_parse(&c, &out));
		ck_assert_uint_eq(c.len, n);
	}
}
END_TEST

static void arp_expect_refused(const struct arp_hdr *a, const char *what)
{
	uint8_t b[ARP_LEN];
	struct cur c;
	struct arp_hdr out;

	arp_hdr_write(b, a);
	c = cur_make(b, sizeof(b));
	ck_assert_msg(!arp_hdr_parse(&c, &out), "%s accepted", what);
}

START_TEST(test_arp_wrong_types)
{
	struct arp_hdr a;

	a = arp_sample();
	a.htype = 6; /* IEEE 802 */
	arp_expect_refused(&a, "htype 6");
	a = arp_sample();
	a.htype = 0;
	arp_expect_refused(&a, "htype 0");
	a = arp_sample();
	a.ptype = ETH_TYPE_IP6;
	arp_expect_refused(&a, "ptype IPv6");
	a = arp_sample();
	a.hlen = 8;
	arp_expect_refused(&a, "hlen 8");
	a = arp_sample();
	a.hlen = 0;
	arp_expect_refused(&a, "hlen 0");
	a = arp_sample();
	a.plen = 16;
	arp_expect_refused(&a, "plen 16");
	a = arp_sample();
	a.plen = 0;
	arp_expect_refused(&a, "plen 0");
	/* The operation is not the parser's business. */
	a = arp_sample();
	a.op = 9;
	{
		uint8_t b[ARP_LEN];
		struct cur c;
		struct arp_hdr out;

		arp_hdr_write(b, &a);
		c = cur_make(b, sizeof(b));
		ck_assert(arp_hdr_parse(&c, &out));
		ck_assert_uint_eq(out.op, 9);
	}
}
END_TEST

/* ---- IPv4 ---------------------------------------------------------------- */

static struct ip4_hdr ip4_sample(void)
{
	struct ip4_hdr h = {
		.ihl = IP4_HLEN,
		.tos = 0x10,
		.total_len = IP4_HLEN + 8,
		.id = 0xbeef,
		.frag = IP4_FLAG_MF | 0x0123,
		.ttl = 17,
		.proto = IP4_PROTO_UDP,
		.src = 0x0a000001,
		.dst = 0x0a000002,
	};
	return h;
}

START_TEST(test_ip4_roundtrip)
{
	struct ip4_hdr in = ip4_sample(), out;
	uint8_t b[IP4_HLEN + 8 + 6]; /* header, payload, link padding */
	struct cur c = cur_make(b, sizeof(b));

	memset(b, 0xaa, sizeof(b));
	ip4_hdr_write(b, &in);
	ck_assert_uint_eq(b[0], 0x45);
	ck_assert_uint_eq(csum(b, IP4_HLEN), 0);
	ck_assert_int_eq(ip4_hdr_parse(&c, &out), IP4_OK);
	ck_assert_uint_eq(out.ihl, IP4_HLEN);
	ck_assert_uint_eq(out.tos, in.tos);
	ck_assert_uint_eq(out.total_len, in.total_len);
	ck_assert_uint_eq(out.id, in.id);
	ck_assert_uint_eq(out.frag, in.frag);
	ck_assert_uint_eq(out.ttl, in.ttl);
	ck_assert_uint_eq(out.proto, in.proto);
	ck_assert_uint_eq(out.csum, be16(b + 10));
	ck_assert_uint_eq(out.src, in.src);
	ck_assert_uint_eq(out.dst, in.dst);
	/* The cursor is the payload, padding dropped. */
	ck_assert_ptr_eq(c.p, b + IP4_HLEN);
	ck_assert_uint_eq(c.len, 8);
}
END_TEST

/* Build a header with the given first byte and total length in b (len
 * bytes available), then parse len bytes of it. */
static enum ip4_parse_err ip4_try(uint8_t *b, size_t len, uint8_t vihl,
				  uint16_t total, struct cur *c)
{
	struct ip4_hdr h = ip4_sample(), out;

	h.total_len = total;
	ip4_hdr_write(b, &h);
	b[0] = vihl;
	*c = cur_make(b, len);
	return ip4_hdr_parse(c, &out);
}

START_TEST(test_ip4_impossible_lengths)
{
	uint8_t b[128];
	struct cur c;

	memset(b, 0, sizeof(b));
	/* Truncated fixed header. */
	for (size_t n = 0; n < IP4_HLEN; n++)
		ck_assert_int_eq(ip4_try(b, n, 0x45, 20, &c), IP4_ERR_SHORT);
	/* Version other than 4. */
	ck_assert_int_eq(ip4_try(b, 40, 0x65, 40, &c), IP4_ERR_VERSION);
	ck_assert_int_eq(ip4_try(b, 40, 0x05, 40, &c), IP4_ERR_VERSION);
	/* IHL < 5. */
	for (uint8_t ihl = 0; ihl < 5; ihl++)
		ck_assert_int_eq(ip4_try(b, 40, (uint8_t)(0x40 | ihl), 40, &c),
				 IP4_ERR_HLEN);
	/* IHL past the frame: 60 bytes of header in 40 bytes. */
	ck_assert_int_eq(ip4_try(b, 40, 0x4f, 40, &c), IP4_ERR_HLEN);
	ck_assert_int_eq(ip4_try(b, 23, 0x46, 24, &c), IP4_ERR_HLEN);
	/* Total length below the header length. */
	ck_assert_int_eq(ip4_try(b, 40, 0x45, 19, &c), IP4_ERR_LEN);
	ck_assert_int_eq(ip4_try(b, 40, 0x45, 0, &c), IP4_ERR_LEN);
	ck_assert_int_eq(ip4_try(b, 40, 0x46, 23, &c), IP4_ERR_LEN);
	/* Total length past the frame. */
	ck_assert_int_eq(ip4_try(b, 40, 0x45, 41, &c), IP4_ERR_LEN);
	ck_assert_int_eq(ip4_try(b, 40, 0x45, 0xffff, &c), IP4_ERR_LEN);
	/* Exactly the frame, and a header-only datagram. */
	ck_assert_int_eq(ip4_try(b, 40, 0x45, 40, &c), IP4_OK);
	ck_assert_uint_eq(c.len, 20);
	ck_assert_int_eq(ip4_try(b, 40, 0x45, 20, &c), IP4_OK);
	ck_assert_uint_eq(c.len, 0);
	ck_assert_int_eq(ip4_try(b, 20, 0x45, 20, &c), IP4_OK);
	ck_assert_uint_eq(c.len, 0);
}
END_TEST

/* Parse a 24/28-byte header whose options are opts (4 or 8 bytes). */
static enum ip4_parse_err ip4_opts(const uint8_t *opts, size_t optlen,
				   struct cur *c)
{
	static uint8_t b[64];
	struct ip4_hdr h = ip4_sample(), out;
	size_t hlen = IP4_HLEN + optlen;

	h.total_len = (uint16_t)(hlen + 4);
	ip4_hdr_write(b, &h);
	b[0] = (uint8_t)(0x40 | hlen / 4);
	memcpy(b + IP4_HLEN, opts, optlen);
	memcpy(b + hlen, "PAYL", 4);
	*c = cur_make(b, hlen + 4);
	return ip4_hdr_parse(c, &out);
}

START_TEST(test_ip4_options)
{
	struct cur c;

	/* Good: NOPs and EOL; a 4-byte option; a 3-byte option + EOL;
	 * garbage after EOL is not parsed. */
	ck_assert_int_eq(ip4_opts((const uint8_t[]){1, 1, 1, 0}, 4, &c),
			 IP4_OK);
	ck_assert_uint_eq(c.len, 4);
	ck_assert_mem_eq(c.p, "PAYL", 4);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){0x94, 4, 0, 0}, 4, &c),
			 IP4_OK);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){0x88, 3, 0x12, 0}, 4, &c),
			 IP4_OK);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){0, 0x44, 0, 0}, 4, &c),
			 IP4_OK);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){1, 0x07, 7, 4, 0, 0, 0,
						    0},
				  8, &c),
			 IP4_OK);
	/* Length 0 and 1. */
	ck_assert_int_eq(ip4_opts((const uint8_t[]){0x44, 0, 0, 0}, 4, &c),
			 IP4_ERR_OPTIONS);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){0x44, 1, 0, 0}, 4, &c),
			 IP4_ERR_OPTIONS);
	/* Past the end of the header. */
	ck_assert_int_eq(ip4_opts((const uint8_t[]){0x44, 5, 0, 0}, 4, &c),
			 IP4_ERR_OPTIONS);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){1, 1, 0x07, 3}, 4, &c),
			 IP4_ERR_OPTIONS);
	ck_assert_int_eq(ip4_opts((const uint8_t[]){1, 0x07, 0xff, 0, 0, 0,
						    0, 0},
				  8, &c),
			 IP4_ERR_OPTIONS);
	/* A kind in the last byte with no room for its length. */
	ck_assert_int_eq(ip4_opts((const uint8_t[]){1, 1, 1, 0x44}, 4, &c),
			 IP4_ERR_OPTIONS);
}
END_TEST

START_TEST(test_ip4_options_walk)
{
	static const uint8_t rr[] = {0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	ck_assert(ip4_options_valid(NULL, 0));
	ck_assert(ip4_options_valid(rr, sizeof(rr)));
	ck_assert(ip4_options_valid(rr, 11));
	ck_assert(!ip4_options_valid(rr, 10));
	ck_assert(!ip4_options_valid(rr, 1));
}
END_TEST

START_TEST(test_ip4_address_helpers)
{
	ck_assert_uint_eq(ip4_mask(0), 0);
	ck_assert_uint_eq(ip4_mask(8), 0xff000000u);
	ck_assert_uint_eq(ip4_mask(24), 0xffffff00u);
	ck_assert_uint_eq(ip4_mask(31), 0xfffffffeu);
	ck_assert_uint_eq(ip4_mask(32), 0xffffffffu);
	ck_assert(ip4_is_multicast(0xe0000001));
	ck_assert(ip4_is_multicast(0xefffffff));
	ck_assert(!ip4_is_multicast(0xf0000000));
	ck_assert(!ip4_is_multicast(0xdfffffff));
	ck_assert(ip4_is_loopback(0x7f000001));
	ck_assert(!ip4_is_loopback(0x80000001));
}
END_TEST

/* ---- ICMP ---------------------------------------------------------------- */

START_TEST(test_icmp4_roundtrip)
{
	struct icmp4_hdr in = {
		.type = ICMP4_ECHO_REQUEST,
		.code = 0,
		.csum = 0x1234,
		.rest = 0xabcd0007, /* id 0xabcd, seq 7 */
	}, out;
	static const uint8_t wire[ICMP4_HLEN] = {0x08, 0x00, 0x12, 0x34,
						 0xab, 0xcd, 0x00, 0x07};
	uint8_t b[ICMP4_HLEN + 2] = {0};
	struct cur c = cur_make(b, sizeof(b));

	icmp4_hdr_write(b, &in);
	ck_assert_mem_eq(b, wire, ICMP4_HLEN);
	ck_assert(icmp4_hdr_parse(&c, &out));
	ck_assert_uint_eq(out.type, in.type);
	ck_assert_uint_eq(out.code, in.code);
	ck_assert_uint_eq(out.csum, in.csum);
	ck_assert_uint_eq(out.rest, in.rest);
	ck_assert_uint_eq(c.len, 2);
}
END_TEST

START_TEST(test_icmp4_truncated)
{
	uint8_t b[ICMP4_HLEN] = {8};
	struct icmp4_hdr out;

	for (size_t n = 0; n < ICMP4_HLEN; n++) {
		struct cur c = cur_make(b, n);

		ck_assert(!icmp4_hdr_parse(&c, &out));
		ck_assert_uint_eq(c.len, n);
	}
}
END_TEST

START_TEST(test_icmp4_is_error)
{
	ck_assert(icmp4_is_error(ICMP4_DEST_UNREACH));
	ck_assert(icmp4_is_error(ICMP4_SOURCE_QUENCH));
	ck_assert(icmp4_is_error(ICMP4_REDIRECT));
	ck_assert(icmp4_is_error(ICMP4_TIME_EXCEEDED));
	ck_assert(icmp4_is_error(ICMP4_PARAM_PROBLEM));
	ck_assert(!icmp4_is_error(ICMP4_ECHO_REQUEST));
	ck_assert(!icmp4_is_error(ICMP4_ECHO_REPLY));
	ck_assert(!icmp4_is_error(13)); /* timestamp */
}
END_TEST

/* ---- UDP ----------------------------------------------------------------- */

START_TEST(test_udp_roundtrip)
{
	struct udp_hdr in = {
		.sport = 68,
		.dport = 67,
		.len = UDP_HLEN + 5,
		.csum = 0xfeed,
	}, out;
	static const uint8_t wire[UDP_HLEN] = {0x00, 0x44, 0x00, 0x43,
					       0x00, 0x0d, 0xfe, 0xed};
	uint8_t b[UDP_HLEN + 5 + 3]; /* 3 bytes past the UDP length */
	struct cur c;

	memset(b, 0x55, sizeof(b));
	c = cur_make(b, sizeof(b));
	udp_hdr_write(b, &in);
	ck_assert_mem_eq(b, wire, UDP_HLEN);
	ck_assert(udp_hdr_parse(&c, &out));
	ck_assert_uint_eq(out.sport, in.sport);
	ck_assert_uint_eq(out.dport, in.dport);
	ck_assert_uint_eq(out.len, in.len);
	ck_assert_uint_eq(out.csum, in.csum);
	/* Trimmed to the UDP length, header consumed. */
	ck_assert_ptr_eq(c.p, b + UDP_HLEN);
	ck_assert_uint_eq(c.len, 5);
}
END_TEST

START_TEST(test_udp_impossible_lengths)
{
	uint8_t b[UDP_HLEN + 4];
	struct udp_hdr out;

	/* Truncated header. */
	for (size_t n = 0; n < UDP_HLEN; n++) {
		struct cur c = cur_make(b, n);

		memset(b, 0, sizeof(b));
		put_be16(b + 4, 8);
		ck_assert(!udp_hdr_parse(&c, &out));
	}
	/* Length field < 8, past the end, and the extremes. */
	for (unsigned len = 0; len < 0x10000; len++) {
		struct udp_hdr h = {.sport = 1, .dport = 2,
				    .len = (uint16_t)len};
		struct cur c = cur_make(b, sizeof(b));
		bool ok;

		if (len > 64 && len < 0xfff0)
			continue;
		udp_hdr_write(b, &h);
		ok = udp_hdr_parse(&c, &out);
		ck_assert_msg(ok == (len >= UDP_HLEN && len <= sizeof(b)),
			      "UDP length %u in %zu bytes: %s", len, sizeof(b),
			      ok ? "accepted" : "refused");
		if (ok)
			ck_assert_uint_eq(c.len, len - UDP_HLEN);
	}
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *su = suite_create("wire");
	TCase *tc;

	tc = tcase_create("cursor");
	tcase_add_test(tc, test_cur_pull);
	tcase_add_test(tc, test_cur_trim);
	tcase_add_test(tc, test_byte_order);
	tcase_add_test(tc, test_pbuf);
	suite_add_tcase(su, tc);

	tc = tcase_create("eth");
	tcase_add_test(tc, test_eth_roundtrip);
	tcase_add_test(tc, test_eth_truncated);
	tcase_add_test(tc, test_eth_address_kinds);
	suite_add_tcase(su, tc);

	tc = tcase_create("arp");
	tcase_add_test(tc, test_arp_roundtrip);
	tcase_add_test(tc, test_arp_truncated);
	tcase_add_test(tc, test_arp_wrong_types);
	suite_add_tcase(su, tc);

	tc = tcase_create("ip4");
	tcase_add_test(tc, test_ip4_roundtrip);
	tcase_add_test(tc, test_ip4_impossible_lengths);
	tcase_add_test(tc, test_ip4_options);
	tcase_add_test(tc, test_ip4_options_walk);
	tcase_add_test(tc, test_ip4_address_helpers);
	suite_add_tcase(su, tc);

	tc = tcase_create("icmp4");
	tcase_add_test(tc, test_icmp4_roundtrip);
	tcase_add_test(tc, test_icmp4_truncated);
	tcase_add_test(tc, test_icmp4_is_error);
	suite_add_tcase(su, tc);

	tc = tcase_create("udp");
	tcase_add_test(tc, test_udp_roundtrip);
	tcase_add_test(tc, test_udp_impossible_lengths);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(wire_suite());
}
