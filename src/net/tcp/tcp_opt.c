/* TCP options: parse a received options area, write ours; see tcp_opt.h. */
#include "net/tcp/tcp_opt.h"

#include <assert.h>
#include <string.h>

/* What each option takes in the Linux layout, NOPs included. */
#define TCP_ALEN_MSS 4       /* MSS */
#define TCP_ALEN_TS 12       /* NOP NOP TS, or SACK_PERM TS on a SYN */
#define TCP_ALEN_SACK_PERM 4 /* NOP NOP SACK_PERM, when there is no TS */
#define TCP_ALEN_WS 4        /* NOP WS */
#define TCP_ALEN_SACK_BASE 4 /* NOP NOP kind length, then the blocks */

int tcp_opts_parse(struct cur opts, bool syn, struct tcp_opts *o,
		   unsigned *ignored)
{
	unsigned skipped = 0;

	memset(o, 0, sizeof(*o));
	while (opts.len) {
		uint8_t kind = opts.p[0];
		const uint8_t *p;
		size_t len, n;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			cur_pull(&opts, 1);
			continue;
		}
		/* kind, length >= 2, and the whole option inside the area:
		 * from here on p[0..len) is readable and len >= 2 bytes are
		 * consumed. */
		if (opts.len < 2 || opts.p[1] < 2)
			goto malformed;
		len = opts.p[1];
		p = cur_pull(&opts, len);
		if (!p)
			goto malformed;

		switch (kind) {
		case TCP_OPT_MSS:
			if (!syn)
				break;
			if (len != TCP_OLEN_MSS || o->mss_ok) {
				skipped++;
				break;
			}
			o->mss_ok = true;
			o->mss = be16(p + 2);
			if (o->mss < TCP_MIN_MSS)
				o->mss = TCP_MIN_MSS;
			break;
		case TCP_OPT_WS:
			if (!syn)
				break;
			if (len != TCP_OLEN_WS || o->ws_ok) {
				skipped++;
				break;
			}
			o->ws_ok = true;
			o->ws = p[2] > TCP_MAX_WS ? TCP_MAX_WS : p[2];
			break;
		case TCP_OPT_SACK_PERM:
			if (!syn)
				break;
			if (len != TCP_OLEN_SACK_PERM || o->sack_perm) {
				skipped++;
				break;
			}
			o->sack_perm = true;
			break;
		case TCP_OPT_SACK:
			if (syn)
				break;
			n = (len - TCP_OLEN_SACK_BASE) / TCP_OLEN_SACK_BLOCK;
			if ((len - TCP_OLEN_SACK_BASE) % TCP_OLEN_SACK_BLOCK ||
			    n < 1 || n > TCP_MAX_SACK || o->nsack) {
				skipped++;
				break;
			}
			p += TCP_OLEN_SACK_BASE;
			for (size_t i = 0; i < n; i++) {
				o->sack[i].start = be32(p);
				o->sack[i].end = be32(p + 4);
				p += TCP_OLEN_SACK_BLOCK;
			}
			o->nsack = (uint8_t)n;
			break;
		case TCP_OPT_TS:
			if (len != TCP_OLEN_TS || o->ts_ok) {
				skipped++;
				break;
			}
			o->ts_ok = true;
			o->tsval = be32(p + 2);
			o->tsecr = be32(p + 6);
			break;
		default:
			break;
		}
	}
	if (ignored)
		*ignored += skipped;
	return 0;

malformed:
	memset(o, 0, sizeof(*o));
	return -1;
}

/* SACK blocks a non-SYN segment carries: what o has, as many as fit. */
static size_t tcp_opts_nsack(const struct tcp_opts *o)
{
	size_t room = TCP_MAX_OPTLEN - TCP_ALEN_SACK_BASE;
	size_t n = o->nsack;

	if (o->ts_ok)
		room -= TCP_ALEN_TS;
	if (n > TCP_MAX_SACK)
		n = TCP_MAX_SACK;
	if (n > room / TCP_OLEN_SACK_BLOCK)
		n = room / TCP_OLEN_SACK_BLOCK;
	return n;
}

size_t tcp_opts_len(const struct tcp_opts *o, bool syn)
{
	size_t len = 0, n;

	if (syn) {
		if (o->mss_ok)
			len += TCP_ALEN_MSS;
		if (o->ts_ok)
			len += TCP_ALEN_TS; /* SACK_PERM rides in its NOPs */
		else if (o->sack_perm)
			len += TCP_ALEN_SACK_PERM;
		if (o->ws_ok)
			len += TCP_ALEN_WS;
		return len;
	}
	if (o->ts_ok)
		len += TCP_ALEN_TS;
	n = tcp_opts_nsack(o);
	if (n)
		len += TCP_ALEN_SACK_BASE + n * TCP_OLEN_SACK_BLOCK;
	return len;
}

static uint8_t *tcp_put_ts(uint8_t *q, const struct tcp_opts *o)
{
	*q++ = TCP_OPT_TS;
	*q++ = TCP_OLEN_TS;
	put_be32(q, o->tsval);
	put_be32(q + 4, o->tsecr);
	return q + 8;
}

size_t tcp_opts_write(uint8_t *p, size_t room, const struct tcp_opts *o,
		      bool syn)
{
	size_t len = tcp_opts_len(o, syn), n;
	uint8_t *q = p;

	if (len > room)
		return 0;
	if (syn) {
		if (o->mss_ok) {
			*q++ = TCP_OPT_MSS;
			*q++ = TCP_OLEN_MSS;
			put_be16(q, o->mss);
			q += 2;
		}
		if (o->ts_ok) {
			if (o->sack_perm) {
				*q++ = TCP_OPT_SACK_PERM;
				*q++ = TCP_OLEN_SACK_PERM;
			} else {
				*q++ = TCP_OPT_NOP;
				*q++ = TCP_OPT_NOP;
			}
			q = tcp_put_ts(q, o);
		} else if (o->sack_perm) {
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_SACK_PERM;
			*q++ = TCP_OLEN_SACK_PERM;
		}
		if (o->ws_ok) {
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_WS;
			*q++ = TCP_OLEN_WS;
			*q++ = o->ws > TCP_MAX_WS ? TCP_MAX_WS : o->ws;
		}
	} else {
		if (o->ts_ok) {
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_NOP;
			q = tcp_put_ts(q, o);
		}
		n = tcp_opts_nsack(o);
		if (n) {
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_SACK;
			*q++ = (uint8_t)(TCP_OLEN_SACK_BASE +
					 n * TCP_OLEN_SACK_BLOCK);
			for (size_t i = 0; i < n; i++) {
				put_be32(q, o->sack[i].start);
				put_be32(q + 4, o->sack[i].end);
				q += TCP_OLEN_SACK_BLOCK;
			}
		}
	}
	/* Every piece above is a multiple of 4, so no padding is due. */
	assert((size_t)(q - p) == len && len % 4 == 0 && len <= TCP_MAX_OPTLEN);
	return len;
}
