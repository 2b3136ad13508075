/* The control socket (see control.h). */
#include "daemon/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct client {
	struct control *ctl;
	struct bufferevent *bev;
	struct event *deadline; /* the whole exchange, from accept */
	struct client *next, **pprev;
	bool answered;
};

struct control {
	struct event_base *base;
	struct event *ev;
	int fd;
	char *path;
	control_fn fn;
	void *arg;
	struct client *clients;
	unsigned nclients;
};

static void client_free(struct client *cl)
{
	*cl->pprev = cl->next;
	if (cl->next)
		cl->next->pprev = cl->pprev;
	cl->ctl->nclients--;
	if (cl->deadline)
		event_free(cl->deadline);
	bufferevent_free(cl->bev);
	free(cl);
}

static void client_answer(struct client *cl, bool ok, const char *body,
			  size_t len)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);

	cl->answered = true;
	bufferevent_disable(cl->bev, EV_READ);
	evbuffer_add(out, ok ? "ok\n" : "error\n", ok ? 3 : 6);
	evbuffer_add(out, body, len);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr nl;
	char line[CONTROL_LINE_MAX + 1];
	struct strbuf out;
	size_t n;
	bool ok;

	if (cl->answered)
		return;
	nl = evbuffer_search_eol(in, NULL, &n, EVBUFFER_EOL_LF);
	if (nl.pos < 0) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX) {
			static const char msg[] = "request line too long\n";

			client_answer(cl, false, msg, sizeof(msg) - 1);
		}
		return;
	}
	if ((size_t)nl.pos > CONTROL_LINE_MAX) {
		static const char msg[] = "request line too long\n";

		client_answer(cl, false, msg, sizeof(msg) - 1);
		return;
	}
	evbuffer_remove(in, line, (size_t)nl.pos);
	line[nl.pos] = '\0';
	strbuf_init(&out, CONTROL_REPLY_MAX);
	ok = cl->ctl->fn(cl->ctl->arg, line, &out);
	if (out.full) {
		strbuf_free(&out);
		strbuf_init(&out, 256);
		strbuf_puts(&out, "the answer is too large\n");
		ok = false;
	}
	client_answer(cl, ok, strbuf_str(&out), out.len);
	strbuf_free(&out);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;

	if (cl->answered && !evbuffer_get_length(bufferevent_get_output(bev)))
		client_free(cl);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	client_free(arg); /* EOF or error */
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_free(arg);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;
	struct timeval tv = {.tv_sec = CONTROL_TIMEOUT_S};

	(void)what;
	for (int i = 0; i < CONTROL_CLIENTS; i++) {
		int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *cl;

		if (s < 0)
			return;
		if (c->nclients >= CONTROL_CLIENTS ||
		    !(cl = calloc(1, sizeof(*cl)))) {
			close(s);
			continue;
		}
		cl->ctl = c;
		cl->bev = bufferevent_socket_new(c->base, s,
						 BEV_OPT_CLOSE_ON_FREE);
		if (!cl->bev) {
			close(s);
			free(cl);
			continue;
		}
		/* One deadline for the line and the answer, not a timeout per
		 * read that a byte now and then would keep resetting. */
		cl->deadline = evtimer_new(c->base, on_deadline, cl);
		if (!cl->deadline) {
			bufferevent_free(cl->bev);
			free(cl);
			continue;
		}
		cl->next = c->clients;
		if (cl->next)
			cl->next->pprev = &cl->next;
		cl->pprev = &c->clients;
		c->clients = cl;
		c->nclients++;
		bufferevent_setcb(cl->bev, on_read, on_write, on_event, cl);
		bufferevent_setwatermark(cl->bev, EV_READ, 0,
					 CONTROL_LINE_MAX + 2);
		evtimer_add(cl->deadline, &tv);
		bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	}
}

/* Is something answering on the socket at path? */
static bool socket_live(const struct sockaddr_un *sa)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (s < 0)
		return false;
	live = connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(s);
	return live;
}

struct control *control_open(struct event_base *base, const char *path,
			     uid_t uid, gid_t gid, control_fn fn, void *arg,
			     char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c;
	struct stat st;
	char *dir;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "control socket path %s is longer than %zu bytes; "
			 "choose a shorter control.socket",
			 path, sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	dir = strdup(path);
	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen,
			 "cannot create the directory of control socket %s: "
			 "%s; create it or set control.socket",
			 path, strerror(errno));
		free(dir);
		return NULL;
	}
	free(dir);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "control socket path %s exists and is not a "
				 "socket; remove it or set control.socket",
				 path);
			return NULL;
		}
		if (socket_live(&sa)) {
			snprintf(err, errlen,
				 "control socket %s is in use (another tapird?)"
				 "; stop it or set another control.socket",
				 path);
			return NULL;
		}
		unlink(path); /* left by a tapird that did not exit cleanly */
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = base;
	c->fn = fn;
	c->arg = arg;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 ||
	    bind(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	     chown(path, uid, gid) < 0) ||
	    listen(c->fd, CONTROL_CLIENTS) < 0) {
		snprintf(err, errlen,
			 "cannot create control socket %s: %s%s", path,
			 strerror(errno),
			 errno == EACCES ? " (run as root, or set "
					   "control.socket to a writable "
					   "place)"
					 : "");
		if (c->fd >= 0)
			close(c->fd);
		free(c->path);
		free(c);
		return NULL;
	}
	c->ev = event_new(base, c->fd, EV_READ | EV_PERSIST, on_accept, c);
	if (!c->ev) {
		snprintf(err, errlen, "out of memory");
		control_close(c);
		return NULL;
	}
	event_add(c->ev, NULL);
	return c;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	if (c->ev)
		event_free(c->ev);
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
