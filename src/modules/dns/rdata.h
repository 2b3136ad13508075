/*
 * RDATA in presentation form (RFC 1035 §5.1) to wire form, type by type,
 * and the names of the types.
 *
 * Types with a presentation form of their own: A, NS, CNAME, SOA, PTR, MX,
 * TXT, AAAA, SRV, NAPTR (RFC 3403), DS (RFC 4034 §5.3), SSHFP (RFC 4255),
 * TLSA (RFC 6698), SVCB and HTTPS (RFC 9460), CAA (RFC 8659).  Any other
 * type is written TYPEnnn with the generic RDATA "\# length hex" of
 * RFC 3597 §5, which every type also takes; the generic form of a known
 * type must be a valid RDATA of that type (a name where a name belongs).
 *
 * Names in the RDATA of types newer than RFC 1035 are kept uncompressed
 * and sent so (RFC 3597 §4).
 */
#ifndef TAPIR_DNS_RDATA_H
#define TAPIR_DNS_RDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum {
	DNS_T_NAPTR = 35,
	DNS_T_DS = 43,
	DNS_T_SSHFP = 44,
	DNS_T_TLSA = 52,
	DNS_T_SVCB = 64,
	DNS_T_HTTPS = 65,
	DNS_T_CAA = 257,
};

/* A field of a record: its text as written (escapes still in it), and
 * whether it was a "quoted string". */
struct dns_field {
	const char *s;
	size_t len;
	bool quoted;
};

#define DNS_RDATA_MAX 65535

/* The type a field names ("MX", "type65534"): true and *type. */
bool dns_type_from_field(const struct dns_field *f, uint16_t *type);
/* The mnemonic of a type, or NULL. */
const char *dns_type_name(uint16_t type);
/* Types that can never be stored in a zone (OPT, the query types). */
bool dns_type_storable(uint16_t type);

/* RDATA of type from f[0..nf) into out (DNS_RDATA_MAX bytes), relative
 * names completed with origin.  The length, or -1 with the reason in err. */
int dns_rdata_parse(uint16_t type, const struct dns_field *f, unsigned nf,
		    const uint8_t *origin, uint8_t *out, char *err,
		    size_t errsz);

/* A TTL: seconds, or numbers with the units s m h d w ("1h30m");
 * 0, or -1 when malformed or over 2147483647 (RFC 2181 §8). */
int dns_ttl_parse(const char *s, size_t len, uint32_t *v);

/* Decode backslash escapes (\X, \DDD) of s[0..len) into out (max bytes).
 * Stops at an unescaped `stop` character when stop is non-zero; *used gets
 * the characters consumed.  Returns the bytes written or -1. */
int dns_unescape(const char *s, size_t len, char stop, uint8_t *out,
		 size_t max, size_t *used);

#endif
