/*
 * libFuzzer harness: the ra module (src/modules/ra) on the fake host of
 * tests/unit/ra_fake.c, fed untrusted Router Solicitations.
 *
 * Input format (byte 0 is the mode):
 *
 *   mode bit 0   configured prefixes (fd00::/64, 2001:db8::/48) instead of
 *                the default ones from the addresses
 *   mode bit 1   router_lifetime 1800
 *   mode bit 2   fast intervals (min 3 s, max 4 s)
 *
 *   record := ctl len msg[len]
 *     ctl bits 0-5: tenths of a second the clock advances first (ctl
 *     63: 10 minutes); ctl bit 6: the source is :: instead of fe80::1;
 *     ctl bit 7: hop limit 64 instead of 255.  A len past the end of the
 *     input takes what is left.  After the records a reload (without
 *     the prefixes, in mode 1) and ten minutes more, then fini.
 *
 * Checked (abort() on failure): every RA parses (header, options each a
 * whole number of 8-byte units within the message, at most the link's
 * MTU less the IPv6 header) and goes to ff02::1; consecutive RAs are at
 * least 3 s apart but for the final one; no more solicitations counted
 * invalid than received; no timer is left armed after fini.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapir/bytes.h>

#include "ra_fake.h"
#include "ra_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "invariant violated: %s\n", what);
	abort();
}

static void check_ra(const struct rf_sent *m)
{
	struct tapir_addr allnodes;
	size_t at = RA_HDR_LEN;

	tapir_addr_parse("ff02::1", &allnodes);
	if (!tapir_addr_eq(&m->dst, &allnodes))
		die("RA not to all-nodes");
	if (m->len < RA_HDR_LEN || m->len > rf.mtu - 40 || m->msg[0] != 134 ||
	    m->msg[1] != 0)
		die("RA header");
	while (at < m->len) {
		size_t olen;

		if (at + 2 > m->len)
			die("option header past the end");
		olen = (size_t)m->msg[at + 1] * 8;
		if (!olen || at + olen > m->len)
			die("option length");
		if (m->msg[at] == ND_OPT_PREFIX_INFO &&
		    (olen != PIO_LEN ||
		     tapir_get_be32(m->msg + at + 8) >
			     tapir_get_be32(m->msg + at + 4)))
			die("prefix option");
		at += olen;
	}
}

static void check_sent(unsigned from, bool final_last)
{
	for (unsigned i = from; i < rf.nsent && i < RF_MAX_SENT; i++) {
		check_ra(rf_msg(i));
		if (i && !(final_last && i + 1 == rf.nsent) &&
		    rf_msg(i)->at - rf_msg(i - 1)->at < 3000)
			die("RAs less than 3 s apart");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char conf[256];
	uint8_t mode;
	size_t at = 1;
	void *st;
	config_setting_t *s;

	if (size < 1)
		return 0;
	mode = data[0];
	rf_reset();
	snprintf(conf, sizeof(conf), "%s %s %s dnssl = \"lab.test\";",
		 mode & 1 ? "prefixes = [ \"fd00::/64\", \"2001:db8::/48\" ];"
			  : "",
		 mode & 2 ? "router_lifetime = 1800;" : "",
		 mode & 4 ? "min_interval = 3; max_interval = 4;" : "");
	st = rf_start(conf);
	if (!st)
		die("init failed");
	while (at + 2 <= size && rf.nsent < RF_MAX_SENT - 2) {
		uint8_t ctl = data[at], len = data[at + 1];
		size_t n;

		at += 2;
		n = len < size - at ? len : size - at;
		rf_advance((ctl & 63) == 63 ? 600000 : (uint64_t)(ctl & 63) * 100);
		rf_rx(ctl & 64 ? "::" : "fe80::1", ctl & 128 ? 64 : 255,
		      data + at, n);
		at += n;
	}
	s = rf_section(mode & 1 ? "dnssl = \"lab.test\";" : conf);
	if (!s || rf_check(s) || tapir_module.reconfigure(st, rf_conf()))
		die("reload failed");
	rf_advance(600000);
	tapir_module.fini(st);
	rf_section_free();
	check_sent(0, true);
	if (rf_counter("rs_invalid") > rf_counter("rs_received"))
		die("more invalid than received");
	if (rf_timers_armed())
		die("timer left armed");
	return 0;
}
