/*
 * IPv6 (RFC 8200): validate, walk the extension headers, reassemble,
 * deliver; route and fragment on output.
 *
 * Theory of operation.  ip6_input() checks the fixed header and the
 * addresses (a source that is multicast, loopback, IPv4-mapped or ours is
 * dropped; the destination must be one of our addresses, all-nodes, or the
 * solicited-node group of one of our addresses), then ip6_walk() follows
 * the chain of next headers, at most IP6_MAX_EXT of them:
 *
 *   Hop-by-Hop      only directly after the fixed header (RFC 8200 4.1);
 *   Destination     options processed by their action bits (4.2): skip,
 *     options       discard, discard with a parameter problem (to a
 *                   multicast destination only for action 10);
 *   Routing         with segments left, for a router, which we are not
 *                   (and type 0 never, RFC 5095): parameter problem at
 *                   the type; none left: skipped, whatever the type
 *                   (4.4; RFC 5095 3 treats type 0 as unrecognized);
 *   Fragment        an atomic fragment (offset 0, M clear) is processed on
 *                   its own (RFC 6946); a first fragment must carry the
 *                   whole header chain up to the upper-layer header (RFC
 *                   7112); the rest goes to the reassembler, and the
 *                   reassembled datagram continues the walk;
 *   No Next Header  the packet ends (counted);
 *   ICMPv6, UDP, TCP  delivered;
 *   anything else   parameter problem pointing at the next header field.
 *
 * A packet to one of our addresses that is still tentative (its Duplicate
 * Address Detection under way) is delivered only as Neighbor Discovery
 * (RFC 4862 5.4).
 *
 * Output: ip6_output() writes the fixed header (we never send extension
 * headers but the Fragment header), routes (multicast to its MAC, on-link
 * to the destination, off-link to gateway6), and ip6_xmit() fragments to
 * the MTU with an identification from a keyed hash (RFC 7739); each frame
 * goes to the neighbour cache, which resolves by Neighbor Discovery.
 */
#include "net/core.h"
#include "net/csum.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#include <errno.h>
#include <string.h>

/* Extension headers walked per packet, fragments' included. */
#define IP6_MAX_EXT 8

_Static_assert((IP6_ID_BUCKETS & (IP6_ID_BUCKETS - 1)) == 0,
	       "IP6_ID_BUCKETS is a power of two");

static const enum stat_id parse_drop[] = {
	[IP6_ERR_SHORT] = STAT_IP6_DROP_SHORT,
	[IP6_ERR_VERSION] = STAT_IP6_DROP_VERSION,
	[IP6_ERR_LEN] = STAT_IP6_DROP_LEN,
};

/* ---- Our addresses as a destination ---- */

/* Is dst ours to receive: one of our addresses (*tentative tells whether
 * it is still being checked), all-nodes, or the solicited-node group of
 * one of our addresses? */
static bool ip6_dst_ok(struct stack *s, const uint8_t *dst, bool *tentative)
{
	union inany a = inany_from_v6(dst);
	struct addr6 *ad;

	*tentative = false;
	if (ip6_is_multicast(dst)) {
		if (memcmp(dst, ip6_all_nodes, 16) == 0 || mld6_joined(s, dst))
			return true;
		for (unsigned i = 0; i < s->naddr6; i++) {
			uint8_t sn[16];

			if (s->addr6[i].state == ADDR6_DUPLICATE)
				continue;
			ip6_solicited_node(s->addr6[i].a.a, sn);
			if (memcmp(sn, dst, 16) == 0)
				return true;
		}
		return false;
	}
	ad = ip6_addr_find(s, &a);
	if (!ad || ad->state == ADDR6_DUPLICATE)
		return false;
	*tentative = ad->state == ADDR6_TENTATIVE;
	return true;
}

/* Sources no packet may come from: multicast, loopback, IPv4-mapped, and
 * our own addresses.  :: is allowed (Duplicate Address Detection, MLD);
 * what may use it is checked where the message is understood. */
static bool ip6_src_ok(struct stack *s, const uint8_t *src)
{
	union inany a = inany_from_v6(src);

	return !ip6_is_multicast(src) && !ip6_is_loopback(src) &&
	       !ip6_is_v4mapped(src) && !ip6_is_local(s, &a);
}

/* ---- Input ---- */

static void ip6_walk(struct stack *s, struct cur c, struct l3_rx *rx,
		     uint8_t nh, size_t nh_field, size_t off, unsigned depth,
		     bool tentative);

/* Point rx at the whole packet it describes, for quoting in an error, and
 * send a parameter problem with the given code and pointer. */
void ip6_param_problem(struct stack *s, struct l3_rx *rx, uint8_t code,
		       size_t pointer)
{
	rx->payload = rx->hdr + IP6_HLEN;
	rx->payload_len = rx->dgram_len - IP6_HLEN;
	rx->hdr_len = IP6_HLEN;
	rx->proto = 0; /* the chain is read from the fixed header on */
	icmp6_send_error(s, ICMP6_PARAM_PROBLEM, code, (uint32_t)pointer, rx);
}

/* Process the options of a Hop-by-Hop or Destination Options header p of
 * len bytes, found off bytes into the packet.  False when the packet is
 * to be dropped (an unknown option said so, or the options overrun). */
static bool ip6_options(struct stack *s, struct l3_rx *rx, const uint8_t *p,
			size_t len, size_t off)
{
	size_t i = 2;

	while (i < len) {
		uint8_t type = p[i], olen;

		if (type == IP6_OPT_PAD1) {
			i++;
			continue;
		}
		if (len - i < 2 || p[i + 1] > len - i - 2) {
			/* At the length that overruns the header, or at the
			 * type when the header ends before its length: the
			 * pointer stays inside the packet (RFC 4443 3.4). */
			STAT_INC(&s->stats, IP6_DROP_EXT);
			ip6_param_problem(s, rx, ICMP6_PARAM_HEADER,
					  off + i + (len - i >= 2));
			return false;
		}
		olen = p[i + 1];
		if (type != IP6_OPT_PADN && type != IP6_OPT_ROUTER_ALERT) {
			switch (IP6_OPT_ACTION(type)) {
			case IP6_OPT_SKIP:
				break;
			case IP6_OPT_DISCARD_ICMP_UNI:
				if (rx->l3_multi) {
					STAT_INC(&s->stats, IP6_DROP_OPTION);
					return false;
				}
				__attribute__((fallthrough));
			case IP6_OPT_DISCARD_ICMP:
				STAT_INC(&s->stats, IP6_DROP_OPTION);
				ip6_param_problem(s, rx, ICMP6_PARAM_OPTION,
						  off + i);
				return false;
			default:
				STAT_INC(&s->stats, IP6_DROP_OPTION);
				return false;
			}
		}
		i += 2 + (size_t)olen;
	}
	return true;
}

/* Whether c (a first fragment's data, starting with header nh) holds the
 * whole chain up to and including the upper-layer header (RFC 7112). */
static bool ip6_chain_complete(struct cur c, uint8_t nh)
{
	switch (ip6_skip_ext(&c, &nh, IP6_MAX_EXT)) {
	case IP6_SKIP_SHORT:
		return false;
	case IP6_SKIP_UPPER:
		break;
	default:
		return true; /* the walk will judge it */
	}
	switch (nh) {
	case IP6_NH_TCP:
		return c.len >= 20;
	case IP6_NH_UDP:
	case IP6_NH_ICMP6:
		return c.len >= 8;
	default:
		return true;
	}
}

static void ip6_deliver(struct stack *s, struct cur c, struct l3_rx *rx,
			uint8_t proto, size_t off, bool tentative)
{
	rx->proto = proto;
	rx->hdr_len = off;
	rx->payload = c.p;
	rx->payload_len = c.len;
	/* Until DAD has passed, an address of ours hears only ND. */
	if (tentative && proto != IP6_NH_ICMP6) {
		STAT_INC(&s->stats, IP6_DROP_NOT_US);
		return;
	}
	switch (proto) {
	case IP6_NH_ICMP6:
		icmp6_input(s, c, rx, tentative);
		break;
	case IP6_NH_UDP:
		udp_input(s, c, rx);
		break;
	case IP6_NH_TCP:
		tcp_input(s, c, rx);
		break;
	default:
		break;
	}
}

/* A Fragment header at off, its next header field's predecessor at
 * nh_field; c starts with the Fragment header. */
static void ip6_fragment_input(struct stack *s, struct cur c, struct l3_rx *rx,
			       size_t nh_field, size_t off, unsigned depth,
			       bool tentative)
{
	struct ip6_frag_hdr fh;

	STAT_INC(&s->stats, IP6_FRAG_RX);
	if (!ip6_frag_parse(&c, &fh)) {
		STAT_INC(&s->stats, IP6_DROP_FRAG);
		return;
	}
	rx->fragmented = true;
	if (fh.off == 0 && !fh.more) {
		/* An atomic fragment: nothing to reassemble (RFC 6946). */
		STAT_INC(&s->stats, IP6_ATOMIC_FRAG);
		ip6_walk(s, c, rx, fh.next, off, off + IP6_FRAG_HLEN,
			 depth + 1, tentative);
		return;
	}
	/* Every fragment but the last carries a multiple of 8 bytes; none
	 * may reach past 65535 bytes of reassembled payload, which is the
	 * unfragmentable headers after the fixed one and the fragmentable
	 * part, without the Fragment header (RFC 8200 4.5). */
	if (fh.more && (c.len % 8 || c.len == 0)) {
		STAT_INC(&s->stats, IP6_DROP_FRAG);
		ip6_param_problem(s, rx, ICMP6_PARAM_HEADER, 4);
		return;
	}
	if ((size_t)fh.off + c.len > IP6_MAX_PAYLOAD - (off - IP6_HLEN)) {
		STAT_INC(&s->stats, IP6_DROP_FRAG);
		ip6_param_problem(s, rx, ICMP6_PARAM_HEADER, off + 2);
		return;
	}
	if (fh.off == 0 && !ip6_chain_complete(c, fh.next)) {
		STAT_INC(&s->stats, IP6_DROP_CHAIN);
		ip6_param_problem(s, rx, ICMP6_PARAM_CHAIN, 0);
		return;
	}
	ip6_reasm(s, c, rx, &fh, nh_field, off, depth, tentative);
}

void ip6_reasm_deliver(struct stack *s, struct cur payload, struct l3_rx *rx,
		       uint8_t nh, size_t nh_field, size_t hdr_len,
		       unsigned depth, bool tentative)
{
	ip6_walk(s, payload, rx, nh, nh_field, hdr_len, depth + 1, tentative);
}

/* Follow the chain from header nh at c (off bytes into the packet; the
 * field that named nh is at nh_field). */
static void ip6_walk(struct stack *s, struct cur c, struct l3_rx *rx,
		     uint8_t nh, size_t nh_field, size_t off, unsigned depth,
		     bool tentative)
{
	for (;; depth++) {
		const uint8_t *p;
		size_t len;

		/* The limit is on extension headers: the upper-layer header
		 * after the last one allowed is still delivered. */
		if (depth >= IP6_MAX_EXT && ip6_is_ext(nh)) {
			STAT_INC(&s->stats, IP6_DROP_EXT_LIMIT);
			return;
		}
		switch (nh) {
		case IP6_NH_HOPOPTS:
			if (off != IP6_HLEN || depth != 0) {
				/* Hop-by-Hop only first (RFC 8200 4.1). */
				STAT_INC(&s->stats, IP6_DROP_EXT);
				ip6_param_problem(s, rx, ICMP6_PARAM_NEXTHDR,
						  nh_field);
				return;
			}
			__attribute__((fallthrough));
		case IP6_NH_DSTOPTS:
			if (c.len < 2 ||
			    !(p = cur_pull(&c, len = ((size_t)c.p[1] + 1) * 8))) {
				STAT_INC(&s->stats, IP6_DROP_EXT);
				return;
			}
			if (!ip6_options(s, rx, p, len, off))
				return;
			break;
		case IP6_NH_ROUTING:
			if (c.len < 4 ||
			    !(p = cur_pull(&c, len = ((size_t)c.p[1] + 1) * 8))) {
				STAT_INC(&s->stats, IP6_DROP_EXT);
				return;
			}
			if (p[3]) {
				/* Segments left: a router's work, which a
				 * host does not do; type 0 is never done at
				 * all (RFC 5095). */
				s->stats.v[p[2] == 0 ? STAT_IP6_DROP_RH0
						     : STAT_IP6_DROP_ROUTING]++;
				ip6_param_problem(s, rx, ICMP6_PARAM_HEADER,
						  off + 2);
				return;
			}
			/* None left: ignored, whatever its type (RFC 8200
			 * 4.4, RFC 5095 3). */
			break;
		case IP6_NH_FRAGMENT:
			ip6_fragment_input(s, c, rx, nh_field, off, depth,
					   tentative);
			return;
		case IP6_NH_NONE:
			STAT_INC(&s->stats, IP6_DROP_NONE);
			return;
		case IP6_NH_ICMP6:
		case IP6_NH_UDP:
		case IP6_NH_TCP:
			ip6_deliver(s, c, rx, nh, off, tentative);
			return;
		default:
			STAT_INC(&s->stats, IP6_DROP_PROTO);
			ip6_param_problem(s, rx, ICMP6_PARAM_NEXTHDR, nh_field);
			return;
		}
		nh = p[0];
		nh_field = off;
		off += len;
	}
}

/* Whether we could answer a packet from src that starts with header nh
 * (c: its payload): false only for a TCP segment, a UDP datagram or an
 * echo request from an off-link source when we have no gateway.  ND,
 * errors and the rest are left to their own rules. */
static bool ip6_routable(struct stack *s, const uint8_t *src, uint8_t nh,
			 struct cur c)
{
	union inany hop;

	if (nh != IP6_NH_TCP && nh != IP6_NH_UDP &&
	    !(nh == IP6_NH_ICMP6 && c.len && c.p[0] == ICMP6_ECHO_REQUEST))
		return true;
	if (ip6_is_unspecified(src) || ip6_onlink(s, src) ||
	    !ip6_is_unspecified(s->p.gateway6))
		return true;
	return nd6_redirected(s, src, &hop);
}

void ip6_input(struct stack *s, struct cur c, const struct eth_hdr *eh,
	       unsigned flags)
{
	const uint8_t *hdr = c.p;
	struct ip6_hdr h;
	struct l3_rx rx;
	enum ip6_parse_err err;
	bool tentative;

	STAT_INC(&s->stats, IP6_RX);
	if (!s->naddr6) {
		STAT_INC(&s->stats, IP6_DROP_DISABLED);
		return;
	}
	err = ip6_hdr_parse(&c, &h);
	if (err != IP6_OK) {
		s->stats.v[parse_drop[err]]++;
		return;
	}
	if (!ip6_src_ok(s, h.src)) {
		STAT_INC(&s->stats, IP6_DROP_SRC);
		return;
	}
	memset(&rx, 0, sizeof(rx));
	rx.src = inany_from_v6(h.src);
	rx.dst = inany_from_v6(h.dst);
	rx.hop_limit = h.hop_limit;
	memcpy(rx.src_mac, eh->src, ETH_ALEN);
	rx.l2_multi = eth_is_multicast(eh->dst);
	rx.l3_multi = ip6_is_multicast(h.dst);
	rx.hdr = hdr;
	rx.hdr_len = IP6_HLEN;
	rx.dgram_len = IP6_HLEN + (size_t)h.payload_len;
	/* A link-layer multicast must carry an IPv6 multicast. */
	if (!ip6_dst_ok(s, h.dst, &tentative) || (rx.l2_multi && !rx.l3_multi)) {
		STAT_INC(&s->stats, IP6_DROP_NOT_US);
		return;
	}
	rx.csum_ok = flags & STACK_RX_CSUM_OK;
	if (!rx.l3_multi && !ip6_routable(s, h.src, h.next, c)) {
		/* We could not answer: say so at once, through the node
		 * the packet came from (RFC 4443 3.1, code 0). */
		STAT_INC(&s->stats, IP6_DROP_NO_ROUTE);
		rx.proto = h.next;
		rx.payload = c.p;
		rx.payload_len = c.len;
		icmp6_send_error(s, ICMP6_DEST_UNREACH, ICMP6_UNREACH_NOROUTE,
				 0, &rx);
		return;
	}
	ip6_walk(s, c, &rx, h.next, 6, IP6_HLEN, 0, tentative);
}

/* ---- Routing and source selection ---- */

bool ip6_onlink(const struct stack *s, const uint8_t *dst)
{
	if (ip6_is_linklocal(dst))
		return true;
	for (unsigned i = 1; i < s->naddr6; i++)
		if (ip6_prefix_eq(dst, s->addr6[i].a.a, s->addr6[i].prefix))
			return true;
	return false;
}

/* How many leading bits a and b share. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 16; i++) {
		uint8_t x = a[i] ^ b[i];

		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			n++;
			x = (uint8_t)(x << 1);
		}
		break;
	}
	return n;
}

/* RFC 6724's rules that matter on one link: the same scope (link-local
 * for link-local and link-scope multicast destinations), a usable
 * (preferred) address, then the longest matching prefix. */
union inany ip6_source(const struct stack *s, const union inany *dst)
{
	const struct addr6 *best = NULL;
	unsigned best_bits = 0;
	bool link = ip6_is_linklocal(dst->a) ||
		    (ip6_is_multicast(dst->a) && ip6_mcast_scope(dst->a) <= 2);

	if (!link) {
		for (unsigned i = 1; i < s->naddr6; i++) {
			const struct addr6 *a = &s->addr6[i];
			unsigned bits;

			if (a->state != ADDR6_PREFERRED)
				continue;
			bits = common_bits(a->a.a, dst->a);
			if (!best || bits > best_bits) {
				best = a;
				best_bits = bits;
			}
		}
	}
	if (!best && s->naddr6 && s->addr6[0].state == ADDR6_PREFERRED)
		best = &s->addr6[0];
	return best ? best->a : INANY_ANY;
}

int ip6_reachable(const struct stack *s, const union inany *dst)
{
	union inany src;
	if (!s->naddr6)
		return -EAFNOSUPPORT;
	if (ip6_is_unspecified(dst->a) || ip6_is_v4mapped(dst->a) ||
	    ip6_is_loopback(dst->a))
		return -EINVAL;
	src = ip6_source(s, dst);
	if (inany_is_unspec(&src))
		return -EINVAL;
	if (ip6_is_multicast(dst->a) || ip6_onlink(s, dst->a))
		return 0;
	return ip6_is_unspecified(s->p.gateway6) ? -EHOSTUNREACH : 0;
}

/* The next hop towards dst: dst itself on the link, else the gateway.
 * False when there is none. */
static bool ip6_next_hop(struct stack *s, const uint8_t *dst,
			 union inany *nh)
{
	if (nd6_redirected(s, dst, nh))
		return true;
	if (ip6_onlink(s, dst)) {
		*nh = inany_from_v6(dst);
		return true;
	}
	if (ip6_is_unspecified(s->p.gateway6))
		return false;
	*nh = inany_from_v6(s->p.gateway6);
	return true;
}

bool ip6_neigh_ready(struct stack *s, const union inany *dst)
{
	union inany nh;

	if (ip6_is_multicast(dst->a) || !ip6_next_hop(s, dst->a, &nh))
		return false;
	return neigh_ready(&s->nd, &nh);
}

bool ip6_offload_ok(struct stack *s, const union inany *dst)
{
	return s->p.offload && ip6_neigh_ready(s, dst);
}

/* ---- Output ---- */

/* RFC 7739 5.3 as for IPv4 (see ip4.c): one keyed hash of the address
 * pair picks a counter and gives an offset the peer cannot compute. */
static uint32_t ip6_next_id(struct stack *s, const uint8_t *src,
			    const uint8_t *dst)
{
	uint8_t b[32];
	uint64_t h;

	memcpy(b, src, 16);
	memcpy(b + 16, dst, 16);
	h = tapir_siphash24(b, sizeof(b), s->frag6_key);
	return (uint32_t)(h >> 32) + ++s->frag6_ids[h & (IP6_ID_BUCKETS - 1)];
}

static int ip6_emit(struct stack *s, const uint8_t *mac,
		    const union inany *next_hop, struct pbuf *pb,
		    const struct stack_tx_offload *off, unsigned flags)
{
	if (mac)
		return eth_output(s, mac, ETH_TYPE_IP6, pb, off);
	return neigh_output(&s->nd, next_hop, ETH_TYPE_IP6, pb, off, flags);
}

int ip6_xmit(struct stack *s, const uint8_t *mac, const union inany *next_hop,
	     unsigned mtu, struct pbuf *pb,
	     const struct stack_tx_offload *offload)
{
	const uint8_t *dg = pbuf_data(pb);
	size_t payload = pb->len - IP6_HLEN, chunk, off;
	struct ip6_hdr h;
	struct cur c = cur_make(dg, pb->len);
	struct ip6_frag_hdr fh;
	int err = 0;

	STAT_INC(&s->stats, IP6_TX);
	if (pb->len <= mtu || (offload && offload->gso_size))
		return ip6_emit(s, mac, next_hop, pb, offload, 0);
	/* Fragment (RFC 8200 4.5): we wrote this header and no extension
	 * header, so all but the fixed header is the fragmentable part. */
	if (ip6_hdr_parse(&c, &h) != IP6_OK)
		return -EINVAL;
	fh.next = h.next;
	fh.id = ip6_next_id(s, h.src, h.dst);
	h.next = IP6_NH_FRAGMENT;
	chunk = (mtu - IP6_HLEN - IP6_FRAG_HLEN) & ~(size_t)7;
	for (off = 0; off < payload && !err; off += chunk) {
		size_t n = payload - off < chunk ? payload - off : chunk;
		struct pbuf *f = &s->frag;

		pbuf_reset(f);
		memcpy(pbuf_put(f, n), dg + IP6_HLEN + off, n);
		fh.off = (uint16_t)off;
		fh.more = off + n < payload;
		ip6_frag_write(pbuf_push(f, IP6_FRAG_HLEN), &fh);
		h.payload_len = (uint16_t)(IP6_FRAG_HLEN + n);
		ip6_hdr_write(pbuf_push(f, IP6_HLEN), &h);
		STAT_INC(&s->stats, IP6_FRAG_TX);
		err = ip6_emit(s, mac, next_hop, f, NULL, off ? NEIGH_MORE : 0);
	}
	return err;
}

int ip6_output(struct stack *s, const union inany *src, const union inany *dst,
	       uint8_t proto, uint8_t hop_limit, const uint8_t *dst_mac,
	       struct pbuf *pb, const struct stack_tx_offload *off)
{
	struct ip6_hdr h = {
		.next = proto,
		.hop_limit = hop_limit ? hop_limit : s->p.hop_limit,
	};
	union inany next_hop = *dst;
	uint8_t mcast_mac[ETH_ALEN];

	if (pb->len > IP6_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (!s->naddr6)
		return -EAFNOSUPPORT;
	/* :: names no node: only Neighbor Discovery's probes and MLD's
	 * reports (ICMPv6, the latter behind a Hop-by-Hop header) may come
	 * from it (RFC 4291 2.5.2, RFC 4862 5.4.2, RFC 3810 5.2.13).  A
	 * datagram that found no usable address of ours (none preferred
	 * yet, all tentative) does not go out. */
	if (ip6_is_unspecified(src->a) && proto != IP6_NH_ICMP6 &&
	    proto != IP6_NH_HOPOPTS) {
		STAT_INC(&s->stats, IP6_DROP_NO_SOURCE);
		return -EINVAL;
	}
	if (ip6_is_multicast(dst->a)) {
		ip6_mcast_mac(dst->a, mcast_mac);
		dst_mac = mcast_mac;
	} else if (!dst_mac && !ip6_next_hop(s, dst->a, &next_hop)) {
		STAT_INC(&s->stats, IP6_DROP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	memcpy(h.src, src->a, 16);
	memcpy(h.dst, dst->a, 16);
	h.payload_len = (uint16_t)pb->len;
	ip6_hdr_write(pbuf_push(pb, IP6_HLEN), &h);
	return ip6_xmit(s, dst_mac, &next_hop,
			s->pmtu_used ? pmtu_get(s, dst) : s->p.mtu, pb, off);
}
