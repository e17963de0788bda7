"""Conformance with p4c's own test corpus, as figures that may only go up.

Four figures, one test each (see corpus.py for which programs and how they run):

* stf_passed:       v1model STF packet tests of p4_16_samples that pass;
* samples_accepted: v1model programs of p4_16_samples that `dataplane check` accepts;
* samples_compiled: v1model programs of p4_16_samples that compile to a pipeline;
* errors_rejected:  programs of p4_16_errors that `dataplane check` rejects with a diagnostic.

Many corpus programs use features dataplane does not have yet, so a failing program is not a
failing test. A test fails when its figure drops below its floor in floors.json, when it sees more
internal errors (an exception other than a diagnostic, a pipeline crash, or a timeout) than the
floors allow, or when a program listed in passing.json stops passing, which the message names with
the reason. A program that starts passing is reported as a warning: time to raise the floors.

Updating the floors
-------------------
After fixing a cause (or after an intended change that loses a program), rewrite both files from
what the corpus gives now with

    DATAPLANE_UPDATE_CONFORMANCE=1 python -m pytest tests/conformance

and review ``git diff tests/conformance`` before committing: the diff of passing.json says which
programs were gained and lost. A single figure can be updated with -k (e.g. ``-k stf``).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from . import corpus
from .corpus import (ACCEPTED, CHECK_TIMEOUT, INTERNAL, PASSED, REJECTED, STF_TIMEOUT, TIMEOUT, Outcome,
                     run_boxed, run_check, run_compile, run_stf_test)

HERE = Path(__file__).resolve().parent
FLOORS = HERE / "floors.json"
PASSING = HERE / "passing.json"
UPDATE_ENV = "DATAPLANE_UPDATE_CONFORMANCE"
UPDATE = os.environ.get(UPDATE_ENV) == "1"

for _needed in (corpus.samples_dir(), corpus.errors_dir()):
    if not _needed.is_dir():
        pytest.skip(f"p4c corpus not found: no directory {_needed} (it is looked for at ../shared/corpus "
                    f"from the project root; set {corpus.CORPUS_ENV} to the corpus directory to use another)",
                    allow_module_level=True)


def test_stf_tests_pass() -> None:
    jobs = {name: (lambda p=p, s=s: run_stf_test(p, s)) for name, (p, s) in corpus.stf_tests().items()}
    _judge("stf_passed", run_boxed(jobs, STF_TIMEOUT), PASSED)


def test_sample_programs_are_accepted() -> None:
    jobs = {name: (lambda p=p: run_check(p)) for name, p in corpus.sample_programs().items()}
    _judge("samples_accepted", run_boxed(jobs, CHECK_TIMEOUT), ACCEPTED)


def test_sample_programs_compile() -> None:
    jobs = {name: (lambda p=p: run_compile(p)) for name, p in corpus.sample_programs().items()}
    _judge("samples_compiled", run_boxed(jobs, CHECK_TIMEOUT), ACCEPTED)


def test_error_programs_are_rejected() -> None:
    jobs = {name: (lambda p=p: run_check(p)) for name, p in corpus.error_programs().items()}
    _judge("errors_rejected", run_boxed(jobs, CHECK_TIMEOUT), REJECTED)


# --------------------------------------------------------------------------- judging


def _internal_key(figure: str) -> str:
    """'stf_passed' -> 'stf_passed_internal_errors_max'."""
    return figure + "_internal_errors_max"


def _judge(figure: str, outcomes: dict[str, Outcome], good: str) -> None:
    assert outcomes, f"{figure}: the corpus has no programs of this kind; is {corpus.testdata()} complete?"
    passing = {name for name, o in outcomes.items() if o.status == good}
    internal = {name for name, o in outcomes.items() if o.status in (INTERNAL, TIMEOUT)}
    corpus.FIGURES[figure] = (len(passing), len(outcomes), len(internal),
                              max(outcomes.values(), key=lambda o: o.seconds))
    if UPDATE:
        _update(figure, passing, len(internal))
        return
    floors = _read(FLOORS)
    known = set(_read(PASSING).get(figure, []))
    regressed = sorted((known & outcomes.keys()) - passing)
    gone = sorted(known - outcomes.keys())
    gained = sorted(passing - known)
    if gained:
        warnings.warn(f"{figure}: {len(gained)} program(s) pass that {PASSING.name} does not list yet "
                      f"({_some(gained)}); raise the floors with {UPDATE_ENV}=1 python -m pytest tests/conformance")
    floor, most = floors.get(figure, 0), floors.get(_internal_key(figure), 0)
    problems = []
    if len(passing) < floor:
        problems.append(f"{len(passing)} of {len(outcomes)}, below the floor of {floor}")
    if len(internal) > most:
        problems.append(f"{len(internal)} internal errors, more than the {most} allowed:\n"
                        + _explain(sorted(internal), outcomes))
    if regressed:
        problems.append(f"{len(regressed)} program(s) listed in {PASSING.name} no longer pass:\n"
                        + _explain(regressed, outcomes))
    if problems and gone:
        problems.append(f"listed in {PASSING.name} but no longer in the corpus: {_some(gone)}")
    if problems:      # the message says it all; the test's source code would only bury it
        pytest.fail(f"{figure}: " + "\n".join(problems)
                    + f"\n(if this is intended: {UPDATE_ENV}=1 python -m pytest tests/conformance)", pytrace=False)


def _explain(names: list[str], outcomes: dict[str, Outcome]) -> str:
    return "\n".join(f"  {n}: {outcomes[n].status}: {outcomes[n].detail}" for n in names)


def _some(names: list[str], shown: int = 10) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


# --------------------------------------------------------------------------- the two files


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _update(figure: str, passing: set[str], internal: int) -> None:
    """Rewrite this figure's part of floors.json and passing.json; the other figures keep theirs."""
    floors = _read(FLOORS)
    floors[figure] = len(passing)
    floors[_internal_key(figure)] = internal
    _write(FLOORS, floors)
    names = _read(PASSING)
    names[figure] = sorted(passing)
    _write(PASSING, names)
