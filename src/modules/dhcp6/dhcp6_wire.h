/*
 * DHCPv6 messages (RFC 8415): the client/server message format, the
 * options the server reads, and a strict parser.  Every byte is read
 * through the bounds-checked cursor of <tapir/bytes.h>.
 */
#ifndef TAPIR_DHCP6_WIRE_H
#define TAPIR_DHCP6_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/addr.h>

#include "dhcp6_journal.h"

/* Message types (RFC 8415 7.3). */
enum {
	D6_SOLICIT = 1,
	D6_ADVERTISE = 2,
	D6_REQUEST = 3,
	D6_CONFIRM = 4,
	D6_RENEW = 5,
	D6_REBIND = 6,
	D6_REPLY = 7,
	D6_RELEASE = 8,
	D6_DECLINE = 9,
	D6_RECONFIGURE = 10,
	D6_INFO_REQUEST = 11,
	D6_RELAY_FORW = 12,
	D6_RELAY_REPL = 13,
};

/* Options (RFC 8415 21, RFC 3646, RFC 4704). */
enum {
	O6_CLIENTID = 1,
	O6_SERVERID = 2,
	O6_IA_NA = 3,
	O6_IA_TA = 4,
	O6_IAADDR = 5,
	O6_ORO = 6,
	O6_PREFERENCE = 7,
	O6_ELAPSED_TIME = 8,
	O6_RELAY_MSG = 9,
	O6_AUTH = 11,
	O6_UNICAST = 12,
	O6_STATUS_CODE = 13,
	O6_RAPID_COMMIT = 14,
	O6_DNS_SERVERS = 23,
	O6_DOMAIN_LIST = 24,
	O6_IA_PD = 25,
	O6_IAPREFIX = 26,
	O6_INFO_REFRESH_TIME = 32,
	O6_CLIENT_FQDN = 39,
	O6_SOL_MAX_RT = 82,
	O6_INF_MAX_RT = 83,
};

/* Status codes (RFC 8415 21.13). */
enum {
	ST_SUCCESS = 0,
	ST_UNSPEC_FAIL = 1,
	ST_NO_ADDRS_AVAIL = 2,
	ST_NO_BINDING = 3,
	ST_NOT_ON_LINK = 4,
	ST_USE_MULTICAST = 5,
	ST_NO_PREFIX_AVAIL = 6,
};

#define D6_MAX_IA 8      /* IAs read from one message; more are ignored */
#define D6_MAX_IAADDR 8  /* addresses read from one IA */
#define D6_MAX_ORO 64    /* requested options read */
#define D6_MSG_MIN 4     /* type and transaction ID */

struct d6_ia {
	uint16_t code; /* O6_IA_NA, O6_IA_TA, O6_IA_PD */
	uint32_t iaid, t1, t2;
	struct tapir_addr addr[D6_MAX_IAADDR]; /* IA_NA/IA_TA addresses */
	unsigned naddr;
};

struct d6_msg {
	uint8_t type;
	uint8_t xid[3];
	const uint8_t *cid, *sid; /* into the message */
	uint16_t cidlen, sidlen;
	unsigned ncid, nsid; /* how many times each came */
	struct d6_ia ia[D6_MAX_IA];
	unsigned nia;
	unsigned nia_all; /* IA_NA, IA_TA and IA_PD options, also ignored ones */
	uint16_t oro[D6_MAX_ORO];
	unsigned noro;
	bool has_oro, rapid_commit, reconf_accept;
	const uint8_t *fqdn; /* the option's data: flags, domain name */
	uint16_t fqdnlen;
	bool has_fqdn;
};

enum d6_parse_err {
	D6_OK = 0,
	D6_ERR_SHORT,    /* under 4 bytes, or an option past the end */
	D6_ERR_OPTION,   /* an option of the wrong length */
	D6_ERR_RELAY,    /* a relay message (not served) */
};

/* Parse a client message (not a relay message).  On success the pointers
 * of m point into data. */
enum d6_parse_err d6_parse(const uint8_t *data, size_t len, struct d6_msg *m);

/* Was option code requested in the ORO? */
bool d6_requested(const struct d6_msg *m, uint16_t code);

/* The host name a Client FQDN option (RFC 4704) carries: its first label,
 * lowercased and checked as one LDH label; false when there is none. */
bool d6_fqdn_host(const uint8_t *fq, size_t len, char out[D6_HOST_MAX + 1]);
/* One label of letters, digits and hyphens, 1..63 bytes. */
bool d6_label_ok(const char *s, size_t len);

#endif
