"""Typing of expressions, implicit conversions, constant folding and lvalue checks.

Every checked expression gets two attributes: ``type`` (a semantic type, or
None after an error) and ``const`` (its compile-time value, or None). Values
follow the convention of :mod:`dataplane.bits`: bit<W>/int<W> constants are
W-bit patterns, untyped integers are Python ints, enum and error constants
are ints (the serializable value, or the member's index).
"""

from __future__ import annotations

from ... import bits
from .. import ast as A
from ..scope import Scope
from ..types import (BIT32, BOOL, DONT_CARE, ERROR, INT, MATCH_KIND, STRING, ActionRunType, ActionType,
                     ApplyResultType, BitsType, BlockType, BoolType, DontCareType, EnumType, ExternType, FunctionType,
                     IntType, ListType, NewType, StackType, StructInitType, StructLikeType, TableType, TupleType, Type,
                     TypeVar, VoidType, same_type, strip_newtype)
from .base import CheckerBase
from .declarations import MAX_WIDTH

_ARITH = {"+", "-", "*", "/", "%", "|+|", "|-|"}
_BITWISE = {"&", "|", "^"}
_COMPARE = {"<", ">", "<=", ">="}
_HEADER_METHODS = {"isValid", "setValid", "setInvalid"}
_STACK_MEMBERS = {"size", "lastIndex", "nextIndex", "next", "last", "push_front", "pop_front"}
# The most bits an untyped (infinite-precision) integer constant may need: as many as the widest type it
# could become. Unbounded, constants that each square the one before reach gigabytes in a few lines, and
# 1 << 0xFFFFFFFF alone is half a gigabyte.
MAX_INT_BITS = MAX_WIDTH


def is_integral(t: Type | None) -> bool:
    return isinstance(strip_newtype(t) if t is not None else None, (BitsType, IntType))


def integral(t: Type | None) -> Type | None:
    """The numeric representation type of t (through new types), or None."""
    t = strip_newtype(t) if t is not None else None
    return t if isinstance(t, (BitsType, IntType)) else None


class ExpressionsMixin(CheckerBase):

    # ------------------------------------------------------------------ entry points

    def check_expression(self, e: A.Expression, scope: Scope, expected: Type | None = None) -> Type | None:
        e.const = None
        method = getattr(self, "_expr_" + type(e).__name__, None)
        if method is None:
            self.error("this expression is not allowed here", e.span)
            e.type = None
            return None
        t = method(e, scope, expected)
        e.type = t
        return t

    def constant_value(self, e: A.Expression, scope: Scope, target: Type | None = None):
        """Check e, convert it to target (if given), and return its compile-time value (or None)."""
        t = self.check_expression(e, scope, target)
        if t is None:
            return None
        if target is not None and not isinstance(target, IntType):
            if not self.coerce(e, target, "this value"):
                return None
        if e.const is None:
            self.error("this expression must be a compile-time constant", e.span)
            return None
        if isinstance(target, IntType) and isinstance(strip_newtype(t), BitsType):
            t2 = strip_newtype(t)
            return bits.value_of(e.const, t2.width, t2.signed)
        return e.const

    # ------------------------------------------------------------------ implicit conversion

    def coerce(self, e: A.Expression, target: Type | None, what: str) -> bool:
        """Convert e to target where P4 allows it implicitly; report and return False otherwise."""
        src = getattr(e, "type", None)
        if src is None or target is None:
            return True
        if isinstance(target, DontCareType) or isinstance(target, TypeVar):
            return True
        if same_type(src, target):
            return True
        ok = self._convert(e, src, target)
        if ok:
            return True
        hint = None
        if is_integral(src) and is_integral(target):
            hint = f"use a cast: ({target})(...)"
        elif isinstance(src, BoolType) and isinstance(strip_newtype(target), BitsType):
            hint = "bool and bit<1> are different types; cast with (bit<1>) or compare with == 1"
        elif isinstance(target, BoolType) and is_integral(src):
            hint = "compare with 0 or 1 to get a bool"
        self.error(f"{what} has type {src} but {target} is expected", e.span, hint)
        return False

    def _convert(self, e: A.Expression, src: Type, target: Type) -> bool:
        tgt = strip_newtype(target)
        if isinstance(src, IntType):
            if isinstance(tgt, BitsType):
                if e.const is not None:
                    if not bits.fits(e.const, tgt.width, tgt.signed) and not (tgt.signed is False and
                                                                               -(1 << tgt.width) < e.const < 0):
                        self.warning(f"value {e.const} does not fit in {tgt}; it is truncated to "
                                     f"{bits.to_pattern(e.const, tgt.width)}", e.span)
                    e.const = bits.to_pattern(e.const, tgt.width)
                self._retype(e, target)
                return True
            return False
        if isinstance(src, ListType):
            elems = e.elements if isinstance(e, A.ListExpression) else None
            if elems is None:
                return False
            if isinstance(tgt, TupleType):
                if len(tgt.elements) != len(elems):
                    self.error(f"a list of {len(elems)} values cannot initialize {target} "
                               f"({len(tgt.elements)} elements)", e.span)
                    return True
                for x, t in zip(elems, tgt.elements):
                    self.coerce(x, t, "this element")
                e.type = target
                return True
            if isinstance(tgt, StackType) and not tgt.is_header_stack:
                if tgt.size != len(elems):
                    self.error(f"a list of {len(elems)} values cannot initialize {target} ({tgt.size} elements)",
                               e.span)
                    return True
                for x in elems:
                    self.coerce(x, tgt.element, "this element")
                e.type = target
                return True
            if isinstance(tgt, StructLikeType) and tgt.kind in ("struct", "header"):
                fields = list(tgt.fields.items())
                if len(fields) != len(elems):
                    self.error(f"a list of {len(elems)} values cannot initialize {tgt.kind} '{tgt.name}' "
                               f"({len(fields)} fields)", e.span)
                    return True
                for x, (fname, ft) in zip(elems, fields):
                    self.coerce(x, ft, f"the value for field '{fname}'")
                e.type = target
                return True
            return False
        if isinstance(src, StructInitType) and isinstance(e, A.StructExpression):
            if isinstance(tgt, StructLikeType) and tgt.kind in ("struct", "header"):
                given = {n: x for n, x in e.fields}
                missing = [n for n in tgt.fields if n not in given]
                extra = [n for n in given if n not in tgt.fields]
                if missing or extra:
                    parts = []
                    if missing:
                        parts.append("missing " + ", ".join(f"'{n}'" for n in missing))
                    if extra:
                        parts.append("no field " + ", ".join(f"'{n}'" for n in extra))
                    self.error(f"this initializer does not match {tgt.kind} '{tgt.name}': {'; '.join(parts)}",
                               e.span)
                    return True
                for n, x in e.fields:
                    self.coerce(x, tgt.fields[n], f"the value for field '{n}'")
                e.type = target
                return True
            return False
        if isinstance(src, EnumType) and src.is_serializable and isinstance(tgt, BitsType):
            # A serializable enum converts to its underlying type.
            return same_type(src.underlying, tgt)
        return False

    def _retype(self, e: A.Expression, target: Type) -> None:
        """Give an untyped constant expression (and its untyped parts) the type target."""
        e.type = target
        if isinstance(e, A.Binary) and e.op not in ("<<", ">>") and e.op not in _COMPARE | {"==", "!="}:
            for x in (e.left, e.right):
                if isinstance(getattr(x, "type", None), IntType):
                    self._retype_const(x, target)
        elif isinstance(e, A.Binary) and e.op in ("<<", ">>") and isinstance(getattr(e.left, "type", None), IntType):
            self._retype_const(e.left, target)
        elif isinstance(e, A.Unary) and isinstance(getattr(e.expr, "type", None), IntType):
            self._retype_const(e.expr, target)
        elif isinstance(e, A.Ternary):
            for x in (e.then, e.otherwise):
                if isinstance(getattr(x, "type", None), IntType):
                    self._retype_const(x, target)

    def _retype_const(self, x: A.Expression, target: Type) -> None:
        t = strip_newtype(target)
        if x.const is not None and isinstance(t, BitsType):
            x.const = bits.to_pattern(x.const, t.width)
        self._retype(x, target)

    def unify_operands(self, e: A.Binary, what: str) -> Type | None:
        """Give both operands of a binary operator one type (converting an untyped constant)."""
        lt, rt = e.left.type, e.right.type
        if lt is None or rt is None:
            return None
        if same_type(lt, rt):
            return lt
        if isinstance(lt, IntType) and self._convert(e.left, lt, rt):
            return rt
        if isinstance(rt, IntType) and self._convert(e.right, rt, lt):
            return lt
        for a, b, x in ((lt, rt, e.left), (rt, lt, e.right)):
            if isinstance(a, EnumType) and a.is_serializable and same_type(a.underlying, strip_newtype(b)):
                return b
        hint = None
        if is_integral(lt) and is_integral(rt):
            wider = lt if (getattr(strip_newtype(lt), "width", 0) >= getattr(strip_newtype(rt), "width", 0)) else rt
            hint = f"cast one operand, for example to ({wider})"
        self.error(f"the operands of '{e.op}' have different types: {lt} and {rt}",
                   getattr(e, "op_span", e.span), hint)
        return None

    # ------------------------------------------------------------------ literals and names

    def _expr_IntLiteral(self, e: A.IntLiteral, scope, expected) -> Type:
        if e.width is None:
            e.const = e.value
            return INT
        t = BitsType(e.width, e.signed)
        if e.width < 1:
            self.error(f"an integer literal needs a width of at least 1, not {e.width}", e.span)
            return None
        if not bits.fits(e.value, e.width, False if not e.signed else True) and not (
                e.signed and bits.fits(e.value, e.width, False)):
            self.error(f"the value {e.value} does not fit in {t}", e.span,
                       f"the largest {t} is {(1 << (e.width - (1 if e.signed else 0))) - 1}")
            return None
        e.const = bits.to_pattern(e.value, e.width)
        return t

    def _expr_BoolLiteral(self, e, scope, expected) -> Type:
        e.const = e.value
        return BOOL

    def _expr_StringLiteral(self, e, scope, expected) -> Type:
        e.const = e.value
        return STRING

    def _expr_Name(self, e: A.Name, scope: Scope, expected) -> Type | None:
        sym = (self.globals if e.top_level else scope).lookup(e.name)
        if sym is None and e.name in self.match_kinds:
            e.const = e.name        # a match_kind value (in a tuple<match_kind>, an extern's argument)
            return MATCH_KIND
        if sym is None:
            if e.name in self.error_members:
                self.error(f"unknown name '{e.name}'", e.span, f"error members are written error.{e.name}")
            else:
                values = [n for n in scope.all_names() if (s := scope.lookup(n)) is not None and s.kind != "type"]
                self.error(f"unknown name '{e.name}'", e.span, self.did_you_mean(e.name, values))
            return None
        e.ref = sym
        if sym.kind == "const":
            e.const = sym.value
            return sym.type
        if sym.kind in ("var", "param", "instance"):
            return sym.type
        if sym.kind == "table":
            return sym.type
        if sym.kind == "action":
            return ActionType(sym.name, sym.decl)
        if sym.kind in ("function", "extern_function"):
            return FunctionType(sym.name)
        if sym.kind == "type":
            self.error(f"'{e.name}' is a type, not a value", e.span)
            return None
        self.error(f"'{e.name}' cannot be used as a value", e.span)
        return None

    def _expr_TypeMember(self, e: A.TypeMember, scope: Scope, expected) -> Type | None:
        if isinstance(e.type, A.NamedBaseTypeRef) and e.type.name == "error":
            if e.member not in self.error_members:
                self.error(f"unknown error '{e.member}'", e.span, self.did_you_mean(e.member, self.error_members))
                return None
            e.const = list(self.error_members).index(e.member)
            return ERROR
        t = self.resolve_type(e.type, scope, allow_generic=True)
        if t is None:
            return None
        if isinstance(t, EnumType):
            if e.member not in t.members:
                self.error(f"enum '{t.name}' has no member '{e.member}'", e.span,
                           self.did_you_mean(e.member, t.members))
                return None
            e.const = t.values[e.member] if t.is_serializable and e.member in t.values else t.members.index(e.member)
            return t
        self.error(f"'{t}' has no member '{e.member}' (only enums and error have members written Type.member)",
                   e.span)
        return None

    # ------------------------------------------------------------------ members

    def _expr_Member(self, e: A.Member, scope: Scope, expected) -> Type | None:
        base_t = self.check_expression(e.expr, scope)
        if base_t is None:
            return None
        span = getattr(e, "member_span", e.span)
        m = e.member
        bt = strip_newtype(base_t)
        if isinstance(bt, StructLikeType):
            if m in bt.fields:
                if e.expr.const is not None and isinstance(e.expr.const, dict):
                    e.const = e.expr.const.get(m)
                return bt.fields[m]
            if m in _HEADER_METHODS and bt.kind == "header" or (m == "isValid" and bt.kind == "header_union"):
                e.method = m
                return FunctionType(m)
            if bt.kind in ("header", "header_union") and m in ("minSizeInBits", "minSizeInBytes"):
                e.method = m
                return FunctionType(m)
            self.error(f"{bt.kind.replace('_', ' ')} '{bt.name}' has no field '{m}'", span,
                       self.did_you_mean(m, list(bt.fields) + (list(_HEADER_METHODS) if bt.kind == "header" else [])))
            return None
        if isinstance(bt, StackType) and not bt.is_header_stack:
            self.error(f"an array has no member '{m}'", span, "only header stacks have members; index the array")
            return None
        if isinstance(bt, StackType):
            if m not in _STACK_MEMBERS:
                self.error(f"a header stack has no member '{m}'", span, self.did_you_mean(m, _STACK_MEMBERS))
                return None
            if m == "size":
                e.const = bt.size
                return BIT32
            if m == "nextIndex":
                return BIT32
            if m in ("next", "last", "lastIndex"):
                if scope.enclosing("parser") is None:
                    from ..printer import expression_text
                    hint = f"in controls, index the stack: {expression_text(e.expr)}[0]" if m != "lastIndex" else \
                        "it is the index of the element a parser extracted last"
                    self.error(f"'{m}' of a header stack can only be used in a parser", span, hint)
                return BIT32 if m == "lastIndex" else bt.element
            e.method = m
            return FunctionType(m)
        if isinstance(bt, ExternType):
            methods = [p for p in bt.decl.methods if p.name == m and not p.is_constructor]
            if not methods:
                self.error(f"extern '{bt.name}' has no method '{m}'", span,
                           self.did_you_mean(m, [p.name for p in bt.decl.methods if not p.is_constructor]))
                return None
            e.method = m
            return FunctionType(m)
        if isinstance(bt, (BlockType, TableType)):
            if m != "apply":
                what = "table" if isinstance(bt, TableType) else bt.kind
                self.error(f"{what} '{bt.name}' has no member '{m}'", span, "the only method is apply()")
                return None
            e.method = m
            return FunctionType(m)
        if isinstance(bt, ApplyResultType):
            if m in ("hit", "miss"):
                return BOOL
            if m == "action_run":
                return ActionRunType(bt.table)
            self.error(f"the result of apply() has no member '{m}'", span, "use .hit, .miss or .action_run")
            return None
        if isinstance(bt, TupleType):
            self.error("tuple elements are accessed by index, not by name", span)
            return None
        self.error(f"a value of type {base_t} has no member '{m}'", span)
        return None

    def _expr_Index(self, e: A.Index, scope: Scope, expected) -> Type | None:
        base_t = self.check_expression(e.expr, scope)
        it = self.check_expression(e.index, scope)
        if base_t is None or it is None:
            return None
        bt = strip_newtype(base_t)
        st = strip_newtype(it)
        # A serializable enum converts implicitly to its underlying type (P4_16 8.11.2), a number.
        if not is_integral(it) and not (isinstance(st, EnumType) and st.is_serializable):
            self.error(f"an index must be an integer, not {it}", e.index.span)
            return None
        if isinstance(it, IntType):
            if e.index.const is not None and e.index.const < 0:
                self.error(f"an index cannot be negative ({e.index.const})", e.index.span)
                return None
            self._convert(e.index, it, BIT32)
        if isinstance(bt, StackType):
            if e.index.const is not None:
                idx = e.index.const
                if idx < 0 or idx >= bt.size:
                    what = "a stack" if bt.is_header_stack else "an array"
                    self.error(f"index {idx} is out of bounds for {what} of size {bt.size}", e.index.span)
            return bt.element
        if isinstance(bt, TupleType):
            if e.index.const is None:
                self.error("a tuple can only be indexed by a constant", e.index.span)
                return None
            if not 0 <= e.index.const < len(bt.elements):
                self.error(f"index {e.index.const} is out of bounds for {bt}", e.index.span)
                return None
            return bt.elements[e.index.const]
        if isinstance(bt, BitsType):
            self.error(f"cannot index a value of type {base_t}", e.span, "to take bits, use a slice: x[hi:lo]")
            return None
        self.error(f"cannot index a value of type {base_t}", e.span)
        return None

    def _expr_Slice(self, e: A.Slice, scope: Scope, expected) -> Type | None:
        base_t = self.check_expression(e.expr, scope)
        hi = self.constant_value(e.hi, scope, INT)
        lo = self.constant_value(e.lo, scope, INT)
        if base_t is None or hi is None or lo is None:
            return None
        for bound, value in ((e.hi, hi), (e.lo, lo)):
            if not isinstance(value, int) or isinstance(value, bool):
                self.error("the bounds of a slice must be integer constants", bound.span)
                return None
            if value < 0:
                self.error(f"the bounds of a slice cannot be negative ({value})", bound.span)
                return None
        bt = strip_newtype(base_t)
        if isinstance(bt, IntType):
            if lo > hi:
                self.error(f"slice [{hi}:{lo}] is empty: its high bound is below its low bound", e.span)
                return None
            if e.expr.const is not None:
                e.const = bits.slice_bits(e.expr.const, hi, lo)
            return BitsType(hi - lo + 1)
        if not isinstance(bt, BitsType):
            self.error(f"cannot take a slice of a value of type {base_t}", e.span)
            return None
        if not (0 <= lo <= hi < bt.width):
            self.error(f"slice [{hi}:{lo}] is out of range for {base_t}", e.span,
                       f"bits are numbered {bt.width - 1} (most significant) down to 0, and hi >= lo")
            return None
        if e.expr.const is not None:
            e.const = bits.slice_bits(e.expr.const, hi, lo)
        return BitsType(hi - lo + 1)

    def _expr_PlusSlice(self, e: A.PlusSlice, scope: Scope, expected) -> Type | None:
        """`e[L+:W]` (P4_16 8.6): W must be a compile-time constant; L may be a run-time bit<N> value. The
        result has W bits, those above the width of e read as 0 (a shift right by L)."""
        base_t = self.check_expression(e.expr, scope)
        lo_t = self.check_expression(e.lo, scope)
        width_t = self.check_expression(e.width, scope)
        if base_t is None or lo_t is None or width_t is None:
            return None
        if e.width.const is None or not is_integral(width_t):
            self.error("the width of a slice [L+:W] must be an integer compile-time constant", e.width.span)
            return None
        width = e.width.const
        if isinstance(strip_newtype(width_t), BitsType):
            width = bits.value_of(width, width_t.width, strip_newtype(width_t).signed)
        if not 1 <= width <= MAX_WIDTH:
            self.error(f"the width of a slice must be from 1 to {MAX_WIDTH}, not {width}", e.width.span)
            return None
        bt = strip_newtype(base_t)
        if not isinstance(bt, BitsType):
            self.error(f"cannot take a slice of a value of type {base_t}", e.span)
            return None
        if not self._check_slice_start(e, lo_t, bt):
            return None
        e.width_bits = width
        if e.expr.const is not None and e.lo.const is not None:
            e.const = (e.expr.const >> e.lo.const) & ((1 << width) - 1)
        return BitsType(width)

    def _check_slice_start(self, e: A.PlusSlice, lo_t: Type, base: BitsType) -> bool:
        """The L of `e[L+:W]`: a constant bit of e, or a run-time unsigned value (never negative)."""
        st = strip_newtype(lo_t)
        if e.lo.const is not None and is_integral(lo_t):
            lo = e.lo.const
            if isinstance(st, BitsType):
                lo = bits.value_of(lo, st.width, st.signed)
            if lo < 0:
                self.error(f"the low bit of a slice cannot be negative ({lo})", e.lo.span)
                return False
            if lo >= base.width:
                self.error(f"bit {lo} is out of range for {base}", e.lo.span,
                           f"bits are numbered {base.width - 1} (most significant) down to 0")
                return False
            if isinstance(st, IntType):
                self._convert(e.lo, lo_t, BIT32)
            return True
        if not (isinstance(st, BitsType) and not st.signed):
            self.error(f"the low bit of a slice must be a constant or a bit<N> value, not {lo_t}", e.lo.span,
                       "a run-time bit<N> value cannot be negative")
            return False
        return True

    # ------------------------------------------------------------------ operators

    def _expr_Unary(self, e: A.Unary, scope: Scope, expected) -> Type | None:
        t = self.check_expression(e.expr, scope)
        if t is None:
            return None
        c = e.expr.const
        if e.op == "!":
            if not isinstance(t, BoolType):
                self.error(f"'!' needs a bool operand, not {t}", e.span,
                           "for bitwise complement use '~'" if is_integral(t) else None)
                return None
            e.const = (not c) if c is not None else None
            return BOOL
        nt = integral(t)
        if nt is None:
            self.error(f"'{e.op}' needs a numeric operand, not {t}", e.span,
                       "for logical negation of a bool use '!'" if e.op == "~" and isinstance(t, BoolType) else None)
            return None
        if e.op == "~":
            if isinstance(nt, IntType):
                self.error("'~' needs an operand with a width; cast the constant first", e.span)
                return None
            if c is not None:
                e.const = (~c) & nt.mask
            return t
        if e.op == "-":
            if c is not None:
                e.const = -c if isinstance(nt, IntType) else (-c) & nt.mask
            return t
        e.const = c
        return t

    def _expr_Binary(self, e: A.Binary, scope: Scope, expected) -> Type | None:
        lt = self.check_expression(e.left, scope)
        rt = self.check_expression(e.right, scope)
        if lt is None or rt is None:
            return None
        op = e.op
        span = getattr(e, "op_span", e.span)
        if op in ("&&", "||"):
            for side, t in ((e.left, lt), (e.right, rt)):
                if not isinstance(t, BoolType):
                    self.error(f"'{op}' needs bool operands, not {t}", side.span,
                               f"for bitwise operations use '{op[0]}'" if is_integral(t) else None)
                    return None
            if e.left.const is not None and e.right.const is not None:
                e.const = (e.left.const and e.right.const) if op == "&&" else (e.left.const or e.right.const)
            return BOOL
        if op in ("==", "!="):
            t = self.unify_operands(e, op)
            if t is None:
                return None
            if isinstance(strip_newtype(t), (ExternType, BlockType, TableType, ActionType, FunctionType, VoidType)):
                self.error(f"values of type {t} cannot be compared", span)
                return None
            if isinstance(t, StructInitType):
                self.error("cannot compare two struct initializers: neither has a type", span,
                           "cast one of them to the struct type: (S){a = 1}")
                return None
            self._fold_compare(e, t)
            return BOOL
        if op in _COMPARE:
            t = self.unify_operands(e, op)
            if t is None:
                return None
            if integral(t) is None:
                self.error(f"'{op}' needs numeric operands, not {t}", span)
                return None
            self._fold_compare(e, t)
            return BOOL
        if op in ("<<", ">>"):
            nl = integral(lt)
            if nl is None:
                self.error(f"the left operand of '{op}' must be numeric, not {lt}", e.left.span)
                return None
            nr = integral(rt)
            if nr is None or (isinstance(nr, BitsType) and nr.signed) or isinstance(rt, NewType):
                self.error(f"a shift amount must be an unsigned integer, not {rt}", e.right.span,
                           f"cast it to its base type: ({rt.base})" if isinstance(rt, NewType) else None)
                return None
            if isinstance(nr, IntType):
                if e.right.const is not None and e.right.const < 0:
                    self.error("a shift amount cannot be negative", e.right.span)
                    return None
            if isinstance(nl, IntType) and e.right.const is None:
                self.error(f"the left operand of '{op}' needs a width when the shift amount is not constant",
                           e.left.span, "cast it, for example (bit<32>)1 << n")
                return None
            if isinstance(nr, IntType) and e.right.const is not None and e.right.const > 0xFFFFFFFF:
                self.error("the shift amount is too large", e.right.span)
                return None
            if isinstance(nr, IntType):
                e.right.type = BIT32 if e.right.const is None or e.right.const < (1 << 32) else nr
            if e.left.const is not None and e.right.const is not None:
                a, n = e.left.const, e.right.const
                if isinstance(nl, IntType):
                    if op == "<<" and a and a.bit_length() + n > MAX_INT_BITS:    # before computing it
                        self._int_too_large(e)
                        return None
                    e.const = a << n if op == "<<" else a >> n
                else:
                    e.const = bits.binary_op(op, a, n, nl.width, nl.signed)
            return lt
        if op == "++":
            for side, t in ((e.left, lt), (e.right, rt)):
                if not isinstance(strip_newtype(t), BitsType):
                    self.error(f"the operands of '++' must be bit<W> or int<W>, not {t}", side.span,
                               "give the constant a width, for example 8w0" if isinstance(t, IntType) else None)
                    return None
            a, b = strip_newtype(lt), strip_newtype(rt)
            if a.width + b.width > MAX_WIDTH:
                self.error(f"the result of '++' would be {a.width + b.width} bits wide; types are at most "
                           f"{MAX_WIDTH} bits wide", span)
                return None
            if e.left.const is not None and e.right.const is not None:
                e.const = (e.left.const << b.width) | e.right.const
            return BitsType(a.width + b.width, a.signed)
        if op in _ARITH or op in _BITWISE:
            if op in ("/", "%") and any(isinstance(x.type, IntType) and x.const is not None and x.const < 0
                                        for x in (e.left, e.right)):
                # Checked before an untyped constant takes the other operand's type (and wraps around).
                self.error(f"'{op}' is not defined for negative numbers", span, "P4 divides only non-negative values")
                return None
            t = self.unify_operands(e, op)
            if t is None:
                return None
            nt = integral(t)
            if nt is None:
                self.error(f"'{op}' needs numeric operands, not {t}", span)
                return None
            if op in ("|+|", "|-|") and isinstance(nt, IntType):
                self.error(f"saturating '{op}' needs operands with a width", span)
                return None
            if op in ("/", "%") and isinstance(nt, BitsType) and nt.signed:
                self.error(f"'{op}' is not defined for signed values", span)
                return None
            if op in ("/", "%") and e.right.const == 0:
                self.error("division by zero", e.right.span)
                return None
            if e.left.const is not None and e.right.const is not None:
                if isinstance(nt, IntType):
                    # Operands have at most MAX_INT_BITS bits, so even a product is cheap to compute.
                    e.const = bits.int_binary_op(op, e.left.const, e.right.const)
                    if e.const.bit_length() > MAX_INT_BITS:
                        self._int_too_large(e)
                        return None
                else:
                    e.const = bits.binary_op(op, e.left.const, e.right.const, nt.width, nt.signed)
            return t
        self.error(f"unknown operator '{op}'", span)
        return None

    def _int_too_large(self, e: A.Binary) -> None:
        e.const = None
        self.error(f"the value of this constant expression is too large (more than {MAX_INT_BITS} bits)",
                   e.span)

    def _fold_compare(self, e: A.Binary, t: Type) -> None:
        a, b = e.left.const, e.right.const
        if a is None or b is None:
            return
        nt = integral(t)
        if nt is not None and isinstance(nt, BitsType):
            e.const = bits.compare(e.op, a, b, nt.width, nt.signed)
        elif e.op in ("==", "!="):
            e.const = (a == b) if e.op == "==" else (a != b)
        else:
            e.const = bits.compare(e.op, a, b, 0, False) if isinstance(a, int) else None

    def _expr_Ternary(self, e: A.Ternary, scope: Scope, expected) -> Type | None:
        ct = self.check_expression(e.cond, scope)
        tt = self.check_expression(e.then, scope, expected)
        ot = self.check_expression(e.otherwise, scope, expected)
        if ct is None or tt is None or ot is None:
            return None
        if not isinstance(ct, BoolType):
            self.error(f"the condition of '?:' must be bool, not {ct}", e.cond.span)
            return None
        fake = A.Binary("?:", e.then, e.otherwise, span=e.span)
        t = self.unify_operands(fake, "?:")
        if t is None:
            return None
        if isinstance(t, IntType) and e.cond.const is None:
            if expected is not None and is_integral(expected):
                self._convert(e.then, INT, expected)
                self._convert(e.otherwise, INT, expected)
                t = expected
            else:
                self.error("the branches of '?:' need a width when the condition is not constant", e.span,
                           "cast one branch, for example (bit<8>)1")
                return None
        if e.cond.const is not None:
            e.const = e.then.const if e.cond.const else e.otherwise.const
        return t

    def _expr_Cast(self, e: A.Cast, scope: Scope, expected) -> Type | None:
        target = self.resolve_type(e.to, scope)
        src = self.check_expression(e.expr, scope, target)
        if target is None or src is None:
            return None
        if not self._cast_allowed(e.expr, src, target):
            s, t = strip_newtype(src), strip_newtype(target)
            hint = None
            if isinstance(s, BitsType) and isinstance(t, BitsType) and s.signed != t.signed:
                hint = f"cast in two steps, for example ({target})({'int' if t.signed else 'bit'}<{s.width}>)(...)"
            elif isinstance(target, NewType):
                hint = f"a 'type' converts only from its representation: ({target})({t})(...)"
            elif isinstance(src, NewType):
                hint = f"a 'type' converts only to its representation: ({target})({s})(...)"
            self.error(f"cannot cast a value of type {src} to {target}", e.span, hint)
            return None
        c = e.expr.const
        if c is not None:
            e.const = self._fold_cast(c, src, target)
        return target

    def _cast_allowed(self, expr: A.Expression, src: Type, target: Type) -> bool:
        if same_type(src, target):
            return True
        s, t = strip_newtype(src), strip_newtype(target)
        if isinstance(src, (ListType, StructInitType)):
            return self._convert(expr, src, target)
        if (isinstance(src, NewType) or isinstance(target, NewType)) and not isinstance(s, IntType):
            # A `type` converts to and from its representation only (P4_16 8.11): a change of width or of
            # sign is a separate cast of the representation.
            return same_type(s, t)
        if isinstance(s, EnumType) and s.is_serializable:
            s = s.underlying
        if isinstance(t, EnumType) and t.is_serializable:
            t = t.underlying
        if isinstance(s, BitsType) and isinstance(t, BitsType) and s.signed != t.signed and s.width != t.width:
            return False    # bit<W> and int<W> convert at one width only: change the width and the sign apart
        if isinstance(s, (BitsType, IntType)) and isinstance(t, BitsType):
            return True
        if isinstance(s, BitsType) and isinstance(t, IntType):
            return True
        if isinstance(s, BoolType) and isinstance(t, BitsType):
            return t.width == 1
        if isinstance(s, BitsType) and isinstance(t, BoolType):
            return s.width == 1
        if isinstance(s, IntType) and isinstance(t, BoolType):
            return expr.const in (0, 1)
        return same_type(s, t)

    @staticmethod
    def _fold_cast(c, src: Type, target: Type):
        s, t = strip_newtype(src), strip_newtype(target)
        if isinstance(s, EnumType) and s.is_serializable:
            s = s.underlying
        if isinstance(t, EnumType) and t.is_serializable:
            t = t.underlying
        if isinstance(t, BoolType):
            return bool(c)
        if isinstance(s, BoolType):
            c, s = int(c), BitsType(1)
        if isinstance(t, BitsType):
            if isinstance(s, IntType):
                return bits.to_pattern(c, t.width)
            if isinstance(s, BitsType):
                return bits.cast_bits(c, s.width, s.signed, t.width)
        if isinstance(t, IntType) and isinstance(s, BitsType):
            return bits.value_of(c, s.width, s.signed)
        return c

    # ------------------------------------------------------------------ aggregates

    def _expr_ListExpression(self, e: A.ListExpression, scope: Scope, expected) -> Type | None:
        exp_elems = None
        et = strip_newtype(expected) if expected is not None else None
        if isinstance(et, TupleType) and len(et.elements) == len(e.elements):
            exp_elems = et.elements
        elif isinstance(et, StructLikeType) and len(et.fields) == len(e.elements):
            exp_elems = list(et.fields.values())
        types = []
        for i, x in enumerate(e.elements):
            t = self.check_expression(x, scope, exp_elems[i] if exp_elems else None)
            if t is None:
                return None
            types.append(t)
        if all(x.const is not None for x in e.elements):
            e.const = tuple(x.const for x in e.elements)
        return ListType(tuple(types))

    def _expr_StructExpression(self, e: A.StructExpression, scope: Scope, expected) -> Type | None:
        et = strip_newtype(expected) if expected is not None else None
        types = []
        seen = set()
        for name, x in e.fields:
            if name in seen:
                self.error(f"field '{name}' is given twice", x.span)
            seen.add(name)
            ft = et.fields.get(name) if isinstance(et, StructLikeType) else None
            t = self.check_expression(x, scope, ft)
            if t is None:
                return None
            types.append((name, t))
        if all(x.const is not None for _, x in e.fields):
            e.const = {n: x.const for n, x in e.fields}
        return StructInitType(tuple(types))

    def _expr_DontCare(self, e, scope, expected) -> Type:
        return DONT_CARE

    def _expr_DefaultKeyset(self, e, scope, expected) -> Type:
        return DONT_CARE

    # ------------------------------------------------------------------ lvalues

    def check_lvalue(self, e: A.Expression, scope: Scope, action: str = "assign to {}") -> bool:
        """Report and return False unless e denotes something that may be written.

        action is a phrase with {} for the written thing, e.g. "pass {} as an 'inout' argument"."""
        root = e
        while isinstance(root, (A.Member, A.Index, A.Slice, A.PlusSlice)):
            if isinstance(root, A.Member) and isinstance(strip_newtype(getattr(root.expr, "type", None)),
                                                          ApplyResultType):
                self.error(f"cannot {action.format('the result of apply()')}", e.span)
                return False
            root = root.expr
        what = self._describe_lvalue(e)
        if isinstance(root, A.Name):
            sym = getattr(root, "ref", None)
            if sym is None:
                return True     # already reported
            if sym.is_writable:
                return True
            if sym.kind == "param":
                if sym.direction == "in":
                    reason = f"'{sym.name}' is an 'in' parameter"
                    if isinstance(sym.owner, (A.ControlDeclaration, A.ParserDeclaration)):
                        hint = f"'{sym.name}' is read-only in {sym.owner.name}"
                    else:
                        hint = "declare it 'inout' (or 'out') to write to it"
                else:
                    reason = f"'{sym.name}' is a directionless parameter (read-only)"
                    hint = None
                self.error(f"cannot {action.format(what)}: {reason}", e.span, hint)
            elif sym.kind == "const":
                self.error(f"cannot {action.format(what)}: '{sym.name}' is a constant", e.span)
            else:
                self.error(f"cannot {action.format(sym.describe())}", e.span)
            return False
        self.error(f"cannot {action.format(what)}", e.span,
                   "only variables, parameters and their fields can be written")
        return False

    @staticmethod
    def _describe_lvalue(e: A.Expression) -> str:
        from ..printer import expression_text
        return f"'{expression_text(e)}'"
