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
 *     would, address conflict detection on/off, static neighbours
 *     on/off).  A len past the end of the input takes what is left.
 *
 * Unless mode bit 7 is set, a run ends by advancing the clock until no
 * timer is armed; after that no ARP entry and no reassembly may remain.
 *
 * Port 7 echoes through udp_output() (routed, ARP resolved), port 67 answers
 * straight to the sender's MAC like a DHCP server, port 9 discards.
 *
 * Every frame the stack emits is checked by stack_check.c (abort() on
 * failure): Ethernet, ARP, IPv4 and, once stack_announce() has formed the
 * link-local address (default parameters: IPv6 on, DAD on), IPv6 with
 * ICMPv6 and Neighbor Discovery; stack_check.h lists the invariants.  The
 * timer wheel, the reassembly limits and the ARP and ND caches are checked
 * after every step.  TAPIR_FUZZ_LAX_TIMERS=1 in the environment skips the
 * two timing checks, to keep fuzzing for other bugs while a timing bug is
 * open.
 */
#include "net/core.h"
#include "fixed_secrets.h"
#include "stack_check.h"
#include "wire/ip4.h"

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
	/* These stacks are made without offloads: sc_frame() refuses any. */
	sc_frame(frame, len, off);

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

static void advance(uint8_t ctl)
{
	static const unsigned unit[4] = {1, 16, 256, 1024};

	g_now += (uint64_t)(ctl & 0x3f) * unit[ctl >> 6];
	sc_timers(g_now, false); /* stack_next_timer() must say "now" if due */
	stack_run_timers(g_s);
	sc_timers(g_now, true);
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
	case 13:
		/* RFC 5227 conflict detection on or off: on, a following
		 * address change (3) is probed for, and frames from the
		 * input may conflict with the probes. */
		p.acd = !p.acd;
		stack_update(g_s, &p);
		break;
	case 14:
		/* Static neighbours on or off: the peer (also the gateway)
		 * and the router's link-local address, at peer_mac; frames
		 * from the input must not move them. */
		if (p.nstatic_neigh) {
			p.nstatic_neigh = 0;
		} else {
			static const uint8_t ll[16] = {0xfe, 0x80, [15] = 1};

			p.nstatic_neigh = 2;
			p.static_neigh[0].addr = inany_from_v4(PEER);
			p.static_neigh[1].addr = inany_from_v6(ll);
			memcpy(p.static_neigh[0].mac, peer_mac, ETH_ALEN);
			memcpy(p.static_neigh[1].mac, peer_mac, ETH_ALEN);
		}
		stack_update(g_s, &p);
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
	sc_state();
	sc_timers(g_now, false);
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sc_init("fuzz_eth");
	stack_params_default(&g_params);
	g_params.acd = false; /* the address usable at once */
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
	sc_start(g_s);
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
				sc_state();
				sc_timers(g_now, false);
				sc_note();
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
