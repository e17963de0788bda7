"""Routes kept as arrays (runtime/routes.py): a table filled by add_routes answers, lists and changes exactly as
the same table filled entry by entry with add() (Entry objects, the reference)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dataplane.runtime.tables import ActionSpec, KeySpec, MatchValue, Table, TableError

FORWARD = ActionSpec("C.forward", "forward", [("mac", 48), ("port", 9)], 0)
DROP = ActionSpec("C.drop", "drop", [], 1)
ONLY_DEFAULT = ActionSpec("C.miss", "miss", [], 2, default_only=True)


def make_table(width=32, size=100_000, **kw) -> Table:
    return Table("C.lpm", [KeySpec("dst", "lpm", width)], [FORWARD, DROP, ONLY_DEFAULT], size, default=(1, ()), **kw)


def random_routes(rng: random.Random, n: int, width: int = 32):
    """n distinct prefixes (host bits clear) with one of a few next hops each."""
    hops = [("forward", (0x0A0000000000 + p, p)) for p in range(1, 5)] + [("drop", ())]
    seen, values, plens, which = set(), [], [], []
    while len(values) < n:
        plen = rng.choice([0, 8, 16, 20, 24, 28, 32] if width == 32 else [0, 32, 48, 64, 96, 128])
        value = rng.getrandbits(width) & (((1 << plen) - 1) << (width - plen))
        if (value, plen) not in seen:
            seen.add((value, plen))
            values.append(value)
            plens.append(plen)
            which.append(rng.randrange(len(hops)))
    return values, plens, hops, which


def both(values, plens, hops, which, width=32):
    """The same routes in a table kept as arrays and in a reference table of Entry objects."""
    compact, reference = make_table(width), make_table(width)
    compact.add_routes(values, plens, hops, which)
    for v, p, w in zip(values, plens, which):
        reference.add([MatchValue(v, prefix_len=p)], *hops[w])
    return compact, reference


def same_answer(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (a.handle, a.key, a.mask, a.aid, a.args, a.priority) == (b.handle, b.key, b.mask, b.aid, b.args, b.priority)


def probes(rng: random.Random, values, width=32):
    """Addresses inside the prefixes (at their start, with host bits set) and random ones."""
    out = [v for v in values] + [v | rng.getrandbits(8) for v in values]
    return out + [rng.getrandbits(width) for _ in range(500)]


@pytest.mark.parametrize("width,seed", [(32, 1), (32, 2), (128, 3)])
def test_lookups_equal_a_table_of_entry_objects(width, seed):
    rng = random.Random(seed)
    values, plens, hops, which = random_routes(rng, 400, width)
    compact, reference = both(values, plens, hops, which, width)
    assert compact.index.routes is not None and len(compact.index.routes) == 400
    assert not compact.entries.objects          # nothing was made an Entry object
    for key in probes(rng, values, width):
        assert same_answer(compact.lookup(key), reference.lookup(key)), hex(key)


def test_entries_are_made_when_read_and_listed_in_handle_order():
    rng = random.Random(4)
    values, plens, hops, which = random_routes(rng, 50)
    compact, reference = both(values, plens, hops, which)
    assert not compact.index.routes.cache
    assert len(compact.entries) == len(reference.entries) == 50
    assert list(compact.entries) == list(range(50)) and 49 in compact.entries and 50 not in compact.entries
    assert not compact.index.routes.cache       # handles are listed without making entries
    e = compact.entries[7]
    assert len(compact.index.routes.cache) == 1
    assert compact.entries.get(7) is e and 7 in compact.entries and 99 not in compact.entries
    listed = list(compact.entries.values())
    assert [x.handle for x in listed] == list(reference.entries) == list(compact.entries)
    for x, y in zip(listed, reference.entries.values()):
        assert same_answer(x, y) and x.match == y.match
        assert compact.describe_entry(x) == reference.describe_entry(y)
    assert listed[7] is e                       # read twice, the same object


def test_a_deleted_or_modified_route_changes_the_lookups():
    t = make_table()
    t.add_routes([0x0A000000, 0x0A010000, 0x0A010200], [8, 16, 24],
                 [("forward", (0x0A0000000001, 1)), ("forward", (0x0A0000000002, 2))], [0, 1, 1])
    assert t.lookup(0x0A010203).handle == 2
    t.delete(2)
    assert t.lookup(0x0A010203).handle == 1 and len(t.entries) == 2 and 2 not in t.entries
    t.modify(1, "drop", [])
    assert t.lookup(0x0A010203).aid == DROP.aid and t.entries[1].args == ()
    t.modify(0, "forward", [0x0A0000000009, 9])            # no lookup since: made when read
    assert t.lookup(0x0AFF0000).args == (0x0A0000000009, 9)
    with pytest.raises(TableError, match="no entry with handle 2"):
        t.delete(2)
    t.clear()
    assert len(t.entries) == 0 and t.lookup(0x0A010203) is None


def test_control_plane_entries_and_computed_routes_mix():
    t = make_table()
    first = t.add([MatchValue(0x0A010000, prefix_len=16)], "drop", [])
    t.add_routes([0x0A000000, 0x0A010200], [8, 24], [("forward", (0x0A0000000001, 1))], [0, 0])
    after = t.add([MatchValue(0x0A010280, prefix_len=25)], "forward", [0x0A0000000003, 3])
    assert [e.handle for e in t.entries.values()] == [first, 1, 2, after]
    assert t.lookup(0x0A0102FF).handle == after
    assert t.lookup(0x0A010201).handle == 2
    assert t.lookup(0x0A01FF01).handle == first
    assert t.lookup(0x0AFF0000).handle == 1
    assert t.find([MatchValue(0x0A010200, prefix_len=24)]).handle == 2
    with pytest.raises(TableError, match=r"already has an entry with this key \(handle 2\)"):
        t.add([MatchValue(0x0A010200, prefix_len=24)], "drop", [])
    with pytest.raises(TableError, match=rf"already has an entry with this key \(handle {first}\)"):
        t.add_routes([0x0A010000], [16], [("drop", ())], [0])
    t.delete(first)
    assert t.lookup(0x0A01FF01).handle == 1
    t.clear()
    assert len(t.entries) == 0


@pytest.mark.parametrize("values,plens,message,added", [
    ([0x0A000000, 0x0B000000, 0x0A000000], [8, 8, 8], r"already has an entry with this key \(handle 0\)", 2),
    ([0x0A000000, 0x0B000000], [8, 33], "prefix length 33 is out of range for key 'dst' (32 bits)", 1),
    ([0x0A000000, 1 << 40], [8, 8], "value 1099511627776 does not fit in key 'dst'", 1),
    ([1, 2, 3, 4, 5], [32] * 5, r"table 'C.lpm' is full \(3 entries\)", 3),
])
def test_add_routes_checks_as_add_does(values, plens, message, added):
    t = make_table(size=3)
    with pytest.raises(TableError, match=message.replace("(32", r"\(32").replace("bits)", r"bits\)")):
        t.add_routes(values, plens, [("drop", ())], [0] * len(values))
    assert len(t.entries) == added              # the routes before the bad one are in


def test_action_checks_and_numpy_arrays():
    t = make_table()
    with pytest.raises(TableError, match="@defaultonly"):
        t.add_routes([0], [0], [("miss", ())], [0])
    with pytest.raises(TableError, match="does not fit in parameter 'port'"):
        t.add_routes([0], [0], [("forward", (1, 1 << 9))], [0])
    t.add_routes(np.array([0x0A000000, 0x0B000000], dtype=np.uint64), np.array([8, 8]),
                 [("forward", (5, 5))], np.array([0, 0]))
    assert t.lookup(0x0B010101).args == (5, 5) and isinstance(t.entries[1].key, int)
    assert len(t.index.routes.actions) == 1     # one (action, data) pair for both routes


def test_values_with_host_bits_and_counted_tables_stay_entry_objects():
    t = make_table()
    t.add_prefixes("drop", [(0x0A0000FF, 8, ())])
    assert t.index.routes is None and t.entries[0].match[0].value == 0x0A0000FF
    assert t.lookup(0x0A123456).handle == 0
    counted = make_table(direct_counter="C.hits")
    counted.add_prefixes("drop", [(0x0A000000, 8, ())])
    assert counted.index.routes is None and len(counted.entries.objects) == 1


def test_a_route_modified_before_it_was_ever_read():
    t = make_table()
    t.add_routes([0x0A000000, 0x0B000000], [8, 8], [("drop", ())], [0, 0])
    t.modify(1, "forward", [0x0A0000000007, 7])
    assert t.index.routes.actions[t.index.routes.acts[1]] == (FORWARD.aid, (0x0A0000000007, 7))
    assert t.lookup(0x0B000001).args == (0x0A0000000007, 7) and t.lookup(0x0A000001).aid == DROP.aid
