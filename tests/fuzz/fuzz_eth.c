/*
 * libFuzzer harness: raw Ethernet frames into a fresh stack.
 *
 * Input format (byte 0 is the mode):
 *
 *   mode bit 0     0: the rest of the input is one frame
 *                  1: sequence mode, the rest is a list of records
 *   mode bits 1-2  link behaviour: 0 every xmit succeeds, 1 every xmit
 *                  fails, 2 every second fails, 3 every third fails
 *   mode bits 3-6  milliseconds added to the start time (tick alignment)
 *   mode bit 7     free the stack with whatever is in progress (pending
 *                  ARP queues, reassemblies, armed timers) instead of
 *                  running the clock past every timeout first
 *
 *   record := ctl len_hi len_lo frame[len]
 *     ctl advances the fake clock before the record (bits 6-7 pick the unit:
 *     1 ms, 16 ms, 256 ms, 1024 ms; bits 0-5 the count), then the stack's
 *     timers run.  len 0 makes the record a command instead of a frame:
 *     ctl bits 0-3 pick one (announce, gateway on/off, address change,
 *     unbind/rebind port 7, datagrams sent from port 7 the way a module
 *     would).  A len past the end of the input takes what is left.
 *
 * Unless mode bit 7 is set, a run ends by advancing the clock until no
 * timer is armed; after that no ARP entry and no reassembly may remain.
 *
 * Port 7 echoes through udp_output() (routed, ARP resolved), port 67 answers
 * straight to the sender's MAC like a DHCP server, port 9 discards.
 *
 * Every frame the stack emits is checked (abort() on failure): Ethernet
 * length within [14, 14 + MTU], our source MAC, type ARP or IPv4; ARP a
 * well-formed Ethernet/IPv4 request or reply from our address; IPv4 a
 * 20-byte header with a valid checksum, total length equal to the frame,
 * fragments 8-byte aligned, and for unfragmented UDP and ICMP a valid
 * transport checksum.  The timer wheel (links, bitmap, count; after
 * stack_run_timers() no timer more than a tick overdue; stack_next_timer()
 * never sleeping past the earliest expiry by more than a tick) and the
 * reassembly limits are checked after every step.
 * TAPIR_FUZZ_LAX_TIMERS=1 in the environment skips the two timing checks,
 * to keep fuzzing for other bugs while a timing bug is open.
 */
#include "net/core.h"
#include "fixed_secrets.h"
#include "net/csum.h"
#include "wire/arp.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"
#include "wire/udp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_MS 1000000u
#define ADDR_A 0x0a000002u /* 10.0.0.2, the default */
#define ADDR_B 0x0a000003u /* 10.0.0.3, after the address-change command */
#define GATEWAY 0x0a000001u
#define PEER 0x0a000001u
#define OFF_LINK 0xc0000201u /* 192.0.2.1 */

static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static struct stack *g_s;
static struct stack_params g_params;
static uint64_t g_now;
static unsigned g_fail_mode;
static unsigned long g_xmit_n;
static bool g_lax_timers;
static uint8_t g_big[8000];

/* The harness's own loops (checks, payload patterns) are not the code
 * under test: keep them out of the coverage feedback and the comparison
 * tracing, which otherwise dominate the run time. */
#ifdef __clang__
#define HARNESS_ONLY __attribute__((no_sanitize("coverage"), noinline))
#else
#define HARNESS_ONLY __attribute__((noinline))
#endif

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "fuzz_eth: invariant violated: " __VA_ARGS__); \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return g_now;
}

static bool our_addr(uint32_t a)
{
	return a == ADDR_A || a == ADDR_B;
}

HARNESS_ONLY
static void check_arp_frame(const uint8_t *p, size_t len)
{
	struct cur c = cur_make(p, len);
	struct arp_hdr a;

	if (len != ARP_LEN)
		FAIL("ARP frame of %zu bytes", len);
	if (!arp_hdr_parse(&c, &a))
		FAIL("malformed ARP packet emitted");
	if (a.op != ARP_OP_REQUEST && a.op != ARP_OP_REPLY)
		FAIL("ARP op %u emitted", a.op);
	if (memcmp(a.sha, g_s->p.mac, ETH_ALEN) != 0)
		FAIL("ARP sender MAC is not ours");
	if (!our_addr(a.spa))
		FAIL("ARP sender address %08x is not ours", a.spa);
}

HARNESS_ONLY
static void check_transport(uint8_t proto, uint32_t src, uint32_t dst,
			    const uint8_t *p, size_t len)
{
	if (proto == IP4_PROTO_UDP) {
		if (len < UDP_HLEN || be16(p + 4) != len)
			FAIL("UDP length %u in a %zu-byte payload",
			     len >= UDP_HLEN ? be16(p + 4) : 0, len);
		if (be16(p + 6) == 0)
			FAIL("UDP sent without a checksum");
		if (csum_fold(csum_partial(p, len,
					   csum_pseudo4(src, dst, IP4_PROTO_UDP,
							(uint16_t)len))) != 0)
			FAIL("bad UDP checksum emitted");
		if (be16(p + 2) == 0 || be16(p) == 0)
			FAIL("UDP port 0 emitted");
	} else if (proto == IP4_PROTO_ICMP) {
		if (len < ICMP4_HLEN)
			FAIL("ICMP message of %zu bytes", len);
		if (csum(p, len) != 0)
			FAIL("bad ICMP checksum emitted");
		if (p[0] != ICMP4_ECHO_REPLY && p[0] != ICMP4_DEST_UNREACH &&
		    !(p[0] == ICMP4_TIME_EXCEEDED &&
		      p[1] == ICMP4_EXC_FRAGTIME))
			FAIL("ICMP type %u code %u emitted", p[0], p[1]);
		if (p[0] != ICMP4_ECHO_REPLY && len > 576 - IP4_HLEN)
			FAIL("ICMP error of %zu bytes exceeds 576", len);
	} else if (proto == IP4_PROTO_TCP) {
		if (len < 20 || (size_t)(p[12] >> 4) * 4 < 20 ||
		    (size_t)(p[12] >> 4) * 4 > len)
			FAIL("TCP segment of %zu bytes, data offset %u", len,
			     p[12] >> 4);
		if (csum_fold(csum_partial(p, len,
					   csum_pseudo4(src, dst, IP4_PROTO_TCP,
							(uint16_t)len))) != 0)
			FAIL("bad TCP checksum emitted");
	} else {
		FAIL("IP protocol %u emitted", proto);
	}
}

HARNESS_ONLY
static void check_ip4_frame(const uint8_t *p, size_t len)
{
	uint16_t total, frag;
	uint32_t src, dst;
	size_t plen;

	if (len < IP4_HLEN)
		FAIL("IPv4 frame with %zu bytes of payload", len);
	if (p[0] != 0x45)
		FAIL("IPv4 version/IHL byte %02x emitted", p[0]);
	if (csum(p, IP4_HLEN) != 0)
		FAIL("bad IPv4 header checksum emitted");
	total = be16(p + 2);
	if (total != len)
		FAIL("IPv4 total length %u in a %zu-byte frame payload", total,
		     len);
	frag = be16(p + 6);
	src = be32(p + 12);
	dst = be32(p + 16);
	plen = len - IP4_HLEN;
	if (!our_addr(src))
		FAIL("IPv4 source %08x is not ours", src);
	if (dst == 0 || ip4_is_loopback(dst))
		FAIL("IPv4 destination %08x emitted", dst);
	if (p[8] == 0)
		FAIL("IPv4 TTL 0 emitted");
	if (frag & IP4_FLAG_MF && (plen == 0 || plen % 8))
		FAIL("non-last fragment with %zu bytes", plen);
	if ((size_t)(frag & IP4_OFF_MASK) * 8 + plen > IP4_MAX_LEN - IP4_HLEN)
		FAIL("fragment ends past 65535");
	if (!(frag & (IP4_FLAG_MF | IP4_OFF_MASK)))
		check_transport(p[9], src, dst, p + IP4_HLEN, plen);
}

HARNESS_ONLY
static int fuzz_xmit(void *ctx, const uint8_t *frame, size_t len,
		     const struct stack_tx_offload *off)
{
	uint16_t type;

	(void)ctx;
	/* These stacks are made without offloads: nothing is asked. */
	if (off && (off->csum || off->gso_size))
		FAIL("offloads asked of a link without them");
	if (len < ETH_HLEN)
		FAIL("frame of %zu bytes (< %d)", len, ETH_HLEN);
	if (len > ETH_HLEN + (size_t)g_s->p.mtu)
		FAIL("frame of %zu bytes exceeds 14 + MTU %u", len, g_s->p.mtu);
	if (memcmp(frame + 6, g_s->p.mac, ETH_ALEN) != 0)
		FAIL("source MAC is not ours");
	type = be16(frame + 12);
	if (type == ETH_TYPE_ARP)
		check_arp_frame(frame + ETH_HLEN, len - ETH_HLEN);
	else if (type == ETH_TYPE_IP4)
		check_ip4_frame(frame + ETH_HLEN, len - ETH_HLEN);
	else
		FAIL("ethertype %04x emitted", type);

	g_xmit_n++;
	switch (g_fail_mode) {
	case 1:
		return -5;
	case 2:
		return g_xmit_n % 2 ? 0 : -105;
	case 3:
		return g_xmit_n % 3 ? 0 : -11;
	default:
		return 0;
	}
}

/* Port 7: echo back to the sender, routed and resolved like any module. */
static void echo_recv(void *arg, const struct udp_meta *m, const uint8_t *data,
		      size_t len)
{
	struct udp_dst dst = {.addr = m->src, .port = m->src_port};

	(void)arg;
	udp_output(g_s, m->dst_port, &dst, data, len);
}

/* Port 67: answer straight to the sender's MAC, broadcast when the sender
 * has no address yet (what a DHCP server does). */
static void direct_recv(void *arg, const struct udp_meta *m,
			const uint8_t *data, size_t len)
{
	struct udp_dst dst = {
	    .addr = inany_from_v4(inany_v4(&m->src) ? inany_v4(&m->src)
						    : IP4_BROADCAST),
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

/* TCP on port 7: echo what fits (flow control), close when the peer
 * does; every callback path of the state machine gets exercised. */
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

static const struct tcp_callbacks tcp_fz_cb = {
    .accepted = tcp_fz_accepted,
    .recv = tcp_fz_recv,
    .writable = tcp_fz_writable,
    .peer_closed = tcp_fz_peer_closed,
    .closed = tcp_fz_closed,
};
static struct tcp_listener l_echo;

static struct udp_binding b_echo = {.port = 7, .fn = echo_recv};
static struct udp_binding b_direct = {.port = 67, .fn = direct_recv};
static struct udp_binding b_discard = {.port = 9, .fn = discard_recv};

/* Walk the wheel: links, slot bitmap and count agree; after a run nothing
 * more than a tick overdue is left behind; stack_next_timer() says "now"
 * when something is due and never sleeps past the earliest expiry by more
 * than a tick. */
HARNESS_ONLY
static void check_timers(bool after_run)
{
	struct timer_wheel *w = &g_s->timers;
	uint64_t min_exp = UINT64_MAX;
	size_t n = 0;
	int64_t next;

	for (size_t i = 0; i < TIMER_SLOTS; i++) {
		struct timer **pp = &w->slot[i];
		bool used = (w->used[i / 64] >> (i % 64)) & 1;

		if (used != (*pp != NULL))
			FAIL("slot %zu bitmap %d disagrees with list", i, used);
		for (struct timer *t = *pp; t; t = t->next) {
			if (t->pprev != pp || t->slot != i)
				FAIL("timer links corrupt in slot %zu", i);
			/* The wheel works in ticks: a timer may fire up to a
			 * tick late, never more. */
			if (after_run && !g_lax_timers &&
			    t->expires + TIMER_TICK_MS <= g_now)
				FAIL("timer due at %llu still armed after "
				     "stack_run_timers() at %llu (slot %zu, "
				     "wheel tick %llu)",
				     (unsigned long long)t->expires,
				     (unsigned long long)g_now, i,
				     (unsigned long long)w->tick);
			if (t->expires < min_exp)
				min_exp = t->expires;
			if (++n > w->count)
				FAIL("more timers linked than counted");
			pp = &t->next;
		}
	}
	if (n != w->count)
		FAIL("%zu timers linked, %zu counted", n, w->count);
	next = stack_next_timer(g_s);
	if (!n) {
		if (next != -1)
			FAIL("stack_next_timer %lld with no timer armed",
			     (long long)next);
		return;
	}
	if (next < 0)
		FAIL("stack_next_timer -1 with %zu timers armed", n);
	if (!g_lax_timers && min_exp + TIMER_TICK_MS <= g_now && next != 0)
		FAIL("stack_next_timer says %lld ms, a timer was due %llu ms "
		     "ago",
		     (long long)next, (unsigned long long)(g_now - min_exp));
	if (!g_lax_timers && min_exp >= g_now &&
	    (uint64_t)next > min_exp - g_now + TIMER_TICK_MS)
		FAIL("stack_next_timer says %lld ms, a timer expires in %llu",
		     (long long)next, (unsigned long long)(min_exp - g_now));
}

HARNESS_ONLY
static void check_state(void)
{
	if (g_s->reasm_count > g_s->p.reasm_max_datagrams)
		FAIL("reasm_count %u > %u", g_s->reasm_count,
		     g_s->p.reasm_max_datagrams);
	if (g_s->reasm_bytes > g_s->p.reasm_max_bytes)
		FAIL("reasm_bytes %zu > %u", g_s->reasm_bytes,
		     g_s->p.reasm_max_bytes);
	/* Per datagram: its buffer, its range array and a little
	 * bookkeeping. */
	if (g_s->reasm_bytes >
	    (size_t)g_s->reasm_count *
		(IP4_MAX_LEN + 1024 + (size_t)g_s->p.reasm_max_frags * 8))
		FAIL("reasm_bytes %zu for %u datagrams", g_s->reasm_bytes,
		     g_s->reasm_count);
	if (g_s->arp.used > g_s->p.arp_cache_size)
		FAIL("arp_used %u > %u", g_s->arp.used, g_s->p.arp_cache_size);
}

static void advance(uint8_t ctl)
{
	static const unsigned unit[4] = {1, 16, 256, 1024};

	g_now += (uint64_t)(ctl & 0x3f) * unit[ctl >> 6];
	check_timers(false); /* stack_next_timer() must say "now" if due */
	stack_run_timers(g_s);
	check_timers(true);
}

static void send_from_7(uint32_t ip, const uint8_t *mac, size_t len)
{
	struct udp_dst dst = {.addr = inany_from_v4(ip), .port = 9, .mac = mac};

	memset(g_big, 0xa5, len);
	udp_output(g_s, 7, &dst, g_big, len);
}

static void command(uint8_t ctl)
{
	struct stack_params p = g_s->p;

	switch (ctl & 0x0f) {
	case 0:
		stack_announce(g_s);
		break;
	case 1:
		p.gateway = GATEWAY;
		stack_update(g_s, &p);
		break;
	case 2:
		p.gateway = 0;
		stack_update(g_s, &p);
		break;
	case 3:
		p.addr = p.addr == ADDR_A ? ADDR_B : ADDR_A;
		stack_update(g_s, &p);
		break;
	case 4:
		udp_unbind(g_s, &b_echo);
		break;
	case 5:
		udp_bind(g_s, &b_echo); /* -EADDRINUSE when still bound */
		break;
	case 6:
		send_from_7(PEER, NULL, 32);
		break;
	case 7:
		send_from_7(OFF_LINK, NULL, 32);
		break;
	case 8:
		send_from_7(IP4_BROADCAST, NULL, 32);
		break;
	case 9:
		send_from_7(PEER, NULL, sizeof(g_big)); /* fragmented */
		break;
	case 10:
		send_from_7(PEER, peer_mac, 3000);
		break;
	case 11:
		send_from_7(0x0a0000ffu, NULL, 16); /* directed broadcast */
		break;
	case 12:
		send_from_7(0xe0000001u, NULL, 16); /* all-hosts */
		break;
	default:
		break;
	}
}

static void input(const uint8_t *frame, size_t len)
{
	/* A private copy, so reading past the frame is caught by ASan even
	 * when libFuzzer's buffer is longer. */
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	if (len)
		memcpy(copy, frame, len);
	stack_input(g_s, copy, len, 0);
	free(copy);
	check_state();
	check_timers(false);
}

/* Advance the clock in steps longer than any timer's delay until nothing
 * is armed; then all state must be gone. */
static void drain(void)
{
	for (int i = 0; i < 32 && g_s->timers.count; i++) {
		g_now += 65536;
		stack_run_timers(g_s);
		check_timers(true);
	}
	if (g_s->timers.count)
		FAIL("%zu timers still armed after the drain",
		     g_s->timers.count);
	if (g_s->reasm_count || g_s->reasm_bytes)
		FAIL("%u reassemblies (%zu bytes) left after every timeout",
		     g_s->reasm_count, g_s->reasm_bytes);
	if (g_s->arp.used)
		FAIL("%u ARP entries left after every timeout", g_s->arp.used);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *lax = getenv("TAPIR_FUZZ_LAX_TIMERS");

	(void)argc;
	(void)argv;
	g_lax_timers = lax && *lax && *lax != '0';
	stack_params_default(&g_params);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;

	g_now = BASE_MS + ((mode >> 3) & 15);
	g_fail_mode = (mode >> 1) & 3;
	g_xmit_n = 0;
	g_s = stack_new(&g_params, &fuzz_secrets, fuzz_xmit, NULL, fake_clock,
			NULL);
	if (!g_s)
		abort();
	b_echo.next = b_direct.next = b_discard.next = NULL;
	if (udp_bind(g_s, &b_echo) || udp_bind(g_s, &b_direct) ||
	    udp_bind(g_s, &b_discard) ||
	    tcp_listen(g_s, &l_echo, 7, &tcp_fz_cb, NULL))
		abort();

	if (!(mode & 1)) {
		input(data, size);
	} else {
		while (size >= 3) {
			uint8_t ctl = data[0];
			size_t len = (size_t)data[1] << 8 | data[2];

			data += 3;
			size -= 3;
			if (len > size)
				len = size;
			advance(ctl);
			if (len == 0) {
				command(ctl);
				check_state();
				check_timers(false);
				continue;
			}
			input(data, len);
			data += len;
			size -= len;
		}
	}
	if (!(mode & 0x80))
		drain();
	tcp_unlisten(g_s, &l_echo);
	stack_free(g_s); /* leaks are LeakSanitizer's to find */
	g_s = NULL;
	return 0;
}
