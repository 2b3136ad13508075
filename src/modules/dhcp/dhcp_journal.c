/* The DHCPv4 lease journal's records; see dhcp_journal.h. */
#include "dhcp_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/addr.h>
#include <tapir/text.h>

size_t jrec_format(const struct jrec *r, char *buf)
{
	char mac[18] = "-", key[2 * JREC_KEY_MAX + 2] = "-";
	int n;

	if (r->kind == 'L') {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 r->mac[0], r->mac[1], r->mac[2], r->mac[3], r->mac[4],
			 r->mac[5]);
		for (unsigned i = 0; i < r->keylen && i < JREC_KEY_MAX; i++)
			snprintf(key + 2 * i, 3, "%02x", r->key[i]);
	}
	n = snprintf(buf, JREC_LINE_MAX, "%c %u.%u.%u.%u %lld %s %s %s",
		     r->kind, r->addr >> 24, (r->addr >> 16) & 255,
		     (r->addr >> 8) & 255, r->addr & 255, (long long)r->time,
		     mac, key,
		     r->kind == 'L' && r->host[0] ? r->host : "-");
	/* Fits: the longest record is well under JREC_LINE_MAX - 10. */
	return lj_seal(buf, (size_t)n, JREC_LINE_MAX);
}

bool jrec_parse(const char *line, size_t len, struct jrec *r)
{
	char copy[JREC_LINE_MAX], *f[8];
	uint64_t t;

	if (lj_open_line(line, len, copy, sizeof(copy), f, 6) != 6 ||
	    strlen(f[0]) != 1)
		return false;
	memset(r, 0, sizeof(*r));
	r->kind = f[0][0];
	if (r->kind != 'L' && r->kind != 'R' && r->kind != 'D')
		return false;
	if (!tapir_ipv4_parse(f[1], &r->addr))
		return false;
	if (!tapir_dec_parse(f[2], strlen(f[2]), 13, 1ull << 40, &t))
		return false;
	r->time = (int64_t)t;
	if (r->kind != 'L')
		return true;
	if (strlen(f[3]) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = tapir_hexval((uint8_t)f[3][3 * i]),
		    lo = tapir_hexval((uint8_t)f[3][3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && f[3][3 * i + 2] != ':'))
			return false;
		r->mac[i] = (uint8_t)(hi << 4 | lo);
	}
	size_t kl = strlen(f[4]);

	if (kl < 2 || kl % 2 || kl / 2 > JREC_KEY_MAX)
		return false;
	for (size_t i = 0; i < kl / 2; i++) {
		int hi = tapir_hexval((uint8_t)f[4][2 * i]),
		    lo = tapir_hexval((uint8_t)f[4][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		r->key[i] = (uint8_t)(hi << 4 | lo);
	}
	r->keylen = (uint8_t)(kl / 2);
	if (strcmp(f[5], "-") != 0) {
		if (strlen(f[5]) > JREC_HOST_MAX)
			return false;
		strcpy(r->host, f[5]);
	}
	return true;
}

struct load_ctx {
	void (*fn)(void *arg, const struct jrec *r);
	void *arg;
};

static bool load_line(void *arg, const char *line, size_t len)
{
	struct load_ctx *l = arg;
	struct jrec r;

	if (!jrec_parse(line, len, &r))
		return false;
	l->fn(l->arg, &r);
	return true;
}

int journal_load(const char *path, void (*fn)(void *arg, const struct jrec *r),
		 void *arg, struct lj_stats *st)
{
	struct load_ctx l = {fn, arg};

	return lj_load(path, JREC_LINE_MAX, load_line, &l, st);
}

struct rewrite_ctx {
	bool (*next)(void *arg, struct jrec *r);
	void *arg;
};

static size_t rewrite_line(void *arg, char *buf)
{
	struct rewrite_ctx *w = arg;
	struct jrec r;

	return w->next(w->arg, &r) ? jrec_format(&r, buf) : 0;
}

int journal_rewrite(struct lease_journal *j, const char *path,
		    bool (*next)(void *arg, struct jrec *r), void *arg)
{
	struct rewrite_ctx w = {next, arg};

	return lj_rewrite(j, path,
			  "# tapir dhcp leases: kind addr time mac client "
			  "hostname crc32\n",
			  JREC_LINE_MAX, rewrite_line, &w);
}
