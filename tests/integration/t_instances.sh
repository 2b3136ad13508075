#!/bin/bash
# tapird@.service: two instances side by side, each on its own TAP, started
# with exactly the arguments the template's ExecStart= gives them (read
# from the built unit, %i replaced; systemd is not needed).  Each answers
# on its own control socket (tapirctl -i NAME) although both files name the
# same control.socket, keeps its leases in its own state directory, and
# neither touches the other's files: leases granted by one are in its file
# and its report only, a reload of one is not seen by the other, and one
# stopping leaves the other serving.
#
# The instances' paths (/run/tapir, /var/lib/tapir, the configuration
# directory) are the machine's: the test runs them in a mount namespace of
# its own with a tmpfs on each, so nothing of the machine's is read or
# written.  Files are looked at from outside through /proc/PID/root.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
UNIT=${TAPIR_TEMPLATE_UNIT:-$(dirname "$TAPIRD")/../systemd/tapird@.service}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
[ -r "$UNIT" ] || bail "tapird@.service is built" "no unit at $UNIT"
for c in unshare nsenter python3; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
tool() { in_ns timeout 15 python3 "$TL_DIR/dhcp_tool.py" "$@"; }

# ExecStart=/ExecReload= of instance NAME, one word a line.
unit_words() { # KEY NAME
	sed -n "s/^$1=//p" "$UNIT" | sed "s/%i/$2/g" | tr -s '[:blank:]' '\n'
}
mapfile -t exec_a < <(unit_words ExecStart a)
mapfile -t exec_b < <(unit_words ExecStart b)
# The value after OPTION in an argument list.
arg_of() { # OPTION WORDS...
	local opt=$1
	shift
	while [ $# -gt 1 ]; do
		[ "$1" = "$opt" ] && { printf '%s\n' "$2"; return 0; }
		shift
	done
	return 1
}
conf_a=$(arg_of -c "${exec_a[@]}")
conf_b=$(arg_of -c "${exec_b[@]}")
sock_a=$(arg_of -s "${exec_a[@]}")
state_a=$(arg_of -S "${exec_a[@]}")
state_b=$(arg_of -S "${exec_b[@]}")
sock_b=$(arg_of -s "${exec_b[@]}")
unit_ok() {
	[ "${exec_a[1]}" = -f ] && [ "${conf_a##*/}" = a.conf ] &&
		[ "${conf_b%/*}" = "${conf_a%/*}" ] &&
		[ "$sock_a" = /run/tapir/a.sock ] && [ "$sock_b" = /run/tapir/b.sock ] &&
		[ "$state_a" = /var/lib/tapir/a ] && [ "$state_b" = /var/lib/tapir/b ]
}
check "the template's ExecStart: -f -c DIR/NAME.conf -s /run/tapir/NAME.sock -S /var/lib/tapir/NAME" \
	"a: ${exec_a[*]}" unit_ok
mapfile -t reload_a < <(unit_words ExecReload a)
check "the template's ExecReload: tapirctl -i NAME reload" "a: ${reload_a[*]}" \
	test "${reload_a[*]:1}" = "-i a reload"

# The mount namespace: a tmpfs on /run, /var/lib and the configuration
# directory's nearest existing ancestor (not the root or /usr), held by a
# sleeping process inside the lab's network namespace.
etc=${conf_a%/*}
while [ ! -d "$etc" ]; do etc=${etc%/*}; done
case $etc in "" | / | /usr) bail "a directory to hide for $conf_a" "got '$etc'" ;; esac
# ip netns exec, unshare and sh all exec: $! is the sleep itself.
# shellcheck disable=SC2016 # $1 is the inner shell's
ip netns exec "$LAB_NS" unshare --mount --propagation private sh -c '
	mount -t tmpfs -o mode=0755 tapir-run /run &&
	mount -t tmpfs -o mode=0755 tapir-state /var/lib &&
	mount -t tmpfs -o mode=0755 tapir-etc "$1" &&
	exec sleep 600' sh "$etc" </dev/null >"$TL_TMP/holder.log" 2>&1 &
holder=$!
lab_on_exit "kill $holder 2>/dev/null"
ns_ready() { [ "$(cat "/proc/$holder/comm" 2>/dev/null)" = sleep ]; }
tl_wait 50 ns_ready ||
	bail "a private mount namespace is made" "$(cat "$TL_TMP/holder.log")"
R=/proc/$holder/root
in_mnt() { nsenter -t "$holder" -m -n "$@"; }
mkdir -p "$R${conf_a%/*}" "$R/run/tapir" "$R$state_a" "$R$state_b" ||
	bail "the instances' directories are made"

# Two configurations: their own TAP and addresses, the same control.socket
# (which -s overrides), a dhcp module with its default lease file.
write_conf() { # FILE TAP NET(10.0.N) MAC-LAST-BYTE
	cat >"$1" <<EOF
interface = {
  name = "$2";
  address = "$3.2/24";
  mac = "02:00:00:00:00:$4";
  host_address = "$3.1/24";
  acd = false;
};
control = { socket = "/run/tapir/shared.sock"; };
modules = (
  { name = "echo"; udp_port = 7; tcp_port = 7; },
  { name = "dhcp"; pool = [ "$3.100-$3.109" ]; lease_time = 3600; }
);
EOF
}
write_conf "$R$conf_a" tapa 10.0.0 0a
write_conf "$R$conf_b" tapb 10.0.2 0b

pids=()
start() { # NAME WORDS...
	local name=$1 log=$TL_TMP/tapird-$1.log
	shift
	: >"$log"
	# shellcheck disable=SC2094 # stat names the log; tapird appends to it
	# nsenter and env exec: $! is tapird.
	nsenter -t "$holder" -m -n env TAPIR_MODULE_DIR="$TAPIR_MODULE_DIR" \
		JOURNAL_STREAM="$(stat -L -c '%d:%i' "$log")" \
		"$TAPIRD" "${@:2}" </dev/null >>"$log" 2>&1 &
	pids+=($!)
	lab_on_exit "kill $! 2>/dev/null"
}
start a "${exec_a[@]}"
pid_a=${pids[0]}
start b "${exec_b[@]}"
pid_b=${pids[1]}
ready() { # NAME HOST_ADDR TAP
	grep -qiw ready "$TL_TMP/tapird-$1.log" &&
		ip -n "$LAB_NS" -o -4 addr show dev "$3" 2>/dev/null | grep -qF "inet $2/"
}
tl_wait 200 ready a 10.0.0.1 tapa
check "instance a starts and is ready on tapa" "@$TL_TMP/tapird-a.log" ready a 10.0.0.1 tapa
tl_wait 200 ready b 10.0.2.1 tapb
check "instance b starts and is ready on tapb" "@$TL_TMP/tapird-b.log" ready b 10.0.2.1 tapb

socks=$(cd "$R/run/tapir" && ls)
check "/run/tapir holds a.sock and b.sock, not the files' shared.sock" \
	"ls: $socks" test "$socks" = "$(printf 'a.sock\nb.sock')"

out=$TL_TMP/out
in_mnt "$TAPIRCTL" -i a status >"$out" 2>&1
check "tapirctl -i a reaches instance a (interface tapa 10.0.0.2)" "@$out" \
	grep -q "^interface *tapa  10.0.0.2/24" "$out"
in_mnt "$TAPIRCTL" -i b status >"$out" 2>&1
check "tapirctl -i b reaches instance b (interface tapb 10.0.2.2)" "@$out" \
	grep -q "^interface *tapb  10.0.2.2/24" "$out"

# A lease from each, through a relay on the kernel side of its TAP.
MAC_A=02:aa:00:00:00:01
MAC_B=02:bb:00:00:00:01
tool relay 10.0.0.2 10.0.0.1 "$MAC_A" request=1 >"$out" 2>&1
check "instance a grants a lease (relayed DISCOVER, REQUEST)" "@$out" \
	grep -q "^ACK 10.0.0.10[0-9] " "$out"
tool relay 10.0.2.2 10.0.2.1 "$MAC_B" request=1 >"$out" 2>&1
check "instance b grants a lease" "@$out" grep -q "^ACK 10.0.2.10[0-9] " "$out"

la=$R$state_a/dhcp.leases
lb=$R$state_b/dhcp.leases
has() { [ -f "$2" ] && grep -qi "$1" "$2"; }
lacks() { ! has "$@"; }
tl_wait 50 has "$MAC_A" "$la"
check "a's lease is in /var/lib/tapir/a/dhcp.leases" "$(cat "$la" 2>&1)" has "$MAC_A" "$la"
tl_wait 50 has "$MAC_B" "$lb"
check "b's lease is in /var/lib/tapir/b/dhcp.leases" "$(cat "$lb" 2>&1)" has "$MAC_B" "$lb"
check "a's lease file has none of b's" "$(cat "$la" 2>&1)" lacks "$MAC_B" "$la"
check "b's lease file has none of a's" "$(cat "$lb" 2>&1)" lacks "$MAC_A" "$lb"
files=$(cd "$R/var/lib" && find . -type f | sort)
only_own() {
	! printf '%s\n' "$files" |
		grep -q -v -e '^\./tapir/a/dhcp\.leases' -e '^\./tapir/b/dhcp\.leases'
}
check "no state file outside /var/lib/tapir/a and b, and nothing shared" \
	"files: $files" only_own
in_mnt "$TAPIRCTL" -i a leases >"$out" 2>&1
leases_a() { grep -qi "$MAC_A" "$out" && ! grep -qi "$MAC_B" "$out"; }
check "tapirctl -i a leases: a's client only" "@$out" leases_a
in_mnt "$TAPIRCTL" -i b leases >"$out" 2>&1
leases_b() { grep -qi "$MAC_B" "$out" && ! grep -qi "$MAC_A" "$out"; }
check "tapirctl -i b leases: b's client only" "@$out" leases_b

# ExecReload= of instance a, as systemctl reload tapird@a runs it.
in_mnt "$TAPIRCTL" "${reload_a[@]:1}" >"$out" 2>&1
rc=$?
check "ExecReload of a (tapirctl -i a reload) exits 0" "exit $rc: $(cat "$out")" test "$rc" = 0
check "a logged the reload" "@$TL_TMP/tapird-a.log" grep -qi "reload" "$TL_TMP/tapird-a.log"
check "b saw no reload" "@$TL_TMP/tapird-b.log" absent "reload" "$TL_TMP/tapird-b.log"

# One instance stops; the other goes on, its files untouched.
sum_b=$(md5sum <"$lb")
kill -TERM "$pid_a"
gone_a() { ! kill -0 "$pid_a" 2>/dev/null; }
tl_wait 100 gone_a
check "instance a stops on SIGTERM" "pid $pid_a" gone_a
check "a's socket is removed, b's is there" "$(ls -l "$R/run/tapir" 2>&1)" \
	sh -c "[ ! -e '$R/run/tapir/a.sock' ] && [ -S '$R/run/tapir/b.sock' ]"
in_mnt "$TAPIRCTL" -i b status >"$out" 2>&1
check "tapirctl -i b still reaches b" "@$out" grep -q "^interface *tapb " "$out"
in_mnt "$TAPIRCTL" -i a status >"$out" 2>&1
rc=$?
check "tapirctl -i a: exit 2 once a is gone" "exit $rc: $(cat "$out")" test "$rc" = 2
check "b's lease file is unchanged by a's stop" "" test "$(md5sum <"$lb")" = "$sum_b"
for bad in "-s run/a.sock" "-S var/lib/tapir/a" "-s /$(printf 'x%.0s' $(seq 1 110))"; do
	# shellcheck disable=SC2086 # an option and its value
	"$TAPIRD" $bad -t >"$out" 2>&1
	rc=$?
	check "tapird ${bad:0:20}...: refused (exit 1) with the reason" \
		"exit $rc: $(cat "$out")" sh -c "[ $rc = 1 ] && grep -q 'is not an absolute path' '$out'"
done
"$TAPIRCTL" -i ../b status >"$out" 2>&1
rc=$?
check "tapirctl -i with a path as the name: exit 2" "exit $rc: $(cat "$out")" test "$rc" = 2
kill -TERM "$pid_b"
tl_done
