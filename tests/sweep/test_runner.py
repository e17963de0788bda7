"""Running a sweep: in this process, on the embedded cluster, on a cluster whose worker is killed mid-sweep;
the table is byte-identical every time. Ctrl-C keeps what finished and --resume runs only the rest.

The cluster tests share one small LocalCluster (2 workers) per module, except the one that checks the
embedded cluster of `--workers 2` itself."""

from __future__ import annotations

import os
import signal

import pytest

from dataplane.sweep import table
from .sweeplab import LOSSY_LINK
from dataplane.sweep.runner import Interrupted, PointCrashed, run_sweep
from dataplane.sweep.spec import load_sweep_text

SWEEP = f"""\
topology: {LOSSY_LINK}
grid:
  links.r1-r2.loss: [0, 0.02]
  links.r1-r2.mtu: [576, 1500, 99999]
metrics: [tcp.throughput, tcp.retransmissions, drops.link_loss, ping.rtt.avg]
until: 30s
"""

# Slower points (about a second each), so that a worker can be killed while it runs one.
SLOW = f"""\
topology: {LOSSY_LINK}
grid:
  traffic.0.tcp.bytes: [5000000]
  links.r1-r2.loss: [0.001, 0.002, 0.003]
  seed: [1, 2]
metrics: [tcp.throughput, tcp.retransmissions, frames]
"""


def _sweep(tmp_path, text=SWEEP):
    return load_sweep_text(text, "s.yaml")


def _csv(sweep, outcome) -> str:
    return table.render(sweep, outcome.results)


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    """The table of SWEEP run in this process: what every other way of running it must equal."""
    sweep = _sweep(tmp_path_factory.mktemp("seq"))
    outcome = run_sweep(sweep, workers=0)
    assert outcome.computed == 6 and outcome.failed == 2 and outcome.workers == 0
    return _csv(sweep, outcome)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import logging
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as local:
        yield local.scheduler_address


def test_in_this_process(sequential):
    lines = sequential.splitlines()
    assert lines[0] == "links.r1-r2.loss,links.r1-r2.mtu,tcp.throughput,tcp.retransmissions,drops.link_loss," \
                       "ping.rtt.avg,error"
    assert [line.split(",")[:2] for line in lines[1:]] == [["0", "576"], ["0", "1500"], ["0", "99999"],
                                                            ["0.02", "576"], ["0.02", "1500"], ["0.02", "99999"]]
    assert lines[3].endswith(",,,,s.yaml:4:32: error: MTU 99999 is out of range")


def test_the_embedded_cluster_gives_the_same_bytes(tmp_path, sequential):
    sweep = _sweep(tmp_path)
    outcome = run_sweep(sweep, workers=2)
    assert outcome.workers == 2 and outcome.computed == 6
    assert _csv(sweep, outcome) == sequential


def test_a_named_cluster_gives_the_same_bytes_whatever_the_finishing_order(tmp_path, sequential, cluster):
    sweep = _sweep(tmp_path)
    order = []
    outcome = run_sweep(sweep, scheduler=cluster, on_result=lambda result, client: order.append(result.index))
    assert sorted(order) == list(range(6))
    assert [r.index for r in outcome.results] == list(range(6))
    assert _csv(sweep, outcome) == sequential


def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path, cluster):
    sweep = _sweep(tmp_path, SLOW)
    expected = _csv(sweep, run_sweep(sweep, workers=0))
    killed = []

    def kill_a_worker(result, client):
        if not killed:
            pids = client.run(os.getpid)            # {worker address: pid}, the worker processes themselves
            pid = pids[sorted(pids)[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    outcome = run_sweep(sweep, scheduler=cluster, on_result=kill_a_worker)
    assert killed
    assert outcome.computed == 6 and outcome.failed == 0
    assert _csv(sweep, outcome) == expected


def test_resume_after_an_interruption_runs_exactly_the_missing_points(tmp_path, sequential):
    sweep = _sweep(tmp_path)
    cache = str(tmp_path / "r.csv.cache")
    finished = []

    def interrupt_after_two(result, client):
        finished.append(result.index)
        if len(finished) == 2:
            raise KeyboardInterrupt
    with pytest.raises(Interrupted) as info:
        run_sweep(sweep, cache, workers=0, on_result=interrupt_after_two)
    assert (info.value.finished, info.value.total) == (2, 6)
    assert len(os.listdir(cache)) == 2
    ran = []
    outcome = run_sweep(sweep, cache, workers=0, resume=True, on_result=lambda result, client: ran.append(result.index))
    assert (outcome.reused, outcome.computed) == (2, 4)
    assert ran == [2, 3, 4, 5]
    assert _csv(sweep, outcome) == sequential
    again = run_sweep(sweep, cache, workers=0, resume=True)
    assert (again.reused, again.computed) == (6, 0)
    assert _csv(sweep, again) == sequential


def test_resume_on_a_cluster_after_an_interruption(tmp_path, sequential, cluster):
    sweep = _sweep(tmp_path)
    cache = str(tmp_path / "r.csv.cache")

    def interrupt(result, client):
        raise KeyboardInterrupt
    with pytest.raises(Interrupted) as info:
        run_sweep(sweep, cache, scheduler=cluster, on_result=interrupt)
    assert info.value.finished == 1
    outcome = run_sweep(sweep, cache, scheduler=cluster, resume=True)
    assert (outcome.reused, outcome.computed) == (1, 5)
    assert _csv(sweep, outcome) == sequential


def test_without_resume_every_point_runs_again(tmp_path):
    sweep = _sweep(tmp_path, "topology: line\ngrid: {seed: [1, 2]}\nmetrics: [delivered]\n")
    cache = str(tmp_path / "c")
    run_sweep(sweep, cache, workers=0)
    outcome = run_sweep(sweep, cache, workers=0)
    assert (outcome.reused, outcome.computed) == (0, 2)


def test_a_bug_in_a_point_fails_the_sweep_with_the_point(tmp_path, monkeypatch):
    import dataplane.sweep.runner as runner

    def broken(task, files=None):
        raise KeyError("oops")
    monkeypatch.setattr(runner, "run_point", broken)
    sweep = _sweep(tmp_path, "topology: line\ngrid: {seed: [1, 2]}\nmetrics: [delivered]\n")
    with pytest.raises(PointCrashed, match=r"point 1 \(seed=1\) failed: KeyError: 'oops'"):
        run_sweep(sweep, workers=0)


def test_the_progress_line(tmp_path, capsys):
    sweep = _sweep(tmp_path, "topology: line\ngrid: {seed: [1, 2]}\nmetrics: [delivered]\n")
    run_sweep(sweep, workers=0, progress=True)
    err = capsys.readouterr().err
    assert err.endswith("\n")
    last = err.rstrip().split("\r")[-1]
    assert last.startswith("2/2 points, 0 failed, ") and "points/s" in last
    run_sweep(sweep, workers=0, progress=False)
    assert capsys.readouterr().err == ""


def test_the_bench_sweep_has_40_points_that_all_run():
    import os
    from dataplane.bench import BENCHMARKS, SWEEP_BENCH
    from dataplane.locate import find_topology
    from dataplane.sweep import load_sweep_text
    assert "sweep" in BENCHMARKS
    topology = find_topology("lossy-link")
    assert load_sweep_text(SWEEP_BENCH.format(topology=topology), "b.yaml").size == 40


def test_in_this_process_without_distributed_installed(tmp_path, monkeypatch):
    import sys
    from dataplane.diagnostics import DiagnosticError
    monkeypatch.setitem(sys.modules, "distributed", None)         # import distributed fails
    sweep = _sweep(tmp_path, "topology: line\ngrid: {seed: [1]}\nmetrics: [delivered]\n")
    assert run_sweep(sweep, workers=0).computed == 1
    with pytest.raises(DiagnosticError, match=r"pip install 'dataplane\[cluster\]'"):
        run_sweep(sweep, workers=2)
