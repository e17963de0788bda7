"""The README stays true: its commands are the ones CI runs, its Python example runs, and the topologies and
commands it names exist."""

from __future__ import annotations

import re
from pathlib import Path

from dataplane.cli import build_parser
from dataplane.locate import shipped_topologies

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_readme_starts_with_two_commands_and_ci_runs_the_test_command():
    commands = _commands(README)
    assert len(commands) >= 2
    demo, tests = commands[0].splitlines(), commands[1]
    assert demo[0] == "pip install ." and demo[1].startswith("dataplane ") and len(demo) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines(), "the last step of .ci/run must be the README's test command"


def test_the_demo_command_works(capsys):
    from dataplane.cli import main
    demo = _commands(README)[0].splitlines()[1].split()[1:]
    assert main(demo) == 0
    out = capsys.readouterr().out
    assert "accounting problem" not in out and "received" in out


def test_the_python_example_runs(monkeypatch, capsys, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)                 # as a user runs it: anywhere, not from the checkout
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
    commands = set(re.findall(r"^(?:\$ )?dataplane ([a-z][a-z0-9-]*)", README, re.M))
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices)
    assert commands and commands <= known, commands - known
