/* UDP (RFC 768): checksum, demultiplex to bound ports, send. */
#include "net/core.h"
#include "net/csum.h"
#include "wire/ip4.h"
#include "wire/udp.h"

#include <errno.h>
#include <string.h>

#define UDP_NBUCKETS (sizeof(((struct stack *)0)->udp_bucket) / \
		      sizeof(((struct stack *)0)->udp_bucket[0]))

static struct udp_binding **udp_slot(struct stack *s, uint16_t port)
{
	return &s->udp_bucket[port % UDP_NBUCKETS];
}

static struct udp_binding *udp_find(struct stack *s, uint16_t port)
{
	for (struct udp_binding *b = *udp_slot(s, port); b; b = b->next)
		if (b->port == port)
			return b;
	return NULL;
}

int udp_bind(struct stack *s, struct udp_binding *b)
{
	struct udp_binding **slot;

	if (b->port == 0)
		return -EINVAL;
	if (udp_find(s, b->port))
		return -EADDRINUSE;
	slot = udp_slot(s, b->port);
	b->next = *slot;
	*slot = b;
	return 0;
}

void udp_unbind(struct stack *s, struct udp_binding *b)
{
	for (struct udp_binding **pp = udp_slot(s, b->port); *pp;
	     pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			b->next = NULL;
			return;
		}
	}
}

void udp_fini(struct stack *s)
{
	memset(s->udp_bucket, 0, sizeof(s->udp_bucket));
}

void udp_input(struct stack *s, struct cur c, struct l3_rx *rx)
{
	const uint8_t *seg = c.p;
	struct udp_hdr h;
	struct udp_binding *b;
	struct udp_meta m;

	STAT_INC(&s->stats, UDP_RX);
	if (!udp_hdr_parse(&c, &h)) {
		STAT_INC(&s->stats, UDP_DROP_SHORT);
		return;
	}
#ifndef TAPIR_FUZZING
	/* A zero checksum means the sender did not compute one. */
	if (h.csum != 0 && !rx->csum_ok &&
	    csum_fold(csum_partial(seg, h.len,
				   l3_pseudo(&rx->src, &rx->dst, IP4_PROTO_UDP,
					     h.len))) != 0) {
		STAT_INC(&s->stats, UDP_DROP_CSUM);
		return;
	}
#else
	(void)seg;
#endif
	/* Only IPv4 lets a sender leave the checksum out (RFC 8200 8.1). */
	if (h.csum == 0 && !inany_is_v4(&rx->src)) {
		STAT_INC(&s->stats, UDP_DROP_CSUM);
		return;
	}
	b = udp_find(s, h.dport);
	if (!b) {
		STAT_INC(&s->stats, UDP_DROP_NO_PORT);
		l3_port_unreachable(s, rx);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.src = rx->src;
	m.dst = rx->dst;
	m.src_port = h.sport;
	m.dst_port = h.dport;
	memcpy(m.src_mac, rx->src_mac, ETH_ALEN);
	m.broadcast = rx->l2_multi || rx->l3_multi;
	b->fn(b->arg, &m, c.p, c.len);
}

int udp_output(struct stack *s, uint16_t sport, const struct udp_dst *dst,
	       const void *data, size_t len)
{
	struct pbuf *pb = &s->tx;
	union inany src = inany_is_unspec(&dst->src) ? l3_source(s, &dst->addr)
						     : dst->src;
	struct udp_hdr h = {.sport = sport, .dport = dst->port};
	uint8_t *p;
	uint16_t sum;
	int err;

	if (len > UDP_MAX_PAYLOAD) {
		STAT_INC(&s->stats, UDP_TX_ERR);
		return -EMSGSIZE;
	}
	if (dst->port == 0 || inany_is_unspec(&dst->addr)) {
		STAT_INC(&s->stats, UDP_TX_ERR);
		return -EINVAL;
	}
	h.len = (uint16_t)(UDP_HLEN + len);
	pbuf_reset(pb);
	p = pbuf_put(pb, h.len);
	udp_hdr_write(p, &h);
	if (len)
		memcpy(p + UDP_HLEN, data, len);
	sum = csum_fold(csum_partial(p, h.len, l3_pseudo(&src, &dst->addr,
							 IP4_PROTO_UDP, h.len)));
	put_be16(p + 6, sum ? sum : 0xffff);
	STAT_INC(&s->stats, UDP_TX);
	err = l3_output(s, &src, &dst->addr, IP4_PROTO_UDP, dst->mac, pb, NULL);
	if (err)
		STAT_INC(&s->stats, UDP_TX_ERR);
	return err;
}
