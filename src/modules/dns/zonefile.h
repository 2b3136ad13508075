/*
 * Master files (RFC 1035 §5): a zone's records read from a file.
 *
 * Entries are records and the directives $ORIGIN, $TTL (RFC 2308 §4) and
 * $INCLUDE.  An entry is one line, or several joined by parentheses; ';'
 * starts a comment; "quoted strings" keep their blanks; \X and \DDD
 * escape; an owner of "@" is the origin, a name without the final dot is
 * relative to it, and a line that starts with a blank has the owner of the
 * record before it.  The class is IN or left out; a record without a TTL
 * takes the last $TTL, before any the default given.
 *
 * $INCLUDE reads another file with the origin it names (or the current
 * one); afterwards the origin is again what it was (RFC 1035 §5.1).  The
 * file must lie inside the directory of the top zone file: a relative
 * name without "..", or an absolute one inside it, that resolves there
 * after symbolic links too.  Includes nest at most DNS_INCLUDE_DEPTH deep,
 * and at most DNS_INCLUDES_MAX are read in all.
 *
 * Limits: DNS_ZONEFILE_MAX bytes per file, DNS_LINE_MAX bytes per line,
 * DNS_ZONE_RECORDS_MAX records per zone (zone.h).  Problems are reported
 * as "FILE:LINE: reason", FILE as the configuration or the $INCLUDE named
 * it; after DNS_ZONEFILE_ERRORS of them the file is given up.
 */
#ifndef TAPIR_DNS_ZONEFILE_H
#define TAPIR_DNS_ZONEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zone.h"

#define DNS_ZONEFILE_MAX (16u << 20)
#define DNS_LINE_MAX 8192
#define DNS_INCLUDE_DEPTH 8
#define DNS_INCLUDES_MAX 256 /* $INCLUDEs read for one zone file */
#define DNS_ZONEFILE_ERRORS 10

struct dns_zonefile {
	uint32_t default_ttl; /* until a $TTL */
	/* The directory $INCLUDE is confined to (its real path), or NULL:
	 * $INCLUDE refused. */
	const char *include_dir;
	/* Each problem, "FILE:LINE: reason". */
	void (*report)(void *arg, const char *msg);
	void *arg;
	/* Filled: problems reported, $INCLUDEs read. */
	unsigned errors;
	unsigned includes;
};

/* Read the master file at path (its name in messages: as given) into z.
 * 0, or -1 after reporting. */
int dns_zonefile_load(struct dns_zone *z, const char *path,
		      struct dns_zonefile *zf);
/* The same for a file's text in memory; name is used in messages. */
int dns_zonefile_parse(struct dns_zone *z, const char *name,
		       const char *text, size_t len, struct dns_zonefile *zf);

/* Read again each zone of zs that came from a master file whose files
 * changed since (device, inode, size or modification time): 0 when none
 * did; 1 when zs now holds the new zones (the others as they were) and
 * its index; -1 when a changed zone has an error, reported through zf,
 * and zs is as it was but for remembering the files as they are now, so
 * that the same error is reported once. */
int dns_zones_reread(struct dns_zones *zs, struct dns_zonefile *zf);

#endif
