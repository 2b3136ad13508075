/* The TAP device: open or attach, configure the kernel side, read/write. */
#ifndef TAPIR_TAP_H
#define TAPIR_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open /dev/net/tun and attach to (or create) TAP device name.  Returns a
 * non-blocking fd, or -1 with a one-line explanation (cause and fix) in
 * err. */
int tap_open(const char *name, char *err, size_t errlen);
/* Ask the TAP for offloads: a virtio-net header on every frame both ways
 * (IFF_VNET_HDR), partial checksums and TCP segmentation (TUN_F_CSUM,
 * TUN_F_TSO4).  Opens like tap_open(); *offload says whether it took. */
int tap_open_offload(const char *name, bool *offload, char *err,
		     size_t errlen);
/* Bring the link up and optionally set its MTU (0: leave) and kernel-side
 * address (prefix 0: leave).  0, or -1 with err filled. */
int tap_configure(const char *name, unsigned mtu, uint32_t host_addr,
		  unsigned host_prefix, char *err, size_t errlen);

#endif
