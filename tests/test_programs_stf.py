"""STF packet tests for the shipped example programs.

Every ``tests/stf/<program>/<name>.stf`` whose directory names a program
``programs/<program>.p4`` is run in-process on a fresh device built from
that program (BMv2 simple_switch semantics). The expected packets in the
STF files were computed independently of the emulator (by hand from the
protocol layouts, or with scapy / zlib for checksums and CRCs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.build import build
from dataplane.diagnostics import DiagnosticError
from dataplane.frontend.preprocess import read_source
from dataplane.runtime.device import Device
from dataplane.stf import run_stf

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "programs"
STF_DIR = Path(__file__).resolve().parent / "stf"


def _stf_files() -> list[Path]:
    if not STF_DIR.is_dir():
        return []
    return sorted(p for p in STF_DIR.glob("*/*.stf") if (PROGRAMS / f"{p.parent.name}.p4").is_file())


STF_FILES = _stf_files()


@pytest.mark.parametrize("stf_path", STF_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in STF_FILES])
def test_stf(stf_path: Path) -> None:
    program_path = PROGRAMS / f"{stf_path.parent.name}.p4"
    try:
        program = build(str(program_path))
        device = Device(program)
        source = read_source(str(stf_path))
        result = run_stf(device, source)
    except DiagnosticError as exc:
        pytest.fail(f"{stf_path.relative_to(ROOT)}: {exc.render()}", pytrace=False)
    passed = result.passed     # a plain name keeps pytest from printing the whole StfResult
    assert passed, f"{stf_path.relative_to(ROOT)} failed:\n" + "\n".join(result.messages)


@pytest.mark.parametrize("stf_path", STF_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in STF_FILES])
def test_stf_traced(stf_path: Path) -> None:
    """The same tests through the traced pipeline (generated separately from the fast one)."""
    program_path = PROGRAMS / f"{stf_path.parent.name}.p4"
    try:
        device = Device(build(str(program_path)))
        result = run_stf(device, read_source(str(stf_path)), trace=True)
    except DiagnosticError as exc:
        pytest.fail(f"{stf_path.relative_to(ROOT)}: {exc.render()}", pytrace=False)
    passed = result.passed
    assert passed, f"{stf_path.relative_to(ROOT)} failed (traced):\n" + "\n".join(result.messages)
    assert len(result.traces) == result.packets_in


def test_stf_files_are_commented() -> None:
    """Each STF file starts by saying what it checks."""
    for path in STF_FILES:
        first = path.read_text().lstrip().splitlines()[0] if path.read_text().strip() else ""
        assert first.startswith("#"), f"{path.relative_to(ROOT)} does not start with a '#' comment"


def test_every_program_has_stf_tests() -> None:
    """Every programs/*.p4 has at least one STF test in tests/stf/<program>/."""
    missing = sorted(p.stem for p in PROGRAMS.glob("*.p4") if not any((STF_DIR / p.stem).glob("*.stf")))
    assert not missing, "programs without STF tests in tests/stf/<program>/: " + ", ".join(missing)


def test_every_stf_directory_names_a_program() -> None:
    """A directory under tests/stf/ that matches no program would be silently skipped."""
    if not STF_DIR.is_dir():
        pytest.skip("no tests/stf directory")
    orphans = sorted(d.name for d in STF_DIR.iterdir() if d.is_dir() and not (PROGRAMS / f"{d.name}.p4").is_file())
    assert not orphans, "tests/stf/ directories that match no programs/<dir>.p4: " + ", ".join(orphans)
