"""A sweep on a cluster started with Dask's own commands (`dask scheduler`, two `dask worker`), on loopback,
started and stopped here with timeouts: its table is byte-identical to the sequential run's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataplane.cli import main
from .sweeplab import LOSSY_LINK

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60

SWEEP = f"""\
topology: {LOSSY_LINK}
grid:
  links.r1-r2.loss: [0, 0.02]
  seed: [1, 2]
metrics: [tcp.throughput, tcp.retransmissions, frames]
"""


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + sys.path[1:]))
    with open(log, "wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    pytest.importorskip("distributed")
    dask = shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    where = tmp_path_factory.mktemp("dask")
    scheduler_file = where / "scheduler.json"
    processes = [_start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                         "--scheduler-file", str(scheduler_file)], where / "scheduler.log")]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                pytest.fail("dask scheduler did not start: " + (where / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            processes.append(_start([dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                     "--host", "127.0.0.1", "--no-dashboard"], where / f"worker{i}.log"))
        import distributed
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


def test_a_cluster_of_dask_commands_gives_the_sequential_table(tmp_path, monkeypatch, dask_cluster, capsys):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(SWEEP)
    assert main(["sweep", "s.yaml", "--out", "seq.csv", "--workers", "0"]) == 0
    assert main(["sweep", "s.yaml", "--out", "dask.csv", "--scheduler", dask_cluster]) == 0
    out = capsys.readouterr().out
    assert "4 points computed on 2 workers in " in out
    assert Path("dask.csv").read_bytes() == Path("seq.csv").read_bytes()
    assert len(Path("seq.csv").read_text().splitlines()) == 5
