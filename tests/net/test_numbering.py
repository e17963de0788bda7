"""Packet numbers: one per packet, kept on every hop with a hop count; the same in traces and captures."""

from __future__ import annotations

import re

from dataplane.net.apps import Ping
from dataplane.net.network import Network
from dataplane.net.numbering import PacketNumber, PacketNumbers
from dataplane.net.topology import load_topology
from dataplane.net.tracing import Tracer
from dataplane.pcap import read_pcap


def ping_line(**network_args) -> Network:
    net = Network(load_topology("line"), **network_args)
    tracer = Tracer(net) if network_args.get("trace") else None
    Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    net.close()
    net.tracer = tracer
    return net


def comments(directory, link: str) -> list[str]:
    return [r.comment for r in read_pcap(str(directory / f"{link}.pcapng"))]


def test_a_forwarded_packet_keeps_its_number_and_counts_its_hops(tmp_path):
    ping_line(pcap_dir=str(tmp_path))
    # h1's ARP request (#1) and r1's reply (#2), then the echo request #3 on every link toward h2.
    assert comments(tmp_path, "h1-r1")[:3] == ["dataplane packet #1 hop 1", "dataplane packet #2 hop 1",
                                               "dataplane packet #3 hop 1"]
    for link, hop in (("r1-r2", 2), ("r2-r3", 3), ("r3-h2", 4)):
        assert f"dataplane packet #3 hop {hop}" in comments(tmp_path, link), link


def test_captures_alone_number_packets_as_a_trace_does(tmp_path):
    ping_line(pcap_dir=str(tmp_path / "alone"))
    net = ping_line(pcap_dir=str(tmp_path / "traced"), trace=True)
    for link in ("h1-r1", "r1-r2", "r2-r3", "r3-h2"):
        assert comments(tmp_path / "alone", link) == comments(tmp_path / "traced", link)
    # Every number a trace line shows is in the captures, hop for hop: the r1 -> r2 frames, for one.
    text = net.tracer.render(only="r1")
    sent_to_r2 = re.findall(r"-> port 2 \(eth2 to r2\): (?:new: )?#(\d+) ", text)
    r1_r2 = comments(tmp_path / "traced", "r1-r2")
    assert sent_to_r2 and all(any(c.startswith(f"dataplane packet #{n} hop") for c in r1_r2) for n in sent_to_r2)


def test_classic_pcap_has_no_place_for_numbers(tmp_path):
    ping_line(pcap_dir=str(tmp_path), pcap_format="pcap")
    assert {r.comment for r in read_pcap(str(tmp_path / "h1-r1.pcap"))} == {None}


def test_nothing_is_numbered_when_nobody_looks():
    net = ping_line()
    assert net.sim.numbers is None


def test_a_tracer_numbers_a_network_built_without_it_and_stops_when_detached():
    net = Network(load_topology("line"))
    tracer = Tracer(net)
    assert isinstance(net.sim.numbers, PacketNumbers)
    tracer.detach()
    assert net.sim.numbers is None


def test_numbers_read_as_people_write_them():
    assert str(PacketNumber(12, 3)) == "#12"
    assert PacketNumber(12, 3).comment() == "dataplane packet #12 hop 3"


def test_a_router_s_own_packets_get_new_numbers():
    net = ping_line(trace=True)
    text = net.tracer.render(only="r1, arp")
    request = re.search(r"r1 port 1 \(eth1\) <- h1: #(\d+) .*ARP who-has", text).group(1)
    reply = re.search(r"-> port 1 \(eth1 to h1\): new: #(\d+) .*ARP reply", text).group(1)
    assert int(reply) > int(request)


def test_frames_in_flight_when_a_numbered_run_stops_are_counted_as_in_flight():
    """A traced (numbered) run stopped mid-transfer: the frames on the wire are in flight, not lost."""
    from dataplane.net.network import Network
    from dataplane.net.topology import load_topology
    from dataplane.net.tracing import Tracer
    net = Network(load_topology("line"), trace=True)
    Tracer(net)
    net.schedule_traffic()
    net.run(until_ns=20_030_000_000)            # during the line demo's TCP transfer
    summary = net.summary()
    assert summary.on_links > 0 and not summary.problems, summary.problems
