"""The README stays true: its Python example runs, and the topologies and commands it names exist."""

from __future__ import annotations

import re
from pathlib import Path

from dataplane.cli import build_parser
from dataplane.locate import shipped_topologies

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_python_example_runs(monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(ROOT)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "3 packets transmitted, 3 received" in out
    assert "delivered 50000 bytes intact" in out


def test_every_shipped_topology_is_in_the_readme_table():
    table = set(re.findall(r"^\| `([a-z0-9-]+)` \|", README, re.M))
    assert set(shipped_topologies()) <= table
    assert set(shipped_topologies()) == {p.stem for p in (ROOT / "topologies").glob("*.yaml")}


def test_the_commands_in_the_readme_exist():
    commands = set(re.findall(r"^(?:\$ )?dataplane ([a-z]+)", README, re.M))
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)
    assert commands and commands <= known, commands - known
