"""A select on several fields of one header as one masked compare per case: a pass over the generated fast().

The code generator reads each key of a parser's select into a local and tests the keys one by one:

    k_1 = h_ipv4_b_p >> 109 & 0x1
    k_2 = h_ipv4_b_p >> 96 & 0x1fff
    k_3 = h_ipv4_b_p >> 80 & 0xff
    if k_1 == 0x0 and k_2 == 0x0 and k_3 == 0x6:
        ...
    elif k_1 == 0x0 and k_2 == 0x0 and k_3 == 0x11:
        ...

When every key is a field of the same header's int (a shift and a mask of the same local) and every case
tests exact values or masks, the fields can be read together, as one int holding each field at its
place, and each case compared once:

    k_1 = h_ipv4_b_p >> 80 & 0x3fff00ff
    if k_1 == 0x6:
        ...
    elif k_1 == 0x11:
        ...

A case that leaves a key out (a default `_`) or masks it compares the bits it tests only:
`k_1 & 0x3fff0000 == 0`. A key that is the header's top field (`h >> 28`, no mask) has all the bits from
its place up; the masks are then negative, written `~0xf000000` (all bits but those of the fields
between the keys). The fields must not overlap, and the key locals must be read nowhere but in the
tests; the reads and compares cannot raise and have no effects, so only the work changes.
"""

from __future__ import annotations

import ast

from .astnames import int_constant, statement_lists
from .fieldreads import read_key


def merge_select_keys(fn: ast.FunctionDef) -> None:
    """Rewrite each select on fields of one header (see the module doc) whose keys nothing else reads."""
    chains = []
    for body in statement_lists(fn):
        for j, stmt in enumerate(body):
            if isinstance(stmt, ast.If):
                found = _select_before(body, j)
                if found is not None:
                    chains.append((body, found))
    # A key local read anywhere but in the tests of its own select keeps its select as it is.
    reads = _load_counts(fn)
    in_tests: dict[str, int] = {}
    for _body, (_i, keys, ifs, _cases) in chains:
        for test in (stmt.test for stmt in ifs):
            for name, count in _load_counts(test).items():
                in_tests[name] = in_tests.get(name, 0) + count
    for body, (i, keys, ifs, cases) in reversed(chains):
        if all(reads.get(name, 0) == in_tests.get(name, 0) for name in keys):
            _rewrite(body, i, keys, ifs, cases)


def _load_counts(node) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def _select_before(body: list, j: int):
    """If body[j] is an if/elif chain testing two or more key reads of one header that come right before
    it (see the module doc): (where the reads start, {key: (shift, mask)} in order, the ifs of the chain,
    each case's {key: (mask, value)}); else None."""
    tested: set[str] = set()
    stmt = body[j]
    while True:         # the names the chain's tests read (a case may leave a key out)
        tested.update(_load_counts(stmt.test))
        if len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If):
            stmt = stmt.orelse[0]
        else:
            break
    keys: dict[str, tuple[int, int]] = {}
    header = None
    i = j
    while i > 0 and isinstance(body[i - 1], ast.Assign) and len(body[i - 1].targets) == 1 \
            and isinstance(body[i - 1].targets[0], ast.Name):
        key = read_key(body[i - 1].value)
        name = body[i - 1].targets[0].id
        if key is None or (header is not None and key[0] != header) or name in keys \
                or name == key[0] or name not in tested:
            break
        header = key[0]
        # The header's top field (`h >> s`, no mask): every bit from s up (the int's bits are all >= 0).
        keys[name] = (key[1], -1 if key[2] is None else key[2])
        i -= 1
    keys = dict(reversed(keys.items()))
    if len(keys) < 2 or not _disjoint(keys.values()):
        return None
    ifs, cases = [], []
    stmt = body[j]
    while True:
        case = _case(stmt.test, keys)
        if case is None:
            return None
        ifs.append(stmt)
        cases.append(case)
        if len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If):
            stmt = stmt.orelse[0]
        else:
            break
    return i, keys, ifs, cases


def _disjoint(fields) -> bool:
    seen = 0
    for shift, mask in fields:
        bits = mask << shift
        if seen & bits:
            return False
        seen |= bits
    return True


def _case(test, keys: dict) -> dict | None:
    """What a case's test compares: {key: (mask, value)}, the value within the key's bits; None unless
    the test is `and` of `k == C` or `k & M == C` on distinct keys, each able to hold."""
    conjuncts = _conjuncts(test)
    case: dict[str, tuple[int, int]] = {}
    for c in conjuncts:
        if not (isinstance(c, ast.Compare) and len(c.ops) == 1 and isinstance(c.ops[0], ast.Eq)):
            return None
        value = int_constant(c.comparators[0])
        left = c.left
        if isinstance(left, ast.BinOp) and isinstance(left.op, ast.BitAnd):
            mask, left = int_constant(left.right), left.left
        else:
            mask = -1
        if not isinstance(left, ast.Name) or left.id not in keys or left.id in case \
                or value is None or mask is None or value < 0:
            return None
        mask &= keys[left.id][1]
        if value & ~mask or not mask:
            return None         # never true, or always: left as it is
        case[left.id] = (mask, value)
    return case or None


def _conjuncts(test) -> list:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return [c for v in test.values for c in _conjuncts(v)]
    return [test]


def _rewrite(body: list, i: int, keys: dict, ifs: list, cases: list) -> None:
    name = next(iter(keys))
    header = read_key(body[i].value)[0]
    low = min(shift for shift, _ in keys.values())
    whole = 0
    for shift, mask in keys.values():
        whole |= mask << (shift - low)
    value = ast.Name(header, ast.Load())
    if low:
        value = ast.BinOp(value, ast.RShift(), ast.Constant(low))
    if whole != -1:
        value = ast.BinOp(value, ast.BitAnd(), _hex(whole))
    body[i:i + len(keys)] = [ast.copy_location(ast.Assign(targets=[ast.Name(name, ast.Store())], value=value),
                                               body[i])]
    for stmt, case in zip(ifs, cases):
        mask = value_bits = 0
        for key, (m, v) in case.items():
            shift = keys[key][0] - low
            mask |= m << shift
            value_bits |= v << shift
        left = ast.Name(name, ast.Load())
        if mask != whole:
            left = ast.BinOp(left, ast.BitAnd(), _hex(mask))
        stmt.test = ast.Compare(left, [ast.Eq()], [_hex(value_bits)])


def _hex(value: int):
    """value as a constant written in hex (simplify.py's _HexLiterals); a negative mask (the top field's
    bits go on upwards) as ~ of its complement: `~0xf000000` keeps all bits but 24 .. 27."""
    node = ast.Constant(value if value >= 0 else ~value)
    node.hex = True
    return node if value >= 0 else ast.UnaryOp(ast.Invert(), node)
