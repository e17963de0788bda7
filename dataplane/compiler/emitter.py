"""A tiny emitter of Python source code.

The code generator appends lines; ``indent()`` is a context manager for
nested blocks; ``fresh()`` makes unique local names. The result is compiled
with ``compile(source, filename, "exec")``; with DATAPLANE_DUMP=DIR the source
is also written to DIR/filename so that tracebacks and debuggers show real
lines.
"""

from __future__ import annotations

import contextlib
import re


class Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0
        self._counter = 0

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.level + text) if text else "")

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
        hint = re.sub(r"\W", "_", hint)[:24] or "t"
        return f"{hint}_{self._counter}"

    def mark(self) -> int:
        return len(self.lines)

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"
