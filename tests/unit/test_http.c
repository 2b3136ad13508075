/* The http module's protocol pieces (src/modules/http/http_parse.c,
 * http_path.c, http_util.c): the request parser with a case for every
 * error status it returns, split and pipelined input, a table of path
 * traversal attempts, Range evaluation, conditional requests, HTTP dates
 * and the MIME table.  Every input is parsed from a heap copy of exactly
 * its length, so under ASan a read past the end fails the test. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/addr.h>

#include "http_proto.h"

static const struct http_limits lim = {
    .max_line = 256,
    .max_header_bytes = 512,
    .max_headers = 8,
    .max_body = 1000,
};

static char *copy;

/* Parse s (its first n bytes) from an exact-size heap copy. */
static long parse_n(const char *s, size_t n, struct http_request *r)
{
	free(copy);
	copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, n);
	return http_parse_request(&lim, copy, n, r);
}

static long parse(const char *s, struct http_request *r)
{
	return parse_n(s, strlen(s), r);
}

static void teardown(void)
{
	free(copy);
	copy = NULL;
}

static bool str_is(struct http_str s, const char *lit)
{
	return s.p && s.len == strlen(lit) && !memcmp(s.p, lit, s.len);
}

/* ---- Parser: valid requests --------------------------------------------- */

START_TEST(test_parse_simple_get)
{
	struct http_request r;
	const char *req = "GET /a/b?x=1 HTTP/1.1\r\nHost: lab\r\n"
			  "If-None-Match: \"x\"\r\nRange: bytes=0-9 \r\n\r\n";
	long n = parse(req, &r);

	ck_assert_int_eq(n, (long)strlen(req));
	ck_assert_int_eq(r.method, HTTP_GET);
	ck_assert(str_is(r.target, "/a/b?x=1"));
	ck_assert_uint_eq(r.minor, 1);
	ck_assert(r.keep_alive);
	ck_assert(str_is(r.host, "lab"));
	ck_assert(str_is(r.if_none_match, "\"x\""));
	ck_assert(str_is(r.range, "bytes=0-9")); /* OWS trimmed */
	ck_assert(!r.has_cl);
	ck_assert_ptr_null(r.referer.p);
	ck_assert_ptr_null(r.user_agent.p);
}
END_TEST

/* Referer and User-Agent, for the combined access log: the first of
 * each, trimmed, any case of the name. */
START_TEST(test_parse_referer_user_agent)
{
	struct http_request r;
	const char *req = "GET / HTTP/1.1\r\nHost: lab\r\n"
			  "referer:  http://a/b?c \r\n"
			  "USER-AGENT: tool/1.0 (x; y)\r\n"
			  "Referer: http://second/\r\n\r\n";

	ck_assert_int_eq(parse(req, &r), (long)strlen(req));
	ck_assert(str_is(r.referer, "http://a/b?c"));
	ck_assert(str_is(r.user_agent, "tool/1.0 (x; y)"));
}
END_TEST

START_TEST(test_parse_head_bare_lf_and_leading_crlf)
{
	struct http_request r;
	const char *req = "\r\n\nHEAD / HTTP/1.0\nConnection: keep-alive\n\n";

	ck_assert_int_eq(parse(req, &r), (long)strlen(req));
	ck_assert_int_eq(r.method, HTTP_HEAD);
	ck_assert_uint_eq(r.minor, 0);
	ck_assert(r.keep_alive);
}
END_TEST

START_TEST(test_parse_keep_alive_rules)
{
	struct http_request r;

	ck_assert_int_gt(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
	ck_assert(!r.keep_alive); /* 1.0 closes by default */
	ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: a\r\n"
			       "Connection: foo, Close\r\n\r\n",
			       &r),
			 0);
	ck_assert(!r.keep_alive);
	ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 0);
	ck_assert(r.keep_alive);
	/* HTTP/1.2 is read as 1.1 (RFC 9110 2.5). */
	ck_assert_int_gt(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &r), 0);
	ck_assert_uint_eq(r.minor, 1);
}
END_TEST

START_TEST(test_parse_content_length_and_405)
{
	struct http_request r;

	ck_assert_int_gt(parse("POST /f HTTP/1.1\r\nHost: a\r\n"
			       "Content-Length: 1000\r\n\r\n",
			       &r),
			 0);
	ck_assert_int_eq(r.method, HTTP_OTHER);
	ck_assert(r.has_cl);
	ck_assert_uint_eq(r.content_length, 1000);
	/* chunked last, but gzip is not a coding we decode. */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a\r\n"
			       "Transfer-Encoding: gzip, chunked\r\n\r\n",
			       &r),
			 -501);
}
END_TEST

START_TEST(test_parse_chunked_closes)
{
	struct http_request r;

	ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: a\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n",
			       &r),
			 0);
	ck_assert(r.chunked);
	ck_assert(!r.keep_alive);
}
END_TEST

/* ---- Parser: incomplete, split and pipelined input ---------------------- */

START_TEST(test_parse_every_split_is_incomplete)
{
	const char *req =
	    "GET /x HTTP/1.1\r\nHost: a\r\nRange: bytes=1-2\r\n\r\n";
	size_t len = strlen(req);
	struct http_request r;

	for (size_t i = 0; i < len; i++)
		ck_assert_msg(parse_n(req, i, &r) == 0,
			      "prefix of %zu bytes is not incomplete", i);
	ck_assert_int_eq(parse_n(req, len, &r), (long)len);
}
END_TEST

START_TEST(test_parse_pipelined)
{
	const char *two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_request r;
	long n = parse(two, &r);

	ck_assert_int_eq(n, 28);
	ck_assert(str_is(r.target, "/1"));
	ck_assert_int_eq(
	    http_parse_request(&lim, copy + n, strlen(two) - (size_t)n, &r),
	    29);
	ck_assert(str_is(r.target, "/2"));
	ck_assert_int_eq(r.method, HTTP_HEAD);
}
END_TEST

/* ---- Parser: every error status ----------------------------------------- */

static const struct {
	const char *req;
	long want;
	const char *why;
} bad[] = {
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", -400, "two spaces"},
    {"GET /\r\n\r\n", -400, "HTTP/0.9 line"},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", -400, "trailing space"},
    {"GET / http/1.1\r\nHost: a\r\n\r\n", -400, "lower-case version"},
    {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", -400, "three-digit version"},
    {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", -400, "method not a token"},
    {"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", -400, "control in target"},
    {"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", -400, "raw UTF-8 target"},
    {"GET / HTTP/1.1\rHost: a\r\n\r\n", -400, "bare CR"},
    {"GET / HTTP/1.1\r\n\r\n", -400, "1.1 without Host"},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400, "two Hosts"},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400, "space before colon"},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", -400, "obs-fold"},
    {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", -400, "no colon"},
    {"GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", -400, "empty name"},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", -400, "DEL in value"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
     "Transfer-Encoding: chunked\r\n\r\n",
     -400, "CL and TE"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
     "Content-Length: 5\r\n\r\n",
     -400, "duplicate Content-Length"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", -400,
     "list Content-Length"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", -400,
     "negative Content-Length"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999"
     "\r\n\r\n",
     -400, "Content-Length overflow"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", -400,
     "empty Content-Length"},
    {"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400,
     "TE in HTTP/1.0"},
    {"GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=2-3"
     "\r\n\r\n",
     -400, "two Range fields"},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", -413,
     "body over max_body"},
    {"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", -501, "unknown method"},
    {"get / HTTP/1.1\r\nHost: a\r\n\r\n", -501, "methods are case-sensitive"},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", -501,
     "unknown transfer coding"},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     -501, "chunked not last"},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", -505, "HTTP/2.0"},
    {"GET / HTTP/0.9\r\n\r\n", -505, "HTTP/0.9 with a version"},
};

START_TEST(test_parse_errors)
{
	struct http_request r;
	long got = parse(bad[_i].req, &r);

	ck_assert_msg(got == bad[_i].want, "%s: got %ld, want %ld", bad[_i].why,
		      got, bad[_i].want);
}
END_TEST

/* RFC 9112 3.2: Host is uri-host [ ":" port ] (RFC 3986), or empty;
 * anything else is a 400. */
static const struct {
	const char *host;
	bool ok;
} hosts[] = {
	{"lab", true},
	{"www.lab.test:8080", true},
	{"10.0.0.2", true},
	{"10.0.0.2:80", true},
	{"[fd00::2]", true},
	{"[fd00::2]:80", true},
	{"[::ffff:10.0.0.2]", true},
	{"[v1.fe80::a+en1]", true},
	{"ex%41mple", true},
	{"a-b_c~d!$&'()*+,;=", true},
	{"lab:", true},
	{"", true},
	{"a/b", false},
	{"user@a", false},
	{"a b", false},
	{"a?b", false},
	{"a#b", false},
	{"ex%4", false},
	{"ex%zz", false},
	{"lab:80a", false},
	{"lab:123456", false},
	{"lab:80:81", false},
	{"[fd00::2", false},
	{"fd00::2", false},
	{"[fd00::2]x", false},
	{"[fe80::1%25eth0]", false},
	{"[10.0.0.2]", false},
	{"[]", false},
	{"[v1.]", false},
	{"\"lab\"", false},
};

START_TEST(test_parse_host_grammar)
{
	struct http_request r;
	char req[128];
	long got;

	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
		 hosts[_i].host);
	got = parse(req, &r);
	if (hosts[_i].ok)
		ck_assert_msg(got > 0, "Host: %s refused (%ld)", hosts[_i].host,
			      got);
	else
		ck_assert_msg(got == -400, "Host: %s gave %ld, not 400",
			      hosts[_i].host, got);
}
END_TEST

START_TEST(test_parse_errors_before_head_ends)
{
	struct http_request r;

	/* A bad complete line is reported without waiting for the rest. */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n", &r),
			 -400);
	ck_assert_int_eq(parse("BREW / HTTP/1.1\r\n", &r), -501);
}
END_TEST

START_TEST(test_parse_414_request_line)
{
	struct http_request r;
	char buf[600];

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	/* No line end in sight past the limit: 414 at once. */
	ck_assert_int_eq(parse_n(buf, 300, &r), -414);
	/* At the limit, still waiting. */
	ck_assert_int_eq(parse_n(buf, 256, &r), 0);
	/* A complete line one byte over. */
	memcpy(buf + 257 - 9, " HTTP/1.1\r\n", 11);
	ck_assert_int_eq(parse_n(buf, 257 + 2, &r), -414);
	memcpy(buf + 256 - 9, " HTTP/1.1\r\nHost: a\r\n\r\n", 22);
	ck_assert_int_gt(parse_n(buf, 256 + 2 + 11, &r), 0);
}
END_TEST

START_TEST(test_parse_431_header_bytes_and_count)
{
	struct http_request r;
	char buf[2048];
	size_t o;

	/* Nine fields: one over max_headers. */
	o = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 8; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "X-%d: v\r\n",
				      i);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\r\n");
	ck_assert_int_eq(parse_n(buf, o, &r), -431);
	/* One field longer than max_header_bytes, complete or not. */
	o = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: ");
	memset(buf + o, 'v', 600);
	ck_assert_int_eq(parse_n(buf, o + 600, &r), -431);
	memcpy(buf + o + 600, "\r\n\r\n", 4);
	ck_assert_int_eq(parse_n(buf, o + 604, &r), -431);
}
END_TEST

/* ---- Path normalisation ------------------------------------------------- */

static const struct {
	const char *target, *want; /* want NULL: refused with 400 */
} paths[] = {
    {"/", "/"},
    {"/index.html", "/index.html"},
    {"/a/b/", "/a/b/"},
    {"/a//b", "/a/b"},
    {"/a/./b", "/a/b"},
    {"/a/b/..", "/a/"},
    {"/a/b/../c", "/a/c"},
    {"/a/%62", "/a/b"},
    {"/a%20b", "/a b"},
    {"/a?x=/../../etc", "/a"},
    {"/%2e/x", "/x"},
    {"/a/%2e%2e/x", "/x"},
    {"http://lab/x/y", "/x/y"},
    {"HTTP://lab", "/"},
    {"/%252e%252e/x", "/%2e%2e/x"}, /* decoded once only */
    {"/..", NULL},
    {"/../etc/passwd", NULL},
    {"/a/../../etc/passwd", NULL},
    {"/%2e%2e/etc/passwd", NULL},
    {"/%2E%2E/%2E%2E/etc/passwd", NULL},
    {"/a/%2e%2e/%2e%2e/x", NULL},
    {"/..%2fetc%2fpasswd", NULL},
    {"/a%2f..%2f..%2fx", NULL},
    {"/%5c..%5c", NULL},
    {"/a%00.html", NULL},
    {"/a%0a", NULL},
    {"/%zz", NULL},
    {"/%2", NULL},
    {"relative/path", NULL},
    {"*", NULL},
    {"", NULL},
    {"http://lab/../x", NULL},
};

START_TEST(test_path_table)
{
	char out[128];
	const char *t = paths[_i].target;
	int rc = http_path_normalise(t, strlen(t), out, sizeof(out));

	if (paths[_i].want) {
		ck_assert_msg(rc == 0, "%s: refused (%d)", t, rc);
		ck_assert_str_eq(out, paths[_i].want);
	} else {
		ck_assert_msg(rc == -400, "%s: got %d (%s)", t, rc,
			      rc ? "" : out);
	}
}
END_TEST

START_TEST(test_path_too_long)
{
	char out[8];

	ck_assert_int_eq(http_path_normalise("/abcdefgh", 9, out, sizeof(out)),
			 -414);
	ck_assert_int_eq(http_path_normalise("/abcdef", 7, out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "/abcdef");
}
END_TEST

/* ---- Range -------------------------------------------------------------- */

static const struct {
	const char *v;
	uint64_t size;
	enum http_range_result want;
	uint64_t first, last;
} ranges[] = {
    {"bytes=0-99", 1000, HTTP_RANGE_PART, 0, 99},
    {"bytes=0-0", 1000, HTTP_RANGE_PART, 0, 0},
    {"bytes=990-", 1000, HTTP_RANGE_PART, 990, 999},
    {"bytes=-10", 1000, HTTP_RANGE_PART, 990, 999},
    {"bytes=-5000", 1000, HTTP_RANGE_PART, 0, 999},
    {"bytes=500-5000", 1000, HTTP_RANGE_PART, 500, 999},
    {"BYTES=1-2", 1000, HTTP_RANGE_PART, 1, 2},
    {"bytes= 1-2 ,", 1000, HTTP_RANGE_PART, 1, 2},
    {"bytes=1000-", 1000, HTTP_RANGE_UNSAT, 0, 0},
    {"bytes=1000-2000", 1000, HTTP_RANGE_UNSAT, 0, 0},
    {"bytes=-0", 1000, HTTP_RANGE_UNSAT, 0, 0},
    {"bytes=0-0", 0, HTTP_RANGE_UNSAT, 0, 0},
    {"bytes=-1", 0, HTTP_RANGE_UNSAT, 0, 0},
    {"bytes=2000-,3000-", 1000, HTTP_RANGE_UNSAT, 0, 0},
    {"bytes=0-1,5-6", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=0-1,2000-", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=5-1", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=a-1", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=1", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=,", 1000, HTTP_RANGE_FULL, 0, 0},
    {"items=0-1", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=99999999999999999999-", 1000, HTTP_RANGE_FULL, 0, 0},
    {"bytes=0-1,x", 1000, HTTP_RANGE_FULL, 0, 0},
};

START_TEST(test_range_table)
{
	uint64_t f = 77, l = 77;
	const char *v = ranges[_i].v;
	char *c = malloc(strlen(v) + 1);
	enum http_range_result got;

	ck_assert_ptr_nonnull(c);
	memcpy(c, v, strlen(v));
	got = http_range_eval(c, strlen(v), ranges[_i].size, &f, &l);
	free(c);
	ck_assert_msg(got == ranges[_i].want, "%s: got %d want %d", v, got,
		      ranges[_i].want);
	if (got == HTTP_RANGE_PART) {
		ck_assert_uint_eq(f, ranges[_i].first);
		ck_assert_uint_eq(l, ranges[_i].last);
	}
}
END_TEST

/* ---- Conditionals and dates --------------------------------------------- */

static struct http_str s_of(const char *s)
{
	return (struct http_str){s, strlen(s)};
}

START_TEST(test_etag_lists)
{
	const char *e = "\"abc\"";

	ck_assert(http_etag_list_match("\"abc\"", 5, e));
	ck_assert(http_etag_list_match("W/\"abc\"", 7, e)); /* weak compare */
	ck_assert(http_etag_list_match("\"x\", \"abc\"", 10, e));
	ck_assert(http_etag_list_match(" * ", 3, e));
	ck_assert(!http_etag_list_match("\"abd\"", 5, e));
	ck_assert(!http_etag_list_match("abc", 3, e));
	ck_assert(!http_etag_list_match("\"abc", 4, e));
	ck_assert(!http_etag_list_match("*, \"abc\"", 8, e));
	ck_assert(!http_etag_list_match("", 0, e));
}
END_TEST

START_TEST(test_dates)
{
	int64_t t;
	char out[HTTP_DATE_LEN];

	ck_assert_int_eq(
	    http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t), 0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(
	    http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t), 0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(http_date_parse("Sun Nov  6 08:49:37 1994", 24, &t),
			 0);
	ck_assert_int_eq(t, 784111777);
	http_date_format(784111777, out);
	ck_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_date_format(0, out);
	ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_date_format(951782400, out); /* a leap day */
	ck_assert_str_eq(out, "Tue, 29 Feb 2000 00:00:00 GMT");
	ck_assert_int_eq(
	    http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t), -1);
	ck_assert_int_eq(
	    http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", 29, &t), -1);
	ck_assert_int_eq(
	    http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", 29, &t), -1);
	ck_assert_int_eq(http_date_parse("yesterday", 9, &t), -1);
	ck_assert_int_eq(http_date_parse("", 0, &t), -1);
}
END_TEST

START_TEST(test_conditional)
{
	struct http_request r;
	const char *etag = "\"v1\"";
	int64_t mtime = 784111777;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(http_conditional(&r, etag, mtime), 200);
	r.if_none_match = s_of("\"v1\"");
	ck_assert_int_eq(http_conditional(&r, etag, mtime), 304);
	r.if_none_match = s_of("\"v0\"");
	/* If-None-Match present: If-Modified-Since is not looked at. */
	r.if_modified_since = s_of("Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert_int_eq(http_conditional(&r, etag, mtime), 200);
	r.if_none_match = (struct http_str){NULL, 0};
	ck_assert_int_eq(http_conditional(&r, etag, mtime), 304);
	ck_assert_int_eq(http_conditional(&r, etag, mtime + 1), 200);
	ck_assert_int_eq(http_conditional(&r, etag, mtime - 1), 304);
	r.if_modified_since = s_of("not a date");
	ck_assert_int_eq(http_conditional(&r, etag, mtime), 200);

	/* If-Range: strong tags and exact dates only. */
	memset(&r, 0, sizeof(r));
	ck_assert(http_if_range_ok(&r, etag, mtime));
	r.if_range = s_of("\"v1\"");
	ck_assert(http_if_range_ok(&r, etag, mtime));
	r.if_range = s_of("W/\"v1\"");
	ck_assert(!http_if_range_ok(&r, etag, mtime));
	r.if_range = s_of("\"v2\"");
	ck_assert(!http_if_range_ok(&r, etag, mtime));
	r.if_range = s_of("Sun, 06 Nov 1994 08:49:37 GMT");
	ck_assert(http_if_range_ok(&r, etag, mtime));
	ck_assert(!http_if_range_ok(&r, etag, mtime + 1));
}
END_TEST

START_TEST(test_mime)
{
	char ext[] = "md", type[] = "text/x-test";
	struct http_mime over[] = {{ext, type}};

	static const struct {
		const char *path, *type;
	} builtin[] = {
		{"/a/index.html", "text/html; charset=utf-8"},
		{"/A.PNG", "image/png"},
		{"/x.tar.gz", "application/gzip"},
		{"/noext", "application/octet-stream"},
		{"/d.png/file", "application/octet-stream"},
		{"/.png", "application/octet-stream"},
		{"/x.", "application/octet-stream"},
		{"/x.md", "text/markdown; charset=utf-8"},
	};

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		ck_assert_str_eq(http_mime_lookup(NULL, 0, builtin[i].path),
				 builtin[i].type);
	ck_assert_str_eq(http_mime_lookup(over, 1, "/x.MD"), "text/x-test");
	ck_assert_str_eq(http_mime_lookup(over, 1, "/x.css"),
			 "text/css; charset=utf-8");
	ck_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
}
END_TEST

/* status_allow's prefixes: the forms taken, the ones refused, and the
 * matching of both families (IPv4 never matching an IPv6 prefix). */
START_TEST(test_prefixes)
{
	static const char *const wrong[] = {
	    "", "/", "/8", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/24",
	    "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/1000", "fd00::/129",
	    "fd00::1/64", "x", "10.0.0.0/8/8", "10.0.0.0 /8",
	    "fd00::%eth0/64",
	};
	struct http_prefix p;
	struct tapir_addr a;

	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
		ck_assert_msg(http_prefix_parse(wrong[i], &p) < 0, "%s", wrong[i]);

	ck_assert_int_eq(http_prefix_parse("10.0.0.0/8", &p), 0);
	ck_assert_uint_eq(p.len, 104);
	a = tapir_addr_from_v4(0x0affffff);
	ck_assert(http_prefix_match(&p, a.b));
	a = tapir_addr_from_v4(0x0b000000);
	ck_assert(!http_prefix_match(&p, a.b));
	ck_assert(tapir_addr_parse("a00::1", &a));
	ck_assert(!http_prefix_match(&p, a.b));

	ck_assert_int_eq(http_prefix_parse("10.0.0.1", &p), 0);
	ck_assert_uint_eq(p.len, 128);
	a = tapir_addr_from_v4(0x0a000001);
	ck_assert(http_prefix_match(&p, a.b));
	a = tapir_addr_from_v4(0x0a000003);
	ck_assert(!http_prefix_match(&p, a.b));

	ck_assert_int_eq(http_prefix_parse("10.0.0.0/31", &p), 0);
	a = tapir_addr_from_v4(0x0a000001);
	ck_assert(http_prefix_match(&p, a.b));
	a = tapir_addr_from_v4(0x0a000002);
	ck_assert(!http_prefix_match(&p, a.b));

	ck_assert_int_eq(http_prefix_parse("0.0.0.0/0", &p), 0);
	a = tapir_addr_from_v4(0xc0000201);
	ck_assert(http_prefix_match(&p, a.b));
	ck_assert(tapir_addr_parse("fd00::1", &a));
	ck_assert(!http_prefix_match(&p, a.b)); /* IPv4 only */

	ck_assert_int_eq(http_prefix_parse("fd00::/63", &p), 0);
	ck_assert(tapir_addr_parse("fd00:0:0:1:ffff::1", &a));
	ck_assert(http_prefix_match(&p, a.b));
	ck_assert(tapir_addr_parse("fd00:0:0:2::1", &a));
	ck_assert(!http_prefix_match(&p, a.b));

	ck_assert_int_eq(http_prefix_parse("::/0", &p), 0);
	ck_assert(http_prefix_match(&p, a.b));
	ck_assert_int_eq(http_prefix_parse("fd00::1/128", &p), 0);
	ck_assert(tapir_addr_parse("fd00::1", &a));
	ck_assert(http_prefix_match(&p, a.b));
	ck_assert(tapir_addr_parse("fd00::3", &a));
	ck_assert(!http_prefix_match(&p, a.b));
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("parser");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_parse_simple_get);
	tcase_add_test(tc, test_parse_referer_user_agent);
	tcase_add_test(tc, test_parse_head_bare_lf_and_leading_crlf);
	tcase_add_test(tc, test_parse_keep_alive_rules);
	tcase_add_test(tc, test_parse_content_length_and_405);
	tcase_add_test(tc, test_parse_chunked_closes);
	tcase_add_test(tc, test_parse_every_split_is_incomplete);
	tcase_add_test(tc, test_parse_pipelined);
	tcase_add_loop_test(tc, test_parse_host_grammar, 0,
			    (int)(sizeof(hosts) / sizeof(hosts[0])));
	tcase_add_loop_test(tc, test_parse_errors, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_parse_errors_before_head_ends);
	tcase_add_test(tc, test_parse_414_request_line);
	tcase_add_test(tc, test_parse_431_header_bytes_and_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_loop_test(tc, test_path_table, 0,
			    (int)(sizeof(paths) / sizeof(paths[0])));
	tcase_add_test(tc, test_path_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("range");
	tcase_add_loop_test(tc, test_range_table, 0,
			    (int)(sizeof(ranges) / sizeof(ranges[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("conditional");
	tcase_add_test(tc, test_etag_lists);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_conditional);
	tcase_add_test(tc, test_mime);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefixes");
	tcase_add_test(tc, test_prefixes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
