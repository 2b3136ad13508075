#!/bin/bash
# TCP throughput, tapir against the Linux kernel in the same run.
#
#   direct:   a client in a lab namespace sends BYTES into tapird's discard
#             port over the TAP, and reads BYTES from its chargen port; the
#             kernel does the same between two namespaces joined by a veth
#             pair (nc and socat as the servers).
#   impaired: 100 MiB each way through tests/tools/impair with 5% loss, 2%
#             reordering and 1% duplication in each direction, the same
#             seed for both: client TAP <-> impair <-> tapird's TAP, and
#             client TAP <-> impair <-> a TAP of a kernel server.
#
# Every namespace is made here and removed on exit; every transfer is
# bounded by `timeout`.  Environment: TCP_BENCH_BYTES (default 1 GiB),
# TCP_BENCH_IMPAIRED_BYTES (default 100 MiB), TCP_BENCH_IMPAIR (impair's
# options, default "--loss 5 --reorder 2 --dup 1"), TCP_BENCH_STACK (a
# line added to tapird's configuration, e.g. 'stack = {
# tcp_congestion_control = "newreno"; };'), IMPAIR_SEED.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lab
. scripts/lab
BYTES=${TCP_BENCH_BYTES:-1073741824}
IBYTES=${TCP_BENCH_IMPAIRED_BYTES:-104857600}
SEED=${IMPAIR_SEED:-$(date +%s)}
IMPAIR=$ROOT/build/tests/tools/impair
LIMIT=300
TMP=$(mktemp -d /tmp/tapir-bench-tcp.XXXXXX) || exit 1
lab_on_exit "rm -rf -- '$TMP'"
lab_trap_install

if [ ! -x "$TAPIRD" ] || [ ! -x "$IMPAIR" ]; then
	echo "bench tcp: build first (scripts/check --quick, or make and make check in build/)" >&2
	exit 1
fi

ms_of() { # CMD...: run it, print the milliseconds it took (or FAIL)
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null 2>"$TMP/err" || { echo FAIL; return; }
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}

report() { # WHAT BYTES TAPIR_MS KERNEL_MS
	python3 - "$@" <<'PY'
import sys
what, n, t, k = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rate(ms):
    return None if ms == "FAIL" else n / (int(ms) / 1000.0) / 1e6
rt, rk = rate(t), rate(k)
fmt = lambda r: "failed" if r is None else "%.1f MB/s" % r
ratio = "n/a" if rt is None or rk is None else "%.2f" % (rt / rk)
print("tcp %-34s tapir %-12s kernel %-12s ratio %s" % (what, fmt(rt), fmt(rk), ratio))
PY
}

disable_v6() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

conf() { # FILE [HOST_ADDRESS]: with a host address, offloads on; without
	# (behind impair's packet socket, which needs finished frames), off
	local host="offload = false;"
	[ -z "${2-}" ] || host="host_address = \"$2\";"
	cat >"$1" <<EOF
interface = { name = "tapir0"; address = "10.0.0.2/24";
  mac = "02:00:00:00:00:02"; $host };
modules = ( { name = "echo"; udp_port = 0; discard_udp_port = 0;
  chargen_udp_port = 0; tcp_port = 7; discard_tcp_port = 9;
  chargen_tcp_port = 19; chargen_rate = 0; } );
${TCP_BENCH_STACK:-}
EOF
}

upload() { # NS BYTES
	ip netns exec "$1" timeout "$LIMIT" sh -c \
		"head -c $2 /dev/zero | nc -N 10.0.0.2 9"
}
download() { # NS BYTES
	ip netns exec "$1" timeout "$LIMIT" sh -c \
		"nc -d 10.0.0.2 19 </dev/null | head -c $2 | wc -c | grep -qx $2"
}

kernel_servers() { # NS: discard on 9, an endless source on 19
	ip netns exec "$1" timeout "$LIMIT" socat -u \
		TCP-LISTEN:9,reuseaddr,fork OPEN:/dev/null,wronly &
	ip netns exec "$1" timeout "$LIMIT" socat -u OPEN:/dev/zero \
		TCP-LISTEN:19,reuseaddr,fork &
	sleep 0.5
}

# ---- direct ----------------------------------------------------------------
lab_up >/dev/null || exit 1
T_NS=$LAB_NS
conf "$TMP/direct.conf" 10.0.0.1/24
LAB_TAP=tapir0 lab_start_tapird "$TMP/direct.conf" "$TMP/direct.log" || exit 1
tu=$(ms_of upload "$T_NS" "$BYTES")
td=$(ms_of download "$T_NS" "$BYTES")
lab_stop_tapird >/dev/null

lab_up >/dev/null || exit 1
KS=$LAB_NS
lab_up >/dev/null || exit 1
KC=$LAB_NS
ip link add kc0 netns "$KC" type veth peer name ks0 netns "$KS"
ip -n "$KS" addr add 10.0.0.2/24 dev ks0
ip -n "$KC" addr add 10.0.0.1/24 dev kc0
ip -n "$KS" link set ks0 up
ip -n "$KC" link set kc0 up
kernel_servers "$KS"
ku=$(ms_of upload "$KC" "$BYTES")
kd=$(ms_of download "$KC" "$BYTES")
report "direct upload $((BYTES >> 20)) MiB" "$BYTES" "$tu" "$ku"
report "direct download $((BYTES >> 20)) MiB" "$BYTES" "$td" "$kd"

# ---- impaired --------------------------------------------------------------
IMPAIRMENT=${TCP_BENCH_IMPAIR:---loss 5 --reorder 2 --dup 1}
IMP="$IMPAIRMENT --seed $SEED --time $LIMIT"
lab_up >/dev/null || exit 1
TS=$LAB_NS
lab_up >/dev/null || exit 1
TC=$LAB_NS
lab_up >/dev/null || exit 1
KS2=$LAB_NS
lab_up >/dev/null || exit 1
KC2=$LAB_NS
for ns in "$TS" "$TC" "$KS2" "$KC2"; do disable_v6 "$ns"; done
LAB_NS=$TS
conf "$TMP/imp.conf"
LAB_TAP=tapir0 lab_start_tapird "$TMP/imp.conf" "$TMP/imp.log" || exit 1
# shellcheck disable=SC2086
ip netns exec "$TC" "$IMPAIR" --pkt tapir0 --pkt-netns "/run/netns/$TS" \
	--tap cli0 $IMP >"$TMP/i1.out" 2>"$TMP/i1.err" &
# shellcheck disable=SC2086
ip netns exec "$KC2" "$IMPAIR" --tap2 srv0 --pkt-netns "/run/netns/$KS2" \
	--tap cli0 $IMP >"$TMP/i2.out" 2>"$TMP/i2.err" &
sleep 1
ip -n "$TC" addr add 10.0.0.1/24 dev cli0 && ip -n "$TC" link set cli0 up
ip -n "$KC2" addr add 10.0.0.1/24 dev cli0 && ip -n "$KC2" link set cli0 up
ip -n "$KS2" addr add 10.0.0.2/24 dev srv0 && ip -n "$KS2" link set srv0 up
kernel_servers "$KS2"
tu=$(ms_of upload "$TC" "$IBYTES")
td=$(ms_of download "$TC" "$IBYTES")
ku=$(ms_of upload "$KC2" "$IBYTES")
kd=$(ms_of download "$KC2" "$IBYTES")
cc=$(ip netns exec "$KS2" sysctl -n net.ipv4.tcp_congestion_control)
echo "(impair seed $SEED: $IMPAIRMENT, each way)"
report "impaired upload $((IBYTES >> 20)) MiB" "$IBYTES" "$tu" "$ku"
report "impaired download $((IBYTES >> 20)) MiB ($cc)" "$IBYTES" "$td" "$kd"
# The same download with the kernel sending as tapir does (NewReno; the
# kernel calls it reno), and with CUBIC, each in the server namespace only.
for alg in reno cubic; do
	[ "$alg" = "$cc" ] && continue
	ip netns exec "$KS2" sysctl -qw net.ipv4.tcp_congestion_control="$alg" 2>/dev/null ||
		continue
	kd=$(ms_of download "$KC2" "$IBYTES")
	report "impaired download $((IBYTES >> 20)) MiB ($alg)" "$IBYTES" "$td" "$kd"
done
