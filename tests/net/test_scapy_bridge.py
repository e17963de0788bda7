"""`dataplane exec`'s bridge: scapy scripts of our own (written here) run as if on hosts of `lan`.

Each test starts real Python processes (the interpreter running the tests, with scapy), bounded by
run_programs' timeout; their output is read with capfd, since the foreground program writes to our
file descriptors directly. The P4 tutorials' own scripts are run in test_exec_command.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import textwrap

import pytest

from dataplane.net.network import Network
from dataplane.net.scapy_bridge import ENV_HOST, ENV_SOCKET, ExecError, Program, ScapyBridge, run_programs
from dataplane.net.topology import load_topology
from dataplane.protocols import packets as P

needs_scapy = pytest.mark.skipif(importlib.util.find_spec("scapy") is None, reason="scapy is not installed")
TIMEOUT_S = 60.0


PAIR = """\
name: two hosts on one cable
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - [h1:eth0, h2:eth0]
"""


def lan() -> Network:
    return Network(load_topology("lan"))


def pair(tmp_path) -> Network:
    """Two hosts and nothing between them: every frame's fate is a host's."""
    path = tmp_path / "pair.yaml"
    path.write_text(PAIR)
    return Network(load_topology(str(path)))


def script(tmp_path, name: str, text: str) -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return [sys.executable, str(path)]


def mac_of(net: Network, node: str, interface: str) -> str:
    return P.mac_str(net.topo.nodes[node].interfaces[interface].mac)


class RawClient:
    """What the child's SimSocket does, by hand: the handshake, then one frame per message."""

    def __init__(self, bridge: ScapyBridge, path: str, hello: dict):
        self.bridge = bridge
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(TIMEOUT_S)
        self.sock.connect(path)
        self.sock.send(json.dumps(hello).encode())
        self.answer = self.receive()

    def receive(self) -> bytes:
        self.sock.setblocking(False)
        try:
            for _ in range(200):
                self.bridge.pump(0.05)
                try:
                    return self.sock.recv(1 << 16)
                except BlockingIOError:
                    continue
            raise AssertionError("the bridge sent nothing")
        finally:
            self.sock.settimeout(TIMEOUT_S)


def bridge_for(net: Network, host: str) -> tuple[ScapyBridge, str]:
    bridge = ScapyBridge(net)
    env = bridge.listen(Program(host, ["unused"]), 0, {"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].endswith(os.pathsep + "/elsewhere") and env["PYTHONUNBUFFERED"] == "1"
    assert json.loads(env[ENV_HOST])["interfaces"][0]["name"] == "eth0"
    return bridge, env[ENV_SOCKET]


def test_the_handshake_opens_a_packet_socket_and_frames_go_both_ways(tmp_path):
    """The bridge without scapy: an ARP request in, the network settles, the reply out."""
    net = lan()
    bridge, path = bridge_for(net, "h1")
    try:
        client = RawClient(bridge, path, {"iface": "h1-eth0", "promisc": False, "filter": "arp"})
        assert client.answer == b"\0"
        h1, gateway = net.topo.nodes["h1"].interfaces["eth0"], net.topo.nodes["r1"].interfaces["lan"]
        request = P.ethernet((1 << 48) - 1, h1.mac, P.ETH_ARP, P.arp(1, h1.mac, int(h1.ipv4.ip), 0,
                                                                     int(gateway.ipv4.ip)))
        client.sock.send(request)
        reply = client.receive()
        assert reply[12:14] == b"\x08\x06" and reply[6:12] == gateway.mac.to_bytes(6, "big")
        # The clock stopped when the reply arrived, not at the settling horizon.
        assert 0 < net.sim.now_ns < 1_000_000
        assert (bridge.frames_from_programs, bridge.frames_to_programs) == (1, 1)
    finally:
        bridge.close()


@pytest.mark.parametrize("hello, refusal", [
    ({"iface": "eth1"}, "host h1 has no interface 'eth1' (it has eth0)"),
    ({"iface": "eth0", "filter": "udp and prot 1"},
     "Cannot set filter: 'udp and prot 1': 'prot' is not something this simulation can filter on"),
    ({"interface": "eth0"}, "a socket's first message was not the bridge's handshake"),
])
def test_a_socket_the_bridge_cannot_open_is_refused_with_the_reason(hello, refusal):
    bridge, path = bridge_for(lan(), "h1")
    try:
        answer = RawClient(bridge, path, hello).answer
        assert answer[:1] == b"\1" and answer[1:].decode().startswith(refusal)
        assert bridge.net.hosts["h1"].packet_sockets == []
    finally:
        bridge.close()


def test_settling_runs_what_is_due_soon_and_leaves_long_timers_waiting():
    net = lan()
    bridge = ScapyBridge(net, settle_ns=1_000_000_000)
    ran = []
    net.sim.schedule(2_000_000, ran.append, "soon")
    net.sim.schedule(900_000_000, ran.append, "within the horizon")
    net.sim.schedule(7_200_000_000_000, ran.append, "a keepalive two hours later")
    try:
        bridge.settle()
    finally:
        bridge.close()
    assert ran == ["soon", "within the horizon"]
    assert net.sim.now_ns == 900_000_000 and net.sim.pending == 1


@needs_scapy
def test_scapy_sees_the_host_and_its_arp_requests_are_answered_by_the_simulated_stacks(tmp_path, capfd):
    net = lan()
    argv = script(tmp_path, "arp.py", """
        import os
        from scapy.all import ARP, Ether, conf, get_if_addr, get_if_hwaddr, get_if_list, srp1
        print("interfaces", get_if_list(), os.listdir("/sys/class/net/"), conf.iface)
        print("eth0", get_if_hwaddr("eth0"), get_if_addr("h1-eth0"))
        print("route", conf.route.route("10.9.0.80"))
        for target in ("192.168.1.1", "192.168.1.12"):
            answer = srp1(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=target), iface="eth0", timeout=5, verbose=False)
            print("answer", answer[ARP].psrc, answer[ARP].hwsrc)
    """)
    result = run_programs(net, Program("h1", argv), [], timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0, err
    assert out.splitlines() == [
        "interfaces ['eth0'] ['lo', 'eth0'] eth0",
        f"eth0 {mac_of(net, 'h1', 'eth0')} 192.168.1.11",
        "route ('eth0', '192.168.1.11', '192.168.1.1')",
        f"answer 192.168.1.1 {mac_of(net, 'r1', 'lan')}",
        f"answer 192.168.1.12 {mac_of(net, 'h2', 'eth0')}",
    ]
    assert (result.frames_from_programs, result.frames_to_programs) == (2, 2)
    summary = net.summary()
    assert summary.drops == {} and summary.problems == []
    assert 0 < result.simulated_ns < 1_000_000_000


@needs_scapy
def test_a_frame_no_stack_takes_reaches_the_sniffing_program_and_counts_as_delivered(tmp_path, capfd):
    net = pair(tmp_path)
    receiver = script(tmp_path, "receive.py", """
        from scapy.all import Raw, sniff
        sniff(iface="eth0", count=1, prn=lambda p: print("got", hex(p.type), p[Raw].load.decode()))
    """)
    sender = script(tmp_path, "send.py", f"""
        from scapy.all import Ether, Raw, get_if_hwaddr, sendp
        sendp(Ether(src=get_if_hwaddr("eth0"), dst="{mac_of(net, 'h2', 'eth0')}", type=0x1234) / Raw(b"P4 is cool"),
              iface="eth0", verbose=False)
    """)
    result = run_programs(net, Program("h1", sender), [Program("h2", receiver, background=True)],
                          timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0, err
    assert "h2: got 0x1234 P4 is cool" in out.splitlines()
    # h2's stack has no use for EtherType 0x1234; its packet socket took the frame: delivered, not dropped.
    summary = net.summary()
    assert summary.drops == {} and summary.problems == []
    assert summary.fates["delivered"] == 1 and summary.transmitted == 1


@needs_scapy
def test_a_sniff_filter_passes_only_the_frames_it_names(tmp_path, capfd):
    net = lan()
    receiver = script(tmp_path, "receive.py", """
        from scapy.all import sniff
        sniff(filter="udp and port 4321", prn=lambda p: print("got", p.summary()))
    """)
    sender = script(tmp_path, "send.py", f"""
        from scapy.all import IP, TCP, UDP, Ether, sendp
        base = Ether(dst="{mac_of(net, 'h2', 'eth0')}") / IP(dst="192.168.1.12")
        sendp([base / TCP(dport=4321), base / UDP(dport=4000), base / UDP(sport=1234, dport=4321) / b"x"],
              verbose=False)
    """)
    result = run_programs(net, Program("h1", sender), [Program("h2", receiver, background=True)],
                          timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0, err
    assert [line for line in out.splitlines() if line.startswith("h2:")] == [
        "h2: got Ether / IP / UDP 192.168.1.11:1234 > 192.168.1.12:4321 / Raw"]
    assert result.programs[1].stopped == "stopped with SIGTERM"
    # The frames the filter rejected were not taken by the socket: h2's stack dropped them (closed ports).
    drops = [(d.node, d.reason.name.lower()) for d in net.sim.ledger.drops if d.node == "h2"]
    assert drops == [("h2", "no_listener"), ("h2", "no_listener")]


@needs_scapy
def test_a_filter_the_bridge_does_not_understand_fails_as_scapy_fails(tmp_path, capfd):
    argv = script(tmp_path, "bad.py", """
        from scapy.all import sniff
        try:
            sniff(filter="udp and prot 4321", timeout=1)
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    result = run_programs(lan(), Program("h1", argv), [], timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0, err
    assert out.startswith("Scapy_Exception Cannot set filter: 'udp and prot 4321': 'prot' is not something")


@needs_scapy
def test_sr1_at_layer_3_finds_the_gateway_by_arp_and_gets_the_echo_reply(tmp_path, capfd):
    net = lan()
    argv = script(tmp_path, "ping.py", """
        from scapy.all import ICMP, IP, sr1
        reply = sr1(IP(dst="10.9.0.80") / ICMP(id=7, seq=1) / b"hello", timeout=5, verbose=False)
        print("reply", reply[IP].src, reply[IP].dst, reply[ICMP].type, reply[ICMP].id, bytes(reply[ICMP].payload))
    """)
    result = run_programs(net, Program("h1", argv), [], timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0, err
    assert out.splitlines() == ["reply 10.9.0.80 192.168.1.11 0 7 b'hello'"]
    assert net.summary().drops == {}


@needs_scapy
def test_ipv6_addresses_and_routes_are_the_hosts_and_neighbor_discovery_goes_through_the_network(tmp_path, capfd):
    net = Network(load_topology("dual-stack"))
    argv = script(tmp_path, "ping6.py", """
        from scapy.all import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, conf, get_if_addr6, sr1
        print("address", get_if_addr6("eth0"), conf.route6.route("2001:db8:b::20")[:2])
        reply = sr1(IPv6(dst="2001:db8:b::20") / ICMPv6EchoRequest(id=5, data=b"six"), timeout=5, verbose=False)
        print("reply", reply[IPv6].src, reply[ICMPv6EchoReply].id, reply[ICMPv6EchoReply].data)
    """)
    result = run_programs(net, Program("h1", argv), [], timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0, err
    assert out.splitlines() == ["address 2001:db8:a::10 ('eth0', '2001:db8:a::10')", "reply 2001:db8:b::20 5 b'six'"]
    assert net.summary().drops == {}


def test_without_scapy_in_the_programs_interpreter_it_says_so_in_one_line(tmp_path, capfd):
    hidden = tmp_path / "no-scapy" / "scapy"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'scapy'\", name='scapy')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(hidden.parent)}
    result = run_programs(lan(), Program("h1", [sys.executable, "-c", "print('never')"]), [],
                          timeout_s=TIMEOUT_S, env=env)
    out, err = capfd.readouterr()
    assert result.status == 1 and out == ""
    assert err == (f"dataplane exec: scapy is not installed for {sys.executable} (pip install scapy), "
                   f"so the program cannot use host h1\n")


def test_every_program_is_stopped_when_the_time_is_up(tmp_path, capfd):
    sleeper = [sys.executable, "-S", "-c", "import time; print('up', flush=True); time.sleep(60)"]
    stubborn = [sys.executable, "-S", "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                            "print('ignoring SIGTERM', flush=True); time.sleep(60)"]
    result = run_programs(lan(), Program("h1", sleeper), [Program("h2", stubborn, background=True)], timeout_s=3)
    out, err = capfd.readouterr()
    assert result.status == 124
    assert result.note == "h1's command was still running after 3 s: stopped"
    assert all(p.proc.poll() is not None for p in result.programs)
    assert [p.stopped for p in result.programs] == ["stopped with SIGTERM",
                                                    "killed (SIGKILL): it did not stop on SIGTERM"]
    assert "h2: ignoring SIGTERM" in out


def test_a_host_that_is_not_there_is_an_error_before_anything_starts():
    with pytest.raises(ExecError, match=r"'s1' is not a host of LAN behind a switch and a router \(hosts: h1, "):
        run_programs(lan(), Program("h1", ["true"]), [Program("s1", ["true"], background=True)])
    with pytest.raises(ExecError, match="h1: cannot run no-such-program-here: No such file or directory"):
        run_programs(lan(), Program("h1", ["no-such-program-here"]), [])


def test_background_output_is_printed_by_whole_lines_with_the_host_in_front(capfd):
    writer = [sys.executable, "-S", "-c", "import sys; sys.stdout.write('one\\ntw'); sys.stdout.flush(); "
                                          "sys.stdout.write('o\\n' + 'x' * 70000); sys.stderr.write('oops\\nlast')"]
    result = run_programs(lan(), Program("h1", [sys.executable, "-S", "-c", "import time; time.sleep(1)"]),
                          [Program("h2", writer, background=True)], timeout_s=TIMEOUT_S)
    out, err = capfd.readouterr()
    assert result.status == 0
    lines = out.splitlines()
    assert lines[:2] == ["h2: one", "h2: two"]
    assert [len(line) for line in lines[2:]] == [4 + 70000]         # no newline at the end, still printed
    assert err.splitlines() == ["h2: oops", "h2: last"]
