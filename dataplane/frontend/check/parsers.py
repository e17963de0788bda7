"""Checking of parsers: states, transitions, select expressions and keysets."""

from __future__ import annotations

from .. import ast as A
from ..scope import Scope, Symbol
from ..types import (BoolType, BitsType, EnumType, ErrorType, IntType, ListType, StructLikeType, TupleType, Type,
                     strip_newtype)
from .base import CheckerBase, decl_span

BUILTIN_STATES = ("accept", "reject")


class ParsersMixin(CheckerBase):

    def check_parsers(self) -> None:
        for decl in self.parsers:
            self.check_parser(decl)

    def check_parser(self, decl: A.ParserDeclaration) -> None:
        bt = decl.resolved
        scope = self.param_scope(self.globals, "parser", decl, decl.params, bt.params)
        for p, info in zip(decl.constructor_params, bt.constructor_params):
            p.symbol = Symbol(p.name, "param", p, info.type, direction="", span=p.span, owner=decl)
            p.is_constructor_param = True
            self.declare(scope, p.symbol)
        decl.scope = scope
        decl.instances = []
        decl.variables = []
        decl.value_sets = []
        for local in decl.locals:
            self.check_local_declaration(local, scope, decl)
        states: dict[str, A.ParserState] = {}
        for st in decl.states:
            if st.name in BUILTIN_STATES:
                self.error(f"'{st.name}' is a built-in state and cannot be declared", decl_span(st))
                continue
            if st.name in states:
                self.error_with_note(f"parser state '{st.name}' is declared twice", decl_span(st),
                                     "first declared here", decl_span(states[st.name]))
                continue
            states[st.name] = st
        decl.state_map = states
        if "start" not in states:
            self.error(f"parser '{decl.name}' has no 'start' state", decl_span(decl),
                       "every parser begins in a state named start")
        for st in decl.states:
            sscope = Scope(scope, "block", decl)
            for stmt in st.statements:
                self.check_statement(stmt, sscope)
            self._check_transition(st, states, sscope)
        self._check_reachability(decl, states)

    def check_value_set(self, decl: A.ValueSetDeclaration, scope: Scope) -> None:
        t = self.resolve_type(decl.type, scope)
        if t is not None and not _matchable(t):
            self.error(f"a value_set cannot hold values of type {t}", decl.type.span,
                       "its elements are matched against select keys: bit<W>, int<W>, enums, bool, "
                       "or structs and tuples of these")
            t = None
        size = self.constant_value(decl.size, scope)
        sym = decl.symbol = Symbol(decl.name, "value_set", decl, t, span=decl_span(decl))
        decl.element_type = t
        decl.size_value = size
        self.declare(scope, sym)
        owner = scope.owner
        if hasattr(owner, "value_sets"):
            owner.value_sets.append(decl)

    # ------------------------------------------------------------------ transitions

    def _check_transition(self, st: A.ParserState, states: dict, scope: Scope) -> None:
        tr = st.transition
        if tr is None:
            return
        if isinstance(tr, str):
            self._check_state_name(tr, states, st.transition_span)
            return
        key_types: list[Type | None] = []
        for e in tr.exprs:
            t = self.check_expression(e, scope)
            if t is not None and not _selectable(t):
                self.error(f"cannot select on a value of type {t}", e.span,
                           "select keys must be bit<W>, int<W>, bool, enums or error")
                t = None
            key_types.append(t)
        for case in tr.cases:
            self._check_state_name(case.state, states, getattr(case, "state_span", case.span))
            self._check_select_keyset(case.keyset, key_types, scope)

    def _check_state_name(self, name: str, states: dict, span) -> None:
        if name not in states and name not in BUILTIN_STATES:
            self.error(f"unknown parser state '{name}'", span,
                       self.did_you_mean(name, list(states) + list(BUILTIN_STATES)))

    def _check_select_keyset(self, keyset: A.Expression, key_types: list, scope: Scope) -> None:
        if isinstance(keyset, (A.DefaultKeyset, A.DontCare)):
            keyset.type = None
            return
        if len(key_types) == 1:
            if isinstance(keyset, A.TupleKeyset) and len(keyset.elements) == 1:
                self.check_keyset_element(keyset.elements[0], key_types[0], scope, "select")
                return
            if isinstance(keyset, A.TupleKeyset):
                self.error(f"this case has {len(keyset.elements)} values but select has 1 key", keyset.span)
                return
            self.check_keyset_element(keyset, key_types[0], scope, "select")
            return
        if not isinstance(keyset, A.TupleKeyset):
            if self._value_set_of_keys(keyset, key_types, scope):
                return
            # A constant tuple such as a value set of tuples is not supported; require the tuple form.
            t = self.check_expression(keyset, scope)
            if t is not None and not isinstance(t, (TupleType, ListType)):
                self.error(f"select has {len(key_types)} keys: write this case as a tuple "
                           f"({', '.join('...' for _ in key_types)})", keyset.span)
            return
        if len(keyset.elements) != len(key_types):
            self.error(f"this case has {len(keyset.elements)} values but select has {len(key_types)} keys",
                       keyset.span)
            return
        for el, kt in zip(keyset.elements, key_types):
            self.check_keyset_element(el, kt, scope, "select")

    def _value_set_of_keys(self, keyset: A.Expression, key_types: list, scope: Scope) -> bool:
        """A value set of structs matching several select keys at once: one struct field per key, in order
        (as p4c and BMv2 have it). Its members are matched against the keys' bits concatenated."""
        if not isinstance(keyset, A.Name):
            return False
        sym = scope.lookup(keyset.name)
        if sym is None or sym.kind != "value_set":
            return False
        keyset.ref, keyset.type, keyset.const = sym, sym.type, None
        st = strip_newtype(sym.type) if sym.type is not None else None
        if not (isinstance(st, StructLikeType) and st.is_struct):
            self.error(f"select has {len(key_types)} keys but value set '{keyset.name}' holds {sym.type}, "
                       f"not a struct with one field per key", keyset.span)
        elif len(st.fields) != len(key_types):
            self.error(f"select has {len(key_types)} keys but the elements of value set '{keyset.name}' "
                       f"({st}) have {len(st.fields)} fields", keyset.span)
        return True

    def check_keyset_element(self, el: A.Expression, key_type: Type | None, scope: Scope, where: str) -> None:
        """Check one element of a select case or table entry: value, mask, range, _ or default."""
        if isinstance(el, (A.DontCare, A.DefaultKeyset)):
            return
        if isinstance(el, A.MaskKeyset):
            self._keyset_value(el.value, key_type, scope, where)
            # The mask of a serializable enum key is a pattern of its underlying type's bits, not a member.
            st = strip_newtype(key_type) if key_type is not None else None
            mask_type = st.underlying if isinstance(st, EnumType) and st.is_serializable else key_type
            self._keyset_value(el.mask, mask_type, scope, where)
            return
        if isinstance(el, A.RangeKeyset):
            for part in (el.lo, el.hi):
                self._keyset_value(part, key_type, scope, where)
            if el.lo.const is not None and el.hi.const is not None and el.lo.const > el.hi.const:
                self.warning("this range is empty: its low end is above its high end", el.span)
            return
        if isinstance(el, A.Name):
            sym = scope.lookup(el.name)
            if sym is not None and sym.kind == "value_set":
                el.ref = sym
                el.type = sym.type
                el.const = None
                return
        self._keyset_value(el, key_type, scope, where)

    def _keyset_value(self, e: A.Expression, key_type: Type | None, scope: Scope, where: str) -> None:
        t = self.check_expression(e, scope, key_type)
        if t is None or key_type is None:
            return
        if self.coerce(e, key_type, "this value") and e.const is None:
            what = "the values in a select case" if where == "select" else "the key values of a table entry"
            self.error(f"{what} must be compile-time constants", e.span)

    # ------------------------------------------------------------------ reachability

    def _check_reachability(self, decl: A.ParserDeclaration, states: dict) -> None:
        if "start" not in states:
            return
        seen = {"start"}
        todo = ["start"]
        while todo:
            st = states.get(todo.pop())
            if st is None:
                continue
            for nxt in state_successors(st):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if not any(_may_end(states.get(name)) for name in seen):
            self.error(f"parser '{decl.name}' never reaches accept or reject: its states from start only lead to "
                       f"each other", decl_span(decl), "end one of the loops with 'transition accept;'")
        for name, st in states.items():
            if name not in seen:
                self.warning(f"parser state '{name}' is unreachable", decl_span(st),
                             "no transition leads to it from start")
        decl.reachable_states = [s for s in decl.states if s.name in seen]


def state_successors(st: A.ParserState) -> list[str]:
    """The names of the states a parser state's transition may go to (accept and reject included)."""
    tr = st.transition
    if tr is None:
        return []
    if isinstance(tr, str):
        return [tr]
    return [c.state for c in tr.cases]


def _may_end(st: A.ParserState | None) -> bool:
    """Whether a state may leave the parser: it goes to accept or reject, has no transition (an implicit
    reject), or selects (no matching case rejects). A built-in state (None here) is an end itself."""
    if st is None or st.transition is None or not isinstance(st.transition, str):
        return True
    return st.transition in BUILTIN_STATES


def _selectable(t: Type) -> bool:
    t = strip_newtype(t)
    return isinstance(t, (BitsType, BoolType, EnumType, ErrorType, IntType))


def _matchable(t: Type) -> bool:
    """Whether values of type t can be select keys, and so the elements of a value_set."""
    t = strip_newtype(t)
    if isinstance(t, (BitsType, BoolType, EnumType)):
        return True
    if isinstance(t, StructLikeType):
        return all(_matchable(f) for f in t.fields.values())
    if isinstance(t, TupleType):
        return all(_matchable(e) for e in t.elements)
    return False
