#!/bin/bash
# Loss on the link: 10% of the kernel side's egress dropped (tc netem, or
# nftables numgen where the kernel has no sch_netem).  Only requests are hit,
# so round-trip loss is ~10%; accepted 2%..40% (2% proves the impairment was
# in place: Binomial(200, 0.1) falls below it with p ~ 1e-5).  tapird logs no
# error-level line, keeps running and answers everything once it is removed.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start

how=
if in_ns tc qdisc add dev "$TAP" root netem loss 10% 2>"$TL_TMP/tc.err"; then
	how="tc netem loss 10%"
elif command -v nft >/dev/null 2>&1 &&
	in_ns nft -f - <<EOF2 2>"$TL_TMP/nft.err"
table inet tapirlab {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "$TAP" numgen random mod 100 < 10 drop
	}
}
EOF2
then
	how="nftables numgen random mod 100 < 10 drop (no sch_netem: $(head -n 1 "$TL_TMP/tc.err"))"
else
	bail "10% loss on $TAP egress set up" "tc: $(cat "$TL_TMP/tc.err")" \
		"nft: $(cat "$TL_TMP/nft.err" 2>/dev/null || echo 'not installed (scripts/deps installs nftables)')"
fi
diag "impairment: $how"

out=$TL_TMP/ping.out
in_ns timeout 60 ping -n -q -c 200 -i 0.01 -W 1 "$TAPIR_ADDR" >"$out" 2>&1
read -r tx rx <<<"$(ping_counts "$out")"
if [ -z "${tx-}" ] || [ -z "${rx-}" ] || [ "$tx" -ne 200 ]; then
	not_ok "ping -c 200 -i 0.01 under 10% loss completes" "$(tail -n 4 "$out")"
else
	loss=$((200 - rx))
	if [ "$loss" -ge 4 ] && [ "$loss" -le 80 ]; then
		ok "ping -c 200 -i 0.01 under 10% request loss: $rx/200 answered ($((loss / 2))% lost)"
	else
		not_ok "ping -c 200 -i 0.01 under 10% request loss: 2%..40% lost" \
			"$rx/200 answered ($loss lost) with $how" "$(tail -n 3 "$out")"
	fi
fi

# A UDP exchange that needs fragments both ways also works when retried.
in=$TL_TMP/in
head -c 4000 /dev/urandom >"$in"
got=0
for ((i = 0; i < 10; i++)); do
	if udp_xchg 7 "$in" "$TL_TMP/out" 0.5 && cmp -s "$in" "$TL_TMP/out"; then
		got=1
		break
	fi
done
check "under loss: a 4000-byte UDP echo comes back intact within 10 tries" \
	"no intact answer in 10 tries" test "$got" = 1

check "tapird still running under loss" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line under loss" "$errs" test -z "$errs"

# Impairment off: everything answered again.
in_ns tc qdisc del dev "$TAP" root >/dev/null 2>&1
in_ns nft delete table inet tapirlab >/dev/null 2>&1
in_ns timeout 30 ping -n -q -c 50 -i 0.01 -W 1 "$TAPIR_ADDR" >"$out" 2>&1
check "loss removed: ping -c 50 all answered" "@$out" grep -q ' 50 received' "$out"
tl_done
