/*
 * One address type for IPv4 and IPv6: an IPv6 address, with an IPv4
 * address a.b.c.d carried as the IPv4-mapped ::ffff:a.b.c.d (RFC 4291
 * 2.5.5.2).  Flow keys, listener keys, the L3 receive descriptor and UDP
 * metadata hold it, so the transport layers are written once for both
 * families.  The 16 bytes are in network order, as on the wire.
 *
 * The unspecified address (all zero) is the "any" address of a listener
 * and the "not set" value elsewhere; the IPv4 address 0.0.0.0 is the mapped
 * ::ffff:0.0.0.0, which inany_is_unspec() also accepts, so code that asks
 * "is an address set" need not care which family left it empty.
 */
#ifndef TAPIR_NET_INANY_H
#define TAPIR_NET_INANY_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

union inany {
	uint8_t a[16];
	struct {
		uint8_t zero[10];
		uint8_t ones[2]; /* 0xff 0xff */
		uint8_t a4[4];   /* the IPv4 address, network order */
	} v4;
};

#define INANY_ANY ((union inany){.a = {0}})

/* The IPv4-mapped form of a (host order). */
static inline union inany inany_from_v4(uint32_t a)
{
	union inany x = {.v4 = {.ones = {0xff, 0xff}}};

	x.v4.a4[0] = (uint8_t)(a >> 24);
	x.v4.a4[1] = (uint8_t)(a >> 16);
	x.v4.a4[2] = (uint8_t)(a >> 8);
	x.v4.a4[3] = (uint8_t)a;
	return x;
}

/* An IPv6 address from its 16 network-order bytes. */
static inline union inany inany_from_v6(const uint8_t b[16])
{
	union inany x;

	memcpy(x.a, b, 16);
	return x;
}

/* True when x is an IPv4-mapped address. */
static inline bool inany_is_v4(const union inany *x)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					   0xff, 0xff};

	return memcmp(x->a, prefix, sizeof(prefix)) == 0;
}

/* The IPv4 address of a mapped x in host order; 0 for any other. */
static inline uint32_t inany_v4(const union inany *x)
{
	if (!inany_is_v4(x))
		return 0;
	return (uint32_t)x->v4.a4[0] << 24 | (uint32_t)x->v4.a4[1] << 16 |
	       (uint32_t)x->v4.a4[2] << 8 | x->v4.a4[3];
}

static inline bool inany_eq(const union inany *x, const union inany *y)
{
	return memcmp(x->a, y->a, 16) == 0;
}

/* True for :: and for the mapped 0.0.0.0. */
static inline bool inany_is_unspec(const union inany *x)
{
	static const uint8_t zero[16];

	return memcmp(x->a, zero, 16) == 0 ||
	       (inany_is_v4(x) && inany_v4(x) == 0);
}

#endif
