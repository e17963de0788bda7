"""P4 arithmetic on fixed-width values.

Convention used everywhere in dataplane (constant folding, generated
pipelines, tables, the control plane): a value of type bit<W> or int<W> is
held as its W-bit pattern, an int in [0, 2**W). Signed interpretation is
applied only by the operations that need it (comparison, right shift,
widening casts, saturation). Untyped constants (type ``int``) are plain
Python integers.
"""

from __future__ import annotations


def mask(width: int) -> int:
    return (1 << width) - 1


def to_signed(pattern: int, width: int) -> int:
    """The two's-complement value of a W-bit pattern."""
    if width == 0:
        return 0
    pattern &= (1 << width) - 1
    return pattern - (1 << width) if pattern >> (width - 1) else pattern


def to_pattern(value: int, width: int) -> int:
    """The W-bit pattern of any integer (wraps modulo 2**W)."""
    return value & ((1 << width) - 1)


def value_of(pattern: int, width: int, signed: bool) -> int:
    return to_signed(pattern, width) if signed else pattern


def fits(value: int, width: int, signed: bool) -> bool:
    if signed:
        return -(1 << (width - 1)) <= value < (1 << (width - 1)) if width else value == 0
    return 0 <= value < (1 << width)


def add_sat(a: int, b: int, width: int, signed: bool) -> int:
    return _saturate(value_of(a, width, signed) + value_of(b, width, signed), width, signed)


def sub_sat(a: int, b: int, width: int, signed: bool) -> int:
    return _saturate(value_of(a, width, signed) - value_of(b, width, signed), width, signed)


def _saturate(v: int, width: int, signed: bool) -> int:
    if signed:
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    else:
        lo, hi = 0, (1 << width) - 1
    return to_pattern(min(max(v, lo), hi), width)


def shift_right(a: int, n: int, width: int, signed: bool) -> int:
    """a >> n; signed values fill with the sign bit, and n >= width gives 0 or all ones."""
    if signed:
        v = to_signed(a, width)
        return to_pattern(v >> min(n, width), width)
    return a >> n if n < width else 0


def shift_left(a: int, n: int, width: int) -> int:
    return (a << n) & ((1 << width) - 1) if n < width else 0


def cast_bits(pattern: int, from_width: int, from_signed: bool, to_width: int) -> int:
    """Convert between bit<W>/int<W> types: widening sign-extends signed sources, narrowing truncates."""
    if to_width > from_width and from_signed:
        return to_pattern(to_signed(pattern, from_width), to_width)
    return pattern & ((1 << to_width) - 1)


def slice_bits(value: int, hi: int, lo: int) -> int:
    return (value >> lo) & ((1 << (hi - lo + 1)) - 1)


def set_slice(value: int, hi: int, lo: int, new: int) -> int:
    m = ((1 << (hi - lo + 1)) - 1) << lo
    return (value & ~m) | ((new << lo) & m)


def compare(op: str, a: int, b: int, width: int, signed: bool) -> bool:
    if signed:
        a, b = to_signed(a, width), to_signed(b, width)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    return a != b


def binary_op(op: str, a: int, b: int, width: int, signed: bool) -> int:
    """Evaluate an arithmetic or bitwise operator on W-bit patterns."""
    m = (1 << width) - 1
    if op == "+":
        return (a + b) & m
    if op == "-":
        return (a - b) & m
    if op == "*":
        return (a * b) & m
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "|+|":
        return add_sat(a, b, width, signed)
    if op == "|-|":
        return sub_sat(a, b, width, signed)
    if op == "<<":
        return shift_left(a, b, width)
    if op == ">>":
        return shift_right(a, b, width, signed)
    if op in ("/", "%"):
        av, bv = value_of(a, width, signed), value_of(b, width, signed)
        if bv == 0:
            raise ZeroDivisionError
        q = abs(av) // abs(bv)
        if (av < 0) != (bv < 0):
            q = -q
        return to_pattern(q if op == "/" else av - q * bv, width)
    raise ValueError(op)


def int_binary_op(op: str, a: int, b: int) -> int:
    """Evaluate an operator on infinite-precision integers (truncating division)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "<<":
        return a << b
    if op == ">>":
        return a >> b
    if op in ("/", "%"):
        if b == 0:
            raise ZeroDivisionError
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        return q if op == "/" else a - q * b
    if op in ("|+|", "|-|"):
        return a + b if op == "|+|" else a - b
    raise ValueError(op)
