#!/bin/bash
# tapirctl and the control socket: every verb answers, as a table and as
# JSON (python3 -m json.tool must accept it); metrics parse as Prometheus
# text exposition format (python3-prometheus-client's parser); a client
# that sends its request slowly is closed 10 s after it connected; a reload
# of a broken configuration prints FILE:LINE and exits 1 while the old one
# keeps serving; a good reload exits 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
SOCK=$TL_TMP/ctl.sock
tl_write_conf "$TL_TMP/tapir.conf"
printf 'control = { socket = "%s"; };\n' "$SOCK" >>"$TL_TMP/tapir.conf"
tl_start_with "$TL_TMP/tapir.conf"
export TAPIR_CONTROL_SOCKET=$SOCK
out=$TL_TMP/out
rc_and() { # WANT CMD...: $rc is WANT and CMD succeeds
	local want=$1
	shift
	[ "$rc" = "$want" ] && "$@"
}

mode=$(stat -c %a "$SOCK" 2>&1)
check "control socket exists with mode 0660" "mode: $mode" test "$mode" = 660

# Something to report: a neighbour (ping) and an open connection.
in_ns ping -c 2 -i 0.2 "$TAPIR_ADDR" >/dev/null 2>&1
coproc NC { in_ns timeout 30 nc "$TAPIR_ADDR" 7; }
# shellcheck disable=SC2153 # set by coproc
nc_pid=$NC_PID
printf 'hold\n' >&"${NC[1]}"
read -r -t 5 line <&"${NC[0]}"
check "an echo connection is open for the report" "read: ${line-}" test "${line-}" = hold

"$TAPIRCTL" status >"$out" 2>&1
rc=$?
status_ok() {
	[ "$rc" = 0 ] && grep -q "^interface *$TAP  $TAPIR_ADDR/24" "$out" &&
		grep -q "^modules *echo" "$out"
}
check "tapirctl status: exit 0, names the interface and module" "@$out" status_ok
# One version everywhere: tapird -V, tapirctl -V, the status (text and
# JSON) and the log's start line.
ver=$("$TAPIRD" -V | sed -n 's/^tapird \([^ ]*\) (module ABI [0-9]*)$/\1/p')
check "tapird -V: 'tapird VERSION (module ABI N)', a real version" \
	"got: $("$TAPIRD" -V)" sh -c "[ -n '$ver' ] && [ '$ver' != unknown ]"
check "tapirctl status says the version tapird -V prints ($ver)" "@$out" \
	grep -qx "version *$ver" "$out"
got=$("$TAPIRCTL" -V)
check "tapirctl -V says it too" "got: $got" test "$got" = "tapirctl $ver"
got=$("$TAPIRCTL" --json status | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])' 2>&1)
check "tapirctl --json status says it too" "got: $got" test "$got" = "$ver"
check "the log's start line says it too" "@$TL_LOG" \
	grep -q "version $ver (module ABI [0-9]*) starting" "$TL_LOG"
"$TAPIRCTL" stats >"$out" 2>&1
stats_ok() {
	grep -q "^icmp4_echo_requests  *2$" "$out" &&
		grep -q "^tcp_passive_opens  *1$" "$out"
}
check "tapirctl stats: counts ICMP echo requests and passive opens" "@$out" stats_ok
"$TAPIRCTL" arp >"$out" 2>&1
check "tapirctl arp: the kernel side's address, reachable" "@$out" \
	grep -q "^$HOST_ADDR .* reachable" "$out"
"$TAPIRCTL" connections >"$out" 2>&1
check "tapirctl connections: the open echo connection, established" "@$out" \
	grep -q "^$TAPIR_ADDR:7 *$HOST_ADDR:[0-9]* *established" "$out"
"$TAPIRCTL" leases >"$out" 2>&1
rc=$?
leases_ok() {
	[ "$rc" = 0 ] && head -n 1 "$out" | grep -q "^ADDRESS *MAC *HOSTNAME *EXPIRES"
}
check "tapirctl leases: exit 0 with the table header" "@$out" leases_ok

for v in status stats arp connections leases; do
	"$TAPIRCTL" --json "$v" >"$out" 2>&1
	rc=$?
	check "tapirctl --json $v: exit 0, valid JSON" "exit $rc: $(head -c 500 "$out")" \
		rc_and 0 python3 -m json.tool "$out"
done
"$TAPIRCTL" --json status >"$out"
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["interface"]["name"], d["tcp"]["by_state"]["established"],
      d["counters"]["icmp4"]["echo_requests"], d["arp"][0]["address"],
      d["modules"][0]["name"])' "$out" 2>&1)
check "tapirctl --json status carries interface, TCP, counters, ARP, modules" \
	"got: $got" test "$got" = "$TAP 1 2 $HOST_ADDR echo"

"$TAPIRCTL" metrics >"$out" 2>&1
got=$(/usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
s = {x.name + str(sorted(x.labels.items())): x.value
     for f in fams.values() for x in f.samples}
print(fams["tapir_tcp_passive_opens"].type, int(s["tapir_tcp_passive_opens_total[]"]),
      int(s["tapir_tcp_connections[(\x27state\x27, \x27established\x27)]"]))' "$out" 2>&1)
check "tapirctl metrics parses as Prometheus text (counter, values)" \
	"got: $got" test "$got" = "counter 1 1"

kill "$nc_pid" 2>/dev/null
wait "$nc_pid" 2>/dev/null

# A client that drips its request a byte a second is closed when its 10 s
# from accept are up, not kept open by each byte.
got=$(python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(1)
t0 = time.monotonic()
while time.monotonic() - t0 < 20:
    try:
        s.send(b"s")
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
print(round(time.monotonic() - t0))' "$SOCK" 2>&1)
check "a control client dripping its request is closed after 10 s" \
	"closed after: $got s" sh -c "[ '$got' -ge 9 ] && [ '$got' -le 12 ]"

# A broken configuration: FILE:LINE, exit 1, the old one keeps serving.
cp "$TL_TMP/tapir.conf" "$TL_TMP/good.conf"
printf 'stack = { ttl = 999; };\n' >>"$TL_TMP/tapir.conf"
n=$(wc -l <"$TL_TMP/tapir.conf")
"$TAPIRCTL" reload >"$out" 2>&1
rc=$?
check "tapirctl reload of a broken file: exit 1 and '$TL_TMP/tapir.conf:$n:'" \
	"exit $rc: $(cat "$out")" rc_and 1 grep -qF "$TL_TMP/tapir.conf:$n:" "$out"
check "after the failed reload: ping still answered" "no answer" \
	in_ns ping -c 1 -W 2 "$TAPIR_ADDR"
cp "$TL_TMP/good.conf" "$TL_TMP/tapir.conf"
"$TAPIRCTL" reload >"$out" 2>&1
rc=$?
check "tapirctl reload of a good file: exit 0, 'reload complete'" \
	"exit $rc: $(cat "$out")" rc_and 0 grep -q "^reload complete" "$out"

"$TAPIRCTL" frobnicate >"$out" 2>&1
rc=$?
check "tapirctl with an unknown command: exit 2" "exit $rc: $(cat "$out")" test "$rc" = 2
"$TAPIRCTL" -s "$TL_TMP/none.sock" status >"$out" 2>&1
rc=$?
check "tapirctl without a tapird: exit 2, says it cannot reach it" \
	"exit $rc: $(cat "$out")" rc_and 2 grep -q "cannot reach tapird" "$out"

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines | grep -v "stack.ttl: 999\|reload failed with 1 error")
check "tapird logged no error-level line but the bad file's" "$errs" test -z "$errs"
lab_stop_tapird
check "the control socket is removed at exit" "still there" test ! -e "$SOCK"
tl_done
