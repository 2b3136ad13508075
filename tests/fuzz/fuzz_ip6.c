/*
 * libFuzzer harness: IPv6 packets into a fresh stack with IPv6 on.
 *
 * The input describes packets, not frames: the harness writes the Ethernet
 * and IPv6 fixed headers itself (version, payload length, the MACs that go
 * with the addresses), so the fuzzer spends its time behind them, on the
 * extension headers, ICMPv6, Neighbor Discovery with Duplicate Address
 * Detection, UDP and TCP.  (Broken fixed headers are fuzz_eth's.)
 *
 * Input format:
 *
 *   mode byte     bit 0     DAD on (off: our addresses are usable at once)
 *                 bit 1     gateway6 fe80::1 (the peer) from the start
 *                 bit 2     fix each packet's ICMPv6, UDP or TCP checksum
 *                           (and UDP's length), found by following its
 *                           extension headers the way the stack does
 *                 bit 3     the link takes offloads (TCP checksums, GSO)
 *                 bits 4-5  link behaviour: 0 every xmit succeeds, 1 every
 *                           second fails, 2 every third fails, 3 every
 *                           xmit fails
 *                 bit 6     EUI-64 link-local identifier (else RFC 7217)
 *                 bit 7     free the stack with whatever is in progress
 *                           (armed timers, neighbours resolving, DAD)
 *                           instead of running the clock past every
 *                           timeout first
 *   config byte   bits 0-1  MTU 1500, 1280, 9000, 1400
 *                 bits 2-3  DAD transmits 1, 2, 3, 0 (taken as 1)
 *                 bit 4     hop limit 200 for what we originate (else 64)
 *                 bit 5     a second address 2001:db8:1::2/64
 *                 bit 6     neighbour caches of 8 entries (else 256)
 *                 bit 7     the link vouches for checksums
 *                           (STACK_RX_CSUM_OK)
 *   then records:
 *
 *   record := ctl op [nh hop len_hi len_lo payload[len]]
 *     ctl advances the fake clock before the record (bits 6-7 pick the
 *     unit: 1 ms, 16 ms, 256 ms, 1024 ms; bits 0-5 the count), then the
 *     stack's timers run.  With op bit 7 set the record is a command (op
 *     bits 0-4, below) and ends there.  Otherwise it is a packet from the
 *     source op bits 0-2 pick to the destination bits 3-5 pick, with next
 *     header nh, hop limit hop, and payload everything after the fixed
 *     header; op bit 6 sends it to the Ethernet broadcast address instead
 *     of our MAC (or the group's 33:33 MAC).  A len past the end of the
 *     input takes what is left.
 *
 *   sources       0 the peer's link-local fe80::1, 1 the peer's global
 *                 fd00::1, 2 ::, 3 ff02::1, 4 our global address, 5 our
 *                 link-local address, 6 another peer fe80::3 (with its
 *                 own MAC), 7 an off-link host 2001:db8::1 (through the
 *                 peer's MAC, the router's)
 *   destinations  0 our global address (fd00::2/64, or fd00::3 after
 *                 command 4), 1 our link-local address, 2 ff02::1, 3 the
 *                 solicited-node group of our global address, 4 that of
 *                 our link-local address, 5 fd00::99 (on the link, not
 *                 ours), 6 ff02::2 (routers), 7 2001:db8:1::2 (ours with
 *                 config bit 5 or command 5)
 *   commands      0 stack_announce(), 1 gateway6 fe80::1, 2 gateway6
 *                 fd00::1, 3 no gateway6, 4 our global address fd00::2 <->
 *                 fd00::3, 5 the second address on/off, 6 unbind UDP port
 *                 7, 7 bind it again, 8-13 a datagram from port 7 to port
 *                 9 the way a module sends one: 8 to fe80::1, 9 to fd00::1,
 *                 10 to 2001:db8::1, 11 to ff02::1, 12 8000 bytes to
 *                 fd00::1 (fragmented), 13 3000 bytes straight to the
 *                 peer's MAC; 14 DAD on/off, 15 IPv6 off/on (each sets the
 *                 addresses up again), 16-18 tcp_connect() to port 80 of
 *                 fe80::1, fd00::1, 2001:db8::1; 19-31 nothing
 *
 * Port 7 echoes (UDP through udp_output(); TCP through a listener that
 * echoes what fits and closes when the peer does), port 547 answers
 * straight to the sender's MAC the way a DHCPv6 server does, port 9
 * discards.  The stack is announced at the start, as the daemon does, so
 * DAD (when on) starts at once.
 *
 * Every frame the stack emits is checked by stack_check.c (abort() on
 * failure; stack_check.h lists the invariants), and so are the timer
 * wheel, the neighbour caches and the addresses after every step.  Unless
 * mode bit 7 is set, a run ends by advancing the clock until no timer is
 * armed; after that no neighbour entry may remain (none INCOMPLETE with
 * packets waiting, in particular) and no address may still be tentative.
 *
 * The fuzzing build does not verify checksums (TAPIR_FUZZING), so mode
 * bit 2 matters for replaying an input against a normal build, and for
 * the UDP length it sets.
 */
#include "net/core.h"
#include "fixed_secrets.h"
#include "net/csum.h"
#include "stack_check.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_MS 1000000u

/* Mode bits. */
#define M_DAD 0x01
#define M_GATEWAY 0x02
#define M_FIX_CSUM 0x04
#define M_OFFLOAD 0x08
#define M_LINK_SHIFT 4
#define M_EUI64 0x40
#define M_NO_DRAIN 0x80
/* Config bits. */
#define C_HOP_LIMIT 0x10
#define C_SECOND 0x20
#define C_SMALL_CACHE 0x40
#define C_CSUM_OK 0x80

static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer2_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};

static const uint8_t peer_ll[16] = {0xfe, 0x80, [15] = 1};
static const uint8_t peer_gua[16] = {0xfd, 0x00, [15] = 1};
static const uint8_t peer2_ll[16] = {0xfe, 0x80, [15] = 3};
static const uint8_t off_link[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t not_ours[16] = {0xfd, 0x00, [15] = 0x99};
static const uint8_t addr_a[16] = {0xfd, 0x00, [15] = 2};
static const uint8_t addr_b[16] = {0xfd, 0x00, [15] = 3};
static const uint8_t addr_second[16] = {0x20, 0x01, 0x0d,    0xb8,
					0x00, 0x01, [15] = 2};
/* Our link-local address while the stack has none (IPv6 off). */
static const uint8_t ll_none[16] = {0xfe, 0x80, [15] = 2};

static const unsigned mtus[4] = {1500, 1280, 9000, 1400};

static struct stack *g_s;
static struct stack_params g_params;
static uint64_t g_now;
static unsigned g_fail_mode;
static unsigned long g_xmit_n;
static bool g_fix;
static unsigned g_rx_flags;
static uint8_t g_big[8000];

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return g_now;
}

static int fuzz_xmit(void *ctx, const uint8_t *frame, size_t len,
		     const struct stack_tx_offload *off)
{
	(void)ctx;
	sc_frame(frame, len, off);
	g_xmit_n++;
	switch (g_fail_mode) {
	case 1:
		return g_xmit_n % 2 ? 0 : -105;
	case 2:
		return g_xmit_n % 3 ? 0 : -11;
	case 3:
		return -5;
	default:
		return 0;
	}
}

/* ---- What listens ---- */

/* UDP port 7: echo back to the sender, routed and resolved like any
 * module. */
static void echo_recv(void *arg, const struct udp_meta *m, const uint8_t *data,
		      size_t len)
{
	struct udp_dst dst = {.addr = m->src, .port = m->src_port};

	(void)arg;
	udp_output(g_s, m->dst_port, &dst, data, len);
}

/* Port 547: answer straight to the sender's MAC (a DHCPv6 server's way). */
static void direct_recv(void *arg, const struct udp_meta *m,
			const uint8_t *data, size_t len)
{
	struct udp_dst dst = {
	    .addr = m->src,
	    .port = m->src_port,
	    .mac = m->src_mac,
	};

	(void)arg;
	udp_output(g_s, m->dst_port, &dst, data, len < 300 ? len : 300);
}

static void discard_recv(void *arg, const struct udp_meta *m,
			 const uint8_t *data, size_t len)
{
	(void)arg;
	(void)m;
	(void)data;
	(void)len;
}

/* TCP: echo what fits (flow control), close when the peer does, abort on
 * an 'A'; an active open sends a line once connected. */
static void *tcp_fz_accepted(void *arg, struct tcp_conn *c)
{
	(void)arg;
	(void)c;
	return (void *)1;
}

static size_t tcp_fz_recv(void *ctx, struct tcp_conn *c, const uint8_t *d,
			  size_t len)
{
	(void)ctx;
	if (len && d[0] == 'A') {
		tcp_abort(c);
		return 0;
	}
	return tcp_send(c, d, len);
}

static void tcp_fz_writable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	tcp_recv_resume(c);
}

static void tcp_fz_peer_closed(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	tcp_close(c);
}

static void tcp_fz_closed(void *ctx, struct tcp_conn *c, int err)
{
	(void)ctx;
	(void)c;
	(void)err;
}

static void tcp_fz_connected(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	tcp_send(c, "hello\r\n", 7);
}

static const struct tcp_callbacks tcp_fz_cb = {
    .accepted = tcp_fz_accepted,
    .recv = tcp_fz_recv,
    .writable = tcp_fz_writable,
    .peer_closed = tcp_fz_peer_closed,
    .closed = tcp_fz_closed,
    .connected = tcp_fz_connected,
};
static struct tcp_listener l_echo, g_group;

static struct udp_binding b_echo = {.port = 7, .fn = echo_recv};
static struct udp_binding b_direct = {.port = 547, .fn = direct_recv};
static struct udp_binding b_discard = {.port = 9, .fn = discard_recv};

/* ---- Packets ---- */

static const uint8_t *our_ll(void)
{
	return g_s->naddr6 ? g_s->addr6[0].a.a : ll_none;
}

static void pick_source(unsigned i, uint8_t out[16])
{
	static const uint8_t *const fixed[8] = {
	    peer_ll, peer_gua, NULL,	 ip6_all_nodes,
	    NULL,    NULL,     peer2_ll, off_link,
	};

	memset(out, 0, 16);
	if (fixed[i])
		memcpy(out, fixed[i], 16);
	else if (i == 4)
		memcpy(out, g_s->p.addr6[0].addr, 16);
	else if (i == 5)
		memcpy(out, our_ll(), 16);
}

static void pick_destination(unsigned i, uint8_t out[16])
{
	switch (i) {
	case 0:
		memcpy(out, g_s->p.addr6[0].addr, 16);
		break;
	case 1:
		memcpy(out, our_ll(), 16);
		break;
	case 2:
		memcpy(out, ip6_all_nodes, 16);
		break;
	case 3:
		ip6_solicited_node(g_s->p.addr6[0].addr, out);
		break;
	case 4:
		ip6_solicited_node(our_ll(), out);
		break;
	case 5:
		memcpy(out, not_ours, 16);
		break;
	case 6:
		memcpy(out, ip6_all_routers, 16);
		break;
	default:
		memcpy(out, addr_second, 16);
		break;
	}
}

/* Set the checksum (and UDP's length) of the upper-layer message of the
 * IPv6 packet at h (plen bytes of payload), found by following the
 * extension headers; a fragment that is not atomic has none whole. */
HARNESS_ONLY
static void fix_checksum(uint8_t *h, size_t plen)
{
	uint8_t *p = h + IP6_HLEN, nh = h[6];
	size_t off = 0, n, at;

	while (off < plen) {
		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_ROUTING:
		case IP6_NH_DSTOPTS:
			if (plen - off < 2)
				return;
			n = ((size_t)p[off + 1] + 1) * 8;
			nh = p[off];
			off += n;
			continue;
		case IP6_NH_FRAGMENT:
			if (plen - off < IP6_FRAG_HLEN ||
			    (be16(p + off + 2) &
			     (IP6_FRAG_OFF_MASK | IP6_FRAG_MORE)))
				return;
			nh = p[off];
			off += IP6_FRAG_HLEN;
			continue;
		case IP6_NH_ICMP6:
			at = 2;
			break;
		case IP6_NH_UDP:
			at = 6;
			break;
		case IP6_NH_TCP:
			at = 16;
			break;
		default:
			return;
		}
		n = plen - off;
		if (n < at + 2)
			return;
		if (nh == IP6_NH_UDP)
			put_be16(p + off + 4, (uint16_t)n);
		put_be16(p + off + at, 0);
		put_be16(p + off + at,
			 csum_fold(csum_partial(
			     p + off, n, sc_pseudo6(h + 8, h + 24, nh, n))));
		if (nh == IP6_NH_UDP && be16(p + off + at) == 0)
			put_be16(p + off + at, 0xffff);
		return;
	}
}

static void packet(uint8_t op, uint8_t nh, uint8_t hop, const uint8_t *payload,
		   size_t len)
{
	size_t flen = ETH_HLEN + IP6_HLEN + len;
	uint8_t *f = malloc(flen), *h;

	if (!f)
		abort();
	h = f + ETH_HLEN;
	pick_source(op & 7, h + 8);
	pick_destination(op >> 3 & 7, h + 24);
	if (op & 0x40)
		memset(f, 0xff, ETH_ALEN);
	else if (ip6_is_multicast(h + 24))
		ip6_mcast_mac(h + 24, f);
	else
		memcpy(f, g_s->p.mac, ETH_ALEN);
	memcpy(f + 6, (op & 7) == 6 ? peer2_mac : peer_mac, ETH_ALEN);
	put_be16(f + 12, ETH_TYPE_IP6);
	put_be32(h, 6u << 28);
	put_be16(h + 4, (uint16_t)len);
	h[6] = nh;
	h[7] = hop;
	if (len)
		memcpy(h + IP6_HLEN, payload, len);
	if (g_fix)
		fix_checksum(h, len);
	/* A private copy of the bytes, so reading past the frame is caught
	 * by ASan. */
	stack_input(g_s, f, flen, g_rx_flags);
	free(f);
}

/* ---- Commands ---- */

static void send_from_7(const uint8_t *to, const uint8_t *mac, size_t len)
{
	struct udp_dst dst = {.addr = inany_from_v6(to), .port = 9, .mac = mac};

	memset(g_big, 0xa5, len);
	udp_output(g_s, 7, &dst, g_big, len);
}

static void connect_to(const uint8_t *to)
{
	union inany a = inany_from_v6(to);
	int err;

	tcp_connect(g_s, &g_group, &a, 80, &tcp_fz_cb, NULL, &err);
}

static void command(uint8_t op)
{
	struct stack_params p = g_s->p;

	switch (op & 0x1f) {
	case 0:
		stack_announce(g_s);
		break;
	case 1:
		memcpy(p.gateway6, peer_ll, 16);
		stack_update(g_s, &p);
		break;
	case 2:
		memcpy(p.gateway6, peer_gua, 16);
		stack_update(g_s, &p);
		break;
	case 3:
		memset(p.gateway6, 0, 16);
		stack_update(g_s, &p);
		break;
	case 4:
		memcpy(p.addr6[0].addr,
		       memcmp(p.addr6[0].addr, addr_a, 16) ? addr_a : addr_b,
		       16);
		stack_update(g_s, &p);
		break;
	case 5:
		p.naddr6 = p.naddr6 == 1 ? 2 : 1;
		stack_update(g_s, &p);
		break;
	case 6:
		udp_unbind(g_s, &b_echo);
		break;
	case 7:
		udp_bind(g_s, &b_echo); /* -EADDRINUSE when still bound */
		break;
	case 8:
		send_from_7(peer_ll, NULL, 32);
		break;
	case 9:
		send_from_7(peer_gua, NULL, 32);
		break;
	case 10:
		send_from_7(off_link, NULL, 32);
		break;
	case 11:
		send_from_7(ip6_all_nodes, NULL, 32);
		break;
	case 12:
		send_from_7(peer_gua, NULL, sizeof(g_big)); /* fragmented */
		break;
	case 13:
		send_from_7(peer_ll, peer_mac, 3000);
		break;
	case 14:
		p.dad = !p.dad;
		stack_update(g_s, &p);
		break;
	case 15:
		p.ipv6 = !p.ipv6;
		stack_update(g_s, &p);
		break;
	case 16:
		connect_to(peer_ll);
		break;
	case 17:
		connect_to(peer_gua);
		break;
	case 18:
		connect_to(off_link);
		break;
	default:
		break;
	}
}

/* ---- The run ---- */

static void after_step(void)
{
	sc_state();
	sc_timers(g_now, false);
	sc_note();
}

static void advance(uint8_t ctl)
{
	static const unsigned unit[4] = {1, 16, 256, 1024};

	g_now += (uint64_t)(ctl & 0x3f) * unit[ctl >> 6];
	sc_timers(g_now, false); /* stack_next_timer() must say "now" if due */
	stack_run_timers(g_s);
	sc_timers(g_now, true);
	sc_note();
}

/* Advance the clock in steps longer than any timer's delay until nothing
 * is armed; then all state must be gone. */
/* Run the clock from one due timer to the next until none is armed.  A
 * leap of a minute at a time let a timer chain outlast the drain: a TCP
 * retransmission towards a neighbour that never answers makes a new
 * resolution each time, and each leap moved that resolution on by one
 * solicitation only.  Bounded: the stack's timers all end (retries,
 * timeouts), well within this many steps. */
static void drain(void)
{
	for (int i = 0; i < 100000 && g_s->timers.count; i++) {
		int64_t next = stack_next_timer(g_s);

		g_now += next > 0 ? (uint64_t)next : 1;
		stack_run_timers(g_s);
		sc_timers(g_now, true);
	}
	sc_drained();
}

static void fz_icmp6(void *arg, const struct stack_icmp6_rx *m,
		     const uint8_t *msg, size_t len);
static void fz_echo(void *arg, const union inany *src, uint16_t id,
		    uint16_t seq);

static void setup(uint8_t mode, uint8_t config)
{
	struct stack_params p = g_params;

	p.ipv6 = true;
	p.dad = mode & M_DAD;
	p.iid_eui64 = mode & M_EUI64;
	p.offload = mode & M_OFFLOAD;
	p.mtu = mtus[config & 3];
	p.dad_transmits = ((config >> 2) + 1) & 3;
	p.hop_limit = config & C_HOP_LIMIT ? 200 : 64;
	p.naddr6 = config & C_SECOND ? 2 : 1;
	memcpy(p.addr6[0].addr, addr_a, 16);
	p.addr6[0].prefix = 64;
	memcpy(p.addr6[1].addr, addr_second, 16);
	p.addr6[1].prefix = 64;
	if (mode & M_GATEWAY)
		memcpy(p.gateway6, peer_ll, 16);
	if (config & C_SMALL_CACHE)
		p.arp_cache_size = 8;
	g_fix = mode & M_FIX_CSUM;
	g_rx_flags = config & C_CSUM_OK ? STACK_RX_CSUM_OK : 0;
	g_fail_mode = (mode >> M_LINK_SHIFT) & 3;
	g_xmit_n = 0;
	g_now = BASE_MS;

	g_s = stack_new(&p, &fuzz_secrets, fuzz_xmit, NULL, fake_clock, NULL);
	if (!g_s)
		abort();
	sc_start(g_s);
	b_echo.next = b_direct.next = b_discard.next = NULL;
	if (udp_bind(g_s, &b_echo) || udp_bind(g_s, &b_direct) ||
	    udp_bind(g_s, &b_discard) ||
	    tcp_listen(g_s, &l_echo, 7, &tcp_fz_cb, NULL))
		abort();
	tcp_group_init(&g_group);
	/* Link services: the DHCPv6 group heard, the router role on
	 * some runs, RS and echo replies taken. */
	{
		static const uint8_t dhcp6[16] = {0xff, 0x02, [13] = 1,
						  [15] = 2};
		union inany g = inany_from_v6(dhcp6);

		if (stack_mcast6_join(g_s, &g))
			abort();
		if (config & 1)
			stack_set_router(g_s, true);
		stack_set_icmp6_fn(g_s, fz_icmp6, NULL);
		stack_set_echo_fn(g_s, fz_echo, NULL);
	}
	stack_announce(g_s); /* as the daemon does: DAD starts */
	after_step();
}

/* What a router advertisement module and a ping check do with the
 * stack (host API 4): an RS is answered with a minimal RA and the
 * soliciting node is pinged. */
static void fz_icmp6(void *arg, const struct stack_icmp6_rx *m,
		     const uint8_t *msg, size_t len)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	uint8_t ra[16] = {ICMP6_ND_RA, 0, 0, 0, 64};
	union inany dst = m->src;

	(void)arg;
	if (len < 1 || msg[0] != ICMP6_ND_RS)
		abort(); /* the stack hands over Router Solicitations only */
	if (!ip6_is_linklocal(dst.a))
		dst = inany_from_v6(all_nodes);
	(void)stack_icmp6_send(g_s, &dst, NULL, ra, sizeof(ra));
	if (!ip6_is_unspecified(m->src.a))
		(void)stack_echo_send(g_s, &m->src, 0x1234, 1);
}

static unsigned g_echo_replies;

static void fz_echo(void *arg, const union inany *src, uint16_t id,
		    uint16_t seq)
{
	(void)arg;
	(void)src;
	(void)id;
	(void)seq;
	g_echo_replies++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sc_init("fuzz_ip6");
	stack_params_default(&g_params);
	g_params.acd = false; /* the address usable at once */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (size < 2)
		return 0;
	mode = data[0];
	setup(mode, data[1]);
	data += 2;
	size -= 2;

	while (size >= 2) {
		uint8_t ctl = data[0], op = data[1];
		size_t len;

		data += 2;
		size -= 2;
		advance(ctl);
		if (op & 0x80) {
			command(op);
			after_step();
			continue;
		}
		if (size < 4)
			break;
		len = (size_t)data[2] << 8 | data[3];
		if (len > size - 4)
			len = size - 4;
		packet(op, data[0], data[1], data + 4, len);
		after_step();
		data += 4 + len;
		size -= 4 + len;
	}
	if (!(mode & M_NO_DRAIN))
		drain();
	tcp_unlisten(g_s, &g_group);
	tcp_unlisten(g_s, &l_echo);
	stack_free(g_s); /* leaks are LeakSanitizer's to find */
	g_s = NULL;
	return 0;
}
