/*
 * The TLS layer (see tls.h): settings, contexts, the BIO on the stack's
 * queues and the connection state machine between the stack's TCP
 * callbacks and a module's stream handlers.
 *
 * A connection goes: accepted by the stack (counted against the
 * listener's handshake cap, deadline armed) -> handshake driven by recv()
 * and writable() -> established: the module's accepted() runs, then
 * recv()/tcp_send() carry plaintext -> the module closes (close_notify,
 * then the stack's close) or the stack tells closed().  Everything runs on
 * the event loop; a module may close or abort a connection from inside a
 * callback this file makes, so the state is freed only when no call of
 * ours is running on it (busy/dead).
 *
 * The server name a client asks for (SNI, RFC 6066 3) and the application
 * protocol agreed (ALPN, RFC 7301) are logged at debug level and given to
 * the module through tls_info().
 */
#include "daemon/tls.h"
#include "daemon/log.h"
#include "net/stack.h"
#include "net/tcp/tcp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* Largest plaintext of one record (RFC 8446 5.1). */
#define TLS_RECORD_MAX 16384
/* What one record adds at most to its plaintext with the suites we allow
 * (header, explicit IV or content type, MAC or tag, CBC padding). */
#define TLS_RECORD_OVERHEAD 96
#define TLS_HANDSHAKE_TIMEOUT_DEF 10 /* seconds */
#define TLS_MAX_HANDSHAKES_DEF 256
#define TLS_DEFAULT_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"
#define TLS_SESSION_CACHE 4096

/* ---- settings ----------------------------------------------------------- */

struct tls_conf {
	const config_setting_t *g;
	const config_setting_t *s_cert, *s_key, *s_minv, *s_ciphers,
		*s_suites, *s_conf, *s_self;
	const char *certificate, *key, *min_version, *ciphers, *ciphersuites;
	bool session_tickets, self_signed;
	unsigned handshake_timeout; /* seconds */
	unsigned max_handshakes;
};

struct reporter {
	tls_report_fn fn;
	void *arg;
	int n;
};

static void say(struct reporter *r, const config_setting_t *at,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct reporter *r, const config_setting_t *at,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->n++;
	r->fn(r->arg, at, msg);
}

/* OpenSSL's reason for the last failure, and its queue cleared. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (!e)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static const char *get_string(struct reporter *r, const config_setting_t *s,
			      const char *what)
{
	const char *v = config_setting_get_string(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING || !v) {
		say(r, s, "tls %s must be a string", what);
		return NULL;
	}
	if (!*v) {
		say(r, s, "tls %s must not be empty", what);
		return NULL;
	}
	return v;
}

static bool get_bool(struct reporter *r, const config_setting_t *s,
		     const char *what, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		say(r, s, "tls %s must be true or false", what);
		return false;
	}
	*out = config_setting_get_bool(s) != 0;
	return true;
}

static void get_uint(struct reporter *r, const config_setting_t *s,
		     const char *what, long long lo, long long hi,
		     unsigned *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		say(r, s, "tls %s must be an integer", what);
		return;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		say(r, s, "tls %s must be %lld..%lld", what, lo, hi);
		return;
	}
	*out = (unsigned)v;
}

/* Read the group's keys into c (no file is opened here). */
static void conf_read(struct reporter *r, const config_setting_t *g,
		      struct tls_conf *c)
{
	int n = config_setting_length(g);

	memset(c, 0, sizeof(*c));
	c->g = g;
	c->session_tickets = true;
	c->handshake_timeout = TLS_HANDSHAKE_TIMEOUT_DEF;
	c->max_handshakes = TLS_MAX_HANDSHAKES_DEF;
	c->min_version = "TLSv1.2";
	c->ciphers = TLS_DEFAULT_CIPHERS;
	for (int i = 0; i < n; i++) {
		const config_setting_t *s =
			config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(s);

		if (!k)
			continue;
		if (strcmp(k, "certificate") == 0) {
			c->s_cert = s;
			c->certificate = get_string(r, s, k);
		} else if (strcmp(k, "key") == 0) {
			c->s_key = s;
			c->key = get_string(r, s, k);
		} else if (strcmp(k, "min_version") == 0) {
			const char *v = get_string(r, s, k);

			c->s_minv = s;
			if (v && strcmp(v, "TLSv1.2") != 0 &&
			    strcmp(v, "TLSv1.3") != 0)
				say(r, s,
				    "tls min_version must be \"TLSv1.2\" or "
				    "\"TLSv1.3\", not \"%s\"",
				    v);
			else if (v)
				c->min_version = v;
		} else if (strcmp(k, "ciphers") == 0) {
			const char *v = get_string(r, s, k);

			c->s_ciphers = s;
			if (v)
				c->ciphers = v;
		} else if (strcmp(k, "ciphersuites") == 0) {
			c->s_suites = s;
			c->ciphersuites = get_string(r, s, k);
		} else if (strcmp(k, "session_tickets") == 0) {
			get_bool(r, s, k, &c->session_tickets);
		} else if (strcmp(k, "self_signed") == 0) {
			c->s_self = s;
			get_bool(r, s, k, &c->self_signed);
		} else if (strcmp(k, "handshake_timeout") == 0) {
			get_uint(r, s, k, 1, 300, &c->handshake_timeout);
		} else if (strcmp(k, "max_handshakes") == 0) {
			get_uint(r, s, k, 1, 65535, &c->max_handshakes);
		} else if (strcmp(k, "openssl_conf") == 0) {
			int m = config_setting_length(s);

			c->s_conf = s;
			if (!config_setting_is_array(s) &&
			    !config_setting_is_list(s)) {
				say(r, s, "tls openssl_conf must be a list of "
					  "strings: [ \"Name\", \"value\", ... ]");
				continue;
			}
			if (m % 2)
				say(r, s, "tls openssl_conf must hold pairs of "
					  "name and value (%d strings)",
				    m);
			for (int j = 0; j < m; j++) {
				const config_setting_t *e =
					config_setting_get_elem(s, (unsigned)j);

				if (config_setting_type(e) != CONFIG_TYPE_STRING)
					say(r, e, "tls openssl_conf entry %d "
						  "must be a string",
					    j + 1);
			}
		} else {
			say(r, s, "unknown tls setting '%s'", k);
		}
	}
	if (c->self_signed && (c->s_cert || c->s_key))
		say(r, c->s_self, "tls self_signed = true and a certificate "
				  "or key: choose one");
	else if (!c->self_signed && !c->s_cert && !c->s_key)
		say(r, g, "tls needs certificate and key, or self_signed = "
			  "true");
	else if (!c->self_signed && !c->s_cert)
		say(r, c->s_key, "tls key without certificate");
	else if (!c->self_signed && !c->s_key)
		say(r, c->s_cert, "tls certificate without key");
}

/* ---- the self-signed certificate --------------------------------------- */

static EVP_PKEY *self_key;
static X509 *self_cert;
static char self_fpr[3 * 32];

static X509 *self_make(EVP_PKEY *pk)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	unsigned char serial[16];
	BIGNUM *bn = NULL;

	if (!x || X509_set_version(x, 2) != 1 ||
	    RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto fail;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600) ||
	    X509_set_pubkey(x, pk) != 1)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"tapir", -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
				  "DNS:tapir,DNS:localhost");
	if (!ext)
		goto fail;
	if (X509_add_ext(x, ext, -1) != 1) {
		X509_EXTENSION_free(ext);
		goto fail;
	}
	X509_EXTENSION_free(ext);
	if (X509_sign(x, pk, EVP_sha256()) <= 0)
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* Made once per process and kept across reloads, so its fingerprint
 * stays what the log said. */
static int self_signed_get(char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char why[256];

	if (self_cert)
		return 0;
	self_key = EVP_EC_gen("P-256");
	if (self_key)
		self_cert = self_make(self_key);
	if (!self_cert ||
	    X509_digest(self_cert, EVP_sha256(), md, &mdlen) != 1) {
		snprintf(err, errlen, "cannot make a self-signed certificate: "
				      "%s",
			 ssl_reason(why, sizeof(why)));
		X509_free(self_cert);
		EVP_PKEY_free(self_key);
		self_cert = NULL;
		self_key = NULL;
		return -1;
	}
	{
		size_t o = 0;

		for (unsigned i = 0; i < mdlen && i < 32; i++)
			o += (size_t)snprintf(self_fpr + o, sizeof(self_fpr) - o,
					      "%s%02X", i ? ":" : "", md[i]);
	}
	log_notice("tls: self-signed certificate made (ECDSA P-256, CN "
		   "tapir), SHA-256 fingerprint %s",
		   self_fpr);
	return 0;
}

const char *tls_self_signed_fingerprint(void)
{
	return self_cert ? self_fpr : NULL;
}

/* ---- contexts ----------------------------------------------------------- */

static bool file_readable(struct reporter *r, const config_setting_t *at,
			  const char *what, const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		say(r, at, "tls %s %s: %s", what, path, strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

static int alpn_select(SSL *ssl, const unsigned char **out,
		       unsigned char *outlen, const unsigned char *in,
		       unsigned inlen, void *arg);

/* A key with a passphrase is refused, never prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *key_read(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *pk;

	if (!b)
		return NULL;
	pk = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	return pk;
}

/* An SSL_CTX for c, or NULL with the problems reported.  self_ok: make
 * (or use) the self-signed certificate; when false (tapird -t), a
 * self_signed group needs nothing loaded. */
static SSL_CTX *ctx_build(struct reporter *r, const struct tls_conf *c,
			  bool self_ok)
{
	SSL_CTX *ctx;
	char why[256];
	int before = r->n;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		say(r, c->g, "tls: %s", ssl_reason(why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, strcmp(c->min_version, "TLSv1.3")
						   ? TLS1_2_VERSION
						   : TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_NO_COMPRESSION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 (c->session_tickets ? 0
							     : SSL_OP_NO_TICKET));
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
				      SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tapir", 5);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE);
	if (SSL_CTX_set_cipher_list(ctx, c->ciphers) != 1)
		say(r, c->s_ciphers ? c->s_ciphers : c->g,
		    "tls ciphers \"%s\": %s", c->ciphers,
		    ssl_reason(why, sizeof(why)));
	if (c->ciphersuites &&
	    SSL_CTX_set_ciphersuites(ctx, c->ciphersuites) != 1)
		say(r, c->s_suites, "tls ciphersuites \"%s\": %s",
		    c->ciphersuites, ssl_reason(why, sizeof(why)));
	if (c->self_signed) {
		if (self_ok) {
			char err[300];

			if (self_signed_get(err, sizeof(err)) < 0)
				say(r, c->s_self, "tls %s", err);
			else if (SSL_CTX_use_certificate(ctx, self_cert) != 1 ||
				 SSL_CTX_use_PrivateKey(ctx, self_key) != 1)
				say(r, c->s_self, "tls self-signed: %s",
				    ssl_reason(why, sizeof(why)));
		}
	} else if (c->certificate && c->key) {
		bool cert_ok = false;

		if (file_readable(r, c->s_cert, "certificate",
				  c->certificate)) {
			if (SSL_CTX_use_certificate_chain_file(
				    ctx, c->certificate) != 1)
				say(r, c->s_cert, "tls certificate %s: %s",
				    c->certificate,
				    ssl_reason(why, sizeof(why)));
			else
				cert_ok = true;
		}
		if (cert_ok) {
			X509 *x = SSL_CTX_get0_certificate(ctx);

			if (x && X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
				log_warn("%s:%d: tls certificate %s has "
					 "expired",
					 config_setting_source_file(c->s_cert)
						 ? config_setting_source_file(
							   c->s_cert)
						 : "?",
					 config_setting_source_line(c->s_cert),
					 c->certificate);
		}
		/* The key's content is never logged: only OpenSSL's reason. */
		if (file_readable(r, c->s_key, "key", c->key)) {
			EVP_PKEY *pk = key_read(c->key);

			if (!pk)
				say(r, c->s_key, "tls key %s: %s", c->key,
				    ssl_reason(why, sizeof(why)));
			else if (cert_ok &&
				 X509_check_private_key(
					 SSL_CTX_get0_certificate(ctx), pk) != 1)
				say(r, c->s_key,
				    "tls key %s does not match certificate "
				    "%s",
				    c->key, c->certificate);
			else if (SSL_CTX_use_PrivateKey(ctx, pk) != 1)
				say(r, c->s_key, "tls key %s: %s", c->key,
				    ssl_reason(why, sizeof(why)));
			EVP_PKEY_free(pk);
			ERR_clear_error();
		}
	}
	if (c->s_conf && config_setting_length(c->s_conf) % 2 == 0) {
		SSL_CONF_CTX *cc = SSL_CONF_CTX_new();
		int m = config_setting_length(c->s_conf);

		if (cc) {
			SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE |
							   SSL_CONF_FLAG_SERVER |
							   SSL_CONF_FLAG_CERTIFICATE |
							   SSL_CONF_FLAG_SHOW_ERRORS);
			SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
			for (int j = 0; j + 1 < m; j += 2) {
				const config_setting_t *e = config_setting_get_elem(
					c->s_conf, (unsigned)j);
				const char *k = config_setting_get_string(e);
				const char *v = config_setting_get_string(
					config_setting_get_elem(
						c->s_conf, (unsigned)j + 1));

				if (!k || !v)
					continue;
				if (SSL_CONF_cmd(cc, k, v) <= 0)
					say(r, e, "tls openssl_conf %s = \"%s\": "
						  "%s",
					    k, v,
					    ssl_reason(why, sizeof(why)));
			}
			if (SSL_CONF_CTX_finish(cc) != 1)
				say(r, c->s_conf, "tls openssl_conf: %s",
				    ssl_reason(why, sizeof(why)));
			SSL_CONF_CTX_free(cc);
		}
	}
	if (r->n != before) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Contexts tls_check() built, kept for the listener that the same group
 * will make when the transaction commits: so the key is read when the
 * configuration is checked, at start before privileges are dropped.
 * Emptied by tls_prepared_clear() at the end of every transaction. */
#define TLS_PREPARED_MAX 64
static struct {
	const config_setting_t *g;
	SSL_CTX *ctx;
} prepared[TLS_PREPARED_MAX];

static void prepared_put(const config_setting_t *g, SSL_CTX *ctx)
{
	for (size_t i = 0; i < TLS_PREPARED_MAX; i++)
		if (!prepared[i].ctx) {
			prepared[i].g = g;
			prepared[i].ctx = ctx;
			return;
		}
	SSL_CTX_free(ctx); /* no room: the listener loads it again */
}

static SSL_CTX *prepared_take(const config_setting_t *g)
{
	for (size_t i = 0; i < TLS_PREPARED_MAX; i++)
		if (prepared[i].ctx && prepared[i].g == g) {
			SSL_CTX *ctx = prepared[i].ctx;

			prepared[i].ctx = NULL;
			prepared[i].g = NULL;
			return ctx;
		}
	return NULL;
}

void tls_prepared_clear(void)
{
	for (size_t i = 0; i < TLS_PREPARED_MAX; i++) {
		SSL_CTX_free(prepared[i].ctx);
		prepared[i].ctx = NULL;
		prepared[i].g = NULL;
	}
}

int tls_check(const config_setting_t *g, tls_report_fn report, void *arg)
{
	struct reporter r = {report, arg, 0};
	struct tls_conf c;
	SSL_CTX *ctx;

	conf_read(&r, g, &c);
	if (r.n)
		return r.n;
	ctx = ctx_build(&r, &c, false);
	if (ctx && !c.self_signed)
		prepared_put(g, ctx);
	else
		SSL_CTX_free(ctx);
	return r.n;
}

/* ---- listeners ---------------------------------------------------------- */

struct tls_listener {
	struct stack *s;
	SSL_CTX *ctx; /* for new connections; each SSL holds its own ref */
	const struct tapir_tcp_handlers *cb;
	void *arg;
	bool gone;
	bool freed;     /* tls_listener_free() ran: the last conn frees it */
	unsigned nconns; /* tls_conns that point here */
	unsigned handshaking;
	unsigned max_handshakes;
	unsigned handshake_timeout_ms;
	unsigned char alpn[64]; /* wire format: length-prefixed names */
	unsigned alpn_len;
	struct tls_counters ctr;
	char name[32];
	char setting[64]; /* the group's name in the module's section */
};

static void bump(uint64_t *c)
{
	if (c)
		(*c)++;
}

static int alpn_select(SSL *ssl, const unsigned char **out,
		       unsigned char *outlen, const unsigned char *in,
		       unsigned inlen, void *arg)
{
	struct tls_listener *l = arg;
	unsigned char *sel = NULL;

	(void)ssl;
	if (!l->alpn_len)
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_select_next_proto(&sel, outlen, l->alpn, l->alpn_len, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Problems while building for a listener go to err: the first one, with
 * its FILE:LINE. */
struct err_sink {
	char *buf;
	size_t len;
	bool set;
};

static void err_report(void *arg, const config_setting_t *at, const char *msg)
{
	struct err_sink *e = arg;
	const char *f = at ? config_setting_source_file(at) : NULL;

	if (e->set)
		return;
	e->set = true;
	if (f)
		snprintf(e->buf, e->len, "%s:%d: %s", f,
			 config_setting_source_line(at), msg);
	else
		snprintf(e->buf, e->len, "%s", msg);
}

static SSL_CTX *listener_ctx(struct tls_listener *l, const config_setting_t *g,
			     struct tls_conf *c, char *err, size_t errlen)
{
	struct err_sink e = {err, errlen, false};
	struct reporter r = {err_report, &e, 0};
	SSL_CTX *ctx;

	if (!g) {
		snprintf(err, errlen, "no tls settings");
		return NULL;
	}
	conf_read(&r, g, c);
	if (r.n)
		return NULL;
	ctx = prepared_take(g);
	if (!ctx)
		ctx = ctx_build(&r, c, true);
	if (!ctx)
		return NULL;
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, l);
	return ctx;
}

static int alpn_parse(struct tls_listener *l, const char *alpn)
{
	const char *p = alpn;

	l->alpn_len = 0;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || n > 255 || l->alpn_len + 1 + n > sizeof(l->alpn))
			return -1;
		l->alpn[l->alpn_len++] = (unsigned char)n;
		memcpy(l->alpn + l->alpn_len, p, n);
		l->alpn_len += (unsigned)n;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

struct tls_listener *tls_listener_new(struct stack *s,
				      const config_setting_t *g,
				      const char *alpn,
				      const struct tapir_tcp_handlers *cb,
				      void *arg, const struct tls_counters *ctr,
				      const char *log_name, char *err,
				      size_t errlen)
{
	struct tls_listener *l = calloc(1, sizeof(*l));
	struct tls_conf c;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->s = s;
	l->cb = cb;
	l->arg = arg;
	if (ctr)
		l->ctr = *ctr;
	snprintf(l->name, sizeof(l->name), "%s", log_name ? log_name : "tls");
	if (alpn_parse(l, alpn) < 0) {
		snprintf(err, errlen, "bad ALPN list \"%s\"", alpn);
		free(l);
		return NULL;
	}
	l->ctx = listener_ctx(l, g, &c, err, errlen);
	if (!l->ctx) {
		free(l);
		return NULL;
	}
	snprintf(l->setting, sizeof(l->setting), "%s",
		 config_setting_name(g) ? config_setting_name(g) : "");
	l->max_handshakes = c.max_handshakes;
	l->handshake_timeout_ms = c.handshake_timeout * 1000u;
	return l;
}

int tls_listener_update(struct tls_listener *l, const config_setting_t *g,
			char *err, size_t errlen)
{
	struct tls_conf c;
	SSL_CTX *ctx = listener_ctx(l, g, &c, err, errlen);

	if (!ctx)
		return -1;
	/* Connections keep the context they started with (SSL_new took a
	 * reference); this drops only the listener's. */
	SSL_CTX_free(l->ctx);
	l->ctx = ctx;
	snprintf(l->setting, sizeof(l->setting), "%s",
		 config_setting_name(g) ? config_setting_name(g) : "");
	l->max_handshakes = c.max_handshakes;
	l->handshake_timeout_ms = c.handshake_timeout * 1000u;
	return 0;
}

/* The module owning g's section, by its name setting. */
static bool group_of(const config_setting_t *g, const char *module,
		     const char *setting)
{
	const config_setting_t *sec = config_setting_parent(g);
	const char *n = NULL, *k = config_setting_name(g);

	return sec && k && strcmp(k, setting) == 0 &&
	       config_setting_lookup_string(sec, "name", &n) && n &&
	       strcmp(n, module) == 0;
}

int tls_listener_refresh(struct tls_listener *l, const char *module)
{
	for (size_t i = 0; i < TLS_PREPARED_MAX; i++) {
		SSL_CTX *ctx = prepared[i].ctx;
		X509 *now, *then;

		if (!ctx || !group_of(prepared[i].g, module, l->setting))
			continue;
		now = SSL_CTX_get0_certificate(ctx);
		then = SSL_CTX_get0_certificate(l->ctx);
		if (!now || !then || X509_cmp(now, then) == 0)
			return 0;
		prepared[i].ctx = NULL;
		prepared[i].g = NULL;
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, l);
		SSL_CTX_free(l->ctx);
		l->ctx = ctx;
		return 1;
	}
	return 0;
}

void tls_listener_gone(struct tls_listener *l)
{
	l->gone = true;
}

static void listener_release(struct tls_listener *l)
{
	SSL_CTX_free(l->ctx);
	free(l);
}

/* A connection may still be inside a call of ours when its module drops
 * the listener (tcp_unlisten() from its recv(), say): such a connection
 * outlives the listener's owner by a moment, so the listener waits for
 * it, calling nobody. */
void tls_listener_free(struct tls_listener *l)
{
	if (!l)
		return;
	l->gone = true;
	l->freed = true;
	if (!l->nconns)
		listener_release(l);
}

/* ---- connections -------------------------------------------------------- */

struct tls_conn {
	struct tls_listener *l;
	struct tcp_conn *c;
	SSL *ssl;
	void *mctx;            /* the module's context, once accepted */
	struct timer deadline; /* the handshake's */
	bool handshaking;      /* counted in l->handshaking */
	bool established;      /* the module's accepted() returned a context */
	bool released;         /* the module let go: call it no more */
	bool closing;          /* released, waiting to flush wretry or
				* close_notify */
	bool shut_wanted;      /* tls_shutdown() waits to flush wretry or
				* close_notify */
	bool peer_fin;         /* the stack told us FIN */
	bool fin_told;         /* the module heard peer_closed() */
	bool close_notify;     /* the peer's close_notify arrived */
	bool want_writable;    /* the module took less than it offered */
	bool failed;           /* a fatal TLS error: no more SSL calls */
	bool delivering;       /* inside the module's recv() */
	bool rx_stalled;       /* recv() took less than offered while
				* OpenSSL waited to write: resume the stack
				* once it can */
	/* Ciphertext the stack offers during recv(): the BIO reads it. */
	const uint8_t *rin;
	size_t rin_len, rin_used;
	/* Plaintext the module did not take yet (at most one record). */
	uint8_t *pend;
	size_t pend_off, pend_len;
	/* A record OpenSSL built but could not write: SSL_write must be
	 * repeated with the same bytes. */
	uint8_t *wretry;
	size_t wretry_len;
	unsigned busy;
	bool dead; /* to be freed when busy drops to 0 */
};

static BIO_METHOD *bio_method;

static int bio_write(BIO *b, const char *buf, int len)
{
	struct tls_conn *t = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	n = tcp_send(t->c, buf, (size_t)len);
	if (n == 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
	struct tls_conn *t = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (!t->rin || t->rin_used >= t->rin_len) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = t->rin_len - t->rin_used;
	if (n > (size_t)len)
		n = (size_t)len;
	memcpy(buf, t->rin + t->rin_used, n);
	t->rin_used += n;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static BIO_METHOD *bio_method_get(void)
{
	if (!bio_method) {
		bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
					  "tapir tcp");
		if (!bio_method)
			return NULL;
		BIO_meth_set_write(bio_method, bio_write);
		BIO_meth_set_read(bio_method, bio_read);
		BIO_meth_set_ctrl(bio_method, bio_ctrl);
	}
	return bio_method;
}

static void conn_free(struct tls_conn *t)
{
	struct tls_listener *l = t->l;

	if (t->busy) {
		t->dead = true;
		return;
	}
	stack_timer_cancel(l->s, &t->deadline);
	if (t->handshaking) {
		l->handshaking--;
		t->handshaking = false;
	}
	SSL_free(t->ssl);
	free(t->pend);
	free(t->wretry);
	free(t);
	if (--l->nconns == 0 && l->freed)
		listener_release(l);
}

static void handshake_over(struct tls_conn *t)
{
	stack_timer_cancel(t->l->s, &t->deadline);
	if (t->handshaking) {
		t->l->handshaking--;
		t->handshaking = false;
	}
}

/* A fatal error: send what OpenSSL queued (an alert), then close. */
static void conn_fail(struct tls_conn *t, uint64_t *counter, const char *why)
{
	char buf[256];

	bump(counter);
	log_debug("%s: tls: connection closed: %s (%s)", t->l->name, why,
		  ssl_reason(buf, sizeof(buf)));
	t->failed = true;
	handshake_over(t);
	if (t->established && !t->released) {
		const struct tapir_tcp_handlers *cb = t->l->cb;

		t->released = true;
		if (!t->l->gone && cb->closed)
			cb->closed(t->mctx, (struct tapir_tcp *)t->c,
				   -ECONNABORTED);
	}
	t->released = true;
	tcp_close(t->c);
	conn_free(t);
}

/* A write that failed inside one of the module's own calls (tls_send,
 * tls_shutdown) or in writable(): the module still holds the connection,
 * so it must not be freed or told under its feet.  The failure is
 * finished from the timer wheel, where conn_fail() may tell the module;
 * a tls_close() before then frees everything and cancels the timer. */
static void failed_fired(struct timer *tm, void *arg)
{
	struct tls_conn *t = arg;

	(void)tm;
	conn_fail(t, t->l->ctr.fail_proto, "write failed");
}

static void fail_later(struct tls_conn *t)
{
	free(t->wretry);
	t->wretry = NULL;
	t->wretry_len = 0;
	if (t->failed)
		return;
	t->failed = true;
	stack_timer_cancel(t->l->s, &t->deadline);
	timer_init(&t->deadline, failed_fired, t);
	stack_timer_arm(t->l->s, &t->deadline, 0);
}

static void deadline_fired(struct timer *tm, void *arg)
{
	struct tls_conn *t = arg;

	(void)tm;
	bump(t->l->ctr.fail_timeout);
	log_debug("%s: tls: handshake deadline passed", t->l->name);
	t->failed = true;
	handshake_over(t);
	t->released = true;
	tcp_abort(t->c);
	conn_free(t);
}

static void *tls_accepted(void *arg, struct tcp_conn *c)
{
	struct tls_listener *l = arg;
	struct tls_conn *t;
	BIO *b;
	BIO_METHOD *m = bio_method_get();

	if (l->gone || !m)
		return NULL;
	if (l->handshaking >= l->max_handshakes) {
		bump(l->ctr.fail_limit);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->l = l;
	t->c = c;
	t->ssl = SSL_new(l->ctx);
	b = BIO_new(m);
	if (!t->ssl || !b) {
		BIO_free(b);
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	BIO_set_data(b, t);
	BIO_set_init(b, 1);
	SSL_set_bio(t->ssl, b, b);
	SSL_set_accept_state(t->ssl);
	/* A handshake flight goes out whole, not its tail held for an ACK
	 * (Nagle); the module chooses for its data once established. */
	tcp_set_nodelay(c, true);
	timer_init(&t->deadline, deadline_fired, t);
	stack_timer_arm(l->s, &t->deadline, l->handshake_timeout_ms);
	t->handshaking = true;
	l->handshaking++;
	l->nconns++;
	return t;
}

/* Offer plaintext to the module; keep what it does not take.  false when
 * the module stopped taking (or let go). */
static bool deliver(struct tls_conn *t, const uint8_t *p, size_t n)
{
	const struct tapir_tcp_handlers *cb = t->l->cb;
	size_t took;

	if (t->released || t->l->gone || !cb->recv)
		return !t->released;
	t->delivering = true;
	took = cb->recv(t->mctx, (struct tapir_tcp *)t->c, p, n);
	t->delivering = false;
	if (took > n)
		took = n;
	if (t->released)
		return false;
	if (took < n) {
		uint8_t *q = malloc(n - took);

		if (!q) {
			conn_fail(t, t->l->ctr.fail_proto, "out of memory");
			return false;
		}
		memcpy(q, p + took, n - took);
		free(t->pend);
		t->pend = q;
		t->pend_off = 0;
		t->pend_len = n - took;
		return false;
	}
	return true;
}

static void tell_fin(struct tls_conn *t)
{
	const struct tapir_tcp_handlers *cb = t->l->cb;

	if (t->fin_told || t->released || t->pend_len)
		return;
	t->fin_told = true;
	if (!t->close_notify)
		bump(t->l->ctr.truncated);
	if (!t->l->gone && cb->peer_closed)
		cb->peer_closed(t->mctx, (struct tapir_tcp *)t->c);
}

static void established(struct tls_conn *t)
{
	const struct tapir_tcp_handlers *cb = t->l->cb;
	int v = SSL_version(t->ssl);
	const char *sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;

	handshake_over(t);
	tcp_set_nodelay(t->c, false); /* the default a module starts from */
	bump(t->l->ctr.handshakes);
	bump(v == TLS1_3_VERSION ? t->l->ctr.tls13 : t->l->ctr.tls12);
	if (SSL_session_reused(t->ssl))
		bump(t->l->ctr.resumed);
	SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
	log_debug("%s: tls: %s %s%s, SNI %s, ALPN %.*s", t->l->name,
		  SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl),
		  SSL_session_reused(t->ssl) ? " resumed" : "",
		  sni ? sni : "-", alpn_len ? (int)alpn_len : 1,
		  alpn_len ? (const char *)alpn : "-");
	if (t->l->gone || !cb->accepted)
		t->mctx = NULL;
	else
		t->mctx = cb->accepted(t->l->arg, (struct tapir_tcp *)t->c);
	if (!t->mctx) {
		t->released = true;
		tcp_abort(t->c);
		conn_free(t);
		return;
	}
	t->established = true;
}

/* Drive the connection as far as the data at hand goes. */
static void pump(struct tls_conn *t)
{
	uint8_t buf[TLS_RECORD_MAX];

	if (t->failed || t->released)
		return;
	if (!t->established) {
		int r;

		ERR_clear_error();
		r = SSL_do_handshake(t->ssl);
		if (r != 1) {
			int e = SSL_get_error(t->ssl, r);

			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE)
				return;
			conn_fail(t, t->l->ctr.fail_proto, "handshake failed");
			return;
		}
		established(t);
		if (t->dead || t->released)
			return;
	}
	while (!t->released && !t->failed && !t->pend_len && !t->close_notify) {
		int n;

		ERR_clear_error();
		n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n > 0) {
			if (!deliver(t, buf, (size_t)n))
				return;
			continue;
		}
		switch (SSL_get_error(t->ssl, n)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return;
		case SSL_ERROR_ZERO_RETURN:
			t->close_notify = true;
			tell_fin(t);
			return;
		default:
			conn_fail(t, t->l->ctr.fail_proto, "record error");
			return;
		}
	}
}

static size_t tls_recv(void *ctx, struct tcp_conn *c, const uint8_t *data,
		       size_t len)
{
	struct tls_conn *t = ctx;
	size_t used;

	(void)c;
	if (t->released || t->failed)
		return len; /* discard: nobody reads it */
	t->busy++;
	t->rin = data;
	t->rin_len = len;
	t->rin_used = 0;
	pump(t);
	used = t->rin_used;
	t->rin = NULL;
	t->rin_len = t->rin_used = 0;
	t->busy--;
	if (t->dead) {
		conn_free(t);
		return len;
	}
	/* After close_notify, anything more is not ours to read. */
	if (t->close_notify)
		return len;
	/* Left over without the module's doing (OpenSSL waits to write):
	 * the stack offers the rest again after writable(). */
	if (used < len && !t->pend_len)
		t->rx_stalled = true;
	return used;
}

/* Ciphertext left in the stack while OpenSSL could not write: ask for it
 * again. */
static void rx_unstall(struct tls_conn *t)
{
	if (!t->rx_stalled || t->pend_len || t->released || t->failed ||
	    t->dead)
		return;
	t->rx_stalled = false;
	tcp_recv_resume(t->c);
}

/* Repeat the write OpenSSL could not finish.  true when nothing waits. */
static bool flush_wretry(struct tls_conn *t)
{
	int n;

	if (!t->wretry)
		return true;
	ERR_clear_error();
	n = SSL_write(t->ssl, t->wretry, (int)t->wretry_len);
	if (n > 0) {
		free(t->wretry);
		t->wretry = NULL;
		t->wretry_len = 0;
		return true;
	}
	if (SSL_get_error(t->ssl, n) != SSL_ERROR_WANT_WRITE) {
		fail_later(t);
		return false;
	}
	return false;
}

/* Send close_notify; false while OpenSSL holds (part of) it for want of
 * room, to be asked again after writable(): the FIN must not cut it. */
static bool close_notify_out(struct tls_conn *t)
{
	int r;

	if (t->failed || !t->established)
		return true;
	ERR_clear_error();
	r = SSL_shutdown(t->ssl);
	return r >= 0 || SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_WRITE;
}

static void finish_close(struct tls_conn *t)
{
	if (!close_notify_out(t)) {
		t->closing = true; /* tls_writable() finishes */
		return;
	}
	tcp_close(t->c);
	conn_free(t);
}

/* close_notify, then the FIN (no record of ours may be left behind). */
static void shutdown_now(struct tls_conn *t)
{
	t->shut_wanted = true;
	if (!close_notify_out(t))
		return;
	t->shut_wanted = false;
	tcp_shutdown(t->c);
}

static void tls_writable(void *ctx, struct tcp_conn *c)
{
	struct tls_conn *t = ctx;
	const struct tapir_tcp_handlers *cb = t->l->cb;

	(void)c;
	if (t->failed)
		return;
	t->busy++;
	if (t->closing) {
		if (flush_wretry(t) && !t->failed) {
			t->closing = false;
			t->busy--;
			finish_close(t);
			return;
		}
	} else if (!t->established) {
		pump(t);
		rx_unstall(t);
	} else if (!t->released && flush_wretry(t) && !t->failed) {
		if (t->shut_wanted)
			shutdown_now(t);
		/* OpenSSL may have wanted to write during a read (tickets,
		 * key updates). */
		pump(t);
		rx_unstall(t);
		if (!t->released && !t->dead && t->want_writable) {
			t->want_writable = false;
			if (!t->l->gone && cb->writable)
				cb->writable(t->mctx,
					     (struct tapir_tcp *)t->c);
		}
	}
	t->busy--;
	if (t->dead)
		conn_free(t);
}

static void tls_peer_closed(void *ctx, struct tcp_conn *c)
{
	struct tls_conn *t = ctx;

	(void)c;
	t->peer_fin = true;
	if (t->released || t->failed)
		return;
	if (!t->established) {
		conn_fail(t, t->l->ctr.fail_eof, "peer closed during handshake");
		return;
	}
	t->busy++;
	tell_fin(t);
	t->busy--;
	if (t->dead)
		conn_free(t);
}

static void tls_closed(void *ctx, struct tcp_conn *c, int err)
{
	struct tls_conn *t = ctx;
	const struct tapir_tcp_handlers *cb = t->l->cb;

	(void)c;
	if (t->established && !t->released) {
		t->released = true;
		if (!t->l->gone && cb->closed)
			cb->closed(t->mctx, (struct tapir_tcp *)t->c, err);
	}
	t->released = true;
	t->failed = true;
	conn_free(t);
}

const struct tcp_callbacks tls_tcp_callbacks = {
	.accepted = tls_accepted,
	.recv = tls_recv,
	.writable = tls_writable,
	.peer_closed = tls_peer_closed,
	.closed = tls_closed,
};

bool tls_is(const struct tcp_conn *c)
{
	return c && c->cb == &tls_tcp_callbacks;
}

static struct tls_conn *conn_of(struct tcp_conn *c)
{
	struct tls_conn *t = c->ctx;

	if (!t || t->released || t->failed)
		return NULL;
	return t;
}

size_t tls_send_room(struct tcp_conn *c)
{
	struct tls_conn *t = conn_of(c);
	size_t room, records;

	if (!t || !t->established || t->wretry || t->shut_wanted || t->failed)
		return 0;
	room = tcp_send_room(c);
	records = room / (TLS_RECORD_MAX + TLS_RECORD_OVERHEAD) + 1;
	if (room <= records * TLS_RECORD_OVERHEAD) {
		t->want_writable = true;
		c->want_writable = true;
		return 0;
	}
	return room - records * TLS_RECORD_OVERHEAD;
}

size_t tls_send(struct tcp_conn *c, const void *data, size_t len)
{
	struct tls_conn *t = conn_of(c);
	const uint8_t *p = data;
	size_t total = 0;

	if (!t || !t->established || t->shut_wanted || t->failed)
		return 0;
	if (!flush_wretry(t)) {
		if (!t->failed)
			t->want_writable = true;
		return 0;
	}
	while (total < len) {
		size_t room = tcp_send_room(c), chunk;
		int n;

		if (room <= TLS_RECORD_OVERHEAD) {
			/* Not a record's worth of room: hear from the stack
			 * when its buffer drains (tcp_send's own flag). */
			c->want_writable = true;
			break;
		}
		chunk = len - total;
		if (chunk > TLS_RECORD_MAX)
			chunk = TLS_RECORD_MAX;
		if (chunk > room - TLS_RECORD_OVERHEAD)
			chunk = room - TLS_RECORD_OVERHEAD;
		ERR_clear_error();
		n = SSL_write(t->ssl, p + total, (int)chunk);
		if (n > 0) {
			total += (size_t)n;
			continue;
		}
		if (SSL_get_error(t->ssl, n) == SSL_ERROR_WANT_WRITE) {
			/* OpenSSL holds the record: it must be offered the
			 * same bytes again, so they are ours to keep. */
			t->wretry = malloc(chunk);
			if (!t->wretry) {
				fail_later(t);
				return total;
			}
			memcpy(t->wretry, p + total, chunk);
			t->wretry_len = chunk;
			total += chunk;
			break;
		}
		fail_later(t);
		return total;
	}
	if (total < len)
		t->want_writable = true;
	return total;
}

void tls_shutdown(struct tcp_conn *c)
{
	struct tls_conn *t = conn_of(c);

	if (!t || t->shut_wanted)
		return;
	/* A record OpenSSL holds goes out first, or the FIN would cut it:
	 * the shutdown then waits for writable(). */
	if (!flush_wretry(t)) {
		if (!t->failed)
			t->shut_wanted = true;
		return;
	}
	shutdown_now(t);
}

void tls_close(struct tcp_conn *c)
{
	struct tls_conn *t = c->ctx;

	if (!t || t->released)
		return;
	t->released = true;
	if (t->wretry && !t->failed && !flush_wretry(t) && !t->failed) {
		/* Finish when the record is out (tls_writable). */
		t->closing = true;
		return;
	}
	handshake_over(t);
	finish_close(t);
}

void tls_abort(struct tcp_conn *c)
{
	struct tls_conn *t = c->ctx;

	if (!t || t->released)
		return;
	t->released = true;
	t->failed = true;
	tcp_abort(c);
	conn_free(t);
}

void tls_recv_resume(struct tcp_conn *c)
{
	struct tls_conn *t = conn_of(c);

	/* From inside recv(): the data after this call's comes anyway (or
	 * waits for a resume after it, when the module takes less). */
	if (!t || !t->established || t->delivering)
		return;
	t->busy++;
	if (t->pend_len) {
		uint8_t *p = t->pend;
		size_t off = t->pend_off, n = t->pend_len;
		const struct tapir_tcp_handlers *cb = t->l->cb;
		size_t took = 0;

		if (!t->l->gone && cb->recv) {
			t->delivering = true;
			took = cb->recv(t->mctx, (struct tapir_tcp *)c,
					p + off, n);
			t->delivering = false;
		} else {
			took = n;
		}
		if (took > n)
			took = n;
		if (took == n) {
			free(t->pend);
			t->pend = NULL;
			t->pend_off = t->pend_len = 0;
		} else {
			t->pend_off += took;
			t->pend_len -= took;
		}
	}
	if (!t->released && !t->pend_len) {
		pump(t); /* records OpenSSL already holds */
		if (!t->released && !t->dead && !t->pend_len) {
			if (t->peer_fin || t->close_notify)
				tell_fin(t);
			else
				tcp_recv_resume(c);
		}
	}
	t->busy--;
	if (t->dead)
		conn_free(t);
}

int tls_info(const struct tcp_conn *c, struct tapir_tls_info *info)
{
	const struct tls_conn *t;
	const char *sni;
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;

	if (!tls_is(c) || !info)
		return -EINVAL;
	t = c->ctx;
	if (!t || t->failed || !SSL_is_init_finished(t->ssl))
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	snprintf(info->version, sizeof(info->version), "%s",
		 SSL_get_version(t->ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s",
		 SSL_get_cipher_name(t->ssl));
	sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	if (sni)
		snprintf(info->sni, sizeof(info->sni), "%s", sni);
	SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
	if (alpn && alpn_len < sizeof(info->alpn)) {
		memcpy(info->alpn, alpn, alpn_len);
		info->alpn[alpn_len] = '\0';
	}
	info->resumed = SSL_session_reused(t->ssl) != 0;
	info->close_notify = t->close_notify;
	return 0;
}
