"""Packets of a batch as numpy arrays, read from pcap files and written to pcap files in one pass each.

A batch keeps every packet's bytes in one buffer (`buf`, uint8) with `starts` and `lengths`, and their
times and ingress ports; every packet has 16 bytes of room before it, as in a pcap file, so that a packet
leaving as it came is one segment of the buffer with its record header in front. A classic pcap file is read whole: the file buffer itself is the batch buffer
(packets start 16 bytes after their record header). When every record has the same length, the records
are rows of a matrix (`stride`), which makes reading and writing a few numpy copies.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass

import numpy as np

from ..pcap import LINKTYPE_ETHERNET, MAX_PACKET, classic_format, classic_header

RECORD_HEADER = 16


@dataclass
class Batch:
    buf: np.ndarray            # uint8
    starts: np.ndarray         # int64: where each packet's bytes start in buf
    lengths: np.ndarray        # int64
    times: np.ndarray          # int64 nanoseconds
    ports: np.ndarray          # int64 ingress ports
    # Uniform layout: packet i starts at base + i * stride (all of one length); None otherwise.
    base: int | None = None
    stride: int | None = None
    # The 16 bytes before each packet are the record header PcapWriter writes for its time and length.
    heads_as_written: bool = False

    @property
    def n(self) -> int:
        return len(self.starts)

    def head(self, k: int) -> np.ndarray:
        """The first k bytes of every packet as an n x k matrix (zeros past a packet's end)."""
        n = self.n
        if k == 0 or n == 0:
            return np.zeros((n, k), dtype=np.uint8)
        if self.stride is not None:
            length = int(self.lengths[0])
            rows = self.matrix()[:, :min(k, length)]
            if length >= k:
                # One pass over the packets: later reads of header bytes then stay in this small matrix.
                return np.ascontiguousarray(rows)
            out = np.zeros((n, k), dtype=np.uint8)
            out[:, :length] = rows
            return out
        # Rows of a sliding-window view of the buffer (a row copy each); the few packets that end within
        # k bytes of the buffer's end one byte at a time; then zeros past each packet's end.
        out = np.zeros((n, k), dtype=np.uint8)
        room = self.starts + k <= len(self.buf)
        if len(self.buf) >= k:
            out[room] = np.lib.stride_tricks.sliding_window_view(self.buf, k)[self.starts[room]]
        cols = np.arange(k, dtype=np.int64)
        tail = np.nonzero(~room)[0]
        if len(tail):
            idx = np.minimum(self.starts[tail, None] + cols, len(self.buf) - 1)
            out[tail] = self.buf[idx]
        short = np.nonzero(self.lengths < k)[0]
        if len(short):
            out[short] = np.where(cols < self.lengths[short, None], out[short], 0)
        return out

    def records(self) -> np.ndarray | None:
        """The uniform layout's pcap records (16-byte record header, then the packet) as the rows of a
        matrix, when the buffer is a pcap file's; else None."""
        n, base, stride = self.n, self.base, self.stride
        if base is None or base < 16 or stride != 16 + int(self.lengths[0]) or not n:
            return None
        return self.buf[base - 16:base - 16 + n * stride].reshape(n, stride)

    def split(self, size: int):
        """The batch in batches of at most `size` packets, each over its own part of the buffer (so that
        the columns of a large capture are made a part at a time)."""
        n = self.n
        if n <= size:
            yield self
            return
        for a in range(0, n, size):
            b = min(n, a + size)
            lo = int(self.starts[a]) - RECORD_HEADER
            hi = int(self.starts[b - 1] + self.lengths[b - 1])
            part = Batch(self.buf[lo:hi], self.starts[a:b] - lo, self.lengths[a:b], self.times[a:b],
                         self.ports[a:b], heads_as_written=self.heads_as_written)
            lengths = part.lengths
            if self.stride is not None or (lengths == lengths[0]).all() and \
                    (np.diff(part.starts) == RECORD_HEADER + lengths[0]).all():
                part.base, part.stride = RECORD_HEADER, RECORD_HEADER + int(lengths[0])
            yield part

    def matrix(self) -> np.ndarray:
        """The uniform layout's packets as rows (only when stride is set)."""
        n, base, stride = self.n, self.base, self.stride
        if not n:
            return np.zeros((0, 0), dtype=np.uint8)
        return np.lib.stride_tricks.as_strided(self.buf[base:], shape=(n, int(self.lengths[0])), strides=(stride, 1),
                                               writeable=False)


def batch_from_records(records) -> Batch:
    """A batch of (time_ns, port, data) records, in order. As in a pcap file, each packet has 16 bytes of
    room before it (where its record header goes when the packet is written out unchanged)."""
    times, ports, datas = [], [], []
    for t, port, data in records:
        times.append(t)
        ports.append(port)
        datas.append(data)
    lengths = np.fromiter((len(d) for d in datas), dtype=np.int64, count=len(datas))
    starts = np.full(len(datas), RECORD_HEADER, dtype=np.int64)
    if len(datas) > 1:
        np.cumsum(lengths[:-1] + RECORD_HEADER, out=starts[1:])
        starts[1:] += RECORD_HEADER
    gap = bytes(RECORD_HEADER)
    buf = np.frombuffer(gap + gap.join(datas), dtype=np.uint8)
    batch = Batch(buf, starts, lengths, np.array(times, dtype=np.int64), np.array(ports, dtype=np.int64))
    if len(datas) and (lengths == lengths[0]).all():
        batch.base, batch.stride = RECORD_HEADER, RECORD_HEADER + int(lengths[0])
    return batch


def read_classic_pcap(path: str, port: int, map_above: int | None = None) -> Batch | None:
    """The packets of a classic pcap file, or None when it is not one this reader takes as it is (pcapng,
    or anything damaged: the record-by-record reader then reads it and reports the damage exactly).
    A file larger than map_above bytes is mapped into memory rather than read (see Batch.split)."""
    with open(path, "rb") as f:
        if map_above is not None and os.fstat(f.fileno()).st_size > map_above:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        else:
            data = f.read()
    if len(data) < 24:
        return None
    fmt = classic_format(data)
    if fmt is None or fmt[4] != LINKTYPE_ETHERNET:
        return None
    endian, scale, per_second = fmt[:3]
    buf = np.frombuffer(data, dtype=np.uint8)
    heads = _record_offsets(data, endian)
    if heads is None:
        return None
    n = len(heads.offsets)
    dt = np.dtype(endian + "u4")
    if heads.fields is not None:
        fields = heads.fields
    else:
        fields = np.lib.stride_tricks.sliding_window_view(buf, 16)[heads.offsets].view(dt) if n else \
            np.zeros((0, 4), dtype=dt)
    sec, frac, incl = (fields[:, i].astype(np.int64) for i in range(3))
    if n and (frac >= per_second).any():
        return None
    times = sec * 1_000_000_000 + frac * scale
    batch = Batch(buf, heads.offsets + 16, incl, times, np.full(n, port, dtype=np.int64))
    if heads.stride is not None:
        batch.base, batch.stride = 24 + 16, heads.stride
    batch.heads_as_written = endian == "<" and scale == 1 and bool((fields[:, 3] == fields[:, 2]).all())
    return batch


@dataclass
class _Heads:
    offsets: np.ndarray
    stride: int | None
    fields: np.ndarray | None = None      # n x 4: the record headers' fields, when already read


def _record_offsets(data: bytes, endian: str) -> _Heads | None:
    """The byte offsets of the record headers; None if a record is damaged (too long, truncated)."""
    size = len(data)
    if size == 24:
        return _Heads(np.zeros(0, dtype=np.int64), None)
    if size < 40:
        return None
    incl_at = struct.Struct(endian + "I").unpack_from
    first = incl_at(data, 24 + 8)[0]
    stride = 16 + first
    if first <= MAX_PACKET and (size - 24) % stride == 0:
        n = (size - 24) // stride
        rows = np.frombuffer(data, dtype=np.uint8, offset=24).reshape(n, stride)
        fields = rows[:, :16].copy().view(np.dtype(endian + "u4"))
        if (fields[:, 2] == first).all():
            return _Heads(24 + stride * np.arange(n, dtype=np.int64), stride, fields)
    # Records of many lengths: each record's place depends on the one before, so this walk is the one
    # loop over packets; it is kept to one unpack and one append a record, and checked afterwards.
    offsets = []
    append = offsets.append
    pos = 24
    try:
        while pos < size:
            append(pos)
            pos += 16 + incl_at(data, pos + 8)[0]
    except struct.error:
        return None                 # a record header cut short
    if pos != size:
        return None                 # the last packet cut short
    at = np.array(offsets, dtype=np.int64)
    if len(at) and (np.diff(np.append(at, size)) - 16 > MAX_PACKET).any():
        return None
    return _Heads(at, None)


def record_headers(times: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """n x 16 bytes: the nanosecond pcap record header of each packet (as PcapWriter writes it)."""
    t = np.maximum(times, 0)
    fields = np.empty((len(t), 4), dtype="<u4")
    sec, nsec = np.divmod(t, 1_000_000_000)
    fields[:, 0] = sec & 0xFFFFFFFF
    fields[:, 1] = nsec
    fields[:, 2] = lengths
    fields[:, 3] = lengths
    return fields.view(np.uint8).reshape(len(t), 16)


def open_pcap(path: str):
    """A new classic pcap file (nanosecond timestamps, Ethernet) open for appending records, as PcapWriter
    starts one."""
    f = open(path, "wb")
    f.write(classic_header())
    return f
