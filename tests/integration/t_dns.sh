#!/bin/bash
# The dns module answers dig in the lab: every record type of the example
# zone, automatic PTR, a CNAME chain, NXDOMAIN and NODATA with the SOA in
# AUTHORITY, REFUSED outside the zones, DNS over TCP, truncation at 512
# bytes followed by dig's TCP retry, BADVERS for EDNS version 1, NOTIMP for
# an unknown opcode, and a record added by SIGHUP.  The conditions are
# strings that check() evals after dig ran, hence single quotes.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
command -v dig >/dev/null || bail "dig is installed" "apt-get install dnsutils (scripts/deps)"

conf=$TL_TMP/tapir.conf
out=$TL_TMP/dig.out

# write_conf EXTRA_RECORD: the SPEC's example zone, a CNAME chain, an
# empty non-terminal, a large RRset, and EXTRA_RECORD when given.
write_conf() {
	local extra=${1:+, \"$1\"} big="" i
	for i in $(seq 1 40); do
		big="$big, \"big A 10.0.1.$i\""
	done
	cat >"$conf" <<CONF
$(tl_iface_conf)
modules = (
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "@ NS ns1", "ns1 A 10.0.0.2",
                            "www A 10.0.0.2", "www AAAA fd00::2",
                            "mail MX 10 mx1", "mx1 A 10.0.0.3",
                            "alias CNAME www", "@ TXT \"v=lab\"",
                            "_http._tcp SRV 0 0 80 www",
                            "c1 CNAME c2", "c2 CNAME alias",
                            "host.sub A 10.0.0.9"$big$extra ]; } ); }
);
CONF
}

# q ARGS...: dig at tapir, no recursion asked, one try.
q() {
	in_ns timeout 10 dig @"$TAPIR_ADDR" +norec +time=2 +tries=1 "$@" >"$out" 2>&1
}
status_is() { grep -q "status: $1," "$out"; }
# The header flags dig printed, e.g. "qr aa".
flags() { sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' "$out"; }
flags_are() { [ "$(flags)" = "$1" ]; }
# Lines of a section (ANSWER, AUTHORITY, ADDITIONAL) as "name ttl class type data".
section() {
	awk -v s=";; $1 SECTION:" '$0 == s {on = 1; next} on && /^$/ {on = 0} on' "$out" |
		awk '{$1 = $1; print}'
}
has() { section "$1" | grep -qx -- "$2"; }
count_is() { [ "$(section "$1" | wc -l)" -eq "$2" ]; }

write_conf
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

q www.lab.test A
check "A: www.lab.test is 10.0.0.2, NOERROR, flags qr aa (no ra)" "@$out" \
	eval 'status_is NOERROR && flags_are "qr aa" && has ANSWER "www.lab.test. 3600 IN A 10.0.0.2" && count_is ANSWER 1'
q www.lab.test AAAA
check "AAAA: www.lab.test is fd00::2" "@$out" \
	eval 'status_is NOERROR && has ANSWER "www.lab.test. 3600 IN AAAA fd00::2"'
q mail.lab.test MX
check "MX: 10 mx1.lab.test, its address in ADDITIONAL" "@$out" \
	eval 'has ANSWER "mail.lab.test. 3600 IN MX 10 mx1.lab.test." && has ADDITIONAL "mx1.lab.test. 3600 IN A 10.0.0.3"'
q lab.test TXT
check "TXT: \"v=lab\" at the apex" "@$out" \
	eval 'has ANSWER "lab.test. 3600 IN TXT \"v=lab\""'
q _http._tcp.lab.test SRV
check "SRV: 0 0 80 www.lab.test" "@$out" \
	eval 'has ANSWER "_http._tcp.lab.test. 3600 IN SRV 0 0 80 www.lab.test."'
q -x 10.0.0.3
check "PTR (automatic): 10.0.0.3 is mx1.lab.test, AA" "@$out" \
	eval 'status_is NOERROR && flags_are "qr aa" && has ANSWER "3.0.0.10.in-addr.arpa. 3600 IN PTR mx1.lab.test."'
q -x fd00::2
check "PTR (automatic, IPv6): fd00::2 is www.lab.test" "@$out" \
	eval 'has ANSWER "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 3600 IN PTR www.lab.test."'
q c1.lab.test A
check "CNAME chain c1 -> c2 -> alias -> www followed to the A record" "@$out" \
	eval 'status_is NOERROR && has ANSWER "c1.lab.test. 3600 IN CNAME c2.lab.test." && has ANSWER "c2.lab.test. 3600 IN CNAME alias.lab.test." && has ANSWER "alias.lab.test. 3600 IN CNAME www.lab.test." && has ANSWER "www.lab.test. 3600 IN A 10.0.0.2"'
q nosuch.lab.test A
check "NXDOMAIN with the SOA in AUTHORITY (TTL min(3600, 60))" "@$out" \
	eval 'status_is NXDOMAIN && flags_are "qr aa" && count_is ANSWER 0 && has AUTHORITY "lab.test. 60 IN SOA ns1.lab.test. hostmaster.lab.test. 1 3600 600 86400 60"'
q www.lab.test MX
check "NODATA: NOERROR, no answer, the SOA in AUTHORITY" "@$out" \
	eval 'status_is NOERROR && count_is ANSWER 0 && has AUTHORITY "lab.test. 60 IN SOA ns1.lab.test. hostmaster.lab.test. 1 3600 600 86400 60"'
q sub.lab.test A
check "empty non-terminal sub.lab.test: NODATA, not NXDOMAIN" "@$out" \
	eval 'status_is NOERROR && count_is ANSWER 0 && section AUTHORITY | grep -q SOA'
q www.example.com A
check "outside our zones: REFUSED, no AA" "@$out" \
	eval 'status_is REFUSED && flags_are "qr"'
q +tcp www.lab.test A
check "+tcp: A over TCP" "@$out" \
	eval 'status_is NOERROR && has ANSWER "www.lab.test. 3600 IN A 10.0.0.2" && grep -q "(TCP)" "$out"'
q +tcp +keepopen www.lab.test A mx1.lab.test A nosuch.lab.test A
check "+tcp +keepopen: three queries on one connection, three answers" "@$out" \
	eval '[ "$(grep -c "status: NOERROR," "$out")" -eq 2 ] && status_is NXDOMAIN && has ANSWER "mx1.lab.test. 3600 IN A 10.0.0.3"'
# The counters (SIGUSR1): two TCP connections so far, +tcp's and that one.
kill -USR1 "$pid"
tcp_conns_2() { grep -q "module_dns_tcp_connections 2\$" "$TL_LOG"; }
check "the three queries shared one TCP connection (module_dns_tcp_connections 2)" \
	"$(grep module_dns "$TL_LOG")" tl_wait 30 tcp_conns_2
q +bufsize=512 +ignore big.lab.test A
check "+bufsize=512 on 40 A records: TC set, answer left out" "@$out" \
	eval 'flags_are "qr aa tc" && count_is ANSWER 0'
q +bufsize=512 big.lab.test A
check "+bufsize=512: dig retries over TCP and gets all 40 records" "@$out" \
	eval 'grep -q "Truncated, retrying in TCP mode" "$out" && count_is ANSWER 40 && status_is NOERROR'
q +edns=1 +noednsneg www.lab.test A
check "+edns=1: BADVERS, OPT version 0" "@$out" \
	eval 'status_is BADVERS && grep -q "EDNS: version: 0" "$out" && count_is ANSWER 0'
q +edns=0 www.lab.test A
check "EDNS0: OPT echoed with our payload size 1232" "@$out" \
	eval 'grep -q "EDNS: version: 0, flags:; udp: 1232" "$out"'
q +opcode=15 www.lab.test A
check "+opcode=15: NOTIMP" "@$out" eval 'status_is NOTIMP'
q WwW.LaB.TeSt A
check "the question's case is echoed" "@$out" \
	eval 'grep -q "^;WwW.LaB.TeSt.[[:space:]]*IN[[:space:]]*A$" "$out" && status_is NOERROR'

# SIGHUP with one more record: it resolves, the old ones still do.
write_conf "new A 10.0.0.77"
kill -HUP "$pid"
resolves_new() { q new.lab.test A && has ANSWER "new.lab.test. 3600 IN A 10.0.0.77"; }
check "SIGHUP adding new.lab.test: it resolves" "@$out" tl_wait 50 resolves_new
q www.lab.test A
check "after SIGHUP: www.lab.test still answers" "@$out" \
	eval 'has ANSWER "www.lab.test. 3600 IN A 10.0.0.2"'
check "tapird logged no errors" "$(tl_error_lines)" eval '[ -z "$(tl_error_lines)" ]'
tl_done
