/* Packet capture (capture.c) and its pcapng blocks (pcapng.c): the layout
 * of every block, byte for byte; the ring's rotation and limits; frames
 * too large for a file cut to fit; drop comments from the counters that
 * rose while the stack held a frame, and the order of a frame and its
 * reply; the names and options refused; no file made through a symbolic
 * link or over an existing one.  Files go to a fresh temporary
 * directory. */
#include "daemon/capture.h"
#include "daemon/pcapng.h"
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* ---- Blocks ---------------------------------------------------------- */

START_TEST(test_shb_layout)
{
	uint8_t b[128];
	uint64_t sl;
	size_t n = pcapng_shb(b, sizeof(b), "tapird");

	/* 24 fixed, userappl option 4 + 8 ("tapird" padded), end 4, len 4 */
	ck_assert_uint_eq(n, 44);
	ck_assert_uint_eq(rd32(b), PCAPNG_BT_SHB);
	ck_assert_uint_eq(rd32(b + 4), 44);
	ck_assert_uint_eq(rd32(b + 8), PCAPNG_BOM);
	ck_assert_uint_eq(rd16(b + 12), 1);
	ck_assert_uint_eq(rd16(b + 14), 0);
	memcpy(&sl, b + 16, 8);
	ck_assert(sl == UINT64_MAX);
	ck_assert_uint_eq(rd16(b + 24), PCAPNG_OPT_SHB_USERAPPL);
	ck_assert_uint_eq(rd16(b + 26), 6);
	ck_assert(memcmp(b + 28, "tapird\0\0", 8) == 0);
	ck_assert_uint_eq(rd32(b + 36), 0); /* opt_endofopt */
	ck_assert_uint_eq(rd32(b + 40), 44);
	ck_assert_uint_eq(pcapng_shb(b, 43, "tapird"), 0);
	ck_assert_uint_eq(pcapng_shb(b, sizeof(b), NULL), 32);
}
END_TEST

START_TEST(test_idb_layout)
{
	uint8_t b[64];
	size_t n = pcapng_idb(b, sizeof(b), PCAPNG_LINKTYPE_ETHERNET, 0,
			      "tapir0");

	ck_assert_uint_eq(n, 36);
	ck_assert_uint_eq(rd32(b), PCAPNG_BT_IDB);
	ck_assert_uint_eq(rd32(b + 4), 36);
	ck_assert_uint_eq(rd16(b + 8), 1); /* LINKTYPE_ETHERNET */
	ck_assert_uint_eq(rd16(b + 10), 0);
	ck_assert_uint_eq(rd32(b + 12), 0); /* no snap length */
	ck_assert_uint_eq(rd16(b + 16), PCAPNG_OPT_IF_NAME);
	ck_assert_uint_eq(rd16(b + 18), 6);
	ck_assert(memcmp(b + 20, "tapir0\0\0", 8) == 0);
	ck_assert_uint_eq(rd32(b + 28), 0);
	ck_assert_uint_eq(rd32(b + 32), 36);
}
END_TEST

START_TEST(test_epb_layout)
{
	uint8_t b[256], data[5] = {1, 2, 3, 4, 5};
	uint64_t ts = 0x0123456789abcdefull;
	size_t n;

	memset(b, 0xee, sizeof(b));
	n = pcapng_epb(b, sizeof(b), ts, data, 5, 60, PCAPNG_DIR_OUT, NULL);
	/* 28 fixed, data 8, flags 8, end 4, len 4 */
	ck_assert_uint_eq(n, 52);
	ck_assert_uint_eq(pcapng_epb_len(5, NULL), 52);
	ck_assert_uint_eq(rd32(b), PCAPNG_BT_EPB);
	ck_assert_uint_eq(rd32(b + 4), 52);
	ck_assert_uint_eq(rd32(b + 8), 0); /* interface 0 */
	ck_assert_uint_eq(rd32(b + 12), 0x01234567u);
	ck_assert_uint_eq(rd32(b + 16), 0x89abcdefu);
	ck_assert_uint_eq(rd32(b + 20), 5);
	ck_assert_uint_eq(rd32(b + 24), 60);
	ck_assert(memcmp(b + 28, "\1\2\3\4\5\0\0\0", 8) == 0);
	ck_assert_uint_eq(rd16(b + 36), PCAPNG_OPT_EPB_FLAGS);
	ck_assert_uint_eq(rd16(b + 38), 4);
	ck_assert_uint_eq(rd32(b + 40), 2); /* outbound */
	ck_assert_uint_eq(rd32(b + 44), 0);
	ck_assert_uint_eq(rd32(b + 48), 52);
	ck_assert_uint_eq(b[52], 0xee); /* nothing past the block */

	n = pcapng_epb(b, sizeof(b), 1, data, 4, 4, PCAPNG_DIR_IN,
		       "dropped: x");
	/* 28, data 4, flags 8, comment 4 + 12, end 4, len 4 */
	ck_assert_uint_eq(n, 64);
	ck_assert_uint_eq(pcapng_epb_len(4, "dropped: x"), 64);
	ck_assert_uint_eq(rd32(b + 36), 1); /* inbound */
	ck_assert_uint_eq(rd16(b + 40), PCAPNG_OPT_COMMENT);
	ck_assert_uint_eq(rd16(b + 42), 10);
	ck_assert(memcmp(b + 44, "dropped: x\0\0", 12) == 0);
	ck_assert_uint_eq(rd32(b + 56), 0);
	ck_assert_uint_eq(rd32(b + 60), 64);

	/* No room, or a captured length beyond the frame: nothing. */
	ck_assert_uint_eq(pcapng_epb(b, 63, 1, data, 4, 4, PCAPNG_DIR_IN,
				     "dropped: x"),
			  0);
	ck_assert_uint_eq(pcapng_epb(b, sizeof(b), 1, data, 5, 4,
				     PCAPNG_DIR_IN, NULL),
			  0);
}
END_TEST

/* ---- A file read back -------------------------------------------------- */

#define MAX_EPB 256
struct parsed {
	size_t size;
	unsigned shb, idb, epb;
	struct {
		uint32_t caplen, origlen, flags;
		uint8_t first; /* the first data byte */
		char comment[PCAPNG_TEXT_MAX + 1];
	} p[MAX_EPB];
};

/* Parse path strictly: blocks with matching lengths, SHB then IDB first,
 * options well formed, nothing left over. */
static void parse_file(const char *path, struct parsed *out)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ck_assert(n > 0);
	out->size = (size_t)n;
	while (off < (size_t)n) {
		uint32_t type, len;

		ck_assert(off + 12 <= (size_t)n);
		type = rd32(buf + off);
		len = rd32(buf + off + 4);
		ck_assert(len % 4 == 0 && len >= 12 && off + len <= (size_t)n);
		ck_assert_uint_eq(rd32(buf + off + len - 4), len);
		if (off == 0)
			ck_assert_uint_eq(type, PCAPNG_BT_SHB);
		if (type == PCAPNG_BT_SHB) {
			out->shb++;
		} else if (type == PCAPNG_BT_IDB) {
			ck_assert_uint_eq(out->shb, 1);
			out->idb++;
		} else {
			const uint8_t *b = buf + off;
			size_t o, cap;
			unsigned i = out->epb++;

			ck_assert_uint_eq(type, PCAPNG_BT_EPB);
			ck_assert_uint_eq(out->idb, 1);
			ck_assert(i < MAX_EPB);
			cap = rd32(b + 20);
			out->p[i].caplen = (uint32_t)cap;
			out->p[i].origlen = rd32(b + 24);
			out->p[i].first = cap ? b[28] : 0;
			o = 28 + ((cap + 3) & ~(size_t)3);
			for (;;) {
				uint16_t code, olen;

				ck_assert(o + 4 <= len - 4);
				code = rd16(b + o);
				olen = rd16(b + o + 2);
				if (code == 0)
					break;
				ck_assert(o + 4 + olen <= len - 4);
				if (code == PCAPNG_OPT_EPB_FLAGS)
					out->p[i].flags = rd32(b + o + 4);
				if (code == PCAPNG_OPT_COMMENT)
					memcpy(out->p[i].comment, b + o + 4,
					       olen);
				o += 4 + ((olen + 3u) & ~3u);
			}
			ck_assert_uint_eq(o + 8, len);
		}
		off += len;
	}
}

static char dir[64];
static struct stats ST;

static void dir_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tapir-capture.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&ST, 0, sizeof(ST));
}

static void dir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static struct capture *start(const char *name, unsigned max_files,
			     uint64_t max_bytes, uint64_t bytes, uint64_t count)
{
	struct capture_limits lim = {dir, max_files, max_bytes};
	struct capture_opts o = {.bytes = bytes, .count = count};
	char err[256] = "";
	struct capture *c;

	snprintf(o.name, sizeof(o.name), "%s", name);
	c = capture_start(&lim, &o, "tapir0", &ST, err, sizeof(err));
	ck_assert_msg(c != NULL, "capture_start: %s", err);
	return c;
}

static uint8_t frame[4000];

/* ---- The ring ------------------------------------------------------------ */

START_TEST(test_ring_rotation)
{
	struct capture *c = start("r", 3, 1 << 20, 1024, 0);
	struct capture_counts n;
	static struct parsed P;
	unsigned total = 0;
	struct stat sb;

	/* 30 frames of 200 bytes; a 1024-byte file holds 3 (header blocks
	 * 76 bytes, each packet 244). */
	for (int i = 0; i < 30; i++) {
		memset(frame, i, 200);
		capture_tx(c, frame, 200, 0);
	}
	capture_stop(c, "done");
	capture_counts(c, &n);
	ck_assert_uint_eq(n.out, 30);
	ck_assert_uint_eq(n.files, 10);
	for (unsigned f = 1; f <= 7; f++) {
		char name[32];

		snprintf(name, sizeof(name), "r-%05u.pcapng", f);
		ck_assert_msg(stat(path_of(name), &sb) < 0 && errno == ENOENT,
			      "%s should be gone", name);
	}
	for (unsigned f = 8; f <= 10; f++) {
		char name[32];

		snprintf(name, sizeof(name), "r-%05u.pcapng", f);
		parse_file(path_of(name), &P);
		ck_assert_uint_le(P.size, 1024);
		ck_assert_uint_eq(P.shb, 1);
		ck_assert_uint_eq(P.idb, 1);
		ck_assert_uint_eq(P.epb, 3);
		for (unsigned i = 0; i < P.epb; i++) {
			/* Frames in order, whole, outbound. */
			ck_assert_uint_eq(P.p[i].first, 21 + total);
			ck_assert_uint_eq(P.p[i].caplen, 200);
			ck_assert_uint_eq(P.p[i].flags, PCAPNG_DIR_OUT);
			total++;
		}
	}
	capture_free(c);
}
END_TEST

START_TEST(test_max_bytes_caps_bytes)
{
	/* --bytes above the configured max_bytes: max_bytes holds. */
	struct capture *c = start("m", 2, 2048, 1 << 20, 0);
	static struct parsed P;

	/* Packets of 344 bytes: 5 to a file after 76 bytes of header. */
	for (int i = 0; i < 20; i++)
		capture_tx(c, frame, 300, 0);
	capture_stop(c, "done");
	parse_file(path_of("m-00004.pcapng"), &P);
	ck_assert_uint_le(P.size, 2048);
	ck_assert_uint_eq(P.epb, 5);
	ck_assert_int_lt(access(path_of("m-00002.pcapng"), F_OK), 0);
	ck_assert_int_eq(access(path_of("m-00003.pcapng"), F_OK), 0);
	capture_free(c);
}
END_TEST

START_TEST(test_big_frame_cut)
{
	struct capture *c = start("big", 2, 1024, 0, 0);
	static struct parsed P;

	memset(frame, 0x5a, sizeof(frame));
	capture_tx(c, frame, 3000, 0);
	capture_tx(c, frame, 60, 0);
	capture_stop(c, "done");
	parse_file(path_of("big-00001.pcapng"), &P);
	ck_assert_uint_le(P.size, 1024);
	ck_assert_uint_eq(P.epb, 1);
	ck_assert_uint_eq(P.p[0].origlen, 3000);
	ck_assert_uint_lt(P.p[0].caplen, 1024);
	ck_assert_uint_gt(P.p[0].caplen, 800);
	parse_file(path_of("big-00002.pcapng"), &P);
	ck_assert_uint_eq(P.epb, 1);
	ck_assert_uint_eq(P.p[0].caplen, 60);
	capture_free(c);
}
END_TEST

START_TEST(test_count_stops)
{
	struct capture *c = start("n", 3, 1 << 20, 0, 2);
	struct capture_counts n;

	capture_tx(c, frame, 60, 0);
	ck_assert(capture_running(c));
	capture_tx(c, frame, 60, 0);
	ck_assert(!capture_running(c));
	ck_assert(!capture_failed(c));
	ck_assert_str_eq(capture_stop_reason(c), "count reached");
	capture_tx(c, frame, 60, 0);
	capture_counts(c, &n);
	ck_assert_uint_eq(n.out, 2);
	capture_free(c);
}
END_TEST

START_TEST(test_failure_stops)
{
	/* Something in the way of the ring's second file. */
	struct capture *c = start("w", 3, 1 << 20, 1024, 0);
	struct capture_counts n;
	static struct parsed P;

	ck_assert_int_eq(mkdir(path_of("w-00002.pcapng"), 0700), 0);
	for (int i = 0; i < 10; i++)
		capture_tx(c, frame, 200, 0);
	ck_assert(!capture_running(c));
	ck_assert(capture_failed(c));
	ck_assert_str_eq(capture_stop_reason(c),
			 "creating w-00002.pcapng failed: File exists");
	capture_counts(c, &n);
	ck_assert_uint_eq(n.out, 3);
	capture_stop(c, "by hand"); /* the first reason stays */
	ck_assert_str_eq(capture_stop_reason(c),
			 "creating w-00002.pcapng failed: File exists");
	capture_free(c);
	/* The first file was written out before the second was tried. */
	parse_file(path_of("w-00001.pcapng"), &P);
	ck_assert_uint_eq(P.epb, 3);
}
END_TEST

/* ---- Drops and order ----------------------------------------------------- */

START_TEST(test_drop_comment_and_order)
{
	struct capture *c = start("d", 3, 1 << 20, 0, 0);
	struct capture_counts n;
	static struct parsed P;
	/* Frames stay where they are while the stack holds them. */
	static uint8_t f1[60] = {1}, f2[90] = {2}, f3[70] = {3}, f4[80] = {4},
		       f5[60] = {5};

	/* A frame the stack answers, then drops (UDP to a closed port:
	 * counted, then the port unreachable sent). */
	capture_in_begin(c, f1, 60);
	ST.v[STAT_UDP_DROP_NO_PORT]++;
	ST.v[STAT_UDP_RX]++; /* no reason: not a drop */
	capture_tx(c, f2, 90, 0);
	capture_in_end(c);
	/* A frame taken without a drop. */
	capture_in_begin(c, f3, 70);
	ST.v[STAT_UDP_RX]++;
	capture_in_end(c);
	/* Two reasons at once, one with a counter name of its own. */
	capture_in_begin(c, f4, 80);
	ST.v[STAT_IP4_DROP_CSUM]++;
	ST.v[STAT_ICMP4_ERR_RATELIMIT]++;
	capture_in_end(c);
	capture_in_runt(c);
	capture_tx(c, f5, 60, -EIO);
	capture_stop(c, "done");
	capture_counts(c, &n);
	ck_assert_uint_eq(n.in, 4);
	ck_assert_uint_eq(n.out, 2);
	ck_assert_uint_eq(n.dropped, 4);
	parse_file(path_of("d-00001.pcapng"), &P);
	ck_assert_uint_eq(P.epb, 6);
	ck_assert_uint_eq(P.p[0].first, 1); /* the request before its reply */
	ck_assert_uint_eq(P.p[0].flags, PCAPNG_DIR_IN);
	ck_assert_str_eq(P.p[0].comment, "dropped: udp no_listener");
	ck_assert_uint_eq(P.p[1].first, 2);
	ck_assert_uint_eq(P.p[1].flags, PCAPNG_DIR_OUT);
	ck_assert_str_eq(P.p[1].comment, "");
	ck_assert_uint_eq(P.p[2].first, 3);
	ck_assert_str_eq(P.p[2].comment, "");
	ck_assert_str_eq(P.p[3].comment, "dropped: ip4 bad_checksum, icmp4 "
					 "errors_suppressed rate_limit");
	ck_assert_uint_eq(P.p[4].caplen, 0);
	ck_assert_uint_eq(P.p[4].flags, PCAPNG_DIR_IN);
	ck_assert_str_eq(P.p[4].comment, "dropped: link rx_dropped short");
	ck_assert_uint_eq(P.p[5].flags, PCAPNG_DIR_OUT);
	ck_assert_str_eq(P.p[5].comment,
			 "dropped: link tx_dropped write_failed");
	capture_free(c);
}
END_TEST

/* ---- Names, options, files ----------------------------------------------- */

START_TEST(test_names)
{
	static const char *const good[] = {"a", "cap-1", "x.pcap", "A_b+c",
					   "a.b.c"};
	static const char *const bad[] = {"", "../x", "x/y", "/abs", ".",
					  "..", ".hidden", "a..b", "a b",
					  "a\tb", "a\nb", "a\x7f", "a=b",
					  "\xc3\xa9"};
	char why[128], long_name[CAPTURE_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(capture_name_valid(good[i], why, sizeof(why)),
			      "%s: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!capture_name_valid(bad[i], why, sizeof(why)),
			      "'%s' accepted", bad[i]);
	ck_assert(!capture_name_valid("../x", why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "'/'"));
	ck_assert(!capture_name_valid("a\001", why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "control"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[CAPTURE_NAME_MAX] = '\0';
	ck_assert(capture_name_valid(long_name, why, sizeof(why)));
	long_name[CAPTURE_NAME_MAX] = 'a';
	long_name[CAPTURE_NAME_MAX + 1] = '\0';
	ck_assert(!capture_name_valid(long_name, why, sizeof(why)));
}
END_TEST

START_TEST(test_options)
{
	struct capture_opts o;
	char why[128];

	ck_assert(capture_parse_opts(" seconds=5 count=7 bytes=4096 name=x",
				     &o, why, sizeof(why)));
	ck_assert_uint_eq(o.seconds, 5);
	ck_assert_uint_eq(o.count, 7);
	ck_assert_uint_eq(o.bytes, 4096);
	ck_assert_str_eq(o.name, "x");
	ck_assert(capture_parse_opts("", &o, why, sizeof(why)));
	ck_assert_str_eq(o.name, "");
	ck_assert(!capture_parse_opts("name=../x", &o, why, sizeof(why)));
	ck_assert(!capture_parse_opts("count=1 count=2", &o, why, sizeof(why)));
	ck_assert(!capture_parse_opts("count=0", &o, why, sizeof(why)));
	ck_assert(!capture_parse_opts("count=-1", &o, why, sizeof(why)));
	ck_assert(!capture_parse_opts("count=1x", &o, why, sizeof(why)));
	ck_assert(!capture_parse_opts("seconds=99999999", &o, why,
				      sizeof(why)));
	ck_assert(!capture_parse_opts("colour=red", &o, why, sizeof(why)));
	ck_assert(!capture_parse_opts("name", &o, why, sizeof(why)));
}
END_TEST

START_TEST(test_no_symlink_no_overwrite)
{
	struct capture_limits lim = {dir, 3, 1 << 20};
	struct capture_opts o = {.name = "s"};
	char err[256], target[128];
	struct capture *c;

	snprintf(target, sizeof(target), "%s/target", dir);
	ck_assert_int_eq(symlink(target, path_of("s-00001.pcapng")), 0);
	c = capture_start(&lim, &o, "tapir0", &ST, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_int_lt(access(target, F_OK), 0);
	/* A file of that name already: refused, left as it was. */
	snprintf(o.name, sizeof(o.name), "f");
	ck_assert_int_eq(close(open(path_of("f-00001.pcapng"),
				    O_WRONLY | O_CREAT, 0600)),
			 0);
	c = capture_start(&lim, &o, "tapir0", &ST, err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "choose another name"));
	/* No directory configured: refused. */
	lim.directory = NULL;
	snprintf(o.name, sizeof(o.name), "g");
	ck_assert_ptr_null(capture_start(&lim, &o, "tapir0", &ST, err,
					 sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "capture.directory"));
}
END_TEST

START_TEST(test_directory_made)
{
	struct capture_limits lim = {NULL, 3, 1 << 20};
	struct capture_opts o = {.name = "x"};
	char err[256], sub[128];
	struct capture *c;
	struct stat sb;

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	lim.directory = sub;
	c = capture_start(&lim, &o, "tapir0", &ST, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(stat(sub, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777, 0750 & ~(unsigned)umask(022));
	capture_free(c);
}
END_TEST

static Suite *capture_suite(void)
{
	Suite *su = suite_create("capture");
	TCase *tc;

	tc = tcase_create("pcapng");
	tcase_add_test(tc, test_shb_layout);
	tcase_add_test(tc, test_idb_layout);
	tcase_add_test(tc, test_epb_layout);
	suite_add_tcase(su, tc);

	tc = tcase_create("ring");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_ring_rotation);
	tcase_add_test(tc, test_max_bytes_caps_bytes);
	tcase_add_test(tc, test_big_frame_cut);
	tcase_add_test(tc, test_count_stops);
	tcase_add_test(tc, test_failure_stops);
	tcase_add_test(tc, test_drop_comment_and_order);
	suite_add_tcase(su, tc);

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_no_symlink_no_overwrite);
	tcase_add_test(tc, test_directory_made);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(capture_suite());
}
