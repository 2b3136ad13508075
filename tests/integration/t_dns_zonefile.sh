#!/bin/bash
# The dns module serves a zone read from a master file: $ORIGIN, $TTL,
# parentheses and an $INCLUDE from a subdirectory; wildcards (a match
# below a wildcard, NODATA at a name that exists, NXDOMAIN below a name
# that is no wildcard); CAA, SSHFP, TLSA, HTTPS, SVCB, NAPTR, DS and a
# generic TYPE65534 as dig and kdig print them; a delegation answered
# with a referral (AA clear, glue in ADDITIONAL) and its DS from the
# parent; CHAOS version.bind and id.server.  tapird -t names the zone
# file's line at fault and refuses an $INCLUDE that leaves the directory;
# a zone file edited without a reload is read again after zone_file_check;
# a SIGHUP with a broken zone file keeps the old zone serving, and one
# with a repaired file serves the new one.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
command -v dig >/dev/null || bail "dig is installed" "apt-get install dnsutils (scripts/deps)"
command -v kdig >/dev/null || bail "kdig is installed" "apt-get install knot-dnsutils (scripts/deps)"

conf=$TL_TMP/tapir.conf
zdir=$TL_TMP/zones
out=$TL_TMP/dig.out
mkdir -p "$zdir/sub"
version=$("$TAPIRD" -V | awk '{print $2}')
digest=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# write_conf TTL CHAOS: the dns module with the zone file (and one inline
# record beside it); TTL is default_ttl, which only makes the text differ.
write_conf() {
	cat >"$conf" <<CONF
$(tl_iface_conf)
modules = (
  { name = "dns"; port = 53; default_ttl = $1; chaos = $2;
    server_id = "lab-ns-1"; zone_file_check = 1;
    zones = ( { name = "zf.test"; zone_file = "zones/zf.zone";
                records = [ "inline A 10.0.0.99" ]; } ); }
);
CONF
}

write_zone() {
	cat >"$zdir/zf.zone" <<ZONE
; the lab zone, as a master file
\$ORIGIN zf.test.
\$TTL 300
@       IN  SOA ns1 hostmaster (
                2026120701 ; serial
                3600 600 86400 60 )
        IN  NS  ns1
ns1         A   10.0.0.2
www     60  A   10.0.0.2
\$INCLUDE sub/inc.zone
*.wild      A   10.0.0.50
            TXT "wild \"one\"" ; the owner of the line before
one.wild    A   10.0.0.51
deep.ent.wild A 10.0.0.52
@           CAA 0 issue "letsencrypt.org"
@           CAA 128 iodef "mailto:sec@zf.test"
host        SSHFP 4 2 ( $digest )
_443._tcp.www TLSA 3 1 1 $digest
www         HTTPS 1 . alpn=h2,h3 port=8443 ipv4hint=10.0.0.2 ipv6hint=fd00::2
svc         SVCB 2 www.zf.test. mandatory=alpn alpn="h2" no-default-alpn
sip         NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
gen         TYPE65534 \\# 4 0a000001
child       NS  ns.child
ns.child    A   10.0.0.60
child       DS  12345 13 2 $digest
$1
ZONE
	cat >"$zdir/sub/inc.zone" <<ZONE
\$ORIGIN inc.zf.test.
a   A 10.0.0.70   ; a.inc.zf.test, relative to the included origin
ZONE
}

# q TOOL ARGS...: dig or kdig at tapir, no recursion asked, one try.
q() {
	local tool=$1
	shift
	if [ "$tool" = dig ]; then
		in_ns timeout 10 dig @"$TAPIR_ADDR" +norec +time=2 +tries=1 "$@" >"$out" 2>&1
	else
		in_ns timeout 10 kdig @"$TAPIR_ADDR" +norec +time=2 +retry=0 "$@" >"$out" 2>&1
	fi
}
status_is() { grep -qi "status: $1" "$out"; }
# dig's header flags, e.g. "qr aa".
flags() { sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' "$out"; }
# Lines of a section (ANSWER, AUTHORITY, ADDITIONAL), blanks squeezed.
section() {
	awk -v s="$1 SECTION:" 'index($0, s) {on = 1; next} on && /^$/ {on = 0} on' "$out" |
		awk '{$1 = $1; print}'
}
has() { section "$1" | grep -qixF -- "$2"; }
# A line of +short output (kdig ends its lines with a blank).
short_has() { sed 's/[[:space:]]*$//' "$out" | grep -qxF -- "$1"; }

# ---- tapird -t: errors in the zone file with its FILE:LINE ----
write_conf 3600 true
cat >"$zdir/zf.zone" <<'ZONE'
$TTL 300
@  SOA ns1 hostmaster 1 3600 600 86400 60
x  5q  A 10.0.0.1
$INCLUDE ../escape.zone
ZONE
echo 'e A 10.0.0.1' >"$TL_TMP/escape.zone"
ln -sf "$TL_TMP/escape.zone" "$zdir/link.zone"
echo '$INCLUDE link.zone' >>"$zdir/zf.zone"
in_ns env TAPIR_MODULE_DIR="$TAPIR_MODULE_DIR" timeout 10 "$TAPIRD" -t -c "$conf" \
	>"$TL_TMP/t.out" 2>&1
rc=$?
check "tapird -t: exit 1 with a broken zone file" "@$TL_TMP/t.out" eval '[ $rc -eq 1 ]'
check "tapird -t: zf.zone:3: bad TTL \"5q\"" "@$TL_TMP/t.out" \
	grep -q 'zf.zone:3: bad TTL "5q"' "$TL_TMP/t.out"
check "tapird -t: \$INCLUDE ../escape.zone refused (zf.zone:4)" "@$TL_TMP/t.out" \
	grep -q 'zf.zone:4: $INCLUDE ../escape.zone: ".." leaves' "$TL_TMP/t.out"
check "tapird -t: \$INCLUDE of a symbolic link out of the directory refused (zf.zone:5)" \
	"@$TL_TMP/t.out" grep -q "zf.zone:5: \$INCLUDE link.zone: outside the zone file's directory" "$TL_TMP/t.out"

write_zone ""
in_ns env TAPIR_MODULE_DIR="$TAPIR_MODULE_DIR" timeout 10 "$TAPIRD" -t -c "$conf" \
	>"$TL_TMP/t.out" 2>&1
check "tapird -t accepts the zone file" "@$TL_TMP/t.out" eval '[ $? -eq 0 ]'

tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

# ---- the master file's syntax ----
q dig www.zf.test A
check "www: A 10.0.0.2 with its own TTL 60, AA" "@$out" \
	eval 'status_is NOERROR && [ "$(flags)" = "qr aa" ] && has ANSWER "www.zf.test. 60 IN A 10.0.0.2"'
q dig ns1.zf.test A
check "ns1: \$TTL 300 applies" "@$out" eval 'has ANSWER "ns1.zf.test. 300 IN A 10.0.0.2"'
q dig zf.test SOA
check "SOA across parentheses with comments" "@$out" \
	eval 'has ANSWER "zf.test. 300 IN SOA ns1.zf.test. hostmaster.zf.test. 2026120701 3600 600 86400 60"'
q dig zf.test NS
check "NS with the owner of the line before (the apex)" "@$out" \
	eval 'has ANSWER "zf.test. 300 IN NS ns1.zf.test."'
q dig a.inc.zf.test A
check "\$INCLUDE sub/inc.zone with its own \$ORIGIN: a.inc.zf.test" "@$out" \
	eval 'has ANSWER "a.inc.zf.test. 300 IN A 10.0.0.70"'
q dig inline.zf.test A
check "inline records beside zone_file" "@$out" eval 'has ANSWER "inline.zf.test. 3600 IN A 10.0.0.99"'

# ---- wildcards (RFC 4592) ----
q dig x.wild.zf.test A
check "wildcard: x.wild.zf.test gets the A of *.wild, owner x.wild" "@$out" \
	eval 'status_is NOERROR && has ANSWER "x.wild.zf.test. 300 IN A 10.0.0.50"'
q kdig a.b.wild.zf.test TXT
check "wildcard two labels below (kdig): TXT with its escaped quotes" "@$out" \
	eval 'status_is NOERROR && has ANSWER "a.b.wild.zf.test. 300 IN TXT \"wild \\\"one\\\"\""'
q dig one.wild.zf.test TXT
check "one.wild exists: NODATA, the wildcard does not apply" "@$out" \
	eval 'status_is NOERROR && [ -z "$(section ANSWER)" ] && section AUTHORITY | grep -q SOA'
q dig x.ent.wild.zf.test A
check "below the empty non-terminal ent.wild: NXDOMAIN, *.wild does not reach it" "@$out" \
	eval 'status_is NXDOMAIN'
q dig ent.wild.zf.test A
check "the empty non-terminal itself: NODATA" "@$out" \
	eval 'status_is NOERROR && [ -z "$(section ANSWER)" ]'
q dig nosuch.www.zf.test A
check "below www (no wildcard there): NXDOMAIN" "@$out" \
	eval 'status_is NXDOMAIN && section AUTHORITY | grep -q SOA'

# ---- the new types ----
q dig +short zf.test CAA
check "dig +short CAA: issue and iodef" "@$out" \
	eval 'short_has "0 issue \"letsencrypt.org\"" && short_has "128 iodef \"mailto:sec@zf.test\""'
q kdig +short zf.test CAA
check "kdig +short CAA: issue" "@$out" eval 'short_has "0 issue \"letsencrypt.org\""'
q kdig www.zf.test HTTPS
check "kdig HTTPS: alpn, port, ipv4hint, ipv6hint; the owner's address in ADDITIONAL" "@$out" \
	eval 'has ANSWER "www.zf.test. 300 IN HTTPS 1 . alpn=h2,h3 port=8443 ipv4hint=10.0.0.2 ipv6hint=fd00::2" && has ADDITIONAL "www.zf.test. 60 IN A 10.0.0.2"'
q dig +short www.zf.test HTTPS
check "dig +short HTTPS" "@$out" \
	eval 'short_has "1 . alpn=\"h2,h3\" port=8443 ipv4hint=10.0.0.2 ipv6hint=fd00::2" || short_has "1 . alpn=h2,h3 port=8443 ipv4hint=10.0.0.2 ipv6hint=fd00::2"'
q kdig svc.zf.test SVCB
check "kdig SVCB: mandatory, alpn, no-default-alpn" "@$out" \
	eval 'has ANSWER "svc.zf.test. 300 IN SVCB 2 www.zf.test. mandatory=alpn alpn=h2 no-default-alpn"'
q kdig host.zf.test SSHFP
check "kdig SSHFP" "@$out" eval 'has ANSWER "host.zf.test. 300 IN SSHFP 4 2 $digest"'
q dig +short _443._tcp.www.zf.test TLSA
check "dig +short TLSA" "@$out" \
	eval 'tr -d " " <"$out" | grep -qix "311$digest"'
q kdig sip.zf.test NAPTR
check "kdig NAPTR" "@$out" \
	eval 'has ANSWER "sip.zf.test. 300 IN NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.zf.test."'
q dig +short gen.zf.test TYPE65534
check "dig TYPE65534: generic \\# 4 0A000001" "@$out" eval 'short_has "\\# 4 0A000001"'
q kdig gen.zf.test TYPE65534
check "kdig TYPE65534: generic" "@$out" \
	eval 'has ANSWER "gen.zf.test. 300 IN TYPE65534 \\# 4 0A000001"'

# ---- delegation ----
q dig www.child.zf.test A
check "below the cut: referral, NOERROR, AA clear, NS in AUTHORITY, glue in ADDITIONAL" "@$out" \
	eval 'status_is NOERROR && [ "$(flags)" = "qr" ] && [ -z "$(section ANSWER)" ] && has AUTHORITY "child.zf.test. 300 IN NS ns.child.zf.test." && has ADDITIONAL "ns.child.zf.test. 300 IN A 10.0.0.60"'
q kdig ns.child.zf.test A
check "the glue's own name: a referral too (kdig, no aa flag)" "@$out" \
	eval 'status_is NOERROR && ! grep -q "flags:.* aa" "$out" && has AUTHORITY "child.zf.test. 300 IN NS ns.child.zf.test."'
q dig +dnssec child.zf.test DS
check "DS at the cut: answered by the parent, AA" "@$out" \
	eval 'status_is NOERROR && flags | grep -q aa && section ANSWER | tr -d " " | grep -qixF "child.zf.test.300INDS12345132$digest"'

# ---- CHAOS ----
q dig +short version.bind CH TXT
check "CHAOS version.bind: \"$version\"" "@$out" eval 'short_has "\"$version\""'
q kdig id.server CH TXT
check "CHAOS id.server (kdig): server_id" "@$out" \
	eval 'has ANSWER "id.server. 0 CH TXT \"lab-ns-1\""'

# ---- a zone file edited, no reload: read again within zone_file_check ----
write_zone "polled A 10.0.0.90"
polled() { q dig polled.zf.test A && has ANSWER "polled.zf.test. 300 IN A 10.0.0.90"; }
check "zone file edited without a reload: read again (zone_file_check = 1)" "@$out" \
	tl_wait 50 polled
check "... and logged" "$(tail -n 5 "$TL_LOG")" grep -q "zone files changed: read again" "$TL_LOG"

# ---- reload: a broken zone file keeps the old zone ----
write_zone "late A 10.0.0.80"
echo "broken 5x A 10.0.0.81" >>"$zdir/zf.zone"
write_conf 3000 false
kill -HUP "$pid"
logged() { grep -q 'bad TTL "5x"' "$TL_LOG"; }
check "SIGHUP with a broken zone file: the error is logged with its line" \
	"$(tail -n 20 "$TL_LOG")" tl_wait 50 logged
q dig www.zf.test A
check "... and the old zone still serves" "@$out" eval 'has ANSWER "www.zf.test. 60 IN A 10.0.0.2"'
q dig late.zf.test A
check "... without the new record" "@$out" eval 'status_is NXDOMAIN'
write_zone "late A 10.0.0.80"
write_conf 3001 false
kill -HUP "$pid"
late() { q dig late.zf.test A && has ANSWER "late.zf.test. 300 IN A 10.0.0.80"; }
check "SIGHUP with the repaired file: late.zf.test resolves" "@$out" tl_wait 50 late
q dig version.bind CH TXT
check "chaos = false: version.bind REFUSED" "@$out" eval 'status_is REFUSED'

# ---- SIGHUP alone: the section is the same, the zone file is read again ----
write_zone "hup A 10.0.0.79"
kill -HUP "$pid"
hup() { q dig hup.zf.test A && has ANSWER "hup.zf.test. 300 IN A 10.0.0.79"; }
check "SIGHUP with the section unchanged: the edited zone file is read" \
	"@$out" tl_wait 50 hup
tl_done
