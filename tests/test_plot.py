"""`dataplane plot` (dataplane/plot.py): what is drawn from a run's results, and the SVG files."""

from __future__ import annotations

import json
import sys

import pytest

from dataplane import plot
from dataplane.cli import main
from dataplane.net.network import Network
from dataplane.net.rundata import Recorder, collect, write_json
from dataplane.net.topology import load_topology_text

TOPOLOGY = """\
name: plot
defaults:
  link: {latency: 1ms, bandwidth: 10Mbps, queue: 10}
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.1/24}}}
  r1:
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.1.254/24}
      eth2: {ipv4: 10.0.2.254/24}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.2/24}}}
links:
  - [h1:eth0, r1:eth1]
  - {ends: [r1:eth2, h2:eth0], bandwidth: 2Mbps}
traffic:
  - {at: 0, tcp: {from: h1, to: h2, bytes: 60000}}
  - {at: 0, tcp: {from: h1, to: h2, bytes: 20000, port: 5002}}
  - {at: 0, ping: {from: h1, to: h2, count: 2, interval: 50ms}}
"""


def results(interval_ns: int | None = 10_000_000) -> dict:
    net = Network(load_topology_text(TOPOLOGY))
    apps = net.schedule_traffic()
    rec = Recorder(net, apps, interval_ns)
    net.run()
    return json.loads(json.dumps(collect(net, apps, rec)))


@pytest.fixture(scope="module")
def data():
    return results()


@pytest.fixture
def results_file(tmp_path, data):
    path = tmp_path / "run.json"
    write_json(data, str(path))
    return path


def test_the_figures_of_a_run_with_series(data):
    specs = {s.file: s for s in plot.figures(data)}
    assert list(specs) == ["throughput.svg", "cwnd.svg", "queue.svg", "rtt_cdf.svg", "fct.svg"]
    tput = specs["throughput.svg"]
    assert [l.label for l in tput.lines] == ["tcp1 h1->h2 (cubic)", "tcp2 h1->h2 (cubic)"]
    assert tput.lines[0].x == data["series"]["time_s"]
    assert tput.lines[0].y[3] == pytest.approx(data["series"]["flows"]["tcp1"]["throughput_bps"][3] / 1e6)
    # Only link directions that queued something.
    queued = [l.label for l in specs["queue.svg"].lines]
    assert "r1-h2:r1->h2" in queued and "r1-h2:h2->r1" not in queued
    assert queued == [lid for lid, s in data["series"]["links"].items() if max(s["queue_frames"]) > 0]
    cdf = specs["rtt_cdf.svg"]
    assert [l.label for l in cdf.lines][-1] == "pings" and all(l.step for l in cdf.lines)
    fct = specs["fct.svg"].lines[0]
    assert fct.points and fct.x == [60000, 20000]
    assert fct.y == [f["fct_s"] * 1e3 for f in data["flows"]]


def test_without_series_only_the_rtt_cdf_and_fct():
    specs = plot.figures(results(None))
    assert [s.file for s in specs] == ["rtt_cdf.svg", "fct.svg"]


def test_cdf():
    assert plot.cdf([0.003, 0.001, 0.002], 1e3) == ([1.0, 2.0, 3.0], [1 / 3, 2 / 3, 1.0])


def test_a_file_that_is_not_results_is_a_one_line_error(tmp_path, capsys):
    f = tmp_path / "other.json"
    f.write_text('{"name": "x"}')
    assert main(["plot", str(f), "--out", str(tmp_path / "figs")]) == 1
    assert capsys.readouterr().err == (f"error: {f} is not the results of a run (schema dataplane-run/1); write "
                                       f"one with dataplane run TOPOLOGY --json FILE\n")


def test_bad_json_is_located(tmp_path, capsys):
    f = tmp_path / "bad.json"
    f.write_text('{"schema": ')
    assert main(["plot", str(f), "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith(f"{f}:1:12: error: invalid JSON: unexpected end of file")


def test_without_matplotlib_plot_says_how_to_install_it(results_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)        # import matplotlib raises ImportError
    assert main(["plot", str(results_file), "--out", str(tmp_path / "figs")]) == 1
    assert capsys.readouterr().err == ("error: dataplane plot needs matplotlib: pip install 'dataplane[plot]' "
                                       "(or pip install matplotlib)\n")


def test_plot_writes_svg_files_byte_identical_each_time(results_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for out in ("a", "b"):
        assert main(["plot", str(results_file), "--out", str(tmp_path / out)]) == 0
    printed = capsys.readouterr().out
    files = ["throughput.svg", "cwnd.svg", "queue.svg", "rtt_cdf.svg", "fct.svg"]
    assert printed.count("wrote ") == 2 * len(files)
    for name in files:
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b and a.lstrip().startswith(b"<?xml") and b"<svg" in a
        assert b"<dc:date>" not in a


def test_plot_without_series_says_how_to_get_them(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    f = tmp_path / "run.json"
    write_json(results(None), str(f))
    assert main(["plot", str(f), "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    assert out.endswith("no time series in the results (throughput, cwnd, queues): run with --interval 10ms to "
                        "get them\n")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["fct.svg", "rtt_cdf.svg"]
