"""Two headers extracted from neighbouring bytes of the packet, read with one conversion: a pass over the
generated fast().

The parser extracts each header into one int: Ethernet, then IPv4 once the EtherType says so,

    h_ethernet_b_p = int_from_bytes(data[0:14], 'big')
    h_ethernet_v_p = True
    k = data[12] * 256 + data[13]
    if k == 0x800:
        if 34 > n:
            raise ParserStop(1)
        h_ipv4_b_p = int_from_bytes(data[14:34], 'big')

a slice and a call each (by callgrind ~1,300 and ~1,400 instructions). Where the second is reached, one
conversion of both headers' bytes and a split cost ~430 less:

    x = int_from_bytes(data[0:34], 'big')
    h_ethernet_b_p = x >> 160
    h_ipv4_b_p = x & (1 << 160) - 1

The first extraction moves down to the second, into each branch of an `if` on the way (a copy at the start
of each, the `else` made if there is none), into the body of a guard (an `if` without `else` whose body
ends in a raise or return: the paths that leave there still extract the header, the others go on). It
moves only past what cannot tell: statements that assign names (not the header's local, not `data`) and
tests, that neither read the header's local nor call anything; and only in a function whose handlers
catch only ParserStop and ExitControl, which only `raise` statements raise (never moved past), with no
`finally`: an exception from what it moves past (an index out of range) leaves fast(), its locals with
it. `data` is a parameter never rebound, so both conversions read the same bytes, and the split is the
two extractions only where `data` surely has the second's last byte (bytereads.py proves it, and marks
the extraction `in_bounds`). Copies that meet no second extraction change no path's work; the pass keeps
them only if some pair was joined.
"""

from __future__ import annotations

import ast
import copy

from .astnames import catches_only_raised, fresh, names_taken, stored_names
from .bytereads import extracted
from .masks import never_rebound

_TERMINATORS = (ast.Raise, ast.Return)


def join_neighbouring_extracts(fn: ast.FunctionDef, data: str = "data") -> None:
    """Extract neighbouring headers with one conversion where the second follows the first (module doc)."""
    if not never_rebound(fn, data) or not _only_raised_exceptions_caught(fn):
        return
    body = copy.deepcopy(fn.body)
    joiner = _Joiner(data, names_taken(fn))
    joiner.block(body)
    if joiner.joined:
        fn.body = body


def _only_raised_exceptions_caught(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Try):
            if node.finalbody or not all(catches_only_raised(h) for h in node.handlers):
                return False
        elif isinstance(node, (ast.With, ast.AsyncWith)) or (hasattr(ast, "TryStar") and isinstance(node, ast.TryStar)):
            return False
    return True


class _Joiner:
    def __init__(self, data: str, taken: set[str]):
        self.data, self.taken, self.joined = data, taken, 0

    def block(self, stmts: list) -> None:
        """Join the extractions that start in stmts (and in the lists nested in it)."""
        i = 0
        while i < len(stmts):
            stmt = stmts[i]
            if self.extraction(stmt) is not None and self.sink(stmts, i):
                continue        # stmts[i] is what followed it: look at it in turn
            for nested in _statement_lists_in(stmt):
                self.block(nested)
            i += 1

    def extraction(self, stmt) -> tuple[str, tuple[int, int]] | None:
        """(target, (a, b)) if stmt is `target = int_from_bytes(data[a:b], 'big')`."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return None
        source = extracted(stmt.value, self.data)
        return None if source is None else (stmt.targets[0].id, source)

    def sink(self, stmts: list, i: int) -> bool:
        """Move the extraction stmts[i] down as far as it goes (module doc), joining it with the extraction of
        the bytes that follow its own if it meets one; whether it left stmts[i]."""
        first = stmts[i]
        target, (a, b) = self.extraction(first)
        j = i + 1
        while j < len(stmts):
            stmt = stmts[j]
            second = self.extraction(stmt)
            if second is not None and second[1][0] == b and second[0] != target and getattr(stmt, "in_bounds", False):
                stmts[j:j + 1] = self.joined_reads(target, second[0], a, b, second[1][1])
                del stmts[i]
                self.joined += 1
                return True
            if isinstance(stmt, ast.If) and self.passable(stmt.test, target):
                if not stmt.orelse and stmt.body and isinstance(stmt.body[-1], _TERMINATORS):
                    stmt.body.insert(0, copy.deepcopy(first))       # a guard: the others go on below
                    j += 1
                    continue
                stmt.body.insert(0, copy.deepcopy(first))
                stmt.orelse = [copy.deepcopy(first)] + stmt.orelse
                del stmts[i]
                return True
            if not (isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)
                    and self.passable(stmt, target)):
                break
            j += 1
        if j > i + 1:
            stmts.insert(j - 1, stmts.pop(i))
            return True
        return False

    def passable(self, node, target: str) -> bool:
        """Whether the extraction of `target` may move past node (module doc)."""
        if any(isinstance(n, (ast.Call, ast.NamedExpr, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom,
                              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) for n in ast.walk(node)):
            return False
        read = any(isinstance(n, ast.Name) and n.id == target for n in ast.walk(node))
        return not read and not stored_names(node) & {target, self.data}

    def joined_reads(self, first: str, second: str, a: int, b: int, c: int) -> list:
        """x = int_from_bytes(data[a:c], 'big'); first = x >> 8(c-b); second = x & 2**8(c-b) - 1."""
        whole = fresh(f"{first}_{second}", self.taken)
        width = 8 * (c - b)
        value = ast.Call(ast.Name("int_from_bytes", ast.Load()),
                         [ast.Subscript(ast.Name(self.data, ast.Load()),
                                        ast.Slice(ast.Constant(a), ast.Constant(c)), ast.Load()),
                          ast.Constant("big")], [])
        mask = ast.Constant((1 << width) - 1)
        mask.hex = True
        return [ast.Assign([ast.Name(whole, ast.Store())], value, lineno=0),
                ast.Assign([ast.Name(first, ast.Store())],
                           ast.BinOp(ast.Name(whole, ast.Load()), ast.RShift(), ast.Constant(width)), lineno=0),
                ast.Assign([ast.Name(second, ast.Store())],
                           ast.BinOp(ast.Name(whole, ast.Load()), ast.BitAnd(), mask), lineno=0)]


def _statement_lists_in(stmt) -> list[list]:
    """The lists of statements directly in a compound statement (bodies, else branches, handlers)."""
    lists = [getattr(stmt, field, None) for field in ("body", "orelse", "finalbody")]
    lists += [handler.body for handler in getattr(stmt, "handlers", ())]
    return [block for block in lists if isinstance(block, list) and block and isinstance(block[0], ast.stmt)]
