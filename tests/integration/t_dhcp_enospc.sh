#!/bin/bash
# The dhcp and dhcp6 modules' lease files on a full file system: a small
# tmpfs, in a mount namespace of this test's own (so nothing is mounted
# where anything else sees it), is the lease directory.  Once it is full
# real clients (udhcpc, dhclient -6) get no lease, the lease files hold
# none, and tapird logs one line per module naming the file and the cause;
# once space is freed the clients get their leases without a restart, and
# they are in the files.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091,SC2317

# A private mount namespace first: the tmpfs lives and dies with it.
if [ -z "${TL_ENOSPC_PRIVATE-}" ]; then
	command -v unshare >/dev/null || {
		echo "not ok - unshare is installed (util-linux)"
		exit 1
	}
	TL_ENOSPC_PRIVATE=1 exec unshare -m --propagation private -- "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
tl_init

for c in udhcpc dhclient python3; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done

FS=$TL_TMP/leasefs
LEASES=$FS/dhcp.leases
LEASES6=$FS/dhcp6.leases
mkdir -p "$FS" || bail "lease directory made"
mount -t tmpfs -o size=64k,mode=0755 tapir-enospc "$FS" ||
	bail "a 64 KiB tmpfs is mounted on $FS"
lab_on_exit "umount -l '$FS'"

cat >"$TL_TMP/dhcp.conf" <<EOF
interface = {
  name = "$TAP";
  address = "$TAPIR_ADDR/24";
  mac = "$TAPIR_MAC";
  host_address = "$HOST_ADDR/24";
  address6 = [ "fd00::2/64" ];
  host_address6 = "fd00::1/64";
  acd = false;
};
modules = (
  { name = "dhcp";
    pool = [ "10.0.0.100-10.0.0.199" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ];
    lease_file = "$LEASES"; },
  { name = "dhcp6";
    pool = [ "fd00::1000-fd00::1fff" ]; dns = [ "fd00::2" ];
    lease_file = "$LEASES6"; }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF
tl_start_with "$TL_TMP/dhcp.conf"
[ -f "$LEASES" ] || bail "tapird made its lease file in the tmpfs"
[ -f "$LEASES6" ] || bail "tapird made its DHCPv6 lease file in the tmpfs"

# Fill the lease files' last pages with comment lines (the journals ignore
# them), so that their next records need a page of their own, as they do
# after enough appends; then fill the file system.
pad_to_page() {
	local page size pad
	page=$(getconf PAGESIZE)
	size=$(stat -c %s "$1")
	pad=$(((page - size % page) % page))
	[ "$pad" -ge 2 ] || pad=$((pad + page))
	python3 - "$1" "$pad" <<'EOF'
import sys
path, pad = sys.argv[1], int(sys.argv[2])
out = []
while pad:
    n = min(pad, 200)
    if pad - n == 1:
        n -= 1
    out.append("#" + "-" * (n - 2) + "\n")
    pad -= n
with open(path, "a") as f:
    f.write("".join(out))
EOF
}
pad_to_page "$LEASES" || bail "lease file padded to a page"
pad_to_page "$LEASES6" || bail "DHCPv6 lease file padded to a page"
dd if=/dev/zero of="$FS/fill" bs=1k 2>/dev/null
check "the tmpfs is full" "$(df -k "$FS")" [ "$(stat -f -c %a "$FS")" -eq 0 ]

cat >"$TL_TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
{ echo "event=$1"; [ -n "$ip" ] && echo "ip=$ip"; } >>"${REC:-@REC@}"
case $1 in
bound|renew) ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
deconfig) ip -4 addr flush dev "$interface" ;;
esac
exit 0
EOF
sed -i "s|@REC@|$TL_TMP/udhcpc.rec|" "$TL_TMP/udhcpc.sh"
chmod +x "$TL_TMP/udhcpc.sh"
rec=$TL_TMP/udhcpc.rec
# udhcpc -n: give up after its tries (-t, -T seconds apart) without a
# lease; -q: exit once it has one.
client() {
	: >"$rec"
	in_ns env REC="$rec" timeout 40 udhcpc -i "$TAP" -f -n -q \
		-s "$TL_TMP/udhcpc.sh" -t "$1" -T 1 -A 1 >>"$TL_TMP/udhcpc.out" 2>&1
}
errline='cannot write lease file '"$LEASES"': No space left on device; leases are not granted until it can be written'
# Lines of the log that say the file cannot be written.
nerr() { grep -cF "$errline" "$TL_LOG"; }

client 4
check "udhcpc gets no lease while the file system is full" \
	@"$TL_TMP/udhcpc.out" sh -c "! grep -q '^event=bound' '$rec'"
check "the lease file holds no lease" @"$LEASES" sh -c "! grep -q '^L ' '$LEASES'"
check "tapird logged why: the file, the cause, what it means" @"$TL_LOG" \
	[ "$(nerr)" -ge 1 ]
TAPIRCTL=${TAPIRCTL:-$(dirname "$TAPIRD")/tapirctl}
# A counter's value from tapirctl stats (0 when absent).
counter() {
	"$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats 2>/dev/null |
		awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}
n=$(counter module_dhcp_ack_unwritten)
check "every REQUEST went unanswered and was counted ($n)" \
	"$("$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats 2>&1 | grep dhcp)" \
	[ "$n" -ge 2 ]
check "one line, not one per REQUEST" @"$TL_LOG" [ "$(nerr)" -eq 1 ]
check "at error priority" @"$TL_LOG" grep -qE "^<3>.*$errline" "$TL_LOG"

# ---- DHCPv6, still full: dhclient -6 gets Advertises, no Reply -----------
ll_ready() { in_ns ip -6 -o addr show dev "$TAP" scope link | grep -v -q tentative &&
	in_ns ip -6 -o addr show dev "$TAP" scope link | grep -q inet6; }
tl_wait 50 ll_ready || bail "the kernel side has a link-local address"
cat >"$TL_TMP/dhclient6.sh" <<'EOF'
#!/bin/sh
{ echo "reason=$reason"; env | grep -E '^new_ip6_address=' ; } >>"@REC@"
exit 0
EOF
rec6=$TL_TMP/dhclient6.rec
sed -i "s|@REC@|$rec6|" "$TL_TMP/dhclient6.sh"
chmod +x "$TL_TMP/dhclient6.sh"
: >"$rec6"
errline6='cannot write lease file '"$LEASES6"': No space left on device; leases are not granted until it can be written'
nerr6() { grep -cF "$errline6" "$TL_LOG"; }
# It keeps asking (Request retransmissions with back-off) across the
# recovery below.
in_ns timeout 90 dhclient -6 -d -v -pf "$TL_TMP/dhclient6.pid" \
	-lf "$TL_TMP/dhclient6.leases" -sf "$TL_TMP/dhclient6.sh" "$TAP" \
	>"$TL_TMP/dhclient6.out" 2>&1 &
d6pid=$!
lab_on_exit "kill $d6pid 2>/dev/null"
tl_wait 150 [ "$(counter module_dhcp6_reply_unwritten)" -ge 2 ]
n=$(counter module_dhcp6_reply_unwritten)
check "dhclient -6's Requests went unanswered and were counted ($n)" \
	"$("$TAPIRCTL" -s "$TL_TMP/ctl.sock" stats 2>&1 | grep dhcp6)" \
	[ "$n" -ge 2 ]
check "dhclient -6 gets no lease while the file system is full" \
	@"$TL_TMP/dhclient6.out" sh -c "! grep -q '^reason=BOUND6' '$rec6'"
check "the DHCPv6 lease file holds no lease" @"$LEASES6" \
	sh -c "! grep -q '^L ' '$LEASES6'"
check "tapird logged it once for dhcp6 too" @"$TL_LOG" [ "$(nerr6)" -eq 1 ]

# Space again: the next REQUEST is written and acknowledged.
rm -f "$FS/fill"
client 5
addr=$(sed -n 's/^ip=//p' "$rec" | head -n 1)
check "udhcpc gets a lease once there is space" @"$TL_TMP/udhcpc.out" \
	grep -q '^event=bound' "$rec"
check "its lease ($addr) is in the lease file" @"$LEASES" \
	grep -qE "^L ${addr//./\\.} " "$LEASES"
check "tapird logged that the file is written again" @"$TL_LOG" \
	grep -qF "lease file $LEASES written again" "$TL_LOG"
check "and no second error line" @"$TL_LOG" [ "$(nerr)" -eq 1 ]

# dhclient -6's next retransmission is written and answered.
tl_wait 400 grep -q '^reason=BOUND6' "$rec6"
addr6=$(sed -n 's/^new_ip6_address=//p' "$rec6" | head -n 1)
check "dhclient -6 gets a lease once there is space ($addr6)" \
	@"$TL_TMP/dhclient6.out" grep -q '^reason=BOUND6' "$rec6"
check "it is in the DHCPv6 lease file" @"$LEASES6" \
	grep -q "^L ${addr6:-none} " "$LEASES6"
check "and dhcp6 logged no second error line" @"$TL_LOG" [ "$(nerr6)" -eq 1 ]
kill "$d6pid" 2>/dev/null
wait "$d6pid" 2>/dev/null
ip -n "$LAB_NS" -4 addr flush dev "$TAP"
tl_done
