/*
 * DHCPv6 messages for the tests, written from RFC 8415 rather than with
 * the module's code: a builder for client messages and a parser of the
 * server's replies.  Shared by test_dhcp6.c and test_dhcp6_module.c.
 */
#ifndef TAPIR_TEST_DHCP6_MSG_H
#define TAPIR_TEST_DHCP6_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/addr.h>

struct c6 {
	uint8_t b[1500];
	size_t n;
};

/* Type and transaction ID. */
void c6_begin(struct c6 *m, uint8_t type, uint32_t xid);
void c6_opt(struct c6 *m, uint16_t code, const void *data, size_t len);
/* Client ID (code 1) or Server ID (2): the DUID-LL 00:03:00:01 and the MAC
 * 02:00:00:00:00:id. */
void c6_duid(struct c6 *m, uint16_t code, uint8_t id);
/* An IA_NA with iaid and, when addr is not NULL, one IAADDR of it. */
void c6_ia_na(struct c6 *m, uint32_t iaid, const char *addr);
/* An Option Request Option of the codes given, ended by 0. */
void c6_oro(struct c6 *m, ...);
/* A Client FQDN option (RFC 4704): flags and one label. */
void c6_fqdn(struct c6 *m, uint8_t flags, const char *label);
/* The DUID c6_duid() writes for id, its length. */
size_t c6_duid_bytes(uint8_t id, uint8_t out[10]);

#define R6_IA_MAX 8
struct r6_ia {
	uint16_t code;
	uint32_t iaid, t1, t2;
	int status; /* -1: none */
	unsigned naddr;
	struct tapir_addr addr[4];
	uint32_t pref[4], valid[4];
};

struct r6 {
	uint8_t type;
	uint8_t xid[3];
	int status; /* top-level Status Code, -1: none */
	bool has_cid, has_sid, rapid, has_pref, has_irt, has_fqdn;
	uint8_t cid[130], sid[130];
	size_t cidlen, sidlen;
	uint8_t pref;
	uint32_t irt;
	struct tapir_addr dns[8];
	unsigned ndns;
	char domains[512]; /* the domain list as "a.b. c.d." */
	uint8_t fqdn[256];
	size_t fqdnlen;
	struct r6_ia ia[R6_IA_MAX];
	unsigned nia;
};

/* Parse a server message; false when it is not well formed. */
bool r6_parse(const uint8_t *d, size_t len, struct r6 *r);
/* The text of a, for assertions. */
const char *r6_addr(const struct tapir_addr *a);

#endif
