#!/usr/bin/env python3
"""Write the seed corpus of fuzz_dns_fwd into tests/fuzz/corpus/dns_fwd/.

Each seed is a list of operations of tests/fuzz/fuzz_dns_fwd.c: client
queries, upstream answers (with the ID and the question put in by the
harness, so the records are what is fuzzed), clock steps and upstream TCP
bytes.  Run from anywhere; it rewrites the seed-* files and leaves
regression inputs (regress-*) alone.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "dns_fwd")


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


PTR = b"\xc0\x0c"  # the question's name


def soa(minimum):
    return (name("ns.up.test") + name("hm.up.test") +
            struct.pack(">IIIII", 1, 3600, 600, 86400, minimum))


def opt():
    return b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)


def ask(n=0, f=0):
    return bytes([0, n, f])


def ask_tcp(n=0, f=0):
    return bytes([4, n, f])


def answer(an=b"", nan=0, ns=b"", nns=0, ar=b"", nar=0, flags=3, tcp=False,
           frame=True):
    body = struct.pack(">HHH", nan, nns, nar) + an + ns + ar
    f = flags | (8 if tcp and frame else 0)
    head = bytes([3 if tcp else 1, f]) + struct.pack(">H", len(body))
    return head + body


def raw(data, tcp=False, fix_id=True):
    f = 1 if fix_id else 0
    return bytes([3 if tcp else 1, f]) + struct.pack(">H", len(data)) + data


def wait(steps):
    return bytes([2, steps])


def hdr_q(qname, qtype, flags, an, ns, ar):
    return (struct.pack(">HHHHHH", 0, flags, 1, an, ns, ar) + name(qname) +
            struct.pack(">HH", qtype, 1))


A = rr(PTR, 1, 300, bytes([10, 0, 1, 80]))
SEEDS = {
    "seed-a": ask(0, 0) + answer(A, 1),
    "seed-a-edns-do": ask(0, 4 | 8) + answer(A, 1, ar=opt(), nar=1),
    "seed-a-cached": ask(0, 0) + answer(A, 1) + wait(20) + ask(0, 0),
    "seed-nxdomain": ask(1, 0) + raw(
        hdr_q("nx.UP.test", 1, 0x8183, 0, 1, 0) +
        rr(name("up.test"), 6, 3600, soa(30))) + ask(1, 0),
    "seed-nodata": ask(0, 2) + answer(ns=rr(name("up.test"), 6, 60,
                                             soa(600)), nns=1) + ask(0, 2),
    "seed-timeouts": ask(0, 0) + wait(3) + wait(3) + wait(3) + wait(3),
    "seed-bad-id": ask(0, 0) + answer(A, 1, flags=2) + answer(A, 1),
    "seed-wrong-port": ask(0, 0) + answer(A, 1, flags=3 | 4),
    "seed-tc-tcp": ask(3, 4) + raw(hdr_q("big.up.test", 1, 0x8380, 0, 0, 0))
    + answer(b"".join(rr(PTR, 1, 300, bytes([10, 9, 0, i]))
                      for i in range(100)), 100, tcp=True),
    "seed-tc-tcp-split": ask(3, 0) + raw(hdr_q("big.up.test", 1, 0x8380, 0,
                                               0, 0))
    + bytes([3, 0, 0, 2, 0, 40]) + answer(A, 1, tcp=True, frame=False),
    "seed-servfail-next": ask(0, 0) + raw(hdr_q("www.up.test", 1, 0x8182, 0,
                                                0, 0)) + answer(A, 1),
    "seed-corp": ask(2, 0) + answer(rr(PTR, 1, 60, bytes([10, 0, 1, 99])),
                                    1),
    "seed-coalesce": ask(0, 0) + ask(0, 4) + answer(A, 1),
    "seed-tcp-client": ask_tcp(0, 0) + answer(A, 1) + ask_tcp(0, 0),
    "seed-limits": ask(0, 0) + ask(1, 0) + ask(2, 0) + ask(3, 0) +
    ask(0, 1) + ask(1, 1) + ask(2, 1),
    "seed-cname-txt": ask(3, 3) + answer(
        rr(PTR, 5, 100, name("www.up.test")) +
        rr(name("www.up.test"), 16, 100, b"\x05hello"), 2),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("seed-"):
            os.unlink(os.path.join(OUT, f))
    for k, v in SEEDS.items():
        with open(os.path.join(OUT, k), "wb") as fh:
            fh.write(v)


if __name__ == "__main__":
    main()
