#!/bin/bash
# TCP over an impaired link: 100 MiB from chargen and 100 MiB through echo
# (both directions at once) arrive byte-identical under 5% loss, 2%
# reordering and 1% duplication in each direction; then, over a 20 ms round
# trip with 0.2% loss, 100 MiB from chargen and 100 MiB into discard at the
# same time, and 5 MiB through echo with 1% loss (at that round trip and
# loss any loss-based sender, the kernel's too, runs at about 1 MB/s).
#
# The kernel here has no sch_netem, so tests/tools/impair plays the link:
# the client lives in a second lab namespace on a TAP that impair owns, and
# impair carries each frame to and from the kernel side of tapird's TAP
# (no address there) through a packet socket, dropping, duplicating,
# reordering and delaying at random.  Its seed is printed, so a failure can
# be replayed with the same sequence.  Every transfer is bounded in time.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

IMPAIR=${IMPAIR:-$LAB_ROOT/build/tests/tools/impair}
[ -x "$IMPAIR" ] || bail "tests/tools/impair is built" "no executable at $IMPAIR"
SEED=${IMPAIR_SEED:-$(date +%s)}
BIG=$((100 * 1024 * 1024))
LIMIT=180 # seconds any one transfer may take

TAPIRD_NS=$LAB_NS
lab_up >/dev/null || bail "client namespace created"
CLIENT_NS=$LAB_NS
LAB_NS=$TAPIRD_NS
for ns in "$TAPIRD_NS" "$CLIENT_NS"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done

# tapird's TAP gets no host address: the client's address is on cli0.
# No offloads: impair's packet socket would see unsegmented TCP frames
# with unfinished checksums, which only the kernel's own path completes.
cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  offload = false;
};
modules = (
  { name = "echo"; udp_port = 7; tcp_port = 7; discard_udp_port = 9;
    discard_tcp_port = 9; chargen_udp_port = 19; chargen_tcp_port = 19; }
);
EOF
tl_start_with "$TL_TMP/tapir.conf"

IMP_PID=
impair_start() { # impair's options
	local i
	ip netns exec "$CLIENT_NS" "$IMPAIR" --pkt "$TAP" \
		--pkt-netns "/run/netns/$TAPIRD_NS" --tap cli0 --seed "$SEED" \
		--time 900 "$@" >"$TL_TMP/impair.out" 2>"$TL_TMP/impair.err" &
	IMP_PID=$!
	for i in $(seq 1 50); do
		grep -q ready "$TL_TMP/impair.out" && break
		sleep 0.1
	done
	grep -q ready "$TL_TMP/impair.out" ||
		bail "impair starts ($*)" "$(cat "$TL_TMP/impair.err")"
	if ! ip -n "$CLIENT_NS" addr add "$HOST_ADDR/24" dev cli0 ||
		! ip -n "$CLIENT_NS" link set cli0 up; then
		bail "client interface cli0 configured"
	fi
	diag "$(head -n 1 "$TL_TMP/impair.err")"
}
impair_stop() {
	kill "$IMP_PID" 2>/dev/null
	wait "$IMP_PID" 2>/dev/null
	IMP_PID=
	sed -n '2,$p' "$TL_TMP/impair.err" | while read -r l; do diag "$l"; done
}
# shellcheck disable=SC2016
lab_on_exit '[ -z "$IMP_PID" ] || kill "$IMP_PID" 2>/dev/null'

in_client() {
	ip netns exec "$CLIENT_NS" "$@"
}

# Echo FILE through tapird; OUT gets what came back.  Prints the seconds.
echo_xfer() {
	local start end
	start=$(date +%s%N)
	in_client timeout "$LIMIT" nc -N -w 30 "$TAPIR_ADDR" 7 <"$1" >"$2" 2>"$2.err"
	end=$(date +%s%N)
	echo "$(((end - start) / 1000000)) ms"
}

impair_start --loss 5 --reorder 2 --dup 1
in_client ping -c 3 -i 0.2 -W 2 "$TAPIR_ADDR" >/dev/null 2>&1 # warm ARP

want=$(chargen_md5 "$BIG")
start=$(date +%s%N)
got=$(in_client timeout "$LIMIT" nc -d "$TAPIR_ADDR" 19 </dev/null |
	head -c "$BIG" | md5sum | cut -d' ' -f1)
end=$(date +%s%N)
check "loss 5% reorder 2% duplicate 1%: chargen 100 MiB exact ($(((end - start) / 1000000)) ms)" \
	"want $want, got $got" test "$want" = "$got"

head -c "$BIG" /dev/urandom >"$TL_TMP/big"
took=$(echo_xfer "$TL_TMP/big" "$TL_TMP/big.out")
check "loss 5% reorder 2% duplicate 1%: echo 100 MiB both ways byte-identical ($took)" \
	"got $(stat -c %s "$TL_TMP/big.out") bytes: $(head -c 300 "$TL_TMP/big.out.err")" \
	cmp -s "$TL_TMP/big" "$TL_TMP/big.out"
impair_stop

impair_start --delay 10 --loss 0.2
in_client ping -c 3 -i 0.2 -W 2 "$TAPIR_ADDR" >/dev/null 2>&1
start=$(date +%s%N)
in_client timeout "$LIMIT" nc -d "$TAPIR_ADDR" 19 </dev/null |
	head -c "$BIG" | md5sum | cut -d' ' -f1 >"$TL_TMP/cg.md5" &
cg_pid=$!
in_client timeout "$LIMIT" nc -N -w 30 "$TAPIR_ADDR" 9 <"$TL_TMP/big" \
	2>"$TL_TMP/discard.err"
rc=$?
end=$(date +%s%N)
check "20 ms round trip, loss 0.2%: 100 MiB into discard, closed cleanly ($(((end - start) / 1000000)) ms)" \
	"nc exited $rc: $(head -c 300 "$TL_TMP/discard.err")" test "$rc" = 0
wait "$cg_pid"
end=$(date +%s%N)
got=$(cat "$TL_TMP/cg.md5")
check "20 ms round trip, loss 0.2%: chargen 100 MiB exact, at the same time ($(((end - start) / 1000000)) ms)" \
	"want $want, got $got" test "$want" = "$got"
impair_stop

impair_start --delay 10 --loss 1
head -c 5M /dev/urandom >"$TL_TMP/mid"
took=$(echo_xfer "$TL_TMP/mid" "$TL_TMP/mid.out")
check "20 ms round trip, loss 1%: echo 5 MiB both ways byte-identical ($took)" \
	"got $(stat -c %s "$TL_TMP/mid.out") bytes: $(head -c 300 "$TL_TMP/mid.out.err")" \
	cmp -s "$TL_TMP/mid" "$TL_TMP/mid.out"
impair_stop

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
