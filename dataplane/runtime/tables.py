"""Match-action tables at run time: entries, lookup structures, default actions.

A table's key is handled as ONE integer: the key fields concatenated in
declaration order, the first field most significant. Masking a key for any
match kind is then a single ``&``, which is what makes the lookups fast in
Python. Each table gets the lookup structure its match kinds need (as in
BMv2, one structure per match kind):

- :class:`ExactIndex`: a dict (all keys exact);
- :class:`LpmIndex`: one dict per prefix length, searched by binary search on
  the lengths with markers (Waldvogel et al., "Scalable high speed IP routing
  lookups", 1997), so a lookup costs O(log #lengths) dict probes;
- :class:`TupleSpaceIndex`: for ternary, range and optional keys, entries
  grouped by mask (tuple space search, as in Open vSwitch); groups are tried
  in order of their best priority, and the search stops when no remaining
  group can beat the best match found; range fields are checked on the
  candidates.

Priorities: a larger number wins; ties go to the entry added first.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from ..diagnostics import DiagnosticError, error
from .errors import ControlPlaneError
from .trace import format_value


class TableError(ControlPlaneError):
    """A control-plane operation on a table that cannot be done (message for the user)."""


@dataclass
class KeySpec:
    name: str
    match_kind: str      # exact, lpm, ternary, range, optional
    width: int
    shift: int = 0       # position of the field's least significant bit within the concatenated key


@dataclass
class ActionSpec:
    name: str                          # the full control-plane name, e.g. MyIngress.ipv4_forward
    short_name: str                    # the P4 name, e.g. ipv4_forward
    params: list[tuple[str, int]]      # (name, width) of the action-data parameters
    aid: int
    default_only: bool = False
    table_only: bool = False


@dataclass
class MatchValue:
    """One key field of an entry: value and mask (lpm and ternary), or lo and hi (range)."""
    value: int = 0
    mask: int | None = None      # None: all ones (exact); 0: wildcard
    lo: int | None = None
    hi: int | None = None
    prefix_len: int | None = None


# The range checks of an entry without range fields (shared: never changed).
NO_RANGES: list = []


class Entry:
    __slots__ = ("handle", "key", "mask", "ranges", "aid", "args", "priority", "rank", "packets", "bytes",
                 "meter", "is_const", "match")

    def __init__(self, handle, key, mask, ranges, aid, args, priority, match, is_const=False):
        self.handle = handle
        self.key = key              # the concatenated key value, already masked
        self.mask = mask            # the concatenated mask (None for exact tables)
        self.ranges = ranges        # [(shift, width_mask, lo, hi)] for range fields
        self.aid = aid
        self.args = args
        self.priority = priority
        # What lookups compare: the priority, or its negation in a table where the smallest priority
        # wins (largest_priority_wins = false); set by Table.insert.
        self.rank = priority
        self.packets = 0
        self.bytes = 0
        self.meter = None
        self.is_const = is_const
        self.match = match          # the MatchValues as given, for display

    def __repr__(self) -> str:
        return f"Entry(handle={self.handle}, aid={self.aid}, args={self.args}, priority={self.priority})"


# ---------------------------------------------------------------------------- lookup structures


class ExactIndex:
    def __init__(self) -> None:
        self.map: dict[int, Entry] = {}
        self.lookup = self.map.get

    def find_same(self, e: Entry) -> Entry | None:
        return self.map.get(e.key)

    def insert(self, e: Entry) -> None:
        self.map[e.key] = e

    def remove(self, e: Entry) -> None:
        del self.map[e.key]

    def clear(self) -> None:
        self.map.clear()


_MISS = object()
_NO_BMP = object()


class _GeneratedLookup:
    """An index whose lookup function is generated from its entries, again after each change.

    A change publishes `_lookup_after_change` (through `publish`, set by the
    table); the first lookup after it rebuilds the function and publishes the
    lookup of a `_Memo` over it, so later lookups of a key seen before are one
    dict probe in C, and others run the generated search once."""

    publish = None                    # called with the current lookup function

    def _changed(self) -> None:
        if self.publish is not None:
            self.publish(self._lookup_after_change)

    def _lookup_after_change(self, key: int):
        fn = self._rebuild()
        if self.publish is None:
            return fn(key)
        memo = _Memo(fn, self.publish)
        self.publish(memo.__getitem__)
        return memo[key]

    def lookup(self, key: int):
        return self._rebuild()(key)

    def _rebuild(self):
        raise NotImplementedError


class _Memo(dict):
    """The results of a generated search by key, until the entries change (the index then publishes a new
    lookup, and this memo is dropped with the old search).

    Packets of a flow look up the same key again and again (a router's destination addresses), and a hit
    is then `dict.__getitem__` called from C instead of the search's Python frame and its probes. The
    results are the Entry objects themselves, so what changes in an entry (its action, its counters) is
    seen through the memo. A table that sees more than MEMO_LIMIT distinct keys before its next change
    (random destinations) gains nothing from it: the search alone is published from then on."""

    __slots__ = ("search", "publish")
    MEMO_LIMIT = 4096

    def __init__(self, search, publish) -> None:
        super().__init__()
        self.search = search
        self.publish = publish

    def __missing__(self, key):
        if len(self) >= self.MEMO_LIMIT:
            self.publish(self.search)
            return self.search(key)
        result = self[key] = self.search(key)
        return result


class LpmIndex(_GeneratedLookup):
    """Longest-prefix match (plus any exact fields), by binary search on prefix lengths.

    After a change, the next lookup rebuilds the per-length dicts with their
    markers and generates a lookup function in which the binary search is
    unrolled into nested ifs (a handful of dict probes, no loop); the table's
    ``lookup`` attribute then points straight at that function."""

    def __init__(self, total_width: int, lpm_shift: int, lpm_width: int) -> None:
        self.total_width = total_width
        self.lpm_shift = lpm_shift
        self.lpm_width = lpm_width
        self.by_len: dict[int, dict[int, Entry]] = {}
        self.levels: list[tuple[int, dict]] = []      # (mask, dict) for each length, shortest first
        # Routes added in bulk as arrays (runtime/routes.py), with one key field only; None until then.
        self.routes = None

    def mask_for(self, plen: int) -> int:
        full = (1 << self.total_width) - 1
        lpm_full = ((1 << self.lpm_width) - 1) << self.lpm_shift
        prefix = (((1 << plen) - 1) << (self.lpm_width - plen)) << self.lpm_shift
        return (full & ~lpm_full) | prefix

    def insert(self, e: Entry, plen: int) -> None:
        self.by_len.setdefault(plen, {})[e.key] = e
        self._changed()

    def remove(self, e: Entry, plen: int) -> None:
        d = self.by_len[plen]
        del d[e.key]
        if not d:
            del self.by_len[plen]
        self._changed()

    def clear(self) -> None:
        self.by_len.clear()
        if self.routes is not None:
            self.routes.clear()
        self._changed()

    def same(self, key: int, plen: int) -> Entry | None:
        """The entry with this masked key and prefix length, if there is one."""
        e = self.by_len.get(plen, {}).get(key)
        if e is None and self.routes is not None and len(self.routes):
            handle = self.routes.handle_of(key, plen)
            if handle is not None:
                e = self.routes.entry(handle)
        return e

    def _real_entries(self) -> dict[int, dict[int, Entry]]:
        """prefix length -> {key: Entry}: the entries, those kept as route arrays included."""
        if self.routes is None or not len(self.routes):
            return self.by_len
        merged = self.routes.by_length()
        for plen, d in self.by_len.items():
            merged.setdefault(plen, {}).update(d)
        return merged

    def _rebuild(self):
        by_len = self._real_entries()
        lengths = sorted(by_len)
        masks = [self.mask_for(l) for l in lengths]
        levels: list[dict] = [dict(by_len[l]) for l in lengths]
        n = len(lengths)
        # Markers on the binary-search path of every prefix, carrying the best shorter match.
        for k, l in enumerate(lengths):
            for key in by_len[l]:
                lo, hi = 0, n - 1
                while lo <= hi:
                    mid = (lo + hi) >> 1
                    if mid == k:
                        break
                    if mid < k:
                        mkey = key & masks[mid]
                        if mkey not in levels[mid]:
                            levels[mid][mkey] = self._best_shorter(by_len, mkey, mid, lengths, masks)
                        lo = mid + 1
                    else:
                        hi = mid - 1
        self.levels = list(zip(masks, levels))
        return _unrolled_search(masks, levels)

    @staticmethod
    def _best_shorter(by_len, key: int, upto: int, lengths, masks):
        for i in range(upto, -1, -1):
            e = by_len[lengths[i]].get(key & masks[i])
            if e is not None:
                return e
        return _NO_BMP


def _unrolled_search(masks: list[int], levels: list[dict]):
    """Generate `lookup(key)`: the binary search over the levels as nested ifs."""
    lines = ["def lookup(key):"]
    env = {"MISS": _MISS, "NOBMP": _NO_BMP}
    for i, (m, d) in enumerate(zip(masks, levels)):
        env[f"D{i}"] = d.get
        env[f"M{i}"] = m

    def gen(lo: int, hi: int, best: str, depth: int, indent: str) -> None:
        if lo > hi:
            lines.append(f"{indent}return {best}")
            return
        mid = (lo + hi) >> 1
        r = f"r{depth}"
        lines.append(f"{indent}{r} = D{mid}(key & M{mid}, MISS)")
        lines.append(f"{indent}if {r} is MISS:")
        gen(lo, mid - 1, best, depth + 1, indent + "    ")
        lines.append(f"{indent}if {r} is NOBMP:")
        gen(mid + 1, hi, best, depth + 1, indent + "    ")
        gen(mid + 1, hi, r, depth + 1, indent)

    gen(0, len(levels) - 1, "None", 0, "    ")
    exec(compile("\n".join(lines) + "\n", "<lpm lookup>", "exec"), env)
    return env["lookup"]


class _Group:
    __slots__ = ("mask", "map", "best")

    def __init__(self, mask: int):
        self.mask = mask
        self.map: dict[int, list[Entry]] = {}
        self.best = -1


class TupleSpaceIndex(_GeneratedLookup):
    """Ternary / range / optional matching by tuple space search.

    Like LpmIndex, it regenerates a lookup function after changes: the
    groups are probed in order of their best priority with constant masks,
    and the search returns as soon as no remaining group can beat the best
    match found (priorities are unique per entry handle order on ties)."""

    def __init__(self) -> None:
        self.groups: dict[int, _Group] = {}
        self.order: list[_Group] = []

    def find_same(self, e: Entry) -> Entry | None:
        g = self.groups.get(e.mask)
        if g is None:
            return None
        for other in g.map.get(e.key, ()):
            if other.ranges == e.ranges and other.priority == e.priority:
                return other
        return None

    def insert(self, e: Entry) -> None:
        g = self.groups.get(e.mask)
        if g is None:
            g = self.groups[e.mask] = _Group(e.mask)
        lst = g.map.setdefault(e.key, [])
        lst.append(e)
        lst.sort(key=lambda x: (-x.rank, x.handle))
        self._changed()

    def remove(self, e: Entry) -> None:
        g = self.groups[e.mask]
        lst = g.map[e.key]
        lst.remove(e)
        if not lst:
            del g.map[e.key]
        if not g.map:
            del self.groups[e.mask]
        self._changed()

    def clear(self) -> None:
        self.groups.clear()
        self.order = []
        self._changed()

    def _rebuild(self):
        for g in self.groups.values():
            g.best = max(lst[0].rank for lst in g.map.values())
        self.order = sorted(self.groups.values(), key=lambda g: -g.best)
        return _unrolled_groups(self.order)


def _unrolled_groups(order: list[_Group]):
    """Generate `lookup(key)` probing each group with its constant mask, best priority first."""
    env = {"better": _better}
    lines = ["def lookup(key):", "    best = None"]
    any_ranges = any(e.ranges for g in order for lst in g.map.values() for e in lst)
    for i, g in enumerate(order):
        env[f"G{i}"] = g.map.get
        env[f"M{i}"] = g.mask
        if i > 0:
            # No entry of this or a later group has a higher priority than the best so far.
            # int(): only a number may be pasted into the generated code (make_entry checks priorities).
            lines.append(f"    if best is not None and best.rank > {int(g.best)}: return best")
        lines.append(f"    lst = G{i}(key & M{i})")
        lines.append("    if lst is not None:")
        if any_ranges:
            lines.append("        e = better(lst, key, best)")
            lines.append("        if e is not None: best = e")
        else:
            lines.append("        e = lst[0]")
            lines.append("        if best is None or e.rank > best.rank or "
                         "(e.rank == best.rank and e.handle < best.handle): best = e")
    lines.append("    return best")
    exec(compile("\n".join(lines) + "\n", "<ternary lookup>", "exec"), env)
    return env["lookup"]


def _better(lst: list, key: int, best):
    """The first entry of lst (sorted by priority) whose ranges hold, if it beats best."""
    for e in lst:
        if best is not None and (e.rank < best.rank or (e.rank == best.rank and e.handle > best.handle)):
            return None
        for shift, m, lo, hi in e.ranges:
            v = (key >> shift) & m
            if v < lo or v > hi:
                break
        else:
            return e
    return None


class KeylessIndex:
    """A table without keys: every lookup misses and runs the default action."""

    @staticmethod
    def lookup(key):
        return None

    def clear(self) -> None:
        pass


# ---------------------------------------------------------------------------- tables


class EntryMap:
    """A table's entries by handle, read as a dict: the Entry objects, and the routes an LpmIndex keeps
    as arrays (runtime/routes.py), made into Entry objects when read. Listing is in handle order."""

    __slots__ = ("objects", "index")

    def __init__(self, index) -> None:
        self.objects: dict[int, Entry] = {}
        self.index = index

    def _routes(self):
        routes = getattr(self.index, "routes", None)
        return routes if routes is not None and len(routes) else None

    def __len__(self) -> int:
        routes = self._routes()
        return len(self.objects) + (len(routes) if routes is not None else 0)

    def get(self, handle: int, default=None):
        e = self.objects.get(handle)
        if e is None:
            routes = self._routes()
            if routes is not None and isinstance(handle, int):
                e = routes.entry(handle)
        return default if e is None else e

    def __getitem__(self, handle: int) -> Entry:
        e = self.get(handle)
        if e is None:
            raise KeyError(handle)
        return e

    def __contains__(self, handle) -> bool:
        if handle in self.objects:
            return True
        routes = self._routes()
        return routes is not None and isinstance(handle, int) and routes.position(handle) is not None

    def __setitem__(self, handle: int, e: Entry) -> None:
        self.objects[handle] = e

    def __delitem__(self, handle: int) -> None:
        del self.objects[handle]

    def values(self):
        routes = self._routes()
        if routes is None:
            return self.objects.values()
        return heapq.merge(self.objects.values(), routes.all_entries(), key=lambda e: e.handle)

    def keys(self):
        routes = self._routes()
        if routes is None:
            return list(self.objects)
        return list(heapq.merge(self.objects, routes.handles.tolist()))

    def items(self):
        return [(e.handle, e) for e in self.values()]

    def __iter__(self):
        return iter(self.keys())



class Table:
    def __init__(self, name: str, keys: list[KeySpec], actions: list[ActionSpec], size: int,
                 default: tuple[int, tuple] = (-1, ()), default_is_const: bool = False,
                 direct_counter: str | None = None, direct_meter: str | None = None):
        self.name = name
        self.keys = keys
        self.actions = actions
        self.actions_by_name: dict[str, ActionSpec] = {}
        for a in actions:
            self.actions_by_name[a.name] = a
            self.actions_by_name.setdefault(a.short_name, a)
        self.size = size
        self.initial_default = default
        self.default_aid, self.default_args = default
        self.default_is_const = default_is_const
        self.direct_counter = direct_counter
        self.direct_meter = direct_meter
        self.default_packets = 0
        # The table property largest_priority_wins (P4_16 14.2.1.4): false makes the smallest priority win.
        self.largest_priority_wins = True
        self._next_handle = 0
        self.meter_factory = None        # set by the device when the table has a direct meter
        shift = 0
        for k in reversed(keys):
            k.shift = shift
            shift += k.width
        self.key_width = shift
        kinds = {k.match_kind for k in keys}
        self.needs_priority = bool(kinds & {"ternary", "range", "optional"})
        if not keys:
            self.index = KeylessIndex()
        elif kinds <= {"exact"}:
            self.index = ExactIndex()
        elif kinds <= {"exact", "lpm"} and sum(1 for k in keys if k.match_kind == "lpm") == 1:
            lpm = next(k for k in keys if k.match_kind == "lpm")
            self.index = LpmIndex(self.key_width, lpm.shift, lpm.width)
        else:
            self.index = TupleSpaceIndex()
        self.entries = EntryMap(self.index)
        # `lookup(key) -> Entry | None` is a plain attribute: indexes that specialize their search
        # code replace it when the entries change (generated pipelines call table.lookup(key)).
        self.lookup = self.index.lookup
        if isinstance(self.index, _GeneratedLookup):
            self.index.publish = self._set_lookup
            self.index._changed()

    def _set_lookup(self, fn) -> None:
        self.lookup = fn

    # -- describing ----------------------------------------------------------------------------

    def action(self, name: str) -> ActionSpec:
        a = self.actions_by_name.get(name)
        if a is None:
            for cand in self.actions:
                if cand.name.endswith("." + name) or name.endswith("." + cand.short_name):
                    return cand
            names = ", ".join(a.name for a in self.actions) or "none"
            raise TableError(f"table '{self.name}' has no action '{name}' (its actions: {names})")
        return a

    def action_name(self, aid: int) -> str:
        if aid < 0:
            return "NoAction"
        return self.actions[aid].name

    # -- entries -----------------------------------------------------------------------------------

    def make_entry(self, match: list[MatchValue], action: str, args: list[int] | dict,
                   priority: int | None = None, is_const: bool = False) -> Entry:
        self._check_match_count(match)
        spec = self.action(action)
        if spec.default_only:
            raise TableError(f"action '{spec.name}' is @defaultonly and cannot be used in an entry of '{self.name}'")
        argv = self.check_args(spec, args)
        key, mask, ranges = self.encode_match(match)
        priority = self.check_priority(priority)
        return Entry(self._next_handle, key, mask, ranges, spec.aid, argv, priority, list(match), is_const)

    def encode_match(self, match: list[MatchValue]) -> tuple[int, int, list]:
        """The concatenated key, mask and range checks of an entry's match values (see Entry)."""
        self._check_match_count(match)
        key = 0
        mask = 0
        ranges = []
        for k, mv in zip(self.keys, match):
            wmask = (1 << k.width) - 1
            v = mv.value
            if k.match_kind == "exact":
                self._check_fits(k, v, "value")
                m = wmask
            elif k.match_kind == "lpm":
                plen = mv.prefix_len if mv.prefix_len is not None else k.width
                if not 0 <= plen <= k.width:
                    raise TableError(f"prefix length {plen} is out of range for key '{k.name}' ({k.width} bits)")
                self._check_fits(k, v, "value")
                m = (((1 << plen) - 1) << (k.width - plen)) & wmask
            elif k.match_kind in ("ternary", "optional"):
                self._check_fits(k, v, "value")
                m = wmask if mv.mask is None else mv.mask
                self._check_fits(k, m, "mask")
            elif k.match_kind == "range":
                lo = mv.lo if mv.lo is not None else v
                hi = mv.hi if mv.hi is not None else v
                self._check_fits(k, lo, "low end")
                self._check_fits(k, hi, "high end")
                if lo > hi:
                    raise TableError(f"range {lo}..{hi} for key '{k.name}' is empty")
                m = 0
                if not (lo == 0 and hi == wmask):
                    ranges.append((k.shift, wmask, lo, hi))
                v = 0
            else:
                raise TableError(f"match kind '{k.match_kind}' is not supported")
            key |= (v & m) << k.shift
            mask |= m << k.shift
        return key, mask, ranges

    def _check_match_count(self, match: list[MatchValue]) -> None:
        if len(match) != len(self.keys):
            raise TableError(f"table '{self.name}' has {len(self.keys)} key field(s) "
                             f"({', '.join(k.name for k in self.keys)}) but {len(match)} were given")

    def check_priority(self, priority: int | None) -> int:
        if self.needs_priority:
            if priority is None:
                raise TableError(f"table '{self.name}' has ternary, range or optional keys, so every entry "
                                 f"needs a priority")
        else:
            priority = 0 if priority is None else priority
        if not isinstance(priority, int):
            # Priorities are compared in generated lookup code: anything but a number is refused here.
            raise TableError(f"priority {priority!r} of an entry of '{self.name}' is not an integer")
        return priority

    def check_args(self, spec: ActionSpec, args) -> tuple:
        if isinstance(args, dict):
            names = [n for n, _ in spec.params]
            unknown = [a for a in args if a not in names]
            if unknown:
                raise TableError(f"action '{spec.name}' has no parameter '{unknown[0]}' "
                                 f"(its parameters: {', '.join(names) or 'none'})")
            missing = [n for n in names if n not in args]
            if missing:
                raise TableError(f"action '{spec.name}' needs a value for parameter '{missing[0]}'")
            args = [args[n] for n in names]
        if len(args) != len(spec.params):
            raise TableError(f"action '{spec.name}' takes {len(spec.params)} argument(s) but {len(args)} were given")
        out = []
        for (pname, width), v in zip(spec.params, args):
            if not isinstance(v, int) or v < 0 or v >> width:
                raise TableError(f"value {v} does not fit in parameter '{pname}' of action '{spec.name}' "
                                 f"({width} bits)")
            out.append(v)
        return tuple(out)

    def _check_fits(self, k: KeySpec, v: int, what: str) -> None:
        if not isinstance(v, int) or v < 0 or v >> k.width:
            raise TableError(f"{what} {v} does not fit in key '{k.name}' of table '{self.name}' ({k.width} bits)")

    def add(self, match: list[MatchValue], action: str, args=(), priority: int | None = None,
            is_const: bool = False) -> int:
        """Add an entry and return its handle."""
        self._check_room()
        return self.insert(self.make_entry(match, action, args, priority, is_const))

    def _check_room(self) -> None:
        if len(self.entries) >= self.size:
            raise TableError(f"table '{self.name}' is full ({self.size} entries)")
        if not self.keys:
            raise TableError(f"table '{self.name}' has no key; set its default action instead")

    def insert(self, e: Entry) -> int:
        """Put a new entry (from make_entry) in the table unless one with the same key is there."""
        e.rank = e.priority if self.largest_priority_wins else -e.priority
        plen = self._prefix_len(e)
        if isinstance(self.index, LpmIndex):
            same = self.index.same(e.key, plen)
        elif isinstance(self.index, ExactIndex):
            same = self.index.map.get(e.key)
        else:
            same = self.index.find_same(e)
        if same is not None:
            raise TableError(f"table '{self.name}' already has an entry with this key (handle {same.handle})")
        self._next_handle += 1
        if self.meter_factory is not None:
            e.meter = self.meter_factory()
        if isinstance(self.index, LpmIndex):
            self.index.insert(e, plen)
        else:
            self.index.insert(e)
        self.entries[e.handle] = e
        return e.handle

    def add_prefixes(self, action: str, rows) -> None:
        """Add many entries of a table keyed by one LPM field: rows of (value, prefix length, args).

        What a routing table being filled needs (thousands of routes per
        router): the same checks as add(), with the action resolved once
        per distinct action data (see add_routes)."""
        values, plens, which, choices, seen = [], [], [], [], {}
        for value, plen, args in rows:
            k = args if isinstance(args, tuple) else None
            i = seen.get(k) if k is not None else None
            if i is None:
                i = len(choices)
                choices.append((action, args))
                if k is not None:
                    seen[k] = i
            values.append(value)
            plens.append(plen)
            which.append(i)
        self.add_routes(values, plens, choices, which)

    def add_routes(self, values, plens, choices, which) -> None:
        """Add routes in bulk: route i is values[i]/plens[i] -> choices[which[i]], an (action, args) pair.

        The sequences may be numpy arrays. In a table keyed by one LPM field,
        without direct counters or meters, the routes are kept as arrays
        (runtime/routes.py) and become Entry objects only when read; the
        checks are those of add(), route by route: the routes before the
        first that fails are added, and the error names that one."""
        if not self._takes_route_arrays():
            for value, plen, w in zip(values, plens, which):
                action, args = choices[w]
                self.add([MatchValue(int(value), prefix_len=int(plen))], action, args)
            return
        from .routes import add_route_arrays
        if not add_route_arrays(self, values, plens, choices, which):
            # Values with host bits set (shown as given) or that are no numbers: one by one.
            for value, plen, w in zip(values, plens, which):
                action, args = choices[w]
                self.add([MatchValue(value if isinstance(value, int) else int(value), prefix_len=int(plen))],
                         action, args)

    def _takes_route_arrays(self) -> bool:
        return (isinstance(self.index, LpmIndex) and len(self.keys) == 1 and self.direct_counter is None
                and self.direct_meter is None and self.meter_factory is None)

    def _prefix_len(self, e: Entry) -> int | None:
        for k, mv in zip(self.keys, e.match):
            if k.match_kind == "lpm":
                return mv.prefix_len if mv.prefix_len is not None else k.width
        return None

    def delete(self, handle: int) -> None:
        e = self.entries.get(handle)
        if e is None:
            raise TableError(f"table '{self.name}' has no entry with handle {handle}")
        if e.is_const:
            raise TableError(f"entries of table '{self.name}' are const and cannot be deleted")
        if handle not in self.entries.objects:
            self.index.routes.remove(handle)
            self.index._changed()
            return
        del self.entries[handle]
        if isinstance(self.index, LpmIndex):
            self.index.remove(e, self._prefix_len(e))
        else:
            self.index.remove(e)

    def modify(self, handle: int, action: str, args=()) -> None:
        e = self.entries.get(handle)
        if e is None:
            raise TableError(f"table '{self.name}' has no entry with handle {handle}")
        if e.is_const:
            raise TableError(f"entries of table '{self.name}' are const and cannot be modified")
        spec = self.action(action)
        args = self.check_args(spec, args)
        if handle not in self.entries.objects:
            self.index.routes.set_action(handle, spec.aid, args)
            return
        e.args = args
        e.aid = spec.aid

    def find(self, match: list[MatchValue], priority: int | None = None) -> Entry | None:
        """The entry with exactly this match (and priority, if the table uses priorities)."""
        probe_action = next((a for a in self.actions if not a.default_only), None)
        if probe_action is None:
            return None
        probe = self.make_entry(match, probe_action.name, [0] * len(probe_action.params),
                                priority if priority is not None else 0)
        if isinstance(self.index, LpmIndex):
            return self.index.same(probe.key, self._prefix_len(probe))
        for e in self.entries.values():
            if e.key == probe.key and e.mask == probe.mask and e.ranges == probe.ranges and \
                    (not self.needs_priority or priority is None or e.priority == priority):
                return e
        return None

    def set_default(self, action: str, args=()) -> None:
        if self.default_is_const:
            raise TableError(f"the default action of table '{self.name}' is const and cannot be changed")
        spec = self.action(action)
        if spec.table_only:
            raise TableError(f"action '{spec.name}' is @tableonly and cannot be the default action")
        self.default_args = self.check_args(spec, args)
        self.default_aid = spec.aid

    def clear(self, keep_const: bool = True) -> None:
        """Remove all entries (const entries stay unless keep_const is False).

        The default action is kept, as BMv2's table_clear keeps it: it is not an entry."""
        kept = [e for e in self.entries.objects.values() if e.is_const and keep_const]
        self.entries.objects = {}
        self.index.clear()
        for e in kept:
            self.entries[e.handle] = e
            if isinstance(self.index, LpmIndex):
                self.index.insert(e, self._prefix_len(e))
            else:
                self.index.insert(e)

    def describe_entry(self, e: Entry | None) -> str:
        if e is None:
            return f"default {self.action_text(self.default_aid, self.default_args or ())}"
        return f"entry {e.handle} [{self.match_text(e)}] -> {self.action_text(e.aid, e.args)}" + \
            (f" priority {e.priority}" if self.needs_priority else "")

    def action_text(self, aid: int, args) -> str:
        """`MyIngress.ipv4_forward(08:00:00:00:02:22, 2)`: the action with its data as table_add takes it,
        each value written as its parameter's width and name say (a MAC, an address, a number)."""
        if aid < 0:
            return "NoAction()"
        spec = self.actions[aid]
        names = spec.params if len(spec.params) == len(args) else [("", None)] * len(args)
        return f"{spec.name}({', '.join(format_value(n, v, w) for (n, w), v in zip(names, args))})"

    def match_text(self, e: Entry) -> str:
        return ", ".join(f"{k.name}={_format_match(k, mv)}" for k, mv in zip(self.keys, e.match))


def _format_match(k: KeySpec, mv: MatchValue) -> str:
    digits = max(1, (k.width + 3) // 4)
    if k.match_kind == "exact":
        return f"0x{mv.value:0{digits}x}"
    if k.match_kind == "lpm":
        plen = mv.prefix_len if mv.prefix_len is not None else k.width
        return f"0x{mv.value:0{digits}x}/{plen}"
    if k.match_kind in ("ternary", "optional"):
        if mv.mask == 0:
            return "*"
        m = ((1 << k.width) - 1) if mv.mask is None else mv.mask
        return f"0x{mv.value:0{digits}x}&&&0x{m:0{digits}x}"
    lo = mv.lo if mv.lo is not None else mv.value
    hi = mv.hi if mv.hi is not None else mv.value
    return f"{lo}..{hi}"


def user_error(exc: TableError, span=None) -> DiagnosticError:
    return error(str(exc), span)
