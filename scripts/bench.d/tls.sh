#!/bin/bash
# tls benchmark: HTTPS from tapir's http module (the daemon's TLS layer on
# tapir's own TCP) against lighttpd with mod_openssl on the Linux kernel
# stack, same certificate (ECDSA P-256), same clients, in the same run.
#
#   full handshakes     openssl s_time -new, BENCH_SECONDS   handshakes/s
#   resumed handshakes  openssl s_time -reuse, BENCH_SECONDS handshakes/s
#   wrk keep-alive      wrk -t2 -c20 on a 1 KiB file over HTTPS  requests/s
#   large download      curl, BENCH_TLS_MB MiB, best of 3        MB/s
#
# tapir: tapird on a TAP in a lab namespace, the clients on the kernel side
# of the TAP.  lighttpd: a server namespace and a client namespace joined by
# a veth pair, MTU 1500 as on the TAP.  Every namespace is made here and
# removed on exit (scripts/lab's trap), lighttpd with it; nothing runs in
# the root namespace.  Each figure is printed for both with the ratio
# tapir/lighttpd.  Environment: BENCH_SECONDS (default 5), BENCH_TLS_MB
# (default 64).
set -u
HERE=$(cd "$(dirname "$0")/../.." && pwd)
cd "$HERE" || exit 1
# shellcheck source-path=SCRIPTDIR source=../lab disable=SC1091
. "$HERE/scripts/lab"
SECS=${BENCH_SECONDS:-5}
MB=${BENCH_TLS_MB:-64}

die() {
	printf 'bench tls: %s\n' "$*" >&2
	exit 1
}
for t in wrk curl openssl lighttpd; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps installs it)"
done
[ -f /usr/lib/lighttpd/mod_openssl.so ] ||
	die "lighttpd's mod_openssl is missing (lighttpd-mod-openssl; scripts/deps)"
[ -x "$TAPIRD" ] || die "no tapird at $TAPIRD (build first)"
[ -f "$TAPIR_MODULE_DIR/http.so" ] || die "no http.so in $TAPIR_MODULE_DIR"

T=$(mktemp -d /tmp/tapir-bench-tls.XXXXXX) || die "mktemp failed"
lab_on_exit "rm -rf -- '$T'"
mkdir -p "$T/www"
head -c 1024 /dev/urandom >"$T/www/1k.bin"
head -c "${MB}M" /dev/urandom >"$T/www/big.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=bench \
	-addext "subjectAltName=IP:10.0.0.2,IP:10.1.0.1" 2>/dev/null ||
	die "openssl could not make a certificate"
chmod -R a+rX "$T"

# ---- tapir ---------------------------------------------------------------
lab_up || die "cannot create a lab namespace"
NS_TAPIR=$LAB_NS
cat >"$T/tapir.conf" <<EOF
interface = { name = "tapir0"; address = "10.0.0.2/24";
              host_address = "10.0.0.1/24"; };
modules = ( { name = "http"; port = 80; root = "$T/www";
              access_log = "off"; max_connections = 1024;
              tls_port = 443;
              tls = { certificate = "$T/cert.pem"; key = "$T/key.pem";
                      max_handshakes = 1024; }; } );
log = { level = "notice"; };
stack = { tcp_max_connections = 65536; };
EOF
lab_start_tapird "$T/tapir.conf" "$T/tapird.log" || die "tapird did not start"

# ---- lighttpd with mod_openssl on the kernel stack --------------------------
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
server.modules += ( "mod_openssl" )
server.document-root = "$T/www"
server.bind = "10.1.0.1"
server.port = 443
ssl.engine = "enable"
ssl.pemfile = "$T/cert.pem"
ssl.privkey = "$T/key.pem"
server.errorlog = "$T/lighttpd.err"
server.max-keep-alive-requests = 1000000
server.max-connections = 1024
mimetype.assign = ( ".bin" => "application/octet-stream" )
EOF
ip netns exec "$NS_SRV" lighttpd -D -f "$T/lighttpd.conf" >"$T/lighttpd.out" 2>&1 &
CURL=(curl -s --cacert "$T/cert.pem")
for _ in $(seq 1 50); do
	ip netns exec "$NS_CLI" "${CURL[@]}" -o /dev/null "https://10.1.0.1/1k.bin" && break
	sleep 0.1
done
ip netns exec "$NS_CLI" "${CURL[@]}" -f -o /dev/null "https://10.1.0.1/1k.bin" ||
	die "lighttpd did not come up: $(cat "$T/lighttpd.out" "$T/lighttpd.err" 2>/dev/null)"
ip netns exec "$NS_TAPIR" "${CURL[@]}" -f -o /dev/null "https://10.0.0.2/1k.bin" ||
	die "tapird does not serve HTTPS: $(tail -n 5 "$T/tapird.log")"

# ---- measurements ---------------------------------------------------------
# Each prints one number; "-" when the tool failed or reported errors.
stime() { # NS HOST MODE(-new|-reuse): handshakes per second of real time
	local out
	out=$(ip netns exec "$1" timeout $((SECS + 20)) openssl s_time \
		-connect "$2:443" "$3" -time "$SECS" -CAfile "$T/cert.pem" 2>&1)
	awk '/connections in [0-9.]+ real seconds/ {
		for (i = 1; i <= NF; i++) if ($i == "connections") n = $(i - 1);
		for (i = 1; i <= NF; i++) if ($i == "real") t = $(i - 1);
		if (t > 0) { printf "%.0f\n", n / t; found = 1 } }
		END { if (!found) print "-" }' <<<"$out"
}
wrk_rps() { # NS URL
	local out
	out=$(ip netns exec "$1" timeout $((SECS + 20)) wrk -t 2 -c 20 -d "${SECS}s" "$2" 2>&1)
	if grep -q 'Socket errors\|Non-2xx' <<<"$out"; then
		printf -- '-\n'
		return
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out"
}
dl_mbs() { # NS URL: best of 3, MB/s
	local best=0 s _
	for _ in 1 2 3; do
		s=$(ip netns exec "$1" timeout 120 "${CURL[@]}" -o /dev/null -w '%{speed_download}' "$2") || continue
		s=${s%.*}
		[ "${s:-0}" -gt "$best" ] && best=$s
	done
	awk -v b="$best" 'BEGIN { if (b > 0) printf "%.1f\n", b / 1e6; else print "-" }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

printf 'measuring (s_time and wrk %ss each per server, 3 downloads of %s MiB)...\n' "$SECS" "$MB"
n_t=$(stime "$NS_TAPIR" 10.0.0.2 -new)
n_l=$(stime "$NS_CLI" 10.1.0.1 -new)
r_t=$(stime "$NS_TAPIR" 10.0.0.2 -reuse)
r_l=$(stime "$NS_CLI" 10.1.0.1 -reuse)
w_t=$(wrk_rps "$NS_TAPIR" "https://10.0.0.2/1k.bin")
w_l=$(wrk_rps "$NS_CLI" "https://10.1.0.1/1k.bin")
d_t=$(dl_mbs "$NS_TAPIR" "https://10.0.0.2/big.bin")
d_l=$(dl_mbs "$NS_CLI" "https://10.1.0.1/big.bin")

printf '%-46s %12s %12s %8s\n' "tls (ECDSA P-256)" "tapir" "lighttpd" "ratio"
printf '%-46s %12s %12s %8s\n' "s_time -new, full handshakes (per s)" \
	"$n_t" "$n_l" "$(ratio "$n_t" "$n_l")"
printf '%-46s %12s %12s %8s\n' "s_time -reuse, resumed handshakes (per s)" \
	"$r_t" "$r_l" "$(ratio "$r_t" "$r_l")"
printf '%-46s %12s %12s %8s\n' "wrk -t2 -c20 -d${SECS}s, 1 KiB, HTTPS (req/s)" \
	"$w_t" "$w_l" "$(ratio "$w_t" "$w_l")"
printf '%-46s %12s %12s %8s\n' "curl ${MB} MiB over HTTPS, best of 3 (MB/s)" \
	"$d_t" "$d_l" "$(ratio "$d_t" "$d_l")"
lab_tapird_running || die "tapird died during the benchmark: $(tail -n 5 "$T/tapird.log")"
