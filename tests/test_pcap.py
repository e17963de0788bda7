"""Classic pcap files (dataplane/pcap.py): what is written reads back, across the reader's chunks."""

from __future__ import annotations

import random

from dataplane.pcap import PcapReader, PcapWriter, read_pcap


def test_a_capture_larger_than_a_read_chunk_reads_back_whole(tmp_path):
    """3 MB of packets of every size from 14 to 9,000 bytes: records cross the 1 MiB chunks of the reader at
    every offset, and both ways of reading (records, and packets() for replay) give them back unchanged."""
    rng = random.Random(5)
    written = [(i * 1_000_003, rng.randbytes(rng.randrange(14, 9001))) for i in range(900)]
    path = tmp_path / "big.pcap"
    with PcapWriter(str(path)) as w:
        for t, data in written:
            w.write(data, t)
    assert path.stat().st_size > 3 * (1 << 20)
    assert [(r.time_ns, r.data, r.original_length) for r in read_pcap(str(path))] == \
        [(t, d, len(d)) for t, d in written]
    with PcapReader(str(path)) as r:
        assert list(r.packets()) == [(t, d, None) for t, d in written]


def test_records_across_many_read_chunks_come_back_as_written(tmp_path):
    """Records straddle the reader's chunks (1 MiB): every one comes back whole, in order."""
    import random
    from dataplane.pcap import PcapReader, PcapWriter
    rng = random.Random(2)
    packets = [(i * 1001, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 400)))) for i in range(6000)]
    packets.append((10**10, bytes(200_000)))           # larger than what is left of any chunk
    path = str(tmp_path / "big.pcap")
    with PcapWriter(path) as w:
        for t, data in packets:
            w.write(data, t)
    with PcapReader(path) as reader:
        assert [(t, data) for t, data, _ in reader.packets()] == packets
    with PcapReader(path) as reader:
        assert [(r.time_ns, r.data, r.original_length) for r in reader] == [(t, d, len(d)) for t, d in packets]
