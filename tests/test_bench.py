"""The benchmarks measure what they say: the flood benchmark runs the shipped flood topologies."""

from __future__ import annotations

import pytest

from dataplane.bench import flood_child


@pytest.mark.parametrize("name,bounded", [("syn-flood", "(SYN backlog 128)"),
                                          ("frag-flood", "IPv4 reassembly:")])
def test_the_flood_benchmark_reports_the_bounded_state(name, bounded):
    r = flood_child(name, scaled=False)
    assert r["events"] > 0 and r["maxrss_kib"] > 0 and r["wall"] > 0
    assert bounded in r["limits"]
    assert "intact" in r["apps"] or "rtt" in r["apps"]


def test_the_batch_benchmark_compares_the_engines_on_the_same_bytes():
    from dataplane.bench import bench_batch
    lines = bench_batch(300)
    assert len(lines) == 2
    assert "batch engine" in lines[0] and "scalar engine" in lines[0] and lines[0].endswith("same bytes: yes")
    assert lines[1].startswith("batch: forwarding alone")
def test_the_lpm_benchmark_prints_the_generated_pipeline_beside_the_hand_written_one():
    from dataplane.bench import bench_lpm, run_benchmarks
    line = bench_lpm(300)
    assert line.startswith("lpm: IPv4 LPM router, 1001 routes") and "generated pipeline alone" in line
    assert "x a hand-written pure-Python pipeline" in line and "in the same run" in line
    assert run_benchmarks(50, "lpm,acl")[1].startswith("acl: ")


def test_the_replay_benchmark_compares_with_a_hand_written_replay_on_the_same_bytes():
    from dataplane.bench import bench_replay
    line = bench_replay(300)
    assert "x a hand-written pure-Python pcap-to-pcap replay" in line and "same bytes: yes" in line


def test_the_router_benchmark_feeds_a_fat_tree_routers_frames_to_its_pipeline():
    from dataplane.bench import router_frames
    dev, frames = router_frames(200)
    assert len(frames) > 50 and dev.program.name == "ipv4_router"
    fast = dev.stages(False)["fast"]
    assert sum(bool(fast(port, frame)[0]) for port, frame in frames) > len(frames) // 2
