"""simple_switch_CLI's commands on a device (controlplane/switch_cli.py): syntax, output, error words."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.build import build
from dataplane.controlplane.switch_cli import (MAX_PRIORITY, CommandError, SwitchCli, number, table_error_code,
                                               words_of)
from dataplane.runtime.device import Device
from tests.p4helpers import PROGRAMS

ROOT = Path(__file__).resolve().parents[2]
SELECTOR = ROOT / "tests" / "conformance" / "regressions" / "action_selector.p4"
LPM = "MyIngress.ipv4_lpm"


@pytest.fixture(scope="module")
def programs():
    return {name: build(str(path)) for name, path in (("basic", PROGRAMS / "basic_ipv4.p4"),
                                                      ("acl", PROGRAMS / "acl_stateful.p4"),
                                                      ("externs", PROGRAMS / "externs.p4"),
                                                      ("selector", SELECTOR))}


@pytest.fixture
def basic(programs):
    return SwitchCli(Device(programs["basic"]))


def failure(cli: SwitchCli, line: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        cli.execute(line)
    return info.value


# ---------------------------------------------------------------------------- tables


def test_table_add_dump_and_count(basic):
    out = basic.execute(f"table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    assert out == [f"Adding entry to lpm match table {LPM}", "Entry has been added with handle 0"]
    basic.execute("table_add ipv4_lpm MyIngress.ipv4_forward 0x0a000200/24 => 0x080000000222 0x2")
    assert basic.execute("table_num_entries ipv4_lpm") == ["2"]
    dump = basic.execute("table_dump ipv4_lpm")
    assert dump[:7] == ["==========", "TABLE ENTRIES", "**********", "Dumping entry 0x0", "Match key:",
                        "* hdr.ipv4.dstAddr: LPM       0a000101/32",
                        "Action entry: MyIngress.ipv4_forward - 080000000111, 0001"]
    assert "* hdr.ipv4.dstAddr: LPM       0a000200/24" in dump
    assert dump[-4:] == ["==========", "Dumping default entry", "Action entry: MyIngress.drop - ", "=========="]
    entry = basic.dev.table(LPM).entries[1]
    assert (entry.args, entry.match[0].prefix_len) == ((0x080000000222, 2), 24)


def test_modify_delete_set_default_clear(basic):
    basic.execute(f"table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    assert basic.execute(f"table_modify {LPM} ipv4_forward 0 => 08:00:00:00:01:12 5") == \
        [f"Modifying entry 0 for lpm match table {LPM}"]
    assert basic.dev.table(LPM).entries[0].args == (0x080000000112, 5)
    out = basic.execute(f"table_set_default {LPM} ipv4_forward 00:00:00:00:00:01 7")
    assert out[0] == f"Setting default action of {LPM}"
    assert basic.dev.table(LPM).default_args == (1, 7)
    basic.execute(f"table_reset_default {LPM}")
    assert basic.dev.table(LPM).default_aid == basic.dev.table(LPM).initial_default[0]
    assert basic.execute(f"table_delete {LPM} 0") == [f"Deleting entry 0 from {LPM}"]
    assert basic.execute("table_num_entries ipv4_lpm") == ["0"]
    basic.execute(f"table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    basic.execute(f"table_clear {LPM}")
    assert basic.execute("table_num_entries ipv4_lpm") == ["0"]


def test_ternary_and_range_keys_take_a_priority_the_smaller_wins(programs):
    cli = SwitchCli(Device(programs["acl"]))
    cli.execute("table_add acl allow 10.0.0.0&&&0xff000000 0&&&0 6&&&0xff 80->90 => 2 10")
    cli.execute("table_add acl deny 10.0.0.0&&&0xff000000 0&&&0 6&&&0xff 0->65535 => 20")
    table = cli.dev.table("acl")
    first, second = table.entries[0], table.entries[1]
    assert first.priority > second.priority            # stored so that the larger wins
    assert (first.match[3].lo, first.match[3].hi) == (80, 90)
    dump = cli.execute("table_dump acl")
    assert "Priority: 10" in dump and "Priority: 20" in dump
    assert any(line.endswith("0050 -> 005a") for line in dump)
    assert failure(cli, "table_add acl deny 1&&&1 0&&&0 6&&&0xff 0->1 =>").message == \
        "table 'MyIngress.acl' has ternary, range or optional keys: give a priority after the action parameters"


def test_error_words_are_simple_switch_clis(basic):
    basic.execute(f"table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    cases = {
        f"table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1": "Invalid table operation (DUPLICATE_ENTRY)",
        "table_add nosuch drop 1 =>": "Error: Invalid table name (nosuch)",
        f"table_add {LPM} nosuch 1 =>": "Error",
        f"table_add {LPM} drop 10.0.1.300/32 =>": "Invalid match key",
        f"table_add {LPM} drop 1 2 =>": "Invalid match key",
        f"table_add {LPM} ipv4_forward 10.0.9.9/32 => 1": "Invalid runtime data",
        f"table_add {LPM} ipv4_forward 10.0.9.9/32 => 1 600": "Invalid runtime data",
        f"table_add {LPM} ipv4_forward 10.0.9.9/32 => 1 2 3": "Invalid runtime data",     # lpm: no priority
        f"table_delete {LPM} 7": "Invalid table operation (INVALID_HANDLE)",
        f"table_delete {LPM} x": "Error",
        "table_dump": "Error",
        "register_read nosuch 0": "Error: Invalid register name (nosuch)",
    }
    for line, words in cases.items():
        assert failure(basic, line).words == words, line
    err = failure(basic, f"table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    assert err.one_line() == (f"Invalid table operation (DUPLICATE_ENTRY): table '{LPM}' already has an entry "
                              f"with this key (handle 0)")


def test_errors_say_where_in_the_command(basic):
    line = f"table_add {LPM} drop 10.0.1.300/32 =>"
    err = failure(basic, line)
    col, length = err.where
    assert line[col - 1:col - 1 + length] == "10.0.1.300/32"
    err = failure(basic, "table_num_entries nosuch")
    assert err.where == (19, 6)
    assert failure(basic, "table_add").where == (10, 1)


def test_describing_the_program(basic):
    assert basic.execute("show_tables") == [f"{LPM:30} [hdr.ipv4.dstAddr(lpm, 32)]"]
    assert basic.execute("show_actions") == [f"{'MyIngress.drop':30} []",
                                             f"{'MyIngress.ipv4_forward':30} [dstAddr(48), port(9)]"]
    info = basic.execute("table_info ipv4_lpm")
    assert info[0].startswith(LPM) and info[1] == "*" * 80 and len(info) == 4
    assert failure(basic, "show_tables extra").message == "show_tables takes no arguments"


def test_values_in_every_notation(basic):
    for value in ("10.0.1.1", "0x0a000101", "167772417"):
        basic.execute(f"table_clear {LPM}")
        basic.execute(f"table_add {LPM} ipv4_forward {value}/32 => 8:0:0:0:1:11 0b1")
        entry = basic.dev.table(LPM).entries[max(basic.dev.table(LPM).entries)]
        assert (entry.key, entry.args) == (0x0A000101, (0x080000000111, 1))


# ---------------------------------------------------------------------------- externs


def test_counters_registers_and_meters(programs):
    cli = SwitchCli(Device(programs["externs"]))
    assert cli.execute("counter_read port_counter 3") == ["port_counter[3]= (0 bytes, 0 packets)"]
    assert cli.execute("counter_write port_counter 3 5 500") == ["port_counter[3] has been updated"]
    assert cli.execute("counter_read port_counter 3") == ["port_counter[3]= (500 bytes, 5 packets)"]
    cli.execute("counter_reset port_counter")
    assert cli.execute("counter_read port_counter 3") == ["port_counter[3]= (0 bytes, 0 packets)"]
    cli.execute("register_write pkt_seen 2 0x2a")
    assert cli.execute("register_read pkt_seen 2") == ["pkt_seen[2]= 42"]
    assert cli.execute("register_read pkt_seen")[0].startswith("pkt_seen= 0, 0, 42, 0")
    cli.execute("register_reset pkt_seen")
    assert cli.execute("register_read pkt_seen 2") == ["pkt_seen[2]= 0"]
    cli.execute("meter_set_rates port_meter 1 0.5:10 1:20")
    assert cli.execute("meter_get_rates port_meter 1") == ["0: info rate = 0.5, burst size = 10",
                                                           "1: info rate = 1.0, burst size = 20"]
    assert failure(cli, "register_read pkt_seen 512").words == "Invalid register operation (INVALID_INDEX)"
    assert failure(cli, "counter_read port_counter 9999").words == "Invalid counter operation (INVALID_INDEX)"
    assert failure(cli, "meter_set_rates port_meter 1 x 1:2").words == "Invalid meter operation (BAD_RATES_LIST)"
    assert failure(cli, "counter_read pkt_seen 1").words == "Error: Invalid counter name (pkt_seen)"


def test_replication(basic):
    assert basic.execute("mc_mgrp_create 1") == ["Creating multicast group 1"]
    assert basic.execute("mc_node_create 7 1 2")[-1] == "node was created with handle 0"
    assert basic.execute("mc_node_associate 1 0") == ["Associating node 0 to multicast group 1"]
    assert basic.dev.mcast_groups[1] == [(1, 7), (2, 7)]
    assert basic.execute("mc_dump")[2:4] == ["**********", "mgrp(1)"]
    basic.execute("mirroring_add 5 3")
    assert basic.dev.clone_sessions[5] == (3, None)
    assert failure(basic, "mc_node_associate 2 0").words == "Invalid PRE operation (INVALID_MGRP_HANDLE)"
    assert failure(basic, "mc_node_associate 1 4").words == "Invalid PRE operation (INVALID_L1_HANDLE)"


def test_multicast_nodes_are_updated_dissociated_and_destroyed_as_in_bmv2(basic):
    dev = basic.dev
    basic.execute("mc_mgrp_create 1")
    # BMv2 prints a node's port map, port 0 rightmost, and replicates to its ports in ascending order.
    assert basic.execute("mc_node_create 7 2 1") == ["Creating node with rid 7 and with port map 110",
                                                     "node was created with handle 0"]
    basic.execute("mc_node_create 8 3")
    basic.execute("mc_node_associate 1 0")
    basic.execute("mc_node_associate 1 1")
    assert dev.mcast_groups[1] == [(1, 7), (2, 7), (3, 8)]
    assert basic.execute("mc_node_update 0 4") == ["Updating node 0 with port map 10000"]
    assert dev.mcast_groups[1] == [(4, 7), (3, 8)]
    assert basic.execute("mc_node_dissociate 1 0") == ["Dissociating node 0 from multicast group 1"]
    assert dev.mcast_groups[1] == [(3, 8)]
    assert failure(basic, "mc_node_dissociate 1 0").words == "Invalid PRE operation (ERROR)"
    # A node in a group may be destroyed; its handle is the next one handed out (the smallest free).
    assert basic.execute("mc_node_destroy 1") == ["Destroying node 1"]
    assert dev.mcast_groups[1] == []
    assert basic.execute("mc_node_create 9 5")[-1] == "node was created with handle 1"
    assert failure(basic, "mc_node_destroy 2").words == "Invalid PRE operation (INVALID_L1_HANDLE)"
    assert failure(basic, "mc_node_update 7 1").words == "Invalid PRE operation (INVALID_L1_HANDLE)"
    assert failure(basic, "mc_node_dissociate 3 0").words == "Invalid PRE operation (INVALID_MGRP_HANDLE)"
    # A destroyed group is gone and its nodes may join another one; destroying it again is not an error.
    basic.execute("mc_node_associate 1 0")
    assert basic.execute("mc_mgrp_destroy 1") == ["Destroying multicast group 1"]
    assert 1 not in dev.mcast_groups
    assert basic.execute("mc_mgrp_destroy 1") == ["Destroying multicast group 1"]
    basic.execute("mc_mgrp_create 2")
    basic.execute("mc_node_associate 2 0")
    assert dev.mcast_groups[2] == [(4, 7)]


def test_a_group_made_elsewhere_keeps_its_replicas_when_cli_nodes_come_and_go(basic):
    basic.dev.mcast_group_set(5, [(9, 1)])           # as runtime JSON's multicast_group_entries make it
    basic.execute("mc_node_create 2 3")
    basic.execute("mc_node_associate 5 0")
    assert basic.dev.mcast_groups[5] == [(9, 1), (3, 2)]
    basic.execute("mc_node_dissociate 5 0")
    assert basic.dev.mcast_groups[5] == [(9, 1)]


def test_action_profiles_and_selectors(programs):
    cli = SwitchCli(Device(programs["selector"]))
    assert cli.execute("act_prof_create_member ecmp_selector set_port 1") == ["Member has been created with handle 0"]
    cli.execute("act_prof_create_member ecmp_selector set_port 2")
    assert cli.execute("act_prof_create_group ecmp_selector") == ["Group has been created with handle 0"]
    cli.execute("act_prof_add_member_to_group ecmp_selector 0 0")
    cli.execute("act_prof_add_member_to_group ecmp_selector 1 0")
    table = next(name for name in cli.dev.tables if "ecmp_selector" not in name)
    key_count = len(cli.dev.table(table).keys)
    fields = " ".join(["1"] * key_count)
    out = cli.execute(f"table_indirect_add_with_group {table} {fields} => 0")
    assert out[-1] == "Entry has been added with handle 0"
    dump = cli.execute(f"table_dump {table}")
    assert "Index: group(0)" in dump and "GROUPS" in dump and "Members: [0, 1]" in dump
    err = failure(cli, "act_prof_delete_member ecmp_selector 0")
    assert err.words == "Invalid table operation (MBR_STILL_USED)"


# ---------------------------------------------------------------------------- pieces


def test_numbers_and_words():
    assert number(("0x10", 1), "index") == 16
    with pytest.raises(CommandError, match="index -1 is negative"):
        number(("-1", 1), "index")
    with pytest.raises(CommandError, match="priority 5 is out of range"):
        number(("5", 1), "priority", 0, 4)
    assert words_of("  a  bc", 10) == [("a", 12), ("bc", 15)]
    assert MAX_PRIORITY == 2 ** 31 - 1


@pytest.mark.parametrize("message, code", [
    ("table 't' already has an entry with this key (handle 1)", "DUPLICATE_ENTRY"),
    ("table 't' is full (4 entries)", "TABLE_FULL"),
    ("member 0 of action selector 's' is still used by 1 table entries", "MBR_STILL_USED"),
    ("group 0 of action selector 's' is still used by 1 table entries", "GRP_STILL_USED"),
    ("value 600 does not fit in parameter 'port' of action 'a' (9 bits)", "BAD_ACTION_DATA"),
    ("something new", "ERROR")])
def test_table_error_codes(message, code):
    assert table_error_code(message) == code


def test_names_for_completion(programs):
    cli = SwitchCli(Device(programs["externs"]))
    assert "pkt_seen" in cli.names("register") and "MyIngress.pkt_seen" in cli.names("register")
    assert "port_counter" in cli.names("counter")
    basic = SwitchCli(Device(programs["basic"]))
    assert basic.names("table") == [LPM, "ipv4_lpm"]
    assert basic.names("action", LPM) == ["MyIngress.drop", "MyIngress.ipv4_forward", "drop", "ipv4_forward"]
