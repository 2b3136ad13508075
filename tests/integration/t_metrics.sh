#!/bin/bash
# Metrics and the access log with real tools: promtool check metrics finds
# nothing to say about /metrics or tapirctl metrics; a Prometheus server in
# the lab scrapes /metrics every second over the TAP, and after dig and
# curl traffic its query API shows a tapir counter that moved and the DNS,
# HTTP and TCP RTT histograms filled (histogram_quantile gives a number);
# every metric the Grafana dashboard names is exported
# (scripts/dashboard-check); the combined access log format has the
# fields of a real curl request, Referer and User-Agent included; and
# after the log is renamed and tapird gets SIGHUP, new lines go to a fresh
# file; and so they do after logrotate runs contrib/tapir.logrotate.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
command -v promtool >/dev/null || bail "promtool is installed (scripts/deps: prometheus)"
command -v prometheus >/dev/null || bail "prometheus is installed (scripts/deps)"
command -v logrotate >/dev/null || bail "logrotate is installed (scripts/deps)"

WWW=$TL_TMP/www
ALOG=$TL_TMP/access.log
SOCK=$TL_TMP/ctl.sock
PROM_PORT=9090
PROM=http://127.0.0.1:$PROM_PORT
mkdir -p "$WWW"
printf 'hello\n' >"$WWW/a.txt"

cat >"$TL_TMP/tapir.conf" <<EOF
$(tl_iface_conf)
modules = (
  { name = "http"; port = 80; root = "$WWW";
    access_log = "$ALOG"; access_log_format = "combined"; },
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A 10.0.0.2",
                            "www A 10.0.0.2" ]; } ); }
);
control = { socket = "$SOCK"; };
EOF
tl_start_with "$TL_TMP/tapir.conf"
pid=$LAB_TAPIRD_PID

# ---- promtool on both expositions -----------------------------------------
# Some traffic first, so that the histograms have samples too.
in_ns timeout 10 dig +short +time=2 +tries=1 "@$TAPIR_ADDR" www.lab.test >/dev/null
in_ns timeout 10 curl -s -o /dev/null "http://$TAPIR_ADDR/a.txt"
in_ns timeout 10 curl -s -o "$TL_TMP/metrics.txt" "http://$TAPIR_ADDR/metrics"
"$TAPIRCTL" -s "$SOCK" metrics >"$TL_TMP/ctl-metrics.txt" 2>"$TL_TMP/ctl-metrics.err"
for f in metrics.txt ctl-metrics.txt; do
	what=/metrics
	[ "$f" = ctl-metrics.txt ] && what="tapirctl metrics"
	promtool check metrics <"$TL_TMP/$f" >"$TL_TMP/$f.lint" 2>&1
	rc=$?
	check "promtool check metrics on $what: exit 0, no lint message" \
		"exit $rc: $(cat "$TL_TMP/$f.lint")" \
		sh -c "[ $rc = 0 ] && [ ! -s '$TL_TMP/$f.lint' ] && [ -s '$TL_TMP/$f' ]"
done
check "/metrics has the three histograms, with samples" "@$TL_TMP/metrics.txt" \
	sh -c "grep -Eq '^tapir_dns_answer_duration_seconds_count [1-9]' '$TL_TMP/metrics.txt' &&
	       grep -Eq '^tapir_http_response_duration_seconds_count [1-9]' '$TL_TMP/metrics.txt' &&
	       grep -Eq '^tapir_tcp_rtt_seconds_count [1-9]' '$TL_TMP/metrics.txt' &&
	       grep -q '^tapir_dns_answer_duration_seconds_bucket{le=\"+Inf\"}' '$TL_TMP/metrics.txt'"

# ---- The dashboard names only exported metrics ------------------------------
"$ROOT_DIR/scripts/dashboard-check" "$TL_TMP/metrics.txt" >"$TL_TMP/dash.out" 2>&1
check "scripts/dashboard-check: every metric of contrib/grafana/tapir.json is in /metrics" \
	"@$TL_TMP/dash.out" test "$(wc -c <"$TL_TMP/dash.out")" -eq 0
grep -v '^tapir_dns_answer_duration_seconds' "$TL_TMP/metrics.txt" >"$TL_TMP/metrics-cut.txt"
"$ROOT_DIR/scripts/dashboard-check" "$TL_TMP/metrics-cut.txt" >"$TL_TMP/dash-cut.out" 2>&1
rc=$?
check "scripts/dashboard-check: a histogram missing from /metrics is named, exit 1" \
	"exit $rc: $(cat "$TL_TMP/dash-cut.out")" \
	sh -c "[ $rc = 1 ] && grep -q 'tapir_dns_answer_duration_seconds_bucket is not exported' '$TL_TMP/dash-cut.out'"
if [ -n "${TAPIR_METRICS_SAMPLE-}" ]; then
	cp "$TL_TMP/metrics.txt" "$TAPIR_METRICS_SAMPLE"
fi

# ---- A Prometheus server scrapes tapird ------------------------------------
mkdir -p "$TL_TMP/prom-data"
cat >"$TL_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tapir
    metrics_path: /metrics
    static_configs:
      - targets: ['$TAPIR_ADDR:80']
EOF
promtool check config "$TL_TMP/prometheus.yml" >"$TL_TMP/promcfg.out" 2>&1 ||
	bail "promtool check config accepts the test's prometheus.yml" "$(cat "$TL_TMP/promcfg.out")"
in_ns timeout 120 prometheus --config.file="$TL_TMP/prometheus.yml" \
	--storage.tsdb.path="$TL_TMP/prom-data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
	>"$TL_TMP/prometheus.log" 2>&1 &
prom_pid=$!
lab_on_exit "kill $prom_pid 2>/dev/null; wait $prom_pid 2>/dev/null"

# prom_query EXPR: the first result's value ("" when none), from the
# query API inside the lab.
prom_query() {
	in_ns timeout 5 curl -s --get "$PROM/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null |
		python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    r = d["data"]["result"]
    print(r[0]["value"][1] if d["status"] == "success" and r else "")
except Exception:
    print("")
'
}
# prom_true EXPR: the query gives a value (a filter like "> 0" that
# matches nothing gives none) that is a finite number.
prom_true() {
	local v
	v=$(prom_query "$1")
	[ -n "$v" ] && [ "$v" != NaN ] && [ "$v" != +Inf ] && [ "$v" != -Inf ]
}

check "Prometheus scrapes tapird's /metrics over the TAP (up == 1)" \
	"@$TL_TMP/prometheus.log" tl_wait 300 prom_true 'up{job="tapir"} == 1'

# Traffic between scrapes, bounded: 20 names, 20 pages.
before=$(prom_query 'tapir_module_events_total{module="dns",counter="qtype_a"}')
for i in $(seq 1 20); do
	in_ns timeout 5 dig +short +time=2 +tries=1 "@$TAPIR_ADDR" www.lab.test >/dev/null
	in_ns timeout 5 curl -s -o /dev/null -A "tapir-test/$i" "http://$TAPIR_ADDR/a.txt"
	sleep 0.1
done
diag "qtype_a before the traffic: ${before:-none}"
check "a counter moved: Prometheus sees qtype_a grow by the 20 queries" \
	"before: $before, now: $(prom_query 'tapir_module_events_total{module="dns",counter="qtype_a"}')" \
	tl_wait 150 prom_true "tapir_module_events_total{module=\"dns\",counter=\"qtype_a\"} >= ${before:-0} + 20"
check "the link counters moved: rate(tapir_link_rx_frames_total[30s]) > 0" \
	"got: $(prom_query 'rate(tapir_link_rx_frames_total[30s])')" \
	tl_wait 100 prom_true 'rate(tapir_link_rx_frames_total[30s]) > 0'
for h in dns_answer_duration http_response_duration tcp_rtt; do
	check "Prometheus: tapir_${h}_seconds_count > 0" \
		"got: $(prom_query "tapir_${h}_seconds_count")" \
		tl_wait 100 prom_true "tapir_${h}_seconds_count > 0"
done
q='histogram_quantile(0.9, sum by (le) (rate(tapir_dns_answer_duration_seconds_bucket[1m])))'
check "histogram_quantile(0.9) of DNS answer latency is a number under 1 s" \
	"got: $(prom_query "$q")" tl_wait 100 prom_true "$q < 1"
q='histogram_quantile(0.5, sum by (le) (rate(tapir_http_response_duration_seconds_bucket[1m])))'
check "histogram_quantile(0.5) of HTTP response time is a number under 1 s" \
	"got: $(prom_query "$q")" tl_wait 100 prom_true "$q < 1"
kill "$prom_pid" 2>/dev/null
wait "$prom_pid" 2>/dev/null

# ---- The combined access log format ----------------------------------------
: >"$TL_TMP/curl.err"
in_ns timeout 10 curl -s -o /dev/null -e "http://example.test/from?x=1" \
	-A "Lab Agent/2.0 (tapir test)" "http://$TAPIR_ADDR/a.txt?q=1" 2>>"$TL_TMP/curl.err"
# One line: HOST - - [DD/Mon/YYYY:HH:MM:SS +0000] "REQ" STATUS BYTES "REF" "UA"
combined_ok() {
	grep -F 'Lab Agent/2.0' "$ALOG" | tail -n 1 | python3 -c '
import re, sys
line = sys.stdin.read().rstrip("\n")
m = re.fullmatch(r"(\S+) (\S+) (\S+) \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) \+0000\] "
                 r"\"([^\"]*)\" (\d{3}) (\d+|-) \"([^\"]*)\" \"([^\"]*)\"", line)
want = ("10.0.0.1", "-", "-", "GET /a.txt?q=1 HTTP/1.1", "200", "6",
        "http://example.test/from?x=1", "Lab Agent/2.0 (tapir test)")
got = m and (m.group(1), m.group(2), m.group(3), m.group(10), m.group(11),
             m.group(12), m.group(13), m.group(14))
if got != want:
    print("line: %r\ngot:  %r\nwant: %r" % (line, got, want))
    sys.exit(1)
'
}
combined_ok >"$TL_TMP/combined.out" 2>&1
check "combined log line: host, ident, user, time, request, status, body bytes, Referer, User-Agent" \
	"@$TL_TMP/combined.out" test -z "$(cat "$TL_TMP/combined.out")"
check "a request without Referer logs \"-\" for it" "@$ALOG" \
	grep -q '"GET /a.txt HTTP/1.1" 200 6 "-" "tapir-test/20"$' "$ALOG"

# ---- Rename and SIGHUP: a fresh file ----------------------------------------
mv "$ALOG" "$ALOG.1"
lines_before=$(wc -l <"$ALOG.1")
log_lines=$(tl_log_lines)
kill -HUP "$pid"
reloaded() { tail -n +"$((log_lines + 1))" "$TL_LOG" | grep -q 'reload complete'; }
check "SIGHUP: tapird reloads" "@$TL_LOG" tl_wait 100 reloaded
check "after SIGHUP the module opened a fresh access log" "no $ALOG" \
	tl_wait 50 test -f "$ALOG"
in_ns timeout 10 curl -s -o /dev/null -A "after-rotate" "http://$TAPIR_ADDR/a.txt"
check "new lines go to the fresh file" "@$ALOG" tl_wait 50 grep -q '"after-rotate"$' "$ALOG"
check "the renamed file got nothing more" "$(tail -n 3 "$ALOG.1")" \
	sh -c "[ \$(wc -l <'$ALOG.1') = $lines_before ] && ! grep -q after-rotate '$ALOG.1'"
check "tapird kept its pid across the reload" "tapird exited" lab_tapird_running

# ---- contrib/tapir.logrotate, as shipped but for two paths -----------------
# The log's path and tapirctl's are the test's; tapirctl finds the control
# socket through TAPIR_CONTROL_SOCKET.  The SIGHUP fallback would reach
# every tapird on the machine: here it is "false", so only tapirctl can
# make the reload the test looks for.
sed -e "s|/var/log/tapir/access.log|$ALOG|" -e "s|/usr/sbin/tapirctl|$TAPIRCTL|" \
	-e "s|pkill -HUP -x tapird|false|" \
	"$ROOT_DIR/contrib/tapir.logrotate" >"$TL_TMP/logrotate.conf"
check "the test's copy of contrib/tapir.logrotate has its paths and no pkill" \
	"@$TL_TMP/logrotate.conf" sh -c "grep -qF '$ALOG {' '$TL_TMP/logrotate.conf' &&
	       grep -qF '$TAPIRCTL reload' '$TL_TMP/logrotate.conf' &&
	       ! grep -q pkill '$TL_TMP/logrotate.conf'"
rm -f "$ALOG.1"
lines_before=$(wc -l <"$ALOG")
log_lines=$(tl_log_lines)
TAPIR_CONTROL_SOCKET=$SOCK logrotate -f -s "$TL_TMP/logrotate.state" \
	"$TL_TMP/logrotate.conf" >"$TL_TMP/logrotate.out" 2>&1
rc=$?
check "logrotate -f with contrib/tapir.logrotate: exit 0" \
	"exit $rc: $(cat "$TL_TMP/logrotate.out")" test "$rc" = 0
check "logrotate moved the log to access.log.1 (delaycompress)" "$(ls "$TL_TMP")" \
	sh -c "[ \$(wc -l <'$ALOG.1') = $lines_before ]"
check "its postrotate (tapirctl reload) reloaded tapird" "@$TL_LOG" tl_wait 100 reloaded
in_ns timeout 10 curl -s -o /dev/null -A "after-logrotate" "http://$TAPIR_ADDR/a.txt"
check "after logrotate new lines go to a fresh access.log" "$(ls -l "$TL_TMP")" \
	tl_wait 50 sh -c "grep -q '\"after-logrotate\"\$' '$ALOG' && ! grep -q after-logrotate '$ALOG.1'"

errs=$(tl_error_lines)
check "no errors in tapird's log" "$errs" test -z "$errs"
tl_done
