"""Bit operations on small ints written as the arithmetic CPython specializes: a pass over the generated fast().

CPython 3.11 specializes ``+``, ``-`` and ``*`` of two ints (BINARY_OP_ADD_INT, ..._SUBTRACT_INT,
..._MULTIPLY_INT, with a fast path for values below 2**30), but not ``<<``, ``|`` or ``^``, which go the
generic way through PyNumber_Lshift and friends. The code generator and the passes before this one build
16-bit words and sums of them with those (``data[16] << 8 | data[17]``, ``(ttl << 8 | proto) ^ 0xffff``).
Where the values are known to be small non-negative ints (masks.py's bits: a byte of `data`, a masked
value, a local whose every store is such) they mean the same as the arithmetic:

- ``x << c`` is ``x * 2**c`` for every int x;
- ``a | b`` is ``a + b`` when no bit can be set on both sides;
- ``x ^ c`` is ``c - x`` when c has every bit x can have.

By callgrind, ``data[12] << 8 | data[13]`` costs about 800 instructions and ``data[12] * 256 + data[13]``
about 650; ``x << 2`` about 150 and ``x * 4`` about 60. Only operands and results below 2**30 (one digit of
a CPython int, where the specialized operations take their fast path) are rewritten: on wider ints the
shift and the bitwise operations are as cheap as the arithmetic, or cheaper. ``a | b`` of two bools is a
bool and ``a + b`` an int, so ``|`` is rewritten only when a side is surely not a bool.

It runs after masks.py, whose analysis of the bits it uses, and after the passes that look for the
bitwise shapes (field reads, byte reads, checksum words).
"""

from __future__ import annotations

import ast

from .astnames import int_constant
from .masks import Bits, NESTED_SCOPES, local_bits, never_rebound

# One 30-bit digit of a CPython int: the specialized arithmetic's fast path (IS_MEDIUM_VALUE in 3.11).
SMALL = 1 << 30

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
        # The bits are those of the operands as written (an operand rewritten below has the same value).
        left, right = self.values.bits(node.left), self.values.bits(node.right)
        self.generic_visit(node)
        if left is None or right is None or left >= SMALL or right >= SMALL:
            return node
        if isinstance(node.op, ast.LShift):
            return self._shift(node, left)
        if isinstance(node.op, ast.BitOr) and left & right == 0 and (self._int(node.left) or self._int(node.right)):
            return ast.copy_location(ast.BinOp(node.left, ast.Add(), node.right), node)
        if isinstance(node.op, ast.BitXor):
            return self._complement(node, left, right)
        return node

    def _shift(self, node: ast.BinOp, left: int):
        amount = int_constant(node.right)
        if amount is None or amount < 0 or left << amount >= SMALL:
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
