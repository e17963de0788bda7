"""p4c's own test corpus as a yardstick: where it is, which of its programs we run, and how.

The corpus (see ../shared/corpus/README.md) is not part of the project: it is found at
``../shared/corpus`` from the project root, or wherever the environment variable DATAPLANE_CORPUS
says. Three groups of its programs are used:

* STF tests: ``p4_16_samples/*-bmv2.stf`` whose ``.p4`` includes v1model.p4, run as
  ``dataplane stf`` runs them (dataplane.build.build, Device, run_stf);
* sample programs: every v1model program in ``p4_16_samples`` (and its sub-folders, without their
  ``include/`` helpers), which ``dataplane check`` should accept;
* error programs: every ``p4_16_errors/*.p4``, which ``dataplane check`` should reject.

Each program runs in a forked child of the test process: calls into the library, as the command
line makes them, but boxed in. A child that runs past its time limit is killed (an alarm signal
cannot interrupt a long computation inside C code, a kill can), a child that grows past its memory
limit fails with MemoryError instead of taking the machine down, and one program's state (the
build cache, a half-built object after an interrupted call) cannot leak into the next. Children run
side by side, as many as the machine has processors.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import dataplane

ROOT = Path(__file__).resolve().parents[2]
CORPUS_ENV = "DATAPLANE_CORPUS"

# Outcomes of one program.
PASSED = "passed"        # an STF test whose every expectation held
FAILED = "failed"        # an STF test that ran and saw other packets than expected
ACCEPTED = "accepted"    # `check` found no error
REJECTED = "rejected"    # a DiagnosticError: the program (or its STF file) was refused with a message
INTERNAL = "internal"    # any other exception, a pipeline crash (PIPELINE_ERROR drop), or a dead child
TIMEOUT = "timeout"      # still running when its time was up; killed

# Per program. The slowest STF test takes under a second, the slowest check (switch_p4_16) about
# 3 s; the limits leave room for a slow, busy machine while keeping a hang to a minute.
STF_TIMEOUT = 60.0
CHECK_TIMEOUT = 30.0
# Address space a child may add to what it inherits: a runaway program fails with MemoryError.
MEMORY_HEADROOM = 2 << 30

# figure -> (good, total, internal errors, slowest Outcome), filled in by the tests for the summary
# that conftest.py prints at the end of the run.
FIGURES: dict[str, tuple] = {}

_INCLUDES_V1MODEL = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]v1model\.p4[>"]', re.M)


def corpus_dir() -> Path:
    """Where the corpus is: $DATAPLANE_CORPUS, else ../shared/corpus from the project root."""
    override = os.environ.get(CORPUS_ENV)
    return Path(override) if override else ROOT.parent / "shared" / "corpus"


def testdata() -> Path:
    return corpus_dir() / "p4c" / "testdata"


def samples_dir() -> Path:
    return testdata() / "p4_16_samples"


def errors_dir() -> Path:
    return testdata() / "p4_16_errors"


def includes_v1model(path: Path) -> bool:
    return bool(_INCLUDES_V1MODEL.search(path.read_bytes()))


def _name(path: Path, base: Path) -> str:
    """A program's name in reports and in passing.json: its path below `base`, without '.p4'."""
    return path.relative_to(base).with_suffix("").as_posix()


def stf_tests() -> dict[str, tuple[Path, Path]]:
    """name -> (program, STF file) for every v1model *-bmv2.stf test."""
    base = samples_dir()
    tests = {}
    for stf in sorted(base.glob("*-bmv2.stf")):
        program = stf.with_suffix(".p4")
        if program.is_file() and includes_v1model(program):
            tests[_name(program, base)] = (program, stf)
    return tests


def sample_programs() -> dict[str, Path]:
    """name -> program for every v1model program of p4_16_samples. Files under an include/ folder are
    pieces of a larger program (fabric_20190420/include/...), not programs, and are left out."""
    base = samples_dir()
    found = sorted(base.glob("*.p4")) + sorted(base.glob("*/*.p4"))
    return {_name(p, base): p for p in found if includes_v1model(p)}


def error_programs() -> dict[str, Path]:
    base = errors_dir()
    return {_name(p, base): p for p in sorted(base.glob("*.p4"))}


# --------------------------------------------------------------------------- one program, in a child


def _first_diagnostic(exc) -> str:
    # The first error, not a warning before it: the error is why the program was refused.
    errors = [d for d in exc.diagnostics if d.severity == "error"]
    d = (errors or exc.diagnostics or [None])[0]
    if d is None:
        return "(no message)"
    where = f"{Path(d.span.source.path).name}:{d.span.line}: " if d.span is not None and d.span.source else ""
    return (where + d.message.splitlines()[0]) if d.message else where


def _crash(exc: BaseException) -> str:
    """An internal error in one line: the exception and where in dataplane it was raised."""
    package = str(Path(dataplane.__file__).parent) + os.sep
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(package)]
    at = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] + at


def run_stf_test(program: Path, stf: Path) -> tuple[str, str]:
    """What `dataplane stf -I p4_16_samples PROGRAM STF` does, as an outcome and a one-line detail."""
    from dataplane.build import build
    from dataplane.diagnostics import DiagnosticError
    from dataplane.frontend.preprocess import read_source
    from dataplane.runtime.device import Device
    from dataplane.runtime.trace import DropReason
    from dataplane.stf import run_stf
    try:
        device = Device(build(str(program), [str(samples_dir())]), name=program.name)
        result = run_stf(device, read_source(str(stf), kind="STF files"))
    except DiagnosticError as exc:
        return REJECTED, _first_diagnostic(exc)
    except Exception as exc:         # PipelineBug included: a pipeline crash is never a drop
        return INTERNAL, _crash(exc)
    crashes = [detail for reason, detail in result.drops if reason is DropReason.PIPELINE_ERROR]
    crashes += [detail for _port, _data, detail in device.internal_errors]
    if crashes:
        return INTERNAL, f"pipeline error: {crashes[0]}"
    if result.passed:
        return PASSED, ""
    return FAILED, result.messages[0].splitlines()[0] if result.messages else "failed without a message"


def run_check(program: Path) -> tuple[str, str]:
    """What `dataplane check -I p4_16_samples PROGRAM` does, as an outcome and a one-line detail. (Error
    programs get the same -I: a few of them include pieces of p4_16_samples.)"""
    from dataplane.frontend.program import load_program
    return _accepted_or_not(lambda: load_program(str(program), [str(samples_dir())]))


def run_compile(program: Path) -> tuple[str, str]:
    """What compiling a sample program does (check it and generate its pipeline), as an outcome: ACCEPTED
    when it compiles, so the figure reads 'compiled'."""
    from dataplane.build import build
    return _accepted_or_not(lambda: build(str(program), [str(samples_dir())]))


def _accepted_or_not(job: Callable[[], object]) -> tuple[str, str]:
    from dataplane.diagnostics import DiagnosticError
    try:
        job()
    except DiagnosticError as exc:
        return REJECTED, _first_diagnostic(exc)
    except Exception as exc:
        return INTERNAL, _crash(exc)
    return ACCEPTED, ""


# --------------------------------------------------------------------------- children


@dataclass
class Outcome:
    name: str
    status: str
    detail: str
    seconds: float


@dataclass
class _Child:
    name: str
    pid: int
    fd: int
    started: float
    chunks: list


def _address_space() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(fd: int, job: Callable[[], tuple[str, str]]) -> None:
    """In the forked child: run the job and write its outcome to the pipe; never return to pytest."""
    code = 0
    try:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = _address_space() + MEMORY_HEADROOM
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        try:
            status, detail = job()
        except MemoryError as exc:       # only the exception's name: describing it needs memory too
            status, detail = INTERNAL, type(exc).__name__
        except Exception as exc:
            status, detail = INTERNAL, _crash(exc)
        os.write(fd, json.dumps([status, detail]).encode())
    except BaseException:     # the parent reports a child that wrote nothing as an internal error
        code = 1
    finally:
        os._exit(code)


def _spawn(name: str, job: Callable[[], tuple[str, str]]) -> _Child:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child(w, job)
    os.close(w)
    return _Child(name, pid, r, time.monotonic(), [])


def _reap(child: _Child, killed: bool) -> Outcome:
    os.close(child.fd)
    _, status = os.waitpid(child.pid, 0)
    seconds = time.monotonic() - child.started
    if killed:
        return Outcome(child.name, TIMEOUT, f"killed after {seconds:.0f} s", seconds)
    try:
        outcome, detail = json.loads(b"".join(child.chunks))
    except ValueError:
        how = (f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status)
               else f"exit status {os.waitstatus_to_exitcode(status)}")
        return Outcome(child.name, INTERNAL, f"the worker died ({how}) without an outcome", seconds)
    return Outcome(child.name, outcome, detail, seconds)


def warm_up() -> None:
    """Import and prime, in the test process, what every child needs: each child then starts from a
    copy of it instead of paying for the imports and the parser tables again (most corpus programs
    take milliseconds; the imports take a few hundred). One of our own STF tests does it all; its
    outcome does not matter here (a broken build shows in every corpus program's outcome)."""
    run_stf_test(ROOT / "programs" / "l2_switch.p4", ROOT / "tests" / "stf" / "l2_switch" / "unicast.stf")


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def run_boxed(jobs: dict[str, Callable[[], tuple[str, str]]], timeout: float) -> dict[str, Outcome]:
    """Run every job in a child of its own, `workers()` at a time, each killed after `timeout` seconds."""
    warm_up()
    todo = list(jobs.items())[::-1]
    running: dict[int, _Child] = {}
    done: dict[str, Outcome] = {}
    try:
        while todo or running:
            while todo and len(running) < workers():
                name, job = todo.pop()
                child = _spawn(name, job)
                running[child.fd] = child
            first_deadline = min(c.started for c in running.values()) + timeout
            wait = max(0.0, first_deadline - time.monotonic())
            ready, _, _ = select.select(list(running), [], [], wait)
            for fd in ready:
                data = os.read(fd, 1 << 16)
                if data:
                    running[fd].chunks.append(data)
                else:
                    child = running.pop(fd)
                    done[child.name] = _reap(child, killed=False)
            for fd, child in list(running.items()):
                if time.monotonic() - child.started > timeout:
                    _kill(child)
                    done[child.name] = _reap(running.pop(fd), killed=True)
    finally:
        for child in running.values():      # an interrupted run (Ctrl-C) leaves no children behind
            _kill(child)
            _reap(child, killed=True)
    return {name: done[name] for name in jobs}


def _kill(child: _Child) -> None:
    try:
        os.kill(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
