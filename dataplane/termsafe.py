"""Text for the terminal: control characters in user-chosen names are shown escaped.

A topology, program or capture from a stranger can name a node, a link or a
table ``"\\x1b[2J"`` (clear screen), ``"\\r"`` (overwrite the line), or a
bidirectional override (``"\\u202e"``) that makes a line read differently from
what it is. Every character that a terminal would act on instead of
showing is written as a Python-style escape (``\\x1b``, ``\\u202e``).

The command line wraps stdout and stderr in :class:`EscapingWriter`, so no
print site can forget: names are stored raw (they are the user's data) and
escaped only where they meet the terminal. Newlines and tabs pass, since
dataplane's own output is made of lines.
"""

from __future__ import annotations

import io
import unicodedata


def _escape(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _ascii_table() -> dict[int, str]:
    table = {c: _escape(c) for c in range(0x20) if chr(c) not in "\n\t"}
    table[0x7F] = _escape(0x7F)
    return table


_ASCII = _ascii_table()
_FULL: dict[int, str] = {}


def _full_table() -> dict[int, str]:
    """The table for non-ASCII text, built on first use (it costs ~30 ms)."""
    if _FULL:
        return _FULL
    table = dict(_ASCII)
    table.update({c: _escape(c) for c in range(0x80, 0xA0)})          # C1 controls (0x9b is CSI)
    # Format characters (Unicode category Cf: bidi overrides and isolates, zero-width
    # joiners, the byte order mark) and the line / paragraph separators.
    # Planes 2 to 13 hold none; plane 14 holds the tag characters.
    for block in (range(0xA0, 0x20000), range(0xE0000, 0xE1000)):
        for c in block:
            if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp"):
                table[c] = _escape(c)
    _FULL.update(table)
    return _FULL


def escape_controls(text: str) -> str:
    """`text` with every terminal control or format character written as an escape."""
    return text.translate(_ASCII if text.isascii() else _full_table())


def unescaped(stream):
    """The stream under an EscapingWriter, for dataplane's own control output (a progress
    line's carriage return); any other stream as it is."""
    return stream.target if isinstance(stream, EscapingWriter) else stream


class EscapingWriter(io.TextIOBase):
    """A text stream that escapes control characters before passing text to another stream."""

    def __init__(self, target):
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(escape_controls(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self):
        return getattr(self.target, "encoding", "utf-8")

    @property
    def errors(self):
        # input() uses readline (line editing, history, completion) only when stdout has a
        # string encoding and errors, as a real console stream has.
        return getattr(self.target, "errors", None) or "strict"

    def writable(self) -> bool:
        return True
