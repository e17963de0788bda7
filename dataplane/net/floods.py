"""Floods, for lessons on the state a host keeps for strangers and how it is bounded.

A flood is an application (apps.App) that sends `count` packets at `rate`
per second from its host, one event per packet. Its packets are built with
the protocol library (dataplane/protocols) and handed to the host's IP
output, as a raw socket would hand them, so they do not go through the
sender's own TCP or reassembly state. Its report says what was sent and
what the target kept, with the bound that held it:

syn_flood: {from, to, port, count, rate, spoof, ipv6}
    TCP SYNs to `to`:`port`, which listens there (the same listener as a
    `tcp` transfer to that port). With `spoof: true` each SYN comes from a
    random global unicast address outside the topology (drawn from a
    generator seeded with the topology's seed, so every run is the same) and
    a random port: the SYN,ACKs go to addresses nobody answers for and are
    dropped on the way with a reason, and the target's SYN queue fills with
    half-open connections (RFC 4987 section 2). The listener keeps at most
    its SYN backlog in SYN-RECEIVED and answers the rest with SYN cookies
    (RFC 4987 3.6), so a legitimate client still connects. Without spoof the
    SYNs come from the host's own address with a new port each; its stack
    answers the SYN,ACKs with resets (R31), which free the target's queue.

frag_flood: {from, to, count, rate, size, ipv6}
    Incomplete fragment trains: each is an echo request with `size` data
    bytes (as `ping -s size` sends, 8 + size bytes of ICMP or ICMPv6), cut
    for the sending interface's MTU into at least two fragments, of which
    every fragment but the last is sent. The target holds each train until
    its reassembly timer fires (60 s; then Time Exceeded 11/1 goes back, as
    the first fragment came), unless its reassembly memory (4 MB, Linux's
    ipfrag_high_thresh) is full first: then the least recently used train is
    evicted, without ICMP, so that datagrams whose fragments all come still
    get through (reassembly.py, "Limits").

Every SYN and fragment sent is counted in `sent` (or, refused by the
host's IP output, in `refused` with the reason); what becomes of it is in
the run's ledger like any other packet.
"""

from __future__ import annotations

import ipaddress
import random

from ..protocols import packets as P
from .apps import S, App, _addr, _next_ident

# The first spoofed sources a SYN flood used, kept for its report and for tests (not all: a flood is long).
SOURCES_KEPT = 1024
# The SYNs carry an MSS option, as a stack's SYNs do (RFC 9293 3.7.1): the interface MTU minus the headers.
_TCP_IP_HEADERS = {False: 40, True: 60}


def _own_address(host, dst: int, v6: bool) -> int | None:
    """The source address the host's routing would choose for dst."""
    r = host.route6(dst) if v6 else host.route4(dst)
    if r is None:
        return None
    return host.source6(r[0], dst) if v6 else int(r[0].ipv4.ip)


class _Flood(App):
    """`count` packets at `rate` per second; subclasses build and send each one (`_send_one`)."""

    kind = ""

    def __init__(self, net, src: str, dst: str, count: int, rate: int, v6: bool):
        super().__init__(net, src)
        self.v6 = v6
        self.dst = net.address(dst, v6)
        name = dst if dst in net.hosts else net.name_of(self.dst, v6)
        self.target = net.hosts.get(name) if name else None
        self.count, self.rate = count, rate
        self.interval_ns = max(1, round(S / rate))
        self.sent = 0
        self.refused: dict[str, int] = {}        # why the host's IP output refused a packet -> how many
        self.first_ns = self.last_ns = 0

    def _begin(self) -> None:
        self.first_ns = self.sim.now_ns
        self._prepare()
        self._tick()

    def _prepare(self) -> None:
        """Set up what the flood needs once, when it starts."""

    def _tick(self) -> None:
        self.last_ns = self.sim.now_ns
        self.sent += 1
        error = self._send_one(self.sent)
        if error is not None:
            self.refused[error] = self.refused.get(error, 0) + 1
        self._observe()
        if self.sent < self.count:
            self.sim.schedule(self.interval_ns, self._tick)
        else:
            self.done = True

    def _send_one(self, n: int) -> str | None:
        raise NotImplementedError

    def _observe(self) -> None:
        """Look at the target's state after each packet (for the peaks in the report)."""

    def _head(self, what: str) -> str:
        took = (self.last_ns - self.first_ns) / S
        line = f"{self.kind} {self.host.name} -> {self.target_text()}: {what} at {self.rate}/s in {took:.3f} s"
        if self.refused:
            line += "; not sent: " + ", ".join(f"{n} ({why})" for why, n in sorted(self.refused.items()))
        return line

    def target_text(self) -> str:
        return _addr(self.dst, self.v6)


class SynFlood(_Flood):
    kind = name = "syn_flood"

    def __init__(self, net, src: str, dst: str, port: int = 80, count: int = 1000, rate: int = 1000,
                 spoof: bool = False, v6: bool = False):
        super().__init__(net, src, dst, count, rate, v6)
        self.port, self.spoof = port, spoof
        # One generator per flood, seeded from the topology's seed and the flood's place: the same run every time.
        self.rng = random.Random(f"syn_flood {net.sim.seed} {src} {_next_ident(self.host)}")
        self.excluded = _topology_networks(net.topo, v6)
        self.sources: list[int] = []               # the first SOURCES_KEPT source addresses
        self.listener = None
        self.half_open_peak = 0

    def _prepare(self) -> None:
        if self.target is not None:
            from .transfers import _sink
            _sink(self.net, self.target, self.port, "tcp")        # a server listens there, as for `tcp` transfers
            self.listener = self.target.tcp.listeners.get(self.port)

    def _send_one(self, n: int) -> str | None:
        h = self.host
        if self.spoof:
            src, sport = self._spoofed_address(), self.rng.randrange(1024, 65536)
        else:
            src = _own_address(h, self.dst, self.v6)
            if src is None:
                return "no route to host"
            sport = 1024 + (n - 1) % (65536 - 1024)              # a new port each, as a flooding tool does
        if len(self.sources) < SOURCES_KEPT and (self.spoof or not self.sources):
            self.sources.append(src)
        route = h.route6(self.dst) if self.v6 else h.route4(self.dst)
        mss = (route[0].mtu if route else 1500) - _TCP_IP_HEADERS[self.v6]
        syn = P.tcp(src, self.dst, sport, self.port, self.rng.getrandbits(32), 0, {"syn"},
                    options=P.tcp_mss_option(mss), v6=self.v6)
        if self.v6:
            return h.send_ipv6(self.dst, P.IP_TCP, syn, src=src)
        return h.send_ipv4(self.dst, P.IP_TCP, syn, src=src, df=True)

    def _spoofed_address(self) -> int:
        """A random global unicast address (not private, reserved, documentation or multicast) outside every
        network of the topology, so that nothing there answers for it."""
        while True:
            if self.v6:
                a = ipaddress.IPv6Address((0b001 << 125) | self.rng.getrandbits(125))     # 2000::/3
            else:
                a = ipaddress.IPv4Address(self.rng.getrandbits(32))
            if a.is_global and not a.is_multicast and not any(a in n for n in self.excluded):
                return int(a)

    def _observe(self) -> None:
        if self.listener is not None:
            self.half_open_peak = max(self.half_open_peak, len(self.listener.half_open))

    def target_text(self) -> str:
        dst = _addr(self.dst, self.v6)
        return f"[{dst}]:{self.port}" if self.v6 else f"{dst}:{self.port}"

    def report(self) -> str:
        origin = ("each from a random spoofed source" if self.spoof
                  else f"from {_addr(self.sources[0], self.v6)}" if self.sources else "")
        lines = [self._head(f"{self.sent} SYNs {origin}".rstrip())]
        if self.listener is not None:
            lines.append(f"  target {self.target.name} port {self.port}: {self.listener_state()}")
        return "\n".join(lines)

    def listener_state(self) -> str:
        """The SYN queue's peak against its bound, and what the listener's counters say."""
        l = self.listener
        parts = [f"SYN-RECEIVED peak {self.half_open_peak}/{l.syn_backlog} (sampled as each SYN left)"]
        labels = (("cookies_sent", "SYN cookies sent"), ("cookies_validated", "cookies returned valid"),
                  ("syn_queue_overflows", "SYNs found the queue full"),
                  ("synack_timeouts", "half-open connections timed out"),
                  ("icmp_request_drops", "ended by an ICMP error"))
        parts += [f"{l.stats[key]} {label}" for key, label in labels if key in l.stats]
        return ", ".join(parts)


class FragFlood(_Flood):
    kind = name = "frag_flood"

    def __init__(self, net, src: str, dst: str, count: int = 1000, rate: int = 1000, size: int = 1400,
                 v6: bool = False):
        super().__init__(net, src, dst, count, rate, v6)
        self.size = size
        self.ident = _next_ident(self.host)
        self.fragments_sent = 0
        self.per_train = 0

    def _send_one(self, n: int) -> str | None:
        h = self.host
        r = h.route6(self.dst) if self.v6 else h.route4(self.dst)
        if r is None:
            return "no route to host"
        src = _own_address(h, self.dst, self.v6)
        body, data = (self.ident << 16) | (n & 0xFFFF), bytes(self.size)
        echo = P.icmpv6(src, self.dst, 128, 0, body, data) if self.v6 else P.icmp(8, 0, body, data)
        train = self._train(src, echo, r[0].mtu)
        self.per_train = len(train)
        for fragment in train[:-1]:                       # the last fragment never comes
            error = h.send_datagram(fragment, self.v6)
            if error is not None:
                return error
            self.fragments_sent += 1
        return None

    def _train(self, src: int, datagram: bytes, mtu: int) -> list[bytes]:
        """The fragments of the echo request `datagram` for `mtu`, at least two (RFC 791 3.2; RFC 8200 4.5):
        every fragment but the last carries a multiple of 8 bytes."""
        room = (mtu - (40 + 8 if self.v6 else 20)) // 8 * 8        # the most a fragment may carry
        half = -(-len(datagram) // 16) * 8                          # half the datagram, rounded up to 8
        per = max(8, min(room, half))
        self.host.ident = (self.host.ident + 1) & (0xFFFFFFFF if self.v6 else 0xFFFF)
        ident = self.host.ident
        out = []
        for off in range(0, len(datagram), per):
            chunk, more = datagram[off:off + per], off + per < len(datagram)
            if self.v6:
                out.append(P.ipv6(src, self.dst, P.IP_FRAG6,
                                  P.ipv6_fragment_header(P.IP_ICMPV6, off // 8, more, ident) + chunk))
            else:
                out.append(P.ipv4(src, self.dst, P.IP_ICMP, chunk, ident=ident, mf=more, frag_offset=off // 8))
        return out

    def report(self) -> str:
        what = (f"{self.sent} incomplete trains of {self.size} bytes "
                f"({self.fragments_sent} fragments, {max(self.per_train - 1, 0)} of {self.per_train} each)")
        lines = [self._head(what)]
        r = self.target.reassembly_state(self.v6) if self.target is not None else None
        if r is not None:
            lines.append(f"  target {self.target.name}: {reassembly_text(r)}")
        return "\n".join(lines)


def reassembly_text(r) -> str:
    """A reassembler's bounded state in words: evictions, and peak memory against the limit."""
    limit = f"{r.max_bytes / (1024 * 1024):g} MB" if r.max_bytes % (1024 * 1024) == 0 else f"{r.max_bytes} bytes"
    return (f"reassembly evictions {r.evictions}, peak memory {r.peak_bytes} bytes of {limit}, "
            f"{r.timeouts} timed out, {r.reassembled} reassembled")


def _topology_networks(topo, v6: bool) -> list:
    nets = []
    for spec in topo.nodes.values():
        for i in spec.interfaces.values():
            nets += [a.network for a in i.ipv6] if v6 else ([i.ipv4.network] if i.ipv4 else [])
    return nets


def makers(net) -> dict:
    """The `traffic:` kinds of this module, for apps.start_traffic."""
    from .apps import _pick
    return {"syn_flood": lambda p: SynFlood(net, p["from"], p["to"], v6=p.get("ipv6", False),
                                            spoof=p.get("spoof", False),
                                            **_pick(p, port="port", count="count", rate="rate")),
            "frag_flood": lambda p: FragFlood(net, p["from"], p["to"], v6=p.get("ipv6", False),
                                              **_pick(p, count="count", rate="rate", size="size"))}

