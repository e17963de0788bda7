"""Per-link, per-direction counters (net/linkstats.py), `run --link-stats`, and the fat-tree's core links
sharing the load of a permutation traffic pattern with ECMP (router/multipath.py) and without it."""

from __future__ import annotations

import pytest

from dataplane.cli import main
from dataplane.locate import find_topology
from dataplane.net.apps import Ping, UdpFlow
from dataplane.net.linkstats import LinkDirection, link_stats, render_link_stats
from dataplane.net.network import Network
from dataplane.net.topology import load_topology, load_topology_text

TWO_HOSTS = """
name: two hosts and a router
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.1/24}}}
  r1: {kind: router, interfaces: {a: {ipv4: 10.0.1.254/24}, b: {ipv4: 10.0.2.254/24}}}
links:
  - [h1:eth0, r1:a]
  - {ends: [r1:b, h2:eth0], loss: 0.3}
"""


def test_each_direction_counts_its_frames_bytes_and_drops():
    net = Network(load_topology_text(TWO_HOSTS, "two.yaml"))
    flow = UdpFlow(net, "h1", "h2", count=40, size=100).start(0)
    net.run()
    stats = {(s.link, s.src): s for s in link_stats(net)}
    assert list(stats) == [("h1-r1", "h1:eth0"), ("h1-r1", "r1:a"), ("r1-h2", "r1:b"), ("r1-h2", "h2:eth0")]
    out = stats[("h1-r1", "h1:eth0")]
    assert out.dst == "r1:a"
    # h1 sends one ARP request and 40 datagrams of 14 + 20 + 8 + 100 bytes; r1 answers the ARP request.
    assert (out.frames, out.bytes, out.dropped) == (41, 42 + 40 * 142, 0)
    assert (stats[("h1-r1", "r1:a")].frames, stats[("h1-r1", "r1:a")].bytes) == (1, 42)
    lossy = stats[("r1-h2", "r1:b")]
    lost = 40 - len(flow.received)
    assert lost > 0 and lossy.dropped == lost == net.summary().link_drops
    assert lossy.frames == 40 and lossy.bytes == 40 * 142        # lost on the way: they were sent
    assert sum(s.frames for s in stats.values()) == net.summary().transmitted


def test_the_rendering_lists_the_directions_that_carried_frames():
    stats = [LinkDirection("a-b", "a:eth0", "b:eth0", 1200, 1_500_000, 3),
             LinkDirection("a-b", "b:eth0", "a:eth0", 0, 0, 0),
             LinkDirection("b-c", "b:eth1", "c:eth0", 7, 700, 0)]
    assert render_link_stats(stats).split("\n") == [
        "link directions with traffic: 2 of 3",
        "  link  direction         frames      bytes  dropped",
        "  a-b   a:eth0 -> b:eth0   1,200  1,500,000        3",
        "  b-c   b:eth1 -> c:eth0       7        700        0"]
    assert render_link_stats(stats[1:2]) == "link directions with traffic: none"


def test_run_prints_the_link_counters_only_when_asked(capsys, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(TWO_HOSTS.replace(", loss: 0.3", "") +
                    "traffic:\n  - {at: 0s, ping: {from: h1, to: h2, count: 2}}\n")
    assert main(["run", str(path), "--no-progress"]) == 0
    assert "link directions" not in capsys.readouterr().out
    assert main(["run", str(path), "--no-progress", "--link-stats"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("link directions with traffic: 4 of 4"):].split("\n")
    assert table[1].split() == ["link", "direction", "frames", "bytes", "dropped"]
    # h1: an ARP request and 2 echo requests; r1 toward h1: its ARP reply and 2 echo replies; the same on r1-h2.
    assert table[2].split() == ["h1-r1", "h1:eth0", "->", "r1:a", "3", "238", "0"]


# ---------------------------------------------------------------------------- ECMP in the fat-tree


def core_link_frames(ecmp: bool) -> dict[str, int]:
    """Frames on each core link (both directions) when every host of the k=4 fat-tree sends a UDP flow to the
    host four places on (a permutation: every host sends one flow and receives one, all across pods)."""
    topo = load_topology(find_topology("fat-tree"))
    if not ecmp:
        for spec in topo.nodes.values():
            if spec.kind == "router":
                spec.options["ecmp"] = False
    net = Network(topo)
    hosts = sorted(net.hosts)
    flows = [UdpFlow(net, h, hosts[(i + 4) % len(hosts)], port=5001, count=50, size=200, interval_ns=100_000).start(0)
             for i, h in enumerate(hosts)]
    net.run()
    assert all(len(f.received) == 50 for f in flows)
    assert net.summary().problems == [] and net.summary().drops == {}
    core = {}
    for s in link_stats(net):
        if s.dst.startswith("c") or s.src.startswith("c"):
            core[s.link] = core.get(s.link, 0) + s.frames
    return core


@pytest.fixture(scope="module")
def core_loads():
    return core_link_frames(True), core_link_frames(False)


def test_with_ecmp_every_core_link_carries_flows(core_loads):
    with_ecmp, _ = core_loads
    assert len(with_ecmp) == 16
    # 16 flows of 50 datagrams each cross the core once up and once down: 1600 frames on core links.
    assert sum(with_ecmp.values()) == 16 * 50 * 2
    assert all(n > 0 for n in with_ecmp.values()), with_ecmp
    assert max(with_ecmp.values()) <= 3 * 50 * 2        # no core link carries more than three flows' worth


def test_without_ecmp_only_the_first_core_carries_them(core_loads):
    _, single = core_loads
    assert sum(single.values()) == 16 * 50 * 2
    used = {link for link, n in single.items() if n}
    # Every edge and aggregation router sends up over its first port: everything crosses core c0.
    assert used == {f"a{pod}_0-c0" for pod in range(4)}
    assert all(single[link] == 400 for link in used)


def test_pings_cross_the_fat_tree_both_ways_with_ecmp():
    net = Network(load_topology(find_topology("fat-tree")))
    hosts = sorted(net.hosts)
    pings = [Ping(net, h, hosts[-1 - i], count=2).start(0) for i, h in enumerate(hosts)]
    net.run()
    assert all(len(p.received) == 2 for p in pings)
