/*
 * tapir module ABI.
 *
 * A module is a shared object that tapird loads with dlopen() from its module
 * directory.  It exports exactly one symbol:
 *
 *     TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
 *             TAPIR_MODULE_HEAD, .name = "echo", ... };
 *
 * Besides this header, <tapir/addr.h>, <tapir/bytes.h> (a bounds-checked
 * cursor for wire formats), <tapir/text.h>, <tapir/siphash.h> (a keyed
 * hash for tables an outsider fills) and <tapir/histogram.h> (latency
 * histograms, included here) are header-only helpers a module may
 * include; nothing else of tapird's.
 *
 * Its settings are declared, not read: a table of struct tapir_setting
 * (name, type, range, default, where in the module's settings struct) that
 * tapird validates with FILE:LINE errors and turns into a filled struct
 * before any callback sees it (see "Settings" below).  A module reads no
 * configuration itself, except the inside of a TAPIR_SET_CUSTOM setting.
 *
 * Lifecycle, driven by tapird:
 *
 *   check(chk, conf)         pure: validate what the descriptors cannot say
 *                            (cross-setting rules, the inside of custom
 *                            settings) and report every problem with
 *                            chk->error() or chk->error_at(); called for
 *                            `tapird -t`, at start and before every reload,
 *                            even when some typed settings were rejected
 *                            (they hold their defaults), so one run reports
 *                            everything.  Must not bind ports, allocate
 *                            lasting state or touch the network.
 *   init(host, api, conf)    conf passed check(); create the module's
 *                            state, bind ports, arm timers.  Returns the state
 *                            (any non-NULL pointer) or NULL on failure.
 *   reconfigure(state, conf) the module's section changed on reload (or any
 *                            reload, with TAPIR_MODF_RECONFIGURE_ALWAYS).  Apply it
 *                            all or nothing: on failure return -1 and keep the
 *                            old settings running.
 *   fini(state)              stop and free.  Anything still bound or armed
 *                            through the host API is released by tapird after
 *                            fini returns, so a module cannot leak ports.
 *
 * conf, the module's settings struct, and everything it points to (strings,
 * lists, custom settings) are valid only for the duration of the call it
 * is passed to: copy what you need.
 *
 * The host API is a struct of function pointers that starts with its own size
 * and version.  It only ever grows at the end; a module built against an older
 * header keeps working: its descriptor says how large a table it knows
 * (TAPIR_MODULE_HEAD records it) and tapird hands it one of that size.  A
 * module that wants a call newer than the tapird it may run on checks
 * TAPIR_HOST_HAS(api, member) first.  TAPIR_MODULE_ABI changes only when
 * something breaks (the module descriptor, a callback's signature, a call's
 * meaning); tapird refuses modules built for another ABI and says which.
 * ABI 2 (settings as descriptors) restarted the host API at version 1.
 *
 * Addresses are struct tapir_addr (<tapir/addr.h>: IPv4 as IPv4-mapped
 * IPv6, with helpers to convert, compare, print and parse); ports are in
 * host byte order.  Settings of type TAPIR_SET_IPV4 are host-order
 * uint32_t, as IPv4-only protocols (DHCP) want them.  Everything runs on
 * tapird's single event loop thread: callbacks never run concurrently and
 * must not block.
 */
#ifndef TAPIR_MODULE_H
#define TAPIR_MODULE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include <tapir/addr.h>
#include <tapir/histogram.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TAPIR_MODULE_ABI 2

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
struct tapir_icmp6;   /* a module's receiver of one ICMPv6 type */
struct tapir_ping;    /* an echo request waiting for its reply */

/* What tapird knows about a received UDP datagram. */
struct tapir_udp_meta {
	struct tapir_addr src_ip;
	struct tapir_addr dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t src_mac[6];
	bool broadcast; /* sent to a broadcast or multicast address */
};

/* Where a datagram goes.  With mac == NULL tapird routes and resolves
 * ip (255.255.255.255 goes to the Ethernet broadcast address); with a
 * MAC it sends straight to that MAC without ARP (a DHCP server answering a
 * client that has no address yet).  An unspecified src_ip (all zero, as a
 * zeroed struct leaves it) means our interface address. */
struct tapir_udp_dst {
	struct tapir_addr ip;
	uint16_t port;
	const uint8_t *mac;
	struct tapir_addr src_ip;
};

typedef void (*tapir_udp_recv_fn)(void *arg, const struct tapir_udp_meta *m,
				  const uint8_t *data, size_t len);
typedef void (*tapir_timer_fn)(void *arg);

/* What tapird knows about a received ICMPv6 message (host API 4). */
struct tapir_icmp6_meta {
	struct tapir_addr src_ip;
	struct tapir_addr dst_ip;
	uint8_t src_mac[6];
	uint8_t hop_limit;
};
/* msg is the whole ICMPv6 message: type, code, checksum (already
 * verified), body. */
typedef void (*tapir_icmp6_recv_fn)(void *arg,
				    const struct tapir_icmp6_meta *m,
				    const uint8_t *msg, size_t len);
/* The outcome of ping(): 1 when the reply came (rtt_ms set), 0 when none
 * came in time, -errno when the request could not be sent (-EHOSTUNREACH,
 * -EAFNOSUPPORT, ...) or the neighbour did not answer resolution.  The
 * handle is gone when fn returns. */
typedef void (*tapir_ping_fn)(void *arg, int result, unsigned rtt_ms);
/* A published entry of topic changed: value is its new
 * content, or NULL when it was removed. */
typedef void (*tapir_watch_fn)(void *arg, const char *topic, const char *key,
			       const void *value, size_t len);

/* What a TCP listener's connections call back.  A
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

/* A TLS connection's handshake outcome (host API 5, tls_info()): strings
 * NUL-terminated, empty when absent. */
struct tapir_tls_info {
	char version[16];  /* "TLSv1.3", "TLSv1.2" */
	char cipher[64];   /* "TLS_AES_256_GCM_SHA384", ... */
	char sni[256];     /* the server name the client asked for */
	char alpn[32];     /* the application protocol agreed */
	bool resumed;      /* a resumed session (no full handshake) */
	/* The peer's close_notify alert arrived.  At peer_closed() false
	 * means the peer's FIN came without one: the stream may have been
	 * cut short by someone on the path (a truncation). */
	bool close_notify;
};

struct tapir_host_api {
	uint32_t size;    /* sizeof(struct tapir_host_api) as tapird built it */
	uint32_t version; /* TAPIR_HOST_API_VERSION of tapird */

	/* Log one line, prefixed with the module's name. */
	void (*log)(struct tapir_host *h, int prio, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Monotonic milliseconds, as the stack sees them. */
	uint64_t (*now_ms)(struct tapir_host *h);
	/* Our i-th interface address (0, 1, ...) and its prefix length in
	 * its own family (24 for 10.0.0.2/24).  0, or -ENOENT past the last.
	 * Address 0 is the IPv4 address; from 1 on come the IPv6 ones that
	 * are usable (not tentative, not duplicate), the link-local address
	 * first, then interface.address6 in file order (tapird before host
	 * API 4 returned only address 0). */
	int (*if_addr)(struct tapir_host *h, unsigned i, struct tapir_addr *addr,
		       unsigned *prefix_len);

	/* Bind a UDP port; fn runs for every datagram to it.  NULL and errno
	 * EADDRINUSE when another module holds the port. */
	struct tapir_udp *(*udp_bind)(struct tapir_host *h, uint16_t port,
				      tapir_udp_recv_fn fn, void *arg);
	void (*udp_unbind)(struct tapir_udp *u);
	/* Send a datagram from the bound port.  0 when it left or waits for
	 * the neighbour's address (ARP or Neighbor Discovery), or -errno:
	 * -EMSGSIZE over 65507 bytes, -EINVAL for address or port 0 (or no
	 * usable address of ours in its family yet), -EAFNOSUPPORT for a
	 * family this tapird does not speak (IPv6 with interface.ipv6
	 * false), -EHOSTUNREACH with no route, -ENOBUFS when the
	 * neighbour's queue is full, or the link's error. */
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

	/* ---- TCP streams ---- */

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
	/* The peer's address and port. */
	void (*tcp_peer)(struct tapir_tcp *c, struct tapir_addr *addr,
			 uint16_t *port);
	/* Keepalive probes after stack.tcp_keepalive_idle of silence (off by
	 * default); a peer that stops answering is reset, closed(-ETIMEDOUT). */
	void (*tcp_set_keepalive)(struct tapir_tcp *c, bool on);
	/* Active open to addr:port from our address.  The handle is valid at
	 * once (tcp_send queues until the handshake completes); connected()
	 * or closed() follows, with ctx.  NULL and errno on failure
	 * (EAFNOSUPPORT for an address this tapird cannot reach). */
	struct tapir_tcp *(*tcp_connect)(struct tapir_host *h,
					 const struct tapir_addr *addr,
					 uint16_t port,
					 const struct tapir_tcp_handlers *cb,
					 void *ctx);

	/* ---- Data one module publishes and others read. ----
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

	/* ---- Reports on the running daemon. ---- */

	/* The report `what`, as tapirctl shows it: "status" (JSON, as
	 * tapirctl --json status), "status.html" (the status as an HTML
	 * page for browsers, every string in it escaped; a tapird older
	 * than this call's documentation of it answers EINVAL) or "metrics"
	 * (Prometheus text exposition format, as tapirctl metrics).  Returns a NUL-terminated string the
	 * module releases with free(), its length in *len; NULL and errno
	 * EINVAL for an unknown report, ENOMEM, or EAGAIN when tapird has no
	 * report to give (under `tapird -t`). */
	char *(*report)(struct tapir_host *h, const char *what, size_t *len);

	/* ---- Version 1 ends here.  Calls appended by later versions say
	 * which; check TAPIR_HOST_HAS() before using one. ---- */

	/* ---- Version 2 ---- */

	/* Fill buf with len unpredictable bytes (the kernel's CSPRNG, as
	 * getrandom(2)), for keys, cookies and IDs; a module never opens
	 * /dev/urandom or calls getrandom() itself.  0, or -errno: -EAGAIN
	 * while the kernel's pool is not yet initialised (early boot: never
	 * blocks), -EINVAL for len over TAPIR_RANDOM_MAX. */
	int (*random)(struct tapir_host *h, void *buf, size_t len);

	/* ---- Version 3 ---- */

	/* The version of the running tapird, as `tapird -V` prints it
	 * ("0.1.0", or "0.1.0-g1a2b3c4" built from a git checkout): one
	 * token, no spaces, for a Server: header or a log line.  Static:
	 * valid as long as the module is loaded. */
	const char *(*tapird_version)(struct tapir_host *h);

	/* ---- Version 4: what link services (router advertisements,
	 * DHCPv6, a DHCP ping check) need. ---- */

	/* Our link-layer (MAC) address and the link's MTU (either pointer
	 * may be NULL). */
	void (*if_link)(struct tapir_host *h, uint8_t mac[6], unsigned *mtu);

	/* Listen to an IPv6 link-scope multicast group (ff02::/16: ff02::2
	 * for a router, ff02::1:2 for a DHCPv6 server): UDP datagrams and
	 * ICMPv6 messages sent to it are received from now on, and MLD
	 * reports it.  Joins are counted per group; a module's joins are
	 * released at fini.  0, or -EINVAL (not a link-scope multicast
	 * address), -ENOSPC (TAPIR_MCAST_MAX groups in all), -EAFNOSUPPORT
	 * (interface.ipv6 is false). */
	int (*mcast_join)(struct tapir_host *h, const struct tapir_addr *group);
	/* Undo one mcast_join (no-op when the module has none for group). */
	void (*mcast_leave)(struct tapir_host *h,
			    const struct tapir_addr *group);

	/* Receive the ICMPv6 messages of one type that the stack does not
	 * consume itself: Router Solicitation (133) is the only one today.
	 * tapird has checked the checksum, and for Neighbor Discovery types
	 * that the hop limit is 255 and the message was not fragmented
	 * (RFC 4861 6.1.1, RFC 6980); the rest (options, code) is the
	 * module's to check.  One receiver per type: NULL and errno
	 * EADDRINUSE when another module has it, EINVAL for another type. */
	struct tapir_icmp6 *(*icmp6_bind)(struct tapir_host *h, uint8_t type,
					  tapir_icmp6_recv_fn fn, void *arg);
	void (*icmp6_unbind)(struct tapir_icmp6 *b);
	/* Send an ICMPv6 message from our link-local address with hop limit
	 * 255 to dst, a link-local or link-scope multicast address (with
	 * mac != NULL straight to that MAC, else resolved by Neighbor
	 * Discovery).  msg is the whole message; tapird fills in the
	 * checksum.  Only Router Advertisements (134) may be sent today.
	 * 0, or -EINVAL (another type, a message shorter than its header or
	 * over the link MTU, dst not link-scope), -EAFNOSUPPORT (IPv6 off),
	 * -EADDRNOTAVAIL (our link-local address is not usable yet: it is
	 * being checked for duplicates), or the link's error. */
	int (*icmp6_send)(struct tapir_host *h, const struct tapir_addr *dst,
			  const uint8_t *mac, const void *msg, size_t len);
	/* Say that tapird is (true) or is not a router on the link: its
	 * Neighbor Advertisements carry the Router flag (RFC 4861 7.2.4)
	 * and it listens to all-routers (ff02::2).  Released at fini. */
	void (*set_router)(struct tapir_host *h, bool router);

	/* Send one echo request (ICMP for an IPv4 address, ICMPv6 for an
	 * IPv6 one) to addr and call fn exactly once, at the latest after
	 * timeout_ms (1..60000).  NULL and errno EINVAL (bad address or
	 * timeout), EBUSY (TAPIR_PING_MAX outstanding in all).  Pending
	 * pings are cancelled at fini without calling fn. */
	struct tapir_ping *(*ping)(struct tapir_host *h,
				   const struct tapir_addr *addr,
				   unsigned timeout_ms, tapir_ping_fn fn,
				   void *arg);
	/* Cancel a pending ping: fn is not called. */
	void (*ping_cancel)(struct tapir_ping *p);

	/* ---- Version 5: TLS on tapir's own TCP. ---- */

	/* Listen on a TCP port whose connections speak TLS (RFC 8446; TLS
	 * 1.2, RFC 5246, when allowed).  tapird runs the handshake; the
	 * module sees the same handlers and calls as with tcp_listen(), but
	 * with plaintext: accepted() once the handshake is done (tls_info()
	 * then tells what was agreed), recv() with decrypted data, tcp_send()
	 * encrypts, tcp_shutdown() and tcp_close() send close_notify first.
	 * A peer's FIN (with or without close_notify) reaches peer_closed()
	 * only after every decrypted byte was taken.  tls is the module's
	 * TAPIR_SET_TLS setting (certificate, key, versions, ciphers: see
	 * tapir.conf(5)), which tapird has already checked.  alpn is the
	 * comma-separated list of application protocols the listener speaks
	 * (RFC 7301: "http/1.1", "dot"), or NULL.  NULL and errno:
	 * EADDRINUSE (port taken), EINVAL (tls NULL or the certificate or
	 * key does not load: logged with the reason), ENOMEM. */
	struct tapir_tcp_listener *(*tcp_listen_tls)(
		struct tapir_host *h, uint16_t port,
		const config_setting_t *tls, const char *alpn,
		const struct tapir_tcp_handlers *cb, void *arg);
	/* Replace the TLS settings of a listener from tcp_listen_tls() (on
	 * reconfigure): connections accepted from now on use the new
	 * certificate and settings, established ones go on with theirs.
	 * 0, or -EINVAL (not a TLS listener, or the new settings do not
	 * load; the old ones stay, the reason is logged), -ENOMEM. */
	int (*tls_update)(struct tapir_tcp_listener *l,
			  const config_setting_t *tls);
	/* What the handshake of a TLS connection agreed on.  0, or -EINVAL
	 * when c is not a TLS connection. */
	int (*tls_info)(struct tapir_tcp *c, struct tapir_tls_info *info);

	/* ---- Version 6: latency histograms. ---- */

	/* A histogram owned by the module (<tapir/histogram.h>), exposed in
	 * /metrics and `tapirctl metrics` as the Prometheus histogram
	 * tapir_<module>_<name>_seconds with the HELP text help (NULL: a
	 * generic one).  name: 1..TAPIR_HIST_NAME_MAX characters of a-z,
	 * 0-9 and '_'.  Asking again for the same name returns the same
	 * histogram.  Observe with tapir_hist_observe(); the pointer stays
	 * valid until fini.  NULL and errno EINVAL (bad name), ENOSPC (the
	 * module has TAPIR_HIST_MAX already), ENOMEM. */
	struct tapir_histogram *(*histogram)(struct tapir_host *h,
					     const char *name,
					     const char *help);
	/* Monotonic microseconds (CLOCK_MONOTONIC), for durations finer
	 * than now_ms() gives; only differences are meaningful. */
	uint64_t (*now_us)(struct tapir_host *h);
};

#define TAPIR_HOST_API_VERSION 6
#define TAPIR_HIST_NAME_MAX 48 /* characters of a histogram's name */
#define TAPIR_HIST_MAX 32      /* histograms per module */
#define TAPIR_MCAST_MAX 16 /* multicast groups joined through mcast_join */
#define TAPIR_PING_MAX 64  /* pings outstanding in all */
#define TAPIR_RANDOM_MAX 256 /* bytes per random() call */
/* Limits of the published-data table. */
#define TAPIR_TOPIC_MAX 63
#define TAPIR_KEY_MAX 255
#define TAPIR_VALUE_MAX 4096
#define TAPIR_ENTRIES_MAX 65536
#define TAPIR_WATCHES_MAX 1024
#define TAPIR_HOST_HAS(api, member)                                           \
	((api)->size >= offsetof(struct tapir_host_api, member) +              \
				sizeof((api)->member) &&                       \
	 (api)->member != NULL)

/* ---- Settings ------------------------------------------------------------
 *
 * A module declares its settings as a table of descriptors, ended by an
 * entry with name NULL, and the struct they fill (settings_size bytes).
 * tapird reads the module's section against the table before check()
 * runs: it rejects keys the table does not name (besides "name" and
 * "path"), values of the wrong type or out of range, and a missing
 * required setting, each with its FILE:LINE, and fills a zeroed struct:
 * each setting's value, or its default when absent or rejected.  check(),
 * init() and reconfigure() get that struct (const void *, cast to yours);
 * it and everything it points to are tapird's and live only for the call.
 *
 *   type                   field                   min..max     default
 *   TAPIR_SET_BOOL         bool                    -            def (0/1)
 *   TAPIR_SET_INT          an integer type         value range  def
 *   TAPIR_SET_STRING       const char *            length       def_str
 *   TAPIR_SET_IPV4         uint32_t (host order)   -            def
 *   TAPIR_SET_STRINGS      struct tapir_strings    entries      none
 *   TAPIR_SET_IPV4S        struct tapir_ipv4s      entries      none
 *   TAPIR_SET_CUSTOM       const config_setting_t * -           NULL
 *   TAPIR_SET_TLS          const config_setting_t * -           NULL
 *
 * A max of 0 means no upper bound for lengths and entries.  An integer is
 * stored in the field's own width (TAPIR_FIELD() records width and
 * signedness; tapird refuses a module whose range does not fit its field).
 * A list is written [ ... ] or ( ... ); with TAPIR_SETF_SCALAR a single
 * value is taken as a list of one.  TAPIR_SET_CUSTOM is the escape for a
 * structured setting (a list of groups: DNS zones, DHCP reservations):
 * tapird passes the libconfig setting as it is and the module validates
 * it in check(), reporting through chk->error() with the element at fault.
 * TAPIR_SET_TLS (host API 5) is a group of TLS settings (certificate, key,
 * min_version, ciphers, ...; tapir.conf(5)) that tapird itself checks,
 * loading the certificate and key, with FILE:LINE errors; the module
 * hands it to tcp_listen_tls() or tls_update() as it is.
 *
 *     struct echo_settings { uint16_t port; bool verbose; };
 *     static const struct tapir_setting settings[] = {
 *             {"port", TAPIR_SET_INT, TAPIR_FIELD(struct echo_settings, port),
 *              .min = 1, .max = 65535, .def = 7},
 *             {"verbose", TAPIR_SET_BOOL,
 *              TAPIR_FIELD(struct echo_settings, verbose)},
 *             {.name = NULL}};
 */
enum tapir_setting_type {
	TAPIR_SET_BOOL = 1,
	TAPIR_SET_INT,
	TAPIR_SET_STRING,
	TAPIR_SET_IPV4,
	TAPIR_SET_STRINGS,
	TAPIR_SET_IPV4S,
	TAPIR_SET_CUSTOM,
	TAPIR_SET_TLS, /* host API 5 */
};

#define TAPIR_SETF_REQUIRED 0x1u /* absent is an error */
#define TAPIR_SETF_SCALAR 0x2u   /* lists: one value alone is a list of one */

struct tapir_setting {
	const char *name;
	uint32_t type;  /* enum tapir_setting_type */
	uint32_t flags; /* TAPIR_SETF_* */
	size_t offset;  /* of the field in the settings struct */
	size_t size;    /* of the field */
	bool is_signed; /* the field's type is signed */
	int64_t min, max;    /* see the table above */
	int64_t def;         /* BOOL, INT, IPV4: the value when absent */
	const char *def_str; /* STRING: the value when absent (may be NULL) */
	const char *unit;    /* INT: said after the range in errors, e.g.
			      * "seconds" */
};

/* Where a setting goes: offset, size and signedness of T's member. */
#define TAPIR_FIELD(T, member)                                                \
	.offset = offsetof(T, member), .size = sizeof(((T *)0)->member),       \
	.is_signed = _Generic(((T *)0)->member, char: (char)-1 < 0,           \
			      signed char: 1, short: 1, int: 1, long: 1,       \
			      long long: 1, default: 0)

/* TAPIR_SET_STRINGS and TAPIR_SET_IPV4S values: n entries in file order. */
struct tapir_strings {
	const char *const *v;
	size_t n;
};
struct tapir_ipv4s {
	const uint32_t *v; /* host order */
	size_t n;
};

/* Handed to check(): report problems through error(), which prefixes the
 * setting's FILE:LINE (NULL: the module's section), or through error_at(),
 * which finds the line of the setting named key (of its index-th entry
 * when index >= 0 and it is a list; of the section when key is absent). */
struct tapir_check {
	void (*error)(const struct tapir_check *chk,
		      const config_setting_t *setting, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	void (*error_at)(const struct tapir_check *chk, const char *key,
			 int index, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));
	void *priv;
};

struct tapir_module {
	/* Set these three with TAPIR_MODULE_HEAD. */
	uint32_t abi;  /* TAPIR_MODULE_ABI; stays the first field in every ABI */
	uint32_t size; /* sizeof(struct tapir_module) */
	/* sizeof(struct tapir_host_api) in the header the module was built
	 * with.  tapird hands a module built against an older host API a
	 * table of that size (TAPIR_HOST_HAS() then says no to every later
	 * call); a module built against a newer one gets tapird's whole
	 * table and checks TAPIR_HOST_HAS() before each newer call. */
	uint32_t host_api_size;
	const char *name;
	const char *description;
	/* The settings the module accepts besides "name" and "path", ended
	 * by {.name = NULL}; and the size of the struct they fill. */
	const struct tapir_setting *settings;
	size_t settings_size;

	/* conf: the filled settings struct (see above). */
	int (*check)(const struct tapir_check *chk, const void *conf);
	void *(*init)(struct tapir_host *host, const struct tapir_host_api *api,
		      const void *conf);
	int (*reconfigure)(void *state, const void *conf);
	void (*fini)(void *state);

	/* Appended after the first release: tapird reads it only from a
	 * descriptor whose size covers it (zero otherwise). */
	uint32_t flags; /* TAPIR_MODF_* */
};

/* reconfigure() runs on every reload, not only when the module's section
 * changed: for a module that reads files its settings name (the dns
 * module's zone files), so that a reload reads them again.  check() runs
 * before every reload either way. */
#define TAPIR_MODF_RECONFIGURE_ALWAYS 0x1u

/* The first fields of every module's descriptor, as this header has them:
 *     const struct tapir_module tapir_module = { TAPIR_MODULE_HEAD, ... }; */
#define TAPIR_MODULE_HEAD                                                     \
	.abi = TAPIR_MODULE_ABI, .size = sizeof(struct tapir_module),          \
	.host_api_size = sizeof(struct tapir_host_api)

/* Declare the module's descriptor with this so the symbol is exported. */
#define TAPIR_MODULE_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
#endif
