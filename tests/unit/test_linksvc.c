/*
 * Host API 4 (modhost.c over mld6.c, nd6.c, icmp4.c, icmp6.c): what link
 * services need from tapird.  A module (testmod.so) joins multicast
 * groups and hears datagrams sent to them, receives Router
 * Solicitations, sends Router Advertisements from our link-local address
 * with hop limit 255, says it is a router (the Router flag in our
 * Neighbor Advertisements), and pings addresses through the stack; and
 * all of it is released when the module stops.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/modhost.h"
#include "helpers.h"
#include "net/core.h"
#include "wire/icmp4.h"
#include "wire/icmp6.h"
#include "wire/ip4.h"
#include "wire/ip6.h"
#include "wire/udp.h"

struct testmod_log {
	int checks, inits, reconfigures, finis;
	long long value;
	struct tapir_host *host[4];
	const struct tapir_host_api *api[4];
	bool has_random, has_report;
	int random_rc;
	bool has_tapird_version;
	const char *tapird_version;
};

static struct testmod_log *tlog;
static void *tdl;
static char tpath[1024];
static struct stack *st;
static struct modules set;
static struct conf *cur;
static const struct tapir_host_api *api;
static struct tapir_host *h;

static const uint8_t dhcp6_group[16] = {0xff, 0x02, [13] = 1, [15] = 2};
static const uint8_t routers_group[16] = {0xff, 0x02, [15] = 2};

static size_t reload(const char *mods)
{
	struct conf_errors errs = {0};
	struct module_txn txn = {0};
	char *text;
	struct conf *c;
	size_t n;

	ck_assert_int_ge(asprintf(&text,
				  "interface = { address = \"10.0.0.2/24\"; };\n"
				  "modules = (%s);\n",
				  mods),
			 0);
	c = conf_load_string(text, "t.conf", &errs);
	free(text);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(modules_prepare(&set, c, &errs, &txn), 0);
	ck_assert_int_eq(modules_commit(&set, &txn), 0);
	n = errs.n;
	conf_errors_clear(&errs);
	conf_free(cur);
	cur = c;
	return n;
}

static void setup(void)
{
	const char *dir = getenv("TAPIR_TEST_MODULE_DIR");
	char mods[1200];

	snprintf(tpath, sizeof(tpath), "%s/testmod.so", dir ? dir : ".libs");
	tdl = dlopen(tpath, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(tdl, "%s", dlerror());
	tlog = dlsym(tdl, "testmod_log");
	ck_assert_ptr_nonnull(tlog);
	memset(tlog, 0, sizeof(*tlog));
	st = th_stack_new6(NULL);
	modules_init(&set, st);
	cur = NULL;
	snprintf(mods, sizeof(mods),
		 "{ name = \"a\"; path = \"%s\"; slot = 0; }", tpath);
	ck_assert_uint_eq(reload(mods), 0);
	api = tlog->api[0];
	h = tlog->host[0];
	ck_assert_ptr_nonnull(api);
	th_frames_clear();
}

static void teardown(void)
{
	modules_stop_all(&set);
	/* Everything the module had is released. */
	ck_assert_uint_eq(st->nmcast6, 0);
	ck_assert_uint_eq(st->router_refs, 0);
	ck_assert_ptr_null(set.rs);
	ck_assert_ptr_null(set.pings);
	ck_assert_uint_eq(set.npings, 0);
	th_stack_free(st);
	conf_free(cur);
	dlclose(tdl);
}

static struct tapir_addr addr(const char *s)
{
	struct tapir_addr a;

	ck_assert(tapir_addr_parse(s, &a));
	return a;
}

static struct tapir_addr addr6(const uint8_t *b)
{
	struct tapir_addr a;

	memcpy(a.b, b, 16);
	return a;
}

START_TEST(test_version_and_table)
{
	ck_assert_uint_ge(api->version, 4);
	ck_assert(TAPIR_HOST_HAS(api, if_link));
	ck_assert(TAPIR_HOST_HAS(api, ping_cancel));
}
END_TEST

START_TEST(test_if_link_and_addresses)
{
	uint8_t mac[6];
	unsigned mtu = 0, plen = 0;
	struct tapir_addr a;

	api->if_link(h, mac, &mtu);
	ck_assert_mem_eq(mac, th_our_mac, 6);
	ck_assert_uint_eq(mtu, stack_get_params(st)->mtu);
	api->if_link(h, NULL, NULL);

	ck_assert_int_eq(api->if_addr(h, 0, &a, &plen), 0);
	ck_assert_uint_eq(tapir_addr_v4(&a), 0x0a000002);
	/* Then the usable IPv6 ones: link-local first. */
	ck_assert_int_eq(api->if_addr(h, 1, &a, &plen), 0);
	ck_assert_mem_eq(a.b, th_our_ll6(st), 16);
	ck_assert_uint_eq(plen, 64);
	ck_assert_int_eq(api->if_addr(h, 2, &a, &plen), 0);
	ck_assert_mem_eq(a.b, th_our6, 16);
	ck_assert_int_eq(api->if_addr(h, 3, &a, &plen), -ENOENT);
	/* One under DAD is not usable yet: it is skipped. */
	st->addr6[1].state = ADDR6_TENTATIVE;
	ck_assert_int_eq(api->if_addr(h, 2, &a, &plen), -ENOENT);
	st->addr6[1].state = ADDR6_PREFERRED;
}
END_TEST

static int udp_got;
static struct tapir_udp_meta udp_meta;

static void udp_cb(void *arg, const struct tapir_udp_meta *m,
		   const uint8_t *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	udp_meta = *m;
	udp_got++;
}

static void send_to_group(const uint8_t *group)
{
	uint8_t f[256];

	stack_input(st, f,
		    th_udp6_frame(f, th_peer6_ll, group, 546, 547, "hi", 2), 0);
}

/* Whether some frame sent is an MLDv2 report naming group g with record
 * type rtype. */
static bool reported(const uint8_t *g, uint8_t rtype)
{
	for (size_t i = 0; i < th_frame_count(); i++) {
		const struct th_frame *fr = th_frame(i);
		const uint8_t *p = fr->data + ETH_HLEN + IP6_HLEN + 8;
		size_t n;

		if (fr->len < ETH_HLEN + IP6_HLEN + 8 + 8 ||
		    fr->data[ETH_HLEN + 6] != IP6_NH_HOPOPTS ||
		    p[0] != ICMP6_MLD2_REPORT)
			continue;
		n = (size_t)(p[6] << 8 | p[7]);
		for (size_t r = 0; r < n; r++) {
			const uint8_t *rec = p + 8 + r * 20;

			if (rec + 20 > fr->data + fr->len)
				break;
			if (rec[0] == rtype && memcmp(rec + 4, g, 16) == 0)
				return true;
		}
	}
	return false;
}

START_TEST(test_multicast_join)
{
	struct tapir_addr g = addr6(dhcp6_group);
	struct tapir_udp *u = api->udp_bind(h, 547, udp_cb, NULL);
	char name[32];

	ck_assert_ptr_nonnull(u);
	udp_got = 0;
	/* Not joined: not ours. */
	send_to_group(dhcp6_group);
	ck_assert_int_eq(udp_got, 0);

	/* Only link-scope groups, and not all-nodes. */
	ck_assert_int_eq(api->mcast_join(h, &(struct tapir_addr){0}), -EINVAL);
	g = addr("ff05::1:3");
	ck_assert_int_eq(api->mcast_join(h, &g), -EINVAL);
	g = addr("2001:db8::1");
	ck_assert_int_eq(api->mcast_join(h, &g), -EINVAL);
	g = addr("ff02::1");
	ck_assert_int_eq(api->mcast_join(h, &g), -EINVAL);
	g = addr("10.0.0.255");
	ck_assert_int_eq(api->mcast_join(h, &g), -EINVAL);

	g = addr6(dhcp6_group);
	th_frames_clear();
	ck_assert_int_eq(api->mcast_join(h, &g), 0);
	ck_assert(reported(dhcp6_group, 4)); /* CHANGE_TO_EXCLUDE */
	send_to_group(dhcp6_group);
	ck_assert_int_eq(udp_got, 1);
	ck_assert(udp_meta.broadcast);
	ck_assert_mem_eq(udp_meta.dst_ip.b, dhcp6_group, 16);
	ck_assert_mem_eq(udp_meta.src_ip.b, th_peer6_ll, 16);

	/* Joins are counted: the group stays until the last leave. */
	ck_assert_int_eq(api->mcast_join(h, &g), 0);
	api->mcast_leave(h, &g);
	send_to_group(dhcp6_group);
	ck_assert_int_eq(udp_got, 2);
	th_frames_clear();
	api->mcast_leave(h, &g);
	ck_assert(reported(dhcp6_group, 3)); /* CHANGE_TO_INCLUDE: left */
	send_to_group(dhcp6_group);
	ck_assert_int_eq(udp_got, 2);
	api->mcast_leave(h, &g); /* not joined: nothing */

	/* A bounded number of groups. */
	for (unsigned i = 0; i < TAPIR_MCAST_MAX; i++) {
		snprintf(name, sizeof(name), "ff02::1:%x", i + 0x100);
		g = addr(name);
		ck_assert_int_eq(api->mcast_join(h, &g), 0);
	}
	g = addr("ff02::1:ffff");
	ck_assert_int_eq(api->mcast_join(h, &g), -ENOSPC);
	ck_assert_uint_eq(st->nmcast6, TAPIR_MCAST_MAX);
	/* Stopping the module releases them (teardown checks). */
}
END_TEST

static int rs_got;
static struct tapir_icmp6_meta rs_meta;
static size_t rs_len;

static void rs_cb(void *arg, const struct tapir_icmp6_meta *m,
		  const uint8_t *msg, size_t len)
{
	(void)arg;
	rs_meta = *m;
	rs_len = len;
	ck_assert_uint_eq(msg[0], ICMP6_ND_RS);
	rs_got++;
}

static void send_rs(uint8_t hop_limit)
{
	uint8_t m[ICMP6_HLEN + 8], f[256];
	uint8_t opt[8] = {ND_OPT_SLLA, 1};
	struct icmp6_hdr ih = {.type = ICMP6_ND_RS};
	size_t n;

	memcpy(opt + 2, th_peer_mac, 6);
	n = th_icmp6_write(m, th_peer6_ll, routers_group, &ih, opt, sizeof(opt));
	stack_input(st, f,
		    th_ip6_frame_raw(f, NULL, th_peer_mac, th_peer6_ll,
				     routers_group, IP6_NH_ICMP6, hop_limit, m,
				     n),
		    0);
}

START_TEST(test_router_solicitations)
{
	struct tapir_addr g = addr6(routers_group);
	struct tapir_icmp6 *b;

	errno = 0;
	ck_assert_ptr_null(api->icmp6_bind(h, ICMP6_ND_NS, rs_cb, NULL));
	ck_assert_int_eq(errno, EINVAL);
	b = api->icmp6_bind(h, ICMP6_ND_RS, rs_cb, NULL);
	ck_assert_ptr_nonnull(b);
	errno = 0;
	ck_assert_ptr_null(api->icmp6_bind(h, ICMP6_ND_RS, rs_cb, NULL));
	ck_assert_int_eq(errno, EADDRINUSE);

	rs_got = 0;
	send_rs(255); /* all-routers is not heard yet */
	ck_assert_int_eq(rs_got, 0);
	ck_assert_int_eq(api->mcast_join(h, &g), 0);
	send_rs(255);
	ck_assert_int_eq(rs_got, 1);
	ck_assert_uint_eq(rs_meta.hop_limit, 255);
	ck_assert_mem_eq(rs_meta.src_ip.b, th_peer6_ll, 16);
	ck_assert_mem_eq(rs_meta.dst_ip.b, routers_group, 16);
	ck_assert_mem_eq(rs_meta.src_mac, th_peer_mac, 6);
	ck_assert_uint_eq(rs_len, ICMP6_HLEN + 8);
	/* RFC 4861 6.1.1: not from a neighbour on the link. */
	send_rs(64);
	ck_assert_int_eq(rs_got, 1);

	api->icmp6_unbind(b);
	send_rs(255);
	ck_assert_int_eq(rs_got, 1);
	/* Free again for whoever binds next. */
	b = api->icmp6_bind(h, ICMP6_ND_RS, rs_cb, NULL);
	ck_assert_ptr_nonnull(b);
}
END_TEST

START_TEST(test_send_router_advertisement)
{
	uint8_t ra[16] = {ICMP6_ND_RA, 0, 0xaa, 0xbb, 64};
	uint8_t echo[8] = {ICMP6_ECHO_REQUEST};
	uint8_t all_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	struct tapir_addr all = addr("ff02::1"), ll = addr6(th_peer6_ll);
	struct tapir_addr global = addr6(th_peer6);
	struct ip6_hdr ih;
	struct icmp6_hdr ich;
	struct cur c;

	ck_assert_int_eq(api->icmp6_send(h, &all, NULL, ra, sizeof(ra)), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp6(th_frame(0), all_mac, &ih, &ich);
	ck_assert_uint_eq(ih.hop_limit, 255);
	ck_assert_mem_eq(ih.src, th_our_ll6(st), 16);
	ck_assert_uint_eq(ich.type, ICMP6_ND_RA);
	ck_assert_uint_eq(ich.rest >> 24, 64);
	ck_assert_uint_eq(c.len, 8);

	/* Straight to a MAC, unicast to a link-local address. */
	th_frames_clear();
	ck_assert_int_eq(api->icmp6_send(h, &ll, th_peer_mac, ra, sizeof(ra)),
			 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_icmp6(th_frame(0), th_peer_mac, &ih, &ich);
	ck_assert_mem_eq(ih.dst, th_peer6_ll, 16);

	/* Only RAs, only on the link, only complete. */
	ck_assert_int_eq(api->icmp6_send(h, &all, NULL, echo, sizeof(echo)),
			 -EINVAL);
	ck_assert_int_eq(api->icmp6_send(h, &global, NULL, ra, sizeof(ra)),
			 -EINVAL);
	ck_assert_int_eq(api->icmp6_send(h, &all, NULL, ra, 3), -EINVAL);
	ck_assert_int_eq(api->icmp6_send(h, &all, NULL, NULL, 16), -EINVAL);
	{
		static uint8_t big[9000] = {ICMP6_ND_RA};

		ck_assert_int_eq(api->icmp6_send(h, &all, NULL, big,
						 sizeof(big)),
				 -EINVAL);
	}
	/* Not while our link-local address is being checked. */
	st->addr6[0].state = ADDR6_TENTATIVE;
	ck_assert_int_eq(api->icmp6_send(h, &all, NULL, ra, sizeof(ra)),
			 -EADDRNOTAVAIL);
	st->addr6[0].state = ADDR6_PREFERRED;
}
END_TEST

/* Our Neighbor Advertisement in answer to a solicitation for th_our6:
 * its flags word. */
static uint32_t na_flags(void)
{
	uint8_t m[ICMP6_HLEN + 24], f[256], body[24], sn[16];
	struct icmp6_hdr ih = {.type = ICMP6_ND_NS}, na;
	struct ip6_hdr ip;
	size_t n;

	memcpy(body, th_our6, 16);
	body[16] = ND_OPT_SLLA;
	body[17] = 1;
	memcpy(body + 18, th_peer_mac, 6);
	th_solicited6(th_our6, sn);
	n = th_icmp6_write(m, th_peer6, sn, &ih, body, sizeof(body));
	th_frames_clear();
	stack_input(st, f,
		    th_ip6_frame_raw(f, NULL, th_peer_mac, th_peer6, sn,
				     IP6_NH_ICMP6, 255, m, n),
		    0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_icmp6(th_frame(0), th_peer_mac, &ip, &na);
	ck_assert_uint_eq(na.type, ICMP6_ND_NA);
	return na.rest;
}

START_TEST(test_router_flag)
{
	ck_assert_uint_eq(na_flags() & ND_NA_ROUTER, 0);
	api->set_router(h, true);
	api->set_router(h, true); /* once is enough */
	ck_assert_uint_eq(st->router_refs, 1);
	ck_assert_uint_ne(na_flags() & ND_NA_ROUTER, 0);
	/* A router hears all-routers. */
	ck_assert_ptr_nonnull(api->icmp6_bind(h, ICMP6_ND_RS, rs_cb, NULL));
	rs_got = 0;
	send_rs(255);
	ck_assert_int_eq(rs_got, 1);
	api->set_router(h, false);
	ck_assert_uint_eq(na_flags() & ND_NA_ROUTER, 0);
	send_rs(255);
	ck_assert_int_eq(rs_got, 1);
	api->set_router(h, true); /* released at stop: teardown checks */
}
END_TEST

/* The router role's membership of all-routers, when the group table was
 * full as the role began, was never taken: ending the role must not drop
 * the membership the module took itself afterwards. */
START_TEST(test_router_role_failed_join_leaves_nothing)
{
	struct tapir_addr g, r = addr6(routers_group);
	struct tapir_udp *u = api->udp_bind(h, 547, udp_cb, NULL);
	char name[32];

	ck_assert_ptr_nonnull(u);
	for (unsigned i = 0; i < STACK_MCAST6_MAX; i++) {
		snprintf(name, sizeof(name), "ff02::1:%x", i + 0x100);
		g = addr(name);
		ck_assert_int_eq(api->mcast_join(h, &g), 0);
	}
	api->set_router(h, true); /* no room for all-routers */
	ck_assert_uint_eq(st->nmcast6, STACK_MCAST6_MAX);
	g = addr("ff02::1:100");
	api->mcast_leave(h, &g);
	ck_assert_int_eq(api->mcast_join(h, &r), 0);
	udp_got = 0;
	send_to_group(routers_group);
	ck_assert_int_eq(udp_got, 1);
	api->set_router(h, false);
	/* The module's own join of all-routers holds. */
	send_to_group(routers_group);
	ck_assert_int_eq(udp_got, 2);
	api->mcast_leave(h, &r);
	send_to_group(routers_group);
	ck_assert_int_eq(udp_got, 2);
}
END_TEST

static int ping_res[8], ping_calls;
static unsigned ping_rtt;

static void ping_cb(void *arg, int result, unsigned rtt_ms)
{
	int *slot = arg;

	*slot = result;
	ping_rtt = rtt_ms;
	ping_calls++;
}

/* The identifier and sequence of the echo request in frame i. */
static void sent_echo4(size_t i, uint16_t *id, uint16_t *seq)
{
	struct ip4_hdr ih;
	struct icmp4_hdr ich;

	th_expect_icmp(th_frame(i), th_peer_mac, &ih, &ich);
	ck_assert_uint_eq(ich.type, ICMP4_ECHO_REQUEST);
	ck_assert_uint_eq(ih.src, 0x0a000002);
	ck_assert_uint_eq(ih.dst, 0x0a000001);
	*id = (uint16_t)(ich.rest >> 16);
	*seq = (uint16_t)ich.rest;
}

static void reply4(uint32_t from, uint16_t id, uint16_t seq)
{
	uint8_t m[64], f[128];
	struct icmp4_hdr ich = {.type = ICMP4_ECHO_REPLY,
				.rest = (uint32_t)id << 16 | seq};
	struct ip4_hdr ih = {.ttl = 64, .proto = IP4_PROTO_ICMP,
			     .src = from, .dst = 0x0a000002};
	size_t n = th_icmp_write(m, &ich, "tapir-pi", 8);

	stack_input(st, f, th_ip4_frame(f, th_our_mac, th_peer_mac, &ih, m, n),
		    0);
}

START_TEST(test_ping4)
{
	struct tapir_addr peer = addr("10.0.0.1");
	struct tapir_ping *p;
	uint16_t id, seq;

	th_learn(st, th_peer_mac, 0x0a000001);
	th_frames_clear();
	ping_calls = 0;
	ping_res[0] = 99;
	p = api->ping(h, &peer, 1000, ping_cb, &ping_res[0]);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(th_frame_count(), 1);
	sent_echo4(0, &id, &seq);
	th_advance(st, 7);
	/* Another sequence, or another source: not the answer. */
	reply4(0x0a000001, id, (uint16_t)(seq + 1));
	reply4(0x0a000003, id, seq);
	reply4(0x0a000001, (uint16_t)(id + 1), seq);
	ck_assert_int_eq(ping_calls, 0);
	reply4(0x0a000001, id, seq);
	ck_assert_int_eq(ping_calls, 1);
	ck_assert_int_eq(ping_res[0], 1);
	ck_assert_uint_ge(ping_rtt, 7);
	ck_assert_uint_le(ping_rtt, 12);
	reply4(0x0a000001, id, seq); /* a duplicate: told once only */
	ck_assert_int_eq(ping_calls, 1);

	/* No answer in time: 0, at the timeout and not before. */
	th_frames_clear();
	p = api->ping(h, &peer, 500, ping_cb, &ping_res[1]);
	ck_assert_ptr_nonnull(p);
	th_advance(st, 400);
	ck_assert_int_eq(ping_calls, 1);
	th_advance(st, 200);
	ck_assert_int_eq(ping_calls, 2);
	ck_assert_int_eq(ping_res[1], 0);
}
END_TEST

START_TEST(test_ping_errors)
{
	struct tapir_addr a;
	struct tapir_ping *p[TAPIR_PING_MAX];

	ping_calls = 0;
	/* Nobody answers resolution: unreachable, at the timeout. */
	a = addr("10.0.0.77");
	ck_assert_ptr_nonnull(api->ping(h, &a, 300, ping_cb, &ping_res[0]));
	/* No route (no gateway): told after the call, not inside it. */
	a = addr("192.0.2.1");
	ck_assert_ptr_nonnull(api->ping(h, &a, 300, ping_cb, &ping_res[1]));
	ck_assert_int_eq(ping_calls, 0);
	th_advance(st, 10);
	ck_assert_int_eq(ping_calls, 1);
	ck_assert_int_eq(ping_res[1], -EHOSTUNREACH);
	th_advance(st, 400);
	ck_assert_int_eq(ping_calls, 2);
	ck_assert_int_eq(ping_res[0], -EHOSTUNREACH);

	/* Not an address one can ask, or a timeout out of range. */
	errno = 0;
	a = addr("10.0.0.255");
	ck_assert_ptr_null(api->ping(h, &a, 300, ping_cb, NULL));
	ck_assert_int_eq(errno, EINVAL);
	a = addr("ff02::1");
	ck_assert_ptr_null(api->ping(h, &a, 300, ping_cb, NULL));
	ck_assert_int_eq(errno, EINVAL);
	a = addr("10.0.0.1");
	ck_assert_ptr_null(api->ping(h, &a, 0, ping_cb, NULL));
	ck_assert_ptr_null(api->ping(h, &a, 60001, ping_cb, NULL));
	ck_assert_ptr_null(api->ping(h, &a, 100, NULL, NULL));

	/* A bounded number outstanding; a cancelled one is never told. */
	for (unsigned i = 0; i < TAPIR_PING_MAX; i++) {
		p[i] = api->ping(h, &a, 1000, ping_cb, &ping_res[2]);
		ck_assert_ptr_nonnull(p[i]);
	}
	errno = 0;
	ck_assert_ptr_null(api->ping(h, &a, 1000, ping_cb, &ping_res[2]));
	ck_assert_int_eq(errno, EBUSY);
	api->ping_cancel(p[0]);
	ck_assert_uint_eq(set.npings, TAPIR_PING_MAX - 1);
	ck_assert_int_eq(ping_calls, 2);
	/* The rest are cancelled when the module stops (teardown). */
}
END_TEST

START_TEST(test_ping6)
{
	struct tapir_addr peer = addr6(th_peer6);
	struct ip6_hdr ih;
	struct icmp6_hdr ich;
	uint8_t m[64], f[160];
	size_t n;

	th_learn6(st, th_peer_mac, th_peer6);
	ping_calls = 0;
	ck_assert_ptr_nonnull(api->ping(h, &peer, 1000, ping_cb, &ping_res[0]));
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_icmp6(th_frame(0), th_peer_mac, &ih, &ich);
	ck_assert_uint_eq(ich.type, ICMP6_ECHO_REQUEST);
	ck_assert_mem_eq(ih.src, th_our6, 16);
	ich.type = ICMP6_ECHO_REPLY;
	n = th_icmp6_write(m, th_peer6, th_our6, &ich, "tapir-pi", 8);
	stack_input(st, f,
		    th_ip6_frame_raw(f, NULL, th_peer_mac, th_peer6, th_our6,
				     IP6_NH_ICMP6, 64, m, n),
		    0);
	ck_assert_int_eq(ping_calls, 1);
	ck_assert_int_eq(ping_res[0], 1);
}
END_TEST

/* A module that stops with everything held gives it all back, and its
 * pending pings are not told. */
START_TEST(test_stop_releases)
{
	struct tapir_addr g = addr6(dhcp6_group), a = addr("10.0.0.1");

	ck_assert_int_eq(api->mcast_join(h, &g), 0);
	api->set_router(h, true);
	ck_assert_ptr_nonnull(api->icmp6_bind(h, ICMP6_ND_RS, rs_cb, NULL));
	ping_calls = 0;
	ck_assert_ptr_nonnull(api->ping(h, &a, 100, ping_cb, &ping_res[0]));
	ck_assert_uint_eq(reload(""), 0);
	ck_assert_uint_eq(st->nmcast6, 0);
	ck_assert_uint_eq(st->router_refs, 0);
	ck_assert_ptr_null(set.rs);
	ck_assert_uint_eq(set.npings, 0);
	th_advance(st, 200);
	ck_assert_int_eq(ping_calls, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("linksvc");
	TCase *tc = tcase_create("host API 4");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_version_and_table);
	tcase_add_test(tc, test_if_link_and_addresses);
	tcase_add_test(tc, test_multicast_join);
	tcase_add_test(tc, test_router_solicitations);
	tcase_add_test(tc, test_send_router_advertisement);
	tcase_add_test(tc, test_router_flag);
	tcase_add_test(tc, test_router_role_failed_join_leaves_nothing);
	tcase_add_test(tc, test_ping4);
	tcase_add_test(tc, test_ping_errors);
	tcase_add_test(tc, test_ping6);
	tcase_add_test(tc, test_stop_releases);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
