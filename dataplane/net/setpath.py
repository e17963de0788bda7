"""`--set PATH=VALUE`: change one setting of a topology document before it is checked.

    dataplane run line --set seed=3 --set defaults.link.loss=0.01 --set links.r1-r2.mtu=1280

A PATH is a dotted path into the parsed document (YAML or a tutorial's
topology.json), applied before the loader validates it, so a bad value gets
the loader's own located error. That error points at the --set text, not
at the file: the value came from there. For example:

    --set:1:17: error: MTU 99999 is out of range
        links.r1-r2.mtu=99999
                        ^~~~~

Steps of a PATH:
- in a mapping, a key (`seed`, `defaults`, `link`, `loss`); a setting that is
  not written yet is added (`defaults.link.loss` with no `defaults` section),
  and the loader then says whether the key is one it knows;
- in `nodes`, a node's interfaces, a tutorial's `hosts` / `switches`: a name
  that must exist;
- in `links`: a link's `name`, or `A-B` from its ends' node names (the name
  the summaries and captures use, `A-B.2` for a second link between the
  same nodes; in a topology.json the switch of a port s1-p2 is s1), or its
  index from 0;
- in any other list (`traffic`, a link's ends), an index from 0; as the last
  step, the index after the last item appends (`links.h1-s1.2=5ms` gives a
  tutorial's link its latency).
A step that names nothing is a one-line SetError listing what exists there.
VALUE is read as YAML: `1280` is a number, `0.01` a number, `true` a flag,
`10.0.1.1/24` text, `[a, b]` a list; an empty VALUE is null.

The sweep runner reuses this: `parse_setting(text)` and
`apply_settings(doc, positions, settings)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..controlplane.positions import Positions, load_yaml
from ..diagnostics import DiagnosticError, Diagnostic, SourceFile, Span

SOURCE_NAME = "--set"


class SetError(ValueError):
    """A --set that cannot be applied: its message is one line."""


@dataclass
class Setting:
    text: str                  # PATH=VALUE as given
    steps: list[str]           # PATH split at its dots
    value: object
    source: SourceFile         # the text, for located errors
    value_positions: Positions  # where each part of the value is, in `source`
    value_col: int             # 1-based column where VALUE begins


def parse_setting(text: str) -> Setting:
    """PATH=VALUE, its VALUE read as YAML; raises SetError or a located DiagnosticError (bad YAML)."""
    path, eq, value = text.partition("=")
    if not eq or not path.strip():
        raise SetError(f"--set takes PATH=VALUE (e.g. defaults.link.loss=0.01), not '{text}'")
    steps = path.strip().split(".")
    if any(not s for s in steps):
        raise SetError(f"--set {text}: the path '{path}' has an empty step")
    source = SourceFile(SOURCE_NAME, text)
    col = len(path) + 2
    # Parsed as written after "PATH=", so that positions (and errors) fall on the right columns.
    padded = SourceFile(SOURCE_NAME, " " * (col - 1) + value)
    try:
        parsed, positions = load_yaml(padded)
    except DiagnosticError as exc:
        raise DiagnosticError([_resource(d, source) for d in exc.diagnostics]) from None
    moved = Positions(source)
    moved.spans = {p: _resourced(s, source) for p, s in positions.spans.items()}
    moved.key_spans = {p: _resourced(s, source) for p, s in positions.key_spans.items()}
    return Setting(text, steps, parsed, source, moved, col)


def _resourced(span: Span, source: SourceFile) -> Span:
    return Span(source, span.line, span.col, span.end_line, span.end_col)


def _resource(d: Diagnostic, source: SourceFile) -> Diagnostic:
    return replace(d, span=_resourced(d.span, source)) if d.span is not None else d


def apply_settings(doc, positions: Positions | None, settings) -> object:
    """Apply settings (Setting objects or PATH=VALUE texts) to a parsed document, in order; returns the
    document (a new one only when it was empty). Positions are updated so that the loader's errors about a
    set value point at its --set text."""
    for setting in settings:
        if isinstance(setting, str):
            setting = parse_setting(setting)
        if doc is None:
            doc = {}
        _apply(doc, positions, setting)
    return doc


# Sections that --set may add when the document has none: `defaults.link.loss` in a file without defaults.
SECTIONS = {"defaults", "link", "host", "router", "switch", "arp", "defines"}


# Collections whose keys are names the user chose: a step there must name something that exists.
def _named(loc: tuple) -> str | None:
    if loc in (("nodes",), ("hosts",), ("switches",)):
        return {"nodes": "node", "hosts": "host", "switches": "switch"}[loc[0]]
    if len(loc) == 3 and loc[0] == "nodes" and loc[2] == "interfaces":
        return "interface"
    return None


def _apply(doc, positions: Positions | None, s: Setting) -> None:
    steps, here, loc, i = s.steps, doc, (), 0
    while True:
        if isinstance(here, dict):
            what = _named(loc)
            if what is not None:
                key, used = _match(steps, i, list(here))
                if key is None:
                    raise SetError(_nothing(s, steps[i], f"{_where(loc)} has no {what}", list(here)))
            else:
                key, used = _dict_key(here, steps[i]), 1
            i += used
            if i == len(steps):
                _store(positions, s, loc + (key,), lambda v, h=here, k=key: h.__setitem__(k, v))
                return
            if key not in here or here[key] is None:
                if key not in SECTIONS:
                    raise SetError(_nothing(s, steps[i - 1], f"{_where(loc)} has no section", list(here)))
                here[key] = {}                       # a section not written yet: the loader checks its keys
                _mark(positions, s, loc + (key,), i)
            here, loc = here[key], loc + (key,)
        elif isinstance(here, list):
            index, used = _list_index(here, loc, steps, i, s)
            i += used
            if i == len(steps):
                _store(positions, s, loc + (index,), lambda v, h=here, k=index: _put(h, k, v))
                return
            child = here[index]
            if loc == ("links",) and isinstance(child, list) and not steps[i].isdigit():
                # [a:eth0, b:eth0] is short for {ends: [...]}: written out, so that it can take settings.
                child = here[index] = {"ends": child}
                _move(positions, loc + (index,), loc + (index, "ends"))
            here, loc = child, loc + (index,)
        else:
            done = ".".join(steps[:i])
            raise SetError(f"--set {s.text}: '{done}' is {_describe(here)}, with no settings inside")


def _put(items: list, index: int, value) -> None:
    if index == len(items):
        items.append(value)
    else:
        items[index] = value


def _dict_key(d: dict, step: str):
    """The key a step names: as written, or the number it spells when the document has numeric keys."""
    if step not in d and step.lstrip("-").isdigit() and int(step) in d:
        return int(step)
    return step


def _match(steps: list[str], i: int, names: list) -> tuple[object, int]:
    """The longest run of steps from i that, joined by dots, is one of names (names may hold dots)."""
    text = {str(n): n for n in names}
    for j in range(len(steps), i, -1):
        joined = ".".join(steps[i:j])
        if joined in text:
            return text[joined], j - i
    return None, 0


def _list_index(items: list, loc: tuple, steps: list[str], i: int, s: Setting) -> tuple[int, int]:
    step = steps[i]
    if step.isdigit():
        index = int(step)
        if index < len(items) or (index == len(items) and i == len(steps) - 1 and loc != ("links",)):
            return index, 1                    # the index after the last appends (a tutorial link's latency)
        if loc == ("links",):
            raise SetError(_nothing(s, step, "there is no link", _link_names(items)))
        raise SetError(f"--set {s.text}: {_where(loc)} has {len(items)} items, numbered from 0; no item {step}")
    if loc == ("links",):
        names = _link_names(items)
        matched, used = _match(steps, i, names)
        if matched is None:
            raise SetError(_nothing(s, step, "there is no link", names))
        return names.index(matched), used
    raise SetError(f"--set {s.text}: {_where(loc)} is a list; '{step}' is not an index (0 to {len(items) - 1})")


def _link_names(items: list) -> list[str]:
    """Each link's name as the network gives it: its `name`, or A-B from its ends; A-B.2 for a repeat."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        name = None
        ends = item.get("ends") if isinstance(item, dict) else item
        if isinstance(item, dict) and item.get("name") is not None:
            name = str(item["name"])
        elif isinstance(ends, list) and len(ends) >= 2:
            name = "-".join(_end_node(str(e)) for e in ends[:2])
        else:
            name = str(len(out))
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _end_node(end: str) -> str:
    """The node of a link end: node:interface in YAML, a host or a switch port (s1-p2) in topology.json."""
    if ":" in end:
        return end.partition(":")[0]
    return re.sub(r"-p[0-9]+$", "", end)


def _nothing(s: Setting, step: str, what: str, there: list) -> str:
    listed = ", ".join(str(n) for n in there) if there else "none"
    return f"--set {s.text}: {what} '{step}' (there: {listed})"


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) if loc else "the topology"


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"the flag {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if value is None:
        return "null"
    return f"the text '{value}'"


# ---------------------------------------------------------------------------- positions


def _store(positions: Positions | None, s: Setting, path: tuple, put) -> None:
    put(s.value)
    if positions is None:
        return
    _forget(positions, path)
    _mark(positions, s, path, len(s.steps))
    for p, span in s.value_positions.spans.items():
        positions.spans[path + p] = span
    for p, span in s.value_positions.key_spans.items():
        positions.key_spans[path + p] = span
    if () not in s.value_positions.spans:       # an empty VALUE: point at the place after '='
        positions.spans[path] = Span(s.source, 1, s.value_col, 1, s.value_col + 1)


def _mark(positions: Positions | None, s: Setting, path: tuple, steps_done: int) -> None:
    """A key added or replaced by --set: its key is the path text up to this step, its value the VALUE."""
    if positions is None:
        return
    end = len(".".join(s.steps[:steps_done])) + 1
    positions.key_spans[path] = Span(s.source, 1, 1, 1, end)
    positions.spans[path] = Span(s.source, 1, s.value_col, 1, max(s.value_col + 1, len(s.text) + 1))


def _forget(positions: Positions, path: tuple) -> None:
    """Drop the positions of what was at path (it has been replaced)."""
    n = len(path)
    for table in (positions.spans, positions.key_spans):
        for p in [p for p in table if p[:n] == path and len(p) > n]:
            del table[p]


def _move(positions: Positions | None, old: tuple, new: tuple) -> None:
    if positions is None:
        return
    n = len(old)
    for table in (positions.spans, positions.key_spans):
        for p in [p for p in table if p[:n] == old and len(p) > n]:
            table[new + p[n:]] = table.pop(p)
