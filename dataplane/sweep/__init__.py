"""Parameter sweeps: `dataplane sweep SWEEP.yaml` runs a topology at every point of a grid of settings, on Dask
distributed or in this process, and writes one deterministic CSV row per point.

    spec.py     the sweep file, read and checked (every mistake located)
    metrics.py  the named figures a row can hold, from a run's data object
    point.py    one point as a picklable task and result: what `dataplane run --set ...` runs
    runner.py   the points on Dask (cluster.py) or here, in grid order; progress; Ctrl-C
    cache.py    one JSON per finished point, for --resume
    table.py    the CSV
    commands.py the subcommand
"""

from .runner import Interrupted, Outcome, PointCrashed, run_sweep
from .spec import Sweep, load_sweep, load_sweep_text

__all__ = ["Interrupted", "Outcome", "PointCrashed", "Sweep", "load_sweep", "load_sweep_text", "run_sweep"]
