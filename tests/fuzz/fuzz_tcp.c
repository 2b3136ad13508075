/*
 * libFuzzer harness: TCP segments, and sequences of them, into a listener
 * and into an established connection.
 *
 * The peer is 10.0.0.1 (its MAC learned through an ARP request before
 * anything else, so our answers go out at once); we are 10.0.0.2 with a
 * listener on port 7.  Segments come from 10.0.0.1:40000 (or 40001, 40002,
 * or from the remote port of the last tcp_connect() to our ephemeral port)
 * and are built with the wire writers, with a valid TCP checksum although
 * the fuzzing build does not check it.
 *
 * Input format:
 *
 *   byte 0 (mode)
 *     bit 0     start from an established connection: the harness sends a
 *               SYN from 40000 with options from the next 6 bytes, reads
 *               our SYN-ACK in the xmit hook and sends the ACK; otherwise
 *               start from the listener alone
 *     bits 1-2  what recv() takes: 0 echo it back with tcp_send (what
 *               fits), 1 everything, 2 half, 3 nothing (until resumed)
 *     bit 3     recv() acts on the first data byte: 'C' tcp_close, 'A'
 *               tcp_abort, 'S' tcp_shutdown, 'R' tcp_recv_resume (from
 *               inside recv), 'K' keepalive on, 'N' nodelay on
 *     bit 4     peer_closed() calls tcp_shutdown (else tcp_close)
 *     bit 5     writable() sends more and calls tcp_recv_resume
 *     bit 6     accepted() refuses connections from odd peer ports, and
 *               the link takes offloads (long TCP frames, checksums)
 *     bit 7     small limits: backlog 2 (SYN cookies), 6 connections,
 *               4 KiB buffers, 2 KiB out of order, MTU 576
 *   if bit 0: optmask mss_hi mss_lo ws win_hi win_lo
 *     optmask bit 0 MSS, bit 1 window scale, bit 2 SACK-permitted, bit 3
 *     timestamps on the handshake SYN
 *
 *   then records until the input ends:
 *     op & 0xc0 != 0xc0: a segment
 *       op bits 0-1  tuple: 40000->7, 40001->7, 40002->7, or the last
 *                    active open (peer port -> our ephemeral port)
 *       op bit 2     a timestamps option first (TSval counting up, TSecr
 *                    our last TSval), so PAWS does not drop everything
 *       op bit 3     raw options: optlen byte (& 63, at most 40 in all),
 *                    then that many bytes, padded with EOL to 4
 *       op bit 4     payload: len_hi len_lo, then the bytes ...
 *       op bit 5     ... or, with this bit, len bytes of a pattern
 *       flags seq_off[4] ack_off[4] win[2], then the above
 *       SEQ = our last ACK on that tuple (RCV.NXT as the peer sees it) +
 *       seq_off, ACK = the highest sequence we sent there + ack_off.
 *     op & 0xe0 == 0xc0: the clock advances ((op & 7) + 1) units (bits
 *       3-4: 1 ms, 50 ms, 1 s, 30 s), timers run
 *     op & 0xe0 == 0xe0: an API action (op & 0x1f) with an arg byte:
 *       handle = arg & 7 picks one of the connections we own
 *       0 tcp_send ((arg >> 3) * 97 + 1 bytes), 1 tcp_shutdown, 2
 *       tcp_close, 3 tcp_abort, 4 tcp_recv_resume, 5/6 nodelay on/off, 7/8
 *       keepalive on/off, 9 tcp_connect to 10.0.0.1:(1000 + arg), 10
 *       tcp_send ((arg >> 3) * 4096 + 1 bytes), 11 recv mode = arg & 3,
 *       12 re-teach ARP, others nothing.
 *
 * Checked after every step (abort() on failure): every frame sent is
 * well-formed Ethernet + IPv4 (header checksum, length) + TCP (data
 * offset, checksum, options that parse), to the peer, from our MAC; a
 * connection never shrinks the window it advertised; s->tcp.count equals
 * the sum of by_state[], no connection is counted as CLOSED or LISTEN
 * between steps, by_state[] agrees with a walk of the flow table, count
 * equals the table's, count <= max_conns; per listener the list agrees
 * with its count, pending equals its connections in SYN-RECEIVED (for the
 * tcp_connect() group too: simultaneous opens) and, for the listener, is
 * <= syn_backlog; per connection SND.UNA <= SND.NXT <= SND.MAX, the send
 * buffer holds at least SND.MAX - SND.UNA less SYN and FIN, every buffer
 * within its limit, data outstanding or a SYN unanswered means the
 * retransmission timer runs; callbacks only name connections we own and
 * closed() errors are among the documented ones.  At the end the clock
 * runs until no timer is armed (bounded), both listeners are removed,
 * every owned connection must have heard closed(), and the stack is freed
 * (LeakSanitizer finds leaks).
 *
 * TAPIR_FUZZ_TRACE=1 in the environment prints every segment in and out
 * and the connections after every record (for reading a reproducer);
 * TAPIR_FUZZ_LAX_GROUP=1 skips the check of the active-open group's
 * pending count (a simultaneous open underflows it), to keep fuzzing past
 * that known bug.
 */
#include "net/core.h"
#include "fixed_secrets.h"
#include "net/csum.h"
#include "wire/arp.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_MS 1000000u
#define OUR_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define PEER_ISN 0x10000000u
#define LPORT 7
#define PEER_PORT 40000

static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

#ifdef __clang__
#define HARNESS_ONLY __attribute__((no_sanitize("coverage"), noinline))
#else
#define HARNESS_ONLY __attribute__((noinline))
#endif

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "fuzz_tcp: invariant violated: " __VA_ARGS__); \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

enum { RECV_ECHO, RECV_ALL, RECV_HALF, RECV_NONE };

#define M_ESTABLISHED 0x01
#define M_RECV_ACTIONS 0x08
#define M_PEERCLOSE_SHUTDOWN 0x10
#define M_WRITABLE_MORE 0x20
#define M_REFUSE_ODD 0x40
#define M_SMALL 0x80

static struct stack *g_s;
static uint64_t g_now;
static uint8_t g_mode;
static unsigned g_recv_mode;
static unsigned g_depth; /* callbacks calling tcp_recv_resume */
static bool g_arp_asked;
static bool g_trace; /* TAPIR_FUZZ_TRACE=1: print segments and states */
static bool g_lax_group; /* TAPIR_FUZZ_LAX_GROUP=1: skip the group's pending */
static uint32_t g_peer_ts;
static uint16_t g_active_lport, g_active_rport;
static struct tcp_listener g_listener, g_group;
static uint8_t g_buf[70000];  /* frames we build */
static uint8_t g_data[65536]; /* pattern payloads and sends */

/* Connections we own: from accepted() or tcp_connect() until closed() or
 * our tcp_close()/tcp_abort(). */
#define MAX_HANDLES 256
static struct tcp_conn *g_h[MAX_HANDLES];
static unsigned g_nh;

/* What we sent on each 4-tuple (the peer's view of us). */
struct tuple_rec {
	bool used;
	uint16_t lport, rport;
	bool have_ack, have_seq, have_ts, have_edge;
	uint32_t ack;     /* our last ACK: RCV.NXT */
	uint32_t seq_max; /* the highest sequence we used, plus one */
	uint32_t tsval;   /* our last TSval */
	uint32_t edge;    /* right edge of the last window advertised */
	const struct tcp_conn *edge_conn;
	uint32_t edge_iss;
};
#define MAX_TUPLES 32
static struct tuple_rec g_rec[MAX_TUPLES];
static unsigned g_rec_next;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return g_now;
}

/* ---- Handles ------------------------------------------------------------ */

HARNESS_ONLY
static int handle_find(const struct tcp_conn *c)
{
	for (unsigned i = 0; i < g_nh; i++)
		if (g_h[i] == c)
			return (int)i;
	return -1;
}

static bool owned(const struct tcp_conn *c)
{
	return handle_find(c) >= 0;
}

static void handle_add(struct tcp_conn *c)
{
	if (owned(c))
		FAIL("connection %p handed to us twice", (void *)c);
	g_h[g_nh++] = c;
}

static void handle_drop(const struct tcp_conn *c)
{
	int i = handle_find(c);

	if (i < 0)
		FAIL("dropping a handle we do not own");
	g_h[i] = g_h[--g_nh];
}

static void check_owned(const struct tcp_conn *c, const char *what)
{
	if (!owned(c))
		FAIL("%s() names connection %p, which we do not own", what,
		     (const void *)c);
}

static void own_close(struct tcp_conn *c)
{
	handle_drop(c);
	tcp_close(c);
}

static void own_abort(struct tcp_conn *c)
{
	handle_drop(c);
	tcp_abort(c);
}

static void fill_pattern(size_t len)
{
	for (size_t i = 0; i < len; i++)
		g_data[i] = (uint8_t)('a' + i % 26);
}

/* ---- Callbacks ---------------------------------------------------------- */

static void *cb_accepted(void *arg, struct tcp_conn *c)
{
	(void)arg;
	if (c->listener != &g_listener)
		FAIL("accepted() for a connection not of our listener");
	if (c->state != TCP_ESTABLISHED)
		FAIL("accepted() in state %s", tcp_state_names[c->state]);
	if ((g_mode & M_REFUSE_ODD) && (c->flow.key.rport & 1))
		return NULL;
	if (g_nh == MAX_HANDLES)
		return NULL;
	handle_add(c);
	return &g_h;
}

static size_t cb_recv(void *ctx, struct tcp_conn *c, const uint8_t *d,
		      size_t len)
{
	(void)ctx;
	check_owned(c, "recv");
	if (!len)
		FAIL("recv() with no data");
	if (g_mode & M_RECV_ACTIONS) {
		switch (d[0]) {
		case 'C':
			own_close(c);
			return 0;
		case 'A':
			own_abort(c);
			return 0;
		case 'S':
			tcp_shutdown(c);
			break;
		case 'R':
			if (g_depth == 0) {
				g_depth++;
				tcp_recv_resume(c);
				g_depth--;
				if (!owned(c))
					return 0;
			}
			break;
		case 'K':
			tcp_set_keepalive(c, true);
			break;
		case 'N':
			tcp_set_nodelay(c, true);
			break;
		default:
			break;
		}
	}
	switch (g_recv_mode) {
	case RECV_ECHO:
		return tcp_send(c, d, len);
	case RECV_ALL:
		return len;
	case RECV_HALF:
		return len / 2;
	default:
		return 0;
	}
}

static void cb_writable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	check_owned(c, "writable");
	if (!(g_mode & M_WRITABLE_MORE) || g_depth)
		return;
	fill_pattern(1000);
	tcp_send(c, g_data, 1000);
	g_depth++;
	tcp_recv_resume(c);
	g_depth--;
}

static void cb_peer_closed(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	check_owned(c, "peer_closed");
	if (g_mode & M_PEERCLOSE_SHUTDOWN)
		tcp_shutdown(c);
	else
		own_close(c);
}

static void cb_closed(void *ctx, struct tcp_conn *c, int err)
{
	(void)ctx;
	check_owned(c, "closed");
	if (err != 0 && err != -ECONNRESET && err != -ETIMEDOUT &&
	    err != -ECONNREFUSED && err != -ECONNABORTED)
		FAIL("closed() with error %d", err);
	handle_drop(c);
}

static void cb_connected(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	check_owned(c, "connected");
	if (c->state != TCP_ESTABLISHED)
		FAIL("connected() in state %s", tcp_state_names[c->state]);
	tcp_send(c, "hello\n", 6);
}

static const struct tcp_callbacks g_cb = {
	.accepted = cb_accepted,
	.recv = cb_recv,
	.writable = cb_writable,
	.peer_closed = cb_peer_closed,
	.closed = cb_closed,
};

static const struct tcp_callbacks g_cb_active = {
	.recv = cb_recv,
	.writable = cb_writable,
	.peer_closed = cb_peer_closed,
	.closed = cb_closed,
	.connected = cb_connected,
};

/* ---- What the stack sends ----------------------------------------------- */

HARNESS_ONLY
static struct tuple_rec *rec_find(uint16_t lport, uint16_t rport, bool make)
{
	struct tuple_rec *r;

	for (unsigned i = 0; i < MAX_TUPLES; i++)
		if (g_rec[i].used && g_rec[i].lport == lport &&
		    g_rec[i].rport == rport)
			return &g_rec[i];
	if (!make)
		return NULL;
	r = &g_rec[g_rec_next++ % MAX_TUPLES];
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->lport = lport;
	r->rport = rport;
	return r;
}

HARNESS_ONLY
static void check_tcp_segment(uint32_t src, uint32_t dst, const uint8_t *p,
			      size_t len, const struct stack_tx_offload *off)
{
	struct cur c = cur_make(p, len), opts;
	struct tcp_hdr h;
	struct tcp_opts o;
	struct tuple_rec *r;
	struct flow_key k;
	struct flow *f;
	const struct tcp_conn *conn;
	size_t plen;
	uint32_t used;

	if (len < TCP_HLEN || (size_t)(p[12] >> 4) * 4 < TCP_HLEN ||
	    (size_t)(p[12] >> 4) * 4 > len)
		FAIL("TCP segment of %zu bytes, data offset %u", len,
		     p[12] >> 4);
	if (off->csum) {
		/* Left for the link: the field holds the pseudo-header sum. */
		if (be16(p + 16) !=
		    (uint16_t)~csum_fold(csum_pseudo4(src, dst, IP4_PROTO_TCP,
						      (uint16_t)len)))
			FAIL("bad partial TCP checksum emitted");
	} else if (csum_fold(csum_partial(p, len,
					  csum_pseudo4(src, dst, IP4_PROTO_TCP,
						       (uint16_t)len))) != 0) {
		FAIL("bad TCP checksum emitted");
	}
	if (!tcp_hdr_parse(&c, &h, &opts))
		FAIL("emitted TCP header does not parse");
	if (tcp_opts_parse(opts, h.flags & TCP_FLAG_SYN, &o, NULL) < 0)
		FAIL("emitted TCP options are malformed");
	if (h.sport == 0 || h.dport == 0)
		FAIL("TCP port 0 emitted");
	if ((h.flags & TCP_FLAG_SYN) && (h.flags & (TCP_FLAG_RST | TCP_FLAG_FIN)))
		FAIL("SYN with flags %02x emitted", h.flags);
	plen = c.len;
	if (g_trace)
		fprintf(stderr, "  out %u->%u %02x seq %u ack %u win %u "
			"len %zu\n", h.sport, h.dport, h.flags, h.seq, h.ack,
			h.win, plen);
	if (plen && (h.flags & (TCP_FLAG_SYN | TCP_FLAG_RST)))
		FAIL("%zu data bytes on a segment with flags %02x", plen,
		     h.flags);
	if (dst != PEER_IP)
		return;

	r = rec_find(h.sport, h.dport, true);
	used = (uint32_t)plen + !!(h.flags & TCP_FLAG_SYN) +
	       !!(h.flags & TCP_FLAG_FIN);
	if (h.flags & TCP_FLAG_SYN) {
		/* A new incarnation of the tuple. */
		r->seq_max = h.seq + 1;
		r->have_seq = true;
		r->have_edge = false;
	} else if (!(h.flags & TCP_FLAG_RST) &&
		   (!r->have_seq || seq_gt(h.seq + used, r->seq_max))) {
		r->seq_max = h.seq + used;
		r->have_seq = true;
	}
	if (h.flags & TCP_FLAG_ACK) {
		r->ack = h.ack;
		r->have_ack = true;
	}
	if (o.ts_ok) {
		r->tsval = o.tsval;
		r->have_ts = true;
	}

	/* Never shrink the window (RFC 9293 3.8.6.2.2); scaling rounds the
	 * edge down by less than one unit. */
	k.laddr = inany_from_v4(src);
	k.raddr = inany_from_v4(dst);
	k.lport = h.sport;
	k.rport = h.dport;
	f = flow_lookup(&g_s->tcp.flows, &k);
	conn = f ? flow_entry(f, struct tcp_conn, flow) : NULL;
	if (conn && conn->state >= TCP_ESTABLISHED &&
	    (h.flags & (TCP_FLAG_ACK | TCP_FLAG_SYN | TCP_FLAG_RST)) ==
		    TCP_FLAG_ACK) {
		uint32_t edge = h.ack + ((uint32_t)h.win << conn->rcv_ws);
		uint32_t slack = (1u << conn->rcv_ws) - 1;

		if (r->have_edge && r->edge_conn == conn &&
		    r->edge_iss == conn->iss &&
		    seq_lt(edge + slack, r->edge))
			FAIL("window shrunk: right edge %u after %u (ack %u "
			     "win %u ws %u, %s)",
			     edge, r->edge, h.ack, h.win, conn->rcv_ws,
			     tcp_state_names[conn->state]);
		if (!r->have_edge || r->edge_conn != conn ||
		    r->edge_iss != conn->iss || seq_gt(edge, r->edge))
			r->edge = edge;
		r->have_edge = true;
		r->edge_conn = conn;
		r->edge_iss = conn->iss;
	}
}

HARNESS_ONLY
static int fuzz_xmit(void *ctx, const uint8_t *frame, size_t len,
		     const struct stack_tx_offload *off)
{
	static const struct stack_tx_offload none;
	const struct stack_tx_offload *o = off ? off : &none;
	const uint8_t *p = frame + ETH_HLEN;
	size_t plen;
	uint16_t type;

	(void)ctx;
	if (len < ETH_HLEN)
		FAIL("frame of %zu bytes (< %d)", len, ETH_HLEN);
	/* Only a frame the link is to cut up may exceed the MTU, and each
	 * of its pieces must fit it. */
	if (o->gso_size) {
		if (!g_s->p.offload || !o->csum)
			FAIL("segmentation asked of a link without offloads");
		if ((size_t)o->hdr_len + o->gso_size > ETH_HLEN + g_s->p.mtu)
			FAIL("GSO pieces of %u + %u bytes exceed 14 + MTU %u",
			     o->hdr_len, o->gso_size, g_s->p.mtu);
		if (len <= (size_t)o->hdr_len + o->gso_size)
			FAIL("GSO frame of %zu bytes needs no cutting", len);
	} else if (len > ETH_HLEN + (size_t)g_s->p.mtu) {
		FAIL("frame of %zu bytes exceeds 14 + MTU %u", len,
		     g_s->p.mtu);
	}
	if (o->csum && !g_s->p.offload)
		FAIL("checksum offload asked of a link without offloads");
	if (memcmp(frame + 6, g_s->p.mac, ETH_ALEN) != 0)
		FAIL("source MAC is not ours");
	plen = len - ETH_HLEN;
	type = be16(frame + 12);
	if (type == ETH_TYPE_ARP) {
		struct cur c = cur_make(p, plen);
		struct arp_hdr a;

		if (plen != ARP_LEN || !arp_hdr_parse(&c, &a))
			FAIL("malformed ARP packet emitted");
		if (a.spa != OUR_IP || memcmp(a.sha, g_s->p.mac, ETH_ALEN))
			FAIL("ARP not from us");
		if (a.op == ARP_OP_REQUEST && a.tpa == PEER_IP)
			g_arp_asked = true;
		return 0;
	}
	if (type != ETH_TYPE_IP4)
		FAIL("ethertype %04x emitted", type);
	if (plen < IP4_HLEN || p[0] != 0x45)
		FAIL("bad IPv4 header emitted");
	if (csum(p, IP4_HLEN) != 0)
		FAIL("bad IPv4 header checksum emitted");
	if (be16(p + 2) != plen)
		FAIL("IPv4 total length %u in a %zu-byte payload", be16(p + 2),
		     plen);
	if (be32(p + 12) != OUR_IP)
		FAIL("IPv4 source %08x is not ours", be32(p + 12));
	if (be32(p + 16) != PEER_IP)
		FAIL("IPv4 destination %08x is not the peer", be32(p + 16));
	if (memcmp(frame, peer_mac, ETH_ALEN) != 0)
		FAIL("frame not to the peer's MAC");
	if (p[8] == 0)
		FAIL("IPv4 TTL 0 emitted");
	if (be16(p + 6) & (IP4_FLAG_MF | IP4_OFF_MASK))
		FAIL("TCP segment fragmented");
	if (p[9] == IP4_PROTO_TCP)
		check_tcp_segment(be32(p + 12), be32(p + 16), p + IP4_HLEN,
				  plen - IP4_HLEN, o);
	else if (p[9] != IP4_PROTO_ICMP)
		FAIL("IP protocol %u emitted", p[9]);
	return 0;
}

/* ---- Invariants --------------------------------------------------------- */

HARNESS_ONLY
static void check_listener(const struct tcp_listener *l, const char *name)
{
	unsigned n = 0, synrcvd = 0;
	struct tcp_conn *const *pp = &l->conns;

	for (const struct tcp_conn *c = l->conns; c; c = c->lnext) {
		if (c->lpprev != pp)
			FAIL("%s: list links corrupt", name);
		if (c->listener != l)
			FAIL("%s: a connection of another listener", name);
		if (c->dead)
			FAIL("%s: a dead connection on the list", name);
		if (c->state == TCP_SYN_RECEIVED)
			synrcvd++;
		if (++n > g_s->tcp.count)
			FAIL("%s: more connections listed than exist", name);
		pp = &c->lnext;
	}
	if (n != l->count)
		FAIL("%s: %u connections listed, count %u", name, n, l->count);
	/* The backlog bounds a listener; a group's simultaneous opens are
	 * counted but not limited. */
	if (l == &g_listener && l->pending > g_s->p.tcp.syn_backlog)
		FAIL("%s: pending %u > syn_backlog %u", name, l->pending,
		     g_s->p.tcp.syn_backlog);
	if (l->pending != synrcvd && !(g_lax_group && l == &g_group))
		FAIL("%s: pending %u, %u connections in SYN-RECEIVED", name,
		     l->pending, synrcvd);
}

HARNESS_ONLY
static void check_conn(const struct tcp_conn *c)
{
	uint32_t out = c->snd_max - c->snd_una;
	uint32_t ctl;

	if (c->dead)
		FAIL("dead connection in the flow table");
	if (c->busy)
		FAIL("connection busy between steps");
	if (c->state <= TCP_LISTEN || c->state >= TCP_NSTATES)
		FAIL("connection in state %u in the table", c->state);
	if (c->listener != &g_listener && c->listener != &g_group)
		FAIL("connection of no listener");
	if (!seq_leq(c->snd_una, c->snd_nxt) || !seq_leq(c->snd_nxt, c->snd_max))
		FAIL("%s: SND.UNA %u SND.NXT %u SND.MAX %u out of order",
		     tcp_state_names[c->state], c->snd_una, c->snd_nxt,
		     c->snd_max);
	if (c->snd.len > c->snd.limit)
		FAIL("send buffer %zu > limit %zu", c->snd.len, c->snd.limit);
	if (c->rcv.len > c->rcv.limit)
		FAIL("receive buffer %zu > limit %zu", c->rcv.len,
		     c->rcv.limit);
	if (c->ooo.bytes > c->ooo.limit)
		FAIL("out-of-order bytes %zu > limit %zu", c->ooo.bytes,
		     c->ooo.limit);
	/* What is in flight is buffered data, plus SYN and FIN. */
	ctl = (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) +
	      (unsigned)(c->fin_sent || c->fin_seq_set);
	if (c->state != TCP_TIME_WAIT && out > c->snd.len + ctl)
		FAIL("%s: %u bytes in flight, %zu buffered (+%u SYN/FIN)",
		     tcp_state_names[c->state], out, c->snd.len, ctl);
	/* Nothing outstanding may be forgotten. */
	if ((c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED ||
	     (c->snd_nxt != c->snd_una && c->state != TCP_TIME_WAIT)) &&
	    !timer_pending(&c->rtx))
		FAIL("%s: SND.UNA %u SND.NXT %u and no retransmission timer",
		     tcp_state_names[c->state], c->snd_una, c->snd_nxt);
	if (c->state == TCP_TIME_WAIT && !timer_pending(&c->rtx))
		FAIL("TIME-WAIT without its timer");
	if (c->cb && !owned(c))
		FAIL("connection with callbacks we do not own (%s)",
		     tcp_state_names[c->state]);
}

HARNESS_ONLY
static void check_state(void)
{
	struct tcp_stack *t = &g_s->tcp;
	unsigned sum = 0, walked = 0, tally[TCP_NSTATES] = {0};

	for (int i = 0; i < TCP_NSTATES; i++)
		sum += t->by_state[i];
	if (sum != t->count)
		FAIL("tcp.count %u, by_state[] sums to %u", t->count, sum);
	if (t->by_state[TCP_CLOSED] || t->by_state[TCP_LISTEN])
		FAIL("%u connections CLOSED, %u LISTEN between steps",
		     t->by_state[TCP_CLOSED], t->by_state[TCP_LISTEN]);
	/* TIME_WAIT has its own limit. */
	if (tcp_active_count(g_s) > g_s->p.tcp.max_conns)
		FAIL("%u connections not in TIME_WAIT > max_conns %u",
		     tcp_active_count(g_s), g_s->p.tcp.max_conns);
	if (t->by_state[TCP_TIME_WAIT] > g_s->p.tcp.max_time_wait)
		FAIL("%u connections in TIME_WAIT > max_time_wait %u",
		     t->by_state[TCP_TIME_WAIT], g_s->p.tcp.max_time_wait);
	if (flow_count(&t->flows) != t->count)
		FAIL("flow table holds %zu, tcp.count %u",
		     flow_count(&t->flows), t->count);
	for (size_t b = 0; b < t->flows.nbuckets; b++) {
		for (struct flow *f = t->flows.bucket[b]; f; f = f->next) {
			const struct tcp_conn *c =
				flow_entry(f, struct tcp_conn, flow);

			if (++walked > t->count)
				FAIL("flow table chains longer than count");
			check_conn(c);
			tally[c->state]++;
		}
	}
	if (walked != t->count)
		FAIL("walked %u connections, count %u", walked, t->count);
	for (int i = 0; i < TCP_NSTATES; i++)
		if (tally[i] != t->by_state[i])
			FAIL("by_state[%s] %u, %u in the table",
			     tcp_state_names[i], t->by_state[i], tally[i]);
	if (g_listener.count + g_group.count != t->count)
		FAIL("listener %u + group %u != count %u", g_listener.count,
		     g_group.count, t->count);
	check_listener(&g_listener, "listener");
	check_listener(&g_group, "group");
	for (unsigned i = 0; i < g_nh; i++)
		if (!flow_lookup(&t->flows, &g_h[i]->flow.key) ||
		    flow_entry(flow_lookup(&t->flows, &g_h[i]->flow.key),
			       struct tcp_conn, flow) != g_h[i])
			FAIL("an owned connection is not in the table");
}

HARNESS_ONLY
static void trace_conns(uint8_t op)
{
	struct tcp_stack *t = &g_s->tcp;

	fprintf(stderr, "after op %02x, t=%llu: %u conns, %u owned\n", op,
		(unsigned long long)(g_now - BASE_MS), t->count, g_nh);
	for (size_t b = 0; b < t->flows.nbuckets; b++)
		for (struct flow *f = t->flows.bucket[b]; f; f = f->next) {
			const struct tcp_conn *c =
				flow_entry(f, struct tcp_conn, flow);

			fprintf(stderr, "  %u->%u %s una %u nxt %u max %u "
				"rcv_nxt %u snd %zu rcv %zu ooo %zu\n",
				c->flow.key.rport, c->flow.key.lport,
				tcp_state_names[c->state], c->snd_una,
				c->snd_nxt, c->snd_max, c->rcv_nxt, c->snd.len,
				c->rcv.len, c->ooo.bytes);
		}
}

/* ---- Building segments -------------------------------------------------- */

static void input_frame(size_t len)
{
	uint8_t *copy = malloc(len);

	if (!copy)
		abort();
	memcpy(copy, g_buf, len);
	stack_input(g_s, copy, len, 0);
	free(copy);
}

static void teach_arp(void)
{
	struct eth_hdr eh = {.type = ETH_TYPE_ARP};
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = ARP_OP_REQUEST,
		.spa = PEER_IP,
		.tpa = OUR_IP,
	};

	memcpy(eh.dst, eth_broadcast, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	memcpy(a.sha, peer_mac, ETH_ALEN);
	eth_hdr_write(g_buf, &eh);
	arp_hdr_write(g_buf + ETH_HLEN, &a);
	g_arp_asked = false;
	input_frame(ETH_HLEN + ARP_LEN);
}

/* Send a segment from PEER_IP:sport to OUR_IP:dport with opts[olen]
 * (olen a multiple of 4, <= 40) and payload[plen]. */
static void send_segment(uint16_t sport, uint16_t dport, uint8_t flags,
			 uint32_t seq, uint32_t ack, uint16_t win,
			 const uint8_t *opts, size_t olen,
			 const uint8_t *payload, size_t plen)
{
	uint8_t *ip = g_buf + ETH_HLEN, *tcp = ip + IP4_HLEN;
	struct eth_hdr eh = {.type = ETH_TYPE_IP4};
	struct tcp_hdr th = {
		.sport = sport,
		.dport = dport,
		.seq = seq,
		.ack = ack,
		.doff = (uint8_t)(TCP_HLEN + olen),
		.flags = flags,
		.win = win,
	};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_TCP,
		.src = PEER_IP,
		.dst = OUR_IP,
		.frag = IP4_FLAG_DF,
	};
	size_t tlen = TCP_HLEN + olen + plen;

	memcpy(eh.dst, g_s->p.mac, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	eth_hdr_write(g_buf, &eh);
	ih.total_len = (uint16_t)(IP4_HLEN + tlen);
	ih.id = (uint16_t)g_peer_ts;
	ip4_hdr_write(ip, &ih);
	tcp_hdr_write(tcp, &th);
	if (olen)
		memcpy(tcp + TCP_HLEN, opts, olen);
	if (plen)
		memcpy(tcp + TCP_HLEN + olen, payload, plen);
	if (g_trace)
		fprintf(stderr, "  in  %u->%u %02x seq %u ack %u win %u "
			"opts %zu len %zu\n", sport, dport, flags, seq, ack,
			win, olen, plen);
	put_be16(tcp + 16,
		 csum_fold(csum_partial(tcp, tlen,
					csum_pseudo4(PEER_IP, OUR_IP,
						     IP4_PROTO_TCP,
						     (uint16_t)tlen))));
	input_frame(ETH_HLEN + IP4_HLEN + tlen);
}

static size_t ts_option(uint8_t *p, const struct tuple_rec *r)
{
	p[0] = TCP_OPT_NOP;
	p[1] = TCP_OPT_NOP;
	p[2] = TCP_OPT_TS;
	p[3] = TCP_OLEN_TS;
	put_be32(p + 4, ++g_peer_ts);
	put_be32(p + 8, r && r->have_ts ? r->tsval : 0);
	return 12;
}

/* The real handshake on 40000 -> 7. */
static void handshake(const uint8_t *hs)
{
	struct tcp_opts o;
	struct tuple_rec *r;
	uint8_t opts[TCP_MAX_OPTLEN];
	size_t olen;
	uint16_t win = be16(hs + 4);

	memset(&o, 0, sizeof(o));
	o.mss_ok = hs[0] & 1;
	o.mss = be16(hs + 1);
	o.ws_ok = hs[0] & 2;
	o.ws = hs[3];
	o.sack_perm = hs[0] & 4;
	o.ts_ok = hs[0] & 8;
	o.tsval = ++g_peer_ts;
	olen = tcp_opts_write(opts, sizeof(opts), &o, true);
	send_segment(PEER_PORT, LPORT, TCP_FLAG_SYN, PEER_ISN, 0, win, opts,
		     olen, NULL, 0);
	r = rec_find(LPORT, PEER_PORT, false);
	if (!r || !r->have_seq || !r->have_ack)
		return; /* no SYN-ACK (cookie, or refused) */
	if (r->ack != PEER_ISN + 1)
		FAIL("SYN-ACK acknowledges %u, not %u", r->ack, PEER_ISN + 1);
	olen = 0;
	if (o.ts_ok && r->have_ts)
		olen = ts_option(opts, r);
	send_segment(PEER_PORT, LPORT, TCP_FLAG_ACK, PEER_ISN + 1, r->seq_max,
		     win, opts, olen, NULL, 0);
}

/* ---- Records ------------------------------------------------------------ */

struct in {
	const uint8_t *p;
	size_t n;
};

static bool take(struct in *in, void *out, size_t n)
{
	if (in->n < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return true;
}

static bool rec_segment(struct in *in, uint8_t op)
{
	uint8_t hdr[11], opts[TCP_MAX_OPTLEN], b;
	uint16_t sport, dport;
	struct tuple_rec *r;
	size_t olen = 0, plen = 0;
	const uint8_t *payload = g_data;
	uint32_t seq, ack;

	if (!take(in, hdr, sizeof(hdr)))
		return false;
	switch (op & 3) {
	case 3:
		if (g_active_lport) {
			sport = g_active_rport;
			dport = g_active_lport;
			break;
		}
		/* fall through */
	case 0:
		sport = PEER_PORT;
		dport = LPORT;
		break;
	default:
		sport = (uint16_t)(PEER_PORT + (op & 3));
		dport = LPORT;
		break;
	}
	r = rec_find(dport, sport, false);
	memset(opts, 0, sizeof(opts));
	if (op & 4)
		olen = ts_option(opts, r);
	if (op & 8) {
		size_t raw;

		if (!take(in, &b, 1))
			return false;
		raw = b & 63;
		if (raw > TCP_MAX_OPTLEN - olen)
			raw = TCP_MAX_OPTLEN - olen;
		if (raw > in->n)
			raw = in->n;
		take(in, opts + olen, raw);
		olen = (olen + raw + 3) & ~(size_t)3;
	}
	if (op & 0x10) {
		uint8_t l[2];

		if (!take(in, l, 2))
			return false;
		plen = be16(l);
		if (plen > IP4_MAX_LEN - IP4_HLEN - TCP_HLEN - olen)
			plen = IP4_MAX_LEN - IP4_HLEN - TCP_HLEN - olen;
		if (op & 0x20) {
			fill_pattern(plen);
		} else {
			if (plen > in->n)
				plen = in->n;
			payload = in->p;
			in->p += plen;
			in->n -= plen;
		}
	}
	seq = (r && r->have_ack ? r->ack : PEER_ISN) + be32(hdr + 1);
	ack = (r && r->have_seq ? r->seq_max : 0) + be32(hdr + 5);
	send_segment(sport, dport, hdr[0], seq, ack, be16(hdr + 9), opts, olen,
		     payload, plen);
	return true;
}

static void advance(uint8_t op)
{
	static const unsigned unit[4] = {1, 50, 1000, 30000};

	g_now += (uint64_t)((op & 7) + 1) * unit[(op >> 3) & 3];
	stack_run_timers(g_s);
}

static void action(uint8_t op, uint8_t arg)
{
	struct tcp_conn *c = g_nh ? g_h[(arg & 7) % g_nh] : NULL;
	size_t n;
	union inany peer;
	int err;

	switch (op & 0x1f) {
	case 0:
	case 10:
		if (!c)
			break;
		n = (op & 0x1f) ? (size_t)(arg >> 3) * 4096 + 1
				: (size_t)(arg >> 3) * 97 + 1;
		if (n > sizeof(g_data))
			n = sizeof(g_data);
		fill_pattern(n);
		if (tcp_send(c, g_data, n) > n)
			FAIL("tcp_send took more than offered");
		break;
	case 1:
		if (c)
			tcp_shutdown(c);
		break;
	case 2:
		if (c)
			own_close(c);
		break;
	case 3:
		if (c)
			own_abort(c);
		break;
	case 4:
		if (c)
			tcp_recv_resume(c);
		break;
	case 5:
	case 6:
		if (c)
			tcp_set_nodelay(c, (op & 0x1f) == 5);
		break;
	case 7:
	case 8:
		if (c)
			tcp_set_keepalive(c, (op & 0x1f) == 7);
		break;
	case 9:
		if (g_nh == MAX_HANDLES)
			break;
		peer = inany_from_v4(PEER_IP);
		c = tcp_connect(g_s, &g_group, &peer, (uint16_t)(1000 + arg),
				&g_cb_active, &g_h, &err);
		if (!c) {
			if (err != -ENOBUFS)
				FAIL("tcp_connect failed with %d", err);
			break;
		}
		if (c->state != TCP_SYN_SENT)
			FAIL("tcp_connect left state %s",
			     tcp_state_names[c->state]);
		handle_add(c);
		g_active_lport = c->flow.key.lport;
		g_active_rport = c->flow.key.rport;
		break;
	case 11:
		g_recv_mode = arg & 3;
		break;
	case 12:
		teach_arp();
		break;
	default:
		break;
	}
}

/* Run the clock in steps longer than any timer's delay until nothing is
 * armed (keepalive's two hours and its probes are the longest chain). */
static void drain(void)
{
	for (int i = 0; i < 320 && g_s->timers.count; i++) {
		g_now += 65536;
		stack_run_timers(g_s);
		check_state();
	}
	if (g_s->timers.count)
		FAIL("%zu timers still armed after the drain",
		     g_s->timers.count);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *trace = getenv("TAPIR_FUZZ_TRACE");
	const char *lax = getenv("TAPIR_FUZZ_LAX_GROUP");

	(void)argc;
	(void)argv;
	g_trace = trace && *trace && *trace != '0';
	g_lax_group = lax && *lax && *lax != '0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stack_params p;
	struct in in = {data, size};

	if (!take(&in, &g_mode, 1))
		return 0;
	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	p.offload = (g_mode & M_REFUSE_ODD) != 0;
	if (g_mode & M_SMALL) {
		p.mtu = 576;
		p.tcp.syn_backlog = 2;
		p.tcp.max_conns = 6;
		p.tcp.sndbuf = 4096;
		p.tcp.rcvbuf = 4096;
		p.tcp.ooo_limit = 2048;
	}
	g_now = BASE_MS;
	g_recv_mode = (g_mode >> 1) & 3;
	g_depth = 0;
	g_nh = 0;
	g_peer_ts = 1000;
	g_active_lport = g_active_rport = 0;
	memset(g_rec, 0, sizeof(g_rec));
	g_rec_next = 0;
	g_s = stack_new(&p, &fuzz_secrets, fuzz_xmit, NULL, fake_clock,
			NULL);
	if (!g_s)
		abort();
	tcp_group_init(&g_group);
	if (tcp_listen(g_s, &g_listener, LPORT, &g_cb, NULL))
		abort();
	teach_arp();

	if (g_mode & M_ESTABLISHED) {
		uint8_t hs[6];

		if (take(&in, hs, sizeof(hs))) {
			handshake(hs);
			check_state();
		}
	}
	while (in.n) {
		uint8_t op = in.p[0], arg;

		in.p++;
		in.n--;
		if ((op & 0xc0) != 0xc0) {
			if (!rec_segment(&in, op))
				break;
		} else if ((op & 0xe0) == 0xc0) {
			advance(op);
		} else {
			if (!take(&in, &arg, 1))
				break;
			action(op, arg);
		}
		if (g_arp_asked)
			teach_arp();
		check_state();
		if (g_trace)
			trace_conns(op);
	}
	drain();
	tcp_unlisten(g_s, &g_listener);
	tcp_unlisten(g_s, &g_group);
	if (g_s->tcp.count)
		FAIL("%u connections left after unlisten", g_s->tcp.count);
	if (g_nh)
		FAIL("%u owned connections never heard closed()", g_nh);
	if (g_listener.pending || g_group.pending)
		FAIL("pending %u (listener), %u (group) with no connection",
		     g_listener.pending, g_group.pending);
	stack_free(g_s);
	g_s = NULL;
	return 0;
}
