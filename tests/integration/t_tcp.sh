#!/bin/bash
# TCP with real clients: echo returns the bytes (small and 20 MiB), discard
# takes 100 MiB, chargen streams 100 MiB of exact RFC 864 lines, a closed
# port refuses, many connections at once and in a row all succeed, and a
# transfer under 5% loss on the kernel side arrives intact.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start

tcp_xchg() { # PORT IN OUT: send IN, half-close, collect the answer
	in_ns timeout 60 nc -N -w 10 "$TAPIR_ADDR" "$1" <"$2" >"$3" 2>"$3.err"
}

printf 'hello over tcp\n' >"$TL_TMP/small"
tcp_xchg 7 "$TL_TMP/small" "$TL_TMP/small.out"
check "TCP echo returns a short line" "got: $(cat "$TL_TMP/small.out")" \
	cmp -s "$TL_TMP/small" "$TL_TMP/small.out"

head -c 20M /dev/urandom >"$TL_TMP/r20"
tcp_xchg 7 "$TL_TMP/r20" "$TL_TMP/r20.out"
check "TCP echo of 20 MiB comes back byte-identical" \
	"sent $(md5sum <"$TL_TMP/r20"), got $(md5sum <"$TL_TMP/r20.out") ($(stat -c %s "$TL_TMP/r20.out") bytes)" \
	cmp -s "$TL_TMP/r20" "$TL_TMP/r20.out"

head -c 100M /dev/zero | in_ns timeout 60 nc -N -w 10 "$TAPIR_ADDR" 9 \
	>"$TL_TMP/discard.out" 2>&1
rc=$?
check "TCP discard takes 100 MiB and closes cleanly" "nc exit $rc" \
	test "$rc" = 0
check "TCP discard sends nothing back" "@$TL_TMP/discard.out" \
	test ! -s "$TL_TMP/discard.out"

want=$(chargen_md5 $((100 * 1024 * 1024)))
got=$(in_ns timeout 60 nc -d "$TAPIR_ADDR" 19 </dev/null | head -c 100M | md5sum | cut -d' ' -f1)
check "TCP chargen streams 100 MiB of exact RFC 864 lines" \
	"want $want, got $got" test "$want" = "$got"

in_ns timeout 10 nc -z -w 3 "$TAPIR_ADDR" 4243 2>"$TL_TMP/refused.err"
rc=$?
check "a closed TCP port refuses the connection (RST)" \
	"nc -z exit $rc: $(cat "$TL_TMP/refused.err")" test "$rc" != 0

# 200 connections at once, each echoing its own line.  (Wait for these
# clients only: tapird is a child of this shell too.)
pids=()
for i in $(seq 1 200); do
	(printf 'line %d\n' "$i" |
		in_ns timeout 30 nc -N -w 10 "$TAPIR_ADDR" 7 >"$TL_TMP/c$i.out" 2>/dev/null) &
	pids+=($!)
done
wait "${pids[@]}"
bad=0
for i in $(seq 1 200); do
	[ "$(cat "$TL_TMP/c$i.out")" = "line $i" ] || bad=$((bad + 1))
done
check "200 concurrent TCP echo connections each get their own line" \
	"$bad of 200 wrong" test "$bad" = 0

# 300 short connections in a row.
bad=0
for i in $(seq 1 300); do
	out=$(printf 'n%d\n' "$i" | in_ns timeout 10 nc -N -w 5 "$TAPIR_ADDR" 7 2>/dev/null)
	[ "$out" = "n$i" ] || bad=$((bad + 1))
done
check "300 short TCP connections in a row all succeed" "$bad of 300 failed" \
	test "$bad" = 0

# 5% loss on the kernel side's egress: retransmission recovers it all.
if in_ns tc qdisc add dev "$TAP" root netem loss 5% 2>/dev/null; then
	how="netem"
else
	in_ns nft -f - <<EOF2 2>"$TL_TMP/nft.err"
table inet tapirtcp {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "$TAP" numgen random mod 100 < 5 drop
	}
}
EOF2
	how="nftables"
fi
head -c 5M /dev/urandom >"$TL_TMP/r5"
tcp_xchg 7 "$TL_TMP/r5" "$TL_TMP/r5.out"
check "under 5% loss ($how): 5 MiB echoed byte-identical" \
	"got $(stat -c %s "$TL_TMP/r5.out") bytes" cmp -s "$TL_TMP/r5" "$TL_TMP/r5.out"
in_ns tc qdisc del dev "$TAP" root >/dev/null 2>&1
in_ns nft delete table inet tapirtcp >/dev/null 2>&1

# SIGHUP during transfers: an echo of 100 MiB and a chargen stream run
# while tapird reloads ten times, the echo module's settings changing each
# time (discard over UDP off and on); neither connection is dropped.
head -c 100M /dev/urandom >"$TL_TMP/r100"
tcp_xchg 7 "$TL_TMP/r100" "$TL_TMP/r100.out" &
xpid=$!
want=$(chargen_md5 $((30 * 1024 * 1024)))
(in_ns timeout 60 nc -d "$TAPIR_ADDR" 19 </dev/null | head -c 30M | md5sum |
	cut -d' ' -f1 >"$TL_TMP/cg.md5") &
cpid=$!
reloads=0
for i in $(seq 1 10); do
	sleep 0.1
	DISCARD_UDP=$(((i % 2) * 9)) tl_write_conf "$TL_CONF"
	kill -HUP "$LAB_TAPIRD_PID" && reloads=$((reloads + 1))
done
wait "$xpid" "$cpid"
check "10 reloads (SIGHUP) during a 100 MiB echo: it comes back byte-identical" \
	"got $(stat -c %s "$TL_TMP/r100.out") bytes" cmp -s "$TL_TMP/r100" "$TL_TMP/r100.out"
check "10 reloads during a chargen stream: 30 MiB exact" \
	"want $want, got $(cat "$TL_TMP/cg.md5")" test "$want" = "$(cat "$TL_TMP/cg.md5")"
n=$(grep -c "reload complete" "$TL_LOG")
check "tapird logged the reloads ($n of $reloads)" "@$TL_LOG" test "$n" -ge 1

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
