"""Golden-file tests for the diagnostics of `dataplane check`.

In the style of p4c's testdata/p4_16_errors: every program in

    tests/frontend/golden/errors/<name>.p4     (invalid: exit status 1)
    tests/frontend/golden/warnings/<name>.p4   (valid with warnings: exit status 0)

has next to it a file <name>.stderr holding the exact text that
``dataplane check -q <name>.p4`` prints on stderr when it is run with the
current directory set to the program's directory (so that the paths in the
messages are just ``<name>.p4``). Each program starts with a ``// ...``
comment saying what is wrong with it. Shared valid pieces (headers, the
blocks of a v1model pipeline, the ``main`` instance) live in
golden/errors/include/ and are pulled in with relative ``#include "..."``
lines, so that every error is reported in the program's own file.

The checker is run in-process through ``dataplane.cli.main``. Besides the
exit status and the exact stderr, the test checks that no output is a
Python traceback or an "internal error", and that no message points into
the shared include files.

The one normalisation applied before comparing: the absolute path of the
architecture include directory (dataplane/p4include, shown in the hint of
a missing #include) is replaced by ``$P4INCLUDE`` so that the golden files
do not depend on where the package is installed.

Updating the golden files
-------------------------
After an intended change to a message, regenerate the .stderr files with

    DATAPLANE_UPDATE_GOLDEN=1 python -m pytest tests/frontend/test_golden_diagnostics.py

which rewrites every .stderr file with the current output instead of
comparing (exit status and the traceback check are still asserted). Review
the resulting diff with ``git diff tests/frontend/golden`` before committing.
To add a case, write the .p4 file and run the same command, then check the
new .stderr file by eye: is the message right, is line:col on the culprit,
is the caret under the right text, is the hint true?
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataplane import cli
from dataplane.frontend.preprocess import system_include_dir

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("DATAPLANE_UPDATE_GOLDEN") == "1"
P4INCLUDE = "$P4INCLUDE"

# (sub-directory, expected exit status)
KINDS = (("errors", 1), ("warnings", 0))


def _cases():
    cases = []
    for kind, status in KINDS:
        for program in sorted((GOLDEN / kind).glob("*.p4")):
            cases.append(pytest.param(kind, status, program.name, id=f"{kind}/{program.stem}"))
    return cases


CASES = _cases()


def _normalize(text: str) -> str:
    sysdir = system_include_dir()
    for path in {sysdir, os.path.realpath(sysdir)}:
        text = text.replace(path, P4INCLUDE)
    return text


def test_golden_suite_is_complete():
    """Every program has its golden file, and there is no stray golden file."""
    errors = list((GOLDEN / "errors").glob("*.p4"))
    assert len(errors) >= 45
    for kind, _ in KINDS:
        directory = GOLDEN / kind
        programs = {p.stem for p in directory.glob("*.p4")}
        goldens = {p.stem for p in directory.glob("*.stderr")}
        if not UPDATE:
            assert programs - goldens == set(), f"programs without a .stderr file in {kind}/"
        assert goldens - programs == set(), f".stderr files without a program in {kind}/"
        for p in directory.glob("*.p4"):
            first = p.read_bytes().split(b"\n", 1)[0]
            if p.stat().st_size:
                assert first.startswith(b"// "), f"{kind}/{p.name} must start with a '// <what is wrong>' line"


@pytest.mark.parametrize("kind, status, name", CASES)
def test_golden_diagnostics(kind, status, name, monkeypatch, capsys):
    directory = GOLDEN / kind
    monkeypatch.chdir(directory)
    monkeypatch.delenv("DATAPLANE_DEBUG", raising=False)

    rc = cli.main(["check", "-q", name])
    out, err = capsys.readouterr()

    for text in (out, err):
        assert "Traceback" not in text
        assert "internal error" not in text
    assert out == "", "check -q must print nothing on stdout"
    # Messages must point into the program itself, not into the shared includes.
    assert str(GOLDEN / "errors" / "include") not in err
    assert rc == status, f"exit status {rc}, expected {status}; stderr:\n{err}"

    actual = _normalize(err)
    golden = directory / (Path(name).stem + ".stderr")
    if UPDATE:
        golden.write_text(actual, encoding="utf-8", newline="")
        return
    assert golden.exists(), f"no golden file {golden}; run with DATAPLANE_UPDATE_GOLDEN=1 to create it"
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected
