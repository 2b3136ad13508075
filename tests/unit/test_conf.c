/*
 * Configuration loading (conf.c): the schema, defaults, and every error
 * reported as FILE:LINE with the right line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"

static struct conf_errors errs;

static void setup(void)
{
	memset(&errs, 0, sizeof(errs));
}

static void teardown(void)
{
	conf_errors_clear(&errs);
}

/* Load text that must be rejected with exactly one error, and return it. */
static const char *one_error(const char *text)
{
	struct conf *c = conf_load_string(text, "t.conf", &errs);

	ck_assert_ptr_null(c);
	ck_assert_msg(errs.n == 1, "expected 1 error, got %zu (first: %s)",
		      errs.n, errs.n ? errs.msgs[0] : "-");
	return errs.msgs[0];
}

#define IFACE "interface = { address = \"10.0.0.2/24\"; };\n"

/* The bytes of an IPv6 address in text, for comparisons. */
static const uint8_t *a6(const char *text)
{
	static uint8_t b[4][16];
	static unsigned next;
	uint8_t *p = b[next++ % 4];
	char why[160];

	ck_assert_msg(conf_parse_ip6(text, p, why, sizeof(why)), "%s %s", text,
		      why);
	return p;
}

START_TEST(test_default_config)
{
	struct conf *c = conf_load_string(conf_default_text, CONF_DEFAULT_NAME,
					  &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->ifname, "tapir0");
	ck_assert_uint_eq(c->params.addr, 0x0a000002);
	ck_assert_uint_eq(c->params.prefix, 24);
	ck_assert(c->has_host);
	ck_assert_uint_eq(c->host_addr, 0x0a000001);
	ck_assert_uint_eq(c->nmods, 1);
	ck_assert_str_eq(c->mods[0].name, "echo");
	ck_assert_uint_eq(c->params.mtu, 1500);
	ck_assert_ptr_eq(c->params.tcp.cc, &tcp_cc_cubic);
	/* Default MAC: locally administered unicast, stable per name. */
	ck_assert_uint_eq(c->params.mac[0] & 3, 2);
	conf_free(c);
}
END_TEST

START_TEST(test_shipped_config)
{
	const char *dir = getenv("TAPIR_TEST_SRCDIR");
	char path[4096];
	struct conf *c;

	snprintf(path, sizeof(path), "%s/../../conf/tapir.conf",
		 dir ? dir : ".");
	c = conf_load_file(path, &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_str_eq(c->ifname, "tapir0");
	ck_assert_uint_eq(c->params.gateway, 0x0a000001);
	ck_assert_uint_eq(c->params.mac[5], 2);
	/* Dual-stack: fd00::2/64 here, fd00::1/64 on the kernel side. */
	ck_assert(c->params.ipv6);
	ck_assert_uint_eq(c->params.naddr6, 1);
	ck_assert_mem_eq(c->params.addr6[0].addr, a6("fd00::2"), 16);
	ck_assert_uint_eq(c->params.addr6[0].prefix, 64);
	ck_assert(c->has_host6);
	ck_assert_mem_eq(c->host_addr6.addr, a6("fd00::1"), 16);
	ck_assert_uint_eq(c->host_addr6.prefix, 64);
	/* The shipped services: echo first, dns, dhcp and http among them. */
	ck_assert_uint_ge(c->nmods, 4);
	ck_assert_str_eq(c->mods[0].name, "echo");
	bool dhcp = false, dns = false, http = false;

	for (size_t i = 0; i < c->nmods; i++) {
		dhcp = dhcp || strcmp(c->mods[i].name, "dhcp") == 0;
		dns = dns || strcmp(c->mods[i].name, "dns") == 0;
		http = http || strcmp(c->mods[i].name, "http") == 0;
	}
	ck_assert(dhcp);
	ck_assert(dns);
	ck_assert(http);
	conf_free(c);
}
END_TEST

START_TEST(test_full_settings)
{
	struct conf *c = conf_load_string(
		"interface = { name = \"lab1\"; address = \"192.168.7.9/16\";\n"
		"  gateway = \"192.168.0.1\"; mtu = 9000;\n"
		"  mac = \"02:aa:bb:cc:dd:ee\"; host_address = \"192.168.0.2/16\"; };\n"
		"module_dir = \"/opt/m\";\n"
		"modules = ( { name = \"echo\"; }, { name = \"x\"; path = \"/p/x.so\"; } );\n"
		"stack = { arp_cache_size = 16; arp_timeout = 5; arp_retries = 2;\n"
		"  arp_queue_len = 0; reasm_max_datagrams = 0; reasm_max_bytes = 65536;\n"
		"  reasm_max_fragments = 4; reasm_timeout = 2; icmp_rate = 0;\n"
		"  icmp_burst = 1; ttl = 3; tcp_max_connections = 10;\n"
		"  tcp_syn_backlog = 5; tcp_send_buffer = 8192;\n"
		"  tcp_receive_buffer = 16384; tcp_out_of_order_limit = 4096;\n"
		"  tcp_time_wait = 2; tcp_syn_cookies = false;\n"
		"  tcp_congestion_control = \"newreno\"; };\n"
		"log = { level = \"debug\"; };\n"
		"user = \"nobody\"; group = \"nogroup\";\n",
		"t.conf", &errs);

	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_str_eq(c->ifname, "lab1");
	ck_assert_uint_eq(c->params.addr, 0xc0a80709);
	ck_assert_uint_eq(c->params.prefix, 16);
	ck_assert_uint_eq(c->params.gateway, 0xc0a80001);
	ck_assert_uint_eq(c->params.mtu, 9000);
	ck_assert_uint_eq(c->params.mac[1], 0xaa);
	ck_assert_uint_eq(c->params.mac[5], 0xee);
	ck_assert_str_eq(c->mods[0].path, "/opt/m/echo.so");
	ck_assert_str_eq(c->mods[1].path, "/p/x.so");
	ck_assert_uint_eq(c->params.arp_cache_size, 16);
	ck_assert_uint_eq(c->params.arp_timeout_ms, 5000);
	ck_assert_uint_eq(c->params.arp_retries, 2);
	ck_assert_uint_eq(c->params.arp_queue_len, 0);
	ck_assert_uint_eq(c->params.reasm_max_datagrams, 0);
	ck_assert_uint_eq(c->params.reasm_max_bytes, 65536);
	ck_assert_uint_eq(c->params.reasm_max_frags, 4);
	ck_assert_uint_eq(c->params.reasm_timeout_ms, 2000);
	ck_assert_uint_eq(c->params.icmp_rate, 0);
	ck_assert_uint_eq(c->params.icmp_burst, 1);
	ck_assert_uint_eq(c->params.ttl, 3);
	ck_assert_uint_eq(c->params.tcp.max_conns, 10);
	ck_assert_uint_eq(c->params.tcp.syn_backlog, 5);
	ck_assert_uint_eq(c->params.tcp.sndbuf, 8192);
	ck_assert_uint_eq(c->params.tcp.rcvbuf, 16384);
	ck_assert_uint_eq(c->params.tcp.ooo_limit, 4096);
	ck_assert_uint_eq(c->params.tcp.time_wait_ms, 2000);
	ck_assert(!c->params.tcp.syncookies);
	ck_assert_ptr_eq(c->params.tcp.cc, &tcp_cc_newreno);
	ck_assert_int_eq(c->log_level, 7);
	ck_assert_str_eq(c->user, "nobody");
	ck_assert_str_eq(c->group, "nogroup");
	conf_free(c);
}
END_TEST

START_TEST(test_syntax_error_line)
{
	const char *e = one_error(IFACE "\n\nmodules == ( );\n");

	ck_assert_str_eq(e, "t.conf:4: syntax error");
}
END_TEST

START_TEST(test_unknown_keys)
{
	ck_assert_str_eq(one_error(IFACE "\nbogus = 1;\n"),
			 "t.conf:3: unknown setting 'bogus'");
	conf_errors_clear(&errs);
	ck_assert_str_eq(one_error("interface = {\n address = \"10.0.0.2/24\";\n"
				   " nmae = \"x\"; };\n"),
			 "t.conf:3: unknown setting 'interface.nmae'");
	conf_errors_clear(&errs);
	ck_assert_str_eq(one_error(IFACE "stack = { arp_timout = 3; };\n"),
			 "t.conf:2: unknown setting 'stack.arp_timout'");
	conf_errors_clear(&errs);
	ck_assert_str_eq(one_error(IFACE "log = { lvl = \"x\"; };\n"),
			 "t.conf:2: unknown setting 'log.lvl'");
}
END_TEST

START_TEST(test_interface_errors)
{
	ck_assert_ptr_nonnull(strstr(one_error("module_dir = \"/x\";\n"),
				     "missing 'interface' group"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = {\n name = \"a\"; };\n"),
				     "t.conf:1: interface.address is required"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = {\n"
					       " address = \"10.0.0.2\"; };\n"),
				     "t.conf:2: interface.address: '10.0.0.2' is "
				     "not ADDRESS/PREFIX"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = {\n"
					       " address = \"10.0.0.2/33\"; };\n"),
				     "t.conf:2:"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = {\n"
					       " address = \"127.0.0.1/8\"; };\n"),
				     "not a usable host address"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " gateway = \"10.1.0.1\"; };\n"),
				     "t.conf:2: interface.gateway: 10.1.0.1 is "
				     "not inside"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " mtu = 67; };\n"),
				     "t.conf:2: interface.mtu: 67 is out of range"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " mtu = \"1500\"; };\n"),
				     "t.conf:2: interface.mtu: expected an integer"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " mac = \"01:00:00:00:00:01\"; };\n"),
				     "multicast"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " mac = \"02:00:00:00:00\"; };\n"),
				     "t.conf:2: interface.mac"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " name = \"a/b\"; };\n"),
				     "t.conf:2: interface.name"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " name = \"abcdefghijklmnop\"; };\n"),
				     "t.conf:2: interface.name"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = { address = \"10.0.0.2/24\";\n"
					       " host_address = \"10.0.0.2/24\"; };\n"),
				     "our own address"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error("interface = \"tap0\";\n"),
				     "t.conf:1: 'interface' must be a group"));
}
END_TEST

START_TEST(test_module_list_errors)
{
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "modules = \"echo\";\n"),
				     "t.conf:2: 'modules' must be a list"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "modules = ( { port = 1; } );\n"),
				     "t.conf:2: modules: entry without a name"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "modules = ( { name = \"echo\"; },\n"
						     "{ name = \"echo\"; } );\n"),
				     "t.conf:3: modules: 'echo' is listed twice"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "modules = ( { name = \"../x\"; } );\n"),
				     "is not a module name"));
}
END_TEST

START_TEST(test_range_and_level_errors)
{
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "stack = {\n ttl = 0; };\n"),
				     "t.conf:3: stack.ttl: 0 is out of range 1..255"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "stack = {\n arp_cache_size = 70000; };\n"),
				     "t.conf:3: stack.arp_cache_size"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "stack = {\n tcp_congestion_control = \"bbr\"; };\n"),
				     "t.conf:3: stack.tcp_congestion_control: 'bbr' is not"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "log = {\n level = \"loud\"; };\n"),
				     "t.conf:3: log.level: 'loud'"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "stack = 5;\n"),
				     "'stack' must be a group"));
}
END_TEST

/* seccomp: on unless set to false; anything but a boolean is an error
 * at its line. */
START_TEST(test_seccomp_setting)
{
	struct conf *c = conf_load_string(IFACE, "t.conf", &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert(c->seccomp);
	conf_free(c);
	c = conf_load_string(IFACE "seccomp = false;\n", "t.conf", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert(!c->seccomp);
	conf_free(c);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "\nseccomp = \"no\";\n"),
				     "t.conf:3: seccomp: expected true or false"));
}
END_TEST

START_TEST(test_all_errors_reported)
{
	struct conf *c = conf_load_string(
		"interface = { address = \"10.0.0.2/24\";\n"
		" mtu = 1; };\n"
		"stack = { ttl = 300;\n"
		" icmp_burst = 0; };\n"
		"extra = true;\n",
		"t.conf", &errs);

	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 4);
}
END_TEST

START_TEST(test_unreadable_file)
{
	struct conf *c = conf_load_file("/nonexistent/tapir.conf", &errs);

	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	/* No line to point at: no ":0:", the file named in the message. */
	ck_assert_str_eq(errs.msgs[0], "cannot read /nonexistent/tapir.conf: "
				       "No such file or directory");
}
END_TEST

/* FILE:LINE: where there is a line; never a line 0. */
START_TEST(test_error_locations)
{
	conf_error(&errs, "f.conf", 3, "bad %s", "value");
	conf_error(&errs, "f.conf", 0, "out of memory");
	conf_error(&errs, NULL, 0, "cannot read %s: %s", "f.conf", "gone");
	ck_assert_uint_eq(errs.n, 3);
	ck_assert_str_eq(errs.msgs[0], "f.conf:3: bad value");
	ck_assert_str_eq(errs.msgs[1], "f.conf: out of memory");
	ck_assert_str_eq(errs.msgs[2], "cannot read f.conf: gone");
}
END_TEST

START_TEST(test_parsers)
{
	uint32_t a;
	unsigned p;
	uint8_t mac[6];

	ck_assert(conf_parse_prefix("10.1.2.3/8", &a, &p));
	ck_assert_uint_eq(a, 0x0a010203);
	ck_assert_uint_eq(p, 8);
	ck_assert(conf_parse_prefix("1.2.3.4/32", &a, &p));
	ck_assert(!conf_parse_prefix("1.2.3.4/0", &a, &p));
	ck_assert(!conf_parse_prefix("1.2.3.4/", &a, &p));
	ck_assert(!conf_parse_prefix("1.2.3.4/+8", &a, &p));
	ck_assert(!conf_parse_prefix("1.2.3.4/8x", &a, &p));
	ck_assert(!conf_parse_prefix("1.2.3/8", &a, &p));
	ck_assert(!conf_parse_prefix("1.2.3.4.5.6.7.8.9.10.11/8", &a, &p));
	ck_assert(conf_parse_mac("02:00:5E:10:ab:FF", mac));
	ck_assert_uint_eq(mac[2], 0x5e);
	ck_assert_uint_eq(mac[5], 0xff);
	ck_assert(!conf_parse_mac("02:00:5e:10:ab", mac));
	ck_assert(!conf_parse_mac("02:00:5e:10:ab:ff:", mac));
	ck_assert(!conf_parse_mac("02-00-5e-10-ab-ff", mac));
	ck_assert(!conf_parse_mac("0g:00:5e:10:ab:ff", mac));
}
END_TEST

/* ---- IPv6 ---------------------------------------------------------------- */

#define IF6(lines) "interface = { address = \"10.0.0.2/24\";\n" lines " };\n"

/* Without IPv6 settings: IPv6 on, DAD on, RFC 7217 stable identifiers,
 * only the link-local address, no gateway, the host side left alone. */
START_TEST(test_ipv6_defaults)
{
	static const uint8_t zero[16];
	struct conf *c = conf_load_string(IFACE, "t.conf", &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert(c->params.ipv6);
	ck_assert(c->params.dad);
	ck_assert(!c->params.iid_eui64);
	ck_assert_uint_eq(c->params.naddr6, 0);
	ck_assert_mem_eq(c->params.gateway6, zero, 16);
	ck_assert(!c->has_host6);
	conf_free(c);

	/* The built-in default is dual-stack in the same way. */
	c = conf_load_string(conf_default_text, CONF_DEFAULT_NAME, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->params.ipv6);
	ck_assert(c->params.dad);
	ck_assert(!c->params.iid_eui64);
	conf_free(c);
}
END_TEST

START_TEST(test_ipv6_settings)
{
	struct conf *c = conf_load_string(
		IF6("  address6 = [ \"fd00::2/64\", \"2001:DB8:0:1:0:0:0:5/48\",\n"
		    "    \"2001:db8:ffff::/127\", \"fd01::1/128\" ];\n"
		    "  gateway6 = \"fe80::1\"; host_address6 = \"fd00::1/64\";\n"
		    "  ipv6 = true; dad = false; interface_id = \"eui64\";"),
		"t.conf", &errs);

	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert(c->params.ipv6);
	ck_assert(!c->params.dad);
	ck_assert(c->params.iid_eui64);
	ck_assert_uint_eq(c->params.naddr6, 4);
	ck_assert_mem_eq(c->params.addr6[0].addr, a6("fd00::2"), 16);
	ck_assert_uint_eq(c->params.addr6[0].prefix, 64);
	ck_assert_mem_eq(c->params.addr6[1].addr, a6("2001:db8:0:1::5"), 16);
	ck_assert_uint_eq(c->params.addr6[1].prefix, 48);
	/* A /127's zero end is an address (RFC 6164), not an anycast one. */
	ck_assert_mem_eq(c->params.addr6[2].addr, a6("2001:db8:ffff::"), 16);
	ck_assert_uint_eq(c->params.addr6[2].prefix, 127);
	ck_assert_uint_eq(c->params.addr6[3].prefix, 128);
	ck_assert_mem_eq(c->params.gateway6, a6("fe80::1"), 16);
	ck_assert(c->has_host6);
	ck_assert_mem_eq(c->host_addr6.addr, a6("fd00::1"), 16);
	ck_assert_uint_eq(c->host_addr6.prefix, 64);
	conf_free(c);

	/* A list in parentheses serves as well as an array; a gateway on
	 * the link of an address; IPv6 off, the addresses still checked. */
	c = conf_load_string(IF6("  address6 = ( \"2001:db8::2/64\" );\n"
				 "  gateway6 = \"2001:db8::1\"; ipv6 = false;\n"
				 "  interface_id = \"stable\";"),
			     "t.conf", &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert(!c->params.ipv6);
	ck_assert(!c->params.iid_eui64);
	ck_assert_uint_eq(c->params.naddr6, 1);
	ck_assert_mem_eq(c->params.gateway6, a6("2001:db8::1"), 16);
	conf_free(c);

	/* No addresses but the link-local one. */
	c = conf_load_string(IF6("  address6 = [ ];"), "t.conf", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->params.naddr6, 0);
	conf_free(c);
}
END_TEST

/* STACK_MAX_ADDR6 addresses are taken; one more is an error that says
 * how many to remove. */
START_TEST(test_ipv6_address_limit)
{
	char text[1024];
	size_t at;
	struct conf *c;

	at = (size_t)snprintf(text, sizeof(text),
			      "interface = { address = \"10.0.0.2/24\";\n"
			      " address6 = [");
	for (int i = 1; i <= STACK_MAX_ADDR6; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at,
				       "%s\"fd00::%d/64\"", i > 1 ? ", " : "",
				       i);
	snprintf(text + at, sizeof(text) - at, " ]; };\n");
	c = conf_load_string(text, "t.conf", &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_uint_eq(c->params.naddr6, STACK_MAX_ADDR6);
	ck_assert_mem_eq(c->params.addr6[STACK_MAX_ADDR6 - 1].addr,
			 a6("fd00::8"), 16);
	conf_free(c);

	snprintf(text + at, sizeof(text) - at, ", \"fd00::99/64\" ]; };\n");
	ck_assert_str_eq(one_error(text),
			 "t.conf:2: interface.address6: 9 addresses, but at "
			 "most 8 are allowed; remove 1");
}
END_TEST

/* Each address6 entry refused, on its own line, with cause and fix. */
START_TEST(test_address6_errors)
{
	static const struct {
		const char *entry, *msg;
	} bad[] = {
		{"\"fd00::2\"", "'fd00::2' has no prefix length; write "
				"ADDRESS/PREFIX, such as fd00::2/64"},
		{"\"fd00::2/0\"", "'fd00::2/0' has prefix length '0'; it must "
				  "be 1 to 128 (64 is usual)"},
		{"\"fd00::2/129\"", "prefix length '129'; it must be 1 to 128"},
		{"\"fd00::2/\"", "prefix length ''; it must be 1 to 128"},
		{"\"fd00::2/6x\"", "prefix length '6x'"},
		{"\"fd00::2/ 64\"", "prefix length ' 64'"},
		{"\"\"", "'' is empty; write ADDRESS/PREFIX"},
		{"\"fd00::g/64\"", "'fd00::g/64' is not an IPv6 address (RFC "
				   "4291 text"},
		{"\"fd00:::2/64\"", "is not an IPv6 address"},
		{"\"1:2:3:4:5:6:7:8:9/64\"", "is not an IPv6 address"},
		{"\"10.0.0.3/24\"", "'10.0.0.3/24' is an IPv4 address; this "
				    "setting is for IPv6"},
		{"\"fd00::2%tapir0/64\"", "carries a zone index ('%tapir0'); "
					  "leave it out"},
		{"\"[fd00::2]/64\"", "is in brackets"},
		{"\"ff02::1/64\"", "'ff02::1/64' is a multicast address "
				   "(ff00::/8); give a unicast one"},
		{"\"::/64\"", "'::/64' is the unspecified address"},
		{"\"::1/128\"", "'::1/128' is the loopback address"},
		{"\"::ffff:10.0.0.5/96\"", "is an IPv4-mapped address "
					   "(::ffff:0:0/96); IPv4 addresses "
					   "go in interface.address"},
		{"\"fe80::2/64\"", "'fe80::2/64' is link-local (fe80::/10); "
				   "tapird forms its link-local address itself"},
		{"\"febf::2/64\"", "is link-local"},
		{"\"fd00::/64\"", "'fd00::/64' is the Subnet-Router anycast "
				  "address of its prefix"},
		{"5", "entry 2 is not a string; write each address in double "
		      "quotes"},
	};
	char text[512];
	struct conf *c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *e;

		snprintf(text, sizeof(text),
			 "interface = { address = \"10.0.0.2/24\";\n"
			 " address6 = [ %s,\n %s ]; };\n",
			 bad[i].entry[0] == '"' ? "\"fd00::9/64\"" : "\"x\"",
			 bad[i].entry);
		if (bad[i].entry[0] != '"') /* a number: a list of mixed types */
			snprintf(text, sizeof(text),
				 "interface = { address = \"10.0.0.2/24\";\n"
				 " address6 = ( \"fd00::9/64\",\n %s ); };\n",
				 bad[i].entry);
		e = one_error(text);
		ck_assert_msg(!strncmp(e, "t.conf:3: interface.address6: ", 30),
			      "%s: %s", bad[i].entry, e);
		ck_assert_msg(strstr(e, bad[i].msg), "%s: %s", bad[i].entry, e);
		conf_errors_clear(&errs);
	}
	/* The same address twice, however written and whatever its prefix. */
	ck_assert_str_eq(one_error(IF6(" address6 = [ \"fd00::2/64\",\n"
				       " \"FD00:0:0::0002/48\" ];")),
			 "t.conf:3: interface.address6: 'FD00:0:0::0002/48' "
			 "repeats fd00::2, listed before it; remove one");
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6("\n address6 = \"fd00::2/64\";")),
				     "t.conf:3: interface.address6: expected a "
				     "list in brackets"));
	conf_errors_clear(&errs);
	/* Too small an MTU for IPv6 once it has an address to use. */
	ck_assert_ptr_nonnull(strstr(one_error(IF6(" address6 = [ \"fd00::2/64\" ];\n"
						   " mtu = 1279;")),
				     "t.conf:3: interface.mtu: 1279 is below "
				     "1280, the least IPv6 allows"));
	conf_errors_clear(&errs);
	c = conf_load_string(IF6(" mtu = 576;"), "t.conf", &errs);
	ck_assert_ptr_nonnull(c);
	conf_free(c);
}
END_TEST

START_TEST(test_gateway6_host6_errors)
{
	struct conf *c;

#define ADDR6 " address6 = [ \"fd00::2/64\", \"2001:db8:1::2/48\" ];\n"
	ck_assert_str_eq(one_error(IF6(ADDR6 " gateway6 = \"fd01::1\";")),
			 "t.conf:3: interface.gateway6: fd01::1 is neither "
			 "link-local (fe80::/10) nor inside a prefix of "
			 "interface.address6; give the router's link-local "
			 "address, or one on the link");
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " gateway6 = \"2001:db8:1::2\";")),
				     "t.conf:3: interface.gateway6: "
				     "2001:db8:1::2 is our own address"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " gateway6 = \"fe80::1/64\";")),
				     "'fe80::1/64' has a prefix length; write the "
				     "address alone"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " gateway6 = \"fe80::1%eth0\";")),
				     "carries a zone index ('%eth0')"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " gateway6 = \"ff02::2\";")),
				     "t.conf:3: interface.gateway6: 'ff02::2' is "
				     "a multicast address"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " gateway6 = \"10.0.0.1\";")),
				     "is an IPv4 address"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " gateway6 = 5;")),
				     "interface.gateway6: expected a string"));
	conf_errors_clear(&errs);

	ck_assert_str_eq(one_error(IF6(ADDR6 " host_address6 = \"fd01::1/64\";")),
			 "t.conf:3: interface.host_address6: 'fd01::1/64' is "
			 "not inside a prefix of interface.address6; give the "
			 "kernel side an address on tapird's link");
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " host_address6 = \"fd00::2/64\";")),
				     "t.conf:3: interface.host_address6: "
				     "'fd00::2/64' is our own address"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " host_address6 = \"fd00::1\";")),
				     "has no prefix length"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " host_address6 = \"fe80::1/64\";")),
				     "'fe80::1/64' is link-local (fe80::/10); the "
				     "kernel forms its own"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " host_address6 = \"fd00::/64\";")),
				     "Subnet-Router anycast"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6(ADDR6 " host_address6 = \"::1/128\";")),
				     "loopback"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IF6("\n host_address6 = \"fd00::1/64\";")),
				     "t.conf:3: interface.host_address6: "
				     "'fd00::1/64' needs a prefix to share with "
				     "tapird; set interface.address6 too"));
	conf_errors_clear(&errs);
	/* The host side may sit in a prefix shorter than its own. */
	c = conf_load_string(IF6(ADDR6 " host_address6 = \"2001:db8:1:7::1/64\";"),
			     "t.conf", &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_uint_eq(c->host_addr6.prefix, 64);
	conf_free(c);
#undef ADDR6
}
END_TEST

/* interface.static_neighbours: both families, and every error with its
 * line. */
START_TEST(test_static_neighbours)
{
	static const struct {
		const char *entry, *error;
	} bad[] = {
	    {"{ address = \"10.0.0.1\"; }", "t.conf:3: interface."
	     "static_neighbours: entry 1 needs both address and mac, e.g. { "
	     "address = \"10.0.0.1\"; mac = \"02:00:00:00:00:01\"; }"},
	    {"{ address = \"10.0.0.1\"; mac = \"01:00:5e:00:00:01\"; }",
	     "t.conf:3: interface.static_neighbours: 01:00:5e:00:00:01 is "
	     "not a unicast MAC address"},
	    {"{ address = \"10.0.0.1\"; mac = \"02:00:00:00:00\"; }",
	     "t.conf:3: interface.static_neighbours: '02:00:00:00:00' is not "
	     "a MAC address like 02:00:00:00:00:01"},
	    {"{ address = \"10.0.1.1\"; mac = \"02:00:00:00:00:01\"; }",
	     "t.conf:3: interface.static_neighbours: 10.0.1.1 is not inside "
	     "the interface's subnet"},
	    {"{ address = \"10.0.0.2\"; mac = \"02:00:00:00:00:01\"; }",
	     "t.conf:3: interface.static_neighbours: 10.0.0.2 is our own "
	     "address (interface.address)"},
	    {"{ address = \"10.0.0.255\"; mac = \"02:00:00:00:00:01\"; }",
	     "t.conf:3: interface.static_neighbours: 10.0.0.255 is the "
	     "subnet's broadcast or network address"},
	    {"{ address = \"fd01::1\"; mac = \"02:00:00:00:00:01\"; }",
	     "t.conf:3: interface.static_neighbours: 'fd01::1' is neither "
	     "link-local nor inside a prefix of interface.address6"},
	    {"{ address = \"ff02::1\"; mac = \"02:00:00:00:00:01\"; }",
	     "t.conf:3: interface.static_neighbours: 'ff02::1' is a "
	     "multicast address (ff00::/8); give a unicast one, such as "
	     "fd00::2"},
	    {"{ address = \"10.0.0.1\"; mac = \"02:00:00:00:00:01\"; port = 1; }",
	     "t.conf:3: unknown setting 'interface.static_neighbours.port'"},
	    {"\"10.0.0.1\"", "t.conf:3: interface.static_neighbours: entry 1 "
	     "is not a group { address = ...; mac = ...; }"},
	};
	char text[512];
	struct conf *c = conf_load_string(
		IF6("  address6 = [ \"fd00::2/64\" ];\n"
		    "  static_neighbours = (\n"
		    "    { address = \"10.0.0.1\"; mac = \"02:00:00:00:00:01\"; },\n"
		    "    { address = \"fe80::1\"; mac = \"02:00:00:00:00:fe\"; },\n"
		    "    { address = \"fd00::9\"; mac = \"02:00:00:00:00:09\"; } );"),
		"t.conf", &errs);

	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_uint_eq(c->params.nstatic_neigh, 3);
	ck_assert_uint_eq(inany_v4(&c->params.static_neigh[0].addr), 0x0a000001);
	ck_assert_uint_eq(c->params.static_neigh[0].mac[5], 0x01);
	ck_assert_mem_eq(c->params.static_neigh[1].addr.a, a6("fe80::1"), 16);
	ck_assert_mem_eq(c->params.static_neigh[2].addr.a, a6("fd00::9"), 16);
	ck_assert_uint_eq(c->params.static_neigh[2].mac[5], 0x09);
	conf_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf_errors_clear(&errs);
		snprintf(text, sizeof(text),
			 "interface = { address = \"10.0.0.2/24\";\n"
			 "  address6 = [ \"fd00::2/64\" ]; static_neighbours = (\n"
			 "  %s ); };\n",
			 bad[i].entry);
		ck_assert_str_eq(one_error(text), bad[i].error);
	}
	conf_errors_clear(&errs);
	ck_assert_str_eq(
		one_error("interface = { address = \"10.0.0.2/24\";\n"
			  "  ipv6 = false; static_neighbours = (\n"
			  "  { address = \"fe80::1\"; mac = \"02:00:00:00:00:01\"; "
			  "} ); };\n"),
		"t.conf:3: interface.static_neighbours: 'fe80::1' is IPv6, but "
		"interface.ipv6 is false");
	conf_errors_clear(&errs);
	ck_assert_str_eq(
		one_error("interface = { address = \"10.0.0.2/24\";\n"
			  "  static_neighbours = (\n"
			  "  { address = \"10.0.0.1\"; mac = \"02:00:00:00:00:01\"; },\n"
			  "  { address = \"10.0.0.1\"; mac = \"02:00:00:00:00:02\"; }"
			  " ); };\n"),
		"t.conf:4: interface.static_neighbours: entry 2 repeats an "
		"address listed before it");
}
END_TEST

/* interface.acd: on unless turned off, in the file and built in. */
START_TEST(test_acd_setting)
{
	struct conf *c = conf_load_string(IFACE, "t.conf", &errs);

	ck_assert_ptr_nonnull(c);
	ck_assert(c->params.acd);
	conf_free(c);
	c = conf_load_string(conf_default_text, CONF_DEFAULT_NAME, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->params.acd);
	conf_free(c);
	c = conf_load_string(IF6("  acd = false;"), "t.conf", &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert(!c->params.acd);
	conf_free(c);
	ck_assert_str_eq(one_error(IF6("\n acd = \"no\";")),
			 "t.conf:3: interface.acd: expected true or false");
}
END_TEST

START_TEST(test_ipv6_flag_errors)
{
	ck_assert_str_eq(one_error(IF6("\n interface_id = \"random\";")),
			 "t.conf:3: interface.interface_id: 'random' is not "
			 "\"stable\" (RFC 7217, the default) or \"eui64\" "
			 "(from the MAC address)");
	conf_errors_clear(&errs);
	ck_assert_str_eq(one_error(IF6("\n ipv6 = \"yes\";")),
			 "t.conf:3: interface.ipv6: expected true or false");
	conf_errors_clear(&errs);
	ck_assert_str_eq(one_error(IF6("\n dad = 1;")),
			 "t.conf:3: interface.dad: expected true or false");
	conf_errors_clear(&errs);
	ck_assert_str_eq(one_error(IF6("\n adress6 = [ ];")),
			 "t.conf:3: unknown setting 'interface.adress6'");
}
END_TEST

START_TEST(test_parsers6)
{
	uint8_t a[16];
	unsigned p = 0;
	char why[160];

	ck_assert(conf_parse_prefix6("2001:db8::1/64", a, &p, why, sizeof(why)));
	ck_assert_mem_eq(a, a6("2001:db8:0:0:0:0:0:1"), 16);
	ck_assert_uint_eq(p, 64);
	ck_assert(conf_parse_prefix6("::ffff:1.2.3.4/128", a, &p, why,
				     sizeof(why)));
	ck_assert_uint_eq(a[15], 4);
	ck_assert(conf_parse_prefix6("fd00::1/1", a, &p, why, sizeof(why)));
	ck_assert_uint_eq(p, 1);
	ck_assert(!conf_parse_prefix6("fd00::1/-1", a, &p, why, sizeof(why)));
	ck_assert(!conf_parse_prefix6("fd00::1/+64", a, &p, why, sizeof(why)));
	ck_assert(!conf_parse_prefix6("fd00::1/99999999999999999999", a, &p,
				      why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "it must be 1 to 128"));
	ck_assert(!conf_parse_prefix6("fd00::1/64/64", a, &p, why, sizeof(why)));
	ck_assert(!conf_parse_prefix6(
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0001/64", a, &p,
		why, sizeof(why)));
	ck_assert_str_eq(why, "is not an IPv6 address (RFC 4291 text, such as "
			      "fd00::1 or 2001:db8:0:1::5)");
	ck_assert(conf_parse_ip6("::", a, why, sizeof(why)));
	ck_assert(conf_parse_ip6("FE80::A", a, why, sizeof(why)));
	ck_assert_uint_eq(a[15], 10);
	ck_assert(!conf_parse_ip6("fe80::a ", a, why, sizeof(why)));
	ck_assert(!conf_parse_ip6("1.2.3.4", a, why, sizeof(why)));
	ck_assert(!conf_parse_ip6("", a, why, sizeof(why)));
	ck_assert_str_eq(why, "is empty; write an IPv6 address such as fd00::1");
}
END_TEST

START_TEST(test_capture_setting)
{
	struct conf *c = conf_load_string(IFACE, "t.conf", &errs);

	/* Without the group: no directory, so no capture; the defaults. */
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(c->capture_dir);
	ck_assert_uint_eq(c->capture_max_files, 8);
	ck_assert_uint_eq(c->capture_max_bytes, 64u << 20);
	conf_free(c);
	c = conf_load_string(IFACE "capture = { directory = \"/var/lib/tapir/"
				   "capture\"; max_files = 3;\n"
				   "  max_bytes = 4096; };\n",
			     "t.conf", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->capture_dir, "/var/lib/tapir/capture");
	ck_assert_uint_eq(c->capture_max_files, 3);
	ck_assert_uint_eq(c->capture_max_bytes, 4096);
	conf_free(c);
	ck_assert_ptr_nonnull(strstr(
		one_error(IFACE "capture = {\n directory = \"rel\"; };\n"),
		"t.conf:3: capture.directory: 'rel' is not an absolute path"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(
		one_error(IFACE "capture = {\n directory = \"/a/../etc\"; };\n"),
		"t.conf:3: capture.directory"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(
		one_error(IFACE "capture = {\n\n max_files = 0; };\n"),
		"t.conf:4: capture.max_files: 0 is out of range 1..10000"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(
		one_error(IFACE "capture = { max_bytes = 1023; };\n"),
		"t.conf:2: capture.max_bytes: 1023 is out of range"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(
		one_error(IFACE "capture = { dir = \"/x\"; };\n"),
		"t.conf:2: unknown setting 'capture.dir'"));
	conf_errors_clear(&errs);
	ck_assert_ptr_nonnull(strstr(one_error(IFACE "capture = 1;\n"),
				     "t.conf:2: 'capture' must be a group"));
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_default_config);
	tcase_add_test(tc, test_seccomp_setting);
	tcase_add_test(tc, test_capture_setting);
	tcase_add_test(tc, test_shipped_config);
	tcase_add_test(tc, test_full_settings);
	tcase_add_test(tc, test_syntax_error_line);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_interface_errors);
	tcase_add_test(tc, test_module_list_errors);
	tcase_add_test(tc, test_range_and_level_errors);
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_unreadable_file);
	tcase_add_test(tc, test_error_locations);
	tcase_add_test(tc, test_parsers);
	tcase_add_test(tc, test_ipv6_defaults);
	tcase_add_test(tc, test_ipv6_settings);
	tcase_add_test(tc, test_ipv6_address_limit);
	tcase_add_test(tc, test_address6_errors);
	tcase_add_test(tc, test_gateway6_host6_errors);
	tcase_add_test(tc, test_ipv6_flag_errors);
	tcase_add_test(tc, test_acd_setting);
	tcase_add_test(tc, test_static_neighbours);
	tcase_add_test(tc, test_parsers6);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
