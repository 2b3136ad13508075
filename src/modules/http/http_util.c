/*
 * Range (RFC 9110 14), conditional requests (RFC 9110 13), HTTP dates
 * (RFC 9110 5.6.7), the MIME table and reason phrases.
 */
#include <string.h>

#include <tapir/addr.h>
#include <tapir/bytes.h>
#include <tapir/text.h>

#include "http_proto.h"

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* s without leading and trailing OWS. */
static struct tapir_cur trim_ows(struct tapir_cur s)
{
	tapir_cur_span(&s, is_ows);
	while (tapir_cur_eat_last(&s, ' ') || tapir_cur_eat_last(&s, '\t'))
		;
	return s;
}

/* ---- Range -------------------------------------------------------------- */

/* Digits at the start of c: at least one, at most 19, c moving past them.
 * Returns 0 or -1. */
static int read_u64(struct tapir_cur *c, uint64_t *out)
{
	size_t n = tapir_dec_prefix((const char *)c->p, c->len, 19, out);

	tapir_cur_skip(c, n);
	return n ? 0 : -1;
}

/* One range-spec, all of s (OWS trimmed): -1 invalid, 0 unsatisfiable,
 * 1 satisfiable with [*first, *last]. */
static int range_spec(struct tapir_cur s, uint64_t size, uint64_t *first,
		      uint64_t *last)
{
	uint64_t a, b;

	if (tapir_cur_eat(&s, '-')) { /* suffix-range: the last b bytes */
		if (read_u64(&s, &b) < 0 || s.len)
			return -1;
		if (b == 0 || size == 0)
			return 0;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (read_u64(&s, &a) < 0 || !tapir_cur_eat(&s, '-'))
		return -1;
	if (!s.len) {
		b = UINT64_MAX;
	} else {
		if (read_u64(&s, &b) < 0 || s.len || b < a)
			return -1;
	}
	if (a >= size)
		return 0;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

enum http_range_result http_range_eval(const char *v, size_t len, uint64_t size,
				       uint64_t *first, uint64_t *last)
{
	struct tapir_cur c = tapir_cur(v, len), unit, el;
	unsigned specs = 0, sat = 0;
	uint64_t f = 0, l = 0;
	bool more;

	/* "bytes=" then the list; "bytes" has no '=' of its own. */
	if (!tapir_cur_split(&c, '=', &unit) ||
	    !tapir_ieq_str((const char *)unit.p, unit.len, "bytes"))
		return HTTP_RANGE_FULL;
	do {
		int rc;

		more = tapir_cur_split(&c, ',', &el);
		if (!more)
			el = c; /* the last element */
		el = trim_ows(el);
		if (!el.len)
			continue; /* empty list element */
		rc = range_spec(el, size, &f, &l);
		if (rc < 0)
			return HTTP_RANGE_FULL;
		specs++;
		if (rc == 1 && ++sat == 1) {
			*first = f;
			*last = l;
		}
	} while (more);
	if (specs == 0)
		return HTTP_RANGE_FULL;
	if (sat == 0)
		return HTTP_RANGE_UNSAT;
	return specs == 1 ? HTTP_RANGE_PART : HTTP_RANGE_FULL;
}

/* ---- Entity tags -------------------------------------------------------- */

/* etagc of RFC 9110 8.8.3: visible ASCII but DQUOTE, and obs-text. */
static bool is_etagc(uint8_t c)
{
	return c >= 0x21 && c != 0x7f && c != '"';
}

/* An entity-tag at the start of c: [W/] DQUOTE *etagc DQUOTE, c moving
 * past it.  Sets *opaque to the quoted part (quotes included) and *weak.
 * Returns 0 or -1. */
static int read_etag(struct tapir_cur *c, struct http_str *opaque, bool *weak)
{
	struct tapir_cur t = *c, start, body, rest;

	*weak = false;
	if (tapir_cur_eat(&t, 'W') && tapir_cur_eat(&t, '/')) {
		*weak = true;
		*c = t;
	}
	start = *c;
	if (!tapir_cur_eat(c, '"') || !tapir_cur_split(c, '"', &body))
		return -1;
	rest = body;
	tapir_cur_span(&rest, is_etagc);
	if (rest.len)
		return -1;
	opaque->p = (const char *)start.p;
	opaque->len = start.len - c->len;
	return 0;
}

bool http_etag_list_match(const char *list, size_t len, const char *etag)
{
	struct tapir_cur c = tapir_cur(list, len);
	size_t elen = strlen(etag);

	tapir_cur_span(&c, is_ows);
	if (tapir_cur_eat(&c, '*')) {
		tapir_cur_span(&c, is_ows);
		return c.len == 0;
	}
	while (c.len) {
		struct http_str op;
		bool weak;

		if (tapir_cur_eat(&c, ',') || tapir_cur_span(&c, is_ows).len)
			continue;
		if (read_etag(&c, &op, &weak) < 0)
			return false;
		/* Weak comparison: the opaque parts alone. */
		if (op.len == elen && !memcmp(op.p, etag, elen))
			return true;
	}
	return false;
}

/* ---- Dates -------------------------------------------------------------- */

static const char wkday[7][4] = {"Thu", "Fri", "Sat", "Sun",
				 "Mon", "Tue", "Wed"}; /* 1970-01-01: Thu */
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void http_date_format(int64_t t, char out[HTTP_DATE_LEN])
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468, era, y;
	unsigned doe, yoe, doy, mp, d, m;
	unsigned wd = (unsigned)(((days % 7) + 7) % 7);

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999) { /* out of the format's range */
		y = y < 0 ? 0 : 9999;
	}
	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	out[0] = wkday[wd][0];
	out[1] = wkday[wd][1];
	out[2] = wkday[wd][2];
	out[3] = ',';
	out[4] = ' ';
	out[5] = (char)('0' + d / 10);
	out[6] = (char)('0' + d % 10);
	out[7] = ' ';
	memcpy(out + 8, months[m - 1], 3);
	out[11] = ' ';
	out[12] = (char)('0' + y / 1000);
	out[13] = (char)('0' + y / 100 % 10);
	out[14] = (char)('0' + y / 10 % 10);
	out[15] = (char)('0' + y % 10);
	out[16] = ' ';
	out[17] = (char)('0' + secs / 36000);
	out[18] = (char)('0' + secs / 3600 % 10);
	out[19] = ':';
	out[20] = (char)('0' + secs % 3600 / 600);
	out[21] = (char)('0' + secs % 3600 / 60 % 10);
	out[22] = ':';
	out[23] = (char)('0' + secs % 60 / 10);
	out[24] = (char)('0' + secs % 10);
	memcpy(out + 25, " GMT", 5);
}

/* Date fields read from a cursor: a field that is not there fails the
 * cursor (and reads as 0), so a date is checked once, at its end. */

/* A fixed-width number of n digits. */
static unsigned digits(struct tapir_cur *c, unsigned n)
{
	const uint8_t *p = tapir_cur_pull(c, n);
	unsigned v = 0;

	if (!p)
		return 0;
	for (unsigned k = 0; k < n; k++) {
		if (p[k] < '0' || p[k] > '9') {
			tapir_cur_fail(c);
			return 0;
		}
		v = v * 10 + (unsigned)(p[k] - '0');
	}
	return v;
}

static void lit(struct tapir_cur *c, const char *l)
{
	size_t n = strlen(l);
	const uint8_t *p = tapir_cur_pull(c, n);

	if (p && memcmp(p, l, n) != 0)
		tapir_cur_fail(c);
}

/* A month name: 1..12. */
static unsigned month(struct tapir_cur *c)
{
	const uint8_t *p = tapir_cur_pull(c, 3);

	if (!p)
		return 0;
	for (unsigned k = 0; k < 12; k++)
		if (!memcmp(p, months[k], 3))
			return k + 1;
	tapir_cur_fail(c);
	return 0;
}

/* "HH:MM:SS" */
static void hms(struct tapir_cur *c, unsigned *h, unsigned *mi, unsigned *se)
{
	*h = digits(c, 2);
	lit(c, ":");
	*mi = digits(c, 2);
	lit(c, ":");
	*se = digits(c, 2);
	if (*h > 23 || *mi > 59 || *se > 60)
		tapir_cur_fail(c);
}

int http_date_parse(const char *s, size_t len, int64_t *t)
{
	struct tapir_cur c = tapir_cur(s, len), wkday_name;
	bool comma = tapir_cur_split(&c, ',', &wkday_name);
	unsigned d, m, y, h, mi, se;

	if (comma && wkday_name.len == 3) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		lit(&c, " ");
		d = digits(&c, 2);
		lit(&c, " ");
		m = month(&c);
		lit(&c, " ");
		y = digits(&c, 4);
		lit(&c, " ");
		hms(&c, &h, &mi, &se);
		lit(&c, " GMT");
	} else if (comma) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (past the comma) */
		lit(&c, " ");
		d = digits(&c, 2);
		lit(&c, "-");
		m = month(&c);
		lit(&c, "-");
		y = digits(&c, 2);
		lit(&c, " ");
		hms(&c, &h, &mi, &se);
		lit(&c, " GMT");
		y += y < 70 ? 2000 : 1900; /* RFC 9110 5.6.7's 50-year rule */
	} else { /* asctime: "Sun Nov  6 08:49:37 1994" */
		tapir_cur_skip(&c, 3);
		lit(&c, " ");
		m = month(&c);
		lit(&c, " ");
		d = tapir_cur_eat(&c, ' ') ? digits(&c, 1) : digits(&c, 2);
		lit(&c, " ");
		hms(&c, &h, &mi, &se);
		lit(&c, " ");
		y = digits(&c, 4);
	}
	if (!tapir_cur_ok(&c) || c.len || d < 1 || d > 31)
		return -1;
	*t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* ---- Conditional requests ----------------------------------------------- */

int http_conditional(const struct http_request *r, const char *etag,
		     int64_t mtime)
{
	int64_t since;

	if (r->if_none_match.p)
		return http_etag_list_match(r->if_none_match.p,
					    r->if_none_match.len, etag)
			   ? 304
			   : 200;
	if (r->if_modified_since.p &&
	    http_date_parse(r->if_modified_since.p, r->if_modified_since.len,
			    &since) == 0 &&
	    mtime <= since)
		return 304;
	return 200;
}

bool http_if_range_ok(const struct http_request *r, const char *etag,
		      int64_t mtime)
{
	struct tapir_cur c = tapir_cur(r->if_range.p, r->if_range.len);
	int first = tapir_cur_peek(&c);
	int64_t t;

	if (!r->if_range.p)
		return true;
	if (first == '"' || first == 'W') {
		struct http_str op;
		bool weak;

		if (read_etag(&c, &op, &weak) < 0 || c.len || weak)
			return false;
		return op.len == strlen(etag) && !memcmp(op.p, etag, op.len);
	}
	return http_date_parse(r->if_range.p, r->if_range.len, &t) == 0 &&
	       t == mtime;
}

/* ---- MIME types --------------------------------------------------------- */

static const struct {
	const char *ext, *type;
} mime_table[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"xz", "application/x-xz"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"iso", "application/octet-stream"},
    {"bin", "application/octet-stream"},
};

static bool ext_ieq(const char *a, const char *b)
{
	return tapir_ieq_str(a, strlen(a), b);
}

const char *http_mime_lookup(const struct http_mime *over, size_t n_over,
			     const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (!dot || dot[1] == '\0' || (slash && dot == slash + 1))
		return "application/octet-stream"; /* none, or ".hidden" */
	dot++;
	for (size_t i = 0; i < n_over; i++)
		if (ext_ieq(over[i].ext, dot))
			return over[i].type;
	for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
		if (ext_ieq(mime_table[i].ext, dot))
			return mime_table[i].type;
	return "application/octet-stream";
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "";
}

/* ---- Address prefixes (status_allow) ------------------------------------ */

int http_prefix_parse(const char *s, struct http_prefix *p)
{
	const char *slash = strchr(s, '/');
	struct tapir_addr a;
	char addr[TAPIR_ADDR_STRLEN];
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned len = 0, max;
	bool v4;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (!tapir_addr_parse(addr, &a))
		return -1;
	v4 = tapir_ipv4_parse(addr, &(uint32_t){0});
	max = v4 ? 32 : 128;
	if (slash) {
		const char *d = slash + 1;

		/* One to three digits, no sign, no leading zero. */
		if (!*d || strlen(d) > 3 || (d[0] == '0' && d[1]))
			return -1;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (len > max)
			return -1;
	} else {
		len = max;
	}
	memcpy(p->a, a.b, 16);
	p->len = v4 ? len + 96 : len;
	/* Host bits set are a mistake in the setting, not a wish. */
	for (unsigned bit = p->len; bit < 128; bit++)
		if (p->a[bit / 8] & (0x80u >> (bit % 8)))
			return -1;
	return 0;
}

bool http_prefix_match(const struct http_prefix *p, const uint8_t a[16])
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->a, a, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));

		return (p->a[full] & mask) == (a[full] & mask);
	}
	return true;
}
