"""The TCP speed benchmark (dataplane/tcpbench.py) counts what it says: every TCP segment of both hosts and
every frame on the three links."""

from __future__ import annotations

from dataplane import tcpbench
from dataplane.bench import BENCHMARKS


def test_the_transfer_speed_counts_segments_and_hops():
    speed = tcpbench.transfer_speed(nbytes=200_000, runs=2)
    assert speed["drops"] == 0 and speed["cpu_s"] > 0
    data_segments = -(-200_000 // 1448)
    # Data, ACKs (about one for two data segments), SYNs and FINs: each crosses three links; ARP adds a few frames.
    assert data_segments * 1.4 < speed["segments"] < data_segments * 2
    assert 3 * speed["segments"] <= speed["frames_on_links"] < 3 * speed["segments"] + 20
    assert speed["segments_per_cpu_s"] == speed["segments"] / speed["cpu_s"]
    assert speed["hops_per_cpu_s"] == speed["frames_on_links"] / speed["cpu_s"]


def test_tcp_transfer_is_a_benchmark_of_its_own():
    assert "tcp-transfer" in BENCHMARKS
