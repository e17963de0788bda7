"""Semantic types of checked P4 programs.

Type *references* in the AST (``bit<8>``, ``ipv4_t``, ``register<bit<32>>``)
are resolved by the checker into these objects. Typedefs are transparent
(they resolve to what they name); ``type`` declarations make a distinct
:class:`NewType`. Header, struct and union types are created once per
declaration, so they compare by identity; base types compare by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


class Type:
    """Base of all semantic types."""

    def __str__(self) -> str:  # pragma: no cover - overridden
        return self.__class__.__name__

    @property
    def is_numeric(self) -> bool:
        return False


@dataclass(frozen=True)
class BitsType(Type):
    """bit<W> (signed=False) or int<W> (signed=True)."""
    width: int
    signed: bool = False

    def __str__(self) -> str:
        return f"{'int' if self.signed else 'bit'}<{self.width}>"

    @property
    def is_numeric(self) -> bool:
        return True

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1


@dataclass(frozen=True)
class IntType(Type):
    """The infinite-precision integer type of untyped constants such as 5."""

    def __str__(self) -> str:
        return "int"

    @property
    def is_numeric(self) -> bool:
        return True


@dataclass(frozen=True)
class VarbitType(Type):
    max_width: int

    def __str__(self) -> str:
        return f"varbit<{self.max_width}>"


@dataclass(frozen=True)
class BoolType(Type):
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class StringType(Type):
    def __str__(self) -> str:
        return "string"


@dataclass(frozen=True)
class VoidType(Type):
    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True)
class ErrorType(Type):
    def __str__(self) -> str:
        return "error"


@dataclass(frozen=True)
class MatchKindType(Type):
    def __str__(self) -> str:
        return "match_kind"


@dataclass(frozen=True)
class DontCareType(Type):
    def __str__(self) -> str:
        return "_"


@dataclass(eq=False)
class EnumType(Type):
    """An enum; serializable enums have an underlying bit<W> and member values."""
    name: str
    members: list[str]
    underlying: Optional[BitsType] = None
    values: dict[str, int] = field(default_factory=dict)
    decl: object = None

    def __str__(self) -> str:
        return self.name

    @property
    def is_serializable(self) -> bool:
        return self.underlying is not None


@dataclass(eq=False)
class StructLikeType(Type):
    """A header, header_union or struct type."""
    kind: str                  # "header", "header_union", "struct"
    name: str
    fields: dict[str, Type] = field(default_factory=dict)
    decl: object = None
    # A generic declaration (`struct S<T> {...}`, P4_16 7.2.11) has type parameters; its fields use TypeVars.
    # Each specialization S<bit<8>> is made once (see specialize_struct) and remembers where it comes from.
    type_params: list = field(default_factory=list)
    specializations: dict = field(default_factory=dict)
    origin: tuple | None = None     # (generic type, type arguments)

    def __str__(self) -> str:
        return self.name

    @property
    def is_header(self) -> bool:
        return self.kind == "header"

    @property
    def is_union(self) -> bool:
        return self.kind == "header_union"

    @property
    def is_struct(self) -> bool:
        return self.kind == "struct"

    def field_type(self, name: str) -> Type | None:
        return self.fields.get(name)


@dataclass(frozen=True)
class StackType(Type):
    """An array `element[size]` (P4_16 7.2.8): a header stack when its elements are headers or header unions,
    the only arrays with the stack members (next, push_front, ...)."""
    element: Type
    size: int

    @property
    def is_header_stack(self) -> bool:
        return is_header_like(strip_newtype(self.element))

    def __str__(self) -> str:
        return f"{self.element}[{self.size}]"


@dataclass(frozen=True)
class TupleType(Type):
    elements: tuple

    def __str__(self) -> str:
        return f"tuple<{', '.join(map(str, self.elements))}>"


@dataclass(frozen=True)
class ListType(Type):
    """The type of a list expression `{a, b}` before it meets its target type."""
    elements: tuple

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.elements)) + "}"


@dataclass(frozen=True)
class StructInitType(Type):
    """The type of a struct expression `{a = 1, b = x}` before it meets its target."""
    fields: tuple     # ((name, type), ...)

    def __str__(self) -> str:
        return "{" + ", ".join(f"{n} = {t}" for n, t in self.fields) + "}"


@dataclass(eq=False)
class NewType(Type):
    """`type bit<32> Id_t;`: a distinct type with the same representation as its base."""
    name: str
    base: Type

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class TypeVar(Type):
    name: str
    owner: object = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False)
class ExternType(Type):
    """An extern object type such as register<bit<32>> (decl is the ExternDeclaration)."""
    name: str
    decl: object
    type_args: tuple = ()
    bindings: dict = field(default_factory=dict)   # type parameter name -> Type

    def __str__(self) -> str:
        if self.type_args:
            return f"{self.name}<{', '.join(map(str, self.type_args))}>"
        return self.name


@dataclass(eq=False)
class BlockType(Type):
    """A parser, control or package: either a declared block or a type declaration.

    kind is "parser", "control" or "package"; decl is the AST declaration;
    params are (name, direction, Type) after substituting type arguments."""
    kind: str
    name: str
    decl: object
    params: list = field(default_factory=list)
    type_params: list = field(default_factory=list)
    constructor_params: list = field(default_factory=list)
    is_declaration_only: bool = False   # a type (Parser<H, M>) rather than a body

    def __str__(self) -> str:
        return self.name


@dataclass(eq=False)
class TableType(Type):
    name: str
    decl: object

    def __str__(self) -> str:
        return f"table {self.name}"


@dataclass(eq=False)
class ActionType(Type):
    name: str
    decl: object

    def __str__(self) -> str:
        return f"action {self.name}"


@dataclass(eq=False)
class ApplyResultType(Type):
    """What `t.apply()` returns: hit, miss and action_run."""
    table: TableType

    def __str__(self) -> str:
        return f"the result of {self.table.name}.apply()"


@dataclass(eq=False)
class ActionRunType(Type):
    """The type of `t.apply().action_run`: one of the table's actions."""
    table: TableType

    def __str__(self) -> str:
        return f"the action run by {self.table.name}"


@dataclass(eq=False)
class FunctionType(Type):
    """A reference to something callable (method, function, action) before it is called."""
    name: str

    def __str__(self) -> str:
        return f"method {self.name}"


def contains_type_var(t: Type | None) -> bool:
    """Whether t mentions a type variable: itself, or inside a stack, tuple, extern's type arguments,
    block's apply parameters, or a specialization of a generic struct."""
    if isinstance(t, TypeVar):
        return True
    if isinstance(t, StackType):
        return contains_type_var(t.element)
    if isinstance(t, TupleType):
        return any(contains_type_var(e) for e in t.elements)
    if isinstance(t, ExternType):
        return any(contains_type_var(a) for a in t.type_args)
    if isinstance(t, BlockType):
        return any(contains_type_var(p.type) for p in t.params)
    if isinstance(t, StructLikeType) and t.origin is not None:
        return any(contains_type_var(a) for a in t.origin[1])
    return False


# Generic types inside generic types: struct R<T> { R<R<T>> next; } would make types without end.
MAX_GENERIC_NESTING = 50


class TypeNestingError(Exception):
    """A specialization nests generic types more than MAX_GENERIC_NESTING deep (the checker reports it)."""


def generic_depth(t: Type) -> int:
    """How many specializations of generic types are nested in t."""
    if isinstance(t, StackType):
        return generic_depth(t.element)
    if isinstance(t, TupleType):
        return max((generic_depth(e) for e in t.elements), default=0)
    if isinstance(t, StructLikeType) and t.origin is not None:
        return 1 + max((generic_depth(a) for a in t.origin[1]), default=0)
    return 0


def specialize_struct(generic: StructLikeType, args: tuple) -> StructLikeType:
    """The struct, header or union type `generic<args>`: one type per distinct list of arguments."""
    args = tuple(args)
    t = generic.specializations.get(args)
    if t is None:
        if max((generic_depth(a) for a in args), default=0) >= MAX_GENERIC_NESTING:
            raise TypeNestingError(generic.name)
        t = StructLikeType(generic.kind, f"{generic.name}<{', '.join(map(str, args))}>", decl=generic.decl,
                           origin=(generic, args))
        generic.specializations[args] = t
        mapping = dict(zip(generic.type_params, args))
        t.fields = {n: substitute_type_vars(ft, mapping) for n, ft in generic.fields.items()}
    return t


def substitute_type_vars(t: Type, mapping: dict) -> Type:
    """t with the type variables named in mapping (name -> Type) replaced, inside stacks, tuples and
    specializations of generic structs too."""
    if isinstance(t, TypeVar):
        return mapping.get(t.name, t)
    if isinstance(t, StackType):
        return StackType(substitute_type_vars(t.element, mapping), t.size)
    if isinstance(t, TupleType):
        return TupleType(tuple(substitute_type_vars(e, mapping) for e in t.elements))
    if isinstance(t, StructLikeType) and t.origin is not None:
        generic, args = t.origin
        return specialize_struct(generic, tuple(substitute_type_vars(a, mapping) for a in args))
    return t


BIT1 = BitsType(1)
BIT32 = BitsType(32)
BOOL = BoolType()
INT = IntType()
VOID = VoidType()
STRING = StringType()
ERROR = ErrorType()
MATCH_KIND = MatchKindType()
DONT_CARE = DontCareType()


def strip_newtype(t: Type) -> Type:
    while isinstance(t, NewType):
        t = t.base
    return t


def bit_width(t: Type) -> int | None:
    """Width in bits of a fixed-size serializable type (None if not fixed-size)."""
    t = strip_newtype(t)
    if isinstance(t, BitsType):
        return t.width
    if isinstance(t, BoolType):
        return 1
    if isinstance(t, EnumType) and t.underlying is not None:
        return t.underlying.width
    if isinstance(t, StructLikeType) and t.kind in ("header", "struct"):
        total = 0
        for ft in t.fields.values():
            w = bit_width(ft)
            if w is None:
                return None
            total += w
        return total
    if isinstance(t, StackType):
        w = bit_width(t.element)
        return None if w is None else w * t.size
    if isinstance(t, (TupleType, ListType)):
        total = 0
        for et in t.elements:
            w = bit_width(et)
            if w is None:
                return None
            total += w
        return total
    return None


def is_header_like(t: Type) -> bool:
    return isinstance(t, StructLikeType) and t.kind in ("header", "header_union")


def same_type(a: Type, b: Type) -> bool:
    if a is b or a == b:
        return True
    if isinstance(a, StackType) and isinstance(b, StackType):
        return a.size == b.size and same_type(a.element, b.element)
    if isinstance(a, TupleType) and isinstance(b, TupleType):
        return len(a.elements) == len(b.elements) and all(same_type(x, y) for x, y in zip(a.elements, b.elements))
    if isinstance(a, ExternType) and isinstance(b, ExternType):
        # register<bit<8>> is made anew wherever it is written (and for every instance): compare structurally.
        return a.decl is b.decl and len(a.type_args) == len(b.type_args) and \
            all(same_type(x, y) for x, y in zip(a.type_args, b.type_args))
    return False
