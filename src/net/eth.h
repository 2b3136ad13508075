/* Ethernet (net/eth.c): frames in from the link, frames out to it. */
#ifndef TAPIR_NET_ETH_H
#define TAPIR_NET_ETH_H

#include <stdint.h>

#include "net/pbuf.h"
#include "wire/cur.h"

struct stack;
struct stack_tx_offload;

void eth_input(struct stack *s, struct cur c, unsigned flags);
/* Prepend the Ethernet header to pb and hand the frame to the link with
 * off (NULL: none).  0 or -errno. */
int eth_output(struct stack *s, const uint8_t *dst_mac, uint16_t type,
	       struct pbuf *pb, const struct stack_tx_offload *off);

#endif
