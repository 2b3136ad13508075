/*
 * A module's section read against its setting descriptors (struct
 * tapir_setting in <tapir/module.h>): the host's one config reader for
 * modules.
 *
 * modconf_check() rejects unknown keys, values of the wrong type or out of
 * range and missing required settings, fills the module's settings struct
 * (defaults where a value is absent or was rejected), then runs the
 * module's check() on it, so one pass reports every problem of the
 * section.  Problems go to a report function with the setting they are
 * about, for the caller to turn into FILE:LINE.  It needs only libconfig,
 * so the module tests and fuzzers use it without the rest of tapird.
 */
#ifndef TAPIR_MODCONF_H
#define TAPIR_MODCONF_H

#include <stddef.h>

#include <libconfig.h>

#include "tapir/module.h"

/* at: the setting a problem is about (the section when nothing finer). */
typedef void (*modconf_report_fn)(void *arg, const config_setting_t *at,
				  const char *msg);

/* The filled settings struct and what tapird allocated for it (lists). */
struct modconf {
	void *values;
	void **allocs;
	size_t nallocs;
};

/* Is m's descriptor table well formed (types known, fields inside
 * settings_size and as wide as their type needs, ranges that fit, no name
 * twice or reserved)?  0, or -1 with the reason in err. */
int modconf_validate(const struct tapir_module *m, char *err, size_t len);
/* Read sec into mc and run m->check() on it.  Returns the number of
 * problems reported (a check() that fails without reporting counts one,
 * reported as "configuration rejected"); mc->values is filled even then.
 * mc must be released with modconf_free() in every case. */
int modconf_check(const struct tapir_module *m, const config_setting_t *sec,
		  modconf_report_fn report, void *arg, struct modconf *mc);
void modconf_free(struct modconf *mc);

/* Who checks a TAPIR_SET_TLS group (tls.c in tapird): reports each problem
 * and returns how many.  Without one, only the group's shape is checked. */
typedef int (*modconf_tls_check_fn)(const config_setting_t *g,
				    modconf_report_fn report, void *arg);
void modconf_set_tls_check(modconf_tls_check_fn fn);

/* The state directory (tapird -S): where the relative default of a
 * TAPIR_SETF_STATE_PATH setting is taken from.  NULL restores the built-in
 * /var/lib/tapir.  0, or -1 out of memory. */
int modconf_set_state_dir(const char *dir);
const char *modconf_state_dir(void);

#endif
