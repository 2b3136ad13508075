#!/bin/bash
# Ping RTT: tapird against the floor of any TAP program, in the same run.
#
#   tapird      ping -c N -i 0.01 to tapird's 10.0.0.2 on its TAP
#   floor       the same to tests/tools/reflector on a TAP of its own: a
#               blocking read / answer in place / write loop that answers
#               only ARP and echo, with no event loop, timers or copies
#
# Rounds alternate between the two (ROUNDS rounds of PINGS pings each) so
# drift in the machine's load hits both alike; the line gives the mean of
# the rounds' average RTTs and the ratio tapird/floor (the aim: 1.1 or
# less).  Every namespace is made here and removed on exit.  Environment:
# PING_BENCH_PINGS (default 1000), PING_BENCH_ROUNDS (default 3).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lab
. scripts/lab
PINGS=${PING_BENCH_PINGS:-1000}
ROUNDS=${PING_BENCH_ROUNDS:-3}
TMP=$(mktemp -d /tmp/tapir-bench-ping.XXXXXX) || exit 1
lab_on_exit "rm -rf -- '$TMP'"
lab_trap_install

die() {
	printf 'bench ping: %s\n' "$*" >&2
	exit 1
}
command -v ping >/dev/null || die "ping is missing (scripts/deps installs it)"
[ -x "$TAPIRD" ] || die "no tapird at $TAPIRD (build first)"
REFL=$ROOT/build/tests/tools/reflector
if [ ! -x "$REFL" ]; then
	make -C build tests/tools/reflector >/dev/null 2>&1 ||
		die "cannot build tests/tools/reflector (build first)"
fi

rtt() { # NS ADDR: average RTT in ms
	ip netns exec "$1" timeout 120 ping -q -c "$PINGS" -i 0.01 "$2" \
		2>/dev/null |
		sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' | grep . ||
		echo -
}

# ---- tapird ---------------------------------------------------------------
lab_up >/dev/null || die "cannot create a lab namespace"
T_NS=$LAB_NS
cat >"$TMP/tapir.conf" <<EOF2
interface = { name = "tapir0"; address = "10.0.0.2/24";
  host_address = "10.0.0.1/24"; mac = "02:00:00:00:00:02"; acd = false; };
modules = ( );
log = { level = "notice"; };
control = { socket = "$TMP/ctl.sock"; };
EOF2
LAB_TAP=tapir0 lab_start_tapird "$TMP/tapir.conf" "$TMP/tapird.log" ||
	die "tapird did not start"

# ---- the floor ------------------------------------------------------------
lab_up >/dev/null || die "cannot create a lab namespace"
R_NS=$LAB_NS
ip netns exec "$R_NS" "$REFL" refl0 10.0.1.2 600 &
for _ in $(seq 1 50); do
	ip -n "$R_NS" link show refl0 >/dev/null 2>&1 && break
	sleep 0.1
done
ip -n "$R_NS" addr add 10.0.1.1/24 dev refl0 ||
	die "the reflector's TAP did not appear"
ip -n "$R_NS" link set refl0 up
ip netns exec "$R_NS" ping -q -c 1 -W 2 10.0.1.2 >/dev/null ||
	die "the reflector does not answer"

printf 'measuring (%d rounds of %d pings each)...\n' "$ROUNDS" "$PINGS"
ts=() fs=()
for _ in $(seq 1 "$ROUNDS"); do
	ts+=("$(rtt "$T_NS" 10.0.0.2)")
	fs+=("$(rtt "$R_NS" 10.0.1.2)")
done
mean() { printf '%s\n' "$@" | awk '$1 == "-" { bad = 1 } { s += $1; n++ }
	END { if (bad || !n) print "-"; else printf "%.4f\n", s / n }'; }
t=$(mean "${ts[@]}")
f=$(mean "${fs[@]}")
r=$(awk -v a="$t" -v b="$f" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }')
printf '%-30s %10s %10s %7s\n' "ping" "tapird" "floor" "ratio"
printf '%-30s %10s %10s %7s\n' "RTT (ms; tapird/floor)" "$t" "$f" "$r"
echo "(rounds, tapird: ${ts[*]}; floor: ${fs[*]})"
lab_tapird_running || die "tapird died during the benchmark: $(tail -n 5 "$TMP/tapird.log")"
