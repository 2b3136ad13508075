/*
 * ICMPv6 (RFC 4443): echo, errors, and the hand-off of Neighbor Discovery
 * to nd6.c.  The error rules of section 2.4 (e): never an error about an
 * error or a redirect (behind however many extension headers), nor about
 * a packet to a multicast address or sent as link-layer multicast (except
 * packet too big and a parameter problem for an option whose action bits
 * ask for one), nor to a source that does not name one node (unspecified,
 * multicast).  Errors share the token bucket of ICMP for IPv4
 * (l3_icmp_allow()).
 */
#include "net/core.h"
#include "net/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#include <errno.h>
#include <string.h>

/* An error carries as much of the offending packet as fits in the
 * minimum MTU (RFC 4443 2.4 (c)). */
#define ICMP6_QUOTE_MAX (IP6_MIN_MTU - IP6_HLEN - ICMP6_HLEN)

static uint16_t icmp6_csum(const union inany *src, const union inany *dst,
			   const uint8_t *p, size_t len)
{
	return csum_fold(csum_partial(p, len,
				      l3_pseudo(src, dst, IP6_NH_ICMP6, len)));
}

static void icmp6_echo(struct stack *s, struct cur msg, const struct l3_rx *rx)
{
	struct pbuf *pb = &s->tx;
	union inany src = rx->dst;
	uint8_t *p;

	STAT_INC(&s->stats, ICMP6_ECHO_RX);
	if (ip6_is_unspecified(rx->src.a))
		return;
	/* To a group (ff02::1) we answer from our own unicast address
	 * (RFC 4443 4.2). */
	if (rx->l3_multi)
		src = ip6_source(s, &rx->src);
	if (inany_is_unspec(&src))
		return;
	pbuf_reset(pb);
	p = pbuf_put(pb, msg.len);
	if (!p)
		return;
	memcpy(p, msg.p, msg.len);
	/* Identifier, sequence number and data come back; the code of a
	 * reply is 0 whatever the request's was (RFC 4443 4.2). */
	p[0] = ICMP6_ECHO_REPLY;
	p[1] = 0;
	p[2] = p[3] = 0;
	put_be16(p + 2, icmp6_csum(&src, &rx->src, p, msg.len));
	STAT_INC(&s->stats, ICMP6_ECHO_TX);
	STAT_INC(&s->stats, ICMP6_TX);
	/* With no route back, the node the packet came from takes it. */
	ip6_output(s, &src, &rx->src, IP6_NH_ICMP6, 0,
		   ip6_reachable(s, &rx->src) == -EHOSTUNREACH ? rx->src_mac
							      : NULL,
		   pb, NULL);
}

void icmp6_input(struct stack *s, struct cur c, struct l3_rx *rx,
		 bool tentative)
{
	struct cur msg = c;
	struct icmp6_hdr h;

	STAT_INC(&s->stats, ICMP6_RX);
	if (!icmp6_hdr_parse(&c, &h)) {
		STAT_INC(&s->stats, ICMP6_DROP_SHORT);
		return;
	}
#ifndef TAPIR_FUZZING
	if (icmp6_csum(&rx->src, &rx->dst, msg.p, msg.len) != 0) {
		STAT_INC(&s->stats, ICMP6_DROP_CSUM);
		return;
	}
#endif
	switch (h.type) {
	case ICMP6_ND_RS:
	case ICMP6_ND_RA:
	case ICMP6_ND_NS:
	case ICMP6_ND_NA:
	case ICMP6_ND_REDIRECT:
		/* RFC 6980: ND in fragments (atomic ones too) is ignored. */
		if (rx->fragmented) {
			STAT_INC(&s->stats, ND6_DROP_FRAGMENTED);
			return;
		}
		nd6_input(s, msg, rx, tentative);
		return;
	default:
		break;
	}
	if (tentative) {
		STAT_INC(&s->stats, IP6_DROP_NOT_US);
		return;
	}
	switch (h.type) {
	case ICMP6_ECHO_REQUEST:
		icmp6_echo(s, msg, rx);
		break;
	case ICMP6_MLD_QUERY:
		mld6_query_input(s, msg, rx);
		break;
	case ICMP6_ECHO_REPLY:
		/* Answers to stack_echo_send(): unicast to us only. */
		STAT_INC(&s->stats, ICMP6_PING_RX);
		if (s->echo_fn && !rx->l3_multi)
			s->echo_fn(s->echo_arg, &rx->src,
				   (uint16_t)(h.rest >> 16),
				   (uint16_t)h.rest);
		break;
	case ICMP6_DEST_UNREACH:
		l3_icmp_error(s, rx, c,
			      h.code == ICMP6_UNREACH_PORT ? L3_ERR_REFUSED
							   : L3_ERR_UNREACH,
			      0);
		break;
	case ICMP6_PACKET_TOO_BIG:
		l3_icmp_error(s, rx, c, L3_ERR_MTU, h.rest);
		break;
	case ICMP6_PARAM_PROBLEM:
		/* An unrecognized next header is the protocol unreachable
		 * of IPv6 (RFC 4443 3.4). */
		l3_icmp_error(s, rx, c,
			      h.code == ICMP6_PARAM_NEXTHDR ? L3_ERR_REFUSED
							    : L3_ERR_OTHER,
			      0);
		break;
	case ICMP6_TIME_EXCEEDED:
		l3_icmp_error(s, rx, c, L3_ERR_OTHER, 0);
		break;
	default:
		STAT_INC(&s->stats, ICMP6_DROP_TYPE);
		break;
	}
}

/* Whether the packet rx describes carries an ICMPv6 error or a redirect
 * (or an ICMPv6 message too short to tell), which no error may be about
 * (RFC 4443 2.4 (e.1, e.2)).  An error found on the way to the
 * upper-layer header has not set rx->proto yet, so the chain is followed
 * here from the fixed header: every extension header by its length
 * alone, whatever was wrong with it, as far as the packet goes; past a
 * fragment that is not the first there is nothing to see. */
static bool icmp6_about_error(const struct l3_rx *rx)
{
	struct cur c = cur_make(rx->hdr, rx->dgram_len);
	const uint8_t *p;
	uint8_t nh;

	if (rx->proto == IP6_NH_ICMP6 && rx->payload)
		return rx->payload_len < 1 || icmp6_is_error(rx->payload[0]) ||
		       rx->payload[0] == ICMP6_ND_REDIRECT;
	if (!(p = cur_pull(&c, IP6_HLEN)))
		return false;
	nh = p[6];
	/* As many headers as the packet holds: each takes 8 bytes or more. */
	if (ip6_skip_ext(&c, &nh, IP6_MAX_PAYLOAD / 8) != IP6_SKIP_UPPER ||
	    nh != IP6_NH_ICMP6)
		return false;
	return c.len < 1 || icmp6_is_error(c.p[0]) ||
	       c.p[0] == ICMP6_ND_REDIRECT;
}

/* RFC 4443 2.4 (e): may we send this error about rx at all? */
static bool icmp6_error_allowed(const struct l3_rx *rx, uint8_t type,
				uint8_t code)
{
	bool multi_ok = type == ICMP6_PACKET_TOO_BIG ||
			(type == ICMP6_PARAM_PROBLEM &&
			 code == ICMP6_PARAM_OPTION);

	if ((rx->l2_multi || rx->l3_multi) && !multi_ok)
		return false;
	if (ip6_is_unspecified(rx->src.a) || ip6_is_multicast(rx->src.a))
		return false;
	return !icmp6_about_error(rx);
}

void icmp6_send_error(struct stack *s, uint8_t type, uint8_t code,
		      uint32_t param, const struct l3_rx *rx)
{
	struct pbuf *pb = &s->tx;
	struct icmp6_hdr h = {.type = type, .code = code, .rest = param};
	size_t hdr = rx->hdr_len, quote = rx->payload_len;
	const struct addr6 *ad;
	union inany src;
	uint8_t *p;

	/* A packet to an address of ours still under DAD is silently
	 * discarded (RFC 4862 5.4), whatever was wrong with it. */
	ad = ip6_addr_find(s, &rx->dst);
	if (!icmp6_error_allowed(rx, type, code) ||
	    (ad && ad->state == ADDR6_TENTATIVE)) {
		STAT_INC(&s->stats, ICMP6_ERR_SUPPRESSED);
		return;
	}
	/* From the address the packet was sent to when that is ours. */
	src = ip6_is_local(s, &rx->dst) ? rx->dst : ip6_source(s, &rx->src);
	if (inany_is_unspec(&src)) {
		STAT_INC(&s->stats, ICMP6_ERR_SUPPRESSED);
		return;
	}
	if (!l3_icmp_allow(s)) {
		STAT_INC(&s->stats, ICMP6_ERR_RATELIMIT);
		return;
	}
	if (hdr > ICMP6_QUOTE_MAX)
		hdr = ICMP6_QUOTE_MAX;
	if (quote > ICMP6_QUOTE_MAX - hdr)
		quote = ICMP6_QUOTE_MAX - hdr;
	pbuf_reset(pb);
	p = pbuf_put(pb, ICMP6_HLEN + hdr + quote);
	icmp6_hdr_write(p, &h);
	memcpy(p + ICMP6_HLEN, rx->hdr, hdr);
	if (quote)
		memcpy(p + ICMP6_HLEN + hdr, rx->payload, quote);
	put_be16(p + 2, icmp6_csum(&src, &rx->src, p, pb->len));
	switch (type) {
	case ICMP6_DEST_UNREACH:
		STAT_INC(&s->stats, ICMP6_UNREACH_TX);
		break;
	case ICMP6_PARAM_PROBLEM:
		STAT_INC(&s->stats, ICMP6_PARAM_TX);
		break;
	case ICMP6_TIME_EXCEEDED:
		STAT_INC(&s->stats, ICMP6_TIME_EXCEEDED_TX);
		break;
	default:
		break;
	}
	STAT_INC(&s->stats, ICMP6_TX);
	/* With no route back, the node the packet came from takes it. */
	ip6_output(s, &src, &rx->src, IP6_NH_ICMP6, 0,
		   ip6_reachable(s, &rx->src) == -EHOSTUNREACH ? rx->src_mac
							      : NULL,
		   pb, NULL);
}

void icmp6_reasm_expired(struct stack *s, const struct l3_rx *rx)
{
	struct pbuf *pb = &s->rx6;
	struct l3_rx q = *rx;
	uint8_t *p;

	/* The reassembler keeps the header apart from the first fragment's
	 * data; the error rules read the datagram in one piece. */
	pbuf_reset(pb);
	p = pbuf_put(pb, rx->hdr_len + rx->payload_len);
	if (!p)
		return;
	memcpy(p, rx->hdr, rx->hdr_len);
	if (rx->payload_len)
		memcpy(p + rx->hdr_len, rx->payload, rx->payload_len);
	q.hdr = p;
	q.payload = p + rx->hdr_len;
	q.dgram_len = rx->hdr_len + rx->payload_len;
	icmp6_send_error(s, ICMP6_TIME_EXCEEDED, ICMP6_EXC_FRAGTIME, 0, &q);
}

/* ---- Messages a module or the host sends ---- */

/* Build and send one ICMPv6 message: the first 4 bytes of hdr (type,
 * code, checksum filled in here), then body. */
static int icmp6_send_msg(struct stack *s, const union inany *src,
			  const union inany *dst, const uint8_t *mac,
			  uint8_t hop_limit, const void *msg, size_t len)
{
	struct pbuf *pb = &s->tx;
	uint8_t *p;

	pbuf_reset(pb);
	p = pbuf_put(pb, len);
	if (!p)
		return -EINVAL;
	memcpy(p, msg, len);
	p[2] = p[3] = 0;
	put_be16(p + 2, icmp6_csum(src, dst, p, len));
	STAT_INC(&s->stats, ICMP6_TX);
	return ip6_output(s, src, dst, IP6_NH_ICMP6, hop_limit, mac, pb,
			  NULL);
}

int stack_icmp6_send(struct stack *s, const union inany *dst,
		     const uint8_t *mac, const void *msg, size_t len)
{
	bool link = ip6_is_linklocal(dst->a) ||
		    (ip6_is_multicast(dst->a) && ip6_mcast_scope(dst->a) == 2);

	if (!s->p.ipv6 || !s->naddr6)
		return -EAFNOSUPPORT;
	if (!link || len < ICMP6_HLEN || len > s->p.mtu - IP6_HLEN)
		return -EINVAL;
	if (s->addr6[0].state != ADDR6_PREFERRED)
		return -EADDRNOTAVAIL;
	STAT_INC(&s->stats, ICMP6_MODULE_TX);
	return icmp6_send_msg(s, &s->addr6[0].a, dst, mac, ND_HOP_LIMIT, msg,
			      len);
}

int icmp6_echo_send(struct stack *s, const union inany *dst, uint16_t id,
		    uint16_t seq)
{
	uint8_t m[ICMP6_HLEN + 8] = {ICMP6_ECHO_REQUEST, 0};
	union inany src = ip6_source(s, dst);
	int err = ip6_reachable(s, dst);

	if (err)
		return err;
	if (ip6_is_multicast(dst->a))
		return -EINVAL;
	put_be16(m + 4, id);
	put_be16(m + 6, seq);
	memcpy(m + 8, "tapir-pi", 8);
	STAT_INC(&s->stats, ICMP6_PING_TX);
	return icmp6_send_msg(s, &src, dst, NULL, 0, m, sizeof(m));
}
