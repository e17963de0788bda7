"""A mask that keeps every bit its operand can have is left out: a pass over the generated fast().

The code generator masks the result of every operation to the width of its P4 type, as it must in general
(``hl << 2 & 0xffff``, ``x >> 28 & 0xf`` of a bit<32>, ``(a ^ 0xffff) + (b ^ 0xffff) & 0xffffffff``), but
once a field is read from a byte of `data` (``data[14] & 0xf``) or from a header's int with a mask, its
width is known, and so is the width of what is computed from it: a 4-bit field shifted left by 2 never
reaches bit 16, a 32-bit field shifted right by 28 has 4 bits left, the sum of three 16-bit words has 18.
Such a mask is ``x & c`` where c has every bit x can have: it is x, and costs an operation on an int
(about 140 instructions) for nothing.

The widths: an upper bound on the bits of a value that is an int >= 0, from the expression alone (a byte
of `data` is 8 bits, ``int_from_bytes(data[a:b])`` is 8 * (b - a), ``x & c`` at most c's, ``x >> k`` k fewer,
``x % c`` fewer than c's, a sum one more than the wider side; a difference or anything else, unknown).
A local's is the widest of the values any of its stores gives it, when all are known: every store of a
local is an assignment in fn (any other way of binding it, a parameter, a nested function or a
global/nonlocal statement leaves it unknown), so whatever value a read finds was given by one of them.
`data` is the function's bytes parameter (see bytereads.py), never rebound.
"""

from __future__ import annotations

import ast

from .astnames import int_constant
from .parsers import FROM_BYTES

_NESTED_SCOPES = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                  ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def drop_redundant_masks(fn: ast.FunctionDef, data: str = "data") -> None:
    """Replace every `x & c` in fn (outside nested scopes) whose c has every bit x can have by x."""
    widths = _local_widths(fn, data)
    drop = _DropMasks(_Widths(widths, data if _never_rebound(fn, data) else None))
    fn.body = [drop.visit(stmt) for stmt in fn.body]


class _Widths:
    """Bounds on values: width(node) is n if node's value is surely an int in 0 .. 2**n - 1, else None."""

    def __init__(self, locals_: dict[str, int], data: str | None):
        self.locals = locals_
        self.data = data

    def width(self, node) -> int | None:
        value = int_constant(node)
        if value is not None:
            return value.bit_length() if value >= 0 else None
        if isinstance(node, ast.Name):
            return self.locals.get(node.id)
        if isinstance(node, ast.Subscript):
            # A byte of the packet (an index, not a slice).
            return 8 if self._is_data(node.value) and not isinstance(node.slice, ast.Slice) else None
        if isinstance(node, ast.Call):
            return self._extracted_width(node)
        if isinstance(node, ast.BinOp):
            return self._binop_width(node)
        if isinstance(node, ast.BoolOp):      # its value is one of its operands'
            return self._widest(node.values)
        if isinstance(node, ast.IfExp):
            return self._widest([node.body, node.orelse])
        return None

    def _widest(self, nodes) -> int | None:
        widths = [self.width(n) for n in nodes]
        return None if None in widths else max(widths)

    def _is_data(self, node) -> bool:
        return self.data is not None and isinstance(node, ast.Name) and node.id == self.data

    def _extracted_width(self, call: ast.Call) -> int | None:
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
            return 8 * max(b - a, 0)
        # data[off:off + k]: at most k bytes.
        k = int_constant(upper.right) if isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add) else None
        if k is not None and k >= 0 and lower is not None and ast.dump(upper.left) == ast.dump(lower):
            return 8 * k
        return None

    def _binop_width(self, node: ast.BinOp) -> int | None:
        left, right = self.width(node.left), self.width(node.right)
        op = node.op
        if isinstance(op, ast.BitAnd):
            # x & y is within 0 .. y for y >= 0, whatever int (or bool) x is: only ints and bools meet `&`
            # in the generated code (simplify.py's _surely_non_negative counts on it too).
            known = [w for w in (left, right) if w is not None]
            return min(known) if known else None
        if left is None:
            return None
        shift = int_constant(node.right)
        if isinstance(op, ast.RShift) and shift is not None and shift >= 0:
            return max(left - shift, 0)
        if isinstance(op, ast.LShift) and shift is not None and shift >= 0:
            return left + shift
        if isinstance(op, ast.Mod) and shift is not None and shift > 0:
            return min(left, (shift - 1).bit_length())
        if right is None:
            return None
        if isinstance(op, (ast.BitOr, ast.BitXor)):
            return max(left, right)
        if isinstance(op, ast.Add):
            return max(left, right) + 1
        if isinstance(op, ast.Mult):
            return left + right
        return None


def _never_rebound(fn: ast.FunctionDef, name: str) -> bool:
    """Whether name is a parameter of fn that nothing in it rebinds."""
    if name not in {a.arg for a in fn.args.args}:
        return False
    return not any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
                   for n in ast.walk(fn))


def _local_widths(fn: ast.FunctionDef, data: str) -> dict[str, int]:
    """The width of every local whose every store is a plain assignment of a value of known width."""
    stores: dict[str, list] = {}
    plain_targets = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            for t in node.targets:
                stores.setdefault(t.id, []).append(node.value)
                plain_targets.add(id(t))
    others = {a.arg for a in fn.args.args} | _otherwise_bound(fn, plain_targets)
    candidates = {name: values for name, values in stores.items() if name not in others}
    widths: dict[str, int] = {}
    bounds = _Widths(widths, data if _never_rebound(fn, data) else None)
    # A local's width is settled once all its stores' are: rounds until none is (a local stored from
    # itself, as in a loop, stays unknown).
    while True:
        settled = {}
        for name, values in candidates.items():
            if name not in widths:
                found = [bounds.width(v) for v in values]
                if None not in found:
                    settled[name] = max(found)
        if not settled:
            return widths
        widths.update(settled)


def _otherwise_bound(fn: ast.FunctionDef, plain_targets: set[int]) -> set[str]:
    """Names fn binds other than by a plain assignment, or that another scope may bind."""
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


class _DropMasks(ast.NodeTransformer):
    def __init__(self, bounds: _Widths):
        self.bounds = bounds

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.BitAnd):
            for kept, mask in ((node.left, node.right), (node.right, node.left)):
                if _covers(int_constant(mask), self.bounds.width(kept)):
                    return kept
        return node

    def generic_visit(self, node):
        if isinstance(node, _NESTED_SCOPES):
            return node       # its names are not fn's locals
        return super().generic_visit(node)


def _covers(mask: int | None, width: int | None) -> bool:
    """Whether mask has every bit of a value of `width` bits."""
    if mask is None or width is None or mask < 0:
        return False
    every = (1 << width) - 1
    return mask & every == every
