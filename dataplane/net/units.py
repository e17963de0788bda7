"""Rates and durations as people write them: the unit chosen by the size of the value.

A slow flow is "850 kbit/s", not "0.00 Mbit/s"; a link latency is "250 us", not "0.00025 s".
"""

from __future__ import annotations


def format_rate(bps: float, digits: int = 3) -> str:
    """Bits per second with `digits` significant digits: 1.5 Gbit/s, 12.3 Mbit/s, 850 kbit/s, 40 bit/s."""
    bps = float(f"{bps:.{digits}g}")           # rounded first, so 999.9 bit/s is 1 kbit/s, not 1e+03 bit/s
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.{digits}g} {unit}"
    return f"{bps:.{digits}g} bit/s"


def format_duration(ns: int) -> str:
    """Nanoseconds in the largest unit that is at least 1: 3 s, 1.5 ms, 250 us, 40 ns; 0 is 0 s."""
    for unit, scale in (("s", 10 ** 9), ("ms", 10 ** 6), ("us", 10 ** 3)):
        if ns >= scale:
            return f"{ns / scale:g} {unit}"
    return f"{ns} ns" if ns else "0 s"
