"""Table lookups for whole columns of keys, built from a device's tables as they are when a batch starts.

Each structure answers the same question as the scalar lookup (runtime/tables.py) for every row at once:

- exact: the entries' keys sorted, found with searchsorted;
- lpm on one key: the prefixes cut into disjoint intervals, each labelled with its longest prefix
  (painted shortest first, so longer prefixes overwrite), found with searchsorted;
- anything else (ternary, range, optional, lpm beside other fields): a priority scan, entries in the
  order the scalar lookup prefers them (highest rank, then the entry added first), each claiming the
  rows it matches that no better entry claimed.

Keys wider than 64 bits (exact fields, or one lpm field: IPv6 addresses) are byte strings, the fields'
big-endian bytes one after the other, sorted and searched as bytes.

What is read of a runtime Table: `keys` (match kind, width, shift), `actions` (aid, params), `entries`
(each entry's handle, key, mask, ranges, rank, aid, args), `default_aid` and `default_args`.

A miss gives the table's default action. `lookup(keys, mask)` returns (hit, action id, per-action
argument columns).
"""

from __future__ import annotations

import numpy as np

U64 = np.uint64


def _column(values: list[int], width: int) -> np.ndarray:
    """Values as a uint64 column, or n x 2 columns (the bits above 64, the low 64) when wider."""
    if width <= 64:
        return np.array(values, dtype=U64)
    return np.array([(v >> 64, v & 0xFFFFFFFFFFFFFFFF) for v in values], dtype=U64).reshape(len(values), 2)


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
            for j, (_, width) in enumerate(spec.params):
                values = [int(e.args[j]) if e.aid == spec.aid else 0 for e in entries] + [0]
                cols.append(_column(values, width))
            self.args.append(cols)

    def _build(self, table, entries) -> None:
        self.kind = "scan"
        kinds = [k.match_kind for k in table.keys]
        width = sum(k.width for k in table.keys)
        # Keys wider than 64 bits (IPv6 addresses) are byte strings: each field's big-endian bytes in
        # turn, compared as bytes (the program side makes the same strings, program.key_bytes).
        self.wide = width > 64
        if not table.keys:
            self.kind = "keyless"
            return
        if set(kinds) <= {"exact"}:
            keys = self._keys([e.key for e in entries])
            order = np.argsort(keys, kind="stable")
            self.kind = "exact"
            self.sorted_keys = keys[order]
            self.sorted_entry = order.astype(np.int64)
            return
        if kinds == ["lpm"]:
            full = (1 << width) - 1
            spans = []
            for i, e in enumerate(entries):
                mask = e.mask if e.mask is not None else full
                spans.append((bin(mask).count("1"), e.key, e.key | (full & ~mask), i))
            bounds = sorted({0} | {lo for _, lo, _, _ in spans} | {hi + 1 for _, _, hi, _ in spans if hi < full})
            where = {b: j for j, b in enumerate(bounds)}
            label = np.full(len(bounds), -1, dtype=np.int64)
            for _plen, lo, hi, i in sorted(spans):       # shortest first: longer prefixes paint over them
                label[where[lo]:len(bounds) if hi >= full else where[hi + 1]] = i
            starts = self._keys(bounds)
            self.kind = "lpm"
            self.starts = starts
            self.label = label
            if self.wide:
                return
            # A first step on the top bits of the key: the interval that holds each block of keys sharing
            # them, or -1 when the block is cut by more than one interval (searched then).
            self.top_shift = max(0, width - 16)
            blocks = np.arange(1 << min(width, 16), dtype=U64) << U64(self.top_shift)
            first = np.searchsorted(starts, blocks, side="right") - 1
            last = np.searchsorted(starts, blocks + U64((1 << self.top_shift) - 1), side="right") - 1
            self.block_interval = np.where(first == last, first, -1)
            return
        # Priority scan: the order of preference of the scalar lookups.
        if kinds.count("lpm") == 1 and set(kinds) <= {"exact", "lpm"}:       # longest prefix first
            order = sorted(range(len(entries)), key=lambda i: -bin(entries[i].mask).count("1"))
        else:
            order = sorted(range(len(entries)), key=lambda i: (-entries[i].rank, entries[i].handle))
        self.scan = [(i, entries[i].key, entries[i].mask, entries[i].ranges) for i in order]

    def _keys(self, values: list[int]) -> np.ndarray:
        """Whole keys as a column: uint64, or byte strings of each field's bytes when wide."""
        if not self.wide:
            return np.array(values, dtype=U64)
        parts = []
        for k in self.table.keys:
            nb = (k.width + 7) // 8
            field = [(v >> k.shift) & ((1 << k.width) - 1) for v in values]
            parts.append(np.frombuffer(b"".join(x.to_bytes(nb, "big") for x in field), dtype=np.uint8)
                         .reshape(len(values), nb))
        joined = np.ascontiguousarray(np.concatenate(parts, axis=1))
        return joined.view(np.dtype((np.void, joined.shape[1])))[:, 0]

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
        if self.kind == "lpm" and self.wide:
            pos = np.searchsorted(self.starts, keys, side="right") - 1
            return np.where(mask, self.label[pos], -1)
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
                if col.ndim == 2:
                    out.append(np.where(hit[:, None], col[ent], _column([default], spec.params[j][1])))
                else:
                    out.append(np.where(hit, col[ent], U64(default)))
            args.append(out)
        return hit, aid, args
