"""Build the dataclass AST (dataplane.frontend.ast) from the Lark parse tree.

One Transformer method per grammar rule (or alias). Source positions come
from Lark's ``meta`` (rules) or the tokens themselves, mapped through the
preprocessor's line table so that spans point into the original files.
"""

from __future__ import annotations

import re
import unicodedata

from lark import Token, Transformer, Tree, v_args

from ..diagnostics import NO_SPAN, DiagnosticError, Span, error
from . import ast as A
from .preprocess import Preprocessed

# Keyword tokens that appear in the tree only as syntax (names are retyped NAME).
_KEYWORDS = {"CONST", "APPLY", "KEY", "ACTIONS", "ENTRIES", "STATE", "PRIORITY", "LANGLE_ARGS"}

_INT_RE = re.compile(r"^(?:(\d+)([ws]))?(.*)$", re.S)

# The widest integer literal, in bits: as wide as the widest type (check.declarations.MAX_WIDTH). A wider
# one could only be an attack: converting 100,000 decimal digits fails outright (Python refuses more than
# 4,300), and folding constants with huge operands costs time and memory in proportion.
MAX_LITERAL_BITS = 4096
_BASES = {"0x": 16, "0o": 8, "0b": 2, "0d": 10}


def parse_integer(text: str) -> tuple[int, int | None, bool]:
    """(value, width or None, signed) of a P4 integer literal such as 8w0x1F (one that
    integer_literal_problem accepts)."""
    m = _INT_RE.match(text)
    width_text, kind, digits = m.group(1), m.group(2), m.group(3).replace("_", "").lower()
    value = int(_significant_digits(digits), _BASES.get(digits[:2], 10))
    if width_text is None:
        return value, None, False
    return value, int(width_text), kind == "s"


def integer_literal_problem(text: str) -> str | None:
    """Why the P4 integer literal `text` is refused before parse_integer converts it, or None.

    Only digits few enough to be worth at most MAX_LITERAL_BITS bits are converted (a decimal digit is
    worth more than 3 bits), so nothing big is ever converted."""
    m = _INT_RE.match(text)
    width_text, digits = m.group(1), m.group(3).replace("_", "").lower()
    if width_text is not None and (len(width_text) > 5 or int(width_text) > MAX_LITERAL_BITS):
        return f"the width of an integer literal must be at most {MAX_LITERAL_BITS} bits"
    base = _BASES.get(digits[:2], 10)
    body = _significant_digits(digits)
    too_large = f"integer literal too large (more than {MAX_LITERAL_BITS} bits)"
    if len(body) > MAX_LITERAL_BITS // (base.bit_length() - 1) + 1 or \
            int(body, base).bit_length() > MAX_LITERAL_BITS:
        return too_large
    return None


def _significant_digits(digits: str) -> str:
    """The digits of a lower-case literal without its base prefix and leading zeros (Python refuses to
    convert more than 4,300 decimal digits, even zeros)."""
    body = digits[2:] if digits[:2] in _BASES else digits
    return body.lstrip("0") or "0"


def unescape_string(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}.get(m.group(1), m.group(1)), body)


def _position_in_token(tok: Token, offset: int) -> tuple[int, int]:
    """The (line, column) of the character at offset in a token's text (which may span lines)."""
    before = tok.value[:offset]
    newlines = before.count("\n")
    if not newlines:
        return tok.line, tok.column + offset
    return tok.line + newlines, offset - before.rfind("\n")


class _Name(str):
    """A name with its span (a str, so it can be used wherever a name is expected)."""

    span: Span

    def __new__(cls, value: str, span: Span):
        s = str.__new__(cls, value)
        s.span = span
        return s


def _named(fn):
    """Record the span of a declaration's name (``name_span``), for messages about the name."""
    def wrapper(self, meta, children):
        node = fn(self, meta, children)
        for c in children:
            if isinstance(c, _Name) and str(c) == node.name:
                node.name_span = c.span
                break
            inner = getattr(c, "name_span", None)
            if inner is not None and getattr(c, "name", None) == node.name:
                node.name_span = inner
                break
        return node
    wrapper.__name__ = fn.__name__
    return wrapper


class AstBuilder(Transformer):
    def __init__(self, pre: Preprocessed):
        super().__init__(visit_tokens=True)
        self.pre = pre

    # -- positions -------------------------------------------------------------------------

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return NO_SPAN
        return self.pre.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        end_line = tok.end_line or tok.line
        end_col = tok.end_column or (tok.column + len(tok.value))
        return self.pre.span(tok.line, tok.column, end_line, end_col)

    @staticmethod
    def _drop_keywords(children):
        return [c for c in children if not (isinstance(c, Token) and c.type in _KEYWORDS)]

    # -- tokens ---------------------------------------------------------------------------------

    def ANNOTATION(self, tok: Token):
        m = re.match(r"@\s*([A-Za-z_]\w*)\s*(.*)$", tok.value, re.S)
        name, rest = m.group(1), m.group(2).strip()
        body, structured = None, False
        if rest:
            structured = rest[0] == "["
            body = rest[1:-1]
        node = A.Annotation(name, body, structured, span=self._tok_span(tok))
        if rest:
            # A plain attribute, like name_span: messages about the body point at it, not at the '@'.
            node.body_span = self._body_span(tok, m.start(2))
        return node

    def _body_span(self, tok: Token, opener: int) -> Span:
        """The span of the text between an annotation's brackets (at opener), without the blanks
        around it; the brackets themselves when there is nothing between them."""
        inner = tok.value[opener + 1:-1]
        start = opener + 1 + (len(inner) - len(inner.lstrip()))
        end = opener + 1 + len(inner.rstrip())
        if start >= end:
            start, end = opener, len(tok.value)
        line, col = _position_in_token(tok, start)
        end_line, end_col = _position_in_token(tok, end)
        return self.pre.span(line, col, end_line, end_col)

    # -- names ----------------------------------------------------------------------------------

    @v_args(inline=True)
    def nontype_name(self, tok):
        return _Name(str(tok), self._tok_span(tok))

    @v_args(inline=True)
    def name(self, tok):
        if isinstance(tok, _Name):
            return tok
        return _Name(str(tok), self._tok_span(tok))

    nontable_kw_name = name

    def annotations(self, children):
        return list(children)

    def prefixed_nontype_name(self, children):
        top = len(children) == 2
        return (children[-1], top)

    # -- types ----------------------------------------------------------------------------------

    @v_args(meta=True)
    def type_name(self, meta, children):
        top = len(children) == 2
        return A.TypeNameRef(str(children[-1]), top, span=self._span(meta))

    @v_args(meta=True)
    def specialized_type(self, meta, children):
        base, args = children
        return A.SpecializedTypeRef(base, args, span=self._span(meta))

    @v_args(meta=True)
    def header_stack_type(self, meta, children):
        elem, size = children
        return A.StackTypeRef(elem, size, span=self._span(meta))

    @v_args(meta=True)
    def array_dimension(self, meta, children):
        return children[0], self._span(meta)

    @staticmethod
    def _declarator_type(type_ref, dimensions):
        """`T name[2][3]` declares name with type (T[2])[3], as p4c reads C-style declarators."""
        for size, span in dimensions:
            type_ref = A.StackTypeRef(type_ref, size, span=span)
        return type_ref

    @v_args(meta=True)
    def tuple_type(self, meta, children):
        return A.TupleTypeRef(children[0], span=self._span(meta))

    def _named(name):
        @v_args(meta=True)
        def make(self, meta, children):
            return A.NamedBaseTypeRef(name, span=self._span(meta))
        return make

    bool_type = _named("bool")
    error_type = _named("error")
    match_kind_type = _named("match_kind")
    string_type = _named("string")
    int_type = _named("int")
    void_type = _named("void")
    del _named

    @v_args(meta=True)
    def bit_type_plain(self, meta, children):
        span = self._span(meta)
        return A.BitTypeRef(A.IntLiteral(1, span=span), False, span=span)

    def _width(self, child) -> A.Expression:
        if isinstance(child, Token):
            value, _, _ = parse_integer(child.value)
            return A.IntLiteral(value, text=child.value, span=self._tok_span(child))
        return child

    @v_args(meta=True)
    def bit_type(self, meta, children):
        return A.BitTypeRef(self._width(children[0]), False, span=self._span(meta))

    @v_args(meta=True)
    def int_w_type(self, meta, children):
        return A.BitTypeRef(self._width(children[0]), True, span=self._span(meta))

    @v_args(meta=True)
    def varbit_type(self, meta, children):
        return A.VarbitTypeRef(self._width(children[0]), span=self._span(meta))

    @v_args(inline=True)
    def type_variable(self, tok):
        return A.TypeNameRef(str(tok), span=self._tok_span(tok))

    @v_args(meta=True)
    def type_variable_name(self, meta, children):
        return A.TypeNameRef(str(children[0]), span=children[0].span)

    @v_args(meta=True)
    def dont_care_type(self, meta, children):
        return A.DontCareTypeRef(span=self._span(meta))

    def type_parameters(self, children):
        return [str(c) for c in children]

    def type_arg_list(self, children):
        return list(children)

    # -- type declarations ---------------------------------------------------------------

    def _struct_like(cls):
        @v_args(meta=True)
        @_named
        def make(self, meta, children):
            annotations, name, type_params, *fields = children
            return cls(str(name), annotations or [], fields=fields, type_params=type_params or [],
                       span=self._span(meta))
        return make

    header_declaration = _struct_like(A.HeaderDeclaration)
    header_union_declaration = _struct_like(A.HeaderUnionDeclaration)
    struct_declaration = _struct_like(A.StructDeclaration)
    del _struct_like

    @v_args(meta=True)
    @_named
    def struct_field(self, meta, children):
        annotations, type_ref, name, *dimensions = children
        type_ref = self._declarator_type(type_ref, dimensions)
        return A.StructField(str(name), type_ref, annotations or [], span=self._span(meta))

    @v_args(meta=True)
    @_named
    def enum_declaration(self, meta, children):
        annotations, name, *members = children
        return A.EnumDeclaration(str(name), annotations or [],
                                 members=[A.EnumMember(str(m), span=m.span) for m in members],
                                 span=self._span(meta))

    @v_args(meta=True)
    @_named
    def serializable_enum_declaration(self, meta, children):
        annotations, type_ref, name, *members = children
        return A.EnumDeclaration(str(name), annotations or [], members=members, underlying=type_ref,
                                 span=self._span(meta))

    @v_args(meta=True)
    def specified_identifier(self, meta, children):
        name, value = children
        return A.EnumMember(str(name), value, span=self._span(meta))

    @v_args(meta=True)
    def error_declaration(self, meta, children):
        return A.ErrorDeclaration([A.EnumMember(str(m), span=m.span) for m in children], span=self._span(meta))

    @v_args(meta=True)
    def match_kind_declaration(self, meta, children):
        return A.MatchKindDeclaration([A.EnumMember(str(m), span=m.span) for m in children],
                                      span=self._span(meta))

    @v_args(meta=True)
    @_named
    def typedef_declaration(self, meta, children):
        annotations, type_ref, name = children
        return A.TypedefDeclaration(str(name), annotations or [], type=type_ref, span=self._span(meta))

    @v_args(meta=True)
    @_named
    def newtype_declaration(self, meta, children):
        annotations, type_ref, name = children
        return A.TypedefDeclaration(str(name), annotations or [], type=type_ref, new_type=True,
                                    span=self._span(meta))

    def _block_type(cls):
        @v_args(meta=True)
        @_named
        def make(self, meta, children):
            annotations, name, type_params, params = children
            return cls(str(name), annotations or [], type_params=type_params or [], params=params,
                       span=self._span(meta))
        return make

    parser_type_declaration = _block_type(A.ParserTypeDeclaration)
    control_type_declaration = _block_type(A.ControlTypeDeclaration)
    package_type_declaration = _block_type(A.PackageTypeDeclaration)
    del _block_type

    def parameter_list(self, children):
        return list(children)

    @v_args(meta=True)
    @_named
    def parameter(self, meta, children):
        annotations, direction, type_ref, name, default = children
        return A.Parameter(str(name), type_ref, direction or "", default, annotations or [],
                           span=self._span(meta))

    @v_args(inline=True)
    def direction(self, tok):
        return str(tok)

    # -- externs ---------------------------------------------------------------------------------

    @v_args(meta=True)
    @_named
    def extern_object(self, meta, children):
        annotations, name, type_params, *methods = children
        return A.ExternDeclaration(str(name), annotations or [], type_params=type_params or [],
                                   methods=methods, span=self._span(meta))

    @v_args(meta=True)
    @_named
    def extern_function(self, meta, children):
        annotations, proto = children
        proto.annotations = annotations or []
        return A.ExternFunctionDeclaration(proto.name, annotations or [], prototype=proto,
                                           span=self._span(meta))

    @v_args(meta=True)
    @_named
    def function_prototype(self, meta, children):
        return_type, name, type_params, params = children
        return A.MethodPrototype(str(name), [], return_type=return_type, type_params=type_params or [],
                                 params=params, span=self._span(meta))

    @v_args(meta=True)
    def method_prototype(self, meta, children):
        annotations, proto = children
        proto.annotations = annotations or []
        return proto

    @v_args(meta=True)
    @_named
    def constructor_prototype(self, meta, children):
        annotations, name, params = children
        return A.MethodPrototype(str(name), annotations or [], params=params, is_constructor=True,
                                 span=self._span(meta))

    # -- instantiations and variables --------------------------------------------------

    @v_args(meta=True)
    @_named
    def instantiation(self, meta, children):
        annotations, type_ref, args, name = children
        return A.Instantiation(str(name), annotations or [], type=type_ref, args=args, span=self._span(meta))

    @v_args(meta=True)
    @_named
    def const_declaration(self, meta, children):
        annotations, type_ref, name, value = self._drop_keywords(children)
        return A.ConstantDeclaration(str(name), annotations or [], type=type_ref, value=value,
                                     span=self._span(meta))

    @v_args(meta=True)
    @_named
    def variable_declaration(self, meta, children):
        annotations, type_ref, name, *dimensions, init = children
        type_ref = self._declarator_type(type_ref, dimensions)
        return A.VariableDeclaration(str(name), annotations or [], type=type_ref, init=init,
                                     span=self._span(meta))

    @v_args(meta=True)
    @_named
    def function_declaration(self, meta, children):
        annotations, proto, body = children
        return A.FunctionDeclaration(proto.name, annotations or [], return_type=proto.return_type,
                                     type_params=proto.type_params, params=proto.params, body=body,
                                     span=self._span(meta))

    # -- parsers ----------------------------------------------------------------------------------

    @v_args(meta=True)
    @_named
    def parser_declaration(self, meta, children):
        ptype, ctor, *rest = children
        states = [c for c in rest if isinstance(c, A.ParserState)]
        local = [c for c in rest if not isinstance(c, A.ParserState)]
        return A.ParserDeclaration(ptype.name, ptype.annotations, type_params=ptype.type_params,
                                   params=ptype.params, constructor_params=ctor or [], locals=local,
                                   states=states, span=self._span(meta))

    def constructor_parameters(self, children):
        return children[0]

    @v_args(meta=True)
    @_named
    def value_set_declaration(self, meta, children):
        annotations, type_ref, size, name = children
        return A.ValueSetDeclaration(str(name), annotations or [], type=type_ref, size=size,
                                     span=self._span(meta))

    @v_args(meta=True)
    @_named
    def parser_state(self, meta, children):
        annotations, _state, name, *rest = children
        transition = rest.pop() if rest else None
        statements = [s for s in rest if s is not None]
        state = A.ParserState(str(name), annotations or [], statements=statements, span=self._span(meta))
        if transition is not None:
            state.transition, state.transition_span = transition
        return state

    @v_args(meta=True)
    def parser_block_statement(self, meta, children):
        annotations, *stmts = children
        return A.BlockStatement([s for s in stmts if s is not None], annotations or [], span=self._span(meta))

    @v_args(meta=True)
    def transition_direct(self, meta, children):
        return (str(children[0]), self._span(meta))

    @v_args(meta=True)
    def transition_select(self, meta, children):
        return (children[0], self._span(meta))

    @v_args(meta=True)
    def select_expression(self, meta, children):
        exprs, *cases = children
        return A.SelectExpression(exprs, cases, span=self._span(meta))

    @v_args(meta=True)
    def select_case(self, meta, children):
        keyset, state = children
        sc = A.SelectCase(keyset, str(state), span=self._span(meta))
        sc.state_span = state.span
        return sc

    @v_args(meta=True)
    def tuple_keyset(self, meta, children):
        return A.TupleKeyset(list(children), span=self._span(meta))

    @v_args(meta=True)
    def mask_keyset(self, meta, children):
        return A.MaskKeyset(children[0], children[1], span=self._span(meta))

    @v_args(meta=True)
    def range_keyset(self, meta, children):
        return A.RangeKeyset(children[0], children[1], span=self._span(meta))

    @v_args(meta=True)
    def default_keyset(self, meta, children):
        return A.DefaultKeyset(span=self._span(meta))

    @v_args(meta=True)
    def dont_care_keyset(self, meta, children):
        return A.DontCare(span=self._span(meta))

    # -- controls -----------------------------------------------------------------------------

    @v_args(meta=True)
    @_named
    def control_declaration(self, meta, children):
        ctype, ctor, *rest = self._drop_keywords(children)
        body = rest.pop()
        return A.ControlDeclaration(ctype.name, ctype.annotations, type_params=ctype.type_params,
                                    params=ctype.params, constructor_params=ctor or [], locals=rest,
                                    body=body, span=self._span(meta))

    @v_args(meta=True)
    @_named
    def action_declaration(self, meta, children):
        annotations, name, params, body = children
        return A.ActionDeclaration(str(name), annotations or [], params=params, body=body,
                                   span=self._span(meta))

    @v_args(meta=True)
    @_named
    def table_declaration(self, meta, children):
        annotations, name, *props = children
        return A.TableDeclaration(str(name), annotations or [], properties=props, span=self._span(meta))

    @v_args(meta=True)
    def key_property(self, meta, children):
        return A.TableProperty("key", self._drop_keywords(children), span=self._span(meta))

    @v_args(meta=True)
    def actions_property(self, meta, children):
        return A.TableProperty("actions", self._drop_keywords(children), span=self._span(meta))

    @v_args(meta=True)
    def entries_property(self, meta, children):
        annotations, const, _entries, *entries = children
        return A.TableProperty("entries", entries, is_const=const is not None,
                               annotations=annotations or [], span=self._span(meta))

    @v_args(meta=True)
    def value_property(self, meta, children):
        annotations, const, name, value = children
        prop = A.TableProperty(str(name), value, is_const=const is not None, annotations=annotations or [],
                               span=self._span(meta))
        prop.name_span = name.span
        return prop

    @v_args(meta=True)
    def key_element(self, meta, children):
        expr, match_kind, annotations = children
        ke = A.KeyElement(expr, str(match_kind), annotations or [], span=self._span(meta))
        ke.match_kind_span = match_kind.span
        return ke

    @v_args(meta=True)
    def action_list_item(self, meta, children):
        annotations, ref = children
        ref.annotations = annotations or []
        ref.span = self._span(meta)
        return ref

    @v_args(meta=True)
    def action_ref(self, meta, children):
        (name, top), args = children
        ref = A.ActionRef(str(name), args, top_level=top, span=self._span(meta))
        ref.name_span = name.span
        return ref

    @v_args(meta=True)
    def entry(self, meta, children):
        const, priority, keyset, action, annotations = children
        return A.TableEntry(keyset, action, priority, const is not None, annotations or [],
                            span=self._span(meta))

    @v_args(meta=True)
    def entry_priority(self, meta, children):
        (value,) = self._drop_keywords(children)
        if isinstance(value, Token):
            v, _, _ = parse_integer(value.value)
            return A.IntLiteral(v, text=value.value, span=self._tok_span(value))
        return value

    # -- statements ---------------------------------------------------------------------------

    @v_args(meta=True)
    def block_statement(self, meta, children):
        annotations, *stmts = children
        return A.BlockStatement([s for s in stmts if s is not None], annotations or [], span=self._span(meta))

    @v_args(meta=True)
    def empty_statement(self, meta, children):
        return A.EmptyStatement(span=self._span(meta))

    @v_args(meta=True)
    def return_statement(self, meta, children):
        return A.ReturnStatement(children[0], span=self._span(meta))

    @v_args(meta=True)
    def exit_statement(self, meta, children):
        return A.ExitStatement(span=self._span(meta))

    @v_args(meta=True)
    def assignment(self, meta, children):
        if len(children) == 3:
            target, op, value = children
            return A.Assignment(target, value, str(op), span=self._span(meta))
        target, value = children
        return A.Assignment(target, value, span=self._span(meta))

    @v_args(meta=True)
    def method_call_statement(self, meta, children):
        func, type_args, args = children
        span = self._span(meta)
        call = A.Call(func, type_args or [], args, span=func.span.to(span))
        return A.MethodCallStatement(call, span=span)

    def type_args(self, children):
        return self._drop_keywords(children)[0]

    @v_args(meta=True)
    def direct_application(self, meta, children):
        type_ref, args = self._drop_keywords(children)
        return A.DirectApplication(type_ref, args, span=self._span(meta))

    @v_args(meta=True)
    def conditional_statement(self, meta, children):
        cond, then, otherwise = children
        return A.IfStatement(cond, then, otherwise, span=self._span(meta))

    @v_args(meta=True)
    def for_statement(self, meta, children):
        annotations, init, cond, update, body = children
        return A.ForStatement(init or [], cond, update or [], body, annotations or [], span=self._span(meta))

    def for_init(self, children):
        return list(children)

    for_updates = for_init

    @v_args(meta=True)
    @_named
    def for_variable(self, meta, children):
        type_ref, name, init = children
        return A.VariableDeclaration(str(name), [], type=type_ref, init=init, span=self._span(meta))

    @v_args(meta=True)
    def for_in_statement(self, meta, children):
        annotations, type_ref, name, _in, collection, range_end, body = children
        var = A.VariableDeclaration(str(name), [], type=type_ref, span=type_ref.span.to(name.span))
        var.name_span = name.span
        return A.ForInStatement(var, collection, range_end, body, annotations or [], span=self._span(meta))

    @v_args(meta=True)
    def break_statement(self, meta, children):
        return A.BreakStatement(span=self._span(meta))

    @v_args(meta=True)
    def continue_statement(self, meta, children):
        return A.ContinueStatement(span=self._span(meta))

    @v_args(meta=True)
    def switch_statement(self, meta, children):
        expr, *cases = children
        return A.SwitchStatement(expr, cases, span=self._span(meta))

    @v_args(meta=True)
    def switch_case(self, meta, children):
        label, body = children
        return A.SwitchCase(label, body, span=self._span(meta))

    def default_label(self, children):
        return None

    # -- lvalues and expressions --------------------------------------------------------

    @v_args(meta=True)
    def name_lvalue(self, meta, children):
        (name, top), = children
        return A.Name(str(name), top, span=self._span(meta))

    name_expression = name_lvalue

    @v_args(meta=True)
    def member_lvalue(self, meta, children):
        expr, member = children
        node = A.Member(expr, str(member), span=self._span(meta))
        node.member_span = member.span
        return node

    member_access = member_lvalue

    @v_args(meta=True)
    def index_lvalue(self, meta, children):
        return A.Index(children[0], children[1], span=self._span(meta))

    index = index_lvalue

    @v_args(meta=True)
    def slice_lvalue(self, meta, children):
        return A.Slice(children[0], children[1], children[2], span=self._span(meta))

    slice = slice_lvalue

    @v_args(meta=True)
    def plus_slice_lvalue(self, meta, children):
        expr, lo, _, width = children
        return A.PlusSlice(expr, lo, width, span=self._span(meta))

    plus_slice = plus_slice_lvalue

    @v_args(meta=True)
    def ternary(self, meta, children):
        return A.Ternary(*children, span=self._span(meta))

    @v_args(meta=True)
    def binary(self, meta, children):
        left, op, right = children
        node = A.Binary(str(op), left, right, span=self._span(meta))
        node.op_span = self._tok_span(op)
        return node

    @v_args(meta=True)
    def unary(self, meta, children):
        op, expr = children
        return A.Unary(str(op), expr, span=self._span(meta))

    @v_args(meta=True)
    def cast(self, meta, children):
        return A.Cast(children[0], children[1], span=self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        if len(children) == 3:
            func, type_args, args = children
        else:
            (func, args), type_args = children, []
        return A.Call(func, type_args, args, span=self._span(meta))

    @v_args(meta=True)
    def integer(self, meta, children):
        tok = children[0]
        value, width, signed = parse_integer(tok.value)
        return A.IntLiteral(value, width, signed, tok.value, span=self._span(meta))

    @v_args(meta=True)
    def true(self, meta, children):
        return A.BoolLiteral(True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return A.BoolLiteral(False, span=self._span(meta))

    @v_args(meta=True)
    def string(self, meta, children):
        return A.StringLiteral(unescape_string(children[0].value), span=self._span(meta))

    @v_args(meta=True)
    def type_member(self, meta, children):
        type_ref, member = children
        return A.TypeMember(type_ref, str(member), span=self._span(meta))

    @v_args(meta=True)
    def error_member(self, meta, children):
        span = self._span(meta)
        return A.TypeMember(A.NamedBaseTypeRef("error", span=span), str(children[0]), span=span)

    @v_args(meta=True)
    def constructor_call(self, meta, children):
        type_ref, args = children
        return A.ConstructorCall(type_ref, args, span=self._span(meta))

    @v_args(meta=True)
    def list_expression(self, meta, children):
        return A.ListExpression(list(children), span=self._span(meta))

    @v_args(meta=True)
    def struct_expression(self, meta, children):
        return A.StructExpression(list(children), span=self._span(meta))

    def kv_pair(self, children):
        return (str(children[0]), children[1])

    def expression_list(self, children):
        return list(children)

    def argument_list(self, children):
        return [c if isinstance(c, A.Argument) else A.Argument(c, span=c.span) for c in children]

    @v_args(meta=True)
    def named_argument(self, meta, children):
        name, value = children
        return A.Argument(value, str(name), span=self._span(meta))

    @v_args(meta=True)
    def dont_care_argument(self, meta, children):
        return A.Argument(None, span=self._span(meta))

    @v_args(meta=True)
    def named_dont_care_argument(self, meta, children):
        return A.Argument(None, str(children[0]), span=self._span(meta))

    def annotation_args(self, children):
        return children[0]

    @v_args(meta=True)
    def start(self, meta, children):
        return A.Program([c for c in children if c is not None], span=self._span(meta))

    def empty_declaration(self, children):
        return None


# The deepest nesting of statements, expressions and types (counted together) that a program may have.
# Real programs stay under 15 (p4c's samples: 13 for statements, 9 for expressions). Every stage after the
# parser (which does not recurse) walks the tree recursively, on Python's stack of 1,000 frames. Measured at
# 98 levels: the AST builder needs up to 400 frames (4 a level, for switch statements), the checker up to
# 480 (nested ifs), the printer 390, the compiler 290; without a limit the first of them fails at about 200
# nested ifs or 160 nested switches. A chain of operators (a + b + c + ...) nests one level per operator,
# as does an `else if`.
MAX_NESTING = 100
# Rules that wrap what they hold without nesting by themselves (argument lists, `name = value` pairs,
# switch cases, declarations) are not counted; no more than two of them follow each other, so the tree is at
# most three times as deep as the count. This bounds it, whatever the grammar grows.
_MAX_TREE_DEPTH = 3 * MAX_NESTING + 30

# Rules that nest one level deeper: expressions, statements that hold statements, types that hold types.
_NESTING_RULES = frozenset((
    "ternary", "binary", "unary", "cast", "member_access", "index", "slice", "call", "constructor_call",
    "list_expression", "struct_expression", "type_member", "member_lvalue", "index_lvalue", "slice_lvalue",
    "plus_slice", "plus_slice_lvalue",
    "mask_keyset", "range_keyset", "tuple_keyset",
    "conditional_statement", "switch_statement", "parser_block_statement", "for_statement", "for_in_statement",
    "specialized_type", "tuple_type", "header_stack_type", "bit_type", "int_w_type", "varbit_type"))


def check_nesting(tree, span_of) -> None:
    """Raise a located error if the parse tree nests more than MAX_NESTING levels deep (see there);
    `span_of(tree)` locates a node. Walks with its own stack, so that it cannot overflow itself."""
    stack = [(tree, "", 0, 0)]
    while stack:
        node, parent, depth, tree_depth = stack.pop()
        # A bare block in a block is a level; the block of an if, an action or a switch case is not.
        nests = node.data in _NESTING_RULES or (node.data == "block_statement" and parent == "block_statement")
        depth += nests
        tree_depth += 1
        if depth > MAX_NESTING or tree_depth > _MAX_TREE_DEPTH:
            raise error(f"nested too deeply (more than {MAX_NESTING} levels)", span_of(node),
                        "statements, expressions and types may nest this deep, counted together; each "
                        "operator of a chain such as a + b + c is a level, and so is each 'else if'")
        stack.extend((c, node.data, depth, tree_depth) for c in node.children if isinstance(c, Tree))


def build_ast(tree, pre: Preprocessed) -> A.Program:
    builder = AstBuilder(pre)
    check_nesting(tree, lambda node: builder._span(node.meta))
    return builder.transform(tree)


def parse_annotation_args(annotation: A.Annotation, pre: Preprocessed | None = None) -> list[A.Argument]:
    """Parse the body of an annotation such as @field_list(1, 2) as a list of arguments.

    Raises DiagnosticError, pointing at the annotation, if the body is not a
    list of expressions."""
    from .parser import get_parser
    if annotation.args is not None:
        return annotation.args
    if not annotation.body or not annotation.body.strip():
        annotation.args = []
        return []
    from lark.exceptions import LarkError
    try:
        tree = get_parser().parse(annotation.body, start="annotation_args")
    except LarkError:
        raise error(f"cannot parse the arguments of annotation @{annotation.name}", annotation.span)
    builder = _AnnotationBuilder(annotation.span)
    check_nesting(tree, lambda node: annotation.span)
    args = builder.transform(tree)
    annotation.args = args
    return args


# Characters a control plane cannot address in a name: control characters (NUL, ESC, ...) and
# line breaks, which would also split a line of an STF file or of the runtime CLI in two.
_UNADDRESSABLE = ("Cc", "Zl", "Zp")


def name_annotation_value(annotation: A.Annotation) -> str:
    """The control-plane name that an @name annotation gives: its string literal, decoded.

    The P4_16 specification makes the body of @name a single string literal;
    literals joined with ``++`` are folded as well, as p4c does. Anything else
    (@name(a.b), @name("x" "y"), raw text) is refused rather than used as text,
    and so is a name that a control plane cannot address: an empty one, or one
    with control characters or line breaks. Raises DiagnosticError pointing at
    the body of the annotation."""
    span = getattr(annotation, "body_span", annotation.span)
    value = _annotation_string(annotation)
    if value is None:
        raise error("@name requires a string literal", span,
                    'give the control-plane name as one string, as in @name("ingress.route")')
    if value in ("", "."):
        raise error("@name gives an empty control-plane name", span,
                    "a control plane addresses objects by name; give a non-empty one")
    bad = next((c for c in value if unicodedata.category(c) in _UNADDRESSABLE), None)
    if bad is not None:
        kind = "control character" if unicodedata.category(bad) == "Cc" else "line break"
        raise error(f"@name gives a control-plane name with the {kind} U+{ord(bad):04X}", span,
                    "a control plane cannot address a name with control characters or line breaks")
    return value


def control_plane_name(annotations: list[A.Annotation] | None, default: str) -> str:
    """The name given by the @name annotation among annotations, else default."""
    ann = A.find_annotation(annotations, "name")
    return default if ann is None else name_annotation_value(ann)


def _annotation_string(annotation: A.Annotation) -> str | None:
    """The value of an annotation whose body is one string (literals joined by ++), else None."""
    if annotation.structured or not annotation.body:
        return None
    try:
        args = parse_annotation_args(annotation)
    except DiagnosticError:
        return None
    if len(args) != 1 or args[0].name is not None:
        return None
    return _string_constant(args[0].value)


def _string_constant(e) -> str | None:
    if isinstance(e, A.StringLiteral):
        return e.value
    if isinstance(e, A.Binary) and e.op == "++":
        left, right = _string_constant(e.left), _string_constant(e.right)
        if left is not None and right is not None:
            return left + right
    return None


class _AnnotationBuilder(AstBuilder):
    """Builds annotation arguments; every node gets the annotation's span."""

    def __init__(self, span: Span):
        Transformer.__init__(self, visit_tokens=True)
        self._fixed = span

    def _span(self, meta) -> Span:
        return self._fixed

    def _tok_span(self, tok) -> Span:
        return self._fixed
