"""Passes over top-level declarations: collect them, resolve types, evaluate constants."""

from __future__ import annotations

from ... import bits
from ...diagnostics import Span
from .. import ast as A
from ..scope import Scope, Symbol
from ..types import (BOOL, DONT_CARE, DontCareType, ERROR, INT, MATCH_KIND, STRING, VOID, BitsType, BlockType,
                     BoolType, EnumType, ExternType, IntType, NewType, StackType, StringType, StructLikeType,
                     TupleType, Type, TypeNestingError, TypeVar, VarbitType, contains_type_var, is_header_like,
                     same_type, specialize_struct, strip_newtype)
from .base import CheckerBase, ParamInfo, decl_span

MAX_WIDTH = 4096
# The most elements a header stack may have: p4c's limit (its maximumArraySize). The compiler lays out every
# element, and generated code handles some of them one by one (push_front, pop_front).
MAX_STACK_SIZE = 256
# How deeply structs, headers, unions, stacks and tuples may hold each other. p4c's samples nest at most 5
# levels; the compiler lays types out recursively (a few Python frames a level).
MAX_TYPE_NESTING = 50

_BASE_TYPES = {"bool": BOOL, "error": ERROR, "match_kind": MATCH_KIND, "string": STRING, "int": INT,
               "void": VOID}


class DeclarationsMixin(CheckerBase):
    # ------------------------------------------------------------------ pass: collect declarations

    def collect_declarations(self) -> None:
        """Register every top-level declaration, in order, resolving types and constants."""
        for decl in self.program.declarations:
            self.check_type_parameter_names(decl)
            for method in getattr(decl, "methods", None) or ():
                self.check_type_parameter_names(method)
            if isinstance(decl, A.ExternFunctionDeclaration):
                self.check_type_parameter_names(decl.prototype)
            handler = getattr(self, "_declare_" + type(decl).__name__, None)
            if handler is not None:
                handler(decl)

    def check_type_parameter_names(self, decl) -> None:
        """Type parameters and parameters share one namespace: no name may be declared twice in it."""
        type_params = getattr(decl, "type_params", None) or []
        span = decl_span(decl)
        seen: set[str] = set()
        for name in type_params:
            if name in seen:
                self.error(f"type parameter '{name}' of '{decl.name}' is declared twice", span)
            seen.add(name)
        for p in [*(getattr(decl, "params", None) or ()), *(getattr(decl, "constructor_params", None) or ())]:
            if p.name in seen:
                self.error(f"parameter '{p.name}' has the name of a type parameter of '{decl.name}'",
                           getattr(p, "name_span", p.span), "give the parameter or the type parameter another name")

    def _sym(self, decl, kind: str, type_: Type | None = None, **kw) -> Symbol:
        return Symbol(decl.name, kind, decl, type_, span=decl_span(decl), **kw)

    def _declare_ErrorDeclaration(self, decl: A.ErrorDeclaration) -> None:
        for m in decl.members:
            if m.name in self.error_members:
                self.error(f"error member '{m.name}' is already declared", m.span)
            self.error_members[m.name] = m.span

    def _declare_MatchKindDeclaration(self, decl: A.MatchKindDeclaration) -> None:
        for m in decl.members:
            if m.name in self.match_kinds:
                self.error(f"match kind '{m.name}' is already declared", m.span)
            self.match_kinds[m.name] = m.span

    def _declare_StructLikeDeclaration(self, decl: A.StructLikeDeclaration) -> None:
        kind = {A.HeaderDeclaration: "header", A.HeaderUnionDeclaration: "header_union",
                A.StructDeclaration: "struct"}[type(decl)]
        t = StructLikeType(kind, decl.name, decl=decl, type_params=list(decl.type_params))
        decl.resolved = t
        self.declare(self.globals, self._sym(decl, "type", t))
        tvars = {n: TypeVar(n, decl) for n in decl.type_params}
        seen: dict[str, Span] = {}
        varbits = 0
        for f in decl.fields:
            if f.name in seen:
                self.error_with_note(f"field '{f.name}' is declared twice in {kind} '{decl.name}'", f.span,
                                     "first declared here", seen[f.name])
                continue
            seen[f.name] = f.span
            ft = self.resolve_type(f.type, self.globals, tvars)
            if ft is None:
                continue
            if mentions_declaration(ft, decl):
                self.error(f"{kind} '{decl.name}' cannot contain itself: field '{f.name}' has type {ft}",
                           f.type.span)
                continue
            if not decl.type_params or not contains_type_var(ft) or \
                    (kind != "struct" and isinstance(strip_newtype(ft), (TupleType, StackType))):
                # A generic type's field is checked once specialized, unless no type argument can make it valid.
                self._check_member_type(kind, decl.name, f.name, ft, f.type.span)
            if isinstance(ft, VarbitType) and kind == "header":    # structs may hold any number of them
                varbits += 1
                if varbits > 1:
                    self.error(f"header '{decl.name}' has more than one varbit field", f.span)
            t.fields[f.name] = ft
        nesting = 1 + max((self.type_nesting(ft) for ft in t.fields.values()), default=0)
        if nesting > MAX_TYPE_NESTING:
            self.error(f"{kind} '{decl.name}' nests types too deeply (more than {MAX_TYPE_NESTING} levels of "
                       "structs, headers, stacks and tuples inside each other)", decl_span(decl))
            nesting = 1     # reported once: the types built on this one are not reported again
        self._struct_nesting[id(t)] = nesting

    def check_tuple_elements(self, t: TupleType, span: Span) -> bool:
        """A tuple holds data: not extern instances, parsers, controls, strings or an unknown type `_`."""
        for e in t.elements:
            inner = strip_newtype(e)
            if isinstance(inner, TupleType):
                if not self.check_tuple_elements(inner, span):
                    return False
            elif isinstance(inner, (ExternType, BlockType, StringType, DontCareType)):
                self.error(f"a tuple cannot hold {'_' if isinstance(inner, DontCareType) else inner}", span,
                           "tuple elements are data: bits, bool, enums, error, headers, structs, stacks, tuples")
                return False
        return True

    def _check_member_type(self, kind: str, name: str, member: str, ft: Type, span: Span) -> None:
        """What a field of a header, union or struct may be (of a generic one: once specialized)."""
        if isinstance(strip_newtype(ft), TupleType) and not self.check_tuple_elements(strip_newtype(ft), span):
            return
        if kind == "header" and not self._valid_header_field(ft):
            self.error(f"field '{member}' of header '{name}' has type {ft}; header fields must be "
                       f"bit<W>, int<W>, varbit<W>, bool, a serializable enum or a struct of these (without "
                       f"varbit)", span)
        if kind == "header_union" and not (isinstance(ft, StructLikeType) and ft.is_header):
            self.error(f"field '{member}' of header_union '{name}' must be a header, not {ft}", span)
        if kind == "struct" and isinstance(ft, (ExternType, BlockType, StringType)):
            self.error(f"a struct cannot contain {ft}", span)

    def type_nesting(self, t: Type) -> int:
        """How many levels of structs, headers, unions, stacks and tuples `t` holds, itself included.
        Declared struct-like types are looked up, so this never walks down a chain of declarations."""
        t = strip_newtype(t)
        if isinstance(t, StructLikeType):
            return self._struct_nesting.get(id(t), 1)
        if isinstance(t, StackType):
            return 1 + self.type_nesting(t.element)
        if isinstance(t, TupleType):
            return 1 + max((self.type_nesting(e) for e in t.elements), default=0)
        return 0

    _declare_HeaderDeclaration = _declare_StructLikeDeclaration
    _declare_HeaderUnionDeclaration = _declare_StructLikeDeclaration
    _declare_StructDeclaration = _declare_StructLikeDeclaration

    @classmethod
    def _valid_header_field(cls, t: Type) -> bool:
        t = strip_newtype(t)
        return isinstance(t, VarbitType) or cls._fixed_header_field(t)

    @staticmethod
    def _array_element(t: Type) -> bool:
        """Whether an array may hold values of type t (the P4_16 table of container element types, 7.2.10)."""
        t = strip_newtype(t)
        if isinstance(t, StructLikeType):
            return True
        if isinstance(t, EnumType):
            return True
        return isinstance(t, (BitsType, BoolType, VarbitType, StackType)) and \
            not (isinstance(t, StackType) and t.is_header_stack)

    @classmethod
    def _fixed_header_field(cls, t: Type) -> bool:
        """A fixed-width header field: scalars, and (P4_16 7.2.2) structs and arrays of them, laid out flat in
        field order."""
        t = strip_newtype(t)
        if isinstance(t, StackType):
            return not t.is_header_stack and cls._fixed_header_field(t.element)
        if isinstance(t, StructLikeType):
            return t.is_struct and all(cls._fixed_header_field(ft) for ft in t.fields.values())
        return isinstance(t, (BitsType, BoolType)) or (isinstance(t, EnumType) and t.is_serializable)

    def _declare_EnumDeclaration(self, decl: A.EnumDeclaration) -> None:
        t = EnumType(decl.name, [m.name for m in decl.members], decl=decl)
        decl.resolved = t
        self.declare(self.globals, self._sym(decl, "type", t))
        seen: set[str] = set()
        for m in decl.members:
            if m.name in seen:
                self.error(f"enum '{decl.name}' has two members named '{m.name}'", m.span)
            seen.add(m.name)
        if decl.underlying is None:
            return
        under = self.resolve_type(decl.underlying, self.globals)
        if isinstance(under, NewType):
            self.error(f"the underlying type of enum '{decl.name}' must be bit<W> or int<W>, not the 'type' {under}",
                       decl.underlying.span, "a typedef of bit<W> or int<W> is allowed, a 'type' is not")
            return
        if not isinstance(under, BitsType):
            if under is not None:
                self.error(f"the underlying type of enum '{decl.name}' must be bit<W> or int<W>, not {under}",
                           decl.underlying.span)
            return
        t.underlying = under
        for m in decl.members:
            v = self.constant_value(m.value, self.globals, under)
            if v is None:
                continue
            if not bits.fits(v if isinstance(v, int) else 0, under.width, under.signed) and not (
                    isinstance(m.value, A.IntLiteral) and m.value.width is not None):
                self.error(f"value {v} of '{decl.name}.{m.name}' does not fit in {under}", m.value.span)
            t.values[m.name] = bits.to_pattern(v, under.width)

    def _declare_TypedefDeclaration(self, decl: A.TypedefDeclaration) -> None:
        target = self.resolve_type(decl.type, self.globals)
        if target is None:
            self.declare(self.globals, self._sym(decl, "type", None))
            return
        if decl.new_type and not isinstance(target, (BitsType, BoolType, NewType)):
            # The P4 specification's `type` makes a new name for a base type only (bit<W>, int<W>, bool,
            # or another `type`); typedef is the declaration that names any type.
            self.error(f"'type' can only give a new name to bit<W>, int<W>, bool or another 'type', not {target}",
                       decl.type.span, f"use 'typedef {target} {decl.name};'")
        t = NewType(decl.name, target) if decl.new_type else target
        decl.resolved = t
        self.declare(self.globals, self._sym(decl, "type", t))

    def _declare_ExternDeclaration(self, decl: A.ExternDeclaration) -> None:
        t = ExternType(decl.name, decl)
        decl.resolved = t
        self.declare(self.globals, self._sym(decl, "type", t))
        seen: dict[tuple, A.MethodPrototype] = {}
        for m in decl.methods:
            if m.is_constructor and m.name != decl.name:
                self.error(f"constructor '{m.name}' must be named like its extern '{decl.name}'", m.span)
            if not m.is_constructor and m.name == decl.name:
                self.error(f"'{m.name}' is named like its extern, so it is a constructor, which has no return type",
                           decl_span(m), f"declare it as {m.name}(...);")
                continue
            key = (m.name, len(m.params))
            if key in seen:
                self.error(f"extern '{decl.name}' declares method '{m.name}' with {len(m.params)} "
                           f"parameters twice", m.span)
            seen[key] = m
            # Resolve the parameters now (cached for the calls), so that their rules hold for every method.
            self.prototype_callable(m, "constructor" if m.is_constructor else "extern_method", {}, owner=t)
            for p in m.params:
                if mentions_declaration(getattr(p.type, "resolved", None), decl):
                    self.error(f"a method of extern '{decl.name}' cannot take a parameter of type {p.type.resolved}: "
                               f"an extern type cannot refer to itself", p.type.span)

    def _declare_ExternFunctionDeclaration(self, decl: A.ExternFunctionDeclaration) -> None:
        existing = self.globals.lookup_local(decl.name)
        if existing is not None and existing.kind == "extern_function":
            if any(len(o.params) == len(decl.prototype.params) for o in existing.overloads):
                self.error(f"extern function '{decl.name}' with {len(decl.prototype.params)} parameters "
                           f"is already declared", decl.span)
            existing.overloads.append(decl.prototype)
            self.prototype_callable(decl.prototype, "extern_function", {})
            return
        sym = self._sym(decl, "extern_function")
        sym.overloads = [decl.prototype]
        self.declare(self.globals, sym)
        self.prototype_callable(decl.prototype, "extern_function", {})    # resolves and checks the parameters

    def _declare_block_type(self, decl, kind: str) -> None:
        t = BlockType(kind, decl.name, decl, type_params=list(decl.type_params),
                      is_declaration_only=isinstance(decl, (A.ParserTypeDeclaration, A.ControlTypeDeclaration,
                                                             A.PackageTypeDeclaration)))
        decl.resolved = t
        self.declare(self.globals, self._sym(decl, "type", t))
        tvars = {n: TypeVar(n, decl) for n in decl.type_params}
        t.params = self.resolve_params(decl.params, self.globals, tvars)
        t.constructor_params = self.resolve_params(getattr(decl, "constructor_params", []), self.globals, tvars)
        self.check_block_parameters(decl, kind)

    def _declare_ParserTypeDeclaration(self, decl) -> None:
        self._declare_block_type(decl, "parser")

    def _declare_ControlTypeDeclaration(self, decl) -> None:
        self._declare_block_type(decl, "control")

    def _declare_PackageTypeDeclaration(self, decl) -> None:
        self._declare_block_type(decl, "package")

    def _declare_ParserDeclaration(self, decl) -> None:
        self._declare_block_type(decl, "parser")
        self.parsers.append(decl)

    def _declare_ControlDeclaration(self, decl) -> None:
        self._declare_block_type(decl, "control")
        self.controls.append(decl)

    def _declare_ConstantDeclaration(self, decl: A.ConstantDeclaration, scope: Scope | None = None) -> None:
        scope = scope or self.globals
        t = self.resolve_type(decl.type, scope)
        value = None
        if t is not None:
            self.check_expression(decl.value, scope, t)
            if self.coerce(decl.value, t, f"the value of constant '{decl.name}'"):
                value = getattr(decl.value, "const", None)
                if value is None:
                    self.error(f"the value of constant '{decl.name}' is not a compile-time constant",
                               decl.value.span)
        decl.symbol = Symbol(decl.name, "const", decl, t, value=value, span=decl_span(decl))
        self.declare(scope, decl.symbol)

    def _declare_ActionDeclaration(self, decl: A.ActionDeclaration) -> None:
        decl.symbol = self._sym(decl, "action")
        self.declare(self.globals, decl.symbol)
        self.top_level_actions.append(decl)

    def _declare_FunctionDeclaration(self, decl: A.FunctionDeclaration) -> None:
        self.declare(self.globals, self._sym(decl, "function"))
        self.functions.append(decl)

    def _declare_Instantiation(self, decl: A.Instantiation) -> None:
        self.check_instantiation(decl, self.globals)
        t = getattr(decl, "instance_type", None)
        if isinstance(t, BlockType) and t.kind in ("parser", "control"):
            # Parsers and controls are instantiated inside other blocks, or as arguments of the package.
            self.error(f"a {t.kind} cannot be instantiated at the top level", decl_span(decl),
                       f"instantiate '{t.name}' inside a parser or control, or pass {t.name}() to the package")
        if decl.name == "main":
            self.main = self.globals.lookup_local("main")

    def _declare_ValueSetDeclaration(self, decl) -> None:  # pragma: no cover - grammar forbids at top level
        self.error("value sets are only allowed in parsers", decl.span)

    # ------------------------------------------------------------------ types

    def resolve_type(self, tref: A.TypeRef, scope: Scope, tvars: dict | None = None,
                     allow_generic: bool = False) -> Type | None:
        """The semantic type of a type reference (None, after reporting, if it is invalid)."""
        t = self._resolve_type(tref, scope, tvars or {}, allow_generic)
        if t is not None:
            tref.resolved = t
        return t

    def _resolve_type(self, tref, scope, tvars, allow_generic) -> Type | None:
        if isinstance(tref, A.BitTypeRef):
            w = self._width(tref.width, scope, "signed" if tref.signed else "bit")
            if w is None:
                return None
            if tref.signed and w < 1:
                self.error("int<W> needs a width of at least 1", tref.span)
                return None
            return BitsType(w, tref.signed)
        if isinstance(tref, A.VarbitTypeRef):
            w = self._width(tref.width, scope, "varbit")
            return VarbitType(w) if w is not None else None
        if isinstance(tref, A.NamedBaseTypeRef):
            return _BASE_TYPES[tref.name]
        if isinstance(tref, A.DontCareTypeRef):
            return DONT_CARE
        if isinstance(tref, A.TypeNameRef):
            if tref.name in tvars:
                return tvars[tref.name]
            sym = (self.globals if tref.top_level else scope).lookup(tref.name)
            if sym is None or sym.kind != "type":
                if sym is not None:
                    self.error(f"'{tref.name}' is a {sym.describe()}, not a type", tref.span)
                else:
                    self.error(f"unknown type '{tref.name}'", tref.span,
                               self.did_you_mean(tref.name, [n for n in scope.all_names()
                                                             if (s := scope.lookup(n)) and s.kind == "type"]))
                return None
            t = sym.type
            if isinstance(t, StructLikeType) and t.type_params:
                self.error(f"{t.kind} '{t.name}' needs type arguments: {t.name}<{', '.join(t.type_params)}>",
                           tref.span)
                return None
            if isinstance(t, ExternType) and t.decl.type_params and not allow_generic:
                self.error(f"extern '{t.name}' needs type arguments: {t.name}<{', '.join(t.decl.type_params)}>",
                           tref.span)
                return None
            return t
        if isinstance(tref, A.SpecializedTypeRef):
            base_sym = scope.lookup(tref.base.name)
            if base_sym is None or base_sym.kind != "type":
                self.error(f"unknown type '{tref.base.name}'", tref.base.span)
                return None
            args = [self.resolve_type(a, scope, tvars) for a in tref.args]
            if any(a is None for a in args):
                return None
            return self.specialize(base_sym.type, args, tref.span)
        if isinstance(tref, A.StackTypeRef):
            elem = self.resolve_type(tref.element, scope, tvars)
            size = self.constant_value(tref.size, scope, INT)
            if elem is None or size is None:
                return None
            if isinstance(strip_newtype(elem), ExternType):
                self.error("arrays of extern instances are not supported", tref.element.span)
                return None
            if not self._array_element(elem):
                self.error(f"arrays cannot hold values of type {elem}", tref.element.span,
                           "array elements are headers, header unions, bit<W>, int<W>, varbit<W>, bool, enums, "
                           "structs or arrays")
                return None
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                self.error("the size of an array must be a positive integer constant", tref.size.span)
                return None
            if size > MAX_STACK_SIZE:
                what = "a header stack" if is_header_like(strip_newtype(elem)) else "an array"
                self.error(f"{what} may have at most {MAX_STACK_SIZE} elements, not {size}", tref.size.span,
                           "the same limit as p4c's")
                return None
            return StackType(elem, size)
        if isinstance(tref, A.TupleTypeRef):
            elems = [self.resolve_type(e, scope, tvars) for e in tref.elements]
            if any(e is None for e in elems):
                return None
            t = TupleType(tuple(elems))
            return t if self.check_tuple_elements(t, tref.span) else None
        raise AssertionError(f"unknown type reference {tref!r}")

    def _width(self, expr: A.Expression, scope: Scope, what: str) -> int | None:
        v = self.constant_value(expr, scope, INT)
        if v is None:
            return None
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > MAX_WIDTH:
            self.error(f"the width of a {what} type must be an integer from 0 to {MAX_WIDTH}, not {v}", expr.span)
            return None
        return v

    def specialize(self, base: Type, args: list[Type], span: Span) -> Type | None:
        """Apply type arguments to a generic extern, parser, control or package type."""
        if getattr(base, "type_args", None) or getattr(base, "origin", None) is not None:
            self.error(f"'{base}' already has its type arguments, so it cannot be given more", span,
                       "a typedef of a specialized type is used without type arguments")
            return None
        for a in args:
            if mentions_declaration(a, getattr(base, "decl", None)):
                self.error(f"'{base}' cannot have itself as a type argument ({a})", span)
                return None
        if isinstance(base, ExternType):
            params = base.decl.type_params
            if len(params) != len(args):
                self.error(f"extern '{base.name}' takes {len(params)} type argument(s), not {len(args)}", span)
                return None
            return ExternType(base.name, base.decl, tuple(args), dict(zip(params, args)))
        if isinstance(base, BlockType):
            if len(base.type_params) != len(args):
                self.error(f"'{base.name}' takes {len(base.type_params)} type argument(s), not {len(args)}", span)
                return None
            mapping = {TypeVar(n): a for n, a in zip(base.type_params, args)}
            t = BlockType(base.kind, base.name, base.decl, is_declaration_only=base.is_declaration_only)
            t.params = [ParamInfo(p.name, p.direction, substitute(p.type, mapping), p.default, p.optional, p.span)
                        for p in base.params]
            t.constructor_params = base.constructor_params
            t.type_args = args
            return t
        if isinstance(base, StructLikeType) and base.type_params:
            if len(base.type_params) != len(args):
                self.error(f"{base.kind} '{base.name}' takes {len(base.type_params)} type argument(s), "
                           f"not {len(args)}", span)
                return None
            new = tuple(args) not in base.specializations
            try:
                t = specialize_struct(base, tuple(args))
            except TypeNestingError:
                self.error(f"{base.kind} '{base.name}' nests types too deeply (more than {MAX_TYPE_NESTING} levels "
                           f"of generic types inside each other)", span)
                return None
            if new and not any(contains_type_var(a) for a in args):
                self._check_specialized_fields(t, span, set())
            return t
        self.error(f"type '{base}' does not take type arguments", span)
        return None

    def _check_specialized_fields(self, t: StructLikeType, span: Span, seen: set) -> None:
        """The fields of a newly specialized generic type (and of the specializations inside it), checked as
        a declaration's are, reported where the type arguments are given."""
        seen.add(id(t))
        for name, ft in t.fields.items():
            self._check_member_type(t.kind, str(t), name, ft, span)
            inner = strip_newtype(ft)
            if isinstance(inner, StackType):
                inner = inner.element
            if isinstance(inner, StructLikeType) and inner.origin is not None and id(inner) not in seen:
                self._check_specialized_fields(inner, span, seen)

    def resolve_params(self, params: list[A.Parameter], scope: Scope, tvars: dict | None = None) -> list[ParamInfo]:
        out = []
        seen: dict[str, A.Parameter] = {}
        for p in params:
            if p.name in seen:
                self.error_with_note(f"parameter '{p.name}' is declared twice", getattr(p, "name_span", p.span),
                                     "first declared here", getattr(seen[p.name], "name_span", seen[p.name].span))
            seen.setdefault(p.name, p)
            t = self.resolve_type(p.type, scope, tvars)
            if t is not None:
                self.check_parameter_type(p, t)
            optional = A.find_annotation(p.annotations, "optional") is not None
            self._check_default_allowed(p, optional)
            out.append(ParamInfo(p.name, p.direction, t, p.default, optional or p.default is not None, p.span))
        return out

    def _check_default_allowed(self, p: A.Parameter, optional: bool) -> None:
        """A default value is what an `in` (or directionless) parameter receives when its argument is left out:
        an out or inout parameter has nothing to copy it to, and an @optional one has no value by definition."""
        if p.default is None:
            return
        span = getattr(p, "name_span", p.span)
        if p.direction in ("out", "inout"):
            self.error(f"parameter '{p.name}' is {p.direction}, so it cannot have a default value", span,
                       "only in and directionless parameters have default values")
        elif optional:
            self.error(f"parameter '{p.name}' is @optional, so it cannot have a default value", span,
                       "remove @optional or the default value")

    def check_parameter_type(self, p: A.Parameter, t: Type) -> None:
        """The rules on the type of one parameter that hold wherever it is declared.

        Extern instances and strings exist only at compile time, so they are passed
        directionless (the P4 specification's table of the types a parameter may have);
        an infinite-precision int has no run-time representation to copy in or out."""
        span = getattr(p, "name_span", p.span)
        if isinstance(t, BlockType) and t.kind in ("parser", "control") and not t.is_declaration_only:
            self.error(f"parameter '{p.name}' cannot have type {t.kind} {t}: a parameter's type is a {t.kind} "
                       f"type declaration, which any {t.kind} with that signature implements", span,
                       f"declare '{t.kind} {t.name}_t(...);' and use it as the parameter's type")
            return
        if not p.direction:
            return
        if isinstance(t, (ExternType, StringType)):
            self.error(f"parameter '{p.name}' has type {t}, which cannot have a direction", span,
                       f"remove '{p.direction}': {t} parameters are directionless")
        elif isinstance(t, IntType):
            self.error(f"parameter '{p.name}' has type int, which cannot have a direction", span,
                       "give it a width, for example bit<32>, or remove the direction")
        elif isinstance(t, BlockType) and t.kind in ("parser", "control"):
            self.error(f"parameter '{p.name}' cannot have type {t}: a {t.kind} cannot be passed with a "
                       f"direction", span)

    def check_block_parameters(self, decl, kind: str) -> None:
        """Parsers and controls receive other parsers and controls only as constructor arguments; a
        package's parameters are all constructor parameters, so none has a direction."""
        params = decl.params
        for p in params:
            t = getattr(p.type, "resolved", None)
            span = getattr(p, "name_span", p.span)
            block_arg = isinstance(t, BlockType) and t.kind in ("parser", "control")
            if kind == "package" and p.direction and not block_arg:     # else reported with the type
                self.error(f"parameter '{p.name}' of package '{decl.name}' cannot have a direction: package "
                           f"parameters are constructor parameters", span, f"remove '{p.direction}'")
            elif kind in ("parser", "control") and not p.direction and block_arg:
                self.error(f"parameter '{p.name}' cannot have type {t}: a {kind} receives other parsers and "
                           f"controls only as constructor parameters", span)


def substitute(t: Type, mapping: dict) -> Type:
    """Replace type variables by their bindings."""
    if isinstance(t, TypeVar):
        for k, v in mapping.items():
            if isinstance(k, TypeVar) and k.name == t.name:
                return v
            if k == t.name:
                return v
        return t
    if isinstance(t, StackType):
        return StackType(substitute(t.element, mapping), t.size)
    if isinstance(t, TupleType):
        return TupleType(tuple(substitute(e, mapping) for e in t.elements))
    if isinstance(t, BlockType) and getattr(t, "type_args", None):
        nt = BlockType(t.kind, t.name, t.decl, is_declaration_only=t.is_declaration_only)
        nt.params = [ParamInfo(p.name, p.direction, substitute(p.type, mapping), p.default, p.optional, p.span)
                     for p in t.params]
        nt.type_args = [substitute(a, mapping) for a in t.type_args]
        nt.constructor_params = t.constructor_params
        return nt
    if isinstance(t, StructLikeType) and t.origin is not None:
        generic, args = t.origin
        return specialize_struct(generic, tuple(substitute(a, mapping) for a in args))
    if isinstance(t, ExternType) and t.type_args:
        args = tuple(substitute(a, mapping) for a in t.type_args)
        return ExternType(t.name, t.decl, args, dict(zip(t.decl.type_params, args)))
    return t


def mentions_declaration(t: Type | None, decl) -> bool:
    """Whether type t is, holds or is specialized from the declaration decl (a struct-like type or an extern)."""
    if t is None or decl is None:
        return False
    t = strip_newtype(t)
    if isinstance(t, ExternType):
        return t.decl is decl or any(mentions_declaration(a, decl) for a in t.type_args)
    if isinstance(t, StackType):
        return mentions_declaration(t.element, decl)
    if isinstance(t, TupleType):
        return any(mentions_declaration(e, decl) for e in t.elements)
    if isinstance(t, StructLikeType):
        if t.decl is decl:
            return True
        return t.origin is not None and any(mentions_declaration(a, decl) for a in t.origin[1])
    return False


