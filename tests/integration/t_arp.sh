#!/bin/bash
# ARP: tapird answers for its address with its MAC, only for its address, and
# the kernel's neighbour entry for it becomes REACHABLE.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start

out=$TL_TMP/arping.out
in_ns timeout 20 arping -c 3 -w 6 -I "$TAP" "$TAPIR_ADDR" >"$out" 2>&1
rc=$?
n=$(grep -ci "reply from $TAPIR_ADDR \[$TAPIR_MAC\]" "$out")
if [ "$rc" -eq 0 ] && [ "$n" -eq 3 ] && grep -q 'Received 3 response' "$out"; then
	ok "arping -c 3 -I $TAP $TAPIR_ADDR: 3 replies from $TAPIR_MAC"
else
	not_ok "arping -c 3 -I $TAP $TAPIR_ADDR: 3 replies from $TAPIR_MAC" \
		"arping exit $rc, $n replies from $TAPIR_MAC" "$(cat "$out")"
fi

# Nobody else is on this link: an address tapird does not own gets no reply.
in_ns timeout 20 arping -c 2 -w 3 -I "$TAP" 10.0.0.3 >"$out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'Received 0 response' "$out"; then
	ok "arping 10.0.0.3 (not ours): no reply"
else
	not_ok "arping 10.0.0.3 (not ours): no reply" "arping exit $rc" "$(cat "$out")"
fi

# A fresh resolution by the kernel: flush, ping, the entry is REACHABLE.
in_ns ip neigh flush dev "$TAP" >/dev/null 2>&1
in_ns timeout 10 ping -n -c 1 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
neigh=$(in_ns ip neigh show "$TAPIR_ADDR" dev "$TAP")
if grep -q ' 1 received' "$out" && [[ $neigh == *"lladdr $TAPIR_MAC"*REACHABLE* ]]; then
	ok "after a ping, ip neigh shows $TAPIR_ADDR lladdr $TAPIR_MAC REACHABLE"
else
	not_ok "after a ping, ip neigh shows $TAPIR_ADDR lladdr $TAPIR_MAC REACHABLE" \
		"ip neigh: '$neigh'" "$(tail -n 3 "$out")"
fi

check "tapird still running" "tapird exited" lab_tapird_running
tl_done
