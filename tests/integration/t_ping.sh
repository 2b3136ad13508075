#!/bin/bash
# ICMP echo against tapird started with the shipped conf/tapir.conf: plain,
# path-MTU sized with DF, reassembly and fragmentation both ways, flood.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start_with "$LAB_ROOT/conf/tapir.conf"

# ping_case DESC EXPECT_RX REPLY_BYTES PING_ARGS...: EXPECT_RX replies, each
# line "REPLY_BYTES bytes from 10.0.0.2" (empty: do not check the size).
ping_case() {
	local desc=$1 want=$2 bytes=$3 out=$TL_TMP/ping.out counts got
	shift 3
	in_ns timeout 60 ping -n "$@" "$TAPIR_ADDR" >"$out" 2>&1
	counts=$(ping_counts "$out")
	got=${counts#* }
	if [ "$got" != "$want" ]; then
		not_ok "$desc" "want $want replies, got '${got:-none}'" "$(tail -n 5 "$out")"
	elif grep -q -e 'wrong data byte' -e 'DUP!' "$out"; then
		not_ok "$desc" "corrupt or duplicate replies" \
			"$(grep -e 'wrong data byte' -e 'DUP!' "$out" | head -n 3)"
	elif [ -n "$bytes" ] &&
		[ "$(grep -c "^$bytes bytes from $TAPIR_ADDR: icmp_seq=" "$out")" != "$want" ]; then
		not_ok "$desc" "replies are not all $bytes bytes" "$(head -n 5 "$out")"
	else
		ok "$desc"
	fi
}

ping_case "ping -c 20: 20 of 20 answered" 20 64 -c 20 -i 0.2 -W 2
ping_case "ping -s 1472 -M do -c 3 (full 1500-byte frames, DF): 3 answered" 3 1480 \
	-s 1472 -M 'do' -c 3 -i 0.2 -W 2
ping_case "ping -s 8000 -c 3 (fragments both ways): 3 answered, 8008 bytes each" 3 8008 \
	-s 8000 -c 3 -i 0.2 -W 2
ping_case "ping -s 65000 -c 3 (45 fragments each way): 3 answered, 65008 bytes each" 3 65008 \
	-s 65000 -c 3 -i 0.3 -W 3
ping_case "ping -p a5c3 -s 100: patterned payload echoed intact" 3 108 \
	-p 'a5c3' -s 100 -c 3 -i 0.2 -W 2

# Flood: 5000 answered with at most 1% loss, within 30 s.  With -w, ping
# keeps sending until 5000 are answered or the deadline, so judge the ratio.
out=$TL_TMP/flood.out
in_ns timeout 60 ping -n -q -f -c 5000 -w 30 "$TAPIR_ADDR" >"$out" 2>&1
read -r tx rx <<<"$(ping_counts "$out")"
if [ -z "${tx-}" ] || [ -z "${rx-}" ]; then
	not_ok "ping -f -c 5000: <= 1% loss" "no summary from ping" "$(tail -n 5 "$out")"
elif [ "$rx" -lt 4950 ] || [ $(((tx - rx) * 100)) -gt "$tx" ]; then
	not_ok "ping -f -c 5000: <= 1% loss" "transmitted $tx, received $rx" "$(tail -n 3 "$out")"
else
	ok "ping -f -c 5000: <= 1% loss (transmitted $tx, received $rx)"
fi

check "tapird still running after the pings" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
