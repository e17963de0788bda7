"""A deterministic discrete-event simulator of nodes joined by links.

Time is an integer number of nanoseconds. Events with the same time run in
the order they were scheduled (a sequence number breaks ties), and every
random choice (link loss) comes from a generator seeded per link, so the
same topology and traffic always give the same result, byte for byte.

A link carries frames in both directions; each direction has a drop-tail
queue (a number of frames), a serialization delay from its bandwidth and a
propagation latency, and may lose frames at random with a seeded loss rate.
A frame whose IP packet (the Ethernet payload) is larger than the link MTU
is dropped at the link with the reason "exceeds link MTU", so a program
that forgets to fragment is visible, not silently fixed.

Accounting: every frame put on a link ends as delivered to the far node,
dropped on the link (queue full, loss, MTU), or still in flight when the
run stops; every frame a node receives gets one fate: forwarded, delivered
to a host's stack, consumed by an agent, dropped with a reason, or kept for
reassembly. The `Ledger` keeps the counts and every drop with its node,
reason and time.
"""

from __future__ import annotations

import heapq
import math
import random
from heapq import heappop, heappush
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from ..runtime.trace import DropReason


@dataclass
class DropRecord:
    time_ns: int
    node: str
    reason: DropReason
    detail: str = ""
    port: int | None = None
    copy: bool = False            # one copy of a frame whose other copies went on (multicast, flooding)
    packet: object = None         # the frame's PacketNumber, when packets are numbered (net/numbering.py)


# What became of a frame a node received: exactly one of these each.
FATES = ("forwarded", "delivered", "consumed", "dropped", "reassembly")


# Drop records kept per run: enough to inspect any ordinary run drop by drop, while a flood of
# millions of drops costs counters, not memory (the counts stay exact).
MAX_DROP_RECORDS = 100_000


@dataclass
class Ledger:
    """The books of a run: every frame on a link and every frame a node received.

    Links: transmitted = arrived + dropped on the link + still in flight.
    Nodes: arrived = forwarded + delivered + consumed + dropped + reassembly,
    where a fragment a host keeps for reassembly is counted once, when it
    arrives (the datagram's fate shows in `drops` or in the host's deliveries).
    Drops are counted by (node, reason, copy) exactly; `drops` keeps the first
    `max_drop_records` records with their time and detail.
    """
    transmitted: int = 0          # frames put on links
    arrived_tallied: int = 0      # frames that reached the far end of a link: read `arrived`, which adds the relayed
    link_drops: int = 0
    fate_counts: dict = field(default_factory=lambda: dict.fromkeys(FATES, 0))      # read `fates` (the same)
    # Frames that came to a device over a link and that it forwarded, one a router hop (the busiest path,
    # P4Device.frame_arrives), are counted once, here, rather than in arrived_tallied and in the forwarded fate
    # (two counters, one of them a dict entry that costs twice an attribute's), and added to both when `arrived`
    # or `fates` is read.
    relayed_untallied: int = 0
    drops: list[DropRecord] = field(default_factory=list)
    drop_counts: dict = field(default_factory=dict)     # (node, reason, copy) -> count
    max_drop_records: int = MAX_DROP_RECORDS

    def drop(self, rec: DropRecord, on_link: bool = False) -> None:
        key = (rec.node, rec.reason, rec.copy)
        self.drop_counts[key] = self.drop_counts.get(key, 0) + 1
        if len(self.drops) < self.max_drop_records:
            self.drops.append(rec)
        if on_link:
            self.link_drops += 1

    def fate(self, kind: str) -> None:
        self.fate_counts[kind] += 1

    def _tally(self) -> None:
        """The relayed frames counted as arrived and forwarded."""
        relayed = self.relayed_untallied
        if relayed:
            self.arrived_tallied += relayed
            self.fate_counts["forwarded"] += relayed
            self.relayed_untallied = 0

    @property
    def arrived(self) -> int:
        """Frames that reached the far end of a link."""
        self._tally()
        return self.arrived_tallied

    @arrived.setter
    def arrived(self, count: int) -> None:
        self._tally()
        self.arrived_tallied = count

    @property
    def fates(self) -> dict:
        """Frames by fate (FATES): the dict of the counts, which stays the ledger's (writing to it counts)."""
        self._tally()
        return self.fate_counts

    @property
    def total_drops(self) -> int:
        return sum(self.drop_counts.values())

    @property
    def unrecorded_drops(self) -> int:
        """Drops counted but not kept as records (beyond max_drop_records)."""
        return self.total_drops - len(self.drops)

    def drops_by_reason(self, copies: bool = False) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_node, reason, copy), n in self.drop_counts.items():
            if copy == copies:
                out[reason.name.lower()] = out.get(reason.name.lower(), 0) + n
        return dict(sorted(out.items()))

    def drops_by_node(self) -> dict[str, int]:
        """Frames dropped per node (copies of frames that went on are not counted)."""
        out: dict[str, int] = {}
        for (node, _reason, copy), n in self.drop_counts.items():
            if not copy:
                out[node] = out.get(node, 0) + n
        return dict(sorted(out.items()))

    def unaccounted(self) -> int:
        """Frames that arrived at a node and got no fate (0 unless dataplane has a bug)."""
        return self.arrived - sum(self.fates.values())


# An event's place in the queue is one int, its key: time << SEQ_BITS | sequence number. The heap then
# compares plain ints, not lists, and keys are unique, so events at the same time run in the order they were
# scheduled. 2**48 events are more than any run schedules; a time needs no bound.
SEQ_BITS = 48


def _call(fn: Callable, args: tuple) -> None:
    """The event of a call scheduled with any arguments, fn(*args). Events are calls of two arguments, fn(a, b),
    so that the busiest one, a frame's arrival (LinkEnd.transmit), is a plain call, not a call with *args."""
    fn(*args)


class Simulator:
    def __init__(self, seed: int = 1, max_frames: int = 2_000_000):
        self.now_ns = 0
        # The heap of the keys of scheduled events, and each key's event: key -> (time, fn, a, b), a call fn(a, b)
        # (schedule's fn(*args) is _call(fn, args); see _call). A cancelled event leaves _events at once, while its
        # key stays in the heap (removing one from the middle costs O(n)); the heap is rebuilt without the dead keys
        # once they are most of it, so that a timer re-armed on every ACK does not leave a heap of dead keys behind
        # (asyncio does the same).
        self._queue: list[int] = []
        self._events: dict[int, tuple] = {}
        self._stop_mark: int | None = None      # the key at which the run under way stops (run), kept in the heap
        self._seq = 0
        self.seed = seed
        self.ledger = Ledger()
        self.max_frames = max_frames
        self.stopped_by: str | None = None
        self.events_run = 0
        # Watchers see what happens inside nodes and links, in order: watcher(kind, *details). Kinds:
        # "device_hop" (device, HopRecord), "host_rx" (host, port, frame), "host_rx_fate" (host, fate),
        # "host_event" (host, text), "link_drop" (link, node, port, frame, DropRecord).
        self.watchers: list[Callable] = []
        # A PacketNumbers (net/numbering.py) when traces or captures want packet numbers; None keeps links
        # free of any per-frame work for them.
        self.numbers = None

    def notify(self, kind: str, *details) -> None:
        for w in self.watchers:
            w(kind, *details)

    def schedule(self, delay_ns: int, fn: Callable, *args) -> int:
        """Run fn(*args) delay_ns from now; returns a handle (the event's key) that cancel() accepts."""
        seq = self._seq = self._seq + 1
        delay = int(delay_ns)
        now = self.now_ns
        time = now + delay if delay > 0 else now
        key = time << SEQ_BITS | seq
        self._events[key] = (time, _call, fn, args)
        heappush(self._queue, key)
        return key

    def at(self, time_ns: int, fn: Callable, *args) -> int:
        """Run fn(*args) at time_ns (now if that is past): schedule(time_ns - now), in one call."""
        seq = self._seq = self._seq + 1
        now = self.now_ns
        delay = int(time_ns - now)
        time = now + delay if delay > 0 else now
        key = time << SEQ_BITS | seq
        self._events[key] = (time, _call, fn, args)
        heappush(self._queue, key)
        return key

    # The heap is compacted when it holds more than this many dead keys and they are over half of it.
    COMPACT_MIN = 256

    def cancel(self, handle) -> None:
        """The event does not run (nothing happens if it has run or was cancelled already)."""
        events = self._events
        if handle is None or events.pop(handle, None) is None:
            return
        q = self._queue
        dead = len(q) - len(events)
        if dead > self.COMPACT_MIN and 2 * dead > len(q):
            q[:] = list(events)          # in place: run() may hold the list
            if self._stop_mark is not None:
                q.append(self._stop_mark)
            heapq.heapify(q)

    def run(self, until_ns: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        if self.stopped_by is not None:
            return                       # a run stopped by the frame limit does not resume
        q = self._queue
        take = self._events.pop
        ledger = self.ledger
        max_frames = self.max_frames
        if until_ns is not None:
            # Times are whole nanoseconds: a time given as a float is the nanosecond it falls in; inf is no limit.
            until_ns = None if until_ns == math.inf else math.floor(until_ns)
        # The keys of the events due by until_ns (those whose time is not later) are below `stop`, the key of no
        # event (sequence numbers start at 1), which goes in the heap as a mark: the run stops when it comes out,
        # with no test of each event's time.
        stop = None if until_ns is None else (until_ns + 1) << SEQ_BITS
        outer_mark = self._stop_mark     # a run called from an event: the outer run's mark is put back after
        if stop is not None:
            heappush(q, stop)
            self._stop_mark = stop
        # The count of events run is kept in a local and written back before anyone outside can look at it:
        # before progress() and when the loop ends, however it ends.
        n = self.events_run
        try:
            # `while True`, not `while q`: CPython 3.11 specializes a function's bytecode once it has been called, or
            # has jumped back in a loop, 8 times, and the bottom of a `while q` loop is a conditional jump that does
            # not count: a run called once (the usual run) would go through its whole loop unspecialized.
            while True:
                if not q:
                    break
                key = heappop(q)
                event = take(key, None)
                if event is None:        # cancelled, or the stop mark
                    if key == stop:
                        break
                    continue
                self.now_ns, fn, a, b = event
                n += 1
                fn(a, b)
                if progress is not None and n % 4096 == 0:
                    self.events_run = n
                    progress(self.now_ns)
                if ledger.transmitted > max_frames:
                    # The events stay queued, so what is still on the links is counted as in flight.
                    self.stopped_by = (f"stopped after {self.max_frames} frames on links (a forwarding loop or a "
                                       f"storm); raise the limit with max_frames")
                    break
        finally:
            self.events_run = n
            self._stop_mark = outer_mark     # a mark left in the heap (the run stopped otherwise) is a dead key
        if until_ns is not None and self.stopped_by is None:
            self.now_ns = max(self.now_ns, until_ns)

    @property
    def pending(self) -> int:
        return len(self._events)

    def pending_calls(self):
        """What the scheduled events will call, as (fn, args), in no particular order."""
        return [(a, b) if fn is _call else (fn, (a, b)) for _time, fn, a, b in self._events.values()]

    def next_event_ns(self) -> int | None:
        """When the next event is due (None: nothing is scheduled), for running until something is done."""
        q = self._queue
        events = self._events
        while q and q[0] not in events:
            heapq.heappop(q)             # a cancelled event's key
        return events[q[0]][0] if q else None


class LinkEnd:
    """One direction of a link: frames queued at `node`'s port, toward the other end.

    A node that sends many frames keeps the end of each of its ports and calls `transmit` (as devices do);
    `Link.send` finds the end from the node and port first."""

    def __init__(self, link: "Link", node, port: int, peer, peer_port: int):
        self.link = link
        self.sim = link.sim
        self.ledger = link.sim.ledger
        self.node, self.port = node, port
        self.peer, self.peer_port = peer, peer_port
        self.free_at = 0                  # when the transmitter finishes what it has been given
        self.waiting: deque = deque()     # start times of frames queued behind the one on the wire
        self.sent = 0                     # frames put on the wire in this direction, and their bytes
        self.bytes = 0
        self.dropped = 0                  # frames sent this way that the link dropped (queue, MTU, loss, down)
        self.index = 0
        # The event of a frame's arrival at the far end, called with (this end, frame): the peer's own
        # `frame_arrives` when it has one (P4 devices: the link's checks and the device's processing in one
        # call, the simulator's busiest path), else _arrive, which hands the frame to the peer's receive.
        self.arrival = getattr(peer, "frame_arrives", None) or LinkEnd._arrive

    def backlog(self, ready_ns: int) -> tuple[int, int]:
        """What a frame ready at ready_ns (not before now) finds: the frames queued ahead of it that have not
        started yet, and when the transmitter is free to start it."""
        waiting = self.waiting
        while waiting and waiting[0] <= ready_ns:
            waiting.popleft()            # started by then: on the wire or gone, no longer queued
        return len(waiting), max(ready_ns, self.free_at)

    def transmit(self, frame: bytes, ready_ns: int | None = None, new_packet: bool = False) -> None:
        """`node` puts a frame on the link at its port, ready to go at ready_ns (default: now); see Link.send.

        The frame's whole journey is worked out here and its arrival is the one event scheduled for it. (A device
        forwarding a frame on a plain link with nothing queued does this itself: P4Device.frame_arrives.)"""
        sim = self.sim
        self.ledger.transmitted += 1
        numbers = sim.numbers
        number = None if numbers is None else numbers.transmit(self.node, new_packet)
        now = sim.now_ns
        ready = now if ready_ns is None else ready_ns
        link = self.link
        plain = link.plain                # (Link._update_plain) none of the checks under `not plain` to make
        if not plain and not link.up:
            link._drop_at(self, frame, DropReason.LINK_DOWN, f"link {link.name} is down")
            return
        size = len(frame)
        if size - 14 > link.mtu:
            link._drop_at(self, frame, DropReason.EXCEEDS_LINK_MTU, f"{size - 14} bytes on {link.name} (MTU {link.mtu})",
                          number)
            return
        waiting = self.waiting
        if waiting or not plain:         # a plain link's queue has room for one frame at least
            while waiting and waiting[0] <= ready:
                waiting.popleft()        # these frames have started by the time this one is ready
            if len(waiting) >= link.queue_frames:
                link._drop_at(self, frame, DropReason.QUEUE_FULL, f"{link.name} queue of {link.queue_frames} frames",
                              number)
                return
        start = self.free_at
        if start > ready:
            waiting.append(start)
        else:
            start = ready
        serialization = size * link.ns_per_byte
        free_at = start + serialization
        arrival = free_at + link.latency_ns
        if not plain:
            # A rate or a latency that is not a whole number of ns: whole nanoseconds, as in sim.at (int() keeps
            # an int as it is). A capture gets the frame as it starts.
            free_at = start + int(serialization)
            arrival = now + int(free_at + link.latency_ns - now)
            if link.pcap is not None:
                link.pcap.write(frame, start, self.index, number)
        self.free_at = free_at
        self.sent += 1
        self.bytes += size
        if link.observers:
            for obs in link.observers:
                obs(link, self, frame)
        # sim.at(arrival, ...), inlined: one arrival event per frame is the simulator's busiest call.
        seq = sim._seq = sim._seq + 1
        if arrival < now:
            arrival = now
        key = arrival << SEQ_BITS | seq
        if number is None:
            sim._events[key] = (arrival, self.arrival, self, frame)
        else:
            sim._events[key] = (arrival, _call, LinkEnd._arrive_numbered, (self, frame, number))
        heappush(sim._queue, key)

    def _arrive(self, frame: bytes, number=None) -> None:
        """The frame reaches the far end (an event; network.ARRIVALS names it, to count frames in flight)."""
        link = self.link
        if not link.up:
            link._drop_at(self, frame, DropReason.LINK_DOWN, f"link {link.name} went down")
            return
        if link.loss and link.rng.random() < link.loss:
            link._drop_at(self, frame, DropReason.LINK_LOSS, link.name, number)
            return
        self.ledger.arrived_tallied += 1
        self.peer.receive(self.peer_port, frame)

    def _arrive_numbered(self, frame: bytes, number) -> None:
        """_arrive, with the frame's number known to the receiver's watchers and to the frames it forwards."""
        numbers = self.sim.numbers
        if numbers is None:                  # numbering was turned off while the frame was on the wire
            self._arrive(frame, number)
            return
        numbers.receiving, numbers.receiver = number, self.peer
        try:
            self._arrive(frame, number)
        finally:
            numbers.receiving = numbers.receiver = None


# The largest whole number of ns a byte kept as an int (a rate of 7.6 kbit/s): size * ns_per_byte is then exact
# in a float too for any frame below 2**33 bytes, so the int gives what int(size * float) gave.
WHOLE_NS_PER_BYTE_MAX = 1 << 20


def ns_per_byte(bandwidth_bps: float | None) -> int | float:
    """A link's serialization time of a byte: an int when it is a whole number (8 at 1 Gbit/s), so that a frame's
    time is one integer multiply (LinkEnd.transmit), else a float; 0 when the bandwidth is unlimited."""
    if not bandwidth_bps:
        return 0
    per_byte = 8e9 / bandwidth_bps
    return int(per_byte) if per_byte.is_integer() and per_byte <= WHOLE_NS_PER_BYTE_MAX else per_byte


class Link:
    """A full-duplex link. Each direction is a FIFO transmitter with a drop-tail queue.

    A frame's whole journey is computed when it is sent: it starts when the
    transmitter is free, takes len * 8 / bandwidth to serialize, and arrives
    `latency` later; a single event (its arrival) is scheduled. The queue
    holds the frames waiting for the transmitter: `queue` of them at most.
    """

    def __init__(self, sim: Simulator, name: str, a, port_a: int, b, port_b: int, mtu: int = 1500,
                 latency_ns: int = 0, bandwidth_bps: float | None = None, queue_frames: int = 1000,
                 loss: float = 0.0, seed: int = 0):
        self.sim = sim
        self.name = name
        self.mtu = mtu
        self.latency_ns = latency_ns
        self.bandwidth_bps = bandwidth_bps
        self.ns_per_byte = ns_per_byte(bandwidth_bps)
        self.queue_frames = queue_frames
        self.loss = loss
        self.rng = random.Random(seed)
        self.ends = {(id(a), port_a): LinkEnd(self, a, port_a, b, port_b),
                     (id(b), port_b): LinkEnd(self, b, port_b, a, port_a)}
        for index, end in enumerate(self.ends.values()):
            end.index = index             # its interface in a pcapng capture of the link: 0 is a, 1 is b
        self.pcap = None          # a PcapWriter or PcapngWriter, when captures are on
        self.pcap_path: str | None = None     # the file it wrote, once closed
        self.observers: list[Callable] = []
        # A link taken down (the shell's `link s1 s2 down`) carries nothing: frames sent on it, and
        # frames on the wire when it went down, are dropped with the reason LINK_DOWN.
        self.up = True
        self._update_plain()

    # What LinkEnd.transmit and P4Device.frame_arrives check only when `plain` is false; assigning any of them
    # updates `plain` at once.
    PLAIN_WHEN = frozenset(("up", "loss", "queue_frames", "pcap", "ns_per_byte", "latency_ns"))

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        if name in Link.PLAIN_WHEN and hasattr(self, "plain"):     # not before __init__ has set them all
            self._update_plain()

    def _update_plain(self) -> None:
        """`plain`: the link is up, loses nothing, has room for a frame in an empty queue, keeps no capture and its
        rate and latency are whole numbers of ns, not negative (a frame arrives after it is sent), so that transmit,
        and a device a frame reaches (P4Device.frame_arrives), have none of their checks to make."""
        self.plain = (self.up and not self.loss and self.queue_frames >= 1 and self.pcap is None
                      and type(self.ns_per_byte) is int and type(self.latency_ns) is int
                      and self.ns_per_byte >= 0 and self.latency_ns >= 0)

    def end(self, node, port: int) -> LinkEnd:
        return self.ends[(id(node), port)]

    def send(self, node, port: int, frame: bytes, ready_ns: int | None = None, new_packet: bool = False) -> None:
        """A node puts a frame on the link at its port, ready to go at ready_ns (default: now).

        `new_packet`: a device's agent made the frame (it does not carry on the packet being received)."""
        self.ends[(id(node), port)].transmit(frame, ready_ns, new_packet)

    def _drop_at(self, end: LinkEnd, frame: bytes, reason: DropReason, detail: str, number=None) -> None:
        """A frame sent from `end` (its node and port) dropped by the link."""
        sim = self.sim
        rec = DropRecord(sim.now_ns, end.node.name, reason, detail, end.port, packet=number)
        sim.ledger.drop(rec, True)
        end.dropped += 1
        if sim.watchers:
            sim.notify("link_drop", self, end.node, end.port, frame, rec)

    def _drop(self, node, port: int, frame: bytes, reason: DropReason, detail: str, number=None) -> None:
        self._drop_at(self.ends[(id(node), port)], frame, reason, detail, number)

    def queued(self) -> int:
        """Frames waiting for a transmitter now (not those on the wire)."""
        now = self.sim.now_ns
        return sum(sum(1 for t in e.waiting if t > now) for e in self.ends.values())
