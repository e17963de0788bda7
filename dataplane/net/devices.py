"""P4 devices (switches, routers, plain P4 programs) as nodes of a simulated network."""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappush

from ..arch.v1model import outputs_and_drops
from ..router.node import Node
from ..runtime.trace import DropReason
from .sim import SEQ_BITS, DropRecord, Simulator

PROCESSING_NS = 1_000          # per-packet processing time of a device (1 µs)


@dataclass
class HopRecord:
    """What one device did with one frame, for hop-by-hop traces."""
    time_ns: int
    node: str
    port: int
    frame: bytes
    outputs: list
    drops: list
    trace: object = None
    forwarded: int = 0        # outputs[:forwarded] came from the pipeline, the rest from the agent
    fate: str = ""            # the frame's one fate in the ledger (sim.FATES)

    def _repr_html_(self) -> str:
        """Jupyter: the frame in, the frames out, the drops (views/notebook.py)."""
        from ..views.notebook import hop_html
        return hop_html(self)


class PortLinks(dict):
    """A device's links by port, which also keeps the device's end of each (`ends`), so that forwarding a
    frame finds where it goes with one look-up."""

    # Slots, not an instance dict: CPython 3.11 specializes the load of `ends` from a slot of a dict subclass,
    # not from its __dict__ (frame_arrives loads it for every frame).
    __slots__ = ("owner", "ends")

    def __init__(self, owner):
        super().__init__()
        self.owner = owner
        self.ends: dict[int, object] = {}

    def __setitem__(self, port: int, link) -> None:
        super().__setitem__(port, link)
        self.ends[port] = link.end(self.owner, port)

    def __delitem__(self, port: int) -> None:
        super().__delitem__(port)
        del self.ends[port]

    def pop(self, port: int, *default):
        self.ends.pop(port, None)
        return super().pop(port, *default)

    def clear(self) -> None:
        super().clear()
        self.ends.clear()

    def update(self, *args, **kw) -> None:
        for port, link in dict(*args, **kw).items():
            self[port] = link

    def setdefault(self, port: int, link=None):
        if port not in self:
            self[port] = link
        return self[port]

    def popitem(self):
        port, link = super().popitem()
        self.ends.pop(port, None)
        return port, link


class P4Device:
    """A simulated device running a compiled P4 pipeline, with its agent if it has one."""

    kind = "p4"
    forwards = True        # the frames its pipeline sends carry on the packet it received (net/numbering.py)

    def __init__(self, sim: Simulator, name: str, node: Node, ports: dict[int, str]):
        self.sim = sim
        self.name = name
        self.node = node
        self.ports = ports                 # port -> interface name
        self.links: dict[int, object] = PortLinks(self)     # port -> Link
        self.trace = False
        self.hops: list[HopRecord] | None = None
        self.received = 0
        self._ledger = sim.ledger            # the run's books, whose forwarded frames are counted on the busiest path
        self._raw = self._process = None     # dev.process_raw when last seen, and what frame_arrives runs (_bind)
        # The egress queue of a port, whose state v1model's queueing metadata reports, is the transmit queue
        # of the port's link: on BMv2 too the queue fills when the link is the bottleneck.
        node.device.egress_queues = self

    @property
    def device(self):
        return self.node.device

    @property
    def agent(self):
        return self.node.agent

    def queue_state(self, port: int) -> tuple[int, int, int, int]:
        """(enq_timestamp, enq_qdepth, deq_timedelta, deq_qdepth) of a packet that the pipeline is sending out
        of `port` now, in microseconds and packets (runtime.device.Device.queueing).

        It joins the link's transmit queue when the device has processed it. The packets ahead of it and its
        wait follow from the queue; the packets that will be queued behind it when it leaves are not known
        yet when egress runs (the pipeline runs once, when the packet arrives), so deq_qdepth is the depth it
        found, which is what it is in a queue that neither grows nor drains."""
        ready = self.sim.now_ns + PROCESSING_NS
        link = self.links.get(port)
        if link is None:
            return ready // 1000, 0, 0, 0
        depth, start = self.links.ends[port].backlog(ready)
        return ready // 1000, depth, (start - ready) // 1000, depth

    def frame_arrives(self, end, frame: bytes, port: int | None = None) -> None:
        """A frame sent from `end` reaches this device: the event LinkEnd.transmit schedules for it. With no end
        (receive), a frame that reached `port` some other way, the link's books already kept.

        LinkEnd._arrive, receive and what the pipeline did in one call, for the common case (a plain link, up and
        losing nothing: Link.plain; a device not traced): the simulator's busiest path. Anything else goes the
        general way (LinkEnd._arrive), with the same books and the same order, and comes back here through
        receive."""
        if end is not None:
            if self.trace or not end.link.plain:     # down or lossy (or captured, or not timed in whole ns)
                end._arrive(frame)               # the link may drop it; if not, receive takes it
                return
            port = end.peer_port            # (counted as arrived with its fate, below)
        self.received += 1
        dev = self.node.device
        sim = self.sim
        now_ns = sim.now_ns
        dev.now_us = now_us = now_ns / 1000.0
        process = self._process if dev.process_raw is self._raw else self._bind(dev)
        try:
            out_port, out_frame = process(port, frame)     # a hop result (arch/v1model.py outputs_and_drops)
        except Exception as exc:             # a bug in dataplane: accounted for as Device.process_raw does
            out_port, out_frame = None, ([], dev.internal_error(exc, port, frame))
        # The common case first: the pipeline forwarded the frame out of one linked port, nothing else.
        if out_port is not None:
            out_end = self.links.ends.get(out_port)
            if out_end is not None:
                ledger = self._ledger
                if end is not None:                        # (_count_forwarded, inlined)
                    ledger.relayed_untallied += 1
                else:
                    ledger.fate_counts["forwarded"] += 1
                link = out_end.link
                size = len(out_frame)
                if (link.plain and not out_end.waiting and size - 14 <= link.mtu and not link.observers
                        and sim.numbers is None):
                    # LinkEnd.transmit of a frame that finds a plain link with no frame queued, fits its MTU
                    # and has nobody to see it, inlined (keep the two in step): the call, and the loads and
                    # tests transmit would make again, cost about 900 instructions a hop of the fat-tree.
                    ledger.transmitted += 1
                    ready = now_ns + PROCESSING_NS
                    start = out_end.free_at
                    if start > ready:
                        out_end.waiting.append(start)
                    else:
                        start = ready
                    out_end.free_at = free_at = start + size * link.ns_per_byte
                    out_end.sent += 1
                    out_end.bytes += size
                    arrival = free_at + link.latency_ns      # not before now: a plain link's latency is >= 0
                    seq = sim._seq = sim._seq + 1
                    key = arrival << SEQ_BITS | seq
                    sim._events[key] = (arrival, out_end.arrival, out_end, out_frame)
                    heappush(sim._queue, key)
                else:
                    out_end.transmit(out_frame, now_ns + PROCESSING_NS)
                return
            outputs, drops = outputs_and_drops((out_port, out_frame))
        else:
            outputs, drops = out_frame
            # Frames out of linked ports, nothing else: several, or one the general machinery sent (as above,
            # through LinkEnd.transmit).
            if outputs and not drops:
                ends = self.links.ends
                # Every port linked? (`ends` in no closure: no cell a call)
                if ends.keys() >= {p for p, _ in outputs}:
                    self._count_forwarded(end is not None)
                    ready = now_ns + PROCESSING_NS
                    for out_port, out_frame in outputs:
                        ends[out_port].transmit(out_frame, ready)
                    return
        if end is not None:
            self._ledger.arrived_tallied += 1
        self._account(port, frame, self.node.complete(outputs, list(drops), None, now_us))

    def _count_forwarded(self, from_link: bool) -> None:
        """A frame forwarded, which came over a link (then counted as arrived with it: Ledger.relayed_untallied) or
        to receive."""
        if from_link:
            self._ledger.relayed_untallied += 1
        else:
            self._ledger.fate_counts["forwarded"] += 1

    def _bind(self, dev):
        """What frame_arrives calls to run dev's pipeline: what dev.process_raw runs, without its guard
        (Device.unguarded). Looked up again whenever dev.process_raw is not the one seen last (a new device
        put in the node's place, or a process_raw replaced)."""
        process = dev.unguarded()
        self._raw, self._process = dev.process_raw, process
        return process

    def receive(self, port: int, frame: bytes) -> None:
        """A frame reaches `port` (from LinkEnd._arrive, which has kept the link's books, or a controller's
        packet-out): traced here, else frame_arrives runs the pipeline and sends what it sent."""
        if self.trace:
            self.received += 1
            self._account(port, frame, self.node.process(port, frame, self.sim.now_ns / 1000.0, trace=True))
            return
        self.frame_arrives(None, frame, port)

    def _account(self, port: int, frame: bytes, r) -> None:
        """The general case: the node's result (router/node.py NodeResult) in the books, the hop recorded
        when hops are kept, then the frames sent, the pipeline's first."""
        sim = self.sim
        ledger = sim.ledger
        fate = r.fate()
        if fate == "none":
            r.drops.append((DropReason.PIPELINE_ERROR, "the pipeline neither sent nor dropped the packet"))
            fate = "dropped"
        sendable = [(p, f) for p, f in r.outputs if p in self.links]
        for p, _ in r.outputs:
            if p not in self.links:
                r.drops.append((DropReason.LINK_DOWN, f"port {p} has no link"))
        if fate == "forwarded" and not sendable:
            fate = "dropped"
        ledger.fate(fate)
        # A drop is the frame's own when nothing of it went on; otherwise it is one copy of several.
        copies = fate == "forwarded"
        for reason, detail in r.drops:
            if reason is not DropReason.CONSUMED:
                ledger.drop(DropRecord(sim.now_ns, self.name, reason, detail, port, copies))
        if self.hops is not None:
            hop = HopRecord(sim.now_ns, self.name, port, frame, list(r.outputs), list(r.drops), r.trace, r.forwarded,
                            fate)
            self.hops.append(hop)
            if sim.watchers:
                sim.notify("device_hop", self, hop)
        ready = sim.now_ns + PROCESSING_NS
        for i, (out_port, out_frame) in enumerate(r.outputs):     # the pipeline's first, then the agent's
            link = self.links.get(out_port)
            if link is not None:
                link.send(self, out_port, out_frame, ready, i >= r.forwarded)
