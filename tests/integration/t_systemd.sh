#!/bin/bash
# The shipped unit under a real systemd: a Debian 12 container
# (systemd-nspawn --boot, its own network namespace, the root file system
# scripts/deps prepared under a throw-away overlay) runs tapird.service
# exactly as `make install` installs it, with the shipped tapir.conf (a
# drop-in only points ExecStart at the copy this test can break).
# systemd creates the user and starts tapird as it with only
# CAP_NET_ADMIN; tapird must then hold no capability, run under its own
# seccomp filter, answer ping, DNS, HTTP and DHCP on its TAP (clients in
# the container's namespace, which this test made), reload through
# `systemctl reload` (and refuse a broken file while serving on), come
# back after kill -9 with its lease, run beside an instance of the
# template tapird@.service, and stop with status 0.  The unit's
# exposure is rated inside the container, where systemd is PID 1.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

ROOTFS=${TAPIR_TEST_ROOTFS:-/var/lib/tapir-tests/rootfs-bookworm}
BUILD=$TL_DIR/../../build
[ -f "$ROOTFS/.tapir-rootfs" ] ||
	bail "the container root file system is ready" \
		"no $ROOTFS/.tapir-rootfs: run scripts/deps (as root)"
command -v systemd-nspawn >/dev/null ||
	bail "systemd-nspawn is installed" "run scripts/deps (systemd-container)"

# The staging tree: what `make install` puts under /usr/local and the
# systemd directories, bound read-only into the container.
STAGE=$TL_TMP/stage
make -C "$BUILD" install DESTDIR="$STAGE" >"$TL_TMP/install.log" 2>&1 ||
	bail "make install into a staging tree" "@$TL_TMP/install.log"
UNIT=$STAGE/usr/lib/systemd/system/tapird.service
[ -f "$UNIT" ] || UNIT=$STAGE/lib/systemd/system/tapird.service
TEMPLATE=${UNIT%/*}/tapird@.service
SYSUSERS=$(find "$STAGE" -path '*/sysusers.d/tapir.conf' | head -n 1)
TMPFILES=$(find "$STAGE" -path '*/tmpfiles.d/tapir.conf' | head -n 1)
if [ ! -f "$UNIT" ] || [ ! -f "$TEMPLATE" ] || [ -z "$SYSUSERS" ] ||
	[ -z "$TMPFILES" ]; then
	bail "make install gives the units, sysusers.d and tmpfiles.d files"
fi
# A second instance, of the template: its own TAP and subnet, the dhcp
# module's lease file left to its default (the instance's state directory).
cat >"$STAGE/usr/local/etc/tapir/lab2.conf" <<'EOF2'
interface = { name = "tapir1"; address = "10.0.1.2/24";
  host_address = "10.0.1.1/24"; acd = false; ipv6 = false; };
modules = (
  { name = "echo"; udp_port = 7; tcp_port = 7; discard_udp_port = 0;
    discard_tcp_port = 0; chargen_udp_port = 0; chargen_tcp_port = 0; },
  { name = "dhcp"; pool = [ "10.0.1.100-10.0.1.150" ]; lease_time = 600; }
);
EOF2
# The configuration, a copy the test can break for the reload case.
cp "$STAGE/usr/local/etc/tapir/tapir.conf" "$TL_TMP/tapir.conf"
mkdir -p "$TL_TMP/www"
printf 'served under systemd\n' >"$TL_TMP/www/index.html"
chmod -R a+rX "$TL_TMP/www"

# Every shared library tapird and its modules need is in the container.
missing=
for f in "$STAGE"/usr/local/sbin/tapird "$STAGE"/usr/local/lib/tapir/*.so; do
	[ -f "$f" ] || continue
	for lib in $(ldd "$f" | awk '/=> \//{ print $1 }'); do
		find "$ROOTFS/usr/lib" -name "$lib" -print -quit | grep -q . ||
			missing="$missing $lib"
	done
done
check "the container has every shared library tapird and its modules use" \
	"missing:$missing (add their packages to the root file system in scripts/deps)" \
	test -z "$missing"

NAME=tapir-sd-$$
timeout 600 systemd-nspawn -q -D "$ROOTFS" --volatile=overlay --boot \
	--private-network --register=no --keep-unit -M "$NAME" \
	--bind=/dev/net/tun \
	--bind-ro="$STAGE/usr/local:/usr/local" \
	--bind-ro="$UNIT:/etc/systemd/system/tapird.service" \
	--bind-ro="$TEMPLATE:/etc/systemd/system/tapird@.service" \
	--bind-ro="$SYSUSERS:/etc/sysusers.d/tapir.conf" \
	--bind-ro="$TMPFILES:/etc/tmpfiles.d/tapir.conf" \
	--bind-ro="$TL_TMP/tapir.conf:/etc/tapir/tapir.conf" \
	--bind-ro="$TL_TMP/www:/srv/tapir/www" \
	</dev/null >"$TL_TMP/container.log" 2>&1 &
NSPAWN=$!
lab_on_exit "kill $NSPAWN 2>/dev/null; sleep 1; kill -9 $NSPAWN 2>/dev/null"

# The container's PID 1, and commands in all its namespaces.
LEADER=
for _ in $(seq 1 1200); do
	LEADER=$(pgrep -P "$(pgrep -P "$NSPAWN" -x systemd-nspawn || echo "$NSPAWN")" -x systemd | head -n 1)
	[ -n "$LEADER" ] && break
	sleep 0.1
done
[ -n "$LEADER" ] || bail "the container boots systemd" "$(tail -n 20 "$TL_TMP/container.log")"
in_c() { nsenter -t "$LEADER" -m -u -i -n -p -C -- "$@"; }
in_cn() { nsenter -t "$LEADER" -n -- "$@"; } # host tools, its network
state=
for _ in $(seq 1 120); do
	state=$(in_c systemctl is-system-running 2>/dev/null)
	case $state in running | degraded) break ;; esac
	sleep 0.5
done
check "systemd in the container reaches a running state" \
	"state: $state; $(in_c systemctl --failed --no-legend 2>&1)" \
	test "$state" = running

# The shipped unit reads @sysconfdir@/tapir/tapir.conf; point it at the
# bound copy with a drop-in, the way an administrator would.
in_c mkdir -p /etc/systemd/system/tapird.service.d
in_c sh -c 'printf "[Service]\nExecStart=\nExecStart=/usr/local/sbin/tapird -f -c /etc/tapir/tapir.conf\nExecReload=\nExecReload=/usr/local/sbin/tapirctl reload\n" >/etc/systemd/system/tapird.service.d/conf.conf'
in_c systemctl daemon-reload
in_c systemctl start tapird >"$TL_TMP/start.out" 2>&1
rc=$?
check "systemctl start tapird succeeds (Type=notify: tapird said ready)" \
	"rc $rc: $(cat "$TL_TMP/start.out"); $(in_c journalctl -u tapird --no-pager | tail -n 20)" \
	test "$rc" = 0
check "tapird.service is active" "$(in_c systemctl status tapird --no-pager 2>&1 | head -n 20)" \
	test "$(in_c systemctl is-active tapird)" = active
check "systemd-sysusers made the user tapir" "" in_c getent passwd tapir

pid=$(in_c systemctl show -p MainPID --value tapird)
st=$(in_c cat "/proc/$pid/status" 2>&1)
uid=$(in_c id -u tapir)
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$st"; }
check "tapird runs as tapir" "$st" test "$(field Uid)" = "$uid"
check "tapird holds no capability (effective, permitted, ambient)" \
	"$(grep ^Cap <<<"$st")" \
	test "$(field CapEff)$(field CapPrm)$(field CapAmb)" = \
	"000000000000000000000000000000000000000000000000"
check "tapird runs with no_new_privs and a seccomp filter" \
	"$(grep -E '^(NoNewPrivs|Seccomp)' <<<"$st")" \
	test "$(field NoNewPrivs)$(field Seccomp)" = 12
check "tapird's log says its own filter is in place" "" \
	sh -c "nsenter -t $LEADER -m -u -i -n -p -C -- journalctl -u tapird --no-pager | grep -q 'system call filter in place'"

# Clients in the container's network namespace, on the TAP's kernel side.
out=$(in_cn ping -c 3 -i 0.2 -W 2 10.0.0.2 2>&1)
check "ping to tapird's address under systemd" "$out" \
	grep -q ' 0% packet loss' <<<"$out"
out=$(in_cn dig +short +time=2 +tries=2 @10.0.0.2 www.lab.test A 2>/dev/null)
check "dig gets the shipped zone's answer" "$out" test "$out" = 10.0.0.2
out=$(in_cn curl -s --max-time 5 http://10.0.0.2/ 2>/dev/null)
check "curl gets the page from the bound document root" "$out" \
	test "$out" = "served under systemd"
in_cn timeout 20 udhcpc -f -q -n -i tapir0 -s /bin/true -t 5 -T 1 \
	>"$TL_TMP/udhcpc.out" 2>&1
lease=$(sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' "$TL_TMP/udhcpc.out")
check "udhcpc gets a lease" "@$TL_TMP/udhcpc.out" test -n "$lease"
check "the lease is journalled in the state directory, owned by tapir" \
	"$(in_c ls -la /var/lib/tapir 2>&1)" \
	sh -c "nsenter -t $LEADER -m -u -i -n -p -C -- stat -c %U /var/lib/tapir/dhcp.leases | grep -qx tapir && nsenter -t $LEADER -m -u -i -n -p -C -- grep -q '$lease' /var/lib/tapir/dhcp.leases"
out=$(in_c tapirctl status 2>&1)
check "tapirctl reaches the control socket in /run/tapir" "$out" \
	grep -q 'tapir0' <<<"$out"

# Reload: a good one, then a broken file, refused, while serving on.
in_c systemctl reload tapird >"$TL_TMP/reload.out" 2>&1
check "systemctl reload tapird succeeds" "@$TL_TMP/reload.out" test $? = 0
cp "$TL_TMP/tapir.conf" "$TL_TMP/good.conf"
printf 'bogus_setting = 1;\n' >>"$TL_TMP/tapir.conf"
in_c systemctl reload tapird >"$TL_TMP/reload2.out" 2>&1
rc=$?
check "a reload of a broken file fails and names the file and line" \
	"rc $rc; $(cat "$TL_TMP/reload2.out"); $(in_c journalctl -u tapird --no-pager | tail -n 5)" \
	sh -c "[ $rc != 0 ] && nsenter -t $LEADER -m -u -i -n -p -C -- journalctl -u tapird --no-pager | grep -q 'tapir.conf:[0-9]*: .*bogus_setting'"
cp "$TL_TMP/good.conf" "$TL_TMP/tapir.conf"
check "tapird still active and answering after the refused reload" "" \
	sh -c "[ \"\$(nsenter -t $LEADER -m -u -i -n -p -C -- systemctl is-active tapird)\" = active ] && nsenter -t $LEADER -n -- ping -c 1 -W 2 10.0.0.2 >/dev/null"

# kill -9: Restart=on-failure brings it back, with the lease.
# (sh's kill: the container has no kill(1) of procps)
in_c sh -c "kill -9 $pid"
newpid=
for _ in $(seq 1 60); do
	newpid=$(in_c systemctl show -p MainPID --value tapird)
	if [ -n "$newpid" ] && [ "$newpid" != 0 ] && [ "$newpid" != "$pid" ] &&
		[ "$(in_c systemctl is-active tapird)" = active ]; then
		break
	fi
	sleep 0.5
done
check "systemd restarts tapird after kill -9" \
	"$(in_c systemctl status tapird --no-pager 2>&1 | head -n 15)" \
	sh -c "[ -n '$newpid' ] && [ '$newpid' != '$pid' ] && [ '$newpid' != 0 ]"
out=$(in_c tapirctl leases 2>&1)
check "the lease survives kill -9 and the restart" "$out" \
	grep -q "$lease" <<<"$out"

# Exposure, rated by the systemd that runs the unit.
score=$(in_c systemd-analyze security tapird --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for tapird.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security rates the running unit 2.0 or less" \
	"exposure: ${score:-none}" \
	awk -v s="${score:-9}" 'BEGIN { exit !(s <= 2.0) }'
diag "exposure of the running unit: ${score:-?}"

# The template: instance lab2 beside tapird.service, on its own TAP,
# socket and state directory.
in_c systemctl start tapird@lab2 >"$TL_TMP/start2.out" 2>&1
rc=$?
check "systemctl start tapird@lab2 succeeds beside tapird.service" \
	"rc $rc: $(cat "$TL_TMP/start2.out"); $(in_c journalctl -u tapird@lab2 --no-pager | tail -n 15)" \
	sh -c "[ $rc = 0 ] && [ \"\$(nsenter -t $LEADER -m -u -i -n -p -C -- systemctl is-active tapird tapird@lab2 | sort -u)\" = active ]"
out=$(in_c tapirctl -i lab2 status 2>&1)
check "tapirctl -i lab2 reaches the instance (/run/tapir/lab2.sock)" "$out" \
	grep -q 'tapir1' <<<"$out"
out=$(in_c tapirctl status 2>&1)
check "plain tapirctl still reaches tapird.service" "$out" \
	grep -q 'tapir0' <<<"$out"
in_cn timeout 20 udhcpc -f -q -n -i tapir1 -s /bin/true -t 5 -T 1 \
	>"$TL_TMP/udhcpc2.out" 2>&1
lease2=$(sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p' "$TL_TMP/udhcpc2.out")
check "udhcpc gets a lease from the instance" "@$TL_TMP/udhcpc2.out" \
	test -n "$lease2"
check "the instance's lease is in /var/lib/tapir/lab2/, not in tapird.service's file" \
	"$(in_c ls -la /var/lib/tapir /var/lib/tapir/lab2 2>&1)" \
	sh -c "nsenter -t $LEADER -m -u -i -n -p -C -- grep -q '$lease2' /var/lib/tapir/lab2/dhcp.leases && ! nsenter -t $LEADER -m -u -i -n -p -C -- grep -q '$lease2' /var/lib/tapir/dhcp.leases"
in_c systemctl stop tapird@lab2
check "stopping the instance leaves tapird.service serving, its socket kept" "" \
	sh -c "[ \"\$(nsenter -t $LEADER -m -u -i -n -p -C -- systemctl is-active tapird)\" = active ] && nsenter -t $LEADER -m -u -i -n -p -C -- tapirctl status >/dev/null && nsenter -t $LEADER -n -- ping -c 1 -W 2 10.0.0.2 >/dev/null"

in_c systemctl stop tapird
check "systemctl stop: tapird exits with status 0" \
	"$(in_c systemctl show -p Result,ExecMainStatus tapird)" \
	test "$(in_c systemctl show -p ExecMainStatus --value tapird)" = 0
# tapird's own lines (identifier tapird) at error priority: only the
# refused reload's.
errs=$(in_c journalctl -t tapird --no-pager -p err -o cat 2>/dev/null |
	grep -v "bogus_setting\|reload failed with 1 error")
check "tapird logged no error besides the refused reload" "$errs" test -z "$errs"

# Power the container off; it must go away by itself.
in_c systemctl poweroff >/dev/null 2>&1
gone=no
for _ in $(seq 1 300); do
	kill -0 "$NSPAWN" 2>/dev/null || { gone=yes; break; }
	sleep 0.1
done
check "the container powers off" "$(tail -n 5 "$TL_TMP/container.log")" \
	test "$gone" = yes

tl_done
