/*
 * HTTP/1.1 request head parser (RFC 9112 2-7, RFC 9110 5).
 *
 * Strict where leniency lets two parties read one message two ways
 * (request smuggling): one SP between the parts of the request line, no
 * whitespace before a field's colon, no obs-fold, no bare CR, one valid
 * Content-Length, never Content-Length with Transfer-Encoding.  A bare LF
 * ends a line (RFC 9112 2.2 allows it).  The head is parsed line by line
 * over what has arrived, so an error in a complete line is reported at
 * once and a slow head is only waited for while it is within the limits.
 */
#include <string.h>

#include <tapir/text.h>

#include "http_proto.h"

/* tchar of RFC 9110 5.6.2. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP and HTAB (RFC 9110 5.5); obs-text is allowed. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool str_ieq(struct http_str s, const char *lit)
{
	return tapir_ieq_str(s.p, s.len, lit);
}

/* The next line at buf[pos..len): its length without the terminator
 * (CRLF or LF) in *line_len; returns the offset after the terminator, or
 * 0 when no LF has arrived within [pos, pos + limit]. */
static size_t next_line(const char *buf, size_t len, size_t pos, size_t limit,
			size_t *line_len)
{
	size_t end = len - pos > limit + 2 ? pos + limit + 2 : len;
	const char *lf = memchr(buf + pos, '\n', end - pos);
	size_t n;

	if (!lf)
		return 0;
	n = (size_t)(lf - (buf + pos));
	*line_len = n && buf[pos + n - 1] == '\r' ? n - 1 : n;
	return pos + n + 1;
}

static const char *const other_methods[] = {
    "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", NULL};

/* Request line (RFC 9112 3): method SP request-target SP HTTP-version. */
static long parse_request_line(const char *l, size_t n, struct http_request *r)
{
	const char *sp1 = memchr(l, ' ', n), *sp2;
	size_t i;

	if (!sp1 || sp1 == l)
		return -400;
	r->method_name.p = l;
	r->method_name.len = (size_t)(sp1 - l);
	for (i = 0; i < r->method_name.len; i++)
		if (!is_tchar((unsigned char)l[i]))
			return -400;
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
	if (!sp2 || sp2 == sp1 + 1)
		return -400;
	r->target.p = sp1 + 1;
	r->target.len = (size_t)(sp2 - sp1 - 1);
	for (i = 0; i < r->target.len; i++) {
		unsigned char c = (unsigned char)r->target.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return -400;
	}
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. */
	{
		const char *v = sp2 + 1;
		size_t vlen = n - (size_t)(v - l);

		if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
		    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
			return -400;
		if (v[5] != '1')
			return -505;
		r->minor = v[7] == '0' ? 0 : 1;
	}
	if (r->method_name.len == 3 && !memcmp(l, "GET", 3)) {
		r->method = HTTP_GET;
	} else if (r->method_name.len == 4 && !memcmp(l, "HEAD", 4)) {
		r->method = HTTP_HEAD;
	} else {
		for (i = 0; other_methods[i]; i++)
			if (r->method_name.len == strlen(other_methods[i]) &&
			    !memcmp(l, other_methods[i], r->method_name.len))
				break;
		if (!other_methods[i])
			return -501;
		r->method = HTTP_OTHER;
	}
	return 0;
}

/* Content-Length = 1*DIGIT, at most 19 digits (fits uint64_t). */
static long parse_content_length(struct http_str v, uint64_t *out)
{
	return tapir_dec_parse(v.p, v.len, 19, UINT64_MAX, out) ? 0 : -400;
}

/* Walk a comma-separated list of tokens (Connection, Transfer-Encoding):
 * calls fn for each element with OWS trimmed; empty elements skipped. */
static long each_token(struct http_str v, long (*fn)(struct http_str, void *),
		       void *arg)
{
	size_t i = 0;

	while (i <= v.len) {
		size_t s = i, e;
		long rc;

		while (i < v.len && v.p[i] != ',')
			i++;
		e = i;
		while (s < e && (v.p[s] == ' ' || v.p[s] == '\t'))
			s++;
		while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
			e--;
		if (e > s) {
			rc = fn((struct http_str){v.p + s, e - s}, arg);
			if (rc)
				return rc;
		}
		i++;
	}
	return 0;
}

struct conn_opts {
	bool close, keep_alive;
};

static long connection_token(struct http_str t, void *arg)
{
	struct conn_opts *o = arg;

	if (str_ieq(t, "close"))
		o->close = true;
	else if (str_ieq(t, "keep-alive"))
		o->keep_alive = true;
	return 0;
}

struct te_state {
	bool any, chunked_last, unknown;
};

/* Transfer codings: we know chunked only (and it must come last). */
static long te_token(struct http_str t, void *arg)
{
	struct te_state *s = arg;

	s->any = true;
	if (s->chunked_last) /* chunked applied twice, or not last */
		s->unknown = true;
	if (str_ieq(t, "chunked"))
		s->chunked_last = true;
	else
		s->unknown = true;
	return 0;
}

struct head_state {
	struct conn_opts conn;
	struct te_state te;
	bool host_seen;
};

/* One field line; validates it and records what we use. */
static long parse_field(const char *l, size_t n, struct http_request *r,
			struct head_state *st)
{
	const char *colon;
	struct http_str name, v;
	size_t i;

	if (l[0] == ' ' || l[0] == '\t')
		return -400; /* obs-fold (RFC 9112 5.2) */
	colon = memchr(l, ':', n);
	if (!colon || colon == l)
		return -400;
	name = (struct http_str){l, (size_t)(colon - l)};
	for (i = 0; i < name.len; i++)
		if (!is_tchar((unsigned char)l[i]))
			return -400; /* includes whitespace before ':' */
	v.p = colon + 1;
	v.len = n - name.len - 1;
	for (i = 0; i < v.len; i++)
		if (!is_field_char((unsigned char)v.p[i]))
			return -400;
	while (v.len && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.len--;
	}
	while (v.len && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		v.len--;

	if (str_ieq(name, "host")) {
		if (st->host_seen)
			return -400;
		st->host_seen = true;
		r->host = v;
	} else if (str_ieq(name, "content-length")) {
		if (r->has_cl)
			return -400;
		r->has_cl = true;
		return parse_content_length(v, &r->content_length);
	} else if (str_ieq(name, "transfer-encoding")) {
		return each_token(v, te_token, &st->te);
	} else if (str_ieq(name, "connection")) {
		return each_token(v, connection_token, &st->conn);
	} else if (str_ieq(name, "if-none-match")) {
		if (!r->if_none_match.p)
			r->if_none_match = v;
	} else if (str_ieq(name, "if-modified-since")) {
		if (!r->if_modified_since.p)
			r->if_modified_since = v;
	} else if (str_ieq(name, "range")) {
		if (r->range.p)
			return -400; /* two Range fields: no one meaning */
		r->range = v;
	} else if (str_ieq(name, "if-range")) {
		if (!r->if_range.p)
			r->if_range = v;
	}
	return 0;
}

/* Message framing and connection options, once the head is complete. */
static long finish_head(const struct http_limits *lim, struct http_request *r,
			const struct head_state *st)
{
	if (r->minor >= 1 && !st->host_seen)
		return -400; /* RFC 9112 3.2 */
	if (st->te.any) {
		if (r->has_cl)
			return -400; /* RFC 9112 6.1: smuggling */
		if (r->minor == 0)
			return -400; /* faulty framing in HTTP/1.0 */
		if (st->te.unknown)
			return -501;
		r->chunked = true;
	}
	if (r->has_cl && r->content_length > lim->max_body)
		return -413;
	if (st->conn.close)
		r->keep_alive = false;
	else
		r->keep_alive = r->minor >= 1 || st->conn.keep_alive;
	if (r->chunked)
		r->keep_alive = false;
	return 0;
}

long http_parse_request(const struct http_limits *lim, const char *buf,
			size_t len, struct http_request *req)
{
	size_t pos = 0, next, n, hdr_start;
	unsigned count = 0;
	struct head_state st;
	long rc;

	memset(req, 0, sizeof(*req));
	memset(&st, 0, sizeof(st));
	/* Empty lines before the request line (RFC 9112 2.2). */
	while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n')) {
		if (buf[pos] == '\r' &&
		    (pos + 1 >= len || buf[pos + 1] != '\n'))
			break;
		pos += buf[pos] == '\r' ? 2 : 1;
	}
	if (pos > lim->max_line)
		return -400;
	next = next_line(buf, len, pos, lim->max_line - pos, &n);
	if (!next)
		return len - pos > lim->max_line - pos + 1 ? -414 : 0;
	if (n > lim->max_line - pos)
		return -414;
	if (memchr(buf + pos, '\r', n))
		return -400; /* bare CR */
	rc = parse_request_line(buf + pos, n, req);
	if (rc)
		return rc;
	pos = hdr_start = next;
	for (;;) {
		size_t room = lim->max_header_bytes - (pos - hdr_start);

		next = next_line(buf, len, pos, room, &n);
		if (!next)
			return len - pos > room + 1 ? -431 : 0;
		if (n == 0)
			break;
		if (next - hdr_start > lim->max_header_bytes)
			return -431;
		if (++count > lim->max_headers)
			return -431;
		if (memchr(buf + pos, '\r', n))
			return -400;
		rc = parse_field(buf + pos, n, req, &st);
		if (rc)
			return rc;
		pos = next;
	}
	rc = finish_head(lim, req, &st);
	if (rc)
		return rc;
	req->head_len = next;
	return (long)next;
}
