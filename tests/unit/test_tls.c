/* The TLS layer (src/daemon/tls.c) on the stack with the fake link: a TLS
 * listener on port 853 and a peer, 10.0.0.1, that is a TCP client built
 * by hand carrying an OpenSSL client (memory BIOs on the test's side
 * only).  The module is a set of recording handlers.  Also the checks of
 * the tls settings group, with the line of each problem. */
#include "helpers.h"

#include "daemon/tls.h"
#include "net/stack.h"
#include "net/tcp/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define PORT 853
#define PEER_ISN 0x20000000u

static uint8_t f[TH_FRAME_MAX];
static struct tcp_listener L;
static struct tls_listener *TL;
static config_t cfg;
static uint64_t c_hs, c_res, c_12, c_13, c_tmo, c_lim, c_proto, c_eof,
	c_trunc;

/* ---- The module: handlers that record ------------------------------------ */

struct mod {
	struct tapir_tcp *c;
	unsigned accepted, peer_closed, closed, writable;
	int err;
	size_t take; /* most bytes recv() takes per call */
	bool resume_in_recv; /* recv() calls tls_recv_resume() first */
	bool unlisten_in_recv; /* recv() drops the listener (module stops) */
	size_t len;
	uint8_t data[512 * 1024];
	struct tapir_tls_info info;
	int info_rc;
};
static struct mod M;
static struct stack *unlisten_stack;

static void *m_accepted(void *arg, struct tapir_tcp *c)
{
	(void)arg;
	M.c = c;
	M.accepted++;
	M.info_rc = tls_info((const struct tcp_conn *)c, &M.info);
	return &M;
}

static size_t m_recv(void *ctx, struct tapir_tcp *c, const uint8_t *data,
		     size_t len)
{
	size_t n = len < M.take ? len : M.take;

	(void)ctx;
	if (M.resume_in_recv)
		tls_recv_resume((struct tcp_conn *)c);
	ck_assert_uint_le(M.len + n, sizeof(M.data));
	memcpy(M.data + M.len, data, n);
	M.len += n;
	if (M.unlisten_in_recv) {
		M.unlisten_in_recv = false;
		tcp_unlisten(unlisten_stack, &L);
		tls_listener_free(TL);
		TL = NULL;
	}
	return n;
}

static void m_writable(void *ctx, struct tapir_tcp *c)
{
	(void)ctx;
	(void)c;
	M.writable++;
}

static void m_peer_closed(void *ctx, struct tapir_tcp *c)
{
	(void)ctx;
	M.peer_closed++;
	ck_assert_int_eq(tls_info((const struct tcp_conn *)c, &M.info), 0);
}

static void m_closed(void *ctx, struct tapir_tcp *c, int err)
{
	(void)ctx;
	(void)c;
	M.closed++;
	M.err = err;
}

static const struct tapir_tcp_handlers mh = {
	.accepted = m_accepted,
	.recv = m_recv,
	.writable = m_writable,
	.peer_closed = m_peer_closed,
	.closed = m_closed,
};

/* ---- The stack and the listener ------------------------------------------ */

static size_t sndbuf; /* 0: the default; for the next new_stack() */

static struct stack *new_stack(const char *group)
{
	struct stack_params p;
	struct stack *s;
	struct tls_counters ctr = {&c_hs,  &c_res, &c_12,  &c_13,  &c_tmo,
				   &c_lim, &c_proto, &c_eof, &c_trunc};
	char err[300];

	c_hs = c_res = c_12 = c_13 = c_tmo = c_lim = c_proto = c_eof =
		c_trunc = 0;
	memset(&M, 0, sizeof(M));
	M.take = SIZE_MAX;
	stack_params_default(&p);
	p.arp_timeout_ms = 3600 * 1000;
	p.acd = false; /* the address usable at once */
	if (sndbuf)
		p.tcp.sndbuf = (uint32_t)sndbuf;
	sndbuf = 0;
	s = th_stack_new(&p);
	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, group) == CONFIG_TRUE, "%s",
		      config_error_text(&cfg));
	TL = tls_listener_new(s, config_lookup(&cfg, "tls"), "dot,http/1.1",
			      &mh, NULL, &ctr, "test", err, sizeof(err));
	ck_assert_msg(TL != NULL, "%s", err);
	ck_assert_int_eq(tcp_listen(s, &L, PORT, &tls_tcp_callbacks, TL), 0);
	th_learn(s, th_peer_mac, TH_PEER_IP);
	return s;
}

static void finish(struct stack *s)
{
	if (TL)
		tcp_unlisten(s, &L);
	tls_listener_free(TL);
	ck_assert_uint_eq(s->tcp.count, 0);
	config_destroy(&cfg);
	th_check_leaks(s, 1);
	th_stack_free(s);
}

/* ---- The peer: TCP by hand, TLS by OpenSSL -------------------------------- */

struct peer {
	uint16_t port;
	uint32_t seq, ack;
	uint16_t win;
	bool fin_seen, rst_seen;
	bool owe_ack; /* took data not acknowledged yet */
	bool hold_ack; /* its segments acknowledge only up to held_ack */
	uint32_t held_ack;
	uint32_t una;  /* the stack's last ACK */
	uint32_t rwin; /* and window (no scaling: none offered) */
	uint8_t q[1024 * 1024]; /* the client's bytes the window held back */
	size_t q_len;
	size_t seg; /* bytes per segment it sends */
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *in, *out; /* what it received, what it has to send */
	uint8_t got[256 * 1024];
	size_t got_len;
};

static void seg_to(struct stack *s, struct peer *p, uint8_t flags,
		   const void *data, size_t len)
{
	struct tcp_hdr h = {
		.sport = p->port,
		.dport = PORT,
		.seq = p->seq,
		.ack = (flags & TCP_FLAG_ACK) ? (p->hold_ack ? p->held_ack
							      : p->ack)
					      : 0,
		.flags = flags,
		.win = p->win,
	};

	stack_input(s, f, th_tcp_frame(f, TH_PEER_IP, TH_OUR_IP, &h, NULL, 0,
				       data, len), 0);
	p->seq += (uint32_t)len + !!(flags & (TCP_FLAG_SYN | TCP_FLAG_FIN));
}

/* Take what the stack sent: in-order payload into the client's BIO.
 * Returns the payload bytes taken. */
static size_t take_frames(struct peer *p)
{
	size_t n = 0;

	for (size_t i = 0; i < th_frame_count(); i++) {
		struct ip4_hdr ih;
		struct tcp_hdr h;
		struct tcp_opts o;
		struct cur d = th_expect_tcp(th_frame(i), th_peer_mac, &ih, &h,
					     &o);

		if (h.dport != p->port)
			continue;
		if (h.flags & TCP_FLAG_RST) {
			p->rst_seen = true;
			continue;
		}
		if (h.flags & TCP_FLAG_ACK) {
			p->una = h.ack;
			p->rwin = h.win;
		}
		if (h.flags & TCP_FLAG_SYN) {
			p->ack = h.seq + 1;
			continue;
		}
		if (h.seq == p->ack && d.len) {
			ck_assert_int_eq(BIO_write(p->in, d.p, (int)d.len),
					 (int)d.len);
			p->ack += (uint32_t)d.len;
			n += d.len;
		}
		if ((h.flags & TCP_FLAG_FIN) && h.seq + d.len == p->ack &&
		    !p->fin_seen) {
			p->fin_seen = true;
			p->ack++;
			n++;
		}
	}
	th_frames_clear();
	if (n)
		p->owe_ack = true;
	return n;
}

static bool no_alpn; /* the next peer offers no ALPN and no SNI */

static void peer_new(struct stack *s, struct peer *p, uint16_t port,
		     size_t seg)
{
	memset(p, 0, sizeof(*p));
	p->port = port;
	p->seq = PEER_ISN;
	p->win = 65535;
	p->seg = seg;
	th_frames_clear();
	seg_to(s, p, TCP_FLAG_SYN, NULL, 0);
	take_frames(p);
	ck_assert_uint_ne(p->ack, 0);
	seg_to(s, p, TCP_FLAG_ACK, NULL, 0);
	p->ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(p->ctx);
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
	p->ssl = SSL_new(p->ctx);
	p->in = BIO_new(BIO_s_mem());
	p->out = BIO_new(BIO_s_mem());
	SSL_set_bio(p->ssl, p->in, p->out);
	SSL_set_connect_state(p->ssl);
	if (!no_alpn) {
		SSL_set_tlsext_host_name(p->ssl, "lab.test");
		SSL_set_alpn_protos(p->ssl, (const unsigned char *)"\3dot",
				    4);
	}
	no_alpn = false;
}

static void peer_free(struct peer *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
}

static size_t take_frames(struct peer *p);

/* Send what the client has queued, p->seg bytes per segment, taking
 * what comes back after each (the fake link keeps a bounded number of
 * frames). */
static size_t flush_client(struct stack *s, struct peer *p)
{
	size_t sent = 0, o = 0;
	int n;

	while (p->q_len < sizeof(p->q) &&
	       (n = BIO_read(p->out, p->q + p->q_len,
			     (int)(sizeof(p->q) - p->q_len))) > 0)
		p->q_len += (size_t)n;
	while (o < p->q_len) {
		size_t inflight = p->seq - p->una;
		size_t k = p->q_len - o < p->seg ? p->q_len - o : p->seg;

		if (inflight >= p->rwin)
			break;
		if (k > p->rwin - inflight)
			k = p->rwin - inflight;
		seg_to(s, p, TCP_FLAG_ACK | TCP_FLAG_PSH, p->q + o, k);
		o += k;
		sent += k + take_frames(p);
	}
	memmove(p->q, p->q + o, p->q_len - o);
	p->q_len -= o;
	return sent;
}

/* Run both sides until neither moves (bounded). */
static void run(struct stack *s, struct peer *p)
{
	for (int i = 0; i < 10000; i++) {
		size_t moved;
		int n;

		if (!SSL_is_init_finished(p->ssl))
			SSL_do_handshake(p->ssl);
		while ((n = SSL_read(p->ssl, p->got + p->got_len,
				     (int)(sizeof(p->got) - p->got_len))) > 0)
			p->got_len += (size_t)n;
		moved = flush_client(s, p);
		n = (int)take_frames(p);
		moved += (size_t)n;
		if (p->owe_ack) {
			p->owe_ack = false;
			seg_to(s, p, TCP_FLAG_ACK, NULL, 0);
			moved += take_frames(p);
		}
		if (!moved)
			return;
	}
	ck_abort_msg("no quiet state after 10000 rounds");
}

static void client_write(struct peer *p, const void *d, size_t len)
{
	const uint8_t *q = d;

	while (len) {
		int n = SSL_write(p->ssl, q, (int)len);

		ck_assert_int_gt(n, 0);
		q += n;
		len -= (size_t)n;
	}
}

static const char *SELF = "tls = { self_signed = true; };";

/* ---- Handshake and data --------------------------------------------------- */

START_TEST(test_handshake_and_echo)
{
	struct stack *s = new_stack(SELF);
	struct peer p;
	static const char msg[] = "query over tls";

	peer_new(s, &p, 40000, 1400);
	run(s, &p);
	ck_assert(SSL_is_init_finished(p.ssl));
	ck_assert_uint_eq(M.accepted, 1);
	ck_assert_int_eq(M.info_rc, 0);
	ck_assert_str_eq(M.info.version, "TLSv1.3");
	ck_assert_str_eq(M.info.sni, "lab.test");
	ck_assert_str_eq(M.info.alpn, "dot");
	ck_assert(!M.info.resumed);
	ck_assert_uint_eq(c_hs, 1);
	ck_assert_uint_eq(c_13, 1);

	client_write(&p, msg, sizeof(msg));
	run(s, &p);
	ck_assert_uint_eq(M.len, sizeof(msg));
	ck_assert_mem_eq(M.data, msg, sizeof(msg));

	ck_assert_uint_eq(tls_send((struct tcp_conn *)M.c, "answer", 6), 6);
	run(s, &p);
	ck_assert_uint_eq(p.got_len, 6);
	ck_assert_mem_eq(p.got, "answer", 6);

	/* The module closes: close_notify, then FIN. */
	tls_close((struct tcp_conn *)M.c);
	run(s, &p);
	ck_assert(p.fin_seen);
	ck_assert_int_eq(SSL_read(p.ssl, p.got, 1), 0);
	ck_assert_int_eq(SSL_get_error(p.ssl, 0), SSL_ERROR_ZERO_RETURN);
	seg_to(s, &p, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
	th_frames_clear();
	ck_assert_uint_eq(M.closed, 0); /* the module let go: no callback */
	peer_free(&p);
	finish(s);
}
END_TEST

/* Every record of both directions split at every byte: the client's
 * flights and data go one byte per segment. */
START_TEST(test_records_split_at_every_byte)
{
	struct stack *s = new_stack(SELF);
	struct peer p;
	uint8_t big[3000];

	th_pattern(big, sizeof(big), 7);
	peer_new(s, &p, 40001, 1);
	run(s, &p);
	ck_assert(SSL_is_init_finished(p.ssl));
	ck_assert_uint_eq(M.accepted, 1);
	client_write(&p, big, sizeof(big));
	run(s, &p);
	ck_assert_uint_eq(M.len, sizeof(big));
	ck_assert_mem_eq(M.data, big, sizeof(big));
	peer_free(&p);
	finish(s);
}
END_TEST

/* A module that takes nothing: the layer holds at most one record of
 * plaintext, takes no more ciphertext, and the window closes; resume
 * delivers everything in order. */
START_TEST(test_flow_control)
{
	struct stack *s = new_stack(SELF);
	struct peer p;
	static uint8_t big[400 * 1024];
	struct tcp_conn *c;

	th_pattern(big, sizeof(big), 3);
	peer_new(s, &p, 40002, 1400);
	run(s, &p);
	ck_assert_uint_eq(M.accepted, 1);
	c = (struct tcp_conn *)M.c;
	M.take = 0;
	client_write(&p, big, sizeof(big));
	run(s, &p);
	ck_assert_uint_eq(M.len, 0);
	/* The receive buffer filled and the window closed: the client
	 * holds the rest. */
	ck_assert_uint_gt(p.q_len, 0);
	ck_assert_uint_lt(p.rwin, 4096);
	M.take = 1000;
	tls_recv_resume(c);
	run(s, &p);
	ck_assert_uint_ge(M.len, 1000);
	M.take = SIZE_MAX;
	for (int i = 0; i < 1000 && M.len < sizeof(big); i++) {
		tls_recv_resume(c);
		run(s, &p);
	}
	ck_assert_uint_eq(M.len, sizeof(big));
	ck_assert_mem_eq(M.data, big, sizeof(big));
	peer_free(&p);
	finish(s);
}
END_TEST

/* A module that resumes from inside recv() and takes a little each time
 * still gets every byte once, in order. */
START_TEST(test_resume_inside_recv)
{
	struct stack *s = new_stack(SELF);
	struct peer p;
	static uint8_t big[100 * 1024];
	struct tcp_conn *c;

	th_pattern(big, sizeof(big), 5);
	peer_new(s, &p, 40007, 1400);
	run(s, &p);
	ck_assert_uint_eq(M.accepted, 1);
	c = (struct tcp_conn *)M.c;
	M.take = 700;
	M.resume_in_recv = true;
	client_write(&p, big, sizeof(big));
	for (int i = 0; i < 2000 && M.len < sizeof(big); i++) {
		run(s, &p);
		tls_recv_resume(c);
	}
	ck_assert_uint_eq(M.len, sizeof(big));
	ck_assert_mem_eq(M.data, big, sizeof(big));
	peer_free(&p);
	finish(s);
}
END_TEST

/* The client's Finished and its first data arrive in one segment that
 * does not acknowledge the server's flight, with a send buffer too small
 * for the session tickets too: OpenSSL stops on the write with the data
 * still unread in the stack; the ACK that frees the buffer brings it. */
START_TEST(test_data_behind_a_blocked_write)
{
	struct stack *s;
	struct peer p;
	static const char msg[] = "data right after Finished";

	sndbuf = 1024;
	s = new_stack(SELF);
	peer_new(s, &p, 40008, 1400);
	p.hold_ack = true;
	p.held_ack = p.ack; /* our SYN-ACK, nothing after */
	SSL_do_handshake(p.ssl);
	flush_client(s, &p); /* ClientHello */
	take_frames(&p);     /* the server's flight, not acknowledged */
	ck_assert_int_eq(SSL_do_handshake(p.ssl), 1);
	client_write(&p, msg, sizeof(msg));
	p.seg = 4096;       /* Finished and the data in one segment */
	flush_client(s, &p);
	ck_assert_uint_eq(M.len, 0);
	p.hold_ack = false; /* now everything is acknowledged */
	run(s, &p);
	ck_assert_uint_eq(M.accepted, 1);
	ck_assert_uint_eq(M.len, sizeof(msg));
	ck_assert_mem_eq(M.data, msg, sizeof(msg));
	peer_free(&p);
	finish(s);
}
END_TEST

/* Records larger than the room the layer reckons with (openssl_conf
 * RecordPadding): OpenSSL holds the tail of one while the send buffer is
 * full.  A shutdown asked for meanwhile waits for that record: the peer
 * gets every byte tls_send() took, then close_notify, then the FIN. */
START_TEST(test_shutdown_waits_for_a_held_record)
{
	struct stack *s;
	struct peer p;
	static const char ans[] = "an answer in a padded record";
	int n;

	sndbuf = 2048;
	s = new_stack("tls = { self_signed = true;"
		      " openssl_conf = [ \"RecordPadding\", \"4096\" ]; };");
	peer_new(s, &p, 40011, 1400);
	run(s, &p);
	ck_assert_uint_eq(M.accepted, 1);
	ck_assert_uint_eq(tls_send((struct tcp_conn *)M.c, ans, strlen(ans)),
			  strlen(ans));
	tls_shutdown((struct tcp_conn *)M.c);
	for (int i = 0; i < 50 && !p.fin_seen; i++)
		run(s, &p);
	ck_assert_uint_eq(p.got_len, strlen(ans));
	ck_assert_mem_eq(p.got, ans, strlen(ans));
	n = SSL_read(p.ssl, p.got, 1);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(SSL_get_error(p.ssl, n), SSL_ERROR_ZERO_RETURN);
	ck_assert(p.fin_seen);
	tls_close((struct tcp_conn *)M.c);
	seg_to(s, &p, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
	th_frames_clear();
	peer_free(&p);
	finish(s);
}
END_TEST

/* The same with tls_close(): the held record and a close_notify that
 * does not fit at once both go out before the FIN. */
START_TEST(test_close_waits_for_a_held_record)
{
	struct stack *s;
	struct peer p;
	static const char ans[] = "the last answer before closing";
	int n;

	sndbuf = 2048;
	s = new_stack("tls = { self_signed = true;"
		      " openssl_conf = [ \"RecordPadding\", \"4096\" ]; };");
	peer_new(s, &p, 40012, 1400);
	run(s, &p);
	ck_assert_uint_eq(M.accepted, 1);
	ck_assert_uint_eq(tls_send((struct tcp_conn *)M.c, ans, strlen(ans)),
			  strlen(ans));
	tls_close((struct tcp_conn *)M.c);
	for (int i = 0; i < 50 && !p.fin_seen; i++)
		run(s, &p);
	ck_assert_uint_eq(p.got_len, strlen(ans));
	ck_assert_mem_eq(p.got, ans, strlen(ans));
	n = SSL_read(p.ssl, p.got, 1);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(SSL_get_error(p.ssl, n), SSL_ERROR_ZERO_RETURN);
	ck_assert(p.fin_seen);
	ck_assert(!p.rst_seen);
	seg_to(s, &p, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
	th_frames_clear();
	ck_assert_uint_eq(M.closed, 0);
	peer_free(&p);
	finish(s);
}
END_TEST

/* A module that stops its listener from inside a connection's recv()
 * (its connections reset, the layer freed): nothing of the listener is
 * touched after. */
START_TEST(test_unlisten_inside_recv)
{
	struct stack *s = new_stack(SELF);
	struct peer p;

	peer_new(s, &p, 40010, 1400);
	run(s, &p);
	ck_assert_uint_eq(M.accepted, 1);
	unlisten_stack = s;
	M.unlisten_in_recv = true;
	client_write(&p, "bye", 3);
	run(s, &p);
	ck_assert_uint_eq(M.len, 3);
	ck_assert(TL == NULL);
	ck_assert_uint_eq(M.closed, 1);
	ck_assert(p.rst_seen);
	peer_free(&p);
	finish(s);
}
END_TEST

/* The peer's window is 0 while the server's flight waits: the handshake
 * completes once the window opens.  This client offers neither ALPN nor
 * SNI. */
START_TEST(test_zero_window_during_handshake)
{
	struct stack *s = new_stack(SELF);
	struct peer p;

	no_alpn = true;
	peer_new(s, &p, 40003, 1400);
	p.win = 0;
	SSL_do_handshake(p.ssl);
	flush_client(s, &p); /* ClientHello, window 0 */
	take_frames(&p);
	ck_assert(!SSL_is_init_finished(p.ssl));
	ck_assert_uint_eq(M.accepted, 0);
	p.win = 65535;
	seg_to(s, &p, TCP_FLAG_ACK, NULL, 0); /* window update */
	run(s, &p);
	ck_assert(SSL_is_init_finished(p.ssl));
	ck_assert_uint_eq(M.accepted, 1);
	/* No ALPN, no SNI offered: empty strings. */
	ck_assert_int_eq(M.info_rc, 0);
	ck_assert_str_eq(M.info.alpn, "");
	ck_assert_str_eq(M.info.sni, "");
	peer_free(&p);
	finish(s);
}
END_TEST

/* close_notify then FIN: peer_closed, nothing counted as truncated;
 * FIN alone: peer_closed and counted. */
START_TEST(test_close_notify_and_truncation)
{
	struct stack *s = new_stack(SELF);
	struct peer p, q;

	peer_new(s, &p, 40004, 1400);
	run(s, &p);
	client_write(&p, "x", 1);
	SSL_shutdown(p.ssl);
	run(s, &p);
	ck_assert_uint_eq(M.len, 1);
	ck_assert_uint_eq(M.peer_closed, 1);
	ck_assert(M.info.close_notify);
	ck_assert_uint_eq(c_trunc, 0);
	seg_to(s, &p, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
	ck_assert_uint_eq(M.peer_closed, 1);
	tls_close((struct tcp_conn *)M.c);
	run(s, &p);
	peer_free(&p);

	memset(&M, 0, sizeof(M));
	M.take = SIZE_MAX;
	peer_new(s, &q, 40005, 1400);
	run(s, &q);
	client_write(&q, "yz", 2);
	run(s, &q);
	seg_to(s, &q, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
	th_frames_clear();
	ck_assert_uint_eq(M.len, 2);
	ck_assert_uint_eq(M.peer_closed, 1);
	ck_assert(!M.info.close_notify); /* a truncation, said as such */
	ck_assert_uint_eq(c_trunc, 1);
	tls_close((struct tcp_conn *)M.c);
	run(s, &q);
	peer_free(&q);
	finish(s);
}
END_TEST

/* A client that never finishes its handshake is reset at the deadline;
 * past max_handshakes, connections are refused at once. */
START_TEST(test_deadline_and_cap)
{
	struct stack *s = new_stack("tls = { self_signed = true; "
				    "handshake_timeout = 2; max_handshakes = 2; };");
	struct peer a, b, c;

	peer_new(s, &a, 41000, 1400);
	peer_new(s, &b, 41001, 1400);
	ck_assert(!a.rst_seen && !b.rst_seen);
	memset(&c, 0, sizeof(c));
	c.port = 41002;
	c.seq = PEER_ISN;
	c.win = 65535;
	seg_to(s, &c, TCP_FLAG_SYN, NULL, 0);
	take_frames(&c);
	seg_to(s, &c, TCP_FLAG_ACK, NULL, 0);
	take_frames(&c);
	ck_assert(c.rst_seen);
	ck_assert_uint_eq(c_lim, 1);
	th_advance(s, 2100);
	take_frames(&a);
	ck_assert_uint_eq(c_tmo, 2);
	ck_assert_uint_eq(M.accepted, 0);
	peer_free(&a);
	peer_free(&b);
	finish(s);
}
END_TEST

/* Garbage as the first flight: an alert at most, the connection closed,
 * counted as a protocol failure, the module never called. */
START_TEST(test_garbage_first_flight)
{
	struct stack *s = new_stack(SELF);
	struct peer p;
	uint8_t junk[600];

	th_pattern(junk, sizeof(junk), 11);
	peer_new(s, &p, 40006, 1400);
	seg_to(s, &p, TCP_FLAG_ACK | TCP_FLAG_PSH, junk, sizeof(junk));
	take_frames(&p);
	ck_assert(p.fin_seen || p.rst_seen);
	ck_assert_uint_eq(c_proto, 1);
	ck_assert_uint_eq(M.accepted, 0);
	seg_to(s, &p, TCP_FLAG_ACK | TCP_FLAG_FIN, NULL, 0);
	th_frames_clear();
	peer_free(&p);
	finish(s);
}
END_TEST

/* ---- Settings -------------------------------------------------------------- */

struct rep {
	int n;
	int line[16];
	char msg[16][512];
};

static void rep_fn(void *arg, const config_setting_t *at, const char *msg)
{
	struct rep *r = arg;

	if (r->n < 16) {
		r->line[r->n] = at ? (int)config_setting_source_line(at) : -1;
		snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
	}
	r->n++;
}

static int check_text(const char *text, struct rep *r)
{
	config_t c;
	int n;

	memset(r, 0, sizeof(*r));
	config_init(&c);
	ck_assert_msg(config_read_string(&c, text) == CONFIG_TRUE, "%s",
		      config_error_text(&c));
	n = tls_check(config_lookup(&c, "tls"), rep_fn, r);
	config_destroy(&c);
	ck_assert_int_eq(n, r->n);
	return n;
}

static char dir[] = "/tmp/tapir-tls-XXXXXX";

/* A self-signed certificate and its key as PEM files in dir. */
static void make_pair(const char *name, int days)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	char path[256];
	FILE *fp;

	ck_assert_ptr_nonnull(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -2L * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
				   MBSTRING_ASC, (const unsigned char *)name,
				   -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	PEM_write_X509(fp, x);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(k);
}

START_TEST(test_settings_errors)
{
	struct rep r;
	char text[1024];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_pair("a", 30);
	make_pair("b", 30);
	make_pair("old", -1); /* expired yesterday */

	snprintf(text, sizeof(text),
		 "tls = {\n certificate = \"%s/a.pem\";\n key = \"%s/a.key\";\n"
		 " min_version = \"TLSv1.3\";\n session_tickets = false;\n"
		 " openssl_conf = [ \"Groups\", \"X25519:P-256\" ];\n};",
		 dir, dir);
	ck_assert_int_eq(check_text(text, &r), 0);

	/* An expired certificate is a warning (logged), not an error. */
	snprintf(text, sizeof(text),
		 "tls = {\n certificate = \"%s/old.pem\";\n key = \"%s/old.key\";\n};",
		 dir, dir);
	ck_assert_int_eq(check_text(text, &r), 0);

	snprintf(text, sizeof(text),
		 "tls = {\n certificate = \"%s/a.pem\";\n key = \"%s/b.key\";\n};",
		 dir, dir);
	ck_assert_int_eq(check_text(text, &r), 1);
	ck_assert_int_eq(r.line[0], 3);
	ck_assert_ptr_nonnull(strstr(r.msg[0], "does not match"));

	snprintf(text, sizeof(text),
		 "tls = {\n certificate = \"%s/a.pem\";\n key = \"%s/none.key\";\n};",
		 dir, dir);
	ck_assert_int_eq(check_text(text, &r), 1);
	ck_assert_int_eq(r.line[0], 3);
	ck_assert_ptr_nonnull(strstr(r.msg[0], "No such file"));

	snprintf(text, sizeof(text),
		 "tls = {\n certificate = \"%s/a.key\";\n key = \"%s/a.key\";\n};",
		 dir, dir);
	ck_assert_int_eq(check_text(text, &r), 1);
	ck_assert_int_eq(r.line[0], 2);

	ck_assert_int_eq(check_text("tls = {\n self_signed = true;\n"
				    " min_version = \"TLSv1.1\";\n"
				    " colour = 3;\n"
				    " max_handshakes = 0;\n"
				    " openssl_conf = [ \"Options\" ];\n};",
				    &r),
			 4);
	ck_assert_int_eq(r.line[0], 3);
	ck_assert_int_eq(r.line[1], 4);
	ck_assert_ptr_nonnull(strstr(r.msg[1], "unknown tls setting"));
	ck_assert_int_eq(r.line[2], 5);
	ck_assert_int_eq(r.line[3], 6);

	ck_assert_int_eq(check_text("tls = { min_version = \"TLSv1.2\"; };", &r),
			 1);
	ck_assert_ptr_nonnull(strstr(r.msg[0], "needs certificate and key"));

	ck_assert_int_eq(check_text("tls = {\n self_signed = true;\n"
				    " ciphers = \"NOTHING-AT-ALL\";\n};",
				    &r),
			 1);
	ck_assert_int_eq(r.line[0], 3);

	ck_assert_int_eq(check_text("tls = {\n self_signed = true;\n"
				    " openssl_conf = [ \"NoSuchCommand\", \"1\" ];\n};",
				    &r),
			 1);
	ck_assert_int_eq(r.line[0], 3);

	snprintf(text, sizeof(text),
		 "tls = {\n certificate = \"%s/a.pem\";\n self_signed = true;\n};",
		 dir);
	ck_assert_int_eq(check_text(text, &r), 1);
	ck_assert_int_eq(r.line[0], 3);

	for (int i = 0; i < 3; i++) {
		static const char *const names[] = {"a", "b", "old"};
		char path[256];

		snprintf(path, sizeof(path), "%s/%s.pem", dir, names[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.key", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	tls_prepared_clear();
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_handshake_and_echo);
	tcase_add_test(tc, test_records_split_at_every_byte);
	tcase_add_test(tc, test_flow_control);
	tcase_add_test(tc, test_resume_inside_recv);
	tcase_add_test(tc, test_zero_window_during_handshake);
	tcase_add_test(tc, test_data_behind_a_blocked_write);
	tcase_add_test(tc, test_unlisten_inside_recv);
	tcase_add_test(tc, test_shutdown_waits_for_a_held_record);
	tcase_add_test(tc, test_close_waits_for_a_held_record);
	tcase_add_test(tc, test_close_notify_and_truncation);
	tcase_add_test(tc, test_deadline_and_cap);
	tcase_add_test(tc, test_garbage_first_flight);
	tcase_add_test(tc, test_settings_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
