"""STF files that are nonsense get a located diagnostic, never a traceback or a silent pass.

Each case runs `dataplane stf` in-process and checks exit status 1, the
`file:line:col: error:` line, the caret under the offending text and that no
internal error was reported. The last test mutates the project's own STF
files (numbers swapped for hostile ones, lines cut short) and checks that
the runner always answers with PASS, FAIL or a diagnostic.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataplane import cli
from dataplane.arch.v1model import ConfigRangeError
from dataplane.build import build
from dataplane.diagnostics import SourceFile
from dataplane.runtime.device import Device
from dataplane.runtime.errors import ControlPlaneError
from dataplane.runtime.externs import MeterCell
from dataplane.stf import PipelineBug, run_stf
from hostile import boxed
from p4helpers import PROGRAMS

STF_DIR = Path(__file__).resolve().parent / "stf"

# basic_ipv4: a route to 10.0.2.0/24 and a packet it forwards to port 2 (see test_stf_runner.py).
ROUTE = "add ipv4_lpm dstAddr:0x0a000200/24 ipv4_forward(dstAddr:0x000000000202, port:2)"
IN = "000000000001 000000000009 0800 4500002100010000401163c60a0001010a000205 00350035000da49268656c6c6f"
# externs: an op-3 packet, which ingress clones to session 100 (see tests/stf/externs/clone.stf).
CLONED = "00000000000200000000000188B60300000000000000000000000011223344556677"


def run_cli(tmp_path: Path, program: str, text: str) -> tuple[int, str, str, Path]:
    path = tmp_path / "t.stf"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["stf", str(PROGRAMS / f"{program}.p4"), str(path)])
    return rc, out.getvalue(), err.getvalue(), path


def assert_error_at(tmp_path: Path, program: str, text: str, line: int, col: int, message: str) -> str:
    """The STF is refused with `message` at line:col, the source line and a caret under col."""
    rc, out, err, path = run_cli(tmp_path, program, text)
    assert rc == 1, (out, err)
    assert "internal error" not in err and "Traceback" not in err, err
    shown = err.splitlines()
    assert shown[0].startswith(f"{path}:{line}:{col}: error: "), err
    assert message in shown[0], err
    assert shown[1] == "    " + text.splitlines()[line - 1], err
    assert re.fullmatch(" {4}" + " " * (col - 1) + r"\^~*", shown[2]), err
    return shown[0]


def assert_passes(tmp_path: Path, program: str, text: str) -> None:
    rc, out, err, _ = run_cli(tmp_path, program, text)
    assert rc == 0 and out.startswith("PASS"), (out, err)


# ---------------------------------------------------------------------- ports

@pytest.mark.parametrize("port", ["-1", "511", "1000000", "18446744073709551616"])
def test_packet_port_out_of_range(tmp_path, port):
    msg = assert_error_at(tmp_path, "basic_ipv4", f"packet {port} {IN}\n", 1, 8, f"port {port} is out of range")
    assert "0..510" in msg


def test_packet_ports_at_the_edges_are_accepted(tmp_path):
    assert_passes(tmp_path, "basic_ipv4", f"packet 0 {IN}\npacket 510 {IN}\n")


def test_expect_port_out_of_range(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "expect 600\n", 1, 8, "port 600 is out of range")


# ---------------------------------------------------------------------- mirroring sessions

def test_mirroring_add_negative_session(tmp_path):
    assert_error_at(tmp_path, "externs", "mirroring_add -5 99999\n", 1, 15, "mirroring session -5 is out of range")


def test_mirroring_add_session_beyond_bmv2_range(tmp_path):
    assert_error_at(tmp_path, "externs", "mirroring_add 32768 5\n", 1, 15, "BMv2 mirroring session ids are 0..32767")
    assert_passes(tmp_path, "externs", "mirroring_add 32767 5\n")


def test_mirroring_add_port_out_of_range(tmp_path):
    assert_error_at(tmp_path, "externs", "mirroring_add 5 99999\n", 1, 17, "port 99999 is out of range")


def test_mirror_to_a_port_that_cannot_exist_is_refused_before_any_packet(tmp_path):
    # This used to make the pipeline emit the clone on "port 1000000".
    text = f"mirroring_add 100 1000000\npacket 1 {CLONED}\nexpect 2\n"
    assert_error_at(tmp_path, "externs", text, 1, 19, "port 1000000 is out of range")


def test_every_front_door_gets_the_session_checks():
    dev = Device(build(str(PROGRAMS / "externs.p4")))
    with pytest.raises(ConfigRangeError) as exc:
        dev.clone_session_set(100, port=1000000)
    assert exc.value.what == "egress port" and "of clone session 100" in str(exc.value)
    for bad in ({"session": -1, "port": 1}, {"session": 32768, "port": 1}, {"session": 1, "mcast_group": 0},
                {"session": 1, "port": 511}):
        with pytest.raises(ControlPlaneError):
            dev.clone_session_set(**bad)
    assert dev.clone_sessions == {}
    with pytest.raises(ConfigRangeError):
        dev.mcast_group_set(1, [(2, 70000)])       # a replication id wider than egress_rid
    assert dev.mcast_groups == {}


# ---------------------------------------------------------------------- multicast

@pytest.mark.parametrize("text,col,message", [
    ("mc_mgrp_create 0\n", 16, "multicast group 0 is out of range"),
    ("mc_mgrp_create 65536\n", 16, "multicast group 65536 is out of range"),
    ("mc_node_create 1 511\n", 18, "port 511 is out of range"),
    ("mc_node_create 1 2 70000\n", 20, "port 70000 is out of range"),
    ("mc_node_create 65536 1\n", 16, "replication id 65536 is out of range"),
    ("mc_node_create 1 2 3 2\n", 22, "port 2 is listed twice"),
    ("mc_node_associate -1 0\n", 19, "multicast group -1 is out of range"),
])
def test_multicast_numbers_out_of_range(tmp_path, text, col, message):
    assert_error_at(tmp_path, "multicast", text, 1, col, message)


def test_associate_with_a_group_never_created(tmp_path):
    assert_error_at(tmp_path, "multicast", "mc_node_create 1 2\nmc_node_associate 7 0\n", 2, 19,
                    "multicast group 7 does not exist")


@pytest.mark.parametrize("handle", ["-1", "1", "99999999999999999999"])
def test_associate_a_node_that_does_not_exist(tmp_path, handle):
    text = f"mc_mgrp_create 1\nmc_node_create 1 2\nmc_node_associate 1 {handle}\n"
    assert_error_at(tmp_path, "multicast", text, 3, 21, "node handle -1 is negative" if handle == "-1"
                    else f"there is no multicast node {handle}")


def test_associate_a_node_twice(tmp_path):
    text = "mc_mgrp_create 1\nmc_mgrp_create 2\nmc_node_create 1 2\nmc_node_associate 1 0\nmc_node_associate 2 0\n"
    assert_error_at(tmp_path, "multicast", text, 5, 21, "multicast node 0 is already associated with group 1")


# ---------------------------------------------------------------------- table entries

def test_duplicate_action_parameter(tmp_path):
    text = "add ipv4_lpm dstAddr:0x0a000200/24 ipv4_forward(dstAddr:1, port:1, port:2)\n"
    assert_error_at(tmp_path, "basic_ipv4", text, 1, 68, "parameter 'port' is given twice")


def test_duplicate_action_parameter_in_setdefault(tmp_path):
    text = "setdefault ipv4_lpm ipv4_forward(port:1,port:2, dstAddr:1)\n"
    assert_error_at(tmp_path, "basic_ipv4", text, 1, 41, "parameter 'port' is given twice")


def test_duplicate_key_field(tmp_path):
    text = "add ipv4_lpm dstAddr:0x0a000200/24 hdr.ipv4.dstAddr:0x0b000000/8 ipv4_forward(dstAddr:1, port:1)\n"
    assert_error_at(tmp_path, "basic_ipv4", text, 1, 36, "key field 'hdr.ipv4.dstAddr' is given twice")


@pytest.mark.parametrize("priority,message", [("-5", "priority -5 is negative"),
                                              ("2147483648", "priority 2147483648 is out of range")])
def test_priority_out_of_range(tmp_path, priority, message):
    text = f"add acl {priority} srcAddr:0x0a000000&&&0xff000000 allow(port:3)\n"
    assert_error_at(tmp_path, "acl_stateful", text, 1, 9, message)


@pytest.mark.parametrize("value,message", [
    ("0x0a00020000**", "does not fit in key 'hdr.ipv4.dstAddr' (32 bits)"),   # wider than the field
    ("0xzz**", "'z' is not a base-16 digit"),
    ("0b12**", "'2' is not a base-2 digit"),
])
def test_wildcard_key_values(tmp_path, value, message):
    text = f"add ipv4_lpm dstAddr:{value} ipv4_forward(dstAddr:1, port:1)\n"
    assert_error_at(tmp_path, "basic_ipv4", text, 1, 22, message)


def test_ternary_mask_wider_than_the_field(tmp_path):
    text = "add acl 10 protocol:0x11&&&0x1ff allow(port:3)\n"
    assert_error_at(tmp_path, "acl_stateful", text, 1, 21, "the mask of key 'hdr.ipv4.protocol' 0x1ff does not fit")


def test_wildcard_digits_on_a_range_key(tmp_path):
    text = "add acl 10 l4_dport:0x00** allow(port:3)\n"
    assert_error_at(tmp_path, "acl_stateful", text, 1, 21, "is range: '*' digits are for ternary")


# ---------------------------------------------------------------------- wait, no_packet

def test_negative_wait(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "wait -5\n", 1, 6, "wait time -5 is negative")


def test_wait_with_a_duration_and_without(tmp_path):
    assert_passes(tmp_path, "basic_ipv4", f"{ROUTE}\nwait\nwait 1000\npacket 1 {IN}\nexpect 2\n")
    assert_error_at(tmp_path, "basic_ipv4", "wait 5 6\n", 1, 8, "unexpected '6' after wait")


def test_no_packet_takes_no_argument(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "no_packet 3\n", 1, 11, "unexpected '3' after no_packet")


# ---------------------------------------------------------------------- Unicode digits

@pytest.mark.parametrize("program,text", [
    ("basic_ipv4", "packet \uff11 00\n"),                       # full-width 1
    ("basic_ipv4", "expect \u0662\n"),                          # Arabic-Indic 2
    ("externs", "mirroring_add 1 \u0969\n"),                    # Devanagari 3
    ("basic_ipv4", "add ipv4_lpm dstAddr:0x0a000200/24 ipv4_forward(dstAddr:1, port:\uff12)\n"),
    ("basic_ipv4", "add ipv4_lpm dstAddr:0x0a\uff10\uff10**** ipv4_forward(dstAddr:1, port:1)\n"),
    ("acl_stateful", "add acl \uff15 srcAddr:0x0a000000&&&0xff000000 allow(port:3)\n"),
    ("externs", "register_write pkt_seen \uff11 5\n"),
    ("externs", "check_counter port_counter(\uff11) == 0\n"),
    ("basic_ipv4", "wait \uff15\n"),
])
def test_unicode_digits_are_not_numbers(tmp_path, program, text):
    col = re.search(r"[^\x00-\x7f]", text).start() + 1
    message = assert_error_at(tmp_path, program, text, 1, col, "non-ASCII character")
    assert "U+" in message


# ---------------------------------------------------------------------- packet and expected data

def test_bad_hex_in_packet_data(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "packet 1 0000 00g0\n", 1, 15, "unexpected character 'g' in packet data")


def test_odd_number_of_nibbles_in_packet_data(tmp_path):
    # p4c's runner hands packet data to bytes.fromhex, which refuses a lone nibble.
    assert_error_at(tmp_path, "basic_ipv4", "packet 1 00 000\n", 1, 10, "even number of hex digits (it has 5)")


def test_odd_number_of_nibbles_in_expected_data_is_a_prefix(tmp_path):
    # Compared nibble by nibble, as p4c does: 11 nibbles of the forwarded packet's dst MAC.
    assert_passes(tmp_path, "basic_ipv4", f"{ROUTE}\npacket 1 {IN}\nexpect 2 00000000020\n")


def test_odd_nibbles_with_exact_length_can_never_match(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "expect 2 000 $\n", 1, 14, "odd number of hex digits (3)")


def test_dollar_not_at_the_end(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "expect 2 00 $ 11\n", 1, 13, "'$' must come last")


def test_dollar_alone(tmp_path):
    assert_error_at(tmp_path, "basic_ipv4", "expect 2 $\n", 1, 10, "'$' with no expected data")


# ---------------------------------------------------------------------- counters, registers, meters

def test_counter_index_that_is_not_a_number(tmp_path):
    assert_error_at(tmp_path, "externs", "check_counter port_counter(abc) == 1\n", 1, 28,
                    "index must be a number, not 'abc'")


def test_counter_check_with_trailing_words(tmp_path):
    assert_error_at(tmp_path, "externs", "check_counter port_counter(1) packets == 0 7\n", 1, 44, "unexpected '7'")


def test_register_index_and_value(tmp_path):
    assert_error_at(tmp_path, "externs", "register_write pkt_seen 512 1\n", 1, 25, "index 512 is out of range")
    assert_error_at(tmp_path, "externs", "register_write pkt_seen 1 -1\n", 1, 27, "value -1 is negative")
    assert_error_at(tmp_path, "externs", "register_write pkt_seen 1 0x100000000\n", 1, 27, "does not fit")


@pytest.mark.parametrize("rates,col,message", [
    ("nan:1 1:1", 30, "is not <rate>:<burst>"),
    ("-1:1 1:1", 30, "is not <rate>:<burst>"),
    ("1e999:1 1:1", 30, "is not <rate>:<burst>"),
    ("1:-1 1:1", 32, "burst -1 is negative"),
    ("2:1 1:1", 30, "must not be below the committed rate"),
])
def test_meter_rates(tmp_path, rates, col, message):
    assert_error_at(tmp_path, "externs", f"meter_set_rates port_meter 1 {rates}\n", 1, col, message)


def test_meters_refuse_rates_that_are_not_finite_numbers():
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ControlPlaneError):
            MeterCell().set_rates(bad, 1, 1.0, 1)
        with pytest.raises(ControlPlaneError):
            MeterCell().set_rates(0.0, 1, bad, 1)


# ---------------------------------------------------------------------- bugs are not drops

def test_a_pipeline_failure_is_not_passed_off_as_a_drop(monkeypatch):
    dev = Device(build(str(PROGRAMS / "basic_ipv4.p4")))

    def broken(port, data):
        raise ZeroDivisionError("a stand-in for a bug in generated code")

    monkeypatch.setattr(dev.runner, "process_fast", broken)
    with pytest.raises(PipelineBug, match="t.stf:1: the pipeline failed"):
        run_stf(dev, SourceFile("t.stf", f"packet 1 {IN}\nno_packet\n"))
    assert dev.internal_errors and dev.internal_errors[0][2].startswith("ZeroDivisionError")


# ---------------------------------------------------------------------- mutated STF files

STF_FILES = sorted(p for p in STF_DIR.glob("*/*.stf") if (PROGRAMS / f"{p.parent.name}.p4").is_file())
# Characters that Python's int() and str.isdigit() take for digits: full-width, Arabic-Indic, Devanagari.
UNICODE_DIGITS = "".join(chr(base + i) for base in (0xFF10, 0x0660, 0x0966) for i in range(10))

hostile_numbers = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.integers(-(1 << 70), 1 << 70).map(str),
    st.integers(1 << 63, 1 << 200).map(str),
    st.integers(-(1 << 40), 1 << 40).map(hex),
    st.text(alphabet=UNICODE_DIGITS, min_size=1, max_size=4),
    st.text(alphabet="0123456789abcdef*$", min_size=1, max_size=5),
)


def _mutate(data, lines: list[str]) -> list[str]:
    commands = [i for i, text in enumerate(lines) if text.strip() and not text.lstrip().startswith("#")]
    if not commands:            # earlier cuts left nothing to mutate
        return lines
    i = data.draw(st.sampled_from(commands))
    tokens = list(re.finditer(r"[0-9A-Za-z_]+", lines[i]))
    if tokens and data.draw(st.booleans()):
        t = data.draw(st.sampled_from(tokens))
        lines[i] = lines[i][:t.start()] + data.draw(hostile_numbers) + lines[i][t.end():]
    else:
        lines[i] = lines[i][:data.draw(st.integers(0, len(lines[i])))]
    return lines


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_stf_files_pass_fail_or_get_a_diagnostic(tmp_path_factory, data):
    source = data.draw(st.sampled_from(STF_FILES))
    lines = source.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        lines = _mutate(data, lines)
    path = tmp_path_factory.mktemp("mutated") / source.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with boxed(path.parent), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["stf", str(PROGRAMS / f"{source.parent.name}.p4"), str(path)])
    out, err = out.getvalue(), err.getvalue()
    assert rc in (0, 1), (rc, err)
    assert "Traceback" not in out + err and "internal error" not in err, err
    if rc == 1 and not out.startswith("FAIL"):
        assert re.match(re.escape(str(path)) + r":\d+:\d+: error: ", err), err
