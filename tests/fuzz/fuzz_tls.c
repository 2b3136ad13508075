/*
 * libFuzzer harness: the TLS layer (src/daemon/tls.c) on the stack, fed a
 * client's byte stream as its first flights.
 *
 * We are 10.0.0.2 with a TLS listener (a self-signed certificate, made
 * once) on port 853; the peer 10.0.0.1:40000 completes the TCP handshake,
 * then the input drives it.  The module behind the listener echoes what
 * it takes back through tls_send().
 *
 * Input format:
 *
 *   byte 0 (mode)
 *     bits 0-1  what recv() takes: 0 everything, 1 half, 2 one byte,
 *               3 nothing (until a resume record)
 *     bit 2     the peer's window is small (512 bytes), else 65535
 *     bit 3     small stack buffers (4 KiB), so the BIO meets a full
 *               send buffer
 *   then records until the input ends:
 *     0x00..0xef  n = that + 1 bytes of the stream, sent as one segment
 *                 (fewer when the input ends first)
 *     0xf0        the clock advances a second, timers run
 *     0xf1        the module resumes receiving (tls_recv_resume)
 *     0xf2        the module closes its connection (tls_close)
 *     0xf3        the module shuts down its side (tls_shutdown)
 *     0xf4        the peer sends FIN
 *     0xf5        the module aborts (tls_abort)
 *     0xf6..0xff  the peer acknowledges everything we sent
 *
 * Checked: nothing crashes or leaks (ASan, LeakSanitizer), every
 * callback names the connection the module holds and none comes after it
 * let go, and after the clock runs out every timer is gone and no
 * connection is left.
 */
#include "daemon/tls.h"
#include "fixed_secrets.h"
#include "net/core.h"
#include "net/csum.h"
#include "net/stack.h"
#include "net/tcp/tcp.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/ip4.h"
#include "wire/tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE_MS 1000000u
#define OUR_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define PEER_ISN 0x10000000u
#define LPORT 853
#define PEER_PORT 40000

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "fuzz_tls: invariant violated: " __VA_ARGS__); \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static struct stack *g_s;
static uint64_t g_now;
static struct tcp_listener g_l;
static struct tls_listener *g_tl;
static config_t g_cfg;
static uint8_t g_buf[70000];
static unsigned g_take;
static uint16_t g_win;
/* The peer's view. */
static uint32_t g_seq;     /* next it sends */
static uint32_t g_our_max; /* highest sequence we sent, plus one */
static bool g_synack;
/* The module's connection. */
static struct tapir_tcp *g_c;
static bool g_held; /* between accepted() and closed() or our close */

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return g_now;
}

static int fuzz_xmit(void *ctx, const uint8_t *frame, size_t len,
		     const struct stack_tx_offload *off)
{
	const uint8_t *ip = frame + ETH_HLEN, *tcp;
	size_t ihl, tl, doff;
	uint32_t seq;

	(void)ctx;
	(void)off;
	if (len < ETH_HLEN + IP4_HLEN || be16(frame + 12) != ETH_TYPE_IP4)
		return 0;
	ihl = (size_t)(ip[0] & 15) * 4;
	if (ip[9] != IP4_PROTO_TCP || len < ETH_HLEN + ihl + TCP_HLEN)
		return 0;
	tcp = ip + ihl;
	tl = len - ETH_HLEN - ihl;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > tl)
		FAIL("TCP data offset %zu in a %zu-byte segment", doff, tl);
	seq = be32(tcp + 4);
	if (tcp[13] & TCP_FLAG_SYN) {
		g_synack = true;
		g_our_max = seq + 1;
	} else if ((int32_t)(seq + (uint32_t)(tl - doff) +
			     !!(tcp[13] & TCP_FLAG_FIN) - g_our_max) > 0) {
		g_our_max = seq + (uint32_t)(tl - doff) +
			    !!(tcp[13] & TCP_FLAG_FIN);
	}
	return 0;
}

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
	input_frame(ETH_HLEN + ARP_LEN);
}

static void send_segment(uint8_t flags, const uint8_t *payload, size_t plen)
{
	uint8_t *ip = g_buf + ETH_HLEN, *tcp = ip + IP4_HLEN;
	struct eth_hdr eh = {.type = ETH_TYPE_IP4};
	struct tcp_hdr th = {
		.sport = PEER_PORT,
		.dport = LPORT,
		.seq = g_seq,
		.ack = (flags & TCP_FLAG_ACK) ? g_our_max : 0,
		.doff = TCP_HLEN,
		.flags = flags,
		.win = g_win,
	};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_TCP,
		.src = PEER_IP,
		.dst = OUR_IP,
		.frag = IP4_FLAG_DF,
	};
	size_t tlen = TCP_HLEN + plen;

	memcpy(eh.dst, g_s->p.mac, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	eth_hdr_write(g_buf, &eh);
	ih.total_len = (uint16_t)(IP4_HLEN + tlen);
	ip4_hdr_write(ip, &ih);
	tcp_hdr_write(tcp, &th);
	if (plen)
		memcpy(tcp + TCP_HLEN, payload, plen);
	put_be16(tcp + 16,
		 csum_fold(csum_partial(tcp, tlen,
					csum_pseudo4(PEER_IP, OUR_IP,
						     IP4_PROTO_TCP,
						     (uint16_t)tlen))));
	input_frame(ETH_HLEN + IP4_HLEN + tlen);
	g_seq += (uint32_t)plen + !!(flags & (TCP_FLAG_SYN | TCP_FLAG_FIN));
}

/* ---- The module ------------------------------------------------------- */

static void check_conn(struct tapir_tcp *c, const char *what)
{
	if (!g_held || c != g_c)
		FAIL("%s for a connection the module does not hold", what);
}

static void *m_accepted(void *arg, struct tapir_tcp *c)
{
	struct tapir_tls_info info;

	(void)arg;
	if (g_held)
		FAIL("a second connection accepted");
	if (tls_info((const struct tcp_conn *)c, &info) != 0)
		FAIL("tls_info fails in accepted()");
	if (strlen(info.version) >= sizeof(info.version) ||
	    strlen(info.sni) >= sizeof(info.sni))
		FAIL("tls_info strings not terminated");
	g_c = c;
	g_held = true;
	return &g_c;
}

static size_t m_recv(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		     size_t len)
{
	size_t n;

	(void)ctx;
	check_conn(c, "recv()");
	if (!len)
		FAIL("recv() with no data");
	switch (g_take) {
	case 0:
		n = len;
		break;
	case 1:
		n = len / 2;
		break;
	case 2:
		n = 1;
		break;
	default:
		n = 0;
		break;
	}
	if (n)
		tls_send((struct tcp_conn *)c, data, n);
	return n;
}

static void m_writable(void *ctx, struct tapir_tcp *c)
{
	(void)ctx;
	check_conn(c, "writable()");
}

static void m_peer_closed(void *ctx, struct tapir_tcp *c)
{
	(void)ctx;
	check_conn(c, "peer_closed()");
}

static void m_closed(void *ctx, struct tapir_tcp *c, int err)
{
	(void)ctx;
	(void)err;
	check_conn(c, "closed()");
	g_held = false;
	g_c = NULL;
}

static const struct tapir_tcp_handlers g_mh = {
	.accepted = m_accepted,
	.recv = m_recv,
	.writable = m_writable,
	.peer_closed = m_peer_closed,
	.closed = m_closed,
};

static void let_go(void (*fn)(struct tcp_conn *))
{
	struct tcp_conn *c = (struct tcp_conn *)g_c;

	if (!g_held)
		return;
	g_held = false;
	g_c = NULL;
	fn(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_init(&g_cfg);
	if (config_read_string(&g_cfg, "tls = { self_signed = true; "
				       "handshake_timeout = 5; "
				       "max_handshakes = 4; };") != CONFIG_TRUE)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stack_params p;
	struct tls_counters ctr = {0};
	char err[300];
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = *data++;
	size--;
	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	if (mode & 8) {
		p.tcp.sndbuf = 4096;
		p.tcp.rcvbuf = 4096;
	}
	g_take = mode & 3;
	g_win = (mode & 4) ? 512 : 65535;
	g_now = BASE_MS;
	g_seq = PEER_ISN;
	g_our_max = 0;
	g_synack = false;
	g_c = NULL;
	g_held = false;
	g_s = stack_new(&p, &fuzz_secrets, fuzz_xmit, NULL, fake_clock, NULL);
	if (!g_s)
		abort();
	g_tl = tls_listener_new(g_s, config_lookup(&g_cfg, "tls"), "dot",
				&g_mh, NULL, &ctr, "fuzz", err, sizeof(err));
	if (!g_tl)
		FAIL("listener: %s", err);
	if (tcp_listen(g_s, &g_l, LPORT, &tls_tcp_callbacks, g_tl))
		abort();
	teach_arp();
	send_segment(TCP_FLAG_SYN, NULL, 0);
	if (!g_synack)
		FAIL("no SYN-ACK");
	send_segment(TCP_FLAG_ACK, NULL, 0);

	while (size) {
		uint8_t op = *data++;

		size--;
		if (op < 0xf0) {
			size_t n = (size_t)op + 1;

			if (n > size)
				n = size;
			send_segment(TCP_FLAG_ACK | TCP_FLAG_PSH, data, n);
			data += n;
			size -= n;
			continue;
		}
		switch (op) {
		case 0xf0:
			g_now += 1000;
			stack_run_timers(g_s);
			break;
		case 0xf1:
			if (g_held)
				tls_recv_resume((struct tcp_conn *)g_c);
			break;
		case 0xf2:
			let_go(tls_close);
			break;
		case 0xf3:
			if (g_held)
				tls_shutdown((struct tcp_conn *)g_c);
			break;
		case 0xf4:
			send_segment(TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
			break;
		case 0xf5:
			let_go(tls_abort);
			break;
		default:
			send_segment(TCP_FLAG_ACK, NULL, 0);
			break;
		}
	}
	/* Run the clock out: the handshake deadline, retransmissions and
	 * TIME_WAIT end everything the module does not hold. */
	let_go(tls_close);
	for (int i = 0; i < 320 && g_s->timers.count; i++) {
		g_now += 65536;
		stack_run_timers(g_s);
	}
	tcp_unlisten(g_s, &g_l);
	if (g_held)
		FAIL("the module still holds a connection after unlisten");
	if (g_s->tcp.count)
		FAIL("%u connections left after unlisten", g_s->tcp.count);
	tls_listener_free(g_tl);
	stack_free(g_s);
	g_s = NULL;
	return 0;
}
