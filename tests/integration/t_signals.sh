#!/bin/bash
# Signals: SIGUSR1 logs counters and changes nothing; SIGTERM ends tapird
# cleanly with exit status 0 and the TAP it created goes away with it.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start
pid=$LAB_TAPIRD_PID

out=$TL_TMP/ping.out
in_ns timeout 20 ping -n -q -c 7 -i 0.1 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "ping -c 7 answered" "@$out" grep -q ' 7 received' "$out"

before=$(tl_log_lines)
kill -USR1 "$pid"
# shellcheck disable=SC2317 # called through tl_wait
grew() { [ "$(tl_log_lines)" -gt "$before" ]; }
if tl_wait 30 grew; then
	new=$(tail -n +"$((before + 1))" "$TL_LOG")
	ok "SIGUSR1: tapird logged $(printf '%s\n' "$new" | wc -l) line(s) of counters"
	# The 7 echo requests just answered are counted, and so are the replies.
	for what in echo_requests echo_replies; do
		if printf '%s\n' "$new" | grep -Eq "${what}[^0-9]*7([^0-9]|\$)"; then
			ok "SIGUSR1: the counters show 7 $what after ping -c 7"
		else
			not_ok "SIGUSR1: the counters show 7 $what after ping -c 7" "$new"
		fi
	done
else
	not_ok "SIGUSR1: tapird logged counters" "nothing new in the log within 3 s"
fi
check "SIGUSR1: tapird still running" "tapird exited" lab_tapird_running
in_ns timeout 10 ping -n -q -c 2 -i 0.1 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "after SIGUSR1: ping still answered" "@$out" grep -q ' 2 received' "$out"

LAB_STOP_TIMEOUT=5 lab_stop_tapird TERM
status=$LAB_TAPIRD_STATUS
check "SIGTERM: tapird exits within 5 s with status 0" "exit status $status" test "$status" = 0
if in_ns ip link show "$TAP" >/dev/null 2>&1; then
	not_ok "SIGTERM: the TAP tapird created is gone" "$(in_ns ip link show "$TAP")"
else
	ok "SIGTERM: the TAP tapird created is gone"
fi
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
