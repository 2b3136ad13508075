/*
 * The dhcp module's server, wire format and journal (src/modules/dhcp):
 * wire round trips, one test per RFC 2131 rule the server follows, each
 * malformed message shape, and the journal's durability rules (ACK only
 * after the batch's fsync, a torn last record ignored on load).
 *
 * The server runs against a fake environment: a clock the test sets, a
 * send() that records every reply, and publish/unpublish that keep the
 * "dhcp.lease" entries in a small table.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dhcp_journal.h"
#include "dhcp_srv.h"
#include "dhcp_wire.h"

#define SERVER 0x0a000002u /* 10.0.0.2 */
#define POOL_FIRST 0x0a000064u /* 10.0.0.100 */
#define POOL_LAST 0x0a000066u  /* 10.0.0.102: three addresses */
#define RES_ADDR 0x0a000032u   /* 10.0.0.50 */
#define BCAST 0xffffffffu

/* ---- fake environment --------------------------------------------------- */

struct sent {
	uint32_t ip;
	uint16_t port;
	bool has_mac;
	uint8_t mac[6];
	struct dhcp_msg m;
	size_t len;
	uint8_t raw[1500];
};

#define MAX_SENT 64
static struct sent sent[MAX_SENT];
static unsigned nsent;
static int64_t clock_s;
static unsigned batch_opens;

struct pub {
	char key[32];
	char val[256];
	bool live;
};
#define MAX_PUB 32
static struct pub pubs[MAX_PUB];

static char dir[256], lease_path[300];

static int64_t f_now(void *arg)
{
	(void)arg;
	return clock_s;
}

static void f_send(void *arg, uint32_t ip, uint16_t port, const uint8_t *mac,
		   const uint8_t *data, size_t len)
{
	struct sent *s;

	(void)arg;
	ck_assert_uint_lt(nsent, MAX_SENT);
	s = &sent[nsent++];
	s->ip = ip;
	s->port = port;
	s->has_mac = mac != NULL;
	if (mac)
		memcpy(s->mac, mac, 6);
	s->len = len;
	ck_assert_uint_le(len, sizeof(s->raw));
	memcpy(s->raw, data, len);
	/* Every reply must itself be a well-formed message. */
	ck_assert_int_eq(dhcp_parse(data, len, &s->m), DHCP_OK);
	ck_assert_uint_ge(len, DHCP_REPLY_MIN);
}

static struct pub *pub_find(const char *key)
{
	for (int i = 0; i < MAX_PUB; i++)
		if (pubs[i].live && strcmp(pubs[i].key, key) == 0)
			return &pubs[i];
	return NULL;
}

static void f_publish(void *arg, const char *key, const char *val)
{
	struct pub *p = pub_find(key);

	(void)arg;
	for (int i = 0; !p && i < MAX_PUB; i++)
		if (!pubs[i].live)
			p = &pubs[i];
	ck_assert_ptr_nonnull(p);
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->val, sizeof(p->val), "%s", val);
	p->live = true;
}

static void f_unpublish(void *arg, const char *key)
{
	struct pub *p = pub_find(key);

	(void)arg;
	if (p)
		p->live = false;
}

static void f_batch(void *arg)
{
	(void)arg;
	batch_opens++;
}

static int randoms;

static int f_random(void *arg, void *buf, size_t len)
{
	(void)arg;
	randoms++;
	memset(buf, 0x5a, len);
	return 0;
}

/* A fake ping: each request is kept until the test answers it. */
struct fping {
	bool live;
	uint32_t ip;
	unsigned timeout;
	void (*done)(void *ctx, int result);
	void *ctx;
};
#define MAX_FPING 16
static struct fping fpings[MAX_FPING];
static unsigned nfping, fcancels;
static bool fping_fail;

static void *f_ping(void *arg, uint32_t ip, unsigned timeout,
		    void (*done)(void *ctx, int result), void *ctx)
{
	struct fping *p;

	(void)arg;
	if (fping_fail)
		return NULL;
	ck_assert_uint_lt(nfping, MAX_FPING);
	p = &fpings[nfping++];
	*p = (struct fping){true, ip, timeout, done, ctx};
	return p;
}

static void f_ping_cancel(void *arg, void *h)
{
	struct fping *p = h;

	(void)arg;
	ck_assert(p->live);
	p->live = false;
	fcancels++;
}

/* The test's answer to ping k: 1 answered, 0 not. */
static void ping_answer(unsigned k, int result)
{
	ck_assert_uint_lt(k, nfping);
	ck_assert(fpings[k].live);
	fpings[k].live = false;
	fpings[k].done(fpings[k].ctx, result);
}

static const struct dhcp_env env = {
	.now = f_now,
	.random = f_random,
	.server_ip = SERVER,
	.prefix = 24,
	.reply_max = 1472,
	.send = f_send,
	.publish = f_publish,
	.unpublish = f_unpublish,
	.batch_open = f_batch,
};

static struct dhcp_cfg cfg;
static struct dhcp_srv *srv;

static void cfg_lab(void)
{
	dhcp_cfg_default(&cfg);
	cfg.range[0] = (struct dhcp_range){POOL_FIRST, POOL_LAST};
	cfg.nranges = 1;
	cfg.lease_time = 3600;
	cfg.router[0] = 0x0a000001;
	cfg.nrouters = 1;
	cfg.dns[0] = SERVER;
	cfg.ndns = 1;
	strcpy(cfg.domain, "lab.test");
	cfg.res = calloc(2, sizeof(*cfg.res));
	ck_assert_ptr_nonnull(cfg.res);
	cfg.res[0] = (struct dhcp_res){.by_mac = true,
				       .mac = {2, 0, 0, 0, 0, 0x99},
				       .addr = RES_ADDR};
	strcpy(cfg.res[0].host, "fixed");
	cfg.res[1] = (struct dhcp_res){.by_mac = false,
				       .idlen = 3,
				       .id = {0xff, 1, 2},
				       .addr = 0x0a000033};
	cfg.nres = 2;
	cfg.opts = calloc(1, sizeof(*cfg.opts));
	ck_assert_ptr_nonnull(cfg.opts);
	cfg.opts[0] = (struct dhcp_optval){.code = 42, .len = 4,
					   .data = {10, 0, 0, 9}};
	cfg.nopts = 1;
	snprintf(cfg.lease_file, sizeof(cfg.lease_file), "%s", lease_path);
}

static const struct dhcp_env *cur_env = &env;

static void start(void)
{
	char err[256] = "";

	randoms = 0;
	srv = dhcp_srv_new(&cfg, cur_env, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	ck_assert_int_eq(randoms, 1); /* its hash key, from the host */
	dhcp_srv_publish_all(srv);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tapir-dhcp-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(lease_path, sizeof(lease_path), "%s/leases", dir);
	nsent = 0;
	batch_opens = 0;
	nfping = fcancels = 0;
	fping_fail = false;
	cur_env = &env;
	clock_s = 1700000000;
	memset(pubs, 0, sizeof(pubs));
	cfg_lab();
	start();
}

static void teardown(void)
{
	char tmp[320];

	lj_set_io(NULL, NULL);
	dhcp_srv_free(srv);
	dhcp_cfg_free(&cfg);
	unlink(lease_path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", lease_path);
	unlink(tmp);
	rmdir(dir);
}

/* ---- client messages ---------------------------------------------------- */

struct msgb {
	uint8_t b[DHCP_MSG_MAX + 64];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void mb_start(struct msgb *m, uint8_t type, uint8_t macid,
		     uint32_t ciaddr)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = BOOTREQUEST;
	m->b[1] = 1;
	m->b[2] = 6;
	put32(m->b + 4, 0x1000u + macid);
	put32(m->b + 12, ciaddr);
	m->b[28] = 2;
	m->b[33] = macid;
	put32(m->b + 236, DHCP_MAGIC);
	m->len = DHCP_MIN_LEN;
	m->b[m->len++] = OPT_MSG_TYPE;
	m->b[m->len++] = 1;
	m->b[m->len++] = type;
}

static void mb_opt(struct msgb *m, uint8_t code, const void *d, size_t len)
{
	m->b[m->len++] = code;
	m->b[m->len++] = (uint8_t)len;
	memcpy(m->b + m->len, d, len);
	m->len += len;
}

static void mb_ip(struct msgb *m, uint8_t code, uint32_t a)
{
	uint8_t b[4];

	put32(b, a);
	mb_opt(m, code, b, 4);
}

static void mb_end(struct msgb *m)
{
	m->b[m->len++] = OPT_END;
}

static void input(struct msgb *m)
{
	dhcp_srv_input(srv, 0, 68, m->b, m->len);
}

static uint32_t opt32(const struct dhcp_msg *m, uint8_t code)
{
	uint32_t v = 0;

	ck_assert_msg(dhcp_opt_u32(m, code, &v), "option %u missing", code);
	return v;
}

static uint8_t msg_type(const struct sent *s)
{
	uint8_t t = 0;

	ck_assert(dhcp_opt_u8(&s->m, OPT_MSG_TYPE, &t));
	return t;
}

/* DISCOVER from client macid; returns the offered address (0: none). */
static uint32_t discover(uint8_t macid)
{
	struct msgb m;

	nsent = 0;
	mb_start(&m, DHCPDISCOVER, macid, 0);
	mb_end(&m);
	input(&m);
	if (!nsent)
		return 0;
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPOFFER);
	return sent[0].m.yiaddr;
}

/* SELECTING REQUEST for addr; flushes the batch; returns the reply type
 * (0: none). */
static uint8_t select_req(uint8_t macid, uint32_t addr, uint32_t sid)
{
	struct msgb m;

	nsent = 0;
	mb_start(&m, DHCPREQUEST, macid, 0);
	mb_ip(&m, OPT_SERVER_ID, sid);
	mb_ip(&m, OPT_REQUESTED_IP, addr);
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	return nsent ? msg_type(&sent[nsent - 1]) : 0;
}

static uint32_t lease(uint8_t macid)
{
	uint32_t a = discover(macid);

	ck_assert_uint_ne(a, 0);
	ck_assert_uint_eq(select_req(macid, a, SERVER), DHCPACK);
	return a;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	return buf;
}

/* ---- wire --------------------------------------------------------------- */

START_TEST(test_wire_round_trip)
{
	static struct dhcp_msg req, got;
	uint8_t buf[1472], big[600];
	struct dhcp_out o;
	struct msgb m;
	const uint8_t *p;
	size_t len, n;

	mb_start(&m, DHCPREQUEST, 7, 0x0a000064);
	m.b[10] = 0x80; /* broadcast flag */
	put32(m.b + 24, 0x0a010101);
	mb_opt(&m, OPT_HOSTNAME, "Host", 4);
	mb_end(&m);
	ck_assert_int_eq(dhcp_parse(m.b, m.len, &req), DHCP_OK);
	ck_assert_uint_eq(req.op, BOOTREQUEST);
	ck_assert_uint_eq(req.xid, 0x1007);
	ck_assert_uint_eq(req.flags, DHCP_FLAG_BROADCAST);
	ck_assert_uint_eq(req.ciaddr, 0x0a000064);
	ck_assert_uint_eq(req.giaddr, 0x0a010101);
	ck_assert_uint_eq(req.chaddr[5], 7);
	p = dhcp_opt(&req, OPT_HOSTNAME, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(p, "Host", 4);
	ck_assert_ptr_null(dhcp_opt(&req, OPT_DOMAIN, NULL));

	/* A reply with a 600-byte option: split in three, rejoined. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	dhcp_out_start(&o, buf, sizeof(buf), &req, DHCPACK, 1, 2, 3);
	ck_assert(dhcp_out_u32(&o, OPT_LEASE_TIME, 3600));
	ck_assert(dhcp_out_opt(&o, 120, big, sizeof(big)));
	n = dhcp_out_finish(&o);
	ck_assert_int_eq(dhcp_parse(buf, n, &got), DHCP_OK);
	ck_assert_uint_eq(got.op, BOOTREPLY);
	ck_assert_uint_eq(got.xid, req.xid);
	ck_assert_uint_eq(got.flags, req.flags);
	ck_assert_uint_eq(got.ciaddr, 1);
	ck_assert_uint_eq(got.yiaddr, 2);
	ck_assert_uint_eq(got.siaddr, 3);
	ck_assert_uint_eq(got.giaddr, req.giaddr);
	ck_assert_mem_eq(got.chaddr, req.chaddr, 16);
	ck_assert_uint_eq(opt32(&got, OPT_LEASE_TIME), 3600);
	p = dhcp_opt(&got, 120, &len);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert_mem_eq(p, big, sizeof(big));
	/* An option that does not fit is left out whole. */
	dhcp_out_start(&o, buf, DHCP_REPLY_MIN, &req, DHCPACK, 0, 0, 0);
	ck_assert(!dhcp_out_opt(&o, 120, big, 100));
	ck_assert(o.overflow);
	n = dhcp_out_finish(&o);
	ck_assert_uint_eq(n, DHCP_REPLY_MIN);
	ck_assert_int_eq(dhcp_parse(buf, n, &got), DHCP_OK);
	ck_assert_ptr_null(dhcp_opt(&got, 120, NULL));
}
END_TEST

START_TEST(test_wire_overload_and_concatenation)
{
	static struct dhcp_msg got;
	struct msgb m;
	const uint8_t *p;
	size_t len;
	uint8_t ov = 3;

	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	mb_opt(&m, OPT_HOSTNAME, "ab", 2);
	mb_end(&m);
	/* file (108..235) carries more of option 12 and a domain; sname
	 * (44..107) the last part of 12. */
	m.b[108] = OPT_HOSTNAME;
	m.b[109] = 2;
	memcpy(m.b + 110, "cd", 2);
	m.b[112] = OPT_DOMAIN;
	m.b[113] = 1;
	m.b[114] = 'x';
	m.b[115] = OPT_END;
	m.b[44] = OPT_HOSTNAME;
	m.b[45] = 1;
	m.b[46] = 'e';
	m.b[47] = OPT_END;
	ck_assert_int_eq(dhcp_parse(m.b, m.len, &got), DHCP_OK);
	p = dhcp_opt(&got, OPT_HOSTNAME, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(p, "abcde", 5); /* options, file, sname (RFC 3396) */
	p = dhcp_opt(&got, OPT_DOMAIN, &len);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(p[0], 'x');
}
END_TEST

/* The most options a message can hold: every one of them empty (code and
 * length only), all over the options field and both overloaded fields.
 * Each is found, and an empty option is present with length 0. */
START_TEST(test_wire_most_options)
{
	static struct dhcp_msg got;
	static struct msgb m;
	uint8_t ov = 3;
	size_t len, n = 0;

	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	while (m.len + 2 < DHCP_MSG_MAX)
		mb_opt(&m, (uint8_t)(100 + n++ % 100), "", 0);
	mb_end(&m);
	ck_assert_uint_ge(m.len, DHCP_MSG_MAX - 1);
	ck_assert_uint_le(m.len, DHCP_MSG_MAX);
	for (size_t i = 0; i + 2 < 128; i += 2) /* file */
		m.b[108 + i] = 200;
	m.b[108 + 126] = OPT_END;
	for (size_t i = 0; i + 2 < 64; i += 2) /* sname */
		m.b[44 + i] = 201;
	m.b[44 + 62] = OPT_END;
	ck_assert_int_eq(dhcp_parse(m.b, m.len, &got), DHCP_OK);
	for (unsigned c = 100; c < 202; c++) {
		ck_assert_ptr_nonnull(dhcp_opt(&got, (uint8_t)c, &len));
		ck_assert_uint_eq(len, 0);
	}
	ck_assert_ptr_null(dhcp_opt(&got, 99, &len));
	/* One byte short of the END: the last option's length runs out. */
	m.len--;
	m.b[m.len - 1] = 150;
	ck_assert_int_eq(dhcp_parse(m.b, m.len, &got), DHCP_ERR_OPT_LEN);
}
END_TEST

/* ---- malformed messages ------------------------------------------------- */

static enum dhcp_err parse_of(struct msgb *m)
{
	static struct dhcp_msg got;

	return dhcp_parse(m->b, m->len, &got);
}

START_TEST(test_malformed_rejected)
{
	struct msgb m;
	uint8_t ov;

	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_end(&m);
	ck_assert_int_eq(parse_of(&m), DHCP_OK);
	/* Short: the fixed header without the cookie. */
	m.len = 239;
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_SHORT);
	/* Over DHCP_MSG_MAX. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	memset(m.b + m.len, OPT_PAD, DHCP_MSG_MAX + 1 - m.len);
	m.len = DHCP_MSG_MAX + 1;
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_LONG);
	/* No cookie. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_end(&m);
	m.b[236] = 0;
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_COOKIE);
	/* hlen > 16. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_end(&m);
	m.b[2] = 17;
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_HLEN);
	/* An option length past the end. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	m.b[m.len++] = OPT_HOSTNAME;
	m.b[m.len++] = 200;
	m.b[m.len++] = 'a';
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_OPT_LEN);
	/* A code with no length byte at the very end. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	m.b[m.len++] = OPT_HOSTNAME;
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_OPT_LEN);
	/* Missing END. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_HOSTNAME, "a", 1);
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_NO_END);
	/* Overload: bad value, twice, inside an overloaded field, and an
	 * overloaded field without END. */
	mb_start(&m, DHCPDISCOVER, 1, 0);
	ov = 4;
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	mb_end(&m);
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_OVERLOAD);
	mb_start(&m, DHCPDISCOVER, 1, 0);
	ov = 1;
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	mb_end(&m);
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_OVERLOAD);
	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	mb_end(&m);
	m.b[108] = OPT_OVERLOAD;
	m.b[109] = 1;
	m.b[110] = 2;
	m.b[111] = OPT_END;
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_OVERLOAD);
	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_OVERLOAD, &ov, 1);
	mb_end(&m);
	memset(m.b + 108, OPT_PAD, 128); /* file: padding, no END */
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_NO_END);
	m.b[108 + 127] = OPT_HOSTNAME; /* a code in the field's last byte */
	ck_assert_int_eq(parse_of(&m), DHCP_ERR_OPT_LEN);
}
END_TEST

START_TEST(test_huge_and_repeated_options)
{
	static struct dhcp_msg got;
	struct msgb m;
	uint8_t blob[255];
	size_t len;

	/* Fourteen 255-byte copies of option 12: concatenated into one value
	 * bounded by the message, which is not a valid host name. */
	memset(blob, 'a', sizeof(blob));
	mb_start(&m, DHCPDISCOVER, 1, 0);
	for (int i = 0; i < 14; i++)
		mb_opt(&m, OPT_HOSTNAME, blob, sizeof(blob));
	mb_end(&m);
	ck_assert_uint_le(m.len, DHCP_MSG_MAX);
	ck_assert_int_eq(dhcp_parse(m.b, m.len, &got), DHCP_OK);
	ck_assert_ptr_nonnull(dhcp_opt(&got, OPT_HOSTNAME, &len));
	ck_assert_uint_eq(len, 14 * 255);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1); /* still served, without a name */
	ck_assert_uint_eq(select_req(1, sent[0].m.yiaddr, SERVER), DHCPACK);
	ck_assert_ptr_null(strstr(pub_find("10.0.0.100")->val, "hostname"));
	/* A repeated message type (two bytes long together) is not a
	 * message type: ignored. */
	mb_start(&m, DHCPDISCOVER, 2, 0);
	mb_opt(&m, OPT_MSG_TYPE, (uint8_t[]){DHCPDISCOVER}, 1);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_IGNORED], 1);
	/* Malformed ones are counted and never answered. */
	mb_start(&m, DHCPDISCOVER, 3, 0);
	m.b[2] = 200;
	mb_end(&m);
	input(&m);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_BAD], 1);
}
END_TEST

/* ---- protocol rules ----------------------------------------------------- */

START_TEST(test_discover_offer_default_options)
{
	const struct dhcp_msg *o;
	const uint8_t *p;
	size_t len;

	ck_assert_uint_eq(discover(1), POOL_FIRST);
	o = &sent[0].m;
	ck_assert_uint_eq(opt32(o, OPT_SERVER_ID), SERVER);
	ck_assert_uint_eq(opt32(o, OPT_LEASE_TIME), 3600);
	ck_assert_uint_eq(opt32(o, OPT_T1), 1800);
	ck_assert_uint_eq(opt32(o, OPT_T2), 3150);
	ck_assert_uint_eq(opt32(o, OPT_SUBNET_MASK), 0xffffff00);
	ck_assert_uint_eq(opt32(o, OPT_ROUTER), 0x0a000001);
	ck_assert_uint_eq(opt32(o, OPT_DNS), SERVER);
	p = dhcp_opt(o, OPT_DOMAIN, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_mem_eq(p, "lab.test", 8);
	p = dhcp_opt(o, 42, &len); /* from the config's options */
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(p[3], 9);
	/* An offer is not a lease: nothing published, nothing journaled. */
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	ck_assert_uint_eq(batch_opens, 0);
}
END_TEST

START_TEST(test_configured_t1_t2)
{
	dhcp_srv_free(srv);
	cfg.t1 = 600;
	cfg.t2 = 1200;
	start();
	ck_assert_uint_ne(discover(1), 0);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_LEASE_TIME), 3600);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_T1), 600);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_T2), 1200);
}
END_TEST

START_TEST(test_requested_address_honoured_when_free)
{
	struct msgb m;

	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_ip(&m, OPT_REQUESTED_IP, POOL_LAST);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(sent[0].m.yiaddr, POOL_LAST);
	/* Taken (offered to client 1): another client asking for it gets
	 * a free one instead. */
	mb_start(&m, DHCPDISCOVER, 2, 0);
	mb_ip(&m, OPT_REQUESTED_IP, POOL_LAST);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(sent[0].m.yiaddr, POOL_FIRST);
	/* Outside the pool: ignored. */
	mb_start(&m, DHCPDISCOVER, 3, 0);
	mb_ip(&m, OPT_REQUESTED_IP, 0x0a0000c8);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(sent[0].m.yiaddr, POOL_FIRST + 1);
}
END_TEST

START_TEST(test_max_message_size_bounds_reply)
{
	struct msgb m;
	uint8_t max[2] = {0x02, 0x40}; /* 576 */
	uint8_t prl[] = {OPT_SUBNET_MASK, OPT_ROUTER, 42};

	/* A reply never exceeds the client's option 57 minus IP and UDP
	 * headers; options that do not fit are left out whole. */
	dhcp_srv_free(srv);
	cfg.opts[0].len = 255;
	memset(cfg.opts[0].data, 'x', 255);
	cfg.ndns = 1;
	start();
	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_MAX_SIZE, max, 2);
	mb_opt(&m, OPT_PARAM_LIST, prl, sizeof(prl));
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_le(sent[0].len, 576 - 28);
	ck_assert(dhcp_opt(&sent[0].m, OPT_ROUTER, NULL));
	ck_assert(dhcp_opt(&sent[0].m, 42, NULL)); /* 257 bytes still fit */
	max[0] = 0x01; /* 256, below the minimum 576: taken as 576 */
	mb_start(&m, DHCPDISCOVER, 2, 0);
	mb_opt(&m, OPT_MAX_SIZE, max, 2);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_le(sent[0].len, 576 - 28);
	ck_assert_uint_ge(sent[0].len, DHCP_REPLY_MIN);
}
END_TEST

START_TEST(test_parameter_request_list_honoured)
{
	struct msgb m;
	static const uint8_t prl[] = {OPT_ROUTER, OPT_SUBNET_MASK};

	mb_start(&m, DHCPDISCOVER, 1, 0);
	mb_opt(&m, OPT_PARAM_LIST, prl, sizeof(prl));
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert(dhcp_opt(&sent[0].m, OPT_ROUTER, NULL));
	ck_assert(dhcp_opt(&sent[0].m, OPT_SUBNET_MASK, NULL));
	ck_assert(!dhcp_opt(&sent[0].m, OPT_DNS, NULL));
	ck_assert(!dhcp_opt(&sent[0].m, OPT_DOMAIN, NULL));
	ck_assert(!dhcp_opt(&sent[0].m, 42, NULL));
	/* The lease's own options are always there. */
	ck_assert(dhcp_opt(&sent[0].m, OPT_LEASE_TIME, NULL));
	ck_assert(dhcp_opt(&sent[0].m, OPT_SERVER_ID, NULL));
	ck_assert(dhcp_opt(&sent[0].m, OPT_T1, NULL));
	ck_assert(dhcp_opt(&sent[0].m, OPT_T2, NULL));
}
END_TEST

START_TEST(test_stable_address_for_returning_client)
{
	uint32_t a1 = lease(1), a2 = lease(2);
	struct msgb m;

	ck_assert_uint_ne(a1, a2);
	/* Asking again: the same address. */
	ck_assert_uint_eq(discover(1), a1);
	/* Released, then back: still the same (free addresses never used
	 * go out before remembered ones). */
	mb_start(&m, DHCPRELEASE, 1, a1);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(discover(3), POOL_LAST);
	ck_assert_uint_eq(discover(1), a1);
}
END_TEST

START_TEST(test_reservation_by_mac_first)
{
	char key[] = "10.0.0.50";
	const uint8_t *p;
	size_t len;

	ck_assert_uint_eq(discover(0x99), RES_ADDR);
	p = dhcp_opt(&sent[0].m, OPT_HOSTNAME, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(p, "fixed", 5);
	ck_assert_uint_eq(select_req(0x99, RES_ADDR, SERVER), DHCPACK);
	ck_assert_ptr_nonnull(pub_find(key));
	ck_assert_str_eq(pub_find(key)->val,
			 "mac=02:00:00:00:00:99 expires=1700003600 "
			 "hostname=fixed");
	/* No one else gets it, even when asking for it by name. */
	ck_assert_uint_eq(select_req(1, RES_ADDR, SERVER), DHCPNAK);
}
END_TEST

START_TEST(test_reservation_by_client_id)
{
	struct msgb m;
	static const uint8_t id[] = {0xff, 1, 2};

	mb_start(&m, DHCPDISCOVER, 5, 0);
	mb_opt(&m, OPT_CLIENT_ID, id, sizeof(id));
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(sent[0].m.yiaddr, 0x0a000033);
	/* The same MAC without the identifier is another client. */
	ck_assert_uint_eq(discover(5), POOL_FIRST);
}
END_TEST

START_TEST(test_ack_only_after_fsync)
{
	uint32_t a = discover(1);
	struct msgb m;
	char *file;

	nsent = 0;
	mb_start(&m, DHCPREQUEST, 1, 0);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, a);
	mb_opt(&m, OPT_HOSTNAME, "Laptop", 6);
	mb_end(&m);
	input(&m);
	/* Bound in memory, but no ACK and nothing published before the
	 * journal is on disk. */
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(batch_opens, 1);
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	ck_assert_ptr_null(strstr(slurp(lease_path), "L 10.0.0.100"));
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	ck_assert_uint_eq(sent[0].m.yiaddr, a);
	file = slurp(lease_path);
	ck_assert_ptr_nonnull(strstr(file, "L 10.0.0.100 1700003600 "
					   "02:00:00:00:00:01 "));
	ck_assert_ptr_nonnull(strstr(file, " laptop "));
	ck_assert_str_eq(pub_find("10.0.0.100")->val,
			 "mac=02:00:00:00:00:01 expires=1700003600 "
			 "hostname=laptop");
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_FSYNC], 1);
}
END_TEST

START_TEST(test_batch_one_fsync_for_many)
{
	uint32_t a[3];
	struct msgb m;

	for (int i = 0; i < 3; i++)
		a[i] = discover((uint8_t)(10 + i));
	nsent = 0;
	for (int i = 0; i < 3; i++) {
		mb_start(&m, DHCPREQUEST, (uint8_t)(10 + i), 0);
		mb_ip(&m, OPT_SERVER_ID, SERVER);
		mb_ip(&m, OPT_REQUESTED_IP, a[i]);
		mb_end(&m);
		input(&m);
	}
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(batch_opens, 1);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_FSYNC], 1);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_ACK], 3);
	/* batch_max closes a batch early. */
	dhcp_srv_free(srv);
	cfg.batch_max = 2;
	start();
	nsent = 0;
	for (int i = 0; i < 3; i++) {
		mb_start(&m, DHCPREQUEST, (uint8_t)(10 + i), a[i]);
		mb_end(&m);
		input(&m); /* RENEWING */
	}
	ck_assert_uint_eq(nsent, 2); /* the first two, when the third came */
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_FSYNC], 1);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 3);
}
END_TEST

START_TEST(test_request_for_other_server)
{
	uint32_t a = discover(1);

	ck_assert_uint_eq(select_req(1, a, 0x0a000009), 0);
	/* Its offer is withdrawn: the address goes to the next client...
	 * after the never-used ones. */
	ck_assert_uint_eq(discover(2), POOL_FIRST + 1);
	ck_assert_uint_eq(discover(3), POOL_LAST);
	ck_assert_uint_eq(discover(4), a);
}
END_TEST

START_TEST(test_selecting_wrong_address_nak)
{
	uint32_t a = discover(1);

	ck_assert_uint_eq(select_req(1, a + 1, SERVER), DHCPNAK);
	ck_assert_uint_eq(sent[0].ip, BCAST);
	ck_assert_uint_eq(sent[0].m.yiaddr, 0);
	ck_assert(dhcp_opt(&sent[0].m, OPT_MESSAGE, NULL));
	ck_assert(!dhcp_opt(&sent[0].m, OPT_LEASE_TIME, NULL));
	ck_assert_uint_eq(select_req(1, a, SERVER), DHCPACK);
}
END_TEST

static uint8_t init_reboot(uint8_t macid, uint32_t addr)
{
	struct msgb m;

	nsent = 0;
	mb_start(&m, DHCPREQUEST, macid, 0);
	mb_ip(&m, OPT_REQUESTED_IP, addr);
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	return nsent ? msg_type(&sent[0]) : 0;
}

START_TEST(test_init_reboot)
{
	uint32_t a = lease(1);

	ck_assert_uint_eq(init_reboot(1, a), DHCPACK);
	ck_assert_uint_eq(sent[0].m.yiaddr, a);
	/* Wrong network. */
	ck_assert_uint_eq(init_reboot(1, 0xc0a80105), DHCPNAK);
	/* Not its address: another client's, or its own is another. */
	ck_assert_uint_eq(init_reboot(2, a), DHCPNAK);
	ck_assert_uint_eq(init_reboot(1, a + 1), DHCPNAK);
	/* No record of this client, a free address: silent (RFC 2131
	 * 4.3.2). */
	ck_assert_uint_eq(init_reboot(3, a + 1), 0);
}
END_TEST

START_TEST(test_renewing_and_rebinding)
{
	uint32_t a = lease(1);
	struct msgb m;

	clock_s += 1800;
	/* RENEWING: unicast, ciaddr set, no server id or requested IP. */
	nsent = 0;
	mb_start(&m, DHCPREQUEST, 1, a);
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	ck_assert_uint_eq(sent[0].ip, a); /* to ciaddr, resolved by ARP */
	ck_assert(!sent[0].has_mac);
	ck_assert_uint_eq(sent[0].m.ciaddr, a);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_LEASE_TIME), 3600);
	ck_assert_ptr_nonnull(strstr(pub_find("10.0.0.100")->val,
				     "expires=1700005400"));
	/* REBINDING: the same, broadcast. */
	clock_s += 3200;
	nsent = 0;
	mb_start(&m, DHCPREQUEST, 1, a);
	m.b[10] = 0x80;
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	/* Renewing someone else's address: NAK. */
	nsent = 0;
	mb_start(&m, DHCPREQUEST, 2, a);
	mb_end(&m);
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPNAK);
}
END_TEST

START_TEST(test_decline_quarantines)
{
	uint32_t a = lease(1), b;
	struct msgb m;

	mb_start(&m, DHCPDECLINE, 1, 0);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, a);
	mb_end(&m);
	nsent = 0;
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	ck_assert_ptr_nonnull(strstr(slurp(lease_path), "D 10.0.0.100 "));
	/* The client gets another address; the declined one rests. */
	b = discover(1);
	ck_assert_uint_ne(b, a);
	ck_assert_uint_ne(discover(2), a);
	/* Pool of 3, dry: a third client gets the oldest unanswered offer
	 * (client 1's), never the declined address. */
	ck_assert_uint_eq(discover(3), b);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_OFFER_REUSED], 1);
	clock_s += cfg.decline_time + 1;
	dhcp_srv_tick(srv);
	ck_assert_uint_eq(discover(4), a); /* rested, offered again */
}
END_TEST

START_TEST(test_discover_flood)
{
	uint32_t bound = lease(2), a;

	/* A flood of DISCOVERs from made-up clients, far more than the pool
	 * (3) holds: every free address is offered, then the oldest
	 * unanswered offers go round again... */
	for (unsigned id = 10; id < 250; id++)
		ck_assert_uint_ne(discover((uint8_t)id), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_NO_ADDRESS], 0);
	/* (client 0x99 among them has its reservation) */
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_OFFER_REUSED], 240 - 3);
	/* ...so a real client starting its DORA now gets its lease, and a
	 * bound lease is never taken back. */
	a = lease(1);
	ck_assert_uint_ne(a, bound);
	ck_assert_uint_eq(select_req(2, bound, SERVER), DHCPACK);
	/* The flooder whose offer went to client 1 is told so. */
	ck_assert_uint_eq(select_req(248, a, SERVER), DHCPNAK);
}
END_TEST

START_TEST(test_release)
{
	uint32_t a = lease(1);
	struct msgb m;

	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
	/* A release from another client is ignored. */
	mb_start(&m, DHCPRELEASE, 2, a);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_end(&m);
	input(&m);
	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
	mb_start(&m, DHCPRELEASE, 1, a);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_end(&m);
	nsent = 0;
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	ck_assert_ptr_nonnull(strstr(slurp(lease_path), "R 10.0.0.100 "));
	ck_assert_uint_eq(dhcp_srv_bound(srv), 0);
}
END_TEST

START_TEST(test_inform)
{
	struct msgb m;

	mb_start(&m, DHCPINFORM, 1, 0x0a000007);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1); /* at once: no lease, no journal */
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	ck_assert_uint_eq(sent[0].ip, 0x0a000007);
	ck_assert_uint_eq(sent[0].port, 68);
	ck_assert_uint_eq(sent[0].m.yiaddr, 0);
	ck_assert(!dhcp_opt(&sent[0].m, OPT_LEASE_TIME, NULL));
	ck_assert(!dhcp_opt(&sent[0].m, OPT_T1, NULL));
	ck_assert(dhcp_opt(&sent[0].m, OPT_ROUTER, NULL));
	ck_assert(dhcp_opt(&sent[0].m, OPT_DNS, NULL));
	ck_assert_uint_eq(dhcp_srv_bound(srv), 0);
	ck_assert_uint_eq(batch_opens, 0);
}
END_TEST

/* An INFORM with ciaddr from src_ip; true when it was answered. */
static bool inform_from(uint32_t ciaddr, uint32_t src_ip)
{
	struct msgb m;

	mb_start(&m, DHCPINFORM, 1, ciaddr);
	mb_end(&m);
	nsent = 0;
	dhcp_srv_input(srv, src_ip, 68, m.b, m.len);
	return nsent == 1;
}

START_TEST(test_inform_ciaddr_checked)
{
	/* ciaddr is the client's say-so: a reply goes only to a host of our
	 * subnet, or to the address the INFORM came from. */
	ck_assert(!inform_from(0xc0000201, 0)); /* 192.0.2.1 */
	ck_assert(!inform_from(0xc0000201, 0x0a000007));
	ck_assert(!inform_from(0x0a0000ff, 0)); /* our broadcast */
	ck_assert(!inform_from(0x0a000000, 0)); /* our network */
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_IGNORED], 4);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_ACK], 0);
	ck_assert(inform_from(0xc0000201, 0xc0000201));
	ck_assert_uint_eq(sent[0].ip, 0xc0000201);
	ck_assert(inform_from(0x0a000007, 0));
	ck_assert_uint_eq(sent[0].ip, 0x0a000007);
	/* No address at all: nowhere to answer. */
	ck_assert(!inform_from(0, 0));
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_IGNORED], 5);
}
END_TEST

START_TEST(test_reply_destinations)
{
	struct msgb m;

	/* No address yet, no broadcast flag: to the MAC, without ARP. */
	discover(1);
	ck_assert_uint_eq(sent[0].ip, POOL_FIRST);
	ck_assert_uint_eq(sent[0].port, 68);
	ck_assert(sent[0].has_mac);
	ck_assert_uint_eq(sent[0].mac[5], 1);
	/* Broadcast flag: broadcast. */
	mb_start(&m, DHCPDISCOVER, 2, 0);
	m.b[10] = 0x80;
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(sent[0].ip, BCAST);
	ck_assert(!sent[0].has_mac);
	ck_assert_uint_eq(sent[0].m.flags, DHCP_FLAG_BROADCAST);
	/* Not Ethernet: chaddr cannot be used, broadcast. */
	mb_start(&m, DHCPDISCOVER, 3, 0);
	m.b[1] = 6;
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(sent[0].ip, BCAST);
	/* Through a relay: to giaddr, port 67; a NAK with the broadcast
	 * bit set for the relay.  (The three offers above lapse first.) */
	clock_s += cfg.offer_time + 1;
	dhcp_srv_tick(srv);
	mb_start(&m, DHCPDISCOVER, 4, 0);
	put32(m.b + 24, 0x0a000005);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(sent[0].ip, 0x0a000005);
	ck_assert_uint_eq(sent[0].port, 67);
	ck_assert_uint_eq(sent[0].m.giaddr, 0x0a000005);
	mb_start(&m, DHCPREQUEST, 4, 0);
	put32(m.b + 24, 0x0a000005);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, 0x0a0000fe);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPNAK);
	ck_assert_uint_eq(sent[0].ip, 0x0a000005);
	ck_assert_uint_eq(sent[0].port, 67);
	ck_assert_uint_eq(sent[0].m.flags & DHCP_FLAG_BROADCAST,
			  DHCP_FLAG_BROADCAST);
	/* A relay on another subnet: its clients cannot use our pool. */
	mb_start(&m, DHCPDISCOVER, 6, 0);
	put32(m.b + 24, 0x0a010001);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 0);
}
END_TEST

START_TEST(test_lease_cap)
{
	dhcp_srv_free(srv);
	cfg.max_leases = 2;
	start();
	ck_assert_uint_ne(discover(1), 0);
	ck_assert_uint_ne(discover(2), 0);
	ck_assert_uint_eq(discover(3), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_NO_ADDRESS], 1);
	/* Offers lapse: room again. */
	clock_s += cfg.offer_time + 1;
	dhcp_srv_tick(srv);
	ck_assert_uint_ne(discover(3), 0);
}
END_TEST

START_TEST(test_expiry_unpublishes)
{
	uint32_t a = lease(1);

	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
	clock_s += 3599;
	dhcp_srv_tick(srv);
	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
	clock_s += 1;
	dhcp_srv_tick(srv);
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_EXPIRED], 1);
	ck_assert_uint_eq(dhcp_srv_bound(srv), 0);
	/* Its client still gets it back. */
	ck_assert_uint_eq(discover(1), a);
}
END_TEST

/* A SELECTING REQUEST for the offered address carrying host name name
 * (none when NULL); flushes the batch and checks the ACK. */
static uint32_t lease_named(uint8_t macid, const char *name)
{
	uint32_t a = discover(macid);
	struct msgb m;

	ck_assert_uint_ne(a, 0);
	nsent = 0;
	mb_start(&m, DHCPREQUEST, macid, 0);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, a);
	if (name)
		mb_opt(&m, OPT_HOSTNAME, name, strlen(name));
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	return a;
}

START_TEST(test_new_client_gets_no_old_hostname)
{
	uint32_t a = lease_named(1, "laptop");
	struct msgb m;
	char *file;

	/* A renewal without a name keeps the one the client gave. */
	mb_start(&m, DHCPREQUEST, 1, a);
	mb_end(&m);
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_ptr_nonnull(strstr(pub_find("10.0.0.100")->val,
				     "hostname=laptop"));
	/* The lease ends; the pool's other two go to clients 2 and 3, and
	 * the address passes to client 4, which sends no name. */
	clock_s += 3601;
	dhcp_srv_tick(srv);
	ck_assert_uint_ne(lease_named(2, NULL), a);
	ck_assert_uint_ne(lease_named(3, NULL), a);
	ck_assert_uint_eq(lease_named(4, NULL), a);
	ck_assert_str_eq(pub_find("10.0.0.100")->val,
			 "mac=02:00:00:00:00:04 expires=1700007201");
	file = slurp(lease_path);
	ck_assert_ptr_nonnull(strstr(file, "02:00:00:00:00:04"));
	ck_assert_ptr_null(strstr(strstr(file, "02:00:00:00:00:04"),
				  "laptop"));
}
END_TEST

START_TEST(test_reserved_hostname_not_taken)
{
	/* "fixed" is the reservation's for 02:00:00:00:00:99: another
	 * client that calls itself that (in any case) gets no name. */
	lease_named(1, "FIXED");
	ck_assert_str_eq(pub_find("10.0.0.100")->val,
			 "mac=02:00:00:00:00:01 expires=1700003600");
	ck_assert_ptr_null(strstr(slurp(lease_path), "fixed"));
	/* Any other name is its own. */
	lease_named(2, "fixed2");
	ck_assert_ptr_nonnull(strstr(pub_find("10.0.0.101")->val,
				     "hostname=fixed2"));
}
END_TEST

START_TEST(test_client_hostnames)
{
	static struct dhcp_msg m;
	struct msgb b;
	char out[64];
	static const uint8_t fqdn_wire[] = {0x05, 0, 0, 3, 'W', 'e', 'B', 3,
					    'l', 'a', 'b', 0};
	static const uint8_t fqdn_text[] = {0x01, 0, 0, 'P', 'c', '.', 'x'};

	mb_start(&b, DHCPREQUEST, 1, 0);
	mb_opt(&b, OPT_HOSTNAME, "Name.example", 12);
	mb_end(&b);
	ck_assert_int_eq(dhcp_parse(b.b, b.len, &m), DHCP_OK);
	ck_assert(dhcp_client_hostname(&m, out));
	ck_assert_str_eq(out, "name");
	/* Option 81 wins, in either encoding. */
	mb_start(&b, DHCPREQUEST, 1, 0);
	mb_opt(&b, OPT_HOSTNAME, "other", 5);
	mb_opt(&b, OPT_FQDN, fqdn_wire, sizeof(fqdn_wire));
	mb_end(&b);
	ck_assert_int_eq(dhcp_parse(b.b, b.len, &m), DHCP_OK);
	ck_assert(dhcp_client_hostname(&m, out));
	ck_assert_str_eq(out, "web");
	mb_start(&b, DHCPREQUEST, 1, 0);
	mb_opt(&b, OPT_FQDN, fqdn_text, sizeof(fqdn_text));
	mb_end(&b);
	ck_assert_int_eq(dhcp_parse(b.b, b.len, &m), DHCP_OK);
	ck_assert(dhcp_client_hostname(&m, out));
	ck_assert_str_eq(out, "pc");
	/* Not a label: rejected. */
	const char *badnames[] = {"-a", "a-", "a_b", "a b", ""};

	for (size_t i = 0; i < 5; i++) {
		mb_start(&b, DHCPREQUEST, 1, 0);
		mb_opt(&b, OPT_HOSTNAME, badnames[i], strlen(badnames[i]));
		mb_end(&b);
		ck_assert_int_eq(dhcp_parse(b.b, b.len, &m), DHCP_OK);
		ck_assert_msg(!dhcp_client_hostname(&m, out), "%s",
			      badnames[i]);
	}
	char longname[65];

	memset(longname, 'a', 64);
	longname[64] = 0;
	ck_assert(!dhcp_label_ok(longname, 64));
	ck_assert(dhcp_label_ok(longname, 63));
}
END_TEST

/* ---- the journal -------------------------------------------------------- */

START_TEST(test_restart_keeps_leases)
{
	uint32_t a = lease(1), b = lease(2);
	char before[256];

	ck_assert_uint_ne(a, b);
	snprintf(before, sizeof(before), "%s", pub_find("10.0.0.100")->val);
	dhcp_srv_free(srv);
	memset(pubs, 0, sizeof(pubs));
	clock_s += 10;
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 2);
	ck_assert_str_eq(pub_find("10.0.0.100")->val, before);
	ck_assert_ptr_nonnull(pub_find("10.0.0.101"));
	/* Answered the same. */
	ck_assert_uint_eq(init_reboot(1, a), DHCPACK);
	ck_assert_uint_eq(discover(2), b);
}
END_TEST

START_TEST(test_torn_last_record_ignored)
{
	struct jrec r = {.kind = 'L', .addr = POOL_FIRST + 2,
			 .time = 1700009999, .mac = {2, 0, 0, 0, 0, 7},
			 .keylen = 8, .key = {'H', 1, 2, 0, 0, 0, 0, 7}};
	char line[JREC_LINE_MAX], *file;
	size_t n;
	int fd;

	lease(1);
	dhcp_srv_free(srv);
	/* A crash in the middle of appending the next record. */
	n = jrec_format(&r, line);
	fd = open(lease_path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, line, n - 7), (ssize_t)(n - 7));
	close(fd);
	memset(pubs, 0, sizeof(pubs));
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 1);
	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
	ck_assert_ptr_null(pub_find("10.0.0.102"));
	/* The file was rewritten whole: no torn tail left to append to. */
	file = slurp(lease_path);
	ck_assert_ptr_null(strstr(file, "10.0.0.102"));
	ck_assert_uint_eq(file[strlen(file) - 1], '\n');
	/* The same record complete (the crash came later) is loaded. */
	dhcp_srv_free(srv);
	fd = open(lease_path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, line, n), (ssize_t)n);
	close(fd);
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 2);
	ck_assert_ptr_nonnull(pub_find("10.0.0.102"));
}
END_TEST

START_TEST(test_corrupt_record_ignored)
{
	char line[JREC_LINE_MAX];
	struct jrec r = {.kind = 'L', .addr = POOL_FIRST,
			 .time = 1700009999, .keylen = 8,
			 .key = {'H', 1, 2, 0, 0, 0, 0, 7}}, back;
	size_t n = jrec_format(&r, line);
	int fd;

	ck_assert(jrec_parse(line, n - 1, &back));
	ck_assert_uint_eq(back.addr, r.addr);
	ck_assert_int_eq(back.time, r.time);
	ck_assert_uint_eq(back.keylen, 8);
	ck_assert_mem_eq(back.key, r.key, 8);
	line[3] ^= 1; /* one flipped bit: the CRC no longer matches */
	ck_assert(!jrec_parse(line, n - 1, &back));
	dhcp_srv_free(srv);
	fd = open(lease_path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, line, n), (ssize_t)n);
	ck_assert_int_eq(write(fd, "garbage\n", 8), 8);
	close(fd);
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 0);
}
END_TEST

/* The journal's descriptor, found through /proc. */
static int journal_fd(void)
{
	char link[64], target[512];

	for (int fd = 3; fd < 1024; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strcmp(target, lease_path) == 0)
			return fd;
	}
	return -1;
}

START_TEST(test_no_ack_when_journal_fails)
{
	uint32_t a = discover(1);
	int fd = journal_fd(), full;

	/* Writes to the journal now fail (ENOSPC). */
	ck_assert_int_ge(fd, 0);
	full = open("/dev/full", O_WRONLY);
	ck_assert_int_ge(full, 0);
	ck_assert_int_eq(dup2(full, fd), fd);
	close(full);
	ck_assert_uint_eq(select_req(1, a, SERVER), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_JOURNAL_ERR], 1);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_ACK], 0);
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	/* The client asks again once the disk is back: acknowledged. */
	dhcp_srv_free(srv);
	start();
	ck_assert_uint_eq(discover(1), a);
	ck_assert_uint_eq(select_req(1, a, SERVER), DHCPACK);
}
END_TEST

/* ---- a lease file that cannot be written -------------------------------- */

/* Faults for the journal's write and sync: errno to fail with (0: none),
 * and which call fails.  A failing write first writes half of what it is
 * given, as a file system that fills up in the middle of a batch does. */
static int fault_err;
static bool fault_sync, fault_half_done;
static int fault_spare_fd = -1; /* this descriptor's writes succeed */
static char logs[8][512];
static int logprio[8];
static unsigned nlogs;

static ssize_t fault_write(int fd, const void *buf, size_t len)
{
	if (fault_err && !fault_sync && fd != fault_spare_fd) {
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

static void f_log(void *arg, int prio, const char *msg)
{
	(void)arg;
	if (nlogs < 8) {
		snprintf(logs[nlogs], sizeof(logs[0]), "%s", msg);
		logprio[nlogs] = prio;
	}
	nlogs++;
}

static struct dhcp_env log_env;

/* The server again, with its log lines kept and the journal's I/O
 * through the fault injector. */
static void start_faulty(void)
{
	dhcp_srv_free(srv);
	log_env = env;
	log_env.log = f_log;
	cur_env = &log_env;
	start();
	nlogs = 0;
	fault_err = 0;
	fault_sync = fault_half_done = false;
	fault_spare_fd = -1;
	lj_set_io(fault_write, fault_fsync);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

START_TEST(test_enospc_no_ack_then_recovers)
{
	uint32_t a, b;
	off_t size;
	char *file;

	start_faulty();
	a = discover(1);
	size = file_size(lease_path);
	/* The file system is full: the REQUEST gets no ACK, nothing is
	 * published, the half-written batch is cut back, one line says
	 * why. */
	fault_err = ENOSPC;
	ck_assert_uint_eq(select_req(1, a, SERVER), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_ACK], 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_JOURNAL_ERR], 1);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_UNWRITTEN], 1);
	ck_assert_ptr_null(pub_find("10.0.0.100"));
	ck_assert(fault_half_done);
	ck_assert_int_eq(file_size(lease_path), size);
	ck_assert_uint_eq(nlogs, 1);
	ck_assert_int_eq(logprio[0], 3);
	ck_assert_ptr_nonnull(strstr(logs[0], lease_path));
	ck_assert_ptr_nonnull(strstr(logs[0], strerror(ENOSPC)));
	ck_assert_ptr_nonnull(strstr(logs[0], "leases are not granted"));
	/* Retransmissions and other clients: still no ACK, no new line. */
	ck_assert_uint_eq(select_req(1, a, SERVER), 0);
	b = discover(2);
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_eq(select_req(2, b, SERVER), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_UNWRITTEN], 3);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_ACK], 0);
	ck_assert_uint_eq(nlogs, 1);
	ck_assert_int_eq(file_size(lease_path), size);
	/* Five minutes on, still full: one more line. */
	clock_s += 300;
	ck_assert_uint_eq(select_req(2, b, SERVER), 0);
	ck_assert_uint_eq(nlogs, 2);
	/* Space again: the next REQUEST is written and acknowledged. */
	fault_err = 0;
	ck_assert_uint_eq(select_req(1, a, SERVER), DHCPACK);
	ck_assert_uint_eq(sent[nsent - 1].m.yiaddr, a);
	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
	ck_assert_uint_eq(nlogs, 3);
	ck_assert_int_eq(logprio[2], 5);
	ck_assert_ptr_nonnull(strstr(logs[2], "written again"));
	file = slurp(lease_path);
	ck_assert_ptr_nonnull(strstr(file, "\nL 10.0.0.100 "));
	ck_assert_ptr_null(strstr(file, "10.0.0.101"));
	/* A restart finds the lease that was acknowledged, and only it. */
	dhcp_srv_free(srv);
	srv = NULL;
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 1);
	ck_assert_ptr_nonnull(pub_find("10.0.0.100"));
}
END_TEST

START_TEST(test_fsync_error_no_ack)
{
	uint32_t a;

	start_faulty();
	a = discover(1);
	/* The data written, its sync failed: not durable, so no ACK. */
	fault_err = EIO;
	fault_sync = true;
	ck_assert_uint_eq(select_req(1, a, SERVER), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_UNWRITTEN], 1);
	ck_assert_ptr_null(strstr(slurp(lease_path), "L 10.0.0.100"));
	ck_assert_uint_eq(nlogs, 1);
	ck_assert_ptr_nonnull(strstr(logs[0], strerror(EIO)));
	fault_err = 0;
	ck_assert_uint_eq(select_req(1, a, SERVER), DHCPACK);
	ck_assert_ptr_nonnull(strstr(slurp(lease_path), "L 10.0.0.100"));
}
END_TEST

START_TEST(test_compaction_failure_keeps_old_file)
{
	struct msgb m;
	char tmp[320];
	uint32_t a;
	unsigned compact_lines = 0;

	start_faulty();
	a = lease(1);
	/* Appends to the journal succeed; the compaction's temporary file
	 * cannot be written. */
	fault_spare_fd = journal_fd();
	ck_assert_int_ge(fault_spare_fd, 0);
	fault_err = ENOSPC;
	for (int i = 0; i < 1100; i++) {
		mb_start(&m, DHCPREQUEST, 1, a);
		mb_end(&m);
		nsent = 0;
		input(&m);
		dhcp_srv_flush(srv);
		ck_assert_uint_eq(nsent, 1);
		ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	}
	for (unsigned k = 0; k < nlogs && k < 8; k++)
		compact_lines += strstr(logs[k], "cannot compact") != NULL;
	/* Tried once, not on each of the batches since. */
	ck_assert_uint_eq(nlogs, 1);
	ck_assert_uint_eq(compact_lines, 1);
	snprintf(tmp, sizeof(tmp), "%s.tmp", lease_path);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	ck_assert_int_gt(file_size(lease_path), 1024 * 60);
	/* The old file is the journal still: every renewal is in it. */
	ck_assert_int_eq(journal_fd(), fault_spare_fd);
	dhcp_srv_free(srv);
	srv = NULL;
	lj_set_io(NULL, NULL);
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 1);
}
END_TEST

START_TEST(test_journal_compacts)
{
	struct msgb m;
	struct stat sb;
	uint32_t a = lease(1);

	/* Thousands of renewals: the file stays near the live size. */
	for (int i = 0; i < 1500; i++) {
		mb_start(&m, DHCPREQUEST, 1, a);
		mb_end(&m);
		nsent = 0;
		input(&m);
		dhcp_srv_flush(srv);
		ck_assert_uint_eq(nsent, 1);
	}
	ck_assert_int_eq(stat(lease_path, &sb), 0);
	ck_assert_int_lt(sb.st_size, 700 * 100);
	dhcp_srv_free(srv);
	memset(pubs, 0, sizeof(pubs));
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 1);
}
END_TEST

/* ---- what operators reach for ------------------------------------------- */

#define RELAY 0x0a000101u  /* 10.0.1.1, a relay on subnet 10.0.1.0/24 */
#define SUB_FIRST 0x0a000164u /* 10.0.1.100 */

static const uint8_t agent_info[] = {1, 4, 'p', 'o', 'r', 't', 2, 2, 0xab,
				     0xcd};

/* One relay subnet, 10.0.1.0/24: two addresses, its own router and
 * lease time, the module's DNS servers. */
static void add_subnet(void)
{
	dhcp_srv_free(srv);
	cfg.subnets = calloc(1, sizeof(*cfg.subnets));
	ck_assert_ptr_nonnull(cfg.subnets);
	cfg.subnets[0] = (struct dhcp_subnet){
		.net = 0x0a000100, .prefix = 24,
		.range = {{SUB_FIRST, SUB_FIRST + 1}}, .nranges = 1,
		.router = {RELAY}, .nrouters = 1, .lease_time = 600};
	cfg.nsubnets = 1;
	start();
}

/* A relayed message from macid through giaddr, with option 82 when
 * info. */
static void mb_relayed(struct msgb *m, uint8_t type, uint8_t macid,
		       uint32_t giaddr)
{
	mb_start(m, type, macid, 0);
	put32(m->b + 24, giaddr);
	m->b[3] = 1; /* hops */
}

/* The code of the last option of a reply, read from its bytes. */
static uint8_t last_option(const struct sent *s)
{
	size_t i = DHCP_MIN_LEN;
	uint8_t last = 0;

	while (i < s->len && s->raw[i] != OPT_END) {
		if (s->raw[i] == OPT_PAD) {
			i++;
			continue;
		}
		ck_assert_uint_lt(i + 1, s->len);
		last = s->raw[i];
		i += 2 + (size_t)s->raw[i + 1];
	}
	return last;
}

START_TEST(test_relay_subnet_pool)
{
	struct msgb m;
	const uint8_t *p;
	size_t len;
	uint32_t a;

	add_subnet();
	/* A relayed DISCOVER gets the relay subnet's address and options,
	 * back to the relay's port 67, with option 82 echoed last. */
	mb_relayed(&m, DHCPDISCOVER, 1, RELAY);
	mb_opt(&m, OPT_RELAY_INFO, agent_info, sizeof(agent_info));
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPOFFER);
	ck_assert_uint_eq(sent[0].m.yiaddr, SUB_FIRST);
	ck_assert_uint_eq(sent[0].ip, RELAY);
	ck_assert_uint_eq(sent[0].port, 67);
	ck_assert(!sent[0].has_mac);
	ck_assert_uint_eq(sent[0].m.giaddr, RELAY);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_SUBNET_MASK), 0xffffff00u);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_ROUTER), RELAY);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_DNS), SERVER);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_LEASE_TIME), 600);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_T1), 300);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_T2), 525);
	p = dhcp_opt(&sent[0].m, OPT_RELAY_INFO, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, sizeof(agent_info));
	ck_assert_mem_eq(p, agent_info, len);
	ck_assert_uint_eq(last_option(&sent[0]), OPT_RELAY_INFO);
	/* The REQUEST through the relay: an ACK after the fsync, option 82
	 * again, the subnet's lease time on disk. */
	mb_relayed(&m, DHCPREQUEST, 1, RELAY);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, SUB_FIRST);
	mb_opt(&m, OPT_RELAY_INFO, agent_info, sizeof(agent_info));
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 0);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	ck_assert_uint_eq(sent[0].ip, RELAY);
	ck_assert_uint_eq(sent[0].port, 67);
	ck_assert_uint_eq(sent[0].m.yiaddr, SUB_FIRST);
	ck_assert_uint_eq(last_option(&sent[0]), OPT_RELAY_INFO);
	ck_assert_str_eq(pub_find("10.0.1.100")->val,
			 "mac=02:00:00:00:00:01 expires=1700000600");
	/* A client on the link still gets the link's pool and options. */
	a = discover(2);
	ck_assert_uint_eq(a, POOL_FIRST);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_ROUTER), 0x0a000001);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_LEASE_TIME), 3600);
	ck_assert_ptr_null(dhcp_opt(&sent[0].m, OPT_RELAY_INFO, NULL));
	/* Without option 82 none is added. */
	mb_relayed(&m, DHCPDISCOVER, 3, RELAY);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(sent[0].m.yiaddr, SUB_FIRST + 1);
	ck_assert_ptr_null(dhcp_opt(&sent[0].m, OPT_RELAY_INFO, NULL));
	/* The subnet's pool is dry: its next client gets nothing, though
	 * the link's pool has room. */
	mb_relayed(&m, DHCPDISCOVER, 4, RELAY);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1); /* client 3's unanswered offer, reused */
	ck_assert_uint_eq(sent[0].m.yiaddr, SUB_FIRST + 1);
	mb_relayed(&m, DHCPDISCOVER, 5, RELAY);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_ne(sent[0].m.yiaddr & 0xffffff00u, 0x0a000000u);
	/* A relay on a subnet we have no pool for: dropped and counted. */
	mb_relayed(&m, DHCPDISCOVER, 6, 0x0a000201);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_NO_SUBNET], 1);
	/* The renewal comes straight from the client (giaddr 0): its
	 * address says its subnet; the ACK goes to it. */
	mb_start(&m, DHCPREQUEST, 1, SUB_FIRST);
	mb_end(&m);
	nsent = 0;
	dhcp_srv_input(srv, SUB_FIRST, 68, m.b, m.len);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	ck_assert_uint_eq(sent[0].ip, SUB_FIRST);
	ck_assert_uint_eq(sent[0].port, 68);
	ck_assert_uint_eq(opt32(&sent[0].m, OPT_ROUTER), RELAY);
	/* INIT-REBOOT through the relay for a link address: wrong network,
	 * and the NAK echoes option 82 too. */
	mb_relayed(&m, DHCPREQUEST, 2, RELAY);
	mb_ip(&m, OPT_REQUESTED_IP, POOL_FIRST);
	mb_opt(&m, OPT_RELAY_INFO, agent_info, sizeof(agent_info));
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPNAK);
	ck_assert_uint_eq(last_option(&sent[0]), OPT_RELAY_INFO);
	/* A restart keeps the relayed lease in its subnet. */
	dhcp_srv_free(srv);
	start();
	ck_assert_uint_eq(dhcp_srv_bound(srv), 1);
	mb_relayed(&m, DHCPDISCOVER, 1, RELAY);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(sent[0].m.yiaddr, SUB_FIRST);
}
END_TEST

START_TEST(test_relay_reservation_stays_on_its_subnet)
{
	struct msgb m;

	add_subnet();
	/* The reserved client behind a relay elsewhere gets no address:
	 * its address is its reservation, which does not work there. */
	mb_relayed(&m, DHCPDISCOVER, 0x99, RELAY);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(discover(0x99), RES_ADDR);
}
END_TEST

/* A DISCOVER (or SELECTING REQUEST for addr when addr) from macid asking
 * for a lease of secs; the reply's lease time, T1 and T2. */
static void ask_lease(uint8_t macid, uint32_t addr, uint32_t secs,
		      uint32_t got[3])
{
	struct msgb m;

	mb_start(&m, addr ? DHCPREQUEST : DHCPDISCOVER, macid, 0);
	if (addr) {
		mb_ip(&m, OPT_SERVER_ID, SERVER);
		mb_ip(&m, OPT_REQUESTED_IP, addr);
	}
	if (secs)
		mb_ip(&m, OPT_LEASE_TIME, secs);
	mb_end(&m);
	nsent = 0;
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	got[0] = opt32(&sent[0].m, OPT_LEASE_TIME);
	got[1] = opt32(&sent[0].m, OPT_T1);
	got[2] = opt32(&sent[0].m, OPT_T2);
}

START_TEST(test_requested_lease_time)
{
	uint32_t got[3];

	/* Without bounds a client cannot change the lease time. */
	ask_lease(1, 0, 60, got);
	ck_assert_uint_eq(got[0], 3600);
	dhcp_srv_free(srv);
	cfg.min_lease_time = 120;
	cfg.max_lease_time = 7200;
	start();
	/* Under the floor: the floor; T1 and T2 scaled. */
	ask_lease(1, 0, 60, got);
	ck_assert_uint_eq(got[0], 120);
	ck_assert_uint_eq(got[1], 60);
	ck_assert_uint_eq(got[2], 105);
	/* Within the bounds: as asked. */
	ask_lease(1, 0, 1000, got);
	ck_assert_uint_eq(got[0], 1000);
	ck_assert_uint_eq(got[1], 500);
	ck_assert_uint_eq(got[2], 875);
	/* Over the cap: the cap, in the ACK and on disk. */
	ask_lease(1, POOL_FIRST, 100000, got);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	ck_assert_uint_eq(got[0], 7200);
	ck_assert_uint_eq(got[1], 3600);
	ck_assert_uint_eq(got[2], 6300);
	ck_assert_str_eq(pub_find("10.0.0.100")->val,
			 "mac=02:00:00:00:00:01 expires=1700007200");
	ck_assert_ptr_nonnull(strstr(slurp(lease_path),
				     "L 10.0.0.100 1700007200 "));
	/* Not asked: lease_time. */
	ask_lease(2, 0, 0, got);
	ck_assert_uint_eq(got[0], 3600);
	/* Configured T1/T2 keep their share of the lease. */
	dhcp_srv_free(srv);
	cfg.t1 = 1800;
	cfg.t2 = 3000;
	start();
	ask_lease(3, 0, 7200, got);
	ck_assert_uint_eq(got[0], 7200);
	ck_assert_uint_eq(got[1], 3600);
	ck_assert_uint_eq(got[2], 6000);
}
END_TEST

/* A SELECTING REQUEST for the offered address with option 81 (flags,
 * name of nlen bytes); flushes; returns the ACK's option 81 in out
 * (its length; 0 when none). */
static size_t fqdn_lease(uint8_t macid, uint8_t flags, const void *name,
			 size_t nlen, uint8_t *out)
{
	uint32_t a = discover(macid);
	uint8_t o[3 + 255] = {flags, 0, 0};
	const uint8_t *p;
	struct msgb m;
	size_t len;

	ck_assert_uint_ne(a, 0);
	memcpy(o + 3, name, nlen);
	mb_start(&m, DHCPREQUEST, macid, 0);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, a);
	mb_opt(&m, OPT_HOSTNAME, "opt12", 5);
	mb_opt(&m, OPT_FQDN, o, 3 + nlen);
	mb_end(&m);
	nsent = 0;
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	p = dhcp_opt(&sent[0].m, OPT_FQDN, &len);
	if (!p)
		return 0;
	memcpy(out, p, len);
	return len;
}

START_TEST(test_client_fqdn)
{
	static const uint8_t want_wire[] = {0x07, 255, 255, 6, 'l', 'a', 'p',
					    't', 'o', 'p', 3, 'l', 'a', 'b', 4,
					    't', 'e', 's', 't', 0};
	static const char want_text[] = "\x03\xff\xff" "desk.lab.test";
	uint8_t out[300];
	size_t n;
	struct msgb m;

	/* E set, S clear: we update A and PTR ourselves (S, O), the name
	 * fully qualified in canonical wire format, RCODEs 255. */
	n = fqdn_lease(1, 0x04, "\x06LapTop", 7, out);
	ck_assert_uint_eq(n, sizeof(want_wire));
	ck_assert_mem_eq(out, want_wire, n);
	ck_assert_ptr_nonnull(strstr(pub_find("10.0.0.100")->val,
				     "hostname=laptop"));
	/* S set: no override. */
	n = fqdn_lease(1, 0x05, "\x06laptop\x03lab\x04test", 17, out);
	ck_assert_uint_eq(out[0], 0x05);
	ck_assert_mem_eq(out + 1, want_wire + 1, n - 1);
	/* ASCII encoding: answered in it. */
	n = fqdn_lease(2, 0x00, "Desk", 4, out);
	ck_assert_uint_eq(n, sizeof(want_text) - 1);
	ck_assert_mem_eq(out, want_text, n);
	ck_assert_ptr_nonnull(strstr(pub_find("10.0.0.101")->val,
				     "hostname=desk"));
	/* N set: no name in the DNS, not even option 12's. */
	n = fqdn_lease(3, 0x0c, "\x04quiet", 6, out);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(out[0], 0x0c);
	ck_assert_uint_eq(out[1], 255);
	ck_assert_ptr_null(strstr(pub_find("10.0.0.102")->val, "hostname"));
	/* A reservation's name overrides the client's. */
	n = fqdn_lease(0x99, 0x05, "\x05other", 6, out);
	ck_assert_uint_eq(out[0], 0x05);
	ck_assert_mem_eq(out + 3, "\x05" "fixed\x03lab\x04test", 16);
	/* Another reservation's name is not given: N back. */
	n = fqdn_lease(1, 0x05, "\x05" "fixed", 6, out);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(out[0], 0x08 | 0x04 | 0x02);
	/* No option 81 asked: none answered. */
	mb_start(&m, DHCPDISCOVER, 2, 0);
	mb_end(&m);
	nsent = 0;
	input(&m);
	ck_assert_ptr_null(dhcp_opt(&sent[0].m, OPT_FQDN, NULL));
	/* No domain: a partial name, no root label. */
	dhcp_srv_free(srv);
	cfg.domain[0] = 0;
	start();
	n = fqdn_lease(2, 0x04, "\x04" "desk", 5, out);
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(out + 3, "\x04" "desk", 5);
}
END_TEST

/* A DISCOVER from MAC 02:00:00:00:00:07 with client identifier id
 * (none when 0); the offered address (0: none). */
static uint32_t discover_id(uint8_t id)
{
	uint8_t cid[3] = {0xee, 7, id};
	struct msgb m;

	mb_start(&m, DHCPDISCOVER, 7, 0);
	if (id)
		mb_opt(&m, OPT_CLIENT_ID, cid, sizeof(cid));
	mb_end(&m);
	nsent = 0;
	input(&m);
	return nsent ? sent[0].m.yiaddr : 0;
}

START_TEST(test_lease_cap_per_mac)
{
	struct msgb m;
	uint8_t cid[3] = {0xee, 7, 1};
	uint32_t a;

	dhcp_srv_free(srv);
	cfg.max_leases_per_mac = 2;
	start();
	/* Two client identifiers behind one MAC get addresses... */
	a = discover_id(1);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_ne(discover_id(2), 0);
	/* ... a third does not, nor the bare MAC. */
	ck_assert_uint_eq(discover_id(3), 0);
	ck_assert_uint_eq(discover_id(0), 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_MAC_CAP], 2);
	/* One already served keeps being served. */
	ck_assert_uint_eq(discover_id(1), a);
	mb_start(&m, DHCPREQUEST, 7, 0);
	mb_ip(&m, OPT_SERVER_ID, SERVER);
	mb_ip(&m, OPT_REQUESTED_IP, a);
	mb_opt(&m, OPT_CLIENT_ID, cid, sizeof(cid));
	mb_end(&m);
	nsent = 0;
	input(&m);
	dhcp_srv_flush(srv);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPACK);
	/* Another MAC is not held back. */
	ck_assert_uint_ne(discover(8), 0);
	/* When one lets go (its offer lapses), the next one fits. */
	clock_s += cfg.offer_time + 1;
	dhcp_srv_tick(srv);
	ck_assert_uint_ne(discover_id(3), 0);
	ck_assert_uint_eq(discover_id(2), 0);
}
END_TEST

static struct dhcp_env env_ping;

static void start_pinging(void)
{
	dhcp_srv_free(srv);
	env_ping = env;
	env_ping.ping = f_ping;
	env_ping.ping_cancel = f_ping_cancel;
	cur_env = &env_ping;
	cfg.ping_check = true;
	cfg.ping_timeout_ms = 300;
	start();
}

START_TEST(test_ping_check)
{
	struct msgb m;
	char *file;

	start_pinging();
	/* The DISCOVER waits for the ping of the address it is to get. */
	ck_assert_uint_eq(discover(1), 0);
	ck_assert_uint_eq(nfping, 1);
	ck_assert_uint_eq(fpings[0].ip, POOL_FIRST);
	ck_assert_uint_eq(fpings[0].timeout, 300);
	/* A retransmission starts no second ping. */
	ck_assert_uint_eq(discover(1), 0);
	ck_assert_uint_eq(nfping, 1);
	/* Another client is not given the address meanwhile. */
	ck_assert_uint_eq(discover(2), 0);
	ck_assert_uint_eq(nfping, 2);
	ck_assert_uint_eq(fpings[1].ip, POOL_FIRST + 1);
	/* An answer: the address is taken; it is set aside (on disk) and
	 * the next one is pinged for the same client. */
	nsent = 0;
	ping_answer(0, 1);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(nfping, 3);
	ck_assert_uint_eq(fpings[2].ip, POOL_FIRST + 2);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_PING_TAKEN], 1);
	dhcp_srv_flush(srv);
	file = slurp(lease_path);
	ck_assert_ptr_nonnull(strstr(file, "D 10.0.0.100 1700000600 "));
	/* No answer: the offer goes out. */
	ping_answer(2, 0);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(msg_type(&sent[0]), DHCPOFFER);
	ck_assert_uint_eq(sent[0].m.yiaddr, POOL_FIRST + 2);
	ck_assert_uint_eq(sent[0].m.chaddr[5], 1);
	ck_assert_uint_eq(select_req(1, POOL_FIRST + 2, SERVER), DHCPACK);
	/* A client with its lease is not pinged again. */
	ck_assert_uint_eq(discover(1), POOL_FIRST + 2);
	ck_assert_uint_eq(nfping, 3);
	/* A check that cannot be made: the offer goes out unchecked. */
	nsent = 0;
	ping_answer(1, -113);
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(sent[0].m.yiaddr, POOL_FIRST + 1);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_PING], 3);
	/* The address set aside comes back after decline_time. */
	clock_s += cfg.decline_time + 1;
	dhcp_srv_tick(srv);
	ck_assert_uint_eq(discover(3), 0);
	ck_assert_uint_eq(fpings[3].ip, POOL_FIRST);
	/* A server freed with a ping pending cancels it. */
	dhcp_srv_free(srv);
	srv = NULL;
	ck_assert_uint_eq(fcancels, 1);
	ck_assert(!fpings[3].live);
	start();
	(void)m;
}
END_TEST

START_TEST(test_ping_check_bounds)
{
	start_pinging();
	/* Every address answers: after the pool (three) no offer, no ping
	 * left pending. */
	ck_assert_uint_eq(discover(1), 0);
	for (unsigned k = 0; k < 3; k++) {
		ck_assert_uint_eq(nfping, k + 1);
		ping_answer(k, 1);
	}
	ck_assert_uint_eq(nfping, 3);
	ck_assert_uint_eq(nsent, 0);
	ck_assert_uint_eq(dhcp_srv_counters(srv)[DC_PING_TAKEN], 3);
	/* A check lapsing with its offer time: the late answer sends
	 * nothing. */
	clock_s += cfg.decline_time + 1;
	dhcp_srv_tick(srv);
	ck_assert_uint_eq(discover(2), 0);
	ck_assert_uint_eq(nfping, 4);
	clock_s += cfg.offer_time + 1;
	dhcp_srv_tick(srv);
	nsent = 0;
	ping_answer(3, 0);
	ck_assert_uint_eq(nsent, 0);
	/* Without a ping from the host: offered unchecked. */
	fping_fail = true;
	ck_assert_uint_ne(discover(2), 0);
}
END_TEST

static Suite *dhcp_suite(void)
{
	Suite *su = suite_create("dhcp");
	TCase *w = tcase_create("wire");
	TCase *p = tcase_create("protocol");
	TCase *j = tcase_create("journal");

	tcase_add_test(w, test_wire_round_trip);
	tcase_add_test(w, test_wire_overload_and_concatenation);
	tcase_add_test(w, test_wire_most_options);
	tcase_add_test(w, test_malformed_rejected);
	tcase_add_checked_fixture(p, setup, teardown);
	tcase_add_test(p, test_huge_and_repeated_options);
	tcase_add_test(p, test_discover_offer_default_options);
	tcase_add_test(p, test_parameter_request_list_honoured);
	tcase_add_test(p, test_configured_t1_t2);
	tcase_add_test(p, test_requested_address_honoured_when_free);
	tcase_add_test(p, test_max_message_size_bounds_reply);
	tcase_add_test(p, test_stable_address_for_returning_client);
	tcase_add_test(p, test_reservation_by_mac_first);
	tcase_add_test(p, test_reservation_by_client_id);
	tcase_add_test(p, test_ack_only_after_fsync);
	tcase_add_test(p, test_batch_one_fsync_for_many);
	tcase_add_test(p, test_request_for_other_server);
	tcase_add_test(p, test_selecting_wrong_address_nak);
	tcase_add_test(p, test_init_reboot);
	tcase_add_test(p, test_renewing_and_rebinding);
	tcase_add_test(p, test_decline_quarantines);
	tcase_add_test(p, test_discover_flood);
	tcase_add_test(p, test_release);
	tcase_add_test(p, test_inform);
	tcase_add_test(p, test_inform_ciaddr_checked);
	tcase_add_test(p, test_reply_destinations);
	tcase_add_test(p, test_lease_cap);
	tcase_add_test(p, test_expiry_unpublishes);
	tcase_add_test(p, test_new_client_gets_no_old_hostname);
	tcase_add_test(p, test_reserved_hostname_not_taken);
	tcase_add_test(w, test_client_hostnames);
	tcase_add_test(p, test_relay_subnet_pool);
	tcase_add_test(p, test_relay_reservation_stays_on_its_subnet);
	tcase_add_test(p, test_requested_lease_time);
	tcase_add_test(p, test_client_fqdn);
	tcase_add_test(p, test_lease_cap_per_mac);
	tcase_add_test(p, test_ping_check);
	tcase_add_test(p, test_ping_check_bounds);
	tcase_add_checked_fixture(j, setup, teardown);
	tcase_set_timeout(j, 60);
	tcase_add_test(j, test_restart_keeps_leases);
	tcase_add_test(j, test_torn_last_record_ignored);
	tcase_add_test(j, test_corrupt_record_ignored);
	tcase_add_test(j, test_journal_compacts);
	tcase_add_test(j, test_no_ack_when_journal_fails);
	tcase_add_test(j, test_enospc_no_ack_then_recovers);
	tcase_add_test(j, test_fsync_error_no_ack);
	tcase_add_test(j, test_compaction_failure_keeps_old_file);
	suite_add_tcase(su, w);
	suite_add_tcase(su, p);
	suite_add_tcase(su, j);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(dhcp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
