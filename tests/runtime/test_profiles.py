"""Action profiles and selectors: members, groups, indirect tables, and the member a group picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.build import build
from dataplane.runtime.device import Device
from dataplane.runtime.errors import ControlPlaneError
from dataplane.runtime.profiles import ActionProfile, IndirectTable, selector_hash
from dataplane.runtime.tables import ActionSpec, KeySpec, MatchValue, TableError

REGRESSIONS = Path(__file__).resolve().parents[1] / "conformance" / "regressions"
SET = ActionSpec("C.set", "set", [("v", 8)], 0)
DROP = ActionSpec("C.drop", "drop", [], 1)


def make(algorithm="identity", size=8, max_group_size=None, default_is_const=False):
    profile = ActionProfile("C.sel", size, algorithm, max_group_size)
    table = IndirectTable("C.t", [KeySpec("k", "exact", 8)], [SET, DROP], 16, (1, ()), default_is_const,
                          profile=profile)
    return profile, table


def test_handles_are_the_lowest_free_number_as_in_bmv2_or_the_id_given():
    profile, _ = make()
    assert [profile.create_member("set", [i]) for i in range(3)] == [0, 1, 2]
    profile.delete_member(1)
    assert profile.create_member("set", [9]) == 1
    assert profile.create_member("set", [9], handle=10) == 10
    assert profile.create_member("set", [9]) == 3
    with pytest.raises(TableError, match="action selector 'C.sel' already has a member 10"):
        profile.create_member("set", [9], handle=10)
    assert profile.create_group() == 0 and profile.create_group(handle=7) == 7 and profile.create_group() == 1


def test_members_groups_and_entries_keep_each_other_alive():
    profile, table = make()
    m = profile.create_member("set", [1])
    g = profile.create_group()
    with pytest.raises(TableError, match="group 0 of action selector 'C.sel' is empty"):
        table.add_group_entry([MatchValue(1)], g)
    profile.add_member_to_group(m, g)
    handle = table.add_group_entry([MatchValue(1)], g)
    with pytest.raises(TableError, match="member 0 of action selector 'C.sel' is still used by 1 table entry"):
        profile.delete_member(m)
    with pytest.raises(TableError, match="group 0 of action selector 'C.sel' is still used"):
        profile.delete_group(g)
    table.delete(handle)
    profile.delete_group(g)          # takes its members out
    profile.delete_member(m)
    with pytest.raises(TableError, match="has no member 0 \\(it has no members yet\\)"):
        table.add_member_entry([MatchValue(1)], 0)


def test_an_indirect_table_takes_no_actions_directly():
    _, table = make()
    with pytest.raises(TableError, match="table 'C.t' is indirect .*act_prof_create_member, table_indirect_add"):
        table.add([MatchValue(1)], "set", [1])
    with pytest.raises(TableError, match="table_indirect_set_default"):
        table.set_default("drop")


def test_limits_size_max_group_size_and_actions():
    profile, _ = make(size=2, max_group_size=1)
    profile.create_member("set", [1])
    profile.create_member("drop")
    with pytest.raises(TableError, match="is full \\(2 members\\)"):
        profile.create_member("drop")
    g = profile.create_group()
    profile.add_member_to_group(0, g)
    with pytest.raises(TableError, match="is full \\(@max_group_size\\(1\\)\\)"):
        profile.add_member_to_group(1, g)
    with pytest.raises(TableError, match="has no action 'nosuch' \\(its actions: C.set, C.drop\\)"):
        profile.create_member("nosuch")
    with pytest.raises(TableError, match="value 300 does not fit"):
        profile.modify_member(0, "set", [300])
    plain = ActionProfile("C.ap", 4)
    with pytest.raises(TableError, match="action profile 'C.ap' has no selector, so it has no groups"):
        plain.create_group()


def test_a_member_action_must_be_in_every_table_sharing_the_profile():
    profile = ActionProfile("C.ap", 4)
    IndirectTable("C.a", [KeySpec("k", "exact", 8)], [SET, DROP], 4, profile=profile)
    other = ActionSpec("C.other", "other", [], 1)
    IndirectTable("C.b", [KeySpec("k", "exact", 8)], [ActionSpec("C.set", "set", [("v", 8)], 0), other], 4,
                  profile=profile)
    profile.create_member("set", [1])
    with pytest.raises(TableError, match="table 'C.b', which uses it, does not list that action"):
        profile.create_member("drop")


def test_a_const_default_cannot_become_a_member():
    profile, table = make(default_is_const=True)
    profile.create_member("set", [1])
    with pytest.raises(TableError, match="is const"):
        table.set_default_member(0)


def _crc16_arc(data: bytes) -> int:
    """CRC-16/ARC bit by bit (reflected 0x8005, init 0), independent of dataplane's table-driven one."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_selector_hash_pads_the_fields_to_bytes_as_bmv2():
    assert selector_hash("identity", 0x1234, 16) == 0x1234
    assert selector_hash("identity", 0x5, 4) == 0x50                  # 4 bits padded to a byte
    assert selector_hash("identity", (1 << 80) - 1, 80) == (1 << 64) - 1     # the first 8 bytes
    assert selector_hash("crc16", 0x1234ab, 24) == _crc16_arc(bytes([0x12, 0x34, 0xab]))


@pytest.fixture
def selector_device():
    return Device(build(str(REGRESSIONS / "action_selector.p4")))


def _flow(flow_id: int) -> bytes:
    return bytes.fromhex("000000000001000000000009" "88b5") + flow_id.to_bytes(2, "big") + b"\x00\xaa"


def test_a_group_runs_the_member_at_hash_mod_size_in_handle_order(selector_device):
    d = selector_device
    for port in (1, 2, 3):
        d.member_create("ecmp_selector", "set_port", [port])
    g = d.group_create("ecmp_selector")
    for m in (2, 0, 1):           # added out of order: the group keeps them by handle
        d.group_add_member("ecmp_selector", g, m)
    d.table_add_group("ecmp", [MatchValue(0x88b5)], g)
    ports = [d.process(0, _flow(i)).outputs[0][0] for i in range(6)]
    assert ports == [1, 2, 3, 1, 2, 3]
    trace = d.process(0, _flow(5), trace=True).trace.render()
    assert "hit entry 0 [hdr.ethernet.etherType=0x88b5] -> group 0" in trace
    assert "action selector Ing.ecmp_selector: group 0 (3 members), hash 0x5 -> member 2" in trace


def test_a_group_emptied_under_an_entry_runs_no_action(selector_device):
    d = selector_device
    m = d.member_create("ecmp_selector", "set_port", [1])
    g = d.group_create("ecmp_selector")
    d.group_add_member("ecmp_selector", g, m)
    d.table_add_group("ecmp", [MatchValue(0x88b5)], g)
    d.group_remove_member("ecmp_selector", g, m)
    r = d.process(0, _flow(1), trace=True)
    assert r.outputs == [(0, _flow(1))]            # no action ran: egress_spec stayed 0
    assert "group 0 is empty, no action runs" in r.trace.render()
    assert not d.internal_errors


def test_device_errors_name_the_profile_and_the_table(selector_device):
    d = selector_device
    with pytest.raises(ControlPlaneError, match="table 'Ing.plain' is not indirect"):
        d.table_add_member("plain", [MatchValue(1)], 0)
    with pytest.raises(ControlPlaneError, match="no action profile named 'nosuch'"):
        d.member_create("nosuch", "set_port", [1])
    # BMv2's table_indirect_* commands reach a profile through its table.
    assert d.member_create("ecmp_by_src", "set_port", [1]) == 0
    assert d.profile("Ing.ecmp").name == "Ing.ecmp_selector"
