/*
 * A module for the loader and reload-transaction tests.  Settings:
 *   value = N;             recorded by init/reconfigure
 *   fail_check = true;     check() rejects the section
 *   fail_init = true;      init() returns NULL
 *   fail_reconfigure = true;
 *   port = N;              bind this UDP port in init (never unbound by fini,
 *                          to prove the host releases it)
 *   slot = N;              0..3: record the host handle and API table in
 *                          testmod_log.host[N]/api[N] (the test calls the
 *                          host API as this module)
 * The test reads what happened through testmod_log (dlsym).
 */
#include <stdbool.h>
#include <stdlib.h>

#include <tapir/module.h>

struct testmod_log {
	int checks, inits, reconfigures, finis;
	long long value;
	struct tapir_host *host[4];
	const struct tapir_host_api *api[4];
};

TAPIR_MODULE_EXPORT struct testmod_log testmod_log;

static const char *const settings[] = {"value", "fail_check", "fail_init",
				       "fail_reconfigure", "port", "slot",
				       NULL};

struct state {
	long long value;
	bool fail_reconfigure;
};

static bool flag(const config_setting_t *sec, const char *key)
{
	int v = 0;

	return config_setting_lookup_bool(sec, key, &v) == CONFIG_TRUE && v;
}

static long long num(const config_setting_t *sec, const char *key)
{
	long long v = 0;

	config_setting_lookup_int64(sec, key, &v);
	return v;
}

static int tm_check(const struct tapir_check *chk, const config_setting_t *sec)
{
	testmod_log.checks++;
	if (flag(sec, "fail_check")) {
		chk->error(chk, config_setting_get_member(sec, "fail_check"),
			   "asked to fail");
		return -1;
	}
	return 0;
}

static void tick(void *arg)
{
	(void)arg;
}

static void recv_cb(void *arg, const struct tapir_udp_meta *m,
		    const uint8_t *data, size_t len)
{
	(void)arg;
	(void)m;
	(void)data;
	(void)len;
}

static void *tm_init(struct tapir_host *h, const struct tapir_host_api *api,
		     const config_setting_t *sec)
{
	struct tapir_timer *t;
	struct state *s;

	testmod_log.inits++;
	if (flag(sec, "fail_init"))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->value = num(sec, "value");
	s->fail_reconfigure = flag(sec, "fail_reconfigure");
	testmod_log.value = s->value;
	if (config_setting_get_member(sec, "slot") && num(sec, "slot") >= 0 &&
	    num(sec, "slot") < 4) {
		testmod_log.host[num(sec, "slot")] = h;
		testmod_log.api[num(sec, "slot")] = api;
	}
	/* Deliberately never released: the host must clean these up. */
	if (num(sec, "port")) {
		api->udp_bind(h, (uint16_t)num(sec, "port"), recv_cb, NULL);
		t = api->timer_new(h, tick, NULL);
		if (t)
			api->timer_arm(t, 1000);
		++*api->counter(h, "inits");
	}
	return s;
}

static int tm_reconfigure(void *state, const config_setting_t *sec)
{
	struct state *s = state;

	testmod_log.reconfigures++;
	if (s->fail_reconfigure || flag(sec, "fail_reconfigure"))
		return -1;
	s->value = num(sec, "value");
	testmod_log.value = s->value;
	return 0;
}

static void tm_fini(void *state)
{
	testmod_log.finis++;
	free(state);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	.abi = TAPIR_MODULE_ABI,
	.size = sizeof(struct tapir_module),
	.name = "testmod",
	.description = "loader tests",
	.settings = settings,
	.check = tm_check,
	.init = tm_init,
	.reconfigure = tm_reconfigure,
	.fini = tm_fini,
};
