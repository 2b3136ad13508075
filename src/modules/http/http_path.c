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

#include <tapir/text.h>

#include "http_proto.h"

int http_path_normalise(const char *target, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0, seg;
	bool dir = false;

	if (outsz < 2)
		return -414;
	/* absolute-form: drop "scheme://authority". */
	if (tapir_iprefix(target, len, "http://") ||
	    tapir_iprefix(target, len, "https://")) {
		i = target[4] == ':' ? 7 : 8;
		while (i < len && target[i] != '/' && target[i] != '?')
			i++;
		if (i == len || target[i] == '?') {
			out[0] = '/';
			out[1] = '\0';
			return 0;
		}
	}
	if (i >= len || target[i] != '/')
		return -400;
	/* The path ends at the query (or a fragment, never sent by a
	 * conforming client). */
	{
		size_t end = i;

		while (end < len && target[end] != '?' && target[end] != '#')
			end++;
		len = end;
	}
	out[o++] = '/';
	while (i < len) {
		/* At a '/': one segment follows, up to the next raw '/'. */
		i++;
		seg = o;
		while (i < len && target[i] != '/') {
			unsigned char c = (unsigned char)target[i];

			if (c == '%') {
				int hi, lo;

				if (len - i < 3)
					return -400;
				hi = tapir_hexval((uint8_t)target[i + 1]);
				lo = tapir_hexval((uint8_t)target[i + 2]);
				if (hi < 0 || lo < 0)
					return -400;
				c = (unsigned char)(hi * 16 + lo);
				i += 3;
				if (c == '/' || c == '\\')
					return -400;
			} else {
				i++;
			}
			if (c < 0x20 || c == 0x7f)
				return -400;
			if (o + 1 >= outsz)
				return -414;
			out[o++] = (char)c;
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
		if (i < len) { /* another segment follows */
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
