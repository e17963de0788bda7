"""Captures for the sharded replay tests: packets of many lengths, cut short (parser errors), dropped, and
times that sometimes go back (replay's clock must carry over from one piece to the next)."""

from __future__ import annotations

import random
from pathlib import Path

from dataplane.pcap import PcapWriter

STF = Path(__file__).resolve().parents[1] / "stf"


def stf_packets(program: str) -> list[tuple[int, bytes]]:
    """(port, bytes) of every `packet` line of the program's STF tests."""
    out = []
    for stf in sorted((STF / program).glob("*.stf")):
        for line in stf.read_text().splitlines():
            words = line.split("#", 1)[0].split()
            if words[:1] == ["packet"] and len(words) > 2:
                out.append((int(words[1]), bytes.fromhex("".join(words[2:]))))
    return out


def variants(seed_packets: list[tuple[int, bytes]], n: int, seed: int = 1) -> list[tuple[int, bytes]]:
    """n packets drawn from the seeds: some cut short, some with more payload, some random bytes."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        port, data = rng.choice(seed_packets)
        r = rng.random()
        if r < 0.15:
            data = data[:rng.randrange(0, len(data) + 1)]            # truncated: parser errors
        elif r < 0.4:
            data = data + rng.randbytes(rng.randrange(1, 200))       # longer payloads
        elif r < 0.45:
            data = rng.randbytes(rng.randrange(1, 80))               # noise
        out.append((port, data))
    return out


def write_capture(path: Path, packets: list[bytes], seed: int = 2, start_ns: int = 1_000_000_000) -> None:
    """A classic pcap of the packets, 1 us apart, every 13th stamped earlier than the one before."""
    rng = random.Random(seed)
    with PcapWriter(str(path)) as w:
        for i, data in enumerate(packets):
            back = rng.randrange(1, 5000) if i % 13 == 5 else 0
            w.write(data, start_ns + i * 1000 - back)
