/* Logging: one line per event to stderr, with <N> priority prefixes when
 * stderr is the journal (JOURNAL_STREAM), plain text otherwise. */
#ifndef TAPIR_LOG_H
#define TAPIR_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

void log_init(const char *ident);
/* From now on, log through syslog(3) (a daemon with no stderr). */
void log_to_syslog(void);
void log_set_level(int level);
/* Where the lines go: syslog(3), or a stderr that is the journal. */
bool log_is_syslog(void);
bool log_is_journal(void);
int log_get_level(void);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(int prio, const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
