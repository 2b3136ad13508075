/* DHCPv6 messages for the tests; see dhcp6_msg.h. */
#include "dhcp6_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

void c6_begin(struct c6 *m, uint8_t type, uint32_t xid)
{
	m->b[0] = type;
	m->b[1] = (uint8_t)(xid >> 16);
	m->b[2] = (uint8_t)(xid >> 8);
	m->b[3] = (uint8_t)xid;
	m->n = 4;
}

void c6_opt(struct c6 *m, uint16_t code, const void *data, size_t len)
{
	put16(m->b + m->n, code);
	put16(m->b + m->n + 2, (uint16_t)len);
	if (len)
		memcpy(m->b + m->n + 4, data, len);
	m->n += 4 + len;
}

size_t c6_duid_bytes(uint8_t id, uint8_t out[10])
{
	static const uint8_t head[9] = {0, 3, 0, 1, 2, 0, 0, 0, 0};

	memcpy(out, head, 9);
	out[9] = id;
	return 10;
}

void c6_duid(struct c6 *m, uint16_t code, uint8_t id)
{
	uint8_t d[10];

	c6_opt(m, code, d, c6_duid_bytes(id, d));
}

void c6_ia_na(struct c6 *m, uint32_t iaid, const char *addr)
{
	uint8_t b[12 + 28] = {0};
	size_t n = 12;

	put32(b, iaid);
	if (addr) {
		struct tapir_addr a;

		tapir_addr_parse(addr, &a);
		put16(b + 12, 5);
		put16(b + 14, 24);
		memcpy(b + 16, a.b, 16);
		n += 28;
	}
	c6_opt(m, 3, b, n);
}

void c6_oro(struct c6 *m, ...)
{
	uint8_t b[64];
	size_t n = 0;
	va_list ap;
	int code;

	va_start(ap, m);
	while ((code = va_arg(ap, int)) != 0 && n < sizeof(b)) {
		put16(b + n, (uint16_t)code);
		n += 2;
	}
	va_end(ap);
	c6_opt(m, 6, b, n);
}

void c6_fqdn(struct c6 *m, uint8_t flags, const char *label)
{
	uint8_t b[80];
	size_t ll = strlen(label);

	b[0] = flags;
	b[1] = (uint8_t)ll;
	memcpy(b + 2, label, ll);
	c6_opt(m, 39, b, 2 + ll);
}

static bool parse_ia(const uint8_t *p, size_t len, uint16_t code,
		     struct r6_ia *ia)
{
	size_t i = 12;

	memset(ia, 0, sizeof(*ia));
	ia->code = code;
	ia->status = -1;
	if (len < 12)
		return false;
	ia->iaid = get32(p);
	ia->t1 = get32(p + 4);
	ia->t2 = get32(p + 8);
	while (i < len) {
		uint16_t c, l;

		if (i + 4 > len)
			return false;
		c = get16(p + i);
		l = get16(p + i + 2);
		if (i + 4 + l > len)
			return false;
		if (c == 5) {
			if (l < 24 || ia->naddr >= 4)
				return false;
			memcpy(ia->addr[ia->naddr].b, p + i + 4, 16);
			ia->pref[ia->naddr] = get32(p + i + 20);
			ia->valid[ia->naddr] = get32(p + i + 24);
			ia->naddr++;
		} else if (c == 13) {
			if (l < 2)
				return false;
			ia->status = get16(p + i + 4);
		}
		i += 4 + l;
	}
	return true;
}

bool r6_parse(const uint8_t *d, size_t len, struct r6 *r)
{
	size_t i = 4;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (len < 4)
		return false;
	r->type = d[0];
	memcpy(r->xid, d + 1, 3);
	while (i < len) {
		uint16_t c, l;
		const uint8_t *v;

		if (i + 4 > len)
			return false;
		c = get16(d + i);
		l = get16(d + i + 2);
		v = d + i + 4;
		if (i + 4 + l > len)
			return false;
		switch (c) {
		case 1:
		case 2:
			if (l > 130)
				return false;
			memcpy(c == 1 ? r->cid : r->sid, v, l);
			if (c == 1) {
				r->has_cid = true;
				r->cidlen = l;
			} else {
				r->has_sid = true;
				r->sidlen = l;
			}
			break;
		case 3:
			if (r->nia >= R6_IA_MAX || !parse_ia(v, l, c, &r->ia[r->nia++]))
				return false;
			break;
		case 7:
			if (l != 1)
				return false;
			r->has_pref = true;
			r->pref = v[0];
			break;
		case 13:
			if (l < 2)
				return false;
			r->status = get16(v);
			break;
		case 14:
			r->rapid = true;
			break;
		case 23:
			for (size_t k = 0; k + 16 <= l && r->ndns < 8; k += 16)
				memcpy(r->dns[r->ndns++].b, v + k, 16);
			break;
		case 24: {
			size_t k = 0, o = 0;

			while (k < l && o + 70 < sizeof(r->domains)) {
				uint8_t ll = v[k++];

				if (ll == 0) {
					r->domains[o++] = ' ';
					continue;
				}
				if (k + ll > l)
					return false;
				memcpy(r->domains + o, v + k, ll);
				o += ll;
				r->domains[o++] = '.';
				k += ll;
			}
			if (o)
				o--; /* the last space */
			r->domains[o] = 0;
			break;
		}
		case 32:
			if (l != 4)
				return false;
			r->has_irt = true;
			r->irt = get32(v);
			break;
		case 39:
			r->has_fqdn = true;
			r->fqdnlen = l;
			memcpy(r->fqdn, v, l);
			break;
		default:
			break;
		}
		i += 4 + l;
	}
	return true;
}

const char *r6_addr(const struct tapir_addr *a)
{
	static char buf[4][TAPIR_ADDR_STRLEN];
	static unsigned k;

	return tapir_addr_format(a, buf[k++ % 4]);
}
