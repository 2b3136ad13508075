/*
 * The lease journal both DHCP modules keep (dhcp: DHCPv4 leases, dhcp6:
 * DHCPv6 leases): a text file of one record per line, each line ending in
 * the CRC-32 of what comes before it, appended and made durable before a
 * lease is acknowledged, and compacted by writing a new file and renaming
 * it over the old one.  The record formats are the modules' own
 * (dhcp_journal.c, dhcp6_journal.c); this is the file underneath.
 *
 * Durability: an append is written and fdatasync()ed before it returns 0;
 * a failed append leaves no part of its lines in the file (cut back, or
 * cut before the next append when the cut itself failed), so a record
 * never follows a torn line.  A rewrite goes to PATH.tmp, is fsync()ed,
 * renamed over PATH and the directory fsync()ed; until the rename the old
 * file is untouched.  Loading skips lines whose CRC does not match and
 * counts a last line without its newline as torn (a crash mid-append).
 */
#ifndef TAPIR_LEASE_JOURNAL_H
#define TAPIR_LEASE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Append " xxxxxxxx\n", the CRC-32 of buf[0..n), to the line in buf (of
 * cap bytes, at least n + 11); the line's new length. */
size_t lj_seal(char *buf, size_t n, size_t cap);

/* Check a line (without its newline) against its CRC and split what the
 * CRC covers, copied into copy (cap bytes), into space-separated fields:
 * their number (max + 1 when there are more), or -1 when the line is too
 * short or long, holds a NUL or fails its CRC. */
int lj_open_line(const char *line, size_t len, char *copy, size_t cap,
		 char **f, int max);

struct lj_stats {
	unsigned long records, bad, torn;
};

/* Read path line by line (lines of up to line_max bytes; longer ones are
 * bad) and hand each non-comment line to fn, which says whether it was a
 * good record.  0 (also when path does not exist) or -errno. */
int lj_load(const char *path, size_t line_max,
	    bool (*fn)(void *arg, const char *line, size_t len), void *arg,
	    struct lj_stats *st);

struct lease_journal {
	char *path;
	int fd;                /* open for append, or -1 */
	unsigned long records; /* in the file */
	/* A failed append could not be cut back: cut to cut_at first. */
	bool torn;
	long long cut_at;
};

/* Rewrite path: header (a comment line with its newline), then the lines
 * next() formats into its buffer of line_max bytes (their length; 0 when
 * there are no more).  On success j appends to the new file; on failure
 * before the rename j and the old file are as they were.  0 or -errno. */
int lj_rewrite(struct lease_journal *j, const char *path, const char *header,
	       size_t line_max, size_t (*next)(void *arg, char *buf),
	       void *arg);
/* Append buf (nrec whole lines) and make it durable.  0 or -errno; on
 * failure nothing of buf stays in the file. */
int lj_append(struct lease_journal *j, const char *buf, size_t len,
	      unsigned long nrec);
void lj_close(struct lease_journal *j);

/* Write data to path as a whole: PATH.tmp, fsync, rename, directory
 * fsync.  0 or -errno. */
int lj_write_file(const char *path, const char *data, size_t len);

/* Tests only: replace write(2) and fdatasync(2)/fsync(2) (NULL: the real
 * ones). */
void lj_set_io(ssize_t (*wr)(int fd, const void *buf, size_t len),
	       int (*sync)(int fd));

#endif
