/*
 * Router Solicitations in, Router Advertisements out (see ra_wire.h).
 *
 * RFC 4861 4.2 lays out the RA header and 4.6 the options this module
 * sends: source link-layer address (4.6.1), prefix information (4.6.2) and
 * MTU (4.6.4); RFC 8106 5.1 and 5.2 add the Recursive DNS Server and DNS
 * Search List options.  Every option is a whole number of 8-byte units,
 * its length counted in those units.
 */
#include <stdio.h>
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/text.h>

#include "ra_wire.h"

static void opt_head(struct tapir_wbuf *w, uint8_t type, size_t bytes)
{
	tapir_wbuf_u8(w, type);
	tapir_wbuf_u8(w, (uint8_t)(bytes / 8));
}

static void put_prefix(struct tapir_wbuf *w, const struct ra_prefix *p)
{
	uint8_t flags = (uint8_t)((p->onlink ? PIO_FLAG_ONLINK : 0) |
				  (p->autonomous ? PIO_FLAG_AUTO : 0));

	opt_head(w, ND_OPT_PREFIX_INFO, PIO_LEN);
	tapir_wbuf_u8(w, p->len);
	tapir_wbuf_u8(w, flags);
	tapir_wbuf_be32(w, p->valid);
	/* RFC 4861 4.6.2: preferred must not exceed valid. */
	tapir_wbuf_be32(w, p->preferred < p->valid ? p->preferred : p->valid);
	tapir_wbuf_be32(w, 0); /* reserved */
	tapir_wbuf_put(w, p->prefix.b, 16);
}

size_t ra_build(const struct ra_adv *adv, uint8_t *buf, size_t cap)
{
	struct tapir_wbuf w = tapir_wbuf(buf, cap);
	static const uint8_t zero[8];

	tapir_wbuf_u8(&w, ICMP6_ROUTER_ADVERT);
	tapir_wbuf_u8(&w, 0);    /* code */
	tapir_wbuf_be16(&w, 0);  /* checksum: the host fills it */
	tapir_wbuf_u8(&w, adv->hop_limit);
	tapir_wbuf_u8(&w, (uint8_t)((adv->managed ? RA_FLAG_MANAGED : 0) |
				    (adv->other ? RA_FLAG_OTHER : 0)));
	tapir_wbuf_be16(&w, adv->router_lifetime);
	tapir_wbuf_be32(&w, adv->reachable_ms);
	tapir_wbuf_be32(&w, adv->retrans_ms);
	if (adv->mac) {
		opt_head(&w, ND_OPT_SOURCE_LLADDR, 8);
		tapir_wbuf_put(&w, adv->mac, 6);
	}
	if (adv->mtu) {
		opt_head(&w, ND_OPT_MTU, 8);
		tapir_wbuf_be16(&w, 0);
		tapir_wbuf_be32(&w, adv->mtu);
	}
	for (size_t i = 0; i < adv->nprefixes; i++)
		put_prefix(&w, &adv->prefixes[i]);
	if (adv->nrdnss) {
		opt_head(&w, ND_OPT_RDNSS, 8 + 16 * adv->nrdnss);
		tapir_wbuf_be16(&w, 0);
		tapir_wbuf_be32(&w, adv->rdnss_lifetime);
		for (size_t i = 0; i < adv->nrdnss; i++)
			tapir_wbuf_put(&w, adv->rdnss[i].b, 16);
	}
	if (adv->dnssl_len) {
		/* RFC 8106 5.2: the names padded with zero bytes to a whole
		 * number of 8-byte units. */
		size_t pad = (8 - adv->dnssl_len % 8) % 8;

		if (adv->dnssl_len > RA_DNSSL_MAX_BYTES)
			return 0;
		opt_head(&w, ND_OPT_DNSSL, 8 + adv->dnssl_len + pad);
		tapir_wbuf_be16(&w, 0);
		tapir_wbuf_be32(&w, adv->dnssl_lifetime);
		tapir_wbuf_put(&w, adv->dnssl, adv->dnssl_len);
		tapir_wbuf_put(&w, zero, pad);
	}
	return w.ok ? w.len : 0;
}

enum rs_verdict ra_rs_check(const uint8_t *msg, size_t len,
			    uint8_t hop_limit, bool src_unspecified)
{
	struct tapir_cur c = tapir_cur(msg, len);
	uint8_t type = tapir_cur_u8(&c), code = tapir_cur_u8(&c);

	if (!tapir_cur_skip(&c, RS_HDR_LEN - 2))
		return RS_SHORT;
	if (type != ICMP6_ROUTER_SOLICIT)
		return RS_NOT_RS;
	if (hop_limit != 255)
		return RS_BAD_HOP_LIMIT;
	if (code != 0)
		return RS_BAD_CODE;
	/* The options: each at least one 8-byte unit, none past the end;
	 * the walk ends because every step consumes at least 8 bytes. */
	while (c.len > 0) {
		uint8_t otype = tapir_cur_u8(&c), units = tapir_cur_u8(&c);

		if (!tapir_cur_ok(&c) || units == 0 ||
		    !tapir_cur_skip(&c, (size_t)units * 8 - 2))
			return RS_BAD_OPTION;
		if (otype == ND_OPT_SOURCE_LLADDR && src_unspecified)
			return RS_UNSPEC_SLLA;
	}
	return RS_OK;
}

const char *ra_rs_verdict_name(enum rs_verdict v)
{
	switch (v) {
	case RS_OK:
		return "ok";
	case RS_BAD_HOP_LIMIT:
		return "hop limit not 255";
	case RS_BAD_CODE:
		return "code not 0";
	case RS_SHORT:
		return "shorter than 8 bytes";
	case RS_BAD_OPTION:
		return "option of length 0 or past the end";
	case RS_UNSPEC_SLLA:
		return "unspecified source with a link-layer address option";
	case RS_NOT_RS:
		return "not a router solicitation";
	}
	return "?";
}

static bool host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

int ra_dnssl_encode(const char *name, uint8_t *out, size_t *len, size_t cap)
{
	size_t n = strlen(name), at = *len;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || at + n + 2 > cap)
		return -1;
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && name[j] != '.') {
			if (!host_char(name[j]))
				return -1;
			j++;
		}
		if (j == i || j - i > 63)
			return -1;
		out[at++] = (uint8_t)(j - i);
		memcpy(out + at, name + i, j - i);
		at += j - i;
		i = j + 1;
		if (j < n && i == n)
			return -1; /* "a..": an empty label at the end */
	}
	out[at++] = 0; /* the root */
	*len = at;
	return 0;
}

struct tapir_addr ra_prefix_of(const struct tapir_addr *a, unsigned len)
{
	struct tapir_addr p = *a;

	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len > 8 * i ? len - 8 * i : 0;

		if (keep < 8)
			p.b[i] &= (uint8_t)(0xff00u >> keep);
	}
	return p;
}

bool ra_addr_in(const struct tapir_addr *a, const struct tapir_addr *prefix,
		unsigned len)
{
	struct tapir_addr p = ra_prefix_of(a, len);

	return tapir_addr_eq(&p, prefix);
}

bool ra_addr_link_local(const struct tapir_addr *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

int ra_prefix_parse(const char *s, struct ra_prefix *p, char *err,
		    size_t errlen)
{
	const char *slash = strchr(s, '/');
	char addr[TAPIR_ADDR_STRLEN];
	uint64_t plen;
	struct tapir_addr masked;

	if (!slash || (size_t)(slash - s) >= sizeof(addr)) {
		snprintf(err, errlen, "\"%s\" is not PREFIX/LENGTH", s);
		return -1;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (!tapir_addr_parse(addr, &p->prefix) ||
	    tapir_addr_is_v4(&p->prefix)) {
		snprintf(err, errlen, "\"%s\" is not an IPv6 address", addr);
		return -1;
	}
	if (!tapir_dec_parse(slash + 1, strlen(slash + 1), 3, 128, &plen) ||
	    plen == 0) {
		snprintf(err, errlen, "prefix length \"%s\" is not 1-128",
			 slash + 1);
		return -1;
	}
	masked = ra_prefix_of(&p->prefix, (unsigned)plen);
	if (!tapir_addr_eq(&masked, &p->prefix)) {
		char m[TAPIR_ADDR_STRLEN];

		snprintf(err, errlen,
			 "\"%s\" has host bits set (the prefix is %s/%u)", s,
			 tapir_addr_format(&masked, m), (unsigned)plen);
		return -1;
	}
	if (ra_addr_link_local(&p->prefix) || p->prefix.b[0] == 0xff) {
		snprintf(err, errlen,
			 "\"%s\" is a link-local or multicast prefix", s);
		return -1;
	}
	p->len = (uint8_t)plen;
	return 0;
}
