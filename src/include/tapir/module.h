/*
 * tapir module ABI.
 *
 * A module is a shared object that tapird loads with dlopen() from its module
 * directory.  It exports exactly one symbol:
 *
 *     const struct tapir_module tapir_module = { ... };
 *
 * Lifecycle, driven by tapird:
 *
 *   check(chk, section)      pure: validate the module's config section and
 *                            report every problem with chk->error(); called
 *                            for `tapird -t`, at start and before every reload.
 *                            Must not bind ports, allocate lasting state or
 *                            touch the network.
 *   init(host, section)      the section passed check(); create the module's
 *                            state, bind ports, arm timers.  Returns the state
 *                            (any non-NULL pointer) or NULL on failure.
 *   reconfigure(state, s)    the module's section changed on reload.  Apply it
 *                            all or nothing: on failure return -1 and keep the
 *                            old settings running.
 *   fini(state)              stop and free.  Anything still bound or armed
 *                            through the host API is released by tapird after
 *                            fini returns, so a module cannot leak ports.
 *
 * A config section (libconfig's config_setting_t) is valid only for the
 * duration of the call it is passed to: copy what you need.
 *
 * The host API is a struct of function pointers that starts with its own size
 * and version.  It only ever grows at the end; a module built against an older
 * header keeps working.  A module that wants a newer call checks
 * TAPIR_HOST_HAS(api, member) first.  TAPIR_MODULE_ABI changes only when
 * something breaks; tapird refuses modules built for another ABI.
 *
 * Addresses are IPv4 in host byte order (10.0.0.2 is 0x0a000002); ports are
 * in host byte order.  Everything runs on tapird's single event loop thread:
 * callbacks never run concurrently and must not block.
 */
#ifndef TAPIR_MODULE_H
#define TAPIR_MODULE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TAPIR_MODULE_ABI 1

/* Log priorities, as syslog(3). */
#define TAPIR_LOG_ERR 3
#define TAPIR_LOG_WARNING 4
#define TAPIR_LOG_NOTICE 5
#define TAPIR_LOG_INFO 6
#define TAPIR_LOG_DEBUG 7

struct tapir_host;    /* tapird's handle for one loaded module */
struct tapir_udp;     /* a bound UDP port */
struct tapir_timer;   /* a one-shot timer */
struct tapir_tcp;     /* a TCP connection */
struct tapir_tcp_listener;
struct tapir_watch;   /* a module's watch on a published topic */

/* What tapird knows about a received UDP datagram. */
struct tapir_udp_meta {
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t src_mac[6];
	bool broadcast; /* sent to a broadcast or multicast address */
};

/* Where a datagram goes.  With mac == NULL tapird routes and resolves
 * dst_ip (255.255.255.255 goes to the Ethernet broadcast address); with a
 * MAC it sends straight to that MAC without ARP (a DHCP server answering a
 * client that has no address yet).  src_ip 0 means our interface address. */
struct tapir_udp_dst {
	uint32_t ip;
	uint16_t port;
	const uint8_t *mac;
	uint32_t src_ip;
};

typedef void (*tapir_udp_recv_fn)(void *arg, const struct tapir_udp_meta *m,
				  const uint8_t *data, size_t len);
typedef void (*tapir_timer_fn)(void *arg);
/* A published entry of topic changed (API version 3): value is its new
 * content, or NULL when it was removed. */
typedef void (*tapir_watch_fn)(void *arg, const char *topic, const char *key,
			       const void *value, size_t len);

/* What a TCP listener's connections call back (API version 2).  A
 * connection handle is valid from accepted() until the module calls
 * tcp_close() or tcp_abort(), or until closed() returns. */
struct tapir_tcp_handlers {
	/* A connection is established.  Return its context for the other
	 * callbacks, or NULL to refuse it (it is reset). */
	void *(*accepted)(void *arg, struct tapir_tcp *c);
	/* In-order data.  Return how many bytes were taken (0..len): the
	 * rest stays queued, the window shrinks (flow control) and recv is
	 * called again after tcp_recv_resume(). */
	size_t (*recv)(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		       size_t len);
	/* The send buffer has room again after tcp_send() took less than it
	 * was offered. */
	void (*writable)(void *ctx, struct tapir_tcp *c);
	/* The peer sent FIN: no more data will arrive; sending still works
	 * until the module calls tcp_shutdown() or tcp_close(). */
	void (*peer_closed)(void *ctx, struct tapir_tcp *c);
	/* The connection is gone: err 0 after an orderly close, or
	 * -ECONNRESET, -ETIMEDOUT, -ECONNABORTED, -ECONNREFUSED.  Free the
	 * context here; do not call back into c. */
	void (*closed)(void *ctx, struct tapir_tcp *c, int err);
	/* A connection from tcp_connect() is established (accepted() is
	 * for listeners only). */
	void (*connected)(void *ctx, struct tapir_tcp *c);
};

struct tapir_host_api {
	uint32_t size;    /* sizeof(struct tapir_host_api) as tapird built it */
	uint32_t version; /* TAPIR_HOST_API_VERSION of tapird */

	/* Log one line, prefixed with the module's name. */
	void (*log)(struct tapir_host *h, int prio, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Monotonic milliseconds, as the stack sees them. */
	uint64_t (*now_ms)(struct tapir_host *h);
	/* Our interface address (host order) and prefix length. */
	uint32_t (*if_addr)(struct tapir_host *h, unsigned *prefix_len);

	/* Bind a UDP port; fn runs for every datagram to it.  NULL and errno
	 * EADDRINUSE when another module holds the port. */
	struct tapir_udp *(*udp_bind)(struct tapir_host *h, uint16_t port,
				      tapir_udp_recv_fn fn, void *arg);
	void (*udp_unbind)(struct tapir_udp *u);
	/* Send a datagram from the bound port.  0 when it left or waits for
	 * the neighbour's address (ARP), or -errno: -EMSGSIZE over 65507
	 * bytes, -EINVAL for address or port 0, -EHOSTUNREACH with no route,
	 * -ENOBUFS when the ARP queue is full, or the link's error. */
	int (*udp_send)(struct tapir_udp *u, const struct tapir_udp_dst *dst,
			const void *data, size_t len);

	/* One-shot timers on tapird's timer wheel. */
	struct tapir_timer *(*timer_new)(struct tapir_host *h, tapir_timer_fn fn,
					 void *arg);
	void (*timer_arm)(struct tapir_timer *t, uint64_t delay_ms);
	void (*timer_cancel)(struct tapir_timer *t);
	void (*timer_free)(struct tapir_timer *t);

	/* A named counter owned by the module, shown with the daemon's
	 * counters as module_<module>_<name>.  The pointer stays valid until
	 * fini; increment it directly. */
	uint64_t *(*counter)(struct tapir_host *h, const char *name);

	/* ---- Version 2: TCP streams.  Check TAPIR_HOST_HAS() first. ---- */

	/* Listen on a TCP port; NULL and errno EADDRINUSE when taken. */
	struct tapir_tcp_listener *(*tcp_listen)(
		struct tapir_host *h, uint16_t port,
		const struct tapir_tcp_handlers *cb, void *arg);
	/* Stop listening; its connections are reset, each with closed(). */
	void (*tcp_unlisten)(struct tapir_tcp_listener *l);
	/* Queue data; returns the bytes taken (backpressure: the rest did
	 * not fit; writable() follows when room comes back). */
	size_t (*tcp_send)(struct tapir_tcp *c, const void *data, size_t len);
	size_t (*tcp_send_room)(struct tapir_tcp *c);
	/* Send FIN after the queued data; receiving goes on. */
	void (*tcp_shutdown)(struct tapir_tcp *c);
	/* Shutdown and let go: no more callbacks for c. */
	void (*tcp_close)(struct tapir_tcp *c);
	/* Reset and let go: no more callbacks for c. */
	void (*tcp_abort)(struct tapir_tcp *c);
	/* Ready to take data again (after recv() took less than offered). */
	void (*tcp_recv_resume)(struct tapir_tcp *c);
	/* Nagle's algorithm is on by default; nodelay turns it off. */
	void (*tcp_set_nodelay)(struct tapir_tcp *c, bool nodelay);
	/* The peer's address and port (host order). */
	void (*tcp_peer)(struct tapir_tcp *c, uint32_t *ip, uint16_t *port);
	/* Keepalive probes after stack.tcp_keepalive_idle of silence (off by
	 * default); a peer that stops answering is reset, closed(-ETIMEDOUT). */
	void (*tcp_set_keepalive)(struct tapir_tcp *c, bool on);
	/* Active open to ip:port from our address.  The handle is valid at
	 * once (tcp_send queues until the handshake completes); connected()
	 * or closed() follows, with ctx.  NULL and errno on failure. */
	struct tapir_tcp *(*tcp_connect)(struct tapir_host *h, uint32_t ip,
					 uint16_t port,
					 const struct tapir_tcp_handlers *cb,
					 void *ctx);

	/* ---- Version 3: data one module publishes and others read. ----
	 *
	 * A table of (topic, key) -> value shared by all modules.  An entry
	 * belongs to the module that published it: only that module can
	 * replace or remove it, and tapird removes it when the module stops
	 * (fini, or removed on reload; a reconfigured module keeps its
	 * entries).  Values are copied; tapird stores a NUL byte after each
	 * copy, so a text value can be read as a string.  Limits: topic 1..63
	 * bytes, key 1..255 bytes (both NUL-terminated strings), value up to
	 * 4096 bytes, 65536 entries in all, 1024 watches in all.
	 * Callbacks run on the event loop.  Inside a watch callback, publish
	 * or unpublish to a topic that is being notified is refused (-EBUSY;
	 * unpublish is ignored and logged): no recursion. */

	/* Publish or replace (topic, key) -> value.  0, or -EINVAL (empty or
	 * over-long topic/key, or value NULL with len > 0), -E2BIG (value
	 * over 4096 bytes), -ENOSPC (table full), -EPERM (the key is another
	 * module's), -EBUSY (see above), -ENOMEM. */
	int (*publish)(struct tapir_host *h, const char *topic, const char *key,
		       const void *value, size_t len);
	/* Remove one of this module's entries (no-op when absent or not
	 * ours). */
	void (*unpublish)(struct tapir_host *h, const char *topic,
			  const char *key);
	/* Call fn for every entry of topic now, then on every publish or
	 * unpublish of it (also the watcher's own) until unwatch or fini.
	 * NULL and errno (EINVAL, ENOSPC, ENOMEM) on failure. */
	struct tapir_watch *(*watch)(struct tapir_host *h, const char *topic,
				     tapir_watch_fn fn, void *arg);
	void (*unwatch)(struct tapir_watch *w);
	/* The current value of (topic, key), or NULL; *len set (0 when
	 * absent).  Valid until the next publish/unpublish of that topic. */
	const void *(*lookup)(struct tapir_host *h, const char *topic,
			      const char *key, size_t *len);

	/* ---- Version 4: reports on the running daemon. ---- */

	/* The report `what`, as tapirctl shows it: "status" (JSON, as
	 * tapirctl --json status) or "metrics" (Prometheus text exposition
	 * format, as tapirctl metrics).  Returns a NUL-terminated string the
	 * module releases with free(), its length in *len; NULL and errno
	 * EINVAL for an unknown report, ENOMEM, or EAGAIN when tapird has no
	 * report to give (under `tapird -t`). */
	char *(*report)(struct tapir_host *h, const char *what, size_t *len);

	/* Appended by later versions.  Check TAPIR_HOST_HAS() before use. */
};

#define TAPIR_HOST_API_VERSION 4
/* Limits of the published-data table (API version 3). */
#define TAPIR_TOPIC_MAX 63
#define TAPIR_KEY_MAX 255
#define TAPIR_VALUE_MAX 4096
#define TAPIR_ENTRIES_MAX 65536
#define TAPIR_WATCHES_MAX 1024
#define TAPIR_HOST_HAS(api, member)                                           \
	((api)->size >= offsetof(struct tapir_host_api, member) +              \
				sizeof((api)->member) &&                       \
	 (api)->member != NULL)

/* Handed to check(): report problems through error(), which prefixes the
 * setting's FILE:LINE (setting may be NULL for the section itself). */
struct tapir_check {
	void (*error)(const struct tapir_check *chk,
		      const config_setting_t *setting, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void *priv;
};

struct tapir_module {
	uint32_t abi;  /* TAPIR_MODULE_ABI */
	uint32_t size; /* sizeof(struct tapir_module) */
	const char *name;
	const char *description;
	/* NULL-terminated list of the setting names the module accepts besides
	 * "name" and "path"; tapird rejects any other key with FILE:LINE. */
	const char *const *settings;

	int (*check)(const struct tapir_check *chk,
		     const config_setting_t *section);
	void *(*init)(struct tapir_host *host, const struct tapir_host_api *api,
		      const config_setting_t *section);
	int (*reconfigure)(void *state, const config_setting_t *section);
	void (*fini)(void *state);
};

/* Declare the module's descriptor with this so the symbol is exported. */
#define TAPIR_MODULE_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
#endif
