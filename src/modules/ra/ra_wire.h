/*
 * Router Solicitations and Router Advertisements on the wire (RFC 4861
 * 4.1, 4.2, 4.6; RFC 8106 5.1, 5.2): the RA module's stateless part.
 *
 * ra_build() writes a whole Router Advertisement (the ICMPv6 message, its
 * checksum left zero for the host to fill) from a struct ra_adv; ra_rs_check()
 * validates a received Router Solicitation as RFC 4861 6.1.1 asks.
 * Nothing here keeps state or knows the host API.
 */
#ifndef TAPIR_RA_WIRE_H
#define TAPIR_RA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/addr.h>

#define ICMP6_ROUTER_SOLICIT 133
#define ICMP6_ROUTER_ADVERT 134

#define RA_HDR_LEN 16 /* type, code, checksum, hop limit, flags, lifetimes */
#define RS_HDR_LEN 8  /* type, code, checksum, reserved */

/* RA header flags (RFC 4861 4.2). */
#define RA_FLAG_MANAGED 0x80
#define RA_FLAG_OTHER 0x40

/* Neighbor Discovery option types (RFC 4861 4.6, RFC 8106 5). */
#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_PREFIX_INFO 3
#define ND_OPT_MTU 5
#define ND_OPT_RDNSS 25
#define ND_OPT_DNSSL 31

/* Prefix Information flags (RFC 4861 4.6.2). */
#define PIO_FLAG_ONLINK 0x80
#define PIO_FLAG_AUTO 0x40
#define PIO_LEN 32

/* Bounds of what the module advertises; they keep the largest RA under
 * the IPv6 minimum MTU (1280 bytes less the 40-byte IPv6 header). */
#define RA_MAX_PREFIXES 8     /* configured or derived */
#define RA_MAX_DEPRECATED 8   /* removed ones still advertised */
#define RA_MAX_RDNSS 8
#define RA_MAX_DNSSL 8        /* domains */
#define RA_DNSSL_MAX_BYTES 384 /* their encoded names, padding excluded */
#define RA_MSG_MAX 1232

struct ra_prefix {
	struct tapir_addr prefix; /* host bits zero */
	uint8_t len;
	bool onlink, autonomous;
	uint32_t valid, preferred; /* seconds */
};

/* One Router Advertisement, as ra_build() writes it. */
struct ra_adv {
	uint8_t hop_limit;
	bool managed, other;
	uint16_t router_lifetime; /* seconds */
	uint32_t reachable_ms, retrans_ms;
	const uint8_t *mac; /* source link-layer address option; NULL: none */
	uint32_t mtu;       /* MTU option; 0: none */
	const struct ra_prefix *prefixes;
	size_t nprefixes;
	const struct tapir_addr *rdnss;
	size_t nrdnss;
	uint32_t rdnss_lifetime;
	/* The search list already encoded (ra_dnssl_encode), unpadded. */
	const uint8_t *dnssl;
	size_t dnssl_len;
	uint32_t dnssl_lifetime;
};

/* Write adv into buf (cap bytes); the message's length, or 0 when it
 * does not fit. */
size_t ra_build(const struct ra_adv *adv, uint8_t *buf, size_t cap);

/* Why a Router Solicitation is invalid (RFC 4861 6.1.1), or RS_OK. */
enum rs_verdict {
	RS_OK = 0,
	RS_BAD_HOP_LIMIT, /* not 255: it crossed a router */
	RS_BAD_CODE,      /* not 0 */
	RS_SHORT,         /* under 8 bytes */
	RS_BAD_OPTION,    /* an option of length 0 or past the end */
	RS_UNSPEC_SLLA,   /* unspecified source with a link-layer option */
	RS_NOT_RS,        /* another ICMPv6 type */
};
enum rs_verdict ra_rs_check(const uint8_t *msg, size_t len,
			    uint8_t hop_limit, bool src_unspecified);
const char *ra_rs_verdict_name(enum rs_verdict v);

/* A DNS search list entry (a domain name in text, an optional final dot)
 * appended in uncompressed wire form (RFC 1035 3.1, as RFC 8106 5.2 asks)
 * to out[*len..cap).  0, or -1 when the name is not a valid host name
 * (empty label, a label over 63 bytes, a name over 253, a character other
 * than letters, digits, '-' and '_') or does not fit. */
int ra_dnssl_encode(const char *name, uint8_t *out, size_t *len, size_t cap);

/* "fd00::/64" into p->prefix and p->len.  0, or -1 with a reason in err
 * (not an address, length outside 1..128, host bits set, a link-local or
 * multicast prefix). */
int ra_prefix_parse(const char *s, struct ra_prefix *p, char *err,
		    size_t errlen);
/* a with the bits past len cleared. */
struct tapir_addr ra_prefix_of(const struct tapir_addr *a, unsigned len);
bool ra_addr_in(const struct tapir_addr *a, const struct tapir_addr *prefix,
		unsigned len);
bool ra_addr_link_local(const struct tapir_addr *a);

#endif
