"""dataplane/cluster.py: the embedded Dask cluster, and the errors a user gets for a cluster that is not there."""

import sys

import pytest

pytest.importorskip("distributed")

from dataplane import __version__, cluster
from dataplane.diagnostics import DiagnosticError


def test_embedded_cluster_has_the_workers_asked_for_and_runs_dataplane():
    with cluster.open_client(workers=1) as client:
        assert cluster.worker_count(client) == 1
        assert list(client.run(cluster.worker_version).values()) == [__version__]


def test_workers_below_one_are_refused():
    with pytest.raises(DiagnosticError, match="--workers must be at least 1, not 0"):
        with cluster.open_client(workers=0):
            pass


def test_workers_and_scheduler_together_are_refused():
    with pytest.raises(DiagnosticError, match="a cluster named by --scheduler has its own workers"):
        with cluster.open_client(workers=2, scheduler="tcp://127.0.0.1:1"):
            pass


def test_unreachable_scheduler_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(DiagnosticError) as exc:
        with cluster.open_client(scheduler="tcp://127.0.0.1:1"):
            pass
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_distributed_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)         # import distributed fails
    with pytest.raises(DiagnosticError, match=r"pip install 'dataplane\[cluster\]'"):
        cluster.require_distributed()
