/* Stack lifetime, parameters and the entry points the daemon calls. */
#include "net/core.h"

#include <stdlib.h>
#include <string.h>

static void stack_set_static_neigh(struct stack *s);

void stack_params_default(struct stack_params *p)
{
	static const uint8_t mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

	memset(p, 0, sizeof(*p));
	memcpy(p->mac, mac, ETH_ALEN);
	p->addr = 0x0a000002; /* 10.0.0.2 */
	p->prefix = 24;
	p->acd = true;
	p->mtu = 1500;
	p->arp_cache_size = 256;
	p->arp_timeout_ms = 60000;
	p->arp_retry_ms = 1000;
	p->arp_retries = 3;
	p->arp_queue_len = 3;
	p->reasm_max_datagrams = 64;
	p->reasm_max_per_source = 8;
	p->reasm_max_bytes = 4 * 1024 * 1024;
	p->reasm_max_frags = 128;
	p->reasm_timeout_ms = 30000;
	p->reasm_timeout6_ms = 60000;
	p->icmp_rate = 100;
	p->icmp_burst = 50;
	p->ttl = 64;
	p->ipv6 = true;
	p->dad = true;
	p->dad_transmits = 1;
	p->nd_reachable_ms = 30000;
	p->nd_retrans_ms = 1000;
	p->hop_limit = 64;
	tcp_params_default(&p->tcp);
}

struct stack *stack_new(const struct stack_params *p,
			const struct stack_secrets *secrets, stack_xmit_fn xmit,
			void *xmit_ctx, stack_clock_fn clock, void *clock_ctx)
{
	struct stack *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = *p;
	s->xmit = xmit;
	s->xmit_ctx = xmit_ctx;
	s->clock = clock;
	s->clock_ctx = clock_ctx;
	memcpy(s->ip_id_key, secrets->ip_id_key, sizeof(s->ip_id_key));
	memcpy(s->frag6_key, secrets->frag6_key, sizeof(s->frag6_key));
	memcpy(s->iid_key, secrets->iid_key, sizeof(s->iid_key));
	timer_wheel_init(&s->timers, stack_now(s));
	s->reasm_tail = &s->reasm_head;
	s->icmp_tokens = (uint64_t)p->icmp_burst * 1000;
	s->icmp_last_ms = stack_now(s);
	if (arp_init(s) < 0) {
		free(s);
		return NULL;
	}
	if (nd6_init(s) < 0) {
		arp_fini(s);
		free(s);
		return NULL;
	}
	if (tcp_init(s, secrets) < 0) {
		nd6_fini(s);
		arp_fini(s);
		free(s);
		return NULL;
	}
	stack_set_static_neigh(s);
	return s;
}

/* The configured neighbours, anew: the old ones go first, so one taken
 * off the list is resolved again like any other. */
static void stack_set_static_neigh(struct stack *s)
{
	neigh_clear_static(&s->arp);
	neigh_clear_static(&s->nd);
	for (unsigned i = 0; i < s->p.nstatic_neigh &&
			     i < STACK_MAX_STATIC_NEIGH; i++) {
		const struct stack_static_neigh *n = &s->p.static_neigh[i];

		if (inany_is_v4(&n->addr))
			neigh_set_static(&s->arp, &n->addr, n->mac);
		else if (s->p.ipv6)
			neigh_set_static(&s->nd, &n->addr, n->mac);
	}
}

void stack_free(struct stack *s)
{
	if (!s)
		return;
	tcp_fini(s);
	reasm_fini(s);
	nd6_fini(s);
	arp_fini(s);
	udp_fini(s);
	free(s);
}

void stack_input(struct stack *s, const uint8_t *frame, size_t len,
		 unsigned flags)
{
	eth_input(s, cur_make(frame, len), flags);
}

void stack_run_timers(struct stack *s)
{
	timer_wheel_run(&s->timers, stack_now(s));
}

int64_t stack_next_timer(struct stack *s)
{
	return timer_wheel_next(&s->timers, stack_now(s));
}

void stack_announce(struct stack *s)
{
	arp_start(s);
	nd6_addr_setup(s);
}

bool stack_addr4_usable(const struct stack *s)
{
	return ip4_addr_usable(s);
}

const char *stack_addr4_state(const struct stack *s)
{
	if (s->acd_state == ACD_CONFLICT)
		return "duplicate";
	return s->acd_state == ACD_BOUND ? "preferred" : "tentative";
}

void stack_update(struct stack *s, const struct stack_params *p)
{
	bool statics = p->nstatic_neigh != s->p.nstatic_neigh ||
		       p->ipv6 != s->p.ipv6;
	uint32_t old_addr = s->p.addr;
	bool old_acd = s->p.acd;
	uint8_t old_mac[ETH_ALEN];

	for (unsigned i = 0; !statics && i < p->nstatic_neigh &&
			     i < STACK_MAX_STATIC_NEIGH; i++)
		statics = !inany_eq(&p->static_neigh[i].addr,
				    &s->p.static_neigh[i].addr) ||
			  memcmp(p->static_neigh[i].mac,
				 s->p.static_neigh[i].mac, ETH_ALEN) != 0;

	bool moved6 = p->ipv6 != s->p.ipv6 || p->iid_eui64 != s->p.iid_eui64 ||
		      p->dad != s->p.dad || p->naddr6 != s->p.naddr6 ||
		      memcmp(p->addr6, s->p.addr6, sizeof(p->addr6)) != 0 ||
		      memcmp(p->mac, s->p.mac, ETH_ALEN) != 0 ||
		      (p->mtu >= 1280) != (s->p.mtu >= 1280);

	memcpy(old_mac, s->p.mac, ETH_ALEN);
	s->p = *p;
	arp_update(s); /* the caches keep their size: that needs a restart */
	nd6_update(s);
	arp_changed(s, old_addr, old_mac, old_acd);
	if (statics)
		stack_set_static_neigh(s);
	if (moved6)
		nd6_addr_setup(s);
}

uint64_t stack_now_ms(const struct stack *s)
{
	return stack_now(s);
}

const struct stack_params *stack_get_params(const struct stack *s)
{
	return &s->p;
}

const struct stats *stack_stats(const struct stack *s)
{
	return &s->stats;
}

const struct tapir_histogram *stack_tcp_rtt(const struct stack *s)
{
	return &s->tcp_rtt;
}

void stack_count(struct stack *s, enum stat_id id)
{
	if ((unsigned)id < STAT_COUNT)
		s->stats.v[id]++;
}

unsigned stack_tcp_count(const struct stack *s)
{
	return s->tcp.count;
}

unsigned stack_tcp_in_state(const struct stack *s, unsigned state)
{
	return state < TCP_NSTATES ? s->tcp.by_state[state] : 0;
}

struct stack_tcp_mem stack_tcp_memory(const struct stack *s)
{
	return (struct stack_tcp_mem){s->tcp.mem.used, s->tcp.mem.peak,
				      s->p.tcp.memory_limit};
}

void stack_timer_arm(struct stack *s, struct timer *t, uint64_t delay_ms)
{
	timer_arm(&s->timers, t, stack_now(s), delay_ms);
}

void stack_timer_cancel(struct stack *s, struct timer *t)
{
	timer_cancel(&s->timers, t);
}

void stack_foreach_neigh(struct stack *s, stack_neigh_fn fn, void *arg)
{
	neigh_foreach(&s->arp, fn, arg);
	neigh_foreach(&s->nd, fn, arg);
}

void stack_set_event_fn(struct stack *s, stack_event_fn fn, void *ctx)
{
	s->event = fn;
	s->event_ctx = ctx;
}

void stack_set_icmp6_fn(struct stack *s, stack_icmp6_fn fn, void *arg)
{
	s->icmp6_fn = fn;
	s->icmp6_arg = arg;
}

void stack_set_echo_fn(struct stack *s, stack_echo_fn fn, void *arg)
{
	s->echo_fn = fn;
	s->echo_arg = arg;
}

void stack_foreach_addr6(struct stack *s, stack_addr6_fn fn, void *arg)
{
	static const char *const names[] = {"tentative", "preferred",
					    "duplicate"};

	for (unsigned i = 0; i < s->naddr6; i++)
		fn(arg, &s->addr6[i].a, s->addr6[i].prefix,
		   names[s->addr6[i].state]);
}
