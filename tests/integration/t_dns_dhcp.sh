#!/bin/bash
# DHCP names in DNS, as with dnsmasq: udhcpc in the lab namespace asks the
# dhcp module for a lease with `-x hostname:Lab-Box`, and dig then gets
# lab-box.lab.test from the dns module with the leased address, and the
# address's PTR with that name; configured names keep answering; a SIGHUP
# that adds a record keeps the lease's name; after the release the name is
# gone.  The kernel side keeps 10.0.0.1 for dig; the
# client script adds and removes only the leased address.  The conditions
# are strings that check() evals after dig ran.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
for c in dig udhcpc; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done

out=$TL_TMP/dig.out
# write_conf EXTRA_RECORD: dns and dhcp; EXTRA_RECORD added to the zone.
write_conf() {
	local extra=${1:+, \"$1\"}
	cat >"$TL_TMP/tapir.conf" <<CONF
$(tl_iface_conf)
modules = (
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "ns1 A 10.0.0.2", "www A 10.0.0.2"$extra ]; } ); },
  { name = "dhcp";
    pool = [ "10.0.0.100-10.0.0.199" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ]; domain = "lab.test";
    lease_file = "$TL_TMP/dhcp.leases"; }
);
CONF
}
write_conf
tl_start_with "$TL_TMP/tapir.conf"

q() {
	in_ns timeout 10 dig @"$TAPIR_ADDR" +norec +time=2 +tries=1 "$@" >"$out" 2>&1
}
status_is() { grep -q "status: $1," "$out"; }
answer() {
	awk '$0 == ";; ANSWER SECTION:" {on = 1; next} on && /^$/ {on = 0} on' "$out" |
		awk '{$1 = $1; print}'
}
has() { answer | grep -qx -- "$1"; }

rec=$TL_TMP/udhcpc.rec
cat >"$TL_TMP/udhcpc.sh" <<SCRIPT
#!/bin/sh
{ echo "event=\$1"; env | grep -E '^(ip|hostname)=' | sort; } >>"$rec"
case \$1 in
bound|renew) ip addr replace "\$ip/24" dev "\$interface" ;;
deconfig) ip -o -4 addr show dev "\$interface" | awk '{print \$4}' |
	grep -v '^$HOST_ADDR/' | while read -r a; do ip addr del "\$a" dev "\$interface"; done ;;
esac
exit 0
SCRIPT
chmod +x "$TL_TMP/udhcpc.sh"
: >"$rec"
in_ns timeout 60 udhcpc -i "$TAP" -f -s "$TL_TMP/udhcpc.sh" \
	-x hostname:Lab-Box -t 5 -T 1 -A 1 >"$TL_TMP/udhcpc.out" 2>&1 &
tpid=$!
lab_on_exit "kill $tpid 2>/dev/null"
rec_has() { grep -qx -- "$1" "$rec"; }
tl_wait 100 rec_has event=bound || bail "udhcpc obtains a lease" "$(cat "$TL_TMP/udhcpc.out")"
addr=$(sed -n 's/^ip=//p' "$rec" | head -n 1)
# The signals go to udhcpc itself, not to timeout(1) above it.
upid=
for p in $(pgrep -x udhcpc); do
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$TL_TMP/udhcpc.sh" && upid=$p
done

resolves() { q lab-box.lab.test A && has "lab-box.lab.test. 60 IN A $addr"; }
check "udhcpc's name lab-box.lab.test resolves to its lease $addr" "@$out" \
	tl_wait 30 resolves
check "the name is answered with AA, NOERROR" "@$out" \
	eval 'status_is NOERROR && grep -q "^;; flags: qr aa;" "$out"'
q -x "$addr"
rev=$(echo "$addr" | awk -F. '{print $4"."$3"."$2"."$1".in-addr.arpa."}')
check "the leased address's PTR is lab-box.lab.test" "@$out" \
	has "$rev 60 IN PTR lab-box.lab.test."
q www.lab.test A
check "configured names still answer" "@$out" \
	eval 'has "www.lab.test. 3600 IN A 10.0.0.2"'
# SIGHUP with a new record: it resolves, and the lease's name still does.
write_conf "new A 10.0.0.77"
kill -HUP "$LAB_TAPIRD_PID"
new_resolves() { q new.lab.test A && has "new.lab.test. 3600 IN A 10.0.0.77"; }
check "SIGHUP adding new.lab.test: it resolves" "@$out" tl_wait 50 new_resolves
check "after SIGHUP the lease's name still resolves" "@$out" resolves
if [ -n "$upid" ]; then
	kill -USR2 "$upid"
else
	not_ok "udhcpc is running" "$(cat "$TL_TMP/udhcpc.out")"
fi
gone() { q lab-box.lab.test A && status_is NXDOMAIN; }
check "after the release (SIGUSR2) lab-box.lab.test is NXDOMAIN" "@$out" \
	tl_wait 50 gone
kill "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
check "tapird logged no errors" "$(tl_error_lines)" eval '[ -z "$(tl_error_lines)" ]'
tl_done
