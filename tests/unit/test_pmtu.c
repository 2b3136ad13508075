/* Path MTU and ICMP errors reaching TCP, in both families: pmtu.c,
 * l3_icmp_error() (l3.c) and tcp_icmp_error() (tcp_in.c), behind icmp4.c
 * and icmp6.c.
 *
 * The stack has 10.0.0.2/24 and fd00::2/64 on a 1500-byte link; the peer
 * 10.0.0.1 / fd00::1 talks TCP to a listener on port 7 (or answers our
 * connect), and a router on the path (10.0.0.254 / fd00::fe) sends the
 * errors, quoting what we sent as the fake link recorded it.  Most tests
 * are loop tests: bit 0 of the index picks the family (0: IPv4, 1: IPv6).
 * Every time is a multiple of the wheel's 4 ms tick. */
#include "helpers.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define PORT 7
#define PPORT 40000
#define PEER_ISN 0x10000000u
#define UDP_SPORT 4000
#define UDP_DPORT 9999
#define ACKF TCP_FLAG_ACK
#define SYNF TCP_FLAG_SYN
#define RSTF TCP_FLAG_RST
#define LINK_MTU 1500
#define DATA_LEN 8192

static const uint8_t our6[16] = {0xfd, [15] = 0x02};
static const uint8_t peer6[16] = {0xfd, [15] = 0x01};
static const uint8_t router6[16] = {0xfd, [15] = 0xfe};

static uint8_t f[TH_FRAME_MAX];
static uint8_t data[DATA_LEN];

/* ---- The family a test runs in ------------------------------------------- */

static bool v6;
static union inany US, PEER;

static void family(int i)
{
	v6 = (i & 1) != 0;
	US = v6 ? inany_from_v6(our6) : inany_from_v4(TH_OUR_IP);
	PEER = v6 ? inany_from_v6(peer6) : inany_from_v4(TH_PEER_IP);
}

static size_t l3h(void)
{
	return v6 ? IP6_HLEN : IP4_HLEN;
}

/* The smaller MTU a router reports in the tests of each family. */
static unsigned small_mtu(void)
{
	return v6 ? 1300 : 1000;
}

/* ---- The owner ----------------------------------------------------------- */

struct owner {
	struct tcp_conn *c;
	unsigned accepted, connected, closed;
	int err;
};

static struct owner O;
static struct tcp_listener L;
static const uint8_t *accept_send;
static size_t accept_send_len;

static void *cb_accepted(void *arg, struct tcp_conn *c)
{
	ck_assert_ptr_eq(arg, &L);
	ck_assert_uint_eq(O.accepted, 0);
	O.accepted++;
	O.c = c;
	tcp_set_nodelay(c, true); /* all of it goes at once */
	if (accept_send_len)
		ck_assert_uint_eq(tcp_send(c, accept_send, accept_send_len),
				  accept_send_len);
	return &O;
}

static size_t cb_recv(void *ctx, struct tcp_conn *c, const uint8_t *d,
		      size_t len)
{
	(void)ctx;
	(void)c;
	(void)d;
	return len;
}

static void cb_writable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	(void)c;
}

static void cb_peer_closed(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	(void)c;
}

static void cb_closed(void *ctx, struct tcp_conn *c, int err)
{
	ck_assert_ptr_eq(ctx, &O);
	ck_assert_ptr_eq(c, O.c);
	ck_assert_uint_eq(O.closed, 0);
	O.closed++;
	O.err = err;
}

static void cb_connected(void *ctx, struct tcp_conn *c)
{
	ck_assert_ptr_eq(ctx, &O);
	ck_assert_ptr_eq(c, O.c);
	O.connected++;
}

static const struct tcp_callbacks cbs = {
	.accepted = cb_accepted,
	.recv = cb_recv,
	.writable = cb_writable,
	.peer_closed = cb_peer_closed,
	.closed = cb_closed,
	.connected = cb_connected,
};

/* ---- Stack --------------------------------------------------------------- */

static bool with_offload;

/* Both families configured, the peer known in both (entries that outlive
 * every test), the router known as the gateway of both, and the listener
 * on PORT; the link cleared. */
static struct stack *new_stack(int fam)
{
	struct stack_params p;
	struct stack *s;

	family(fam);
	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	p.arp_timeout_ms = 3600 * 1000;
	p.nd_reachable_ms = 3600 * 1000;
	p.ipv6 = true;
	p.dad = false;
	p.naddr6 = 1;
	memcpy(p.addr6[0].addr, our6, 16);
	p.addr6[0].prefix = 64;
	p.gateway = TH_GW_IP;
	memcpy(p.gateway6, router6, 16);
	p.offload = with_offload;
	with_offload = false;
	s = th_stack_new(&p);
	nd6_addr_setup(s); /* our IPv6 addresses (stack_announce() without
			    * its ARP announcements) */
	timer_cancel(&s->timers, &s->mld_timer); /* MLD's repeat report */
	s->mld_repeat = false;
	memset(&O, 0, sizeof(O));
	accept_send = NULL;
	accept_send_len = 0;
	th_pattern(data, sizeof(data), 7);
	ck_assert_int_eq(tcp_listen(s, &L, PORT, &cbs, &L), 0);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	th_learn(s, th_gw_mac, TH_GW_IP);
	th_learn6_to(s, th_peer_mac, peer6, our6);
	th_learn6_to(s, th_gw_mac, router6, our6);
	/* Learnt neighbours are STALE (RFC 4861 7.2.3) and would be probed
	 * once used: confirmed, they stay REACHABLE for the whole test. */
	th_confirm6(s, th_peer_mac, peer6, our6);
	th_confirm6(s, th_gw_mac, router6, our6);
	th_frames_clear();
	return s;
}

/* Stop listening (resetting what is left) and check nothing is left. */
static void finish(struct stack *s)
{
	tcp_unlisten(s, &L);
	ck_assert_uint_eq(s->tcp.count, 0);
	ck_assert_uint_eq(flow_count(&s->tcp.flows), 0);
	ck_assert_uint_eq(th_frames_lost(), 0);
	th_stack_free(s);
}

static uint64_t stat(const struct stack *s, enum stat_id id)
{
	return s->stats.v[id];
}

/* ---- The peer ------------------------------------------------------------ */

struct peer {
	uint16_t port;
	uint32_t seq, ack, iss;
	uint16_t win;
	bool ts;
	uint32_t tsval, tsecr;
};

/* A TCP segment from the peer to us, in the family of the test. */
static void seg_to(struct stack *s, uint16_t sport, uint16_t dport,
		   uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
		   const uint8_t *opts, size_t optlen, const void *d,
		   size_t len)
{
	static uint8_t seg[IP4_MAX_LEN];
	struct tcp_hdr h = {
		.sport = sport,
		.dport = dport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = win,
		.doff = (uint8_t)(TCP_HLEN + optlen),
	};
	size_t n = TCP_HLEN + optlen + len;

	if (!v6) {
		stack_input(s, f, th_tcp_frame(f, TH_PEER_IP, TH_OUR_IP, &h,
					       opts, optlen, d, len), 0);
		return;
	}
	tcp_hdr_write(seg, &h);
	if (optlen)
		memcpy(seg + TCP_HLEN, opts, optlen);
	if (len)
		memcpy(seg + TCP_HLEN + optlen, d, len);
	put_be16(seg + 16, csum_fold(csum_partial(
				   seg, n, l3_pseudo(&PEER, &US, L3_PROTO_TCP,
						     n))));
	stack_input(s, f, th_ip6_frame_raw(f, th_our_mac, th_peer_mac, peer6, our6,
				       IP6_NH_TCP, 64, seg, n), 0);
}

static size_t ts_opt(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = TCP_OPT_NOP;
	o[1] = TCP_OPT_NOP;
	o[2] = TCP_OPT_TS;
	o[3] = TCP_OLEN_TS;
	put_be32(o + 4, tsval);
	put_be32(o + 8, tsecr);
	return 12;
}

/* A segment from p at p->seq acknowledging p->ack; p->seq moves on. */
static void psend(struct stack *s, struct peer *p, uint8_t flags,
		  const void *d, size_t len)
{
	uint8_t o[12];
	size_t olen = p->ts ? ts_opt(o, p->tsval, p->tsecr) : 0;

	seg_to(s, p->port, PORT, flags, p->seq, (flags & ACKF) ? p->ack : 0,
	       p->win, o, olen, d, len);
	p->seq += (uint32_t)len + !!(flags & SYNF);
}

/* ---- What the stack sent ------------------------------------------------- */

struct seg {
	const uint8_t *ip; /* the datagram in the recorded frame */
	size_t ip_len;     /* its length */
	size_t wire_max;   /* the largest datagram it is on the wire (GSO) */
	bool df;           /* IPv4 DF */
	struct tcp_hdr h;
	struct tcp_opts o;
	struct cur data;
};

/* Frame i is one unfragmented TCP segment from us to the peer. */
static void out(size_t i, struct seg *g)
{
	const struct th_frame *fr = th_frame(i);

	if (!v6) {
		struct ip4_hdr ih;

		g->data = th_expect_tcp(fr, th_peer_mac, &ih, &g->h, &g->o);
		ck_assert_uint_eq(ih.src, TH_OUR_IP);
		ck_assert_uint_eq(ih.dst, TH_PEER_IP);
		g->ip_len = ih.total_len;
		g->df = (ih.frag & IP4_FLAG_DF) != 0;
	} else {
		struct ip6_hdr h6;
		struct cur c = th_expect_ip6(fr, th_peer_mac, &h6), opts;

		ck_assert_uint_eq(h6.next, IP6_NH_TCP);
		ck_assert_mem_eq(h6.src, our6, 16);
		ck_assert_mem_eq(h6.dst, peer6, 16);
		ck_assert_uint_eq(
			csum_fold(csum_partial(c.p, c.len,
					       l3_pseudo(&US, &PEER,
							 L3_PROTO_TCP, c.len))),
			0);
		ck_assert(tcp_hdr_parse(&c, &g->h, &opts));
		ck_assert_int_eq(tcp_opts_parse(opts, g->h.flags & SYNF, &g->o,
						NULL),
				 0);
		g->data = c;
		g->ip_len = IP6_HLEN + h6.payload_len;
		g->df = false;
	}
	g->ip = fr->data + ETH_HLEN;
	g->wire_max = g->ip_len;
	if (fr->off.gso_size)
		g->wire_max = fr->off.hdr_len - ETH_HLEN + fr->off.gso_size;
}

/* Copy the first l3h() + n bytes of the datagram of frame i (a quote). */
static size_t quote_frame(size_t i, uint8_t *q, size_t n)
{
	const struct th_frame *fr = th_frame(i);

	ck_assert_uint_ge(fr->len, ETH_HLEN + l3h() + n);
	memcpy(q, fr->data + ETH_HLEN, l3h() + n);
	return l3h() + n;
}

/* The start of a UDP datagram of ours to dst, total bytes long, as a router
 * quotes it: our IP header and the 8 bytes of the UDP header. */
static size_t quote_udp(uint8_t *q, const union inany *dst, size_t total)
{
	memset(q, 0, l3h() + UDP_HLEN);
	if (!v6) {
		q[0] = 0x45;
		put_be16(q + 2, (uint16_t)total);
		q[8] = 64;
		q[9] = IP4_PROTO_UDP;
		put_be32(q + 12, TH_OUR_IP);
		put_be32(q + 16, inany_v4(dst));
		put_be16(q + 10, csum(q, IP4_HLEN));
	} else {
		put_be32(q, 6u << 28);
		put_be16(q + 4, (uint16_t)(total - IP6_HLEN));
		q[6] = IP6_NH_UDP;
		q[7] = 64;
		memcpy(q + 8, our6, 16);
		memcpy(q + 24, dst->a, 16);
	}
	put_be16(q + l3h(), UDP_SPORT);
	put_be16(q + l3h() + 2, UDP_DPORT);
	put_be16(q + l3h() + 4, (uint16_t)(total - l3h()));
	return l3h() + UDP_HLEN;
}

/* ---- The router ---------------------------------------------------------- */

/* An ICMP error of the family (type, code, the word after the checksum)
 * from the router, quoting qlen bytes at q. */
static void icmp_err(struct stack *s, uint8_t type, uint8_t code,
		     uint32_t rest, const uint8_t *q, size_t qlen)
{
	static uint8_t msg[2048];
	size_t n;

	if (!v6) {
		struct icmp4_hdr h = {.type = type, .code = code, .rest = rest};
		struct ip4_hdr ih = {
			.ttl = 64,
			.proto = IP4_PROTO_ICMP,
			.src = TH_GW_IP,
			.dst = TH_OUR_IP,
			.id = 0x4000,
		};

		n = th_icmp_write(msg, &h, q, qlen);
		stack_input(s, f, th_ip4_frame(f, th_our_mac, th_gw_mac, &ih,
					       msg, n), 0);
	} else {
		struct icmp6_hdr h = {.type = type, .code = code, .rest = rest};

		n = th_icmp6_write(msg, router6, our6, &h, q, qlen);
		stack_input(s, f, th_ip6_frame_raw(f, th_our_mac, th_gw_mac,
					       router6, our6, IP6_NH_ICMP6, 64,
					       msg, n), 0);
	}
}

/* Fragmentation Needed (IPv4) or Packet Too Big (IPv6) with mtu. */
static void too_big(struct stack *s, uint32_t mtu, const uint8_t *q,
		    size_t qlen)
{
	if (!v6)
		icmp_err(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_NEEDFRAG,
			 mtu & 0xffff, q, qlen);
	else
		icmp_err(s, ICMP6_PACKET_TOO_BIG, 0, mtu, q, qlen);
}

/* Port unreachable (IPv4 type 3 code 3, IPv6 type 1 code 4). */
static void port_unreach(struct stack *s, const uint8_t *q, size_t qlen)
{
	if (!v6)
		icmp_err(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PORT, 0, q, qlen);
	else
		icmp_err(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_PORT, 0, q, qlen);
}

/* Host unreachable (IPv4 type 3 code 1), address unreachable (IPv6 type 1
 * code 3). */
static void host_unreach(struct stack *s, const uint8_t *q, size_t qlen)
{
	if (!v6)
		icmp_err(s, ICMP4_DEST_UNREACH, 1, 0, q, qlen);
	else
		icmp_err(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_ADDR, 0, q, qlen);
}

/* ---- UDP: what the path MTU is, as a datagram shows it ------------------- */

/* Send a datagram of the largest size the link takes whole to dst (its
 * link address mac), and check how it leaves: in one frame when the path
 * MTU is the link's, else fragmented to mtu (every piece fits, and the
 * first is as large as fragmentation in 8-byte units makes it).  UDP over
 * IPv4 never carries DF. */
static void expect_path(struct stack *s, const union inany *dst,
			const uint8_t *mac, unsigned mtu)
{
	static uint8_t buf[LINK_MTU];
	struct udp_dst d = {.addr = *dst, .port = UDP_DPORT};
	size_t len = LINK_MTU - l3h() - UDP_HLEN, n, max = 0, total = 0;

	th_frames_clear();
	ck_assert_int_eq(udp_output(s, UDP_SPORT, &d, buf, len), 0);
	n = th_frame_count();
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++) {
		struct cur c = th_expect_eth(th_frame(i), mac,
					     v6 ? ETH_TYPE_IP6 : ETH_TYPE_IP4);
		size_t ip_len;

		if (!v6) {
			struct ip4_hdr ih;

			ck_assert_int_eq(ip4_hdr_parse(&c, &ih), IP4_OK);
			ck_assert_uint_eq(ih.dst, inany_v4(dst));
			ck_assert_uint_eq(ih.frag & IP4_FLAG_DF, 0);
			ip_len = ih.total_len;
			total += ip_len - IP4_HLEN;
		} else {
			struct ip6_hdr h6;

			ck_assert_int_eq(ip6_hdr_parse(&c, &h6), IP6_OK);
			ck_assert_mem_eq(h6.dst, dst->a, 16);
			ip_len = IP6_HLEN + h6.payload_len;
			total += h6.payload_len - (n > 1 ? IP6_FRAG_HLEN : 0);
		}
		if (ip_len > max)
			max = ip_len;
	}
	ck_assert_uint_eq(total, UDP_HLEN + len);
	if (mtu >= LINK_MTU) {
		ck_assert_msg(n == 1, "%zu frames where the path takes one", n);
		ck_assert_uint_eq(max, LINK_MTU);
	} else {
		ck_assert_msg(n >= 2, "one frame of %zu on a path of %u", max,
			      mtu);
		ck_assert_msg(max <= mtu && max > mtu - 8,
			      "largest fragment %zu on a path of %u", max, mtu);
	}
	th_frames_clear();
}

static void expect_peer_path(struct stack *s, unsigned mtu)
{
	expect_path(s, &PEER, th_peer_mac, mtu);
}

/* Advance the clock to the first frame, at most limit ms; returns the time
 * it took (limit + 1 when none came). */
static uint64_t advance_until_frame(struct stack *s, uint64_t limit)
{
	uint64_t start = th_clock_ms;

	while (th_frame_count() == 0 && th_clock_ms - start < limit)
		th_advance(s, 4);
	return th_frame_count() ? th_clock_ms - start : limit + 1;
}

/* ---- Connections --------------------------------------------------------- */

/* SYN options: MSS, then SACK_PERM, TS and WS 7 when full. */
static size_t syn_opts(uint8_t *o, uint16_t mss, bool full, uint32_t tsval)
{
	size_t n = 0;

	o[n++] = TCP_OPT_MSS;
	o[n++] = TCP_OLEN_MSS;
	put_be16(o + n, mss);
	n += 2;
	if (!full)
		return n;
	o[n++] = TCP_OPT_SACK_PERM;
	o[n++] = TCP_OLEN_SACK_PERM;
	o[n++] = TCP_OPT_TS;
	o[n++] = TCP_OLEN_TS;
	put_be32(o + n, tsval);
	put_be32(o + n + 4, 0);
	n += 8;
	o[n++] = TCP_OPT_NOP;
	o[n++] = TCP_OPT_WS;
	o[n++] = TCP_OLEN_WS;
	o[n++] = 7;
	return n;
}

/* The peer connects to PORT offering the link's MSS (with SACK, timestamps
 * and window scale when full); returns the accepted connection.  What the
 * owner sends on accepting is on the link. */
static struct tcp_conn *establish_from(struct stack *s, struct peer *p,
				       uint16_t port, bool full)
{
	uint8_t o[40];
	size_t olen;
	struct seg g;

	memset(p, 0, sizeof(*p));
	p->port = port;
	p->seq = PEER_ISN;
	p->win = full ? 1024 : 65535; /* << 7: 128 KiB */
	p->tsval = 7000;
	olen = syn_opts(o, (uint16_t)(LINK_MTU - l3h() - TCP_HLEN), full,
			p->tsval);
	th_frames_clear();
	seg_to(s, p->port, PORT, SYNF, p->seq, 0, p->win, o, olen, NULL, 0);
	p->seq++;
	ck_assert_uint_eq(th_frame_count(), 1);
	out(0, &g);
	ck_assert_uint_eq(g.h.flags, SYNF | ACKF);
	p->iss = g.h.seq;
	p->ack = p->iss + 1;
	p->ts = full;
	p->tsecr = g.o.tsval;
	p->tsval++;
	th_frames_clear();
	psend(s, p, ACKF, NULL, 0);
	ck_assert_uint_eq(O.accepted, 1);
	ck_assert_uint_eq(O.c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(O.c->mss, LINK_MTU - l3h() - TCP_HLEN);
	return O.c;
}

static struct tcp_conn *establish(struct stack *s, struct peer *p, bool full)
{
	return establish_from(s, p, PPORT, full);
}

/* An established connection from the peer whose owner sent DATA_LEN bytes
 * on accepting; they are on the link, in full-sized segments. */
static struct tcp_conn *in_flight(struct stack *s, struct peer *p, bool full)
{
	struct tcp_conn *c;
	struct seg g;

	accept_send = data;
	accept_send_len = sizeof(data);
	c = establish(s, p, full);
	ck_assert_uint_ge(th_frame_count(), 1);
	out(0, &g);
	ck_assert_uint_eq(g.h.seq, p->iss + 1);
	ck_assert_uint_eq(c->snd_max, p->iss + 1 + DATA_LEN);
	return c;
}

/* Frames from..count-1 are segments of the connection, in order, from
 * seq on, each fitting mtu (IPv4: with DF) and carrying what the owner
 * sent there; returns the sequence number after the last. */
static uint32_t expect_resent(size_t from, const struct peer *p,
			      uint32_t seq, unsigned mtu)
{
	for (size_t i = from; i < th_frame_count(); i++) {
		struct seg g;
		size_t off;

		out(i, &g);
		ck_assert_msg(g.wire_max <= mtu, "frame %zu: %zu bytes > %u",
			      i, g.wire_max, mtu);
		if (!v6)
			ck_assert(g.df);
		ck_assert_uint_eq(g.h.flags & (SYNF | RSTF), 0);
		ck_assert_uint_eq(g.h.seq, seq);
		off = g.h.seq - (p->iss + 1);
		ck_assert_uint_le(off + g.data.len, sizeof(data));
		ck_assert_mem_eq(g.data.p, data + off, g.data.len);
		seq += (uint32_t)g.data.len;
	}
	return seq;
}

/* Nothing happened to connection c (mss as given, no frame), nor to the
 * path to the peer. */
static void expect_unchanged(struct stack *s, struct tcp_conn *c,
			     unsigned mss)
{
	ck_assert_uint_eq(th_frame_count(), 0);
	if (c)
		ck_assert_uint_eq(c->mss, mss);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 0);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 0);
	ck_assert_uint_eq(s->pmtu_used, 0);
	expect_peer_path(s, LINK_MTU);
}

/* ---- 1. A smaller MTU for data in flight --------------------------------- */

/* RFC 1191 6.5 / RFC 8201 5.4: the error quoting our first segment in
 * flight lowers the MSS to the path, what was in flight goes again in
 * pieces that fit, the window is not touched (not congestion), and the
 * data arrives whole.  Bit 1 of the index: with the link's offloads (the
 * segments leave as GSO frames the link cuts). */
START_TEST(test_mtu_in_flight)
{
	struct stack *s;
	struct tcp_conn *c;
	struct peer p;
	struct seg g;
	uint8_t q[128];
	size_t qlen, n;
	uint32_t cwnd, ssthresh, end, mid;
	unsigned mtu;
	bool offload = (_i & 2) != 0;

	with_offload = offload;
	s = new_stack(_i);
	mtu = small_mtu();
	c = in_flight(s, &p, true);
	out(0, &g);
	ck_assert_uint_eq(g.wire_max, LINK_MTU);
	qlen = quote_frame(0, q, 8);
	cwnd = c->cwnd;
	ssthresh = c->ssthresh;
	th_frames_clear();

	too_big(s, mtu, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), 1);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 1);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_QUOTE) +
				  stat(s, STAT_ICMP_ERR_DROP_SEQ) +
				  stat(s, STAT_ICMP_ERR_DROP_NO_CONN),
			  0);
	ck_assert_uint_eq(c->mss, mtu - l3h() - TCP_HLEN);
	ck_assert_uint_eq(c->cwnd, cwnd);
	ck_assert_uint_eq(c->ssthresh, ssthresh);
	ck_assert(!c->in_recovery);
	/* Everything in flight went again at once, from SND.UNA, in
	 * segments that fit; the first fills the path exactly. */
	n = th_frame_count();
	ck_assert_uint_ge(n, 1);
	end = expect_resent(0, &p, p.iss + 1, mtu);
	ck_assert_uint_eq(end, p.iss + 1 + DATA_LEN);
	out(0, &g);
	ck_assert_uint_eq(g.wire_max, mtu);
	if (offload)
		ck_assert_uint_gt(th_frame(0)->off.gso_size, 0);
	else
		ck_assert_uint_ge(n, DATA_LEN / (mtu - l3h() - TCP_HLEN - 12));

	/* The peer acknowledges the first resent segment, then the rest:
	 * no spurious recovery, nothing sent again. */
	mid = p.iss + 1 + (mtu - (uint32_t)l3h() - TCP_HLEN - 12);
	th_frames_clear();
	th_advance(s, 40);
	p.ack = mid;
	p.tsval++;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->snd_una, mid);
	p.ack = p.iss + 1 + DATA_LEN;
	p.tsval++;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->snd_una, p.ack);
	ck_assert_uint_eq(c->snd_max, p.ack);
	ck_assert_uint_eq(c->snd.len, 0);
	ck_assert_uint_eq(stat(s, STAT_TCP_FAST_RETRANSMITS), 0);
	ck_assert_uint_ge(c->cwnd, cwnd);
	ck_assert_uint_eq(c->ssthresh, ssthresh);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_advance(s, 10000);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(stat(s, STAT_TCP_RTO_FIRED), 0);
	ck_assert_uint_eq(O.closed, 0);

	/* New data is cut to the path MTU from the start. */
	ck_assert_uint_eq(tcp_send(c, data, 3000), 3000);
	ck_assert_uint_ge(th_frame_count(), 1);
	{
		uint32_t seq = p.ack;

		for (size_t i = 0; i < th_frame_count(); i++) {
			out(i, &g);
			ck_assert_uint_le(g.wire_max, mtu);
			ck_assert_uint_eq(g.h.seq, seq);
			seq += (uint32_t)g.data.len;
		}
		ck_assert_uint_eq(seq, p.ack + 3000);
	}
	/* And UDP to the peer is fragmented to it too. */
	expect_peer_path(s, mtu);
	finish(s);
}
END_TEST

/* Karn (RFC 6298 3): resending in smaller pieces is a retransmission; the
 * ACK that covers a segment timed before the error gives no RTT sample
 * (it would count the time the router took to answer). */
START_TEST(test_mtu_no_rtt_sample)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q[128];
	size_t qlen;

	c = in_flight(s, &p, false);
	ck_assert(!c->ts_ok);
	ck_assert_uint_eq(c->srtt8, 0);
	qlen = quote_frame(0, q, 8);
	th_advance(s, 100);
	th_frames_clear();
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(expect_resent(0, &p, p.iss + 1, small_mtu()),
			  p.iss + 1 + DATA_LEN);
	th_advance(s, 100);
	p.ack = p.iss + 1 + DATA_LEN;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->snd_una, p.ack);
	ck_assert_uint_eq(c->srtt8, 0);
	/* The next segment is timed as usual. */
	th_frames_clear();
	ck_assert_uint_eq(tcp_send(c, data, 100), 100);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 48);
	p.ack += 100;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->srtt8, 48 * 8);
	finish(s);
}
END_TEST

/* RFC 8201 5.2, RFC 1191 6.4: every connection using the path learns the
 * smaller MTU, not only the one whose segment was quoted; the other sends
 * whole segments that fit (IPv4: with DF), not IP fragments. */
START_TEST(test_mtu_other_conn)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *a, *b;
	struct peer pa, pb;
	struct seg g;
	uint8_t q[128];
	size_t qlen;
	uint32_t seq;

	a = in_flight(s, &pa, true);
	qlen = quote_frame(0, q, 8);
	/* A second connection from the peer, idle; the owner lets go of
	 * the first once the error is in. */
	accept_send_len = 0;
	memset(&O, 0, sizeof(O));
	b = establish_from(s, &pb, PPORT + 1, true);
	ck_assert_ptr_ne(a, b);
	th_frames_clear();
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(a->mss, small_mtu() - l3h() - TCP_HLEN);
	ck_assert_uint_eq(b->mss, LINK_MTU - l3h() - TCP_HLEN);
	tcp_abort(a);
	th_frames_clear();
	ck_assert_uint_eq(tcp_send(b, data, 3000), 3000);
	ck_assert_uint_ge(th_frame_count(), 3);
	seq = pb.iss + 1;
	for (size_t i = 0; i < th_frame_count(); i++) {
		out(i, &g);
		ck_assert_uint_le(g.ip_len, small_mtu());
		if (!v6)
			ck_assert(g.df);
		ck_assert_uint_eq(g.h.dport, pb.port);
		ck_assert_uint_eq(g.h.seq, seq);
		seq += (uint32_t)g.data.len;
	}
	ck_assert_uint_eq(seq, pb.iss + 1 + 3000);
	ck_assert_uint_eq(b->mss, small_mtu() - l3h() - TCP_HLEN);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 2);
	finish(s);
}
END_TEST

/* The FIN in flight behind the data goes again after it, once, at its
 * sequence number; the close completes. */
START_TEST(test_mtu_fin_in_flight)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	struct seg g;
	uint8_t q[128];
	size_t qlen, n;
	uint32_t end = 0;

	c = in_flight(s, &p, true);
	th_frames_clear();
	tcp_shutdown(c);
	ck_assert_uint_eq(c->state, TCP_FIN_WAIT_1);
	ck_assert_uint_eq(th_frame_count(), 1);
	out(0, &g);
	ck_assert(g.h.flags & TCP_FLAG_FIN);
	ck_assert_uint_eq(c->snd_max, p.iss + 1 + DATA_LEN + 1);
	/* The router complains about the last data segment. */
	qlen = quote_frame(0, q, 8);
	put_be32(q + l3h() + 4, p.iss + 1 + DATA_LEN - 100);
	th_frames_clear();
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	n = th_frame_count();
	ck_assert_uint_ge(n, 2);
	for (size_t i = 0; i < n; i++) {
		out(i, &g);
		ck_assert_uint_le(g.ip_len, small_mtu());
		ck_assert_uint_eq(!!(g.h.flags & TCP_FLAG_FIN), i == n - 1);
		end = g.h.seq + (uint32_t)g.data.len;
	}
	ck_assert_uint_eq(end, p.iss + 1 + DATA_LEN);
	ck_assert_uint_eq(expect_resent(0, &p, p.iss + 1, small_mtu()), end);
	p.ack = end + 1;
	p.tsval++;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->state, TCP_FIN_WAIT_2);
	finish(s);
}
END_TEST

/* A piece of the resend is lost: the peer's SACKs for the rest bring it
 * out again (in a piece that fits) before the retransmission timeout. */
START_TEST(test_mtu_resend_lost)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	struct seg g;
	uint8_t q[128], o[24];
	size_t qlen, n;
	uint32_t second, cwnd;
	uint64_t t;

	c = in_flight(s, &p, true);
	/* Some time passes before the router answers. */
	th_advance(s, 20);
	out(0, &g);
	qlen = quote_frame(0, q, 8);
	th_frames_clear();
	too_big(s, small_mtu(), q, qlen);
	n = th_frame_count();
	ck_assert_uint_ge(n, 4);
	out(1, &g);
	second = g.h.seq;
	cwnd = c->cwnd;
	th_frames_clear();
	/* The first piece is lost; three ACKs with SACKs for the rest. */
	th_advance(s, 20);
	for (unsigned k = 0; k < 3; k++) {
		size_t ol = ts_opt(o, ++p.tsval, p.tsecr);

		o[ol++] = TCP_OPT_NOP;
		o[ol++] = TCP_OPT_NOP;
		o[ol++] = TCP_OPT_SACK;
		o[ol++] = 10;
		put_be32(o + ol, second);
		put_be32(o + ol + 4, p.iss + 1 + DATA_LEN - (2 - k) * 100);
		ol += 8;
		seg_to(s, p.port, PORT, ACKF, p.seq, p.iss + 1, p.win, o, ol,
		       NULL, 0);
	}
	t = advance_until_frame(s, 5000);
	ck_assert_msg(t < 1000, "the lost piece waited %llu ms",
		      (unsigned long long)t);
	out(0, &g);
	ck_assert_uint_eq(g.h.seq, p.iss + 1);
	ck_assert_uint_eq(g.data.len, second - (p.iss + 1));
	ck_assert_uint_le(g.ip_len, small_mtu());
	ck_assert_uint_eq(stat(s, STAT_TCP_RTO_FIRED), 0);
	/* A real loss this time: fast recovery, once. */
	ck_assert_uint_eq(stat(s, STAT_TCP_FAST_RETRANSMITS), 1);
	ck_assert_uint_lt(c->cwnd, cwnd);
	p.ack = p.iss + 1 + DATA_LEN;
	p.tsval++;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->snd_una, p.ack);
	finish(s);
}
END_TEST

/* ---- 2. A sequence number not in flight ---------------------------------- */

/* RFC 5927 4.1: an error quoting what is already acknowledged, or what was
 * never sent, is stale or forged: counted, and nothing changes, not even
 * the path MTU. */
START_TEST(test_mtu_seq_not_in_flight)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q[128];
	size_t qlen;
	unsigned mss;
	struct seg g;

	c = in_flight(s, &p, true);
	mss = c->mss;
	qlen = quote_frame(0, q, 8);
	/* The peer has the first two segments. */
	out(1, &g);
	p.ack = g.h.seq + (uint32_t)g.data.len;
	p.tsval++;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->snd_una, p.ack);
	th_frames_clear();

	/* Below SND.UNA: the first segment, acknowledged. */
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), 1);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 1);
	/* One below SND.UNA. */
	put_be32(q + l3h() + 4, c->snd_una - 1);
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 2);
	/* At SND.MAX: never sent. */
	put_be32(q + l3h() + 4, c->snd_max);
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 3);
	/* Far beyond it. */
	put_be32(q + l3h() + 4, c->snd_max + 0x10000000u);
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 4);
	/* Half the sequence space away (what a blind attacker tries). */
	put_be32(q + l3h() + 4, c->snd_una + 0x80000000u);
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 5);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), 5);
	expect_unchanged(s, c, mss);
	/* The unreachable errors are checked the same way. */
	port_unreach(s, q, qlen);
	host_unreach(s, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 7);
	/* A connection that is not there: no such ports. */
	put_be32(q + l3h() + 4, c->snd_una);
	put_be16(q + l3h() + 2, PPORT + 1);
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_NO_CONN), 1);
	ck_assert_uint_eq(c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(O.closed, 0);
	expect_unchanged(s, c, mss);
	/* The last in-flight byte is in flight: that one acts. */
	put_be16(q + l3h() + 2, PPORT);
	put_be32(q + l3h() + 4, c->snd_max - 1);
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(c->mss, small_mtu() - l3h() - TCP_HLEN);
	finish(s);
}
END_TEST

/* ---- 3. Quotes that tell nothing ----------------------------------------- */

/* Each of these errors is counted as a bad quote and changes nothing:
 * no segment, no MSS, no path MTU. */
static void expect_bad_quote(struct stack *s, struct tcp_conn *c,
			     unsigned mss, const uint8_t *q, size_t qlen,
			     uint64_t *bad)
{
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_QUOTE), ++*bad);
	port_unreach(s, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_QUOTE), ++*bad);
	ck_assert_uint_eq(c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(O.closed, 0);
	expect_unchanged(s, c, mss);
}

START_TEST(test_bad_quotes_tcp)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q0[256], q[256];
	size_t qlen;
	unsigned mss;
	uint64_t bad = 0;

	c = in_flight(s, &p, true);
	mss = c->mss;
	qlen = quote_frame(0, q0, 8);
	th_frames_clear();

	/* Not from our address. */
	memcpy(q, q0, qlen);
	if (!v6)
		put_be32(q + 12, TH_PEER2_IP);
	else
		q[8 + 15] = 0x09;
	expect_bad_quote(s, c, mss, q, qlen, &bad);
	/* From our address, but the quote's source and destination
	 * swapped (the peer's datagram to us). */
	memcpy(q, q0, qlen);
	if (!v6) {
		memcpy(q + 12, q0 + 16, 4);
		memcpy(q + 16, q0 + 12, 4);
	} else {
		memcpy(q + 8, q0 + 24, 16);
		memcpy(q + 24, q0 + 8, 16);
	}
	expect_bad_quote(s, c, mss, q, qlen, &bad);
	/* Cut short in the IP header. */
	expect_bad_quote(s, c, mss, q0, l3h() - 1, &bad);
	expect_bad_quote(s, c, mss, q0, 1, &bad);
	/* No transport bytes at all, and fewer than eight: the sequence
	 * number cannot be checked (RFC 5927 4.1). */
	expect_bad_quote(s, c, mss, q0, l3h(), &bad);
	expect_bad_quote(s, c, mss, q0, l3h() + 4, &bad);
	expect_bad_quote(s, c, mss, q0, l3h() + 7, &bad);
	if (!v6) {
		/* A later fragment: no TCP header in it (and our TCP never
		 * sends fragments). */
		memcpy(q, q0, qlen);
		put_be16(q + 6, 185); /* offset 1480 */
		expect_bad_quote(s, c, mss, q, qlen, &bad);
		put_be16(q + 6, IP4_FLAG_MF | 1);
		expect_bad_quote(s, c, mss, q, qlen, &bad);
		/* A header length below 20, and one past the quote. */
		memcpy(q, q0, qlen);
		q[0] = 0x44;
		expect_bad_quote(s, c, mss, q, qlen, &bad);
		q[0] = 0x4f;
		expect_bad_quote(s, c, mss, q, qlen, &bad);
		/* Not IPv4 at all. */
		q[0] = 0x55;
		expect_bad_quote(s, c, mss, q, qlen, &bad);
	} else {
		size_t n;

		/* The chain cut short: a Destination Options header that
		 * says 16 bytes, with 8 in the quote. */
		memcpy(q, q0, IP6_HLEN);
		q[6] = IP6_NH_DSTOPTS;
		memset(q + IP6_HLEN, 0, 8);
		q[IP6_HLEN] = IP6_NH_TCP;
		q[IP6_HLEN + 1] = 1;
		expect_bad_quote(s, c, mss, q, IP6_HLEN + 8, &bad);
		/* Hop-by-Hop named, the quote ends with the fixed header. */
		q[6] = IP6_NH_HOPOPTS;
		expect_bad_quote(s, c, mss, q, IP6_HLEN, &bad);
		/* A Fragment header cut in the middle. */
		q[6] = IP6_NH_FRAGMENT;
		expect_bad_quote(s, c, mss, q, IP6_HLEN + 4, &bad);
		/* A later fragment of a TCP segment: no TCP header. */
		memset(q + IP6_HLEN, 0, 8);
		q[IP6_HLEN] = IP6_NH_TCP;
		put_be16(q + IP6_HLEN + 2, 1448); /* offset, M clear */
		memcpy(q + IP6_HLEN + 8, q0 + IP6_HLEN, 8);
		expect_bad_quote(s, c, mss, q, IP6_HLEN + 16, &bad);
		/* Nine Destination Options headers: longer than any chain
		 * is walked (and than any we send). */
		q[6] = IP6_NH_DSTOPTS;
		n = IP6_HLEN;
		for (unsigned i = 0; i < 9; i++, n += 8) {
			memset(q + n, 0, 8);
			q[n] = i < 8 ? IP6_NH_DSTOPTS : IP6_NH_TCP;
			q[n + 2] = IP6_OPT_PADN;
			q[n + 3] = 4;
		}
		memcpy(q + n, q0 + IP6_HLEN, 8);
		expect_bad_quote(s, c, mss, q, n + 8, &bad);
		/* Not IPv6 at all. */
		memcpy(q, q0, qlen);
		q[0] = 0x70;
		expect_bad_quote(s, c, mss, q, qlen, &bad);
	}
	/* Our segment, quoted in an error of the other family (ICMPv6
	 * about an IPv4 datagram, ICMP about an IPv6 one): no router on the
	 * path of one family saw a datagram of the other. */
	v6 = !v6;
	too_big(s, 1280, q0, qlen);
	port_unreach(s, q0, qlen);
	v6 = !v6;
	bad += 2;
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_QUOTE), bad);
	ck_assert_uint_eq(c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(O.closed, 0);
	expect_unchanged(s, c, mss);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), bad);
	/* After all that, the real error still works. */
	too_big(s, small_mtu(), q0, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	finish(s);
}
END_TEST

/* A quoted IPv6 chain that reaches TCP through extension headers (not what
 * we send, but a walk that stops short would never get there): Hop-by-Hop,
 * Destination Options and an atomic Fragment header before the segment. */
START_TEST(test_quote_chain_v6)
{
	struct stack *s = new_stack(1);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q0[128], q[256];
	size_t n;

	c = in_flight(s, &p, true);
	quote_frame(0, q0, 8);
	th_frames_clear();
	memcpy(q, q0, IP6_HLEN);
	q[6] = IP6_NH_HOPOPTS;
	n = IP6_HLEN;
	memset(q + n, 0, 8);
	q[n] = IP6_NH_DSTOPTS;
	q[n + 2] = IP6_OPT_PADN;
	q[n + 3] = 4;
	n += 8;
	memset(q + n, 0, 16);
	q[n] = IP6_NH_FRAGMENT;
	q[n + 1] = 1; /* 16 bytes */
	q[n + 2] = IP6_OPT_PADN;
	q[n + 3] = 12;
	n += 16;
	memset(q + n, 0, 8);
	q[n] = IP6_NH_TCP; /* offset 0, M clear */
	n += 8;
	memcpy(q + n, q0 + IP6_HLEN, 8);
	n += 8;
	too_big(s, 1400, q, n);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_QUOTE), 0);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(c->mss, 1400 - IP6_HLEN - TCP_HLEN);
	finish(s);
}
END_TEST

/* UDP keeps no state to check an error against: the path MTU is all there
 * is to learn, and it is learnt from a truncated quote, from a quote of a
 * later fragment, and from our own ICMP echo reply alike. */
START_TEST(test_quotes_udp)
{
	struct stack *s = new_stack(_i);
	uint8_t q[256];
	size_t qlen;
	struct udp_dst d = {.addr = PEER, .port = UDP_DPORT};
	static uint8_t big[3000];
	unsigned mtu1 = v6 ? 1450 : 1400, mtu2 = v6 ? 1400 : 1200,
		 mtu3 = v6 ? 1350 : 1000;

	/* Four bytes of the UDP header: enough to know it is UDP. */
	qlen = quote_udp(q, &PEER, LINK_MTU);
	too_big(s, mtu1, q, qlen - 4);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 1);
	expect_peer_path(s, mtu1);
	/* None of it: the same. */
	too_big(s, mtu2, q, l3h());
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 2);
	expect_peer_path(s, mtu2);
	/* A later fragment of a datagram of ours. */
	th_frames_clear();
	ck_assert_int_eq(udp_output(s, UDP_SPORT, &d, big, sizeof(big)), 0);
	ck_assert_uint_ge(th_frame_count(), 2);
	qlen = quote_frame(1, q, 8 + (v6 ? IP6_FRAG_HLEN : 0));
	th_frames_clear();
	too_big(s, mtu3, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 3);
	expect_peer_path(s, mtu3);
	/* Unreachables about UDP change nothing of the path. */
	qlen = quote_udp(q, &PEER, LINK_MTU);
	port_unreach(s, q, qlen);
	host_unreach(s, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 3);
	/* Not from us: nothing learnt. */
	if (!v6)
		put_be32(q + 12, TH_PEER2_IP);
	else
		q[8 + 15] = 0x09;
	too_big(s, v6 ? 1280 : 600, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_QUOTE), 1);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 3);
	expect_peer_path(s, mtu3);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ) +
				  stat(s, STAT_ICMP_ERR_DROP_NO_CONN),
			  0);
	finish(s);
}
END_TEST

/* Our echo reply, quoted: ICMP keeps no state either. */
START_TEST(test_quote_icmp_echo)
{
	struct stack *s = new_stack(_i);
	uint8_t q[128], msg[64];
	size_t qlen;
	unsigned mtu = v6 ? 1280 : 576;

	memset(msg, 0x5a, sizeof(msg));
	if (!v6) {
		stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 1,
						msg, sizeof(msg)), 0);
	} else {
		struct icmp6_hdr h = {
			.type = ICMP6_ECHO_REQUEST,
			.rest = 0x10001,
		};
		uint8_t m[ICMP6_HLEN + sizeof(msg)];
		size_t n = th_icmp6_write(m, peer6, our6, &h, msg, sizeof(msg));

		stack_input(s, f, th_ip6_frame_raw(f, th_our_mac, th_peer_mac,
					       peer6, our6, IP6_NH_ICMP6, 64,
					       m, n), 0);
	}
	ck_assert_uint_eq(th_frame_count(), 1);
	qlen = quote_frame(0, q, 8);
	th_frames_clear();
	too_big(s, mtu, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 1);
	expect_peer_path(s, mtu);
	finish(s);
}
END_TEST

/* ---- 4. Floors, no raising, the plateau ---------------------------------- */

/* MTU 200 in a Fragmentation Needed is 552 (Linux's min_pmtu; RFC 1191
 * allows 68), 600 in a Packet Too Big is 1280 (RFC 8201 4: never below
 * IPv6's minimum); a report larger than what we use never raises it. */
START_TEST(test_floor_and_no_raise)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q[128];
	size_t qlen;
	unsigned floor = v6 ? PMTU_MIN6 : PMTU_MIN4;
	uint32_t end;

	c = in_flight(s, &p, true);
	qlen = quote_frame(0, q, 8);
	th_frames_clear();
	too_big(s, v6 ? 600 : 200, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(c->mss, floor - l3h() - TCP_HLEN);
	end = expect_resent(0, &p, p.iss + 1, floor);
	ck_assert(seq_gt(end, p.iss + 1));
	expect_peer_path(s, floor);
	/* Larger than the path MTU, but below the link's: not raised. */
	th_frames_clear();
	too_big(s, 1400, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 1);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(c->mss, floor - l3h() - TCP_HLEN);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* Larger than the link's, and the largest there is. */
	too_big(s, 9000, q, qlen);
	too_big(s, v6 ? 0xffffffffu : 0xffff, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 1);
	ck_assert_uint_eq(c->mss, floor - l3h() - TCP_HLEN);
	ck_assert_uint_eq(th_frame_count(), 0);
	expect_peer_path(s, floor);
	/* Equal: nothing. */
	too_big(s, floor, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 1);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	finish(s);
}
END_TEST

/* With no entry, a report of the link's MTU or more is no entry. */
START_TEST(test_no_entry_above_link)
{
	struct stack *s = new_stack(_i);
	uint8_t q[128];
	size_t qlen = quote_udp(q, &PEER, LINK_MTU);

	too_big(s, LINK_MTU, q, qlen);
	too_big(s, 9000, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), 2);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 0);
	ck_assert_uint_eq(s->pmtu_used, 0);
	expect_peer_path(s, LINK_MTU);
	finish(s);
}
END_TEST

/* RFC 1191 7: an old router sends no MTU; the next plateau below the
 * quoted total length is the estimate (and the floor still holds).  IPv6
 * has no plateau: a Packet Too Big of 0 is the minimum. */
START_TEST(test_plateau)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q[128];
	size_t qlen;

	c = in_flight(s, &p, true);
	qlen = quote_frame(0, q, 8);
	th_frames_clear();
	too_big(s, 0, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	if (v6) {
		ck_assert_uint_eq(c->mss, PMTU_MIN6 - IP6_HLEN - TCP_HLEN);
		ck_assert_uint_eq(expect_resent(0, &p, p.iss + 1, PMTU_MIN6),
				  p.iss + 1 + DATA_LEN);
		expect_peer_path(s, PMTU_MIN6);
		finish(s);
		return;
	}
	/* 1500 was too big: 1492. */
	ck_assert_uint_eq(c->mss, 1492 - IP4_HLEN - TCP_HLEN);
	ck_assert_uint_eq(expect_resent(0, &p, p.iss + 1, 1492),
			  p.iss + 1 + DATA_LEN);
	expect_peer_path(s, 1492);
	/* A UDP datagram of 1200 was too big: 1006. */
	qlen = quote_udp(q, &PEER, 1200);
	too_big(s, 0, q, qlen);
	expect_peer_path(s, 1006);
	/* 1006 itself: the plateau below it, 508, floored to 552. */
	qlen = quote_udp(q, &PEER, 1006);
	too_big(s, 0, q, qlen);
	expect_peer_path(s, PMTU_MIN4);
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), 3);
	finish(s);
}
END_TEST

/* ---- 5. Aging ------------------------------------------------------------ */

/* RFC 1191 6.3, RFC 8201 5.3: ten minutes after it was lowered, the path
 * MTU is the link's again, for UDP and for a new connection's MSS. */
START_TEST(test_aging)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q[128];
	size_t qlen;

	c = in_flight(s, &p, true);
	qlen = quote_frame(0, q, 8);
	th_frames_clear();
	too_big(s, small_mtu(), q, qlen);
	ck_assert_uint_eq(stat(s, STAT_TCP_PMTU_REDUCED), 1);
	p.ack = p.iss + 1 + DATA_LEN;
	p.tsval++;
	psend(s, &p, ACKF, NULL, 0);
	ck_assert_uint_eq(c->snd_una, p.ack);
	tcp_abort(c);
	memset(&O, 0, sizeof(O));
	th_frames_clear();
	th_advance(s, PMTU_AGE_MS - 4);
	expect_peer_path(s, small_mtu());
	ck_assert_uint_eq(s->pmtu_used, 1);
	th_advance(s, 4);
	expect_peer_path(s, LINK_MTU);
	ck_assert_uint_eq(s->pmtu_used, 0);
	/* A new connection gets the link's MSS (establish() checks). */
	establish(s, &p, true);
	finish(s);
}
END_TEST

/* A connection opened while the path MTU is lowered starts with the MSS
 * of the path, whichever side opens it. */
START_TEST(test_new_conn_uses_path)
{
	struct stack *s = new_stack(_i);
	struct tcp_listener G;
	struct tcp_conn *c;
	uint8_t q[128], o[8];
	size_t qlen = quote_udp(q, &PEER, LINK_MTU);
	struct seg g;
	int err;

	too_big(s, small_mtu(), q, qlen);
	tcp_group_init(&G);
	th_frames_clear();
	c = tcp_connect(s, &G, &PEER, 8080, &cbs, &O, &err);
	ck_assert_ptr_nonnull(c);
	O.c = c;
	ck_assert_uint_eq(c->mss, small_mtu() - l3h() - TCP_HLEN);
	out(0, &g);
	/* The MSS we offer is the link's (RFC 1191 3: it is what we can
	 * receive, not what the path to us takes). */
	ck_assert(g.o.mss_ok);
	ck_assert_uint_eq(g.o.mss, LINK_MTU - l3h() - TCP_HLEN);
	o[0] = TCP_OPT_MSS;
	o[1] = TCP_OLEN_MSS;
	put_be16(o + 2, (uint16_t)(LINK_MTU - l3h() - TCP_HLEN));
	seg_to(s, 8080, g.h.sport, SYNF | ACKF, 5000, g.h.seq + 1, 65535, o,
	       4, NULL, 0);
	ck_assert_uint_eq(O.connected, 1);
	ck_assert_uint_eq(c->mss, small_mtu() - l3h() - TCP_HLEN);
	tcp_abort(c);
	tcp_unlisten(s, &G);
	finish(s);
}
END_TEST

/* ---- 6. The table's bound ------------------------------------------------ */

/* Errors about more destinations than the table holds: at most
 * PMTU_ENTRIES entries, the oldest replaced, nothing grows. */
START_TEST(test_table_bound)
{
	struct stack *s = new_stack(_i);
	const unsigned n = PMTU_ENTRIES + 6;
	union inany dst[PMTU_ENTRIES + 6];
	uint8_t q[128];
	size_t used;

	for (unsigned i = 0; i < n; i++) {
		if (!v6) {
			dst[i] = inany_from_v4(0xc0000200u + i + 1);
		} else {
			uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};

			a[14] = (uint8_t)((i + 1) >> 8);
			a[15] = (uint8_t)(i + 1);
			dst[i] = inany_from_v6(a);
		}
		too_big(s, small_mtu(), q, quote_udp(q, &dst[i], LINK_MTU));
		ck_assert_uint_le(s->pmtu_used, PMTU_ENTRIES);
		th_advance(s, 4);
	}
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), n);
	ck_assert_uint_eq(s->pmtu_used, PMTU_ENTRIES);
	used = 0;
	for (unsigned i = 0; i < PMTU_ENTRIES; i++)
		used += s->pmtu[i].mtu != 0;
	ck_assert_uint_eq(used, PMTU_ENTRIES);
	/* The six oldest went; the rest, the newest included, stay. */
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(pmtu_get(s, &dst[i]), i < n - PMTU_ENTRIES
								? LINK_MTU
								: small_mtu());
	expect_path(s, &dst[0], th_gw_mac, LINK_MTU);
	expect_path(s, &dst[n - 1], th_gw_mac, small_mtu());
	/* Lowering one that is there again takes no new slot. */
	too_big(s, small_mtu() - 20, q, quote_udp(q, &dst[n - 1], LINK_MTU));
	ck_assert_uint_eq(stat(s, STAT_PMTU_LOWERED), n + 1);
	ck_assert_uint_eq(s->pmtu_used, PMTU_ENTRIES);
	ck_assert_uint_eq(pmtu_get(s, &dst[n - PMTU_ENTRIES]), small_mtu());
	expect_path(s, &dst[n - 1], th_gw_mac, small_mtu() - 20);
	finish(s);
}
END_TEST

/* ---- 7. Unreachable while connecting, and after -------------------------- */

/* Connect to the peer; returns the connection with its SYN quoted in q. */
static struct tcp_conn *connecting(struct stack *s, struct tcp_listener *G,
				   uint8_t *q, size_t *qlen, struct seg *g)
{
	struct tcp_conn *c;
	int err;

	memset(&O, 0, sizeof(O));
	th_frames_clear();
	c = tcp_connect(s, G, &PEER, 8080, &cbs, &O, &err);
	ck_assert_ptr_nonnull(c);
	O.c = c;
	ck_assert_uint_eq(c->state, TCP_SYN_SENT);
	ck_assert_uint_eq(th_frame_count(), 1);
	out(0, g);
	ck_assert_uint_eq(g->h.flags, SYNF);
	if (!v6)
		ck_assert(g->df);
	*qlen = quote_frame(0, q, 8);
	th_frames_clear();
	return c;
}

/* RFC 1122 4.2.3.9: a hard error ends a connect in SYN-SENT: port
 * unreachable refuses it, host/address unreachable says so; the owner
 * hears closed() with the error, the connection is gone, no reset goes
 * out and no SYN is sent again. */
START_TEST(test_syn_sent_abort)
{
	struct stack *s = new_stack(_i);
	struct tcp_listener G;
	uint8_t q[128];
	size_t qlen;
	struct seg g;

	tcp_group_init(&G);
	connecting(s, &G, q, &qlen, &g);
	port_unreach(s, q, qlen);
	ck_assert_uint_eq(O.closed, 1);
	ck_assert_int_eq(O.err, -ECONNREFUSED);
	ck_assert_uint_eq(O.connected, 0);
	ck_assert_uint_eq(stat(s, STAT_TCP_ICMP_ABORTS), 1);
	ck_assert_uint_eq(s->tcp.count, 0);
	ck_assert_uint_eq(flow_count(&s->tcp.flows), 0);
	ck_assert_uint_eq(th_frame_count(), 0);

	connecting(s, &G, q, &qlen, &g);
	host_unreach(s, q, qlen);
	ck_assert_uint_eq(O.closed, 1);
	ck_assert_int_eq(O.err, -EHOSTUNREACH);
	ck_assert_uint_eq(stat(s, STAT_TCP_ICMP_ABORTS), 2);
	ck_assert_uint_eq(s->tcp.count, 0);
	ck_assert_uint_eq(flow_count(&s->tcp.flows), 0);
	th_advance(s, 10000);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* The peer's late SYN-ACK finds nothing: a reset. */
	seg_to(s, 8080, g.h.sport, SYNF | ACKF, 5000, g.h.seq + 1, 65535,
	       NULL, 0, NULL, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	out(0, &g);
	ck_assert(g.h.flags & RSTF);
	ck_assert_uint_eq(O.connected, 0);
	tcp_unlisten(s, &G);
	finish(s);
}
END_TEST

/* A time exceeded or parameter problem is no reason to give up. */
START_TEST(test_syn_sent_other_errors)
{
	struct stack *s = new_stack(_i);
	struct tcp_listener G;
	struct tcp_conn *c;
	uint8_t q[128];
	size_t qlen;
	struct seg g;

	tcp_group_init(&G);
	c = connecting(s, &G, q, &qlen, &g);
	if (!v6) {
		icmp_err(s, ICMP4_TIME_EXCEEDED, 0, 0, q, qlen);
		icmp_err(s, ICMP4_PARAM_PROBLEM, 0, 0, q, qlen);
	} else {
		icmp_err(s, ICMP6_TIME_EXCEEDED, 0, 0, q, qlen);
		icmp_err(s, ICMP6_PARAM_PROBLEM, ICMP6_PARAM_HEADER, 0, q,
			 qlen);
	}
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), 2);
	ck_assert_uint_eq(c->state, TCP_SYN_SENT);
	ck_assert_uint_eq(O.closed, 0);
	ck_assert_uint_eq(stat(s, STAT_TCP_ICMP_ABORTS), 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	tcp_unlisten(s, &G);
	ck_assert_uint_eq(O.closed, 1);
	finish(s);
}
END_TEST

/* RFC 5927 4.1 in SYN-SENT: only the SYN's sequence number is in flight;
 * an error quoting another is ignored and the handshake goes on.  Then,
 * established, the same errors are soft (RFC 1122 4.2.3.9, RFC 5461):
 * nothing changes. */
START_TEST(test_unreach_wrong_seq_and_soft)
{
	struct stack *s = new_stack(_i);
	struct tcp_listener G;
	struct tcp_conn *c;
	uint8_t q[128], o[4];
	size_t qlen;
	struct seg g;
	uint32_t iss, max;
	unsigned mss;

	tcp_group_init(&G);
	c = connecting(s, &G, q, &qlen, &g);
	iss = g.h.seq;
	put_be32(q + l3h() + 4, iss + 1);
	port_unreach(s, q, qlen);
	host_unreach(s, q, qlen);
	put_be32(q + l3h() + 4, iss - 1);
	port_unreach(s, q, qlen);
	host_unreach(s, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 4);
	ck_assert_uint_eq(stat(s, STAT_TCP_ICMP_ABORTS), 0);
	ck_assert_uint_eq(c->state, TCP_SYN_SENT);
	ck_assert_uint_eq(O.closed, 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* The handshake completes. */
	o[0] = TCP_OPT_MSS;
	o[1] = TCP_OLEN_MSS;
	put_be16(o + 2, (uint16_t)(LINK_MTU - l3h() - TCP_HLEN));
	seg_to(s, 8080, g.h.sport, SYNF | ACKF, 5000, iss + 1, 65535, o, 4,
	       NULL, 0);
	ck_assert_uint_eq(O.connected, 1);
	ck_assert_uint_eq(c->state, TCP_ESTABLISHED);
	mss = c->mss;
	/* Established with data in flight: the errors quote it exactly. */
	th_frames_clear();
	ck_assert_uint_eq(tcp_send(c, data, 2000), 2000);
	ck_assert_uint_ge(th_frame_count(), 1);
	qlen = quote_frame(0, q, 8);
	max = c->snd_max;
	ck_assert(seq_gt(max, iss + 1));
	th_frames_clear();
	port_unreach(s, q, qlen);
	host_unreach(s, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_DROP_SEQ), 4);
	ck_assert_uint_eq(stat(s, STAT_TCP_ICMP_ABORTS), 0);
	ck_assert_uint_eq(c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(O.closed, 0);
	ck_assert_uint_eq(c->snd_una, iss + 1);
	ck_assert_uint_eq(c->snd_max, max);
	expect_unchanged(s, c, mss);
	/* The peer acknowledges: all is well. */
	seg_to(s, 8080, g.h.sport, ACKF, 5001, max, 65535, NULL, 0, NULL, 0);
	ck_assert_uint_eq(c->snd_una, max);
	tcp_abort(c);
	tcp_unlisten(s, &G);
	finish(s);
}
END_TEST

/* The passive side's established connection: soft too. */
START_TEST(test_unreach_established_passive)
{
	struct stack *s = new_stack(_i);
	struct tcp_conn *c;
	struct peer p;
	uint8_t q[128];
	size_t qlen;
	unsigned mss;

	c = in_flight(s, &p, true);
	mss = c->mss;
	qlen = quote_frame(0, q, 8);
	th_frames_clear();
	port_unreach(s, q, qlen);
	host_unreach(s, q, qlen);
	ck_assert_uint_eq(stat(s, STAT_ICMP_ERR_RX), 2);
	ck_assert_uint_eq(stat(s, STAT_TCP_ICMP_ABORTS), 0);
	ck_assert_uint_eq(c->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(O.closed, 0);
	expect_unchanged(s, c, mss);
	finish(s);
}
END_TEST

/* ---- 8. DF --------------------------------------------------------------- */

/* RFC 1191 3: TCP over IPv4 discovers the path, so its segments carry DF
 * (the SYN-ACK, data, pure ACKs, resets); UDP and ICMP do not. */
START_TEST(test_df)
{
	struct stack *s = new_stack(0);
	struct tcp_conn *c;
	struct peer p;
	struct seg g;
	struct ip4_hdr ih;
	struct icmp4_hdr ih4;
	uint8_t ping[16] = {0};

	th_frames_clear();
	c = in_flight(s, &p, true);
	for (size_t i = 0; i < th_frame_count(); i++) {
		out(i, &g);
		ck_assert(g.df);
	}
	/* A pure ACK for data from the peer (sent at once: PSH and a
	 * second segment). */
	th_frames_clear();
	p.ack = p.iss + 1 + DATA_LEN;
	psend(s, &p, ACKF, data, 1000);
	psend(s, &p, ACKF, data, 1000);
	th_advance(s, 500);
	ck_assert_uint_ge(th_frame_count(), 1);
	out(0, &g);
	ck_assert(g.df);
	ck_assert_uint_eq(g.data.len, 0);
	/* A reset for a closed port. */
	th_frames_clear();
	seg_to(s, PPORT + 1, 9, SYNF, 1, 0, 65535, NULL, 0, NULL, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	out(0, &g);
	ck_assert(g.h.flags & RSTF);
	ck_assert(g.df);
	(void)c;
	/* UDP, small and large: no DF (expect_path checks every piece). */
	expect_peer_path(s, LINK_MTU);
	/* An echo reply. */
	stack_input(s, f, th_echo_frame(f, TH_PEER_IP, TH_OUR_IP, 1, 1, ping,
					sizeof(ping)), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_icmp(th_frame(0), th_peer_mac, &ih, &ih4);
	ck_assert_uint_eq(ih4.type, ICMP4_ECHO_REPLY);
	ck_assert_uint_eq(ih.frag & IP4_FLAG_DF, 0);
	finish(s);
}
END_TEST

static Suite *pmtu_suite(void)
{
	Suite *su = suite_create("pmtu");
	TCase *tc;

	tc = tcase_create("in_flight");
	tcase_add_loop_test(tc, test_mtu_in_flight, 0, 4);
	tcase_add_loop_test(tc, test_mtu_no_rtt_sample, 0, 2);
	tcase_add_loop_test(tc, test_mtu_other_conn, 0, 2);
	tcase_add_loop_test(tc, test_mtu_fin_in_flight, 0, 2);
	tcase_add_loop_test(tc, test_mtu_resend_lost, 0, 2);
	tcase_add_loop_test(tc, test_mtu_seq_not_in_flight, 0, 2);
	suite_add_tcase(su, tc);

	tc = tcase_create("quotes");
	tcase_add_loop_test(tc, test_bad_quotes_tcp, 0, 2);
	tcase_add_test(tc, test_quote_chain_v6);
	tcase_add_loop_test(tc, test_quotes_udp, 0, 2);
	tcase_add_loop_test(tc, test_quote_icmp_echo, 0, 2);
	suite_add_tcase(su, tc);

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_floor_and_no_raise, 0, 2);
	tcase_add_loop_test(tc, test_no_entry_above_link, 0, 2);
	tcase_add_loop_test(tc, test_plateau, 0, 2);
	tcase_add_loop_test(tc, test_aging, 0, 2);
	tcase_add_loop_test(tc, test_new_conn_uses_path, 0, 2);
	tcase_add_loop_test(tc, test_table_bound, 0, 2);
	suite_add_tcase(su, tc);

	tc = tcase_create("unreachable");
	tcase_add_loop_test(tc, test_syn_sent_abort, 0, 2);
	tcase_add_loop_test(tc, test_syn_sent_other_errors, 0, 2);
	tcase_add_loop_test(tc, test_unreach_wrong_seq_and_soft, 0, 2);
	tcase_add_loop_test(tc, test_unreach_established_passive, 0, 2);
	suite_add_tcase(su, tc);

	tc = tcase_create("df");
	tcase_add_test(tc, test_df);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(pmtu_suite());
}
