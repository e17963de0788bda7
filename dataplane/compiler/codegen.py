"""Lowering of checked P4 blocks to Python source: expressions and statements.

A :class:`BlockCompiler` turns the body of one pipeline stage (a parser or a
control, with every action, function and sub-control it calls inlined,
since P4 has no recursion) into the body of one Python function. It keeps an
environment from checker symbols to places (see :mod:`.layout`) and emits
code through an :class:`~.emitter.Emitter`.

Expressions are lowered by ``value(e)`` to a Python expression string; when
an expression needs statements first (a table applied inside an ``if``
condition, a function call, ``lookahead``), ``value`` emits them before
returning the name of a temporary. Evaluation order is left to right, and
``&&``, ``||`` and ``?:`` keep their short-circuit meaning: an operand with
side effects becomes an ``if`` statement.

Calls (actions, functions, externs, tables) are lowered by the mixin in
:mod:`.calls`; parsers and deparsing by :mod:`.parsers`.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from ..diagnostics import error
from ..frontend import ast as A
from ..frontend.scope import Symbol
from ..frontend.types import (ApplyResultType, BitsType, BoolType, EnumType, ErrorType, IntType, ListType,
                              StackType, StructInitType, TupleType, Type, strip_newtype)
from .effects import CalleeFacts
from .emitter import NESTED_TOO_DEEPLY, CodeLimitError, Emitter
from .layout import (DynLocalScalar, DynSliceScalar, DynSlotScalar, FieldArrayPlace, HeaderPlace, LayoutError,
                     LocalScalar, Place, PlaceBuilder, Scalar, SliceScalar, StackPlace, StructPlace, UnionPlace,
                     VarbitScalar, default_value, leaves, scalar_width, shifted_field_place, state_local)


# The code generator recurses through nested statements and inlined calls: about 3 Python frames for a
# statement inside another, about 12 for a function inlined into another (counted as 3 plus its statement).
# This bound on the count keeps it within some 500 frames, leaving room on Python's stack of 1,000 for
# the expression at the bottom (the front end lets expressions nest 100 levels, 2 frames each). Real
# programs need a few dozen; a chain of actions that each call the next passes it at about 37 actions.
MAX_COMPILE_NESTING = 150
INLINE_NESTING = 3
# The most iterations one run of a for loop may make. P4 does not promise that a loop ends (a bit<8>
# counter compared with `<= 255` never does); past the limit the loop stops and the packet is dropped
# (DropReason.FOR_LOOP_LIMIT), so that one packet cannot hang the pipeline. Some 100 ms of work.
MAX_LOOP_ITERATIONS = 100_000


class _Loop:
    """A for loop being compiled. Inside an inlined action or function, `return` leaves every loop of
    that body: it sets `flag` (shared by the loops of one body) and breaks, and each loop it crossed
    breaks again after its end (`returned`)."""

    def __init__(self, frame_depth: int, flag: str | None):
        self.frame_depth, self.flag, self.returned = frame_depth, flag, False


class Const:
    """An environment binding for a compile-time constant."""

    def __init__(self, value, type_: Type):
        self.value, self.type = value, type_


class Binding:
    """An environment binding for something that is not data: an extern, a table, a packet, a block."""

    def __init__(self, kind: str, pyname: str | None = None, decl=None, info=None, args: dict | None = None):
        self.kind, self.pyname, self.decl, self.info = kind, pyname, decl, info
        # A block instance's constructor arguments: parameter symbol -> Binding (an instance) or Const.
        self.args = args or {}


class Env:
    def __init__(self, parent: "Env | None" = None):
        self.parent = parent
        self.vars: dict[int, object] = {}

    def bind(self, sym: Symbol, value) -> None:
        self.vars[id(sym)] = value

    def lookup(self, sym: Symbol):
        e: Env | None = self
        while e is not None:
            v = e.vars.get(id(sym))
            if v is not None:
                return v
            e = e.parent
        return None


class InlineFrame:
    """An inlined action or function: where `return` stores its value and whether it breaks a loop."""

    def __init__(self, result: Place | None, wrapped: bool):
        self.result, self.wrapped = result, wrapped


def is_path(e) -> bool:
    """Whether e names storage: a variable or parameter, then members, indices and slices."""
    while isinstance(e, (A.Member, A.Index, A.Slice, A.PlusSlice)):
        e = e.expr
    return isinstance(e, A.Name)


def is_scalar(t: Type | None) -> bool:
    t = strip_newtype(t) if t is not None else None
    return isinstance(t, (BitsType, BoolType, EnumType, ErrorType, IntType))


def places_equal(a: Place, b: Place) -> str:
    """A Python test that two places of the same type hold equal P4 values (the spec's `==`).

    Headers are equal when both are invalid, or both valid with equal fields (an invalid header's
    leftover bits do not count); stacks compare their elements, not nextIndex; a varbit compares its
    length as well as its bits."""
    if isinstance(a, VarbitScalar) and isinstance(b, VarbitScalar):
        return f"({a.read()} == {b.read()} and {a.header.vl.read()} == {b.header.vl.read()})"
    if isinstance(a, Scalar) or isinstance(b, Scalar):
        return f"{a.read()} == {b.read()}"
    if isinstance(a, HeaderPlace) and isinstance(b, HeaderPlace):
        av, bv = a.valid.read(), b.valid.read()
        same = [f"{a.bits.read()} == {b.bits.read()}"]
        if a.vb is not None and b.vb is not None:
            same += [f"{a.vb.read()} == {b.vb.read()}", f"{a.vl.read()} == {b.vl.read()}"]
        return f"({av} == {bv} and (not {av} or ({' and '.join(same)})))"
    if isinstance(a, StackPlace) and isinstance(b, StackPlace):
        pairs = zip(a.elems, b.elems)
    elif isinstance(a, UnionPlace) and isinstance(b, UnionPlace):
        pairs = ((a.members[m], b.members[m]) for m in a.members)
    elif isinstance(a, StructPlace) and isinstance(b, StructPlace):
        pairs = ((a.fields[f], b.fields[f]) for f in a.fields)
    else:
        raise AssertionError("internal error: comparing places of different shapes")
    return " and ".join(f"({places_equal(x, y)})" for x, y in pairs) or "True"


def mask_of(t: Type) -> int:
    return (1 << scalar_width(t)) - 1


def py_const(value, t: Type | None) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(strip_newtype(t) if t is not None else None, BoolType):
        return "True" if value else "False"
    if isinstance(value, int):
        return hex(value) if value > 9 else str(value)
    return repr(value)


_LITERAL = re.compile(r"-?(0x[0-9a-f]+|[0-9]+)\Z|True\Z|False\Z")


def _fully_known(value) -> bool:
    """Whether a constant aggregate value has no unknown (None) part."""
    if isinstance(value, dict):
        return all(_fully_known(v) for v in value.values())
    if isinstance(value, tuple):
        return all(_fully_known(v) for v in value)
    return value is not None


def has_effects(e) -> bool:
    """Whether evaluating e may change state or need statements (calls other than pure ones)."""
    for node in e.walk() if isinstance(e, A.Node) else ():
        if isinstance(node, A.Call):
            c = getattr(node, "callee", None)
            if c is None:
                return True
            if c.kind == "header_method" and c.name == "isValid":
                continue
            return True
    return False


class BlockCompiler:
    def __init__(self, prog, em: Emitter, traced: bool, block_name: str):
        self.prog = prog                  # the ProgramCompiler (tables, externs, layouts, errors)
        self.em = em
        self.traced = traced
        self.block_name = block_name
        self.env = Env()
        self.frames: list[InlineFrame] = []
        self.nesting = 0                  # statements and inlined bodies being compiled (MAX_COMPILE_NESTING)
        self.instance_path = block_name   # control-plane prefix of tables and externs
        self.in_parser = False
        self.locals = PlaceBuilder(None, self.em.fresh)
        self.loops: list[_Loop] = []      # the for loops around the statement being compiled
        self.callee_facts = CalleeFacts()   # what inlined calls can reach (copy-in/copy-out)
        self.pinned: dict[int, Place] = {}  # lvalues already evaluated (the target of `x op= e`), by id
        # Whether the packet state is in Python locals (the fused function) rather than the object `p`.
        self.state_in_locals = False

    def slot(self, name: str) -> str:
        """The Python expression of a slot of the packet state (an attribute of p, or a local)."""
        return state_local(name) if self.state_in_locals else f"p.{name}"

    # ------------------------------------------------------------------ errors

    def unsupported(self, what: str, node) -> Exception:
        return error(f"{what} is not supported by the dataplane compiler", getattr(node, "span", None))

    # ------------------------------------------------------------------ environment

    def bind_locals_for(self, sym_or_decl, t: Type, name: str) -> Place:
        try:
            return self.locals.build(t, name)
        except LayoutError as exc:
            raise error(str(exc), exc.span or getattr(sym_or_decl, "span", None))

    def init_place(self, place: Place) -> None:
        """Set every scalar of a new local to its default (0, False, invalid)."""
        for leaf in leaves(place):
            self.em.line(leaf.write(default_value(leaf.type)))

    # ------------------------------------------------------------------ places

    def place(self, e: A.Expression) -> Place:
        """The storage an lvalue (or readable path) denotes."""
        pinned = self.pinned.get(id(e))
        if pinned is not None:
            return pinned
        if isinstance(e, A.Name):
            if getattr(e, "ref", None) is None:
                raise self.unsupported("a match_kind value in a run-time expression", e)
            b = self.env.lookup(e.ref)
            if isinstance(b, Place):
                return b
            if self._aggregate_constant(e) is not None:
                return self.aggregate_temp(e)      # a constant struct or header, read in a temporary
            raise error(f"'{e.name}' does not denote storage here", e.span)
        if isinstance(e, A.Member):
            base_t = strip_newtype(e.expr.type)
            if isinstance(base_t, StackType):
                return self.stack_member_place(e)
            base = self._base_place(e.expr)
            if isinstance(base, StructPlace):
                return base.fields[e.member]
            if isinstance(base, HeaderPlace):
                return base.field(e.member)
            if isinstance(base, UnionPlace):
                return base.members[e.member]
            raise error(f"cannot take member '{e.member}' here", e.span)
        if isinstance(e, A.Index):
            base = self._base_place(e.expr)
            if isinstance(base, StackPlace):
                if e.index.const is not None:
                    return base.elems[e.index.const]
                return self.dyn_element(base, self.value(e.index), e)
            if isinstance(base, StructPlace) and isinstance(strip_newtype(base.type), TupleType):
                return base.fields[str(e.index.const)]
            raise self.unsupported("indexing this value", e)
        if isinstance(e, A.Slice):
            base = self.place(e.expr)
            if not isinstance(base, Scalar):
                raise error("cannot slice this value", e.span)
            return SliceScalar(base, e.hi.const, e.lo.const, e.type)
        if isinstance(e, A.PlusSlice):
            return self.plus_slice_place(e)
        raise error("this expression does not denote storage", getattr(e, "span", None))

    def plus_slice_place(self, e: A.PlusSlice) -> Scalar:
        """`e[L+:W]` as storage: bits [min(L+W, width) - 1 : L] of e, L a constant or read once at run time."""
        base = self.place(e.expr)
        if not isinstance(base, Scalar):
            raise error("cannot slice this value", e.span)
        width = scalar_width(e.expr.type)
        if e.lo.const is not None:
            lo = e.lo.const
            hi = min(lo + e.width_bits, width) - 1
            return SliceScalar(base, hi, lo, e.type, clip=hi - lo + 1 < e.width_bits)
        lo_var = self.em.fresh("lo")
        self.em.line(f"{lo_var} = {self.value(e.lo)}")
        return DynSliceScalar(base, lo_var, e.width_bits, width, e.type)

    def _base_place(self, e: A.Expression) -> Place:
        """The place of the aggregate a member or element is taken from; one returned by a call is
        held in a temporary (reading `f().h` or `g()[0]`)."""
        return self.place(e) if is_path(e) else self.aggregate_temp(e)

    def dyn_element(self, stack: StackPlace, index: str, where=None) -> Place:
        """The element of a header stack or array at a run-time index (via the stack's attribute-name tuples);
        an index past the end picks the last element."""
        idx = self.em.fresh("i")
        self.em.line(f"{idx} = {index}")
        if isinstance(stack, FieldArrayPlace):
            self.em.line(f"if {idx} >= {stack.size}: {idx} = {stack.size - 1}")
            return shifted_field_place(stack.elems[0], f"{idx} * {stack.stride}")
        template = stack.elems[0]
        make = self._dyn_leaf_maker(stack, idx, where)
        counter = iter(range(len(leaves(template))))

        def rebuild(place: Place) -> Place:
            if isinstance(place, Scalar):
                return make(next(counter), place.type)
            if isinstance(place, HeaderPlace):
                scal = [rebuild(s) for s in place.scalars()]
                return HeaderPlace(place.type, scal[0], scal[1], *(scal[2:] or [None, None]))
            if isinstance(place, UnionPlace):
                return UnionPlace(place.type, {m: rebuild(h) for m, h in place.members.items()})
            if isinstance(place, StructPlace):
                return StructPlace(place.type, {f: rebuild(p) for f, p in place.fields.items()})
            if isinstance(place, StackPlace) and place.next is None:
                return StackPlace(place.type, [rebuild(el) for el in place.elems], None, None)
            raise self.unsupported("this header stack element type", where)

        self.em.line(f"if {idx} >= {stack.size}: {idx} = {stack.size - 1}")
        return rebuild(template)

    def _dyn_leaf_maker(self, stack: StackPlace, idx: str, where):
        """How to build the k-th scalar of the element at run-time index idx: an attribute of the packet state
        named by the stack's tuples, one of the elements' Python locals, or (an array inside an array element
        itself picked at run time) an attribute named by a tuple picked from the outer index's tuples."""
        if stack.dyn is not None:
            names = list(stack.dyn)
            return lambda k, t: DynSlotScalar("p", names[k], idx, t)
        per_leaf = list(zip(*(leaves(el) for el in stack.elems)))
        if all(isinstance(leaf, LocalScalar) for group in per_leaf for leaf in group):
            local_names = [[leaf.name for leaf in group] for group in per_leaf]
            return lambda k, t: DynLocalScalar(local_names[k], idx, t)
        if all(isinstance(leaf, DynSlotScalar) and leaf.index == group[0].index and leaf.obj == group[0].obj
               for group in per_leaf for leaf in group):
            tables = [f"({', '.join(leaf.names_var for leaf in group)},)[{idx}]" for group in per_leaf]
            return lambda k, t: DynSlotScalar(per_leaf[k][0].obj, tables[k], per_leaf[k][0].index, t)
        if all(isinstance(leaf, DynLocalScalar) and leaf.index == group[0].index and
               len(leaf.names) == len(group[0].names) for group in per_leaf for leaf in group):
            # Locals picked by two indexes: one tuple of all of them, at position inner * (outer count) + outer.
            return lambda k, t: DynLocalScalar([n for leaf in per_leaf[k] for n in leaf.names],
                                               f"({idx} * {len(per_leaf[k][0].names)} + {per_leaf[k][0].index})", t)
        raise self.unsupported("indexing by a run-time value an array inside an array element itself chosen at "
                               "run time", where)

    def stack_member_place(self, e: A.Member) -> Place:
        stack = self.place(e.expr)
        m = e.member
        if m == "next":
            idx = self.em.fresh("nx")
            self.em.line(f"{idx} = {stack.next.read()}")
            self.em.line(f"if {idx} >= {stack.size}: raise ParserStop({self.prog.error_code('StackOutOfBounds')})")
            return self.dyn_element(stack, idx)
        if m == "last":
            idx = self.em.fresh("ls")
            self.em.line(f"{idx} = {stack.next.read()} - 1")
            self.em.line(f"if {idx} < 0: raise ParserStop({self.prog.error_code('StackOutOfBounds')})")
            return self.dyn_element(stack, idx)
        raise error(f"'{m}' is not storage", e.span)

    # ------------------------------------------------------------------ expressions

    def value(self, e: A.Expression) -> str:
        """A Python expression for the value of a scalar-typed P4 expression."""
        c = getattr(e, "const", None)
        if c is not None and not isinstance(c, (tuple, dict)) and is_scalar(e.type):
            return py_const(c, e.type)
        pinned = self.pinned.get(id(e))
        if pinned is not None:
            return pinned.read()
        method = getattr(self, "_v_" + type(e).__name__, None)
        if method is None:
            raise self.unsupported(f"the expression '{type(e).__name__}'", e)
        return method(e)

    def _v_Name(self, e: A.Name) -> str:
        if getattr(e, "ref", None) is None:
            raise self.unsupported("a match_kind value in a run-time expression", e)
        b = self.env.lookup(e.ref)
        if isinstance(b, Const):
            return py_const(b.value, b.type)
        if isinstance(b, Scalar):
            return b.read()
        if b is None:
            raise error(f"internal: no binding for '{e.name}'", e.span)
        raise error(f"'{e.name}' has no scalar value here", e.span)

    def _v_Member(self, e: A.Member) -> str:
        base_t = strip_newtype(getattr(e.expr, "type", None))
        if isinstance(base_t, ApplyResultType):
            result = self.lower_call(e.expr)
            return result[e.member]
        if isinstance(base_t, StackType):
            if e.member == "lastIndex":
                return f"(({self.place(e.expr).next.read()} - 1) & 0xffffffff)"
            if e.member == "nextIndex":
                return self.place(e.expr).next.read()
            if e.member == "size":
                return str(base_t.size)
        if isinstance(base_t, (StructInitType, ListType)) or isinstance(e.expr, A.Call):
            return self.aggregate_member(e)
        p = self.place(e)
        if not isinstance(p, Scalar):
            raise error(f"'{e.member}' is not a scalar value", e.span)
        return p.read()

    _v_Index = _v_Slice = _v_PlusSlice = lambda self, e: self._read_place(e)

    def _read_place(self, e) -> str:
        if isinstance(e, A.Slice) and not is_path(e.expr):
            base = self.value(e.expr)
            m = (1 << (e.hi.const - e.lo.const + 1)) - 1
            return f"((({base}) >> {e.lo.const}) & {hex(m)})"
        if isinstance(e, A.PlusSlice) and not is_path(e.expr):
            return f"((({self.value(e.expr)}) >> ({self.value(e.lo)})) & {hex((1 << e.width_bits) - 1)})"
        p = self.place(e)
        if not isinstance(p, Scalar):
            raise error("this is not a scalar value", e.span)
        return p.read()

    def aggregate_member(self, e: A.Member) -> str:
        """A field of an aggregate that is not a place (a struct returned by a call, a lookahead)."""
        tmp = self.aggregate_temp(e.expr)
        return self._member_of_place(tmp, e).read()

    def _member_of_place(self, place: Place, e: A.Member) -> Place:
        if isinstance(place, StructPlace):
            return place.fields[e.member]
        if isinstance(place, HeaderPlace):
            return place.field(e.member)
        raise error(f"cannot take member '{e.member}' here", e.span)

    def _v_TypeMember(self, e: A.TypeMember) -> str:
        return py_const(e.const, e.type)

    def _v_IntLiteral(self, e) -> str:
        return py_const(e.const if e.const is not None else e.value, e.type)

    def _v_BoolLiteral(self, e) -> str:
        return "True" if e.value else "False"

    def _v_Cast(self, e: A.Cast) -> str:
        return self.convert(self.value(e.expr), e.expr.type, e.type)

    def convert(self, v: str, src: Type, dst: Type) -> str:
        s, d = strip_newtype(src), strip_newtype(dst)
        if isinstance(s, EnumType) and s.underlying is not None:
            s = s.underlying
        if isinstance(d, EnumType) and d.underlying is not None:
            d = d.underlying
        if isinstance(d, BoolType):
            if isinstance(s, BoolType):
                return v
            return f"({v} == 1)"
        if isinstance(s, BoolType):
            return f"(1 if {v} else 0)"
        if isinstance(d, BitsType) and isinstance(s, BitsType):
            if d.width < s.width:
                return f"({v} & {hex(d.mask)})"
            if d.width > s.width and s.signed:
                sign = 1 << (s.width - 1)
                return f"(((({v}) ^ {hex(sign)}) - {hex(sign)}) & {hex(d.mask)})"
            return v
        if isinstance(d, BitsType) and isinstance(s, IntType):
            return f"(({v}) & {hex(d.mask)})"
        if isinstance(d, IntType) and isinstance(s, BitsType):
            return self._signed(v, s) if s.signed else v
        return v

    def _v_Unary(self, e: A.Unary) -> str:
        v = self.value(e.expr)
        t = strip_newtype(e.type)
        if e.op == "!":
            return f"(not {v})"
        if e.op == "~":
            return f"({v} ^ {hex(mask_of(t))})"
        if e.op == "-":
            return f"((-{v}) & {hex(mask_of(t))})" if isinstance(t, BitsType) else f"(-{v})"
        return v

    def _signed(self, v: str, t: BitsType) -> str:
        sign = 1 << (t.width - 1)
        return f"(({v} ^ {hex(sign)}) - {hex(sign)})"

    def _v_Binary(self, e: A.Binary) -> str:
        op = e.op
        if op in ("&&", "||"):
            return self._short_circuit(e)
        lt = strip_newtype(e.left.type)
        if isinstance(lt, EnumType) and lt.underlying is not None and not isinstance(strip_newtype(e.right.type),
                                                                                       EnumType):
            lt = lt.underlying
        if op in ("==", "!=") and not is_scalar(e.left.type):
            return self.aggregate_equal(e)
        a = self.value(e.left)
        if has_effects(e.right):
            a = self.snapshot(a)     # the right operand may change what the left one read
        b = self.value(e.right)
        if op in ("==", "!="):
            return f"({a} {op} {b})"
        if op in ("<", ">", "<=", ">="):
            if isinstance(lt, BitsType) and lt.signed:
                return f"({self._signed(a, lt)} {op} {self._signed(b, lt)})"
            return f"({a} {op} {b})"
        t = strip_newtype(e.type)
        if isinstance(t, EnumType) and t.underlying is not None:
            t = t.underlying
        if isinstance(t, IntType):
            return self._int_binary(e, a, b)
        w = t.width
        m = hex(t.mask)
        if op == "+":
            return f"(({a} + {b}) & {m})"
        if op == "-":
            return f"(({a} - {b}) & {m})"
        if op == "*":
            return f"(({a} * {b}) & {m})"
        if op in ("&", "|", "^"):
            return f"({a} {op} {b})"
        if op == "<<":
            n = e.right.const
            if n is not None:
                return "0" if n >= w else f"(({a} << {n}) & {m})"
            return f"shl({a}, {b}, {w})"
        if op == ">>":
            n = e.right.const
            if t.signed:
                return f"sar({a}, {b}, {w})"
            if n is not None and n >= w:
                return "0"
            return f"({a} >> {b})"
        if op == "|+|":
            return f"add_sat_signed({a}, {b}, {w})" if t.signed else f"add_sat({a}, {b}, {w})"
        if op == "|-|":
            return f"sub_sat_signed({a}, {b}, {w})" if t.signed else f"sub_sat({a}, {b}, {w})"
        if op == "/":
            return f"div({a}, {b})"
        if op == "%":
            return f"mod({a}, {b})"
        if op == "++":
            rw = scalar_width(e.right.type)
            return f"(({a} << {rw}) | {b})"
        raise self.unsupported(f"operator '{op}'", e)

    def _int_binary(self, e: A.Binary, a: str, b: str) -> str:
        """Arbitrary-precision `int` arithmetic at run time (a value cast to int, as in `(int)x + 1`)."""
        op = e.op
        if op == "<<" and not (isinstance(e.right.const, int) and 0 <= e.right.const <= 4096):
            # A run-time shift count could make a number of any size.
            raise self.unsupported("shifting a run-time int value by a non-constant amount", e)
        if op in ("+", "-", "*", "&", "|", "^", "<<", ">>"):
            return f"({a} {op} {b})"
        if op == "/":
            return f"div({a}, {b})"
        if op == "%":
            return f"mod({a}, {b})"
        raise self.unsupported(f"operator '{op}' on a run-time int value", e)

    def snapshot(self, v: str) -> str:
        """The value of v now, in a temporary (code emitted next may change what v reads)."""
        if _LITERAL.match(v):
            return v
        tmp = self.em.fresh("ev")
        self.em.line(f"{tmp} = {v}")
        return tmp

    def _short_circuit(self, e: A.Binary) -> str:
        a = self.value(e.left)
        if not has_effects(e.right):
            b = self.value(e.right)
            return f"({a} and {b})" if e.op == "&&" else f"({a} or {b})"
        tmp = self.em.fresh("sc")
        self.em.line(f"{tmp} = {a}")
        with self.em.indent(f"if {tmp}:" if e.op == "&&" else f"if not {tmp}:"):
            self.em.line(f"{tmp} = {self.value(e.right)}")
        return tmp

    def _v_Ternary(self, e: A.Ternary) -> str:
        c = self.value(e.cond)
        if not has_effects(e.then) and not has_effects(e.otherwise):
            return f"({self.value(e.then)} if {c} else {self.value(e.otherwise)})"
        tmp = self.em.fresh("tern")
        with self.em.indent(f"if {c}:"):
            self.em.line(f"{tmp} = {self.value(e.then)}")
        with self.em.indent("else:"):
            self.em.line(f"{tmp} = {self.value(e.otherwise)}")
        return tmp

    def _v_Call(self, e: A.Call) -> str:
        result = self.lower_call(e, want_value=True)
        if isinstance(result, Place):
            if isinstance(result, Scalar):
                return result.read()
            raise error("this call returns an aggregate; use one of its fields", e.span)
        return result

    # ------------------------------------------------------------------ aggregates

    def aggregate_equal(self, e: A.Binary) -> str:
        test = places_equal(self.aggregate_source(e.left), self.aggregate_source(e.right))
        return f"({test})" if e.op == "==" else f"(not ({test}))"

    def aggregate_source(self, e: A.Expression) -> Place:
        """A place holding the value of an aggregate expression (a path, or a temporary filled here)."""
        if isinstance(e, (A.Name, A.Member, A.Index)) and not isinstance(e, A.Call):
            try:
                p = self.place(e)
                if not isinstance(p, Scalar) or isinstance(p, VarbitScalar):
                    return p
            except Exception:
                pass
        return self.aggregate_temp(e)

    def aggregate_temp(self, e: A.Expression) -> Place:
        t = e.type
        if isinstance(e, A.Call):
            r = self.lower_call(e, want_value=True)
            if isinstance(r, Place):
                return r
        place = self.bind_locals_for(e, t, "agg")
        if isinstance(e, (A.ListExpression, A.StructExpression)):
            self.init_place(place)      # fields are written one by one into the header's packed bits
        self.assign_aggregate(place, e)
        return place

    def assign_aggregate(self, dst: Place, src_e: A.Expression) -> None:
        """dst = src_e for headers, structs, unions, stacks and tuples."""
        if isinstance(src_e, (A.ListExpression, A.StructExpression)):
            if isinstance(dst, HeaderPlace):
                elems = src_e.elements if isinstance(src_e, A.ListExpression) else [x for _, x in src_e.fields]
                names = list(dst.layout.order) if isinstance(src_e, A.ListExpression) else [n for n, _ in src_e.fields]
                pairs = [(dst.field(name), x) for name, x in zip(names, elems)]
                if pairs:
                    self.em.line(dst.valid.write("True"))
            elif isinstance(dst, StructPlace):
                if isinstance(src_e, A.ListExpression):
                    pairs = list(zip(dst.fields.values(), src_e.elements))
                else:
                    pairs = [(dst.fields[n], x) for n, x in src_e.fields]
            elif isinstance(dst, StackPlace) and dst.next is None and isinstance(src_e, A.ListExpression):
                pairs = list(zip(dst.elems, src_e.elements))      # an array (not a header stack)
            else:
                raise self.unsupported("this initializer", src_e)
            if len(pairs) > 1 and all(isinstance(d, Scalar) for d, _ in pairs):
                self._assign_scalars_at_once(dst, pairs)
                return
            for d, x in pairs:
                self.assign_value(d, x)
            return
        constant = self._aggregate_constant(src_e)
        if constant is not None:
            self.assign_constant(dst, constant, src_e)
            return
        if isinstance(src_e, A.Call):
            r = self.lower_call(src_e, want_value=True)
            if isinstance(r, Place):
                self.copy_place(dst, r)
                return
            raise error("internal: aggregate call without a place", src_e.span)
        src = self.place(src_e)
        self.copy_place(dst, src)

    def _assign_scalars_at_once(self, dst: Place, pairs: list) -> None:
        """Fields of dst = the values of an initializer: every value is read before the first write when
        one of them reads dst itself (`s = {s.b, s.a}`), as an assignment reads its whole right side first."""
        values = []
        for k, (_, x) in enumerate(pairs):
            v = self.value(x)
            if any(has_effects(y) for _, y in pairs[k + 1:]):
                v = self.snapshot(v)
            values.append(v)
        storage = [leaf.read() for leaf in leaves(dst)]
        if any(name in v for v in values for name in storage):
            values = [self.snapshot(v) for v in values]
        for (d, _), v in zip(pairs, values):
            self.em.line(d.write(v))

    def _aggregate_constant(self, e: A.Expression):
        """The compile-time value of an aggregate expression (a constant struct or header), or None."""
        value = getattr(e, "const", None)
        if value is None and isinstance(e, A.Name):
            b = self.env.lookup(e.ref)
            if isinstance(b, Const):
                value = b.value
            elif b is None and getattr(e.ref, "kind", None) == "const":
                value = e.ref.value     # a top-level constant
        return value if isinstance(value, (tuple, dict)) and _fully_known(value) else None

    def assign_constant(self, dst: Place, value, e: A.Expression) -> None:
        """dst = a compile-time struct or header value (a tuple in field order, or a dict by name)."""
        if isinstance(dst, Scalar):
            self.em.line(dst.write(py_const(value, dst.type)))
            return
        if isinstance(dst, HeaderPlace):
            self.em.line(dst.valid.write("True"))
            names, field_of = list(dst.layout.order), dst.field
        elif isinstance(dst, StructPlace):
            names, field_of = list(dst.fields), dst.fields.__getitem__
        elif isinstance(dst, StackPlace) and dst.next is None and isinstance(value, tuple):
            names, field_of = range(dst.size), dst.elems.__getitem__      # an array, element by element
        else:
            raise self.unsupported("a constant of this type", e)
        pairs = value.items() if isinstance(value, dict) else zip(names, value)
        for name, v in pairs:
            self.assign_constant(field_of(name), v, e)

    def copy_place(self, dst: Place, src: Place) -> None:
        dl, sl = leaves(dst), leaves(src)
        if len(dl) != len(sl):
            raise error("internal: copying between places of different shapes", None)
        if len(dl) > 1:
            # Read everything first: source and destination may overlap.
            tmps = [self.em.fresh("cp") for _ in sl]
            self.em.line(", ".join(tmps) + " = " + ", ".join(s.read() for s in sl))
            for d, t in zip(dl, tmps):
                self.em.line(d.write(t))
        else:
            self.em.line(dl[0].write(sl[0].read()))

    def assign_value(self, dst: Place, e: A.Expression) -> None:
        if isinstance(dst, Scalar):
            self.em.line(dst.write(self.value(e)))
        else:
            self.assign_aggregate(dst, e)

    # ------------------------------------------------------------------ statements

    def statement(self, s) -> None:
        method = getattr(self, "_s_" + type(s).__name__, None)
        if method is None:
            raise self.unsupported(f"the statement '{type(s).__name__}'", s)
        self.nesting += 1
        try:
            if self.nesting > MAX_COMPILE_NESTING:
                raise CodeLimitError(NESTED_TOO_DEEPLY, "nest fewer statements, or make fewer actions and "
                                     "functions call one another")
            method(s)
        except CodeLimitError as exc:
            # The innermost statement being compiled is where the limit was passed.
            raise error(str(exc), getattr(s, "span", None), exc.hint) from None
        finally:
            self.nesting -= 1

    def block(self, b: A.BlockStatement) -> None:
        saved = self.env
        self.env = Env(saved)
        try:
            for s in b.statements:
                self.statement(s)
        finally:
            self.env = saved

    _s_BlockStatement = block

    def _s_EmptyStatement(self, s) -> None:
        pass

    def _s_VariableDeclaration(self, s: A.VariableDeclaration) -> None:
        sym = self._symbol_of(s)
        t = s.type.resolved
        place = self.bind_locals_for(s, t, s.name)
        if s.init is not None:
            if isinstance(place, Scalar):
                self.em.line(place.write(self.value(s.init)))
            else:
                self.init_place(place)
                self.assign_aggregate(place, s.init)
        else:
            self.init_place(place)
        self.env.bind(sym, place)

    def _s_ConstantDeclaration(self, s: A.ConstantDeclaration) -> None:
        sym = self._symbol_of(s)
        self.env.bind(sym, Const(sym.value, sym.type))

    def _symbol_of(self, decl) -> Symbol:
        sym = getattr(decl, "symbol", None)
        if sym is None:
            raise error(f"internal: '{decl.name}' was not checked", decl.span)
        return sym

    def _s_Assignment(self, s: A.Assignment) -> None:
        # The target is evaluated first (its indices), once, even for `x op= e` (spec: order of evaluation).
        target = self.place(s.target)
        desugared = getattr(s, "desugared", None)
        if desugared is None:
            self.assign_value(target, s.value)
            return
        self.pinned[id(s.target)] = target
        try:
            self.em.line(target.write(self.value(desugared)))
        finally:
            del self.pinned[id(s.target)]

    def _s_MethodCallStatement(self, s: A.MethodCallStatement) -> None:
        self.lower_call(s.call, want_value=False)

    def _s_DirectApplication(self, s: A.DirectApplication) -> None:
        self.lower_call(s.call, want_value=False)

    def _s_IfStatement(self, s: A.IfStatement) -> None:
        c = self.value(s.cond)
        if s.cond.const is True:
            self.statement(s.then)
            return
        if s.cond.const is False:
            if s.otherwise is not None:
                self.statement(s.otherwise)
            return
        with self.em.indent(f"if {c}:"):
            self.statement(s.then)
        if s.otherwise is not None:
            with self.em.indent("else:"):
                self.statement(s.otherwise)

    def _s_SwitchStatement(self, s: A.SwitchStatement) -> None:
        if getattr(s, "kind", "") == "action_run":
            result = self.lower_call(s.expr.expr)
            key = result["action_run"]
            table_info = result["info"]

            def label_values(c: A.SwitchCase):
                return [str(table_info.action_id(c.label.name))]
        else:
            key = self.em.fresh("sw")
            self.em.line(f"{key} = {self.value(s.expr)}")

            def label_values(c: A.SwitchCase):
                return [py_const(c.label.const, c.label.type)]
        pending: list[str] = []
        first = True
        for c in s.cases:
            if c.label is not None:
                pending.extend(label_values(c))
            if c.body is None:
                continue
            if c.label is None:
                header = "else:" if not first else "if True:"
            else:
                test = f"{key} == {pending[0]}" if len(pending) == 1 else f"{key} in ({', '.join(pending)},)"
                header = f"{'if' if first else 'elif'} {test}:"
            with self.em.indent(header):
                self.block(c.body)
            first = False
            pending = []

    def _s_ReturnStatement(self, s: A.ReturnStatement) -> None:
        if not self.frames:
            # `return` in a control's apply block ends the block.
            self.em.line("raise ExitControl")
            return
        frame = self.frames[-1]
        if s.value is not None and frame.result is not None:
            self.assign_value(frame.result, s.value)
        loop = self._innermost_loop_of_frame()
        if loop is not None:
            self.em.line(f"{loop.flag} = True")
            loop.returned = True
            self.em.line("break")
        elif frame.wrapped:
            self.em.line("break")

    # -- loops --------------------------------------------------------------------------

    def _innermost_loop_of_frame(self) -> _Loop | None:
        """The innermost loop in the body being inlined (or in the apply block, with no frame)."""
        if self.loops and self.loops[-1].frame_depth == len(self.frames):
            return self.loops[-1]
        return None

    @contextmanager
    def _loop(self, s):
        """Compile a loop's Python loop inside; afterwards, pass a `return` on to the enclosing loop or
        the inlined body's one-pass loop."""
        enclosing = self._innermost_loop_of_frame()
        flag = enclosing.flag if enclosing is not None else None
        if flag is None and self.frames and any(isinstance(n, A.ReturnStatement) for n in s.body.walk()):
            flag = self.em.fresh("ret")
            self.em.line(f"{flag} = False")
        loop = _Loop(len(self.frames), flag)
        self.loops.append(loop)
        try:
            yield
        finally:
            self.loops.pop()
        if loop.returned:
            self.em.line(f"if {flag}: break")
            if enclosing is not None:
                enclosing.returned = True

    def _count_iteration(self, count: str, s) -> None:
        """Stop the loop (and drop the packet) after MAX_LOOP_ITERATIONS; the location is user text, so it
        goes in through repr()."""
        self.em.line(f"{count} += 1")
        with self.em.indent(f"if {count} > {MAX_LOOP_ITERATIONS}:"):
            self.em.line(f"{self.slot('_loop_limit')} = {str(s.span)!r}; {self.slot('_special')} = True")
            self.em.line("break")

    def _s_ForStatement(self, s: A.ForStatement) -> None:
        saved = self.env
        self.env = Env(saved)
        try:
            for st in s.init:
                self.statement(st)
            # The update runs before every test of the condition but the first (so after `continue`).
            first = self.em.fresh("first")
            count = self.em.fresh("n")
            self.em.line(f"{count} = 0")
            if s.update:
                self.em.line(f"{first} = True")
            with self._loop(s), self.em.indent("while True:"):
                if s.update:
                    with self.em.indent(f"if {first}:"):
                        self.em.line(f"{first} = False")
                    with self.em.indent("else:"):
                        for st in s.update:
                            self.statement(st)
                if s.cond.const is not True:
                    cond = self.value(s.cond)
                    self.em.line(f"if not ({cond}): break")
                self._count_iteration(count, s)
                self.statement(s.body)
        finally:
            self.env = saved

    def _s_ForInStatement(self, s: A.ForInStatement) -> None:
        saved = self.env
        self.env = Env(saved)
        try:
            t = s.var.type.resolved
            var = self.bind_locals_for(s.var, t, s.var.name)
            self.env.bind(self._symbol_of(s.var), var)
            item = self.em.fresh("v")
            if s.range_end is not None:
                self._range_loop(s, var, item)
                return
            stack = self.place(s.collection)
            if not isinstance(stack, StackPlace):
                raise self.unsupported("a for loop over this value", s.collection)
            self.init_place(var)
            with self._loop(s), self.em.indent(f"for {item} in range({stack.size}):"):
                self.copy_place(var, self.dyn_element(stack, item, s.collection))
                self.statement(s.body)
        finally:
            self.env = saved

    def _range_loop(self, s: A.ForInStatement, var: Place, item: str) -> None:
        t = strip_newtype(s.var.type.resolved)
        lo, hi = self.value(s.collection), self.value(s.range_end)
        if t.signed:
            lo, hi = self._signed(lo, t), self._signed(hi, t)
        count = self.em.fresh("n")
        self.em.line(f"{count} = 0")
        with self._loop(s), self.em.indent(f"for {item} in range({lo}, ({hi}) + 1):"):
            self._count_iteration(count, s)
            self.em.line(var.write(f"{item} & {mask_of(t)}" if t.signed else item))
            self.statement(s.body)

    def _s_BreakStatement(self, s: A.BreakStatement) -> None:
        self.em.line("break")

    def _s_ContinueStatement(self, s: A.ContinueStatement) -> None:
        self.em.line("continue")

    def _s_ExitStatement(self, s: A.ExitStatement) -> None:
        if self.traced:
            self.em.line(f"tr(Exit({self.block_name!r}))")
        self.em.line("raise ExitControl")
