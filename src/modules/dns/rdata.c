/*
 * RDATA presentation forms; see rdata.h.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/text.h>

#include "rdata.h"
#include "zone.h"

static void seterr(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int dns_unescape(const char *s, size_t len, char stop, uint8_t *out,
		 size_t max, size_t *used)
{
	size_t i = 0, n = 0;

	while (i < len && !(stop && s[i] == stop)) {
		unsigned c = (unsigned char)s[i++];

		if (c == '\\') {
			if (i >= len)
				return -1;
			if (s[i] >= '0' && s[i] <= '9') {
				if (i + 3 > len || s[i + 1] < '0' ||
				    s[i + 1] > '9' || s[i + 2] < '0' ||
				    s[i + 2] > '9')
					return -1;
				c = (unsigned)(s[i] - '0') * 100 +
				    (unsigned)(s[i + 1] - '0') * 10 +
				    (unsigned)(s[i + 2] - '0');
				if (c > 255)
					return -1;
				i += 3;
			} else {
				c = (unsigned char)s[i++];
			}
		}
		if (n >= max)
			return -1;
		out[n++] = (uint8_t)c;
	}
	if (used)
		*used = i;
	return (int)n;
}

/* ---- Types ---------------------------------------------------------------- */

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{"A", DNS_T_A},		{"NS", DNS_T_NS},	{"CNAME", DNS_T_CNAME},
	{"SOA", DNS_T_SOA},	{"PTR", DNS_T_PTR},	{"MX", DNS_T_MX},
	{"TXT", DNS_T_TXT},	{"AAAA", DNS_T_AAAA},	{"SRV", DNS_T_SRV},
	{"NAPTR", DNS_T_NAPTR}, {"DS", DNS_T_DS},	{"SSHFP", DNS_T_SSHFP},
	{"TLSA", DNS_T_TLSA},	{"SVCB", DNS_T_SVCB},	{"HTTPS", DNS_T_HTTPS},
	{"CAA", DNS_T_CAA},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

bool dns_type_from_field(const struct dns_field *f, uint16_t *type)
{
	uint64_t v;

	if (f->quoted)
		return false;
	for (size_t i = 0; i < NTYPES; i++)
		if (tapir_ieq_str(f->s, f->len, types[i].name)) {
			*type = types[i].type;
			return true;
		}
	/* RFC 3597 §5: TYPEnnn, decimal without leading zeros. */
	if (f->len > 4 && tapir_iprefix(f->s, f->len, "TYPE") &&
	    !(f->len > 5 && f->s[4] == '0') &&
	    tapir_dec_parse(f->s + 4, f->len - 4, 5, 65535, &v)) {
		*type = (uint16_t)v;
		return true;
	}
	return false;
}

const char *dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}

bool dns_type_storable(uint16_t type)
{
	/* 0 is reserved, OPT lives in one message only, 128-255 are the
	 * query and meta types (RFC 6895 §3.1). */
	return type != 0 && type != DNS_T_OPT && !(type >= 128 && type <= 255);
}

/* ---- Building RDATA ---------------------------------------------------------- */

struct rd {
	uint8_t *b;
	size_t len;
	bool full;
};

static void put(struct rd *r, const void *p, size_t n)
{
	if (r->full || n > DNS_RDATA_MAX - r->len) {
		r->full = true;
		return;
	}
	memcpy(r->b + r->len, p, n);
	r->len += n;
}

static void put8(struct rd *r, uint32_t v)
{
	uint8_t b = (uint8_t)v;

	put(r, &b, 1);
}

static void put16(struct rd *r, uint32_t v)
{
	uint8_t b[2];

	tapir_put_be16(b, (uint16_t)v);
	put(r, b, 2);
}

static void put32(struct rd *r, uint32_t v)
{
	uint8_t b[4];

	tapir_put_be32(b, v);
	put(r, b, 4);
}

static int num(const struct dns_field *f, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (f->quoted || !tapir_dec_parse(f->s, f->len, 10, max, &x))
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int name(struct rd *r, const struct dns_field *f,
		const uint8_t *origin, char *err, size_t errsz)
{
	uint8_t n[DNS_NAME_MAX];

	if (f->quoted) {
		seterr(err, errsz, "a name cannot be quoted");
		return -1;
	}
	if (dns_name_from_text(f->s, f->len, origin, n, err, errsz) < 0)
		return -1;
	put(r, n, dns_name_len(n));
	return 0;
}

/* A <character-string> (RFC 1035 §3.3): length byte and at most 255. */
static int charstr(struct rd *r, const struct dns_field *f, const char *what,
		   char *err, size_t errsz)
{
	uint8_t s[256];
	int l = dns_unescape(f->s, f->len, 0, s + 1, 255, NULL);

	if (l < 0) {
		seterr(err, errsz, "%s \"%.*s\": bad escape or over 255 bytes",
		       what, (int)(f->len > 40 ? 40 : f->len), f->s);
		return -1;
	}
	s[0] = (uint8_t)l;
	put(r, s, 1 + (size_t)l);
	return 0;
}

/* Hexadecimal over fields f[0..nf) (whitespace between them allowed). */
static int hex(struct rd *r, const struct dns_field *f, unsigned nf,
	       const char *what, char *err, size_t errsz)
{
	int hi = -1;

	for (unsigned i = 0; i < nf; i++) {
		if (f[i].quoted)
			goto bad;
		for (size_t k = 0; k < f[i].len; k++) {
			int v = tapir_hexval((uint8_t)f[i].s[k]);

			if (v < 0)
				goto bad;
			if (hi < 0) {
				hi = v;
			} else {
				put8(r, (uint32_t)(hi << 4 | v));
				hi = -1;
			}
		}
	}
	if (hi >= 0)
		goto bad;
	return 0;
bad:
	seterr(err, errsz, "%s must be hexadecimal digits in pairs", what);
	return -1;
}

static int want(unsigned nf, unsigned n, const char *type, char *err,
		size_t errsz)
{
	if (nf == n)
		return 0;
	seterr(err, errsz, "%s takes %u field%s, not %u", type, n,
	       n == 1 ? "" : "s", nf);
	return -1;
}

static int at_least(unsigned nf, unsigned n, const char *type, char *err,
		    size_t errsz)
{
	if (nf >= n)
		return 0;
	seterr(err, errsz, "%s takes at least %u fields, not %u", type, n, nf);
	return -1;
}

/* A TTL: seconds, or numbers with units (1h30m). */
int dns_ttl_parse(const char *s, size_t len, uint32_t *v)
{
	uint64_t total = 0, cur = 0;
	bool digits = false;

	if (len == 0 || len > 32)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		uint64_t mul;

		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (uint64_t)(c - '0');
			if (cur > DNS_TTL_MAX)
				return -1;
			digits = true;
			continue;
		}
		switch (c | 0x20) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return -1;
		}
		if (!digits)
			return -1;
		total += cur * mul;
		cur = 0;
		digits = false;
		if (total > DNS_TTL_MAX)
			return -1;
	}
	total += cur;
	if (total > DNS_TTL_MAX)
		return -1;
	*v = (uint32_t)total;
	return 0;
}

/* ---- SVCB / HTTPS (RFC 9460 §2.1, appendix A) -------------------------------- */

enum {
	SVC_MANDATORY = 0,
	SVC_ALPN = 1,
	SVC_NO_DEFAULT_ALPN = 2,
	SVC_PORT = 3,
	SVC_IPV4HINT = 4,
	SVC_ECH = 5,
	SVC_IPV6HINT = 6,
};
static const char *const svc_keys[] = {"mandatory", "alpn", "no-default-alpn",
				       "port",	    "ipv4hint", "ech",
				       "ipv6hint"};
#define SVC_PARAMS_MAX 64

/* A key name: its number, or -1. */
static int svc_key(const char *s, size_t len)
{
	uint64_t v;

	for (int i = 0; i < (int)(sizeof(svc_keys) / sizeof(svc_keys[0])); i++)
		if (strlen(svc_keys[i]) == len && memcmp(s, svc_keys[i], len) == 0)
			return i;
	if (len > 3 && memcmp(s, "key", 3) == 0 && !(len > 4 && s[3] == '0') &&
	    tapir_dec_parse(s + 3, len - 3, 5, 65534, &v))
		return (int)v; /* 65535 is reserved */
	return -1;
}

/* The items of a comma-separated value list, each unescaped (a comma
 * written \, or \044 belongs to its item).  Calls item() for each;
 * -1 when an escape is bad or an item is empty or over 255 bytes. */
static int value_list(const uint8_t *v, size_t len,
		      int (*item)(void *arg, const uint8_t *s, size_t n),
		      void *arg)
{
	size_t i = 0;

	if (len == 0)
		return -1;
	while (i <= len) {
		uint8_t buf[256];
		size_t n = 0;

		while (i < len && v[i] != ',') {
			if (n >= 255)
				return -1;
			buf[n++] = v[i++];
		}
		if (n == 0 || item(arg, buf, n) < 0)
			return -1;
		i++; /* the comma, or past the end */
	}
	return 0;
}

struct list_ctx {
	struct rd *r;
	int key;
	uint16_t keys[SVC_PARAMS_MAX];
	unsigned nkeys;
};

static int alpn_item(void *arg, const uint8_t *s, size_t n)
{
	struct list_ctx *c = arg;

	put8(c->r, (uint32_t)n);
	put(c->r, s, n);
	return 0;
}

static int hint_item(void *arg, const uint8_t *s, size_t n)
{
	struct list_ctx *c = arg;
	char tmp[64];
	uint8_t a[16];
	bool v4 = c->key == SVC_IPV4HINT;

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (inet_pton(v4 ? AF_INET : AF_INET6, tmp, a) != 1)
		return -1;
	put(c->r, a, v4 ? 4 : 16);
	return 0;
}

static int mandatory_item(void *arg, const uint8_t *s, size_t n)
{
	struct list_ctx *c = arg;
	int k = svc_key((const char *)s, n);

	if (k < 0 || k == SVC_MANDATORY || c->nkeys >= SVC_PARAMS_MAX)
		return -1;
	for (unsigned i = 0; i < c->nkeys; i++)
		if (c->keys[i] == k)
			return -1;
	c->keys[c->nkeys++] = (uint16_t)k;
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 (RFC 4648 §4, padded) of v into r. */
static int base64(struct rd *r, const uint8_t *v, size_t len)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t pad = 0;

	if (len == 0 || len % 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int x;

		if (v[i] == '=') {
			if (++pad > 2)
				return -1;
			continue;
		}
		if (pad || (x = b64val(v[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			put8(r, acc >> bits & 0xff);
		}
	}
	return 0;
}

/* One parameter's value into r (the value's wire form alone). */
static int svc_value(struct rd *r, int key, const char *s, size_t len,
		     bool has_value, struct list_ctx *lc, char *err,
		     size_t errsz)
{
	static uint8_t v[DNS_RDATA_MAX];
	int n;
	uint32_t port;
	const char *kn = key <= SVC_IPV6HINT ? svc_keys[key] : "key";

	if (key == SVC_NO_DEFAULT_ALPN) {
		if (has_value) {
			seterr(err, errsz, "no-default-alpn takes no value");
			return -1;
		}
		return 0;
	}
	if (!has_value && key <= SVC_IPV6HINT) {
		seterr(err, errsz, "%s needs a value", kn);
		return -1;
	}
	if (key == SVC_ALPN || key == SVC_MANDATORY) {
		/* Value lists (RFC 9460 appendix A.1): items split at the
		 * commas of the escaped text; \, and \044 stay in the item. */
		size_t i = 0;

		lc->r = r;
		lc->key = key;
		while (i <= len) {
			size_t start = i, ilen;
			int l;

			while (i < len && s[i] != ',') {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			l = dns_unescape(s + start, i - start, 0, v, 255,
					 &ilen);
			if (l <= 0 || ilen != i - start)
				goto badlist;
			if ((key == SVC_ALPN ? alpn_item : mandatory_item)(
				    lc, v, (size_t)l) < 0)
				goto badlist;
			i++;
		}
		if (key == SVC_MANDATORY) {
			/* In increasing order on the wire (RFC 9460 §8). */
			qsort(lc->keys, lc->nkeys, sizeof(lc->keys[0]),
			      cmp_u16);
			for (unsigned k = 0; k < lc->nkeys; k++)
				put16(r, lc->keys[k]);
		}
		return 0;
badlist:
		seterr(err, errsz,
		       "%s: a comma-separated list of %s", kn,
		       key == SVC_ALPN ? "protocol ids of 1-255 bytes"
				       : "distinct keys other than mandatory");
		return -1;
	}
	n = dns_unescape(s, len, 0, v, sizeof(v), NULL);
	if (n < 0) {
		seterr(err, errsz, "%s: bad escape", kn);
		return -1;
	}
	switch (key) {
	case SVC_PORT: {
		struct dns_field f = {(const char *)v, (size_t)n, false};

		if (num(&f, 65535, &port) < 0) {
			seterr(err, errsz, "port must be 0-65535");
			return -1;
		}
		put16(r, port);
		return 0;
	}
	case SVC_IPV4HINT:
	case SVC_IPV6HINT:
		lc->r = r;
		lc->key = key;
		if (value_list(v, (size_t)n, hint_item, lc) < 0) {
			seterr(err, errsz, "%s: a comma-separated list of IPv%c "
			       "addresses", kn, key == SVC_IPV4HINT ? '4' : '6');
			return -1;
		}
		return 0;
	case SVC_ECH:
		if (base64(r, v, (size_t)n) < 0) {
			seterr(err, errsz, "ech: base64 expected");
			return -1;
		}
		return 0;
	default: /* keyNNNNN: the bytes as they are */
		put(r, v, (size_t)n);
		return 0;
	}
}

struct svc_param {
	uint16_t key;
	uint16_t off, len; /* of the value in the scratch buffer */
};

static int svcb(struct rd *r, const struct dns_field *f, unsigned nf,
		const uint8_t *origin, char *err, size_t errsz)
{
	static uint8_t scratch[DNS_RDATA_MAX];
	struct rd sr = {scratch, 0, false};
	struct svc_param p[SVC_PARAMS_MAX];
	struct list_ctx lc;
	unsigned np = 0;
	uint32_t prio;

	memset(&lc, 0, sizeof(lc));
	if (at_least(nf, 2, "SVCB", err, errsz) < 0)
		return -1;
	if (num(&f[0], 65535, &prio) < 0) {
		seterr(err, errsz, "SVCB priority must be 0-65535");
		return -1;
	}
	put16(r, prio);
	if (name(r, &f[1], origin, err, errsz) < 0)
		return -1;
	for (unsigned i = 2; i < nf; i++) {
		const char *s = f[i].s, *eq;
		size_t len = f[i].len, vlen = 0;
		const char *val = NULL;
		bool has = false;
		int key;

		if (f[i].quoted) {
			seterr(err, errsz, "SVCB: a parameter is key=value");
			return -1;
		}
		eq = memchr(s, '=', len);
		key = svc_key(s, eq ? (size_t)(eq - s) : len);
		if (key < 0) {
			seterr(err, errsz,
			       "SVCB: unknown key \"%.*s\" (mandatory, alpn, "
			       "no-default-alpn, port, ipv4hint, ech, ipv6hint, "
			       "keyNNNNN)",
			       (int)(eq ? (size_t)(eq - s) : len), s);
			return -1;
		}
		if (eq) {
			has = true;
			val = eq + 1;
			vlen = len - (size_t)(eq - s) - 1;
			/* key="quoted value": the quote is the next field. */
			if (vlen == 0 && i + 1 < nf && f[i + 1].quoted) {
				i++;
				val = f[i].s;
				vlen = f[i].len;
			}
		}
		if (np >= SVC_PARAMS_MAX) {
			seterr(err, errsz, "SVCB: more than %d parameters",
			       SVC_PARAMS_MAX);
			return -1;
		}
		for (unsigned k = 0; k < np; k++)
			if (p[k].key == key) {
				seterr(err, errsz, "SVCB: key %.*s twice",
				       (int)(eq ? (size_t)(eq - s) : len), s);
				return -1;
			}
		p[np].key = (uint16_t)key;
		p[np].off = (uint16_t)sr.len;
		if (svc_value(&sr, key, val ? val : "", vlen, has, &lc, err,
			      errsz) < 0)
			return -1;
		if (sr.full || sr.len - p[np].off > 65535) {
			seterr(err, errsz, "SVCB: parameters over 65535 bytes");
			return -1;
		}
		p[np].len = (uint16_t)(sr.len - p[np].off);
		np++;
	}
	/* RFC 9460 §8: the keys of mandatory must be present. */
	for (unsigned k = 0; k < lc.nkeys; k++) {
		bool found = false;

		for (unsigned j = 0; j < np; j++)
			found |= p[j].key == lc.keys[k];
		if (!found) {
			seterr(err, errsz,
			       "SVCB: mandatory names key%u, which is absent",
			       lc.keys[k]);
			return -1;
		}
	}
	/* In the wire form the keys are in increasing order (§2.2). */
	for (unsigned a = 1; a < np; a++)
		for (unsigned b = a; b > 0 && p[b - 1].key > p[b].key; b--) {
			struct svc_param t = p[b];

			p[b] = p[b - 1];
			p[b - 1] = t;
		}
	for (unsigned k = 0; k < np; k++) {
		put16(r, p[k].key);
		put16(r, p[k].len);
		put(r, scratch + p[k].off, p[k].len);
	}
	return 0;
}

/* ---- Generic RDATA and its check --------------------------------------------- */

/* A name in wire form at p[0..len): its length, or 0 when malformed. */
static size_t wire_name(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t l = p[i];

		if (l == 0)
			return i + 1 <= DNS_NAME_MAX ? i + 1 : 0;
		if (l > DNS_LABEL_MAX || i + 1 + l >= len)
			return 0;
		i += 1 + (size_t)l;
	}
	return 0;
}

/* The generic form of a type we interpret must be valid RDATA of it. */
static bool wire_ok(uint16_t type, const uint8_t *p, size_t len)
{
	size_t n, m, i;

	switch (type) {
	case DNS_T_A:
		return len == 4;
	case DNS_T_AAAA:
		return len == 16;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		/* (wire_name() is 0 for no name: \# 0 is none.) */
		return len && wire_name(p, len) == len;
	case DNS_T_MX:
		return len > 2 && wire_name(p + 2, len - 2) == len - 2;
	case DNS_T_SRV:
		return len > 6 && wire_name(p + 6, len - 6) == len - 6;
	case DNS_T_SOA:
		n = wire_name(p, len);
		if (!n)
			return false;
		m = wire_name(p + n, len - n);
		return m && len - n - m == 20;
	case DNS_T_TXT:
		if (len == 0)
			return false;
		for (i = 0; i < len; i += 1 + (size_t)p[i])
			;
		return i == len;
	default:
		return true;
	}
}

static int generic(uint16_t type, struct rd *r, const struct dns_field *f,
		   unsigned nf, char *err, size_t errsz)
{
	uint32_t len;

	if (nf < 2 || num(&f[1], 65535, &len) < 0) {
		seterr(err, errsz, "generic RDATA is \\# length hex...");
		return -1;
	}
	if (hex(r, f + 2, nf - 2, "generic RDATA", err, errsz) < 0)
		return -1;
	if (r->len != len) {
		seterr(err, errsz,
		       "generic RDATA: length %u but %zu bytes of hex", len,
		       r->len);
		return -1;
	}
	if (!wire_ok(type, r->b, r->len)) {
		seterr(err, errsz,
		       "generic RDATA is not valid for type %s",
		       dns_type_name(type));
		return -1;
	}
	return 0;
}

/* ---- By type -------------------------------------------------------------- */

static int addr(uint16_t type, struct rd *r, const struct dns_field *f,
		char *err, size_t errsz)
{
	char tmp[64];
	uint8_t a[16];
	int af = type == DNS_T_A ? AF_INET : AF_INET6;

	if (f->quoted || f->len >= sizeof(tmp))
		goto bad;
	memcpy(tmp, f->s, f->len);
	tmp[f->len] = 0;
	if (inet_pton(af, tmp, a) != 1)
		goto bad;
	put(r, a, type == DNS_T_A ? 4 : 16);
	return 0;
bad:
	seterr(err, errsz, "\"%.*s\" is not an IPv%c address",
	       (int)(f->len > 64 ? 64 : f->len), f->s,
	       type == DNS_T_A ? '4' : '6');
	return -1;
}

/* Numbers n[0..count) of fields f, each within max[i]; what names them. */
static int numbers(struct rd *r, const struct dns_field *f, unsigned count,
		   const uint32_t *max, const char *what, char *err,
		   size_t errsz)
{
	for (unsigned i = 0; i < count; i++) {
		uint32_t v;

		if (num(&f[i], max[i], &v) < 0) {
			seterr(err, errsz, "%s", what);
			return -1;
		}
		if (max[i] == 255)
			put8(r, v);
		else if (max[i] == 65535)
			put16(r, v);
		else
			put32(r, v);
	}
	return 0;
}

static const uint32_t m8x3[] = {255, 255, 255};

int dns_rdata_parse(uint16_t type, const struct dns_field *f, unsigned nf,
		    const uint8_t *origin, uint8_t *out, char *err,
		    size_t errsz)
{
	struct rd r = {out, 0, false};
	int rc = -1;

	if (nf >= 1 && !f[0].quoted && f[0].len == 2 && f[0].s[0] == '\\' &&
	    f[0].s[1] == '#') {
		rc = generic(type, &r, f, nf, err, errsz);
		goto done;
	}
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (want(nf, 1, type == DNS_T_A ? "A" : "AAAA", err, errsz) < 0)
			return -1;
		rc = addr(type, &r, &f[0], err, errsz);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (want(nf, 1, dns_type_name(type), err, errsz) < 0)
			return -1;
		rc = name(&r, &f[0], origin, err, errsz);
		break;
	case DNS_T_MX: {
		static const uint32_t m[] = {65535};

		if (want(nf, 2, "MX", err, errsz) < 0 ||
		    numbers(&r, f, 1, m, "MX preference must be 0-65535", err,
			    errsz) < 0)
			return -1;
		rc = name(&r, &f[1], origin, err, errsz);
		break;
	}
	case DNS_T_SRV: {
		static const uint32_t m[] = {65535, 65535, 65535};

		if (want(nf, 4, "SRV", err, errsz) < 0 ||
		    numbers(&r, f, 3, m,
			    "SRV priority, weight and port must be 0-65535",
			    err, errsz) < 0)
			return -1;
		rc = name(&r, &f[3], origin, err, errsz);
		break;
	}
	case DNS_T_SOA: {
		uint32_t v;

		if (want(nf, 7, "SOA", err, errsz) < 0 ||
		    name(&r, &f[0], origin, err, errsz) < 0 ||
		    name(&r, &f[1], origin, err, errsz) < 0)
			return -1;
		if (num(&f[2], 0xffffffffu, &v) < 0) {
			seterr(err, errsz, "SOA serial must be 0-4294967295");
			return -1;
		}
		put32(&r, v);
		for (int i = 3; i < 7; i++) {
			if (f[i].quoted || dns_ttl_parse(f[i].s, f[i].len, &v) < 0) {
				seterr(err, errsz,
				       "SOA refresh, retry, expire and minimum "
				       "must be times (0-2147483647 s)");
				return -1;
			}
			put32(&r, v);
		}
		rc = 0;
		break;
	}
	case DNS_T_TXT:
		if (nf == 0) {
			seterr(err, errsz, "TXT needs at least one string");
			return -1;
		}
		for (unsigned i = 0; i < nf; i++)
			if (charstr(&r, &f[i], "TXT string", err, errsz) < 0)
				return -1;
		rc = 0;
		break;
	case DNS_T_NAPTR: {
		static const uint32_t m[] = {65535, 65535};

		/* RFC 3403 §4.1: order preference flags service regexp
		 * replacement. */
		if (want(nf, 6, "NAPTR", err, errsz) < 0 ||
		    numbers(&r, f, 2, m,
			    "NAPTR order and preference must be 0-65535", err,
			    errsz) < 0 ||
		    charstr(&r, &f[2], "NAPTR flags", err, errsz) < 0 ||
		    charstr(&r, &f[3], "NAPTR service", err, errsz) < 0 ||
		    charstr(&r, &f[4], "NAPTR regexp", err, errsz) < 0)
			return -1;
		rc = name(&r, &f[5], origin, err, errsz);
		break;
	}
	case DNS_T_DS: {
		static const uint32_t m[] = {65535, 255, 255};

		/* RFC 4034 §5.3: key tag, algorithm, digest type, digest. */
		if (at_least(nf, 4, "DS", err, errsz) < 0 ||
		    numbers(&r, f, 3, m,
			    "DS key tag must be 0-65535, algorithm and digest "
			    "type 0-255",
			    err, errsz) < 0)
			return -1;
		rc = hex(&r, f + 3, nf - 3, "DS digest", err, errsz);
		break;
	}
	case DNS_T_SSHFP:
		/* RFC 4255 §3.2: algorithm, fingerprint type, fingerprint. */
		if (at_least(nf, 3, "SSHFP", err, errsz) < 0 ||
		    numbers(&r, f, 2, m8x3,
			    "SSHFP algorithm and type must be 0-255", err,
			    errsz) < 0)
			return -1;
		rc = hex(&r, f + 2, nf - 2, "SSHFP fingerprint", err, errsz);
		break;
	case DNS_T_TLSA:
		/* RFC 6698 §2.2: usage, selector, matching type, data. */
		if (at_least(nf, 4, "TLSA", err, errsz) < 0 ||
		    numbers(&r, f, 3, m8x3,
			    "TLSA usage, selector and matching type must be "
			    "0-255",
			    err, errsz) < 0)
			return -1;
		rc = hex(&r, f + 3, nf - 3, "TLSA data", err, errsz);
		break;
	case DNS_T_SVCB:
	case DNS_T_HTTPS:
		rc = svcb(&r, f, nf, origin, err, errsz);
		break;
	case DNS_T_CAA: {
		static uint8_t v[DNS_RDATA_MAX];
		int l;

		/* RFC 8659 §4.1: flags, tag (1-15 letters and digits),
		 * value (the rest of the RDATA). */
		if (want(nf, 3, "CAA", err, errsz) < 0 ||
		    numbers(&r, f, 1, m8x3, "CAA flags must be 0-255", err,
			    errsz) < 0)
			return -1;
		if (f[1].quoted || f[1].len < 1 || f[1].len > 15)
			goto badtag;
		for (size_t i = 0; i < f[1].len; i++) {
			char c = f[1].s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9')))
				goto badtag;
		}
		put8(&r, (uint32_t)f[1].len);
		put(&r, f[1].s, f[1].len);
		l = dns_unescape(f[2].s, f[2].len, 0, v, sizeof(v), NULL);
		if (l < 0) {
			seterr(err, errsz, "CAA value: bad escape");
			return -1;
		}
		put(&r, v, (size_t)l);
		rc = 0;
		break;
badtag:
		seterr(err, errsz, "CAA tag must be 1-15 letters and digits");
		return -1;
	}
	default:
		seterr(err, errsz,
		       "type %u has no presentation form here: write its "
		       "RDATA as \\# length hex (RFC 3597)",
		       type);
		return -1;
	}
done:
	if (rc < 0)
		return -1;
	if (r.full) {
		seterr(err, errsz, "RDATA over 65535 bytes");
		return -1;
	}
	return (int)r.len;
}
