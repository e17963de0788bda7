"""Classic pcap files (the format Wireshark, tcpdump and BMv2's --use-files read and write).

Writing uses nanosecond timestamps (magic 0xa1b23c4d) and link type 1
(Ethernet). Reading accepts micro- and nanosecond files of either byte order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .diagnostics import error

LINKTYPE_ETHERNET = 1
_MAGIC_US = 0xA1B2C3D4
_MAGIC_NS = 0xA1B23C4D


@dataclass
class PcapRecord:
    time_ns: int
    data: bytes
    original_length: int


class PcapWriter:
    def __init__(self, path: str, snaplen: int = 262144, linktype: int = LINKTYPE_ETHERNET):
        self.path = path
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", _MAGIC_NS, 2, 4, 0, 0, snaplen, linktype))
        self.count = 0

    def write(self, data: bytes, time_ns: int = 0) -> None:
        sec, ns = divmod(int(time_ns), 1_000_000_000)
        self.f.write(struct.pack("<IIII", sec, ns, len(data), len(data)))
        self.f.write(data)
        self.count += 1

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> "PcapWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_pcap(path: str) -> list[PcapRecord]:
    """All packets of a pcap file; a damaged file is a user error with the byte offset."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as exc:
        raise error(f"cannot open '{path}': {exc.strerror or exc}")
    if len(blob) < 24:
        raise error(f"{path}: not a pcap file (only {len(blob)} bytes)")
    magic_le = struct.unpack("<I", blob[:4])[0]
    magic_be = struct.unpack(">I", blob[:4])[0]
    if magic_le in (_MAGIC_US, _MAGIC_NS):
        endian, magic = "<", magic_le
    elif magic_be in (_MAGIC_US, _MAGIC_NS):
        endian, magic = ">", magic_be
    else:
        hint = "pcapng files are not supported; convert with: editcap -F pcap in.pcapng out.pcap" \
            if blob[:4] == b"\x0a\x0d\x0d\x0a" else None
        raise error(f"{path}: not a pcap file (magic number 0x{magic_le:08x})", None, hint)
    scale = 1000 if magic == _MAGIC_US else 1
    linktype = struct.unpack(endian + "I", blob[20:24])[0]
    if linktype != LINKTYPE_ETHERNET:
        raise error(f"{path}: link type {linktype} is not Ethernet (1)")
    out = []
    pos = 24
    while pos < len(blob):
        if pos + 16 > len(blob):
            raise error(f"{path}: truncated record header at byte {pos}")
        sec, frac, incl, orig = struct.unpack(endian + "IIII", blob[pos:pos + 16])
        pos += 16
        if pos + incl > len(blob):
            raise error(f"{path}: truncated packet at byte {pos} ({incl} bytes announced)")
        out.append(PcapRecord(sec * 1_000_000_000 + frac * scale, blob[pos:pos + incl], orig))
        pos += incl
    return out
