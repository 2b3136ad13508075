/*
 * libFuzzer harness: master-file parsing (src/modules/dns/zonefile.c and
 * the RDATA parsers of rdata.c), then answers from what was parsed.
 *
 * Input: the text of a master file for the zone fuzz.test.  $INCLUDE is
 * refused here (no include directory is given), so nothing outside the
 * input is read.  When the zone parses and has its SOA, each name in it
 * (at most 64) is asked for its types, ANY and A, and once with a label
 * in front (wildcards, NXDOMAIN, referrals).
 *
 * Checked (abort() on failure): a failed parse reported at least one
 * problem, each "FILE:LINE: reason" with a line within the input; every
 * answer has QR set, the query's ID and one question, and fits 65535.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/modules/dns/answer.h"
#include "../../src/modules/dns/zonefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr,                                                \
			"fuzz_zonefile: invariant violated: " __VA_ARGS__);    \
		abort();                                                       \
	} while (0)

struct seen {
	unsigned reports;
	unsigned lines; /* of the input */
};

static void on_report(void *arg, const char *msg)
{
	struct seen *s = arg;
	const char *p = strchr(msg, ':');
	unsigned long line;

	s->reports++;
	if (!p || strncmp(msg, "fuzz.zone", 9) != 0)
		FAIL("report without the file name: %s\n", msg);
	if (p[1] >= '0' && p[1] <= '9') {
		line = strtoul(p + 1, NULL, 10);
		if (line < 1 || line > s->lines)
			FAIL("line %lu outside 1..%u: %s\n", line, s->lines,
			     msg);
	}
}

static void ask(const struct dns_ctx *c, const uint8_t *name, uint16_t type,
		uint8_t *out)
{
	uint8_t q[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	size_t nl = dns_name_len(name), ql = 0, n;
	struct dns_result r;

	memset(q, 0, DNS_HDR_LEN);
	q[0] = 0x12;
	q[1] = 0x34;
	q[5] = 1; /* one question */
	q[11] = 1; /* and an OPT */
	ql = DNS_HDR_LEN;
	memcpy(q + ql, name, nl);
	ql += nl;
	q[ql++] = (uint8_t)(type >> 8);
	q[ql++] = (uint8_t)type;
	q[ql++] = 0;
	q[ql++] = 1;
	memcpy(q + ql, "\0\0\51\4\320\0\0\0\0\0\0", 11);
	ql += 11;
	n = dns_answer(c, q, ql, type == DNS_T_ANY, out, &r);
	if (n < DNS_HDR_LEN || n > DNS_MSG_MAX)
		FAIL("answer of %zu bytes\n", n);
	if (out[0] != 0x12 || out[1] != 0x34 || !(out[2] & 0x80) ||
	    out[4] != 0 || out[5] != 1)
		FAIL("answer header wrong\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_MSG_MAX];
	struct seen seen = {0, 1};
	struct dns_zonefile zf = {.default_ttl = 3600,
				  .include_dir = NULL,
				  .report = on_report,
				  .arg = &seen};
	struct dns_zone *z = dns_zone_new("fuzz.test", NULL, 0);
	struct dns_zones zs;
	struct dns_ctx ctx;
	struct dns_chaos ch = {"0.0-fuzz", "fuzz"};
	unsigned asked = 0;
	int rc;

	if (!z)
		FAIL("no zone\n");
	for (size_t i = 0; i < size; i++)
		seen.lines += data[i] == '\n';
	rc = dns_zonefile_parse(z, "fuzz.zone", (const char *)data, size, &zf);
	if (rc < 0 && !seen.reports)
		FAIL("failed without a report\n");
	if (rc == 0 && seen.reports)
		FAIL("succeeded with %u reports\n", seen.reports);
	if (rc < 0 || dns_zone_finish(z, NULL, 0) < 0) {
		dns_zone_free(z);
		return 0;
	}
	dns_zones_init(&zs);
	if (dns_zones_add(&zs, z) < 0 || dns_zones_index(&zs) < 0)
		FAIL("out of memory\n");
	ctx = (struct dns_ctx){&zs, 1232, NULL, &ch};
	for (size_t b = 0; b < z->tabsize && asked < 64; b++)
		for (const struct dns_node *n = z->tab[b]; n && asked < 64;
		     n = n->hnext, asked++) {
			uint8_t below[DNS_NAME_MAX + 2];
			size_t nl = dns_name_len(n->name);

			for (const struct dns_rrset *s = n->sets; s; s = s->next)
				ask(&ctx, n->name, s->type, out);
			ask(&ctx, n->name, DNS_T_ANY, out);
			ask(&ctx, n->name, DNS_T_A, out);
			ask(&ctx, n->name, DNS_T_DS, out);
			if (nl + 2 <= DNS_NAME_MAX) {
				below[0] = 1;
				below[1] = 'q';
				memcpy(below + 2, n->name, nl);
				ask(&ctx, below, DNS_T_TXT, out);
			}
		}
	dns_zones_free(&zs);
	return 0;
}
