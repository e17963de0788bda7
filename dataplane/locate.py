"""Finding P4 programs and topologies by path, or by the name of one we ship.

programs/ and topologies/ install as the packages dataplane.programs and
dataplane.topologies, so `dataplane run line` works from any directory.
"""

from __future__ import annotations

import os
from importlib import resources


def _shipped(package: str, name: str, suffix: str) -> str | None:
    fname = name if name.endswith(suffix) else name + suffix
    if os.sep in fname or "/" in fname:
        return None
    path = resources.files(package).joinpath(fname)
    return str(path) if path.is_file() else None


def shipped_program(name: str) -> str | None:
    """The path of a program we ship, by name with or without .p4 (None if there is none)."""
    return _shipped("dataplane.programs", name, ".p4")


def shipped_topologies() -> list[str]:
    """The names of the topologies we ship."""
    return sorted(p.name[:-5] for p in resources.files("dataplane.topologies").iterdir() if p.name.endswith(".yaml"))


def find_topology(name: str) -> str | None:
    """A topology file given as a path, or by the name of one we ship (line, fat-tree, ...)."""
    if os.path.isfile(name):
        return name
    return _shipped("dataplane.topologies", name, ".yaml")


def find_program(name: str, relative_to: str | None = None) -> str | None:
    """A program given as a path (relative to a file's directory, or to the current directory) or by name."""
    candidates = []
    if relative_to is not None:
        candidates.append(os.path.join(os.path.dirname(os.path.abspath(relative_to)), name))
    candidates.append(name)
    for c in candidates:
        for p in (c, c + ".p4"):
            if os.path.isfile(p):
                return os.path.normpath(p)
    return shipped_program(name)


def shipped_sweeps() -> list[str]:
    """The names of the sweeps we ship (topologies/sweeps/*.yaml)."""
    folder = resources.files("dataplane.topologies").joinpath("sweeps")
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def find_sweep(name: str) -> str | None:
    """A sweep file given as a path, or by the name of one we ship (topologies/sweeps/)."""
    if os.path.isfile(name):
        return name
    fname = name if name.endswith(".yaml") else name + ".yaml"
    if os.sep in fname or "/" in fname:
        return None
    path = resources.files("dataplane.topologies").joinpath("sweeps", fname)
    return str(path) if path.is_file() else None
