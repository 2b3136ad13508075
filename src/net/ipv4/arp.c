/*
 * ARP (RFC 826, with RFC 5227's conflict rules): answer for our address,
 * defend it, and resolve next hops through the neighbour cache (neigh.h),
 * which holds the entries, their states and timers and the packets that
 * wait.  Replies and gratuitous ARPs only update entries that already
 * exist; a request addressed to us teaches us its sender, as RFC 826 says.
 */
#include "net/core.h"
#include "wire/arp.h"
#include "wire/ip4.h"

#include <errno.h>
#include <string.h>

#define ARP_DEFEND_INTERVAL_MS 10000 /* RFC 5227 DEFEND_INTERVAL */
#define ARP_ANNOUNCE_INTERVAL_MS 2000 /* RFC 5227 ANNOUNCE_INTERVAL */
#define ARP_QUEUE_BYTES_MAX (2u << 20) /* over all waiting packets */

static const uint8_t zero_mac[ETH_ALEN];

static void arp_announce_now(struct stack *s);
static void arp_announce_again(struct timer *t, void *arg);

static void arp_send(struct stack *s, uint16_t op, const uint8_t *eth_dst,
		     const uint8_t *tha, uint32_t tpa)
{
	struct pbuf *pb = &s->arp_tx;
	struct arp_hdr a = {
		.htype = ARP_HTYPE_ETHER,
		.ptype = ETH_TYPE_IP4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = op,
		.spa = s->p.addr,
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

/* The cache asks: a request by broadcast, or by unicast to re-check. */
static void arp_solicit(struct stack *s, const union inany *addr,
			const uint8_t *mac)
{
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
	if (ip4_is_local(s, a.spa)) {
		/* Someone else claims our address (RFC 5227 2.4): count it
		 * and defend once with an announcement. */
		uint64_t now = stack_now(s);

		if (memcmp(a.sha, s->p.mac, ETH_ALEN) != 0) {
			STAT_INC(&s->stats, ARP_CONFLICT);
			if (!s->arp_defended ||
			    now - s->arp_defend_ms >= ARP_DEFEND_INTERVAL_MS) {
				s->arp_defended = true;
				s->arp_defend_ms = now;
				arp_announce_now(s);
			}
		}
		return;
	}
	/* RFC 826 merge: update the sender if we already know it. */
	sender = inany_from_v4(a.spa);
	if (a.spa)
		known = neigh_confirm(&s->arp, &sender, a.sha);
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

/* One gratuitous ARP for our address. */
static void arp_announce_now(struct stack *s)
{
	if (s->p.addr)
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
