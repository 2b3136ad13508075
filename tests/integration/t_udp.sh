#!/bin/bash
# UDP through the echo module: echo (RFC 862) returns the exact bytes at
# every size, discard (RFC 863) returns nothing, chargen (RFC 864) returns
# character lines, a closed port yields ICMP port unreachable.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
tl_start

in=$TL_TMP/in
out=$TL_TMP/out

# Echo: several sizes; 1473 and up need fragments both ways.
for size in 1 64 512 1472 1473 4000 8192 30000 65507; do
	head -c "$size" /dev/urandom >"$in"
	udp_xchg 7 "$in" "$out"
	rc=$?
	got=$(stat -c %s "$out")
	if [ "$rc" -eq 0 ] && cmp -s "$in" "$out"; then
		ok "UDP echo of a $size-byte datagram returns the same $size bytes"
	else
		not_ok "UDP echo of a $size-byte datagram returns the same $size bytes" \
			"socat exit $rc, got $got bytes" "$(head -c 300 "$out.err")"
	fi
done

# An empty datagram is echoed as an empty datagram (socat cannot send one).
res=$(in_ns timeout 10 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("'"$TAPIR_ADDR"'", 7))
s.send(b"")
try:
    d = s.recv(65535)
    print("len=%d" % len(d))
except Exception as e:
    print("error: %s" % e)
' 2>&1)
check "UDP echo of an empty datagram returns an empty datagram" "$res" \
	test "$res" = "len=0"

# Several datagrams in one flow keep their boundaries and order.
res=$(in_ns timeout 10 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("'"$TAPIR_ADDR"'", 7))
sent = [bytes([i]) * (100 * i + 1) for i in range(1, 21)]
for d in sent:
    s.send(d)
got = []
try:
    while len(got) < len(sent):
        got.append(s.recv(65535))
except Exception as e:
    print("error after %d datagrams: %s" % (len(got), e))
print("same" if got == sent else "differ: sizes %s" % [len(g) for g in got])
' 2>&1)
check "20 UDP datagrams in a row come back in order with their boundaries" "$res" \
	test "$res" = same

# Discard: nothing comes back, and the port is open (no port unreachable,
# which socat would report as "Connection refused").
head -c 1000 /dev/urandom >"$in"
udp_xchg 9 "$in" "$out" 2
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$out" ] && ! grep -qi refused "$out.err"; then
	ok "UDP discard (port 9) returns nothing and the port is open"
else
	not_ok "UDP discard (port 9) returns nothing and the port is open" \
		"socat exit $rc, $(stat -c %s "$out") bytes back" "$(head -c 300 "$out.err")"
fi

# Chargen: any datagram is answered with lines of the RFC 864 pattern.
printf 'x' >"$in"
udp_xchg 19 "$in" "$out"
rc=$?
res=$(python3 - "$out" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
pat = bytes(range(32, 127))  # the 95 printing characters, rotating
def fail(m):
    print(m); sys.exit(0)
if not d:
    fail("no data")
if len(d) > 512:
    fail("datagram of %d bytes (RFC 864: 0..512)" % len(d))
if not d.endswith(b"\r\n"):
    fail("does not end with CRLF: %r" % d[-10:])
lines = d[:-2].split(b"\r\n")
prev = None
for n, l in enumerate(lines):
    if not l:
        fail("empty line %d" % n)
    if any(c < 32 or c > 126 for c in l):
        fail("line %d has a non-printing byte: %r" % (n, l))
    start = l[0] - 32
    want = bytes(pat[(start + i) % 95] for i in range(len(l)))
    if l != want:
        fail("line %d is not a run of the rotating pattern: %r" % (n, l))
    if prev is not None and start != (prev + 1) % 95:
        fail("line %d does not start one character after line %d" % (n, n - 1))
    prev = start
print("ok %d lines of %s characters" % (len(lines), sorted(set(len(l) for l in lines))))
PY
)
if [ "$rc" -eq 0 ] && [[ $res == ok* ]]; then
	ok "UDP chargen (port 19) answers with RFC 864 character lines ($res)"
else
	not_ok "UDP chargen (port 19) answers with RFC 864 character lines" \
		"socat exit $rc: $res" "$(head -c 300 "$out.err")"
fi

# A closed port: socat's connected socket sees "Connection refused", and the
# ICMP port unreachable from tapird quotes the datagram.
cap=$TL_TMP/cap.txt
tcpdump_start "$cap" "icmp" || bail "tcpdump listens on $TAP" "$(cat "$cap.err")"
printf 'hello' >"$in"
udp_xchg 4242 "$in" "$out" 2
rc=$?
tcpdump_stop
if [ "$rc" -ne 0 ] && grep -q 'Connection refused' "$out.err"; then
	ok "UDP to closed port 4242: socat reports Connection refused"
else
	not_ok "UDP to closed port 4242: socat reports Connection refused" \
		"socat exit $rc" "$(cat "$out.err")"
fi
if grep -q "$TAPIR_ADDR > $HOST_ADDR: ICMP $TAPIR_ADDR udp port 4242 unreachable" "$cap" &&
	grep -q "$HOST_ADDR\.[0-9]* > $TAPIR_ADDR\.4242: UDP, length 5" "$cap"; then
	ok "UDP to closed port 4242: ICMP port unreachable quoting the datagram seen on $TAP"
else
	not_ok "UDP to closed port 4242: ICMP port unreachable quoting the datagram seen on $TAP" \
		"$(head -n 20 "$cap")"
fi

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
