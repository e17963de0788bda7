"""Hostile topology files: alias bombs, recursive aliases, deep nesting, and values that are numbers only
in Python's eyes (true, .nan, .inf, '１２３') or out of their range. Each is a `file:line:col: error` with
exit status 1 from the command line, never a traceback.
"""

from __future__ import annotations

import os

import pytest

from dataplane import cli
from dataplane.controlplane.positions import MAX_DEPTH
from dataplane.net.topology import load_topology, load_topology_text, parse_rate, parse_time
from dataplane.net.tutorial import load_tutorial_topology
from hostile import assert_user_error, limited_cli

BASE = """\
name: t
max_frames: 1000
nodes:
  h1:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.1.1/24}}
  r1:
    kind: router
    icmp_rate: 10
    interfaces:
      eth1: {ipv4: 10.0.1.254/24}
      eth2: {ipv4: 10.0.2.254/24}
  h2:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.2.2/24}}
links:
  - {ends: [h1:eth0, r1:eth1], latency: 1ms, bandwidth: 10Mbps, mtu: 1500, loss: 0}
  - [r1:eth2, h2:eth0]
"""


def ping(tmp_path, capsys, text: str) -> tuple[int, str, str]:
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    code = cli.main(["ping", str(path), "h1", "h2", "-c", "1", "--no-progress"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    return code, str(path), captured.err


def fails_at(tmp_path, capsys, text: str, setting: str, message: str) -> None:
    """The topology is refused with `message`, located at the value of the first `key: value` setting."""
    code, path, err = ping(tmp_path, capsys, text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if setting in l)
    col = text.splitlines()[line - 1].index(setting) + setting.index(": ") + 3
    assert code == 1 and err.startswith(f"{path}:{line}:{col}: error: "), err
    assert message in err.splitlines()[0], err


def test_the_base_topology_is_valid(tmp_path, capsys):
    code, _, err = ping(tmp_path, capsys, BASE)
    assert code == 0 and err == ""


# ---------------------------------------------------------------------------- aliases and nesting

def test_an_alias_bomb_in_a_topology_is_refused_quickly(tmp_path):
    bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("name: bomb\ndescription:\n" + "".join(f"  {line}\n" for line in bomb) + "nodes: {}\n")
    done = limited_cli(["run", path], tmp_path)
    assert_user_error(done.returncode, done.stderr, f"{path}:7:47")
    assert "aliases expand to too many values" in done.stderr


@pytest.mark.parametrize("text,line,col", [
    ("nodes: &a {h1: *a}\n", 1, 16),
    ("nodes:\n  h1: &h\n    kind: host\n    interfaces: [*h]\n", 4, 18),
])
def test_a_recursive_alias_in_a_topology_is_an_error_at_the_alias(tmp_path, capsys, text, line, col):
    code, path, err = ping(tmp_path, capsys, text)
    assert code == 1 and err.startswith(f"{path}:{line}:{col}: error: recursive alias: "), err


def test_shared_values_through_aliases_still_work(tmp_path, capsys):
    text = BASE.replace("  - [r1:eth2, h2:eth0]", "  - {ends: [r1:eth2, h2:eth0], latency: *lat}") \
        .replace("latency: 1ms,", "latency: &lat 2ms,")
    code, _, err = ping(tmp_path, capsys, text)
    assert code == 0, err
    topo = load_topology_text(text)
    assert [l.latency_ns for l in topo.links] == [2_000_000, 2_000_000]


def test_deep_nesting_in_a_topology_is_an_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("nodes: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
    done = limited_cli(["run", path], tmp_path)
    assert_user_error(done.returncode, done.stderr, f"{path}:1:{8 + 4 * (MAX_DEPTH - 1)}")
    assert f"nested too deeply (more than {MAX_DEPTH} levels)" in done.stderr


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_device_or_fifo_is_not_a_topology(tmp_path, kind):
    path = "/dev/zero" if kind == "device" else tmp_path / "fifo.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    done = limited_cli(["run", path], tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert f"'{path}'" in done.stderr or done.stderr.startswith(f"{path}: error: not a regular file")


# ---------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("old,new,message", [
    ("latency: 1ms", "latency: .inf", "latency: inf is not a finite number"),
    ("latency: 1ms", "latency: .nan", "latency: nan is not a finite number"),
    ("latency: 1ms", "latency: -5", "latency: -5 is negative"),
    ("latency: 1ms", "latency: " + "9" * 400 + "ms", "latency: the duration is too long"),
    ("latency: 1ms", "latency: true", "latency: a duration such as 1ms"),
    ("bandwidth: 10Mbps", "bandwidth: 0", "bandwidth: 0 is less than 1 bit/s"),
    ("bandwidth: 10Mbps", "bandwidth: 0Mbps", "bandwidth: 0Mbps is less than 1 bit/s"),
    ("bandwidth: 10Mbps", "bandwidth: 1.0e-300", "is less than 1 bit/s"),
    ("bandwidth: 10Mbps", "bandwidth: -3", "bandwidth: -3 is less than 1 bit/s"),
    ("bandwidth: 10Mbps", "bandwidth: .nan", "bandwidth: nan is not a finite number"),
    ("bandwidth: 10Mbps", "bandwidth: .inf", "bandwidth: inf is not a finite number"),
    ("bandwidth: 10Mbps", "bandwidth: true", "bandwidth: 'True' is not a bandwidth"),
    ("mtu: 1500", "mtu: true", "mtu: True is not an integer"),
    ("mtu: 1500", "mtu: 1500.0", "mtu: 1500.0 is not an integer"),
    ("mtu: 1500", 'mtu: "１５００"', "mtu: '１５００' is not an integer"),
    ("mtu: 1500", "mtu: " + "9" * 5000, "number too large"),
    ("mtu: 1500", "queue: 0", "queue must be at least 1, not 0"),
    ("loss: 0", "loss: false", "loss: False is not a number"),
    ("loss: 0", "loss: .nan", "loss: nan is not a finite number"),
    ("loss: 0", 'loss: "٠.٥"', "loss: '٠.٥' is not a number"),
    ("max_frames: 1000", "max_frames: -1", "max_frames must be at least 1, not -1"),
    ("max_frames: 1000", "max_frames: 0", "max_frames must be at least 1, not 0"),
    ("max_frames: 1000", 'max_frames: "１２３"', "max_frames: '１２３' is not an integer"),
    ("icmp_rate: 10", "icmp_rate: -10", "icmp_rate must be at least 0, not -10.0"),
    ("icmp_rate: 10", "icmp_burst: -1", "icmp_burst must be at least 0, not -1.0"),
    ("icmp_rate: 10", "icmp_rate: .nan", "icmp_rate: nan is not a finite number"),
    ("icmp_rate: 10", "icmp_rate: true", "icmp_rate: True is not a number"),
])
def test_numbers_are_numbers_in_range(tmp_path, capsys, old, new, message):
    assert old in BASE
    fails_at(tmp_path, capsys, BASE.replace(old, new, 1), new, message)


@pytest.mark.parametrize("value,error", [
    (float("inf"), "not a finite number"), (float("nan"), "not a finite number"), (-1, "negative"),
    (True, "a duration"), ("１ms", "not a duration"), ("9" * 400 + "s", "too long"),
])
def test_parse_time_refuses_what_is_not_a_duration(value, error):
    with pytest.raises(ValueError, match=error):
        parse_time(value)


@pytest.mark.parametrize("value", [0, -1, 0.5, float("nan"), float("inf"), True, "0bps", "１Mbps", 10 ** 400])
def test_parse_rate_refuses_what_is_not_a_bandwidth(value):
    with pytest.raises(ValueError):
        parse_rate(value)


# ---------------------------------------------------------------------------- node options

@pytest.mark.parametrize("new,needle,message", [
    ("include: [5]", "5", "an include directory must be a string"),
    ("include: 5", "5", "include must be a string or a list"),
    ("include: {a: b}", "{a", "include must be a string or a list"),
    ("defines: [5]", "[5", "defines must be a mapping"),
    ("defines: {X: [1]}", "[1", "the value of macro 'X' must be a string or an integer"),
    ("defines: {X: true}", "true", "the value of macro 'X' must be a string or an integer"),
    ("defines: {1X: a}", "1X", "'1X' is not a macro name"),
])
def test_include_and_defines_are_checked(tmp_path, capsys, new, needle, message):
    text = BASE.replace("icmp_rate: 10", new)
    assert new in text
    code, path, err = ping(tmp_path, capsys, text)
    line = text.splitlines().index(f"    {new}") + 1
    col = text.splitlines()[line - 1].index(needle, len("    ") + new.index(":")) + 1
    assert code == 1 and err.startswith(f"{path}:{line}:{col}: error: "), err
    assert message in err.splitlines()[0], err


def test_include_and_defines_reach_the_program(tmp_path, capsys):
    inc = tmp_path / "inc"
    inc.mkdir()
    topo = load_topology_text(BASE.replace("icmp_rate: 10", f"include: {inc}\n    defines: {{A: 1, B: x}}"))
    assert topo.nodes["r1"].options["include"] == [str(inc)]
    assert topo.nodes["r1"].options["defines"] == {"A": "1", "B": "x"}


def test_relative_include_directories_are_relative_to_the_topology_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "inc").mkdir()
    topo = tmp_path / "net" / "t.yaml"
    topo.write_text(BASE.replace("icmp_rate: 10", "include: inc"))
    monkeypatch.chdir(tmp_path)                      # not the topology's directory
    assert load_topology(str(topo)).nodes["r1"].options["include"] == [str(tmp_path / "net" / "inc")]
    code, path, err = ping(tmp_path, capsys, BASE.replace("icmp_rate: 10", "include: [missing]"))
    assert code == 1 and "error: cannot find the include directory 'missing'" in err.splitlines()[0], err


@pytest.mark.parametrize("entries,needle,message", [
    ("{tables: [1, 2]}", "[1", "tables must be a mapping"),
    ("{tables: {ipv4_lpm: {entries: 7}}}", "7", "entries must be a list"),
    ("{clone_sessions: [3]}", "[3", "clone_sessions must be a mapping"),
])
def test_inline_entries_are_checked(tmp_path, capsys, entries, needle, message):
    text = BASE.replace("icmp_rate: 10", f"entries: {entries}")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "entries:" in l)
    code, path, err = ping(tmp_path, capsys, text)
    col = text.splitlines()[line - 1].index(needle, len("    entries: ")) + 1
    assert code == 1 and err.startswith(f"{path}:{line}:{col}: error: "), err
    assert message in err.splitlines()[0], err


# ---------------------------------------------------------------------------- tutorial topologies

@pytest.mark.parametrize("end,message", [
    ("s1-p１", "'s1-p１' is not a host nor a switch port"),
    ("s1-p" + "9" * 5000, "port 999999999999... is out of range (0..509)"),
    ("s1-p0007", None),
])
def test_tutorial_switch_ports_are_ascii_numbers(tmp_path, capsys, end, message):
    topo = tmp_path / "topology.json"
    topo.write_text('{"hosts": {"h1": {"ip": "10.0.1.1/24", "mac": "08:00:00:00:01:11"}},\n'
                    ' "switches": {"s1": {"program": "basic_ipv4"}},\n'
                    f' "links": [["h1", "{end}"]]}}\n')
    code = cli.main(["ping", str(topo), "h1", "10.0.1.2", "-c", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    if message is None:                               # leading zeros: still port 7
        assert "port" not in err, err
        assert [i.port for i in load_tutorial_topology(str(topo)).nodes["s1"].interfaces.values()] == [7]
    else:
        assert code == 1 and err.startswith(f"{topo}:3:") and message in err.splitlines()[0], err


@pytest.mark.parametrize("setting,message", [("latency: .inf", "latency: inf is not a finite number"),
                                             ("mtu: 0", "MTU 0 is out of range"),
                                             ("queue: 0", "queue must be at least 1"),
                                             ("loss: 1", "loss 1.0 must be in [0, 1)"),
                                             ("bandwidth: 0", "less than 1 bit/s")])
def test_a_bad_link_default_is_located_in_the_defaults(tmp_path, capsys, setting, message):
    text = BASE.replace("links:", "defaults:\n  link: {" + setting + "}\nlinks:")
    fails_at(tmp_path, capsys, text, setting, message)
