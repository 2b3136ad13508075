/*
 * libFuzzer harness: the dns module (src/modules/dns/) on the fake host of
 * tests/unit/dns_fake.c, fed untrusted DNS messages over UDP, byte streams
 * over TCP, and lease entries as the dhcp module would publish them.
 *
 * Input format: byte 0 selects the mode (its low two bits):
 *   0, 1  the rest is one UDP datagram (a query, or anything);
 *   2     TCP: byte 1 is the send room (times 64 bytes), then records of a
 *         length byte L and L bytes, each offered to recv() in one call;
 *         a length byte of 0 means "the peer's send room comes back"
 *         (writable()), 255 "the clock moves 3 s" (the idle timer);
 *   3     a "dhcp.lease" entry: the key up to a NUL, then the value; then
 *         a query for leased.lab.test and one for its PTR are answered.
 *
 * Checked (abort() on failure): every UDP answer is at most edns_payload
 * (1232) bytes, has QR set and the query's ID; every response framed on a
 * TCP connection has QR set and a 2-byte length of at least 12; no
 * connection is left with a context after closed(); the module's state
 * after each input is reusable (one instance serves every input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/dns_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const struct tapir_module tapir_module;

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "fuzz_dns: invariant violated: " __VA_ARGS__); \
		abort();                                                       \
	} while (0)

static const char conf[] =
	"port = 53; tcp_idle_timeout = 2; max_tcp_connections = 4;\n"
	"zones = ( { name = \"lab.test\";\n"
	"  records = [ \"@ SOA ns1 hostmaster 1 3600 600 86400 60\",\n"
	"    \"@ NS ns1\", \"ns1 A 10.0.0.2\", \"www A 10.0.0.2\",\n"
	"    \"www AAAA fd00::2\", \"mail MX 10 mx1\", \"mx1 A 10.0.0.3\",\n"
	"    \"alias CNAME www\", \"@ TXT \\\"v=lab\\\"\",\n"
	"    \"_http._tcp SRV 0 0 80 www\", \"c1 CNAME c2\", \"c2 CNAME c1\",\n"
	"    \"b A 10.0.1.1\", \"b A 10.0.1.2\", \"b A 10.0.1.3\",\n"
	"    \"b A 10.0.1.4\", \"b A 10.0.1.5\", \"b A 10.0.1.6\",\n"
	"    \"b A 10.0.1.7\", \"b A 10.0.1.8\", \"b A 10.0.1.9\",\n"
	"    \"b A 10.0.1.10\", \"b A 10.0.1.11\", \"b A 10.0.1.12\",\n"
	"    \"b A 10.0.1.13\", \"b A 10.0.1.14\", \"b A 10.0.1.15\",\n"
	"    \"b A 10.0.1.16\", \"b A 10.0.1.17\", \"b A 10.0.1.18\",\n"
	"    \"b A 10.0.1.19\", \"b A 10.0.1.20\", \"b A 10.0.1.21\",\n"
	"    \"b A 10.0.1.22\", \"b A 10.0.1.23\", \"b A 10.0.1.24\",\n"
	"    \"b A 10.0.1.25\", \"b A 10.0.1.26\", \"b A 10.0.1.27\",\n"
	"    \"b A 10.0.1.28\", \"b A 10.0.1.29\", \"b A 10.0.1.30\",\n"
	"    \"host.sub A 10.0.0.9\" ]; } );\n";

static void *mod;

static void start(void)
{
	config_setting_t *s;

	fk_reset();
	s = fk_section(conf);
	if (!s || fk_check_section(s) != 0)
		FAIL("the harness's configuration is refused\n");
	mod = tapir_module.init((struct tapir_host *)&fk, &fk_api, fk_conf());
	if (!mod)
		FAIL("init failed\n");
	fk_section_free();
}

static void check_udp(const uint8_t *q, size_t n)
{
	if (!fk.sent_len)
		return;
	if (fk.sent_len > 1232 || fk.sent_len < 12)
		FAIL("UDP answer of %zu bytes\n", fk.sent_len);
	if (!(fk.sent[2] & 0x80))
		FAIL("UDP answer without QR\n");
	if (n < 2 || fk.sent[0] != q[0] || fk.sent[1] != q[1])
		FAIL("UDP answer with another ID\n");
}

static void check_tcp(const struct tapir_tcp *c)
{
	size_t off = 0;

	while (off + 2 <= c->out_len) {
		size_t len = (size_t)c->out[off] << 8 | c->out[off + 1];

		if (len < 12)
			FAIL("TCP response of %zu bytes\n", len);
		if (off + 2 + len > c->out_len)
			break; /* the rest waits for send room */
		if (!(c->out[off + 4] & 0x80))
			FAIL("TCP response without QR\n");
		off += 2 + len;
	}
}

static void tcp(const uint8_t *d, size_t n)
{
	struct tapir_tcp *c = &fk.conns[0];
	size_t i = 1;

	if (n < 1 || !fk_tcp_open(0, (size_t)d[0] * 64 + 1))
		return;
	while (i < n && c->open) {
		size_t l = d[i++];

		if (l == 0) {
			c->room += 4096;
			fk.tcp_cb->writable(c->ctx, c);
			continue;
		}
		if (l == 255) {
			fk_advance(3000);
			continue;
		}
		if (l > n - i)
			l = n - i;
		fk_tcp_data(0, d + i, l);
		i += l;
	}
	if (c->open)
		check_tcp(c);
	/* The peer goes away: the module frees its context in closed(). */
	if (c->open) {
		c->open = false;
		fk.tcp_cb->closed(c->ctx, c, -104);
	}
	if (fk_timers_armed())
		FAIL("a timer is left armed after the connection closed\n");
}

static void lease(const uint8_t *d, size_t n)
{
	static const uint8_t qa[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				     6, 'l', 'e', 'a', 's', 'e', 'd',
				     3, 'l', 'a', 'b', 4, 't', 'e', 's', 't',
				     0, 0, 1, 0, 1};
	static const uint8_t qp[] = {0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				     1, '7', 1, '0', 1, '0', 2, '1', '0',
				     7, 'i', 'n', '-', 'a', 'd', 'd', 'r',
				     4, 'a', 'r', 'p', 'a', 0, 0, 12, 0, 1};
	char key[256];
	const uint8_t *nul = memchr(d, 0, n < 255 ? n : 255);
	size_t kl;

	if (!nul || !fk.watch_fn)
		return;
	kl = (size_t)(nul - d);
	memcpy(key, d, kl);
	key[kl] = 0;
	fk.watch_fn(fk.watch_arg, "dhcp.lease", key, nul + 1,
		    n - kl - 1);
	fk_udp(qa, sizeof(qa));
	check_udp(qa, sizeof(qa));
	fk_udp(qp, sizeof(qp));
	check_udp(qp, sizeof(qp));
	fk.watch_fn(fk.watch_arg, "dhcp.lease", key, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mod)
		start();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
	case 1: {
		/* A heap copy of exactly the datagram: ASan sees overreads. */
		uint8_t *q = malloc(size - 1 ? size - 1 : 1);

		if (!q)
			return 0;
		memcpy(q, data + 1, size - 1);
		fk_udp(q, size - 1);
		check_udp(q, size - 1);
		free(q);
		break;
	}
	case 2:
		tcp(data + 1, size - 1);
		break;
	case 3:
		lease(data + 1, size - 1);
		break;
	}
	return 0;
}
