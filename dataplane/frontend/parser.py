"""Parse P4 source text into a Lark tree, with precise syntax errors.

The grammar is loaded once per process (Lark caches the LALR tables on disk,
keyed by the grammar's hash) from the installed package ``dataplane.grammar``.
"""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, UnexpectedToken

from ..diagnostics import Diagnostic, DiagnosticError, Span
from .lexer import P4Lexer, ParseInput
from .preprocess import Preprocessed

# Readable names for the terminals that appear in "expected ..." hints.
_TERMINAL_NAMES = {
    "SEMICOLON": "';'", "COLON": "':'", "COMMA": "','", "DOT": "'.'", "EQUAL": "'='",
    "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'",
    "LT": "'<'", "GT": "'>'", "QMARK": "'?'", "IDENTIFIER": "a name", "TYPE_IDENTIFIER": "a type name",
    "INTEGER": "an integer", "STRING_LITERAL": "a string", "ANNOTATION": "an annotation",
    "$END": "end of input", "LANGLE_ARGS": "'<'", "DOT_PREFIX": "'.'",
}


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    try:
        term = parser.get_terminal(name)
        pattern = term.pattern
        if pattern.type == "str":
            return f"'{pattern.value}'"
    except (KeyError, AttributeError):
        pass
    return name.lower()


class _KeepAnnotationMarker:
    """A no-op post-lexer whose only job is to keep the AT and STRAY terminals in the lexer.

    Lark drops terminals that no rule uses; `@` is consumed by our token pass
    (it folds annotations into ANNOTATION tokens) so no rule mentions it, and
    STRAY characters are only allowed inside annotation bodies."""

    always_accept = ("AT", "STRAY")

    def process(self, stream):
        return stream


@functools.lru_cache(maxsize=None)
def get_parser() -> Lark:
    grammar = resources.files("dataplane.grammar").joinpath("p4.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer=P4Lexer, postlex=_KeepAnnotationMarker(),
                propagate_positions=True, maybe_placeholders=True,
                start=["start", "annotation_args"], cache=_cache_path(grammar))


def _cache_path(grammar: str) -> str | bool:
    """A per-user cache file for the LALR tables, or True for Lark's default."""
    import hashlib
    import os
    import tempfile
    digest = hashlib.sha256(grammar.encode()).hexdigest()[:16]
    try:
        import lark
        version = lark.__version__
    except AttributeError:  # pragma: no cover
        version = "x"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.path.join(base, "dataplane")
    try:
        os.makedirs(directory, exist_ok=True)
        if not os.access(directory, os.W_OK):
            raise OSError
    except OSError:
        directory = tempfile.gettempdir()
    return os.path.join(directory, f"p4-grammar-{version}-{digest}.lark-cache")


def parse_tree(pre: Preprocessed) -> tuple[object, ParseInput]:
    """Lex and parse a preprocessed program; raise DiagnosticError on a syntax error."""
    parser = get_parser()
    inp = ParseInput(pre)
    try:
        tree = parser.parse(inp, start="start")
    except UnexpectedInput as exc:
        raise DiagnosticError(_syntax_error(exc, pre, parser, inp.tokens)) from None
    return tree, inp


_EXPRESSION_STARTS = {"INTEGER", "IDENTIFIER", "LPAR", "TRUE", "FALSE"}


def _previous_token(tokens: list[Token], tok: Token) -> Token | None:
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if tokens[mid].start_pos < tok.start_pos:
            lo = mid + 1
        else:
            hi = mid
    return tokens[lo - 1] if lo > 0 else None


def _syntax_error(exc: UnexpectedInput, pre: Preprocessed, parser: Lark, tokens: list[Token]) -> Diagnostic:
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok: Token = exc.token
        span = _token_span(pre, tok)
        accepts = set(exc.accepts or exc.expected)
        prev = _previous_token(tokens, tok)
        shown = tok.value if len(tok.value) <= 30 else tok.value[:27] + "..."
        what = {"TYPE_IDENTIFIER": "type name", "IDENTIFIER": "name", "INTEGER": "integer",
                "STRING_LITERAL": "string", "ANNOTATION": "annotation"}.get(tok.type, "")
        message = f"syntax error: unexpected {what + ' ' if what else ''}'{shown}'"
        special = None if _expects_a_name(prev) else _misplaced_keyword(tok, accepts)
        if special is not None:
            return Diagnostic("error", special[0], span, special[1])
        if "SEMICOLON" in accepts and prev is not None and (prev.end_line or prev.line) < tok.line \
                and prev.value not in (";", "{", "}") and prev.type != "ANNOTATION":
            # Most likely a ';' missing at the end of the previous line: point there.
            end_line = prev.end_line or prev.line
            end_col = prev.end_column or prev.column + len(prev.value)
            return Diagnostic("error", "syntax error: expected ';'", pre.span(end_line, end_col, end_line, end_col + 1),
                              f"the next line starts with '{shown}'")
        if tok.type == "IDENTIFIER" and prev is not None and prev.type == "IDENTIFIER" \
                and prev.line == tok.line:
            return Diagnostic("error", f"unknown type '{prev.value}'", _token_span(pre, prev),
                              f"'{prev.value}' is not declared as a type (header, struct, typedef, ...) before this point")
        diag = Diagnostic("error", message, span, _hint_for(tok, accepts, parser))
        if "RBRACE" in accepts and tok.value in _DECLARATION_KEYWORDS:
            # A declaration keyword where a '}' could close the block: probably a missing '}'.
            opener = _unclosed_brace(tokens, tok)
            if opener is not None:
                diag.notes.append(Diagnostic("note", "the '{' opened here is not closed", _token_span(pre, opener)))
        return diag
    # Unexpected end of input: point just past the last token.
    last = tokens[-1] if tokens else None
    span = _end_span(pre, last)
    expected = sorted({_describe_terminal(t, parser) for t in (getattr(exc, "expected", None) or [])})
    hint = f"expected {_join(expected)}" if expected else None
    if "'}'" in expected:
        hint = "a '}' is missing"
    return Diagnostic("error", "syntax error: unexpected end of input", span, hint)


_DECLARATION_KEYWORDS = {"control", "parser", "header", "header_union", "struct", "extern", "typedef", "enum",
                         "error", "match_kind", "package", "const", "action", "type"}


def _unclosed_brace(tokens: list[Token], tok: Token) -> Token | None:
    stack: list[Token] = []
    for t in tokens:
        if t.start_pos >= tok.start_pos:
            break
        if t.value == "{":
            stack.append(t)
        elif t.value == "}" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _token_span(pre: Preprocessed, tok: Token) -> Span:
    return pre.span(tok.line, tok.column, tok.end_line or tok.line,
                    tok.end_column or tok.column + max(1, len(tok.value)))


def _end_span(pre: Preprocessed, last: Token | None) -> Span:
    if last is not None and last.type != "$END" and last.line:
        end_line = last.end_line or last.line
        end_col = last.end_column or last.column + len(last.value)
        return pre.span(end_line, end_col, end_line, end_col + 1)
    # Find the last non-blank line of the program.
    for idx in range(len(pre.origins), 0, -1):
        src, line = pre.origins[idx - 1]
        text = src.line_text(line)
        if text.strip():
            return Span(src, line, len(text) + 1, line, len(text) + 2)
    src = pre.files[0] if pre.files else None
    return Span(src, 1, 1, 1, 2)


def _join(items: list[str], limit: int = 8) -> str:
    if len(items) > limit:
        items = items[:limit] + ["..."]
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


_MISPLACED = {
    "action": "actions are declared among a control's local declarations, before 'apply'",
    "table": "tables are declared among a control's local declarations, before 'apply'",
    "transition": "transition statements belong in parser states",
    "state": "states are declared in parsers",
    "apply": "'apply' starts the body of a control; it comes after the control's local declarations",
}


def _expects_a_name(prev: Token | None) -> bool:
    """Whether the previous token ends a type or is a '.', so that a name must follow."""
    return prev is not None and (prev.type == "TYPE_IDENTIFIER" or prev.value in (">", ".", "bool", "error", "int")
                                 or prev.type == "DOT_PREFIX")


def _misplaced_keyword(tok: Token, accepts: set[str]):
    """A keyword that starts a construct in the wrong place: (message, hint) or None."""
    if tok.value in _MISPLACED and tok.type != "IDENTIFIER" and tok.type not in accepts:
        return f"syntax error: '{tok.value}' is not allowed here", _MISPLACED[tok.value]
    return None


def _hint_for(tok: Token, accepts: set[str], parser: Lark) -> str | None:
    if tok.value == "=" and "EQ_OP" in accepts:
        return "to compare, use '=='"
    if "RPAR" in accepts and tok.value in ("{", ";") and "SEMICOLON" not in accepts:
        return "a ')' is missing"
    if tok.type == "TYPE_IDENTIFIER" and "IDENTIFIER" in accepts:
        return f"'{tok.value}' names a type and cannot be used as a name here"
    if accepts >= {"INTEGER", "IDENTIFIER", "LPAR"}:
        return "expected an expression"
    if tok.type == "IDENTIFIER" and "TYPE_IDENTIFIER" in accepts and "IDENTIFIER" not in accepts:
        return f"'{tok.value}' is not a declared type"
    if tok.value.isidentifier() and tok.type not in ("IDENTIFIER", "TYPE_IDENTIFIER") and "IDENTIFIER" in accepts:
        return f"'{tok.value}' is a P4 keyword and cannot be used as a name"
    expected = sorted({_describe_terminal(t, parser) for t in accepts})
    if expected:
        return f"expected {_join(expected)}"
    return None

