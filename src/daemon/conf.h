/*
 * Configuration: a libconfig file turned into one immutable, validated
 * snapshot.  Every problem found is collected as "FILE:LINE: message" so
 * `tapird -t` and a failed reload report all of them at once.
 */
#ifndef TAPIR_CONF_H
#define TAPIR_CONF_H

#include <libconfig.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "net/stack.h"

struct conf_errors {
	char **msgs;
	size_t n;
};

/* "FILE:LINE: message"; "FILE: message" with line 0 (nothing in the file
 * to point at), the message alone with no file either. */
void conf_error(struct conf_errors *e, const char *file, int line,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An error located at a setting (its file and line). */
void conf_error_at(struct conf_errors *e, const config_setting_t *s,
		   const char *fallback_file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void conf_errors_clear(struct conf_errors *e);

struct conf_module {
	char *name;
	char *path; /* resolved shared object path */
	config_setting_t *section;
};

struct conf {
	config_t cfg; /* keeps module sections alive */
	bool offload; /* interface.offload: ask the TAP for offloads */
	char *file;   /* as shown in messages */
	char ifname[IFNAMSIZ];
	const config_setting_t *ifname_setting;
	struct stack_params params;
	uint32_t host_addr;
	unsigned host_prefix;
	bool has_host;
	/* interface.host_address6: the kernel side's IPv6 address. */
	struct stack_addr6 host_addr6;
	bool has_host6;
	char *module_dir;
	struct conf_module *mods;
	size_t nmods;
	char *user;
	char *group;
	bool seccomp; /* the system call allow-list after start-up (sandbox.h) */
	char *control_socket; /* "": none */
	bool control_explicit; /* set in the file, not the default */
	int log_level;
	/* capture: where tapirctl capture writes, and its ring's limits. */
	char *capture_dir; /* NULL: capture refused */
	unsigned capture_max_files;
	unsigned capture_max_bytes;
};

/* Anchor relative module paths at dir (tapird's starting directory), so
 * they mean the same after daemon() has changed to /.  NULL: leave them. */
void conf_set_base_dir(const char *dir);

/* The configuration used when no file is given and none exists. */
extern const char conf_default_text[];
#define CONF_DEFAULT_NAME "<built-in default>"

/* Load and validate.  Returns the snapshot, or NULL with errors added. */
struct conf *conf_load_file(const char *path, struct conf_errors *errs);
struct conf *conf_load_string(const char *text, const char *name,
			      struct conf_errors *errs);
/* Like the above, but a file that parses is returned even when settings
 * failed validation (errors added), so the caller can still check the
 * modules it lists and report every error at once.  NULL only when the
 * file cannot be read or parsed.  Never run what this returns with errors. */
struct conf *conf_parse_file(const char *path, struct conf_errors *errs);
struct conf *conf_parse_string(const char *text, const char *name,
			       struct conf_errors *errs);
void conf_free(struct conf *c);

/* Parse "a.b.c.d/len" (host order); false when malformed. */
bool conf_parse_prefix(const char *s, uint32_t *addr, unsigned *prefix);
bool conf_parse_ip(const char *s, uint32_t *addr);
bool conf_parse_mac(const char *s, uint8_t mac[6]);
/* Parse an IPv6 address in RFC 4291 2.2 text (inet_pton), or with
 * conf_parse_prefix6 "ADDRESS/PREFIX" with a prefix length of 1-128.
 * false when malformed, with what is wrong in why (a phrase that follows
 * the quoted text in a message: "'x' <why>"). */
bool conf_parse_ip6(const char *s, uint8_t addr[16], char *why, size_t len);
bool conf_parse_prefix6(const char *s, uint8_t addr[16], unsigned *prefix,
			char *why, size_t len);

#endif
