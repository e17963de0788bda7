"""Replaying captures through one device: what `dataplane replay` does once its files are open.

    sources = [Source(1, PcapReader("h1.pcap"))]
    counts = replay(device, sources, "out/")       # writes out/port<N>.pcap
    counts.packets, counts.out, counts.drops, counts.seconds

Packets enter in time order: the inputs are merged by their timestamps
(equal times keep the order of the sources; within a file, file order), and
a record stamped before one already replayed does not move the clock back.
Each egress port gets a pcap of its own, stamped with the time of the packet
that caused it. This loop is the replay's own cost beside the pipeline's, so
it is kept lean: one input is read straight from its file (no merge), the
trace wraps the call only when asked for, and records are tuples, not objects.
"""

from __future__ import annotations

import heapq
import itertools
import os
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .diagnostics import error
from .inputs import whole_file
from .pcap import RECORD_HEADER, PcapReader, PcapWriter

# Records gathered per output file before they are written at once.
_RECORDS_PER_WRITE = 2048


@dataclass
class Source:
    port: int
    reader: PcapReader
    end: str | None = None            # pcapng link capture: only the packets this end (node:interface) sent


@dataclass
class ReplayCounts:
    packets: int = 0
    out: dict[int, int] = field(default_factory=dict)        # egress port -> packets written
    drops: dict[str, int] = field(default_factory=dict)      # reason (lower case) -> packets
    seconds: float = 0.0                                     # wall time of the loop

    @property
    def rate(self) -> float:
        return self.packets / self.seconds if self.seconds > 0 else 0.0


def parse_input(spec: str) -> tuple[int, str, str | None]:
    """(port, path, end) of one `-i PORT=FILE[@END]` argument, as `dataplane replay` and `serve` take it."""
    port_s, sep, path = spec.partition("=")
    port_s = port_s.strip()
    # ASCII digits only: str.isdigit() and int() also take other scripts' digits, such as '１'.
    if not sep or not re.fullmatch(r"[0-9]+", port_s):
        raise error(f"'{spec}': inputs are written PORT=FILE.pcap, e.g. -i 1=h1.pcap")
    if len(port_s) > 3 or int(port_s) >= 511:      # the length first: int() refuses thousands of digits
        shown = port_s if len(port_s) <= 12 else port_s[:12] + "..."
        raise error(f"'{shown}={path}': port {shown} is out of range (0..510)")
    # FILE@END: of a pcapng capture of a link (two ends), only the packets END sent, the ones that
    # would enter a device on the other end; a file whose whole name holds an @ is taken as it is.
    end = None
    if "@" in path and not os.path.exists(path):
        path, _, end = path.rpartition("@")
    return int(port_s), path, end


def summary(counts: ReplayCounts, engine: str = "") -> str:
    """The one line `dataplane replay` prints when it is done."""
    out_counts, drop_counts = counts.out, counts.drops
    outs = ", ".join(f"port {p}: {n}" for p, n in sorted(out_counts.items())) or "none"
    drops = ", ".join(f"{k} {n}" for k, n in sorted(drop_counts.items())) or "none"
    return (f"replay: {counts.packets} packets in; out {outs}; dropped {sum(drop_counts.values())} ({drops}); "
            f"{engine}{counts.rate:,.0f} packets/s")


def _packets(source: Source) -> Iterator[tuple[int, bytes]]:
    """(time_ns, data) of the packets of one source that enter its port."""
    first = None
    for t_ns, data, iface in source.reader.packets():
        if source.end is not None:
            if iface != source.end:
                continue
        elif iface is not None:
            # Both directions of a link in one file: replaying them all would feed a device its own
            # output. Say which end's packets enter the port.
            first = iface if first is None else first
            if iface != first:
                raise error(f"it holds the packets of more than one interface ({first}, {iface}); choose the "
                            f"end whose packets enter port {source.port}: -i {source.port}="
                            f"{source.reader.path}@{first}", whole_file(source.reader.path))
        yield t_ns, data


def merged_packets(sources: list[Source]) -> Iterator[tuple[int, int, bytes]]:
    """(time_ns, port, data) of every source, by time; read as replayed, never all at once."""
    if len(sources) == 1:
        source, port = sources[0], sources[0].port
        if source.end is None and not source.reader.pcapng:       # no interfaces to tell apart
            return ((t, port, data) for t, data, _ in source.reader.packets())
        return ((t, port, data) for t, data in _packets(source))
    stamped = [((t, s.port, data) for t, data in _packets(s)) for s in sources]
    return heapq.merge(*stamped, key=lambda x: x[0])


def replay(device, sources: list[Source], out_dir: str, trace: Callable[[str], None] | None = None,
           recording=None) -> ReplayCounts:
    """Every packet of `sources` through `device`; the outputs in out_dir/port<N>.pcap. With `trace`, each
    packet's trace text is passed to it; with `recording` (views/replay_data.py), each packet is added to it,
    traced while it still keeps details."""
    os.makedirs(out_dir, exist_ok=True)
    counts = ReplayCounts()
    writers: dict[int, PcapWriter] = {}
    out, drop_counts = counts.out, counts.drops

    def writer(port: int) -> PcapWriter:
        w = writers[port] = PcapWriter(os.path.join(out_dir, f"port{port}.pcap"))
        return w

    def watched(now_ns: int, port: int, data: bytes):
        """One packet when it is traced or recorded: the slow path, taken only when asked for."""
        if trace is None and recording.full:
            outputs, drops = device.process_raw(port, data)
            recording.add(now_ns, port, data)
            return outputs, drops
        r = device.process(port, data, now_us=device.now_us, trace=True)
        if trace is not None:
            trace(r.trace.render())
        if recording is not None:
            recording.add(now_ns, port, data, r)
        return r.outputs, r.drops
    fast = trace is None and recording is None

    start = time.perf_counter()
    try:
        if fast:
            counts.packets = replay_untraced(device, _in_batches(sources), writer, writers, drop_counts)
            out.update((port, w.count) for port, w in writers.items())
        else:
            now_ns = n = 0
            for t_ns, port, data in merged_packets(sources):
                n += 1
                if t_ns > now_ns:
                    now_ns = t_ns
                device.now_us = now_ns / 1000.0
                outputs, drops = watched(now_ns, port, data)
                for out_port, pkt in outputs:
                    (writers.get(out_port) or writer(out_port)).write(pkt, now_ns)
                    out[out_port] = out.get(out_port, 0) + 1
                for reason, _detail in drops:
                    key = reason.name.lower()
                    drop_counts[key] = drop_counts.get(key, 0) + 1
            counts.packets = n
    finally:
        counts.seconds = time.perf_counter() - start
        for w in writers.values():
            w.close()
    return counts


def _in_batches(sources: list[Source]) -> Iterator[tuple[int, list]]:
    """(port, [(time_ns, data, _), ...]) for every packet of `sources`, by time: one classic pcap file's
    records a read at a time (no iterator of ours resumed per packet); merged inputs one packet at a time."""
    if len(sources) == 1 and sources[0].end is None and not sources[0].reader.pcapng:
        return zip(itertools.repeat(sources[0].port), sources[0].reader.packet_chunks())
    return ((port, [(t, data, None)]) for t, port, data in merged_packets(sources))


def replay_untraced(device, batches, open_writer, writers: dict, drop_counts: dict, clock: int = -1) -> int:
    """replay()'s loop when nothing is traced or recorded: the packets through the device, the outputs
    gathered per port with their record headers and written in batches; returns the packets replayed.
    `batches` are (port, [(time_ns, data, _), ...]); open_writer(port) puts a writer (write_records) for a
    new egress port into `writers`. `clock` is the latest time of the packets replayed before these (a
    piece of a capture replayed on its own, `replay --shards`), -1 for none.

    The output files are the ones PcapWriter.write would give, record for record: each output is stamped
    with the time of the packet that caused it (which never moves back)."""
    pack = RECORD_HEADER.pack
    pending: dict[int, list] = {}          # egress port -> record headers and packets not written yet
    reasons: dict = {}                     # drop reason -> packets, in the order first seen
    flush_at = 2 * _RECORDS_PER_WRITE      # two items a record: its header and its bytes
    # The generated function itself, called here rather than through Device.process_raw's wrapper (a call
    # less per packet); an exception in it is accounted for as process_raw accounts for it.
    fast = device.stages(False)["fast"]
    internal_error = device.internal_error
    now_ns, sec, ns, n = clock, 0, 0, 0
    if clock >= 0:
        device.now_us = clock / 1000.0
        sec, ns = divmod(clock, 1_000_000_000)
        sec &= 0xFFFFFFFF

    def put(out_port: int, pkt: bytes, sec: int, ns: int) -> None:
        """A frame out of `out_port`, stamped sec.ns, in the port's pending records (written when there are
        enough)."""
        chunks = pending.get(out_port)
        if chunks is None:
            chunks = pending[out_port] = []
            if out_port not in writers:
                open_writer(out_port)
        size = len(pkt)
        chunks += (pack(sec, ns, size, size), pkt)
        if len(chunks) >= flush_at:
            writers[out_port].write_records(b"".join(chunks), len(chunks) // 2)
            chunks.clear()

    try:
        for port, batch in batches:
            n += len(batch)
            for t_ns, data, _ in batch:
                if t_ns > now_ns:
                    now_ns = t_ns
                    device.now_us = now_ns / 1000.0
                    sec, ns = divmod(now_ns, 1_000_000_000)       # as PcapWriter.write stamps it (now_ns >= 0)
                    sec &= 0xFFFFFFFF
                try:
                    out_port, pkt = fast(port, data)      # a hop result (arch/v1model.py outputs_and_drops)
                except Exception as exc:
                    out_port, pkt = None, ((), internal_error(exc, port, data))
                if out_port is not None:         # one frame out, nothing dropped: the common case
                    put(out_port, pkt, sec, ns)
                    continue
                outputs, drops = pkt                 # anything else: (None, (outputs, drops))
                for reason, _detail in drops:
                    reasons[reason] = reasons.get(reason, 0) + 1
                for out_port, pkt in outputs:
                    put(out_port, pkt, sec, ns)
    finally:
        for out_port, chunks in pending.items():
            if chunks:
                writers[out_port].write_records(b"".join(chunks), len(chunks) // 2)
        for reason, count in reasons.items():
            key = reason.name.lower()
            drop_counts[key] = drop_counts.get(key, 0) + count
    return n
