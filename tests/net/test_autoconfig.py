"""`entries: auto` and `gateway: auto`: segments, shortest-path routes and gateways from the topology's shape."""

from __future__ import annotations

import ipaddress

import networkx as nx
import pytest

from dataplane.net import autoconfig
from dataplane.net.network import Network
from dataplane.net.topology import load_topology_text

# r1 and r2 share a switch segment with h1 and h2 (a LAN with two routers); r2 - r3 - r4 is a line,
# and r4 also reaches r1 directly: a ring r1 - r2 - r3 - r4 - r1 of which r1-r2 is the LAN.
RING = """
name: ring with a LAN
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.11/24, ipv6: "2001:db8::11/64"}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.12/24}}}
  s1: {kind: switch, interfaces: {p1: {}, p2: {}, p3: {}, p4: {}}}
  r1:
    kind: router
    interfaces:
      lan: {ipv4: 10.0.0.1/24, ipv6: "2001:db8::1/64"}
      east: {ipv4: 10.9.14.1/30, ipv6: "2001:db8:14::1/64"}
  r2:
    kind: router
    interfaces:
      lan: {ipv4: 10.0.0.2/24, ipv6: "2001:db8::2/64"}
      west: {ipv4: 10.9.23.1/30, ipv6: "2001:db8:23::1/64"}
  r3:
    kind: router
    interfaces:
      a: {ipv4: 10.9.23.2/30, ipv6: "2001:db8:23::2/64"}
      b: {ipv4: 10.9.34.1/30}
  r4:
    kind: router
    interfaces:
      a: {ipv4: 10.9.34.2/30}
      b: {ipv4: 10.9.14.2/30, ipv6: "2001:db8:14::2/64"}
      stub: {ipv4: 10.4.0.1/24, ipv6: "2001:db8:4::1/64"}
  h4: {kind: host, interfaces: {eth0: {ipv4: 10.4.0.44/24, ipv6: "2001:db8:4::44/64"}}}
links:
  - [h1:eth0, s1:p1]
  - [h2:eth0, s1:p2]
  - [s1:p3, r1:lan]
  - [s1:p4, r2:lan]
  - [r1:east, r4:b]
  - [r2:west, r3:a]
  - [r3:b, r4:a]
  - [r4:stub, h4:eth0]
"""


@pytest.fixture(scope="module")
def topo():
    return load_topology_text(RING, "ring.yaml")


def routes_of(topo, router, v6=False):
    plan = autoconfig.plan_routes(topo, autoconfig.segments(topo), v6)
    return {str(r.prefix): (r.port, r.nhop_mac) for r in plan[router]}


def mac(topo, node, iface):
    return topo.interface(node, iface).mac


def port(topo, node, iface):
    return topo.interface(node, iface).port


def test_a_switch_joins_its_links_into_one_segment(topo):
    segs = autoconfig.segments(topo)
    lan = next(s for s in segs if s.switches)
    assert lan.switches == ["s1"]
    assert [(m.node, m.iface) for m in lan.members] == [("h1", "eth0"), ("h2", "eth0"), ("r1", "lan"),
                                                        ("r2", "lan")]
    assert len(segs) == 5                      # the LAN, three router links, the stub LAN


def test_neighbours_on_a_segment_get_host_routes(topo):
    r1 = routes_of(topo, "r1")
    for host, addr in (("h1", "10.0.0.11/32"), ("h2", "10.0.0.12/32")):
        assert r1[addr] == (port(topo, "r1", "lan"), mac(topo, host, "eth0"))
    assert r1["10.0.0.2/32"] == (port(topo, "r1", "lan"), mac(topo, "r2", "lan"))
    assert "10.0.0.0/24" not in r1             # its own subnet is reached through the host routes


def test_remote_subnets_go_to_the_first_router_on_a_shortest_path(topo):
    r1 = routes_of(topo, "r1")
    # r1 -> r4 directly (one hop) rather than r1 -> r2 -> r3 -> r4.
    assert r1["10.4.0.0/24"] == (port(topo, "r1", "east"), mac(topo, "r4", "b"))
    # 10.9.23.0/30 is attached to r2 (one hop over the LAN) and r3 (two hops): the nearer wins.
    assert r1["10.9.23.0/30"] == (port(topo, "r1", "lan"), mac(topo, "r2", "lan"))
    r3 = routes_of(topo, "r3")
    assert r3["10.0.0.0/24"] == (port(topo, "r3", "a"), mac(topo, "r2", "west"))


def test_routes_agree_with_networkx_shortest_path_lengths(topo):
    """Following next hops from any router to any subnet takes exactly the shortest number of hops."""
    segs = autoconfig.segments(topo)
    plan = autoconfig.plan_routes(topo, segs, False)
    g = autoconfig.router_graph(topo, segs, False)
    owner = {}
    for n in topo.nodes.values():
        for i in n.interfaces.values():
            owner[i.mac] = n.name
    attached = {}
    for seg in segs:
        for m in seg.members:
            for a in m.addrs4:
                attached.setdefault(a.network, set()).update(r.node for r in seg.routers(topo, False))
    for router in plan:
        table = {r.prefix: r for r in plan[router]}
        for net, routers in attached.items():
            if router in routers:
                continue
            hops, at = 0, router
            while at not in routers:
                at = owner[{r.prefix: r for r in plan[at]}[net].nhop_mac]
                hops += 1
                assert hops < 10, "routing loop"
            assert hops == min(nx.shortest_path_length(g, router, r) for r in routers), (router, net)
        assert all(isinstance(r.prefix, ipaddress.IPv4Network) for r in table.values())


def test_each_family_is_routed_over_the_links_that_carry_it(topo):
    # r3 - r4 has no IPv6: IPv6 from r3 to the stub LAN goes back over r2 and r1.
    r3 = routes_of(topo, "r3", v6=True)
    assert r3["2001:db8:4::/64"] == (port(topo, "r3", "a"), mac(topo, "r2", "west"))
    r3v4 = routes_of(topo, "r3")
    assert r3v4["10.4.0.0/24"] == (port(topo, "r3", "b"), mac(topo, "r4", "a"))


def test_hosts_get_the_first_router_of_their_subnet_as_gateway(topo):
    segs = autoconfig.segments(topo)
    assert autoconfig.gateways(topo, segs, False) == {"h1": int(ipaddress.ip_address("10.0.0.1")),
                                                      "h2": int(ipaddress.ip_address("10.0.0.1")),
                                                      "h4": int(ipaddress.ip_address("10.4.0.1"))}
    assert autoconfig.gateways(topo, segs, True) == {"h1": int(ipaddress.ip_address("2001:db8::1")),
                                                     "h4": int(ipaddress.ip_address("2001:db8:4::1"))}


def test_an_explicit_gateway_is_kept():
    text = RING.replace("h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.12/24}}}",
                        "h2: {kind: host, gateway: 10.0.0.2, interfaces: {eth0: {ipv4: 10.0.0.12/24}}}")
    net = Network(load_topology_text(text, "ring.yaml"))
    assert net.hosts["h2"].gateway4 == int(ipaddress.ip_address("10.0.0.2"))
    assert net.hosts["h1"].gateway4 == int(ipaddress.ip_address("10.0.0.1"))


def test_the_routes_reach_the_router_tables_and_carry_traffic(topo):
    from dataplane.net.apps import Ping
    net = Network(topo)
    lpm = net.devices["r3"].device.table("ipv4_lpm")
    assert len(lpm.entries) == len(routes_of(topo, "r3"))
    p4 = Ping(net, "h2", "h4", count=2).start(0)
    p6 = Ping(net, "h1", "h4", count=2, v6=True).start(0)
    net.run()
    assert len(p4.received) == 2 and len(p6.received) == 2
    assert net.summary().problems == []


def test_unreachable_subnets_get_no_route():
    text = RING + """
  - [r9:eth1, h9:eth0]
""".replace("  - [r9", "  - [r9")
    text = text.replace("nodes:\n", "nodes:\n  r9: {kind: router, interfaces: {eth1: {ipv4: 10.99.0.1/24}}}\n"
                                    "  h9: {kind: host, interfaces: {eth0: {ipv4: 10.99.0.9/24}}}\n", 1)
    topo = load_topology_text(text, "islands.yaml")
    assert "10.99.0.0/24" not in routes_of(topo, "r1")
    assert routes_of(topo, "r9") == {"10.99.0.9/32": (1, topo.interface("h9", "eth0").mac)}


# ---------------------------------------------------------------------------- equal-cost next hops


def nexthops_of(topo, router, prefix, v6=False):
    plan = autoconfig.plan_routes(topo, autoconfig.segments(topo), v6)
    return next(r.nexthops for r in plan[router] if str(r.prefix) == prefix)


def test_every_equal_cost_next_hop_is_kept_in_order_of_port_then_mac(topo):
    # r2 reaches the stub LAN on r4 in two hops either way: over the LAN to r1, or to r3.
    hops = nexthops_of(topo, "r2", "10.4.0.0/24")
    assert hops == ((port(topo, "r2", "lan"), mac(topo, "r1", "lan")), (port(topo, "r2", "west"), mac(topo, "r3", "a")))
    assert hops == tuple(sorted(hops))
    plan = autoconfig.plan_routes(topo, autoconfig.segments(topo), False)
    route = next(r for r in plan["r2"] if str(r.prefix) == "10.4.0.0/24")
    assert (route.port, route.nhop_mac) == hops[0]            # one path: the first
    # A single shortest path has one next hop and no `paths`.
    single = next(r for r in plan["r1"] if str(r.prefix) == "10.4.0.0/24")
    assert single.paths == () and single.nexthops == ((single.port, single.nhop_mac),)


def test_every_next_hop_is_one_hop_nearer_on_a_shortest_path(topo):
    segs = autoconfig.segments(topo)
    g = autoconfig.router_graph(topo, segs, False)
    owner = {i.mac: n.name for n in topo.nodes.values() for i in n.interfaces.values()}
    plan = autoconfig.plan_routes(topo, segs, False)
    attached = {}
    for seg in segs:
        for m in seg.members:
            for a in m.addrs4:
                attached.setdefault(a.network, set()).update(r.node for r in seg.routers(topo, False))
    for router, routes in plan.items():
        for r in routes:
            if r.prefix not in attached:
                continue                                   # a host route on the router's own segment
            dist = min(nx.shortest_path_length(g, router, a) for a in attached[r.prefix])
            expect = sorted(n for n in g.adj[router]
                            if min(nx.shortest_path_length(g, n, a) for a in attached[r.prefix]) == dist - 1)
            assert sorted(owner[mac] for _, mac in r.nexthops) == expect, (router, r.prefix)


def test_the_plan_is_the_same_every_time():
    from dataplane.locate import find_topology
    from dataplane.net.topology import load_topology
    topo = load_topology(find_topology("fat-tree"))
    once = autoconfig.plan_routes(topo, autoconfig.segments(topo), False)
    again = autoconfig.plan_routes(load_topology(find_topology("fat-tree")), autoconfig.segments(topo), False)
    assert once == again
    # An edge router has two uplinks toward other pods, an aggregation router two cores; a core one way down.
    edge = {str(r.prefix): r for r in once["e0_0"]}
    agg = {str(r.prefix): r for r in once["a0_0"]}
    core = {str(r.prefix): r for r in once["c0"]}
    far = "10.0.16.0/24"                                   # h3_1_1's subnet, in pod 3
    assert [topo.interface("e0_0", f"eth{i}").port for i in (1, 2)] == [p for p, _ in edge[far].nexthops]
    assert len(agg[far].nexthops) == 2 and len(core[far].nexthops) == 1
    assert len(edge["10.0.3.0/24"].nexthops) == 2          # pod 0's other edge router: over both aggregations


def test_ecmp_false_keeps_one_path_per_destination():
    from dataplane.locate import find_topology
    from dataplane.net.topology import load_topology
    topo = load_topology(find_topology("fat-tree"))
    for n in ("e0_0", "a0_0"):
        topo.nodes[n].options["ecmp"] = False
    net = Network(topo)
    for n, multi in (("e0_0", False), ("a0_0", False), ("e0_1", True)):
        lpm = net.devices[n].device.table("ipv4_lpm")
        kinds = {lpm.actions[e.aid].short_name for e in lpm.entries.values()}
        assert ("multipath" in kinds) == multi, n
        assert bool(net.devices[n].device.table("ecmp_nhop").entries) == multi


def test_the_ecmp_setting_is_checked():
    from dataplane.diagnostics import DiagnosticError
    ok = load_topology_text(RING.replace("  r3:\n    kind: router\n", "  r3:\n    kind: router\n    ecmp: false\n"),
                            "ring.yaml")
    assert ok.nodes["r3"].options["ecmp"] is False and "ecmp" not in ok.nodes["r2"].options
    bad = RING.replace("  r3:\n    kind: router\n", "  r3:\n    kind: router\n    ecmp: 3\n")
    with pytest.raises(DiagnosticError) as e:
        load_topology_text(bad, "ring.yaml")
    assert "ring.yaml:" in str(e.value) and "ecmp must be true or false" in str(e.value)
    host = RING.replace("h2: {kind: host, interfaces:", "h2: {kind: host, ecmp: true, interfaces:")
    with pytest.raises(DiagnosticError) as e:
        load_topology_text(host, "ring.yaml")
    assert "'ecmp' is not a setting of hosts" in str(e.value)
