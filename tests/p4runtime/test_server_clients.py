"""The P4Runtime server driven by real clients: p4runtime-shell, and `dataplane serve` on the command line.

Each client runs in a child process with a time limit, so a client that hangs cannot hang the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from dataplane.p4runtime.server import P4RuntimeSwitch
from p4rt_support import HERE, SERVE_P4, free_port

ROOT = HERE.parents[1]
pytest.importorskip("p4runtime_sh")


# A client that fails still exits at once (p4runtime-shell's stream thread would keep it alive).
GUARD = """
import os, traceback
try:
{body}
except BaseException:
    traceback.print_exc()
    os._exit(1)
os._exit(0)
"""


def run_client(script: str, timeout: float = 90) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    body = textwrap.indent(textwrap.dedent(script), "    ")
    r = subprocess.run([sys.executable, "-u", "-c", GUARD.format(body=body)], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=str(ROOT))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout


SHELL_SESSION = """
    import p4runtime_sh.shell as sh
    from p4runtime_sh.p4runtime import P4RuntimeWriteException
    sh.setup(device_id=0, grpc_addr={address!r}, election_id=(0, 1),
             config=sh.FwdPipeConfig({p4info!r}, {program!r}))
    te = sh.TableEntry("Ing.l2")(action="Ing.forward")
    te.match["h.eth.dst"] = "00:00:00:00:00:0a"
    te.action["port"] = "3"
    te.insert()
    acl = sh.TableEntry("Ing.acl")(action="Ing.drop")
    acl.match["h.eth.type"] = "0x0800&&&0xff00"
    acl.match["sm.ingress_port"] = "1..4"
    acl.priority = 5
    acl.insert()
    try:
        te.insert()
    except P4RuntimeWriteException as exc:
        print("ERROR", str(exc).strip().splitlines()[-1].strip())
    for e in sh.TableEntry("Ing.l2").read():
        print("L2", e.match["h.eth.dst"].exact.value.hex(), e.action["port"].value.hex())
    print("ACL", len(list(sh.TableEntry("Ing.acl").read())))
    cells = list(sh.CounterEntry("Ing.port_counts").read())
    print("COUNTERS", len(cells), cells[0].packet_count)
    te.delete()
    print("AFTER", len(list(sh.TableEntry("Ing.l2").read())))
    sh.teardown()
"""


def test_p4runtime_shell_pushes_inserts_reads_and_deletes(served, tmp_path):
    from dataplane.build import build
    from dataplane.p4runtime.p4info import build_p4info, p4info_bytes
    p4info = tmp_path / "serve.p4info.txtpb"
    p4info.write_bytes(p4info_bytes(build_p4info(build(str(SERVE_P4))), "text"))
    address = served(P4RuntimeSwitch("s1"))
    out = run_client(SHELL_SESSION.format(address=address, p4info=str(p4info), program=str(SERVE_P4)))
    lines = out.splitlines()
    assert "L2 0a 03" in lines
    assert "ACL 1" in lines
    assert "COUNTERS 8 0" in lines
    assert "AFTER 0" in lines
    assert any(l.startswith("ERROR") and "ALREADY_EXISTS" in l for l in lines), out


def test_dataplane_serve_answers_p4runtime_shell(tmp_path):
    port = free_port()
    p4info = tmp_path / "serve.p4info.txtpb"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "dataplane", "p4info", str(SERVE_P4), "-o", str(p4info)], check=True,
                   timeout=120, env=env, cwd=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "dataplane", "serve", str(SERVE_P4), "--grpc-port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
    try:
        banner = server.stdout.readline()
        assert f"listening on 127.0.0.1:{port}" in banner, banner + server.stderr.read()
        # An empty device config: the server's own program.
        empty = tmp_path / "empty.bin"
        empty.write_bytes(b"")
        out = run_client(SHELL_SESSION.format(address=f"127.0.0.1:{port}", p4info=str(p4info), program=str(empty)))
        assert "L2 0a 03" in out.splitlines()
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
    assert "Traceback" not in server.stderr.read()


def test_dataplane_serve_refuses_a_bad_port():
    r = subprocess.run([sys.executable, "-m", "dataplane", "serve", str(SERVE_P4), "--grpc-port", "70000"],
                       capture_output=True, text=True, timeout=120, cwd=str(ROOT),
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode != 0
    assert "is not a TCP port number" in r.stderr and "Traceback" not in r.stderr
