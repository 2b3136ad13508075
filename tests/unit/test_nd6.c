/* Neighbor Discovery and our addresses (nd6.c) against RFC 4861, RFC 4862
 * and RFC 7217: the link-local address, Duplicate Address Detection,
 * solicitations and advertisements with their validation, and resolving
 * neighbours through the shared cache. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

static uint8_t f[TH_FRAME_MAX];

/* ---- Frames ---------------------------------------------------------------- */

/* An ICMPv6 message (type, code, the word after the checksum, then body)
 * from src at mac to dst, with hop limit hl; to our MAC or dst's group. */
static size_t icmp_frame(uint8_t type, uint8_t code, uint32_t rest,
			 const uint8_t *src, const uint8_t *dst, uint8_t hl,
			 const void *body, size_t len, const uint8_t *mac)
{
	static uint8_t m[2048];
	struct icmp6_hdr h = {.type = type, .code = code, .rest = rest};
	struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = hl};
	size_t n;

	memcpy(ih.src, src, 16);
	memcpy(ih.dst, dst, 16);
	n = th_icmp6_write(m, src, dst, &h, body, len);
	return th_ip6_frame(f, NULL, mac, &ih, m, n);
}

/* A Neighbor Solicitation or Advertisement for target with options opts
 * (optlen bytes), hop limit 255, from the peer's MAC. */
static size_t nd_frame(uint8_t type, uint32_t flags, const uint8_t *src,
		       const uint8_t *dst, const uint8_t *target,
		       const uint8_t *opts, size_t optlen)
{
	uint8_t body[16 + 64];

	ck_assert_uint_le(optlen, 64);
	memcpy(body, target, 16);
	if (optlen)
		memcpy(body + 16, opts, optlen);
	return icmp_frame(type, 0, flags, src, dst, 255, body, 16 + optlen,
			  th_peer_mac);
}

/* A link-layer address option (8 bytes) at p. */
static const uint8_t *lla(uint8_t *p, uint8_t type, const uint8_t *mac)
{
	p[0] = type;
	p[1] = 1;
	memcpy(p + 2, mac, ETH_ALEN);
	return p;
}

/* An NS from src for target, to target's solicited-node group (with an
 * SLLA of the peer's MAC unless src is ::). */
static size_t ns_frame(const uint8_t *src, const uint8_t *target)
{
	uint8_t sn[16], o[8];
	bool any = memcmp(src, th_any6, 16) == 0;

	th_solicited6(target, sn);
	return nd_frame(ICMP6_ND_NS, 0, src, sn, target,
			any ? NULL : lla(o, ND_OPT_SLLA, th_peer_mac),
			any ? 0 : 8);
}

/* An NA from src to dst about target with flags and a TLLA of mac. */
static size_t na_frame(const uint8_t *src, const uint8_t *dst,
		       const uint8_t *target, uint32_t flags,
		       const uint8_t *mac)
{
	uint8_t o[8];

	return nd_frame(ICMP6_ND_NA, flags, src, dst, target,
			lla(o, ND_OPT_TLLA, mac), 8);
}

/* Assert frame fr is a Neighbor Solicitation from src to dst (at eth_dst)
 * for target, with an SLLA of our MAC when slla, or no option at all. */
static void expect_ns(const struct th_frame *fr, const uint8_t *eth_dst,
		      const uint8_t *src, const uint8_t *dst,
		      const uint8_t *target, bool slla)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct cur c = th_expect_icmp6(fr, eth_dst, &h, &ih);

	ck_assert_mem_eq(h.src, src, 16);
	ck_assert_mem_eq(h.dst, dst, 16);
	ck_assert_uint_eq(h.hop_limit, 255);
	ck_assert_uint_eq(ih.type, ICMP6_ND_NS);
	ck_assert_uint_eq(ih.code, 0);
	ck_assert_uint_eq(ih.rest, 0);
	ck_assert_uint_eq(c.len, 16 + (slla ? 8 : 0));
	ck_assert_mem_eq(c.p, target, 16);
	if (slla) {
		ck_assert_uint_eq(c.p[16], ND_OPT_SLLA);
		ck_assert_uint_eq(c.p[17], 1);
		ck_assert_mem_eq(c.p + 18, th_our_mac, ETH_ALEN);
	}
}

/* Assert frame fr is a DAD probe for target: from ::, to its
 * solicited-node group, no option (RFC 4862 5.4.2). */
static void expect_dad_ns(const struct th_frame *fr, const uint8_t *target)
{
	uint8_t sn[16], mac[ETH_ALEN];

	th_solicited6(target, sn);
	th_mcast_mac6(sn, mac);
	expect_ns(fr, mac, th_any6, sn, target, false);
}

/* Assert frame fr is a Neighbor Advertisement from src to dst (at eth_dst)
 * for src, with exactly the flags given and a TLLA of our MAC. */
static void expect_na(const struct th_frame *fr, const uint8_t *eth_dst,
		      const uint8_t *src, const uint8_t *dst, uint32_t flags)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;
	struct cur c = th_expect_icmp6(fr, eth_dst, &h, &ih);

	ck_assert_mem_eq(h.src, src, 16);
	ck_assert_mem_eq(h.dst, dst, 16);
	ck_assert_uint_eq(h.hop_limit, 255);
	ck_assert_uint_eq(ih.type, ICMP6_ND_NA);
	ck_assert_uint_eq(ih.code, 0);
	ck_assert_uint_eq(ih.rest, flags);
	ck_assert_uint_eq(c.len, 16 + 8);
	ck_assert_mem_eq(c.p, src, 16);
	ck_assert_uint_eq(c.p[16], ND_OPT_TLLA);
	ck_assert_uint_eq(c.p[17], 1);
	ck_assert_mem_eq(c.p + 18, th_our_mac, ETH_ALEN);
}

/* ---- Observing the stack ---------------------------------------------------- */

struct addrs {
	unsigned n;
	union inany a[STACK_MAX_ADDR6 + 1];
	unsigned prefix[STACK_MAX_ADDR6 + 1];
	const char *state[STACK_MAX_ADDR6 + 1];
};

static void addr_cb(void *arg, const union inany *a, unsigned prefix,
		    const char *state)
{
	struct addrs *x = arg;

	ck_assert_uint_lt(x->n, STACK_MAX_ADDR6 + 1);
	x->a[x->n] = *a;
	x->prefix[x->n] = prefix;
	x->state[x->n] = state;
	x->n++;
}

static struct addrs addrs_of(struct stack *s)
{
	struct addrs x = {0};

	stack_foreach_addr6(s, addr_cb, &x);
	return x;
}

/* The state name of address a (asserts it is one of ours). */
static const char *state_of(struct stack *s, const uint8_t *a)
{
	struct addrs x = addrs_of(s);

	for (unsigned i = 0; i < x.n; i++)
		if (memcmp(x.a[i].a, a, 16) == 0)
			return x.state[i];
	ck_abort_msg("not an address of ours");
	return NULL;
}

/* The link-local address, as stack_foreach_addr6() reports it (first). */
static union inany link_local(struct stack *s)
{
	struct addrs x = addrs_of(s);

	ck_assert_uint_ge(x.n, 1);
	ck_assert_uint_eq(x.prefix[0], 64);
	return x.a[0];
}

static void neigh_cb(void *arg, const union inany *a, const uint8_t *mac,
		     const char *state, uint64_t age)
{
	unsigned *n = arg;

	(void)mac;
	(void)state;
	(void)age;
	if (!inany_is_v4(a))
		(*n)++;
}

/* IPv6 entries in the neighbour cache, as the reports see them. */
static unsigned nd_entries(struct stack *s)
{
	unsigned n = 0;

	stack_foreach_neigh(s, neigh_cb, &n);
	return n;
}

static unsigned nevents;
static union inany event_addr[8];

static void event_cb(void *ctx, enum stack_event ev, const union inany *a,
		     const uint8_t *mac)
{
	(void)ctx;
	ck_assert_int_eq(ev, STACK_EV_ADDR6_DUPLICATE);
	ck_assert_ptr_null(mac);
	ck_assert_uint_lt(nevents, 8);
	event_addr[nevents++] = *a;
}

/* Parameters with DAD on (one probe, nd_retrans_ms 1000). */
static struct stack_params dad_params(void)
{
	struct stack_params p;

	th_params6(&p);
	p.dad = true;
	return p;
}

/* A stack with DAD under way on both addresses (nothing sent yet), its
 * events recorded. */
static struct stack *dad_stack(const struct stack_params *p)
{
	struct stack_params d = dad_params();
	struct stack *s;

	th_link_ignore_mld(true); /* reports are test_mld's */
	s = th_stack_new6(p ? p : &d);

	struct addrs x = addrs_of(s);

	nevents = 0;
	stack_set_event_fn(s, event_cb, NULL);
	for (unsigned i = 0; i < x.n; i++)
		ck_assert_str_eq(x.state[i], "tentative");
	return s;
}

/* Frames of type IPv6 sent since the link was cleared. */
static size_t ip6_frames(void)
{
	size_t n = 0;

	for (size_t i = 0; i < th_frame_count(); i++)
		if (be16(th_frame(i)->data + 12) == ETH_TYPE_IP6)
			n++;
	return n;
}

/* The DAD probes for target sent since the link was cleared (each
 * checked). */
static unsigned probes_for(const uint8_t *target)
{
	unsigned n = 0;

	for (size_t i = 0; i < th_frame_count(); i++) {
		const struct th_frame *fr = th_frame(i);

		if (be16(fr->data + 12) == ETH_TYPE_IP6 &&
		    fr->len >= ETH_HLEN + IP6_HLEN + 24 &&
		    memcmp(fr->data + ETH_HLEN + IP6_HLEN + 8, target, 16) ==
			    0) {
			expect_dad_ns(fr, target);
			n++;
		}
	}
	return n;
}

/* ---- The link-local address ------------------------------------------------- */

/* The link-local address a stack with these parameters and secrets
 * forms. */
static union inany ll_for(const struct stack_params *p,
			  const struct stack_secrets *k)
{
	struct stack *s = th_stack_new_keyed(p, k);
	union inany a;

	nd6_addr_setup(s);
	a = link_local(s);
	th_stack_free(s);
	return a;
}

START_TEST(test_link_local_stable)
{
	static const uint8_t fe80[8] = {0xfe, 0x80};
	struct stack_params p;
	struct stack_secrets k = th_secrets;
	union inany a, b;
	struct stack *s;

	th_params6(&p);
	s = th_stack_new6(&p);
	/* fe80::/64 and the IID, then the configured address. */
	ck_assert_uint_eq(addrs_of(s).n, 2);
	a = link_local(s);
	ck_assert_mem_eq(a.a, fe80, 8);
	ck_assert_str_eq(addrs_of(s).state[0], "preferred");
	ck_assert_mem_eq(addrs_of(s).a[1].a, th_our6, 16);
	ck_assert_uint_eq(addrs_of(s).prefix[1], 64);
	/* Not the MAC's EUI-64 (RFC 8064: stable, not hardware-derived). */
	ck_assert(!(a.a[11] == 0xff && a.a[12] == 0xfe));
	th_stack_free(s);
	/* RFC 7217: the same key and interface give the same identifier... */
	b = ll_for(&p, &th_secrets);
	ck_assert(inany_eq(&a, &b));
	/* ...a secret other than the IID key changes nothing... */
	k.frag6_key[3] ^= 0x40;
	k.isn_key[0] ^= 1;
	b = ll_for(&p, &k);
	ck_assert(inany_eq(&a, &b));
	/* ...another key another one... */
	k = th_secrets;
	k.iid_key[15] ^= 0x80;
	b = ll_for(&p, &k);
	ck_assert(!inany_eq(&a, &b));
	ck_assert_mem_eq(b.a, fe80, 8);
	/* ...and so does another interface (MAC). */
	p.mac[5] = 0x77;
	b = ll_for(&p, &th_secrets);
	ck_assert(!inany_eq(&a, &b));
	ck_assert_mem_eq(b.a, fe80, 8);
}
END_TEST

START_TEST(test_link_local_eui64)
{
	static const uint8_t mac[ETH_ALEN] = {0x00, 0x11, 0x22,
					      0x33, 0x44, 0x55};
	static const uint8_t want1[16] = {0xfe, 0x80, [8] = 0x02, 0x11, 0x22,
					  0xff, 0xfe, 0x33, 0x44, 0x55};
	static const uint8_t want2[16] = {0xfe, 0x80, [8] = 0x00, 0x00, 0x00,
					  0xff, 0xfe, 0x00, 0x00, 0x02};
	struct stack_params p;
	union inany a;

	/* RFC 4291 appendix A: ff:fe in the middle, the universal/local
	 * bit inverted. */
	th_params6(&p);
	p.iid_eui64 = true;
	memcpy(p.mac, mac, ETH_ALEN);
	a = ll_for(&p, &th_secrets);
	ck_assert_mem_eq(a.a, want1, 16);
	memcpy(p.mac, th_our_mac, ETH_ALEN);
	a = ll_for(&p, &th_secrets);
	ck_assert_mem_eq(a.a, want2, 16);
}
END_TEST

/* ---- Duplicate Address Detection -------------------------------------------- */

START_TEST(test_dad_off)
{
	struct stack *s = th_stack_new6(NULL);

	/* With DAD off every address is preferred at once, nothing sent. */
	ck_assert_str_eq(addrs_of(s).state[0], "preferred");
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(th_frame_count(), 0);
	th_advance(s, 5000);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NS_TX], 0);
	th_check_leaks6(s, 0, 0);
	th_stack_free(s);
}
END_TEST

/* Run DAD to its end in 1 ms steps from stack_announce(), checking that
 * each of our two addresses gets dad_transmits probes, the first before
 * 1000 ms, then retrans ms apart, and becomes preferred retrans ms after
 * the last. */
static void check_dad(unsigned transmits, unsigned retrans)
{
	struct stack_params p = dad_params();
	struct stack *s;
	union inany ll;
	const uint8_t *targets[2];
	uint64_t sent[2][4];
	unsigned nsent[2] = {0, 0};
	size_t seen = 0;

	p.dad_transmits = transmits;
	p.nd_retrans_ms = retrans;
	th_link_ignore_mld(true); /* reports are test_mld's */
	s = th_stack_new(&p);
	stack_announce(s); /* a gratuitous ARP, and DAD */
	ll = link_local(s);
	targets[0] = ll.a;
	targets[1] = th_our6;
	ck_assert_str_eq(state_of(s, targets[0]), "tentative");
	ck_assert_str_eq(state_of(s, targets[1]), "tentative");
	for (uint64_t t = 0; t <= 1000 + (uint64_t)transmits * retrans + 10;
	     t++) {
		if (t)
			th_advance(s, 1);
		for (; seen < th_frame_count(); seen++) {
			const struct th_frame *fr = th_frame(seen);
			unsigned i;

			if (be16(fr->data + 12) != ETH_TYPE_IP6)
				continue;
			i = memcmp(fr->data + ETH_HLEN + IP6_HLEN + 8,
				   targets[0], 16) == 0 ? 0 : 1;
			expect_dad_ns(fr, targets[i]);
			ck_assert_uint_lt(nsent[i], transmits);
			sent[i][nsent[i]++] = t;
		}
		for (unsigned i = 0; i < 2; i++) {
			bool done = nsent[i] == transmits &&
				    t >= sent[i][transmits - 1] + retrans;

			ck_assert_str_eq(state_of(s, targets[i]),
					 done ? "preferred" : "tentative");
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_uint_eq(nsent[i], transmits);
		ck_assert_uint_lt(sent[i][0], 1000);
		for (unsigned j = 1; j < transmits; j++)
			ck_assert_uint_eq(sent[i][j] - sent[i][j - 1], retrans);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DAD_OK], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NS_TX], 2 * transmits);
	/* Nothing more once done. */
	th_advance(s, 10000);
	ck_assert_uint_eq(ip6_frames(), 2 * transmits);
	th_check_leaks6(s, 0, 0);
	th_stack_free(s);
}

START_TEST(test_dad_one_probe)
{
	check_dad(1, 1000);
}
END_TEST

START_TEST(test_dad_three_probes)
{
	check_dad(3, 500);
}
END_TEST

START_TEST(test_tentative_not_used)
{
	struct stack *s = dad_stack(NULL);
	struct udp_dst d = {.addr = inany_from_v6(th_peer6), .port = 9};
	union inany peer = inany_from_v6(th_peer6), src;

	/* RFC 4862 5.4: a tentative address receives only ND, and is not a
	 * source. */
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping",
					 4), 0);
	stack_input(s, f, th_udp6_frame(f, th_peer6, th_our6, 4000, 9, "x", 1),
		    0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NOT_US], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 0);
	ck_assert_uint_eq(s->stats.v[STAT_UDP_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	src = ip6_source(s, &peer);
	ck_assert(inany_is_unspec(&src));
	ck_assert_int_eq(l3_reachable(s, &peer), -EINVAL);
	ck_assert_int_ne(udp_output(s, 9, &d, "x", 1), 0);
	/* Once DAD has passed, both work. */
	th_advance(s, 2100);
	th_frames_clear();
	th_learn6(s, th_peer_mac, th_peer6);
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 2, "ping",
					 4), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_TX], 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_no_datagram_from_unspecified)
{
	struct stack_params p = dad_params();
	struct stack *s;
	struct udp_dst d = {.addr = inany_from_v6(th_peer6_ll), .port = 9};

	/* Only the link-local address, DAD passed, a neighbour known. */
	p.naddr6 = 0;
	s = dad_stack(&p);
	th_advance(s, 2100);
	ck_assert_str_eq(addrs_of(s).state[0], "preferred");
	th_learn6(s, th_peer_mac, th_peer6_ll);
	ck_assert_int_eq(udp_output(s, 9, &d, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	/* A new MAC: a new link-local address, tentative, while the
	 * neighbour stays cached.  Nothing may leave from :: (RFC 4291
	 * 2.5.2), and the tentative address is no source either. */
	p.mac[5] = 0x42;
	stack_update(s, &p);
	ck_assert_str_eq(addrs_of(s).state[0], "tentative");
	th_frames_clear();
	ck_assert_int_eq(udp_output(s, 9, &d, "x", 1), -EINVAL);
	ck_assert_uint_eq(ip6_frames(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_dad_na_duplicate)
{
	struct stack *s = dad_stack(NULL);
	union inany us = inany_from_v6(th_our6), src;
	union inany peer = inany_from_v6(th_peer6);

	/* The node that has it defends it: an NA for our tentative address
	 * (RFC 4862 5.4.4), here from the address itself to all nodes. */
	stack_input(s, f, na_frame(th_our6, th_all_nodes6, th_our6,
				   ND_NA_OVERRIDE, th_peer_mac), 0);
	ck_assert_str_eq(state_of(s, th_our6), "duplicate");
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DAD_DUPLICATE], 1);
	ck_assert_uint_eq(nevents, 1);
	ck_assert(inany_eq(&event_addr[0], &us));
	/* The link-local address goes on and passes; ours is never probed
	 * for again. */
	th_advance(s, 5000);
	ck_assert_str_eq(addrs_of(s).state[0], "preferred");
	ck_assert_str_eq(state_of(s, th_our6), "duplicate");
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_dad_ns(th_frame(0), link_local(s).a);
	th_frames_clear();
	/* Never used: not a destination, not answered for, not a source. */
	th_learn6(s, th_peer_mac, th_peer6_ll);
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping",
					 4), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NOT_US], 1);
	stack_input(s, f, ns_frame(th_peer6, th_our6), 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NA_TX], 1); /* th_learn6's */
	src = ip6_source(s, &peer);
	ck_assert(!inany_eq(&src, &us));
	/* Nor undone by a later NA. */
	stack_input(s, f, na_frame(th_peer6, th_all_nodes6, th_our6,
				   ND_NA_OVERRIDE, th_peer_mac), 0);
	ck_assert_str_eq(state_of(s, th_our6), "duplicate");
	ck_assert_uint_eq(nevents, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_dad_ns_from_any)
{
	struct stack *s = dad_stack(NULL);
	union inany us = inany_from_v6(th_our6);

	/* Another node probes the same address: neither may have it (RFC
	 * 4862 5.4.3). */
	stack_input(s, f, ns_frame(th_any6, th_our6), 0);
	ck_assert_str_eq(state_of(s, th_our6), "duplicate");
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DAD_DUPLICATE], 1);
	ck_assert_uint_eq(nevents, 1);
	ck_assert(inany_eq(&event_addr[0], &us));
	ck_assert_uint_eq(th_frame_count(), 0);
	th_advance(s, 3000);
	ck_assert_str_eq(state_of(s, th_our6), "duplicate");
	ck_assert_uint_eq(th_frame_count(), 1); /* the link-local's probe */
	th_stack_free(s);
}
END_TEST

START_TEST(test_dad_ns_from_unicast)
{
	struct stack *s = dad_stack(NULL);

	/* A solicitation from a unicast address is for a node that has the
	 * address; not us yet: silently discarded (RFC 4862 5.4.3). */
	stack_input(s, f, ns_frame(th_peer6, th_our6), 0);
	ck_assert_str_eq(state_of(s, th_our6), "tentative");
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DAD_DUPLICATE], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(nd_entries(s), 0);
	th_advance(s, 2100);
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(nevents, 0);
	th_check_leaks6(s, 0, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_dad_link_local_regenerated)
{
	static const uint8_t fe80[8] = {0xfe, 0x80};
	struct stack *s = dad_stack(NULL);
	union inany seen[5];

	/* RFC 7217 6: a stable link-local address found duplicate is formed
	 * again with the next DAD counter, up to IDGEN_RETRIES (3) times. */
	for (unsigned i = 0; i < 5; i++) {
		union inany ll = link_local(s);

		seen[i] = ll;
		for (unsigned j = 0; j < i; j++)
			ck_assert(!inany_eq(&ll, &seen[j]));
		ck_assert_mem_eq(ll.a, fe80, 8);
		ck_assert_str_eq(addrs_of(s).state[0], "tentative");
		/* Its own probe, for the new address, within a second. */
		th_frames_clear();
		th_advance(s, 999);
		ck_assert_uint_eq(probes_for(ll.a), 1);
		stack_input(s, f, ns_frame(th_any6, ll.a), 0);
		ck_assert_uint_eq(nevents, i + 1);
		ck_assert(inany_eq(&event_addr[i], &ll));
		if (i == 3)
			break;
	}
	/* The fourth duplicate is the last: it stays. */
	ck_assert_str_eq(addrs_of(s).state[0], "duplicate");
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DAD_DUPLICATE], 4);
	th_frames_clear();
	th_advance(s, 5000);
	ck_assert_str_eq(addrs_of(s).state[0], "duplicate");
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(ip6_frames(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_dad_eui64_not_regenerated)
{
	struct stack_params p = dad_params();
	struct stack *s;
	union inany ll, now;

	p.iid_eui64 = true;
	s = dad_stack(&p);
	ll = link_local(s);
	stack_input(s, f, ns_frame(th_any6, ll.a), 0);
	ck_assert_str_eq(addrs_of(s).state[0], "duplicate");
	now = link_local(s);
	ck_assert(inany_eq(&ll, &now));
	th_advance(s, 3000);
	ck_assert_str_eq(addrs_of(s).state[0], "duplicate");
	ck_assert_uint_eq(nevents, 1);
	th_stack_free(s);
}
END_TEST

/* ---- Solicitations and advertisements -------------------------------------- */

START_TEST(test_conflict_counted)
{
	struct stack *s = th_stack_new6(NULL);

	/* Someone advertises an address we hold (after DAD): counted, the
	 * address stays ours (RFC 4862 5.4.4 leaves the rest to the
	 * administrator). */
	stack_input(s, f, na_frame(th_peer6_ll, th_all_nodes6, th_our6,
				   ND_NA_OVERRIDE, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_CONFLICT], 1);
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(nd_entries(s), 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_update_adds_address)
{
	static const uint8_t second[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1,
					   [15] = 0x22};
	struct stack_params p = dad_params();
	struct stack *s = dad_stack(&p);
	union inany ll;

	th_advance(s, 2100);
	ll = link_local(s);
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	/* A new address is checked; the ones we have are kept as they
	 * are, without probing them again. */
	p.naddr6 = 2;
	memcpy(p.addr6[1].addr, second, 16);
	p.addr6[1].prefix = 64;
	th_frames_clear();
	stack_update(s, &p);
	ck_assert_str_eq(state_of(s, second), "tentative");
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_str_eq(state_of(s, ll.a), "preferred");
	th_advance(s, 999);
	ck_assert_uint_eq(probes_for(second), 1);
	ck_assert_uint_eq(probes_for(th_our6), 0);
	ck_assert_uint_eq(probes_for(ll.a), 0);
	th_advance(s, 1000);
	ck_assert_str_eq(state_of(s, second), "preferred");
	/* Removing it stops using it. */
	p.naddr6 = 1;
	stack_update(s, &p);
	ck_assert_uint_eq(addrs_of(s).n, 2);
	stack_input(s, f, th_echo6_frame(f, th_peer6, second, 7, 1, "ping", 4),
		    0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_RX], 0);
	th_check_leaks6(s, 0, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_ns_answered)
{
	struct stack *s = th_stack_new6(NULL);
	uint8_t mac[ETH_ALEN], o[8];

	/* RFC 4861 7.2.4: solicited and override, TLLA, to the asker. */
	stack_input(s, f, ns_frame(th_peer6, th_our6), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_na(th_frame(0), th_peer_mac, th_our6, th_peer6,
		  ND_NA_SOLICITED | ND_NA_OVERRIDE);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NA_TX], 1);
	/* 7.2.3: the asker is learnt; what we send it goes at once. */
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	ck_assert_uint_eq(nd_entries(s), 1);
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping",
					 4), 0);
	ck_assert_uint_eq(th_frame_count(), 2);
	{
		struct ip6_hdr h;
		struct icmp6_hdr ih;

		th_expect_icmp6(th_frame(1), th_peer_mac, &h, &ih);
		ck_assert_uint_eq(ih.type, ICMP6_ECHO_REPLY);
	}
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NS_TX], 0);
	/* A unicast solicitation (a reachability check) the same way. */
	th_frames_clear();
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_peer6, th_our6, th_our6,
				   lla(o, ND_OPT_SLLA, th_peer_mac), 8), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_na(th_frame(0), th_peer_mac, th_our6, th_peer6,
		  ND_NA_SOLICITED | ND_NA_OVERRIDE);
	/* For our link-local address, from a link-local asker. */
	th_frames_clear();
	stack_input(s, f, ns_frame(th_peer6_ll, th_our_ll6(s)), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_na(th_frame(0), th_peer_mac, th_our_ll6(s), th_peer6_ll,
		  ND_NA_SOLICITED | ND_NA_OVERRIDE);
	ck_assert_uint_eq(nd_entries(s), 2);
	th_check_leaks6(s, 0, 2);
	th_stack_free(s);
}
END_TEST

START_TEST(test_ns_from_any_answered)
{
	static const uint8_t all_nodes_mac[ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 1};
	struct stack *s = th_stack_new6(NULL);

	/* A DAD probe for an address we have: defended to all nodes, the
	 * solicited flag clear (RFC 4861 7.2.4). */
	stack_input(s, f, ns_frame(th_any6, th_our6), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_na(th_frame(0), all_nodes_mac, th_our6, th_all_nodes6,
		  ND_NA_OVERRIDE);
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(nd_entries(s), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_ns_not_ours)
{
	/* The same low 24 bits as ours: our solicited-node group. */
	static const uint8_t other[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1,
					  [15] = 0x02};
	struct stack *s = th_stack_new6(NULL);

	stack_input(s, f, ns_frame(th_peer6, other), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NS_RX], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_NOT_US], 1);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(nd_entries(s), 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_validation)
{
	struct stack *s = th_stack_new6(NULL);
	uint8_t sn[16], o[16], body[32];
	unsigned bad = 0;
	size_t n;

	th_solicited6(th_our6, sn);
	/* RFC 4861 7.1.1 and 7.1.2: each of these is silently discarded. */
	/* Hop limit not 255: it crossed a router. */
	memcpy(body, th_our6, 16);
	lla(body + 16, ND_OPT_SLLA, th_peer_mac);
	stack_input(s, f, icmp_frame(ICMP6_ND_NS, 0, 0, th_peer6, sn, 254,
				     body, 24, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	stack_input(s, f, icmp_frame(ICMP6_ND_NA, 0, ND_NA_SOLICITED,
				     th_peer6, th_our6, 64, body, 16,
				     th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* Code not 0. */
	stack_input(s, f, icmp_frame(ICMP6_ND_NS, 1, 0, th_peer6, sn, 255,
				     body, 24, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* Shorter than 24 bytes. */
	stack_input(s, f, icmp_frame(ICMP6_ND_NS, 0, 0, th_peer6, sn, 255,
				     body, 12, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* An option of length 0. */
	memset(o, 0, sizeof(o));
	o[0] = ND_OPT_SLLA;
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_peer6, sn, th_our6, o, 8),
		    0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* An option running past the end (16 bytes said, 8 there). */
	lla(o, ND_OPT_SLLA, th_peer_mac);
	o[1] = 2;
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_peer6, sn, th_our6, o, 8),
		    0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* A multicast target. */
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_peer6, sn, sn,
				   lla(o, ND_OPT_SLLA, th_peer_mac), 8), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	stack_input(s, f, nd_frame(ICMP6_ND_NA, ND_NA_OVERRIDE, th_peer6,
				   th_all_nodes6, th_all_nodes6,
				   lla(o, ND_OPT_TLLA, th_peer_mac), 8), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* From :: with a source link-layer address. */
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_any6, sn, th_our6,
				   lla(o, ND_OPT_SLLA, th_peer_mac), 8), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* From :: to a group other than the target's solicited-node one. */
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_any6, th_all_nodes6,
				   th_our6, NULL, 0), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	/* An advertisement to a group marked solicited. */
	stack_input(s, f, na_frame(th_peer6, th_all_nodes6, th_peer6,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE,
				   th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], ++bad);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(nd_entries(s), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_CONFLICT], 0);
	/* The same builders, valid, are answered. */
	n = ns_frame(th_peer6, th_our6);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], bad);
	th_stack_free(s);
}
END_TEST

START_TEST(test_validation_dad)
{
	struct stack *s = dad_stack(NULL);
	uint8_t o[8], sn[16], body[24];

	/* An invalid message must not fail DAD: an NA for our tentative
	 * address with the hop limit of a routed packet... */
	memcpy(body, th_our6, 16);
	lla(body + 16, ND_OPT_TLLA, th_peer_mac);
	stack_input(s, f, icmp_frame(ICMP6_ND_NA, 0, ND_NA_OVERRIDE, th_peer6,
				     th_all_nodes6, 64, body, 24, th_peer_mac),
		    0);
	/* ...or a probe from :: carrying an SLLA. */
	th_solicited6(th_our6, sn);
	stack_input(s, f, nd_frame(ICMP6_ND_NS, 0, th_any6, sn, th_our6,
				   lla(o, ND_OPT_SLLA, th_peer_mac), 8), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_INVALID], 2);
	ck_assert_str_eq(state_of(s, th_our6), "tentative");
	th_advance(s, 2100);
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(nevents, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_unsolicited_na)
{
	struct stack *s = th_stack_new6(NULL);

	/* RFC 4861 7.2.5: no entry, no new entry. */
	stack_input(s, f, na_frame(th_peer6, th_our6, th_peer6,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE,
				   th_peer_mac), 0);
	stack_input(s, f, na_frame(th_peer6, th_all_nodes6, th_peer6,
				   ND_NA_OVERRIDE, th_peer_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NA_RX], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_UNSOLICITED], 2);
	ck_assert_uint_eq(nd_entries(s), 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	th_check_leaks6(s, 0, 0);
	th_stack_free(s);
}
END_TEST

/* The MAC an echo reply to the peer goes to now. */
static void expect_reply_at(struct stack *s, const uint8_t *mac)
{
	struct ip6_hdr h;
	struct icmp6_hdr ih;

	th_frames_clear();
	stack_input(s, f, th_echo6_frame(f, th_peer6, th_our6, 7, 1, "ping",
					 4), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_icmp6(th_frame(0), mac, &h, &ih);
	ck_assert_uint_eq(ih.type, ICMP6_ECHO_REPLY);
	th_frames_clear();
}

START_TEST(test_na_updates_entry)
{
	struct stack *s = th_stack_new6(NULL);
	uint8_t mac[ETH_ALEN];

	th_learn6(s, th_peer_mac, th_peer6);
	/* An unsolicited NA with override announces a new link address
	 * (RFC 4861 7.2.6): the entry takes it. */
	stack_input(s, f, na_frame(th_peer6, th_all_nodes6, th_peer6,
				   ND_NA_OVERRIDE, th_peer2_mac), 0);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer2_mac, ETH_ALEN);
	expect_reply_at(s, th_peer2_mac);
	/* A solicited one with override the same. */
	stack_input(s, f, na_frame(th_peer6, th_our6, th_peer6,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE,
				   th_peer_mac), 0);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	expect_reply_at(s, th_peer_mac);
	ck_assert_uint_eq(nd_entries(s), 1);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_na_without_override)
{
	struct stack *s = th_stack_new6(NULL);
	uint8_t mac[ETH_ALEN];

	th_learn6(s, th_peer_mac, th_peer6);
	/* RFC 4861 7.2.5: with the override flag clear, a link address that
	 * differs from the cached one must not replace it (a proxy or an
	 * anycast answer does not take over a known neighbour). */
	stack_input(s, f, na_frame(th_peer6, th_our6, th_peer6,
				   ND_NA_SOLICITED, th_peer2_mac), 0);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	stack_input(s, f, na_frame(th_peer6, th_all_nodes6, th_peer6, 0,
				   th_peer2_mac), 0);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_NO_OVERRIDE], 2);
	expect_reply_at(s, th_peer_mac);
	/* The same address without override is a confirmation. */
	stack_input(s, f, na_frame(th_peer6, th_our6, th_peer6,
				   ND_NA_SOLICITED, th_peer_mac), 0);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

/* frame f (n bytes, an IPv6 packet without extension headers) with an
 * atomic Fragment header inserted after the fixed header. */
static size_t in_atomic_fragment(size_t n)
{
	uint8_t *ip = f + ETH_HLEN;
	size_t pl = n - ETH_HLEN - IP6_HLEN;

	memmove(ip + IP6_HLEN + 8, ip + IP6_HLEN, pl);
	ip[IP6_HLEN] = ip[6];
	memset(ip + IP6_HLEN + 1, 0, 7);
	ip[IP6_HLEN + 7] = 0x42; /* identification */
	ip[6] = IP6_NH_FRAGMENT;
	put_be16(ip + 4, (uint16_t)(pl + 8));
	return n + 8;
}

START_TEST(test_nd_in_fragment)
{
	struct stack *s;

	/* RFC 6980: ND in a fragment, even an atomic one, is ignored. */
	s = th_stack_new6(NULL);
	stack_input(s, f, in_atomic_fragment(ns_frame(th_peer6, th_our6)), 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_ATOMIC_FRAG], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_FRAGMENTED], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NS_RX], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(nd_entries(s), 0);
	th_stack_free(s);
	/* Not even to fail DAD. */
	s = dad_stack(NULL);
	stack_input(s, f, in_atomic_fragment(na_frame(th_our6, th_all_nodes6,
						      th_our6, ND_NA_OVERRIDE,
						      th_peer_mac)),
		    0);
	stack_input(s, f, in_atomic_fragment(ns_frame(th_any6, th_our6)), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_FRAGMENTED], 2);
	ck_assert_str_eq(state_of(s, th_our6), "tentative");
	th_advance(s, 2100);
	ck_assert_str_eq(state_of(s, th_our6), "preferred");
	ck_assert_uint_eq(nevents, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_router_messages_ignored)
{
	static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
	struct stack *s = th_stack_new6(NULL);
	uint8_t ra[8 + 8 + 32] = {0}, redirect[32 + 8];
	union inany far = inany_from_v6(th_far6);
	size_t n;

	/* A router solicitation (to all-routers, which we are not: Ethernet
	 * takes it on our MAC), an advertisement offering a default route
	 * and a prefix, and a redirect from a node that is not our router:
	 * counted, never acted on. */
	n = icmp_frame(ICMP6_ND_RS, 0, 0, th_peer6_ll, all_routers, 255,
		       lla(ra, ND_OPT_SLLA, th_peer_mac), 8, th_peer_mac);
	memcpy(f, th_our_mac, ETH_ALEN);
	stack_input(s, f, n, 0);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_NOT_US], 1);
	n = icmp_frame(ICMP6_ND_RS, 0, 0, th_peer6_ll, th_all_nodes6, 255,
		       ra, 8, th_peer_mac);
	stack_input(s, f, n, 0);
	memset(ra, 0, sizeof(ra));
	lla(ra + 8, ND_OPT_SLLA, th_gw_mac);
	ra[16] = ND_OPT_PREFIX;
	ra[17] = 4;
	ra[18] = 64;
	ra[19] = 0xc0;
	memset(ra + 20, 0xff, 8);
	memcpy(ra + 32, th_far6, 16);
	stack_input(s, f, icmp_frame(ICMP6_ND_RA, 0, 64u << 24 | 1800,
				     th_gw6, th_all_nodes6, 255, ra,
				     sizeof(ra), th_gw_mac), 0);
	memcpy(redirect, th_gw6, 16);
	memcpy(redirect + 16, th_far6, 16);
	lla(redirect + 32, ND_OPT_TLLA, th_gw_mac);
	stack_input(s, f, icmp_frame(ICMP6_ND_REDIRECT, 0, 0, th_peer6_ll,
				     th_our_ll6(s), 255, redirect,
				     sizeof(redirect), th_peer_mac), 0);
	/* The redirect is not from our router (gateway6): refused. */
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_IGNORED], 2);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_DROP_REDIRECT], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_REDIRECT_OK], 0);
	ck_assert_uint_eq(th_frame_count(), 0);
	ck_assert_uint_eq(nd_entries(s), 0);
	ck_assert_int_eq(l3_reachable(s, &far), -EHOSTUNREACH);
	th_stack_free(s);
}
END_TEST

/* ---- Resolution --------------------------------------------------------------- */

static int send_to(struct stack *s, const uint8_t *dst, const char *data)
{
	struct udp_dst d = {.addr = inany_from_v6(dst), .port = 9};

	return udp_output(s, 5000, &d, data, strlen(data));
}

/* Assert frame fr is our multicast solicitation for target, from src. */
static void expect_resolve_ns(const struct th_frame *fr, const uint8_t *src,
			      const uint8_t *target)
{
	uint8_t sn[16], mac[ETH_ALEN];

	th_solicited6(target, sn);
	th_mcast_mac6(sn, mac);
	expect_ns(fr, mac, src, sn, target, true);
}

START_TEST(test_resolve)
{
	struct stack *s = th_stack_new6(NULL);
	char data[2] = "0";

	/* RFC 4861 7.2.2: a solicitation to the solicited-node group with
	 * our link address; what is sent meanwhile waits, a bounded queue
	 * (arp_queue_len = 3). */
	for (unsigned i = 0; i < 5; i++) {
		data[0] = (char)('0' + i);
		ck_assert_int_eq(send_to(s, th_peer6, data),
				 i < 3 ? 0 : -ENOBUFS);
	}
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_resolve_ns(th_frame(0), th_our6, th_peer6);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_QUEUE_DROP], 2);
	ck_assert_uint_eq(nd_entries(s), 1);
	/* The answer lets the three out, in order. */
	stack_input(s, f, na_frame(th_peer6, th_our6, th_peer6,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE,
				   th_peer_mac), 0);
	ck_assert_uint_eq(th_frame_count(), 4);
	for (unsigned i = 0; i < 3; i++) {
		struct ip6_hdr h;
		struct udp_hdr uh;
		struct cur c = th_expect_udp6(th_frame(1 + i), th_peer_mac, &h,
					      &uh);

		ck_assert_uint_eq(c.len, 1);
		ck_assert_uint_eq(c.p[0], '0' + i);
	}
	/* Resolved: the next goes at once. */
	ck_assert_int_eq(send_to(s, th_peer6, "5"), 0);
	ck_assert_uint_eq(th_frame_count(), 5);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_NS_TX], 1);
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_resolve_link_local)
{
	struct stack *s = th_stack_new6(NULL);

	/* A link-local neighbour is asked from our link-local address. */
	ck_assert_int_eq(send_to(s, th_peer6_ll, "x"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	expect_resolve_ns(th_frame(0), th_our_ll6(s), th_peer6_ll);
	th_stack_free(s);
}
END_TEST

START_TEST(test_resolve_na_without_tlla)
{
	struct stack *s = th_stack_new6(NULL);

	/* An answer that does not say where the neighbour is resolves
	 * nothing (RFC 4861 7.2.5: INCOMPLETE and no TLLA). */
	ck_assert_int_eq(send_to(s, th_peer6, "x"), 0);
	stack_input(s, f, nd_frame(ICMP6_ND_NA,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE, th_peer6,
				   th_our6, th_peer6, NULL, 0), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert(!th_nd_lookup(s, th_peer6, (uint8_t[ETH_ALEN]){0}));
	th_stack_free(s);
}
END_TEST

START_TEST(test_resolve_fails)
{
	struct stack *s = th_stack_new6(NULL);

	/* RFC 4861 7.3.3: MAX_MULTICAST_SOLICIT (3) solicitations,
	 * RetransTimer apart, then give up and drop what waits. */
	ck_assert_int_eq(send_to(s, th_peer6, "x"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 999);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 1);
	ck_assert_uint_eq(th_frame_count(), 2);
	th_advance(s, 1000);
	ck_assert_uint_eq(th_frame_count(), 3);
	for (size_t i = 0; i < 3; i++)
		expect_resolve_ns(th_frame(i), th_our6, th_peer6);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_RESOLVE_FAIL], 0);
	th_advance(s, 1000);
	ck_assert_uint_eq(th_frame_count(), 3);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_RESOLVE_FAIL], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_UNRESOLVED_DROP], 1);
	ck_assert_uint_eq(nd_entries(s), 0);
	th_check_leaks6(s, 0, 0);
	/* A later datagram starts over. */
	ck_assert_int_eq(send_to(s, th_peer6, "y"), 0);
	ck_assert_uint_eq(th_frame_count(), 4);
	th_stack_free(s);
}
END_TEST

struct nd_state_arg {
	const uint8_t *addr;
	const char *state;
};

static void nd_state_visit(void *arg, const union inany *addr,
			   const uint8_t *mac, const char *state,
			   uint64_t age_ms)
{
	struct nd_state_arg *a = arg;

	(void)mac;
	(void)age_ms;
	if (memcmp(addr->a, a->addr, 16) == 0)
		a->state = state;
}

/* The NUD state name of addr's cache entry, "none" without one. */
static const char *nd_state_of(struct stack *s, const uint8_t *addr)
{
	struct nd_state_arg a = {addr, "none"};

	neigh_foreach(&s->nd, nd_state_visit, &a);
	return a.state;
}

START_TEST(test_reachability_recheck)
{
	struct stack *s = th_stack_new6(NULL);

	/* Neighbor Unreachability Detection (RFC 4861 7.3): learnt from
	 * its solicitation, the neighbour is STALE and usable; the first
	 * packet sent makes it DELAY, and five seconds later, unconfirmed,
	 * PROBE: a unicast solicitation to its cached address. */
	th_learn6(s, th_peer_mac, th_peer6);
	ck_assert_str_eq(nd_state_of(s, th_peer6), "stale");
	th_advance(s, 15000);
	ck_assert_int_eq(send_to(s, th_peer6, "x"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_str_eq(nd_state_of(s, th_peer6), "delay");
	th_advance(s, 4999);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_advance(s, 1);
	ck_assert_uint_eq(th_frame_count(), 2);
	ck_assert_str_eq(nd_state_of(s, th_peer6), "probe");
	expect_ns(th_frame(1), th_peer_mac, th_our6, th_peer6, th_peer6, true);
	/* Still usable meanwhile. */
	ck_assert_int_eq(send_to(s, th_peer6, "y"), 0);
	ck_assert_uint_eq(th_frame_count(), 3);
	/* The answer makes it reachable again. */
	stack_input(s, f, na_frame(th_peer6, th_our6, th_peer6,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE,
				   th_peer_mac), 0);
	ck_assert_uint_eq(nd_entries(s), 1);
	ck_assert_str_eq(nd_state_of(s, th_peer6), "reachable");
	/* Unused, it goes STALE after ReachableTime and stays usable. */
	th_advance(s, 30000);
	ck_assert_str_eq(nd_state_of(s, th_peer6), "stale");
	th_check_leaks6(s, 0, 1);
	th_stack_free(s);
}
END_TEST

START_TEST(test_probe_unanswered)
{
	struct stack *s = th_stack_new6(NULL);

	/* A probed neighbour that never answers goes after
	 * MAX_UNICAST_SOLICIT (3) solicitations, RetransTimer apart. */
	th_learn6(s, th_peer_mac, th_peer6);
	ck_assert_int_eq(send_to(s, th_peer6, "x"), 0);
	th_advance(s, 5000);
	ck_assert_str_eq(nd_state_of(s, th_peer6), "probe");
	th_advance(s, 2000);
	ck_assert_uint_eq(th_frame_count(), 4); /* x and three probes */
	for (size_t i = 1; i < 4; i++)
		expect_ns(th_frame(i), th_peer_mac, th_our6, th_peer6,
			  th_peer6, true);
	ck_assert_uint_eq(nd_entries(s), 1);
	th_advance(s, 1000);
	ck_assert_uint_eq(nd_entries(s), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_RESOLVE_FAIL], 1);
	th_check_leaks6(s, 0, 0);
	th_stack_free(s);
}
END_TEST

START_TEST(test_stale_evicted_first)
{
	struct stack_params p;
	struct stack *s;
	uint8_t peer2[16], peer3[16];
	static const uint8_t mac3[ETH_ALEN] = {0x02, 0, 0, 0, 0x33, 0x33};

	/* RFC 6583 7.1: with the cache full, a STALE entry makes room
	 * before a REACHABLE one. */
	th_params6(&p);
	p.arp_cache_size = 2;
	s = th_stack_new6(&p);
	memcpy(peer2, th_peer6, 16);
	peer2[15] ^= 0x40;
	memcpy(peer3, th_peer6, 16);
	peer3[15] ^= 0x20;
	th_learn6(s, th_peer_mac, th_peer6); /* STALE */
	th_learn6(s, th_gw_mac, peer2);
	stack_input(s, f, na_frame(peer2, th_our6, peer2,
				   ND_NA_SOLICITED | ND_NA_OVERRIDE, th_gw_mac),
		    0);
	th_advance(s, 10);
	ck_assert_str_eq(nd_state_of(s, peer2), "reachable");
	/* A third neighbour: the STALE one goes, although younger. */
	th_learn6(s, mac3, peer3);
	ck_assert(th_nd_lookup(s, peer3, (uint8_t[ETH_ALEN]){0}));
	ck_assert(!th_nd_lookup(s, th_peer6, (uint8_t[ETH_ALEN]){0}));
	ck_assert(th_nd_lookup(s, peer2, (uint8_t[ETH_ALEN]){0}));
	th_stack_free(s);
}
END_TEST


/* ---- MLDv2 (RFC 3810) ------------------------------------------------------- */

/* Assert fr is an MLDv2 report (5.2): to ff02::16 at 33:33:00:00:00:16,
 * hop limit 1, a Hop-by-Hop header with a Router Alert, a valid checksum,
 * from src; records of type rtype, no sources; returns how many, with
 * their groups in groups[]. */
static unsigned expect_report(const struct th_frame *fr, const uint8_t *src,
			      uint8_t rtype, uint8_t groups[][16])
{
	static const uint8_t mldv2[16] = {0xff, 0x02, [15] = 0x16};
	static const uint8_t mac[ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 0x16};
	struct ip6_hdr h;
	struct cur c = th_expect_ip6(fr, mac, &h);
	const uint8_t *hbh, *m;
	size_t mlen;
	unsigned n;

	ck_assert_mem_eq(h.dst, mldv2, 16);
	ck_assert_mem_eq(h.src, src, 16);
	ck_assert_uint_eq(h.hop_limit, 1);
	ck_assert_uint_eq(h.next, IP6_NH_HOPOPTS);
	hbh = cur_pull(&c, 8);
	ck_assert_ptr_nonnull(hbh);
	ck_assert_uint_eq(hbh[0], IP6_NH_ICMP6);
	ck_assert_uint_eq(hbh[2], IP6_OPT_ROUTER_ALERT);
	ck_assert_uint_eq(hbh[3], 2);
	ck_assert_uint_eq(be16(hbh + 4), 0); /* MLD */
	m = c.p;
	mlen = c.len;
	ck_assert_uint_ge(mlen, ICMP6_HLEN);
	ck_assert_uint_eq(m[0], ICMP6_MLD2_REPORT);
	ck_assert_uint_eq(csum_fold(csum_partial(m, mlen,
						 th_pseudo6(h.src, h.dst,
							    IP6_NH_ICMP6,
							    mlen))),
			  0);
	n = be16(m + 6);
	ck_assert_uint_eq(mlen, ICMP6_HLEN + (size_t)n * 20);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *r = m + ICMP6_HLEN + i * 20;

		ck_assert_uint_eq(r[0], rtype);
		ck_assert_uint_eq(r[1], 0);
		ck_assert_uint_eq(be16(r + 2), 0);
		memcpy(groups[i], r + 4, 16);
	}
	return n;
}

static bool is_mld(const struct th_frame *fr)
{
	static const uint8_t mac[ETH_ALEN] = {0x33, 0x33, 0, 0, 0, 0x16};

	return fr->len >= ETH_ALEN && memcmp(fr->data, mac, ETH_ALEN) == 0;
}

static bool has_group(uint8_t groups[][16], unsigned n, const uint8_t *addr)
{
	uint8_t g[16];

	th_solicited6(addr, g);
	for (unsigned i = 0; i < n; i++)
		if (memcmp(groups[i], g, 16) == 0)
			return true;
	return false;
}

START_TEST(test_mld_join_reports)
{
	struct stack_params p = dad_params();
	struct stack *s = th_stack_new(&p);
	uint8_t groups[8][16];
	unsigned n;
	size_t i;

	/* Forming the addresses joins their solicited-node groups: a
	 * report at once, from :: while the link-local address is
	 * tentative (5.2.13), and again a second later (Robustness 2). */
	nd6_addr_setup(s);
	ck_assert_uint_eq(th_frame_count(), 1);
	n = expect_report(th_frame(0), th_any6, 4 /* CHANGE_TO_EXCLUDE */,
			  groups);
	ck_assert_uint_eq(n, 2);
	ck_assert(has_group(groups, n, th_our6));
	ck_assert(has_group(groups, n, th_our_ll6(s)));
	ck_assert_uint_eq(s->stats.v[STAT_MLD6_REPORT_TX], 1);
	th_frames_clear();
	th_advance(s, 990); /* (the wheel's 4 ms ticks) */
	for (i = 0; i < th_frame_count(); i++)
		ck_assert(!is_mld(th_frame(i)));
	th_frames_clear();
	th_advance(s, 10);
	ck_assert_uint_ge(th_frame_count(), 1);
	for (i = 0; !is_mld(th_frame(i)); i++)
		ck_assert_uint_lt(i + 1, th_frame_count());
	n = expect_report(th_frame(i), th_any6, 4, groups);
	ck_assert_uint_eq(n, 2);
	th_frames_clear();
	/* After DAD the reports come from the link-local address. */
	th_advance(s, 3000);
	ck_assert_str_eq(state_of(s, th_our_ll6(s)), "preferred");
	th_frames_clear();
	p.naddr6 = 0; /* our6 goes: its group is left */
	stack_update(s, &p);
	ck_assert_uint_ge(th_frame_count(), 2);
	n = expect_report(th_frame(0), th_our_ll6(s), 3 /* TO_INCLUDE */,
			  groups);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_group(groups, n, th_our6));
	n = expect_report(th_frame(1), th_our_ll6(s), 4, groups);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_group(groups, n, th_our_ll6(s)));
	th_stack_free(s);
}
END_TEST

/* An MLD query from src with hop limit hop and Maximum Response Code mrc
 * for group (NULL: general), to ff02::1. */
static size_t query_frame(const uint8_t *src, uint8_t hop, uint16_t mrc,
			  const uint8_t *group)
{
	uint8_t body[20] = {0}, m[ICMP6_HLEN + sizeof(body)];
	struct icmp6_hdr h = {.type = ICMP6_MLD_QUERY};
	size_t n;

	h.rest = (uint32_t)mrc << 16;
	if (group)
		memcpy(body, group, 16);
	n = th_icmp6_write(m, src, th_all_nodes6, &h, body, sizeof(body));
	return th_ip6_frame_raw(f, NULL, th_gw_mac, src, th_all_nodes6,
				IP6_NH_ICMP6, hop, m, n);
}

START_TEST(test_mld_query_answered)
{
	static const uint8_t router_ll[16] = {0xfe, 0x80, [15] = 0xfe};
	static const uint8_t other[16] = {0xff, 0x02, [11] = 1, [12] = 0xff,
					  [13] = 0xab, [14] = 0xcd, [15] = 0xef};
	struct stack *s = th_stack_new6(NULL);
	uint8_t groups[8][16], mine[16];
	unsigned n;
	size_t i;

	/* A general query: the current state (MODE_IS_EXCLUDE) within its
	 * Maximum Response Delay, once. */
	stack_input(s, f, query_frame(router_ll, 1, 500, NULL), 0);
	stack_input(s, f, query_frame(router_ll, 1, 500, NULL), 0);
	ck_assert_uint_eq(s->stats.v[STAT_MLD6_QUERY_RX], 2);
	th_advance(s, 500);
	ck_assert_uint_eq(th_frame_count(), 1);
	n = expect_report(th_frame(0), th_our_ll6(s), 2, groups);
	ck_assert_uint_eq(n, 2);
	th_frames_clear();
	/* A query for a group of ours is answered; for another, not. */
	th_solicited6(th_our6, mine);
	stack_input(s, f, query_frame(router_ll, 1, 100, mine), 0);
	th_advance(s, 100);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_frames_clear();
	stack_input(s, f, query_frame(router_ll, 1, 100, other), 0);
	th_advance(s, 200);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* Not from a link-local source, or not with hop limit 1: invalid
	 * (5.1.14). */
	stack_input(s, f, query_frame(router_ll, 64, 100, NULL), 0);
	stack_input(s, f, query_frame(th_peer6, 1, 100, NULL), 0);
	ck_assert_uint_eq(s->stats.v[STAT_MLD6_DROP_INVALID], 2);
	/* A long delay asked for is capped at ten seconds. */
	stack_input(s, f, query_frame(router_ll, 1, 0xffff, NULL), 0);
	th_advance(s, 10000);
	for (i = 0; i < th_frame_count(); i++)
		ck_assert(is_mld(th_frame(i)));
	ck_assert_uint_eq(th_frame_count(), 1);
	th_stack_free(s);
}
END_TEST

/* A static IPv6 neighbour: neither an overriding advertisement nor a
 * solicitation from another MAC changes it, no timer runs for it, and
 * traffic to it goes to its MAC without a solicitation. */
START_TEST(test_static_neighbour6)
{
	struct stack_params p;
	struct stack *s;
	union inany peer = inany_from_v6(th_peer6);
	uint8_t mac[ETH_ALEN];

	th_params6(&p);
	p.nstatic_neigh = 1;
	p.static_neigh[0].addr = peer;
	memcpy(p.static_neigh[0].mac, th_peer_mac, ETH_ALEN);
	s = th_stack_new6(&p);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	th_confirm6(s, th_other_mac, th_peer6, th_our6);
	{
		/* A solicitation from it with another source link-layer
		 * address (th_learn6() without its check). */
		static uint8_t m[ND_NS_LEN + 8];
		uint8_t fr[ETH_HLEN + IP6_HLEN + sizeof(m)], body[16 + 8];
		struct icmp6_hdr h = {.type = ICMP6_ND_NS};
		struct ip6_hdr ih = {.next = IP6_NH_ICMP6, .hop_limit = 255};
		size_t n;

		memcpy(body, th_our6, 16);
		body[16] = ND_OPT_SLLA;
		body[17] = 1;
		memcpy(body + 18, th_other_mac, ETH_ALEN);
		memcpy(ih.src, th_peer6, 16);
		th_solicited6(th_our6, ih.dst);
		n = th_icmp6_write(m, ih.src, ih.dst, &h, body, sizeof(body));
		stack_input(s, fr, th_ip6_frame(fr, NULL, th_other_mac, &ih, m, n),
			    0);
	}
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	th_advance(s, 3600000);
	ck_assert(th_nd_lookup(s, th_peer6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	ck_assert_uint_eq(s->nd.permanent, 1);
	th_stack_free(s);
}
END_TEST

/* A redirect from our router to an on-link destination that is a static
 * neighbour: taken as a route, but its link-layer option does not move
 * the static entry. */
START_TEST(test_static_neighbour6_redirect)
{
	struct stack_params p;
	struct stack *s;
	uint8_t redirect[32 + 8], mac[ETH_ALEN];

	th_params6(&p);
	memcpy(p.gateway6, th_gw6, 16);
	p.nstatic_neigh = 1;
	p.static_neigh[0].addr = inany_from_v6(th_far6);
	memcpy(p.static_neigh[0].mac, th_peer_mac, ETH_ALEN);
	s = th_stack_new6(&p);
	th_advance(s, 1000);
	th_learn6(s, th_gw_mac, th_gw6);
	memcpy(redirect, th_far6, 16); /* target: the destination itself */
	memcpy(redirect + 16, th_far6, 16);
	lla(redirect + 32, ND_OPT_TLLA, th_other_mac);
	stack_input(s, f, icmp_frame(ICMP6_ND_REDIRECT, 0, 0, th_gw6,
				     th_our_ll6(s), 255, redirect,
				     sizeof(redirect), th_gw_mac), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ND6_REDIRECT_OK], 1);
	ck_assert(th_nd_lookup(s, th_far6, mac));
	ck_assert_mem_eq(mac, th_peer_mac, ETH_ALEN);
	th_frames_clear();
	ck_assert_int_eq(send_to(s, th_far6, "x"), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	ck_assert_mem_eq(th_frame(0)->data, th_peer_mac, ETH_ALEN);
	th_stack_free(s);
}
END_TEST

static Suite *nd6_suite(void)
{
	Suite *su = suite_create("nd6");
	TCase *tc;

	tc = tcase_create("addresses");
	tcase_add_test(tc, test_link_local_stable);
	tcase_add_test(tc, test_link_local_eui64);
	tcase_add_test(tc, test_dad_off);
	tcase_add_test(tc, test_dad_one_probe);
	tcase_add_test(tc, test_dad_three_probes);
	tcase_add_test(tc, test_tentative_not_used);
	tcase_add_test(tc, test_no_datagram_from_unspecified);
	tcase_add_test(tc, test_dad_na_duplicate);
	tcase_add_test(tc, test_dad_ns_from_any);
	tcase_add_test(tc, test_dad_ns_from_unicast);
	tcase_add_test(tc, test_dad_link_local_regenerated);
	tcase_add_test(tc, test_dad_eui64_not_regenerated);
	tcase_add_test(tc, test_update_adds_address);
	suite_add_tcase(su, tc);

	tc = tcase_create("mld");
	tcase_add_test(tc, test_mld_join_reports);
	tcase_add_test(tc, test_mld_query_answered);
	suite_add_tcase(su, tc);

	tc = tcase_create("messages");
	tcase_add_test(tc, test_ns_answered);
	tcase_add_test(tc, test_ns_from_any_answered);
	tcase_add_test(tc, test_ns_not_ours);
	tcase_add_test(tc, test_conflict_counted);
	tcase_add_test(tc, test_validation);
	tcase_add_test(tc, test_validation_dad);
	tcase_add_test(tc, test_unsolicited_na);
	tcase_add_test(tc, test_na_updates_entry);
	tcase_add_test(tc, test_na_without_override);
	tcase_add_test(tc, test_nd_in_fragment);
	tcase_add_test(tc, test_router_messages_ignored);
	suite_add_tcase(su, tc);

	tc = tcase_create("resolution");
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_resolve_link_local);
	tcase_add_test(tc, test_resolve_na_without_tlla);
	tcase_add_test(tc, test_resolve_fails);
	tcase_add_test(tc, test_reachability_recheck);
	tcase_add_test(tc, test_probe_unanswered);
	tcase_add_test(tc, test_stale_evicted_first);
	tcase_add_test(tc, test_static_neighbour6);
	tcase_add_test(tc, test_static_neighbour6_redirect);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(nd6_suite());
}
