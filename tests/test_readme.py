"""The README's commands are the ones CI runs."""

from __future__ import annotations

import re

from p4helpers import ROOT


def _commands(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_readme_starts_with_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = _commands(readme)
    assert len(commands) >= 2
    demo, tests = commands[0], commands[1]
    assert demo.startswith("pip install . && dataplane ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines(), "the last step of .ci/run must be the README's test command"
