#!/usr/bin/env python3
"""Write the seed corpus for tests/fuzz/fuzz_ra.c.

    python3 tests/fuzz/make_corpus_ra.py [OUTDIR]  (default: tests/fuzz/corpus/ra)

Writes only seed-* files; regress-* inputs next to them are left alone.
The input format is described at the top of the harness.
"""
import os
import sys

RS = bytes([133, 0, 0, 0, 0, 0, 0, 0])
SLLA = bytes([1, 1, 2, 0, 0, 0, 0, 1])


def rec(ctl, msg):
    return bytes([ctl, len(msg)]) + msg


SEEDS = {
    # one valid RS, with and without the source link-layer option
    "seed-rs": bytes([0]) + rec(5, RS) + rec(5, RS + SLLA),
    # a burst of solicitations: the 3 s rate limit
    "seed-burst": bytes([4]) + b"".join(rec(1, RS + SLLA) for _ in range(40)),
    # invalid ones: unspecified source with the option, hop limit 64,
    # code 1, an option of length 0, one past the end, a short message
    "seed-invalid": bytes([1]) + rec(64, RS + SLLA) + rec(128, RS)
    + rec(0, bytes([133, 1]) + RS[2:]) + rec(0, RS + bytes([1, 0, 0, 0]))
    + rec(0, RS + bytes([1, 2, 2, 0, 0, 0, 0, 1])) + rec(0, RS[:7]),
    # unknown options, long waits, router mode with configured prefixes
    "seed-options": bytes([3]) + rec(63, RS + bytes([99, 2]) + bytes(14))
    + rec(63, RS + SLLA + SLLA) + rec(30, RS),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "ra")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
