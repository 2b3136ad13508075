/*
 * Request-target to a path below the document root (RFC 9112 3.2,
 * RFC 3986 5.2.4).
 *
 * Decoding happens exactly once and before dot-segment removal, so
 * "%2e%2e" is a ".." like any other and is taken back within the path; a
 * ".." with nothing left to take back is refused rather than clamped, so a
 * traversal attempt gets 400 and never a file.  An encoded '/' is refused
 * (it would make one segment look like two after decoding), as are NUL and
 * control bytes, which no file name here needs.  What this returns is only
 * a name: the module still opens it beneath the root's directory
 * descriptor with symlinks refused.
 */
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/text.h>

#include "http_proto.h"

/* A byte of an absolute-form's authority: up to the path or query. */
static bool in_authority(uint8_t c)
{
	return c != '/' && c != '?';
}

/* A byte of the path: up to the query (or a fragment, never sent by a
 * conforming client). */
static bool in_path(uint8_t c)
{
	return c != '?' && c != '#';
}

static bool in_segment(uint8_t c)
{
	return c != '/';
}

int http_path_normalise(const char *target, size_t len, char *out, size_t outsz)
{
	struct tapir_cur c = tapir_cur(target, len), path;
	size_t o = 0, seg;
	bool dir = false;

	if (outsz < 2)
		return -414;
	/* absolute-form: drop "scheme://authority". */
	if (tapir_iprefix(target, len, "http://") ||
	    tapir_iprefix(target, len, "https://")) {
		bool tls = !tapir_iprefix(target, len, "http://");

		tapir_cur_skip(&c, strlen(tls ? "https://" : "http://"));
		tapir_cur_span(&c, in_authority);
		if (tapir_cur_peek(&c) != '/') { /* the end, or a query */
			out[0] = '/';
			out[1] = '\0';
			return 0;
		}
	}
	if (tapir_cur_peek(&c) != '/')
		return -400;
	path = tapir_cur_span(&c, in_path);
	out[o++] = '/';
	while (path.len) {
		struct tapir_cur s;

		/* At a '/': one segment follows, up to the next raw '/'. */
		tapir_cur_skip(&path, 1);
		s = tapir_cur_span(&path, in_segment);
		seg = o;
		while (s.len) {
			uint8_t b = tapir_cur_u8(&s);

			if (b == '%') {
				const uint8_t *hex = tapir_cur_pull(&s, 2);
				int hi, lo;

				if (!hex)
					return -400;
				hi = tapir_hexval(hex[0]);
				lo = tapir_hexval(hex[1]);
				if (hi < 0 || lo < 0)
					return -400;
				b = (uint8_t)(hi * 16 + lo);
				if (b == '/' || b == '\\')
					return -400;
			}
			if (b < 0x20 || b == 0x7f)
				return -400;
			if (o + 1 >= outsz)
				return -414;
			out[o++] = (char)b;
		}
		/* out[seg..o) is the decoded segment. */
		dir = false;
		if (o == seg) { /* empty: "//" or a trailing '/' */
			dir = true;
			continue;
		}
		if (o - seg == 1 && out[seg] == '.') {
			o = seg;
			dir = true;
			continue;
		}
		if (o - seg == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			/* Take back the previous segment and its '/'. */
			o = seg - 1;
			if (o == 0)
				return -400; /* above the root */
			while (o > 0 && out[o - 1] != '/')
				o--;
			dir = true;
			continue;
		}
		if (path.len) { /* another segment follows */
			if (o + 1 >= outsz)
				return -414;
			out[o++] = '/';
		}
	}
	/* out has "/a/b/" after a segment that was followed by '/', or
	 * "/a/b" after the last one; after a removed segment it ends with
	 * '/' already. */
	if (dir && o > 1 && out[o - 1] != '/') {
		if (o + 1 >= outsz)
			return -414;
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}
