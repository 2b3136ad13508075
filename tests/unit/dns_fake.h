/*
 * A fake host for driving the dns module without a stack: the host API's
 * calls record what the module does (bound ports, datagrams sent, bytes
 * queued on fake TCP connections, timers armed, counters, watches), and the
 * test (or fuzz harness) plays the network and the clock by calling the
 * module's callbacks.  Shared by tests/unit/test_dns.c and
 * tests/fuzz/fuzz_dns.c.
 */
#ifndef TAPIR_TEST_DNS_FAKE_H
#define TAPIR_TEST_DNS_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <tapir/module.h>

#define FK_MAX_CONNS 16
#define FK_MAX_TIMERS 128
#define FK_MAX_QSOCKS 64
#define FK_MAX_COUNTERS 64
#define FK_OUT_MAX (4 * 65540)

struct tapir_tcp {
	bool open;     /* accepted and not let go by the module */
	bool reset;    /* tcp_abort */
	bool closed;   /* tcp_close */
	bool shut;     /* tcp_shutdown */
	void *ctx;
	size_t room;   /* what tcp_send takes before it is full */
	uint8_t *out;  /* bytes the module queued */
	size_t out_len;
	unsigned resumes;
	/* Opened by the module with tcp_connect(): */
	bool outgoing;
	const struct tapir_tcp_handlers *cb;
	struct tapir_addr peer;
	uint16_t peer_port;
};

/* A UDP port the forwarder bound for its queries (any port bound with
 * another callback than the first one bound after fk_reset(), which is
 * the server's). */
struct fk_qsock {
	bool used;
	uint16_t port;
	tapir_udp_recv_fn fn;
	void *arg;
	struct tapir_addr to; /* where its last datagram went */
	uint16_t to_port;
	uint8_t sent[4096];
	size_t sent_len;
	unsigned sends;
};

struct tapir_timer {
	bool used, armed;
	uint64_t due;
	tapir_timer_fn fn;
	void *arg;
};

struct fake_host {
	uint64_t now;
	/* The module's histogram (host API 6); now_us() is now * 1000. */
	struct tapir_histogram hist;
	char hist_name[64];
	/* UDP */
	bool udp_bound;
	uint16_t udp_port;
	tapir_udp_recv_fn udp_fn;
	void *udp_arg;
	uint8_t sent[65536];
	size_t sent_len;
	unsigned sends;
	struct tapir_addr sent_to; /* where the last datagram went */
	/* TCP */
	bool listening;
	uint16_t tcp_port;
	const struct tapir_tcp_handlers *tcp_cb;
	void *tcp_arg;
	struct tapir_tcp conns[FK_MAX_CONNS];
	struct tapir_timer timers[FK_MAX_TIMERS];
	struct {
		char name[72];
		uint64_t v;
	} counters[FK_MAX_COUNTERS];
	unsigned ncounters;
	/* watch */
	tapir_watch_fn watch_fn;
	void *watch_arg;
	char topic[64];
	unsigned logs;
	unsigned randoms; /* random() calls */
	char errors[8][256]; /* what check() reported */
	unsigned nerrors;
	/* The forwarder's ports and connections. */
	struct fk_qsock qs[FK_MAX_QSOCKS];
	int qs_last;  /* the one that sent last, -1: none */
	unsigned qsends;
	int tcp_last; /* the connection tcp_connect() opened last, -1 */
	uint64_t rnd;  /* random()'s state */
};

extern struct fake_host fk;
extern const struct tapir_host_api fk_api;
extern const struct tapir_module tapir_module; /* the dns module's */

/* Reset the fake (everything zero). */
void fk_reset(void);
/* A config section from text "{ ...settings... }" (kept until the next
 * call); NULL with the parse error printed. */
config_setting_t *fk_section(const char *settings);
void fk_section_free(void);
/* Read s against the dns module's setting descriptors and run its check()
 * (as tapird does); the problems land in fk.errors.  0 or -1.  fk_conf()
 * is the settings struct it filled, for init() or reconfigure(), valid
 * until the next call or fk_section_free(). */
int fk_check_section(const config_setting_t *s);
const void *fk_conf(void);
/* A query datagram from 10.0.0.1:5353 to the module; the answer, if any,
 * is in fk.sent. */
void fk_udp(const uint8_t *q, size_t len);
/* The same from source address src (host byte order). */
void fk_udp_from(uint32_t src, const uint8_t *q, size_t len);
/* The same from any address. */
void fk_udp_from_addr(const struct tapir_addr *src, const uint8_t *q,
		      size_t len);
/* Open connection i (accepted() called); false when refused. */
bool fk_tcp_open(unsigned i, size_t room);
/* Bytes from the peer on connection i: recv() is offered them (again
 * after each resume, as the stack would); returns the bytes taken. */
size_t fk_tcp_data(unsigned i, const uint8_t *d, size_t len);
/* Move the clock by ms, firing due timers. */
void fk_advance(uint64_t ms);
uint64_t fk_counter(const char *name);
/* A datagram to the forwarder's port qs[i] from src:sport. */
void fk_qsock_recv(int i, const struct tapir_addr *src, uint16_t sport,
		   const uint8_t *d, size_t len);
/* Query sockets bound now. */
unsigned fk_qsocks_bound(void);
/* Bytes from the upstream side of outgoing connection i. */
size_t fk_tcp_peer_data(unsigned i, const uint8_t *d, size_t len);
unsigned fk_timers_armed(void);

#endif
