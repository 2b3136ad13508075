/*
 * TCP options (RFC 9293 3.2, RFC 7323, RFC 2018): the options area of a
 * received segment parsed into struct tcp_opts, and the options of a
 * segment we send written from one.
 *
 * Theory of operation.  The parser walks the area through a struct cur with
 * one rule for every kind but EOL and NOP: a kind byte, a length byte >= 2,
 * and that many bytes, all inside the area.  A walk that breaks this rule
 * is malformed and the whole segment is dropped (Linux instead stops at the
 * bad length and keeps the segment; RFC 9293 3.1 MUST-7 only asks that an
 * illegal length be handled, and a segment whose options lie about their
 * length is not one we want to act on).  Every step consumes at
 * least one byte and never goes past the end, so the walk ends after at
 * most len steps, whatever the bytes.  Inside a well-formed walk, what we
 * do not understand is skipped by its length: unknown kinds silently, known
 * kinds with the wrong length, or a repeat of one already taken, counted as
 * ignored.  MSS, window scale and SACK-permitted mean something only on a
 * SYN; SACK blocks only on a segment that is not a SYN: elsewhere they are
 * skipped without being counted.
 *
 * The writer emits the layout Linux uses, every option 4-byte aligned with
 * NOPs: on a SYN "MSS, SACK_PERM, TS, NOP, WS" (20 bytes with all four), on
 * other segments "NOP NOP TS" then "NOP NOP SACK blocks".
 */
#ifndef TAPIR_TCP_OPT_H
#define TAPIR_TCP_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/pbuf.h"
#include "wire/tcp.h"

struct tcp_sack_block {
	uint32_t start; /* left edge: the first sequence number in the block */
	uint32_t end;   /* right edge: the one after the last */
};

struct tcp_opts {
	bool mss_ok;
	uint16_t mss; /* >= TCP_MIN_MSS when parsed */
	bool ws_ok;
	uint8_t ws; /* shift count, <= TCP_MAX_WS when parsed */
	bool sack_perm;
	bool ts_ok;
	uint32_t tsval, tsecr;
	uint8_t nsack; /* blocks in sack[], 0..TCP_MAX_SACK */
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

/* Parse the options area of a segment (syn: the segment carries SYN) into
 * *o, which is cleared first.  A WS shift above 14 is clamped to 14 (RFC
 * 7323 2.3), an MSS below TCP_MIN_MSS raised to it; SACK blocks are copied
 * as sent (checking them against the send window is the caller's job).
 * When the same option appears twice, the first well-formed one wins.
 * ignored (may be NULL) is incremented once per option skipped for a wrong
 * length or a repeat.  Returns 0, or -1 when the area is malformed (a kind
 * in the last byte, a length < 2 or past the end): then *o is cleared,
 * *ignored untouched, and the caller drops and counts the segment.  Any
 * length of area is accepted (a parsed header gives at most 40 bytes). */
int tcp_opts_parse(struct cur opts, bool syn, struct tcp_opts *o,
		   unsigned *ignored);

/* The length tcp_opts_write() needs for o: a multiple of 4, at most 40
 * (on a SYN at most 20).  On a SYN: MSS if mss_ok, SACK_PERM if sack_perm,
 * TS if ts_ok, WS (ws clamped to 14) if ws_ok.  Otherwise: TS if ts_ok,
 * then the first nsack SACK blocks, as many as fit (3 with TS, 4 without). */
size_t tcp_opts_len(const struct tcp_opts *o, bool syn);

/* Write the options for o (see tcp_opts_len) at p, padded to a multiple of
 * 4, and return their length (0..40).  Writes nothing and returns 0 when
 * room is smaller than that length; room >= TCP_MAX_OPTLEN always does. */
size_t tcp_opts_write(uint8_t *p, size_t room, const struct tcp_opts *o,
		      bool syn);

#endif
