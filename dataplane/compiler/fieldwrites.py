"""Two writes of fields of one header with only arithmetic on other locals between them become one
statement: a pass over the generated fast().

A field write is two operations on the header's int (``h = h & KEEP | value``), 160 bits for IPv4. The code
generator merges writes that come one after the other (emitter.merged_field_writes), but a program often
computes the next value between two writes: the TTL is decremented, then the checksum is worked out
from it, then written:

    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00ffffffffffffffffffffff | ttl << 88
    s = (csum ^ 0xffff) + ...                     # reads locals only
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffffffff0000ffffffffffffffff | (s & 0xffff ^ 0xffff) << 64

becomes the statements between, then ``h_ipv4_b_p = h_ipv4_b_p & (KEEP1 & KEEP2) | ttl << 88 | ...``.

The first write moves down past statements that assign locals other than the header's, do not read it,
do not store what its value reads, and call nothing; the second write's value must not read the header
and must keep every bit the first may set. What the statements between compute is unchanged; if one of
them fails (an int operation raising), the exception leaves fast() with its locals: the generated code
catches only ExitControl and ParserStop (checked), which only `raise` statements raise.
"""

from __future__ import annotations

import ast

from .astnames import catches_only_raised, statement_lists, stored_names
from .fieldreads import kept_bits, possible_bits

def merge_separated_field_writes(fn: ast.FunctionDef) -> None:
    """Merge the field writes of one header that only arithmetic on other locals separates (module doc)."""
    if not all(catches_only_raised(h) for node in ast.walk(fn) if isinstance(node, ast.Try) for h in node.handlers):
        return
    known = _bounded_locals(fn)
    for stmts in statement_lists(fn):
        i = 0
        while i < len(stmts):
            target = _merge_target(stmts, i, known)
            if target is None:
                i += 1
            else:
                stmts[target] = _merged(stmts[i], stmts[target], known)
                del stmts[i]


def _bounded_locals(fn: ast.FunctionDef) -> dict[str, int]:
    """The locals stored once only, by `name = value` with value's bits bounded (fieldreads.possible_bits),
    and those bits: whatever reads such a local sees that value (fieldreads.py keeps a written field's new
    value in one, `ipv4_88_8_2 = ipv4_88_8 - 1 & 0xff`)."""
    stores: dict[str, int] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, (ast.ExceptHandler, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                               ast.Import, ast.ImportFrom)) and node is not fn:
            for name in stored_names(node) if not isinstance(node, ast.ExceptHandler) else {node.name} - {None}:
                stores[name] = 2    # stored some other way (a handler's name, a definition): not once
    once = {name for name, count in stores.items() if count == 1} - {a.arg for a in fn.args.args}
    known: dict[str, int] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in once:
            bits = possible_bits(node.value, known)
            if bits is not None:
                known[node.targets[0].id] = bits
    return known


def _write(stmt, known: dict[str, int]) -> tuple[str, int, ast.expr] | None:
    """(header local, kept bits, value) if stmt is `h = h & KEEP | value` (either way round) writing only
    bits that KEEP clears."""
    kept = kept_bits(stmt, known)
    if kept is None:
        return None
    base, keep, side = kept
    return base, keep, getattr(stmt.value, side)


def _merge_target(stmts: list, i: int, known: dict[str, int]) -> int | None:
    """The index of the write that stmts[i], a field write, can merge into; None if there is none."""
    first = _write(stmts[i], known)
    if first is None:
        return None
    base, _keep, value = first
    if any(isinstance(n, ast.Call) for n in ast.walk(value)):
        return None         # what it calls would be called after the statements between
    reads = _loads(value)
    for j in range(i + 1, len(stmts)):
        stmt = stmts[j]
        second = _write(stmt, known)
        if second is not None and second[0] == base:
            fits = possible_bits(value, known) & ~second[1] == 0
            return j if fits and base not in _loads(second[2]) else None
        if not _movable_past(stmt, base, reads):
            return None
    return None


def _movable_past(stmt, base: str, reads: set[str]) -> bool:
    """Whether a write of `base` whose value reads `reads` can move from before stmt to after it."""
    if not (isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)):
        return False
    if any(isinstance(n, (ast.Call, ast.NamedExpr, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom,
                          ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) for n in ast.walk(stmt)):
        return False
    stored = stored_names(stmt)
    return base not in stored and base not in _loads(stmt.value) and not stored & reads


def _merged(first: ast.Assign, second: ast.Assign, known: dict[str, int]) -> ast.Assign:
    """`h = h & (K1 & K2) | V1 | V2`: what `h = h & K1 | V1` then `h = h & K2 | V2` do, V1's bits kept by K2
    and V2 not reading h."""
    base, keep1, value1 = _write(first, known)
    _, keep2, value2 = _write(second, known)
    keep = ast.Constant(keep1 & keep2)
    keep.hex = True         # written back in hex, as the code generator writes masks (simplify.py)
    kept = ast.BinOp(ast.Name(base, ast.Load()), ast.BitAnd(), keep)
    value = ast.BinOp(ast.BinOp(kept, ast.BitOr(), value1), ast.BitOr(), value2)
    return ast.Assign(targets=[ast.Name(base, ast.Store())], value=value, lineno=second.lineno)


def _loads(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
