#!/bin/bash
# IPv6 against IPv4 and against the kernel, in the same run.
#
#   ping RTT     ping -6 -c N -i 0.01 to tapird's fd00::2 and to a kernel
#                peer over a veth pair; ping -4 to tapird's 10.0.0.2
#   TCP          BYTES into tapird's discard port and BYTES out of its
#                chargen port, over IPv6 and over IPv4; the kernel the same
#                over IPv6 between two namespaces on a veth pair (socat)
#   HTTP         wrk -t2 -c20 keep-alive on a 1 KiB file from the http
#                module over IPv6 and over IPv4, and from lighttpd on the
#                kernel over IPv6
#
# Each line gives tapir over IPv6, the reference, their ratio, and tapir's
# IPv6 figure over its own IPv4 figure (the aim: within 5%).  Every
# namespace is made here and removed on exit; every transfer is bounded by
# `timeout`.  Environment: IPV6_BENCH_BYTES (default 1 GiB), BENCH_SECONDS
# (wrk, default 5), IPV6_BENCH_PINGS (default 500).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lab
. scripts/lab
BYTES=${IPV6_BENCH_BYTES:-1073741824}
SECS=${BENCH_SECONDS:-5}
PINGS=${IPV6_BENCH_PINGS:-500}
LIMIT=300
TMP=$(mktemp -d /tmp/tapir-bench-ipv6.XXXXXX) || exit 1
lab_on_exit "rm -rf -- '$TMP'"
lab_trap_install

die() {
	printf 'bench ipv6: %s\n' "$*" >&2
	exit 1
}
for t in wrk lighttpd socat nc ping; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps installs it)"
done
[ -x "$TAPIRD" ] || die "no tapird at $TAPIRD (build first)"
mkdir -p "$TMP/www"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
chmod -R a+rX "$TMP"

ms_of() { # CMD...: the milliseconds it took, or FAIL
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null 2>"$TMP/err" || { echo FAIL; return; }
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}
mbs() { # MS: MB/s for BYTES
	awk -v n="$BYTES" -v ms="$1" 'BEGIN { if (ms == "FAIL" || ms == 0) print "-"; else printf "%.1f\n", n / (ms / 1000.0) / 1e6 }'
}
rtt() { # NS ADDR: average RTT in ms
	ip netns exec "$1" timeout 60 ping -q -c "$PINGS" -i 0.01 "$2" 2>/dev/null |
		sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' | grep . || echo -
}
wrk_rps() { # NS URL
	local out
	out=$(ip netns exec "$1" timeout $((SECS + 20)) wrk -t 2 -c 20 -d "${SECS}s" "$2" 2>&1)
	if grep -q 'Socket errors\|Non-2xx' <<<"$out"; then
		echo -
		return
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out" | grep . || echo -
}
ratio() { # A B: A/B
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}
line() { # WHAT TAPIR6 REF TAPIR4 [lower is better]
	local r s
	if [ "${5-}" = lower ]; then
		r=$(ratio "$3" "$2")
		s=$(ratio "$4" "$2")
	else
		r=$(ratio "$2" "$3")
		s=$(ratio "$2" "$4")
	fi
	printf '%-34s %10s %10s %7s %10s %7s\n' "$1" "$2" "$3" "$r" "$4" "$s"
}

upload() { # NS ADDR
	ip netns exec "$1" timeout "$LIMIT" sh -c \
		"head -c $BYTES /dev/zero | nc -N $2 9"
}
download() { # NS ADDR
	ip netns exec "$1" timeout "$LIMIT" sh -c \
		"nc -d $2 19 </dev/null | head -c $BYTES | wc -c | grep -qx $BYTES"
}

# ---- tapir: one tapird, both families ------------------------------------
lab_up >/dev/null || die "cannot create a lab namespace"
T_NS=$LAB_NS
cat >"$TMP/tapir.conf" <<EOF
interface = { name = "tapir0"; address = "10.0.0.2/24";
  host_address = "10.0.0.1/24"; address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64"; mac = "02:00:00:00:00:02"; };
modules = (
  { name = "echo"; udp_port = 0; discard_udp_port = 0; chargen_udp_port = 0;
    tcp_port = 7; discard_tcp_port = 9; chargen_tcp_port = 19;
    chargen_rate = 0; },
  { name = "http"; port = 80; root = "$TMP/www"; access_log = "off";
    max_connections = 1024; } );
log = { level = "notice"; };
control = { socket = "$TMP/ctl.sock"; };
EOF
LAB_TAP=tapir0 lab_start_tapird "$TMP/tapir.conf" "$TMP/tapird.log" ||
	die "tapird did not start"
# Measure once tapird's own addresses have passed DAD: before that it
# rightly ignores solicitations for them, and the first pings would wait.
for _ in $(seq 1 50); do
	"$ROOT/build/src/tapirctl" -s "$TMP/ctl.sock" status 2>/dev/null |
		grep -q 'fd00::2/64 *preferred' && break
	sleep 0.1
done

# ---- the kernel over a veth pair, IPv6 ------------------------------------
lab_up >/dev/null || die "cannot create a lab namespace"
KS=$LAB_NS
lab_up >/dev/null || die "cannot create a lab namespace"
KC=$LAB_NS
ip link add kc0 netns "$KC" type veth peer name ks0 netns "$KS"
ip -n "$KS" addr add fd01::2/64 dev ks0 nodad
ip -n "$KC" addr add fd01::1/64 dev kc0 nodad
ip -n "$KS" link set ks0 up mtu 1500
ip -n "$KC" link set kc0 up mtu 1500
ip netns exec "$KS" timeout "$LIMIT" socat -u \
	TCP6-LISTEN:9,reuseaddr,fork OPEN:/dev/null,wronly &
ip netns exec "$KS" timeout "$LIMIT" socat -u OPEN:/dev/zero \
	TCP6-LISTEN:19,reuseaddr,fork &
cat >"$TMP/lighttpd.conf" <<EOF
server.document-root = "$TMP/www"
server.bind = "[fd01::2]"
server.port = 80
server.errorlog = "$TMP/lighttpd.err"
server.max-keep-alive-requests = 1000000
server.max-connections = 1024
mimetype.assign = ( ".bin" => "application/octet-stream" )
EOF
ip netns exec "$KS" timeout "$LIMIT" lighttpd -D -f "$TMP/lighttpd.conf" \
	>"$TMP/lighttpd.out" 2>&1 &
for _ in $(seq 1 50); do
	ip netns exec "$KC" curl -s -o /dev/null "http://[fd01::2]/1k.bin" && break
	sleep 0.1
done

printf 'measuring (%d pings, %d MiB each way, wrk %ss)...\n' "$PINGS" \
	$((BYTES >> 20)) "$SECS"
p6=$(rtt "$T_NS" fd00::2)
pk=$(rtt "$KC" fd01::2)
p4=$(rtt "$T_NS" 10.0.0.2)
u6=$(mbs "$(ms_of upload "$T_NS" fd00::2)")
uk=$(mbs "$(ms_of upload "$KC" fd01::2)")
u4=$(mbs "$(ms_of upload "$T_NS" 10.0.0.2)")
d6=$(mbs "$(ms_of download "$T_NS" fd00::2)")
dk=$(mbs "$(ms_of download "$KC" fd01::2)")
d4=$(mbs "$(ms_of download "$T_NS" 10.0.0.2)")
w6=$(wrk_rps "$T_NS" "http://[fd00::2]/1k.bin")
wk=$(wrk_rps "$KC" "http://[fd01::2]/1k.bin")
w4=$(wrk_rps "$T_NS" "http://10.0.0.2/1k.bin")

printf '%-34s %10s %10s %7s %10s %7s\n' "ipv6" "tapir6" "kernel6" "ratio" \
	"tapir4" "6/4"
line "ping RTT (ms; ratio ref/tapir)" "$p6" "$pk" "$p4" lower
line "TCP upload $((BYTES >> 20)) MiB (MB/s)" "$u6" "$uk" "$u4"
line "TCP download $((BYTES >> 20)) MiB (MB/s)" "$d6" "$dk" "$d4"
line "HTTP keep-alive 1 KiB (req/s)" "$w6" "$wk" "$w4"
echo "(lighttpd on the kernel for HTTP; for ping and TCP the kernel itself)"
lab_tapird_running || die "tapird died during the benchmark: $(tail -n 5 "$TMP/tapird.log")"
