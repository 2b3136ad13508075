/* On-demand packet capture into a ring of pcapng files (see capture.h). */
#include "daemon/capture.h"
#include "daemon/pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Blocks are gathered here and written when it fills, at a flush, at a
 * new file and at the end: a frame of up to 64 KiB and its options always
 * fit in an empty buffer. */
#define CAPTURE_BUF (256u << 10)

struct capture {
	struct capture_opts o;
	char dir[4096];
	char ifname[32];
	int dirfd, fd;
	unsigned max_files;
	uint64_t file_max;  /* bytes per file */
	unsigned seq;       /* the file being written: NAME-<seq>.pcapng */
	uint64_t file_bytes; /* in it, buffered ones included */
	uint64_t file_pkts;
	uint8_t *buf;
	size_t buf_len;
	const struct stats *st;
	/* The drop counters (those with a reason), and their values before
	 * the pending frame: only these are compared per frame. */
	uint16_t drop_id[STAT_COUNT];
	uint64_t before[STAT_COUNT];
	unsigned ndrop;
	struct stats at_start, at_stop;
	/* The inbound frame the stack is handling, not written yet. */
	const uint8_t *pend;
	size_t pend_len;
	uint64_t pend_ts;
	bool pending;
	bool running;
	bool failed;
	char why[160];
	struct capture_counts n;
	struct timespec started;
};

bool capture_name_valid(const char *name, char *why, size_t len)
{
	size_t n = strlen(name);

	if (n == 0 || n > CAPTURE_NAME_MAX) {
		snprintf(why, len, "a capture name has 1 to %d characters",
			 CAPTURE_NAME_MAX);
		return false;
	}
	if (strchr(name, '/')) {
		snprintf(why, len, "a capture name may not contain '/': files "
				   "go only into the capture directory");
		return false;
	}
	if (name[0] == '.') {
		snprintf(why, len, "a capture name may not start with '.'");
		return false;
	}
	if (strstr(name, "..")) {
		snprintf(why, len, "a capture name may not contain '..'");
		return false;
	}
	for (const char *p = name; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-' || ch == '+')
			continue;
		if (ch < 0x20 || ch == 0x7f)
			snprintf(why, len, "a capture name may not contain "
					   "control characters");
		else
			snprintf(why, len, "a capture name has only letters, "
					   "digits, '.', '_', '-' and '+'");
		return false;
	}
	return true;
}

static bool parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return false;
	*out = x;
	return true;
}

bool capture_parse_opts(const char *args, struct capture_opts *o, char *why,
			size_t len)
{
	char copy[256], *save = NULL, *w;
	bool seen[4] = {false};

	memset(o, 0, sizeof(*o));
	if (strlen(args) >= sizeof(copy)) {
		snprintf(why, len, "capture options too long");
		return false;
	}
	memcpy(copy, args, strlen(args) + 1);
	for (w = strtok_r(copy, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		static const char *const keys[] = {"seconds", "count", "bytes",
						   "name"};
		char *eq = strchr(w, '=');
		int k = -1;
		uint64_t v = 0;

		if (eq) {
			*eq = '\0';
			for (int i = 0; i < 4; i++)
				if (!strcmp(w, keys[i]))
					k = i;
		}
		if (k < 0) {
			snprintf(why, len,
				 "unknown capture option '%.40s' (seconds=S "
				 "count=N bytes=B name=NAME)",
				 w);
			return false;
		}
		if (seen[k]) {
			snprintf(why, len, "capture option %s given twice",
				 keys[k]);
			return false;
		}
		seen[k] = true;
		if (k == 3) {
			if (!capture_name_valid(eq + 1, why, len))
				return false;
			memcpy(o->name, eq + 1, strlen(eq + 1) + 1);
			continue;
		}
		if (!parse_u64(eq + 1, k == 0 ? 31u * 86400 : UINT64_MAX / 2,
			       &v) ||
		    v == 0) {
			snprintf(why, len,
				 "capture option %s: '%.40s' is not a positive "
				 "number%s",
				 keys[k], eq + 1,
				 k == 0 ? " of seconds (at most 31 days)" : "");
			return false;
		}
		if (k == 0)
			o->seconds = (unsigned)v;
		else if (k == 1)
			o->count = v;
		else
			o->bytes = v;
	}
	return true;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void file_name(const struct capture *c, unsigned seq, char *out,
		      size_t len)
{
	snprintf(out, len, "%s-%05u.pcapng", c->o.name, seq);
}

static void close_files(struct capture *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->fd = c->dirfd = -1;
}

/* Stop on a failure: the frames after it would be lost anyway. */
static void fail(struct capture *c, const char *what, int e)
{
	char name[CAPTURE_NAME_MAX + 32];

	file_name(c, c->seq, name, sizeof(name));
	snprintf(c->why, sizeof(c->why), "%s %s failed: %s", what, name,
		 strerror(e));
	c->running = false;
	c->failed = true;
	c->buf_len = 0;
	c->at_stop = *c->st;
	close_files(c);
}

static bool write_out(struct capture *c)
{
	size_t off = 0;

	/* Bounded: every pass writes something or ends. */
	while (off < c->buf_len) {
		ssize_t n = write(c->fd, c->buf + off, c->buf_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(c, "writing", n < 0 ? errno : ENOSPC);
			return false;
		}
		off += (size_t)n;
	}
	c->buf_len = 0;
	return true;
}

/* Open the next file of the ring (removing the oldest beyond max_files)
 * and put its header blocks in the buffer. */
static bool next_file(struct capture *c)
{
	char name[CAPTURE_NAME_MAX + 32];
	size_t n;

	if (c->fd >= 0) {
		if (c->buf_len && !write_out(c))
			return false;
		close(c->fd);
		c->fd = -1;
	}
	c->seq++;
	if (c->seq > c->max_files) {
		file_name(c, c->seq - c->max_files, name, sizeof(name));
		if (unlinkat(c->dirfd, name, 0) < 0 && errno != ENOENT) {
			fail(c, "removing", errno);
			return false;
		}
	}
	file_name(c, c->seq, name, sizeof(name));
	c->fd = openat(c->dirfd, name,
		       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0640);
	if (c->fd < 0) {
		fail(c, "creating", errno);
		return false;
	}
	c->n.files++;
	n = pcapng_shb(c->buf, CAPTURE_BUF, "tapird");
	n += pcapng_idb(c->buf + n, CAPTURE_BUF - n, PCAPNG_LINKTYPE_ETHERNET,
			0, c->ifname);
	c->buf_len = n;
	c->file_bytes = n;
	c->file_pkts = 0;
	c->n.bytes += n;
	return true;
}

static void emit(struct capture *c, uint64_t ts, const uint8_t *data,
		 size_t len, unsigned dir, const char *comment)
{
	size_t caplen = len, need = pcapng_epb_len(caplen, comment), n;

	if (!c->running)
		return;
	if (c->file_bytes + need > c->file_max && c->file_pkts &&
	    !next_file(c))
		return;
	if (c->file_bytes + need > c->file_max) {
		/* Alone in a file it still does not fit: cut it.  Padding
		 * makes the first guess at most 3 bytes long. */
		uint64_t over = c->file_bytes + need - c->file_max;

		caplen = over >= caplen ? 0 : caplen - (size_t)over;
		while (caplen &&
		       c->file_bytes + pcapng_epb_len(caplen, comment) >
			       c->file_max)
			caplen--;
		need = pcapng_epb_len(caplen, comment);
	}
	if (c->buf_len + need > CAPTURE_BUF && !write_out(c))
		return;
	n = pcapng_epb(c->buf + c->buf_len, CAPTURE_BUF - c->buf_len, ts, data,
		       caplen, len, dir, comment);
	c->buf_len += n;
	c->file_bytes += n;
	c->file_pkts++;
	c->n.bytes += n;
	if (dir == PCAPNG_DIR_IN)
		c->n.in++;
	else
		c->n.out++;
	if (comment)
		c->n.dropped++;
	if (c->o.count && c->n.in + c->n.out >= c->o.count)
		capture_stop(c, "count reached");
}

/* The drop counters that rose since c->before, as a comment; NULL when
 * none did. */
static const char *drop_comment(struct capture *c, char *buf, size_t len)
{
	size_t used = 0;

	for (unsigned k = 0; k < c->ndrop; k++) {
		const struct stat_desc *sd = &stat_descs[c->drop_id[k]];
		bool plain;
		int w;

		if (c->st->v[c->drop_id[k]] == c->before[k])
			continue;
		plain = !strcmp(sd->name, "dropped");
		w = snprintf(buf + used, len - used, "%s%s %s%s%s",
			     used ? ", " : "dropped: ", sd->layer,
			     plain ? "" : sd->name, plain ? "" : " ",
			     sd->reason);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	return used ? buf : NULL;
}

static void flush_pending(struct capture *c)
{
	char comment[PCAPNG_TEXT_MAX];

	c->pending = false;
	emit(c, c->pend_ts, c->pend, c->pend_len, PCAPNG_DIR_IN,
	     drop_comment(c, comment, sizeof(comment)));
}

void capture_in_begin(struct capture *c, const uint8_t *data, size_t len)
{
	if (!c->running)
		return;
	for (unsigned k = 0; k < c->ndrop; k++)
		c->before[k] = c->st->v[c->drop_id[k]];
	c->pend = data;
	c->pend_len = len;
	c->pend_ts = now_us();
	c->pending = true;
}

void capture_in_end(struct capture *c)
{
	if (c->pending)
		flush_pending(c);
}

void capture_in_runt(struct capture *c)
{
	emit(c, now_us(), NULL, 0, PCAPNG_DIR_IN, "dropped: link rx_dropped "
						  "short");
}

void capture_tx(struct capture *c, const uint8_t *data, size_t len,
		int result)
{
	if (c->pending)
		flush_pending(c);
	emit(c, now_us(), data, len, PCAPNG_DIR_OUT,
	     result ? "dropped: link tx_dropped write_failed" : NULL);
}

void capture_flush(struct capture *c)
{
	if (c->running && c->buf_len)
		write_out(c);
}

bool capture_running(const struct capture *c)
{
	return c->running;
}

bool capture_failed(const struct capture *c)
{
	return c->failed;
}

const char *capture_stop_reason(const struct capture *c)
{
	return c->why;
}

void capture_stop(struct capture *c, const char *why)
{
	if (!c->running)
		return;
	if (c->pending)
		flush_pending(c);
	if (c->buf_len)
		write_out(c);
	if (!c->running)
		return; /* the write failed: its reason stays */
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->running = false;
	c->at_stop = *c->st;
	close_files(c);
}

struct capture *capture_start(const struct capture_limits *lim,
			      const struct capture_opts *o, const char *ifname,
			      const struct stats *st, char *err,
			      size_t errlen)
{
	struct capture *c;
	char why[128];

	if (!lim->directory || !*lim->directory) {
		snprintf(err, errlen, "no capture directory: set "
				      "capture.directory in the configuration");
		return NULL;
	}
	if (!capture_name_valid(o->name, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->buf = malloc(CAPTURE_BUF))) {
		free(c);
		snprintf(err, errlen, "out of memory for a capture");
		return NULL;
	}
	c->o = *o;
	c->fd = c->dirfd = -1;
	snprintf(c->dir, sizeof(c->dir), "%s", lim->directory);
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname ? ifname : "");
	c->max_files = lim->max_files ? lim->max_files : 1;
	c->file_max = lim->max_bytes;
	if (o->bytes && o->bytes < c->file_max)
		c->file_max = o->bytes;
	if (c->file_max < CAPTURE_BYTES_MIN)
		c->file_max = CAPTURE_BYTES_MIN;
	c->st = st;
	for (int i = 0; i < STAT_COUNT; i++)
		if (*stat_descs[i].reason)
			c->drop_id[c->ndrop++] = (uint16_t)i;
	c->at_start = *st;
	c->running = true;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	if (mkdir(c->dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen,
			 "cannot create the capture directory %s: %s", c->dir,
			 strerror(errno));
		goto fail;
	}
	c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		snprintf(err, errlen, "cannot open the capture directory %s: %s",
			 c->dir, strerror(errno));
		goto fail;
	}
	if (!next_file(c)) {
		snprintf(err, errlen, "%s%s", c->why,
			 strstr(c->why, "File exists")
				 ? " (a capture of that name is there: "
				   "choose another name)"
				 : "");
		goto fail;
	}
	return c;
fail:
	close_files(c);
	free(c->buf);
	free(c);
	return NULL;
}

void capture_report(const struct capture *c, struct strbuf *out)
{
	const struct stats *end = c->running ? c->st : &c->at_stop;
	unsigned first = c->seq > c->max_files ? c->seq - c->max_files + 1 : 1;
	char a[CAPTURE_NAME_MAX + 32], b[CAPTURE_NAME_MAX + 32];

	file_name(c, first, a, sizeof(a));
	file_name(c, c->seq, b, sizeof(b));
	strbuf_printf(out, "capture: %s%s%s\n",
		      c->running ? "running" : "stopped",
		      c->running ? "" : ": ", c->running ? "" : c->why);
	strbuf_printf(out, "name: %s\n", c->o.name);
	strbuf_printf(out, "directory: %s\n", c->dir);
	if (first == c->seq)
		strbuf_printf(out, "files: %s\n", a);
	else
		strbuf_printf(out, "files: %s .. %s\n", a, b);
	strbuf_printf(out, "limits: %u files of %llu bytes", c->max_files,
		      (unsigned long long)c->file_max);
	if (c->o.seconds)
		strbuf_printf(out, ", %u seconds", c->o.seconds);
	if (c->o.count)
		strbuf_printf(out, ", %llu frames",
			      (unsigned long long)c->o.count);
	strbuf_printf(out, "\nframes_in: %llu\nframes_out: %llu\n"
			   "frames_dropped: %llu\nbytes_written: %llu\n",
		      (unsigned long long)c->n.in,
		      (unsigned long long)c->n.out,
		      (unsigned long long)c->n.dropped,
		      (unsigned long long)c->n.bytes);
	/* The link's own counters over the same time, to compare with. */
	strbuf_printf(out,
		      "link_rx_frames: %llu\nlink_tx_frames: %llu\n"
		      "link_tx_dropped: %llu\n",
		      (unsigned long long)(end->v[STAT_LINK_RX] -
					   c->at_start.v[STAT_LINK_RX]),
		      (unsigned long long)(end->v[STAT_LINK_TX] -
					   c->at_start.v[STAT_LINK_TX]),
		      (unsigned long long)(end->v[STAT_LINK_TX_ERR] -
					   c->at_start.v[STAT_LINK_TX_ERR]));
}

void capture_counts(const struct capture *c, struct capture_counts *n)
{
	*n = c->n;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	capture_stop(c, "stopped");
	close_files(c);
	free(c->buf);
	free(c);
}
