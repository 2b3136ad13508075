/* modsettings: print the name of every setting a module's descriptor
 * declares, one per line, for scripts/confdoc.
 *
 *     modsettings MODULE.so
 *
 * The descriptor is read, never run: no init() is called. */
#include <dlfcn.h>
#include <stdio.h>

#include <tapir/module.h>

int main(int argc, char **argv)
{
	const struct tapir_module *d;
	const struct tapir_setting *s;
	void *dl;

	if (argc != 2) {
		fprintf(stderr, "usage: modsettings MODULE.so\n");
		return 2;
	}
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "modsettings: %s\n", dlerror());
		return 1;
	}
	d = dlsym(dl, "tapir_module");
	if (!d || d->abi != TAPIR_MODULE_ABI) {
		fprintf(stderr, "modsettings: %s: no ABI %d descriptor\n",
			argv[1], TAPIR_MODULE_ABI);
		return 1;
	}
	printf("module %s\n", d->name);
	for (s = d->settings; s && s->name; s++)
		printf("%s\n", s->name);
	return 0;
}
