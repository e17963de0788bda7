"""TCP segments built and checked by arithmetic (dataplane/net/host/tcp_wire.py): byte for byte what the
generic builder (protocols.packets.tcp) makes, and the same verdict as checksums.verify_transport."""

from __future__ import annotations

import random

import pytest

from dataplane.net.host import tcp_wire as W
from dataplane.net.host.tcp_options import timestamp_option
from dataplane.protocols import packets as P
from dataplane.protocols.checksums import verify_transport


def random_fields(r: random.Random, v6: bool):
    bits = 128 if v6 else 32
    return dict(src=r.getrandbits(bits), dst=r.getrandbits(bits), sport=r.getrandbits(16), dport=r.getrandbits(16),
                seq=r.getrandbits(32), ack=r.getrandbits(32), flags=r.getrandbits(8), window=r.getrandbits(16))


def reference(f, data=b"", options=b"", v6=False) -> bytes:
    return P.tcp(f["src"], f["dst"], f["sport"], f["dport"], f["seq"], f["ack"], set(W.FLAG_SETS[f["flags"]]),
                 window=f["window"], payload=data, options=options, v6=v6)


def built(f, data=b"", options=b"") -> bytes:
    base = W.checksum_base(f["src"], f["dst"], f["sport"], f["dport"])
    return W.segment(base, f["sport"], f["dport"], f["seq"], f["ack"], f["flags"], f["window"], options, data)


@pytest.mark.parametrize("v6", [False, True])
def test_segments_are_the_generic_builders_bytes(v6):
    r = random.Random(7 + v6)
    for _ in range(2000):
        f = random_fields(r, v6)
        data = r.randbytes(r.choice([0, 1, 2, 3, 1447, 1448, r.randrange(3000)]))
        options = r.randbytes(r.randrange(41))                       # any length: padded as packets.tcp pads
        assert built(f, data, options) == reference(f, data, options, v6)
        tsval, tsecr = r.getrandbits(32), r.getrandbits(32)
        base = W.checksum_base(f["src"], f["dst"], f["sport"], f["dport"])
        fast = W.segment_with_timestamps(base, f["sport"], f["dport"], f["seq"], f["ack"], f["flags"], f["window"],
                                         tsval, tsecr, data)
        assert fast == reference(f, data, timestamp_option(tsval, tsecr), v6)


@pytest.mark.parametrize("odd", [False, True])
def test_a_sum_of_all_ones_gives_a_zero_checksum_as_the_generic_builder(odd):
    # The one case where the folded sum is a multiple of 0xFFFF: RFC 1071's sum is then 0xFFFF, the field 0.
    f = random_fields(random.Random(3), False)
    head = bytes(range(1, 12)) if odd else bytes(range(1, 11))
    for last in range(0x10000):
        data = head + last.to_bytes(2, "big")
        if reference(f, data)[16:18] == b"\0\0":
            break
    else:
        pytest.fail("no payload gives a zero checksum")
    assert built(f, data) == reference(f, data)
    assert W.checksum_ok(f["src"], f["dst"], built(f, data))


@pytest.mark.parametrize("v6", [False, True])
def test_checksum_ok_agrees_with_verify_transport(v6):
    r = random.Random(11 + v6)
    for _ in range(2000):
        f = random_fields(r, v6)
        raw = reference(f, r.randbytes(r.randrange(200)), r.randbytes(r.randrange(0, 41, 4)), v6)
        assert W.checksum_ok(f["src"], f["dst"], raw) and verify_transport(f["src"], f["dst"], 6, raw, v6) is None
        bad = bytearray(raw)
        bad[r.randrange(len(bad))] ^= 1 << r.randrange(8)
        assert W.checksum_ok(f["src"], f["dst"], bytes(bad)) == (
            verify_transport(f["src"], f["dst"], 6, bytes(bad), v6) is None)
        # A segment checked against the wrong addresses fails.
        assert not W.checksum_ok(f["src"] ^ 1, f["dst"], raw)


def test_flag_bits_and_names():
    for value in range(256):
        names = W.FLAG_SETS[value]
        assert W.flag_bits(names) == value
        assert names == {f for f in P.TCP_FLAGS if value & (1 << P.TCP_FLAGS.index(f))}
    assert W.flag_bits({"syn", "ack"}) == W.SYN | W.ACK == 0x12
