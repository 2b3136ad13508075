#!/usr/bin/env python3
"""DHCPv6 helpers for t_dhcp6.sh (run inside the lab namespace).

  sniff IFACE OUT SECONDS   record every Reply from port 547 on IFACE that
                            gives an address (IA_NA, valid lifetime > 0) as
                            "ADDRESS DUID-HEX IAID" lines in OUT
  verify LEASES ACKS        every address of ACKS is, by the last record of
                            the journal LEASES, bound to the same DUID and
                            IAID and not expired; prints a summary, exits 1
                            when one is not
  pick ACKS N               N acknowledged leases, spread over the file
  renew IFACE SERVER-DUID ADDRESS DUID IAID
                            send a Renew for the lease to ff02::1:2; print
                            "REPLY ADDRESS VALID" of the answer, or "NONE"
  send IFACE KIND [ARGS]   send one made-up message and print what came
                            back: "REPLY STATUS=<code>" or "NONE".  KIND:
                            confirm-offlink, confirm-onlink, request-unicast
                            SERVER-DUID DST, solicit-no-clientid, solicit-with-
                            serverid, info-with-ia, solicit-flood (200
                            Solicits from random DUIDs; prints the number
                            of Advertises with an address)
"""
import os
import select
import socket
import struct
import sys
import time


def opts(data):
    """Options of a DHCPv6 message body as a list of (code, bytes)."""
    out, i = [], 0
    while i + 4 <= len(data):
        code, ln = struct.unpack("!HH", data[i:i + 4])
        out.append((code, data[i + 4:i + 4 + ln]))
        i += 4 + ln
    return out


def first(olist, code):
    for c, v in olist:
        if c == code:
            return v
    return None


def ia_addrs(ia):
    """(iaid, [(addr, pref, valid)], status) of an IA_NA option body."""
    iaid = struct.unpack("!I", ia[0:4])[0]
    addrs, status = [], None
    for c, v in opts(ia[12:]):
        if c == 5 and len(v) >= 24:
            pref, valid = struct.unpack("!II", v[16:24])
            addrs.append((socket.inet_ntop(socket.AF_INET6, v[0:16]), pref, valid))
        elif c == 13 and len(v) >= 2:
            status = struct.unpack("!H", v[0:2])[0]
    return iaid, addrs, status


def sniff(iface, out, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
    s.bind((iface, 0))
    s.settimeout(0.2)
    end = time.time() + float(seconds)
    with open(out, "w") as f:
        while time.time() < end:
            try:
                frame = s.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                time.sleep(0.1)  # the TAP goes when tapird dies
                continue
            ip = frame[14:]
            if len(ip) < 48 or ip[6] != 17:
                continue
            udp = ip[40:]
            if struct.unpack("!H", udp[0:2])[0] != 547:
                continue
            msg = udp[8:]
            if not msg or msg[0] != 7:
                continue
            ol = opts(msg[4:])
            cid = first(ol, 1)
            if cid is None:
                continue
            for c, v in ol:
                if c != 3 or len(v) < 12:
                    continue
                iaid, addrs, _ = ia_addrs(v)
                for a, _, valid in addrs:
                    if valid > 0:
                        f.write("%s %s %d\n" % (a, cid.hex(), iaid))
                        f.flush()


def journal(path):
    last = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 6 and p[0] in ("L", "R", "D"):
                last[p[1]] = p
    return last


def verify(path, acks):
    last = journal(path)
    now = time.time()
    seen, bad = {}, []
    with open(acks) as f:
        for line in f:
            a, duid, iaid = line.split()
            seen[a] = (duid, int(iaid))
    for a, (duid, iaid) in seen.items():
        r = last.get(a)
        key = duid + "%08x" % iaid
        if r is None or r[0] != "L" or r[3] != key or int(r[2]) <= now:
            bad.append("%s %s: %s" % (a, key, " ".join(r) if r else "no record"))
    print("%d acknowledged leases, %d not in the journal as acknowledged"
          % (len(seen), len(bad)))
    for b in bad[:10]:
        print(b)
    return 1 if bad or not seen else 0


def pick(acks, n):
    with open(acks) as f:
        lines = list(dict((l.split()[0], l) for l in f).values())
    step = max(1, len(lines) // int(n))
    for l in lines[::step][:int(n)]:
        sys.stdout.write(l)


def sock(iface):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", 546))
    return s


def xchg(s, iface, msg, dst="ff02::1:2", wait=2.0, many=False):
    idx = socket.if_nametoindex(iface)
    s.sendto(msg, (dst, 547, 0, idx))
    end = time.time() + wait
    got = []
    while time.time() < end:
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if not r:
            break
        data = s.recv(4096)
        if data[1:4] == msg[1:4]:
            if not many:
                return data
            got.append(data)
    return got if many else None


def opt(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def ia_na(iaid, addr=None):
    body = struct.pack("!III", iaid, 0, 0)
    if addr:
        body += opt(5, socket.inet_pton(socket.AF_INET6, addr) + struct.pack("!II", 0, 0))
    return opt(3, body)


def status_of(reply):
    if reply is None:
        return "NONE"
    st = first(opts(reply[4:]), 13)
    return "REPLY STATUS=%s" % (struct.unpack("!H", st[0:2])[0] if st else "none")


def renew(iface, sid, addr, duid, iaid):
    s = sock(iface)
    xid = os.urandom(3)
    msg = (bytes([5]) + xid + opt(1, bytes.fromhex(duid)) +
           opt(2, bytes.fromhex(sid)) + opt(8, b"\0\0") + ia_na(int(iaid), addr))
    r = xchg(s, iface, msg)
    if r is None or r[0] != 7:
        print("NONE")
        return
    ia = first(opts(r[4:]), 3)
    _, addrs, st = ia_addrs(ia) if ia else (0, [], None)
    if not addrs:
        print("NOADDR status=%s" % st)
        return
    print("REPLY %s %d" % (addrs[0][0], addrs[0][2]))


def send(iface, kind, dst=None):
    s = sock(iface)
    xid = os.urandom(3)
    duid = bytes.fromhex("00030001020000000a77")
    cid = opt(1, duid)
    el = opt(8, b"\0\0")
    if kind == "confirm-offlink":
        m = bytes([4]) + xid + cid + el + ia_na(9, "2001:db8::5")
    elif kind == "confirm-onlink":
        m = bytes([4]) + xid + cid + el + ia_na(9, "fd00::1234")
    elif kind == "request-unicast":
        sid = bytes.fromhex(sys.argv[4])
        m = bytes([3]) + xid + cid + opt(2, sid) + el + ia_na(9)
        print(status_of(xchg(s, iface, m, dst=sys.argv[5])))
        return
    elif kind == "solicit-no-clientid":
        m = bytes([1]) + xid + el + ia_na(9)
    elif kind == "solicit-with-serverid":
        m = bytes([1]) + xid + cid + opt(2, duid) + el + ia_na(9)
    elif kind == "info-with-ia":
        m = bytes([11]) + xid + cid + el + ia_na(9)
    elif kind == "solicit-flood":
        given = 0
        for _ in range(200):
            x = os.urandom(3)
            m = bytes([1]) + x + opt(1, b"\0\4" + os.urandom(16)) + el + ia_na(1)
            r = xchg(s, iface, m, wait=0.5)
            if r is not None and r[0] == 2:
                ia = first(opts(r[4:]), 3)
                if ia and ia_addrs(ia)[1]:
                    given += 1
        print(given)
        return
    else:
        raise SystemExit("unknown kind " + kind)
    print(status_of(xchg(s, iface, m)))


def main(argv):
    cmd = argv[1]
    if cmd == "sniff":
        sniff(argv[2], argv[3], argv[4])
    elif cmd == "verify":
        return verify(argv[2], argv[3])
    elif cmd == "pick":
        pick(argv[2], argv[3])
    elif cmd == "renew":
        renew(*argv[2:7])
    elif cmd == "send":
        send(argv[2], argv[3])
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
