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


def test_a_different_byte_is_reported_with_its_position():
    r = run(ROUTE + f"packet 1 {IN}\nexpect 2 {OUT.replace('3f11', '4011')}\n")
    assert not r.passed
    assert "port 2, packet 1" in r.messages[0] and "differs at byte 22" in r.messages[0]


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
                   "ttl=0x3f", "packet out on port 2, 47 bytes"):
        assert needle in out, needle
