"""views/p4source.py: where a program's tables, actions and header-field writes are written."""

from __future__ import annotations

from dataplane.build import build
from dataplane.locate import find_program
from dataplane.views.p4source import shown_path, source_index


def router_index():
    return source_index(build(find_program("ipv4_router")))


def line_of(text: str, path: str) -> int:
    lines = open(path).read().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_tables_and_actions_have_their_source_lines():
    path = find_program("ipv4_router")
    index = router_index()
    assert index.table("MyIngress.ipv4_lpm") == f"programs/ipv4_router.p4:{line_of('table ipv4_lpm', path)}"
    assert index.action("MyIngress.forward") == f"programs/ipv4_router.p4:{line_of('action forward(', path)}"
    assert index.action("NoAction").startswith("p4include/core.p4:")
    assert index.table("MyIngress.nonesuch") is None and index.action("nonesuch") is None


def test_a_field_written_in_an_action_that_ran_is_found_there_else_in_an_apply_block():
    path = find_program("ipv4_router")
    index = router_index()
    src, ttl = index.writers([("ethernet_t", "srcAddr"), ("ipv4_t", "ttl")], ["MyIngress.set_egress"])
    assert src.owner == "MyIngress.set_egress" and src.in_action
    assert ttl.owner == "MyIngress" and not ttl.in_action
    assert ttl.where == f"programs/ipv4_router.p4:{line_of('hdr.ipv4.ttl = hdr.ipv4.ttl - 1', path)}"
    assert index.writers([("tcp_t", "window")], []) == [None]


def test_of_two_writes_outside_actions_the_one_near_the_other_changes_is_chosen():
    path = find_program("dual_stack_router")
    index = source_index(build(path))
    v6 = index.writers([("ethernet_t", "dstAddr"), ("ipv6_t", "hopLimit")], [])
    v4 = index.writers([("ethernet_t", "dstAddr"), ("ipv4_t", "ttl")], [])
    assert v6[0].where != v4[0].where
    assert abs(int(v6[0].where.rsplit(":")[1]) - int(v6[1].where.rsplit(":")[1])) < 5


def test_shipped_programs_are_shown_relative_to_the_package():
    assert shown_path(find_program("ipv4_router")) == "programs/ipv4_router.p4"
    assert shown_path("/nowhere/else.p4") == "/nowhere/else.p4"
