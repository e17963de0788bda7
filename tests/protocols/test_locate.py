"""field_at: the header field a bit of a frame belongs to."""

from __future__ import annotations

import pytest

from dataplane.protocols import packets as P
from dataplane.protocols.locate import field_at

FRAME = bytes.fromhex("000000000202000000000001 0800 45000021000100003f1164c60a0001010a000205 00350035000da492"
                      "68656c6c6f".replace(" ", ""))


@pytest.mark.parametrize("byte, bit_in_byte, name, first_bit, width", [
    (0, 0, "ethernet.dstAddr", 0, 48), (13, 7, "ethernet.etherType", 96, 16), (14, 0, "ipv4.version", 112, 4),
    (14, 4, "ipv4.ihl", 116, 4), (20, 1, "ipv4.df", 161, 1), (20, 3, "ipv4.fragOffset", 163, 13),
    (22, 0, "ipv4.ttl", 176, 8), (33, 0, "ipv4.dstAddr", 240, 32), (36, 0, "udp.dstPort", 288, 16)])
def test_a_bit_is_found_in_its_field(byte, bit_in_byte, name, first_bit, width):
    spot = field_at(FRAME, byte * 8 + bit_in_byte)
    assert (spot.name, spot.bit, spot.width) == (name, first_bit, width)


def test_payload_and_bits_past_the_frame_have_no_field():
    assert field_at(FRAME, 42 * 8) is None
    assert field_at(FRAME, 1000 * 8) is None


def test_ipv6_and_tcp_fields():
    ip = P.ipv6_header(P.ip6("2001:db8::1"), P.ip6("2001:db8::2"), P.IP_TCP, 20, 64)
    frame = P.ethernet(1, 2, P.ETH_IPV6, ip + bytes(12) + b"\x50" + bytes(7))      # TCP data offset 5
    assert field_at(frame, (14 + 7) * 8).name == "ipv6.hopLimit"
    assert field_at(frame, (14 + 40 + 2) * 8).name == "tcp.dstPort"
