/*
 * BOOTP/DHCP messages (RFC 2131 section 2, RFC 2132, RFC 3396): a bounded
 * reader and a writer.
 *
 * The reader takes a UDP payload and either rejects it (a reason code) or
 * fills a struct dhcp_msg: the fixed fields, and each option's data.  An
 * option that appears more than once is the concatenation of its parts, in
 * the order options, file, sname (RFC 3396).  Option overload (52) makes
 * the file and/or sname fields carry options; an overload option inside an
 * overloaded field, a length running past its area, a missing END, hlen
 * over 16 or a message over DHCP_MSG_MAX bytes are each rejected.  Every
 * read is checked against the message; the option data copy is bounded by
 * the message size, so nothing here allocates or loops without a bound.
 */
#ifndef TAPIR_DHCP_WIRE_H
#define TAPIR_DHCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_FIXED_LEN 236 /* op .. file */
#define DHCP_MIN_LEN 240   /* with the magic cookie */
#define DHCP_MSG_MAX 4096  /* larger datagrams are rejected */
#define DHCP_REPLY_MIN 300 /* BOOTP's minimum, padded to */
#define DHCP_MAGIC 0x63825363u

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_FLAG_BROADCAST 0x8000

enum dhcp_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

enum dhcp_opt {
	OPT_PAD = 0,
	OPT_SUBNET_MASK = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_HOSTNAME = 12,
	OPT_DOMAIN = 15,
	OPT_BROADCAST = 28,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE_TIME = 51,
	OPT_OVERLOAD = 52,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAM_LIST = 55,
	OPT_MESSAGE = 56,
	OPT_MAX_SIZE = 57,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_FQDN = 81,
	OPT_RELAY_INFO = 82,
	OPT_END = 255,
};

enum dhcp_err {
	DHCP_OK = 0,
	DHCP_ERR_SHORT,     /* under 240 bytes */
	DHCP_ERR_LONG,      /* over DHCP_MSG_MAX */
	DHCP_ERR_COOKIE,    /* no magic cookie */
	DHCP_ERR_HLEN,      /* hlen over 16 */
	DHCP_ERR_OPT_LEN,   /* an option runs past its area */
	DHCP_ERR_NO_END,    /* options without END */
	DHCP_ERR_OVERLOAD,  /* bad or nested option overload */
	DHCP_ERR_COUNT
};

extern const char *const dhcp_err_names[DHCP_ERR_COUNT];

struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	/* Option data: code c has olen[c] bytes at odata + ooff[c] when
	 * present[c]. */
	bool present[256];
	uint16_t ooff[256];
	uint16_t olen[256];
	uint8_t odata[DHCP_MSG_MAX];
};

enum dhcp_err dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m);

/* Option accessors: the data of code (NULL when absent), an address
 * option's first address, a byte, a 16- or 32-bit number.  Each returns
 * false/NULL when the option is absent or too short. */
const uint8_t *dhcp_opt(const struct dhcp_msg *m, uint8_t code, size_t *len);
bool dhcp_opt_u8(const struct dhcp_msg *m, uint8_t code, uint8_t *v);
bool dhcp_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *v);
bool dhcp_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *v);

/* Writer: a reply into a caller's buffer of cap bytes (cap >= 300). */
struct dhcp_out {
	uint8_t *p;
	size_t cap;
	size_t len; /* options end here (before END) */
	bool overflow; /* an option did not fit and was left out */
};

/* The fixed part of a reply to req: op BOOTREPLY, req's htype, hlen,
 * xid, flags, giaddr and chaddr; ciaddr/yiaddr/siaddr as given; the
 * cookie; then option 53 = type. */
void dhcp_out_start(struct dhcp_out *o, uint8_t *buf, size_t cap,
		    const struct dhcp_msg *req, uint8_t type, uint32_t ciaddr,
		    uint32_t yiaddr, uint32_t siaddr);
/* Append an option (len <= 255, else split per RFC 3396); an option that
 * does not fit whole (leaving room for END) is left out. */
bool dhcp_out_opt(struct dhcp_out *o, uint8_t code, const void *data,
		  size_t len);
bool dhcp_out_u32(struct dhcp_out *o, uint8_t code, uint32_t v);
/* END and padding to 300 bytes; returns the message length. */
size_t dhcp_out_finish(struct dhcp_out *o);

#endif
