"""Shared by the hostile-input tests: run the command line boxed in, and check a user error's shape."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
import sys

import dataplane

MEMORY_LIMIT = 1 << 30
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(dataplane.__file__)))


def limited_cli(args: list[str], cwd, timeout: float = 20.0) -> subprocess.CompletedProcess:
    """Run `dataplane ARGS` with at most 1 GiB of address space: a regression fails instead of eating the
    machine (or, with the timeout, hanging the test run)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    # The dataplane under test, whatever an installed copy elsewhere may be.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SOURCE_ROOT, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "dataplane", *map(str, args)], cwd=cwd, preexec_fn=limit,
                          capture_output=True, text=True, timeout=timeout, env=env)


def assert_user_error(returncode: int, err: str, where: str) -> None:
    """Exit status 1 with an error at `where` (file:line:col or file), and no trace of an internal error."""
    assert returncode == 1, err
    assert err.startswith(f"{where}: error: "), err
    assert "Traceback" not in err and "internal error" not in err, err


def _address_space() -> int:
    """This process's current virtual memory size in bytes (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


@contextlib.contextmanager
def boxed(directory, allowed: str = r"", headroom: int = MEMORY_LIMIT):
    """Run a hostile input in-process, boxed in: the address space may grow by at most `headroom` (a
    regression raises MemoryError instead of eating the machine), the working directory is `directory`,
    and afterwards `directory` holds only what was there before and names matching the regular expression
    `allowed` (expected outputs): no input may make dataplane create a file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + headroom
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    cwd = os.getcwd()
    before = set(os.listdir(directory))
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    stray = {n for n in set(os.listdir(directory)) - before if not (allowed and re.fullmatch(allowed, n))}
    assert not stray, f"files created: {sorted(stray)}"
