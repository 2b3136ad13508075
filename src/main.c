/*
 * tapird: options, start-up, the event loop, signals and reload.
 *
 * main() runs the start-up steps in order, each a function that logs its
 * own failure in one line and leaves what it made in struct daemon:
 *
 *   parse_options      the command line (-t: check the configuration, exit)
 *   load_config        the file (or the built-in default), and every
 *                      module's check of its section
 *   open_link          the TAP (daemon/tap.c), its kernel side configured
 *   open_control       the event base and the control socket
 *   drop_privileges    to the configured user and group, or (started
 *                      by systemd as that user) only the capabilities
 *   create_stack       its secrets drawn from the kernel (the RFC 7217
 *                      one derived from the machine ID), the stack made
 *   setup_events       the link, the stack's timer, signals, the watchdog
 *   start_modules      the modules' init, with the stack to bind on
 *   detach             daemon(3) unless in the foreground or under systemd
 *   install_sandbox    the system call allow-list (daemon/sandbox.c)
 *   announce_ready     gratuitous ARP, "ready" in the log, READY=1
 *
 * then runs the loop, and teardown() undoes whatever exists, whether
 * start-up finished or stopped part way.  After start-up everything is an
 * event on one libevent loop: the TAP fd becoming readable, the single
 * timer that drives the stack's timer wheel, signals, and the watchdog.
 */
#include "daemon/capture.h"
#include "daemon/conf.h"
#include "daemon/entropy.h"
#include "daemon/log.h"
#include "daemon/modconf.h"
#include "daemon/modhost.h"
#include "daemon/notify.h"
#include "daemon/control.h"
#include "daemon/report.h"
#include "daemon/pubsub.h"
#include "daemon/sandbox.h"
#include "net/stack.h"
#include "daemon/tap.h"
#include "daemon/tls.h"
#include "version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What the command line asks for. */
struct options {
	const char *path; /* the configuration; NULL: the built-in default */
	const char *control; /* -s: the control socket; NULL: the file's */
	const char *state;   /* -S: the state directory; NULL: the built-in */
	bool foreground, test, debug;
};

/* Everything the daemon holds; teardown() frees what is there. */
struct daemon {
	struct event_base *base;
	const char *conf_path; /* NULL: the built-in default */
	char *abspath;         /* conf_path's storage, when resolved */
	struct conf *conf;
	struct stack *stack;
	struct modules mods;
	struct module_txn txn; /* the modules checked, not yet started */
	bool txn_open;
	struct tap tap;
	struct control *ctl;
	uint64_t started_ms; /* the stack's clock at start */
	struct report_src report; /* for tapirctl and modules (the report call) */
	char ifname[IFNAMSIZ];    /* the report's copy: conf changes */
	bool debug; /* -d: overrides log.level, also after reload */
	bool ready_pending; /* "ready" waits for IPv4 address probing */
	struct event *tap_ev, *timer_ev, *watchdog_ev;
	struct event *sig_hup, *sig_term, *sig_int, *sig_usr1;
	/* tapirctl capture: the last capture (running while d->tap.cap
	 * points to it) and the timer of its --seconds. */
	struct capture *cap;
	struct event *cap_ev;
	int exit_status; /* of a loop that ended: 0, or 1 for a lost TAP */
};

static uint64_t clock_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Arm the one libevent timer for the wheel's next deadline. */
static void schedule_timers(struct daemon *d)
{
	int64_t ms = stack_next_timer(d->stack);
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(d->timer_ev);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(d->timer_ev, &tv);
}

/* A capture that stopped by itself (its count, a failed write) is taken
 * off the data path, and the log says why. */
static void capture_check(struct daemon *d)
{
	if (!d->tap.cap)
		return;
	if (capture_running(d->tap.cap)) {
		capture_flush(d->tap.cap);
		if (capture_running(d->tap.cap))
			return;
	}
	d->tap.cap = NULL;
	if (d->cap_ev)
		evtimer_del(d->cap_ev);
	if (capture_failed(d->cap))
		log_warn("capture stopped: %s", capture_stop_reason(d->cap));
	else
		log_notice("capture stopped: %s", capture_stop_reason(d->cap));
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	stack_run_timers(d->stack);
	if (__builtin_expect(d->tap.cap != NULL, 0))
		capture_check(d);
	schedule_timers(d);
}

/* The TAP cannot be read any more: say why and what to do in one line,
 * and end the loop with status 1 (systemd's Restart=on-failure starts
 * tapird again, which creates the TAP anew).  The event goes first: a
 * detached TAP fd stays readable (an error) and would wake the loop. */
static void link_lost(struct daemon *d, int err)
{
	event_del(d->tap_ev);
	if (tap_err_gone(err))
		log_err("TAP %s is gone (read: %s): it was deleted under "
			"tapird (ip link del?); exiting with status 1 so that "
			"a restart creates it again (systemd: "
			"Restart=on-failure); to remove it, stop tapird "
			"instead",
			d->conf->ifname, strerror(-err));
	else
		log_err("TAP %s: %u reads in a row failed (%s); exiting with "
			"status 1 so that a restart opens it again (systemd: "
			"Restart=on-failure)",
			d->conf->ifname, d->tap.rx_fail_run, strerror(-err));
	d->exit_status = 1;
	event_base_loopbreak(d->base);
}

/* A batch into the stack while a capture runs: each frame is recorded
 * as it goes in, with what the stack dropped it for. */
static void input_captured(struct daemon *d, uint64_t runts, size_t n)
{
	struct capture *cap = d->tap.cap;

	for (; runts < d->tap.rx_short; runts++) {
		stack_count(d->stack, STAT_LINK_RX);
		stack_count(d->stack, STAT_LINK_RX_SHORT);
		capture_in_runt(cap);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tap_frame *fr = &d->tap.rx[i];

		stack_count(d->stack, STAT_LINK_RX);
		capture_in_begin(cap, fr->data, fr->len);
		stack_input(d->stack, fr->data, fr->len, fr->flags);
		capture_in_end(cap);
	}
	capture_check(d);
}

/* The TAP is readable: a batch of frames into the stack. */
static void on_link(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t runts = d->tap.rx_short;
	unsigned failing = d->tap.rx_fail_run;
	size_t n;
	int err;

	(void)fd;
	(void)what;
	n = tap_read_batch(&d->tap, &err);
	if (__builtin_expect(d->tap.cap != NULL, 0)) {
		input_captured(d, runts, n);
		goto judged;
	}
	/* Reads too short to hold the virtio-net header: frames the link
	 * gave us and we dropped. */
	for (; runts < d->tap.rx_short; runts++) {
		stack_count(d->stack, STAT_LINK_RX);
		stack_count(d->stack, STAT_LINK_RX_SHORT);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tap_frame *fr = &d->tap.rx[i];

		stack_count(d->stack, STAT_LINK_RX);
		stack_input(d->stack, fr->data, fr->len, fr->flags);
	}
judged:
	if (err)
		stack_count(d->stack, STAT_LINK_RX_ERR);
	switch (tap_read_fault(&d->tap, n, err)) {
	case TAP_READ_OK:
		break;
	case TAP_READ_TRANSIENT:
		/* Once per run of failures, not per wakeup. */
		if (!failing)
			log_warn("read from TAP %s: %s", d->conf->ifname,
				 strerror(-err));
		break;
	case TAP_READ_GONE:
		link_lost(d, err);
		return;
	}
	/* Timers due meanwhile fire now rather than after the next wakeup. */
	stack_run_timers(d->stack);
	schedule_timers(d);
}

static void status_line(struct daemon *d, const char *prefix, char *buf,
			size_t len)
{
	char names[256];
	uint32_t a = stack_get_params(d->stack)->addr;

	modules_names(&d->mods, names, sizeof(names));
	snprintf(buf, len, "%s%s %u.%u.%u.%u/%u, modules: %s", prefix,
		 d->conf->ifname, a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255, stack_get_params(d->stack)->prefix, *names ? names : "none");
}

static void log_errors(const struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		log_err("%s", errs->msgs[i]);
}

/* Parse the configuration (the built-in default without a path).  The
 * result may carry validation errors in errs: the caller still checks its
 * modules, to report everything at once, and then refuses to run it. */
static struct conf *load_conf(const char *path, struct conf_errors *errs)
{
	if (!path)
		return conf_parse_string(conf_default_text, CONF_DEFAULT_NAME,
					 errs);
	return conf_parse_file(path, errs);
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Settings a reload cannot apply to a running daemon: say so.  Those the
 * stack is given keep their running values in nc, so that stack_update()
 * never sees them change. */
static void warn_restart_needed(const struct conf *old, struct conf *nc)
{
	if (old->offload != nc->offload)
		log_warn("interface.offload changes at the next restart");
	/* IPv6 on or off, and how the link-local address is formed, are
	 * what the interface started with, like the TAP's offloads. */
	if (old->params.ipv6 != nc->params.ipv6)
		log_warn("interface.ipv6 changes at the next restart");
	if (old->params.iid_eui64 != nc->params.iid_eui64)
		log_warn("interface.interface_id changes at the next restart");
	nc->params.ipv6 = old->params.ipv6;
	nc->params.iid_eui64 = old->params.iid_eui64;
	if (old->params.arp_cache_size != nc->params.arp_cache_size)
		log_warn("stack.arp_cache_size changes at the next restart");
	if (str_differs(old->user, nc->user) ||
	    str_differs(old->group, nc->group))
		log_warn("user and group change at the next restart");
	if (str_differs(old->control_socket, nc->control_socket))
		log_warn("control.socket changes at the next restart");
	if (old->seccomp != nc->seccomp)
		log_warn("seccomp changes at the next restart");
}

/* Reload as a transaction: everything is checked before anything changes.
 * With out, the errors (or the new status) also go there for tapirctl.
 * Returns whether the new configuration runs without errors. */
static bool reload(struct daemon *d, struct strbuf *out)
{
	struct conf_errors errs = {0};
	struct module_txn txn = {0};
	struct conf *nc;
	char status[512];
	bool prepared = false;
	int failed;

	notify_reloading("reloading the configuration");
	log_notice("reloading %s", d->conf->file);
	nc = load_conf(d->conf_path, &errs);
	if (nc && nc->ifname[0] && strcmp(nc->ifname, d->conf->ifname) != 0)
		conf_error_at(&errs, nc->ifname_setting, nc->file,
			      "interface.name cannot change on reload (%s -> "
			      "%s); restart tapird",
			      d->conf->ifname, nc->ifname);
	if (nc) {
		prepared = true;
		modules_prepare(&d->mods, nc, &errs, &txn);
	}
	if (!nc && !errs.n)
		conf_error(&errs, d->conf->file, 0, "out of memory");
	if (errs.n) {
		log_errors(&errs);
		for (size_t i = 0; out && i < errs.n; i++)
			strbuf_printf(out, "%s\n", errs.msgs[i]);
		if (out)
			strbuf_puts(out, "reload failed; still running the "
					 "previous configuration\n");
		log_err("reload failed with %zu error%s; still running the "
			"previous configuration",
			errs.n, errs.n == 1 ? "" : "s");
		snprintf(status, sizeof(status),
			 "reload failed: %s; still running the previous "
			 "configuration",
			 errs.msgs[0]);
		notify_ready(status);
		if (prepared)
			modules_abort(&txn);
		conf_free(nc);
		conf_errors_clear(&errs);
		return false;
	}

	/* Commit. */
	if (nc->params.mtu != d->conf->params.mtu ||
	    nc->has_host != d->conf->has_host ||
	    nc->host_addr != d->conf->host_addr ||
	    nc->host_prefix != d->conf->host_prefix) {
		char err[256];

		if (tap_configure(nc->ifname, nc->params.mtu, nc->host_addr,
				  nc->has_host ? nc->host_prefix : 0, err,
				  sizeof(err)) < 0) {
			/* Frames larger than the kernel side accepts would
			 * be lost: keep the MTU both sides agree on. */
			log_warn("%s; keeping MTU %u, restart tapird to apply "
				 "the host side",
				 err, d->conf->params.mtu);
			nc->params.mtu = d->conf->params.mtu;
		}
	}
	if (nc->has_host6 &&
	    (!d->conf->has_host6 ||
	     memcmp(nc->host_addr6.addr, d->conf->host_addr6.addr, 16) != 0 ||
	     nc->host_addr6.prefix != d->conf->host_addr6.prefix)) {
		char err[512];

		if (tap_configure6(nc->ifname, &nc->host_addr6,
				   d->conf->has_host6 ? &d->conf->host_addr6
						      : NULL,
				   err, sizeof(err)) < 0)
			log_warn("%s; restart tapird to apply the host side",
				 err);
	}
	warn_restart_needed(d->conf, nc);
	nc->params.offload = d->tap.vnet; /* a property of the open TAP */
	log_set_level(d->debug ? LOG_DEBUG : nc->log_level);
	stack_update(d->stack, &nc->params);
	failed = modules_commit(&d->mods, &txn);
	conf_free(d->conf);
	d->conf = nc;
	schedule_timers(d);
	if (failed) {
		status_line(d, "reloaded with module errors (see log): ", status,
			    sizeof(status));
		log_err("reload applied, but %d module%s failed", failed,
			failed == 1 ? "" : "s");
		if (out)
			strbuf_printf(out,
				      "reload applied, but %d module%s failed "
				      "(see the log)\n",
				      failed, failed == 1 ? "" : "s");
	} else {
		status_line(d, "running on ", status, sizeof(status));
		log_notice("reload complete");
		if (out)
			strbuf_printf(out, "reload complete: %s\n", status);
	}
	notify_ready(status);
	return !failed;
}

/* The dhcp and dhcp6 modules' leases, as they publish them (topics
 * dhcp.lease and dhcp6.lease). */
static void report_leases(const struct report_src *r, report_entry_fn fn,
			  void *arg)
{
	const struct modules *mods = r->leases_arg;

	pubsub_foreach(mods->pubsub, "dhcp.lease", fn, arg);
	pubsub_foreach(mods->pubsub, "dhcp6.lease", fn, arg);
}

/* The reports see the running modules through these two. */
static void report_modules(const void *ctx, report_module_fn fn, void *arg)
{
	modules_foreach(ctx, fn, arg);
}

static void report_module_counters(const void *ctx, report_counter_fn fn,
				   void *arg)
{
	modules_foreach_counter(ctx, fn, arg);
}

static const char *report_conn_owner(const void *ctx,
				     const struct tcp_conn *c)
{
	return modules_conn_owner(ctx, c);
}

static void report_module_histograms(const void *ctx, report_histogram_fn fn,
				     void *arg)
{
	modules_foreach_histogram(ctx, fn, arg);
}

/* The host API's report call: status as JSON (or as an HTML page, for
 * "status.html"), metrics as Prometheus. */
static int report_for_module(void *ctx, struct strbuf *b, const char *what)
{
	const struct daemon *d = ctx;

	if (!strcmp(what, "status.html"))
		return report(b, &d->report, "status", REPORT_HTML);
	return report(b, &d->report, what,
		      strcmp(what, "metrics") ? REPORT_JSON
					      : REPORT_PROMETHEUS);
}

static void capture_end(struct daemon *d, const char *why)
{
	if (!d->tap.cap)
		return;
	capture_stop(d->tap.cap, why);
	capture_check(d);
}

static void on_capture_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	capture_end(arg, "time limit reached");
}

/* "capture start [seconds=S] [count=N] [bytes=B] [name=NAME]",
 * "capture stop", "capture status". */
static bool capture_request(struct daemon *d, const char *args,
			    struct strbuf *out)
{
	struct capture_limits lim = {d->conf->capture_dir,
				     d->conf->capture_max_files,
				     d->conf->capture_max_bytes};
	struct capture_opts o;
	struct capture *c;
	char err[512];

	while (*args == ' ')
		args++;
	if (!strcmp(args, "status")) {
		if (!d->cap) {
			strbuf_puts(out, "capture: none since tapird started\n");
			return true;
		}
		capture_report(d->cap, out);
		return true;
	}
	if (!strcmp(args, "stop")) {
		if (!d->tap.cap) {
			strbuf_puts(out, "no capture is running\n");
			return false;
		}
		capture_end(d, "stopped by tapirctl");
		capture_report(d->cap, out);
		return true;
	}
	if (strncmp(args, "start", 5) != 0 || (args[5] && args[5] != ' ')) {
		strbuf_puts(out, "capture: start, stop or status\n");
		return false;
	}
	if (d->tap.cap) {
		strbuf_puts(out, "a capture is running; stop it first\n");
		return false;
	}
	if (!capture_parse_opts(args + 5, &o, err, sizeof(err))) {
		strbuf_printf(out, "%s\n", err);
		return false;
	}
	if (!o.name[0]) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(o.name, sizeof(o.name), "capture-%Y%m%dT%H%M%SZ", &tm);
	}
	c = capture_start(&lim, &o, d->conf->ifname, stack_stats(d->stack), err,
			  sizeof(err));
	if (!c) {
		strbuf_printf(out, "%s\n", err);
		log_warn("capture refused: %s", err);
		return false;
	}
	if (o.seconds) {
		struct timeval tv = {.tv_sec = (time_t)o.seconds};

		if (!d->cap_ev)
			d->cap_ev = evtimer_new(d->base, on_capture_timer, d);
		if (!d->cap_ev) {
			capture_free(c);
			strbuf_puts(out, "out of memory\n");
			return false;
		}
		evtimer_add(d->cap_ev, &tv);
	}
	capture_free(d->cap);
	d->cap = c;
	d->tap.cap = c;
	log_notice("capture %s started in %s", o.name, lim.directory);
	capture_report(c, out);
	return true;
}

/* One tapirctl request: "VERB", then words: "json", and for connections
 * "state=NAME" and "port=N"; or "capture ..." (capture_request). */
static bool control_request(void *arg, const char *line, struct strbuf *out)
{
	struct daemon *d = arg;
	const struct report_src r = d->report;
	struct report_conn_filter filt = REPORT_CONN_FILTER_ALL;
	char words[CONTROL_LINE_MAX + 1], *save = NULL, *verb, *w;
	enum report_fmt f = REPORT_TEXT;
	char err[160];

	if (!strncmp(line, "capture", 7) && (!line[7] || line[7] == ' '))
		return capture_request(d, line + 7, out);

	snprintf(words, sizeof(words), "%s", line);
	verb = strtok_r(words, " \t", &save);
	if (!verb) {
		strbuf_printf(out, "bad request: '%.64s'\n", line);
		return false;
	}
	while ((w = strtok_r(NULL, " \t", &save))) {
		if (!strcmp(w, "json")) {
			f = REPORT_JSON;
		} else if (!strcmp(verb, "connections") &&
			   strchr(w, '=')) {
			if (report_conn_filter_parse(&filt, w, err,
						     sizeof(err)) < 0) {
				strbuf_printf(out, "%s\n", err);
				return false;
			}
		} else {
			strbuf_printf(out, "bad request: '%.64s'\n", line);
			return false;
		}
	}
	if (!strcmp(verb, "reload"))
		return reload(d, out);
	if (!strcmp(verb, "metrics"))
		f = REPORT_PROMETHEUS;
	if (!strcmp(verb, "connections")) {
		report_connections(out, &r, f, &filt);
		if (f == REPORT_JSON)
			strbuf_puts(out, "\n");
		return true;
	}
	if (report(out, &r, verb, f) < 0) {
		strbuf_printf(out,
			      "unknown request '%s'; known: status, stats, arp, "
			      "connections, leases, metrics, reload, "
			      "capture\n",
			      verb);
		return false;
	}
	return true;
}

static void log_counters(struct daemon *d)
{
	for (int i = 0; i < STAT_COUNT; i++) {
		const struct stat_desc *sd = &stat_descs[i];

		if (!stack_stats(d->stack)->v[i])
			continue;
		log_notice("counter %s_%s%s%s %llu", sd->layer, sd->name,
			   *sd->reason ? " reason=" : "", sd->reason,
			   (unsigned long long)stack_stats(d->stack)->v[i]);
	}
	for (int i = 0; i < TCP_NSTATES; i++)
		if (stack_tcp_in_state(d->stack, i))
			log_notice("counter tcp_connections state=%s %u",
				   tcp_state_names[i], stack_tcp_in_state(d->stack, i));
	log_notice("counter tcp_memory_bytes %llu",
		   (unsigned long long)stack_tcp_memory(d->stack).used);
	log_notice("counter tcp_memory_peak_bytes %llu",
		   (unsigned long long)stack_tcp_memory(d->stack).peak);
	modules_log_counters(&d->mods);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		reload(d, NULL);
		break;
	case SIGUSR1:
		log_counters(d);
		break;
	default:
		log_notice("%s received, stopping", strsignal((int)sig));
		notify_stopping("stopping");
		event_base_loopbreak(d->base);
		break;
	}
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_watchdog();
}

/* The uid and gid tapird runs as once privileges are dropped. */
static int service_ids(const struct conf *c, uid_t *uidp, gid_t *gidp)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (c->group) {
		struct group *gr = getgrnam(c->group);

		if (!gr) {
			log_err("group '%s' does not exist; create it or change "
				"'group' in %s",
				c->group, c->file);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (c->user) {
		struct passwd *pw = getpwnam(c->user);

		if (!pw) {
			log_err("user '%s' does not exist; create it or change "
				"'user' in %s",
				c->user, c->file);
			return -1;
		}
		uid = pw->pw_uid;
		if (!c->group)
			gid = pw->pw_gid;
	}
	*uidp = uid;
	*gidp = gid;
	return 0;
}

/* Start-up: switch to the configured user and group, keeping no
 * privilege in any capability set (daemon/sandbox.c).  Started as that
 * user already (systemd's User= with CAP_NET_ADMIN ambient), only the
 * capabilities go.  Root with no user or group set stays root. */
static int drop_privileges(const struct conf *c)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char err[256];
	bool kept;

	if ((c->user || c->group) && service_ids(c, &uid, &gid) < 0)
		return -1;
	if (geteuid() == 0 && (c->user || c->group)) {
		if (sandbox_change_id(uid, gid, err, sizeof(err)) < 0) {
			log_err("cannot drop privileges to %s:%s: %s",
				c->user ? c->user : "-",
				c->group ? c->group : "-", err);
			return -1;
		}
		if (uid != 0 && setuid(0) == 0) {
			log_err("privileges could be regained after dropping "
				"them");
			return -1;
		}
		log_info("running as uid %u gid %u, with no capability",
			 (unsigned)uid, (unsigned)gid);
		return 0;
	}
	if (geteuid() == 0)
		return 0; /* root as asked: the host side stays configurable */
	if (uid != getuid() || gid != getgid()) {
		log_err("cannot switch to %s:%s: tapird runs as uid %u, which "
			"may not change its ids; start it as root, or as that "
			"user",
			c->user ? c->user : "-", c->group ? c->group : "-",
			(unsigned)getuid());
		return -1;
	}
	if (sandbox_drop_caps(&kept, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	log_info("running as uid %u gid %u, with no capability%s",
		 (unsigned)getuid(), (unsigned)getgid(),
		 kept ? " (the bounding set keeps what it was given: without "
			"CAP_SETPCAP it cannot be emptied, and nothing in it can "
			"come back)"
		      : "");
	return 0;
}

/* Where this machine's identity is (machine-id(5)). */
#define MACHINE_ID_FILE "/etc/machine-id"

/* The stack's keys, each from its own draw of the kernel's random source
 * so no key can be computed from another; but the RFC 7217 key, which must
 * stay the same from one start to the next (or our link-local address
 * would move), comes from the machine's identity and the interface's name,
 * and is drawn too only when that identity cannot be read.  0, or -errno
 * with the reason in err. */
static int draw_secrets(struct stack_secrets *k, const struct conf *c,
			char *err, size_t errlen)
{
	uint8_t *keys[] = {k->isn_key, k->cookie_key, k->flow_key,
			   k->ip_id_key, k->frag6_key};
	char why[256];
	int rc;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		rc = entropy_fill(keys[i], TAPIR_SIPHASH_KEY_LEN, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (entropy_machine_key(MACHINE_ID_FILE, ENTROPY_PURPOSE_IID, c->ifname,
				k->iid_key, why, sizeof(why)) == 0)
		return 0;
	/* Only a stable identifier in use makes the loss worth a word. */
	if (c->params.ipv6 && !c->params.iid_eui64)
		log_notice("%s, so the IPv6 link-local address of %s will "
			   "change at each start (a random RFC 7217 key); give "
			   "the machine an ID, or set interface.interface_id = "
			   "\"eui64\"",
			   why, c->ifname);
	return entropy_fill(k->iid_key, TAPIR_SIPHASH_KEY_LEN, err, errlen);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tapird [-dftV] [-c file] [-s socket] [-S dir]\n"
		   "  -c file  configuration file (default %s)\n"
		   "  -s path  control socket, instead of control.socket "
		   "(\"\" for none)\n"
		   "  -S dir   state directory for default state files "
		   "(default /var/lib/tapir)\n"
		   "  -f       stay in the foreground\n"
		   "  -t       check the configuration and exit\n"
		   "  -d       debug logging\n"
		   "  -V       print the version and exit\n",
		TAPIR_CONF_FILE);
}

static bool under_systemd(void)
{
	return getenv("NOTIFY_SOCKET") || getenv("INVOCATION_ID");
}

/* `tapird -t`: everything reload would check, printed, exit 0 or 1. */
static int check_only(const char *path)
{
	struct conf_errors errs = {0};
	struct module_txn txn = {0};
	struct modules set;
	struct conf *c = load_conf(path, &errs);
	int rc;

	if (c) {
		modules_init(&set, NULL);
		modules_prepare(&set, c, &errs, &txn);
		modules_abort(&txn);
	}
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (errs.n)
		fprintf(stderr, "tapird: configuration %s has %zu error%s\n",
			path ? path : CONF_DEFAULT_NAME, errs.n,
			errs.n == 1 ? "" : "s");
	else
		fprintf(stderr, "tapird: configuration %s is valid\n",
			path ? path : CONF_DEFAULT_NAME);
	rc = errs.n ? 1 : 0;
	conf_errors_clear(&errs);
	conf_free(c);
	return rc;
}

/* The command line into o.  Returns -1 for a bad one (usage printed: exit
 * 1), 1 when it was all there is to do (-h, -V: exit 0), 0 to go on. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	while ((opt = getopt(argc, argv, "c:dfhs:tS:V")) != -1) {
		switch (opt) {
		case 'c':
			o->path = optarg;
			break;
		case 's':
			/* The length sun_path takes, as control.socket. */
			if (*optarg && (optarg[0] != '/' || strlen(optarg) > 107)) {
				fprintf(stderr, "tapird: -s '%s' is not an "
						"absolute path of at most 107 "
						"bytes (or \"\" for none)\n",
					optarg);
				return -1;
			}
			o->control = optarg;
			break;
		case 'S':
			if (optarg[0] != '/' || strlen(optarg) > 1024) {
				fprintf(stderr, "tapird: -S '%s' is not an "
						"absolute path of at most 1024 "
						"bytes\n",
					optarg);
				return -1;
			}
			o->state = optarg;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 't':
			o->test = true;
			break;
		case 'V':
			printf("tapird %s (module ABI %d)\n", TAPIR_VERSION,
			       TAPIR_MODULE_ABI);
			return 1;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	/* No -c and no file at the default path: the built-in default. */
	if (!o->path && access(TAPIR_CONF_FILE, F_OK) == 0)
		o->path = TAPIR_CONF_FILE;
	return 0;
}

/* Start-up: the configuration and every module's check of it, reported
 * all at once.  The modules stay checked (d->txn) until start_modules(). */
static int load_config(struct daemon *d, const struct options *o)
{
	struct conf_errors errs = {0};
	int rc = -1;

	/* Reloads may happen after daemon() has changed to /: resolve the
	 * name now (relative module paths are anchored by main()). */
	if (o->path && (d->abspath = realpath(o->path, NULL)) != NULL)
		d->conf_path = d->abspath;
	else
		d->conf_path = o->path;
	d->debug = o->debug;
	d->conf = load_conf(d->conf_path, &errs);
	if (!d->conf) {
		log_errors(&errs);
		goto out;
	}
	log_set_level(d->debug ? LOG_DEBUG : d->conf->log_level);
	modules_init(&d->mods, NULL);
	d->txn_open = true;
	if (modules_prepare(&d->mods, d->conf, &errs, &d->txn) < 0 ||
	    errs.n) {
		log_errors(&errs);
		goto out;
	}
	rc = 0;
out:
	conf_errors_clear(&errs);
	return rc;
}

/* Start-up: the TAP, with offloads if configured and the kernel takes
 * them, and its kernel side (MTU, host addresses, up). */
static int open_link(struct daemon *d)
{
	struct conf *c = d->conf;
	char err[512];

	if (tap_link_open(&d->tap, c->ifname, c->offload, err,
			  sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	c->params.offload = d->tap.vnet;
	if (c->offload && !d->tap.vnet)
		log_info("the TAP takes no offloads; every segment is cut and "
			 "checksummed here");
	if (tap_configure(c->ifname, c->params.mtu, c->host_addr,
			  c->has_host ? c->host_prefix : 0, err,
			  sizeof(err)) < 0 ||
	    tap_configure6(c->ifname, c->has_host6 ? &c->host_addr6 : NULL,
			   NULL, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

/* Start-up: the event loop and, if configured, the control socket (made
 * while still privileged, owned by the service's user).  A default socket
 * that cannot be made is only a warning. */
static int open_control(struct daemon *d)
{
	struct conf *c = d->conf;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char err[512];

	d->base = event_base_new();
	if (!d->base) {
		log_err("out of memory while starting");
		return -1;
	}
	if (!c->control_socket || !*c->control_socket)
		return 0;
	/* Given to the user tapird switches to; one it already runs as owns
	 * it anyway (and may not call chown under systemd's filter). */
	if ((c->user || c->group) && geteuid() == 0 &&
	    service_ids(c, &uid, &gid) < 0)
		return -1;
	d->ctl = control_open(d->base, c->control_socket, uid, gid,
			      control_request, d, err, sizeof(err));
	if (!d->ctl && c->control_explicit) {
		log_err("%s", err);
		return -1;
	}
	if (!d->ctl)
		log_warn("%s; running without a control socket (tapirctl will "
			 "not reach this tapird)",
			 err);
	return 0;
}

static void ready_now(struct daemon *d);

/* What the stack reports that an operator must hear of. */
static void stack_event_log(void *ctx, enum stack_event ev,
			    const union inany *addr, const uint8_t *mac)
{
	struct daemon *d = ctx;
	char a[INET6_ADDRSTRLEN], m[18] = "?";

	if (inany_is_v4(addr)) {
		uint32_t v = inany_v4(addr);

		snprintf(a, sizeof(a), "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
			 (v >> 8) & 255, v & 255);
	} else if (!inet_ntop(AF_INET6, addr->a, a, sizeof(a))) {
		snprintf(a, sizeof(a), "?");
	}
	if (mac)
		snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
			 mac[1], mac[2], mac[3], mac[4], mac[5]);
	switch (ev) {
	case STACK_EV_ADDR6_DUPLICATE:
		log_err("IPv6 address %s is in use by another node on the link "
			"(duplicate address detection): not using it; give "
			"this interface another address6", a);
		break;
	case STACK_EV_ADDR4_READY:
		log_info("IPv4 address %s: nobody else on the link has it "
			 "(address conflict detection); in use", a);
		break;
	case STACK_EV_ADDR4_CONFLICT:
		log_err("IPv4 address %s is in use by %s on the link (address "
			"conflict detection): not using it; probing again in "
			"a minute", a, m);
		break;
	case STACK_EV_ADDR4_DEFENDED:
		log_warn("IPv4 address conflict: %s claims our address %s; "
			 "defended with an announcement, keeping it", m, a);
		break;
	case STACK_EV_ADDR4_CLAIMED:
		log_warn("IPv4 address conflict: %s claims our address %s "
			 "again within 10 s of the last defence; keeping it "
			 "(further conflicts in these 10 s are only counted)",
			 m, a);
		break;
	}
	if (d->ready_pending && (ev == STACK_EV_ADDR4_READY ||
				 ev == STACK_EV_ADDR4_CONFLICT))
		ready_now(d);
}

/* Start-up: the stack on the link, with secrets fresh from the kernel
 * (and the one that must not change, from the machine's identity). */
static int create_stack(struct daemon *d)
{
	struct stack_secrets secrets;
	char err[512];

	if (draw_secrets(&secrets, d->conf, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	d->stack = stack_new(&d->conf->params, &secrets, tap_xmit, &d->tap,
			     clock_ms, NULL);
	explicit_bzero(&secrets, sizeof(secrets));
	if (!d->stack) {
		log_err("out of memory while starting");
		return -1;
	}
	stack_set_event_fn(d->stack, stack_event_log, d);
	return 0;
}

/* Start-up: the events of the loop.  Added only here, so a failure leaves
 * nothing pending. */
static int setup_events(struct daemon *d)
{
	uint64_t wd = notify_watchdog_usec();

	d->tap_ev = event_new(d->base, d->tap.fd, EV_READ | EV_PERSIST, on_link,
			      d);
	d->timer_ev = evtimer_new(d->base, on_timer, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_usr1 = evsignal_new(d->base, SIGUSR1, on_signal, d);
	if (wd)
		d->watchdog_ev = event_new(d->base, -1, EV_PERSIST, on_watchdog,
					   d);
	if (!d->tap_ev || !d->timer_ev || !d->sig_hup || !d->sig_term ||
	    !d->sig_int || !d->sig_usr1 || (wd && !d->watchdog_ev)) {
		log_err("out of memory while starting");
		return -1;
	}
	event_add(d->tap_ev, NULL);
	event_add(d->sig_hup, NULL);
	event_add(d->sig_term, NULL);
	event_add(d->sig_int, NULL);
	event_add(d->sig_usr1, NULL);
	if (wd) {
		struct timeval tv = {.tv_sec = (time_t)(wd / 2000000u),
				     .tv_usec = (suseconds_t)(wd / 2 % 1000000u)};

		event_add(d->watchdog_ev, &tv);
	}
	return 0;
}

/* Start-up: the modules checked by load_config() start on the stack. */
static int start_modules(struct daemon *d)
{
	modules_init(&d->mods, d->stack);
	snprintf(d->ifname, sizeof(d->ifname), "%s", d->conf->ifname);
	d->report = (struct report_src){
		.s = d->stack,
		.mods = {report_modules, report_module_counters, &d->mods,
			 report_conn_owner, report_module_histograms},
		.ifname = d->ifname,
		.offload = d->tap.vnet,
		.started_ms = stack_now_ms(d->stack),
		.leases = report_leases,
		.leases_arg = &d->mods,
		.tls_fingerprint = tls_self_signed_fingerprint,
	};
	d->mods.report = (struct modules_reporter){report_for_module, d};
	d->txn_open = false; /* committing consumes it, failed or not */
	if (modules_commit(&d->mods, &d->txn) > 0) {
		log_err("a module failed to start; see the lines above");
		return -1;
	}
	return 0;
}

/* Start-up: detach unless asked not to or run by systemd. */
static int detach(struct daemon *d, const struct options *o)
{
	if (o->foreground || under_systemd())
		return 0;
	/* Detached, stderr goes nowhere: log to syslog instead. */
	if (daemon(0, 0) < 0 || event_reinit(d->base) < 0) {
		log_err("cannot daemonize: %s", strerror(errno));
		return -1;
	}
	log_to_syslog();
	return 0;
}

/* Start-up: from here on only the system calls of the allow-list
 * (daemon/sandbox.c), unless seccomp = false. */
static int install_sandbox(const struct daemon *d)
{
	unsigned flags = 0;
	char err[256];

	if (!d->conf->seccomp) {
		log_notice("seccomp = false: running without a system call "
			   "filter");
		return 0;
	}
	if (log_is_syslog())
		flags |= SANDBOX_LOG_SYSLOG;
	if (log_is_journal())
		flags |= SANDBOX_LOG_JOURNAL;
	if (sandbox_seccomp(flags, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	log_info("system call filter in place (seccomp allow-list)");
	return 0;
}

/* "ready" in the log and to systemd. */
static void ready_now(struct daemon *d)
{
	char status[512];

	d->ready_pending = false;
	status_line(d, "running on ", status, sizeof(status));
	if (stack_addr4_usable(d->stack) || !stack_get_params(d->stack)->addr)
		log_notice("ready: %s", status);
	else
		log_notice("ready: %s (without its IPv4 address, in use by "
			   "another host)", status);
	notify_ready(status);
}

/* Start-up, last: take our addresses into use and tell the log and
 * systemd.  With interface.acd the IPv4 address is probed for first
 * (RFC 5227, a few seconds): "ready" comes when probing ends, so what
 * waits for tapird finds the address answering, or the conflict logged. */
static void announce_ready(struct daemon *d)
{
	d->started_ms = stack_now_ms(d->stack);
	d->report.started_ms = d->started_ms;
	stack_announce(d->stack);
	schedule_timers(d);
	if (stack_addr4_usable(d->stack) || !stack_get_params(d->stack)->addr)
		ready_now(d);
	else
		d->ready_pending = true;
}

/* The one cleanup path: undo whatever start-up made, in reverse, whether
 * it finished or not (every field is NULL, -1 or false until set). */
static void teardown(struct daemon *d)
{
	struct event *evs[] = {d->tap_ev,   d->timer_ev, d->watchdog_ev,
			       d->sig_hup,  d->sig_term, d->sig_int,
			       d->sig_usr1};

	if (d->txn_open)
		modules_abort(&d->txn);
	d->tap.cap = NULL;
	capture_free(d->cap); /* flushed and closed */
	if (d->cap_ev)
		event_free(d->cap_ev);
	control_close(d->ctl);
	modules_stop_all(&d->mods);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	stack_free(d->stack);
	tap_link_close(&d->tap);
	if (d->base)
		event_base_free(d->base);
	conf_free(d->conf);
	free(d->abspath);
}

int main(int argc, char **argv)
{
	static struct daemon dd; /* zero: nothing made yet */
	struct daemon *d = &dd;
	struct options o = {0};
	char *cwd;
	int rc;

	log_init("tapird");
	d->tap.fd = -1;
	rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 1 : 0;
	/* Reloads may happen after daemon() has changed to /: anchor the
	 * configuration's name and relative module paths here. */
	cwd = getcwd(NULL, 0);
	conf_set_base_dir(cwd);
	free(cwd);
	if (conf_set_control_socket(o.control) < 0 ||
	    modconf_set_state_dir(o.state) < 0) {
		fprintf(stderr, "tapird: out of memory\n");
		return 1;
	}
	if (o.test) {
		rc = check_only(o.path);
		conf_set_base_dir(NULL);
		conf_set_control_socket(NULL);
		modconf_set_state_dir(NULL);
		return rc;
	}

	/* First, so that every log (a failed start's too) says what ran. */
	log_notice("version %s (module ABI %d) starting", TAPIR_VERSION,
		   TAPIR_MODULE_ABI);
	rc = 1;
	if (load_config(d, &o) < 0 || open_link(d) < 0 ||
	    open_control(d) < 0 || drop_privileges(d->conf) < 0 ||
	    create_stack(d) < 0 || setup_events(d) < 0 ||
	    start_modules(d) < 0 || detach(d, &o) < 0 ||
	    install_sandbox(d) < 0)
		goto out;
	announce_ready(d);

	event_base_dispatch(d->base);
	rc = d->exit_status;
	log_counters(d);
out:
	teardown(d);
	conf_set_base_dir(NULL);
	conf_set_control_socket(NULL);
	modconf_set_state_dir(NULL);
	return rc;
}
