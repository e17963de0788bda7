"""IPv6 router behaviour required by the RFCs (ipv6_router.p4 and dual_stack_router.p4 with the
router agent); test names cite shared/spec/rfc-behaviors.md.

scapy is the independent oracle: every packet the router emits must dissect
cleanly and carry the checksum scapy computes (ICMPv6 with its pseudo-header)."""

from __future__ import annotations

import struct

import pytest
from scapy.all import (ICMP, IP, UDP, TCP, Ether, ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_Redirect, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                       ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6, Raw, raw)

from routerlab import make_router
from dataplane.protocols.dissect import dissect
from dataplane.router.agent import CPU_IN_FORMAT, REASON_NEEDS_FRAG, RouterConfigError
from dataplane.runtime.trace import DropReason

H1 = "2001:db8:1::1"
R1, R2, R3 = "2001:db8:1::fe", "2001:db8:2::fe", "2001:db8:3::fe"
H1_MAC, R1_MAC = "08:00:00:00:01:01", "00:00:00:00:01:00"


@pytest.fixture(params=["ipv6_router.p4", "dual_stack_router.p4"])
def router(request):
    return make_router(request.param, v6=True)


def send(router, pkt, port=1, now=0.0):
    outputs, drops, _ = router.receive(port, raw(pkt), now)
    return [(p, Ether(f)) for p, f in outputs], drops


def from_h1(ip6, *upper, dst_mac=R1_MAC):
    pkt = Ether(src=H1_MAC, dst=dst_mac) / ip6
    for u in upper:
        pkt = pkt / u
    return pkt


def assert_clean(p):
    """Dissects without problems, and the upper-layer checksum is the one scapy computes."""
    frame = raw(p)
    assert all(layer.problem is None for layer in dissect(frame)), dissect(frame)
    again = Ether(frame)
    upper = again[IPv6].payload
    if hasattr(upper, "cksum"):
        sent = upper.cksum
        del upper.cksum
        assert Ether(raw(again))[IPv6].payload.cksum == sent, "bad upper-layer checksum"


def test_forwarding_decrements_the_hop_limit_and_rewrites_macs(router):
    orig = from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=64, tc=0x28, fl=0xABCDE), UDP(sport=7, dport=9),
                   Raw(b"hello"))
    out, drops = send(router, orig)
    assert drops == [] and len(out) == 1
    port, p = out[0]
    assert port == 2 and p.src == "00:00:00:00:02:00" and p.dst == "08:00:00:00:02:02"
    assert p[IPv6].hlim == 63 and p[IPv6].tc == 0x28 and p[IPv6].fl == 0xABCDE
    assert raw(p[UDP]) == raw(orig[UDP])          # IPv6 has no header checksum; the UDP one is untouched
    assert_clean(p)


# -- R6: hop limit --------------------------------------------------------------------------------

@pytest.mark.parametrize("hlim", [1, 0])
def test_R6_hop_limit_expiring_gets_time_exceeded_3_0_from_the_interface_toward_the_source(router, hlim):
    orig = from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=hlim), UDP(sport=33434, dport=33435), Raw(b"probe"))
    out, drops = send(router, orig)
    assert len(out) == 1
    port, p = out[0]
    assert port == 1 and p.dst == H1_MAC and p.src == R1_MAC
    assert p[IPv6].src == R1 and p[IPv6].dst == H1 and p[IPv6].nh == 58
    assert (p[ICMPv6TimeExceeded].type, p[ICMPv6TimeExceeded].code) == (3, 0)
    assert raw(p[ICMPv6TimeExceeded])[8:] == raw(orig[IPv6])        # a short packet is quoted whole
    assert drops == [(DropReason.TTL_EXCEEDED, "ICMPv6 3/0 sent")]
    assert_clean(p)


def test_R6_the_error_source_is_the_outgoing_interface_not_the_ingress(router):
    # Asymmetric path: the packet arrives on port 2, its source lives behind port 1.
    pkt = Ether(src="08:00:00:00:02:02", dst="00:00:00:00:02:00") / IPv6(src=H1, dst="2001:db8:3::3", hlim=1) / UDP()
    out, _ = send(router, pkt, port=2)
    assert out[0][0] == 1 and out[0][1][IPv6].src == R1


@pytest.mark.parametrize("hlim", [0, 1, 255])
def test_R6_the_router_accepts_packets_for_itself_whatever_the_hop_limit(router, hlim):
    out, _ = send(router, from_h1(IPv6(src=H1, dst=R2, hlim=hlim), ICMPv6EchoRequest(id=3, seq=4, data=b"abc")))
    assert len(out) == 1
    p = out[0][1]
    assert p[ICMPv6EchoReply].id == 3 and p[ICMPv6EchoReply].seq == 4 and p[ICMPv6EchoReply].data == b"abc"
    assert p[IPv6].src == R2 and p[IPv6].dst == H1
    assert_clean(p)


# -- R21: never fragment, Packet Too Big, minimum MTU -------------------------------------------

def test_R21_1500_bytes_onto_a_1400_link_gets_packet_too_big_1400():
    for program in ("ipv6_router.p4", "dual_stack_router.p4"):
        r = make_router(program, mtu3=1400, v6=True)
        orig = from_h1(IPv6(src=H1, dst="2001:db8:3::3"), UDP(), Raw(bytes(1452)))
        assert len(orig[IPv6]) == 1500
        out, drops = send(r, orig)
        assert [port for port, _ in out] == [1]                 # nothing goes out of port 3: no fragments
        p = out[0][1]
        assert (p[ICMPv6PacketTooBig].type, p[ICMPv6PacketTooBig].code, p[ICMPv6PacketTooBig].mtu) == (2, 0, 1400)
        assert raw(p[ICMPv6PacketTooBig])[4:8] == bytes.fromhex("00000578")
        assert p[IPv6].src == R1
        assert drops[0][0] is DropReason.PACKET_TOO_BIG
        assert_clean(p)


def test_R21_a_packet_exactly_at_the_mtu_is_forwarded():
    r = make_router("ipv6_router.p4", mtu3=1400, v6=True)
    out, drops = send(r, from_h1(IPv6(src=H1, dst="2001:db8:3::3"), UDP(), Raw(bytes(1352))))
    assert drops == [] and [port for port, _ in out] == [3]


def test_R21_packet_too_big_is_sent_even_about_multicast():
    # ipv6_router.p4 does not route multicast, but the agent serves any program that follows
    # router.p4: a NEEDS_FRAG punt about a multicast packet still gets its Packet Too Big.
    r = make_router("ipv6_router.p4", v6=True)
    pkt = Ether(src=H1_MAC, dst="33:33:00:00:01:05") / IPv6(src=H1, dst="ff0e::105") / UDP() / Raw(bytes(1452))
    punt = struct.pack(CPU_IN_FORMAT, REASON_NEEDS_FRAG, 0, 1, 3, 1280) + raw(pkt)
    out, drops = r.agent.handle(punt, 0.0)
    assert len(out) == 1
    p = Ether(out[0][1])
    assert p[ICMPv6PacketTooBig].mtu == 1280 and p[IPv6].dst == H1
    assert_clean(p)


def test_R21_an_mtu_below_1280_is_refused_at_configuration():
    with pytest.raises(RouterConfigError, match="MTU 1279; IPv6 needs at least 1280"):
        make_router("ipv6_router.p4", mtu3=1279, v6=True)
    make_router("ipv6_router.p4", mtu3=1280, v6=True)


# -- R27: what an error quotes --------------------------------------------------------------------

def test_R27_errors_quote_up_to_1280_bytes_in_all(router):
    orig = from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), UDP(), Raw(bytes(range(256)) * 5 + bytes(172)))
    assert len(orig[IPv6]) == 1500
    p = send(router, orig)[0][0][1]
    assert len(p[IPv6]) == 1280 and p[IPv6].plen == 1240
    assert raw(p[ICMPv6TimeExceeded])[8:] == raw(orig[IPv6])[:1232]
    assert_clean(p)                                  # checksum over the pseudo-header with next header 58


# -- R28: when no error may be sent --------------------------------------------------------------

@pytest.mark.parametrize("pkt,why", [
    (lambda: from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), ICMPv6DestUnreach(code=4), Raw(bytes(48))),
     "about an ICMPv6 error or redirect"),
    (lambda: from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), ICMPv6ND_Redirect(tgt="::1", dst="::2")),
     "about an ICMPv6 error or redirect"),
    (lambda: from_h1(IPv6(src="::", dst="2001:db8:2::2", hlim=1), UDP()), "source is unspecified or multicast"),
    (lambda: from_h1(IPv6(src="ff02::1", dst="2001:db8:2::2", hlim=1), UDP()), "source is unspecified or multicast"),
    (lambda: from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), UDP(), dst_mac="33:33:00:00:00:01"),
     "multicast destination"),
])
def test_R28_no_errors_about_these(router, pkt, why):
    out, drops = send(router, pkt())
    assert out == []
    assert router.agent.stats.suppressed == {why: 1}
    assert drops == [(DropReason.TTL_EXCEEDED, f"no ICMP error: {why}")]


def test_R28_an_expiring_echo_request_gets_time_exceeded(router):
    out, _ = send(router, from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), ICMPv6EchoRequest()))
    assert len(out) == 1 and out[0][1][ICMPv6TimeExceeded].type == 3


def test_R28_echo_replies_from_the_address_asked_with_identifier_sequence_and_data(router):
    data = bytes(range(200))
    p = send(router, from_h1(IPv6(src=H1, dst=R1), ICMPv6EchoRequest(id=0x4242, seq=77, data=data)))[0][0][1]
    assert (p[ICMPv6EchoReply].id, p[ICMPv6EchoReply].seq, p[ICMPv6EchoReply].data) == (0x4242, 77, data)
    assert p[IPv6].src == R1
    assert_clean(p)


def test_R10_icmpv6_errors_are_rate_limited_by_a_token_bucket():
    r = make_router("ipv6_router.p4", v6=True, rate=1.0, burst=2.0)
    probe = from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), UDP())
    assert [len(send(r, probe, now=t)[0]) for t in (0, 1, 2, 3)] == [1, 1, 0, 0]
    assert r.agent.stats.suppressed == {"rate limit": 2}
    assert len(send(r, probe, now=1_000_010)[0]) == 1             # a second later: one more token


# -- R11 for IPv6: no route, closed ports ---------------------------------------------------------

def test_R11_no_route_gets_destination_unreachable_1_0(router):
    p = send(router, from_h1(IPv6(src=H1, dst="2001:db8:99::1"), UDP()))[0][0][1]
    assert (p[ICMPv6DestUnreach].type, p[ICMPv6DestUnreach].code) == (1, 0) and p[IPv6].dst == H1
    assert_clean(p)


def test_R11_udp_to_the_router_gets_port_unreachable_1_4(router):
    out, drops = send(router, from_h1(IPv6(src=H1, dst=R1), UDP(sport=5000, dport=9)))
    p = out[0][1]
    assert (p[ICMPv6DestUnreach].type, p[ICMPv6DestUnreach].code) == (1, 4)
    assert drops[0][0] is DropReason.NO_LISTENER
    assert_clean(p)


def test_R31_tcp_to_the_router_gets_a_reset(router):
    p = send(router, from_h1(IPv6(src=H1, dst=R1), TCP(sport=40000, dport=22, flags="S", seq=1000)))[0][0][1]
    assert p[TCP].flags == "RA" and p[TCP].ack == 1001 and p[TCP].seq == 0
    assert_clean(p)


# -- Neighbor Discovery -----------------------------------------------------------------------------

def test_neighbor_solicitation_for_the_router_gets_an_advertisement(router):
    ns = from_h1(IPv6(src=H1, dst="ff02::1:ff00:fe", hlim=255), ICMPv6ND_NS(tgt=R1),
                 ICMPv6NDOptSrcLLAddr(lladdr=H1_MAC), dst_mac="33:33:ff:00:00:fe")
    out, drops = send(router, ns)
    assert len(out) == 1 and out[0][0] == 1
    p = out[0][1]
    na = p[ICMPv6ND_NA]
    assert p.dst == H1_MAC and p[IPv6].dst == H1 and p[IPv6].src == R1 and p[IPv6].hlim == 255
    assert na.tgt == R1 and na.R == 1 and na.S == 1 and na.O == 1
    assert p[ICMPv6NDOptDstLLAddr].lladdr == R1_MAC
    assert drops == [(DropReason.CONSUMED, "handled by the router")]
    assert_clean(p)


def test_neighbor_solicitation_with_a_hop_limit_below_255_is_ignored(router):
    ns = from_h1(IPv6(src=H1, dst="ff02::1:ff00:fe", hlim=64), ICMPv6ND_NS(tgt=R1), dst_mac="33:33:ff:00:00:fe")
    out, drops = send(router, ns)
    assert out == [] and drops[0][0] is DropReason.MALFORMED


def test_every_punted_packet_has_exactly_one_fate(router):
    """Accounting: each packet the agent receives is consumed or dropped once, whatever it sends."""
    probes = [from_h1(IPv6(src=H1, dst=d, hlim=h), UDP(), Raw(bytes(n)))
              for d in ("2001:db8:2::2", R1, "2001:db8:99::1") for h in (0, 1, 64) for n in (0, 1400)]
    for probe in probes:
        out, drops = send(router, probe)
        assert len(drops) + (1 if drops == [] and out else 0) == 1, (probe.summary(), drops)
        for _, p in out:
            assert_clean(p)


def test_dual_stack_router_serves_both_families_at_once():
    r = make_router("dual_stack_router.p4", v6=True)
    v4 = Ether(src=H1_MAC, dst=R1_MAC) / IP(src="10.0.1.1", dst="10.0.2.2", ttl=1) / UDP()
    v6 = from_h1(IPv6(src=H1, dst="2001:db8:2::2", hlim=1), UDP())
    p4, p6 = send(r, v4)[0][0][1], send(r, v6)[0][0][1]
    assert (p4[ICMP].type, p4[IP].src) == (11, "10.0.1.254")
    assert (p6[ICMPv6TimeExceeded].type, p6[IPv6].src) == (3, R1)
