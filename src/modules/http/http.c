/*
 * The http module: HTTP/1.1 (RFC 9110, 9112) GET and HEAD of static files
 * under a document root, over tapird's TCP.
 *
 * Theory of operation.  Each connection is a small state machine:
 *
 *   READ    bytes are copied into a bounded head buffer and parsed
 *           (http_parse.c) until a head is complete; a request starts the
 *           header deadline at its first byte, so a head sent slowly
 *           (slowloris) is answered 408 and closed when it runs out.
 *   BODY    a Content-Length body is read and dropped (the response is
 *           already built and waits); the whole body must arrive within
 *           header_timeout of the head's end, however it is dripped.
 *   SEND    the response: a header block from a per-connection buffer,
 *           then the body from memory (an error page, a listing, a cached
 *           small file) or from the file, read with pread() only as much
 *           as tcp_send_room() allows, so a file of any size costs one
 *           shared scratch buffer, never its size.  Pipelined requests
 *           wait, in the head buffer as far as they fit and unread in
 *           TCP beyond it (recv takes nothing: the window closes), and
 *           are answered in order once the response is out.  A reader
 *           that takes less than SEND_PROGRESS bytes in send_timeout
 *           (slow read, even a few bytes at a time) is reset.
 *   LINGER  after a response that ends the connection: FIN sent, what
 *           still arrives is read and dropped (so unread data does not
 *           turn our FIN into a reset that destroys the response), until
 *           the peer closes or a short timer runs out.
 *
 * Memory is freed only from the stack's top-level callbacks (closed,
 * peer_closed, the timer), never below recv or writable, so no caller
 * ever holds a pointer to a freed connection.
 *
 * Paths: the target is normalised (http_path.c), then opened beneath a
 * directory descriptor of the root with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), or component by component with O_NOFOLLOW where
 * openat2 is missing; only regular files are served.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <tapir/module.h>

#include "http_proto.h"

/* The settings as tapird fills them from the descriptors below. */
struct http_settings {
	uint16_t port;
	uint32_t max_request_line, max_header_bytes, max_headers;
	uint64_t max_request_body;
	uint32_t header_timeout, idle_timeout, send_timeout; /* seconds */
	uint32_t max_connections;
	uint32_t cache_size, cache_max_file;
	const char *root, *index, *access_log, *status_path, *metrics_path;
	const char *access_log_format;
	bool listing;
	struct tapir_strings mime_types;
	struct tapir_strings status_allow;
	/* HTTPS (host API 5): tapird's TLS layer on tls_port. */
	const config_setting_t *tls;
	uint16_t tls_port;
	bool https_redirect;
	uint32_t hsts_max_age;
};

#define INT_SETTING(key, member, lo, hi, dflt, u)                            \
	{key, TAPIR_SET_INT, TAPIR_FIELD(struct http_settings, member),       \
	 .min = lo, .max = hi, .def = dflt, .unit = u}
#define STR_SETTING(key, member, dflt)                                       \
	{key, TAPIR_SET_STRING, TAPIR_FIELD(struct http_settings, member),    \
	 .def_str = dflt}

/* Entries of status_allow, and interface addresses looked at for "link". */
#define STATUS_ALLOW_MAX 64
#define LINK_ADDRS_MAX 16

static const struct tapir_setting settings[] = {
	INT_SETTING("port", port, 1, 65535, 80, NULL),
	STR_SETTING("root", root, "/srv/tapir/www"),
	STR_SETTING("index", index, "index.html"),
	{"listing", TAPIR_SET_BOOL, TAPIR_FIELD(struct http_settings, listing)},
	{"mime_types", TAPIR_SET_STRINGS,
	 TAPIR_FIELD(struct http_settings, mime_types), .max = 1000},
	INT_SETTING("max_request_line", max_request_line, 64, 65536, 4096,
		    "bytes"),
	INT_SETTING("max_header_bytes", max_header_bytes, 256, 262144, 8192,
		    "bytes"),
	INT_SETTING("max_headers", max_headers, 1, 1000, 64, NULL),
	INT_SETTING("max_request_body", max_request_body, 0, 1LL << 40,
		    1048576, "bytes"),
	INT_SETTING("header_timeout", header_timeout, 1, 3600, 10, "seconds"),
	INT_SETTING("idle_timeout", idle_timeout, 1, 3600, 5, "seconds"),
	INT_SETTING("send_timeout", send_timeout, 1, 3600, 30, "seconds"),
	INT_SETTING("max_connections", max_connections, 1, 65536, 256, NULL),
	STR_SETTING("access_log", access_log, "daemon"),
	STR_SETTING("access_log_format", access_log_format, "tapir"),
	INT_SETTING("cache_size", cache_size, 0, 1LL << 30, 4194304, "bytes"),
	INT_SETTING("cache_max_file", cache_max_file, 0, 16777216, 65536,
		    "bytes"),
	STR_SETTING("status_path", status_path, "/status"),
	STR_SETTING("metrics_path", metrics_path, "/metrics"),
	{"status_allow", TAPIR_SET_STRINGS,
	 TAPIR_FIELD(struct http_settings, status_allow),
	 .max = STATUS_ALLOW_MAX, .flags = TAPIR_SETF_SCALAR},
	{"tls", TAPIR_SET_TLS, TAPIR_FIELD(struct http_settings, tls)},
	INT_SETTING("tls_port", tls_port, 1, 65535, 443, NULL),
	{"https_redirect", TAPIR_SET_BOOL,
	 TAPIR_FIELD(struct http_settings, https_redirect)},
	INT_SETTING("hsts_max_age", hsts_max_age, 0, 2147483647, 0, "seconds"),
	{.name = NULL}};

#define OUT_CAP 2048	   /* response head, error and redirect pages */
#define SCRATCH_SIZE 65536 /* file reads, shared by all connections */
#define LISTING_MAX 65536  /* bytes of a directory listing page */
#define LINGER_MS 2000	   /* reading after our FIN */
#define SEND_PROGRESS 16384 /* bytes taken that earn another send_timeout */
#define ROOT_RETRY_MS 1000 /* a missing root is looked for again */
#define LOG_TARGET_MAX 200 /* bytes of the target in the access log */
#define LOG_FIELD_MAX 256  /* bytes of Referer, User-Agent in the log */
#define PATH_CAP 4096

struct http_conf {
	uint16_t port;
	char *root;
	char *index; /* "" for none */
	bool listing;
	struct http_mime *mime;
	size_t n_mime;
	struct http_limits lim;
	unsigned header_timeout_ms, idle_timeout_ms, send_timeout_ms;
	unsigned max_conns;
	char *access_log; /* "daemon", "off" or an absolute path */
	bool log_combined; /* access_log_format "combined" */
	char *status_path, *metrics_path; /* built-in reports; "" for none */
	/* Who may read them: the prefixes, and whether the interface's own
	 * prefixes count too ("link", the default). */
	struct http_prefix *allow;
	size_t n_allow;
	bool allow_link;
	size_t cache_size, cache_max_file;
	bool tls;	     /* a TLS listener on tls_port */
	uint16_t tls_port;
	bool https_redirect; /* plain requests get 301 to https:// */
	uint32_t hsts_max_age; /* 0: no Strict-Transport-Security */
};

struct cache_ent {
	struct cache_ent *prev, *next; /* most recently used first */
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned refs;
	bool dead; /* evicted while in use: freed at the last release */
	size_t cost;
	uint8_t *data;
};

struct hconn;

struct http {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct http_conf conf;
	struct tapir_tcp_listener *l;
	struct tapir_tcp_listener *tls_l; /* HTTPS, when tls is set */
	int root_fd;
	uint64_t root_tried_ms;
	int log_fd;
	unsigned nconns;
	struct hconn *conns;
	uint8_t *scratch;
	char path[PATH_CAP];
	struct cache_ent *cache, *cache_tail;
	size_t cache_used;
	unsigned cache_n;
	uint64_t *c_requests, *c_refused, *c_bytes, *c_errors, *c_timeouts,
	    *c_cache_hits, *c_report_denied;
	/* Request head complete to response queued (host API 6; NULL on
	 * an older tapird). */
	struct tapir_histogram *latency;
	char server[64]; /* the Server: field, "tapir/VERSION" */
};

enum cstate { C_READ, C_BODY, C_SEND, C_LINGER };

struct hconn {
	struct http *h;
	struct tapir_tcp *c;
	struct tapir_timer *t;
	struct hconn *prev, *next;
	enum cstate st;
	struct http_limits lim;
	char *in;
	size_t in_len, in_cap;
	bool in_blocked; /* recv() left bytes unread */
	bool peer_done;
	bool tls; /* accepted on the TLS listener */
	uint64_t body_left;
	bool close_after;
	/* The response. */
	char out[OUT_CAP];
	size_t out_len, out_off;
	uint64_t armed_bytes; /* bytes when send_timeout was last armed */
	const uint8_t *mem; /* body from memory */
	uint8_t *mem_owned;
	struct cache_ent *ce;
	uint64_t mem_off, mem_left;
	int fd; /* body from a file */
	uint64_t file_off, file_left;
	/* For the access log. */
	struct tapir_addr peer;
	uint16_t peer_port;
	uint64_t start_ms;
	int status;
	uint64_t bytes;
	size_t head_len; /* of the response head, in bytes */
	char method[16];
	char target[LOG_TARGET_MAX + 1];
	unsigned minor;
	/* The combined format's fields ("" when absent). */
	char referer[LOG_FIELD_MAX + 1];
	char user_agent[LOG_FIELD_MAX + 1];
	/* HTTP response time: from the request head complete (host API 6
	 * clock; 0 when not measured) to the response out. */
	uint64_t head_us;
};

/* ---- Settings ----------------------------------------------------------- */

static void conf_free(struct http_conf *c)
{
	free(c->root);
	free(c->index);
	free(c->status_path);
	free(c->metrics_path);
	free(c->access_log);
	free(c->allow);
	for (size_t i = 0; i < c->n_mime; i++) {
		free(c->mime[i].ext);
		free(c->mime[i].type);
	}
	free(c->mime);
	memset(c, 0, sizeof(*c));
}

/* "ext type": an extension without dots or slashes, one space, a type. */
static int parse_mime(const char *s, struct http_mime *m)
{
	const char *sp = strchr(s, ' ');
	size_t n;

	if (!sp || sp == s || !sp[1])
		return -1;
	n = (size_t)(sp - s);
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == '/' || (unsigned char)s[i] <= 0x20)
			return -1;
	for (const char *p = sp + 1; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	m->ext = strndup(s, n);
	m->type = strdup(sp + 1);
	if (!m->ext || !m->type) {
		free(m->ext);
		free(m->type);
		return -1;
	}
	return 0;
}

static int read_mime(const struct tapir_check *chk,
		     const struct tapir_strings *l, struct http_conf *c)
{
	int bad = 0;

	c->mime = calloc(l->n + 1, sizeof(*c->mime));
	if (!c->mime)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if (parse_mime(l->v[i], &c->mime[c->n_mime]) < 0) {
			if (chk)
				chk->error_at(chk, "mime_types", (int)i,
					      "mime_types entry %zu must be "
					      "\"extension type\", e.g. "
					      "\"wasm application/wasm\"",
					      i + 1);
			bad = -1;
			continue;
		}
		c->n_mime++;
	}
	return bad;
}

/* status_allow: unset means "link" (the interface's own prefixes); a
 * list means those entries, of which "link" may be one; an empty list
 * lets nobody in. */
static int read_allow(const struct tapir_check *chk,
		      const struct tapir_strings *l, struct http_conf *c)
{
	int bad = 0;

	if (!l->v) {
		c->allow_link = true;
		return 0;
	}
	c->allow = calloc(l->n + 1, sizeof(*c->allow));
	if (!c->allow)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i], "link")) {
			c->allow_link = true;
			continue;
		}
		if (http_prefix_parse(l->v[i], &c->allow[c->n_allow]) < 0) {
			if (chk)
				chk->error_at(chk, "status_allow", (int)i,
					      "status_allow entry %zu (\"%s\") "
					      "must be an address prefix such "
					      "as \"10.0.0.1/32\" or "
					      "\"fd00::/64\" (no bits set past "
					      "the length), or \"link\"",
					      i + 1, l->v[i]);
			bad = -1;
			continue;
		}
		c->n_allow++;
	}
	return bad;
}

/* Check what the descriptors cannot and copy the settings into c; every
 * problem is reported through chk when it is non-NULL.  On success c owns
 * copies of the strings. */
static int read_conf(const struct tapir_check *chk,
		     const struct http_settings *set, struct http_conf *c)
{
	const char *index = set->index, *alog = set->access_log;
	const char *spath = set->status_path, *mpath = set->metrics_path;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	if (set->root[0] != '/') {
		if (chk)
			chk->error_at(chk, "root", -1,
				      "root must be an absolute path");
		bad = -1;
	}
	if (strchr(index, '/') || !strcmp(index, ".") || !strcmp(index, "..")) {
		if (chk)
			chk->error_at(chk, "index", -1,
				      "index must be a file name (no '/'), or "
				      "\"\" for none");
		bad = -1;
	}
	if (strcmp(alog, "daemon") && strcmp(alog, "off") && alog[0] != '/') {
		if (chk)
			chk->error_at(chk, "access_log", -1,
				      "access_log must be \"daemon\", \"off\" "
				      "or an absolute file name");
		bad = -1;
	}
	if (strcmp(set->access_log_format, "tapir") &&
	    strcmp(set->access_log_format, "combined")) {
		if (chk)
			chk->error_at(chk, "access_log_format", -1,
				      "access_log_format must be \"tapir\" or "
				      "\"combined\"");
		bad = -1;
	}
	for (int i = 0; i < 2; i++) {
		const char *pth = i ? mpath : spath;
		const char *name = i ? "metrics_path" : "status_path";
		char norm[PATH_CAP];

		if (!*pth)
			continue;
		if (pth[0] != '/' || strlen(pth) > 255 ||
		    http_path_normalise(pth, strlen(pth), norm, sizeof(norm)) <
			    0 ||
		    strcmp(norm, pth) != 0) {
			if (chk)
				chk->error_at(chk, name, -1,
					      "%s must be a normalised absolute "
					      "path such as \"/%s\" (at most "
					      "255 bytes), or \"\" for none",
					      name, i ? "metrics" : "status");
			bad = -1;
		}
	}
	if (set->tls && set->tls_port == set->port) {
		if (chk)
			chk->error_at(chk, "tls_port", -1,
				      "tls_port must differ from port");
		bad = -1;
	}
	if (!set->tls && (set->https_redirect || set->hsts_max_age)) {
		if (chk)
			chk->error_at(chk, set->https_redirect
						   ? "https_redirect"
						   : "hsts_max_age",
				      -1, "needs tls = { ... }");
		bad = -1;
	}
	if (*spath && (!strcmp(spath, mpath) ||
		       (!strncmp(spath, mpath, strlen(spath)) &&
			!strcmp(mpath + strlen(spath), ".html")))) {
		if (chk)
			chk->error_at(chk, "metrics_path", -1,
				      "metrics_path must differ from "
				      "status_path and from status_path "
				      "with \".html\" (the status page)");
		bad = -1;
	}
	if (bad)
		return -1;
	c->port = set->port;
	c->lim.max_line = set->max_request_line;
	c->lim.max_header_bytes = set->max_header_bytes;
	c->lim.max_headers = set->max_headers;
	c->lim.max_body = set->max_request_body;
	c->header_timeout_ms = set->header_timeout * 1000;
	c->idle_timeout_ms = set->idle_timeout * 1000;
	c->send_timeout_ms = set->send_timeout * 1000;
	c->max_conns = set->max_connections;
	c->cache_size = set->cache_size;
	c->cache_max_file = set->cache_max_file;
	c->listing = set->listing;
	c->log_combined = !strcmp(set->access_log_format, "combined");
	c->tls = set->tls != NULL;
	c->tls_port = set->tls_port;
	c->https_redirect = set->https_redirect;
	c->hsts_max_age = set->hsts_max_age;
	c->root = strdup(set->root);
	c->index = strdup(index);
	c->access_log = strdup(alog);
	c->status_path = strdup(spath);
	c->metrics_path = strdup(mpath);
	if (!c->root || !c->index || !c->access_log || !c->status_path ||
	    !c->metrics_path || read_mime(chk, &set->mime_types, c) < 0 ||
	    read_allow(chk, &set->status_allow, c) < 0) {
		conf_free(c);
		return -1;
	}
	return 0;
}

static int http_check(const struct tapir_check *chk, const void *conf)
{
	struct http_conf c;

	if (read_conf(chk, conf, &c) < 0)
		return -1;
	conf_free(&c);
	return 0;
}

/* ---- Files beneath the root --------------------------------------------- */

/* Open rel (no "." or ".." components, no leading '/') beneath dirfd
 * without following any symlink, one component at a time. */
static int open_by_components(int dirfd, const char *rel, int flags)
{
	char buf[PATH_CAP];
	char *p = buf, *slash;
	int cur = dirfd, fd;

	if (strlen(rel) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, rel);
	while ((slash = strchr(p, '/'))) {
		*slash = '\0';
		fd = openat(cur, p,
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cur != dirfd)
			close(cur);
		if (fd < 0)
			return -1;
		cur = fd;
		p = slash + 1;
	}
	fd = openat(cur, *p ? p : ".", flags | O_NOFOLLOW);
	if (cur != dirfd) {
		int e = errno;

		close(cur);
		errno = e;
	}
	return fd;
}

static int open_beneath(int dirfd, const char *rel)
{
	int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	struct open_how how = {
	    .flags = (uint64_t)flags,
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

	if (fd >= 0 || errno != ENOSYS)
		return (int)fd;
	return open_by_components(dirfd, rel, flags);
}

/* The root's directory descriptor, opened again at most once per
 * ROOT_RETRY_MS while it is missing; -1 when there is none. */
static int root_fd(struct http *h)
{
	uint64_t now;

	if (h->root_fd >= 0)
		return h->root_fd;
	now = h->api->now_ms(h->host);
	if (h->root_tried_ms && now - h->root_tried_ms < ROOT_RETRY_MS)
		return -1;
	h->root_tried_ms = now ? now : 1;
	h->root_fd = open(h->conf.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->root_fd >= 0)
		h->api->log(h->host, TAPIR_LOG_NOTICE, "serving %s on port %u",
			    h->conf.root, h->conf.port);
	return h->root_fd;
}

static void root_open_or_explain(struct http *h)
{
	if (root_fd(h) < 0)
		h->api->log(h->host, TAPIR_LOG_WARNING,
			    "document root %s: %s; every request gets 404 "
			    "until it exists (create it, or set root in the "
			    "http module's settings)",
			    h->conf.root, strerror(errno));
}

/* ---- Small-file cache --------------------------------------------------- */

/* The cache is a list, most recently used first, of at most
 * CACHE_MAX_ENTRIES copies: a lookup is a short scan and eviction takes
 * from the tail. */
#define CACHE_MAX_ENTRIES 256

static void cache_unlink(struct http *h, struct cache_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		h->cache = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		h->cache_tail = e->prev;
	e->prev = e->next = NULL;
	h->cache_used -= e->cost;
	h->cache_n--;
}

static void cache_push_front(struct http *h, struct cache_ent *e)
{
	e->prev = NULL;
	e->next = h->cache;
	if (h->cache)
		h->cache->prev = e;
	else
		h->cache_tail = e;
	h->cache = e;
	h->cache_used += e->cost;
	h->cache_n++;
}

static void cache_ent_free(struct cache_ent *e)
{
	free(e->path);
	free(e->data);
	free(e);
}

static void cache_drop(struct http *h, struct cache_ent *e)
{
	cache_unlink(h, e);
	if (e->refs)
		e->dead = true;
	else
		cache_ent_free(e);
}

static void cache_release(struct cache_ent *e)
{
	if (--e->refs == 0 && e->dead)
		cache_ent_free(e);
}

static void cache_flush(struct http *h)
{
	while (h->cache)
		cache_drop(h, h->cache);
}

static bool same_file(const struct cache_ent *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* The cached copy of path (open as fd, stat st), reading it in when it is
 * small enough; NULL to read from the file instead. */
static struct cache_ent *cache_get(struct http *h, const char *path, int fd,
				   const struct stat *st)
{
	struct cache_ent *e;
	size_t cost, got = 0;

	for (e = h->cache; e; e = e->next) {
		if (strcmp(e->path, path))
			continue;
		if (!same_file(e, st)) {
			cache_drop(h, e); /* changed on disk */
			break;
		}
		cache_unlink(h, e);
		cache_push_front(h, e);
		++*h->c_cache_hits;
		return e;
	}
	if (st->st_size <= 0 || (uint64_t)st->st_size > h->conf.cache_max_file)
		return NULL;
	cost = (size_t)st->st_size + strlen(path) + sizeof(*e);
	if (cost > h->conf.cache_size)
		return NULL;
	while (h->cache_tail && (h->cache_used + cost > h->conf.cache_size ||
				 h->cache_n >= CACHE_MAX_ENTRIES))
		cache_drop(h, h->cache_tail);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->path = strdup(path);
	e->data = malloc((size_t)st->st_size);
	if (!e->path || !e->data) {
		cache_ent_free(e);
		return NULL;
	}
	while (got < (size_t)st->st_size) {
		ssize_t n = pread(fd, e->data + got, (size_t)st->st_size - got,
				  (off_t)got);

		if (n <= 0) {
			cache_ent_free(e);
			return NULL;
		}
		got += (size_t)n;
	}
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->cost = cost;
	cache_push_front(h, e);
	return e;
}

/* ---- Access log --------------------------------------------------------- */

/* Copy untrusted bytes for a log line: printable ASCII except '"' and
 * '\\' as is (a space too when space_ok), everything else as \xHH;
 * truncated to fit. */
static void log_escape_sp(char *dst, size_t cap, const char *src, size_t len,
			  bool space_ok)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (((c > 0x20 && c < 0x7f) || (c == ' ' && space_ok)) &&
		    c != '"' && c != '\\') {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}

static void log_escape(char *dst, size_t cap, const char *src, size_t len)
{
	log_escape_sp(dst, cap, src, len, false);
}

/* The combined log format (as Apache's and nginx's "combined"):
 * HOST - - [DD/Mon/YYYY:HH:MM:SS +0000] "REQUEST" STATUS BODY-BYTES
 * "REFERER" "USER-AGENT", with "-" for what is absent and the body's
 * bytes (without the head) as "-" when there were none. */
static int combined_line(const struct hconn *hc, char *line, size_t cap)
{
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr",
					"May", "Jun", "Jul", "Aug",
					"Sep", "Oct", "Nov", "Dec"};
	char peer[TAPIR_ADDR_STRLEN], body[24] = "-";
	time_t now = time(NULL);
	struct tm tm;
	uint64_t b = hc->bytes > hc->head_len ? hc->bytes - hc->head_len : 0;

	gmtime_r(&now, &tm);
	if (b)
		snprintf(body, sizeof(body), "%" PRIu64, b);
	tapir_addr_format(&hc->peer, peer);
	if (hc->method[0])
		return snprintf(line, cap,
				"%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] "
				"\"%s %s HTTP/1.%u\" %d %s \"%s\" \"%s\"\n",
				peer, tm.tm_mday, mon[tm.tm_mon % 12],
				tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
				tm.tm_sec, hc->method, hc->target, hc->minor,
				hc->status, body,
				hc->referer[0] ? hc->referer : "-",
				hc->user_agent[0] ? hc->user_agent : "-");
	return snprintf(line, cap,
			"%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"-\" %d "
			"%s \"-\" \"-\"\n",
			peer, tm.tm_mday, mon[tm.tm_mon % 12],
			tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
			hc->status, body);
}

static void access_log(struct hconn *hc)
{
	struct http *h = hc->h;
	uint64_t ms = h->api->now_ms(h->host) - hc->start_ms;
	char line[512];
	int n;

	if (!strcmp(h->conf.access_log, "off"))
		return;
	if (h->conf.log_combined) {
		char cl[1400];

		n = combined_line(hc, cl, sizeof(cl));
		if (n <= 0)
			return;
		if ((size_t)n >= sizeof(cl))
			n = (int)sizeof(cl) - 1;
		if (h->log_fd < 0) {
			cl[n - 1] = '\0'; /* the daemon log ends the line */
			h->api->log(h->host, TAPIR_LOG_INFO, "%s", cl);
		} else if (write(h->log_fd, cl, (size_t)n) < 0) {
			h->api->log(h->host, TAPIR_LOG_WARNING,
				    "access log %s: %s", h->conf.access_log,
				    strerror(errno));
		}
		return;
	}
	char req[sizeof(hc->method) + sizeof(hc->target) + 16] = "-";
	char peer[TAPIR_ADDR_STRLEN];
	bool v4 = tapir_addr_is_v4(&hc->peer);

	/* A request that could not be parsed is logged as "-". */
	if (hc->method[0])
		snprintf(req, sizeof(req), "%s %s HTTP/1.%u", hc->method,
			 hc->target, hc->minor);
	n = snprintf(line, sizeof(line),
		     "%s%s%s:%u \"%s\" %d %" PRIu64 " %" PRIu64
		     ".%03" PRIu64 "s",
		     v4 ? "" : "[", tapir_addr_format(&hc->peer, peer),
		     v4 ? "" : "]", hc->peer_port, req, hc->status, hc->bytes, ms / 1000, ms % 1000);
	if (n < 0)
		return;
	if (h->log_fd < 0) {
		h->api->log(h->host, TAPIR_LOG_INFO, "%s", line);
	} else {
		char stamp[64], full[600];
		time_t now = time(NULL);
		struct tm tm;
		int m;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		m = snprintf(full, sizeof(full), "%s %s\n", stamp, line);
		if (m > 0 &&
		    write(h->log_fd, full,
			  (size_t)m < sizeof(full) ? (size_t)m
						   : sizeof(full) - 1) < 0)
			h->api->log(h->host, TAPIR_LOG_WARNING,
				    "access log %s: %s", h->conf.access_log,
				    strerror(errno));
	}
}

/* ---- Responses ---------------------------------------------------------- */

static void out_add(struct hconn *hc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append to the response head; a head that does not fit is cut (the
 * callers keep heads far below OUT_CAP). */
static void out_add(struct hconn *hc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (hc->out_len >= sizeof(hc->out))
		return;
	va_start(ap, fmt);
	n = vsnprintf(hc->out + hc->out_len, sizeof(hc->out) - hc->out_len, fmt,
		      ap);
	va_end(ap);
	if (n > 0)
		hc->out_len += (size_t)n < sizeof(hc->out) - hc->out_len
				   ? (size_t)n
				   : sizeof(hc->out) - hc->out_len - 1;
}

/* Status line and the fields every response has. */
static void head_start(struct hconn *hc, int status)
{
	char date[HTTP_DATE_LEN];

	hc->status = status;
	hc->out_len = hc->out_off = 0;
	hc->head_len = 0;
	http_date_format((int64_t)time(NULL), date);
	out_add(hc, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\n", status,
		http_reason(status), date, hc->h->server);
	if (hc->tls && hc->h->conf.hsts_max_age)
		out_add(hc, "Strict-Transport-Security: max-age=%u\r\n",
			(unsigned)hc->h->conf.hsts_max_age);
}

static void head_end(struct hconn *hc)
{
	if (hc->close_after)
		out_add(hc, "Connection: close\r\n");
	else if (hc->minor == 0)
		out_add(hc, "Connection: keep-alive\r\n");
	out_add(hc, "\r\n");
	hc->head_len = hc->out_len;
}

/* A complete small response with a text body; HEAD gets the head only. */
static void respond_simple(struct hconn *hc, int status, bool head_only,
			   const char *extra)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
			 http_reason(status));

	head_start(hc, status);
	out_add(hc,
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: %d\r\n%s",
		n, extra ? extra : "");
	head_end(hc);
	if (!head_only)
		out_add(hc, "%s", body);
}

/* A parse error or timeout: answer and close. */
static void respond_fatal(struct hconn *hc, int status)
{
	hc->close_after = true;
	++*hc->h->c_errors;
	respond_simple(hc, status, false, NULL);
}

/* Percent-encode a normalised path for a Location field. */
static bool encode_path(const char *p, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || strchr("/-._~", c);

		if (o + 4 >= cap)
			return false;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return true;
}

static void respond_redirect(struct hconn *hc, const char *path, bool head)
{
	char loc[1024];

	if (!encode_path(path, loc, sizeof(loc) - 1)) {
		respond_simple(hc, 414, head, NULL);
		return;
	}
	strcat(loc, "/");
	head_start(hc, 301);
	out_add(hc, "Location: %s\r\nContent-Length: 0\r\n", loc);
	head_end(hc);
}

/* Text for an HTML page: markup characters as entities, control bytes
 * and bytes outside ASCII as \xHH (log_escape's rules); truncated to fit. */
static void html_escape(char *dst, size_t cap, const char *src)
{
	char tmp[1024];
	size_t o = 0;

	log_escape(tmp, sizeof(tmp), src, strlen(src));
	for (const char *p = tmp; *p; p++) {
		const char *ent = *p == '<'    ? "&lt;"
				  : *p == '>'  ? "&gt;"
				  : *p == '&'  ? "&amp;"
				  : *p == '\'' ? "&#39;"
					       : NULL;
		size_t n = ent ? strlen(ent) : 1;

		if (o + n >= cap)
			break;
		if (ent)
			memcpy(dst + o, ent, n);
		else
			dst[o] = *p;
		o += n;
	}
	dst[o] = '\0';
}

/* A directory listing page for the open directory fd, at most LISTING_MAX
 * bytes; NULL on failure. */
static uint8_t *make_listing(int fd, const char *path, size_t *len)
{
	char *buf = malloc(LISTING_MAX);
	size_t o = 0;
	int dfd = dup(fd);
	DIR *d;
	struct dirent *de;
	char ename[1024];
	int n;

	if (!buf || dfd < 0 || !(d = fdopendir(dfd))) {
		free(buf);
		if (dfd >= 0)
			close(dfd);
		return NULL;
	}
	html_escape(ename, sizeof(ename), path);
	n = snprintf(buf, LISTING_MAX,
		     "<!DOCTYPE html>\n<html><head><title>Index of %s</title>"
		     "</head><body><h1>Index of %s</h1><ul>\n",
		     ename, ename);
	o = n > 0 ? (size_t)n : 0;
	while ((de = readdir(d))) {
		char href[800];

		if (de->d_name[0] == '.')
			continue; /* ".", ".." and hidden files */
		if (!encode_path(de->d_name, href, sizeof(href)))
			continue;
		html_escape(ename, sizeof(ename), de->d_name);
		n = snprintf(buf + o, LISTING_MAX - o,
			     "<li><a href=\"%s%s\">%s%s</a></li>\n", href,
			     de->d_type == DT_DIR ? "/" : "", ename,
			     de->d_type == DT_DIR ? "/" : "");
		if (n < 0 || (size_t)n >= LISTING_MAX - o - 32)
			break; /* full: the rest is left out */
		o += (size_t)n;
	}
	closedir(d);
	n = snprintf(buf + o, LISTING_MAX - o, "</ul></body></html>\n");
	if (n > 0 && (size_t)n < LISTING_MAX - o)
		o += (size_t)n;
	*len = o;
	return (uint8_t *)buf;
}

/* Serve the regular file fd (stat st) as path: conditionals, Range, then
 * the head; the body comes from the cache or the file. */
static void serve_file(struct hconn *hc, const struct http_request *r, int fd,
		       const struct stat *st, const char *path)
{
	struct http *h = hc->h;
	const char *type = http_mime_lookup(h->conf.mime, h->conf.n_mime, path);
	char etag[64], lm[HTTP_DATE_LEN];
	uint64_t size = (uint64_t)st->st_size, first = 0, last = 0;
	int64_t mtime = (int64_t)st->st_mtim.tv_sec;
	enum http_range_result rr = HTTP_RANGE_FULL;
	bool head = r->method == HTTP_HEAD;
	int status;

	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
		 (uint64_t)st->st_ino, size,
		 (uint64_t)st->st_mtim.tv_sec * 1000000000u +
		     (uint64_t)st->st_mtim.tv_nsec);
	http_date_format(mtime, lm);
	status = http_conditional(r, etag, mtime);
	if (status == 304) {
		head_start(hc, 304);
		out_add(hc, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lm);
		head_end(hc);
		close(fd);
		return;
	}
	if (r->range.p && r->method == HTTP_GET &&
	    http_if_range_ok(r, etag, mtime))
		rr = http_range_eval(r->range.p, r->range.len, size, &first,
				     &last);
	if (rr == HTTP_RANGE_UNSAT) {
		char cr[64];

		snprintf(cr, sizeof(cr),
			 "Content-Range: bytes */%" PRIu64 "\r\n", size);
		respond_simple(hc, 416, head, cr);
		close(fd);
		return;
	}
	if (rr == HTTP_RANGE_FULL) {
		first = 0;
		last = size ? size - 1 : 0;
	}
	head_start(hc, rr == HTTP_RANGE_PART ? 206 : 200);
	out_add(hc,
		"Content-Type: %s\r\nContent-Length: %" PRIu64
		"\r\nLast-Modified: %s\r\nETag: %s\r\nAccept-Ranges: bytes\r\n",
		type, size ? last - first + 1 : 0, lm, etag);
	if (rr == HTTP_RANGE_PART)
		out_add(hc,
			"Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
			"\r\n",
			first, last, size);
	head_end(hc);
	if (head || size == 0) {
		close(fd);
		return;
	}
	if (h->conf.cache_size) {
		struct cache_ent *e = cache_get(h, path, fd, st);

		if (e) {
			e->refs++;
			hc->ce = e;
			hc->mem = e->data + first;
			hc->mem_left = last - first + 1;
			close(fd);
			return;
		}
	}
	hc->fd = fd;
	hc->file_off = first;
	hc->file_left = last - first + 1;
}

/* A 200 whose body is page (len bytes, malloc'd: the connection owns it
 * from here), of the given type, with extra header lines. */
static void respond_page(struct hconn *hc, const char *type,
			 const char *extra, uint8_t *page, size_t len, bool head)
{
	head_start(hc, 200);
	out_add(hc, "Content-Type: %s\r\n%sContent-Length: %zu\r\n", type,
		extra, len);
	head_end(hc);
	if (head) {
		free(page);
		return;
	}
	hc->mem_owned = page;
	hc->mem = page;
	hc->mem_left = len;
}

/* Whether the peer may read the reports: it is in one of status_allow's
 * prefixes, or in one of the interface's own when "link" is allowed. */
static bool report_allowed(const struct http *h, const struct tapir_addr *peer)
{
	const struct http_conf *c = &h->conf;

	for (size_t i = 0; i < c->n_allow; i++)
		if (http_prefix_match(&c->allow[i], peer->b))
			return true;
	if (!c->allow_link || !TAPIR_HOST_HAS(h->api, if_addr))
		return false;
	for (unsigned i = 0; i < LINK_ADDRS_MAX; i++) {
		struct tapir_addr a;
		struct http_prefix p;
		unsigned len;
		int rc = h->api->if_addr(h->host, i, &a, &len);

		if (rc == -ENOENT)
			break;
		if (rc < 0 || tapir_addr_is_unspec(&a))
			continue;
		if (tapir_addr_is_v4(&a)) {
			if (!tapir_addr_v4(&a) || len > 32)
				continue;
			len += 96;
		} else if (len > 128) {
			continue;
		}
		memcpy(p.a, a.b, 16);
		p.len = len;
		if (http_prefix_match(&p, peer->b))
			return true;
	}
	return false;
}

/* The built-in /status (JSON), /status.html (the status_path with ".html":
 * a page for browsers) and /metrics (Prometheus text) pages, from
 * tapird's reports (the host API's report call), for the peers
 * status_allow lets in (403 for the others).  False when path is neither. */
static bool serve_report(struct hconn *hc, const char *path, bool head)
{
	struct http *h = hc->h;
	const char *what, *type, *extra = "Cache-Control: no-store\r\n";
	size_t len = 0, sl = strlen(h->conf.status_path);
	char *page;

	if (h->conf.status_path[0] && !strcmp(path, h->conf.status_path)) {
		what = "status";
		type = "application/json";
	} else if (sl && !strncmp(path, h->conf.status_path, sl) &&
		   !strcmp(path + sl, ".html")) {
		/* The same status as a page for browsers: no scripts, no
		 * assets but its inline style, which the policy says. */
		what = "status.html";
		type = "text/html; charset=utf-8";
		extra = "Cache-Control: no-store\r\n"
			"Content-Security-Policy: default-src 'none'; "
			"style-src 'unsafe-inline'\r\n"
			"X-Content-Type-Options: nosniff\r\n";
	} else if (h->conf.metrics_path[0] &&
		   !strcmp(path, h->conf.metrics_path)) {
		what = "metrics";
		type = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		return false;
	}
	if (!report_allowed(h, &hc->peer)) {
		++*h->c_report_denied;
		respond_simple(hc, 403, head, NULL);
		return true;
	}
	if (!TAPIR_HOST_HAS(h->api, report) ||
	    !(page = h->api->report(h->host, what, &len))) {
		respond_simple(hc, 503, head, NULL);
		return true;
	}
	respond_page(hc, type, extra, (uint8_t *)page, len, head);
	return true;
}

/* Find what r names and build the response. */
static void handle(struct hconn *hc, const struct http_request *r)
{
	struct http *h = hc->h;
	bool head = r->method == HTTP_HEAD;
	struct stat st;
	int rc, rfd, fd;
	char *path = h->path;

	if (r->method == HTTP_OTHER) {
		respond_simple(hc, 405, false, "Allow: GET, HEAD\r\n");
		return;
	}
	if (!hc->tls && h->conf.https_redirect) {
		char loc[1024];

		if (http_https_location(r, h->conf.tls_port, loc,
					sizeof(loc)) < 0) {
			respond_simple(hc, 400, head, NULL);
			return;
		}
		head_start(hc, 301);
		out_add(hc, "Location: %s\r\nContent-Length: 0\r\n", loc);
		head_end(hc);
		return;
	}
	rc = http_path_normalise(r->target.p, r->target.len, path, PATH_CAP);
	if (rc < 0) {
		respond_simple(hc, -rc, head, NULL);
		return;
	}
	if (serve_report(hc, path, head))
		return;
	rfd = root_fd(h);
	if (rfd < 0) {
		respond_simple(hc, 404, head, NULL);
		return;
	}
	fd = open_beneath(rfd, path[1] ? path + 1 : ".");
	if (fd < 0) {
		respond_simple(hc, errno == EACCES ? 403 : 404, head, NULL);
		return;
	}
	if (fstat(fd, &st) < 0)
		goto not_found;
	if (S_ISDIR(st.st_mode)) {
		size_t plen = strlen(path);
		int ifd = -1;

		if (path[plen - 1] != '/') {
			close(fd);
			respond_redirect(hc, path, head);
			return;
		}
		if (h->conf.index[0])
			ifd = open_beneath(fd, h->conf.index);
		if (ifd >= 0) {
			struct stat ist;

			if (fstat(ifd, &ist) == 0 && S_ISREG(ist.st_mode) &&
			    plen + strlen(h->conf.index) < PATH_CAP) {
				close(fd);
				strcat(path, h->conf.index);
				serve_file(hc, r, ifd, &ist, path);
				return;
			}
			close(ifd);
		}
		if (h->conf.listing) {
			size_t len = 0;
			uint8_t *page = make_listing(fd, path, &len);

			close(fd);
			if (!page) {
				respond_simple(hc, 500, head, NULL);
				return;
			}
			respond_page(hc, "text/html; charset=utf-8", "", page,
				     len, head);
			return;
		}
		goto not_found;
	}
	if (!S_ISREG(st.st_mode))
		goto not_found;
	serve_file(hc, r, fd, &st, path);
	return;
not_found:
	close(fd);
	respond_simple(hc, 404, head, NULL);
}

/* ---- Connections -------------------------------------------------------- */

static void arm(struct hconn *hc, unsigned ms)
{
	hc->h->api->timer_arm(hc->t, ms);
}

/* Forget the response body (after it was sent, or at the end). */
static void body_release(struct hconn *hc)
{
	if (hc->fd >= 0)
		close(hc->fd);
	hc->fd = -1;
	if (hc->ce)
		cache_release(hc->ce);
	hc->ce = NULL;
	free(hc->mem_owned);
	hc->mem_owned = NULL;
	hc->mem = NULL;
	hc->mem_left = hc->file_left = 0;
	hc->mem_off = hc->file_off = 0;
}

static void conn_free(struct hconn *hc)
{
	struct http *h = hc->h;

	body_release(hc);
	h->api->timer_free(hc->t);
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		h->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	h->nconns--;
	free(hc->in);
	free(hc);
}

/* Let go of the connection from a top-level callback. */
static void conn_close(struct hconn *hc, bool reset)
{
	if (reset)
		hc->h->api->tcp_abort(hc->c);
	else
		hc->h->api->tcp_close(hc->c);
	conn_free(hc);
}

/* The response is out: log it, then read the next request or linger. */
static void response_done(struct hconn *hc)
{
	struct http *h = hc->h;

	if (hc->head_us) {
		uint64_t now = h->api->now_us(h->host);

		tapir_hist_observe(h->latency,
				   now > hc->head_us ? now - hc->head_us : 0);
		hc->head_us = 0;
	}
	access_log(hc);
	body_release(hc);
	hc->out_len = hc->out_off = 0;
	hc->method[0] = hc->target[0] = '\0';
	if (hc->close_after || hc->peer_done) {
		hc->st = C_LINGER;
		h->api->tcp_shutdown(hc->c);
		arm(hc, LINGER_MS);
		return;
	}
	hc->st = C_READ;
	hc->start_ms = h->api->now_ms(h->host);
	arm(hc,
	    hc->in_len ? h->conf.header_timeout_ms : h->conf.idle_timeout_ms);
}

/* Send what fits of the response: head, then body from memory or file,
 * gathered into the shared scratch buffer so a small response leaves as
 * one segment.  At least one byte is always offered, so a full send
 * buffer arms writable().  Returns true when everything is out (and
 * response_done() has run). */
static bool pump(struct hconn *hc)
{
	struct http *h = hc->h;
	const struct tapir_host_api *api = h->api;

	for (;;) {
		size_t room = api->tcp_send_room(hc->c), n = 0, hn, mn, fn = 0;
		size_t took, t, a;

		if (room > SCRATCH_SIZE)
			room = SCRATCH_SIZE;
		if (room == 0)
			room = 1; /* refused: arms writable() */
		hn = hc->out_len - hc->out_off;
		if (hn > room)
			hn = room;
		memcpy(h->scratch, hc->out + hc->out_off, hn);
		n = hn;
		mn = hc->mem_left < room - n ? (size_t)hc->mem_left : room - n;
		if (mn)
			memcpy(h->scratch + n, hc->mem + hc->mem_off, mn);
		n += mn;
		if (hc->file_left && n < room) {
			ssize_t got;

			fn = hc->file_left < room - n ? (size_t)hc->file_left
						      : room - n;
			got = pread(hc->fd, h->scratch + n, fn,
				    (off_t)hc->file_off);
			if (got <= 0) {
				/* The file shrank or failed under us: the
				 * promised length cannot be kept, so the
				 * connection ends after what we have. */
				api->log(
				    h->host, TAPIR_LOG_WARNING,
				    "read error serving %s: %s", hc->target,
				    got < 0 ? strerror(errno) : "file shrank");
				hc->file_left = 0;
				hc->close_after = true;
				fn = 0;
			} else {
				fn = (size_t)got;
			}
			n += fn;
		}
		if (n == 0)
			break;
		took = api->tcp_send(hc->c, h->scratch, n);
		hc->bytes += took;
		*h->c_bytes += took;
		t = took;
		a = t < hn ? t : hn;
		hc->out_off += a;
		t -= a;
		a = t < mn ? t : mn;
		hc->mem_off += a;
		hc->mem_left -= a;
		t -= a;
		hc->file_off += t;
		hc->file_left -= t;
		if (took < n)
			return false;
	}
	response_done(hc);
	return true;
}

static void start_send(struct hconn *hc)
{
	hc->st = C_SEND;
	hc->armed_bytes = hc->bytes;
	arm(hc, hc->h->conf.send_timeout_ms);
}

/* Parse and answer the requests in the head buffer, in order, until one
 * is incomplete or its response does not fit the send buffer. */
static void process(struct hconn *hc)
{
	struct http *h = hc->h;

	while (hc->st == C_READ && hc->in_len) {
		struct http_request r;
		long n = http_parse_request(&hc->lim, hc->in, hc->in_len, &r);

		if (n == 0)
			return;
		++*h->c_requests;
		hc->bytes = 0;
		hc->body_left = 0;
		hc->head_us = h->latency ? h->api->now_us(h->host) : 0;
		if (n < 0) {
			/* What follows cannot be framed: answer, close. */
			hc->minor = 1;
			respond_fatal(hc, (int)-n);
			hc->in_len = 0;
			start_send(hc);
			pump(hc);
			return;
		}
		log_escape(hc->method, sizeof(hc->method), r.method_name.p,
			   r.method_name.len);
		log_escape(hc->target, sizeof(hc->target), r.target.p,
			   r.target.len);
		hc->minor = r.minor;
		hc->referer[0] = hc->user_agent[0] = '\0';
		if (h->conf.log_combined) {
			log_escape_sp(hc->referer, sizeof(hc->referer),
				      r.referer.p, r.referer.len, true);
			log_escape_sp(hc->user_agent, sizeof(hc->user_agent),
				      r.user_agent.p, r.user_agent.len, true);
		}
		hc->close_after = !r.keep_alive;
		handle(hc, &r);
		/* The head is done with: drop it, then what of the body is
		 * already here. */
		memmove(hc->in, hc->in + n, hc->in_len - (size_t)n);
		hc->in_len -= (size_t)n;
		if (r.has_cl) {
			uint64_t take = r.content_length < hc->in_len
					    ? r.content_length
					    : hc->in_len;

			memmove(hc->in, hc->in + take, hc->in_len - take);
			hc->in_len -= (size_t)take;
			hc->body_left = r.content_length - take;
		}
		if (hc->body_left) {
			/* One deadline for the whole body: bytes dripped
			 * into it do not extend it. */
			hc->st = C_BODY;
			arm(hc, h->conf.header_timeout_ms);
			return;
		}
		start_send(hc);
		pump(hc);
	}
}

/* The connection can read again: answer what is buffered, then let TCP
 * deliver what it held back.  Called from writable() only. */
static void resume(struct hconn *hc)
{
	process(hc);
	if ((hc->st == C_READ || hc->st == C_LINGER) && hc->in_blocked) {
		hc->in_blocked = false;
		hc->h->api->tcp_recv_resume(hc->c); /* last: may recurse */
	}
}

static size_t on_recv(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		      size_t len)
{
	struct hconn *hc = ctx;
	struct http *h = hc->h;
	size_t took = 0;

	(void)c;
	while (took < len) {
		switch (hc->st) {
		case C_LINGER:
			return len;
		case C_SEND:
			hc->in_blocked = true;
			return took;
		case C_BODY: {
			uint64_t n = len - took < hc->body_left ? len - took
								: hc->body_left;

			hc->body_left -= n;
			took += (size_t)n;
			if (!hc->body_left) {
				start_send(hc);
				if (pump(hc))
					process(hc);
			}
			break;
		}
		case C_READ: {
			size_t n = hc->in_cap - hc->in_len;

			if (n > len - took)
				n = len - took;
			if (!hc->in_len) { /* a request starts: its deadline */
				hc->start_ms = h->api->now_ms(h->host);
				arm(hc, h->conf.header_timeout_ms);
			}
			memcpy(hc->in + hc->in_len, data + took, n);
			hc->in_len += n;
			took += n;
			process(hc);
			if (hc->st == C_READ && hc->in_len == hc->in_cap) {
				/* Cannot happen: the parser refuses a head
				 * before the buffer fills. */
				hc->in_blocked = true;
				return took;
			}
			break;
		}
		}
	}
	return took;
}

static void on_writable(void *ctx, struct tapir_tcp *c)
{
	struct hconn *hc = ctx;

	(void)c;
	if (hc->st != C_SEND)
		return;
	if (pump(hc)) {
		resume(hc);
		return;
	}
	/* Progress earns more time only in steps of SEND_PROGRESS, so a
	 * reader taking a few bytes at a time cannot hold us forever. */
	if (hc->bytes - hc->armed_bytes >= SEND_PROGRESS) {
		hc->armed_bytes = hc->bytes;
		arm(hc, hc->h->conf.send_timeout_ms);
	}
}

static void on_peer_closed(void *ctx, struct tapir_tcp *c)
{
	struct hconn *hc = ctx;

	(void)c;
	hc->peer_done = true;
	switch (hc->st) {
	case C_READ:
	case C_BODY:
	case C_LINGER:
		/* Nothing more to read or answer. */
		conn_close(hc, false);
		return;
	case C_SEND:
		hc->close_after = true; /* finish the response, then close */
		return;
	}
}

static void on_closed(void *ctx, struct tapir_tcp *c, int err)
{
	(void)c;
	(void)err;
	conn_free(ctx);
}

static void on_timer(void *arg)
{
	struct hconn *hc = arg;
	struct http *h = hc->h;

	switch (hc->st) {
	case C_READ:
		if (!hc->in_len) { /* idle keep-alive: close quietly */
			conn_close(hc, false);
			return;
		}
		/* A head that did not arrive in time (slowloris). */
		++*h->c_timeouts;
		respond_fatal(hc, 408);
		hc->in_len = 0;
		start_send(hc);
		if (pump(hc))
			resume(hc);
		return;
	case C_BODY:
	case C_SEND: /* a body that stopped, a reader that stopped */
		++*h->c_timeouts; /* logged with the response's status */
		access_log(hc);
		conn_close(hc, true);
		return;
	case C_LINGER:
		conn_close(hc, false);
		return;
	}
}

static void *on_accepted(void *arg, struct tapir_tcp *c)
{
	struct http *h = arg;
	struct hconn *hc;

	if (h->nconns >= h->conf.max_conns) {
		++*h->c_refused;
		return NULL; /* reset */
	}
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return NULL;
	hc->h = h;
	hc->c = c;
	hc->fd = -1;
	if (TAPIR_HOST_HAS(h->api, tls_info)) {
		struct tapir_tls_info ti;

		hc->tls = h->api->tls_info(c, &ti) == 0;
	}
	hc->lim = h->conf.lim;
	/* The parser refuses a request line or field block over the limits
	 * before this fills (the +4 covers their line ends). */
	hc->in_cap = hc->lim.max_line + hc->lim.max_header_bytes + 4;
	hc->in = malloc(hc->in_cap);
	hc->t = h->api->timer_new(h->host, on_timer, hc);
	if (!hc->in || !hc->t) {
		if (hc->t)
			h->api->timer_free(hc->t);
		free(hc->in);
		free(hc);
		return NULL;
	}
	h->api->tcp_peer(c, &hc->peer, &hc->peer_port);
	/* Responses are written whole; no reason to wait for an ACK. */
	h->api->tcp_set_nodelay(c, true);
	hc->next = h->conns;
	if (h->conns)
		h->conns->prev = hc;
	h->conns = hc;
	h->nconns++;
	hc->st = C_READ;
	hc->start_ms = h->api->now_ms(h->host);
	arm(hc, h->conf.header_timeout_ms);
	return hc;
}

static const struct tapir_tcp_handlers handlers = {
    .accepted = on_accepted,
    .recv = on_recv,
    .writable = on_writable,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
};

/* ---- Lifecycle ---------------------------------------------------------- */

/* Open the access log named by c (-1 for the daemon log or none). */
static int open_log(struct http *h, const struct http_conf *c, int *fd)
{
	*fd = -1;
	if (c->access_log[0] != '/')
		return 0;
	*fd = open(c->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		   0640);
	if (*fd < 0) {
		h->api->log(h->host, TAPIR_LOG_ERR, "access log %s: %s",
			    c->access_log, strerror(errno));
		return -1;
	}
	return 0;
}

/* Server: "tapir/" and the running tapird's version (host API 3); just
 * "tapir" from a tapird too old to say, or with a version that is not one
 * plain token. */
static void server_field(struct http *h)
{
	const char *v = TAPIR_HOST_HAS(h->api, tapird_version)
				? h->api->tapird_version(h->host)
				: NULL;
	size_t n = v ? strlen(v) : 0;

	snprintf(h->server, sizeof(h->server), "tapir");
	if (!n || n > sizeof(h->server) - sizeof("tapir/"))
		return;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] >= '0' && v[i] <= '9') &&
		    !(v[i] >= 'a' && v[i] <= 'z') &&
		    !(v[i] >= 'A' && v[i] <= 'Z') && !strchr("-._+~", v[i]))
			return;
	snprintf(h->server, sizeof(h->server), "tapir/%s", v);
}

/* The HTTPS listener at start: tapird's TLS layer (host API 5) in front of
 * the same handlers. */
static int set_tls(struct http *h, const struct http_settings *set)
{
	if (!set->tls)
		return 0;
	if (!TAPIR_HOST_HAS(h->api, tcp_listen_tls)) {
		h->api->log(h->host, TAPIR_LOG_ERR,
			    "tls needs a tapird with host API 5");
		return -1;
	}
	h->tls_l = h->api->tcp_listen_tls(h->host, set->tls_port, set->tls,
					  "http/1.1", &handlers, h);
	if (!h->tls_l) {
		h->api->log(h->host, TAPIR_LOG_ERR,
			    "cannot listen for HTTPS on TCP port %u: %s",
			    set->tls_port, strerror(errno));
		return -1;
	}
	return 0;
}

/* On reconfigure, before anything old is let go: the same port gets the
 * new TLS settings (new connections only), a new port a new listener; a
 * removed tls section ends the HTTPS listener. */
static int reconf_tls(struct http *h, const struct http_settings *set,
		      const struct http_conf *c)
{
	struct tapir_tcp_listener *old = h->tls_l;

	if (!set->tls) {
		if (old)
			h->api->tcp_unlisten(old);
		h->tls_l = NULL;
		return 0;
	}
	if (old && c->tls_port == h->conf.tls_port)
		return h->api->tls_update(old, set->tls) < 0 ? -1 : 0;
	h->tls_l = NULL;
	if (set_tls(h, set) < 0) {
		h->tls_l = old;
		return -1;
	}
	if (old)
		h->api->tcp_unlisten(old);
	return 0;
}

static void *http_init(struct tapir_host *host,
		       const struct tapir_host_api *api,
		       const void *conf)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->host = host;
	h->api = api;
	h->root_fd = -1;
	h->log_fd = -1;
	server_field(h);
	if (read_conf(NULL, conf, &h->conf) < 0) {
		free(h);
		return NULL;
	}
	h->c_requests = api->counter(host, "requests");
	h->c_refused = api->counter(host, "connections_refused");
	h->c_bytes = api->counter(host, "bytes_sent");
	h->c_errors = api->counter(host, "bad_requests");
	h->c_timeouts = api->counter(host, "timeouts");
	h->c_cache_hits = api->counter(host, "cache_hits");
	h->c_report_denied = api->counter(host, "status_denied");
	if (TAPIR_HOST_HAS(api, histogram) && TAPIR_HOST_HAS(api, now_us))
		h->latency = api->histogram(
			host, "response_duration",
			"HTTP responses: from the request head complete to the "
			"response queued in full, in seconds.");
	h->scratch = malloc(SCRATCH_SIZE);
	if (!h->c_requests || !h->c_refused || !h->c_bytes || !h->c_errors ||
	    !h->c_timeouts || !h->c_cache_hits || !h->c_report_denied ||
	    !h->scratch ||
	    open_log(h, &h->conf, &h->log_fd) < 0)
		goto fail;
	h->l = api->tcp_listen(host, h->conf.port, &handlers, h);
	if (!h->l) {
		api->log(host, TAPIR_LOG_ERR,
			 "cannot listen on TCP port %u: %s", h->conf.port,
			 strerror(errno));
		goto fail;
	}
	if (set_tls(h, conf) < 0)
		goto fail;
	root_open_or_explain(h);
	return h;
fail:
	if (h->l)
		api->tcp_unlisten(h->l);
	if (h->log_fd >= 0)
		close(h->log_fd);
	free(h->scratch);
	conf_free(&h->conf);
	free(h);
	return NULL;
}

/* New settings all or nothing: the new port is listened on and the new
 * log opened before anything old is let go.  Open connections keep the
 * limits they started with. */
static int http_reconfigure(void *state, const void *conf)
{
	struct http *h = state;
	struct http_conf c;
	struct tapir_tcp_listener *l = NULL;
	int log_fd;

	if (read_conf(NULL, conf, &c) < 0)
		return -1;
	if (open_log(h, &c, &log_fd) < 0) {
		conf_free(&c);
		return -1;
	}
	if (reconf_tls(h, conf, &c) < 0) {
		if (log_fd >= 0)
			close(log_fd);
		conf_free(&c);
		return -1;
	}
	if (c.port != h->conf.port) {
		l = h->api->tcp_listen(h->host, c.port, &handlers, h);
		if (!l) {
			h->api->log(h->host, TAPIR_LOG_ERR,
				    "cannot listen on TCP port %u: %s", c.port,
				    strerror(errno));
			if (log_fd >= 0)
				close(log_fd);
			conf_free(&c);
			return -1;
		}
		h->api->tcp_unlisten(h->l); /* resets its connections */
		h->l = l;
	}
	if (h->log_fd >= 0)
		close(h->log_fd);
	h->log_fd = log_fd;
	if (strcmp(c.root, h->conf.root)) {
		if (h->root_fd >= 0)
			close(h->root_fd);
		h->root_fd = -1;
		h->root_tried_ms = 0;
	}
	cache_flush(h);
	conf_free(&h->conf);
	h->conf = c;
	if (h->root_fd < 0)
		root_open_or_explain(h);
	return 0;
}

static void http_fini(void *state)
{
	struct http *h = state;

	h->api->tcp_unlisten(h->l); /* closed() frees each connection */
	if (h->tls_l)
		h->api->tcp_unlisten(h->tls_l);
	while (h->conns)	    /* none should be left; never leak one */
		conn_close(h->conns, true);
	cache_flush(h);
	if (h->root_fd >= 0)
		close(h->root_fd);
	if (h->log_fd >= 0)
		close(h->log_fd);
	free(h->scratch);
	conf_free(&h->conf);
	free(h);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
    TAPIR_MODULE_HEAD,
    .name = "http",
    .description = "HTTP/1.1 static files (RFC 9110, 9112)",
    .settings = settings,
    .settings_size = sizeof(struct http_settings),
    .check = http_check,
    .init = http_init,
    .reconfigure = http_reconfigure,
    .fini = http_fini,
    /* Every reload reopens the access log (logrotate's SIGHUP). */
    .flags = TAPIR_MODF_RECONFIGURE_ALWAYS,
};
