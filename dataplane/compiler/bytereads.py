"""A field read from the packet's bytes, not from its header's int: a pass over the generated fast().

The parser extracts a header into one int (``h_ipv4_b_p = int_from_bytes(data[14:34], 'big')``) and a
field is read as a shift and a mask of it (``h_ipv4_b_p >> 88 & 0xff``): two operations on a 160-bit int,
each allocating one. While that int still holds what was extracted, a field that lies within one byte is
that byte of `data` (``data[22]``, or ``data[14] >> 4``, ``data[14] & 0xf``): a small int that CPython keeps
cached, no allocation at all; a 16-bit field on a byte boundary is ``data[16] << 8 | data[17]``. By
callgrind, ``h >> 88 & 0xff`` costs about 700 instructions and ``data[22]`` about 190.

A read is rewritten only where, on every path that reaches it, the header's local was last stored by
``int_from_bytes(data[a:b], 'big')`` with constant a and b, after a test that proved ``len(data) >= b``
(so the byte read cannot fail), and `data` was never rebound. The paths are followed one by one with what
they know of the validity locals (as versions.py's copies after the parser: the path through the CPU
header extracts IPv4 at 18, the others at 14, and a copy for "no CPU header" is reached by the latter
only), so a test of validity locals keeps only the paths that can pass it.

A local that holds a wider field (``ipv4_32_32 = h_ipv4_b_p >> 32 & 0xffffffff``, a 32-bit address) and
is read only as narrower parts of it (``ipv4_32_32 >> 24 == 0x7f``, ``ipv4_32_32 >> 28 == 0xf``) is left
out when each part is a byte of `data` on every path that reaches it (``data[26] == 0x7f``,
``data[26] >> 4 == 0xf``): the wide read costs about 670 instructions, a part read from the local about
150 and from `data` about 130 (280 with a shift). A part is only rewritten so when all of the local's reads
are: a local read whole stays, and so do its parts. When the parts are all of one byte, and every path
that reaches the local's store has the header from the same bytes, the local holds that byte instead
(``ipv4_56_8 = data[26]``, then ``ipv4_56_8 == 0x7f``, ``ipv4_56_8 >> 4 == 0xf``): one read of `data`.
"""

from __future__ import annotations

import ast
import copy

from .astnames import (catches_only_raised, int_constant, names_taken, otherwise_bound, plain_stores,
                       statement_lists, stored_names)
from .fieldreads import field_reads, fresh_name, part_key, read_key
from .parsers import FROM_BYTES

# The module-level unpackers of a big-endian unsigned int of 4 and 8 bytes (program.py binds them:
# `name = Struct(format).unpack_from`), by size.
UNPACKERS = {4: ("unpack_u32_from", ">I"), 8: ("unpack_u64_from", ">Q")}

# More paths than this at one point are merged into one (what they all agree on): the facts stay true,
# only less is known.
MAX_PATHS = 128

# Exceptions that only a `raise` statement of the generated code raises (as simplify.py's).
# What a local that holds a field may not be near: its stores and loads are then not all in sight.
_SCOPES_AND_IMPORTS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Import, ast.ImportFrom)
_TERMINATORS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


class _Path:
    """What one path knows: validity locals' values, the header locals that still hold `data[a:b]`,
    the locals that hold len(data), a length data surely has, the locals that hold a byte read (by
    the read's ast.dump), and the locals that hold a field read of a header in `sources` (its key)."""

    FIELDS = ("bools", "sources", "lens", "min_len", "held", "fields")
    __slots__ = FIELDS + ("_key",)          # _key: key(), kept once made

    def __init__(self, bools: dict, sources: dict, lens: frozenset, min_len: int, held: dict, fields: dict):
        self.bools, self.sources, self.lens, self.min_len, self.held = bools, sources, lens, min_len, held
        self.fields = fields
        self._key = None

    def key(self) -> tuple:
        """What tells two paths apart (a path never changes: a new one is made, so this is kept)."""
        if self._key is None:
            self._key = (tuple(sorted(self.bools.items())), tuple(sorted(self.sources.items())), self.lens,
                         self.min_len, tuple(sorted(self.held.items())), tuple(sorted(self.fields.items())))
        return self._key

    def replace(self, **changes) -> "_Path":
        fields = {name: getattr(self, name) for name in self.FIELDS}
        fields.update(changes)
        return _Path(**fields)


def read_fields_from_bytes(fn: ast.FunctionDef, booleans: set[str]) -> None:
    """Rewrite fn's field reads of headers that still hold the bytes they were extracted from (see the
    module doc). `booleans`: the locals that only ever hold True or False."""
    args = {a.arg for a in fn.args.args}
    if "data" not in args:
        return
    paths = _Paths("data", booleans)
    paths.block(fn.body, [_Path({}, {}, frozenset(), 0, {}, {})])
    paths.read_short_extracts()
    paths.read_parts_from_bytes(fn)


def byte_read(key: tuple, source: tuple[int, int], data: str):
    """The expression that reads the field `key` (header local, shift, mask or None) from `data`, the
    header having been extracted from data[a:b] (source); None if the field is not within one byte and
    not a 16-bit field on a byte boundary."""
    _, shift, mask = key
    a, b = source
    top = 8 * (b - a)
    width = top - shift if mask is None else mask.bit_length()
    if width <= 0 or shift + width > top or (mask is not None and mask & (mask + 1)):
        return None
    read = _byte_read(shift, width, b, data)
    if read is not None:
        read.byte_read = True       # (a local assigned it holds it: _Paths.after_simple)
    return read


def _byte_read(shift: int, width: int, b: int, data: str):
    low = shift % 8

    def byte(bit: int):
        return ast.Subscript(ast.Name(data, ast.Load()), ast.Constant(b - 1 - bit // 8), ast.Load())

    if shift // 8 == (shift + width - 1) // 8:
        read = byte(shift)
        if low:
            read = ast.BinOp(read, ast.RShift(), ast.Constant(low))
        if low + width < 8:
            read = ast.BinOp(read, ast.BitAnd(), _hex((1 << width) - 1))
        return read
    if low == 0 and width == 16:
        high = ast.BinOp(byte(shift + 8), ast.LShift(), ast.Constant(8))
        return ast.BinOp(high, ast.BitOr(), byte(shift))
    return None


def short_extract(source: tuple[int, int], data: str):
    """A cheaper read of int_from_bytes(data[a:b], 'big') (source: (a, b)) of 1, 2, 4 or 8 bytes, valid
    where len(data) >= b: data[a] or data[a] << 8 | data[a + 1] (bytes that CPython keeps as cached small
    ints, no slice: ~190 and ~580 instructions against ~1,150), or the [0] of a struct unpack_from (4 or 8
    bytes: ~750, and struct.error, not a shorter int, past the end of data); None for other sizes."""
    a, b = source

    def byte(i: int):
        return ast.Subscript(ast.Name(data, ast.Load()), ast.Constant(i), ast.Load())

    if b - a == 1:
        return byte(a)
    if b - a == 2:
        return ast.BinOp(ast.BinOp(byte(a), ast.LShift(), ast.Constant(8)), ast.BitOr(), byte(a + 1))
    if b - a in UNPACKERS:
        call = ast.Call(ast.Name(UNPACKERS[b - a][0], ast.Load()), [ast.Name(data, ast.Load()), ast.Constant(a)], [])
        return ast.Subscript(call, ast.Constant(0), ast.Load())
    return None


def _hex(value: int) -> ast.Constant:
    """A mask, written in hex as the code generator writes masks (simplify.py's _HexLiterals)."""
    constant = ast.Constant(value)
    constant.hex = True
    return constant


def extracted(value, data: str) -> tuple[int, int] | None:
    """(a, b) if value is `int_from_bytes(data[a:b], 'big')` with constants a < b."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == FROM_BYTES
            and len(value.args) == 2 and not value.keywords
            and isinstance(value.args[1], ast.Constant) and value.args[1].value == "big"):
        return None
    sliced = value.args[0]
    if not (isinstance(sliced, ast.Subscript) and isinstance(sliced.value, ast.Name) and sliced.value.id == data
            and isinstance(sliced.slice, ast.Slice) and sliced.slice.step is None):
        return None
    a, b = int_constant(sliced.slice.lower), int_constant(sliced.slice.upper)
    return (a, b) if a is not None and b is not None and 0 <= a < b else None


def _truth(test, bools: dict):
    """test's truth on a path that knows `bools`: True, False, or None when it depends on more."""
    if isinstance(test, ast.Name):
        return bools.get(test.id)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        value = _truth(test.operand, bools)
        return None if value is None else not value
    if isinstance(test, ast.BoolOp):
        values = [_truth(v, bools) for v in test.values]
        decisive = isinstance(test.op, ast.Or)        # a true operand decides `or`, a false one `and`
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    return None


def _length_bound(test, truth: bool, lens: frozenset) -> int:
    """A length data has when `test` is `truth`: `K > n` false, or `n < K` false (n a local holding
    len(data)), gives K; else 0."""
    if truth or not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return 0
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.Gt) and isinstance(right, ast.Name) and right.id in lens:
        return int_constant(left) or 0
    if isinstance(op, ast.Lt) and isinstance(left, ast.Name) and left.id in lens:
        return int_constant(right) or 0
    return 0


class _Paths:
    """The forward analysis over the set of paths, rewriting reads where every path agrees."""

    def __init__(self, data: str, booleans: set[str]):
        self.data, self.booleans = data, booleans
        # Every name a path may know something of: a statement that stores none of them and teaches
        # nothing (_may_teach) leaves every path as it is, without looking at each.
        self.watched = set(booleans) | {data}
        # For each enclosing try whose handlers catch only what `raise` statements raise: the paths at
        # each raise in its body (where its handlers may start).
        self.raise_points: list[list[_Path]] = []
        # Assignments of int_from_bytes(data[a:b], 'big'): whether every path that reached them knew
        # len(data) >= b (by id of the statement, with the statement).
        self.extracts: dict[int, tuple[ast.Assign, bool]] = {}
        # Parts of locals holding a field that every path can read from data: by local, the reads (by
        # id of the part's node: where it is, the node, the byte read, the header's source).
        self.parts: dict[str, dict[int, tuple]] = {}
        # Stores `local = <field read>`: the sources of the read's header on the paths that reach them
        # (None for a path where it has none), by id of the statement.
        self.field_store_sources: dict[int, set] = {}

    def block(self, stmts: list, paths: list[_Path]) -> list[_Path]:
        for stmt in stmts:
            if not paths:
                break          # unreachable
            paths = self.statement(stmt, paths)
        return paths

    def statement(self, stmt, paths: list[_Path]) -> list[_Path]:
        # (A compound statement's own expression is looked at here, the statements in it as they come.)
        own = stmt.test if isinstance(stmt, (ast.If, ast.While)) else stmt.iter if isinstance(stmt, ast.For) \
            else None if isinstance(stmt, ast.Try) else stmt
        if own is not None and any(isinstance(n, ast.NamedExpr) for n in ast.walk(own)):
            return self.forget(paths, stored_names(stmt))
        if isinstance(stmt, ast.If):
            self.rewrite(stmt, "test", paths)
            body = self.block(stmt.body, self.taking(stmt.test, True, paths))
            orelse = self.block(stmt.orelse, self.taking(stmt.test, False, paths))
            return _distinct(body + orelse)
        if isinstance(stmt, ast.Try) and not stmt.finalbody:
            return self.try_(stmt, paths)
        if isinstance(stmt, (ast.For, ast.While)):
            before = self.forget(paths, stored_names(stmt))
            self.block(stmt.body, before)
            self.block(stmt.orelse, before)
            return before
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.Raise, ast.Pass)):
            field = "exc" if isinstance(stmt, ast.Raise) else None if isinstance(stmt, ast.Pass) else "value"
            if field is not None and getattr(stmt, field) is not None:
                self.rewrite(stmt, field, paths)
            if isinstance(stmt, ast.Raise):
                for points in self.raise_points:
                    points.extend(paths)
            if isinstance(stmt, _TERMINATORS):
                return []
            if isinstance(stmt, ast.Assign):
                self.note_extract(stmt, paths)
                self.note_field_store(stmt, paths)
            stored = stored_names(stmt)
            if stored.isdisjoint(self.watched) and not self.may_teach(stmt):
                return paths
            after = [self.after_simple(stmt, stored, p) for p in paths]
            return paths if all(a is p for a, p in zip(after, paths)) else _distinct(after)
        # Anything else (with, break, continue, nested definitions): left alone, what it stores forgotten.
        if isinstance(stmt, _TERMINATORS):
            return []
        return self.forget(paths, stored_names(stmt))

    def try_(self, stmt: ast.Try, paths: list[_Path]) -> list[_Path]:
        raised_only = all(catches_only_raised(h) for h in stmt.handlers)
        if raised_only:
            self.raise_points.append([])
        ends = self.block(stmt.body, paths)
        # A handler starts where a raise is; or, for one that may catch what a call raises, anywhere.
        at_handlers = self.raise_points.pop() if raised_only else self.forget(paths, stored_names(stmt.body))
        if ends and stmt.orelse:
            ends = self.block(stmt.orelse, ends)
        for handler in stmt.handlers:
            start = self.forget(_distinct(at_handlers), {handler.name} if handler.name else set())
            ends = ends + self.block(handler.body, start)
        return _distinct(ends)

    def taking(self, test, truth: bool, paths: list[_Path]) -> list[_Path]:
        """The paths that can go the way `truth` of test, with what that teaches them."""
        taken = []
        for p in paths:
            if _truth(test, p.bools) is (not truth):
                continue
            bound = _length_bound(test, truth, p.lens)
            taken.append(p.replace(min_len=max(p.min_len, bound)) if bound > p.min_len else p)
        return taken

    def forget(self, paths: list[_Path], stored: set[str]) -> list[_Path]:
        return _distinct([_forgetting(p, stored, self.data) for p in paths])

    def after_simple(self, stmt, stored: set[str], p: _Path) -> _Path:
        """What p knows after stmt, a simple statement that stores `stored`."""
        p = _forgetting(p, stored, self.data)
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and type(stmt.value.value) is bool:
                return self.with_bools(p, stmt.targets, stmt.value.value)
            return p
        target, value = stmt.targets[0].id, stmt.value
        if getattr(value, "byte_read", False):
            self.watched.add(target)
            return p.replace(held={**p.held, ast.dump(value): target})
        source = extracted(value, self.data)
        if source is not None and p.min_len >= source[1]:
            self.watched.add(target)
            return p.replace(sources={**p.sources, target: source})
        if _is_len_of(value, self.data) or (isinstance(value, ast.Name) and value.id in p.lens):
            self.watched.add(target)
            return p.replace(lens=p.lens | {target})
        if isinstance(value, ast.Constant) and type(value.value) is bool:
            return self.with_bools(p, stmt.targets, value.value)
        key = read_key(value)
        if key is not None and key[0] in p.sources:
            self.watched.add(target)
            return p.replace(fields={**p.fields, target: key})
        return p

    def note_extract(self, stmt: ast.Assign, paths: list[_Path]) -> None:
        source = extracted(stmt.value, self.data)
        if source is None:
            return
        _, proven = self.extracts.get(id(stmt), (stmt, True))
        self.extracts[id(stmt)] = (stmt, proven and all(p.min_len >= source[1] for p in paths))

    def read_short_extracts(self) -> None:
        """Once the analysis (which knows extracts by their int_from_bytes form) is over: the short
        extracts that every path proved in bounds, read as short_extract does; the others that every path
        proved in bounds are marked `in_bounds` (for joinedextracts.py)."""
        for stmt, proven in self.extracts.values():
            short = short_extract(extracted(stmt.value, self.data), self.data)
            if proven and short is not None:
                stmt.value = short
            elif proven:
                stmt.in_bounds = True

    def may_teach(self, stmt) -> bool:
        """Whether stmt may be one that after_simple learns from (see there)."""
        if not isinstance(stmt, ast.Assign):
            return False
        value = stmt.value
        return getattr(value, "byte_read", False) \
            or (isinstance(value, ast.Constant) and type(value.value) is bool) \
            or (isinstance(value, ast.Name) and value.id in self.watched) \
            or read_key(value) is not None \
            or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in (FROM_BYTES, "len"))

    def with_bools(self, p: _Path, targets: list, value: bool) -> _Path:
        names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in self.booleans]
        return p.replace(bools={**p.bools, **dict.fromkeys(names, value)}) if names else p

    def rewrite(self, stmt, field: str, paths: list[_Path]) -> None:
        """The field reads in stmt.<field> that every path can take from data, rewritten so."""
        if not paths:
            return
        for key, (parent, name, index) in field_reads(stmt, field):
            sources = {p.sources.get(key[0]) for p in paths}
            if len(sources) != 1 or None in sources:
                continue
            read = byte_read(key, sources.pop(), self.data)
            if read is None:
                continue
            holders = {p.held.get(ast.dump(read)) for p in paths}
            if len(holders) == 1 and None not in holders:
                read = ast.Name(holders.pop(), ast.Load())      # a local holds it on every path
            if index is None:
                setattr(parent, name, read)
            else:
                getattr(parent, name)[index] = read
        self.note_parts(stmt, field, paths)

    def note_parts(self, stmt, field: str, paths: list[_Path]) -> None:
        """The parts of field locals in stmt.<field> that every path can read from one byte of data."""
        for (local, shift, mask), (parent, name, index) in field_reads(stmt, field, part_key):
            keys = {p.fields.get(local) for p in paths}
            if len(keys) != 1 or None in keys:
                continue
            base, outer_shift, outer_mask = keys.pop()
            sources = {p.sources.get(base) for p in paths}
            if len(sources) != 1 or None in sources:
                continue
            source = sources.pop()
            read = byte_read((base, outer_shift + shift, _narrowed(outer_mask, shift, mask)), source, self.data)
            if read is None or sum(isinstance(n, ast.Subscript) for n in ast.walk(read)) != 1:
                continue        # not within one byte (two bytes cost more than the local's part)
            holders = {p.held.get(ast.dump(read)) for p in paths}
            if len(holders) == 1 and None not in holders:
                read = ast.Name(holders.pop(), ast.Load())
            node = getattr(parent, name) if index is None else getattr(parent, name)[index]
            self.parts.setdefault(local, {})[id(node)] = ((parent, name, index), node, read, source)

    def note_field_store(self, stmt: ast.Assign, paths: list[_Path]) -> None:
        key = read_key(stmt.value)
        if key is not None and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self.field_store_sources.setdefault(id(stmt), set()).update(p.sources.get(key[0]) for p in paths)

    def read_parts_from_bytes(self, fn: ast.FunctionDef) -> None:
        """Once the analysis is over: each field local all of whose reads are parts noted (note_parts) is
        left out, its parts read from data (see the module doc)."""
        taken = names_taken(fn)
        for local, parts in self.parts.items():
            stores = _field_stores(fn, local)
            if stores is None or _loads(fn, local) != {id(n) for _, node, _, _ in parts.values()
                                                       for n in ast.walk(node) if isinstance(n, ast.Name)
                                                       and n.id == local}:
                continue
            byte = self.one_byte(parts, stores)
            holder = None if byte is None else fresh_name(byte[0], taken)
            for (parent, name, index), _, read, _ in parts.values():
                if holder is not None:
                    read = _with_byte_in(read, holder)
                if index is None:
                    setattr(parent, name, read)
                else:
                    getattr(parent, name)[index] = read
            for body in statement_lists(fn):
                if holder is None:
                    body[:] = [stmt for stmt in body if id(stmt) not in stores] or [ast.Pass()]
                    continue
                for stmt in body:
                    if id(stmt) in stores:
                        stmt.targets = [ast.Name(holder, ast.Store())]
                        stmt.value = copy.deepcopy(byte[1])

    def one_byte(self, parts: dict, stores: dict) -> tuple | None:
        """If the parts all read one byte of data, from one source, and every path that reaches each store
        had its header from that source: (the byte's read key, the byte read); else None."""
        reads = {ast.dump(_byte_of(read)) if _byte_of(read) is not None else None for _, _, read, _ in parts.values()}
        sources = {source for _, _, _, source in parts.values()}
        if len(reads) != 1 or None in reads or len(sources) != 1:
            return None
        source = sources.pop()
        if any(self.field_store_sources.get(id(stmt)) != {source} for stmt in stores.values()):
            return None
        byte = _byte_of(next(iter(parts.values()))[2])
        header = read_key(next(iter(stores.values())).value)[0]
        return (header, 8 * (source[1] - 1 - byte.slice.value), 0xff), byte


def _byte_of(read) -> ast.Subscript | None:
    """The byte of data that a part's read reads (None if the read is a local's)."""
    return next((n for n in ast.walk(read) if isinstance(n, ast.Subscript)), None)


def _with_byte_in(read, holder: str):
    """read with its byte of data read from the local `holder`."""
    if isinstance(read, ast.Subscript):
        return ast.Name(holder, ast.Load())
    for node in ast.walk(read):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.Subscript):
                setattr(node, field, ast.Name(holder, ast.Load()))
    return read


def _narrowed(mask: int | None, shift: int, inner: int | None) -> int | None:
    """The mask of `(x >> shift) & inner` (inner None: no mask) where x is a field read with mask `mask`."""
    outer = None if mask is None else mask >> shift
    return inner if outer is None else outer if inner is None else outer & inner


def _loads(fn: ast.FunctionDef, name: str) -> set[int]:
    return {id(n) for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)}


def _field_stores(fn: ast.FunctionDef, name: str) -> dict[int, ast.Assign] | None:
    """The statements that bind name, by id, if each is `name = <field read>` (nothing else binds it: no
    parameter, other kind of store or global statement names it), in a function with no nested scope and no
    import; else None."""
    stores: dict[int, ast.Assign] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if len(node.targets) != 1 or read_key(node.value) is None:
                return None
            stores[id(node)] = node
    _, plain_targets = plain_stores(fn)
    if name in {a.arg for a in fn.args.args} or name in otherwise_bound(fn, plain_targets) \
            or any(isinstance(node, _SCOPES_AND_IMPORTS) and node is not fn for node in ast.walk(fn)):
        return None
    return stores


def _forgetting(p: _Path, stored: set[str], data: str) -> _Path:
    if not stored:
        return p
    if data in stored:
        return _Path({k: v for k, v in p.bools.items() if k not in stored}, {}, frozenset(), 0, {}, {})
    if not (stored & p.bools.keys() or stored & p.sources.keys() or stored & p.lens
            or not stored.isdisjoint(p.held.values()) or stored & p.fields.keys()):
        return p
    return _Path({k: v for k, v in p.bools.items() if k not in stored},
                 {k: v for k, v in p.sources.items() if k not in stored}, p.lens - stored, p.min_len,
                 {k: v for k, v in p.held.items() if v not in stored},
                 {k: v for k, v in p.fields.items() if k not in stored and v[0] not in stored})


def _is_len_of(value, data: str) -> bool:
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "len"
            and len(value.args) == 1 and not value.keywords and isinstance(value.args[0], ast.Name)
            and value.args[0].id == data)


def _distinct(paths: list[_Path]) -> list[_Path]:
    """paths without repeats; merged into one if too many."""
    seen = {}
    for p in paths:
        seen.setdefault(p.key(), p)
    unique = list(seen.values())
    return unique if len(unique) <= MAX_PATHS else [_merged(unique)]


def _merged(paths: list[_Path]) -> _Path:
    """One path that knows what all of `paths` agree on."""
    first, *rest = paths
    return _Path({k: v for k, v in first.bools.items() if all(p.bools.get(k) == v for p in rest)},
                 {k: v for k, v in first.sources.items() if all(p.sources.get(k) == v for p in rest)},
                 frozenset(first.lens.intersection(*(p.lens for p in rest))),
                 min(p.min_len for p in paths),
                 {k: v for k, v in first.held.items() if all(p.held.get(k) == v for p in rest)},
                 {k: v for k, v in first.fields.items() if all(p.fields.get(k) == v for p in rest)})
