#!/bin/bash
# The sandbox: started as root with user = set, tapird ends with no
# capability in any set and its system call filter in place (Seccomp: 2),
# and still serves DNS, HTTP (a file and a directory listing), DHCP (a
# lease written to its journal), the control socket, a reload that adds a
# module (SIGHUP) and one through tapirctl, and stops cleanly on SIGTERM.
# Started the way its systemd unit starts it (as an unprivileged user with
# only CAP_NET_ADMIN, ambient, through setpriv, under the unit's own
# SystemCallFilter= and RestrictAddressFamilies=, read from the built unit
# and applied by tests/tools/sysfilter), it configures the TAP, drops that
# capability and installs its own filter.  A module making a system call outside
# the allow-list ends tapird by SIGSYS with one line naming the call; with
# seccomp = false the same module starts and no filter is installed.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

for c in dig curl dhclient socat setpriv; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
SYSPROBE=${TAPIR_SYSPROBE:-$(dirname "$TAPIRD")/../tests/unit/.libs/testmod_syscall.so}
[ -f "$SYSPROBE" ] ||
	bail "the sysprobe test module is built" "no $SYSPROBE (make check builds it)"

# Everything the unprivileged daemon reads or writes lives where nobody
# may reach it: modules, configuration, web root, state, control socket.
base=$(mktemp -d /tmp/tapir-sandbox.XXXXXX) || bail "base directory created"
lab_on_exit "rm -rf -- '$base'"
chmod 755 "$base"
mkdir -p "$base/mods" "$base/www/sub" "$base/www/list" "$base/state" "$base/run"
for m in echo dns dhcp http; do
	cp "$TAPIR_MODULE_DIR/$m.so" "$base/mods/" || bail "$m.so copied" "from $TAPIR_MODULE_DIR"
done
cp "$SYSPROBE" "$base/mods/sysprobe.so"
printf '<h1>sandboxed</h1>\n' >"$base/www/index.html"
printf 'in sub\n' >"$base/www/sub/index.html"
printf 'one\n' >"$base/www/list/first-file.txt"
printf 'two\n' >"$base/www/list/second-file.txt"
chmod -R a+rX "$base/mods" "$base/www"
chown nobody:nogroup "$base/state" "$base/run"
chmod 750 "$base/state"
SOCK=$base/run/ctl.sock
LEASES=$base/state/dhcp.leases
conf=$base/tapir.conf

# status_of PID FIELD: a field of /proc/PID/status ("Seccomp", "CapEff").
status_of() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# write_conf [MODULES...]: the services, then extra module groups.
write_conf() {
	{
		tl_iface_conf
		cat <<EOF
module_dir = "$base/mods";
control = { socket = "$SOCK"; };
user = "nobody";
group = "nogroup";
modules = (
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A 10.0.0.2",
                            "www A 10.0.0.2" ]; } ); },
  { name = "dhcp"; pool = [ "10.0.0.100-10.0.0.199" ]; lease_time = 3600;
    router = "10.0.0.1"; lease_file = "$LEASES"; },
  { name = "http"; port = 80; root = "$base/www"; listing = true; }
EOF
		for m in "$@"; do printf '  , %s\n' "$m"; done
		printf ');\n'
	} >"$conf"
	chmod 644 "$conf"
}

# ---- root dropping to nobody, the filter on (the default) ---------------
write_conf
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

got=$(status_of "$pid" Seccomp)
check "Seccomp: 2 in /proc/PID/status (a filter is in place)" "Seccomp: $got" \
	test "$got" = 2
got=$(status_of "$pid" NoNewPrivs)
check "NoNewPrivs: 1" "NoNewPrivs: $got" test "$got" = 1
check "the log says the filter is in place" "@$TL_LOG" \
	grep -q 'system call filter in place' "$TL_LOG"
got=$(status_of "$pid" Uid)
check "runs as nobody" "Uid: $got" test "$got" = 65534
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	got=$(status_of "$pid" "$set")
	check "$set is empty" "$set: $got" test "$got" = 0000000000000000
done

out=$TL_TMP/ctl.out
"$TAPIRCTL" -s "$SOCK" status >"$out" 2>&1
check "tapirctl status under the filter: exit 0, names the TAP" "@$out" \
	grep -q "$TAP" "$out"
"$TAPIRCTL" -s "$SOCK" stats >"$out" 2>&1
check "tapirctl stats under the filter: exit 0" "@$out" test -s "$out"

got=$(in_ns timeout 10 dig +short +time=2 +tries=2 @"$TAPIR_ADDR" www.lab.test A 2>&1)
check "DNS: www.lab.test A answered 10.0.0.2" "got: $got" test "$got" = 10.0.0.2

got=$(in_ns timeout 20 curl -s "http://$TAPIR_ADDR/" 2>&1)
check "HTTP: GET / serves index.html (open, fstat, read)" "got: $got" \
	test "$got" = "<h1>sandboxed</h1>"
got=$(in_ns timeout 20 curl -s "http://$TAPIR_ADDR/list/" 2>&1)
# shellcheck disable=SC2317 # called through check
both_listed() { [[ $got == *first-file.txt*second-file.txt* ]]; }
check "HTTP: a directory listing names its files (getdents64)" "got: $got" \
	both_listed

# A lease acknowledged is a lease written to the journal, under the filter.
cat >"$TL_TMP/dhclient.sh" <<'EOF'
#!/bin/sh
exit 0
EOF
chmod +x "$TL_TMP/dhclient.sh"
in_ns timeout 30 dhclient -4 -1 -pf "$TL_TMP/dhclient.pid" \
	-lf "$TL_TMP/dhclient.leases" -sf "$TL_TMP/dhclient.sh" -d -v "$TAP" \
	>"$TL_TMP/dhclient.out" 2>&1 &
dc=$!
lab_on_exit "kill $dc 2>/dev/null"
# shellcheck disable=SC2317 # called through tl_wait
leased() { grep -q '^L 10\.0\.0\.1[0-9][0-9] ' "$LEASES" 2>/dev/null; }
check "DHCP: dhclient's lease is written to the journal" "@$TL_TMP/dhclient.out" \
	tl_wait 200 leased
grep -q 'bound to' "$TL_TMP/dhclient.out" ||
	tl_wait 50 grep -q 'bound to' "$TL_TMP/dhclient.out"
check "DHCP: dhclient is bound" "@$TL_TMP/dhclient.out" grep -q 'bound to' "$TL_TMP/dhclient.out"
kill "$dc" 2>/dev/null
wait "$dc" 2>/dev/null

# Reload adding a module: the configuration read again, echo.so loaded
# (open, mmap, mprotect) after the filter went in.
before=$(tl_log_lines)
write_conf '{ name = "echo"; udp_port = 7; tcp_port = 0; discard_udp_port = 0;
    discard_tcp_port = 0; chargen_udp_port = 0; chargen_tcp_port = 0; }'
kill -HUP "$pid"
# shellcheck disable=SC2317 # called through tl_wait
reloaded() { tail -n +"$((before + 1))" "$TL_LOG" | grep -q 'reload complete'; }
check "SIGHUP adding the echo module: reload complete" "@$TL_LOG" tl_wait 50 reloaded
printf 'sandboxed echo\n' >"$TL_TMP/in"
udp_xchg 7 "$TL_TMP/in" "$TL_TMP/echo.out" 1
check "the module loaded by the reload answers (UDP echo)" \
	"got: $(cat "$TL_TMP/echo.out" 2>/dev/null)" cmp -s "$TL_TMP/in" "$TL_TMP/echo.out"
"$TAPIRCTL" -s "$SOCK" reload >"$out" 2>&1
check "tapirctl reload under the filter: exit 0, reload complete" "@$out" \
	grep -q 'reload complete' "$out"
got=$(in_ns timeout 10 dig +short +time=2 +tries=2 @"$TAPIR_ADDR" www.lab.test A 2>&1)
check "DNS still answers after the reloads" "got: $got" test "$got" = 10.0.0.2

check "tapird still running" "tapird exited" lab_tapird_running
got=$(status_of "$pid" Seccomp)
check "the filter is still in place (Seccomp: 2)" "Seccomp: $got" test "$got" = 2
check "no system call was refused" "@$TL_LOG" absent 'seccomp: system call' "$TL_LOG"
errs=$(tl_error_lines)
check "no error-level line in the log" "$errs" test -z "$errs"
lab_stop_tapird TERM
check "SIGTERM under the filter: exit status 0" "status $LAB_TAPIRD_STATUS" \
	test "$LAB_TAPIRD_STATUS" = 0
check "the control socket is removed at exit" "$(ls -l "$SOCK" 2>&1)" test ! -e "$SOCK"

# ---- as the unit starts it: an unprivileged user, ambient CAP_NET_ADMIN --
# The unit's own system call filter and socket families, read from the
# built tapird.service: SystemCallFilter= lines applied in order (the first
# an allow-list, "~" lines taking away, later ones adding), groups expanded
# with systemd-analyze; tests/tools/sysfilter applies them as systemd would.
expand_filter() {
	local item
	for item in "$@"; do
		case $item in
		@*)
			# shellcheck disable=SC2046 # one name per word
			expand_filter $(systemd-analyze syscall-filter --no-pager "$item" |
				sed -n '2,$ { s/#.*//; s/^[[:space:]]*//; /^$/d; p; }')
			;;
		*) printf '%s\n' "$item" ;;
		esac
	done
}
unit_syscalls() {
	local line items
	: >"$base/unit.syscalls"
	while IFS= read -r line; do
		items=${line#SystemCallFilter=}
		case $items in
		"~"*)
			# shellcheck disable=SC2086 # a list of names
			expand_filter ${items#"~"} | sort -u >"$base/deny"
			grep -vxF -f "$base/deny" "$base/unit.syscalls" >"$base/keep"
			mv "$base/keep" "$base/unit.syscalls"
			;;
		*)
			# shellcheck disable=SC2086
			expand_filter $items >>"$base/unit.syscalls"
			;;
		esac
	done < <(grep '^SystemCallFilter=' "$UNIT")
	sort -u -o "$base/unit.syscalls" "$base/unit.syscalls"
	[ -s "$base/unit.syscalls" ]
}
UNIT=${TAPIR_UNIT:-$(dirname "$TAPIRD")/../systemd/tapird.service}
SYSFILTER=${TAPIR_SYSFILTER:-$(dirname "$TAPIRD")/../tests/tools/sysfilter}
[ -f "$UNIT" ] || bail "the unit is built" "no $UNIT (make builds it)"
[ -x "$SYSFILTER" ] || bail "tests/tools/sysfilter is built" "no $SYSFILTER (make check builds it)"
unit_syscalls || bail "the unit's SystemCallFilter= lines expand to system calls" "$(grep SystemCallFilter "$UNIT")"
check "the unit's filter leaves out setuid, chown and setrlimit (@privileged, @resources)" \
	"$(grep -xE 'setuid|chown|setrlimit' "$base/unit.syscalls")" \
	sh -c "! grep -qxE 'setuid|chown|setrlimit' '$base/unit.syscalls'"
families=
read -ra fams < <(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
for f in "${fams[@]}"; do
	case $f in
	AF_UNIX) n=1 ;; AF_INET) n=2 ;; AF_INET6) n=10 ;; AF_NETLINK) n=16 ;;
	*) bail "a known family in RestrictAddressFamilies=" "$f" ;;
	esac
	families=${families:+$families,}$n
done
[ -n "$families" ] || bail "the unit restricts address families"

# setpriv does what User= and AmbientCapabilities= do; every step execs, so
# the pid is tapird's.  The unit relies on /dev/net/tun being open to
# everyone (0666, as udev and systemd make it); where it is not, tapird
# gets such a node over it in a mount namespace of its own (the host's
# device stays as it is).
wrap=$base/tapird-as-unit
cat >"$wrap" <<EOF
#!/bin/sh
exec unshare -m --propagation private sh "$wrap.sh" "\$@"
EOF
cat >"$wrap.sh" <<EOF
set -e
if [ "\$(stat -c %a /dev/net/tun)" != 666 ]; then
	mkdir -p "$base/dev"
	mount -t tmpfs -o mode=755 tapir-tun "$base/dev"
	mknod -m 666 "$base/dev/tun" c 10 200
	mount --bind "$base/dev/tun" /dev/net/tun
fi
# An ASan build's leak check at exit needs ptrace, which the unit's
# filter refuses (as systemd would): not for this part.
export ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
exec setpriv --reuid=nobody --regid=nogroup --clear-groups \\
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \\
	--bounding-set=-all,+net_admin --no-new-privs \\
	"$SYSFILTER" "$base/unit.syscalls" "$families" "$TAPIRD" "\$@"
EOF
chmod 755 "$wrap"
TL_LOG=$TL_TMP/tapird-unit.log
{
	tl_iface_conf
	cat <<EOF
module_dir = "$base/mods";
control = { socket = "$SOCK"; };
modules = ( { name = "echo"; udp_port = 7; tcp_port = 7; } );
EOF
} >"$conf"
chmod 644 "$conf"
real_tapird=$TAPIRD
TAPIRD=$wrap tl_start_with "$conf"
TAPIRD=$real_tapird
pid=$LAB_TAPIRD_PID
got=$(status_of "$pid" Uid)
check "as the unit: runs as nobody from the start" "Uid: $got" test "$got" = 65534
check "as the unit: the host side of the TAP was configured with CAP_NET_ADMIN" \
	"$(in_ns ip -4 addr show dev "$TAP" 2>&1)" \
	sh -c "ip netns exec '$LAB_NS' ip -4 addr show dev '$TAP' | grep -q 'inet $HOST_ADDR/24'"
for set in CapInh CapPrm CapEff CapAmb; do
	got=$(status_of "$pid" "$set")
	check "as the unit: $set is empty after start-up" "$set: $got" \
		test "$got" = 0000000000000000
done
got=$(status_of "$pid" CapBnd)
check "as the unit: the bounding set holds CAP_NET_ADMIN only (no CAP_SETPCAP to empty it)" \
	"CapBnd: $got" test "$got" = 0000000000001000
got=$(status_of "$pid" Seccomp)
check "as the unit: Seccomp: 2" "Seccomp: $got" test "$got" = 2
udp_xchg 7 "$TL_TMP/in" "$TL_TMP/echo.out" 1
check "as the unit: UDP echo answers" "got: $(cat "$TL_TMP/echo.out" 2>/dev/null)" \
	cmp -s "$TL_TMP/in" "$TL_TMP/echo.out"
"$TAPIRCTL" -s "$SOCK" status >"$out" 2>&1
check "as the unit: tapirctl status answers" "@$out" grep -q "$TAP" "$out"
lab_stop_tapird TERM
check "as the unit: SIGTERM, exit status 0" "status $LAB_TAPIRD_STATUS" \
	test "$LAB_TAPIRD_STATUS" = 0

# ---- a system call outside the allow-list ----------------------------
probe='{ name = "sysprobe"; path = "'$base'/mods/sysprobe.so"; }'
# The interface of these parts; HOST4, HOST6 and LINK_MTU change it.
plain_iface() {
	cat <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  mtu = ${LINK_MTU:-1500};
  host_address = "${HOST4:-$HOST_ADDR}/24";
  address6 = [ "fd00::2/64" ];
  host_address6 = "${HOST6:-fd00::1}/64";
};
EOF
}
start_plain() {
	{
		plain_iface
		printf 'module_dir = "%s";\ncontrol = { socket = "%s"; };\n%s\n' \
			"$base/mods" "$SOCK" "$1"
		printf 'modules = ( { name = "echo"; udp_port = 7; tcp_port = 7; } %s );\n' "$2"
	} >"$conf"
}
TL_LOG=$TL_TMP/tapird-probe.log
start_plain "" ""
# sd_notify under the filter: a notification socket of our own, and a
# watchdog every 0.1 s (WATCHDOG_USEC 0.2 s).
NOTIFY=$base/notify.sock
socat -u "UNIX-RECV:$NOTIFY" "OPEN:$TL_TMP/notify.out,creat,append" &
notify_pid=$!
lab_on_exit "kill $notify_pid 2>/dev/null"
tl_wait 50 test -S "$NOTIFY" || bail "notification socket made" "no $NOTIFY"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=200000 tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

# Root without user keeps its privileges: a reload under the filter still
# moves the host side's addresses (rtnetlink) and MTU (ioctl).
before=$(tl_log_lines)
HOST4=10.0.0.3 HOST6=fd00::3 LINK_MTU=1400 start_plain "" ""
kill -HUP "$pid"
check "reload moving the host addresses and MTU under the filter: complete" \
	"@$TL_LOG" tl_wait 50 reloaded
v4=$(in_ns ip -4 -o addr show dev "$TAP" 2>&1)
# shellcheck disable=SC2317 # called through check
moved() { grep -q "$2" <<<"$1" && ! grep -q "$3" <<<"$1"; }
check "the host side now has 10.0.0.3/24 instead of 10.0.0.1" "$v4" \
	moved "$v4" 'inet 10.0.0.3/24' 'inet 10.0.0.1/'
v6=$(in_ns ip -6 -o addr show dev "$TAP" 2>&1)
check "the host side now has fd00::3/64 instead of fd00::1" "$v6" \
	moved "$v6" 'inet6 fd00::3/64' 'inet6 fd00::1/'
got=$(in_ns cat "/sys/class/net/$TAP/mtu")
check "the host side's MTU is now 1400" "mtu $got" test "$got" = 1400
check "no warning that the host side needs a restart" "@$TL_LOG" \
	absent 'restart tapird to apply the host side' "$TL_LOG"
sleep 1
# Datagrams end without a newline: they run together in the file.
# shellcheck disable=SC2317 # called through check
notified() { grep -q "$1" "$TL_TMP/notify.out"; }
check "sd_notify under the filter: READY=1" "@$TL_TMP/notify.out" notified 'READY=1'
check "sd_notify under the filter: RELOADING=1 on SIGHUP" "@$TL_TMP/notify.out" \
	notified 'RELOADING=1'
n=$(grep -o 'WATCHDOG=1' "$TL_TMP/notify.out" | wc -l)
check "sd_notify under the filter: WATCHDOG=1 keeps coming (at least 5)" \
	"$n datagrams" test "$n" -ge 5

start_plain "" ", $probe"
kill -HUP "$pid"
# shellcheck disable=SC2317 # called through tl_wait
gone() { ! lab_tapird_running; }
check "a module calling getpgid on reload ends tapird" "@$TL_LOG" tl_wait 50 gone
lab_stop_tapird TERM
check "it ends by SIGSYS (exit status 159)" "status $LAB_TAPIRD_STATUS" \
	test "$LAB_TAPIRD_STATUS" = 159
check "one line names the call: <2>seccomp: system call getpgid (N) is not in tapird's allow-list" \
	"@$TL_LOG" grep -qE "^<2>seccomp: system call getpgid \([0-9]+\) is not in tapird's allow-list; stopping" "$TL_LOG"

TL_LOG=$TL_TMP/tapird-noseccomp.log
start_plain "seccomp = false;" ""
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID
got=$(status_of "$pid" Seccomp)
check "seccomp = false: no filter (Seccomp: 0)" "Seccomp: $got" test "$got" = 0
check "seccomp = false: the log says so" "@$TL_LOG" \
	grep -q 'seccomp = false: running without a system call filter' "$TL_LOG"
before=$(tl_log_lines)
start_plain "seccomp = false;" ", $probe"
kill -HUP "$pid"
check "seccomp = false: the same module loads on reload" "@$TL_LOG" tl_wait 50 reloaded
check "seccomp = false: tapird still running" "tapird exited" lab_tapird_running
lab_stop_tapird TERM
check "seccomp = false: SIGTERM, exit status 0" "status $LAB_TAPIRD_STATUS" \
	test "$LAB_TAPIRD_STATUS" = 0
tl_done
