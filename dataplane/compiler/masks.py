"""A mask that keeps every bit its operand can have is left out: a pass over the generated fast().

The code generator masks the result of every operation to the width of its P4 type, as it must in general
(``hl << 2 & 0xffff``, ``x >> 28 & 0xf`` of a bit<32>, ``(a ^ 0xffff) + (b ^ 0xffff) & 0xffffffff``), but
once a field is read from a byte of `data` (``data[14] & 0xf``) or from a header's int with a mask, its
width is known, and so is the width of what is computed from it: a 4-bit field shifted left by 2 never
reaches bit 16, a 32-bit field shifted right by 28 has 4 bits left, the sum of three 16-bit words has 18.
Such a mask is ``x & c`` where c has every bit x can have: it is x, and costs an operation on an int
(about 140 instructions) for nothing.

The bits a value may have set, when it is surely an int >= 0, come from the expression alone
(fieldreads.possible_bits: constants, ``x & c``, shifts by constants, ``|`` and ``^``; and here: a byte of
`data` is 8 bits, ``int_from_bytes(data[a:b])`` 8 * (b - a), ``x % c`` fewer than c's, a sum one more
than its wider side, a product those of both; a difference or anything else, unknown). A local's are
those any of its stores may give it, when all are known: every store of a local is an assignment in fn
(any other way of binding it, a parameter, a nested function or a global/nonlocal statement leaves it
unknown), so whatever value a read finds was given by one of them.
`data` is the function's bytes parameter (see bytereads.py), never rebound.
"""

from __future__ import annotations

import ast

from .astnames import int_constant, otherwise_bound, plain_stores
from .fieldreads import possible_bits
from .parsers import FROM_BYTES

NESTED_SCOPES = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                  ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def drop_redundant_masks(fn: ast.FunctionDef, data: str = "data") -> None:
    """Replace every `x & c` in fn (outside nested scopes) whose c has every bit x can have by x."""
    drop = _DropMasks(Bits(local_bits(fn, data), data if never_rebound(fn, data) else None))
    fn.body = [drop.visit(stmt) for stmt in fn.body]


class Bits:
    """What values may be: bits(node) is a mask of the bits node's value may have set when it is surely an
    int >= 0 (fieldreads.possible_bits, with the kinds of values below), else None."""

    def __init__(self, locals_: dict[str, int], data: str | None):
        self.locals = locals_
        self.data = data

    def bits(self, node) -> int | None:
        return possible_bits(node, self.locals, self._more)

    def _more(self, node) -> int | None:
        if isinstance(node, ast.Subscript):
            # A byte of the packet (an index, not a slice).
            return 0xff if self._is_data(node.value) and not isinstance(node.slice, ast.Slice) else None
        if isinstance(node, ast.Call):
            return self._extracted_bits(node)
        if isinstance(node, ast.BoolOp):      # its value is one of its operands'
            return self._any_of(node.values)
        if isinstance(node, ast.IfExp):
            return self._any_of([node.body, node.orelse])
        if isinstance(node, ast.BinOp):
            return self._arithmetic_bits(node)
        return None

    def _any_of(self, nodes) -> int | None:
        bits = [self.bits(n) for n in nodes]
        return None if None in bits else _union(bits)

    def _is_data(self, node) -> bool:
        return self.data is not None and isinstance(node, ast.Name) and node.id == self.data

    def _extracted_bits(self, call: ast.Call) -> int | None:
        """The bits of `int_from_bytes(data[a:b], ...)` (unsigned: no keywords) when a and b are constants
        or b is a + k."""
        if not (isinstance(call.func, ast.Name) and call.func.id == FROM_BYTES and call.args and not call.keywords):
            return None
        sliced = call.args[0]
        if not (isinstance(sliced, ast.Subscript) and self._is_data(sliced.value)
                and isinstance(sliced.slice, ast.Slice) and sliced.slice.step is None):
            return None
        lower, upper = sliced.slice.lower, sliced.slice.upper
        a, b = int_constant(lower), int_constant(upper)
        if a is not None and b is not None:
            return _ones(8 * max(b - a, 0))
        # data[off:off + k]: at most k bytes.
        k = int_constant(upper.right) if isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add) else None
        if k is not None and k >= 0 and lower is not None and ast.dump(upper.left) == ast.dump(lower):
            return _ones(8 * k)
        return None

    def _arithmetic_bits(self, node: ast.BinOp) -> int | None:
        """A sum has at most one bit more than its wider side, a product the bits of both sides, x % c
        (c > 0) fewer than c; a difference may be negative."""
        left = self.bits(node.left)
        if left is None:
            return None
        modulus = int_constant(node.right)
        if isinstance(node.op, ast.Mod) and modulus is not None and modulus > 0:
            return _ones(min(left.bit_length(), (modulus - 1).bit_length()))
        right = self.bits(node.right)
        if right is None:
            return None
        if isinstance(node.op, ast.Add):
            return _ones(max(left.bit_length(), right.bit_length()) + 1)
        if isinstance(node.op, ast.Mult):
            return _ones(left.bit_length() + right.bit_length())
        return None


def _ones(width: int) -> int:
    return (1 << width) - 1


def never_rebound(fn: ast.FunctionDef, name: str) -> bool:
    """Whether name is a parameter of fn that nothing in it rebinds."""
    if name not in {a.arg for a in fn.args.args}:
        return False
    return not any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
                   for n in ast.walk(fn))


def local_bits(fn: ast.FunctionDef, data: str = "data") -> dict[str, int]:
    """The bits of every local whose every store is a plain assignment of a value of known bits."""
    stores, plain_targets = plain_stores(fn)
    others = {a.arg for a in fn.args.args} | otherwise_bound(fn, plain_targets)
    candidates = {name: values for name, values in stores.items() if name not in others}
    known: dict[str, int] = {}
    values = Bits(known, data if never_rebound(fn, data) else None)
    # A local's bits are settled once all its stores' are: rounds until none is (a local stored from
    # itself, as in a loop, stays unknown).
    while True:
        settled = {}
        for name, stored in candidates.items():
            if name not in known:
                found = [values.bits(v) for v in stored]
                if None not in found:
                    settled[name] = _union(found)
        if not settled:
            return known
        known.update(settled)


def _union(masks: list[int]) -> int:
    union = 0
    for mask in masks:
        union |= mask
    return union


class _DropMasks(ast.NodeTransformer):
    def __init__(self, values: Bits):
        self.values = values

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.BitAnd):
            for kept, mask in ((node.left, node.right), (node.right, node.left)):
                if _keeps_all(int_constant(mask), self.values.bits(kept)):
                    return kept
        return node

    def generic_visit(self, node):
        if isinstance(node, NESTED_SCOPES):
            return node       # its names are not fn's locals
        return super().generic_visit(node)


def _keeps_all(mask: int | None, bits: int | None) -> bool:
    """Whether mask keeps every bit of a value that may have `bits` set."""
    return mask is not None and bits is not None and mask >= 0 and bits & ~mask == 0
