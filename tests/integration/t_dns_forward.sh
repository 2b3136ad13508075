#!/bin/bash
# DNS forwarding through tapird to real upstream servers: two unbound
# instances in a second namespace behind the lab's kernel side (routed
# by the lab, which forwards), tapird's gateway and gateway6 the kernel
# side.  dig in the lab asks tapird for names outside its zone: an A and
# AAAA resolve through the upstream; the second ask is a cache hit (the
# TTL went down, the counter moved, the upstream was not asked again);
# NXDOMAIN is cached with the SOA's TTL; an answer too large for UDP
# comes back TC to tapird, which asks again over TCP; a forward zone
# goes to its own server (on port 5300); after a reload with only the
# IPv6 server the names resolve over IPv6; forward = false gives REFUSED.
# The conditions are strings that check() evals, hence single quotes; the
# helpers they call look unused to shellcheck.
# shellcheck disable=SC2016,SC2317
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
tl_init
command -v dig >/dev/null || bail "dig is installed" "apt-get install dnsutils (scripts/deps)"
command -v unbound >/dev/null || bail "unbound is installed" "apt-get install unbound (scripts/deps)"

UP=10.0.1.53
UP6=fd01::53
CORP=10.0.1.54
conf=$TL_TMP/tapir.conf
out=$TL_TMP/dig.out

tl_peer_up "$UP/24" "$UP6/64" "$CORP/24"

# unbound_conf DIR ADDR PORT ZONE-LINES...: a server answering only its
# local zone (everything else REFUSED: it never recurses anywhere).
unbound_conf() {
	local dir=$1 port=$2 line
	shift 2
	mkdir -p "$dir"
	{
		printf 'server:\n'
		printf '  verbosity: 1\n  port: %s\n' "$port"
		printf '  interface: %s\n' "${IFACES[@]}"
		printf '  do-ip6: yes\n  do-daemonize: no\n  username: ""\n'
		printf '  chroot: ""\n  directory: "%s"\n  pidfile: ""\n' "$dir"
		printf '  use-syslog: no\n  logfile: "%s/unbound.log"\n' "$dir"
		printf '  num-threads: 1\n'
		printf '  access-control: 0.0.0.0/0 allow\n  access-control: ::/0 allow\n'
		printf '  local-zone: "." refuse\n'
		for line in "$@"; do
			printf '  %s\n' "$line"
		done
		printf 'remote-control:\n  control-enable: no\n'
	} >"$dir/unbound.conf"
}

up_zone=(
	'local-zone: "up.test." static'
	'local-data: "up.test. 3600 IN SOA ns.up.test. hm.up.test. 1 3600 600 86400 30"'
	'local-data: "www.up.test. 300 IN A 10.0.1.80"'
	'local-data: "www.up.test. 300 IN AAAA fd01::80"'
	'local-data: "six.up.test. 300 IN A 10.0.1.86"'
)
for i in $(seq 1 100); do
	up_zone+=("local-data: \"big.up.test. 300 IN A 10.9.0.$i\"")
done
IFACES=("$UP" "$UP6")
unbound_conf "$TL_TMP/up" 53 "${up_zone[@]}"
IFACES=("$CORP")
unbound_conf "$TL_TMP/corp" 5300 \
	'local-zone: "corp.test." static' \
	'local-data: "corp.test. 3600 IN SOA ns.corp.test. hm.corp.test. 1 3600 600 86400 30"' \
	'local-data: "host.corp.test. 300 IN A 10.0.1.99"'
for d in up corp; do
	in_peer unbound -d -c "$TL_TMP/$d/unbound.conf" >"$TL_TMP/$d/stderr" 2>&1 &
done
up_ready() {
	in_peer dig @"$UP" +time=1 +tries=1 www.up.test A >"$out" 2>&1 &&
		grep -q "status: NOERROR" "$out" &&
		in_peer dig @"$CORP" -p 5300 +time=1 +tries=1 host.corp.test A >"$out" 2>&1 &&
		grep -q "status: NOERROR" "$out"
}
tl_wait 100 up_ready || bail "the upstream servers answer in their namespace" \
	"$(cat "$out" "$TL_TMP/up/stderr" "$TL_TMP/corp/stderr" 2>&1)"

# write_conf DNS-SETTINGS: tapird routed through the lab (gateway,
# gateway6), a zone of its own, and the forwarding settings given.
write_conf() {
	cat >"$conf" <<CONF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  gateway = "$HOST_ADDR";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
  gateway6 = "fd00::1";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
};
modules = (
  { name = "dns"; port = 53;
    zones = ( { name = "lab.test";
                records = [ "@ SOA ns1 hostmaster 1 3600 600 86400 60",
                            "www A 10.0.0.2" ]; } );
    $1 }
);
CONF
}

q() {
	in_ns timeout 10 dig @"$TAPIR_ADDR" +time=3 +tries=1 "$@" >"$out" 2>&1
}
status_is() { grep -q "status: $1," "$out"; }
flags() { sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' "$out"; }
section() {
	awk -v s=";; $1 SECTION:" '$0 == s {on = 1; next} on && /^$/ {on = 0} on' "$out" |
		awk '{$1 = $1; print}'
}
has() { section "$1" | grep -qx -- "$2"; }
count_is() { [ "$(section "$1" | wc -l)" -eq "$2" ]; }
# The TTL of the first record of a section.
ttl_of() { section "$1" | awk 'NR == 1 {print $2}'; }

more_dumps() { [ "$(dumps)" -gt "$1" ]; }
# counter NAME: module_dns_NAME from a fresh SIGUSR1 dump of the counters.
dumps() { grep -c 'module_dns_forwarded ' "$TL_LOG"; }
counter() {
	local before
	before=$(dumps)
	kill -USR1 "$pid"
	tl_wait 30 more_dumps "$before" || return 1
	# A counter still at 0 is not in the dump.
	grep "module_dns_$1 " "$TL_LOG" | tail -n 1 | awk '{v = $NF} END {print v + 0}'
}

write_conf 'upstream = [ "10.0.1.53", "[fd01::53]:53" ];
    forward_zones = ( { name = "corp.test"; upstream = "10.0.1.54:5300"; } );
    forward_timeout = 1000;'
tl_start_with "$conf"
pid=$LAB_TAPIRD_PID

q www.up.test A
check "A www.up.test resolves through tapird to the upstream (not AA)" "@$out" \
	eval 'status_is NOERROR && has ANSWER "www.up.test. 300 IN A 10.0.1.80" && ! flags | grep -qw aa && flags | grep -qw ra'
q www.up.test AAAA
check "AAAA www.up.test resolves through tapird" "@$out" \
	eval 'status_is NOERROR && has ANSWER "www.up.test. 300 IN AAAA fd01::80"'
q www.lab.test A
check "our own zone is still answered by us (AA)" "@$out" \
	eval 'has ANSWER "www.lab.test. 3600 IN A 10.0.0.2" && flags | grep -qw aa'
asked=$(counter upstream_queries)
hits=$(counter cache_hits)
sleep 2.2
q WWW.up.test A
ttl=$(ttl_of ANSWER)
check "the second ask is a cache hit: TTL $ttl below 300, case echoed" "@$out" \
	eval 'status_is NOERROR && [ "${ttl:-300}" -lt 300 ] && [ "$ttl" -ge 290 ] && grep -q "^;WWW.up.test." "$out"'
check "cache hit counted, upstream not asked again" \
	"hits $hits -> $(counter cache_hits), upstream $asked -> $(counter upstream_queries)" \
	eval '[ "$(counter cache_hits)" -eq $((hits + 1)) ] && [ "$(counter upstream_queries)" -eq "$asked" ]'

q nx.up.test A
check "NXDOMAIN from the upstream, its SOA in AUTHORITY" "@$out" \
	eval 'status_is NXDOMAIN && section AUTHORITY | grep -q "^up.test. [0-9]* IN SOA ns.up.test."'
asked=$(counter upstream_queries)
sleep 1.2
q nx.up.test A
soa_ttl=$(ttl_of AUTHORITY)
check "NXDOMAIN is cached: answered again without the upstream, SOA TTL $soa_ttl < 30" \
	"@$out" eval 'status_is NXDOMAIN && [ "${soa_ttl:-30}" -lt 30 ] && [ "$(counter upstream_queries)" -eq "$asked" ]'

tcp=$(counter upstream_tcp)
q +bufsize=4096 big.up.test A
check "100 A records: TC from the upstream over UDP, fetched over TCP (and TC to dig over UDP at 1232 bytes: dig asks again over TCP)" \
	"$(head -c 1500 "$out"; echo "upstream_tcp before: $tcp, now: $(counter upstream_tcp)")" \
	eval 'status_is NOERROR && count_is ANSWER 100 && [ "$(counter upstream_tcp)" -gt "$tcp" ]'
q +bufsize=512 big.up.test A
check "the same for a client of 512 bytes: dig retries over TCP, from the cache" "@$out" \
	eval 'grep -q "Truncated, retrying in TCP mode" "$out" && count_is ANSWER 100'

q host.corp.test A
check "conditional forwarding: corp.test goes to its own server (port 5300)" "@$out" \
	eval 'status_is NOERROR && has ANSWER "host.corp.test. 300 IN A 10.0.1.99"'
in_ns timeout 10 dig @"$UP" +time=3 +tries=1 host.corp.test A >"$out" 2>&1
check "(the other upstream does not know host.corp.test: the answer came from the right one)" "@$out" \
	eval '! status_is NOERROR && ! has ANSWER "host.corp.test. 300 IN A 10.0.1.99"'

# Only the IPv6 server: a reload empties the cache, so this goes upstream.
write_conf 'upstream = "[fd01::53]";'
kill -HUP "$pid"
asked=$(counter upstream_queries)
six() { q six.up.test A && has ANSWER "six.up.test. 300 IN A 10.0.1.86"; }
check "after a reload with only an IPv6 upstream: names resolve over IPv6" "@$out" \
	tl_wait 50 six
check "... asked upstream (the cache was emptied)" "upstream $asked -> $(counter upstream_queries)" \
	eval '[ "$(counter upstream_queries)" -gt "$asked" ]'

write_conf 'upstream = "10.0.1.53"; forward = false;'
kill -HUP "$pid"
refused() { q www.up.test A && status_is REFUSED; }
check "forward = false: names outside our zones are REFUSED again" "@$out" \
	tl_wait 50 refused
check "tapird logged no errors" "$(tl_error_lines)" eval '[ -z "$(tl_error_lines)" ]'
tl_done
