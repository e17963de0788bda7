"""The learning switch: programs/l2_switch.p4 with its agent (dataplane/router/l2agent.py)."""

from __future__ import annotations

from dataplane.build import build
from dataplane.router.l2agent import L2Agent
from dataplane.router.node import Node
from dataplane.runtime.device import Device
from p4helpers import PROGRAMS

A, B, C = 0x020000000001, 0x020000000002, 0x020000000003
BROADCAST = 0xFFFFFFFFFFFF


def make_switch(max_macs=None, ports=(1, 2, 3, 4)):
    dev = Device(build(str(PROGRAMS / "l2_switch.p4")))
    agent = L2Agent(dev, list(ports), max_macs=max_macs)
    agent.install()
    return Node(dev, agent, "sw")


def frame(dst: int, src: int, payload: bytes = b"\x00" * 46) -> bytes:
    return dst.to_bytes(6, "big") + src.to_bytes(6, "big") + b"\x88\xb5" + payload


def ports_out(sw, port, data):
    outputs, drops, _ = sw.receive(port, data, 0.0)
    assert all(f == data for _, f in outputs)            # a switch never changes a frame
    return sorted(p for p, _ in outputs)


def test_unknown_destinations_flood_to_every_port_but_the_ingress():
    sw = make_switch()
    assert ports_out(sw, 1, frame(B, A)) == [2, 3, 4]
    assert sw.agent.learned == {A: 1}


def test_learned_destinations_leave_by_one_port_only():
    sw = make_switch()
    ports_out(sw, 1, frame(B, A))
    assert ports_out(sw, 2, frame(A, B)) == [1]          # A was learned from the first frame
    assert ports_out(sw, 1, frame(B, A)) == [2]          # and B from the reply
    assert sw.agent.learned == {A: 1, B: 2}


def test_broadcast_and_multicast_always_flood():
    sw = make_switch()
    ports_out(sw, 1, frame(B, A))
    ports_out(sw, 2, frame(A, B))
    assert ports_out(sw, 3, frame(BROADCAST, C)) == [1, 2, 4]
    assert ports_out(sw, 3, frame(0x01005E000001, C)) == [1, 2, 4]


def test_a_station_that_moves_is_learned_on_its_new_port():
    sw = make_switch()
    ports_out(sw, 1, frame(B, A))
    ports_out(sw, 2, frame(A, B))
    assert ports_out(sw, 3, frame(B, A)) == [2]          # A now speaks from port 3
    assert sw.agent.learned[A] == 3 and sw.agent.moves == 1
    assert ports_out(sw, 2, frame(A, B)) == [3]


def test_frames_between_stations_on_the_same_port_are_filtered():
    sw = make_switch()
    ports_out(sw, 1, frame(B, A))
    ports_out(sw, 1, frame(A, B))                        # B lives on port 1 too (a hub behind it)
    outputs, drops, _ = sw.receive(1, frame(B, A), 0.0)
    assert outputs == [] and len(drops) == 1


def test_group_source_macs_are_never_learned():
    sw = make_switch()
    ports_out(sw, 1, frame(B, 0x010000000001))
    assert sw.agent.learned == {}


def test_a_full_table_keeps_flooding_for_new_stations():
    sw = make_switch(max_macs=1)
    ports_out(sw, 1, frame(C, A))
    ports_out(sw, 2, frame(C, B))                        # no room for B
    assert sw.agent.learned == {A: 1}
    assert ports_out(sw, 1, frame(B, A)) == [2, 3, 4]
