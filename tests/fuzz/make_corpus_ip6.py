#!/usr/bin/env python3
"""Write the seed corpus for tests/fuzz/fuzz_ip6.c.

    python3 tests/fuzz/make_corpus_ip6.py [OUTDIR]  (default: tests/fuzz/corpus/ip6)

Writes only the seed-* files named below; regress-* inputs next to them (the
crashes the fuzzer found, minimized) are left alone.  The input format is
described at the top of fuzz_ip6.c: the harness writes the Ethernet and
IPv6 fixed headers, so a seed gives the source and destination by their
index in its tables, and most seeds set mode bit 2 so that the harness
fixes the upper-layer checksum (the link-local address of the stack is not
known here: it is RFC 7217's, from a keyed hash).
"""
import ipaddress
import os
import struct
import sys

PEER_MAC = bytes.fromhex("020000000001")

# Mode bits.
DAD = 0x01
GATEWAY = 0x02
FIX = 0x04
OFFLOAD = 0x08
EUI64 = 0x40
NO_DRAIN = 0x80


def link(n):
    """Link behaviour: 0 all xmits succeed, 1 every second fails, 2 every
    third, 3 all fail."""
    return n << 4


# Config bits: bits 0-1 the MTU (1500, 1280, 9000, 1400), bits 2-3 DAD
# transmits (1, 2, 3, 0).
MTU_1280 = 0x01
MTU_9000 = 0x02
DAD_TX3 = 0x08
HOP200 = 0x10
SECOND = 0x20
SMALL_CACHE = 0x40
CSUM_OK = 0x80

# Sources.
S_PEER_LL, S_PEER_GUA, S_ANY, S_MCAST, S_OUR_GUA, S_OUR_LL, S_PEER2, \
    S_OFF_LINK = range(8)
# Destinations.
D_OURS, D_OUR_LL, D_ALL_NODES, D_SOLICITED, D_SOLICITED_LL, D_NOT_OURS, \
    D_ROUTERS, D_SECOND = range(8)

# Commands.
C_ANNOUNCE, C_GW_LL, C_GW_GUA, C_GW_NONE, C_ADDR, C_SECOND, C_UNBIND7, \
    C_BIND7, C_SEND_LL, C_SEND_GUA, C_SEND_OFF_LINK, C_SEND_ALL_NODES, \
    C_SEND_BIG, C_SEND_DIRECT, C_DAD, C_IPV6, C_CONNECT_LL, \
    C_CONNECT_GUA, C_CONNECT_OFF_LINK = range(19)

NH_HOPOPTS, NH_TCP, NH_UDP, NH_ROUTING, NH_FRAGMENT, NH_ICMP6, NH_NONE, \
    NH_DSTOPTS = 0, 6, 17, 43, 44, 58, 59, 60


def addr(s):
    return ipaddress.IPv6Address(s).packed


OUR_GUA = addr("fd00::2")
OUR_LL_EUI64 = addr("fe80::ff:fe00:2")  # from 02:00:00:00:00:02
PEER_LL = addr("fe80::1")
PEER_GUA = addr("fd00::1")
OFF_LINK = addr("2001:db8::1")


def siphash24(key, data):
    """SipHash-2-4, as tapir_siphash24()."""
    mask = (1 << 64) - 1
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & mask

    def sipround():
        v[0] = (v[0] + v[1]) & mask
        v[1] = rotl(v[1], 13) ^ v[0]
        v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & mask
        v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & mask
        v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & mask
        v[1] = rotl(v[1], 17) ^ v[2]
        v[2] = rotl(v[2], 32)

    tail = len(data) % 8
    words = [struct.unpack("<Q", data[i:i + 8])[0]
             for i in range(0, len(data) - tail, 8)]
    last = (len(data) & 0xFF) << 56
    for i, c in enumerate(data[len(data) - tail:]):
        last |= c << (8 * i)
    for m in words + [last]:
        v[3] ^= m
        sipround()
        sipround()
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        sipround()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


# fixed_secrets.h's iid_key, and the default MAC of stack_params_default().
IID_KEY = bytes(range(81, 97))
OUR_MAC = bytes.fromhex("020000000002")


def our_link_local(dad_counter=0):
    """Our RFC 7217 link-local address (nd6.c): fe80::/64 and SipHash of
    the prefix, the MAC and the DAD counter."""
    prefix = bytes([0xFE, 0x80]) + bytes(6)
    h = siphash24(IID_KEY, prefix + OUR_MAC + bytes([dad_counter]))
    return prefix + struct.pack("!Q", h)


def clock(ms):
    """The ctl byte advancing the clock by at least ms, in the finest unit
    that can (see fuzz_ip6.c): 0-63 ms, 16 ms, 256 ms or 1024 ms steps."""
    for unit_bits, unit in ((0, 1), (1, 16), (2, 256), (3, 1024)):
        n = -(-ms // unit)
        if n < 64:
            return unit_bits << 6 | n
    raise ValueError("cannot advance %d ms in one step" % ms)


def pkt(src, dst, nh, payload, hop=64, bcast=False, ms=0):
    op = src | dst << 3 | (0x40 if bcast else 0)
    return bytes([clock(ms), op, nh, hop]) + \
        struct.pack("!H", len(payload)) + payload


def cmd(n, ms=0):
    return bytes([clock(ms), 0x80 | n])


def wait(ms):
    """Only a clock advance: a command that does nothing."""
    return cmd(31, ms)


def run(*records, mode=FIX, config=0):
    return bytes([mode, config]) + b"".join(records)


# --- Messages (checksums left 0: the harness fixes them) ------------------

def icmp6(typ, code, body):
    return struct.pack("!BBH", typ, code, 0) + body


def echo(ident=0x1234, seq=1, data=bytes(range(56))):
    return icmp6(128, 0, struct.pack("!HH", ident, seq) + data)


def lla(typ, mac=PEER_MAC):
    return bytes([typ, 1]) + mac


def ns(target, slla=True):
    return icmp6(135, 0, b"\0" * 4 + target + (lla(1) if slla else b""))


SOLICITED, OVERRIDE, ROUTER = 0x40000000, 0x20000000, 0x80000000


def na(target, flags, tlla=True):
    return icmp6(136, 0, struct.pack("!I", flags) + target +
                 (lla(2) if tlla else b""))


def rs():
    return icmp6(133, 0, b"\0" * 4 + lla(1))


def ra():
    prefix = struct.pack("!BBBBIII", 3, 4, 64, 0xc0, 86400, 14400, 0) + \
        addr("fd00::")
    mtu = struct.pack("!BBHI", 5, 1, 0, 1400)
    return icmp6(134, 0, struct.pack("!BBHII", 64, 0, 1800, 0, 0) +
                 lla(1) + prefix + mtu)


def redirect():
    return icmp6(137, 0, b"\0" * 4 + PEER_LL + OFF_LINK + lla(2))


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, flags, seq=1000, ack=0, opts=b"", data=b""):
    doff = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4,
                       flags, 65535, 0, 0) + opts + data


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
MSS_OPT = struct.pack("!BBH", 2, 4, 1440)


def pad_options(opts):
    """Pad an options area so that with its 2-byte header it fills a
    multiple of 8 bytes (PadN, or Pad1 for one byte)."""
    n = (-(2 + len(opts))) % 8
    if n == 1:
        return opts + b"\0"
    if n:
        return opts + bytes([1, n - 2]) + b"\0" * (n - 2)
    return opts


def padding(n):
    """n bytes of PadN options (Pad1 for a last odd byte)."""
    out = b""
    while n > 1:
        k = min(n, 257)
        if n - k == 1:
            k -= 1
        out += bytes([1, k - 2]) + b"\0" * (k - 2)
        n -= k
    return out + b"\0" * n


def opts_hdr(nh, opts):
    """A Hop-by-Hop or Destination Options header."""
    body = pad_options(opts)
    return bytes([nh, (2 + len(body)) // 8 - 1]) + body


def routing(nh, rtype, segleft, addrs=()):
    return bytes([nh, 2 * len(addrs), rtype, segleft]) + b"\0" * 4 + \
        b"".join(addrs)


def frag(nh, off, more, ident=0x1234):
    return struct.pack("!BBHI", nh, 0, off | (1 if more else 0), ident)


def chain(n, last_nh, last):
    """n extension headers (Hop-by-Hop, then Destination Options) before
    last; returns (first next header, payload)."""
    kinds = [NH_HOPOPTS] + [NH_DSTOPTS] * (n - 1)
    payload = last
    nh = last_nh
    for k in reversed(kinds):
        payload = opts_hdr(nh, b"") + payload
        nh = k
    return nh, payload


def opt(typ, data=b"\0\0"):
    return bytes([typ, len(data)]) + data


ECHO = echo()
# A port unreachable about a UDP datagram: an ICMPv6 error.
UNREACH = icmp6(1, 4, b"\0" * 4 + bytes([0x60]) + b"\0" * 39)
BIG_ECHO = echo(seq=2, data=bytes(i & 0xFF for i in range(3000)))
PING = pkt(S_PEER_LL, D_OURS, NH_ICMP6, ECHO)
PING_FROM_GUA = pkt(S_PEER_GUA, D_OURS, NH_ICMP6, ECHO)
NS_FROM_PEER = pkt(S_PEER_LL, D_SOLICITED, NH_ICMP6, ns(OUR_GUA), hop=255)
NA_PEER = pkt(S_PEER_LL, D_OUR_LL, NH_ICMP6,
              na(PEER_LL, SOLICITED | OVERRIDE), hop=255)
NA_PEER_GUA = pkt(S_PEER_GUA, D_OURS, NH_ICMP6,
                  na(PEER_GUA, SOLICITED | OVERRIDE), hop=255)

# The ISN of our SYN-ACK to TCP_SYN (a SipHash of the tuple under
# fixed_secrets.h's key, and the clock): the session seeds lose their
# depth, but still run, when it changes.
TCP_ISN = 1896879853
TCP_SYN = pkt(S_PEER_LL, D_OURS, NH_TCP, tcp(40000, 7, SYN, opts=MSS_OPT))


def tcp_ack(data=b"", flags=ACK, sent=0):
    """The peer's next segment of the session TCP_SYN opened, sent bytes
    of data into it already."""
    return pkt(S_PEER_LL, D_OURS, NH_TCP,
               tcp(40000, 7, flags, seq=1001 + sent, ack=TCP_ISN + 1,
                   data=data))


# DAD: a random delay of up to a second, then each solicitation a second
# after the one before (timers count from when they run, so one long step
# is not enough); after these, even three transmits are done.
SETTLE = b"".join(wait(1024) for _ in range(4))

SEEDS = {
    # --- echo ---
    "seed-echo-small": run(PING, NA_PEER),
    "seed-echo-large": run(pkt(S_PEER_LL, D_OURS, NH_ICMP6, BIG_ECHO),
                           NA_PEER),
    "seed-echo-mtu1280-fragmented": run(
        pkt(S_PEER_GUA, D_OURS, NH_ICMP6,
            echo(seq=3, data=b"\x5a" * 6000)), NA_PEER_GUA,
        config=MTU_1280),
    "seed-echo-all-nodes": run(pkt(S_PEER_LL, D_ALL_NODES, NH_ICMP6, ECHO),
                               NA_PEER),
    "seed-echo-link-local": run(pkt(S_PEER_LL, D_OUR_LL, NH_ICMP6, ECHO),
                                NA_PEER),
    "seed-echo-during-dad": run(PING, SETTLE, PING, NA_PEER, mode=FIX | DAD),
    "seed-echo-second-address": run(
        pkt(S_PEER_LL, D_SECOND, NH_ICMP6, ECHO), NA_PEER, config=SECOND),
    "seed-echo-off-link-gateway": run(
        pkt(S_OFF_LINK, D_OURS, NH_ICMP6, ECHO), NA_PEER,
        mode=FIX | GATEWAY),
    "seed-echo-hop-limit-200": run(PING, NA_PEER, config=HOP200),
    # --- Neighbor Discovery ---
    "seed-ns-for-us": run(NS_FROM_PEER, PING),
    "seed-ns-unicast-no-slla": run(
        pkt(S_PEER_LL, D_OURS, NH_ICMP6, ns(OUR_GUA, slla=False), hop=255)),
    "seed-ns-hop-limit-64": run(
        pkt(S_PEER_LL, D_SOLICITED, NH_ICMP6, ns(OUR_GUA), hop=64)),
    "seed-ns-from-any-dad-collision": run(
        pkt(S_ANY, D_SOLICITED, NH_ICMP6, ns(OUR_GUA, slla=False),
            hop=255, ms=10), PING, mode=FIX | DAD, config=DAD_TX3),
    "seed-ns-from-any-preferred": run(
        SETTLE, pkt(S_ANY, D_SOLICITED, NH_ICMP6, ns(OUR_GUA, slla=False),
                    hop=255), mode=FIX | DAD),
    "seed-ns-from-any-link-local-eui64": run(
        pkt(S_ANY, D_SOLICITED_LL, NH_ICMP6, ns(OUR_LL_EUI64, slla=False),
            hop=255, ms=10), mode=FIX | DAD | EUI64),
    # Our RFC 7217 link-local address is claimed again and again: a new
    # identifier each time (RFC 7217 6), then none.
    "seed-dad-link-local-rfc7217-retries": run(*(
        pkt(S_ANY, D_SOLICITED_LL, NH_ICMP6,
            ns(our_link_local(n), slla=False), hop=255, ms=10)
        for n in range(4)), SETTLE, mode=FIX | DAD),
    # A stale entry asked again by unicast, confirmed by a solicited NA
    # without a target link-layer address.
    "seed-na-solicited-no-tlla": run(
        cmd(C_SEND_LL), NA_PEER, wait(16 * 1024), cmd(C_SEND_LL),
        wait(16 * 1024),
        pkt(S_PEER_LL, D_OUR_LL, NH_ICMP6,
            na(PEER_LL, SOLICITED, tlla=False), hop=255)),
    "seed-na-solicited": run(cmd(C_SEND_LL), NA_PEER, cmd(C_SEND_LL, 16)),
    "seed-na-unsolicited-all-nodes": run(
        pkt(S_PEER_LL, D_ALL_NODES, NH_ICMP6, na(PEER_LL, OVERRIDE),
            hop=255), cmd(C_SEND_LL),
        pkt(S_PEER_LL, D_ALL_NODES, NH_ICMP6, na(PEER_LL, OVERRIDE),
            hop=255)),
    "seed-na-for-our-address": run(
        pkt(S_PEER_GUA, D_ALL_NODES, NH_ICMP6, na(OUR_GUA, OVERRIDE),
            hop=255, ms=10), SETTLE, pkt(S_PEER_GUA, D_ALL_NODES, NH_ICMP6,
                                         na(OUR_GUA, OVERRIDE), hop=255),
        mode=FIX | DAD),
    "seed-nd-stale-recheck": run(
        NS_FROM_PEER, PING, PING_FROM_GUA, NA_PEER_GUA, wait(31 * 1024),
        PING, wait(2048), PING),
    "seed-rs": run(pkt(S_PEER_LL, D_ROUTERS, NH_ICMP6, rs(), hop=255)),
    "seed-ra": run(pkt(S_PEER_LL, D_ALL_NODES, NH_ICMP6, ra(), hop=255)),
    "seed-redirect": run(pkt(S_PEER_LL, D_OURS, NH_ICMP6, redirect(),
                             hop=255)),
    # --- extension headers ---
    "seed-hbh-pad": run(pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
                            opts_hdr(NH_ICMP6, b"\0" + opt(1, b"\0" * 3)) +
                            ECHO), NA_PEER),
    "seed-hbh-router-alert": run(pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
                                     opts_hdr(NH_ICMP6, opt(5)) + ECHO), NA_PEER),
    "seed-hbh-unknown-skip": run(pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
                                     opts_hdr(NH_ICMP6, opt(0x1e)) + ECHO), NA_PEER),
    "seed-hbh-unknown-discard": run(pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
                                        opts_hdr(NH_ICMP6, opt(0x5e)) +
                                        ECHO)),
    "seed-hbh-unknown-icmp": run(pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
                                     opts_hdr(NH_ICMP6, opt(0x9e)) + ECHO),
                                 NA_PEER),
    "seed-hbh-unknown-icmp-multicast": run(
        pkt(S_PEER_LL, D_ALL_NODES, NH_HOPOPTS,
            opts_hdr(NH_ICMP6, opt(0x9e)) + ECHO), NA_PEER),
    "seed-hbh-unknown-icmp-unicast-only": run(
        pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
            opts_hdr(NH_UDP, opt(0xde)) + udp(40000, 7, b"x")),
        pkt(S_PEER_LL, D_ALL_NODES, NH_HOPOPTS,
            opts_hdr(NH_UDP, opt(0xde)) + udp(40000, 7, b"x")), NA_PEER),
    "seed-hbh-option-overrun": run(pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
                                       bytes([NH_ICMP6, 0, 1, 9]) +
                                       b"\0" * 4 + ECHO), NA_PEER),
    "seed-hbh-not-first": run(pkt(S_PEER_LL, D_OURS, NH_DSTOPTS,
                                  opts_hdr(NH_HOPOPTS, b"") +
                                  opts_hdr(NH_ICMP6, b"") + ECHO), NA_PEER),
    "seed-dstopts": run(pkt(S_PEER_LL, D_OURS, NH_DSTOPTS,
                            opts_hdr(NH_UDP, opt(1, b"\0" * 4)) +
                            udp(40000, 7, b"through dst opts")), NA_PEER),
    "seed-routing-type0": run(pkt(S_PEER_LL, D_OURS, NH_ROUTING,
                                  routing(NH_ICMP6, 0, 0, [PEER_GUA]) +
                                  ECHO)),
    "seed-routing-type0-segments-left": run(
        pkt(S_PEER_LL, D_OURS, NH_ROUTING,
            routing(NH_ICMP6, 0, 1, [PEER_GUA]) + ECHO), NA_PEER),
    "seed-routing-type2": run(pkt(S_PEER_LL, D_OURS, NH_ROUTING,
                                  routing(NH_ICMP6, 2, 0, [OUR_GUA]) +
                                  ECHO), NA_PEER),
    "seed-routing-type2-segments-left": run(
        pkt(S_PEER_LL, D_OURS, NH_ROUTING,
            routing(NH_ICMP6, 2, 1, [OUR_GUA]) + ECHO), NA_PEER),
    "seed-chain-7": run(pkt(S_PEER_LL, D_OURS, *chain(7, NH_ICMP6, ECHO)), NA_PEER),
    "seed-chain-8": run(pkt(S_PEER_LL, D_OURS, *chain(8, NH_ICMP6, ECHO))),
    "seed-chain-9": run(pkt(S_PEER_LL, D_OURS, *chain(9, NH_ICMP6, ECHO))),
    # RFC 4443 2.4 (e.1, e.2): no error about an error or a redirect,
    # however many extension headers come before it.
    "seed-error-about-error-behind-hbh": run(
        pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
            opts_hdr(NH_ICMP6, opt(0x9e)) + UNREACH), NA_PEER),
    "seed-error-about-error-behind-routing": run(
        pkt(S_PEER_LL, D_OURS, NH_ROUTING,
            routing(NH_ICMP6, 2, 1, [OUR_GUA]) + UNREACH), NA_PEER),
    "seed-error-about-error-behind-fragment": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_DSTOPTS, 0, False) + opts_hdr(NH_ICMP6, opt(0x9e)) +
            UNREACH), NA_PEER),
    "seed-error-about-redirect-behind-hbh": run(
        pkt(S_PEER_LL, D_OURS, NH_HOPOPTS,
            opts_hdr(NH_ICMP6, opt(0x9e)) + redirect(), hop=255), NA_PEER),
    "seed-unknown-next-header": run(pkt(S_PEER_LL, D_OURS, 99, b"\0" * 16),
                                    NA_PEER),
    "seed-no-next-header": run(pkt(S_PEER_LL, D_OURS, NH_DSTOPTS,
                                   opts_hdr(NH_NONE, b"") + b"trailing")),
    # --- fragments ---
    "seed-atomic-fragment": run(pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
                                    frag(NH_ICMP6, 0, False) + ECHO), NA_PEER),
    "seed-atomic-fragment-ns": run(pkt(S_PEER_LL, D_SOLICITED, NH_FRAGMENT,
                                       frag(NH_ICMP6, 0, False) +
                                       ns(OUR_GUA), hop=255)),
    "seed-first-fragment-short-chain": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_DSTOPTS, 0, True) + bytes([NH_ICMP6, 4]) + b"\0" * 6),
        NA_PEER),
    "seed-first-fragment": run(pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
                                   frag(NH_ICMP6, 0, True) + ECHO[:16])),
    "seed-middle-fragments": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_ICMP6, 16, True) + ECHO[16:32]),
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_ICMP6, 32, True) + ECHO[32:48]),
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_ICMP6, 48, False) + ECHO[48:])),
    "seed-fragment-odd-length": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_UDP, 8, True) + b"\0" * 13), NA_PEER),
    "seed-fragment-past-65535": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_UDP, 65528, False) + b"\0" * 16), NA_PEER),
    "seed-first-fragment-udp": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_UDP, 0, True) + udp(40000, 7, b"12345678")[:16])),
    "seed-first-fragment-tcp-short": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_TCP, 0, True) + tcp(40000, 7, SYN)[:16]), NA_PEER),
    "seed-first-fragment-nested": run(
        pkt(S_PEER_LL, D_OURS, NH_FRAGMENT,
            frag(NH_FRAGMENT, 0, True) + frag(NH_ICMP6, 0, True, 7) +
            ECHO[:16]), NA_PEER),
    # --- error limits ---
    "seed-error-rate-limit": run(
        pkt(S_PEER_LL, D_OURS, NH_UDP, udp(40000, 9999, b"first")),
        NA_PEER, *(pkt(S_PEER_LL, D_OURS, NH_UDP,
                       udp(40000, 9999, b"%d" % i)) for i in range(60))),
    "seed-error-quote-truncated": run(
        pkt(S_PEER_LL, D_OURS, NH_DSTOPTS,
            bytes([NH_UDP, 255]) + padding(2046) +
            udp(40000, 9999, b"quoted")), NA_PEER),
    # --- UDP and TCP ---
    "seed-udp-port7": run(pkt(S_PEER_LL, D_OURS, NH_UDP,
                              udp(40000, 7, b"hello, tapir\n")), NA_PEER),
    "seed-udp-port7-all-nodes": run(
        pkt(S_PEER_LL, D_ALL_NODES, NH_UDP, udp(40000, 7, b"all")),
        NA_PEER, mode=FIX | DAD),
    "seed-udp-closed-port": run(pkt(S_PEER_GUA, D_OURS, NH_UDP,
                                    udp(40000, 9999, b"anyone there?")),
                                NA_PEER_GUA),
    "seed-udp-547-direct": run(pkt(S_PEER_LL, D_OUR_LL, NH_UDP,
                                   udp(546, 547, b"\x01solicit"))),
    "seed-udp-zero-checksum": run(pkt(S_PEER_LL, D_OURS, NH_UDP,
                                      udp(40000, 7, b"no checksum")),
                                  mode=0),
    "seed-tcp-syn-port7": run(pkt(S_PEER_LL, D_OURS, NH_TCP,
                                  tcp(40000, 7, SYN, opts=MSS_OPT)),
                              NA_PEER),
    "seed-tcp-session-port7": run(
        TCP_SYN, NA_PEER, tcp_ack(), tcp_ack(b"hello, tapir\n", ACK | PSH),
        tcp_ack(b"", FIN | ACK, 13), wait(1024)),
    "seed-tcp-session-offload": run(
        TCP_SYN, NA_PEER, tcp_ack(), tcp_ack(bytes(4000), ACK | PSH),
        tcp_ack(b"A", ACK | PSH, 4000), mode=FIX | OFFLOAD,
        config=MTU_9000),
    "seed-tcp-syn-closed-port": run(pkt(S_PEER_GUA, D_OURS, NH_TCP,
                                        tcp(40000, 8080, SYN)), NA_PEER_GUA),
    "seed-tcp-syn-offload": run(pkt(S_PEER_LL, D_OURS, NH_TCP,
                                    tcp(40000, 7, SYN, opts=MSS_OPT)),
                                NA_PEER, mode=FIX | OFFLOAD,
                                config=MTU_9000),
    # --- commands, link behaviour, teardown ---
    "seed-commands": run(
        cmd(C_SEND_LL), cmd(C_SEND_GUA), cmd(C_SEND_OFF_LINK), cmd(C_GW_LL),
        cmd(C_SEND_OFF_LINK), cmd(C_SEND_ALL_NODES), cmd(C_SEND_BIG),
        cmd(C_SEND_DIRECT), NA_PEER, NA_PEER_GUA, cmd(C_GW_GUA),
        cmd(C_SEND_OFF_LINK), cmd(C_GW_NONE), cmd(C_ADDR),
        cmd(C_SECOND), cmd(C_UNBIND7),
        pkt(S_PEER_LL, D_OURS, NH_UDP, udp(40000, 7, b"unbound")),
        cmd(C_BIND7), cmd(C_ANNOUNCE), cmd(C_DAD), cmd(C_IPV6),
        cmd(C_IPV6, 16), cmd(C_CONNECT_LL), cmd(C_CONNECT_GUA),
        cmd(C_GW_LL), cmd(C_CONNECT_OFF_LINK), NA_PEER),
    # Our own global address, tentative again after a change, talks to
    # our link-local one: no neighbour entry for it, no solicitation
    # for it once DAD has passed.
    "seed-echo-from-own-tentative-address": run(
        SETTLE, cmd(C_ADDR), pkt(S_OUR_GUA, D_OUR_LL, NH_ICMP6, ECHO),
        SETTLE, mode=FIX | DAD),
    "seed-address-change-during-dad": run(
        PING, cmd(C_ADDR, 500), SETTLE, PING, NA_PEER, mode=FIX | DAD),
    "seed-small-cache": run(
        cmd(C_GW_LL), cmd(C_SEND_LL), cmd(C_SEND_GUA), cmd(C_SEND_OFF_LINK),
        cmd(C_SEND_BIG), NS_FROM_PEER, config=SMALL_CACHE),
    "seed-link-every-second-fails": run(
        pkt(S_PEER_LL, D_OURS, NH_ICMP6, BIG_ECHO), NA_PEER,
        pkt(S_PEER_LL, D_OURS, NH_ICMP6, BIG_ECHO),
        mode=FIX | link(1)),
    "seed-link-down": run(cmd(C_SEND_LL), NS_FROM_PEER, PING,
                          mode=FIX | DAD | link(3)),
    "seed-free-with-state": run(PING, cmd(C_SEND_BIG), NS_FROM_PEER,
                                mode=FIX | DAD | NO_DRAIN),
    # Host API 4: as a router (config bit 0) the RS to all-routers is
    # heard and answered with an RA, and its sender pinged; the echo
    # reply comes back; a datagram to the joined DHCPv6 group.
    "seed-router-rs-ping": run(
        pkt(S_PEER_LL, D_ROUTERS, NH_ICMP6, rs(), hop=255), NA_PEER,
        pkt(S_PEER_LL, D_OUR_LL, NH_ICMP6,
            icmp6(129, 0, struct.pack("!HH", 0x1234, 1) + b"tapir-pi")),
        config=1),
    "seed-csum-ok-flag": run(pkt(S_PEER_LL, D_OURS, NH_UDP,
                                 udp(40000, 7, b"vouched")), NA_PEER,
                             config=CSUM_OK),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "ip6")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
