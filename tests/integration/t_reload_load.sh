#!/bin/bash
# 1000 reloads under load: 80 slow HTTP downloads of a 3 MiB file (70
# paced by a client, 10 curl --limit-rate) and 20 TCP echo transfers of
# 1 MiB run while tapird is reloaded a thousand times, one after the
# other (SIGHUP, and every tenth by tapirctl reload), the configuration alternating between an unchanged file and one
# that changes a setting of the http and echo modules (so both really
# reconfigure).  Every transfer completes byte-identical, no connection is
# reset, every reload says "reload complete", echo was reconfigured
# exactly on the reloads that changed it (http on every reload: it reopens
# its access log), the last
# configuration is the one in force, and tapird logs no error.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init

for c in curl python3 sha256sum; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
RELOADS=${TL_RELOADS:-1000}
NPACED=70
NCURL=10
NECHO=20
SIZE=$((3 * 1024 * 1024))
WWW=$TL_TMP/www
mkdir -p "$WWW"
head -c "$SIZE" /dev/urandom >"$WWW/big.bin"
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
printf 'x\n' >"$WWW/x.txt"

# write_conf FILE MIME CHARGEN_UDP: the two files differ in the http
# module's mime_types and the echo module's chargen UDP port.
write_conf() {
	cat >"$1" <<EOF
$(tl_iface_conf)
modules = (
  { name = "http"; port = 80; root = "$WWW";
    max_connections = 400; send_timeout = 30; idle_timeout = 30;
    mime_types = [ "txt $2" ]; },
  { name = "echo"; udp_port = 7; tcp_port = 7; discard_udp_port = 9;
    discard_tcp_port = 9; chargen_udp_port = $3; chargen_tcp_port = 19; }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF
}
conf=$TL_TMP/tapir.conf
write_conf "$TL_TMP/a.conf" text/x-tapir-a 19
write_conf "$TL_TMP/b.conf" text/x-tapir-b 1919
cp "$TL_TMP/a.conf" "$conf"
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

ctype() {
	in_ns timeout 10 curl -s -o /dev/null -w '%{content_type}' \
		"http://$TAPIR_ADDR/x.txt"
}
check "before the reloads x.txt is served as text/x-tapir-a" "got $(ctype)" \
	[ "$(ctype)" = text/x-tapir-a ]

# The transfers: 100 connections, each paced to last TRANSFER seconds, all
# in flight before the first reload and after the last (the reloads, with
# a short gap between them, take a fraction of that; timed below).  The
# HTTP clients read with small receive buffers, so tapird's send windows
# stay open all along; a few curl downloads with --limit-rate add a real
# client.
TRANSFER=40
in_ns timeout 150 python3 "$TL_DIR/load_tool.py" http "$TAPIR_ADDR" 80 \
	/big.bin "$NPACED" "$TRANSFER" "$want" >"$TL_TMP/http.out" 2>&1 &
hpid=$!
for ((i = 0; i < NCURL; i++)); do
	in_ns timeout 150 curl -s -S --limit-rate $((SIZE / TRANSFER)) \
		-o "$TL_TMP/dl.$i" -w '%{http_code} %{size_download} %{time_total}\n' \
		"http://$TAPIR_ADDR/big.bin" >"$TL_TMP/dl.$i.res" 2>&1 &
	echo $! >>"$TL_TMP/dl.pids"
done
in_ns timeout 150 python3 "$TL_DIR/load_tool.py" echo "$TAPIR_ADDR" 7 \
	"$NECHO" $((1024 * 1024)) "$TRANSFER" >"$TL_TMP/echo.out" 2>&1 &
epid=$!
# The paced ones are established before the first reload.
established() {
	[ "$(in_ns ss -Htn state established "( dport = :80 or dport = :7 )" |
		wc -l)" -ge $((NPACED + NECHO)) ]
}
tl_wait 200 established
check "at least $((NPACED + NECHO)) connections established before the reloads" \
	"$(in_ns ss -Htn state established | wc -l) established" established

start=$SECONDS
python3 "$TL_DIR/load_tool.py" reload "$pid" "$conf" "$TL_LOG" "$RELOADS" \
	"$TL_TMP/a.conf" "$TL_TMP/b.conf" "$TAPIRCTL" "$TL_TMP/ctl.sock" 10 \
	0.005 "$TL_TMP/reloads" >"$TL_TMP/reload.out" 2>&1
rc=$?
took=$((SECONDS - start))
check "$RELOADS reloads, one after the other, each 'reload complete' (${took}s)" \
	@"$TL_TMP/reload.out" [ "$rc" -eq 0 ]
diag "$(cat "$TL_TMP/reload.out")"
check "the paced transfers were all still running when the reloads ended" \
	"reloads took ${took}s" sh -c "kill -0 $hpid && kill -0 $epid"
n=$(grep -c 'reload complete' "$TL_LOG")
check "tapird logged 'reload complete' $RELOADS times ($n)" "" [ "$n" -eq "$RELOADS" ]
nh=$(grep -c 'module http: reconfigured' "$TL_LOG")
ne=$(grep -c 'module echo: reconfigured' "$TL_LOG")
# echo reconfigures on the reloads that changed it only; http on every
# reload (it reopens its access log each time: TAPIR_MODF_RECONFIGURE_ALWAYS).
check "echo reconfigured on the $((RELOADS / 2)) reloads that changed it, http on all $RELOADS ($ne, $nh)" \
	"" [ "$nh.$ne" = "$RELOADS.$((RELOADS / 2))" ]
nhow=$(grep -c ' ctl ' "$TL_TMP/reloads")
check "$nhow of them by tapirctl reload, the rest by SIGHUP" "" \
	[ "$nhow" -eq $((RELOADS / 10)) ]
# RELOADS is a multiple of 4: the last file in place is a.conf.
cmp -s "$conf" "$TL_TMP/a.conf" || cp "$TL_TMP/a.conf" "$conf"
check "the last configuration is in force: x.txt is text/x-tapir-a" \
	"got $(ctype)" [ "$(ctype)" = text/x-tapir-a ]
cp "$TL_TMP/b.conf" "$conf"
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" reload >"$TL_TMP/ctl.out" 2>&1
check "one more reload switches it to text/x-tapir-b" "got $(ctype)" \
	[ "$(ctype)" = text/x-tapir-b ]

# The transfers end.
wait "$hpid"
r=$?
check "all $NPACED paced HTTP downloads completed byte-identical (sha256), none reset" \
	"$(grep -v 'sha=ok error=-' "$TL_TMP/http.out" | head -n 10)" [ "$r" -eq 0 ]
bad=0
for ((i = 0; i < NCURL; i++)); do
	read -r p <&3
	wait "$p"
	r=$?
	got=$(sha256sum <"$TL_TMP/dl.$i" | cut -d' ' -f1)
	res=$(cat "$TL_TMP/dl.$i.res")
	if [ "$r" -ne 0 ] || [ "$got" != "$want" ] || [ "${res% *}" != "200 $SIZE" ]; then
		bad=$((bad + 1))
		diag "curl $i: exit $r, '$res', sha256 $got"
	fi
done 3<"$TL_TMP/dl.pids"
check "all $NCURL curl downloads completed byte-identical (sha256), none reset" \
	"$bad failed" [ "$bad" -eq 0 ]
wait "$epid"
r=$?
check "all $NECHO echo transfers came back byte-identical (sha256), none reset" \
	"$(grep -v 'sha=ok error=-' "$TL_TMP/echo.out" | head -n 10)" [ "$r" -eq 0 ]
check "tapird is still the same process" "pid $pid gone" lab_tapird_running
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats >"$TL_TMP/stats" 2>&1
resets=$(awk '$1 == "tcp_resets_tx" || $1 == "tcp_resets_rx" { s += $2 } END { print s + 0 }' "$TL_TMP/stats")
check "no TCP reset sent or received by tapird (tcp_resets_tx, tcp_resets_rx)" \
	"$(grep resets "$TL_TMP/stats")" [ "$resets" -eq 0 ]
errs=$(tl_error_lines)
check "tapird logged no error" "$errs" [ -z "$errs" ]
lab_stop_tapird TERM
check "tapird exits 0 on SIGTERM" "status $LAB_TAPIRD_STATUS" [ "$LAB_TAPIRD_STATUS" = 0 ]
tl_done
