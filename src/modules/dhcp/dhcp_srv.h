/*
 * The DHCP server proper (RFC 2131, 2132): address slots, leases, the
 * protocol rules and the durable journal, independent of tapird's host
 * API.  The module glue (dhcp.c) reads the settings into a struct dhcp_cfg
 * and hands in an environment (clock, send, publish); the unit tests drive
 * the same code with their own.
 *
 * Slots.  Every address the server may hand out (the pool ranges and the
 * reservations) is a slot, in one array sorted by address.  A slot is FREE,
 * OFFERED (until offer_time passes), BOUND (until its lease expires) or
 * DECLINED (quarantined until decline_time passes).  A slot remembers the
 * last client it served even when free again, so a returning client gets
 * its address back; free slots wait in a queue, never-used ones first and
 * then the least recently freed, so remembered addresses are reused last.
 * Clients are found by key (the client identifier, option 61, or else the
 * hardware type and address) in a hash table keyed with a secret.
 *
 * Subnets.  The pool of the link (our own subnet) is subnet 0; each relay
 * subnet of the config is one more (RFC 2131 4.3.1: a relayed message,
 * giaddr set, is served from the subnet that holds giaddr).  Every slot
 * belongs to one subnet and each subnet has its own free and offer
 * queues, so a relay's clients never drain the link's pool nor the
 * reverse.  A message from a relay whose giaddr lies in no subnet of
 * ours is dropped and counted.
 *
 * Ping check.  With cfg.ping_check, an address that is about to be
 * offered for the first time since it was free is first pinged (through
 * env.ping); the DISCOVER waits in a bounded table of probes.  An answer
 * means some host uses the address: it is set aside like a declined one
 * (RFC 2131 3.1.5, for decline_time) and the DISCOVER is served again
 * with another address, a few times at most.  No answer: the offer goes
 * out.
 *
 * Durability.  An ACK is sent only after its lease is on disk: leases
 * granted while a batch is open are appended to the journal together with
 * one fdatasync when the batch closes (batch_ms after it opened, or at
 * batch_max leases), then the batch's ACKs go out and the leases are
 * published (ISC dhcpd's delayed ack).  So a crash loses no acknowledged
 * lease; a client whose ACK was lost simply asks again.
 */
#ifndef TAPIR_DHCP_SRV_H
#define TAPIR_DHCP_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_journal.h"
#include "dhcp_wire.h"

#define DHCP_MAX_RANGES 64
#define DHCP_MAX_SLOTS 65536 /* pool addresses + reservations */
#define DHCP_MAX_RES 4096
#define DHCP_MAX_ADDRS 8   /* routers, DNS servers */
#define DHCP_MAX_OPTS 64   /* options by code from the config */
#define DHCP_CLIENT_ID_MAX 63 /* longer option 61s are not used as a key */
#define DHCP_MAX_SUBNETS 32 /* relay subnets */
#define DHCP_MAX_PROBES 32  /* DISCOVERs waiting for their ping check */
#define DHCP_PROBE_TRIES 4  /* addresses pinged for one DISCOVER at most */

struct dhcp_range {
	uint32_t first, last;
};

/* A relay subnet: the addresses of its pool lie inside net/prefix. */
struct dhcp_subnet {
	uint32_t net;
	unsigned prefix;
	struct dhcp_range range[DHCP_MAX_RANGES];
	unsigned nranges;
	uint32_t router[DHCP_MAX_ADDRS]; /* its own, none when not given */
	unsigned nrouters;
	uint32_t dns[DHCP_MAX_ADDRS]; /* with ndns 0: the module's */
	unsigned ndns;
	uint32_t lease_time; /* 0: the module's */
};

struct dhcp_res {
	bool by_mac;
	uint8_t mac[6];
	uint8_t idlen;
	uint8_t id[DHCP_CLIENT_ID_MAX];
	uint32_t addr;
	char host[JREC_HOST_MAX + 1];
};

struct dhcp_optval {
	uint8_t code;
	uint8_t len;
	uint8_t data[255];
};

struct dhcp_cfg {
	struct dhcp_range range[DHCP_MAX_RANGES];
	unsigned nranges;
	uint32_t lease_time;  /* seconds */
	uint32_t t1, t2;      /* seconds; 0: 1/2 and 7/8 of the lease */
	uint32_t router[DHCP_MAX_ADDRS];
	unsigned nrouters;
	uint32_t dns[DHCP_MAX_ADDRS];
	unsigned ndns;
	char domain[256];
	struct dhcp_res *res; /* owned by the config */
	unsigned nres;
	struct dhcp_optval *opts; /* owned by the config */
	unsigned nopts;
	uint32_t offer_time;   /* seconds an offer holds its address */
	uint32_t decline_time; /* seconds a declined address rests */
	uint32_t max_leases;   /* offered + bound at once */
	uint32_t batch_ms;     /* longest wait for the journal's fsync */
	uint32_t batch_max;    /* leases per fsync at most */
	char lease_file[4096];
	struct dhcp_subnet *subnets; /* owned by the config */
	unsigned nsubnets;
	/* Bounds of a lease time a client asks for (option 51); 0: the
	 * lease_time that applies. */
	uint32_t min_lease_time, max_lease_time;
	uint32_t max_leases_per_mac; /* client identifiers per MAC; 0: any */
	bool ping_check;
	uint32_t ping_timeout_ms;
};

/* What the server needs from its host. */
struct dhcp_env {
	void *arg;
	/* Unix time, seconds. */
	int64_t (*now)(void *arg);
	/* Our address, prefix length and MTU-bounded reply size. */
	uint32_t server_ip;
	unsigned prefix;
	size_t reply_max;
	/* Send a reply to ip:port, to mac without ARP when mac != NULL. */
	void (*send)(void *arg, uint32_t ip, uint16_t port, const uint8_t *mac,
		     const uint8_t *data, size_t len);
	/* Lease published / withdrawn (topic "dhcp.lease"). */
	void (*publish)(void *arg, const char *key, const char *value);
	void (*unpublish)(void *arg, const char *key);
	/* A batch opened: call dhcp_srv_flush() within cfg.batch_ms. */
	void (*batch_open)(void *arg);
	void (*log)(void *arg, int prio, const char *msg);
	/* Fill buf with len unpredictable bytes: 0, or -1 when none are to
	 * be had (then a weaker key is made from the time).  May be NULL. */
	int (*random)(void *arg, void *buf, size_t len);
	/* Ping ip; call done(ctx, result) once, later (1: answered, 0: no
	 * answer, < 0: could not ask).  Returns a handle, or NULL when no
	 * ping could be sent (done is then not called).  NULL pointers:
	 * no ping check. */
	void *(*ping)(void *arg, uint32_t ip, unsigned timeout_ms,
		      void (*done)(void *ctx, int result), void *ctx);
	void (*ping_cancel)(void *arg, void *handle);
};

enum dhcp_count {
	DC_RX,
	DC_BAD,
	DC_DISCOVER,
	DC_REQUEST,
	DC_DECLINE,
	DC_RELEASE,
	DC_INFORM,
	DC_OFFER,
	DC_ACK,
	DC_NAK,
	DC_IGNORED,
	DC_NO_ADDRESS,
	DC_OFFER_REUSED, /* an unanswered offer given to another client */
	DC_EXPIRED,
	DC_FSYNC,
	DC_JOURNAL_ERR,
	DC_UNWRITTEN,    /* ACKs dropped: their leases were not written */
	DC_NO_SUBNET,    /* relayed from a giaddr in none of our subnets */
	DC_MAC_CAP,      /* a new client over max_leases_per_mac */
	DC_PING,         /* ping checks started */
	DC_PING_TAKEN,   /* ... that were answered: address set aside */
	DC_PING_BUSY,    /* DISCOVERs dropped: every probe in use */
	DC_COUNT
};

extern const char *const dhcp_count_names[DC_COUNT];

struct dhcp_srv;

/* A config with its defaults; free with dhcp_cfg_free. */
void dhcp_cfg_default(struct dhcp_cfg *c);
void dhcp_cfg_free(struct dhcp_cfg *c);

/* Build the server: slots, the journal loaded and rewritten.  NULL with a
 * reason in err on failure.  Publishes nothing yet. */
struct dhcp_srv *dhcp_srv_new(const struct dhcp_cfg *cfg,
			      const struct dhcp_env *env, char *err,
			      size_t errlen);
/* Publish every bound lease (after new, or after a swap on reload). */
void dhcp_srv_publish_all(struct dhcp_srv *s);
/* Withdraw every published lease. */
void dhcp_srv_unpublish_all(struct dhcp_srv *s);
/* Flush any open batch, close the journal, free.  Publishes nothing. */
void dhcp_srv_free(struct dhcp_srv *s);

/* One datagram to port 67.  src_ip/src_port as received. */
void dhcp_srv_input(struct dhcp_srv *s, uint32_t src_ip, uint16_t src_port,
		    const uint8_t *data, size_t len);
/* Close the open batch: journal, fsync, then send its ACKs. */
void dhcp_srv_flush(struct dhcp_srv *s);
/* Expire leases, offers and quarantines that are due. */
void dhcp_srv_tick(struct dhcp_srv *s);

const uint64_t *dhcp_srv_counters(const struct dhcp_srv *s);
/* Bound leases now. */
size_t dhcp_srv_bound(const struct dhcp_srv *s);

/* A host name from a client (option 81's first label, else option 12's),
 * lowercased and checked as one LDH label; false when none is valid. */
bool dhcp_client_hostname(const struct dhcp_msg *m, char out[64]);
bool dhcp_label_ok(const char *s, size_t len);

#endif
