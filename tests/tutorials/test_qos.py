"""The qos exercise (DiffServ): the solution's ingress sets DSCP 46 (Expedited Forwarding) on UDP and 44
(Voice Admit) on TCP. h1 sends send.py's packets, TOS 1, to h2: h2 receives TOS 0xb9 for UDP and 0xb1 for
TCP, as the README shows. The hosts' own UDP and TCP get the same classes (their ECN bits are 0), and a TCP
connection still works with its segments marked both ways. The skeleton leaves TOS 1 as it is."""

from __future__ import annotations

from dataplane.net.transfers import TcpTransfer
from exercises import (S, capture, checksum_ok, exercise, iperf_udp, network, requires, send_every_second,
                       send_py_frame, skeleton_hint, skeleton_note)

pytestmark = requires("qos")

EXPEDITED_FORWARDING, VOICE_ADMIT = 46, 44


def send_py(program=None) -> dict[str, list[int]]:
    """send.py --p=UDP, then --p=TCP, five packets each; the TOS of what h2 receives, by protocol."""
    net = network("qos", program=program)
    at_h2 = capture(net, "h2")
    for i, transport in enumerate(("udp", "tcp")):
        frame = send_py_frame(net, "h1", "10.0.2.2", b"P4 is cool", tos=1, transport=transport)
        send_every_second(net, "h1", frame, 5, start_ns=10 * i * S)
    net.run(30 * S)
    assert all(checksum_ok(r) for r in at_h2)
    out: dict[str, list[int]] = {"udp": [], "tcp": []}
    for r in at_h2:
        out["udp" if r.layer("ipv4")["protocol"] == 17 else "tcp"].append(r.tos)
    return out


def test_send_py_packets_get_the_tos_of_the_readme():
    assert send_py() == {"udp": [0xB9] * 5, "tcp": [0xB1] * 5}


def test_without_program_the_run_names_the_skeleton():
    assert skeleton_hint("qos") == ["switches s1 s2 s3 run qos.p4", skeleton_note("qos.p4")]


def test_the_skeleton_leaves_tos_alone():
    assert send_py(program=exercise("qos") / "qos.p4") == {"udp": [1] * 5, "tcp": [1] * 5}


def test_the_hosts_own_udp_and_tcp_get_their_classes():
    net = network("qos")
    at_h2, at_h1 = capture(net, "h2"), capture(net, "h1")
    flow = iperf_udp(net, "h1", "10.0.2.2", 1)
    transfer = TcpTransfer(net, "h1", "10.0.2.2", port=80, nbytes=20_000).start(2 * S)
    net.run(10 * S)
    assert len(flow.received) == flow.sent and transfer.intact
    classes = {(r.layer("ipv4")["protocol"], r.layer("ipv4")["dscp"], r.layer("ipv4")["ecn"]) for r in at_h2 + at_h1
               if r.layers[1].name == "ipv4"}
    assert classes == {(17, EXPEDITED_FORWARDING, 0), (6, VOICE_ADMIT, 0)}
