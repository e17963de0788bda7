"""The discrete-event simulator and its links: timing, queues, loss, MTU, accounting, limits."""

from __future__ import annotations

import dis
import sys
import types

import pytest

from dataplane.net import sim as sim_module
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


def test_the_backlog_a_frame_would_find():
    # 1000-byte frames at 8 Mbit/s take 1 ms each: the first goes on the wire, two more wait.
    sim, a, b, link = pair(bandwidth_bps=8e6)
    end = link.end(a, 1)
    assert end.backlog(0) == (0, 0)
    for _ in range(3):
        link.send(a, 1, frame(1000))
    assert end.backlog(0) == (2, 3_000_000)
    assert end.backlog(1_500_000) == (1, 3_000_000)      # the second started at 1 ms
    assert end.backlog(3_000_000) == (0, 3_000_000)
    assert end.backlog(4_000_000) == (0, 4_000_000)       # idle: a frame would start when it is ready


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


def test_relayed_frames_counted_once_are_in_the_arrived_and_fates_read_and_writes_to_either_count():
    from dataplane.net.sim import FATES, Ledger
    ledger = Ledger()
    ledger.relayed_untallied += 3            # as P4Device.frame_arrives counts the frames it forwards from links
    ledger.fate("forwarded")
    ledger.fate("delivered")
    ledger.arrived_tallied += 2              # as LinkEnd._arrive counts what it hands to a node
    fates = ledger.fates
    assert fates == {**dict.fromkeys(FATES, 0), "forwarded": 4, "delivered": 1} and ledger.relayed_untallied == 0
    assert ledger.arrived == 5
    fates["delivered"] += 1                  # as a host's stack counts the frames it takes
    ledger.relayed_untallied += 2
    ledger.arrived += 1                      # as a P4Runtime packet-out is counted
    assert ledger.arrived == 8 and ledger.relayed_untallied == 0
    assert ledger.fates is fates and fates == {**dict.fromkeys(FATES, 0), "forwarded": 6, "delivered": 2}
    ledger.relayed_untallied += 1
    assert ledger.unaccounted() == 0 and ledger.arrived == 9 and ledger.fates["forwarded"] == 7


def test_a_link_that_is_down_drops_what_is_sent_and_what_was_on_the_wire():
    sim, a, b, link = pair(latency_ns=1000)
    link.send(a, 1, frame(60, 1))
    link.up = False                     # the first frame is on the wire: it is lost when it would arrive
    link.send(a, 1, frame(60, 2))
    sim.run()
    assert b.got == []
    assert [(d.reason, d.detail) for d in sim.ledger.drops] == [
        (DropReason.LINK_DOWN, "link a-b is down"), (DropReason.LINK_DOWN, "link a-b went down")]
    assert sim.ledger.transmitted == sim.ledger.arrived + sim.ledger.link_drops
    link.up = True
    link.send(b, 1, frame(60, 3))
    sim.run()
    assert [f for _, f in a.got] == [frame(60, 3)]


def test_next_event_ns_skips_cancelled_events():
    sim = Simulator()
    h = sim.schedule(5, lambda: None)
    sim.schedule(9, lambda: None)
    assert sim.next_event_ns() == 5
    sim.cancel(h)
    assert sim.next_event_ns() == 9 and sim.pending == 1
    sim.run()
    assert sim.next_event_ns() is None


def test_at_is_schedule_from_now_in_one_call():
    sim = Simulator()
    order = []
    sim.schedule(7, order.append, "a")
    sim.at(7, order.append, "b")              # the same time: after a, scheduled first
    sim.at(3, order.append, "c")
    sim.schedule(-5, order.append, "now")     # a delay below zero is now
    sim.at(2.9, order.append, "float")        # times are whole nanoseconds: 2.9 ns from 0 is 2
    sim.run(until_ns=1)
    assert order == ["now"]
    sim.at(0, order.append, "past")           # a time already past is now (1)
    sim.run()
    assert order == ["now", "past", "float", "c", "a", "b"]
    assert sim.now_ns == 7 and sim.events_run == 6


def test_a_frame_arrives_once_at_its_far_end_with_one_event():
    sim, a, b, link = pair(latency_ns=100, bandwidth_bps=8e9)       # 1 ns a byte
    end = link.end(a, 1)
    end.transmit(frame(50))                   # what Link.send does once it has found the end
    link.send(a, 1, frame(50, 1))
    assert sim.pending == 2
    sim.run()
    assert b.got == [(150, frame(50)), (200, frame(50, 1))] and a.got == []
    assert (end.sent, end.bytes, sim.ledger.transmitted, sim.ledger.arrived) == (2, 100, 2, 2)


def test_scheduled_calls_take_any_arguments_and_pending_calls_shows_them_as_given():
    sim, a, b, link = pair(latency_ns=1000)
    ran = []

    def record(*args):
        ran.append(args)
    sim.schedule(1, record)
    sim.at(2, record, 1)
    sim.schedule(3, record, 1, 2)
    sim.at(4, record, 1, 2, 3)
    link.send(a, 1, frame(60))
    calls = sim.pending_calls()
    assert sorted(args for fn, args in calls if fn is record) == [(), (1,), (1, 2), (1, 2, 3)]
    assert [(fn.__name__, args) for fn, args in calls if fn is not record] == [("_arrive", (link.end(a, 1), frame(60)))]
    sim.run()
    assert ran == [(), (1,), (1, 2), (1, 2, 3)] and b.got == [(1000, frame(60))] and sim.events_run == 5


def test_frames_in_flight_are_counted_by_their_arrival_events():
    from dataplane.net.network import ARRIVALS
    sim, a, b, link = pair(latency_ns=1000)
    link.send(a, 1, frame(60))
    link.send(b, 1, frame(60))
    assert [fn.__name__ for fn, _ in sim.pending_calls()] == ["_arrive", "_arrive"]
    assert all(fn.__name__ in ARRIVALS for fn, _ in sim.pending_calls())


@pytest.mark.parametrize("bandwidth", [1e9, 100e6, 10e6, 3e8, 1.0, 8e9 / 3**30, 8e9 / (1 << 20), 8e9 / ((1 << 20) + 1)])
def test_serialization_times_are_whole_nanoseconds_of_floating_point(bandwidth):
    # 1 Gbit/s and slower decimal rates are whole nanoseconds a byte; 300 Mbit/s (26.67 ns) and 1 bit/s
    # (8 s a byte) are not: every time is int(size * ns_per_byte), an int. A whole number of ns a byte is kept as
    # an int up to 2**20 (a frame's time is then an integer multiply, as exact as the float's); above, 3**30 ns a
    # byte times 1514 is not exact in a float, and the times stay those of the float.
    sim, a, b, link = pair(bandwidth_bps=bandwidth, mtu=65535)
    sizes = (60, 1514, 9000, 65535)
    for size in sizes:
        link.send(a, 1, frame(size))
    sim.run()
    done, expected = 0, []
    for size in sizes:
        done += int(size * (8e9 / bandwidth))
        expected.append(done)
    assert [t for t, _ in b.got] == expected and all(type(t) is int for t, _ in b.got)


def test_a_whole_number_of_ns_a_byte_is_an_int_and_other_rates_stay_floats():
    from dataplane.net.sim import ns_per_byte
    assert [(v, type(v)) for v in map(ns_per_byte, (1e9, 10**8, 8e9 / (1 << 20), None, 0))] == \
        [(8, int), (80, int), (1 << 20, int), (0, int), (0, int)]
    assert [(v, type(v)) for v in map(ns_per_byte, (3e8, 1.0, 8e9 / ((1 << 20) + 1)))] == \
        [(8e9 / 3e8, float), (8e9, float), ((1 << 20) + 1.0, float)]


def test_a_serialization_rate_changed_mid_run_times_the_frames_sent_after_it():
    sim, a, b, link = pair(bandwidth_bps=8e9)                       # 1 ns a byte
    link.send(a, 1, frame(100))
    link.ns_per_byte = 2.5                                          # 3.2 Gbit/s: a float
    link.send(a, 1, frame(101))
    link.ns_per_byte = 3
    link.send(a, 1, frame(100, 1))
    sim.run()
    assert b.got == [(100, frame(100)), (352, frame(101)), (652, frame(100, 1))]
    assert all(type(t) is int for t, _ in b.got)


def test_a_latency_given_in_a_float_arrives_in_whole_nanoseconds():
    sim, a, b, link = pair(latency_ns=2.7, bandwidth_bps=8e9)      # 1 ns a byte
    link.send(a, 1, frame(10))
    sim.run()
    assert b.got == [(12, frame(10))] and type(sim.now_ns) is int



def test_a_latency_changed_mid_run_times_the_frames_sent_after_it():
    sim, a, b, link = pair(latency_ns=10, bandwidth_bps=8e9)       # 1 ns a byte
    for when, latency in ((0, None), (100, 2.7), (200, 5)):
        if latency is not None:
            sim.at(when, setattr, link, "latency_ns", latency)
        sim.at(when, link.send, a, 1, frame(10, when // 100))
    sim.run()
    assert b.got == [(20, frame(10, 0)), (112, frame(10, 1)), (215, frame(10, 2))]
    assert all(type(t) is int for t, _ in b.got) and link.plain


def test_a_capture_started_and_stopped_mid_run_has_the_frames_sent_meanwhile():
    class Capture:
        def __init__(self):
            self.frames = []

        def write(self, data, time_ns, interface, number):
            self.frames.append((data, time_ns, interface))
    sim, a, b, link = pair(bandwidth_bps=8e9)
    capture = Capture()
    sim.at(10, setattr, link, "pcap", capture)
    sim.at(20, setattr, link, "pcap", None)
    for when in (0, 10, 15, 20):
        sim.at(when, link.send, b, 1, frame(5, when))
    sim.run()
    assert capture.frames == [(frame(5, 10), 10, 1), (frame(5, 15), 15, 1)]
    assert len(a.got) == 4 and link.plain



def test_a_queue_of_no_frames_set_mid_run_drops_what_is_sent_on_an_idle_link():
    sim, a, b, link = pair(bandwidth_bps=8e9)
    sim.at(10, setattr, link, "queue_frames", 0)
    sim.at(20, setattr, link, "queue_frames", 1)
    for when in (0, 15, 25):                        # each sent on an idle link, its queue empty
        sim.at(when, link.send, a, 1, frame(5, when))
    sim.run()
    assert [f for _, f in b.got] == [frame(5, 0), frame(5, 25)]
    assert [(d.time_ns, d.reason, d.detail) for d in sim.ledger.drops] == \
        [(15, DropReason.QUEUE_FULL, "a-b queue of 0 frames")]

def test_a_link_is_plain_while_up_lossless_queueing_uncaptured_and_timed_in_whole_nanoseconds():
    sim, a, b, link = pair(bandwidth_bps=8e9)
    assert link.plain
    for name, odd, usual in (("up", False, True), ("loss", 0.5, 0.0), ("queue_frames", 0, 1), ("pcap", object(), None),
                             ("ns_per_byte", 2.5, 3), ("latency_ns", 0.5, 7), ("ns_per_byte", -1, 0),
                             ("latency_ns", -1, 0)):
        setattr(link, name, odd)
        assert not link.plain, name
        setattr(link, name, usual)
        assert link.plain, name
    assert not Link(sim, "slow", a, 2, b, 2, bandwidth_bps=3e8).plain       # 26.67 ns a byte

def test_the_events_run_are_counted_when_an_event_raises_and_the_run_resumes():
    sim = Simulator()
    ran = []

    def boom():
        raise RuntimeError("a bug")
    sim.schedule(1, ran.append, 1)
    sim.schedule(2, boom)
    sim.schedule(3, ran.append, 3)
    with pytest.raises(RuntimeError):
        sim.run()
    assert sim.events_run == 2 and sim.now_ns == 2 and sim.pending == 1
    sim.run()
    assert ran == [1, 3] and sim.events_run == 3


def test_a_run_until_a_time_stops_there_when_the_queue_is_compacted_during_it():
    # The run stops at a mark in the heap (a key no event has); compacting the heap keeps it.
    sim = Simulator()
    ran = []
    timers = [sim.schedule(100 + i, ran.append, "timer") for i in range(3 * Simulator.COMPACT_MIN)]
    sim.schedule(5, lambda: [sim.cancel(t) for t in timers])
    for t in (10, 20, 30):
        sim.schedule(t, ran.append, t)
    sim.run(until_ns=15)
    assert len(sim._queue) < len(timers)                # compacted during the run
    assert ran == [10] and sim.now_ns == 15 and sim.pending == 2 and sim.next_event_ns() == 20
    sim.run(until_ns=25)
    assert ran == [10, 20] and sim.now_ns == 25
    sim.run()
    assert ran == [10, 20, 30] and sim.pending == 0 and sim.events_run == 4


def test_a_run_from_an_event_leaves_the_outer_runs_stop_mark_for_a_compaction_after_it():
    # The inner run ends (its mark gone); a compaction later in the outer run must keep the outer mark.
    sim = Simulator()
    ran = []
    timers = [sim.schedule(100 + i, ran.append, "timer") for i in range(3 * Simulator.COMPACT_MIN)]
    sim.schedule(5, lambda: sim.run(until_ns=7))
    sim.schedule(6, ran.append, 6)
    sim.schedule(8, lambda: [sim.cancel(t) for t in timers])
    for t in (10, 20):
        sim.schedule(t, ran.append, t)
    sim.run(until_ns=15)
    assert ran == [6, 10] and sim.now_ns == 15 and sim.next_event_ns() == 20


def test_a_run_until_a_time_after_a_run_that_raised_stops_at_its_own_time():
    sim = Simulator()
    ran = []

    def boom():
        raise RuntimeError("a bug")
    sim.schedule(1, boom)
    for t in (10, 20, 30):
        sim.schedule(t, ran.append, t)
    with pytest.raises(RuntimeError):
        sim.run(until_ns=15)                          # leaves its stop mark in the heap
    sim.run(until_ns=25)
    assert ran == [10, 20] and sim.now_ns == 25
    sim.schedule(0, boom)                             # at 25: runs, and leaves a mark of the same key
    with pytest.raises(RuntimeError):
        sim.run(until_ns=25)
    sim.run(until_ns=25)                              # the same time again
    assert ran == [10, 20] and sim.now_ns == 25 and sim.next_event_ns() == 30
    sim.run()
    assert ran == [10, 20, 30] and sim.now_ns == 30 and sim.pending == 0


def test_a_run_until_a_time_already_past_runs_nothing():
    sim = Simulator()
    ran = []
    sim.schedule(10, ran.append, 10)
    sim.run(until_ns=20)
    sim.schedule(5, ran.append, 25)
    sim.run(until_ns=3)
    assert ran == [10] and sim.now_ns == 20 and sim.next_event_ns() == 25


def test_progress_sees_the_count_of_events_run_so_far():
    sim = Simulator()
    for i in range(10_000):
        sim.schedule(i, lambda: None)
    seen = []
    sim.run(progress=lambda now: seen.append((now, sim.events_run)))
    assert seen == [(4095, 4096), (8191, 8192)] and sim.events_run == 10_000


def test_an_event_cancelled_by_the_event_before_it_at_the_same_time_does_not_run():
    sim = Simulator()
    ran = []
    later = []
    sim.schedule(5, lambda: sim.cancel(later[0]))
    later.append(sim.schedule(5, ran.append, "cancelled"))
    sim.schedule(5, ran.append, "runs")
    sim.run()
    assert ran == ["runs"] and sim.events_run == 2 and sim.pending == 0


def test_a_float_until_is_the_nanosecond_it_falls_in():
    sim = Simulator()
    ran = []
    for t in (20, 21):
        sim.schedule(t, ran.append, t)
    sim.run(until_ns=20.9)
    assert ran == [20] and sim.now_ns == 20 and sim.next_event_ns() == 21
    sim.schedule(1, ran.append, "next")           # from a whole nanosecond, as every time is
    sim.run(until_ns=float("inf"))
    assert ran == [20, 21, "next"] and sim.now_ns == 21


def test_events_far_in_the_future_keep_their_order():
    sim = Simulator()
    order = []
    for t in (3 * 10**18, 10**18, 2**70, 10**18):
        sim.at(t, order.append, t)
    assert sim.next_event_ns() == 10**18
    sim.run()
    assert order == [10**18, 10**18, 3 * 10**18, 2**70] and sim.now_ns == 2**70


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's warm-up of bytecode")
def test_a_run_called_once_specializes_its_loop():
    # 3.11 specializes a code object's bytecode after 8 calls or 8 backward jumps; a fresh copy of run's code
    # (the shared one may have been warmed up by other tests) called once must warm up in its own loop.
    run = types.FunctionType(Simulator.run.__code__.replace(), vars(sim_module), "run", Simulator.run.__defaults__)
    sim = Simulator()
    for i in range(50):
        sim.schedule(i, lambda: None)
    run(sim)
    assert sim.events_run == 50
    ops = [ins.opname for ins in dis.get_instructions(run, adaptive=True)]
    assert "UNPACK_SEQUENCE_TUPLE" in ops and "STORE_ATTR_INSTANCE_VALUE" in ops
