#!/bin/bash
# The dhcp6 module (RFC 8415) with real clients in the lab namespace:
#
#   1. dhclient -6 (stateful) gets an address from the pool, the DNS server
#      and the domain search list; the lease is in the journal; it renews
#      at T1; its FQDN name answers AAAA and ip6.arpa PTR through the dns
#      module (dig); dhclient -6 -r releases it.
#   2. dhclient -6 with Rapid Commit: a two-message exchange.
#   3. dhclient -6 -S (stateless) gets the DNS server and domain.
#   4. dhcpcd -6 gets an address from the pool.
#   5. A DUID with a reservation gets its address and its host name.
#   6. Made-up messages: Confirm of an address off the link (NotOnLink) and
#      on it (Success), a unicast Request (UseMulticast), and invalid
#      messages dropped and counted by reason; a Solicit flood from 200
#      random DUIDs binds nothing.
#   7. The server DUID is the same after a restart.
#   8. With the ra module: in stateless mode (O flag) dhcpcd, left to its
#      defaults, asks by Information-request and gets the DNS server; in
#      stateful mode (M flag) it gets an address from the pool.
#   9. kill -9 during perfdhcp -6 churn, three times: every lease a Reply
#      gave (sniffed on the link) is in the journal after the restart, and
#      renews to the same address.  (Checked to fail when Replies are sent
#      before their batch is written.)
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

for c in dhclient dhcpcd perfdhcp dig python3; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
tool() { in_ns python3 "$TL_DIR/dhcp6_tool.py" "$@"; }
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
SOCK=$TL_TMP/ctl.sock
LEASES=$TL_TMP/dhcp6.leases
RES_DUID=00:03:00:01:02:00:00:00:00:50

write_conf() {
	cat >"$TL_TMP/dhcp6.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
};
control = { socket = "$SOCK"; };
modules = (
  { name = "dns"; port = 53; dhcp_zone = "lab.test";
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 AAAA fd00::2" ]; } ); },
  { name = "dhcp6";
    pool = [ "fd00::1000-fd00::1fff" ];
    dns = [ "fd00::2" ]; domain = "lab.test"; search = [ "example.test" ];
    preferred_lifetime = 3600; valid_lifetime = 7200; t1 = 4; t2 = 3000;
    info_refresh_time = 900; rapid_commit = true;
    lease_file = "$LEASES";
    reservations = ( { duid = "$RES_DUID"; address = "fd00::50";
                       hostname = "fixed6"; } ); }
);
EOF
}
write_conf
tl_start_with "$TL_TMP/dhcp6.conf"
# The kernel side's link-local address must be usable before it can ask.
ll_ready() { in_ns ip -6 -o addr show dev "$TAP" scope link | grep -v -q tentative &&
	in_ns ip -6 -o addr show dev "$TAP" scope link | grep -q inet6; }
tl_wait 50 ll_ready || bail "the kernel side has a link-local address"

stat_of() {
	"$TAPIRCTL" -s "$SOCK" stats 2>/dev/null |
		awk -v n="module_dhcp6_$1" '$1 == n { v = $NF } END { print v + 0 }'
}
# Last record of ADDRESS in the journal: "L", "R" or "D" (or nothing).
lease_kind() {
	awk -v a="$1" '$2 == a && $1 ~ /^[LRD]$/ { k = $1 } END { print k }' "$LEASES"
}
rec_has() { grep -qx -- "$2" "$1"; }
# No client of the lab still holds port 546 (a stopped one exits
# asynchronously; two sockets on the port would share its replies).
port546_free() { ! in_ns ss -lun | grep -q ':546 '; }

# ---- 1. dhclient -6, stateful --------------------------------------------
cat >"$TL_TMP/dhclient.sh" <<'EOF'
#!/bin/sh
{ echo "reason=$reason"; env | grep -E '^new_(ip6_address|dhcp6_name_servers|dhcp6_domain_search|dhcp6_fqdn)=' | sort; } >>"@REC@"
exit 0
EOF
rec=$TL_TMP/dhclient.rec
sed -i "s|@REC@|$rec|" "$TL_TMP/dhclient.sh"
chmod +x "$TL_TMP/dhclient.sh"
: >"$rec"
cat >"$TL_TMP/dhclient.conf" <<'EOF'
send fqdn.fqdn "laptop6.lab.test.";
send fqdn.encoded on;
send fqdn.server-update on;
also request dhcp6.fqdn;
EOF
dc=(dhclient -6 -cf "$TL_TMP/dhclient.conf" -pf "$TL_TMP/dhclient.pid"
	-lf "$TL_TMP/dhclient.leases" -sf "$TL_TMP/dhclient.sh")
in_ns timeout 60 "${dc[@]}" -d -v "$TAP" >"$TL_TMP/dhclient.out" 2>&1 &
dpid=$!
lab_on_exit "kill $dpid 2>/dev/null"
tl_wait 150 rec_has "$rec" reason=BOUND6
addr=$(sed -n 's/^new_ip6_address=//p' "$rec" | head -n 1)
check "dhclient -6 gets an address from the pool ($addr)" @"$TL_TMP/dhclient.out" \
	grep -qE '^new_ip6_address=fd00::1[0-9a-f]{3}$' "$rec"
check "dhclient -6 is given DNS fd00::2 and the search list lab.test example.test" @"$rec" \
	sh -c "grep -qx 'new_dhcp6_name_servers=fd00::2' '$rec' && grep -qx 'new_dhcp6_domain_search=lab.test. example.test.' '$rec'"
check "its lease is in the journal" @"$LEASES" [ "$(lease_kind "$addr")" = L ]
tl_wait 100 rec_has "$rec" reason=RENEW6
check "dhclient -6 renews at T1 and the journal has the renewal" @"$TL_TMP/dhclient.out" \
	sh -c "grep -qx reason=RENEW6 '$rec' && [ \$(awk -v a='$addr' '\$2 == a && \$1 == \"L\"' '$LEASES' | wc -l) -ge 2 ]"
in_ns dig +short +time=2 +tries=2 @fd00::2 laptop6.lab.test AAAA >"$TL_TMP/dig.out" 2>&1
check "dig laptop6.lab.test AAAA (its FQDN option) answers $addr" @"$TL_TMP/dig.out" \
	grep -qx "$addr" "$TL_TMP/dig.out"
in_ns dig +short +time=2 +tries=2 @10.0.0.2 -x "$addr" >"$TL_TMP/dig.out" 2>&1
check "dig -x $addr (ip6.arpa PTR) answers laptop6.lab.test." @"$TL_TMP/dig.out" \
	grep -qx "laptop6.lab.test." "$TL_TMP/dig.out"
kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
in_ns timeout 20 "${dc[@]}" -r -v "$TAP" >>"$TL_TMP/dhclient.out" 2>&1
# dhclient -r does not wait for the Reply, which follows the journal.
released() { [ "$(lease_kind "$addr")" = R ]; }
tl_wait 30 released
check "dhclient -6 -r releases it (R in the journal)" @"$LEASES" released
in_ns dig +time=2 +tries=2 @fd00::2 laptop6.lab.test AAAA >"$TL_TMP/dig.out" 2>&1
check "after the release the name answers no AAAA (NXDOMAIN)" @"$TL_TMP/dig.out" \
	sh -c "grep -q 'status: NXDOMAIN' '$TL_TMP/dig.out' && ! grep -q '$addr' '$TL_TMP/dig.out'"

tl_wait 50 port546_free
# ---- 2. Rapid Commit --------------------------------------------------------
: >"$rec"
rc_before=$(stat_of rapid_commit)
adv_before=$(stat_of advertise)
echo 'send dhcp6.rapid-commit;' >"$TL_TMP/dhclient-rc.conf"
in_ns timeout 30 dhclient -6 -1 -cf "$TL_TMP/dhclient-rc.conf" -pf "$TL_TMP/rc.pid" \
	-lf "$TL_TMP/rc.leases" -sf "$TL_TMP/dhclient.sh" -v "$TAP" >"$TL_TMP/rc.out" 2>&1
in_ns sh -c "kill \$(cat '$TL_TMP/rc.pid')" 2>/dev/null
check "Rapid Commit: a Solicit answered by a Reply binds, no Advertise" @"$TL_TMP/rc.out" \
	sh -c "grep -qx reason=BOUND6 '$rec' && [ $(stat_of rapid_commit) -gt $rc_before ] && [ $(stat_of advertise) -eq $adv_before ]"

tl_wait 50 port546_free
# ---- 3. dhclient -6 -S, stateless ------------------------------------------
: >"$rec"
in_ns timeout 30 dhclient -6 -S -1 -pf "$TL_TMP/s.pid" -lf "$TL_TMP/s.leases" \
	-sf "$TL_TMP/dhclient.sh" -v "$TAP" >"$TL_TMP/s.out" 2>&1
in_ns sh -c "kill \$(cat '$TL_TMP/s.pid')" 2>/dev/null
# (dhclient runs its script with reason RENEW6 for the Reply.)
check "dhclient -6 -S (Information-request) gets DNS fd00::2 and domain lab.test" @"$TL_TMP/s.out" \
	sh -c "grep -qx 'new_dhcp6_name_servers=fd00::2' '$rec' && grep -q '^new_dhcp6_domain_search=lab.test.' '$rec'"
check "... and no address" @"$rec" absent '^new_ip6_address=' "$rec"

tl_wait 50 port546_free
# ---- 4. dhcpcd -6 ------------------------------------------------------------
# Confined: its own configuration and script (no hooks), this interface,
# a fixed DUID; its files under /var/lib/dhcpcd and /run/dhcpcd go after.
cat >"$TL_TMP/dhcpcd.sh" <<'EOF'
#!/bin/sh
{ echo "reason=$reason"; env | grep -E '^new_(dhcp6_ia_na1_ia_addr1|dhcp6_name_servers)=' | sort; } >>"@REC@"
exit 0
EOF
drec=$TL_TMP/dhcpcd.rec
sed -i "s|@REC@|$drec|" "$TL_TMP/dhcpcd.sh"
chmod +x "$TL_TMP/dhcpcd.sh"
: >"$drec"
cat >"$TL_TMP/dhcpcd.conf" <<EOF
duid
nohook resolv.conf
noipv6rs
ipv6only
hostname pc6
fqdn both
option dhcp6_name_servers, dhcp6_domain_search
interface $TAP
  ia_na 1
EOF
for f in /var/lib/dhcpcd/duid /var/lib/dhcpcd/secret; do
	[ -e "$f" ] || lab_on_exit "rm -f '$f'"
done
lab_on_exit "rm -f /var/lib/dhcpcd/$TAP*.lease6 /var/lib/dhcpcd/$TAP*.lease"
in_ns timeout 40 dhcpcd -6 -f "$TL_TMP/dhcpcd.conf" -c "$TL_TMP/dhcpcd.sh" -1 -B \
	-t 30 "$TAP" >"$TL_TMP/dhcpcd.out" 2>&1 &
cpid=$!
lab_on_exit "kill $cpid 2>/dev/null"
dcp_bound() { grep -qE '^new_dhcp6_ia_na1_ia_addr1=fd00::1[0-9a-f]{3}$' "$drec"; }
tl_wait 300 dcp_bound
check "dhcpcd -6 gets an address from the pool" @"$TL_TMP/dhcpcd.out" dcp_bound
caddr=$(sed -n 's/^new_dhcp6_ia_na1_ia_addr1=//p' "$drec" | head -n 1)
in_ns dig +short +time=2 +tries=2 @fd00::2 pc6.lab.test AAAA >"$TL_TMP/dig.out" 2>&1
check "dig pc6.lab.test AAAA (dhcpcd's FQDN) answers $caddr" @"$TL_TMP/dig.out" \
	grep -qx "$caddr" "$TL_TMP/dig.out"
kill "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
in_ns timeout 10 dhcpcd -6 -f "$TL_TMP/dhcpcd.conf" -x "$TAP" >/dev/null 2>&1

tl_wait 50 port546_free
# ---- 5. a reservation by DUID -------------------------------------------------
: >"$rec"
# dhclient reads the DUID as octal escapes.
python3 -c 'import sys; d=bytes.fromhex(sys.argv[1].replace(":", "")); print("default-duid \"%s\";" % "".join("\\%03o" % b for b in d))' \
	"$RES_DUID" >"$TL_TMP/res.leases"
in_ns timeout 30 dhclient -6 -1 -pf "$TL_TMP/res.pid" -lf "$TL_TMP/res.leases" \
	-sf "$TL_TMP/dhclient.sh" -v "$TAP" >"$TL_TMP/res.out" 2>&1
in_ns sh -c "kill \$(cat '$TL_TMP/res.pid')" 2>/dev/null
check "a client with the reserved DUID gets fd00::50" @"$TL_TMP/res.out" \
	grep -qx 'new_ip6_address=fd00::50' "$rec"
in_ns dig +short +time=2 +tries=2 @fd00::2 fixed6.lab.test AAAA >"$TL_TMP/dig.out" 2>&1
check "and the reservation's host name fixed6 answers AAAA fd00::50" @"$TL_TMP/dig.out" \
	grep -qx "fd00::50" "$TL_TMP/dig.out"

tl_wait 50 port546_free
# ---- 6. made-up messages ------------------------------------------------------
SID=$(tr -d ':\n' <"$LEASES.duid")
r=$(tool send "$TAP" confirm-offlink)
check "Confirm of 2001:db8::5 (not on this link): NotOnLink (4)" "got: $r" \
	test "$r" = "REPLY STATUS=4"
r=$(tool send "$TAP" confirm-onlink)
check "Confirm of fd00::1234: Success (0)" "got: $r" test "$r" = "REPLY STATUS=0"
LL=$("$TAPIRCTL" -s "$SOCK" status | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^fe80:/) { sub(/\/.*/, "", $i); print $i; exit } }')
r=$(tool send "$TAP" request-unicast "$SID" "$LL%$TAP")
check "a Request by unicast to $LL: UseMulticast (5)" "got: $r" \
	test "$r" = "REPLY STATUS=5"
for k in solicit-no-clientid solicit-with-serverid info-with-ia; do
	r=$(tool send "$TAP" "$k")
	check "$k: no answer" "got: $r" test "$r" = NONE
done
check "drops counted: client_id, server_id_present, ia_in_information_request" \
	"$("$TAPIRCTL" -s "$SOCK" stats 2>&1 | grep dhcp6)" \
	sh -c "[ $(stat_of drop_client_id) -ge 1 ] && [ $(stat_of drop_server_id_present) -ge 1 ] && [ $(stat_of drop_ia_in_information_request) -ge 1 ]"
nb=$(awk '$1 == "L"' "$LEASES" | wc -l)
r=$(tool send "$TAP" solicit-flood)
check "200 Solicits from random DUIDs are advertised addresses ($r)" "got: $r" \
	test "$r" -ge 190
check "... and bind nothing (no record written)" @"$LEASES" \
	test "$(awk '$1 == "L"' "$LEASES" | wc -l)" -eq "$nb"

# ---- 7. the DUID survives a restart -------------------------------------------
lab_stop_tapird TERM
tl_start_with "$TL_TMP/dhcp6.conf"
tl_wait 50 ll_ready
check "the server DUID is the same after a restart" @"$LEASES.duid" \
	test "$(tr -d ':\n' <"$LEASES.duid")" = "$SID"
r=$(tool send "$TAP" request-unicast "$SID" "$LL%$TAP")
check "and the restarted server answers to it (UseMulticast for a unicast)" "got: $r" \
	test "$r" = "REPLY STATUS=5"
errs=$(tl_error_lines)
check "no error-level line in the log" "$errs" test -z "$errs"
lab_stop_tapird TERM

# ---- 8. with the ra module: the M and O flags send dhcpcd here ------------
# dhcpcd as a host runs it: it solicits a router, and our advertisement's
# flags decide what it asks of DHCPv6 (nothing configured for it here).
ra_case() { # MODE POOL-SETTING
	cat >"$TL_TMP/ra.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
};
control = { socket = "$SOCK"; };
modules = (
  { name = "ra"; mode = "$1"; prefixes = [ "fd00::/64" ]; },
  { name = "dhcp6"; dns = [ "fd00::2" ]; domain = "lab.test"; $2
    lease_file = "$TL_TMP/ra6.leases"; }
);
EOF
	TL_LOG=$TL_TMP/tapird-ra-$1.log
	tl_start_with "$TL_TMP/ra.conf"
	tl_wait 50 ll_ready
	cat >"$TL_TMP/dhcpcd-ra.conf" <<EOF
duid
nohook resolv.conf
ipv6only
option dhcp6_name_servers, dhcp6_domain_search
EOF
	: >"$drec"
	# Not oneshot (-1): that exits once SLAAC has given an address, maybe
	# before the DHCPv6 exchange; ra_stop ends it.
	in_ns timeout 30 dhcpcd -6 -f "$TL_TMP/dhcpcd-ra.conf" -c "$TL_TMP/dhcpcd.sh" \
		-B -t 25 "$TAP" >"$TL_TMP/dhcpcd-ra-$1.out" 2>&1 &
	cpid=$!
}
ra_stop() {
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	in_ns timeout 10 dhcpcd -6 -f "$TL_TMP/dhcpcd-ra.conf" -x "$TAP" >/dev/null 2>&1
	lab_stop_tapird TERM
	tl_wait 50 port546_free
}
ra_case stateless ""
got_dns() { grep -qx 'new_dhcp6_name_servers=fd00::2' "$drec"; }
tl_wait 200 got_dns
check "ra stateless (O flag): dhcpcd asks by Information-request, gets DNS fd00::2" \
	@"$TL_TMP/dhcpcd-ra-stateless.out" sh -c "grep -qx reason=INFORM6 '$drec' && grep -qx 'new_dhcp6_name_servers=fd00::2' '$drec'"
ra_stop
ra_case stateful 'pool = [ "fd00::2000-fd00::20ff" ];'
got_addr() { grep -qE '^new_dhcp6_ia_na1_ia_addr1=fd00::20[0-9a-f]{2}$' "$drec"; }
tl_wait 200 got_addr
check "ra stateful (M flag): dhcpcd asks for an address, gets one from the pool" \
	@"$TL_TMP/dhcpcd-ra-stateful.out" got_addr
ra_stop

# ---- 9. kill -9 during perfdhcp -6 --------------------------------------------
PLEASES=$TL_TMP/perf6.leases
cat >"$TL_TMP/perf.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
};
modules = (
  { name = "dhcp6"; pool = [ "fd00::1:0-fd00::1:ffff" ];
    dns = [ "fd00::2" ]; lease_file = "$PLEASES"; }
);
EOF
TL_LOG=$TL_TMP/tapird-perf.log
# Three rounds, each killed 2.5 s into a run: a Reply sent before its
# lease is written is lost with a few milliseconds of the run each time.
: >"$TL_TMP/acks"
for round in 1 2 3; do
	tl_start_with "$TL_TMP/perf.conf"
	tl_wait 50 ll_ready
	tool sniff "$TAP" "$TL_TMP/acks.$round" 9 &
	spid=$!
	sleep 0.5
	in_ns timeout 20 perfdhcp -6 -l "$TAP" -r 800 -R 20000 -p 6 \
		>"$TL_TMP/perfdhcp.out" 2>&1 &
	ppid=$!
	sleep 2.5
	kill -KILL "$LAB_TAPIRD_PID"
	wait "$LAB_TAPIRD_PID" 2>/dev/null
	LAB_TAPIRD_PID=
	wait "$ppid" 2>/dev/null
	wait "$spid" 2>/dev/null
	cat "$TL_TMP/acks.$round" >>"$TL_TMP/acks"
done
nacks=$(wc -l <"$TL_TMP/acks")
check "perfdhcp -6 got leases before the kills ($nacks Replies in 3 rounds)" \
	"$(tail -n 20 "$TL_TMP/perfdhcp.out")" [ "$nacks" -gt 300 ]
tl_start_with "$TL_TMP/perf.conf"
# The TAP is new: the kernel side forms its link-local address again.
tl_wait 50 ll_ready
res=$(python3 "$TL_DIR/dhcp6_tool.py" verify "$PLEASES" "$TL_TMP/acks")
check "after kill -9 and restart every lease a Reply gave is in the journal" "$res" \
	python3 "$TL_DIR/dhcp6_tool.py" verify "$PLEASES" "$TL_TMP/acks"
diag "$res"
PSID=$(tr -d ':\n' <"$PLEASES.duid")
bad=0
while read -r a duid iaid; do
	r=$(tool renew "$TAP" "$PSID" "$a" "$duid" "$iaid")
	case $r in "REPLY $a "*) ;; *) bad=$((bad + 1)); diag "$a: $r" ;; esac
done < <(python3 "$TL_DIR/dhcp6_tool.py" pick "$TL_TMP/acks" 10)
check "after the restart 10 of those leases renew to the same address" \
	"$bad renewals differ" [ "$bad" -eq 0 ]
check "the journal had no torn or bad record to skip" @"$TL_LOG" \
	absent 'torn records ignored' "$TL_LOG"
lab_stop_tapird TERM

tl_done
