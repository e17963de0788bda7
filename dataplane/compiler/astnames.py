"""What the passes on the syntax tree of generated Python (simplify.py, versions.py, fieldreads.py,
selects.py, carries.py, masks.py, bytereads.py, ...) ask of it in the same way: which local names a piece
may store (the one rule they use to forget what they knew of a local), which names only plain assignments
bind, where its lists of statements are, which handlers can start only at a `raise` statement, and the value
of an int constant."""

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


def statement_lists(fn) -> list[list]:
    """Every non-empty list of statements in fn (bodies, else branches, finally blocks; a handler's body is
    that of its ExceptHandler node), each once, found before any is changed."""
    lists = []
    for node in ast.walk(fn):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                lists.append(block)
    return lists


# The exceptions the generated code raises only with `raise` statements (the parser's end and a control's `exit`):
# a handler that catches only these can start only where such a statement is, never inside an assignment or a
# call.
RAISED_ONLY_BY_RAISE = frozenset(("ExitControl", "ParserStop"))


def catches_only_raised(handler: ast.ExceptHandler) -> bool:
    """Whether handler catches only an exception in RAISED_ONLY_BY_RAISE (one name, not a tuple or a bare except)."""
    return isinstance(handler.type, ast.Name) and handler.type.id in RAISED_ONLY_BY_RAISE


def otherwise_bound(fn, plain_targets: set[int]) -> set[str]:
    """Names fn binds other than by a plain assignment (whose target nodes' ids are plain_targets, as
    plain_stores gives them), or that another scope may bind."""
    names = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and id(node) not in plain_targets:
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
            names.add(node.name)
        elif isinstance(node, ast.arguments) and node is not fn.args:
            names.update(a.arg for a in node.posonlyargs + node.args + node.kwonlyargs)
            names.update(a.arg for a in (node.vararg, node.kwarg) if a is not None)
    return names


def names_taken(fn) -> set[str]:
    """Every name fn's code or parameters use: what a new local's name must not be."""
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | {a.arg for a in fn.args.args}


def fresh(base: str, taken: set[str]) -> str:
    """base, or base with a number (base_2, base_3, ...), not among taken (which it joins)."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def int_constant(node) -> int | None:
    """The value of node if it is an int constant (not a bool), else None."""
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def plain_stores(fn) -> tuple[dict[str, list], set[int]]:
    """The values each name of fn is given by plain assignments (`x = E`, `x = y = E`), and the ids of those
    assignments' target nodes (a store of a name elsewhere is some other kind of binding)."""
    stores: dict[str, list] = {}
    plain_targets: set[int] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            for t in node.targets:
                stores.setdefault(t.id, []).append(node.value)
                plain_targets.add(id(t))
    return stores, plain_targets
