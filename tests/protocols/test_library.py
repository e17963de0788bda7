"""The header library (inet.p4) and the packet builders, checked against scapy and the RFC vectors."""

from __future__ import annotations

import pytest
from scapy.all import ARP, ICMP, IP, SCTP, TCP, UDP, Ether, IPv6, raw
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6ExtHdrFragment

from dataplane.protocols import packets as P
from dataplane.protocols.checksums import (sctp_checksum_ok, verify_transport)
from dataplane.protocols.dissect import dissect, summarize
from dataplane.protocols.library import inet
from dataplane.runtime.hashing import crc32c

A, B = P.ip4("10.0.0.1"), P.ip4("10.0.0.2")
A6, B6 = P.ip6("2001:db8::1"), P.ip6("2001:db8::2")


def test_layouts_come_from_inet_p4():
    lib = inet()
    assert lib.header("ipv4_t").size == 20 and lib.header("ipv6_t").size == 40
    assert lib.header("tcp_t").size == 20 and lib.header("udp_t").size == 8 and lib.header("sctp_t").size == 12
    assert lib.header("arp_t").size == 28 and lib.header("ipv6_frag_t").size == 8
    assert lib.const("IP_PROTO_SCTP") == 132 and lib.const("ETHERTYPE_IPV6") == 0x86DD


def test_ipv4_udp_frame_matches_scapy():
    f = P.ethernet(P.mac("08:00:00:00:00:02"), P.mac("08:00:00:00:00:01"), P.ETH_IPV4,
                   P.ipv4(A, B, P.IP_UDP, P.udp(A, B, 1234, 5678, b"data"), ttl=17, ident=99, df=True, dscp=46))
    ref = (Ether(dst="08:00:00:00:00:02", src="08:00:00:00:00:01") /
           IP(src="10.0.0.1", dst="10.0.0.2", ttl=17, id=99, flags="DF", tos=46 << 2) / UDP(sport=1234, dport=5678) /
           b"data")
    assert f == raw(ref)


def test_tcp_with_options_matches_scapy():
    seg = P.tcp(A, B, 40000, 80, 1000, 0, "syn", 64240, options=P.tcp_mss_option(1460))
    ref = TCP(sport=40000, dport=80, seq=1000, flags="S", window=64240, options=[("MSS", 1460)])
    assert P.ipv4(A, B, P.IP_TCP, seg, ident=1) == raw(IP(src="10.0.0.1", dst="10.0.0.2", id=1) / ref)


def test_icmp_and_icmpv6_match_scapy():
    assert P.icmp(8, 0, (7 << 16) | 1, b"ping") == raw(ICMP(type=8, id=7, seq=1) / b"ping")
    v6 = P.ipv6(A6, B6, P.IP_ICMPV6, P.icmpv6(A6, B6, 128, 0, (7 << 16) | 1, b"ping"))
    assert v6 == raw(IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=7, seq=1, data=b"ping"))


def test_arp_matches_scapy():
    ours = P.arp(1, P.mac("08:00:00:00:00:01"), A, 0, B)
    assert ours == raw(ARP(op=1, hwsrc="08:00:00:00:00:01", psrc="10.0.0.1", hwdst="00:00:00:00:00:00",
                           pdst="10.0.0.2"))


def test_R2_rfc1071_example_sum():
    from dataplane.protocols.checksums import internet_checksum, ones_sum
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_sum(data) == 0xDDF2 and internet_checksum(data) == 0x220D
    # Odd lengths are padded with a zero byte; a header carrying its own checksum sums to zero.
    assert internet_checksum(b"\x01") == internet_checksum(b"\x01\x00")
    hdr = bytes.fromhex("45000073000040004011b861c0a80001c0a800c7")
    assert internet_checksum(hdr) == 0


def test_R29_udp_zero_checksum_is_sent_as_ffff():
    seg = P.udp(A, B, 1234, 5678, bytes.fromhex("0000d0d3"))
    assert seg[6:8] == b"\xff\xff"
    assert verify_transport(A, B, P.IP_UDP, seg, v6=False) is None


def test_R29_received_zero_checksums():
    seg = P.udp(A, B, 1, 2, b"x", checksum=False)
    assert seg[6:8] == b"\x00\x00"
    assert verify_transport(A, B, P.IP_UDP, seg, v6=False) is None           # IPv4: no checksum, accept
    assert verify_transport(A6, B6, P.IP_UDP, seg, v6=True) == "UDP over IPv6 without a checksum"
    bad = seg[:6] + b"\x12\x34" + seg[8:]
    assert verify_transport(A, B, P.IP_UDP, bad, v6=False) == "bad checksum"


def test_R33_sctp_crc32c_check_value_and_byte_order():
    assert crc32c(b"123456789") == 0xE3069283
    pkt = P.sctp(5000, 6000, 0, [P.sctp_chunk(1, 0, bytes(16))])
    value = crc32c(pkt[:8] + bytes(4) + pkt[12:])
    assert pkt[8:12] == value.to_bytes(4, "little")      # low byte first on the wire
    assert sctp_checksum_ok(pkt)
    assert raw(SCTP(pkt)) == pkt
    ref = SCTP(pkt)
    del ref.chksum
    assert raw(ref)[8:12] == pkt[8:12]                   # scapy computes the same CRC32c bytes


def test_transport_checksum_over_ipv6_matches_scapy():
    seg = P.udp(A6, B6, 1, 2, b"hello", v6=True)
    ref = raw(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2) / b"hello")[40:]
    assert seg == ref


def test_dissect_layers_and_summary():
    f = P.ethernet(1, 2, P.ETH_IPV4, P.ipv4(A, B, P.IP_UDP, P.udp(A, B, 1234, 53, b"query"), ttl=9))
    names = [l.name for l in dissect(f)]
    assert names == ["ethernet", "ipv4", "udp", "payload"]
    assert summarize(f) == ("00:00:00:00:00:02 > 00:00:00:00:00:01, IP 10.0.0.1 > 10.0.0.2 ttl 9 len 33, "
                            "UDP 1234 > 53 len 5, 5 bytes")
    frag6 = raw(Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=5, m=1, id=3) /
                (b"x" * 16))
    assert [l.name for l in dissect(frag6)][-2:] == ["ipv6 fragment", "fragment data"]


@pytest.mark.parametrize("frame,problem", [
    (bytes(10), "truncated ethernet header"),
    (P.ethernet(1, 2, P.ETH_IPV4, bytes(12)), "truncated ipv4 header"),
    (P.ethernet(1, 2, P.ETH_IPV4, bytes.fromhex("46") + bytes(23)), "IPv4 total length 0 is below the header length 24"),
    (P.ethernet(1, 2, P.ETH_IPV4, P.ipv4(A, B, P.IP_TCP, bytes(8))), "truncated tcp header"),
])
def test_dissect_reports_malformed_packets(frame, problem):
    layers = dissect(frame)
    assert layers[-1].problem is not None and problem in layers[-1].problem
