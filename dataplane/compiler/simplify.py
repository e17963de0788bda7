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
import copy
import operator
import textwrap

from .astnames import catches_only_raised, plain_stores, statement_lists, stored_names as _stored_names
from .carries import fold_end_around_carries
from .checksums import verify_checksums_whole
from .selects import merge_select_keys
from .fieldreads import reuse_field_reads
from .bytereads import read_fields_from_bytes
from .joinedextracts import join_neighbouring_extracts
from .byteorder import drop_default_byteorder
from .lookups import load_lookups_as_attributes
from .masks import drop_redundant_masks
from .smallints import use_specialized_arithmetic
from .fieldwrites import merge_separated_field_writes
from .parsers import FROM_BYTES
from .versions import versions_by_validity

_TERMINATORS = (ast.Return, ast.Raise, ast.Break, ast.Continue)

# Integer operators folded when both sides are known (shifts by small non-negative amounts only).
_FOLDED_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.BitAnd: operator.and_,
                     ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
                     ast.RShift: operator.rshift}


def simplify_function(lines: list[str]) -> list[str]:
    """The lines of one generated function (a `def` and its body, indented alike), simplified.

    Code past the limits of Python's own compiler (nested too deeply: the code generator keeps within them
    unless they are lifted, see emitter.py) is returned as it is, for compile() to report as it does."""
    try:
        return _simplified(lines)
    except (SyntaxError, RecursionError):
        return lines


def _simplified(lines: list[str]) -> list[str]:
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
    source = textwrap.dedent("\n".join(lines))
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.FunctionDef), "internal error: simplify_function takes one function"
    _MarkHexLiterals(source).visit(fn)
    booleans = _boolean_locals(fn)
    fn.body = _after_each_parser_exit(fn.body, booleans)
    fn.body = _Propagation(booleans).block(fn.body, {})[0] or [ast.Pass()]
    _remove_dead_stores(fn)
    fn.body = _tidy(fn.body)         # a `pass` between two statements would keep them apart
    _inline_single_uses(fn)
    int_locals = _int_locals(fn)
    _Identities(int_locals, _non_negative_locals(fn, int_locals)).visit(fn)
    fold_end_around_carries(fn)
    verify_checksums_whole(fn)
    # Stores the passes since the last removal left dead (a comparison folded to a constant no test reads any
    # more; the header's copy without its checksum that the rewritten test no longer reads).
    _remove_dead_stores(fn)
    merge_select_keys(fn)
    reuse_field_reads(fn)
    merge_separated_field_writes(fn)
    read_fields_from_bytes(fn, _boolean_locals(fn))
    join_neighbouring_extracts(fn)
    drop_redundant_masks(fn)
    use_specialized_arithmetic(fn)
    drop_default_byteorder(fn)
    load_lookups_as_attributes(fn)
    fn.body = _tidy(fn.body)
    _HexLiterals().visit(fn)
    return [indent + line for line in ast.unparse(fn).splitlines()]


class _MarkHexLiterals(ast.NodeVisitor):
    """Marks the integers the code generator wrote in hex (masks, EtherTypes): ast.unparse writes every
    int in decimal, so they are written back in hex at the end (_HexLiterals)."""

    def __init__(self, source: str):
        self.lines = source.encode().splitlines()      # column offsets count UTF-8 bytes

    def visit_Constant(self, node):
        if type(node.value) is int and node.lineno == node.end_lineno \
                and self.lines[node.lineno - 1].startswith(b"0x", node.col_offset):
            node.hex = True


class _HexLiterals(ast.NodeTransformer):
    def visit_Constant(self, node):
        if getattr(node, "hex", False):
            # A name node is unparsed as its text, whatever it is.
            return ast.copy_location(ast.Name(id=hex(node.value), ctx=ast.Load()), node)
        return node


def _without_stored(env: dict, node) -> dict:
    """env without the locals that node may store."""
    stored = _stored_names(node)
    return {k: v for k, v in env.items() if k not in stored}


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
    not, a comparison or and / or of such), else (False, None)."""
    if isinstance(expr, ast.Constant):
        return True, expr.value
    if isinstance(expr, ast.Name):
        return (True, env[expr.id]) if expr.id in env else (False, None)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        ok, value = _known(expr.operand, env)
        return (True, not value) if ok else (False, None)
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and type(expr.ops[0]) in _COMPARISONS:
        (ok_l, left), (ok_r, right) = _known(expr.left, env), _known(expr.comparators[0], env)
        if ok_l and ok_r and type(left) in (int, bool) and type(right) in (int, bool):
            return True, _COMPARISONS[type(expr.ops[0])](left, right)
    return False, None


# Comparisons of known integers that are folded (a register index checked against the register's size).
_COMPARISONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                ast.Gt: operator.gt, ast.GtE: operator.ge}


def _learned(test, truth: bool, booleans: set[str]) -> dict:
    """What a branch taken when `test` is `truth` knows about boolean locals."""
    if isinstance(test, ast.Name) and test.id in booleans:
        return {test.id: truth}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _learned(test.operand, not truth, booleans)
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and truth:
        # Every operand of a true `and` is true (each a boolean local or its negation, or nothing is learned).
        learned: dict = {}
        for operand in test.values:
            learned.update(_learned(operand, True, booleans))
        return learned
    return {}


def _join(ends: list) -> dict | None:
    """What is known after the paths that reach their end (those whose facts are not None) join; None when
    no path does (the code after cannot run)."""
    ends = [e for e in ends if e is not None]
    return _meet(ends) if ends else None


def _meet(envs: list[dict]) -> dict:
    """What is known after control flow joins: the facts every incoming path agrees on."""
    if not envs:
        return {}
    first, *rest = envs
    return {k: v for k, v in first.items() if all(k in e and e[k] == v and type(e[k]) is type(v) for e in rest)}


class _FoldKnownTests(ast.NodeTransformer):
    """`a if TEST else b` with TEST known becomes a or b; a read of a local with a known value becomes
    the value."""

    def __init__(self, env: dict):
        self.env = env

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant) and type(left.value) is int \
                and type(right.value) is int and type(node.op) in _FOLDED_OPERATORS:
            if not isinstance(node.op, ast.LShift) or 0 <= right.value <= 64:
                if not isinstance(node.op, (ast.LShift, ast.RShift)) or right.value >= 0:
                    value = _FOLDED_OPERATORS[type(node.op)](left.value, right.value)
                    return ast.copy_location(ast.Constant(value), node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) is int:
            return ast.copy_location(ast.Constant(-node.operand.value), node)
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.env:
            return ast.copy_location(ast.Constant(self.env[node.id]), node)
        return node

    def visit_IfExp(self, node):
        ok, value = _known(node.test, self.env)
        if ok:
            return self.visit(node.body if value else node.orelse)
        return self.generic_visit(node)

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.And):
            # `True and x` is x: a known true operand that is not the last one never decides the value.
            values = [v for v in node.values[:-1] if not (isinstance(v, ast.Constant) and v.value is True)]
            node.values = values + node.values[-1:]
            if len(node.values) == 1:
                return node.values[0]
        return node

    def visit_Lambda(self, node):
        return node         # its own scope: the facts about this function's locals do not hold inside


class _Propagation:
    """Constant propagation over a function's statements (see the module's doc)."""

    def __init__(self, booleans: set[str]):
        self.booleans = booleans
        # For each enclosing try whose handlers catch only what `raise` statements raise: what is known
        # at each raise in its body (where its handlers may start).
        self.raise_points: list[list[dict]] = []

    def block(self, stmts: list, env: dict) -> tuple[list, dict | None]:
        """stmts simplified, given env (what is known on entry), and what is known at their end (None
        when control never reaches it)."""
        out = []
        env = dict(env)
        stmts = list(stmts)
        i = 0
        while i < len(stmts):
            stmt = stmts[i]
            # An if with a known test is the branch it takes, and a try that never exits its body (as if_
            # and try_ have them): taken apart here, so that an if in them meets the statement after.
            if isinstance(stmt, ast.If) and _known(stmt.test, env)[0]:
                stmts[i:i + 1] = stmt.body if _known(stmt.test, env)[1] else stmt.orelse
                continue
            if isinstance(stmt, ast.Try) and _never_exits(stmt):
                stmts[i:i + 1] = stmt.body
                continue
            after = None
            while isinstance(stmt, ast.If) and i + 1 < len(stmts):
                after = stmts[i + 1]
                if isinstance(after, ast.Try) and _never_exits(after):
                    stmts[i + 1:i + 2] = after.body
                elif isinstance(after, ast.If) and _known(after.test, env)[0] \
                        and not _loads(after.test) & _stored_names(stmt):
                    stmts[i + 1:i + 2] = after.body if _known(after.test, env)[1] else after.orelse
                else:
                    break
                after = None
            if isinstance(stmt, ast.If) and _short_tail_testing(stmts[i + 1:], stmt, self.booleans):
                new, env = self.tail_into_branches(stmt, stmts[i + 1:], env)
                i = len(stmts)
            elif isinstance(stmt, ast.If) and isinstance(after, ast.If):
                new, env, threaded = self.threaded_ifs(stmt, after, env)
                i += 2 if threaded else 1
            else:
                new, env = self.statement(stmt, env)
                i += 1
            out.extend(new)
            if env is None:
                break           # the rest cannot run
        return out, env

    def tail_into_branches(self, first: ast.If, tail: list, env: dict):
        """`if c: v_p = True` followed by a short tail that tests v_p and returns (the deparser after the
        CPU header is set or not): the tail goes into each branch, where v_p is known."""
        first, body_env, else_env = self.branches(first, env)
        ends = []
        for branch, branch_env, statements in (("body", body_env, copy.deepcopy(tail)), ("orelse", else_env, tail)):
            if branch_env is not None:
                more, end = self.block(statements, branch_env)
                setattr(first, branch, getattr(first, branch) + more)
                ends.append(end)
        return [first], _join(ends)

    def threaded_ifs(self, first: ast.If, second: ast.If, env: dict):
        """`if a: f = 1` then `if f == 1: A else: B`, where each branch of the first if decides the
        second's test one way: the second goes into the branches, each folded to its side
        (`if a: f = 1; A else: B`), so the test is never run. Returns the statements, what is known
        after them, and whether the second if was taken in."""
        first, body_env, else_env = self.branches(first, env)
        known = [_known(second.test, e) if e is not None else (False, None) for e in (body_env, else_env)]
        if not (known[0][0] and known[1][0] and bool(known[0][1]) != bool(known[1][1])):
            return [first], _join([body_env, else_env]), False
        body_tail, body_end = self.block([copy.deepcopy(second)], body_env)
        else_tail, else_end = self.block([second], else_env)
        first.body, first.orelse = first.body + body_tail, first.orelse + else_tail
        return [first], _join([body_end, else_end]), True

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
            stmt = _folded_increment(stmt, env)
            after = _without_stored(env, stmt)
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) \
                    and type(stmt.value.value) in (int, bool):
                after.update((t.id, stmt.value.value) for t in stmt.targets if isinstance(t, ast.Name))
            if isinstance(stmt, ast.Raise):
                for points in self.raise_points:
                    points.append(env)
            return [stmt], None if isinstance(stmt, _TERMINATORS) else after
        # Anything else is left as it is; what it may store is no longer known.
        after = _without_stored(env, stmt)
        if any(isinstance(n, ast.Raise) for n in ast.walk(stmt)):
            for points in self.raise_points:
                points.append(after)
        return [stmt], after

    def if_(self, stmt: ast.If, env: dict):
        ok, value = _known(stmt.test, env)
        if ok:
            return self.block(stmt.body if value else stmt.orelse, env)
        stmt, body_env, else_env = self.branches(stmt, env)
        return [stmt], _join([body_env, else_env])

    def branches(self, stmt: ast.If, env: dict):
        """An if whose test is not known, simplified; and what is known at the end of each branch."""
        stmt.test = _FoldKnownTests(env).visit(stmt.test)
        body, body_env = self.block(stmt.body, {**env, **_learned(stmt.test, True, self.booleans)})
        orelse, else_env = self.block(stmt.orelse, {**env, **_learned(stmt.test, False, self.booleans)})
        stmt.body, stmt.orelse = body or [ast.Pass()], orelse
        return stmt, body_env, else_env

    def try_(self, stmt: ast.Try, env: dict):
        if _never_exits(stmt):
            return self.block(stmt.body, env)
        raised_only = all(catches_only_raised(h) for h in stmt.handlers)
        if raised_only:
            self.raise_points.append([])
        body, body_env = self.block(stmt.body, env)
        if raised_only:
            # The handlers start where a raise is.
            handler_env = _meet(self.raise_points.pop())
        else:
            # A handler may start anywhere in the body: only what the body never changes is known there.
            handler_env = _without_stored(env, stmt.body)
        if body_env is not None and stmt.orelse:
            orelse, body_env = self.block(stmt.orelse, body_env)
            stmt.orelse = orelse
        ends = [body_env]
        for handler in stmt.handlers:
            start = {k: v for k, v in handler_env.items() if k != handler.name}
            handler.body, end = self.block(handler.body, start)
            handler.body = handler.body or [ast.Pass()]
            ends.append(end)
        stmt.body = body or [ast.Pass()]
        after = _join(ends)
        if stmt.finalbody:      # not generated today: known facts end here
            after = {} if after is not None else None
        return [stmt], after

    def loop(self, stmt, env: dict):
        # The body may run after itself: what it stores is unknown in it, and after the loop.
        before = _without_stored(env, stmt)
        stmt.body = self.block(stmt.body, before)[0] or [ast.Pass()]
        stmt.orelse = self.block(stmt.orelse, before)[0]
        return [stmt], before


# The most code (ast nodes) copied into both branches of an if by tail_into_branches.
MAX_TAIL_NODES = 200


def _short_tail_testing(tail: list, first: ast.If, booleans: set[str]) -> bool:
    """Whether tail is short straight-line code (simple statements and ifs) ending in a return, that tests
    a boolean local the if `first` stores."""
    if not tail or not isinstance(tail[-1], ast.Return):
        return False
    nodes = [n for stmt in tail for n in ast.walk(stmt)]
    if len(nodes) > MAX_TAIL_NODES or any(
            isinstance(n, (ast.For, ast.While, ast.With, ast.FunctionDef, ast.Lambda, ast.NamedExpr))
            or (isinstance(n, ast.Try) and not _never_exits(n)) for n in nodes):
        return False
    tested = {name for n in nodes if isinstance(n, (ast.If, ast.IfExp)) for name in _loads(n.test)}
    return bool(tested & booleans & _stored_names(first))


def _folded_increment(stmt, env: dict):
    """`x += c` where x's value is known: `x = value + c` (the deparser's running length)."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and isinstance(stmt.target, ast.Name) \
            and type(env.get(stmt.target.id)) is int and isinstance(stmt.value, ast.Constant) \
            and type(stmt.value.value) is int:
        total = ast.Constant(env[stmt.target.id] + stmt.value.value)
        return ast.copy_location(ast.Assign(targets=[ast.Name(stmt.target.id, ast.Store())], value=total), stmt)
    return stmt


def _never_exits(stmt: ast.Try) -> bool:
    """Whether stmt is `try: BODY except ExitControl: pass` and BODY has no `raise ExitControl`."""
    if stmt.orelse or stmt.finalbody or len(stmt.handlers) != 1:
        return False
    handler = stmt.handlers[0]
    if not (isinstance(handler.type, ast.Name) and handler.type.id == "ExitControl" and handler.name is None
            and all(isinstance(s, ast.Pass) for s in handler.body)):
        return False
    return not any(isinstance(n, ast.Name) and n.id == "ExitControl" for s in stmt.body for n in ast.walk(s))


# Bounds on copying the code after the parser to each of its exits: how many copies, how much code in all,
# and how deep the copies may be nested (Python's compiler allows 100 levels of indentation and 20 nested
# blocks; the code generator keeps within 90 and 16 before this pass).
MAX_PARSER_EXITS = 8
MAX_COPIED_NODES = 30_000
MAX_NESTING = 90


def _after_each_parser_exit(body: list, booleans: set[str]) -> list:
    """The code after the parser copied to the end of each path through it.

    The parser is `try: <nested ifs> except ParserStop as exc: ... else: err = 0`, and what follows it
    runs after every path. Where the paths are few, each gets its own copy (the else part first), and the
    handler gets the original: each copy then knows which headers its path made valid, and constant
    propagation folds the validity tests, the offsets and the deparser's length in it. The code after the
    parser never raises ParserStop (checked), so moving it into the try changes no outcome."""
    index = next((i for i, stmt in enumerate(body) if _is_parser(stmt)), None)
    if index is None:
        return body
    parser, rest = body[index], body[index + 1:]
    if not rest or any(isinstance(n, ast.Name) and n.id == "ParserStop" for s in rest for n in ast.walk(s)):
        return body
    exits = _exit_blocks(parser.body, 1)
    size = sum(1 for s in rest for _ in ast.walk(s))
    rest_depth = _nesting(rest)
    if len(exits) > MAX_PARSER_EXITS and rest_depth + 1 <= MAX_NESTING:
        # Too many paths for a copy each: a copy for each set of valid headers they end with.
        return versions_by_validity(body, index, booleans, MAX_COPIED_NODES)
    if not 2 <= len(exits) <= MAX_PARSER_EXITS or size * (len(exits) + 1) > MAX_COPIED_NODES \
            or max(level for _, level in exits) + rest_depth > MAX_NESTING or _blocks_depth(rest) + 1 > 16:
        return body
    for block, _level in exits:
        block.extend(copy.deepcopy(parser.orelse) + copy.deepcopy(rest))
    parser.handlers[0].body.extend(rest)
    parser.orelse = []
    return body[:index + 1]


def _is_parser(stmt) -> bool:
    return (isinstance(stmt, ast.Try) and len(stmt.handlers) == 1 and not stmt.finalbody
            and isinstance(stmt.handlers[0].type, ast.Name) and stmt.handlers[0].type.id == "ParserStop")


def _exit_blocks(stmts: list, level: int) -> list[tuple[list, int]]:
    """The statement lists (with their nesting) at whose end a path through stmts leaves it: the branches
    of a trailing if, recursively; none after a return or raise."""
    if stmts and isinstance(stmts[-1], _TERMINATORS):
        return []
    if stmts and isinstance(stmts[-1], ast.If):
        last = stmts[-1]
        return _exit_blocks(last.body, level + 1) + _exit_blocks(last.orelse, level + 1)
    return [(stmts, level)]


def _nesting(stmts: list) -> int:
    """How deep compound statements nest in stmts (0 for simple statements only)."""
    deepest = 0
    for stmt in stmts:
        inner = [getattr(stmt, f, None) or [] for f in ("body", "orelse", "finalbody")]
        inner += [h.body for h in getattr(stmt, "handlers", [])]
        if any(inner):
            deepest = max(deepest, 1 + max(_nesting(b) for b in inner))
    return deepest


def _blocks_depth(stmts: list) -> int:
    """How deep loops, try and with statements nest in stmts (what Python's compiler limits to 20)."""
    deepest = 0
    for stmt in stmts:
        inner = [getattr(stmt, f, None) or [] for f in ("body", "orelse", "finalbody")]
        inner += [h.body for h in getattr(stmt, "handlers", [])]
        own = 1 if isinstance(stmt, (ast.For, ast.While, ast.Try, ast.With)) else 0
        deepest = max([deepest] + [own + _blocks_depth(b) for b in inner])
    return deepest


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
    """Remove stores whose value no code reads afterwards, to a fixed point (removing one may leave
    another unread)."""
    while True:
        pruning = _Liveness()
        fn.body = pruning.block(fn.body, set(), frozenset())[0] or [ast.Pass()]
        if not pruning.changed:
            return


def _loads(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class _Liveness:
    """A backward pass over statements: which locals may still be read (live); a store to a local that is
    not live, of a value without effects, goes. Loops and other statements it does not model keep all
    their code and count everything they read as live.

    An exception handler may read what is live at its start wherever its exception can be raised: for
    ParserStop and ExitControl, only at a `raise` statement (only generated code raises them, always so);
    for any other exception, at any statement."""

    def __init__(self):
        self.changed = False

    def block(self, stmts: list, live_out: set, at_raise: frozenset = frozenset(),
              anywhere: frozenset = frozenset()) -> tuple[list, set]:
        """stmts pruned, given what is live after them and what enclosing handlers read (at_raise: at a
        raise statement, anywhere: at any statement); and what is live before them."""
        out = []
        live = set(live_out)
        for stmt in reversed(stmts):
            kept, live = self.statement(stmt, live, at_raise, anywhere)
            live |= anywhere
            out.extend(reversed(kept))
        out.reverse()
        return out, live

    def statement(self, stmt, live: set, at_raise: frozenset, anywhere: frozenset) -> tuple[list, set]:
        if isinstance(stmt, ast.Assign):
            names = [t for t in stmt.targets if isinstance(t, ast.Name)]
            dead = [t for t in names if t.id not in live]
            if dead and len(dead) == len(stmt.targets) and _pure(stmt.value):
                self.changed = True
                return [], live
            if dead and len(dead) < len(stmt.targets):
                stmt.targets = [t for t in stmt.targets if t not in dead]
                self.changed = True
            stored = {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            return [stmt], (live - stored) | _loads(stmt)
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            if stmt.target.id not in live and _pure(stmt.value):
                self.changed = True
                return [], live
            return [stmt], live | _loads(stmt) | {stmt.target.id}
        if isinstance(stmt, ast.Return):
            return [stmt], _loads(stmt)
        if isinstance(stmt, ast.Raise):
            return [stmt], _loads(stmt) | at_raise
        if isinstance(stmt, (ast.Expr, ast.Pass)):
            return [stmt], live | _loads(stmt)
        if isinstance(stmt, ast.If):
            stmt.body, body_live = self.block(stmt.body, live, at_raise, anywhere)
            stmt.orelse, else_live = self.block(stmt.orelse, live, at_raise, anywhere)
            stmt.body = stmt.body or [ast.Pass()]
            return [stmt], body_live | else_live | _loads(stmt.test)
        if isinstance(stmt, ast.Try) and not stmt.finalbody:
            raised, other = set(at_raise), set(anywhere)
            for handler in stmt.handlers:
                handler.body, h_live = self.block(handler.body, live, at_raise, anywhere)
                handler.body = handler.body or [ast.Pass()]
                if handler.name and handler.name not in h_live:
                    handler.name = None
                    self.changed = True
                h_live = (h_live - {handler.name}) | (_loads(handler.type) if handler.type else set())
                generated_only = catches_only_raised(handler)
                (raised if generated_only else other).update(h_live)
            stmt.orelse, else_live = self.block(stmt.orelse, live, at_raise, anywhere)
            stmt.body, body_live = self.block(stmt.body, else_live, frozenset(raised | other), frozenset(other))
            stmt.body = stmt.body or [ast.Pass()]
            return [stmt], body_live | other
        # Loops, with, nested definitions...: untouched; whatever they read is live before them.
        return [stmt], live | _loads(stmt) | at_raise


def _inline_single_uses(fn: ast.FunctionDef) -> None:
    """`x = E` followed by a statement that reads x once becomes that statement with E in place of x, when
    nothing else reads x (every store of x is such a pair) and E is pure: `key = h & m; ent = T.lookup(key)`
    becomes `ent = T.lookup(h & m)`; E with effects only into `y = x` (`x = f(); y = x` is `y = f()`). E is
    then evaluated where x was read, in the same statement, before anything is stored; a read that may not
    be evaluated (behind `and`, `or`, or in a branch of `a if c else b`) is left alone, so E runs exactly
    when it did.

    Other reads of x elsewhere do not matter when that statement is the last to see this value of x: it
    stores x again itself (`deparsed = h_ethernet_b_p; deparsed = deparsed << 160 | h_ipv4_b_p` becomes
    one line), or what follows it in its block never reads x and ends in a return on every path.

    Repeated until nothing changes: a statement that moved away may leave two others side by side."""
    bodies = statement_lists(fn)
    rests = _Rests(fn)
    while bodies:
        bodies = _inline_pairs(fn, bodies, rests)


def _inline_pairs(fn: ast.FunctionDef, bodies: list[list], rests: "_Rests") -> list[list]:
    """One round of _inline_single_uses over the statement lists `bodies`; the lists it changed (only
    there can the next round find statements newly side by side)."""
    loads: dict[str, int] = {}
    stores: dict[str, int] = {}
    # Where only generated `raise` statements can reach a handler, any other exception leaves the function,
    # and no code sees its locals after.
    raise_only = True
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            table = loads if isinstance(node.ctx, ast.Load) else stores
            table[node.id] = table.get(node.id, 0) + 1
        elif isinstance(node, ast.ExceptHandler):
            raise_only = raise_only and catches_only_raised(node)
    enclosing = _enclosing_tries(fn.body, (), {})
    pairs = []
    for body in bodies:
        for i, (first, second) in enumerate(zip(body, body[1:])):
            if isinstance(first, ast.Assign) and len(first.targets) == 1 and isinstance(first.targets[0], ast.Name) \
                    and (_pure(first.value) or _copies(second, first.targets[0].id)):
                name = first.targets[0].id
                read = _sole_unconditional_read(second, name)
                if read is not None:
                    tries = enclosing.get(id(body))      # None: a list the walk does not know (none today)
                    unseen = tries is not None and all(_handlers_return_without_reading(t, name) for t in tries)
                    last = _last_to_read(body, i + 1, name, raise_only, unseen, rests)
                    pairs.append((body, first, second, name, read, last))
    paired: dict[str, int] = {}
    for _body, _first, _second, name, _read, _last in pairs:
        paired[name] = paired.get(name, 0) + 1
    inlined = {name for name, count in paired.items() if count == stores.get(name) == loads.get(name)}
    # In order: in `a = E1; b = a + 1; c = b * 2`, E1 goes into b's statement first, then b's whole value
    # (reading E1 now) into c's.
    changed: dict[int, list] = {}
    for body, first, second, name, (parent, field, index), last in pairs:
        if name not in inlined and not last:
            continue
        value = first.value
        if index is None:
            setattr(parent, field, value)
        else:
            getattr(parent, field)[index] = value
        body.remove(first)
        rests.moved(body, first, second)
        changed[id(body)] = body
    return list(changed.values())


def _enclosing_tries(body: list, tries: tuple, found: dict) -> dict[int, tuple]:
    """For each statement list (by id), the tries in whose body it is: what it raises may reach their
    handlers."""
    found[id(body)] = tries
    for stmt in body:
        inner = tries + (stmt,) if isinstance(stmt, ast.Try) else tries
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                _enclosing_tries(block, inner if field == "body" else tries, found)
        for handler in getattr(stmt, "handlers", []):
            _enclosing_tries(handler.body, tries, found)
    return found


def _copies(stmt, name: str) -> bool:
    """Whether stmt is `y = name` (to locals)."""
    return isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets) \
        and isinstance(stmt.value, ast.Name) and stmt.value.id == name


def _last_to_read(body: list, i: int, name: str, raise_only: bool, unseen: bool, rests: "_Rests") -> bool:
    """Whether body[i] is the last statement to read the value `name` has before it, and no handler can see
    that value after it:

    - body[i] stores `name` with a pure value, and only `raise` statements reach the function's handlers
      (raise_only): it cannot raise, and nothing reads the value after it;
    - or the rest of body never reads `name` and ends in a return on every path, and the handlers of the
      tries around body neither read `name` nor let control go on past them (unseen): what body[i] and
      the rest raise leaves the function or meets a handler that does not read the value."""
    stmt = body[i]
    if sum(1 for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id == name) != 1 + _stores_only(stmt, name):
        return False        # it reads the value elsewhere too (an if's branches)
    if _stores_only(stmt, name):
        return raise_only
    if not (unseen and _returns(body[i + 1:])):
        return False
    loads, scoped = rests.after(body, i)
    return name not in loads and not scoped


class _Rests:
    """What the statements of a list from each position on load, and whether they hold a nested scope (a
    def or lambda); each statement is walked once for all the rounds of _inline_single_uses (the lists are
    long and deep in big programs). A name that inlining took away may still be counted: that only keeps
    a value where it is."""

    def __init__(self, fn: ast.FunctionDef):
        self.fn = fn
        self.own: dict[int, tuple[frozenset, bool]] | None = None      # made when first needed
        self.cache: dict[int, list] = {}

    def _statements(self, body: list) -> tuple[set, bool]:
        """Walk body's statements, noting each one's (loads, holds a scope); return the union of them."""
        loads, scoped = set(), False
        for stmt in body:
            own, own_scoped = set(), isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            for _field, value in ast.iter_fields(stmt):
                for child in value if isinstance(value, list) else [value]:
                    if isinstance(child, ast.excepthandler):
                        child = child.type          # its body is walked below
                    if isinstance(child, ast.expr):     # (lists of statements are walked below)
                        for n in ast.walk(child):
                            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                                own.add(n.id)
                            elif isinstance(n, ast.Lambda):
                                own_scoped = True
            for field in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    inner, inner_scoped = self._statements(block)
                    own |= inner
                    own_scoped = own_scoped or inner_scoped
            for handler in getattr(stmt, "handlers", []):
                inner, inner_scoped = self._statements(handler.body)
                own |= inner
                own_scoped = own_scoped or inner_scoped
            self.own[id(stmt)] = (frozenset(own), own_scoped)
            loads |= own
            scoped = scoped or own_scoped
        return loads, scoped

    def moved(self, body: list, first, second) -> None:
        """`first` was taken out of body into `second`. What a statement around them loads stays a superset
        of what it loads now (the moved names stay inside it): only body's positions changed."""
        self.cache.pop(id(body), None)
        if self.own is not None:
            a, b = self.own[id(first)], self.own[id(second)]
            self.own[id(second)] = (a[0] | b[0], a[1] or b[1])

    def after(self, body: list, i: int) -> tuple[set, bool]:
        """(the names body[i + 1:] loads, whether body[i:] holds a nested scope)."""
        suffixes = self.cache.get(id(body))
        if suffixes is None:
            if self.own is None:
                self.own = {}
                self._statements(self.fn.body)
            suffixes = [(frozenset(), False)]
            for stmt in reversed(body):
                loads, scoped = suffixes[-1]
                own, own_scoped = self.own[id(stmt)]
                suffixes.append((loads | own, scoped or own_scoped))
            suffixes.reverse()          # suffixes[k]: body[k:]
            self.cache[id(body)] = suffixes
        return suffixes[i + 1][0], suffixes[i][1]


def _handlers_return_without_reading(stmt: ast.Try, name: str) -> bool:
    """Whether every handler of the try ends in a return on every path without reading `name` (and no
    finally block runs after them)."""
    return not stmt.finalbody and all(_returns(h.body) and not any(name in _loads(s) for s in h.body)
                                      for h in stmt.handlers)


def _stores_only(stmt, name: str) -> bool:
    """Whether stmt is `name = <pure value>`."""
    return isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
        and stmt.targets[0].id == name and _pure(stmt.value)


def _returns(stmts: list) -> bool:
    """Whether every path through stmts ends in a return (the last statement is one, or an if whose
    branches both end so)."""
    if not stmts:
        return False
    last = stmts[-1]
    return isinstance(last, ast.Return) or (isinstance(last, ast.If) and _returns(last.body)
                                            and _returns(last.orelse))


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.LShift, ast.RShift, ast.Mod, ast.FloorDiv)
_BITWISE = (ast.BitAnd, ast.BitOr, ast.BitXor)


def _surely_int(node, int_locals: set[str] = frozenset()) -> bool:
    """Whether node's value is an int (not a bool, which `|` and `&` of bools keep)."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.Name):
        return node.id in int_locals
    if isinstance(node, ast.Call):        # int.from_bytes(...), or the module's binding of it
        if isinstance(node.func, ast.Name):
            return node.func.id == FROM_BYTES
        return isinstance(node.func, ast.Attribute) and node.func.attr == "from_bytes" \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "int"
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _ARITHMETIC) or (isinstance(node.op, _BITWISE) and (
            _surely_int(node.left, int_locals) or _surely_int(node.right, int_locals)))
    return False


def _int_locals(fn: ast.FunctionDef) -> set[str]:
    """Locals that only ever hold ints: every store is `name = <an int>` (with ints of such locals)."""
    stores, plain_targets = plain_stores(fn)
    others = {a.arg for a in fn.args.args}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and id(node) not in plain_targets:
            others.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            others.add(node.name)
    ints = set(stores) - others
    while True:
        kept = {n for n in ints if all(_surely_int(v, ints) for v in stores[n])}
        if kept == ints:
            return ints
        ints = kept


def _zero(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 0


def _surely_non_negative(node, non_negative: set[str] = frozenset()) -> bool:
    """Whether node's value is an int (or bool) >= 0: a field read masks, a header is unsigned."""
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, bool) and node.value >= 0
    if isinstance(node, ast.Name):
        return node.id in non_negative
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitAnd):
            # x & c is within 0 .. c for any int x.
            return any(isinstance(side, ast.Constant) and type(side.value) is int and side.value >= 0
                       for side in (node.left, node.right))
        if isinstance(node.op, ast.RShift):
            return _surely_non_negative(node.left, non_negative) and _surely_int(node.right, non_negative)
        if isinstance(node.op, (ast.BitOr, ast.Add, ast.Mult)):
            return _surely_non_negative(node.left, non_negative) and _surely_non_negative(node.right, non_negative)
    return False


def _non_negative_locals(fn: ast.FunctionDef, int_locals: set[str]) -> set[str]:
    """The int locals whose every store is of a value >= 0."""
    stores: dict[str, list] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name) and t.id in int_locals:
                    stores.setdefault(t.id, []).append(node.value)
    kept = set(stores)
    while True:
        still = {n for n in kept if all(_surely_non_negative(v, kept) for v in stores[n])}
        if still == kept:
            return kept
        kept = still


class _Identities(ast.NodeTransformer):
    """`0 << n` is 0; `x << 0`, `x >> 0`, `x | 0` and `0 | x` are x when x is an int (the packing of a field
    list leaves them once the widths and validity are known); `0 <= x <= c` is `x <= c` when x is never
    negative (a select's range on an unsigned key)."""

    def __init__(self, int_locals: set[str], non_negative: set[str] = frozenset()):
        self.int_locals = int_locals
        self.non_negative = non_negative

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) >= 2 and _zero(node.left) and isinstance(node.ops[0], ast.LtE) \
                and _surely_non_negative(node.comparators[0], self.non_negative):
            return ast.copy_location(ast.Compare(node.comparators[0], node.ops[1:], node.comparators[1:]), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.LShift) and _zero(node.left) and isinstance(node.right, ast.Constant) \
                and type(node.right.value) is int and node.right.value >= 0:
            return ast.copy_location(ast.Constant(0), node)
        if isinstance(node.op, (ast.LShift, ast.RShift, ast.BitOr)) and _zero(node.right) \
                and _surely_int(node.left, self.int_locals):
            return node.left
        if isinstance(node.op, ast.BitOr) and _zero(node.left) and _surely_int(node.right, self.int_locals):
            return node.right
        return node

    def visit_Lambda(self, node):
        return node


def _sole_unconditional_read(stmt, name: str):
    """Where a simple statement (or an if's test) reads `name`, if it reads it exactly once and that read
    is always evaluated: (parent node, field, index or None); else None."""
    if isinstance(stmt, (ast.Assign, ast.Expr, ast.Return)):
        root = stmt.value
    elif isinstance(stmt, ast.If):
        root = stmt.test
    else:
        return None
    if root is None or any(isinstance(n, (ast.NamedExpr, ast.Lambda)) for n in ast.walk(root)):
        return None
    found = []

    def visit(node, conditional: bool):
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for i, child in enumerate(children):
                if not isinstance(child, ast.AST):
                    continue
                later = (isinstance(node, ast.BoolOp) and i > 0) or \
                    (isinstance(node, ast.IfExp) and field in ("body", "orelse"))
                if isinstance(child, ast.Name) and child.id == name:
                    found.append((node, field, i if isinstance(value, list) else None, conditional or later))
                else:
                    visit(child, conditional or later)

    if isinstance(root, ast.Name):
        return (stmt, "value" if not isinstance(stmt, ast.If) else "test", None) if root.id == name else None
    visit(root, False)
    if len(found) != 1 or found[0][3]:
        return None
    parent, field, index, _ = found[0]
    if isinstance(stmt, ast.Assign) and any(isinstance(n, ast.Name) and n.id == name for t in stmt.targets
                                            for n in ast.walk(t) if not isinstance(t, ast.Name)):
        return None
    return parent, field, index


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
        if isinstance(stmt, ast.If):
            stmt = _without_empty_branches(stmt)
        if not isinstance(stmt, ast.Pass):
            out.append(stmt)
    return out or [ast.Pass()]


def _without_empty_branches(stmt: ast.If):
    """A last `elif TEST: pass` goes when its test only compares locals and constants (a table's NoAction:
    `elif aid == 1: pass`); `if TEST: pass else: B` is `if not TEST: B` (B not itself an elif, which would
    then nest one level deeper)."""
    if len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If):
        last = _without_empty_branches(stmt.orelse[0])
        stmt.orelse = [] if _is_pass(last.body) and not last.orelse and _plain_test(last.test) else [last]
    if _is_pass(stmt.body) and stmt.orelse and not (len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If)):
        stmt.test, stmt.body, stmt.orelse = ast.UnaryOp(ast.Not(), stmt.test), stmt.orelse, []
    return stmt


def _is_pass(stmts: list) -> bool:
    return len(stmts) == 1 and isinstance(stmts[0], ast.Pass)


def _plain_test(test) -> bool:
    """Whether test only compares and combines locals and int constants: it has no effect and cannot raise."""
    plain = (ast.Name, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.expr_context, ast.cmpop, ast.boolop, ast.unaryop)
    return all(isinstance(n, plain) or (isinstance(n, ast.Constant) and type(n.value) in (int, bool))
               for n in ast.walk(test))
