#!/bin/bash
# kill -9 at random moments: 20 rounds, each with 8 HTTP downloads running,
# 64 DHCP clients getting, renewing and releasing leases at random
# (dhcp_tool.py churn, as a relay) and perfdhcp -6 asking for DHCPv6
# leases, tapird is killed with SIGKILL a random 0.3-2.5 s into the round.
# After each kill tapird starts again cleanly (no error line, ready, the
# killed one's status was that of SIGKILL) and serves again (a whole
# download, byte-identical), and every lease a client was acknowledged
# before the kill (and did not release) is still there: listed by
# tapirctl leases and acknowledged with the same address when its client
# asks again; no renewal of one is ever refused.  Every DHCPv6 lease a
# Reply gave is in the DHCPv6 journal, and a sample renews the same.
# Last, SIGTERM stops it with 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

for c in curl perfdhcp python3 sha256sum; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
ROUNDS=${TL_KILL_ROUNDS:-20}
tool() { in_ns python3 "$TL_DIR/dhcp_tool.py" "$@"; }
tool6() { in_ns python3 "$TL_DIR/dhcp6_tool.py" "$@"; }
LEASES=$TL_TMP/dhcp.leases
LEASES6=$TL_TMP/dhcp6.leases
WWW=$TL_TMP/www
mkdir -p "$WWW"
SIZE=$((2 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$WWW/big.bin"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)

cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/16";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/16";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
  acd = false;
};
modules = (
  { name = "http"; port = 80; root = "$WWW"; },
  { name = "dhcp"; pool = [ "10.0.1.0-10.0.3.255" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ]; lease_file = "$LEASES"; },
  { name = "dhcp6"; pool = [ "fd00::1:0-fd00::1:ffff" ];
    dns = [ "fd00::2" ]; lease_file = "$LEASES6"; }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF

ll_ready() {
	in_ns ip -6 -o addr show dev "$TAP" scope link | grep -q inet6 &&
		! in_ns ip -6 -o addr show dev "$TAP" scope link | grep -q tentative
}
# start ROUND: start tapird with a log of the round's own.
start() {
	TL_LOG=$TL_TMP/tapird.$1.log
	tl_start_with "$TL_TMP/tapir.conf"
	tl_wait 100 ll_ready
}
# served: a whole download, byte-identical.
served() {
	local got
	got=$(in_ns timeout 30 curl -s "http://$TAPIR_ADDR/big.bin" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ]
}

RECORDS=$TL_TMP/churn.rec
: >"$RECORDS"
: >"$TL_TMP/acks6"
start 0
bad_start=0 bad_status=0 bad_serve=0 bad_leases=0 bad_leases6=0
for ((round = 1; round <= ROUNDS; round++)); do
	# Downloads that the kill cuts short (their result is not judged).
	# Downloads paced to last 4 s, cut short by the kill (their result
	# is not judged: the kill ends them).
	in_ns timeout 20 python3 "$TL_DIR/load_tool.py" http "$TAPIR_ADDR" 80 \
		/big.bin 8 4 "$want" >"$TL_TMP/http.$round.out" 2>&1 &
	hpid=$!
	tool6 sniff "$TAP" "$TL_TMP/acks6.$round" 6 &
	s6pid=$!
	in_ns timeout 20 perfdhcp -6 -l "$TAP" -r 100 -R 5000 -p 4 \
		>"$TL_TMP/perfdhcp.$round.out" 2>&1 &
	p6pid=$!
	tool churn "$TAPIR_ADDR" "$HOST_ADDR" 64 3.5 "$RECORDS" "$round" \
		>"$TL_TMP/churn.$round.out" 2>&1 &
	cpid=$!
	# The clients are running before the random delay starts.
	tl_wait 100 sh -c "[ -e '$TL_TMP/acks6.$round' ] && grep -q bound '$TL_TMP/churn.$round.out'" ||
		diag "round $round: the clients did not start in 10 s"
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + 2.2 * r / 32767 }')"
	kill -KILL "$LAB_TAPIRD_PID"
	wait "$LAB_TAPIRD_PID" 2>/dev/null
	st=$?
	LAB_TAPIRD_PID=
	# The downloads it cut short would wait for their TCP timeouts.
	kill "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	if [ "$st" -ne 137 ]; then
		bad_status=$((bad_status + 1))
		diag "round $round: the killed tapird's status was $st, not 137"
	fi
	# The clients see tapird gone for a moment, then stop (each writes
	# down an outcome as soon as it knows it).
	sleep 0.5
	kill "$cpid" "$p6pid" "$s6pid" 2>/dev/null
	wait "$cpid" "$p6pid" "$s6pid" 2>/dev/null
	cat "$TL_TMP/acks6.$round" >>"$TL_TMP/acks6"
	start "$round"
	errs=$(tl_error_lines)
	if [ -n "$errs" ]; then
		bad_start=$((bad_start + 1))
		diag "round $round: error lines at start:" "$errs"
	fi
	if ! served; then
		bad_serve=$((bad_serve + 1))
		diag "round $round: the download after the restart differs"
	fi
	"$TAPIRCTL" -s "$TL_TMP/ctl.sock" --json leases >"$TL_TMP/leases.json" 2>&1
	if ! tool expect "$RECORDS" "$TL_TMP/leases.json" "$TAPIR_ADDR" "$HOST_ADDR" \
		>"$TL_TMP/expect.$round" 2>&1; then
		bad_leases=$((bad_leases + 1))
		diag "round $round: $(cat "$TL_TMP/expect.$round")"
	fi
	if [ -s "$TL_TMP/acks6" ] &&
		! python3 "$TL_DIR/dhcp6_tool.py" verify "$LEASES6" "$TL_TMP/acks6" \
			>"$TL_TMP/verify6.$round" 2>&1; then
		bad_leases6=$((bad_leases6 + 1))
		diag "round $round: $(cat "$TL_TMP/verify6.$round")"
	fi
done
nack=$(grep -c '^ACK ' "$RECORDS")
nrel=$(grep -c '^REL ' "$RECORDS")
n6=$(sort -u "$TL_TMP/acks6" | wc -l)
busy() {
	[ "$nack" -gt $((ROUNDS * 20)) ] && [ "$nrel" -gt "$ROUNDS" ] &&
		[ "$n6" -gt $((ROUNDS * 20)) ]
}
diag "$ROUNDS rounds: $nack DHCP ACKs, $nrel releases, $n6 DHCPv6 leases given"
check "the clients were busy: over $((ROUNDS * 20)) DHCP ACKs, $ROUNDS releases, $((ROUNDS * 20)) DHCPv6 leases" \
	"$nack ACKs, $nrel releases, $n6 DHCPv6 leases" \
	busy
check "each of the $ROUNDS kills left status 137 (SIGKILL)" "" [ "$bad_status" -eq 0 ]
check "each restart was clean: ready, no error line" "" [ "$bad_start" -eq 0 ]
check "after each restart a whole download is byte-identical" "" [ "$bad_serve" -eq 0 ]
check "after each restart every DHCP lease acknowledged and not released is listed and ACKed the same" \
	"$(tail -n 3 "$TL_TMP/expect.$ROUNDS")" [ "$bad_leases" -eq 0 ]
check "after each restart every DHCPv6 lease a Reply gave is in the journal" \
	"$(tail -n 3 "$TL_TMP/verify6.$ROUNDS" 2>&1)" [ "$bad_leases6" -eq 0 ]
# After the last restart, a sample of the DHCPv6 leases renews to the
# same address.
sid=$(tr -d ':\n' <"$LEASES6.duid")
bad6=0
while read -r a duid iaid; do
	r=$(tool6 renew "$TAP" "$sid" "$a" "$duid" "$iaid")
	case $r in "REPLY $a "*) ;; *) bad6=$((bad6 + 1)); diag "$a: $r" ;; esac
done < <(python3 "$TL_DIR/dhcp6_tool.py" pick "$TL_TMP/acks6" 10)
check "after the last restart 10 of the DHCPv6 leases renew to the same address" \
	"$bad6 renewals differ" [ "$bad6" -eq 0 ]
check "the journals had no torn or malformed record to skip" \
	"$(grep -h 'malformed\|torn' "$TL_TMP"/tapird.*.log | head -n 5)" \
	sh -c "! grep -q ' [1-9][0-9]* malformed\|torn records ignored' '$TL_TMP'/tapird.*.log"
lab_stop_tapird TERM
check "SIGTERM stops the last one with status 0" "status $LAB_TAPIRD_STATUS" \
	[ "$LAB_TAPIRD_STATUS" = 0 ]
tl_done
