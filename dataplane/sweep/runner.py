"""Running a sweep's points: on Dask distributed (dataplane/cluster.py: an embedded LocalCluster, or a running
cluster named by its scheduler), or one after the other in this process (`--workers 0`).

    outcome = run_sweep(sweep, out="results.csv", workers=2)        # results in grid order

Dask does the scheduling, the data transfer, and the retries when a worker dies; the points come back in
whatever order they finish and are put back in grid order. Each finished point goes into the results cache
(cache.py) at once, so that an interrupted sweep (Ctrl-C) keeps it and `--resume` skips it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable

from ..diagnostics import error
from ..termsafe import unescaped
from .cache import Cache
from .point import PointResult, PointTask, make_tasks, run_point, sweep_files
from .spec import Sweep

# Dask runs a task again when it raised; a worker's death is retried by the scheduler itself
# (distributed.scheduler.allowed-failures). A bug in a point fails the same way every time: 1 retry is plenty.
RETRIES = 1


@dataclass
class Outcome:
    results: list[PointResult]             # one per point, in grid order
    reused: int                            # taken from the results cache (--resume)
    computed: int
    seconds: float                         # wall-clock time of the whole sweep
    workers: int                           # 0: in this process

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.error is not None)


class Interrupted(Exception):
    """Ctrl-C during a sweep: what finished is in the cache."""

    def __init__(self, finished: int, total: int):
        super().__init__(f"interrupted after {finished} of {total} points")
        self.finished, self.total = finished, total


class PointCrashed(Exception):
    """A point raised something other than a user error: a bug in dataplane, never a row of the table."""

    def __init__(self, task: PointTask, exc: BaseException):
        settings = ", ".join(f"{p}={v}" for p, v in zip(task.parameters, task.values))
        super().__init__(f"point {task.index + 1} ({settings}) failed: {type(exc).__name__}: {exc}")
        self.task, self.error = task, exc


class Progress:
    """One line on stderr, rewritten in place: points done / total, failed, rate, time left. Shown when stderr
    is a terminal, or as `enabled` says."""

    def __init__(self, total: int, done: int, enabled: bool | None):
        self.total, self.done, self.failed = total, done, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.computed = 0
        self.last = 0.0
        self.shown = False

    def point(self, result: PointResult) -> None:
        self.done += 1
        self.computed += 1
        self.failed += result.error is not None
        self.show()

    def show(self, force: bool = False) -> None:
        t = time.perf_counter()
        if not self.enabled or (not force and t - self.last < 0.2):
            return
        self.last = t
        elapsed = t - self.started
        rate = self.computed / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else None
        line = f"\r{self.done}/{self.total} points, {self.failed} failed, {rate:.2f} points/s"
        if left is not None and self.done < self.total:
            line += f", {_duration(left)} left"
        err = unescaped(sys.stderr)     # the carriage return is ours; the text holds no user names
        err.write(line + "   ")
        err.flush()
        self.shown = True

    def close(self) -> None:
        if self.enabled:
            self.show(force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def run_sweep(sweep: Sweep, cache_dir: str | None = None, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, progress: bool | None = False,
              on_result: Callable | None = None, tasks: list[PointTask] | None = None) -> Outcome:
    """Run every point of a sweep and return their results in grid order.

    workers: None for one embedded worker per core, 0 for this process (no Dask), N for N embedded workers;
    scheduler: the address of a running Dask cluster instead. cache_dir: the results cache (None: none);
    resume: take the points found there instead of running them again. on_result(result, client) is called
    as each computed point finishes (client is None in this process): a hook for tests.
    Raises Interrupted on Ctrl-C (what finished is cached) and PointCrashed when a point hits a bug."""
    started = time.perf_counter()
    files = sweep_files(sweep)
    tasks = make_tasks(sweep, bundle=files) if tasks is None else tasks
    cache = Cache(cache_dir) if cache_dir is not None else None
    results: list[PointResult | None] = [None] * len(tasks)
    if resume and cache is not None:
        for task in tasks:
            results[task.index] = cache.get(task.key, task.index, len(task.metrics))
    reused = sum(r is not None for r in results)
    remaining = [t for t in tasks if results[t.index] is None]
    shown = Progress(len(tasks), reused, progress)

    def finished(result: PointResult, client) -> None:
        results[result.index] = result
        if cache is not None:
            cache.put(result)
        shown.point(result)
        if on_result is not None:
            on_result(result, client)

    used = 0
    try:
        if workers == 0 and scheduler is None:
            _run_here(remaining, files, finished)
        elif remaining:
            used = _submit(remaining, files, finished, workers, scheduler)
        else:
            used = workers or 0
    except KeyboardInterrupt:
        raise Interrupted(sum(r is not None for r in results), len(tasks)) from None
    finally:
        shown.close()
    return Outcome(results, reused, len(remaining), time.perf_counter() - started, used)


def _run_here(tasks: list[PointTask], files, finished) -> None:
    for task in tasks:
        try:
            result = run_point(task, files)
        except Exception as exc:
            raise PointCrashed(task, exc) from exc
        finished(result, None)


def _submit(tasks: list[PointTask], files, finished, workers: int | None, scheduler: str | None) -> int:
    """Submit every task at once (Dask balances them over the workers) and take the results as they come;
    returns the number of workers."""
    from ..cluster import open_client, worker_count
    distributed = _distributed()
    with open_client(workers=workers, scheduler=scheduler) as client:
        count = worker_count(client)
        if scheduler is None:
            client.run(quiet_worker)
        # The files travel once to every worker (a worker that joins later fetches them from another one),
        # not once per task.
        shared = None if files is None else client.scatter(files, broadcast=True, hash=False)
        futures = client.map(run_point, tasks, files=shared, pure=False, retries=RETRIES)
        task_of = {future.key: task for future, task in zip(futures, tasks)}
        try:
            for future in distributed.as_completed(futures):
                task = task_of[future.key]
                try:
                    result = future.result()
                except distributed.KilledWorker:
                    raise error(f"point {task.index + 1} killed every worker that ran it; giving up (what "
                                f"finished is kept: run again with --resume)") from None
                except Exception as exc:
                    raise PointCrashed(task, exc) from exc
                finished(result, client)
        except BaseException:
            client.cancel(futures)
            raise
    return count


def quiet_worker() -> None:
    """Run on each embedded worker. Ctrl-C reaches the whole process group: the workers leave it to this
    process, which stops them, instead of each printing a traceback; and their complaints while the cluster
    shuts down under them (a heartbeat to a scheduler already gone) are not news."""
    import logging
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("distributed", "distributed.worker", "distributed.nanny", "distributed.core", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _distributed():
    from ..cluster import require_distributed
    return require_distributed()
