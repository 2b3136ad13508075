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
 * is built like the DHCPv4 module's journal: records are appended in
 * batches with one fdatasync each, and the file is rewritten whole
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

struct j6load_stats {
	unsigned long records, bad, torn;
};

/* Read path and call fn for each good record, in order.  0 (also when the
 * file does not exist), or -errno. */
int j6_load(const char *path, void (*fn)(void *arg, const struct j6rec *r),
	    void *arg, struct j6load_stats *st);

struct j6 {
	char *path;
	int fd;                /* open for append, or -1 */
	unsigned long records; /* in the file */
	/* A failed append could not be cut back: cut to cut_at first. */
	bool torn;
	long long cut_at;
};

/* Rewrite path with the records next() hands out (until it returns
 * false), atomically, and open it for append.  0 or -errno. */
int j6_rewrite(struct j6 *j, const char *path,
	       bool (*next)(void *arg, struct j6rec *r), void *arg);
/* Append buf (whole lines) and make it durable.  0 or -errno; on failure
 * the file is cut back to where it was. */
int j6_append(struct j6 *j, const char *buf, size_t len, unsigned long nrec);
void j6_close(struct j6 *j);

/* Write data to path atomically (temporary file, fsync, rename, fsync of
 * the directory).  0 or -errno. */
int j6_write_file(const char *path, const char *data, size_t len);

/* Tests only: replace write(2) and fdatasync(2)/fsync(2) on the journal
 * and its temporary file (NULL: the real calls), to inject faults. */
void j6_set_io(ssize_t (*wr)(int fd, const void *buf, size_t len),
	       int (*sync)(int fd));

#endif
