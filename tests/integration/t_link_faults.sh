#!/bin/bash
# Link faults.  The kernel side taken down and up again: tapird keeps
# running without a log line per frame, ping, DNS and HTTP answer again
# after the link is back (IPv6 too, with keep_addr_on_down), an idle TCP
# connection (to the echo module) still echoes, and a download in progress
# completes byte-identical.  The TAP deleted under tapird (ip link del):
# tapird notices at once, logs one line naming the cause and the fix,
# exits with status 1 (a status systemd's Restart=on-failure restarts on)
# without spinning meanwhile, and a new tapird creates the TAP again.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init
command -v dig >/dev/null || bail "dig is installed" "apt-get install dnsutils (scripts/deps)"
command -v curl >/dev/null || bail "curl is installed" "apt-get install curl (scripts/deps)"
command -v socat >/dev/null || bail "socat is installed" "apt-get install socat (scripts/deps)"

TAPIR_ADDR6=fd00::2
HOST_ADDR6=fd00::1
WWW=$TL_TMP/www
mkdir -p "$WWW"
printf 'link faults\n' >"$WWW/index.html"
head -c 16M /dev/urandom >"$WWW/big.bin"
cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  address6 = [ "$TAPIR_ADDR6/64" ];
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  host_address6 = "$HOST_ADDR6/64";
  acd = false;
};
modules = (
  { name = "echo"; tcp_port = 7; },
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A 10.0.0.2",
                            "www A 10.0.0.2" ]; } ); },
  { name = "http"; port = 80; root = "$WWW"; }
);
EOF
tl_start_with "$TL_TMP/tapir.conf"
pid=$LAB_TAPIRD_PID

out=$TL_TMP/client.out
ping_ok() {
	in_ns timeout 5 ping -n -q -c 1 -W 1 "$TAPIR_ADDR" >"$out" 2>&1 &&
		grep -q ' 1 received' "$out"
}
ping6_ok() {
	in_ns timeout 5 ping -6 -n -q -c 1 -W 1 "$TAPIR_ADDR6" >"$out" 2>&1 &&
		grep -q ' 1 received' "$out"
}
dig_ok() {
	in_ns timeout 5 dig +time=1 +tries=1 +short @"$TAPIR_ADDR" www.lab.test A \
		>"$out" 2>&1 && [ "$(cat "$out")" = 10.0.0.2 ]
}
curl_ok() {
	in_ns timeout 5 curl -sS --max-time 3 "http://$TAPIR_ADDR/" >"$out" 2>&1 &&
		[ "$(cat "$out")" = "link faults" ]
}
check "before the flap: ping answered" "@$out" ping_ok
# tapird's own IPv6 address answers once its duplicate detection is over.
check "before the flap: ping -6 answered" "@$out" tl_wait 50 ping6_ok
check "before the flap: dig answered" "@$out" dig_ok
check "before the flap: curl answered" "@$out" curl_ok

# An established connection to the echo module, kept idle over the flap.
coproc ECHO { in_ns timeout 60 socat -t 5 - "TCP:$TAPIR_ADDR:7" 2>"$TL_TMP/socat.err"; }
lab_on_exit "kill $ECHO_PID 2>/dev/null"
echo_line() {
	local got=
	printf '%s\n' "$1" >&"${ECHO[1]}" || return 1
	IFS= read -r -t 5 got <&"${ECHO[0]}" || return 1
	[ "$got" = "$1" ]
}
check "a TCP connection to the echo module echoes" \
	"$(cat "$TL_TMP/socat.err" 2>&1)" echo_line before-the-flap

stat_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null
}

# A download in progress over the flap (curl reads at 4 MB/s): tapird
# keeps sending (retransmissions, window probes) while the link is down.
in_ns timeout 60 curl -sS --max-time 50 --limit-rate 4M -o "$TL_TMP/big.got" \
	"http://$TAPIR_ADDR/big.bin" >"$TL_TMP/curl.out" 2>&1 &
curl_pid=$!
lab_on_exit "kill $curl_pid 2>/dev/null"
sleep 1

# Down for two seconds: frames tapird sends meanwhile cannot be written
# (the kernel refuses them), which must not make a log line each.  The
# kernel would drop host_address6 on the way down without
# keep_addr_on_down (tapird(8), CAVEATS).
in_ns sysctl -qw "net.ipv6.conf.$TAP.keep_addr_on_down=1" ||
	bail "net.ipv6.conf.$TAP.keep_addr_on_down set"
lines=$(tl_log_lines)
t0=$(stat_ticks "$pid")
in_ns ip link set "$TAP" down || bail "ip link set $TAP down"
in_ns timeout 5 ping -n -q -c 3 -i 0.3 -W 1 "$TAPIR_ADDR" >/dev/null 2>&1
sleep 1
t1=$(stat_ticks "$pid")
check "link down: tapird still running" "tapird exited" lab_tapird_running
in_ns ip link set "$TAP" up || bail "ip link set $TAP up"
new=$(tail -n +"$((lines + 1))" "$TL_LOG")
check "link down: at most one log line (got $(printf '%s' "$new" | grep -c .))" \
	"$new" test "$(printf '%s' "$new" | grep -c .)" -le 1
check "link down: tapird used little CPU (${t0:-?} -> ${t1:-?} ticks)" \
	"utime+stime ${t0:-?} -> ${t1:-?}" test "$((${t1:-9999} - ${t0:-0}))" -le 20

check "after the flap: ping answered again within 5 s" "@$out" tl_wait 50 ping_ok
check "after the flap: ping -6 answered (host_address6 kept: keep_addr_on_down)" \
	"@$out" tl_wait 50 ping6_ok
check "after the flap: dig answered" "@$out" dig_ok
check "after the flap: curl answered" "@$out" curl_ok
check "after the flap: the idle TCP connection still echoes" \
	"$(cat "$TL_TMP/socat.err" 2>&1)" echo_line after-the-flap
wait "$curl_pid"
curl_status=$?
check "the download in progress over the flap completes (curl status $curl_status)" \
	"@$TL_TMP/curl.out" test "$curl_status" = 0
check "the download in progress over the flap is byte-identical" \
	"$(ls -l "$WWW/big.bin" "$TL_TMP/big.got" 2>&1)" cmp -s "$WWW/big.bin" "$TL_TMP/big.got"
# The writes refused while down were counted, not logged.
lines=$(tl_log_lines)
kill -USR1 "$pid"
tl_wait 30 grep -q 'counter link_tx_dropped reason=write_failed' "$TL_LOG"
dropped=$(tail -n +"$((lines + 1))" "$TL_LOG" |
	sed -n 's/.*counter link_tx_dropped reason=write_failed \([0-9]*\).*/\1/p')
check "link down: tapird's writes were refused and counted (link_tx_dropped write_failed ${dropped:-none})" \
	"$(tail -n +"$((lines + 1))" "$TL_LOG" | grep link_)" test "${dropped:-0}" -gt 0
check "tapird still running after the flap" "tapird exited" lab_tapird_running

# Deleted: tapird exits by itself.  The CPU it used is sampled until it
# is gone (the last sample is the one before its exit).
lines=$(tl_log_lines)
t0=$(stat_ticks "$pid")
t1=$t0
in_ns ip link del "$TAP" || bail "ip link del $TAP"
start=$SECONDS
for ((i = 0; i < 60; i++)); do
	lab_tapird_running || break
	t=$(stat_ticks "$pid")
	[ -n "$t" ] && t1=$t
	sleep 0.05
done
if lab_tapird_running; then
	not_ok "ip link del: tapird exits within 3 s" "still running after $((SECONDS - start)) s"
	lab_stop_tapird KILL
	status=$LAB_TAPIRD_STATUS
else
	ok "ip link del: tapird exits within 3 s"
	wait "$pid" 2>/dev/null
	status=$?
	LAB_TAPIRD_PID=
fi
check "ip link del: exit status 1 (restarted by Restart=on-failure)" \
	"exit status $status" test "$status" = 1
check "ip link del: tapird used little CPU before it exited (${t0:-?} -> ${t1:-?} ticks)" \
	"utime+stime ${t0:-?} -> ${t1:-?}" test "$((${t1:-9999} - ${t0:-0}))" -le 20
new=$(tail -n +"$((lines + 1))" "$TL_LOG")
gone=$(printf '%s\n' "$new" | grep -c "^<3>TAP $TAP is gone .*ip link del.*restart")
check "ip link del: exactly one error line says the TAP is gone and what to do" \
	"$new" test "$gone" = 1
werr=$(printf '%s\n' "$new" | grep -E '^<[0-4]>' | grep -v "^<3>TAP $TAP is gone")
check "ip link del: no other warning or error line" "$werr" test -z "$werr"

# What a restart would do: a new tapird makes the TAP again and serves.
tl_start_with "$TL_TMP/tapir.conf"
check "a new tapird creates $TAP again and answers ping" "@$out" tl_wait 30 ping_ok
LAB_STOP_TIMEOUT=5 lab_stop_tapird TERM
check "the new tapird stops with status 0" "exit status $LAB_TAPIRD_STATUS" \
	test "$LAB_TAPIRD_STATUS" = 0
tl_done
