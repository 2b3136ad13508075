#!/usr/bin/env python3
"""DHCP helpers for t_dhcp.sh (run inside the lab namespace).

  sniff IFACE OUT SECONDS     record every DHCPACK seen on IFACE, one line
                              "ADDRESS MAC" each, for at most SECONDS
  verify LEASEFILE ACKS       every acknowledged (address, MAC) of ACKS is
                              bound to that MAC in the lease file
  probe SERVER RELAY MAC ADDR [N]
                              as a relay at RELAY:67, send an INIT-REBOOT
                              REQUEST for ADDR from MAC; print the reply's
                              type, yiaddr and domain (option 15)
  pick ACKS N                 print N acknowledged "ADDRESS MAC" lines,
                              spread over the file
  flood IFACE N SECONDS       send N DHCPDISCOVERs on IFACE, each from a
                              new random MAC (Ethernet source and chaddr),
                              evenly over SECONDS; print how many went
  relay SERVER GIADDR MAC [key=value...]
                              as a relay at GIADDR:67, send a DISCOVER for
                              MAC and, with request=1, a REQUEST for the
                              address offered; options: cid=HEX (61),
                              agent=HEX (82), lease=SECONDS (51),
                              fqdn=FLAGS:NAME (81, NAME in wire format when
                              FLAGS has E); print one line per reply:
                              TYPE yiaddr lease= mask= router= agent=HEX
                              fqdn=FLAGS:NAME (or "none" when no reply)
  churn SERVER GIADDR NMACS SECONDS RECORDS SEED
                              as a relay at GIADDR:67, NMACS clients (MACs
                              02:c9:00:00:HI:LO, client identifier 1+MAC)
                              get leases (DISCOVER, REQUEST), renew them
                              (REQUEST with ciaddr) and release them, at
                              random, for SECONDS; the state they start
                              from is the last line per MAC of RECORDS,
                              and each outcome is appended to it once
                              known (flushed): "ACK ADDR MAC" after an
                              ACK, "REL ADDR MAC" before a RELEASE is
                              sent, "UNK ADDR MAC" when a REQUEST for a
                              new lease went unanswered (tapird may or may
                              not have granted it), "NAK ADDR MAC" when a
                              renewal of an acknowledged lease was refused;
                              prints "bound" once it is listening, and the
                              counts of each kind at the end
  expect RECORDS LEASES_JSON SERVER GIADDR
                              every MAC whose last record is ACK: its
                              lease is in LEASES_JSON (tapirctl --json
                              leases) and an INIT-REBOOT REQUEST for it is
                              ACKed with the same address; no NAK record
                              at all; prints a summary, exits 1 otherwise
"""
import socket
import struct
import sys
import time

MAGIC = b"\x63\x82\x53\x63"


def options(msg):
    """Options of a DHCP message as {code: bytes} (first wins); None when
    malformed."""
    if len(msg) < 240 or msg[236:240] != MAGIC:
        return None
    out = {}
    i = 240
    while i < len(msg):
        code = msg[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            return out
        if i + 1 >= len(msg) or i + 2 + msg[i + 1] > len(msg):
            return None
        out.setdefault(code, msg[i + 2:i + 2 + msg[i + 1]])
        i += 2 + msg[i + 1]
    return None


def mac_str(b):
    return ":".join("%02x" % x for x in b[:6])


def sniff(iface, out, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
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
                # The TAP goes down when tapird dies: keep what we have.
                time.sleep(0.1)
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            udp = ip[ihl:]
            if len(udp) < 8 or struct.unpack("!H", udp[0:2])[0] != 67:
                continue
            msg = udp[8:]
            opts = options(msg)
            if not opts or msg[0] != 2 or opts.get(53) != b"\x05":
                continue
            yi = socket.inet_ntoa(msg[16:20])
            if yi == "0.0.0.0":
                continue
            f.write("%s %s\n" % (yi, mac_str(msg[28:34])))
            f.flush()


def leases(path):
    """The last L/R/D record per address: {addr: (kind, mac)}."""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 7 or line.startswith("#"):
                continue
            out[p[1]] = (p[0], p[3])
    return out


def verify(path, acks):
    have = leases(path)
    want = {}
    with open(acks) as f:
        for line in f:
            a, m = line.split()
            want[a] = m
    missing = [a for a, m in want.items()
               if have.get(a, ("?", "?")) != ("L", m)]
    print("%d acknowledged, %d in the file, %d missing" %
          (len(want), len(have), len(missing)))
    for a in missing[:10]:
        print("missing %s %s -> %s" % (a, want[a], have.get(a)))
    return 1 if missing or not want else 0


def probe(server, relay, mac, addr, tries=3):
    macb = bytes(int(x, 16) for x in mac.split(":"))
    xid = int(time.time() * 1000) & 0xffffffff
    msg = struct.pack("!BBBBIHHIIII", 1, 1, 6, 1, xid, 0, 0, 0, 0, 0,
                      struct.unpack("!I", socket.inet_aton(relay))[0])
    msg += macb + bytes(10) + bytes(64) + bytes(128) + MAGIC
    msg += bytes([53, 1, 3, 50, 4]) + socket.inet_aton(addr)
    msg += bytes([61, 7, 1]) + macb  # as perfdhcp: type 1 and the MAC
    msg += bytes([55, 3, 1, 3, 15, 255])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((relay, 67))
    s.settimeout(1.0)
    for _ in range(int(tries)):
        s.sendto(msg, (server, 67))
        try:
            while True:
                r, _ = s.recvfrom(4096)
                if r[4:8] != msg[4:8]:
                    continue
                o = options(r) or {}
                t = {5: "ACK", 6: "NAK"}.get((o.get(53) or b"\0")[0], "?")
                dom = (o.get(15) or b"").decode("ascii", "replace")
                print("%s %s domain=%s" % (t, socket.inet_ntoa(r[16:20]), dom))
                return 0
        except socket.timeout:
            continue
    print("no reply")
    return 1


def pick(acks, n):
    with open(acks) as f:
        lines = [l.strip() for l in f if l.strip()]
    n = int(n)
    step = max(1, len(lines) // n)
    for l in lines[::step][:n]:
        print(l)
    return 0


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def discover_frame(mac, xid):
    """A broadcast DHCPDISCOVER from 0.0.0.0:68 as an Ethernet frame."""
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0,
                        0x8000, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                        b"\0" * 4, mac + b"\0" * 10, b"", b"")
    opts = MAGIC + bytes([53, 1, 1, 255])
    payload = bootp + opts
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), xid & 0xffff,
                     0, 64, 17, 0, b"\0" * 4, b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + ip + udp


def flood(iface, n, seconds):
    """N DISCOVERs from random locally administered MACs, spread evenly
    over SECONDS (bounded by both)."""
    import os
    n, seconds = int(n), float(seconds)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    start = time.monotonic()
    sent = 0
    for i in range(n):
        mac = bytes([0x02]) + os.urandom(5)
        try:
            s.send(discover_frame(mac, int.from_bytes(os.urandom(4), "big")))
            sent += 1
        except OSError:
            pass
        due = start + seconds * (i + 1) / n
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(sent)


def fqdn_opt(spec):
    flags, name = spec.split(":", 1)
    flags = int(flags, 16)
    if flags & 4:
        wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l)
        if name.endswith("."):
            wire += b"\0"
        return bytes([flags, 0, 0]) + wire
    return bytes([flags, 0, 0]) + name.encode()


def fqdn_str(o):
    if o is None:
        return "-"
    flags, name = o[0], o[3:]
    if flags & 4:
        labels, i = [], 0
        while i < len(name) and name[i]:
            labels.append(name[i + 1:i + 1 + name[i]].decode("ascii", "replace"))
            i += 1 + name[i]
        text = ".".join(labels) + ("." if i < len(name) else "")
    else:
        text = name.decode("ascii", "replace")
    return "%02x:%d:%d:%s" % (flags, o[1], o[2], text)


def relay(server, giaddr, mac, *kv):
    args = dict(a.split("=", 1) for a in kv)
    macb = bytes(int(x, 16) for x in mac.split(":"))
    xid = int.from_bytes(__import__("os").urandom(4), "big")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((giaddr, 67))
    s.settimeout(1.0)

    def message(mtype, extra=b""):
        msg = struct.pack("!BBBBIHHIIII", 1, 1, 6, 1, xid, 0, 0, 0, 0, 0,
                          struct.unpack("!I", socket.inet_aton(giaddr))[0])
        msg += macb + bytes(10) + bytes(64) + bytes(128) + MAGIC
        msg += bytes([53, 1, mtype]) + extra
        if "cid" in args:
            cid = bytes.fromhex(args["cid"])
            msg += bytes([61, len(cid)]) + cid
        if "lease" in args:
            msg += bytes([51, 4]) + struct.pack("!I", int(args["lease"]))
        if "fqdn" in args:
            f = fqdn_opt(args["fqdn"])
            msg += bytes([81, len(f)]) + f
        msg += bytes([55, 4, 1, 3, 6, 15])
        if "agent" in args:  # a relay appends it last
            a = bytes.fromhex(args["agent"])
            msg += bytes([82, len(a)]) + a
        return msg + bytes([255])

    def exchange(msg):
        for _ in range(int(args.get("tries", "3"))):
            s.sendto(msg, (server, 67))
            try:
                while True:
                    r, _ = s.recvfrom(4096)
                    if r[4:8] == msg[4:8] and r[0] == 2:
                        return r
            except socket.timeout:
                continue
        return None

    def show(r):
        o = options(r) or {}
        t = {2: "OFFER", 5: "ACK", 6: "NAK"}.get((o.get(53) or b"\0")[0], "?")
        lease = struct.unpack("!I", o[51])[0] if len(o.get(51, b"")) == 4 else "-"
        mask = socket.inet_ntoa(o[1]) if len(o.get(1, b"")) == 4 else "-"
        router = socket.inet_ntoa(o[3][:4]) if len(o.get(3, b"")) >= 4 else "-"
        agent = o[82].hex() if 82 in o else "-"
        print("%s %s lease=%s mask=%s router=%s agent=%s fqdn=%s" %
              (t, socket.inet_ntoa(r[16:20]), lease, mask, router, agent,
               fqdn_str(o.get(81))))
        return t

    r = exchange(message(1))
    if r is None:
        print("none")
        return 1
    if show(r) != "OFFER":
        return 1
    if args.get("request") != "1":
        return 0
    offered = r[16:20]
    sid = (options(r) or {}).get(54, b"")
    r = exchange(message(3, bytes([54, 4]) + sid + bytes([50, 4]) + offered))
    if r is None:
        print("none")
        return 1
    return 0 if show(r) == "ACK" else 1


def churn_macs(n):
    return ["02:c9:00:00:%02x:%02x" % (i >> 8, i & 255) for i in range(n)]


def last_records(path):
    """The last record per MAC of a churn RECORDS file: {mac: (kind, addr)}."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 3:
                    out[p[2]] = (p[0], p[1])
    except FileNotFoundError:
        pass
    return out


def client_msg(mtype, xid, mac, giaddr, ciaddr="0.0.0.0", extra=b""):
    macb = bytes(int(x, 16) for x in mac.split(":"))
    msg = struct.pack("!BBBBIHH4s4s4s4s", 1, 1, 6, 1, xid, 0, 0,
                      socket.inet_aton(ciaddr), bytes(4), bytes(4),
                      socket.inet_aton(giaddr))
    msg += macb + bytes(10) + bytes(64) + bytes(128) + MAGIC
    msg += bytes([53, 1, mtype]) + extra
    msg += bytes([61, 7, 1]) + macb
    return msg + bytes([55, 3, 1, 3, 15, 255])


def ask(s, server, msg, tries, deadline=None):
    """Send msg, return the reply's (type, yiaddr, options) or None."""
    for _ in range(tries):
        if deadline is not None and time.time() > deadline:
            return None
        s.sendto(msg, (server, 67))
        end = time.time() + 0.5
        while True:
            left = end - time.time()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                r, _ = s.recvfrom(4096)
            except socket.timeout:
                break
            except OSError:
                time.sleep(0.05)
                break
            if r[4:8] != msg[4:8] or r[0] != 2:
                continue
            o = options(r) or {}
            t = {2: "OFFER", 5: "ACK", 6: "NAK"}.get(
                (o.get(53) or b"\0")[0], "?")
            return t, socket.inet_ntoa(r[16:20]), o
    return None


def churn(server, giaddr, nmacs, seconds, records, seed):
    import random
    rnd = random.Random(int(seed))
    macs = churn_macs(int(nmacs))
    state = {m: a for m, (k, a) in last_records(records).items()
             if k == "ACK"}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((giaddr, 67))
    print("bound", flush=True)
    end = time.time() + float(seconds)
    counts = {}
    with open(records, "a") as rec:
        def note(kind, addr, mac):
            rec.write("%s %s %s\n" % (kind, addr, mac))
            rec.flush()
            counts[kind] = counts.get(kind, 0) + 1
        while time.time() < end:
            mac = rnd.choice(macs)
            xid = rnd.getrandbits(32)
            addr = state.get(mac)
            if addr is None:
                r = ask(s, server, client_msg(1, xid, mac, giaddr), 1, end)
                if not r or r[0] != "OFFER":
                    continue
                offered, sid = r[1], r[2].get(54, b"")
                msg = client_msg(3, xid, mac, giaddr, extra=bytes([54, 4]) +
                                 sid + bytes([50, 4]) +
                                 socket.inet_aton(offered))
                r = ask(s, server, msg, 2)
                if r and r[0] == "ACK":
                    state[mac] = r[1]
                    note("ACK", r[1], mac)
                elif not r:
                    note("UNK", offered, mac)
            elif rnd.random() < 0.7:
                r = ask(s, server, client_msg(3, xid, mac, giaddr, addr), 2)
                if r and r[0] == "ACK" and r[1] == addr:
                    note("ACK", addr, mac)
                elif r:
                    note("NAK", addr, mac)
                    del state[mac]
            else:
                note("REL", addr, mac)
                s.sendto(client_msg(7, xid, mac, giaddr, addr), (server, 67))
                del state[mac]
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())) or "none")
    return 0


def expect(records, leases_json, server, giaddr):
    import json
    last = last_records(records)
    want = {m: a for m, (k, a) in last.items() if k == "ACK"}
    with open(records) as f:
        naks = [l.strip() for l in f if l.startswith("NAK ")]
    with open(leases_json) as f:
        have = {(l["address"], l["mac"]) for l in json.load(f)}
    missing = [(a, m) for m, a in want.items() if (a, m) not in have]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((giaddr, 67))
    differ = []
    for m, a in sorted(want.items()):
        xid = int.from_bytes(__import__("os").urandom(4), "big")
        r = ask(s, server, client_msg(3, xid, m, giaddr,
                                      extra=bytes([50, 4]) +
                                      socket.inet_aton(a)), 4)
        if not r or r[0] != "ACK" or r[1] != a:
            differ.append((a, m, r[:2] if r else None))
    print("%d leases held, %d not listed, %d answered differently, %d NAKed "
          "renewals" % (len(want), len(missing), len(differ), len(naks)))
    for a, m in missing[:5]:
        print("not listed: %s %s" % (a, m))
    for d in differ[:5]:
        print("answered differently: %s %s -> %s" % d)
    for n in naks[:5]:
        print("renewal refused: %s" % n)
    return 1 if missing or differ or naks or not want else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "sniff" and len(argv) == 5:
        sniff(argv[2], argv[3], argv[4])
        return 0
    if cmd == "verify" and len(argv) == 4:
        return verify(argv[2], argv[3])
    if cmd == "probe" and len(argv) in (6, 7):
        return probe(*argv[2:])
    if cmd == "pick" and len(argv) == 4:
        return pick(argv[2], argv[3])
    if cmd == "flood" and len(argv) == 5:
        return flood(argv[2], argv[3], argv[4])
    if cmd == "churn" and len(argv) == 8:
        return churn(*argv[2:])
    if cmd == "expect" and len(argv) == 6:
        return expect(*argv[2:])
    if cmd == "relay" and len(argv) >= 5:
        return relay(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
