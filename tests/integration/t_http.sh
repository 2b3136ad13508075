#!/bin/bash
# The http module with real clients: curl GET and HEAD, Range (206, 416),
# conditionals (304), errors with their codes, keep-alive and pipelining,
# traversal attempts that must never reach a file outside the root, a
# 100 MiB file byte-identical with and without 2% loss, wrk and ab with no
# errors, a slow-headers attack that neither starves a concurrent client
# nor keeps its connections past the header deadline, and a client that
# stops reading.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

WWW=$TL_TMP/www
URL=http://$TAPIR_ADDR
SECRET="outside-the-root-$RANDOM$RANDOM"
mkdir -p "$WWW/sub/deeper" "$WWW/empty"
printf '<h1>tapir</h1>\n' >"$WWW/index.html"
printf 'in sub\n' >"$WWW/sub/index.html"
head -c 1000 /dev/urandom >"$WWW/r.bin"
head -c 1024 /dev/urandom >"$WWW/1k.bin"
printf 'hello\n' >"$WWW/a.txt"
printf '%s\n' "$SECRET" >"$TL_TMP/secret.txt"
ln -s "$TL_TMP/secret.txt" "$WWW/link.txt"
ln -s "$TL_TMP" "$WWW/linkdir"
head -c 100M /dev/urandom >"$WWW/big.bin"

cat >"$TL_TMP/tapir.conf" <<EOF
$(tl_iface_conf)
modules = (
  { name = "http";
    port = 80;
    root = "$WWW";
    listing = true;
    max_request_line = 1024;
    max_header_bytes = 2048;
    max_headers = 20;
    max_request_body = 4096;
    header_timeout = 3;
    idle_timeout = 3;
    send_timeout = 3;
    max_connections = 400;
    access_log = "$TL_TMP/access.log";
    mime_types = [ "bin application/x-tapir-test" ];
    status_allow = [ "$HOST_ADDR/32", "fd00::1/128" ];
  }
);
EOF
tl_start_with "$TL_TMP/tapir.conf"

# curl_w FORMAT ARGS...: curl quietly, print FORMAT's values.
curl_w() {
	local fmt=$1
	shift
	in_ns timeout 20 curl -s -o "$TL_TMP/body" -D "$TL_TMP/head" \
		-w "$fmt" "$@"
}
head_field() { # NAME: the value of a field in the last response head
	tr -d '\r' <"$TL_TMP/head" | sed -n "s/^$1: //Ip" | tail -n 1
}

# ---- GET and HEAD --------------------------------------------------------
got=$(curl_w '%{http_code} %{content_type}' "$URL/")
check "GET / serves index.html (200, text/html)" "got: $got" \
	test "$got" = "200 text/html; charset=utf-8"
check "GET / body is index.html" "@$TL_TMP/body" cmp -s "$WWW/index.html" "$TL_TMP/body"
check "Last-Modified, ETag and Content-Length are sent" "@$TL_TMP/head" \
	sh -c "[ -n \"\$(tr -d '\r' <'$TL_TMP/head' | grep -i '^Last-Modified: ')\" ] &&
	       grep -qi '^ETag: \"' '$TL_TMP/head' && grep -qi '^Content-Length: 15' '$TL_TMP/head'"

got=$(curl_w '%{http_code} %{size_download}' -I "$URL/r.bin")
check "HEAD: 200, the length, no body" "got: $got; $(cat "$TL_TMP/head")" \
	sh -c "[ '$got' = '200 0' ] && grep -qi '^Content-Length: 1000' '$TL_TMP/head'"
check "MIME override applies (.bin)" "got: $(head_field Content-Type)" \
	test "$(head_field Content-Type)" = "application/x-tapir-test"

got=$(curl_w '%{http_code}' "$URL/sub/")
check "a directory's index.html" "got $got: $(cat "$TL_TMP/body")" \
	sh -c "[ '$got' = 200 ] && [ \"\$(cat '$TL_TMP/body')\" = 'in sub' ]"
got=$(curl_w '%{http_code} %{redirect_url}' "$URL/sub")
check "a directory without '/' redirects (301)" "got: $got" \
	test "$got" = "301 $URL/sub/"
got=$(curl_w '%{http_code}' "$URL/empty/")
check "listing of a directory without index" "got $got" \
	sh -c "[ '$got' = 200 ] && grep -q 'Index of /empty/' '$TL_TMP/body'"
got=$(curl_w '%{http_code}' "$URL/nope.txt")
check "a missing file: 404" "got $got" test "$got" = 404

# ---- Range and conditionals ------------------------------------------------
got=$(curl_w '%{http_code}' -r 0-99 "$URL/r.bin")
check "-r 0-99: 206 with Content-Range" "got $got; $(cat "$TL_TMP/head")" \
	sh -c "[ '$got' = 206 ] && grep -qi '^Content-Range: bytes 0-99/1000' '$TL_TMP/head'"
check "-r 0-99: exactly those 100 bytes" "got $(stat -c %s "$TL_TMP/body") bytes" \
	cmp -s "$TL_TMP/body" <(head -c 100 "$WWW/r.bin")
got=$(curl_w '%{http_code}' -r -10 "$URL/r.bin")
tail -c 10 "$WWW/r.bin" >"$TL_TMP/last10"
check "-r -10: 206 with the last 10 bytes" "got $got" \
	sh -c "[ '$got' = 206 ] && cmp -s '$TL_TMP/body' '$TL_TMP/last10'"
got=$(curl_w '%{http_code}' -r 5000-6000 "$URL/r.bin")
check "an unsatisfiable range: 416 with bytes */1000" "got $got" \
	sh -c "[ '$got' = 416 ] && grep -qi '^Content-Range: bytes \*/1000' '$TL_TMP/head'"
got=$(curl_w '%{http_code} %{size_download}' -r 0-1,5-6 "$URL/r.bin")
check "several ranges: the full 200" "got $got" test "$got" = "200 1000"

curl_w '%{http_code}' "$URL/r.bin" >/dev/null
etag=$(head_field ETag)
lastmod=$(head_field Last-Modified)
got=$(curl_w '%{http_code} %{size_download}' -H "If-None-Match: $etag" "$URL/r.bin")
check "If-None-Match with the ETag: 304, no body" "etag $etag, got $got" \
	test "$got" = "304 0"
got=$(curl_w '%{http_code}' -H 'If-None-Match: "other"' "$URL/r.bin")
check "If-None-Match with another tag: 200" "got $got" test "$got" = 200
got=$(curl_w '%{http_code}' -H "If-Modified-Since: $lastmod" "$URL/r.bin")
check "If-Modified-Since = Last-Modified: 304" "sent $lastmod, got $got" \
	test "$got" = 304
got=$(curl_w '%{http_code}' -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT" "$URL/r.bin")
check "If-Modified-Since long ago: 200" "got $got" test "$got" = 200
got=$(curl_w '%{http_code}' -r 0-9 -H 'If-Range: "stale"' "$URL/r.bin")
check "If-Range with a stale tag: the full 200" "got $got" test "$got" = 200

# ---- Error codes --------------------------------------------------------------
# raw REQUEST: send bytes as they are, print the first status code back.
raw() {
	printf '%b' "$1" | in_ns timeout 10 nc -w 5 "$TAPIR_ADDR" 80 |
		head -n 1 | tr -d '\r' | cut -d' ' -f2
}
got=$(curl_w '%{http_code}' -X POST --data x "$URL/a.txt")
check "POST: 405 with Allow: GET, HEAD" "got $got; $(cat "$TL_TMP/head")" \
	sh -c "[ '$got' = 405 ] && grep -qi '^Allow: GET, HEAD' '$TL_TMP/head'"
check "unknown method: 501" "" test "$(raw 'BREW / HTTP/1.1\r\nHost: a\r\n\r\n')" = 501
check "unknown transfer coding: 501" "" \
	test "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n')" = 501
check "HTTP/2.0 in the request line: 505" "" test "$(raw 'GET / HTTP/2.0\r\n\r\n')" = 505
check "malformed request line: 400" "" test "$(raw 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n')" = 400
check "HTTP/1.1 without Host: 400" "" test "$(raw 'GET / HTTP/1.1\r\n\r\n')" = 400
# RFC 9112 3.2: a Host that is no uri-host [":" port] is a 400, and the
# connection ends there: a request pipelined after it gets no answer.
statuses() {
	printf '%b' "$1" | in_ns timeout 10 nc -w 5 "$TAPIR_ADDR" 80 |
		tr -d '\r' | awk '/^HTTP\/1\.1 /{ printf "%s ", $2 }'
}
for h in 'a/b' 'user@a' '[fd00::2' 'a:80x'; do
	got=$(statuses "GET / HTTP/1.1\r\nHost: $h\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
	check "Host: $h: 400 and the connection closed" "statuses: $got" \
		test "$got" = "400 "
done
got=$(statuses 'GET /a.txt HTTP/1.1\r\nHost: [fd00::2]:80\r\n\r\n')
check "Host: [fd00::2]:80 (an IP-literal with a port) is served" "statuses: $got" \
	test "$got" = "200 "
check "obs-fold: 400" "" test "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n')" = 400
check "Content-Length with Transfer-Encoding: 400" "" \
	test "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nx')" = 400
check "two Content-Length fields: 400" "" \
	test "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx')" = 400
check "invalid Content-Length: 400" "" \
	test "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n')" = 400
check "body over max_request_body: 413" "" \
	test "$(raw 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n')" = 413
long=$(head -c 2000 /dev/zero | tr '\0' a)
got=$(curl_w '%{http_code}' "$URL/$long")
check "request line over max_request_line: 414" "got $got" test "$got" = 414
hdrs=()
for i in $(seq 1 25); do hdrs+=(-H "X-Test-$i: $i"); done
got=$(curl_w '%{http_code}' "${hdrs[@]}" "$URL/")
check "more fields than max_headers: 431" "got $got" test "$got" = 431
got=$(curl_w '%{http_code}' -H "X-Big: $(head -c 2100 /dev/zero | tr '\0' b)" "$URL/")
check "field bytes over max_header_bytes: 431" "got $got" test "$got" = 431

# ---- Keep-alive and pipelining ------------------------------------------------
got=$(in_ns timeout 20 curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' \
	"$URL/a.txt" "$URL/r.bin")
check "HTTP/1.1 keep-alive: the second request reuses the connection" \
	"connects per request: $got" test "$got" = "1 0 "
got=$(in_ns timeout 20 curl -s -0 -H 'Connection: keep-alive' -o /dev/null -o /dev/null \
	-w '%{num_connects} ' "$URL/a.txt" "$URL/r.bin")
check "HTTP/1.0 with Connection: keep-alive reuses the connection" \
	"connects per request: $got" test "$got" = "1 0 "
printf 'GET /a.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzHEAD /r.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
	{
		t0=$(date +%s%N)
		in_ns timeout 10 nc -w 5 "$TAPIR_ADDR" 80 >"$TL_TMP/pipe.out"
		echo $((($(date +%s%N) - t0) / 1000000)) >"$TL_TMP/pipe.ms"
	}
got=$(tr -d '\r' <"$TL_TMP/pipe.out" | grep -a -o 'HTTP/1.1 [0-9]*' | cut -d' ' -f2 | tr '\n' ' ')
check "four pipelined requests (one with a body) answered in order" \
	"got: $got" test "$got" = "200 404 200 200 "
# nc gives up after 5 s of silence; the server's close ends it sooner.
pipe_ms=$(cat "$TL_TMP/pipe.ms")
check "then closed by the server (nc done in $pipe_ms ms, not its 5 s timeout)" \
	"nc took $pipe_ms ms" test "$pipe_ms" -lt 4000
check "Connection: close is honoured (the response says close)" "@$TL_TMP/pipe.out" \
	grep -qai '^Connection: close' "$TL_TMP/pipe.out"

# ---- Traversal: never a byte from outside the root -----------------------------
leaked=0
for p in '/../secret.txt' '/%2e%2e/secret.txt' '/%2E%2E/%2e%2e/secret.txt' \
	'/..%2fsecret.txt' '/sub/../../secret.txt' '/sub/%2e%2e/%2e%2e/secret.txt' \
	'/%2e%2e%2fsecret.txt' '/link.txt' '/linkdir/secret.txt' '/a.txt%00.html' \
	'/sub%2f..%2f..%2fsecret.txt' '/.%2e/secret.txt' "/$TL_TMP/secret.txt" \
	'//../secret.txt' '/sub/deeper/../../../secret.txt'; do
	code=$(in_ns timeout 10 curl -s --path-as-is -o "$TL_TMP/trav" -w '%{http_code}' "$URL$p")
	case $code in
	400 | 404) ;;
	*)
		leaked=$((leaked + 1))
		diag "$p -> $code"
		;;
	esac
	if grep -qF "$SECRET" "$TL_TMP/trav"; then
		leaked=$((leaked + 1))
		diag "$p -> the secret file"
	fi
done
check "15 traversal attempts (.., %2e%2e, %2f, NUL, symlinks) get 400/404 and nothing outside" \
	"$leaked failures" test "$leaked" = 0

# ---- A 100 MiB file, clean and under 2% loss -----------------------------------
want=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
got=$(in_ns timeout 120 curl -s "$URL/big.bin" | sha256sum | cut -d' ' -f1)
check "100 MiB download is byte-identical (sha256)" "want $want got $got" \
	test "$want" = "$got"

in_ns nft -f - <<EOF 2>"$TL_TMP/nft.err"
table inet tapirhttp {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "$TAP" numgen random mod 100 < 2 drop
	}
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "$TAP" numgen random mod 100 < 2 drop
	}
}
EOF
check "nftables 2% loss both ways on $TAP" "@$TL_TMP/nft.err" test ! -s "$TL_TMP/nft.err"
got=$(in_ns timeout 240 curl -s "$URL/big.bin" | sha256sum | cut -d' ' -f1)
check "100 MiB download under 2% loss is byte-identical (sha256)" \
	"want $want got $got" test "$want" = "$got"
in_ns nft delete table inet tapirhttp >/dev/null 2>&1

# ---- Load: wrk and ab ------------------------------------------------------------
in_ns timeout 30 wrk -t 2 -c 20 -d 5s "$URL/1k.bin" >"$TL_TMP/wrk.out" 2>&1
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TL_TMP/wrk.out")
check "wrk -d 5s keep-alive: requests done, no socket errors, no non-2xx" \
	"@$TL_TMP/wrk.out" \
	sh -c "[ '${reqs:-0}' -gt 0 ] && ! grep -q 'Socket errors\|Non-2xx' '$TL_TMP/wrk.out'"
diag "wrk: $(grep Requests/sec "$TL_TMP/wrk.out")"
in_ns timeout 60 ab -k -n 2000 -c 20 "$URL/1k.bin" >"$TL_TMP/ab.out" 2>&1
check "ab -k -n 2000 -c 20: 2000 complete, 0 failed, all 2xx" "@$TL_TMP/ab.out" \
	sh -c "grep -q '^Complete requests: *2000' '$TL_TMP/ab.out' &&
	       grep -q '^Failed requests: *0' '$TL_TMP/ab.out' &&
	       ! grep -q '^Non-2xx' '$TL_TMP/ab.out'"

# ---- Slow headers (slowloris) ------------------------------------------------------
# 150 connections that send a header line every 2 s and never finish; the
# header deadline is 3 s.  A concurrent curl must still be served.
before=$(grep -c '"-" 408 ' "$TL_TMP/access.log")
in_ns timeout 40 slowhttptest -H -c 150 -r 150 -i 2 -l 12 -s 8192 -t GET \
	-u "$URL/a.txt" -p 2 -o "$TL_TMP/slow" >"$TL_TMP/slow.out" 2>&1 &
slow_pid=$!
sleep 3
fast=0
for i in 1 2 3 4 5; do
	code=$(in_ns timeout 5 curl -s -o /dev/null -w '%{http_code}' "$URL/a.txt")
	[ "$code" = 200 ] && fast=$((fast + 1))
	sleep 0.5
done
wait "$slow_pid"
check "curl served during a slow-headers attack (5 of 5)" "$fast of 5" test "$fast" = 5
after=$(grep -c '"-" 408 ' "$TL_TMP/access.log")
check "slow-header connections answered 408 at the header deadline" \
	"408 lines before $before, after $after; $(tail -n 5 "$TL_TMP/slow.out")" \
	test "$((after - before))" -ge 100
tcp_left=$(in_ns ss -tn state established "( dport = :80 )" | tail -n +2 | wc -l)
check "no slow connection left open afterwards" "$tcp_left established" \
	test "$tcp_left" = 0

# A partial head, then silence: 408 and a close after header_timeout.
got=$( (printf 'GET /a.txt HTTP/1.1\r\nHost: a\r\n'; sleep 5) |
	in_ns timeout 15 nc -w 10 "$TAPIR_ADDR" 80 | head -n 1 | tr -d '\r')
took=$(grep '"-" 408 ' "$TL_TMP/access.log" | tail -n 1 | awk '{print $NF}')
check "a head left unfinished gets 408 at the deadline (3 s)" \
	"got '$got', logged after ${took:-nothing}" \
	sh -c "[ '$got' = 'HTTP/1.1 408 Request Timeout' ] &&
	       case '$took' in 3.*s) true ;; *) false ;; esac"

# A reader that stops reading (slow read): reset after send_timeout (3 s).
cat >"$TL_TMP/slowread.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((sys.argv[1], 80))
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
time.sleep(7)
s.settimeout(10)
got, how = 0, "eof"
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
except ConnectionResetError:
    how = "reset"
except socket.timeout:
    how = "timeout"
print(how, got)
PY
read -r how got <<<"$(in_ns timeout 30 python3 "$TL_TMP/slowread.py" "$TAPIR_ADDR")"
check "a client that stops reading is reset after send_timeout" \
	"got: ${how:-nothing} after ${got:-0} bytes" \
	sh -c "[ '$how' = reset ] && [ '${got:-0}' -lt 104857600 ]"

# ---- Access log --------------------------------------------------------------------
check "access log: client, method, path, status, bytes, duration" \
	"@$TL_TMP/access.log" \
	grep -qE "^[0-9TZ:-]+ 10\.0\.0\.1:[0-9]+ \"GET /r\.bin HTTP/1\.1\" 206 [0-9]+ [0-9]+\.[0-9]{3}s$" \
	"$TL_TMP/access.log"

# ---- Built-in /status and /metrics ----------------------------------------
got=$(curl_w '%{http_code} %{content_type}' "$URL/status")
check "GET /status: 200, application/json" "got: $got" \
	test "$got" = "200 application/json"
got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["interface"]["name"], d["modules"][0]["name"],
      d["counters"]["tcp"]["passive_opens"] > 0, type(d["dhcp_leases"]).__name__)' \
	"$TL_TMP/body" 2>&1)
check "/status is JSON with interface, modules, counters and leases" \
	"got: $got" test "$got" = "$TAP http True list"
in_ns timeout 20 curl -s "$URL/status" | python3 -m json.tool >/dev/null
check "/status passes python3 -m json.tool" "json.tool failed" test $? = 0
ver=$("$TAPIRD" -V | sed -n 's/^tapird \([^ ]*\) (module ABI [0-9]*)$/\1/p')
got=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
	"$TL_TMP/body" 2>&1)
check "/status says the version tapird -V prints ($ver)" "got: $got" \
	test "$got" = "$ver"
got=$(head_field Server)
check "Server: tapir/VERSION, as tapird -V says" "got: $got" \
	test "$got" = "tapir/$ver"
got=$(curl_w '%{http_code} %{content_type}' "$URL/metrics")
check "GET /metrics: 200, Prometheus text/plain version 0.0.4" "got: $got" \
	test "$got" = "200 text/plain; version=0.0.4; charset=utf-8"
got=$(/usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
print(fams["tapir_tcp_passive_opens"].type,
      fams["tapir_tcp_passive_opens"].samples[0].value > 0,
      "tapir_module_events" in fams)' "$TL_TMP/body" 2>&1)
check "/metrics parses with a Prometheus parser (counters, module counters)" \
	"got: $got" test "$got" = "counter True True"
got=$(curl_w '%{http_code} %{size_download}' -I "$URL/metrics")
check "HEAD /metrics: 200 without a body" "got: $got" test "$got" = "200 0"

# ---- status_allow: only the kernel side's own address ---------------------
# A second address on the kernel side, outside status_allow (a /32, so the
# kernel keeps $HOST_ADDR as the source of everything else).
OTHER=10.0.0.77
ip -n "$LAB_NS" addr add "$OTHER/32" dev "$TAP"
got=$(curl_w '%{http_code}' --interface "$OTHER" "$URL/status")
check "GET /status from $OTHER (not allowed): 403" "got: $got" \
	sh -c "[ '$got' = 403 ] && ! grep -q dhcp_leases '$TL_TMP/body'"
got=$(curl_w '%{http_code} %{size_download}' --interface "$OTHER" -I "$URL/metrics")
check "HEAD /metrics from $OTHER: 403 without a body" "got: $got" \
	test "$got" = "403 0"
got=$(curl_w '%{http_code}' --interface "$OTHER" "$URL/a.txt")
check "a file from $OTHER: still 200" "got: $got" test "$got" = 200
got=$(curl_w '%{http_code}' --interface "$HOST_ADDR" "$URL/metrics")
check "GET /metrics from $HOST_ADDR (allowed): 200" "got: $got" test "$got" = 200
got=$(grep -E '^tapir_module_[a-z_]*\{.*status_denied' "$TL_TMP/body" | grep -oE '[0-9]+$')
check "the refusals are counted (status_denied 2)" \
	"got: ${got:-nothing}; $(grep status_denied "$TL_TMP/body")" test "${got:-0}" = 2
access=$(grep -c "^[0-9TZ:-]* $OTHER:[0-9]* \"[A-Z]* /[a-z]*\( HTTP/1.1\)\?\" 403 " "$TL_TMP/access.log")
check "the refusals are in the access log" "@$TL_TMP/access.log" test "$access" = 2

check "tapird still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines)
check "tapird logged no error-level line" "$errs" test -z "$errs"
tl_done
