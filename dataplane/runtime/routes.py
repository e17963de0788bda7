"""Routes: the entries of a one-field LPM table added in bulk, kept as arrays.

A router of a big network has thousands of routes but few distinct actions
(one per next hop or ECMP group). As Entry objects with their display-only
match values, a route costs about 750 bytes; here it is four array cells:
its handle, its (masked) key, its prefix length and the index of its
(action id, action data) pair in a list of the distinct pairs, about 22
bytes. Entry objects are made when someone reads them (a listing, a
table_dump, the first lookup, which builds the dicts of
tables.LpmIndex from them) and kept, so that an entry read twice is the same
object and a modification reaches the lookups.

Only plain routes live here: no direct counter or meter, priority 0, not
const, and a value given with its host bits clear (so that the key is what
the entry shows). Everything else stays an Entry object in the table.
"""

from __future__ import annotations

import numpy as np

from .tables import Entry, MatchValue, NO_RANGES

# Keys of up to this many bits go into an unsigned 64-bit array, with room for the prefix length in 8 bits
# when duplicates are looked for (key << 8 | length); wider keys (IPv6) are Python ints in an object array.
NARROW_KEY_BITS = 56


class RouteStore:
    def __init__(self, width: int) -> None:
        self.width = width
        self.key_dtype = np.uint64 if width <= NARROW_KEY_BITS else object
        self.handles = np.empty(0, np.int64)        # ascending
        self.keys = np.empty(0, self.key_dtype)
        self.plens = np.empty(0, np.uint16)
        self.acts = np.empty(0, np.int32)
        self.actions: list[tuple[int, tuple]] = []  # the distinct (action id, action data) pairs
        self._action_ids: dict[tuple[int, tuple], int] = {}
        self.cache: dict[int, Entry] = {}           # handle -> the Entry made for it

    def __len__(self) -> int:
        return len(self.handles)

    def action_id(self, aid: int, args: tuple) -> int:
        """The index of (aid, args) in `actions`, added when new."""
        k = (aid, args)
        i = self._action_ids.get(k)
        if i is None:
            i = self._action_ids[k] = len(self.actions)
            self.actions.append(k)
        return i

    def combined(self, keys, plens):
        """One number per route that is equal for equal (key, prefix length): for finding duplicates."""
        if self.key_dtype is object:
            return np.array([(int(k) << 16) | int(p) for k, p in zip(keys, plens)], dtype=object)
        return (keys.astype(np.uint64) << np.uint64(8)) | plens.astype(np.uint64)

    def append(self, first_handle: int, keys, plens, acts) -> None:
        n = len(keys)
        self.handles = np.concatenate([self.handles, np.arange(first_handle, first_handle + n, dtype=np.int64)])
        self.keys = np.concatenate([self.keys, np.asarray(keys, dtype=self.key_dtype)])
        self.plens = np.concatenate([self.plens, np.asarray(plens, dtype=np.uint16)])
        self.acts = np.concatenate([self.acts, np.asarray(acts, dtype=np.int32)])

    def position(self, handle: int) -> int | None:
        i = int(np.searchsorted(self.handles, handle))
        if i < len(self.handles) and int(self.handles[i]) == handle:
            return i
        return None

    def handle_of(self, key: int, plen: int) -> int | None:
        """The handle of the route with this masked key and prefix length, if there is one."""
        if not len(self.handles):
            return None
        hit = np.flatnonzero((self.keys == key) & (self.plens == plen))
        return int(self.handles[hit[0]]) if len(hit) else None

    def entry_at(self, i: int) -> Entry:
        handle = int(self.handles[i])
        e = self.cache.get(handle)
        if e is None:
            e = self._make(handle, int(self.keys[i]), int(self.plens[i]), int(self.acts[i]))
        return e

    def _make(self, handle: int, key: int, plen: int, act: int) -> Entry:
        aid, args = self.actions[act]
        mask = ((1 << plen) - 1) << (self.width - plen)
        e = self.cache[handle] = Entry(handle, key, mask, NO_RANGES, aid, args, 0, [MatchValue(key, prefix_len=plen)])
        return e

    def entry(self, handle: int) -> Entry | None:
        i = self.position(handle)
        return None if i is None else self.entry_at(i)

    def all_entries(self) -> list[Entry]:
        """Every route as an Entry, in handle order (the arrays read as lists at once: much faster than
        element by element)."""
        cache, make = self.cache, self._make
        return [cache.get(h) or make(h, k, p, a) for h, k, p, a in
                zip(self.handles.tolist(), self.keys.tolist(), self.plens.tolist(), self.acts.tolist())]

    def by_length(self) -> dict[int, dict[int, Entry]]:
        """prefix length -> {key: Entry}, for building the lookup."""
        out: dict[int, dict[int, Entry]] = {}
        for e, plen in zip(self.all_entries(), self.plens.tolist()):
            d = out.get(plen)
            if d is None:
                d = out[plen] = {}
            d[e.key] = e
        return out

    def remove(self, handle: int) -> Entry | None:
        i = self.position(handle)
        if i is None:
            return None
        e = self.entry_at(i)
        del self.cache[handle]
        self.handles = np.delete(self.handles, i)
        self.keys = np.delete(self.keys, i)
        self.plens = np.delete(self.plens, i)
        self.acts = np.delete(self.acts, i)
        return e

    def set_action(self, handle: int, aid: int, args: tuple) -> None:
        i = self.position(handle)
        self.acts[i] = self.action_id(aid, args)
        e = self.cache.get(handle)
        if e is not None:
            e.aid, e.args = aid, args

    def clear(self) -> None:
        self.__init__(self.width)

    def nbytes(self) -> int:
        """What the arrays take (object keys: the references only)."""
        return self.handles.nbytes + self.keys.nbytes + self.plens.nbytes + self.acts.nbytes


def add_route_arrays(table, values, plens, choices, which) -> bool:
    """Table.add_routes for a table keyed by one LPM field: False (and nothing added) when a value has host
    bits set or is no number, so that the caller adds the routes one by one as Entry objects."""
    from .tables import TableError
    k = table.keys[0]
    width = k.width
    index = table.index
    resolved = []
    for action, args in choices:
        spec = table.action(action)
        if spec.default_only:
            raise TableError(f"action '{spec.name}' is @defaultonly and cannot be used in an entry of '{table.name}'")
        resolved.append((spec.aid, table.check_args(spec, args)))
    store = index.routes if index.routes is not None else RouteStore(width)
    try:
        keys = np.asarray(values, dtype=store.key_dtype)
        lens = np.asarray(plens, dtype=np.int64)
        picks = np.asarray(which, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        return False
    n = len(keys)
    if not n:
        return True
    bad_len = (lens < 0) | (lens > width)
    if store.key_dtype is object:
        fits = np.array([isinstance(v, int) and v >= 0 and not v >> width for v in keys], dtype=bool)
        if not fits.all():
            return False
        shifts = np.where(bad_len, 0, width - lens)
        host = np.array([int(v) & ((1 << int(s)) - 1) for v, s in zip(keys, shifts)], dtype=object)
        bad_fit = np.zeros(n, dtype=bool)
    else:
        bad_fit = (keys >> np.uint64(width)) != 0 if width < 64 else np.zeros(n, dtype=bool)
        shifts = np.where(bad_len, 0, width - lens).astype(np.uint64)
        host = keys & ((np.uint64(1) << shifts) - np.uint64(1))
    if (host[~bad_len & ~bad_fit] != 0).any():
        return False
    # The first route that breaks a rule, rules checked in add()'s order: room, length, value, duplicate.
    room = table.size - len(table.entries)
    firsts = [room if room < n else n]
    for bad in (bad_len, bad_fit):
        hits = np.flatnonzero(bad)
        firsts.append(int(hits[0]) if len(hits) else n)
    firsts.append(_first_duplicate(table, store, keys, lens))
    stop = min(firsts)
    if stop:
        _append(table, store, keys[:stop], lens[:stop], [store.action_id(*r) for r in resolved], picks[:stop])
    if stop < n:
        _fail_at(table, k, int(keys[stop]), int(lens[stop]), stop >= room)
    return True


def _first_duplicate(table, store: RouteStore, keys, lens) -> int:
    """The index of the first route whose (key, length) an entry or an earlier route already has; len(keys) if none."""
    n = len(keys)
    new = store.combined(keys, lens)
    old = [store.combined(store.keys, store.plens)]
    objects = [(key, plen) for plen, d in table.index.by_len.items() for key in d]
    if objects:
        old.append(store.combined(np.array([k for k, _ in objects], dtype=store.key_dtype),
                                  np.array([p for _, p in objects], dtype=np.int64)))
    if store.key_dtype is object:
        seen = set(v for part in old for v in part)
        for i, v in enumerate(new):
            if v in seen:
                return i
            seen.add(v)
        return n
    before = np.concatenate(old)
    every = np.concatenate([before, new])
    in_order = np.sort(every)
    if not (in_order[1:] == in_order[:-1]).any():
        return n
    _, first = np.unique(every, return_index=True)       # where each value occurs first
    repeated = np.ones(len(every), dtype=bool)
    repeated[first] = False
    hits = np.flatnonzero(repeated[len(before):])
    return int(hits[0]) if len(hits) else n


def _append(table, store: RouteStore, keys, lens, action_ids: list[int], picks) -> None:
    first = table._next_handle
    table._next_handle += len(keys)
    store.append(first, keys, lens, np.asarray(action_ids, dtype=np.int32)[picks])
    table.index.routes = store
    table.index._changed()


def _fail_at(table, k, key: int, plen: int, full: bool):
    from .tables import TableError
    if full:
        raise TableError(f"table '{table.name}' is full ({table.size} entries)")
    if not 0 <= plen <= k.width:
        raise TableError(f"prefix length {plen} is out of range for key '{k.name}' ({k.width} bits)")
    table._check_fits(k, key, "value")
    same = table.index.same(key, plen)
    raise TableError(f"table '{table.name}' already has an entry with this key (handle {same.handle})")
