"""Print the AST (dataplane.frontend.ast) back as P4_16 source text.

Two uses shape this module:

* Compiler messages quote expressions and types (``hdr.ipv4.ttl``,
  ``(bit<8>)x``, ``{a, b}``), so :func:`expression_text` and
  :func:`type_text` render a node on one line.
* The round-trip test parses a program, prints it and parses the output
  again, expecting an equal tree. So the printer must emit exactly the tokens
  that rebuild the same nodes: parentheses are inserted from the precedence
  table below (the parser drops source parentheses, so they have to be
  recomputed), literals keep their source spelling, strings are re-escaped,
  and a few token-level pitfalls of our lexer are avoided (see
  ``_unary_text`` and ``_cast_text``).

Statements and declarations are printed one per line with 4-space
indentation and braces in the K&R style, which is how P4 is usually written.
"""

from __future__ import annotations

from typing import Callable

from . import ast as A

INDENT = "    "

# ---------------------------------------------------------------------------- precedence

# Binding strength of each binary operator, loosest first, as in the P4_16
# specification (and grammar/p4.lark). All binary operators are left-associative.
_BINARY_PRECEDENCE = {
    "||": 2,
    "&&": 3,
    "==": 4, "!=": 4,
    "<": 5, ">": 5, "<=": 5, ">=": 5,
    "|": 6,
    "^": 7,
    "&": 8,
    "<<": 9, ">>": 9,
    "++": 10, "+": 10, "-": 10, "|+|": 10, "|-|": 10,
    "*": 11, "/": 11, "%": 11,
}
_KEYSET = 0        # &&& and ..: only ever the whole of a keyset, never an operand
_TERNARY = 1
_PREFIX = 12       # ! ~ - + and casts
_POSTFIX = 13      # member, index, slice, call
_PRIMARY = 14      # literals, names, (...), {...}, constructor calls


def precedence(expr: A.Expression) -> int:
    """How tightly an expression binds; an operand binding more loosely than its
    context requires must be parenthesised."""
    if isinstance(expr, A.Binary):
        return _BINARY_PRECEDENCE.get(expr.op, _PREFIX - 1)
    if isinstance(expr, A.Ternary):
        return _TERNARY
    if isinstance(expr, (A.Unary, A.Cast)):
        return _PREFIX
    if isinstance(expr, (A.Member, A.Index, A.Slice, A.PlusSlice, A.Call)):
        return _POSTFIX
    if isinstance(expr, (A.MaskKeyset, A.RangeKeyset)):
        return _KEYSET
    if isinstance(expr, A.IntLiteral) and expr.value < 0 and not expr.text:
        return _PREFIX    # printed with a leading minus (only from constant folding)
    return _PRIMARY


# ---------------------------------------------------------------------------- literals


def int_literal_text(lit: A.IntLiteral) -> str:
    """The source spelling if known (0x1F stays hex), else a canonical one."""
    if lit.text:
        return lit.text
    if lit.value < 0:
        return "-" + int_literal_text(A.IntLiteral(-lit.value, lit.width, lit.signed))
    if lit.width is None:
        return str(lit.value)
    return f"{lit.width}{'s' if lit.signed else 'w'}{lit.value}"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def string_literal_text(value: str) -> str:
    """A double-quoted P4 string whose unescaping (build_ast.unescape_string) gives value."""
    return '"' + "".join(_ESCAPES.get(c, c) for c in value) + '"'


# ---------------------------------------------------------------------------- types


def type_text(t: A.TypeRef) -> str:
    """A type reference on one line, as written in P4: bit<8>, H[4], register<bit<32>>."""
    if isinstance(t, A.BitTypeRef):
        return f"{'int' if t.signed else 'bit'}<{_width_text(t.width)}>"
    if isinstance(t, A.VarbitTypeRef):
        return f"varbit<{_width_text(t.width)}>"
    if isinstance(t, A.NamedBaseTypeRef):
        return t.name
    if isinstance(t, A.TypeNameRef):
        return ("." if t.top_level else "") + t.name
    if isinstance(t, A.SpecializedTypeRef):
        return f"{type_text(t.base)}<{', '.join(type_text(a) for a in t.args)}>"
    if isinstance(t, A.StackTypeRef):
        return f"{type_text(t.element)}[{expression_text(t.size)}]"
    if isinstance(t, A.TupleTypeRef):
        return f"tuple<{', '.join(type_text(e) for e in t.elements)}>"
    if isinstance(t, A.DontCareTypeRef):
        return "_"
    raise TypeError(f"not a type reference: {type(t).__name__}")


def _width_text(width: A.Expression) -> str:
    """The grammar takes a bare integer literal as a width, anything else in parentheses.

    `bit` written without a width is stored as width IntLiteral(1) with no
    text; it prints as `bit<1>`, which means the same."""
    if isinstance(width, A.IntLiteral) and width.value >= 0:
        return int_literal_text(width)
    return f"({expression_text(width)})"


# ---------------------------------------------------------------------------- expressions


def expression_text(expr: A.Expression) -> str:
    """An expression on one line, with the parentheses its structure needs and no others."""
    handler = _EXPRESSIONS.get(type(expr))
    if handler is None:
        raise TypeError(f"not an expression: {type(expr).__name__}")
    return handler(expr)


def _operand(expr: A.Expression, min_precedence: int) -> str:
    """expr as an operand in a position that binds at least min_precedence."""
    text = expression_text(expr)
    return f"({text})" if precedence(expr) < min_precedence else text


def _postfix_base(expr: A.Expression) -> str:
    """expr as the left side of `.m`, `[i]`, `[h:l]` or `(args)`.

    A `.` after `}` starts a top-level name for the lexer (a statement such
    as `.x = 1;` may follow a block), so `{a, b}.m` must be written `({a, b}).m`."""
    if isinstance(expr, (A.ListExpression, A.StructExpression)):
        return f"({expression_text(expr)})"
    return _operand(expr, _POSTFIX)


def _binary_text(e: A.Binary) -> str:
    p = precedence(e)
    # Left-associative: an operand of equal strength needs parentheses only on the right.
    right = _operand(e.right, p + 1)
    if e.op == "<" and right.startswith("error"):
        # The lexer reads `x < error` as the start of type arguments (`f<error>(...)`).
        right = f"({right})"
    return f"{_operand(e.left, p)} {e.op} {right}"


def _ternary_text(e: A.Ternary) -> str:
    # Grammar: logical_or "?" expression ":" conditional. A conditional in the
    # middle needs no parentheses but gets them anyway, for the reader; a chain
    # `a ? b : c ? d : e` in the last position is idiomatic and stays bare.
    return (f"{_operand(e.cond, _TERNARY + 1)} ? {_operand(e.then, _TERNARY + 1)}"
            f" : {_operand(e.otherwise, _TERNARY)}")


def _unary_text(e: A.Unary) -> str:
    operand = _operand(e.expr, _PREFIX)
    # `+ +x` written `++x` would lex as the concatenation operator, and `- -x`
    # reads like a decrement: keep the two operators apart.
    if operand[:1] in ("+", "-", "|") and e.op[-1:] in ("+", "-", "|"):
        return f"{e.op} {operand}"
    return e.op + operand


def _cast_text(e: A.Cast) -> str:
    operand = _operand(e.expr, _PREFIX)
    # After `)` the lexer reads `.x` as member access, not as a top-level name.
    if operand.startswith("."):
        operand = f"({operand})"
    return f"({type_text(e.to)}){operand}"


def _call_text(e: A.Call) -> str:
    type_args = f"<{', '.join(type_text(t) for t in e.type_args)}>" if e.type_args else ""
    return f"{_postfix_base(e.func)}{type_args}({arguments_text(e.args)})"


def argument_text(arg: A.Argument) -> str:
    value = "_" if arg.value is None else expression_text(arg.value)
    return value if arg.name is None else f"{arg.name} = {value}"


def arguments_text(args: list[A.Argument]) -> str:
    return ", ".join(argument_text(a) for a in args)


_EXPRESSIONS: dict[type, Callable[..., str]] = {
    A.IntLiteral: int_literal_text,
    A.BoolLiteral: lambda e: "true" if e.value else "false",
    A.StringLiteral: lambda e: string_literal_text(e.value),
    A.Name: lambda e: ("." if e.top_level else "") + e.name,
    A.Member: lambda e: f"{_postfix_base(e.expr)}.{e.member}",
    A.TypeMember: lambda e: f"{type_text(e.type)}.{e.member}",
    A.Index: lambda e: f"{_postfix_base(e.expr)}[{expression_text(e.index)}]",
    A.Slice: lambda e: f"{_postfix_base(e.expr)}[{expression_text(e.hi)}:{expression_text(e.lo)}]",
    A.PlusSlice: lambda e: f"{_postfix_base(e.expr)}[{expression_text(e.lo)} +: {expression_text(e.width)}]",
    A.Unary: _unary_text,
    A.Binary: _binary_text,
    A.Ternary: _ternary_text,
    A.Cast: _cast_text,
    A.Call: _call_text,
    A.ConstructorCall: lambda e: f"{type_text(e.type)}({arguments_text(e.args)})",
    A.ListExpression: lambda e: "{" + ", ".join(expression_text(x) for x in e.elements) + "}",
    A.StructExpression: lambda e: "{" + ", ".join(f"{k} = {expression_text(v)}" for k, v in e.fields) + "}",
    A.DontCare: lambda e: "_",
    A.DefaultKeyset: lambda e: "default",
    A.MaskKeyset: lambda e: f"{expression_text(e.value)} &&& {expression_text(e.mask)}",
    A.RangeKeyset: lambda e: f"{expression_text(e.lo)} .. {expression_text(e.hi)}",
    A.TupleKeyset: lambda e: "(" + ", ".join(expression_text(x) for x in e.elements) + ")",
}


# ---------------------------------------------------------------------------- small pieces


def annotation_text(a: A.Annotation) -> str:
    """@name, @name(body) or @name[body]; the body is kept as raw source text."""
    if a.body is None:
        return f"@{a.name}"
    return f"@{a.name}[{a.body}]" if a.structured else f"@{a.name}({a.body})"


def _annotations_prefix(annotations: list[A.Annotation] | None) -> str:
    """Annotations followed by a space, to go in front of what they annotate."""
    if not annotations:
        return ""
    return " ".join(annotation_text(a) for a in annotations) + " "


def _annotations_suffix(annotations: list[A.Annotation] | None) -> str:
    """A space and the annotations, for the places the grammar puts them last."""
    if not annotations:
        return ""
    return " " + " ".join(annotation_text(a) for a in annotations)


def type_parameters_text(names: list[str]) -> str:
    return f"<{', '.join(names)}>" if names else ""


def parameter_text(p: A.Parameter) -> str:
    direction = f"{p.direction} " if p.direction else ""
    default = f" = {expression_text(p.default)}" if p.default is not None else ""
    return f"{_annotations_prefix(p.annotations)}{direction}{type_text(p.type)} {p.name}{default}"


def parameters_text(params: list[A.Parameter]) -> str:
    return ", ".join(parameter_text(p) for p in params)


def prototype_text(m: A.MethodPrototype, with_annotations: bool = True) -> str:
    """A function, method or constructor prototype, without the final semicolon."""
    prefix = _annotations_prefix(m.annotations) if with_annotations else ""
    if m.is_constructor:
        return f"{prefix}{m.name}({parameters_text(m.params)})"
    return_type = type_text(m.return_type) if m.return_type is not None else "void"
    return (f"{prefix}{return_type} {m.name}{type_parameters_text(m.type_params)}"
            f"({parameters_text(m.params)})")


def action_ref_text(r: A.ActionRef) -> str:
    name = ("." if r.top_level else "") + r.name
    return name if r.args is None else f"{name}({arguments_text(r.args)})"


def _priority_text(priority: A.Expression) -> str:
    # The grammar takes `priority = INTEGER :` or `priority = (expression) :`.
    if isinstance(priority, A.IntLiteral) and priority.value >= 0:
        return int_literal_text(priority)
    return f"({expression_text(priority)})"


def table_entry_text(e: A.TableEntry) -> str:
    const = "const " if e.is_const else ""
    priority = f"priority = {_priority_text(e.priority)}: " if e.priority is not None else ""
    return (f"{const}{priority}{expression_text(e.keyset)}: {action_ref_text(e.action)}"
            f"{_annotations_suffix(e.annotations)};")


def key_element_text(k: A.KeyElement) -> str:
    return f"{expression_text(k.expr)}: {k.match_kind}{_annotations_suffix(k.annotations)};"


def select_case_text(c: A.SelectCase) -> str:
    return f"{expression_text(c.keyset)}: {c.state};"


def enum_member_text(m: A.EnumMember) -> str:
    return m.name if m.value is None else f"{m.name} = {expression_text(m.value)}"


def struct_field_text(f: A.StructField) -> str:
    return f"{_annotations_prefix(f.annotations)}{type_text(f.type)} {f.name};"


# ---------------------------------------------------------------------------- statements and declarations


class _Printer:
    """Accumulates indented lines; one method per statement or declaration class."""

    def __init__(self, level: int = 0):
        self.lines: list[str] = []
        self.level = level

    def text(self) -> str:
        return "\n".join(self.lines)

    def line(self, text: str) -> None:
        self.lines.append(INDENT * self.level + text if text else "")

    def emit(self, node: A.Node) -> None:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"cannot print a {type(node).__name__} as a statement or declaration")
        method(node)

    # -- layout helpers ------------------------------------------------------------

    def _body(self, header: str, items: list) -> None:
        """`header {`, the items one level deeper, `}`; `header {}` when empty."""
        opener = f"{header} {{" if header else "{"
        if not items:
            self.line(opener + "}")
            return
        self.line(opener)
        self._indented(items)
        self.line("}")

    def _separated(self, nodes: list[A.Node]) -> None:
        """Emit declarations, with a blank line next to any that has a body or spans
        several lines (so consts and typedefs stay grouped, actions and tables
        stand apart)."""
        prev_apart = False
        for i, node in enumerate(nodes):
            start = len(self.lines)
            self.emit(node)
            apart = isinstance(node, _STANDS_APART) or len(self.lines) - start > 1
            if i > 0 and (apart or prev_apart):
                self.lines.insert(start, "")
            prev_apart = apart

    def _block_opener(self, block: A.BlockStatement) -> str:
        return _annotations_prefix(block.annotations) + "{"

    def _clause(self, header: str, stmt: A.Statement, continue_line: bool = False) -> None:
        """`header` followed by a statement: a block opens on the header line, any
        other statement goes on the next line, indented. With continue_line the
        header goes at the end of the previous line (for `} else {`)."""
        if isinstance(stmt, A.BlockStatement):
            opener = " ".join(x for x in (header, self._block_opener(stmt)) if x)
            self._start_line(opener + ("" if stmt.statements else "}"), continue_line)
            if stmt.statements:
                self._indented(stmt.statements)
                self.line("}")
        else:
            self._start_line(header, continue_line)
            self._indented([stmt])

    def _start_line(self, text: str, continue_line: bool) -> None:
        if continue_line:
            self.lines[-1] += " " + text
        else:
            self.line(text)

    def _indented(self, nodes: list[A.Node]) -> None:
        self.level += 1
        for n in nodes:
            self.emit(n)
        self.level -= 1

    # -- statements ---------------------------------------------------------------------

    def _EmptyStatement(self, s: A.EmptyStatement) -> None:
        self.line(";")

    def _BlockStatement(self, s: A.BlockStatement) -> None:
        self._clause("", s)

    def _Assignment(self, s: A.Assignment) -> None:
        self.line(f"{expression_text(s.target)} {s.op} {expression_text(s.value)};")

    def _MethodCallStatement(self, s: A.MethodCallStatement) -> None:
        self.line(f"{expression_text(s.call)};")

    def _DirectApplication(self, s: A.DirectApplication) -> None:
        self.line(f"{type_text(s.type)}.apply({arguments_text(s.args)});")

    def _IfStatement(self, s: A.IfStatement) -> None:
        then = _guard_dangling_else(s.then, s.otherwise)
        self._clause(f"if ({expression_text(s.cond)})", then)
        previous, other = then, s.otherwise
        while other is not None:
            # `} else` when the previous branch was a block, else `else` on its own line.
            after_block = isinstance(previous, A.BlockStatement)
            if isinstance(other, A.IfStatement):
                then = _guard_dangling_else(other.then, other.otherwise)
                self._clause(f"else if ({expression_text(other.cond)})", then, after_block)
                previous, other = then, other.otherwise
            else:
                self._clause("else", other, after_block)
                other = None

    def _SwitchStatement(self, s: A.SwitchStatement) -> None:
        self._body(f"switch ({expression_text(s.expr)})", s.cases)

    def _SwitchCase(self, c: A.SwitchCase) -> None:
        label = "default" if c.label is None else expression_text(c.label)
        if c.body is None:
            self.line(f"{label}:")     # falls through to the next case
        else:
            self._clause(f"{label}:", c.body)

    def _ReturnStatement(self, s: A.ReturnStatement) -> None:
        self.line("return;" if s.value is None else f"return {expression_text(s.value)};")

    def _ExitStatement(self, s: A.ExitStatement) -> None:
        self.line("exit;")

    def _ForStatement(self, s: A.ForStatement) -> None:
        init = ", ".join(_inline_statement(x) for x in s.init)
        update = ", ".join(_inline_statement(x) for x in s.update)
        header = f"for ({init}; {expression_text(s.cond)}; {update})".replace("( ;", "(;").replace("; )", ";)")
        self._clause(_annotations_prefix(s.annotations) + header, s.body)

    def _ForInStatement(self, s: A.ForInStatement) -> None:
        collection = expression_text(s.collection)
        if s.range_end is not None:
            collection += f" .. {expression_text(s.range_end)}"
        self._clause(f"{_annotations_prefix(s.annotations)}for ({type_text(s.var.type)} {s.var.name} in {collection})",
                     s.body)

    def _BreakStatement(self, s: A.BreakStatement) -> None:
        self.line("break;")

    def _ContinueStatement(self, s: A.ContinueStatement) -> None:
        self.line("continue;")

    # -- simple declarations ------------------------------------------------------------

    def _ConstantDeclaration(self, d: A.ConstantDeclaration) -> None:
        self.line(f"{_annotations_prefix(d.annotations)}const {type_text(d.type)} {d.name}"
                  f" = {expression_text(d.value)};")

    def _VariableDeclaration(self, d: A.VariableDeclaration) -> None:
        init = f" = {expression_text(d.init)}" if d.init is not None else ""
        self.line(f"{_annotations_prefix(d.annotations)}{type_text(d.type)} {d.name}{init};")

    def _Instantiation(self, d: A.Instantiation) -> None:
        self.line(f"{_annotations_prefix(d.annotations)}{type_text(d.type)}({arguments_text(d.args)})"
                  f" {d.name};")

    def _ValueSetDeclaration(self, d: A.ValueSetDeclaration) -> None:
        self.line(f"{_annotations_prefix(d.annotations)}value_set<{type_text(d.type)}>"
                  f"({expression_text(d.size)}) {d.name};")

    def _TypedefDeclaration(self, d: A.TypedefDeclaration) -> None:
        keyword = "type" if d.new_type else "typedef"
        self.line(f"{_annotations_prefix(d.annotations)}{keyword} {type_text(d.type)} {d.name};")

    # -- type declarations ----------------------------------------------------------------

    def _struct_like(self, keyword: str, d: A.StructLikeDeclaration) -> None:
        header = f"{_annotations_prefix(d.annotations)}{keyword} {d.name}{type_parameters_text(d.type_params)}"
        self._body(header, d.fields)

    def _HeaderDeclaration(self, d: A.HeaderDeclaration) -> None:
        self._struct_like("header", d)

    def _HeaderUnionDeclaration(self, d: A.HeaderUnionDeclaration) -> None:
        self._struct_like("header_union", d)

    def _StructDeclaration(self, d: A.StructDeclaration) -> None:
        self._struct_like("struct", d)

    def _StructField(self, f: A.StructField) -> None:
        self.line(struct_field_text(f))

    def _member_list(self, header: str, members: list[A.EnumMember]) -> None:
        """`header {` then one member per line, comma-separated, then `}`."""
        self.line(header + " {")
        self.level += 1
        for i, m in enumerate(members):
            self.line(enum_member_text(m) + ("," if i < len(members) - 1 else ""))
        self.level -= 1
        self.line("}")

    def _EnumDeclaration(self, d: A.EnumDeclaration) -> None:
        underlying = f"{type_text(d.underlying)} " if d.underlying is not None else ""
        self._member_list(f"{_annotations_prefix(d.annotations)}enum {underlying}{d.name}", d.members)

    def _ErrorDeclaration(self, d: A.ErrorDeclaration) -> None:
        self._member_list("error", d.members)

    def _MatchKindDeclaration(self, d: A.MatchKindDeclaration) -> None:
        self._member_list("match_kind", d.members)

    def _EnumMember(self, m: A.EnumMember) -> None:
        self.line(enum_member_text(m))

    def _block_type_header(self, keyword: str, d) -> str:
        return (f"{_annotations_prefix(d.annotations)}{keyword} {d.name}{type_parameters_text(d.type_params)}"
                f"({parameters_text(d.params)})")

    def _ParserTypeDeclaration(self, d: A.ParserTypeDeclaration) -> None:
        self.line(self._block_type_header("parser", d) + ";")

    def _ControlTypeDeclaration(self, d: A.ControlTypeDeclaration) -> None:
        self.line(self._block_type_header("control", d) + ";")

    def _PackageTypeDeclaration(self, d: A.PackageTypeDeclaration) -> None:
        self.line(self._block_type_header("package", d) + ";")

    # -- externs, functions, actions -----------------------------------------------------

    def _MethodPrototype(self, m: A.MethodPrototype) -> None:
        self.line(prototype_text(m) + ";")

    def _ExternDeclaration(self, d: A.ExternDeclaration) -> None:
        header = f"{_annotations_prefix(d.annotations)}extern {d.name}{type_parameters_text(d.type_params)}"
        self._body(header, d.methods)

    def _ExternFunctionDeclaration(self, d: A.ExternFunctionDeclaration) -> None:
        # The builder gives the prototype the declaration's annotations too; print them once.
        self.line(f"{_annotations_prefix(d.annotations)}extern {prototype_text(d.prototype, False)};")

    def _FunctionDeclaration(self, d: A.FunctionDeclaration) -> None:
        proto = A.MethodPrototype(d.name, d.annotations, return_type=d.return_type,
                                  type_params=d.type_params, params=d.params)
        self._clause(prototype_text(proto), d.body)

    def _ActionDeclaration(self, d: A.ActionDeclaration) -> None:
        self._clause(f"{_annotations_prefix(d.annotations)}action {d.name}({parameters_text(d.params)})", d.body)

    # -- parsers ----------------------------------------------------------------------------

    def _ParserDeclaration(self, d: A.ParserDeclaration) -> None:
        header = self._block_type_header("parser", d)
        if d.constructor_params:
            header += f"({parameters_text(d.constructor_params)})"
        self.line(header + " {")
        self.level += 1
        self._separated(d.locals + d.states)
        self.level -= 1
        self.line("}")

    def _ParserState(self, s: A.ParserState) -> None:
        header = f"{_annotations_prefix(s.annotations)}state {s.name}"
        if not s.statements and s.transition is None:
            self.line(header + " {}")
            return
        self.line(header + " {")
        self.level += 1
        for stmt in s.statements:
            self.emit(stmt)
        if isinstance(s.transition, A.SelectExpression):
            self._select("transition ", s.transition)
        elif s.transition is not None:
            self.line(f"transition {s.transition};")
        self.level -= 1
        self.line("}")

    def _select(self, prefix: str, sel: A.SelectExpression) -> None:
        exprs = ", ".join(expression_text(e) for e in sel.exprs)
        self._body(f"{prefix}select({exprs})", sel.cases)

    def _SelectExpression(self, sel: A.SelectExpression) -> None:
        self._select("", sel)

    def _SelectCase(self, c: A.SelectCase) -> None:
        self.line(select_case_text(c))

    # -- controls and tables -------------------------------------------------------------

    def _ControlDeclaration(self, d: A.ControlDeclaration) -> None:
        header = self._block_type_header("control", d)
        if d.constructor_params:
            header += f"({parameters_text(d.constructor_params)})"
        self.line(header + " {")
        self.level += 1
        self._separated(d.locals)
        if d.locals:
            self.line("")
        self._clause("apply", d.body)
        self.level -= 1
        self.line("}")

    def _TableDeclaration(self, d: A.TableDeclaration) -> None:
        self._body(f"{_annotations_prefix(d.annotations)}table {d.name}", d.properties)

    def _TableProperty(self, p: A.TableProperty) -> None:
        prefix = _annotations_prefix(p.annotations) + ("const " if p.is_const else "")
        if p.name in ("key", "actions", "entries"):
            # Lists of KeyElement, ActionRef and TableEntry, each printing as a line.
            self._body(f"{prefix}{p.name} =", p.value)
        else:
            self.line(f"{prefix}{p.name} = {expression_text(p.value)};")

    def _KeyElement(self, k: A.KeyElement) -> None:
        self.line(key_element_text(k))

    def _ActionRef(self, r: A.ActionRef) -> None:
        self.line(f"{_annotations_prefix(r.annotations)}{action_ref_text(r)};")

    def _TableEntry(self, e: A.TableEntry) -> None:
        self.line(table_entry_text(e))

    # -- whole program ------------------------------------------------------------------------

    def _Program(self, p: A.Program) -> None:
        self._separated(p.declarations)


# Declarations with a body: a blank line separates them from their neighbours
# even when the body is empty and they fit on one line.
_STANDS_APART = (A.StructLikeDeclaration, A.EnumDeclaration, A.ErrorDeclaration,
                 A.MatchKindDeclaration, A.ExternDeclaration, A.FunctionDeclaration,
                 A.ActionDeclaration, A.ParserDeclaration, A.ParserState, A.ControlDeclaration,
                 A.TableDeclaration)


def _inline_statement(s: A.Node) -> str:
    """A statement of a for loop's header: a declaration, assignment or call without its ';'."""
    if isinstance(s, A.VariableDeclaration):
        init = f" = {expression_text(s.init)}" if s.init is not None else ""
        return f"{type_text(s.type)} {s.name}{init}"
    if isinstance(s, A.Assignment):
        return f"{expression_text(s.target)} {s.op} {expression_text(s.value)}"
    return expression_text(s.call)


def _guard_dangling_else(then: A.Statement, otherwise: A.Statement | None) -> A.Statement:
    """The then-branch to print for an if with the given else-branch.

    An if without else as the then-branch (directly or at the end of an else-if
    chain) would capture our else when re-parsed. Parsed trees never have that
    shape (the source needed braces), but trees built by compiler passes may,
    so such a branch is printed inside braces."""
    if otherwise is None:
        return then
    tail = then
    while isinstance(tail, A.IfStatement) and tail.otherwise is not None:
        tail = tail.otherwise
    if isinstance(tail, A.IfStatement):
        return A.BlockStatement([then])
    return then


# ---------------------------------------------------------------------------- public API


def print_program(program: A.Program) -> str:
    """The whole program as formatted P4 source, ending in a newline."""
    p = _Printer()
    p.emit(program)
    return p.text() + "\n"


def print_declaration(node: A.Node, indent: int = 0) -> str:
    """A declaration (or a part of one: a state, table property, field...) as lines of
    source indented by `indent` levels, without a final newline."""
    p = _Printer(indent)
    p.emit(node)
    return p.text()


def print_statement(node: A.Node, indent: int = 0) -> str:
    """A statement (or a declaration inside a block) as lines of source indented by
    `indent` levels, without a final newline."""
    p = _Printer(indent)
    p.emit(node)
    return p.text()


def node_text(node: A.Node) -> str:
    """Any node as source text: expressions and types on one line, the rest as lines."""
    if isinstance(node, A.Expression):
        return expression_text(node)
    if isinstance(node, A.TypeRef):
        return type_text(node)
    inline = {
        A.Annotation: annotation_text,
        A.Argument: argument_text,
        A.Parameter: parameter_text,
    }.get(type(node))
    if inline is not None:
        return inline(node)
    return print_declaration(node)
