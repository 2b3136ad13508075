/* Reports: status, counters, ARP, connections and leases (see report.h). */
#include "daemon/report.h"

#include "net/stack.h"
#include "net/stats.h"
#include "net/tcp/tcp.h"
#include "version.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void ip_str(char *out, size_t len, uint32_t ip)
{
	snprintf(out, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
}

/* An address as people write it: dotted quad for IPv4 (also when mapped),
 * RFC 5952 text for IPv6. */
static void inany_str(char *out, size_t len, const union inany *a)
{
	if (inany_is_v4(a))
		ip_str(out, len, inany_v4(a));
	else if (!inet_ntop(AF_INET6, a->a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/* ADDR:PORT, with the IPv6 address in brackets (RFC 5952 6). */
static void endpoint_str(char *out, size_t len, const union inany *a,
			 uint16_t port)
{
	char as[INET6_ADDRSTRLEN];

	inany_str(as, sizeof(as), a);
	snprintf(out, len, inany_is_v4(a) ? "%s:%u" : "[%s]:%u", as, port);
}

static void mac_str(char *out, size_t len, const uint8_t *m)
{
	snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

/* ---- HTML --------------------------------------------------------------- */

/* Text into HTML: every character that could end an element, an attribute
 * or an entity is written as a reference, and control bytes as U+FFFD. */
static void html_esc(struct strbuf *b, const char *t)
{
	for (; *t; t++) {
		unsigned char ch = (unsigned char)*t;

		switch (ch) {
		case '<':
			strbuf_puts(b, "&lt;");
			break;
		case '>':
			strbuf_puts(b, "&gt;");
			break;
		case '&':
			strbuf_puts(b, "&amp;");
			break;
		case '"':
			strbuf_puts(b, "&quot;");
			break;
		case '\'':
			strbuf_puts(b, "&#39;");
			break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				strbuf_puts(b, "&#xfffd;");
			else
				strbuf_add(b, t, 1);
		}
	}
}

static uint64_t uptime_s(const struct report_src *r)
{
	uint64_t now = stack_now_ms(r->s);

	return now > r->started_ms ? (now - r->started_ms) / 1000 : 0;
}

/* ---- Counters ------------------------------------------------------------ */

/* Entries of the counter table with the same layer and name form one
 * family (one per drop reason); i is the first of a family when no
 * earlier entry has its layer and name. */
static bool family_first(int i)
{
	for (int j = 0; j < i; j++)
		if (!strcmp(stat_descs[j].layer, stat_descs[i].layer) &&
		    !strcmp(stat_descs[j].name, stat_descs[i].name))
			return false;
	return true;
}

static bool same_family(int i, int j)
{
	return !strcmp(stat_descs[j].layer, stat_descs[i].layer) &&
	       !strcmp(stat_descs[j].name, stat_descs[i].name);
}

/* i is the first entry of its layer in the table.  A layer's entries need
 * not be next to each other there (the ICMP-to-TCP counters sit with the
 * other ICMP error counters), but in JSON each layer is one object. */
static bool layer_first(int i)
{
	for (int j = 0; j < i; j++)
		if (!strcmp(stat_descs[j].layer, stat_descs[i].layer))
			return false;
	return true;
}

static void counters_json(struct strbuf *b, const struct stack *s)
{
	bool first_layer = true;

	strbuf_puts(b, "{");
	for (int l = 0; l < STAT_COUNT; l++) {
		const char *layer = stat_descs[l].layer;
		bool first_in_layer = true;

		if (!layer_first(l))
			continue;
		strbuf_puts(b, first_layer ? "" : ",");
		first_layer = false;
		strbuf_json_str(b, layer);
		strbuf_puts(b, ":{");
		for (int i = l; i < STAT_COUNT; i++) {
			const struct stat_desc *d = &stat_descs[i];

			if (strcmp(d->layer, layer) != 0 || !family_first(i))
				continue;
			strbuf_puts(b, first_in_layer ? "" : ",");
			first_in_layer = false;
			strbuf_json_str(b, d->name);
			strbuf_puts(b, ":");
			if (!*d->reason) {
				strbuf_printf(b, "%" PRIu64,
					      stack_stats(s)->v[i]);
				continue;
			}
			strbuf_puts(b, "{");
			for (int j = i, n = 0; j < STAT_COUNT; j++) {
				if (!same_family(i, j))
					continue;
				strbuf_printf(b, "%s", n++ ? "," : "");
				strbuf_json_str(b, stat_descs[j].reason);
				strbuf_printf(b, ":%" PRIu64,
					      stack_stats(s)->v[j]);
			}
			strbuf_puts(b, "}");
		}
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, "}");
}

static void stats_text(struct strbuf *b, const struct report_src *r)
{
	const struct stack *s = r->s;
	char name[128];

	for (int i = 0; i < STAT_COUNT; i++) {
		const struct stat_desc *d = &stat_descs[i];

		if (!stack_stats(s)->v[i])
			continue;
		snprintf(name, sizeof(name), "%s_%s%s%s", d->layer, d->name,
			 *d->reason ? " reason=" : "", d->reason);
		strbuf_printf(b, "%-48s %20" PRIu64 "\n", name, stack_stats(s)->v[i]);
	}
	for (int i = 0; i < TCP_NSTATES; i++) {
		if (!stack_tcp_in_state(s, i))
			continue;
		snprintf(name, sizeof(name), "tcp_connections state=%s",
			 tcp_state_names[i]);
		strbuf_printf(b, "%-48s %20u\n", name, stack_tcp_in_state(s, i));
	}
	strbuf_printf(b, "%-48s %20" PRIu64 "\n%-48s %20" PRIu64 "\n",
		      "tcp_memory_bytes", stack_tcp_memory(s).used,
		      "tcp_memory_peak_bytes", stack_tcp_memory(s).peak);
}

struct mod_ctx {
	struct strbuf *b;
	const char *module; /* the module whose counters are open (JSON) */
	unsigned n;
	enum report_fmt fmt;
	const struct report_modules *mods;
};

/* The injected module visitor, or nothing when none was given. */
static void foreach_module(const struct report_modules *mods,
			   report_module_fn fn, void *arg)
{
	if (mods->foreach)
		mods->foreach(mods->ctx, fn, arg);
}

static void foreach_module_counter(const struct report_modules *mods,
				   report_counter_fn fn, void *arg)
{
	if (mods->foreach_counter)
		mods->foreach_counter(mods->ctx, fn, arg);
}

static void module_counter_visit(void *arg, const char *module,
				 const char *name, uint64_t v)
{
	struct mod_ctx *m = arg;
	char full[160];

	switch (m->fmt) {
	case REPORT_HTML:
		if (!v)
			return;
		snprintf(full, sizeof(full), "module_%s_%s", module, name);
		strbuf_puts(m->b, "<tr><td>");
		html_esc(m->b, full);
		strbuf_printf(m->b, "</td><td class=n>%" PRIu64 "</td></tr>\n",
			      v);
		break;
	case REPORT_TEXT:
		if (!v)
			return;
		snprintf(full, sizeof(full), "module_%s_%s", module, name);
		strbuf_printf(m->b, "%-48s %20" PRIu64 "\n", full, v);
		break;
	case REPORT_PROMETHEUS:
		strbuf_puts(m->b, "tapir_module_events_total{module=");
		strbuf_prom_label(m->b, module);
		strbuf_puts(m->b, ",counter=");
		strbuf_prom_label(m->b, name);
		strbuf_printf(m->b, "} %" PRIu64 "\n", v);
		break;
	case REPORT_JSON:
		if (strcmp(module, m->module) != 0)
			return;
		strbuf_printf(m->b, "%s", m->n++ ? "," : "");
		strbuf_json_str(m->b, name);
		strbuf_printf(m->b, ":%" PRIu64, v);
		break;
	}
}

static void module_json_visit(void *arg, const char *name)
{
	struct mod_ctx *outer = arg;
	struct mod_ctx m = {outer->b, name, 0, REPORT_JSON, outer->mods};

	strbuf_printf(outer->b, "%s{\"name\":", outer->n++ ? "," : "");
	strbuf_json_str(outer->b, name);
	strbuf_puts(outer->b, ",\"counters\":{");
	foreach_module_counter(outer->mods, module_counter_visit, &m);
	strbuf_puts(outer->b, "}}");
}

/* ---- ARP ----------------------------------------------------------------- */

struct arp_ctx {
	struct strbuf *b;
	enum report_fmt fmt;
	unsigned n;
	int width; /* of the text table's address column */
};

/* The text table's address column fits the longest address: 15 for
 * dotted quads, up to 39 once IPv6 neighbours are listed. */
static void arp_width(void *arg, const union inany *ip, const uint8_t *mac,
		      const char *state, uint64_t age_ms)
{
	char ips[INET6_ADDRSTRLEN];
	int *w = arg;

	(void)mac;
	(void)state;
	(void)age_ms;
	inany_str(ips, sizeof(ips), ip);
	if ((int)strlen(ips) > *w)
		*w = (int)strlen(ips);
}

static void arp_visit(void *arg, const union inany *ip, const uint8_t *mac,
		      const char *state, uint64_t age_ms)
{
	struct arp_ctx *a = arg;
	char ips[INET6_ADDRSTRLEN], macs[18];

	inany_str(ips, sizeof(ips), ip);
	mac_str(macs, sizeof(macs), mac);
	if (a->fmt == REPORT_JSON)
		strbuf_printf(a->b,
			      "%s{\"address\":\"%s\",\"mac\":\"%s\","
			      "\"state\":\"%s\",\"age_seconds\":%" PRIu64 "}",
			      a->n ? "," : "", ips, macs, state,
			      age_ms / 1000);
	else
		strbuf_printf(a->b, "%-*s  %-17s  %-10s  %8" PRIu64 "\n",
			      a->width, ips, macs, state, age_ms / 1000);
	a->n++;
}

static void html_conn(struct strbuf *b, const struct report_src *r,
		      const struct tcp_conn *c);

/* ---- TCP ----------------------------------------------------------------- */

int report_conn_filter_parse(struct report_conn_filter *f, const char *word,
			     char *err, size_t errlen)
{
	if (!strncmp(word, "state=", 6)) {
		const char *v = word + 6;
		char name[32];
		size_t n = strlen(v);

		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		for (size_t i = 0; i < n; i++)
			name[i] = v[i] == '-' ? '_'
						: (char)tolower((unsigned char)v[i]);
		name[n] = '\0';
		for (int i = 0; i < TCP_NSTATES; i++)
			if (!strcmp(name, tcp_state_names[i]) &&
			    strlen(v) < sizeof(name)) {
				f->state = i;
				return 0;
			}
		snprintf(err, errlen,
			 "unknown state '%.32s'; known: syn_sent, syn_received, "
			 "established, fin_wait_1, fin_wait_2, close_wait, "
			 "closing, last_ack, time_wait",
			 v);
		return -1;
	}
	if (!strncmp(word, "port=", 5)) {
		const char *v = word + 5;
		char *end;
		unsigned long p;

		p = strtoul(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || p < 1 || p > 65535) {
			snprintf(err, errlen,
				 "bad port '%.32s': a number from 1 to 65535",
				 v);
			return -1;
		}
		f->port = (int)p;
		return 0;
	}
	snprintf(err, errlen, "unknown option '%.32s'", word);
	return -1;
}

static bool conn_match(const struct report_conn_filter *f,
		       const struct tcp_conn *c)
{
	if (f->state >= 0 && c->state != f->state)
		return false;
	if (f->port >= 0 && c->flow.key.lport != f->port &&
	    c->flow.key.rport != f->port)
		return false;
	return true;
}

struct conn_ctx {
	struct strbuf *b;
	const struct report_src *r;
	const struct report_conn_filter *f;
	enum report_fmt fmt;
	unsigned n, max;
};

static const char *conn_owner(const struct report_src *r,
			      const struct tcp_conn *c)
{
	const char *o = NULL;

	if (r->mods.conn_owner)
		o = r->mods.conn_owner(r->mods.ctx, c);
	return o;
}

/* Milliseconds from a value scaled by `scale` (SRTT by 8, RTTVAR by 4):
 * "12.375". */
static void ms_str(char *out, size_t len, uint32_t v, unsigned scale)
{
	snprintf(out, len, "%u.%03u", v / scale, v % scale * 1000 / scale);
}

static void conn_json(struct strbuf *b, const struct report_src *r,
		      const struct tcp_conn *c)
{
	char as[INET6_ADDRSTRLEN], rtt[24], var[24];
	const char *owner = conn_owner(r, c);

	strbuf_puts(b, "{\"state\":");
	strbuf_json_str(b, tcp_state_names[c->state]);
	inany_str(as, sizeof(as), &c->flow.key.laddr);
	strbuf_printf(b, ",\"family\":%d,\"local_address\":\"%s\","
			 "\"local_port\":%u",
		      inany_is_v4(&c->flow.key.laddr) ? 4 : 6, as,
		      c->flow.key.lport);
	inany_str(as, sizeof(as), &c->flow.key.raddr);
	strbuf_printf(b, ",\"remote_address\":\"%s\",\"remote_port\":%u", as,
		      c->flow.key.rport);
	endpoint_str(as, sizeof(as), &c->flow.key.laddr, c->flow.key.lport);
	strbuf_printf(b, ",\"local\":\"%s\"", as);
	endpoint_str(as, sizeof(as), &c->flow.key.raddr, c->flow.key.rport);
	strbuf_printf(b, ",\"remote\":\"%s\",\"module\":", as);
	if (owner)
		strbuf_json_str(b, owner);
	else
		strbuf_puts(b, "null");
	ms_str(rtt, sizeof(rtt), c->srtt8, 8);
	ms_str(var, sizeof(var), c->rttvar4, 4);
	strbuf_printf(b,
		      ",\"send_queue\":%zu,\"receive_queue\":%zu,"
		      "\"rtt_ms\":%s,\"rttvar_ms\":%s,\"rto_ms\":%u,"
		      "\"mss\":%u,\"cwnd\":%u,\"ssthresh\":",
		      c->snd.len, c->rcv.len, rtt, var, c->rto, c->mss,
		      c->cwnd);
	if (c->ssthresh >= INT32_MAX)
		strbuf_puts(b, "null");
	else
		strbuf_printf(b, "%u", c->ssthresh);
	strbuf_puts(b, ",\"congestion_control\":");
	strbuf_json_str(b, c->cc ? c->cc->name : "");
	strbuf_printf(b,
		      ",\"cc_phase\":\"%s\",\"bytes_sent\":%" PRIu64
		      ",\"bytes_retrans\":%" PRIu64 ",\"bytes_acked\":%" PRIu64
		      ",\"bytes_received\":%" PRIu64
		      ",\"retrans_segs\":%" PRIu64 ",\"retrans_out\":%u"
		      ",\"lost\":%u,\"sacked\":%u"
		      ",\"delivery_rate\":%" PRIu64 "}",
		      tcp_cc_phase(c), c->ctr.bytes_sent, c->ctr.bytes_retrans,
		      c->ctr.bytes_acked, c->ctr.bytes_received,
		      c->ctr.segs_retrans, c->sb.nretrans, c->sb.nlost,
		      c->sb.nsacked, c->ctr.delivery_rate);
}

/* Bytes per second as people read it: "812kB/s", "1.2MB/s" (decimal). */
static void rate_str(char *out, size_t len, uint64_t v)
{
	if (v >= 10000000)
		snprintf(out, len, "%" PRIu64 "MB/s", v / 1000000);
	else if (v >= 1000000)
		snprintf(out, len, "%" PRIu64 ".%" PRIu64 "MB/s", v / 1000000,
			 v / 100000 % 10);
	else if (v >= 10000)
		snprintf(out, len, "%" PRIu64 "kB/s", v / 1000);
	else
		snprintf(out, len, "%" PRIu64 "B/s", v);
}

/* Two lines, as ss -ti writes them: the socket, then its TCP state. */
static void conn_text(struct strbuf *b, const struct report_src *r,
		      const struct tcp_conn *c)
{
	char l[INET6_ADDRSTRLEN + 8], rm[INET6_ADDRSTRLEN + 8], rtt[24],
		var[24], ss[16], rate[24];
	const char *owner = conn_owner(r, c);

	endpoint_str(l, sizeof(l), &c->flow.key.laddr, c->flow.key.lport);
	endpoint_str(rm, sizeof(rm), &c->flow.key.raddr, c->flow.key.rport);
	strbuf_printf(b, "%-21s  %-21s  %-12s  %8zu  %8zu  %s\n", l, rm,
		      tcp_state_names[c->state], c->snd.len, c->rcv.len,
		      owner ? owner : "-");
	ms_str(rtt, sizeof(rtt), c->srtt8, 8);
	ms_str(var, sizeof(var), c->rttvar4, 4);
	if (c->ssthresh >= INT32_MAX)
		snprintf(ss, sizeof(ss), "-");
	else
		snprintf(ss, sizeof(ss), "%u", c->ssthresh);
	rate_str(rate, sizeof(rate), c->ctr.delivery_rate);
	strbuf_printf(b,
		      "\t %s %s rtt:%s/%s rto:%u mss:%u cwnd:%u ssthresh:%s "
		      "bytes_sent:%" PRIu64 " bytes_retrans:%" PRIu64
		      " bytes_acked:%" PRIu64 " bytes_received:%" PRIu64
		      " retrans:%u/%" PRIu64 " lost:%u sacked:%u "
		      "delivery_rate:%s\n",
		      c->cc ? c->cc->name : "-", tcp_cc_phase(c), rtt, var,
		      c->rto, c->mss, c->cwnd, ss, c->ctr.bytes_sent,
		      c->ctr.bytes_retrans, c->ctr.bytes_acked,
		      c->ctr.bytes_received, c->sb.nretrans,
		      c->ctr.segs_retrans, c->sb.nlost, c->sb.nsacked, rate);
}

static void conn_visit(void *arg, const struct tcp_conn *c)
{
	struct conn_ctx *x = arg;

	if (!conn_match(x->f, c))
		return;
	if (x->n++ >= x->max)
		return;
	switch (x->fmt) {
	case REPORT_JSON:
		strbuf_puts(x->b, x->n > 1 ? "," : "");
		conn_json(x->b, x->r, c);
		break;
	case REPORT_HTML:
		html_conn(x->b, x->r, c);
		break;
	default:
		conn_text(x->b, x->r, c);
		break;
	}
}

void report_connections(struct strbuf *b, const struct report_src *r,
			enum report_fmt fmt,
			const struct report_conn_filter *f)
{
	struct conn_ctx x = {b, r, f, fmt, 0, REPORT_MAX_CONNS};

	if (fmt == REPORT_TEXT)
		strbuf_printf(b, "%-21s  %-21s  %-12s  %8s  %8s  %s\n",
			      "LOCAL", "REMOTE", "STATE", "SEND-Q", "RECV-Q",
			      "MODULE");
	else
		strbuf_puts(b, "{\"connections\":[");
	tcp_foreach(r->s, conn_visit, &x);
	if (fmt == REPORT_JSON)
		strbuf_printf(b, "],\"matched\":%u,\"listed\":%u,"
				 "\"truncated\":%s}",
			      x.n, x.n > x.max ? x.max : x.n,
			      x.n > x.max ? "true" : "false");
	else if (x.n > x.max)
		strbuf_printf(b, "(%u more not shown: at most %u are listed; "
				 "narrow with --state or --port)\n",
			      x.n - x.max, x.max);
}

/* The status document's list: the same objects, all connections. */
static void conns_json_list(struct strbuf *b, const struct report_src *r)
{
	struct report_conn_filter all = REPORT_CONN_FILTER_ALL;
	struct conn_ctx x = {b, r, &all, REPORT_JSON, 0, REPORT_MAX_CONNS};

	strbuf_puts(b, "[");
	tcp_foreach(r->s, conn_visit, &x);
	strbuf_puts(b, "]");
}

static void html_conn(struct strbuf *b, const struct report_src *r,
		      const struct tcp_conn *c)
{
	char l[INET6_ADDRSTRLEN + 8], rm[INET6_ADDRSTRLEN + 8], rtt[24];
	const char *owner = conn_owner(r, c);

	endpoint_str(l, sizeof(l), &c->flow.key.laddr, c->flow.key.lport);
	endpoint_str(rm, sizeof(rm), &c->flow.key.raddr, c->flow.key.rport);
	ms_str(rtt, sizeof(rtt), c->srtt8, 8);
	strbuf_puts(b, "<tr><td>");
	html_esc(b, l);
	strbuf_puts(b, "</td><td>");
	html_esc(b, rm);
	strbuf_printf(b, "</td><td>%s</td><td>", tcp_state_names[c->state]);
	html_esc(b, owner ? owner : "-");
	strbuf_printf(b,
		      "</td><td class=n>%zu</td><td class=n>%zu</td>"
		      "<td class=n>%s</td><td class=n>%u</td>"
		      "<td>%s</td><td class=n>%" PRIu64
		      "</td><td class=n>%" PRIu64 "</td></tr>\n",
		      c->snd.len, c->rcv.len, rtt, c->cwnd, tcp_cc_phase(c),
		      c->ctr.bytes_sent, c->ctr.bytes_received);
}

/* ---- Leases -------------------------------------------------------------- */

/* The value of field `name` in "k=v k=v" text, into out ("" if absent). */
static void lease_field(const char *v, size_t len, const char *name,
			char *out, size_t outlen)
{
	size_t nl = strlen(name), i = 0;

	*out = '\0';
	while (i < len) {
		size_t start = i, end;

		while (i < len && v[i] != ' ')
			i++;
		end = i;
		if (end - start > nl && v[start + nl] == '=' &&
		    !memcmp(v + start, name, nl)) {
			size_t n = end - start - nl - 1;

			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, v + start + nl + 1, n);
			out[n] = '\0';
			return;
		}
		while (i < len && v[i] == ' ')
			i++;
	}
}

struct lease_ctx {
	struct strbuf *b;
	enum report_fmt fmt;
	unsigned n;
};

static void lease_visit(void *arg, const char *key, const char *value,
			size_t len)
{
	struct lease_ctx *x = arg;
	char mac[32], exp[24], host[72], duid[2 * 130 + 1];
	unsigned long long e;
	time_t t;
	struct tm tm;
	char when[32] = "-";

	lease_field(value, len, "mac", mac, sizeof(mac));
	lease_field(value, len, "expires", exp, sizeof(exp));
	lease_field(value, len, "hostname", host, sizeof(host));
	/* A DHCPv6 lease names its client by DUID (hex), not by MAC. */
	lease_field(value, len, "duid", duid, sizeof(duid));
	e = strtoull(exp, NULL, 10);
	if (x->fmt == REPORT_JSON) {
		strbuf_printf(x->b, "%s{\"address\":", x->n ? "," : "");
		strbuf_json_str(x->b, key);
		strbuf_puts(x->b, ",\"mac\":");
		strbuf_json_str(x->b, mac);
		if (*duid) {
			strbuf_puts(x->b, ",\"duid\":");
			strbuf_json_str(x->b, duid);
		}
		strbuf_puts(x->b, ",\"hostname\":");
		strbuf_json_str(x->b, host);
		strbuf_printf(x->b, ",\"expires\":%llu}", e);
	} else {
		t = (time_t)e;
		if (e && gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
		if (x->fmt == REPORT_HTML) {
			strbuf_puts(x->b, "<tr><td>");
			html_esc(x->b, key);
			strbuf_puts(x->b, "</td><td>");
			html_esc(x->b, *duid ? duid : mac);
			strbuf_puts(x->b, "</td><td>");
			html_esc(x->b, *host ? host : "-");
			strbuf_printf(x->b, "</td><td>%s</td></tr>\n", when);
		} else {
			strbuf_printf(x->b, "%-15s  %-17s  %-20s  %s\n", key,
				      *duid ? duid : mac, *host ? host : "-",
				      when);
		}
	}
	x->n++;
}

static void leases(struct strbuf *b, const struct report_src *r,
		   enum report_fmt fmt)
{
	struct lease_ctx x = {b, fmt, 0};

	if (fmt == REPORT_TEXT)
		strbuf_printf(b, "%-15s  %-17s  %-20s  %s\n", "ADDRESS", "MAC",
			      "HOSTNAME", "EXPIRES");
	else
		strbuf_puts(b, "[");
	if (r->leases)
		r->leases(r, lease_visit, &x);
	if (fmt == REPORT_JSON)
		strbuf_puts(b, "]");
}

static unsigned lease_count(const struct report_src *r)
{
	struct strbuf scratch;
	struct lease_ctx x;

	strbuf_init(&scratch, 1 << 20);
	x.b = &scratch;
	x.fmt = REPORT_JSON;
	x.n = 0;
	if (r->leases)
		r->leases(r, lease_visit, &x);
	strbuf_free(&scratch);
	return x.n;
}

/* ---- Status -------------------------------------------------------------- */

/* Our IPv6 addresses (stack_foreach_addr6): JSON objects, or text lines
 * under the "ipv6" heading of the status. */
struct addr6_ctx {
	struct strbuf *b;
	enum report_fmt fmt;
	unsigned n;
};

static void addr6_visit(void *arg, const union inany *a, unsigned prefix,
			const char *state)
{
	struct addr6_ctx *x = arg;
	char as[INET6_ADDRSTRLEN];

	inany_str(as, sizeof(as), a);
	if (x->fmt == REPORT_JSON)
		strbuf_printf(x->b,
			      "%s{\"address\":\"%s/%u\",\"state\":\"%s\"}",
			      x->n ? "," : "", as, prefix, state);
	else
		strbuf_printf(x->b, "%-11s %s/%u  %s\n", x->n ? "" : "ipv6", as,
			      prefix, state);
	x->n++;
}

static void addr6_json(struct strbuf *b, const struct report_src *r)
{
	struct addr6_ctx x = {b, REPORT_JSON, 0};

	strbuf_printf(b, ",\"ipv6\":%s,\"address6\":[",
		      stack_get_params(r->s)->ipv6 ? "true" : "false");
	if (stack_get_params(r->s)->ipv6)
		stack_foreach_addr6(r->s, addr6_visit, &x);
	strbuf_puts(b, "]");
}

/* "ipv6" and one line per address, or "off", or "no addresses" while
 * there are none yet. */
static void addr6_text(struct strbuf *b, const struct report_src *r)
{
	struct addr6_ctx x = {b, REPORT_TEXT, 0};

	if (!stack_get_params(r->s)->ipv6) {
		strbuf_printf(b, "%-11s off\n", "ipv6");
		return;
	}
	stack_foreach_addr6(r->s, addr6_visit, &x);
	if (!x.n)
		strbuf_printf(b, "%-11s no addresses\n", "ipv6");
}

static void status_json(struct strbuf *b, const struct report_src *r)
{
	const struct stack *s = r->s;
	char addr[16], mac[18];
	struct arp_ctx a = {b, REPORT_JSON, 0, 0};
	struct mod_ctx m = {b, NULL, 0, REPORT_JSON, &r->mods};

	ip_str(addr, sizeof(addr), stack_get_params(s)->addr);
	mac_str(mac, sizeof(mac), stack_get_params(s)->mac);
	strbuf_puts(b, "{\"version\":");
	strbuf_json_str(b, TAPIR_VERSION);
	strbuf_printf(b, ",\"uptime_seconds\":%" PRIu64, uptime_s(r));
	strbuf_puts(b, ",\"interface\":{\"name\":");
	strbuf_json_str(b, r->ifname);
	strbuf_printf(b,
		      ",\"address\":\"%s/%u\",\"address_state\":\"%s\","
		      "\"mac\":\"%s\",\"mtu\":%u,\"offload\":%s",
		      addr, stack_get_params(s)->prefix, stack_addr4_state(s),
		      mac, stack_get_params(s)->mtu,
		      r->offload ? "true" : "false");
	addr6_json(b, r);
	strbuf_puts(b, "},\"counters\":");
	counters_json(b, s);
	strbuf_printf(b, ",\"tcp\":{\"connections\":%u,\"by_state\":{",
		      stack_tcp_count(s));
	for (int i = 0, n = 0; i < TCP_NSTATES; i++) {
		if (i == TCP_CLOSED || i == TCP_LISTEN)
			continue;
		strbuf_printf(b, "%s\"%s\":%u", n++ ? "," : "",
			      tcp_state_names[i], stack_tcp_in_state(s, i));
	}
	strbuf_printf(b,
		      "},\"memory_bytes\":%" PRIu64
		      ",\"memory_peak_bytes\":%" PRIu64
		      ",\"memory_limit_bytes\":%" PRIu64 ",\"list\":",
		      stack_tcp_memory(s).used, stack_tcp_memory(s).peak,
		      stack_tcp_memory(s).limit);
	conns_json_list(b, r);
	strbuf_puts(b, "},\"arp\":[");
	stack_foreach_neigh(r->s, arp_visit, &a);
	strbuf_puts(b, "],\"modules\":[");
	foreach_module(&r->mods, module_json_visit, &m);
	strbuf_puts(b, "],\"dhcp_leases\":");
	leases(b, r, REPORT_JSON);
	if (r->tls_fingerprint && r->tls_fingerprint()) {
		strbuf_puts(b, ",\"tls\":{\"self_signed_sha256\":");
		strbuf_json_str(b, r->tls_fingerprint());
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, "}\n");
}

static void module_name_visit(void *arg, const char *name)
{
	struct mod_ctx *m = arg;

	strbuf_printf(m->b, "%s%s", m->n++ ? ", " : "", name);
}

static void arp_count(void *arg, const union inany *ip, const uint8_t *mac,
		      const char *state, uint64_t age_ms)
{
	(void)ip;
	(void)mac;
	(void)state;
	(void)age_ms;
	++*(unsigned *)arg;
}

static void status_text(struct strbuf *b, const struct report_src *r)
{
	const struct stack *s = r->s;
	char addr[16], mac[18];
	uint64_t up = uptime_s(r);
	struct mod_ctx m = {b, NULL, 0, REPORT_TEXT, &r->mods};
	unsigned narp = 0, n = 0;

	ip_str(addr, sizeof(addr), stack_get_params(s)->addr);
	mac_str(mac, sizeof(mac), stack_get_params(s)->mac);
	stack_foreach_neigh(r->s, arp_count, &narp);
	strbuf_printf(b, "%-11s %s\n", "version", TAPIR_VERSION);
	strbuf_printf(b, "%-11s %" PRIu64 "d %02" PRIu64 ":%02" PRIu64
			 ":%02" PRIu64 "\n",
		      "uptime", up / 86400, up / 3600 % 24, up / 60 % 60,
		      up % 60);
	strbuf_printf(b, "%-11s %s  %s/%u  %s  mtu %u  offload %s%s%s\n",
		      "interface", r->ifname, addr, stack_get_params(s)->prefix, mac, stack_get_params(s)->mtu,
		      r->offload ? "on" : "off",
		      stack_addr4_usable(s) ? "" : "  ipv4 ",
		      stack_addr4_usable(s) ? "" : stack_addr4_state(s));
	addr6_text(b, r);
	strbuf_printf(b, "%-11s ", "modules");
	foreach_module(&r->mods, module_name_visit, &m);
	strbuf_printf(b, "%s\n", m.n ? "" : "none");
	strbuf_printf(b, "%-11s %u", "tcp", stack_tcp_count(s));
	for (int i = 0; i < TCP_NSTATES; i++)
		if (stack_tcp_in_state(s, i))
			strbuf_printf(b, "%s%s %u", n++ ? ", " : " (",
				      tcp_state_names[i], stack_tcp_in_state(s, i));
	strbuf_printf(b, "%s\n", n ? ")" : "");
	strbuf_printf(b, "%-11s %u entries\n", "arp", narp);
	strbuf_printf(b, "%-11s %u\n", "dhcp leases", lease_count(r));
	if (r->tls_fingerprint && r->tls_fingerprint())
		strbuf_printf(b, "%-11s self-signed, SHA-256 %s\n", "tls",
			      r->tls_fingerprint());
	strbuf_printf(b, "%-11s %" PRIu64 " in, %" PRIu64 " out\n", "frames",
		      stack_stats(s)->v[STAT_LINK_RX], stack_stats(s)->v[STAT_LINK_TX]);
}

static void addr6_html(void *arg, const union inany *a, unsigned prefix,
		       const char *state)
{
	struct strbuf *b = arg;
	char as[INET6_ADDRSTRLEN];

	inany_str(as, sizeof(as), a);
	strbuf_printf(b, "<tr><th>IPv6</th><td>%s/%u %s</td></tr>\n", as,
		      prefix, state);
}

static const char html_style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222}"
	"h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}"
	"table{border-collapse:collapse}"
	"td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;"
	"font-family:ui-monospace,monospace}"
	"th{background:#f3f3f3}td.n{text-align:right}"
	"p.note{color:#a40}";

/* The status as a page for browsers: no scripts, no external assets, every
 * string from outside escaped. */
static void status_html(struct strbuf *b, const struct report_src *r)
{
	const struct stack *s = r->s;
	char addr[16], mac[18];
	uint64_t up = uptime_s(r);
	struct mod_ctx m = {b, NULL, 0, REPORT_TEXT, &r->mods};
	struct lease_ctx lx = {b, REPORT_HTML, 0};
	struct report_conn_filter all = REPORT_CONN_FILTER_ALL;
	struct conn_ctx cx = {b, r, &all, REPORT_HTML, 0, REPORT_HTML_CONNS};

	ip_str(addr, sizeof(addr), stack_get_params(s)->addr);
	mac_str(mac, sizeof(mac), stack_get_params(s)->mac);
	strbuf_puts(b, "<!DOCTYPE html>\n<html lang=en><head><meta "
		       "charset=utf-8><meta name=viewport "
		       "content=\"width=device-width\"><title>tapir ");
	html_esc(b, r->ifname);
	strbuf_printf(b, "</title><style>%s</style></head><body>\n<h1>tapir ",
		      html_style);
	html_esc(b, r->ifname);
	strbuf_puts(b, "</h1>\n<p>version ");
	html_esc(b, TAPIR_VERSION);
	strbuf_printf(b, ", up %" PRIu64 "d %02" PRIu64 ":%02" PRIu64
			 ":%02" PRIu64 "</p>\n",
		      up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);

	strbuf_puts(b, "<h2>Interface</h2>\n<table id=interface>"
		       "<tr><th>name</th><td>");
	html_esc(b, r->ifname);
	strbuf_printf(b,
		      "</td></tr>\n<tr><th>IPv4</th><td>%s/%u %s</td></tr>\n"
		      "<tr><th>MAC</th><td>%s</td></tr>\n"
		      "<tr><th>MTU</th><td>%u</td></tr>\n"
		      "<tr><th>offload</th><td>%s</td></tr>\n",
		      addr, stack_get_params(s)->prefix, stack_addr4_state(s),
		      mac, stack_get_params(s)->mtu,
		      r->offload ? "on" : "off");
	if (stack_get_params(s)->ipv6)
		stack_foreach_addr6(r->s, addr6_html, b);
	strbuf_puts(b, "</table>\n<h2>Modules</h2>\n<p id=modules>");
	m.fmt = REPORT_TEXT;
	{
		struct strbuf names;

		strbuf_init(&names, 1 << 16);
		m.b = &names;
		foreach_module(&r->mods, module_name_visit, &m);
		html_esc(b, m.n ? strbuf_str(&names) : "none");
		strbuf_free(&names);
	}
	strbuf_puts(b, "</p>\n");

	strbuf_printf(b, "<h2>Connections (%u)</h2>\n<table id=connections>"
			 "<tr><th>local</th><th>remote</th><th>state</th>"
			 "<th>module</th><th>send-q</th><th>recv-q</th>"
			 "<th>rtt ms</th><th>cwnd</th><th>phase</th>"
			 "<th>bytes sent</th><th>bytes received</th></tr>\n",
		      stack_tcp_count(s));
	tcp_foreach(r->s, conn_visit, &cx);
	strbuf_puts(b, "</table>\n");
	if (cx.n > cx.max)
		strbuf_printf(b, "<p class=note>%u more not shown; "
				 "<code>tapirctl connections</code> lists up "
				 "to %u.</p>\n",
			      cx.n - cx.max, REPORT_MAX_CONNS);

	strbuf_puts(b, "<h2>DHCP leases</h2>\n<table id=leases><tr>"
		       "<th>address</th><th>MAC or DUID</th><th>host name</th>"
		       "<th>expires</th></tr>\n");
	if (r->leases)
		r->leases(r, lease_visit, &lx);
	strbuf_puts(b, "</table>\n");

	strbuf_puts(b, "<h2>Counters</h2>\n<table id=counters><tr><th>counter"
		       "</th><th>value</th></tr>\n");
	for (int i = 0; i < STAT_COUNT; i++) {
		const struct stat_desc *d = &stat_descs[i];
		char name[128];

		if (!stack_stats(s)->v[i])
			continue;
		snprintf(name, sizeof(name), "%s_%s%s%s", d->layer, d->name,
			 *d->reason ? " reason=" : "", d->reason);
		strbuf_puts(b, "<tr><td>");
		html_esc(b, name);
		strbuf_printf(b, "</td><td class=n>%" PRIu64 "</td></tr>\n",
			      stack_stats(s)->v[i]);
	}
	m.b = b;
	m.fmt = REPORT_HTML;
	foreach_module_counter(&r->mods, module_counter_visit, &m);
	strbuf_puts(b, "</table>\n</body></html>\n");
}

/* ---- Prometheus ---------------------------------------------------------- */

/* Microseconds as exact decimal seconds: "0.000016", "1.5", "33". */
static void prom_seconds(struct strbuf *b, uint64_t us)
{
	uint64_t frac = us % 1000000u;
	int digits = 6;

	if (!frac) {
		strbuf_printf(b, "%" PRIu64, us / 1000000u);
		return;
	}
	while (frac % 10u == 0) {
		frac /= 10u;
		digits--;
	}
	strbuf_printf(b, "%" PRIu64 ".%0*" PRIu64, us / 1000000u, digits, frac);
}

/* One histogram's samples (its HELP and TYPE lines already out): the
 * cumulative buckets, +Inf, _sum in seconds and _count. */
static void prom_histogram(struct strbuf *b, const char *name,
			   const struct tapir_histogram *h)
{
	uint64_t cum = 0;

	for (unsigned i = 0; i < TAPIR_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		strbuf_printf(b, "%s_bucket{le=\"", name);
		prom_seconds(b, tapir_hist_bound_us(i));
		strbuf_printf(b, "\"} %" PRIu64 "\n", cum);
	}
	cum += h->bucket[TAPIR_HIST_BUCKETS];
	strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	strbuf_printf(b, "%s_sum ", name);
	prom_seconds(b, h->sum_us);
	/* The count is the +Inf bucket by definition. */
	strbuf_printf(b, "\n%s_count %" PRIu64 "\n", name, cum);
}

/* A module's histogram as tapir_<module>_<name>_seconds; characters of
 * the module's name that a metric name cannot hold become '_'. */
static void module_histogram_visit(void *arg, const char *module,
				   const char *name, const char *help,
				   const struct tapir_histogram *h)
{
	struct strbuf *b = arg;
	char full[200];
	size_t n;

	n = (size_t)snprintf(full, sizeof(full), "tapir_%s_%s_seconds", module,
			     name);
	if (n >= sizeof(full))
		return;
	for (size_t i = 6; i < n; i++)
		if (!((full[i] >= 'a' && full[i] <= 'z') ||
		      (full[i] >= 'A' && full[i] <= 'Z') ||
		      (full[i] >= '0' && full[i] <= '9') || full[i] == '_'))
			full[i] = '_';
	strbuf_printf(b, "# HELP %s ", full);
	if (help) {
		/* HELP text escapes backslashes (and line breaks, which the
		 * host has already turned into spaces). */
		for (const char *p = help; *p; p++) {
			if (*p == '\\')
				strbuf_puts(b, "\\\\");
			else
				strbuf_printf(b, "%c", *p);
		}
	} else {
		strbuf_printf(b, "Durations measured by the %s module.", module);
	}
	strbuf_printf(b, "\n# TYPE %s histogram\n", full);
	prom_histogram(b, full, h);
}

static void metrics(struct strbuf *b, const struct report_src *r)
{
	const struct stack *s = r->s;
	struct mod_ctx m = {b, NULL, 0, REPORT_PROMETHEUS, &r->mods};
	unsigned narp = 0;

	strbuf_puts(b, "# HELP tapir_build_info The running tapird.\n"
		       "# TYPE tapir_build_info gauge\n");
	strbuf_printf(b, "tapir_build_info{version=\"%s\"} 1\n",
		      TAPIR_VERSION);
	strbuf_puts(b, "# HELP tapir_uptime_seconds Seconds since start.\n"
		       "# TYPE tapir_uptime_seconds gauge\n");
	strbuf_printf(b, "tapir_uptime_seconds %" PRIu64 "\n", uptime_s(r));
	for (int i = 0; i < STAT_COUNT; i++) {
		const struct stat_desc *d = &stat_descs[i];

		if (!family_first(i))
			continue;
		strbuf_printf(b,
			      "# HELP tapir_%s_%s_total %s: %s%s.\n"
			      "# TYPE tapir_%s_%s_total counter\n",
			      d->layer, d->name, d->layer, d->name,
			      *d->reason ? ", by reason" : "", d->layer,
			      d->name);
		for (int j = i; j < STAT_COUNT; j++) {
			if (!same_family(i, j))
				continue;
			if (*stat_descs[j].reason)
				strbuf_printf(b,
					      "tapir_%s_%s_total{reason=\"%s\"} "
					      "%" PRIu64 "\n",
					      d->layer, d->name,
					      stat_descs[j].reason,
					      stack_stats(s)->v[j]);
			else
				strbuf_printf(b,
					      "tapir_%s_%s_total %" PRIu64 "\n",
					      d->layer, d->name, stack_stats(s)->v[j]);
		}
	}
	strbuf_puts(b, "# HELP tapir_tcp_connections TCP connections by "
		       "state.\n# TYPE tapir_tcp_connections gauge\n");
	for (int i = 0; i < TCP_NSTATES; i++)
		if (i != TCP_CLOSED && i != TCP_LISTEN)
			strbuf_printf(b,
				      "tapir_tcp_connections{state=\"%s\"} %u\n",
				      tcp_state_names[i], stack_tcp_in_state(s, i));
	strbuf_puts(b, "# HELP tapir_tcp_memory_bytes Bytes of TCP buffers "
		       "held over all connections.\n"
		       "# TYPE tapir_tcp_memory_bytes gauge\n");
	strbuf_printf(b, "tapir_tcp_memory_bytes %" PRIu64 "\n",
		      stack_tcp_memory(s).used);
	strbuf_puts(b, "# HELP tapir_tcp_memory_peak_bytes The most bytes of "
		       "TCP buffers held since start.\n"
		       "# TYPE tapir_tcp_memory_peak_bytes gauge\n");
	strbuf_printf(b, "tapir_tcp_memory_peak_bytes %" PRIu64 "\n",
		      stack_tcp_memory(s).peak);
	strbuf_puts(b, "# HELP tapir_tcp_memory_limit_bytes The limit on TCP "
		       "buffers (tcp_memory_limit).\n"
		       "# TYPE tapir_tcp_memory_limit_bytes gauge\n");
	strbuf_printf(b, "tapir_tcp_memory_limit_bytes %" PRIu64 "\n",
		      stack_tcp_memory(s).limit);
	stack_foreach_neigh(r->s, arp_count, &narp);
	strbuf_puts(b, "# HELP tapir_arp_entries ARP cache entries in use.\n"
		       "# TYPE tapir_arp_entries gauge\n");
	strbuf_printf(b, "tapir_arp_entries %u\n", narp);
	strbuf_puts(b, "# HELP tapir_dhcp_leases DHCP leases held.\n"
		       "# TYPE tapir_dhcp_leases gauge\n");
	strbuf_printf(b, "tapir_dhcp_leases %u\n", lease_count(r));
	strbuf_puts(b, "# HELP tapir_module_events_total Counters kept by "
		       "modules.\n# TYPE tapir_module_events_total counter\n");
	foreach_module_counter(&r->mods, module_counter_visit, &m);
	strbuf_puts(b, "# HELP tapir_tcp_rtt_seconds TCP round-trip time "
		       "samples of the RTT estimator, in whole milliseconds.\n"
		       "# TYPE tapir_tcp_rtt_seconds histogram\n");
	prom_histogram(b, "tapir_tcp_rtt_seconds", stack_tcp_rtt(s));
	if (r->mods.foreach_histogram)
		r->mods.foreach_histogram(r->mods.ctx, module_histogram_visit, b);
}

int report(struct strbuf *b, const struct report_src *r, const char *what,
	   enum report_fmt fmt)
{
	if (!strcmp(what, "metrics")) {
		if (fmt != REPORT_PROMETHEUS)
			return -1;
		metrics(b, r);
		return 0;
	}
	if (fmt == REPORT_PROMETHEUS)
		return -1;
	if (fmt == REPORT_HTML) {
		if (strcmp(what, "status") != 0)
			return -1;
		status_html(b, r);
		return 0;
	}
	if (!strcmp(what, "status")) {
		if (fmt == REPORT_JSON)
			status_json(b, r);
		else
			status_text(b, r);
	} else if (!strcmp(what, "stats")) {
		if (fmt == REPORT_JSON) {
			struct mod_ctx m = {b, NULL, 0, REPORT_JSON, &r->mods};

			strbuf_puts(b, "{\"stack\":");
			counters_json(b, r->s);
			strbuf_puts(b, ",\"modules\":[");
			foreach_module(&r->mods, module_json_visit, &m);
			strbuf_puts(b, "]}\n");
		} else {
			struct mod_ctx m = {b, NULL, 0, REPORT_TEXT, &r->mods};

			stats_text(b, r);
			foreach_module_counter(&r->mods, module_counter_visit,
					       &m);
		}
	} else if (!strcmp(what, "arp")) {
		struct arp_ctx a = {b, fmt, 0, 15};

		if (fmt == REPORT_TEXT) {
			stack_foreach_neigh(r->s, arp_width, &a.width);
			strbuf_printf(b, "%-*s  %-17s  %-10s  %8s\n", a.width,
				      "ADDRESS", "MAC", "STATE", "AGE-S");
		} else {
			strbuf_puts(b, "[");
		}
		stack_foreach_neigh(r->s, arp_visit, &a);
		if (fmt == REPORT_JSON)
			strbuf_puts(b, "]\n");
	} else if (!strcmp(what, "connections")) {
		struct report_conn_filter all = REPORT_CONN_FILTER_ALL;

		report_connections(b, r, fmt, &all);
		if (fmt == REPORT_JSON)
			strbuf_puts(b, "\n");
	} else if (!strcmp(what, "leases")) {
		leases(b, r, fmt);
		if (fmt == REPORT_JSON)
			strbuf_puts(b, "\n");
	} else {
		return -1;
	}
	return 0;
}
