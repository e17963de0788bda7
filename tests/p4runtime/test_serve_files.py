"""`dataplane serve -i PORT=FILE.pcap`: ports fed from captures (as simple_switch --use-files), replayed once
when the primary controller disconnects after setting the pipeline, or --wait seconds after the start.

The server and its clients are child processes with time limits; the outputs are compared byte for byte with
`dataplane replay` of the same program and entries."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading

import pytest
from p4rt_support import HERE, SERVE_P4, free_port

from dataplane.pcap import PcapWriter

ROOT = HERE.parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))

RUNTIME_JSON = """{"table_entries": [
 {"table": "Ing.l2", "match": {"h.eth.dst": "00:00:00:00:00:0a"}, "action_name": "Ing.forward",
  "action_params": {"port": 3}},
 {"table": "Ing.l2", "match": {"h.eth.dst": "00:00:00:00:00:0b"}, "action_name": "Ing.forward",
  "action_params": {"port": 2}}
]}"""

# The same entries written by p4runtime-shell; the client then disconnects, which starts the replay.
PROGRAM_AND_LEAVE = """
    import p4runtime_sh.shell as sh
    sh.setup(device_id=0, grpc_addr={address!r}, election_id=(0, 1),
             config=sh.FwdPipeConfig({p4info!r}, {program!r}))
    for dst, port in (("00:00:00:00:00:0a", "3"), ("00:00:00:00:00:0b", "2")):
        te = sh.TableEntry("Ing.l2")(action="Ing.forward")
        te.match["h.eth.dst"] = dst
        te.action["port"] = port
        te.insert()
    sh.teardown()
"""

# A controller that comes back after the replay: the server still answers, its counters show the packets.
READ_COUNTERS = """
    import p4runtime_sh.shell as sh
    sh.setup(device_id=0, grpc_addr={address!r}, election_id=(0, 2))
    cells = {{c.index: c.packet_count for c in sh.CounterEntry("Ing.port_counts").read()}}
    print("PORT1", cells.get(1, 0))
    sh.teardown()
"""


def write_input(path) -> None:
    """Six frames into port 1: two for each of dst :0a (to port 3), :0b (to port 2), :0c (dropped)."""
    w = PcapWriter(str(path))
    for i in range(6):
        dst = bytes.fromhex(("00000000000a", "00000000000b", "00000000000c")[i % 3])
        w.write(dst + bytes.fromhex("000000000001") + b"\x08\x00" + bytes([i]) * 20, 1_000_000_000 + i * 1000)
    w.close()


def reference(tmp_path, inp) -> dict:
    """`dataplane replay` of the same program and entries: {file name: bytes}."""
    runtime = tmp_path / "rt.json"
    runtime.write_text(RUNTIME_JSON)
    out = tmp_path / "ref"
    r = subprocess.run([sys.executable, "-m", "dataplane", "replay", str(SERVE_P4), "--runtime", str(runtime),
                        "-i", f"1={inp}", "--out-dir", str(out)], check=False, capture_output=True, text=True, timeout=120,
                       env=ENV, cwd=str(ROOT))
    assert r.returncode == 0, r.stderr
    return {p.name: p.read_bytes() for p in out.iterdir()}


class Served:
    """`python -m dataplane serve ...` in a child process; its stdout lines arrive on a queue."""

    def __init__(self, *args: str):
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "dataplane", "serve", str(SERVE_P4),
                                      "--grpc-port", str(self.port), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                                     cwd=str(ROOT))
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float = 60) -> str:
        line = self.lines.get(timeout=timeout)
        assert line is not None, "the server ended: " + self.proc.stderr.read()
        return line

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        return self.proc.stderr.read()


@pytest.fixture
def p4info(tmp_path):
    from dataplane.build import build
    from dataplane.p4runtime.p4info import build_p4info, p4info_bytes
    path = tmp_path / "serve.p4info.txtpb"
    path.write_bytes(p4info_bytes(build_p4info(build(str(SERVE_P4))), "text"))
    return path


def outputs(directory) -> dict:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_captures_are_replayed_when_the_controller_leaves(tmp_path, p4info):
    pytest.importorskip("p4runtime_sh")
    from test_server_clients import run_client
    inp = tmp_path / "in.pcap"
    write_input(inp)
    out = tmp_path / "out"
    served = Served("-i", f"1={inp}", "--out-dir", str(out))
    try:
        assert "listening on" in served.line()
        run_client(PROGRAM_AND_LEAVE.format(address=served.address, p4info=str(p4info), program=str(SERVE_P4)))
        summary = served.line()
        assert summary.startswith("replay: 6 packets in; out port 2: 2, port 3: 2; dropped 2 (mark_to_drop 2);")
        assert outputs(out) == reference(tmp_path, inp)
        # Still serving: a controller reads the counters the replay updated; no second replay.
        again = run_client(READ_COUNTERS.format(address=served.address))
        assert "PORT1 6" in again.splitlines()
        with pytest.raises(queue.Empty):
            served.lines.get(timeout=1)
    finally:
        err = served.stop()
    assert "Traceback" not in err, err


def test_wait_replays_after_that_many_seconds(tmp_path, p4info):
    """--wait: the controller stays connected; the replay starts on the clock, with the entries it wrote."""
    grpc = pytest.importorskip("grpc")
    from p4.v1 import p4runtime_pb2 as R
    from p4.v1 import p4runtime_pb2_grpc as G

    from dataplane.build import build
    from dataplane.p4runtime.p4info import build_p4info
    info = build_p4info(build(str(SERVE_P4)))
    inp = tmp_path / "in.pcap"
    write_input(inp)
    out = tmp_path / "out"
    served = Served("-i", f"1={inp}", "--out-dir", str(out), "--wait", "10")
    channel = None
    try:
        assert "listening on" in served.line()
        channel = grpc.insecure_channel(served.address)
        stub = G.P4RuntimeStub(channel)
        requests: queue.Queue = queue.Queue()
        arbitration = R.StreamMessageRequest()
        arbitration.arbitration.device_id = 0
        arbitration.arbitration.election_id.low = 1
        requests.put(arbitration)
        responses = stub.StreamChannel(iter(requests.get, None), timeout=60)
        assert next(responses).arbitration.status.code == 0
        config = R.SetForwardingPipelineConfigRequest(device_id=0, action=R.SetForwardingPipelineConfigRequest.
                                                      VERIFY_AND_COMMIT)
        config.election_id.low = 1
        config.config.p4info.CopyFrom(info)
        config.config.p4_device_config = SERVE_P4.read_bytes()
        stub.SetForwardingPipelineConfig(config, timeout=60)
        table = next(t for t in info.tables if t.preamble.name == "Ing.l2")
        forward = next(a for a in info.actions if a.preamble.name == "Ing.forward")
        write = R.WriteRequest(device_id=0)
        write.election_id.low = 1
        for dst, port in ((0x0A, 3), (0x0B, 2)):
            update = write.updates.add(type=R.Update.INSERT)
            entry = update.entity.table_entry
            entry.table_id = table.preamble.id
            entry.match.add(field_id=1).exact.value = bytes([dst])
            entry.action.action.action_id = forward.preamble.id
            entry.action.action.params.add(param_id=1, value=bytes([port]))
        stub.Write(write, timeout=60)
        # The controller is still connected: only the clock starts the replay.
        summary = served.line(timeout=60)
        assert summary.startswith("replay: 6 packets in; out port 2: 2, port 3: 2;")
        assert outputs(out) == reference(tmp_path, inp)
        requests.put(None)
    finally:
        if channel is not None:
            channel.close()
        err = served.stop()
    assert "Traceback" not in err, err


def test_wait_without_a_pipeline_says_so_and_goes_on(tmp_path):
    inp = tmp_path / "in.pcap"
    write_input(inp)
    served = Served("-i", f"1={inp}", "--out-dir", str(tmp_path / "out"), "--wait", "0")
    try:
        assert "listening on" in served.line()
        with pytest.raises(queue.Empty):
            served.lines.get(timeout=1)
        assert served.proc.poll() is None          # still serving
    finally:
        err = served.stop()
    assert "no pipeline was set within 0 seconds: the captures are not replayed" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def serve_error(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "dataplane", "serve", str(SERVE_P4), "--grpc-port",
                        str(free_port()), *args], check=False, capture_output=True, text=True, timeout=120,
                       cwd=str(ROOT), env=ENV)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


def test_a_missing_capture_or_an_interface_is_refused(tmp_path):
    err = serve_error("-i", f"1={tmp_path / 'absent.pcap'}")
    assert "no such capture file" in err and "raw sockets" in err
    err = serve_error("-i", "2=eth0")
    assert err.startswith("error: -i 2=eth0: no such capture file")


def test_a_bad_port_or_spec_is_refused(tmp_path):
    inp = tmp_path / "in.pcap"
    write_input(inp)
    assert "port 511 is out of range (0..510)" in serve_error("-i", f"511={inp}")
    assert "inputs are written PORT=FILE.pcap" in serve_error("-i", str(inp))


def test_a_file_that_is_not_a_capture_is_refused(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("these are notes, not packets\n")
    assert "not a pcap or pcapng file" in serve_error("-i", f"1={bad}")


def test_a_negative_wait_is_refused(tmp_path):
    inp = tmp_path / "in.pcap"
    write_input(inp)
    assert "--wait -1 is not a number of seconds" in serve_error("-i", f"1={inp}", "--wait", "-1")
