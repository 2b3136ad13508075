/*
 * IPv6 (net/ipv6/): input and output, extension headers, reassembly,
 * ICMPv6, Neighbor Discovery with Duplicate Address Detection, and MLD.
 * The entry points the other layers call; see each file for its protocol.
 */
#ifndef TAPIR_NET_IPV6_H
#define TAPIR_NET_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "net/l3.h"
#include "net/pbuf.h"
#include "net/timer.h"
#include "wire/cur.h"
#include "wire/eth.h"

struct stack;
struct stack_tx_offload;

/* The state of one of our addresses (RFC 4862 5.4). */
enum addr6_state {
	ADDR6_TENTATIVE, /* Duplicate Address Detection under way */
	ADDR6_PREFERRED, /* ours: used and defended */
	ADDR6_DUPLICATE, /* someone else has it: never used */
};

struct addr6 {
	struct stack *s;
	union inany a;
	unsigned prefix;
	uint8_t state;    /* enum addr6_state */
	uint8_t dad_left; /* solicitations still to send */
	struct timer timer;
};

/* Our addresses, as IPv6 sees them (nd6.c). */
/* The address entry for a, whatever its state; NULL when not ours. */
struct addr6 *ip6_addr_find(struct stack *s, const union inany *a);
/* True when a is one of our addresses, usable (preferred). */
bool ip6_is_local(const struct stack *s, const union inany *a);
/* Form the addresses from s->p and start DAD on each (at start and after
 * a change of the parameters). */
void nd6_addr_setup(struct stack *s);
void nd6_init(struct stack *s);
void nd6_fini(struct stack *s);

#endif
