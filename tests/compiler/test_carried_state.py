"""carried_state(): the constructs that carry state from one packet to the next, named and located."""

from __future__ import annotations

import pytest

from dataplane.build import build
from dataplane.compiler.carried_state import carried_state
from p4helpers import PROGRAMS, check_text, with_ingress

LINE = with_ingress("@@").splitlines().index("@@") + 1      # the line the body of the cases below is on


@pytest.mark.parametrize("body, what, at", [
    ("register<bit<32>>(4) r; apply { r.write(0, 1); }", "writing the register 'r'", "r.write"),
    ("meter(4, MeterType.packets) m; apply { m.execute_meter(0, meta.y); }", "the meter 'm'", "m.execute_meter"),
    ("apply { random(meta.x, 0, 7); }", "random()", "random"),
    ("apply { hash(meta.x, HashAlgorithm.random, 32w0, { hdr.ethernet.dstAddr }, 32w16); }",
     "hash() with HashAlgorithm.random", "hash"),
    ("apply { digest(1, { hdr.ethernet.srcAddr }); }", "digest()", "digest"),
    ("apply { clone(CloneType.I2E, 5); }", "clone()", "clone"),
    ("apply { clone3(CloneType.I2E, 5, { meta.x }); }", "clone3()", "clone3"),
    ("apply { clone_preserving_field_list(CloneType.I2E, 5, 0); }", "clone_preserving_field_list()", "clone_"),
    ("apply { resubmit({ meta.x }); }", "resubmit()", "resubmit"),
    ("apply { resubmit_preserving_field_list(0); }", "resubmit_preserving_field_list()", "resubmit_preserving"),
    ("apply { recirculate({ meta.x }); }", "recirculate()", "recirculate"),
    ("apply { recirculate_preserving_field_list(0); }", "recirculate_preserving_field_list()", "recirc"),
    # Reached through an action a table runs, not in the apply block itself.
    (("register<bit<8>>(4) r; action a() { r.write(1, 2); } table t { key = { hdr.ethernet.dstAddr: exact; } "
     "actions = { a; } } apply { t.apply(); }"), "writing the register 'r'", "r.write"),
    (("direct_meter<bit<8>>(MeterType.packets) dm; action a() { dm.read(meta.y); } table t { key = "
     "{ hdr.ethernet.dstAddr: exact; } actions = { a; } meters = dm; } apply { t.apply(); }"),
     "the direct meter 'dm'", "dm.read"),
    (("direct_meter<bit<8>>(MeterType.packets) dm; action a() { } table t { key = { hdr.ethernet.dstAddr: exact; } "
     "actions = { a; } meters = dm; } apply { t.apply(); }"), "the direct meter 'dm' of table 't'", "meters"),
    (("action a() { } table t { key = { hdr.ethernet.dstAddr: exact; hdr.ethernet.srcAddr: selector; } "
     "actions = { a; } implementation = action_selector(HashAlgorithm.random, 16, 16); } apply { t.apply(); }"),
     "the action selector of table 't' with HashAlgorithm.random", "implementation"),
])
def test_stateful_constructs_are_named_at_their_source(body, what, at):
    found = carried_state(check_text(with_ingress(body), "prog.p4"))
    assert found is not None and found.what == what
    assert (found.span.line, found.span.col) == (LINE, body.index(at) + 1)
    assert found.sentence() == f"{what} (prog.p4:{LINE})"


@pytest.mark.parametrize("body", [
    "apply { }",
    # A register read: its values come from the control plane.
    "register<bit<32>>(4) r; apply { r.read(meta.x, 1); }",
    "counter(4, CounterType.packets) c; apply { c.count(1); }",
    "apply { hash(meta.x, HashAlgorithm.crc32, 32w0, { hdr.ethernet.dstAddr }, 32w16); }",
    "apply { log_msg(\"x={}\", { meta.x }); assert(meta.x == 0); truncate(32); }",
    ("direct_counter(CounterType.packets) dc; action a() { } table t { key = { hdr.ethernet.dstAddr: exact; } "
    "actions = { a; } counters = dc; } apply { t.apply(); }"),
    ("action a() { } table t { key = { hdr.ethernet.dstAddr: exact; hdr.ethernet.srcAddr: selector; } "
    "actions = { a; } implementation = action_selector(HashAlgorithm.crc16, 16, 16); } apply { t.apply(); }"),
])
def test_programs_whose_packets_are_independent(body):
    assert carried_state(check_text(with_ingress(body))) is None


def test_the_first_in_pipeline_order_is_named():
    body = "register<bit<32>>(4) r; apply { random(meta.x, 0, 7); r.write(0, 1); }"
    assert carried_state(check_text(with_ingress(body))).what == "random()"


def test_an_unused_control_is_not_looked_at():
    text = with_ingress("apply { }").replace(
        "V1Switch(", "control Unused(inout metadata_t meta) { register<bit<8>>(1) r; apply { r.write(0, 1); } }\n"
        "V1Switch(")
    assert carried_state(check_text(text)) is None


@pytest.mark.parametrize("name, what, line", [
    ("acl_stateful.p4", "writing the register 'flow_packets'", 134),
    ("externs.p4", "the meter 'port_meter'", 211),
    ("l2_switch.p4", "digest()", 71),
    ("flow_controller.p4", "clone_preserving_field_list()", 269),
    ("basic_ipv4.p4", None, None),
    ("ipv4_router.p4", None, None),       # reads a register (its ECMP seed), writes none
])
def test_shipped_programs(name, what, line):
    found = carried_state(build(str(PROGRAMS / name)))
    assert (found and (found.what, found.span.line)) == ((what, line) if what else None)
