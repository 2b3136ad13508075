/* systemd readiness and status notifications (sd_notify(3)). */
#ifndef TAPIR_NOTIFY_H
#define TAPIR_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* READY=1 with a status line. */
void notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= and a status line. */
void notify_reloading(const char *status);
void notify_stopping(const char *status);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_watchdog(void);
/* The watchdog interval systemd asked for, or 0 when there is none. */
uint64_t notify_watchdog_usec(void);

#endif
