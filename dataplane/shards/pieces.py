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
import struct
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..batch.packets import Batch, batch_from_records
from ..diagnostics import DiagnosticError
from ..pcap import MAX_PACKET
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
    if len(sources) == 1 and sources[0].end is None and not sources[0].reader.pcapng:
        batches = _classic_batches(sources[0], limit)
    else:
        batches = (batch_from_records(records) for records in _cut(_merged(sources), limit))
    clock = -1
    for index, batch in enumerate(batches):
        yield Piece(index, clock, batch)
        if batch.n:
            clock = max(clock, int(batch.times.max()))


def _merged(sources: list[Source]) -> Iterator[list]:
    """(time_ns, port, data) of every packet, by time, a few thousand at a time."""
    merged = merged_packets(sources)
    return iter(lambda: list(itertools.islice(merged, 4096)), [])


# ------------------------------------------------------------------ one classic pcap file, as it is

def _classic_batches(source: Source, limit: Limit) -> Iterator[Batch]:
    """The records of one classic pcap file a piece at a time, read as blocks of the file: the piece's
    buffer is the records as they are in the file (no object per packet here; for packets of one length,
    no loop over packets either). A record that is damaged ends it with the error the record-by-record
    reader gives for it (PcapReader reads the file again to say it), after the pieces before it."""
    reader = source.reader
    rest = b""
    while True:
        data = rest + reader.f.read(max(0, limit.size - len(rest)))
        offsets = _whole_records(data, reader.endian, limit.packets)
        while len(offsets) == 0 and data:
            more = reader.f.read(max(16, _announced(data, reader.endian) + 16 - len(data)))
            if not more or _announced(data, reader.endian) > MAX_PACKET:
                _raise_what_the_reader_says(reader.path)
            data += more
            offsets = _whole_records(data, reader.endian, limit.packets)
        if not data:
            return
        batch = _records_batch(data, offsets, reader, source.port)
        if batch is None:
            _raise_what_the_reader_says(reader.path)
        rest = data[batch.end:]
        yield batch.batch


def _announced(data: bytes, endian: str) -> int:
    """The packet length the record header at the start of data announces (0 if it is cut short)."""
    return struct.unpack_from(endian + "I", data, 8)[0] if len(data) >= 16 else 0


def _whole_records(data: bytes, endian: str, most: int) -> np.ndarray:
    """The offsets of the first records of data (at most `most`) that are wholly in it."""
    size = len(data)
    if size < 16:
        return np.zeros(0, dtype=np.int64)
    first = _announced(data, endian)
    stride = 16 + first
    n = min(most, size // stride)
    if first <= MAX_PACKET and n > 1:
        # Packets of one length, the common case of generated captures: rows of a matrix, checked at once.
        lengths = np.frombuffer(data, dtype=np.uint8, count=n * stride).reshape(n, stride)[:, 8:12] \
            .copy().view(np.dtype(endian + "u4")).ravel()
        same = int(np.argmin(lengths == first)) if not (lengths == first).all() else n
        if same >= 64 or same == n:
            return stride * np.arange(same, dtype=np.int64)
    # Records of many lengths: each one's place depends on the one before.
    incl_at = struct.Struct(endian + "I").unpack_from
    offsets = []
    append = offsets.append
    pos = 0
    while len(offsets) < most and pos + 16 <= size:
        end = pos + 16 + incl_at(data, pos + 8)[0]
        if end > size:
            break
        append(pos)
        pos = end
    return np.array(offsets, dtype=np.int64)


@dataclass
class _Cut:
    batch: Batch
    end: int            # where the records of the batch end in the data


def _records_batch(data: bytes, offsets: np.ndarray, reader, port: int) -> _Cut | None:
    """The batch of the records at `offsets` of data, up to the first damaged one; None if that is the
    first."""
    buf = np.frombuffer(data, dtype=np.uint8)
    fields = np.lib.stride_tricks.sliding_window_view(buf, 16)[offsets].view(np.dtype(reader.endian + "u4"))
    sec, frac, incl = (fields[:, i].astype(np.int64) for i in range(3))
    damaged = (incl > MAX_PACKET) | (frac >= reader.per_second)
    if damaged.any():
        n = int(np.argmax(damaged))
        if n == 0:
            return None
        offsets, fields, sec, frac, incl = offsets[:n], fields[:n], sec[:n], frac[:n], incl[:n]
    n = len(offsets)
    end = int(offsets[-1] + 16 + incl[-1])
    batch = Batch(buf[:end], offsets + 16, incl, sec * 1_000_000_000 + frac * reader.scale,
                  np.full(n, port, dtype=np.int64))
    if n and (incl == incl[0]).all() and (n == 1 or (np.diff(offsets) == 16 + incl[0]).all()):
        batch.base, batch.stride = 16, 16 + int(incl[0])
    batch.heads_as_written = reader.endian == "<" and reader.scale == 1 and bool((fields[:, 3] == fields[:, 2]).all())
    return _Cut(batch, end)


def _raise_what_the_reader_says(path: str):
    """The error PcapReader gives for the first damaged record of the file."""
    from ..pcap import PcapReader
    with PcapReader(path) as again:
        for _ in again.packet_chunks():
            pass
    raise AssertionError(f"{path}: a record looked damaged to replay --shards but not to PcapReader")


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
