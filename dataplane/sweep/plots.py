"""`dataplane sweep SWEEP.yaml --plot DIR`: one SVG per metric against the swept parameters.

    notes = []
    paths = write_plots("figures", parameters, metrics, rows, notes=notes)

`parameters` are the grid's keys in the sweep file's order, `metrics` the
metric names, `rows` one dict per point in grid order with a value for every
parameter and metric (a number, text, or None when not known) and an "error"
key (None, or the text of why the point failed).

What each figure shows:
- y: the metric, in the unit UNITS names for it (tcp.throughput in Mbit/s,
  RTTs in ms, ping.loss in %); x: the first swept parameter that is not a
  seed. A parameter named `seed` or ending in `.seed` is the repetition
  dimension: each point is the mean over the seeds, with error bars from the
  smallest to the largest value (the legend says so). A sweep of seeds alone
  plots against the seed.
- one line per value of the second non-seed parameter ("mtu = 1280"), and one
  figure per combination of the values of any further ones
  (`tcp.throughput--latency=5ms.svg`).
- x values that are all numbers are drawn on a numeric axis in sorted order;
  otherwise (text such as "10ms" or a topology name) they are categories in
  grid order. Lines follow the same rule.
- points that failed (an "error") are left out, and the figure's title says how
  many of its points failed and how many had no value for the metric.

A metric (or a combination of further parameters) with no value in any point
gets no figure; write_plots returns only the files it wrote, and appends one
sentence per figure not drawn to `notes` when given a list (plan() returns the
same sentences as Plan.notes), for the command to print.

What to draw (`plan()`) is plain Python, tested apart from drawing, which needs
matplotlib, an optional dependency (`pip install 'dataplane[plot]'`); the
figures are written the same way as `dataplane plot`'s (dataplane/plot.py), so
the same rows give byte-identical SVG files.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import numbers
import os
import re
import textwrap
from dataclasses import dataclass, field

from ..plot import require_matplotlib, save_svg, svg_figure

WHO = "dataplane sweep --plot"

# How a metric is shown, by its name (fnmatch patterns, the first match wins): (pattern, unit shown, the
# factor from the metric's own unit to the one shown). Metrics are in the run's units (seconds, bit/s,
# fractions: dataplane/net/rundata.py); a metric that matches nothing is drawn as it is, without a unit.
UNITS = (
    ("tcp.throughput", "Mbit/s", 1e-6),       # bit/s
    ("*.rtt.*", "ms", 1e3),                   # seconds
    ("*.rtt", "ms", 1e3),
    ("tcp.fct", "s", 1.0),                    # seconds
    ("ping.loss", "%", 100.0),                # a fraction
)

MAX_FILE_NAME = 120          # characters, ".svg" included; longer names are cut and end with a hash
TITLE_WIDTH = 80             # characters a title line has at most (wrapped, so that a long one is not cut off)
MANY_LINES = 6               # more lines than this: the legend goes beside the plot rather than on it
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


@dataclass
class Series:
    """One line: the metric's mean at each x, with the smallest and largest value of the seeds averaged."""
    label: str
    x: list                      # numbers on a numeric axis, texts (one of SweepFigure.categories) otherwise
    mean: list[float]
    low: list[float]
    high: list[float]
    samples: list[int]           # how many values each mean is of


@dataclass
class SweepFigure:
    metric: str
    file: str
    title: str
    xlabel: str
    ylabel: str
    lines: list[Series]
    categories: list[str] | None = None      # x is categorical: every x text in grid order; None: numeric
    spread: str | None = None                # what the points and bars are (the legend's title); None: no seeds
    caption: list[str] = field(default_factory=list)     # points left out, one sentence each


@dataclass
class Plan:
    figures: list[SweepFigure]
    notes: list[str]             # one sentence per figure not drawn, and why


def require_plotting() -> None:
    """The install hint as a one-line error when matplotlib is missing: for the command to call before it runs
    the sweep rather than after."""
    require_matplotlib(WHO)


def write_plots(directory: str, parameters: list[str], metrics: list[str], rows: list[dict],
                notes: list[str] | None = None) -> list[str]:
    """Write the sweep's figures into directory (made if needed); return the paths written, in plan order.
    The reasons figures were not drawn are appended to notes when a list is given."""
    require_plotting()
    planned = plan(parameters, metrics, rows)
    if notes is not None:
        notes.extend(planned.notes)
    if planned.figures:
        os.makedirs(directory, exist_ok=True)
    paths = []
    for figure in planned.figures:
        path = os.path.join(directory, figure.file)
        draw(figure, path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------- what to draw


def is_repetition(parameter: str) -> bool:
    """A seed parameter: the dimension the figures average over."""
    return parameter == "seed" or parameter.endswith(".seed")


def plan(parameters: list[str], metrics: list[str], rows: list[dict]) -> Plan:
    """The figures for the sweep's rows, one per metric and combination of the third and further non-seed
    parameters, in metric then grid order; and the notes for those left out."""
    if not parameters:
        return Plan([], ["the sweep has no parameters to plot against: no figures"])
    layout = _Layout.of(parameters, rows)
    figures, notes, taken = [], [], set()
    for metric in metrics:
        if not any(_known(row, metric) for row in rows):
            notes.append(f"no point has a value for {metric}: no figure")
            continue
        for subset in layout.combinations(rows):
            figure = layout.figure(metric, subset, taken)
            if figure is None:
                notes.append(f"no point with {layout.where(subset[0])} has a value for {metric}: no figure")
            else:
                figures.append(figure)
    return Plan(figures, notes)


@dataclass
class _Layout:
    """Which parameter goes where, and the order of its values: the same for every metric's figures."""
    x_param: str
    line_param: str | None
    fig_params: list[str]
    short: dict[str, str]
    x_order: list
    numeric_x: bool
    line_values: list
    spread: str | None

    @classmethod
    def of(cls, parameters: list[str], rows: list[dict]) -> _Layout:
        repeats = [p for p in parameters if is_repetition(p)]
        axes = [p for p in parameters if not is_repetition(p)] or repeats[:1]     # seeds alone: against the seed
        repeats = [p for p in repeats if p not in axes]
        x_param, line_param = axes[0], (axes[1] if len(axes) > 1 else None)
        numeric_x = all(is_number(row[x_param]) for row in rows)
        line_values = [None]
        if line_param is not None:
            line_values = _ordered([row[line_param] for row in rows],
                                   all(is_number(row[line_param]) for row in rows))
        seeds = len({tuple(_key(row[p]) for p in repeats) for row in rows})
        spread = f"mean of {seeds} seeds, bars: min to max" if seeds > 1 else None
        return cls(x_param, line_param, axes[2:], short_names(parameters),
                   _ordered([row[x_param] for row in rows], numeric_x), numeric_x, line_values, spread)

    def combinations(self, rows: list[dict]) -> list[list[dict]]:
        """The rows of each figure: one list per combination of the further parameters' values, in grid order."""
        groups: dict[tuple, list[dict]] = {}
        for row in rows:
            groups.setdefault(tuple(_key(row[p]) for p in self.fig_params), []).append(row)
        return list(groups.values())

    def where(self, row: dict) -> str:
        return ", ".join(f"{self.short[p]} = {_text(row[p])}" for p in self.fig_params)

    def figure(self, metric: str, rows: list[dict], taken: set[str]) -> SweepFigure | None:
        """The figure of one metric over one combination's rows; None when none of them has a value."""
        unit, factor = unit_of(metric)
        lines = []
        for value in self.line_values:
            members = [row for row in rows if self.line_param is None or _key(row[self.line_param]) == _key(value)]
            label = metric if self.line_param is None else f"{self.short[self.line_param]} = {_text(value)}"
            line = _series(label, members, self.x_param, self.x_order, not self.numeric_x, metric, factor)
            if line.x:
                lines.append(line)
        if not lines:
            return None
        where = self.where(rows[0])
        file = file_name([metric] + [f"{self.short[p]}={_text(rows[0][p])}" for p in self.fig_params], taken)
        return SweepFigure(
            metric, file, f"{metric} vs {self.x_param}" + (f" ({where})" if where else ""), self.x_param,
            f"{metric} ({unit})" if unit else metric, lines,
            categories=None if self.numeric_x else [_text(v) for v in self.x_order], spread=self.spread,
            caption=_caption(rows, metric))


def unit_of(metric: str) -> tuple[str | None, float]:
    """The unit a metric is shown in and the factor to it, from UNITS; (None, 1.0) for any other metric."""
    for pattern, unit, factor in UNITS:
        if fnmatch.fnmatchcase(metric, pattern):
            return unit, factor
    return None, 1.0


def short_names(parameters: list[str]) -> dict[str, str]:
    """Each parameter's shortest dotted suffix that no other parameter ends with: `links.r1-r2.mtu` is `mtu`,
    unless another parameter ends in `.mtu` too (then `r1-r2.mtu`)."""
    out = {}
    for p in parameters:
        parts = p.split(".")
        for k in range(1, len(parts) + 1):
            suffix = ".".join(parts[-k:])
            if not any(q != p and (q == suffix or q.endswith("." + suffix)) for q in parameters):
                break
        out[p] = suffix
    return out


def is_number(value) -> bool:
    """A finite number (not a truth value): plotted on a numeric axis, averaged."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _known(row: dict, metric: str) -> bool:
    return not row.get("error") and is_number(row.get(metric))


def _series(label: str, rows: list[dict], x_param: str, x_order: list, categorical: bool, metric: str,
            factor: float) -> Series:
    by_x: dict = {}
    for row in rows:
        if _known(row, metric):
            by_x.setdefault(_key(row[x_param]), []).append(row[metric] * factor)
    line = Series(label, [], [], [], [], [])
    for x in x_order:
        values = by_x.get(_key(x))
        if values:
            line.x.append(_text(x) if categorical else x)
            line.mean.append(math.fsum(values) / len(values))
            line.low.append(min(values))
            line.high.append(max(values))
            line.samples.append(len(values))
    return line


def _caption(rows: list[dict], metric: str) -> list[str]:
    out = []
    failed = sum(1 for row in rows if row.get("error"))
    if failed:
        out.append(f"{failed} of {_count(len(rows), 'point')} failed and {'is' if failed == 1 else 'are'} left out")
    missing = sum(1 for row in rows if not row.get("error") and not _known(row, metric))
    if missing:
        out.append(f"{_count(missing, 'point')} {'has' if missing == 1 else 'have'} no value")
    return out


def _ordered(values: list, numeric: bool) -> list:
    """Distinct values: sorted when all are numbers, else in their first appearance's order."""
    seen: dict = {}
    for v in values:
        seen.setdefault(_key(v), v)
    return sorted(seen.values()) if numeric else list(seen.values())


def _key(value):
    """A hashable stand-in for a parameter's value: numbers as they are, anything else by its text."""
    return value if is_number(value) else ("text", _text(value))


def _text(value) -> str:
    """A parameter's value as the sweep file would spell it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return float.__repr__(value)            # numpy's own repr would say np.float64(...)
    if isinstance(value, numbers.Number):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def file_name(parts: list[str], taken: set[str]) -> str:
    """A safe, readable file name for the parts (joined by "--") that is not in taken (compared without case,
    for case-insensitive file systems); added to taken. Only letters, digits and ._=+- are kept (no path
    separators, no leading dot); a name too long is cut and ends with a hash of the whole."""
    whole = "--".join(parts)
    stem = _UNSAFE.sub("_", whole).lstrip(".-") or "_"
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    room = MAX_FILE_NAME - len(".svg")
    if len(stem) > room:
        stem = stem[:room - 9] + "-" + hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    name, n = stem + ".svg", 1
    while name.lower() in taken:
        n += 1
        suffix = f"-{n}"
        name = stem[:room - len(suffix)] + suffix + ".svg"
    taken.add(name.lower())
    return name


# ---------------------------------------------------------------------------- drawing


def draw(figure: SweepFigure, path: str) -> None:
    """One SVG file, byte for byte the same for the same figure."""
    with svg_figure(figsize=(8, 5)) as fig:
        ax = fig.subplots()
        position = {text: i for i, text in enumerate(figure.categories or [])}
        for line in figure.lines:
            x = [position[v] for v in line.x] if figure.categories is not None else line.x
            if figure.spread:
                below = [m - lo for m, lo in zip(line.mean, line.low)]
                above = [hi - m for m, hi in zip(line.mean, line.high)]
                ax.errorbar(x, line.mean, yerr=[below, above], marker="o", markersize=4, capsize=3,
                            label=line.label)
            else:
                ax.plot(x, line.mean, marker="o", markersize=4, label=line.label)
        if figure.categories is not None:
            long = sum(len(c) for c in figure.categories) > 60
            ax.set_xticks(range(len(figure.categories)), labels=figure.categories,
                          rotation=30 if long else 0, ha="right" if long else "center")
        heading = [wrapped for text in [figure.title] + figure.caption
                   for wrapped in textwrap.wrap(text, TITLE_WIDTH, break_on_hyphens=False)]
        fig.suptitle("\n".join(heading), fontsize="medium")
        ax.set_xlabel(figure.xlabel)
        ax.set_ylabel(figure.ylabel)
        ax.grid(True, alpha=0.3)
        if figure.spread or len(figure.lines) > 1:
            where = {"loc": "upper left", "bbox_to_anchor": (1.01, 1)} if len(figure.lines) > MANY_LINES else {}
            ax.legend(title=figure.spread, fontsize="small", title_fontsize="small", **where)
        fig.tight_layout()
        save_svg(fig, path)
