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

# Limits of Python's compiler that generated code must stay within (each with a margin), and a size limit.
# Deeply nested P4 (if in if in if..., long else-if chains, inlined actions that return early) becomes
# deeply nested Python; past these limits compile() would fail, so they are user errors instead, located by
# the code generator at the statement being compiled (CodeLimitError).
MAX_INDENT = 90          # Python: at most 100 levels of indentation
MAX_BRACKETS = 150       # Python: at most 200 brackets open in one line
MAX_BLOCKS = 16          # Python: at most 20 nested loop, try and with blocks in a function
# Every call of an action, function or control is inlined, so code can grow exponentially with the
# source: actions that each call the next one twice, 30 deep, would be a billion lines. Compiling costs
# about 5 KB of memory and 75 us a line; p4c's largest sample needs 2,200 lines.
MAX_LINES = 100_000


NESTED_TOO_DEEPLY = ("this is nested too deeply for the dataplane compiler (together with the actions, functions "
                     "and controls it is inlined into)")


class CodeLimitError(Exception):
    """The generated code would pass one of the limits above; the message is for the user."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


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


def bracket_depth(text: str) -> int:
    """The deepest nesting of brackets in a line of generated code (outside string literals)."""
    if text.count("(") + text.count("[") + text.count("{") <= MAX_BRACKETS:
        return 0        # the common case, without a loop in Python: too few to pass the limit
    depth = deepest = 0
    quote = None
    escaped = False
    for ch in text:
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


# The nested blocks an indented block header opens, as Python's compiler counts them (an except clause
# holds two: the handler and its cleanup).
def _blocks_opened(header: str) -> int:
    if header.startswith(("while ", "for ", "with ", "try:")):
        return 1
    if header.startswith("except"):
        return 2
    return 0


# A write of one field into a header's bits held in a local, as layout.FieldScalar.write renders it:
# `if VALID: BITS = (BITS & KEEP) | VALUE` (VALUE: the field's value shifted into place, or several such
# values joined by " | " once writes are merged).
_FIELD_WRITE = re.compile(r"if (\w+): (\w+) = \(\2 & (0x[0-9a-f]+)\) \| (.+)\Z")


def merged_field_writes(previous: str, text: str, widths: dict[str, int]) -> str | None:
    """One line doing what the field writes `previous` and then `text` do, or None.

    They merge when both write fields of the same header (whose bits are a local named in `widths`, with
    their width) under the same validity test, the fields do not overlap, and the second value does not
    read the header (it is then computed from the header's old bits, as the first value already is)."""
    a, b = _FIELD_WRITE.match(previous), _FIELD_WRITE.match(text)
    if a is None or b is None or a.group(1, 2) != b.group(1, 2) or a.group(2) not in widths:
        return None
    valid, bits = a.group(1, 2)
    full = (1 << widths[bits]) - 1
    keep_a, keep_b = int(a.group(3), 16), int(b.group(3), 16)
    if (full ^ keep_a) & (full ^ keep_b) or re.search(rf"\b{bits}\b", b.group(4)):
        return None
    return f"if {valid}: {bits} = ({bits} & {hex(keep_a & keep_b)}) | {a.group(4)} | {b.group(4)}"


class Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0
        self.blocks = 0       # nested loop/try/with blocks open (see _blocks_opened)
        self._counter = 0
        # Consecutive writes of fields of one header become one statement (merged_field_writes) for the
        # headers whose bits are the locals named here (with their widths).
        self.merge_field_writes: dict[str, int] = {}

    def line(self, text: str = "") -> None:
        self._check(checked_line(text), 1)
        if self.merge_field_writes and text and self.lines:
            indent = "    " * self.level
            last = self.lines[-1]
            if last.startswith(indent) and not last[len(indent):].startswith(" "):
                merged = merged_field_writes(last[len(indent):], text, self.merge_field_writes)
                if merged is not None:
                    self.lines[-1] = checked_line(indent + merged)
                    return
        self.lines.append(("    " * self.level + text) if text else "")

    def insert(self, mark: int, texts) -> None:
        """Insert lines (at the current indentation) at a position taken with mark()."""
        texts = list(texts)
        for t in texts:
            self._check(checked_line(t), len(texts))
        self.lines[mark:mark] = ["    " * self.level + t for t in texts]

    def _check(self, text: str, adding: int) -> None:
        """Raise CodeLimitError if adding `adding` lines like `text` would pass a limit."""
        if len(self.lines) + adding > MAX_LINES:
            raise CodeLimitError(f"the program is too large for the dataplane compiler (more than {MAX_LINES} "
                                 "lines of generated code)",
                                 "every call of an action, function or control is inlined: do actions call "
                                 "others several times, many levels deep?")
        if bracket_depth(text) > MAX_BRACKETS:
            raise CodeLimitError("this expression is nested too deeply for the dataplane compiler",
                                 "split it up, for example with local variables")

    def lines_(self, texts) -> None:
        for t in texts:
            self.line(t)

    @contextlib.contextmanager
    def indent(self, header: str | None = None):
        """Emit `header` (e.g. "if x:") and indent the lines emitted inside the block.

        An empty block gets a `pass` so that the result is always valid Python."""
        if header is not None:
            self.line(header)
        opened = _blocks_opened(header or "")
        if self.level + 1 > MAX_INDENT or self.blocks + opened > MAX_BLOCKS:
            raise CodeLimitError(NESTED_TOO_DEEPLY, "nest fewer statements, or call fewer actions that return "
                                 "early one from another")
        self.level += 1
        self.blocks += opened
        start = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == start:
                self.line("pass")
            self.level -= 1
            self.blocks -= opened

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
