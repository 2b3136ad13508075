/*
 * libFuzzer harness: the dhcp6 module's server (src/modules/dhcp6) with
 * untrusted DHCPv6 messages and untrusted lease files.
 *
 * Input format (byte 0 is the mode):
 *
 *   mode bit 0   0: the rest is a list of records, each a message to port
 *                   547
 *                1: the rest is a lease file, loaded at start; then the
 *                   records follow a 0xff 0xff 0xff separator
 *   mode bit 1   a pool of three addresses, max_leases 2, Rapid Commit
 *                allowed (exhaustion and two-message exchanges)
 *
 *   record := ctl len_hi len_lo msg[len]
 *     ctl bits 0-5: seconds the clock advances first (then expiry runs);
 *     ctl bit 6: close the journal batch after the message; ctl bit 7: the
 *     message came by unicast.  A len past the end takes what is left.
 *
 * Checked (abort() on failure): every message sent is an Advertise or a
 * Reply of at most 1232 bytes whose options are well formed, with our
 * Server ID and the transaction ID of a message received; every IA
 * address it gives is in the pool or the reservation; every published key
 * is an IPv6 address and every value starts "duid=" without NUL; the
 * server starts again from the journal it wrote with the same number of
 * bound leases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tapir/bytes.h>

#include "dhcp6_srv.h"
#include "dhcp6_wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[256];
static int64_t clock_s;
static struct d6_cfg cfg;
static uint8_t xids[4096][3];
static size_t nxids;

static const uint8_t server_duid[14] = {0, 1, 0, 1, 0x30, 0, 0, 0,
					2, 0, 0, 0, 0, 2};

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

static bool ours(const struct tapir_addr *a)
{
	for (unsigned r = 0; r < cfg.nranges; r++)
		if (d6_range_has(&cfg.range[r], a))
			return true;
	for (unsigned r = 0; r < cfg.nres; r++)
		if (tapir_addr_eq(&cfg.res[r].addr, a))
			return true;
	return false;
}

/* The IA_NA/IA_TA options of a reply: each address given (valid > 0) must
 * be ours. */
static void check_ia(struct tapir_cur c, uint16_t code)
{
	if (!tapir_cur_skip(&c, code == O6_IA_TA ? 4 : 12))
		die("short IA");
	while (c.len) {
		uint16_t oc = tapir_cur_be16(&c), ol = tapir_cur_be16(&c);
		struct tapir_cur o;
		struct tapir_addr a;

		if (!tapir_cur_ok(&c) || ol > c.len)
			die("IA option past its end");
		o = tapir_cur_sub(&c, ol);
		if (oc != O6_IAADDR)
			continue;
		if (ol < 24 || !tapir_cur_copy(&o, a.b, 16))
			die("short IAADDR");
		tapir_cur_be32(&o);
		if (tapir_cur_be32(&o) && !ours(&a))
			die("an address not ours given");
	}
}

static void f_send(void *arg, const struct d6_from *to, const uint8_t *d,
		   size_t len)
{
	struct tapir_cur c = tapir_cur(d, len);
	bool sid = false, xid = false;
	uint8_t type;

	(void)arg;
	(void)to;
	if (len < 4 || len > D6_REPLY_MAX)
		die("reply size");
	type = tapir_cur_u8(&c);
	if (type != D6_ADVERTISE && type != D6_REPLY)
		die("reply type");
	for (size_t k = 0; k < nxids && !xid; k++)
		xid = memcmp(xids[k], d + 1, 3) == 0;
	if (!xid)
		die("transaction ID of no message received");
	tapir_cur_skip(&c, 3);
	while (c.len) {
		uint16_t code = tapir_cur_be16(&c), olen = tapir_cur_be16(&c);
		struct tapir_cur o;

		if (!tapir_cur_ok(&c) || olen > c.len)
			die("option past the end");
		o = tapir_cur_sub(&c, olen);
		if (code == O6_SERVERID) {
			if (sid || olen != sizeof(server_duid) ||
			    memcmp(o.p, server_duid, olen) != 0)
				die("server ID");
			sid = true;
		} else if (code == O6_IA_NA || code == O6_IA_TA) {
			check_ia(o, code);
		}
	}
	if (!sid)
		die("no server ID");
}

static void f_publish(void *arg, const char *key, const char *val)
{
	struct tapir_addr a;

	(void)arg;
	if (!tapir_addr_parse(key, &a) || tapir_addr_is_v4(&a) || !ours(&a) ||
	    strncmp(val, "duid=", 5) != 0 || !strstr(val, " expires="))
		die("published entry");
}

static void f_unpublish(void *arg, const char *key)
{
	(void)arg;
	(void)key;
}

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
	snprintf(dir, sizeof(dir), "%s/fuzz-dhcp6.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(path, sizeof(path), "%s/leases", dir);
	atexit(cleanup);
	return 0;
}

static void make_cfg(struct d6_cfg *c, bool small)
{
	struct tapir_addr a;

	d6_cfg_default(c);
	tapir_addr_parse("fd00::1000", &a);
	memcpy(c->range[0].hi, a.b, 8);
	c->range[0].first = 0x1000;
	c->range[0].last = small ? 0x1002 : 0x10ff;
	c->nranges = 1;
	tapir_addr_parse("fd00::2", &c->dns[0]);
	c->ndns = 1;
	strcpy(c->search[0], "lab.test");
	c->nsearch = 1;
	c->info_refresh = 900;
	c->rapid_commit = small;
	c->res = calloc(1, sizeof(*c->res));
	if (!c->res)
		die("calloc");
	c->res[0].duidlen = 10;
	memcpy(c->res[0].duid, "\0\3\0\1\2\0\0\0\0\x50", 10);
	tapir_addr_parse("fd00::50", &c->res[0].addr);
	strcpy(c->res[0].host, "fixed6");
	c->nres = 1;
	c->max_leases = small ? 2 : 0;
	c->batch_max = 4;
	c->decline_time = 30;
	snprintf(c->lease_file, sizeof(c->lease_file), "%s", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct d6_env env = {
		.now = f_now,
		.send = f_send,
		.publish = f_publish,
		.unpublish = f_unpublish,
	};
	struct d6_from from = {.port = 546, .has_mac = true,
			       .mac = {2, 0, 0, 0, 0, 1}};
	struct d6_srv *s;
	char err[256];
	size_t i = 1, bound;
	FILE *f;

	if (size < 1)
		return 0;
	clock_s = 1700000000;
	nxids = 0;
	unlink(path);
	memcpy(env.duid, server_duid, sizeof(server_duid));
	env.duidlen = sizeof(server_duid);
	tapir_addr_parse("fd00::2", &env.onlink[0]);
	env.onlink_len[0] = 64;
	env.nonlink = 1;
	tapir_addr_parse("fe80::1", &from.ip);
	if (data[0] & 1) {
		const uint8_t *sep = NULL;

		for (size_t k = 1; k + 3 <= size && !sep; k++)
			if (data[k] == 0xff && data[k + 1] == 0xff &&
			    data[k + 2] == 0xff)
				sep = data + k;
		f = fopen(path, "w");
		if (!f)
			die("fopen");
		fwrite(data + 1, 1,
		       (size_t)((sep ? sep : data + size) - data - 1), f);
		fclose(f);
		i = sep ? (size_t)(sep - data) + 3 : size;
	}
	make_cfg(&cfg, data[0] & 2);
	s = d6_srv_new(&cfg, &env, err, sizeof(err));
	if (!s)
		die(err);
	d6_srv_publish_all(s);
	while (i + 3 <= size) {
		uint8_t ctl = data[i];
		size_t len = (size_t)data[i + 1] << 8 | data[i + 2];

		i += 3;
		if (len > size - i)
			len = size - i;
		clock_s += ctl & 63;
		d6_srv_tick(s);
		if (len >= 4 && nxids < sizeof(xids) / sizeof(xids[0]))
			memcpy(xids[nxids++], data + i + 1, 3);
		from.multicast = !(ctl & 128);
		d6_srv_input(s, &from, data + i, len);
		if (ctl & 64)
			d6_srv_flush(s);
		i += len;
	}
	d6_srv_flush(s);
	bound = d6_srv_bound(s);
	d6_srv_free(s);
	/* What was written reads back the same. */
	s = d6_srv_new(&cfg, &env, err, sizeof(err));
	if (!s)
		die(err);
	if (d6_srv_bound(s) != bound)
		die("bound leases differ after reloading the journal");
	d6_srv_free(s);
	d6_cfg_free(&cfg);
	return 0;
}
