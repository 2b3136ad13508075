# shellcheck shell=bash
# Helpers shared by the integration tests (tests/integration/t_*.sh).
#
# Protocol with tests/integration/run: a test prints one line per case,
# "ok - DESCRIPTION" or "not ok - DESCRIPTION", diagnostics as lines starting
# with "# " right after the case they explain, and exits non-zero if a case
# failed.  A test runs in $LAB_NS when the runner made one for it (it then
# also sets LAB_LOGDIR, where tapird's log goes), else it makes its own lab.
# Every client command runs inside the lab: in_ns CMD...

TL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../scripts/lab disable=SC1091
. "$TL_DIR/../../scripts/lab"

TL_FAILED=0
TL_CASES=0
TAPIR_ADDR=10.0.0.2
HOST_ADDR=10.0.0.1
TAPIR_MAC=02:00:00:00:00:02
TAP=tapir0

ok() {
	TL_CASES=$((TL_CASES + 1))
	printf 'ok - %s\n' "$1"
}

# not_ok DESCRIPTION [DIAGNOSTIC...]: each diagnostic may be multi-line.
not_ok() {
	local d
	TL_CASES=$((TL_CASES + 1))
	TL_FAILED=$((TL_FAILED + 1))
	printf 'not ok - %s\n' "$1"
	shift
	for d in "$@"; do
		printf '%s\n' "$d" | sed 's/^/# /'
	done
}

# check DESCRIPTION DIAGNOSTIC CONDITION...: ok if CONDITION succeeds.  A
# DIAGNOSTIC "@FILE" shows FILE as it is after CONDITION ran.
check() {
	local desc=$1 diag=$2
	shift 2
	if "$@"; then
		ok "$desc"
	else
		if [ "${diag:0:1}" = @ ]; then
			diag=$(head -c 2000 "${diag:1}" 2>&1)
		fi
		not_ok "$desc" "$diag"
	fi
}

# absent REGEX FILE: FILE has no line matching REGEX.
absent() {
	! grep -q -- "$1" "$2"
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# Give up on the rest of the test (a precondition failed).
bail() {
	not_ok "$1" "${@:2}"
	exit 1
}

tl_done() {
	if [ "$TL_CASES" -eq 0 ]; then
		not_ok "test ran at least one case"
	fi
	[ "$TL_FAILED" -eq 0 ]
	exit
}

in_ns() {
	ip netns exec "$LAB_NS" "$@"
}

# Set up the lab for this test: use the runner's namespace or make one, a
# log directory, priorities in tapird's log, and cleanup on exit.
tl_init() {
	local tmp
	set -u
	set -o pipefail
	if [ "$(id -u)" -ne 0 ]; then
		bail "running as root" "integration tests need root (network namespaces, TAP)"
	fi
	if [ -n "${LAB_NS-}" ]; then
		lab_ns_exists "$LAB_NS" || bail "lab namespace $LAB_NS exists"
		case $LAB_NS in tapir-lab-?*) ;; *) bail "LAB_NS=$LAB_NS is a tapir-lab-* namespace" ;; esac
		lab_trap_install
	else
		lab_up || bail "lab namespace created"
	fi
	if [ -z "${LAB_LOGDIR-}" ]; then
		tmp=$(mktemp -d /tmp/tapir-test.XXXXXX) || bail "temporary directory created"
		LAB_LOGDIR=$tmp
		# shellcheck disable=SC2016
		lab_on_exit 'rm -rf -- "$LAB_LOGDIR"'
	fi
	TL_TMP=$LAB_LOGDIR
	TL_LOG=$LAB_LOGDIR/tapird.log
	# shellcheck disable=SC2034 # used by scripts/lab
	LAB_JOURNAL_PRIO=1 LAB_TAP=$TAP
	export LAB_NS LAB_LOGDIR
	if [ ! -x "$TAPIRD" ]; then
		bail "tapird is built" "no executable at $TAPIRD"
	fi
}

# A second namespace behind the lab's kernel side, for servers a test runs
# there (an upstream DNS server): a veth pair from the lab (PEER_LAB_ADDR,
# PEER_LAB_ADDR6) to it (the addresses given), forwarding on in the lab,
# and default routes from the peer back through the lab.  Sets TL_PEER_NS;
# the namespace, and everything still running in it, is removed at exit
# like the lab.  Usage: tl_peer_up ADDR/PLEN [ADDR6/PLEN6] [MORE_ADDR/PLEN...]
PEER_LAB_ADDR=10.0.1.1
PEER_LAB_ADDR6=fd01::1
tl_peer_up() {
	local addr=$1 addr6=${2-} lab=$LAB_NS a
	shift
	[ $# -gt 0 ] && shift
	# lab_up makes and owns it (lab_cleanup removes it); the trap is armed.
	LAB_NO_TRAP=1 lab_up || bail "peer namespace created"
	TL_PEER_NS=$LAB_NS
	LAB_NS=$lab
	ip -n "$LAB_NS" link add tl-peer0 type veth peer name tl-peer1 \
		netns "$TL_PEER_NS" ||
		bail "veth between the lab and $TL_PEER_NS"
	if ! { ip -n "$LAB_NS" addr add "$PEER_LAB_ADDR/${addr#*/}" dev tl-peer0 &&
		ip -n "$LAB_NS" link set tl-peer0 up &&
		ip -n "$TL_PEER_NS" addr add "$addr" dev tl-peer1 &&
		ip -n "$TL_PEER_NS" link set tl-peer1 up &&
		ip -n "$TL_PEER_NS" route add default via "$PEER_LAB_ADDR" &&
		in_ns sysctl -qw net.ipv4.ip_forward=1; }; then
		bail "the peer namespace is addressed and routed"
	fi
	for a in "$@"; do
		ip -n "$TL_PEER_NS" addr add "$a" dev tl-peer1 ||
			bail "address $a in the peer namespace"
	done
	if [ -n "$addr6" ]; then
		if ! { ip -n "$LAB_NS" addr add "$PEER_LAB_ADDR6/${addr6#*/}" dev tl-peer0 nodad &&
			ip -n "$TL_PEER_NS" addr add "$addr6" dev tl-peer1 nodad &&
			ip -n "$TL_PEER_NS" -6 route add default via "$PEER_LAB_ADDR6" &&
			in_ns sysctl -qw net.ipv6.conf.all.forwarding=1; }; then
			bail "the peer namespace is addressed and routed (IPv6)"
		fi
	fi
}

in_peer() {
	ip netns exec "$TL_PEER_NS" "$@"
}

# Write a lab config to FILE.  Variables (with defaults) shape it:
# ECHO_UDP DISCARD_UDP CHARGEN_UDP (7 9 19), MTU (1500), ACD (false: the
# address is used at once instead of after seconds of RFC 5227 probing;
# t_acd tests the probing).
tl_write_conf() {
	cat >"$1" <<EOF
# tapir integration test configuration
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  gateway = "$HOST_ADDR";
  mtu = ${MTU:-1500};
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  acd = ${ACD:-false};
};
modules = (
  { name = "echo";
    udp_port = ${ECHO_UDP:-7};
    tcp_port = 7;
    discard_udp_port = ${DISCARD_UDP:-9};
    discard_tcp_port = 9;
    chargen_udp_port = ${CHARGEN_UDP:-19};
    chargen_tcp_port = 19;
  }
);
EOF
}

# The interface group of a lab configuration, for tests that write their
# own modules list: tapird's address and MAC, the host side's address, and
# ACD as for tl_write_conf.
tl_iface_conf() {
	cat <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  acd = ${ACD:-false};
};
EOF
}

# Start tapird with a fresh tl_write_conf configuration, or give up.
tl_start() {
	tl_write_conf "$TL_TMP/tapir.conf"
	tl_start_with "$TL_TMP/tapir.conf"
}

# Start tapird with CONF, or give up.
tl_start_with() {
	local conf=$1
	# shellcheck disable=SC2034 # for the tests
	TL_CONF=$conf
	if ! lab_start_tapird "$conf" "$TL_LOG" 2>"$TL_TMP/start.err"; then
		bail "tapird starts and is ready" "$(cat "$TL_TMP/start.err")"
	fi
}

# Lines tapird logged at error priority or worse (<0>..<3>).  A log without
# priority prefixes cannot be judged: that is reported as a line too.
tl_error_lines() {
	if ! grep -qE '^<[0-7]>' "$TL_LOG"; then
		printf 'no "<N>" priority prefixes in %s (JOURNAL_STREAM not honoured?)\n' "$TL_LOG"
		return
	fi
	grep -E '^<[0-3]>' "$TL_LOG"
}

# chargen_md5 BYTES: the MD5 of the first BYTES of an RFC 864 chargen
# stream (72-character lines rotating through the 95 printable characters).
chargen_md5() {
	python3 - "$1" <<'PY'
import hashlib, sys
line = bytes(range(32, 127))
h = hashlib.md5()
n, i, total = int(sys.argv[1]), 0, 0
while total < n:
    s = bytes(line[(i + c) % 95] for c in range(72)) + b"\r\n"
    take = min(len(s), n - total)
    h.update(s[:take])
    total += take
    i = (i + 1) % 95
print(h.hexdigest())
PY
}

tl_log_lines() {
	wc -l <"$TL_LOG"
}

# Wait at most SECS (in tenths: "50" = 5 s) until CONDITION succeeds.
tl_wait() {
	local tenths=$1 i
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# Send the bytes of FILE as one UDP datagram to PORT and write what comes back
# to OUT (stderr to OUT.err); returns socat's status.  WAIT: seconds to wait
# for answers after sending (default 1).
udp_xchg() {
	local port=$1 in=$2 out=$3 wait=${4:-1}
	in_ns timeout 10 socat -b 65536 -t "$wait" - "UDP:$TAPIR_ADDR:$port" \
		<"$in" >"$out" 2>"$out.err"
}

# Start tcpdump on the TAP (kernel side) writing decoded packets to FILE;
# FILTER is a pcap filter.  Waits until it listens.  Stopped at exit.
tcpdump_start() {
	local file=$1 filter=$2
	in_ns timeout 60 tcpdump -i "$TAP" -nn -l -v -s 256 "$filter" \
		>"$file" 2>"$file.err" &
	TL_TCPDUMP_PID=$!
	lab_on_exit "kill $TL_TCPDUMP_PID 2>/dev/null"
	tl_wait 50 grep -q 'listening on' "$file.err"
}

tcpdump_stop() {
	sleep 0.3
	# TERM, not INT: background jobs of a script start with SIGINT ignored.
	kill -TERM "$TL_TCPDUMP_PID" 2>/dev/null
	wait "$TL_TCPDUMP_PID" 2>/dev/null
	return 0
}

# "X packets transmitted, Y received" from ping output: prints "X Y".
ping_counts() {
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$1" | head -n 1
}
