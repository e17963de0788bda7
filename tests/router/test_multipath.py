"""ECMP in ipv4_router.p4 (router/multipath.py): which next hop a flow takes, and how the routes are installed.

The router of routerlab gets two more interfaces; 10.9.0.0/16 is a multipath
route over ports 2 to 5. The pipeline (P4, with its action_selector) must
choose for every packet the next hop that router/multipath.py's model
computes: the seeded CRC-32 of the 5-tuple (3-tuple for fragments), its
hash-threshold region (RFC 2992), the group member at that position.
"""

from __future__ import annotations

import ipaddress
import random

import pytest
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, fragment, raw

from dataplane.build import build
from dataplane.router import multipath
from dataplane.router.agent import Interface, RouterAgent
from dataplane.router.node import Node
from dataplane.runtime.device import Device
from dataplane.runtime.tables import MatchValue
from p4helpers import PROGRAMS

SEED = multipath.router_seed(1, "R")
ROUTER_MAC = {p: 0x000000000100 * p for p in range(1, 6)}
NEXT_HOPS = tuple((p, 0x0A0000000000 + p) for p in (2, 3, 4, 5))       # (port, neighbour MAC)
REMOTE = 0x0A090000                                                    # 10.9.0.0/16


def make_router(seed: int = SEED, ecmp: bool = True) -> Node:
    dev = Device(build(str(PROGRAMS / "ipv4_router.p4")))
    ifaces = [Interface(p, ROUTER_MAC[p], [ipaddress.IPv4Interface(f"10.0.{p}.254/24")], name=f"eth{p}")
              for p in range(1, 6)]
    agent = RouterAgent(dev, ifaces, "R", ecmp_seed=seed)
    agent.install()
    rows = [(0x0A000100, 24, ((1, 0x080000000101),)), (REMOTE, 16, NEXT_HOPS)]
    multipath.install_routes(dev.table("ipv4_lpm"), dev.table("ecmp_nhop") if ecmp else None, rows)
    return Node(dev, agent, "R")


@pytest.fixture(scope="module")
def router():
    return make_router()


def send(router, ip_packet, trace=False):
    frame = raw(Ether(src="08:00:00:00:01:01", dst="00:00:00:00:01:00") / ip_packet)
    r = router.process(1, frame, 0.0, trace=trace)
    return r


def out_port(router, ip_packet) -> int:
    r = send(router, ip_packet)
    assert r.drops == [] and len(r.outputs) == 1, r.drops
    return r.outputs[0][0]


def expected_port(src: str, dst: str, proto: int, sport: int = 0, dport: int = 0, seed: int = SEED) -> int:
    h = multipath.flow_hash(int(ipaddress.ip_address(src)), int(ipaddress.ip_address(dst)), proto, sport, dport)
    return NEXT_HOPS[multipath.region(h, len(NEXT_HOPS), seed)][0]


def random_flows(n: int, seed: int = 5):
    rng = random.Random(seed)
    for _ in range(n):
        yield (f"10.0.1.{rng.randrange(1, 254)}", f"10.9.{rng.randrange(256)}.{rng.randrange(1, 255)}",
               rng.choice([6, 17]), rng.randrange(1024, 65536), rng.randrange(1, 65536))


def transport(proto, sport, dport):
    return TCP(sport=sport, dport=dport, flags="S") if proto == 6 else UDP(sport=sport, dport=dport)


# ---------------------------------------------------------------------------- the model


def test_hash_threshold_cuts_the_hash_space_into_equal_regions():
    # The top 16 bits of hash * seed index the regions: with 4 next hops, each gets 16384 of the 65536 values,
    # in order (region 0 is the lowest quarter); with 3, the sizes differ by at most one.
    for paths in (2, 3, 4, 7):
        sizes = [0] * paths
        for top in range(1 << 16):
            sizes[(top * paths) >> 16] += 1
        assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 1 << 16
    assert [multipath.region(h << 16, 4, 1) for h in (0, 0x3FFF, 0x4000, 0x7FFF, 0x8000, 0xBFFF, 0xC000, 0xFFFF)] \
        == [0, 0, 1, 1, 2, 2, 3, 3]


def test_the_flow_hash_is_crc32_of_the_5_tuple():
    import zlib
    data = bytes([10, 0, 1, 1, 10, 9, 0, 1, 17]) + (1000).to_bytes(2, "big") + (80).to_bytes(2, "big")
    assert multipath.flow_hash(0x0A000101, 0x0A090001, 17, 1000, 80) == zlib.crc32(data)


def test_router_seeds_are_odd_and_differ_between_routers():
    seeds = {multipath.router_seed(1, f"r{i}") for i in range(100)}
    assert len(seeds) == 100 and all(s & 1 for s in seeds)
    assert multipath.router_seed(1, "r1") == multipath.router_seed(1, "r1") != multipath.router_seed(2, "r1")


def test_seeds_decorrelate_the_choices_of_successive_routers():
    # Hash polarization: with one hash everywhere, a router that chose its first of two next hops would send on
    # only flows whose next router chooses its first too. With per-router seeds all four pairs occur, about
    # equally often.
    pairs = {}
    edge, aggregation = multipath.router_seed(1, "e0_0"), multipath.router_seed(1, "a0_0")
    for src, dst, proto, sport, dport in random_flows(4000):
        h = multipath.flow_hash(int(ipaddress.ip_address(src)), int(ipaddress.ip_address(dst)), proto, sport, dport)
        key = (multipath.region(h, 2, edge), multipath.region(h, 2, aggregation))
        pairs[key] = pairs.get(key, 0) + 1
    assert sorted(pairs) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(800 <= n <= 1200 for n in pairs.values()), pairs


# ---------------------------------------------------------------------------- the pipeline


def test_the_pipeline_chooses_the_next_hop_of_the_model(router):
    for src, dst, proto, sport, dport in random_flows(300):
        port = out_port(router, IP(src=src, dst=dst) / transport(proto, sport, dport) / Raw(b"x" * 10))
        assert port == expected_port(src, dst, proto, sport, dport), (src, dst, proto, sport, dport)


def test_flows_spread_over_every_next_hop_about_equally(router):
    counts = {p: 0 for p, _ in NEXT_HOPS}
    for src, dst, proto, sport, dport in random_flows(800, seed=11):
        counts[out_port(router, IP(src=src, dst=dst) / transport(proto, sport, dport))] += 1
    assert all(160 <= n <= 240 for n in counts.values()), counts


def test_every_packet_of_a_flow_takes_the_same_next_hop(router):
    ports = {out_port(router, IP(src="10.0.1.7", dst="10.9.3.4", id=i, ttl=64 - i % 5)
                      / UDP(sport=40000, dport=5001) / Raw(bytes(i * 10))) for i in range(20)}
    assert len(ports) == 1
    # Only the 5-tuple counts: another source port may take another path.
    assert len({out_port(router, IP(src="10.0.1.7", dst="10.9.3.4") / UDP(sport=s, dport=5001))
                for s in range(40000, 40040)}) == 4


def test_the_next_hop_s_mac_and_the_ttl_are_those_of_forwarding(router):
    r = send(router, IP(src="10.0.1.7", dst="10.9.3.4", ttl=9) / UDP(sport=1234, dport=53))
    (port, frame), = r.outputs
    p = Ether(frame)
    assert p.dst == ":".join(f"{b:02x}" for b in dict(NEXT_HOPS)[port].to_bytes(6, "big"))
    assert p.src == ":".join(f"{b:02x}" for b in ROUTER_MAC[port].to_bytes(6, "big"))
    assert p[IP].ttl == 8 and p[UDP].dport == 53


def test_fragments_are_hashed_on_addresses_and_protocol_so_a_datagram_takes_one_path(router):
    # As Linux: the first fragment carries the ports but is hashed without them, like the others.
    for sport in range(3000, 3040):
        datagram = IP(src="10.0.1.9", dst="10.9.0.77", id=sport) / UDP(sport=sport, dport=9) / Raw(b"z" * 600)
        frags = fragment(datagram, fragsize=256)
        assert len(frags) == 3 and frags[0][IP].flags.MF and frags[1][IP].frag > 0
        ports = {out_port(router, f) for f in frags}
        assert ports == {expected_port("10.0.1.9", "10.9.0.77", 17)}
    # The whole datagram, unfragmented, is hashed with its ports.
    assert {out_port(router, IP(src="10.0.1.9", dst="10.9.0.77") / UDP(sport=s, dport=9))
            for s in range(3000, 3040)} == {p for p, _ in NEXT_HOPS}


def test_protocols_without_ports_and_datagrams_too_short_for_them_hash_on_three_fields(router):
    for i in range(30):
        dst = f"10.9.1.{i + 1}"
        assert out_port(router, IP(src="10.0.1.5", dst=dst) / ICMP(id=i, seq=i)) == expected_port("10.0.1.5", dst, 1)
        # Two bytes of TCP: too short to hold both ports; forwarded, hashed without them.
        short = IP(src="10.0.1.5", dst=dst, proto=6) / Raw(b"\x12\x34")
        assert out_port(router, short) == expected_port("10.0.1.5", dst, 6)


def test_a_trace_shows_the_route_the_group_and_the_member_chosen(router):
    r = send(router, IP(src="10.0.1.7", dst="10.9.3.4") / UDP(sport=1234, dport=53), trace=True)
    text = r.trace.render()
    assert "[hdr.ipv4.dstAddr=0x0a090000/16] -> MyIngress.multipath(0, 4)" in text
    assert "MyIngress.ecmp_seed.read[0] -> " + str(SEED) in text
    assert "table MyIngress.ecmp_nhop: key {meta.ecmp_group=0} hit entry 0 [meta.ecmp_group=0x0000] -> group 0" in text
    member = expected_port("10.0.1.7", "10.9.3.4", 17, 1234, 53) - 2       # members 0..3 are ports 2..5
    h = multipath.region(multipath.flow_hash(0x0A000107, 0x0A090304, 17, 1234, 53), 4, SEED)
    assert f"action selector MyIngress.ecmp_selector: group 0 (4 members), hash 0x{h:x} -> member {member}" in text


def test_the_seed_register_holds_the_router_seed(router):
    assert router.device.register_read("ecmp_seed", 0) == SEED


def test_another_seed_gives_other_choices():
    other = make_router(seed=multipath.router_seed(1, "S"))
    flows = list(random_flows(200, seed=3))
    mine = [expected_port(*f) for f in flows]
    theirs = [out_port(other, IP(src=s, dst=d) / transport(p, a, b)) for s, d, p, a, b in flows]
    assert theirs == [expected_port(*f, seed=multipath.router_seed(1, "S")) for f in flows]
    assert 0.15 < sum(a == b for a, b in zip(mine, theirs)) / len(flows) < 0.35      # about 1 in 4 by chance


def test_the_agent_s_own_packets_follow_the_route_it_resolves(router):
    # An ICMP error or echo reply toward a multipath destination: the member for source 0, protocol 0, no ports.
    dst = 0x0A090505
    port, mac = router.agent.route(dst, False)
    h = multipath.flow_hash(0, dst, 0)
    assert (port, mac) == NEXT_HOPS[multipath.region(h, 4, SEED)]
    # Time exceeded about a packet from 10.9.5.5 goes back over that next hop.
    r = send(router, IP(src="10.9.5.5", dst="10.9.7.7", ttl=1) / UDP(sport=5, dport=6))
    assert [p for p, _ in r.outputs] == [port]
    assert Ether(r.outputs[0][1])[ICMP].type == 11


# ---------------------------------------------------------------------------- installing routes


def test_routes_with_the_same_next_hops_share_a_group_and_members_follow_the_next_hop_order():
    dev = Device(build(str(PROGRAMS / "ipv4_router.p4")))
    a, b, c = (2, 0x0A02), (3, 0x0A03), (4, 0x0A04)
    rows = [(0x0A010000, 16, (a, b)), (0x0A020000, 16, (b, c)), (0x0A030000, 16, (a, b)), (0x0A040000, 16, (c,)),
            (0x0A050000, 16, (a, b, c))]
    lpm, ecmp = dev.table("ipv4_lpm"), dev.table("ecmp_nhop")
    multipath.install_routes(lpm, ecmp, rows)
    profile = ecmp.profile
    assert [(m.handle, m.args) for m in profile.members.values()] == [(0, (0x0A02, 2)), (1, (0x0A03, 3)),
                                                                     (2, (0x0A04, 4))]
    assert {g: [m.handle for m in grp.members] for g, grp in profile.groups.items()} == {0: [0, 1], 1: [1, 2],
                                                                                       2: [0, 1, 2]}
    routes = {e.match[0].value >> 16: (lpm.actions[e.aid].short_name, e.args) for e in lpm.entries.values()}
    assert routes == {0x0A01: ("multipath", (0, 2)), 0x0A02: ("multipath", (1, 2)), 0x0A03: ("multipath", (0, 2)),
                      0x0A04: ("forward", (0x0A04, 4)), 0x0A05: ("multipath", (2, 3))}
    assert len(ecmp.entries) == 3


def test_without_the_multipath_table_every_route_takes_its_first_next_hop():
    r = make_router(ecmp=False)
    lpm = r.device.table("ipv4_lpm")
    assert {lpm.actions[e.aid].short_name for e in lpm.entries.values()} == {"forward"}
    assert not r.device.table("ecmp_nhop").entries
    assert {out_port(r, IP(src="10.0.1.7", dst="10.9.3.4") / UDP(sport=s, dport=5001)) for s in range(40)} == {2}


def test_a_route_lookup_of_a_multipath_route_without_its_group_is_no_route():
    dev = Device(build(str(PROGRAMS / "ipv4_router.p4")))
    dev.table("ipv4_lpm").add([MatchValue(REMOTE, prefix_len=16)], "multipath", [7, 2])
    agent = RouterAgent(dev, [Interface(1, ROUTER_MAC[1], [ipaddress.IPv4Interface("10.0.1.254/24")])], "R")
    agent.install()
    assert agent.route(0x0A090001, False) is None
    # The pipeline's ecmp_nhop misses: its default no_route() sends the packet to the agent, which answers
    # Destination Unreachable.
    r = Node(dev, agent, "R").process(1, raw(Ether(dst="00:00:00:00:01:00") / IP(src="10.0.1.1", dst="10.9.0.1")
                                             / UDP()), 0.0)
    assert r.agent_handled == 1 and r.outputs == []
