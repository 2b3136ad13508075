#!/bin/bash
# The dhcp module's operator features, in the lab namespace: a relay on
# another subnet (10.0.1.1 on the lab's loopback, reached through
# interface.gateway) gets addresses from that subnet's pool with its
# router, lease time and its relay agent information (option 82) echoed;
# a relay on a subnet without a pool gets nothing; the lease time a client
# asks for is honoured within min_lease_time..max_lease_time; with
# ping_check an address that a host in the lab answers pings on
# (10.0.1.100 on the lab's loopback, 10.0.0.100 on the kernel side of the
# TAP) is set aside and another is offered; max_leases_per_mac holds one
# MAC to two client identifiers; option 81 is answered and its name
# resolves through the dns module; and real clients (udhcpc, dhclient)
# still get leases with all of it configured; tapird killed with SIGKILL
# amid relayed exchanges keeps every lease it acknowledged.  Every address
# used lives in the lab namespace.  (Awk programs are in single quotes; the
# helper functions are run by check and tl_wait.)
# shellcheck disable=SC2016,SC2317
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

for c in dhclient udhcpc dig python3; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
tool() { in_ns python3 "$TL_DIR/dhcp_tool.py" "$@"; }
LEASES=$TL_TMP/dhcp.leases
RELAY=10.0.1.1
out=$TL_TMP/relay.out

cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  gateway = "$HOST_ADDR";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
};
modules = (
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "ns1 A 10.0.0.2" ]; } ); },
  { name = "dhcp";
    pool = [ "10.0.0.100-10.0.0.149" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ]; domain = "lab.test";
    min_lease_time = 120; max_lease_time = 7200;
    max_leases_per_mac = 2;
    ping_check = true; ping_timeout = 300;
    subnets = ( { subnet = "10.0.1.0/24"; pool = [ "10.0.1.100-10.0.1.149" ];
                  router = "10.0.1.1"; lease_time = 1800; } );
    lease_file = "$LEASES"; }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF

# The relay's addresses and a host squatting on the first address of each
# pool, all inside the lab namespace.
ip -n "$LAB_NS" link set lo up
for a in 10.0.1.1 10.0.2.1 10.0.1.100; do
	ip -n "$LAB_NS" addr add "$a/32" dev lo || bail "lab loopback gets $a"
done
tl_start_with "$TL_TMP/tapir.conf"
ip -n "$LAB_NS" addr add 10.0.0.100/24 dev "$TAP" || bail "kernel side gets 10.0.0.100"

yiaddr() { awk -v t="${1:-OFFER}" '$1 == t { print $2; exit }' "$out"; }

# ---- a relayed DORA with option 82 ------------------------------------
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:01 agent=0104706f7274 \
	request=1 >"$out" 2>&1
a=$(yiaddr ACK)
check "a relayed DISCOVER from 10.0.1.0/24 is offered an address of that subnet's pool" @"$out" \
	sh -c "grep -qE '^OFFER 10\\.0\\.1\\.1[0-4][0-9] ' '$out'"
check "the relayed REQUEST is acknowledged to the relay, with the subnet's mask, router and lease time" @"$out" \
	sh -c "grep -qE '^ACK 10\\.0\\.1\\.1[0-4][0-9] lease=1800 mask=255\\.255\\.255\\.0 router=10\\.0\\.1\\.1 ' '$out'"
check "option 82 is echoed unchanged in the OFFER and the ACK" @"$out" \
	[ "$(grep -c ' agent=0104706f7274 ' "$out")" = 2 ]
check "the relayed lease is in the lease file" @"$LEASES" \
	grep -qE "^L $a [0-9]+ 02:00:00:00:01:01 " "$LEASES"

# ---- the ping check ---------------------------------------------------
check "10.0.1.100 answers pings in the lab: not offered" @"$out" [ "$a" != 10.0.1.100 ]
check "it is set aside in the lease file and logged" @"$LEASES" \
	sh -c "grep -q '^D 10.0.1.100 ' '$LEASES' && grep -q '10.0.1.100 answers pings' '$TL_LOG'"

# ---- no option 82 asked, none added; a relay without a subnet ----------
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:02 >"$out" 2>&1
check "a relayed DISCOVER without option 82 gets none back" @"$out" \
	sh -c "grep -qE '^OFFER 10\\.0\\.1\\.1[0-4][0-9] .* agent=- ' '$out'"
tool relay "$TAPIR_ADDR" 10.0.2.1 02:00:00:00:01:03 tries=2 >"$out" 2>&1
check "a relay on a subnet without a pool gets no answer" @"$out" grep -qx none "$out"

# ---- lease times asked for --------------------------------------------
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:04 lease=60 request=1 >"$out" 2>&1
check "a lease of 60 s asked for: min_lease_time (120)" @"$out" \
	sh -c "grep -q '^ACK .* lease=120 ' '$out'"
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:05 lease=100000 request=1 >"$out" 2>&1
check "a lease of 100000 s asked for: max_lease_time (7200)" @"$out" \
	sh -c "grep -q '^ACK .* lease=7200 ' '$out'"
a=$(yiaddr ACK)
now=$(date +%s)
check "the capped lease ends 7200 s on in the lease file" @"$LEASES" \
	awk -v a="$a" -v now="$now" '$1 == "L" && $2 == a && $3 >= now + 7100 && $3 <= now + 7300 { f = 1 } END { exit !f }' "$LEASES"
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:06 lease=600 request=1 >"$out" 2>&1
check "a lease of 600 s asked for: granted" @"$out" sh -c "grep -q '^ACK .* lease=600 ' '$out'"

# ---- the cap per MAC --------------------------------------------------
for id in 01 02 03; do
	tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:07 cid=ff0000$id \
		request=1 tries=2 >"$TL_TMP/cap.$id" 2>&1
done
check "two client identifiers behind one MAC get leases" "$(cat "$TL_TMP/cap.01" "$TL_TMP/cap.02")" \
	sh -c "grep -q '^ACK ' '$TL_TMP/cap.01' && grep -q '^ACK ' '$TL_TMP/cap.02'"
check "a third one behind the same MAC gets none (max_leases_per_mac = 2)" @"$TL_TMP/cap.03" \
	grep -qx none "$TL_TMP/cap.03"

# ---- option 81 --------------------------------------------------------
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:08 fqdn=05:Laptop request=1 >"$out" 2>&1
a=$(yiaddr ACK)
check "option 81 is answered: S and E, RCODEs 255, laptop.lab.test. in wire format" @"$out" \
	sh -c "grep -q '^ACK .* fqdn=05:255:255:laptop.lab.test.\$' '$out'"
resolves() {
	in_ns timeout 10 dig @"$TAPIR_ADDR" +norec +time=2 +tries=1 laptop.lab.test A >"$TL_TMP/dig.out" 2>&1 &&
		grep -qE "^laptop\\.lab\\.test\\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+$a\$" "$TL_TMP/dig.out"
}
check "the client's FQDN resolves to its relayed lease $a" @"$TL_TMP/dig.out" tl_wait 30 resolves
tool relay "$TAPIR_ADDR" "$RELAY" 02:00:00:00:01:09 fqdn=0c:quiet request=1 >"$out" 2>&1
check "with N set: N back, no name, nothing published" @"$out" \
	sh -c "grep -q '^ACK .* fqdn=0c:255:255:\$' '$out' && ! grep -q ' quiet ' '$LEASES'"

# ---- real clients on the link, all of the above configured ------------
cat >"$TL_TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
{ echo "event=$1"; env | grep -E '^(ip|router|lease)=' | sort; } >>"${REC:-@REC@}"
exit 0
EOF
sed -i "s|@REC@|$TL_TMP/udhcpc.rec|" "$TL_TMP/udhcpc.sh"
chmod +x "$TL_TMP/udhcpc.sh"
rec=$TL_TMP/udhcpc.rec
: >"$rec"
in_ns env REC="$rec" timeout 30 udhcpc -i "$TAP" -q -n -s "$TL_TMP/udhcpc.sh" \
	-t 5 -T 1 >"$TL_TMP/udhcpc.out" 2>&1
check "udhcpc gets a lease on the link, not 10.0.0.100 (which answers pings)" @"$rec" \
	sh -c "grep -qx event=bound '$rec' && grep -qE '^ip=10\\.0\\.0\\.1[0-4][0-9]\$' '$rec' && ! grep -qx ip=10.0.0.100 '$rec' && grep -qx router=10.0.0.1 '$rec' && grep -qx lease=3600 '$rec'"
check "10.0.0.100 is set aside too" @"$LEASES" grep -q '^D 10.0.0.100 ' "$LEASES"

cat >"$TL_TMP/dhclient.sh" <<'EOF'
#!/bin/sh
{ echo "reason=$reason"; env | grep -E '^new_(ip_address|routers)=' | sort; } >>"${REC:-@REC@}"
exit 0
EOF
sed -i "s|@REC@|$TL_TMP/dhclient.rec|" "$TL_TMP/dhclient.sh"
chmod +x "$TL_TMP/dhclient.sh"
rec=$TL_TMP/dhclient.rec
: >"$rec"
# Another MAC than udhcpc's (the kernel side's): a macvlan would do, but
# dhclient's own -cf with a send dhcp-client-identifier keeps it simple.
printf 'send dhcp-client-identifier "dhclient-relay-test";\n' >"$TL_TMP/dhclient.conf"
in_ns env REC="$rec" timeout 40 dhclient -4 -cf "$TL_TMP/dhclient.conf" \
	-pf "$TL_TMP/dhclient.pid" -lf "$TL_TMP/dhclient.leases" \
	-sf "$TL_TMP/dhclient.sh" -d -v "$TAP" >"$TL_TMP/dhclient.out" 2>&1 &
dpid=$!
lab_on_exit "kill $dpid 2>/dev/null"
tl_wait 150 grep -qx reason=BOUND "$rec"
check "dhclient gets a lease on the link with the new settings present" @"$TL_TMP/dhclient.out" \
	sh -c "grep -qE '^new_ip_address=10\\.0\\.0\\.1[0-4][0-9]\$' '$rec' && grep -qx new_routers=10.0.0.1 '$rec'"
kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null

TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats >"$TL_TMP/stats.out" 2>&1
counted() {
	local n
	for n in "$@"; do
		awk -v n="$n" '$1 == n && $NF + 0 >= 1 { f = 1 } END { exit !f }' "$TL_TMP/stats.out" || return 1
	done
}
check "counted: no_subnet, mac_cap, ping_answered" @"$TL_TMP/stats.out" \
	counted module_dhcp_no_subnet module_dhcp_mac_cap module_dhcp_ping_answered
check "tapird logged no errors" "$(tl_error_lines)" eval '[ -z "$(tl_error_lines)" ]'

# ---- kill -9 during relayed exchanges ---------------------------------
# Relayed clients one after another (each offer waits for its ping check);
# a sniffer on the TAP records every ACK tapird sent to the relay.
in_ns timeout 20 python3 "$TL_DIR/dhcp_tool.py" sniff "$TAP" "$TL_TMP/acks" 8 &
spid=$!
sleep 0.5
(
	for i in $(seq 16 45); do
		mac=$(printf '02:00:00:00:02:%02x' "$i")
		tool relay "$TAPIR_ADDR" "$RELAY" "$mac" "cid=01${mac//:/}" \
			request=1 tries=1 >/dev/null 2>&1
	done
) &
lpid=$!
sleep 3
kill -KILL "$LAB_TAPIRD_PID"
wait "$LAB_TAPIRD_PID" 2>/dev/null
LAB_TAPIRD_PID=
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
wait "$spid" 2>/dev/null
nacks=$(grep -c '^10\.0\.1\.' "$TL_TMP/acks")
check "relayed clients got leases before the kill" @"$TL_TMP/acks" [ "$nacks" -gt 2 ]
diag "$nacks relayed leases acknowledged before SIGKILL"
TL_LOG=$TL_TMP/tapird-restart.log
tl_start_with "$TL_TMP/tapir.conf"
res=$(tool verify "$LEASES" "$TL_TMP/acks")
check "after kill -9 and restart every acknowledged relayed lease is in the file" "$res" \
	tool verify "$LEASES" "$TL_TMP/acks"
bad=0
while read -r a m; do
	r=$(tool probe "$TAPIR_ADDR" "$RELAY" "$m" "$a")
	case $r in "ACK $a "*) ;; *) bad=$((bad + 1)); diag "$a $m: $r" ;; esac
done <"$TL_TMP/acks"
check "after the restart each of them is acknowledged again through the relay" \
	"$bad differ" [ "$bad" -eq 0 ]
tl_done
