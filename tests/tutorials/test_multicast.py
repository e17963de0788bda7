"""The multicast exercise: s1 forwards by destination MAC and sends everything else (broadcasts, unknown
MACs) to multicast group 1, pruning the copy back to the ingress port in egress. The exercise's runtime JSON
puts ports 1, 2 and 3 in the group: a broadcast from h1 reaches h2 and h3, not h4, so h1, h2 and h3 ping each
other and none of them reaches h4, whose ARP requests never arrive. Once port 4 is in the group (the
solution's runtime JSON, step 6 of the README) every host reaches every other. The skeleton drops all."""

from __future__ import annotations

import json

from dataplane.net.network import Network
from dataplane.net.tutorial import load_tutorial_topology
from dataplane.protocols import packets as P
from exercises import (BROADCAST, S, capture, exercise, host_mac_and_address, network, pingall, reachable, requires,
                       skeleton_hint, skeleton_note, solution)

pytestmark = requires("multicast")

TOPOLOGY = "sig-topo/topology.json"
HOSTS = ("h1", "h2", "h3", "h4")
EXPERIMENTAL_TYPE = 0x88B5


def with_solution_runtime(tmp_path) -> str:
    """The sig-topo topology with the solution's s1-runtime.json, whose group 1 has port 4 too."""
    doc = json.loads((exercise("multicast") / TOPOLOGY).read_text())
    doc["switches"]["s1"]["runtime_json"] = str(exercise("multicast") / "solution" / "s1-runtime.json")
    path = tmp_path / "multicast" / "sig-topo" / "topology.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    return str(path)


def broadcast_reaches(net) -> set[str]:
    """The hosts that get a copy of one broadcast frame from h1."""
    got = {host: capture(net, host) for host in HOSTS}
    mac, _ = host_mac_and_address(net, "h1")
    net.host("h1").send_frame(1, P.ethernet(BROADCAST, mac, EXPERIMENTAL_TYPE, b"to the group" + bytes(34)))
    net.run(net.sim.now_ns + S)
    return {host for host, frames in got.items() if frames}


def test_a_broadcast_reaches_the_group_but_not_its_sender():
    assert broadcast_reaches(network("multicast", TOPOLOGY)) == {"h2", "h3"}


def test_h1_h2_and_h3_ping_each_other_and_none_of_them_reaches_h4():
    net = network("multicast", TOPOLOGY)
    ok = reachable(pingall(net))
    group = ("h1", "h2", "h3")
    assert {(a, b) for a in group for b in group if a != b} <= ok
    assert not any((a, "h4") in ok for a in group)
    # h4's own ARP requests reach the group and the answers come back by MAC, as with Linux hosts on BMv2.
    assert {("h4", b) for b in group} <= ok
    # The copy a multicast would send back out of its ingress port is dropped in egress, one per broadcast.
    assert set(net.summary().copy_drops) == {"egress_drop"}


def test_with_port_4_in_the_group_every_host_reaches_every_other(tmp_path):
    net = Network(load_tutorial_topology(with_solution_runtime(tmp_path), program=str(solution("multicast"))))
    assert broadcast_reaches(net) == {"h2", "h3", "h4"}
    app = pingall(net)
    assert app.received == len(app.pairs) == 12


def test_without_program_the_run_names_the_skeleton():
    assert skeleton_hint("multicast", TOPOLOGY) == ["switch s1 runs multicast.p4", skeleton_note("multicast.p4")]


def test_the_skeleton_drops_everything():
    net = network("multicast", TOPOLOGY, program=exercise("multicast") / "multicast.p4")
    assert broadcast_reaches(net) == set()
    assert pingall(net).received == 0
