"""Simplifications of a generated function, as an ast pass over its source: what a careful programmer
writing it by hand for one program would leave out.

The code generator emits each statement for the general case: a field write re-tests its header's
validity, a control is wrapped in ``try/except ExitControl`` even when it never exits, standard
metadata is reset and re-tested after stages that never touch it, every slot of the packet state gets
a local. In the fused fast() function, whose state lives in Python locals, much of that is decidable
from the function alone, and this pass removes it:

- constant propagation over locals, flow-sensitive: a local assigned a constant keeps it until its next
  store, and a test of a boolean local (one that is only ever assigned True or False, like a header's
  validity) makes it known in each branch. A test that is known is folded: ``if h_ipv4_v_p: x = ...``
  inside a block that runs only when IPv4 is valid becomes ``x = ...``; ``if s_mcast_grp_p:`` in a
  program that only ever sets mcast_grp to 0 disappears with the code behind it;
- ``try: ... except ExitControl: pass`` around code that never raises ExitControl (only generated code
  raises it, always as ``raise ExitControl``) becomes the code itself;
- stores to locals that are never read, when the stored value has no effect of its own, are removed
  (to a fixed point), and so are ``pass`` statements beside others.

Locals are all the function can touch besides its arguments and the objects it calls, and Python does
not let a called function rebind them, so every fact here follows from the function's text.
"""

from __future__ import annotations

import ast
import textwrap

_TERMINATORS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def simplify_function(lines: list[str]) -> list[str]:
    """The lines of one generated function (a `def` and its body, indented alike), simplified."""
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
    fn = ast.parse(textwrap.dedent("\n".join(lines))).body[0]
    assert isinstance(fn, ast.FunctionDef), "internal error: simplify_function takes one function"
    booleans = _boolean_locals(fn)
    fn.body = _Propagation(booleans).block(fn.body, {})[0] or [ast.Pass()]
    _remove_dead_stores(fn)
    fn.body = _tidy(fn.body)
    _HexMasks().visit(fn)
    return [indent + line for line in ast.unparse(fn).splitlines()]


class _HexMasks(ast.NodeTransformer):
    """Integers above 255 written in hex, as the code generator writes masks (ast.unparse writes every
    integer in decimal): a name node prints its text as it is."""

    def visit_Constant(self, node):
        if type(node.value) is int and node.value > 255:
            return ast.copy_location(ast.Name(id=hex(node.value), ctx=ast.Load()), node)
        return node


def _stored_names(node) -> set[str]:
    """The names that `node` (a statement or a list of them) may store, in it or in anything nested."""
    nodes = node if isinstance(node, list) else [node]
    names = set()
    for n in nodes:
        for sub in ast.walk(n):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                names.add(sub.id)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                names.add(sub.name)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return names


def _boolean_locals(fn: ast.FunctionDef) -> set[str]:
    """Locals whose every store is `name = True` or `name = False` (possibly chained): always a bool."""
    constant_bool: dict[str, bool] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            is_bool = isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool)
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constant_bool[target.id] = constant_bool.get(target.id, True) and is_bool
    others = _stored_names(fn.body) - {n for n, ok in constant_bool.items() if ok}
    args = {a.arg for a in fn.args.args}
    return {n for n, ok in constant_bool.items() if ok and n not in others and n not in args}


def _known(expr, env: dict):
    """(True, value) if expr's value is known from env (a local with a known constant, a constant, or
    not / == / != / and / or of such), else (False, None)."""
    if isinstance(expr, ast.Constant):
        return True, expr.value
    if isinstance(expr, ast.Name):
        return (True, env[expr.id]) if expr.id in env else (False, None)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        ok, value = _known(expr.operand, env)
        return (True, not value) if ok else (False, None)
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], (ast.Eq, ast.NotEq)):
        (ok_l, left), (ok_r, right) = _known(expr.left, env), _known(expr.comparators[0], env)
        if ok_l and ok_r and type(left) in (int, bool) and type(right) in (int, bool):
            return True, (left == right) == isinstance(expr.ops[0], ast.Eq)
    return False, None


def _learned(test, truth: bool, booleans: set[str]) -> dict:
    """What a branch taken when `test` is `truth` knows about boolean locals."""
    if isinstance(test, ast.Name) and test.id in booleans:
        return {test.id: truth}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _learned(test.operand, not truth, booleans)
    return {}


def _meet(envs: list[dict]) -> dict:
    """What is known after control flow joins: the facts every incoming path agrees on."""
    if not envs:
        return {}
    first, *rest = envs
    return {k: v for k, v in first.items() if all(k in e and e[k] == v and type(e[k]) is type(v) for e in rest)}


class _FoldKnownTests(ast.NodeTransformer):
    """`a if TEST else b` with TEST known becomes a or b."""

    def __init__(self, env: dict):
        self.env = env

    def visit_IfExp(self, node):
        ok, value = _known(node.test, self.env)
        if ok:
            return self.visit(node.body if value else node.orelse)
        return self.generic_visit(node)

    def visit_Lambda(self, node):
        return node         # its own scope: the facts about this function's locals do not hold inside


class _Propagation:
    """Constant propagation over a function's statements (see the module's doc)."""

    def __init__(self, booleans: set[str]):
        self.booleans = booleans

    def block(self, stmts: list, env: dict) -> tuple[list, dict | None]:
        """stmts simplified, given env (what is known on entry), and what is known at their end (None
        when control never reaches it)."""
        out = []
        env = dict(env)
        for stmt in stmts:
            new, env = self.statement(stmt, env)
            out.extend(new)
            if env is None:
                break           # the rest cannot run
        return out, env

    def statement(self, stmt, env: dict) -> tuple[list, dict | None]:
        if isinstance(stmt, ast.If):
            return self.if_(stmt, env)
        if isinstance(stmt, ast.Try):
            return self.try_(stmt, env)
        if isinstance(stmt, (ast.While, ast.For)):
            return self.loop(stmt, env)
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.Raise, ast.Pass,
                             ast.Break, ast.Continue)) and not any(isinstance(n, ast.NamedExpr)
                                                                    for n in ast.walk(stmt)):
            stmt = _FoldKnownTests(env).visit(stmt)
            after = {k: v for k, v in env.items() if k not in _stored_names(stmt)}
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) \
                    and type(stmt.value.value) in (int, bool):
                after.update((t.id, stmt.value.value) for t in stmt.targets if isinstance(t, ast.Name))
            return [stmt], None if isinstance(stmt, _TERMINATORS) else after
        # Anything else is left as it is; what it may store is no longer known.
        return [stmt], {k: v for k, v in env.items() if k not in _stored_names(stmt)}

    def if_(self, stmt: ast.If, env: dict):
        ok, value = _known(stmt.test, env)
        if ok:
            return self.block(stmt.body if value else stmt.orelse, env)
        stmt.test = _FoldKnownTests(env).visit(stmt.test)
        body, body_env = self.block(stmt.body, {**env, **_learned(stmt.test, True, self.booleans)})
        orelse, else_env = self.block(stmt.orelse, {**env, **_learned(stmt.test, False, self.booleans)})
        stmt.body, stmt.orelse = body or [ast.Pass()], orelse
        ends = [e for e in (body_env, else_env) if e is not None]
        return [stmt], _meet(ends) if ends else None

    def try_(self, stmt: ast.Try, env: dict):
        if _never_exits(stmt):
            return self.block(stmt.body, env)
        body, body_env = self.block(stmt.body, env)
        if body_env is not None and stmt.orelse:
            orelse, body_env = self.block(stmt.orelse, body_env)
            stmt.orelse = orelse
        # A handler may start anywhere in the body: only what the body never changes is known there.
        unchanged = {k: v for k, v in env.items() if k not in _stored_names(stmt.body)}
        ends = [body_env]
        for handler in stmt.handlers:
            start = {k: v for k, v in unchanged.items() if k != handler.name}
            handler.body, end = self.block(handler.body, start)
            handler.body = handler.body or [ast.Pass()]
            ends.append(end)
        stmt.body = body or [ast.Pass()]
        ends = [e for e in ends if e is not None]
        after = _meet(ends) if ends else None
        if stmt.finalbody:      # not generated today: known facts end here
            after = {} if after is not None else None
        return [stmt], after

    def loop(self, stmt, env: dict):
        # The body may run after itself: what it stores is unknown in it, and after the loop.
        before = {k: v for k, v in env.items() if k not in _stored_names(stmt)}
        stmt.body = self.block(stmt.body, before)[0] or [ast.Pass()]
        stmt.orelse = self.block(stmt.orelse, before)[0]
        return [stmt], before


def _never_exits(stmt: ast.Try) -> bool:
    """Whether stmt is `try: BODY except ExitControl: pass` and BODY has no `raise ExitControl`."""
    if stmt.orelse or stmt.finalbody or len(stmt.handlers) != 1:
        return False
    handler = stmt.handlers[0]
    if not (isinstance(handler.type, ast.Name) and handler.type.id == "ExitControl" and handler.name is None
            and all(isinstance(s, ast.Pass) for s in handler.body)):
        return False
    return not any(isinstance(n, ast.Name) and n.id == "ExitControl" for s in stmt.body for n in ast.walk(s))


_PURE_CALLS = {"len"}


def _pure(expr) -> bool:
    """Whether evaluating expr has no effect besides its value (a read of a local, a constant, arithmetic
    and attribute reads on them): dropping it changes nothing."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _PURE_CALLS):
                return False
        elif isinstance(node, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda,
                               ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
    return True


def _remove_dead_stores(fn: ast.FunctionDef) -> None:
    """Remove stores to locals no code reads, to a fixed point (removing one may leave another unread)."""
    while True:
        loaded = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        changed = _DeadStores(loaded).prune(fn)
        if not changed:
            return


class _DeadStores:
    def __init__(self, loaded: set[str]):
        self.loaded = loaded
        self.changed = False

    def prune(self, fn) -> bool:
        fn.body = self.block(fn.body)
        return self.changed

    def block(self, stmts: list) -> list:
        out = []
        for stmt in stmts:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, self.block(getattr(stmt, field)))
            for handler in getattr(stmt, "handlers", []):
                handler.body = self.block(handler.body)
                if handler.name and handler.name not in self.loaded:
                    handler.name = None
                    self.changed = True
            if isinstance(stmt, ast.Assign):
                live = [t for t in stmt.targets if not (isinstance(t, ast.Name) and t.id not in self.loaded)]
                if len(live) != len(stmt.targets):
                    if not live and _pure(stmt.value):
                        self.changed = True
                        continue
                    if live:
                        stmt.targets = live
                        self.changed = True
            out.append(stmt)
        return out


def _tidy(stmts: list) -> list:
    """No `pass` beside other statements; an empty block gets one (an empty else or finally none)."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, field, None), list) and getattr(stmt, field):
                tidied = _tidy(getattr(stmt, field))
                empty = len(tidied) == 1 and isinstance(tidied[0], ast.Pass)
                setattr(stmt, field, [] if empty and field != "body" else tidied)
        for handler in getattr(stmt, "handlers", []):
            handler.body = _tidy(handler.body)
        if not isinstance(stmt, ast.Pass):
            out.append(stmt)
    return out or [ast.Pass()]
