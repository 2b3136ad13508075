#!/bin/bash
# tapirctl capture: pcapng files of what crossed the TAP, read by tshark.
# A capture of pings, DNS queries, a TCP connection and frames tapird must
# drop (a UDP datagram to a closed port, one with a bad checksum) holds as
# many frames each way as tapird's link counters counted over it, with the
# direction of each right and the dropped ones commented with the reason;
# a ring keeps at most max_files files of at most --bytes each; --count
# and --seconds stop it; a NAME that could leave the capture directory,
# or a file already there (a symbolic link), is refused; and the
# capture settings are checked with FILE:LINE errors.  tapird runs with its
# system call filter (seccomp, the default).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317
. "$(dirname "$0")/lib.sh"
tl_init
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
[ -x "$TAPIRCTL" ] || bail "tapirctl is built" "no executable at $TAPIRCTL"
for t in tshark dig hping3 socat; do
	command -v "$t" >/dev/null || bail "$t is installed" "scripts/deps installs it"
done

CAP=$TL_TMP/cap
SOCK=$TL_TMP/ctl.sock
conf=$TL_TMP/tapir.conf
out=$TL_TMP/out
export TAPIR_CONTROL_SOCKET=$SOCK

write_conf() { # capture group as $1
	cat >"$conf" <<CONF
$(tl_iface_conf)
modules = (
  { name = "echo"; udp_port = 7; tcp_port = 7; },
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A 10.0.0.2",
                            "www A 10.0.0.2" ]; } ); }
);
control = { socket = "$SOCK"; };
$1
CONF
}

# The settings are checked: FILE:LINE for each bad one.
write_conf 'capture = {
  directory = "relative/dir";
  max_files = 0;
  max_bytes = 10;
};'
"$TAPIRD" -t -c "$conf" >"$out" 2>&1
bad_conf() {
	grep -q "tapir.conf:[0-9]*: capture.directory: 'relative/dir' is not an absolute path" "$out" &&
		grep -q "tapir.conf:[0-9]*: capture.max_files: 0 is out of range 1..10000" "$out" &&
		grep -q "tapir.conf:[0-9]*: capture.max_bytes: 10 is out of range 1024..4294967295" "$out"
}
check "bad capture settings: one FILE:LINE error each" "@$out" bad_conf

write_conf "capture = { directory = \"$CAP\"; max_files = 3; max_bytes = 1048576; };"
tl_start_with "$conf"

"$TAPIRCTL" capture status >"$out" 2>&1
check "capture status before any capture: none" "@$out" grep -q "^capture: none" "$out"

# Names that would leave the directory, or hide in it, are refused.
for name in ../x x/y .hidden a..b "$(printf 'a\tb')"; do
	"$TAPIRCTL" capture start --name "$name" >"$out" 2>&1
	rc=$?
	check "capture start --name '$name' is refused (exit 1 or 2)" "exit $rc: $(cat "$out")" \
		test "$rc" -ne 0
done
check "nothing was written for the refused names" "$(ls -la "$TL_TMP" "$CAP" 2>&1)" \
	sh -c "[ ! -e '$TL_TMP/x-00001.pcapng' ] && [ -z \"\$(ls -A '$CAP' 2>/dev/null)\" ]"
"$TAPIRCTL" capture start --name ../x >"$out" 2>&1
check "the refusal of ../x names the reason" "@$out" grep -q "may not" "$out"

# ---- One capture of everything, compared with the counters. ----
check "the capture directory does not exist yet" "" test ! -e "$CAP"
"$TAPIRCTL" capture start --name main >"$out" 2>&1
check "capture start --name main: running" "@$out" grep -q "^capture: running" "$out"
check "tapird made the capture directory (under its system call filter)" "" test -d "$CAP"
check "a second capture start while one runs is refused" "" \
	sh -c "! '$TAPIRCTL' capture start --name other >/dev/null 2>&1"
in_ns ping -c 3 -i 0.2 -W 2 "$TAPIR_ADDR" >"$TL_TMP/ping" 2>&1
in_ns timeout 10 dig @"$TAPIR_ADDR" +norec +time=2 +tries=1 www.lab.test A >/dev/null 2>&1
in_ns timeout 10 dig @"$TAPIR_ADDR" +norec +time=2 +tries=1 nx.lab.test A >/dev/null 2>&1
echo hello-capture | in_ns timeout 5 socat -t 1 - "TCP:$TAPIR_ADDR:7" >"$TL_TMP/tcp" 2>&1
# 64 KiB through the echo port: with offloads, tapird writes TCP
# superframes for the kernel to cut, and the capture has them whole.
head -c 65536 /dev/zero | in_ns timeout 10 socat -t 3 - "TCP:$TAPIR_ADDR:7" 2>/dev/null |
	wc -c >"$TL_TMP/bulk"
# A datagram to a closed port (an ICMP port unreachable answers it) and
# one to the echo port with a bad UDP checksum: both dropped.
echo closed | in_ns timeout 5 socat -t 0.5 - "UDP:$TAPIR_ADDR:5999" >/dev/null 2>&1
in_ns timeout 5 hping3 -q -2 -p 7 -c 1 -b -d 16 "$TAPIR_ADDR" >/dev/null 2>&1
sleep 0.5
"$TAPIRCTL" capture stop >"$out" 2>&1
cp "$out" "$TL_TMP/stop.out"
check "capture stop: stopped, with the counts" "@$out" \
	grep -q "^capture: stopped: stopped by tapirctl" "$out"
check "the TCP echo answered during the capture" "@$TL_TMP/tcp" grep -q hello-capture "$TL_TMP/tcp"
field() { sed -n "s/^$1: //p" "$TL_TMP/stop.out"; }
f=$CAP/main-00001.pcapng
check "one file, main-00001.pcapng" "$(ls -l "$CAP")" test -s "$f"
TS() { tshark -r "$f" "$@" 2>>"$TL_TMP/tshark.err"; }
n_in=$(TS -Y 'frame.packet_flags_direction == 1' | wc -l)
n_out=$(TS -Y 'frame.packet_flags_direction == 2' | wc -l)
n_all=$(TS | wc -l)
diag "capture: $n_in in, $n_out out, $n_all in all; tapird: $(tr '\n' ' ' <"$TL_TMP/stop.out")"
check "tshark reads the file; every frame has a direction" "all $n_all, in $n_in, out $n_out; $(head -c 500 "$TL_TMP/tshark.err")" \
	sh -c "[ $n_all -gt 0 ] && [ $((n_in + n_out)) = $n_all ]"
check "inbound frames = link rx_frames over the capture ($(field link_rx_frames))" \
	"in $n_in" test "$n_in" = "$(field link_rx_frames)"
check "outbound frames = link tx_frames + tx_dropped over the capture" \
	"out $n_out, tx $(field link_tx_frames) + $(field link_tx_dropped)" \
	test "$n_out" = "$(($(field link_tx_frames) + $(field link_tx_dropped)))"
check "tapird's own counts agree with the file" "@$TL_TMP/stop.out" \
	sh -c "[ '$(field frames_in)' = $n_in ] && [ '$(field frames_out)' = $n_out ]"
count() { TS -Y "$1" | wc -l; }
check "3 echo requests in, 3 echo replies out" \
	"$(count 'icmp.type == 8 && frame.packet_flags_direction == 1') / $(count 'icmp.type == 0 && frame.packet_flags_direction == 2')" \
	sh -c "[ $(count 'icmp.type == 8 && frame.packet_flags_direction == 1') = 3 ] && [ $(count 'icmp.type == 0 && frame.packet_flags_direction == 2') = 3 ] && [ $(count 'icmp.type == 8 && frame.packet_flags_direction == 2') = 0 ]"
check "2 DNS queries in, 2 answers out" \
	"$(count 'dns.flags.response == 0 && frame.packet_flags_direction == 1') / $(count 'dns.flags.response == 1 && frame.packet_flags_direction == 2')" \
	sh -c "[ $(count 'dns.flags.response == 0 && udp.dstport == 53 && frame.packet_flags_direction == 1') = 2 ] && [ $(count 'dns.flags.response == 1 && udp.srcport == 53 && frame.packet_flags_direction == 2') = 2 ]"
check "two TCP handshakes: SYN in, SYN-ACK out, the data both ways" "" \
	sh -c "[ $(count 'tcp.flags == 0x002 && tcp.dstport == 7 && frame.packet_flags_direction == 1') = 2 ] && [ $(count 'tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport == 7 && frame.packet_flags_direction == 2') = 2 ] && [ $(count 'tcp.payload && tcp.dstport == 7 && frame.packet_flags_direction == 1') -ge 1 ] && [ $(count 'tcp.payload && tcp.srcport == 7 && frame.packet_flags_direction == 2') -ge 1 ]"
check "64 KiB echoed back during the capture" "@$TL_TMP/bulk" grep -qx 65536 "$TL_TMP/bulk"
if "$TAPIRCTL" status | grep -q "offload on"; then
	check "outbound TCP superframes are captured whole (longer than 1514 bytes)" \
		"$(TS -Y 'tcp.srcport == 7 && frame.packet_flags_direction == 2' -T fields -e frame.len | sort -n | tail -n 3 | tr '\n' ' ')" \
		sh -c "[ $(count 'tcp.srcport == 7 && frame.len > 1514 && frame.packet_flags_direction == 2') -ge 1 ]"
else
	diag "the TAP took no offloads: no superframes to look for"
fi
TS -Y 'udp.dstport == 5999' -T fields -e frame.packet_flags_direction -e frame.comment >"$TL_TMP/closed" 2>&1
check "the datagram to a closed port: inbound, 'dropped: udp no_listener'" "@$TL_TMP/closed" \
	grep -qx "0x00000001	dropped: udp no_listener" "$TL_TMP/closed"
check "the port unreachable for it went out" "" \
	sh -c "[ $(count 'icmp.type == 3 && icmp.code == 3 && frame.packet_flags_direction == 2') = 1 ]"
TS -Y 'udp.dstport == 7' -T fields -e frame.packet_flags_direction -e frame.comment >"$TL_TMP/badsum" 2>&1
check "the bad-checksum datagram: inbound, 'dropped: udp bad_checksum'" "@$TL_TMP/badsum" \
	grep -qx "0x00000001	dropped: udp bad_checksum" "$TL_TMP/badsum"
diag "drop comments: $(TS -Y frame.comment -T fields -e frame.comment | sort | uniq -c | tr '\n' ';')"
ncomm=$(TS -Y 'frame.comment' | wc -l)
check "frames with a drop comment = tapird's frames_dropped" "$ncomm vs $(field frames_dropped)" \
	test "$ncomm" = "$(field frames_dropped)"
check "no outbound frame is marked dropped" "" \
	sh -c "[ $(count 'frame.comment && frame.packet_flags_direction == 2') = 0 ]"

# A symbolic link where a capture file would go is not followed.
ln -s "$TL_TMP/target" "$CAP/link-00001.pcapng"
"$TAPIRCTL" capture start --name link >"$out" 2>&1
rc=$?
check "a capture over a symbolic link is refused, its target untouched" "exit $rc: $(cat "$out")" \
	sh -c "[ $rc = 1 ] && [ ! -e '$TL_TMP/target' ]"
rm -f "$CAP/link-00001.pcapng"

# ---- The ring: at most max_files (3) files of at most --bytes each. ----
"$TAPIRCTL" capture start --name ring --bytes 2048 >"$out" 2>&1
check "capture start --bytes 2048: running" "@$out" grep -q "^limits: 3 files of 2048 bytes" "$out"
in_ns ping -c 20 -i 0.05 -s 200 -W 2 "$TAPIR_ADDR" >/dev/null 2>&1
"$TAPIRCTL" capture stop >"$out" 2>&1
ring_files=$(find "$CAP" -name 'ring-*.pcapng' -printf '%f ' | sort)
check "3 ring files remain, the oldest removed" "files: $ring_files; $(cat "$out")" \
	sh -c "[ \$(ls '$CAP'/ring-*.pcapng | wc -l) = 3 ] && [ ! -e '$CAP/ring-00001.pcapng' ]"
big=$(find "$CAP" -name 'ring-*.pcapng' -size +2048c | wc -l)
check "every ring file is at most 2048 bytes" "$(ls -l "$CAP")" test "$big" = 0
ring_ok() {
	local g
	for g in "$CAP"/ring-*.pcapng; do
		[ "$(tshark -r "$g" 2>/dev/null | wc -l)" -gt 0 ] || return 1
	done
}
check "every ring file reads in tshark, with frames" "$(ls -l "$CAP")" ring_ok
last=$(find "$CAP" -name 'ring-*.pcapng' -printf '%f\n' | sort | tail -n 1)
check "capture status names the files kept" "@$out" grep -q "^files: .* \.\. $last$" "$out"

# ---- --count and --seconds stop it. ----
"$TAPIRCTL" capture start --name cnt --count 4 >/dev/null 2>&1
in_ns ping -c 4 -i 0.2 -W 2 "$TAPIR_ADDR" >/dev/null 2>&1
"$TAPIRCTL" capture status >"$out" 2>&1
check "--count 4 stops the capture by itself" "@$out" grep -q "^capture: stopped: count reached" "$out"
check "... with exactly 4 frames in its file" "" \
	test "$(tshark -r "$CAP/cnt-00001.pcapng" 2>/dev/null | wc -l)" = 4
"$TAPIRCTL" capture start --name sec --seconds 1 >/dev/null 2>&1
sleep 2.5
"$TAPIRCTL" capture status >"$out" 2>&1
check "--seconds 1 stops the capture by itself" "@$out" grep -q "^capture: stopped: time limit reached" "$out"
"$TAPIRCTL" capture stop >"$out" 2>&1
check "capture stop with none running: exit 1" "@$out" grep -q "no capture is running" "$out"
"$TAPIRCTL" capture start --name cnt >"$out" 2>&1
check "a name whose file exists is refused" "@$out" grep -q "File exists" "$out"

check "tapird ran with its system call filter" "@$TL_LOG" grep -q "system call filter in place" "$TL_LOG"
check "tapird is still running (the filter allowed every call)" "@$TL_LOG" lab_tapird_running
errs=$(tl_error_lines)
check "no errors in tapird's log" "$errs" test -z "$errs"
tl_done
