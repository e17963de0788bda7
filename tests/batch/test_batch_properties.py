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
