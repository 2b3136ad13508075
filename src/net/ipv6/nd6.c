/*
 * Neighbor Discovery (RFC 4861) and our addresses with Duplicate Address
 * Detection (RFC 4862).
 *
 * Theory of operation.  Addresses: s->addr6[0] is the link-local address
 * fe80::/64 with an interface identifier that is RFC 7217's stable one
 * (a keyed hash of the prefix, the MAC and a DAD counter under
 * stack_secrets.iid_key) or the MAC's modified EUI-64; s->addr6[1..] are
 * the configured ones.  Each starts TENTATIVE: after a random delay of up
 * to a second (RFC 4862 5.4.2) we send dad_transmits Neighbor
 * Solicitations from :: to its solicited-node group, nd_retrans_ms apart;
 * if nothing claims it by then it becomes PREFERRED, if a Neighbor
 * Advertisement for it or another node's DAD solicitation for it arrives
 * first it becomes DUPLICATE and is never used (a stable link-local
 * address is then formed again with the next DAD counter, up to
 * ND6_IDGEN_RETRIES times, as RFC 7217 6 says).  A PREFERRED address is
 * defended: a solicitation for it is answered, an advertisement for it
 * from another node is counted as a conflict.
 *
 * Neighbours: the IPv6 entries of the shared neighbour cache (neigh.h),
 * with Neighbor Unreachability Detection (INCOMPLETE, REACHABLE, STALE,
 * DELAY, PROBE; RFC 4861 7.3).  A solicitation for one of our addresses
 * with a source link-layer address teaches us its sender, STALE (it is
 * about to talk to us); an advertisement only updates an entry we have
 * (no entry is created by an unsolicited advertisement), by its
 * solicited and override flags (7.2.5).  The cache asks through nd6_solicit(): a
 * solicitation to the target's solicited-node group, or by unicast to
 * re-check a stale entry.  An address of ours, preferred or tentative, is
 * never asked for nor learnt: it is no neighbour.
 *
 * Validation (RFC 4861 7.1): hop limit 255, code 0, length, a target that
 * is not multicast, options that are well formed (nd_opts_parse()), no
 * source link-layer address from ::, a solicitation from :: only to a
 * solicited-node group, an advertisement to a group never marked
 * solicited.  Router advertisements and solicitations are counted and
 * ignored: our routes are configured, not learnt.  A redirect is taken
 * only from our router (gateway6), as RFC 4861 8.1 requires.
 */
#include "net/core.h"
#include "net/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#include <errno.h>
#include <string.h>

#define ND6_MAX_DAD_DELAY_MS 1000 /* RFC 4861 MAX_RTR_SOLICITATION_DELAY */
#define ND6_IDGEN_RETRIES 3       /* RFC 7217 IDGEN_RETRIES */
#define ND6_QUEUE_BYTES_MAX (2u << 20)
#define ND6_STALE_MS 60000 /* a STALE entry unused this long goes */

static void nd6_dad_timer(struct timer *t, void *arg);

/* ---- Our addresses ---- */

struct addr6 *ip6_addr_find(struct stack *s, const union inany *a)
{
	for (unsigned i = 0; i < s->naddr6; i++)
		if (inany_eq(&s->addr6[i].a, a))
			return &s->addr6[i];
	return NULL;
}

bool ip6_is_local(const struct stack *s, const union inany *a)
{
	for (unsigned i = 0; i < s->naddr6; i++)
		if (s->addr6[i].state == ADDR6_PREFERRED &&
		    inany_eq(&s->addr6[i].a, a))
			return true;
	return false;
}

/* The RFC 5453 identifiers no interface may use: all zero, and the
 * reserved subnet anycast range fdff:ffff:ffff:ff80-ff. */
static bool iid_reserved(const uint8_t *iid)
{
	static const uint8_t zero[8];
	static const uint8_t anycast[7] = {0xfd, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff};

	return memcmp(iid, zero, 8) == 0 ||
	       (memcmp(iid, anycast, 7) == 0 && iid[7] >= 0x80);
}

/* The link-local address fe80::IID for s. */
static union inany nd6_link_local(struct stack *s)
{
	union inany a = {.a = {0xfe, 0x80}};

	if (s->p.iid_eui64) {
		/* RFC 4291 appendix A: the MAC with ff:fe in the middle and
		 * the universal/local bit inverted. */
		a.a[8] = s->p.mac[0] ^ 0x02;
		a.a[9] = s->p.mac[1];
		a.a[10] = s->p.mac[2];
		a.a[11] = 0xff;
		a.a[12] = 0xfe;
		memcpy(a.a + 13, s->p.mac + 3, 3);
		return a;
	}
	/* RFC 7217 5: F(Prefix, Net_Iface, Network_ID, DAD_Counter,
	 * secret_key), with the MAC naming the interface and no
	 * Network_ID; a reserved result takes the next counter. */
	for (;;) {
		uint8_t b[8 + ETH_ALEN + 1];
		uint64_t h;

		memcpy(b, a.a, 8);
		memcpy(b + 8, s->p.mac, ETH_ALEN);
		b[8 + ETH_ALEN] = s->ll_dad_counter;
		h = tapir_siphash24(b, sizeof(b), s->iid_key);
		for (unsigned i = 0; i < 8; i++)
			a.a[8 + i] = (uint8_t)(h >> (56 - 8 * i));
		if (!iid_reserved(a.a + 8))
			return a;
		s->ll_dad_counter++;
	}
}

/* A pseudo-random number for the DAD delays: a keyed hash of a counter.
 * Nothing rides on it being unpredictable; it keeps hosts that start
 * together from soliciting together. */
uint32_t nd6_random(struct stack *s)
{
	uint64_t h = tapir_siphash24_12(s->frag6_key, ++s->nd6_rand,
					(uint32_t)stack_now(s));

	return (uint32_t)(h >> 32);
}

static void nd6_dad_start(struct stack *s, struct addr6 *a)
{
	a->s = s;
	timer_init(&a->timer, nd6_dad_timer, a);
	if (!s->p.dad) {
		a->state = ADDR6_PREFERRED;
		return;
	}
	a->state = ADDR6_TENTATIVE;
	a->dad_left = (uint8_t)(s->p.dad_transmits ? s->p.dad_transmits : 1);
	timer_arm(&s->timers, &a->timer, stack_now(s),
		  nd6_random(s) % ND6_MAX_DAD_DELAY_MS);
}

void nd6_addr_setup(struct stack *s)
{
	struct addr6 old[STACK_MAX_ADDR6 + 1];
	unsigned nold = s->naddr6, n = 0;
	union inany want[STACK_MAX_ADDR6 + 1];
	unsigned prefix[STACK_MAX_ADDR6 + 1];

	memcpy(old, s->addr6, sizeof(old));
	for (unsigned i = 0; i < nold; i++)
		timer_cancel(&s->timers, &s->addr6[i].timer);
	if (s->p.ipv6 && s->p.mtu >= IP6_MIN_MTU) {
		want[n] = nd6_link_local(s);
		prefix[n++] = 64;
		for (unsigned i = 0; i < s->p.naddr6 && i < STACK_MAX_ADDR6;
		     i++) {
			want[n] = inany_from_v6(s->p.addr6[i].addr);
			prefix[n++] = s->p.addr6[i].prefix;
		}
	}
	memset(s->addr6, 0, sizeof(s->addr6));
	s->naddr6 = n;
	for (unsigned i = 0; i < n; i++) {
		struct addr6 *a = &s->addr6[i];
		const struct addr6 *was = NULL;

		a->a = want[i];
		a->prefix = prefix[i];
		for (unsigned j = 0; j < nold; j++)
			if (inany_eq(&old[j].a, &want[i]))
				was = &old[j];
		if (was && was->state != ADDR6_TENTATIVE) {
			/* Kept across a change: checked already. */
			a->s = s;
			timer_init(&a->timer, nd6_dad_timer, a);
			a->state = was->state;
			continue;
		}
		nd6_dad_start(s, a);
	}
	mld6_groups_changed(s);
}

/* ---- Sending ---- */

/* RFC 4861 7.2.4: a router's advertisements say so. */
static uint32_t nd6_router_flag(const struct stack *s)
{
	return s->router_refs ? ND_NA_ROUTER : 0;
}

void stack_set_router(struct stack *s, bool on)
{
	union inany g = inany_from_v6(ip6_all_routers);

	/* One membership of all-routers for the role, taken when the first
	 * asks and given back with the last, and only if it was taken: a
	 * join that failed (the table full) must not be matched by a leave
	 * that drops somebody else's membership of the group. */
	if (on) {
		if (s->router_refs++ == 0 && s->p.ipv6)
			s->router_joined = stack_mcast6_join(s, &g) == 0;
		return;
	}
	if (!s->router_refs)
		return;
	if (--s->router_refs == 0 && s->router_joined) {
		s->router_joined = false;
		stack_mcast6_leave(s, &g);
	}
}

/* Send an ND message (type, the word after the checksum, target, and a
 * link-layer address option of opt_type unless 0) from src to dst, to
 * the link address mac (NULL: resolve dst). */
static void nd6_send(struct stack *s, uint8_t type, uint32_t flags,
		     const union inany *src, const union inany *dst,
		     const uint8_t *mac, const union inany *target,
		     uint8_t opt_type)
{
	struct pbuf *pb = &s->arp_tx;
	struct icmp6_hdr h = {.type = type, .rest = flags};
	size_t len = ND_NS_LEN + (opt_type ? 8 : 0);
	uint8_t *p;

	pbuf_reset(pb);
	p = pbuf_put(pb, len);
	icmp6_hdr_write(p, &h);
	memcpy(p + ICMP6_HLEN, target->a, 16);
	if (opt_type)
		nd_opt_lla_write(p + ND_NS_LEN, opt_type, s->p.mac);
	put_be16(p + 2, csum_fold(csum_partial(p, len,
					       l3_pseudo(src, dst, IP6_NH_ICMP6,
							 len))));
	STAT_INC(&s->stats, ICMP6_TX);
	s->stats.v[type == ICMP6_ND_NS ? STAT_ND6_NS_TX : STAT_ND6_NA_TX]++;
	ip6_output(s, src, dst, IP6_NH_ICMP6, ND_HOP_LIMIT, mac, pb, NULL);
}

/* Whether a is an address of ours, preferred or still tentative: never a
 * neighbour.  Asking the link who has it is DAD's alone, from ::
 * (RFC 4862 5.4.2); a packet on the wire from it is another node's or a
 * forgery, and what we send back to it waits for no one. */
static bool nd6_is_ours(struct stack *s, const union inany *a)
{
	const struct addr6 *ad = ip6_addr_find(s, a);

	return ad && ad->state != ADDR6_DUPLICATE;
}

/* The cache asks for addr's link address: by multicast to its
 * solicited-node group, or by unicast to mac to re-check it. */
static void nd6_solicit(struct stack *s, const union inany *addr,
			const uint8_t *mac)
{
	union inany src = ip6_source(s, addr), dst = *addr;

	if (inany_is_unspec(&src))
		return; /* :: is for DAD only */
	if (nd6_is_ours(s, addr))
		return; /* the entry times out with what waits in it */
	if (!mac)
		ip6_solicited_node(addr->a, dst.a);
	nd6_send(s, ICMP6_ND_NS, 0, &src, &dst, mac, addr, ND_OPT_SLLA);
}

static void nd6_dad_timer(struct timer *t, void *arg)
{
	struct addr6 *a = arg;
	struct stack *s = a->s;
	union inany any = INANY_ANY, group = INANY_ANY;

	(void)t;
	if (a->state != ADDR6_TENTATIVE)
		return;
	if (a->dad_left) {
		a->dad_left--;
		ip6_solicited_node(a->a.a, group.a);
		/* From ::, without a source link-layer address (RFC 4862
		 * 5.4.2). */
		nd6_send(s, ICMP6_ND_NS, 0, &any, &group, NULL, &a->a, 0);
		timer_arm(&s->timers, &a->timer, stack_now(s),
			  s->p.nd_retrans_ms);
		return;
	}
	a->state = ADDR6_PREFERRED;
	STAT_INC(&s->stats, ND6_DAD_OK);
}

/* a is someone else's (RFC 4862 5.4.5). */
static void nd6_dad_failed(struct stack *s, struct addr6 *a)
{
	STAT_INC(&s->stats, ND6_DAD_DUPLICATE);
	timer_cancel(&s->timers, &a->timer);
	a->state = ADDR6_DUPLICATE;
	stack_event(s, STACK_EV_ADDR6_DUPLICATE, &a->a, NULL);
	/* A stable link-local identifier gets another try (RFC 7217 6). */
	if (a == &s->addr6[0] && !s->p.iid_eui64 &&
	    s->ll_dad_counter < ND6_IDGEN_RETRIES) {
		s->ll_dad_counter++;
		a->a = nd6_link_local(s);
		nd6_dad_start(s, a);
	}
	mld6_groups_changed(s);
}

/* ---- Input ---- */

static void nd6_ns_input(struct stack *s, struct cur msg,
			 const struct l3_rx *rx, const struct nd_opts *o,
			 const union inany *target)
{
	bool from_any = ip6_is_unspecified(rx->src.a);
	struct addr6 *a;
	union inany dst;

	STAT_INC(&s->stats, ND6_NS_RX);
	(void)msg;
	if (from_any) {
		uint8_t sn[16];

		/* DAD: to the target's solicited-node group, no SLLAO. */
		ip6_solicited_node(target->a, sn);
		if (o->slla || memcmp(rx->dst.a, sn, 16) != 0) {
			STAT_INC(&s->stats, ND6_DROP_INVALID);
			return;
		}
	}
	a = ip6_addr_find(s, target);
	if (!a || a->state == ADDR6_DUPLICATE) {
		STAT_INC(&s->stats, ND6_DROP_NOT_US);
		return;
	}
	if (a->state == ADDR6_TENTATIVE) {
		/* Another node checks the same address: neither may have
		 * it (RFC 4862 5.4.3).  A solicitation from a unicast
		 * source is for a node that has it; not us yet. */
		if (from_any)
			nd6_dad_failed(s, a);
		return;
	}
	if (from_any) {
		/* Answer a DAD probe for our address to all nodes. */
		dst = inany_from_v6(ip6_all_nodes);
		nd6_send(s, ICMP6_ND_NA, ND_NA_OVERRIDE | nd6_router_flag(s),
			 &a->a, &dst, NULL,
			 target, ND_OPT_TLLA);
		return;
	}
	/* The asker is about to talk to us: learn it, unconfirmed (RFC
	 * 4861 7.2.3), unless it claims an address of ours. */
	if (o->slla && !nd6_is_ours(s, &rx->src))
		neigh_update(&s->nd, &rx->src, o->slla, NEIGH_CREATE);
	nd6_send(s, ICMP6_ND_NA,
		 ND_NA_SOLICITED | ND_NA_OVERRIDE | nd6_router_flag(s), &a->a,
		 &rx->src, o->slla ? o->slla : rx->src_mac, target,
		 ND_OPT_TLLA);
}

static void nd6_na_input(struct stack *s, const struct l3_rx *rx,
			 uint32_t flags, const struct nd_opts *o,
			 const union inany *target)
{
	struct addr6 *a;
	uint8_t mac[ETH_ALEN];

	STAT_INC(&s->stats, ND6_NA_RX);
	if (rx->l3_multi && (flags & ND_NA_SOLICITED)) {
		STAT_INC(&s->stats, ND6_DROP_INVALID);
		return;
	}
	a = ip6_addr_find(s, target);
	if (a) {
		if (a->state == ADDR6_TENTATIVE)
			nd6_dad_failed(s, a);
		else if (a->state == ADDR6_PREFERRED)
			STAT_INC(&s->stats, ND6_CONFLICT);
		return;
	}
	/* Only an entry we have learns from an advertisement (7.2.5);
	 * without the override flag a link address other than the one we
	 * know does not replace it (the entry only goes STALE). */
	if (o->tlla && !(flags & ND_NA_OVERRIDE) &&
	    neigh_lookup(&s->nd, target, mac) == 0 &&
	    memcmp(mac, o->tlla, ETH_ALEN) != 0)
		STAT_INC(&s->stats, ND6_DROP_NO_OVERRIDE);
	if (!neigh_update(&s->nd, target, o->tlla,
			  (flags & ND_NA_SOLICITED ? NEIGH_SOLICITED : 0) |
				  (flags & ND_NA_OVERRIDE ? NEIGH_OVERRIDE : 0)))
		STAT_INC(&s->stats, ND6_DROP_UNSOLICITED);
}

/* ---- Redirects (RFC 4861 8) ---- */

bool nd6_redirected(struct stack *s, const uint8_t *dst, union inany *hop)
{
	uint64_t now;

	for (unsigned i = 0; i < ND6_REDIRECTS; i++) {
		struct nd6_redirect *r = &s->redir6[i];

		if (!r->updated || memcmp(r->dst.a, dst, 16) != 0)
			continue;
		now = stack_now(s);
		if (now - r->updated >= ND6_REDIRECT_MS) {
			r->updated = 0;
			return false;
		}
		*hop = r->target;
		return true;
	}
	return false;
}

/* Whether src is our router: the gateway's address, or the address of
 * the same link-layer node (a router sends redirects from its link-local
 * address, and gateway6 may name a global one). */
static bool nd6_from_router(struct stack *s, const struct l3_rx *rx)
{
	union inany gw = inany_from_v6(s->p.gateway6);
	uint8_t mac[ETH_ALEN];

	if (ip6_is_unspecified(s->p.gateway6))
		return false;
	if (inany_eq(&gw, &rx->src))
		return true;
	return neigh_lookup(&s->nd, &gw, mac) == 0 &&
	       memcmp(mac, rx->src_mac, ETH_ALEN) == 0;
}

/* A redirect (8.1 validation, 8.3 processing): from our router, about a
 * unicast destination, to a target that is a router on the link
 * (link-local) or the destination itself.  The better hop is remembered
 * for ND6_REDIRECT_MS, in a table of ND6_REDIRECTS (the oldest goes). */
static void nd6_redirect_input(struct stack *s, struct cur c,
			       const struct l3_rx *rx, const struct icmp6_hdr *h)
{
	const uint8_t *target, *dst;
	struct nd_opts o;
	struct nd6_redirect *slot = NULL;

	STAT_INC(&s->stats, ND6_REDIRECT_RX);
	if (rx->hop_limit != ND_HOP_LIMIT || h->code != 0 ||
	    !ip6_is_linklocal(rx->src.a) || !(target = cur_pull(&c, 16)) ||
	    !(dst = cur_pull(&c, 16)) || ip6_is_multicast(dst) ||
	    (!ip6_is_linklocal(target) && memcmp(target, dst, 16) != 0) ||
	    !nd_opts_parse(c, &o)) {
		STAT_INC(&s->stats, ND6_DROP_INVALID);
		return;
	}
	if (!nd6_from_router(s, rx)) {
		STAT_INC(&s->stats, ND6_DROP_REDIRECT);
		return;
	}
	if (o.tlla) {
		union inany t = inany_from_v6(target);

		neigh_update(&s->nd, &t, o.tlla, NEIGH_CREATE);
	}
	for (unsigned i = 0; i < ND6_REDIRECTS; i++) {
		struct nd6_redirect *r = &s->redir6[i];

		if (r->updated && memcmp(r->dst.a, dst, 16) == 0) {
			slot = r;
			break;
		}
		if (!slot || r->updated < slot->updated)
			slot = r;
	}
	slot->dst = inany_from_v6(dst);
	slot->target = inany_from_v6(target);
	slot->updated = stack_now(s) ? stack_now(s) : 1;
	STAT_INC(&s->stats, ND6_REDIRECT_OK);
}

void nd6_input(struct stack *s, struct cur msg, const struct l3_rx *rx,
	       bool tentative)
{
	struct cur c = msg;
	struct icmp6_hdr h;
	struct nd_opts o;
	const uint8_t *t;
	union inany target;

	(void)tentative;
	STAT_INC(&s->stats, ND6_RX);
	if (!icmp6_hdr_parse(&c, &h))
		return;
	if (h.type == ICMP6_ND_REDIRECT) {
		nd6_redirect_input(s, c, rx, &h);
		return;
	}
	if (h.type == ICMP6_ND_RS && s->icmp6_fn &&
	    rx->hop_limit == ND_HOP_LIMIT) {
		/* RS is for routers: a module that advertises takes it. */
		struct stack_icmp6_rx m = {.src = rx->src,
					   .dst = rx->dst,
					   .hop_limit = rx->hop_limit};

		memcpy(m.src_mac, rx->src_mac, ETH_ALEN);
		STAT_INC(&s->stats, ND6_RS_RX);
		s->icmp6_fn(s->icmp6_arg, &m, msg.p, msg.len);
		return;
	}
	if (h.type != ICMP6_ND_NS && h.type != ICMP6_ND_NA) {
		/* Without a router module, RS is not for us; an RA would
		 * teach us routes and addresses, which are configured
		 * here. */
		STAT_INC(&s->stats, ND6_DROP_IGNORED);
		return;
	}
	if (rx->hop_limit != ND_HOP_LIMIT || h.code != 0 ||
	    !(t = cur_pull(&c, 16)) || ip6_is_multicast(t) ||
	    !nd_opts_parse(c, &o)) {
		STAT_INC(&s->stats, ND6_DROP_INVALID);
		return;
	}
	target = inany_from_v6(t);
	if (h.type == ICMP6_ND_NS)
		nd6_ns_input(s, msg, rx, &o, &target);
	else
		nd6_na_input(s, rx, h.rest, &o, &target);
}

/* ---- The cache ---- */

static const struct neigh_ops nd6_ops = {.solicit = nd6_solicit};

static const struct neigh_stat_ids nd6_stat_ids = {
	.queue_drop = STAT_ND6_QUEUE_DROP,
	.unresolved_drop = STAT_ND6_UNRESOLVED_DROP,
	.evict = STAT_ND6_CACHE_EVICT,
	.expire = STAT_ND6_CACHE_EXPIRE,
	.resolve_fail = STAT_ND6_RESOLVE_FAIL,
};

static void nd6_params(const struct stack *s, struct neigh_params *np)
{
	memset(np, 0, sizeof(*np));
	np->size = s->p.arp_cache_size;
	np->timeout_ms = s->p.nd_reachable_ms;
	np->retry_ms = s->p.nd_retrans_ms;
	np->retries = 3; /* RFC 4861 MAX_MULTICAST_SOLICIT */
	np->queue_len = s->p.arp_queue_len;
	np->queue_bytes = ND6_QUEUE_BYTES_MAX;
	np->nud = true;
	np->delay_ms = 5000; /* RFC 4861 DELAY_FIRST_PROBE_TIME */
	np->stale_ms = ND6_STALE_MS;
}

int nd6_init(struct stack *s)
{
	struct neigh_params np;

	mld6_init(s);
	nd6_params(s, &np);
	if (neigh_init(&s->nd, s, &nd6_ops, &nd6_stat_ids, &np) < 0)
		return -ENOMEM;
	nd6_update(s);
	return 0;
}

void nd6_update(struct stack *s)
{
	struct neigh_params np;

	nd6_params(s, &np);
	np.size = s->nd.p.size;
	s->nd.p = np;
	s->nd.keep = inany_from_v6(s->p.gateway6);
	if (ip6_is_unspecified(s->p.gateway6))
		s->nd.keep = INANY_ANY;
}

void nd6_fini(struct stack *s)
{
	mld6_fini(s);
	for (unsigned i = 0; i < s->naddr6; i++)
		timer_cancel(&s->timers, &s->addr6[i].timer);
	s->naddr6 = 0;
	neigh_fini(&s->nd);
}
