/*
 * Forwarded answers: taking an upstream server's response apart (untrusted
 * input: bounded reads only) and writing the answer a client gets from it,
 * fresh or from the cache.
 *
 * A response is kept as its bytes up to the end of the last record that is
 * not the OPT (RFC 6891: the OPT is hop by hop; ours is added per client),
 * with the offset of every record's TTL, so a cached copy can be sent
 * with its TTLs decremented (RFC 1035 §7.4, RFC 2181 §8) without parsing
 * it again.  The client's question replaces the upstream's, which has the
 * same length (the same name, case aside, uncompressed), so every offset
 * and compression pointer of the records stays right.
 *
 * Pure: no I/O, no clock.
 */
#ifndef TAPIR_DNS_FWDMSG_H
#define TAPIR_DNS_FWDMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* More records than this cannot fit in 65535 bytes (11 bytes each at
 * least, after the header and a question). */
#define DNS_FWD_RR_MAX 6000
#define DNS_FWD_TTL_MAX 0x7fffffffu /* RFC 2181 §8: above is 0 */

/* A response ready to answer from: msg[0, end) with the question in
 * [12, qend) and the additional section from ar_start. */
struct dns_fview {
	const uint8_t *msg;
	size_t qend, ar_start, end;
	uint16_t flags; /* the upstream's header flags (rcode, RA, TC) */
	uint16_t an, ns, ar;
	const uint16_t *ttl_off; /* offset of each kept record's TTL */
	unsigned nttl;
};

/* An upstream response taken apart. */
struct dns_fmsg {
	struct dns_fview v;
	struct dns_hdr h;
	uint8_t qname[DNS_NAME_MAX];
	uint16_t qtype, qclass;
	bool edns;
	uint8_t ext_rcode;  /* the OPT's upper rcode bits */
	size_t soa_ttl_off; /* the first SOA of the authority section, 0: none */
	uint32_t soa_minimum;
	uint16_t ttl_off[DNS_FWD_RR_MAX];
};

/* Take the response msg[0, len) apart into m (m->v.msg = msg).  -1 when
 * it is not a well-formed response with one question whose name is
 * written out in full. */
int dns_fmsg_parse(struct dns_fmsg *m, const uint8_t *msg, size_t len);

/* The client's query, as the answer to it needs it. */
struct dns_fq {
	uint16_t id;
	uint16_t flags; /* the query's flags word (RD, CD are echoed) */
	const uint8_t *qname; /* wire form, the client's case */
	uint16_t qtype, qclass;
	bool edns;
	bool do_bit;
	uint16_t payload; /* the client's EDNS UDP size */
	uint64_t t0_us; /* when the query came in (0: not measured) */
};

/* The size a UDP answer to q may have: 512 without EDNS, else the
 * client's size within [512, ours]. */
size_t dns_fq_limit(const struct dns_fq *q, uint16_t our_payload);

/* The answer to q from v into out (limit bytes at most, limit <=
 * DNS_MSG_MAX; out has DNS_MSG_MAX), every TTL less `elapsed` seconds.
 * What does not fit: first the additional section is left out; when the
 * answer and authority do not fit either, only the question goes, with
 * TC set (RFC 2181 §9).  With EDNS in the query our OPT is added
 * (payload our_payload, DO echoed).  Returns the length; *tc when TC was
 * set here. */
size_t dns_fview_reply(const struct dns_fview *v, const struct dns_fq *q,
		       uint32_t elapsed, size_t limit, uint16_t our_payload,
		       uint8_t *out, bool *tc);

/* A response of rcode alone (SERVFAIL, REFUSED) to q into out. */
size_t dns_fq_error(const struct dns_fq *q, int rcode, uint16_t our_payload,
		    uint8_t *out);

/* Make the query we send upstream into out (DNS_MSG_MAX): id, RD and
 * the client's CD, the question as the client wrote it, our OPT with
 * payload and the client's DO bit.  Returns its length. */
size_t dns_fq_upstream(const struct dns_fq *q, uint16_t id, uint16_t payload,
		       uint8_t *out);

#endif
