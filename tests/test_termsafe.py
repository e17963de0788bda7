"""Control characters in user-chosen names reach the terminal escaped, never raw."""

from __future__ import annotations

import io
import unicodedata

from hypothesis import given, strategies as st

from dataplane import cli
from dataplane.termsafe import EscapingWriter, escape_controls

HOSTILE = "\x1b[2J\x1b]0;title\x07\r\x08\x9b\u202e\u2028\u2066\ufeff\U000e0041"


def test_escapes_terminal_controls_keeps_lines_and_tabs():
    assert escape_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape_controls("x\ry\x00\x7f\x9b") == "x\\x0dy\\x00\\x7f\\x9b"
    assert escape_controls("left\u202eright\u2028") == "left\\u202eright\\u2028"
    assert escape_controls("tag\U000e0041") == "tag\\U000e0041"
    assert escape_controls("line 1\n\tline 2 é ü 中") == "line 1\n\tline 2 é ü 中"


@given(st.text())
def test_nothing_a_terminal_acts_on_survives(text):
    out = escape_controls(text)
    assert all(c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") for c in out)


def test_writer_escapes_everything_written():
    target = io.StringIO()
    print("name", HOSTILE, file=EscapingWriter(target))
    assert "\x1b" not in target.getvalue() and "\r" not in target.getvalue()
    assert target.getvalue().endswith("\n")


TOPOLOGY = """\
name: "evil\\e[2J\\rname\\u202e"
nodes:
  "h1\\e[31m":
    kind: host
    interfaces: {eth0: {ipv4: 10.0.1.1/24}}
  "r1\\e]0;title\\a":
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.1.254/24}
      eth2: {ipv4: 10.0.2.254/24}
  h2:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.2.2/24}}
links:
  - {name: "l\\e[1m1", ends: ["h1\\e[31m:eth0", "r1\\e]0;title\\a:eth1"]}
  - {ends: ["r1\\e]0;title\\a:eth2", h2:eth0]}
traffic:
  - {ping: {from: "h1\\e[31m", to: h2, count: 1}}
"""


def test_names_from_a_topology_are_escaped_in_traces_and_summaries(tmp_path, capsys):
    path = tmp_path / "evil.yaml"
    path.write_text(TOPOLOGY)
    assert cli.main(["run", str(path), "--trace"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out and "\u202e" not in out
    assert "h1\\x1b[31m eth0 -> r1\\x1b]0;title\\x07" in out
    assert "evil\\x1b[2J\\x0dname\\u202e: 3 nodes, 2 links" in out


def test_names_in_error_messages_are_escaped(tmp_path, capsys):
    path = tmp_path / "evil.yaml"
    path.write_text(TOPOLOGY + '  - {ping: {from: "h1\\e[31m", to: "bogus\\e[2J", count: 1}}\n')
    assert cli.main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    assert "'bogus\\x1b[2J' is neither a node nor an address" in err
    assert "\x1b" not in err


def test_streams_are_restored_after_a_command(capsys):
    import sys
    before = sys.stdout, sys.stderr
    assert cli.main(["check", "/no/such/file.p4"]) == 1
    assert (sys.stdout, sys.stderr) == before
