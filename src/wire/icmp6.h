/* ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861) and MLDv2 (RFC 3810)
 * messages. */
#ifndef TAPIR_WIRE_ICMP6_H
#define TAPIR_WIRE_ICMP6_H

#include <stdbool.h>
#include <string.h>

#include "wire/cur.h"

#define ICMP6_HLEN 8

/* Errors (type < 128). */
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROBLEM 4
/* Informational. */
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_MLD_QUERY 130
#define ICMP6_MLD1_REPORT 131
#define ICMP6_MLD1_DONE 132
#define ICMP6_ND_RS 133
#define ICMP6_ND_RA 134
#define ICMP6_ND_NS 135
#define ICMP6_ND_NA 136
#define ICMP6_ND_REDIRECT 137
#define ICMP6_MLD2_REPORT 143

/* Codes of ICMP6_DEST_UNREACH. */
#define ICMP6_UNREACH_NOROUTE 0
#define ICMP6_UNREACH_ADDR 3
#define ICMP6_UNREACH_PORT 4
/* Codes of ICMP6_TIME_EXCEEDED. */
#define ICMP6_EXC_HOPLIMIT 0
#define ICMP6_EXC_FRAGTIME 1
/* Codes of ICMP6_PARAM_PROBLEM. */
#define ICMP6_PARAM_HEADER 0   /* erroneous header field */
#define ICMP6_PARAM_NEXTHDR 1  /* unrecognized next header */
#define ICMP6_PARAM_OPTION 2   /* unrecognized option */
#define ICMP6_PARAM_CHAIN 3    /* first fragment without the header chain */

struct icmp6_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest; /* echo id/seq, MTU, pointer, or ND flags */
};

static inline bool icmp6_hdr_parse(struct cur *c, struct icmp6_hdr *h)
{
	const uint8_t *p = cur_pull(c, ICMP6_HLEN);

	if (!p)
		return false;
	h->type = p[0];
	h->code = p[1];
	h->csum = be16(p + 2);
	h->rest = be32(p + 4);
	return true;
}

static inline void icmp6_hdr_write(uint8_t *p, const struct icmp6_hdr *h)
{
	p[0] = h->type;
	p[1] = h->code;
	put_be16(p + 2, h->csum);
	put_be32(p + 4, h->rest);
}

static inline bool icmp6_is_error(uint8_t type)
{
	return type < 128;
}

/* ---- Neighbor Discovery (RFC 4861 4) ---- */

/* Neighbor Advertisement flags, in the word after the checksum. */
#define ND_NA_ROUTER 0x80000000u
#define ND_NA_SOLICITED 0x40000000u
#define ND_NA_OVERRIDE 0x20000000u

#define ND_HOP_LIMIT 255
#define ND_NS_LEN 24 /* ICMPv6 header + target */
#define ND_NA_LEN 24
#define ND_REDIRECT_LEN 40

/* Option types (RFC 4861 4.6, RFC 8106). */
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_OPT_PREFIX 3
#define ND_OPT_REDIRECTED 4
#define ND_OPT_MTU 5
#define ND_OPT_NONCE 14
#define ND_OPT_RDNSS 25
#define ND_OPT_DNSSL 31

/* What an ND message's options told us. */
struct nd_opts {
	const uint8_t *slla; /* 6 bytes, or NULL */
	const uint8_t *tlla;
	bool has_mtu;
	uint32_t mtu;
};

/* Walk the options of an ND message (RFC 4861 4.6): every option has a
 * non-zero length in units of 8 bytes and lies wholly inside the message;
 * otherwise the whole message is invalid (6.1.1, 7.1.1).  Link-layer
 * address options shorter than an Ethernet address are invalid too;
 * unknown options are skipped. */
static inline bool nd_opts_parse(struct cur c, struct nd_opts *o)
{
	memset(o, 0, sizeof(*o));
	while (c.len > 0) {
		const uint8_t *p;
		size_t len;

		if (c.len < 2 || c.p[1] == 0)
			return false;
		len = (size_t)c.p[1] * 8;
		p = cur_pull(&c, len);
		if (!p)
			return false;
		switch (p[0]) {
		case ND_OPT_SLLA:
			o->slla = p + 2;
			break;
		case ND_OPT_TLLA:
			o->tlla = p + 2;
			break;
		case ND_OPT_MTU:
			o->has_mtu = true;
			o->mtu = be32(p + 4);
			break;
		default:
			break;
		}
	}
	return true;
}

/* Write a link-layer address option of the given type (8 bytes). */
static inline void nd_opt_lla_write(uint8_t *p, uint8_t type,
				    const uint8_t *mac)
{
	p[0] = type;
	p[1] = 1;
	memcpy(p + 2, mac, 6);
}

#endif
