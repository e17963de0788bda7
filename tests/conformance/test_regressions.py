"""Small programs of our own, one per conformance cause, that always run (the p4c corpus may be absent).

    tests/conformance/regressions/<cause>.p4            must compile to a pipeline;
    tests/conformance/regressions/<cause>.stf           if present, must pass on that program, in the
                                                        fast and in the traced pipeline, with no crash.

Each program is written for dataplane, from what the P4_16 specification and BMv2 require; the
comment at its top names the corpus programs that failed for the same cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.build import build
from dataplane.frontend.preprocess import read_source
from dataplane.runtime.device import Device
from dataplane.runtime.trace import DropReason
from dataplane.stf import run_stf

HERE = Path(__file__).resolve().parent / "regressions"
PROGRAMS = sorted(HERE.glob("*.p4"))


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_regression_program(program: Path) -> None:
    compiled = build(str(program))
    stf = program.with_suffix(".stf")
    if not stf.exists():
        return
    for trace in (False, True):
        device = Device(compiled, name=program.name)
        result = run_stf(device, read_source(str(stf)), trace=trace)
        crashes = [d for reason, d in result.drops if reason is DropReason.PIPELINE_ERROR]
        crashes += [d for _port, _data, d in device.internal_errors]
        assert not crashes, crashes
        assert result.passed, "\n".join(result.messages)


def test_every_stf_has_its_program() -> None:
    orphans = [p.name for p in HERE.glob("*.stf") if not p.with_suffix(".p4").exists()]
    assert not orphans
