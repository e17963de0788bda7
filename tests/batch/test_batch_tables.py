"""Column lookups find, for every key, the entry the scalar lookup finds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dataplane.batch.tables import ColumnTable
from dataplane.runtime.tables import ActionSpec, KeySpec, MatchValue, Table


def _table(kinds: list[tuple[str, int]], smallest_wins: bool = False) -> Table:
    t = Table("t", [KeySpec(f"k{i}", kind, w) for i, (kind, w) in enumerate(kinds)],
              [ActionSpec("a", "a", [("x", 16)], 0), ActionSpec("b", "b", [], 1)], size=100_000,
              default=(1, ()))
    t.largest_priority_wins = not smallest_wins
    return t


def _value(kind: str, width: int, rng: random.Random, base: int) -> MatchValue:
    full = (1 << width) - 1
    if kind == "exact":
        return MatchValue(base & full)
    if kind == "lpm":
        plen = rng.randrange(0, width + 1)
        mask = full ^ ((1 << (width - plen)) - 1)
        return MatchValue(base & mask, prefix_len=plen)
    if kind == "ternary":
        mask = rng.choice([0, full, full & 0xF0F0, rng.getrandbits(width)])
        return MatchValue(base & mask, mask=mask)
    lo = base & full & ~0xF
    return MatchValue(lo=lo, hi=min(full, lo + rng.randrange(0, 40)))


def _compare(t: Table, rng: random.Random, keys: list[int]) -> None:
    col = ColumnTable(t)
    arr = np.array(keys, dtype=np.uint64)
    mask = np.ones(len(keys), dtype=bool)
    mask[::5] = False            # rows outside the mask miss
    hit, aid, args = col.lookup(arr, mask)
    for i, k in enumerate(keys):
        e = t.lookup(k) if mask[i] else None
        assert bool(hit[i]) == (e is not None), hex(k)
        if e is None:
            assert aid[i] == t.default_aid
        else:
            assert aid[i] == e.aid and (e.aid != 0 or args[0][0][i] == e.args[0])


@pytest.mark.parametrize("kinds", [
    [("exact", 16), ("exact", 8)],
    [("lpm", 32)],
    [("exact", 8), ("lpm", 16)],
    [("ternary", 16), ("range", 12)],
    [("ternary", 16), ("exact", 4)],
])
@pytest.mark.parametrize("smallest_wins", [False, True])
def test_column_lookup_agrees_with_scalar_lookup(kinds, smallest_wins):
    rng = random.Random(str(kinds) + str(smallest_wins))
    t = _table(kinds, smallest_wins)
    width = sum(w for _, w in kinds)
    bases = [rng.getrandbits(width) for _ in range(60)]
    for i in range(300):
        base = rng.choice(bases) ^ rng.choice([0, 0, rng.getrandbits(6)])
        match = []
        shift = width
        for kind, w in kinds:
            shift -= w
            match.append(_value(kind, w, rng, base >> shift))
        action = rng.choice(["a", "b"])
        try:
            t.add(match, action, [rng.getrandbits(16)] if action == "a" else [],
                  priority=rng.randrange(0, 8) if t.needs_priority else None)
        except Exception:
            continue          # the same key twice
    keys = [rng.choice(bases) ^ rng.choice([0, 1, rng.getrandbits(width)]) for _ in range(2000)]
    _compare(t, rng, keys)


def test_empty_and_keyless_tables_miss():
    t = _table([("exact", 8)])
    hit, aid, _ = ColumnTable(t).lookup(np.arange(4, dtype=np.uint64), np.ones(4, dtype=bool))
    assert not hit.any() and (aid == 1).all()
    keyless = Table("k", [], [ActionSpec("a", "a", [("x", 16)], 0)], 1, default=(0, (7,)))
    hit, aid, args = ColumnTable(keyless).lookup(np.zeros(3, dtype=np.uint64), np.ones(3, dtype=bool))
    assert not hit.any() and (aid == 0).all() and (args[0][0] == 7).all()
