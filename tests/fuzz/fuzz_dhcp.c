/*
 * libFuzzer harness: the dhcp module's server (src/modules/dhcp) with
 * untrusted DHCP messages and untrusted lease files.
 *
 * Input format (byte 0 is the mode):
 *
 *   mode bit 0   0: the rest is a list of records, each a message to port 67
 *                1: the rest is a lease file, loaded at start; then the
 *                   records of mode 0 follow a 0xff 0xff 0xff separator
 *   mode bit 1   a config with a small pool and max_leases 2 (exhaustion)
 *   mode bit 2   what operators add: a relay subnet 10.0.1.0/24 with its
 *                own pool, lease time bounds, max_leases_per_mac 2 and
 *                the ping check; pending pings are answered after each
 *                record, one in three as "in use"
 *
 *   record := ctl len_hi len_lo msg[len]
 *     ctl bits 0-5: seconds the clock advances first (then expiry runs);
 *     ctl bit 6: close the journal batch after the message; ctl bit 7:
 *     the message comes from 10.0.0.9 instead of 0.0.0.0.  A len past the
 *     end of the input takes what is left.
 *
 * Checked (abort() on failure): every reply parses as a BOOTREPLY of at
 * least 300 and at most 1472 bytes, carries option 53 and our server
 * identifier; an ACK or OFFER with an address has a lease time; every
 * published key is a dotted quad and every value "mac=... expires=..."
 * without NUL; the server starts again from the journal it wrote, with
 * the same number of bound leases; no more pings are pending than
 * DHCP_MAX_PROBES, and freeing the server cancels every one still pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dhcp_srv.h"
#include "dhcp_wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[256];
static int64_t clock_s;
static struct dhcp_msg reply;

static void die(const char *what)
{
	fprintf(stderr, "invariant violated: %s\n", what);
	abort();
}

static int64_t f_now(void *arg)
{
	(void)arg;
	return clock_s;
}

static void f_send(void *arg, uint32_t ip, uint16_t port, const uint8_t *mac,
		   const uint8_t *data, size_t len)
{
	uint8_t type;
	uint32_t sid, lt;

	(void)arg;
	(void)mac;
	if (!ip || (port != 67 && port != 68))
		die("reply destination");
	if (len < DHCP_REPLY_MIN || len > 1472)
		die("reply size");
	if (dhcp_parse(data, len, &reply) != DHCP_OK || reply.op != BOOTREPLY)
		die("reply does not parse");
	if (!dhcp_opt_u8(&reply, OPT_MSG_TYPE, &type) ||
	    !dhcp_opt_u32(&reply, OPT_SERVER_ID, &sid) || sid != 0x0a000002)
		die("reply without type or server id");
	if ((type == DHCPOFFER || type == DHCPACK) && reply.yiaddr &&
	    !dhcp_opt_u32(&reply, OPT_LEASE_TIME, &lt))
		die("lease without lease time");
}

static void f_publish(void *arg, const char *key, const char *val)
{
	unsigned a, b, c, d;
	char tail;

	(void)arg;
	if (sscanf(key, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 ||
	    strncmp(val, "mac=", 4) != 0 || !strstr(val, " expires="))
		die("published entry");
}

static void f_unpublish(void *arg, const char *key)
{
	(void)arg;
	(void)key;
}

/* The fake ping: requests wait here until the harness answers them. */
struct fping {
	bool live;
	void (*done)(void *ctx, int result);
	void *ctx;
};
static struct fping fpings[DHCP_MAX_PROBES * 2];
static unsigned nlive, nanswered;

static void *f_ping(void *arg, uint32_t ip, unsigned timeout,
		    void (*done)(void *ctx, int result), void *ctx)
{
	(void)arg;
	if (timeout < 1 || timeout > 5000 || (ip >> 8) == 0)
		die("ping arguments");
	for (unsigned k = 0; k < DHCP_MAX_PROBES * 2; k++) {
		if (!fpings[k].live) {
			fpings[k] = (struct fping){true, done, ctx};
			if (++nlive > DHCP_MAX_PROBES)
				die("pings pending over DHCP_MAX_PROBES");
			return &fpings[k];
		}
	}
	die("no room for a ping");
	return NULL;
}

static void f_ping_cancel(void *arg, void *h)
{
	struct fping *p = h;

	(void)arg;
	if (!p->live)
		die("cancel of a ping not pending");
	p->live = false;
	nlive--;
}

/* Answer every pending ping, and those the answers start (bounded: a
 * DISCOVER is served again DHCP_PROBE_TRIES times at most). */
static void answer_pings(void)
{
	for (unsigned round = 0; nlive && round <= DHCP_PROBE_TRIES; round++) {
		for (unsigned k = 0; k < DHCP_MAX_PROBES * 2; k++) {
			struct fping *p = &fpings[k];

			if (!p->live)
				continue;
			p->live = false;
			nlive--;
			p->done(p->ctx, nanswered++ % 3 == 0);
		}
	}
	if (nlive)
		die("a DISCOVER pinged more than DHCP_PROBE_TRIES addresses");
}

static const struct dhcp_env env = {
	.now = f_now,
	.server_ip = 0x0a000002,
	.prefix = 24,
	.reply_max = 1472,
	.send = f_send,
	.publish = f_publish,
	.unpublish = f_unpublish,
	.ping = f_ping,
	.ping_cancel = f_ping_cancel,
};

static void cleanup(void)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-dhcp.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/leases", dir);
	atexit(cleanup);
	return 0;
}

static void make_cfg(struct dhcp_cfg *c, bool small)
{
	dhcp_cfg_default(c);
	c->range[0].first = 0x0a000064;
	c->range[0].last = small ? 0x0a000066 : 0x0a0000c7;
	c->nranges = 1;
	c->router[0] = 0x0a000001;
	c->nrouters = 1;
	c->dns[0] = 0x0a000002;
	c->ndns = 1;
	strcpy(c->domain, "lab.test");
	c->res = calloc(1, sizeof(*c->res));
	if (!c->res)
		die("calloc");
	c->res[0] = (struct dhcp_res){.by_mac = true,
				      .mac = {2, 0, 0, 0, 0, 0x99},
				      .addr = 0x0a000032};
	strcpy(c->res[0].host, "fixed");
	c->nres = 1;
	c->max_leases = small ? 2 : 0;
	c->batch_max = 4;
	c->decline_time = 30;
	snprintf(c->lease_file, sizeof(c->lease_file), "%s", path);
}

static void operator_cfg(struct dhcp_cfg *c)
{
	c->subnets = calloc(1, sizeof(*c->subnets));
	if (!c->subnets)
		die("calloc");
	c->subnets[0] = (struct dhcp_subnet){
		.net = 0x0a000100, .prefix = 24,
		.range = {{0x0a000164, 0x0a000167}}, .nranges = 1,
		.router = {0x0a000101}, .nrouters = 1, .lease_time = 600};
	c->nsubnets = 1;
	c->min_lease_time = 120;
	c->max_lease_time = 7200;
	c->max_leases_per_mac = 2;
	c->ping_check = true;
	c->ping_timeout_ms = 100;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_cfg cfg;
	struct dhcp_srv *s;
	char err[256];
	size_t i = 1;
	size_t bound;
	FILE *f;

	if (size < 1)
		return 0;
	clock_s = 1700000000;
	unlink(path);
	if (data[0] & 1) {
		/* A lease file up to the separator. */
		const uint8_t *sep = NULL;

		for (size_t k = 1; k + 3 <= size && !sep; k++)
			if (data[k] == 0xff && data[k + 1] == 0xff &&
			    data[k + 2] == 0xff)
				sep = data + k;
		f = fopen(path, "w");
		if (!f)
			die("fopen");
		fwrite(data + 1, 1, (size_t)((sep ? sep : data + size) - data - 1),
		       f);
		fclose(f);
		i = sep ? (size_t)(sep - data) + 3 : size;
	}
	make_cfg(&cfg, data[0] & 2);
	if (data[0] & 4)
		operator_cfg(&cfg);
	nlive = nanswered = 0;
	memset(fpings, 0, sizeof(fpings));
	s = dhcp_srv_new(&cfg, &env, err, sizeof(err));
	if (!s)
		die(err);
	dhcp_srv_publish_all(s);
	while (i + 3 <= size) {
		uint8_t ctl = data[i];
		size_t len = (size_t)data[i + 1] << 8 | data[i + 2];

		i += 3;
		if (len > size - i)
			len = size - i;
		clock_s += ctl & 63;
		dhcp_srv_tick(s);
		dhcp_srv_input(s, ctl & 128 ? 0x0a000009 : 0, 68, data + i,
			       len);
		if (ctl & 64)
			dhcp_srv_flush(s);
		answer_pings();
		i += len;
	}
	dhcp_srv_flush(s);
	bound = dhcp_srv_bound(s);
	dhcp_srv_free(s);
	if (nlive)
		die("pings left pending after the server was freed");
	/* What was written reads back the same. */
	s = dhcp_srv_new(&cfg, &env, err, sizeof(err));
	if (!s)
		die(err);
	if (dhcp_srv_bound(s) != bound)
		die("bound leases differ after reloading the journal");
	dhcp_srv_free(s);
	dhcp_cfg_free(&cfg);
	return 0;
}
