"""The ecn exercise: h1 sends send.py's ECN-capable packet (TOS 1) to h2 once a second while iperf sends UDP
at 1 Mbit/s from h11 to h22 through the same 512 kbit/s link from s1 to s2. Once s1's queue toward s2 holds
10 packets (ECN_THRESHOLD) the solution marks h1's packets Congestion Experienced: h2 receives TOS 1, then
3, then 1 again when iperf has stopped and the queue has drained. The skeleton never marks."""

from __future__ import annotations

from dataplane.runtime.trace import DropReason
from exercises import (S, SEND_PY_DPORT, capture, checksum_ok, exercise, iperf_udp, network, requires, runs,
                       send_every_second, send_py_frame, skeleton_hint, skeleton_note)

pytestmark = requires("ecn")

IPERF_START, IPERF_SECONDS = 5 * S, 15
IPERF_END = IPERF_START + IPERF_SECONDS * S
DRAINED = IPERF_END + 2 * S            # 64 packets of 1512 bytes leave in 1.5 s at 512 kbit/s


def experiment(program=None, iperf: bool = True):
    net = network("ecn", program=program)
    at_h2 = capture(net, "h2", SEND_PY_DPORT)
    send_every_second(net, "h1", send_py_frame(net, "h1", "10.0.2.2", b"P4 is cool", tos=1), 40)
    flow = iperf_udp(net, "h11", "10.0.2.22", IPERF_SECONDS, start_ns=IPERF_START) if iperf else None
    net.run(60 * S)
    return net, at_h2, flow


def test_the_bottleneck_is_congested():
    net, _, flow = experiment()
    # iperf sends twice what the link carries: the queue fills and about half of it is dropped there.
    assert 0.3 < len(flow.received) / flow.sent < 0.7
    assert max(latency for _, latency in flow.received) > S
    drops = {(d.node, d.reason) for d in net.sim.ledger.drops}
    assert drops == {("s1", DropReason.QUEUE_FULL)}
    assert not net.summary().problems


def test_tos_goes_from_1_to_3_while_the_queue_is_long_and_back_to_1():
    _, at_h2, _ = experiment()
    tos = [r.tos for r in at_h2]
    assert runs(tos) == [1, 3, 1]
    for r in at_h2:
        # Before iperf's first second and after the queue has drained: not marked; in between, marked.
        if r.time_ns < IPERF_START + S or r.time_ns > DRAINED:
            assert r.tos == 1, r.time_ns
        elif r.time_ns <= IPERF_END:
            assert r.tos == 3, r.time_ns
        assert r.layer("ipv4")["dscp"] == 0 and checksum_ok(r)
    assert bytes(r.frame[-10:]) == b"P4 is cool"


def test_without_iperf_nothing_is_marked():
    _, at_h2, _ = experiment(iperf=False)
    assert [r.tos for r in at_h2] == [1] * 40


def test_without_program_the_run_names_the_skeleton():
    assert skeleton_hint("ecn") == ["switches s1 s2 s3 run ecn.p4", skeleton_note("ecn.p4")]


def test_the_skeleton_never_marks():
    _, at_h2, _ = experiment(program=exercise("ecn") / "ecn.p4")
    tos = [r.tos for r in at_h2]
    assert tos and set(tos) == {1}


def tcp_through_the_bottleneck(ecn: bool, program=None):
    """The transfer, and the queue it found at s1 toward the 512 kbit/s link: the frames waiting there each
    time s1 sent one on it."""
    from dataplane.net.transfers import TcpTransfer
    net = network("ecn", program=program)
    queue: list[int] = []
    bottleneck = net.links["s1-s2"]

    def sent(link, end, frame):
        if end.node.name == "s1":
            queue.append(len(end.waiting))
    bottleneck.observers.append(sent)
    flow = TcpTransfer(net, "h1", "10.0.2.2", port=80, nbytes=600_000, ecn=ecn, cc="newreno").start()
    net.run(120 * S)
    flow.queue = queue
    return net, flow


def test_a_tcp_that_asks_for_ecn_keeps_the_bottleneck_queue_short():
    """RFC 3168 end to end: h1's TCP negotiates ECN with h2, its data is ECT(0), s1 marks it CE once its queue
    toward the 512 kbit/s link holds 10 packets, h2 echoes ECE, h1 halves its window without a loss. Without
    ECN the same transfer fills the queue (64 frames) until it overflows: the window, scaled (RFC 7323), is
    not held at 64 KiB by the peer. The queue s1 keeps is compared (SRTT is not: after the losses Karn's rule
    leaves the connection without ECN few samples); the throughput is the link's either way."""
    net, with_ecn = tcp_through_the_bottleneck(True)
    assert with_ecn.intact and with_ecn.client.ecn
    assert with_ecn.client.ecn_reductions >= 5 and with_ecn.client.retransmissions == 0
    assert not net.sim.ledger.drops
    net, without = tcp_through_the_bottleneck(False)
    assert without.intact and not without.client.ecn and without.client.ecn_reductions == 0
    assert sum(with_ecn.queue) / len(with_ecn.queue) * 3 < sum(without.queue) / len(without.queue)
