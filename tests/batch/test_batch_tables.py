"""Column lookups find, for every key, the entry the scalar lookup finds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dataplane.batch.program import key_bytes
from dataplane.batch.tables import ColumnTable
from dataplane.runtime.tables import ActionSpec, KeySpec, MatchValue, Table


def _table(kinds: list[tuple[str, int]], smallest_wins: bool = False) -> Table:
    t = Table("t", [KeySpec(f"k{i}", kind, w) for i, (kind, w) in enumerate(kinds)],
              [ActionSpec("a", "a", [("x", 16 if sum(w for _, w in kinds) <= 64 else 128)], 0),
               ActionSpec("b", "b", [], 1)], size=100_000,
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
    arr = _column_keys(t, keys)
    mask = np.ones(len(keys), dtype=bool)
    mask[::5] = False            # rows outside the mask miss
    hit, aid, args = col.lookup(arr, mask)
    for i, k in enumerate(keys):
        e = t.lookup(k) if mask[i] else None
        assert bool(hit[i]) == (e is not None), hex(k)
        if e is None:
            assert aid[i] == t.default_aid
        else:
            assert aid[i] == e.aid and (e.aid != 0 or _arg(args[0][0], i) == e.args[0])


def _column_keys(t: Table, keys: list[int]) -> np.ndarray:
    """Keys as the program side makes them: uint64, or each field's bytes when wider than 64 bits."""
    if sum(k.width for k in t.keys) <= 64:
        return np.array(keys, dtype=np.uint64)
    parts = [key_bytes(np.array([[(v >> k.shift) >> 64 & (2 ** 64 - 1), (v >> k.shift) & (2 ** 64 - 1)]
                                 for v in keys], dtype=np.uint64) if k.width > 64 else
                       np.array([(v >> k.shift) & ((1 << k.width) - 1) for v in keys], dtype=np.uint64),
                       k.width, len(keys)) for k in t.keys]
    joined = np.ascontiguousarray(np.concatenate(parts, axis=1))
    return joined.view(np.dtype((np.void, joined.shape[1])))[:, 0]


def _arg(col: np.ndarray, i: int) -> int:
    return int(col[i]) if col.ndim == 1 else (int(col[i, 0]) << 64) | int(col[i, 1])


@pytest.mark.parametrize("kinds", [
    [("exact", 16), ("exact", 8)],
    [("lpm", 32)],
    [("exact", 8), ("lpm", 16)],
    [("ternary", 16), ("range", 12)],
    [("ternary", 16), ("exact", 4)],
    [("lpm", 128)],
    [("exact", 128), ("exact", 9)],
    [("exact", 48), ("exact", 20)],
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
            t.add(match, action, [rng.getrandbits(t.actions[0].params[0][1])] if action == "a" else [],
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
