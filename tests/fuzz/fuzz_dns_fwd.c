/*
 * libFuzzer harness: the dns module's forwarder (forward.c, fwdmsg.c,
 * cache.c) on the fake host of tests/unit/dns_fake.c, fed upstream
 * answers -- the untrusted input a forwarder takes from the network --
 * between client queries and clock steps.
 *
 * Input: records of an opcode byte and its operands, until the input ends:
 *   0 N F   a client asks over UDP: name N % 4 of a few under up.test and
 *           corp.test, type A/AAAA/MX/TXT by F & 3, EDNS (1232) when F & 4,
 *           DO when F & 8; its ID says whether it had EDNS
 *   1 F L L' BYTES  an upstream datagram of L*256+L' bytes to the port that
 *           sent last: F & 1 puts the ID of that query in, F & 2 puts its
 *           header and question in front of BYTES (the records; the
 *           counts then come from BYTES' first 6 bytes; without F & 1 the
 *           ID is then changed),
 *           F & 4 sends it from another port (dropped)
 *   2 T     the clock moves T * 50 ms (timeouts, retries, expiry)
 *   3 F L L' BYTES  upstream TCP bytes on the connection opened last, the
 *           same F bits; F & 8 frames them with their length
 *   4 N F   a client asks over TCP (connection 0), as opcode 0
 *
 * Checked (abort() on failure): every UDP answer to a client has QR, the
 * client's ID, and at most 512 bytes without EDNS or 1232 with it; every
 * TCP answer framed to the client has QR; after the input, fini() leaves
 * no port bound and no timer armed (ASan checks the rest).  Each input
 * runs on a fresh instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>

#include "../unit/dns_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const struct tapir_module tapir_module;

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "fuzz_dns_fwd: invariant violated: " __VA_ARGS__); \
		abort();                                                       \
	} while (0)

static const char conf[] =
	"port = 53; max_tcp_connections = 4; tcp_idle_timeout = 5;\n"
	"zones = ( { name = \"lab.test\"; records = [\n"
	"  \"@ SOA ns1 hostmaster 1 3600 600 86400 60\", \"www A 10.0.0.2\" ];"
	" } );\n"
	"upstream = [ \"10.0.1.53\", \"[fd01::53]:5353\" ];\n"
	"forward_zones = ( { name = \"corp.test\"; upstream = \"10.0.2.53\"; } );\n"
	"forward_timeout = 100; forward_tries = 2; cache_size = 8;\n"
	"cache_max_bytes = 65536; forward_max_outstanding = 6;\n"
	"forward_max_per_client = 4;\n";

static const char *const names[4] = {"www.up.test", "nx.UP.test",
				      "host.corp.test", "big.up.test"};
static const uint16_t types[4] = {1, 28, 15, 16};

static size_t put_name(uint8_t *p, const char *text)
{
	size_t n = 0;

	while (*text) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);

		p[n++] = (uint8_t)l;
		memcpy(p + n, text, l);
		n += l;
		text += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* A client's query: ID 0x4200 | EDNS. */
static size_t client_query(uint8_t *q, uint8_t ni, uint8_t f)
{
	size_t n = 12;
	bool edns = f & 4;

	memset(q, 0, 12);
	q[0] = 0x42;
	q[1] = edns ? 1 : 0;
	q[2] = 0x01; /* RD */
	q[5] = 1;
	n += put_name(q + n, names[ni % 4]);
	tapir_put_be16(q + n, types[f & 3]);
	tapir_put_be16(q + n + 2, 1);
	n += 4;
	if (edns) {
		static const uint8_t opt[11] = {0, 0, 41, 4, 0xd0, 0, 0,
						0, 0, 0, 0};

		memcpy(q + n, opt, sizeof(opt));
		if (f & 8)
			q[n + 7] = 0x80;
		q[11] = 1;
		n += sizeof(opt);
	}
	return n;
}

static void check_udp(unsigned before)
{
	size_t lim;

	if (fk.sends == before || !fk.sent_len)
		return;
	if (fk.sent_len < 12)
		FAIL("UDP answer of %zu bytes\n", fk.sent_len);
	if (!(fk.sent[2] & 0x80))
		FAIL("UDP answer without QR\n");
	if (fk.sent[0] != 0x42 || (fk.sent[1] & ~1u))
		FAIL("UDP answer with another ID\n");
	lim = fk.sent[1] & 1 ? 1232 : 512;
	if (fk.sent_len > lim)
		FAIL("UDP answer of %zu bytes over %zu\n", fk.sent_len, lim);
}

static void check_tcp(const struct tapir_tcp *c)
{
	size_t off = 0;

	while (off + 2 <= c->out_len) {
		size_t len = (size_t)c->out[off] << 8 | c->out[off + 1];

		if (len < 12)
			FAIL("TCP answer of %zu bytes\n", len);
		if (off + 2 + len > c->out_len)
			break;
		if (!(c->out[off + 4] & 0x80))
			FAIL("TCP answer without QR\n");
		off += 2 + len;
	}
}

/* The upstream message from the fuzz bytes and the query it answers. */
static size_t upstream_msg(uint8_t *m, const uint8_t *sent, size_t slen,
			   uint8_t f, const uint8_t *d, size_t n)
{
	size_t len = 0;

	if ((f & 2) && slen >= 12) {
		size_t qend = 12;

		while (qend < slen && sent[qend])
			qend += sent[qend] + 1u;
		qend += 5;
		if (qend > slen)
			qend = slen;
		memcpy(m, sent, qend);
		m[2] |= 0x80;
		memset(m + 6, 0, 6);
		if (n >= 6) {
			memcpy(m + 6, d, 6);
			d += 6;
			n -= 6;
		}
		len = qend;
	}
	memcpy(m + len, d, n);
	len += n;
	if ((f & 1) && len >= 2 && slen >= 2)
		memcpy(m, sent, 2);
	else if ((f & 2) && len >= 2)
		m[1] ^= 0xa5; /* the question, but another ID */
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t q[512], m[70000];
	config_setting_t *s;
	void *mod;
	size_t i = 0;
	bool tcp_open;

	fk_reset();
	s = fk_section(conf);
	if (!s || fk_check_section(s) != 0)
		FAIL("the harness's configuration is refused\n");
	mod = tapir_module.init((struct tapir_host *)&fk, &fk_api, fk_conf());
	if (!mod)
		FAIL("init failed\n");
	fk_section_free();
	tcp_open = fk_tcp_open(0, 1 << 20);
	while (i < size) {
		uint8_t op = data[i++];
		unsigned before = fk.sends;

		switch (op % 5) {
		case 0:
		case 4: {
			size_t n;

			if (size - i < 2)
				goto done;
			n = client_query(q + 2, data[i], data[i + 1]);
			i += 2;
			if (op % 5 == 0) {
				fk_udp(q + 2, n);
				check_udp(before);
			} else if (tcp_open && fk.conns[0].open) {
				tapir_put_be16(q, (uint16_t)n);
				fk_tcp_data(0, q, n + 2);
			}
			break;
		}
		case 1:
		case 3: {
			uint8_t f;
			size_t l, n;
			const uint8_t *sent;
			size_t slen;

			if (size - i < 3)
				goto done;
			f = data[i];
			l = (size_t)data[i + 1] << 8 | data[i + 2];
			i += 3;
			if (l > size - i)
				l = size - i;
			if (op % 5 == 1) {
				int qi = fk.qs_last;
				struct tapir_addr src;

				if (qi < 0 || !fk.qs[qi].used) {
					i += l;
					break;
				}
				sent = fk.qs[qi].sent;
				slen = fk.qs[qi].sent_len;
				n = upstream_msg(m, sent, slen, f, data + i, l);
				src = fk.qs[qi].to;
				fk_qsock_recv(qi, &src,
					      (uint16_t)(fk.qs[qi].to_port +
							 (f & 4 ? 1 : 0)),
					      m, n);
			} else {
				int c = fk.tcp_last;

				if (c < 0 || !fk.conns[c].open ||
				    !fk.conns[c].outgoing ||
				    fk.conns[c].out_len < 2) {
					i += l;
					break;
				}
				sent = fk.conns[c].out + 2;
				slen = fk.conns[c].out_len - 2;
				n = upstream_msg(m + 2, sent, slen, f, data + i,
						 l);
				if (f & 8) {
					tapir_put_be16(m, (uint16_t)n);
					fk_tcp_peer_data((unsigned)c, m, n + 2);
				} else {
					fk_tcp_peer_data((unsigned)c, m + 2, n);
				}
			}
			i += l;
			check_udp(before);
			break;
		}
		case 2:
			if (size - i < 1)
				goto done;
			fk_advance((uint64_t)data[i++] * 50);
			check_udp(before);
			break;
		}
		if (tcp_open && fk.conns[0].open)
			check_tcp(&fk.conns[0]);
	}
done:
	/* Let everything run out, then stop. */
	fk_advance(10000);
	if (tcp_open && fk.conns[0].open)
		check_tcp(&fk.conns[0]);
	tapir_module.fini(mod);
	if (fk_qsocks_bound())
		FAIL("a query port is left bound after fini\n");
	for (int c = 0; c < FK_MAX_CONNS; c++)
		if (fk.conns[c].outgoing && fk.conns[c].open)
			FAIL("an upstream connection is left open after fini\n");
	return 0;
}
