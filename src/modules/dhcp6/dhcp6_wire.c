/* DHCPv6 messages (RFC 8415); see dhcp6_wire.h. */
#include "dhcp6_wire.h"

#include <string.h>

#include <tapir/bytes.h>
#include <tapir/text.h>

/* The IA_NA, IA_TA or IA_PD option's data in c. */
static bool parse_ia(struct d6_msg *m, uint16_t code, struct tapir_cur c)
{
	struct d6_ia *ia;
	size_t fixed = code == O6_IA_TA ? 4 : 12;

	if (c.len < fixed)
		return false;
	m->nia_all++;
	if (m->nia >= D6_MAX_IA)
		return true;
	ia = &m->ia[m->nia++];
	memset(ia, 0, sizeof(*ia));
	ia->code = code;
	ia->iaid = tapir_cur_be32(&c);
	if (code != O6_IA_TA) {
		ia->t1 = tapir_cur_be32(&c);
		ia->t2 = tapir_cur_be32(&c);
	}
	/* The IA's own options: addresses (prefixes are not read). */
	while (c.len) {
		uint16_t oc, ol;
		struct tapir_cur o;

		if (c.len < 4)
			return false;
		oc = tapir_cur_be16(&c);
		ol = tapir_cur_be16(&c);
		if (ol > c.len)
			return false;
		o = tapir_cur_sub(&c, ol);
		if (oc == O6_IAADDR && code != O6_IA_PD) {
			if (ol < 24)
				return false;
			if (ia->naddr < D6_MAX_IAADDR)
				tapir_cur_copy(&o, ia->addr[ia->naddr++].b, 16);
		} else if (oc == O6_IAPREFIX && code == O6_IA_PD && ol < 25) {
			return false;
		}
	}
	return tapir_cur_ok(&c);
}

enum d6_parse_err d6_parse(const uint8_t *data, size_t len, struct d6_msg *m)
{
	struct tapir_cur c = tapir_cur(data, len);

	memset(m, 0, sizeof(*m));
	if (len < D6_MSG_MIN)
		return D6_ERR_SHORT;
	m->type = tapir_cur_u8(&c);
	if (m->type == D6_RELAY_FORW || m->type == D6_RELAY_REPL)
		return D6_ERR_RELAY;
	tapir_cur_copy(&c, m->xid, 3);
	while (c.len) {
		uint16_t code, olen;
		struct tapir_cur o;

		if (c.len < 4)
			return D6_ERR_SHORT;
		code = tapir_cur_be16(&c);
		olen = tapir_cur_be16(&c);
		if (olen > c.len)
			return D6_ERR_SHORT;
		o = tapir_cur_sub(&c, olen);
		switch (code) {
		case O6_CLIENTID:
		case O6_SERVERID:
			/* A DUID: a type and at most 128 bytes (RFC 8415
			 * 11.1). */
			if (olen < 2 || olen > D6_DUID_MAX)
				return D6_ERR_OPTION;
			if (code == O6_CLIENTID) {
				m->cid = tapir_cur_pull(&o, olen);
				m->cidlen = olen;
				m->ncid++;
			} else {
				m->sid = tapir_cur_pull(&o, olen);
				m->sidlen = olen;
				m->nsid++;
			}
			break;
		case O6_IA_NA:
		case O6_IA_TA:
		case O6_IA_PD:
			if (!parse_ia(m, code, o))
				return D6_ERR_OPTION;
			break;
		case O6_ORO:
			if (olen % 2)
				return D6_ERR_OPTION;
			m->has_oro = true;
			while (o.len && m->noro < D6_MAX_ORO)
				m->oro[m->noro++] = tapir_cur_be16(&o);
			break;
		case O6_ELAPSED_TIME:
			if (olen != 2)
				return D6_ERR_OPTION;
			break;
		case O6_RAPID_COMMIT:
			if (olen != 0)
				return D6_ERR_OPTION;
			m->rapid_commit = true;
			break;
		case 20: /* Reconfigure Accept */
			if (olen != 0)
				return D6_ERR_OPTION;
			m->reconf_accept = true;
			break;
		case O6_CLIENT_FQDN:
			if (olen < 1)
				return D6_ERR_OPTION;
			m->fqdn = tapir_cur_pull(&o, olen);
			m->fqdnlen = olen;
			m->has_fqdn = true;
			break;
		default:
			break; /* not ours to read */
		}
	}
	return tapir_cur_ok(&c) ? D6_OK : D6_ERR_SHORT;
}

bool d6_requested(const struct d6_msg *m, uint16_t code)
{
	for (unsigned i = 0; i < m->noro; i++)
		if (m->oro[i] == code)
			return true;
	return false;
}

bool d6_label_ok(const char *s, size_t len)
{
	if (len < 1 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
	}
	return true;
}

bool d6_fqdn_host(const uint8_t *fq, size_t len, char out[D6_HOST_MAX + 1])
{
	struct tapir_cur c = tapir_cur(fq, len);
	const uint8_t *label;
	uint8_t ll;

	tapir_cur_u8(&c); /* flags */
	ll = tapir_cur_u8(&c);
	label = tapir_cur_pull(&c, ll);
	/* RFC 4704 4.1: the name is in RFC 1035 wire form, uncompressed. */
	if (!label || ll > D6_HOST_MAX || !d6_label_ok((const char *)label, ll))
		return false;
	for (unsigned i = 0; i < ll; i++)
		out[i] = (char)tapir_lower(label[i]);
	out[ll] = 0;
	return true;
}
