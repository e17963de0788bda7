"""--trace-filter: the grammar (nodes, protocols, flows, ports, packet numbers), how terms combine, and errors."""

from __future__ import annotations

import re

import pytest

from dataplane.cli import main
from dataplane.net.apps import Ping, UdpFlow
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.net.tracefilter import FilterError, parse_filter
from dataplane.net.tracing import Tracer

HEAD = re.compile(r"(?m)^\[ *\d+\.\d{3} ms\] (.*)$")


@pytest.fixture(scope="module")
def traced():
    """The line topology (h1 - r1 - r2 - r3 - h2): one ping and a few UDP datagrams to port 7000."""
    net = Network(load_topology("line"), trace=True)
    tracer = Tracer(net)
    Ping(net, "h1", "h2", count=1).start(0)
    UdpFlow(net, "h2", "h1", port=7000, count=2, size=64).start(50_000_000)
    net.run()
    return net, tracer


def heads(tracer, only) -> list[str]:
    return HEAD.findall(tracer.render(only=only))


def test_a_node_keeps_its_records_and_its_applications_lines(traced):
    _, tracer = traced
    shown = heads(tracer, "r2")
    assert shown and all(h.startswith("r2 ") for h in shown)
    at_h1 = heads(tracer, "h1")
    assert any(h.startswith("h1 ping: 64 bytes from 10.0.2.2") for h in at_h1)
    assert all(h.startswith("h1") for h in at_h1)


def test_nodes_of_one_kind_are_alternatives(traced):
    _, tracer = traced
    shown = heads(tracer, "r1, r3")
    assert {h.split()[0] for h in shown} == {"r1", "r3"}


def test_a_protocol_and_a_node_must_both_match(traced):
    _, tracer = traced
    shown = heads(tracer, "r1, udp")
    assert shown and all(h.startswith("r1 ") and "UDP" in h for h in shown)
    arp = heads(tracer, "arp")
    assert arp and all("ARP" in h or h.startswith(("h1: ARP", "h2: ARP")) or " ping: " in h for h in arp)


def test_flows_are_one_way_unless_written_both_ways(traced):
    _, tracer = traced
    there = [h for h in heads(tracer, "h1>h2") if "#" in h]
    assert there and all("IP 10.0.1.1 > 10.0.2.2" in h for h in there)
    both = [h for h in heads(tracer, "10.0.1.1<>10.0.2.2, icmp") if "#" in h]
    assert any("echo request" in h for h in both) and any("echo reply" in h for h in both)
    assert [h for h in heads(tracer, "h1>h2, udp") if "#" in h] == []      # the datagrams go the other way
    assert heads(tracer, "h2>h1, udp")


def test_a_port_matches_either_end(traced):
    _, tracer = traced
    shown = [h for h in heads(tracer, "port 7000") if "#" in h]
    assert shown and all("UDP" in h and "7000" in h for h in shown)


def test_a_packet_number_follows_the_packet_across_every_hop(traced):
    _, tracer = traced
    text = tracer.render()
    request = re.search(r"h1 eth0 -> r1: #(\d+) .*ICMP echo request", text).group(1)
    shown = heads(tracer, f"#{request}")
    # Sent by h1, received by r1, r2, r3 and h2; h2's event about it; no application lines.
    assert [h.split(":")[0] for h in shown if "#" in h] == \
        ["h1 eth0 -> r1", "r1 port 1 (eth1) <- h1", "r2 port 1 (eth1) <- r1", "r3 port 1 (eth1) <- r2",
         "h2 eth0 <- r3"]
    assert all(f"#{request} " in h for h in shown if "#" in h)
    assert not any(" ping: " in h for h in shown)


def test_nothing_matching_says_so(traced):
    _, tracer = traced
    assert tracer.render(only="h1, #999") == "nothing traced for 'h1, #999'"
    # Applications' lines are kept by a protocol filter; that no packet matched is said.
    assert tracer.render(only="sctp").splitlines()[-1] == "no packets traced for 'sctp'"


@pytest.mark.parametrize("text, message", [
    ("", "the trace filter is empty"),
    ("h1,,icmp", "an empty term between commas"),
    ("carrier-pigeon", "trace filter term 'carrier-pigeon' is not a node (h1, h2, r1, r2, r3), a protocol"),
    ("port http", "trace filter term 'port http': a port is a number from 0 to 65535"),
    ("port 70000", "a port is a number from 0 to 65535"),
    ("h1>mars", "'mars' is neither an address nor a node of three routers in a line"),
    ("#", "is not a node"),
])
def test_bad_filters_are_refused_with_one_line(traced, text, message):
    net, _ = traced
    with pytest.raises(FilterError) as exc:
        parse_filter(text, net)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_the_command_line_refuses_a_bad_filter_before_running(capsys):
    rc = main(["ping", "line", "h1", "h2", "-c", "1", "--trace-filter", "h1, bogus"])
    out, err = capsys.readouterr()
    assert rc == 1 and "PING" not in out
    assert err.strip().splitlines() == [
        "error: --trace-filter: trace filter term 'bogus' is not a node (h1, h2, r1, r2, r3), a protocol (arp, "
        "ipv4, ipv6, icmp, icmpv6, tcp, udp, sctp, nd, fragment), a flow (h1>h2, 10.0.1.1<>10.0.2.2), 'port N' "
        "or a packet number (#12)"]
    assert "Traceback" not in err


def test_aliases_and_neighbour_discovery():
    net = Network(load_topology("line"), trace=True)
    tracer = Tracer(net)
    Ping(net, "h1", "h2", count=1, v6=True).start(0)
    net.run()
    nd = heads(tracer, "nd")
    assert nd and all("neighbor" in h.lower() or "ICMP6 neighbor" in h or " ping: " in h for h in nd)
    assert heads(tracer, "icmp6") == heads(tracer, "icmpv6")
    assert heads(tracer, "ip6") == heads(tracer, "ipv6")
