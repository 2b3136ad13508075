#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void strbuf_free(struct strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes and a NUL; false (and full set) when not. */
static bool strbuf_room(struct strbuf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->full)
		return false;
	if (n > b->max || b->len + n + 1 > b->max) {
		b->full = true;
		return false;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	p = realloc(b->p, cap);
	if (!p) {
		b->full = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (!strbuf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		strbuf_add(b, small, (size_t)n);
		return;
	}
	if (!strbuf_room(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Bytes outside printable ASCII are escaped one by one, so what comes out
 * is ASCII and therefore valid UTF-8 whatever came in (names from the wire
 * or from modules need not be); a byte 0x80-0xff reads back as U+0080 to
 * U+00FF. */
void strbuf_json_str(struct strbuf *b, const char *s)
{
	strbuf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			char esc[2] = {'\\', (char)ch};

			strbuf_add(b, esc, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			strbuf_printf(b, "\\u%04x", ch);
		} else {
			strbuf_add(b, (const char *)&ch, 1);
		}
	}
	strbuf_add(b, "\"", 1);
}

/* The Prometheus text format escapes only backslash, double quote and line
 * feed in a label value, and wants UTF-8; any other byte outside printable
 * ASCII (control bytes, which a parser may refuse, and bytes over 0x7e,
 * which need not be valid UTF-8) becomes '?'. */
void strbuf_prom_label(struct strbuf *b, const char *s)
{
	strbuf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			strbuf_add(b, (const char[]){'\\', (char)ch}, 2);
		else if (ch == '\n')
			strbuf_add(b, "\\n", 2);
		else if (ch < 0x20 || ch >= 0x7f)
			strbuf_add(b, "?", 1);
		else
			strbuf_add(b, (const char *)&ch, 1);
	}
	strbuf_add(b, "\"", 1);
}

const char *strbuf_str(const struct strbuf *b)
{
	return b->p ? b->p : "";
}
