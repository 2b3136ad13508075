/* Counter samples and their rates for tapirctl (see ctlrates.h). */
#include "ctlrates.h"

#include <stdlib.h>
#include <string.h>

void ctr_sample_free(struct ctr_sample *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->c[i].name);
	free(s->c);
	s->c = NULL;
	s->n = 0;
}

int ctr_sample_parse(struct ctr_sample *s, char *text)
{
	char *save = NULL;

	s->n = 0;
	s->c = calloc(CTR_SAMPLE_MAX, sizeof(*s->c));
	if (!s->c)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *end;
		size_t nl;
		uint64_t v;

		if (!sp || sp[1] < '0' || sp[1] > '9')
			return -1;
		v = strtoull(sp + 1, &end, 10);
		if (*end)
			return -1;
		while (sp > line && sp[-1] == ' ')
			sp--;
		nl = (size_t)(sp - line);
		if (!nl)
			return -1;
		/* Gauges, not counters: no rate. */
		if (!strncmp(line, "tcp_connections ", 16) ||
		    !strncmp(line, "tcp_memory_", 11))
			continue;
		if (s->n == CTR_SAMPLE_MAX)
			break;
		if (!(s->c[s->n].name = strndup(line, nl)))
			return -1;
		s->c[s->n++].v = v;
	}
	return 0;
}

uint64_t ctr_sample_get(const struct ctr_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->c[i].name, name))
			return s->c[i].v;
	return 0;
}

/* A name as a JSON string: counter names are [a-z0-9_ =], but nothing
 * that could break the document goes out. */
static void json_name(FILE *f, const char *p)
{
	putc('"', f);
	for (; *p; p++)
		if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			putc(*p, f);
	putc('"', f);
}

void ctr_rates_print(FILE *f, const struct ctr_sample *prev,
		     const struct ctr_sample *cur, double secs,
		     const char *when, bool json)
{
	unsigned shown = 0;

	if (json) {
		fputs("{\"time\":", f);
		json_name(f, when);
		fprintf(f, ",\"interval_seconds\":%.3f,\"rates\":{", secs);
	} else {
		fprintf(f, "%s  per second over %.3f s\n", when, secs);
	}
	for (size_t i = 0; i < cur->n; i++) {
		uint64_t was = ctr_sample_get(prev, cur->c[i].name);
		uint64_t d = cur->c[i].v >= was ? cur->c[i].v - was
						: cur->c[i].v;
		double rate = (double)d / secs;

		if (!d)
			continue;
		if (json) {
			fputs(shown ? "," : "", f);
			json_name(f, cur->c[i].name);
			fprintf(f, ":%.3f", rate);
		} else {
			fprintf(f, "  %-48s %14.1f\n", cur->c[i].name, rate);
		}
		shown++;
	}
	if (json)
		fputs("}}\n", f);
	else if (!shown)
		fputs("  (no counter changed)\n", f);
}
