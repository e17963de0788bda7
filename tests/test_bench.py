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
