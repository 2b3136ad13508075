#!/usr/bin/env python3
"""ARP frames for t_acd.sh, sent as they are (run inside the lab namespace).

  send IFACE OP SHA SPA THA TPA [DST [COUNT]]
        send COUNT (default 1) Ethernet/IPv4 ARP packets on IFACE, 0.1 s
        apart: OP "request" or "reply", sender and target hardware and
        protocol addresses as given (the Ethernet source is SHA), to the
        Ethernet address DST (default ff:ff:ff:ff:ff:ff)
"""
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806


def mac(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise ValueError("bad MAC " + s)
    return b


def send(iface, op, sha, spa, tha, tpa, dst="ff:ff:ff:ff:ff:ff", count=1):
    code = {"request": 1, "reply": 2}[op]
    frame = (mac(dst) + mac(sha) + struct.pack("!H", ETH_P_ARP) +
             struct.pack("!HHBBH", 1, 0x0800, 6, 4, code) +
             mac(sha) + socket.inet_aton(spa) + mac(tha) +
             socket.inet_aton(tpa))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for i in range(int(count)):
        if i:
            time.sleep(0.1)
        s.send(frame)
    s.close()


def main():
    if len(sys.argv) >= 8 and sys.argv[1] == "send" and len(sys.argv) <= 10:
        send(*sys.argv[2:])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
