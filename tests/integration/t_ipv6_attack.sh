#!/bin/bash
# IPv6 attack tools against tapird, each bounded in time: thc-ipv6
# (atk6-fragmentation6, atk6-ndpexhaust6, atk6-flood_solicitate6,
# atk6-toobig6, atk6-implementation6) and the SI6 IPv6 toolkit (frag6, ns6,
# na6).  After each one tapird is alive, answers ping -6 (3 of 3), logged
# no error and no sanitizer report, and its resident memory stays under a
# bound derived from its configured limits (below).
#
# The tools write their frames onto the kernel side of the TAP with packet
# sockets, so only tapird sees them; nothing leaves the lab namespace.
# An ASan+UBSan build is used when TAPIRD_SAN names one (scripts/check
# exports it when build-san/src/tapird exists), else TAPIRD.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"

SAN=0
if [ -n "${TAPIRD_SAN-}" ] && [ -x "$TAPIRD_SAN" ]; then
	TAPIRD=$TAPIRD_SAN
	SAN=1
	# Its own modules when built beside it; the plain ones load too.
	if [ -d "$(dirname "$TAPIRD_SAN")/modules/.libs" ]; then
		TAPIR_MODULE_DIR=$(dirname "$TAPIRD_SAN")/modules/.libs
	fi
	# A small quarantine, so that freed memory held by ASan does not
	# pass for growth; stop at the first error, report it in the log.
	export ASAN_OPTIONS=quarantine_size_mb=16:abort_on_error=1:detect_leaks=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
tl_init

TOOLS=(atk6-fragmentation6 atk6-ndpexhaust6 atk6-flood_solicitate6 atk6-toobig6
	atk6-implementation6 frag6 ns6 na6)
for tool in "${TOOLS[@]}"; do
	command -v "$tool" >/dev/null ||
		bail "$tool is installed" "scripts/deps installs thc-ipv6 and ipv6toolkit"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
export TAPIR_CONTROL_SOCKET=$TL_TMP/ctl.sock
ADDR6=fd00::2
HOST6=fd00::1

# The limits that bound what outsiders can make tapird hold, set low here
# so that the bound below means something.
ARP_CACHE=256         # entries of each neighbour cache (ARP and ND share the size)
REASM_BYTES=1048576   # reassembly, all datagrams together
TCP_CONNS=256         # TCP connections (TIME_WAIT apart)
TCP_TW=256            # connections in TIME_WAIT
TCP_MEM=4194304       # all TCP buffers together
cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  address6 = [ "$ADDR6/64" ];
  host_address6 = "$HOST6/64";
  gateway6 = "$HOST6";
};
control = { socket = "$TAPIR_CONTROL_SOCKET"; };
modules = (
  { name = "echo"; udp_port = 7; tcp_port = 7; discard_udp_port = 9;
    discard_tcp_port = 9; chargen_udp_port = 0; chargen_tcp_port = 19; }
);
stack = {
  arp_cache_size = $ARP_CACHE;
  arp_queue_len = 3;
  reasm_max_bytes = $REASM_BYTES;
  tcp_max_connections = $TCP_CONNS;
  tcp_max_time_wait = $TCP_TW;
  tcp_memory_limit = $TCP_MEM;
};
EOF
tl_start_with "$TL_TMP/tapir.conf"

addr6_preferred() {
	"$TAPIRCTL" status 2>/dev/null | grep -q "$ADDR6/64  preferred"
}
tl_wait 50 addr6_preferred || bail "fd00::2 is preferred" "$("$TAPIRCTL" status 2>&1)"
rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$LAB_TAPIRD_PID/status" 2>/dev/null
}
# A first exchange of each kind, so the baseline has its buffers.
in_ns ping -6 -c 3 -i 0.2 -W 2 "$ADDR6" >/dev/null 2>&1
printf 'x\n' | in_ns timeout 5 nc -6 -N -w 2 "$ADDR6" 7 >/dev/null 2>&1
BASE=$(rss_kib)
[ -n "$BASE" ] || bail "tapird's VmRSS readable" "no /proc/$LAB_TAPIRD_PID/status"

# The bound: what the configured limits let outsiders make tapird hold,
# over the baseline (whose fixed tables, the neighbour caches among them,
# are allocated at start):
#   neighbour queues   2 MiB per family (ND6_QUEUE_BYTES_MAX and ARP's)
#   reassembly         REASM_BYTES, counted once per family
#   TCP                TCP_MEM of buffers + (TCP_CONNS + TCP_TW) connection
#                      records of under 1 KiB (struct tcp_conn is 776 bytes)
#   allocator slack    16 MiB: glibc keeps freed chunks and arenas
# Under ASan every byte costs more (redzones, its own allocator's
# metadata): twice all that, plus the 16 MiB quarantine and 32 MiB for
# shadow pages and the runtime's own allocations.
LIMITS_KIB=$(((2 * 2048) + 2 * REASM_BYTES / 1024 + TCP_MEM / 1024 + (TCP_CONNS + TCP_TW)))
if [ "$SAN" = 1 ]; then
	BOUND=$((BASE + 2 * (LIMITS_KIB + 16384) + 16384 + 32768))
else
	BOUND=$((BASE + LIMITS_KIB + 16384))
fi
ok "tapird ($([ "$SAN" = 1 ] && echo "ASan+UBSan build" || echo "plain build")) up: VmRSS $BASE KiB, bound $BOUND KiB"

# ndpexhaust6 pings random addresses of a network through its router: make
# tapird the next hop for fd02::/64 so that the pings reach it (a host
# forwards nothing: each is dropped as not for us).
in_ns ip -6 route add fd02::/64 via "$ADDR6" dev "$TAP" ||
	bail "a route to fd02::/64 through tapird"

# after TOOL_DESC: the checks that follow each tool.
after() {
	local what=$1 out=$TL_TMP/ping.out rss counts san
	if ! lab_tapird_running; then
		not_ok "after $what: tapird still running" "$(tail -n 20 "$TL_LOG")"
		exit 1
	fi
	in_ns timeout 15 ping -6 -n -c 3 -i 0.2 -W 2 "$ADDR6" >"$out" 2>&1
	counts=$(ping_counts "$out")
	rss=$(rss_kib)
	san=$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TL_LOG" | head -n 5)
	if [ "${counts#* }" != 3 ]; then
		not_ok "after $what: tapird alive, ping -6 fd00::2 3 of 3" \
			"ping: ${counts:-no summary}" "$(tail -n 4 "$out")"
	elif [ -n "$san" ]; then
		not_ok "after $what: no sanitizer report" "$san"
	elif [ -z "$rss" ] || [ "$rss" -gt "$BOUND" ]; then
		not_ok "after $what: VmRSS ${rss:-?} KiB within $BOUND KiB" \
			"baseline $BASE KiB"
	else
		ok "after $what: alive, ping -6 3 of 3, VmRSS $rss KiB (bound $BOUND)"
	fi
}

# attack SECS DESC CMD...: run CMD in the lab for at most SECS seconds.
attack() {
	local secs=$1 desc=$2 rc
	shift 2
	in_ns timeout -k 2 "$secs" "$@" >"$TL_TMP/tool.out" 2>&1
	rc=$?
	case $rc in
	0 | 124) ;;
	*) diag "$desc: exit $rc: $(tail -n 3 "$TL_TMP/tool.out")" ;;
	esac
	after "$desc"
}
stat_of() {
	"$TAPIRCTL" stats 2>/dev/null |
		awk -v n="$1" '{ v = $NF; sub(/[[:space:]]+[0-9]+$/, "") } $0 == n { r = v } END { print r + 0 }'
}

start=$SECONDS
# thc-ipv6.  fragmentation6's tests pause between sends; -f would flood.
attack 6 "atk6-fragmentation6 (6 s of its fragment tests)" \
	atk6-fragmentation6 -p "$TAP" "$ADDR6"
attack 4 "atk6-ndpexhaust6 at fd02::/64 through tapird (4 s)" \
	atk6-ndpexhaust6 "$TAP" fd02::/64
before=$(stat_of nd6_solicitations_rx)
attack 3 "atk6-flood_solicitate6 fd00::2 (3 s flood of NS from random senders)" \
	atk6-flood_solicitate6 "$TAP" "$ADDR6"
n=$(($(stat_of nd6_solicitations_rx) - before))
check "flood_solicitate6 reached Neighbor Discovery ($n solicitations)" \
	"nd6_solicitations_rx grew by $n" test "$n" -gt 100
evict=$(stat_of nd6_cache_evictions)
diag "neighbour cache evictions so far: $evict (cache of $ARP_CACHE)"

# Packet Too Big for the kernel side's address, with an MTU below IPv6's
# minimum: the path MTU goes to 1280, not lower, and a full-size echo
# (1500 bytes) is still answered, in fragments the kernel reassembles.
before=$(stat_of pmtu_lowered)
attack 5 "atk6-toobig6 fd00::2 for fd00::1, MTU 1000" \
	atk6-toobig6 "$TAP" "$ADDR6" "$HOST6" 1000
n=$(($(stat_of pmtu_lowered) - before))
check "toobig6: tapird lowered the path MTU to fd00::1 ($n)" \
	"$("$TAPIRCTL" stats 2>&1 | grep -E 'pmtu|icmp')" test "$n" -ge 1
tcpdump_start "$TL_TMP/frag.txt" "ip6 and src $ADDR6 and ip6[6] == 44" ||
	bail "tcpdump listens on $TAP"
in_ns timeout 10 ping -6 -n -c 2 -i 0.3 -W 2 -s 1452 "$ADDR6" >"$TL_TMP/ping-big.out" 2>&1
tcpdump_stop
big=$(sed -n 's/.*payload length: \([0-9]*\)) .*: frag .*/\1/p' "$TL_TMP/frag.txt" | sort -n | tail -n 1)
check "then a 1500-byte echo is answered in fragments of at most 1280 bytes (largest payload ${big:-none})" \
	"$(cat "$TL_TMP/ping-big.out"; head -n 6 "$TL_TMP/frag.txt")" \
	sh -c "grep -q ' 2 received' '$TL_TMP/ping-big.out' && [ -n '$big' ] && [ '$big' -le 1240 ]"

attack 8 "atk6-implementation6 (8 s of its header tests)" \
	atk6-implementation6 -p "$TAP" "$ADDR6"

# The SI6 toolkit: a second of sleep between rounds (-z 1).
attack 4 "frag6 -F 500 (500 fragments a second, 4 s)" \
	frag6 -i "$TAP" -d "$ADDR6" -F 500 -l -z 1
attack 6 "frag6 -p (reassembly policy probes)" \
	frag6 -i "$TAP" -d "$ADDR6" -p
before=$(stat_of nd6_solicitations_rx)
attack 4 "ns6 -F 500 (NS from 500 forged senders a second, 4 s)" \
	ns6 -i "$TAP" -d "$ADDR6" -D "$TAPIR_MAC" -t "$ADDR6" -e -F 500 -l -z 1
n=$(($(stat_of nd6_solicitations_rx) - before))
check "ns6: the solicitations reached Neighbor Discovery ($n)" \
	"nd6_solicitations_rx grew by $n" test "$n" -ge 500
before=$(stat_of nd6_address_conflicts)
attack 4 "na6 claiming fd00::2 with override (4 s)" \
	na6 -i "$TAP" -d ff02::1 -t "$ADDR6" -o -l -z 1
n=$(($(stat_of nd6_address_conflicts) - before))
pref=no
addr6_preferred && pref=yes
check "na6: the forged claims on fd00::2 are counted as conflicts ($n), fd00::2 stays preferred ($pref)" \
	"$("$TAPIRCTL" status 2>&1)" sh -c "[ '$n' -ge 1 ] && [ '$pref' = yes ]"
attack 4 "na6 -T 500 (advertisements for 500 random fd00::/64 targets a second, 4 s)" \
	na6 -i "$TAP" -d ff02::1 -t fd00::/64 -T 500 -o -l -z 1
diag "attacks took $((SECONDS - start)) s"

errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
lab_stop_tapird
st=$LAB_TAPIRD_STATUS
san=$(grep -E -A 12 'AddressSanitizer|LeakSanitizer|runtime error:' "$TL_LOG" | head -n 40)
check "tapird stops cleanly (exit $st), no sanitizer report (leaks included)" \
	"$san" sh -c "[ '$st' = 0 ] && [ -z \"\$1\" ]" _ "$san"
tl_done
