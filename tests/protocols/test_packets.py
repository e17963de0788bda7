"""The packet builders (dataplane/protocols/packets.py): the one-pack UDP frame equals the layered builders."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, strategies as st

from dataplane.protocols import packets as P
from dataplane.protocols.checksums import internet_checksum, verify_transport

ETH = P.ethernet(0x020000000002, 0x020000000001, P.ETH_IPV4, b"")


def layered(src, dst, sport, dport, payload, ident, ttl=64, df=False) -> bytes:
    return ETH + P.ipv4(src, dst, P.IP_UDP, P.udp(src, dst, sport, dport, payload), ttl=ttl, ident=ident, df=df)


@given(src=st.integers(0, 2**32 - 1), dst=st.integers(0, 2**32 - 1), sport=st.integers(0, 0xFFFF),
       dport=st.integers(0, 0xFFFF), payload=st.binary(max_size=1500), ident=st.integers(0, 0xFFFF),
       ttl=st.integers(0, 255), df=st.booleans())
def test_the_one_pack_frame_equals_the_layered_builders(src, dst, sport, dport, payload, ident, ttl, df):
    assert P.ipv4_udp_frame(ETH, src, dst, sport, dport, payload, ident, ttl, df) == \
        layered(src, dst, sport, dport, payload, ident, ttl, df)


@given(src=st.integers(0, 2**32 - 1), dst=st.integers(0, 2**32 - 1),
       datagrams=st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=300),
                                    st.integers(0, 0xFFFF), st.integers(0, 255), st.booleans()), max_size=6))
def test_a_framer_kept_for_many_datagrams_makes_each_as_the_layered_builders(src, dst, datagrams):
    # What a host does: one framer per destination, its parts made once, for every datagram sent there.
    framer = P.Ipv4UdpFramer(ETH, src, dst)
    for sport, dport, payload, ident, ttl, df in datagrams:
        assert framer.frame(sport, dport, payload, ident, ttl, df) == layered(src, dst, sport, dport, payload, ident,
                                                                              ttl, df)
        assert framer.frame(sport, dport, payload, ident, ttl, df, P.word_sum(payload) + 0xFFFF) == \
            layered(src, dst, sport, dport, payload, ident, ttl, df)


@pytest.mark.parametrize("size", [0, 1, 2, 7, 200])
def test_checksum_corners_equal_the_layered_builders(size):
    # The IPv4 header sum that is a multiple of 0xFFFF (checksum 0) and the UDP sum that is (sent as 0xFFFF,
    # R29): found by choosing the ID and the source port that make them so.
    src, dst, dport, payload = P.ip4("10.0.1.9"), P.ip4("10.0.2.5"), 53, bytes(range(size))
    for ident in range(0x10000):
        frame = P.ipv4_udp_frame(ETH, src, dst, 1000, dport, payload, ident)
        if frame[24:26] == b"\x00\x00":
            break
    else:
        raise AssertionError("no ID gives a zero header checksum")
    assert frame == layered(src, dst, 1000, dport, payload, ident)
    assert internet_checksum(frame[14:34]) == 0
    for sport in range(0x10000):
        frame = P.ipv4_udp_frame(ETH, src, dst, sport, dport, payload, 1)
        if frame[40:42] == b"\xff\xff":
            break
    else:
        raise AssertionError("no source port gives a UDP checksum of all ones")
    assert frame == layered(src, dst, sport, dport, payload, 1)
    assert verify_transport(src, dst, P.IP_UDP, frame[34:], False) is None


@pytest.mark.parametrize("values", [{"sport": 0x10000}, {"sport": -1}, {"dport": 1 << 40}, {"ttl": 256},
                                    {"ttl": -1}, {"ident": 0x10000}, {"ident": -1}, {"src": 1 << 32},
                                    {"dst": -1}, {"sport": 5.0}, {"src": 1.5}, {"ttl": None}, {"ttl": 64.0},
                                    {"ttl": 1 << 20}, {"payload": "text"}])
def test_values_that_do_not_fit_are_refused(values):
    # The host then takes the layered builders, which convert or say why (a ValueError).
    args = dict(src=1, dst=2, sport=1000, dport=53, payload=b"x", ident=1, ttl=64) | values
    with pytest.raises((struct.error, TypeError)):
        P.ipv4_udp_frame(ETH, **args)


def test_the_header_struct_is_the_two_layouts():
    fields = P.IPV4_UDP.unpack_from(layered(P.ip4("10.0.1.9"), P.ip4("10.0.2.5"), 1000, 53, b"hello", 7, 9, True),
                                    14)
    assert fields[:10] == (0x45, 0, 33, 7, 0x4000, 9, P.IP_UDP, fields[7], P.ip4("10.0.1.9"), P.ip4("10.0.2.5"))
    assert fields[10:13] == (1000, 53, 13)


@given(payload=st.binary(max_size=1500), ident=st.integers(0, 0xFFFF), sport=st.integers(0, 0xFFFF),
       times=st.integers(0, 3))
def test_a_payload_sum_given_makes_the_same_frame(payload, ident, sport, times):
    # Any number equal to the payload's sum modulo 0xFFFF will do: the frame is the one summed from the bytes.
    src, dst = P.ip4("10.0.1.9"), P.ip4("10.0.2.5")
    given_sum = P.word_sum(payload) + times * 0xFFFF
    assert P.ipv4_udp_frame(ETH, src, dst, sport, 53, payload, ident, payload_sum=given_sum) == \
        P.ipv4_udp_frame(ETH, src, dst, sport, 53, payload, ident)


@given(parts=st.lists(st.binary(max_size=40), max_size=5), last=st.binary(max_size=41))
def test_word_sum_is_the_checksum_arithmetic(parts, last):
    parts = [p + b"\x00" * (len(p) & 1) for p in parts] + [last]     # each part but the last of even length
    data = b"".join(parts)
    assert P.word_sum(data) == sum(P.word_sum(p) for p in parts) % 0xFFFF
    # The complement of the sum, as internet_checksum gives it (0xFFFF and 0 are the same number here).
    assert (~P.word_sum(data) & 0xFFFF) % 0xFFFF == internet_checksum(data) % 0xFFFF
