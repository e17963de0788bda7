"""P4 devices in a network (dataplane/net/devices.py): v1model's queueing metadata from the links' queues.

The probe program (queue_fixture/queue_probe.p4) copies enq_timestamp, enq_qdepth, deq_timedelta and
deq_qdepth into the probe frames it forwards, so each test reads what egress saw in the frames that arrive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.runtime.device import Device

PROBE = Path(__file__).parent / "queue_fixture" / "queue_probe.p4"
PROBE_TYPE = 0x88B5
FRAME_BYTES = 1000
MS = 1_000_000

TOPOLOGY = """\
name: a fast link into a slow one
nodes:
  h1: {kind: host, interfaces: {eth0: {mac: "02:00:00:00:00:01", ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {mac: "02:00:00:00:00:02", ipv4: 10.0.0.2/24}}}
  s1:
    kind: p4
    program: PROGRAM
    interfaces: {p1: {port: 1}, p2: {port: 2}}
links:
  - {ends: [h1:eth0, s1:p1], latency: 0s, bandwidth: 1Gbps}
  - {ends: [s1:p2, h2:eth0], latency: 0s, bandwidth: 1Mbps}
"""


def probe_network(tmp_path, program: Path = PROBE) -> Network:
    path = tmp_path / "queue.yaml"
    path.write_text(TOPOLOGY.replace("PROGRAM", str(program)))
    return Network(load_topology(str(path)))


def probe_frame() -> bytes:
    head = (0x020000000002).to_bytes(6, "big") + (0x020000000001).to_bytes(6, "big") + PROBE_TYPE.to_bytes(2, "big")
    return head + bytes(FRAME_BYTES - len(head))


def send_burst(net: Network, count: int) -> list[tuple[int, int, int, int]]:
    """h1 sends `count` probe frames at once; returns what egress saw for each, in arrival order at h2."""
    seen = []
    h2 = net.host("h2")
    h2.open_packet_socket(lambda port, frame: seen.append(
        tuple(int.from_bytes(frame[14 + 4 * i:18 + 4 * i], "big") for i in range(4))))
    h1 = net.host("h1")
    port = next(iter(h1.interfaces))
    for _ in range(count):
        assert h1.send_frame(port, probe_frame())
    net.run(net.sim.now_ns + 1000 * MS)
    return seen


def test_a_burst_queues_behind_the_slow_link(tmp_path):
    # The fast link brings frame k to s1 at k * 8 us; s1 is done with it 1 us later (enq_timestamp). The
    # slow link takes 8 ms a frame: frame 1 leaves at once, frame 2 waits for it on the wire, frame k finds
    # k - 2 frames queued ahead of it and waits (k - 1) * (8000 - 8) us.
    seen = send_burst(probe_network(tmp_path), 6)
    assert seen == [(8 * k + 1, max(0, k - 2), (k - 1) * 7992, max(0, k - 2)) for k in range(1, 7)]


def test_the_queue_drains_between_bursts(tmp_path):
    net = probe_network(tmp_path)
    send_burst(net, 3)
    late = send_burst(net, 1)
    assert late[-1][1:] == (0, 0, 0)


def test_programs_that_do_not_read_the_queue_do_not_ask_for_it(tmp_path, monkeypatch):
    def refuse(self, p, port):
        raise AssertionError("queueing() called for a program that never reads the queueing fields")
    monkeypatch.setattr(Device, "queueing", refuse)
    program = tmp_path / "no_queue.p4"
    program.write_text(PROBE.read_text().replace(
        "hdr.probe.enq_timestamp = standard_metadata.enq_timestamp;", "").replace(
        "hdr.probe.enq_qdepth = (bit<32>) standard_metadata.enq_qdepth;", "").replace(
        "hdr.probe.deq_timedelta = standard_metadata.deq_timedelta;", "").replace(
        "hdr.probe.deq_qdepth = (bit<32>) standard_metadata.deq_qdepth;", ""))
    assert len(send_burst(probe_network(tmp_path, program), 3)) == 3


@pytest.mark.parametrize("trace", [False, True])
def test_traced_and_fast_runs_see_the_same_queue(tmp_path, trace):
    net = probe_network(tmp_path)
    if trace:
        for device in net.devices.values():
            device.trace = True
    assert [q[1] for q in send_burst(net, 4)] == [0, 0, 1, 2]


def test_a_device_keeps_the_end_of_each_linked_port():
    from dataplane.net.devices import PortLinks
    from dataplane.net.sim import Link, Simulator

    class Node:
        name = "n"
    sim = Simulator()
    owner, peer = Node(), Node()
    links = PortLinks(owner)
    one = Link(sim, "one", owner, 1, peer, 1)
    two = Link(sim, "two", peer, 2, owner, 3)
    links[1] = one
    links.update({3: two})
    assert links.ends == {1: one.end(owner, 1), 3: two.end(owner, 3)} and links.ends[3].peer is peer
    assert links.pop(1) is one and links.ends == {3: two.end(owner, 3)}
    del links[3]
    assert links == {} and links.ends == {}
    links.setdefault(3, two)
    links.clear()
    assert links.ends == {}
