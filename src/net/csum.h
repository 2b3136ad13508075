/* The Internet checksum (RFC 1071), with partial sums for pseudo-headers. */
#ifndef TAPIR_CSUM_H
#define TAPIR_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at p to a running 32-bit sum (big-endian 16-bit words; an
 * odd trailing byte is padded with zero).  Chain calls over even-length
 * pieces only, except the last. */
uint32_t csum_partial(const void *p, size_t len, uint32_t sum);
/* Fold a running sum and return its one's complement, ready to store. */
uint16_t csum_fold(uint32_t sum);
/* The checksum of a buffer: csum_fold(csum_partial(p, len, 0)). */
uint16_t csum(const void *p, size_t len);
/* The IPv4 pseudo-header sum for UDP/TCP (addresses in host order). */
uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto,
		      uint16_t len);

#endif
