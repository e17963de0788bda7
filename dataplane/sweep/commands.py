"""`dataplane sweep SWEEP.yaml`: run every point of a parameter grid and write one table."""

from __future__ import annotations

import os
import sys

from ..diagnostics import error


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run a topology at every point of a grid of settings (on Dask: an embedded "
                                     "local cluster, or a running one) and write one CSV row per point")
    p.add_argument("sweep", nargs="?", help="the sweep file (YAML: topology or generate, grid, metrics, until), "
                                            "or the name of one we ship")
    p.add_argument("--out", metavar="CSV", help="the table to write (default: the sweep file's name with .csv, "
                                                "in the current directory)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of the embedded Dask cluster (default: one per core); 0 runs the "
                            "points one after the other in this process, without Dask")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a running Dask cluster (e.g. tcp://10.0.0.5:8786, started with `dask "
                            "scheduler` and `dask worker`) instead of an embedded one")
    p.add_argument("--resume", action="store_true",
                   help="keep the points already computed (in the cache beside the table, CSV.cache/) and run "
                        "only the rest")
    p.add_argument("--plot", metavar="DIR", help="also write one SVG per metric against the swept parameters "
                                                 "into DIR (needs matplotlib)")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress line on stderr (default: when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--list-metrics", "--metrics", dest="list_metrics", action="store_true",
                   help="list the metrics a sweep can tabulate, with their units, and exit")
    p.set_defaults(func=cmd_sweep)


def default_out(sweep_path: str) -> str:
    name = os.path.basename(sweep_path)
    stem = name[:-5] if name.endswith(".yaml") else name[:-4] if name.endswith(".yml") else name
    return stem + ".csv"


def cmd_sweep(args) -> int:
    from . import table
    from .cache import directory_for
    from .metrics import listing
    from .runner import Interrupted, PointCrashed, run_sweep
    from .spec import load_sweep
    if args.list_metrics:
        print(listing())
        return 0
    if args.sweep is None:
        raise error("name a sweep file (or run `dataplane sweep --list-metrics`)")
    sweep = load_sweep(args.sweep)
    out = args.out or default_out(sweep.path)
    if args.workers is not None and args.workers < 0:
        raise error(f"--workers must be 0 (this process) or more, not {args.workers}")
    cache_dir = directory_for(out)
    if args.plot:
        from .plots import require_plotting
        require_plotting()              # before the sweep runs, not after: a missing matplotlib costs nothing
    try:
        outcome = run_sweep(sweep, cache_dir, workers=args.workers, scheduler=args.scheduler,
                            resume=args.resume, progress=args.progress)
    except Interrupted as stop:
        print(f"interrupted: {stop.finished} of {stop.total} points finished and are kept in {cache_dir}; "
              f"run the same command with --resume to finish", file=sys.stderr)
        return 130
    except PointCrashed as crash:
        print(f"dataplane: internal error: {crash}", file=sys.stderr)
        print("this is a bug in dataplane; set DATAPLANE_DEBUG=1 for details", file=sys.stderr)
        if os.environ.get("DATAPLANE_DEBUG"):
            import traceback
            traceback.print_exception(crash.error)
        return 2
    try:
        table.write(out, sweep, outcome.results)
    except OSError as exc:
        raise error(f"cannot write the table: {exc.strerror}: {exc.filename}") from None
    print(summary(outcome, out))
    if args.plot:
        _plot(args.plot, sweep, outcome)
    return 0


def summary(outcome, out: str) -> str:
    """The closing lines: points, failures, reuse, time, workers (wall-clock figures are here, not in the
    table)."""
    total = len(outcome.results)
    ok = total - outcome.failed
    where = "in this process" if outcome.workers == 0 else \
        f"on {outcome.workers} worker{'s' if outcome.workers != 1 else ''}"
    lines = [f"{total} points: {ok} ok, {outcome.failed} failed; table: {out}"]
    if outcome.reused:
        lines.append(f"{outcome.reused} points reused from the cache, {outcome.computed} computed")
    if outcome.computed or not outcome.reused:
        lines.append(f"{outcome.computed} points computed {where} in {outcome.seconds:.1f} s")
    return "\n".join(lines)


def _plot(directory: str, sweep, outcome) -> None:
    from . import table
    from .plots import write_plots
    notes: list[str] = []
    try:
        files = write_plots(directory, [p.path for p in sweep.parameters], list(sweep.metrics),
                            table.rows(sweep, outcome.results), notes=notes)
    except OSError as exc:
        raise error(f"cannot write the plots: {exc.strerror}: {exc.filename}") from None
    for note in notes:
        print(f"plots: {note}")
    print(f"plots: {len(files)} files in {directory}")
