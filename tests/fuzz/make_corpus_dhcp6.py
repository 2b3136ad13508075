#!/usr/bin/env python3
"""Write the seed corpus of tests/fuzz/fuzz_dhcp6.c.

    python3 tests/fuzz/make_corpus_dhcp6.py [OUTDIR]  (default: tests/fuzz/corpus)

Writes only OUTDIR/dhcp6/seed-* (regress-* files are left alone).  The
input format is described at the top of the harness: a mode byte, an
optional lease file, then records "ctl len_hi len_lo message".
"""
import os
import struct
import sys
import zlib

SERVER_DUID = bytes([0, 1, 0, 1, 0x30, 0, 0, 0, 2, 0, 0, 0, 0, 2])


def opt(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def duid(n):
    return bytes([0, 3, 0, 1, 2, 0, 0, 0, 0, n])


def addr(text):
    import ipaddress
    return ipaddress.IPv6Address(text).packed


def ia_na(iaid, a=None):
    body = struct.pack("!III", iaid, 0, 0)
    if a:
        body += opt(5, addr(a) + struct.pack("!II", 0, 0))
    return opt(3, body)


def msg(mtype, xid, *options):
    return bytes([mtype]) + struct.pack("!I", xid)[1:] + b"".join(options)


def jline(text):
    """A journal record with its CRC-32 (zlib's is the same CRC)."""
    return b"%s %08x\n" % (text, zlib.crc32(text))


def rec(m, ctl=0):
    return bytes([ctl]) + struct.pack("!H", len(m)) + m


CID = opt(1, duid(1))
SID = opt(2, SERVER_DUID)
ORO = opt(6, struct.pack("!HHH", 23, 24, 32))
EL = opt(8, b"\0\0")
FQDN = opt(39, b"\x01\x06laptop")

SEEDS = {
    "info": b"\0" + rec(msg(11, 1, CID, ORO, EL)),
    "sarr": b"\0" + rec(msg(1, 2, CID, ORO, EL, ia_na(1))) +
            rec(msg(3, 3, CID, SID, ORO, EL, FQDN, ia_na(1, "fd00::1000")), 64),
    "rapid": b"\2" + rec(msg(1, 4, CID, opt(14), EL, ia_na(1)), 64) +
             rec(msg(1, 5, opt(1, duid(2)), opt(14), ia_na(1)), 64) +
             rec(msg(1, 6, opt(1, duid(3)), opt(14), ia_na(1)), 64),
    "renew-rebind-release": b"\0" +
        rec(msg(3, 7, CID, SID, ia_na(1)), 64) +
        rec(msg(5, 8, CID, SID, ia_na(1, "fd00::1000")), 64 | 10) +
        rec(msg(6, 9, CID, ia_na(1, "fd00::1000")), 64) +
        rec(msg(6, 10, CID, ia_na(1, "2001:db8::1")), 64) +
        rec(msg(8, 11, CID, SID, ia_na(1, "fd00::1000")), 64),
    "decline-confirm": b"\0" +
        rec(msg(3, 12, CID, SID, ia_na(1)), 64) +
        rec(msg(9, 13, CID, SID, ia_na(1, "fd00::1000")), 64) +
        rec(msg(4, 14, CID, ia_na(1, "fd00::1000"))) +
        rec(msg(4, 15, CID, ia_na(1, "2001:db8::5"))) +
        rec(msg(3, 16, opt(1, duid(2)), SID, ia_na(1)), 63),
    "reservation": b"\0" + rec(msg(3, 17, opt(1, duid(0x50)), SID, ia_na(4)), 64),
    "ia-ta-pd-two-na": b"\0" + rec(msg(3, 18, CID, SID, ia_na(1), ia_na(2),
                                       opt(4, struct.pack("!I", 3)),
                                       opt(25, struct.pack("!III", 5, 0, 0))), 64),
    "invalid": b"\0" + rec(msg(1, 19, ia_na(1))) + rec(msg(3, 20, CID, ia_na(1))) +
               rec(msg(11, 21, CID, ia_na(1))) + rec(msg(12, 22, CID)) +
               rec(msg(3, 23, CID, SID, ia_na(1)), 128) +
               rec(b"\x01\0\0\x01\0\x01\0\x40"),
    "journal": b"\1" +
        jline(b"L fd00::1000 1700007200 0003000102000000000100000001 laptop") +
        jline(b"L fd00::1001 1700007200 0003000102000000000200000001 -") +
        jline(b"R fd00::1001 0 - -") + jline(b"D fd00::1002 1700000100 - -") +
        jline(b"L fd00::50 1700007200 0003000102000000000900000001 -") +
        b"garbage\n" + b"L fd00::1003 17000" + b"\xff\xff\xff" +
        rec(msg(5, 24, CID, SID, ia_na(1, "fd00::1000")), 64),
    "exhaust": b"\2" + b"".join(rec(msg(3, 30 + k, opt(1, duid(k)), SID, ia_na(1)), 64)
                                for k in range(5)),
}


def main():
    out = os.path.join(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "corpus"), "dhcp6")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
