"""No STF test of our own suite may pass over a pipeline crash.

The device turns an exception inside the pipeline into a drop with the reason PIPELINE_ERROR, so that
a simulated network keeps going. In a test that drop must never count as the drop a program asked for:
run_stf stops with PipelineBug, and the device remembers the crash in internal_errors. This test runs
every tests/stf/<program>/*.stf, in the fast and in the traced pipeline (they are generated separately),
and fails on any trace of a crash, however the STF file itself turned out.
"""

from __future__ import annotations

from pathlib import Path

from dataplane.build import build
from dataplane.frontend.preprocess import read_source
from dataplane.runtime.device import Device
from dataplane.runtime.trace import DropReason
from dataplane.stf import PipelineBug, run_stf

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "programs"
STF_DIR = ROOT / "tests" / "stf"


def _own_stf_files() -> list[Path]:
    return sorted(p for p in STF_DIR.glob("*/*.stf") if (PROGRAMS / f"{p.parent.name}.p4").is_file())


def _crashes(stf: Path, trace: bool) -> list[str]:
    """Every pipeline crash while running one STF file, as 'file (mode): detail'."""
    device = Device(build(str(PROGRAMS / f"{stf.parent.name}.p4")))
    where = f"{stf.relative_to(ROOT)} ({'traced' if trace else 'fast'})"
    try:
        result = run_stf(device, read_source(str(stf)), trace=trace)
    except PipelineBug as exc:
        return [f"{where}: {exc}"]
    found = [detail for reason, detail in result.drops if reason is DropReason.PIPELINE_ERROR]
    found += [detail for _port, _data, detail in device.internal_errors]
    return [f"{where}: {detail}" for detail in found]


def test_own_stf_files_exist() -> None:
    """The test below must not pass for having found nothing to run."""
    assert len(_own_stf_files()) >= 50


def test_no_own_stf_test_records_a_pipeline_error() -> None:
    crashes = [c for stf in _own_stf_files() for trace in (False, True) for c in _crashes(stf, trace)]
    assert not crashes, "pipeline crashes in our own STF tests:\n" + "\n".join(crashes)
