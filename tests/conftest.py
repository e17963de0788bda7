"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def p4_file(tmp_path):
    """Write P4 text to a file in a temporary directory and return its path."""
    def write(text: str, name: str = "prog.p4") -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p
    return write
