"""dataplane/protocols/checksums.py: big_endian_int, chosen once for the Python it runs on."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from dataplane.protocols import checksums

SAMPLES = [b"", b"\x01", b"\x01\x02", b"\xff" * 20, bytes(range(200)), b"\x00\x00\x80"]


def _checksums_as_on(version: tuple, monkeypatch):
    """A fresh copy of the checksums module, imported as a Python of `version` would import it."""
    monkeypatch.setattr(sys, "version_info", version)
    spec = importlib.util.spec_from_file_location("dataplane.protocols._checksums_copy", checksums.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 11, 7), (3, 13, 0)])
def test_big_endian_int_reads_big_endian_on_every_python(monkeypatch, version):
    # On 3.10 int.from_bytes needs its byteorder; from 3.11 on big-endian is the default and is not passed.
    copy = _checksums_as_on(version, monkeypatch)
    monkeypatch.undo()
    for data in SAMPLES:
        assert copy.big_endian_int(data) == int.from_bytes(data, "big"), data
        assert copy.data_sum(data) == checksums.data_sum(data)
    assert copy.big_endian_int(b"\x01\x02") == 0x0102


def test_big_endian_int_of_this_python():
    for data in SAMPLES:
        assert checksums.big_endian_int(data) == int.from_bytes(data, "big")
