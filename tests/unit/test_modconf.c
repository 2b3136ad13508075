/*
 * Module settings read against descriptors (modconf.c): every type's value,
 * default and errors with their lines, unknown and required keys, lists
 * with and without a scalar, custom settings handed through, error_at()
 * locations, and descriptor tables that lie about their fields refused.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/modconf.h"

struct tconf {
	bool flag;
	uint16_t port;
	int8_t delta;
	int64_t big;
	const char *word;
	const char *maybe;
	uint32_t addr;
	struct tapir_strings words;
	struct tapir_ipv4s addrs;
	const config_setting_t *custom;
	uint32_t need;
};

static const struct tapir_setting tsettings[] = {
	{"flag", TAPIR_SET_BOOL, TAPIR_FIELD(struct tconf, flag), .def = 1},
	{"port", TAPIR_SET_INT, TAPIR_FIELD(struct tconf, port), .min = 1,
	 .max = 65535, .def = 80, .unit = "(a port)"},
	{"delta", TAPIR_SET_INT, TAPIR_FIELD(struct tconf, delta), .min = -100,
	 .max = 100, .def = -5},
	{"big", TAPIR_SET_INT, TAPIR_FIELD(struct tconf, big), .min = INT64_MIN,
	 .max = INT64_MAX, .def = 1},
	{"word", TAPIR_SET_STRING, TAPIR_FIELD(struct tconf, word), .min = 1,
	 .max = 8, .def_str = "dflt"},
	{"maybe", TAPIR_SET_STRING, TAPIR_FIELD(struct tconf, maybe)},
	{"addr", TAPIR_SET_IPV4, TAPIR_FIELD(struct tconf, addr),
	 .def = 0x0a000001},
	{"words", TAPIR_SET_STRINGS, TAPIR_FIELD(struct tconf, words), .max = 3},
	{"addrs", TAPIR_SET_IPV4S, TAPIR_FIELD(struct tconf, addrs),
	 .flags = TAPIR_SETF_SCALAR, .min = 1, .max = 2},
	{"custom", TAPIR_SET_CUSTOM, TAPIR_FIELD(struct tconf, custom)},
	{"need", TAPIR_SET_INT, TAPIR_FIELD(struct tconf, need),
	 .flags = TAPIR_SETF_REQUIRED, .min = 0, .max = 10},
	{.name = NULL}};

static int checks;
static bool point_at_word;

/* Reports through error_at() to show where it points. */
static int tcheck(const struct tapir_check *chk, const void *conf)
{
	const struct tconf *c = conf;

	checks++;
	if (point_at_word) {
		chk->error_at(chk, "words", 1, "second word");
		chk->error_at(chk, "custom", -1, "custom");
		chk->error_at(chk, "absent", -1, "absent");
		return -1;
	}
	return c->need == 7 ? -1 : 0; /* fails without a word: "rejected" */
}

static const struct tapir_module tmod = {
	TAPIR_MODULE_HEAD,
	.name = "t",
	.settings = tsettings,
	.settings_size = sizeof(struct tconf),
	.check = tcheck,
};

static config_t cfg;
static struct modconf mc;
static char msgs[16][200];
static int nmsgs;

static void report(void *arg, const config_setting_t *at, const char *msg)
{
	(void)arg;
	if (nmsgs < 16)
		snprintf(msgs[nmsgs++], sizeof(msgs[0]), "%u: %s",
			 config_setting_source_line(at), msg);
}

/* Read text (a section's body) with tmod; the problems. */
static int rd(const char *text)
{
	char buf[2048];

	snprintf(buf, sizeof(buf), "s = {\n%s\n};\n", text);
	config_destroy(&cfg);
	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, buf), "%s",
		      config_error_text(&cfg));
	modconf_free(&mc);
	nmsgs = 0;
	checks = 0;
	return modconf_check(&tmod, config_lookup(&cfg, "s"), report, NULL,
			     &mc);
}

static const struct tconf *val(void)
{
	return mc.values;
}

static void setup(void)
{
	config_init(&cfg);
	point_at_word = false;
}

static void teardown(void)
{
	modconf_free(&mc);
	config_destroy(&cfg);
}

START_TEST(test_defaults)
{
	ck_assert_int_eq(rd("need = 1;"), 0);
	ck_assert_int_eq(checks, 1);
	ck_assert(val()->flag);
	ck_assert_uint_eq(val()->port, 80);
	ck_assert_int_eq(val()->delta, -5);
	ck_assert_int_eq(val()->big, 1);
	ck_assert_str_eq(val()->word, "dflt");
	ck_assert_ptr_null(val()->maybe);
	ck_assert_uint_eq(val()->addr, 0x0a000001);
	ck_assert_uint_eq(val()->words.n, 0);
	ck_assert_uint_eq(val()->addrs.n, 0);
	ck_assert_ptr_null(val()->custom);
	ck_assert_uint_eq(val()->need, 1);
}
END_TEST

START_TEST(test_values)
{
	ck_assert_int_eq(rd("flag = false; port = 65535; delta = -100;\n"
			    "big = -9223372036854775807L; word = \"12345678\";\n"
			    "maybe = \"\"; addr = \"192.168.1.2\";\n"
			    "words = [ \"a\", \"b\" ]; addrs = \"10.0.0.9\";\n"
			    "custom = ( { x = 1; } ); need = 10; name = \"t\";\n"
			    "path = \"/x\";"),
			 0);
	ck_assert(!val()->flag);
	ck_assert_uint_eq(val()->port, 65535);
	ck_assert_int_eq(val()->delta, -100);
	ck_assert_int_eq(val()->big, -9223372036854775807LL);
	ck_assert_str_eq(val()->word, "12345678");
	ck_assert_str_eq(val()->maybe, "");
	ck_assert_uint_eq(val()->addr, 0xc0a80102);
	ck_assert_uint_eq(val()->words.n, 2);
	ck_assert_str_eq(val()->words.v[0], "a");
	ck_assert_str_eq(val()->words.v[1], "b");
	ck_assert_uint_eq(val()->addrs.n, 1);
	ck_assert_uint_eq(val()->addrs.v[0], 0x0a000009);
	ck_assert_ptr_nonnull(val()->custom);
	ck_assert(config_setting_is_list(val()->custom));
	/* A list of addresses in either bracket. */
	ck_assert_int_eq(rd("need = 0; addrs = ( \"1.2.3.4\", \"5.6.7.8\" );"),
			 0);
	ck_assert_uint_eq(val()->addrs.n, 2);
	ck_assert_uint_eq(val()->addrs.v[1], 0x05060708);
}
END_TEST

START_TEST(test_errors_have_lines_and_keep_defaults)
{
	ck_assert_int_eq(rd("need = 1;\n"                 /* 2 */
			    "flag = 1;\n"                 /* 3 */
			    "port = 0;\n"                 /* 4 */
			    "delta = 101;\n"              /* 5 */
			    "word = \"123456789\";\n"     /* 6 */
			    "addr = \"10.0.0.256\";\n"    /* 7 */
			    "words = ( \"a\", 1 );\n"     /* 8 */
			    "addrs = [ ];\n"              /* 9 */
			    "port2 = 1;\n"                /* 10 */
			    "maybe = 3;"),                /* 11 */
			 9);
	ck_assert_str_eq(msgs[0], "3: flag must be true or false");
	ck_assert_str_eq(msgs[1], "4: port = 0: must be 1-65535 (a port)");
	ck_assert_str_eq(msgs[2], "5: delta = 101: must be -100-100");
	ck_assert_str_eq(msgs[3], "6: word: at most 8 bytes");
	ck_assert_str_eq(msgs[4], "7: addr: \"10.0.0.256\" is not an IPv4 "
				  "address");
	ck_assert_str_eq(msgs[5], "8: words: entry 2 is not a string");
	ck_assert_str_eq(msgs[6], "9: addrs: at least 1 entries");
	ck_assert_str_eq(msgs[7], "10: unknown setting 'port2'");
	ck_assert_str_eq(msgs[8], "11: maybe must be a string");
	/* check() still ran, on the defaults. */
	ck_assert_int_eq(checks, 1);
	ck_assert(val()->flag);
	ck_assert_uint_eq(val()->port, 80);
	ck_assert_int_eq(val()->delta, -5);
	ck_assert_str_eq(val()->word, "dflt");
	ck_assert_uint_eq(val()->words.n, 0);
}
END_TEST

START_TEST(test_required_shapes_and_rejected)
{
	ck_assert_int_eq(rd("port = 8080;"), 1);
	ck_assert_str_eq(msgs[0], "1: need is required");
	ck_assert_int_eq(rd("need = 1; words = \"a\";\n"
			    "addrs = { a = \"1.2.3.4\"; };\n"
			    "words2 = 1;"),
			 3);
	ck_assert_str_eq(msgs[0], "2: words must be a list [ ... ]");
	ck_assert_str_eq(msgs[1], "3: addrs must be a list [ ... ] or a "
				  "single value");
	ck_assert_int_eq(rd("need = 1; words = [ \"a\", \"b\", \"c\", \"d\" ];"),
			 1);
	ck_assert_str_eq(msgs[0], "2: words: at most 3 entries");
	ck_assert_int_eq(rd("need = 1; port = 1.5; addr = 7;"), 2);
	ck_assert_str_eq(msgs[0], "2: port must be an integer");
	ck_assert_str_eq(msgs[1], "2: addr must be an IPv4 address (a string)");
	/* check() failing without saying why. */
	ck_assert_int_eq(rd("\nneed = 7;"), 1);
	ck_assert_str_eq(msgs[0], "1: configuration rejected");
}
END_TEST

START_TEST(test_error_at_points_at_the_setting)
{
	point_at_word = true;
	ck_assert_int_eq(rd("need = 1;\n"
			    "words = [ \"a\",\n"
			    "  \"b\" ];\n"
			    "custom = 1;"),
			 3);
	ck_assert_str_eq(msgs[0], "4: second word");
	ck_assert_str_eq(msgs[1], "5: custom");
	ck_assert_str_eq(msgs[2], "1: absent"); /* the section's line */
}
END_TEST

struct bad {
	uint16_t small;
	int32_t sig;
	const char *str;
	char plain; /* signed or not as the platform says */
};

static int validate(const struct tapir_setting *s, char *err, size_t len)
{
	struct tapir_module m = tmod;

	m.settings = s;
	m.settings_size = sizeof(struct bad);
	return modconf_validate(&m, err, len);
}

/* TAPIR_SETF_STATE_PATH: a relative default is taken under the state
 * directory (/var/lib/tapir, or tapird -S); an absolute default, a NULL
 * one and a value from the file are passed as they are. */
struct sconf {
	const char *rel;
	const char *abs;
	const char *none;
};
static const struct tapir_setting ssettings[] = {
	{"rel", TAPIR_SET_STRING, TAPIR_FIELD(struct sconf, rel),
	 .flags = TAPIR_SETF_STATE_PATH, .def_str = "x.leases"},
	{"abs", TAPIR_SET_STRING, TAPIR_FIELD(struct sconf, abs),
	 .flags = TAPIR_SETF_STATE_PATH, .def_str = "/srv/y"},
	{"none", TAPIR_SET_STRING, TAPIR_FIELD(struct sconf, none),
	 .flags = TAPIR_SETF_STATE_PATH},
	{.name = NULL}};
static const struct tapir_module smod = {
	TAPIR_MODULE_HEAD,
	.name = "s",
	.settings = ssettings,
	.settings_size = sizeof(struct sconf),
};

static const struct sconf *rd_state(const char *text)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "s = {\n%s\n};\n", text);
	config_destroy(&cfg);
	config_init(&cfg);
	ck_assert(config_read_string(&cfg, buf));
	modconf_free(&mc);
	nmsgs = 0;
	ck_assert_int_eq(modconf_check(&smod, config_lookup(&cfg, "s"),
				       report, NULL, &mc),
			 0);
	return mc.values;
}

START_TEST(test_state_path_defaults)
{
	char err[200];
	const struct sconf *c;
	const struct tapir_setting on_int[] = {
		{"n", TAPIR_SET_INT, TAPIR_FIELD(struct tconf, port),
		 .flags = TAPIR_SETF_STATE_PATH, .max = 10},
		{.name = NULL}};
	struct tapir_module m = smod;

	ck_assert_int_eq(modconf_validate(&smod, err, sizeof(err)), 0);
	ck_assert_str_eq(modconf_state_dir(), "/var/lib/tapir");
	c = rd_state("");
	ck_assert_str_eq(c->rel, "/var/lib/tapir/x.leases");
	ck_assert_str_eq(c->abs, "/srv/y");
	ck_assert_ptr_null(c->none);

	ck_assert_int_eq(modconf_set_state_dir("/var/lib/tapir/lab2"), 0);
	c = rd_state("");
	ck_assert_str_eq(c->rel, "/var/lib/tapir/lab2/x.leases");
	ck_assert_str_eq(c->abs, "/srv/y");
	c = rd_state("rel = \"/elsewhere/z\"; none = \"w\";");
	ck_assert_str_eq(c->rel, "/elsewhere/z");
	ck_assert_str_eq(c->none, "w"); /* a set value is not rewritten */

	ck_assert_int_eq(modconf_set_state_dir(NULL), 0);
	c = rd_state("");
	ck_assert_str_eq(c->rel, "/var/lib/tapir/x.leases");

	/* The flag means nothing on a setting that is not a string. */
	m.settings = on_int;
	m.settings_size = sizeof(struct tconf);
	ck_assert_int_eq(modconf_validate(&m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "TAPIR_SETF_STATE_PATH"));
}
END_TEST

START_TEST(test_lying_descriptors_refused)
{
	char err[200];
	const struct tapir_setting wide[] = {
		{"small", TAPIR_SET_INT, TAPIR_FIELD(struct bad, small),
		 .max = 65536},
		{.name = NULL}};
	const struct tapir_setting negative[] = {
		{"small", TAPIR_SET_INT, TAPIR_FIELD(struct bad, small),
		 .min = -1, .max = 1},
		{.name = NULL}};
	const struct tapir_setting signed_ok[] = {
		{"sig", TAPIR_SET_INT, TAPIR_FIELD(struct bad, sig),
		 .min = INT32_MIN, .max = INT32_MAX},
		{"small", TAPIR_SET_INT, TAPIR_FIELD(struct bad, small),
		 .max = 65535},
		{.name = NULL}};
	const struct tapir_setting wrong_type[] = {
		{"small", TAPIR_SET_BOOL, TAPIR_FIELD(struct bad, small)},
		{.name = NULL}};
	const struct tapir_setting twice[] = {
		{"s", TAPIR_SET_STRING, TAPIR_FIELD(struct bad, str)},
		{"s", TAPIR_SET_STRING, TAPIR_FIELD(struct bad, str)},
		{.name = NULL}};
	const struct tapir_setting reserved[] = {
		{"path", TAPIR_SET_STRING, TAPIR_FIELD(struct bad, str)},
		{.name = NULL}};
	const struct tapir_setting outside[] = {
		{"x", TAPIR_SET_STRING, .offset = sizeof(struct bad),
		 .size = sizeof(char *)},
		{.name = NULL}};
	const struct tapir_setting bad_default[] = {
		{"small", TAPIR_SET_INT, TAPIR_FIELD(struct bad, small),
		 .min = 1, .max = 2},
		{.name = NULL}};

	ck_assert_int_eq(validate(signed_ok, err, sizeof(err)), 0);
	ck_assert_int_eq(modconf_validate(&tmod, err, sizeof(err)), 0);
	ck_assert_int_eq(validate(wide, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "'small'"));
	ck_assert_int_eq(validate(negative, err, sizeof(err)), -1);
	ck_assert_int_eq(validate(wrong_type, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "field of 2 bytes"));
	ck_assert_int_eq(validate(twice, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "twice"));
	ck_assert_int_eq(validate(reserved, err, sizeof(err)), -1);
	ck_assert_int_eq(validate(outside, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "outside"));
	ck_assert_int_eq(validate(bad_default, err, sizeof(err)), -1);
	/* A plain char field holds what the platform's char holds. */
	{
		const struct tapir_setting plain_255[] = {
			{"c", TAPIR_SET_INT, TAPIR_FIELD(struct bad, plain),
			 .max = 255},
			{.name = NULL}};
		const struct tapir_setting plain_127[] = {
			{"c", TAPIR_SET_INT, TAPIR_FIELD(struct bad, plain),
			 .max = 127},
			{.name = NULL}};

		ck_assert_int_eq(validate(plain_255, err, sizeof(err)),
				 (char)-1 < 0 ? -1 : 0);
		ck_assert_int_eq(validate(plain_127, err, sizeof(err)), 0);
	}
	/* A string's default must keep its own length bounds. */
	{
		const struct tapir_setting long_default[] = {
			{"s", TAPIR_SET_STRING, TAPIR_FIELD(struct bad, str),
			 .max = 3, .def_str = "four"},
			{.name = NULL}};
		const struct tapir_setting short_default[] = {
			{"s", TAPIR_SET_STRING, TAPIR_FIELD(struct bad, str),
			 .min = 2, .def_str = "x"},
			{.name = NULL}};
		const struct tapir_setting fits[] = {
			{"s", TAPIR_SET_STRING, TAPIR_FIELD(struct bad, str),
			 .min = 1, .max = 4, .def_str = "four"},
			{.name = NULL}};

		ck_assert_int_eq(validate(long_default, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "default"));
		ck_assert_int_eq(validate(short_default, err, sizeof(err)), -1);
		ck_assert_int_eq(validate(fits, err, sizeof(err)), 0);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("modconf");
	TCase *tc = tcase_create("settings");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_errors_have_lines_and_keep_defaults);
	tcase_add_test(tc, test_required_shapes_and_rejected);
	tcase_add_test(tc, test_error_at_points_at_the_setting);
	tcase_add_test(tc, test_lying_descriptors_refused);
	tcase_add_test(tc, test_state_path_defaults);
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
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
