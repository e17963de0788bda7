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
    assert len(lines) == 4
    for e2e, alone, label in ((lines[0], lines[1], "packets of one length"),
                              (lines[2], lines[3], "packets of many lengths")):
        assert label in e2e and "batch engine" in e2e and "scalar engine" in e2e and e2e.endswith("same bytes: yes")
        assert alone.startswith(f"batch: {label}, forwarding alone")
def test_the_lpm_benchmark_prints_the_generated_pipeline_beside_the_hand_written_one():
    from dataplane.bench import bench_lpm, run_benchmarks
    line = bench_lpm(300)
    assert line.startswith("lpm: IPv4 LPM router, 1001 routes") and "generated pipeline alone" in line
    assert "x a hand-written pure-Python pipeline" in line and "in the same run" in line
    assert run_benchmarks(50, "lpm,acl")[1].startswith("acl: ")


def test_the_big_routers_benchmark_builds_routes_and_runs_the_traffic():
    from dataplane.bench import BENCHMARKS, BIG_ROUTERS, routers_child
    assert set(BIG_ROUTERS) <= set(BENCHMARKS)
    r = routers_child(30)
    assert r["routers"] == 30 and r["traffic_ok"] and r["maxrss_kib"] > 0
    assert r["routes"] > 30 * 50                 # a route to every link and host subnet from every router


def test_the_replay_benchmark_compares_with_a_hand_written_replay_on_the_same_bytes():
    from dataplane.bench import bench_replay
    line = bench_replay(300)
    assert "x a hand-written pure-Python pcap-to-pcap replay" in line and "same bytes: yes" in line


def test_the_router_benchmark_feeds_a_fat_tree_routers_frames_to_its_pipeline():
    from dataplane.bench import router_frames
    dev, frames = router_frames(200)
    assert len(frames) > 50 and dev.program.name == "ipv4_router"
    fast = dev.stages(False)["fast"]
    assert sum(fast(port, frame)[0] is not None for port, frame in frames) > len(frames) // 2


def test_side_by_side_measurement_gives_each_frame_its_own_port():
    # The router row once fed (port, frame) tuples as frames: every packet was a 2-byte parser error.
    from dataplane.bench import _measure_side_by_side
    seen = []
    _measure_side_by_side({"f": lambda port, frame: seen.append((port, frame))}, [(3, b"ab"), (4, b"cd")], passes=1)
    assert set(seen) == {(3, b"ab"), (4, b"cd")}
    seen.clear()
    _measure_side_by_side({"f": lambda port, frame: seen.append((port, frame))}, [b"xy"], passes=1)
    assert set(seen) == {(1, b"xy")}


def test_the_bench_help_names_every_benchmark():
    import subprocess
    import sys
    from dataplane.bench import BENCHMARKS
    out = subprocess.run([sys.executable, "-m", "dataplane", "bench", "--help"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    listed = " ".join(out.split())
    for name in BENCHMARKS:
        assert f"{name}," in listed or f"{name} " in listed, name


def test_the_shards_benchmark_compares_one_process_and_two_shards_on_the_same_bytes():
    pytest.importorskip("distributed")
    from dataplane.shardbench import bench_shards
    lines = bench_shards(3000)
    assert len(lines) == 5 and lines[-1].startswith("shards: the embedded cluster of 2 workers starts in")
    for engine, (line, cpu) in zip(("scalar", "batch"), (lines[0:2], lines[2:4])):
        assert f"3,000 packets, {engine} engine" in line and "--shards 2" in line and line.endswith("same bytes: yes")
        assert cpu.startswith(f"shards: {engine} engine, processor time: one process")


def test_a_child_measures_its_own_peak_memory_not_its_parents():
    # Linux carries a forked child's copy of its parent's high-water mark through exec into ru_maxrss; the
    # big-router and flood rows are measured in children of a bench that may hold hundreds of MB already.
    import subprocess
    import sys
    ballast = bytearray(300 * 2**20)
    ballast[::4096] = b"\x01" * len(ballast[::4096])         # touched, so resident
    out = subprocess.run([sys.executable, "-c", "from dataplane.bench import peak_rss_kib; print(peak_rss_kib())"],
                         capture_output=True, text=True, check=True).stdout
    assert 0 < int(out) < 150 * 1024
    del ballast
