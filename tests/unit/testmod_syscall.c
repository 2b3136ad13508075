/*
 * A module that makes one system call tapird's allow-list leaves out
 * (getpgid, harmless) when it starts: loaded by a reload under the filter, it shows
 * what a forbidden call looks like (t_sandbox); with seccomp = false it
 * starts like any module.  Its one setting, value, is ignored.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <tapir/module.h>

struct sp_conf {
	long long value;
};

static const struct tapir_setting settings[] = {
	{"value", TAPIR_SET_INT, TAPIR_FIELD(struct sp_conf, value),
	 .min = INT64_MIN, .max = INT64_MAX},
	{.name = NULL}};

static int sp_check(const struct tapir_check *chk, const void *conf)
{
	(void)chk;
	(void)conf;
	return 0;
}

static void *sp_init(struct tapir_host *h, const struct tapir_host_api *api,
		     const void *conf)
{
	static int state;

	(void)h;
	(void)api;
	(void)conf;
	state = (int)syscall(SYS_getpgid, 0);
	return &state;
}

static int sp_reconfigure(void *state, const void *conf)
{
	(void)state;
	(void)conf;
	return 0;
}

static void sp_fini(void *state)
{
	(void)state;
}

TAPIR_MODULE_EXPORT const struct tapir_module tapir_module = {
	TAPIR_MODULE_HEAD,
	.name = "sysprobe",
	.description = "makes a system call outside tapird's allow-list",
	.settings = settings,
	.settings_size = sizeof(struct sp_conf),
	.check = sp_check,
	.init = sp_init,
	.reconfigure = sp_reconfigure,
	.fini = sp_fini,
};
