"""P4Runtime IDs: p4c's hash of names, its prefixes, @id handling, probing on collisions, and aliases."""

from __future__ import annotations

import pytest

from dataplane.p4runtime import ids
from dataplane.p4runtime.ids import IdError, SymbolTable, hashed_id, jenkins_one_at_a_time

# (prefix, fully qualified name, the ID p4c wrote for it), from P4Info files p4c generated
# (p4c's testdata/p4_16_errors_outputs and name_annotations_to_p4info-bmv2.p4's output).
P4C_IDS = [
    (ids.ACTION, "NoAction", 21257015),
    (ids.ACTION, "IngressI.blue", 23079077),
    (ids.ACTION, "I.a0", 20083844),
    (ids.ACTION, "ingress.a", 21186165),
    (ids.ACTION, "ingress.a_with_control_params", 17165658),
    (ids.ACTION, "IngressI.c1.drop", 24155194),
    (ids.ACTION, "ingress.shift", 32554999),
    (ids.TABLE, "IngressI.red", 49805857),
    (ids.TABLE, "ingress.t_lpm", 42140569),
    (ids.TABLE, "ingress.t_optional", 38131002),
    (ids.TABLE, "t0", 33777489),
    (ids.TABLE, "ingress.t", 34728461),
    (ids.REGISTER, "ingress.reg1", 369563462),
    (ids.REGISTER, "ingress.reg2", 382138564),
]


@pytest.mark.parametrize("prefix, name, expected", P4C_IDS)
def test_hashed_ids_are_p4cs(prefix, name, expected):
    assert hashed_id(prefix, name) == expected


def test_jenkins_one_at_a_time_reference_values():
    # The hash of the empty string is 0; "a" is the classic example value of the algorithm.
    assert jenkins_one_at_a_time(b"") == 0
    assert jenkins_one_at_a_time(b"a") == 0xCA2E9442


def test_prefixes_are_the_p4runtime_ones():
    assert (ids.ACTION, ids.TABLE, ids.VALUE_SET, ids.CONTROLLER_HEADER) == (1, 2, 3, 4)
    assert (ids.ACTION_PROFILE, ids.COUNTER, ids.DIRECT_COUNTER, ids.METER, ids.DIRECT_METER,
            ids.REGISTER, ids.DIGEST) == (0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17)


def test_symbol_table_assigns_hashes():
    table = SymbolTable()
    table.add(ids.TABLE, "ingress.t_lpm")
    table.add(ids.ACTION, "NoAction")
    table.assign()
    assert table.id(ids.TABLE, "ingress.t_lpm") == 42140569
    assert table.id(ids.ACTION, "NoAction") == 21257015


def test_explicit_id_gets_the_prefix_and_keeps_its_value():
    table = SymbolTable()
    table.add(ids.TABLE, "c.t", explicit_id=5)
    table.add(ids.ACTION, "c.a", explicit_id=0x01000007)
    table.assign()
    assert table.id(ids.TABLE, "c.t") == 0x02000005
    assert table.id(ids.ACTION, "c.a") == 0x01000007


def test_explicit_id_with_another_kinds_prefix_is_refused():
    table = SymbolTable()
    table.add(ids.TABLE, "c.t", explicit_id=0x01000005)
    with pytest.raises(IdError, match="wrong 8-bit prefix"):
        table.assign()


def test_same_explicit_id_twice_is_refused():
    table = SymbolTable()
    table.add(ids.TABLE, "c.t1", explicit_id=5)
    table.add(ids.TABLE, "c.t2", explicit_id=5)
    with pytest.raises(IdError, match="more than one"):
        table.assign()


def test_a_taken_hash_moves_to_the_next_value():
    # A user's @id on one table takes the ID another table's name hashes to: that name probes onward.
    taken = hashed_id(ids.TABLE, "ingress.t_lpm")
    table = SymbolTable()
    table.add(ids.TABLE, "ingress.t_lpm")
    table.add(ids.TABLE, "ingress.other", explicit_id=taken)
    table.assign()
    assert table.id(ids.TABLE, "ingress.other") == taken
    assert table.id(ids.TABLE, "ingress.t_lpm") == taken + 1


def test_probing_follows_sorted_names():
    # Two names whose hashes collide in 24 bits would be resolved in sorted order; simulate with @ids that
    # take both a name's hash and the next value.
    base = hashed_id(ids.ACTION, "x.b")
    table = SymbolTable()
    table.add(ids.ACTION, "x.b")
    table.add(ids.ACTION, "y.one", explicit_id=base)
    table.add(ids.ACTION, "y.two", explicit_id=base + 1)
    table.assign()
    assert table.id(ids.ACTION, "x.b") == base + 2


def test_aliases_are_shortest_unique_suffixes():
    table = SymbolTable()
    for name in ("IngressI.c1.drop", "IngressI.c2.drop", "IngressI.red", "NoAction", "a.b.c", "b.c"):
        table.add(ids.ACTION, name)
    assert table.alias("IngressI.c1.drop") == "c1.drop"
    assert table.alias("IngressI.red") == "red"
    assert table.alias("NoAction") == "NoAction"
    assert table.alias("a.b.c") == "a.b.c"
    assert table.alias("b.c") == "b.c"


def test_aliases_count_names_of_every_kind():
    table = SymbolTable()
    table.add(ids.TABLE, "ingress.t")
    table.add(ids.COUNTER, "egress.t")
    assert table.alias("ingress.t") == "ingress.t"
