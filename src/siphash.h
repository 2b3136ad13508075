/*
 * SipHash-2-4, the keyed pseudo-random function of Aumasson and Bernstein
 * ("SipHash: a fast short-input PRF", 2012), written from the paper's
 * description.
 *
 * The key is 16 bytes, read as two little-endian 64-bit words k0 and k1.
 * The message is read as little-endian 64-bit words; the last word holds
 * the 0..7 trailing bytes with the message length mod 256 in its top byte.
 * Each word gets two SipRounds, the finalisation four.  All loads are
 * byte by byte, so the result (a 64-bit integer whose little-endian bytes
 * are the paper's output bytes) is the same on any host byte order and
 * needs no alignment.
 *
 * Used to spread the connection table (flow.c) with a secret key, so that
 * an outsider cannot choose 4-tuples that all land in one chain, and as the
 * F() of RFC 6528 initial sequence numbers (tcp_isn.c).
 */
#ifndef TAPIR_SIPHASH_H
#define TAPIR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/* SipHash-2-4 of len bytes at data under key. */
uint64_t siphash24(const void *data, size_t len,
		   const uint8_t key[SIPHASH_KEY_LEN]);

/* SipHash-2-4 of a fixed 12-byte message given as words: the same value as
 * siphash24() over the 8 little-endian bytes of w0 followed by the 4
 * little-endian bytes of w1, without building the buffer. */
uint64_t siphash24_12(const uint8_t key[SIPHASH_KEY_LEN], uint64_t w0,
		      uint32_t w1);

#endif
