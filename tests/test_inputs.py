"""Opening user files: regular files only, read within a limit, located at the whole file."""

from __future__ import annotations

import io
import os
import tracemalloc

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.inputs import open_regular_file, read_limited, whole_file


def test_a_regular_file_opens(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"hello")
    with open_regular_file(str(tmp_path / "a.txt")) as f:
        assert f.read() == b"hello"


@pytest.mark.parametrize("make,message", [
    (lambda p: None, "no such file"),
    (lambda p: os.mkdir(p), "it is a directory"),
    (lambda p: os.mkfifo(p), "not a regular file"),
])
def test_anything_else_is_a_user_error(tmp_path, make, message):
    path = str(tmp_path / "x")
    make(path)
    with pytest.raises(DiagnosticError) as exc:
        open_regular_file(path)
    assert message in exc.value.render()


def test_a_device_is_located_at_the_whole_file():
    with pytest.raises(DiagnosticError) as exc:
        open_regular_file("/dev/zero")
    assert exc.value.render() == "/dev/zero: error: not a regular file"
    assert str(whole_file("x.pcap")) == "x.pcap"


def test_reading_within_a_limit_costs_what_the_file_holds():
    tracemalloc.start()
    try:
        assert read_limited(io.BytesIO(b"small"), 64 << 20) == b"small"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20                      # not the 64 MiB a single read(limit + 1) would allocate
    assert read_limited(io.BytesIO(bytes(100)), 10) == bytes(11)     # one byte past the limit tells "too long"
    assert read_limited(io.BytesIO(bytes(10)), 10) == bytes(10)
