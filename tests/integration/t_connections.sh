#!/bin/bash
# Inspecting a running tapird with real clients in the lab namespace:
# `tapirctl connections` lists two rate-limited curl downloads (module http)
# and socat connections to echo over IPv4 and IPv6 (link-local) with their
# state, addresses, ports and module; the
# --state and --port filters narrow the list; --json is one document with
# the documented fields, and its bytes agree with what the kernel's sockets
# on the other end say (ss -ti); `tapirctl stats --interval` prints counter
# rates; the http module's status page (the status path with .html) shows
# the interface, leases (a host name with markup, from the lease file,
# escaped) and connections, is refused outside status_allow, and renders in
# headless Chromium.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

for c in curl socat ss python3 chromium; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
SOCK=$TL_TMP/ctl.sock
export TAPIR_CONTROL_SOCKET=$SOCK
WWW=$TL_TMP/www
LEASES=$TL_TMP/dhcp.leases
EVIL='<script>alert(1)</script>'
out=$TL_TMP/out
mkdir -p "$WWW"
head -c 8M /dev/urandom >"$WWW/big.bin"

# A lease whose host name carries markup, as a client could have left it
# in the lease file (kind addr expiry mac client-id host crc32).
python3 - "$LEASES" "$EVIL" <<'PY'
import sys, time, zlib
rec = "L 10.0.0.150 %d 02:00:00:00:07:77 0102000000000777 %s" % (
    int(time.time()) + 3600, sys.argv[2])
with open(sys.argv[1], "w") as f:
    f.write("%s %08x\n" % (rec, zlib.crc32(rec.encode())))
PY

cat >"$TL_TMP/tapir.conf" <<EOF
$(tl_iface_conf)
modules = (
  { name = "http"; port = 80; root = "$WWW";
    access_log = "off";
    status_allow = [ "$HOST_ADDR/32" ]; },
  { name = "echo"; },
  { name = "dhcp"; pool = [ "10.0.0.100-10.0.0.199" ]; lease_time = 3600;
    lease_file = "$LEASES"; }
);
control = { socket = "$SOCK"; };
EOF
tl_start_with "$TL_TMP/tapir.conf"

# ---- Held connections -------------------------------------------------------
# Two downloads at 64 kB/s (8 MiB: far from done in this test), and a socat
# to echo that holds its connection while sleep(1) runs.
for i in 1 2; do
	in_ns timeout 90 curl -s --limit-rate 64k -o /dev/null \
		"http://$TAPIR_ADDR/big.bin" &
	lab_on_exit "kill $! 2>/dev/null"
done
in_ns timeout 90 socat -u SYSTEM:"echo hold; sleep 80" \
	"TCP:$TAPIR_ADDR:7" >/dev/null 2>&1 &
lab_on_exit "kill $! 2>/dev/null"

# And one to echo over IPv6, to tapird's link-local address once it is
# preferred (Duplicate Address Detection passed).
ll6() {
	"$TAPIRCTL" --json status 2>/dev/null | python3 -c '
import json, sys
print(" ".join(a["address"].split("/")[0]
               for a in json.load(sys.stdin)["interface"]["address6"]
               if a["address"].startswith("fe80:") and a["state"] == "preferred"))'
}
have_ll6() { [ -n "$(ll6)" ]; }
tl_wait 100 have_ll6 || bail "tapird has a preferred link-local address" \
	"$("$TAPIRCTL" status 2>&1)"
LL6=$(ll6)
in_ns timeout 90 socat -u SYSTEM:"echo hold6; sleep 80" \
	"TCP6:[$LL6%$TAP]:7" >/dev/null 2>&1 &
lab_on_exit "kill $! 2>/dev/null"

# established_n: connections tapird lists as established.
established_n() {
	"$TAPIRCTL" --json connections --state established 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["matched"])'
}
four_up() { [ "$(established_n)" = 4 ]; }
tl_wait 100 four_up || bail "four connections are established" \
	"$("$TAPIRCTL" connections 2>&1)"
# Let the downloads run a little, so the counters have something to say.
sleep 2

"$TAPIRCTL" connections >"$out" 2>&1
rc=$?
text_ok() {
	[ "$rc" = 0 ] &&
		head -n 1 "$out" | grep -q '^LOCAL  *REMOTE  *STATE  *SEND-Q  *RECV-Q  *MODULE$' &&
		[ "$(grep -c "^$TAPIR_ADDR:80  *$HOST_ADDR:[0-9]*  *established .* http$" "$out")" = 2 ] &&
		[ "$(grep -c "^$TAPIR_ADDR:7  *$HOST_ADDR:[0-9]*  *established .* echo$" "$out")" = 1 ] &&
		[ "$(grep -c "^\[$LL6\]:7  *\[fe80::[0-9a-f:]*\]:[0-9]*  *established .* echo$" "$out")" = 1 ] &&
		grep -qE '^	 cubic (slow_start|congestion_avoidance|recovery|loss) rtt:[0-9.]+/[0-9.]+ rto:[0-9]+ mss:[0-9]+ cwnd:[0-9]+ ssthresh:[-0-9]+ bytes_sent:[1-9][0-9]* ' "$out"
}
check "tapirctl connections: two http downloads and echo over IPv4 and IPv6, established, with ss -ti's figures" \
	"@$out" text_ok

"$TAPIRCTL" connections --port 7 >"$out" 2>&1
port_ok() {
	[ "$(tail -n +2 "$out" | grep -vc '^	')" = 2 ] &&
		grep -q "^$TAPIR_ADDR:7 .* echo$" "$out" &&
		grep -q "^\[$LL6\]:7 .* echo$" "$out"
}
check "--port 7: only the two echo connections" "@$out" port_ok
"$TAPIRCTL" --json connections --port 7 >"$out" 2>&1
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sorted((c["family"], c["local_address"], c["module"])
             for c in d["connections"]))' "$out" 2>&1)
check "--json --port 7: families 4 and 6, addresses apart from ports" "got: $got" \
	test "$got" = "[(4, '$TAPIR_ADDR', 'echo'), (6, '$LL6', 'echo')]"
# The remote port works too: the first download's, from the kernel side.
cport=$(in_ns ss -tnH state established "dport = :80" | awk '{ print $3 }' |
	sed 's/.*://' | head -n 1)
"$TAPIRCTL" connections --port "$cport" >"$out" 2>&1
check "--port $cport (a client's port): that one download" "@$out" \
	sh -c "[ \"\$(tail -n +2 '$out' | grep -vc '^	')\" = 1 ] && grep -q ':$cport .* http\$' '$out'"
"$TAPIRCTL" connections --state time-wait >"$out" 2>&1
check "--state time-wait: none of them" "@$out" \
	sh -c "[ \"\$(wc -l <'$out')\" = 1 ]"
"$TAPIRCTL" connections --state nonsense >"$out" 2>&1
rc=$?
check "--state nonsense: exit 1, the known states named" "exit $rc: $(cat "$out")" \
	sh -c "[ $rc = 1 ] && grep -q 'unknown state.*established' '$out'"
"$TAPIRCTL" connections --port 99999 >"$out" 2>&1
rc=$?
check "--port 99999: exit 1, a reason" "exit $rc: $(cat "$out")" \
	sh -c "[ $rc = 1 ] && grep -q 'bad port' '$out'"
"$TAPIRCTL" status --port 80 >"$out" 2>&1
rc=$?
check "--port with another command: exit 2" "exit $rc" test "$rc" = 2

# ---- JSON, against the kernel's view of the same connections ---------------
"$TAPIRCTL" --json connections --port 80 >"$TL_TMP/conns.json" 2>&1
in_ns ss -tinH state established "dport = :80" >"$TL_TMP/ss.txt" 2>&1
python3 -m json.tool "$TL_TMP/conns.json" >/dev/null 2>&1
check "connections --json passes python3 -m json.tool" \
	"@$TL_TMP/conns.json" test $? = 0
got=$(python3 - "$TL_TMP/conns.json" "$TL_TMP/ss.txt" <<'PY' 2>&1
import json, re, sys
d = json.load(open(sys.argv[1]))
fields = {"state", "family", "local_address", "local_port", "remote_address",
          "remote_port", "local", "remote", "module", "send_queue",
          "receive_queue", "rtt_ms", "rttvar_ms", "rto_ms", "mss", "cwnd",
          "ssthresh", "congestion_control", "cc_phase", "bytes_sent",
          "bytes_retrans", "bytes_acked", "bytes_received", "retrans_segs",
          "retrans_out", "lost", "sacked", "delivery_rate"}
bad = []
if d["matched"] != 2 or d["listed"] != 2 or d["truncated"] is not False:
    bad.append("counts %r" % {k: d[k] for k in ("matched", "listed", "truncated")})
# The kernel's sockets, by their local (the client's) port.
ss, port = {}, None
for line in open(sys.argv[2]):
    m = re.search(r"10\.0\.0\.1:(\d+)\s", line)
    if m:
        port = int(m.group(1))
        ss[port] = {}
    for k, v in re.findall(r"\b(bytes_\w+):(\d+)", line):
        if port is not None:
            ss[port][k] = int(v)
for c in d["connections"]:
    if set(c) != fields:
        bad.append("fields differ: %s" % sorted(set(c) ^ fields))
    if (c["module"], c["state"], c["local_port"], c["family"],
            c["congestion_control"]) != ("http", "established", 80, 4, "cubic"):
        bad.append("conn %r" % c)
    if c["cc_phase"] not in ("slow_start", "congestion_avoidance",
                             "recovery", "loss"):
        bad.append("phase %r" % c["cc_phase"])
    k = ss.get(c["remote_port"])
    if k is None:
        bad.append("no kernel socket for port %d in %r" % (c["remote_port"], ss))
        continue
    # What tapird had acknowledged (first) is at most what the kernel had
    # received (next), and not far behind: a few round trips at 64 kB/s.
    if not (0 < c["bytes_acked"] <= k.get("bytes_received", 0)
            <= c["bytes_acked"] + 512 * 1024):
        bad.append("bytes_acked %d vs kernel bytes_received %d"
                   % (c["bytes_acked"], k.get("bytes_received", 0)))
    # The request: every byte the kernel sent, tapird received.
    if c["bytes_received"] != k.get("bytes_sent", -1):
        bad.append("bytes_received %d vs kernel bytes_sent %d"
                   % (c["bytes_received"], k.get("bytes_sent", -1)))
    if c["bytes_sent"] < c["bytes_acked"] or c["rtt_ms"] <= 0:
        bad.append("sent %d acked %d rtt %r" % (c["bytes_sent"],
                                                 c["bytes_acked"], c["rtt_ms"]))
print("; ".join(bad) or "ok")
PY
)
check "connections --json: the documented fields; bytes agree with the client sockets (ss -ti)" \
	"$got; ss: $(cat "$TL_TMP/ss.txt")" test "$got" = ok

# ---- stats --interval ---------------------------------------------------------
# A steady rate to measure: ten pings a second (the downloads come in
# bursts, as the clients' windows open).
in_ns timeout 20 ping -q -i 0.1 -c 150 "$TAPIR_ADDR" >/dev/null 2>&1 &
ping_pid=$!
lab_on_exit "kill $ping_pid 2>/dev/null"
sleep 0.5
timeout 20 "$TAPIRCTL" stats --interval 1 --count 2 >"$out" 2>&1
rc=$?
rates_ok() {
	[ "$rc" = 0 ] &&
		[ "$(grep -c '  per second over [0-9.]* s$' "$out")" = 2 ] &&
		awk '$1 == "icmp4_echo_requests" && $2 >= 7 && $2 <= 13 { n++ }
			END { exit n != 2 }' "$out"
}
check "stats --interval 1 --count 2: two samples, about 10 echo requests a second" \
	"@$out" rates_ok
timeout 20 "$TAPIRCTL" --json stats --interval 0.5 --count 2 >"$out" 2>&1
rc=$?
got=$(python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
print(len(s), all(0.3 < x["interval_seconds"] < 1.5 and
                  5 <= x["rates"].get("icmp4_echo_requests", 0) <= 15
                  for x in s))' "$out" 2>&1)
check "--json stats --interval: one JSON object a sample, with rates" \
	"exit $rc, got: $got; $(head -c 600 "$out")" test "$rc $got" = "0 2 True"
timeout 20 "$TAPIRCTL" stats --count 2 >"$out" 2>&1
rc=$?
check "--count without --interval: exit 2" "exit $rc" test "$rc" = 2

# ---- The status page --------------------------------------------------------
code=$(in_ns timeout 20 curl -s -o "$TL_TMP/page.html" -D "$TL_TMP/head" \
	-w '%{http_code} %{content_type}' "http://$TAPIR_ADDR/status.html")
check "GET /status.html: 200, text/html" "got: $code" \
	test "$code" = "200 text/html; charset=utf-8"
check "the page forbids scripts and outside assets (Content-Security-Policy)" \
	"@$TL_TMP/head" grep -qi "^content-security-policy: default-src 'none'; style-src 'unsafe-inline'" "$TL_TMP/head"
page_ok() {
	grep -q "<h1>tapir $TAP</h1>" "$TL_TMP/page.html" &&
		grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$TL_TMP/page.html" &&
		! grep -qi '<script' "$TL_TMP/page.html" &&
		grep -q "<td>$TAPIR_ADDR:7</td><td>$HOST_ADDR:[0-9]*</td><td>established</td><td>echo</td>" "$TL_TMP/page.html"
}
check "the page: interface, the lease's host name escaped, the echo connection" \
	"@$TL_TMP/page.html" page_ok
code=$(in_ns timeout 20 curl -s -o /dev/null -w '%{http_code} %{content_type}' \
	"http://$TAPIR_ADDR/status")
check "GET /status is JSON as before" "got: $code" test "$code" = "200 application/json"
# From an address outside status_allow: refused.
OTHER=10.0.0.77
in_ns ip addr add "$OTHER/32" dev "$TAP"
code=$(in_ns timeout 20 curl -s -o "$out" -w '%{http_code}' --interface "$OTHER" \
	"http://$TAPIR_ADDR/status.html")
check "GET /status.html from $OTHER (outside status_allow): 403" "got: $code" \
	sh -c "[ '$code' = 403 ] && ! grep -q 'alert' '$out'"
in_ns ip addr del "$OTHER/32" dev "$TAP"

# ---- In a browser -----------------------------------------------------------
# Headless Chromium in the lab: only the page's address, no name lookups,
# no background requests.
in_ns timeout 60 chromium --headless --no-sandbox --disable-gpu \
	--disable-dev-shm-usage --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --disable-default-apps \
	--disable-extensions --disable-domain-reliability \
	--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE $TAPIR_ADDR" \
	--user-data-dir="$TL_TMP/chromium" --dump-dom \
	"http://$TAPIR_ADDR/status.html" >"$TL_TMP/dom.html" 2>"$TL_TMP/chromium.err"
rc=$?
dom_text=$(python3 - "$TL_TMP/dom.html" <<'PY' 2>&1
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
    def handle_data(self, d):
        self.text.append(d)
p = P()
p.feed(open(sys.argv[1]).read())
t = " ".join(" ".join(p.text).split())
print("SCRIPT" if "script" in p.tags else "", t)
PY
)
dom_ok() {
	[ "$rc" = 0 ] &&
		case $dom_text in
		SCRIPT*) false ;;
		*"tapir $TAP"*"$EVIL"*) true ;;
		*) false ;;
		esac &&
		printf '%s' "$dom_text" | grep -q "$TAPIR_ADDR:80 $HOST_ADDR:[0-9]* established http"
}
check "headless Chromium renders the page: interface, the host name as text (no script element), a download" \
	"exit $rc; text: ${dom_text:0:1500}; $(tail -n 5 "$TL_TMP/chromium.err")" dom_ok

errs=$(tl_error_lines)
check "no errors in tapird's log" "$errs" test -z "$errs"
tl_done
