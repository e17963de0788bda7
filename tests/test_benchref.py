"""The benchmark's hand-written pipeline does what the generated one does: the same bytes out, the same drops."""

from __future__ import annotations

import random
from functools import lru_cache

from hypothesis import HealthCheck, given, settings, strategies as st

from dataplane.bench import _ipv4_checksum, _packet, setup_lpm
from dataplane.benchref import reference_lpm


@lru_cache(maxsize=None)
def lpm_device():
    dev, _routes = setup_lpm(200)
    dev.table_add("ipv4_lpm", [_prefix(0x0B000000, 8)], "ipv4_forward", [0x0A0B0C0D0E0F, 511])    # drops
    dev.table_add("ipv4_lpm", [_prefix(0x0C000000, 8)], "drop", [])
    return dev, dev.stages(False)["fast"], reference_lpm(dev)


def _prefix(value: int, length: int):
    from dataplane.runtime.tables import MatchValue
    return MatchValue(value, prefix_len=length)


def same_result(data: bytes, port: int = 1) -> None:
    _dev, generated, reference = lpm_device()
    assert reference(port, data) == generated(port, data)


def test_the_benchmark_packets_give_the_same_bytes():
    rng = random.Random(3)
    forwarded = 0
    for _ in range(3000):
        data = _packet(rng, rng.getrandbits(32), payload=rng.randrange(0, 100))
        same_result(data)
        forwarded += reference_lpm(lpm_device()[0])(1, data)[0] is not None
    assert forwarded > 1000


@st.composite
def ipv4_frames(draw):
    """Ethernet + IPv4 frames, mostly well formed, some with a bad checksum, another EtherType or cut short."""
    rng = random.Random(draw(st.integers(0, 2 ** 32)))
    dst = draw(st.sampled_from([0x0B000001, 0x0C000001, rng.getrandbits(32)]))
    data = bytearray(_packet(rng, dst, payload=draw(st.integers(0, 40))))
    data[22] = draw(st.sampled_from([0, 1, 64, 255]))          # TTL
    data[24:26] = _ipv4_checksum(bytes(data[14:24]) + bytes(2) + bytes(data[26:34])).to_bytes(2, "big")
    if draw(st.booleans()):
        data[24:26] = draw(st.sampled_from([b"\x00\x00", b"\xff\xff", b"\x12\x34"]))
    if draw(st.integers(0, 5)) == 0:
        data[12:14] = draw(st.binary(min_size=2, max_size=2))
    if draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=ipv4_frames(), port=st.integers(0, 510))
def test_random_frames_give_the_same_result(data, port):
    same_result(data, port)


def test_a_changed_default_action_is_followed():
    dev, routes = setup_lpm(20)
    dev.table_set_default("ipv4_lpm", "ipv4_forward", [0x020000000001, 7])
    generated, reference = dev.stages(False)["fast"], reference_lpm(dev)
    rng = random.Random(4)
    for _ in range(200):
        data = _packet(rng, rng.getrandbits(32))
        assert reference(1, data) == generated(1, data)
        assert reference(1, data)[0] is not None


def test_the_hand_written_replay_writes_what_dataplane_replay_writes(tmp_path):
    from dataplane.bench import _same_files
    from dataplane.benchref import reference_replay
    from dataplane.pcap import PcapReader, PcapWriter
    from dataplane.replay import Source, replay
    dev = lpm_device()[0]
    rng = random.Random(5)
    path = str(tmp_path / "in.pcap")
    with PcapWriter(path) as w:
        for i in range(500):
            dst = rng.choice([0x0B000001, 0x0C000001, rng.getrandbits(32)])
            w.write(_packet(rng, dst, payload=rng.randrange(0, 60)), 3_000_000_000 + i * 1000 - (i % 7) * 5000)
    with PcapReader(path) as reader:
        counts = replay(dev, [Source(1, reader)], str(tmp_path / "ours"))
    assert reference_replay(dev, path, str(tmp_path / "ref")) == counts.packets == 500
    assert sum(counts.out.values()) > 100 and counts.drops
    assert _same_files(str(tmp_path / "ours"), str(tmp_path / "ref"))
