/*
 * The sandbox: capabilities dropped from every set once the TAP is open and
 * configured, and the system call allow-list (seccomp) installed when
 * start-up is over.  Every system call tapird makes after start-up is named
 * in one table in sandbox.c; one that is not ends the process with a line
 * naming it (see tapird(8)).
 */
#ifndef TAPIR_SANDBOX_H
#define TAPIR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Root switching to uid/gid (either may be -1: unchanged): supplementary
 * groups dropped, then the ids changed, with no capability left in any
 * set (effective, permitted, inheritable, ambient, bounding).  0, or -1
 * with the reason in err. */
int sandbox_change_id(uid_t uid, gid_t gid, char *err, size_t errlen);

/* A process that is not root (as systemd starts it, User= with ambient
 * CAP_NET_ADMIN) gives up its capabilities: ambient, effective, permitted
 * and inheritable cleared, the bounding set too when CAP_SETPCAP allows.
 * *bounding_kept says whether the bounding set still holds something.  0,
 * or -1 with the reason in err. */
int sandbox_drop_caps(bool *bounding_kept, char *err, size_t errlen);

/* Whether the process holds any capability in its effective, permitted,
 * inheritable or ambient set. */
bool sandbox_has_caps(void);

/* Flags for sandbox_seccomp(). */
enum {
	/* The log goes to syslog (a detached tapird): the line about a
	 * forbidden system call is sent to /dev/log. */
	SANDBOX_LOG_SYSLOG = 2,
	/* stderr is the journal: the line carries a "<2>" priority. */
	SANDBOX_LOG_JOURNAL = 4,
};

/* Install the allow-list for the rest of the process's life (with
 * no_new_privs set).  A system call outside it raises SIGSYS, whose
 * handler writes one line naming the call and ends the process by that
 * signal.  0, or -1 with the reason in err. */
int sandbox_seccomp(unsigned flags, char *err, size_t errlen);

/* The name of system call nr on this architecture, "?" if unknown (for
 * the SIGSYS line; the table is filled by sandbox_seccomp()). */
const char *sandbox_syscall_name(long nr);

#endif
