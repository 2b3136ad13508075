/*
 * The HTTP/1.1 protocol pieces of the http module that need no network:
 * the request parser (RFC 9112), request-target normalisation, Range and
 * conditional-request evaluation (RFC 9110 13, 14), HTTP dates and the
 * MIME table.  Each is a pure function of its arguments, so unit tests and
 * the fuzz harness drive them directly.
 *
 * Parsing untrusted bytes: every function takes a pointer and a length and
 * reads them through a <tapir/bytes.h> cursor, so never outside them;
 * nothing here allocates.
 */
#ifndef TAPIR_HTTP_PROTO_H
#define TAPIR_HTTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of the request buffer (not NUL-terminated). */
struct http_str {
	const char *p;
	size_t len;
};

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER, /* a method we know but do not serve: 405 */
};

struct http_limits {
	size_t max_line;	 /* request line, without CRLF: else 414 */
	size_t max_header_bytes; /* header field lines together: else 431 */
	unsigned max_headers;	 /* header field lines: else 431 */
	uint64_t max_body;	 /* Content-Length above this: 413 */
};

struct http_request {
	enum http_method method;
	struct http_str method_name;
	struct http_str target;
	unsigned minor;	 /* HTTP/1.<minor>: 0 or 1 (1.x above 1 reads as 1) */
	bool keep_alive; /* the connection may carry another request */
	bool has_cl;
	uint64_t content_length;
	bool chunked; /* Transfer-Encoding: chunked; the body is not decoded,
			 so the connection closes after the response */
	struct http_str host;
	/* Empty (p == NULL) when the field is absent. */
	struct http_str if_none_match;
	struct http_str if_modified_since;
	struct http_str range;
	struct http_str if_range;
	/* For the access log's combined format (the first of each). */
	struct http_str referer;
	struct http_str user_agent;
	size_t head_len; /* bytes of the request head, final CRLF included */
};

/*
 * Parse the request head at the start of buf[0..len).
 * Returns the head's length (> 0) when it is complete and valid, with req
 * filled in (its strings point into buf); 0 when more bytes are needed and
 * none seen so far is wrong or over a limit; or minus an HTTP status code:
 * -400 malformed, -413 body over max_body, -414 request line too long,
 * -431 header fields over a limit, -501 unknown method or transfer coding,
 * -505 HTTP major version other than 1.  Empty lines before the request
 * line are skipped (RFC 9112 2.2) and count against max_line.
 */
long http_parse_request(const struct http_limits *lim, const char *buf,
			size_t len, struct http_request *req);

/*
 * Normalise an origin-form or absolute-form request-target into a path
 * below the document root: the query is dropped, %XX decoded exactly once,
 * empty and "." segments removed, ".." taken back one segment.  The result
 * in out (NUL-terminated) starts with '/', has no "//", "." or ".."
 * segments, and keeps a trailing '/' when the target named a directory.
 * Returns 0, -400 for a bad escape, an encoded '/', NUL or control byte, a
 * ".." above the root or a target that is not a path; -414 when out is too
 * small.
 */
int http_path_normalise(const char *target, size_t len, char *out,
			size_t outsz);

enum http_range_result {
	HTTP_RANGE_FULL,  /* no usable range: send the whole representation */
	HTTP_RANGE_PART,  /* one satisfiable range: 206 */
	HTTP_RANGE_UNSAT, /* no satisfiable range: 416 */
};

/*
 * Evaluate a Range field value against a representation of size bytes.
 * A syntactically invalid value, another unit, or several ranges of which
 * at least one is satisfiable give HTTP_RANGE_FULL (RFC 9110 14.2 allows
 * ignoring Range); one satisfiable range gives HTTP_RANGE_PART with
 * [*first, *last] inclusive; no satisfiable range gives HTTP_RANGE_UNSAT.
 */
enum http_range_result http_range_eval(const char *v, size_t len, uint64_t size,
				       uint64_t *first, uint64_t *last);

/* Weak comparison of etag against an If-None-Match list ("*" or
 * comma-separated entity tags, RFC 9110 13.1.2).  A malformed list
 * matches nothing. */
bool http_etag_list_match(const char *list, size_t len, const char *etag);

/* Parse an HTTP-date (IMF-fixdate, RFC 850 or asctime form, RFC 9110
 * 5.6.7) into seconds since the epoch.  Returns 0 or -1. */
int http_date_parse(const char *s, size_t len, int64_t *t);

/* Format t as IMF-fixdate into out (30 bytes with the NUL). */
#define HTTP_DATE_LEN 30
void http_date_format(int64_t t, char out[HTTP_DATE_LEN]);

/* What a GET or HEAD for a resource with this etag and modification time
 * gets: 304 (not modified) or 200 (send it), by If-None-Match, else
 * If-Modified-Since (RFC 9110 13.2.2). */
int http_conditional(const struct http_request *r, const char *etag,
		     int64_t mtime);

/* Whether If-Range lets the Range of r apply: true when r has no If-Range,
 * or it is a strong entity tag equal to etag, or a date equal to mtime. */
bool http_if_range_ok(const struct http_request *r, const char *etag,
		      int64_t mtime);

/* One MIME override: extension (without the dot) and type. */
struct http_mime {
	char *ext;
	char *type;
};

/* The MIME type for path by its extension (case-insensitive): the
 * overrides first, then the built-in table, else
 * "application/octet-stream". */
const char *http_mime_lookup(const struct http_mime *over, size_t n_over,
			     const char *path);

/* The reason phrase of a status code we send ("" if unknown). */
const char *http_reason(int status);

/* An address prefix of status_allow: IPv4 ones as IPv4-mapped IPv6 (so
 * 10.0.0.0/8 is held as ::ffff:10.0.0.0/104), len in 0..128. */
struct http_prefix {
	uint8_t a[16];
	unsigned len;
};

/* Parse "ADDRESS/LEN" (IPv4 LEN 0-32, IPv6 LEN 0-128) or a lone address
 * (a prefix of one address).  Bits past the length must be zero.
 * Returns 0 or -1. */
int http_prefix_parse(const char *s, struct http_prefix *p);

/* Whether the 16-byte address a (IPv4-mapped for IPv4) is in p. */
bool http_prefix_match(const struct http_prefix *p, const uint8_t a[16]);

/* http_tls.c: the Location redirecting r to HTTPS on tls_port
 * ("https://HOST[:PORT]TARGET") in out.  0, or -1 when the request has
 * no usable Host or target, or it does not fit. */
int http_https_location(const struct http_request *r, uint16_t tls_port,
			char *out, size_t cap);

#endif
