#!/bin/bash
# SIGHUP reloads transactionally: a valid new file moves the echo port; a
# broken one is rejected with FILE:LINE in the log while the old
# configuration keeps working; a valid file after that still applies.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
conf=$TL_TMP/tapir.conf
tl_write_conf "$conf"
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

in=$TL_TMP/in
out=$TL_TMP/out
head -c 333 /dev/urandom >"$in"

# echo_answers PORT: a datagram to PORT comes back intact.
# shellcheck disable=SC2317 # called through check and tl_wait
echo_answers() {
	udp_xchg "$1" "$in" "$out" 1 && cmp -s "$in" "$out"
}
# port_refused PORT: a datagram to PORT draws port unreachable.
# shellcheck disable=SC2317 # called through check
port_refused() {
	! udp_xchg "$1" "$in" "$out" 1 && grep -q 'Connection refused' "$out.err"
}

check "before reload: echo answers on port 7" "@$out.err" echo_answers 7
check "before reload: port 7777 is closed (port unreachable)" "@$out.err" port_refused 7777

# 1. A valid change: udp_port 7 -> 7777.
ECHO_UDP=7777 tl_write_conf "$conf.new" && mv "$conf.new" "$conf"
kill -HUP "$pid"
if tl_wait 50 echo_answers 7777; then
	ok "SIGHUP with udp_port = 7777: echo answers on 7777"
else
	not_ok "SIGHUP with udp_port = 7777: echo answers on 7777" "$(cat "$out.err")" \
		"log:" "$(tail -n 5 "$TL_LOG")"
fi
check "after that reload: port 7 gets port unreachable" "@$out.err" port_refused 7
check "tapird kept its pid across the reload" "tapird exited" lab_tapird_running

# 2. A broken file: rejected with FILE:LINE, old config (7777) keeps working.
ECHO_UDP=7 tl_write_conf "$conf.new"
n=$(grep -n -m 1 'mtu =' "$conf.new" | cut -d: -f1)
sed -i "${n}s/mtu = /mtu = = /" "$conf.new"
mv "$conf.new" "$conf"
before=$(tl_log_lines)
kill -HUP "$pid"
# has_error_line: the log grew a "CONF:N:" line since the HUP.
# shellcheck disable=SC2317 # called through tl_wait
has_error_line() {
	tail -n +"$((before + 1))" "$TL_LOG" | grep -qF "$conf:$n:"
}
if tl_wait 50 has_error_line; then
	ok "SIGHUP with a syntax error on line $n: '$conf:$n:' logged"
else
	not_ok "SIGHUP with a syntax error on line $n: '$conf:$n:' logged" \
		"log since the HUP:" "$(tail -n +"$((before + 1))" "$TL_LOG")"
fi
check "after the rejected reload: tapird still running" "tapird exited" lab_tapird_running
check "after the rejected reload: echo still answers on 7777" "@$out.err" echo_answers 7777
check "after the rejected reload: port 7 still closed" "@$out.err" port_refused 7
out2=$TL_TMP/ping.out
in_ns timeout 10 ping -n -c 3 -i 0.2 -W 2 "$TAPIR_ADDR" >"$out2" 2>&1
check "after the rejected reload: ping answered" "$(tail -n 3 "$out2")" grep -q ' 3 received' "$out2"

# 3. An unknown key is rejected the same way.
ECHO_UDP=7 tl_write_conf "$conf.new"
n=$(grep -n -m 1 'udp_port =' "$conf.new" | cut -d: -f1)
sed -i "${n}s/udp_port/udp_prot/" "$conf.new"
mv "$conf.new" "$conf"
before=$(tl_log_lines)
kill -HUP "$pid"
if tl_wait 50 has_error_line; then
	ok "SIGHUP with unknown key udp_prot on line $n: '$conf:$n:' logged"
else
	not_ok "SIGHUP with unknown key udp_prot on line $n: '$conf:$n:' logged" \
		"log since the HUP:" "$(tail -n +"$((before + 1))" "$TL_LOG")"
fi
check "after the second rejected reload: echo still answers on 7777" "@$out.err" \
	echo_answers 7777

# 4. A valid file again: back to port 7.
ECHO_UDP=7 tl_write_conf "$conf.new" && mv "$conf.new" "$conf"
kill -HUP "$pid"
if tl_wait 50 echo_answers 7; then
	ok "SIGHUP with a valid file after rejected ones: echo back on port 7"
else
	not_ok "SIGHUP with a valid file after rejected ones: echo back on port 7" \
		"$(cat "$out.err")" "log:" "$(tail -n 5 "$TL_LOG")"
fi
check "and port 7777 closed again" "@$out.err" port_refused 7777
check "tapird still the same process" "pid $pid gone" lab_tapird_running
tl_done
