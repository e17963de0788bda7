"""Diagnostics for user errors: source files, spans, and compiler-style messages.

Every user-facing error in dataplane (a bad P4 program, topology, STF file,
runtime JSON) is reported the same way::

    path:line:col: error: message
        the offending source line
        ^~~~~
    hint: what to do about it

Code that finds a problem builds a :class:`Diagnostic` with a :class:`Span`
and either collects it in a :class:`DiagnosticBag` (so that several can be
reported at once) or raises :class:`DiagnosticError`. The command line turns
a ``DiagnosticError`` into printed messages and exit status 1; no traceback
ever reaches the user for an error in their input.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field
from typing import Iterable, Iterator


# Above this many characters the line table is found with numpy: a Python loop over 60 million
# newlines takes most of a minute, numpy a second. Below it the loop is faster than importing numpy.
_VECTOR_THRESHOLD = 1 << 20


def _line_starts(text: str) -> array:
    """The offset of the first character of every line, as an array of machine integers (8 bytes a
    line instead of about 36 for a list of Python ints)."""
    starts = array("q", [0])
    if len(text) < _VECTOR_THRESHOLD:
        find = text.find
        pos = find("\n")
        while pos >= 0:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        return starts
    import numpy as np
    # Offsets are in characters: ASCII text is one byte a character, any other text four in UTF-32.
    if text.isascii():
        chars = np.frombuffer(text.encode("ascii"), np.uint8)
    else:
        chars = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    newlines = np.flatnonzero(chars == 10)
    del chars
    starts.frombytes((newlines + 1).astype(np.int64).tobytes())
    return starts


class SourceFile:
    """The text of one input file, with fast line lookup."""

    __slots__ = ("path", "text", "_line_starts")

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self._line_starts = _line_starts(text)

    def __repr__(self) -> str:
        return f"SourceFile({self.path!r})"

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        if end < 0:
            end = len(self.text)
        return self.text[start:end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, line: int, col: int = 1, end_line: int | None = None, end_col: int | None = None) -> "Span":
        return Span(self, line, col, end_line if end_line is not None else line,
                    end_col if end_col is not None else col + 1)

    def span_at_offset(self, start: int, end: int | None = None) -> "Span":
        line, col = self.position(start)
        if end is None or end <= start:
            return Span(self, line, col, line, col + 1)
        end_line, end_col = self.position(end)
        return Span(self, line, col, end_line, end_col)


@dataclass(frozen=True, eq=False)
class Span:
    """A region of a source file: 1-based line and column; end is exclusive."""

    source: SourceFile | None
    line: int
    col: int
    end_line: int
    end_col: int

    @property
    def path(self) -> str:
        return self.source.path if self.source is not None else "<unknown>"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def __repr__(self) -> str:
        return f"Span({self})"

    def to(self, other: "Span | None") -> "Span":
        """The span from the start of self to the end of other (same file)."""
        if other is None or other.source is not self.source:
            return self
        if (other.end_line, other.end_col) < (self.end_line, self.end_col):
            return self
        return Span(self.source, self.line, self.col, other.end_line, other.end_col)


NO_SPAN = Span(None, 0, 0, 0, 0)


@dataclass
class Diagnostic:
    severity: str          # "error", "warning" or "note"
    message: str
    span: Span | None = None
    hint: str | None = None
    notes: list["Diagnostic"] = field(default_factory=list)

    def render(self) -> str:
        lines = []
        if self.span is not None and self.span.source is not None:
            lines.append(f"{self.span}: {self.severity}: {self.message}")
            lines.extend(_excerpt(self.span))
        elif self.span is not None and self.span.line:
            lines.append(f"{self.span}: {self.severity}: {self.message}")
        else:
            lines.append(f"{self.severity}: {self.message}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        for note in self.notes:
            lines.append(note.render())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


EXCERPT_WIDTH = 160      # characters of a source line shown under a diagnostic


def _excerpt(span: Span) -> list[str]:
    """The source line of a span with a caret under its start and tildes under the rest."""
    text = span.source.line_text(span.line)
    if not text.strip():
        return []
    col, end_col = span.col, span.end_col
    if len(text) > EXCERPT_WIDTH:
        # A line of a minified or hostile file may be megabytes long: show a window around the caret.
        start = max(0, min(col - 1 - EXCERPT_WIDTH // 3, len(text) - EXCERPT_WIDTH))
        text = ("..." if start else "") + text[start:start + EXCERPT_WIDTH] + \
            ("..." if start + EXCERPT_WIDTH < len(text) else "")
        shift = start - (3 if start else 0)
        col, end_col = col - shift, end_col - shift
        span = Span(span.source, span.line, col, span.end_line, end_col)
    # Control characters would garble the terminal; show them as '?' (one column each).
    text = "".join(c if c.isprintable() or c == "\t" else "?" for c in text)
    # Tabs are expanded so that the caret lines up in any terminal.
    prefix = text[: span.col - 1].expandtabs(4)
    shown = text.expandtabs(4)
    if span.end_line == span.line:
        width = max(1, span.end_col - span.col)
    else:
        width = max(1, len(text) - (span.col - 1))
    width = min(width, max(1, len(shown) - len(prefix)))
    marker = " " * len(prefix) + "^" + "~" * (width - 1)
    return ["    " + shown, "    " + marker]


class DiagnosticError(Exception):
    """Raised to abandon work on an input that has errors; carries what was found."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


def error(message: str, span: Span | None = None, hint: str | None = None) -> DiagnosticError:
    """Shorthand: ``raise error("bad thing", span)``."""
    return DiagnosticError(Diagnostic("error", message, span, hint))


class DiagnosticBag:
    """Collects diagnostics from a pass so that all of them can be reported."""

    def __init__(self, max_errors: int = 100):
        self.items: list[Diagnostic] = []
        self.max_errors = max_errors
        self._seen: set[tuple] = set()

    def _add(self, diag: Diagnostic) -> None:
        span = diag.span
        key = (diag.severity, diag.message, span.path if span else None,
               span.line if span else None, span.col if span else None)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(diag)
        if self.error_count >= self.max_errors:
            raise DiagnosticError(self.items)

    def error(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        self._add(Diagnostic("error", message, span, hint))

    def warning(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        self._add(Diagnostic("warning", message, span, hint))

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            self._add(d)

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.items if d.severity == "error")

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise DiagnosticError(self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
