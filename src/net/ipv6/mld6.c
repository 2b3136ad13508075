/*
 * Multicast Listener Discovery version 2 (RFC 3810), as much as a host
 * with no multicast applications needs: we listen to the solicited-node
 * group of each of our addresses, and say so, so that a switch that
 * snoops MLD delivers Neighbor Solicitations to us.
 *
 * Theory of operation.  Whenever our addresses change (nd6_addr_setup()),
 * mld6_groups_changed() sends an unsolicited Report: a CHANGE_TO_EXCLUDE
 * record with no sources (a join) for every group we listen to and a
 * CHANGE_TO_INCLUDE record with none (a leave) for every group we left;
 * it goes again MLD6_UNSOLICITED_MS later, since the Robustness Variable
 * is 2 (5.2.13).  A Query (General, or for one of our groups) schedules a
 * Report of the current state (MODE_IS_EXCLUDE records) at a random time
 * within its Maximum Response Delay, capped so an outsider cannot make us
 * wait long nor answer more than once per pending report (5.2.14).  All
 * Reports go to ff02::16 with hop limit 1 and a Router Alert in a
 * Hop-by-Hop header (5), from our link-local address, or from :: while
 * that is tentative (5.2.13).  Queries must come from a link-local source
 * with hop limit 1 (5.1.14).  All-nodes (ff02::1) is never reported
 * (5).  An MLDv1 querier is answered in MLDv2 (no compatibility mode).
 */
#include "net/core.h"
#include "net/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#include <errno.h>
#include <string.h>

#define MLD6_UNSOLICITED_MS 1000  /* Unsolicited Report Interval */
#define MLD6_MAX_DELAY_MS 10000   /* most we wait before answering */
#define MLD6_QUERY_MIN_LEN 24     /* MLDv1; MLDv2 queries are >= 28 */

/* Record types (RFC 3810 5.2.12). */
#define MLD2_MODE_IS_EXCLUDE 2
#define MLD2_CHANGE_TO_INCLUDE 3
#define MLD2_CHANGE_TO_EXCLUDE 4

/* Hop-by-Hop header: next header ICMPv6, length 0 (8 bytes), Router
 * Alert (value 0: MLD), PadN of 2. */
static const uint8_t mld_hbh[8] = {IP6_NH_ICMP6, 0, IP6_OPT_ROUTER_ALERT, 2,
				   0, 0, IP6_OPT_PADN, 0};

/* Send one Report: a record of type 'type' for each of the n groups. */
static void mld6_send(struct stack *s, uint8_t type, const uint8_t (*groups)[16],
		      unsigned n)
{
	struct pbuf *pb = &s->arp_tx;
	union inany src = INANY_ANY, dst = inany_from_v6(ip6_all_mldv2);
	size_t len = ICMP6_HLEN + (size_t)n * 20;
	uint8_t *p;

	if (!n)
		return;
	if (s->naddr6 && s->addr6[0].state == ADDR6_PREFERRED)
		src = s->addr6[0].a;
	pbuf_reset(pb);
	p = pbuf_put(pb, sizeof(mld_hbh) + len);
	memcpy(p, mld_hbh, sizeof(mld_hbh));
	p += sizeof(mld_hbh);
	memset(p, 0, len);
	p[0] = ICMP6_MLD2_REPORT;
	put_be16(p + 6, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *r = p + ICMP6_HLEN + i * 20;

		r[0] = type; /* no aux data, no sources */
		memcpy(r + 4, groups[i], 16);
	}
	put_be16(p + 2, csum_fold(csum_partial(p, len,
					       l3_pseudo(&src, &dst,
							 IP6_NH_ICMP6, len))));
	STAT_INC(&s->stats, MLD6_REPORT_TX);
	STAT_INC(&s->stats, ICMP6_TX);
	ip6_output(s, &src, &dst, IP6_NH_HOPOPTS, 1, NULL, pb, NULL);
}

/* The groups we listen to (solicited-node of each address not found a
 * duplicate, without repeats); returns how many. */
static unsigned mld6_groups(const struct stack *s,
			    uint8_t groups[MLD6_GROUPS_MAX][16])
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->naddr6; i++) {
		uint8_t g[16];
		bool dup = false;

		if (s->addr6[i].state == ADDR6_DUPLICATE)
			continue;
		ip6_solicited_node(s->addr6[i].a.a, g);
		for (unsigned j = 0; j < n && !dup; j++)
			dup = memcmp(groups[j], g, 16) == 0;
		if (!dup)
			memcpy(groups[n++], g, 16);
	}
	for (unsigned i = 0; i < s->nmcast6; i++)
		memcpy(groups[n++], s->mcast6[i].g, 16);
	return n;
}

static void mld6_report_state(struct stack *s, uint8_t type)
{
	uint8_t groups[MLD6_GROUPS_MAX][16];

	mld6_send(s, type, (const uint8_t(*)[16])groups, mld6_groups(s, groups));
}

static void mld6_timer(struct timer *t, void *arg)
{
	struct stack *s = arg;

	(void)t;
	if (s->mld_repeat) {
		s->mld_repeat = false;
		mld6_report_state(s, MLD2_CHANGE_TO_EXCLUDE);
		return;
	}
	mld6_report_state(s, MLD2_MODE_IS_EXCLUDE);
}

void mld6_init(struct stack *s)
{
	timer_init(&s->mld_timer, mld6_timer, s);
	s->mld_ngroups = 0;
}

void mld6_fini(struct stack *s)
{
	timer_cancel(&s->timers, &s->mld_timer);
}

void mld6_groups_changed(struct stack *s)
{
	uint8_t now[MLD6_GROUPS_MAX][16], left[MLD6_GROUPS_MAX][16];
	unsigned n = mld6_groups(s, now), nleft = 0;

	for (unsigned i = 0; i < s->mld_ngroups; i++) {
		bool kept = false;

		for (unsigned j = 0; j < n && !kept; j++)
			kept = memcmp(s->mld_groups[i], now[j], 16) == 0;
		if (!kept)
			memcpy(left[nleft++], s->mld_groups[i], 16);
	}
	mld6_send(s, MLD2_CHANGE_TO_INCLUDE, (const uint8_t(*)[16])left, nleft);
	mld6_send(s, MLD2_CHANGE_TO_EXCLUDE, (const uint8_t(*)[16])now, n);
	memcpy(s->mld_groups, now, sizeof(now));
	s->mld_ngroups = n;
	if (n) {
		s->mld_repeat = true;
		timer_cancel(&s->timers, &s->mld_timer);
		timer_arm(&s->timers, &s->mld_timer, stack_now(s),
			  MLD6_UNSOLICITED_MS);
	}
}

/* ---- Groups joined for modules ---- */

static struct mcast6 *mcast6_find(struct stack *s, const uint8_t *g)
{
	for (unsigned i = 0; i < s->nmcast6; i++)
		if (memcmp(s->mcast6[i].g, g, 16) == 0)
			return &s->mcast6[i];
	return NULL;
}

bool mld6_joined(const struct stack *s, const uint8_t *g)
{
	return mcast6_find((struct stack *)s, g) != NULL;
}

int stack_mcast6_join(struct stack *s, const union inany *group)
{
	struct mcast6 *m;

	if (!s->p.ipv6)
		return -EAFNOSUPPORT;
	/* Link scope only; all-nodes is heard always (and never reported),
	 * and solicited-node groups follow our addresses. */
	if (!ip6_is_multicast(group->a) || ip6_mcast_scope(group->a) != 2 ||
	    memcmp(group->a, ip6_all_nodes, 16) == 0)
		return -EINVAL;
	m = mcast6_find(s, group->a);
	if (m) {
		m->refs++;
		return 0;
	}
	if (s->nmcast6 >= STACK_MCAST6_MAX)
		return -ENOSPC;
	m = &s->mcast6[s->nmcast6++];
	memcpy(m->g, group->a, 16);
	m->refs = 1;
	mld6_groups_changed(s);
	return 0;
}

void stack_mcast6_leave(struct stack *s, const union inany *group)
{
	struct mcast6 *m = mcast6_find(s, group->a);

	if (!m || --m->refs)
		return;
	*m = s->mcast6[--s->nmcast6];
	mld6_groups_changed(s);
}

void mld6_query_input(struct stack *s, struct cur msg, const struct l3_rx *rx)
{
	const uint8_t *p = msg.p;
	uint32_t max_ms;

	STAT_INC(&s->stats, MLD6_QUERY_RX);
	if (msg.len < MLD6_QUERY_MIN_LEN || rx->hop_limit != 1 ||
	    !ip6_is_linklocal(rx->src.a)) {
		STAT_INC(&s->stats, MLD6_DROP_INVALID);
		return;
	}
	/* A query for a group (not ::) that is none of ours: not for us. */
	if (!ip6_is_unspecified(p + 8)) {
		bool ours = false;

		for (unsigned i = 0; i < s->mld_ngroups && !ours; i++)
			ours = memcmp(s->mld_groups[i], p + 8, 16) == 0;
		if (!ours)
			return;
	}
	/* Maximum Response Code (5.1.3): below 32768 it is milliseconds;
	 * above, a floating point form.  Either way, at most our cap. */
	max_ms = be16(p + 4);
	if (max_ms >= 32768 || max_ms > MLD6_MAX_DELAY_MS)
		max_ms = MLD6_MAX_DELAY_MS;
	if (timer_pending(&s->mld_timer))
		return; /* a report is on its way already */
	timer_arm(&s->timers, &s->mld_timer, stack_now(s),
		  max_ms ? nd6_random(s) % max_ms : 0);
}
