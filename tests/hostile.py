"""Shared by the hostile-input tests: run the command line boxed in, and check a user error's shape."""

from __future__ import annotations

import resource
import subprocess
import sys

MEMORY_LIMIT = 1 << 30


def limited_cli(args: list[str], cwd, timeout: float = 20.0) -> subprocess.CompletedProcess:
    """Run `dataplane ARGS` with at most 1 GiB of address space: a regression fails instead of eating the
    machine (or, with the timeout, hanging the test run)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    return subprocess.run([sys.executable, "-m", "dataplane", *map(str, args)], cwd=cwd, preexec_fn=limit,
                          capture_output=True, text=True, timeout=timeout)


def assert_user_error(returncode: int, err: str, where: str) -> None:
    """Exit status 1 with an error at `where` (file:line:col or file), and no trace of an internal error."""
    assert returncode == 1, err
    assert err.startswith(f"{where}: error: "), err
    assert "Traceback" not in err and "internal error" not in err, err
