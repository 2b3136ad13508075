#!/bin/bash
# The Debian packages: built with dpkg-buildpackage from a clean copy of the
# tree (its tracked and new files, nothing built), lintian-clean of errors,
# installed with dpkg -i; the installed tapird accepts the installed
# configuration, pkg-config knows tapir, the example module of the
# installed tapir-module(3) compiles against the installed header and the
# installed tapird loads it in the lab and it answers; then both packages
# are purged and nothing they installed or made is left.
#
# The machine's own tapir state is kept: a /etc/tapir or /var/lib/tapir
# that exists before is set aside during the test and put back after it;
# the system user tapir, which the package's postinst makes
# (systemd-sysusers) and its purge leaves (as Debian leaves system users),
# is removed by the test only when it did not exist before.
#
# Why an integration test: it needs root (dpkg), a lab namespace to run the
# installed tapird in, and the runner's cleanup.  nocheck and parallel=2
# keep the build to a minute or two on two idle cores; the limit allows for
# a loaded machine.
# test-timeout: 600
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

ROOT=$(cd "$TL_DIR/../.." && pwd)
for c in dpkg-buildpackage dh lintian pkg-config cc socat; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
for p in tapir tapir-dev; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	case $st in "" | not-installed | config-files)
		[ "$st" = config-files ] && bail "$p is not half there before the test" "status $st" ;;
	*) bail "$p is not installed before the test" "status $st" ;;
	esac
done

# ---- what the machine has before -------------------------------------------
had_user=0
getent passwd tapir >/dev/null && had_user=1
had_group=0
getent group tapir >/dev/null && had_group=1
had_run=0
[ -e /run/tapir ] && had_run=1
# At exit, in this order: the packages go whatever happened, then the user
# they made, then what was set aside comes back.
lab_on_exit "dpkg --purge tapir-dev tapir >/dev/null 2>&1"
if [ "$had_user" = 0 ]; then
	lab_on_exit "getent passwd tapir >/dev/null && userdel tapir 2>/dev/null"
fi
if [ "$had_group" = 0 ]; then
	lab_on_exit "getent group tapir >/dev/null && groupdel tapir 2>/dev/null"
fi
SAVE=$TL_TMP/saved
mkdir -p "$SAVE"
for d in /etc/tapir /var/lib/tapir; do
	if [ -e "$d" ]; then
		mv "$d" "$SAVE/${d//\//_}" || bail "the machine's $d is set aside"
		lab_on_exit "rm -rf '$d'; mv '$SAVE/${d//\//_}' '$d'"
	fi
done

# ---- build ------------------------------------------------------------------
SRC=$TL_TMP/pkg/tapir
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -co --exclude-standard -z) |
		(cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$SRC"
else
	tar -C "$ROOT" --exclude='./build*' -cf - . | tar -xf - -C "$SRC"
fi
check "a clean copy of the tree has debian/ and no build output" "$(ls -a "$SRC")" \
	sh -c "[ -x '$SRC/debian/rules' ] && [ ! -e '$SRC/configure' ] && [ ! -e '$SRC/build' ]"
start=$SECONDS
(cd "$SRC" && DEB_BUILD_OPTIONS="nocheck parallel=2 noautodbgsym" \
	dpkg-buildpackage -us -uc -b) >"$TL_TMP/build.log" 2>&1
rc=$?
diag "dpkg-buildpackage took $((SECONDS - start)) s"
check "dpkg-buildpackage -us -uc -b succeeds" "$(tail -n 30 "$TL_TMP/build.log")" test "$rc" = 0
ver=$(cd "$SRC" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$TL_TMP/pkg/tapir_${ver}_$arch.deb
devdeb=$TL_TMP/pkg/tapir-dev_${ver}_$arch.deb
if ! [ -f "$deb" ] || ! [ -f "$devdeb" ]; then
	bail "tapir and tapir-dev .debs are built" "$(ls "$TL_TMP/pkg")"
fi

lintian "$TL_TMP/pkg/tapir_${ver}_$arch.changes" >"$TL_TMP/lintian.out" 2>&1
check "lintian: no error" "@$TL_TMP/lintian.out" absent '^E: ' "$TL_TMP/lintian.out"

# Every path the packages hold, and which of them exist now (directories
# such as /usr/share/man/man3 do, and must stay).
{ dpkg-deb -c "$deb"; dpkg-deb -c "$devdeb"; } |
	awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^/*$' | sort -u >"$TL_TMP/paths"
while IFS= read -r p; do
	[ -e "$p" ] && printf '%s\n' "$p"
done <"$TL_TMP/paths" >"$TL_TMP/paths.before"

# ---- install ----------------------------------------------------------------
# dpkg takes no lock timeout: retry while another dpkg or apt holds it.
dpkg_locked() {
	local i
	for i in $(seq 1 60); do
		"$@" >"$TL_TMP/dpkg.out" 2>&1 && return 0
		grep -q 'lock' "$TL_TMP/dpkg.out" || return 1
		sleep 2
	done
	return 1
}
dpkg_locked dpkg -i "$deb" "$devdeb"
check "dpkg -i tapir tapir-dev" "@$TL_TMP/dpkg.out" test "$?" = 0

out=$TL_TMP/out
env -u TAPIR_MODULE_DIR /usr/sbin/tapird -t >"$out" 2>&1
rc=$?
check "the installed tapird -t accepts /etc/tapir/tapir.conf" "exit $rc: $(cat "$out")" \
	sh -c "[ $rc = 0 ] && grep -q '/etc/tapir/tapir.conf is valid' '$out'"
got=$(/usr/sbin/tapird -V)
check "the installed tapird -V says the package's version ($ver)" "got: $got" \
	grep -q "^tapird $ver" <<<"$got"
check "postinst made the system user tapir (sysusers.d)" "" \
	sh -c "getent passwd tapir >/dev/null"
st=$(stat -c '%U %a' /var/lib/tapir 2>&1)
check "postinst made /var/lib/tapir, tapir's, mode 750 (tmpfiles.d)" "got: $st" \
	test "$st" = "tapir 750"
check "tapird@.service is installed" "" test -f /lib/systemd/system/tapird@.service
check "the Grafana dashboard is installed among the examples" "" \
	python3 -c "import json; json.load(open('/usr/share/doc/tapir/examples/tapir.json'))"
logrotate -d /etc/logrotate.d/tapir >"$TL_TMP/logrotate.out" 2>&1
rc=$?
check "the access log's logrotate file is installed and logrotate reads it" \
	"exit $rc: $(tail -n 5 "$TL_TMP/logrotate.out")" \
	sh -c "[ $rc = 0 ] && grep -q '/var/log/tapir/access.log' '$TL_TMP/logrotate.out'"
check "neither unit is enabled" "$(ls /etc/systemd/system/*/tapird* 2>&1)" \
	sh -c '! ls /etc/systemd/system/*/tapird* >/dev/null 2>&1'

cflags=$(pkg-config --cflags tapir 2>&1)
rc=$?
check "pkg-config --cflags tapir works" "exit $rc: $cflags" test "$rc" = 0
got=$(pkg-config --modversion tapir 2>&1)
check "pkg-config --modversion tapir: $ver" "got: $got" test "$got" = "$ver"
moddir=$(pkg-config --variable=moduledir tapir)
check "pkg-config --variable=moduledir tapir: the installed modules" "moduledir: $moddir" \
	test -f "$moddir/echo.so"
got=$(pkg-config --variable=module_abi tapir)
abi=$(/usr/sbin/tapird -V | sed -n 's/.*(module ABI \([0-9]*\))$/\1/p')
check "pkg-config --variable=module_abi tapir is the installed tapird's ($abi)" \
	"got: $got" test "$got" = "$abi"

# The example of the installed tapir-module(3), compiled as printed against
# the installed header, outside the tree.
MOD=$TL_TMP/mod
mkdir -p "$MOD"
man3=$(find /usr/share/man/man3 -name 'tapir-module.3*' | head -n 1)
zcat -f "$man3" >"$MOD/tapir-module.3"
"$ROOT/scripts/manexample" "$MOD/tapir-module.3" >"$MOD/greet.c" 2>"$MOD/extract.err"
check "the installed tapir-module(3) has the example module" "@$MOD/extract.err" \
	grep -q 'tapir_module' "$MOD/greet.c"
# shellcheck disable=SC2086 # pkg-config prints flags, word-split on purpose
(cd "$MOD" && cc -std=gnu11 -Wall -Wextra -Werror -O2 -shared -fPIC $cflags \
	-MD -o greet.so greet.c) >"$MOD/cc.out" 2>&1
rc=$?
check "the example module compiles with pkg-config --cflags tapir, -Werror" \
	"exit $rc: $(cat "$MOD/cc.out")" test "$rc" = 0
check "it was compiled against the installed /usr/include/tapir/module.h" \
	"@$MOD/greet.d" grep -q '/usr/include/tapir/module.h' "$MOD/greet.d"

cat >"$TL_TMP/greet.conf" <<EOF
$(tl_iface_conf)
modules = (
  { name = "echo"; },
  { name = "greet"; path = "$MOD/greet.so"; port = 7777;
    text = "hello from the package"; }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF
env -u TAPIR_MODULE_DIR /usr/sbin/tapird -t -c "$TL_TMP/greet.conf" >"$out" 2>&1
check "the installed tapird -t accepts the module's section" "@$out" grep -q "is valid" "$out"
TAPIRD=/usr/sbin/tapird TAPIR_MODULE_DIR=$moddir tl_start_with "$TL_TMP/greet.conf"
printf 'hi\n' >"$TL_TMP/ping.in"
udp_xchg 7777 "$TL_TMP/ping.in" "$out" 2
check "the module, loaded by the installed tapird, answers on UDP 7777" "@$out" \
	grep -qx "hello from the package" "$out"
/usr/sbin/tapirctl -s "$TL_TMP/ctl.sock" stats >"$out" 2>&1
check "the installed tapirctl shows its counter: module_greet_answered 1" "@$out" \
	grep -q "^module_greet_answered  *1$" "$out"
lab_stop_tapird TERM

# ---- purge ------------------------------------------------------------------
dpkg_locked dpkg --purge tapir-dev tapir
check "dpkg --purge tapir-dev tapir" "@$TL_TMP/dpkg.out" test "$?" = 0
while IFS= read -r p; do
	[ -e "$p" ] && ! grep -qxF "$p" "$TL_TMP/paths.before" && printf '%s\n' "$p"
done <"$TL_TMP/paths" >"$TL_TMP/left"
check "no file or directory of the packages is left" "@$TL_TMP/left" test ! -s "$TL_TMP/left"
left=$(ls -d /etc/tapir /var/lib/tapir /var/lib/dpkg/info/tapir.* \
	/var/lib/dpkg/info/tapir-dev* /var/lib/systemd/deb-systemd-helper-enabled/*tapird* \
	/var/lib/systemd/deb-systemd-helper-masked/*tapird* 2>/dev/null)
check "no configuration, state or maintainer script state is left" "left: $left" test -z "$left"
run_now=0
[ -e /run/tapir ] && run_now=1
check "/run/tapir is as before" "before $had_run, after $run_now" test "$run_now" = "$had_run"
if [ "$had_user" = 1 ]; then
	check "the tapir user that was there before is still there" "" \
		sh -c "getent passwd tapir >/dev/null"
else
	owned=$(find /etc /var/lib /usr /lib -xdev -user tapir 2>/dev/null | head -n 5)
	check "nothing is owned by the tapir user the package made" "owned: $owned" \
		test -z "$owned"
fi
tl_done
