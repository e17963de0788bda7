"""Load JSON and YAML documents while remembering where each value came from.

Configuration errors must point at ``file:line:col``; the standard ``json``
module and PyYAML's safe loader return plain Python values without
positions. These loaders return the same plain values plus a
:class:`Positions` map from the *path* of each value (a tuple of dict keys
and list indices from the root) to its span in the file.
"""

from __future__ import annotations

import difflib
import json
import re

import yaml

from ..diagnostics import DiagnosticError, SourceFile, Span, error


class Positions:
    def __init__(self, source: SourceFile):
        self.source = source
        self.spans: dict[tuple, Span] = {}
        self.key_spans: dict[tuple, Span] = {}     # where the *key* of a mapping entry is written

    def span(self, path: tuple) -> Span:
        """The span of the value at path, or of its closest ancestor that is known."""
        p = tuple(path)
        while p:
            s = self.spans.get(p)
            if s is not None:
                return s
            p = p[:-1]
        return self.spans.get((), Span(self.source, 1, 1, 1, 2))

    def key_span(self, path: tuple) -> Span:
        return self.key_spans.get(tuple(path)) or self.span(path)


# ---------------------------------------------------------------------------- JSON

_WS = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")


class _JsonParser:
    def __init__(self, source: SourceFile):
        self.src = source
        self.text = source.text
        self.pos = 0
        self.positions = Positions(source)

    def fail(self, message: str, at: int | None = None) -> DiagnosticError:
        at = self.pos if at is None else at
        return error(f"invalid JSON: {message}", self.src.span_at_offset(at))

    def ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()

    def parse(self):
        self.ws()
        value = self.value(())
        self.ws()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the end of the document")
        return value

    def value(self, path: tuple):
        self.ws()
        start = self.pos
        if start >= len(self.text):
            raise self.fail("unexpected end of file")
        c = self.text[start]
        if c == "{":
            v = self.obj(path)
        elif c == "[":
            v = self.arr(path)
        elif c == '"':
            v = self.string()
        else:
            m = _NUMBER.match(self.text, start)
            if m and m.end() > start:
                self.pos = m.end()
                t = m.group(0)
                v = float(t) if any(ch in t for ch in ".eE") else int(t)
            elif self.text.startswith("true", start):
                self.pos += 4
                v = True
            elif self.text.startswith("false", start):
                self.pos += 5
                v = False
            elif self.text.startswith("null", start):
                self.pos += 4
                v = None
            else:
                raise self.fail(f"unexpected character {c!r}")
        self.positions.spans[path] = self.src.span_at_offset(start, self.pos)
        return v

    def string(self) -> str:
        start = self.pos
        try:
            s, end = json.decoder.scanstring(self.text, start + 1)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos)
        self.pos = end
        return s

    def obj(self, path: tuple) -> dict:
        self.pos += 1
        out: dict = {}
        self.ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return out
        while True:
            self.ws()
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a string key")
            kstart = self.pos
            key = self.string()
            self.positions.key_spans[path + (key,)] = self.src.span_at_offset(kstart, self.pos)
            self.ws()
            if not self.text.startswith(":", self.pos):
                raise self.fail("expected ':'")
            self.pos += 1
            if key in out:
                raise self.fail(f"duplicate key {key!r}", kstart)
            out[key] = self.value(path + (key,))
            self.ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or '}'")

    def arr(self, path: tuple) -> list:
        self.pos += 1
        out: list = []
        self.ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return out
        while True:
            out.append(self.value(path + (len(out),)))
            self.ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or ']'")


def load_json(source: SourceFile):
    """Parse JSON text; returns (value, Positions). Errors are DiagnosticErrors with positions."""
    p = _JsonParser(source)
    return p.parse(), p.positions


# ---------------------------------------------------------------------------- YAML


def load_yaml(source: SourceFile):
    """Parse a YAML document with safe types; returns (value, Positions)."""
    positions = Positions(source)
    try:
        node = yaml.compose(source.text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        raise error(f"invalid YAML: {exc.problem or exc.context}", Span(source, line, col, line, col + 1))
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", Span(source, 1, 1, 1, 2))
    if node is None:
        return None, positions
    constructor = yaml.SafeLoader("")

    def span_of(n) -> Span:
        return Span(source, n.start_mark.line + 1, n.start_mark.column + 1, n.end_mark.line + 1,
                    n.end_mark.column + 1)

    def build(n, path: tuple):
        positions.spans[path] = span_of(n)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for kn, vn in n.value:
                if not isinstance(kn, yaml.ScalarNode):
                    raise error("mapping keys must be plain values", span_of(kn))
                key = constructor.construct_object(kn, deep=True)
                if isinstance(key, (list, dict)):
                    raise error("mapping keys must be plain values", span_of(kn))
                if key in out:
                    raise error(f"duplicate key {key!r}", span_of(kn))
                positions.key_spans[path + (key,)] = span_of(kn)
                out[key] = build(vn, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(x, path + (i,)) for i, x in enumerate(n.value)]
        try:
            value = constructor.construct_object(n, deep=True)
        except yaml.YAMLError as exc:
            raise error(f"invalid YAML value: {exc}", span_of(n))
        # YAML 1.1 reads 08:00:00:00:01:11 as a base-60 number; keep such plain scalars as text
        # (MAC and IPv6 addresses), and likewise dotted values that YAML took for floats.
        if n.style is None and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and (":" in n.value or n.value.count(".") > 1):
            return n.value
        return value

    return build(node, ()), positions


_TYPE_NAMES = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
               bool: "true or false"}


class DocumentChecker:
    """Checks a document read with positions; every error points at the offending key or value."""

    def __init__(self, pos: Positions):
        self.pos = pos

    def fail(self, message: str, path: tuple, hint: str | None = None, key: bool = False) -> DiagnosticError:
        return error(message, self.pos.key_span(path) if key else self.pos.span(path), hint)

    def expect(self, value, types, path: tuple, what: str):
        if not isinstance(value, types):
            want = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in (types if isinstance(types, tuple)
                                                                          else (types,)))
            raise self.fail(f"{what} must be {want}", path)
        return value

    def check_keys(self, d: dict, allowed: set, path: tuple, what: str) -> None:
        """Unknown keys are errors, never ignored: a typo must not silently change the meaning."""
        for k in d:
            if k not in allowed:
                near = difflib.get_close_matches(str(k), sorted(allowed), n=1)
                raise self.fail(f"unknown key '{k}' in {what}", path + (k,),
                                f"did you mean '{near[0]}'?" if near else f"allowed keys: {', '.join(sorted(allowed))}",
                                key=True)

