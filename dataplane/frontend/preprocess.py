"""A C-style preprocessor for P4 sources, enough for real v1model programs.

Supported: ``#include <file>`` and ``#include "file"`` (quoted names are looked
up next to the including file first, then in ``-I`` directories, then in our
own architecture include directory), object-like ``#define NAME value``,
function-like ``#define NAME(a, b, ...) value`` and ``#undef``,
``#ifdef``/``#ifndef``/``#if``/``#elif``/``#else``/``#endif`` with integer
expressions (C's 64-bit arithmetic) and ``defined(NAME)``, ``#error`` and
``#warning``. Programs are bounded: include depth, lines in all, and the depth
and work of ``#if`` expressions.
Function-like macros cannot be used in ``#if`` expressions (``defined`` works).

The output is one text in which every directive line (and every line skipped
by a conditional) is blank, so that lines of the output map one-to-one onto
lines of the input files. Macros are *not* substituted in the text: the
lexer expands them token by token (see :mod:`dataplane.frontend.lexer`), so
columns in diagnostics stay exact.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterator

from ..diagnostics import DiagnosticBag, DiagnosticError, SourceFile, Span, error
from ..inputs import open_regular_file, read_limited, whole_file

MAX_INCLUDE_DEPTH = 40
# The most lines a program may have once its #includes are in, counted as they are emitted. Files that
# each include the next one 50 times make 50^5 copies of the last; and each line costs a line-table entry
# (some 70 bytes) and some microseconds, so even one 64 MiB file of newlines would take gigabytes. Real
# programs, with core.p4 and v1model.p4, have some thousands of lines; the token limit of the lexer
# (MAX_TOKENS) comes long before this for any program that is not mostly comments and blank lines.
MAX_PROGRAM_LINES = 250_000


def system_include_dir() -> str:
    """The directory that holds our core.p4, v1model.p4 and friends."""
    return str(resources.files("dataplane.p4include"))


@dataclass
class MacroEvent:
    """A #define (value is the replacement text) or #undef (value is None)."""

    line: int            # 1-based output line of the directive; applies to later lines
    name: str
    value: str | None
    span: Span
    # A function-like macro's parameters (a variadic one last, named __VA_ARGS__ for `...`); None for
    # an object-like macro.
    params: tuple[str, ...] | None = None
    variadic: bool = False


@dataclass
class Preprocessed:
    text: str
    origins: list[tuple[SourceFile, int]]   # output line (0-based index) -> (file, line)
    macro_events: list[MacroEvent] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def locate(self, line: int) -> tuple[SourceFile, int]:
        """Map a 1-based output line to its file and line."""
        if 1 <= line <= len(self.origins):
            return self.origins[line - 1]
        if self.origins:
            src, last = self.origins[-1]
            return src, last
        return self.files[0] if self.files else SourceFile("<empty>", ""), 1

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        src, src_line = self.locate(line)
        if end_line != line:
            end_src, end_src_line = self.locate(end_line)
            if end_src is not src:
                return Span(src, src_line, col, src_line, col + 1)
            return Span(src, src_line, col, end_src_line, end_col)
        return Span(src, src_line, col, src_line, end_col)


_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z_]\w*)?(.*)$")
_DIRECTIVE_REST = re.compile(r"\s*#\s*[A-Za-z_]?\w*(.*)$", re.S)
_IDENT = re.compile(r"[A-Za-z_]\w*")


MAX_TEXT_BYTES = 64 << 20     # far beyond any real program or configuration; keeps memory bounded

# The open recording_reads() blocks: each a dict that read_source adds every file it reads to.
_recorders: list[dict[str, str]] = []


@contextlib.contextmanager
def recording_reads() -> Iterator[dict[str, str]]:
    """Every file read_source reads in this block, as {absolute path: text}: the topology files, programs and
    their includes, runtime JSON and entries files that a run needs, for shipping them to a worker that does
    not share this file system (dataplane sweep, replay --shards)."""
    seen: dict[str, str] = {}
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)


def replay_reads(files: dict[str, str]) -> None:
    """Report files read earlier (a cached compilation's) to the recording_reads blocks open now."""
    for seen in _recorders:
        seen.update(files)


def read_source(path: str, span: Span | None = None, kind: str = "P4 sources") -> SourceFile:
    """Read a source file as UTF-8 text, reporting unreadable files as user errors; `kind` names the files
    in the hint ("P4 sources", "topology files"). Only regular files of at most MAX_TEXT_BYTES are read."""
    with open_regular_file(path, span) as f:
        try:
            data = read_limited(f, MAX_TEXT_BYTES)
        except OSError as exc:
            raise error(f"cannot read '{path}': {exc.strerror or exc}", span) from None
    if len(data) > MAX_TEXT_BYTES:
        raise error(f"the file is larger than {MAX_TEXT_BYTES >> 20} MiB, the limit for {kind}",
                    span or whole_file(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        src = SourceFile(path, data[: exc.start].decode("utf-8", "replace"))
        line = src.line_count
        col = len(src.line_text(line)) + 1
        raise error(f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                    Span(src, line, col, line, col + 1),
                    hint=f"{kind} must be text files")
    if text.startswith("\ufeff"):
        text = text[1:]
    for seen in _recorders:
        seen[os.path.abspath(path)] = text
    return SourceFile(path, text)


class Preprocessor:
    def __init__(self, include_dirs: list[str] | None = None, defines: dict[str, str] | None = None):
        self.include_dirs = [os.path.normpath(d) for d in (include_dirs or [])]
        self.system_dir = system_include_dir()
        self.macros: dict[str, str | None] = {}     # name -> value; None for a function-like macro
        self.out_lines: list[str] = []
        self.origins: list[tuple[SourceFile, int]] = []
        self.events: list[MacroEvent] = []
        self.files: list[SourceFile] = []
        self.diags = DiagnosticBag()
        self._cache: dict[str, SourceFile] = {}
        self._resolved: dict[tuple, str | None] = {}
        self._realpaths: dict[str, str] = {}
        self._including: list[Span] = []      # the #include directives being processed, innermost last
        for name, value in (defines or {}).items():
            self._define(name, value, None)

    # -- public ---------------------------------------------------------------

    def run(self, source: SourceFile) -> Preprocessed:
        self._process(source, depth=0)
        self.diags.raise_if_errors()
        return Preprocessed("\n".join(self.out_lines) + "\n", self.origins, self.events, self.files,
                            self.diags.warnings())

    # -- helpers --------------------------------------------------------------

    def _define(self, name: str, value: str | None, span: Span | None,
                params: tuple[str, ...] | None = None, variadic: bool = False) -> None:
        # The directive's own (1-based) output line, already emitted: the macro applies after it.
        line = len(self.out_lines)
        if value is None:
            self.macros.pop(name, None)
        else:
            self.macros[name] = value if params is None else None
        self.events.append(MacroEvent(line, name, value, span, params, variadic))

    def _define_directive(self, rest: str, span: Span) -> None:
        m = re.match(r"([A-Za-z_]\w*)(\()?\s*(.*)$", rest, re.S)
        if not m:
            self.diags.error("#define needs a macro name", span)
            return
        name, body = m.group(1), m.group(3)
        if not m.group(2):
            self._define(name, body.strip(), span)
            return
        # A '(' right after the name (no space between) makes a function-like macro.
        close = body.find(")")
        if close < 0:
            self.diags.error(f"missing ')' in the parameter list of macro '{name}'", span)
            return
        try:
            params, variadic = _macro_parameters(body[:close])
        except ValueError as exc:
            self.diags.error(f"invalid parameter list of macro '{name}': {exc}", span)
            return
        self._define(name, body[close + 1:].strip(), span, params, variadic)

    def _emit(self, text: str, src: SourceFile, line: int) -> None:
        if len(self.out_lines) >= MAX_PROGRAM_LINES:
            self._raise_too_long(Span(src, line, 1, line, 2))
        self.out_lines.append(text)
        self.origins.append((src, line))

    def _raise_too_long(self, span: Span) -> None:
        # At the #include that brought the line in, if any: the line itself is innocent.
        raise error(f"the program is longer than {MAX_PROGRAM_LINES} lines (with the files it includes)",
                    self._including[-1] if self._including else span, "is a file included over and over?")

    def _resolve_include(self, name: str, quoted: bool, including: SourceFile) -> str | None:
        # Remembered: a file included over and over would otherwise cost system calls every time.
        key = (name, quoted, os.path.dirname(including.path))
        if key not in self._resolved:
            self._resolved[key] = self._search_include(name, quoted, including)
        return self._resolved[key]

    def _search_include(self, name: str, quoted: bool, including: SourceFile) -> str | None:
        candidates = []
        if quoted:
            # Relative to the including file, kept relative so that messages show short paths.
            candidates.append(os.path.normpath(os.path.join(os.path.dirname(including.path), name)))
        candidates.extend(os.path.join(d, name) for d in self.include_dirs)
        candidates.append(os.path.join(self.system_dir, name))
        for c in candidates:
            if os.path.isfile(c):
                return c
        return None

    def _load(self, path: str, span: Span) -> SourceFile:
        if path not in self._realpaths:
            self._realpaths[path] = os.path.realpath(path)
        key = self._realpaths[path]
        if key not in self._cache:
            self._cache[key] = read_source(path, span)
        return self._cache[key]

    # -- the line loop --------------------------------------------------------

    def _process(self, src: SourceFile, depth: int) -> None:
        self.files.append(src)
        room = MAX_PROGRAM_LINES - len(self.out_lines)
        if src.line_count > room:
            # Before splitting the text: a 64 MiB file of newlines would be a list of 64 million lines.
            self._raise_too_long(Span(src, room + 1, 1, room + 1, 2))
        lines = src.text.split("\n")
        # Each entry: [taking_now, some_branch_taken, seen_else, span_of_if]
        cond_stack: list[list] = []
        in_comment = False
        i = 0
        while i < len(lines):
            raw = lines[i]
            lineno = i + 1
            active = all(c[0] for c in cond_stack)
            starts_in_comment = in_comment
            in_comment = _ends_in_comment(raw, in_comment)
            m = None if starts_in_comment else _DIRECTIVE.match(raw)
            if m is None:
                self._emit(raw if active else "", src, lineno)
                i += 1
                continue
            # Join continuation lines of the directive.
            text = raw
            consumed = 1
            while text.endswith("\\") and i + consumed < len(lines):
                text = text[:-1] + " " + lines[i + consumed]
                consumed += 1
            name = m.group(1) or ""
            after = _DIRECTIVE_REST.match(text).group(1)
            rest = _strip_comments(after).strip()
            col = raw.index("#") + 1
            span = Span(src, lineno, col, lineno, col + 1 + len(name))
            for k in range(consumed):
                self._emit("", src, lineno + k)
            i += consumed
            self._directive(name, rest, span, src, depth, cond_stack, active)
        if cond_stack:
            self.diags.error("unterminated conditional directive", cond_stack[-1][3],
                             hint="add the missing #endif")

    def _directive(self, name, rest, span, src, depth, cond_stack, active) -> None:
        if name in ("if", "ifdef", "ifndef"):
            if not active:
                cond_stack.append([False, True, False, span])
                return
            if name == "ifdef":
                take = self._macro_name(rest, span) in self.macros
            elif name == "ifndef":
                take = self._macro_name(rest, span) not in self.macros
            else:
                take = self._evaluate(rest, span)
            cond_stack.append([take, take, False, span])
            return
        if name in ("elif", "else", "endif"):
            if not cond_stack:
                self.diags.error(f"#{name} without #if", span)
                return
            top = cond_stack[-1]
            if name == "endif":
                cond_stack.pop()
                return
            if top[2]:
                self.diags.error(f"#{name} after #else", span)
                return
            parent_active = all(c[0] for c in cond_stack[:-1])
            if name == "else":
                top[2] = True
                top[0] = parent_active and not top[1]
            else:
                take = (parent_active and not top[1]) and self._evaluate(rest, span)
                top[0] = take
            top[1] = top[1] or top[0]
            return
        if not active:
            return
        if name == "include":
            self._include(rest, span, src, depth)
        elif name == "define":
            self._define_directive(rest, span)
        elif name == "undef":
            self._define(self._macro_name(rest, span), None, span)
        elif name == "error":
            self.diags.error(f"#error {rest}".strip(), span)
        elif name == "warning":
            self.diags.warning(f"#warning {rest}".strip(), span)
        elif name in ("pragma", "line", ""):
            pass
        else:
            self.diags.error(f"unknown preprocessor directive '#{name}'", span)

    def _macro_name(self, rest: str, span: Span) -> str:
        m = _IDENT.match(rest)
        if not m:
            self.diags.error("expected a macro name", span)
            return ""
        return m.group(0)

    def _include(self, rest: str, span: Span, src: SourceFile, depth: int) -> None:
        m = re.match(r'^(?:<([^>]+)>|"([^"]+)")', rest)
        if not m:
            self.diags.error("#include expects <file> or \"file\"", span)
            return
        fname = m.group(1) or m.group(2)
        quoted = m.group(2) is not None
        path = self._resolve_include(fname, quoted, src)
        if path is None:
            where = ", ".join(self.include_dirs + [self.system_dir])
            self.diags.error(f"cannot find include file '{fname}'", span,
                             hint=f"searched {'next to ' + src.path + ', ' if quoted else ''}{where}; add -I DIR")
            return
        if depth >= MAX_INCLUDE_DEPTH:
            self.diags.error(f"#include nested too deeply (more than {MAX_INCLUDE_DEPTH} levels)", span,
                             hint="is a file including itself without an include guard?")
            return
        try:
            included = self._load(path, span)
        except DiagnosticError as exc:
            self.diags.extend(exc.diagnostics)
            return
        self._including.append(span)
        try:
            self._process(included, depth + 1)
        finally:
            self._including.pop()

    # -- #if expressions ---------------------------------------------------

    def _evaluate(self, expr: str, span: Span) -> bool:
        try:
            return bool(_CondParser(expr, self.macros).parse())
        except _CondError as exc:
            self.diags.error(f"cannot evaluate #if expression: {exc}", span)
            return False


def _macro_parameters(text: str) -> tuple[tuple[str, ...], bool]:
    """The parameters between the parentheses of `#define F(...)`, and whether the last is variadic
    (`...`, named __VA_ARGS__, or GNU's `name...`). Raises ValueError saying what is wrong."""
    if not text.strip():
        return (), False
    params: list[str] = []
    items = [item.strip() for item in text.split(",")]
    for k, item in enumerate(items):
        variadic = item.endswith("...")
        param = (item[:-3].strip() or "__VA_ARGS__") if variadic else item
        if variadic and k != len(items) - 1:
            raise ValueError("'...' must be the last parameter")
        if not _IDENT.fullmatch(param):
            raise ValueError(f"'{item[:20]}' is not a parameter name" if item else "a parameter name is missing")
        if param in params:
            raise ValueError(f"parameter '{param}' appears twice")
        params.append(param)
        if variadic:
            return tuple(params), True
    return tuple(params), False


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text)
    pos = text.find("//")
    return text[:pos] if pos >= 0 else text


def _ends_in_comment(line: str, in_comment: bool) -> bool:
    """Whether a block comment is still open at the end of the line."""
    if not in_comment and "/" not in line:
        return False        # most lines: nothing can open a comment (and the loop below is slow)
    i, n = 0, len(line)
    while i < n:
        if in_comment:
            j = line.find("*/", i)
            if j < 0:
                return True
            in_comment = False
            i = j + 2
            continue
        c = line[i]
        if c == '"':
            j = i + 1
            while j < n and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
        elif line.startswith("//", i):
            return False
        elif line.startswith("/*", i):
            in_comment = True
            i += 2
        else:
            i += 1
    return in_comment


class _CondError(Exception):
    pass


_COND_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|([A-Za-z_]\w*)|(&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%<>!()~&|^]))")

# #if arithmetic is C's: 64-bit integers (intmax_t), wrapping, so that no expression can build a huge
# number. The evaluator recurses, about a dozen frames for each parenthesis, unary operator or macro
# it goes into; MAX_IF_NESTING keeps that far from the end of Python's stack. Macros that name others
# twice double the work at every level; MAX_IF_EXPANSIONS bounds it.
MAX_IF_NESTING = 40
MAX_IF_EXPANSIONS = 10_000


def _wrap64(v: int) -> int:
    return ((v + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)


def _cond_number(text: str) -> int:
    """The value of a C integer constant (decimal, 0x hex or 0 octal) of at most 64 bits."""
    if len(text.lstrip("0")) > 23:      # the longest 64-bit constant has 22 octal digits (and a leading 0)
        raise _CondError(f"integer constant '{text[:20]}...' is too large")
    try:
        v = int(text, 16) if text[:2].lower() == "0x" else int(text, 8) if text[0] == "0" else int(text)
    except ValueError:
        raise _CondError(f"invalid integer constant '{text}'") from None
    if v >= 1 << 64:
        raise _CondError(f"integer constant '{text}' is too large")
    return _wrap64(v)


class _CondBudget:
    """What one #if may still spend: macro expansions, shared by the nested evaluators of its macros."""

    def __init__(self):
        self.expansions = MAX_IF_EXPANSIONS


class _CondParser:
    """Recursive-descent evaluator for #if expressions (C precedence)."""

    _BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
               ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def __init__(self, text: str, macros: dict[str, str | None], depth: int = 0, budget: _CondBudget | None = None,
                 expanding: frozenset = frozenset()):
        self.macros = macros
        self.depth = depth        # parentheses, unary operators and macros around this point
        self.expanding = expanding      # the macros being expanded: as in C, not expanded again inside
        self.budget = budget or _CondBudget()
        self.tokens: list[tuple[str, object]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _COND_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise _CondError(f"unexpected '{text[pos:].strip()[:10]}'")
            if m.group(1):
                self.tokens.append(("num", _cond_number(m.group(1))))
            elif m.group(2):
                self.tokens.append(("id", m.group(2)))
            else:
                self.tokens.append(("op", m.group(3)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def parse(self) -> int:
        if not self.tokens:
            raise _CondError("empty expression")
        v = self._binary(0)
        if self.i != len(self.tokens):
            raise _CondError(f"unexpected '{self.tokens[self.i][1]}'")
        return v

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", None)

    def _binary(self, level: int) -> int:
        if level == len(self._BINARY):
            return self._unary()
        left = self._binary(level + 1)
        while self._peek()[0] == "op" and self._peek()[1] in self._BINARY[level]:
            op = self.tokens[self.i][1]
            self.i += 1
            right = self._binary(level + 1)
            left = _apply(op, left, right)
        return left

    def _deeper(self):
        """Enter a parenthesis, unary operator or macro (undone by the caller's finally)."""
        self.depth += 1
        if self.depth > MAX_IF_NESTING:
            raise _CondError(f"nested too deeply (more than {MAX_IF_NESTING} levels of parentheses, unary "
                             "operators and macros)")

    def _unary(self) -> int:
        kind, val = self._peek()
        if kind == "op" and val in ("!", "-", "+", "~", "("):
            self.i += 1
            self._deeper()
            try:
                if val == "(":
                    v = self._binary(0)
                    if self._peek() != ("op", ")"):
                        raise _CondError("missing ')'")
                    self.i += 1
                    return v
                v = self._unary()
            finally:
                self.depth -= 1
            return {"!": lambda x: int(not x), "-": lambda x: _wrap64(-x), "+": lambda x: x,
                    "~": lambda x: ~x}[val](v)
        if kind == "num":
            self.i += 1
            return val
        if kind == "id":
            self.i += 1
            if val == "defined":
                paren = self._peek() == ("op", "(")
                if paren:
                    self.i += 1
                k, name = self._peek()
                if k != "id":
                    raise _CondError("defined needs a macro name")
                self.i += 1
                if paren:
                    if self._peek() != ("op", ")"):
                        raise _CondError("missing ')'")
                    self.i += 1
                return int(name in self.macros)
            if val in self.macros and val not in self.expanding:
                if self.macros[val] is None:
                    raise _CondError(f"function-like macro '{val}' cannot be used in #if")
                return self._expand(val)
            return 0  # as in C: an unknown identifier is 0 (and so is a macro inside its own expansion)
        raise _CondError("unexpected end of expression" if kind == "eof" else f"unexpected '{val}'")

    def _expand(self, name: str) -> int:
        """The value of macro `name`, evaluated as an expression of its own."""
        self.budget.expansions -= 1
        if self.budget.expansions < 0:
            raise _CondError(f"expands more than {MAX_IF_EXPANSIONS} macros")
        body = self.macros[name].strip()
        if not body:
            return 0
        self._deeper()
        try:
            return _CondParser(body, self.macros, self.depth, self.budget, self.expanding | {name}).parse()
        finally:
            self.depth -= 1


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%") and b == 0:
        raise _CondError("division by zero")
    if op in ("<<", ">>") and not 0 <= b < 64:
        raise _CondError(f"shift count {b} is out of range (0 to 63)")
    return _wrap64({
        "||": lambda: int(bool(a) or bool(b)), "&&": lambda: int(bool(a) and bool(b)),
        "|": lambda: a | b, "^": lambda: a ^ b, "&": lambda: a & b,
        "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
        ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        "<<": lambda: a << b, ">>": lambda: a >> b, "+": lambda: a + b, "-": lambda: a - b,
        "*": lambda: a * b, "/": lambda: _c_quotient(a, b), "%": lambda: a - b * _c_quotient(a, b),
    }[op]())


def _c_quotient(a: int, b: int) -> int:
    """Integer division rounding toward zero, as in C (Python's // rounds down; int(a / b) goes through
    a float, inexact beyond 2^53)."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def preprocess(source: SourceFile, include_dirs: list[str] | None = None,
               defines: dict[str, str] | None = None) -> Preprocessed:
    return Preprocessor(include_dirs, defines).run(source)
