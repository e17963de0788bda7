"""The boxed runner of the corpus tests keeps its promises: a hang, a crash or a memory runaway in one
program costs that program, never the test run. These need no corpus."""

from __future__ import annotations

import os
import signal
import time

from .corpus import ACCEPTED, INTERNAL, TIMEOUT, run_boxed


def _hang() -> tuple[str, str]:
    while True:
        time.sleep(1)


def _raise() -> tuple[str, str]:
    raise ZeroDivisionError("boom")


def _die() -> tuple[str, str]:
    os.kill(os.getpid(), signal.SIGKILL)
    return ACCEPTED, "unreachable"


def _hog() -> tuple[str, str]:
    # bytes(n) asks the system for zeroed pages without touching them: the limit is reached at no cost.
    hoard = [bytes(1 << 28) for _ in range(64)]      # 16 GiB of address space, far past the headroom
    return ACCEPTED, str(len(hoard))


def test_outcomes_come_back_in_order() -> None:
    jobs = {f"job{i}": (lambda i=i: (ACCEPTED, str(i * i))) for i in range(6)}
    outcomes = run_boxed(jobs, timeout=30)
    assert list(outcomes) == list(jobs)
    assert [o.detail for o in outcomes.values()] == ["0", "1", "4", "9", "16", "25"]
    assert all(o.status == ACCEPTED for o in outcomes.values())


def test_a_hang_is_killed_at_its_time_limit() -> None:
    start = time.monotonic()
    outcomes = run_boxed({"hang": _hang, "quick": lambda: (ACCEPTED, "")}, timeout=1.0)
    assert outcomes["hang"].status == TIMEOUT
    assert outcomes["quick"].status == ACCEPTED
    assert time.monotonic() - start < 10


def test_an_exception_is_an_internal_error_with_its_name() -> None:
    outcome = run_boxed({"raise": _raise}, timeout=30)["raise"]
    assert (outcome.status, outcome.detail) == (INTERNAL, "ZeroDivisionError: boom")


def test_a_child_killed_by_a_signal_is_an_internal_error() -> None:
    outcome = run_boxed({"die": _die}, timeout=30)["die"]
    assert outcome.status == INTERNAL
    assert f"signal {int(signal.SIGKILL)}" in outcome.detail


def test_a_memory_runaway_fails_in_the_child() -> None:
    outcome = run_boxed({"hog": _hog}, timeout=30)["hog"]
    assert (outcome.status, outcome.detail) == (INTERNAL, "MemoryError")
