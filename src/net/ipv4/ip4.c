/*
 * IPv4 (RFC 791, RFC 1122 3.2.1): validate, reassemble, deliver; route and
 * fragment on output.
 */
#include "net/core.h"
#include "net/csum.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"

#include <errno.h>
#include <string.h>

void ip4_hdr_write(uint8_t *p, const struct ip4_hdr *h)
{
	p[0] = 0x45;
	p[1] = h->tos;
	put_be16(p + 2, h->total_len);
	put_be16(p + 4, h->id);
	put_be16(p + 6, h->frag);
	p[8] = h->ttl;
	p[9] = h->proto;
	put_be16(p + 10, 0);
	put_be32(p + 12, h->src);
	put_be32(p + 16, h->dst);
	put_be16(p + 10, csum(p, IP4_HLEN));
}

static const enum stat_id parse_drop[] = {
	[IP4_ERR_SHORT] = STAT_IP4_DROP_SHORT,
	[IP4_ERR_VERSION] = STAT_IP4_DROP_VERSION,
	[IP4_ERR_HLEN] = STAT_IP4_DROP_HLEN,
	[IP4_ERR_LEN] = STAT_IP4_DROP_LEN,
	[IP4_ERR_OPTIONS] = STAT_IP4_DROP_OPTIONS,
};

/* Sources no host may use (RFC 1122 3.2.1.3): multicast, reserved (240/4),
 * loopback, limited or our directed broadcast, and our own address.
 * 0.0.0.0 is allowed (DHCP clients). */
static bool ip4_src_ok(const struct stack *s, uint32_t src)
{
	return !ip4_is_multicast(src) && !ip4_is_reserved(src) &&
	       !ip4_is_loopback(src) && !ip4_is_broadcast(s, src) &&
	       (src != s->p.addr || src == 0);
}

/* Is dst ours to receive: our address, a broadcast, or the one multicast
 * group we belong to (all-hosts, RFC 1112)? */
static bool ip4_dst_ok(const struct stack *s, uint32_t dst)
{
	return ip4_is_local(s, dst) || ip4_is_broadcast(s, dst) ||
	       dst == IP4_ALL_HOSTS;
}

void ip4_input(struct stack *s, struct cur c, const struct eth_hdr *eh,
	       unsigned flags)
{
	const uint8_t *hdr = c.p;
	struct ip4_hdr ih;
	struct l3_rx rx;
	enum ip4_parse_err err;

	STAT_INC(&s->stats, IP4_RX);
	err = ip4_hdr_parse(&c, &ih);
	if (err != IP4_OK) {
		s->stats.v[parse_drop[err]]++;
		return;
	}
#ifndef TAPIR_FUZZING
	if (csum(hdr, ih.ihl) != 0) {
		STAT_INC(&s->stats, IP4_DROP_CSUM);
		return;
	}
#endif
	if (!ip4_src_ok(s, ih.src)) {
		STAT_INC(&s->stats, IP4_DROP_SRC);
		return;
	}
	memset(&rx, 0, sizeof(rx));
	rx.src = inany_from_v4(ih.src);
	rx.dst = inany_from_v4(ih.dst);
	rx.proto = ih.proto;
	rx.hop_limit = ih.ttl;
	memcpy(rx.src_mac, eh->src, ETH_ALEN);
	rx.l2_multi = eth_is_multicast(eh->dst);
	rx.l3_multi = ip4_is_broadcast(s, ih.dst) || ip4_is_multicast(ih.dst);
	rx.hdr = hdr;
	rx.hdr_len = ih.ihl;
	rx.dgram_len = ih.total_len;
	/* RFC 1122 3.3.6: a link-layer broadcast must carry an IP broadcast
	 * or multicast destination. */
	if (!ip4_dst_ok(s, ih.dst) || (rx.l2_multi && !rx.l3_multi)) {
		STAT_INC(&s->stats, IP4_DROP_NOT_US);
		return;
	}
	if (ih.frag & (IP4_FLAG_MF | IP4_OFF_MASK)) {
		/* What the link vouched for was one fragment, not the
		 * datagram it may complete: that is checked in full. */
		struct reasm_frag fr = {
		    .key = {.src = rx.src,
			    .dst = rx.dst,
			    .id = ih.id,
			    .proto = ih.proto},
		    .off = (uint32_t)(ih.frag & IP4_OFF_MASK) * 8,
		    .more = ih.frag & IP4_FLAG_MF,
		    .data = c,
		    .hdr = hdr,
		    .hdr_len = ih.ihl,
		    .rx = &rx,
		};
		struct reasm_dgram *d;

		STAT_INC(&s->stats, IP4_FRAG_RX);
		d = reasm_input(s, &fr, &rx, &c, NULL);
		if (d) {
			/* Delivery may send (an echo reply), never receive,
			 * so the datagram stays put until released. */
			ip4_deliver(s, c, &rx);
			reasm_release(s, d);
		}
		return;
	}
	rx.csum_ok = flags & STACK_RX_CSUM_OK;
	ip4_deliver(s, c, &rx);
}

void ip4_deliver(struct stack *s, struct cur payload, struct l3_rx *rx)
{
	rx->payload = payload.p;
	rx->payload_len = payload.len;
	switch (rx->proto) {
	case IP4_PROTO_ICMP:
		icmp4_input(s, payload, rx);
		break;
	case IP4_PROTO_UDP:
		udp_input(s, payload, rx);
		break;
	case IP4_PROTO_TCP:
		tcp_input(s, payload, rx);
		break;
	default:
		STAT_INC(&s->stats, IP4_DROP_PROTO);
		icmp4_send_error(s, ICMP4_DEST_UNREACH, ICMP4_UNREACH_PROTO, rx);
		break;
	}
}

/* One frame of a datagram out: to the given MAC, or through ARP. */
static int ip4_emit(struct stack *s, const uint8_t *mac, uint32_t next_hop,
		    struct pbuf *pb, const struct stack_tx_offload *off,
		    unsigned flags)
{
	if (mac)
		return eth_output(s, mac, ETH_TYPE_IP4, pb, off);
	return arp_output(s, next_hop, pb, off, flags);
}

int ip4_xmit(struct stack *s, const uint8_t *mac, uint32_t next_hop,
	     unsigned mtu, struct pbuf *pb,
	     const struct stack_tx_offload *offload)
{
	const uint8_t *dg = pbuf_data(pb);
	size_t payload = pb->len - IP4_HLEN, chunk, off;
	struct ip4_hdr h;
	struct cur c = cur_make(dg, pb->len);
	int err = 0;

	STAT_INC(&s->stats, IP4_TX);
	/* A segment the link cuts up (GSO) is not fragmented here. */
	if (pb->len <= mtu || (offload && offload->gso_size))
		return ip4_emit(s, mac, next_hop, pb, offload, 0);

	/* Fragment (RFC 791): every piece but the last carries a multiple of
	 * eight bytes and MF.  We wrote this header: 20 bytes, no options. */
	if (ip4_hdr_parse(&c, &h) != IP4_OK)
		return -EINVAL;
	chunk = (mtu - IP4_HLEN) & ~(size_t)7;
	for (off = 0; off < payload && !err; off += chunk) {
		size_t n = payload - off < chunk ? payload - off : chunk;
		struct pbuf *f = &s->frag;
		struct ip4_hdr fh = h;

		pbuf_reset(f);
		memcpy(pbuf_put(f, n), dg + IP4_HLEN + off, n);
		fh.total_len = (uint16_t)(IP4_HLEN + n);
		fh.frag = (uint16_t)(off / 8);
		if (off + n < payload)
			fh.frag |= IP4_FLAG_MF;
		ip4_hdr_write(pbuf_push(f, IP4_HLEN), &fh);
		STAT_INC(&s->stats, IP4_FRAG_TX);
		err = ip4_emit(s, mac, next_hop, f, NULL,
			       off ? NEIGH_MORE : 0);
	}
	return err;
}

bool ip4_neigh_ready(struct stack *s, uint32_t dst)
{
	uint32_t mask = ip4_mask(s->p.prefix);

	if (ip4_is_broadcast(s, dst) || ip4_is_multicast(dst))
		return false;
	if ((dst & mask) != (s->p.addr & mask))
		dst = s->p.gateway;
	return dst && arp_ready(s, dst);
}

bool ip4_offload_ok(struct stack *s, uint32_t dst)
{
	return s->p.offload && ip4_neigh_ready(s, dst);
}

bool ip4_addr_usable(const struct stack *s)
{
	return s->p.addr != 0 && s->acd_state == ACD_BOUND;
}

bool ip4_is_local(const struct stack *s, uint32_t a)
{
	return a == s->p.addr && ip4_addr_usable(s);
}

bool ip4_is_broadcast(const struct stack *s, uint32_t a)
{
	uint32_t mask = ip4_mask(s->p.prefix);

	if (a == IP4_BROADCAST)
		return true;
	return s->p.prefix < 31 && (a & mask) == (s->p.addr & mask) &&
	       (a & ~mask) == ~mask;
}

int ip4_reachable(const struct stack *s, uint32_t dst)
{
	uint32_t mask = ip4_mask(s->p.prefix);

	if (!dst || !s->p.addr)
		return -EINVAL;
	if (!ip4_addr_usable(s))
		return -EADDRNOTAVAIL; /* being probed for, or someone else's */
	if ((dst & mask) != (s->p.addr & mask) && !s->p.gateway)
		return -EHOSTUNREACH;
	return 0;
}

/*
 * The identification of a datagram from src to dst carrying proto, by the
 * hash-based algorithm of RFC 7739 section 5.3: a keyed hash of the triple
 * picks one of IP4_ID_BUCKETS counters, which advances by one, and adds an
 * offset from the same keyed hash.  One SipHash gives 64 bits: the low
 * ones choose the counter, the high 16 are the offset, so the two the RFC
 * asks for cost one hash per datagram.  An ID towards one destination
 * comes back only once its counter has gone round (65536 datagrams), as
 * reassembly needs, while a peer sees only its own counter behind an
 * offset it cannot compute: the IDs it gets tell it nothing about the IDs
 * we use towards anyone else (beyond how busy the destinations sharing its
 * counter are, the table's trade-off).  The RFC starts the counters at
 * random values; with a secret offset on top, zero does as well.
 */
_Static_assert((IP4_ID_BUCKETS & (IP4_ID_BUCKETS - 1)) == 0,
	       "IP4_ID_BUCKETS is a power of two");
_Static_assert(IP4_ID_BUCKETS <= 1u << 16,
	       "the counter index and the offset use separate bits");

static uint16_t ip4_next_id(struct stack *s, uint32_t src, uint32_t dst,
			    uint8_t proto)
{
	uint64_t h = tapir_siphash24_12(s->ip_id_key,
					(uint64_t)src << 32 | dst, proto);

	return (uint16_t)((h >> 48) + ++s->ip_ids[h & (IP4_ID_BUCKETS - 1)]);
}

int ip4_output(struct stack *s, uint32_t src, uint32_t dst, uint8_t proto,
	       const uint8_t *dst_mac, struct pbuf *pb)
{
	return ip4_output_offload(s, src, dst, proto, dst_mac, pb, NULL);
}

int ip4_output_offload(struct stack *s, uint32_t src, uint32_t dst,
		       uint8_t proto, const uint8_t *dst_mac, struct pbuf *pb,
		       const struct stack_tx_offload *off)
{
	struct ip4_hdr h = {
		.ttl = s->p.ttl,
		.proto = proto,
		.src = src ? src : s->p.addr,
		.dst = dst,
	};
	uint32_t mask = ip4_mask(s->p.prefix);
	uint32_t next_hop = dst;
	uint8_t mcast_mac[ETH_ALEN];
	unsigned mtu = s->p.mtu;

	if (pb->len + IP4_HLEN > IP4_MAX_LEN)
		return -EMSGSIZE;
	/* Nothing leaves from an address we may not use (RFC 5227 2.1.1:
	 * not while probing; 2.4: not once another host has it). */
	if (h.src == s->p.addr && h.src && !ip4_addr_usable(s)) {
		STAT_INC(&s->stats, IP4_DROP_NO_ADDR);
		return -EADDRNOTAVAIL;
	}
	/* TCP discovers the path MTU (RFC 1191): its segments carry DF and
	 * fit the path; the rest is fragmented to what we learnt of it. */
	if (proto == IP4_PROTO_TCP)
		h.frag = IP4_FLAG_DF;
	if (s->pmtu_used) {
		union inany d = inany_from_v4(dst);

		mtu = pmtu_get(s, &d);
	}
	h.id = ip4_next_id(s, h.src, dst, proto);
	/* Route: broadcast and multicast map to their MACs; a caller's MAC
	 * is used as given; off-link goes through the gateway. */
	if (ip4_is_broadcast(s, dst)) {
		dst_mac = eth_broadcast;
	} else if (ip4_is_multicast(dst)) {
		/* RFC 1112 6.4: 01:00:5e and the group's low 23 bits. */
		mcast_mac[0] = 0x01;
		mcast_mac[1] = 0x00;
		mcast_mac[2] = 0x5e;
		mcast_mac[3] = (uint8_t)((dst >> 16) & 0x7f);
		mcast_mac[4] = (uint8_t)(dst >> 8);
		mcast_mac[5] = (uint8_t)dst;
		dst_mac = mcast_mac;
	} else if (!dst_mac && (dst & mask) != (s->p.addr & mask)) {
		if (!s->p.gateway) {
			STAT_INC(&s->stats, IP4_DROP_NO_ROUTE);
			return -EHOSTUNREACH;
		}
		next_hop = s->p.gateway;
	}
	h.total_len = (uint16_t)(pb->len + IP4_HLEN);
	ip4_hdr_write(pbuf_push(pb, IP4_HLEN), &h);
	return ip4_xmit(s, dst_mac, next_hop, mtu, pb, off);
}
