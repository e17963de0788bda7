"""The discrete-event simulator and its links: timing, queues, loss, MTU, accounting, limits."""

from __future__ import annotations

import pytest

from dataplane.net.sim import Link, Simulator
from dataplane.runtime.trace import DropReason


class Sink:
    """A node that records what arrives, and when."""

    def __init__(self, sim, name):
        self.sim, self.name = sim, name
        self.got: list[tuple[int, bytes]] = []

    def receive(self, port, frame):
        self.got.append((self.sim.now_ns, frame))
        self.sim.ledger.fate("delivered")


def pair(**kw):
    sim = Simulator(seed=1)
    a, b = Sink(sim, "a"), Sink(sim, "b")
    link = Link(sim, "a-b", a, 1, b, 1, **kw)
    return sim, a, b, link


def frame(n: int, tag: int = 0) -> bytes:
    return bytes([tag]) * n


def test_events_at_the_same_time_run_in_the_order_they_were_scheduled():
    sim = Simulator()
    order = []
    for i in range(5):
        sim.schedule(10, order.append, i)
    sim.schedule(5, order.append, "first")
    sim.run()
    assert order == ["first", 0, 1, 2, 3, 4] and sim.now_ns == 10


def test_cancelled_events_do_not_run_and_until_stops_the_clock():
    sim = Simulator()
    seen = []
    h = sim.schedule(10, seen.append, "x")
    sim.schedule(30, seen.append, "late")
    sim.cancel(h)
    sim.run(until_ns=20)
    assert seen == [] and sim.now_ns == 20 and sim.pending == 1


def test_cancelled_timers_are_compacted_out_of_the_queue():
    # A retransmission timer re-armed on every ACK: the heap must not keep every dead timer.
    sim = Simulator()
    handle = None
    for i in range(10_000):
        sim.cancel(handle)
        handle = sim.schedule(1_000_000 + i, lambda: None)
    assert sim.pending == 1 and len(sim._queue) <= 2 * Simulator.COMPACT_MIN + 2
    ran = []
    sim.schedule(5, ran.append, "soon")
    sim.run()
    assert ran == ["soon"] and sim.pending == 0 and sim.events_run == 2


def test_cancelling_an_event_that_already_ran_changes_nothing():
    sim = Simulator()
    h = sim.schedule(1, lambda: None)
    sim.run()
    sim.cancel(h)
    sim.schedule(1, lambda: None)
    assert sim.pending == 1


def test_serialization_and_propagation_delays():
    # 1000 bytes at 8 Mbit/s take 1 ms to send; then 2 ms on the wire.
    sim, a, b, link = pair(bandwidth_bps=8e6, latency_ns=2_000_000)
    link.send(a, 1, frame(1000))
    link.send(a, 1, frame(1000, 1))          # waits for the first
    sim.run()
    assert [t for t, _ in b.got] == [3_000_000, 4_000_000]


def test_the_queue_is_drop_tail_and_counts_waiting_frames_only():
    sim, a, b, link = pair(bandwidth_bps=8e6, queue_frames=2)
    for i in range(5):
        link.send(a, 1, frame(1000, i))        # one on the wire, two waiting, two dropped
    sim.run()
    assert [f[0] for _, f in b.got] == [0, 1, 2]
    assert [d.reason for d in sim.ledger.drops] == [DropReason.QUEUE_FULL] * 2
    assert sim.ledger.transmitted == 5 and sim.ledger.arrived == 3 and sim.ledger.link_drops == 2


def test_a_frame_larger_than_the_link_mtu_is_dropped_at_the_link():
    sim, a, b, link = pair(mtu=1280)
    link.send(a, 1, frame(14 + 1280))
    link.send(a, 1, frame(14 + 1281))
    sim.run()
    assert len(b.got) == 1
    (d,) = sim.ledger.drops
    assert d.reason is DropReason.EXCEEDS_LINK_MTU and d.node == "a" and "1281 bytes on a-b (MTU 1280)" in d.detail


def test_loss_is_random_but_seeded():
    def lost(seed):
        sim = Simulator()
        a, b = Sink(sim, "a"), Sink(sim, "b")
        link = Link(sim, "a-b", a, 1, b, 1, loss=0.3, seed=seed)
        for i in range(200):
            link.send(a, 1, frame(60, i % 256))
        sim.run()
        return [f for _, f in b.got]
    assert lost(7) == lost(7)
    assert lost(7) != lost(8)
    assert 100 < len(lost(7)) < 180


def test_both_directions_are_independent():
    sim, a, b, link = pair(bandwidth_bps=8e6)
    link.send(a, 1, frame(1000))
    link.send(b, 1, frame(1000))
    sim.run()
    assert [t for t, _ in a.got] == [1_000_000] and [t for t, _ in b.got] == [1_000_000]


def test_a_storm_stops_at_the_frame_limit_and_says_so():
    sim = Simulator(max_frames=100)

    class Echo(Sink):
        def receive(self, port, frame):
            self.sim.ledger.fate("forwarded")
            link.send(self, 1, frame)                # bounce everything back forever

    a, b = Echo(sim, "a"), Echo(sim, "b")
    link = Link(sim, "a-b", a, 1, b, 1, latency_ns=10)
    link.send(a, 1, frame(60))
    sim.run()
    assert sim.ledger.transmitted == 101 and "stopped after 100 frames" in sim.stopped_by


def test_watchers_hear_link_drops_with_the_frame():
    sim, a, b, link = pair(mtu=100)
    heard = []
    sim.watchers.append(lambda kind, *d: heard.append((kind, d[3], d[4].reason)))
    link.send(a, 1, frame(200))
    assert heard == [("link_drop", frame(200), DropReason.EXCEEDS_LINK_MTU)]


@pytest.mark.parametrize("bandwidth", [None, 1e9])
def test_pcap_timestamps_are_when_each_frame_starts(tmp_path, bandwidth):
    from dataplane.pcap import PcapWriter, read_pcap
    sim, a, b, link = pair(bandwidth_bps=bandwidth)
    link.pcap = PcapWriter(str(tmp_path / "l.pcap"))
    link.send(a, 1, frame(125))
    link.send(a, 1, frame(125, 1))
    sim.run()
    link.pcap.close()
    times = [r.time_ns for r in read_pcap(str(tmp_path / "l.pcap"))]
    assert times == ([0, 0] if bandwidth is None else [0, 1000])


def test_drop_records_are_bounded_but_counts_stay_exact():
    from dataplane.net.sim import DropRecord, Ledger
    ledger = Ledger(max_drop_records=10)
    for i in range(1000):
        ledger.drop(DropRecord(i, "h1" if i % 2 else "r1", DropReason.NO_ROUTE, copy=(i % 10 == 0)))
    assert len(ledger.drops) == 10 and ledger.drops[-1].time_ns == 9
    assert ledger.total_drops == 1000 and ledger.unrecorded_drops == 990
    assert ledger.drops_by_reason() == {"no_route": 900}
    assert ledger.drops_by_reason(copies=True) == {"no_route": 100}
    assert ledger.drops_by_node() == {"h1": 500, "r1": 400}
