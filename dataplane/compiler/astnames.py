"""Which local names a piece of generated Python may store: the one rule the passes on the syntax tree
(simplify.py, versions.py, fieldreads.py) use to forget what they knew of a local."""

from __future__ import annotations

import ast


def stored_names(node) -> set[str]:
    """The names that `node` (a statement or a list of them) may store or delete, in it or in anything
    nested."""
    nodes = node if isinstance(node, list) else [node]
    names = set()
    for n in nodes:
        for sub in ast.walk(n):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                names.add(sub.id)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                names.add(sub.name)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return names
