/* IPv6 input (ip6.c): the walk of extension headers, here the Routing
 * header, which a host that routes nothing never recognises. */
#include "helpers.h"

#include <string.h>

#include "wire/ip6.h"

static uint8_t f[TH_FRAME_MAX];

static const uint8_t our6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				 0, 0, 0, 0, 0, 0, 0, 2}; /* fd00::2 */
static const uint8_t peer6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				  0, 0, 0, 0, 0, 0, 0, 1}; /* fd00::1 */

/* A stack with fd00::2/64 usable at once (no DAD), an empty link. */
static struct stack *new_stack6(void)
{
	struct stack_params p;
	struct stack *s;

	stack_params_default(&p);
	p.dad = false;
	p.naddr6 = 1;
	memcpy(p.addr6[0].addr, our6, 16);
	p.addr6[0].prefix = 64;
	s = th_stack_new(&p);
	stack_announce(s);
	th_frames_clear();
	return s;
}

/* An echo request from fd00::1 (the peer's MAC) to fd00::2 behind a
 * Routing header of the given type and segments left (one address). */
static size_t echo_behind_routing(uint8_t *fr, uint8_t type, uint8_t left)
{
	union inany src = inany_from_v6(peer6), dst = inany_from_v6(our6);
	static const uint8_t echo[16] = {128, 0, 0, 0, 0x12, 0x34, 0, 1,
					 'r', 'o', 'u', 't', 'i', 'n', 'g', '!'};
	size_t n = th_eth(fr, th_our_mac, th_peer_mac, ETH_TYPE_IP6);
	size_t plen = 24 + sizeof(echo);
	uint8_t *ip = fr + n, *rh = ip + IP6_HLEN, *m = rh + 24;

	memset(ip, 0, IP6_HLEN + plen);
	ip[0] = 0x60;
	ip[5] = (uint8_t)plen;
	ip[6] = IP6_NH_ROUTING;
	ip[7] = 64;
	memcpy(ip + 8, peer6, 16);
	memcpy(ip + 24, our6, 16);
	rh[0] = IP6_NH_ICMP6;
	rh[1] = 2; /* 24 bytes */
	rh[2] = type;
	rh[3] = left;
	memcpy(rh + 8, peer6, 16);
	memcpy(m, echo, sizeof(echo));
	put_be16(m + 2, csum_fold(csum_partial(
				m, sizeof(echo),
				l3_pseudo(&src, &dst, IP6_NH_ICMP6, sizeof(echo)))));
	return n + IP6_HLEN + plen;
}

/* A solicited Neighbor Advertisement from fd00::1 for itself, with the
 * peer's MAC. */
static size_t peer_na(uint8_t *fr)
{
	union inany src = inany_from_v6(peer6), dst = inany_from_v6(our6);
	size_t n = th_eth(fr, th_our_mac, th_peer_mac, ETH_TYPE_IP6);
	size_t plen = 32;
	uint8_t *ip = fr + n, *m = ip + IP6_HLEN;

	memset(ip, 0, IP6_HLEN + plen);
	ip[0] = 0x60;
	ip[5] = (uint8_t)plen;
	ip[6] = IP6_NH_ICMP6;
	ip[7] = 255;
	memcpy(ip + 8, peer6, 16);
	memcpy(ip + 24, our6, 16);
	m[0] = 136;
	m[4] = 0x60; /* solicited, override */
	memcpy(m + 8, peer6, 16);
	m[24] = 2; /* target link-layer address */
	m[25] = 1;
	memcpy(m + 26, th_peer_mac, ETH_ALEN);
	put_be16(m + 2, csum_fold(csum_partial(
				m, plen, l3_pseudo(&src, &dst, IP6_NH_ICMP6, plen))));
	return n + IP6_HLEN + plen;
}

/* The ICMPv6 type and code of frame i, which must be IPv6 to fd00::1. */
static void expect_icmp6(size_t i, uint8_t type, uint8_t code)
{
	const struct th_frame *fr = th_frame(i);
	const uint8_t *ip = fr->data + ETH_HLEN;

	ck_assert_uint_ge(fr->len, ETH_HLEN + IP6_HLEN + 8);
	ck_assert_uint_eq(ip[0] >> 4, 6);
	ck_assert_uint_eq(ip[6], IP6_NH_ICMP6);
	ck_assert_mem_eq(ip + 24, peer6, 16);
	ck_assert_uint_eq(ip[IP6_HLEN], type);
	ck_assert_uint_eq(ip[IP6_HLEN + 1], code);
}

/* With no segments left, a Routing header of any type is skipped (RFC
 * 8200 4.4), type 0 too: RFC 5095 3 has it processed as an unrecognised
 * type, not dropped.  With segments left it is a router's work: a
 * parameter problem pointing at the type (offset 42). */
START_TEST(test_routing_header)
{
	static const uint8_t types[] = {0, 253};
	struct stack *s = new_stack6();

	/* The peer's MAC first (a solicitation goes, the advertisement
	 * answers it), so that the answers below leave at once. */
	stack_input(s, f, echo_behind_routing(f, 253, 0), 0);
	stack_input(s, f, peer_na(f), 0);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_TX], 1);
	th_frames_clear();
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		stack_input(s, f, echo_behind_routing(f, types[i], 0), 0);
		ck_assert_uint_eq(th_frame_count(), 1);
		expect_icmp6(0, 129, 0); /* echo reply */
		th_frames_clear();

		stack_input(s, f, echo_behind_routing(f, types[i], 1), 0);
		ck_assert_uint_eq(th_frame_count(), 1);
		expect_icmp6(0, 4, 0); /* parameter problem, header field */
		ck_assert_uint_eq(be32(th_frame(0)->data + ETH_HLEN +
					   IP6_HLEN + 4),
				  IP6_HLEN + 2);
		th_frames_clear();
	}
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_RH0], 1);
	ck_assert_uint_eq(s->stats.v[STAT_IP6_DROP_ROUTING], 1);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_ECHO_TX], 3);
	ck_assert_uint_eq(s->stats.v[STAT_ICMP6_PARAM_TX], 2);
	th_stack_free(s);
}
END_TEST

static Suite *ip6_suite(void)
{
	Suite *su = suite_create("ip6");
	TCase *tc = tcase_create("extension headers");

	tcase_add_test(tc, test_routing_header);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return th_run(ip6_suite());
}
