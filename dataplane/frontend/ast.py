"""The abstract syntax tree of a P4 program.

Nodes are dataclasses built by :mod:`dataplane.frontend.build_ast` from the
Lark parse tree. Every node carries the :class:`~dataplane.diagnostics.Span`
of its source text, excluded from equality so that two trees compare equal
when they have the same structure and values (the round-trip test relies on
this). The checker annotates expression nodes with their type (``.type``) and
name references with what they denote (``.ref``); those annotations are plain
attributes, not dataclass fields, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Optional, Union

from ..diagnostics import NO_SPAN, Span


@dataclass(eq=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)

    def children(self) -> Iterator["Node"]:
        for f in fields(self):
            if f.name == "span":
                continue
            v = getattr(self, f.name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, (list, tuple)):
                for x in v:
                    if isinstance(x, Node):
                        yield x
                    elif isinstance(x, tuple):
                        yield from (y for y in x if isinstance(y, Node))

    def walk(self) -> Iterator["Node"]:
        """This node and all its descendants, depth first."""
        stack = [self]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(reversed(list(n.children())))


@dataclass
class Annotation(Node):
    name: str
    body: Optional[str] = None        # raw text between the parentheses, if any
    structured: bool = False          # @name[...] rather than @name(...)
    args: Optional[list] = field(default=None, compare=False, repr=False)  # parsed on demand


def find_annotation(annotations: list[Annotation] | None, name: str) -> Annotation | None:
    for a in annotations or ():
        if a.name == name:
            return a
    return None


# ---------------------------------------------------------------------------- types


@dataclass
class TypeRef(Node):
    pass


@dataclass
class BitTypeRef(TypeRef):
    width: "Expression"
    signed: bool = False


@dataclass
class VarbitTypeRef(TypeRef):
    width: "Expression"


@dataclass
class NamedBaseTypeRef(TypeRef):
    """bool, error, match_kind, string, void, or infinite-precision int."""
    name: str


@dataclass
class TypeNameRef(TypeRef):
    name: str
    top_level: bool = False  # written with a leading dot


@dataclass
class SpecializedTypeRef(TypeRef):
    base: TypeNameRef
    args: list[TypeRef]


@dataclass
class StackTypeRef(TypeRef):
    element: TypeRef
    size: "Expression"


@dataclass
class TupleTypeRef(TypeRef):
    elements: list[TypeRef]


@dataclass
class DontCareTypeRef(TypeRef):
    pass


# ---------------------------------------------------------------------------- expressions


@dataclass
class Expression(Node):
    pass


@dataclass
class IntLiteral(Expression):
    value: int
    width: Optional[int] = None     # None: infinite-precision integer
    signed: bool = False
    text: str = field(default="", compare=False)


@dataclass
class BoolLiteral(Expression):
    value: bool


@dataclass
class StringLiteral(Expression):
    value: str


@dataclass
class Name(Expression):
    name: str
    top_level: bool = False


@dataclass
class Member(Expression):
    expr: Expression
    member: str


def member_chain(e: Expression) -> tuple[Expression, list[str]]:
    """hdr.ipv4.ttl -> (the expression `hdr`, ["ipv4", "ttl"]): what a chain of members starts from, and the
    member names in source order."""
    members = []
    while isinstance(e, Member):
        members.append(e.member)
        e = e.expr
    return e, members[::-1]


@dataclass
class TypeMember(Expression):
    """`Type.member`: an enum member, or a member of error (type is `error`)."""
    type: TypeRef
    member: str


@dataclass
class Index(Expression):
    expr: Expression
    index: Expression


@dataclass
class Slice(Expression):
    expr: Expression
    hi: Expression
    lo: Expression


@dataclass
class PlusSlice(Expression):
    """`expr[lo+:width]`: `width` bits from bit `lo` (P4_16 8.6); `lo` may be a run-time value."""
    expr: Expression
    lo: Expression
    width: Expression


@dataclass
class Unary(Expression):
    op: str      # "!", "~", "-", "+"
    expr: Expression


@dataclass
class Binary(Expression):
    op: str
    left: Expression
    right: Expression


@dataclass
class Ternary(Expression):
    cond: Expression
    then: Expression
    otherwise: Expression


@dataclass
class Cast(Expression):
    to: TypeRef
    expr: Expression


@dataclass
class Argument(Node):
    value: Optional[Expression]     # None: don't care `_`
    name: Optional[str] = None


@dataclass
class Call(Expression):
    func: Expression
    type_args: list[TypeRef]
    args: list[Argument]


@dataclass
class ConstructorCall(Expression):
    type: TypeRef
    args: list[Argument]


@dataclass
class ListExpression(Expression):
    elements: list[Expression]


@dataclass
class StructExpression(Expression):
    fields: list[tuple[str, Expression]]


@dataclass
class DontCare(Expression):
    pass


# Keyset expressions (select cases and table entries).

@dataclass
class DefaultKeyset(Expression):
    pass


@dataclass
class MaskKeyset(Expression):
    value: Expression
    mask: Expression


@dataclass
class RangeKeyset(Expression):
    lo: Expression
    hi: Expression


@dataclass
class TupleKeyset(Expression):
    elements: list[Expression]


# ---------------------------------------------------------------------------- statements


@dataclass
class Statement(Node):
    pass


@dataclass
class EmptyStatement(Statement):
    pass


@dataclass
class BlockStatement(Statement):
    statements: list[Node]
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class Assignment(Statement):
    target: Expression
    value: Expression
    op: str = "="      # "=", or a compound operator such as "+="


@dataclass
class MethodCallStatement(Statement):
    call: Call


@dataclass
class DirectApplication(Statement):
    type: TypeRef
    args: list[Argument]


@dataclass
class IfStatement(Statement):
    cond: Expression
    then: Statement
    otherwise: Optional[Statement] = None


@dataclass
class SwitchCase(Node):
    label: Optional[Expression]      # None: default
    body: Optional[BlockStatement]   # None: falls through to the next case


@dataclass
class SwitchStatement(Statement):
    expr: Expression
    cases: list[SwitchCase]


@dataclass
class ReturnStatement(Statement):
    value: Optional[Expression] = None


@dataclass
class ExitStatement(Statement):
    pass


@dataclass
class ForStatement(Statement):
    """`for (init; cond; update) body`: init holds variable declarations, assignments and calls."""
    init: list[Node]
    cond: Expression
    update: list[Statement]
    body: Statement
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ForInStatement(Statement):
    """`for (T x in collection) body`: the elements of a header stack, or the values of `collection ..
    range_end`, both ends included. `var` is the loop variable (a declaration without a value)."""
    var: VariableDeclaration
    collection: Expression
    range_end: Optional[Expression]
    body: Statement
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class BreakStatement(Statement):
    pass


@dataclass
class ContinueStatement(Statement):
    pass


# ---------------------------------------------------------------------------- declarations


@dataclass
class Declaration(Node):
    name: str
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ConstantDeclaration(Declaration):
    type: TypeRef = None
    value: Expression = None


@dataclass
class VariableDeclaration(Declaration):
    type: TypeRef = None
    init: Optional[Expression] = None


@dataclass
class Instantiation(Declaration):
    type: TypeRef = None
    args: list[Argument] = field(default_factory=list)


@dataclass
class StructField(Node):
    name: str
    type: TypeRef
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class StructLikeDeclaration(Declaration):
    fields: list[StructField] = field(default_factory=list)
    type_params: list[str] = field(default_factory=list)


@dataclass
class HeaderDeclaration(StructLikeDeclaration):
    pass


@dataclass
class HeaderUnionDeclaration(StructLikeDeclaration):
    pass


@dataclass
class StructDeclaration(StructLikeDeclaration):
    pass


@dataclass
class EnumMember(Node):
    name: str
    value: Optional[Expression] = None


@dataclass
class EnumDeclaration(Declaration):
    members: list[EnumMember] = field(default_factory=list)
    underlying: Optional[TypeRef] = None    # serializable enums: enum bit<8> E { ... }


@dataclass
class ErrorDeclaration(Node):
    members: list[EnumMember]


@dataclass
class MatchKindDeclaration(Node):
    members: list[EnumMember]


@dataclass
class TypedefDeclaration(Declaration):
    type: TypeRef = None
    new_type: bool = False     # `type T N;` rather than `typedef T N;`


@dataclass
class Parameter(Node):
    name: str
    type: TypeRef
    direction: str = ""        # "in", "out", "inout", or "" (directionless)
    default: Optional[Expression] = None
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ParserTypeDeclaration(Declaration):
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)


@dataclass
class ControlTypeDeclaration(Declaration):
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)


@dataclass
class PackageTypeDeclaration(Declaration):
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)


@dataclass
class MethodPrototype(Declaration):
    """A function or method prototype; a constructor has return_type None."""
    return_type: Optional[TypeRef] = None
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)
    is_constructor: bool = False


@dataclass
class ExternDeclaration(Declaration):
    type_params: list[str] = field(default_factory=list)
    methods: list[MethodPrototype] = field(default_factory=list)


@dataclass
class ExternFunctionDeclaration(Declaration):
    prototype: MethodPrototype = None


@dataclass
class FunctionDeclaration(Declaration):
    return_type: TypeRef = None
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)
    body: BlockStatement = None


@dataclass
class ActionDeclaration(Declaration):
    params: list[Parameter] = field(default_factory=list)
    body: BlockStatement = None


# Parsers.

@dataclass
class SelectCase(Node):
    keyset: Expression
    state: str


@dataclass
class SelectExpression(Node):
    exprs: list[Expression]
    cases: list[SelectCase]


@dataclass
class ParserState(Declaration):
    statements: list[Node] = field(default_factory=list)
    # The name of the next state, a select, or None (reject implicitly).
    transition: Union[str, SelectExpression, None] = None
    transition_span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass
class ValueSetDeclaration(Declaration):
    type: TypeRef = None
    size: Expression = None


@dataclass
class ParserDeclaration(Declaration):
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)
    constructor_params: list[Parameter] = field(default_factory=list)
    locals: list[Node] = field(default_factory=list)
    states: list[ParserState] = field(default_factory=list)


# Controls and tables.

@dataclass
class KeyElement(Node):
    expr: Expression
    match_kind: str
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ActionRef(Node):
    name: str
    args: Optional[list[Argument]] = None    # None: no parentheses
    annotations: list[Annotation] = field(default_factory=list)
    top_level: bool = False


@dataclass
class TableEntry(Node):
    keyset: Expression
    action: ActionRef
    priority: Optional[Expression] = None
    is_const: bool = False
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class TableProperty(Node):
    name: str      # "key", "actions", "entries", or the property name
    value: Union[list, Expression, None]
    is_const: bool = False
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class TableDeclaration(Declaration):
    properties: list[TableProperty] = field(default_factory=list)

    def property(self, name: str) -> TableProperty | None:
        for p in self.properties:
            if p.name == name:
                return p
        return None


@dataclass
class ControlDeclaration(Declaration):
    type_params: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)
    constructor_params: list[Parameter] = field(default_factory=list)
    locals: list[Node] = field(default_factory=list)
    body: BlockStatement = None


@dataclass
class Program(Node):
    declarations: list[Node]
