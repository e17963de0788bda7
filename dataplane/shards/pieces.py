"""A replay's input cut into contiguous pieces, read as they are needed (never the whole capture at once).

    for piece in input_pieces(sources, piece_limit(sources, 4)):
        piece.index, piece.clock, piece.batch     # batch: the packets as batch/packets.Batch columns

The pieces follow the packets in the order replay sends them (the inputs merged by time, as
replay.merged_packets merges them). A piece carries the clock of the packets before it (the latest
time so far, -1 before the first packet): replay stamps each output with that clock, which never
moves back, so a piece replayed on its own gives the records it would give within the whole capture.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..batch.packets import Batch, batch_from_records
from ..diagnostics import DiagnosticError
from ..replay import Source, merged_packets

# A piece holds at most this many packets and bytes of packets. Large enough that Dask's cost per task
# (a few milliseconds of scheduling and transfer) stays a few percent of even the batch engine's time for
# a piece, small enough that the pieces in flight (two per worker) and their outputs keep the memory of
# the client and of each worker to a few hundred MB; the batch engine's columns for one piece (a few
# dozen 8-byte columns a packet) stay within what one of its own batches takes.
PIECE_PACKETS = 1 << 17
PIECE_BYTES = 32 << 20


@dataclass
class Piece:
    index: int          # its place in the capture: pieces are written back in this order
    clock: int          # the latest time (ns) of the packets before it; -1 for the first piece
    batch: Batch        # its packets, in order

    @property
    def packets(self) -> int:
        return self.batch.n


@dataclass(frozen=True)
class Limit:
    packets: int
    size: int           # bytes of packets


def piece_limit(sources: list[Source], at_least: int) -> Limit:
    """The size of a piece: PIECE_PACKETS and PIECE_BYTES, smaller for inputs too small to give
    `at_least` pieces otherwise (judged by the size of the files, read before any packet is)."""
    total = 0
    for s in sources:
        try:
            total += os.fstat(s.reader.f.fileno()).st_size
        except (OSError, AttributeError, ValueError):
            total += PIECE_BYTES
    share = -(-total // max(1, at_least))
    return Limit(PIECE_PACKETS, max(1, min(PIECE_BYTES, share)))


def input_pieces(sources: list[Source], limit: Limit) -> Iterator[Piece]:
    """The packets of `sources`, merged by time, as pieces of at most `limit` each."""
    clock = -1
    for index, records in enumerate(_cut(_records(sources), limit)):
        batch = batch_from_records(records)
        yield Piece(index, clock, batch)
        if batch.n:
            clock = max(clock, int(batch.times.max()))


def _records(sources: list[Source]) -> Iterator[list]:
    """(time_ns, port, data) of every packet, by time, a list at a time: one classic pcap file's records
    as they are read (a list per read), merged inputs a few thousand at a time."""
    if len(sources) == 1 and sources[0].end is None and not sources[0].reader.pcapng:
        port = sources[0].port
        return ([(t, port, data) for t, data, _ in chunk] for chunk in sources[0].reader.packet_chunks())
    merged = merged_packets(sources)
    return iter(lambda: list(itertools.islice(merged, 4096)), [])


def _cut(chunks: Iterator[list], limit: Limit) -> Iterator[list]:
    """The records of `chunks` regrouped into lists of at most limit.packets records and limit.size bytes
    of packets (a single record larger than limit.size makes a list of its own)."""
    part: list = []
    size = 0
    chunks = iter(chunks)
    while True:
        try:
            chunk = next(chunks, None)
        except DiagnosticError:
            # A damaged input: the packets before the damage are replayed, as replay() replays them.
            if part:
                yield part
            raise
        if chunk is None:
            break
        at = 0
        while at < len(chunk):
            take = chunk[at:at + limit.packets - len(part)]
            sizes = np.fromiter((len(r[2]) for r in take), dtype=np.int64, count=len(take)).cumsum()
            # The records that fit within the size left (at least one when the part is empty).
            fit = int(np.searchsorted(sizes, limit.size - size, side="right"))
            if fit == 0 and not part:
                fit = 1
            part.extend(take[:fit])
            size += int(sizes[fit - 1]) if fit else 0
            at += fit
            if fit < len(take) or len(part) >= limit.packets:
                yield part
                part, size = [], 0
    if part:
        yield part


__all__ = ["PIECE_BYTES", "PIECE_PACKETS", "Limit", "Piece", "input_pieces", "piece_limit"]
