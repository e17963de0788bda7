"""Compile a P4 file to a ready-to-instantiate program, with a per-process cache."""

from __future__ import annotations

import os

from .compiler.program import CompiledProgram, compile_program
from .frontend.program import load_program

_CACHE: dict[tuple, CompiledProgram] = {}


def build(path: str, include_dirs: list[str] | None = None, defines: dict | None = None) -> CompiledProgram:
    """Check and compile a program (once per process for the same file contents)."""
    try:
        stat = os.stat(path)
        key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size, tuple(include_dirs or ()),
               tuple(sorted((defines or {}).items())))
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    program = compile_program(load_program(path, include_dirs, defines))
    if key is not None:
        _CACHE[key] = program
    return program
