"""Where in a P4 program things are written: its tables, its actions, and the statements that set header fields.

A view says why a field changed ("ipv4.ttl 64 -> 63 (MyIngress, programs/ipv4_router.p4:293)"): the
pipeline's trace names the tables applied and the actions run, and this index of the checked program
gives their source lines and the assignments that write each header field, so that a change is tied to
the statement that made it: one inside an action that ran, else one in a control's apply block.
"""

from __future__ import annotations

import dataclasses
import os

from ..frontend import ast as A

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SKIPPED = frozenset({"span", "symbol", "resolved", "type", "annotations"})


def shown_path(path: str) -> str:
    """A source path as a view shows it: relative to the dataplane package for the programs we ship
    (programs/ipv4_router.p4, the same on every machine), else relative to the current directory when
    below it, else as given."""
    full = os.path.abspath(path)
    for base in (_PACKAGE, os.getcwd()):
        if full.startswith(base + os.sep):
            return os.path.relpath(full, base)
    return path


@dataclasses.dataclass(frozen=True)
class Write:
    """An assignment to a header field: `owner` is the action (Control.action) or the control it is in."""
    owner: str
    in_action: bool
    where: str                   # file:line


class SourceIndex:
    """The tables, actions and header-field writes of one compiled program."""

    def __init__(self, checked_ast):
        self.tables: dict[str, str] = {}             # table name (Control.table) -> file:line
        self.actions: dict[str, str] = {}            # action name (Control.action, or NoAction) -> file:line
        self.writes: dict[tuple[str, str], list[Write]] = {}    # (header type, field) -> writes
        for decl in checked_ast.declarations:
            self._walk(decl, None, None)

    def _walk(self, node, control: str | None, action: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                self._walk(item, control, action)
            return
        if not dataclasses.is_dataclass(node) or isinstance(node, type):
            return
        if isinstance(node, A.ControlDeclaration):
            control = node.name
        elif isinstance(node, A.ActionDeclaration):
            action = f"{control}.{node.name}" if control else node.name
            self.actions.setdefault(action, _where(node))
        elif isinstance(node, A.TableDeclaration) and control:
            self.tables.setdefault(f"{control}.{node.name}", _where(node))
        elif isinstance(node, A.Assignment):
            self._note_write(node, control, action)
        for f in dataclasses.fields(node):
            if f.name not in _SKIPPED:
                self._walk(getattr(node, f.name), control, action)

    def _note_write(self, node: A.Assignment, control: str | None, action: str | None) -> None:
        target = node.target
        if not isinstance(target, A.Member) or control is None:
            return
        header_type = str(getattr(target.expr, "type", "") or "")
        if not header_type:
            return
        write = Write(action or control, action is not None, _where(node))
        self.writes.setdefault((header_type, target.member), []).append(write)

    def action(self, name: str) -> str | None:
        """The source line of a run action, by the name the trace gives it."""
        got = self.actions.get(name)
        if got is None:
            # The trace names actions by the control's instance; most programs name it as its type.
            last = name.rsplit(".", 1)[-1]
            found = [w for n, w in self.actions.items() if n.rsplit(".", 1)[-1] == last]
            got = found[0] if len(found) == 1 else None
        return got

    def table(self, name: str) -> str | None:
        return self.tables.get(name)

    def writers(self, fields: list[tuple[str, str]], actions_run: list[str]) -> list[Write | None]:
        """For each (header type, field) that changed in one pass, the statement that most likely set it:
        one in an action that ran, else one outside any action (a control's apply block), the one nearest
        the other fields' writes when there are several (an IPv4 and an IPv6 branch both set the MAC);
        None when no statement of the program writes it."""
        ran = set(actions_run) | {a.rsplit(".", 1)[-1] for a in actions_run}
        chosen: list[Write | None] = []
        open_choices: list[tuple[int, list[Write]]] = []
        for i, key in enumerate(fields):
            writes = self.writes.get(key, [])
            in_actions = [w for w in writes if w.in_action and (w.owner in ran or w.owner.rsplit(".", 1)[-1] in ran)]
            outside = [w for w in writes if not w.in_action]
            candidates = in_actions[:1] or outside
            chosen.append(candidates[0] if candidates else None)
            if not in_actions and len(outside) > 1:
                open_choices.append((i, outside))
        settled = [_line(w) for i, w in enumerate(chosen) if w is not None and i not in dict(open_choices)]
        if settled:
            for i, candidates in open_choices:
                chosen[i] = min(candidates, key=lambda w: min(abs(_line(w) - n) for n in settled))
        return chosen


def _line(w: Write) -> int:
    return int(w.where.rsplit(":", 1)[1])


def _where(node) -> str:
    return f"{shown_path(node.span.path)}:{node.span.line}"


_INDEXES: dict[int, tuple] = {}       # id(program) -> (program, its index): programs are compiled once


def source_index(program) -> SourceIndex | None:
    """The index of a CompiledProgram (made once per program)."""
    ast = getattr(getattr(program, "checked", None), "ast", None)
    if ast is None:
        return None
    got = _INDEXES.get(id(program))
    if got is None or got[0] is not program:
        got = _INDEXES[id(program)] = (program, SourceIndex(ast))
    return got[1]
