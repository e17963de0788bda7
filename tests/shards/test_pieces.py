"""input_pieces(): the packets of a replay's inputs in contiguous pieces, bounded, with the clock before each."""

from __future__ import annotations

import random
import struct

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.pcap import PcapReader, PcapWriter, PcapngWriter
from dataplane.replay import Source, merged_packets
from dataplane.shards.pieces import Limit, input_pieces, piece_limit


def _write(path, packets, times):
    with PcapWriter(str(path)) as w:
        for data, t in zip(packets, times):
            w.write(data, t)


def _packets_of(piece):
    b = piece.batch
    raw = b.buf.tobytes()
    return [(int(t), int(p), raw[s:s + n]) for t, p, s, n in zip(b.times, b.ports, b.starts, b.lengths)]


def _check(paths_ports, limit):
    """The pieces hold the merged packets in order, within the limit, each with the clock before it."""
    sources = [Source(port, PcapReader(str(path))) for port, path in paths_ports]
    try:
        pieces = list(input_pieces(sources, limit))
    finally:
        for s in sources:
            s.reader.close()
    sources = [Source(port, PcapReader(str(path))) for port, path in paths_ports]
    try:
        expected = list(merged_packets(sources))
    finally:
        for s in sources:
            s.reader.close()
    got, clock = [], -1
    for i, piece in enumerate(pieces):
        packets = _packets_of(piece)
        assert piece.index == i and piece.clock == clock and packets
        assert len(packets) <= limit.packets
        assert sum(len(d) for _, _, d in packets) <= limit.size or len(packets) == 1
        clock = max([clock] + [t for t, _, _ in packets])
        got += packets
    assert got == expected
    return pieces


@pytest.mark.parametrize("lengths", ["one", "many"])
@pytest.mark.parametrize("limit", [Limit(7, 1 << 20), Limit(1000, 3000), Limit(1 << 17, 1 << 25)])
def test_one_file_in_pieces(tmp_path, lengths, limit):
    rng = random.Random(1)
    n = 500
    packets = [rng.randbytes(60 if lengths == "one" else rng.randrange(0, 300)) for _ in range(n)]
    times = [10_000 + i * 100 - (rng.randrange(1, 900) if i % 7 == 3 else 0) for i in range(n)]
    _write(tmp_path / "a.pcap", packets, times)
    pieces = _check([(1, tmp_path / "a.pcap")], limit)
    assert len(pieces) >= -(-n // limit.packets)


def test_one_length_then_others(tmp_path):
    """Packets of one length for a while (taken as rows at once), then of others."""
    rng = random.Random(2)
    packets = [bytes(64)] * 300 + [rng.randbytes(rng.randrange(1, 99)) for _ in range(300)] + [bytes(64)] * 100
    _write(tmp_path / "a.pcap", packets, range(len(packets)))
    _check([(1, tmp_path / "a.pcap")], Limit(250, 1 << 20))


def test_a_packet_larger_than_a_piece_is_a_piece_of_its_own(tmp_path):
    packets = [b"a" * 50, b"b" * 5000, b"c" * 50, b"d" * 50]
    _write(tmp_path / "a.pcap", packets, range(4))
    pieces = _check([(1, tmp_path / "a.pcap")], Limit(100, 1000))
    assert [p.packets for p in pieces] == [1, 1, 2]


def test_several_inputs_and_pcapng_merged_by_time(tmp_path):
    rng = random.Random(3)
    _write(tmp_path / "a.pcap", [rng.randbytes(rng.randrange(20, 90)) for _ in range(200)], range(0, 2000, 10))
    with PcapngWriter(str(tmp_path / "b.pcapng"), ["s1-eth1"]) as w:
        for i in range(150):
            w.write(rng.randbytes(rng.randrange(20, 90)), i * 13 + 5)
    _check([(1, tmp_path / "a.pcap"), (2, tmp_path / "b.pcapng")], Limit(33, 1 << 20))
    _check([(2, tmp_path / "b.pcapng")], Limit(33, 1 << 20))


def _classic(endian: str, magic: int, records: list[tuple[int, int, bytes]]) -> bytes:
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 262144, 1)
    for sec, frac, data in records:
        out += struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data
    return out


@pytest.mark.parametrize("endian, magic, scale", [("<", 0xA1B2C3D4, 1000), (">", 0xA1B2C3D4, 1000),
                                                  (">", 0xA1B23C4D, 1)])
def test_microsecond_and_big_endian_files(tmp_path, endian, magic, scale):
    records = [(5, i * 3, bytes([i]) * (10 + i % 3)) for i in range(100)]
    (tmp_path / "a.pcap").write_bytes(_classic(endian, magic, records))
    pieces = _check([(4, tmp_path / "a.pcap")], Limit(30, 1 << 20))
    assert pieces[0].batch.times[1] == 5_000_000_000 + 3 * scale


@pytest.mark.parametrize("damage", ["cut", "bogus time", "too long"])
def test_damage_gives_the_readers_error_after_the_pieces_before_it(tmp_path, damage):
    records = [(1, i, bytes([i]) * 40) for i in range(100)]
    data = bytearray(_classic("<", 0xA1B2C3D4, records))
    at = 24 + 60 * 56                       # the 61st record
    if damage == "cut":
        data = data[:-5]
    elif damage == "bogus time":
        data[at + 4:at + 8] = struct.pack("<I", 2_000_000)
    else:
        data[at + 8:at + 12] = struct.pack("<I", 300_000)
    (tmp_path / "a.pcap").write_bytes(bytes(data))
    with PcapReader(str(tmp_path / "a.pcap")) as reader, pytest.raises(DiagnosticError) as expected:
        for _ in reader.packets():
            pass
    with PcapReader(str(tmp_path / "a.pcap")) as reader:
        got = []
        with pytest.raises(DiagnosticError) as raised:
            for piece in input_pieces([Source(1, reader)], Limit(25, 1 << 20)):
                got += _packets_of(piece)
    assert str(raised.value) == str(expected.value)
    assert len(got) == (99 if damage == "cut" else 60)


def test_piece_limit_gives_at_least_n_pieces_of_a_small_input(tmp_path):
    _write(tmp_path / "a.pcap", [bytes(100)] * 100, range(100))
    with PcapReader(str(tmp_path / "a.pcap")) as reader:
        limit = piece_limit([Source(1, reader)], 4)
        assert len(list(input_pieces([Source(1, reader)], limit))) >= 4
