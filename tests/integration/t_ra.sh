#!/bin/bash
# Router advertisements from the ra module, with the Linux kernel on the
# other side of the TAP as the host that autoconfigures (accept_ra=2,
# autoconf=1):
#   1. tapird advertises fd00::/64 and fd00:5::/64 in stateless mode with
#      DNS options: the kernel forms a SLAAC address ("dynamic") in each;
#      rdisc6 shows the flags, the prefix, the MTU, RDNSS (tapird's fd00::2)
#      and DNSSL; router lifetime 0 gives the kernel no default route;
#      tapirctl stats counts the solicitations and advertisements.
#   2. Ten solicitations within two seconds: tapird's RAs, as tcpdump sees
#      them, are at least 3 s apart (RFC 4861 6.2.6) and the rest is
#      counted as rate limited.
#   3. A reload without fd00:5::/64: the kernel sees its address there
#      deprecated (preferred_lft 0) while fd00::'s stays preferred.
#   4. A reload with router_lifetime = 1800: the kernel adds a default
#      route through tapird's link-local address; stopping tapird sends
#      the final RA (router lifetime 0, captured by tcpdump) and the
#      kernel drops the route and deprecates its SLAAC address.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

for tool in rdisc6 tcpdump; do
	command -v "$tool" >/dev/null ||
		bail "$tool is installed" "scripts/deps installs it"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
SOCK=$TL_TMP/ctl.sock
export TAPIR_CONTROL_SOCKET=$SOCK

# The TAP is made beforehand and kept (persistent), so that it outlives
# tapird and the kernel's reaction to the final RA can be seen; tapird
# attaches to it.  The kernel side takes RAs (even if the namespace
# forwarded) and forms addresses from them.
in_ns ip tuntap add dev "$TAP" mode tap || bail "TAP $TAP made beforehand"
lab_on_exit "ip -n '$LAB_NS' link del '$TAP' 2>/dev/null"
in_ns sysctl -q -w "net.ipv6.conf.$TAP.accept_ra=2" \
	"net.ipv6.conf.$TAP.autoconf=1" ||
	bail "accept_ra=2 and autoconf=1 set on $TAP"
in_ns ip link set "$TAP" up

stat_of() { # COUNTER: its value in tapirctl stats (0 when absent)
	"$TAPIRCTL" stats 2>/dev/null |
		awk -v n="$1" '{ v = $NF; sub(/[[:space:]]+[0-9]+$/, "") } $0 == n { r = v } END { print r + 0 }'
}
# The kernel side's address line (ip -o) in PREFIX (e.g. "fd00:5:"),
# formed from an RA (dynamic), or nothing.
slaac_line() {
	in_ns ip -o -6 addr show dev "$TAP" | grep " inet6 $1:[0-9a-f:]*/64 .*dynamic"
}
has_slaac() { [ -n "$(slaac_line "$1")" ]; }
deprecated() { slaac_line "$1" | grep -q 'deprecated.*preferred_lft 0sec'; }
preferred() { has_slaac "$1" && ! slaac_line "$1" | grep -q deprecated; }
default_via_tapird() { in_ns ip -6 route show default | grep -q "via fe80::.* dev $TAP proto ra"; }
no_default() { [ -z "$(in_ns ip -6 route show default)" ]; }

write_conf() { # EXTRA: more settings of the ra module
	cat >"$TL_TMP/tapir.conf.new" <<CONF
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
  { name = "ra"; mode = "stateless"; dnssl = [ "lab.test" ];
    min_interval = 30; max_interval = 40; $1 }
);
CONF
	mv "$TL_TMP/tapir.conf.new" "$TL_TMP/tapir.conf"
}

# ---- 1. SLAAC and what rdisc6 sees ------------------------------------------------
write_conf 'prefixes = [ "fd00::/64", "fd00:5::/64" ];'
tl_start_with "$TL_TMP/tapir.conf"
tl_wait 200 sh -c "ip -n '$LAB_NS' -o -6 addr show dev '$TAP' | grep -q ' inet6 fd00:5:.*dynamic'"
check "the kernel forms a SLAAC address in fd00::/64 from tapird's RA (ip -6 addr: dynamic)" \
	"$(in_ns ip -6 addr show dev "$TAP")" has_slaac "fd00:"
check "and one in fd00:5::/64" "$(in_ns ip -6 addr show dev "$TAP")" has_slaac "fd00:5"
diag "$(slaac_line fd00:)"

in_ns timeout 10 rdisc6 -1 -r 3 -w 2000 "$TAP" >"$TL_TMP/rdisc6.out" 2>&1
rd() { grep -qE "$1" "$TL_TMP/rdisc6.out"; }
check "rdisc6: an answer from tapird's link-local address" "@$TL_TMP/rdisc6.out" \
	rd '^ from fe80::'
check "rdisc6: M clear, O set (stateless), hop limit 64" "@$TL_TMP/rdisc6.out" \
	sh -c "grep -qE 'Stateful address conf\. *: *No' '$TL_TMP/rdisc6.out' &&
	       grep -qE 'Stateful other conf\. *: *Yes' '$TL_TMP/rdisc6.out' &&
	       grep -qE 'Hop limit *: *64 ' '$TL_TMP/rdisc6.out'"
check "rdisc6: router lifetime 0 (prefixes only, not a router)" "@$TL_TMP/rdisc6.out" \
	rd 'Router lifetime *: *0 \(0x00000000\)'
check "rdisc6: prefix fd00::/64, on-link, autonomous, valid 86400 s, preferred 14400 s" \
	"@$TL_TMP/rdisc6.out" \
	sh -c "grep -A4 'Prefix *: fd00::/64' '$TL_TMP/rdisc6.out' | grep -qE 'On-link *: *Yes' &&
	       grep -A4 'Prefix *: fd00::/64' '$TL_TMP/rdisc6.out' | grep -qE 'Autonomous address conf\. *: *Yes' &&
	       grep -A4 'Prefix *: fd00::/64' '$TL_TMP/rdisc6.out' | grep -qE 'Valid time *: *86400 ' &&
	       grep -A4 'Prefix *: fd00::/64' '$TL_TMP/rdisc6.out' | grep -qE 'Pref\. time *: *14400 '"
check "rdisc6: prefix fd00:5::/64 too" "@$TL_TMP/rdisc6.out" rd 'Prefix *: fd00:5::/64'
check "rdisc6: MTU 1500 (the link's)" "@$TL_TMP/rdisc6.out" rd 'MTU *: *1500 bytes'
check "rdisc6: recursive DNS server fd00::2 (tapird's own address)" "@$TL_TMP/rdisc6.out" \
	rd 'Recursive DNS server *: fd00::2$'
check "rdisc6: DNS search list lab.test" "@$TL_TMP/rdisc6.out" rd 'DNS search list *: lab\.test'
check "rdisc6: source link-layer address $TAPIR_MAC" "@$TL_TMP/rdisc6.out" \
	grep -qi "Source link-layer address: *$TAPIR_MAC" "$TL_TMP/rdisc6.out"
check "router lifetime 0: no default route through tapird" \
	"$(in_ns ip -6 route show default)" no_default
rs=$(stat_of module_ra_rs_received)
sol=$(stat_of module_ra_ra_solicited)
check "tapirctl stats: module_ra_rs_received ($rs) >= 1, module_ra_ra_solicited ($sol) >= 1" \
	"$("$TAPIRCTL" stats 2>&1 | grep module_ra)" \
	sh -c "[ '$rs' -ge 1 ] && [ '$sol' -ge 1 ]"

# ---- 2. Rate limit ------------------------------------------------------------------
sleep 3.5 # clear of the last RA
limited0=$(stat_of module_ra_rate_limited)
tcpdump_start "$TL_TMP/ra.txt" "ether src $TAPIR_MAC and icmp6 and ip6[40] == 134" ||
	bail "tcpdump listens on $TAP"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	in_ns timeout 5 rdisc6 -1 -r 1 -w 200 "$TAP" >/dev/null 2>&1
done
sleep 4
tcpdump_stop
# Times of the RAs captured, in seconds of the day (tcpdump's HH:MM:SS.us).
mapfile -t times < <(awk '/ICMP6, router advertisement/ { split($1, t, ":"); print t[1] * 3600 + t[2] * 60 + t[3] }' "$TL_TMP/ra.txt")
gaps_ok() {
	local i
	[ "${#times[@]}" -ge 2 ] || return 1
	for ((i = 1; i < ${#times[@]}; i++)); do
		awk -v a="${times[i - 1]}" -v b="${times[i]}" 'BEGIN { exit !(b - a >= 2.95) }' || return 1
	done
}
check "10 solicitations: ${#times[@]} RAs, at least 3 s apart (RFC 4861 6.2.6)" \
	"@$TL_TMP/ra.txt" gaps_ok
limited=$(($(stat_of module_ra_rate_limited) - limited0))
check "tapirctl stats: module_ra_rate_limited grew ($limited)" \
	"$("$TAPIRCTL" stats 2>&1 | grep module_ra)" test "$limited" -ge 5

# ---- 3. A reload that removes a prefix --------------------------------------------
write_conf 'prefixes = [ "fd00::/64" ];'
kill -HUP "$LAB_TAPIRD_PID"
tl_wait 80 deprecated fd00:5
check "reload without fd00:5::/64: the kernel's address there is deprecated (preferred_lft 0)" \
	"$(in_ns ip -6 addr show dev "$TAP")" deprecated fd00:5
valid=$(slaac_line fd00:5 | sed -n 's/.*valid_lft \([0-9]*\)sec.*/\1/p')
check "its valid lifetime is two hours at most ($valid s)" "$(slaac_line fd00:5)" \
	sh -c "[ -n '$valid' ] && [ '$valid' -le 7200 ] && [ '$valid' -gt 7000 ]"
check "the address in fd00::/64 stays preferred" "$(slaac_line fd00:)" preferred "fd00:"

# ---- 4. A router, and the final RA ----------------------------------------------------
write_conf 'prefixes = [ "fd00::/64" ]; router_lifetime = 1800;'
kill -HUP "$LAB_TAPIRD_PID"
tl_wait 80 default_via_tapird
check "reload with router_lifetime = 1800: a default route through tapird (proto ra)" \
	"$(in_ns ip -6 route show default)" default_via_tapird
tcpdump_start "$TL_TMP/final.txt" "ether src $TAPIR_MAC and icmp6 and ip6[40] == 134" ||
	bail "tcpdump listens on $TAP"
lab_stop_tapird
tl_wait 30 grep -q 'router lifetime 0s' "$TL_TMP/final.txt"
tcpdump_stop
check "stopping tapird (SIGTERM, exit $LAB_TAPIRD_STATUS) sends a final RA with router lifetime 0" \
	"@$TL_TMP/final.txt" grep -q 'router lifetime 0s' "$TL_TMP/final.txt"
tl_wait 30 no_default
check "the kernel drops its default route through tapird" \
	"$(in_ns ip -6 route show default)" no_default
check "and deprecates its SLAAC address in fd00::/64" "$(slaac_line fd00:)" deprecated "fd00:"

errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
