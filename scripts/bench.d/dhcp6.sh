#!/bin/bash
# scripts/bench.d/dhcp6.sh (run by scripts/bench): DHCPv6 Solicit/Advertise/
# Request/Reply rate, measured by perfdhcp -6, of tapir's dhcp6 module and of
# ISC Kea (kea-dhcp6, memfile lease database) on the kernel stack, at 1000
# and at 20000 addresses in the pool.
#
# tapir runs on its TAP in a lab namespace; Kea runs in a namespace of its
# own joined by a veth pair to a client namespace.  perfdhcp sends from the
# client side's link-local address to ff02::1:2, as a client on the link
# does, for BENCH_DHCP6_SECONDS (default 8) per run at an offered rate of
# BENCH_DHCP6_RATE (default 20000) exchanges per second, each simulated
# client a distinct DUID.  Every namespace is made here and removed on exit;
# no traffic leaves them.  Both servers keep their leases on disk: tapir
# writes and fdatasyncs its journal before each batch of Replies (batch
# settings at their defaults); Kea's memfile appends to its CSV file.
#
# Prints, per pool size: the rate of each and the ratio tapir/Kea.
set -u
set -o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export TAPIRD=${TAPIRD:-$ROOT/build/src/tapird}
export TAPIR_MODULE_DIR=${TAPIR_MODULE_DIR:-$ROOT/build/src/modules/.libs}
SECONDS_PER_RUN=${BENCH_DHCP6_SECONDS:-8}
RATE=${BENCH_DHCP6_RATE:-20000}
SIZES=${BENCH_DHCP6_POOLS:-1000 20000}
# shellcheck source=../lab disable=SC1091
. "$ROOT/scripts/lab"

die() {
	echo "dhcp6 bench: $*" >&2
	exit 1
}
for c in perfdhcp kea-dhcp6 ip python3; do
	command -v "$c" >/dev/null || die "$c missing (scripts/deps)"
done
[ -x "$TAPIRD" ] || die "no tapird at $TAPIRD (build first)"
[ -f "$TAPIR_MODULE_DIR/dhcp6.so" ] || die "no dhcp6.so in $TAPIR_MODULE_DIR"

WORK=$(mktemp -d /tmp/tapir-bench-dhcp6.XXXXXX) || die "mktemp"
lab_on_exit "rm -rf -- '$WORK'"
lab_trap_install

# The last address of a pool of N starting at fd00::1:0.
pool_last() {
	python3 -c "import ipaddress as i; print(i.ip_address('fd00::1:0') + $1 - 1)"
}

# "Rate: X 4-way exchanges/second" of a perfdhcp report.
rate_of() {
	sed -n 's/^Rate: \([0-9.]*\) 4-way exchanges\/second.*/\1/p' "$1" | tail -n 1
}

# Wait (at most 5 s) until IFNAME in NS has a link-local address past DAD.
ll_ready() {
	local ns=$1 ifname=$2
	for _ in $(seq 50); do
		if ip -n "$ns" -6 -o addr show dev "$ifname" scope link 2>/dev/null |
			grep -q inet6 &&
			! ip -n "$ns" -6 -o addr show dev "$ifname" scope link |
			grep -q tentative; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

run_perfdhcp() {
	local ns=$1 ifname=$2 clients=$3 out=$4
	ip netns exec "$ns" timeout $((SECONDS_PER_RUN + 20)) perfdhcp -6 \
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
  address = "10.0.0.2/24";
  mac = "02:00:00:00:00:02";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
};
log = { level = "notice"; };
modules = (
  { name = "dhcp6";
    pool = [ "fd00::1:0-$last" ];
    dns = [ "fd00::2" ]; domain = "lab.test";
    lease_file = "$WORK/tapir-$n.leases"; }
);
EOF
	lab_up || return 1
	if ! lab_start_tapird "$conf" "$WORK/tapird-$n.log" ||
		! ll_ready "$LAB_NS" tapir0; then
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
	ip -n "$srv" addr add fd00::2/64 dev kea0 nodad
	ip -n "$cli" addr add fd00::1/64 dev kcli0 nodad
	ip -n "$srv" link set kea0 up
	ip -n "$cli" link set kcli0 up
	ll_ready "$srv" kea0 && ll_ready "$cli" kcli0 || return 1
	mkdir -p "$WORK/kea-$n"
	cat >"$WORK/kea-$n/kea.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "kea0" ] },
  "server-id": { "type": "LL", "persist": false },
  "lease-database": { "type": "memfile", "persist": true,
                      "name": "$WORK/kea-$n/leases6.csv", "lfc-interval": 0 },
  "preferred-lifetime": 3600, "valid-lifetime": 7200,
  "subnet6": [ { "subnet": "fd00::/64", "interface": "kea0",
                 "pools": [ { "pool": "fd00::1:0 - $last" } ],
                 "option-data": [
                   { "name": "dns-servers", "data": "fd00::2" },
                   { "name": "domain-search", "data": "lab.test" } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "severity": "WARN",
                 "output_options": [ { "output": "$WORK/kea-$n/kea.log" } ] } ]
} }
EOF
	ip netns exec "$srv" env KEA_PIDFILE_DIR="$WORK/kea-$n" \
		KEA_LOCKFILE_DIR="$WORK/kea-$n" \
		timeout $((SECONDS_PER_RUN + 40)) kea-dhcp6 -c "$WORK/kea-$n/kea.json" \
		>"$WORK/kea-$n/stdout" 2>&1 &
	kpid=$!
	# Ready when it listens on port 547.
	for _ in $(seq 50); do
		ip netns exec "$srv" ss -lun 2>/dev/null | grep -q ':547 ' && break
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
printf '%-8s %14s %14s %8s\n' pool "tapir SARR/s" "Kea SARR/s" tapir/Kea
for n in $SIZES; do
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
echo "(perfdhcp -6 -r $RATE -R <pool> -p $SECONDS_PER_RUN, multicast from the link-local address; both servers keep leases on disk)"
exit "$status"
