"""Capture filters in tcpdump's words, evaluated on frames (dataplane exec's sockets)."""

from __future__ import annotations

import pytest

from dataplane.net.frame_filter import FilterError, compile_filter
from dataplane.protocols import packets as P

MAC_A, MAC_B, BROADCAST = 0x020000000001, 0x020000000002, (1 << 48) - 1
A4, B4 = P.ip4("10.0.1.1"), P.ip4("10.0.2.2")
A6, B6 = P.ip6("2001:db8::1"), P.ip6("2001:db8::2")


def udp4(sport=1234, dport=4321, src=A4, dst=B4, **kw) -> bytes:
    return P.ethernet(MAC_B, MAC_A, P.ETH_IPV4, P.ipv4(src, dst, 17, P.udp(src, dst, sport, dport, b"x"), **kw))


def tcp4(sport=50000, dport=80) -> bytes:
    return P.ethernet(MAC_B, MAC_A, P.ETH_IPV4, P.ipv4(A4, B4, 6, P.tcp(A4, B4, sport, dport, 0, 0, "syn")))


def udp6(dport=4321) -> bytes:
    return P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, P.ipv6(A6, B6, 17, P.udp(A6, B6, 1, dport, b"x", v6=True)))


def arp_request() -> bytes:
    return P.ethernet(BROADCAST, MAC_A, P.ETH_ARP, P.arp(1, MAC_A, A4, 0, B4))


def custom() -> bytes:
    return P.ethernet(MAC_B, MAC_A, 0x1234, b"P4\x01+" + bytes(12))


FRAMES = {"udp4": udp4(), "tcp4": tcp4(), "udp6": udp6(), "arp": arp_request(), "custom": custom()}


def accepted(expression: str) -> set[str]:
    accept = compile_filter(expression)
    return {name for name, frame in FRAMES.items() if accept(frame)}


@pytest.mark.parametrize("expression, names", [
    ("", {"udp4", "tcp4", "udp6", "arp", "custom"}),
    ("udp and port 4321", {"udp4", "udp6"}),                     # the tutorials' mri and ecn receive.py
    ("udp", {"udp4", "udp6"}),
    ("ip and udp", {"udp4"}),
    ("tcp dst port 80", {"tcp4"}),
    ("src port 1234", {"udp4"}),
    ("port 80 or 4321", {"tcp4", "udp4", "udp6"}),               # a bare value repeats the qualifiers
    ("portrange 4000-5000", {"udp4", "udp6"}),
    ("not ip and not ip6", {"arp", "custom"}),
    ("! (tcp || udp)", {"arp", "custom"}),
    ("arp", {"arp"}),
    ("host 10.0.2.2", {"udp4", "tcp4", "arp"}),                  # ARP's addresses count, as in tcpdump
    ("ip host 10.0.2.2", {"udp4", "tcp4"}),
    ("dst host 10.0.1.1", set()),
    ("src 10.0.1.1 and udp", {"udp4"}),
    ("net 10.0.0.0/16", {"udp4", "tcp4", "arp"}),
    ("host 2001:db8::2", {"udp6"}),
    ("ether proto 0x1234", {"custom"}),
    ("ether proto \\arp", {"arp"}),
    ("ip proto 6", {"tcp4"}),
    ("proto udp", {"udp4", "udp6"}),
    ("ether broadcast", {"arp"}),
    ("ether src 02:00:00:00:00:01 and not broadcast", {"udp4", "tcp4", "udp6", "custom"}),
    ("ether dst host 02:00:00:00:00:01", set()),
    ("less 54", {"arp", "custom", "udp4", "tcp4"}),
    ("greater 55", {"udp6"}),
])
def test_expressions_pick_the_frames_tcpdump_would(expression, names):
    assert accepted(expression) == names


def test_ports_are_read_from_first_fragments_only():
    later = udp4(frag_offset=10)
    assert not compile_filter("port 4321")(later)
    assert compile_filter("udp")(later)


@pytest.mark.parametrize("expression, message", [
    ("udp and prot 4321", "'udp and prot 4321': 'prot' is not something this simulation can filter on"),
    ("port http", "'port http': 'http' is not a number"),
    ("host 10.0.0.300", "'host 10.0.0.300': '10.0.0.300' is not an IP address"),
    ("(udp", "'(udp': the expression ends too early"),
    ("udp)", "'udp)': unexpected ')'"),
    ("udp and", "'udp and': the expression ends too early"),
    ("icmp port 7", "'icmp port 7': 'icmp port' is not a filter"),
    ("ether host 1.2.3.4", "'ether host 1.2.3.4': '1.2.3.4' is not a MAC address"),
    ("udp; rm", "'udp; rm': 'udp;' is not something this simulation can filter on"),
])
def test_what_is_not_understood_is_refused_by_name(expression, message):
    with pytest.raises(FilterError) as info:
        compile_filter(expression)
    assert str(info.value).startswith(message)
