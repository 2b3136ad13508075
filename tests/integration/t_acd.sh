#!/bin/bash
# IPv4 address conflict detection (RFC 5227) with interface.acd on, as it is
# by default: tapird probes for its address before using it and says
# "ready" after; when the kernel side of the TAP already holds the address,
# tapird logs the conflict with the kernel side's MAC, answers nothing as
# that address, and takes it once it is free; in use, a host claiming the
# address is logged and answered with an announcement, and tapird keeps it.
# A static neighbour (interface.static_neighbours, applied on reload) is not
# moved by spoofed replies or gratuitous ARPs, as a learnt one is.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
ACD=true
ARP_TOOL=$TL_DIR/arp_tool.py

# A TAP made beforehand, so that tcpdump sees tapird's first frames.
in_ns ip tuntap add dev "$TAP" mode tap || bail "ip tuntap add dev $TAP mode tap"
in_ns ip link set "$TAP" up
KMAC=$(in_ns cat "/sys/class/net/$TAP/address")

# replies_from MAC OUT: how many of arping's replies (in OUT) came from MAC.
replies_from() {
	grep -ci "reply from $TAPIR_ADDR \[$1\]" "$2"
}

# ---- Probing before use, at start --------------------------------------------
tcpdump_start "$TL_TMP/arp1" arp
started=$(date +%s%N)
tl_start
ready_ms=$((($(date +%s%N) - started) / 1000000))
tcpdump_stop
probes=$(grep -c "who-has $TAPIR_ADDR tell 0\.0\.0\.0" "$TL_TMP/arp1")
check "3 probes from 0.0.0.0 for $TAPIR_ADDR before use" "@$TL_TMP/arp1" \
	test "$probes" = 3
check "\"ready\" comes after probing (4 s to 7 s; took ${ready_ms} ms)" \
	"took $ready_ms ms" test "$ready_ms" -ge 3900
in_use=$(grep -n "IPv4 address $TAPIR_ADDR: nobody else" "$TL_LOG" | cut -d: -f1)
ready=$(grep -n "ready: " "$TL_LOG" | cut -d: -f1 | head -n 1)
check "the log says the address is in use, then ready" "@$TL_LOG" \
	test -n "$in_use" -a -n "$ready" -a "${in_use:-0}" -lt "${ready:-0}"
out=$TL_TMP/arping.out
in_ns timeout 20 arping -c 2 -w 4 -I "$TAP" -s "$HOST_ADDR" "$TAPIR_ADDR" >"$out" 2>&1
check "after ready, tapird answers ARP for $TAPIR_ADDR" "@$out" \
	test "$(replies_from "$TAPIR_MAC" "$out")" = 2

# ---- A claim while in use: logged with the MAC, defended, kept -------------------
sleep 2 # past the second announcement (ANNOUNCE_INTERVAL after ready)
tcpdump_start "$TL_TMP/arp2" "arp and ether src $TAPIR_MAC"
in_ns python3 "$ARP_TOOL" send "$TAP" reply 02:00:00:00:00:66 "$TAPIR_ADDR" \
	"$TAPIR_MAC" "$TAPIR_ADDR" "$TAPIR_MAC" 3
tl_wait 30 grep -q "02:00:00:00:00:66 claims our address $TAPIR_ADDR; defended" "$TL_LOG"
check "a claim by 02:00:00:00:00:66 is logged with its MAC, defended" "@$TL_LOG" \
	grep -q "02:00:00:00:00:66 claims our address $TAPIR_ADDR; defended" "$TL_LOG"
tcpdump_stop
n=$(grep -c "$TAPIR_ADDR tell $TAPIR_ADDR\|Announcement $TAPIR_ADDR" "$TL_TMP/arp2")
check "one defending announcement for three claims in 0.3 s" \
	"$n announcements; $(cat "$TL_TMP/arp2")" test "$n" = 1
in_ns timeout 20 arping -c 2 -w 4 -I "$TAP" -s "$HOST_ADDR" "$TAPIR_ADDR" >"$out" 2>&1
check "tapird keeps answering for $TAPIR_ADDR" "@$out" \
	test "$(replies_from "$TAPIR_MAC" "$out")" = 2
lab_stop_tapird TERM
check "SIGTERM: exit status 0" "exit status $LAB_TAPIRD_STATUS" test "$LAB_TAPIRD_STATUS" = 0

# ---- The kernel side holds the address before tapird starts --------------------
in_ns ip addr add "$TAPIR_ADDR/24" dev "$TAP" || bail "ip addr add $TAPIR_ADDR on $TAP"
TL_LOG=$TL_TMP/tapird2.log
tl_start
check "the conflict is logged with the kernel side's MAC $KMAC" "@$TL_LOG" \
	grep -qi "IPv4 address $TAPIR_ADDR is in use by $KMAC" "$TL_LOG"
check "ready, without the address" "@$TL_LOG" \
	grep -q "ready: .*without its IPv4 address" "$TL_LOG"
in_ns timeout 20 arping -c 2 -w 3 -I "$TAP" -s "$HOST_ADDR" "$TAPIR_ADDR" >"$out" 2>&1
check "tapird does not answer as $TAPIR_ADDR" "@$out" \
	test "$(replies_from "$TAPIR_MAC" "$out")" = 0
# Freed, the address is probed for again within a minute and taken.
in_ns ip addr del "$TAPIR_ADDR/24" dev "$TAP"
tl_wait 750 grep -q "IPv4 address $TAPIR_ADDR: nobody else" "$TL_LOG"
check "once freed, the address is probed for again and taken" "@$TL_LOG" \
	grep -q "IPv4 address $TAPIR_ADDR: nobody else" "$TL_LOG"
in_ns timeout 20 arping -c 2 -w 4 -I "$TAP" -s "$HOST_ADDR" "$TAPIR_ADDR" >"$out" 2>&1
check "then tapird answers for $TAPIR_ADDR" "@$out" \
	test "$(replies_from "$TAPIR_MAC" "$out")" = 2

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines | grep -v "is in use by $KMAC")
check "no error-level line but the conflict's" "$errs" test -z "$errs"
lab_stop_tapird TERM

# ---- A static neighbour: spoofed ARP cannot move it --------------------------
# First without it: a spoofed reply does move a learnt entry (the control);
# then, applied by reload, the kernel side as a static neighbour stays put.
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
SOCK=$TL_TMP/ctl.sock
export TAPIR_CONTROL_SOCKET=$SOCK
ACD=false
static_conf() { # [STATIC]: the configuration, with the static entry or not
	tl_write_conf "$TL_TMP/static.conf"
	printf 'control = { socket = "%s"; };\n' "$SOCK" >>"$TL_TMP/static.conf"
	if [ -n "${1-}" ]; then
		sed -i "s|^  acd = false;|&\n  static_neighbours = ( { address = \"$HOST_ADDR\"; mac = \"$KMAC\"; } );|" \
			"$TL_TMP/static.conf"
	fi
}
spoof() { # a reply and a gratuitous ARP claiming $HOST_ADDR for 02:..:66
	in_ns python3 "$ARP_TOOL" send "$TAP" reply 02:00:00:00:00:66 "$HOST_ADDR" \
		"$TAPIR_MAC" "$TAPIR_ADDR" "$TAPIR_MAC" 2
	in_ns python3 "$ARP_TOOL" send "$TAP" request 02:00:00:00:00:66 "$HOST_ADDR" \
		00:00:00:00:00:00 "$HOST_ADDR" ff:ff:ff:ff:ff:ff 2
}
arp_line() { "$TAPIRCTL" arp 2>&1 | grep -E "^$HOST_ADDR[[:space:]]" | tr -s ' '; }
static_conf
TL_LOG=$TL_TMP/tapird3.log
tl_start_with "$TL_TMP/static.conf"
in_ns timeout 10 ping -n -c 1 -W 2 "$TAPIR_ADDR" >/dev/null 2>&1
spoof
got=$(arp_line)
check "control: without a static entry, a spoofed reply moves $HOST_ADDR" \
	"tapirctl arp: $got" sh -c "echo '$got' | grep -qi '02:00:00:00:00:66'"
static_conf static
"$TAPIRCTL" reload >"$TL_TMP/reload.out" 2>&1
check "reload with static_neighbours" "@$TL_TMP/reload.out" \
	grep -q "reload complete" "$TL_TMP/reload.out"
got=$(arp_line)
check "tapirctl arp: $HOST_ADDR at $KMAC, permanent" "got: $got" \
	sh -c "echo '$got' | grep -qi '$KMAC permanent'"
spoof
in_ns arping -U -c 2 -I "$TAP" -s "$HOST_ADDR" "$HOST_ADDR" >/dev/null 2>&1
got=$(arp_line)
check "after spoofed replies and gratuitous ARPs: still $KMAC, permanent" \
	"got: $got" sh -c "echo '$got' | grep -qi '$KMAC permanent'"
in_ns timeout 10 ping -n -c 3 -i 0.2 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "tapird keeps answering the kernel side at its own MAC (ping)" "@$out" \
	grep -q ' 3 received' "$out"
check "no error-level line" "$(tl_error_lines)" test -z "$(tl_error_lines)"
lab_stop_tapird TERM
in_ns ip tuntap del dev "$TAP" mode tap
tl_done
