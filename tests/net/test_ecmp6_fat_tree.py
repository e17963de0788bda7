"""ECMP for IPv6 end to end: the generated k=4 fat-tree of IPv6 and of dual-stack routers (`dataplane generate
fat-tree --family ipv6|dual`) under a permutation traffic pattern (net/patterns.py), its core links' per-link
counters (net/linkstats.py) with ECMP and with `ecmp: false`, and ping6 / traceroute6 across the multipath
routers. Frames are taken from the links as they are sent and dissected with scapy."""

from __future__ import annotations

import ipaddress

import networkx as nx
import pytest

from toplab import parse_ping, parse_traceroute, run_topology
from dataplane.net.apps import Ping, Traceroute
from dataplane.net.generate import fat_tree
from dataplane.net.linkstats import link_stats
from dataplane.net.topology import load_topology_text

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import IP, UDP, Ether, IPv6  # noqa: E402

# 256 UDP flows of 20000 bytes (14 datagrams each): every host starts one every millisecond, to its partner in
# a permutation of the 16 hosts (drawn once), sixteen rounds. A flow lasts 0.17 ms at 1 Gbit/s: one at a time
# per host, so that no queue overflows even when every flow of a pod takes one core link (`ecmp: false`).
PERMUTATION = "{kind: permutation, flow: udp, size: {fixed: 20000}, count: 256, arrivals: {rate: 1000/s}, ipv6: %s}"
DATAGRAMS = 14


def fat_tree_run(family: str, ecmp: bool, v6: bool = True):
    topo = load_topology_text(fat_tree(4, PERMUTATION % str(v6).lower(), family), f"fat-tree-{family}.yaml")
    if not ecmp:
        for spec in topo.nodes.values():
            if spec.kind == "router":
                spec.options["ecmp"] = False
    return run_topology(topo)


def is_core(link: str) -> bool:
    return "-c" in link


def core_frames(run) -> dict[tuple[str, str], int]:
    """Frames per core link direction (link, sender), from the per-link counters."""
    return {(s.link, s.src.split(":")[0]): s.frames for s in link_stats(run.net) if is_core(s.link)}


def flow_links(run, v6: bool) -> dict[tuple, set[str]]:
    """The core link directions each UDP flow (source, destination, source port) used, from the frames."""
    out: dict[tuple, set[str]] = {}
    for c in run.captures:
        if not is_core(c.link):
            continue
        p = Ether(c.frame)
        ip = p[IPv6] if v6 else p[IP]
        assert UDP in p
        out.setdefault((ip.src, ip.dst, p[UDP].sport), set()).add(f"{c.link}/{c.sender}")
    return out


def pod(host_or_router: str) -> str:
    return host_or_router[1]


@pytest.fixture(scope="module", params=[("ipv6", True), ("dual", True), ("dual", False)],
                ids=["ipv6", "dual-stack-ipv6-flows", "dual-stack-ipv4-flows"])
def runs(request):
    family, v6 = request.param
    return family, v6, fat_tree_run(family, True, v6), fat_tree_run(family, False, v6)


def test_every_flow_arrives_whole_and_nothing_is_dropped(runs):
    _, _, with_ecmp, without = runs
    for run in (with_ecmp, without):
        (pattern,) = run.apps
        assert len(pattern.flows) == 256 and all(len(f.received) == DATAGRAMS for f in pattern.flows)
        assert run.summary.problems == [] and run.summary.drops == {}


def test_with_ecmp_the_core_links_share_the_load(runs):
    _, v6, run, _ = runs
    frames = core_frames(run)
    assert len(frames) == 32                                      # 16 core links, both directions
    inter_pod = [f for f in run.apps[0].flows if pod(f.host.name) != pod(f.dst_name)]
    # Each flow between pods crosses the core once up and once down.
    assert sum(frames.values()) == 2 * DATAGRAMS * len(inter_pod)
    per_link = {}
    for (link, _), n in frames.items():
        per_link[link] = per_link.get(link, 0) + n
    shares = [n / sum(per_link.values()) for n in per_link.values()]
    assert len(shares) == 16 and min(shares) > 0.25 / 16 and max(shares) < 2.5 / 16, shares
    # Every packet of a flow took one path: one core link up, one down.
    used = flow_links(run, v6)
    assert len(used) == len(inter_pod) and all(len(links) == 2 for links in used.values())
    # ... and the flows of one pair of hosts took several (their source ports differ).
    by_pair: dict[tuple, set] = {}
    for (src, dst, _), links in used.items():
        by_pair.setdefault((src, dst), set()).add(frozenset(links))
    assert any(len(paths) > 1 for paths in by_pair.values())


def test_without_ecmp_every_pair_takes_one_path_through_the_first_core(runs):
    _, v6, with_ecmp, run = runs
    frames = core_frames(run)
    assert sum(frames.values()) == sum(core_frames(with_ecmp).values())
    used = {link for (link, _), n in frames.items() if n}
    # Every edge and aggregation router sends up over its first port: everything crosses core c0.
    assert used == {f"a{p}_0-c0" for p in range(4)}
    by_pair: dict[tuple, set] = {}
    for (src, dst, _), links in flow_links(run, v6).items():
        by_pair.setdefault((src, dst), set()).add(frozenset(links))
    assert all(len(paths) == 1 for paths in by_pair.values())


# ---------------------------------------------------------------------------- ping6 and traceroute6


@pytest.fixture(scope="module", params=["ipv6", "dual"])
def probes(request):
    return request.param, run_topology(load_topology_text(fat_tree(4, family=request.param), "fat-tree.yaml"))


def test_ping6_and_traceroute6_cross_the_multipath_routers(probes):
    family, run = probes
    assert run.summary.problems == []
    pings = {p.v6: p for p in run.apps_of(Ping)}
    traces = {t.v6: t for t in run.apps_of(Traceroute)}
    assert set(pings) == set(traces) == ({True} if family == "ipv6" else {False, True})
    rep = parse_ping(pings[True].render())
    assert rep.dst == "2001:db8:0:10::2" and rep.received == 3
    assert {ttl for *_, ttl, _ in rep.replies} == {64 - 5}
    tr = parse_traceroute(traces[True].render())
    assert tr.dst == "2001:db8:0:10::2" and len(tr.hops) == 6 and tr.hops[-1][1] == "h3_1_1"
    g = run.topo.graph
    for n, answered in enumerate(tr.responders, 1):
        for name, address in answered:
            assert nx.shortest_path_length(g, "h0_0_0", name) == n
            assert nx.shortest_path_length(g, name, "h3_1_1") == 6 - n
            assert isinstance(ipaddress.ip_address(address), ipaddress.IPv6Address)
    assert [node[0] for _, node, _, _ in tr.hops[:5]] == ["e", "a", "c", "a", "e"]
    # ECMP: the three probes of a hop inside the fat-tree do not all take one path.
    assert any(len({name for name, _ in answered}) > 1 for answered in tr.responders)


# ---------------------------------------------------------------------------- the routes installed


@pytest.mark.parametrize("family", ["ipv6", "dual"])
def test_ecmp_false_keeps_one_next_hop_per_ipv6_route_on_that_router_only(family):
    from dataplane.net.network import Network
    topo = load_topology_text(fat_tree(4, family=family), "fat-tree.yaml")
    for n in ("e0_0", "a0_0"):
        topo.nodes[n].options["ecmp"] = False
    net = Network(topo)
    for n, multi in (("e0_0", False), ("a0_0", False), ("e0_1", True), ("a1_1", True), ("c0", False)):
        lpm = net.devices[n].device.table("ipv6_lpm")
        kinds = {lpm.actions[e.aid].short_name for e in lpm.entries.values()}
        assert ("multipath" in kinds) == multi, n
        assert bool(net.devices[n].device.table("ecmp_nhop").entries) == multi, n
    # An edge router's route to another pod has both aggregation routers as next hops: a group of two.
    lpm = net.devices["e0_1"].device.table("ipv6_lpm")
    far = next(e for e in lpm.entries.values() if e.match[0].value == int(ipaddress.IPv6Address("2001:db8:0:10::")))
    assert lpm.actions[far.aid].short_name == "multipath" and far.args[1] == 2
