"""Sweep metrics from a run's data object: each figure, the unknown ones empty, the listing."""

from __future__ import annotations

import math

import pytest

from dataplane.runtime.trace import DropReason
from dataplane.sweep import metrics


def _data(flows=(), pings=(), apps=(), drops=None):
    return {"time_s": 12.5, "apps": list(apps), "flows": list(flows), "pings": list(pings),
            "summary": {"events": 100, "frames": {"transmitted": 40, "link_drops": 3},
                        "fates": {"forwarded": 20, "delivered": 10, "consumed": 2, "dropped": 5},
                        "drops": drops or {}}}


def _flow(goodput, fct, retransmissions=0, timeouts=0):
    return {"goodput_bps": goodput, "fct_s": fct, "retransmissions": retransmissions, "timeouts": timeouts}


def _ping(transmitted, received, rtts):
    return {"transmitted": transmitted, "received": received, "rtt_s": list(rtts)}


def test_the_summary_figures():
    data = _data(drops={"link_loss": 3, "ttl_exceeded": 1})
    names = ["time_s", "events", "frames", "link_drops", "forwarded", "delivered", "consumed", "dropped",
             "drops.link_loss", "drops.ttl_exceeded", "drops.no_route"]
    assert metrics.compute(data, names) == (12.5, 100, 40, 3, 20, 10, 2, 5, 3, 1, 0)


def test_tcp_figures_are_means_and_sums_over_the_flows():
    data = _data(flows=[_flow(8e6, 0.2, 3, 1), _flow(4e6, 0.4, 5, 0), _flow(None, None, 7, 2)])
    names = ["tcp.throughput", "tcp.fct", "tcp.retransmissions", "tcp.timeouts", "tcp.completed"]
    assert metrics.compute(data, names) == (6e6, pytest.approx(0.3), 15, 3, 2)


def test_tcp_figures_without_flows_are_unknown():
    names = ["tcp.throughput", "tcp.fct", "tcp.retransmissions", "tcp.timeouts", "tcp.completed"]
    assert metrics.compute(_data(), names) == (None,) * 5
    assert metrics.compute(_data(flows=[_flow(None, None, 4)]), names) == (None, None, 4, 0, 0)


def test_ping_figures_pool_every_pings_samples():
    data = _data(pings=[_ping(3, 2, [0.001, 0.003]), _ping(2, 2, [0.002, 0.002])],
                 apps=[{"kind": "pingall", "sent": 5, "received": 3}])
    names = ["ping.transmitted", "ping.received", "ping.loss", "ping.rtt.min", "ping.rtt.avg", "ping.rtt.max",
             "ping.rtt.mdev"]
    values = metrics.compute(data, names)
    assert values[:3] == (10, 7, pytest.approx(0.3))
    assert values[3:6] == (0.001, pytest.approx(0.002), 0.003)
    assert values[6] == pytest.approx(math.sqrt(0.5e-6))


def test_ping_figures_without_pings_are_unknown():
    names = ["ping.transmitted", "ping.received", "ping.loss", "ping.rtt.min", "ping.rtt.avg", "ping.rtt.max",
             "ping.rtt.mdev"]
    assert metrics.compute(_data(), names) == (None,) * 7
    lost = metrics.compute(_data(pings=[_ping(4, 0, [])]), names)
    assert lost == (4, 0, 1.0, None, None, None, None)


def test_every_drop_reason_is_a_metric_and_every_metric_is_listed():
    assert {f"drops.{r.name.lower()}" for r in DropReason} <= set(metrics.METRICS)
    listing = metrics.listing().splitlines()
    assert len(listing) == len(metrics.METRICS)
    assert any(line.startswith("tcp.throughput") and "bit/s" in line and "mean over the flows" in line
               for line in listing)
    assert all(m.unit and m.description for m in metrics.METRICS.values())
    assert set(metrics.DEFAULT) <= set(metrics.METRICS)
