/* Reports: Prometheus text format rules, JSON shape, text tables, the
 * modules as a fake visitor shows them, and the size limit of the buffer
 * they are built in.  Built without the module loader: reports see modules
 * only through the visitor they are given. */
#include "helpers.h"

#include "daemon/report.h"
#include "lib/strbuf.h"
#include "net/tcp/tcp.h"
#include "version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No modules: no visitor. */
static struct report_src src(struct stack *s)
{
	struct report_src r = {.s = s, .ifname = "tapir0"};

	return r;
}

/* A fake module host: modules and their counters, in load order. */
struct fake_mod {
	const char *name;
	const char *counter[3]; /* NULL-terminated */
	uint64_t v[3];
};

static const struct fake_mod fake_mods[] = {
	{"dns", {"queries", "refused", NULL}, {12, 0, 0}},
	{"web", {"hits", NULL, NULL}, {3, 0, 0}},
	{NULL, {NULL, NULL, NULL}, {0, 0, 0}},
};

static void fake_foreach(const void *ctx, report_module_fn fn, void *arg)
{
	for (const struct fake_mod *m = ctx; m->name; m++)
		fn(arg, m->name);
}

static void fake_foreach_counter(const void *ctx, report_counter_fn fn,
				 void *arg)
{
	for (const struct fake_mod *m = ctx; m->name; m++)
		for (int i = 0; m->counter[i]; i++)
			fn(arg, m->name, m->counter[i], m->v[i]);
}

static bool metric_name_ok(const char *p, size_t n)
{
	if (!n || !(isalpha((unsigned char)p[0]) || p[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_')
			return false;
	return true;
}

/* Every line is a HELP, a TYPE or a sample; a family is described (HELP,
 * then TYPE) once, before its samples; counters end in _total; labels are
 * name="value" pairs; values are numbers. */
START_TEST(test_metrics_format)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r;
	struct strbuf b;
	char family[128] = "", type[16] = "";
	unsigned samples = 0, families = 0;
	char *text, *line, *save;

	r = src(s);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	s->stats.v[STAT_TCP_DROP_PAWS] = 7;
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_PROMETHEUS), 0);
	ck_assert(!b.full);
	text = strdup(strbuf_str(&b));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			const char *n = line + 7, *sp = strchr(n, ' ');

			ck_assert_ptr_nonnull(sp);
			ck_assert(metric_name_ok(n, (size_t)(sp - n)));
			ck_assert_msg(strncmp(n, family, strlen(family)) ||
					      strlen(family) != (size_t)(sp - n),
				      "family %s described twice", family);
			snprintf(family, sizeof(family), "%.*s",
				 (int)(sp - n), n);
			type[0] = '\0';
			families++;
		} else if (!strncmp(line, "# TYPE ", 7)) {
			size_t fl = strlen(family);

			ck_assert_msg(!strncmp(line + 7, family, fl) &&
					      line[7 + fl] == ' ',
				      "TYPE without its HELP: %s", line);
			snprintf(type, sizeof(type), "%s", line + 8 + fl);
			ck_assert(!strcmp(type, "counter") ||
				  !strcmp(type, "gauge") ||
				  !strcmp(type, "histogram"));
			if (!strcmp(type, "counter"))
				ck_assert_msg(fl > 6 &&
						      !strcmp(family + fl - 6,
							      "_total"),
					      "counter %s", family);
		} else {
			size_t nl = strcspn(line, "{ ");
			const char *v;
			char *end;

			ck_assert_msg(*type, "sample before TYPE: %s", line);
			if (!strcmp(type, "histogram")) {
				/* FAMILY_bucket{le=...}, _sum, _count */
				size_t fl = strlen(family);

				ck_assert_msg(nl > fl &&
						      !strncmp(line, family, fl),
					      "sample %s outside family %s",
					      line, family);
				ck_assert_msg(
					(nl == fl + 7 &&
					 !strncmp(line + fl, "_bucket{le=\"", 12)) ||
						(nl == fl + 4 &&
						 !strncmp(line + fl, "_sum", 4)) ||
						(nl == fl + 6 &&
						 !strncmp(line + fl, "_count", 6)),
					"histogram sample %s", line);
			} else {
				ck_assert_msg(nl == strlen(family) &&
						      !strncmp(line, family, nl),
					      "sample %s outside family %s",
					      line, family);
			}
			v = line + nl;
			if (*v == '{') {
				const char *close = strchr(v, '}');

				ck_assert_ptr_nonnull(close);
				/* name="value"[,name="value"]... */
				for (const char *p = v + 1; p < close;) {
					const char *eq = strchr(p, '=');

					ck_assert(eq && eq < close);
					ck_assert(metric_name_ok(
						p, (size_t)(eq - p)));
					ck_assert_int_eq(eq[1], '"');
					p = strchr(eq + 2, '"');
					ck_assert(p && p < close);
					p++;
					if (*p == ',')
						p++;
				}
				v = close + 1;
			}
			ck_assert_int_eq(*v, ' ');
			strtod(v + 1, &end);
			ck_assert_msg(end != v + 1 && !*end, "value: %s", v);
			samples++;
		}
	}
	ck_assert_uint_gt(families, 50);
	ck_assert_uint_gt(samples, families);
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b), "\ntapir_tcp_dropped_total{reason=\"paws\"} 7\n"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\ntapir_arp_entries 1\n"));
	free(text);
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* A fake module histogram: one for "dns" with its own HELP, one for
 * "web" without. */
static struct tapir_histogram fake_hist_dns, fake_hist_web;

static void fake_foreach_histogram(const void *ctx, report_histogram_fn fn,
				   void *arg)
{
	(void)ctx;
	fn(arg, "dns", "answer_duration", "DNS answers, C:\\ too.",
	   &fake_hist_dns);
	fn(arg, "web", "response_duration", NULL, &fake_hist_web);
}

/* Histograms: cumulative buckets at powers of two microseconds written
 * as exact seconds, +Inf equal to _count, _sum in seconds; the stack's
 * TCP RTT samples and the modules' histograms, each family described
 * once. */
START_TEST(test_metrics_histograms)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;
	const char *t;

	memset(&fake_hist_dns, 0, sizeof(fake_hist_dns));
	memset(&fake_hist_web, 0, sizeof(fake_hist_web));
	tapir_hist_observe(&s->tcp_rtt, 1000);	/* 1 ms: le 0.001024 */
	tapir_hist_observe(&s->tcp_rtt, 1024);	/* on the bound */
	tapir_hist_observe(&s->tcp_rtt, 50000); /* le 0.065536 */
	tapir_hist_observe(&fake_hist_dns, 10); /* le 0.000016 */
	tapir_hist_observe(&fake_hist_dns, 17); /* le 0.000032 */
	tapir_hist_observe(&fake_hist_dns, 3600000000ull); /* +Inf */
	r.mods = (struct report_modules){fake_foreach, fake_foreach_counter,
					 fake_mods, NULL, fake_foreach_histogram};
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_PROMETHEUS), 0);
	t = strbuf_str(&b);
	ck_assert_ptr_nonnull(strstr(
		t, "\n# TYPE tapir_tcp_rtt_seconds histogram\n"
		   "tapir_tcp_rtt_seconds_bucket{le=\"0.000016\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "\ntapir_tcp_rtt_seconds_bucket{le=\"0.000512\"} 0\n"
		   "tapir_tcp_rtt_seconds_bucket{le=\"0.001024\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "\ntapir_tcp_rtt_seconds_bucket{le=\"0.032768\"} 2\n"
		   "tapir_tcp_rtt_seconds_bucket{le=\"0.065536\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "\ntapir_tcp_rtt_seconds_bucket{le=\"33.554432\"} 3\n"
		   "tapir_tcp_rtt_seconds_bucket{le=\"+Inf\"} 3\n"
		   "tapir_tcp_rtt_seconds_sum 0.052024\n"
		   "tapir_tcp_rtt_seconds_count 3\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "\n# HELP tapir_dns_answer_duration_seconds DNS answers, "
		   "C:\\\\ too.\n"
		   "# TYPE tapir_dns_answer_duration_seconds histogram\n"
		   "tapir_dns_answer_duration_seconds_bucket{le=\"0.000016\"} 1\n"
		   "tapir_dns_answer_duration_seconds_bucket{le=\"0.000032\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "\ntapir_dns_answer_duration_seconds_bucket{le=\"33.554432\"} 2\n"
		   "tapir_dns_answer_duration_seconds_bucket{le=\"+Inf\"} 3\n"
		   "tapir_dns_answer_duration_seconds_sum 3600.000027\n"
		   "tapir_dns_answer_duration_seconds_count 3\n"));
	/* No HELP from the module: a generic one that names it. */
	ck_assert_ptr_nonnull(strstr(
		t, "\n# HELP tapir_web_response_duration_seconds Durations "
		   "measured by the web module.\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "\ntapir_web_response_duration_seconds_bucket{le=\"+Inf\"} 0\n"
		   "tapir_web_response_duration_seconds_sum 0\n"
		   "tapir_web_response_duration_seconds_count 0\n"));
	/* 22 finite buckets and +Inf per histogram. */
	{
		unsigned n = 0;

		for (const char *p = t;
		     (p = strstr(p, "tapir_tcp_rtt_seconds_bucket{")); p++)
			n++;
		ck_assert_uint_eq(n, TAPIR_HIST_BUCKETS + 1);
	}
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* Brackets balance outside strings. */
static void assert_json_balanced(const char *p)
{
	int depth = 0;
	bool in_str = false;

	for (; *p; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"')
			in_str = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			ck_assert_int_ge(--depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	ck_assert(!in_str);
}

/* Leases of both families, as the dhcp and dhcp6 modules publish them. */
static void two_leases(const struct report_src *r, report_entry_fn fn,
		       void *arg)
{
	static const char v4[] = "mac=02:00:00:00:00:07 expires=0 hostname=a";
	static const char v6[] = "duid=000100012f00aabb020000000007 iaid=7 "
				 "expires=0 hostname=b";

	(void)r;
	fn(arg, "10.0.0.100", v4, sizeof(v4) - 1);
	fn(arg, "fd00::1000", v6, sizeof(v6) - 1);
}

START_TEST(test_leases_both_families)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;
	const char *t;

	r.leases = two_leases;
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "leases", REPORT_TEXT), 0);
	t = strbuf_str(&b);
	ck_assert_ptr_nonnull(strstr(t, "10.0.0.100       02:00:00:00:00:07"));
	ck_assert_ptr_nonnull(strstr(t, "fd00::1000       000100012f00aabb"));
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	t = strbuf_str(&b);
	assert_json_balanced(t);
	ck_assert_ptr_nonnull(strstr(
		t, "{\"address\":\"10.0.0.100\",\"mac\":\"02:00:00:00:00:07\","
		   "\"hostname\":\"a\""));
	ck_assert_ptr_nonnull(strstr(
		t, "{\"address\":\"fd00::1000\",\"mac\":\"\",\"duid\":"
		   "\"000100012f00aabb020000000007\",\"hostname\":\"b\""));
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_PROMETHEUS), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "tapir_dhcp_leases 2\n"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* JSON: brackets balance outside strings, and the expected members are
 * there. */
START_TEST(test_status_json_shape)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r;
	struct strbuf b;

	r = src(s);
	s->stats.v[STAT_ICMP4_ECHO_RX] = 3;
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	assert_json_balanced(strbuf_str(&b));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\"interface\":{\"name\":\"tapir0\""));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"echo_requests\":3"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"dhcp_leases\":[]"));
	ck_assert_int_eq(report(&b, &r, "bogus", REPORT_JSON), -1);
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_JSON), -1);
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

static const char *fake_fpr(void)
{
	return "AB:CD:EF";
}

/* The self-signed TLS certificate's fingerprint, in text and JSON, when
 * there is one. */
START_TEST(test_status_tls_fingerprint)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_null(strstr(strbuf_str(&b), "self-signed"));
	r.tls_fingerprint = fake_fpr;
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "tls         self-signed, SHA-256 AB:CD:EF\n"));
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	assert_json_balanced(strbuf_str(&b));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     ",\"tls\":{\"self_signed_sha256\":\"AB:CD:EF\"}}"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* The IPv4 address's conflict detection state: "preferred" in JSON and
 * nothing more in text once in use; while probed for and after a
 * conflict, both say so. */
START_TEST(test_status_addr4_state)
{
	struct stack_params p;
	struct stack *s;
	struct report_src r;
	struct strbuf b;
	uint8_t f[TH_FRAME_MAX];

	stack_params_default(&p);
	p.ipv6 = false;
	s = th_stack_new(&p);
	r = src(s);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\"address_state\":\"tentative\""));
	strbuf_free(&b);
	stack_announce(s);
	th_advance(s, 500);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "  ipv4 tentative\n"));
	strbuf_free(&b);
	th_advance(s, 8000);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_null(strstr(strbuf_str(&b), "ipv4"));
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\"address_state\":\"preferred\""));
	strbuf_free(&b);
	/* A new address whose holder answers the first probe. */
	p.addr = TH_PEER2_IP;
	stack_update(s, &p);
	th_advance(s, 1001);
	stack_input(s, f, th_arp_reply(f, th_other_mac, TH_PEER2_IP), 0);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "  ipv4 duplicate\n"));
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\"address_state\":\"duplicate\""));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* The version is the one tapird -V prints (version.h), in all three. */
START_TEST(test_version)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "version     " TAPIR_VERSION "\n"));
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "{\"version\":\"" TAPIR_VERSION "\","));
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_PROMETHEUS), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\ntapir_build_info{version=\"" TAPIR_VERSION
				     "\"} 1\n"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* Counters as JSON: each layer is one object, named once, even where its
 * entries are apart in the counter table (tcp's ICMP counters). */
START_TEST(test_stats_json_layers_once)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;
	const char *j;

	s->stats.v[STAT_TCP_PMTU_REDUCED] = 7;
	s->stats.v[STAT_TCP_PASSIVE_OPENS] = 2;
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "stats", REPORT_JSON), 0);
	j = strbuf_str(&b);
	assert_json_balanced(j);
	for (int i = 0; i < STAT_COUNT; i++) {
		char key[64];
		const char *p = j;
		int n = 0;

		snprintf(key, sizeof(key), "\"%s\":{", stat_descs[i].layer);
		while ((p = strstr(p, key))) {
			n++;
			p++;
		}
		ck_assert_msg(n == 1, "layer %s named %d times in %s",
			      stat_descs[i].layer, n, j);
	}
	/* Both tcp counters follow the one tcp key. */
	j = strstr(j, "\"tcp\":{");
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(strstr(j, "\"mss_reduced_by_pmtu\":7"));
	ck_assert_ptr_nonnull(strstr(j, "\"passive_opens\":2"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

START_TEST(test_arp_table_text)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r;
	struct strbuf b;

	r = src(s);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	strbuf_init(&b, 4096);
	ck_assert_int_eq(report(&b, &r, "arp", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "ADDRESS"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "reachable"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* Every report that lists modules shows what the visitor gives, in its
 * order; without a visitor there are none. */
START_TEST(test_modules_from_visitor)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\nmodules     none\n"));
	strbuf_free(&b);

	r.mods = (struct report_modules){fake_foreach, fake_foreach_counter,
					 fake_mods, NULL, NULL};
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(
		strstr(strbuf_str(&b), "\nmodules     dns, web\n"));
	strbuf_free(&b);

	/* Text: counters that are not zero, one line each. */
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "stats", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b),
		"module_dns_queries                                 "
		"                12\n"
		"module_web_hits                                    "
		"                 3\n"));
	ck_assert_ptr_null(strstr(strbuf_str(&b), "refused"));
	strbuf_free(&b);

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "stats", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b),
		",\"modules\":[{\"name\":\"dns\",\"counters\":{\"queries\":12,"
		"\"refused\":0}},{\"name\":\"web\",\"counters\":{\"hits\":3}}]}"
		"\n"));
	strbuf_free(&b);

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b),
		",\"modules\":[{\"name\":\"dns\",\"counters\":{\"queries\":12,"
		"\"refused\":0}},{\"name\":\"web\",\"counters\":{\"hits\":3}}],"
		"\"dhcp_leases\":[]}\n"));
	strbuf_free(&b);

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_PROMETHEUS), 0);
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b),
		"# TYPE tapir_module_events_total counter\n"
		"tapir_module_events_total{module=\"dns\",counter=\"queries\"} "
		"12\n"
		"tapir_module_events_total{module=\"dns\",counter=\"refused\"} "
		"0\n"
		"tapir_module_events_total{module=\"web\",counter=\"hits\"} 3\n"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* Our IPv6 addresses as the IPv6 layer keeps them (filled here by hand),
 * each with its prefix and state, in RFC 5952 text: zeros compressed in
 * the first longest run of two or more groups, never one, lower case. */
START_TEST(test_status_ipv6_addresses)
{
	static const struct {
		uint8_t a[16];
		unsigned prefix;
		enum addr6_state state;
	} addrs[] = {
		{{0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 2}, 64,
		 ADDR6_PREFERRED},
		{{0x20, 0x01, 0x0d, 0xb8, [9] = 1, [15] = 1}, 64,
		 ADDR6_TENTATIVE},
		{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
		 64, ADDR6_DUPLICATE},
		{{0xfd, 0x00, 0xab, 0xcd, [15] = 2}, 128, ADDR6_PREFERRED},
	};
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\nipv6        no addresses\nmodules"));
	strbuf_free(&b);

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		s->addr6[i].a = inany_from_v6(addrs[i].a);
		s->addr6[i].prefix = addrs[i].prefix;
		s->addr6[i].state = (uint8_t)addrs[i].state;
	}
	s->naddr6 = sizeof(addrs) / sizeof(addrs[0]);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     " offload off\n"
				     "ipv6        fe80::ff:fe00:2/64  preferred\n"
				     "            2001:db8::1:0:0:1/64  tentative\n"
				     "            2001:db8:0:1:1:1:1:1/64  "
				     "duplicate\n"
				     "            fd00:abcd::2/128  preferred\n"
				     "modules"));
	strbuf_free(&b);

	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	assert_json_balanced(strbuf_str(&b));
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b),
		"\"offload\":false,\"ipv6\":true,\"address6\":["
		"{\"address\":\"fe80::ff:fe00:2/64\",\"state\":\"preferred\"},"
		"{\"address\":\"2001:db8::1:0:0:1/64\",\"state\":\"tentative\"},"
		"{\"address\":\"2001:db8:0:1:1:1:1:1/64\","
		"\"state\":\"duplicate\"},"
		"{\"address\":\"fd00:abcd::2/128\",\"state\":\"preferred\"}]},"
		"\"counters\":"));
	strbuf_free(&b);
	s->naddr6 = 0;
	th_stack_free(s);
}
END_TEST

/* With IPv6 off there is nothing to list, and the reports say so. */
START_TEST(test_status_ipv6_off)
{
	struct stack_params p;
	struct stack *s;
	struct report_src r;
	struct strbuf b;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	p.ipv6 = false;
	s = th_stack_new(&p);
	r = src(s);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\nipv6        off\n"));
	strbuf_free(&b);
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(
		strstr(strbuf_str(&b), ",\"ipv6\":false,\"address6\":[]},"));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* Neighbours of both families in one table: IPv6 in RFC 5952 text, and
 * the address column as wide as the longest, so the columns still line
 * up.  (The entry goes into the cache by hand, as ND will put it.) */
START_TEST(test_arp_table_ipv6)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [9] = 1,
				       [15] = 1};
	const union inany a = inany_from_v6(v6);
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct strbuf b;

	th_learn(s, th_peer_mac, TH_PEER_IP);
	neigh_learn(&s->arp, &a, th_peer2_mac);
	strbuf_init(&b, 4096);
	ck_assert_int_eq(report(&b, &r, "arp", REPORT_TEXT), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "ADDRESS            MAC  "));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\n10.0.0.1           02:00:00:00:00:01  "
				     "reachable"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\n2001:db8::1:0:0:1  02:00:00:00:00:03  "
				     "reachable"));
	strbuf_free(&b);
	strbuf_init(&b, 4096);
	ck_assert_int_eq(report(&b, &r, "arp", REPORT_JSON), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "{\"address\":\"2001:db8::1:0:0:1\","
				     "\"mac\":\"02:00:00:00:00:03\""));
	strbuf_free(&b);
	th_stack_free(s);
}
END_TEST

/* The buffer never grows past its limit; what does not fit is flagged. */
START_TEST(test_strbuf_limit)
{
	struct strbuf b;

	strbuf_init(&b, 16);
	strbuf_puts(&b, "0123456789");
	ck_assert(!b.full);
	strbuf_printf(&b, "%s", "abcdefgh");
	ck_assert(b.full);
	ck_assert_str_eq(strbuf_str(&b), "0123456789");
	strbuf_puts(&b, "x");
	ck_assert_str_eq(strbuf_str(&b), "0123456789");
	ck_assert_uint_le(b.cap, 16);
	strbuf_free(&b);
	strbuf_init(&b, 64);
	strbuf_json_str(&b, "a\"b\\c\n\x01");
	ck_assert_str_eq(strbuf_str(&b), "\"a\\\"b\\\\c\\u000a\\u0001\"");
	strbuf_free(&b);
	/* Bytes over 0x7e, invalid UTF-8 or not, come out as escapes. */
	strbuf_init(&b, 64);
	strbuf_json_str(&b, "\x7f\xc3\xa9\xff");
	ck_assert_str_eq(strbuf_str(&b),
			 "\"\\u007f\\u00c3\\u00a9\\u00ff\"");
	strbuf_free(&b);
	/* A Prometheus label value has three escapes and no others. */
	strbuf_init(&b, 64);
	strbuf_prom_label(&b, "a\"b\\c\nd\t\x01\x7f\xff" "z");
	ck_assert_str_eq(strbuf_str(&b), "\"a\\\"b\\\\c\\nd????" "z\"");
	strbuf_free(&b);
}
END_TEST

/* ---- connections ---------------------------------------------------------- */

START_TEST(test_conn_filter_parse)
{
	struct report_conn_filter f = REPORT_CONN_FILTER_ALL;
	char err[160];
	static const char *const bad[] = {
		"state=bogus", "state=", "port=0", "port=65536", "port=8x",
		"port=", "port=-1", "port= 80", "color=red",
		"state=establishedestablishedestablishedestablished",
	};

	ck_assert_int_eq(report_conn_filter_parse(&f, "state=ESTABLISHED", err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(f.state, TCP_ESTABLISHED);
	ck_assert_int_eq(report_conn_filter_parse(&f, "state=time-wait", err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(f.state, TCP_TIME_WAIT);
	ck_assert_int_eq(f.port, -1);
	ck_assert_int_eq(report_conn_filter_parse(&f, "port=65535", err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(f.port, 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(report_conn_filter_parse(&f, bad[i], err,
						       sizeof(err)) < 0,
			      "%s accepted", bad[i]);
		ck_assert_msg(err[0], "no reason for %s", bad[i]);
	}
	/* A rejected word leaves the filter as it was. */
	ck_assert_int_eq(f.state, TCP_TIME_WAIT);
	ck_assert_int_eq(f.port, 65535);
}
END_TEST

static struct tcp_listener g_http, g_echo;

static const char *fake_owner(const void *ctx, const struct tcp_conn *c)
{
	(void)ctx;
	if (c->listener == &g_http)
		return "http";
	if (c->listener == &g_echo)
		return "echo";
	return NULL;
}

static struct tcp_conn *mk_conn(struct stack *s, struct tcp_listener *g,
				union inany l, uint16_t lp, union inany r,
				uint16_t rp, enum tcp_state st)
{
	struct flow_key k = {.laddr = l, .raddr = r, .lport = lp, .rport = rp};
	struct tcp_conn *c = tcp_conn_new(s, &k, g);

	ck_assert_ptr_nonnull(c);
	tcp_set_state(c, st);
	return c;
}

/* The connections a test made: all of them ended before the stack is. */
static void end_conns(struct tcp_conn **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tcp_destroy(v[i], 0);
}

/* What ss -ti shows, for one IPv4 and one IPv6 connection and one in
 * TIME_WAIT: the owner module, queues, RTT, window, phase, counters; the
 * filters by state and by port; the JSON document's fields. */
START_TEST(test_connections_report)
{
	static const uint8_t our6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2},
			     peer6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct report_conn_filter f = REPORT_CONN_FILTER_ALL;
	struct tcp_conn *c[3];
	struct strbuf b;
	const char *t;

	tcp_group_init(&g_http);
	tcp_group_init(&g_echo);
	r.mods.conn_owner = fake_owner;
	c[0] = mk_conn(s, &g_http, inany_from_v4(TH_OUR_IP), 80,
		       inany_from_v4(TH_PEER_IP), 40000, TCP_ESTABLISHED);
	c[0]->srtt8 = 8 * 12 + 3; /* 12.375 ms */
	c[0]->rttvar4 = 4 * 2 + 1; /* 2.250 ms */
	c[0]->rto = 212;
	c[0]->mss = 1448;
	c[0]->cwnd = 10 * 1448;
	c[0]->ssthresh = 5 * 1448;
	c[0]->ctr.bytes_sent = 100000;
	c[0]->ctr.bytes_retrans = 2896;
	c[0]->ctr.bytes_acked = 90000;
	c[0]->ctr.bytes_received = 77;
	c[0]->ctr.segs_retrans = 2;
	c[0]->ctr.delivery_rate = 1250000;
	c[0]->in_recovery = true;
	c[1] = mk_conn(s, &g_echo, inany_from_v6(our6), 7,
		       inany_from_v6(peer6), 50000, TCP_ESTABLISHED);
	c[1]->cwnd = 14480;
	c[1]->ssthresh = UINT32_MAX;
	c[2] = mk_conn(s, &g_http, inany_from_v4(TH_OUR_IP), 81,
		       inany_from_v4(TH_PEER_IP), 80, TCP_TIME_WAIT);
	c[2]->listener = NULL; /* the owner let go */
	*c[2]->lpprev = c[2]->lnext;
	if (c[2]->lnext)
		c[2]->lnext->lpprev = c[2]->lpprev;
	g_http.count--;

	strbuf_init(&b, 1 << 20);
	report_connections(&b, &r, REPORT_TEXT, &f);
	t = strbuf_str(&b);
	ck_assert_ptr_nonnull(strstr(t, "LOCAL                  REMOTE    "));
	ck_assert_msg(strstr(
		t, "10.0.0.2:80            10.0.0.1:40000         established "
		   "         0         0  http\n"
		   "\t cubic recovery rtt:12.375/2.250 rto:212 mss:1448 "
		   "cwnd:14480 ssthresh:7240 bytes_sent:100000 "
		   "bytes_retrans:2896 bytes_acked:90000 bytes_received:77 "
		   "retrans:0/2 lost:0 sacked:0 delivery_rate:1.2MB/s\n"), "%s", t);
	ck_assert_ptr_nonnull(strstr(t, "[2001:db8::2]:7  "));
	ck_assert_ptr_nonnull(strstr(t, "  echo\n\t cubic slow_start "));
	ck_assert_ptr_nonnull(strstr(t, "ssthresh:- "));
	ck_assert_ptr_nonnull(strstr(t, "time_wait  "));
	ck_assert_ptr_nonnull(strstr(t, "  -\n"));
	strbuf_free(&b);

	/* Filters: by state, by local or remote port, both. */
	f.state = TCP_TIME_WAIT;
	strbuf_init(&b, 1 << 20);
	report_connections(&b, &r, REPORT_JSON, &f);
	assert_json_balanced(strbuf_str(&b));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"matched\":1,"
						     "\"listed\":1,"
						     "\"truncated\":false}"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"local_port\":81"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"module\":null"));
	strbuf_free(&b);
	f.state = -1;
	f.port = 80; /* c[0]'s local port, c[2]'s remote one */
	strbuf_init(&b, 1 << 20);
	report_connections(&b, &r, REPORT_JSON, &f);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"matched\":2,"));
	ck_assert_ptr_null(strstr(strbuf_str(&b), "2001:db8"));
	strbuf_free(&b);
	f.state = TCP_ESTABLISHED;
	strbuf_init(&b, 1 << 20);
	report_connections(&b, &r, REPORT_JSON, &f);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"matched\":1,"));
	ck_assert_ptr_nonnull(strstr(
		strbuf_str(&b),
		"{\"connections\":[{\"state\":\"established\",\"family\":4,"
		"\"local_address\":\"10.0.0.2\",\"local_port\":80,"
		"\"remote_address\":\"10.0.0.1\",\"remote_port\":40000,"
		"\"local\":\"10.0.0.2:80\",\"remote\":\"10.0.0.1:40000\","
		"\"module\":\"http\",\"send_queue\":0,\"receive_queue\":0,"
		"\"rtt_ms\":12.375,\"rttvar_ms\":2.250,\"rto_ms\":212,"
		"\"mss\":1448,\"cwnd\":14480,\"ssthresh\":7240,"
		"\"congestion_control\":\"cubic\",\"cc_phase\":\"recovery\","
		"\"bytes_sent\":100000,\"bytes_retrans\":2896,"
		"\"bytes_acked\":90000,\"bytes_received\":77,"
		"\"retrans_segs\":2,\"retrans_out\":0,\"lost\":0,"
		"\"sacked\":0,\"delivery_rate\":1250000}]"));
	strbuf_free(&b);
	f.port = 7;
	strbuf_init(&b, 1 << 20);
	report_connections(&b, &r, REPORT_JSON, &f);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\"family\":6,\"local_address\":"
				     "\"2001:db8::2\",\"local_port\":7,"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\"local\":\"[2001:db8::2]:7\""));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "\"ssthresh\":null,"));
	strbuf_free(&b);
	f.port = 9;
	strbuf_init(&b, 1 << 20);
	report_connections(&b, &r, REPORT_JSON, &f);
	ck_assert_str_eq(strbuf_str(&b), "{\"connections\":[],\"matched\":0,"
					 "\"listed\":0,\"truncated\":false}");
	strbuf_free(&b);
	end_conns(c, 3);
	th_stack_free(s);
}
END_TEST

/* 100k connections must not make a 100k-line answer: the list stops at
 * REPORT_MAX_CONNS and says how many more there are. */
START_TEST(test_connections_capped)
{
	struct stack_params p;
	struct stack *s;
	struct report_src r;
	struct report_conn_filter f = REPORT_CONN_FILTER_ALL;
	const unsigned n = REPORT_MAX_CONNS + 7;
	struct tcp_conn **c = calloc(n, sizeof(*c));
	struct strbuf b;
	unsigned lines = 0;

	stack_params_default(&p);
	p.tcp.max_conns = n;
	s = th_stack_new(&p);
	r = src(s);
	tcp_group_init(&g_http);
	ck_assert_ptr_nonnull(c);
	for (unsigned i = 0; i < n; i++)
		c[i] = mk_conn(s, &g_http, inany_from_v4(TH_OUR_IP), 80,
			       inany_from_v4(TH_PEER_IP + i / 60000),
			       (uint16_t)(1024 + i % 60000), TCP_ESTABLISHED);
	strbuf_init(&b, 64u << 20);
	report_connections(&b, &r, REPORT_TEXT, &f);
	for (const char *q = strbuf_str(&b); (q = strchr(q, '\n')); q++)
		lines++;
	/* The header, two lines a connection, the note. */
	ck_assert_uint_eq(lines, 1 + 2 * REPORT_MAX_CONNS + 1);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b),
				     "\n(7 more not shown: at most 10000 are "
				     "listed; narrow with --state or --port)\n"));
	strbuf_free(&b);
	strbuf_init(&b, 64u << 20);
	report_connections(&b, &r, REPORT_JSON, &f);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "],\"matched\":10007,"
						     "\"listed\":10000,"
						     "\"truncated\":true}"));
	strbuf_free(&b);
	/* The HTML page lists fewer still. */
	strbuf_init(&b, 64u << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_HTML), 0);
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "<h2>Connections (10007)"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&b), "9807 more not shown"));
	strbuf_free(&b);
	end_conns(c, n);
	free(c);
	th_stack_free(s);
}
END_TEST

/* Attacker-controlled text reaches the page only escaped: a DHCP client's
 * host name, and (should one ever hold such bytes) the interface's. */
static void evil_leases(const struct report_src *r, report_entry_fn fn,
			void *arg)
{
	static const char v[] = "mac=02:00:00:00:00:07 expires=0 "
				 "hostname=<script>alert(\"x&y\")</script>";

	(void)r;
	fn(arg, "10.0.0.100", v, sizeof(v) - 1);
}

START_TEST(test_status_html)
{
	struct stack *s = th_stack_new(NULL);
	struct report_src r = src(s);
	struct tcp_conn *c;
	struct strbuf b;
	const char *t;

	r.ifname = "tap'<i>";
	r.leases = evil_leases;
	r.mods.foreach = fake_foreach;
	r.mods.foreach_counter = fake_foreach_counter;
	r.mods.ctx = fake_mods;
	r.mods.conn_owner = fake_owner;
	tcp_group_init(&g_http);
	c = mk_conn(s, &g_http, inany_from_v4(TH_OUR_IP), 80,
		    inany_from_v4(TH_PEER_IP), 40000, TCP_ESTABLISHED);
	s->stats.v[STAT_TCP_PASSIVE_OPENS] = 3;
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "status", REPORT_HTML), 0);
	t = strbuf_str(&b);
	ck_assert(!strncmp(t, "<!DOCTYPE html>\n", 16));
	ck_assert_ptr_nonnull(strstr(t, "</html>\n"));
	ck_assert_ptr_nonnull(strstr(
		t, "<td>&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;"
		   "</td>"));
	ck_assert_ptr_nonnull(strstr(t, "<h1>tapir tap&#39;&lt;i&gt;</h1>"));
	ck_assert_ptr_null(strstr(t, "<script"));
	ck_assert_ptr_null(strstr(t, "<i>"));
	/* No external assets, no scripts: nothing fetched from anywhere. */
	ck_assert_ptr_null(strstr(t, "src="));
	ck_assert_ptr_null(strstr(t, "href="));
	ck_assert_ptr_null(strstr(t, "//"));
	ck_assert_ptr_null(strstr(t, "url("));
	ck_assert_ptr_nonnull(strstr(t, "<td>10.0.0.2:80</td><td>10.0.0.1:40000"
					"</td><td>established</td><td>http"
					"</td>"));
	ck_assert_ptr_nonnull(strstr(t, "<td>tcp_passive_opens</td><td "
					"class=n>3</td>"));
	ck_assert_ptr_nonnull(strstr(t, "<td>module_dns_queries</td><td "
					"class=n>12</td>"));
	ck_assert_ptr_nonnull(strstr(t, "<p id=modules>dns, web</p>"));
	ck_assert_ptr_nonnull(strstr(t, "<th>IPv4</th><td>10.0.0.2/24 "));
	strbuf_free(&b);
	/* Only the status has a page. */
	strbuf_init(&b, 1 << 20);
	ck_assert_int_eq(report(&b, &r, "arp", REPORT_HTML), -1);
	ck_assert_int_eq(report(&b, &r, "metrics", REPORT_HTML), -1);
	strbuf_free(&b);
	end_conns(&c, 1);
	th_stack_free(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_metrics_format);
	tcase_add_test(tc, test_metrics_histograms);
	tcase_add_test(tc, test_status_json_shape);
	tcase_add_test(tc, test_status_tls_fingerprint);
	tcase_add_test(tc, test_status_addr4_state);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_stats_json_layers_once);
	tcase_add_test(tc, test_arp_table_text);
	tcase_add_test(tc, test_status_ipv6_addresses);
	tcase_add_test(tc, test_status_ipv6_off);
	tcase_add_test(tc, test_arp_table_ipv6);
	tcase_add_test(tc, test_modules_from_visitor);
	tcase_add_test(tc, test_strbuf_limit);
	tcase_add_test(tc, test_leases_both_families);
	tcase_add_test(tc, test_conn_filter_parse);
	tcase_add_test(tc, test_connections_report);
	tcase_add_test(tc, test_connections_capped);
	tcase_add_test(tc, test_status_html);
	suite_add_tcase(su, tc);
	return th_run(su);
}
