"""Macro expansion over the token list, as the C preprocessor does it (and as cpp does it for P4).

The preprocessor records each ``#define`` and ``#undef`` with the line it applies from
(:class:`~dataplane.frontend.preprocess.MacroEvent`); the token pass of the lexer calls
:func:`expand_macros` on the program's tokens. The algorithm is Dave Prosser's, the one the C
standard describes: every token carries a *hide set*, the macros it must not expand again, so that

* a macro is not expanded inside its own expansion (``#define A B`` / ``#define B A`` stops);
* a function-like macro is only expanded when its name is followed by ``(``, which may come on a
  later line or after the end of another macro's expansion;
* arguments are expanded on their own before they are substituted, except next to ``#`` (which makes
  a string of the argument's spelling) and ``##`` (which pastes two tokens into one);
* ``...`` collects the remaining arguments, commas included, as ``__VA_ARGS__``.

Every token that comes out of an expansion is placed at the macro's use (from its name to the ``)``
that ends its arguments), so that a diagnostic points at the use. Expansion is bounded as the rest of
the lexer is: at most MAX_TOKENS tokens in the program, a budget of substitution work (macros that
each use the next twice double the work at every level), and nesting of macro uses in arguments.
"""

from __future__ import annotations

from typing import Callable

from lark import Token

from ..diagnostics import DiagnosticError
from .preprocess import MacroEvent

# Substituted tokens, in all expansions, for each token the program may have (MAX_TOKENS, given by the
# lexer): arguments are expanded before substitution and rescanned after, so some work is done twice.
WORK_PER_TOKEN = 4
# Macro uses in an argument of a macro use in an argument of ...: each level expands its arguments with
# a recursive call. Real programs nest two or three.
MAX_ARGUMENT_NESTING = 64

_EMPTY: frozenset = frozenset()
# Markers in a macro body for the operators `#` and `##`, which are not P4 tokens.
_HASH = "MACRO_HASH"
_PASTE = "MACRO_PASTE"
# The result of substituting an empty argument next to `##` (the standard's "placemarker").
_PLACEMARKER = (None, _EMPTY)

Item = tuple  # (Token, hide set) or _PLACEMARKER


def move_token(tok: Token, to: Token, type_: str | None = None, value: str | None = None) -> Token:
    """A copy of tok placed at the position of `to` (for macro expansion)."""
    cls = GluedToken if isinstance(tok, GluedToken) else Token
    return Token.__new__(cls, type_ or tok.type, tok.value if value is None else value, to.start_pos, to.line,
                         to.column, to.end_line, to.end_column, to.end_pos)


class GluedToken(Token):
    """A `>` that a macro's value writes right after another `>`: placed at the macro's use, both have
    the same position, so this says what the positions no longer can (that `>>` may be a shift)."""


class MacroExpander:
    """Expands the macros of one program. `lex` turns text into tokens (raising DiagnosticError when it
    cannot); `error` makes a DiagnosticError located at a token."""

    def __init__(self, toks: list[Token], events: list[MacroEvent], max_tokens: int,
                 lex: Callable[[str], list[Token]], error: Callable[..., DiagnosticError]):
        self.src = toks
        self.i = 0
        self.events = events
        self.ev = 0
        self.macros: dict[str, MacroEvent] = {}
        self.bodies: dict[str, list[Token]] = {}
        self.max_tokens = max_tokens
        self.work = max_tokens * WORK_PER_TOKEN
        self.lex = lex
        self.error = error
        self.outer: Token | None = None   # the source token whose expansion is going on

    def run(self) -> list[Token]:
        out: list = []
        self._scan([], True, 0, out)
        return out

    # -- the token stream ------------------------------------------------------------

    def _take_source(self) -> Token:
        tok = self.src[self.i]
        self.i += 1
        while self.ev < len(self.events) and self.events[self.ev].line < tok.line:
            e = self.events[self.ev]
            if e.value is None:
                self.macros.pop(e.name, None)
            else:
                self.macros[e.name] = e
            self.bodies.pop(e.name, None)
            self.ev += 1
        return tok

    def _next(self, pending: list, from_source: bool) -> Item | None:
        """The next token with its hide set: expanded tokens waiting to be rescanned come first."""
        if pending:
            return pending.pop()
        if from_source and self.i < len(self.src):
            return self._take_source(), _EMPTY
        return None

    def _peek(self, pending: list, from_source: bool) -> Token | None:
        if pending:
            return pending[-1][0]
        if from_source and self.i < len(self.src):
            return self.src[self.i]
        return None

    def _push(self, pending: list, items: list) -> None:
        """Put an expansion in front of the rest of the stream, to be scanned again."""
        self.work -= len(items) + 1
        if self.work < 0:
            raise self._too_long()
        pending.extend(reversed(items))

    def _too_long(self) -> DiagnosticError:
        return self.error(self.outer, f"macro expansion of '{self.outer.value}' makes the program longer "
                          f"than {self.max_tokens} tokens",
                          "does each macro name the next one several times? Every level multiplies the output")

    # -- scanning ----------------------------------------------------------------------

    def _scan(self, pending: list, from_source: bool, depth: int, out: list) -> None:
        """Expand the stream into `out`: tokens when reading the program, (token, hide set) items when
        expanding an argument (which is `pending`, alone)."""
        while True:
            if from_source and not pending:
                if self.i >= len(self.src):
                    return
                tok, hs = self._take_source(), _EMPTY
                self.outer = tok
            elif pending:
                tok, hs = pending.pop()
            else:
                return
            if (tok.type == "IDENTIFIER" and tok.value in self.macros and tok.value not in hs
                    and self._expand(tok, hs, pending, from_source, depth)):
                continue
            if from_source:
                out.append(tok)
                if len(out) > self.max_tokens:
                    raise self._too_long()
            else:
                out.append((tok, hs))

    def _expand(self, tok: Token, hs: frozenset, pending: list, from_source: bool, depth: int) -> bool:
        """Replace the use of a macro at `tok` by its expansion in front of `pending`; False if `tok`
        names a function-like macro but is not followed by '(' (then it is a plain name)."""
        macro = self.macros[tok.value]
        if macro.params is None:
            hidden = hs | {tok.value}
            self._push(pending, [(move_token(b, tok), h | hidden if h else hidden)
                                 for b, h in self._substitute(macro, [], tok, depth)])
            return True
        nxt = self._peek(pending, from_source)
        if nxt is None or nxt.value != "(":
            return False
        self._next(pending, from_source)
        args, rparen, rparen_hs = self._arguments(tok, macro, pending, from_source)
        use = Token(tok.type, tok.value, tok.start_pos, tok.line, tok.column, rparen.end_line,
                    rparen.end_column, rparen.end_pos)
        # As in the standard: what both the name and the ')' were hidden from, and the macro itself.
        hidden = (hs & rparen_hs) | {tok.value}
        self._push(pending, [(move_token(t, use), h | hidden if h else hidden)
                             for t, h in self._substitute(macro, args, use, depth)])
        return True

    def _arguments(self, tok: Token, macro: MacroEvent, pending: list, from_source: bool):
        """The arguments of the use at `tok` (its '(' taken), split at top-level commas, and the ')'
        that ends them with its hide set."""
        args: list[list] = [[]]
        nesting = 0
        params = macro.params
        while True:
            item = self._next(pending, from_source)
            if item is None:
                raise self.error(tok, f"unterminated argument list of macro '{tok.value}'",
                                 "the arguments must end with ')'")
            t = item[0]
            if t.value == "(":
                nesting += 1
            elif t.value == ")":
                if nesting == 0:
                    break
                nesting -= 1
            elif (t.value == "," and nesting == 0
                  and not (macro.variadic and len(args) == len(params))):
                args.append([])
                continue
            args[-1].append(item)
        if not params and args == [[]]:
            args = []
        elif macro.variadic and len(args) == len(params) - 1:
            args.append([])       # `...` may take no argument at all
        if len(args) != len(params) and not (macro.variadic and len(args) >= len(params)):
            expected = f"at least {len(params) - 1}" if macro.variadic else str(len(params))
            given = len(args)
            raise self.error(Token(tok.type, tok.value, tok.start_pos, tok.line, tok.column, t.end_line,
                                   t.end_column, t.end_pos),
                             f"macro '{tok.value}' takes {expected} argument{'' if expected == '1' else 's'}, "
                             f"but {given} {'was' if given == 1 else 'were'} given",
                             "commas inside parentheses do not separate arguments" if given > len(params)
                             else None)
        return args, t, item[1]

    def _expand_argument(self, arg: list, use: Token, depth: int) -> list:
        if depth >= MAX_ARGUMENT_NESTING:
            raise self.error(self.outer, f"macro uses nested too deeply in arguments (more than "
                             f"{MAX_ARGUMENT_NESTING} levels)")
        out: list = []
        self._scan(list(reversed(arg)), False, depth + 1, out)
        return out

    # -- substitution ------------------------------------------------------------------

    def _body(self, macro: MacroEvent, use: Token) -> list[Token]:
        if macro.name not in self.bodies:
            self.bodies[macro.name] = self._lex_body(macro, use)
        return self.bodies[macro.name]

    def _lex_body(self, macro: MacroEvent, use: Token) -> list[Token]:
        toks: list[Token] = []
        for part in _split_hashes(macro.value):
            if part in ("#", "##"):
                toks.append(Token(_HASH if part == "#" else _PASTE, part))
                continue
            try:
                toks.extend(self.lex(part))
            except DiagnosticError:
                raise self.error(use, f"cannot expand macro '{macro.name}': its value is not P4 tokens") from None
        if toks and (toks[0].type == _PASTE or toks[-1].type == _PASTE):
            raise self.error(use, f"cannot expand macro '{macro.name}': '##' cannot start or end its value")
        return toks

    def _substitute(self, macro: MacroEvent, args: list[list], use: Token, depth: int) -> list:
        """The body of `macro` with its parameters replaced by the arguments."""
        body = self._body(macro, use)
        index = {p: k for k, p in enumerate(macro.params or ())}
        expanded: dict[int, list] = {}
        out: list = []
        j = 0
        while j < len(body):
            t = body[j]
            nxt = body[j + 1] if j + 1 < len(body) else None
            if t.type == _HASH:
                if nxt is None or nxt.type != "IDENTIFIER" or nxt.value not in index:
                    raise self.error(use, f"cannot expand macro '{macro.name}': '#' must be followed by a "
                                     "parameter name")
                out.append((self._stringize(args[index[nxt.value]], use), _EMPTY))
                j += 2
            elif t.type == _PASTE:
                self._paste(out, self._operand(nxt, index, args), macro, use)
                j += 2
            elif t.type == "IDENTIFIER" and t.value in index:
                k = index[t.value]
                if nxt is not None and nxt.type == _PASTE:
                    out.extend(args[k] or [_PLACEMARKER])     # pasted: the argument as written
                else:
                    if k not in expanded:
                        expanded[k] = self._expand_argument(args[k], use, depth)
                    out.extend(expanded[k])
                if len(out) > self.work:
                    raise self._too_long()      # before the list holds it all: a long argument used often
                j += 1
            else:
                prev = body[j - 1] if j else None
                if t.value == ">" and prev is not None and prev.value == ">" and prev.end_pos == t.start_pos:
                    t = Token.__new__(GluedToken, t.type, t.value, t.start_pos, t.line, t.column, t.end_line,
                                      t.end_column, t.end_pos)
                out.append((t, _EMPTY))
                j += 1
        return [item for item in out if item is not _PLACEMARKER]

    @staticmethod
    def _operand(t: Token, index: dict, args: list[list]) -> list:
        """The right operand of `##`: an argument as written, or one token of the body."""
        if t.type == "IDENTIFIER" and t.value in index:
            return args[index[t.value]] or [_PLACEMARKER]
        return [(t, _EMPTY)]

    def _paste(self, out: list, right: list, macro: MacroEvent, use: Token) -> None:
        left = out.pop()
        if left is _PLACEMARKER:
            out.extend(right)
            return
        if right[0] is _PLACEMARKER:
            out.append(left)
            out.extend(right[1:])
            return
        text = left[0].value + right[0][0].value
        try:
            toks = self.lex(text)
        except DiagnosticError:
            toks = []
        if len(toks) != 1:
            raise self.error(use, f"cannot expand macro '{macro.name}': pasting '{left[0].value}' and "
                             f"'{right[0][0].value}' does not give one token")
        out.append((toks[0], _EMPTY))
        out.extend(right[1:])

    @staticmethod
    def _stringize(arg: list, use: Token) -> Token:
        """`#param`: a string literal spelling the argument as written, one space where it had space."""
        parts: list[str] = []
        prev: Token | None = None
        for t, _ in arg:
            if prev is not None and t.start_pos != prev.end_pos:
                parts.append(" ")
            value = t.value
            if t.type == "STRING_LITERAL":
                value = value.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(value)
            prev = t
        return move_token(Token("STRING_LITERAL", ""), use, value='"' + "".join(parts) + '"')


def _split_hashes(text: str) -> list[str]:
    """A macro body cut at the `#` and `##` outside string literals: text, "#" and "##" in order."""
    parts: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "#":
            parts.append(text[start:i])
            op = "##" if text.startswith("##", i) else "#"
            parts.append(op)
            i += len(op)
            start = i
        else:
            i += 1
    parts.append(text[start:])
    return [p for p in parts if p]
