#!/bin/bash
# http benchmark: tapir's http module against lighttpd on the Linux kernel
# stack, same clients, same files, in the same run.
#
#   wrk keep-alive     wrk -t2 -c20 -d5s on a 1 KiB file        requests/s
#   ab, no keep-alive  ab -n 5000 -c 20 on the 1 KiB file        requests/s
#   64 MiB download    curl, best of 3                           MB/s
#
# tapir: tapird on a TAP in a lab namespace, the clients on the kernel side
# of the TAP.  lighttpd: a server namespace and a client namespace joined by
# a veth pair, MTU 1500 as on the TAP.  Every namespace is made here and
# removed on exit (scripts/lab's trap), lighttpd with it; nothing runs in
# the root namespace.  Each figure is printed for both with the ratio
# tapir/lighttpd.  Environment: BENCH_SECONDS (wrk duration, default 5).
set -u
HERE=$(cd "$(dirname "$0")/../.." && pwd)
cd "$HERE" || exit 1
# shellcheck source-path=SCRIPTDIR source=../lab disable=SC1091
. "$HERE/scripts/lab"
SECS=${BENCH_SECONDS:-5}

die() {
	printf 'bench http: %s\n' "$*" >&2
	exit 1
}
for t in wrk ab curl lighttpd; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps installs it)"
done
[ -x "$TAPIRD" ] || die "no tapird at $TAPIRD (build first)"
[ -f "$TAPIR_MODULE_DIR/http.so" ] || die "no http.so in $TAPIR_MODULE_DIR"

T=$(mktemp -d /tmp/tapir-bench-http.XXXXXX) || die "mktemp failed"
lab_on_exit "rm -rf -- '$T'"
mkdir -p "$T/www"
head -c 1024 /dev/urandom >"$T/www/1k.bin"
head -c 64M /dev/urandom >"$T/www/64m.bin"
chmod -R a+rX "$T"

# ---- tapir ---------------------------------------------------------------
lab_up || die "cannot create a lab namespace"
NS_TAPIR=$LAB_NS
cat >"$T/tapir.conf" <<EOF
interface = { name = "tapir0"; address = "10.0.0.2/24";
              host_address = "10.0.0.1/24"; };
modules = ( { name = "http"; port = 80; root = "$T/www";
              access_log = "off"; max_connections = 1024; } );
log = { level = "notice"; };
# Closing first leaves a connection in TIME_WAIT, which tapird counts
# against tcp_max_connections (default 4096): ab without keep-alive makes
# thousands.  Linux keeps up to 262144 of them (tcp_max_tw_buckets).
stack = { tcp_max_connections = 65536; };
EOF
lab_start_tapird "$T/tapir.conf" "$T/tapird.log" || die "tapird did not start"

# ---- lighttpd on the kernel stack ----------------------------------------
lab_up || die "cannot create a lab namespace"
NS_SRV=$LAB_NS
lab_up || die "cannot create a lab namespace"
NS_CLI=$LAB_NS
ip link add bh0 netns "$NS_SRV" type veth peer name bh1 netns "$NS_CLI" ||
	die "cannot create the veth pair"
ip -n "$NS_SRV" addr add 10.1.0.1/24 dev bh0
ip -n "$NS_CLI" addr add 10.1.0.2/24 dev bh1
ip -n "$NS_SRV" link set bh0 up mtu 1500
ip -n "$NS_CLI" link set bh1 up mtu 1500
cat >"$T/lighttpd.conf" <<EOF
server.document-root = "$T/www"
server.bind = "10.1.0.1"
server.port = 80
server.errorlog = "$T/lighttpd.err"
server.max-keep-alive-requests = 1000000
server.max-connections = 1024
mimetype.assign = ( ".bin" => "application/octet-stream" )
EOF
ip netns exec "$NS_SRV" lighttpd -D -f "$T/lighttpd.conf" >"$T/lighttpd.out" 2>&1 &
for _ in $(seq 1 50); do
	ip netns exec "$NS_CLI" curl -s -o /dev/null "http://10.1.0.1/1k.bin" && break
	sleep 0.1
done
ip netns exec "$NS_CLI" curl -sf -o /dev/null "http://10.1.0.1/1k.bin" ||
	die "lighttpd did not come up: $(cat "$T/lighttpd.out" "$T/lighttpd.err" 2>/dev/null)"

# ---- measurements ---------------------------------------------------------
# Each prints one number; "-" when the tool failed or reported errors.
wrk_rps() { # NS URL
	local out
	out=$(ip netns exec "$1" timeout $((SECS + 20)) wrk -t 2 -c 20 -d "${SECS}s" "$2" 2>&1)
	if grep -q 'Socket errors\|Non-2xx' <<<"$out"; then
		printf -- '-\n'
		return
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out"
}
ab_rps() { # NS URL
	local out
	out=$(ip netns exec "$1" timeout 120 ab -q -n 5000 -c 20 "$2" 2>&1)
	if ! grep -q '^Failed requests: *0' <<<"$out"; then
		printf -- '-\n'
		return
	fi
	sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' <<<"$out"
}
dl_mbs() { # NS URL: best of 3, MB/s
	local best=0 s i
	for i in 1 2 3; do
		s=$(ip netns exec "$1" timeout 60 curl -s -o /dev/null -w '%{speed_download}' "$2") || continue
		s=${s%.*}
		[ "${s:-0}" -gt "$best" ] && best=$s
	done
	awk -v b="$best" 'BEGIN { if (b > 0) printf "%.1f\n", b / 1e6; else print "-" }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

TAPIR=http://10.0.0.2
LIGHT=http://10.1.0.1
printf 'measuring (wrk %ss per server, ab 5000 requests, 3 downloads of 64 MiB each)...\n' "$SECS"
w_t=$(wrk_rps "$NS_TAPIR" "$TAPIR/1k.bin")
w_l=$(wrk_rps "$NS_CLI" "$LIGHT/1k.bin")
a_t=$(ab_rps "$NS_TAPIR" "$TAPIR/1k.bin")
a_l=$(ab_rps "$NS_CLI" "$LIGHT/1k.bin")
d_t=$(dl_mbs "$NS_TAPIR" "$TAPIR/64m.bin")
d_l=$(dl_mbs "$NS_CLI" "$LIGHT/64m.bin")

printf '%-42s %12s %12s %8s\n' "http" "tapir" "lighttpd" "ratio"
printf '%-42s %12s %12s %8s\n' "wrk -t2 -c20 -d${SECS}s, 1 KiB, keep-alive (req/s)" \
	"$w_t" "$w_l" "$(ratio "$w_t" "$w_l")"
printf '%-42s %12s %12s %8s\n' "ab -n 5000 -c 20, 1 KiB, no keep-alive (req/s)" \
	"$a_t" "$a_l" "$(ratio "$a_t" "$a_l")"
printf '%-42s %12s %12s %8s\n' "curl 64 MiB, best of 3 (MB/s)" \
	"$d_t" "$d_l" "$(ratio "$d_t" "$d_l")"
lab_tapird_running || die "tapird died during the benchmark: $(tail -n 5 "$T/tapird.log")"
