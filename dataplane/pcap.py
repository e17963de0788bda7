"""Classic pcap files (the format Wireshark, tcpdump and BMv2's --use-files read and write).

Writing uses nanosecond timestamps (magic 0xa1b23c4d) and link type 1
(Ethernet). Reading accepts micro- and nanosecond files of either byte order,
record by record (a capture may be larger than memory); a damaged record, a
packet longer than any packet, or a timestamp whose fraction is not below one
second (which Wireshark reports as bogus) is an error at its byte offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

from .inputs import open_regular_file, whole_file
from .diagnostics import DiagnosticError, error

LINKTYPE_ETHERNET = 1
_MAGIC_US = 0xA1B2C3D4
_MAGIC_NS = 0xA1B23C4D
MAX_PACKET = 262144      # Wireshark's largest packet; a longer record means a damaged file


@dataclass
class PcapRecord:
    time_ns: int
    data: bytes
    original_length: int


class _ClosesItsFile:
    """A pcap file open for the life of the object, or of a `with` block."""

    f = None

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PcapWriter(_ClosesItsFile):
    def __init__(self, path: str, snaplen: int = 262144, linktype: int = LINKTYPE_ETHERNET):
        self.path = path
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", _MAGIC_NS, 2, 4, 0, 0, snaplen, linktype))
        self.count = 0

    def write(self, data: bytes, time_ns: int = 0) -> None:
        sec, ns = divmod(max(0, int(time_ns)), 1_000_000_000)
        # The seconds field has 32 bits: past 2106 (or a simulation that long) it wraps, as a counter does.
        self.f.write(struct.pack("<IIII", sec & 0xFFFFFFFF, ns, len(data), len(data)))
        self.f.write(data)
        self.count += 1


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
        if len(head) < 24:
            raise self._fail(f"not a pcap file (only {len(head)} bytes)")
        magic_le = struct.unpack("<I", head[:4])[0]
        magic_be = struct.unpack(">I", head[:4])[0]
        if magic_le in (_MAGIC_US, _MAGIC_NS):
            self.endian, magic = "<", magic_le
        elif magic_be in (_MAGIC_US, _MAGIC_NS):
            self.endian, magic = ">", magic_be
        else:
            hint = "pcapng files are not supported; convert with: editcap -F pcap in.pcapng out.pcap" \
                if head[:4] == b"\x0a\x0d\x0d\x0a" else None
            raise self._fail(f"not a pcap file (magic number 0x{magic_le:08x})", hint)
        # (nanoseconds per unit of the fraction field, units per second, the unit's name)
        self.scale, self.per_second, self.unit = (1000, 1_000_000, "microseconds") if magic == _MAGIC_US \
            else (1, 1_000_000_000, "nanoseconds")
        linktype = struct.unpack(self.endian + "I", head[20:24])[0]
        if linktype != LINKTYPE_ETHERNET:
            raise self._fail(f"link type {linktype} is not Ethernet (1)")

    def __iter__(self) -> Iterator[PcapRecord]:
        offset = 24
        record = struct.Struct(self.endian + "IIII")
        while True:
            head = self._read(16)
            if not head:
                return
            if len(head) < 16:
                raise self._fail(f"truncated record header at byte offset {offset}")
            sec, frac, incl, orig = record.unpack(head)
            if frac >= self.per_second:
                # Wireshark reports such a record as bogus; its time would not be a time.
                raise self._fail(f"bogus timestamp in the record at byte offset {offset}: {frac} {self.unit} "
                                 f"(at most {self.per_second - 1})")
            if incl > MAX_PACKET:
                raise self._fail(f"the record at byte offset {offset} announces {incl} bytes of packet, "
                                 f"more than the largest packet ({MAX_PACKET} bytes)")
            data = self._read(incl)
            if len(data) < incl:
                raise self._fail(f"truncated packet at byte offset {offset + 16} ({incl} bytes announced, "
                                 f"{len(data)} present)")
            yield PcapRecord(sec * 1_000_000_000 + frac * self.scale, data, orig)
            offset += 16 + incl


def read_pcap(path: str) -> list[PcapRecord]:
    """All packets of a pcap file (for small files; PcapReader reads one record at a time)."""
    with PcapReader(path) as reader:
        return list(reader)
