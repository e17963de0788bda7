"""Symbols and lexical scopes of the checker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..diagnostics import NO_SPAN, Span
from .types import Type


@dataclass(eq=False)
class Symbol:
    """What a name denotes.

    kind is one of: const, var, param, action, function, table, instance,
    extern_function, type, state. For params, direction is "in", "out",
    "inout" or "" (directionless: action data or a constructor argument).
    value holds the compile-time value of constants."""

    name: str
    kind: str
    decl: object = None
    type: Optional[Type] = None
    direction: str = ""
    value: object = None
    overloads: list = field(default_factory=list)
    span: Span = NO_SPAN
    owner: object = None        # the block declaration that owns it (control, parser, action)

    @property
    def is_writable(self) -> bool:
        if self.kind == "var":
            return True
        if self.kind == "param":
            return self.direction in ("out", "inout")
        return False

    def describe(self) -> str:
        if self.kind == "param":
            d = f"'{self.direction}' " if self.direction else "directionless "
            return f"{d}parameter '{self.name}'"
        return {"const": "constant", "var": "variable", "action": "action", "function": "function",
                "table": "table", "instance": "instance", "extern_function": "extern function",
                "type": "type", "state": "parser state"}.get(self.kind, self.kind) + f" '{self.name}'"


class Scope:
    def __init__(self, parent: "Scope | None" = None, kind: str = "block", owner: object = None):
        self.parent = parent
        self.kind = kind
        self.owner = owner
        self.symbols: dict[str, Symbol] = {}

    def lookup(self, name: str) -> Symbol | None:
        s: Scope | None = self
        while s is not None:
            sym = s.symbols.get(name)
            if sym is not None:
                return sym
            s = s.parent
        return None

    def lookup_local(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def root(self) -> "Scope":
        s = self
        while s.parent is not None:
            s = s.parent
        return s

    def enclosing(self, kind: str) -> "Scope | None":
        s: Scope | None = self
        while s is not None:
            if s.kind == kind:
                return s
            s = s.parent
        return None

    def all_names(self) -> list[str]:
        names: list[str] = []
        s: Scope | None = self
        while s is not None:
            names.extend(s.symbols)
            s = s.parent
        return names
