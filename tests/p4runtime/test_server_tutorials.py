"""The tutorials' own controller library (utils/p4runtime_lib, used as it is) against the server.

Skipped without the corpus (tests/conformance/corpus.py finds it). The client runs in a child process with a
time limit; its SwitchConnection has no timeouts of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conformance.corpus import corpus_dir
from dataplane.p4runtime.server import P4RuntimeSwitch
from p4rt_support import HERE

ROOT = HERE.parents[1]


def tutorials():
    d = corpus_dir() / "tutorials"
    if not (d / "utils" / "p4runtime_lib").is_dir():
        pytest.skip("the P4 tutorials are not in the corpus")
    return d


def prepare_basic(workdir, tutorials_dir, switch: str = "s1"):
    """What the exercise's Makefile would build, with our P4Info and a stand-in BMv2 JSON (p4runtime_lib
    checks that the file is JSON; the server then runs the program it was given)."""
    from dataplane.build import build
    from dataplane.p4runtime.p4info import build_p4info, p4info_bytes
    basic = tutorials_dir / "exercises" / "basic"
    build_dir = workdir / "build"
    build_dir.mkdir(exist_ok=True)
    program = basic / "solution" / "basic.p4"
    conf = json.loads((basic / "pod-topo" / f"{switch}-runtime.json").read_text())
    (workdir / conf["p4info"]).write_bytes(p4info_bytes(build_p4info(build(str(program))), "text"))
    (workdir / conf["bmv2_json"]).write_text("{}\n")
    shutil.copy(basic / "pod-topo" / f"{switch}-runtime.json", workdir / f"{switch}-runtime.json")
    return program


def program_switches(tutorials_dir, workdir, targets, timeout: float = 120) -> str:
    """Run simple_controller.program_switch for each (address, device ID, runtime file) in a child."""
    calls = "\n".join(f"simple_controller.program_switch({a!r}, {d}, open({str(workdir / f)!r}), "
                      f"{str(workdir)!r}, None, {str(workdir / f)!r})" for a, d, f in targets)
    script = textwrap.dedent(f"""
        import os, sys, traceback
        sys.path[:0] = [{str(HERE)!r}, {str(tutorials_dir / 'utils')!r}]
        import p4config_shim
        p4config_shim.install()
        try:
            from p4runtime_lib import simple_controller
        """) + textwrap.indent(calls, "    ") + textwrap.dedent("""
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
        """)
    r = subprocess.run([sys.executable, "-u", "-c", script], capture_output=True, text=True, timeout=timeout,
                       cwd=str(workdir), env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_p4runtime_lib_programs_basic(served, tmp_path):
    tut = tutorials()
    program = prepare_basic(tmp_path, tut)
    switch = P4RuntimeSwitch("s1", program=str(program))
    address = served(switch)
    program_switches(tut, tmp_path, [(address, 0, "s1-runtime.json")])
    table = switch.device.tables["MyIngress.ipv4_lpm"]
    conf = json.loads((tmp_path / "s1-runtime.json").read_text())
    wanted = [e for e in conf["table_entries"] if not e.get("default_action")]
    assert len(table.entries) == len(wanted)
    assert table.action_name(table.default_aid) == "MyIngress.drop"
    texts = sorted(table.describe_entry(e) for e in table.entries.values())
    assert any("10.0.1.1" in t or "0x0a000101" in t for t in texts), texts
