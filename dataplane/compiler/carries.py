"""One's-complement folds in one step: a pass over the generated fast().

An incremental checksum update (RFC 1624, router.p4's csum16_update) sums 16-bit words in a bit<32> and
folds the carries back in twice, which the code generator writes as it reads:

    s = ((hc ^ 0xffff) + (old ^ 0xffff) & 0xffffffff) + new & 0xffffffff
    s = (s & 0xffff) + (s >> 0x10) & 0xffffffff
    s = (s & 0xffff) + (s >> 0x10) & 0xffffffff

For 0 <= s < 2**32 the two folds give the one's-complement sum in 16 bits: the value in 0 .. 0xffff that
is congruent to s modulo 0xffff (2**16 is 1 modulo 0xffff), and 0 only for s == 0 (a fold of a positive
value is positive). That is what ``s % 0xffff or (0xffff if s else 0)`` computes, in one line and a
third of the time:

    s = s % 0xffff or (0xffff if s else 0)

The first fold leaves at most 0xffff + 0xffff, the second at most 0xffff, so the two are replaced only
when s is known to be below 2**32 before them (it was just assigned a value masked to 32 bits or fewer)
and their masks keep at least the low 17 bits (they then never change a value).
"""

from __future__ import annotations

import ast

from .astnames import int_constant, statement_lists
from .fieldreads import possible_bits

# The one's-complement sum of a value below 2**32 in 16 bits, as an expression of the local `name`.
FOLDED = "{name} % 0xffff or (0xffff if {name} else 0)"

_BELOW_2_32 = (1 << 32) - 1
_SEVENTEEN_BITS = (1 << 17) - 1


def fold_end_around_carries(fn: ast.FunctionDef) -> None:
    """Replace each pair of end-around-carry folds of a local known to be below 2**32 by one line."""
    for body in statement_lists(fn):
        body[:] = _folded(body)


def _folded(body: list) -> list:
    out = list(body)
    i = 0
    while i + 2 < len(out):
        first, second, third = out[i:i + 3]
        name = _stored_local(first)
        if name is not None and _below_2_32(first.value) \
                and _is_fold_of(second, name) and _is_fold_of(third, name):
            line = ast.parse(FOLDED.format(name=name)).body[0].value
            _mark_hex(line)
            out[i + 1:i + 3] = [ast.copy_location(
                ast.Assign(targets=[ast.Name(name, ast.Store())], value=line, lineno=second.lineno), second)]
        i += 1
    return out


def _below_2_32(expr) -> bool:
    """Whether expr is surely a non-negative int below 2**32 (its possible bits are known and within 32)."""
    bits = possible_bits(expr)
    return bits is not None and bits <= _BELOW_2_32


def _stored_local(stmt) -> str | None:
    """The local that `name = value` stores, if stmt is that."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def _is_fold_of(stmt, name: str) -> bool:
    """Whether stmt is `name = (name & 0xffff) + (name >> 16) & M` (the sum either way round), with M
    keeping the low 17 bits."""
    if _stored_local(stmt) != name:
        return False
    value = stmt.value
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitAnd)):
        return False
    mask = int_constant(value.right)
    if mask is None or mask & _SEVENTEEN_BITS != _SEVENTEEN_BITS:
        return False
    total = value.left
    if not (isinstance(total, ast.BinOp) and isinstance(total.op, ast.Add)):
        return False
    parts = (total.left, total.right)
    return any(_is(low, name, ast.BitAnd, 0xFFFF) and _is(high, name, ast.RShift, 16)
               for low, high in (parts, parts[::-1]))


def _is(node, name: str, op, constant: int) -> bool:
    """Whether node is `name <op> constant`."""
    return isinstance(node, ast.BinOp) and isinstance(node.op, op) and isinstance(node.left, ast.Name) \
        and node.left.id == name and int_constant(node.right) == constant


def _mark_hex(node) -> None:
    """The constants of the new line are written in hex (simplify.py's _HexLiterals)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and sub.value == 0xFFFF:
            sub.hex = True
