#!/bin/bash
# scripts/bench.d/dhcp.sh (run by scripts/bench): DHCP DORA rate, measured by
# perfdhcp, of tapir's dhcp module and of ISC Kea (kea-dhcp4, memfile lease
# database) on the kernel stack, at 1000 and at 20000 addresses in the pool.
#
# tapir runs on its TAP in a lab namespace; Kea runs in a namespace of its
# own joined by a veth pair to a client namespace.  perfdhcp acts as a relay
# from the kernel side's address (10.0.0.1) towards 10.0.0.2, for
# BENCH_DHCP_SECONDS (default 8) per run at an offered rate of
# BENCH_DHCP_RATE (default 20000) exchanges per second, each simulated
# client a distinct MAC; a pool smaller than the clients keeps serving the
# clients that got an address.  Every namespace is made here and removed on
# exit; no traffic leaves them.  Both servers keep their leases on disk:
# tapir writes and fdatasyncs its journal before each batch of ACKs (batch
# settings at their defaults); Kea's memfile appends to its CSV file.
#
# Prints, per pool size: the rate of each and the ratio tapir/Kea.
set -u
set -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export TAPIRD=${TAPIRD:-$ROOT/build/src/tapird}
export TAPIR_MODULE_DIR=${TAPIR_MODULE_DIR:-$ROOT/build/src/modules/.libs}
SECONDS_PER_RUN=${BENCH_DHCP_SECONDS:-8}
RATE=${BENCH_DHCP_RATE:-20000}
# shellcheck source=../lab disable=SC1091
. "$ROOT/scripts/lab"

die() {
	echo "dhcp bench: $*" >&2
	exit 1
}
for c in perfdhcp kea-dhcp4 ip python3; do
	command -v "$c" >/dev/null || die "$c missing (scripts/deps)"
done
[ -x "$TAPIRD" ] || die "no tapird at $TAPIRD (build first)"
[ -f "$TAPIR_MODULE_DIR/dhcp.so" ] || die "no dhcp.so in $TAPIR_MODULE_DIR"

WORK=$(mktemp -d /tmp/tapir-bench-dhcp.XXXXXX) || die "mktemp"
lab_on_exit "rm -rf -- '$WORK'"
lab_trap_install

# The last address of a pool of N starting at 10.0.16.0.
pool_last() {
	python3 -c "import ipaddress as i; print(i.ip_address('10.0.16.0') + $1 - 1)"
}

# "Rate: X 4-way exchanges/second" of a perfdhcp report.
rate_of() {
	sed -n 's/^Rate: \([0-9.]*\) 4-way exchanges\/second.*/\1/p' "$1" | tail -n 1
}

run_perfdhcp() {
	local ns=$1 ifname=$2 clients=$3 out=$4
	ip netns exec "$ns" timeout $((SECONDS_PER_RUN + 20)) perfdhcp -4 \
		-l "$ifname" -r "$RATE" -R "$clients" -p "$SECONDS_PER_RUN" \
		>"$out" 2>&1
	# perfdhcp exits 3 when packets were dropped: still a measurement.
	[ -n "$(rate_of "$out")" ]
}

bench_tapir() {
	local n=$1 last conf out
	last=$(pool_last "$n")
	conf=$WORK/tapir-$n.conf
	out=$WORK/perfdhcp-tapir-$n.out
	cat >"$conf" <<EOF
interface = {
  name = "tapir0";
  address = "10.0.0.2/16";
  mac = "02:00:00:00:00:02";
  host_address = "10.0.0.1/16";
};
log = { level = "notice"; };
modules = (
  { name = "dhcp";
    pool = [ "10.0.16.0-$last" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ]; domain = "lab.test";
    lease_file = "$WORK/tapir-$n.leases"; }
);
EOF
	lab_up || return 1
	if ! lab_start_tapird "$conf" "$WORK/tapird-$n.log"; then
		lab_down
		return 1
	fi
	run_perfdhcp "$LAB_NS" tapir0 "$n" "$out"
	local rc=$?
	lab_stop_tapird TERM
	lab_down
	[ "$rc" -eq 0 ] || { sed 's/^/  | /' "$out" | tail -n 20 >&2; return 1; }
	RESULT=$(rate_of "$out")
}

bench_kea() {
	local n=$1 last srv cli out kpid rc
	last=$(pool_last "$n")
	out=$WORK/perfdhcp-kea-$n.out
	lab_up || return 1
	srv=$LAB_NS
	lab_up || return 1
	cli=$LAB_NS
	ip link add kea0 netns "$srv" type veth peer name kcli0 netns "$cli" || return 1
	ip -n "$srv" addr add 10.0.0.2/16 dev kea0
	ip -n "$cli" addr add 10.0.0.1/16 dev kcli0
	ip -n "$srv" link set kea0 up
	ip -n "$cli" link set kcli0 up
	mkdir -p "$WORK/kea-$n"
	cat >"$WORK/kea-$n/kea.json" <<EOF
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "kea0" ] },
  "lease-database": { "type": "memfile", "persist": true,
                      "name": "$WORK/kea-$n/leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "subnet": "10.0.0.0/16",
                 "pools": [ { "pool": "10.0.16.0 - $last" } ],
                 "option-data": [
                   { "name": "routers", "data": "10.0.0.1" },
                   { "name": "domain-name-servers", "data": "10.0.0.2" },
                   { "name": "domain-name", "data": "lab.test" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
                 "output_options": [ { "output": "$WORK/kea-$n/kea.log" } ] } ]
} }
EOF
	ip netns exec "$srv" env KEA_PIDFILE_DIR="$WORK/kea-$n" \
		KEA_LOCKFILE_DIR="$WORK/kea-$n" \
		timeout $((SECONDS_PER_RUN + 40)) kea-dhcp4 -c "$WORK/kea-$n/kea.json" \
		>"$WORK/kea-$n/stdout" 2>&1 &
	kpid=$!
	# Ready when it listens on port 67.
	for _ in $(seq 50); do
		ip netns exec "$srv" ss -lun 2>/dev/null | grep -q ':67 ' && break
		sleep 0.1
	done
	run_perfdhcp "$cli" kcli0 "$n" "$out"
	rc=$?
	kill "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	lab_down "$cli"
	lab_down "$srv"
	[ "$rc" -eq 0 ] || { sed 's/^/  | /' "$out" "$WORK/kea-$n/stdout" | tail -n 30 >&2; return 1; }
	RESULT=$(rate_of "$out")
}

status=0
printf '%-8s %14s %14s %8s\n' pool "tapir DORA/s" "Kea DORA/s" tapir/Kea
for n in 1000 20000; do
	# Run in this shell (not in $(...)), so the cleanup trap knows every
	# namespace; the result comes back in RESULT.
	RESULT=
	bench_tapir "$n" || { echo "tapir run at $n failed" >&2; status=1; }
	t=$RESULT
	RESULT=
	bench_kea "$n" || { echo "Kea run at $n failed" >&2; status=1; }
	k=$RESULT
	ratio=$(python3 -c "
t, k = '$t', '$k'
print('%.2f' % (float(t) / float(k)) if t and k and float(k) > 0 else '-')")
	printf '%-8s %14s %14s %8s\n' "$n" "${t:--}" "${k:--}" "$ratio"
done
echo "(perfdhcp -r $RATE -R <pool> -p $SECONDS_PER_RUN, relay mode; both servers keep leases on disk)"
exit "$status"
