"""`dataplane exec` from the command line: the P4 tutorials' own scapy scripts, run unmodified.

The tutorials' tests run `python -m dataplane exec` in the exercise's directory, as a user would,
with a time limit on each; they skip without scapy or without the corpus (../shared/corpus from the
project root, or $DATAPLANE_CORPUS). The command line's errors are checked in this process.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataplane.cli import main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("DATAPLANE_CORPUS") or ROOT.parent / "shared" / "corpus")
EXERCISES = CORPUS / "tutorials" / "exercises"
TIMEOUT_S = 180

HAVE_SCAPY = importlib.util.find_spec("scapy") is not None
tutorials = pytest.mark.skipif(not (HAVE_SCAPY and EXERCISES.is_dir()),
                               reason=f"needs scapy and the P4 tutorials in {EXERCISES}")


def dataplane_exec(exercise: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`dataplane exec ARGV` in the exercise's directory, with this checkout's code."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-m", "dataplane", "exec", *argv], cwd=EXERCISES / exercise, env=env,
                          input=stdin, capture_output=True, text=True, timeout=TIMEOUT_S)


@tutorials
def test_basic_receive_py_on_h2_prints_what_send_py_on_h1_sent():
    run = dataplane_exec("basic", "pod-topo/topology.json", "--program", "solution/basic.p4",
                         "--bg", "h2:python3 receive.py", "h1", "--", "python3", "send.py", "10.0.2.2", "P4 is cool")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    # receive.py (its lines with h2: in front) listens before send.py starts; then what h2 received.
    assert lines[:2] == ["h2: sniffing on eth0", "sending on interface eth0 to 10.0.2.2"]
    assert "h2: got a packet" in lines
    received = [line for line in lines if line.startswith("h2: ")]
    got = received.index("h2: got a packet")
    fields = {line[4:].split("=")[0].strip(): line.split("=", 1)[1].strip() for line in received[got:] if "=" in line}
    # basic.p4's ipv4_forward: the destination MAC is h2's, the source is the switch's port (the old
    # destination), the TTL is one less; the payload is untouched.
    assert fields["dst"] == "10.0.2.2" and fields["src"] == "10.0.1.1"
    assert fields["ttl"] == "63" and fields["dport"] == "1234"
    assert "h2:            load      = b'P4 is cool'" in lines
    assert "h2:   dst       = 08:00:00:00:02:22" in lines
    assert "switches s1 s2 s3 s4 run solution/basic.p4 (chosen with --program)" in run.stderr
    assert "*** h1: python3 send.py 10.0.2.2 'P4 is cool': exit status 0" in run.stderr
    assert "*** h2: python3 receive.py: stopped with SIGTERM" in run.stderr
    # Every frame is accounted for: h2's RST and h1's packet socket taking the reply leave no drop.
    assert "drops" not in run.stderr and "accounting problem" not in run.stderr
    assert "*** 1 frame from the programs, 2 frames to them; simulated time passed: " in run.stderr


@tutorials
def test_calc_py_driven_by_standard_input_gets_the_switchs_answers():
    run = dataplane_exec("calc", "topology.json", "--program", "solution/calc.p4", "h1", "--", "python3", "calc.py",
                         stdin="1+2\n10-3\n7&5\n3|4\n6^3\nquit\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "> 1+2\n3\n> 10-3\n7\n> 7&5\n5\n> 3|4\n7\n> 6^3\n5\n> "
    assert "*** 5 frames from the programs, 5 frames to them" in run.stderr
    assert "drops" not in run.stderr


@tutorials
def test_source_routing_send_py_reads_the_route_from_stdin_and_the_filtered_receive_py_gets_the_packet():
    run = dataplane_exec("source_routing", "topology.json", "--program", "solution/source_routing.p4",
                         "--bg", "h2:python3 receive.py", "h1", "--", "python3", "send.py", "10.0.2.2",
                         stdin="2 3 2 2 1\nq\n")
    assert run.returncode == 0, run.stderr
    # send.py's prompt has no newline: h2's lines may follow it on the same line, as on a terminal.
    assert run.stdout.startswith("h2: sniffing on eth0\n") and run.stdout.count("h2: got a packet\n") == 1
    # The switches took the five source-route headers off on the way: h2 sees Ethernet, IPv4, UDP.
    assert ("h2: got a packet\nh2: ###[ Ethernet ]###\nh2:   dst       = ff:ff:ff:ff:ff:ff\n"
            "h2:   src       = 08:00:00:00:01:11\nh2:   type      = IPv4\n") in run.stdout, run.stdout
    assert "*** 1 frame from the programs, 1 frame to them" in run.stderr


@tutorials
def test_basic_tunnel_scripts_import_their_header_module_and_the_tunnel_reaches_h2():
    run = dataplane_exec("basic_tunnel", "topology.json", "--program", "solution/basic_tunnel.p4",
                         "--bg", "h2:python3 receive.py", "h1", "--",
                         "python3", "send.py", "10.0.2.2", "P4 is cool", "--dst_id", "2")
    assert run.returncode == 0, run.stderr
    assert "h2: got a packet" in run.stdout and "h2: ###[ MyTunnel ]###" in run.stdout
    assert any(line.startswith("h2: ") and line.split(":", 1)[1].strip() == "load      = b'P4 is cool'"
               for line in run.stdout.splitlines())


def dataplane(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_the_exit_status_is_the_commands_and_the_summary_goes_to_standard_error(capsys):
    rc, out, err = dataplane(capsys, "exec", "lan", "h1", "--", "sh", "-c", "exit 3")
    assert (rc, out) == (3, "")
    assert err.splitlines()[:2] == ["*** h1: sh -c 'exit 3': exit status 3",
                                    "*** 0 frames from the programs, 0 frames to them; simulated time passed: 0 s"]
    assert "LAN behind a switch and a router: 6 nodes, 5 links; simulated 0.000 us, 0 events" in err


def test_captures_are_written_as_by_run(capsys, tmp_path):
    rc, out, err = dataplane(capsys, "exec", "lan", "--pcap", str(tmp_path), "--links", "h1-s1", "h1", "--", "true")
    assert rc == 0 and err.endswith(f"pcap: 1 files in {tmp_path}\n")
    assert [p.name for p in tmp_path.iterdir()] == ["h1-s1.pcapng"]


@pytest.mark.parametrize("argv, message", [
    (["lan", "h1"], "error: no command to run on h1: write it after --, e.g. "
                    "dataplane exec TOPO h1 -- python3 send.py 10.0.2.2 hello"),
    (["lan", "h1", "--"], "error: no command to run on h1: write it after --, e.g. "
                          "dataplane exec TOPO h1 -- python3 send.py 10.0.2.2 hello"),
    (["lan", "s1", "--", "true"], "error: 's1' is not a host of LAN behind a switch and a router "
                                  "(hosts: h1, h2, h3, srv)"),
    (["lan", "--bg", "h2", "h1", "--", "true"], "error: --bg 'h2': write HOST:COMMAND, e.g. "
                                                "--bg 'h2:python3 receive.py'"),
    (["lan", "--bg", "h2:python3 'receive.py", "h1", "--", "true"],
     "error: --bg 'h2:python3 'receive.py': No closing quotation"),
    (["lan", "--settle", "soon", "h1", "--", "true"], "error: --settle: "),
    (["lan", "--timeout", "0", "h1", "--", "true"], "error: --timeout must be a positive number of seconds"),
    (["lan", "h1", "--", "no-such-program-here"],
     "error: h1: cannot run no-such-program-here: No such file or directory"),
])
def test_command_line_mistakes_are_one_line_errors(capsys, argv, message):
    rc, out, err = dataplane(capsys, "exec", *argv)
    assert rc == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_sigterm_to_dataplane_stops_every_program_it_started(tmp_path):
    """What a timeout in a script, or a supervisor, does: no program is left running after dataplane."""
    pids = {name: tmp_path / f"{name}.pid" for name in ("fg", "bg")}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-m", "dataplane", "exec", "lan",
                             "--bg", f"h2:sh -c 'echo $$ > {pids['bg']}; exec sleep 60'",
                             "h1", "--", "sh", "-c", f"echo $$ > {pids['fg']}; exec sleep 60"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not all(p.exists() and p.read_text().strip() for p in pids.values()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "*** interrupted: every program stopped" in err
    assert "*** h1: sh -c" in err and "stopped with SIGTERM" in err
    for path in pids.values():
        assert not Path(f"/proc/{int(path.read_text())}").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's parent-death signal")
def test_even_sigkill_to_dataplane_leaves_no_program_running(tmp_path):
    pid_file = tmp_path / "fg.pid"
    # A killed dataplane leaves its socket directory behind: in tmp_path, not in /tmp.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
               TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "dataplane", "exec", "lan", "h1", "--",
                             "sh", "-c", f"echo $$ > {pid_file}; exec sleep 60"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=TIMEOUT_S)
        status = Path(f"/proc/{int(pid_file.read_text())}/status")
        while _running(status):
            assert time.monotonic() < deadline, "the program outlived dataplane"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _running(status: Path) -> bool:
    try:
        return "State:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False
