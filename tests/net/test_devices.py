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
from dataplane.runtime.trace import DropReason

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
    assert not hasattr(links, "__dict__")     # slots: CPython 3.11 specializes frame_arrives' load of `ends`


# ---------------------------------------------------------------- a frame reaching a device (frame_arrives)

def line_network(tmp_path=None, r1_r2: str = "bandwidth: 10Mbps, queue: 4, loss: 0.1") -> Network:
    """The line topology (h1 - r1 - r2 - r3 - h2); with tmp_path, its r1-r2 link a slow bottleneck with a queue of 4
    frames (and lossy: the settings `r1_r2`)."""
    from dataplane.locate import find_topology
    path = find_topology("line")
    if tmp_path is not None:
        text = Path(path).read_text().replace("ends: [r1:eth2, r2:eth1]}", f"ends: [r1:eth2, r2:eth1], {r1_r2}}}")
        path = tmp_path / "line.yaml"
        path.write_text(text)
    return Network(load_topology(str(path)))


def general_arrivals(net: Network) -> None:
    """Every link hands its frames over the general way (LinkEnd._arrive, then the node's receive), as before
    devices took frames straight from links."""
    from dataplane.net.sim import LinkEnd
    for link in net.links.values():
        for end in link.ends.values():
            end.arrival = LinkEnd._arrive


def busy_line_run(tmp_path, general: bool) -> dict:
    """The line topology's traffic, and a burst of UDP that overflows r1's queue toward r2, over a slow and
    lossy r1-r2 link, r2-r3 losing frames for a while during the burst, and going down and up again while frames
    are on it; what can be seen of the run."""
    from dataplane.net.apps import UdpFlow
    from dataplane.net.linkstats import link_stats
    net = line_network(tmp_path)
    if general:
        general_arrivals(net)
    sent = []
    for link in net.links.values():
        link.observers.append(lambda link, end, frame: sent.append((net.sim.now_ns, link.name, end.index, frame)))
    apps = net.schedule_traffic()
    burst = UdpFlow(net, "h1", "h2", count=60, size=1000, interval_ns=100_000).start(10 * MS)
    r2_r3 = net.links["r2-r3"]
    net.sim.at(12 * MS, setattr, r2_r3, "loss", 1.0)
    net.sim.at(16 * MS, setattr, r2_r3, "loss", 0.0)
    net.sim.at(20 * MS, setattr, r2_r3, "up", False)
    net.sim.at(25 * MS, setattr, r2_r3, "up", True)
    net.run()
    s = net.summary()
    return {"summary": s.render(), "events": s.events, "problems": s.problems,
            "drops": [(d.time_ns, d.node, d.reason, d.detail, d.port, d.copy) for d in net.sim.ledger.drops],
            "links": [(l.link, l.src, l.dst, l.frames, l.bytes, l.dropped) for l in link_stats(net)],
            "received": {name: d.received for name, d in net.devices.items()},
            "apps": [app.render() for app in apps], "burst": list(burst.received), "sent": sent,
            "end": (net.sim.now_ns, net.sim.pending, net.sim.next_event_ns())}


def test_devices_taking_frames_from_links_keep_every_book_of_the_general_way(tmp_path):
    fused, general = busy_line_run(tmp_path, False), busy_line_run(tmp_path, True)
    assert fused == general
    details = {(reason, detail) for _t, _node, reason, detail, *_ in fused["drops"]}
    assert {(DropReason.LINK_LOSS, "r1-r2"), (DropReason.LINK_LOSS, "r2-r3"),
            (DropReason.QUEUE_FULL, "r1-r2 queue of 4 frames"),
            (DropReason.LINK_DOWN, "link r2-r3 went down"), (DropReason.LINK_DOWN, "link r2-r3 is down")} <= details
    assert not fused["problems"] and fused["burst"]


def plain_links_run(tmp_path, observed: bool) -> dict:
    """The line topology's traffic and a burst of UDP over a slow r1-r2 link that loses nothing (a plain link: the
    frames r1 forwards to it are sent by P4Device.frame_arrives itself, while none is queued), with r2-r3's MTU,
    rate, latency, loss and state changed while frames cross it; with `observed`, every link has an observer, so
    that every frame is sent by LinkEnd.transmit. What can be seen of the run, with when h2 got each frame."""
    from dataplane.net.apps import UdpFlow
    from dataplane.net.linkstats import link_stats
    net = line_network(tmp_path, "bandwidth: 10Mbps, queue: 4")
    assert net.links["r1-r2"].plain
    if observed:
        for link in net.links.values():
            link.observers.append(lambda link, end, frame: None)
    h2 = net.host("h2")
    got = []
    h2.open_packet_socket(lambda port, frame: got.append((net.sim.now_ns, port, frame)))
    apps = net.schedule_traffic()
    burst = UdpFlow(net, "h1", "h2", count=60, size=1000, interval_ns=100_000).start(10 * MS)
    r2_r3 = net.links["r2-r3"]
    for at, name, value in ((11, "mtu", 900), (15, "mtu", 1500), (16, "ns_per_byte", 80), (17, "latency_ns", 7_000),
                            (18, "loss", 0.5), (20, "loss", 0.0), (21, "up", False), (23, "up", True)):
        net.sim.at(at * MS, setattr, r2_r3, name, value)
    net.run()
    s = net.summary()
    return {"summary": s.render(), "events": s.events, "problems": s.problems, "got": got, "transmitted": s.transmitted,
            "drops": [(d.time_ns, d.node, d.reason, d.detail, d.port, d.copy) for d in net.sim.ledger.drops],
            "links": [(l.link, l.src, l.dst, l.frames, l.bytes, l.dropped) for l in link_stats(net)],
            "ends": [(e.free_at, list(e.waiting)) for link in net.links.values() for e in link.ends.values()],
            "received": {name: d.received for name, d in net.devices.items()},
            "apps": [app.render() for app in apps], "burst": list(burst.received),
            "end": (net.sim.now_ns, net.sim.pending, net.sim.next_event_ns())}


def test_frames_a_device_sends_itself_on_plain_links_keep_the_books_and_times_of_link_transmit(tmp_path, monkeypatch):
    from dataplane.net.sim import LinkEnd
    observed = plain_links_run(tmp_path, True)
    transmit, calls = LinkEnd.transmit, []
    monkeypatch.setattr(LinkEnd, "transmit", lambda end, *args: calls.append(end) or transmit(end, *args))
    fused = plain_links_run(tmp_path, False)
    assert fused == observed
    assert 0 < len(calls) < fused["transmitted"] - 100      # the devices sent most frames themselves
    details = {(reason, detail) for _t, _node, reason, detail, *_ in fused["drops"]}
    assert {(DropReason.QUEUE_FULL, "r1-r2 queue of 4 frames"), (DropReason.LINK_LOSS, "r2-r3"),
            (DropReason.EXCEEDS_LINK_MTU, "1028 bytes on r2-r3 (MTU 900)"),
            (DropReason.LINK_DOWN, "link r2-r3 is down")} <= details
    assert not fused["problems"] and fused["burst"] and len(fused["got"]) > 60


def odd_outputs_run(general: bool) -> dict:
    """The line topology's traffic with r2's pipeline sending what it gets out of an unlinked port, then out of
    two ports at once, then dropping it while sending it on, then out of a linked and an unlinked port: the books
    of the run."""
    net = line_network()
    if general:
        general_arrivals(net)
    r2 = net.devices["r2"]
    calls = []

    def odd(port, data):
        calls.append(port)
        kind = len(calls) % 4
        if kind == 0:
            return [(9, data)], []                      # a port with no link
        if kind == 1:
            return [(1, data), (2, data)], []           # back and on
        if kind == 2:
            return [(2, data)], [(DropReason.CONSUMED, "kept a copy")]
        return [(2, data), (9, data)], []               # on, and out of a port with no link
    r2.device.process_raw = odd
    net.schedule_traffic()
    net.run()
    s = net.summary()
    return {"summary": s.render(), "events": s.events, "fates": s.fates, "calls": calls,
            "drops": [(d.time_ns, d.node, d.reason, d.detail, d.port, d.copy) for d in net.sim.ledger.drops]}


def test_frames_a_pipeline_does_not_simply_forward_keep_the_books_of_the_general_way():
    fused, general = odd_outputs_run(False), odd_outputs_run(True)
    assert fused == general and fused["calls"]
    drops = {(node, reason, detail, copy) for _t, node, reason, detail, _port, copy in fused["drops"]}
    assert ("r2", DropReason.LINK_DOWN, "port 9 has no link", False) in drops
    assert ("r2", DropReason.LINK_DOWN, "port 9 has no link", True) in drops      # a copy: the other went on


def old_shape_run(tmp_path, old_shape: bool) -> dict:
    """plain_links_run's traffic; with `old_shape`, every device's process_raw replaced by a function that gives
    what the pipeline gives, as process_raw does: (outputs, drops), one frame out a list of one, never the hop
    result of the generated fast()."""
    from dataplane.net.apps import UdpFlow
    net = line_network(tmp_path, "bandwidth: 10Mbps, queue: 4")
    calls = []
    if old_shape:
        for node in net.devices.values():
            def process_raw(port, data, dev=node.device):
                calls.append(port)
                return dev.runner.process_fast(port, data)
            node.device.process_raw = process_raw
    got = []
    net.host("h2").open_packet_socket(lambda port, frame: got.append((net.sim.now_ns, port, frame)))
    apps = net.schedule_traffic()
    UdpFlow(net, "h1", "h2", count=60, size=1000, interval_ns=100_000).start(10 * MS)
    net.run()
    s = net.summary()
    return {"summary": s.render(), "events": s.events, "problems": s.problems, "got": got, "calls": len(calls),
            "drops": [(d.time_ns, d.node, d.reason, d.detail, d.port, d.copy) for d in net.sim.ledger.drops],
            "received": {name: d.received for name, d in net.devices.items()},
            "apps": [app.render() for app in apps], "end": (net.sim.now_ns, net.sim.pending)}


def test_a_process_raw_of_the_old_shape_in_the_pipeline_s_place_keeps_every_book(tmp_path):
    old, fused = old_shape_run(tmp_path, True), old_shape_run(tmp_path, False)
    assert old.pop("calls") == sum(old["received"].values()) > 60 and fused.pop("calls") == 0
    assert old == fused and len(fused["got"]) > 60 and fused["drops"] and not fused["problems"]


def test_arrivals_at_devices_are_the_devices_own_events_and_count_as_frames_in_flight():
    from dataplane.net.network import ARRIVALS
    from dataplane.net.sim import LinkEnd
    net = line_network()
    h1_r1 = net.links["h1-r1"]
    to_r1, to_h1 = h1_r1.end(net.host("h1"), 1), h1_r1.end(net.devices["r1"], 1)
    assert to_r1.arrival == net.devices["r1"].frame_arrives and to_h1.arrival is LinkEnd._arrive
    to_r1.transmit(bytes(60))
    to_h1.transmit(bytes(60))
    assert sorted(fn.__name__ for fn, _ in net.sim.pending_calls()) == ["_arrive", "frame_arrives"]
    assert "frame_arrives" in ARRIVALS and net.summary().on_links == 2


def test_a_frame_on_the_wire_when_its_link_to_a_device_goes_down_is_dropped_there():
    net = line_network()
    r2 = net.devices["r2"]
    r1_r2 = net.links["r1-r2"]
    r1_r2.end(net.devices["r1"], 2).transmit(bytes(100))
    r1_r2.up = False
    net.run(10 * MS)
    assert r2.received == 0
    (drop,) = net.sim.ledger.drops
    assert (drop.node, drop.reason, drop.detail, drop.port) == ("r1", DropReason.LINK_DOWN, "link r1-r2 went down", 2)
    s = net.summary()
    assert s.transmitted == 1 and s.arrived == 0 and s.link_drops == 1 and not s.problems


def test_a_pipeline_bug_inside_a_run_is_an_internal_error_and_a_drop_not_a_silence():
    from dataplane.net.apps import Ping
    net = line_network()
    r2 = net.devices["r2"]

    def broken(port, data):
        raise ZeroDivisionError("a bug")
    r2.device.stages(False)
    r2.device._fast = dict(r2.device._fast, fast=broken)
    Ping(net, "h1", "h2", count=1).start(0)
    net.run(2_000 * MS)
    errors = r2.device.internal_errors
    assert errors and all(detail == "ZeroDivisionError: a bug" for _port, _data, detail in errors)
    assert r2.received == len(errors) and errors[0][0] == 1
    drops = [d for d in net.sim.ledger.drops if d.node == "r2"]
    assert [(d.reason, d.detail, d.port) for d in drops] == \
        [(DropReason.PIPELINE_ERROR, "ZeroDivisionError: a bug", 1)] * len(errors)
    assert net.sim.ledger.unaccounted() == 0 and net.summary().problems


def raising_pipeline_run(general: bool) -> dict:
    """A ping from h1 to h2 with r2's pipeline replaced by one that raises: the books of the run."""
    from dataplane.net.apps import Ping
    net = line_network()
    if general:
        general_arrivals(net)
    r2 = net.devices["r2"]

    def broken(port, data):
        raise ZeroDivisionError("a bug")
    r2.device.process_raw = broken
    Ping(net, "h1", "h2", count=1).start(0)
    net.run(2_000 * MS)
    return {"summary": net.summary().render(), "errors": r2.device.internal_errors, "received": r2.received,
            "drops": [(d.time_ns, d.node, d.reason, d.detail, d.port, d.copy) for d in net.sim.ledger.drops]}


def test_a_pipeline_that_raises_is_an_internal_error_whichever_way_the_frame_came():
    # The general way (LinkEnd._arrive, then receive) runs the pipeline where links hand frames to devices.
    fused, general = raising_pipeline_run(False), raising_pipeline_run(True)
    assert fused == general and fused["errors"] and fused["received"] == len(fused["errors"])
    assert {d[2:4] for d in fused["drops"] if d[1] == "r2"} == {(DropReason.PIPELINE_ERROR, "ZeroDivisionError: a bug")}


def test_a_process_raw_put_in_place_mid_run_or_a_new_device_is_what_runs_next():
    from dataplane.runtime.device import Device
    net = line_network()
    r2 = net.devices["r2"]
    seen = []
    first = net.sim.ledger.transmitted

    def recorder(port, data):
        seen.append((port, data))
        return [], []                  # the program dropped it (as mark_to_drop would)
    r1_end = net.links["r1-r2"].end(net.devices["r1"], 2)
    r1_end.transmit(bytes(60))
    net.run(10 * MS)
    assert seen == [] and r2.received == 1
    r2.device.process_raw = recorder
    r1_end.transmit(bytes(61))
    net.run(20 * MS)
    assert seen == [(1, bytes(61))] and r2.received == 2
    new = Device(r2.device.program, name="r2")
    new.process_raw = recorder
    r2.node.device = new
    r1_end.transmit(bytes(62))
    net.run(30 * MS)
    assert seen == [(1, bytes(61)), (1, bytes(62))] and new.now_us == 21_004.96     # sent at 20 ms, 5 us on the wire, 1 ms away
    assert net.sim.ledger.transmitted == first + 3 and net.sim.ledger.unaccounted() == 0
