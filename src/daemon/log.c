/* Logging to stderr, journald-aware. */
#include "daemon/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_ident = "tapird";
static int log_level = LOG_INFO;
static bool log_journal;
static bool log_syslog;

/* stderr is the journal when JOURNAL_STREAM names its device and inode. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *ident)
{
	if (ident)
		log_ident = ident;
	log_journal = stderr_is_journal();
}

void log_to_syslog(void)
{
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
}

void log_set_level(int level)
{
	log_level = level;
}

bool log_is_syslog(void)
{
	return log_syslog;
}

bool log_is_journal(void)
{
	return log_journal;
}

int log_get_level(void)
{
	return log_level;
}

void log_vmsg(int prio, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (prio > log_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* One event, one line: fold any newline a message carries. */
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (log_syslog)
		syslog(prio, "%s%s%s", prefix ? prefix : "", prefix ? ": " : "",
		       line);
	else if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", prio, prefix ? prefix : "",
			prefix ? ": " : "", line);
	else
		fprintf(stderr, "%s: %s%s%s\n", log_ident, prefix ? prefix : "",
			prefix ? ": " : "", line);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, NULL, fmt, ap);
	va_end(ap);
}
