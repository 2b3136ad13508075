/*
 * The authoritative answer to one query message: RFC 1034 §4.3.2 lookup
 * over the zone set with CNAME chains, negative answers with the SOA
 * (RFC 2308), referrals at zone cuts, wildcards (RFC 4592), EDNS0
 * (RFC 6891), truncation, minimal ANY (RFC 8482), automatic PTR for the
 * addresses of A and AAAA records, and CHAOS TXT version.bind / id.server.
 *
 * Pure: no I/O, no clock; the module glue and the tests call it alike.
 */
#ifndef TAPIR_DNS_ANSWER_H
#define TAPIR_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone.h"

/* Names learnt at run time (DHCP leases): an A record for a name of one
 * zone, and the PTR for its address.  Both optional. */
struct dns_dynamic {
	/* The zone the names live in (NULL: none). */
	const struct dns_zone *zone;
	/* The address of name (under zone) into addr: alen 4 its IPv4
	 * address (A), 16 its IPv6 one (AAAA); true when known. */
	bool (*lookup_a)(void *arg, const uint8_t *name, unsigned alen,
			 uint8_t *addr);
	/* Name (wire form) for the address addr of alen (4 or 16) bytes,
	 * true when known. */
	bool (*lookup_ptr)(void *arg, const uint8_t *addr, unsigned alen,
			   uint8_t *name);
	void *arg;
	uint32_t ttl;
};

/* What CHAOS class TXT queries reveal: version.bind and version.server
 * get version, id.server and hostname.bind get id; NULL: REFUSED. */
struct dns_chaos {
	const char *version;
	const char *id;
};

struct dns_ctx {
	const struct dns_zones *zones;
	uint16_t edns_payload; /* our UDP payload size, >= 512 */
	const struct dns_dynamic *dyn; /* may be NULL */
	const struct dns_chaos *chaos; /* NULL: every CHAOS query REFUSED */
};

/* What happened, for counters and rate limiting. */
struct dns_result {
	int rcode;     /* -1: no reply (dropped) */
	uint16_t qtype; /* 0 when there was no question */
	bool truncated;
	size_t qend; /* length of the response's header and question */
	/* A forwarder's answer: when its query came in (the module's
	 * now_us clock; 0 when not measured), for the latency histogram. */
	uint64_t t0_us;
};

/* Answer the query q[0..qlen).  tcp: no size limit but the 64 KiB of a
 * message (out must have DNS_MSG_MAX bytes); else the client's limit.
 * Returns the response length, 0 when the query is dropped. */
size_t dns_answer(const struct dns_ctx *c, const uint8_t *q, size_t qlen,
		  bool tcp, uint8_t *out, struct dns_result *res);

#endif
