"""Flow sizes drawn from a distribution, as the data-centre papers' experiments draw them.

A size distribution is written in a traffic pattern as a one-key mapping:

    size: {fixed: 100KB}
    size: {uniform: [10KB, 1MB]}
    size: {exponential: {mean: 100KB}}
    size: {pareto: {mean: 100KB, shape: 1.2}}       # shape > 1 (the mean is infinite otherwise)
    size: {cdf: websearch}                          # a shipped workload, or a file next to the topology

Sizes are bytes: a number, or a number with a unit (B, KB = 1000 bytes, MB, GB; KiB = 1024, MiB, GiB).
An empirical CDF file has one `size probability` line per point, sizes in bytes and cumulative
probabilities rising to 1 (`#` starts a comment), as the workload files of pFabric, Homa and HPCC are
written; a size is drawn by inverting the CDF with linear interpolation between the points. Every
draw is at least 1 byte and a whole number of bytes.

Each distribution draws from a `random.Random` it is given, so that a pattern's own generator (seeded
by the topology's seed) decides every size and nothing else in the run changes them.
"""

from __future__ import annotations

import bisect
import math
import os
import random
import re
from dataclasses import dataclass

WORKLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads")
KINDS = ("fixed", "uniform", "exponential", "pareto", "cdf")
MAX_SIZE = 1 << 40                        # a terabyte: beyond this a typo, not an experiment

_SIZE_UNITS = {"b": 1, "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def parse_size(v) -> float:
    """Bytes, from 1500, 100KB, 1.5MB or 64KiB (decimal units as the papers write flow sizes)."""
    if isinstance(v, bool):
        raise ValueError("a size such as 100KB")
    if isinstance(v, (int, float)):
        n = float(v)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgG]?i?[bB])?\s*", str(v))
        if not m:
            raise ValueError(f"'{v}' is not a size such as 1500, 100KB or 1MB")
        n = float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()]
    if not math.isfinite(n) or n > MAX_SIZE:
        raise ValueError(f"{v} is too large")
    if n < 1:
        raise ValueError(f"{v} is less than one byte")
    return n


class Distribution:
    """Flow sizes in bytes: sample(rng) draws one; mean is the expected size (for the load's arithmetic)."""

    mean: float

    def sample(self, rng: random.Random) -> int:
        return max(1, round(self.draw(rng)))

    def draw(self, rng: random.Random) -> float:
        raise NotImplementedError


@dataclass
class Fixed(Distribution):
    size: float

    @property
    def mean(self) -> float:
        return self.size

    def draw(self, rng: random.Random) -> float:
        return self.size

    def __str__(self) -> str:
        return f"fixed {self.size:g} bytes"


@dataclass
class Uniform(Distribution):
    low: float
    high: float

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def __str__(self) -> str:
        return f"uniform {self.low:g} to {self.high:g} bytes"


@dataclass
class Exponential(Distribution):
    mean: float

    def draw(self, rng: random.Random) -> float:
        return rng.expovariate(1 / self.mean)

    def __str__(self) -> str:
        return f"exponential, mean {self.mean:g} bytes"


@dataclass
class Pareto(Distribution):
    """Pareto with shape a > 1 and scale x_m = mean (a - 1) / a, so that its mean is `mean`."""
    mean: float
    shape: float

    @property
    def scale(self) -> float:
        return self.mean * (self.shape - 1) / self.shape

    def draw(self, rng: random.Random) -> float:
        return self.scale * rng.paretovariate(self.shape)

    def __str__(self) -> str:
        return f"Pareto, mean {self.mean:g} bytes, shape {self.shape:g}"


@dataclass
class Empirical(Distribution):
    """A piecewise-linear CDF through (size, probability) points, probabilities rising to 1."""
    sizes: list[float]
    probabilities: list[float]
    name: str = "cdf"

    @property
    def mean(self) -> float:
        # Uniform within each segment: the mean of a segment is its midpoint.
        total, p0, s0 = 0.0, 0.0, self.sizes[0]
        for s, p in zip(self.sizes, self.probabilities):
            total += (p - p0) * (s + s0) / 2
            p0, s0 = p, s
        return total

    def quantile(self, u: float) -> float:
        i = bisect.bisect_left(self.probabilities, u)
        if i == 0:
            return self.sizes[0]
        if i >= len(self.sizes):
            return self.sizes[-1]
        p0, p1 = self.probabilities[i - 1], self.probabilities[i]
        s0, s1 = self.sizes[i - 1], self.sizes[i]
        return s0 + (s1 - s0) * (u - p0) / (p1 - p0)

    def draw(self, rng: random.Random) -> float:
        return self.quantile(rng.random())

    def __str__(self) -> str:
        return f"the empirical CDF {self.name}"


class CdfError(ValueError):
    """A bad line of a CDF file: `line` is its number (from 1), or None for the file as a whole."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_cdf(text: str, name: str = "cdf") -> Empirical:
    """The points of a CDF file: `size probability` per line, sizes rising, probabilities rising to 1."""
    sizes: list[float] = []
    probs: list[float] = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2:
            raise CdfError("a CDF line is 'size probability'", number)
        try:
            size, p = float(words[0]), float(words[1])
        except ValueError:
            raise CdfError("a CDF line is two numbers: 'size probability'", number) from None
        if not (math.isfinite(size) and 0 <= size <= MAX_SIZE):
            raise CdfError(f"the size {words[0]} is out of range (0 .. {MAX_SIZE} bytes)", number)
        if not 0 <= p <= 1:
            raise CdfError(f"the probability {words[1]} is not between 0 and 1", number)
        if sizes and (size < sizes[-1] or p < probs[-1]):
            raise CdfError("sizes and probabilities must not decrease from line to line", number)
        sizes.append(size)
        probs.append(p)
    if not sizes:
        raise CdfError("the CDF file has no points")
    if probs[-1] != 1:
        raise CdfError(f"the last probability is {probs[-1]:g}, not 1", None)
    return Empirical(sizes, probs, name)


def find_cdf(name: str, relative_to: str) -> str | None:
    """A CDF file: a path relative to the topology file (or absolute), or a shipped workload by name."""
    base = os.path.dirname(os.path.abspath(relative_to))
    candidate = os.path.join(base, name)
    if os.path.isfile(candidate):
        return candidate
    shipped = os.path.join(WORKLOADS, name if name.endswith(".txt") else name + ".txt")
    return shipped if os.path.isfile(shipped) else None


def shipped_workloads() -> list[str]:
    return sorted(f[:-4] for f in os.listdir(WORKLOADS) if f.endswith(".txt"))
