"""The flowcache exercise needs a controller (mycontroller.py) that talks P4Runtime to the switches through
their CPU port: packet-in, packet-out and flow entries added as packets arrive. dataplane has no P4Runtime
server yet, so the run is refused before it starts, at the first switch's "cpu_port", with what is missing;
choosing the solution program changes nothing."""

from __future__ import annotations

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.net.tutorial import load_tutorial_topology
from exercises import exercise, requires, solution

pytestmark = requires("flowcache")

MESSAGE = ("switch 's1': 'cpu_port': a controller on the CPU port is not supported yet (it needs P4Runtime: "
           "packet-in, packet-out, and table entries the controller adds while packets flow)")


@pytest.mark.parametrize("program", [None, "solution"])
def test_the_run_is_refused_at_the_cpu_port(program):
    path = exercise("flowcache") / "topology.json"
    with pytest.raises(DiagnosticError) as exc:
        load_tutorial_topology(str(path), program=str(solution("flowcache")) if program else None)
    [d] = exc.value.diagnostics
    assert d.message == MESSAGE
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if '"cpu_port"' in text)
    assert (d.span.path, d.span.line, d.span.col) == (str(path), line, lines[line - 1].index('"cpu_port"') + 1)


def test_the_command_line_says_where_and_why(monkeypatch, capsys):
    from dataplane.cli import main
    monkeypatch.chdir(exercise("flowcache"))
    assert main(["pingall", "topology.json", "--program", "solution/flowcache.p4"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    first, source, caret = err.splitlines()[:3]
    assert first.startswith("topology.json:") and first.endswith(f": error: {MESSAGE}")
    assert source.strip() == '"cpu_port": "510"'
    assert caret.strip() == "^~~~~~~~~~"
