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

#include <tapir/addr.h>
#include <tapir/bytes.h>
#include <tapir/text.h>

#include "http_proto.h"

/* tchar of RFC 9110 5.6.2. */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP and HTAB (RFC 9110 5.5); obs-text is allowed. */
static bool is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A byte of a request-target: visible ASCII (RFC 9112 3.2). */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* Is every byte of s one pred accepts? */
static bool all_of(struct tapir_cur s, bool (*pred)(uint8_t))
{
	tapir_cur_span(&s, pred);
	return tapir_cur_ok(&s) && s.len == 0;
}

/* Does b occur in s? */
static bool has_byte(struct tapir_cur s, uint8_t b)
{
	struct tapir_cur head;

	return tapir_cur_split(&s, b, &head);
}

/* s without leading and trailing OWS (SP / HTAB). */
static struct tapir_cur trim_ows(struct tapir_cur s)
{
	while (tapir_cur_eat(&s, ' ') || tapir_cur_eat(&s, '\t'))
		;
	while (tapir_cur_eat_last(&s, ' ') || tapir_cur_eat_last(&s, '\t'))
		;
	return s;
}

/* The part of the request buffer s views. */
static struct http_str to_str(struct tapir_cur s)
{
	return (struct http_str){(const char *)s.p, s.len};
}

static bool str_ieq(struct http_str s, const char *lit)
{
	return tapir_ieq_str(s.p, s.len, lit);
}

/* The next line of c, looking for its LF within limit + 2 bytes (the line,
 * CR and LF).  When found: the line without its terminator (CRLF or LF) in
 * *line, c moving past the terminator, and true.  Otherwise false and c
 * unchanged. */
static bool next_line(struct tapir_cur *c, size_t limit, struct tapir_cur *line)
{
	struct tapir_cur win = *c;

	if (win.len > limit + 2)
		tapir_cur_trim(&win, limit + 2);
	if (!tapir_cur_split(&win, '\n', line))
		return false;
	tapir_cur_skip(c, line->len + 1);
	tapir_cur_eat_last(line, '\r');
	return true;
}

static const char *const other_methods[] = {
    "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", NULL};

/* Request line (RFC 9112 3): method SP request-target SP HTTP-version. */
static long parse_request_line(struct tapir_cur l, struct http_request *r)
{
	struct tapir_cur m, t;
	const uint8_t *v;
	uint8_t major, dot, minor;
	size_t i;

	if (!tapir_cur_split(&l, ' ', &m) || m.len == 0)
		return -400;
	r->method_name = to_str(m);
	if (!all_of(m, is_tchar))
		return -400;
	if (!tapir_cur_split(&l, ' ', &t) || t.len == 0)
		return -400;
	r->target = to_str(t);
	if (!all_of(t, is_target_char))
		return -400;
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive; what is
	 * left of the line, all of it. */
	if (l.len != 8)
		return -400;
	v = tapir_cur_pull(&l, 5);
	major = tapir_cur_u8(&l);
	dot = tapir_cur_u8(&l);
	minor = tapir_cur_u8(&l);
	if (!tapir_cur_ok(&l) || memcmp(v, "HTTP/", 5) != 0 || dot != '.' ||
	    major < '0' || major > '9' || minor < '0' || minor > '9')
		return -400;
	if (major != '1')
		return -505;
	r->minor = minor == '0' ? 0 : 1;
	if (m.len == 3 && !memcmp(m.p, "GET", 3)) {
		r->method = HTTP_GET;
	} else if (m.len == 4 && !memcmp(m.p, "HEAD", 4)) {
		r->method = HTTP_HEAD;
	} else {
		for (i = 0; other_methods[i]; i++)
			if (m.len == strlen(other_methods[i]) &&
			    !memcmp(m.p, other_methods[i], m.len))
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
	struct tapir_cur c = tapir_cur(v.p, v.len), el;
	bool more;

	do {
		more = tapir_cur_split(&c, ',', &el);
		if (!more)
			el = c; /* the last element */
		el = trim_ows(el);
		if (el.len) {
			long rc = fn(to_str(el), arg);

			if (rc)
				return rc;
		}
	} while (more);
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

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* RFC 3986 2.3 unreserved and 2.2 sub-delims: a reg-name's characters,
 * besides percent-encodings. */
static bool is_regname_char(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || strchr("-._~!$&'()*+,;=", c);
}

/* Whether v is a Host field value RFC 9112 3.2 accepts: uri-host
 * [ ":" port ] (RFC 3986 3.2.2-3.2.3), or empty.  The uri-host is an
 * IP-literal ("[" IPv6address or IPvFuture "]"; an IPv6 zone, RFC 6874,
 * is never sent in Host), or a reg-name (which an IPv4address also is):
 * unreserved and sub-delims characters and percent-encodings.  The port
 * is digits, five at most.  "a/b" and "user@a" are not hosts. */
static bool host_valid(struct http_str v)
{
	size_t i = 0, n;

	if (v.len && v.p[0] == '[') {
		const char *end = memchr(v.p, ']', v.len);
		char lit[64];

		if (!end)
			return false;
		n = (size_t)(end - v.p) - 1;
		if (n == 0 || n >= sizeof(lit))
			return false;
		memcpy(lit, v.p + 1, n);
		lit[n] = '\0';
		if (lit[0] == 'v' || lit[0] == 'V') {
			/* IPvFuture: "v" 1*HEXDIG "." 1*( unreserved /
			 * sub-delims / ":" ) */
			size_t j = 1;

			while (j < n && is_hex((uint8_t)lit[j]))
				j++;
			if (j == 1 || j + 1 >= n || lit[j] != '.')
				return false;
			for (j++; j < n; j++)
				if (!is_regname_char((uint8_t)lit[j]) &&
				    lit[j] != ':')
					return false;
		} else {
			struct tapir_addr a;

			if (!strchr(lit, ':') || !tapir_addr_parse(lit, &a))
				return false;
		}
		i = n + 2;
	} else {
		while (i < v.len && v.p[i] != ':') {
			uint8_t c = (uint8_t)v.p[i];

			if (c == '%') {
				if (v.len - i < 3 || !is_hex((uint8_t)v.p[i + 1]) ||
				    !is_hex((uint8_t)v.p[i + 2]))
					return false;
				i += 3;
				continue;
			}
			if (!is_regname_char(c))
				return false;
			i++;
		}
	}
	if (i == v.len)
		return true;
	if (v.p[i] != ':' || v.len - i - 1 > 5)
		return false;
	for (i++; i < v.len; i++)
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
	return true;
}

struct head_state {
	struct conn_opts conn;
	struct te_state te;
	bool host_seen;
};

/* One field line (not empty); validates it and records what we use. */
static long parse_field(struct tapir_cur l, struct http_request *r,
			struct head_state *st)
{
	struct tapir_cur nc;
	struct http_str name, v;
	int first = tapir_cur_peek(&l);

	if (first == ' ' || first == '\t')
		return -400; /* obs-fold (RFC 9112 5.2) */
	if (!tapir_cur_split(&l, ':', &nc) || nc.len == 0)
		return -400;
	if (!all_of(nc, is_tchar))
		return -400; /* includes whitespace before ':' */
	name = to_str(nc);
	/* l is now the value, all of the rest of the line. */
	if (!all_of(l, is_field_char))
		return -400;
	v = to_str(trim_ows(l));

	if (str_ieq(name, "host")) {
		if (st->host_seen)
			return -400;
		st->host_seen = true;
		if (!host_valid(v))
			return -400; /* RFC 9112 3.2 */
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
	} else if (str_ieq(name, "referer")) {
		if (!r->referer.p)
			r->referer = v;
	} else if (str_ieq(name, "user-agent")) {
		if (!r->user_agent.p)
			r->user_agent = v;
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
	struct tapir_cur c = tapir_cur(buf, len), line;
	size_t pos, hdr_start;
	unsigned count = 0;
	struct head_state st;
	long rc;

	memset(req, 0, sizeof(*req));
	memset(&st, 0, sizeof(st));
	/* Empty lines before the request line (RFC 9112 2.2): LF or CRLF. */
	for (;;) {
		struct tapir_cur t = c;

		if (tapir_cur_eat(&t, '\n') ||
		    (tapir_cur_eat(&t, '\r') && tapir_cur_eat(&t, '\n')))
			c = t;
		else
			break;
	}
	pos = len - c.len; /* bytes read so far */
	if (pos > lim->max_line)
		return -400;
	if (!next_line(&c, lim->max_line - pos, &line))
		return c.len > lim->max_line - pos + 1 ? -414 : 0;
	if (line.len > lim->max_line - pos)
		return -414;
	if (has_byte(line, '\r'))
		return -400; /* bare CR */
	rc = parse_request_line(line, req);
	if (rc)
		return rc;
	hdr_start = len - c.len;
	for (;;) {
		size_t room = lim->max_header_bytes - (len - c.len - hdr_start);

		if (!next_line(&c, room, &line))
			return c.len > room + 1 ? -431 : 0;
		if (line.len == 0)
			break;
		if (len - c.len - hdr_start > lim->max_header_bytes)
			return -431;
		if (++count > lim->max_headers)
			return -431;
		if (has_byte(line, '\r'))
			return -400;
		rc = parse_field(line, req, &st);
		if (rc)
			return rc;
	}
	rc = finish_head(lim, req, &st);
	if (rc)
		return rc;
	req->head_len = len - c.len;
	return (long)req->head_len;
}
