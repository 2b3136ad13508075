/* BOOTP/DHCP reader and writer; see dhcp_wire.h. */
#include "dhcp_wire.h"

#include <string.h>

#include <tapir/bytes.h>

const char *const dhcp_err_names[DHCP_ERR_COUNT] = {
	[DHCP_OK] = "ok",
	[DHCP_ERR_SHORT] = "short",
	[DHCP_ERR_LONG] = "too long",
	[DHCP_ERR_COOKIE] = "no magic cookie",
	[DHCP_ERR_HLEN] = "hlen over 16",
	[DHCP_ERR_OPT_LEN] = "option past its area",
	[DHCP_ERR_NO_END] = "no END option",
	[DHCP_ERR_OVERLOAD] = "bad option overload",
};

/* One option as found on the wire: where its data is in the message and
 * how long.  A message of DHCP_MSG_MAX bytes holds at most half as many
 * options (each takes a code and a length byte). */
struct frag {
	uint16_t off;
	uint8_t code, len;
};

struct walk {
	const uint8_t *msg;
	struct frag frag[DHCP_MSG_MAX / 2];
	size_t n;
};

/* Walk one option area once, through a cursor: every length is checked
 * against what is left as it is read, and the option is remembered by
 * where its data is, so nothing reads the area again.  Notes an overload
 * option (only where allowed) and requires END. */
static enum dhcp_err walk_area(struct walk *w, struct tapir_cur c,
			      int *overload)
{
	while (tapir_cur_ok(&c) && c.len) {
		uint8_t code = tapir_cur_u8(&c), l;
		const uint8_t *data;

		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return DHCP_OK;
		l = tapir_cur_u8(&c);
		data = tapir_cur_pull(&c, l);
		if (!data)
			return DHCP_ERR_OPT_LEN;
		if (code == OPT_OVERLOAD) {
			/* Once, one byte 1..3, in the options field only. */
			if (!overload || *overload || l != 1 || data[0] < 1 ||
			    data[0] > 3)
				return DHCP_ERR_OVERLOAD;
			*overload = data[0];
		}
		w->frag[w->n++] = (struct frag){(uint16_t)(data - w->msg), code,
						l};
	}
	return tapir_cur_ok(&c) ? DHCP_ERR_NO_END : DHCP_ERR_OPT_LEN;
}

enum dhcp_err dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
	struct tapir_cur c = tapir_cur(p, len);
	size_t total[256] = {0}, fill[256] = {0}, off = 0;
	struct walk w;
	int overload = 0;
	enum dhcp_err e;

	if (len < DHCP_MIN_LEN)
		return DHCP_ERR_SHORT;
	if (len > DHCP_MSG_MAX)
		return DHCP_ERR_LONG;
	if (tapir_get_be32(p + DHCP_FIXED_LEN) != DHCP_MAGIC)
		return DHCP_ERR_COOKIE;
	m->op = tapir_cur_u8(&c);
	m->htype = tapir_cur_u8(&c);
	m->hlen = tapir_cur_u8(&c);
	m->hops = tapir_cur_u8(&c);
	if (m->hlen > 16)
		return DHCP_ERR_HLEN;
	m->xid = tapir_cur_be32(&c);
	m->secs = tapir_cur_be16(&c);
	m->flags = tapir_cur_be16(&c);
	m->ciaddr = tapir_cur_be32(&c);
	m->yiaddr = tapir_cur_be32(&c);
	m->siaddr = tapir_cur_be32(&c);
	m->giaddr = tapir_cur_be32(&c);
	tapir_cur_copy(&c, m->chaddr, 16);
	{
		/* sname and file: option areas when overloaded. */
		struct tapir_cur sname = tapir_cur_sub(&c, 64);
		struct tapir_cur file = tapir_cur_sub(&c, 128);

		tapir_cur_skip(&c, 4); /* the cookie, checked above */
		if (!tapir_cur_ok(&c))
			return DHCP_ERR_SHORT; /* not after the length check */
		/* RFC 3396 order: options, then file, then sname. */
		w.msg = p;
		w.n = 0;
		e = walk_area(&w, c, &overload);
		if (!e && (overload & 1))
			e = walk_area(&w, file, NULL);
		if (!e && (overload & 2))
			e = walk_area(&w, sname, NULL);
		if (e)
			return e;
	}
	/* The parts add up to at most len bytes: they fit in odata. */
	memset(m->present, 0, sizeof(m->present));
	for (size_t i = 0; i < w.n; i++) {
		total[w.frag[i].code] += w.frag[i].len;
		m->present[w.frag[i].code] = true; /* length 0 counts too */
	}
	for (int code = 0; code < 256; code++) {
		m->ooff[code] = (uint16_t)off;
		m->olen[code] = (uint16_t)total[code];
		off += total[code];
	}
	for (size_t i = 0; i < w.n; i++) {
		const struct frag *f = &w.frag[i];

		memcpy(m->odata + m->ooff[f->code] + fill[f->code], p + f->off,
		       f->len);
		fill[f->code] += f->len;
	}
	return DHCP_OK;
}

const uint8_t *dhcp_opt(const struct dhcp_msg *m, uint8_t code, size_t *len)
{
	if (!m->present[code])
		return NULL;
	if (len)
		*len = m->olen[code];
	return m->odata + m->ooff[code];
}

bool dhcp_opt_u8(const struct dhcp_msg *m, uint8_t code, uint8_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);

	if (!p || l != 1)
		return false;
	*v = p[0];
	return true;
}

bool dhcp_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);

	if (!p || l != 2)
		return false;
	*v = tapir_get_be16(p);
	return true;
}

bool dhcp_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);

	if (!p || l != 4)
		return false;
	*v = tapir_get_be32(p);
	return true;
}

void dhcp_out_start(struct dhcp_out *o, uint8_t *buf, size_t cap,
		    const struct dhcp_msg *req, uint8_t type, uint32_t ciaddr,
		    uint32_t yiaddr, uint32_t siaddr)
{
	o->p = buf;
	o->cap = cap;
	o->overflow = false;
	memset(buf, 0, DHCP_MIN_LEN);
	buf[0] = BOOTREPLY;
	buf[1] = req->htype;
	buf[2] = req->hlen;
	tapir_put_be32(buf + 4, req->xid);
	tapir_put_be16(buf + 10, req->flags);
	tapir_put_be32(buf + 12, ciaddr);
	tapir_put_be32(buf + 16, yiaddr);
	tapir_put_be32(buf + 20, siaddr);
	tapir_put_be32(buf + 24, req->giaddr);
	memcpy(buf + 28, req->chaddr, 16);
	tapir_put_be32(buf + 236, DHCP_MAGIC);
	o->len = DHCP_MIN_LEN;
	dhcp_out_opt(o, OPT_MSG_TYPE, &type, 1);
}

bool dhcp_out_opt(struct dhcp_out *o, uint8_t code, const void *data,
		  size_t len)
{
	const uint8_t *d = data;
	size_t parts = len ? (len + 254) / 255 : 1, need = len + 2 * parts;

	/* Whole or not at all; one byte stays for END. */
	if (o->len + need + 1 > o->cap) {
		o->overflow = true;
		return false;
	}
	do {
		size_t l = len > 255 ? 255 : len;

		o->p[o->len] = code;
		o->p[o->len + 1] = (uint8_t)l;
		if (l)
			memcpy(o->p + o->len + 2, d, l);
		o->len += 2 + l;
		d += l;
		len -= l;
	} while (len);
	return true;
}

bool dhcp_out_u32(struct dhcp_out *o, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	tapir_put_be32(b, v);
	return dhcp_out_opt(o, code, b, 4);
}

size_t dhcp_out_finish(struct dhcp_out *o)
{
	size_t n;

	o->p[o->len] = OPT_END;
	n = o->len + 1;
	if (n < DHCP_REPLY_MIN) {
		memset(o->p + n, 0, DHCP_REPLY_MIN - n);
		n = DHCP_REPLY_MIN;
	}
	return n;
}
