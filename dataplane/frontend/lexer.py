"""The token pass between Lark's basic lexer and the LALR parser.

P4 needs feedback from declarations to the lexer (see the comment at the top
of grammar/p4.lark). Rather than coupling the parser and lexer, we tokenize
the whole preprocessed text first and then walk the token list once, with
arbitrary lookahead, doing four jobs:

1. expand macros (``#define``) token by token, so that columns in
   diagnostics stay those of the source (see :mod:`dataplane.frontend.macros`);
2. turn identifiers that name types into TYPE_IDENTIFIER, keeping a table of
   global type names and of scoped type parameters;
3. decide what ``<`` and ``>`` mean: a ``<`` that opens type arguments after
   an expression becomes LANGLE_ARGS, and two adjacent ``>`` outside any
   type-argument list become one SHR;
4. fold each annotation (``@name``, ``@name(...)``, ``@name[...]``) into a
   single ANNOTATION token, and mark a leading ``.`` as DOT_PREFIX.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import BasicLexer, LexerState, Lexer
from lark.utils import TextSlice

from ..diagnostics import Diagnostic, DiagnosticError
from .build_ast import integer_literal_problem
from .macros import GluedToken, MacroExpander, move_token
from .preprocess import Preprocessed

# The most tokens a program may have after macro expansion. The largest p4c sample has under 3,000 and
# large production programs some tens of thousands; checking costs about 1.5 KB and 70 us a token, so
# this keeps a check under half a gigabyte and half a minute.
MAX_TOKENS = 250_000
# The deepest nesting of (), [] and {} accepted. Real programs stay under 10; the parser itself does not
# recurse, but what it builds is walked recursively, and this refuses the deepest inputs early and cheaply
# (the AST builder limits nesting that has no brackets, such as a + b + c + ...).
MAX_BRACKET_DEPTH = 200

# Keywords that declare a type whose name follows them.
_TYPE_DECL_KEYWORDS = {"header", "header_union", "struct", "parser", "control", "package"}
# Tokens after which `<` opens a list of type arguments.
_TYPE_ARG_OPENERS = {"bit", "int", "varbit", "tuple", "value_set"}
# Tokens that can start a type (used to recognise `f<T>(...)` calls).
_TYPE_STARTS = {"bit", "int", "varbit", "bool", "tuple", "void", "string", "error", "_"}
# Words usable both as keywords and as names.
_KEYWORD_NAMES = {"apply", "key", "actions", "state", "entries", "type", "priority"}
# Token types after which a `.` is member access rather than a top-level prefix.
_EXPRESSION_ENDS = {"IDENTIFIER", "TYPE_IDENTIFIER", "INTEGER", "STRING_LITERAL", "RPAR", "RSQB",
                    "APPLY", "KEY", "ACTIONS", "STATE", "ENTRIES", "TYPE", "PRIORITY", "ERROR",
                    "TRUE", "FALSE"}
_NAME_TYPES = {"IDENTIFIER", "TYPE_IDENTIFIER", "APPLY", "KEY", "ACTIONS", "STATE", "ENTRIES",
               "TYPE", "PRIORITY"}


@dataclass
class ParseInput:
    """What the parser is given instead of a string: the preprocessed program."""

    pre: Preprocessed
    # Names declared as types by the program, filled in by the token pass.
    type_names: set[str] = field(default_factory=set)
    tokens: list[Token] = field(default_factory=list)


def _span_of(pre: Preprocessed, tok: Token):
    end_line = tok.end_line or tok.line
    end_col = tok.end_column or (tok.column + len(tok.value))
    return pre.span(tok.line, tok.column, end_line, end_col)


def _error(pre: Preprocessed, tok: Token, message: str, hint: str | None = None) -> DiagnosticError:
    return DiagnosticError(Diagnostic("error", message, _span_of(pre, tok), hint))


class TokenPass:
    def __init__(self, basic: BasicLexer, inp: ParseInput):
        self.basic = basic
        self.inp = inp
        self.pre = inp.pre

    # -- step 0: raw tokens ------------------------------------------------------

    def _raw(self, text: str) -> list[Token]:
        state = LexerState(TextSlice.cast_from(text))
        toks: list[Token] = []
        try:
            # One token at a time, counted: a 64 MiB file of ';' would otherwise become tens of millions of
            # Token objects (gigabytes) before anything could object.
            for tok in self.basic.lex(state, None):
                if tok.type == "STRAY" and (tok.value == '"' or not tok.value.isprintable()):
                    # Not even in an annotation body: a string that never ends, or a binary file.
                    raise self._stray(tok)
                toks.append(tok)
                if len(toks) > MAX_TOKENS:
                    raise _error(self.pre, tok, f"the program is longer than {MAX_TOKENS} tokens",
                                 "dataplane checks programs of at most this size (real ones have a few "
                                 "thousand tokens)")
            return toks
        except UnexpectedCharacters as exc:
            # Only blanks are left that no terminal matches (STRAY takes any other character).
            pos = exc.pos_in_stream
            char = text[pos] if pos < len(text) else ""
            raise self._stray(Token("STRAY", char, pos, exc.line, exc.column, exc.line, exc.column + 1))

    def _stray(self, tok: Token) -> DiagnosticError:
        """The error for a character that starts no P4 token (allowed only in annotation bodies)."""
        char = tok.value
        if char == '"':
            return _error(self.pre, tok, "unterminated string literal", "a string must end with '\"'")
        if char and not char.isprintable():
            return _error(self.pre, tok, f"unexpected byte 0x{ord(char):02x} (a control character)",
                          "is this a binary file?")
        shown = repr(char) if char else "end of input"
        hint = None
        if char == "#":
            hint = "preprocessor directives must start a line"
        elif char in "'`":
            hint = "P4 strings use double quotes"
        return _error(self.pre, tok, f"unexpected character {shown}", hint)

    # -- step 1: macros ----------------------------------------------------------------

    def _expand_macros(self, toks: list[Token]) -> list[Token]:
        if not self.pre.macro_events:
            return toks
        return MacroExpander(toks, self.pre.macro_events, MAX_TOKENS, self._raw,
                             lambda tok, message, hint=None: _error(self.pre, tok, message, hint)).run()

    # -- steps 2-4 ---------------------------------------------------------------------

    def _check_comments(self, text: str) -> None:
        """Report a block comment that is never closed (the lexer would see '/' and '*')."""
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == '"':
                # A string, which may span lines (an unterminated one is the lexer's to report).
                j = i + 1
                while j < n and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
            elif text.startswith("//", i):
                nl = text.find("\n", i)
                i = n if nl < 0 else nl + 1
            elif text.startswith("/*", i):
                end = text.find("*/", i + 2)
                if end < 0:
                    line = text.count("\n", 0, i) + 1
                    col = i - (text.rfind("\n", 0, i) + 1) + 1
                    tok = Token("ERROR", "/*", i, line, col, line, col + 2)
                    raise _error(self.pre, tok, "unterminated comment", "a '/*' comment must end with '*/'")
                i = end + 2
            else:
                i += 1

    def run(self) -> list[Token]:
        if "/*" in self.pre.text:
            self._check_comments(self.pre.text)
        toks = self._expand_macros(self._raw(self.pre.text))
        # Before annotations are folded, so that their bodies (parsed later, on demand) are checked too.
        self._check_brackets_and_literals(toks)
        toks = self._fold_annotations(toks)
        types = self.inp.type_names
        # Scoped type parameters: (index of last token in scope, names).
        scopes: list[tuple[int, set[str]]] = []
        out: list[Token] = []
        angle: list[int] = []   # paren depth at each open type-argument list
        paren = 0
        n = len(toks)
        pending_typedef = False      # inside `typedef ... NAME ;`
        pending_enum = False         # inside `enum [bit<W>] NAME {`
        last_ident: Token | None = None
        i = 0
        while i < n:
            tok = toks[i]
            while scopes and scopes[-1][0] < i:
                scopes.pop()
            v = tok.value
            t = tok.type
            if t == "IDENTIFIER":
                prev = out[-1] if out else None
                is_type = v in types or any(v in names for _, names in scopes)
                if prev is not None and prev.value == "extern" and self._is_extern_object(toks, i):
                    # `extern Name {` or `extern Name<T> {`: declares an extern type.
                    is_type = False
                    types.add(v)
                    if i + 1 < n and toks[i + 1].value == "<":
                        self._open_type_params(toks, i + 1, scopes)
                elif prev is not None and prev.value in _TYPE_DECL_KEYWORDS and prev.type != "IDENTIFIER":
                    types.add(v)
                    if i + 1 < n and toks[i + 1].value == "<":
                        self._open_type_params(toks, i + 1, scopes)
                elif (i + 1 < n and toks[i + 1].value == "<" and not is_type
                      and self._is_type_param_list(toks, i + 1, types, scopes)):
                    # A generic function or method prototype: `T name<T>(...)`.
                    self._open_type_params(toks, i + 1, scopes)
                if is_type:
                    tok = move_token(tok, tok, "TYPE_IDENTIFIER")
                last_ident = tok
            elif t in ("TYPE", "ENUM", "TYPEDEF") or v in ("typedef", "enum", "type"):
                if v in ("typedef", "type") and self._starts_declaration(out, toks, i):
                    pending_typedef = True
                elif v == "enum":
                    pending_enum = True
            elif v == ";" and pending_typedef:
                if last_ident is not None:
                    types.add(last_ident.value)
                pending_typedef = False
            elif v == "{" and pending_enum:
                if last_ident is not None:
                    types.add(last_ident.value)
                pending_enum = False
            elif v == "(":
                paren += 1
            elif v == ")":
                paren -= 1
            elif v == "<":
                prev = out[-1] if out else None
                if isinstance(tok, _TypeParamToken):
                    angle.append(paren)
                    tok = move_token(tok, tok)
                elif prev is not None and (prev.type == "TYPE_IDENTIFIER" or prev.value in _TYPE_ARG_OPENERS):
                    angle.append(paren)
                elif prev is not None and prev.type in _NAME_TYPES and self._opens_type_args(toks, i, types, scopes):
                    angle.append(paren)
                    tok = move_token(tok, tok, "LANGLE_ARGS")
            elif v == ">":
                if angle and angle[-1] == paren:
                    angle.pop()
                elif i + 1 < n and toks[i + 1].value == ">" and (toks[i + 1].start_pos == tok.end_pos
                                                                 or isinstance(toks[i + 1], GluedToken)):
                    tok = Token("SHR", ">>", tok.start_pos, tok.line, tok.column, tok.line,
                                tok.column + 2, tok.end_pos + 1)
                    i += 1
            elif v == "." and t != "DOT_PREFIX":
                prev = out[-1] if out else None
                if (prev is None or prev.type not in _EXPRESSION_ENDS) and i + 1 < n \
                        and toks[i + 1].type in _NAME_TYPES:
                    tok = move_token(tok, tok, "DOT_PREFIX")
            out.append(tok)
            i += 1
        self.inp.tokens = out
        return out

    # -- helpers -----------------------------------------------------------------------

    def _check_brackets_and_literals(self, toks: list[Token]) -> None:
        """Refuse brackets nested more than MAX_BRACKET_DEPTH deep, and integer literals too large to
        convert (see integer_literal_problem), each at the offending token."""
        depth = 0
        for tok in toks:
            v = tok.value
            if v in ("(", "[", "{"):
                depth += 1
                if depth > MAX_BRACKET_DEPTH:
                    raise _error(self.pre, tok, f"brackets nested too deeply (more than {MAX_BRACKET_DEPTH} "
                                 "levels)", "real programs nest a few levels")
            elif v in (")", "]", "}"):
                depth -= 1
            elif tok.type == "INTEGER":
                problem = integer_literal_problem(v)
                if problem is not None:
                    raise _error(self.pre, tok, problem)

    def _fold_annotations(self, toks: list[Token]) -> list[Token]:
        """Turn `@name`, `@name(tokens)` and `@name[tokens]` into one ANNOTATION token; refuse characters
        that start no P4 token (STRAY) outside annotation bodies."""
        out: list[Token] = []
        i, n = 0, len(toks)
        text = self.pre.text
        while i < n:
            tok = toks[i]
            if tok.value != "@":
                if tok.type == "STRAY":
                    raise self._stray(tok)
                out.append(tok)
                i += 1
                continue
            if i + 1 >= n or not (toks[i + 1].value[:1].isalpha() or toks[i + 1].value[:1] == "_"):
                raise _error(self.pre, tok, "expected an annotation name after '@'")
            end = i + 1
            if end + 1 < n and toks[end + 1].value in ("(", "["):
                opener = toks[end + 1].value
                closer = ")" if opener == "(" else "]"
                depth = 0
                j = end + 1
                while j < n:
                    if toks[j].value == opener:
                        depth += 1
                    elif toks[j].value == closer:
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                if j >= n:
                    raise _error(self.pre, toks[end + 1], f"unterminated annotation: missing '{closer}'")
                end = j
            last = toks[end]
            value = text[tok.start_pos:last.end_pos]
            out.append(Token("ANNOTATION", value, tok.start_pos, tok.line, tok.column,
                             last.end_line, last.end_column, last.end_pos))
            i = end + 1
        return out

    @staticmethod
    def _starts_declaration(out: list[Token], toks: list[Token], i: int) -> bool:
        """Whether `typedef`/`type` at toks[i] starts a declaration (not a name)."""
        prev = out[-1] if out else None
        if prev is not None and prev.value not in (";", "}", "{") and prev.type != "ANNOTATION":
            return False
        nxt = toks[i + 1].value if i + 1 < len(toks) else ""
        return nxt not in ("=", ".", "(", ";", ":", ",", ")")

    @staticmethod
    def _is_extern_object(toks: list[Token], i: int) -> bool:
        nxt = toks[i + 1].value if i + 1 < len(toks) else ""
        return nxt in ("{", "<")

    @staticmethod
    def _matching_angle(toks: list[Token], i: int) -> int:
        """Index of the `>` closing the `<` at toks[i] (ignoring nesting in parens), or -1."""
        depth = 0
        for j in range(i, min(len(toks), i + 200)):
            v = toks[j].value
            if v == "<":
                depth += 1
            elif v == ">":
                depth -= 1
                if depth == 0:
                    return j
            elif v in (";", "{", "}"):
                return -1
        return -1

    def _is_type_param_list(self, toks, i, types, scopes) -> bool:
        """`name<A, B>(` where A, B are not known types: a generic prototype."""
        j = self._matching_angle(toks, i)
        if j < 0 or j + 1 >= len(toks) or toks[j + 1].value != "(":
            return False
        inner = toks[i + 1:j]
        if not inner:
            return False
        for k, t in enumerate(inner):
            if k % 2 == 0:
                if t.type != "IDENTIFIER" or t.value in types or any(t.value in s for _, s in scopes):
                    return False
            elif t.value != ",":
                return False
        return True

    def _open_type_params(self, toks: list[Token], i: int, scopes) -> None:
        """Record the type parameters in `<...>` at toks[i] until the end of the declaration."""
        j = self._matching_angle(toks, i)
        if j < 0:
            return
        names = {t.value for t in toks[i + 1:j] if t.type == "IDENTIFIER"}
        # Mark the `<` so that run() treats it as opening an angle list.
        toks[i] = _TypeParamToken(toks[i])
        depth = 0
        end = len(toks) - 1
        k = j + 1
        while k < len(toks):
            v = toks[k].value
            if v in ("(", "[", "{"):
                depth += 1
            elif v in (")", "]", "}"):
                depth -= 1
                if depth == 0 and v == "}":
                    end = k
                    break
                if depth < 0:
                    end = k
                    break
            elif v == ";" and depth == 0:
                end = k
                break
            k += 1
        scopes.append((end, names))
        scopes.sort(key=lambda s: -s[0])

    @staticmethod
    def _opens_type_args(toks, i, types, scopes) -> bool:
        """Whether the `<` at toks[i], after a name in an expression, opens type arguments."""
        if i + 1 >= len(toks):
            return False
        nxt = toks[i + 1]
        if nxt.value in _TYPE_STARTS:
            return True
        if nxt.type == "IDENTIFIER" and (nxt.value in types or any(nxt.value in s for _, s in scopes)):
            # `x < E.A` compares with an enum member; `f<E>(...)` has a type argument.
            after = toks[i + 2].value if i + 2 < len(toks) else ""
            return after in (">", ",", "<", "[")
        return False


class _TypeParamToken(Token):
    """A `<` that opens a list of type parameters in a declaration."""

    def __new__(cls, tok: Token):
        return Token.__new__(cls, tok.type, tok.value, tok.start_pos, tok.line, tok.column,
                             tok.end_line, tok.end_column, tok.end_pos)


class P4Lexer(Lexer):
    """The lexer Lark calls: runs Lark's basic lexer, then the token pass."""

    def __init__(self, lexer_conf):
        self.basic = BasicLexer(lexer_conf)

    def lex(self, inp):
        if isinstance(inp, ParseInput):
            return iter(TokenPass(self.basic, inp).run())
        # A plain string: used for annotation bodies and tests of fragments.
        text = inp.text if isinstance(inp, TextSlice) else inp
        return iter(_raw_with_types(self.basic, text))


def _raw_with_types(basic: BasicLexer, text: str) -> list[Token]:
    state = LexerState(TextSlice.cast_from(text))
    return list(basic.lex(state, None))
