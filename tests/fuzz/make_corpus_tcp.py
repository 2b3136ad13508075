#!/usr/bin/env python3
"""Write the seed corpus for tests/fuzz/fuzz_tcp.c.

    python3 tests/fuzz/make_corpus_tcp.py [OUTDIR]  (default: tests/fuzz/corpus/tcp)

Writes only the seed-* files named below; regress-* inputs next to them are
left alone.  The input format is described at the top of fuzz_tcp.c.
"""
import os
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# mode bits
ESTABLISHED = 0x01
SMALL = 0x80

# handshake option mask bits
HS_MSS, HS_WS, HS_SACK, HS_TS = 1, 2, 4, 8


def handshake(mask=HS_MSS | HS_WS | HS_SACK | HS_TS, mss=1460, ws=7,
              win=65535):
    return struct.pack("!BHBH", mask, mss, ws, win)


def seg(flags, seq_off=0, ack_off=0, win=512, target=0, ts=True,
        opts=None, data=None, pattern=None):
    op = target & 3
    if ts:
        op |= 0x04
    tail = b""
    if opts is not None:
        op |= 0x08
        tail += bytes([len(opts)]) + opts
    if data is not None:
        op |= 0x10
        tail += struct.pack("!H", len(data)) + data
    elif pattern is not None:
        op |= 0x30
        tail += struct.pack("!H", pattern)
    return (bytes([op]) + struct.pack("!BIIH", flags, seq_off & 0xFFFFFFFF,
                                      ack_off & 0xFFFFFFFF, win) + tail)


def advance(count, unit):
    """count 1..8 units of 1 ms, 50 ms, 1 s, 30 s (unit 0..3)."""
    return bytes([0xC0 | (unit << 3) | (count - 1)])


def action(what, arg=0):
    return bytes([0xE0 | what, arg])


LINUX_SYN_OPTS = bytes.fromhex("020405b4" "0402" "080a000003e800000000"
                               "01" "030307")

SEEDS = {
    # Handshake with every option, data echoed, the delayed ACK, our echo
    # acknowledged.
    "seed-handshake-data": bytes([ESTABLISHED]) + handshake() +
    seg(ACK | PSH, data=b"hello") + advance(1, 1) + seg(ACK) +
    seg(ACK | PSH, pattern=3000) + advance(2, 1) + seg(ACK),
    # Data, then FIN: peer_closed() closes, our FIN goes out and is acked.
    "seed-data-fin": bytes([ESTABLISHED]) + handshake(mask=HS_MSS) +
    seg(ACK | PSH, ts=False, data=b"abc") +
    seg(ACK | FIN, ts=False) + advance(1, 0) + seg(ACK, ts=False) +
    advance(3, 3),
    # An out-of-window RST (challenge ACK), then the exact one.
    "seed-rst": bytes([ESTABLISHED]) + handshake() +
    seg(RST, seq_off=100, ts=False) + seg(RST | ACK, ts=False),
    # Out of order with SACK: the second half first, then the first.
    "seed-out-of-order": bytes([ESTABLISHED | 0x02]) + handshake() +
    seg(ACK, seq_off=10, data=b"0123456789") +
    seg(ACK, seq_off=30, data=b"ABCDEFGHIJ") +
    seg(ACK, seq_off=0, data=b"abcdefghij") + advance(1, 1) +
    seg(ACK, seq_off=0, pattern=10) + advance(1, 1),
    # A SYN with Linux's options to the bare listener, the handshake's
    # ACK, data, our close, and TIME-WAIT.
    "seed-syn-listener": bytes([0x00]) +
    seg(SYN, ts=False, opts=LINUX_SYN_OPTS, win=64240) + seg(ACK) +
    seg(ACK | PSH, data=b"Sdata") + seg(ACK) + seg(FIN | ACK) +
    advance(2, 3) + advance(2, 3) + advance(2, 3),
    # Small limits: SYNs past the backlog get cookies, a cookie ACK, an
    # active open answered with a SYN-ACK, a zero window, and probes.
    "seed-cookies-connect": bytes([SMALL]) +
    seg(SYN, target=1, ts=False, opts=LINUX_SYN_OPTS) +
    seg(SYN, target=2, ts=False, opts=LINUX_SYN_OPTS) +
    seg(SYN, target=0, ts=False, opts=LINUX_SYN_OPTS) +
    seg(ACK, target=0) + action(9, 1) +
    seg(SYN | ACK, target=3, ts=False, opts=LINUX_SYN_OPTS, win=0) +
    action(10, 8) + advance(2, 2) + advance(4, 2) + seg(ACK, target=3,
                                                          win=1000),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "tcp")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
