#!/bin/bash
# DNS forwarding with a warm cache: tapir's dns module against dnsmasq on
# the kernel stack, both forwarding to the same upstream (one unbound in a
# namespace of its own), in the same run.  dnsperf sends the same mix of
# names outside the forwarders' zones (A, AAAA, NXDOMAIN) for
# DNS_FWD_BENCH_SECONDS (default 10) to each, after one pass over the mix
# has filled both caches, so what is measured is answering from the cache.
#
#   upstream: unbound serving up.test, reached at 10.0.1.53 from tapir's lab
#             and at 10.0.2.53 from dnsmasq's namespace (two veth pairs);
#   tapir:    dnsperf in a lab namespace, over the TAP, to tapird's dns
#             module (upstream = "10.0.1.53", its gateway the lab, which
#             routes to the upstream);
#   dnsmasq:  dnsperf in one namespace, over a veth pair, to dnsmasq in
#             another (--server=10.0.2.53).
#
# Every namespace is made here and removed on exit; each run is bounded by
# dnsperf's -l and by `timeout`.  Prints queries/s for both and the ratio
# tapir/dnsmasq.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lab
. scripts/lab
SECS=${DNS_FWD_BENCH_SECONDS:-10}
LIMIT=$((SECS + 30))
TMP=$(mktemp -d /tmp/tapir-bench-dnsfwd.XXXXXX) || exit 1
lab_on_exit "rm -rf -- '$TMP'"
lab_trap_install

for t in dnsperf dnsmasq unbound dig; do
	command -v "$t" >/dev/null || { echo "bench dns_forward: $t missing (scripts/deps)" >&2; exit 1; }
done
if [ ! -x "$TAPIRD" ] || [ ! -e "$TAPIR_MODULE_DIR/dns.so" ]; then
	echo "bench dns_forward: build first (make in build/)" >&2
	exit 1
fi

# The mix: 16 names with A and AAAA, and 8 that do not exist.
: >"$TMP/queries"
for i in $(seq 1 16); do
	printf 'h%d.up.test A\nh%d.up.test AAAA\n' "$i" "$i" >>"$TMP/queries"
done
for i in $(seq 1 8); do
	printf 'nx%d.up.test A\n' "$i" >>"$TMP/queries"
done

# ---- the upstream -----------------------------------------------------------
lab_up >/dev/null || exit 1
UP=$LAB_NS
{
	printf 'server:\n  port: 53\n  interface: 10.0.1.53\n  interface: 10.0.2.53\n'
	printf '  do-daemonize: no\n  username: ""\n  chroot: ""\n  directory: "%s"\n' "$TMP"
	printf '  pidfile: ""\n  use-syslog: no\n  logfile: "%s/unbound.log"\n' "$TMP"
	printf '  num-threads: 1\n  access-control: 0.0.0.0/0 allow\n'
	printf '  local-zone: "." refuse\n  local-zone: "up.test." static\n'
	printf '  local-data: "up.test. 3600 IN SOA ns.up.test. hm.up.test. 1 3600 600 86400 600"\n'
	for i in $(seq 1 16); do
		printf '  local-data: "h%d.up.test. 3600 IN A 10.0.1.%d"\n' "$i" "$i"
		printf '  local-data: "h%d.up.test. 3600 IN AAAA fd01::%x"\n' "$i" "$i"
	done
	printf 'remote-control:\n  control-enable: no\n'
} >"$TMP/unbound.conf"

# ---- tapir ------------------------------------------------------------------
lab_up >/dev/null || exit 1
T_NS=$LAB_NS
ip link add tf0 netns "$T_NS" type veth peer name tf1 netns "$UP"
ip -n "$T_NS" addr add 10.0.1.1/24 dev tf0
ip -n "$UP" addr add 10.0.1.53/24 dev tf1
ip -n "$T_NS" link set tf0 up
ip -n "$UP" link set tf1 up
ip netns exec "$T_NS" sysctl -qw net.ipv4.ip_forward=1
ip -n "$UP" route add 10.0.0.0/24 via 10.0.1.1

# ---- dnsmasq's namespaces ------------------------------------------------------
lab_up >/dev/null || exit 1
KS=$LAB_NS
lab_up >/dev/null || exit 1
KC=$LAB_NS
ip link add kc0 netns "$KC" type veth peer name ks0 netns "$KS"
ip link add ku0 netns "$KS" type veth peer name ku1 netns "$UP"
ip -n "$KS" addr add 10.0.0.2/24 dev ks0
ip -n "$KC" addr add 10.0.0.1/24 dev kc0
ip -n "$KS" addr add 10.0.2.1/24 dev ku0
ip -n "$UP" addr add 10.0.2.53/24 dev ku1
for l in "$KS ks0" "$KC kc0" "$KS ku0" "$UP ku1"; do
	# shellcheck disable=SC2086 # "namespace link"
	set -- $l
	ip -n "$1" link set "$2" up
done

ip netns exec "$UP" timeout $((LIMIT * 3)) unbound -d -c "$TMP/unbound.conf" \
	>"$TMP/unbound.out" 2>&1 &
for _ in $(seq 50); do
	ip netns exec "$UP" timeout 2 dig @10.0.1.53 +short +time=1 +tries=1 \
		h1.up.test A 2>/dev/null | grep -q 10.0.1.1 && break
	sleep 0.1
done

# NS SERVER: one pass over the mix (fills the cache); then queries/s that
# dnsperf measured against SERVER from NS, or FAIL.
perf() {
	ip netns exec "$1" timeout "$LIMIT" dnsperf -s 10.0.0.2 -d "$TMP/queries" \
		-n 1 >"$TMP/warm.$1" 2>&1 || { echo FAIL; return; }
	ip netns exec "$1" timeout "$LIMIT" dnsperf -s 10.0.0.2 -d "$TMP/queries" \
		-l "$SECS" -c 4 -q 200 >"$TMP/perf.$1" 2>&1 || { echo FAIL; return; }
	sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$TMP/perf.$1" | head -n 1
}
perf_detail() {
	grep -E 'Queries (completed|lost)|Response codes' "$TMP/perf.$1" | sed 's/^ */  /'
}

cat >"$TMP/tapir.conf" <<'EOF2'
interface = { name = "tapir0"; address = "10.0.0.2/24"; gateway = "10.0.0.1";
  mac = "02:00:00:00:00:02"; host_address = "10.0.0.1/24"; };
modules = ( { name = "dns"; port = 53;
  zones = ( { name = "lab.test";
              records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                          "www A 10.0.0.2" ]; } );
  upstream = "10.0.1.53"; cache_size = 4096; } );
log = { level = "notice"; };
EOF2
LAB_NS=$T_NS LAB_TAP=tapir0 lab_start_tapird "$TMP/tapir.conf" "$TMP/tapird.log" || exit 1
tq=$(perf "$T_NS")
td=$(perf_detail "$T_NS")
LAB_NS=$T_NS lab_stop_tapird >/dev/null

# -C /dev/null: no system configuration; -k: in the foreground, killed with
# the namespace by the exit trap.
ip netns exec "$KS" timeout "$LIMIT" dnsmasq -k -C /dev/null --user=root \
	--pid-file= --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.0.0.2 --port=53 --server=10.0.2.53 \
	--cache-size=4096 >"$TMP/dnsmasq.log" 2>&1 &
for _ in $(seq 50); do
	ip netns exec "$KC" timeout 2 dig @10.0.0.2 +short +time=1 +tries=1 \
		h1.up.test A 2>/dev/null | grep -q 10.0.1.1 && break
	sleep 0.1
done
kq=$(perf "$KC")
printf 'tapir:\n%s\ndnsmasq:\n%s\n' "$td" "$(perf_detail "$KC")"

python3 - "$tq" "$kq" "$SECS" <<'PY'
import sys
t, k, secs = sys.argv[1], sys.argv[2], sys.argv[3]
def f(x):
    return "failed" if x in ("FAIL", "") else "%.0f q/s" % float(x)
ratio = "n/a" if t in ("FAIL", "") or k in ("FAIL", "") else "%.2f" % (float(t) / float(k))
print("dns_forward dnsperf %s s, warm cache, 40-query mix: tapir %s  dnsmasq %s  ratio tapir/dnsmasq %s" % (secs, f(t), f(k), ratio))
PY
