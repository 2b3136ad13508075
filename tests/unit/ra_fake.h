/*
 * A fake host for driving the ra module without a stack: the host API 4
 * calls it uses record what the module does (groups joined, the ICMPv6
 * receiver, every message sent with the time it left, the router flag,
 * timers, counters), and the test or fuzz harness plays the link and the
 * clock by calling the module's receiver and rf_advance().  Shared by
 * tests/unit/test_ra.c and tests/fuzz/fuzz_ra.c.
 */
#ifndef TAPIR_TEST_RA_FAKE_H
#define TAPIR_TEST_RA_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <tapir/module.h>

#define RF_MAX_TIMERS 8
#define RF_MAX_COUNTERS 16
#define RF_MAX_SENT 64
#define RF_MAX_ADDRS 10
#define RF_MSG_MAX 1500

struct tapir_timer {
	bool used, armed;
	uint64_t due;
	tapir_timer_fn fn;
	void *arg;
};

struct rf_sent {
	uint64_t at;
	struct tapir_addr dst;
	bool to_mac;
	uint8_t msg[RF_MSG_MAX];
	size_t len;
};

struct ra_fake {
	uint64_t now;
	uint8_t mac[6];
	unsigned mtu;
	/* if_addr(): index 0 the IPv4 address, then these */
	struct tapir_addr addr[RF_MAX_ADDRS];
	unsigned plen[RF_MAX_ADDRS];
	unsigned naddr;
	/* groups joined (count per mcast_join, minus mcast_leave) */
	struct tapir_addr groups[4];
	int group_refs[4];
	unsigned ngroups;
	/* the ICMPv6 receiver */
	bool bound;
	uint8_t bound_type;
	tapir_icmp6_recv_fn rx_fn;
	void *rx_arg;
	/* icmp6_send(): what it returns, and what it was given */
	int send_rc;
	struct rf_sent sent[RF_MAX_SENT];
	unsigned nsent; /* all sends, also those past RF_MAX_SENT */
	bool router;
	unsigned router_calls;
	struct tapir_timer timers[RF_MAX_TIMERS];
	struct {
		char name[72];
		uint64_t v;
	} counters[RF_MAX_COUNTERS];
	unsigned ncounters;
	unsigned logs;
	char last_log[256];
	uint64_t random_seed;
	char errors[8][256]; /* what check() reported */
	unsigned nerrors;
};

extern struct ra_fake rf;
extern const struct tapir_host_api rf_api;
extern const struct tapir_module tapir_module; /* the ra module's */

/* Reset the fake: clock 1000000 ms, MAC 02:00:00:00:00:02, MTU 1500,
 * one link-local address fe80::2/64 and fd00::2/64. */
void rf_reset(void);
/* Add an IPv6 address (text) with its prefix length to if_addr()'s list. */
void rf_add_addr(const char *addr, unsigned plen);
/* A config section from text (kept until the next call); NULL with the
 * parse error printed.  rf_check() reads it against the module's
 * descriptors and runs its check(): 0, or -1 with the problems in
 * rf.errors.  rf_conf(): the filled settings, until the next call. */
config_setting_t *rf_section(const char *text);
int rf_check(const config_setting_t *s);
const void *rf_conf(void);
void rf_section_free(void);
/* rf_section + rf_check + init; NULL when any step fails. */
void *rf_start(const char *text);
/* A message to the bound receiver from src (text), hop limit hl. */
void rf_rx(const char *src, uint8_t hl, const uint8_t *msg, size_t len);
/* A valid RS from fe80::1 with a source link-layer option. */
void rf_rs(void);
/* Move the clock by ms, firing due timers in order. */
void rf_advance(uint64_t ms);
uint64_t rf_counter(const char *name);
unsigned rf_timers_armed(void);
/* The i-th message sent (NULL past the last one recorded). */
const struct rf_sent *rf_msg(unsigned i);
bool rf_joined(const char *group);

#endif
