"""`dataplane sweep` on the command line: the table and the summary, errors, Ctrl-C and --resume, a bug in a
point, --list-metrics, --plot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dataplane.cli import main

SWEEP = "topology: line\ngrid:\n  seed: [1, 2]\n  links.r2-r3.mtu: [1280, 99999]\nmetrics: [delivered, ping.rtt.avg]\n"


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(SWEEP)
    return tmp_path


def test_a_sweep_in_this_process(here, capsys):
    assert main(["sweep", "s.yaml", "--workers", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "4 points: 2 ok, 2 failed; table: s.csv"
    assert out[1].startswith("4 points computed in this process in ")
    lines = Path("s.csv").read_text().splitlines()
    assert lines[0] == "seed,links.r2-r3.mtu,delivered,ping.rtt.avg,error"
    assert lines[2] == "1,99999,,,s.yaml:4:27: error: MTU 99999 is out of range"
    assert len(lines) == 5


def test_list_metrics(capsys):
    assert main(["sweep", "--list-metrics"]) == 0
    out = capsys.readouterr().out
    assert "tcp.retransmissions" in out and "drops.link_loss" in out


def test_a_bad_sweep_file_is_a_located_error(here, capsys):
    Path("bad.yaml").write_text("topology: line\ngrid: {}\n")
    assert main(["sweep", "bad.yaml", "--workers", "0"]) == 1
    assert capsys.readouterr().err.startswith("bad.yaml:2:7: error: the grid is empty")
    assert main(["sweep", "missing.yaml"]) == 1
    assert "no sweep 'missing.yaml'" in capsys.readouterr().err
    assert main(["sweep", "s.yaml", "--workers", "-1"]) == 1


def test_ctrl_c_keeps_what_finished_and_resume_runs_the_rest(here, capsys, monkeypatch):
    import dataplane.sweep.runner as runner
    real = runner.run_point
    calls = []

    def interrupted_at_the_third(task, files=None):
        calls.append(task.index)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task, files)
    monkeypatch.setattr(runner, "run_point", interrupted_at_the_third)
    assert main(["sweep", "s.yaml", "--workers", "0"]) == 130
    err = capsys.readouterr().err
    assert err == ("interrupted: 2 of 4 points finished and are kept in s.csv.cache; run the same command with "
                   "--resume to finish\n")
    assert not Path("s.csv").exists()
    monkeypatch.setattr(runner, "run_point", real)
    assert main(["sweep", "s.yaml", "--workers", "0", "--resume"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "2 points reused from the cache, 2 computed"
    resumed = Path("s.csv").read_bytes()
    assert main(["sweep", "s.yaml", "--workers", "0", "--out", "fresh.csv"]) == 0
    assert Path("fresh.csv").read_bytes() == resumed


def test_a_bug_in_a_point_is_an_internal_error_naming_the_point(here, capsys, monkeypatch):
    import dataplane.sweep.runner as runner

    def broken(task, files=None):
        raise RuntimeError("boom")
    monkeypatch.setattr(runner, "run_point", broken)
    assert main(["sweep", "s.yaml", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dataplane: internal error: point 1 (seed=1, links.r2-r3.mtu=1280) failed: "
                          "RuntimeError: boom\n")
    assert not Path("s.csv").exists()


def test_plot_writes_a_figure_per_metric_from_the_rows(here, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    import dataplane.sweep.plots as plots
    seen = {}
    real = plots.write_plots

    def write_plots(directory, parameters, metrics, rows, notes=None):
        seen.update(parameters=parameters, metrics=metrics, rows=rows)
        return real(directory, parameters, metrics, rows, notes)
    monkeypatch.setattr(plots, "write_plots", write_plots)
    Path("s.yaml").write_text(SWEEP.replace("ping.rtt.avg]", "ping.rtt.avg, tcp.fct]"))
    assert main(["sweep", "s.yaml", "--workers", "0", "--plot", "figs"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "plots: 3 files in figs"
    assert sorted(p.name for p in Path("figs").iterdir()) == ["delivered.svg", "ping.rtt.avg.svg", "tcp.fct.svg"]
    assert seen["parameters"] == ["seed", "links.r2-r3.mtu"]
    assert [row["links.r2-r3.mtu"] for row in seen["rows"]] == [1280, 99999, 1280, 99999]
    assert seen["rows"][1]["error"] == "s.yaml:4:27: error: MTU 99999 is out of range"
    assert seen["rows"][0]["error"] is None and seen["rows"][0]["delivered"] > 0


def test_plot_without_matplotlib_is_refused_before_the_sweep_runs(here, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)          # import matplotlib fails
    assert main(["sweep", "s.yaml", "--workers", "0", "--plot", "figs"]) == 1
    assert "pip install 'dataplane[plot]'" in capsys.readouterr().err
    assert not Path("s.csv").exists()


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    out = capsys.readouterr().out
    for option in ("--out", "--workers", "--scheduler", "--resume", "--plot", "--progress", "--list-metrics"):
        assert option in out


def test_a_real_ctrl_c_stops_the_embedded_cluster_cleanly(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it: one line, no worker's traceback, exit 130."""
    import os
    import signal
    import subprocess
    import time
    pytest.importorskip("distributed")
    from .sweeplab import LOSSY_LINK
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "slow.yaml").write_text(f"topology: {LOSSY_LINK}\ngrid:\n  traffic.0.tcp.bytes: [5000000]\n"
                                        f"  seed: [1, 2, 3, 4, 5, 6, 7, 8]\nmetrics: [frames]\n")
    env = dict(os.environ, PYTHONPATH=str(root))
    process = subprocess.Popen([sys.executable, "-m", "dataplane", "sweep", "slow.yaml", "--workers", "2"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        cache = tmp_path / "slow.csv.cache"
        while not (cache.is_dir() and any(cache.glob("*.json"))):
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    finished = len(list(cache.glob("*.json")))
    assert err.strip().splitlines()[-1] == (f"interrupted: {finished} of 8 points finished and are kept in "
                                            f"slow.csv.cache; run the same command with --resume to finish")
    assert not (tmp_path / "slow.csv").exists()
