"""Applications that run on simulated hosts: ping, traceroute, UDP flows, TCP and SCTP exchanges.

Each one is started at a simulated time, runs on its host's stack, and
writes what the real tool would print (iputils ping, Linux traceroute) with
simulated round-trip times. `lines` grows as the run goes on; `render()`
adds the closing statistics. Each line is also told to the simulator's
watchers when it is printed, so that a trace shows it at its time, among
the packets; `closing()` is then what is left for the end.
"""

from __future__ import annotations

import math
import struct
from typing import Callable

from ..protocols import packets as P
from . import appdata
from .host.stack import Host, IcmpNotice

S = 1_000_000_000
MS = 1_000_000

def _next_ident(host: Host) -> int:
    """Identifiers unique per host (like the process ids real pings use), the same in every run."""
    host.app_ident += 1
    return host.app_ident & 0xFFFF


def fmt_rtt(ns: int) -> str:
    """An RTT in milliseconds with iputils' precision: 0.045, 4.08, 12.3, 123."""
    us = ns / 1000
    if us >= 100_000 - 50:
        return f"{us / 1000:.0f}"
    if us >= 10_000 - 5:
        return f"{us / 1000:.1f}"
    if us >= 1000:
        return f"{us / 1000:.2f}"
    return f"{us / 1000:.3f}"


def _addr(v: int, v6: bool) -> str:
    return P.ip6_str(v) if v6 else P.ip4_str(v)


# ICMP errors as iputils words them.
V4_ERRORS = {(3, 0): "Destination Net Unreachable", (3, 1): "Destination Host Unreachable",
             (3, 2): "Destination Protocol Unreachable", (3, 3): "Destination Port Unreachable",
             (3, 4): "Frag needed and DF set (mtu = {mtu})", (3, 13): "Packet filtered",
             (11, 0): "Time to live exceeded", (11, 1): "Frag reassembly time exceeded",
             (12, 0): "Parameter problem"}
V6_ERRORS = {(1, 0): "Destination unreachable: No route", (1, 1): "Destination unreachable: Administratively prohibited",
             (1, 3): "Destination unreachable: Address unreachable", (1, 4): "Destination unreachable: Port unreachable",
             (2, 0): "Packet too big: mtu={mtu}", (3, 0): "Time exceeded: Hop limit",
             (3, 1): "Time exceeded: Defragmentation failure", (4, 0): "Parameter problem: Wrong header field",
             (4, 1): "Parameter problem: Unknown header", (4, 2): "Parameter problem: Unknown option"}


def error_text(n: IcmpNotice) -> str:
    table = V6_ERRORS if n.v6 else V4_ERRORS
    text = table.get((n.type, n.code), f"Bad ICMP type {n.type} code {n.code}")
    mtu = n.body if n.v6 else n.body & 0xFFFF
    return text.format(mtu=mtu)


def quoted_transport(n: IcmpNotice) -> tuple[int, bytes] | None:
    """(protocol, transport bytes) of the datagram an ICMP error quotes."""
    d = n.data
    if n.v6:
        if len(d) < 40:
            return None
        nh, off = d[6], 40
        while nh in (0, 43, 60, 44) and len(d) >= off + 8:
            nh, off = d[off], off + (8 if nh == 44 else 8 * (d[off + 1] + 1))
        return nh, d[off:]
    if len(d) < 20:
        return None
    return d[9], d[(d[0] & 0xF) * 4:]


class Transcript(list):
    """An application's printed lines. A line appended is also told to the simulator's watchers, as
    ("app_line", app, text), so that a trace shows it at the simulated time it was printed."""

    def __init__(self, app: "App"):
        super().__init__()
        self.app = app

    def append(self, text: str) -> None:
        super().append(text)
        sim = self.app.sim
        if sim.watchers:
            sim.notify("app_line", self.app, text)

    def extend(self, texts) -> None:
        for text in texts:
            self.append(text)


class App:
    """Something that runs on a host: started once, writes lines; render() is what the tool would print."""

    name = "app"

    def __init__(self, net, host: str):
        self.net = net
        self.host: Host = net.host(host)
        self.sim = net.sim
        self.lines: list[str] = Transcript(self)
        self.done = False
        self.started = False
        self.start_ns: int | None = None

    def start(self, at_ns: int = 0) -> "App":
        self.start_ns = max(at_ns, self.sim.now_ns)
        self.sim.at(self.start_ns, self._started)
        return self

    def _started(self) -> None:
        self.started = True
        self._begin()

    def _begin(self) -> None:
        raise NotImplementedError

    def render(self) -> str:
        if not self.started:
            when = "" if self.start_ns is None else f" (due at {self.start_ns / S:.3f} s)"
            return f"{self.name} on {self.host.name}: not started, the run stopped first{when}"
        return self.report()

    def report(self) -> str:
        return "\n".join(self.lines)

    def announce(self, text: str) -> None:
        """An event worth seeing among the packets of a trace, that the tool itself does not print."""
        if self.sim.watchers:
            self.sim.notify("app_line", self, text)

    def closing(self) -> str:
        """What render() prints after the lines a trace already showed at their times: the statistics."""
        text = self.render()
        if not self.started or not self.lines:
            return text
        shown = "\n".join(self.lines)
        if text == shown:
            return ""
        if text.startswith(shown + "\n"):
            return text[len(shown) + 1:].lstrip("\n")
        return text


class Ping(App):
    """ping(8): echo requests every `interval`, one line per reply or error, then statistics."""

    name = "ping"

    def __init__(self, net, src: str, dst: str, count: int = 4, size: int = 56, interval_ns: int = S,
                 df: bool = False, v6: bool = False, ttl: int | None = None, timeout_ns: int = 2 * S,
                 on_done: Callable[["Ping"], None] | None = None):
        super().__init__(net, src)
        # Called when the ping ends; with it, the ping also ends as soon as every request was answered
        # (ping -c N -W T does), instead of waiting out the timeout after the last request.
        self.on_done = on_done
        self._finish_timer = None
        self.v6 = v6
        self.dst = net.address(dst, v6)
        self.count, self.size, self.interval, self.df, self.ttl = count, size, interval_ns, df, ttl
        self.timeout = timeout_ns
        self.ident = _next_ident(self.host)
        self.sent: dict[int, int] = {}          # seq -> time sent
        self.rtts: list[int] = []
        self.received: set[int] = set()
        self.errors = 0
        self.duplicates = 0
        self.first_ns = self.last_ns = 0
        self.local_error = None

    def _begin(self) -> None:
        dst = _addr(self.dst, self.v6)
        if self.v6:
            self.lines.append(f"PING {dst}({dst}) {self.size} data bytes")
        else:
            self.lines.append(f"PING {dst} ({dst}) {self.size}({self.size + 28}) bytes of data.")
        self.host.icmp_listeners.append(self._icmp)
        self.first_ns = self.sim.now_ns
        self._send(1)

    def _payload(self, seq: int) -> bytes:
        # iputils puts a timestamp in the first 16 bytes; we fill with the pattern it uses after it.
        return bytes((i & 0xFF) for i in range(self.size))

    def _send(self, seq: int) -> None:
        self.last_ns = self.sim.now_ns
        body = (self.ident << 16) | seq
        h = self.host
        if self.v6:
            r = h.route6(self.dst)
            src = h.source6(r[0], self.dst) if r else 0
            err = h.send_ipv6(self.dst, P.IP_ICMPV6, P.icmpv6(src, self.dst, 128, 0, body, self._payload(seq)),
                              hop_limit=self.ttl, src=src)
        else:
            err = h.send_ipv4(self.dst, P.IP_ICMP, P.icmp(8, 0, body, self._payload(seq)), ttl=self.ttl, df=self.df)
        self.sent[seq] = self.sim.now_ns
        if err is not None:
            self.lines.append(f"ping: local error: {err}" if "message too long" not in err else
                              f"ping: local error: message too long, mtu={err.split()[-1].rstrip(')')}")
            self.errors += 1
        if seq < self.count:
            self.sim.schedule(self.interval, self._send, seq + 1)
        else:
            self._finish_timer = self.sim.schedule(self.timeout, self._finish)

    def _icmp(self, n: IcmpNotice) -> None:
        if self.done:
            return
        reply = 129 if self.v6 else 0
        if n.v6 != self.v6:
            return
        if n.type == reply:
            if n.body >> 16 != self.ident or n.src != self.dst:
                return
            seq = n.body & 0xFFFF
            if seq not in self.sent:
                return
            rtt = n.time_ns - self.sent[seq]
            dup = seq in self.received
            if dup:
                self.duplicates += 1
            else:
                self.received.add(seq)
                self.rtts.append(rtt)
            size = len(n.data) + 8
            self.lines.append(f"{size} bytes from {_addr(n.src, self.v6)}: icmp_seq={seq} ttl={n.ttl} "
                              f"time={fmt_rtt(rtt)} ms" + (" (DUP!)" if dup else ""))
            if self.on_done is not None and len(self.received) == self.count:
                self.sim.cancel(self._finish_timer)
                self._finish()
            return
        is_error = n.type < 128 if n.v6 else n.type in (3, 4, 5, 11, 12)
        if not is_error:
            return
        q = quoted_transport(n)
        request = 128 if self.v6 else 8
        if q is None or q[0] != (P.IP_ICMPV6 if self.v6 else P.IP_ICMP) or len(q[1]) < 8 or q[1][0] != request:
            return
        if int.from_bytes(q[1][4:6], "big") != self.ident:
            return
        seq = int.from_bytes(q[1][6:8], "big")
        self.errors += 1
        self.lines.append(f"From {_addr(n.src, self.v6)} icmp_seq={seq} {error_text(n)}")

    def _finish(self) -> None:
        self.done = True
        if self._icmp in self.host.icmp_listeners:
            self.host.icmp_listeners.remove(self._icmp)
        if self.on_done is not None:
            self.on_done(self)

    @property
    def transmitted(self) -> int:
        return len(self.sent)

    def report(self) -> str:
        out = list(self.lines)
        n, r = self.transmitted, len(self.received)
        loss = 0 if n == 0 else round(100 * (n - r) / n)
        out.append("")
        out.append(f"--- {_addr(self.dst, self.v6)} ping statistics ---")
        parts = [f"{n} packets transmitted", f"{r} received"]
        if self.duplicates:
            parts.append(f"+{self.duplicates} duplicates")
        if self.errors:
            parts.append(f"+{self.errors} errors")
        parts.append(f"{loss}% packet loss")
        parts.append(f"time {round((self.last_ns - self.first_ns) / MS)}ms")
        out.append(", ".join(parts))
        if self.rtts:
            ms = [t / MS for t in self.rtts]
            avg = sum(ms) / len(ms)
            mdev = math.sqrt(max(0.0, sum(x * x for x in ms) / len(ms) - avg * avg))
            out.append(f"rtt min/avg/max/mdev = {min(ms):.3f}/{avg:.3f}/{max(ms):.3f}/{mdev:.3f} ms")
        return "\n".join(out)


class PingAll(App):
    """Mininet's pingall: every host pings every other host once, one ping at a time (Mininet runs
    `ping -c1 -W1` for each pair in turn), and the result is printed as Mininet prints it: one line per
    host with the hosts that answered and X for those that did not, then the share dropped."""

    name = "pingall"

    def __init__(self, net, v6: bool = False, timeout_ns: int = S):
        hosts = list(net.hosts)
        if not hosts:
            raise ValueError(f"{net.topo.name} has no hosts to ping")
        super().__init__(net, hosts[0])
        self.v6, self.timeout = v6, timeout_ns
        self.pairs = [(a, b) for a in hosts for b in hosts if a != b]
        self.answered: dict[tuple[str, str], bool] = {}

    def _begin(self) -> None:
        self._next(0)

    def _next(self, i: int) -> None:
        if i == len(self.pairs):
            self.done = True
            return
        src, dst = self.pairs[i]
        try:
            ping = Ping(self.net, src, dst, count=1, v6=self.v6, timeout_ns=self.timeout,
                        on_done=lambda p: self._answer(i, bool(p.received)))
        except ValueError:                      # dst has no address of the family: nothing to ping
            self._answer(i, False)
            return
        ping.start(self.sim.now_ns)

    def _answer(self, i: int, ok: bool) -> None:
        self.answered[self.pairs[i]] = ok
        self.sim.schedule(0, self._next, i + 1)

    @property
    def received(self) -> int:
        return sum(self.answered.values())

    def report(self) -> str:
        out = ["*** Ping: testing ping reachability"]
        for host in self.net.hosts:
            row = [dst if self.answered.get((src, dst)) else "X" for src, dst in self.pairs if src == host]
            out.append(f"{host} -> {' '.join(row)}".rstrip())
        sent = len(self.pairs)
        if not self.done:
            out.append(f"*** the run stopped after {len(self.answered)} of {sent} pings")
        dropped = int(100 * (sent - self.received) / sent) if sent else 0
        out.append(f"*** Results: {dropped}% dropped ({self.received}/{sent} received)")
        return "\n".join(out)


class Traceroute(App):
    """traceroute(8) with UDP probes: TTL 1, 2, ... until the destination answers Port Unreachable (R7)."""

    BASE_PORT = 33434
    name = "traceroute"

    def __init__(self, net, src: str, dst: str, v6: bool = False, max_hops: int = 30, queries: int = 3,
                 wait_ns: int = 5 * S):
        super().__init__(net, src)
        self.v6 = v6
        self.dst = net.address(dst, v6)
        self.max_hops, self.queries, self.wait = max_hops, queries, wait_ns
        self.sport = 0x8000 + _next_ident(self.host) % 0x7000
        self.hops: list[list[tuple[int | None, int | None, str]]] = []     # per hop: (addr, rtt, flag)
        self.reached = False
        self.probe = 0
        self.ttl = 0
        self.timer = None
        self.sent_at = 0
        self.current: list = []

    def _begin(self) -> None:
        size = 80 if self.v6 else 60
        dst = _addr(self.dst, self.v6)
        self.lines.append(f"traceroute to {dst} ({dst}), {self.max_hops} hops max, {size} byte packets")
        self.host.icmp_listeners.append(self._icmp)
        self._next_hop()

    def _next_hop(self) -> None:
        if self.ttl:
            self._print_hop()
        if self.reached or self.ttl >= self.max_hops:
            self._finish()
            return
        self.ttl += 1
        self.current = []
        self.hops.append(self.current)
        self._send_probe()

    def _send_probe(self) -> None:
        self.probe += 1
        data = bytes(52 if self.v6 else 32)
        self.sent_at = self.sim.now_ns
        self.host.udp_send(self.dst, self.sport, self.BASE_PORT + self.probe - 1, data, v6=self.v6, ttl=self.ttl)
        self.timer = self.sim.schedule(self.wait, self._answer, None, None, "*")

    def _answer(self, addr, rtt, flag) -> None:
        self.sim.cancel(self.timer)
        self.current.append((addr, rtt, flag))
        if len(self.current) < self.queries:
            self._send_probe()
        else:
            self._next_hop()

    def _icmp(self, n: IcmpNotice) -> None:
        if self.done or n.v6 != self.v6:
            return
        q = quoted_transport(n)
        if q is None or q[0] != P.IP_UDP or len(q[1]) < 4:
            return
        sport, dport = int.from_bytes(q[1][0:2], "big"), int.from_bytes(q[1][2:4], "big")
        if sport != self.sport or dport != self.BASE_PORT + self.probe - 1:
            return
        rtt = n.time_ns - self.sent_at
        flag = ""
        if self.v6:
            if n.type == 1:
                flag = {0: "!N", 1: "!X", 3: "!H", 4: ""}.get(n.code, f"!<{n.code}>")
                self.reached = self.reached or n.code == 4 or n.src == self.dst
        else:
            if n.type == 3:
                flag = {0: "!N", 1: "!H", 2: "!P", 3: "", 4: "!F", 13: "!X"}.get(n.code, f"!<{n.code}>")
                self.reached = True
        if n.src == self.dst:
            self.reached = True
        self._answer(n.src, rtt, flag)

    def _print_hop(self) -> None:
        parts = [f"{self.ttl:2d} "]
        last = None
        for addr, rtt, flag in self.current:
            if addr is None:
                parts.append(" *")
                continue
            if addr != last:
                name = self.net.name_of(addr, self.v6)
                a = _addr(addr, self.v6)
                parts.append(f" {name or a} ({a})")
                last = addr
            parts.append(f"  {rtt / MS:.3f} ms" + (f" {flag}" if flag else ""))
        self.lines.append("".join(parts))

    def _finish(self) -> None:
        self.done = True
        if self._icmp in self.host.icmp_listeners:
            self.host.icmp_listeners.remove(self._icmp)


# The sequence number that starts a datagram of a UDP flow's test pattern (a 32-bit big-endian number).
_SEQUENCE = struct.Struct("!I").unpack_from


class UdpFlow(App):
    """`count` datagrams of `size` bytes from src to dst:port, one every `interval`; counts what arrives."""

    name = "udp"

    def __init__(self, net, src: str, dst: str, port: int = appdata.DEFAULT_PORT["udp"], count: int = 10,
                 size: int = 512, interval_ns: int = MS, v6: bool = False):
        super().__init__(net, src)
        self.v6 = v6
        self.dst_name = dst
        self.dst = net.address(dst, v6)
        self.port, self.count, self.size, self.interval = port, count, size, interval_ns
        self.sport = 40000 + _next_ident(self.host) % 20000
        self.sent = 0
        self.received: list[tuple[int, int]] = []      # (seq, one-way latency)
        self.sent_at: dict[int, int] = {}
        self.receiver = net.hosts.get(dst) if dst in net.hosts else None
        if self.receiver is None:
            name = net.name_of(self.dst, v6)
            self.receiver = net.hosts.get(name) if name else None
        # The port's application messages (DNS queries to port 53, answered), or None: the test pattern.
        self.messages = appdata.datagrams(port, appdata.Zone.of(net, self.receiver and self.receiver.name), v6,
                                          max(self.size, 4)) if port in appdata.UDP else None
        self.answered = 0
        # The test pattern: the sequence number, then zeros up to the size, made with one pack. The zeros add
        # nothing to the UDP checksum: a datagram's data sums to its sequence number (two 16-bit words), which
        # the host then need not work out again for every datagram.
        self._pattern = struct.Struct(f"!I{max(0, self.size - 4)}x").pack
        # _send as a bound method made once: the simulator calls it for every datagram (loading self._send
        # makes a new one each time, and CPython 3.11 never specializes that load).
        self._send_next = self._send

    def _begin(self) -> None:
        if self.receiver is not None:
            # (the test pattern's datagrams are counted, not answered: the packet is not read)
            self.receiver.udp_bind(self.port, self._rx, packet=self.messages is not None)
        if self.messages is not None:
            self.host.udp_bind(self.sport, self._answer)
        self._send()

    def _send(self) -> None:
        seq = self.sent = self.sent + 1
        sim = self.sim
        self.sent_at[seq] = sim.now_ns
        if self.messages is not None:
            data, data_sum = self.messages.datagram(seq), None
        else:
            pattern = self._pattern             # (called as self._pattern(seq), it is looked up unspecialized)
            data, data_sum = pattern(seq), seq
        # Positional (v6, ttl None, df False, data_sum): CPython 3.11 never specializes a call with keywords.
        err = self.host.udp_send(self.dst, self.sport, self.port, data, self.v6, None, False, data_sum)
        if err is not None:
            self.lines.append(f"udp: send {seq}: {err}")
        if seq < self.count:
            sim.schedule(self.interval, self._send_next)
        else:
            self.done = True

    def _rx(self, pkt, sport: int, dport: int, data: bytes) -> None:
        if sport != self.sport or len(data) < 4:
            return
        messages = self.messages
        seq = _SEQUENCE(data)[0] if messages is None else messages.sequence(data, self.sent)
        sent_at = self.sent_at.get(seq)
        if sent_at is not None:
            self.received.append((seq, self.sim.now_ns - sent_at))
        if messages is not None:           # (the test pattern has nothing to answer)
            self.reply(self.receiver, pkt, sport, dport, data)

    def reply(self, server: Host | None, pkt, sport: int, dport: int, data: bytes) -> None:
        """The server's answer to a request (a DNS query to port 53), back to where it came from."""
        answer = self.messages.answer(data) if self.messages is not None and server is not None else None
        if answer is not None:
            server.udp_send(pkt.src, dport, sport, answer, v6=pkt.v6)

    def _answer(self, pkt, sport: int, dport: int, data: bytes) -> None:
        self.answered += 1

    def report(self) -> str:
        src = _addr(self.host.primary_address(self.v6) or 0, self.v6)
        head = f"udp {self.host.name} ({src}) -> {_addr(self.dst, self.v6)} port {self.port}: " \
               f"{self.sent} datagrams of {self.size} bytes sent, {len(self.received)} received, " \
               f"{self.sent - len(self.received)} lost" + (f", {self.answered} answered" if self.messages else "")
        out = list(self.lines) + [head]
        if self.received:
            lat = [t / MS for _, t in self.received]
            out.append(f"one-way latency min/avg/max = {min(lat):.3f}/{sum(lat) / len(lat):.3f}/{max(lat):.3f} ms")
        return "\n".join(out)


def start_traffic(net, specs) -> list[App]:
    """Create and start the applications of a `traffic:` section (validated by the topology loader)."""
    makers = {"ping": lambda p: Ping(net, p["from"], p["to"], v6=p.get("ipv6", False), df=p.get("df", False),
                                     **_pick(p, count="count", size="size", ttl="ttl", interval_ns="interval")),
              "traceroute": lambda p: Traceroute(net, p["from"], p["to"], v6=p.get("ipv6", False),
                                                 **_pick(p, max_hops="max_hops", queries="queries")),
              "udp": lambda p: UdpFlow(net, p["from"], p["to"], v6=p.get("ipv6", False),
                                       **_pick(p, port="port", count="count", size="size", interval_ns="interval")),
              "tcp": lambda p: _transfers().TcpTransfer(net, p["from"], p["to"], v6=p.get("ipv6", False),
                                                        **_pick(p, port="port", nbytes="bytes", cc="cc", nodelay="nodelay",
                                                                ecn="ecn", sack="sack", wscale="wscale",
                                                                timestamps="timestamps")),
              "sctp": lambda p: _transfers().SctpTransfer(net, p["from"], p["to"], v6=p.get("ipv6", False),
                                                          **_pick(p, port="port", messages="messages", size="size"))}
    makers["pingall"] = lambda p: PingAll(net, v6=p.get("ipv6", False))
    if any(t.kind == "pattern" for t in specs):
        from .patterns import PatternApp
        makers["pattern"] = lambda t: PatternApp(net, t.params, t.path)
    makers.update(_floods().makers(net))
    if any(t.kind == "send" for t in specs):
        from . import craft
        # Custom frames come back as custom frames: every host prints what its stack does not take.
        craft.listen(net)
        makers["send"] = lambda t: craft.make_sender(net, t.params, t.path, t.positions)
    whole_item = ("send", "pattern")             # these need the item's place, not only its parameters
    apps = []
    for t in specs:
        try:
            apps.append((makers[t.kind](t) if t.kind in whole_item else makers[t.kind](t.params)).start(t.at_ns))
        except appdata.TooSmall as exc:
            raise _too_small(net, t, exc) from None
    return apps


def _too_small(net, item, exc: appdata.TooSmall):
    """A located error for a size too small for the messages of the item's port (an HTTP request to 80)."""
    from ..diagnostics import error
    positions = item.positions if item.positions is not None else net.topo.positions
    if positions is None:
        return error(f"{net.topo.path}: {exc}")
    key = "bytes" if item.kind == "tcp" else "size"
    port = item.params.get("port")
    return error(f"{'this port' if port is None else f'port {port}'} carries {exc.what}, which takes at least "
                 f"{exc.smallest} bytes: ask for as many or more, or use another port",
                 positions.span(item.path + (item.kind, key)))


def _pick(params: dict, **names) -> dict:
    """Keyword arguments from the traffic item's keys that are present (argument=key)."""
    return {arg: params[key] for arg, key in names.items() if key in params}


def _transfers():
    from . import transfers
    return transfers


def _floods():
    from . import floods
    return floods
