/* The checks the whole-stack harnesses share; see stack_check.h. */
#include "stack_check.h"
#include "net/csum.h"
#include "wire/arp.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ip4.h"
#include "wire/ip6.h"
#include "wire/udp.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Addresses remembered per run: a run toggles between a few. */
#define SC_MAX_ADDRS 64

static struct {
	const char *name;
	bool lax_timers;
	struct stack *s;

	uint32_t v4[SC_MAX_ADDRS];
	unsigned nv4;
	uint8_t v6[SC_MAX_ADDRS][16];
	unsigned nv6;

	/* The fragmented IPv6 datagram being followed: its pieces so far,
	 * contiguous from offset 0. */
	bool frag_on;
	uint32_t frag_id;
	uint8_t frag_src[16], frag_dst[16];
	uint8_t frag_next;
	size_t frag_have;
	uint8_t frag_buf[IP6_MAX_PAYLOAD];
} sc;

void sc_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: invariant violated: ", sc.name ? sc.name : "fuzz");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void sc_init(const char *harness)
{
	const char *lax = getenv("TAPIR_FUZZ_LAX_TIMERS");

	sc.name = harness;
	sc.lax_timers = lax && *lax && *lax != '0';
}

void sc_start(struct stack *s)
{
	sc.s = s;
	sc.nv4 = sc.nv6 = 0;
	sc.frag_on = false;
	sc_note();
}

/* An address for a failure line (a static buffer: one per line). */
static const char *fmt6(const uint8_t *a)
{
	static char buf[2][INET6_ADDRSTRLEN];
	static unsigned n;
	char *b = buf[n++ % 2];

	if (!inet_ntop(AF_INET6, a, b, INET6_ADDRSTRLEN))
		snprintf(b, INET6_ADDRSTRLEN, "?");
	return b;
}

HARNESS_ONLY
void sc_note(void)
{
	const struct stack *s = sc.s;
	unsigned i;

	for (i = 0; i < sc.nv4 && sc.v4[i] != s->p.addr; i++)
		;
	if (i == sc.nv4) {
		if (sc.nv4 == SC_MAX_ADDRS)
			FAIL("harness: more than %d IPv4 addresses in a run",
			     SC_MAX_ADDRS);
		sc.v4[sc.nv4++] = s->p.addr;
	}
	for (unsigned j = 0; j < s->naddr6; j++) {
		if (s->addr6[j].state != ADDR6_PREFERRED)
			continue;
		for (i = 0; i < sc.nv6 && memcmp(sc.v6[i], s->addr6[j].a.a, 16);
		     i++)
			;
		if (i < sc.nv6)
			continue;
		if (sc.nv6 == SC_MAX_ADDRS)
			FAIL("harness: more than %d IPv6 addresses in a run",
			     SC_MAX_ADDRS);
		memcpy(sc.v6[sc.nv6++], s->addr6[j].a.a, 16);
	}
}

static bool ours4(uint32_t a)
{
	for (unsigned i = 0; i < sc.nv4; i++)
		if (sc.v4[i] == a)
			return true;
	return false;
}

/* One of our IPv6 addresses, preferred now or at some point of the run. */
static bool ours6(const uint8_t *a)
{
	for (unsigned i = 0; i < sc.nv6; i++)
		if (memcmp(sc.v6[i], a, 16) == 0)
			return true;
	return false;
}

/* The stack's entry for a, whatever its state; NULL when none. */
static const struct addr6 *addr6_of(const uint8_t *a)
{
	for (unsigned i = 0; i < sc.s->naddr6; i++)
		if (memcmp(sc.s->addr6[i].a.a, a, 16) == 0)
			return &sc.s->addr6[i];
	return NULL;
}

/* ---- ARP and IPv4 ---- */

HARNESS_ONLY
static void check_arp_frame(const uint8_t *p, size_t len)
{
	static const uint8_t zero[ETH_ALEN];
	struct cur c = cur_make(p, len);
	struct arp_hdr a;

	if (len != ARP_LEN)
		FAIL("ARP frame of %zu bytes", len);
	if (!arp_hdr_parse(&c, &a))
		FAIL("malformed ARP packet emitted");
	if (a.op != ARP_OP_REQUEST && a.op != ARP_OP_REPLY)
		FAIL("ARP op %u emitted", a.op);
	if (memcmp(a.sha, sc.s->p.mac, ETH_ALEN) != 0)
		FAIL("ARP sender MAC is not ours");
	if (a.spa == 0) {
		/* RFC 5227 2.1.1: a probe, only while probing, for the
		 * address probed for, with a zero target MAC. */
		if (a.op != ARP_OP_REQUEST || sc.s->acd_state != ACD_PROBING ||
		    a.tpa != sc.s->p.addr || memcmp(a.tha, zero, ETH_ALEN))
			FAIL("ARP packet from 0.0.0.0 that is not a probe");
		return;
	}
	if (!ours4(a.spa))
		FAIL("ARP sender address %08x is not ours", a.spa);
	/* Nothing else goes out with an address being probed for or
	 * found in use by another host (RFC 5227 2.1.1, 2.4). */
	if (a.spa != sc.s->p.addr || !ip4_addr_usable(sc.s))
		FAIL("ARP from %08x, not our address in use", a.spa);
}

/* A TCP segment of len bytes whose pseudo-header sums to pseudo: its
 * header sane, its checksum complete, or (csum_left) holding the
 * pseudo-header sum for the link to finish. */
HARNESS_ONLY
static void check_tcp(const uint8_t *p, size_t len, uint32_t pseudo,
		      bool csum_left)
{
	if (len < 20 || (size_t)(p[12] >> 4) * 4 < 20 ||
	    (size_t)(p[12] >> 4) * 4 > len)
		FAIL("TCP segment of %zu bytes, data offset %u", len,
		     len >= 20 ? p[12] >> 4 : 0);
	if (csum_left) {
		uint16_t partial = (uint16_t)~csum_fold(pseudo);

		if (be16(p + 16) != partial)
			FAIL("bad partial TCP checksum emitted");
	} else if (csum_fold(csum_partial(p, len, pseudo)) != 0) {
		FAIL("bad TCP checksum emitted");
	}
	/* Not checked: port 0.  TCP answers a segment from port 0 (a RST,
	 * or a SYN-ACK on a listening port) in both families; fuzz_tcp.c is
	 * where TCP's own invariants are. */
}

HARNESS_ONLY
static void check_udp(const uint8_t *p, size_t len, uint32_t pseudo)
{
	if (len < UDP_HLEN || be16(p + 4) != len)
		FAIL("UDP length %u in a %zu-byte payload",
		     len >= UDP_HLEN ? be16(p + 4) : 0, len);
	if (be16(p + 6) == 0)
		FAIL("UDP sent without a checksum");
	if (csum_fold(csum_partial(p, len, pseudo)) != 0)
		FAIL("bad UDP checksum emitted");
	if (be16(p + 2) == 0 || be16(p) == 0)
		FAIL("UDP port 0 emitted");
}

HARNESS_ONLY
static void check_transport4(uint8_t proto, uint32_t src, uint32_t dst,
			     const uint8_t *p, size_t len, bool csum_left)
{
	if (proto == IP4_PROTO_UDP) {
		check_udp(p, len,
			  csum_pseudo4(src, dst, IP4_PROTO_UDP, (uint16_t)len));
	} else if (proto == IP4_PROTO_ICMP) {
		if (len < ICMP4_HLEN)
			FAIL("ICMP message of %zu bytes", len);
		if (csum(p, len) != 0)
			FAIL("bad ICMP checksum emitted");
		if (p[0] != ICMP4_ECHO_REPLY && p[0] != ICMP4_DEST_UNREACH &&
		    !(p[0] == ICMP4_TIME_EXCEEDED &&
		      p[1] == ICMP4_EXC_FRAGTIME))
			FAIL("ICMP type %u code %u emitted", p[0], p[1]);
		if (p[0] != ICMP4_ECHO_REPLY && len > 576 - IP4_HLEN)
			FAIL("ICMP error of %zu bytes exceeds 576", len);
	} else if (proto == IP4_PROTO_TCP) {
		check_tcp(p, len,
			  csum_pseudo4(src, dst, IP4_PROTO_TCP, (uint16_t)len),
			  csum_left);
	} else {
		FAIL("IP protocol %u emitted", proto);
	}
}

HARNESS_ONLY
static void check_ip4_frame(const uint8_t *p, size_t len, bool csum_left)
{
	uint16_t total, frag;
	uint32_t src, dst;
	size_t plen;

	if (len < IP4_HLEN)
		FAIL("IPv4 frame with %zu bytes of payload", len);
	if (p[0] != 0x45)
		FAIL("IPv4 version/IHL byte %02x emitted", p[0]);
	if (csum(p, IP4_HLEN) != 0)
		FAIL("bad IPv4 header checksum emitted");
	total = be16(p + 2);
	if (total != len)
		FAIL("IPv4 total length %u in a %zu-byte frame payload", total,
		     len);
	frag = be16(p + 6);
	src = be32(p + 12);
	dst = be32(p + 16);
	plen = len - IP4_HLEN;
	if (!ours4(src))
		FAIL("IPv4 source %08x is not ours", src);
	if (dst == 0 || ip4_is_loopback(dst))
		FAIL("IPv4 destination %08x emitted", dst);
	if (p[8] == 0)
		FAIL("IPv4 TTL 0 emitted");
	if (frag & IP4_FLAG_MF && (plen == 0 || plen % 8))
		FAIL("non-last fragment with %zu bytes", plen);
	if ((size_t)(frag & IP4_OFF_MASK) * 8 + plen > IP4_MAX_LEN - IP4_HLEN)
		FAIL("fragment ends past 65535");
	if (frag & (IP4_FLAG_MF | IP4_OFF_MASK)) {
		if (csum_left)
			FAIL("checksum offload asked for an IPv4 fragment");
		return;
	}
	check_transport4(p[9], src, dst, p + IP4_HLEN, plen, csum_left);
}

/* ---- IPv6 ---- */

/* The IPv6 pseudo-header sum (RFC 8200 8.1), worked out here rather than
 * with the stack's l3_pseudo(). */
uint32_t sc_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh,
		    size_t len)
{
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	put_be32(ph + 32, (uint32_t)len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nh;
	return csum_partial(ph, sizeof(ph), 0);
}

static bool is_nd(uint8_t type)
{
	return type >= ICMP6_ND_RS && type <= ICMP6_ND_REDIRECT;
}

/* The options of an NS or NA (after its 24 bytes): each of non-zero length
 * and inside the message, only a link-layer address option of the type
 * allowed (lla_type) and holding our MAC.  Returns whether there was one. */
HARNESS_ONLY
static bool check_nd_opts(const uint8_t *p, size_t len, uint8_t lla_type)
{
	bool lla = false;

	while (len) {
		size_t olen;

		if (len < 2 || p[1] == 0)
			FAIL("ND option with length 0 emitted");
		olen = (size_t)p[1] * 8;
		if (olen > len)
			FAIL("ND option of %zu bytes past the message's end",
			     olen);
		if (p[0] != lla_type)
			FAIL("ND option %u emitted", p[0]);
		if (olen != 8 || memcmp(p + 2, sc.s->p.mac, ETH_ALEN) != 0)
			FAIL("link-layer address option is not our MAC");
		if (lla)
			FAIL("two link-layer address options emitted");
		lla = true;
		p += olen;
		len -= olen;
	}
	return lla;
}

HARNESS_ONLY
static void check_ns(const uint8_t *src, const uint8_t *dst, const uint8_t *p,
		     size_t len)
{
	const uint8_t *target = p + ICMP6_HLEN;
	union inany t;
	uint8_t sn[16];
	bool lla;

	if (len < ND_NS_LEN)
		FAIL("NS of %zu bytes", len);
	if (be32(p + 4))
		FAIL("NS with reserved bits set");
	if (ip6_is_multicast(target))
		FAIL("NS for multicast target %s", fmt6(target));
	lla = check_nd_opts(p + ND_NS_LEN, len - ND_NS_LEN, ND_OPT_SLLA);
	ip6_solicited_node(target, sn);
	if (ip6_is_unspecified(src)) {
		const struct addr6 *a = addr6_of(target);

		/* Duplicate Address Detection (RFC 4862 5.4.2). */
		if (!a || a->state != ADDR6_TENTATIVE)
			FAIL("NS from :: for %s, not a tentative address of "
			     "ours",
			     fmt6(target));
		if (memcmp(dst, sn, 16) != 0)
			FAIL("DAD NS for %s sent to %s", fmt6(target),
			     fmt6(dst));
		if (lla)
			FAIL("DAD NS with a source link-layer address");
		return;
	}
	t = inany_from_v6(target);
	if (ip6_is_local(sc.s, &t))
		FAIL("NS from %s for our own address %s", fmt6(src),
		     fmt6(target));
	if (ip6_is_multicast(dst)) {
		if (memcmp(dst, sn, 16) != 0)
			FAIL("NS for %s sent to group %s", fmt6(target),
			     fmt6(dst));
		/* RFC 4861 4.3: it MUST be included in multicast ones. */
		if (!lla)
			FAIL("multicast NS without a source link-layer "
			     "address");
	} else if (memcmp(dst, target, 16) != 0) {
		FAIL("unicast NS for %s sent to %s", fmt6(target), fmt6(dst));
	}
}

HARNESS_ONLY
static void check_na(const uint8_t *src, const uint8_t *dst, const uint8_t *p,
		     size_t len)
{
	const uint8_t *target = p + ICMP6_HLEN;
	uint32_t flags;

	if (len < ND_NA_LEN)
		FAIL("NA of %zu bytes", len);
	flags = be32(p + 4);
	if (flags & ~(ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE))
		FAIL("NA with reserved bits set");
	if (!(flags & ND_NA_ROUTER) != !sc.s->router_refs)
		FAIL("NA with the router flag %s while %s a router",
		     flags & ND_NA_ROUTER ? "set" : "clear",
		     sc.s->router_refs ? "" : "not");
	if (ip6_is_multicast(target))
		FAIL("NA for multicast target %s", fmt6(target));
	if (memcmp(target, src, 16) != 0)
		FAIL("NA for %s sent from %s", fmt6(target), fmt6(src));
	if (ip6_is_multicast(dst) && (flags & ND_NA_SOLICITED))
		FAIL("NA to group %s marked solicited", fmt6(dst));
	check_nd_opts(p + ND_NA_LEN, len - ND_NA_LEN, ND_OPT_TLLA);
}

/* An ICMPv6 error (len bytes at p) sent to dst. */
HARNESS_ONLY
static void check_error6(const uint8_t *dst, const uint8_t *p, size_t len)
{
	static const uint8_t max_code[] = {
	    [ICMP6_DEST_UNREACH] = 6,
	    [ICMP6_TIME_EXCEEDED] = ICMP6_EXC_FRAGTIME,
	    [ICMP6_PARAM_PROBLEM] = ICMP6_PARAM_CHAIN,
	};
	const uint8_t *q = p + ICMP6_HLEN;
	size_t qlen = len - ICMP6_HLEN, off = IP6_HLEN;
	uint8_t type = p[0], code = p[1], nh;

	if (code > max_code[type])
		FAIL("ICMPv6 error type %u code %u emitted", type, code);
	if (ip6_is_multicast(dst))
		FAIL("ICMPv6 error sent to group %s", fmt6(dst));
	if (IP6_HLEN + len > IP6_MIN_MTU)
		FAIL("ICMPv6 error of %zu bytes exceeds 1280", IP6_HLEN + len);
	if (qlen < IP6_HLEN || q[0] >> 4 != 6)
		FAIL("ICMPv6 error quoting %zu bytes, not an IPv6 header",
		     qlen);
	if (memcmp(q + 8, dst, 16) != 0)
		FAIL("ICMPv6 error about a packet from %s sent to %s",
		     fmt6(q + 8), fmt6(dst));
	if (ip6_is_multicast(q + 24) &&
	    !(type == ICMP6_PARAM_PROBLEM && code == ICMP6_PARAM_OPTION))
		FAIL("ICMPv6 error type %u code %u about a packet to group "
		     "%s",
		     type, code, fmt6(q + 24));
	if (type == ICMP6_PARAM_PROBLEM &&
	    be32(p + 4) >= IP6_HLEN + (size_t)be16(q + 4))
		FAIL("parameter problem pointer %u past a %u-byte packet",
		     be32(p + 4), IP6_HLEN + be16(q + 4));
	/* RFC 4443 2.4 (e.1, e.2): follow the quoted packet's chain as far
	 * as the quote goes, to the upper-layer header. */
	nh = q[6];
	for (;;) {
		if (nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING ||
		    nh == IP6_NH_DSTOPTS) {
			if (qlen < off + 2)
				break;
			nh = q[off];
			off += ((size_t)q[off + 1] + 1) * 8;
		} else if (nh == IP6_NH_AH) {
			if (qlen < off + 2)
				break;
			nh = q[off];
			off += ((size_t)q[off + 1] + 2) * 4;
		} else if (nh == IP6_NH_FRAGMENT) {
			if (qlen < off + IP6_FRAG_HLEN ||
			    (be16(q + off + 2) & IP6_FRAG_OFF_MASK))
				break; /* not the first fragment */
			nh = q[off];
			off += IP6_FRAG_HLEN;
		} else {
			if (nh == IP6_NH_ICMP6 && off < qlen &&
			    (icmp6_is_error(q[off]) ||
			     q[off] == ICMP6_ND_REDIRECT))
				FAIL("ICMPv6 error type %u about an ICMPv6 "
				     "type %u",
				     type, q[off]);
			break;
		}
	}
}

/* An ICMPv6 message (whole: from one frame, or put back together). */
HARNESS_ONLY
static void check_icmp6(const uint8_t *src, const uint8_t *dst,
			const uint8_t *p, size_t len)
{
	if (len < ICMP6_HLEN)
		FAIL("ICMPv6 message of %zu bytes", len);
	if (csum_fold(csum_partial(
		p, len, sc_pseudo6(src, dst, IP6_NH_ICMP6, len))) != 0)
		FAIL("bad ICMPv6 checksum emitted (type %u)", p[0]);
	if (ip6_is_unspecified(src) && p[0] != ICMP6_ND_NS)
		FAIL("ICMPv6 type %u sent from ::", p[0]);
	switch (p[0]) {
	case ICMP6_ECHO_REPLY:
		if (p[1])
			FAIL("echo reply with code %u", p[1]);
		if (ip6_is_multicast(dst))
			FAIL("echo reply to group %s", fmt6(dst));
		break;
	case ICMP6_ECHO_REQUEST:
		/* A module's ping (host API 4). */
		if (p[1])
			FAIL("echo request with code %u", p[1]);
		if (ip6_is_multicast(dst))
			FAIL("echo request to group %s", fmt6(dst));
		break;
	case ICMP6_ND_RA:
		/* A module's Router Advertisement: from our link-local
		 * address, to the link only (RFC 4861 6.2.3). */
		if (p[1] || len < 16)
			FAIL("RA with code %u, %zu bytes", p[1], len);
		if (!ip6_is_linklocal(src))
			FAIL("RA from %s, not link-local", fmt6(src));
		if (!ip6_is_linklocal(dst) &&
		    !(ip6_is_multicast(dst) && ip6_mcast_scope(dst) == 2))
			FAIL("RA to %s, beyond the link", fmt6(dst));
		break;
	case ICMP6_ND_NS:
	case ICMP6_ND_NA:
		if (p[1])
			FAIL("ND type %u with code %u", p[0], p[1]);
		if (p[0] == ICMP6_ND_NS)
			check_ns(src, dst, p, len);
		else
			check_na(src, dst, p, len);
		break;
	case ICMP6_DEST_UNREACH:
	case ICMP6_TIME_EXCEEDED:
	case ICMP6_PARAM_PROBLEM:
		check_error6(dst, p, len);
		break;
	default:
		FAIL("ICMPv6 type %u code %u emitted", p[0], p[1]);
	}
}

HARNESS_ONLY
static void check_transport6(uint8_t nh, const uint8_t *src, const uint8_t *dst,
			     const uint8_t *p, size_t len, bool csum_left)
{
	if (ip6_is_unspecified(src) && nh != IP6_NH_ICMP6)
		FAIL("next header %u sent from ::", nh);
	switch (nh) {
	case IP6_NH_ICMP6:
		if (csum_left)
			FAIL("checksum offload asked for ICMPv6");
		check_icmp6(src, dst, p, len);
		break;
	case IP6_NH_UDP:
		if (csum_left)
			FAIL("checksum offload asked for UDP");
		check_udp(p, len, sc_pseudo6(src, dst, IP6_NH_UDP, len));
		break;
	case IP6_NH_TCP:
		check_tcp(p, len, sc_pseudo6(src, dst, IP6_NH_TCP, len),
			  csum_left);
		break;
	default:
		FAIL("IPv6 next header %u emitted", nh);
	}
}

/* A Fragment header and its piece (len bytes at p); follow the datagram
 * while its pieces come in order. */
HARNESS_ONLY
static void check_frag6(const uint8_t *src, const uint8_t *dst,
			const uint8_t *p, size_t len)
{
	uint16_t w;
	size_t off, n = len - IP6_FRAG_HLEN;
	bool more;
	uint32_t id;

	if (len < IP6_FRAG_HLEN)
		FAIL("Fragment header cut short (%zu bytes)", len);
	w = be16(p + 2);
	off = w & IP6_FRAG_OFF_MASK;
	more = w & IP6_FRAG_MORE;
	id = be32(p + 4);
	if (p[1] || (w & 6))
		FAIL("Fragment header with reserved bits set");
	if (!more && off == 0)
		FAIL("atomic fragment emitted (RFC 8021)");
	if (more && (n == 0 || n % 8))
		FAIL("non-final fragment with %zu bytes", n);
	if (off + n > IP6_MAX_PAYLOAD)
		FAIL("fragment ends past 65535 (offset %zu, %zu bytes)", off,
		     n);
	if (p[0] != IP6_NH_ICMP6 && p[0] != IP6_NH_UDP && p[0] != IP6_NH_TCP)
		FAIL("next header %u after a Fragment header", p[0]);
	if (ip6_is_unspecified(src))
		FAIL("fragment sent from ::");
	if (off == 0 && p[0] == IP6_NH_ICMP6 && n && is_nd(p[IP6_FRAG_HLEN]))
		FAIL("ND message type %u fragmented", p[IP6_FRAG_HLEN]);

	if (off == 0) {
		sc.frag_on = true;
		sc.frag_id = id;
		memcpy(sc.frag_src, src, 16);
		memcpy(sc.frag_dst, dst, 16);
		sc.frag_next = p[0];
		sc.frag_have = 0;
	} else if (!sc.frag_on || sc.frag_id != id ||
		   memcmp(sc.frag_src, src, 16) ||
		   memcmp(sc.frag_dst, dst, 16) || sc.frag_have != off) {
		sc.frag_on = false; /* out of order, or a piece lost */
		return;
	}
	if (p[0] != sc.frag_next)
		FAIL("fragments of one datagram name next headers %u and %u",
		     sc.frag_next, p[0]);
	memcpy(sc.frag_buf + off, p + IP6_FRAG_HLEN, n);
	sc.frag_have = off + n;
	if (more)
		return;
	sc.frag_on = false;
	check_transport6(sc.frag_next, src, dst, sc.frag_buf, sc.frag_have,
			 false);
}

/* The one datagram we send with an extension header: an MLDv2 report
 * (RFC 3810 5.2): from our link-local address (or :: while it is
 * tentative), to ff02::16, hop limit 1, a Hop-by-Hop header with a Router
 * Alert, then a Report whose records each name a solicited-node group or
 * a group joined through stack_mcast6_join(), and no sources, with a
 * valid checksum. */
HARNESS_ONLY
static void check_mld6(const uint8_t *src, const uint8_t *dst, uint8_t hop,
		       const uint8_t *body, size_t plen)
{
	static const uint8_t mldv2[16] = {0xff, 0x02, [15] = 0x16};
	const uint8_t *m = body + 8;
	size_t mlen, n;
	union inany s6 = inany_from_v6(src), d6 = inany_from_v6(dst);

	if (memcmp(dst, mldv2, 16) != 0 || hop != 1)
		FAIL("Hop-by-Hop datagram to %s, hop limit %u: not an MLD "
		     "report", fmt6(dst), hop);
	if (!ip6_is_unspecified(src) &&
	    (!ip6_is_linklocal(src) || !ours6(src)))
		FAIL("MLD report from %s", fmt6(src));
	if (plen < 8 + ICMP6_HLEN || body[0] != IP6_NH_ICMP6 || body[1] != 0 ||
	    body[2] != IP6_OPT_ROUTER_ALERT || body[3] != 2 || body[4] ||
	    body[5])
		FAIL("MLD report without its Router Alert header");
	mlen = plen - 8;
	if (m[0] != ICMP6_MLD2_REPORT || m[1] != 0)
		FAIL("ICMPv6 type %u code %u behind a Hop-by-Hop header", m[0],
		     m[1]);
	if (csum_fold(csum_partial(m, mlen, l3_pseudo(&s6, &d6, IP6_NH_ICMP6,
						      mlen))) != 0)
		FAIL("MLD report with a bad checksum");
	n = be16(m + 6);
	if (n == 0 || mlen != ICMP6_HLEN + n * 20)
		FAIL("MLD report of %zu records in %zu bytes", n, mlen);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = m + ICMP6_HLEN + i * 20;

		bool solicited = r[15] == 1 && r[16] == 0xff;

		if (r[0] < 2 || r[0] > 4 || r[1] || be16(r + 2) ||
		    r[4] != 0xff || r[5] != 0x02 ||
		    (!solicited && !mld6_joined(sc.s, r + 4)))
			FAIL("MLD record %zu malformed", i);
	}
}

HARNESS_ONLY
static void check_ip6_frame(const uint8_t *eth_dst, const uint8_t *p,
			    size_t len, bool csum_left)
{
	const uint8_t *src = p + 8, *dst = p + 24, *body = p + IP6_HLEN;
	size_t plen;
	uint8_t nh, hop, mac[ETH_ALEN];

	if (len < IP6_HLEN)
		FAIL("IPv6 frame with %zu bytes of payload", len);
	if (p[0] >> 4 != 6)
		FAIL("IP version %u in an IPv6 frame", p[0] >> 4);
	plen = len - IP6_HLEN;
	if (be16(p + 4) != plen || plen == 0)
		FAIL("IPv6 payload length %u in a %zu-byte frame payload",
		     be16(p + 4), len);
	nh = p[6];
	hop = p[7];
	if (nh == IP6_NH_HOPOPTS) {
		check_mld6(src, dst, hop, body, plen);
		return;
	}
	if (!ip6_is_unspecified(src) && !ours6(src))
		FAIL("IPv6 source %s is not ours", fmt6(src));
	if (ip6_is_unspecified(dst) || ip6_is_loopback(dst) ||
	    ip6_is_v4mapped(dst))
		FAIL("IPv6 destination %s emitted", fmt6(dst));
	if (ip6_is_multicast(dst)) {
		ip6_mcast_mac(dst, mac);
		if (memcmp(eth_dst, mac, ETH_ALEN) != 0)
			FAIL("IPv6 group %s sent to a MAC not 33:33 and its "
			     "low 32 bits",
			     fmt6(dst));
	} else {
		union inany d = inany_from_v6(dst);

		if (ip6_is_local(sc.s, &d))
			FAIL("IPv6 datagram to our own address %s", fmt6(dst));
	}
	if (nh == IP6_NH_ICMP6 && is_nd(body[0])) {
		if (hop != ND_HOP_LIMIT)
			FAIL("ND type %u with hop limit %u", body[0], hop);
	} else if (hop != sc.s->p.hop_limit || hop == 0) {
		FAIL("hop limit %u emitted (configured %u)", hop,
		     sc.s->p.hop_limit);
	}
	if (nh == IP6_NH_FRAGMENT) {
		if (csum_left)
			FAIL("checksum offload asked for an IPv6 fragment");
		check_frag6(src, dst, body, plen);
		return;
	}
	check_transport6(nh, src, dst, body, plen, csum_left);
}

/* ---- Frames ---- */

HARNESS_ONLY
void sc_frame(const uint8_t *frame, size_t len,
	      const struct stack_tx_offload *off)
{
	static const struct stack_tx_offload none;
	const struct stack_tx_offload *o = off ? off : &none;
	const struct stack *s = sc.s;
	size_t l3_len = 0;
	uint16_t type;

	sc_note();
	if (len < ETH_HLEN)
		FAIL("frame of %zu bytes (< %d)", len, ETH_HLEN);
	type = be16(frame + 12);
	if ((o->csum || o->gso_size) && !s->p.offload)
		FAIL("offloads asked of a link without them");
	/* Only a frame the link is to cut up may exceed the MTU, and each
	 * of its pieces must fit it. */
	if (o->gso_size) {
		if (!o->csum)
			FAIL("segmentation asked without checksum offload");
		if ((size_t)o->hdr_len + o->gso_size > ETH_HLEN + s->p.mtu)
			FAIL("GSO pieces of %u + %u bytes exceed 14 + MTU %u",
			     o->hdr_len, o->gso_size, s->p.mtu);
		if (len <= (size_t)o->hdr_len + o->gso_size)
			FAIL("GSO frame of %zu bytes needs no cutting", len);
	} else if (len > ETH_HLEN + (size_t)s->p.mtu) {
		FAIL("frame of %zu bytes exceeds 14 + MTU %u", len, s->p.mtu);
	}
	if (memcmp(frame + 6, s->p.mac, ETH_ALEN) != 0)
		FAIL("source MAC is not ours");
	if (type == ETH_TYPE_IP4)
		l3_len = IP4_HLEN;
	else if (type == ETH_TYPE_IP6)
		l3_len = IP6_HLEN;
	if (o->csum) {
		if (!l3_len)
			FAIL("checksum offload asked for ethertype %04x", type);
		if (o->csum_start != ETH_HLEN + l3_len || o->csum_offset != 16)
			FAIL("checksum offload at %u + %u, not TCP's",
			     o->csum_start, o->csum_offset);
	}
	if (type == ETH_TYPE_ARP)
		check_arp_frame(frame + ETH_HLEN, len - ETH_HLEN);
	else if (type == ETH_TYPE_IP4)
		check_ip4_frame(frame + ETH_HLEN, len - ETH_HLEN, o->csum);
	else if (type == ETH_TYPE_IP6)
		check_ip6_frame(frame, frame + ETH_HLEN, len - ETH_HLEN,
				o->csum);
	else
		FAIL("ethertype %04x emitted", type);
}

/* ---- Timers and state ---- */

HARNESS_ONLY
void sc_timers(uint64_t now, bool after_run)
{
	struct timer_wheel *w = &sc.s->timers;
	uint64_t min_exp = UINT64_MAX;
	size_t n = 0;
	int64_t next;

	for (size_t i = 0; i < TIMER_SLOTS; i++) {
		struct timer **pp = &w->slot[i];
		bool used = (w->used[i / 64] >> (i % 64)) & 1;

		if (used != (*pp != NULL))
			FAIL("slot %zu bitmap %d disagrees with list", i, used);
		for (struct timer *t = *pp; t; t = t->next) {
			if (t->pprev != pp || t->slot != i)
				FAIL("timer links corrupt in slot %zu", i);
			/* The wheel works in ticks: a timer may fire up to a
			 * tick late, never more. */
			if (after_run && !sc.lax_timers &&
			    t->expires + TIMER_TICK_MS <= now)
				FAIL("timer due at %llu still armed after "
				     "stack_run_timers() at %llu (slot %zu, "
				     "wheel tick %llu)",
				     (unsigned long long)t->expires,
				     (unsigned long long)now, i,
				     (unsigned long long)w->tick);
			if (t->expires < min_exp)
				min_exp = t->expires;
			if (++n > w->count)
				FAIL("more timers linked than counted");
			pp = &t->next;
		}
	}
	if (n != w->count)
		FAIL("%zu timers linked, %zu counted", n, w->count);
	next = stack_next_timer(sc.s);
	if (!n) {
		if (next != -1)
			FAIL("stack_next_timer %lld with no timer armed",
			     (long long)next);
		return;
	}
	if (next < 0)
		FAIL("stack_next_timer -1 with %zu timers armed", n);
	if (!sc.lax_timers && min_exp + TIMER_TICK_MS <= now && next != 0)
		FAIL("stack_next_timer says %lld ms, a timer was due %llu ms "
		     "ago",
		     (long long)next, (unsigned long long)(now - min_exp));
	if (!sc.lax_timers && min_exp >= now &&
	    (uint64_t)next > min_exp - now + TIMER_TICK_MS)
		FAIL("stack_next_timer says %lld ms, a timer expires in %llu",
		     (long long)next, (unsigned long long)(min_exp - now));
}

/* A neighbour cache: its counts agree with its entries and keep within
 * their bounds; only an INCOMPLETE entry has anything queued; every entry
 * has its timer armed (or it would never go). */
HARNESS_ONLY
static void check_neigh(const struct neigh_table *t, const char *name)
{
	unsigned used = 0, incomplete = 0, permanent = 0;
	unsigned max_incomplete = t->p.size / 4 ? t->p.size / 4 : 1;
	size_t bytes = 0;

	if (!t->e)
		return;
	for (unsigned i = 0; i < t->p.size; i++) {
		const struct neigh_entry *e = &t->e[i];
		unsigned packets = 0;

		if (e->state == NEIGH_FREE)
			continue;
		used++;
		if (e->state == NEIGH_INCOMPLETE)
			incomplete++;
		else if (e->q)
			FAIL("%s: a resolved entry with a queue", name);
		if (e->state == NEIGH_PERMANENT) {
			/* Static: no timer, fixed until reconfigured. */
			permanent++;
			if (timer_pending(&e->timer))
				FAIL("%s: a permanent entry with a timer",
				     name);
			continue;
		}
		if (!timer_pending(&e->timer))
			FAIL("%s: an entry in state %u with no timer", name,
			     e->state);
		for (const struct neigh_queued *q = e->q; q; q = q->next) {
			bytes += q->len;
			packets += q->first;
		}
		if (packets != e->qlen || e->qlen > t->p.queue_len)
			FAIL("%s: %u packets queued, %u counted (limit %u)",
			     name, packets, e->qlen, t->p.queue_len);
		if (e->q && !e->q->first)
			FAIL("%s: a queue starting with a further fragment",
			     name);
	}
	if (permanent != t->permanent || (permanent && permanent >= t->p.size))
		FAIL("%s: %u permanent entries, counted %u (size %u)", name,
		     permanent, t->permanent, t->p.size);
	if (used != t->used || incomplete != t->incomplete ||
	    bytes != t->queued_bytes)
		FAIL("%s: %u entries, %u incomplete, %zu bytes queued; "
		     "counted %u, %u, %zu",
		     name, used, incomplete, bytes, t->used, t->incomplete,
		     t->queued_bytes);
	if (incomplete > max_incomplete || bytes > t->p.queue_bytes)
		FAIL("%s: %u incomplete (limit %u), %zu bytes queued (limit "
		     "%zu)",
		     name, incomplete, max_incomplete, bytes, t->p.queue_bytes);
}

HARNESS_ONLY
void sc_state(void)
{
	const struct stack *s = sc.s;

	if (s->reasm_count > s->p.reasm_max_datagrams)
		FAIL("reasm_count %u > %u", s->reasm_count,
		     s->p.reasm_max_datagrams);
	if (s->reasm_bytes > s->p.reasm_max_bytes)
		FAIL("reasm_bytes %zu > %u", s->reasm_bytes,
		     s->p.reasm_max_bytes);
	/* Per datagram: its buffer, its range array and a little
	 * bookkeeping. */
	if (s->reasm_bytes >
	    (size_t)s->reasm_count *
		(IP4_MAX_LEN + 1024 + (size_t)s->p.reasm_max_frags * 8))
		FAIL("reasm_bytes %zu for %u datagrams", s->reasm_bytes,
		     s->reasm_count);
	check_neigh(&s->arp, "ARP cache");
	check_neigh(&s->nd, "ND cache");
	/* Static neighbours stay where they were configured, whatever
	 * came in (with room for them, as the harnesses' caches have). */
	for (unsigned i = 0; i < s->p.nstatic_neigh; i++) {
		const struct stack_static_neigh *n = &s->p.static_neigh[i];
		const struct neigh_table *t =
			inany_is_v4(&n->addr) ? &s->arp : &s->nd;
		uint8_t mac[ETH_ALEN];

		if (!inany_is_v4(&n->addr) && !s->p.ipv6)
			continue;
		if (neigh_lookup(t, &n->addr, mac) < 0 ||
		    memcmp(mac, n->mac, ETH_ALEN) != 0)
			FAIL("static neighbour %u moved or gone", i);
	}
}

HARNESS_ONLY
void sc_drained(void)
{
	const struct stack *s = sc.s;

	if (s->timers.count)
		FAIL("%zu timers still armed after the drain", s->timers.count);
	if (s->reasm_count || s->reasm_bytes)
		FAIL("%u reassemblies (%zu bytes) left after every timeout",
		     s->reasm_count, s->reasm_bytes);
	if (s->arp.used != s->arp.permanent)
		FAIL("%u ARP entries left after every timeout",
		     s->arp.used - s->arp.permanent);
	if (s->nd.used != s->nd.permanent || s->nd.incomplete ||
	    s->nd.queued_bytes)
		FAIL("%u ND entries (%u incomplete, %zu bytes queued) left "
		     "after every timeout",
		     s->nd.used - s->nd.permanent, s->nd.incomplete,
		     s->nd.queued_bytes);
	for (unsigned i = 0; i < s->naddr6; i++)
		if (s->addr6[i].state == ADDR6_TENTATIVE)
			FAIL("%s still tentative after every timeout",
			     fmt6(s->addr6[i].a.a));
}
