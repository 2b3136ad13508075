/*
 * The DHCPv6 server proper (RFC 8415): stateless configuration
 * (Information-request), and addresses (IA_NA) from a pool with durable
 * leases, independent of tapird's host API.  The module glue (dhcp6.c)
 * reads the settings into a struct d6_cfg and hands in an environment
 * (clock, send, publish, the server's DUID); the unit tests and the fuzz
 * harness drive the same code with their own.
 *
 * Slots.  Every address the server may hand out (the pool ranges and the
 * reservations) is a slot, in one array sorted by address.  A slot is
 * FREE, BOUND (until its valid lifetime ends) or DECLINED (quarantined
 * until decline_time passes).  A lease belongs to one IA of one client:
 * the slot's key is the client's DUID followed by the IAID.  A slot
 * remembers the last key it served even when free again, so a returning
 * client gets its address back.  Free pool slots wait in a queue.
 *
 * No state for strangers.  An Advertise reserves nothing: the server
 * names the address the client would get (the one it remembers for it,
 * else the head of the free queue, which then moves to the back and
 * remembers the client), and only a Request binds.  So a flood of
 * Solicits from made-up DUIDs costs no address and no memory; the real
 * client that goes on to Request gets an address while any is free.
 *
 * Durability.  A Reply that binds, extends, releases or declines is sent
 * only after its record is on disk: records made while a batch is open are
 * appended to the journal with one fdatasync when the batch closes
 * (batch_ms after it opened, or at batch_max replies), then the batch's
 * Replies go out and the leases are published.  A crash loses no lease a
 * client was told about.
 */
#ifndef TAPIR_DHCP6_SRV_H
#define TAPIR_DHCP6_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/addr.h>

#include "dhcp6_journal.h"
#include "dhcp6_wire.h"

#define D6_MAX_RANGES 64
#define D6_MAX_SLOTS 65536 /* pool addresses + reservations */
#define D6_MAX_RES 4096
#define D6_MAX_DNS 8
#define D6_MAX_SEARCH 8
#define D6_MAX_ONLINK 8
#define D6_REPLY_MAX 1232 /* 1280 - IPv6 - UDP: never fragmented */

/* first..last share their upper 64 bits (hi). */
struct d6_range {
	uint8_t hi[8];
	uint64_t first, last;
};

struct d6_res {
	uint8_t duidlen;
	uint8_t duid[D6_DUID_MAX];
	struct tapir_addr addr;
	char host[D6_HOST_MAX + 1];
};

struct d6_cfg {
	struct d6_range range[D6_MAX_RANGES];
	unsigned nranges;
	uint32_t preferred, valid; /* lifetimes, seconds */
	uint32_t t1, t2;           /* seconds; 0: 1/2 and 4/5 of preferred */
	struct tapir_addr dns[D6_MAX_DNS];
	unsigned ndns;
	char search[D6_MAX_SEARCH][254]; /* domain search list; [0] is the
					  * domain of client names */
	unsigned nsearch;
	uint32_t info_refresh; /* seconds; 0: not sent */
	bool rapid_commit;
	uint8_t preference;
	struct d6_res *res; /* owned by the config */
	unsigned nres;
	uint32_t decline_time; /* seconds a declined address rests */
	uint32_t max_leases;   /* bound at once; 0: no limit */
	uint32_t batch_ms;     /* longest wait for the journal's fsync */
	uint32_t batch_max;    /* replies per fsync at most */
	char lease_file[4096];
};

/* Where a message came from. */
struct d6_from {
	struct tapir_addr ip;
	uint16_t port;
	uint8_t mac[6];
	bool has_mac;
	bool multicast; /* sent to ff02::1:2 */
};

/* What the server needs from its host. */
struct d6_env {
	void *arg;
	/* Unix time, seconds. */
	int64_t (*now)(void *arg);
	/* The server's DUID. */
	uint8_t duid[D6_DUID_MAX];
	size_t duidlen;
	/* The prefixes on our link (for Confirm and Rebind): address and
	 * length. */
	struct tapir_addr onlink[D6_MAX_ONLINK];
	unsigned onlink_len[D6_MAX_ONLINK];
	unsigned nonlink;
	void (*send)(void *arg, const struct d6_from *to, const uint8_t *data,
		     size_t len);
	/* Lease published / withdrawn (topic "dhcp6.lease"). */
	void (*publish)(void *arg, const char *key, const char *value);
	void (*unpublish)(void *arg, const char *key);
	/* A batch opened: call d6_srv_flush() within cfg.batch_ms. */
	void (*batch_open)(void *arg);
	void (*log)(void *arg, int prio, const char *msg);
	/* Fill buf with len unpredictable bytes: 0, or -1.  May be NULL. */
	int (*random)(void *arg, void *buf, size_t len);
};

enum d6_count {
	C6_RX,
	C6_SOLICIT,
	C6_REQUEST,
	C6_CONFIRM,
	C6_RENEW,
	C6_REBIND,
	C6_RELEASE,
	C6_DECLINE,
	C6_INFO_REQUEST,
	C6_ADVERTISE,
	C6_REPLY,
	C6_RAPID_COMMIT,
	C6_NO_ADDRS,
	C6_NO_BINDING,
	C6_NOT_ON_LINK,
	C6_USE_MULTICAST,
	C6_DROP_MALFORMED,
	C6_DROP_RELAY,
	C6_DROP_TYPE,        /* a server's message type, or unknown */
	C6_DROP_NO_CLIENTID, /* missing, or given twice */
	C6_DROP_SERVERID,    /* present where it must not be, or twice */
	C6_DROP_NO_SERVERID, /* missing where it is required */
	C6_DROP_NOT_US,      /* another server's DUID */
	C6_DROP_IA_IN_INFO,  /* an Information-request with an IA */
	C6_DROP_NO_ADDR,     /* a Confirm with no address */
	C6_EXPIRED,
	C6_FSYNC,
	C6_JOURNAL_ERR,
	C6_UNWRITTEN,        /* Replies dropped: their leases not written */
	C6_COUNT
};

extern const char *const d6_count_names[C6_COUNT];

struct d6_srv;

void d6_cfg_default(struct d6_cfg *c);
void d6_cfg_free(struct d6_cfg *c);

/* Build the server: slots, the journal loaded and rewritten.  NULL with a
 * reason in err on failure.  Publishes nothing yet. */
struct d6_srv *d6_srv_new(const struct d6_cfg *cfg, const struct d6_env *env,
			  char *err, size_t errlen);
void d6_srv_publish_all(struct d6_srv *s);
void d6_srv_unpublish_all(struct d6_srv *s);
/* Flush any open batch, close the journal, free.  Publishes nothing. */
void d6_srv_free(struct d6_srv *s);

/* One datagram to port 547. */
void d6_srv_input(struct d6_srv *s, const struct d6_from *from,
		  const uint8_t *data, size_t len);
/* Close the open batch: journal, fsync, then send its Replies. */
void d6_srv_flush(struct d6_srv *s);
/* Expire leases and quarantines that are due. */
void d6_srv_tick(struct d6_srv *s);

const uint64_t *d6_srv_counters(const struct d6_srv *s);
/* Bound leases now. */
size_t d6_srv_bound(const struct d6_srv *s);

/* Replace the prefixes on our link (they change as addresses pass
 * duplicate address detection). */
void d6_srv_set_onlink(struct d6_srv *s, const struct tapir_addr *a,
		       const unsigned *len, unsigned n);

/* The 64-bit position of a in the range's upper half, or false when a is
 * not in r. */
bool d6_range_has(const struct d6_range *r, const struct tapir_addr *a);

#endif
