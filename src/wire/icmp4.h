/* ICMP for IPv4 (RFC 792). */
#ifndef TAPIR_WIRE_ICMP4_H
#define TAPIR_WIRE_ICMP4_H

#include <stdbool.h>

#include "wire/cur.h"

#define ICMP4_HLEN 8

#define ICMP4_ECHO_REPLY 0
#define ICMP4_DEST_UNREACH 3
#define ICMP4_SOURCE_QUENCH 4
#define ICMP4_REDIRECT 5
#define ICMP4_ECHO_REQUEST 8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAM_PROBLEM 12

/* Codes for ICMP4_DEST_UNREACH */
#define ICMP4_UNREACH_PROTO 2
#define ICMP4_UNREACH_PORT 3
#define ICMP4_UNREACH_NEEDFRAG 4
/* Code for ICMP4_TIME_EXCEEDED */
#define ICMP4_EXC_FRAGTIME 1

struct icmp4_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest; /* identifier and sequence for echo; unused for errors */
};

static inline bool icmp4_hdr_parse(struct cur *c, struct icmp4_hdr *h)
{
	const uint8_t *p = cur_pull(c, ICMP4_HLEN);

	if (!p)
		return false;
	h->type = p[0];
	h->code = p[1];
	h->csum = be16(p + 2);
	h->rest = be32(p + 4);
	return true;
}

/* Write the header with a zero checksum; the caller sums the message. */
static inline void icmp4_hdr_write(uint8_t *p, const struct icmp4_hdr *h)
{
	p[0] = h->type;
	p[1] = h->code;
	put_be16(p + 2, h->csum);
	put_be32(p + 4, h->rest);
}

/* Error messages (RFC 1122 3.2.2): never answered with another error. */
static inline bool icmp4_is_error(uint8_t type)
{
	return type == ICMP4_DEST_UNREACH || type == ICMP4_SOURCE_QUENCH ||
	       type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED ||
	       type == ICMP4_PARAM_PROBLEM;
}

#endif
