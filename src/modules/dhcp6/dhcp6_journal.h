/*
 * The DHCPv6 lease journal: a text file of records, one a line, each
 * ending with a CRC-32 of the line, so a record torn by a crash (no
 * newline, or a CRC that does not match) is recognised and ignored on load.
 *
 *   L <addr> <expires> <key-hex> <hostname|-> <crc>   bound
 *   R <addr> 0 - - <crc>                              released or expired
 *   D <addr> <until> - - <crc>                        declined
 *
 * <key-hex> is the client's DUID followed by the IAID (4 bytes) of the IA
 * the address belongs to.  Later records override earlier ones.  The file
 * is the DHCPv4 module's (../common/lease_journal.h): records are appended
 * in batches with one fdatasync each, and the file is rewritten whole
 * (temporary file, fsync, rename, fsync of the directory) at start and
 * whenever it has grown to several times the live lease count.
 */
#ifndef TAPIR_DHCP6_JOURNAL_H
#define TAPIR_DHCP6_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <tapir/addr.h>

#include "../common/lease_journal.h"

#define D6_DUID_MAX 130 /* RFC 8415 11.1: type and up to 128 bytes */
#define D6_KEY_MAX (D6_DUID_MAX + 4)
#define D6_HOST_MAX 63
#define J6_LINE_MAX 512 /* longer lines are not ours: rejected */

struct j6rec {
	char kind; /* 'L', 'R', 'D' */
	struct tapir_addr addr;
	int64_t time; /* expires (L), until (D) */
	uint8_t keylen;
	uint8_t key[D6_KEY_MAX];
	char host[D6_HOST_MAX + 1]; /* "" when none */
};

/* One record as a line (with the newline) into buf (J6_LINE_MAX bytes);
 * returns its length. */
size_t j6rec_format(const struct j6rec *r, char *buf);
/* Parse one line (without the newline); false when malformed or the CRC
 * does not match. */
bool j6rec_parse(const char *line, size_t len, struct j6rec *r);

/* Read path and call fn for each good record, in order.  0 (also when the
 * file does not exist), or -errno. */
int j6_load(const char *path, void (*fn)(void *arg, const struct j6rec *r),
	    void *arg, struct lj_stats *st);

/* Rewrite path with the records next() hands out (until it returns
 * false), atomically, and open it for append (lease_journal.h).  0 or
 * -errno. */
int j6_rewrite(struct lease_journal *j, const char *path,
	       bool (*next)(void *arg, struct j6rec *r), void *arg);

#endif
