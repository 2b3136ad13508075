/*
 * UDP as the core offers it: ports bound by the host (or a test) and
 * datagrams sent from them.  These types are the core's own; the daemon's
 * module host adapts them to the module ABI (tapir/module.h), so the stack
 * never depends on what modules see.
 */
#ifndef TAPIR_NET_UDP_H
#define TAPIR_NET_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/inany.h"
#include "wire/cur.h"

struct stack;
struct l3_rx;

/* What the stack knows about a received UDP datagram. */
struct udp_meta {
	union inany src, dst;
	uint16_t src_port, dst_port;
	uint8_t src_mac[6];
	bool broadcast; /* sent to a broadcast or multicast address */
};

/* Where a datagram goes.  With mac == NULL the stack routes and resolves
 * addr (255.255.255.255 goes to the Ethernet broadcast address); with a MAC
 * it sends straight there without resolving.  src unspecified: our
 * address in addr's family. */
struct udp_dst {
	union inany addr;
	uint16_t port;
	const uint8_t *mac;
	union inany src;
};

typedef void (*udp_recv_fn)(void *arg, const struct udp_meta *m,
			    const uint8_t *data, size_t len);

/* A bound UDP port; owned by the caller, linked in the stack's table. */
struct udp_binding {
	struct udp_binding *next;
	uint16_t port;
	udp_recv_fn fn;
	void *arg;
};

void udp_input(struct stack *s, struct cur c, struct l3_rx *rx);
void udp_fini(struct stack *s);
/* Bind b->port; -EADDRINUSE when taken, -EINVAL for port 0. */
int udp_bind(struct stack *s, struct udp_binding *b);
void udp_unbind(struct stack *s, struct udp_binding *b);
/* Send a datagram from sport.  0 or -errno. */
int udp_output(struct stack *s, uint16_t sport, const struct udp_dst *dst,
	       const void *data, size_t len);

#endif
