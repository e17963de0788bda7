"""Property tests: on random packets and random tables the batch engine gives the scalar engine's answer."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchcheck import assert_same, checksum
from dataplane.build import build
from dataplane.runtime.device import Device
from dataplane.runtime.tables import MatchValue
from p4helpers import PROGRAMS

import test_batch_engine

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def frames(draw):
    """An Ethernet frame, IPv4 or not, of any length: whole, truncated anywhere, with or without payload."""
    ether_type = draw(st.sampled_from([0x0800] * 6 + [0x8100, 0x0806, 0x86DD, 0x0600]))
    eth = draw(st.binary(min_size=12, max_size=12)) + struct.pack("!H", ether_type)
    if ether_type == 0x8100:
        eth += draw(st.binary(min_size=2, max_size=2)) + struct.pack("!H", draw(st.sampled_from([0x0800, 0x1234])))
    ip = bytearray(draw(st.binary(min_size=20, max_size=20)))
    if draw(st.booleans()):
        ip[0] = 0x45
    if draw(st.integers(0, 3)):      # mostly destinations the route strategy favours
        ip[16:20] = bytes([10, draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 255))])
    if draw(st.integers(0, 3)):          # mostly a good checksum
        ip[10:12] = b"\x00\x00"
        ip[10:12] = struct.pack("!H", checksum(bytes(ip)))
    frame = eth + bytes(ip) + draw(st.binary(max_size=64))
    if draw(st.integers(0, 4)) == 0:
        frame = frame[:draw(st.integers(0, len(frame)))]
    return draw(st.integers(0, 7)), frame


routes = st.lists(st.tuples(st.sampled_from([0, 8, 16, 24, 30, 32]), st.integers(0, 3), st.integers(0, 3),
                            st.integers(0, 255), st.integers(0, 511), st.integers(0, (1 << 48) - 1)), min_size=2, max_size=12)


@SETTINGS
@given(routes, st.lists(frames(), min_size=1, max_size=40))
def test_basic_ipv4_random_routes_and_frames(table, packets):
    dev = Device(build(str(PROGRAMS / "basic_ipv4.p4")))
    for plen, b, c, d, port, mac in table:
        addr = ((10 << 24) | (b << 16) | (c << 8) | d) & ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)
        try:
            dev.table_add("ipv4_lpm", [MatchValue(addr, prefix_len=plen)], "ipv4_forward", [mac, port])
        except Exception:
            pass             # the same prefix twice
    assert_same(dev, packets)


_FEATURES = []


@SETTINGS
@given(st.lists(frames(), min_size=1, max_size=40))
def test_features_program_random_frames(packets):
    if not _FEATURES:
        _FEATURES.append(test_batch_engine._features_device())
    assert_same(_FEATURES[0], packets)


_TUNNEL = []


@st.composite
def tunnel_frames(draw):
    """Frames to the tunnel table's addresses (or not), tagged or not, IPv4 or not, whole or cut."""
    port, frame = draw(frames())
    if len(frame) >= 6 and draw(st.booleans()):
        frame = (0x000000000100 + draw(st.integers(0, 7))).to_bytes(6, "big") + frame[6:]
    return port, frame


@SETTINGS
@given(st.lists(tunnel_frames(), min_size=1, max_size=40))
def test_tunnel_program_random_frames(packets):
    """setValid and setInvalid: headers pushed, popped, cut out and made up."""
    if not _TUNNEL:
        _TUNNEL.append(test_batch_engine._tunnel_device())
    assert_same(_TUNNEL[0], packets)


@st.composite
def ipv6_frames(draw):
    """IPv6 frames (or not) to addresses near the route strategy's, of any length."""
    addr = draw(st.sampled_from([0x20010DB8 << 96, 0xFF02 << 112, 0])) | draw(st.integers(0, (1 << 96) - 1))
    src = draw(st.sampled_from([1, addr, 0x20010DB8 << 96 | 1]))
    ip = bytes([0x60]) + draw(st.binary(min_size=5, max_size=5)) + bytes([draw(st.sampled_from([6, 17])),
                                                                          draw(st.sampled_from([0, 1, 64]))])
    ip += src.to_bytes(16, "big") + addr.to_bytes(16, "big")
    frame = draw(st.binary(min_size=12, max_size=12)) + draw(st.sampled_from([b"\x86\xdd", b"\x08\x00"])) + ip + \
        draw(st.binary(max_size=32))
    if draw(st.integers(0, 4)) == 0:
        frame = frame[:draw(st.integers(0, len(frame)))]
    return draw(st.integers(0, 3)), frame


ipv6_routes = st.lists(st.tuples(st.sampled_from([0, 16, 32, 48, 64, 96, 127, 128]),
                                 st.sampled_from([0x20010DB8 << 96, 0xFF02 << 112, 0]), st.integers(0, (1 << 96) - 1),
                                 st.integers(0, 511), st.integers(0, (1 << 128) - 1)), min_size=1, max_size=10)


@SETTINGS
@given(ipv6_routes, st.lists(ipv6_frames(), min_size=1, max_size=40))
def test_ipv6_random_routes_and_frames(table, packets):
    """128-bit lpm and exact keys, fields and action data."""
    from batchcheck import device_of
    dev = device_of(test_batch_engine.IPV6, "ipv6.p4")
    for plen, base, low, port, nhop in table:
        addr = (base | low) & (((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1))
        try:
            dev.table_add("routes", [MatchValue(addr, prefix_len=plen)], "route", [port, nhop])
            dev.table_add("neighbours", [MatchValue(nhop)], "rewrite", [port])
        except Exception:
            pass             # the same prefix or next hop twice
    assert_same(dev, packets)


_EXITS = []


@SETTINGS
@given(st.lists(frames(), min_size=1, max_size=40))
def test_exit_program_random_frames(packets):
    """exit and return in actions, branches and switch cases."""
    if not _EXITS:
        from batchcheck import device_of
        from p4helpers import V1MODEL_MAIN
        dev = device_of(test_batch_engine.SKELETON + test_batch_engine.EXITS + V1MODEL_MAIN, "exits.p4")
        dev.table_add("first", [MatchValue(6)], "leave", [3])
        dev.table_add("first", [MatchValue(17)], "stay", [4])
        _EXITS.append(dev)
    assert_same(_EXITS[0], packets)
