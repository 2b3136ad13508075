/*
 * A module for the loader and reload-transaction tests.  Settings:
 *   value = N;             recorded by init/reconfigure
 *   fail_check = true;     check() rejects the section
 *   fail_init = true;      init() returns NULL
 *   fail_reconfigure = true;
 *   port = N;              bind this UDP port in init (never unbound by fini,
 *                          to prove the host releases it)
 *   slot = N;              0..3 (-1: none): record the host handle and API table in
 *                          testmod_log.host[N]/api[N] (the test calls the
 *                          host API as this module)
 * The test reads what happened through testmod_log (dlsym).
 *
 * Built a second time as testmod_v1.so with TESTMOD_HOST_API_V1: then it
 * declares the host API of version 1 (the table ending before random()),
 * as a module built against that header would, and records what
 * TAPIR_HOST_HAS() tells it; as testmod_v2.so (TESTMOD_HOST_API_V2), the
 * table of version 2 (ending before tapird_version()).  As testmod_tiny.so (TESTMOD_HOST_API_TINY)
 * it declares a table older than any version, which tapird refuses.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <tapir/module.h>

struct testmod_log {
	int checks, inits, reconfigures, finis;
	long long value;
	struct tapir_host *host[4];
	const struct tapir_host_api *api[4];
	bool has_random, has_report; /* TAPIR_HOST_HAS() in init */
	int random_rc;                /* random() in init, when it has it */
	bool has_tapird_version;
	const char *tapird_version; /* tapird_version() in init, or NULL */
};

#if defined(TESTMOD_HOST_API_TINY) /* size and version: no call at all */
#define HOST_API_SIZE (2 * sizeof(uint32_t))
#elif defined(TESTMOD_HOST_API_V1)
#define HOST_API_SIZE offsetof(struct tapir_host_api, random)
#elif defined(TESTMOD_HOST_API_V2)
#define HOST_API_SIZE offsetof(struct tapir_host_api, tapird_version)
#else
#define HOST_API_SIZE sizeof(struct tapir_host_api)
#endif

TAPIR_MODULE_EXPORT struct testmod_log testmod_log;

struct tm_conf {
	long long value;
	bool fail_check, fail_init, fail_reconfigure;
	uint16_t port;
	int slot;
};

static const struct tapir_setting settings[] = {
	{"value", TAPIR_SET_INT, TAPIR_FIELD(struct tm_conf, value),
	 .min = INT64_MIN, .max = INT64_MAX},
	{"fail_check", TAPIR_SET_BOOL, TAPIR_FIELD(struct tm_conf, fail_check)},
	{"fail_init", TAPIR_SET_BOOL, TAPIR_FIELD(struct tm_conf, fail_init)},
	{"fail_reconfigure", TAPIR_SET_BOOL,
	 TAPIR_FIELD(struct tm_conf, fail_reconfigure)},
	{"port", TAPIR_SET_INT, TAPIR_FIELD(struct tm_conf, port), .min = 0,
	 .max = 65535},
	{"slot", TAPIR_SET_INT, TAPIR_FIELD(struct tm_conf, slot), .min = -1,
	 .max = 3, .def = -1},
	{.name = NULL}};

struct state {
	long long value;
	bool fail_reconfigure;
};

static int tm_check(const struct tapir_check *chk, const void *conf)
{
	const struct tm_conf *c = conf;

	testmod_log.checks++;
	if (c->fail_check) {
		chk->error_at(chk, "fail_check", -1, "asked to fail");
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
		     const void *conf)
{
	const struct tm_conf *c = conf;
	struct tapir_timer *t;
	struct state *s;

	testmod_log.inits++;
	if (c->fail_init)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->value = c->value;
	s->fail_reconfigure = c->fail_reconfigure;
	testmod_log.value = s->value;
	testmod_log.has_random = TAPIR_HOST_HAS(api, random);
	testmod_log.has_report = TAPIR_HOST_HAS(api, report);
	testmod_log.has_tapird_version = TAPIR_HOST_HAS(api, tapird_version);
	testmod_log.tapird_version = testmod_log.has_tapird_version
					     ? api->tapird_version(h)
					     : NULL;
	if (testmod_log.has_random) {
		uint8_t b[8];

		testmod_log.random_rc = api->random(h, b, sizeof(b));
	}
	if (c->slot >= 0) {
		testmod_log.host[c->slot] = h;
		testmod_log.api[c->slot] = api;
	}
	/* Deliberately never released: the host must clean these up. */
	if (c->port) {
		api->udp_bind(h, c->port, recv_cb, NULL);
		t = api->timer_new(h, tick, NULL);
		if (t)
			api->timer_arm(t, 1000);
		++*api->counter(h, "inits");
	}
	return s;
}

static int tm_reconfigure(void *state, const void *conf)
{
	const struct tm_conf *c = conf;
	struct state *s = state;

	testmod_log.reconfigures++;
	if (s->fail_reconfigure || c->fail_reconfigure)
		return -1;
	s->value = c->value;
	testmod_log.value = s->value;
	return 0;
}

static void tm_fini(void *state)
{
	testmod_log.finis++;
	free(state);
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	/* TAPIR_MODULE_HEAD but for the host API's size, which the v1 build
	 * sets as an older header would have. */
	.abi = TAPIR_MODULE_ABI,
	.size = sizeof(struct tapir_module),
	.host_api_size = HOST_API_SIZE,
	.name = "testmod",
	.description = "loader tests",
	.settings = settings,
	.settings_size = sizeof(struct tm_conf),
	.check = tm_check,
	.init = tm_init,
	.reconfigure = tm_reconfigure,
	.fini = tm_fini,
};
