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
		int l = dns_unescape(s + i, len - i, '.', label, sizeof(label),
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
	for (unsigned i = 0; i < z->nlines; i++)
		free(z->lines[i]);
	free(z->lines);
	free(z->file);
	for (unsigned i = 0; i < z->nfiles; i++)
		free(z->files[i].path);
	free(z->files);
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

/* Split line into fields: whitespace separated, "quoted strings" as one
 * field, ';' outside quotes starts a comment. */
static int split(const char *line, struct dns_field *f, unsigned *nf,
		 char *err, size_t errsz)
{
	const char *p = line;

	*nf = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == ';')
			return 0;
		if (*nf >= DNS_FIELDS_MAX) {
			seterr(err, errsz, "more than %d fields", DNS_FIELDS_MAX);
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
			f[*nf] = (struct dns_field){s, (size_t)(p - s), true};
			p++;
		} else {
			const char *s = p;

			while (*p && *p != ' ' && *p != '\t' && *p != ';' &&
			       *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			f[*nf] = (struct dns_field){s, (size_t)(p - s), false};
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

static bool field_is(const struct dns_field *f, const char *word)
{
	return !f->quoted && tapir_ieq_str(f->s, f->len, word);
}

static int add_rr(struct dns_zone *z, struct dns_node *n, uint16_t type,
		  uint32_t ttl, const uint8_t *rd, size_t rdlen, char *err,
		  size_t errsz)
{
	struct dns_rrset *s, **tail = &n->sets;
	struct dns_rr *nr;

	if (z->records >= DNS_ZONE_RECORDS_MAX) {
		seterr(err, errsz, "more than %u records in the zone",
		       DNS_ZONE_RECORDS_MAX);
		return -1;
	}
	for (s = n->sets; s; s = s->next) {
		tail = &s->next;
		if (s->type == type)
			break;
	}
	if (s && s->n >= 4096) {
		seterr(err, errsz, "more than 4096 records in one RRset");
		return -1;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			goto oom;
		s->type = type;
		*tail = s;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (s->rr[i].rdlen == rdlen &&
		    memcmp(s->rr[i].rdata, rd, rdlen) == 0) {
			seterr(err, errsz, "duplicate record");
			return -1;
		}
	nr = realloc(s->rr, (s->n + 1) * sizeof(*nr));
	if (!nr)
		goto oom;
	s->rr = nr;
	nr[s->n].ttl = ttl;
	nr[s->n].rdlen = (uint16_t)rdlen;
	nr[s->n].rdata = malloc(rdlen ? rdlen : 1);
	if (!nr[s->n].rdata)
		goto oom;
	memcpy(nr[s->n].rdata, rd, rdlen);
	s->n++;
	z->records++;
	return 0;
oom:
	seterr(err, errsz, "out of memory");
	return -1;
}

int dns_zone_add_rr(struct dns_zone *z, const uint8_t *owner,
		    const uint8_t *origin, const struct dns_field *f,
		    unsigned nf, uint32_t default_ttl, char *err,
		    size_t errsz)
{
	unsigned i = 0;
	uint32_t ttl = default_ttl;
	bool have_ttl = false, have_class = false;
	uint16_t type = 0;
	uint8_t *rd;
	struct dns_node *n;
	char oname[1100];
	int rc, rdlen;

	dns_name_to_text(owner, oname, sizeof(oname));
	if (!dns_name_under(owner, z->origin)) {
		seterr(err, errsz, "%s is outside the zone", oname);
		return -1;
	}
	for (; i < nf; i++) {
		if (dns_type_from_field(&f[i], &type))
			break;
		/* RFC 3597 §5: CLASS1 is IN. */
		if (!have_class &&
		    (field_is(&f[i], "IN") || field_is(&f[i], "CLASS1"))) {
			have_class = true;
			continue;
		}
		if (!have_ttl && !f[i].quoted && f[i].len && f[i].s[0] >= '0' &&
		    f[i].s[0] <= '9') {
			if (dns_ttl_parse(f[i].s, f[i].len, &ttl) < 0) {
				seterr(err, errsz,
				       "bad TTL \"%.*s\" (0-2147483647 s, "
				       "units s m h d w)",
				       (int)(f[i].len > 40 ? 40 : f[i].len),
				       f[i].s);
				return -1;
			}
			have_ttl = true;
			continue;
		}
		if (field_is(&f[i], "CH") || field_is(&f[i], "HS") ||
		    field_is(&f[i], "CS") || field_is(&f[i], "ANY") ||
		    (!f[i].quoted && f[i].len > 5 &&
		     tapir_iprefix(f[i].s, f[i].len, "CLASS")))
			seterr(err, errsz, "only class IN is served");
		else
			seterr(err, errsz,
			       "unknown or unsupported type \"%.*s\" (A, "
			       "AAAA, CNAME, PTR, NS, MX, TXT, SRV, SOA, "
			       "NAPTR, DS, SSHFP, TLSA, SVCB, HTTPS, CAA, "
			       "TYPEnnn)",
			       (int)(f[i].len > 40 ? 40 : f[i].len), f[i].s);
		return -1;
	}
	if (i >= nf) {
		seterr(err, errsz, "no type");
		return -1;
	}
	if (!dns_type_storable(type)) {
		seterr(err, errsz, "type %u cannot be stored in a zone", type);
		return -1;
	}
	rd = malloc(DNS_RDATA_MAX);
	if (!rd) {
		seterr(err, errsz, "out of memory");
		return -1;
	}
	rc = -1;
	rdlen = dns_rdata_parse(type, f + i + 1, nf - i - 1, origin, rd, err,
				errsz);
	if (rdlen < 0)
		goto out;
	n = dns_zone_find(z, owner);
	if (type == DNS_T_SOA && !dns_name_eq(owner, z->origin)) {
		seterr(err, errsz, "SOA at %s: only at the zone's apex", oname);
		goto out;
	}
	if (type == DNS_T_SOA && dns_node_rrset(n, DNS_T_SOA)) {
		seterr(err, errsz, "a second SOA: one per zone");
		goto out;
	}
	if (type == DNS_T_DS && dns_name_eq(owner, z->origin)) {
		seterr(err, errsz,
		       "DS at the apex: it belongs in the parent zone "
		       "(RFC 4034 §5)");
		goto out;
	}
	if (type == DNS_T_CNAME && n && n->sets) {
		seterr(err, errsz,
		       "CNAME at %s, which has other data (RFC 2181 10.1)",
		       oname);
		goto out;
	}
	if (type != DNS_T_CNAME && dns_node_rrset(n, DNS_T_CNAME)) {
		seterr(err, errsz, "%s has a CNAME: no other data there",
		       oname);
		goto out;
	}
	n = get_node(z, owner);
	if (!n) {
		seterr(err, errsz, "out of memory");
		goto out;
	}
	rc = add_rr(z, n, type, ttl, rd, (size_t)rdlen, err, errsz);
out:
	free(rd);
	return rc;
}

int dns_zone_add_line(struct dns_zone *z, const char *line,
		      uint32_t default_ttl, char *err, size_t errsz)
{
	struct dns_field f[DNS_FIELDS_MAX];
	unsigned nf;
	uint8_t owner[DNS_NAME_MAX];

	if (split(line, f, &nf, err, errsz) < 0)
		return -1;
	if (nf < 2) {
		seterr(err, errsz, "a record is: owner [ttl] [class] type data");
		return -1;
	}
	if (f[0].quoted) {
		seterr(err, errsz, "the owner cannot be quoted");
		return -1;
	}
	if (dns_name_from_text(f[0].s, f[0].len, z->origin, owner, err,
			       errsz) < 0 ||
	    dns_zone_add_rr(z, owner, z->origin, f + 1, nf - 1, default_ttl,
			    err, errsz) < 0)
		return -1;
	/* Kept so that the zone can be read again with its master file. */
	{
		char **nl = realloc(z->lines, (z->nlines + 1) * sizeof(*nl));

		if (!nl || !(nl[z->nlines] = strdup(line))) {
			if (nl)
				z->lines = nl;
			seterr(err, errsz, "out of memory");
			return -1;
		}
		z->lines = nl;
		z->nlines++;
	}
	return 0;
}

int dns_zone_finish(const struct dns_zone *z, char *err, size_t errsz)
{
	if (!dns_zone_soa(z)) {
		seterr(err, errsz, "the zone has no SOA record");
		return -1;
	}
	return 0;
}

/* ---- Lookup: cuts and wildcards (RFC 1034 §4.3.2, RFC 4592) ----------------- */

enum dns_match dns_zone_match(const struct dns_zone *z, const uint8_t *qname,
			      uint16_t qtype, const struct dns_node **node)
{
	unsigned below;
	const struct dns_node *enc = z->apex; /* closest encloser so far */
	uint8_t wild[DNS_NAME_MAX + 2];
	size_t el;

	*node = NULL;
	if (!dns_name_under(qname, z->origin))
		return DNS_MATCH_NONE;
	below = dns_name_labels(qname) - dns_name_labels(z->origin);
	/* Down from the apex one label at a time: the first name that does
	 * not exist ends the walk, a cut (NS below the apex) ends it with a
	 * referral, except for DS at the cut itself, which is the parent's
	 * data (RFC 4035 §3.1.4.1). */
	for (unsigned d = 1; d <= below; d++) {
		const struct dns_node *n =
			dns_zone_find(z, dns_name_skip(qname, below - d));

		if (!n)
			break;
		if (dns_node_rrset(n, DNS_T_NS) &&
		    !(d == below && qtype == DNS_T_DS)) {
			*node = n;
			return DNS_MATCH_CUT;
		}
		enc = n;
		if (d == below) {
			*node = n;
			return DNS_MATCH_NODE;
		}
	}
	if (below == 0) {
		*node = z->apex;
		return z->apex ? DNS_MATCH_NODE : DNS_MATCH_NONE;
	}
	/* The source of synthesis is the wildcard child of the closest
	 * encloser (RFC 4592 §3.3.1); an existing name, an empty
	 * non-terminal too, blocks it by being the closer encloser. */
	if (!enc)
		return DNS_MATCH_NONE;
	el = dns_name_len(enc->name);
	if (el + 2 > DNS_NAME_MAX)
		return DNS_MATCH_NONE;
	wild[0] = 1;
	wild[1] = '*';
	memcpy(wild + 2, enc->name, el);
	*node = dns_zone_find(z, wild);
	if (*node)
		return DNS_MATCH_WILD;
	*node = enc;
	return DNS_MATCH_NONE;
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

void dns_zones_free_index(struct dns_zones *zs)
{
	for (size_t i = 0; i < zs->atabsize; i++) {
		struct dns_addr_ent *e = zs->atab[i], *en;

		for (; e; e = en) {
			en = e->next;
			free(e);
		}
	}
	free(zs->atab);
	zs->atab = NULL;
	zs->atabsize = 0;
}

void dns_zones_free(struct dns_zones *zs)
{
	dns_zones_free_index(zs);
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
