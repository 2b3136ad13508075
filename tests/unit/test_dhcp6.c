/*
 * The DHCPv6 server (src/modules/dhcp6) on a fake environment: message
 * parsing and the validation rules of RFC 8415 16, each exchange
 * (Information-request, Solicit/Advertise, Request, Rapid Commit, Renew,
 * Rebind, Confirm, Release, Decline), the Option Request Option, limits
 * (a Solicit flood reserves nothing, an exhausted pool says NoAddrsAvail,
 * max_leases), reservations by DUID, Client FQDN names, expiry, and the
 * journal: Replies after the fsync, replay after a restart, torn and
 * corrupt records ignored.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dhcp6_journal.h"
#include "dhcp6_msg.h"
#include "dhcp6_srv.h"
#include "dhcp6_wire.h"
#include "helpers.h"

static char dir[64], path[128];
static int64_t clock_s;
static uint8_t last[2048];
static size_t last_len;
static unsigned nsent, batches;
static struct d6_from last_to;
static char pubkey[32][64], pubval[32][600];
static unsigned npub;
static struct d6_cfg cfg;
static struct d6_srv *srv;
static struct r6 r;

static const uint8_t server_duid[14] = {0, 1, 0, 1, 0x30, 0, 0, 0,
					2, 0, 0, 0, 0, 2};

static int64_t f_now(void *arg)
{
	(void)arg;
	return clock_s;
}

static void f_send(void *arg, const struct d6_from *to, const uint8_t *d,
		   size_t len)
{
	(void)arg;
	ck_assert_uint_le(len, sizeof(last));
	memcpy(last, d, len);
	last_len = len;
	last_to = *to;
	nsent++;
}

static int pub_find(const char *key)
{
	for (unsigned i = 0; i < npub; i++)
		if (strcmp(pubkey[i], key) == 0)
			return (int)i;
	return -1;
}

static void f_publish(void *arg, const char *key, const char *val)
{
	int i = pub_find(key);

	(void)arg;
	if (i < 0) {
		ck_assert_uint_lt(npub, 32);
		i = (int)npub++;
	}
	snprintf(pubkey[i], sizeof(pubkey[i]), "%s", key);
	snprintf(pubval[i], sizeof(pubval[i]), "%s", val);
}

static void f_unpublish(void *arg, const char *key)
{
	int i = pub_find(key);

	(void)arg;
	if (i < 0)
		return;
	npub--;
	memmove(pubkey[i], pubkey[npub], sizeof(pubkey[0]));
	memmove(pubval[i], pubval[npub], sizeof(pubval[0]));
}

static char logs[8][512];
static int logprio[8];
static unsigned nlogs;

static void f_log(void *arg, int prio, const char *msg)
{
	(void)arg;
	if (nlogs < 8) {
		snprintf(logs[nlogs], sizeof(logs[0]), "%s", msg);
		logprio[nlogs] = prio;
	}
	nlogs++;
}

static void f_batch_open(void *arg)
{
	(void)arg;
	batches++;
}

static const char *pub(const char *key)
{
	int i = pub_find(key);

	return i < 0 ? NULL : pubval[i];
}

static struct d6_env env(void)
{
	struct d6_env e = {
		.now = f_now,
		.send = f_send,
		.publish = f_publish,
		.unpublish = f_unpublish,
		.batch_open = f_batch_open,
		.log = f_log,
	};

	memcpy(e.duid, server_duid, sizeof(server_duid));
	e.duidlen = sizeof(server_duid);
	tapir_addr_parse("fd00::2", &e.onlink[0]);
	e.onlink_len[0] = 64;
	e.nonlink = 1;
	return e;
}

/* A pool fd00::1000-fd00::100f, one reservation, DNS and domain. */
static void base_cfg(struct d6_cfg *c)
{
	struct tapir_addr a;

	d6_cfg_default(c);
	tapir_addr_parse("fd00::1000", &a);
	memcpy(c->range[0].hi, a.b, 8);
	c->range[0].first = 0x1000;
	c->range[0].last = 0x100f;
	c->nranges = 1;
	tapir_addr_parse("fd00::2", &c->dns[0]);
	c->ndns = 1;
	strcpy(c->search[0], "lab.test");
	c->nsearch = 1;
	c->info_refresh = 900;
	c->res = calloc(1, sizeof(*c->res));
	ck_assert_ptr_nonnull(c->res);
	c->res[0].duidlen = (uint8_t)c6_duid_bytes(0x50, c->res[0].duid);
	tapir_addr_parse("fd00::50", &c->res[0].addr);
	strcpy(c->res[0].host, "fixed6");
	c->nres = 1;
	snprintf(c->lease_file, sizeof(c->lease_file), "%s", path);
}

static void start(void)
{
	struct d6_env e = env();
	char err[256];

	srv = d6_srv_new(&cfg, &e, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	d6_srv_publish_all(srv);
}

static void setup(void)
{
	/* tmpfs when there is one: the compaction test makes thousands of
	 * fdatasync calls. */
	snprintf(dir, sizeof(dir), "%s/tapir-dhcp6.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/leases", dir);
	clock_s = 1700000000;
	nsent = batches = npub = 0;
	last_len = 0;
	base_cfg(&cfg);
	start();
}

static void teardown(void)
{
	char tmp[200];

	lj_set_io(NULL, NULL);
	d6_srv_free(srv);
	d6_cfg_free(&cfg);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

static const struct d6_from mcast_from = {
	.ip = {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
	.port = 546,
	.has_mac = true,
	.mac = {2, 0, 0, 0, 0, 1},
	.multicast = true,
};

/* Hand m to the server; true when something was sent (parsed into r). */
static bool input_from(const struct c6 *m, const struct d6_from *from)
{
	unsigned before = nsent;

	d6_srv_input(srv, from, m->b, m->n);
	if (nsent == before)
		return false;
	ck_assert(r6_parse(last, last_len, &r));
	return true;
}

static bool input(const struct c6 *m)
{
	return input_from(m, &mcast_from);
}

/* input(), then the batch closed: the Reply (if any) is out. */
static bool input_flush(const struct c6 *m)
{
	unsigned before = nsent;

	d6_srv_input(srv, &mcast_from, m->b, m->n);
	d6_srv_flush(srv);
	if (nsent == before)
		return false;
	ck_assert(r6_parse(last, last_len, &r));
	return true;
}

static uint64_t count(enum d6_count c)
{
	return d6_srv_counters(srv)[c];
}

static void sid(struct c6 *m)
{
	c6_opt(m, 2, server_duid, sizeof(server_duid));
}

/* Client id's Solicit (or Request with our server ID) for IA iaid. */
static void msg(struct c6 *m, uint8_t type, uint8_t id, uint32_t iaid,
		const char *addr)
{
	c6_begin(m, type, 0x123456);
	c6_duid(m, 1, id);
	if (type == 3 || type == 5 || type == 8 || type == 9)
		sid(m);
	c6_opt(m, 8, "\0\0", 2);
	c6_oro(m, 23, 24, 0);
	c6_ia_na(m, iaid, addr);
}

/* Request and bind: the address client id got for iaid. */
static const char *bind_one(uint8_t id, uint32_t iaid)
{
	struct c6 m;

	msg(&m, 3, id, iaid, NULL);
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.type, 7);
	ck_assert_uint_eq(r.nia, 1);
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	return r6_addr(&r.ia[0].addr[0]);
}

/* ---- parsing ------------------------------------------------------------- */

START_TEST(test_parse_rejects_malformed)
{
	static const uint8_t short_msg[] = {1, 0, 0};
	static const uint8_t overrun[] = {1, 0, 0, 1, 0, 1, 0, 9, 0, 3};
	static const uint8_t bad_iaaddr[] = {3, 0, 0, 1, 0, 3, 0, 20,
					     0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
					     0, 5, 0, 4, 1, 2, 3, 4};
	static const uint8_t elapsed3[] = {1, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0};
	static const uint8_t relay[] = {12, 0, 1, 2, 3};
	uint8_t big[4 + 4 + 131] = {1, 0, 0, 1, 0, 1, 0, 131};
	struct d6_msg m;

	ck_assert_int_eq(d6_parse(short_msg, sizeof(short_msg), &m), D6_ERR_SHORT);
	ck_assert_int_eq(d6_parse(overrun, sizeof(overrun), &m), D6_ERR_SHORT);
	ck_assert_int_eq(d6_parse(bad_iaaddr, sizeof(bad_iaaddr), &m), D6_ERR_OPTION);
	ck_assert_int_eq(d6_parse(elapsed3, sizeof(elapsed3), &m), D6_ERR_OPTION);
	ck_assert_int_eq(d6_parse(relay, sizeof(relay), &m), D6_ERR_RELAY);
	/* A DUID over 130 bytes (RFC 8415 11.1). */
	ck_assert_int_eq(d6_parse(big, sizeof(big), &m), D6_ERR_OPTION);
	d6_srv_input(srv, &mcast_from, overrun, sizeof(overrun));
	d6_srv_input(srv, &mcast_from, relay, sizeof(relay));
	ck_assert_uint_eq(count(C6_DROP_MALFORMED), 1);
	ck_assert_uint_eq(count(C6_DROP_RELAY), 1);
	ck_assert_uint_eq(nsent, 0);
}
END_TEST

START_TEST(test_parse_reads_options)
{
	struct c6 c;
	struct d6_msg m;
	char host[64];

	c6_begin(&c, 3, 0xabcdef);
	c6_duid(&c, 1, 7);
	sid(&c);
	c6_oro(&c, 23, 24, 39, 0);
	c6_ia_na(&c, 42, "fd00::1005");
	c6_fqdn(&c, 1, "MyHost");
	c6_opt(&c, 14, NULL, 0);
	ck_assert_int_eq(d6_parse(c.b, c.n, &m), D6_OK);
	ck_assert_uint_eq(m.type, 3);
	ck_assert_uint_eq(m.xid[0], 0xab);
	ck_assert_uint_eq(m.ncid, 1);
	ck_assert_uint_eq(m.cidlen, 10);
	ck_assert_uint_eq(m.nsid, 1);
	ck_assert_uint_eq(m.nia, 1);
	ck_assert_uint_eq(m.ia[0].iaid, 42);
	ck_assert_uint_eq(m.ia[0].naddr, 1);
	ck_assert_str_eq(r6_addr(&m.ia[0].addr[0]), "fd00::1005");
	ck_assert(d6_requested(&m, 39));
	ck_assert(!d6_requested(&m, 32));
	ck_assert(m.rapid_commit);
	ck_assert(d6_fqdn_host(m.fqdn, m.fqdnlen, host));
	ck_assert_str_eq(host, "myhost");
	/* Not a label: no name. */
	ck_assert(!d6_fqdn_host((const uint8_t *)"\1\3a_b", 5, host));
	ck_assert(!d6_fqdn_host((const uint8_t *)"\1\5ab", 4, host));
}
END_TEST

/* ---- validation (RFC 8415 16) ------------------------------------------- */

START_TEST(test_validation_drops_and_counts)
{
	struct c6 m;

	/* Solicit without a Client ID. */
	c6_begin(&m, 1, 1);
	c6_ia_na(&m, 1, NULL);
	ck_assert(!input(&m));
	/* Solicit with a Server ID. */
	msg(&m, 1, 1, 1, NULL);
	sid(&m);
	ck_assert(!input(&m));
	/* Request without a Server ID, and with another server's. */
	c6_begin(&m, 3, 1);
	c6_duid(&m, 1, 1);
	c6_ia_na(&m, 1, NULL);
	ck_assert(!input(&m));
	c6_duid(&m, 2, 9);
	ck_assert(!input(&m));
	/* Two Client IDs. */
	msg(&m, 3, 1, 1, NULL);
	c6_duid(&m, 1, 2);
	ck_assert(!input(&m));
	/* An Information-request with an IA, or another server's ID. */
	c6_begin(&m, 11, 1);
	c6_ia_na(&m, 1, NULL);
	ck_assert(!input(&m));
	c6_begin(&m, 11, 1);
	c6_duid(&m, 2, 9);
	ck_assert(!input(&m));
	/* Rebind and Confirm with a Server ID. */
	msg(&m, 6, 1, 1, "fd00::1000");
	sid(&m);
	ck_assert(!input(&m));
	/* A server's message type, and a Confirm without addresses. */
	msg(&m, 2, 1, 1, NULL);
	ck_assert(!input(&m));
	msg(&m, 4, 1, 1, NULL);
	ck_assert(!input(&m));
	ck_assert_uint_eq(count(C6_DROP_NO_CLIENTID), 2);
	ck_assert_uint_eq(count(C6_DROP_SERVERID), 2);
	ck_assert_uint_eq(count(C6_DROP_NO_SERVERID), 1);
	ck_assert_uint_eq(count(C6_DROP_NOT_US), 2);
	ck_assert_uint_eq(count(C6_DROP_IA_IN_INFO), 1);
	ck_assert_uint_eq(count(C6_DROP_TYPE), 1);
	ck_assert_uint_eq(count(C6_DROP_NO_ADDR), 1);
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
}
END_TEST

START_TEST(test_unicast_request_gets_use_multicast)
{
	struct c6 m;
	struct d6_from uni = mcast_from;

	uni.multicast = false;
	msg(&m, 3, 1, 1, NULL);
	ck_assert(input_from(&m, &uni));
	ck_assert_uint_eq(r.type, 7);
	ck_assert_int_eq(r.status, 5);
	ck_assert_uint_eq(r.nia, 0);
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	ck_assert_uint_eq(count(C6_USE_MULTICAST), 1);
}
END_TEST

/* ---- stateless -------------------------------------------------------------- */

START_TEST(test_information_request_honours_oro)
{
	struct c6 m;

	c6_begin(&m, 11, 0x010203);
	c6_duid(&m, 1, 1);
	c6_oro(&m, 23, 24, 32, 0);
	ck_assert(input(&m));
	ck_assert_uint_eq(r.type, 7);
	ck_assert_uint_eq(r.xid[2], 3);
	ck_assert(r.has_sid && r.has_cid);
	ck_assert_uint_eq(r.ndns, 1);
	ck_assert_str_eq(r6_addr(&r.dns[0]), "fd00::2");
	ck_assert_str_eq(r.domains, "lab.test.");
	ck_assert(r.has_irt);
	ck_assert_uint_eq(r.irt, 900);
	/* Only the DNS servers asked for; no Client ID is fine too. */
	c6_begin(&m, 11, 0x010204);
	c6_oro(&m, 23, 0);
	ck_assert(input(&m));
	ck_assert_uint_eq(r.ndns, 1);
	ck_assert_str_eq(r.domains, "");
	ck_assert(!r.has_cid);
	/* Our own server ID is accepted. */
	c6_begin(&m, 11, 0x010205);
	sid(&m);
	c6_oro(&m, 24, 0);
	ck_assert(input(&m));
	ck_assert_uint_eq(r.ndns, 0);
	ck_assert_str_eq(r.domains, "lab.test.");
	ck_assert_uint_eq(count(C6_INFO_REQUEST), 3);
}
END_TEST

/* ---- Solicit, Advertise, Request ----------------------------------------- */

START_TEST(test_solicit_advertises_without_binding)
{
	struct c6 m;

	msg(&m, 1, 1, 7, NULL);
	ck_assert(input(&m));
	ck_assert_uint_eq(r.type, 2);
	ck_assert_uint_eq(r.nia, 1);
	ck_assert_uint_eq(r.ia[0].iaid, 7);
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1000");
	ck_assert_uint_eq(r.ia[0].pref[0], 3600);
	ck_assert_uint_eq(r.ia[0].valid[0], 7200);
	ck_assert_uint_eq(r.ia[0].t1, 1800);
	ck_assert_uint_eq(r.ia[0].t2, 2880);
	ck_assert_uint_eq(r.ndns, 1);
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	ck_assert_uint_eq(batches, 0); /* nothing for the journal */
	/* The same client is advertised the same address; another one the
	 * next. */
	ck_assert(input(&m));
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1000");
	msg(&m, 1, 2, 7, NULL);
	ck_assert(input(&m));
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1001");
	ck_assert_uint_eq(count(C6_ADVERTISE), 3);
}
END_TEST

START_TEST(test_request_replies_after_journal_and_publishes)
{
	struct c6 m;
	char line[600];
	FILE *f;
	bool found = false;

	msg(&m, 1, 1, 7, NULL);
	ck_assert(input(&m));
	msg(&m, 3, 1, 7, "fd00::1000");
	c6_fqdn(&m, 1, "laptop");
	ck_assert(!input(&m)); /* held for the fsync */
	ck_assert_uint_eq(batches, 1);
	ck_assert_ptr_null(pub("fd00::1000"));
	d6_srv_flush(srv);
	ck_assert_uint_eq(nsent, 2);
	ck_assert(r6_parse(last, last_len, &r));
	ck_assert_uint_eq(r.type, 7);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1000");
	ck_assert_int_eq(r.ia[0].status, -1);
	ck_assert_uint_eq(d6_srv_bound(srv), 1);
	/* RFC 4704: S set, the full name. */
	ck_assert(r.has_fqdn);
	ck_assert_uint_eq(r.fqdn[0], 1);
	ck_assert_mem_eq(r.fqdn + 1, "\6laptop\3lab\4test\0", 17);
	ck_assert_ptr_nonnull(pub("fd00::1000"));
	ck_assert_str_eq(pub("fd00::1000"),
			 "duid=00030001020000000001 iaid=7 expires=1700007200 "
			 "hostname=laptop");
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "L fd00::1000 1700007200 "
				  "0003000102000000000100000007 laptop ", 60) == 0)
			found = true;
	fclose(f);
	ck_assert(found);
	ck_assert_uint_eq(count(C6_FSYNC), 1);
}
END_TEST

START_TEST(test_rapid_commit_only_when_allowed)
{
	struct c6 m;

	msg(&m, 1, 1, 1, NULL);
	c6_opt(&m, 14, NULL, 0);
	ck_assert(input(&m));
	ck_assert_uint_eq(r.type, 2); /* not allowed: an Advertise */
	ck_assert(!r.rapid);
	d6_srv_free(srv);
	cfg.rapid_commit = true;
	start();
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.type, 7);
	ck_assert(r.rapid);
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_uint_eq(d6_srv_bound(srv), 1);
	ck_assert_uint_eq(count(C6_RAPID_COMMIT), 1);
}
END_TEST

START_TEST(test_two_ias_two_addresses)
{
	struct c6 m;

	msg(&m, 3, 1, 1, NULL);
	c6_ia_na(&m, 2, NULL);
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.nia, 2);
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_uint_eq(r.ia[1].naddr, 1);
	ck_assert(!tapir_addr_eq(&r.ia[0].addr[0], &r.ia[1].addr[0]));
	ck_assert_uint_eq(d6_srv_bound(srv), 2);
}
END_TEST

START_TEST(test_exhausted_pool_says_no_addrs_avail)
{
	struct c6 m;

	for (uint8_t id = 1; id <= 16; id++)
		bind_one(id, 1);
	ck_assert_uint_eq(d6_srv_bound(srv), 16);
	msg(&m, 3, 17, 1, NULL);
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.ia[0].naddr, 0);
	ck_assert_int_eq(r.ia[0].status, 2);
	ck_assert_int_eq(r.status, 2);
	msg(&m, 1, 17, 1, NULL);
	ck_assert(input(&m));
	ck_assert_uint_eq(r.type, 2);
	ck_assert_int_eq(r.ia[0].status, 2);
	ck_assert_uint_eq(count(C6_NO_ADDRS), 2);
	/* The reserved address is never given to another. */
	ck_assert_ptr_null(pub("fd00::50"));
}
END_TEST

START_TEST(test_solicit_flood_reserves_nothing)
{
	struct c6 m;

	for (unsigned k = 0; k < 5000; k++) {
		uint8_t duid[18] = {0, 4};

		for (unsigned q = 2; q < 18; q++)
			duid[q] = (uint8_t)(k >> (q % 3 * 8)) ^ (uint8_t)q;
		c6_begin(&m, 1, k);
		c6_opt(&m, 1, duid, sizeof(duid));
		c6_ia_na(&m, 1, NULL);
		ck_assert(input(&m));
		ck_assert_uint_eq(r.ia[0].naddr, 1);
	}
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	ck_assert_uint_eq(batches, 0);
	/* A real client still gets an address. */
	bind_one(1, 1);
	ck_assert_uint_eq(d6_srv_bound(srv), 1);
}
END_TEST

START_TEST(test_max_leases)
{
	struct c6 m;

	d6_srv_free(srv);
	cfg.max_leases = 2;
	start();
	bind_one(1, 1);
	bind_one(2, 1);
	msg(&m, 3, 3, 1, NULL);
	ck_assert(input_flush(&m));
	ck_assert_int_eq(r.ia[0].status, 2);
	/* A bound client still renews. */
	msg(&m, 5, 1, 1, "fd00::1000");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.ia[0].naddr, 1);
}
END_TEST

/* ---- Renew, Rebind, Confirm, Release, Decline -------------------------------- */

START_TEST(test_renew_extends_and_unknown_is_no_binding)
{
	struct c6 m;
	const char *a = bind_one(1, 1);

	ck_assert_str_eq(a, "fd00::1000");
	clock_s += 1000;
	msg(&m, 5, 1, 1, "fd00::1000");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.type, 7);
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_uint_eq(r.ia[0].valid[0], 7200);
	ck_assert_ptr_nonnull(strstr(pub("fd00::1000"), "expires=1700008200"));
	/* Another IA of the client, with an address someone else has:
	 * NoBinding. */
	bind_one(2, 1);
	msg(&m, 5, 1, 9, "fd00::1001");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.ia[0].naddr, 0);
	ck_assert_int_eq(r.ia[0].status, 3);
	ck_assert_uint_eq(count(C6_NO_BINDING), 1);
}
END_TEST

START_TEST(test_rebind)
{
	struct c6 m;

	bind_one(1, 1);
	msg(&m, 6, 1, 1, "fd00::1000");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_uint_eq(r.ia[0].valid[0], 7200);
	/* An address from another link: lifetimes 0. */
	msg(&m, 6, 5, 1, "2001:db8::9");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "2001:db8::9");
	ck_assert_uint_eq(r.ia[0].valid[0], 0);
	ck_assert_uint_eq(r.ia[0].pref[0], 0);
	ck_assert_uint_eq(count(C6_NOT_ON_LINK), 1);
	/* A free address of ours the client still has is bound again (it
	 * was ours before a restart that lost nothing but this client). */
	msg(&m, 6, 6, 1, "fd00::1009");
	ck_assert(input_flush(&m));
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1009");
	ck_assert_uint_eq(r.ia[0].valid[0], 7200);
	ck_assert_uint_eq(d6_srv_bound(srv), 2);
}
END_TEST

START_TEST(test_confirm)
{
	struct c6 m;

	msg(&m, 4, 1, 1, "fd00::1234");
	ck_assert(input(&m));
	ck_assert_int_eq(r.status, 0);
	msg(&m, 4, 1, 1, "fd00::1234");
	c6_ia_na(&m, 2, "2001:db8::1");
	ck_assert(input(&m));
	ck_assert_int_eq(r.status, 4);
	ck_assert_uint_eq(count(C6_NOT_ON_LINK), 1);
}
END_TEST

START_TEST(test_release_frees_and_unpublishes)
{
	struct c6 m;

	bind_one(1, 1);
	ck_assert_ptr_nonnull(pub("fd00::1000"));
	/* Another client cannot release it. */
	msg(&m, 8, 2, 1, "fd00::1000");
	ck_assert(input_flush(&m));
	ck_assert_int_eq(r.ia[0].status, 3);
	ck_assert_uint_eq(d6_srv_bound(srv), 1);
	msg(&m, 8, 1, 1, "fd00::1000");
	ck_assert(!input(&m)); /* behind the journal */
	d6_srv_flush(srv);
	ck_assert(r6_parse(last, last_len, &r));
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.nia, 0);
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	ck_assert_ptr_null(pub("fd00::1000"));
	/* It remembers the client: the same address again. */
	ck_assert_str_eq(bind_one(1, 1), "fd00::1000");
}
END_TEST

START_TEST(test_decline_rests_the_address)
{
	struct c6 m;

	bind_one(1, 1);
	msg(&m, 9, 1, 1, "fd00::1000");
	ck_assert(input_flush(&m));
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	/* Sixteen addresses, one resting: fifteen clients fill the pool
	 * and the next finds none. */
	for (uint8_t id = 2; id <= 16; id++)
		ck_assert_str_ne(bind_one(id, 1), "fd00::1000");
	msg(&m, 3, 17, 1, NULL);
	ck_assert(input_flush(&m));
	ck_assert_int_eq(r.ia[0].status, 2);
	/* After decline_time it is given again. */
	clock_s += 601;
	d6_srv_tick(srv);
	ck_assert_str_eq(bind_one(17, 1), "fd00::1000");
}
END_TEST

START_TEST(test_expiry_frees_and_unpublishes)
{
	bind_one(1, 1);
	clock_s += 7199;
	d6_srv_tick(srv);
	ck_assert_uint_eq(d6_srv_bound(srv), 1);
	clock_s += 1;
	d6_srv_tick(srv);
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	ck_assert_ptr_null(pub("fd00::1000"));
	ck_assert_uint_eq(count(C6_EXPIRED), 1);
}
END_TEST

/* ---- reservations, names ----------------------------------------------------- */

START_TEST(test_reservation_by_duid)
{
	struct c6 m;

	ck_assert_str_eq(bind_one(0x50, 3), "fd00::50");
	ck_assert_ptr_nonnull(strstr(pub("fd00::50"), "hostname=fixed6"));
	/* Another client asking for it gets a pool address. */
	msg(&m, 3, 2, 1, "fd00::50");
	ck_assert(input_flush(&m));
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1000");
	/* And may not take the reserved name. */
	msg(&m, 3, 3, 1, NULL);
	c6_fqdn(&m, 1, "fixed6");
	ck_assert(input_flush(&m));
	ck_assert_ptr_null(strstr(pub(r6_addr(&r.ia[0].addr[0])), "hostname"));
}
END_TEST

START_TEST(test_fqdn_flags)
{
	struct c6 m;

	/* S clear: we update anyway, and say so with O. */
	msg(&m, 3, 1, 1, NULL);
	c6_fqdn(&m, 0, "pc");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.fqdn[0], 3);
	ck_assert_ptr_nonnull(strstr(pub("fd00::1000"), "hostname=pc"));
	/* N: no name published, N in the answer. */
	msg(&m, 3, 2, 1, NULL);
	c6_fqdn(&m, 4, "quiet");
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.fqdn[0], 4);
	ck_assert_ptr_null(strstr(pub("fd00::1001"), "hostname"));
}
END_TEST

/* ---- the journal ------------------------------------------------------------- */

START_TEST(test_journal_replay)
{
	struct c6 m;
	FILE *f;

	bind_one(1, 1);
	bind_one(2, 1);
	bind_one(3, 1);
	msg(&m, 8, 2, 1, "fd00::1001");
	ck_assert(input_flush(&m));
	d6_srv_free(srv);
	/* A torn last record and a corrupt one: both ignored. */
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("L fd00::1005 1700007200 00030001020000000009 - deadbeef\n", f);
	fputs("L fd00::1006 1700007200 0003000102000000", f);
	fclose(f);
	npub = 0;
	start();
	ck_assert_uint_eq(d6_srv_bound(srv), 2);
	ck_assert_ptr_nonnull(pub("fd00::1000"));
	ck_assert_ptr_nonnull(pub("fd00::1002"));
	ck_assert_ptr_null(pub("fd00::1001"));
	ck_assert_ptr_null(pub("fd00::1005"));
	/* The clients renew the same addresses. */
	msg(&m, 5, 3, 1, "fd00::1002");
	ck_assert(input_flush(&m));
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1002");
	ck_assert_uint_eq(r.ia[0].valid[0], 7200);
	/* An expired lease is not bound after a restart. */
	d6_srv_free(srv);
	clock_s += 7300;
	npub = 0;
	start();
	ck_assert_uint_eq(d6_srv_bound(srv), 0);
	ck_assert_uint_eq(npub, 0);
}
END_TEST

START_TEST(test_journal_record_format)
{
	struct j6rec a = {.kind = 'L', .time = 1700000000, .keylen = 14}, b;
	char line[J6_LINE_MAX];
	size_t n;

	tapir_addr_parse("fd00::1:2", &a.addr);
	for (unsigned i = 0; i < 14; i++)
		a.key[i] = (uint8_t)i;
	strcpy(a.host, "h1");
	n = j6rec_format(&a, line);
	ck_assert_uint_gt(n, 10);
	ck_assert_int_eq(line[n - 1], '\n');
	ck_assert(j6rec_parse(line, n - 1, &b));
	ck_assert(tapir_addr_eq(&a.addr, &b.addr));
	ck_assert_uint_eq(b.keylen, 14);
	ck_assert_mem_eq(a.key, b.key, 14);
	ck_assert_str_eq(b.host, "h1");
	/* One flipped byte: the CRC says no. */
	line[3] ^= 1;
	ck_assert(!j6rec_parse(line, n - 1, &b));
	/* An IPv4 address is not a DHCPv6 lease. */
	a.addr = tapir_addr_from_v4(0x0a000001);
	n = j6rec_format(&a, line);
	ck_assert(!j6rec_parse(line, n - 1, &b));
}
END_TEST

START_TEST(test_journal_compacted)
{
	struct c6 m;
	FILE *f;
	int lines = 0, ch;

	bind_one(1, 1);
	for (unsigned k = 0; k < 3000; k++) {
		msg(&m, 5, 1, 1, "fd00::1000");
		ck_assert(input_flush(&m));
	}
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while ((ch = fgetc(f)) != EOF)
		lines += ch == '\n';
	fclose(f);
	/* Rewritten once it held over 1024 records: far from 3001. */
	ck_assert_int_lt(lines, 1100);
	ck_assert_uint_eq(d6_srv_bound(srv), 1);
}
END_TEST

/* ---- a lease file that cannot be written ---------------------------------- */

/* Faults for the journal's write and sync (errno, 0: none).  A failing
 * write first writes half of what it is given. */
static int fault_err;
static bool fault_sync, fault_half_done;

static ssize_t fault_write(int fd, const void *buf, size_t len)
{
	if (fault_err && !fault_sync) {
		if (!fault_half_done && len > 1) {
			fault_half_done = true;
			return write(fd, buf, len / 2);
		}
		errno = fault_err;
		return -1;
	}
	return write(fd, buf, len);
}

static int fault_fsync(int fd)
{
	if (fault_err && fault_sync) {
		errno = fault_err;
		return -1;
	}
	return fdatasync(fd);
}

static off_t file_size(void)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

START_TEST(test_enospc_no_reply_then_recovers)
{
	struct c6 m;
	off_t size = file_size();
	FILE *f;
	char line[600];
	bool found = false;

	nlogs = 0;
	fault_err = ENOSPC;
	fault_sync = fault_half_done = false;
	lj_set_io(fault_write, fault_fsync);
	/* Full: the Request gets no Reply, nothing is published, the half
	 * batch is cut back, one line says why. */
	msg(&m, 3, 1, 7, NULL);
	ck_assert(!input_flush(&m));
	ck_assert_uint_eq(count(C6_REPLY), 0);
	ck_assert_uint_eq(count(C6_JOURNAL_ERR), 1);
	ck_assert_uint_eq(count(C6_UNWRITTEN), 1);
	ck_assert_ptr_null(pub("fd00::1000"));
	ck_assert(fault_half_done);
	ck_assert_int_eq(file_size(), size);
	ck_assert_uint_eq(nlogs, 1);
	ck_assert_int_eq(logprio[0], 3);
	ck_assert_ptr_nonnull(strstr(logs[0], path));
	ck_assert_ptr_nonnull(strstr(logs[0], strerror(ENOSPC)));
	ck_assert_ptr_nonnull(strstr(logs[0], "leases are not granted"));
	/* Retransmissions and another client: no Reply, no new line. */
	ck_assert(!input_flush(&m));
	msg(&m, 3, 2, 7, NULL);
	ck_assert(!input_flush(&m));
	ck_assert_uint_eq(count(C6_UNWRITTEN), 3);
	ck_assert_uint_eq(nlogs, 1);
	/* A sync that fails is no better. */
	fault_err = EIO;
	fault_sync = true;
	msg(&m, 3, 1, 7, NULL);
	ck_assert(!input_flush(&m));
	ck_assert_uint_eq(count(C6_UNWRITTEN), 4);
	ck_assert_uint_eq(nlogs, 1);
	/* Space again: the next Request is written and answered. */
	fault_err = 0;
	ck_assert(input_flush(&m));
	ck_assert_uint_eq(r.type, 7);
	ck_assert_uint_eq(r.ia[0].naddr, 1);
	ck_assert_str_eq(r6_addr(&r.ia[0].addr[0]), "fd00::1000");
	ck_assert_ptr_nonnull(pub("fd00::1000"));
	ck_assert_uint_eq(nlogs, 2);
	ck_assert_int_eq(logprio[1], 5);
	ck_assert_ptr_nonnull(strstr(logs[1], "written again"));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "L fd00::1000 ", 13) == 0)
			found = true;
	fclose(f);
	ck_assert(found);
	/* A restart finds it. */
	d6_srv_free(srv);
	srv = NULL;
	npub = 0;
	start();
	ck_assert_ptr_nonnull(pub("fd00::1000"));
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("dhcp6");
	TCase *tp = tcase_create("parse");
	TCase *tx = tcase_create("exchanges");
	TCase *tj = tcase_create("journal");

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_checked_fixture(tx, setup, teardown);
	tcase_add_checked_fixture(tj, setup, teardown);
	tcase_add_test(tp, test_parse_rejects_malformed);
	tcase_add_test(tp, test_parse_reads_options);
	tcase_add_test(tp, test_validation_drops_and_counts);
	tcase_add_test(tp, test_unicast_request_gets_use_multicast);
	tcase_add_test(tx, test_information_request_honours_oro);
	tcase_add_test(tx, test_solicit_advertises_without_binding);
	tcase_add_test(tx, test_request_replies_after_journal_and_publishes);
	tcase_add_test(tx, test_rapid_commit_only_when_allowed);
	tcase_add_test(tx, test_two_ias_two_addresses);
	tcase_add_test(tx, test_exhausted_pool_says_no_addrs_avail);
	tcase_add_test(tx, test_solicit_flood_reserves_nothing);
	tcase_add_test(tx, test_max_leases);
	tcase_add_test(tx, test_renew_extends_and_unknown_is_no_binding);
	tcase_add_test(tx, test_rebind);
	tcase_add_test(tx, test_confirm);
	tcase_add_test(tx, test_release_frees_and_unpublishes);
	tcase_add_test(tx, test_decline_rests_the_address);
	tcase_add_test(tx, test_expiry_frees_and_unpublishes);
	tcase_add_test(tx, test_reservation_by_duid);
	tcase_add_test(tx, test_fqdn_flags);
	tcase_add_test(tj, test_journal_replay);
	tcase_add_test(tj, test_journal_record_format);
	tcase_add_test(tj, test_journal_compacted);
	tcase_add_test(tj, test_enospc_no_reply_then_recovers);
	suite_add_tcase(su, tp);
	suite_add_tcase(su, tx);
	suite_add_tcase(su, tj);
	return su;
}

int main(void)
{
	return th_run(suite());
}
