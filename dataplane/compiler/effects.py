"""What an inlined call can touch: the facts copy-in/copy-out needs to stay cheap.

P4 passes arguments by copy-in/copy-out (spec 6.8). The code generator binds
an aggregate argument to the caller's storage instead of copying it, which
gives the same result unless the callee can reach that storage some other
way: through a name of the caller it sees directly (an action writing its
control's `hdr` while it holds a copy of `hdr.eth`), through a second
argument, or through a later argument's side effects. And an `exit` inside
the callee must still copy `out` and `inout` arguments back. These
questions are answered here, from the checked AST, once per callee.
"""

from __future__ import annotations

from ..frontend import ast as A


def root_symbol(e) -> object | None:
    """The symbol of the variable or parameter an lvalue path starts from (None for a temporary)."""
    while isinstance(e, (A.Member, A.Index, A.Slice, A.PlusSlice)):
        e = e.expr
    if isinstance(e, A.Name):
        return getattr(e, "ref", None)
    return None


def _callee_nodes(c) -> list:
    """The declarations a call runs code from (bodies of actions, functions, tables' actions, sub-blocks)."""
    decl = getattr(c, "decl", None)
    if decl is None:
        return []
    if c.kind in ("action", "function", "block_apply"):
        return [decl]
    if c.kind == "table_apply":
        out = [decl]
        for ref in getattr(decl, "action_refs", ()) or ():
            if getattr(ref, "decl", None) is not None:
                out.append(ref.decl)
        default = getattr(decl, "default_action", None)
        if getattr(default, "decl", None) is not None:
            out.append(default.decl)
        return out
    return []


class CalleeFacts:
    """Per-declaration facts, computed transitively through the calls it makes (P4 has no recursion)."""

    def __init__(self):
        self._names: dict[int, frozenset[int]] = {}
        self._exits: dict[int, bool] = {}

    def touched_symbols(self, node) -> frozenset[int]:
        """ids of every symbol named in node or in anything it calls."""
        key = id(node)
        cached = self._names.get(key)
        if cached is not None:
            return cached
        self._names[key] = frozenset()      # a guard: a cycle (there is none in P4) ends here
        found: set[int] = set()
        for n in node.walk():
            if isinstance(n, A.Name):
                ref = getattr(n, "ref", None)
                if ref is not None:
                    found.add(id(ref))
            elif isinstance(n, A.Call):
                for callee in _callee_nodes(getattr(n, "callee", None)):
                    if callee is not node:
                        found |= self.touched_symbols(callee)
        result = frozenset(found)
        self._names[key] = result
        return result

    def may_exit(self, node) -> bool:
        """Whether an `exit` can run inside node (directly or in anything it calls)."""
        key = id(node)
        cached = self._exits.get(key)
        if cached is not None:
            return cached
        self._exits[key] = False
        result = False
        for n in node.walk():
            if isinstance(n, A.ExitStatement):
                result = True
                break
            if isinstance(n, A.Call) and any(callee is not node and self.may_exit(callee)
                                             for callee in _callee_nodes(getattr(n, "callee", None))):
                result = True
                break
        self._exits[key] = result
        return result
