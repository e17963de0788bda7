"""Loading table entries from runtime JSON and YAML; errors point at file:line:col."""

from __future__ import annotations

import pytest

from dataplane.build import build
from dataplane.controlplane.loader import load_entries_yaml, load_runtime_json
from dataplane.controlplane.values import ValueError_, parse_match, parse_scalar
from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.runtime.device import Device
from dataplane.runtime.tables import KeySpec
from p4helpers import PROGRAMS

RUNTIME_JSON = """{
  "target": "bmv2",
  "p4info": "build/basic.p4.p4info.txt",
  "bmv2_json": "build/basic.json",
  "table_entries": [
    {
      "table": "MyIngress.ipv4_lpm",
      "default_action": true,
      "action_name": "MyIngress.drop",
      "action_params": { }
    },
    {
      "table": "MyIngress.ipv4_lpm",
      "match": { "hdr.ipv4.dstAddr": ["10.0.1.1", 32] },
      "action_name": "MyIngress.ipv4_forward",
      "action_params": { "dstAddr": "08:00:00:00:01:11", "port": 1 }
    }
  ],
  "multicast_group_entries": [
    { "multicast_group_id": 1, "replicas": [ { "egress_port": 1, "instance": 1 }, { "egress_port": 2, "instance": 1 } ] }
  ],
  "clone_session_entries": [
    { "clone_session_id": 100, "replicas": [ { "egress_port": 3, "instance": 1 } ] }
  ]
}
"""


@pytest.fixture
def device():
    return Device(build(str(PROGRAMS / "basic_ipv4.p4")))


def test_runtime_json_in_the_tutorials_format(device):
    load_runtime_json(device, SourceFile("s1-runtime.json", RUNTIME_JSON))
    t = device.table("MyIngress.ipv4_lpm")
    [entry] = t.entries.values()
    assert entry.args == (0x080000000111, 1)
    assert t.lookup(0x0A000101) is entry
    assert t.action_name(t.default_aid) == "MyIngress.drop"
    assert device.mcast_groups[1] == [(1, 1), (2, 1)]
    assert device.clone_sessions[100] == (3, None)


def _error(device, text, loader=load_runtime_json, name="s1-runtime.json"):
    with pytest.raises(DiagnosticError) as exc:
        loader(device, SourceFile(name, text))
    d = exc.value.diagnostics[0]
    return d, d.render()


def test_unknown_table_points_at_the_name(device):
    d, text = _error(device, RUNTIME_JSON.replace('"MyIngress.ipv4_lpm",\n      "match"', '"MyIngress.ipv4_lmp",\n      "match"'))
    assert "no table named 'MyIngress.ipv4_lmp'" in d.message
    assert (d.span.line, d.span.col) == (13, 16)
    assert text.startswith("s1-runtime.json:13:16: error:")


def test_value_too_wide_for_a_parameter(device):
    d, _ = _error(device, RUNTIME_JSON.replace('"port": 1', '"port": 1000'))
    assert d.message == "parameter 'port' 1000 does not fit in bit<9>"
    assert (d.span.line, d.span.col) == (16, 66)


def test_unknown_parameter_and_key_field(device):
    d, _ = _error(device, RUNTIME_JSON.replace('"port": 1', '"prot": 1'))
    assert "action 'MyIngress.ipv4_forward' has no parameter 'prot'" in d.message
    d, _ = _error(device, RUNTIME_JSON.replace('"hdr.ipv4.dstAddr"', '"hdr.ipv4.dst"'))
    assert "has no key field 'hdr.ipv4.dst'" in d.message and d.hint == "its key fields: hdr.ipv4.dstAddr"


def test_duplicate_entries_and_bad_json(device):
    entry = RUNTIME_JSON.split('"table_entries": [')[1].split("],\n  \"multicast")[0]
    doubled = RUNTIME_JSON.replace(entry, entry + "," + entry.split("},", 1)[1])
    d, _ = _error(device, doubled)
    assert "already has an entry with this key" in d.message
    d, _ = _error(device, '{"table_entries": [ }')
    assert d.message.startswith("invalid JSON") and (d.span.line, d.span.col) == (1, 21)


def test_unknown_top_level_key_is_an_error(device):
    d, _ = _error(device, '{"table_entires": []}')
    assert d.message == "unknown key 'table_entires' in the runtime JSON file"
    assert d.hint == "did you mean 'table_entries'?"


YAML = """
tables:
  ipv4_lpm:
    default: drop
    entries:
      - match: {hdr.ipv4.dstAddr: 10.0.2.0/24}
        action: ipv4_forward
        params: {dstAddr: 08:00:00:00:02:22, port: 2}
multicast_groups:
  5: [1, 2, {port: 3, rid: 9}]
clone_sessions:
  7: 4
"""


def test_yaml_form(device):
    load_entries_yaml(device, SourceFile("entries.yaml", YAML))
    t = device.table("ipv4_lpm")
    e = t.lookup(0x0A000263)
    assert e is not None and e.args == (0x080000000222, 2)   # an unquoted MAC stays a MAC in YAML
    assert device.mcast_groups[5] == [(1, 1), (2, 1), (3, 9)]
    assert device.clone_sessions[7] == (4, None)


def test_yaml_errors_have_positions(device):
    d, _ = _error(device, YAML.replace("port: 2}", "port: 2, vlan: 3}"), load_entries_yaml, "entries.yaml")
    assert "action 'MyIngress.ipv4_forward' has no parameter 'vlan'" in d.message
    assert (d.span.path, d.span.line) == ("entries.yaml", 8)
    d, _ = _error(device, YAML.replace("entries:", "entrys:"), load_entries_yaml, "entries.yaml")
    assert d.message == "unknown key 'entrys' in table 'ipv4_lpm'" and d.span.line == 5


@pytest.mark.parametrize("text,width,value", [
    ("10.0.1.1", 32, 0x0A000101), ("08:00:00:00:01:11", 48, 0x080000000111), ("0x1F", 8, 31),
    ("2001:db8::1", 128, 0x20010DB8000000000000000000000001), (7, 3, 7), ("0b101", 3, 5), (True, 1, 1),
])
def test_scalar_syntax(text, width, value):
    assert parse_scalar(text, width) == value


@pytest.mark.parametrize("text,message", [
    ("256", "does not fit in bit<8>"), ("10.0.0.300", "not a valid IPv4 address"), ("zz", "not a number"),
    ("", "is empty"),
])
def test_scalar_errors(text, message):
    with pytest.raises(ValueError_, match=message):
        parse_scalar(text, 8)


def test_match_shorthands():
    assert parse_match(KeySpec("a", "lpm", 32), "10.0.0.0/8").prefix_len == 8
    t = parse_match(KeySpec("a", "ternary", 16), "0x0a00 &&& 0xff00")
    assert (t.value, t.mask) == (0x0A00, 0xFF00)
    r = parse_match(KeySpec("a", "range", 16), "100..200")
    assert (r.lo, r.hi) == (100, 200)
    assert parse_match(KeySpec("a", "ternary", 16), "*").mask == 0
    with pytest.raises(ValueError_, match="needs a value"):
        parse_match(KeySpec("a", "exact", 16), None)


# ---------------------------------------------------------------------------- action profiles and selectors

SELECTOR_JSON = """{
  "action_profile_members": [
    {"action_profile": "Ing.ecmp_selector", "member_id": 10, "action_name": "Ing.set_port",
     "action_params": {"port": 1}},
    {"action_profile": "ecmp_selector", "member_id": 11, "action_name": "set_port", "action_params": {"port": 2}}
  ],
  "action_profile_groups": [
    {"action_profile": "Ing.ecmp_selector", "group_id": 5, "members": [10, {"member_id": 11, "weight": 1}]}
  ],
  "table_entries": [
    {"table": "Ing.ecmp", "match": {"hdr.ethernet.etherType": "0x88b5"}, "group_id": 5},
    {"table": "Ing.ecmp", "match": {"hdr.ethernet.etherType": 2048}, "member_id": 11},
    {"table": "Ing.ecmp_by_src", "default_action": true, "member_id": 10}
  ]
}
"""


@pytest.fixture
def selector_device():
    from pathlib import Path
    here = Path(__file__).resolve().parents[1] / "conformance" / "regressions"
    return Device(build(str(here / "action_selector.p4")))


def test_runtime_json_members_groups_and_indirect_entries(selector_device):
    d = selector_device
    load_runtime_json(d, SourceFile("s1-runtime.json", SELECTOR_JSON))
    profile = d.profile("ecmp_selector")
    assert sorted(profile.members) == [10, 11]
    assert [m.handle for m in profile.groups[5].members] == [10, 11]
    t = d.table("Ing.ecmp")
    assert [t.describe_entry(e) for e in t.entries.values()] == [
        "entry 0 [hdr.ethernet.etherType=0x88b5] -> group 5", "entry 1 [hdr.ethernet.etherType=0x0800] -> member 11"]
    assert d.table("Ing.ecmp_by_src").default_ref is profile.members[10]
    flow = bytes.fromhex("000000000001000000000009" "88b5" "0001" "00")
    assert d.process(0, flow).outputs[0][0] == 2           # id 1 % 2 members -> the second, member 11


@pytest.mark.parametrize("change,message,line_col", [
    (('"members": [10, {"member_id": 11, "weight": 1}]', '"members": [10, 12]'),
     "action selector 'Ing.ecmp_selector' has no member 12 (its members: 10, 11)", (8, 76)),
    (('"members": [10, {"member_id": 11, "weight": 1}]', '"members": []'),
     "group 5 of action selector 'Ing.ecmp_selector' is empty", (11, 86)),
    (('"group_id": 5}', '"group_id": 5, "action_name": "Ing.set_port"}'),
     "an entry that points to a member or group has no 'action_name'", (11, 104)),
    (('"action_name": "set_port"', '"action_name": "drop"'),
     "action 'Ing.drop' has no parameter 'port'", (5, 99)),
    (('"member_id": 11, "action_name"', '"member_id": 10, "action_name"'), "action selector 'Ing.ecmp_selector' already has a member 10",
     (5, 54)),
])
def test_profile_errors_point_at_the_value(selector_device, change, message, line_col):
    d, _ = _error(selector_device, SELECTOR_JSON.replace(*change))
    assert message in d.message
    assert (d.span.line, d.span.col) == line_col


SELECTOR_YAML = """\
action_profiles:
  ecmp_selector:
    members:
      - {id: 1, action: set_port, params: {port: 1}}
      - {id: 2, action: set_port, params: {port: 2}}
    groups:
      - {id: 3, members: [1, 2]}
tables:
  Ing.ecmp:
    entries:
      - {match: {hdr.ethernet.etherType: 0x88b5}, group: 3}
      - {match: {hdr.ethernet.etherType: 0x0800}, member: 2}
  ecmp_by_src:
    default: {member: 1}
"""


def test_yaml_members_groups_and_indirect_entries(selector_device):
    d = selector_device
    load_entries_yaml(d, SourceFile("entries.yaml", SELECTOR_YAML))
    t = d.table("Ing.ecmp")
    assert [t.describe_entry(e) for e in t.entries.values()] == [
        "entry 0 [hdr.ethernet.etherType=0x88b5] -> group 3", "entry 1 [hdr.ethernet.etherType=0x0800] -> member 2"]
    assert d.table("ecmp_by_src").default_ref.handle == 1
    d2, _ = _error(d.__class__(d.program), SELECTOR_YAML.replace("member: 2}", "member: 9}"),
                   loader=load_entries_yaml, name="entries.yaml")
    assert "has no member 9" in d2.message and (d2.span.line, d2.span.col) == (12, 59)


# ---------------------------------------------------------------------------- the tutorials' p4runtime_lib shapes
# p4runtime_lib/convert.py's encode() unwraps a one-element list and takes negative integers as two's complement;
# basic_tunnel's s1-runtime.json writes `"hdr.myTunnel.dst_id": [1]`.


def test_an_exact_key_written_as_a_one_element_list(device):
    text = RUNTIME_JSON.replace('"port": 1 }', '"port": [1] }')
    load_runtime_json(device, SourceFile("s1-runtime.json", text))
    [entry] = device.table("MyIngress.ipv4_lpm").entries.values()
    assert entry.args == (0x080000000111, 1)


@pytest.mark.parametrize("kind,v,expected", [
    ("exact", [7], dict(value=7)),
    ("exact", ["10.0.0.1"], dict(value=0x0A000001)),
    ("lpm", [["10.0.0.0"], 8], dict(value=0x0A000000, prefix_len=8)),
    ("ternary", [[5], [0xFF]], dict(value=5, mask=0xFF)),
    ("range", [[1], [9]], dict(lo=1, hi=9)),
    ("exact", -1, dict(value=0xFFFFFFFF)),
    ("exact", -(1 << 31), dict(value=1 << 31)),
])
def test_match_values_in_the_helpers_shapes(kind, v, expected):
    m = parse_match(KeySpec("k", kind, 32), v)
    for attr, value in expected.items():
        assert getattr(m, attr) == value


@pytest.mark.parametrize("v,message", [
    (-(1 << 31) - 1, "does not fit in bit<32> as a two's complement number"),
    ([1, 2], "must be a number or an address string, not list"),
])
def test_shapes_the_helper_refuses_are_refused(v, message):
    with pytest.raises(ValueError_) as exc:
        parse_match(KeySpec("k", "exact", 32), v)
    assert message in str(exc.value)


def test_a_negative_action_parameter_is_its_twos_complement(device):
    text = RUNTIME_JSON.replace('"port": 1 }', '"port": -1 }')
    load_runtime_json(device, SourceFile("s1-runtime.json", text))
    [entry] = device.table("MyIngress.ipv4_lpm").entries.values()
    assert entry.args == (0x080000000111, 511)


def test_clone_sessions_that_truncate_are_refused_at_the_key(device):
    text = RUNTIME_JSON.replace('"clone_session_id": 100,', '"clone_session_id": 100, "packet_length_bytes": 64,')
    d, _ = _error(device, text)
    assert d.message.startswith("packet_length_bytes (clones truncated to a length) is not supported yet")
    fresh = Device(device.program)
    load_runtime_json(fresh, SourceFile("s1-runtime.json",
                                        text.replace('"packet_length_bytes": 64', '"packet_length_bytes": 0')))
    assert fresh.clone_sessions[100] == (3, None)
