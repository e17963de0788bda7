"""Table lookups: every index agrees with a linear scan over the entries (the obvious model)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from dataplane.runtime.tables import ActionSpec, KeySpec, MatchValue, Table, TableError


def make_table(kinds_widths, size=4096):
    keys = [KeySpec(f"k{i}", kind, w) for i, (kind, w) in enumerate(kinds_widths)]
    actions = [ActionSpec("C.set", "set", [("v", 16)], 0), ActionSpec("C.drop", "drop", [], 1)]
    return Table("C.t", keys, actions, size, default=(1, ()))


def model_matches(table: Table, match: list[MatchValue], key_values: list[int]) -> bool:
    for k, mv, v in zip(table.keys, match, key_values):
        full = (1 << k.width) - 1
        if k.match_kind == "exact":
            if v != mv.value:
                return False
        elif k.match_kind == "lpm":
            plen = mv.prefix_len if mv.prefix_len is not None else k.width
            m = (((1 << plen) - 1) << (k.width - plen)) & full
            if v & m != mv.value & m:
                return False
        elif k.match_kind in ("ternary", "optional"):
            m = full if mv.mask is None else mv.mask
            if v & m != mv.value & m:
                return False
        else:
            if not mv.lo <= v <= mv.hi:
                return False
    return True


def model_lookup(table: Table, entries, key_values):
    """The entry a lookup must return: longest prefix for lpm tables, else highest priority (then oldest)."""
    best = None
    for handle, match, prio in entries:
        if not model_matches(table, match, key_values):
            continue
        if any(k.match_kind == "lpm" for k in table.keys) and not table.needs_priority:
            rank = (sum(mv.prefix_len if mv.prefix_len is not None else k.width
                        for k, mv in zip(table.keys, match) if k.match_kind == "lpm"), -handle)
        else:
            rank = (prio, -handle)
        if best is None or rank > best[0]:
            best = (rank, handle)
    return None if best is None else best[1]


def key_int(table: Table, values: list[int]) -> int:
    k = 0
    for spec, v in zip(table.keys, values):
        k |= v << spec.shift
    return k


@st.composite
def match_value(draw, kind: str, width: int):
    full = (1 << width) - 1
    v = draw(st.integers(0, full))
    if kind == "exact":
        return MatchValue(v)
    if kind == "lpm":
        plen = draw(st.integers(0, width))
        m = (((1 << plen) - 1) << (width - plen)) & full
        return MatchValue(v & m, prefix_len=plen)
    if kind == "ternary":
        m = draw(st.sampled_from([0, full, full & ~0xF, 0xF & full, draw(st.integers(0, full))]))
        return MatchValue(v & m, mask=m)
    if kind == "optional":
        m = draw(st.sampled_from([0, full]))
        return MatchValue(v & m, mask=m)
    lo = draw(st.integers(0, full))
    hi = draw(st.integers(lo, full))
    return MatchValue(lo=lo, hi=hi)


LAYOUTS = [
    [("exact", 16)],
    [("exact", 8), ("exact", 12)],
    [("lpm", 32)],
    [("exact", 8), ("lpm", 16)],
    [("ternary", 16)],
    [("ternary", 8), ("range", 8), ("optional", 4)],
    [("lpm", 8), ("ternary", 8)],
    [("range", 12)],
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda l: "+".join(f"{k}{w}" for k, w in l))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_lookup_agrees_with_a_linear_scan(layout, data):
    table = make_table(layout)
    entries = []
    n = data.draw(st.integers(0, 25))
    for _ in range(n):
        match = [data.draw(match_value(kind, w)) for kind, w in layout]
        prio = data.draw(st.integers(1, 8)) if table.needs_priority else None
        try:
            handle = table.add(match, "set", [len(entries)], prio)
        except TableError:
            continue                     # a duplicate key
        entries.append((handle, match, prio))
    # Delete a few, to exercise removal and the regeneration of lookup code.
    for handle, _, _ in list(entries)[: data.draw(st.integers(0, min(3, len(entries))))]:
        table.delete(handle)
        entries = [e for e in entries if e[0] != handle]
    for _ in range(30):
        values = [data.draw(st.integers(0, (1 << w) - 1)) for _, w in layout]
        if entries and data.draw(st.booleans()):
            # Probe near an entry so that hits are common, not just misses.
            _, match, _ = data.draw(st.sampled_from(entries))
            values = [mv.value if mv.value is not None and k.match_kind != "range" else mv.lo
                      for k, mv in zip(table.keys, match)]
        got = table.lookup(key_int(table, values))
        expected = model_lookup(table, entries, values)
        assert (got.handle if got is not None else None) == expected, (values, entries)


def test_lpm_prefers_the_longest_prefix_and_the_default_route():
    t = make_table([("lpm", 32)])
    t.add([MatchValue(0, prefix_len=0)], "set", [1])
    t.add([MatchValue(0x0A000000, prefix_len=8)], "set", [8])
    t.add([MatchValue(0x0A010000, prefix_len=16)], "set", [16])
    t.add([MatchValue(0x0A010200, prefix_len=24)], "set", [24])
    assert t.lookup(0x0A010203).args == (24,)
    assert t.lookup(0x0A01FF01).args == (16,)
    assert t.lookup(0x0AFF0000).args == (8,)
    assert t.lookup(0x0B000000).args == (1,)


@pytest.mark.parametrize("call,message", [
    (lambda t: t.add([MatchValue(1)], "nope", []), "table 'C.t' has no action 'nope'"),
    (lambda t: t.add([MatchValue(1)], "set", []), "action 'C.set' takes 1 argument(s) but 0 were given"),
    (lambda t: t.add([MatchValue(1)], "set", [1 << 16]), "does not fit in parameter 'v'"),
    (lambda t: t.add([MatchValue(1 << 16)], "set", [1]), "value 65536 does not fit in key 'k0'"),
    (lambda t: t.add([], "set", [1]), "has 1 key field(s)"),
    (lambda t: t.delete(99), "no entry with handle 99"),
])
def test_control_plane_errors_are_clear(call, message):
    t = make_table([("exact", 16)])
    with pytest.raises(TableError) as exc:
        call(t)
    assert message in str(exc.value)


def test_duplicates_size_limit_and_priorities():
    t = make_table([("exact", 16)], size=2)
    t.add([MatchValue(1)], "set", [1])
    with pytest.raises(TableError, match="already has an entry with this key"):
        t.add([MatchValue(1)], "set", [2])
    t.add([MatchValue(2)], "set", [2])
    with pytest.raises(TableError, match=r"table 'C.t' is full \(2 entries\)"):
        t.add([MatchValue(3)], "set", [3])
    tern = make_table([("ternary", 8)])
    with pytest.raises(TableError, match="needs a priority"):
        tern.add([MatchValue(1, mask=0xFF)], "set", [1])


def test_default_action_can_change_unless_const():
    t = make_table([("exact", 8)])
    assert t.lookup(5) is None and t.default_aid == 1
    t.set_default("set", [7])
    assert (t.default_aid, t.default_args) == (0, (7,))
    c = Table("C.c", [KeySpec("k", "exact", 8)], [ActionSpec("C.a", "a", [], 0)], 4, (0, ()), default_is_const=True)
    with pytest.raises(TableError, match="is const"):
        c.set_default("a", [])


def test_an_entry_shows_its_action_data_as_table_add_takes_it():
    keys = [KeySpec("hdr.ipv4.dstAddr", "lpm", 32)]
    forward = ActionSpec("MyIngress.ipv4_forward", "ipv4_forward", [("dstAddr", 48), ("port", 9)], 0)
    nhop = ActionSpec("MyIngress.set_nhop", "set_nhop", [("nhop_ipv4", 32), ("ttl", 8)], 1)
    t = Table("MyIngress.ipv4_lpm", keys, [forward, nhop], 16, default=(1, (0x0A000001, 64)))
    e = t.entries[t.add([MatchValue(0x0A000200, prefix_len=24)], "ipv4_forward", [0x080000000222, 2])]
    assert t.describe_entry(e) == \
        "entry 0 [hdr.ipv4.dstAddr=0x0a000200/24] -> MyIngress.ipv4_forward(08:00:00:00:02:22, 2)"
    assert t.describe_entry(None) == "default MyIngress.set_nhop(10.0.0.1, 64)"


# ---------------------------------------------------------------------------- memoised lookups

GENERATED_LAYOUTS = [l for l in LAYOUTS if any(kind != "exact" for kind, _ in l)]


@pytest.mark.parametrize("layout", GENERATED_LAYOUTS, ids=lambda l: "+".join(f"{k}{w}" for k, w in l))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_lookups_between_changes_agree_with_a_linear_scan(layout, data):
    """Lookups are memoised by key until the entries change: keys looked up again and again, between adds,
    deletes and modifies, still give what a linear scan over the entries gives, with the current action."""
    table = make_table(layout)
    entries, args = [], {}
    pool = [[data.draw(st.integers(0, (1 << w) - 1)) for _, w in layout] for _ in range(4)]
    for step in range(40):
        op = data.draw(st.sampled_from(["add", "add", "delete", "modify", "lookup", "lookup", "lookup"]))
        if op == "add":
            match = [data.draw(match_value(kind, w)) for kind, w in layout]
            prio = data.draw(st.integers(1, 8)) if table.needs_priority else None
            try:
                handle = table.add(match, "set", [step], prio)
            except TableError:
                continue
            entries.append((handle, match, prio))
            args[handle] = (step,)
            pool.append([mv.value if mv.value is not None else mv.lo for mv in match])
        elif op == "delete" and entries:
            handle = data.draw(st.sampled_from(entries))[0]
            table.delete(handle)
            entries = [e for e in entries if e[0] != handle]
        elif op == "modify" and entries:
            handle = data.draw(st.sampled_from(entries))[0]
            table.modify(handle, "set", [1000 + step])
            args[handle] = (1000 + step,)
        else:
            for values in pool:
                got = table.lookup(key_int(table, values))
                expected = model_lookup(table, entries, values)
                assert (got.handle if got is not None else None) == expected, (values, entries)
                if got is not None:
                    assert got.args == args[got.handle]


def test_a_table_that_sees_too_many_distinct_keys_stops_memoising_until_it_changes():
    from dataplane.runtime.tables import _Memo
    t = make_table([("lpm", 32)])
    t.add([MatchValue(0x0A000000, prefix_len=8)], "set", [8])
    assert t.lookup(0x0A000001).args == (8,)
    memo = t.lookup.__self__
    assert isinstance(memo, _Memo) and len(memo) == 1
    assert t.lookup(0x0A000001) is t.lookup(0x0A000001)
    for key in range(0x0B000000, 0x0B000000 + _Memo.MEMO_LIMIT + 1):
        assert t.lookup(key) is None
    assert not isinstance(getattr(t.lookup, "__self__", None), _Memo)     # the search alone now
    assert len(memo) == _Memo.MEMO_LIMIT
    assert t.lookup(0x0A0000FF).args == (8,)
    t.add([MatchValue(0x0B000000, prefix_len=8)], "set", [11])
    assert t.lookup(0x0B000005).args == (11,)
    assert isinstance(t.lookup.__self__, _Memo)                            # a change starts a new memo


def test_modifying_a_route_kept_as_arrays_is_seen_by_memoised_lookups():
    t = make_table([("lpm", 32)])
    t.add_prefixes("set", [(0x0A000000, 8, (1,)), (0x0A010000, 16, (2,))])
    assert t.lookup(0x0A010101).args == (2,)
    handle = t.lookup(0x0A010101).handle
    t.modify(handle, "set", [7])
    assert t.lookup(0x0A010101).args == (7,)
    assert t.lookup(0x0A020202).args == (1,)
