"""Load JSON and YAML documents while remembering where each value came from.

Configuration errors must point at ``file:line:col``; the standard ``json``
module and PyYAML's safe loader return plain Python values without
positions. These loaders return the same plain values plus a
:class:`Positions` map from the *path* of each value (a tuple of dict keys
and list indices from the root) to its span in the file.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re

import yaml

from ..diagnostics import DiagnosticError, SourceFile, Span, error

# Limits that keep hostile documents from exhausting memory, time or the Python stack.
MAX_DEPTH = 100                # nesting levels: the JSON parser and code that walks values recurse per level
MAX_ALIAS_VALUES = 100_000     # values a YAML document may reach through aliases, all aliases together
MAX_NUMBER_DIGITS = 1000       # digits of an integer literal (Python refuses to read more than 4300)


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
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


class _JsonParser:
    def __init__(self, source: SourceFile, each):
        self.src = source
        self.text = source.text
        self.pos = 0
        self.positions = Positions(source)
        self.each = each

    def fail(self, message: str, at: int | None = None) -> DiagnosticError:
        at = self.pos if at is None else at
        return error(f"invalid JSON: {message}", self.src.span_at_offset(at))

    def ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()

    def parse(self):
        self.ws()
        value = self.value((), 0)
        self.ws()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the end of the document")
        return value

    def value(self, path: tuple, depth: int):
        self.ws()
        start = self.pos
        if start >= len(self.text):
            raise self.fail("unexpected end of file")
        c = self.text[start]
        if c in "{[" and depth >= MAX_DEPTH:
            raise error(f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                        self.src.span_at_offset(start))
        if c == "{":
            v = self.obj(path, depth)
        elif c == "[":
            v = self.arr(path, depth)
        elif c == '"':
            v = self.string()
        else:
            m = _NUMBER.match(self.text, start)
            if m and m.end() > start:
                self.pos = m.end()
                v = self.number(m.group(0), start)
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

    def number(self, t: str, start: int):
        if any(ch in t for ch in ".eE"):
            v = float(t)
            if math.isfinite(v):           # 1e999: JSON has no infinity, and nothing here wants one
                return v
        elif len(t) <= MAX_NUMBER_DIGITS:
            try:
                return int(t)
            except ValueError:             # the interpreter's own limit, which may be set lower
                pass
        raise error("number too large", self.src.span_at_offset(start, self.pos))

    def string(self) -> str:
        start = self.pos
        try:
            s, end = json.decoder.scanstring(self.text, start + 1)
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg, exc.pos)
        self.pos = end
        return s

    def obj(self, path: tuple, depth: int) -> dict:
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
            out[key] = self.value(path + (key,), depth + 1)
            self.ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or '}'")

    def arr(self, path: tuple, depth: int) -> list:
        self.pos += 1
        out: list = []
        self.ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return out
        handle = self.each(path) if self.each is not None else None
        spans, key_spans = self.positions.spans, self.positions.key_spans
        i = 0
        while True:
            if handle is None:
                out.append(self.value(path + (i,), depth + 1))
            else:
                marks = len(spans), len(key_spans)
                handle(path + (i,), self.value(path + (i,), depth + 1), self.positions)
                # Forget the item's positions (dicts pop the latest insertions first), so that a long list
                # needs memory for one item at a time.
                while len(spans) > marks[0]:
                    spans.popitem()
                while len(key_spans) > marks[1]:
                    key_spans.popitem()
            i += 1
            self.ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return out
            raise self.fail("expected ',' or ']'")


def load_json(source: SourceFile, each=None):
    """Parse JSON text; returns (value, Positions). Errors are DiagnosticErrors with positions.

    `each`, if given, is called with the path of each list and may return a function to call with
    (path, value, positions) for each item of that list as soon as the item is read; such items are not
    kept (the list stays empty).
    """
    p = _JsonParser(source, each)
    return p.parse(), p.positions


# ---------------------------------------------------------------------------- YAML


# libyaml's parser when PyYAML was built with it: the pure-Python one reads about 100 KB a second.
_EventLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INT_TAG = "tag:yaml.org,2002:int"


def _mark_span(source: SourceFile, start, end=None) -> Span:
    if end is None:
        return Span(source, start.line + 1, start.column + 1, start.line + 1, start.column + 2)
    return Span(source, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _Frame:
    """A mapping or sequence being read."""

    __slots__ = ("value", "path", "start", "anchor", "key", "items", "size", "height", "handle", "marks",
                 "log_mark")

    def __init__(self, value, path: tuple, start, anchor: str | None):
        self.value = value
        self.path = path
        self.start = start               # the mark where it begins
        self.anchor = anchor
        self.key = _NO_KEY               # in a mapping: the key read whose value comes next
        self.items = 0                   # in a sequence: items read so far
        self.size = 1                    # values in it so far, counting those reached through aliases
        self.height = 1                  # levels of collections, itself included, so far
        self.handle = None               # for a list whose items are handed over as they are read
        self.marks = (0, 0)
        self.log_mark = 0


_NO_KEY = object()


class _Anchor:
    __slots__ = ("value", "entries", "size", "height", "span")

    def __init__(self, value, entries: list, size: int, height: int, span: Span):
        self.value, self.entries, self.size, self.height, self.span = value, entries, size, height, span


class _YamlBuilder:
    """Builds plain values and their positions straight from the parser's events.

    PyYAML's composer would first build a graph of nodes, recursively: it runs out of Python stack on
    deeply nested documents and holds several objects per value. Here an explicit stack limits the depth
    before anything runs out, and memory holds only the values and their spans. An alias stands for a
    copy of its anchor's value (with its positions) wherever it is used, so ten levels of ten aliases
    ("billion laughs") would make 10^10 values: the values reached through aliases are counted, from each
    anchor's size, and limited in total; and an alias inside its own anchor is an error.
    """

    def __init__(self, source: SourceFile, loader, each):
        self.source = source
        self.loader = loader
        self.each = each
        self.positions = Positions(source)
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: set[str] = set()
        # Positions recorded while an anchor is open, so that an alias can record them again at its own path.
        self.log: list[tuple[tuple, Span, bool]] = []
        self.through_aliases = 0

    # -- the document ---------------------------------------------------------

    def document(self):
        loader = self.loader
        loader.get_event()                                   # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()                                   # document start
        value = self.value()
        loader.get_event()                                   # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise error("expected a single document, but found another one",
                        _mark_span(self.source, loader.get_event().start_mark))
        return value

    def value(self):
        """Read events up to the end of one value, the root; return it."""
        loader = self.loader
        while True:
            event = loader.get_event()
            top = self.stack[-1] if self.stack else None
            if top is not None and top.key is _NO_KEY and isinstance(top.value, dict) \
                    and not isinstance(event, yaml.MappingEndEvent):
                self.key(top, event)
                continue
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                self.open(event)
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                value, size, height = self.close(event)
            elif isinstance(event, yaml.AliasEvent):
                value, size, height = self.alias(event, self.child_path())
            else:
                value, size, height = self.scalar_value(event), 1, 0
            if not self.stack:
                return value
            self.deliver(value, size, height)

    # -- positions ------------------------------------------------------------

    def record(self, path: tuple, span: Span, is_key: bool = False) -> None:
        (self.positions.key_spans if is_key else self.positions.spans)[path] = span
        if self.open_anchors:
            self.log.append((path, span, is_key))

    def child_path(self) -> tuple:
        if not self.stack:
            return ()
        top = self.stack[-1]
        return top.path + (top.key if isinstance(top.value, dict) else top.items,)

    # -- collections ----------------------------------------------------------

    def open(self, event) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise error(f"the document is nested too deeply (more than {MAX_DEPTH} levels)",
                        _mark_span(self.source, event.start_mark))
        frame = _Frame([] if isinstance(event, yaml.SequenceStartEvent) else {}, self.child_path(),
                       event.start_mark, event.anchor)
        if event.anchor is not None:
            self.check_new_anchor(event)
            self.open_anchors.add(event.anchor)
            frame.log_mark = len(self.log)
        elif self.each is not None and isinstance(frame.value, list) and not self.open_anchors:
            frame.handle = self.each(frame.path)
            frame.marks = len(self.positions.spans), len(self.positions.key_spans)
        self.stack.append(frame)

    def close(self, event):
        frame = self.stack.pop()
        span = _mark_span(self.source, frame.start, event.end_mark)
        self.record(frame.path, span)
        self.remember_anchor(frame.anchor, frame.value, frame.path, frame.size, frame.height, span, frame.log_mark)
        return frame.value, frame.size, frame.height

    def deliver(self, value, size: int, height: int) -> None:
        top = self.stack[-1]
        top.size += size
        top.height = max(top.height, height + 1)
        if isinstance(top.value, dict):
            top.value[top.key] = value
            top.key = _NO_KEY
            return
        index = top.items
        top.items += 1
        if top.handle is None:
            top.value.append(value)
            return
        top.handle(top.path + (index,), value, self.positions)
        # Forget the item's positions (dicts pop their latest insertions first): a long list needs memory
        # for one item at a time.
        spans, key_spans = self.positions.spans, self.positions.key_spans
        while len(spans) > top.marks[0]:
            spans.popitem()
        while len(key_spans) > top.marks[1]:
            key_spans.popitem()

    def key(self, top: _Frame, event) -> None:
        span = self.span(event)
        if isinstance(event, yaml.ScalarEvent):
            key = self.scalar(event)
            if event.anchor is not None:
                self.check_new_anchor(event)
                self.anchors[event.anchor] = _Anchor(key, [((), span, False)], 1, 0, span)
        elif isinstance(event, yaml.AliasEvent):
            key = self.alias(event, None)[0]
        else:
            key = []                          # the start of a mapping or a sequence
        if isinstance(key, (list, dict)):
            raise error("mapping keys must be plain values", span)
        if key in top.value:
            raise error(f"duplicate key {key!r}", span)
        self.record(top.path + (key,), span, is_key=True)
        top.key = key

    # -- anchors and aliases --------------------------------------------------

    def check_new_anchor(self, event) -> None:
        first = self.anchors.get(event.anchor)
        if first is not None or event.anchor in self.open_anchors:
            raise error(f"duplicate anchor &{event.anchor}", _mark_span(self.source, event.start_mark),
                        f"the first is at line {first.span.line}" if first is not None else None)

    def remember_anchor(self, name, value, path: tuple, size: int, height: int, span: Span, log_mark: int) -> None:
        if name is None:
            return
        n = len(path)
        entries = [(p[n:], s, k) for p, s, k in self.log[log_mark:]]
        self.anchors[name] = _Anchor(value, entries, size, height, span)
        self.open_anchors.discard(name)
        if not self.open_anchors:
            self.log.clear()

    def alias(self, event, path: tuple | None):
        """The value of an alias, a copy of its anchor's; with path, its positions are recorded there."""
        where = self.span(event)
        name = event.anchor
        if name in self.open_anchors:
            raise error(f"recursive alias: *{name} is inside its own anchor &{name}", where)
        anchor = self.anchors.get(name)
        if anchor is None:
            raise error(f"undefined alias *{name}", where)
        if len(self.stack) + anchor.height > MAX_DEPTH:
            raise error(f"the document is nested too deeply through alias *{name} (more than {MAX_DEPTH} levels)",
                        where)
        self.through_aliases += anchor.size
        if self.through_aliases > MAX_ALIAS_VALUES:
            raise error(f"aliases expand to too many values (more than {MAX_ALIAS_VALUES:,}) at *{name}", where,
                        "write the values out, or use fewer nested aliases")
        if path is not None:
            for rel, span, is_key in anchor.entries:
                self.record(path + rel, span, is_key)
        value = anchor.value
        return (copy.deepcopy(value) if isinstance(value, (list, dict)) else value), anchor.size, anchor.height

    # -- scalars --------------------------------------------------------------

    def span(self, event) -> Span:
        return _mark_span(self.source, event.start_mark, event.end_mark)

    def scalar_value(self, event):
        path = self.child_path()
        value = self.scalar(event)
        # YAML 1.1 reads 08:00:00:00:01:11 as a base-60 number; keep such plain scalars as text
        # (MAC and IPv6 addresses), and likewise dotted values that YAML took for floats.
        if not event.style and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and (":" in event.value or event.value.count(".") > 1):
            value = event.value
        span = self.span(event)
        self.record(path, span)
        if event.anchor is not None:
            self.check_new_anchor(event)
            self.anchors[event.anchor] = _Anchor(value, [((), span, False)], 1, 0, span)
        return value

    def scalar(self, event):
        loader = self.loader
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _INT_TAG and len(event.value) > MAX_NUMBER_DIGITS:
            raise error("number too large", self.span(event))
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        try:
            return loader.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            raise error(f"invalid YAML value: {exc.problem or exc.context}", self.span(event)) from None
        except (yaml.YAMLError, ValueError, OverflowError) as exc:   # !!int abc, !!timestamp 2020-13-45
            raise error(f"invalid YAML value: {exc}", self.span(event)) from None
        finally:
            loader.constructed_objects.pop(node, None)        # the constructor would keep every node


def load_yaml(source: SourceFile, each=None):
    """Parse a YAML document with safe types; returns (value, Positions).

    `each`, if given, is called with the path of each list (that is not part of an anchor) and may return
    a function to call with (path, value, positions) for each item of that list as soon as the item is
    read; such items are not kept (the list stays empty).
    """
    loader = _EventLoader(source.text)
    builder = _YamlBuilder(source, loader, each)
    try:
        return builder.document(), builder.positions
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        raise error(f"invalid YAML: {exc.problem or exc.context}", Span(source, line, col, line, col + 1))
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", Span(source, 1, 1, 1, 2))
    finally:
        loader.dispose()


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

