/* The DHCPv6 lease journal's records; see dhcp6_journal.h. */
#include "dhcp6_journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/text.h>

size_t j6rec_format(const struct j6rec *r, char *buf)
{
	char key[2 * D6_KEY_MAX + 2] = "-", addr[TAPIR_ADDR_STRLEN];
	int n;

	if (r->kind == 'L')
		for (unsigned i = 0; i < r->keylen && i < D6_KEY_MAX; i++)
			snprintf(key + 2 * i, 3, "%02x", r->key[i]);
	tapir_addr_format(&r->addr, addr);
	n = snprintf(buf, J6_LINE_MAX, "%c %s %lld %s %s", r->kind, addr,
		     (long long)r->time, key,
		     r->kind == 'L' && r->host[0] ? r->host : "-");
	/* Fits: the longest record is 2 + 40 + 14 + 269 + 64 < 500. */
	return lj_seal(buf, (size_t)n, J6_LINE_MAX);
}

bool j6rec_parse(const char *line, size_t len, struct j6rec *r)
{
	char copy[J6_LINE_MAX], *f[8];
	uint64_t t;
	size_t kl;

	if (lj_open_line(line, len, copy, sizeof(copy), f, 5) != 5 ||
	    strlen(f[0]) != 1)
		return false;
	memset(r, 0, sizeof(*r));
	r->kind = f[0][0];
	if (r->kind != 'L' && r->kind != 'R' && r->kind != 'D')
		return false;
	if (!tapir_addr_parse(f[1], &r->addr) || tapir_addr_is_v4(&r->addr))
		return false;
	if (!tapir_dec_parse(f[2], strlen(f[2]), 13, 1ull << 40, &t))
		return false;
	r->time = (int64_t)t;
	if (r->kind != 'L')
		return true;
	kl = strlen(f[3]);
	/* A DUID of at least 2 bytes and the IAID. */
	if (kl < 12 || kl % 2 || kl / 2 > D6_KEY_MAX)
		return false;
	for (size_t i = 0; i < kl / 2; i++) {
		int hi = tapir_hexval((uint8_t)f[3][2 * i]),
		    lo = tapir_hexval((uint8_t)f[3][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		r->key[i] = (uint8_t)(hi << 4 | lo);
	}
	r->keylen = (uint8_t)(kl / 2);
	if (strcmp(f[4], "-") != 0) {
		if (strlen(f[4]) > D6_HOST_MAX)
			return false;
		strcpy(r->host, f[4]);
	}
	return true;
}

struct load_ctx {
	void (*fn)(void *arg, const struct j6rec *r);
	void *arg;
};

static bool load_line(void *arg, const char *line, size_t len)
{
	struct load_ctx *l = arg;
	struct j6rec r;

	if (!j6rec_parse(line, len, &r))
		return false;
	l->fn(l->arg, &r);
	return true;
}

int j6_load(const char *path, void (*fn)(void *arg, const struct j6rec *r),
	    void *arg, struct lj_stats *st)
{
	struct load_ctx l = {fn, arg};

	return lj_load(path, J6_LINE_MAX, load_line, &l, st);
}

struct rewrite_ctx {
	bool (*next)(void *arg, struct j6rec *r);
	void *arg;
};

static size_t rewrite_line(void *arg, char *buf)
{
	struct rewrite_ctx *w = arg;
	struct j6rec r;

	return w->next(w->arg, &r) ? j6rec_format(&r, buf) : 0;
}

int j6_rewrite(struct lease_journal *j, const char *path,
	       bool (*next)(void *arg, struct j6rec *r), void *arg)
{
	struct rewrite_ctx w = {next, arg};

	return lj_rewrite(j, path,
			  "# tapir dhcp6 leases: kind addr time duid+iaid "
			  "hostname crc32\n",
			  J6_LINE_MAX, rewrite_line, &w);
}
