"""Flow size distributions: their moments over many draws with a fixed seed, the CDF files' quantiles."""

from __future__ import annotations

import random
import statistics

import pytest

from dataplane.net.distributions import (CdfError, Exponential, Fixed, Pareto, Uniform, find_cdf, parse_cdf,
                                         parse_size, shipped_workloads)

N = 40_000


def draws(dist, seed: int = 7, n: int = N) -> list[int]:
    rng = random.Random(seed)
    return [dist.sample(rng) for _ in range(n)]


def test_sizes_are_bytes_with_decimal_and_binary_units():
    assert parse_size(1500) == 1500 and parse_size("100KB") == 100_000 and parse_size("1.5MB") == 1_500_000
    assert parse_size("64KiB") == 65536 and parse_size("1GB") == 1e9 and parse_size("10 b") == 10
    for bad in ("fast", "0", "-5KB", True, "1e30"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_fixed_is_always_the_size():
    assert set(draws(Fixed(100_000), n=100)) == {100_000}


def test_uniform_mean_and_range():
    xs = draws(Uniform(10_000, 1_000_000))
    assert min(xs) >= 10_000 and max(xs) <= 1_000_000
    assert statistics.fmean(xs) == pytest.approx(505_000, rel=0.02)
    # The variance of a uniform on [a, b] is (b - a)^2 / 12.
    assert statistics.pvariance(xs) == pytest.approx(990_000 ** 2 / 12, rel=0.05)


def test_exponential_mean_and_standard_deviation():
    xs = draws(Exponential(100_000))
    assert statistics.fmean(xs) == pytest.approx(100_000, rel=0.02)
    assert statistics.pstdev(xs) == pytest.approx(100_000, rel=0.03)


def test_pareto_has_the_stated_mean_and_its_scale_as_minimum():
    # Shape 2.5 has a finite variance, so the sample mean settles; shape 1.2 (heavy) is checked by its median.
    d = Pareto(100_000, 2.5)
    xs = draws(d, n=100_000)
    assert min(xs) >= round(d.scale) == 60_000
    assert statistics.fmean(xs) == pytest.approx(100_000, rel=0.03)
    heavy = Pareto(100_000, 1.2)
    # The median of a Pareto is x_m 2^(1/a).
    assert statistics.median(draws(heavy)) == pytest.approx(heavy.scale * 2 ** (1 / 1.2), rel=0.03)


def test_the_same_seed_gives_the_same_sizes_and_another_seed_others():
    d = Exponential(50_000)
    assert draws(d, 1, 100) == draws(d, 1, 100)
    assert draws(d, 1, 100) != draws(d, 2, 100)


def test_the_shipped_web_search_cdf_has_its_published_quantiles():
    assert "websearch" in shipped_workloads()
    with open(find_cdf("websearch", "/nowhere/t.yaml")) as f:
        cdf = parse_cdf(f.read(), "websearch")
    # DCTCP's Figure 4: 53% of flows under 80 KB, 90% under 5 MB, none above 30 MB.
    assert cdf.quantile(0.53) == 80_000 and cdf.quantile(0.9) == 5_000_000 and cdf.quantile(1) == 30_000_000
    xs = sorted(draws(cdf))
    for p, size in ((0.15, 10_000), (0.4, 50_000), (0.6, 200_000), (0.8, 2_000_000), (0.97, 10_000_000)):
        assert xs[int(p * len(xs))] == pytest.approx(size, rel=0.08)
    # The mean of the piecewise-linear CDF, segment by segment (each segment's share times its midpoint):
    # 1.71 MB, near the 1.6 MB pFabric quotes for this workload.
    assert cdf.mean == pytest.approx(1_711_250)
    assert 1_711_250 == pytest.approx(0.15 * 5e3 + 0.05 * 15e3 + 0.1 * 25e3 + 0.1 * 40e3 + 0.13 * 65e3 + 0.07 * 140e3 + \
        0.1 * 600e3 + 0.1 * 1.5e6 + 0.1 * 3.5e6 + 0.07 * 7.5e6 + 0.03 * 20e6)
    assert statistics.fmean(xs) == pytest.approx(cdf.mean, rel=0.05)


def test_a_cdf_file_relative_to_the_topology_comes_before_a_shipped_one(tmp_path):
    (tmp_path / "websearch").write_text("100 0\n200 1\n")
    assert find_cdf("websearch", str(tmp_path / "t.yaml")) == str(tmp_path / "websearch")
    assert find_cdf("nothing-here", str(tmp_path / "t.yaml")) is None


@pytest.mark.parametrize("text, message, line", [
    ("100 0\n200\n", "a CDF line is 'size probability'", 2),
    ("100 0\nabc 1\n", "two numbers", 2),
    ("100 0\n200 1.5\n", "not between 0 and 1", 2),
    ("100 0.5\n50 1\n", "must not decrease", 2),
    ("100 0\n200 0.9\n", "the last probability is 0.9, not 1", None),
    ("# only a comment\n", "no points", None)])
def test_bad_cdf_files_name_the_line(text, message, line):
    with pytest.raises(CdfError) as exc:
        parse_cdf(text)
    assert message in str(exc.value) and exc.value.line == line
