/*
 * The dns module as tapird runs it: dns.so loaded by the module loader
 * (module.c) on the stack core, queried with UDP frames, and fed DHCP names
 * through the host's published-data table (API version 3) by the test
 * module, which publishes "dhcp.lease" entries as the dhcp module does.
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "helpers.h"
#include "net/csum.h"
#include "dns_msg.h"
#include "daemon/modhost.h"
#include "net/core.h"
#include "wire/eth.h"
#include "wire/ip4.h"
#include "wire/udp.h"

struct testmod_log {
	int checks, inits, reconfigures, finis;
	long long value;
	struct tapir_host *host[4];
	const struct tapir_host_api *api[4];
};

static struct testmod_log *tlog;
static void *tdl;
static char tpath[1024], dpath[1024];
static uint8_t last[2048];
static size_t last_len, sent;
static struct stack *st;
static struct modules set;
static struct conf *cur;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return 1000;
}

static int fake_xmit(void *ctx, const uint8_t *f, size_t len,
		     const struct stack_tx_offload *off)
{
	(void)ctx;
	/* These stacks are made without offloads. */
	ck_assert(!off || !off->csum);
	sent++;
	last_len = len < sizeof(last) ? len : sizeof(last);
	memcpy(last, f, last_len);
	return 0;
}

static void setup(void)
{
	const char *dir = getenv("TAPIR_TEST_MODULE_DIR");
	const char *mdir = getenv("TAPIR_TEST_ECHO_DIR");
	struct stack_params p;

	snprintf(tpath, sizeof(tpath), "%s/testmod.so", dir ? dir : ".libs");
	snprintf(dpath, sizeof(dpath), "%s/dns.so",
		 mdir ? mdir : "../../src/modules/.libs");
	tdl = dlopen(tpath, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(tdl, "%s", dlerror());
	tlog = dlsym(tdl, "testmod_log");
	ck_assert_ptr_nonnull(tlog);
	memset(tlog, 0, sizeof(*tlog));
	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	st = stack_new(&p, &th_secrets, fake_xmit, NULL, fake_clock, NULL);
	ck_assert_ptr_nonnull(st);
	modules_init(&set, st);
	cur = NULL;
}

static void teardown(void)
{
	modules_stop_all(&set);
	stack_free(st);
	conf_free(cur);
	dlclose(tdl);
}

static void start(const char *dns_settings)
{
	struct conf_errors errs = {0};
	struct module_txn txn = {0};
	char *text;
	struct conf *c;

	ck_assert_int_ge(
		asprintf(&text,
			 "interface = { address = \"10.0.0.2/24\"; };\n"
			 "modules = ( { name = \"lease\"; path = \"%s\"; "
			 "slot = 0; },\n"
			 "  { name = \"dns\"; path = \"%s\"; %s } );\n",
			 tpath, dpath, dns_settings),
		0);
	c = conf_load_string(text, "t.conf", &errs);
	free(text);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_int_eq(modules_prepare(&set, c, &errs, &txn), 0);
	ck_assert_int_eq(modules_commit(&set, &txn), 0);
	cur = c;
	conf_errors_clear(&errs);
}

/* The peer's ARP reply to our request for 10.0.0.1. */
static void resolve_peer(void)
{
	static const uint8_t arp[42] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 6,
		0, 1, 8, 0, 6, 4, 0, 2,
		2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
		2, 0, 0, 0, 0, 2, 10, 0, 0, 2,
	};

	stack_input(st, arp, sizeof(arp), 0);
}

/* Ask 10.0.0.2:53 from 10.0.0.1:5555; the parsed answer. */
static const struct parsed *ask(const char *name, uint16_t qtype)
{
	uint8_t f[600], q[512];
	size_t ql = mkq(q, name, qtype, DNS_C_IN, NULL);
	size_t ulen = UDP_HLEN + ql;
	struct eth_hdr eh = {.dst = {2, 0, 0, 0, 0, 2},
			     .src = {2, 0, 0, 0, 0, 1},
			     .type = ETH_TYPE_IP4};
	struct ip4_hdr ih = {.ihl = 20, .total_len = (uint16_t)(20 + ulen),
			     .ttl = 64, .proto = IP4_PROTO_UDP,
			     .src = 0x0a000001, .dst = 0x0a000002};
	struct udp_hdr uh = {.sport = 5555, .dport = 53,
			     .len = (uint16_t)ulen};

	eth_hdr_write(f, &eh);
	ip4_hdr_write(f + 14, &ih);
	udp_hdr_write(f + 34, &uh);
	memcpy(f + 42, q, ql);
	uh.csum = csum_fold(csum_partial(
		f + 34, ulen,
		csum_pseudo4(ih.src, ih.dst, IP4_PROTO_UDP, (uint16_t)ulen)));
	udp_hdr_write(f + 34, &uh);
	sent = 0;
	stack_input(st, f, 34 + ulen, 0);
	ck_assert_uint_eq(sent, 1);
	if (last[12] == 8 && last[13] == 6) {
		/* The first answer waits for the peer's MAC: ARP replies. */
		sent = 0;
		resolve_peer();
		ck_assert_uint_eq(sent, 1);
	}
	ck_assert_uint_eq(last[23], IP4_PROTO_UDP);
	ck_assert_uint_eq(last[34] << 8 | last[35], 53);
	return parse(last + 42, last_len - 42);
}

START_TEST(test_loaded_module_answers)
{
	const struct parsed *p;

	start("zones = ( { name = \"lab.test\"; records = [ \"@ SOA ns1 hm 1 "
	      "3600 600 86400 60\", \"www A 10.0.0.2\" ]; } );");
	p = ask("www.lab.test", DNS_T_A);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	p = ask("nosuch.lab.test", DNS_T_A);
	ck_assert_uint_eq(DNS_RCODE(p->h.flags), DNS_R_NXDOMAIN);
}
END_TEST

START_TEST(test_published_leases_resolve)
{
	static const char v[] = "mac=02:00:00:00:00:01 expires=4102444800 "
				"hostname=laptop";
	static const char w[] = "mac=02:00:00:00:00:02 expires=4102444800 "
				"hostname=www";
	const struct tapir_host_api *api;
	struct tapir_host *h;
	const struct parsed *p;

	start("dhcp_ttl = 30; zones = ( { name = \"lab.test\"; records = [ "
	      "\"@ SOA ns1 hm 1 3600 600 86400 60\", \"www A 10.0.0.2\" ]; "
	      "} );");
	h = tlog->host[0];
	api = tlog->api[0];
	ck_assert(TAPIR_HOST_HAS(api, publish));
	p = ask("laptop.lab.test", DNS_T_A);
	ck_assert_uint_eq(DNS_RCODE(p->h.flags), DNS_R_NXDOMAIN);
	ck_assert_int_eq(api->publish(h, "dhcp.lease", "10.0.0.123", v,
				      strlen(v)),
			 0);
	ck_assert_int_eq(api->publish(h, "dhcp.lease", "10.0.0.124", w,
				      strlen(w)),
			 0);
	p = ask("laptop.lab.test", DNS_T_A);
	ck_assert(has_rr(p, 0, "laptop.lab.test. 30 A 10.0.0.123"));
	p = ask("123.0.0.10.in-addr.arpa", DNS_T_PTR);
	ck_assert(has_rr(p, 0, "123.0.0.10.in-addr.arpa. 30 PTR "
			       "laptop.lab.test."));
	/* The configured www wins over the lease's. */
	p = ask("www.lab.test", DNS_T_A);
	ck_assert_uint_eq(p->n[0], 1);
	ck_assert(has_rr(p, 0, "www.lab.test. 3600 A 10.0.0.2"));
	/* Released: gone. */
	api->unpublish(h, "dhcp.lease", "10.0.0.123");
	p = ask("laptop.lab.test", DNS_T_A);
	ck_assert_uint_eq(DNS_RCODE(p->h.flags), DNS_R_NXDOMAIN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_host");
	TCase *tc = tcase_create("host");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_loaded_module_answers);
	tcase_add_test(tc, test_published_leases_resolve);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
