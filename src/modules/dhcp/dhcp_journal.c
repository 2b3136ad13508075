/* The lease journal; see dhcp_journal.h. */
#include "dhcp_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tapir/addr.h>
#include <tapir/text.h>

/* CRC-32 (IEEE 802.3, reflected, as zlib's), bit by bit: records are
 * short. */
static uint32_t crc32_of(const char *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= (uint8_t)p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

size_t jrec_format(const struct jrec *r, char *buf)
{
	char mac[18] = "-", key[2 * JREC_KEY_MAX + 2] = "-";
	int n;

	if (r->kind == 'L') {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 r->mac[0], r->mac[1], r->mac[2], r->mac[3], r->mac[4],
			 r->mac[5]);
		for (unsigned i = 0; i < r->keylen && i < JREC_KEY_MAX; i++)
			snprintf(key + 2 * i, 3, "%02x", r->key[i]);
	}
	n = snprintf(buf, JREC_LINE_MAX, "%c %u.%u.%u.%u %lld %s %s %s",
		     r->kind, r->addr >> 24, (r->addr >> 16) & 255,
		     (r->addr >> 8) & 255, r->addr & 255, (long long)r->time,
		     mac, key,
		     r->kind == 'L' && r->host[0] ? r->host : "-");
	/* Fits: the longest record is well under JREC_LINE_MAX - 10. */
	n += snprintf(buf + n, JREC_LINE_MAX - (size_t)n, " %08x\n",
		      crc32_of(buf, (size_t)n));
	return (size_t)n;
}

/* Split line into at most max space-separated fields (in place in copy). */
static int fields(char *s, char **f, int max)
{
	int n = 0;

	while (*s && n < max) {
		f[n++] = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = 0;
	}
	return *s ? max + 1 : n;
}

/* Exactly 8 hex digits at s (not a string: the line has no NUL). */
static bool crc_field(const char *s, uint32_t *crc)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int h = tapir_hexval((uint8_t)s[i]);

		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*crc = v;
	return true;
}

bool jrec_parse(const char *line, size_t len, struct jrec *r)
{
	char copy[JREC_LINE_MAX], *f[8];
	uint32_t crc;
	uint64_t t;
	int n;

	if (len < 10 || len >= sizeof(copy) || memchr(line, 0, len))
		return false;
	/* The CRC covers everything before " xxxxxxxx". */
	if (line[len - 9] != ' ' ||
	    !crc_field(line + len - 8, &crc) ||
	    crc32_of(line, len - 9) != crc)
		return false;
	memcpy(copy, line, len - 9);
	copy[len - 9] = 0;
	n = fields(copy, f, 6);
	if (n != 6 || strlen(f[0]) != 1)
		return false;
	memset(r, 0, sizeof(*r));
	r->kind = f[0][0];
	if (r->kind != 'L' && r->kind != 'R' && r->kind != 'D')
		return false;
	if (!tapir_ipv4_parse(f[1], &r->addr))
		return false;
	if (!tapir_dec_parse(f[2], strlen(f[2]), 13, 1ull << 40, &t))
		return false;
	r->time = (int64_t)t;
	if (r->kind != 'L')
		return true;
	if (strlen(f[3]) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = tapir_hexval((uint8_t)f[3][3 * i]),
		    lo = tapir_hexval((uint8_t)f[3][3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && f[3][3 * i + 2] != ':'))
			return false;
		r->mac[i] = (uint8_t)(hi << 4 | lo);
	}
	size_t kl = strlen(f[4]);

	if (kl < 2 || kl % 2 || kl / 2 > JREC_KEY_MAX)
		return false;
	for (size_t i = 0; i < kl / 2; i++) {
		int hi = tapir_hexval((uint8_t)f[4][2 * i]),
		    lo = tapir_hexval((uint8_t)f[4][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		r->key[i] = (uint8_t)(hi << 4 | lo);
	}
	r->keylen = (uint8_t)(kl / 2);
	if (strcmp(f[5], "-") != 0) {
		if (strlen(f[5]) > JREC_HOST_MAX)
			return false;
		strcpy(r->host, f[5]);
	}
	return true;
}

int journal_load(const char *path, void (*fn)(void *arg, const struct jrec *r),
		 void *arg, struct jload_stats *st)
{
	char buf[65536], line[JREC_LINE_MAX];
	size_t ll = 0;
	bool toolong = false;
	struct jrec r;
	ssize_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < sizeof(line))
					line[ll++] = buf[i];
				else
					toolong = true;
				continue;
			}
			if (ll && line[0] == '#') {
				/* comment */
			} else if (!toolong && jrec_parse(line, ll, &r)) {
				st->records++;
				fn(arg, &r);
			} else if (ll) {
				st->bad++;
			}
			ll = 0;
			toolong = false;
		}
	}
	close(fd);
	if (ll || toolong)
		st->torn++; /* a last line without its newline */
	return 0;
}

static ssize_t (*io_write)(int fd, const void *buf, size_t len);
static int (*io_sync)(int fd);

void journal_set_io(ssize_t (*wr)(int fd, const void *buf, size_t len),
		    int (*sync)(int fd))
{
	io_write = wr;
	io_sync = sync;
}

/* fdatasync (data) or fsync, or the test's stand-in. */
static int sync_fd(int fd, bool data)
{
	if (io_sync)
		return io_sync(fd);
	return data ? fdatasync(fd) : fsync(fd);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = io_write ? io_write(fd, p, len) : write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int journal_rewrite(struct journal *j, const char *path,
		    bool (*next)(void *arg, struct jrec *r), void *arg)
{
	char tmp[4200], chunk[32768];
	size_t used = 0;
	unsigned long nrec = 0;
	struct jrec r;
	int fd, rc = 0;
	char *copy;

	if (strlen(path) > 4000)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		free(copy);
		return rc;
	}
	used = (size_t)snprintf(chunk, sizeof(chunk),
				"# tapir dhcp leases: kind addr time mac "
				"client hostname crc32\n");
	while (rc == 0 && next(arg, &r)) {
		if (used + JREC_LINE_MAX > sizeof(chunk)) {
			rc = write_all(fd, chunk, used);
			used = 0;
		}
		used += jrec_format(&r, chunk + used);
		nrec++;
	}
	if (rc == 0 && used)
		rc = write_all(fd, chunk, used);
	if (rc == 0 && sync_fd(fd, false) < 0)
		rc = -errno;
	close(fd);
	/* Until the rename the old file is untouched: a failure before it
	 * (a full file system, say) leaves the old file and its descriptor
	 * in use. */
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		free(copy);
		return rc;
	}
	/* Renamed: the new file is the journal now, even should the
	 * directory's fsync fail (then reported). */
	rc = fsync_dir(path);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(copy);
		return rc;
	}
	journal_close(j);
	j->path = copy;
	j->fd = fd;
	j->records = nrec;
	j->torn = false;
	return rc;
}

int journal_append(struct journal *j, const char *buf, size_t len,
		   unsigned long nrec)
{
	struct stat sb;
	int rc;

	if (j->fd < 0)
		return -EBADF;
	/* A partial batch the last failure left behind goes first, or a
	 * record would follow its torn line. */
	if (j->torn) {
		if (ftruncate(j->fd, (off_t)j->cut_at) < 0)
			return -errno;
		j->torn = false;
	}
	if (fstat(j->fd, &sb) < 0)
		return -errno;
	rc = write_all(j->fd, buf, len);
	if (rc == 0 && sync_fd(j->fd, true) < 0)
		rc = -errno;
	if (rc) {
		/* Leave no partial record for the next append to follow:
		 * nothing of a failed batch stays in the file. */
		if (ftruncate(j->fd, sb.st_size) == 0) {
			(void)sync_fd(j->fd, true);
		} else {
			j->torn = true;
			j->cut_at = (long long)sb.st_size;
		}
		return rc;
	}
	j->records += nrec;
	return 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->path);
	j->path = NULL;
}
