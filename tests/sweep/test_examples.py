"""Every shipped sweep runs: each reduced to a few points through the Python API, and one in full."""

from __future__ import annotations

import dataclasses

import pytest

from dataplane.locate import find_sweep, shipped_sweeps
from dataplane.sweep import load_sweep, run_sweep


def test_the_sweeps_we_ship():
    assert shipped_sweeps() == ["routers-ping", "tcp-loss-mtu"]


def _reduced(sweep, keep: int = 2):
    """The sweep with the first and last values of its first parameter and the first of the others."""
    first, *rest = sweep.parameters

    def only(p, indices):
        return dataclasses.replace(p, values=tuple(p.values[i] for i in indices),
                                   texts=tuple(p.texts[i] for i in indices),
                                   locations=tuple(p.locations[i] for i in indices))
    ends = sorted({0, len(first.values) - 1})[:keep]
    return dataclasses.replace(sweep, parameters=[only(first, ends)] + [only(p, [0]) for p in rest])


@pytest.mark.parametrize("name", ["routers-ping", "tcp-loss-mtu"])
def test_each_shipped_sweep_reduced(name):
    sweep = load_sweep(name)
    assert find_sweep(name) == sweep.path
    small = _reduced(sweep)
    outcome = run_sweep(small, workers=0)
    assert outcome.failed == 0 and len(outcome.results) == 2
    for result in outcome.results:
        assert all(v is not None for v in result.values), result


def test_routers_ping_in_full(tmp_path, monkeypatch, capsys):
    from dataplane.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "routers-ping", "--workers", "0"]) == 0
    lines = (tmp_path / "routers-ping.csv").read_text().splitlines()
    assert lines[0].startswith("generate.n,generate.seed,ping.rtt.avg,")
    assert len(lines) == 13
    assert all(line.endswith(",") for line in lines[1:])          # no point failed
