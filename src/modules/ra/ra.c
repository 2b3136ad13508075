/*
 * The ra module: Router Advertisements for stateless address
 * autoconfiguration (RFC 4861 6.2, RFC 4862) with DNS options (RFC 8106).
 *
 * Theory of operation.  One timer holds the next multicast RA to the
 * all-nodes group (ff02::1), and whether a Router Solicitation waits for
 * it.  Unsolicited RAs follow each other at a random interval in
 * [min_interval, max_interval]; the first MAX_INITIAL_RTR_ADVERTISEMENTS
 * after start or reload at most MAX_INITIAL_RTR_ADVERT_INTERVAL apart
 * (RFC 4861 6.2.4).  A valid Router Solicitation (6.1.1) brings the next
 * RA forward to a random 0..MAX_RA_DELAY_TIME from now, but never sooner
 * than MIN_DELAY_BETWEEN_RAS after the previous multicast RA, and never
 * later than one already scheduled (6.2.6): so every multicast RA is at
 * least 3 s after the one before, whatever arrives.  Solicited RAs go to
 * all-nodes, as 6.2.6 prefers, not to the soliciting host.
 *
 * What an RA says is built afresh each time from the settings and from
 * what the host reports now: the link's MAC and MTU, and, when no
 * prefixes are configured, the /64 prefixes of tapird's IPv6 addresses
 * (which the host lists only once Duplicate Address Detection passed, so
 * the module waits for one before its first RA).  The host says nothing
 * when our addresses change, so a second timer compares once a second
 * what an RA would say now with what the last one said, and advertises
 * at once on a difference.  A prefix advertised
 * before and missing now (removed by a reload, or its address gone) is
 * advertised deprecated: preferred lifetime 0 and a valid lifetime of at
 * most two hours that counts down, the shortest a host accepts (RFC 4862
 * 5.5.3 e ignores a shorter one) -- so hosts stop choosing addresses in
 * it at once and drop them when it ends.
 *
 * Router lifetime defaults to 0: tapird does not forward packets, so it
 * must not become anybody's default router (RFC 4861 6.2.1 and 6.3.4: a
 * lifetime of 0 announces prefixes and options while saying "not a default
 * router").  With a lifetime above 0 the module tells the host that
 * tapird is a router (the R flag of its Neighbor Advertisements, RFC
 * 4861 7.2.4).
 *
 * On stop (fini) the module sends a final RA (6.2.5) with router lifetime
 * 0, every prefix deprecated as above and the DNS options with lifetime 0
 * (RFC 8106 5.1, 5.2: the server must no longer be used): tapird's DNS
 * goes away with it.  After a reload a fresh RA follows at once (as soon
 * as the 3 s rule allows) and the fast initial RAs start over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>
#include <tapir/module.h>

#include "ra_wire.h"

/* RFC 4861 10: router constants. */
#define MAX_INITIAL_RTR_ADVERT_INTERVAL_MS 16000
#define MAX_INITIAL_RTR_ADVERTISEMENTS 3
#define MIN_DELAY_BETWEEN_RAS_MS 3000
#define MAX_RA_DELAY_TIME_MS 500
/* RFC 4862 5.5.3 e: hosts lower a valid lifetime to two hours, no less. */
#define DEPRECATED_VALID_S 7200
/* How often to look again while there is nothing to advertise yet (no
 * /64 address past DAD, no usable link-local address). */
#define NOT_READY_RETRY_MS 1000
/* How often to compare our addresses with what the last RA said. */
#define WATCH_MS 1000
#define LINK_MTU_MIN 1280

enum ra_mode { MODE_RA_ONLY, MODE_SLAAC, MODE_STATELESS, MODE_STATEFUL };

static const char *const mode_names[] = {"ra-only", "slaac", "stateless",
					 "stateful"};

/* The settings, as tapird fills them from the descriptors below. */
struct ra_settings {
	const char *mode;
	struct tapir_strings prefixes;
	uint32_t min_interval, max_interval;
	uint32_t router_lifetime;
	uint32_t valid_lifetime, preferred_lifetime;
	int32_t mtu;
	uint32_t hop_limit;
	uint32_t reachable_time, retrans_timer;
	struct tapir_strings rdnss;
	bool rdnss_self;
	struct tapir_strings dnssl;
};

#define SECS(key, member, lo, hi, dflt)                                      \
	{key, TAPIR_SET_INT, TAPIR_FIELD(struct ra_settings, member),         \
	 .min = lo, .max = hi, .def = dflt, .unit = "seconds"}

static const struct tapir_setting settings[] = {
	{"mode", TAPIR_SET_STRING, TAPIR_FIELD(struct ra_settings, mode),
	 .min = 1, .max = 16, .def_str = "ra-only"},
	{"prefixes", TAPIR_SET_STRINGS,
	 TAPIR_FIELD(struct ra_settings, prefixes), .flags = TAPIR_SETF_SCALAR,
	 .max = RA_MAX_PREFIXES},
	SECS("min_interval", min_interval, 3, 1350, 200),
	SECS("max_interval", max_interval, 4, 1800, 600),
	SECS("router_lifetime", router_lifetime, 0, 9000, 0),
	SECS("valid_lifetime", valid_lifetime, 0, 4294967295, 86400),
	SECS("preferred_lifetime", preferred_lifetime, 0, 4294967295, 14400),
	{"mtu", TAPIR_SET_INT, TAPIR_FIELD(struct ra_settings, mtu), .min = -1,
	 .max = 65535, .def = -1,
	 .unit = "(-1: the link's MTU, 0: no MTU option)"},
	{"hop_limit", TAPIR_SET_INT, TAPIR_FIELD(struct ra_settings, hop_limit),
	 .min = 0, .max = 255, .def = 64, .unit = "(0: unspecified)"},
	{"reachable_time", TAPIR_SET_INT,
	 TAPIR_FIELD(struct ra_settings, reachable_time), .min = 0,
	 .max = 3600000, .def = 0, .unit = "milliseconds (0: unspecified)"},
	{"retrans_timer", TAPIR_SET_INT,
	 TAPIR_FIELD(struct ra_settings, retrans_timer), .min = 0,
	 .max = 4294967295, .def = 0,
	 .unit = "milliseconds (0: unspecified)"},
	{"rdnss", TAPIR_SET_STRINGS, TAPIR_FIELD(struct ra_settings, rdnss),
	 .flags = TAPIR_SETF_SCALAR, .max = RA_MAX_RDNSS},
	{"rdnss_self", TAPIR_SET_BOOL,
	 TAPIR_FIELD(struct ra_settings, rdnss_self), .def = 1},
	{"dnssl", TAPIR_SET_STRINGS, TAPIR_FIELD(struct ra_settings, dnssl),
	 .flags = TAPIR_SETF_SCALAR, .max = RA_MAX_DNSSL},
	{.name = NULL}};

/* The settings checked and converted: what the module keeps. */
struct ra_conf {
	enum ra_mode mode;
	struct ra_prefix prefixes[RA_MAX_PREFIXES]; /* configured ones */
	size_t nprefixes;
	uint32_t min_ms, max_ms;
	uint16_t router_lifetime;
	uint32_t valid, preferred;
	int32_t mtu;
	uint8_t hop_limit;
	uint32_t reachable_ms, retrans_ms;
	struct tapir_addr rdnss[RA_MAX_RDNSS];
	size_t nrdnss;
	bool rdnss_self;
	uint8_t dnssl[RA_DNSSL_MAX_BYTES];
	size_t dnssl_len;
};

/* A prefix advertised before and gone now, deprecated until it expires. */
struct ra_gone {
	struct ra_prefix p;
	uint64_t expires_ms;
};

struct ra {
	struct tapir_host *host;
	const struct tapir_host_api *api;
	struct ra_conf conf;
	struct tapir_icmp6 *rs;
	struct tapir_timer *timer;
	struct tapir_timer *watch; /* looks for changed addresses */
	bool joined, router;
	uint64_t next_ms;    /* when the timer fires */
	bool solicited;      /* a Router Solicitation waits for that RA */
	bool sent_any;       /* a multicast RA went out ... */
	uint64_t last_ms;    /* ... at this time */
	unsigned initial_left;
	bool said_waiting;   /* "nothing to advertise yet" logged */
	int last_err;        /* the last send error logged */
	struct ra_prefix adv[RA_MAX_PREFIXES]; /* advertised last time */
	size_t nadv;
	struct tapir_addr adv_dns[RA_MAX_RDNSS]; /* the RDNSS of that RA */
	size_t nadv_dns;
	struct ra_gone gone[RA_MAX_DEPRECATED];
	size_t ngone;
	uint64_t rng;
	uint64_t last_invalid_log_ms;
	uint64_t *rs_received, *rs_invalid, *ra_solicited, *ra_unsolicited,
		*rate_limited, *send_errors;
};

static uint64_t dummy_counter;

/* ---- Settings ------------------------------------------------------------ */

static bool mode_parse(const char *s, enum ra_mode *m)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (s && !strcmp(s, mode_names[i])) {
			*m = (enum ra_mode)i;
			return true;
		}
	return false;
}

/* The A flag: hosts form addresses in the prefix (not in stateful mode,
 * where DHCPv6 hands them out). */
static bool mode_autonomous(enum ra_mode m)
{
	return m != MODE_STATEFUL;
}

/* M: addresses from DHCPv6 (slaac: beside the SLAAC ones, as dnsmasq's
 * "slaac" with a DHCPv6 range); O: other configuration from DHCPv6. */
static bool mode_managed(enum ra_mode m)
{
	return m == MODE_SLAAC || m == MODE_STATEFUL;
}

static bool mode_other(enum ra_mode m)
{
	return m != MODE_RA_ONLY;
}

#define REPORT(chk, key, idx, ...)                                           \
	do {                                                                  \
		if (chk)                                                      \
			(chk)->error_at((chk), (key), (idx), __VA_ARGS__);    \
		bad++;                                                        \
	} while (0)

/* s into c, every problem reported through chk (when not NULL); the
 * number of problems. */
static int conf_load(const struct ra_settings *s, struct ra_conf *c,
		     const struct tapir_check *chk)
{
	char err[160];
	int bad = 0;

	memset(c, 0, sizeof(*c));
	if (!mode_parse(s->mode, &c->mode))
		REPORT(chk, "mode", -1,
		       "mode \"%s\" is not ra-only, slaac, stateless or stateful",
		       s->mode ? s->mode : "");
	for (size_t i = 0; i < s->prefixes.n && i < RA_MAX_PREFIXES; i++) {
		struct ra_prefix *p = &c->prefixes[c->nprefixes];

		if (ra_prefix_parse(s->prefixes.v[i], p, err, sizeof(err))) {
			REPORT(chk, "prefixes", (int)i, "%s", err);
			continue;
		}
		for (size_t j = 0; j < c->nprefixes; j++)
			if (c->prefixes[j].len == p->len &&
			    tapir_addr_eq(&c->prefixes[j].prefix, &p->prefix)) {
				REPORT(chk, "prefixes", (int)i,
				       "prefix %s is listed twice",
				       s->prefixes.v[i]);
				p = NULL;
				break;
			}
		if (p)
			c->nprefixes++;
	}
	if (s->min_interval * 4 > s->max_interval * 3)
		REPORT(chk, "min_interval", -1,
		       "min_interval %u is more than 3/4 of max_interval %u "
		       "(RFC 4861 6.2.1)",
		       s->min_interval, s->max_interval);
	if (s->router_lifetime && s->router_lifetime < s->max_interval)
		REPORT(chk, "router_lifetime", -1,
		       "router_lifetime %u is neither 0 nor at least "
		       "max_interval %u (RFC 4861 6.2.1)",
		       s->router_lifetime, s->max_interval);
	if (s->preferred_lifetime > s->valid_lifetime)
		REPORT(chk, "preferred_lifetime", -1,
		       "preferred_lifetime %u is longer than valid_lifetime %u",
		       s->preferred_lifetime, s->valid_lifetime);
	if (s->mtu > 0 && s->mtu < LINK_MTU_MIN)
		REPORT(chk, "mtu", -1,
		       "mtu %d is below the IPv6 minimum of %d (or -1: the "
		       "link's, 0: none)",
		       s->mtu, LINK_MTU_MIN);
	for (size_t i = 0; i < s->rdnss.n && i < RA_MAX_RDNSS; i++) {
		struct tapir_addr *a = &c->rdnss[c->nrdnss];

		if (!tapir_addr_parse(s->rdnss.v[i], a) ||
		    tapir_addr_is_v4(a) || tapir_addr_is_unspec(a) ||
		    a->b[0] == 0xff)
			REPORT(chk, "rdnss", (int)i,
			       "\"%s\" is not a unicast IPv6 address",
			       s->rdnss.v[i]);
		else
			c->nrdnss++;
	}
	for (size_t i = 0; i < s->dnssl.n && i < RA_MAX_DNSSL; i++)
		if (ra_dnssl_encode(s->dnssl.v[i], c->dnssl, &c->dnssl_len,
				    sizeof(c->dnssl)))
			REPORT(chk, "dnssl", (int)i,
			       "\"%s\" is not a domain name (or the list is "
			       "over %d bytes)",
			       s->dnssl.v[i], RA_DNSSL_MAX_BYTES);
	c->min_ms = s->min_interval * 1000;
	c->max_ms = s->max_interval * 1000;
	c->router_lifetime = (uint16_t)s->router_lifetime;
	c->valid = s->valid_lifetime;
	c->preferred = s->preferred_lifetime;
	c->mtu = s->mtu;
	c->hop_limit = (uint8_t)s->hop_limit;
	c->reachable_ms = s->reachable_time;
	c->retrans_ms = s->retrans_timer;
	c->rdnss_self = s->rdnss_self;
	return bad;
}

static int ra_check(const struct tapir_check *chk, const void *conf)
{
	struct ra_conf *c = malloc(sizeof(*c));
	int bad;

	if (!c) {
		chk->error(chk, NULL, "out of memory");
		return -1;
	}
	bad = conf_load(conf, c, chk);
	free(c);
	return bad ? -1 : 0;
}

/* ---- Timing -------------------------------------------------------------- */

/* splitmix64: the jitter of RA timing needs no secrecy, only spread. */
static uint64_t rng_next(struct ra *ra)
{
	uint64_t z = (ra->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static uint64_t rng_between(struct ra *ra, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(ra) % (hi - lo + 1);
}

static uint64_t now(struct ra *ra)
{
	return ra->api->now_ms(ra->host);
}

static void arm_at(struct ra *ra, uint64_t at, bool solicited)
{
	uint64_t t = now(ra);

	ra->next_ms = at;
	ra->solicited = solicited;
	ra->api->timer_arm(ra->timer, at > t ? at - t : 0);
}

/* The earliest a multicast RA may go out that is due delay ms from now
 * (RFC 4861 6.2.6: MIN_DELAY_BETWEEN_RAS after the previous one). */
static uint64_t earliest(struct ra *ra, uint64_t delay, bool *deferred)
{
	uint64_t t = now(ra);

	*deferred = false;
	if (ra->sent_any && t < ra->last_ms + MIN_DELAY_BETWEEN_RAS_MS) {
		*deferred = true;
		return ra->last_ms + MIN_DELAY_BETWEEN_RAS_MS + delay;
	}
	return t + delay;
}

/* ---- Building an RA ----------------------------------------------------- */

static bool same_prefix(const struct ra_prefix *a, const struct ra_prefix *b)
{
	return a->len == b->len && tapir_addr_eq(&a->prefix, &b->prefix);
}

/* The prefixes to advertise now, with their flags and lifetimes: the
 * configured ones, else the /64 prefixes of our global addresses. */
static size_t current_prefixes(struct ra *ra, struct ra_prefix *out)
{
	const struct ra_conf *c = &ra->conf;
	size_t n = 0;

	if (c->nprefixes) {
		memcpy(out, c->prefixes, c->nprefixes * sizeof(*out));
		n = c->nprefixes;
	} else {
		struct tapir_addr a;
		unsigned plen;

		for (unsigned i = 1; n < RA_MAX_PREFIXES &&
				     ra->api->if_addr(ra->host, i, &a, &plen) == 0;
		     i++) {
			struct ra_prefix p = {.len = 64};
			bool dup = false;

			if (tapir_addr_is_v4(&a) || ra_addr_link_local(&a) ||
			    plen != 64)
				continue;
			p.prefix = ra_prefix_of(&a, 64);
			for (size_t j = 0; j < n; j++)
				dup |= same_prefix(&out[j], &p);
			if (!dup)
				out[n++] = p;
		}
	}
	for (size_t i = 0; i < n; i++) {
		out[i].onlink = true;
		/* RFC 4862 5.5.3 d: a host forms addresses only in a prefix
		 * that leaves 64 bits for its interface identifier. */
		out[i].autonomous = mode_autonomous(c->mode) && out[i].len == 64;
		out[i].valid = c->valid;
		out[i].preferred = c->preferred;
	}
	return n;
}

/* Remember what goes out now; what went out last time and is missing
 * now becomes deprecated, what comes back is no longer. */
static void track_gone(struct ra *ra, const struct ra_prefix *cur, size_t n)
{
	uint64_t t = now(ra);

	for (size_t i = 0; i < ra->ngone;) {
		bool back = false;

		for (size_t j = 0; j < n; j++)
			back |= same_prefix(&ra->gone[i].p, &cur[j]);
		if (back || ra->gone[i].expires_ms <= t)
			ra->gone[i] = ra->gone[--ra->ngone];
		else
			i++;
	}
	for (size_t i = 0; i < ra->nadv; i++) {
		bool kept = false;
		struct ra_gone g = {.p = ra->adv[i]};

		for (size_t j = 0; j < n; j++)
			kept |= same_prefix(&ra->adv[i], &cur[j]);
		for (size_t j = 0; j < ra->ngone; j++)
			kept |= same_prefix(&ra->adv[i], &ra->gone[j].p);
		if (kept || g.p.valid == 0)
			continue;
		if (g.p.valid > DEPRECATED_VALID_S)
			g.p.valid = DEPRECATED_VALID_S;
		g.expires_ms = t + (uint64_t)g.p.valid * 1000;
		if (ra->ngone == RA_MAX_DEPRECATED) {
			/* Full: the one closest to its end makes room. */
			size_t k = 0;

			for (size_t j = 1; j < ra->ngone; j++)
				if (ra->gone[j].expires_ms <
				    ra->gone[k].expires_ms)
					k = j;
			ra->gone[k] = g;
		} else {
			ra->gone[ra->ngone++] = g;
		}
	}
	memcpy(ra->adv, cur, n * sizeof(*cur));
	ra->nadv = n;
}

/* Our own addresses in the advertised prefixes: tapird's DNS. */
static size_t own_dns(struct ra *ra, const struct ra_prefix *p, size_t np,
		      struct tapir_addr *out)
{
	struct tapir_addr a;
	unsigned plen;
	size_t n = 0;

	for (unsigned i = 1; n < RA_MAX_RDNSS &&
			     ra->api->if_addr(ra->host, i, &a, &plen) == 0;
	     i++) {
		bool in = false;

		if (tapir_addr_is_v4(&a) || ra_addr_link_local(&a))
			continue;
		for (size_t j = 0; j < np; j++)
			in |= ra_addr_in(&a, &p[j].prefix, p[j].len);
		if (in)
			out[n++] = a;
	}
	return n;
}

/* The DNS servers to advertise with prefixes p: the configured ones, or
 * our own addresses in p. */
static size_t dns_servers(struct ra *ra, const struct ra_prefix *p, size_t np,
			  struct tapir_addr *out)
{
	const struct ra_conf *c = &ra->conf;

	if (c->nrdnss) {
		memcpy(out, c->rdnss, c->nrdnss * sizeof(*out));
		return c->nrdnss;
	}
	return c->rdnss_self ? own_dns(ra, p, np, out) : 0;
}

enum send_result { SENT, NOT_READY, SEND_FAILED };

/* Build and send one RA to all-nodes; final: the last one (6.2.5). */
static enum send_result send_ra(struct ra *ra, bool final)
{
	const struct ra_conf *c = &ra->conf;
	struct ra_prefix all[RA_MAX_PREFIXES + RA_MAX_DEPRECATED];
	struct tapir_addr dns[RA_MAX_RDNSS];
	struct tapir_addr allnodes;
	uint8_t mac[6], msg[RA_MSG_MAX];
	unsigned mtu = 0;
	uint64_t t = now(ra);
	size_t n, len;
	struct ra_adv adv = {
		.hop_limit = c->hop_limit,
		.managed = mode_managed(c->mode),
		.other = mode_other(c->mode),
		.router_lifetime = final ? 0 : c->router_lifetime,
		.reachable_ms = c->reachable_ms,
		.retrans_ms = c->retrans_ms,
		.mac = mac,
		.dnssl = c->dnssl,
		.dnssl_len = c->dnssl_len,
	};
	int rc;

	n = current_prefixes(ra, all);
	if (!n && !c->nprefixes && !ra->ngone && !ra->nadv && !final) {
		if (!ra->said_waiting)
			ra->api->log(ra->host, TAPIR_LOG_INFO,
				     "no prefix to advertise yet (no /64 "
				     "address of interface.address6 is "
				     "usable); waiting");
		ra->said_waiting = true;
		return NOT_READY;
	}
	adv.nrdnss = dns_servers(ra, all, n, dns);
	adv.rdnss = dns;
	if (!final) {
		memcpy(ra->adv_dns, dns, adv.nrdnss * sizeof(*dns));
		ra->nadv_dns = adv.nrdnss;
	}
	track_gone(ra, all, n);
	for (size_t i = 0; i < ra->ngone; i++) {
		all[n] = ra->gone[i].p;
		all[n].preferred = 0;
		all[n].valid = (uint32_t)((ra->gone[i].expires_ms - t + 999) /
					  1000);
		n++;
	}
	if (final)
		for (size_t i = 0; i < n; i++) {
			all[i].preferred = 0;
			if (all[i].valid > DEPRECATED_VALID_S)
				all[i].valid = DEPRECATED_VALID_S;
		}
	adv.prefixes = all;
	adv.nprefixes = n;
	/* RFC 8106 5.1: at least 3 x MaxRtrAdvInterval; 0 in the final RA
	 * (the server goes away with tapird). */
	adv.rdnss_lifetime = adv.dnssl_lifetime =
		final ? 0 : 3 * (c->max_ms / 1000);
	ra->api->if_link(ra->host, mac, &mtu);
	if (c->mtu > 0)
		adv.mtu = (uint32_t)c->mtu < mtu || !mtu ? (uint32_t)c->mtu : mtu;
	else if (c->mtu < 0)
		adv.mtu = mtu;
	len = ra_build(&adv, msg, sizeof(msg));
	if (!len)
		return SEND_FAILED; /* cannot happen within the bounds */
	tapir_addr_parse("ff02::1", &allnodes);
	rc = ra->api->icmp6_send(ra->host, &allnodes, NULL, msg, len);
	if (rc == -EADDRNOTAVAIL && !final)
		return NOT_READY; /* our link-local address is in DAD */
	if (rc) {
		++*ra->send_errors;
		if (rc != ra->last_err)
			ra->api->log(ra->host, TAPIR_LOG_WARNING,
				     "router advertisement not sent: %s",
				     strerror(-rc));
		ra->last_err = rc;
		return SEND_FAILED;
	}
	ra->last_err = 0;
	ra->said_waiting = false;
	return SENT;
}

static void on_timer(void *arg)
{
	struct ra *ra = arg;
	enum send_result r = send_ra(ra, false);
	uint64_t interval;

	if (r == NOT_READY) {
		arm_at(ra, now(ra) + NOT_READY_RETRY_MS, ra->solicited);
		return;
	}
	if (r == SENT) {
		++*(ra->solicited ? ra->ra_solicited : ra->ra_unsolicited);
		ra->sent_any = true;
		ra->last_ms = now(ra);
	}
	interval = rng_between(ra, ra->conf.min_ms, ra->conf.max_ms);
	if (ra->initial_left && --ra->initial_left &&
	    interval > MAX_INITIAL_RTR_ADVERT_INTERVAL_MS)
		interval = MAX_INITIAL_RTR_ADVERT_INTERVAL_MS;
	arm_at(ra, now(ra) + interval, false);
}

/* An RA soon (a solicitation, a reload): a random 0..500 ms from now, or
 * 3 s after the last one; unless one is due sooner anyway.  True when the
 * RA had to wait for the 3 s or was one already scheduled. */
static bool advertise_soon(struct ra *ra, bool solicited)
{
	bool deferred;
	uint64_t at = earliest(ra, rng_between(ra, 0, MAX_RA_DELAY_TIME_MS),
			       &deferred);

	if (ra->next_ms <= at) {
		ra->solicited |= solicited;
		return true;
	}
	arm_at(ra, at, solicited || ra->solicited);
	return deferred;
}

/* Our addresses change without a word to the module (DAD passing, an
 * interface reload): when the prefixes or DNS servers it would advertise
 * now differ from the last RA's, advertise at once and quickly again, as
 * for any change (RFC 4861 6.2.4). */
static void on_watch(void *arg)
{
	struct ra *ra = arg;
	struct ra_prefix cur[RA_MAX_PREFIXES];
	struct tapir_addr dns[RA_MAX_RDNSS];
	size_t n, nd;
	bool same;

	ra->api->timer_arm(ra->watch, WATCH_MS);
	if (!ra->sent_any)
		return; /* the first RA is on its way */
	n = current_prefixes(ra, cur);
	nd = dns_servers(ra, cur, n, dns);
	same = n == ra->nadv && nd == ra->nadv_dns &&
	       !memcmp(dns, ra->adv_dns, nd * sizeof(*dns));
	for (size_t i = 0; same && i < n; i++)
		same = same_prefix(&cur[i], &ra->adv[i]);
	if (same)
		return;
	ra->initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
	advertise_soon(ra, false);
}

static void on_rs(void *arg, const struct tapir_icmp6_meta *m,
		  const uint8_t *msg, size_t len)
{
	struct ra *ra = arg;
	enum rs_verdict v;

	++*ra->rs_received;
	v = ra_rs_check(msg, len, m->hop_limit, tapir_addr_is_unspec(&m->src_ip));
	if (v != RS_OK) {
		uint64_t t = now(ra);

		++*ra->rs_invalid;
		if (t >= ra->last_invalid_log_ms + 1000) {
			char src[TAPIR_ADDR_STRLEN];

			ra->last_invalid_log_ms = t;
			ra->api->log(ra->host, TAPIR_LOG_DEBUG,
				     "invalid router solicitation from %s: %s",
				     tapir_addr_format(&m->src_ip, src),
				     ra_rs_verdict_name(v));
		}
		return;
	}
	if (advertise_soon(ra, true))
		++*ra->rate_limited;
}

/* ---- Lifecycle ----------------------------------------------------------- */

static uint64_t *counter(struct ra *ra, const char *name)
{
	uint64_t *c = ra->api->counter(ra->host, name);

	return c ? c : &dummy_counter;
}

static void set_router(struct ra *ra, bool on)
{
	if (ra->router != on)
		ra->api->set_router(ra->host, on);
	ra->router = on;
}

static void ra_fini(void *state)
{
	struct ra *ra = state;
	struct tapir_addr allrouters;

	if (!ra)
		return;
	if (ra->sent_any && send_ra(ra, true) == SENT)
		++*ra->ra_unsolicited;
	if (ra->timer)
		ra->api->timer_free(ra->timer);
	if (ra->watch)
		ra->api->timer_free(ra->watch);
	if (ra->rs)
		ra->api->icmp6_unbind(ra->rs);
	set_router(ra, false);
	if (ra->joined && tapir_addr_parse("ff02::2", &allrouters))
		ra->api->mcast_leave(ra->host, &allrouters);
	free(ra);
}

static void *ra_init(struct tapir_host *host, const struct tapir_host_api *api,
		     const void *conf)
{
	struct ra *ra;
	struct tapir_addr allrouters;
	int rc;

	if (!TAPIR_HOST_HAS(api, set_router) || !TAPIR_HOST_HAS(api, random)) {
		api->log(host, TAPIR_LOG_ERR,
			 "this tapird lacks host API 4 (ICMPv6 for modules); "
			 "the ra module needs it");
		return NULL;
	}
	ra = calloc(1, sizeof(*ra));
	if (!ra)
		return NULL;
	ra->host = host;
	ra->api = api;
	if (conf_load(conf, &ra->conf, NULL))
		goto fail;
	ra->rs_received = counter(ra, "rs_received");
	ra->rs_invalid = counter(ra, "rs_invalid");
	ra->ra_solicited = counter(ra, "ra_solicited");
	ra->ra_unsolicited = counter(ra, "ra_unsolicited");
	ra->rate_limited = counter(ra, "rate_limited");
	ra->send_errors = counter(ra, "send_errors");
	if (api->random(host, &ra->rng, sizeof(ra->rng)))
		ra->rng = api->now_ms(host) ^ (uintptr_t)ra;
	tapir_addr_parse("ff02::2", &allrouters);
	rc = api->mcast_join(host, &allrouters);
	if (rc) {
		api->log(host, TAPIR_LOG_ERR,
			 "cannot listen to all-routers (ff02::2): %s%s",
			 strerror(-rc),
			 rc == -EAFNOSUPPORT ? " (interface.ipv6 is false)"
					     : "");
		goto fail;
	}
	ra->joined = true;
	ra->rs = api->icmp6_bind(host, ICMP6_ROUTER_SOLICIT, on_rs, ra);
	if (!ra->rs) {
		api->log(host, TAPIR_LOG_ERR,
			 "cannot receive router solicitations: %s%s",
			 strerror(errno),
			 errno == EADDRINUSE ? " (another module has them)"
					     : "");
		goto fail;
	}
	ra->timer = api->timer_new(host, on_timer, ra);
	ra->watch = api->timer_new(host, on_watch, ra);
	if (!ra->timer || !ra->watch)
		goto fail;
	api->timer_arm(ra->watch, WATCH_MS);
	set_router(ra, ra->conf.router_lifetime > 0);
	ra->initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
	ra->next_ms = UINT64_MAX;
	advertise_soon(ra, false);
	return ra;
fail:
	ra->sent_any = false; /* nothing advertised: no final RA */
	ra_fini(ra);
	return NULL;
}

static int ra_reconfigure(void *state, const void *conf)
{
	struct ra *ra = state;
	struct ra_conf *c = malloc(sizeof(*c));

	if (!c || conf_load(conf, c, NULL)) {
		free(c);
		return -1;
	}
	ra->conf = *c;
	free(c);
	set_router(ra, ra->conf.router_lifetime > 0);
	/* RFC 4861 6.2.4: changed information is advertised at once and
	 * by the fast initial RAs again. */
	ra->initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
	advertise_soon(ra, false);
	return 0;
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	TAPIR_MODULE_HEAD,
	.name = "ra",
	.description = "IPv6 router advertisements for SLAAC, with DNS options",
	.settings = settings,
	.settings_size = sizeof(struct ra_settings),
	.check = ra_check,
	.init = ra_init,
	.reconfigure = ra_reconfigure,
	.fini = ra_fini,
};
