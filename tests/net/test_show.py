"""`dataplane show` (dataplane/net/show.py): a topology's file and the network it describes, run nowhere."""

from __future__ import annotations

import pytest

from dataplane.cli import main
from dataplane.locate import find_topology, shipped_topologies
from dataplane.net.show import describe, link_properties
from dataplane.net.topology import LinkSpec, load_topology_text


def test_show_prints_the_shipped_file_then_the_network(capsys):
    assert main(["show", "line"]) == 0
    out = capsys.readouterr().out
    text = open(find_topology("line"), encoding="utf-8").read()
    assert out.startswith(f"# {find_topology('line')}\n{text.rstrip()}\n\n")
    assert "  r2:eth2 -- r3:eth1  MTU 1280, latency 1 ms, bandwidth 100 Mbit/s, queue 1000 frames\n" in out
    assert "  at 6 s: ping h1 -> h2 (count 2, size 1400, df)\n" in out


@pytest.mark.parametrize("name", shipped_topologies())
def test_every_shipped_topology_can_be_shown(name, capsys):
    assert main(["show", name]) == 0
    assert "links:" in capsys.readouterr().out


def test_describe_lists_nodes_interfaces_and_links():
    topo = load_topology_text("name: t\nnodes:\n  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24, mac: "
                              "'02:00:00:00:00:01'}}}\n  s1: {kind: switch, interfaces: {p1: {}}}\n"
                              "links:\n  - {ends: [h1:eth0, s1:p1], latency: 250us, bandwidth: 1500kbps, loss: 0.5}\n")
    assert describe(topo).splitlines() == [
        "t: 2 nodes, 1 links", "", "nodes:",
        "  h1  host", "        eth0 (port 1, 02:00:00:00:00:01): 10.0.0.1/24",
        "  s1  switch  runs l2_switch.p4 (entries: auto)", "        p1 (port 1, 02:00:00:02:00:01)", "",
        "links:",
        "  h1:eth0 -- s1:p1  MTU 1500, latency 250 us, bandwidth 1.5 Mbit/s, queue 1000 frames, loss 0.5"]


def test_link_properties_without_bandwidth_or_latency():
    assert link_properties(LinkSpec("x", ("a", "1"), ("b", "1"), latency_ns=0)) == \
        "MTU 1500, latency 0 s, bandwidth unlimited, queue 1000 frames"


def test_show_of_a_missing_topology_is_a_user_error(capsys):
    assert main(["show", "no-such-net"]) == 1
    assert "no topology 'no-such-net'" in capsys.readouterr().err
