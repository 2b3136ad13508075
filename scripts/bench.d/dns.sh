#!/bin/bash
# DNS query rate, tapir's dns module against dnsmasq on the kernel stack, in
# the same run: dnsperf sends the same mix of queries (A, AAAA, MX, TXT, SRV,
# PTR, NXDOMAIN) for DNS_BENCH_SECONDS (default 10) to each.
#
#   tapir:   dnsperf in a lab namespace, over the TAP, to tapird's dns module
#            serving the zone of tapir.conf's example;
#   dnsmasq: dnsperf in one namespace, over a veth pair, to dnsmasq in
#            another, serving the same records (host-record, mx-host, ...).
#
# Every namespace is made here and removed on exit; each run is bounded by
# dnsperf's -l and by `timeout`.  Prints queries/s for both and the ratio
# tapir/dnsmasq.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lab
. scripts/lab
SECS=${DNS_BENCH_SECONDS:-10}
LIMIT=$((SECS + 30))
TMP=$(mktemp -d /tmp/tapir-bench-dns.XXXXXX) || exit 1
lab_on_exit "rm -rf -- '$TMP'"
lab_trap_install

for t in dnsperf dnsmasq; do
	command -v "$t" >/dev/null || { echo "bench dns: $t missing (scripts/deps)" >&2; exit 1; }
done
if [ ! -x "$TAPIRD" ] || [ ! -e "$TAPIR_MODULE_DIR/dns.so" ]; then
	echo "bench dns: build first (scripts/check --quick, or make in build/)" >&2
	exit 1
fi

cat >"$TMP/queries" <<'EOF2'
www.lab.test A
www.lab.test AAAA
mail.lab.test MX
lab.test TXT
_http._tcp.lab.test SRV
2.0.0.10.in-addr.arpa PTR
alias.lab.test A
nosuch.lab.test A
EOF2

cat >"$TMP/tapir.conf" <<'EOF2'
interface = { name = "tapir0"; address = "10.0.0.2/24";
  mac = "02:00:00:00:00:02"; host_address = "10.0.0.1/24"; };
modules = ( { name = "dns"; port = 53;
  zones = ( { name = "lab.test";
              records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                          "@ NS ns1", "ns1 A 10.0.0.2",
                          "www A 10.0.0.2", "www AAAA fd00::2",
                          "mail MX 10 mx1", "mx1 A 10.0.0.3",
                          "alias CNAME www", "@ TXT \"v=lab\"",
                          "_http._tcp SRV 0 0 80 www" ]; } ); } );
log = { level = "notice"; };
EOF2

# NS: queries/s that dnsperf measured against 10.0.0.2 from NS, or FAIL.
perf() {
	ip netns exec "$1" timeout "$LIMIT" dnsperf -s 10.0.0.2 -d "$TMP/queries" \
		-l "$SECS" -c 4 -q 200 >"$TMP/perf.$1" 2>&1 || { echo FAIL; return; }
	sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$TMP/perf.$1" | head -n 1
}
# NS: dnsperf's "Queries lost" and "Response codes" lines, for the report.
perf_detail() {
	grep -E 'Queries (completed|lost)|Response codes' "$TMP/perf.$1" | sed 's/^ */  /'
}

# ---- tapir ------------------------------------------------------------------
lab_up >/dev/null || exit 1
T_NS=$LAB_NS
LAB_TAP=tapir0 lab_start_tapird "$TMP/tapir.conf" "$TMP/tapird.log" || exit 1
tq=$(perf "$T_NS")
td=$(perf_detail "$T_NS")
lab_stop_tapird >/dev/null

# ---- dnsmasq on the kernel stack ----------------------------------------------
lab_up >/dev/null || exit 1
KS=$LAB_NS
lab_up >/dev/null || exit 1
KC=$LAB_NS
ip link add kc0 netns "$KC" type veth peer name ks0 netns "$KS"
ip -n "$KS" addr add 10.0.0.2/24 dev ks0
ip -n "$KC" addr add 10.0.0.1/24 dev kc0
ip -n "$KS" link set ks0 up
ip -n "$KC" link set kc0 up
# -C /dev/null: no system configuration; -k: in the foreground, killed with
# the namespace by the exit trap.
ip netns exec "$KS" timeout "$LIMIT" dnsmasq -k -C /dev/null --user=root \
	--pid-file= --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.0.0.2 --port=53 --local=/lab.test/ \
	--host-record=ns1.lab.test,10.0.0.2 \
	--host-record=www.lab.test,10.0.0.2,fd00::2 \
	--host-record=mx1.lab.test,10.0.0.3 \
	--mx-host=mail.lab.test,mx1.lab.test,10 \
	--txt-record=lab.test,v=lab \
	--srv-host=_http._tcp.lab.test,www.lab.test,80,0,0 \
	--cname=alias.lab.test,www.lab.test \
	>"$TMP/dnsmasq.log" 2>&1 &
for _ in $(seq 50); do
	ip netns exec "$KC" timeout 2 dig @10.0.0.2 +short +time=1 +tries=1 \
		www.lab.test A 2>/dev/null | grep -q 10.0.0.2 && break
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
print("dns dnsperf %s s, 8-query mix: tapir %s  dnsmasq %s  ratio tapir/dnsmasq %s" % (secs, f(t), f(k), ratio))
PY
