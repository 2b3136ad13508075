#!/bin/bash
# Broadcasts: tapird answers no echo request sent to the subnet broadcast and
# sends no ICMP error about a broadcast datagram (RFC 1122 3.2.2, 3.2.2.6).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start

cap=$TL_TMP/cap.txt
tcpdump_start "$cap" "icmp or udp port 4242" || bail "tcpdump listens on $TAP" "$(cat "$cap.err")"

out=$TL_TMP/ping-b.out
# ping -b answers "WARNING: pinging broadcast address"; -w bounds it.
in_ns timeout 20 ping -n -b -c 3 -i 0.3 -w 3 10.0.0.255 >"$out" 2>&1
printf 'x' >"$TL_TMP/x"
in_ns timeout 10 socat -u FILE:"$TL_TMP/x" UDP-DATAGRAM:10.0.0.255:4242,broadcast \
	>/dev/null 2>"$TL_TMP/socat.err"
sleep 1
tcpdump_stop

requests=$(grep -c "$HOST_ADDR > 10.0.0.255: ICMP echo request" "$cap")
check "ping -b 10.0.0.255: requests went out on $TAP (saw $requests)" \
	"$(cat "$out" "$cap")" test "$requests" -ge 3
check "ping -b printed its broadcast warning" "$(cat "$out")" \
	grep -q 'WARNING: pinging broadcast address' "$out"
check "ping -b 10.0.0.255: no reply from $TAPIR_ADDR in ping's output" \
	"$(grep "from $TAPIR_ADDR" "$out")" \
	absent "from $TAPIR_ADDR" "$out"
check "ping -b 10.0.0.255: no echo reply from $TAPIR_ADDR on the wire" \
	"$(grep "$TAPIR_ADDR > " "$cap")" \
	absent "$TAPIR_ADDR > $HOST_ADDR: ICMP echo reply" "$cap"
check "UDP to 10.0.0.255:4242 went out on $TAP" "$(cat "$TL_TMP/socat.err" "$cap")" \
	grep -q "$HOST_ADDR\.[0-9]* > 10\.0\.0\.255\.4242: UDP" "$cap"
check "no ICMP error from $TAPIR_ADDR about a broadcast datagram" \
	"$(grep -A1 "$TAPIR_ADDR > " "$cap")" \
	absent "$TAPIR_ADDR > $HOST_ADDR: ICMP .*unreachable" "$cap"

# The stack still answers unicast afterwards.
in_ns timeout 10 ping -n -c 2 -i 0.2 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "unicast ping still answered after the broadcasts" "$(tail -n 3 "$out")" \
	grep -q ' 2 received' "$out"
check "tapird still running" "tapird exited" lab_tapird_running
tl_done
