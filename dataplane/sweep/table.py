"""The sweep's table as CSV: one row per point in grid order; the parameters (as named in the grid), then the
metrics, then `error`. Deterministic: the same sweep gives the same bytes whatever ran it (floats by repr, no
wall-clock figures)."""

from __future__ import annotations

import csv
import io
import os

from ..net.rundata import csv_cell
from .point import PointResult
from .spec import Sweep


def header(sweep: Sweep) -> list[str]:
    return [p.path for p in sweep.parameters] + list(sweep.metrics) + ["error"]


def rows(sweep: Sweep, results: list[PointResult]) -> list[dict]:
    """Each point as a dict keyed by parameter and metric names and "error" (None when it ran), in grid order:
    parameters as read from the sweep file, metrics as computed."""
    out = []
    for point, result in zip(sweep.points(), results):
        row = {p.path: p.values[i] for p, i in zip(sweep.parameters, point)}
        row.update(zip(sweep.metrics, result.values))
        row["error"] = result.error
        out.append(row)
    return out


def render(sweep: Sweep, results: list[PointResult]) -> str:
    """The CSV text; results in grid order, one per point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header(sweep))
    for point, result in zip(sweep.points(), results):
        writer.writerow([p.texts[i] for p, i in zip(sweep.parameters, point)]
                        + [csv_cell(v) for v in result.values] + [result.error or ""])
    return buffer.getvalue()


def write(path: str, sweep: Sweep, results: list[PointResult]) -> None:
    """Write the CSV whole or not at all (a reader never sees half a table)."""
    text = render(sweep, results)
    temporary = f"{path}.partial"
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(temporary, path)
