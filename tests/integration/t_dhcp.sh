#!/bin/bash
# The dhcp module with real clients on the kernel side of the TAP, inside
# the lab namespace: dhclient, udhcpc and dhcpcd each obtain a lease with
# the configured router, DNS server and domain, renew it and release it; a
# reserved MAC gets its address and host name; tapird is killed with
# SIGKILL during a perfdhcp run and every lease it acknowledged is still in
# the lease file and answered the same after a restart; SIGHUP keeps the
# leases; as an unprivileged user it needs a lease directory it can
# write.  Clients get their own pid, lease and script files (the scripts
# record what the client was given and set the address on the lab's
# interface only); nothing outside the lab namespace is configured.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

for c in dhclient udhcpc dhcpcd perfdhcp python3; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
tool() { python3 "$TL_DIR/dhcp_tool.py" "$@"; }
LEASES=$TL_TMP/dhcp.leases

# The SPEC's dhcp settings, with a short T1 so that renewals come quickly.
write_conf() {
	local domain=${1:-lab.test}
	cat >"$TL_TMP/dhcp.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
};
modules = (
  { name = "dhcp";
    pool = [ "10.0.0.100-10.0.0.199" ]; lease_time = 3600;
    t1 = 3; t2 = 3000;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ]; domain = "$domain";
    lease_file = "$LEASES";
    reservations = ( { mac = "02:00:00:00:00:99"; address = "10.0.0.50";
                       hostname = "fixed"; } ); }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF
}
write_conf
tl_start_with "$TL_TMP/dhcp.conf"

# The client scripts below append what they are given to a record file:
# $REC when the client passes the environment on, else the path put in
# place of @REC@ (dhclient and dhcpcd clear the environment).

# Last L/R record of ADDRESS in the lease file: "L" or "R" (or nothing).
lease_kind() {
	awk -v a="$1" '$2 == a && ($1 == "L" || $1 == "R") { k = $1 } END { print k }' "$LEASES"
}
lease_count() {
	awk -v a="$1" '$2 == a && $1 == "L"' "$LEASES" | wc -l
}
rec_has() { grep -qx -- "$2" "$1"; }
# Addresses whose last record is a lease that has not ended, sorted.
live_leases() {
	awk -v now="$(date +%s)" '$1 ~ /^[LRD]$/ { k[$2] = $1; t[$2] = $3 }
		END { for (a in k) if (k[a] == "L" && t[a] > now) print a }' "$1" | sort
}

# ---- dhclient ----------------------------------------------------------
cat >"$TL_TMP/dhclient.sh" <<'EOF'
#!/bin/sh
{ echo "reason=$reason"; env | grep -E '^new_(ip_address|routers|domain_name|domain_name_servers|subnet_mask)=' | sort; } >>"${REC:-@REC@}"
case $reason in
BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
sed -i "s|@REC@|$TL_TMP/dhclient.rec|" "$TL_TMP/dhclient.sh"
chmod +x "$TL_TMP/dhclient.sh"
rec=$TL_TMP/dhclient.rec
: >"$rec"
dc=(dhclient -4 -pf "$TL_TMP/dhclient.pid" -lf "$TL_TMP/dhclient.leases"
	-sf "$TL_TMP/dhclient.sh")
in_ns env REC="$rec" timeout 60 "${dc[@]}" -d -v "$TAP" >"$TL_TMP/dhclient.out" 2>&1 &
dpid=$!
lab_on_exit "kill $dpid 2>/dev/null"
tl_wait 150 rec_has "$rec" reason=BOUND
addr=$(sed -n 's/^new_ip_address=//p' "$rec" | head -n 1)
check "dhclient obtains a lease from the pool" @"$TL_TMP/dhclient.out" \
	grep -qE '^new_ip_address=10\.0\.0\.1[0-9][0-9]$' "$rec"
check "dhclient is given router 10.0.0.1, DNS 10.0.0.2, domain lab.test" @"$rec" \
	sh -c "grep -qx new_routers=10.0.0.1 '$rec' && grep -qx new_domain_name_servers=10.0.0.2 '$rec' && grep -qx new_domain_name=lab.test '$rec'"
check "dhclient's lease is in the lease file" @"$LEASES" [ "$(lease_kind "$addr")" = L ]
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
cmac=$(in_ns cat "/sys/class/net/$TAP/address")
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" leases >"$TL_TMP/ctl.out" 2>&1
check "tapirctl leases lists dhclient's lease ($addr, $cmac)" @"$TL_TMP/ctl.out" \
	grep -q "^$addr  *$cmac " "$TL_TMP/ctl.out"
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" --json leases >"$TL_TMP/ctl.json" 2>&1
got=$(python3 -c 'import json,sys; print(" ".join(l["address"] + "/" + l["mac"] for l in json.load(open(sys.argv[1]))))' "$TL_TMP/ctl.json" 2>&1)
check "tapirctl --json leases has it too" "got: $got" test "$got" = "$addr/$cmac"
tl_wait 100 rec_has "$rec" reason=RENEW
check "dhclient renews at T1 and is acknowledged" @"$TL_TMP/dhclient.out" \
	sh -c "grep -qx reason=RENEW '$rec' && [ \$(awk -v a='$addr' '\$2 == a && \$1 == \"L\"' '$LEASES' | wc -l) -ge 2 ]"
in_ns env REC="$rec" timeout 20 "${dc[@]}" -r -v "$TAP" >>"$TL_TMP/dhclient.out" 2>&1
tl_wait 30 [ "$(lease_kind "$addr")" = R ]
check "dhclient -r releases the lease" @"$LEASES" [ "$(lease_kind "$addr")" = R ]
kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
ip -n "$LAB_NS" addr flush dev "$TAP"

# ---- udhcpc ------------------------------------------------------------
cat >"$TL_TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
{ echo "event=$1"; env | grep -E '^(ip|router|dns|domain|hostname)=' | sort; } >>"${REC:-@REC@}"
case $1 in
bound|renew) ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
sed -i "s|@REC@|$TL_TMP/udhcpc.rec|" "$TL_TMP/udhcpc.sh"
chmod +x "$TL_TMP/udhcpc.sh"
rec=$TL_TMP/udhcpc.rec
: >"$rec"
in_ns env REC="$rec" timeout 60 udhcpc -i "$TAP" -f -s "$TL_TMP/udhcpc.sh" \
	-x hostname:Lab-Box -t 5 -T 1 -A 1 >"$TL_TMP/udhcpc.out" 2>&1 &
tpid=$!
lab_on_exit "kill $tpid 2>/dev/null"
tl_wait 100 rec_has "$rec" event=bound
# The signals go to udhcpc itself, not to timeout(1) above it; its command
# line names this test's own script.
upid=
for p in $(pgrep -x udhcpc); do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$TL_TMP/udhcpc.sh" && upid=$p
done
[ -n "$upid" ] || not_ok "udhcpc is running" "$(cat "$TL_TMP/udhcpc.out")"
addr=$(sed -n 's/^ip=//p' "$rec" | head -n 1)
check "udhcpc obtains a lease with router, DNS and domain" @"$rec" \
	sh -c "grep -qE '^ip=10\.0\.0\.1[0-9][0-9]$' '$rec' && grep -qx router=10.0.0.1 '$rec' && grep -qx dns=10.0.0.2 '$rec' && grep -qx domain=lab.test '$rec'"
check "udhcpc's host name is kept with its lease (lowercased)" @"$LEASES" \
	grep -qE "^L $addr .* lab-box [0-9a-f]{8}\$" "$LEASES"
n=$(lease_count "$addr")
kill -USR1 "$upid"
tl_wait 50 rec_has "$rec" event=renew
check "udhcpc renews (SIGUSR1) and is acknowledged" @"$TL_TMP/udhcpc.out" \
	sh -c "grep -qx event=renew '$rec' && [ $n -lt \$(awk -v a='$addr' '\$2 == a && \$1 == \"L\"' '$LEASES' | wc -l) ]"
kill -USR2 "$upid"
tl_wait 30 [ "$(lease_kind "$addr")" = R ]
check "udhcpc releases (SIGUSR2)" @"$TL_TMP/udhcpc.out" [ "$(lease_kind "$addr")" = R ]
kill "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
ip -n "$LAB_NS" addr flush dev "$TAP"

# ---- dhcpcd ------------------------------------------------------------
# Confined to the lab: its own configuration and script (no hooks, so no
# resolv.conf), IPv4 only, this interface only.  It keeps its lease in
# /var/lib/dhcpcd/$TAP.lease and its socket in /run/dhcpcd: removed after.
cat >"$TL_TMP/dhcpcd.sh" <<'EOF'
#!/bin/sh
{ echo "reason=$reason"; env | grep -E '^new_(ip_address|routers|domain_name|domain_name_servers)=' | sort; } >>"${REC:-@REC@}"
exit 0
EOF
sed -i "s|@REC@|$TL_TMP/dhcpcd.rec|" "$TL_TMP/dhcpcd.sh"
chmod +x "$TL_TMP/dhcpcd.sh"
cat >"$TL_TMP/dhcpcd.conf" <<EOF
option domain_name_servers, domain_name, routers, host_name
nohook resolv.conf
noipv4ll
noarp
EOF
rec=$TL_TMP/dhcpcd.rec
: >"$rec"
dlease=/var/lib/dhcpcd/$TAP.lease
[ -e "$dlease" ] || lab_on_exit "rm -f '$dlease' '/var/lib/dhcpcd/$TAP.lease'"
dd=(dhcpcd -4 -f "$TL_TMP/dhcpcd.conf" -c "$TL_TMP/dhcpcd.sh")
in_ns env REC="$rec" timeout 60 "${dd[@]}" -B -d "$TAP" >"$TL_TMP/dhcpcd.out" 2>&1 &
cpid=$!
lab_on_exit "kill $cpid 2>/dev/null"
tl_wait 150 rec_has "$rec" reason=BOUND
addr=$(sed -n 's/^new_ip_address=//p' "$rec" | head -n 1)
check "dhcpcd obtains a lease with router, DNS and domain" @"$TL_TMP/dhcpcd.out" \
	sh -c "grep -qE '^new_ip_address=10\.0\.0\.1[0-9][0-9]$' '$rec' && grep -qx new_routers=10.0.0.1 '$rec' && grep -qx new_domain_name_servers=10.0.0.2 '$rec' && grep -qx new_domain_name=lab.test '$rec'"
tl_wait 100 sh -c "grep -qE '^reason=(RENEW|REBIND)$' '$rec'"
check "dhcpcd renews at T1 and is acknowledged" @"$TL_TMP/dhcpcd.out" \
	sh -c "grep -qE '^reason=(RENEW|REBIND)$' '$rec' && [ \$(awk -v a='$addr' '\$2 == a && \$1 == \"L\"' '$LEASES' | wc -l) -ge 2 ]"
in_ns timeout 20 "${dd[@]}" -k "$TAP" >>"$TL_TMP/dhcpcd.out" 2>&1
tl_wait 50 [ "$(lease_kind "$addr")" = R ]
check "dhcpcd -k releases the lease" @"$TL_TMP/dhcpcd.out" [ "$(lease_kind "$addr")" = R ]
kill "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
ip -n "$LAB_NS" addr flush dev "$TAP"

# ---- a reservation -----------------------------------------------------
oldmac=$(ip -n "$LAB_NS" -o link show dev "$TAP" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$LAB_NS" link set dev "$TAP" address 02:00:00:00:00:99
rec=$TL_TMP/reserved.rec
: >"$rec"
in_ns env REC="$rec" timeout 30 udhcpc -i "$TAP" -q -n -s "$TL_TMP/udhcpc.sh" \
	-t 5 -T 1 >"$TL_TMP/reserved.out" 2>&1
check "the reserved MAC gets 10.0.0.50 and host name fixed" @"$rec" \
	sh -c "grep -qx ip=10.0.0.50 '$rec' && grep -qx hostname=fixed '$rec'"
ip -n "$LAB_NS" addr flush dev "$TAP"
ip -n "$LAB_NS" link set dev "$TAP" address "$oldmac"

# ---- a DISCOVER flood ---------------------------------------------------
# 1000 DISCOVERs from random MACs in one second against a pool of 100: an
# offer is no reservation a stranger can hold, so a real client that
# starts its DORA during the flood still gets its lease.
in_ns timeout 20 python3 "$TL_DIR/dhcp_tool.py" flood "$TAP" 1000 1 \
	>"$TL_TMP/flood.out" 2>&1 &
fpid=$!
sleep 0.3
rec=$TL_TMP/flood.rec
: >"$rec"
in_ns env REC="$rec" timeout 30 udhcpc -i "$TAP" -q -n -s "$TL_TMP/udhcpc.sh" \
	-t 5 -T 1 >"$TL_TMP/flood-udhcpc.out" 2>&1
wait "$fpid"
check "udhcpc gets a lease during a flood of 1000 DISCOVERs (pool of 100)" \
	"flood sent $(cat "$TL_TMP/flood.out"); $(cat "$TL_TMP/flood-udhcpc.out")" \
	grep -q '^ip=10\.0\.0\.1[0-9][0-9]$' "$rec"
reused=$("$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats 2>/dev/null | awk '/offers_reused/ { print $NF; exit }')
check "the flood outran the pool: unanswered offers were reused ($reused)" "" \
	[ "${reused:-0}" -gt 0 ]
ip -n "$LAB_NS" addr flush dev "$TAP"

# ---- SIGHUP keeps the leases ------------------------------------------
live_leases "$LEASES" >"$TL_TMP/live.before"
write_conf lab2.test
hup_line=$(tl_log_lines)
kill -HUP "$LAB_TAPIRD_PID"
tl_wait 50 sh -c "tail -n +$((hup_line + 1)) '$TL_LOG' | grep -q 'module dhcp: reconfigured'"
rec=$TL_TMP/hup.rec
: >"$rec"
ip -n "$LAB_NS" link set dev "$TAP" address 02:00:00:00:00:99
in_ns env REC="$rec" timeout 30 udhcpc -i "$TAP" -q -n -s "$TL_TMP/udhcpc.sh" \
	-t 5 -T 1 >"$TL_TMP/hup.out" 2>&1
ip -n "$LAB_NS" addr flush dev "$TAP"
ip -n "$LAB_NS" link set dev "$TAP" address "$oldmac"
live_leases "$LEASES" >"$TL_TMP/live.after"
check "after SIGHUP the new domain is served" @"$rec" \
	sh -c "grep -qx domain=lab2.test '$rec' && grep -qx ip=10.0.0.50 '$rec'"
check "SIGHUP keeps every lease" "$(diff "$TL_TMP/live.before" "$TL_TMP/live.after")" \
	sh -c "[ -s '$TL_TMP/live.before' ] && [ -z \"\$(comm -23 '$TL_TMP/live.before' '$TL_TMP/live.after')\" ]"
check "no errors in tapird's log so far" "$(tl_error_lines)" [ -z "$(tl_error_lines)" ]
lab_stop_tapird TERM

# ---- privileges: the lease file's directory must suit the user ---------
# tapird drops to nobody before modules start: a root-owned directory
# stops the module (and tapird) with the reason; one given to nobody works.
state=$(mktemp -d /tmp/tapir-dhcp-state.XXXXXX) || bail "state directory created"
lab_on_exit "rm -rf -- '$state'"
chmod 755 "$state"
LEASES=$state/dhcp.leases
write_conf
printf 'user = "nobody";\ngroup = "nogroup";\n' >>"$TL_TMP/dhcp.conf"
TL_LOG=$TL_TMP/tapird-nobody.log
if lab_start_tapird "$TL_TMP/dhcp.conf" "$TL_LOG" 2>/dev/null; then
	not_ok "as nobody with a root-owned lease directory, tapird refuses to start"
	lab_stop_tapird TERM
else
	check "as nobody with a root-owned lease directory, tapird refuses to start, saying why" \
		@"$TL_LOG" grep -q "cannot write $LEASES: Permission denied" "$TL_LOG"
fi
chown nobody:nogroup "$state"
tl_start_with "$TL_TMP/dhcp.conf"
rec=$TL_TMP/nobody.rec
: >"$rec"
in_ns env REC="$rec" timeout 30 udhcpc -i "$TAP" -q -n -s "$TL_TMP/udhcpc.sh" \
	-t 5 -T 1 >"$TL_TMP/nobody.out" 2>&1
ip -n "$LAB_NS" addr flush dev "$TAP"
check "as nobody with the directory given to it, leases are served and kept" \
	@"$TL_TMP/nobody.out" sh -c "grep -qE '^ip=10\.0\.0\.1[0-9][0-9]$' '$rec' && [ \"\$(stat -c %U '$LEASES')\" = nobody ] && grep -q '^L ' '$LEASES'"
lab_stop_tapird TERM

# ---- kill -9 during a perfdhcp run ------------------------------------
# perfdhcp acts as a relay from the kernel side's address; tapird's ACKs go
# to it and are recorded by a sniffer on the TAP.
PLEASES=$TL_TMP/perf.leases
cat >"$TL_TMP/perf.conf" <<EOF
interface = {
  name = "$TAP";
  address = "10.0.0.2/16";
  mac = "$TAPIR_MAC";
  host_address = "10.0.0.1/16";
};
modules = (
  { name = "dhcp";
    pool = [ "10.0.1.0-10.0.16.255" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ]; domain = "lab.test";
    lease_file = "$PLEASES"; }
);
EOF
TL_LOG=$TL_TMP/tapird-perf.log
tl_start_with "$TL_TMP/perf.conf"
in_ns timeout 20 python3 "$TL_DIR/dhcp_tool.py" sniff "$TAP" "$TL_TMP/acks" 9 &
spid=$!
sleep 0.5
in_ns timeout 20 perfdhcp -4 -l "$TAP" -r 800 -R 4000 -p 6 >"$TL_TMP/perfdhcp.out" 2>&1 &
ppid=$!
sleep 2.5
kill -KILL "$LAB_TAPIRD_PID"
wait "$LAB_TAPIRD_PID" 2>/dev/null
LAB_TAPIRD_PID=
wait "$ppid" 2>/dev/null
wait "$spid" 2>/dev/null
nacks=$(wc -l <"$TL_TMP/acks")
check "perfdhcp got leases before the kill" "$(tail -n 20 "$TL_TMP/perfdhcp.out")" [ "$nacks" -gt 50 ]
diag "$nacks leases acknowledged before SIGKILL"
tl_start_with "$TL_TMP/perf.conf"
res=$(tool verify "$PLEASES" "$TL_TMP/acks")
check "after kill -9 and restart every acknowledged lease is in the file" "$res" \
	tool verify "$PLEASES" "$TL_TMP/acks"
diag "$res"
bad=0
while read -r a m; do
	r=$(in_ns timeout 10 python3 "$TL_DIR/dhcp_tool.py" probe 10.0.0.2 10.0.0.1 "$m" "$a")
	case $r in "ACK $a "*) ;; *) bad=$((bad + 1)); diag "$a $m: $r" ;; esac
done < <(tool pick "$TL_TMP/acks" 20)
check "after the restart acknowledged leases are answered the same (20 probed)" \
	"$bad probes differ" [ "$bad" -eq 0 ]
check "the lease file has no torn or malformed record after restart" \
	@"$TL_LOG" absent ' [1-9][0-9]* malformed' "$TL_LOG"
lab_stop_tapird TERM

tl_done
