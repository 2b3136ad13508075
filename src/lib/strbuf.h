/* A growable text buffer with a hard size limit, for reports. */
#ifndef TAPIR_STRBUF_H
#define TAPIR_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *p;
	size_t len, cap, max;
	bool full; /* something did not fit within max, or memory ran out */
};

/* max: the most bytes the buffer may hold (text plus NUL). */
void strbuf_init(struct strbuf *b, size_t max);
void strbuf_free(struct strbuf *b);
void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; ASCII only (\u00XX escapes). */
void strbuf_json_str(struct strbuf *b, const char *s);
/* s as a Prometheus label value, quotes included: \\, \" and \n escaped,
 * other bytes outside printable ASCII replaced by '?'. */
void strbuf_prom_label(struct strbuf *b, const char *s);
/* The text so far ("" when empty); valid until the next change. */
const char *strbuf_str(const struct strbuf *b);

#endif
