/*
 * ARP (RFC 826, with RFC 5227's conflict rules): answer for our address,
 * defend it, and resolve next hops through the neighbour cache (neigh.h),
 * which holds the entries, their states and timers and the packets that
 * wait.  Replies and gratuitous ARPs only update entries that already
 * exist; a request addressed to us teaches us its sender, as RFC 826 says.
 *
 * Address Conflict Detection (RFC 5227), with params.acd: our address is
 * not used until probing has found nobody else on it (ACD_PROBING, 2.1.1:
 * after a random wait of up to PROBE_WAIT, PROBE_NUM probes from 0.0.0.0
 * PROBE_MIN to PROBE_MAX apart, then ANNOUNCE_WAIT of quiet).  While
 * probing, nothing is answered for it and nothing leaves from it (ip4.c),
 * as an IPv6 tentative address.  An ARP packet from another MAC with our
 * address as sender, or another host's probe for it, is a conflict: the
 * address stays unused (ACD_CONFLICT), the host is told with the other
 * MAC, and probing starts again after RATE_LIMIT_INTERVAL, so the address
 * is taken once its other holder leaves.  After probing the address is
 * announced twice (2.3) and is ours.
 *
 * Defence (2.4): of the three policies the RFC allows, (c), defending
 * indefinitely.  tapird's address is configured, and the link's DHCP,
 * DNS and router for its clients hang off it: giving it up to whoever
 * sends an ARP packet, as (a) and the second conflict of (b) would, lets
 * any host on the link switch the services off with one packet.  As (c)
 * requires, at most one defending announcement goes out per
 * DEFEND_INTERVAL, however many conflicting packets come; every conflict
 * is counted, and the host hears of them (with the other MAC) at most
 * twice per interval: the defence and the first conflict after it.
 */
#include "net/core.h"
#include "wire/arp.h"
#include "wire/ip4.h"

#include <errno.h>
#include <string.h>

#define ARP_DEFEND_INTERVAL_MS 10000 /* RFC 5227 DEFEND_INTERVAL */
#define ARP_ANNOUNCE_INTERVAL_MS 2000 /* RFC 5227 ANNOUNCE_INTERVAL */
/* RFC 5227 section 1.1's probing constants. */
#define ACD_PROBE_WAIT_MS 1000
#define ACD_PROBE_NUM 3
#define ACD_PROBE_MIN_MS 1000
#define ACD_PROBE_MAX_MS 2000
#define ACD_ANNOUNCE_WAIT_MS 2000
#define ACD_RATE_LIMIT_INTERVAL_MS 60000
#define ARP_QUEUE_BYTES_MAX (2u << 20) /* over all waiting packets */

static const uint8_t zero_mac[ETH_ALEN];

static void arp_announce_now(struct stack *s);
static void arp_announce_again(struct timer *t, void *arg);
static void acd_timer_fired(struct timer *t, void *arg);

static void arp_send_from(struct stack *s, uint16_t op, const uint8_t *eth_dst,
			  const uint8_t *tha, uint32_t spa, uint32_t tpa)
{
	struct pbuf *pb = &s->arp_tx;
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = op,
		.spa = spa,
		.tpa = tpa,
	};

	memcpy(a.sha, s->p.mac, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	pbuf_reset(pb);
	arp_hdr_write(pbuf_put(pb, ARP_LEN), &a);
	s->stats.v[op == ARP_OP_REQUEST ? STAT_ARP_TX_REQUEST
					 : STAT_ARP_TX_REPLY]++;
	eth_output(s, eth_dst, ETH_TYPE_ARP, pb, NULL);
}

static void arp_send(struct stack *s, uint16_t op, const uint8_t *eth_dst,
		     const uint8_t *tha, uint32_t tpa)
{
	arp_send_from(s, op, eth_dst, tha, s->p.addr, tpa);
}

/* The cache asks: a request by broadcast, or by unicast to re-check.
 * Not while our address is not ours to use (RFC 5227 2.1.1: no ARP with
 * it as sender), nor from 0.0.0.0, which would probe for the
 * neighbour's address; the entry then fails in the usual way. */
static void arp_solicit(struct stack *s, const union inany *addr,
			const uint8_t *mac)
{
	if (!ip4_addr_usable(s))
		return;
	arp_send(s, ARP_OP_REQUEST, mac ? mac : eth_broadcast, zero_mac,
		 inany_v4(addr));
}

static const struct neigh_ops arp_ops = {.solicit = arp_solicit};

static const struct neigh_stat_ids arp_stat_ids = {
	.queue_drop = STAT_ARP_QUEUE_DROP,
	.unresolved_drop = STAT_ARP_UNRESOLVED_DROP,
	.evict = STAT_ARP_CACHE_EVICT,
	.expire = STAT_ARP_CACHE_EXPIRE,
	.resolve_fail = STAT_ARP_RESOLVE_FAIL,
};

static void arp_params(const struct stack *s, struct neigh_params *np)
{
	memset(np, 0, sizeof(*np)); /* no NUD: ARP's own behaviour */
	np->size = s->p.arp_cache_size;
	np->timeout_ms = s->p.arp_timeout_ms;
	np->retry_ms = s->p.arp_retry_ms;
	np->retries = s->p.arp_retries;
	np->queue_len = s->p.arp_queue_len;
	np->queue_bytes = ARP_QUEUE_BYTES_MAX;
}

int arp_init(struct stack *s)
{
	struct neigh_params np;

	timer_init(&s->arp_announce_timer, arp_announce_again, s);
	timer_init(&s->acd_timer, acd_timer_fired, s);
	/* With acd the address waits for arp_start(); else it is ours. */
	s->acd_state = s->p.acd ? ACD_IDLE : ACD_BOUND;
	arp_params(s, &np);
	if (neigh_init(&s->arp, s, &arp_ops, &arp_stat_ids, &np) < 0)
		return -ENOMEM;
	s->p.arp_cache_size = s->arp.p.size;
	arp_update(s);
	return 0;
}

void arp_update(struct stack *s)
{
	struct neigh_params np;

	/* The table is sized once; the rest applies live. */
	arp_params(s, &np);
	np.size = s->arp.p.size;
	s->p.arp_cache_size = np.size;
	s->arp.p = np;
	s->arp.keep = s->p.gateway ? inany_from_v4(s->p.gateway) : INANY_ANY;
}

void arp_fini(struct stack *s)
{
	timer_cancel(&s->timers, &s->arp_announce_timer);
	timer_cancel(&s->timers, &s->acd_timer);
	neigh_fini(&s->arp);
}

int arp_lookup(struct stack *s, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	union inany a = inany_from_v4(ip);

	return neigh_lookup(&s->arp, &a, mac);
}

bool arp_ready(struct stack *s, uint32_t next_hop)
{
	union inany a = inany_from_v4(next_hop);

	return neigh_ready(&s->arp, &a);
}

int arp_output(struct stack *s, uint32_t next_hop, struct pbuf *pb,
	       const struct stack_tx_offload *off, unsigned flags)
{
	union inany a = inany_from_v4(next_hop);

	return neigh_output(&s->arp, &a, ETH_TYPE_IP4, pb, off, flags);
}

static bool arp_sender_ok(const struct stack *s, const struct arp_hdr *a)
{
	static const uint8_t zero[ETH_ALEN];

	if (eth_is_multicast(a->sha) || memcmp(a->sha, zero, ETH_ALEN) == 0)
		return false;
	if (a->spa == 0) /* an RFC 5227 probe */
		return true;
	return !ip4_is_multicast(a->spa) && !ip4_is_loopback(a->spa) &&
	       !ip4_is_broadcast(s, a->spa);
}

/* A random number of ms in [lo, hi]. */
static uint64_t acd_rand(struct stack *s, unsigned lo, unsigned hi)
{
	return lo + nd6_random(s) % (hi - lo + 1);
}

static void acd_probe_start(struct stack *s)
{
	timer_cancel(&s->timers, &s->arp_announce_timer);
	s->acd_state = ACD_PROBING;
	s->acd_probes = 0;
	timer_arm(&s->timers, &s->acd_timer, stack_now(s),
		  acd_rand(s, 0, ACD_PROBE_WAIT_MS));
}

static void acd_timer_fired(struct timer *t, void *arg)
{
	struct stack *s = arg;
	union inany a = inany_from_v4(s->p.addr);

	(void)t;
	if (s->acd_state == ACD_CONFLICT) {
		acd_probe_start(s);
		return;
	}
	if (s->acd_state != ACD_PROBING)
		return;
	if (s->acd_probes < ACD_PROBE_NUM) {
		/* A probe: a request for the address from 0.0.0.0, the
		 * target hardware address zero (RFC 5227 2.1.1). */
		s->acd_probes++;
		STAT_INC(&s->stats, ARP_PROBE_TX);
		arp_send_from(s, ARP_OP_REQUEST, eth_broadcast, zero_mac, 0,
			      s->p.addr);
		timer_arm(&s->timers, &s->acd_timer, stack_now(s),
			  s->acd_probes < ACD_PROBE_NUM
				  ? acd_rand(s, ACD_PROBE_MIN_MS,
					     ACD_PROBE_MAX_MS)
				  : ACD_ANNOUNCE_WAIT_MS);
		return;
	}
	/* ANNOUNCE_WAIT passed in quiet: the address is ours. */
	s->acd_state = ACD_BOUND;
	s->arp_defended = false;
	arp_announce(s);
	stack_event(s, STACK_EV_ADDR4_READY, &a, NULL);
}

/* The host at mac uses our address, or probes for it while we do. */
static void acd_conflict(struct stack *s, const uint8_t *mac)
{
	union inany a = inany_from_v4(s->p.addr);
	uint64_t now = stack_now(s);

	STAT_INC(&s->stats, ARP_CONFLICT);
	switch (s->acd_state) {
	case ACD_PROBING:
		/* Not ours: stay off it, and try again later. */
		STAT_INC(&s->stats, ARP_PROBE_CONFLICT);
		s->acd_state = ACD_CONFLICT;
		timer_arm(&s->timers, &s->acd_timer, now,
			  ACD_RATE_LIMIT_INTERVAL_MS);
		stack_event(s, STACK_EV_ADDR4_CONFLICT, &a, mac);
		break;
	case ACD_BOUND:
		/* Ours: defend it (2.4 (c)), one announcement per
		 * DEFEND_INTERVAL. */
		if (!s->arp_defended ||
		    now - s->arp_defend_ms >= ARP_DEFEND_INTERVAL_MS) {
			s->arp_defended = true;
			s->arp_defend_ms = now;
			s->acd_claim_logged = false;
			STAT_INC(&s->stats, ARP_DEFEND_TX);
			arp_announce_now(s);
			stack_event(s, STACK_EV_ADDR4_DEFENDED, &a, mac);
		} else if (!s->acd_claim_logged) {
			s->acd_claim_logged = true;
			stack_event(s, STACK_EV_ADDR4_CLAIMED, &a, mac);
		}
		break;
	default:
		/* Not probed for yet, or known to be taken: counted only. */
		break;
	}
}

void arp_input(struct stack *s, struct cur c)
{
	struct arp_hdr a;
	union inany sender;
	bool known = false;

	STAT_INC(&s->stats, ARP_RX);
	if (!arp_hdr_parse(&c, &a)) {
		STAT_INC(&s->stats, ARP_DROP_MALFORMED);
		return;
	}
	if (a.op != ARP_OP_REQUEST && a.op != ARP_OP_REPLY) {
		STAT_INC(&s->stats, ARP_DROP_OP);
		return;
	}
	if (!arp_sender_ok(s, &a)) {
		STAT_INC(&s->stats, ARP_DROP_BAD_SENDER);
		return;
	}
	if (a.spa && a.spa == s->p.addr) {
		/* Someone else claims our address (RFC 5227 2.1.1, 2.4); our
		 * own packets coming back are nobody's claim. */
		if (memcmp(a.sha, s->p.mac, ETH_ALEN) != 0)
			acd_conflict(s, a.sha);
		return;
	}
	if (a.spa == 0 && a.op == ARP_OP_REQUEST && a.tpa &&
	    a.tpa == s->p.addr && s->acd_state == ACD_PROBING &&
	    memcmp(a.sha, s->p.mac, ETH_ALEN) != 0) {
		/* Another host probing for the address we probe for
		 * (RFC 5227 2.1.1): it is not ours to take either. */
		acd_conflict(s, a.sha);
		return;
	}
	/* RFC 826 merge: update the sender if we already know it. */
	sender = inany_from_v4(a.spa);
	if (a.spa)
		known = neigh_confirm(&s->arp, &sender, a.sha);
	if (a.tpa && a.tpa == s->p.addr && !ip4_addr_usable(s)) {
		/* Not answered while we may not use it. */
		STAT_INC(&s->stats, ARP_DROP_UNUSABLE);
		return;
	}
	if (!ip4_is_local(s, a.tpa)) {
		if (!known)
			s->stats.v[a.op == ARP_OP_REPLY
					   ? STAT_ARP_DROP_UNSOLICITED
					   : STAT_ARP_DROP_NOT_US]++;
		return;
	}
	if (a.op == ARP_OP_REPLY) {
		if (!known)
			STAT_INC(&s->stats, ARP_DROP_UNSOLICITED);
		return;
	}
	/* A request for us: learn the asker (it is about to talk to us). */
	if (!known && a.spa)
		neigh_learn(&s->arp, &sender, a.sha);
	arp_send(s, ARP_OP_REPLY, a.sha, a.sha, a.spa);
}

static void arp_announce_again(struct timer *t, void *arg)
{
	struct stack *s = arg;

	(void)t;
	arp_announce_now(s);
}

/* One gratuitous ARP for our address (an announcement, RFC 5227 2.3),
 * only while it is ours. */
static void arp_announce_now(struct stack *s)
{
	if (ip4_addr_usable(s))
		arp_send(s, ARP_OP_REQUEST, eth_broadcast, zero_mac, s->p.addr);
}

/* Announce our address (RFC 5227 2.3): now and once more two seconds
 * later, so a neighbour that missed the first learns it too. */
void arp_announce(struct stack *s)
{
	arp_announce_now(s);
	timer_arm(&s->timers, &s->arp_announce_timer, stack_now(s),
		  ARP_ANNOUNCE_INTERVAL_MS);
}

void arp_start(struct stack *s)
{
	s->arp_started = true;
	timer_cancel(&s->timers, &s->acd_timer);
	if (!s->p.acd || !s->p.addr) {
		s->acd_state = s->p.acd ? ACD_IDLE : ACD_BOUND;
		arp_announce(s);
		return;
	}
	acd_probe_start(s);
}

void arp_changed(struct stack *s, uint32_t old_addr, const uint8_t *old_mac,
		 bool old_acd)
{
	bool moved = s->p.addr != old_addr;

	if (!s->p.acd) {
		/* Off: the address is ours at once. */
		timer_cancel(&s->timers, &s->acd_timer);
		if (s->acd_state != ACD_BOUND) {
			s->acd_state = ACD_BOUND;
			moved = true;
		}
	} else if (!s->arp_started) {
		return; /* arp_start() has not run: it will probe */
	} else if (moved || (!old_acd && s->acd_state != ACD_BOUND)) {
		arp_start(s);
		return;
	}
	/* An address in use stays in use when acd is turned on: it is
	 * defended from now on. */
	if (moved || memcmp(old_mac, s->p.mac, ETH_ALEN) != 0)
		arp_announce(s);
}
