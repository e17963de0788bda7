"""Shared helpers for the P4 tutorials' exercises run as tests: each test runs the experiment an exercise's
README describes, on the exercise's own topology.json and runtime JSON files, with its solution program, and
checks the outcome where the README does, often in the packets a host receives.

The exercises are in the corpus (../shared/corpus/tutorials/exercises, or under $DATAPLANE_CORPUS, found as
tests/conformance/corpus.py finds it); without it the tests skip. The tutorials' own scripts are not run: their
packets are built here as their send.py builds them with scapy (field for field: scapy's defaults are written
out), and sent from a host's packet socket as scapy's sendp() sends them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.corpus import corpus_dir
from dataplane.net.apps import PingAll, UdpFlow
from dataplane.net.network import Network
from dataplane.net.tutorial import load_tutorial_topology
from dataplane.protocols import packets as P
from dataplane.protocols.checksums import internet_checksum
from dataplane.protocols.dissect import Layer, dissect, find

EXERCISES = corpus_dir() / "tutorials" / "exercises"
S = 1_000_000_000
MS = 1_000_000
BROADCAST = 0xFFFF_FFFF_FFFF
# What the tutorials' send.py scripts send: UDP from port 1234 to 4321 (receive.py sniffs port 4321).
SEND_PY_SPORT, SEND_PY_DPORT = 1234, 4321


def requires(name: str) -> pytest.MarkDecorator:
    """Skip a test module when the exercise is not in the corpus."""
    return pytest.mark.skipif(not (EXERCISES / name).is_dir(),
                              reason=f"the P4 tutorials' exercise {name} is not at {EXERCISES / name}")


def exercise(name: str) -> Path:
    return EXERCISES / name


def solution(name: str) -> Path:
    return EXERCISES / name / "solution" / f"{name}.p4"


def network(name: str, topology: str = "topology.json", program: Path | None = None,
            programs: dict[str, Path] | None = None) -> Network:
    """The exercise's network: its topology.json with every switch running `program` (default: the solution,
    as `--program solution/NAME.p4` does), or the programs the topology picks (the exercise's own files) with
    `programs` given per switch."""
    path = str(exercise(name) / topology)
    if programs is not None:
        topo = load_tutorial_topology(path)
        for switch, source in programs.items():
            topo.nodes[switch].program = str(source)
    else:
        topo = load_tutorial_topology(path, program=str(program or solution(name)))
    return Network(topo)


def skeleton_hint(name: str, topology: str = "topology.json") -> list[str]:
    """What a run says about its programs when it is started as the exercise's Makefile starts it, from the
    exercise directory and without --program (so on the exercise's unfinished program)."""
    here = os.getcwd()
    os.chdir(exercise(name))
    try:
        return load_tutorial_topology(topology).notes
    finally:
        os.chdir(here)


def skeleton_note(program: str) -> str:
    return (f"note: {program} is the exercise's skeleton, left for you to complete; to run the finished program "
            f"add --program solution/{program}")


def pingall(net: Network) -> PingAll:
    """Mininet's pingall, run to its end."""
    app = PingAll(net).start(net.sim.now_ns)
    net.run(net.sim.now_ns + 60 * S)
    assert app.done
    return app


def reachable(app: PingAll) -> set[tuple[str, str]]:
    return {pair for pair, ok in app.answered.items() if ok}


@dataclass
class Received:
    time_ns: int
    frame: bytes

    @property
    def layers(self) -> list[Layer]:
        return dissect(self.frame)

    def layer(self, name: str) -> Layer:
        found = find(self.layers, name)
        assert found is not None, f"no {name} in {[l.name for l in self.layers]}"
        return found

    @property
    def tos(self) -> int:
        ip = self.layer("ipv4")
        return ip["dscp"] << 2 | ip["ecn"]

    def ipv4_header(self) -> bytes:
        ip = self.layer("ipv4")
        return self.frame[ip.offset:ip.offset + ip.length]


def capture(net: Network, host: str, dport: int | None = None) -> list[Received]:
    """Every frame `host` receives from now on (as receive.py sniffs eth0), only UDP or TCP to `dport` if given;
    the list fills as the run goes on."""
    got: list[Received] = []
    sim = net.sim

    def keep(port: int, frame: bytes) -> None:
        r = Received(sim.now_ns, frame)
        if dport is not None:
            transport = find(r.layers, "udp") or find(r.layers, "tcp")
            if transport is None or transport["dstPort"] != dport:
                return
        got.append(r)

    net.host(host).open_packet_socket(keep)
    return got


def host_mac_and_address(net: Network, host: str) -> tuple[int, int]:
    h = net.host(host)
    iface = next(iter(h.interfaces.values()))
    return iface.mac, int(iface.ipv4.ip)


def send_py_frame(net: Network, src: str, dst: str, payload: bytes, tos: int = 0, transport: str = "udp",
                  options: bytes = b"") -> bytes:
    """The frame a tutorials send.py builds: Ether(src=its MAC, dst=broadcast) / IP(dst, tos, options) /
    UDP(sport=1234, dport=4321) or scapy's TCP() / payload, with scapy's defaults (IP id 1, TTL 64; TCP from
    port 20 to 80, SYN, sequence 0, window 8192)."""
    mac, src_ip = host_mac_and_address(net, src)
    dst_ip = P.ip4(dst)
    if transport == "udp":
        segment = P.udp(src_ip, dst_ip, SEND_PY_SPORT, SEND_PY_DPORT, payload)
        proto = 17
    else:
        segment = P.tcp(src_ip, dst_ip, 20, 80, 0, 0, "syn", window=8192, payload=payload)
        proto = 6
    datagram = P.ipv4(src_ip, dst_ip, proto, segment, ident=1, dscp=tos >> 2, ecn=tos & 3, options=options)
    return P.ethernet(BROADCAST, mac, P.ETH_IPV4, datagram)


def send_every_second(net: Network, host: str, frame: bytes, count: int, start_ns: int = 0) -> None:
    """What send.py's loop does: sendp(pkt) and sleep(1), `count` times."""
    h = net.host(host)
    port = next(iter(h.interfaces))
    for i in range(count):
        net.sim.at(start_ns + i * S, h.send_frame, port, frame)


def iperf_udp(net: Network, src: str, dst: str, seconds: int, start_ns: int = 0) -> UdpFlow:
    """`iperf -c DST -u -t SECONDS`: 1470-byte datagrams at iperf's default 1 Mbit/s."""
    size, rate = 1470, 1_000_000
    interval = size * 8 * S // rate
    return UdpFlow(net, src, dst, port=5001, count=seconds * S // interval, size=size,
                   interval_ns=interval).start(start_ns)


def checksum_ok(r: Received) -> bool:
    return internet_checksum(r.ipv4_header()) == 0


def runs(values: list) -> list:
    """Consecutive equal values collapsed: [1, 1, 3, 3, 1] -> [1, 3, 1]."""
    out = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return out
