/*
 * The control socket: a unix stream socket on which tapirctl asks for one
 * report or action per connection.
 *
 * Protocol: the client sends one line, at most CONTROL_LINE_MAX bytes,
 * "VERB" then words separated by spaces: "json", and for connections
 * "state=NAME" and "port=N" (filters); tapird answers "ok\n" or
 * "error\n", then the body, and closes.  At most CONTROL_CLIENTS connections are served at once, and
 * each gets CONTROL_TIMEOUT_S seconds to send its line and take the answer.
 */
#ifndef TAPIR_CONTROL_H
#define TAPIR_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/strbuf.h"

#define CONTROL_LINE_MAX 256
#define CONTROL_CLIENTS 16
#define CONTROL_TIMEOUT_S 10
#define CONTROL_REPLY_MAX (64u << 20)

struct event_base;
struct control;

/* Answer one request line into out; true for "ok", false for "error". */
typedef bool (*control_fn)(void *arg, const char *line, struct strbuf *out);

/* Create the socket at path (its directory is made, mode 0755, if
 * missing), mode 0660, owned by uid:gid ((uid_t)-1: leave).  A stale
 * socket is replaced; one a live process answers on is an error.  NULL
 * with a one-line reason in err. */
struct control *control_open(struct event_base *base, const char *path,
			     uid_t uid, gid_t gid, control_fn fn, void *arg,
			     char *err, size_t errlen);
/* Close every connection and the socket, and remove its file. */
void control_close(struct control *c);

#endif
