/*
 * Zones in memory: records parsed from RFC 1035 §5 presentation-format
 * lines ("www 300 IN A 10.0.0.2"), kept per owner name in a hash table.
 *
 * Owner names and names in RDATA are relative to the zone unless they end
 * with a dot; "@" is the zone's apex.  TTL and class are optional, in
 * either order; TTLs take the units s, m, h, d and w.  The types are those
 * of rdata.h; SOA exactly once, at the apex; NS below the apex is a zone
 * cut (a delegation), with the addresses below it kept as glue.  Names
 * between the apex and an owner exist as empty non-terminals.  RDATA is
 * kept in wire form with names uncompressed.
 *
 * Whole master files are read by zonefile.c.
 *
 * A zone set also indexes the addresses of every A and AAAA record, so
 * that PTR queries for them can be answered without a reverse zone.
 */
#ifndef TAPIR_DNS_ZONE_H
#define TAPIR_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rdata.h"
#include "wire.h"

#define DNS_TTL_MAX 2147483647u /* RFC 2181 §8 */
#define DNS_CNAME_CHAIN_MAX 8
#define DNS_FIELDS_MAX 512	     /* fields of one record */
#define DNS_ZONE_RECORDS_MAX 200000u /* records of one zone */

struct dns_rr {
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t *rdata;
};

struct dns_rrset {
	uint16_t type;
	unsigned n;
	struct dns_rr *rr;
	struct dns_rrset *next;
};

struct dns_node {
	uint8_t *name; /* wire form, as configured */
	struct dns_rrset *sets; /* NULL: an empty non-terminal */
	struct dns_node *hnext;
};

/* A file a zone was read from, as it was then. */
struct dns_file_id {
	char *path;
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

struct dns_zone {
	uint8_t origin[DNS_NAME_MAX];
	struct dns_node **tab;
	size_t tabsize, nnodes;
	struct dns_node *apex;
	size_t records;
	/* Where it came from, to read it again (zonefile.c): the lines
	 * added with dns_zone_add_line, and the master file with the files
	 * it took (NULL, 0: none). */
	char **lines;
	unsigned nlines;
	char *file;
	uint32_t file_ttl; /* the default TTL it was read with */
	struct dns_file_id *files;
	unsigned nfiles;
};

/* An address of an A or AAAA record, for automatic PTR answers. */
struct dns_addr_ent {
	uint8_t len; /* 4 or 16 */
	uint8_t addr[16];
	uint32_t ttl;
	const uint8_t *owner;
	struct dns_addr_ent *next;
};

struct dns_zones {
	struct dns_zone **z;
	unsigned n;
	struct dns_addr_ent **atab;
	size_t atabsize;
};

/* Text name to wire form; relative names are completed with origin
 * (NULL: every name must be absolute).  0, or -1 with a reason in err. */
int dns_name_from_text(const char *s, size_t len, const uint8_t *origin,
		       uint8_t *out, char *err, size_t errsz);

/* A zone for origin (a domain name, with or without the final dot). */
struct dns_zone *dns_zone_new(const char *origin, char *err, size_t errsz);
void dns_zone_free(struct dns_zone *z);
/* Parse one record line into z (and keep a copy of it).  0, or -1 with
 * the reason in err. */
int dns_zone_add_line(struct dns_zone *z, const char *line,
		      uint32_t default_ttl, char *err, size_t errsz);
/* Add one record at owner from the fields after the owner: [ttl] [class]
 * type RDATA, names in the RDATA completed with origin.  0 or -1 with err. */
int dns_zone_add_rr(struct dns_zone *z, const uint8_t *owner,
		    const uint8_t *origin, const struct dns_field *f,
		    unsigned nf, uint32_t default_ttl, char *err,
		    size_t errsz);
/* The zone is complete: it must have its SOA.  0 or -1 with err. */
int dns_zone_finish(const struct dns_zone *z, char *err, size_t errsz);

struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name);
const struct dns_rrset *dns_node_rrset(const struct dns_node *n,
				       uint16_t type);
const struct dns_rrset *dns_zone_soa(const struct dns_zone *z);
/* min(SOA TTL, SOA MINIMUM): the TTL of negative answers (RFC 2308). */
uint32_t dns_zone_neg_ttl(const struct dns_zone *z);

/* Where qname (at or below the zone's origin) leads:
 *   NODE  the name exists (*node; it may be an empty non-terminal);
 *   CUT   it is at or below a delegation (*node: the NS owner), except
 *         a DS query at the cut itself, which gives NODE;
 *   WILD  it does not exist and the wildcard *.<closest encloser> does
 *         (*node: the wildcard) (RFC 4592);
 *   NONE  it does not exist (*node: the closest encloser). */
enum dns_match { DNS_MATCH_NODE, DNS_MATCH_CUT, DNS_MATCH_WILD,
		 DNS_MATCH_NONE };
enum dns_match dns_zone_match(const struct dns_zone *z, const uint8_t *qname,
			      uint16_t qtype, const struct dns_node **node);

/* A zone set takes ownership of zones added to it. */
void dns_zones_init(struct dns_zones *zs);
int dns_zones_add(struct dns_zones *zs, struct dns_zone *z);
/* Index the addresses for automatic PTR; after the last add. */
int dns_zones_index(struct dns_zones *zs);
void dns_zones_free(struct dns_zones *zs);
/* Drop the address index of dns_zones_index (the zones stay). */
void dns_zones_free_index(struct dns_zones *zs);
/* The zone with the longest origin at or above name, or NULL. */
const struct dns_zone *dns_zones_find(const struct dns_zones *zs,
				      const uint8_t *name);
/* The address a reverse name (in-addr.arpa / ip6.arpa) stands for: its
 * length (4 or 16) or 0 when name is no complete reverse name. */
unsigned dns_reverse_addr(const uint8_t *name, uint8_t addr[16]);
/* First entry for the address, then follow ->next with the same one. */
const struct dns_addr_ent *dns_zones_addr(const struct dns_zones *zs,
					  const uint8_t *addr, unsigned len);

#endif
