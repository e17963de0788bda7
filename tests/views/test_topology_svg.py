"""The topology picture (dataplane/views/topology_svg.py): deterministic, complete, escaped, and laid out
as network diagrams are (a chain in a row, a ring on a circle, a fat-tree in tiers with hosts at the bottom)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dataplane.net.topology import load_topology, load_topology_text
from dataplane.views.topology_svg import layout, render_svg

TOPOLOGIES = sorted((Path(__file__).resolve().parents[2] / "topologies").glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
def test_every_shipped_topology_is_drawn_whole_and_the_same_each_time(path):
    topo = load_topology(str(path))
    svg = render_svg(topo)
    assert svg == render_svg(load_topology(str(path)))
    root = ET.fromstring(svg)                                    # well-formed XML
    nodes = {g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("data-node")}
    links = [g.get("data-link") for g in root.iter(f"{SVG}g") if g.get("data-link")]
    assert nodes == set(topo.nodes)
    assert links == [link.name for link in topo.links]
    xy = layout(topo)
    assert len(set(xy.values())) == len(xy), "two nodes drawn at the same place"


def test_a_chain_is_one_row_from_its_first_end():
    topo = load_topology(str(Path(__file__).resolve().parents[2] / "topologies" / "line.yaml"))
    xy = layout(topo)
    assert len({y for _, y in xy.values()}) == 1
    assert sorted(xy, key=lambda n: xy[n][0]) == ["h1", "r1", "r2", "r3", "h2"]


def test_the_fat_tree_is_in_tiers_hosts_at_the_bottom_core_at_the_top():
    topo = load_topology(str(Path(__file__).resolve().parents[2] / "topologies" / "fat-tree.yaml"))
    xy = layout(topo)
    tier = {n: xy[n][1] for n in xy}
    rows = sorted(set(tier.values()))
    assert len(rows) == 4
    assert {n for n in xy if tier[n] == rows[0]} == {f"c{i}" for i in range(4)}
    assert all(tier[n] == rows[3] for n in xy if n.startswith("h"))
    assert all(tier[n] == rows[2] for n in xy if n.startswith("e"))
    # Each pod's hosts sit under its edge routers: pods left to right in order.
    pods = [sum(xy[n][0] for n in xy if n.startswith(f"h{p}_")) for p in range(4)]
    assert pods == sorted(pods)


def test_a_ring_is_a_circle_with_hosts_outside():
    topo = load_topology(str(Path(__file__).resolve().parents[2] / "topologies" / "ring.yaml"))
    xy = layout(topo)
    routers = [n for n in xy if n.startswith("r")]
    cx = sum(xy[n][0] for n in routers) / len(routers)
    cy = sum(xy[n][1] for n in routers) / len(routers)
    radii = {n: math.dist(xy[n], (cx, cy)) for n in xy}
    assert max(radii[n] for n in routers) - min(radii[n] for n in routers) < 1e-6
    assert min(radii[n] for n in xy if n.startswith("h")) > max(radii[n] for n in routers)


def test_names_and_addresses_are_escaped_and_shown_on_hover():
    topo = load_topology_text("""
nodes:
  "a<b": {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  "c&d": {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - {ends: ["a<b:eth0", "c&d:eth0"], mtu: 1280, latency: 250us, bandwidth: 10Mbps}
""", "odd.yaml")
    svg = render_svg(topo)
    assert "a<b" not in svg and "a&lt;b" in svg and "c&amp;d" in svg
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert any("10.0.0.1/24" in t for t in titles)
    assert any("MTU 1280, 250 µs, 10 Mbit/s" in t for t in titles)


def test_separate_pieces_sit_side_by_side():
    topo = load_topology_text("""
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
  h3: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.1/24}}}
  h4: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.2/24}}}
links:
  - [h1:eth0, h2:eth0]
  - [h3:eth0, h4:eth0]
""", "two.yaml")
    xy = layout(topo)
    assert max(xy["h1"][0], xy["h2"][0]) < min(xy["h3"][0], xy["h4"][0])
