/*
 * The dhcp module loaded by tapird's module loader against the stack on the
 * fake link (helpers.h): a DHCPDISCOVER from 0.0.0.0:68 to
 * 255.255.255.255:67 reaches port 67 and is answered straight to the
 * client's MAC without ARP; the ACK leaves only when the journal batch
 * closes and the lease appears on the "dhcp.lease" topic of the host API;
 * settings errors carry FILE:LINE; a reload keeps the leases and removing
 * the module withdraws them and frees port 67.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "helpers.h"
#include "daemon/modhost.h"
#include "daemon/pubsub.h"
#include "wire/arp.h"
#include "wire/icmp4.h"
#include "wire/ip4.h"

static char dpath[1024], dir[128], lease_path[256];
static struct stack *st;
static struct modules set;
static struct conf *cur;
static const uint8_t client_mac[6] = {2, 0, 0, 0, 0, 0x42};

static void setup(void)
{
	const char *edir = getenv("TAPIR_TEST_ECHO_DIR");

	snprintf(dpath, sizeof(dpath), "%s/dhcp.so",
		 edir ? edir : "../../src/modules/.libs");
	snprintf(dir, sizeof(dir), "/tmp/tapir-dhcpmod.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(lease_path, sizeof(lease_path), "%s/leases", dir);
	st = th_stack_new(NULL);
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

static void start(const char *domain)
{
	struct conf_errors errs = {0};
	char mods[2048];

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp\"; path = \"%s\";\n"
		 "  pool = [ \"10.0.0.100-10.0.0.101\" ];\n"
		 "  router = \"10.0.0.1\"; dns = [ \"10.0.0.2\" ];\n"
		 "  domain = \"%s\"; lease_file = \"%s\"; }",
		 dpath, domain, lease_path);
	ck_assert_uint_eq(reload(mods, &errs), 0);
	conf_errors_clear(&errs);
}

static uint8_t frame[TH_FRAME_MAX];

/* A client message as a broadcast frame from 0.0.0.0:68 (or from ciaddr
 * when it has one) to 255.255.255.255:67. */
static void send_client(uint8_t type, uint32_t req_ip, uint32_t server_id)
{
	uint8_t m[300] = {0};
	size_t n = 240, len;

	m[0] = 1;
	m[1] = 1;
	m[2] = 6;
	m[7] = 0x42;
	memcpy(m + 28, client_mac, 6);
	m[236] = 0x63;
	m[237] = 0x82;
	m[238] = 0x53;
	m[239] = 0x63;
	m[n++] = 53;
	m[n++] = 1;
	m[n++] = type;
	if (req_ip) {
		m[n++] = 50;
		m[n++] = 4;
		put_be32(m + n, req_ip);
		n += 4;
	}
	if (server_id) {
		m[n++] = 54;
		m[n++] = 4;
		put_be32(m + n, server_id);
		n += 4;
	}
	m[n++] = 255;
	len = th_udp_frame(frame, 0, IP4_BROADCAST, 68, 67, m, n);
	memcpy(frame, th_bcast_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, client_mac, ETH_ALEN);
	th_frames_clear();
	stack_input(st, frame, len, 0);
}

/* The one frame sent: a DHCP reply of type to the client's MAC and
 * address, from port 67 to 68; returns yiaddr. */
static uint32_t expect_reply(uint8_t type)
{
	struct ip4_hdr ih;
	struct udp_hdr uh;
	struct cur c;

	ck_assert_uint_eq(th_frame_count(), 1);
	c = th_expect_udp(th_frame(0), client_mac, &ih, &uh);
	ck_assert_uint_eq(uh.sport, 67);
	ck_assert_uint_eq(uh.dport, 68);
	ck_assert_uint_eq(ih.src, TH_OUR_IP);
	ck_assert_uint_ge(c.len, 300);
	ck_assert_uint_eq(c.p[0], 2);
	ck_assert_uint_eq(be32(c.p + 16), ih.dst); /* to yiaddr */
	ck_assert_uint_eq(c.p[240], 53);
	ck_assert_uint_eq(c.p[242], type);
	return ih.dst;
}

START_TEST(test_discover_from_zero_source_answered_to_mac)
{
	start("lab.test");
	send_client(1, 0, 0);
	/* The OFFER goes straight to the MAC: no ARP request first. */
	ck_assert_uint_eq(expect_reply(2), 0x0a000064);
	ck_assert_uint_eq(st->arp.used, 0);
	ck_assert_uint_eq(st->stats.v[STAT_IP4_DROP_SRC], 0);
}
END_TEST

START_TEST(test_ack_after_journal_and_published)
{
	const char *v;
	size_t len;

	start("lab.test");
	send_client(1, 0, 0);
	ck_assert_uint_eq(expect_reply(2), 0x0a000064);
	send_client(3, 0x0a000064, TH_OUR_IP);
	ck_assert_uint_eq(th_frame_count(), 0); /* waits for the fsync */
	ck_assert_ptr_null(pubsub_lookup(set.pubsub, "dhcp.lease",
					 "10.0.0.100", &len));
	th_advance(st, 10); /* batch_ms = 5 */
	ck_assert_uint_eq(expect_reply(5), 0x0a000064);
	v = pubsub_lookup(set.pubsub, "dhcp.lease", "10.0.0.100", &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, strlen(v));
	ck_assert_ptr_nonnull(strstr(v, "mac=02:00:00:00:00:42 expires="));
	ck_assert_ptr_null(strstr(v, "hostname"));
	/* A reload keeps it (the module reads its journal again). */
	start("other.test");
	ck_assert_ptr_nonnull(pubsub_lookup(set.pubsub, "dhcp.lease",
					    "10.0.0.100", &len));
	send_client(3, 0x0a000064, 0); /* INIT-REBOOT */
	th_advance(st, 10);
	ck_assert_uint_eq(expect_reply(5), 0x0a000064);
	/* Removed: the entry goes, port 67 is free again. */
	{
		struct conf_errors errs = {0};
		struct udp_binding b = {.port = 67};

		ck_assert_uint_eq(reload("", &errs), 0);
		ck_assert_uint_eq(pubsub_entries(set.pubsub), 0);
		ck_assert_int_eq(udp_bind(st, &b), 0);
		udp_unbind(st, &b);
	}
}
END_TEST

START_TEST(test_settings_errors_have_lines)
{
	struct conf_errors errs = {0};
	char mods[2048];

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp\"; path = \"%s\";\n"
		 "  pool = [ \"10.0.0.200-10.0.0.100\" ];\n"
		 "  lease_time = 5;\n"
		 "  router = \"10.0.0.300\";\n"
		 "  reservations = ( { mac = \"02:00:00:00:00\"; address = "
		 "\"10.0.0.50\"; } );\n"
		 "  options = ( { code = 3; ip = \"10.0.0.1\"; } );\n"
		 "  lease_file = \"relative\"; }",
		 dpath);
	/* The typed settings first, as tapird reads them in file order;
	 * then what the module's check() finds. */
	ck_assert_uint_eq(reload(mods, &errs), 6);
	ck_assert_ptr_nonnull(strstr(errs.msgs[0], "t.conf:5: module dhcp: "
						   "lease_time = 5: must be "
						   "60-31536000 seconds"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[1], "t.conf:6: module dhcp: router"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[2], "t.conf:4: module dhcp: pool"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[3], "t.conf:7: module dhcp: "
						   "reservation: mac"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[4], "t.conf:8: module dhcp: "
						   "option 3 is set"));
	ck_assert_ptr_nonnull(strstr(errs.msgs[5], "t.conf:9: module dhcp: lease_file"));
	ck_assert_uint_eq(modules_count(&set), 0);
	conf_errors_clear(&errs);
}
END_TEST

static bool has_error(const struct conf_errors *e, const char *text)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], text))
			return true;
	return false;
}

START_TEST(test_operator_settings_errors_have_lines)
{
	struct conf_errors errs = {0};
	char mods[2048];

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp\"; path = \"%s\";\n"
		 "  pool = [ \"10.0.5.10-10.0.5.20\" ];\n"
		 "  min_lease_time = 7200; max_lease_time = 60;\n"
		 "  ping_timeout = 0;\n"
		 "  subnets = ( { subnet = \"10.0.1.1/24\"; pool = [ \"10.0.1.9\" ]; },\n"
		 "    { subnet = \"10.0.2.0/24\"; pool = [ \"10.0.3.1-10.0.3.5\" ]; },\n"
		 "    { subnet = \"10.0.4.0/24\"; pool = [ \"10.0.4.1\" ]; colour = 1; },\n"
		 "    { subnet = \"10.0.5.0/24\"; pool = [ \"10.0.5.100\" ]; },\n"
		 "    { subnet = \"10.0.8.0/24\"; pool = [ \"10.0.8.100\" ]; router = \"10.0.8.300\"; lease_time = 10; },\n"
		 "    { subnet = \"10.0.6.0/24\"; pool = [ \"10.0.6.100\" ]; },\n"
		 "    { subnet = \"10.0.6.128/25\"; pool = [ \"10.0.6.200\" ]; },\n"
		 "    { subnet = \"10.0.7.0/33\"; pool = [ \"10.0.7.1\" ]; } );\n"
		 "  lease_file = \"%s\"; }",
		 dpath, lease_path);
	ck_assert_uint_gt(reload(mods, &errs), 0);
	ck_assert(has_error(&errs, "t.conf:6: module dhcp: ping_timeout = 0: "
				   "must be 1-5000 milliseconds"));
	ck_assert(has_error(&errs, "t.conf:7: module dhcp: subnet: "
				   "\"10.0.1.1/24\" has host bits set"));
	ck_assert(has_error(&errs, "t.conf:8: module dhcp: pool: "
				   "\"10.0.3.1-10.0.3.5\" is not inside "
				   "10.0.2.0/24"));
	ck_assert(has_error(&errs, "t.conf:9: module dhcp: subnet: unknown "
				   "setting 'colour'"));
	ck_assert(has_error(&errs, "t.conf:11: module dhcp: router: not an "
				   "IPv4 address"));
	ck_assert(has_error(&errs, "t.conf:11: module dhcp: lease_time must "
				   "be 60..31536000 seconds"));
	ck_assert(has_error(&errs, "t.conf:13: module dhcp: subnet 10.0.6.128/25 "
				   "overlaps another subnet"));
	ck_assert(has_error(&errs, "t.conf:14: module dhcp: subnet must be a "
				   "network"));
	ck_assert(has_error(&errs, "t.conf:4: module dhcp: pool: a range "
				   "reaches into subnet 10.0.5.0/24"));
	ck_assert(has_error(&errs, "t.conf:5: module dhcp: min_lease_time "
				   "must not exceed lease_time"));
	ck_assert(has_error(&errs, "t.conf:5: module dhcp: max_lease_time "
				   "must not be under lease_time"));
	ck_assert_uint_eq(modules_count(&set), 0);
	conf_errors_clear(&errs);
}
END_TEST

/* The settings of a relay subnet, the bounds, the cap and the ping check
 * load and serve (this host without ping: the check is off, said once). */
START_TEST(test_operator_settings_load)
{
	struct conf_errors errs = {0};
	char mods[2048];

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp\"; path = \"%s\";\n"
		 "  pool = [ \"10.0.0.100-10.0.0.110\" ];\n"
		 "  min_lease_time = 600; max_lease_time = 86400;\n"
		 "  max_leases_per_mac = 4; ping_check = true; ping_timeout = 200;\n"
		 "  subnets = ( { subnet = \"10.0.1.0/24\"; pool = [ \"10.0.1.100-10.0.1.199\" ];\n"
		 "                router = \"10.0.1.1\"; dns = [ \"10.0.0.2\" ]; lease_time = 1200; } );\n"
		 "  lease_file = \"%s\"; }",
		 dpath, lease_path);
	ck_assert_uint_eq(reload(mods, &errs), 0);
	ck_assert_uint_eq(modules_count(&set), 1);
	/* A subnet over the interface's own is refused when it starts. */
	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp\"; path = \"%s\";\n"
		 "  pool = [ \"10.0.0.100-10.0.0.110\" ];\n"
		 "  subnets = ( { subnet = \"10.0.0.0/16\"; pool = [ \"10.0.9.1\" ]; } );\n"
		 "  lease_file = \"%s\"; }",
		 dpath, lease_path);
	ck_assert_uint_gt(reload(mods, &errs), 0);
	conf_errors_clear(&errs);
}
END_TEST

/* ping_check through tapird's own stack: the first address answers the
 * echo request (a host squats on it), so the client is offered the
 * second, whose ping gets no answer in ping_timeout. */
START_TEST(test_ping_check_through_stack)
{
	static const uint8_t squatter[6] = {2, 0, 0, 0, 0, 0x77};
	struct conf_errors errs = {0};
	char mods[2048];
	struct ip4_hdr ih;
	struct icmp4_hdr ich;
	struct arp_hdr arp;
	uint8_t m[64], f[128];
	char file[4096];
	FILE *lf;
	size_t n;

	snprintf(mods, sizeof(mods),
		 "{ name = \"dhcp\"; path = \"%s\";\n"
		 "  pool = [ \"10.0.0.100-10.0.0.101\" ];\n"
		 "  ping_check = true; ping_timeout = 200;\n"
		 "  lease_file = \"%s\"; }",
		 dpath, lease_path);
	ck_assert_uint_eq(reload(mods, &errs), 0);
	conf_errors_clear(&errs);
	th_learn(st, squatter, 0x0a000064);
	send_client(1, 0, 0);
	/* No offer yet: an echo request to 10.0.0.100. */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_icmp(th_frame(0), squatter, &ih, &ich);
	ck_assert_uint_eq(ich.type, ICMP4_ECHO_REQUEST);
	ck_assert_uint_eq(ih.dst, 0x0a000064);
	/* The squatter answers. */
	ich.type = ICMP4_ECHO_REPLY;
	ih = (struct ip4_hdr){.ttl = 64, .proto = IP4_PROTO_ICMP,
			      .src = 0x0a000064, .dst = TH_OUR_IP};
	n = th_icmp_write(m, &ich, "tapir-pi", 8);
	th_frames_clear();
	stack_input(st, f, th_ip4_frame(f, th_our_mac, squatter, &ih, m, n),
		    0);
	/* Now 10.0.0.101 is asked for (ARP: nobody there)... */
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_arp(th_frame(0), th_bcast_mac, &arp);
	ck_assert_uint_eq(arp.tpa, 0x0a000065);
	th_frames_clear();
	th_advance(st, 150);
	ck_assert_uint_eq(th_frame_count(), 0);
	/* ... and offered when the check times out. */
	th_advance(st, 100);
	ck_assert_uint_eq(expect_reply(2), 0x0a000065);
	lf = fopen(lease_path, "r");
	ck_assert_ptr_nonnull(lf);
	n = fread(file, 1, sizeof(file) - 1, lf);
	fclose(lf);
	file[n] = 0;
	ck_assert_ptr_nonnull(strstr(file, "D 10.0.0.100 "));
}
END_TEST

START_TEST(test_failed_reconfigure_keeps_serving)
{
	struct module_txn txn = {0};
	struct conf_errors errs = {0};
	struct conf *c;
	char *text;
	size_t len;

	start("lab.test");
	send_client(1, 0, 0);
	send_client(3, 0x0a000064, TH_OUR_IP);
	th_advance(st, 10);
	ck_assert_uint_eq(expect_reply(5), 0x0a000064);
	/* A lease file in a directory that does not exist: the reload is
	 * refused by the module, which keeps its settings and leases. */
	ck_assert_int_ge(asprintf(&text,
				  "interface = { address = \"10.0.0.2/24\"; };\n"
				  "modules = ( { name = \"dhcp\"; path = \"%s\";\n"
				  "  pool = [ \"10.0.0.100-10.0.0.101\" ];\n"
				  "  lease_file = \"%s/nodir/leases\"; } );\n",
				  dpath, dir),
			 0);
	c = conf_load_string(text, "t.conf", &errs);
	free(text);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(modules_prepare(&set, c, &errs, &txn), 0);
	ck_assert_int_eq(modules_commit(&set, &txn), 1);
	conf_free(c);
	ck_assert_ptr_nonnull(pubsub_lookup(set.pubsub, "dhcp.lease",
					    "10.0.0.100", &len));
	send_client(3, 0x0a000064, 0); /* INIT-REBOOT */
	th_advance(st, 10);
	ck_assert_uint_eq(expect_reply(5), 0x0a000064);
	conf_errors_clear(&errs);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("dhcp_module");
	TCase *tc = tcase_create("module");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_discover_from_zero_source_answered_to_mac);
	tcase_add_test(tc, test_ack_after_journal_and_published);
	tcase_add_test(tc, test_settings_errors_have_lines);
	tcase_add_test(tc, test_operator_settings_errors_have_lines);
	tcase_add_test(tc, test_operator_settings_load);
	tcase_add_test(tc, test_ping_check_through_stack);
	tcase_add_test(tc, test_failed_reconfigure_keeps_serving);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(suite());
}
