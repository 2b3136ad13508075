/*
 * What a module built for module ABI 1 exports: a descriptor that starts,
 * as every ABI's does, with the ABI number and the descriptor's size, and
 * goes on in ABI 1's layout (settings as a list of names, callbacks that
 * take the libconfig section).  tapird must refuse it without calling
 * anything in it.
 */
#include <stdint.h>

#include <tapir/module.h>

struct abi1_module {
	uint32_t abi;
	uint32_t size;
	const char *name;
	const char *description;
	const char *const *settings;
	int (*check)(const void *chk, const void *section);
	void *(*init)(void *host, const void *api, const void *section);
	int (*reconfigure)(void *state, const void *section);
	void (*fini)(void *state);
};

static const char *const settings[] = {"value", 0};

TAPIR_MODULE_EXPORT const struct abi1_module tapir_module = {
	.abi = 1,
	.size = sizeof(struct abi1_module),
	.name = "old",
	.description = "built for module ABI 1",
	.settings = settings,
};
