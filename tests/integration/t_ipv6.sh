#!/bin/bash
# IPv6 with a real kernel on the other side of the TAP.
#
#   1. DAD at start: the kernel side already has fd00::99 (nodad), tapird is
#      started with it in address6: it logs "is in use by another node",
#      tapirctl status says duplicate, and a Neighbor Solicitation for it
#      gets no advertisement from tapird (one for fd00::2 does).
#   2. tapird with fd00::2/64, gateway6 fd00::1 and echo, dns and http:
#      status "preferred"; ping -6 to fd00::2 and to the link-local address;
#      the kernel's neighbour entry REACHABLE; ndisc6 gets our NA with our
#      MAC; -M do at 1452 bytes works and at 1453 fails locally; 3000- and
#      65000-byte pings (fragments both ways); the kernel side claiming
#      fd00::2 gets dadfailed; dig AAAA and PTR over UDP and TCP; UDP and TCP
#      echo, and 100 MiB through TCP echo; curl -6 of 100 MiB; the counters.
#   3. Path MTU: a client namespace behind the lab namespace, which routes
#      IPv6 onto a veth of MTU 1400: tracepath -6 sees pmtu 1400, and a
#      100 MiB curl from the client is byte-identical once tapird has
#      lowered its MSS on the kernel router's Packet Too Big.
#   4. 100 MiB through TCP echo over IPv6 under loss, reordering and
#      duplication (tests/tools/impair, as t_tcp_impair.sh uses it).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

for tool in ndisc6 tracepath ns6 dig curl socat nc tcpdump; do
	command -v "$tool" >/dev/null ||
		bail "$tool is installed" "scripts/deps installs it"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
IMPAIR=${IMPAIR:-$LAB_ROOT/build/tests/tools/impair}

ADDR6=fd00::2
HOST6=fd00::1
BIG=$((100 * 1024 * 1024))
TAPIRD_NS=$LAB_NS
SOCK=$TL_TMP/ctl.sock
export TAPIR_CONTROL_SOCKET=$SOCK

# The state tapirctl status gives ADDR ("preferred", "tentative", ...).
addr6_state() {
	"$TAPIRCTL" status 2>/dev/null |
		awk -v a="$1/" '{ for (i = 1; i < NF; i++) if (index($i, a) == 1) print $(i + 1) }'
}
addr6_is() { [ "$(addr6_state "$1")" = "$2" ]; }
# tapirctl stats' value of COUNTER (0 when it is not listed).
stat_of() {
	"$TAPIRCTL" stats 2>/dev/null |
		awk -v n="$1" '{ v = $NF; sub(/[[:space:]]+[0-9]+$/, "") } $0 == n { r = v } END { print r + 0 }'
}
# Lines at error priority or worse in LOG, but for those matching EXPECTED.
errors_but() {
	local log=$1 expected=$2
	if ! grep -qE '^<[0-7]>' "$log"; then
		printf 'no "<N>" priority prefixes in %s\n' "$log"
		return
	fi
	grep -E '^<[0-3]>' "$log" | { if [ -n "$expected" ]; then grep -v -- "$expected"; else cat; fi; }
}
ping6_counts() { # OUT: "TX RX"
	ping_counts "$1"
}
ms_since() { # START (date +%s%N): milliseconds since
	echo $((($(date +%s%N) - $1) / 1000000))
}

# ---- 1. DAD at start: an address the kernel side already has ----------------
# The TAP is made beforehand and kept (persistent), with fd00::99 on the
# kernel side, usable at once (nodad); tapird attaches to it.
in_ns ip tuntap add dev "$TAP" mode tap || bail "TAP $TAP made beforehand"
in_ns ip link set "$TAP" up
in_ns ip addr add fd00::99/64 dev "$TAP" nodad ||
	bail "fd00::99 on the kernel side"
cat >"$TL_TMP/dad.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  address6 = [ "$ADDR6/64", "fd00::99/64" ];
};
control = { socket = "$SOCK"; };
modules = ( { name = "echo"; udp_port = 7; tcp_port = 7; } );
EOF
TL_LOG=$TL_TMP/dad.log
tl_start_with "$TL_TMP/dad.conf"
DUPMSG='IPv6 address fd00::99 is in use by another node'
tl_wait 50 grep -q "$DUPMSG" "$TL_LOG"
check "DAD: tapird logs \"$DUPMSG\" (the kernel side has it)" "@$TL_LOG" \
	grep -q "^<3>.*$DUPMSG" "$TL_LOG"
tl_wait 50 addr6_is "$ADDR6" preferred
check "DAD: tapirctl status shows fd00::99 duplicate, fd00::2 preferred" \
	"$("$TAPIRCTL" status 2>&1)" \
	sh -c "[ '$(addr6_state fd00::99)' = duplicate ] && [ '$(addr6_state "$ADDR6")' = preferred ]"

# Solicit both from a forged neighbour, fd00::50 (ns6 writes the frames
# itself: the kernel would answer for fd00::99 on its own), each to its
# solicited-node group and by unicast to fd00::2 at our MAC, and watch what
# tapird sends back.  (tapird has left fd00::99's group, so the multicast
# one stops at IPv6; the unicast one reaches Neighbor Discovery.)
tcpdump_start "$TL_TMP/dad.pcap.txt" "ether src $TAPIR_MAC and icmp6" ||
	bail "tcpdump listens on $TAP"
drops_before=$(stat_of "nd6_dropped reason=not_our_target")
for t in 99 2; do
	in_ns timeout 5 ns6 -i "$TAP" -s fd00::50 -d "ff02::1:ff00:$t" \
		-D "33:33:ff:00:00:$(printf '%02x' "0x$t")" -t "fd00::$t" -e \
		>"$TL_TMP/ns6.out" 2>&1
	in_ns timeout 5 ns6 -i "$TAP" -s fd00::50 -d "$ADDR6" -D "$TAPIR_MAC" \
		-t "fd00::$t" -e >>"$TL_TMP/ns6.out" 2>&1
done
tl_wait 30 grep -q "tgt is $ADDR6" "$TL_TMP/dad.pcap.txt"
tcpdump_stop
check "DAD: a solicitation for fd00::2 gets tapird's advertisement (control)" \
	"@$TL_TMP/dad.pcap.txt" grep -q "neighbor advertisement.*tgt is $ADDR6," "$TL_TMP/dad.pcap.txt"
check "DAD: solicitations for fd00::99 get none: tapird does not answer for it" \
	"@$TL_TMP/dad.pcap.txt" absent "tgt is fd00::99" "$TL_TMP/dad.pcap.txt"
drops=$(($(stat_of "nd6_dropped reason=not_our_target") - drops_before))
check "DAD: the unicast one is counted as nd6 dropped not_our_target" \
	"$("$TAPIRCTL" stats 2>&1 | grep nd6)" test "$drops" -ge 1
errs=$(errors_but "$TL_LOG" "$DUPMSG")
check "DAD: no error-level line but the duplicate's" "$errs" test -z "$errs"
lab_stop_tapird
in_ns ip tuntap del dev "$TAP" mode tap

# ---- 2. tapird with fd00::2 and its services ------------------------------------
WWW=$TL_TMP/www
mkdir -p "$WWW"
head -c "$BIG" /dev/urandom >"$WWW/big.bin"
BIG_SHA=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  address6 = [ "$ADDR6/64" ];
  host_address6 = "$HOST6/64";
  gateway6 = "$HOST6";
};
control = { socket = "$SOCK"; };
modules = (
  { name = "echo"; udp_port = 7; tcp_port = 7; },
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A $TAPIR_ADDR",
                            "www A $TAPIR_ADDR", "www AAAA $ADDR6" ]; } ); },
  { name = "http"; port = 80; root = "$WWW"; }
);
EOF
TL_LOG=$TL_TMP/tapird.log
tl_start_with "$TL_TMP/tapir.conf"

# Each address waits its own random delay (up to a second) before DAD.
LL=$("$TAPIRCTL" status | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^fe80:/) { sub(/\/.*/, "", $i); print $i; exit } }')
both_preferred() { addr6_is "$ADDR6" preferred && addr6_is "$LL" preferred; }
tl_wait 50 both_preferred
check "tapirctl status: the link-local address ($LL) and fd00::2 are preferred" \
	"$("$TAPIRCTL" status 2>&1)" \
	sh -c "[ -n '$LL' ] && [ '$(addr6_state "$LL")' = preferred ] && [ '$(addr6_state "$ADDR6")' = preferred ]"

# ping6_case DESC EXPECT_RX REPLY_BYTES DEST PING_ARGS...
ping6_case() {
	local desc=$1 want=$2 bytes=$3 dst=$4 out=$TL_TMP/ping6.out got
	shift 4
	in_ns timeout 60 ping -6 -n "$@" "$dst" >"$out" 2>&1
	got=$(ping6_counts "$out")
	got=${got#* }
	if [ "$got" != "$want" ]; then
		not_ok "$desc" "want $want replies, got '${got:-none}'" "$(tail -n 5 "$out")"
	elif grep -q -e 'wrong data byte' -e 'DUP!' "$out"; then
		not_ok "$desc" "corrupt or duplicate replies" \
			"$(grep -e 'wrong data byte' -e 'DUP!' "$out" | head -n 3)"
	elif [ -n "$bytes" ] &&
		[ "$(grep -c "^$bytes bytes from ${dst%\%*}" "$out")" != "$want" ]; then
		not_ok "$desc" "replies are not all $bytes bytes" "$(head -n 5 "$out")"
	else
		ok "$desc"
	fi
}

in_ns ip -6 neigh flush dev "$TAP" >/dev/null 2>&1
ping6_case "ping -6 fd00::2 -c 5: 5 of 5 answered, 64 bytes each" 5 64 "$ADDR6" \
	-c 5 -i 0.2 -W 2
ping6_case "ping -6 $LL%$TAP (link-local) -c 3: 3 answered" 3 64 "$LL%$TAP" \
	-c 3 -i 0.2 -W 2
neigh=$(in_ns ip -6 neigh show "$ADDR6" dev "$TAP")
neigh_reachable() { [[ $neigh == *"lladdr $TAPIR_MAC"*REACHABLE* ]]; }
check "ip -6 neigh: fd00::2 lladdr $TAPIR_MAC REACHABLE after the pings" \
	"ip -6 neigh: '$neigh'" neigh_reachable
in_ns timeout 10 ndisc6 -r 3 -w 1000 "$ADDR6" "$TAP" >"$TL_TMP/ndisc6.out" 2>&1
check "ndisc6 fd00::2 $TAP: our NA, target link-layer address $TAPIR_MAC" \
	"@$TL_TMP/ndisc6.out" \
	grep -qi "^Target link-layer address: $TAPIR_MAC" "$TL_TMP/ndisc6.out"
in_ns timeout 10 ndisc6 -r 3 -w 1000 "$LL" "$TAP" >"$TL_TMP/ndisc6.out" 2>&1
check "ndisc6 $LL $TAP: our NA with $TAPIR_MAC" "@$TL_TMP/ndisc6.out" \
	grep -qi "^Target link-layer address: $TAPIR_MAC" "$TL_TMP/ndisc6.out"

ping6_case "ping -6 -M 'do' -s 1452 (a full 1500-byte packet): 3 answered, 1460 bytes" \
	3 1460 "$ADDR6" -M 'do' -s 1452 -c 3 -i 0.2 -W 2
in_ns timeout 10 ping -6 -n -M 'do' -s 1453 -c 2 -i 0.2 -W 1 "$ADDR6" \
	>"$TL_TMP/ping1453.out" 2>&1
check "ping -6 -M 'do' -s 1453 fails locally (message too long, mtu 1500)" \
	"@$TL_TMP/ping1453.out" \
	sh -c "grep -q 'message too long, mtu: *1500' '$TL_TMP/ping1453.out' &&
	       grep -q ' 0 received' '$TL_TMP/ping1453.out'"
# These need IPv6 reassembly in tapird (the requests arrive in fragments).
ping6_case "ping -6 -s 3000 (fragments both ways): 3 answered, 3008 bytes each" \
	3 3008 "$ADDR6" -s 3000 -c 3 -i 0.2 -W 2
ping6_case "ping -6 -s 65000 (45 fragments each way): 3 answered, 65008 bytes each" \
	3 65008 "$ADDR6" -s 65000 -c 3 -i 0.3 -W 3

# The kernel side claims fd00::2: tapird defends it, the kernel's DAD fails.
in_ns ip addr add "$ADDR6/64" dev "$TAP"
tl_wait 50 sh -c "ip -n '$LAB_NS' -6 addr show dev '$TAP' | grep -q 'inet6 $ADDR6/64 .*dadfailed'"
check "the kernel side adding fd00::2 gets dadfailed (ip -6 addr)" \
	"$(in_ns ip -6 addr show dev "$TAP")" \
	sh -c "ip -n '$LAB_NS' -6 addr show dev '$TAP' | grep -q 'inet6 $ADDR6/64 .*dadfailed'"
in_ns ip addr del "$ADDR6/64" dev "$TAP"
ping6_case "fd00::2 still answers after the kernel's claim failed" 3 64 "$ADDR6" \
	-c 3 -i 0.2 -W 2

# ---- DNS over IPv6 ----------------------------------------------------------------
dig6() { # OUT ARGS...
	local out=$1
	shift
	in_ns timeout 10 dig -6 @"$ADDR6" +norec +time=2 +tries=1 "$@" >"$out" 2>&1
}
for tcp in "" +tcp; do
	how=${tcp:-UDP}
	dig6 "$TL_TMP/dig.out" $tcp www.lab.test AAAA
	check "dig -6 @fd00::2 www.lab.test AAAA over ${how#+}: fd00::2, from fd00::2" \
		"@$TL_TMP/dig.out" \
		sh -c "grep -qE '^www\.lab\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+AAAA[[:space:]]+$ADDR6\$' '$TL_TMP/dig.out' &&
		       grep -q 'SERVER: $ADDR6#53' '$TL_TMP/dig.out'"
	dig6 "$TL_TMP/dig.out" $tcp -x "$ADDR6"
	check "dig -6 @fd00::2 -x fd00::2 over ${how#+}: PTR www.lab.test." \
		"@$TL_TMP/dig.out" \
		grep -qE 'ip6\.arpa\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+PTR[[:space:]]+www\.lab\.test\.$' \
		"$TL_TMP/dig.out"
done

# ---- Echo over IPv6 ------------------------------------------------------------------
printf 'hello over udp6 %s\n' "$RANDOM" >"$TL_TMP/u6"
in_ns timeout 10 socat -t 1 - "UDP6:[$ADDR6]:7" <"$TL_TMP/u6" >"$TL_TMP/u6.out" 2>&1
check "UDP echo over IPv6 (socat UDP6): the datagram comes back" \
	"@$TL_TMP/u6.out" cmp -s "$TL_TMP/u6" "$TL_TMP/u6.out"
printf 'hello over tcp6 %s\n' "$RANDOM" >"$TL_TMP/t6"
in_ns timeout 10 nc -6 -N -w 5 "$ADDR6" 7 <"$TL_TMP/t6" >"$TL_TMP/t6.out" 2>&1
check "TCP echo over IPv6 (nc -6): the line comes back" \
	"@$TL_TMP/t6.out" cmp -s "$TL_TMP/t6" "$TL_TMP/t6.out"
start=$(date +%s%N)
in_ns timeout 120 nc -6 -N -w 30 "$ADDR6" 7 <"$WWW/big.bin" >"$TL_TMP/echo.out" 2>"$TL_TMP/echo.err"
check "TCP echo over IPv6: 100 MiB back byte-identical ($(ms_since "$start") ms)" \
	"got $(stat -c %s "$TL_TMP/echo.out") bytes: $(head -c 300 "$TL_TMP/echo.err")" \
	cmp -s "$WWW/big.bin" "$TL_TMP/echo.out"
rm -f "$TL_TMP/echo.out"

# ---- HTTP over IPv6 -------------------------------------------------------------------
start=$(date +%s%N)
got=$(in_ns timeout 120 curl -6 -s "http://[$ADDR6]/big.bin" | sha256sum | cut -d' ' -f1)
check "curl -6 of 100 MiB from the http module: byte-identical ($(ms_since "$start") ms)" \
	"want $BIG_SHA got $got" test "$got" = "$BIG_SHA"

# ---- 3. Path MTU through a router with a 1400-byte link ---------------------------------
# lab (fd00::1 on the TAP, fd01::1 on v6l) routes to the client (fd01::2
# on v6c); the veth has MTU 1400.  The client's route advertises an MSS of
# 1440, as a host on a 1500-byte link behind that router would: tapird's
# first full segments are 1500-byte packets, which the lab's kernel cannot
# forward and answers with Packet Too Big (MTU 1400).
lab_up >/dev/null || bail "client namespace created"
CLIENT_NS=$LAB_NS
LAB_NS=$TAPIRD_NS
in_client() { ip netns exec "$CLIENT_NS" "$@"; }
if ! ip -n "$TAPIRD_NS" link add v6l type veth peer name v6c netns "$CLIENT_NS" ||
	! ip -n "$TAPIRD_NS" link set v6l mtu 1400 up ||
	! ip -n "$CLIENT_NS" link set v6c mtu 1400 up ||
	! ip -n "$TAPIRD_NS" addr add fd01::1/64 dev v6l nodad ||
	! ip -n "$CLIENT_NS" addr add fd01::2/64 dev v6c nodad ||
	! ip -n "$CLIENT_NS" -6 route add default via fd01::1 dev v6c advmss 1440 ||
	! in_ns sysctl -qw net.ipv6.conf.all.forwarding=1; then
	bail "client namespace behind a 1400-byte veth, the lab routing IPv6"
fi
# Packet Too Big messages the lab's kernel has sent.
# shellcheck disable=SC2016 # awk's fields
ptb_sent() { in_ns awk -v n=Icmp6OutPktTooBigs '$1 == n { print $2 }' /proc/net/snmp6; }
ptb_before=$(ptb_sent)
in_client timeout 10 ping -6 -n -c 2 -i 0.2 -W 2 "$ADDR6" >"$TL_TMP/cping.out" 2>&1
check "the client pings fd00::2 through the lab's router (gateway6)" \
	"@$TL_TMP/cping.out" grep -q ' 2 received' "$TL_TMP/cping.out"
in_client timeout 30 tracepath -6 -n -m 5 "$ADDR6" >"$TL_TMP/tracepath.out" 2>&1
pmtu=$(sed -n 's/.*Resume: pmtu \([0-9]*\).*/\1/p' "$TL_TMP/tracepath.out")
check "tracepath -6 from the client reaches fd00::2 with pmtu <= 1400 (${pmtu:-none})" \
	"@$TL_TMP/tracepath.out" \
	sh -c "grep -q '$ADDR6 .*reached' '$TL_TMP/tracepath.out' && [ '${pmtu:-99999}' -le 1400 ]"
start=$(date +%s%N)
got=$(in_client timeout 120 curl -6 -s "http://[$ADDR6]/big.bin" | sha256sum | cut -d' ' -f1)
check "curl -6 of 100 MiB from the client through the 1400-byte hop: byte-identical ($(ms_since "$start") ms)" \
	"want $BIG_SHA got $got" test "$got" = "$BIG_SHA"
ptb=$(($(ptb_sent) - ptb_before))
lowered=$(stat_of pmtu_lowered)
reduced=$(stat_of tcp_mss_reduced_by_pmtu)
check "tapird learnt the 1400 MTU: pmtu_lowered $lowered, tcp_mss_reduced_by_pmtu $reduced (the router sent $ptb Packet Too Big)" \
	"$("$TAPIRCTL" stats 2>&1 | grep -E 'pmtu|icmp')" \
	sh -c "[ '$lowered' -gt 0 ] && [ '$reduced' -gt 0 ]"

# The same in JSON, where each name appears once in its object (RFC 8259
# 4: a parser keeps one of two equal names).
got=$("$TAPIRCTL" --json stats 2>&1 | python3 -c '
import json, sys
def pairs(kv):
    names = [k for k, _ in kv]
    dup = sorted({k for k in names if names.count(k) > 1})
    if dup:
        raise SystemExit("duplicate names: %s" % ", ".join(dup))
    return dict(kv)
d = json.load(sys.stdin, object_pairs_hook=pairs)["stack"]
print(d["pmtu"]["lowered"] > 0, d["tcp"]["mss_reduced_by_pmtu"] > 0,
      d["tcp"]["passive_opens"] > 0)' 2>&1)
check "tapirctl --json stats: no duplicate names; pmtu.lowered, tcp.mss_reduced_by_pmtu and tcp.passive_opens above 0" \
	"got: $got" test "$got" = "True True True"

# ---- Counters and the end of this tapird -----------------------------------------------
"$TAPIRCTL" stats >"$TL_TMP/stats.out" 2>&1
missing=
for c in ip6_rx ip6_tx icmp6_rx icmp6_tx icmp6_echo_requests icmp6_echo_replies \
	nd6_rx nd6_solicitations_rx nd6_advertisements_tx nd6_dad_passed; do
	[ "$(stat_of "$c")" -gt 0 ] || missing="$missing $c"
done
check "tapirctl stats counts IPv6: ip6, icmp6 and nd6 counters above 0" \
	"zero or absent:$missing; $(grep -E '^(ip6|icmp6|nd6)' "$TL_TMP/stats.out")" \
	test -z "$missing"
check "tapird still running" "tapird exited" lab_tapird_running
errs=$(errors_but "$TL_LOG" "")
check "tapird logged no error-level line" "$errs" test -z "$errs"
lab_stop_tapird

# ---- 4. 100 MiB over IPv6 under loss, reordering and duplication -----------------------
# As in t_tcp_impair.sh: the client sits in a namespace of its own on
# cli0, a TAP that impair owns, and impair carries frames between it and
# the kernel side of tapird's TAP (no addresses there: IPv6 off on it, and
# tapird without offloads).
[ -x "$IMPAIR" ] || bail "tests/tools/impair is built" "no executable at $IMPAIR"
SEED=${IMPAIR_SEED:-$(date +%s)}
in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1
cat >"$TL_TMP/impair.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  offload = false;
  address6 = [ "$ADDR6/64" ];
};
control = { socket = "$SOCK"; };
modules = ( { name = "echo"; udp_port = 7; tcp_port = 7; } );
EOF
TL_LOG=$TL_TMP/tapird-impair.log
tl_start_with "$TL_TMP/impair.conf"
lab_up >/dev/null || bail "impair's client namespace created"
IMP_NS=$LAB_NS
LAB_NS=$TAPIRD_NS
IMP_PID=
# shellcheck disable=SC2016
lab_on_exit '[ -z "$IMP_PID" ] || kill "$IMP_PID" 2>/dev/null'
ip netns exec "$IMP_NS" "$IMPAIR" --pkt "$TAP" --pkt-netns "/run/netns/$TAPIRD_NS" \
	--tap cli0 --seed "$SEED" --time 200 --loss 3 --reorder 2 --dup 1 \
	>"$TL_TMP/impair.out" 2>"$TL_TMP/impair.err" &
IMP_PID=$!
tl_wait 50 grep -q ready "$TL_TMP/impair.out" ||
	bail "impair starts" "$(cat "$TL_TMP/impair.err")"
if ! ip -n "$IMP_NS" addr add "$HOST6/64" dev cli0 nodad ||
	! ip -n "$IMP_NS" link set cli0 up; then
	bail "impair's client interface cli0 configured"
fi
diag "$(head -n 1 "$TL_TMP/impair.err")"
tl_wait 50 addr6_is "$ADDR6" preferred
ip netns exec "$IMP_NS" ping -6 -c 3 -i 0.2 -W 2 "$ADDR6" >/dev/null 2>&1 # warm ND
start=$(date +%s%N)
ip netns exec "$IMP_NS" timeout 150 nc -6 -N -w 30 "$ADDR6" 7 <"$WWW/big.bin" \
	>"$TL_TMP/echo.out" 2>"$TL_TMP/echo.err"
check "loss 3% reorder 2% duplicate 1%: 100 MiB through TCP echo over IPv6 byte-identical ($(ms_since "$start") ms)" \
	"got $(stat -c %s "$TL_TMP/echo.out") bytes: $(head -c 300 "$TL_TMP/echo.err")" \
	cmp -s "$WWW/big.bin" "$TL_TMP/echo.out"
rm -f "$TL_TMP/echo.out"
kill "$IMP_PID" 2>/dev/null
wait "$IMP_PID" 2>/dev/null
IMP_PID=
sed -n '2,$p' "$TL_TMP/impair.err" | while read -r l; do diag "$l"; done

check "tapird (impaired link) still running" "tapird exited" lab_tapird_running
errs=$(errors_but "$TL_LOG" "")
check "tapird (impaired link) logged no error-level line" "$errs" test -z "$errs"
tl_done
