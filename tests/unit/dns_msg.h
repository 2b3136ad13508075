/*
 * Building queries and taking responses apart for the dns module's tests.
 * The parser asserts (ck_assert) that a response is well formed.
 */
#ifndef TAPIR_TEST_DNS_MSG_H
#define TAPIR_TEST_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/dns/wire.h"

struct qopt {
	uint16_t id;
	uint16_t flags;   /* the header's flags word (opcode, RD, ...) */
	int qdcount;      /* -1: 1 with the question; else that count, and
			   * that many copies of the question */
	bool edns;
	uint16_t payload;
	uint8_t version;
	bool do_bit;
	const uint8_t *opt; /* OPT RDATA (options) */
	size_t opt_len;
};

/* A query for name (text, absolute or not) into buf; its length. */
size_t mkq(uint8_t *buf, const char *name, uint16_t qtype, uint16_t qclass,
	   const struct qopt *o);

#define PR_MAX 80
struct prr {
	char name[300];
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[1024];
	char text[1400]; /* RDATA in presentation form for the common types */
};

struct parsed {
	struct dns_hdr h;
	char qname[300];
	uint16_t qtype, qclass;
	unsigned n[3]; /* answer, authority, additional (OPT left out) */
	struct prr rr[3][PR_MAX];
	bool opt;
	uint16_t opt_payload;
	uint8_t opt_ext_rcode, opt_version;
	uint16_t opt_flags, opt_rdlen;
};

/* Parse a response (asserting it is well formed) into the static result. */
const struct parsed *parse(const uint8_t *m, size_t len);
/* The record of section s (0..2) whose text form is "name ttl TYPE data",
 * e.g. "www.lab.test. 3600 A 10.0.0.2"; true when present. */
bool has_rr(const struct parsed *p, int s, const char *line);

#endif
