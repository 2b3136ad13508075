/*
 * The link: a TAP device, opened and configured, and its data path.
 *
 * Theory of operation.  The stack sees the link as two calls (net/stack.h):
 * frames in through stack_input() with the link's checksum verdict, frames
 * out through its xmit callback with offload metadata.  This file is the
 * TAP behind them.  On a TAP opened with offloads (IFF_VNET_HDR) every
 * frame, both ways, starts with a 10-byte struct virtio_net_hdr; nothing
 * outside this file sees it.
 *
 * Reading: tap_read_batch() reads frames until the fd would block
 * (EAGAIN) or TAP_BATCH frames are in, each into its own slot of one
 * buffer allocated when the link is set up, and splits the virtio-net
 * header off into the frame's flags (STACK_RX_CSUM_OK when the kernel
 * checked the transport checksum, or left it unfinished for a frame it
 * made itself).  The frames are borrowed by whoever handles the batch,
 * until the next read.
 *
 * Writing: tap_xmit() is the stack's xmit callback.  It builds the
 * virtio-net header from the offloads the stack asks for (a checksum to
 * finish, a TCP segment to cut into gso_size pieces, as TCPv4 or TCPv6 by
 * the frame's EtherType) and writes header and frame with one writev();
 * without a virtio-net header the frame is written as it is.  While a
 * capture runs (cap), what was written goes to it, as written (a TCP
 * superframe whole), with the write's result.
 */
#ifndef TAPIR_TAP_H
#define TAPIR_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/stack.h"

struct capture;

/* Frames read per tap_read_batch() before other events get their turn. */
#define TAP_BATCH 64
/* The virtio-net header (struct virtio_net_hdr, without num_buffers). */
#define TAP_VNET_HDR_LEN 10
/* A frame: up to MTU 65521 plus Ethernet, or with offloads a TCP segment
 * of up to 64 KiB the kernel did not cut up, and some slack. */
#define TAP_FRAME_MAX (ETH_HLEN + 65536 + 256)

/* A received frame, in the link's buffers until the next read. */
struct tap_frame {
	const uint8_t *data;
	size_t len;
	unsigned flags; /* STACK_RX_* */
};

struct tap {
	int fd;    /* -1: none */
	bool vnet; /* frames carry a struct virtio_net_hdr (offloads) */
	uint8_t *slots; /* TAP_BATCH slots of TAP_FRAME_MAX bytes */
	struct tap_frame rx[TAP_BATCH];
	/* Reads too short for the virtio-net header, dropped. */
	uint64_t rx_short;
	/* Wakeups in a row whose reads failed without a frame. */
	unsigned rx_fail_run;
	/* The running capture (daemon/capture.h), NULL when none: the only
	 * thing the data path tests for it. */
	struct capture *cap;
};

/* What a batch's failed read says about the link (tap_read_fault()). */
enum tap_read_fault {
	TAP_READ_OK,	    /* no read failed */
	TAP_READ_TRANSIENT, /* one failed: drop it and go on */
	TAP_READ_GONE,	    /* the device is gone or broken: stop */
};

/* Wakeups in a row whose reads all fail before the link counts as broken:
 * an error that does not clear would otherwise wake the loop forever. */
#define TAP_READ_FAIL_MAX 64u

/* Judge what tap_read_batch() returned (n frames, err), counting runs of
 * failing wakeups in t->rx_fail_run (reset by a batch with no error).
 * EBADFD (the device was deleted: the kernel detached the fd), ENODEV,
 * ENXIO and EIO mean the TAP is gone; any other error is transient until
 * TAP_READ_FAIL_MAX wakeups in a row brought nothing but it. */
enum tap_read_fault tap_read_fault(struct tap *t, size_t n, int err);
/* Whether -err (a read's) says the device itself is gone. */
bool tap_err_gone(int err);

/* Bring the link up and optionally set its MTU (0: leave) and kernel-side
 * address (prefix 0: leave).  0, or -1 with err filled. */
int tap_configure(const char *name, unsigned mtu, uint32_t host_addr,
		  unsigned host_prefix, char *err, size_t errlen);

/* Give the kernel side of the TAP name the IPv6 address a, unless it
 * carries it already with that prefix length (NULL: leave it as it is).
 * old, when not NULL, is the address set before (a reload): it is removed
 * if a differs.  Fails with a clear line when the kernel side has IPv6
 * disabled (net.ipv6.conf.NAME.disable_ipv6).  0, or -1 with err filled. */
int tap_configure6(const char *name, const struct stack_addr6 *a,
		   const struct stack_addr6 *old, char *err, size_t errlen);

/* Set up the data path of t on fd (a TAP; in tests any fd that keeps
 * frame boundaries), whose frames carry a virtio-net header if vnet.  t
 * owns fd from now on, also when this fails.  0 or -ENOMEM. */
int tap_link_init(struct tap *t, int fd, bool vnet);
/* Open /dev/net/tun, attach to (or create) the TAP device name and set up
 * its data path.  With offload, ask for a virtio-net header on every frame
 * both ways (IFF_VNET_HDR), partial checksums and TCP segmentation over
 * IPv4 and IPv6 (TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6); t->vnet says
 * whether the kernel took them.  The fd is non-blocking.  0, or -1 with a
 * one-line explanation (cause and fix) in err. */
int tap_link_open(struct tap *t, const char *name, bool offload, char *err,
		  size_t errlen);
/* Close the fd and free the buffers; t may be zeroed with fd -1, or set
 * up, or closed already. */
void tap_link_close(struct tap *t);

/* Read a batch: frames until the fd would block or TAP_BATCH are in, into
 * t->rx.  Returns how many; *err is 0, or -errno of a read that failed
 * (the batch ends there; what was read before it is returned). */
size_t tap_read_batch(struct tap *t, int *err);

/* The stack's xmit callback (ctx: the struct tap): write one frame with
 * the offloads off asks for (NULL: none).  0 or -errno (-EIO: written
 * short). */
int tap_xmit(void *ctx, const uint8_t *frame, size_t len,
	     const struct stack_tx_offload *off);

#endif
