#!/bin/bash
# TLS on tapir's own TCP (host API 5) with real clients: curl --cacert over
# HTTPS on IPv4 and IPv6 (GET, Range, keep-alive, Strict-Transport-Security,
# the plain port redirecting, 100 MiB byte-identical clean and under 2%
# loss), openssl s_client with TLS 1.3 and 1.2 and
# ALPN (TLS 1.1 refused), a resumed session reported as reused, testssl.sh
# finding no weak protocol, cipher or vulnerability, kdig +tls
# and dig +tls answering from the zone over DNS over TLS on 853, a self-signed
# certificate whose logged fingerprint is the one served, tapird -t and a
# reload refusing a key that does not match with FILE:LINE, a reload to a
# new certificate seen by a new connection while a download over the old
# one completes, a certificate replaced on disk served after a reload, a
# bounded handshake flood that neither starves an established connection
# nor outlives its deadline, and a key only root can read loaded before
# tapird drops its privileges.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init

ADDR6=fd00::2
HOST6=fd00::1
WWW=$TL_TMP/www
mkdir -p "$WWW"
printf '<h1>tapir over tls</h1>\n' >"$WWW/index.html"
head -c 1000 /dev/urandom >"$WWW/r.bin"
head -c 20M /dev/urandom >"$WWW/big.bin"
head -c 100M /dev/urandom >"$WWW/huge.bin"

# mkcert NAME: a self-signed ECDSA certificate for tapird's addresses.
mkcert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TL_TMP/$1.key" -out "$TL_TMP/$1.pem" -days 2 \
		-subj "/CN=$1" \
		-addext "subjectAltName=IP:$TAPIR_ADDR,IP:$ADDR6,DNS:tapir" \
		2>"$TL_TMP/$1.err"
}
{ mkcert one && mkcert two && mkcert three && mkcert other; } ||
	bail "openssl makes certificates" "$(cat "$TL_TMP"/*.err)"
# What the clients trust: every certificate tapird serves in this test.
cat "$TL_TMP/one.pem" "$TL_TMP/two.pem" "$TL_TMP/three.pem" >"$TL_TMP/both.pem"
fpr() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/.*=//'; }

# write_conf CERT KEY [REDIRECT]: the configuration with http's certificate
# and key (and https_redirect = REDIRECT, default false).
write_conf() {
	cat >"$TL_TMP/tapir.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  address6 = [ "$ADDR6/64" ];
  host_address6 = "$HOST6/64";
};
control = { socket = "$TL_TMP/ctl.sock"; };
modules = (
  { name = "http";
    port = 80;
    root = "$WWW";
    access_log = "off";
    tls_port = 443;
    https_redirect = ${3:-false};
    hsts_max_age = 600;
    tls = { certificate = "$1";
            key = "$2";
            min_version = "TLSv1.2";
            handshake_timeout = 3;
            max_handshakes = 64; };
  },
  { name = "dns";
    port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A 10.0.0.2",
                            "www A 10.0.0.2", "www AAAA fd00::2" ]; } );
    tls = { self_signed = true; };
  }
);
EOF
}

# ---- tapird -t: a key that does not match its certificate ----------------
write_conf "$TL_TMP/one.pem" "$TL_TMP/other.key"
line=$(grep -n 'key = ' "$TL_TMP/tapir.conf" | head -n 1 | cut -d: -f1)
"$TAPIRD" -t -c "$TL_TMP/tapir.conf" >"$TL_TMP/t.out" 2>&1
rc=$?
check "tapird -t refuses a key that does not match, with FILE:LINE" "@$TL_TMP/t.out" \
	sh -c "[ $rc -ne 0 ] && grep -q '$TL_TMP/tapir.conf:$line:.*does not match' '$TL_TMP/t.out'"
check "the key's content is never printed" "@$TL_TMP/t.out" \
	sh -c "! grep -q 'PRIVATE KEY' '$TL_TMP/t.out'"

write_conf "$TL_TMP/one.pem" "$TL_TMP/one.key"
"$TAPIRD" -t -c "$TL_TMP/tapir.conf" >"$TL_TMP/t.out" 2>&1
check "tapird -t accepts the matching pair" "@$TL_TMP/t.out" test $? -eq 0

tl_start_with "$TL_TMP/tapir.conf"
pid=$LAB_TAPIRD_PID

URL=https://$TAPIR_ADDR
CURL=(in_ns timeout 30 curl -s --cacert "$TL_TMP/both.pem")

# ---- HTTPS with curl -------------------------------------------------------
got=$("${CURL[@]}" -o "$TL_TMP/body" -D "$TL_TMP/head" -w '%{http_code} %{ssl_verify_result}' "$URL/")
check "curl --cacert GET / over HTTPS (IPv4): 200, verified" "got: $got" \
	sh -c "[ '$got' = '200 0' ] && cmp -s '$WWW/index.html' '$TL_TMP/body'"
check "HTTPS responses carry Strict-Transport-Security" "@$TL_TMP/head" \
	grep -qi '^Strict-Transport-Security: max-age=600' "$TL_TMP/head"
got=$("${CURL[@]}" -o "$TL_TMP/body" -w '%{http_code}' -g "https://[$ADDR6]/r.bin")
check "curl --cacert GET over HTTPS (IPv6): 200, the file" "got: $got" \
	sh -c "[ '$got' = 200 ] && cmp -s '$WWW/r.bin' '$TL_TMP/body'"
got=$("${CURL[@]}" -o "$TL_TMP/body" -w '%{http_code}' -r 100-199 "$URL/r.bin")
check "Range over HTTPS: 206 and the 100 bytes" "got: $got" \
	bash -c "[ '$got' = 206 ] && cmp -s '$TL_TMP/body' <(tail -c +101 '$WWW/r.bin' | head -c 100)"
"${CURL[@]}" -v -o /dev/null -o /dev/null "$URL/" "$URL/r.bin" 2>"$TL_TMP/ka.err"
check "keep-alive over HTTPS: the second request reuses the connection" "@$TL_TMP/ka.err" \
	grep -q 'Re-using existing connection' "$TL_TMP/ka.err"
got=$(in_ns timeout 10 curl -s -o /dev/null -D "$TL_TMP/head" -w '%{http_code}' "http://$TAPIR_ADDR/r.bin")
check "plain HTTP keeps serving and sends no Strict-Transport-Security" "got: $got" \
	sh -c "[ '$got' = 200 ] && ! grep -qi '^Strict-Transport' '$TL_TMP/head'"
"${CURL[@]}" -o "$TL_TMP/big.out" "$URL/big.bin"
check "a 20 MiB file over HTTPS is byte-identical" "sizes: $(stat -c %s "$TL_TMP/big.out" 2>&1)" \
	cmp -s "$WWW/big.bin" "$TL_TMP/big.out"
want=$(sha256sum <"$WWW/huge.bin" | cut -d' ' -f1)
got=$(in_ns timeout 120 curl -s --cacert "$TL_TMP/both.pem" "$URL/huge.bin" | sha256sum | cut -d' ' -f1)
check "a 100 MiB file over HTTPS is byte-identical (sha256)" "want $want got $got" \
	test "$want" = "$got"
in_ns nft -f - <<EOF 2>"$TL_TMP/nft.err"
table inet tapirtls {
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
got=$(in_ns timeout 240 curl -s --cacert "$TL_TMP/both.pem" "$URL/huge.bin" | sha256sum | cut -d' ' -f1)
check "the 100 MiB file over HTTPS under 2% loss is byte-identical (sha256)" \
	"want $want got $got" test "$want" = "$got"
in_ns nft delete table inet tapirtls >/dev/null 2>&1

# ---- openssl s_client: versions, ALPN, resumption --------------------------
sclient() { # ARGS...: one s_client session that sends a request
	printf 'GET / HTTP/1.1\r\nHost: tapir\r\nConnection: close\r\n\r\n' |
		in_ns timeout 10 openssl s_client -connect "$TAPIR_ADDR:443" \
			-CAfile "$TL_TMP/both.pem" -servername tapir -ign_eof "$@" 2>&1
}
sclient -tls1_3 -alpn http/1.1 >"$TL_TMP/s13"
check "s_client -tls1_3: TLSv1.3, verified, ALPN http/1.1, a page" "@$TL_TMP/s13" \
	sh -c "grep -q 'Protocol *: TLSv1.3' '$TL_TMP/s13' && grep -q 'Verify return code: 0' '$TL_TMP/s13' &&
	       grep -q 'ALPN protocol: http/1.1' '$TL_TMP/s13' && grep -q 'tapir over tls' '$TL_TMP/s13'"
sclient -tls1_2 >"$TL_TMP/s12"
check "s_client -tls1_2 succeeds" "@$TL_TMP/s12" \
	sh -c "grep -q 'Protocol *: TLSv1.2' '$TL_TMP/s12' && grep -q 'tapir over tls' '$TL_TMP/s12'"
sclient -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' >"$TL_TMP/s11"
check "s_client -tls1_1 is refused" "@$TL_TMP/s11" \
	sh -c "! grep -q 'tapir over tls' '$TL_TMP/s11'"
sclient -tls1_3 -sess_out "$TL_TMP/sess" >/dev/null
sclient -tls1_3 -sess_in "$TL_TMP/sess" >"$TL_TMP/sres"
check "a resumed session is reported as reused" "@$TL_TMP/sres" \
	grep -q '^Reused, TLSv1.3' "$TL_TMP/sres"

# ---- testssl.sh: protocols, ciphers, vulnerabilities -------------------------
# (not the certificate: the test's own is self-signed, which it rates NOT ok)
in_ns timeout 300 testssl --nodns none --color 0 --warnings off -p -s -U \
	"https://$TAPIR_ADDR:443/" >"$TL_TMP/testssl" 2>&1
check "testssl.sh: TLS 1.3 and 1.2 only, no weak cipher category, no vulnerability" \
	"@$TL_TMP/testssl" \
	sh -c "grep -q 'TLS 1.3 *offered (OK)' '$TL_TMP/testssl' &&
	       grep -q 'TLS 1.1 *not offered' '$TL_TMP/testssl' &&
	       grep -q 'Strong encryption (AEAD ciphers) *offered (OK)' '$TL_TMP/testssl' &&
	       grep -q 'RC4 (CVE' '$TL_TMP/testssl' &&
	       ! grep -Eq 'NOT ok|VULNERABLE|CRITICAL|potentially' '$TL_TMP/testssl'"

# ---- DNS over TLS, self-signed ---------------------------------------------
logged=$(sed -n 's/.*self-signed certificate made.*fingerprint \([0-9A-F:]*\).*/\1/p' "$TL_LOG" | tail -n 1)
in_ns timeout 10 openssl s_client -connect "$TAPIR_ADDR:853" -alpn dot </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//' >"$TL_TMP/dotfpr"
check "self_signed: the fingerprint logged is the certificate served on 853" \
	"logged '$logged', served '$(cat "$TL_TMP/dotfpr")'" \
	sh -c "[ -n '$logged' ] && [ '$logged' = \"\$(cat '$TL_TMP/dotfpr')\" ]"
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" status >"$TL_TMP/status" 2>&1
check "tapirctl status shows the self-signed certificate's fingerprint" "@$TL_TMP/status" \
	grep -q "^tls *self-signed, SHA-256 $logged\$" "$TL_TMP/status"
"$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats >"$TL_TMP/stats" 2>&1
check "tapirctl stats counts DoT handshakes by version" "@$TL_TMP/stats" \
	grep -q '^module_dns_tls_version_13 *[1-9]' "$TL_TMP/stats"
in_ns timeout 10 kdig +tls +short @"$TAPIR_ADDR" -p 853 www.lab.test A >"$TL_TMP/kdig" 2>&1
check "kdig +tls gets the A record over DNS over TLS" "@$TL_TMP/kdig" \
	grep -qx '10.0.0.2' "$TL_TMP/kdig"
in_ns timeout 10 dig +tls +short @"$TAPIR_ADDR" -p 853 www.lab.test A >"$TL_TMP/dig" 2>&1
check "dig +tls gets the A record over DNS over TLS" "@$TL_TMP/dig" \
	grep -qx '10.0.0.2' "$TL_TMP/dig"
in_ns timeout 10 kdig +tls +short @"$ADDR6" -p 853 www.lab.test AAAA >"$TL_TMP/kdig6" 2>&1
check "kdig +tls over IPv6 gets the AAAA record" "@$TL_TMP/kdig6" \
	grep -qx 'fd00::2' "$TL_TMP/kdig6"
in_ns timeout 10 kdig +tls @"$TAPIR_ADDR" -p 853 +keepopen www.lab.test A ns1.lab.test A \
	>"$TL_TMP/kdig2" 2>&1
check "two queries over one DoT connection both answered" "@$TL_TMP/kdig2" \
	sh -c "[ \$(grep -c 'status: NOERROR' '$TL_TMP/kdig2') -eq 2 ]"

# ---- reload: a new certificate, an old download continues ------------------
in_ns timeout 60 curl -s --cacert "$TL_TMP/both.pem" --limit-rate 4M \
	-o "$TL_TMP/slow.out" "$URL/big.bin" &
slow=$!
sleep 1
write_conf "$TL_TMP/two.pem" "$TL_TMP/two.key" true
kill -HUP "$pid"
newcert() {
	in_ns timeout 5 openssl s_client -connect "$TAPIR_ADDR:443" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
want=$(fpr "$TL_TMP/two.pem")
# shellcheck disable=SC2317 # called through tl_wait
sees_new() { [ "$(newcert)" = "$want" ]; }
check "after reload a new connection gets the new certificate" "log: $(tail -n 5 "$TL_LOG")" \
	tl_wait 50 sees_new
wait "$slow"
check "the download started before the reload completes, byte-identical" \
	"sizes: $(stat -c %s "$TL_TMP/slow.out" 2>&1)" cmp -s "$WWW/big.bin" "$TL_TMP/slow.out"
got=$(in_ns timeout 10 curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	-H 'Host: tapir:80' "http://$TAPIR_ADDR/r.bin?x=1")
check "https_redirect (from the reload): plain HTTP gets 301 to https://" "got: $got" \
	test "$got" = "301 https://tapir/r.bin?x=1"
got=$("${CURL[@]}" -L -o "$TL_TMP/body" -w '%{http_code} %{num_redirects}' \
	--resolve "tapir:443:$TAPIR_ADDR" --resolve "tapir:80:$TAPIR_ADDR" "http://tapir/r.bin")
check "curl -L follows it to the file over HTTPS" "got: $got" \
	sh -c "[ '$got' = '200 1' ] && cmp -s '$WWW/r.bin' '$TL_TMP/body'"

write_conf "$TL_TMP/two.pem" "$TL_TMP/other.key" true
line=$(grep -n 'key = ' "$TL_TMP/tapir.conf" | head -n 1 | cut -d: -f1)
before=$(tl_log_lines)
kill -HUP "$pid"
# shellcheck disable=SC2317 # called through tl_wait
refused() { tail -n +"$((before + 1))" "$TL_LOG" | grep -q "tapir.conf:$line:.*does not match"; }
check "a reload with a mismatched key is refused with FILE:LINE" \
	"log: $(tail -n 5 "$TL_LOG")" tl_wait 50 refused
got=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$URL/")
check "HTTPS keeps working with the certificate it had" "got $got, cert $(newcert)" \
	sh -c "[ '$got' = 200 ] && [ '$(newcert)' = '$want' ]"

# The files replaced in place (as a renewal does) under the same settings.
write_conf "$TL_TMP/two.pem" "$TL_TMP/two.key" true
cp "$TL_TMP/three.pem" "$TL_TMP/two.pem"
cp "$TL_TMP/three.key" "$TL_TMP/two.key"
want=$(fpr "$TL_TMP/three.pem")
kill -HUP "$pid"
check "a certificate replaced on disk is served after a reload with the same settings" \
	"log: $(tail -n 5 "$TL_LOG")" tl_wait 50 sees_new

# ---- a bounded handshake flood ---------------------------------------------
cat >"$TL_TMP/flood.py" <<'PY'
import socket, ssl, sys, time
addr, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = False
def get(s):
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: tapir\r\n\r\n")
    buf = b""
    end = time.time() + 5
    while b"tapir over tls" not in buf and time.time() < end:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return b"tapir over tls" in buf
est = ctx.wrap_socket(socket.create_connection((addr, 443), timeout=5))
ok1 = get(est)
half = []
t0 = time.time()
for i in range(200):
    try:
        s = socket.create_connection((addr, 443), timeout=2)
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
        half.append(s)
    except OSError:
        pass
ok2 = all(get(est) for _ in range(20))
time.sleep(4)  # past handshake_timeout
ok3 = False
try:
    s = ctx.wrap_socket(socket.create_connection((addr, 443), timeout=5))
    ok3 = get(s)
except OSError as e:
    print("new connection:", e)
print("established-before", ok1, "during-flood", ok2, "after-deadline", ok3,
      "half-open", len(half))
sys.exit(0 if ok1 and ok2 and ok3 else 1)
PY
in_ns timeout 40 python3 "$TL_TMP/flood.py" "$TAPIR_ADDR" "$TL_TMP/both.pem" >"$TL_TMP/flood.out" 2>&1
check "200 half-done handshakes: an established connection is served throughout, new ones after the deadline" \
	"@$TL_TMP/flood.out" test $? -eq 0
"${CURL[@]}" -o "$TL_TMP/metrics" "$URL/metrics"
check "/metrics counts handshakes, the cap and the deadline" "@$TL_TMP/metrics" \
	sh -c "grep -q 'module=\"http\",counter=\"tls_handshakes\"} [1-9]' '$TL_TMP/metrics' &&
	       grep -q 'counter=\"tls_fail_limit\"} [1-9]' '$TL_TMP/metrics' &&
	       grep -q 'counter=\"tls_fail_timeout\"} [1-9]' '$TL_TMP/metrics' &&
	       grep -q 'counter=\"tls_version_13\"} [1-9]' '$TL_TMP/metrics' &&
	       grep -q 'counter=\"tls_resumed\"} [1-9]' '$TL_TMP/metrics'"
check "tapird is still running" "tapird exited" lab_tapird_running
errs=$(tl_error_lines | grep -v 'does not match\|reload\|configuration')
check "no error lines in tapird's log but the refused reload" "$errs" test -z "$errs"

# ---- privileges: the key is read as root, before they are dropped -------------
lab_stop_tapird TERM
pub=$(mktemp -d /tmp/tapir-tls-pub.XXXXXX) || bail "a directory for nobody"
lab_on_exit "rm -rf -- '$pub'"
mkdir -p "$pub/www" "$pub/mods"
cp "$WWW/index.html" "$pub/www/"
cp "$TAPIR_MODULE_DIR/http.so" "$pub/mods/" || bail "http.so copied"
cp "$TL_TMP/one.pem" "$TL_TMP/one.key" "$pub/"
chmod -R a+rX "$pub"
chmod 600 "$pub/one.key" # root's only
cat >"$pub/tapir.conf" <<EOF
$(tl_iface_conf)
module_dir = "$pub/mods";
user = "nobody";
group = "nogroup";
modules = (
  { name = "http"; port = 80; root = "$pub/www"; access_log = "off";
    tls = { certificate = "$pub/one.pem"; key = "$pub/one.key"; }; }
);
EOF
chmod 644 "$pub/tapir.conf"
tl_start_with "$pub/tapir.conf"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$LAB_TAPIRD_PID/status")
got=$("${CURL[@]}" -o "$TL_TMP/body" -w '%{http_code}' "$URL/")
check "running as nobody, HTTPS serves with a key only root can read" "uid $uid, got $got" \
	sh -c "[ '$uid' = 65534 ] && [ '$got' = 200 ] && cmp -s '$WWW/index.html' '$TL_TMP/body'"

tl_done
