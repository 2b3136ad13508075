/* The lease journal file of the DHCP modules; see lease_journal.h. */
#include "lease_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

size_t lj_seal(char *buf, size_t n, size_t cap)
{
	int m = snprintf(buf + n, cap - n, " %08x\n", crc32_of(buf, n));

	return n + (size_t)m;
}

/* Split s into at most max space-separated fields (in place); max + 1
 * when there are more. */
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

int lj_open_line(const char *line, size_t len, char *copy, size_t cap,
		 char **f, int max)
{
	uint32_t crc;

	if (len < 10 || len >= cap || memchr(line, 0, len))
		return -1;
	/* The CRC covers everything before " xxxxxxxx". */
	if (line[len - 9] != ' ' || !crc_field(line + len - 8, &crc) ||
	    crc32_of(line, len - 9) != crc)
		return -1;
	memcpy(copy, line, len - 9);
	copy[len - 9] = 0;
	return fields(copy, f, max);
}

int lj_load(const char *path, size_t line_max,
	    bool (*fn)(void *arg, const char *line, size_t len), void *arg,
	    struct lj_stats *st)
{
	char buf[65536], *line;
	size_t ll = 0;
	bool toolong = false;
	ssize_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	line = malloc(line_max);
	if (!line)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		n = errno == ENOENT ? 0 : -errno;
		free(line);
		return (int)n;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			free(line);
			return (int)n;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ll < line_max)
					line[ll++] = buf[i];
				else
					toolong = true;
				continue;
			}
			if (ll && line[0] == '#') {
				/* comment */
			} else if (!toolong && ll && fn(arg, line, ll)) {
				st->records++;
			} else if (ll) {
				st->bad++;
			}
			ll = 0;
			toolong = false;
		}
	}
	close(fd);
	free(line);
	if (ll || toolong)
		st->torn++; /* a last line without its newline */
	return 0;
}

static ssize_t (*io_write)(int fd, const void *buf, size_t len);
static int (*io_sync)(int fd);

void lj_set_io(ssize_t (*wr)(int fd, const void *buf, size_t len),
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

/* Open path.tmp for writing; the fd or -errno. */
static int open_tmp(const char *path, char *tmp, size_t tmplen)
{
	int fd;

	if (strlen(path) > 4000)
		return -ENAMETOOLONG;
	snprintf(tmp, tmplen, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

/* fsync and close fd, rename tmp to path, fsync the directory. */
static int commit_tmp(int fd, const char *tmp, const char *path, int rc,
		      bool *renamed)
{
	if (rc == 0 && sync_fd(fd, false) < 0)
		rc = -errno;
	close(fd);
	/* Until the rename the old file is untouched: a failure before it
	 * (a full file system, say) leaves the old file in place. */
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* Renamed: *renamed tells the caller the new file is in place even
	 * should the directory's fsync fail. */
	if (renamed)
		*renamed = true;
	return fsync_dir(path);
}

int lj_write_file(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	int fd = open_tmp(path, tmp, sizeof(tmp));

	if (fd < 0)
		return fd;
	return commit_tmp(fd, tmp, path, write_all(fd, data, len), NULL);
}

int lj_rewrite(struct lease_journal *j, const char *path, const char *header,
	       size_t line_max, size_t (*next)(void *arg, char *buf),
	       void *arg)
{
	char tmp[4200], chunk[32768];
	size_t used, len;
	unsigned long nrec = 0;
	int fd, rc = 0;
	bool renamed = false;
	char *copy;

	if (line_max > sizeof(chunk) / 2 || strlen(header) >= sizeof(chunk))
		return -EINVAL;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	fd = open_tmp(path, tmp, sizeof(tmp));
	if (fd < 0) {
		free(copy);
		return fd;
	}
	used = strlen(header);
	memcpy(chunk, header, used);
	for (;;) {
		if (used + line_max > sizeof(chunk)) {
			rc = write_all(fd, chunk, used);
			used = 0;
			if (rc)
				break;
		}
		len = next(arg, chunk + used);
		if (!len)
			break;
		used += len;
		nrec++;
	}
	if (rc == 0 && used)
		rc = write_all(fd, chunk, used);
	rc = commit_tmp(fd, tmp, path, rc, &renamed);
	if (!renamed) {
		free(copy);
		return rc;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(copy);
		return rc;
	}
	lj_close(j);
	j->path = copy;
	j->fd = fd;
	j->records = nrec;
	j->torn = false;
	return rc;
}

int lj_append(struct lease_journal *j, const char *buf, size_t len,
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

void lj_close(struct lease_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->path);
	j->path = NULL;
}
