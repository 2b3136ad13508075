#!/usr/bin/env python3
"""Write the seed corpus for tests/fuzz/fuzz_tls.c.

    python3 tests/fuzz/make_corpus_tls.py [OUTDIR]  (default: tests/fuzz/corpus/tls)

Writes only the seed-* files named below; regress-* inputs next to them are
left alone.  The input format is described at the top of fuzz_tls.c.  The
ClientHellos come from Python's ssl module through memory BIOs, so they
are what a real client sends first (their randoms differ at every run).
"""
import os
import ssl
import sys

TICK, RESUME, CLOSE, SHUTDOWN, FIN, ABORT, ACKALL = 0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6


def client_hello(alpn=None, sni="lab.test", tls12=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        ctx.set_alpn_protocols(alpn)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    s = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        s.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def segments(data, size):
    """The stream as records of at most size bytes (size <= 240)."""
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += bytes([len(piece) - 1]) + piece
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "corpus", "tls")
    os.makedirs(outdir, exist_ok=True)
    ch13 = client_hello(alpn=["dot"])
    ch12 = client_hello(tls12=True)
    seeds = {
        "seed-hello13": bytes([0]) + segments(ch13, 240) + bytes([ACKALL]),
        "seed-hello12": bytes([0]) + segments(ch12, 240) + bytes([ACKALL]),
        "seed-hello-bytewise": bytes([0]) + segments(ch13, 1),
        "seed-hello-smallwin": bytes([4 | 8]) + segments(ch13, 100) + bytes([ACKALL, TICK]),
        "seed-hello-fin": bytes([1]) + segments(ch13[:100], 50) + bytes([FIN, TICK]),
        "seed-hello-timeout": bytes([3]) + segments(ch13[:5], 5) + bytes([TICK] * 6),
        "seed-garbage": bytes([0]) + segments(bytes(range(200)), 200),
        "seed-close": bytes([2]) + segments(ch13, 240) + bytes([CLOSE, ACKALL]),
    }
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
