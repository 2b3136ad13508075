/* The stack's lifetime (stack.c): its secrets.  Each of the four keys of
 * struct stack_secrets must key its own values and nothing else, so a peer
 * that learns values under one learns nothing about the others. */
#include "helpers.h"

#include <string.h>

#define PORT 7

static uint8_t f[TH_FRAME_MAX];

/* One value derived from each secret. */
struct derived {
	uint16_t ip_id;     /* of a UDP datagram to the peer */
	uint32_t isn;       /* of the SYN-ACK to a SYN */
	uint32_t cookie;    /* of a cookie SYN-ACK (past the backlog) */
	uint32_t flow_hash; /* of the connection the SYN made */
};

static void *no_accept(void *arg, struct tcp_conn *c)
{
	(void)arg;
	(void)c;
	ck_abort_msg("no handshake completes here");
	return NULL;
}

static const struct tcp_callbacks cbs = {.accepted = no_accept};

/* The peer's SYN from sport; returns the sequence number of our answer. */
static uint32_t syn_ack_seq(struct stack *s, uint16_t sport)
{
	struct tcp_hdr h = {
		.sport = sport,
		.dport = PORT,
		.seq = 0x10000000u,
		.flags = TCP_FLAG_SYN,
		.win = 1000,
	};
	struct ip4_hdr ih;
	struct tcp_opts o;

	th_frames_clear();
	stack_input(s, f, th_tcp_frame(f, TH_PEER_IP, TH_OUR_IP, &h, NULL, 0,
				       NULL, 0), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_tcp(th_frame(0), th_peer_mac, &ih, &h, &o);
	ck_assert_uint_eq(h.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	return h.seq;
}

/* Run the same exchanges on a stack made with secrets k.  The caller's
 * copy of k is wiped as soon as the stack exists, as the daemon does: the
 * stack must keep its own. */
static struct derived derive(const struct stack_secrets *k)
{
	struct stack_secrets copy = *k;
	struct stack_params p;
	struct tcp_listener l;
	struct udp_dst d = {.addr = inany_from_v4(TH_PEER_IP), .port = 9};
	struct derived v = {0};
	struct ip4_hdr ih;
	struct udp_hdr uh;
	struct stack *s;
	unsigned nflows = 0;

	stack_params_default(&p);
	p.acd = false; /* the address usable at once */
	p.tcp.syn_backlog = 1;
	s = th_stack_new_keyed(&p, &copy);
	memset(&copy, 0, sizeof(copy));
	th_learn(s, th_peer_mac, TH_PEER_IP);
	ck_assert_int_eq(tcp_listen(s, &l, PORT, &cbs, NULL), 0);

	ck_assert_int_eq(udp_output(s, 1234, &d, "x", 1), 0);
	ck_assert_uint_eq(th_frame_count(), 1);
	th_expect_udp(th_frame(0), th_peer_mac, &ih, &uh);
	v.ip_id = ih.id;

	v.isn = syn_ack_seq(s, 40000);
	ck_assert_uint_eq(s->tcp.count, 1);
	for (size_t i = 0; i < s->tcp.flows.nbuckets; i++) {
		if (s->tcp.flows.bucket[i]) {
			v.flow_hash = s->tcp.flows.bucket[i]->hash;
			nflows++;
		}
	}
	ck_assert_uint_eq(nflows, 1);

	v.cookie = syn_ack_seq(s, 40001);
	ck_assert_uint_eq(s->stats.v[STAT_TCP_COOKIES_SENT], 1);
	ck_assert_uint_eq(s->tcp.count, 1);

	tcp_unlisten(s, &l);
	ck_assert_uint_eq(s->tcp.count, 0);
	th_check_leaks(s, 1);
	th_stack_free(s);
	return v;
}

static void assert_same(const struct derived *a, const struct derived *b)
{
	ck_assert_uint_eq(a->ip_id, b->ip_id);
	ck_assert_uint_eq(a->isn, b->isn);
	ck_assert_uint_eq(a->cookie, b->cookie);
	ck_assert_uint_eq(a->flow_hash, b->flow_hash);
}

/* The same secrets give the same values: nothing else (no clock, no
 * address of an allocation) goes into them. */
START_TEST(test_same_secrets_same_values)
{
	struct derived a = derive(&th_secrets), b = derive(&th_secrets);

	assert_same(&a, &b);
}
END_TEST

/* Changing one key changes the values it keys and no other. */
START_TEST(test_keys_independent)
{
	const struct derived base = derive(&th_secrets);
	struct stack_secrets k;
	struct derived v, want;

	k = th_secrets;
	k.ip_id_key[0] ^= 0x80;
	v = derive(&k);
	ck_assert_uint_ne(v.ip_id, base.ip_id);
	want = base;
	want.ip_id = v.ip_id;
	assert_same(&v, &want);

	k = th_secrets;
	k.isn_key[0] ^= 0x80;
	v = derive(&k);
	ck_assert_uint_ne(v.isn, base.isn);
	want = base;
	want.isn = v.isn;
	assert_same(&v, &want);

	k = th_secrets;
	k.cookie_key[0] ^= 0x80;
	v = derive(&k);
	ck_assert_uint_ne(v.cookie, base.cookie);
	want = base;
	want.cookie = v.cookie;
	assert_same(&v, &want);

	k = th_secrets;
	k.flow_key[0] ^= 0x80;
	v = derive(&k);
	ck_assert_uint_ne(v.flow_hash, base.flow_hash);
	want = base;
	want.flow_hash = v.flow_hash;
	assert_same(&v, &want);
}
END_TEST

/* Every key reaches the stack whole: a change in its last byte counts as
 * much as one in its first. */
START_TEST(test_keys_used_whole)
{
	const struct derived base = derive(&th_secrets);
	struct stack_secrets k = th_secrets;
	struct derived v;

	k.isn_key[15] ^= 1;
	k.cookie_key[15] ^= 1;
	k.flow_key[15] ^= 1;
	k.ip_id_key[15] ^= 1;
	v = derive(&k);
	ck_assert_uint_ne(v.ip_id, base.ip_id);
	ck_assert_uint_ne(v.isn, base.isn);
	ck_assert_uint_ne(v.cookie, base.cookie);
	ck_assert_uint_ne(v.flow_hash, base.flow_hash);
}
END_TEST

static Suite *stack_suite(void)
{
	Suite *su = suite_create("stack");
	TCase *tc = tcase_create("secrets");

	tcase_add_test(tc, test_same_secrets_same_values);
	tcase_add_test(tc, test_keys_independent);
	tcase_add_test(tc, test_keys_used_whole);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(stack_suite());
}
