/*
 * The TLS layer modules get (host API 5): between the stack's TCP and a
 * module's stream handlers, in the daemon, once for every module.
 *
 * A TLS listener is a stack listener whose callbacks are tls_tcp_callbacks:
 * they run OpenSSL on the connection and call the module's handlers with
 * plaintext.  OpenSSL reads and writes through a BIO of our own that reads
 * straight from the data the stack offers to recv() and writes straight
 * into the connection's send buffer (tcp_send), asking OpenSSL to retry
 * when the buffer is full: no socket and no memory BIO in between.
 *
 * Records are taken from the stack as OpenSSL asks for them, so the window
 * opens again at once for TLS's own bytes; decrypted data the module does
 * not take waits in the connection (at most one record, 16 KiB) and no
 * more ciphertext is taken until the module resumes, so the window then
 * closes (flow control through the layer).  The peer's FIN reaches the
 * module only after every decrypted byte was taken.
 *
 * Settings: a libconfig group (tapir.conf(5), "TLS"), checked by
 * tls_check() with FILE:LINE problems and turned into a reference-counted
 * SSL_CTX per listener; a reload builds a new one and swaps it, so new
 * connections get the new certificate while established ones keep theirs.
 */
#ifndef TAPIR_TLS_H
#define TAPIR_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "tapir/module.h"

struct stack;
struct tcp_conn;
struct tcp_callbacks;
struct tls_listener;

typedef void (*tls_report_fn)(void *arg, const config_setting_t *at,
			      const char *msg);

/* Check a tls group: keys, types, values, and that the certificate and
 * key load and match (a certificate past its notAfter is a warning,
 * logged with FILE:LINE).  Reports each problem; returns how many. */
int tls_check(const config_setting_t *g, tls_report_fn report, void *arg);
/* The contexts tls_check() built are kept for the listeners the same
 * groups make when the transaction commits (so a key is read while the
 * configuration is checked: at start, before privileges are dropped);
 * this frees those left over.  Called when a transaction ends. */
void tls_prepared_clear(void);

/* Counters of one listener, in the owning module's counters (any may be
 * NULL). */
struct tls_counters {
	uint64_t *handshakes;    /* completed */
	uint64_t *resumed;       /* of those, resumed sessions */
	uint64_t *tls12, *tls13; /* by version */
	uint64_t *fail_timeout;  /* the handshake deadline passed */
	uint64_t *fail_limit;    /* refused: too many handshakes at once */
	uint64_t *fail_proto;    /* a handshake or record error (alerts) */
	uint64_t *fail_eof;      /* the peer closed during the handshake */
	uint64_t *truncated;     /* FIN without close_notify */
};

/* A listener's TLS side, from its settings group (already checked) and
 * its ALPN list ("http/1.1,dot" or NULL).  cb/arg: the module's handlers.
 * log_name prefixes log lines.  NULL with the reason in err. */
struct tls_listener *tls_listener_new(struct stack *s,
				      const config_setting_t *g,
				      const char *alpn,
				      const struct tapir_tcp_handlers *cb,
				      void *arg, const struct tls_counters *ctr,
				      const char *log_name, char *err,
				      size_t errlen);
/* New settings for new connections.  0, or -1 with the reason in err (the
 * old settings stay). */
int tls_listener_update(struct tls_listener *l, const config_setting_t *g,
			char *err, size_t errlen);
/* At the end of a reload, for a listener whose module kept its settings
 * text: when tls_check() loaded, for the same group of module's section, a
 * certificate other than the one in use (its files were replaced), new
 * connections get that one.  1 when it was swapped, else 0. */
int tls_listener_refresh(struct tls_listener *l, const char *module);
/* The module is gone: its handlers are never called again. */
void tls_listener_gone(struct tls_listener *l);
/* After the stack listener is gone (every connection closed).  When a
 * connection is still inside a call of this layer (the module dropped its
 * listener from one of its handlers), the memory goes when it returns;
 * nobody is called meanwhile. */
void tls_listener_free(struct tls_listener *l);

/* The stack callbacks of a TLS listener (arg: the tls_listener). */
extern const struct tcp_callbacks tls_tcp_callbacks;

/* Is c a connection of a TLS listener whose owner still holds it? */
bool tls_is(const struct tcp_conn *c);
/* The host API's stream calls, for a connection where tls_is(). */
size_t tls_send(struct tcp_conn *c, const void *data, size_t len);
size_t tls_send_room(struct tcp_conn *c);
void tls_shutdown(struct tcp_conn *c);
void tls_close(struct tcp_conn *c);
void tls_abort(struct tcp_conn *c);
void tls_recv_resume(struct tcp_conn *c);
int tls_info(const struct tcp_conn *c, struct tapir_tls_info *info);

/* The SHA-256 fingerprint of the self-signed certificate made for
 * self_signed = true ("AB:CD:..."), or NULL when none was made. */
const char *tls_self_signed_fingerprint(void);

#endif
