#!/bin/bash
# The dhcp module's lease file on a full file system: a small tmpfs, in a
# mount namespace of this test's own (so nothing is mounted where anything
# else sees it), is the lease directory.  Once it is full a real client
# (udhcpc) gets no lease, the lease file holds none, and tapird logs one
# line naming the file and the cause; once space is freed the client gets
# its lease without a restart, and it is in the file.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091

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

for c in udhcpc python3; do
	command -v "$c" >/dev/null || bail "$c is installed (scripts/deps)"
done

FS=$TL_TMP/leasefs
LEASES=$FS/dhcp.leases
mkdir -p "$FS" || bail "lease directory made"
mount -t tmpfs -o size=64k,mode=0755 tapir-enospc "$FS" ||
	bail "a 64 KiB tmpfs is mounted on $FS"
lab_on_exit "umount -l '$FS'"

cat >"$TL_TMP/dhcp.conf" <<EOF
$(tl_iface_conf)
modules = (
  { name = "dhcp";
    pool = [ "10.0.0.100-10.0.0.199" ]; lease_time = 3600;
    router = "10.0.0.1"; dns = [ "10.0.0.2" ];
    lease_file = "$LEASES"; }
);
control = { socket = "$TL_TMP/ctl.sock"; };
EOF
tl_start_with "$TL_TMP/dhcp.conf"
[ -f "$LEASES" ] || bail "tapird made its lease file in the tmpfs"

# Fill the lease file's last page with comment lines (the journal ignores
# them), so that its next record needs a page of its own, as it does
# after enough appends; then fill the file system.
page=$(getconf PAGESIZE)
size=$(stat -c %s "$LEASES")
pad=$(((page - size % page) % page))
[ "$pad" -ge 2 ] || pad=$((pad + page))
python3 - "$LEASES" "$pad" <<'EOF' || bail "lease file padded to a page"
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
dd if=/dev/zero of="$FS/fill" bs=1k 2>/dev/null
check "the tmpfs is full" "$(df -k "$FS")" [ "$(stat -f -c %a "$FS")" -eq 0 ]

cat >"$TL_TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
{ echo "event=$1"; [ -n "$ip" ] && echo "ip=$ip"; } >>"${REC:-@REC@}"
case $1 in
bound|renew) ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
deconfig) ip addr flush dev "$interface" ;;
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
ip -n "$LAB_NS" addr flush dev "$TAP"
tl_done
