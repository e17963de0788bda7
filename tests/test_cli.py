"""The command line: exit statuses, output streams, and no tracebacks for user errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dataplane import cli
from p4helpers import PROGRAMS


def run(*args):
    return subprocess.run([sys.executable, "-m", "dataplane", *args], capture_output=True, text=True)


def test_check_prints_a_summary_and_exits_0(capsys):
    assert cli.main(["check", str(PROGRAMS / "basic_ipv4.p4")]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "table" in out and "parser" in out


def test_check_errors_go_to_stderr_with_exit_1(p4_file, capsys):
    path = p4_file("header h { bit<8> a }\n")
    assert cli.main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{path}:1:21: error: syntax error")


@pytest.mark.parametrize("content", [b"\x00\x01\x02\xff\xfe", b"}}}}", b"#include", b"@", b"header"])
def test_junk_never_gives_a_traceback(tmp_path, content):
    path = tmp_path / "junk.p4"
    path.write_bytes(content)
    out = run("check", str(path))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    assert "error:" in out.stderr


def test_a_program_without_main_is_valid_but_not_runnable(tmp_path):
    # As in p4c: the front end accepts it (with a warning); compiling it for a run is an error, located.
    path = tmp_path / "lib.p4"
    path.write_text("#include <core.p4>\n#include <v1model.p4>\nconst bit<8> X = 1;\n")
    (tmp_path / "t.stf").write_text("packet 0 00\n")
    checked = run("check", str(path))
    assert checked.returncode == 0
    assert checked.stderr.startswith(f"{path}:3:20: warning: the program has no 'main' instance, so there is "
                                     "nothing to run")
    ran = run("stf", str(path), str(tmp_path / "t.stf"))
    assert ran.returncode == 1
    assert f"{path}:3:20: error: the program has no 'main' instance: there is nothing to compile" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_missing_file():
    out = run("check", "/no/such/file.p4")
    assert out.returncode == 1 and "cannot open '/no/such/file.p4'" in out.stderr


def test_internal_errors_are_reported_without_traceback(monkeypatch, capsys, p4_file):
    def boom(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr("dataplane.frontend.program.load_program", boom)
    monkeypatch.delenv("DATAPLANE_DEBUG", raising=False)
    assert cli.main(["check", str(p4_file("x"))]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


def test_defines_from_the_command_line(p4_file, capsys):
    path = p4_file("#ifndef WANTED\n#error \"WANTED is not defined\"\n#endif\n")
    assert cli.main(["check", str(path)]) == 1
    assert "WANTED is not defined" in capsys.readouterr().err
