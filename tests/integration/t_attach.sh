#!/bin/bash
# A persistent TAP made beforehand with `ip tuntap add` is attached to, not
# replaced; it works, and it is left in place when tapird exits.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
in_ns ip tuntap add dev "$TAP" mode tap || bail "ip tuntap add dev $TAP mode tap"
ifindex=$(in_ns cat "/sys/class/net/$TAP/ifindex")
tl_start

check "tapird attached to the existing $TAP (same ifindex $ifindex)" \
	"ifindex now $(in_ns cat "/sys/class/net/$TAP/ifindex" 2>&1)" \
	test "$(in_ns cat "/sys/class/net/$TAP/ifindex" 2>/dev/null)" = "$ifindex"
out=$TL_TMP/ping.out
in_ns timeout 20 ping -n -c 5 -i 0.2 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "ping -c 5 over the attached TAP answered" "@$out" grep -q ' 5 received' "$out"
head -c 1200 /dev/urandom >"$TL_TMP/in"
udp_xchg 7 "$TL_TMP/in" "$TL_TMP/out"
check "UDP echo over the attached TAP" "@$TL_TMP/out.err" cmp -s "$TL_TMP/in" "$TL_TMP/out"

lab_stop_tapird TERM
check "SIGTERM: exit status 0" "exit status $LAB_TAPIRD_STATUS" test "$LAB_TAPIRD_STATUS" = 0
check "the persistent $TAP is still there after tapird exits" "it is gone" \
	in_ns ip link show "$TAP"

# And tapird can attach to it again.
tl_start
in_ns timeout 20 ping -n -c 2 -i 0.2 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "a second tapird attaches to the same TAP and answers" "@$out" grep -q ' 2 received' "$out"
tl_done
