"""Dask distributed for the jobs that outgrow one process: `dataplane sweep` and `dataplane replay --shards`.

    with open_client(workers=2) as client:                      # an embedded LocalCluster
        futures = client.map(run_point, points, pure=False)
    with open_client(scheduler="tcp://10.0.0.5:8786") as client:  # a cluster someone started

We use Dask's scheduler, workers, retries and data transfer as they are: no
scheduler, queue or process pool of our own. The embedded cluster has one
worker process per core, one thread each (our work is pure Python, so threads
would only share one GIL), and is shut down when the block ends. A named
scheduler is one started with Dask's own commands (`dask scheduler`,
`dask worker tcp://HOST:8786`) or by dask-jobqueue / dask-kubernetes; its
workers need dataplane installed, at the same version as the client (checked
on connection, because a different version could give different results).

distributed is an optional dependency: `pip install 'dataplane[cluster]'`.
Task functions must be module-level functions of the dataplane package, so
that workers import them by name rather than unpickling code.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Iterator

from . import __version__
from .diagnostics import error

# Our tasks are pure Python on one thread per worker: Dask's statistical profiler, which samples that thread's
# stack every few milliseconds for the dashboard, takes the GIL from the work it observes.
EMBEDDED_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}

# How long a named scheduler may take to answer, and to have at least one worker.
CONNECT_TIMEOUT_S = 20
WORKERS_TIMEOUT_S = 60


def require_distributed():
    """The `distributed` module, or a user error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise error("this needs Dask distributed, an optional dependency: pip install 'dataplane[cluster]' "
                    "(or pip install distributed)") from None
    return distributed


def default_workers() -> int:
    """One worker process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:              # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_version() -> str:
    """Run on each worker: the dataplane version it imports."""
    return __version__


@contextlib.contextmanager
def open_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[object]:
    """A distributed.Client: on a LocalCluster of `workers` processes (default: one per core) started here and
    shut down at the end, or on the running cluster at `scheduler` (then `workers` must be None)."""
    distributed = require_distributed()
    # Dask logs a worker's death, a retried task and its shutdown chatter as warnings; we report what matters
    # ourselves, in our words, so its loggers only speak up for errors.
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if scheduler is not None:
        if workers is not None:
            raise error("--workers sizes the embedded cluster; a cluster named by --scheduler has its own workers")
        client = _connect(distributed, scheduler)
        try:
            _check_workers(client, scheduler)
            yield client
        finally:
            client.close()
        return
    n = default_workers() if workers is None else workers
    if n < 1:
        raise error(f"--workers must be at least 1, not {n}")
    # The dashboard on a free loopback port: Dask's default, 8787, may belong to another cluster on this
    # machine (then Dask warns and picks another), and nothing of ours should listen beyond loopback.
    import dask
    with dask.config.set(EMBEDDED_WORKER_CONFIG):       # the workers are made with the config of this moment
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _connect(distributed, address: str):
    try:
        return distributed.Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise error(f"cannot reach the Dask scheduler at {address}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_workers(client, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError:
        raise error(f"the Dask scheduler at {address} has no workers (none joined in {WORKERS_TIMEOUT_S} s); "
                    f"start some with: dask worker {address}") from None
    try:
        versions = client.run(worker_version)
    except Exception as exc:            # a worker without dataplane cannot even unpickle the function
        raise error(f"the workers of {address} cannot run dataplane ({_reason(exc)}); install dataplane on "
                    f"every worker") from None
    wrong = sorted(f"{w} has {v}" for w, v in versions.items() if v != __version__)
    if wrong:
        raise error(f"the workers of {address} run another dataplane version than this one ({__version__}): "
                    f"{'; '.join(wrong)}; install the same version on every worker")


def worker_count(client) -> int:
    """The number of workers the client's cluster has now."""
    return len(client.scheduler_info().get("workers", {}))
