"""Table lookups for whole columns of keys, built from a device's tables as they are when a batch starts.

Each structure answers the same question as the scalar lookup (runtime/tables.py) for every row at once:

- exact: the entries' keys sorted, found with searchsorted;
- lpm on one key: the prefixes cut into disjoint intervals, each labelled with its longest prefix
  (painted shortest first, so longer prefixes overwrite), found with searchsorted;
- anything else (ternary, range, optional, lpm beside other fields): a priority scan, entries in the
  order the scalar lookup prefers them (highest rank, then the entry added first), each claiming the
  rows it matches that no better entry claimed.

A miss gives the table's default action. `lookup(keys, mask)` returns (hit, action id, per-action
argument columns).
"""

from __future__ import annotations

import numpy as np

from ..runtime.tables import ExactIndex, LpmIndex

U64 = np.uint64


class ColumnTable:
    def __init__(self, table):
        self.table = table
        entries = sorted(table.entries.values(), key=lambda e: e.handle)
        self.entries = entries
        self.n_actions = len(table.actions)
        self.entry_aid = np.array([e.aid for e in entries], dtype=np.int64)
        self._build(table, entries)
        # Action data per action: a column per parameter over entries (0 where another action is chosen),
        # plus the default action's arguments.
        self.args = []
        for spec in table.actions:
            cols = []
            for j in range(len(spec.params)):
                cols.append(np.array([int(e.args[j]) if e.aid == spec.aid else 0 for e in entries] + [0],
                                     dtype=U64))
            self.args.append(cols)

    def _build(self, table, entries) -> None:
        index = table.index
        self.kind = "scan"
        if not table.keys:
            self.kind = "keyless"
            return
        if isinstance(index, ExactIndex):
            keys = np.array([e.key for e in entries], dtype=U64)
            order = np.argsort(keys, kind="stable")
            self.kind = "exact"
            self.sorted_keys = keys[order]
            self.sorted_entry = order.astype(np.int64)
            return
        if isinstance(index, LpmIndex) and len(table.keys) == 1:
            width = table.keys[0].width
            full = (1 << width) - 1
            spans = []
            for i, e in enumerate(entries):
                mask = e.mask if e.mask is not None else full
                spans.append((bin(mask).count("1"), e.key, e.key | (full & ~mask), i))
            bounds = sorted({0} | {lo for _, lo, _, _ in spans} | {hi + 1 for _, _, hi, _ in spans if hi < full})
            starts = np.array(bounds, dtype=U64)
            label = np.full(len(bounds), -1, dtype=np.int64)
            spans.sort()
            los = np.searchsorted(starts, np.array([lo for _, lo, _, _ in spans], dtype=U64))
            ends = np.searchsorted(starts, np.array([min(hi + 1, full) for _, _, hi, _ in spans], dtype=U64))
            for (_plen, _lo, hi, i), a, b in zip(spans, los.tolist(), ends.tolist()):
                label[a:len(bounds) if hi >= full else b] = i
            self.kind = "lpm"
            self.starts = starts
            self.label = label
            # A first step on the top bits of the key: the interval that holds each block of keys sharing
            # them, or -1 when the block is cut by more than one interval (searched then).
            self.top_shift = max(0, width - 16)
            blocks = np.arange(1 << min(width, 16), dtype=U64) << U64(self.top_shift)
            first = np.searchsorted(starts, blocks, side="right") - 1
            last = np.searchsorted(starts, blocks + U64((1 << self.top_shift) - 1), side="right") - 1
            self.block_interval = np.where(first == last, first, -1)
            return
        # Priority scan: the order of preference of the scalar lookups.
        if isinstance(index, LpmIndex):
            order = sorted(range(len(entries)), key=lambda i: -bin(entries[i].mask).count("1"))
        else:
            order = sorted(range(len(entries)), key=lambda i: (-entries[i].rank, entries[i].handle))
        self.scan = [(i, entries[i].key, entries[i].mask, entries[i].ranges) for i in order]

    def find(self, keys: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The entry index of every row (-1: miss); rows outside mask are left as misses."""
        n = len(keys)
        if self.kind == "keyless" or not self.entries:
            return np.full(n, -1, dtype=np.int64)
        if self.kind == "exact":
            pos = np.searchsorted(self.sorted_keys, keys)
            pos = np.minimum(pos, len(self.sorted_keys) - 1)
            found = self.sorted_keys[pos] == keys
            return np.where(found & mask, self.sorted_entry[pos], -1)
        if self.kind == "lpm":
            pos = self.block_interval[keys >> U64(self.top_shift)]
            cut = pos < 0
            if cut.any():
                pos[cut] = np.searchsorted(self.starts, keys[cut], side="right") - 1
            return np.where(mask, self.label[pos], -1)
        found = np.full(n, -1, dtype=np.int64)
        left = mask.copy()
        for i, key, kmask, ranges in self.scan:
            hit = left & ((keys & U64(kmask if kmask is not None else (1 << 64) - 1)) == U64(key))
            for shift, m, lo, hi in ranges:
                v = (keys >> U64(shift)) & U64(m)
                hit &= (v >= U64(lo)) & (v <= U64(hi))
            if hit.any():
                found[hit] = i
                left &= ~hit
                if not left.any():
                    break
        return found

    def lookup(self, keys: np.ndarray, mask: np.ndarray):
        ent = self.find(keys, mask)
        hit = ent >= 0
        t = self.table
        aid = np.where(hit, self.entry_aid[ent] if len(self.entries) else -1, t.default_aid)
        args = []
        for spec, cols in zip(t.actions, self.args):
            out = []
            for j, col in enumerate(cols):
                default = int(t.default_args[j]) if t.default_aid == spec.aid else 0
                out.append(np.where(hit, col[ent], U64(default)))
            args.append(out)
        return hit, aid, args
