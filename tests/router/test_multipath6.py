"""ECMP for IPv6 in ipv6_router.p4 and dual_stack_router.p4 (router/multipath.py's flow_hash6).

The router gets five interfaces; 2001:db8:99::/48 (and, on the dual-stack
router, 10.9.0.0/16) is a multipath route over ports 2 to 5. For every
packet the pipeline (P4, with its action_selector) must choose the next hop
that the model computes: the seeded CRC-32 of source, destination, Next
Header and ports (ports 0 for fragments, extension headers, ICMPv6 and
payloads too short for them), its hash-threshold region (RFC 2992), the
group member at that position. The flow label is not part of the flow.
"""

from __future__ import annotations

import ipaddress
import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import IP, TCP, UDP, Ether, Raw, raw
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6TimeExceeded, IPv6,
                                IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, fragment6)
from scapy.layers.sctp import SCTP

from dataplane.build import build
from dataplane.router import multipath
from dataplane.router.agent import Interface, RouterAgent
from dataplane.router.node import Node
from dataplane.runtime.device import Device
from dataplane.runtime.tables import MatchValue
from p4helpers import PROGRAMS

SEED = multipath.router_seed(1, "R6")
ROUTER_MAC = {p: 0x000000000100 * p for p in range(1, 6)}
NEXT_HOPS = tuple((p, 0x0A0000000000 + p) for p in (2, 3, 4, 5))       # (port, neighbour MAC)
REMOTE6 = int(ipaddress.IPv6Address("2001:db8:99::"))                  # 2001:db8:99::/48
REMOTE4 = 0x0A090000                                                   # 10.9.0.0/16
LOCAL_HOST6 = "2001:db8:1::7"
PROGRAM_NAMES = ("ipv6_router", "dual_stack_router")


def make_router(program: str, seed: int = SEED, ecmp: bool = True) -> Node:
    dev = Device(build(str(PROGRAMS / f"{program}.p4")))
    dual = program == "dual_stack_router"
    ifaces = []
    for p in range(1, 6):
        i = Interface(p, ROUTER_MAC[p], ipv6=[ipaddress.IPv6Interface(f"2001:db8:{p}::fe/64")], name=f"eth{p}")
        if dual:
            i.ipv4.append(ipaddress.IPv4Interface(f"10.0.{p}.254/24"))
        ifaces.append(i)
    agent = RouterAgent(dev, ifaces, "R6", ecmp_seed=seed)
    agent.install()
    table = dev.table("ecmp_nhop") if ecmp else None
    rows6 = [(int(ipaddress.IPv6Address("2001:db8:1::")), 64, ((1, 0x080000000101),)), (REMOTE6, 48, NEXT_HOPS)]
    multipath.install_routes(dev.table("ipv6_lpm"), table, rows6)
    if dual:
        rows4 = [(0x0A000100, 24, ((1, 0x080000000101),)), (REMOTE4, 16, NEXT_HOPS)]
        multipath.install_routes(dev.table("ipv4_lpm"), table, rows4)
    return Node(dev, agent, "R6")


@pytest.fixture(scope="module", params=PROGRAM_NAMES)
def router(request):
    return make_router(request.param)


@pytest.fixture(scope="module")
def dual():
    return make_router("dual_stack_router")


def send(router, ip_packet, trace=False):
    frame = raw(Ether(src="08:00:00:00:01:01", dst="00:00:00:00:01:00") / ip_packet)
    return router.process(1, frame, 0.0, trace=trace)


def out_port(router, ip_packet) -> int:
    r = send(router, ip_packet)
    assert r.drops == [] and len(r.outputs) == 1, r.drops
    return r.outputs[0][0]


def addr(text: str) -> int:
    return int(ipaddress.ip_address(text))


def expected_port(src: str, dst: str, next_header: int, sport: int = 0, dport: int = 0, seed: int = SEED) -> int:
    h = multipath.flow_hash6(addr(src), addr(dst), next_header, sport, dport)
    return NEXT_HOPS[multipath.region(h, len(NEXT_HOPS), seed)][0]


def transport(proto: int, sport: int, dport: int):
    if proto == 6:
        return TCP(sport=sport, dport=dport, flags="S")
    if proto == 132:
        return SCTP(sport=sport, dport=dport)
    return UDP(sport=sport, dport=dport)


def random_flows(n: int, seed: int = 5):
    rng = random.Random(seed)
    for _ in range(n):
        yield (f"2001:db8:1::{rng.randrange(1, 0xFFFF):x}",
               f"2001:db8:99:{rng.randrange(0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}",
               rng.choice([6, 17]), rng.randrange(1024, 65536), rng.randrange(1, 65536))


# ---------------------------------------------------------------------------- the model


def test_the_ipv6_flow_hash_is_crc32_of_addresses_next_header_and_ports():
    src, dst = addr("2001:db8:1::7"), addr("2001:db8:99::1")
    data = src.to_bytes(16, "big") + dst.to_bytes(16, "big") + bytes([17]) + bytes.fromhex("03e8 0050")
    assert len(data) == 37
    assert multipath.flow_hash6(src, dst, 17, 1000, 80) == zlib.crc32(data)
    assert multipath.flow_hash6(src, dst, 58) == zlib.crc32(data[:32] + bytes([58, 0, 0, 0, 0]))


def test_the_ipv4_flow_hash_is_unchanged():
    # 13 bytes, as ipv4_router.p4 hashes them: the IPv6 hash did not change the IPv4 one.
    data = bytes([10, 0, 1, 1, 10, 9, 0, 1, 17]) + (1000).to_bytes(2, "big") + (80).to_bytes(2, "big")
    assert multipath.flow_hash(0x0A000101, 0x0A090001, 17, 1000, 80) == zlib.crc32(data)


# ---------------------------------------------------------------------------- the pipeline against the model

V6_HOST = st.integers(min_value=1, max_value=(1 << 64) - 1)
PORT = st.integers(min_value=0, max_value=0xFFFF)


@settings(max_examples=150, deadline=None)
@given(src_host=V6_HOST, dst_low=st.integers(min_value=0, max_value=(1 << 80) - 1),
       proto=st.sampled_from([6, 17, 132]), sport=PORT, dport=PORT, flow_label=st.integers(0, 0xFFFFF))
def test_the_pipeline_chooses_the_next_hop_of_the_model(router, src_host, dst_low, proto, sport, dport, flow_label):
    src = str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("2001:db8:1::")) | src_host))
    dst = str(ipaddress.IPv6Address(REMOTE6 | dst_low))
    packet = IPv6(src=src, dst=dst, fl=flow_label) / transport(proto, sport, dport) / Raw(b"x" * 8)
    assert out_port(router, packet) == expected_port(src, dst, proto, sport, dport)


@settings(max_examples=60, deadline=None)
@given(src_host=V6_HOST, dst_low=st.integers(min_value=0, max_value=(1 << 80) - 1),
       next_header=st.sampled_from([58, 44, 0, 60, 43, 59, 47, 250]))
def test_packets_without_ports_are_hashed_with_their_next_header_and_ports_0(router, src_host, dst_low, next_header):
    src = str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("2001:db8:1::")) | src_host))
    dst = str(ipaddress.IPv6Address(REMOTE6 | dst_low))
    packet = IPv6(src=src, dst=dst, nh=next_header) / Raw(bytes(range(1, 17)))
    assert out_port(router, packet) == expected_port(src, dst, next_header)


def test_flows_spread_over_every_next_hop_about_equally(router):
    counts = {p: 0 for p, _ in NEXT_HOPS}
    for src, dst, proto, sport, dport in random_flows(800, seed=11):
        counts[out_port(router, IPv6(src=src, dst=dst) / transport(proto, sport, dport))] += 1
    assert all(160 <= n <= 240 for n in counts.values()), counts


def test_every_packet_of_a_flow_takes_the_same_next_hop_whatever_its_flow_label(router):
    ports = {out_port(router, IPv6(src=LOCAL_HOST6, dst="2001:db8:99::34", hlim=64 - i % 5, fl=i * 7919, tc=i)
                      / UDP(sport=40000, dport=5001) / Raw(bytes(i * 10))) for i in range(20)}
    assert len(ports) == 1
    # Only the 5-tuple counts: another source port may take another path.
    assert len({out_port(router, IPv6(src=LOCAL_HOST6, dst="2001:db8:99::34") / UDP(sport=s, dport=5001))
                for s in range(40000, 40040)}) == 4


def test_the_next_hop_s_mac_and_the_hop_limit_are_those_of_forwarding(router):
    r = send(router, IPv6(src=LOCAL_HOST6, dst="2001:db8:99::34", hlim=9) / UDP(sport=1234, dport=53))
    (port, frame), = r.outputs
    p = Ether(frame)
    assert p.dst == ":".join(f"{b:02x}" for b in dict(NEXT_HOPS)[port].to_bytes(6, "big"))
    assert p.src == ":".join(f"{b:02x}" for b in ROUTER_MAC[port].to_bytes(6, "big"))
    assert p[IPv6].hlim == 8 and p[UDP].dport == 53


def test_fragments_take_one_path_hashed_on_the_fragment_header(router):
    # Every fragment, the first (which carries the ports) included, has Next Header 44 and no ports in the hash.
    for ident in range(30):
        datagram = IPv6(src=LOCAL_HOST6, dst="2001:db8:99::77") / IPv6ExtHdrFragment(id=ident) \
            / UDP(sport=3000 + ident, dport=9) / Raw(b"z" * 1800)
        frags = fragment6(datagram, 1280)
        assert len(frags) == 2
        assert {out_port(router, f) for f in frags} == {expected_port(LOCAL_HOST6, "2001:db8:99::77", 44)}
    # Unfragmented, the same datagrams are hashed with their ports, over every next hop.
    assert {out_port(router, IPv6(src=LOCAL_HOST6, dst="2001:db8:99::77") / UDP(sport=3000 + i, dport=9))
            for i in range(30)} == {p for p, _ in NEXT_HOPS}


def test_extension_headers_are_not_walked():
    r = make_router("ipv6_router")
    for i in range(20):
        dst = f"2001:db8:99::{i + 1:x}"
        packet = IPv6(src=LOCAL_HOST6, dst=dst) / IPv6ExtHdrHopByHop() / UDP(sport=1000 + i, dport=53)
        assert out_port(r, packet) == expected_port(LOCAL_HOST6, dst, 0)


def test_icmpv6_and_payloads_too_short_for_ports_hash_without_ports(router):
    for i in range(30):
        dst = f"2001:db8:99:1::{i + 1:x}"
        # Echo requests of any identifier and sequence: one path per pair of addresses.
        assert {out_port(router, IPv6(src=LOCAL_HOST6, dst=dst) / ICMPv6EchoRequest(id=j, seq=i)) for j in range(3)} \
            == {expected_port(LOCAL_HOST6, dst, 58)}
        # Two bytes of UDP: too short to hold both ports; forwarded, hashed without them.
        assert out_port(router, IPv6(src=LOCAL_HOST6, dst=dst, nh=17) / Raw(b"\x12\x34")) \
            == expected_port(LOCAL_HOST6, dst, 17)


def test_a_trace_shows_the_route_the_group_and_the_member_chosen(router):
    r = send(router, IPv6(src=LOCAL_HOST6, dst="2001:db8:99::34") / UDP(sport=1234, dport=53), trace=True)
    text = r.trace.render()
    assert "-> MyIngress.multipath(0, 4)" in text
    assert "MyIngress.ecmp_seed.read[0] -> " + str(SEED) in text
    member = expected_port(LOCAL_HOST6, "2001:db8:99::34", 17, 1234, 53) - 2       # members 0..3 are ports 2..5
    h = multipath.region(multipath.flow_hash6(addr(LOCAL_HOST6), addr("2001:db8:99::34"), 17, 1234, 53), 4, SEED)
    assert f"action selector MyIngress.ecmp_selector: group 0 (4 members), hash 0x{h:x} -> member {member}" in text


def test_another_seed_gives_other_choices():
    seed = multipath.router_seed(1, "S6")
    other = make_router("ipv6_router", seed=seed)
    flows = list(random_flows(200, seed=3))
    mine = [expected_port(*f) for f in flows]
    theirs = [out_port(other, IPv6(src=s, dst=d) / transport(p, a, b)) for s, d, p, a, b in flows]
    assert theirs == [expected_port(*f, seed=seed) for f in flows]
    assert 0.15 < sum(a == b for a, b in zip(mine, theirs)) / len(flows) < 0.35      # about 1 in 4 by chance


# ---------------------------------------------------------------------------- the agent's own packets


def test_the_agent_s_own_packets_follow_the_route_it_resolves(router):
    # An ICMPv6 error or echo reply toward a multipath destination: the member for source 0, Next Header 0, no ports.
    dst = addr("2001:db8:99::5:5")
    port, mac = router.agent.route(dst, True)
    assert (port, mac) == NEXT_HOPS[multipath.region(multipath.flow_hash6(0, dst, 0), 4, SEED)]
    # Time Exceeded about a packet from 2001:db8:99::5:5 goes back over that next hop.
    r = send(router, IPv6(src="2001:db8:99::5:5", dst="2001:db8:99::7:7", hlim=1) / UDP(sport=5, dport=6))
    assert [p for p, _ in r.outputs] == [port]
    assert ICMPv6TimeExceeded in Ether(r.outputs[0][1])


def test_a_multipath_route_without_its_group_is_no_route():
    dev = Device(build(str(PROGRAMS / "ipv6_router.p4")))
    dev.table("ipv6_lpm").add([MatchValue(REMOTE6, prefix_len=48)], "multipath", [7, 2])
    dev.table("ipv6_lpm").add([MatchValue(addr("2001:db8:1::"), prefix_len=64)], "forward", [0x080000000101, 1])
    agent = RouterAgent(dev, [Interface(1, ROUTER_MAC[1], ipv6=[ipaddress.IPv6Interface("2001:db8:1::fe/64")])], "R")
    agent.install()
    assert agent.route(addr("2001:db8:99::1"), True) is None
    # The pipeline's ecmp_nhop misses: its default no_route() sends the packet to the agent, which answers
    # Destination Unreachable.
    frame = raw(Ether(dst="00:00:00:00:01:00") / IPv6(src=LOCAL_HOST6, dst="2001:db8:99::1") / UDP())
    r = Node(dev, agent, "R").process(1, frame, 0.0)
    assert r.agent_handled == 1
    (port, frame), = r.outputs
    assert port == 1 and ICMPv6DestUnreach in Ether(frame)


def test_without_the_multipath_table_every_route_takes_its_first_next_hop():
    r = make_router("ipv6_router", ecmp=False)
    lpm = r.device.table("ipv6_lpm")
    assert {lpm.actions[e.aid].short_name for e in lpm.entries.values()} == {"forward"}
    assert not r.device.table("ecmp_nhop").entries
    assert {out_port(r, IPv6(src=LOCAL_HOST6, dst="2001:db8:99::34") / UDP(sport=s, dport=5001))
            for s in range(40)} == {2}


# ---------------------------------------------------------------------------- dual stack: IPv4 too


@settings(max_examples=100, deadline=None)
@given(src=st.integers(min_value=0x0A000101, max_value=0x0A0001FE), dst_low=st.integers(0, 0xFFFF),
       proto=st.sampled_from([6, 17, 132]), sport=PORT, dport=PORT)
def test_dual_stack_ipv4_flows_hash_as_in_ipv4_router(dual, src, dst_low, proto, sport, dport):
    s, d = str(ipaddress.IPv4Address(src)), str(ipaddress.IPv4Address(REMOTE4 | dst_low))
    h = multipath.flow_hash(src, REMOTE4 | dst_low, proto, sport, dport)
    assert out_port(dual, IP(src=s, dst=d) / transport(proto, sport, dport)) \
        == NEXT_HOPS[multipath.region(h, 4, SEED)][0]


def test_dual_stack_ipv4_fragments_hash_without_ports(dual):
    from scapy.all import fragment
    for sport in range(3000, 3020):
        datagram = IP(src="10.0.1.9", dst="10.9.0.77", id=sport) / UDP(sport=sport, dport=9) / Raw(b"z" * 600)
        h = multipath.flow_hash(0x0A000109, 0x0A09004D, 17)
        assert {out_port(dual, f) for f in fragment(datagram, fragsize=256)} \
            == {NEXT_HOPS[multipath.region(h, 4, SEED)][0]}


def test_dual_stack_families_share_the_selector_and_the_agent_resolves_both(dual):
    profile = dual.device.table("ecmp_nhop").profile
    assert len(profile.groups) == 2                       # one group per family's route, members of each
    dst4, dst6 = 0x0A090505, addr("2001:db8:99::5:5")
    assert dual.agent.route(dst4, False) == NEXT_HOPS[multipath.region(multipath.flow_hash(0, dst4, 0), 4, SEED)]
    assert dual.agent.route(dst6, True) == NEXT_HOPS[multipath.region(multipath.flow_hash6(0, dst6, 0), 4, SEED)]


def test_route_tables_that_can_hold_multipath_routes():
    for program, table in (("ipv4_router", "ipv4_lpm"), ("ipv6_router", "ipv6_lpm"), ("dual_stack_router", "ipv4_lpm"),
                           ("dual_stack_router", "ipv6_lpm")):
        assert multipath.has_multipath(Device(build(str(PROGRAMS / f"{program}.p4"))).table(table)), (program, table)
    # A program without the multipath action keeps one next hop per route (auto routing checks this).
    assert not multipath.has_multipath(Device(build(str(PROGRAMS / "basic_ipv4.p4"))).table("ipv4_lpm"))
