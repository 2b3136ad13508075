/*
 * DNS wire reader and writer; see wire.h.
 */
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/text.h>

#include "wire.h"

void dns_reader_init(struct dns_reader *r, const uint8_t *msg, size_t len)
{
	r->msg = msg;
	r->len = len;
	r->cur = tapir_cur(msg, len);
}

size_t dns_reader_pos(const struct dns_reader *r)
{
	return tapir_cur_ok(&r->cur) ? (size_t)(r->cur.p - r->msg) : r->len;
}

int dns_read_u8(struct dns_reader *r, uint8_t *v)
{
	*v = tapir_cur_u8(&r->cur);
	return tapir_cur_ok(&r->cur) ? 0 : -1;
}

int dns_read_u16(struct dns_reader *r, uint16_t *v)
{
	*v = tapir_cur_be16(&r->cur);
	return tapir_cur_ok(&r->cur) ? 0 : -1;
}

int dns_read_u32(struct dns_reader *r, uint32_t *v)
{
	*v = tapir_cur_be32(&r->cur);
	return tapir_cur_ok(&r->cur) ? 0 : -1;
}

int dns_skip(struct dns_reader *r, size_t n)
{
	return tapir_cur_skip(&r->cur, n) ? 0 : -1;
}

int dns_read_hdr(struct dns_reader *r, struct dns_hdr *h)
{
	if (dns_read_u16(r, &h->id) || dns_read_u16(r, &h->flags) ||
	    dns_read_u16(r, &h->qdcount) || dns_read_u16(r, &h->ancount) ||
	    dns_read_u16(r, &h->nscount) || dns_read_u16(r, &h->arcount))
		return -1;
	return 0;
}

int dns_read_name(struct dns_reader *r, uint8_t *out, size_t *outlen)
{
	struct tapir_cur c = r->cur; /* where the next label is read */
	struct tapir_cur after = c;  /* r->cur past the name, once known */
	size_t limit = dns_reader_pos(r); /* a pointer must go below this */
	size_t n = 0;                /* bytes written to out */
	unsigned jumps = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l = tapir_cur_u8(&c);
		const uint8_t *label;

		if (!tapir_cur_ok(&c))
			return -1;
		if ((l & 0xc0) == 0xc0) {
			uint8_t lo = tapir_cur_u8(&c);
			size_t target = (size_t)(l & 0x3f) << 8 | lo;

			/* Strictly backwards: before the pointer and before
			 * every label read so far, so no loop is possible
			 * (and target < limit <= len: inside the message). */
			if (!tapir_cur_ok(&c) || target >= limit ||
			    ++jumps > DNS_MAX_POINTERS)
				return -1;
			if (!jumped) {
				after = c;
				jumped = true;
			}
			c = tapir_cur(r->msg + target, r->len - target);
			limit = target;
			continue;
		}
		if (l & 0xc0)
			return -1; /* 01 and 10: extended and reserved types */
		if (n + 1 + l > DNS_NAME_MAX)
			return -1;
		if (l == 0) {
			out[n++] = 0;
			break;
		}
		label = tapir_cur_pull(&c, l);
		if (!label)
			return -1;
		out[n] = l;
		memcpy(out + n + 1, label, l);
		n += 1 + (size_t)l;
	}
	r->cur = jumped ? after : c;
	*outlen = n;
	return 0;
}

/* ---- Names ------------------------------------------------------------- */

size_t dns_name_len(const uint8_t *name)
{
	size_t n = 0;

	while (name[n])
		n += 1 + (size_t)name[n];
	return n + 1;
}

void dns_name_lower(uint8_t *name)
{
	size_t n = 0;

	while (name[n]) {
		for (size_t i = 1; i <= name[n]; i++)
			name[n + i] = tapir_lower(name[n + i]);
		n += 1 + (size_t)name[n];
	}
}

bool dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t n = 0;

	for (;;) {
		if (a[n] != b[n])
			return false;
		if (!a[n])
			return true;
		for (size_t i = 1; i <= a[n]; i++)
			if (tapir_lower(a[n + i]) != tapir_lower(b[n + i]))
				return false;
		n += 1 + (size_t)a[n];
	}
}

unsigned dns_name_labels(const uint8_t *name)
{
	unsigned k = 0;

	while (*name) {
		name += 1 + *name;
		k++;
	}
	return k;
}

const uint8_t *dns_name_skip(const uint8_t *name, unsigned drop)
{
	while (drop-- && *name)
		name += 1 + *name;
	return name;
}

bool dns_name_under(const uint8_t *name, const uint8_t *zone)
{
	unsigned ln = dns_name_labels(name), lz = dns_name_labels(zone);

	if (ln < lz)
		return false;
	return dns_name_eq(dns_name_skip(name, ln - lz), zone);
}

int dns_name_to_text(const uint8_t *name, char *buf, size_t size)
{
	size_t o = 0;

	if (!*name) {
		if (size < 2)
			return -1;
		memcpy(buf, ".", 2);
		return 1;
	}
	while (*name) {
		for (size_t i = 1; i <= *name; i++) {
			uint8_t c = name[i];
			int need = (c == '.' || c == '\\') ? 2
				   : (c <= ' ' || c > '~') ? 4
							   : 1;

			if (o + (size_t)need + 2 > size)
				return -1;
			if (need == 2) {
				buf[o++] = '\\';
				buf[o++] = (char)c;
			} else if (need == 4) {
				buf[o++] = '\\';
				buf[o++] = (char)('0' + c / 100);
				buf[o++] = (char)('0' + c / 10 % 10);
				buf[o++] = (char)('0' + c % 10);
			} else {
				buf[o++] = (char)c;
			}
		}
		buf[o++] = '.';
		name += 1 + *name;
	}
	buf[o] = 0;
	return (int)o;
}

uint32_t dns_name_hash(const uint8_t *name)
{
	uint32_t h = 2166136261u;
	size_t n = dns_name_len(name);

	for (size_t i = 0; i < n; i++) {
		h ^= tapir_lower(name[i]);
		h *= 16777619u;
	}
	return h;
}

/* ---- Writing ----------------------------------------------------------- */

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap,
		     size_t limit)
{
	w->buf = buf;
	w->cap = cap;
	w->limit = limit < cap ? limit : cap;
	w->len = 0;
	w->ncomp = 0;
}

static bool room(const struct dns_writer *w, size_t n)
{
	return w->len <= w->limit && w->limit - w->len >= n;
}

int dns_put_bytes(struct dns_writer *w, const void *p, size_t n)
{
	if (!room(w, n))
		return -1;
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

int dns_put_u8(struct dns_writer *w, uint8_t v)
{
	return dns_put_bytes(w, &v, 1);
}

int dns_put_u16(struct dns_writer *w, uint16_t v)
{
	uint8_t b[2];

	tapir_put_be16(b, v);
	return dns_put_bytes(w, b, 2);
}

int dns_put_u32(struct dns_writer *w, uint32_t v)
{
	uint8_t b[4];

	tapir_put_be32(b, v);
	return dns_put_bytes(w, b, 4);
}

void dns_put_u16_at(struct dns_writer *w, size_t off, uint16_t v)
{
	if (off + 2 <= w->len)
		tapir_put_be16(w->buf + off, v);
}

int dns_put_hdr(struct dns_writer *w, const struct dns_hdr *h)
{
	return dns_put_u16(w, h->id) || dns_put_u16(w, h->flags) ||
			       dns_put_u16(w, h->qdcount) ||
			       dns_put_u16(w, h->ancount) ||
			       dns_put_u16(w, h->nscount) ||
			       dns_put_u16(w, h->arcount)
		       ? -1
		       : 0;
}

/* Offset of an earlier name equal to suffix, or -1. */
static int find_comp(const struct dns_writer *w, const uint8_t *suffix)
{
	uint8_t tmp[DNS_NAME_MAX];

	for (unsigned i = 0; i < w->ncomp; i++) {
		struct dns_reader r;
		size_t n;

		dns_reader_init(&r, w->buf, w->len);
		if (dns_skip(&r, w->comp[i]) == 0 &&
		    dns_read_name(&r, tmp, &n) == 0 &&
		    dns_name_eq(tmp, suffix))
			return w->comp[i];
	}
	return -1;
}

int dns_put_name(struct dns_writer *w, const uint8_t *name, bool compress)
{
	const uint8_t *p = name;
	size_t start[DNS_NAME_MAX / 2 + 1];
	unsigned nstart = 0;

	while (*p) {
		int off = compress ? find_comp(w, p) : -1;

		if (off >= 0) {
			if (dns_put_u16(w, (uint16_t)(0xc000u | (unsigned)off)))
				return -1;
			goto remember;
		}
		start[nstart++] = w->len;
		if (dns_put_bytes(w, p, 1 + (size_t)*p))
			return -1;
		p += 1 + *p;
	}
	if (dns_put_u8(w, 0))
		return -1;
remember:
	for (unsigned i = 0; i < nstart && w->ncomp < DNS_COMP_MAX; i++)
		if (start[i] < 0x4000)
			w->comp[w->ncomp++] = (uint16_t)start[i];
	return 0;
}

struct dns_mark dns_writer_mark(const struct dns_writer *w)
{
	struct dns_mark m = {w->len, w->ncomp};

	return m;
}

void dns_writer_reset(struct dns_writer *w, struct dns_mark m)
{
	w->len = m.len;
	w->ncomp = m.ncomp;
}
