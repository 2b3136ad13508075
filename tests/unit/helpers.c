/* Unit-test harness: fake link, fake clock, frame builders; see helpers.h. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

const uint8_t th_our_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const uint8_t th_peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t th_peer2_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
const uint8_t th_gw_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
const uint8_t th_other_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
const uint8_t th_zero_mac[ETH_ALEN];
const uint8_t th_bcast_mac[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- Fake clock ---------------------------------------------------------- */

uint64_t th_clock_ms;

static uint64_t th_clock(void *ctx)
{
	(void)ctx;
	return th_clock_ms;
}

void th_advance(struct stack *s, uint64_t ms)
{
	uint64_t end = th_clock_ms + ms;
	unsigned zeros = 0;

	for (;;) {
		int64_t n = stack_next_timer(s);

		if (n < 0 || th_clock_ms + (uint64_t)n > end)
			break;
		if (n == 0) {
			/* Something is due now: run it.  Twice in a row
			 * would mean the wheel cannot make progress. */
			ck_assert_msg(++zeros < 2,
				      "timer wheel reports 0 ms twice at %llu",
				      (unsigned long long)th_clock_ms);
		} else {
			zeros = 0;
		}
		th_clock_ms += (uint64_t)n;
		stack_run_timers(s);
	}
	th_clock_ms = end;
	stack_run_timers(s);
}

/* ---- Fake link ----------------------------------------------------------- */

static struct th_frame frames[TH_MAX_FRAMES];
static size_t nframes, nlost;
static int link_err;
static struct stack *link_stack;
static bool ignore_mld;

void th_link_ignore_mld(bool on)
{
	ignore_mld = on;
}

static int th_xmit(void *ctx, const uint8_t *frame, size_t len,
		   const struct stack_tx_offload *off)
{
	uint8_t *copy;

	(void)ctx;
	if (link_err)
		return link_err;
	if (ignore_mld && len >= ETH_ALEN &&
	    memcmp(frame, (const uint8_t[]){0x33, 0x33, 0, 0, 0, 0x16},
		   ETH_ALEN) == 0)
		return 0; /* an MLD report, which this test does not see */
	if (nframes == TH_MAX_FRAMES) {
		nlost++;
		return 0;
	}
	copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, frame, len);
	memset(&frames[nframes].off, 0, sizeof(frames[nframes].off));
	/* Do what a link that takes offloads does: finish the checksum
	 * (and record the segmentation asked for). */
	if (off && off->csum) {
		size_t at = (size_t)off->csum_start + off->csum_offset;

		/* Only a stack made with offloads asks for them. */
		ck_assert_ptr_nonnull(link_stack);
		ck_assert(link_stack->p.offload);
		ck_assert_uint_le(at + 2, len);
		put_be16(copy + at, csum_fold(csum_partial(
					    copy + off->csum_start,
					    len - off->csum_start, 0)));
		frames[nframes].off = *off;
	} else if (off) {
		/* Nothing asked: all zero. */
		ck_assert_uint_eq(off->gso_size | off->hdr_len |
					  off->csum_start | off->csum_offset,
				  0);
	}
	frames[nframes].data = copy;
	frames[nframes].len = len;
	nframes++;
	return 0;
}

size_t th_frame_count(void)
{
	return nframes;
}

const struct th_frame *th_frame(size_t i)
{
	ck_assert_msg(i < nframes, "frame %zu asked, %zu sent", i, nframes);
	return &frames[i];
}

size_t th_frames_lost(void)
{
	return nlost;
}

void th_frames_clear(void)
{
	for (size_t i = 0; i < nframes; i++) {
		free(frames[i].data);
		frames[i].data = NULL;
		frames[i].len = 0;
	}
	nframes = 0;
	nlost = 0;
}

void th_link_fail(int err)
{
	link_err = err;
}

/* ---- Stack lifetime and leak checks -------------------------------------- */

/* Six different fixed keys, so a test sees the same values every run. */
const struct stack_secrets th_secrets = {
	.isn_key = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
		    0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x10},
	.cookie_key = {0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
		       0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x20},
	.flow_key = {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
		     0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x30},
	.ip_id_key = {0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
		      0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x40},
	.frag6_key = {0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
		      0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x50},
	.iid_key = {0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
		    0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x60},
};

struct stack *th_stack_new(const struct stack_params *p)
{
	return th_stack_new_keyed(p, &th_secrets);
}

struct stack *th_stack_new_keyed(const struct stack_params *p,
				 const struct stack_secrets *k)
{
	struct stack_params def;
	struct stack *s;

	th_frames_clear();
	th_link_fail(0);
	th_clock_ms = 0;
	if (!p) {
		stack_params_default(&def);
		def.acd = false; /* the address usable at once */
		p = &def;
	}
	s = stack_new(p, k, th_xmit, NULL, th_clock, NULL);
	ck_assert_ptr_nonnull(s);
	link_stack = s;
	return s;
}

void th_check_leaks(struct stack *s, unsigned arp_entries)
{
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_ptr_null(s->reasm_head);
	ck_assert_uint_eq(s->reasm_bytes, 0);
	ck_assert_uint_eq(s->arp.used, arp_entries);
	/* Every live ARP entry keeps exactly one timer (expiry or retry),
	 * but a static one, which has none. */
	ck_assert_uint_eq(s->timers.count, arp_entries - s->arp.permanent);
	ck_assert_uint_eq(th_frames_lost(), 0);
}

void th_stack_free(struct stack *s)
{
	if (s == link_stack)
		link_stack = NULL;
	reasm_fini(s);
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_uint_eq(s->reasm_bytes, 0);
	ck_assert_ptr_null(s->reasm_head);
	arp_fini(s);
	ck_assert_uint_eq(s->arp.used, 0);
	nd6_fini(s);
	ck_assert_uint_eq(s->nd.used, 0);
	udp_fini(s);
	for (size_t i = 0; i < sizeof(s->udp_bucket) / sizeof(s->udp_bucket[0]);
	     i++)
		ck_assert_ptr_null(s->udp_bucket[i]);
	ck_assert_uint_eq(s->timers.count, 0);
	ck_assert_int_eq(timer_wheel_next(&s->timers, th_clock_ms), -1);
	stack_free(s);
	th_frames_clear();
	th_link_fail(0);
	th_link_ignore_mld(false);
}

void th_learn(struct stack *s, const uint8_t *mac, uint32_t ip)
{
	uint8_t f[64];
	uint8_t got[ETH_ALEN];

	stack_input(s, f, th_arp_request(f, mac, ip, s->p.addr), 0);
	ck_assert_int_eq(arp_lookup(s, ip, got), 0);
	ck_assert_mem_eq(got, mac, ETH_ALEN);
	th_frames_clear();
}

/* ---- Frame builders ------------------------------------------------------ */

size_t th_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
	      uint16_t type)
{
	struct eth_hdr eh = {.type = type};

	memcpy(eh.dst, dst, ETH_ALEN);
	memcpy(eh.src, src, ETH_ALEN);
	eth_hdr_write(f, &eh);
	return ETH_HLEN;
}

size_t th_arp_frame(uint8_t *f, const uint8_t *eth_dst,
		    const struct arp_hdr *a)
{
	th_eth(f, eth_dst, a->sha, ETH_TYPE_ARP);
	arp_hdr_write(f + ETH_HLEN, a);
	return ETH_HLEN + ARP_LEN;
}

size_t th_arp_request(uint8_t *f, const uint8_t *sha, uint32_t spa,
		      uint32_t tpa)
{
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = ARP_OP_REQUEST,
		.spa = spa,
		.tpa = tpa,
	};

	memcpy(a.sha, sha, ETH_ALEN);
	return th_arp_frame(f, th_bcast_mac, &a);
}

size_t th_arp_reply(uint8_t *f, const uint8_t *sha, uint32_t spa)
{
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = ARP_OP_REPLY,
		.spa = spa,
		.tpa = TH_OUR_IP,
	};

	memcpy(a.sha, sha, ETH_ALEN);
	memcpy(a.tha, th_our_mac, ETH_ALEN);
	return th_arp_frame(f, th_our_mac, &a);
}

size_t th_ip4_frame_opts(uint8_t *f, const uint8_t *eth_dst,
			 const uint8_t *eth_src, const struct ip4_hdr *ih,
			 const uint8_t *opts, size_t optlen,
			 const void *payload, size_t len)
{
	struct ip4_hdr h = *ih;
	uint8_t *ip = f + ETH_HLEN;
	size_t hlen = IP4_HLEN + optlen;

	ck_assert(optlen % 4 == 0 && hlen <= IP4_MAX_HLEN);
	ck_assert(ETH_HLEN + hlen + len <= TH_FRAME_MAX);
	th_eth(f, eth_dst, eth_src, ETH_TYPE_IP4);
	if (!h.total_len)
		h.total_len = (uint16_t)(hlen + len);
	ip4_hdr_write(ip, &h);
	if (optlen) {
		ip[0] = (uint8_t)(0x40 | hlen / 4);
		memcpy(ip + IP4_HLEN, opts, optlen);
		th_ip4_fix_csum(f);
	}
	if (len)
		memcpy(ip + hlen, payload, len);
	return ETH_HLEN + hlen + len;
}

size_t th_ip4_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src,
		    const struct ip4_hdr *ih, const void *payload, size_t len)
{
	return th_ip4_frame_opts(f, eth_dst, eth_src, ih, NULL, 0, payload,
				 len);
}

void th_ip4_fix_csum(uint8_t *f)
{
	uint8_t *ip = f + ETH_HLEN;
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum(ip, hlen));
}

size_t th_icmp_write(uint8_t *p, const struct icmp4_hdr *h, const void *data,
		     size_t len)
{
	struct icmp4_hdr z = *h;

	z.csum = 0;
	icmp4_hdr_write(p, &z);
	if (len)
		memcpy(p + ICMP4_HLEN, data, len);
	put_be16(p + 2, csum(p, ICMP4_HLEN + len));
	return ICMP4_HLEN + len;
}

size_t th_udp_write(uint8_t *p, uint32_t src, uint32_t dst,
		    const struct udp_hdr *h, const void *data, size_t len,
		    bool csum_zero)
{
	struct udp_hdr u = *h;
	uint16_t sum;

	if (!u.len)
		u.len = (uint16_t)(UDP_HLEN + len);
	u.csum = 0;
	udp_hdr_write(p, &u);
	if (len)
		memcpy(p + UDP_HLEN, data, len);
	if (csum_zero)
		return UDP_HLEN + len;
	sum = csum_fold(csum_partial(p, UDP_HLEN + len,
				     csum_pseudo4(src, dst, IP4_PROTO_UDP,
						  (uint16_t)(UDP_HLEN + len))));
	put_be16(p + 6, sum ? sum : 0xffff);
	return UDP_HLEN + len;
}

size_t th_echo_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t id,
		     uint16_t seq, const void *data, size_t len)
{
	static uint8_t msg[IP4_MAX_LEN];
	struct icmp4_hdr h = {
		.type = ICMP4_ECHO_REQUEST,
		.rest = (uint32_t)id << 16 | seq,
	};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_ICMP,
		.src = src,
		.dst = dst,
		.id = (uint16_t)(0x1000 + seq),
	};
	size_t n;

	ck_assert(len <= sizeof(msg) - ICMP4_HLEN);
	n = th_icmp_write(msg, &h, data, len);
	return th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, msg, n);
}

size_t th_udp_frame(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport,
		    uint16_t dport, const void *data, size_t len)
{
	static uint8_t seg[IP4_MAX_LEN];
	struct udp_hdr h = {.sport = sport, .dport = dport};
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_UDP,
		.src = src,
		.dst = dst,
		.id = 0x2000,
	};
	size_t n;

	ck_assert(len <= sizeof(seg) - UDP_HLEN);
	n = th_udp_write(seg, src, dst, &h, data, len, false);
	return th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, seg, n);
}

void th_pattern(void *buf, size_t len, unsigned seed)
{
	uint8_t *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

/* ---- Parsers for frames the stack sent ----------------------------------- */

struct cur th_expect_eth(const struct th_frame *fr, const uint8_t *dst,
			 uint16_t type)
{
	struct cur c = cur_make(fr->data, fr->len);
	struct eth_hdr eh;

	ck_assert(eth_hdr_parse(&c, &eh));
	ck_assert_mem_eq(eh.dst, dst, ETH_ALEN);
	ck_assert_mem_eq(eh.src, th_our_mac, ETH_ALEN);
	ck_assert_uint_eq(eh.type, type);
	return c;
}

void th_expect_arp(const struct th_frame *fr, const uint8_t *eth_dst,
		   struct arp_hdr *a)
{
	struct cur c = th_expect_eth(fr, eth_dst, ETH_TYPE_ARP);

	ck_assert_uint_eq(c.len, ARP_LEN);
	ck_assert(arp_hdr_parse(&c, a));
	ck_assert_uint_eq(c.len, 0);
}

struct cur th_expect_ip4(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip4_hdr *ih)
{
	struct cur c = th_expect_eth(fr, eth_dst, ETH_TYPE_IP4);
	const uint8_t *hdr = c.p;
	size_t len = c.len;

	ck_assert_int_eq(ip4_hdr_parse(&c, ih), IP4_OK);
	ck_assert_uint_eq(ih->ihl, IP4_HLEN);
	ck_assert_uint_eq(ih->total_len, len);
	ck_assert_uint_eq(csum(hdr, IP4_HLEN), 0);
	return c;
}

struct cur th_expect_icmp(const struct th_frame *fr, const uint8_t *eth_dst,
			  struct ip4_hdr *ih, struct icmp4_hdr *h)
{
	struct cur c = th_expect_ip4(fr, eth_dst, ih);

	ck_assert_uint_eq(ih->proto, IP4_PROTO_ICMP);
	ck_assert_uint_eq(ih->frag & (IP4_FLAG_MF | IP4_OFF_MASK), 0);
	ck_assert_uint_eq(csum(c.p, c.len), 0);
	ck_assert(icmp4_hdr_parse(&c, h));
	return c;
}

struct cur th_expect_udp(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip4_hdr *ih, struct udp_hdr *h)
{
	struct cur c = th_expect_ip4(fr, eth_dst, ih);
	const uint8_t *seg = c.p;

	ck_assert_uint_eq(ih->proto, IP4_PROTO_UDP);
	ck_assert_uint_eq(ih->frag & (IP4_FLAG_MF | IP4_OFF_MASK), 0);
	ck_assert(udp_hdr_parse(&c, h));
	ck_assert_uint_eq(h->len, (size_t)(c.p - seg) + c.len);
	ck_assert_uint_ne(h->csum, 0);
	ck_assert_uint_eq(csum_fold(csum_partial(seg, h->len,
						 csum_pseudo4(ih->src, ih->dst,
							      IP4_PROTO_UDP,
							      h->len))),
			  0);
	return c;
}

/* ---- TCP ------------------------------------------------------------------ */

size_t th_tcp_write(uint8_t *p, uint32_t src, uint32_t dst,
		    const struct tcp_hdr *h, const uint8_t *opts,
		    size_t optlen, const void *data, size_t len)
{
	struct tcp_hdr t = *h;
	size_t n;

	ck_assert(optlen % 4 == 0 && optlen <= TCP_MAX_OPTLEN);
	if (!t.doff)
		t.doff = (uint8_t)(TCP_HLEN + optlen);
	t.csum = 0;
	tcp_hdr_write(p, &t);
	if (optlen)
		memcpy(p + TCP_HLEN, opts, optlen);
	n = TCP_HLEN + optlen + len;
	if (len)
		memcpy(p + TCP_HLEN + optlen, data, len);
	put_be16(p + 16, csum_fold(csum_partial(
				 p, n,
				 csum_pseudo4(src, dst, IP4_PROTO_TCP,
					      (uint16_t)n))));
	return n;
}

size_t th_tcp_frame(uint8_t *f, uint32_t src, uint32_t dst,
		    const struct tcp_hdr *h, const uint8_t *opts,
		    size_t optlen, const void *data, size_t len)
{
	static uint8_t seg[IP4_MAX_LEN];
	struct ip4_hdr ih = {
		.ttl = 64,
		.proto = IP4_PROTO_TCP,
		.src = src,
		.dst = dst,
		.id = 0x3000,
	};
	size_t n;

	ck_assert(len <= sizeof(seg) - TCP_MAX_HLEN);
	n = th_tcp_write(seg, src, dst, h, opts, optlen, data, len);
	return th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, seg, n);
}

struct cur th_expect_tcp(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip4_hdr *ih, struct tcp_hdr *h,
			 struct tcp_opts *o)
{
	struct cur c = th_expect_ip4(fr, eth_dst, ih);
	struct cur opts;

	ck_assert_uint_eq(ih->proto, IP4_PROTO_TCP);
	ck_assert_uint_eq(ih->frag & (IP4_FLAG_MF | IP4_OFF_MASK), 0);
	ck_assert_uint_eq(csum_fold(csum_partial(c.p, c.len,
						 csum_pseudo4(ih->src, ih->dst,
							      IP4_PROTO_TCP,
							      (uint16_t)c.len))),
			  0);
	ck_assert(tcp_hdr_parse(&c, h, &opts));
	ck_assert_uint_eq(h->doff % 4, 0);
	ck_assert_int_eq(tcp_opts_parse(opts, h->flags & TCP_FLAG_SYN, o,
					NULL),
			 0);
	return c;
}

/* ---- IPv6 ------------------------------------------------------------------ */

const uint8_t th_our6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x02};
const uint8_t th_peer6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
const uint8_t th_peer6_ll[16] = {0xfe, 0x80, [15] = 0x01};
const uint8_t th_peer2_6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x03};
const uint8_t th_gw6[16] = {0xfe, 0x80, [15] = 0xfe};
const uint8_t th_far6[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 0x01};
const uint8_t th_any6[16];
const uint8_t th_all_nodes6[16] = {0xff, 0x02, [15] = 0x01};

void th_params6(struct stack_params *p)
{
	stack_params_default(p);
	p->acd = false; /* the address usable at once */
	p->ipv6 = true;
	p->dad = false;
	p->naddr6 = 1;
	memcpy(p->addr6[0].addr, th_our6, 16);
	p->addr6[0].prefix = 64;
}

struct stack *th_stack_new6(const struct stack_params *p)
{
	struct stack_params def;
	struct stack *s;

	if (!p) {
		th_params6(&def);
		p = &def;
	}
	s = th_stack_new(p);
	nd6_addr_setup(s);
	/* The MLD reports of the new addresses (and their repeat, a second
	 * later) are test_mld6's business: out of the way here. */
	timer_cancel(&s->timers, &s->mld_timer);
	s->mld_repeat = false;
	th_frames_clear();
	return s;
}

const uint8_t *th_our_ll6(const struct stack *s)
{
	ck_assert_uint_gt(s->naddr6, 0);
	return s->addr6[0].a.a;
}

void th_solicited6(const uint8_t *a, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xff;
	out[1] = 0x02;
	out[11] = 0x01;
	out[12] = 0xff;
	memcpy(out + 13, a + 13, 3);
}

void th_mcast_mac6(const uint8_t *g, uint8_t mac[ETH_ALEN])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, g + 12, 4);
}

uint32_t th_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh,
		    size_t len)
{
	uint8_t ph[40] = {0};

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put_be32(ph + 32, (uint32_t)len);
	ph[39] = nh;
	return csum_partial(ph, sizeof(ph), 0);
}

size_t th_ip6_frame(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src,
		    const struct ip6_hdr *h, const void *payload, size_t len)
{
	struct ip6_hdr ih = *h;
	uint8_t mac[ETH_ALEN];

	ck_assert(ETH_HLEN + IP6_HLEN + len <= TH_FRAME_MAX);
	if (!eth_dst) {
		if (ih.dst[0] == 0xff) {
			th_mcast_mac6(ih.dst, mac);
			eth_dst = mac;
		} else {
			eth_dst = th_our_mac;
		}
	}
	th_eth(f, eth_dst, eth_src, ETH_TYPE_IP6);
	if (!ih.payload_len)
		ih.payload_len = (uint16_t)len;
	ip6_hdr_write(f + ETH_HLEN, &ih);
	if (len)
		memcpy(f + ETH_HLEN + IP6_HLEN, payload, len);
	return ETH_HLEN + IP6_HLEN + len;
}

size_t th_icmp6_write(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		      const struct icmp6_hdr *h, const void *data, size_t len)
{
	struct icmp6_hdr z = *h;
	size_t n = ICMP6_HLEN + len;

	z.csum = 0;
	icmp6_hdr_write(p, &z);
	if (len)
		memcpy(p + ICMP6_HLEN, data, len);
	put_be16(p + 2, csum_fold(csum_partial(
				p, n, th_pseudo6(src, dst, IP6_NH_ICMP6, n))));
	return n;
}

size_t th_udp6_write(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		     const struct udp_hdr *h, const void *data, size_t len,
		     bool csum_zero)
{
	struct udp_hdr u = *h;
	size_t n = UDP_HLEN + len;
	uint16_t sum;

	if (!u.len)
		u.len = (uint16_t)n;
	u.csum = 0;
	udp_hdr_write(p, &u);
	if (len)
		memcpy(p + UDP_HLEN, data, len);
	if (csum_zero)
		return n;
	sum = csum_fold(csum_partial(p, n, th_pseudo6(src, dst, IP6_NH_UDP,
						      n)));
	put_be16(p + 6, sum ? sum : 0xffff);
	return n;
}

size_t th_tcp6_write(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		     const struct tcp_hdr *h, const uint8_t *opts,
		     size_t optlen, const void *data, size_t len)
{
	struct tcp_hdr t = *h;
	size_t n = TCP_HLEN + optlen + len;

	ck_assert(optlen % 4 == 0 && optlen <= TCP_MAX_OPTLEN);
	if (!t.doff)
		t.doff = (uint8_t)(TCP_HLEN + optlen);
	t.csum = 0;
	tcp_hdr_write(p, &t);
	if (optlen)
		memcpy(p + TCP_HLEN, opts, optlen);
	if (len)
		memcpy(p + TCP_HLEN + optlen, data, len);
	put_be16(p + 16, csum_fold(csum_partial(
				 p, n, th_pseudo6(src, dst, IP6_NH_TCP, n))));
	return n;
}

size_t th_echo6_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		      uint16_t id, uint16_t seq, const void *data, size_t len)
{
	static uint8_t msg[IP6_MAX_PAYLOAD];
	struct icmp6_hdr h = {
		.type = ICMP6_ECHO_REQUEST,
		.rest = (uint32_t)id << 16 | seq,
	};
	struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = 64};
	size_t n;

	ck_assert(len <= sizeof(msg) - ICMP6_HLEN);
	memcpy(ih.src, src, 16);
	memcpy(ih.dst, dst, 16);
	n = th_icmp6_write(msg, src, dst, &h, data, len);
	return th_ip6_frame(f, NULL, th_peer_mac, &ih, msg, n);
}

size_t th_udp6_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport, const void *data,
		     size_t len)
{
	static uint8_t seg[IP6_MAX_PAYLOAD];
	struct udp_hdr h = {.sport = sport, .dport = dport};
	struct ip6_hdr ih = {.next = IP6_NH_UDP, .hop_limit = 64};
	size_t n;

	ck_assert(len <= sizeof(seg) - UDP_HLEN);
	memcpy(ih.src, src, 16);
	memcpy(ih.dst, dst, 16);
	n = th_udp6_write(seg, src, dst, &h, data, len, false);
	return th_ip6_frame(f, NULL, th_peer_mac, &ih, seg, n);
}

void th_learn6(struct stack *s, const uint8_t *mac, const uint8_t *ip)
{
	static uint8_t m[ND_NS_LEN + 8];
	uint8_t f[ETH_HLEN + IP6_HLEN + sizeof(m)];
	const uint8_t *target = ip[0] == 0xfe ? th_our_ll6(s) : th_our6;
	struct icmp6_hdr h = {.type = ICMP6_ND_NS};
	struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = 255};
	uint8_t body[16 + 8], got[ETH_ALEN];
	size_t n;

	memcpy(body, target, 16);
	body[16] = ND_OPT_SLLA;
	body[17] = 1;
	memcpy(body + 18, mac, ETH_ALEN);
	memcpy(ih.src, ip, 16);
	th_solicited6(target, ih.dst);
	n = th_icmp6_write(m, ih.src, ih.dst, &h, body, sizeof(body));
	stack_input(s, f, th_ip6_frame(f, NULL, mac, &ih, m, n), 0);
	ck_assert(th_nd_lookup(s, ip, got));
	ck_assert_mem_eq(got, mac, ETH_ALEN);
	th_frames_clear();
}

bool th_nd_lookup(struct stack *s, const uint8_t *ip, uint8_t mac[ETH_ALEN])
{
	union inany a = inany_from_v6(ip);

	return neigh_lookup(&s->nd, &a, mac) == 0;
}

void th_check_leaks6(struct stack *s, unsigned arp_entries,
		     unsigned nd_entries)
{
	ck_assert_uint_eq(s->reasm_count, 0);
	ck_assert_ptr_null(s->reasm_head);
	ck_assert_uint_eq(s->arp.used, arp_entries);
	ck_assert_uint_eq(s->nd.used, nd_entries);
	for (unsigned i = 0; i < s->naddr6; i++)
		ck_assert_uint_ne(s->addr6[i].state, ADDR6_TENTATIVE);
	ck_assert_uint_eq(s->timers.count,
			  arp_entries + nd_entries +
				  (timer_pending(&s->mld_timer) ? 1 : 0));
	ck_assert_uint_eq(th_frames_lost(), 0);
}

struct cur th_expect_ip6(const struct th_frame *fr, const uint8_t *eth_dst,
			 struct ip6_hdr *h)
{
	struct cur c = th_expect_eth(fr, eth_dst, ETH_TYPE_IP6);
	size_t len = c.len;

	ck_assert_int_eq(ip6_hdr_parse(&c, h), IP6_OK);
	ck_assert_uint_eq((size_t)h->payload_len + IP6_HLEN, len);
	return c;
}

struct cur th_expect_icmp6(const struct th_frame *fr, const uint8_t *eth_dst,
			   struct ip6_hdr *h, struct icmp6_hdr *ih)
{
	struct cur c = th_expect_ip6(fr, eth_dst, h);

	ck_assert_uint_eq(h->next, IP6_NH_ICMP6);
	ck_assert_uint_ge(c.len, ICMP6_HLEN);
	ck_assert_uint_eq(csum_fold(csum_partial(c.p, c.len,
						 th_pseudo6(h->src, h->dst,
							    IP6_NH_ICMP6,
							    c.len))),
			  0);
	ck_assert(icmp6_hdr_parse(&c, ih));
	return c;
}

struct cur th_expect_udp6(const struct th_frame *fr, const uint8_t *eth_dst,
			  struct ip6_hdr *h, struct udp_hdr *uh)
{
	struct cur c = th_expect_ip6(fr, eth_dst, h);
	const uint8_t *seg = c.p;
	size_t len = c.len;

	ck_assert_uint_eq(h->next, IP6_NH_UDP);
	ck_assert(udp_hdr_parse(&c, uh));
	ck_assert_uint_eq(uh->len, len);
	ck_assert_uint_ne(uh->csum, 0);
	ck_assert_uint_eq(csum_fold(csum_partial(seg, len,
						 th_pseudo6(h->src, h->dst,
							    IP6_NH_UDP, len))),
			  0);
	return c;
}

/* ---- Running suites ------------------------------------------------------ */

int th_run(Suite *su)
{
	SRunner *sr = srunner_create(su);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

size_t th_ip6_frame_raw(uint8_t *f, const uint8_t *eth_dst,
			const uint8_t *eth_src, const uint8_t *src,
			const uint8_t *dst, uint8_t next, uint8_t hop_limit,
			const void *payload, size_t len)
{
	struct ip6_hdr h = {
		.payload_len = (uint16_t)len,
		.next = next,
		.hop_limit = hop_limit,
	};

	memcpy(h.src, src, 16);
	memcpy(h.dst, dst, 16);
	return th_ip6_frame(f, eth_dst, eth_src, &h, payload, len);
}

void th_learn6_to(struct stack *s, const uint8_t *mac, const uint8_t *ip,
		  const uint8_t *target)
{
	uint8_t fr[128], body[16 + 8], msg[ICMP6_HLEN + sizeof(body)];
	struct icmp6_hdr h = {.type = ICMP6_ND_NS};
	union inany a = inany_from_v6(ip);
	uint8_t got[ETH_ALEN];
	size_t n;

	memcpy(body, target, 16);
	body[16] = ND_OPT_SLLA;
	body[17] = 1; /* 8 bytes */
	memcpy(body + 18, mac, ETH_ALEN);
	n = th_icmp6_write(msg, ip, target, &h, body, sizeof(body));
	stack_input(s, fr,
		    th_ip6_frame_raw(fr, th_our_mac, mac, ip, target,
				     IP6_NH_ICMP6, ND_HOP_LIMIT, msg, n),
		    0);
	ck_assert_int_eq(neigh_lookup(&s->nd, &a, got), 0);
	ck_assert_mem_eq(got, mac, ETH_ALEN);
	th_frames_clear();
}

void th_confirm6(struct stack *s, const uint8_t *mac, const uint8_t *ip,
		 const uint8_t *to)
{
	uint8_t fr[128], body[16 + 8], msg[ICMP6_HLEN + sizeof(body)];
	struct icmp6_hdr h = {.type = ICMP6_ND_NA,
			      .rest = ND_NA_SOLICITED | ND_NA_OVERRIDE};
	size_t n;

	memcpy(body, ip, 16);
	body[16] = ND_OPT_TLLA;
	body[17] = 1;
	memcpy(body + 18, mac, ETH_ALEN);
	n = th_icmp6_write(msg, ip, to, &h, body, sizeof(body));
	stack_input(s, fr,
		    th_ip6_frame_raw(fr, th_our_mac, mac, ip, to, IP6_NH_ICMP6,
				     ND_HOP_LIMIT, msg, n),
		    0);
	th_frames_clear();
}
