/*
 * Module settings: a section read against the module's descriptors.
 *
 * Theory of operation.  The module owns a plain struct and describes each
 * field once (name, type, where it is, range, default).  tapird owns the
 * reading: it zero-fills a struct of the module's size, writes every
 * default, then walks the section's keys in file order, so errors come out
 * in the order a person reads the file.  A value that is wrong leaves the
 * default in place and the walk goes on: check() still runs on the struct
 * so that the module's own problems (a bad zone record, two services on
 * one port) are reported in the same pass.  Strings and custom settings
 * point into the libconfig tree; lists are arrays allocated here and freed
 * by modconf_free(), so the struct is valid exactly as long as the section
 * is, which is what the ABI promises (only for the call).
 *
 * The struct rather than typed getters: a module reads its settings as
 * fields the compiler checks, compares two of them for reconfigure with
 * ordinary code, and cannot ask for a name it did not declare.  The price,
 * a descriptor that lies about its field, is caught here at load time
 * (modconf_validate): width, signedness and range are checked against the
 * type before anything is written.
 */
#include "daemon/modconf.h"

#include <tapir/addr.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TAPIR_STATE_DIR
#define TAPIR_STATE_DIR "/var/lib/tapir"
#endif

/* ---- descriptor validation ---------------------------------------------- */

static size_t type_size(uint32_t type)
{
	switch (type) {
	case TAPIR_SET_BOOL:
		return sizeof(bool);
	case TAPIR_SET_STRING:
		return sizeof(const char *);
	case TAPIR_SET_IPV4:
		return sizeof(uint32_t);
	case TAPIR_SET_STRINGS:
		return sizeof(struct tapir_strings);
	case TAPIR_SET_IPV4S:
		return sizeof(struct tapir_ipv4s);
	case TAPIR_SET_CUSTOM:
	case TAPIR_SET_TLS:
		return sizeof(const config_setting_t *);
	default:
		return 0;
	}
}

/* The range an integer field of size bytes can hold. */
static void int_bounds(size_t size, bool is_signed, int64_t *lo, int64_t *hi)
{
	if (is_signed) {
		*hi = size >= 8 ? INT64_MAX : (int64_t)((1ull << (8 * size - 1)) - 1);
		*lo = -*hi - 1;
	} else {
		*lo = 0;
		*hi = size >= 8 ? INT64_MAX : (int64_t)((1ull << (8 * size)) - 1);
	}
}

static bool reserved(const char *name)
{
	return strcmp(name, "name") == 0 || strcmp(name, "path") == 0;
}

static int desc_ok(const struct tapir_module *m, const struct tapir_setting *d,
		   char *err, size_t len)
{
	int64_t lo, hi;

	if (!*d->name || reserved(d->name)) {
		snprintf(err, len, "setting name '%s' is reserved or empty",
			 d->name);
		return -1;
	}
	for (const struct tapir_setting *o = m->settings; o < d; o++)
		if (strcmp(o->name, d->name) == 0) {
			snprintf(err, len, "setting '%s' declared twice",
				 d->name);
			return -1;
		}
	if (d->offset > m->settings_size ||
	    d->size > m->settings_size - d->offset) {
		snprintf(err, len, "setting '%s' lies outside the settings "
				   "struct",
			 d->name);
		return -1;
	}
	if ((d->flags & TAPIR_SETF_STATE_PATH) &&
	    d->type != TAPIR_SET_STRING) {
		snprintf(err, len, "setting '%s': TAPIR_SETF_STATE_PATH on a "
				   "setting that is not a string",
			 d->name);
		return -1;
	}
	if (d->type == TAPIR_SET_INT) {
		if (d->size != 1 && d->size != 2 && d->size != 4 && d->size != 8) {
			snprintf(err, len, "setting '%s': an integer field of "
					   "%zu bytes",
				 d->name, d->size);
			return -1;
		}
		int_bounds(d->size, d->is_signed, &lo, &hi);
		if (d->min > d->max || d->min < lo || d->max > hi ||
		    d->def < d->min || d->def > d->max) {
			snprintf(err, len, "setting '%s': range %lld-%lld or "
					   "default %lld does not fit",
				 d->name, (long long)d->min,
				 (long long)d->max, (long long)d->def);
			return -1;
		}
		return 0;
	}
	if (!type_size(d->type)) {
		snprintf(err, len, "setting '%s': unknown type %u", d->name,
			 d->type);
		return -1;
	}
	if (d->size != type_size(d->type)) {
		snprintf(err, len, "setting '%s': field of %zu bytes, its "
				   "type needs %zu",
			 d->name, d->size, type_size(d->type));
		return -1;
	}
	if ((d->type == TAPIR_SET_STRING || d->type == TAPIR_SET_STRINGS ||
	     d->type == TAPIR_SET_IPV4S) &&
	    (d->min < 0 || d->max < 0 || (d->max && d->max < d->min))) {
		snprintf(err, len, "setting '%s': bad bounds", d->name);
		return -1;
	}
	if (d->type == TAPIR_SET_STRING && d->def_str &&
	    ((int64_t)strlen(d->def_str) < d->min ||
	     (d->max && (int64_t)strlen(d->def_str) > d->max))) {
		snprintf(err, len, "setting '%s': the default's length is "
				   "outside %lld-%lld",
			 d->name, (long long)d->min, (long long)d->max);
		return -1;
	}
	return 0;
}

int modconf_validate(const struct tapir_module *m, char *err, size_t len)
{
	for (const struct tapir_setting *d = m->settings; d && d->name; d++)
		if (desc_ok(m, d, err, len) < 0)
			return -1;
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

static modconf_tls_check_fn tls_checker;

void modconf_set_tls_check(modconf_tls_check_fn fn)
{
	tls_checker = fn;
}

/* Where a relative default of a TAPIR_SETF_STATE_PATH setting is taken
 * from (tapird -S); NULL: TAPIR_STATE_DIR. */
static char *state_dir;

int modconf_set_state_dir(const char *dir)
{
	char *copy = NULL;

	if (dir && !(copy = strdup(dir)))
		return -1;
	free(state_dir);
	state_dir = copy;
	return 0;
}

const char *modconf_state_dir(void)
{
	return state_dir ? state_dir : TAPIR_STATE_DIR;
}

struct reader {
	const struct tapir_module *m;
	const config_setting_t *sec;
	modconf_report_fn report;
	void *arg;
	struct modconf *mc;
	int problems;
};

static void vsay(struct reader *r, const config_setting_t *at, const char *fmt,
		 va_list ap) __attribute__((format(printf, 3, 0)));
static void vsay(struct reader *r, const config_setting_t *at, const char *fmt,
		 va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->problems++;
	r->report(r->arg, at ? at : r->sec, msg);
}

static void say(struct reader *r, const config_setting_t *at, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));
static void say(struct reader *r, const config_setting_t *at, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(r, at, fmt, ap);
	va_end(ap);
}

static void *field(struct reader *r, const struct tapir_setting *d)
{
	return (char *)r->mc->values + d->offset;
}

static void put_int(void *p, size_t size, int64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;
	uint64_t u64 = (uint64_t)v;

	/* Two's complement: the low bytes are the value in either
	 * signedness, and the range check made sure it fits. */
	switch (size) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	default:
		memcpy(p, &u64, 8);
		break;
	}
}

static void *own(struct reader *r, size_t n, size_t size);

/* The default of a TAPIR_SETF_STATE_PATH string: a relative one under the
 * state directory, in memory that lives as long as mc. */
static const char *state_path(struct reader *r, const char *def)
{
	const char *dir = modconf_state_dir();
	size_t n;
	char *p;

	if (!def || def[0] == '/')
		return def;
	n = strlen(dir) + 1 + strlen(def) + 1;
	if (!(p = own(r, n, 1)))
		return def; /* not absolute: the module refuses it */
	snprintf(p, n, "%s/%s", dir, def);
	return p;
}

static void put_default(struct reader *r, const struct tapir_setting *d)
{
	void *p = field(r, d);

	switch (d->type) {
	case TAPIR_SET_BOOL: {
		bool b = d->def != 0;

		memcpy(p, &b, sizeof(b));
		break;
	}
	case TAPIR_SET_INT:
		put_int(p, d->size, d->def);
		break;
	case TAPIR_SET_IPV4: {
		uint32_t a = (uint32_t)d->def;

		memcpy(p, &a, sizeof(a));
		break;
	}
	case TAPIR_SET_STRING: {
		const char *v = d->def_str;

		if (d->flags & TAPIR_SETF_STATE_PATH)
			v = state_path(r, v);
		memcpy(p, &v, sizeof(v));
		break;
	}
	default: /* lists empty, custom NULL: the zeroes of calloc */
		break;
	}
}

static void *own(struct reader *r, size_t n, size_t size)
{
	void **a = realloc(r->mc->allocs,
			   (r->mc->nallocs + 1) * sizeof(*r->mc->allocs));
	void *p;

	if (!a)
		return NULL;
	r->mc->allocs = a;
	p = calloc(n ? n : 1, size);
	if (p)
		a[r->mc->nallocs++] = p;
	return p;
}

static void read_int(struct reader *r, const struct tapir_setting *d,
		     const config_setting_t *s)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		say(r, s, "%s must be an integer", d->name);
		return;
	}
	v = config_setting_get_int64(s);
	if (v < d->min || v > d->max) {
		say(r, s, "%s = %lld: must be %lld-%lld%s%s", d->name, v,
		    (long long)d->min, (long long)d->max, d->unit ? " " : "",
		    d->unit ? d->unit : "");
		return;
	}
	put_int(field(r, d), d->size, v);
}

static bool length_ok(struct reader *r, const struct tapir_setting *d,
		      const config_setting_t *s, size_t n, const char *what)
{
	if ((int64_t)n < d->min) {
		say(r, s, "%s: at least %lld %s", d->name, (long long)d->min,
		    what);
		return false;
	}
	if (d->max && (uint64_t)n > (uint64_t)d->max) {
		say(r, s, "%s: at most %lld %s", d->name, (long long)d->max,
		    what);
		return false;
	}
	return true;
}

static void read_string(struct reader *r, const struct tapir_setting *d,
			const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING || !v) {
		say(r, s, "%s must be a string", d->name);
		return;
	}
	if (!length_ok(r, d, s, strlen(v), "bytes"))
		return;
	memcpy(field(r, d), &v, sizeof(v));
}

/* A list setting: its entries, or s itself as the one entry when the
 * descriptor allows a scalar.  -1 after reporting a wrong shape. */
static int list_shape(struct reader *r, const struct tapir_setting *d,
		      const config_setting_t *s, int *n, bool *scalar)
{
	*scalar = !config_setting_is_aggregate(s);
	if (*scalar && (d->flags & TAPIR_SETF_SCALAR)) {
		*n = 1;
		return 0;
	}
	if (*scalar || config_setting_is_group(s)) {
		say(r, s, "%s must be a list [ ... ]%s", d->name,
		    d->flags & TAPIR_SETF_SCALAR ? " or a single value" : "");
		return -1;
	}
	*n = config_setting_length(s);
	return length_ok(r, d, s, (size_t)*n, "entries") ? 0 : -1;
}

static void read_list(struct reader *r, const struct tapir_setting *d,
		      const config_setting_t *s)
{
	bool scalar, ok = true;
	const char **sv = NULL;
	uint32_t *av = NULL;
	int n;

	if (list_shape(r, d, s, &n, &scalar) < 0)
		return;
	if (d->type == TAPIR_SET_STRINGS)
		sv = own(r, (size_t)n, sizeof(*sv));
	else
		av = own(r, (size_t)n, sizeof(*av));
	if (!sv && !av) {
		say(r, s, "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e =
			scalar ? s : config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (config_setting_type(e) != CONFIG_TYPE_STRING || !v) {
			say(r, e, "%s: entry %d is not a string", d->name,
			    i + 1);
			ok = false;
		} else if (sv) {
			sv[i] = v;
		} else if (!tapir_ipv4_parse(v, &av[i])) {
			say(r, e, "%s: \"%s\" is not an IPv4 address", d->name,
			    v);
			ok = false;
		}
	}
	if (!ok)
		return;
	if (sv) {
		struct tapir_strings l = {sv, (size_t)n};

		memcpy(field(r, d), &l, sizeof(l));
	} else {
		struct tapir_ipv4s l = {av, (size_t)n};

		memcpy(field(r, d), &l, sizeof(l));
	}
}

static void read_one(struct reader *r, const struct tapir_setting *d,
		     const config_setting_t *s)
{
	switch (d->type) {
	case TAPIR_SET_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			say(r, s, "%s must be true or false", d->name);
		} else {
			bool b = config_setting_get_bool(s) != 0;

			memcpy(field(r, d), &b, sizeof(b));
		}
		break;
	case TAPIR_SET_INT:
		read_int(r, d, s);
		break;
	case TAPIR_SET_STRING:
		read_string(r, d, s);
		break;
	case TAPIR_SET_IPV4: {
		const char *v = config_setting_get_string(s);
		uint32_t a;

		if (config_setting_type(s) != CONFIG_TYPE_STRING || !v)
			say(r, s, "%s must be an IPv4 address (a string)",
			    d->name);
		else if (!tapir_ipv4_parse(v, &a))
			say(r, s, "%s: \"%s\" is not an IPv4 address", d->name,
			    v);
		else
			memcpy(field(r, d), &a, sizeof(a));
		break;
	}
	case TAPIR_SET_STRINGS:
	case TAPIR_SET_IPV4S:
		read_list(r, d, s);
		break;
	case TAPIR_SET_CUSTOM:
		memcpy(field(r, d), &s, sizeof(s));
		break;
	case TAPIR_SET_TLS:
		if (!config_setting_is_group(s)) {
			say(r, s, "%s must be a group: %s = { ... }", d->name,
			    d->name);
			break;
		}
		if (tls_checker)
			r->problems += tls_checker(s, r->report, r->arg);
		memcpy(field(r, d), &s, sizeof(s));
		break;
	}
}

static const struct tapir_setting *find(const struct tapir_module *m,
					const char *key)
{
	for (const struct tapir_setting *d = m->settings; d && d->name; d++)
		if (strcmp(d->name, key) == 0)
			return d;
	return NULL;
}

static void read_section(struct reader *r)
{
	const struct tapir_setting *d;
	int n = config_setting_length(r->sec);

	for (d = r->m->settings; d && d->name; d++)
		put_default(r, d);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s =
			config_setting_get_elem(r->sec, (unsigned)i);
		const char *key = config_setting_name(s);

		if (!key)
			continue;
		d = find(r->m, key);
		if (d)
			read_one(r, d, s);
		else if (!reserved(key))
			say(r, s, "unknown setting '%s'", key);
	}
	for (d = r->m->settings; d && d->name; d++)
		if ((d->flags & TAPIR_SETF_REQUIRED) &&
		    !config_setting_get_member(r->sec, d->name))
			say(r, r->sec, "%s is required", d->name);
}

/* ---- the check handed to the module -------------------------------------- */

static void chk_error(const struct tapir_check *chk,
		      const config_setting_t *setting, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void chk_error(const struct tapir_check *chk,
		      const config_setting_t *setting, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(chk->priv, setting, fmt, ap);
	va_end(ap);
}

static void chk_error_at(const struct tapir_check *chk, const char *key,
			 int index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void chk_error_at(const struct tapir_check *chk, const char *key,
			 int index, const char *fmt, ...)
{
	struct reader *r = chk->priv;
	const config_setting_t *s =
		key ? config_setting_get_member(r->sec, key) : NULL;
	va_list ap;

	if (s && index >= 0 && config_setting_is_aggregate(s) &&
	    index < config_setting_length(s))
		s = config_setting_get_elem(s, (unsigned)index);
	va_start(ap, fmt);
	vsay(r, s, fmt, ap);
	va_end(ap);
}

int modconf_check(const struct tapir_module *m, const config_setting_t *sec,
		  modconf_report_fn report, void *arg, struct modconf *mc)
{
	struct reader r = {m, sec, report, arg, mc, 0};
	struct tapir_check chk = {
		.error = chk_error, .error_at = chk_error_at, .priv = &r};
	int before;

	memset(mc, 0, sizeof(*mc));
	mc->values = calloc(1, m->settings_size ? m->settings_size : 1);
	if (!mc->values) {
		say(&r, sec, "out of memory");
		return r.problems;
	}
	read_section(&r);
	before = r.problems;
	if (m->check && m->check(&chk, mc->values) != 0 &&
	    r.problems == before)
		say(&r, sec, "configuration rejected");
	return r.problems;
}

void modconf_free(struct modconf *mc)
{
	for (size_t i = 0; i < mc->nallocs; i++)
		free(mc->allocs[i]);
	free(mc->allocs);
	free(mc->values);
	memset(mc, 0, sizeof(*mc));
}
