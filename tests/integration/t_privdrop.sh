#!/bin/bash
# Privileges: with user/group set, tapird opens and configures the TAP as
# root, then runs as that user with no capability left, and still serves
# and reloads.  A host-side change it can no longer make is a warning, not
# a failure.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

# The unprivileged daemon must be able to read its configuration and its
# modules on reload: both live in a directory it may read.
mods=$(mktemp -d /tmp/tapir-mods.XXXXXX) || bail "module directory created"
lab_on_exit "rm -rf -- '$mods'"
cp "$TAPIR_MODULE_DIR/echo.so" "$mods/" || bail "echo.so copied" "from $TAPIR_MODULE_DIR"
chmod 755 "$mods"
chmod 644 "$mods/echo.so"

conf=$mods/tapir.conf
write() {
	tl_write_conf "$conf"
	cat >>"$conf" <<EOF2
module_dir = "$mods";
user = "nobody";
group = "nogroup";
EOF2
	chmod 644 "$conf"
}
write
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
check "tapird runs as nobody (uid 65534) after opening the TAP" "Uid: $uid" \
	test "$uid" = "65534 65534 65534 65534"
gid=$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")
check "tapird runs with group nogroup (gid 65534)" "Gid: $gid" test "$gid" = 65534
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
check "no effective capability is left" "CapEff: $capeff" \
	test "$capeff" = 0000000000000000

out=$TL_TMP/ping.out
in_ns timeout 20 ping -n -q -c 3 -i 0.2 -W 2 "$TAPIR_ADDR" >"$out" 2>&1
check "ping answered by the unprivileged tapird" "@$out" grep -q ' 3 received' "$out"
printf 'hello\n' >"$TL_TMP/in"
udp_xchg 7 "$TL_TMP/in" "$TL_TMP/out" 1
check "UDP echo on port 7 returns the bytes" "got: $(cat "$TL_TMP/out" 2>/dev/null)" \
	cmp -s "$TL_TMP/in" "$TL_TMP/out"

# Reload as nobody: the echo port moves; the host address cannot.
before=$(tl_log_lines)
ECHO_UDP=7777 write
sed -i 's|host_address = "10.0.0.1/24"|host_address = "10.0.0.3/24"|' "$conf"
kill -HUP "$pid"
# shellcheck disable=SC2317 # called through tl_wait
reloaded() { tail -n +"$((before + 1))" "$TL_LOG" | grep -q 'reload complete'; }
check "SIGHUP as nobody: reload completes" "@$TL_LOG" tl_wait 50 reloaded
rm -f "$TL_TMP/out"
udp_xchg 7777 "$TL_TMP/in" "$TL_TMP/out" 1
check "after the reload: echo answers on 7777" "got: $(cat "$TL_TMP/out" 2>/dev/null)" \
	cmp -s "$TL_TMP/in" "$TL_TMP/out"
check "the host-side change it cannot make is logged as a warning" "@$TL_LOG" \
	grep -q 'restart tapird to apply the host side' "$TL_LOG"
# A configuration it may not read is refused like any broken one.
chmod 600 "$conf"
before=$(tl_log_lines)
kill -HUP "$pid"
# shellcheck disable=SC2317 # called through tl_wait
refused() { tail -n +"$((before + 1))" "$TL_LOG" | grep -q 'reload failed'; }
check "SIGHUP with an unreadable file: refused, naming the file" "@$TL_LOG" \
	tl_wait 50 refused
check "the refusal says how to fix it" "@$TL_LOG" \
	grep -q "cannot read [^ ]*tapir.conf: Permission denied (run as root or fix the file's permissions)" "$TL_LOG"
udp_xchg 7777 "$TL_TMP/in" "$TL_TMP/out" 1
check "after the refused reload: echo still answers on 7777" \
	"got: $(cat "$TL_TMP/out" 2>/dev/null)" cmp -s "$TL_TMP/in" "$TL_TMP/out"
check "tapird still running" "tapird exited" lab_tapird_running
tl_done
