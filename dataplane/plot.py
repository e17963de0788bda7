"""`dataplane plot RESULTS.json --out DIR`: SVG figures of a run's results (schema dataplane-run/1).

    dataplane run dumbbell.yaml --json run.json --interval 10ms
    dataplane plot run.json --out figures

Figures, each written only when the results hold what it shows:
- throughput.svg: each TCP flow's throughput over time (needs --interval);
- cwnd.svg: each TCP flow's congestion window over time (needs --interval);
- queue.svg: queue occupancy over time of every link direction that queued
  anything (needs --interval);
- rtt_cdf.svg: the CDF of RTTs, per TCP flow (its RTT samples) and for all
  pings together;
- fct.svg: flow completion time against flow size, one point per TCP flow
  that completed (the data-centre papers' figure).

This reads a finished run's data and never the simulator. What to draw
(`figures(data)`) is plain Python; drawing needs matplotlib, an optional
dependency (`pip install 'dataplane[plot]'`). Figures are made with
matplotlib's Figure class (no pyplot, no global backend change) and written
deterministically on an Agg canvas: a fixed `svg.hashsalt`, glyphs as paths, no date in the
metadata, so the same results give byte-identical SVG files.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from .diagnostics import error

SCHEMA = "dataplane-run/1"

def install_hint(who: str) -> str:
    return f"{who} needs matplotlib: pip install 'dataplane[plot]' (or pip install matplotlib)"


INSTALL_HINT = install_hint("dataplane plot")
MAX_LEGEND = 12          # more lines than this: no legend (it would cover the plot)


@dataclass
class Line:
    label: str
    x: list
    y: list
    step: bool = False           # a CDF: drawn as steps
    points: bool = False         # a scatter: markers only


@dataclass
class FigureSpec:
    file: str
    title: str
    xlabel: str
    ylabel: str
    lines: list[Line] = field(default_factory=list)
    logx: bool = False


def register(sub) -> None:
    p = sub.add_parser("plot", help="draw SVG figures (throughput, cwnd, queues, RTT CDF, FCT against size) "
                                    "from a run's results (dataplane run ... --json FILE)")
    p.add_argument("results", help="a results file written by dataplane run --json")
    p.add_argument("--out", required=True, metavar="DIR", help="write the SVG files into DIR")
    p.set_defaults(func=cmd_plot)


def cmd_plot(args) -> int:
    data = load_results(args.results)
    specs = figures(data)
    if not specs:
        print(f"nothing to plot in {args.results}: no TCP flows, pings or time series")
        return 0
    require_matplotlib("dataplane plot")
    os.makedirs(args.out, exist_ok=True)
    for spec in specs:
        path = os.path.join(args.out, spec.file)
        draw(spec, path)
        print(f"wrote {path}")
    if data.get("series") is None:
        print("no time series in the results (throughput, cwnd, queues): run with --interval 10ms to get them")
    return 0


def load_results(path: str) -> dict:
    """A results file, checked to be one: located errors for bad JSON, one line for another kind of file."""
    from .controlplane.positions import load_json
    from .frontend.preprocess import read_source
    doc, _ = load_json(read_source(path, kind="results files"))
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise error(f"{path} is not the results of a run (schema {SCHEMA}); write one with "
                    f"dataplane run TOPOLOGY --json FILE")
    return doc


# ---------------------------------------------------------------------------- what to draw


def figures(data: dict) -> list[FigureSpec]:
    out = []
    series = data.get("series")
    if series and series.get("flows"):
        t = series["time_s"]
        out.append(FigureSpec("throughput.svg", "Throughput per flow", "time (s)", "throughput (Mbit/s)",
                              [Line(_flow_label(data, fid), t, [_scaled(v, 1e-6) for v in s["throughput_bps"]])
                               for fid, s in series["flows"].items()]))
        out.append(FigureSpec("cwnd.svg", "Congestion window per flow", "time (s)", "cwnd (KB)",
                              [Line(_flow_label(data, fid), t, [_scaled(v, 1e-3) for v in s["cwnd_bytes"]])
                               for fid, s in series["flows"].items()]))
    if series and series.get("links"):
        t = series["time_s"]
        busy = [Line(lid, t, s["queue_frames"]) for lid, s in series["links"].items()
                if any(s["queue_frames"])]
        if busy:
            out.append(FigureSpec("queue.svg", "Queue occupancy per link direction", "time (s)",
                                  "frames queued", busy))
    cdfs = [Line(_flow_label(data, f["id"]), *cdf(f["rtt_samples_s"], 1e3), step=True)
            for f in data.get("flows", []) if f["rtt_samples_s"]]
    ping_rtts = [r for p in data.get("pings", []) for r in p["rtt_s"]]
    if ping_rtts:
        cdfs.append(Line("pings", *cdf(ping_rtts, 1e3), step=True))
    if cdfs:
        out.append(FigureSpec("rtt_cdf.svg", "RTT distribution", "RTT (ms)", "fraction of samples", cdfs))
    done = [f for f in data.get("flows", []) if f["fct_s"] is not None]
    if done:
        out.append(FigureSpec("fct.svg", "Flow completion time against flow size", "flow size (bytes)",
                              "flow completion time (ms)",
                              [Line("TCP flows", [f["bytes"] for f in done], [f["fct_s"] * 1e3 for f in done],
                                    points=True)],
                              logx=len({f["bytes"] for f in done}) > 1 and min(f["bytes"] for f in done) > 0))
    return out


def cdf(values: list[float], scale: float = 1.0) -> tuple[list[float], list[float]]:
    """The empirical CDF of values (times scale): x sorted, y = i/n from 1/n to 1."""
    xs = sorted(v * scale for v in values)
    n = len(xs)
    return xs, [(i + 1) / n for i in range(n)]


def _scaled(v, factor: float):
    return None if v is None else v * factor


def _flow_label(data: dict, fid: str) -> str:
    flow = next((f for f in data.get("flows", []) if f["id"] == fid), None)
    if flow is None:
        return fid
    return f"{fid} {flow['src']}->{flow['dst_host'] or flow['dst']} ({flow['cc']})"


# ---------------------------------------------------------------------------- drawing


def require_matplotlib(who: str) -> None:
    """A one-line error saying how to install matplotlib (an optional dependency) when it is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise error(install_hint(who)) from None


@contextmanager
def svg_figure(figsize: tuple[float, float] = (7, 4.5)):
    """A matplotlib Figure under the settings that make its SVG byte-identical each time; write it with save_svg.

    No pyplot and no global backend change: the figure gets its own Agg canvas (for layout; savefig writes SVG
    through the SVG backend), and the settings (fixed svg.hashsalt, glyphs as paths) hold only inside the block.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    with matplotlib.rc_context({"svg.hashsalt": "dataplane", "svg.fonttype": "path"}):
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        yield fig


def save_svg(fig, path: str) -> None:
    """Write a figure made by svg_figure (inside its block): no date in the metadata."""
    fig.savefig(path, format="svg", metadata={"Date": None})


def draw(spec: FigureSpec, path: str) -> None:
    """One SVG file, byte for byte the same for the same spec."""
    with svg_figure() as fig:
        ax = fig.subplots()
        for line in spec.lines:
            x, y = line.x, [float("nan") if v is None else v for v in line.y]
            if line.points:
                ax.plot(x, y, "o", label=line.label)
            elif line.step:
                ax.step(x, y, where="post", label=line.label)
            else:
                ax.plot(x, y, label=line.label)
        if spec.logx:
            ax.set_xscale("log")
        ax.set_title(spec.title)
        ax.set_xlabel(spec.xlabel)
        ax.set_ylabel(spec.ylabel)
        ax.grid(True, alpha=0.3)
        if 1 < len(spec.lines) <= MAX_LEGEND:
            ax.legend(fontsize="small")
        fig.tight_layout()
        save_svg(fig, path)
