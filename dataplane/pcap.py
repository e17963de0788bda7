"""Capture files: classic pcap (what tcpdump and BMv2's --use-files read and write) and pcapng.

Classic pcap is written with nanosecond timestamps (magic 0xa1b23c4d) and link type 1 (Ethernet).
pcapng (the IETF draft "PCAP Next Generation Dump File Format", Wireshark's own format) is written with
one interface per capture point, named (`if_name`, shown by Wireshark as the frame's interface),
nanosecond resolution (`if_tsresol` 9), and the direction of each packet (`epb_flags` inbound or
outbound), so that a capture of a link tells its two ends apart.

Reading accepts both formats (micro- and nanosecond pcap of either byte order; pcapng sections of
either byte order, Enhanced and Simple Packet Blocks, any if_tsresol), record by record (a capture may
be larger than memory). A damaged record, a packet longer than any packet, or a timestamp whose
fraction is not below one second (which Wireshark reports as bogus) is an error at its byte offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from itertools import chain
from typing import Iterator

from .inputs import open_regular_file, whole_file
from .diagnostics import DiagnosticError, error

LINKTYPE_ETHERNET = 1
_MAGIC_US = 0xA1B2C3D4
_MAGIC_NS = 0xA1B23C4D
MAX_PACKET = 262144      # Wireshark's largest packet; a longer record means a damaged file
MAX_TIME_NS = (1 << 63) - 1     # the latest time a replay can keep: 2262-04-11, in nanoseconds

# pcapng block types and the options we write or read.
_SHB, _IDB, _SPB, _EPB = 0x0A0D0D0A, 1, 3, 6
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_END, _OPT_COMMENT, _IF_NAME, _IF_DESCRIPTION, _IF_TSRESOL, _EPB_FLAGS = 0, 1, 2, 3, 9, 2
_INBOUND, _OUTBOUND = 1, 2
# A block larger than this is a damaged file: the largest packet and generous room for its options.
_MAX_BLOCK = MAX_PACKET + (1 << 16)
# Files are read and written in chunks of this size: one system call per thousands of small packets.
_IO_CHUNK = 1 << 20


@dataclass
class PcapRecord:
    time_ns: int
    data: bytes
    original_length: int
    interface: str | None = None      # pcapng: the name of the interface it was captured on
    direction: str | None = None      # pcapng: "in", "out" or None when not recorded
    comment: str | None = None        # pcapng: the packet's comment (dataplane writes its packet number there)

    def _repr_html_(self) -> str:
        """Jupyter: the packet's layers and bytes (views/notebook.py)."""
        from .views.notebook import frame_html
        where = f"{self.interface} {self.direction or ''} ".strip()
        return frame_html(self.data, f"{where + ', ' if where else ''}{self.time_ns / 1e9:.9f} s")


class _ClosesItsFile:
    """A pcap file open for the life of the object, or of a `with` block."""

    f = None

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# The header of a classic pcap record as PcapWriter writes it: seconds, nanoseconds, captured and original
# length (little-endian). Loops that write many records pack it themselves, with the times PcapWriter.write
# computes, and hand them over with PcapWriter.write_records.
RECORD_HEADER = struct.Struct("<IIII")


class PcapWriter(_ClosesItsFile):
    """A classic pcap file. `epoch_ns` is added to every timestamp (the time the capture starts)."""

    def __init__(self, path: str, snaplen: int = 262144, linktype: int = LINKTYPE_ETHERNET, epoch_ns: int = 0):
        self.path = path
        self.epoch_ns = epoch_ns
        self.f = open(path, "wb", buffering=_IO_CHUNK)
        self.f.write(classic_header(snaplen, linktype))
        self._record = struct.Struct("<IIII").pack
        self.count = 0

    def write(self, data: bytes, time_ns: int = 0, interface: int = 0, number=None) -> None:
        """One packet; `interface` and `number` are for pcapng writers: classic pcap has no place for them."""
        t = int(time_ns) + self.epoch_ns
        sec, ns = divmod(t if t > 0 else 0, 1_000_000_000)
        # The seconds field has 32 bits: past 2106 (or a simulation that long) it wraps, as a counter does.
        n = len(data)
        self.f.write(self._record(sec & 0xFFFFFFFF, ns, n, n) + data)
        self.count += 1

    def write_records(self, records: bytes, count: int) -> None:
        """`count` records laid out already, each RECORD_HEADER.pack(seconds, nanoseconds, length, length)
        and its bytes, with the seconds and nanoseconds that write() computes."""
        self.f.write(records)
        self.count += count


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + bytes(-len(value) % 4)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


class PcapngWriter(_ClosesItsFile):
    """A pcapng file with one Ethernet interface per name in `interfaces`, nanosecond timestamps, and
    the direction of every packet as seen from its interface (sent by its node: outbound)."""

    def __init__(self, path: str, interfaces: list[str], snaplen: int = 262144, epoch_ns: int = 0,
                 descriptions: list[str] | None = None):
        self.path = path
        self.epoch_ns = epoch_ns
        self.f = open(path, "wb")
        shb = struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + _option(_OPT_END, b"")
        self.f.write(_block(_SHB, shb))
        for i, name in enumerate(interfaces):
            options = _option(_IF_NAME, name.encode()) + _option(_IF_TSRESOL, bytes([9]))
            if descriptions:
                options += _option(_IF_DESCRIPTION, descriptions[i].encode())
            self.f.write(_block(_IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, snaplen) + options
                                + _option(_OPT_END, b"")))
        self.interfaces = len(interfaces)
        self._head = struct.Struct("<IIIII")
        self._flags = _option(_EPB_FLAGS, struct.pack("<I", _OUTBOUND)) + _option(_OPT_END, b"")
        self.count = 0

    def write(self, data: bytes, time_ns: int = 0, interface: int = 0, number=None) -> None:
        """One packet sent out of `interface` (its index in the list the writer was made with); `number`, the
        simulator's packet number (net/numbering.py), becomes the packet's comment, which Wireshark shows."""
        t = max(0, int(time_ns) + self.epoch_ns)
        options = self._flags if number is None else \
            _option(_OPT_COMMENT, number.comment().encode()) + self._flags
        body = self._head.pack(interface, t >> 32, t & 0xFFFFFFFF, len(data), len(data)) + data \
            + bytes(-len(data) % 4) + options
        self.f.write(_block(_EPB, body))
        self.count += 1


def classic_header(snaplen: int = 262144, linktype: int = LINKTYPE_ETHERNET) -> bytes:
    """The 24-byte header of the classic pcap files we write: version 2.4, nanosecond timestamps."""
    return struct.pack("<IHHiIII", _MAGIC_NS, 2, 4, 0, 0, snaplen, linktype)


def classic_format(head: bytes) -> tuple[str, int, int, str, int] | None:
    """What a classic pcap file header (24 bytes) says: (byte order, nanoseconds per unit of the fraction
    field, units per second, the unit's name, link type); None when its magic number is not pcap's."""
    for endian in "<>":
        magic = struct.unpack_from(endian + "I", head)[0]
        if magic in (_MAGIC_US, _MAGIC_NS):
            scale, per_second, unit = (1000, 1_000_000, "microseconds") if magic == _MAGIC_US \
                else (1, 1_000_000_000, "nanoseconds")
            return endian, scale, per_second, unit, struct.unpack_from(endian + "I", head, 20)[0]
    return None


class PcapReader(_ClosesItsFile):
    """The records of a pcap file, read one at a time from the file (a capture may not fit in memory).

    Opening reads and checks the file header; iterating reads the records. A damaged file is a user
    error, ``path: error: ... at byte offset N``.
    """

    def __init__(self, path: str):
        self.path = path
        self.f = open_regular_file(path)
        try:
            self._read_header()
        except BaseException:
            self.f.close()
            raise

    def _fail(self, message: str, hint: str | None = None) -> DiagnosticError:
        return error(message, whole_file(self.path), hint)

    def _read(self, n: int) -> bytes:
        try:
            return self.f.read(n)
        except OSError as exc:
            raise self._fail(f"cannot read the file: {exc.strerror or exc}") from None

    def _read_header(self) -> None:
        head = self._read(24)
        if head[:4] == b"\x0a\x0d\x0d\x0a":
            self.pcapng = True
            self._pending = head
            return
        self.pcapng = False
        if len(head) < 24:
            raise self._fail(f"not a pcap file (only {len(head)} bytes)")
        fmt = classic_format(head)
        if fmt is None:
            raise self._fail(f"not a pcap or pcapng file (magic number 0x{struct.unpack('<I', head[:4])[0]:08x})")
        self.endian, self.scale, self.per_second, self.unit, linktype = fmt
        if linktype != LINKTYPE_ETHERNET:
            raise self._fail(f"link type {linktype} is not Ethernet (1)")

    def __iter__(self) -> Iterator[PcapRecord]:
        if self.pcapng:
            yield from self._pcapng_records()
            return
        yield from chain.from_iterable(self._pcap_chunks(records=True))

    def packets(self) -> Iterator[tuple[int, bytes, str | None]]:
        """(time_ns, data, interface) per packet: what a replay needs, without a record object per packet."""
        if self.pcapng:
            return ((rec.time_ns, rec.data, rec.interface) for rec in self._pcapng_records())
        return chain.from_iterable(self._pcap_chunks(records=False))

    def packet_chunks(self) -> Iterator[list[tuple[int, bytes, str | None]]]:
        """packets() a list at a time (the records wholly in one read), for loops that would rather not
        resume an iterator per packet."""
        if self.pcapng:
            return ([(rec.time_ns, rec.data, rec.interface)] for rec in self._pcapng_records())
        return self._pcap_chunks(records=False)

    def _pcap_chunks(self, records: bool) -> Iterator[list]:
        """The records of a classic pcap file, read a chunk at a time, as a list per chunk: PcapRecord
        objects, or (time_ns, data, None) tuples (one loop for both).

        The inner loop takes the records wholly in the chunk with only the checks every record needs; a
        record that does not fit or fails a check leaves it, to read more or to be reported (after the
        records before it are handed out, as a record-by-record reader would)."""
        unpack = struct.Struct(self.endian + "IIII").unpack_from
        per_second, scale = self.per_second, self.scale
        buf, pos, base = b"", 0, 24          # base: where buf[0] is in the file
        while True:
            size = len(buf)
            got = []
            add = got.append
            while pos + 16 <= size:
                sec, frac, incl, orig = unpack(buf, pos)
                end = pos + 16 + incl
                if end > size or frac >= per_second or incl > MAX_PACKET:
                    break
                t = sec * 1_000_000_000 + frac * scale
                add(PcapRecord(t, buf[pos + 16:end], orig) if records else (t, buf[pos + 16:end], None))
                pos = end
            if got:
                yield got
            offset = base + pos
            if pos + 16 <= size:
                sec, frac, incl, orig = unpack(buf, pos)
                if frac >= per_second:
                    # Wireshark reports such a record as bogus; its time would not be a time.
                    raise self._fail(f"bogus timestamp in the record at byte offset {offset}: {frac} {self.unit} "
                                     f"(at most {per_second - 1})")
                if incl > MAX_PACKET:
                    raise self._fail(f"the record at byte offset {offset} announces {incl} bytes of packet, "
                                     f"more than the largest packet ({MAX_PACKET} bytes)")
                buf, pos, base = buf[pos:] + self._read(max(_IO_CHUNK, incl + 16)), 0, offset
                if 16 + incl > len(buf):
                    raise self._fail(f"truncated packet at byte offset {offset + 16} ({incl} bytes announced, "
                                     f"{len(buf) - 16} present)")
                continue
            buf, pos, base = buf[pos:] + self._read(_IO_CHUNK), 0, offset
            if len(buf) == 0:
                return
            if len(buf) < 16:
                raise self._fail(f"truncated record header at byte offset {offset}")

    # ------------------------------------------------------------------ pcapng

    def _pcapng_records(self) -> Iterator[PcapRecord]:
        """The packets of every section, block by block; blocks we do not need are skipped."""
        offset, pending = 0, self._pending
        endian = "<"
        interfaces: list[tuple[str | None, int, int]] = []      # (name, numerator ns, divisor) per IDB
        while True:
            head = pending + self._read(8 - len(pending)) if len(pending) < 8 else pending[:8]
            rest, pending = pending[8:], b""
            if not head:
                return
            if len(head) < 8:
                raise self._fail(f"truncated block header at byte offset {offset}")
            # The section header's type reads the same in both byte orders; other blocks are in the
            # byte order their section header set.
            kind = _SHB if head[:4] == b"\x0a\x0d\x0d\x0a" else struct.unpack(endian + "I", head[:4])[0]
            if kind == _SHB:
                more = rest + self._read(max(0, 4 - len(rest)))
                if len(more) < 4:
                    raise self._fail(f"truncated section header at byte offset {offset}")
                magic = more[:4]
                endian = "<" if magic == struct.pack("<I", _BYTE_ORDER_MAGIC) else \
                    ">" if magic == struct.pack(">I", _BYTE_ORDER_MAGIC) else None
                if endian is None:
                    raise self._fail(f"bad byte-order magic in the section header at byte offset {offset}")
                rest, interfaces = more, []
            length = struct.unpack(endian + "I", head[4:8])[0]
            if length < 12 or length % 4 or length > _MAX_BLOCK:
                raise self._fail(f"block at byte offset {offset} has a bad length ({length})")
            body = rest + self._read(length - 8 - len(rest))
            if len(body) < length - 8:
                raise self._fail(f"truncated block at byte offset {offset} ({length} bytes announced)")
            if struct.unpack(endian + "I", body[-4:])[0] != length:
                raise self._fail(f"block at byte offset {offset}: its two lengths differ")
            body = body[:-4]
            if kind == _SHB:
                if len(body) < 16 or struct.unpack(endian + "H", body[4:6])[0] != 1:
                    raise self._fail(f"section header at byte offset {offset}: not pcapng version 1")
            elif kind == _IDB:
                interfaces.append(self._interface(body, endian, offset))
            elif kind in (_EPB, _SPB):
                yield self._packet(kind, body, endian, offset, interfaces)
            offset += length

    def _options(self, data: bytes, endian: str, offset: int) -> dict[int, bytes]:
        found, at = {}, 0
        while at + 4 <= len(data):
            code, size = struct.unpack(endian + "HH", data[at:at + 4])
            if code == _OPT_END:
                break
            if at + 4 + size > len(data):
                raise self._fail(f"block at byte offset {offset}: an option runs past the block")
            found.setdefault(code, data[at + 4:at + 4 + size])
            at += 4 + size + (-size % 4)
        return found

    def _interface(self, body: bytes, endian: str, offset: int) -> tuple[str | None, int, int]:
        if len(body) < 8:
            raise self._fail(f"interface block at byte offset {offset} is too short")
        linktype = struct.unpack(endian + "H", body[0:2])[0]
        if linktype != LINKTYPE_ETHERNET:
            raise self._fail(f"interface block at byte offset {offset}: link type {linktype} is not Ethernet (1)")
        options = self._options(body[8:], endian, offset)
        name = options[_IF_NAME].decode("utf-8", "replace") if _IF_NAME in options else None
        resolution = options.get(_IF_TSRESOL, bytes([6]))[:1] or bytes([6])
        r = resolution[0]
        # if_tsresol: 10^-r seconds, or 2^-(r & 0x7f) when its top bit is set; timestamps become ns.
        if r & 0x80:
            return name, 1_000_000_000, 1 << (r & 0x7F)
        if r > 9:
            return name, 1, 10 ** (r - 9)
        return name, 10 ** (9 - r), 1

    def _packet(self, kind: int, body: bytes, endian: str, offset: int, interfaces: list) -> PcapRecord:
        if kind == _SPB:
            if not interfaces or len(body) < 4:
                raise self._fail(f"simple packet block at byte offset {offset} without an interface")
            original = struct.unpack(endian + "I", body[0:4])[0]
            return PcapRecord(0, body[4:4 + min(original, len(body) - 4, MAX_PACKET)], original, interfaces[0][0])
        if len(body) < 20:
            raise self._fail(f"packet block at byte offset {offset} is too short")
        iface, high, low, captured, original = struct.unpack(endian + "IIIII", body[0:20])
        if iface >= len(interfaces):
            raise self._fail(f"packet block at byte offset {offset} names interface {iface}, which the "
                             f"section does not declare")
        if captured > MAX_PACKET or 20 + captured > len(body):
            raise self._fail(f"packet block at byte offset {offset} announces {captured} bytes of packet, "
                             f"more than it holds")
        name, times, divide = interfaces[iface]
        time_ns = ((high << 32) | low) * times // divide
        if time_ns > MAX_TIME_NS:
            # Only a damaged block says so (a 64-bit count read at the wrong resolution); replay keeps time in
            # signed 64-bit nanoseconds, as the batch engine's columns do.
            raise self._fail(f"packet block at byte offset {offset} has a timestamp after the year 2262")
        data = body[20:20 + captured]
        options = self._options(body[20 + captured + (-captured % 4):], endian, offset)
        direction = None
        if _EPB_FLAGS in options and len(options[_EPB_FLAGS]) == 4:
            direction = {_INBOUND: "in", _OUTBOUND: "out"}.get(struct.unpack(endian + "I", options[_EPB_FLAGS])[0] & 3)
        comment = options[_OPT_COMMENT].decode("utf-8", "replace") if _OPT_COMMENT in options else None
        return PcapRecord(time_ns, data, original, name, direction, comment)


def read_pcap(path: str) -> list[PcapRecord]:
    """All packets of a pcap file (for small files; PcapReader reads one record at a time)."""
    with PcapReader(path) as reader:
        return list(reader)
