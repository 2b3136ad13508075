/*
 * ICMP (RFC 792, RFC 1122 3.2.2): echo replies, destination unreachable,
 * and the rules that keep errors from making storms: no error about an
 * ICMP error, about a broadcast or multicast, about a non-first fragment or
 * from a source that is not a host; and a token bucket on all errors.
 */
#include "net/core.h"
#include "net/csum.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"

#include <errno.h>
#include <string.h>

/* Quote at most this much of the offending datagram, so the error fits in
 * the 576 bytes every host accepts (RFC 1812 4.3.2.3). */
#define ICMP4_QUOTE_MAX (576 - IP4_HLEN - ICMP4_HLEN)

static void icmp4_echo(struct stack *s, struct cur msg, const struct l3_rx *rx)
{
	struct pbuf *pb = &s->tx;
	uint8_t *p;

	STAT_INC(&s->stats, ICMP4_ECHO_RX);
	/* No replies to broadcasts (RFC 1122 3.2.2.6 allows silence) nor to
	 * 0.0.0.0, which is no destination. */
	if (rx->l2_multi || rx->l3_multi || inany_v4(&rx->src) == 0) {
		STAT_INC(&s->stats, ICMP4_DROP_BCAST);
		return;
	}
	pbuf_reset(pb);
	p = pbuf_put(pb, msg.len);
	if (!p)
		return;
	memcpy(p, msg.p, msg.len);
	p[0] = ICMP4_ECHO_REPLY;
	p[1] = 0; /* RFC 792: the reply's code is 0, whatever the request's */
	p[2] = p[3] = 0;
	put_be16(p + 2, csum(p, msg.len));
	STAT_INC(&s->stats, ICMP4_ECHO_TX);
	STAT_INC(&s->stats, ICMP4_TX);
	ip4_output(s, inany_v4(&rx->dst), inany_v4(&rx->src), IP4_PROTO_ICMP,
		   NULL, pb);
}

void icmp4_input(struct stack *s, struct cur c, struct l3_rx *rx)
{
	struct cur msg = c;
	struct icmp4_hdr h;

	STAT_INC(&s->stats, ICMP4_RX);
	if (!icmp4_hdr_parse(&c, &h)) {
		STAT_INC(&s->stats, ICMP4_DROP_SHORT);
		return;
	}
#ifndef TAPIR_FUZZING
	if (csum(msg.p, msg.len) != 0) {
		STAT_INC(&s->stats, ICMP4_DROP_CSUM);
		return;
	}
#endif
	switch (h.type) {
	case ICMP4_ECHO_REQUEST:
		icmp4_echo(s, msg, rx);
		break;
	case ICMP4_ECHO_REPLY:
		/* Answers to stack_echo_send(): unicast to us only. */
		STAT_INC(&s->stats, ICMP4_PING_RX);
		if (s->echo_fn && !rx->l2_multi && !rx->l3_multi)
			s->echo_fn(s->echo_arg, &rx->src,
				   (uint16_t)(h.rest >> 16),
				   (uint16_t)h.rest);
		break;
	case ICMP4_DEST_UNREACH:
		/* RFC 1122 3.2.2.1: codes 2 and 3 are hard, 4 carries the
		 * next hop's MTU (RFC 1191 4) in the low half of the word. */
		if (h.code == ICMP4_UNREACH_NEEDFRAG)
			l3_icmp_error(s, rx, c, L3_ERR_MTU, h.rest & 0xffff);
		else if (h.code == ICMP4_UNREACH_PROTO ||
			 h.code == ICMP4_UNREACH_PORT)
			l3_icmp_error(s, rx, c, L3_ERR_REFUSED, 0);
		else
			l3_icmp_error(s, rx, c, L3_ERR_UNREACH, 0);
		break;
	case ICMP4_TIME_EXCEEDED:
	case ICMP4_PARAM_PROBLEM:
		l3_icmp_error(s, rx, c, L3_ERR_OTHER, 0);
		break;
	default:
		/* Echo replies, redirects (our routes are configured), source
		 * quench (deprecated, RFC 6633) and the rest: counted. */
		STAT_INC(&s->stats, ICMP4_DROP_TYPE);
		break;
	}
}

/* RFC 1122 3.2.2: may we send an error about this datagram at all? */
static bool icmp4_error_allowed(const struct stack *s, const struct l3_rx *rx)
{
	uint32_t src = inany_v4(&rx->src);

	if (rx->l2_multi || rx->l3_multi)
		return false;
	if (src == 0 || ip4_is_multicast(src) || ip4_is_reserved(src) ||
	    ip4_is_broadcast(s, src))
		return false;
	if (rx->hdr_len >= IP4_HLEN && (be16(rx->hdr + 6) & IP4_OFF_MASK))
		return false;
	if (rx->proto == IP4_PROTO_ICMP &&
	    (rx->payload_len < 1 || icmp4_is_error(rx->payload[0])))
		return false;
	return true;
}

void icmp4_send_error(struct stack *s, uint8_t type, uint8_t code,
		      const struct l3_rx *rx)
{
	struct pbuf *pb = &s->tx;
	struct icmp4_hdr h = {.type = type, .code = code};
	size_t quote = rx->payload_len;
	uint8_t *p;

	if (!icmp4_error_allowed(s, rx)) {
		STAT_INC(&s->stats, ICMP4_ERR_SUPPRESSED);
		return;
	}
	if (!l3_icmp_allow(s)) {
		STAT_INC(&s->stats, ICMP4_ERR_RATELIMIT);
		return;
	}
	if (quote > ICMP4_QUOTE_MAX - rx->hdr_len)
		quote = ICMP4_QUOTE_MAX - rx->hdr_len;
	pbuf_reset(pb);
	p = pbuf_put(pb, ICMP4_HLEN + rx->hdr_len + quote);
	icmp4_hdr_write(p, &h);
	memcpy(p + ICMP4_HLEN, rx->hdr, rx->hdr_len);
	memcpy(p + ICMP4_HLEN + rx->hdr_len, rx->payload, quote);
	put_be16(p + 2, csum(p, pb->len));
	if (type == ICMP4_DEST_UNREACH)
		STAT_INC(&s->stats, ICMP4_UNREACH_TX);
	else
		STAT_INC(&s->stats, ICMP4_TIME_EXCEEDED_TX);
	STAT_INC(&s->stats, ICMP4_TX);
	ip4_output(s, s->p.addr, inany_v4(&rx->src), IP4_PROTO_ICMP, NULL, pb);
}

int icmp4_echo_send(struct stack *s, uint32_t dst, uint16_t id, uint16_t seq)
{
	struct pbuf *pb = &s->tx;
	uint8_t *p;

	if (!s->p.addr)
		return -EINVAL;
	pbuf_reset(pb);
	p = pbuf_put(pb, ICMP4_HLEN + 8);
	if (!p)
		return -ENOBUFS;
	memset(p, 0, ICMP4_HLEN);
	p[0] = ICMP4_ECHO_REQUEST;
	put_be16(p + 4, id);
	put_be16(p + 6, seq);
	memcpy(p + 8, "tapir-pi", 8);
	put_be16(p + 2, csum(p, ICMP4_HLEN + 8));
	STAT_INC(&s->stats, ICMP4_PING_TX);
	STAT_INC(&s->stats, ICMP4_TX);
	return ip4_output(s, s->p.addr, dst, IP4_PROTO_ICMP, NULL, pb);
}
