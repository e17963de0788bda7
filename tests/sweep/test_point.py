"""A point runs what `dataplane run TOPO --set P=V ... --until T` runs: its metrics equal those of that run's
--json; its user errors become the row's error text; anything else fails loudly."""

from __future__ import annotations

import json

import pytest

from dataplane.cli import main
from .sweeplab import LOSSY_LINK
from dataplane.net import generate
from dataplane.sweep import metrics
from dataplane.sweep.point import make_tasks, run_point
from dataplane.sweep.spec import load_sweep_text

ALL = list(metrics.METRICS)


def _cli_metrics(tmp_path, topology: str, settings: list[str], until: str | None, names) -> tuple:
    out = tmp_path / "run.json"
    argv = ["run", topology, "--json", str(out), "--no-progress"] + [a for s in settings for a in ("--set", s)]
    if until:
        argv += ["--until", until]
    main(argv)
    return metrics.compute(json.loads(out.read_text()), names)


def test_every_row_equals_dataplane_run_of_that_point_alone(tmp_path, capsys):
    names = ",".join(ALL)
    sweep = load_sweep_text(f"topology: {LOSSY_LINK}\ngrid:\n  links.r1-r2.loss: [0.02]\n  links.r1-r2.mtu: [576, 1500]\n"
                            f"  seed: [2]\nmetrics: [{names}]\nuntil: 30s\n", str(tmp_path / "s.yaml"))
    tasks = make_tasks(sweep)
    assert len(tasks) == 2
    for task, mtu in zip(tasks, ("576", "1500")):
        result = run_point(task)
        assert result.error is None
        expected = _cli_metrics(tmp_path, LOSSY_LINK,
                                ["links.r1-r2.loss=0.02", f"links.r1-r2.mtu={mtu}", "seed=2"], "30s", ALL)
        assert result.values == expected
        assert result.values[ALL.index("tcp.completed")] == 1
        assert result.values[ALL.index("drops.link_loss")] > 0


def test_a_generated_point_equals_running_the_generated_file(tmp_path, capsys):
    names = ",".join(ALL)
    sweep = load_sweep_text(f"generate: {{kind: routers, hosts: 2}}\ngrid:\n  generate.n: [12]\n  generate.seed: [3]\n"
                            f"  defaults.link.latency: [2ms]\nmetrics: [{names}]\n", str(tmp_path / "s.yaml"))
    (result,) = [run_point(t) for t in make_tasks(sweep)]
    topology = tmp_path / "gen.yaml"
    topology.write_text(generate.routers(n=12, seed=3, hosts=2))
    assert result.error is None
    assert result.values == _cli_metrics(tmp_path, str(topology), ["defaults.link.latency=2ms"], None, ALL)
    assert result.values[ALL.index("ping.received")] == 3


def test_an_impossible_value_is_the_rows_error_located_in_the_sweep_file(tmp_path):
    sweep = load_sweep_text("topology: line\ngrid:\n  links.r2-r3.mtu: [1280, 99999]\nmetrics: [delivered]\n",
                            "s.yaml")
    good, bad = [run_point(t) for t in make_tasks(sweep)]
    assert good.error is None and good.values[0] > 0
    assert bad.error == "s.yaml:3:27: error: MTU 99999 is out of range"
    assert bad.values == (None,)


def test_an_impossible_generator_argument_is_the_rows_error(tmp_path):
    sweep = load_sweep_text("generate: {kind: routers, hosts: 2}\ngrid:\n  generate.n: [5, 2]\n"
                            "metrics: [delivered]\n", "s.yaml")
    good, bad = [run_point(t) for t in make_tasks(sweep)]
    assert good.error is None
    assert bad.error == "s.yaml:1:11: error: generate: at least 3 routers"


def test_a_setting_the_topology_refuses_is_located_at_the_grid_value(tmp_path):
    sweep = load_sweep_text("topology: line\ngrid:\n  defaults.link.loss: [2]\nmetrics: [delivered]\n", "s.yaml")
    (bad,) = [run_point(t) for t in make_tasks(sweep)]
    assert bad.error == "s.yaml:3:24: error: loss 2.0 must be in [0, 1)"


def test_a_bug_in_a_point_is_raised_not_tabulated(tmp_path, monkeypatch):
    import dataplane.net.commands as commands

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(commands, "simulate", broken)
    sweep = load_sweep_text("topology: line\ngrid: {seed: [1]}\n", "s.yaml")
    with pytest.raises(ZeroDivisionError):
        run_point(make_tasks(sweep)[0])


def test_keys_cover_the_values_the_files_and_the_version(tmp_path, monkeypatch):
    import dataclasses
    import dataplane.sweep.point as point
    sweep = load_sweep_text("topology: line\ngrid: {seed: [1, 2, 1]}\n", "s.yaml")
    files = point.sweep_files(sweep)
    assert files.topology == "line" and files.shipped      # shipped: by name, their texts in the digest
    keys = [t.key for t in make_tasks(sweep, bundle=files)]
    assert keys == [t.key for t in make_tasks(sweep)]
    assert keys[0] == keys[2] != keys[1]
    changed = dataclasses.replace(files, digest="another file's text")
    assert make_tasks(sweep, bundle=changed)[0].key != keys[0]
    monkeypatch.setattr(point, "__version__", "0.0.0-other")
    assert make_tasks(sweep, bundle=files)[0].key != keys[0]


def test_tasks_and_results_pickle(tmp_path):
    import pickle
    sweep = load_sweep_text("topology: line\ngrid: {seed: [1]}\nmetrics: [delivered]\n", "s.yaml")
    task = make_tasks(sweep)[0]
    assert pickle.loads(pickle.dumps(task)) == task
    result = run_point(task)
    assert pickle.loads(pickle.dumps(result)) == result


def test_a_generated_sweeps_keys_cover_its_programs():
    import dataplane.sweep.point as point
    sweep = load_sweep_text("generate: {kind: routers, hosts: 2}\ngrid:\n  generate.n: [5, 6]\n", "s.yaml")
    files = point.input_files(sweep)
    assert any(path.endswith("ipv4_router.p4") for path in files)
    tasks = make_tasks(sweep, files)
    assert tasks[0].key != tasks[1].key
    assert make_tasks(sweep, {})[0].key != tasks[0].key


def test_points_run_from_the_files_that_travelled_with_them(tmp_path):
    """sweep_files() on the client, then the experiment directory moved away: the points run from the
    bundle alone (as on a worker without the client's file system) and their rows are those of the original
    place; a point's error names the client's paths."""
    from .test_bundle import experiment
    from dataplane.sweep.point import sweep_files
    topology = experiment(tmp_path / "exp")
    text = (f"topology: {topology}\ngrid:\n  nodes.s1.program: [../p4/fwd.p4, ../p4/missing.p4]\n"
            "  defaults.link.latency: [1ms, 2ms]\nmetrics: [delivered, ping.rtt.avg, ping.received]\n")
    sweep = load_sweep_text(text, str(tmp_path / "s.yaml"))
    files = sweep_files(sweep)
    tasks = make_tasks(sweep, bundle=files)
    here = [run_point(t, files) for t in tasks]
    (tmp_path / "exp").rename(tmp_path / "moved")
    elsewhere = [run_point(t, files) for t in tasks]
    assert elsewhere == here
    assert [r.values[2] for r in here] == [2, 2, None, None]
    assert here[0].values[1] < here[1].values[1]                 # 2 ms links: a longer RTT
    assert here[2].error == f"{tmp_path / 's.yaml'}:3:36: error: cannot find program '../p4/missing.p4'"
