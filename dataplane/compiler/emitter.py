"""A tiny emitter of Python source code.

The code generator appends lines; ``indent()`` is a context manager for
nested blocks; ``fresh()`` makes unique local names. The result is compiled
with ``compile(source, filename, "exec")``; with DATAPLANE_DUMP=DIR the source
is also written to DIR/filename so that tracebacks and debuggers show real
lines.

User text (names from @name annotations, string literals, file paths) may
reach the generated code only through ``repr()``, never raw: a raw newline
would let a file name or an annotation start a line of its own code. So
``line()`` refuses any text with a line break or NUL; such text can only come
from a bug in the code generator, which must fail loudly rather than emit
something else than it meant.
"""

from __future__ import annotations

import contextlib
import re

# What Python (and str.splitlines, which tracebacks rely on) can take for the end of a line, and NUL,
# which compile() rejects: repr() escapes all of them, so none may appear in a generated line.
_FORBIDDEN = re.compile("[\n\r\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def checked_line(text: str) -> str:
    """text, if it can be one line of generated source (else an internal error)."""
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        raise AssertionError(f"internal error: generated line contains {bad.group()!r} "
                             f"(user text must be emitted through repr()): {text!r}")
    return text


def identifier_part(hint: str) -> str:
    """hint reduced to ASCII letters, digits and '_' (\\w would let through non-ASCII letters and
    digits, some of which are not valid in Python identifiers)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", hint)


class Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0
        self._counter = 0

    def line(self, text: str = "") -> None:
        checked_line(text)
        self.lines.append(("    " * self.level + text) if text else "")

    def insert(self, mark: int, texts) -> None:
        """Insert lines (at the current indentation) at a position taken with mark()."""
        self.lines[mark:mark] = ["    " * self.level + checked_line(t) for t in texts]

    def lines_(self, texts) -> None:
        for t in texts:
            self.line(t)

    @contextlib.contextmanager
    def indent(self, header: str | None = None):
        """Emit `header` (e.g. "if x:") and indent the lines emitted inside the block.

        An empty block gets a `pass` so that the result is always valid Python."""
        if header is not None:
            self.line(header)
        self.level += 1
        start = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == start:
                self.line("pass")
            self.level -= 1

    def fresh(self, hint: str = "t") -> str:
        self._counter += 1
        hint = identifier_part(hint)[:24] or "t"
        if hint[0].isdigit():
            hint = "t" + hint
        return f"{hint}_{self._counter}"

    def mark(self) -> int:
        return len(self.lines)

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"
