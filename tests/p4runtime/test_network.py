"""P4Runtime switches in simulated topologies: the `p4runtime` setting, the servers `dataplane cli` starts,
and the tutorials' basic exercise programmed through P4Runtime by their own p4runtime_lib."""

from __future__ import annotations

import io
import json
import threading

import grpc
import pytest
from p4.v1 import p4runtime_pb2 as R
from p4.v1 import p4runtime_pb2_grpc as G

from dataplane.diagnostics import DiagnosticError
from dataplane.net.network import Network
from dataplane.net.shell import Shell, net_close, start_p4runtime
from dataplane.net.topology import load_topology
from dataplane.net.tutorial import load_tutorial_topology
from dataplane.p4runtime.network import FIRST_PORT, NetworkServers
from dataplane.runtime.trace import DropReason
from p4rt_support import SERVE_P4, free_port
from test_server_tutorials import prepare_basic, program_switches, tutorials

YAML = """
name: two
nodes:
  h1: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.1/24}}}}}}
  h2: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.2/24}}}}}}
  s1: {{kind: p4, program: {program}, p4runtime: {setting}, interfaces: {{p1: {{port: 1}}, p2: {{port: 2}}}}}}
links:
  - ends: [h1:eth0, s1:p1]
  - ends: [h2:eth0, s1:p2]
"""


def yaml_topology(tmp_path, setting):
    path = tmp_path / "two.yaml"
    path.write_text(YAML.format(program=SERVE_P4, setting=setting))
    return load_topology(str(path))


def test_the_setting_in_yaml_gives_ports_and_device_ids(tmp_path):
    net = Network(yaml_topology(tmp_path, "true"))
    assert NetworkServers(net).wanted() == [("s1", 0, FIRST_PORT + 0)]
    net = Network(yaml_topology(tmp_path, 50100))
    assert NetworkServers(net).wanted() == [("s1", 0, 50100)]
    net = Network(yaml_topology(tmp_path, "false"))
    assert NetworkServers(net).wanted() == []


@pytest.mark.parametrize("value", ["70000", "yes please", "-1"])
def test_a_bad_setting_is_a_located_error(tmp_path, value):
    with pytest.raises(DiagnosticError) as exc:
        yaml_topology(tmp_path, json.dumps(value) if not value.lstrip("-").isdigit() else value)
    assert "p4runtime must be true, false or a TCP port number" in exc.value.render()
    assert "two.yaml:" in exc.value.render()


def test_routers_take_no_p4runtime(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: r\nnodes:\n  r1: {kind: router, p4runtime: true}\nlinks: []\n")
    with pytest.raises(DiagnosticError) as exc:
        load_topology(str(path))
    assert "'p4runtime' is a setting of p4 nodes" in exc.value.render()


def test_the_shell_starts_servers_and_writes_wait_for_commands(tmp_path):
    port = free_port()
    out = io.StringIO()
    shell = Shell(Network(yaml_topology(tmp_path, port)), stdout=out)
    start_p4runtime(shell)
    try:
        assert f"*** s1: P4Runtime server on 127.0.0.1:{port}, device ID 0" in out.getvalue()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = G.P4RuntimeStub(channel)
            r = stub.GetForwardingPipelineConfig(R.GetForwardingPipelineConfigRequest(device_id=0), timeout=10)
            assert not r.config.HasField("p4info")
            # While a command holds the lock, a request waits (and here times out).
            with shell.lock:
                with pytest.raises(grpc.RpcError) as exc:
                    list(stub.Read(R.ReadRequest(device_id=0), timeout=1))
                assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            with pytest.raises(grpc.RpcError) as exc:
                list(stub.Read(R.ReadRequest(device_id=0), timeout=10))
            assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        net_close(shell)


def basic_topology(tmp_path, tut, ports: list[int]):
    """The basic exercise's pod topology with P4Runtime switches and no runtime files."""
    basic = tut / "exercises" / "basic"
    doc = json.loads((basic / "pod-topo" / "topology.json").read_text())
    for (name, spec), port in zip(sorted(doc["switches"].items()), ports):
        spec.pop("runtime_json", None)
        spec["p4runtime"] = port
    path = tmp_path / "topology.json"
    path.write_text(json.dumps(doc))
    return load_tutorial_topology(str(path), program=str(basic / "solution" / "basic.p4"))


def test_basic_exercise_programmed_through_p4runtime(tmp_path):
    tut = tutorials()
    ports = [free_port() for _ in range(4)]
    topo = basic_topology(tmp_path, tut, ports)
    out = io.StringIO()
    shell = Shell(Network(topo), stdout=out)
    start_p4runtime(shell)
    try:
        shell.run_line("h1 ping -c 1 h3")                       # no entries yet: the switches drop
        assert "0 received" in out.getvalue(), out.getvalue()
        for name in ("s1", "s2", "s3", "s4"):
            prepare_basic(tmp_path, tut, name)
        targets = [(f"127.0.0.1:{port}", place, f"{name}-runtime.json")
                   for place, (name, port) in enumerate(zip(("s1", "s2", "s3", "s4"), ports))]
        program_switches(tut, tmp_path, targets)
        before = out.getvalue()
        assert shell.run_line("h1 ping -c 1 h3"), out.getvalue()[len(before):]
        assert "1 received" in out.getvalue()[len(before):]
        assert shell.run_line("s1 table_dump MyIngress.ipv4_lpm")
        assert "10.0.3.3" in out.getvalue() or "0x0a000303" in out.getvalue(), out.getvalue()
    finally:
        net_close(shell)


def test_packet_in_and_packet_out_in_a_network(tmp_path):
    from test_server import Client
    program = SERVE_P4.parent / "packetio.p4"
    port = free_port()
    path = tmp_path / "two.yaml"
    path.write_text(YAML.format(program=program, setting=port))
    from dataplane.build import build
    from dataplane.p4runtime.p4info import build_p4info
    out = io.StringIO()
    shell = Shell(Network(load_topology(str(path))), stdout=out)
    start_p4runtime(shell)
    c = Client(f"127.0.0.1:{port}")
    try:
        # no controller yet: the packet to the CPU port is dropped, with its reason
        assert shell.run_line("h1 send --hex ffffffffffff0200000000010800")
        ledger = shell.net.sim.ledger
        assert ("s1", DropReason.LINK_DOWN, False) in ledger.drop_counts
        c.arbitrate()
        c.set_pipeline(build_p4info(build(str(program))), b"")
        assert shell.run_line("h1 send --hex ffffffffffff0200000000010800")
        r = c.next()
        assert r.packet.payload == bytes.fromhex("ffffffffffff0200000000010800")
        assert r.packet.metadata[0].value == b"\x01"            # from port 1
        arrived = ledger.arrived
        m = R.StreamMessageRequest()
        m.packet.payload = bytes.fromhex("ffffffffffff0200000000020800")
        m.packet.metadata.add(metadata_id=1, value=b"\x02")
        m.packet.metadata.add(metadata_id=2, value=b"\x00")
        c.requests.put(m)
        for _ in range(200):                  # the PacketOut is applied while the network is idle
            if ledger.arrived > arrived:
                break
            threading.Event().wait(0.05)
        assert shell.run_line("sleep 0.01")   # the frame crosses the link to h2
        assert ledger.arrived >= arrived + 2
        assert ledger.unaccounted() == 0
    finally:
        c.close()
        net_close(shell)


def test_the_p4runtime_exercise_controller_runs_against_a_topology(tmp_path):
    """The p4runtime exercise's solution controller, unchanged: it dials 127.0.0.1:50051 and :50052, pushes
    advanced_tunnel, writes the tunnel rules, reads them back and prints the tunnel counters every 2 s."""
    import queue
    import socket
    import subprocess
    import sys
    import time
    from dataplane.build import build
    from dataplane.p4runtime.p4info import build_p4info, p4info_bytes
    from p4rt_support import HERE
    tut = tutorials()
    exercise = tut / "exercises" / "p4runtime"
    for port in (FIRST_PORT, FIRST_PORT + 1, FIRST_PORT + 2):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip(f"port {port}, which the exercise's controller dials, is in use")
    doc = json.loads((exercise / "topology.json").read_text())
    for spec in doc["switches"].values():
        spec["p4runtime"] = True
    (tmp_path / "topology.json").write_text(json.dumps(doc))
    program = exercise / "advanced_tunnel.p4"
    (tmp_path / "build").mkdir()
    (tmp_path / "logs").mkdir()
    (tmp_path / "build" / "advanced_tunnel.p4.p4info.txtpb").write_bytes(
        p4info_bytes(build_p4info(build(str(program))), "text"))
    (tmp_path / "build" / "advanced_tunnel.json").write_text("{}\n")
    out = io.StringIO()
    shell = Shell(Network(load_tutorial_topology(str(tmp_path / "topology.json"), program=str(program))), stdout=out)
    start_p4runtime(shell)
    script = (f"import sys, runpy; sys.path[:0] = [{str(HERE)!r}, {str(tut / 'utils')!r}]\n"
              "import p4config_shim; p4config_shim.install()\n"
              f"sys.argv = ['mycontroller.py']\n"
              f"runpy.run_path({str(exercise / 'solution' / 'mycontroller.py')!r}, run_name='__main__')\n")
    controller = subprocess.Popen([sys.executable, "-u", "-c", script], cwd=str(tmp_path), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in controller.stdout], daemon=True).start()

    def wait_for(text: str, seconds: float = 60) -> str:
        seen = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"the controller did not print {text!r}:\n" + "".join(seen))

    try:
        wait_for("Reading tunnel counters")
        assert shell.run_line("h1 ping -c 2 h2")
        assert "2 received" in out.getvalue(), out.getvalue()
        deadline = time.monotonic() + 60
        while True:
            line = wait_for("s1 MyIngress.ingressTunnelCounter 100:")
            if not line.split(":")[1].strip().startswith("0 packets") or time.monotonic() > deadline:
                break
        assert line.split(":")[1].strip().startswith("2 packets"), line
    finally:
        controller.kill()
        controller.wait(10)
        net_close(shell)


def test_cli_p4runtime_flag_serves_every_p4_switch(tmp_path):
    """`dataplane cli --p4runtime`: as run_exercise.py with simple_switch_grpc, without touching topology.json."""
    import subprocess
    import sys
    from p4rt_support import HERE
    tut = tutorials()
    basic = tut / "exercises" / "basic"
    doc = json.loads((basic / "pod-topo" / "topology.json").read_text())
    for spec in doc["switches"].values():
        spec.pop("runtime_json", None)
    doc["switches"]["s4"]["p4runtime"] = False
    doc["switches"]["s3"]["p4runtime"] = free_port()
    (tmp_path / "topology.json").write_text(json.dumps(doc))
    for port in (FIRST_PORT, FIRST_PORT + 1):
        import socket
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip(f"port {port} is in use")
    r = subprocess.run([sys.executable, "-m", "dataplane", "cli", str(tmp_path / "topology.json"), "--program",
                        str(basic / "solution" / "basic.p4"), "--p4runtime", "-c", "nodes"],
                       capture_output=True, text=True, timeout=120, cwd=str(HERE.parents[1]))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "*** s1: P4Runtime server on 127.0.0.1:50051, device ID 0" in r.stdout
    assert "*** s2: P4Runtime server on 127.0.0.1:50052, device ID 1" in r.stdout
    assert f"*** s3: P4Runtime server on 127.0.0.1:{doc['switches']['s3']['p4runtime']}, device ID 2" in r.stdout
    assert "s4: P4Runtime" not in r.stdout
