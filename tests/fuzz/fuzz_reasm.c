/*
 * libFuzzer harness: reassembly, IPv4 and IPv6.
 *
 * The input is a configuration byte followed by 10-byte fragment
 * descriptors.  The harness builds an IPv4 fragment as a well-formed
 * Ethernet + IPv4 frame (correct header checksum, total length, options) to
 * 10.0.0.2, so every fragment gets past ip4_input and the fuzzer spends its
 * time in net/frag.c, with the reassembled datagrams delivered to ICMP and
 * UDP and their replies fragmented on output.  An IPv6 fragment goes
 * straight to reasm_input(), as ip6.c would hand it over, and what it
 * completes is checked and released.
 *
 *   config bits 0-2  reasm_max_datagrams 0..7, and reasm_max_per_source
 *                    1 + (that / 2): 1..4
 *          bits 3-4  reasm_max_bytes 2048, 8192, 70000, 4 MiB
 *          bits 5-6  reasm_max_frags 1, 2, 16, 128
 *          bit  7    reasm_timeout_ms 30000 or 1000 (IPv6's 60000 or
 *                    1000)
 *
 *   descriptor (10 bytes):
 *     d0  bits 0-1 IP id (4 values), bit 2 source 10.0.0.1 / 10.0.0.7
 *         (the first is in the ARP cache, the second must be resolved),
 *         bit 3 protocol UDP / ICMP, bits 4-5 options 0/4/8/40 bytes,
 *         bit 6 MF, bit 7 DF
 *     d1-d2  bits 0-12 fragment offset (8-byte units), bit 13 no transport
 *            header in an offset-0 fragment, bit 14 garbage payload,
 *            bit 15 Ethernet padding after the datagram
 *     d3-d4  payload length (cut to what fits in 65535)
 *     d5     clock advance before the fragment (as fuzz_eth: bits 6-7 unit
 *            1/16/256/1024 ms, bits 0-5 count), then timers run
 *     d6-d7  the UDP length field written in an offset-0 UDP fragment
 *     d8     bit 0 UDP destination port 7 (echo) or 9999 (closed),
 *            bit 1 IP destination the subnet broadcast instead of us,
 *            bit 2 IPv6 instead: from 2001:db8::1 / ::7 (d0 bit 2) to
 *            2001:db8::2, the options' length as extension headers in the
 *            unfragmentable part (0/8/16/40 bytes), the id and the
 *            protocol (the key's, which IPv6 ignores) as for IPv4; no
 *            transport header is written, DF, d6-d7, bit 0 and bit 1
 *            mean nothing
 *     d9     the garbage byte
 *
 *   A trailing partial descriptor (1-9 bytes) means: free the stack with
 *   the reassemblies still in progress instead of running out the clock.
 *
 * Payload byte k of every datagram from a source is a fixed function of
 * (source, k); port 7 checks that what reassembly delivers matches it
 * (unless that source ever sent garbage), then echoes it, and so does the
 * harness for a completed IPv6 datagram, whose header must carry the
 * Payload Length.  After every fragment: reasm_count <=
 * reasm_max_datagrams, no source over reasm_max_per_source, reasm_bytes
 * <= reasm_max_bytes, the timer wheel is consistent; frames the stack
 * emits are checked as in fuzz_eth (an IPv6 datagram's timeout sends
 * nothing yet).  At the end the clock runs past every timeout
 * and nothing may remain (unless a partial descriptor says otherwise).
 * After stack_run_timers() no timer may be more than a tick overdue;
 * TAPIR_FUZZ_LAX_TIMERS=1 skips that check.
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

#define BASE_MS 5000000u
#define OUR_ADDR 0x0a000002u
#define SUBNET_BCAST 0x0a0000ffu
#define DESC_LEN 10
#define NSRC 2

static const uint32_t src_ip[NSRC] = {0x0a000001u, 0x0a000007u};
static const uint8_t src_mac[NSRC][ETH_ALEN] = {
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x07},
};
static const uint16_t ids[4] = {0x1234, 0x1235, 0xbeef, 0x0000};
static const uint8_t src6[NSRC][16] = {
    {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
    {0x20, 0x01, 0x0d, 0xb8, [15] = 7},
};
static const uint8_t our6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
#define IP6_HLEN 40

static struct stack *g_s;
static struct stack_params g_params;
static uint64_t g_now;
static bool g_lax_timers;
static bool g_tainted[NSRC];
static bool g_tainted6[NSRC];
static uint8_t g_frame[ETH_HLEN + IP4_MAX_LEN + 8];

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
		fprintf(stderr,                                                \
			"fuzz_reasm: invariant violated: " __VA_ARGS__);       \
		fputc('\n', stderr);                                           \
		abort();                                                       \
	} while (0)

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return g_now;
}

/* Byte k of every datagram from source src is g_pattern[src][k]. */
#define PATTERN_LEN (8192 * 8 + IP4_MAX_LEN + 8)
static uint8_t g_pattern[NSRC][PATTERN_LEN];

static void make_pattern(void)
{
	for (unsigned src = 0; src < NSRC; src++)
		for (size_t k = 0; k < PATTERN_LEN; k++)
			g_pattern[src][k] =
			    (uint8_t)(k + (k >> 8) * 31 + src * 101);
}

/* Frames out: the same checks as fuzz_eth, for one fixed address. */
HARNESS_ONLY
static void check_ip4_out(const uint8_t *p, size_t len)
{
	uint16_t frag;
	size_t plen;

	if (len < IP4_HLEN || p[0] != 0x45 || csum(p, IP4_HLEN) != 0)
		FAIL("malformed IPv4 header emitted");
	if (be16(p + 2) != len)
		FAIL("IPv4 total length %u in %zu bytes", be16(p + 2), len);
	if (be32(p + 12) != OUR_ADDR)
		FAIL("IPv4 source %08x emitted", be32(p + 12));
	frag = be16(p + 6);
	plen = len - IP4_HLEN;
	if (frag & IP4_FLAG_MF && (plen == 0 || plen % 8))
		FAIL("non-last fragment of %zu bytes", plen);
	if ((size_t)(frag & IP4_OFF_MASK) * 8 + plen > IP4_MAX_LEN - IP4_HLEN)
		FAIL("fragment ends past 65535");
	if (frag & (IP4_FLAG_MF | IP4_OFF_MASK))
		return;
	p += IP4_HLEN;
	if (p[-IP4_HLEN + 9] == IP4_PROTO_ICMP) {
		if (plen < ICMP4_HLEN || csum(p, plen) != 0)
			FAIL("bad ICMP message emitted");
		if (p[0] == ICMP4_DEST_UNREACH && plen > 576 - IP4_HLEN)
			FAIL("ICMP error over 576 bytes");
	} else if (p[-IP4_HLEN + 9] == IP4_PROTO_UDP) {
		if (plen < UDP_HLEN || be16(p + 4) != plen)
			FAIL("bad UDP length emitted");
		if (csum_fold(csum_partial(
			p, plen,
			csum_pseudo4(be32(p - 8), be32(p - 4), IP4_PROTO_UDP,
				     (uint16_t)plen))) != 0)
			FAIL("bad UDP checksum emitted");
	} else {
		FAIL("IP protocol %u emitted", p[-IP4_HLEN + 9]);
	}
}

HARNESS_ONLY
static int fuzz_xmit(void *ctx, const uint8_t *frame, size_t len,
		     const struct stack_tx_offload *off)
{
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
	switch (be16(frame + 12)) {
	case ETH_TYPE_ARP:
		if (len != ETH_HLEN + ARP_LEN)
			FAIL("ARP frame of %zu bytes", len);
		break;
	case ETH_TYPE_IP4:
		check_ip4_out(frame + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		FAIL("ethertype %04x emitted", be16(frame + 12));
	}
	return 0;
}

HARNESS_ONLY
static void check_payload(unsigned src, const uint8_t *data, size_t len)
{
	const uint8_t *want = g_pattern[src] + UDP_HLEN;

	if (memcmp(data, want, len) == 0)
		return;
	for (size_t j = 0; j < len; j++)
		if (data[j] != want[j])
			FAIL("reassembled byte %zu is %02x, sent %02x",
			     UDP_HLEN + j, data[j], want[j]);
}

static void echo_recv(void *arg, const struct udp_meta *m, const uint8_t *data,
		      size_t len)
{
	struct udp_dst dst = {.addr = m->src, .port = m->src_port};
	unsigned src = inany_v4(&m->src) == src_ip[1];

	(void)arg;
	if (inany_v4(&m->src) != src_ip[0] && inany_v4(&m->src) != src_ip[1])
		FAIL("datagram from %08x delivered", inany_v4(&m->src));
	if (!g_tainted[src])
		check_payload(src, data, len);
	udp_output(g_s, m->dst_port, &dst, data, len);
}

static struct udp_binding b_echo = {.port = 7, .fn = echo_recv};

HARNESS_ONLY
static void check_timers(bool after_run)
{
	struct timer_wheel *w = &g_s->timers;
	size_t n = 0;

	for (size_t i = 0; i < TIMER_SLOTS; i++) {
		struct timer **pp = &w->slot[i];
		bool used = (w->used[i / 64] >> (i % 64)) & 1;

		if (used != (*pp != NULL))
			FAIL("slot %zu bitmap disagrees with list", i);
		for (struct timer *t = *pp; t; t = t->next) {
			if (t->pprev != pp || t->slot != i)
				FAIL("timer links corrupt in slot %zu", i);
			/* The wheel works in ticks: a timer may fire up to a
			 * tick late, never more. */
			if (after_run && !g_lax_timers &&
			    t->expires + TIMER_TICK_MS <= g_now)
				FAIL("timer due at %llu still armed after "
				     "stack_run_timers() at %llu",
				     (unsigned long long)t->expires,
				     (unsigned long long)g_now);
			if (++n > w->count)
				FAIL("more timers linked than counted");
			pp = &t->next;
		}
	}
	if (n != w->count)
		FAIL("%zu timers linked, %zu counted", n, w->count);
}

HARNESS_ONLY
static void check_reasm(void)
{
	if (g_s->reasm_count > g_params.reasm_max_datagrams)
		FAIL("reasm_count %u > reasm_max_datagrams %u",
		     g_s->reasm_count, g_params.reasm_max_datagrams);
	if (g_s->reasm_bytes > g_params.reasm_max_bytes)
		FAIL("reasm_bytes %zu > reasm_max_bytes %u", g_s->reasm_bytes,
		     g_params.reasm_max_bytes);
	/* Per datagram: its buffer, its range array and a little
	 * bookkeeping. */
	if (g_s->reasm_bytes >
	    (size_t)g_s->reasm_count *
		(IP4_MAX_LEN + 1024 + (size_t)g_params.reasm_max_frags * 8))
		FAIL("reasm_bytes %zu for %u datagrams", g_s->reasm_bytes,
		     g_s->reasm_count);
	if ((g_s->reasm_count == 0) != (g_s->reasm_head == NULL))
		FAIL("reasm_count %u, list %s", g_s->reasm_count,
		     g_s->reasm_head ? "non-empty" : "empty");
	for (unsigned src = 0; src < NSRC; src++) {
		union inany a4 = inany_from_v4(src_ip[src]);
		union inany a6 = inany_from_v6(src6[src]);

		if (reasm_from(g_s, &a4) > g_params.reasm_max_per_source ||
		    reasm_from(g_s, &a6) > g_params.reasm_max_per_source)
			FAIL("source %u over reasm_max_per_source %u", src,
			     g_params.reasm_max_per_source);
	}
}

static void input(const uint8_t *frame, size_t len)
{
	uint8_t *copy = malloc(len);

	if (!copy)
		abort();
	memcpy(copy, frame, len);
	stack_input(g_s, copy, len, 0);
	free(copy);
	check_reasm();
	check_timers(false);
}

/* Teach the stack 10.0.0.1's MAC, as its ARP request for us would. */
static void learn_peer(void)
{
	uint8_t *f = g_frame;
	struct arp_hdr a = {
	    .htype = ARP_HTYPE_ETHER,
	    .ptype = ETH_TYPE_IP4,
	    .hlen = ETH_ALEN,
	    .plen = 4,
	    .op = ARP_OP_REQUEST,
	    .spa = src_ip[0],
	    .tpa = OUR_ADDR,
	};
	struct eth_hdr eh = {.type = ETH_TYPE_ARP};

	memcpy(eh.dst, eth_broadcast, ETH_ALEN);
	memcpy(eh.src, src_mac[0], ETH_ALEN);
	memcpy(a.sha, src_mac[0], ETH_ALEN);
	memset(a.tha, 0, ETH_ALEN);
	eth_hdr_write(f, &eh);
	arp_hdr_write(f + ETH_HLEN, &a);
	input(f, ETH_HLEN + ARP_LEN);
}

/* A completed IPv6 datagram: its bytes are the source's, its header (its
 * offset-0 fragment's, one the harness builds) says how long it is. */
HARNESS_ONLY
static void check_dgram6(unsigned src, const struct l3_rx *rx,
			 struct cur payload)
{
	size_t ext = rx->hdr_len - IP6_HLEN;

	if (rx->hdr_len < IP6_HLEN ||
	    (ext != 0 && ext != 8 && ext != 16 && ext != 40))
		FAIL("IPv6 datagram with a %zu-byte header", rx->hdr_len);
	if (rx->dgram_len != rx->hdr_len + payload.len)
		FAIL("IPv6 datagram of %zu + %zu bytes said to be %zu",
		     rx->hdr_len, payload.len, rx->dgram_len);
	if (ext + payload.len > 65535 || be16(rx->hdr + 4) != ext + payload.len)
		FAIL("IPv6 Payload Length %u for %zu + %zu bytes",
		     be16(rx->hdr + 4), ext, payload.len);
	if (memcmp(rx->src.a, src6[src], 16) != 0)
		FAIL("IPv6 datagram from the wrong source");
	if (!g_tainted6[src] &&
	    memcmp(payload.p, g_pattern[src], payload.len) != 0)
		FAIL("IPv6 datagram of %zu bytes is not what was sent",
		     payload.len);
}

/* An IPv6 fragment, handed to the reassembler as ip6.c would. */
static void fragment6(const uint8_t *d)
{
	static const size_t extlen[4] = {0, 8, 16, 40};
	static uint8_t hdr[IP6_HLEN + 40];
	unsigned src = (d[0] >> 2) & 1;
	uint8_t proto = d[0] & 8 ? L3_PROTO_ICMP6 : L3_PROTO_UDP;
	size_t ext = extlen[(d[0] >> 4) & 3], hlen = IP6_HLEN + ext;
	uint16_t w = be16(d + 1);
	size_t off = (size_t)(w & IP4_OFF_MASK) * 8, plen = be16(d + 3);
	bool garbage = w & 0x4000;
	struct l3_rx rx = {
	    .src = inany_from_v6(src6[src]),
	    .dst = inany_from_v6(our6),
	    .proto = proto,
	    .hdr = hdr,
	    .hdr_len = hlen,
	};
	struct reasm_frag f = {
	    .key = {.src = rx.src,
		    .dst = rx.dst,
		    .id = ids[d[0] & 3],
		    .proto = proto},
	    .off = (uint32_t)off,
	    .more = d[0] & 0x40,
	    .hdr = hdr,
	    .hdr_len = hlen,
	    .rx = &rx,
	};
	enum reasm_result res;
	struct reasm_dgram *dg;
	struct l3_rx out;
	struct cur payload;
	uint8_t *copy = malloc(plen ? plen : 1);

	if (!copy)
		abort();
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 0x60;
	put_be16(hdr + 4, (uint16_t)(ext + 8 + plen));
	hdr[6] = ext ? 60 : proto; /* Destination Options, or the data */
	hdr[7] = 64;
	memcpy(hdr + 8, src6[src], 16);
	memcpy(hdr + 24, our6, 16);
	if (ext) {
		hdr[IP6_HLEN] = proto;
		hdr[IP6_HLEN + 1] = (uint8_t)(ext / 8 - 1);
		hdr[IP6_HLEN + 2] = 1; /* PadN */
		hdr[IP6_HLEN + 3] = (uint8_t)(ext - 4);
	}
	if (garbage) {
		memset(copy, d[9], plen);
		g_tainted6[src] = true;
	} else {
		memcpy(copy, g_pattern[src] + off, plen);
	}
	f.data = cur_make(copy, plen);
	dg = reasm_input(g_s, &f, &out, &payload, &res);
	free(copy);
	if ((dg != NULL) != (res == REASM_DONE))
		FAIL("reasm_input returned %p with result %d", (void *)dg,
		     (int)res);
	if (res == REASM_UNALIGNED && (!f.more || plen % 8 == 0))
		FAIL("a fragment of %zu bytes, more %d, called unaligned", plen,
		     (int)f.more);
	if (dg) {
		check_dgram6(src, &out, payload);
		reasm_release(g_s, dg);
	}
	check_reasm();
	check_timers(false);
}

static void fragment(const uint8_t *d)
{
	static const size_t optlen[4] = {0, 4, 8, 40};
	unsigned src = (d[0] >> 2) & 1;
	uint8_t proto = d[0] & 8 ? IP4_PROTO_ICMP : IP4_PROTO_UDP;
	size_t ihl = IP4_HLEN + optlen[(d[0] >> 4) & 3];
	uint16_t w = be16(d + 1);
	size_t off8 = w & IP4_OFF_MASK;
	bool no_thdr = w & 0x2000, garbage = w & 0x4000, pad = w & 0x8000;
	size_t plen = be16(d + 3);
	uint32_t dst = d[8] & 2 ? SUBNET_BCAST : OUR_ADDR;
	struct eth_hdr eh = {.type = ETH_TYPE_IP4};
	uint8_t *ip = g_frame + ETH_HLEN, *pl;
	size_t flen;

	if (plen > IP4_MAX_LEN - ihl)
		plen = IP4_MAX_LEN - ihl;
	memcpy(eh.dst, dst == OUR_ADDR ? g_s->p.mac : eth_broadcast, ETH_ALEN);
	memcpy(eh.src, src_mac[src], ETH_ALEN);
	eth_hdr_write(g_frame, &eh);

	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(ihl + plen));
	put_be16(ip + 4, ids[d[0] & 3]);
	put_be16(ip + 6, (uint16_t)(off8 | (d[0] & 0x40 ? IP4_FLAG_MF : 0) |
				    (d[0] & 0x80 ? IP4_FLAG_DF : 0)));
	ip[8] = 64;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, src_ip[src]);
	put_be32(ip + 16, dst);
	/* Options: NOPs, then a well-formed record-route-like option of
	 * kind 7 when there is room, then EOL. */
	memset(ip + IP4_HLEN, IP4_OPT_NOP, ihl - IP4_HLEN);
	if (ihl - IP4_HLEN >= 8) {
		ip[IP4_HLEN + 1] = 7;
		ip[IP4_HLEN + 2] = 7;
		ip[IP4_HLEN + 3] = 4;
		memset(ip + IP4_HLEN + 4, 0, 4);
		ip[ihl - 1] = IP4_OPT_EOL;
	}
	put_be16(ip + 10, csum(ip, ihl));

	pl = ip + ihl;
	if (garbage) {
		memset(pl, d[9], plen);
		g_tainted[src] = true;
	} else {
		memcpy(pl, g_pattern[src] + off8 * 8, plen);
	}
	if (off8 == 0 && !no_thdr && plen >= 8) {
		if (proto == IP4_PROTO_UDP) {
			put_be16(pl, 40000);
			put_be16(pl + 2, d[8] & 1 ? 9999 : 7);
			put_be16(pl + 4, be16(d + 6));
			put_be16(pl + 6, 0); /* no checksum */
		} else {
			pl[0] = ICMP4_ECHO_REQUEST;
			pl[1] = 0;
			put_be16(pl + 2, 0); /* not verified when fuzzing */
			put_be16(pl + 4, 0x7a70);
			put_be16(pl + 6, ids[d[0] & 3]);
		}
	}
	flen = ETH_HLEN + ihl + plen;
	if (pad) {
		for (size_t k = 0; k < 8; k++)
			g_frame[flen + k] = (uint8_t)~g_pattern[src][k];
		flen += 8;
	}
	input(g_frame, flen);
}

static void advance(uint8_t ctl)
{
	static const unsigned unit[4] = {1, 16, 256, 1024};

	g_now += (uint64_t)(ctl & 0x3f) * unit[ctl >> 6];
	stack_run_timers(g_s);
	check_timers(true);
	check_reasm();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *lax = getenv("TAPIR_FUZZ_LAX_TIMERS");

	(void)argc;
	(void)argv;
	g_lax_timers = lax && *lax && *lax != '0';
	make_pattern();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned max_bytes[4] = {2048, 8192, 70000,
					      4 * 1024 * 1024};
	static const unsigned max_frags[4] = {1, 2, 16, 128};
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	data++;
	size--;

	stack_params_default(&g_params);
	g_params.acd = false; /* the address usable at once */
	g_params.reasm_max_datagrams = cfg & 7;
	g_params.reasm_max_per_source = 1 + (cfg & 7) / 2;
	g_params.reasm_max_bytes = max_bytes[(cfg >> 3) & 3];
	g_params.reasm_max_frags = max_frags[(cfg >> 5) & 3];
	g_params.reasm_timeout_ms = cfg & 0x80 ? 1000 : 30000;
	g_params.reasm_timeout6_ms = cfg & 0x80 ? 1000 : 60000;
	g_now = BASE_MS;
	memset(g_tainted, 0, sizeof(g_tainted));
	memset(g_tainted6, 0, sizeof(g_tainted6));
	g_s = stack_new(&g_params, &fuzz_secrets, fuzz_xmit, NULL, fake_clock,
			NULL);
	if (!g_s)
		abort();
	b_echo.next = NULL;
	if (udp_bind(g_s, &b_echo))
		abort();
	learn_peer();

	for (; size >= DESC_LEN; data += DESC_LEN, size -= DESC_LEN) {
		advance(data[5]);
		if (data[8] & 4)
			fragment6(data);
		else
			fragment(data);
	}

	if (size) {
		stack_free(g_s); /* with state: leaks are LeakSanitizer's */
		g_s = NULL;
		return 0;
	}
	/* Past every reassembly timeout (and the ARP ones): nothing left.
	 * Each step is longer than any timer's delay. */
	for (int i = 0; i < 32 && g_s->timers.count; i++) {
		g_now += 65536;
		stack_run_timers(g_s);
		check_timers(true);
	}
	if (g_s->reasm_count || g_s->reasm_bytes || g_s->reasm_head)
		FAIL("%u reassemblies (%zu bytes) left after every timeout",
		     g_s->reasm_count, g_s->reasm_bytes);
	if (g_s->timers.count)
		FAIL("%zu timers armed after the drain", g_s->timers.count);
	stack_free(g_s);
	g_s = NULL;
	return 0;
}
