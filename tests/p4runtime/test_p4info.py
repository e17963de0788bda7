"""The P4Info of our compiler: every kind of object, p4c's conventions, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import json_format, text_format
from p4.config.v1 import p4info_pb2

from dataplane.build import build
from dataplane.diagnostics import DiagnosticError
from dataplane.p4runtime import ids
from dataplane.p4runtime.ids import hashed_id
from dataplane.p4runtime.p4info import build_p4info, format_for_path, p4info_bytes

FEATURES = Path(__file__).with_name("features.p4")


@pytest.fixture(scope="module")
def info() -> p4info_pb2.P4Info:
    return build_p4info(build(str(FEATURES)))


def by_name(objects, name):
    found = [o for o in objects if o.preamble.name == name]
    assert len(found) == 1, f"{name}: {[o.preamble.name for o in objects]}"
    return found[0]


def action_id(info, name):
    return by_name(info.actions, name).preamble.id


def test_pkg_info_from_pkginfo_annotation(info):
    assert info.pkg_info.arch == "v1model"
    assert (info.pkg_info.name, info.pkg_info.version) == ("feat", "1.2")


def test_table_preamble_annotations_and_doc(info):
    mac = by_name(info.tables, "I.mac")
    assert mac.preamble.id == hashed_id(ids.TABLE, "I.mac")
    assert mac.preamble.alias == "mac"
    assert list(mac.preamble.annotations) == ["@my_anno(1)"]
    assert mac.preamble.doc.brief == "MAC table"


def test_match_fields_names_widths_and_kinds(info):
    mac = by_name(info.tables, "I.mac")
    assert [(m.id, m.name, m.bitwidth, m.match_type) for m in mac.match_fields] == [
        (1, "dst", 48, p4info_pb2.MatchField.EXACT), (2, "sm.ingress_port", 9, p4info_pb2.MatchField.TERNARY)]
    assert by_name(info.tables, "I.counted").match_fields[0].match_type == p4info_pb2.MatchField.RANGE
    assert by_name(info.tables, "I.metered").match_fields[0].match_type == p4info_pb2.MatchField.LPM
    # A selector key is not a match field: the selector hashes it.
    assert [m.name for m in by_name(info.tables, "I.ecmp").match_fields] == ["h.eth.type"]


def test_action_refs_with_scope(info):
    mac = by_name(info.tables, "I.mac")
    refs = [(r.id, r.scope, list(r.annotations)) for r in mac.action_refs]
    assert refs == [
        (action_id(info, "I.forward"), p4info_pb2.ActionRef.TABLE_AND_DEFAULT, []),
        (action_id(info, "I.drop"), p4info_pb2.ActionRef.DEFAULT_ONLY, ["@defaultonly"]),
        (action_id(info, "I.learn"), p4info_pb2.ActionRef.TABLE_ONLY, ["@tableonly"]),
    ]


def test_default_actions(info):
    mac = by_name(info.tables, "I.mac")
    assert mac.const_default_action_id == 0
    assert mac.initial_default_action.action_id == action_id(info, "I.drop")
    metered = by_name(info.tables, "I.metered")
    assert metered.const_default_action_id == action_id(info, "I.color_it")
    # No default_action: NoAction, not const (p4c's CreateBuiltins).
    ecmp = by_name(info.tables, "I.ecmp")
    assert ecmp.const_default_action_id == 0
    assert ecmp.initial_default_action.action_id == action_id(info, "NoAction")
    fixed = by_name(info.tables, "I.fixed")
    args = fixed.initial_default_action.arguments
    assert [(a.param_id, a.value) for a in args] == [(1, b"\x2a")]


def test_size_timeout_and_entries(info):
    mac = by_name(info.tables, "I.mac")
    assert mac.size == 512
    assert mac.idle_timeout_behavior == p4info_pb2.Table.NOTIFY_CONTROL
    assert by_name(info.tables, "I.counted").size == 1024
    assert by_name(info.tables, "I.counted").idle_timeout_behavior == p4info_pb2.Table.NO_TIMEOUT
    fixed = by_name(info.tables, "I.fixed")
    assert fixed.is_const_table and fixed.has_initial_entries
    assert not mac.is_const_table and not mac.has_initial_entries


def test_actions_params_ids_and_unused_actions(info):
    names = [a.preamble.name for a in info.actions]
    # Top-level actions the control uses come first, then its own in declaration order; unused ones are left
    # out as p4c's front end removes them.
    assert names == ["NoAction", "I.forward", "I.drop", "I.learn", "I.count_it", "I.color_it", "I.set_x"]
    forward = by_name(info.actions, "I.forward")
    assert forward.preamble.id == 0x01000007          # @id(7) with the action prefix
    (port,) = forward.params
    assert (port.id, port.name, port.bitwidth, port.type_name.name, port.doc.brief) == \
        (1, "port", 9, "port_t", "out port")
    assert list(by_name(info.actions, "NoAction").preamble.annotations) == ['@noWarn("unused")']


def test_counters_and_meters(info):
    c = by_name(info.counters, "I.port_counts")
    assert (c.preamble.id >> 24, c.spec.unit, c.size, c.preamble.doc.brief) == \
        (ids.COUNTER, p4info_pb2.CounterSpec.BOTH, 64, "per-port packets")
    m = by_name(info.meters, "I.rate")
    assert (m.preamble.id >> 24, m.spec.unit, m.size) == (ids.METER, p4info_pb2.MeterSpec.BYTES, 32)


def test_direct_resources_point_at_their_tables(info):
    counted = by_name(info.tables, "I.counted")
    hits = by_name(info.direct_counters, "I.hits")
    assert list(counted.direct_resource_ids) == [hits.preamble.id]
    assert hits.direct_table_id == counted.preamble.id
    assert hits.spec.unit == p4info_pb2.CounterSpec.PACKETS
    metered = by_name(info.tables, "I.metered")
    colors = by_name(info.direct_meters, "I.colors")
    assert list(metered.direct_resource_ids) == [colors.preamble.id]
    assert colors.direct_table_id == metered.preamble.id


def test_action_selector(info):
    sel = by_name(info.action_profiles, "I.sel")
    ecmp = by_name(info.tables, "I.ecmp")
    assert ecmp.implementation_id == sel.preamble.id
    assert (sel.with_selector, sel.size, list(sel.table_ids)) == (True, 128, [ecmp.preamble.id])


def test_register_with_struct_type(info):
    r = by_name(info.registers, "I.pairs")
    assert r.size == 16
    assert r.type_spec.struct.name == "pair_t"
    members = info.type_info.structs["pair_t"].members
    assert [(m.name, m.type_spec.bitstring.bit.bitwidth) for m in members] == [("lo", 8), ("hi", 8)]


def test_digest_named_after_its_struct(info):
    d = by_name(info.digests, "learn_t")
    assert d.preamble.id == hashed_id(ids.DIGEST, "learn_t")
    assert d.type_spec.struct.name == "learn_t"
    assert [m.name for m in info.type_info.structs["learn_t"].members] == ["src", "port"]


def test_controller_packet_metadata(info):
    pin = by_name(info.controller_packet_metadata, "packet_in")
    # Named by the annotation; the ID hashes the header type's name, as p4c does.
    assert pin.preamble.id == hashed_id(ids.CONTROLLER_HEADER, "packet_in_t")
    assert [(m.id, m.name, m.bitwidth) for m in pin.metadata] == [(1, "ingress_port", 9), (2, "reason", 8),
                                                                 (3, "pad", 7)]
    assert pin.metadata[0].type_name.name == "port_t"
    pout = by_name(info.controller_packet_metadata, "packet_out")
    # @id(5) on the first field; the next field takes the first free position after it.
    assert [(m.id, m.name) for m in pout.metadata] == [(5, "egress_port"), (2, "pad")]


def test_type_info_enums_and_new_types(info):
    reason = info.type_info.serializable_enums["Reason"]
    assert reason.underlying_type.bitwidth == 8
    assert [(m.name, m.value) for m in reason.members] == [("A", b"\x01"), ("B", b"\x02")]
    assert info.type_info.new_types["port_t"].original_type.bitstring.bit.bitwidth == 9


def test_value_set(info):
    vs = by_name(info.value_sets, "P.vs")
    assert vs.preamble.id >> 24 == ids.VALUE_SET
    assert vs.size == 4
    assert [(m.id, m.bitwidth, m.match_type) for m in vs.match] == [(1, 16, p4info_pb2.MatchField.EXACT)]
    assert vs.preamble.doc.brief == "EtherTypes the controller adds"


def test_every_id_is_unique_and_prefixed(info):
    groups = {ids.TABLE: info.tables, ids.ACTION: info.actions, ids.ACTION_PROFILE: info.action_profiles,
              ids.COUNTER: info.counters, ids.DIRECT_COUNTER: info.direct_counters, ids.METER: info.meters,
              ids.DIRECT_METER: info.direct_meters, ids.REGISTER: info.registers, ids.DIGEST: info.digests,
              ids.VALUE_SET: info.value_sets, ids.CONTROLLER_HEADER: info.controller_packet_metadata}
    seen = []
    for prefix, objects in groups.items():
        for o in objects:
            assert o.preamble.id >> 24 == prefix, o.preamble.name
            seen.append(o.preamble.id)
    assert len(seen) == len(set(seen))


def test_formats_round_trip(info):
    text = p4info_bytes(info, "text").decode()
    assert text.startswith("# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n\n")
    assert text_format.Parse(text, p4info_pb2.P4Info()) == info
    binary = p4info_pb2.P4Info()
    binary.ParseFromString(p4info_bytes(info, "binary"))
    assert binary == info
    assert json_format.Parse(p4info_bytes(info, "json"), p4info_pb2.P4Info()) == info


@pytest.mark.parametrize("path, fmt", [("x.p4info.txt", "text"), ("x.p4info.txtpb", "text"),
                                       ("x.p4info.bin", "binary"), ("X.PB", "binary"), ("x.json", "json")])
def test_format_for_path(path, fmt):
    assert format_for_path(path) == fmt


MINIMAL = """
#include <core.p4>
#include <v1model.p4>
struct H {{}}
struct M {{ bit<8> x; }}
parser P(packet_in pk, out H h, inout M m, inout standard_metadata_t sm) {{ state start {{ transition accept; }} }}
control V(inout H h, inout M m) {{ apply {{ }} }}
control I(inout H h, inout M m, inout standard_metadata_t sm) {{
    {locals}
    apply {{ {body} }}
}}
control E(inout H h, inout M m, inout standard_metadata_t sm) {{ apply {{ }} }}
control C(inout H h, inout M m) {{ apply {{ }} }}
control D(packet_out pk, in H h) {{ apply {{ }} }}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def p4info_of(p4_file, locals_: str, body: str = "") -> p4info_pb2.P4Info:
    return build_p4info(build(str(p4_file(MINIMAL.format(locals=locals_, body=body)))))


def test_no_type_info_without_tables_params_or_externs(p4_file):
    info = p4info_of(p4_file, "action a() { m.x = 1; }", "a();")
    assert [a.preamble.name for a in info.actions] == ["I.a"]
    assert not info.HasField("type_info")


def test_an_extern_function_call_brings_type_info(p4_file):
    info = p4info_of(p4_file, "", "mark_to_drop(sm);")
    assert info.HasField("type_info")


def test_id_with_the_wrong_prefix_is_a_located_error(p4_file):
    with pytest.raises(DiagnosticError) as exc:
        p4info_of(p4_file, "@id(0x02000001) action a() { m.x = 1; }", "a();")
    text = exc.value.render()
    assert "prog.p4:9:" in text and "wrong 8-bit prefix" in text


def test_same_id_twice_is_a_located_error(p4_file):
    with pytest.raises(DiagnosticError) as exc:
        p4info_of(p4_file, "@id(3) action a() { m.x = 1; } @id(3) action b() { m.x = 2; }", "a(); b();")
    assert "more than one declaration" in exc.value.render()


def test_a_non_integer_id_is_a_located_error(p4_file):
    with pytest.raises(DiagnosticError) as exc:
        p4info_of(p4_file, '@id("x") action a() { m.x = 1; }', "a();")
    assert "prog.p4:9:" in exc.value.render()


def test_a_colliding_hash_probes_to_the_next_id(p4_file):
    taken = hashed_id(ids.ACTION, "I.a") & 0xFFFFFF
    info = p4info_of(p4_file, f"@id({taken}) action b() {{ m.x = 2; }} action a() {{ m.x = 1; }}", "a(); b();")
    assert by_name(info.actions, "I.b").preamble.id == hashed_id(ids.ACTION, "I.a")
    assert by_name(info.actions, "I.a").preamble.id == hashed_id(ids.ACTION, "I.a") + 1


def test_name_annotation_with_a_dot_is_global(p4_file):
    info = p4info_of(p4_file, '@name(".top") action a() { m.x = 1; }', "a();")
    assert [a.preamble.name for a in info.actions] == ["top"]


NESTED = Path(__file__).with_name("nested.p4")


@pytest.fixture(scope="module")
def nested() -> p4info_pb2.P4Info:
    return build_p4info(build(str(NESTED)))


def test_nested_controls_are_flattened_in_place(nested):
    # p4c inlines Inner where it is instantiated and the nameless instance of `Applied.apply()` after the
    # control's own locals, before it writes P4Info.
    assert [t.preamble.name for t in nested.tables] == ["I.first", "I.inner.inner_t", "I.last",
                                                         "I.Applied.applied_t"]
    assert [a.preamble.name for a in nested.actions] == ["NoAction", "I.inner.mark", "I.set_port",
                                                          "I.direct_only"]


def test_key_names_as_p4c_generates_them(nested):
    tables = {t.preamble.name: t for t in nested.tables}
    assert [m.name for m in tables["I.first"].match_fields] == ["h.eth.$valid$"]
    # A struct field's @name(".legacy") replaces everything before it.
    assert [m.name for m in tables["I.inner.inner_t"].match_fields] == ["h.tags[1].$valid$", "legacy.f"]
    assert tables["I.first"].match_fields[0].bitwidth == 1


def test_actions_only_called_by_actions_are_inlined_away(nested):
    names = [a.preamble.name for a in nested.actions]
    assert "I.inner.note" not in names
    # ... and the digest it sends is its caller's.
    assert [d.preamble.name for d in nested.digests] == ["note_t"]


def test_an_action_only_the_apply_block_calls_has_no_parameters(nested):
    assert list(by_name(nested.actions, "I.direct_only").params) == []


def test_translated_types(nested):
    params = {p.name: p for p in by_name(nested.actions, "I.set_port").params}
    assert (params["p"].bitwidth, params["p"].type_name.name) == (32, "Port_t")
    assert params["mac"].bitwidth == 64
    assert params["n"].bitwidth == 0 and params["n"].type_name.name == "Name_t"
    types = nested.type_info.new_types
    assert (types["Port_t"].translated_type.uri, types["Port_t"].translated_type.sdn_bitwidth) == \
        ("example.org/Port_t", 32)
    assert types["Mac_t"].translated_type.sdn_bitwidth == 64
    assert types["Name_t"].translated_type.HasField("sdn_string")


def test_in_place_profile_and_named_direct_counter(nested):
    last = by_name(nested.tables, "I.last")
    profile = by_name(nested.action_profiles, "own_profile")     # p4c: the property's @name, no prefix
    assert last.implementation_id == profile.preamble.id
    assert (profile.size, profile.with_selector, list(profile.table_ids)) == (64, False, [last.preamble.id])
    counter = by_name(nested.direct_counters, "I.hits_named")
    assert list(last.direct_resource_ids) == [counter.preamble.id]
