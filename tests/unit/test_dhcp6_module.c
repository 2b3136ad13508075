/*
 * The dhcp6 module loaded by tapird's module loader against the IPv6
 * stack on the fake link (helpers.h): a Solicit from a link-local address
 * to ff02::1:2 reaches port 547 (the module joined the group) and is
 * answered to the client's address and MAC from our link-local address;
 * the server DUID is a DUID-LLT of our MAC, kept in <lease_file>.duid and
 * the same after the module is loaded again; a Request's Reply leaves only
 * when the journal batch closes and the lease appears on the "dhcp6.lease"
 * topic; settings errors carry FILE:LINE; removing the module withdraws
 * the leases and frees port 547.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/modhost.h"
#include "daemon/pubsub.h"
#include "dhcp6_msg.h"
#include "helpers.h"

static char dpath[1024], dir[128], lease_path[256], duid_path[300];
static struct stack *st;
static struct modules set;
static struct conf *cur;
static const uint8_t all_servers[16] = {0xff, 2, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 1, 0, 2};

static void setup(void)
{
	const char *edir = getenv("TAPIR_TEST_ECHO_DIR");

	snprintf(dpath, sizeof(dpath), "%s/dhcp6.so",
		 edir ? edir : "../../src/modules/.libs");
	snprintf(dir, sizeof(dir), "/tmp/tapir-dhcp6mod.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(lease_path, sizeof(lease_path), "%s/leases", dir);
	snprintf(duid_path, sizeof(duid_path), "%s.duid", lease_path);
	st = th_stack_new6(NULL);
	modules_init(&set, st);
	cur = NULL;
}

static void teardown(void)
{
	char tmp[300];

	modules_stop_all(&set);
	conf_free(cur);
	th_stack_free(st);
	snprintf(tmp, sizeof(tmp), "%s.tmp", lease_path);
	unlink(tmp);
	unlink(lease_path);
	unlink(duid_path);
	rmdir(dir);
}

/* Load a module list, prepare and commit; the number of errors. */
static size_t reload(const char *mods, struct conf_errors *errs)
{
	struct module_txn txn = {0};
	struct conf *c;
	char *text;

	ck_assert_int_ge(asprintf(&text,
				  "interface = { address = \"10.0.0.2/24\"; };\n"
				  "modules = (\n%s\n);\n",
				  mods),
			 0);
	c = conf_load_string(text, "t.conf", errs);
	free(text);
	if (!c)
		return errs->n;
	if (modules_prepare(&set, c, errs, &txn) < 0) {
		modules_abort(&txn);
		conf_free(c);
		return errs->n;
	}
	ck_assert_int_eq(modules_commit(&set, &txn), 0);
	conf_free(cur);
	cur = c;
	return 0;
}

static void start_with(const char *domain)
{
	struct conf_errors errs = {0};
	char mods[2048];

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp6\"; path = \"%s\";\n"
		 "  pool = [ \"2001:db8::100-2001:db8::1ff\" ];\n"
		 "  dns = [ \"2001:db8::2\" ]; domain = \"%s\";\n"
		 "  lease_file = \"%s\"; }",
		 dpath, domain, lease_path);
	ck_assert_msg(reload(mods, &errs) == 0, "%s", errs.n ? errs.msgs[0] : "");
	conf_errors_clear(&errs);
}

static void start(void)
{
	start_with("lab.test");
}

static uint8_t frame[TH_FRAME_MAX];

/* A client message from fe80::1 port 546 to ff02::1:2 port 547. */
static void send_client(const struct c6 *m)
{
	size_t len = th_udp6_frame(frame, th_peer6_ll, all_servers, 546, 547,
				   m->b, m->n);

	th_frames_clear();
	stack_input(st, frame, len, 0);
}

/* The one frame sent: a UDP datagram from our link-local address port
 * 547 to fe80::1 port 546 at the peer's MAC, parsed into r. */
static void expect_reply(struct r6 *r, uint8_t type)
{
	const struct th_frame *f;
	const uint8_t *p;

	ck_assert_uint_eq(th_frame_count(), 1);
	f = th_frame(0);
	p = f->data;
	ck_assert_uint_ge(f->len, 14 + 40 + 8 + 4);
	ck_assert_mem_eq(p, th_peer_mac, 6);
	ck_assert_mem_eq(p + 6, th_our_mac, 6);
	ck_assert_uint_eq(p[12] << 8 | p[13], 0x86dd);
	ck_assert_uint_eq(p[14 + 6], 17);
	ck_assert_mem_eq(p + 14 + 8, th_our_ll6(st), 16);
	ck_assert_mem_eq(p + 14 + 24, th_peer6_ll, 16);
	ck_assert_uint_eq(p[54] << 8 | p[55], 547);
	ck_assert_uint_eq(p[56] << 8 | p[57], 546);
	ck_assert(r6_parse(p + 62, f->len - 62, r));
	ck_assert_uint_eq(r->type, type);
}

static void solicit(struct c6 *m, uint8_t type)
{
	c6_begin(m, type, 0x0a0b0c);
	c6_duid(m, 1, 1);
	c6_opt(m, 8, "\0\0", 2);
	c6_oro(m, 23, 24, 0);
	c6_ia_na(m, 1, NULL);
}

START_TEST(test_solicit_answered_with_persistent_duid)
{
	struct conf_errors errs = {0};
	uint8_t duid1[130];
	size_t len1;
	struct r6 r;
	struct c6 m;
	FILE *f;
	char line[512];

	start();
	solicit(&m, 1);
	send_client(&m);
	expect_reply(&r, 2);
	ck_assert_uint_eq(r.nia, 1);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "2001:db8::100");
	ck_assert_uint_eq(r.ndns, 1);
	ck_assert_str_eq(r.domains, "lab.test.");
	/* DUID-LLT (type 1, Ethernet) ending in our MAC. */
	ck_assert(r.has_sid);
	ck_assert_uint_eq(r.sidlen, 14);
	ck_assert_mem_eq(r.sid, "\0\1\0\1", 4);
	ck_assert_mem_eq(r.sid + 8, th_our_mac, 6);
	memcpy(duid1, r.sid, r.sidlen);
	len1 = r.sidlen;
	/* Kept beside the lease file, in text. */
	f = fopen(duid_path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_uint_eq(strlen(line), 14 * 3);
	ck_assert_int_eq(strncmp(line, "00:01:00:01:", 12), 0);
	/* Gone and loaded again, a second later: the same DUID. */
	ck_assert_uint_eq(reload("", &errs), 0);
	sleep(1);
	start();
	send_client(&m);
	expect_reply(&r, 2);
	ck_assert_uint_eq(r.sidlen, len1);
	ck_assert_mem_eq(r.sid, duid1, len1);
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_reply_after_journal_and_published)
{
	struct conf_errors errs = {0};
	struct udp_binding b = {.port = 547};
	struct r6 r;
	struct c6 m;
	const char *v;
	size_t len;

	start();
	solicit(&m, 1);
	send_client(&m);
	expect_reply(&r, 2);
	solicit(&m, 3);
	c6_opt(&m, 2, r.sid, r.sidlen);
	send_client(&m);
	ck_assert_uint_eq(th_frame_count(), 0); /* waits for the fsync */
	ck_assert_ptr_null(pubsub_lookup(set.pubsub, "dhcp6.lease",
					 "2001:db8::100", &len));
	th_advance(st, 10); /* batch_ms = 5 */
	expect_reply(&r, 7);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "2001:db8::100");
	v = pubsub_lookup(set.pubsub, "dhcp6.lease", "2001:db8::100", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(strstr(v, "duid=00030001020000000001 iaid=1 "
					"expires="));
	/* Removed: the entry goes, port 547 is free again. */
	ck_assert_uint_eq(reload("", &errs), 0);
	ck_assert_uint_eq(pubsub_entries(set.pubsub), 0);
	ck_assert_int_eq(udp_bind(st, &b), 0);
	udp_unbind(st, &b);
	conf_errors_clear(&errs);
}
END_TEST

/* Bind 2001:db8::100 for client 1 (Solicit, Request, the batch closed);
 * the server DUID in sid. */
static void bind_client(uint8_t *sid, size_t *sidlen)
{
	struct r6 r;
	struct c6 m;

	solicit(&m, 1);
	send_client(&m);
	expect_reply(&r, 2);
	memcpy(sid, r.sid, r.sidlen);
	*sidlen = r.sidlen;
	solicit(&m, 3);
	c6_opt(&m, 2, sid, *sidlen);
	send_client(&m);
	th_advance(st, 10);
	expect_reply(&r, 7);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "2001:db8::100");
}

START_TEST(test_reload_keeps_leases_and_duid)
{
	struct module_txn txn = {0};
	struct conf_errors errs = {0};
	uint8_t sid[130];
	size_t sidlen, len;
	struct conf *c;
	struct r6 r;
	struct c6 m;
	char *text;

	start();
	bind_client(sid, &sidlen);
	/* A changed setting: the lease and the DUID stay, the new domain
	 * is served. */
	start_with("other.test");
	ck_assert_ptr_nonnull(pubsub_lookup(set.pubsub, "dhcp6.lease",
					    "2001:db8::100", &len));
	solicit(&m, 5);
	c6_opt(&m, 2, sid, sidlen);
	c6_ia_na(&m, 1, "2001:db8::100");
	send_client(&m);
	th_advance(st, 10);
	expect_reply(&r, 7);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "2001:db8::100");
	ck_assert_uint_eq(r.sidlen, sidlen);
	ck_assert_mem_eq(r.sid, sid, sidlen);
	ck_assert_str_eq(r.domains, "other.test.");
	/* A lease file in a directory that does not exist: refused by the
	 * module, which keeps its settings, its leases and its DUID. */
	ck_assert_int_ge(asprintf(&text,
				  "interface = { address = \"10.0.0.2/24\"; };\n"
				  "modules = ( { name = \"dhcp6\"; path = \"%s\";\n"
				  "  pool = [ \"2001:db8::100-2001:db8::1ff\" ];\n"
				  "  lease_file = \"%s/nodir/leases\"; } );\n",
				  dpath, dir),
			 0);
	c = conf_load_string(text, "t.conf", &errs);
	free(text);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(modules_prepare(&set, c, &errs, &txn), 0);
	ck_assert_int_eq(modules_commit(&set, &txn), 1);
	conf_free(c);
	ck_assert_ptr_nonnull(pubsub_lookup(set.pubsub, "dhcp6.lease",
					    "2001:db8::100", &len));
	send_client(&m);
	th_advance(st, 10);
	expect_reply(&r, 7);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "2001:db8::100");
	ck_assert_mem_eq(r.sid, sid, sidlen);
	ck_assert_str_eq(r.domains, "other.test.");
	/* And a good reload after it still has the DUID of the file. */
	start_with("third.test");
	send_client(&m);
	th_advance(st, 10);
	expect_reply(&r, 7);
	ck_assert_mem_eq(r.sid, sid, sidlen);
	ck_assert_str_eq(r.domains, "third.test.");
	conf_errors_clear(&errs);
}
END_TEST

START_TEST(test_settings_errors_have_lines)
{
	struct conf_errors errs = {0};
	char mods[2048];

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp6\"; path = \"%s\";\n"
		 "  pool = [ \"fd00::1:0-fd00:1::5\" ];\n"
		 "  dns = [ \"10.0.0.2\" ];\n"
		 "  t1 = 3000; t2 = 100;\n"
		 "  info_refresh_time = 100;\n"
		 "  reservations = ( { duid = \"zz\"; address = "
		 "\"fd00::50\"; } );\n"
		 "  lease_file = \"relative\"; }",
		 dpath);
	ck_assert_uint_eq(reload(mods, &errs), 6);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "t.conf:4: module dhcp6: pool"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], "t.conf:6: module dhcp6: t1"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[2], "t.conf:5: module dhcp6: dns"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[3], "t.conf:7: module dhcp6: info_refresh_time"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[4], "t.conf:8: module dhcp6: reservation: duid"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[5], "t.conf:9: module dhcp6: lease_file"));
	ck_assert_uint_eq(modules_count(&set), 0);
	conf_errors_clear(&errs);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("dhcp6_module");
	TCase *tc = tcase_create("module");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_solicit_answered_with_persistent_duid);
	tcase_add_test(tc, test_reply_after_journal_and_published);
	tcase_add_test(tc, test_reload_keeps_leases_and_duid);
	tcase_add_test(tc, test_settings_errors_have_lines);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(suite());
}
