"""Shared helpers for the end-to-end topology tests: run a topology, keep every frame each link carried.

    run = shipped_run("line", tmp_path_factory)     # once per test session, with pcaps
    run.frames_on("r2-r3")                          # [Capture(time_ns, link, sender, frame), ...]
    run.app(Ping, 2)                                # the third Ping of the traffic section

A shipped topology is built and run once per session (routers-500 takes
seconds to build); tests that change the network or its traffic build their
own with `run_topology`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dataplane.net.network import Network, Summary
from dataplane.net.topology import Topology, load_topology

REPO = Path(__file__).resolve().parents[2]
TOPOLOGY_DIR = REPO / "topologies"
S = 1_000_000_000
MS = 1_000_000


def topology_files() -> list[Path]:
    """Every shipped topology file: a new file in topologies/ is picked up without touching the tests."""
    return sorted(TOPOLOGY_DIR.glob("*.yaml"))


def topology_names() -> list[str]:
    return [p.stem for p in topology_files()]


@dataclass
class Capture:
    time_ns: int
    link: str
    sender: str            # the node that put the frame on the link
    frame: bytes


@dataclass
class Run:
    topo: Topology
    net: Network
    apps: list
    summary: Summary
    pcap_dir: Path | None
    captures: list[Capture] = field(default_factory=list)
    pcap_counts: dict[str, int] = field(default_factory=dict)     # link name -> frames written

    def frames_on(self, link: str, sender: str | None = None) -> list[Capture]:
        assert link in self.net.links, f"no link {link!r} in {sorted(self.net.links)}"
        return [c for c in self.captures if c.link == link and (sender is None or c.sender == sender)]

    def apps_of(self, cls) -> list:
        return [a for a in self.apps if type(a) is cls]

    def app(self, cls, index: int = 0):
        return self.apps_of(cls)[index]

    def output(self) -> str:
        return "\n\n".join(a.render() for a in self.apps)

    def drops(self, reason: str | None = None, node: str | None = None) -> list:
        return [d for d in self.net.sim.ledger.drops
                if (reason is None or d.reason.name.lower() == reason) and (node is None or d.node == node)]


def run_topology(topo: Topology, pcap_dir: Path | str | None = None, until_ns: int | None = None,
                 capture: bool = True) -> Run:
    """Build the network, run its traffic section until idle (or until_ns), close the pcaps."""
    net = Network(topo, pcap_dir=str(pcap_dir) if pcap_dir is not None else None)
    captures: list[Capture] = []
    if capture:
        for link in net.links.values():
            link.observers.append(
                lambda lk, end, frame: captures.append(Capture(net.sim.now_ns, lk.name, end.node.name, frame)))
    apps = net.schedule_traffic()
    net.run(until_ns)
    counts = {name: link.pcap.count for name, link in net.links.items() if link.pcap is not None}
    net.close()
    return Run(topo, net, apps, net.summary(), Path(pcap_dir) if pcap_dir is not None else None, captures, counts)


_RUNS: dict[str, Run] = {}


def shipped_run(name: str, tmp_path_factory) -> Run:
    """The shipped topology `name`, run once per session with pcaps and captures (do not modify it)."""
    if name not in _RUNS:
        pcaps = tmp_path_factory.mktemp(f"pcap-{name}")
        _RUNS[name] = run_topology(load_topology(str(TOPOLOGY_DIR / f"{name}.yaml")), pcaps)
    return _RUNS[name]


def run_with_timeout(fn, seconds: float):
    """fn() in a daemon thread; fails (instead of hanging the suite) when it does not return in time."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:         # re-raised in the test's thread
            result["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s: a hang"
    if "error" in result:
        raise result["error"]
    return result["value"]


# ---------------------------------------------------------------------------- output formats

PING_HEAD4 = re.compile(r"^PING (\S+) \(\1\) (\d+)\((\d+)\) bytes of data\.$")
PING_HEAD6 = re.compile(r"^PING (\S+)\(\1\) (\d+) data bytes$")
PING_REPLY = re.compile(r"^(\d+) bytes from (\S+): icmp_seq=(\d+) ttl=(\d+) time=(\d+(?:\.\d+)?) ms( \(DUP!\))?$")
PING_STATS = re.compile(r"^(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?, "
                        r"(\d+)% packet loss, time (\d+)ms$")
PING_RTT = re.compile(r"^rtt min/avg/max/mdev = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms$")
TRACE_HEAD = re.compile(r"^traceroute to (\S+) \(\1\), (\d+) hops max, (\d+) byte packets$")
# A probe answered by another router than the one before it (ECMP) names it before its time, as Linux's does.
TRACE_HOP = re.compile(r"^([ \d]\d)  (\S+) \((\S+)\)((?:(?: \S+ \(\S+\))?  \d+\.\d{3} ms(?: ![A-Z<>0-9]+)?){1,3})$")


@dataclass
class PingReport:
    dst: str
    size: int
    replies: list[tuple[int, str, int, int, float]]     # (bytes, from, seq, ttl, ms)
    errors: list[str]                                  # lines that are not replies
    transmitted: int
    received: int
    error_count: int
    loss: int
    rtt: tuple | None


def parse_ping(text: str) -> PingReport:
    """Check iputils' layout line by line and return what it says; any line out of place fails."""
    lines = text.split("\n")
    m = PING_HEAD4.match(lines[0]) or PING_HEAD6.match(lines[0])
    assert m, f"ping header: {lines[0]!r}"
    dst, size = m.group(1), int(m.group(2))
    if m.re is PING_HEAD4:
        assert int(m.group(3)) == size + 28
    i = 1
    replies, errors = [], []
    while lines[i] != "":
        r = PING_REPLY.match(lines[i])
        if r:
            assert r.group(2) == dst, lines[i]
            replies.append((int(r.group(1)), r.group(2), int(r.group(3)), int(r.group(4)), float(r.group(5))))
        else:
            assert lines[i].startswith(("From ", "ping: ")), f"unexpected ping line {lines[i]!r}"
            errors.append(lines[i])
        i += 1
    assert lines[i + 1] == f"--- {dst} ping statistics ---", lines[i + 1]
    s = PING_STATS.match(lines[i + 2])
    assert s, f"ping statistics: {lines[i + 2]!r}"
    tx, rx = int(s.group(1)), int(s.group(2))
    assert int(s.group(5)) == (round(100 * (tx - rx) / tx) if tx else 0)
    rtt = None
    rest = lines[i + 3:]
    if rx:
        assert len(rest) == 1, rest
        r = PING_RTT.match(rest[0])
        assert r, f"rtt line: {rest[0]!r}"
        rtt = tuple(float(x) for x in r.groups())
        assert rtt[0] <= rtt[1] <= rtt[2]
    else:
        assert rest == [], rest
    return PingReport(dst, size, replies, errors, tx, rx, int(s.group(4) or 0), int(s.group(5)), rtt)


@dataclass
class TraceReport:
    dst: str
    max_hops: int
    packet_size: int
    hops: list[tuple[int, str, str, list[float]]]     # (ttl, name, address, [ms, ...]): the first responder
    responders: list[list[tuple[str, str]]] = field(default_factory=list)    # per hop, every (name, address)


def parse_traceroute(text: str) -> TraceReport:
    lines = text.split("\n")
    m = TRACE_HEAD.match(lines[0])
    assert m, f"traceroute header: {lines[0]!r}"
    hops, responders = [], []
    for n, line in enumerate(lines[1:], 1):
        h = TRACE_HOP.match(line)
        assert h, f"traceroute hop line: {line!r}"
        assert int(h.group(1)) == n, line
        times = [float(t) for t in re.findall(r"(\d+\.\d{3}) ms", h.group(4))]
        hops.append((n, h.group(2), h.group(3), times))
        responders.append([(h.group(2), h.group(3))] + re.findall(r" (\S+) \((\S+)\)", h.group(4)))
    return TraceReport(m.group(1), int(m.group(2)), int(m.group(3)), hops, responders)


def transfer_states(render: str, end: str) -> list[str]:
    """The state sequence of one end ('client' or 'server') of a rendered TCP or SCTP transfer."""
    line = next(l for l in render.split("\n") if l.strip().startswith(f"{end}:"))
    return line.split(":", 1)[1].split("(")[0].strip().split(" -> ")


# Three switches in a triangle: an L2 loop. The first broadcast (h1's ARP request) circles for ever, so
# the run must stop at max_frames and say so.
STORM = """\
name: switching loop
max_frames: 20000
defaults:
  link: {latency: 10us, bandwidth: 1Gbps}
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
  s1: {kind: switch, interfaces: {p1: {}, p2: {}, p3: {}}}
  s2: {kind: switch, interfaces: {p1: {}, p2: {}, p3: {}}}
  s3: {kind: switch, interfaces: {p1: {}, p2: {}}}
links:
  - [h1:eth0, s1:p1]
  - [h2:eth0, s2:p1]
  - [s1:p2, s2:p2]
  - [s2:p3, s3:p1]
  - [s3:p2, s1:p3]
traffic:
  - {at: 0s, ping: {from: h1, to: h2, count: 1}}
"""
