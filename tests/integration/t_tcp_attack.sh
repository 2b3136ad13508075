#!/bin/bash
# TCP memory under attack: tapird with a small tcp_memory_limit takes, all
# at once and held together,
#  a. STALL_HTTP kernel connections that each ask the http module for an
#     8 MiB file and STALL_ECHO that push data into echo, all with a tiny
#     receive buffer they never read (the kernel advertises a zero window
#     once tapird has filled it);
#  b. OOO_CONNS raw connections (tcp_attack_tool.py ooo, its own address
#     and MAC on the link) that send segments beyond RCV.NXT with a hole
#     before each, up to the window, so the out-of-order queues fill;
#  c. SYN_COUNT half-open SYNs from random lab addresses and ports.
# While it holds: a legitimate curl and echo client are still served;
# tapird's TCP memory gauge (tcp_memory_bytes, and its high-water mark
# tcp_memory_peak_bytes) never passes tcp_memory_limit; its VmHWM stays
# under the bound documented in tapir.conf(5) (tcp_memory_limit).  After
# the load is released every one of those connections is gone within
# RELEASE_LIMIT seconds, the gauge is back at its baseline, and tapird
# still serves.  The figures are printed as "# figures: ...".
# The http module's send_timeout is long, so that the stalled transfers
# are held by the load and not ended by the module; its header and idle
# timeouts are 10 s, which end the few connections whose request was
# dropped for want of memory (their kernel sends it again only after a
# long backoff).
# Every tool is bounded in count and time; all traffic stays in the lab.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

STALL_HTTP=1200   # a: kernel connections asking for the big file
STALL_ECHO=1200   # a: kernel connections pushing into echo
PUSH=196608       #    bytes each of those tries to push
OOO_CONNS=300     # b: raw connections with out-of-order data
SYN_COUNT=20000   # c: half-open SYNs
TCP_MEM=16777216  # tcp_memory_limit: 16 MiB
RCVBUF=262144     # tcp_receive_buffer (the default)
LOAD_LIMIT=90     # seconds for the load to be in place
RELEASE_LIMIT=30  # seconds for every attack connection to go
OOO_IP=10.0.0.50
OOO_MAC=02:00:00:00:00:50
SYN_NET=10.0.0.128+127 # c: sources 10.0.0.128 to 10.0.0.254
SYN_MAC=02:00:00:00:00:80

TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
export TAPIR_CONTROL_SOCKET=$TL_TMP/ctl.sock
TOOL=$TL_DIR/tcp_attack_tool.py
# Thousands of client sockets here, and tapird opens the file once per
# connection that is sending it.
ulimit -n 16384 || bail "ulimit -n 16384"

WWW=$TL_TMP/www
mkdir -p "$WWW"
head -c 8M /dev/urandom >"$WWW/big.bin"
printf 'small and legitimate\n' >"$WWW/small.txt"
cat >"$TL_TMP/tapir.conf" <<EOF
$(tl_iface_conf)
control = { socket = "$TAPIR_CONTROL_SOCKET"; };
modules = (
  { name = "http";
    port = 80;
    root = "$WWW";
    max_connections = 4000;
    send_timeout = 600;
    header_timeout = 10;
    idle_timeout = 10;
  },
  { name = "echo"; udp_port = 7; tcp_port = 7; discard_udp_port = 0;
    discard_tcp_port = 0; chargen_udp_port = 0; chargen_tcp_port = 0; }
);
stack = {
  tcp_memory_limit = $TCP_MEM;
  tcp_max_connections = 4096;
  tcp_receive_buffer = $RCVBUF;
  tcp_time_wait = 1;
};
EOF
tl_start_with "$TL_TMP/tapir.conf"
# The TAP's queue towards tapird: room for the bursts of resets when the
# load is released (the default 1000 frames would drop some, and a
# connection whose reset is lost lingers until tapird's own timeouts).
in_ns ip link set "$TAP" txqueuelen 10000 || bail "txqueuelen of $TAP set"

# ---- helpers ----------------------------------------------------------------

proc_kib() { # FIELD: VmRSS or VmHWM of tapird, in KiB
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$LAB_TAPIRD_PID/status" 2>/dev/null
}
# stats: "tapirctl stats" into $TL_TMP/stats; stat_of NAME: a value in it
# (0 when absent; "tcp_connections/STATE" for a state's connections).
stats() {
	"$TAPIRCTL" stats >"$TL_TMP/stats" 2>&1
}
stat_of() {
	awk -v k="$1" '{ n = $1; v = $NF }
		$2 ~ /^state=/ { n = $1 "/" substr($2, 7) }
		n == k { x = v } END { print x + 0 }' "$TL_TMP/stats"
}
conns() { # every connection tapird holds, in any state
	awk '$1 == "tcp_connections" { n += $NF } END { print n + 0 }' "$TL_TMP/stats"
}
by_state() {
	awk '$1 == "tcp_connections" { printf "%s=%s ", substr($2, 7), $NF }' "$TL_TMP/stats"
}
legit_http() {
	in_ns timeout 15 curl -s -m 12 -o "$TL_TMP/legit.body" \
		"http://$TAPIR_ADDR/small.txt" &&
		cmp -s "$TL_TMP/legit.body" "$WWW/small.txt"
}
legit_echo() {
	local got
	got=$(printf 'legit %s\n' "$1" | in_ns timeout 15 nc -N -w 12 "$TAPIR_ADDR" 7 2>&1)
	[ "$got" = "legit $1" ]
}
mem_ok() { # the gauge and its high-water mark within the limit
	[ "$(stat_of tcp_memory_bytes)" -le "$TCP_MEM" ] &&
		[ "$(stat_of tcp_memory_peak_bytes)" -le "$TCP_MEM" ]
}

# A first exchange of each kind, so that the baseline has its buffers.
legit_http || bail "a first http request is served"
legit_echo first || bail "a first echo exchange"
stats || bail "tapirctl stats answers" "$(cat "$TL_TMP/stats")"
idle() {
	stats && [ "$(conns)" = 0 ]
}
tl_wait 100 idle || bail "no connection left before the load" "$(by_state)"
BASE_RSS=$(proc_kib VmRSS)
BASE_HWM=$(proc_kib VmHWM)
BASE_GAUGE=$(stat_of tcp_memory_bytes)
[ -n "$BASE_RSS" ] || bail "tapird's VmRSS readable"
diag "before the load: VmRSS $BASE_RSS KiB, VmHWM $BASE_HWM KiB, tcp_memory_bytes $BASE_GAUGE"

# The bound on tapird's resident memory over its baseline, as tapir.conf(5)
# documents it under tcp_memory_limit: the TCP buffers (TCP_MEM), plus
# CONN_KIB per connection for what lies outside them (struct tcp_conn,
# 824 bytes; a scoreboard of 16 to 32 records of 20 bytes, as a stalled
# peer keeps few segments in flight; the http module's struct hconn,
# 2.5 KiB, and the touched page of its request buffer; malloc headers),
# times tcp_max_connections, plus ALLOC_SLACK for what the allocator keeps
# of freed chunks (glibc does not give its heap back piecemeal) and the
# tables that grow once (the flow table, the ARP cache).
CONN_KIB=8
MAX_CONNS=4096
ALLOC_SLACK_KIB=16384
BOUND=$((BASE_RSS + TCP_MEM / 1024 + MAX_CONNS * CONN_KIB + ALLOC_SLACK_KIB))

# ---- the load -----------------------------------------------------------------

REL=$TL_TMP/release
rm -f "$REL"
HOLD=150 # the most any tool holds when the test never releases it
start_tool() { # NAME ARGS...: run the attack tool in the lab, in the background
	local name=$1
	shift
	in_ns timeout -k 5 $((HOLD + 60)) python3 "$TOOL" "$@" \
		>"$TL_TMP/$name.out" 2>&1 &
	eval "PID_$name=\$!"
	lab_on_exit "touch '$REL'; kill $! 2>/dev/null"
}

sample() { # VmRSS, VmHWM and the gauge every 0.5 s until $REL.done exists
	local i
	for ((i = 0; i < 600; i++)); do
		[ -e "$REL.done" ] && break
		printf '%s %s %s\n' "$(proc_kib VmRSS)" "$(proc_kib VmHWM)" \
			"$("$TAPIRCTL" stats 2>/dev/null | awk '$1 == "tcp_memory_bytes" { print $NF }')"
		sleep 0.5
	done >"$TL_TMP/samples"
}
sample &
SAMPLER=$!
lab_on_exit "touch '$REL.done'; kill $SAMPLER 2>/dev/null"

stats
W0=$(stat_of tcp_window_probes)
start_tool ooo ooo "$TAP" "$OOO_MAC" "$OOO_IP" "$TAPIR_MAC" "$TAPIR_ADDR" 7 \
	"$OOO_CONNS" "$RCVBUF" "$HOLD" "$TL_TMP/ooo.ready" "$REL"
start_tool syn syn "$TAP" "$SYN_MAC" "$SYN_NET" "$TAPIR_MAC" "$TAPIR_ADDR" 80 \
	"$SYN_COUNT" 20 "$TL_TMP/syn.ready" "$REL"
start_tool http stall "$TAPIR_ADDR" 80 "$STALL_HTTP" get:/big.bin "$HOLD" \
	"$TL_TMP/http.ready" "$REL"
start_tool echo stall "$TAPIR_ADDR" 7 "$STALL_ECHO" "push:$PUSH" "$HOLD" \
	"$TL_TMP/echo.ready" "$REL"

all_ready() {
	[ -e "$TL_TMP/ooo.ready" ] && [ -e "$TL_TMP/syn.ready" ] &&
		[ -e "$TL_TMP/http.ready" ] && [ -e "$TL_TMP/echo.ready" ]
}
start=$SECONDS
tl_wait $((LOAD_LIMIT * 10)) all_ready
took=$((SECONDS - start))
for t in ooo syn http echo; do
	diag "$t: $(cat "$TL_TMP/$t.ready" 2>/dev/null || echo "not ready: $(tail -n 3 "$TL_TMP/$t.out")")"
done
all_ready || bail "the load is in place within ${LOAD_LIMIT}s" "$(tail -n 5 "$TL_TMP"/*.out)"
field() { # NAME FILE: NAME=VALUE of a READY line
	sed -n 's/.* '"$1"'=\([0-9]*\).*/\1/p' "$2"
}
# Let the windows close: the send buffers fill and the peers stop reading.
sleep 3
stats
held=$(conns)
diag "load in place after ${took}s: tapird holds $held connections: $(by_state)"
good=0
[ "$(field connected "$TL_TMP/http.ready")" -ge $((STALL_HTTP * 9 / 10)) ] &&
	[ "$(field connected "$TL_TMP/echo.ready")" -ge $((STALL_ECHO * 9 / 10)) ] &&
	[ "$(field established "$TL_TMP/ooo.ready")" -ge $((OOO_CONNS * 9 / 10)) ] &&
	[ "$(field synacks "$TL_TMP/syn.ready")" -ge 100 ] && good=1
check "the attack is in place: >= 90% of $STALL_HTTP + $STALL_ECHO stalled clients and $OOO_CONNS out-of-order connections, SYNs answered" \
	"$(cat "$TL_TMP"/*.ready)" test "$good" = 1
# (How many are still held depends on timing: those stalled for 5 s are
# reset once memory runs short, so only probes and queues are checked.)
good=0
[ "$(stat_of tcp_window_probes)" -gt "$W0" ] &&
	[ "$(stat_of tcp_out_of_order_segments)" -gt $((OOO_CONNS * 10)) ] && good=1
check "tapird feels it: zero windows probed, out-of-order segments queued" \
	"window_probes $W0 -> $(stat_of tcp_window_probes), out_of_order_segments $(stat_of tcp_out_of_order_segments), held $held" \
	test "$good" = 1
good=0
[ "$(stat_of tcp_memory_peak_bytes)" -ge $((TCP_MEM * 3 / 4)) ] && good=1
check "the TCP buffers are under pressure (high-water mark >= 3/4 of tcp_memory_limit)" \
	"tcp_memory_peak_bytes $(stat_of tcp_memory_peak_bytes) of $TCP_MEM" test "$good" = 1

# The legitimate clients, while everything is held.
check "under the load a legitimate curl is served (small.txt)" \
	"curl failed or got something else: $(head -c 200 "$TL_TMP/legit.body" 2>&1)" legit_http
check "under the load a legitimate echo exchange works" "" legit_echo during
stats
check "under the load tcp_memory_bytes and its high-water mark stay within tcp_memory_limit ($TCP_MEM)" \
	"tcp_memory_bytes $(stat_of tcp_memory_bytes), tcp_memory_peak_bytes $(stat_of tcp_memory_peak_bytes)" mem_ok
HWM=$(proc_kib VmHWM)
PEAK_GAUGE=$(stat_of tcp_memory_peak_bytes)
check "under the load VmHWM ($HWM KiB) stays within $BOUND KiB" \
	"baseline $BASE_RSS KiB; see tapir.conf(5) tcp_memory_limit" \
	test "${HWM:-999999999}" -le "$BOUND"

# ---- release ------------------------------------------------------------------

touch "$REL"
start=$SECONDS
for t in ooo syn http echo; do
	eval "wait \$PID_$t"
done
gone() {
	stats && [ "$(conns)" = 0 ] &&
		[ "$(stat_of tcp_memory_bytes)" = "$BASE_GAUGE" ]
}
good=0
tl_wait $((RELEASE_LIMIT * 10)) gone && good=1
took=$((SECONDS - start))
left=$("$TAPIRCTL" connections 2>&1 | awk 'NR > 1 { sub(/.*:/, "", $1); n[$1 " " $3]++ }
	END { for (k in n) printf "port %s: %d; ", k, n[k] }')
RELEASE_TOOK=$took
check "released, every connection is gone and tcp_memory_bytes is back to $BASE_GAUGE (within ${RELEASE_LIMIT}s)" \
	"after ${took}s: $(by_state) tcp_memory_bytes $(stat_of tcp_memory_bytes); left: $left; tools: $(cat "$TL_TMP"/{ooo,syn,http,echo}.out | tr '\n' ' ')" \
	test "$good" = 1
touch "$REL.done"
wait "$SAMPLER"
SAMPLE_PEAK=$(awk '$3 > m { m = $3 } END { print m + 0 }' "$TL_TMP/samples")
RSS_PEAK=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$TL_TMP/samples")
check "no sample of tcp_memory_bytes passed tcp_memory_limit" \
	"largest sample $SAMPLE_PEAK of $TCP_MEM" test "$SAMPLE_PEAK" -le "$TCP_MEM"

check "afterwards a legitimate curl is served" "" legit_http
check "afterwards a legitimate echo exchange works" "" legit_echo after
check "tapird still running" "tapird exited" lab_tapird_running
HWM=$(proc_kib VmHWM)
# (The kernel updates VmHWM from batched counters: a VmRSS sample can be a
# little above it, so both are held to the bound.)
check "over the whole test VmHWM ($HWM KiB) and every VmRSS sample ($RSS_PEAK KiB at most) stay within $BOUND KiB" \
	"baseline $BASE_RSS KiB; see tapir.conf(5) tcp_memory_limit" \
	test "${HWM:-999999999}" -le "$BOUND" -a "$RSS_PEAK" -le "$BOUND"
diag "figures: baseline VmRSS ${BASE_RSS} KiB; peak VmRSS sampled ${RSS_PEAK} KiB;" \
	"VmHWM ${HWM} KiB (+$((HWM - BASE_RSS)) KiB); bound ${BOUND} KiB;" \
	"tcp_memory_limit $((TCP_MEM / 1024)) KiB; tcp_memory_peak_bytes $((PEAK_GAUGE / 1024)) KiB;" \
	"largest gauge sample $((SAMPLE_PEAK / 1024)) KiB; after release VmRSS $(proc_kib VmRSS) KiB;" \
	"released in ${RELEASE_TOOK}s; tcp_memory_aborts $(stat_of tcp_memory_aborts)," \
	"tcp_out_of_order_pruned_for_memory $(stat_of tcp_out_of_order_pruned_for_memory)"
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
