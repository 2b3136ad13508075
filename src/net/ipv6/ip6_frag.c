/*
 * IPv6 reassembly (RFC 8200 4.5): a fragment's place in the reassembler
 * both families share (net/frag.h), and the walk of what it completes.
 *
 * The unfragmentable part (the IPv6 header and the extension headers
 * before the Fragment header) is kept from the offset-0 fragment with the
 * byte that named the Fragment header set to the Fragment header's Next
 * Header, so the reassembled datagram reads as if it had never been cut;
 * its walk then goes on from the first header of the fragmentable part.
 * The unfragmentable part is at most IP6_UNFRAG_MAX bytes (a Hop-by-Hop
 * header and a Destination Options header of a few options each fit
 * easily); more is dropped, so what a fragment makes us keep is bounded
 * before the reassembler's own limits apply.
 */
#include "net/core.h"
#include "net/frag.h"
#include "wire/icmp6.h"
#include "wire/ip6.h"

#include <string.h>

#define IP6_UNFRAG_MAX 1024

void ip6_reasm(struct stack *s, struct cur c, struct l3_rx *rx,
	       const struct ip6_frag_hdr *fh, size_t nh_field, size_t off,
	       unsigned depth, bool tentative)
{
	uint8_t hdr[IP6_UNFRAG_MAX];
	struct reasm_frag f;
	struct reasm_dgram *d;
	enum reasm_result res;
	struct l3_rx out;
	struct cur payload;
	struct pbuf *pb;
	uint8_t *p;

	if (off > sizeof(hdr) || nh_field >= off) {
		STAT_INC(&s->stats, IP6_DROP_FRAG);
		return;
	}
	memcpy(hdr, rx->hdr, off);
	hdr[nh_field] = fh->next;
	rx->proto = fh->next;
	memset(&f, 0, sizeof(f));
	f.key.src = rx->src;
	f.key.dst = rx->dst;
	f.key.id = fh->id;
	f.off = fh->off;
	f.more = fh->more;
	f.data = c;
	f.hdr = hdr;
	f.hdr_len = off;
	f.rx = rx;
	d = reasm_input(s, &f, &out, &payload, &res);
	switch (res) {
	case REASM_UNALIGNED: /* RFC 8200 4.5: at the Payload Length */
		ip6_param_problem(s, rx, ICMP6_PARAM_HEADER, 4);
		break;
	case REASM_TOO_LONG: /* at the Fragment Offset */
		ip6_param_problem(s, rx, ICMP6_PARAM_HEADER, off + 2);
		break;
	default:
		break;
	}
	if (!d)
		return;
	/* The reassembler keeps the header apart from the data; the walk,
	 * and the errors that quote the datagram, want them in one piece,
	 * as an unfragmented packet is.  A copy (reassembly is the slow
	 * path) in a buffer of the stack's own, then the datagram goes. */
	pb = &s->rx6;
	pbuf_reset(pb);
	p = pbuf_put(pb, out.hdr_len + payload.len);
	if (!p) {
		reasm_release(s, d);
		return;
	}
	memcpy(p, out.hdr, out.hdr_len);
	memcpy(p + out.hdr_len, payload.p, payload.len);
	out.hdr = p;
	out.dgram_len = out.hdr_len + payload.len;
	out.payload = NULL;
	out.payload_len = 0;
	out.fragmented = true;
	reasm_release(s, d);
	ip6_reasm_deliver(s, cur_make(p + out.hdr_len, payload.len), &out,
			  fh->next, nh_field, out.hdr_len, depth, tentative);
}
