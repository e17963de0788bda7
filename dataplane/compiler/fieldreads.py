"""Each field of a header read once while the header stays the same: a pass over the generated fast().

A header lives in one int local (``h_ipv4_b_p``) and each read of a field is a shift and a mask of that
int (``h_ipv4_b_p >> 152 & 0xf``), which costs far more on a 160-bit int than reading a local. Programs
read the same fields again and again (the parser's select, the checksum, the sanity checks, the table
keys). This pass keeps the value of a read in a local where the same read comes again on every path
before the header changes:

    ipv4_152_4 = h_ipv4_b_p >> 152 & 0xf
    if ... or ipv4_152_4 < 5 or h_ipv4_b_p >> 128 & 0xffff < ipv4_152_4 * 4 & 0xffff ...

A local that the code already assigns the read to (a select key, ``k_139 = h_ipv4_b_p >> 152 & 0xf``)
serves as it is. A read is a shift by a constant and/or a mask by a constant of a header's local; it
cannot raise, so computing it before a statement that evaluates it only on some paths (behind ``or``)
changes no outcome. The analysis is forward "available expressions": a read is available after it is
computed, until its header's local or the local holding it is stored; where paths join, what all of
them have in the same local.
"""

from __future__ import annotations

import ast
import re

from .astnames import fresh, names_taken, stored_names

_HEADER_BITS = re.compile(r"h_(\w+)_b_p\Z")
_TERMINATORS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
# Expressions with a scope of their own: their reads are left as they are.
_OWN_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def reuse_field_reads(fn: ast.FunctionDef) -> None:
    """Rewrite fn so that a field read available in a local is not computed again (see the module doc)."""
    analysis = _Availability()
    analysis.block(fn.body, {})
    taken = names_taken(fn)
    names: dict[int, str] = {}
    for site in analysis.sites:
        if site.reused:
            names[id(site)] = fresh_name(site.key, taken)
            parent, field, index = site.where
            value = _replace(parent, field, index, ast.Name(names[id(site)], ast.Load()))
            body, stmt = site.statement_list, site.statement
            body.insert(_position(body, stmt), ast.Assign(targets=[ast.Name(names[id(site)], ast.Store())],
                                                          value=value, lineno=0))
    for (parent, field, index), holder in analysis.reuses:
        name = holder if isinstance(holder, str) else names[id(holder)]
        _replace(parent, field, index, ast.Name(name, ast.Load()))


def _position(body: list, stmt) -> int:
    return next(i for i, s in enumerate(body) if s is stmt)


def _replace(parent, field, index, new):
    """Put `new` where the occurrence is; return the node it replaces."""
    if index is None:
        old = getattr(parent, field)
        setattr(parent, field, new)
    else:
        old = getattr(parent, field)[index]
        getattr(parent, field)[index] = new
    return old


def fresh_name(key: tuple, taken: set[str]) -> str:
    base, shift, mask = key
    header = _HEADER_BITS.match(base).group(1)
    width = "top" if mask is None else str(mask.bit_length()) if mask & (mask + 1) == 0 else hex(mask)
    return fresh(f"{header}_{shift}_{width}", taken)


def read_key(node) -> tuple | None:
    """(header local, shift, mask or None) if node is a field read: `h >> s & m`, `h & m` or `h >> s`."""
    return _shift_and_mask(node, _header)


def _shift_and_mask(node, base) -> tuple | None:
    """(name, shift, mask or None) if node is `x >> s & m`, `x & m` or `x >> s` with constants s and m and
    x a name that base(x) accepts."""
    if not isinstance(node, ast.BinOp):
        return None
    if isinstance(node.op, ast.BitAnd) and _constant(node.right):
        inner = node.left
        if base(inner):
            return inner.id, 0, node.right.value
        if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.RShift) and base(inner.left) \
                and _constant(inner.right):
            return inner.left.id, inner.right.value, node.right.value
    if isinstance(node.op, ast.RShift) and base(node.left) and _constant(node.right):
        return node.left.id, node.right.value, None
    return None


def part_key(node) -> tuple | None:
    """(local, shift, mask or None) if node is a part of a local that is not a header's: `x >> s & m`,
    `x & m` or `x >> s`."""
    key = _shift_and_mask(node, lambda n: isinstance(n, ast.Name) and not _header(n))
    return key if key is not None and key[1:] != (0, None) else None


def _header(node) -> bool:
    return isinstance(node, ast.Name) and _HEADER_BITS.match(node.id) is not None


def _constant(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0


class _Site:
    """A read computed where no local holds it: it gets a local if a later read reuses it."""

    __slots__ = ("key", "where", "statement", "statement_list", "reused")

    def __init__(self, key, where, statement, statement_list):
        self.key, self.where, self.statement, self.statement_list = key, where, statement, statement_list
        self.reused = False


def field_reads(stmt, field: str, key_of=None) -> list[tuple[tuple, tuple]]:
    """The field reads in the expression stmt.<field>, in evaluation order: (key, (parent, field, index)).
    key_of: what a read is, read_key unless given (a function of a node: its key, or None)."""
    found = []
    key_of = key_of or read_key

    def visit(node, only=None):
        for field, value in ast.iter_fields(node):
            if only is not None and field != only:
                continue
            children = value if isinstance(value, list) else [value]
            for i, child in enumerate(children):
                if not isinstance(child, ast.expr) or isinstance(child, _OWN_SCOPES):
                    continue
                key = key_of(child)
                if key is not None:
                    found.append((key, (node, field, i if isinstance(value, list) else None)))
                else:
                    visit(child)

    visit(stmt, field)
    return found


def _killed(env: dict, stored: set[str], kept: tuple[str, int, str] | None = None) -> dict:
    """env without the reads whose header local or holding local is stored; kept = (header local, bits, _)
    (kept_bits): the store writes that header's other bits only, and reads of these bits stay."""
    return {k: h for k, h in env.items()
            if (k[0] not in stored or _within(k, kept)) and not (isinstance(h, str) and h in stored)}


def _within(key: tuple, kept: tuple[str, int, str] | None) -> bool:
    base, shift, mask = key
    return kept is not None and base == kept[0] and mask is not None and (mask << shift) & ~kept[1] == 0


def kept_bits(stmt, known: dict[str, int] | None = None) -> tuple[str, int, str] | None:
    """A field write keeps the header's other fields: `h = h & C | V` (either way round), with C a constant
    and V's bits known to lie outside C, changes no bit that C keeps. Then (h, C, the side of the `|` that V
    is: "left" or "right"), else None. known: the bits of locals whose every value is bounded (see
    possible_bits)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and _header(stmt.targets[0])):
        return None
    base, value = stmt.targets[0].id, stmt.value
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr)):
        return None
    for kept, side in ((value.left, "right"), (value.right, "left")):
        if _is_and_of(kept, base) and _constant(kept.right):
            bits = possible_bits(getattr(value, side), known)
            if bits is not None and bits & kept.right.value == 0:
                return base, kept.right.value, side
    return None


def _field_write(stmt) -> tuple[tuple, tuple] | None:
    """`h = h & C | Y << s` that writes one whole field, the bits s .. s+w-1 that C clears, with a value Y
    that surely fits them: (the field's read key (h, s, mask), where Y is); else None. Reading the field
    after the write gives Y. The header's top field (C clears every bit from s up) is left out."""
    kept = kept_bits(stmt)
    if kept is None:
        return None
    base, keep, field = kept
    value = stmt.value
    new = getattr(value, field)
    if isinstance(new, ast.BinOp) and isinstance(new.op, ast.LShift) and _constant(new.right):
        shift, where, y = new.right.value, (new, "left", None), new.left
    else:
        shift, where, y = 0, (value, field, None), new
    width = 0
    while not keep >> (shift + width) & 1 and shift + width < keep.bit_length():
        width += 1
    mask = (1 << width) - 1
    bits = possible_bits(y)
    if not width or shift + width >= keep.bit_length() or bits is None or bits & ~mask or isinstance(y, ast.Constant):
        return None
    return (base, shift, mask), where


def _is_and_of(node, base: str) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd) and isinstance(node.left, ast.Name) \
        and node.left.id == base


def possible_bits(node, known: dict[str, int] | None = None, more=None) -> int | None:
    """A mask of the bits that node's value may have set, when it is surely a non-negative int: a
    constant, `x & c`, shifts by constants, `|` and `^` of such, a local named in `known` (which maps
    locals to the bits their every value may have); else what `more` (a function of the node, for the
    callers that know more kinds of values, as masks.py) says of it, or None."""
    if _constant(node):
        return node.value
    if isinstance(node, ast.Name):
        return (known or {}).get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
        sides = [possible_bits(node.left, known, more), possible_bits(node.right, known, more)]
        bounded = [b for b in sides if b is not None]
        if not bounded:
            return None
        bits = bounded[0]
        for b in bounded[1:]:
            bits &= b
        return bits
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.LShift, ast.RShift)) and _constant(node.right):
        bits = possible_bits(node.left, known, more)
        if bits is None:
            return None
        return bits << node.right.value if isinstance(node.op, ast.LShift) else bits >> node.right.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitXor)):
        left, right = possible_bits(node.left, known, more), possible_bits(node.right, known, more)
        return None if left is None or right is None else left | right
    return more(node) if more is not None else None


def _meet(envs: list) -> dict | None:
    envs = [e for e in envs if e is not None]
    if not envs:
        return None
    first, *rest = envs
    return {k: h for k, h in first.items() if all(k in e and e[k] == h for e in rest)}


class _Availability:
    """The forward analysis: which reads each statement can take from a local (reuses), and where reads
    are first computed (sites)."""

    def __init__(self):
        self.sites: list[_Site] = []
        self.reuses: list[tuple[tuple, object]] = []     # (where, holder: a local's name or a _Site)

    def block(self, stmts: list, env: dict) -> dict | None:
        for stmt in list(stmts):
            env = self.statement(stmt, stmts, env)
            if env is None:
                return None
        return env

    def expression(self, field: str, stmt, stmts: list, env: dict, may_hoist: bool) -> None:
        """Record the reads of stmt.<field>: reuses of what env has, sites of the rest (if may_hoist)."""
        for key, where in field_reads(stmt, field):
            holder = env.get(key)
            if holder is not None:
                self.reuses.append((where, holder))
                if isinstance(holder, _Site):
                    holder.reused = True
            elif may_hoist:
                site = _Site(key, where, stmt, stmts)
                self.sites.append(site)
                env[key] = site

    def statement(self, stmt, stmts: list, env: dict) -> dict | None:
        env = dict(env)
        if any(isinstance(n, ast.NamedExpr) for n in ast.walk(stmt)):
            return _killed(env, stored_names(stmt))          # not generated today: left alone
        if isinstance(stmt, ast.If):
            # A test of an `elif` stays one: a local for its reads would go between `else:` and `if`.
            self.expression("test", stmt, stmts, env, may_hoist=not _is_elif(stmt, stmts))
            body = self.block(stmt.body, env)
            orelse = self.block(stmt.orelse, env)
            return _meet([body, orelse])
        if isinstance(stmt, ast.Try) and not stmt.finalbody:
            at_handlers = _killed(env, stored_names(stmt))
            end = self.block(stmt.body, env)
            if end is not None and stmt.orelse:
                end = self.block(stmt.orelse, end)
            ends = [end] + [self.block(h.body, _killed(at_handlers, {h.name} if h.name else set()))
                            for h in stmt.handlers]
            return _meet(ends)
        if isinstance(stmt, (ast.For, ast.While)):
            before = _killed(env, stored_names(stmt))
            self.block(stmt.body, dict(before))
            self.block(stmt.orelse, dict(before))
            return before
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.Raise)):
            own_key = _own_read(stmt)
            field = "exc" if isinstance(stmt, ast.Raise) else "value"
            # `k = h >> s & m` with the read not yet available: k holds it from now on, nothing to hoist.
            if getattr(stmt, field) is not None and not (own_key is not None and own_key not in env):
                self.expression(field, stmt, stmts, env, may_hoist=True)
            if isinstance(stmt, _TERMINATORS):
                return None
            env = _killed(env, stored_names(stmt), kept_bits(stmt))
            if own_key is not None and own_key[0] not in stored_names(stmt) and own_key not in env:
                env[own_key] = stmt.targets[0].id
            written = _field_write(stmt)
            if written is not None:
                # The field now holds the value written: a later read of it reuses that (a site of its own).
                key, where = written
                site = _Site(key, where, stmt, stmts)
                self.sites.append(site)
                env[key] = site
            return env
        if isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
            return None if isinstance(stmt, _TERMINATORS) else env
        # Anything else (with, nested definitions): left alone; what it stores is no longer available.
        return _killed(env, stored_names(stmt))


def _own_read(stmt) -> tuple | None:
    """The read `k = <read>` assigns to one local, if stmt is that."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return read_key(stmt.value)
    return None


def _is_elif(stmt, stmts: list) -> bool:
    """Whether stmt is the only statement of an else block (unparsed as `elif`)."""
    return len(stmts) == 1 and stmts[0] is stmt
