/* Random bytes from the kernel, for the daemon's secrets. */
#ifndef TAPIR_ENTROPY_H
#define TAPIR_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with len bytes from the kernel's random source (getrandom(),
 * which waits while the pool is still uninitialised early at boot).  There
 * is no fallback: returns 0, or -errno with a one-line explanation (cause
 * and fix) in err. */
int entropy_fill(void *buf, size_t len, char *err, size_t errlen);
/* The same without waiting: -EAGAIN (and a line in err) while the pool is
 * still uninitialised, for callers on the event loop. */
int entropy_try(void *buf, size_t len, char *err, size_t errlen);

/* A key that is the same at every start on this machine for this purpose
 * and name, yet that nobody can work out without the machine's identity:
 * for secrets that must not move, such as the RFC 7217 key our IPv6
 * link-local address comes from.  The 128-bit machine ID (the 32 hex
 * digits of id_path, normally /etc/machine-id) keys SipHash-2-4 over a
 * constant of tapir's, a counter, purpose and name; two counters give the
 * 16 bytes.  So the machine ID itself never leaves the function, and keys
 * for other purposes or names are unrelated to one another.  0, or -1 with
 * the reason (a phrase naming id_path) in err: the file is missing or
 * unreadable, or holds no machine ID yet. */
int entropy_machine_key(const char *id_path, const char *purpose,
			const char *name, uint8_t key[16], char *err,
			size_t errlen);
/* The purpose of the RFC 7217 key (struct stack_secrets.iid_key), named
 * by the interface.  Changing it moves every link-local address. */
#define ENTROPY_PURPOSE_IID "RFC 7217 interface identifier"

#endif
