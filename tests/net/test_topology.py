"""The topology file format: what it accepts, what it builds, and errors with file:line:col."""

from __future__ import annotations

import ipaddress
import os

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.net.network import Network
from dataplane.net.topology import load_topology, load_topology_text, parse_rate, parse_time

BASE = """\
name: t
nodes:
  h1:
    kind: host
    interfaces:
      eth0: {ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}
  h2:
    kind: host
    interfaces:
      eth0: {ipv4: 10.0.2.2/24}
  r1:
    kind: router
    interfaces:
      a: {ipv4: 10.0.1.254/24, ipv6: "2001:db8:1::fe/64"}
      b: {ipv4: 10.0.2.254/24}
links:
  - [h1:eth0, r1:a]
  - [r1:b, h2:eth0]
"""


def fails(text: str, message: str, line: int, col: int | None = None) -> str:
    with pytest.raises(DiagnosticError) as exc:
        load_topology_text(text, "t.yaml")
    rendered = exc.value.render()
    first = rendered.splitlines()[0]
    assert message in first, rendered
    where = f"t.yaml:{line}:" + (f"{col}:" if col is not None else "")
    assert first.startswith(where), rendered
    return rendered


def with_traffic(item: str) -> str:
    return BASE + "traffic:\n  - " + item + "\n"


def test_units():
    assert parse_time("1ms") == 1_000_000 and parse_time("250us") == 250_000 and parse_time(2) == 2_000_000
    assert parse_time("1.5s") == 1_500_000_000 and parse_time("10ns") == 10
    assert parse_rate("100Mbps") == 100e6 and parse_rate("1Gbps") == 1e9 and parse_rate(9600) == 9600.0
    with pytest.raises(ValueError):
        parse_time("fast")
    with pytest.raises(ValueError):
        parse_rate("100 furlongs")


def test_the_graph_has_a_vertex_per_node_and_an_edge_per_link():
    topo = load_topology_text(BASE, "t.yaml")
    assert sorted(topo.graph.nodes) == ["h1", "h2", "r1"]
    assert topo.graph.number_of_edges() == 2
    assert topo.graph.nodes["r1"]["spec"].kind == "router"


def test_routers_run_the_standard_program_for_their_address_families():
    topo = load_topology_text(BASE, "t.yaml")
    assert os.path.basename(topo.nodes["r1"].program) == "dual_stack_router.p4"
    v4 = load_topology_text(BASE.replace(', ipv6: "2001:db8:1::fe/64"', ""), "t.yaml")
    assert os.path.basename(v4.nodes["r1"].program) == "ipv4_router.p4"


def test_static_arp_entries_reach_the_host():
    text = BASE.replace("  h2:\n    kind: host\n", "  h2:\n    kind: host\n    arp: {10.0.2.254: \"00:00:00:00:aa:bb\"}\n")
    net = Network(load_topology_text(text, "t.yaml"))
    assert net.hosts["h2"].arp_cache[int(ipaddress.ip_address("10.0.2.254"))][0] == 0xAABB


def test_generated_macs_are_unique_and_locally_administered():
    topo = load_topology_text(BASE, "t.yaml")
    macs = [i.mac for n in topo.nodes.values() for i in n.interfaces.values()]
    assert len(set(macs)) == len(macs)
    assert all(m >> 40 == 0x02 for m in macs)


@pytest.mark.parametrize("item,message,line", [
    ("{ping: {from: h1, to: h2, cont: 3}}", "unknown key 'cont' in ping", 20),
    ("{ping: {from: r1, to: h2}}", "'r1' is not a host", 20),
    ("{ping: {from: h1, to: h9}}", "'h9' is neither a node nor an address", 20),
    ("{ping: {from: h1, to: h2, ipv6: true}}", "'h2' has no IPv6 address", 20),
    ("{ping: {from: h1, to: 2001:db8::1}}", "is not an IPv4 address", 20),
    ("{ping: {from: h1, to: h2, count: 0}}", "'count' must be between 1 and 1000000", 20),
    ("{ping: {from: h1, to: h2, count: many}}", "count", 20),
    ("{ping: {from: h1, to: h2, df: yes please}}", "'df' is true or false", 20),
    ("{at: soon, ping: {from: h1, to: h2}}", "at", 20),
    ("{ping: {from: h1, to: h2}, udp: {from: h1, to: h2}}", "a traffic item has one of", 20),
    ("{tcp: {from: h1, to: h2, bytes: -1}}", "'bytes' must be between", 20),
])
def test_traffic_items_are_checked_when_the_file_is_loaded(item, message, line):
    fails(with_traffic(item), message, line)


def test_traffic_targets_may_be_addresses_or_nodes():
    topo = load_topology_text(with_traffic("{ping: {from: h1, to: 10.0.2.2, count: 2, interval: 10ms}}"), "t.yaml")
    assert topo.traffic[0].params == {"from": "h1", "to": "10.0.2.2", "count": 2, "interval": 10_000_000}
    topo = load_topology_text(with_traffic("{traceroute: {from: h1, to: r1, ipv6: true}}"), "t.yaml")
    assert topo.traffic[0].params["to"] == "r1"


def test_host_only_and_device_only_settings_are_refused_where_they_do_not_belong():
    fails(BASE.replace("  r1:\n    kind: router\n", "  r1:\n    kind: router\n    arp: {}\n"),
          "'arp' is a setting of hosts", 13, 5)
    fails(BASE.replace("  h2:\n    kind: host\n", "  h2:\n    kind: host\n    program: basic_ipv4\n"),
          "'program' is not a setting of hosts", 9, 5)


def test_a_bad_static_arp_entry_points_at_it():
    fails(BASE.replace("  h2:\n    kind: host\n", "  h2:\n    kind: host\n    arp: {10.0.2.254: \"zz\"}\n"),
          "is not a MAC address", 9)


def test_a_binary_file_is_a_user_error_about_topology_files(tmp_path):
    from dataplane.net.topology import load_topology
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"name: x\n\xc0\xff\x00")
    with pytest.raises(DiagnosticError) as exc:
        load_topology(str(junk))
    text = exc.value.render()
    assert text.startswith(f"{junk}:2:1: error: the file is not UTF-8 text") and \
        "hint: topology files must be text files" in text


def test_pcap_file_names_never_collide():
    from dataplane.net.network import _pcap_file_names
    names = _pcap_file_names(["r1-r2", "a:b", "a_b", "A_B", "a_b-2", "x/../y"])
    assert names == ["r1-r2.pcap", "a_b.pcap", "a_b-2.pcap", "A_B-3.pcap", "a_b-2-2.pcap", "x_.._y.pcap"]
    assert len({n.casefold() for n in names}) == len(names)


def test_load_topology_takes_shipped_names_as_the_command_line_does(tmp_path, monkeypatch):
    from dataplane.diagnostics import DiagnosticError
    monkeypatch.chdir(tmp_path)
    assert {"h1", "h2", "r1"} <= set(load_topology("line").nodes)
    with pytest.raises(DiagnosticError, match="no topology 'nope': not a file, nor one we ship"):
        load_topology("nope")
    with pytest.raises(DiagnosticError, match="--program"):
        load_topology("line", program="basic_ipv4")


def test_links_without_latency_or_bandwidth_get_realistic_defaults_and_zero_or_unlimited_when_written():
    text = ("name: t\nnodes:\n  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}\n"
            "  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}\n"
            "  h3: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.3/24}, eth1: {ipv4: 10.0.1.3/24}}}\n"
            "links:\n  - [h1:eth0, h3:eth0]\n  - {ends: [h2:eth0, h3:eth1], latency: 0, bandwidth: unlimited}\n")
    first, second = load_topology_text(text).links
    assert (first.latency_ns, first.bandwidth_bps) == (100_000, 1e9)
    assert (second.latency_ns, second.bandwidth_bps) == (0, None)


def test_a_traffic_file_runs_on_a_topology_and_its_errors_point_into_it(tmp_path):
    from dataplane.net.topology import load_traffic
    topo = load_topology_text(BASE, "t.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- {at: 1s, ping: {from: h1, to: h2, count: 2}}\n")
    section = tmp_path / "section.yaml"
    section.write_text("traffic:\n  - {pingall: {}}\n")
    assert [(t.kind, t.at_ns, t.path) for t in load_traffic(str(listed), topo)] == [("ping", 10 ** 9, (0,))]
    assert [(t.kind, t.path) for t in load_traffic(str(section), topo)] == [("pingall", ("traffic", 0))]
    for text, message, where in (("- {ping: {from: h9, to: h2}}\n", "'h9' is not a host", "1:17"),
                                 ("traffik: []\n", "unknown key 'traffik' in a traffic file", "1:1"),
                                 ("3\n", "a traffic file (a list of items) must be a list", "1:1")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(DiagnosticError) as exc:
            load_traffic(str(bad), topo)
        assert exc.value.render().splitlines()[0] == f"{bad}:{where}: error: {message}"
