/*
 * Zone parsing and lookup; see zone.h.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/text.h>

#include "zone.h"

#define MAX_FIELDS 128

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

/* Decode backslash escapes (\X, \DDD) of s[0..len) into out (max bytes).
 * Stops at an unescaped `stop` character when stop is non-zero; *used gets
 * the characters consumed.  Returns the bytes written or -1. */
static int unescape(const char *s, size_t len, char stop, uint8_t *out,
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

int dns_name_from_text(const char *s, size_t len, const uint8_t *origin,
		       uint8_t *out, char *err, size_t errsz)
{
	size_t n = 0, i = 0;
	bool absolute = false;

	if (len == 1 && s[0] == '@') {
		if (!origin) {
			seterr(err, errsz, "@ needs a zone");
			return -1;
		}
		memcpy(out, origin, dns_name_len(origin));
		return 0;
	}
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		return 0;
	}
	if (len == 0) {
		seterr(err, errsz, "empty name");
		return -1;
	}
	while (i < len) {
		uint8_t label[DNS_LABEL_MAX + 1];
		size_t used;
		int l = unescape(s + i, len - i, '.', label, sizeof(label),
				 &used);

		if (l < 0 || l > DNS_LABEL_MAX) {
			seterr(err, errsz,
			       "bad label in \"%.*s\" (at most 63 bytes)",
			       (int)len, s);
			return -1;
		}
		if (l == 0) {
			seterr(err, errsz, "empty label in \"%.*s\"", (int)len,
			       s);
			return -1;
		}
		if (n + 1 + (size_t)l + 1 > DNS_NAME_MAX) {
			seterr(err, errsz, "name \"%.*s\" over 255 bytes",
			       (int)len, s);
			return -1;
		}
		out[n++] = (uint8_t)l;
		memcpy(out + n, label, (size_t)l);
		n += (size_t)l;
		i += used;
		if (i < len) { /* the dot */
			i++;
			if (i == len)
				absolute = true;
		}
	}
	if (!absolute && !origin) {
		seterr(err, errsz, "\"%.*s\" is not an absolute name",
		       (int)len, s);
		return -1;
	}
	if (!absolute) {
		size_t ol = dns_name_len(origin);

		if (n + ol > DNS_NAME_MAX) {
			seterr(err, errsz, "name \"%.*s\" over 255 bytes",
			       (int)len, s);
			return -1;
		}
		memcpy(out + n, origin, ol);
	} else {
		out[n] = 0;
	}
	return 0;
}

/* ---- Zone storage ------------------------------------------------------ */

struct dns_zone *dns_zone_new(const char *origin, char *err, size_t errsz)
{
	struct dns_zone *z = calloc(1, sizeof(*z));
	size_t len = strlen(origin);

	if (!z) {
		seterr(err, errsz, "out of memory");
		return NULL;
	}
	/* The zone's name is absolute with or without its final dot. */
	if (len && origin[len - 1] == '.' &&
	    !(len >= 2 && origin[len - 2] == '\\'))
		len--;
	if (len == 0) {
		z->origin[0] = 0;
	} else {
		char tmp[1100];

		if (len + 2 > sizeof(tmp)) {
			seterr(err, errsz, "zone name too long");
			free(z);
			return NULL;
		}
		memcpy(tmp, origin, len);
		tmp[len] = '.';
		if (dns_name_from_text(tmp, len + 1, NULL, z->origin, err,
				       errsz) < 0) {
			free(z);
			return NULL;
		}
	}
	z->tabsize = 64;
	z->tab = calloc(z->tabsize, sizeof(*z->tab));
	if (!z->tab) {
		seterr(err, errsz, "out of memory");
		free(z);
		return NULL;
	}
	return z;
}

void dns_zone_free(struct dns_zone *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->tabsize; i++) {
		struct dns_node *n = z->tab[i], *nn;

		for (; n; n = nn) {
			struct dns_rrset *s = n->sets, *sn;

			nn = n->hnext;
			for (; s; s = sn) {
				sn = s->next;
				for (unsigned k = 0; k < s->n; k++)
					free(s->rr[k].rdata);
				free(s->rr);
				free(s);
			}
			free(n->name);
			free(n);
		}
	}
	free(z->tab);
	free(z);
}

struct dns_node *dns_zone_find(const struct dns_zone *z, const uint8_t *name)
{
	struct dns_node *n = z->tab[dns_name_hash(name) & (z->tabsize - 1)];

	for (; n; n = n->hnext)
		if (dns_name_eq(n->name, name))
			return n;
	return NULL;
}

const struct dns_rrset *dns_node_rrset(const struct dns_node *n,
				       uint16_t type)
{
	for (const struct dns_rrset *s = n ? n->sets : NULL; s; s = s->next)
		if (s->type == type)
			return s;
	return NULL;
}

const struct dns_rrset *dns_zone_soa(const struct dns_zone *z)
{
	return dns_node_rrset(z->apex, DNS_T_SOA);
}

uint32_t dns_zone_neg_ttl(const struct dns_zone *z)
{
	const struct dns_rrset *s = dns_zone_soa(z);
	const uint8_t *rd;
	uint32_t min;

	if (!s)
		return 0;
	/* SOA RDATA ends with the MINIMUM field. */
	rd = s->rr[0].rdata + s->rr[0].rdlen - 4;
	min = tapir_get_be32(rd);
	return min < s->rr[0].ttl ? min : s->rr[0].ttl;
}

static int grow(struct dns_zone *z)
{
	size_t ns = z->tabsize * 2;
	struct dns_node **t = calloc(ns, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < z->tabsize; i++) {
		struct dns_node *n = z->tab[i], *nn;

		for (; n; n = nn) {
			size_t h = dns_name_hash(n->name) & (ns - 1);

			nn = n->hnext;
			n->hnext = t[h];
			t[h] = n;
		}
	}
	free(z->tab);
	z->tab = t;
	z->tabsize = ns;
	return 0;
}

/* The node for name, created (with its empty non-terminals up to the
 * apex) when missing. */
static struct dns_node *get_node(struct dns_zone *z, const uint8_t *name)
{
	struct dns_node *n = dns_zone_find(z, name);
	size_t len, h;

	if (n)
		return n;
	if (z->nnodes >= z->tabsize && grow(z) < 0)
		return NULL;
	n = calloc(1, sizeof(*n));
	len = dns_name_len(name);
	if (!n || !(n->name = malloc(len))) {
		free(n);
		return NULL;
	}
	memcpy(n->name, name, len);
	h = dns_name_hash(name) & (z->tabsize - 1);
	n->hnext = z->tab[h];
	z->tab[h] = n;
	z->nnodes++;
	if (dns_name_eq(name, z->origin))
		z->apex = n;
	else if (!get_node(z, dns_name_skip(name, 1)))
		return NULL;
	return n;
}

/* ---- Record lines -------------------------------------------------------- */

struct field {
	const char *s;
	size_t len;
	bool quoted;
};

/* Split line into fields: whitespace separated, "quoted strings" as one
 * field, ';' outside quotes starts a comment. */
static int split(const char *line, struct field *f, unsigned *nf, char *err,
		 size_t errsz)
{
	const char *p = line;

	*nf = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == ';')
			return 0;
		if (*nf >= MAX_FIELDS) {
			seterr(err, errsz, "more than %d fields", MAX_FIELDS);
			return -1;
		}
		if (*p == '"') {
			const char *s = ++p;

			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p != '"') {
				seterr(err, errsz, "unterminated quote");
				return -1;
			}
			f[*nf] = (struct field){s, (size_t)(p - s), true};
			p++;
		} else {
			const char *s = p;

			while (*p && *p != ' ' && *p != '\t' && *p != ';' &&
			       *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			f[*nf] = (struct field){s, (size_t)(p - s), false};
		}
		if (!f[*nf].quoted &&
		    ((f[*nf].len == 1 && (*f[*nf].s == '(' || *f[*nf].s == ')')))) {
			seterr(err, errsz,
			       "parentheses: a record is one line here");
			return -1;
		}
		(*nf)++;
	}
}

static bool field_is(const struct field *f, const char *word)
{
	return !f->quoted && tapir_ieq_str(f->s, f->len, word);
}

/* Unsigned decimal up to max. */
static int parse_num(const struct field *f, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (f->quoted || !tapir_dec_parse(f->s, f->len, 10, max, &x))
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* A TTL: seconds, or numbers with units (1h30m). */
static int parse_ttl(const struct field *f, uint32_t *v)
{
	uint64_t total = 0, cur = 0;
	bool digits = false;

	if (f->quoted || f->len == 0 || f->len > 32)
		return -1;
	for (size_t i = 0; i < f->len; i++) {
		char c = f->s[i];
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

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{"A", DNS_T_A},	    {"NS", DNS_T_NS},	  {"CNAME", DNS_T_CNAME},
	{"SOA", DNS_T_SOA}, {"PTR", DNS_T_PTR},	  {"MX", DNS_T_MX},
	{"TXT", DNS_T_TXT}, {"AAAA", DNS_T_AAAA}, {"SRV", DNS_T_SRV},
};

static bool field_type(const struct field *f, uint16_t *type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (field_is(f, types[i].name)) {
			*type = types[i].type;
			return true;
		}
	return false;
}

struct rdbuf {
	uint8_t b[DNS_MSG_MAX];
	size_t len;
};

static int rd_put(struct rdbuf *r, const void *p, size_t n)
{
	if (n > sizeof(r->b) - r->len)
		return -1;
	memcpy(r->b + r->len, p, n);
	r->len += n;
	return 0;
}

static int rd_u16(struct rdbuf *r, uint32_t v)
{
	uint8_t b[2];

	tapir_put_be16(b, (uint16_t)v);
	return rd_put(r, b, 2);
}

static int rd_u32(struct rdbuf *r, uint32_t v)
{
	uint8_t b[4];

	tapir_put_be32(b, v);
	return rd_put(r, b, 4);
}

static int rd_name(struct rdbuf *r, const struct field *f,
		   const uint8_t *origin, char *err, size_t errsz)
{
	uint8_t name[DNS_NAME_MAX];

	if (f->quoted) {
		seterr(err, errsz, "a name cannot be quoted");
		return -1;
	}
	if (dns_name_from_text(f->s, f->len, origin, name, err, errsz) < 0)
		return -1;
	return rd_put(r, name, dns_name_len(name));
}

/* RDATA of type from fields f[0..nf). */
static int parse_rdata(uint16_t type, const struct field *f, unsigned nf,
		       const uint8_t *origin, struct rdbuf *r, char *err,
		       size_t errsz)
{
	static const unsigned want[] = {
		[DNS_T_A] = 1,	  [DNS_T_NS] = 1,  [DNS_T_CNAME] = 1,
		[DNS_T_SOA] = 7,  [DNS_T_PTR] = 1, [DNS_T_MX] = 2,
		[DNS_T_AAAA] = 1, [DNS_T_SRV] = 4,
	};
	char tmp[64];
	uint32_t v[5];

	r->len = 0;
	if (type != DNS_T_TXT && nf != want[type]) {
		seterr(err, errsz, "%s takes %u field%s, not %u",
		       type == DNS_T_SOA ? "SOA" : "this type", want[type],
		       want[type] == 1 ? "" : "s", nf);
		return -1;
	}
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA: {
		uint8_t a[16];
		int af = type == DNS_T_A ? AF_INET : AF_INET6;

		if (f[0].quoted || f[0].len >= sizeof(tmp))
			goto badaddr;
		memcpy(tmp, f[0].s, f[0].len);
		tmp[f[0].len] = 0;
		if (inet_pton(af, tmp, a) != 1)
			goto badaddr;
		return rd_put(r, a, type == DNS_T_A ? 4 : 16);
badaddr:
		seterr(err, errsz, "\"%.*s\" is not an IPv%c address",
		       (int)f[0].len, f[0].s, type == DNS_T_A ? '4' : '6');
		return -1;
	}
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		return rd_name(r, &f[0], origin, err, errsz);
	case DNS_T_MX:
		if (parse_num(&f[0], 65535, &v[0]) < 0) {
			seterr(err, errsz, "MX preference must be 0-65535");
			return -1;
		}
		rd_u16(r, v[0]);
		return rd_name(r, &f[1], origin, err, errsz);
	case DNS_T_SRV:
		for (int i = 0; i < 3; i++)
			if (parse_num(&f[i], 65535, &v[i]) < 0) {
				seterr(err, errsz,
				       "SRV priority, weight and port must be "
				       "0-65535");
				return -1;
			}
		rd_u16(r, v[0]);
		rd_u16(r, v[1]);
		rd_u16(r, v[2]);
		return rd_name(r, &f[3], origin, err, errsz);
	case DNS_T_SOA:
		if (rd_name(r, &f[0], origin, err, errsz) < 0 ||
		    rd_name(r, &f[1], origin, err, errsz) < 0)
			return -1;
		if (parse_num(&f[2], 0xffffffffu, &v[0]) < 0) {
			seterr(err, errsz, "SOA serial must be 0-4294967295");
			return -1;
		}
		for (int i = 1; i < 5; i++)
			if (parse_ttl(&f[2 + i], &v[i]) < 0) {
				seterr(err, errsz,
				       "SOA refresh, retry, expire and minimum "
				       "must be times (0-2147483647 s)");
				return -1;
			}
		for (int i = 0; i < 5; i++)
			rd_u32(r, v[i]);
		return 0;
	case DNS_T_TXT:
		if (nf == 0) {
			seterr(err, errsz, "TXT needs at least one string");
			return -1;
		}
		for (unsigned i = 0; i < nf; i++) {
			uint8_t s[256];
			int l = unescape(f[i].s, f[i].len, 0, s + 1, 255, NULL);

			if (l < 0) {
				seterr(err, errsz,
				       "TXT string \"%.*s\": bad escape or "
				       "over 255 bytes",
				       (int)(f[i].len > 40 ? 40 : f[i].len),
				       f[i].s);
				return -1;
			}
			s[0] = (uint8_t)l;
			if (rd_put(r, s, 1 + (size_t)l) < 0) {
				seterr(err, errsz, "TXT over 65535 bytes");
				return -1;
			}
		}
		return 0;
	}
	seterr(err, errsz, "unsupported type");
	return -1;
}

static int add_rr(struct dns_zone *z, struct dns_node *n, uint16_t type,
		  uint32_t ttl, const struct rdbuf *r, char *err, size_t errsz)
{
	struct dns_rrset *s, **tail = &n->sets;
	struct dns_rr *nr;

	for (s = n->sets; s; s = s->next) {
		tail = &s->next;
		if (s->type == type)
			break;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			goto oom;
		s->type = type;
		*tail = s;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (s->rr[i].rdlen == r->len &&
		    memcmp(s->rr[i].rdata, r->b, r->len) == 0) {
			seterr(err, errsz, "duplicate record");
			return -1;
		}
	if (s->n >= 4096) {
		seterr(err, errsz, "more than 4096 records in one RRset");
		return -1;
	}
	nr = realloc(s->rr, (s->n + 1) * sizeof(*nr));
	if (!nr)
		goto oom;
	s->rr = nr;
	nr[s->n].ttl = ttl;
	nr[s->n].rdlen = (uint16_t)r->len;
	nr[s->n].rdata = malloc(r->len ? r->len : 1);
	if (!nr[s->n].rdata)
		goto oom;
	memcpy(nr[s->n].rdata, r->b, r->len);
	s->n++;
	z->records++;
	return 0;
oom:
	seterr(err, errsz, "out of memory");
	return -1;
}

int dns_zone_add_line(struct dns_zone *z, const char *line,
		      uint32_t default_ttl, char *err, size_t errsz)
{
	struct field f[MAX_FIELDS];
	unsigned nf, i = 1;
	uint32_t ttl = default_ttl;
	bool have_ttl = false, have_class = false;
	uint16_t type = 0;
	uint8_t owner[DNS_NAME_MAX];
	struct rdbuf *r;
	struct dns_node *n;
	const struct dns_rrset *s;
	char oname[1100];
	int rc;

	if (split(line, f, &nf, err, errsz) < 0)
		return -1;
	if (nf < 2) {
		seterr(err, errsz, "a record is: owner [ttl] [class] type data");
		return -1;
	}
	if (f[0].quoted || dns_name_from_text(f[0].s, f[0].len, z->origin,
					      owner, err, errsz) < 0) {
		if (f[0].quoted)
			seterr(err, errsz, "the owner cannot be quoted");
		return -1;
	}
	dns_name_to_text(owner, oname, sizeof(oname));
	if (!dns_name_under(owner, z->origin)) {
		seterr(err, errsz, "%s is outside the zone", oname);
		return -1;
	}
	for (; i < nf; i++) {
		if (field_type(&f[i], &type))
			break;
		if (!have_class && field_is(&f[i], "IN")) {
			have_class = true;
			continue;
		}
		if (!have_ttl && f[i].len && f[i].s[0] >= '0' &&
		    f[i].s[0] <= '9') {
			if (parse_ttl(&f[i], &ttl) < 0) {
				seterr(err, errsz,
				       "bad TTL \"%.*s\" (0-2147483647 s, "
				       "units s m h d w)",
				       (int)f[i].len, f[i].s);
				return -1;
			}
			have_ttl = true;
			continue;
		}
		if (field_is(&f[i], "CH") || field_is(&f[i], "HS") ||
		    field_is(&f[i], "CS") || field_is(&f[i], "ANY"))
			seterr(err, errsz, "only class IN is served");
		else
			seterr(err, errsz,
			       "unknown or unsupported type \"%.*s\" (A, "
			       "AAAA, CNAME, PTR, NS, MX, TXT, SRV, SOA)",
			       (int)f[i].len, f[i].s);
		return -1;
	}
	if (i >= nf) {
		seterr(err, errsz, "no type");
		return -1;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	rc = parse_rdata(type, f + i + 1, nf - i - 1, z->origin, r, err,
			 errsz);
	if (rc < 0)
		goto out;
	rc = -1;
	n = dns_zone_find(z, owner);
	if (type == DNS_T_SOA && !dns_name_eq(owner, z->origin)) {
		seterr(err, errsz, "SOA at %s: only at the zone's apex", oname);
		goto out;
	}
	if (type == DNS_T_SOA && dns_node_rrset(n, DNS_T_SOA)) {
		seterr(err, errsz, "a second SOA: one per zone");
		goto out;
	}
	if (type == DNS_T_NS && !dns_name_eq(owner, z->origin)) {
		seterr(err, errsz,
		       "NS at %s: delegations below the apex are not served",
		       oname);
		goto out;
	}
	if (type == DNS_T_CNAME && n && n->sets) {
		seterr(err, errsz,
		       "CNAME at %s, which has other data (RFC 2181 10.1)",
		       oname);
		goto out;
	}
	if (type != DNS_T_CNAME && (s = dns_node_rrset(n, DNS_T_CNAME))) {
		seterr(err, errsz, "%s has a CNAME: no other data there",
		       oname);
		goto out;
	}
	n = get_node(z, owner);
	if (!n) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	rc = add_rr(z, n, type, ttl, r, err, errsz);
out:
	free(r);
	return rc;
}

int dns_zone_finish(const struct dns_zone *z, char *err, size_t errsz)
{
	if (!dns_zone_soa(z)) {
		seterr(err, errsz, "the zone has no SOA record");
		return -1;
	}
	return 0;
}

/* ---- Zone sets and automatic PTR -------------------------------------------- */

void dns_zones_init(struct dns_zones *zs)
{
	memset(zs, 0, sizeof(*zs));
}

int dns_zones_add(struct dns_zones *zs, struct dns_zone *z)
{
	struct dns_zone **nz = realloc(zs->z, (zs->n + 1) * sizeof(*nz));

	if (!nz)
		return -1;
	zs->z = nz;
	zs->z[zs->n++] = z;
	return 0;
}

static uint32_t addr_hash(const uint8_t *a, unsigned len)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < len; i++) {
		h ^= a[i];
		h *= 16777619u;
	}
	return h;
}

int dns_zones_index(struct dns_zones *zs)
{
	size_t count = 0, size = 16;

	for (unsigned i = 0; i < zs->n; i++)
		count += zs->z[i]->records;
	while (size < count * 2)
		size *= 2;
	zs->atab = calloc(size, sizeof(*zs->atab));
	if (!zs->atab)
		return -1;
	zs->atabsize = size;
	for (unsigned i = 0; i < zs->n; i++) {
		const struct dns_zone *z = zs->z[i];

		for (size_t b = 0; b < z->tabsize; b++)
			for (const struct dns_node *n = z->tab[b]; n;
			     n = n->hnext)
				for (const struct dns_rrset *s = n->sets; s;
				     s = s->next) {
					if (s->type != DNS_T_A &&
					    s->type != DNS_T_AAAA)
						continue;
					for (unsigned k = 0; k < s->n; k++) {
						struct dns_addr_ent *e =
							calloc(1, sizeof(*e));
						size_t h;

						if (!e)
							return -1;
						e->len = (uint8_t)s->rr[k].rdlen;
						memcpy(e->addr, s->rr[k].rdata,
						       e->len);
						e->ttl = s->rr[k].ttl;
						e->owner = n->name;
						h = addr_hash(e->addr, e->len) &
						    (size - 1);
						e->next = zs->atab[h];
						zs->atab[h] = e;
					}
				}
	}
	return 0;
}

void dns_zones_free(struct dns_zones *zs)
{
	for (size_t i = 0; i < zs->atabsize; i++) {
		struct dns_addr_ent *e = zs->atab[i], *en;

		for (; e; e = en) {
			en = e->next;
			free(e);
		}
	}
	free(zs->atab);
	for (unsigned i = 0; i < zs->n; i++)
		dns_zone_free(zs->z[i]);
	free(zs->z);
	dns_zones_init(zs);
}

const struct dns_zone *dns_zones_find(const struct dns_zones *zs,
				      const uint8_t *name)
{
	const struct dns_zone *best = NULL;
	unsigned best_labels = 0;

	for (unsigned i = 0; i < zs->n; i++) {
		unsigned l = dns_name_labels(zs->z[i]->origin);

		if ((!best || l > best_labels) &&
		    dns_name_under(name, zs->z[i]->origin)) {
			best = zs->z[i];
			best_labels = l;
		}
	}
	return best;
}

static const uint8_t in_addr_arpa[] = "\7in-addr\4arpa";
static const uint8_t ip6_arpa[] = "\3ip6\4arpa";

unsigned dns_reverse_addr(const uint8_t *name, uint8_t addr[16])
{
	unsigned labels = dns_name_labels(name);
	const uint8_t *p = name;

	if (labels == 6 && dns_name_eq(dns_name_skip(name, 4), in_addr_arpa)) {
		for (int i = 3; i >= 0; i--) {
			unsigned v = 0;

			if (*p < 1 || *p > 3 || (*p > 1 && p[1] == '0'))
				return 0;
			for (unsigned k = 1; k <= *p; k++) {
				if (p[k] < '0' || p[k] > '9')
					return 0;
				v = v * 10 + (unsigned)(p[k] - '0');
			}
			if (v > 255)
				return 0;
			addr[i] = (uint8_t)v;
			p += 1 + *p;
		}
		return 4;
	}
	if (labels == 34 && dns_name_eq(dns_name_skip(name, 32), ip6_arpa)) {
		memset(addr, 0, 16);
		for (int i = 31; i >= 0; i--) {
			int v;

			if (*p != 1 || (v = tapir_hexval(p[1])) < 0)
				return 0;
			addr[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
			p += 2;
		}
		return 16;
	}
	return 0;
}

const struct dns_addr_ent *dns_zones_addr(const struct dns_zones *zs,
					  const uint8_t *addr, unsigned len)
{
	const struct dns_addr_ent *e;

	if (!zs->atabsize)
		return NULL;
	e = zs->atab[addr_hash(addr, len) & (zs->atabsize - 1)];
	for (; e; e = e->next)
		if (e->len == len && memcmp(e->addr, addr, len) == 0)
			return e;
	return NULL;
}
