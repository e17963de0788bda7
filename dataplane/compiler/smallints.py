"""Bit operations on small ints written as the arithmetic CPython specializes: a pass over the generated fast().

CPython 3.11 specializes ``+``, ``-`` and ``*`` of two ints (BINARY_OP_ADD_INT, ..._SUBTRACT_INT,
..._MULTIPLY_INT, with a fast path for values below 2**30), but not ``<<``, ``|`` or ``^``, which go the
generic way through PyNumber_Lshift and friends. The code generator and the passes before this one build
16-bit words and sums of them with those (``data[16] << 8 | data[17]``, ``(ttl << 8 | proto) ^ 0xffff``).
Where the values are known to be small non-negative ints (masks.py's bits: a byte of `data`, a masked
value, a local whose every store is such) they mean the same as the arithmetic:

- ``x << c`` is ``x * 2**c`` for every int x;
- ``a | b`` is ``a + b`` when no bit can be set on both sides;
- ``x ^ c`` is ``c - x`` when c has every bit x can have;
- and first, ``h | a << 88 | b << 64``, a header's field writes merged (fieldwrites.py), is
  ``h | (a << 24 | b) << 64``: shifts of small values side by side in a chain of ``|`` are shifted once,
  together, so that the ``|`` between them is of small ints (then ``a * 16777216 + b``), not of wide ones.

By callgrind, ``data[12] << 8 | data[13]`` costs about 800 instructions and ``data[12] * 256 + data[13]``
about 650; ``x << 2`` about 150 and ``x * 4`` about 60; the IPv4 TTL and checksum write about 2,060 and,
shifted once, 1,850. ``x << c`` is multiplied only when x and 2**c are below 2**30 (one digit of a CPython
int: the specialized multiplication's fast path, which gives their product whole), and sums and differences
are of values below 2**60: on wider ints the shift and the bitwise operations are as cheap as the
arithmetic, or cheaper. ``a | b`` of two bools is a bool and ``a + b`` an int, so ``|`` is rewritten only
when a side is surely not a bool.

It runs after masks.py, whose analysis of the bits it uses, and after the passes that look for the
bitwise shapes (field reads, byte reads, checksum words).
"""

from __future__ import annotations

import ast

from .astnames import int_constant
from .masks import Bits, NESTED_SCOPES, local_bits, never_rebound

# One 30-bit digit of a CPython int: the specialized arithmetic's fast path (IS_MEDIUM_VALUE in 3.11) takes
# operands below it, and gives their product whole (up to two digits).
SMALL = 1 << 30
# Two digits: a sum or difference of such still costs less than a bitwise operation (about 550 instructions
# against 610 for (x << 24) + y and x << 24 | y).
TWO_DIGITS = 1 << 60

# Operations whose result is an int even when their operands are bools.
_INT_RESULTS = (ast.LShift, ast.RShift, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)


def use_specialized_arithmetic(fn: ast.FunctionDef, data: str = "data") -> None:
    """Rewrite fn's `<<`, `|` and `^` of small ints into `*`, `+` and `-` where they mean the same (see the
    module doc)."""
    values = Bits(local_bits(fn, data), data if never_rebound(fn, data) else None)
    fn.body = [_Arithmetic(values, data).visit(stmt) for stmt in fn.body]


class _Arithmetic(ast.NodeTransformer):
    def __init__(self, values: Bits, data: str):
        self.values, self.data = values, data

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.BitOr):
            node = self._shifted_together(node)
        # The bits are those of the operands as written (an operand rewritten below has the same value).
        left, right = self.values.bits(node.left), self.values.bits(node.right)
        self.generic_visit(node)
        if left is None or right is None or left >= TWO_DIGITS or right >= TWO_DIGITS:
            return node
        if isinstance(node.op, ast.LShift):
            return self._shift(node, left)
        if isinstance(node.op, ast.BitOr) and left & right == 0 and (self._int(node.left) or self._int(node.right)):
            return ast.copy_location(ast.BinOp(node.left, ast.Add(), node.right), node)
        if isinstance(node.op, ast.BitXor):
            return self._complement(node, left, right)
        return node

    def _shifted_together(self, node: ast.BinOp):
        """The chain of `|` that node heads (`a | b | c` is `(a | b) | c`) with each run of two or more
        neighbouring `x << c` (x of known bits) as one shift of their `|`, when that `|` is of small ints.
        The operands keep their order: x << c1 | y << c2 is (x << c1 - s | y << c2 - s) << s for every
        int, s the smaller shift."""
        operands = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            operands.append(node.right)
            node = node.left
        operands.append(node)
        operands.reverse()
        merged, run = [], []
        for operand in operands + [None]:
            if operand is not None and self._small_shift(operand) is not None:
                run.append(operand)
                continue
            merged.extend(self._together(run) if len(run) > 1 else run)
            run = []
            if operand is not None:
                merged.append(operand)
        if len(merged) == len(operands):
            return node if len(operands) == 1 else _chain(operands)
        return _chain(merged)

    def _small_shift(self, node) -> tuple | None:
        """(x, c, x's bits) if node is `x << c` with c > 0 a constant and x's bits known."""
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.LShift)):
            return None
        amount, bits = int_constant(node.right), self.values.bits(node.left)
        return (node.left, amount, bits) if amount is not None and amount > 0 and bits is not None else None

    def _together(self, run: list) -> list:
        """The shifts of run as one, [(x << c1 - s | y << c2 - s | ...) << s], if the `|` is of small ints;
        else run as it is."""
        shifts = [self._small_shift(node) for node in run]
        lowest = min(amount for _, amount, _ in shifts)
        bits = 0
        for _, amount, x_bits in shifts:
            bits |= x_bits << (amount - lowest)
        if bits >= TWO_DIGITS:
            return run
        parts = [x if amount == lowest else ast.BinOp(x, ast.LShift(), ast.Constant(amount - lowest))
                 for x, amount, _ in shifts]
        return [ast.BinOp(_chain(parts), ast.LShift(), ast.Constant(lowest))]

    def _shift(self, node: ast.BinOp, left: int):
        amount = int_constant(node.right)
        if amount is None or amount < 0 or left >= SMALL or 1 << amount >= SMALL:
            return node
        return ast.copy_location(ast.BinOp(node.left, ast.Mult(), ast.Constant(1 << amount)), node)

    def _complement(self, node: ast.BinOp, left: int, right: int):
        """x ^ c as c - x (either side the constant) when c has every bit of x."""
        for x, c, x_bits in ((node.left, node.right, left), (node.right, node.left, right)):
            value = int_constant(c)
            if value is not None and value >= 0 and x_bits & ~value == 0:
                return ast.copy_location(ast.BinOp(c, ast.Sub(), x), node)
        return node

    def _int(self, node) -> bool:
        """Whether node's value is surely an int, not a bool (given that its bits are known)."""
        if isinstance(node, ast.BinOp):
            return isinstance(node.op, _INT_RESULTS)
        if isinstance(node, ast.Subscript):
            return isinstance(node.value, ast.Name) and node.value.id == self.data \
                and not isinstance(node.slice, ast.Slice)
        return int_constant(node) is not None

    def generic_visit(self, node):
        if isinstance(node, NESTED_SCOPES):
            return node       # its names are not fn's locals
        return super().generic_visit(node)


def _chain(operands: list):
    """operands joined by `|`, left to right."""
    chain = operands[0]
    for operand in operands[1:]:
        chain = ast.BinOp(chain, ast.BitOr(), operand)
    return chain
