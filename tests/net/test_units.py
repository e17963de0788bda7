"""Rates and durations in the unit their size calls for (dataplane/net/units.py)."""

from __future__ import annotations

import pytest

from dataplane.net.units import format_duration, format_rate


@pytest.mark.parametrize("bps, text", [(1.5e9, "1.5 Gbit/s"), (12_345_678, "12.3 Mbit/s"), (850_000, "850 kbit/s"),
                                       (40, "40 bit/s"), (0, "0 bit/s"), (999.9, "1 kbit/s"), (999_999_999, "1 Gbit/s")])
def test_format_rate(bps, text):
    assert format_rate(bps) == text


def test_format_rate_never_prints_zero_for_a_slow_flow():
    assert format_rate(3_000) == "3 kbit/s"          # was "0.00 Mbit/s"


@pytest.mark.parametrize("ns, text", [(0, "0 s"), (40, "40 ns"), (250_000, "250 us"), (1_500_000, "1.5 ms"),
                                      (3 * 10 ** 9, "3 s")])
def test_format_duration(ns, text):
    assert format_duration(ns) == text
