#!/bin/bash
# TCP under load, with real clients inside the lab namespace:
#  1. 1000 echo connections open at once (all connect, then all send, then
#     all read, then all close), each echoing its own line; afterwards
#     tapird holds no connection;
#  2. 20000 short echo connections in a row from one address through 1000
#     client ports, so every 4-tuple comes back 20 times: all succeed, each
#     is a fresh passive open, no reset, nothing left afterwards;
#  3. a SYN flood from hping3 (spoofed lab source 10.0.0.77, bounded in
#     count and time) while 50 legitimate echo connections must each
#     complete within 30 s; afterwards a fresh connection works.
# Then tapird still runs and logged no error.  Every client is bounded in
# count and time; all traffic stays in the lab namespace.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

CONC=1000      # case 1: connections open at once
CONC_LIMIT=60  # case 1: seconds for all of it
SEQ=20000      # case 2: connections in a row
SEQ_PORTS="40000 40999"
SEQ_LIMIT=120  # case 2: seconds for all of it
FLOOD_SRC=10.0.0.77 # case 3: spoofed source, inside the lab's /24
FLOOD_COUNT=50000   # case 3: SYNs at most ...
FLOOD_SECS=5        # ... for at most this long
LEGIT=50            # case 3: legitimate connections during the flood
LEGIT_LIMIT=30      # case 3: seconds each may take

# The default limits: tcp_max_connections 4096, tcp_syn_backlog 256 (a SYN
# past it gets a SYN cookie; were it dropped, the kernel client would send
# it again 1 s later), tcp_syn_cookies true.
tl_start

# ---- helpers ----------------------------------------------------------------

# counters FILE: dump tapird's counters (SIGUSR1) to FILE as "NAME VALUE"
# lines; a qualified counter's NAME is "layer_name/QUALIFIER", as in
# "tcp_dropped/syn_backlog" (reason=) or "tcp_connections/time_wait"
# (state=).
counters() {
	local file=$1 before now n=-1 i
	before=$(tl_log_lines)
	kill -USR1 "$LAB_TAPIRD_PID" || return 1
	# The dump is written at once: wait until new lines stop growing.
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		now=$(tl_log_lines)
		[ "$now" -gt "$before" ] && [ "$now" = "$n" ] && break
		n=$now
	done
	tail -n "+$((before + 1))" "$TL_LOG" | awk '
		{ sub(/^<[0-7]>/, "") }
		$1 != "counter" { next }
		$3 ~ /^[a-z_]+=/ { sub(/^[a-z_]+=/, "", $3); print $2 "/" $3, $4; next }
		{ print $2, $3 }' >"$file"
}

# counter NAME FILE: the value in a counters FILE (0 when not listed).
counter() {
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$2"
}

# conns FILE: the connections tapird holds, in any state.
conns() {
	awk '$1 ~ /^tcp_connections\// { n += $2 } END { print n + 0 }' "$1"
}

# conns_by_state FILE: "state=N ..." for the states that hold any.
conns_by_state() {
	awk '$1 ~ /^tcp_connections\// { printf "%s=%s ", substr($1, 17), $2 }' "$1"
}

# drained FILE: wait (at most 5 s) until tapird holds no connection; FILE
# then has the last counters.
drained() {
	local i
	for ((i = 0; i < 10; i++)); do
		counters "$1"
		[ "$(conns "$1")" = 0 ] && return 0
		sleep 0.5
	done
	return 1
}

# delta NAME BEFORE AFTER: how much counter NAME grew.
delta() {
	echo $(($(counter "$1" "$3") - $(counter "$1" "$2")))
}

# field NAME FILE: NAME=VALUE from the "RESULT ..." line a client printed.
field() {
	sed -n 's/^RESULT.* '"$1"'=\([^ ]*\).*/\1/p' "$2" | tail -n 1
}

# The echo client (python3 asyncio), run inside the lab.
#   phased HOST PORT N LIMIT: open N connections, and only when all are
#     open send a line on each, then read every answer, then close all;
#   spread HOST PORT N LIMIT GAP: N independent connections started GAP
#     seconds apart, each connect/send/read/close within LIMIT seconds.
# Prints "RESULT key=value ..." (and "# ..." details) and exits 0 only if
# every connection got its own line back.
cat >"$TL_TMP/echo_load.py" <<'PY'
import asyncio, collections, resource, sys, time

mode, host, port, n, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), float(sys.argv[5])
gap = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 64
if soft != resource.RLIM_INFINITY and soft < want:
    if hard != resource.RLIM_INFINITY and hard < want:
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

def line(i):
    return b"line %d of %d from connection %d\n" % (i, n, i)

st = collections.OrderedDict(connected=0, echoed=0, wrong=0)
errors = collections.Counter()
times = []

async def phased():
    t0 = time.monotonic()
    res = await asyncio.gather(
        *(asyncio.open_connection(host, port) for _ in range(n)),
        return_exceptions=True)
    conns = []
    for i, x in enumerate(res):
        if isinstance(x, BaseException):
            errors[type(x).__name__ + ": " + str(x)] += 1
        else:
            conns.append((i, x[0], x[1]))
    st["connected"] = len(conns)
    st["peak_open"] = len(conns)  # every one is open before any sends
    st["connect_s"] = "%.2f" % (time.monotonic() - t0)
    for i, r, w in conns:
        w.write(line(i))
    await asyncio.gather(*(w.drain() for _, _, w in conns),
                         return_exceptions=True)

    async def rd(i, r):
        try:
            return i, await r.readline()
        except Exception as e:  # noqa: BLE001 - counted below
            errors["read " + type(e).__name__] += 1
            return i, b""
    for i, got in await asyncio.gather(*(rd(i, r) for i, r, _ in conns)):
        if got == line(i):
            st["echoed"] += 1
        else:
            st["wrong"] += 1
    st["echo_s"] = "%.2f" % (time.monotonic() - t0)
    for _, _, w in conns:
        w.close()
    await asyncio.gather(*(w.wait_closed() for _, _, w in conns),
                         return_exceptions=True)

async def one(i):
    await asyncio.sleep(i * gap)
    t = time.monotonic()
    try:
        async def run():
            r, w = await asyncio.open_connection(host, port)
            st["connected"] += 1
            w.write(line(i))
            w.write_eof()
            got = await r.read()
            w.close()
            return got
        got = await asyncio.wait_for(run(), limit)
    except Exception as e:  # noqa: BLE001 - counted
        errors[type(e).__name__ + ": " + str(e)] += 1
        return
    if got == line(i):
        st["echoed"] += 1
        times.append(time.monotonic() - t)
    else:
        st["wrong"] += 1

async def spread():
    await asyncio.gather(*(one(i) for i in range(n)))
    if times:
        st["slowest_s"] = "%.2f" % max(times)
        st["over_1s"] = sum(1 for x in times if x > 1.0)

async def main():
    t0 = time.monotonic()
    body = phased() if mode == "phased" else spread()
    # spread: each connection has its own limit; the whole stays bounded.
    total = limit if mode == "phased" else limit + n * gap + 5
    try:
        await asyncio.wait_for(body, total)
        st["timed_out"] = 0
    except asyncio.TimeoutError:
        st["timed_out"] = 1
    st["elapsed_s"] = "%.2f" % (time.monotonic() - t0)

asyncio.run(main())
print("RESULT " + " ".join("%s=%s" % kv for kv in st.items()))
for e, k in errors.most_common(5):
    print("# %d x %s" % (k, e))
sys.exit(0 if st["echoed"] == n and not st["timed_out"] else 1)
PY

# Sequential client: N connections in a row; each sends its line, shuts
# down its side (so the client closes first), reads the echo to EOF and
# closes.  A connect() that finds every client port still in the kernel's
# TIME_WAIT (EADDRNOTAVAIL) is retried after 2 ms: that is the client's
# kernel, not tapird, and is counted apart.
cat >"$TL_TMP/echo_seq.py" <<'PY'
import collections, errno, socket, sys, time

host, port, n, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
t0 = time.monotonic()
ok = wrong = failed = busy = 0
ports = collections.Counter()
errors = collections.Counter()
for i in range(n):
    if time.monotonic() - t0 > limit:
        break
    msg = b"seq %d\n" % i
    while time.monotonic() - t0 <= limit:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((host, port))
        except OSError as e:
            s.close()
            if e.errno == errno.EADDRNOTAVAIL:
                busy += 1
                time.sleep(0.002)
                continue
            failed += 1
            errors["connect: " + str(e)] += 1
            break
        try:
            ports[s.getsockname()[1]] += 1
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
            if got == msg:
                ok += 1
            else:
                wrong += 1
        except OSError as e:
            failed += 1
            errors[type(e).__name__ + ": " + str(e)] += 1
        finally:
            s.close()
        break
el = time.monotonic() - t0
print("RESULT ok=%d wrong=%d failed=%d addr_busy_retries=%d ports=%d "
      "max_port_uses=%d elapsed_s=%.2f rate=%.0f/s" %
      (ok, wrong, failed, busy, len(ports),
       max(ports.values()) if ports else 0, el, ok / el if el else 0))
for e, k in errors.most_common(5):
    print("# %d x %s" % (k, e))
sys.exit(0 if ok == n else 1)
PY

# ---- 1. many connections at once ---------------------------------------------

counters "$TL_TMP/c1.before"
start=$SECONDS
in_ns timeout -k 5 $((CONC_LIMIT + 10)) python3 "$TL_TMP/echo_load.py" \
	phased "$TAPIR_ADDR" 7 "$CONC" "$CONC_LIMIT" >"$TL_TMP/c1.out" 2>&1
rc=$?
took=$((SECONDS - start))
counters "$TL_TMP/c1.after"
good=0
[ "$rc" = 0 ] && [ "$(field echoed "$TL_TMP/c1.out")" = "$CONC" ] &&
	[ "$(field peak_open "$TL_TMP/c1.out")" = "$CONC" ] && good=1
check "$CONC concurrent TCP echo connections, all open at once, each get their own line (within ${CONC_LIMIT}s)" \
	"client exit $rc after ${took}s; $(cat "$TL_TMP/c1.out")" test "$good" = 1
diag "case 1: $(head -n 1 "$TL_TMP/c1.out") (${took}s;" \
	"tcp_passive_opens +$(delta tcp_passive_opens "$TL_TMP/c1.before" "$TL_TMP/c1.after")," \
	"tcp_dropped/syn_backlog +$(delta tcp_dropped/syn_backlog "$TL_TMP/c1.before" "$TL_TMP/c1.after"))"
good=0
drained "$TL_TMP/c1.left" && good=1
check "once the $CONC clients closed, tapird holds no connection (within 5s)" \
	"still held: $(conns_by_state "$TL_TMP/c1.left")" test "$good" = 1

# ---- 2. many connections in a row through few client ports -------------------

# Only in the lab's namespace: 1000 client ports, so 20000 connections use
# every 4-tuple 20 times.  The client closes first (echo never does: it
# sends its FIN only after the peer's), so the kernel client holds
# TIME_WAIT and tapird goes CLOSE_WAIT, LAST_ACK, closed; tcp_tw_reuse=1
# lets the client reuse such a port (with timestamps, once a second has
# passed) for a new connection.  tapird's own TIME_WAIT, and a new SYN
# reusing it (counter tcp_time_wait_reused), cannot be reached with the
# echo module, which is never the first to close: tests/unit/test_tcp.c
# covers that path.  Here tapird must treat each returning 4-tuple as a
# new connection and keep nothing of the old ones.
old_range=$(in_ns cat /proc/sys/net/ipv4/ip_local_port_range | tr -s '\t ' ' ')
old_reuse=$(in_ns cat /proc/sys/net/ipv4/tcp_tw_reuse)
in_ns sysctl -q -w net.ipv4.ip_local_port_range="$SEQ_PORTS" \
	net.ipv4.tcp_tw_reuse=1 >"$TL_TMP/sysctl.err" 2>&1 ||
	bail "client port range and tcp_tw_reuse set in the lab" "$(cat "$TL_TMP/sysctl.err")"
counters "$TL_TMP/c2.before"
start=$SECONDS
in_ns timeout -k 5 $((SEQ_LIMIT + 10)) python3 "$TL_TMP/echo_seq.py" \
	"$TAPIR_ADDR" 7 "$SEQ" "$SEQ_LIMIT" >"$TL_TMP/c2.out" 2>&1
rc=$?
took=$((SECONDS - start))
counters "$TL_TMP/c2.after"
opens=$(delta tcp_passive_opens "$TL_TMP/c2.before" "$TL_TMP/c2.after")
rsts=$(delta tcp_resets_tx "$TL_TMP/c2.before" "$TL_TMP/c2.after")
twr=$(delta tcp_time_wait_reused "$TL_TMP/c2.before" "$TL_TMP/c2.after")
good=0
[ "$rc" = 0 ] && [ "$(field ok "$TL_TMP/c2.out")" = "$SEQ" ] && good=1
check "$SEQ short TCP echo connections in a row through ports $SEQ_PORTS all succeed (within ${SEQ_LIMIT}s)" \
	"client exit $rc after ${took}s; $(cat "$TL_TMP/c2.out")" test "$good" = 1
diag "case 2: $(head -n 1 "$TL_TMP/c2.out") (${took}s; tcp_passive_opens +$opens," \
	"tcp_resets_tx +$rsts, tcp_time_wait_reused +$twr)"
ports=$(field ports "$TL_TMP/c2.out")
uses=$(field max_port_uses "$TL_TMP/c2.out")
good=0
[ "${ports:-0}" -le 1000 ] && [ "${uses:-0}" -ge $((SEQ / 1000)) ] && good=1
check "client 4-tuples were reused (at most 1000 ports, one used >= $((SEQ / 1000)) times)" \
	"ports=$ports max_port_uses=$uses" test "$good" = 1
# Each reused 4-tuple is a new connection to tapird: exactly one passive
# open per connection and no reset (an old connection still holding the
# 4-tuple would answer the new SYN with an ACK the client resets).
good=0
[ "$opens" = "$SEQ" ] && [ "$rsts" = 0 ] && good=1
check "tapird opened each reused 4-tuple afresh: $SEQ passive opens, no reset sent" \
	"tcp_passive_opens +$opens, tcp_resets_tx +$rsts" test "$good" = 1
good=0
drained "$TL_TMP/c2.left" && good=1
check "after the $SEQ connections tapird holds no connection (within 5s)" \
	"still held: $(conns_by_state "$TL_TMP/c2.left")" test "$good" = 1
in_ns sysctl -q -w net.ipv4.ip_local_port_range="$old_range" \
	net.ipv4.tcp_tw_reuse="$old_reuse" >/dev/null 2>&1

# ---- 3. SYN flood ------------------------------------------------------------

if command -v hping3 >/dev/null; then
	counters "$TL_TMP/c3.before"
	# Bounded in count and time; the spoofed source is a lab address
	# nobody holds, so tapird's SYN-ACKs never get an answer (its ARP
	# requests for it stay on the TAP).
	in_ns timeout -k 2 "$FLOOD_SECS" hping3 -q -S -p 7 -a "$FLOOD_SRC" \
		-i u100 -c "$FLOOD_COUNT" "$TAPIR_ADDR" >"$TL_TMP/hping.out" 2>&1 &
	flood=$!
	sleep 1 # the backlog fills
	start=$SECONDS
	in_ns timeout -k 5 $((LEGIT_LIMIT + 15)) python3 "$TL_TMP/echo_load.py" \
		spread "$TAPIR_ADDR" 7 "$LEGIT" "$LEGIT_LIMIT" 0.05 \
		>"$TL_TMP/c3.out" 2>&1
	rc=$?
	took=$((SECONDS - start))
	flood_alive=0
	kill -0 "$flood" 2>/dev/null && flood_alive=1
	wait "$flood"
	frc=$?
	counters "$TL_TMP/c3.after"
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TL_TMP/hping.out")
	c3=$(for k in tcp_passive_opens tcp_dropped/syn_backlog \
		tcp_syn_cookies_sent tcp_syn_cookies_valid \
		tcp_syn_cookies_invalid tcp_timeouts arp_resolve_failures \
		arp_dropped/unresolved arp_dropped/queue_full; do
		printf '%s +%s, ' "$k" "$(delta "$k" "$TL_TMP/c3.before" "$TL_TMP/c3.after")"
	done)
	good=0
	[ "$rc" = 0 ] && [ "$(field echoed "$TL_TMP/c3.out")" = "$LEGIT" ] && good=1
	check "during a SYN flood ($FLOOD_COUNT SYNs max, ${FLOOD_SECS}s, from $FLOOD_SRC) $LEGIT echo connections all complete within ${LEGIT_LIMIT}s each" \
		"client exit $rc after ${took}s; $(cat "$TL_TMP/c3.out"); hping3: ${sent:-?} SYNs; tapird: ${c3%, }" \
		test "$good" = 1
	diag "case 3: hping3 exit $frc, ${sent:-?} SYNs sent" \
		"(still flooding when the clients were done: $flood_alive);" \
		"$(head -n 1 "$TL_TMP/c3.out") (${took}s); tapird: ${c3%, };" \
		"holds: $(conns_by_state "$TL_TMP/c3.after")"
	check "the flood really ran (hping3 sent more than 1000 SYNs)" \
		"hping3 exit $frc: $(tail -n 3 "$TL_TMP/hping.out")" \
		test "${sent:-0}" -gt 1000
	in_ns timeout -k 5 20 python3 "$TL_TMP/echo_load.py" \
		spread "$TAPIR_ADDR" 7 1 10 0 >"$TL_TMP/c3f.out" 2>&1
	rc=$?
	check "after the flood a fresh TCP echo connection works (within 10s)" \
		"client exit $rc: $(cat "$TL_TMP/c3f.out")" test "$rc" = 0
else
	not_ok "SYN flood case: hping3 installed (scripts/deps)" "no hping3 in PATH"
fi

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
