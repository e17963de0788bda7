"""lookups.py: a table's look-up in fast() is a load of its `lookup` attribute into a local, then a call, so
that CPython specializes the load; the table is still searched the way its entries say at each packet."""

from __future__ import annotations

import ast
import dis
import random
import re
import sys
import textwrap

import pytest

from dataplane.bench import _packet, setup_lpm
from dataplane.compiler.lookups import load_lookups_as_attributes
from dataplane.runtime.tables import MatchValue

SRC = """
def fast(port, data):
    lookup_T1 = 5
    ent_1 = T0.lookup(port)
    if ent_1 is None:
        ent_2 = T1.lookup(data[0])
    else:
        ent_3 = T0.lookup(data[1])
    other = dev.lookup(port)
    return ent_1, lookup_T1, other
"""


def rewritten() -> str:
    fn = ast.parse(textwrap.dedent(SRC)).body[0]
    load_lookups_as_attributes(fn)
    return ast.unparse(fn)


def test_each_table_look_up_loads_the_attribute_into_a_local_first():
    out = rewritten()
    assert "lookup_T0 = T0.lookup\n    ent_1 = lookup_T0(port)" in out
    assert "lookup_T0 = T0.lookup\n        ent_3 = lookup_T0(data[1])" in out
    # A name the function has is not taken; what is not a table of the module is left alone.
    assert "lookup_T1_2 = T1.lookup\n        ent_2 = lookup_T1_2(data[0])" in out
    assert "lookup_T1 = 5" in out and "other = dev.lookup(port)" in out
    assert not re.search(r"T\d\.lookup\(", out)


def fast_of_lpm():
    dev, _routes = setup_lpm(50)
    return dev, dev.stages(False)["fast"]


def test_the_generated_fast_function_calls_no_table_lookup_as_a_method():
    dev, fast = fast_of_lpm()
    assert fast.__code__.co_names.count("lookup") >= 1
    calls = [i for i in dis.get_instructions(fast) if i.opname == "LOAD_METHOD" and i.argval == "lookup"]
    assert calls == []


def test_entries_added_after_packets_are_searched_at_once():
    dev, fast = fast_of_lpm()
    pkt = _packet(random.Random(3), 0xC0A80101)
    before = fast(1, pkt)
    dev.table_add("ipv4_lpm", [MatchValue(0xC0A80100, prefix_len=24)], "ipv4_forward", [0x020000000001, 7])
    after = fast(1, pkt)
    assert after != before and after[0] == 7


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's specialization of attribute loads")
def test_the_load_of_lookup_is_specialized():
    dev, fast = fast_of_lpm()
    pkt = _packet(random.Random(3), 0x0A000001)
    for _ in range(20):
        fast(1, pkt)
    loads = [i.opname for i in dis.get_instructions(fast, adaptive=True) if i.argval == "lookup"]
    assert "LOAD_ATTR_INSTANCE_VALUE" in loads
