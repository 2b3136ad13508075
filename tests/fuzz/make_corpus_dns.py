#!/usr/bin/env python3
"""Write the seed corpus of fuzz_dns into tests/fuzz/corpus/dns/.

Each seed is a mode byte (see tests/fuzz/fuzz_dns.c) and its payload: DNS
queries of every type the module serves, EDNS variants, the malformed
shapes of RFC 9267 (forward and looping pointers, long labels, counts and
RDLENGTHs past the end), TCP streams with pipelined and split queries, and
lease entries.  Run from anywhere; it rewrites the seed-* files and leaves regression
inputs (regress-*) alone.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dns")


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype, qclass=1, qid=0x1234, flags=0, qd=1, edns=None,
          extra=b"", counts=None):
    q = name(qname) + struct.pack(">HH", qtype, qclass)
    ar = 0
    tail = b""
    if edns is not None:
        payload, version, opts = edns
        tail = b"\0" + struct.pack(">HHBBHH", 41, payload, 0, version, 0,
                                   len(opts)) + opts
        ar = 1
    an, ns, arc = counts or (0, 0, ar)
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, arc) + q * min(qd, 2) + tail + extra


def tcp(*msgs, room=255, split=None):
    stream = b"".join(struct.pack(">H", len(m)) + m for m in msgs)
    recs = b""
    step = split or 254
    for i in range(0, len(stream), step):
        chunk = stream[i:i + step]
        recs += bytes([len(chunk)]) + chunk
    return bytes([2, room]) + recs


seeds = {
    "a": b"\0" + query("www.lab.test", 1),
    "aaaa": b"\0" + query("www.lab.test", 28),
    "mx": b"\0" + query("mail.lab.test", 15),
    "txt": b"\0" + query("lab.test", 16),
    "srv": b"\0" + query("_http._tcp.lab.test", 33),
    "ns": b"\0" + query("lab.test", 2),
    "soa": b"\0" + query("lab.test", 6),
    "any": b"\0" + query("www.lab.test", 255),
    "cname-loop": b"\0" + query("c1.lab.test", 1),
    "nxdomain": b"\0" + query("nosuch.lab.test", 1),
    "ent": b"\0" + query("sub.lab.test", 1),
    "ptr": b"\0" + query("2.0.0.10.in-addr.arpa", 12),
    "ptr6": b"\0" + query("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", 12),
    "refused": b"\0" + query("www.example.com", 1),
    "chaos": b"\0" + query("version.bind", 16, qclass=3),
    "opcode": b"\0" + query("www.lab.test", 1, flags=15 << 11),
    "qd0": b"\0" + query("www.lab.test", 1, qd=0),
    "qd2": b"\0" + query("www.lab.test", 1, qd=2),
    "edns": b"\0" + query("b.lab.test", 1, edns=(4096, 0, b"")),
    "edns-512": b"\0" + query("b.lab.test", 1, edns=(512, 0, b"")),
    "edns-opts": b"\0" + query("www.lab.test", 1, edns=(1232, 0, b"\0\x0a\0\x08abcdefgh\xfd\xe9\0\0")),
    "badvers": b"\0" + query("www.lab.test", 1, edns=(1232, 1, b"")),
    "big-notcp": b"\0" + query("b.lab.test", 1),
    # Malformed shapes.
    "ptr-forward": b"\0" + struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0e\x01a\0\0\x01\0\x01",
    "ptr-self": b"\0" + struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c\0\x01\0\x01",
    "ptr-header": b"\0" + struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x02\0\x01\0\x01",
    "label-64": b"\0" + struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x40" + b"a" * 64 + b"\0\0\x01\0\x01",
    "name-256": b"\0" + struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + (b"\x3f" + b"a" * 63) * 4 + b"\0\0\x01\0\x01",
    "counts": b"\0" + query("www.lab.test", 1, counts=(3, 3, 3)),
    "rdlength": b"\0" + query("www.lab.test", 1, counts=(0, 0, 1), extra=b"\0\0\x01\0\x01\0\0\0\0\x01\0\x01\x02"),
    "short": b"\0" + b"\x12\x34\0\0\0\x01",
    "response": b"\0" + query("www.lab.test", 1, flags=0x8000),
    # TCP.
    "tcp-one": tcp(query("www.lab.test", 1)),
    "tcp-pipelined": tcp(query("www.lab.test", 1, qid=1), query("b.lab.test", 1, qid=2), query("nosuch.lab.test", 15, qid=3)),
    "tcp-split": tcp(query("www.lab.test", 1, qid=1), query("mail.lab.test", 15, qid=2), split=1),
    "tcp-small-room": tcp(query("b.lab.test", 1), query("b.lab.test", 1), room=0) + b"\0\0",
    "tcp-short-len": bytes([2, 255, 3, 0, 5, 1]),
    "tcp-idle": tcp(query("www.lab.test", 1)) + b"\xff" + bytes([2]) + struct.pack(">H", 30),
    "lease": b"\x03" + b"10.0.0.7\0mac=02:00:00:00:00:01 expires=4102444800 hostname=leased",
    "lease-badname": b"\x03" + b"10.0.0.7\0hostname=-bad expires=x",
}

os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    if f.startswith("seed-"):
        os.unlink(os.path.join(OUT, f))
for k, v in seeds.items():
    with open(os.path.join(OUT, "seed-" + k), "wb") as fh:
        fh.write(v)
print(f"{len(seeds)} seeds in {OUT}")
