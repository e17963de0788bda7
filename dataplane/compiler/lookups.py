"""Table look-ups called through a local: a pass over the generated fast().

The code generator calls a table's search as ``ent = T2.lookup(key)``. ``lookup`` is an attribute of the
table object, not a method of its class: indexes that generate their search code put a new function there
when the entries change (runtime/tables.py). CPython 3.11 specializes a call written as a method call
(LOAD_METHOD) only when the method is found on the type, so this one went the generic way, instance dict
and type both searched, for every table of every packet. Loaded as a plain attribute first,

    lookup_T2 = T2.lookup
    ent = lookup_T2(key)

the load is specialized (LOAD_ATTR_INSTANCE_VALUE): about 125 instructions less a look-up, with the
attribute still read at each look-up, so a table whose entries changed is searched the new way at once.

It runs after the passes that inline single-use locals, which would put the load back into the call.
"""

from __future__ import annotations

import ast
import re

from .astnames import fresh, names_taken, statement_lists

# The tables of a generated module are bound to T0, T1, ... in make_fast (program.py, TableInfo.pyname).
_TABLE = re.compile(r"T\d+\Z")


def load_lookups_as_attributes(fn: ast.FunctionDef) -> None:
    """Rewrite each statement `x = T.lookup(...)` of fn into a load of T.lookup into a local and a call of it."""
    taken = names_taken(fn)
    names: dict[str, str] = {}           # a local per table, stored before each of its look-ups
    for body in statement_lists(fn):
        i = 0
        while i < len(body):
            call = _table_lookup_call(body[i])
            if call is not None:
                table = call.func.value.id
                name = names.get(table) or names.setdefault(table, fresh(f"lookup_{table}", taken))
                body.insert(i, ast.Assign(targets=[ast.Name(name, ast.Store())], value=call.func, lineno=0))
                call.func = ast.Name(name, ast.Load())
                i += 1
            i += 1


def _table_lookup_call(stmt) -> ast.Call | None:
    """The call if stmt is `x = T.lookup(...)` with T a table of the module."""
    if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if isinstance(func, ast.Attribute) and func.attr == "lookup" and isinstance(func.value, ast.Name) \
            and _TABLE.match(func.value.id):
        return stmt.value
    return None
