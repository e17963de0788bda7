"""The STF runner: p4c's comparison rules and clear errors for malformed test files."""

from __future__ import annotations

import pytest

from dataplane import cli
from dataplane.build import build
from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.runtime.device import Device
from dataplane.stf import run_stf
from p4helpers import PROGRAMS

# An IPv4/UDP packet to 10.0.2.5 with a correct header checksum, and its forwarded form.
IN = "000000000001 000000000009 0800 4500002100010000401163c60a0001010a000205 00350035000da49268656c6c6f"
OUT = "000000000202 000000000001 0800 45000021000100003f1164c60a0001010a000205 00350035000da49268656c6c6f"
ROUTE = "add ipv4_lpm dstAddr:0x0a000200/24 ipv4_forward(dstAddr:0x000000000202, port:2)\n"


def run(text: str):
    device = Device(build(str(PROGRAMS / "basic_ipv4.p4")))
    return run_stf(device, SourceFile("t.stf", text))


def test_exact_match_passes():
    r = run(ROUTE + f"packet 1 {IN}\nexpect 2 {OUT} $\n")
    assert r.passed, r.messages
    assert (r.packets_in, r.packets_out) == (1, 1)


def test_wildcard_nibbles_and_prefix_match():
    r = run(ROUTE + f"packet 1 {IN}\nexpect 2 000000000202 ************ 0800\n")
    assert r.passed, r.messages


def test_dollar_requires_the_exact_length():
    r = run(ROUTE + f"packet 1 {IN}\nexpect 2 000000000202 000000000001 0800 $\n")
    assert not r.passed and "expected exactly 14" in r.messages[0]


def test_a_different_byte_is_reported_with_its_field_values_and_position():
    r = run(ROUTE + f"packet 1 {IN}\nexpect 2 {OUT.replace('3f11', '4011')}\n")
    assert not r.passed
    assert r.messages[0].splitlines()[0] == \
        "port 2, packet 1 (expected at t.stf:3:8): ipv4.ttl: expected 64, got 63 (byte 22)"


@pytest.mark.parametrize("expected, message", [
    ("000000000203", "ethernet.dstAddr: expected 00:00:00:00:02:03, got 00:00:00:00:02:02 (byte 5)"),
    ("000000000202 000000000001 86dd", "ethernet.etherType: expected 0x86dd, got 0x0800 (byte 12)"),
    # The first bit that differs names the field, in a byte shared by flags and the fragment offset.
    ("000000000202 000000000001 0800 45000021000*4000", "ipv4.df: expected 1, got 0 (byte 20)"),
    ("000000000202 000000000001 0800 4500002100010000 3f11 0000",
     "ipv4.hdrChecksum: expected 0x0000, got 0x64c6 (byte 24)"),
    ("000000000202 000000000001 0800 4500002100010000 3f11 64c6 0a000102",
     "ipv4.srcAddr: expected 10.0.1.2, got 10.0.1.1 (byte 29)"),
    ("000000000202 000000000001 0800 4500002100010000 3f11 64c6 0a000101 0a000205 0035 0*36",
     "udp.dstPort: expected 0x0*36, got 53 (byte 37)"),
    # An expectation that ends inside the differing field: the nibbles it does not give may be anything.
    ("00 DEAD", "ethernet.dstAddr: expected 0x00dead******, got 00:00:00:00:02:02 (byte 1)"),
    ("000000000202 0000000000 8", "ethernet.srcAddr: expected 0x00000000008*, got 00:00:00:00:00:01 (byte 11)"),
    # Past the headers the dissector knows, the offset is all there is to say.
    (OUT[:-2] + "6e", "differs at byte 46 (nibble 93)"),
])
def test_a_mismatch_names_the_field_with_both_values(expected, message):
    r = run(ROUTE + f"packet 1 {IN}\nexpect 2 {expected}\n")
    assert not r.passed
    assert r.messages[0].splitlines()[0] == f"port 2, packet 1 (expected at t.stf:3:8): {message}"
    assert r.messages[0].splitlines()[-1].strip() == "^"


def test_a_program_without_ethernet_headers_gets_offsets_only():
    from dataplane.stf import Expectation, _compare
    e = Expectation(2, OUT.replace(" ", "").replace("3f11", "4011").upper(), False, None)
    received = bytes.fromhex(OUT.replace(" ", ""))
    assert _compare(e, received, ethernet=False)[0] == "differs at byte 22 (nibble 44)"
    assert _compare(e, received, ethernet=True)[0] == "ipv4.ttl: expected 64, got 63 (byte 22)"


def test_packets_on_unexpected_ports_and_missing_packets_fail():
    r = run(ROUTE + f"packet 1 {IN}\n")
    assert not r.passed and r.messages[0] == "port 2: expected 0 packet(s), received 1"
    r = run(f"packet 1 {IN}\nexpect 2 {OUT}\n")       # no route: the default drops
    assert not r.passed and "port 2: expected 1 packet(s), received 0" in r.messages[0]


def test_expect_without_data_accepts_any_packet():
    r = run(ROUTE + f"packet 1 {IN}\npacket 1 {IN}\nexpect 2\n")
    assert r.passed, r.messages


def test_no_packet_and_remove_all():
    r = run(ROUTE + "remove all\n" + f"packet 1 {IN}\nno_packet\n")
    assert r.passed, r.messages
    r = run(ROUTE + f"packet 1 {IN}\nno_packet\nexpect 2\n")
    assert not r.passed and "no_packet" in r.messages[0]


@pytest.mark.parametrize("line,message,col", [
    ("bogus 1 2", "unknown STF command 'bogus'", 1),
    ("add ipv4_lpm dstAddr:0x0a000200/24 nosuch(port:1)", "table 'MyIngress.ipv4_lpm' has no action 'nosuch'", 1),
    ("add nosuch dstAddr:1 ipv4_forward(port:1)", "no table named 'nosuch'", 1),
    ("add ipv4_lpm dst:1 ipv4_forward(port:1)", "has no key field 'dst'", 14),
    ("packet 1 0001020", "packet data must be an even number of hex digits", 10),
    ("expect 1 00zz", "unexpected character 'z' in expected packet data", 10),
    ("add ipv4_lpm dstAddr:0x0a000200/24 ipv4_forward(dstAddr:1, port:999)",
     "parameter 'port' 999 does not fit in bit<9>", 1),
])
def test_malformed_lines_are_diagnostics(line, message, col):
    with pytest.raises(DiagnosticError) as exc:
        run("# a comment\n" + line + "\n")
    d = exc.value.diagnostics[0]
    assert message in d.message
    assert (d.span.line, d.span.col) == (2, col)


def test_cli_exit_status_and_output(tmp_path, capsys):
    good = tmp_path / "good.stf"
    good.write_text(ROUTE + f"packet 1 {IN}\nexpect 2 {OUT}\n")
    assert cli.main(["stf", str(PROGRAMS / "basic_ipv4.p4"), str(good)]) == 0
    assert capsys.readouterr().out.startswith("PASS")
    bad = tmp_path / "bad.stf"
    bad.write_text(ROUTE + f"packet 1 {IN}\nexpect 3 {OUT}\n")
    assert cli.main(["stf", str(PROGRAMS / "basic_ipv4.p4"), str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and "port 3: expected 1 packet(s), received 0" in out
    broken = tmp_path / "broken.stf"
    broken.write_text("packet x 00\n")
    assert cli.main(["stf", str(PROGRAMS / "basic_ipv4.p4"), str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{broken}:1:8: error: port must be a number") and "Traceback" not in err


def test_trace_shows_tables_actions_and_fate(tmp_path, capsys):
    f = tmp_path / "t.stf"
    f.write_text(ROUTE + f"packet 1 {IN}\nexpect 2 {OUT}\n")
    assert cli.main(["stf", str(PROGRAMS / "basic_ipv4.p4"), str(f), "--trace"]) == 0
    out = capsys.readouterr().out
    for needle in ("parser MyParser: state parse_ipv4", "extract hdr.ipv4:", "dstAddr=10.0.2.5",
                   "table MyIngress.ipv4_lpm: key {hdr.ipv4.dstAddr=10.0.2.5} hit",
                   "action MyIngress.ipv4_forward(dstAddr=00:00:00:00:02:02, port=2)", "emit hdr.ipv4:",
                   "ttl=63", "packet out on port 2, 47 bytes"):
        assert needle in out, needle


# ---------------------------------------------------------------------------- simple_switch_CLI's indirect tables

def run_selector(text: str):
    from pathlib import Path
    program = Path(__file__).resolve().parent / "conformance" / "regressions" / "action_selector.p4"
    return run_stf(Device(build(str(program))), SourceFile("t.stf", text))


MEMBERS = "act_prof_create_member ecmp_selector set_port 1\nact_prof_create_group ecmp_selector\n"


@pytest.mark.parametrize("line,message,col", [
    ("table_indirect_add ecmp 0x0800 => 3", "action selector 'Ing.ecmp_selector' has no member 3 (its members: 0)",
     35),
    ("table_indirect_add_with_group ecmp 0x0800 => 0", "group 0 of action selector 'Ing.ecmp_selector' is empty",
     46),
    ("table_indirect_add plain 0x1 => 0", "table 'Ing.plain' is not indirect", 20),
    ("table_indirect_add ecmp 0x0800 0x1 => 0", "table 'Ing.ecmp' has 1 key field(s) but 2 match value(s)", 25),
    ("table_indirect_add ecmp 0x0800 0", "table_indirect_add needs <table> <match fields> => <member>", 19),
    ("act_prof_create_member ecmp_selector set_port", "action 'Ing.set_port' takes 1 value(s) but 0 were given",
     38),
    ("act_prof_create_member ecmp_selector set_port 600", "parameter 'port' 600 does not fit in bit<9>", 47),
    ("act_prof_create_member ecmp_selector tag 1", "action selector 'Ing.ecmp_selector' has no action 'tag'", 38),
    ("act_prof_add_member_to_group ecmp_selector 0 0\nact_prof_add_member_to_group ecmp_selector 0 0",
     "member 0 is already in group 0", 44),
    ("act_prof_delete_member ecmp_selector 0\nact_prof_delete_member ecmp_selector 0",
     "action selector 'Ing.ecmp_selector' has no member 0", 38),
    ("table_indirect_set_default_with_group ecmp 0", "group 0 of action selector 'Ing.ecmp_selector' is empty", 44),
])
def test_indirect_commands_report_errors_where_they_are(line, message, col):
    with pytest.raises(DiagnosticError) as exc:
        run_selector(MEMBERS + line + "\n")
    d = exc.value.diagnostics[0]
    assert message in d.message
    assert (d.span.line, d.span.col) == (MEMBERS.count("\n") + line.count("\n") + 1, col)
