/* Random bytes from the kernel, for the daemon's secrets. */
#ifndef TAPIR_ENTROPY_H
#define TAPIR_ENTROPY_H

#include <stddef.h>

/* Fill buf with len bytes from the kernel's random source (getrandom(),
 * which waits while the pool is still uninitialised early at boot).  There
 * is no fallback: returns 0, or -errno with a one-line explanation (cause
 * and fix) in err. */
int entropy_fill(void *buf, size_t len, char *err, size_t errlen);
/* The same without waiting: -EAGAIN (and a line in err) while the pool is
 * still uninitialised, for callers on the event loop. */
int entropy_try(void *buf, size_t len, char *err, size_t errlen);

#endif
