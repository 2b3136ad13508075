/*
 * Master files; see zonefile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tapir/text.h>

#include "zonefile.h"

struct pstate {
	struct dns_zone *z;
	struct dns_zonefile *zf;
	const char *name; /* the file, in messages */
	const char *p, *end;
	unsigned line;
	unsigned depth; /* of $INCLUDE */
	uint8_t origin[DNS_NAME_MAX];
	uint8_t prev[DNS_NAME_MAX]; /* the last owner */
	bool have_prev;
	uint32_t ttl;
};

static void report(struct pstate *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct pstate *ps, unsigned line, const char *fmt, ...)
{
	char msg[512];
	char full[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s", ps->name, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", ps->name, msg);
	ps->zf->errors++;
	if (ps->zf->report)
		ps->zf->report(ps->zf->arg, full);
}

static bool given_up(const struct pstate *ps)
{
	return ps->zf->errors >= DNS_ZONEFILE_ERRORS;
}

/* Lines no longer than DNS_LINE_MAX and no NUL byte. */
static int check_lines(struct pstate *ps)
{
	const char *p = ps->p, *ls = p;
	unsigned line = 1;

	for (; p < ps->end; p++) {
		if (*p == '\0') {
			report(ps, line, "a NUL byte: not a text file");
			return -1;
		}
		if (*p == '\n') {
			line++;
			ls = p + 1;
		} else if ((size_t)(p - ls) >= DNS_LINE_MAX) {
			report(ps, line, "line longer than %d bytes",
			       DNS_LINE_MAX);
			return -1;
		}
	}
	return 0;
}

static void skip_line(struct pstate *ps)
{
	while (ps->p < ps->end && *ps->p != '\n')
		ps->p++;
}

static bool is_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	       c == '(' || c == ')' || c == '"';
}

/* The next entry's fields: 1, 0 at the end, -1 after a reported error
 * (the rest of its line skipped).  *blank: the entry starts with a blank
 * (no owner); *at: its first line. */
static int read_entry(struct pstate *ps, struct dns_field *f, unsigned *nf,
		      bool *blank, unsigned *at)
{
	unsigned depth = 0, open_line = 0;
	bool line_start = true;

	*nf = 0;
	*blank = false;
	*at = ps->line;
	for (;;) {
		char c;

		if (ps->p >= ps->end) {
			if (depth) {
				report(ps, open_line,
				       "'(' not closed before the end of the "
				       "file");
				return -1;
			}
			return *nf ? 1 : 0;
		}
		c = *ps->p;
		if (line_start && *nf == 0) {
			*blank = c == ' ' || c == '\t';
			*at = ps->line;
		}
		line_start = false;
		if (c == '\n') {
			ps->p++;
			ps->line++;
			line_start = true;
			if (depth == 0 && *nf)
				return 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			ps->p++;
			continue;
		}
		if (c == ';') {
			skip_line(ps);
			continue;
		}
		if (c == '(') {
			if (depth) {
				report(ps, ps->line, "nested '('");
				goto fail;
			}
			depth++;
			open_line = ps->line;
			ps->p++;
			continue;
		}
		if (c == ')') {
			if (!depth) {
				report(ps, ps->line, "')' without '('");
				goto fail;
			}
			depth--;
			ps->p++;
			continue;
		}
		if (*nf >= DNS_FIELDS_MAX) {
			report(ps, *at, "more than %d fields in one record",
			       DNS_FIELDS_MAX);
			goto fail;
		}
		if (c == '"') {
			const char *s = ++ps->p;

			while (ps->p < ps->end && *ps->p != '"' &&
			       *ps->p != '\n') {
				if (*ps->p == '\\' && ps->p + 1 < ps->end &&
				    ps->p[1] != '\n')
					ps->p++;
				ps->p++;
			}
			if (ps->p >= ps->end || *ps->p != '"') {
				report(ps, ps->line,
				       "quoted string not closed on its line");
				goto fail;
			}
			f[*nf] = (struct dns_field){s, (size_t)(ps->p - s),
						    true};
			ps->p++;
		} else {
			const char *s = ps->p;

			while (ps->p < ps->end && !is_delim(*ps->p)) {
				if (*ps->p == '\\' && ps->p + 1 < ps->end &&
				    ps->p[1] != '\n')
					ps->p++;
				ps->p++;
			}
			f[*nf] = (struct dns_field){s, (size_t)(ps->p - s),
						    false};
		}
		(*nf)++;
	}
fail:
	skip_line(ps);
	return -1;
}

/* A file read into the zone's list, as it is now. */
static void note_file(struct dns_zone *z, const char *path,
		      const struct stat *st)
{
	struct dns_file_id *f;

	if (z->nfiles >= 64)
		return; /* 8 deep, but as many side by side as one likes */
	f = realloc(z->files, (z->nfiles + 1) * sizeof(*f));
	if (!f)
		return;
	z->files = f;
	f += z->nfiles;
	f->path = strdup(path);
	if (!f->path)
		return;
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
	f->size = (uint64_t)st->st_size;
	f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
		      st->st_mtim.tv_nsec;
	z->nfiles++;
}

static int read_whole(const char *path, char **text, size_t *len, char *why,
		      size_t whysz, struct stat *stp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	char *buf;
	size_t have = 0;

	if (fd < 0) {
		snprintf(why, whysz, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file");
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > DNS_ZONEFILE_MAX) {
		snprintf(why, whysz, "over %u bytes", DNS_ZONEFILE_MAX);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(why, whysz, "out of memory");
		close(fd);
		return -1;
	}
	/* Read at most the size seen (a file growing meanwhile is cut). */
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysz, "cannot read: %s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = 0;
	*text = buf;
	*len = have;
	*stp = st;
	return 0;
}

static int parse(struct pstate *ps);

/* $INCLUDE path [origin] */
static void include(struct pstate *ps, const struct dns_field *f, unsigned nf,
		    unsigned at)
{
	const char *dir = ps->zf->include_dir;
	char rel[PATH_MAX], full[PATH_MAX * 2 + 2], real[PATH_MAX], why[128];
	struct pstate child;
	struct stat st;
	char *text;
	size_t len, dl;
	int l;
	char err[256];

	if (nf < 2 || nf > 3) {
		report(ps, at, "$INCLUDE takes a file and an optional origin");
		return;
	}
	if (!dir) {
		report(ps, at, "$INCLUDE is not allowed here");
		return;
	}
	if (ps->depth + 1 >= DNS_INCLUDE_DEPTH) {
		report(ps, at, "$INCLUDE nested more than %d deep",
		       DNS_INCLUDE_DEPTH);
		return;
	}
	if (ps->zf->includes >= DNS_INCLUDES_MAX) {
		report(ps, at, "more than %d $INCLUDEs", DNS_INCLUDES_MAX);
		return;
	}
	ps->zf->includes++;
	l = dns_unescape(f[1].s, f[1].len, 0, (uint8_t *)rel, sizeof(rel) - 1,
			 NULL);
	if (l <= 0 || memchr(rel, 0, (size_t)l)) {
		report(ps, at, "$INCLUDE: bad file name");
		return;
	}
	rel[l] = 0;
	/* No ".." anywhere: the file is inside the zone file's directory. */
	for (const char *c = rel; *c;) {
		size_t cl = strcspn(c, "/");

		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			report(ps, at,
			       "$INCLUDE %s: \"..\" leaves the zone file's "
			       "directory",
			       rel);
			return;
		}
		c += cl;
		while (*c == '/')
			c++;
	}
	if (rel[0] == '/')
		snprintf(full, sizeof(full), "%s", rel);
	else
		snprintf(full, sizeof(full), "%s/%s", dir, rel);
	if (!realpath(full, real)) {
		report(ps, at, "$INCLUDE %s: %s", rel, strerror(errno));
		return;
	}
	dl = strlen(dir);
	if (strncmp(real, dir, dl) != 0 ||
	    (real[dl] != '/' && !(dl == 1 && dir[0] == '/'))) {
		report(ps, at,
		       "$INCLUDE %s: outside the zone file's directory %s", rel,
		       dir);
		return;
	}
	memset(&child, 0, sizeof(child));
	child.z = ps->z;
	child.zf = ps->zf;
	child.name = rel;
	child.depth = ps->depth + 1;
	child.ttl = ps->ttl;
	memcpy(child.origin, ps->origin, sizeof(child.origin));
	if (nf == 3) {
		if (f[2].quoted ||
		    dns_name_from_text(f[2].s, f[2].len, ps->origin,
				       child.origin, err, sizeof(err)) < 0) {
			report(ps, at, "$INCLUDE origin: %s",
			       f[2].quoted ? "a name cannot be quoted" : err);
			return;
		}
	}
	if (read_whole(real, &text, &len, why, sizeof(why), &st) < 0) {
		report(ps, at, "$INCLUDE %s: %s", rel, why);
		return;
	}
	note_file(ps->z, real, &st);
	child.p = text;
	child.end = text + len;
	child.line = 1;
	parse(&child);
	free(text);
}

static void directive(struct pstate *ps, const struct dns_field *f,
		      unsigned nf, unsigned at)
{
	char err[256];

	if (tapir_ieq_str(f[0].s, f[0].len, "$ORIGIN")) {
		uint8_t o[DNS_NAME_MAX];

		if (nf != 2) {
			report(ps, at, "$ORIGIN takes one name");
			return;
		}
		if (f[1].quoted || dns_name_from_text(f[1].s, f[1].len,
						      ps->origin, o, err,
						      sizeof(err)) < 0) {
			report(ps, at, "$ORIGIN: %s",
			       f[1].quoted ? "a name cannot be quoted" : err);
			return;
		}
		memcpy(ps->origin, o, dns_name_len(o));
	} else if (tapir_ieq_str(f[0].s, f[0].len, "$TTL")) {
		uint32_t ttl;

		if (nf != 2) {
			report(ps, at, "$TTL takes one time");
			return;
		}
		if (f[1].quoted || dns_ttl_parse(f[1].s, f[1].len, &ttl) < 0) {
			report(ps, at,
			       "bad TTL \"%.*s\" (0-2147483647 s, units s m "
			       "h d w)",
			       (int)(f[1].len > 40 ? 40 : f[1].len), f[1].s);
			return;
		}
		ps->ttl = ttl;
	} else if (tapir_ieq_str(f[0].s, f[0].len, "$INCLUDE")) {
		include(ps, f, nf, at);
	} else {
		report(ps, at,
		       "unknown directive \"%.*s\" ($ORIGIN, $TTL, $INCLUDE)",
		       (int)(f[0].len > 40 ? 40 : f[0].len), f[0].s);
	}
}

static int parse(struct pstate *ps)
{
	static struct dns_field f[DNS_FIELDS_MAX];
	unsigned before = ps->zf->errors;

	if (check_lines(ps) < 0)
		return -1;
	while (!given_up(ps)) {
		unsigned nf, at;
		bool blank;
		int rc = read_entry(ps, f, &nf, &blank, &at);
		char err[256];
		uint8_t owner[DNS_NAME_MAX];
		unsigned first = 1;

		if (rc == 0)
			break;
		if (rc < 0)
			continue;
		if (!blank && !f[0].quoted && f[0].len && f[0].s[0] == '$') {
			/* f is static: a nested file reuses it, so the
			 * directive is done with the fields before that. */
			directive(ps, f, nf, at);
			continue;
		}
		if (blank) {
			if (!ps->have_prev) {
				report(ps, at,
				       "no owner, and no record before to "
				       "take it from");
				continue;
			}
			memcpy(owner, ps->prev, sizeof(owner));
			first = 0;
		} else if (f[0].quoted ||
			   dns_name_from_text(f[0].s, f[0].len, ps->origin,
					      owner, err, sizeof(err)) < 0) {
			report(ps, at, "owner: %s",
			       f[0].quoted ? "cannot be quoted" : err);
			continue;
		} else {
			memcpy(ps->prev, owner, sizeof(owner));
			ps->have_prev = true;
		}
		if (nf <= first) {
			report(ps, at, "a record is: owner [ttl] [class] type "
				       "data");
			continue;
		}
		if (dns_zone_add_rr(ps->z, owner, ps->origin, f + first,
				    nf - first, ps->ttl, err, sizeof(err)) < 0)
			report(ps, at, "%s", err);
	}
	return ps->zf->errors == before ? 0 : -1;
}

int dns_zonefile_parse(struct dns_zone *z, const char *name,
		       const char *text, size_t len, struct dns_zonefile *zf)
{
	struct pstate ps;

	memset(&ps, 0, sizeof(ps));
	ps.z = z;
	ps.zf = zf;
	ps.name = name;
	ps.p = text;
	ps.end = text + len;
	ps.line = 1;
	ps.ttl = zf->default_ttl;
	memcpy(ps.origin, z->origin, dns_name_len(z->origin));
	if (len > DNS_ZONEFILE_MAX) {
		report(&ps, 0, "over %u bytes", DNS_ZONEFILE_MAX);
		return -1;
	}
	parse(&ps);
	return zf->errors ? -1 : 0;
}

int dns_zonefile_load(struct dns_zone *z, const char *path,
		      struct dns_zonefile *zf)
{
	char dir[PATH_MAX], real[PATH_MAX], why[128];
	const char *slash = strrchr(path, '/');
	const char *saved = zf->include_dir;
	struct stat st;
	char *text;
	size_t len;
	int rc;

	/* $INCLUDE stays inside the directory the file is in. */
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (!realpath(dir, real)) {
		snprintf(why, sizeof(why), "its directory: %s",
			 strerror(errno));
		text = NULL;
	} else if (read_whole(path, &text, &len, why, sizeof(why), &st) < 0) {
		text = NULL;
	}
	/* What to read again, and the files to watch for it. */
	free(z->file);
	z->file = strdup(path);
	z->file_ttl = zf->default_ttl;
	if (!text)
		memset(&st, 0, sizeof(st)); /* watched as missing */
	note_file(z, path, &st);
	if (!text) {
		struct pstate ps = {.zf = zf, .name = path};

		report(&ps, 0, "%s", why);
		return -1;
	}
	zf->include_dir = real;
	zf->includes = 0;
	rc = dns_zonefile_parse(z, path, text, len, zf);
	zf->include_dir = saved;
	free(text);
	return rc;
}

/* ---- Reading again ---------------------------------------------------------- */

static bool files_changed(const struct dns_zone *z)
{
	struct stat st;

	for (unsigned i = 0; i < z->nfiles; i++) {
		const struct dns_file_id *f = &z->files[i];

		if (stat(f->path, &st) < 0) {
			if (f->ino) /* it was there */
				return true;
			continue;
		}
		if ((uint64_t)st.st_dev != f->dev ||
		    (uint64_t)st.st_ino != f->ino ||
		    (uint64_t)st.st_size != f->size ||
		    (int64_t)st.st_mtim.tv_sec * 1000000000 +
				    st.st_mtim.tv_nsec !=
			    f->mtime_ns)
			return true;
	}
	return false;
}

/* The zone z read again from its lines and its master file. */
static struct dns_zone *reread(const struct dns_zone *z,
			       struct dns_zonefile *zf)
{
	char origin[1100], err[256];
	struct dns_zone *nz;

	dns_name_to_text(z->origin, origin, sizeof(origin));
	nz = dns_zone_new(origin, err, sizeof(err));
	if (!nz) {
		if (zf->report)
			zf->report(zf->arg, err);
		zf->errors++;
		return NULL;
	}
	zf->default_ttl = z->file_ttl;
	dns_zonefile_load(nz, z->file, zf);
	for (unsigned i = 0; i < z->nlines; i++)
		if (dns_zone_add_line(nz, z->lines[i], z->file_ttl, err,
				      sizeof(err)) < 0) {
			char msg[512];

			snprintf(msg, sizeof(msg), "record \"%.200s\": %s",
				 z->lines[i], err);
			if (zf->report)
				zf->report(zf->arg, msg);
			zf->errors++;
		}
	if (!zf->errors && dns_zone_finish(nz, err, sizeof(err)) < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", z->file, err);
		if (zf->report)
			zf->report(zf->arg, msg);
		zf->errors++;
	}
	return nz;
}

int dns_zones_reread(struct dns_zones *zs, struct dns_zonefile *zf)
{
	struct dns_zone **nz;
	struct dns_zones next;
	bool any = false, bad = false;

	for (unsigned i = 0; i < zs->n && !any; i++)
		any = zs->z[i]->file && files_changed(zs->z[i]);
	if (!any)
		return 0;
	nz = calloc(zs->n, sizeof(*nz));
	if (!nz)
		return -1;
	for (unsigned i = 0; i < zs->n; i++) {
		struct dns_zone *z = zs->z[i];

		if (!z->file || !files_changed(z))
			continue;
		zf->errors = 0;
		nz[i] = reread(z, zf);
		if (!nz[i] || zf->errors) {
			bad = true;
			if (!nz[i])
				continue;
			/* The old zone goes on; it watches the files as they
			 * are now, so this error is told once. */
			{
				struct dns_file_id *f = z->files;
				unsigned n = z->nfiles;

				z->files = nz[i]->files;
				z->nfiles = nz[i]->nfiles;
				nz[i]->files = f;
				nz[i]->nfiles = n;
			}
		}
	}
	dns_zones_init(&next);
	if (!bad) {
		next.z = calloc(zs->n, sizeof(*next.z));
		bad = !next.z;
	}
	if (!bad) {
		next.n = zs->n;
		for (unsigned i = 0; i < zs->n; i++)
			next.z[i] = nz[i] ? nz[i] : zs->z[i];
		if (dns_zones_index(&next) < 0) {
			dns_zones_free_index(&next);
			bad = true;
		}
	}
	if (bad) {
		for (unsigned i = 0; i < zs->n; i++)
			dns_zone_free(nz[i]);
		free(next.z);
		free(nz);
		return -1;
	}
	/* Swap: the replaced zones and the old index go. */
	dns_zones_free_index(zs);
	for (unsigned i = 0; i < zs->n; i++)
		if (nz[i])
			dns_zone_free(zs->z[i]);
	free(zs->z);
	free(nz);
	*zs = next;
	return 1;
}
