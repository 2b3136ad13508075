/* BOOTP/DHCP reader and writer; see dhcp_wire.h. */
#include "dhcp_wire.h"

#include <string.h>

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

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The option areas of a message, in RFC 3396 order. */
struct area {
	const uint8_t *p;
	size_t len;
};

/* Walk one area: add each option's length to total[], note an overload
 * option (only where allowed), and require END. */
static enum dhcp_err scan(struct area a, size_t total[256], int *overload)
{
	size_t i = 0;

	while (i < a.len) {
		uint8_t code = a.p[i];
		size_t l;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return DHCP_OK;
		if (i + 1 >= a.len)
			return DHCP_ERR_OPT_LEN;
		l = a.p[i + 1];
		if (i + 2 + l > a.len)
			return DHCP_ERR_OPT_LEN;
		if (code == OPT_OVERLOAD) {
			/* Once, one byte 1..3, in the options field only. */
			if (!overload || *overload || l != 1 || a.p[i + 2] < 1 ||
			    a.p[i + 2] > 3)
				return DHCP_ERR_OVERLOAD;
			*overload = a.p[i + 2];
		}
		total[code] += l;
		i += 2 + l;
	}
	return DHCP_ERR_NO_END;
}

static void gather(struct area a, struct dhcp_msg *m, size_t fill[256])
{
	size_t i = 0;

	while (i < a.len) {
		uint8_t code = a.p[i];
		size_t l;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return;
		l = a.p[i + 1]; /* scan() checked every bound */
		memcpy(m->odata + m->ooff[code] + fill[code], a.p + i + 2, l);
		fill[code] += l;
		i += 2 + l;
	}
}

enum dhcp_err dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
	size_t total[256] = {0}, fill[256] = {0}, off = 0;
	struct area areas[3];
	int overload = 0, n = 1;
	enum dhcp_err e;

	if (len < DHCP_MIN_LEN)
		return DHCP_ERR_SHORT;
	if (len > DHCP_MSG_MAX)
		return DHCP_ERR_LONG;
	if (rd32(p + 236) != DHCP_MAGIC)
		return DHCP_ERR_COOKIE;
	m->op = p[0];
	m->htype = p[1];
	m->hlen = p[2];
	m->hops = p[3];
	if (m->hlen > 16)
		return DHCP_ERR_HLEN;
	m->xid = rd32(p + 4);
	m->secs = rd16(p + 8);
	m->flags = rd16(p + 10);
	m->ciaddr = rd32(p + 12);
	m->yiaddr = rd32(p + 16);
	m->siaddr = rd32(p + 20);
	m->giaddr = rd32(p + 24);
	memcpy(m->chaddr, p + 28, 16);
	areas[0] = (struct area){p + DHCP_MIN_LEN, len - DHCP_MIN_LEN};
	e = scan(areas[0], total, &overload);
	if (e)
		return e;
	if (overload & 1)
		areas[n++] = (struct area){p + 108, 128}; /* file */
	if (overload & 2)
		areas[n++] = (struct area){p + 44, 64}; /* sname */
	for (int i = 1; i < n; i++) {
		e = scan(areas[i], total, NULL);
		if (e)
			return e;
	}
	/* The parts add up to at most len bytes: they fit in odata. */
	for (int c = 0; c < 256; c++) {
		m->present[c] = total[c] > 0;
		m->ooff[c] = (uint16_t)off;
		m->olen[c] = (uint16_t)total[c];
		off += total[c];
	}
	/* An option of length 0 is present too: mark it in a second walk. */
	for (int i = 0; i < n; i++) {
		size_t j = 0;

		while (j < areas[i].len && areas[i].p[j] != OPT_END) {
			if (areas[i].p[j] == OPT_PAD) {
				j++;
				continue;
			}
			m->present[areas[i].p[j]] = true;
			j += 2 + areas[i].p[j + 1];
		}
	}
	for (int i = 0; i < n; i++)
		gather(areas[i], m, fill);
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
	*v = rd16(p);
	return true;
}

bool dhcp_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);

	if (!p || l != 4)
		return false;
	*v = rd32(p);
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
	wr32(buf + 4, req->xid);
	wr16(buf + 10, req->flags);
	wr32(buf + 12, ciaddr);
	wr32(buf + 16, yiaddr);
	wr32(buf + 20, siaddr);
	wr32(buf + 24, req->giaddr);
	memcpy(buf + 28, req->chaddr, 16);
	wr32(buf + 236, DHCP_MAGIC);
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

	wr32(b, v);
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
