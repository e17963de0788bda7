"""The sweep's figures (dataplane/sweep/plots.py): what is drawn from a sweep's rows, and the SVG files."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.sweep import plots

SEEDS = (1, 2, 3)
LOSSES = (0.05, 0, 0.01)          # not sorted: a numeric axis sorts them
MTUS = (1500, 576)
TWO = ["seed", "defaults.link.loss", "links.r1-r2.mtu"]
METRICS = ["tcp.throughput", "ping.rtt.avg", "delivered"]


def throughput(seed, loss, mtu):
    return (1 - loss) * mtu * 1000 * seed           # bit/s


def grid(failed=()):
    """A 2-parameter grid with seeds, in grid order; the points in failed get an error and no metric values."""
    rows = []
    for seed in SEEDS:
        for loss in LOSSES:
            for mtu in MTUS:
                bad = (seed, loss, mtu) in failed
                rows.append({"seed": seed, "defaults.link.loss": loss, "links.r1-r2.mtu": mtu,
                             "tcp.throughput": None if bad else throughput(seed, loss, mtu),
                             "ping.rtt.avg": None if bad else 0.001 * seed + loss,
                             "delivered": None if bad else 10 * seed,
                             "error": "links.r1-r2.mtu: too small" if bad else None})
    return rows


def line(figure, label):
    (found,) = [s for s in figure.lines if s.label == label]
    return found


def svg_texts(path) -> list[str]:
    """The texts of an SVG written by matplotlib (glyphs are paths; each text is in a comment before them)."""
    with open(path, encoding="utf-8") as f:
        body = f.read()
    ET.fromstring(body.encode())                      # well-formed XML, whatever the values were
    return [part.split(" -->")[0] for part in body.split("<!-- ")[1:]]


# ---------------------------------------------------------------------------- what is drawn


def test_two_parameters_with_seeds_mean_and_spread_over_the_seeds():
    result = plots.plan(TWO, METRICS, grid())
    assert result.notes == []
    assert [f.file for f in result.figures] == ["tcp.throughput.svg", "ping.rtt.avg.svg", "delivered.svg"]
    tput = result.figures[0]
    assert tput.title == "tcp.throughput vs defaults.link.loss"
    assert (tput.xlabel, tput.ylabel) == ("defaults.link.loss", "tcp.throughput (Mbit/s)")
    assert tput.categories is None and tput.caption == []
    assert tput.spread == "mean of 3 seeds, bars: min to max"
    assert [s.label for s in tput.lines] == ["mtu = 576", "mtu = 1500"]        # numbers: sorted
    mtu576 = line(tput, "mtu = 576")
    assert mtu576.x == [0, 0.01, 0.05]
    assert mtu576.samples == [3, 3, 3]
    assert mtu576.mean == pytest.approx([throughput(2, loss, 576) / 1e6 for loss in (0, 0.01, 0.05)])
    assert mtu576.low == pytest.approx([throughput(1, loss, 576) / 1e6 for loss in (0, 0.01, 0.05)])
    assert mtu576.high == pytest.approx([throughput(3, loss, 576) / 1e6 for loss in (0, 0.01, 0.05)])
    rtt = result.figures[1]
    assert rtt.ylabel == "ping.rtt.avg (ms)"
    assert line(rtt, "mtu = 1500").mean == pytest.approx([2, 12, 52])          # ms
    assert line(rtt, "mtu = 1500").low == pytest.approx([1, 11, 51])
    assert result.figures[2].ylabel == "delivered"                             # no unit known: as it is


def test_one_parameter_without_seeds_is_one_line_without_bars():
    rows = [{"defaults.link.latency": lat, "ping.loss": 0.25 * i, "error": None}
            for i, lat in enumerate([4, 1, 2])]
    (figure,) = plots.plan(["defaults.link.latency"], ["ping.loss"], rows).figures
    assert figure.file == "ping.loss.svg" and figure.spread is None
    assert figure.ylabel == "ping.loss (%)"
    (only,) = figure.lines
    assert only.label == "ping.loss"
    assert (only.x, only.mean, only.samples) == ([1, 2, 4], [25.0, 50.0, 0.0], [1, 1, 1])
    assert only.low == only.mean == only.high


def test_seeds_alone_are_plotted_against_the_seed():
    rows = [{"generate.seed": s, "delivered": s * 2, "error": None} for s in (3, 1, 2)]
    (figure,) = plots.plan(["generate.seed"], ["delivered"], rows).figures
    assert figure.spread is None and figure.xlabel == "generate.seed"
    assert (figure.lines[0].x, figure.lines[0].mean) == ([1, 2, 3], [2.0, 4.0, 6.0])


def test_three_parameters_one_figure_per_value_of_the_third():
    rows = [{"seed": seed, "defaults.link.loss": loss, "links.r1-r2.mtu": mtu, "defaults.link.latency": lat,
             "tcp.throughput": throughput(seed, loss, mtu) * (2 if lat == "5ms" else 1), "error": None}
            for lat in ("5ms", "20ms") for seed in (1, 2) for loss in (0, 0.01) for mtu in (576, 1500)]
    params = ["defaults.link.latency", "seed", "defaults.link.loss", "links.r1-r2.mtu"]
    figures = plots.plan(params, ["tcp.throughput"], rows).figures
    # The first non-seed parameter is x, the second makes the lines, the third one figure per value.
    assert [f.file for f in figures] == ["tcp.throughput--mtu=576.svg", "tcp.throughput--mtu=1500.svg"]
    assert [f.title for f in figures] == ["tcp.throughput vs defaults.link.latency (mtu = 576)",
                                          "tcp.throughput vs defaults.link.latency (mtu = 1500)"]
    assert figures[0].categories == ["5ms", "20ms"]                 # text: categories in grid order
    assert [s.label for s in figures[0].lines] == ["loss = 0", "loss = 0.01"]
    assert line(figures[1], "loss = 0").mean == pytest.approx([2 * 1.5 * 1500e3 / 1e6, 1.5 * 1500e3 / 1e6])


def test_four_parameters_name_every_further_one():
    rows = [{"a": a, "b": b, "c": c, "d": d, "m": 1, "error": None}
            for a in (1, 2) for b in (1, 2) for c in ("x", "y") for d in (10, 20)]
    figures = plots.plan(["a", "b", "c", "d"], ["m"], rows).figures
    assert [f.file for f in figures] == ["m--c=x--d=10.svg", "m--c=x--d=20.svg", "m--c=y--d=10.svg",
                                         "m--c=y--d=20.svg"]
    assert figures[1].title == "m vs a (c = x, d = 20)"


def test_text_parameters_are_categories_in_grid_order():
    rows = [{"topology": topo, "defaults.link.latency": lat, "delivered": i, "error": None}
            for i, (topo, lat) in enumerate((t, lat) for t in ("ring", "dumbbell", "line") for lat in ("10ms", "1ms"))]
    (figure,) = plots.plan(["topology", "defaults.link.latency"], ["delivered"], rows).figures
    assert figure.categories == ["ring", "dumbbell", "line"]
    assert [s.label for s in figure.lines] == ["latency = 10ms", "latency = 1ms"]      # text: grid order
    assert line(figure, "latency = 1ms").x == ["ring", "dumbbell", "line"]
    assert line(figure, "latency = 1ms").mean == [1.0, 3.0, 5.0]


def test_mixed_numbers_and_text_are_categories():
    rows = [{"p": v, "m": i, "error": None}
            for i, v in enumerate([10, "auto", 2.5, True, None, float("inf"), {"b": 1, "a": [2]}])]
    (figure,) = plots.plan(["p"], ["m"], rows).figures
    assert figure.categories == ["10", "auto", "2.5", "true", "null", "inf", '{"a":[2],"b":1}']
    assert figure.lines[0].x == figure.categories


def test_numpy_numbers_are_numbers():
    np = pytest.importorskip("numpy")
    rows = [{"p": np.float64(v), "m": np.int64(i), "error": None} for i, v in enumerate([0.5, 0.25])]
    (figure,) = plots.plan(["p", "q"], ["m"], [dict(r, q=np.float64(0.125)) for r in rows]).figures
    assert figure.categories is None and figure.lines[0].x == [0.25, 0.5]
    assert figure.lines[0].label == "q = 0.125" and figure.lines[0].mean == [1.0, 0.0]


def test_one_seed_is_no_spread():
    rows = [{"seed": 7, "a": a, "m": a, "error": None} for a in (1, 2)]
    (figure,) = plots.plan(["seed", "a"], ["m"], rows).figures
    assert figure.spread is None and figure.lines[0].mean == [1.0, 2.0]


def test_failed_points_are_left_out_and_counted():
    failed = {(2, 0, 576), (3, 0, 576), (1, 0.05, 1500)}
    tput = plots.plan(TWO, ["tcp.throughput"], grid(failed)).figures[0]
    assert tput.caption == ["3 of 18 points failed and are left out"]
    mtu576 = line(tput, "mtu = 576")
    assert mtu576.samples == [1, 3, 3]
    assert mtu576.mean[0] == pytest.approx(throughput(1, 0, 576) / 1e6)
    assert line(tput, "mtu = 1500").samples == [3, 3, 2]
    # A failed row's values are not used even when it has some.
    rows = grid({(1, 0, 576)})
    rows[0]["tcp.throughput"] = 1e12
    assert line(plots.plan(TWO, ["tcp.throughput"], rows).figures[0], "mtu = 576").high[0] < 1e6


def test_failed_points_are_counted_per_figure_and_missing_values_too():
    rows = [{"a": a, "b": 0, "c": c, "m": None if (a, c) == (1, "y") else 1,
             "error": "boom" if (a, c) == (2, "x") else None}
            for a in (1, 2, 3) for c in ("x", "y")]
    x, y = plots.plan(["a", "b", "c"], ["m"], rows).figures
    assert x.caption == ["1 of 3 points failed and is left out"]
    assert y.caption == ["1 point has no value"]


def test_a_metric_without_values_gets_no_figure_and_a_note():
    rows = grid({(1, 0, 576)})
    for r in rows:
        r["tcp.fct"] = None
        r["tcp.retransmissions"] = "n/a"          # not a number: not a value
    result = plots.plan(TWO, ["tcp.fct", "delivered", "tcp.retransmissions"], rows)
    assert [f.file for f in result.figures] == ["delivered.svg"]
    assert result.notes == ["no point has a value for tcp.fct: no figure",
                            "no point has a value for tcp.retransmissions: no figure"]


def test_a_combination_without_values_gets_no_figure_and_a_note():
    rows = [{"a": a, "b": 1, "c": c, "m": None if c == "y" else a, "error": None} for a in (1, 2) for c in ("x", "y")]
    result = plots.plan(["a", "b", "c"], ["m"], rows)
    assert [f.file for f in result.figures] == ["m--c=x.svg"]
    assert result.notes == ["no point with c = y has a value for m: no figure"]


def test_every_point_failed():
    result = plots.plan(TWO, ["delivered"], grid({(s, l, m) for s in SEEDS for l in LOSSES for m in MTUS}))
    assert result.figures == [] and result.notes == ["no point has a value for delivered: no figure"]


def test_short_names_are_the_shortest_unambiguous_suffix():
    assert plots.short_names(["seed", "generate.seed", "defaults.link.loss", "links.r1-r2.mtu",
                              "links.r3-r4.mtu", "generate.n"]) == {
        "seed": "seed", "generate.seed": "generate.seed", "defaults.link.loss": "loss",
        "links.r1-r2.mtu": "r1-r2.mtu", "links.r3-r4.mtu": "r3-r4.mtu", "generate.n": "n"}


def test_units():
    assert plots.unit_of("tcp.throughput") == ("Mbit/s", 1e-6)
    assert plots.unit_of("ping.rtt.max") == ("ms", 1e3)
    assert plots.unit_of("tcp.rtt") == ("ms", 1e3)
    assert plots.unit_of("tcp.fct") == ("s", 1.0)
    assert plots.unit_of("ping.loss") == ("%", 100.0)
    assert plots.unit_of("drops.ttl_expired") == (None, 1.0)


def test_repetition_parameters():
    assert plots.is_repetition("seed") and plots.is_repetition("generate.seed")
    assert not plots.is_repetition("seeds") and not plots.is_repetition("links.seed-r1.mtu")


# ---------------------------------------------------------------------------- file names


@pytest.mark.parametrize("parts, name", [
    (["m", "p=../x"], "m--p=.._x.svg"),
    (["m", "p=a/b"], "m--p=a_b.svg"),
    (["m", "p=a\\b c:d*e?\"<>|\n\x00"], "m--p=a_b_c_d_e_.svg"),
    (["../../etc/passwd"], "_.._etc_passwd.svg"),
    (["..", ""], "_.svg"),
    ([".hidden"], "hidden.svg"),
    (["con"], "_con.svg"),
    (["tcp.throughput", "latency=5ms"], "tcp.throughput--latency=5ms.svg"),
    (["m", "p=d\u00e9lai"], "m--p=d_lai.svg"),
])
def test_file_names_are_safe(parts, name):
    assert plots.file_name(parts, set()) == name


def test_file_names_are_cut_to_a_readable_length_and_stay_unique():
    taken = set()
    first = plots.file_name(["m", "p=" + "x" * 5000], taken)
    second = plots.file_name(["m", "p=" + "x" * 5001], taken)
    assert len(first) == len(second) == plots.MAX_FILE_NAME
    assert first.startswith("m--p=xxxx") and first != second
    assert plots.file_name(["m", "p=a/b"], taken) == "m--p=a_b.svg"
    assert plots.file_name(["m", "p=a_b"], taken) == "m--p=a_b-2.svg"        # the same once made safe
    assert plots.file_name(["m", "p=A_B"], taken) == "m--p=A_B-3.svg"        # case-insensitive file systems
    assert plots.file_name(["m", "p=a:b"], taken) == "m--p=a_b-4.svg"


def test_hostile_values_write_files_inside_the_directory_only(tmp_path):
    pytest.importorskip("matplotlib")
    values = ["../x", "a/b", "a_b", "/etc/passwd", "y" * 400, "--><script>", "..", ""]
    rows = [{"p": p, "r": 0, "q": q, "m": i, "error": None} for i, q in enumerate(values) for p in (1, 2)]
    out = tmp_path / "figs"
    paths = plots.write_plots(str(out), ["p", "r", "q"], ["m"], rows)
    assert len(paths) == len(values) == len(set(paths))
    assert sorted(os.listdir(tmp_path)) == ["figs"]
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in paths)
    assert all(os.path.dirname(p) == str(out) and len(os.path.basename(p)) <= plots.MAX_FILE_NAME for p in paths)
    assert [os.path.basename(p) for p in paths[:3]] == ["m--q=.._x.svg", "m--q=a_b.svg", "m--q=a_b-2.svg"]
    for path in paths:
        svg_texts(path)                              # well-formed XML
    # In matplotlib's comments, "--" is broken up and markup escaped.
    assert "m vs p (q = - -&gt;&lt;script&gt;)" in svg_texts(paths[5])


# ---------------------------------------------------------------------------- the SVG files


def test_write_plots_writes_one_svg_per_metric_byte_identical_each_time(tmp_path):
    pytest.importorskip("matplotlib")
    rows = grid({(2, 0.05, 576)})
    notes = []
    first = plots.write_plots(str(tmp_path / "a"), TWO, METRICS + ["tcp.fct"],
                              [dict(r, **{"tcp.fct": None}) for r in rows], notes=notes)
    again = plots.write_plots(str(tmp_path / "b"), TWO, METRICS + ["tcp.fct"],
                              [dict(r, **{"tcp.fct": None}) for r in rows])
    names = ["tcp.throughput.svg", "ping.rtt.avg.svg", "delivered.svg"]
    assert first == [str(tmp_path / "a" / n) for n in names]
    assert again == [str(tmp_path / "b" / n) for n in names]
    assert notes == ["no point has a value for tcp.fct: no figure"]
    assert sorted(os.listdir(tmp_path / "a")) == sorted(names)
    for a, b in zip(first, again):
        data = Path(a).read_bytes()
        assert data == Path(b).read_bytes()
        assert data.lstrip().startswith(b"<?xml") and b"<dc:date>" not in data
    texts = svg_texts(first[0])
    for text in ("tcp.throughput vs defaults.link.loss", "1 of 18 points failed and is left out",
                 "defaults.link.loss", "tcp.throughput (Mbit/s)", "mean of 3 seeds, bars: min to max",
                 "mtu = 576", "mtu = 1500"):
        assert text in texts


def drawn_axes(monkeypatch, figure):
    """The matplotlib Axes that draw() made for figure, taken as it is saved."""
    seen = []
    monkeypatch.setattr(plots, "save_svg", lambda fig, path: seen.append(fig.axes[0]))
    plots.draw(figure, "unused.svg")
    return seen[0]


def test_the_drawn_points_and_bars_are_the_planned_ones(monkeypatch):
    pytest.importorskip("matplotlib")
    tput = plots.plan(TWO, ["tcp.throughput"], grid({(1, 0.01, 1500)})).figures[0]
    ax = drawn_axes(monkeypatch, tput)
    assert len(ax.containers) == 2
    for container, series in zip(ax.containers, tput.lines):
        data_line, _, (bars,) = container
        assert list(data_line.get_xdata()) == series.x
        assert list(data_line.get_ydata()) == pytest.approx(series.mean)
        assert [(seg[0][0], seg[0][1], seg[1][1]) for seg in bars.get_segments()] == \
            pytest.approx(list(zip(series.x, series.low, series.high)))
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "mean of 3 seeds, bars: min to max"
    assert [t.get_text() for t in legend.get_texts()] == ["mtu = 576", "mtu = 1500"]


def test_categories_are_drawn_at_their_grid_positions(monkeypatch):
    pytest.importorskip("matplotlib")
    rows = [{"topology": t, "delivered": v, "error": None} for t, v in (("ring", 5), (2, 7), ("star", 6), (1, 3))]
    rows[1]["delivered"] = None
    (figure,) = plots.plan(["topology"], ["delivered"], rows).figures
    ax = drawn_axes(monkeypatch, figure)
    (drawn,) = ax.get_lines()
    assert list(drawn.get_xdata()) == [0, 2, 3] and list(drawn.get_ydata()) == [5.0, 6.0, 3.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ring", "2", "star", "1"]
    assert ax.get_legend() is None                   # one line, no seeds: nothing to explain


def test_without_matplotlib_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)        # import matplotlib raises ImportError
    with pytest.raises(DiagnosticError) as caught:
        plots.write_plots(str(tmp_path / "figs"), TWO, METRICS, grid())
    assert str(caught.value) == ("error: dataplane sweep --plot needs matplotlib: pip install 'dataplane[plot]' "
                                 "(or pip install matplotlib)")
    assert not (tmp_path / "figs").exists()
    with pytest.raises(DiagnosticError):
        plots.require_plotting()
