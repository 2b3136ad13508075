/*
 * On-demand packet capture (tapirctl capture): the frames that cross the
 * TAP, both ways, into a ring of pcapng files in the configured capture
 * directory.
 *
 * What is captured is what crossed the TAP, without the virtio-net
 * header: every frame read (also a read too short to hold a frame, as an
 * empty packet), every frame written (a TCP superframe the kernel cuts up
 * is written, and captured, whole).  A frame whose handling raised one of
 * the stack's drop counters (net/stats.h: those with a reason) carries a
 * comment naming them ("dropped: udp no_listener"); so does a frame whose
 * write failed.  Inbound frames are judged by comparing the counters
 * before the stack takes the frame with those when it is done with it, or
 * when it first answers (a reply is recorded after what it answers).
 *
 * Files: NAME-00001.pcapng, NAME-00002.pcapng, ... in the directory, each
 * a section header, an interface description (Ethernet) and packets, at
 * most bytes long (a frame that alone would not fit is cut); when
 * max_files exist, the oldest is removed before the next is made.  Files
 * are opened relative to the directory, never through a symbolic link,
 * and never over an existing file.  Writes are buffered and flushed by
 * capture_flush() (after every batch of frames) and when it stops.
 *
 * When no capture runs, nothing here is called: the data path tests one
 * pointer (struct tap's cap).
 */
#ifndef TAPIR_CAPTURE_H
#define TAPIR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"
#include "net/stats.h"

/* Limits of a name, and of a file (bytes). */
#define CAPTURE_NAME_MAX 64
#define CAPTURE_BYTES_MIN 1024u

/* What the configuration allows (capture.* in tapir.conf). */
struct capture_limits {
	const char *directory;
	unsigned max_files;
	uint64_t max_bytes;
};

/* What one capture asks for; 0: no such limit (bytes: max_bytes). */
struct capture_opts {
	char name[CAPTURE_NAME_MAX + 1];
	unsigned seconds;
	uint64_t count;
	uint64_t bytes;
};

struct capture;

/* Whether name may name a capture: 1 to CAPTURE_NAME_MAX letters, digits,
 * '.', '_', '-' and '+', not starting with '.' and without "..".  false
 * with the reason in why. */
bool capture_name_valid(const char *name, char *why, size_t len);

/* Parse the words after "capture start": seconds=S count=N bytes=B
 * name=NAME, each at most once.  false with the reason in why. */
bool capture_parse_opts(const char *args, struct capture_opts *o, char *why,
			size_t len);

/* Start: open (or make, mode 0750) the directory and the first file.
 * ifname names the interface in the files; st is the stack's counters,
 * read while the capture runs.  NULL with the reason in err. */
struct capture *capture_start(const struct capture_limits *lim,
			      const struct capture_opts *o, const char *ifname,
			      const struct stats *st, char *err,
			      size_t errlen);

/* An inbound frame: begin before the stack takes it, end after. */
void capture_in_begin(struct capture *c, const uint8_t *data, size_t len);
void capture_in_end(struct capture *c);
/* A read too short to carry a frame (dropped by the link). */
void capture_in_runt(struct capture *c);
/* An outbound frame, and the result of its write (0 or -errno). */
void capture_tx(struct capture *c, const uint8_t *data, size_t len,
		int result);
/* Write out what is buffered. */
void capture_flush(struct capture *c);

/* Running, or stopped (by capture_stop(), its count, or a failed write)? */
bool capture_running(const struct capture *c);
/* Why it stopped ("" while it runs). */
const char *capture_stop_reason(const struct capture *c);
/* Whether it stopped because a file could not be made or written. */
bool capture_failed(const struct capture *c);
/* Stop: flush and close; why says what stopped it. */
void capture_stop(struct capture *c, const char *why);
/* The state in text: name, files, frames, bytes, the link's counters over
 * the capture. */
void capture_report(const struct capture *c, struct strbuf *out);
void capture_free(struct capture *c);

/* Its counters, for tests. */
struct capture_counts {
	uint64_t in, out, dropped, bytes;
	unsigned files; /* files made, also those the ring removed */
};
void capture_counts(const struct capture *c, struct capture_counts *n);

#endif
