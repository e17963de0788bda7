"""A verify_checksum of a header's own 16-bit one's-complement checksum as one remainder of the header's
int: a pass over the generated fast().

verify_checksum(csum16) over a header's fields but its checksum, compared with its checksum field, is
generated (once simplified) as

    cx = h & M                  # M: the header's bits but the checksum's 16 at bit s
    if 0xffff ^ (cx % 0xffff or (0xffff if cx else 0)) != (h >> s & 0xffff):

An operation on the 160-bit int to clear the field, the remainder, the fold, the field read. With s a
multiple of 16 (2**s is 1 modulo 0xffff) and G = h & (M | 0xffff << s) (the header with its checksum: cx
plus C << s, C the field), G is congruent to cx + C modulo 0xffff, and the test is true exactly when

    G % 0xffff or (C == 0xffff and G != 0xffff << s) or (C == 0 and G == 0)

(a checksum that is right makes G a multiple of 0xffff; the only wrong ones that do too are 0xffff for a
nonzero sum, which should be 0, and 0 for a zero sum, which should be 0xffff). For a valid packet that is
one remainder of G and two comparisons of a small int; G is h itself when the mask keeps every bit h can
have (masks.local_bits). `cx` is left for the removal of dead stores.
"""

from __future__ import annotations

import ast
import copy

from .astnames import int_constant, statement_lists
from .masks import local_bits

_FOLD = 0xFFFF


def verify_checksums_whole(fn: ast.FunctionDef) -> None:
    """Rewrite each such test in fn (module doc); the store of cx stays, now maybe dead."""
    bits: dict[str, int] | None = None

    def header_bits() -> dict[str, int]:
        # masks.local_bits analyses the whole function: only for a test that has the shapes above.
        nonlocal bits
        if bits is None:
            bits = local_bits(fn)
        return bits

    for body in statement_lists(fn):
        for first, second in zip(body, body[1:]):
            if isinstance(second, ast.If):
                whole = _whole_header_test(first, second.test, header_bits)
                if whole is not None:
                    second.test = whole


def _whole_header_test(assign, test, header_bits):
    """The test on the whole header that `test` (after `assign`) is, if they have the shapes above
    (header_bits(): masks.local_bits of the function)."""
    if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)):
        return None
    cx = assign.targets[0].id
    value = assign.value
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitAnd) and isinstance(value.left, ast.Name)
            and value.left.id != cx):
        return None
    header, mask = value.left.id, int_constant(value.right)
    if mask is None or mask < 0:
        return None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotEq)
            and _is_complemented_fold(test.left, cx)):
        return None
    shift = _field_shift(test.comparators[0], header)
    if shift is None or shift % 16 or mask & (_FOLD << shift):
        return None
    whole_mask = mask | _FOLD << shift
    return _rewritten(header, None if header_bits().get(header, -1) & ~whole_mask == 0 else whole_mask, shift,
                      test.comparators[0])


def _is_complemented_fold(node, cx: str) -> bool:
    """Whether node is `0xffff ^ (cx % 0xffff or (0xffff if cx else 0))`."""
    expected = ast.parse(f"0xffff ^ ({cx} % 0xffff or (0xffff if {cx} else 0))", mode="eval").body
    return ast.dump(node) == ast.dump(expected)


def _field_shift(node, header: str) -> int | None:
    """s if node is `header >> s & 0xffff` (or `header & 0xffff` for s = 0)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd) and int_constant(node.right) == _FOLD):
        return None
    inner = node.left
    if isinstance(inner, ast.Name) and inner.id == header:
        return 0
    if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.RShift) and isinstance(inner.left, ast.Name) \
            and inner.left.id == header:
        shift = int_constant(inner.right)
        return shift if shift is not None and shift >= 0 else None
    return None


def _rewritten(header: str, whole_mask: int | None, shift: int, field):
    """The test, with G the header itself where whole_mask is None (it would keep every bit)."""
    g = header if whole_mask is None else f"({header} & {whole_mask:#x})"
    source = (f"{g} % 0xffff or (FIELD == 0xffff and {g} != {_FOLD << shift:#x}) "
              f"or (FIELD == 0 and {g} == 0)")
    test = ast.parse(source, mode="eval").body
    for node in ast.walk(test):
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value:
            node.hex = True           # written back in hex (simplify.py's _HexLiterals)
        for name, child in ast.iter_fields(node):
            if isinstance(child, ast.Name) and child.id == "FIELD":
                setattr(node, name, copy.deepcopy(field))
            elif isinstance(child, list):
                child[:] = [copy.deepcopy(field) if isinstance(c, ast.Name) and c.id == "FIELD" else c
                            for c in child]
    return test
