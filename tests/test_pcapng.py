"""pcapng reading and writing (dataplane/pcap.py): blocks built by hand, in both byte orders, against our
reader, and our writer's files against tshark's reading of them (tests/net/test_pcap_tshark.py)."""

from __future__ import annotations

import re
import struct

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.pcap import PcapngWriter, read_pcap

FRAME = bytes(range(60))


def block(kind: int, body: bytes, e: str = "<") -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack(e + "II", kind, 12 + len(body)) + body + struct.pack(e + "I", 12 + len(body))


def option(code: int, value: bytes, e: str = "<") -> bytes:
    return struct.pack(e + "HH", code, len(value)) + value + bytes(-len(value) % 4)


def shb(e: str = "<") -> bytes:
    return block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(name: str | None = None, tsresol: int | None = None, e: str = "<", linktype: int = 1) -> bytes:
    opts = b""
    if name is not None:
        opts += option(2, name.encode(), e)
    if tsresol is not None:
        opts += option(9, bytes([tsresol]), e)
    return block(1, struct.pack(e + "HHI", linktype, 0, 65535) + opts + (option(0, b"", e) if opts else b""), e)


def epb(iface: int, ts: int, data: bytes, e: str = "<", flags: int | None = None) -> bytes:
    body = struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data
    body += bytes(-len(data) % 4)
    if flags is not None:
        body += option(2, struct.pack(e + "I", flags), e) + option(0, b"", e)
    return block(6, body, e)


def read(tmp_path, data: bytes):
    path = tmp_path / "x.pcapng"
    path.write_bytes(data)
    return read_pcap(str(path))


@pytest.mark.parametrize("e", ["<", ">"])
def test_both_byte_orders_resolutions_directions_and_skipped_blocks(tmp_path, e):
    data = (shb(e) + idb("eth0", None, e) + idb("eth1", 9, e) + block(4, b"\0" * 8, e)      # name resolution: skipped
            + epb(0, 1_500_000, FRAME, e, flags=1) + epb(1, 2_000_000_123, FRAME[:14], e, flags=2))
    records = read(tmp_path, data)
    assert [(r.time_ns, r.data, r.interface, r.direction) for r in records] == [
        (1_500_000_000, FRAME, "eth0", "in"), (2_000_000_123, FRAME[:14], "eth1", "out")]


def test_binary_resolution_simple_packets_and_a_second_section(tmp_path):
    data = (shb() + idb("a", 0x80 | 10) + epb(0, 1024 * 3, FRAME)          # 2^-10 s units: 3 s
            + shb() + idb("b") + block(3, struct.pack("<I", len(FRAME)) + FRAME))
    records = read(tmp_path, data)
    assert [(r.time_ns, r.interface) for r in records] == [(3_000_000_000, "a"), (0, "b")]
    assert records[1].data == FRAME


@pytest.mark.parametrize("data, message", [
    (shb() + epb(0, 0, FRAME), "names interface 0, which the section does not declare"),
    (shb() + idb(linktype=105), "link type 105 is not Ethernet"),
    (shb() + idb() + epb(0, 0, FRAME)[:-4] + b"\1\0\0\0", "its two lengths differ"),
    (shb() + idb() + epb(0, 0, FRAME)[:40], "truncated block at byte offset 48"),
    (shb() + struct.pack("<II", 6, 7), "block at byte offset 28 has a bad length (7)"),
    (shb() + struct.pack("<II", 6, 1 << 30), "has a bad length"),
    (b"\n\r\r\n\x1c\0\0\0\1\2\3\4", "bad byte-order magic"),
])
def test_damaged_pcapng_is_an_error_at_a_byte_offset(tmp_path, data, message):
    with pytest.raises(DiagnosticError, match=re.escape(message)):
        read(tmp_path, data)


def test_our_writer_reads_back(tmp_path):
    path = str(tmp_path / "w.pcapng")
    with PcapngWriter(path, ["h1:eth0", "s1:p1"], epoch_ns=7) as w:
        w.write(FRAME[:15], 10, 1)
        w.write(FRAME, 20, 0)
    assert [(r.time_ns, r.data, r.interface, r.direction) for r in read_pcap(path)] == [
        (17, FRAME[:15], "s1:p1", "out"), (27, FRAME, "h1:eth0", "out")]
