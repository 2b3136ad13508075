/*
 * The lease journal: a text file of records, one a line, each ending with a
 * CRC-32 of the line, so a record torn by a crash (no newline, or a CRC that
 * does not match) is recognised and ignored on load.
 *
 *   L <addr> <expires> <mac> <client-key-hex> <hostname|-> <crc>   bound
 *   R <addr> 0 - - - <crc>                                        released
 *   D <addr> <until> - - - <crc>                                  declined
 *
 * Later records override earlier ones (the file itself, its durability
 * and compaction: ../common/lease_journal.h).  New records are appended in
 * batches (one write and one fdatasync per batch); the file is rewritten
 * whole (temporary file, fsync, rename, fsync of the directory) at start
 * and whenever it has grown to several times the live lease count, so it
 * stays bounded and a crash during the rewrite leaves either the old file
 * or the new one.
 */
#ifndef TAPIR_DHCP_JOURNAL_H
#define TAPIR_DHCP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/lease_journal.h"

#define JREC_KEY_MAX 64
#define JREC_HOST_MAX 63
#define JREC_LINE_MAX 384 /* longer lines are not ours: rejected */

struct jrec {
	char kind; /* 'L', 'R', 'D' */
	uint32_t addr;
	int64_t time; /* expires (L), until (D) */
	uint8_t mac[6];
	uint8_t keylen;
	uint8_t key[JREC_KEY_MAX];
	char host[JREC_HOST_MAX + 1]; /* "" when none */
};

/* One record as a line (with the newline) into buf (JREC_LINE_MAX bytes);
 * returns its length. */
size_t jrec_format(const struct jrec *r, char *buf);
/* Parse one line (without the newline); false when malformed or the CRC
 * does not match. */
bool jrec_parse(const char *line, size_t len, struct jrec *r);

/* Read path and call fn for each good record, in order.  0 (also when the
 * file does not exist), or -errno. */
int journal_load(const char *path, void (*fn)(void *arg, const struct jrec *r),
		 void *arg, struct lj_stats *st);

/* Rewrite path with the records next() hands out (until it returns false),
 * atomically, and open it for append (lease_journal.h).  0 or -errno. */
int journal_rewrite(struct lease_journal *j, const char *path,
		    bool (*next)(void *arg, struct jrec *r), void *arg);

#endif
