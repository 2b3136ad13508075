/* The TAP link's data path (tap.c): batched reads, the virtio-net header
 * split off on read and built on write.  A SOCK_SEQPACKET socket pair
 * stands in for the TAP: like a TAP fd, it keeps frame boundaries. */
#include "daemon/tap.h"
#include "helpers.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct tap T;
static int peer = -1; /* the kernel's side */

static void link_up(bool vnet)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX,
				    SOCK_SEQPACKET | SOCK_NONBLOCK |
					    SOCK_CLOEXEC,
				    0, sv),
			 0);
	ck_assert_int_eq(tap_link_init(&T, sv[0], vnet), 0);
	peer = sv[1];
}

static void link_down(void)
{
	tap_link_close(&T);
	ck_assert_int_eq(T.fd, -1);
	ck_assert_ptr_null(T.slots);
	tap_link_close(&T); /* twice is harmless */
	close(peer);
	peer = -1;
}

/* The kernel sends a frame: hdr (vnet links) and n bytes of pattern. */
static void kernel_sends(const struct virtio_net_hdr *hdr, size_t n,
			 unsigned seed)
{
	uint8_t buf[TAP_VNET_HDR_LEN + 2048];
	size_t at = 0;

	ck_assert_uint_le(n, 2048);
	if (hdr) {
		memcpy(buf, hdr, TAP_VNET_HDR_LEN);
		at = TAP_VNET_HDR_LEN;
	}
	th_pattern(buf + at, n, seed);
	ck_assert_int_eq(write(peer, buf, at + n), (ssize_t)(at + n));
}

static void expect_frame(size_t i, size_t n, unsigned seed, unsigned flags)
{
	uint8_t want[2048];

	th_pattern(want, n, seed);
	ck_assert_uint_eq(T.rx[i].len, n);
	ck_assert_mem_eq(T.rx[i].data, want, n);
	ck_assert_uint_eq(T.rx[i].flags, flags);
}

/* Without a virtio-net header: each read is a frame, as it came; the
 * batch ends when nothing is left. */
START_TEST(test_read_plain)
{
	int err = 1;

	link_up(false);
	kernel_sends(NULL, 60, 1);
	kernel_sends(NULL, 1514, 2);
	kernel_sends(NULL, 42, 3);
	ck_assert_uint_eq(tap_read_batch(&T, &err), 3);
	ck_assert_int_eq(err, 0);
	expect_frame(0, 60, 1, 0);
	expect_frame(1, 1514, 2, 0);
	expect_frame(2, 42, 3, 0);
	/* Each in its own slot: all three still there. */
	ck_assert_ptr_ne(T.rx[0].data, T.rx[1].data);
	ck_assert_uint_eq(tap_read_batch(&T, &err), 0);
	ck_assert_int_eq(err, 0);
	link_down();
}
END_TEST

/* With a virtio-net header: it is split off, and what it says about the
 * checksum becomes STACK_RX_CSUM_OK; a read too short to hold a frame
 * after it is dropped and counted. */
START_TEST(test_read_vnet)
{
	struct virtio_net_hdr none = {0}, valid = {0}, partial = {0};
	int err;

	valid.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	partial.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	partial.csum_start = 34;
	partial.csum_offset = 16;
	link_up(true);
	kernel_sends(&none, 60, 4);
	kernel_sends(&valid, 100, 5);
	ck_assert_int_eq(write(peer, &none, 4), 4); /* a runt */
	kernel_sends(&partial, 1514, 6);
	ck_assert_uint_eq(tap_read_batch(&T, &err), 3);
	ck_assert_int_eq(err, 0);
	expect_frame(0, 60, 4, 0);
	expect_frame(1, 100, 5, STACK_RX_CSUM_OK);
	expect_frame(2, 1514, 6, STACK_RX_CSUM_OK);
	ck_assert_uint_eq(T.rx_short, 1);
	link_down();
}
END_TEST

/* A batch stops at TAP_BATCH frames; the rest waits for the next. */
START_TEST(test_read_batch_limit)
{
	int err;

	link_up(false);
	for (unsigned i = 0; i < TAP_BATCH + 5; i++)
		kernel_sends(NULL, 60, i);
	ck_assert_uint_eq(tap_read_batch(&T, &err), TAP_BATCH);
	ck_assert_int_eq(err, 0);
	for (unsigned i = 0; i < TAP_BATCH; i++)
		expect_frame(i, 60, i, 0);
	ck_assert_uint_eq(tap_read_batch(&T, &err), 5);
	for (unsigned i = 0; i < 5; i++)
		expect_frame(i, 60, TAP_BATCH + i, 0);
	link_down();
}
END_TEST

/* A read that fails ends the batch with its error. */
START_TEST(test_read_error)
{
	int p[2], err = 0;

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	/* The write end cannot be read: EBADF. */
	ck_assert_int_eq(tap_link_init(&T, p[1], false), 0);
	ck_assert_uint_eq(tap_read_batch(&T, &err), 0);
	ck_assert_int_eq(err, -EBADF);
	tap_link_close(&T);
}
END_TEST

/* A deleted TAP reads EBADFD (the kernel detached the fd); ENODEV, ENXIO
 * and EIO say the device is gone too: the first such read ends the link,
 * even after frames that came before it in the batch. */
START_TEST(test_fault_gone)
{
	static const int gone[] = {EBADFD, ENODEV, ENXIO, EIO};

	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		memset(&T, 0, sizeof(T));
		ck_assert(tap_err_gone(-gone[i]));
		ck_assert_int_eq(tap_read_fault(&T, 0, -gone[i]),
				 TAP_READ_GONE);
		memset(&T, 0, sizeof(T));
		ck_assert_int_eq(tap_read_fault(&T, 3, -gone[i]),
				 TAP_READ_GONE);
	}
	ck_assert(!tap_err_gone(-EBADF));
	ck_assert(!tap_err_gone(-ENOMEM));
	ck_assert(!tap_err_gone(0));
}
END_TEST

/* Any other error is transient, counted per wakeup; a batch without an
 * error ends the run, one with frames before its error starts it anew. */
START_TEST(test_fault_transient)
{
	memset(&T, 0, sizeof(T));
	ck_assert_int_eq(tap_read_fault(&T, 0, 0), TAP_READ_OK);
	ck_assert_uint_eq(T.rx_fail_run, 0);
	ck_assert_int_eq(tap_read_fault(&T, 0, -ENOBUFS), TAP_READ_TRANSIENT);
	ck_assert_uint_eq(T.rx_fail_run, 1);
	ck_assert_int_eq(tap_read_fault(&T, 0, -ENOBUFS), TAP_READ_TRANSIENT);
	ck_assert_uint_eq(T.rx_fail_run, 2);
	ck_assert_int_eq(tap_read_fault(&T, 5, 0), TAP_READ_OK);
	ck_assert_uint_eq(T.rx_fail_run, 0);
	for (unsigned i = 1; i < TAP_READ_FAIL_MAX; i++) {
		ck_assert_int_eq(tap_read_fault(&T, 0, -ENOBUFS),
				 TAP_READ_TRANSIENT);
		ck_assert_uint_eq(T.rx_fail_run, i);
	}
	/* Frames came: the run starts again at this failure. */
	ck_assert_int_eq(tap_read_fault(&T, 2, -ENOBUFS), TAP_READ_TRANSIENT);
	ck_assert_uint_eq(T.rx_fail_run, 1);
}
END_TEST

/* An error that never clears (here EBADF: the fd is a pipe's write end)
 * ends the link after TAP_READ_FAIL_MAX wakeups, not never. */
START_TEST(test_fault_persistent)
{
	int p[2], err = 0;
	unsigned wakeups = 0;
	enum tap_read_fault f = TAP_READ_OK;

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(tap_link_init(&T, p[1], false), 0);
	while (wakeups < 10 * TAP_READ_FAIL_MAX) {
		size_t n = tap_read_batch(&T, &err);

		wakeups++;
		f = tap_read_fault(&T, n, err);
		if (f != TAP_READ_TRANSIENT)
			break;
	}
	ck_assert_int_eq(f, TAP_READ_GONE);
	ck_assert_int_eq(err, -EBADF);
	ck_assert_uint_eq(wakeups, TAP_READ_FAIL_MAX);
	ck_assert_uint_eq(T.rx_fail_run, TAP_READ_FAIL_MAX);
	tap_link_close(&T);
}
END_TEST

/* What the kernel gets from tap_xmit(): into buf, returns its length. */
static size_t kernel_reads(uint8_t *buf, size_t len)
{
	ssize_t n = read(peer, buf, len);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

/* Without a virtio-net header the frame goes as it is. */
START_TEST(test_xmit_plain)
{
	uint8_t frame[1514], got[2048];

	link_up(false);
	th_pattern(frame, sizeof(frame), 7);
	ck_assert_int_eq(tap_xmit(&T, frame, sizeof(frame), NULL), 0);
	ck_assert_uint_eq(kernel_reads(got, sizeof(got)), sizeof(frame));
	ck_assert_mem_eq(got, frame, sizeof(frame));
	link_down();
}
END_TEST

/* With one, a plain frame (no offloads, or all zero) gets an all-zero
 * header; a checksum to finish sets NEEDS_CSUM with where; a segment to
 * cut also says TCPv4, or TCPv6 for an IPv6 frame, and the sizes. */
START_TEST(test_xmit_vnet)
{
	static const uint8_t zero[TAP_VNET_HDR_LEN];
	const struct stack_tx_offload plain = {0};
	const struct stack_tx_offload csum = {
		.csum = true, .csum_start = 34, .csum_offset = 16};
	const struct stack_tx_offload tso = {.csum = true,
					     .csum_start = 34,
					     .csum_offset = 16,
					     .gso_size = 1448,
					     .hdr_len = 66};
	struct stack_tx_offload tso6 = tso;
	uint8_t frame[4000], got[TAP_VNET_HDR_LEN + 4000];
	struct virtio_net_hdr vh;

	link_up(true);
	th_pattern(frame, sizeof(frame), 8);
	frame[12] = 0x08; /* EtherType IPv4 */
	frame[13] = 0x00;

	ck_assert_int_eq(tap_xmit(&T, frame, 60, NULL), 0);
	ck_assert_uint_eq(kernel_reads(got, sizeof(got)),
			  TAP_VNET_HDR_LEN + 60);
	ck_assert_mem_eq(got, zero, TAP_VNET_HDR_LEN);
	ck_assert_mem_eq(got + TAP_VNET_HDR_LEN, frame, 60);

	ck_assert_int_eq(tap_xmit(&T, frame, 60, &plain), 0);
	kernel_reads(got, sizeof(got));
	ck_assert_mem_eq(got, zero, TAP_VNET_HDR_LEN);

	ck_assert_int_eq(tap_xmit(&T, frame, 1514, &csum), 0);
	ck_assert_uint_eq(kernel_reads(got, sizeof(got)),
			  TAP_VNET_HDR_LEN + 1514);
	memcpy(&vh, got, TAP_VNET_HDR_LEN);
	ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ck_assert_uint_eq(vh.csum_start, 34);
	ck_assert_uint_eq(vh.csum_offset, 16);
	ck_assert_uint_eq(vh.gso_size, 0);
	ck_assert_mem_eq(got + TAP_VNET_HDR_LEN, frame, 1514);

	ck_assert_int_eq(tap_xmit(&T, frame, sizeof(frame), &tso), 0);
	ck_assert_uint_eq(kernel_reads(got, sizeof(got)),
			  TAP_VNET_HDR_LEN + sizeof(frame));
	memcpy(&vh, got, TAP_VNET_HDR_LEN);
	ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(vh.gso_size, 1448);
	ck_assert_uint_eq(vh.hdr_len, 66);
	ck_assert_mem_eq(got + TAP_VNET_HDR_LEN, frame, sizeof(frame));

	/* The same over IPv6 (EtherType 0x86dd, a 40-byte header). */
	frame[12] = 0x86;
	frame[13] = 0xdd;
	tso6.csum_start = 54;
	tso6.hdr_len = 86;
	ck_assert_int_eq(tap_xmit(&T, frame, sizeof(frame), &tso6), 0);
	ck_assert_uint_eq(kernel_reads(got, sizeof(got)),
			  TAP_VNET_HDR_LEN + sizeof(frame));
	memcpy(&vh, got, TAP_VNET_HDR_LEN);
	ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	ck_assert_uint_eq(vh.gso_size, 1448);
	ck_assert_uint_eq(vh.csum_start, 54);
	ck_assert_uint_eq(vh.hdr_len, 86);
	ck_assert_mem_eq(got + TAP_VNET_HDR_LEN, frame, sizeof(frame));

	/* An IPv6 frame with only a checksum to finish: no GSO type. */
	ck_assert_int_eq(tap_xmit(&T, frame, 1514, &csum), 0);
	kernel_reads(got, sizeof(got));
	memcpy(&vh, got, TAP_VNET_HDR_LEN);
	ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	link_down();
}
END_TEST

/* A write the fd refuses comes back as -errno. */
START_TEST(test_xmit_error)
{
	int p[2];
	uint8_t frame[60] = {0};

	ck_assert_int_eq(pipe(p), 0);
	close(p[1]);
	/* The read end cannot be written: EBADF. */
	ck_assert_int_eq(tap_link_init(&T, p[0], true), 0);
	ck_assert_int_eq(tap_xmit(&T, frame, sizeof(frame), NULL), -EBADF);
	T.vnet = false;
	ck_assert_int_eq(tap_xmit(&T, frame, sizeof(frame), NULL), -EBADF);
	tap_link_close(&T);
}
END_TEST

static Suite *tap_suite(void)
{
	Suite *su = suite_create("tap");
	TCase *tc;

	tc = tcase_create("read");
	tcase_add_test(tc, test_read_plain);
	tcase_add_test(tc, test_read_vnet);
	tcase_add_test(tc, test_read_batch_limit);
	tcase_add_test(tc, test_read_error);
	suite_add_tcase(su, tc);

	tc = tcase_create("fault");
	tcase_add_test(tc, test_fault_gone);
	tcase_add_test(tc, test_fault_transient);
	tcase_add_test(tc, test_fault_persistent);
	suite_add_tcase(su, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_xmit_plain);
	tcase_add_test(tc, test_xmit_vnet);
	tcase_add_test(tc, test_xmit_error);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(tap_suite());
}
