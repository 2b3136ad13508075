/*
 * The http module's HTTPS pieces that need no network: the Location of a
 * redirect from plain HTTP to HTTPS (RFC 9110 15.4.2, 7.2: the Host the
 * client named, our TLS port, the same target) and the
 * Strict-Transport-Security field (RFC 6797 6.1).  The TLS itself is
 * tapird's (host API 5: tcp_listen_tls), so the module's request path
 * is the same on both listeners.
 */
#include "http_proto.h"

#include <stdio.h>
#include <string.h>

/* The host part of a Host field value (RFC 9110 7.2: uri-host [ ":"
 * port ]), checked to hold only what a host name or an IP literal may:
 * its length, or 0 when it is empty or holds anything else. */
static size_t host_part(const struct http_str *h)
{
	size_t n = 0;

	if (!h->p || !h->len || h->len > 255)
		return 0;
	if (h->p[0] == '[') {
		while (n < h->len && h->p[n] != ']') {
			char c = h->p[n];

			if (n > 0 && !(c == ':' || c == '.' ||
				       (c >= '0' && c <= '9') ||
				       (c >= 'a' && c <= 'f') ||
				       (c >= 'A' && c <= 'F')))
				return 0;
			n++;
		}
		return n < h->len ? n + 1 : 0;
	}
	for (; n < h->len && h->p[n] != ':'; n++) {
		char c = h->p[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return n;
}

int http_https_location(const struct http_request *r, uint16_t tls_port,
			char *out, size_t cap)
{
	size_t hn = host_part(&r->host);
	int n;

	if (!hn || !r->target.p || !r->target.len || r->target.p[0] != '/')
		return -1;
	for (size_t i = 0; i < r->target.len; i++)
		if ((unsigned char)r->target.p[i] <= ' ' ||
		    (unsigned char)r->target.p[i] >= 0x7f)
			return -1;
	if (tls_port == 443)
		n = snprintf(out, cap, "https://%.*s%.*s", (int)hn, r->host.p,
			     (int)r->target.len, r->target.p);
	else
		n = snprintf(out, cap, "https://%.*s:%u%.*s", (int)hn,
			     r->host.p, tls_port, (int)r->target.len,
			     r->target.p);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return 0;
}
