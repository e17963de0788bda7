"""The project installs as a normal package: the grammar and include files travel with it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in (ROOT / "dataplane").rglob("__init__.py")}
    found |= {"dataplane.grammar", "dataplane.programs", "dataplane.topologies"}
    assert found - listed == set(), "add these packages to [tool.setuptools] packages"


@pytest.mark.slow
def test_plain_install_works_from_another_directory(tmp_path):
    """Build a wheel, install it (not editable) into a fresh directory, and run it from elsewhere."""
    wheel_dir = tmp_path / "wheel"
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(wheel_dir), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(wheel_dir.glob("dataplane-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True, cwd=tmp_path)
    assert (target / "dataplane" / "grammar" / "p4.lark").is_file()
    assert (target / "dataplane" / "p4include" / "v1model.p4").is_file()
    assert (target / "dataplane" / "programs" / "ipv4_router.p4").is_file()
    assert (target / "dataplane" / "net" / "scapy_child" / "sitecustomize.py").is_file()      # dataplane exec
    for name in ("report.html", "report.css", "report.js"):                                      # --report
        assert (target / "dataplane" / "views" / name).is_file()
    program = tmp_path / "prog.p4"
    program.write_text((ROOT / "programs" / "basic_ipv4.p4").read_text())
    env = dict(os.environ, PYTHONPATH=str(target), XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-m", "dataplane", "check", str(program)], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout
    # The README's demo: a shipped topology, found by name, with its shipped programs.
    assert (target / "dataplane" / "topologies" / "line.yaml").is_file()
    out = subprocess.run([sys.executable, "-m", "dataplane", "ping", "line", "h1", "h2", "-c", "1"], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "1 packets transmitted, 1 received" in out.stdout
    # The installed copy is used, not the checkout.
    where = subprocess.run([sys.executable, "-c", "import dataplane; print(dataplane.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True).stdout
    assert where.startswith(str(target))
