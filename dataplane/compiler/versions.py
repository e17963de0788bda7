"""Versions of the code after the parser, one per set of valid headers, for a parser with many exits.

simplify.py copies the code after the parser to each path through it when the paths are few; the copies
then know which headers are valid. A parser with many paths (IPv4 with or without options, TCP, UDP,
SCTP, each behind an optional CPU header) gets, instead, one copy per *set of valid headers* that its
paths end with, chosen by a test of the validity locals, and the original code for anything else:

    if h_ethernet_v_p and h_ipv4_v_p and not h_arp_v_p and not h_cpu_out_v_p:
        <the code after the parser, for Ethernet and IPv4>
    elif ...:
        ...
    else:
        <the code after the parser, as it was>

Constant propagation then folds the validity tests in each copy (the deparser's in particular). The test
of a copy names every validity local the parser sets, so its facts hold on whatever path reaches it,
a parser error's included; the code is the same code, so every outcome is the same.
"""

from __future__ import annotations

import ast
import copy

from .astnames import stored_names as _stored_names

# At most this many versions, besides the original; and as much code in all as simplify.py allows copies.
MAX_VERSIONS = 6


def versions_by_validity(body: list, parser_index: int, booleans: set[str], max_nodes: int) -> list:
    """body with the statements after the parser (body[parser_index]) replaced by a chain of versions,
    or body as it is when that is not worth it or too big."""
    parser, rest = body[parser_index], body[parser_index + 1:]
    if not rest:
        return body
    entry = _facts_after(body[:parser_index], {})
    # The boolean locals set before the parser (a header's validity) that the parser may change: always
    # bound, so a test may read them whatever the path (a lookahead's flag is bound only on its path).
    set_by_parser = sorted(n for n in _stored_names(parser) if n in booleans and entry and n in entry)
    if entry is None or not set_by_parser:
        return body
    counts: dict[tuple, int] = {}
    for facts in _exit_facts(parser.body, entry):
        pattern = tuple(facts.get(name) for name in set_by_parser)
        if None not in pattern:
            counts[pattern] = counts.get(pattern, 0) + 1
    # The patterns most paths end with first; among those, the one with fewer headers first (an extra
    # header, a CPU port's or IPv4 options, is the rarer case).
    patterns = sorted(counts, key=lambda p: (-counts[p], sum(p)))[:MAX_VERSIONS]
    size = sum(1 for s in rest for _ in ast.walk(s))
    if len(patterns) < 2 or size * (len(patterns) + 1) > max_nodes:
        return body
    chain: list = rest
    for pattern in reversed(patterns):
        test = _pattern_test(set_by_parser, pattern)
        chain = [ast.If(test=test, body=copy.deepcopy(rest), orelse=chain)]
    return body[:parser_index + 1] + chain


def _pattern_test(names: list[str], pattern: tuple):
    """`a and not b and ...`: the True ones first."""
    literals = [ast.Name(n, ast.Load()) for n, v in zip(names, pattern) if v]
    literals += [ast.UnaryOp(ast.Not(), ast.Name(n, ast.Load())) for n, v in zip(names, pattern) if not v]
    return literals[0] if len(literals) == 1 else ast.BoolOp(ast.And(), literals)


def _facts_after(stmts: list, facts: dict) -> dict | None:
    """What is known of the boolean locals after stmts run from start to end (None if they never end):
    straight-line `name = True/False` stores; anything a nested statement stores becomes unknown."""
    facts = dict(facts)
    for stmt in stmts:
        if isinstance(stmt, (ast.Return, ast.Raise, ast.Break, ast.Continue)):
            return None
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) \
                and type(stmt.value.value) is bool:
            facts.update((t.id, stmt.value.value) for t in stmt.targets if isinstance(t, ast.Name))
        else:
            for name in _stored_names(stmt):
                facts.pop(name, None)
    return facts


def _exit_facts(stmts: list, facts: dict) -> list[dict]:
    """The facts at the end of each path through stmts that leaves it normally (the branches of a trailing
    if, recursively, as simplify.py's _exit_blocks)."""
    if stmts and isinstance(stmts[-1], ast.If):
        before = _facts_after(stmts[:-1], facts)
        if before is None:
            return []
        last = stmts[-1]
        return _exit_facts(last.body, before) + _exit_facts(last.orelse, before)
    after = _facts_after(stmts, facts)
    return [] if after is None else [after]

