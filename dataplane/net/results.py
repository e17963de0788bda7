"""What a run's applications found, as data with display types.

`result(app)` turns a finished (or stopped) application into a small
dataclass whose fields are what a person reads: addresses as strings,
times in seconds (floats), rates in bit/s, states by their RFC names.
`dataclasses.asdict()` of any of them is JSON-ready. The text that `run`
prints is rendered by the applications themselves; these are for scripts
and notebooks:

    ping = Ping(net, "h1", "h2", count=3).start()
    net.run()
    r = result(ping)            # PingResult(src='h1', dst='10.0.2.2', ...)
    r.received, r.rtt_avg_s

One function per application kind, chosen by a table (RESULTS), as the
dissector chooses a header by its type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..protocols import packets as P

NS = 1_000_000_000


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / NS


def _address(value: int | None, v6: bool) -> str | None:
    if value is None:
        return None
    return P.ip6_str(value) if v6 else P.ip4_str(value)


class Displayed:
    """Results show themselves as a table in Jupyter (views/notebook.py)."""

    def _repr_html_(self) -> str:
        from ..views.notebook import result_html
        return result_html(self)


@dataclass
class PingResult(Displayed):
    """ping(8): requests sent and answered; round-trip times in seconds, in the order replies came."""
    kind: str
    src: str                       # the host that pinged
    dst: str                       # the address pinged
    transmitted: int
    received: int
    duplicates: int
    errors: int                    # ICMP errors and local errors
    loss: float                    # 0.0 .. 1.0
    rtt_s: list[float]
    rtt_min_s: float | None
    rtt_avg_s: float | None
    rtt_max_s: float | None
    rtt_mdev_s: float | None
    finished: bool


@dataclass
class PingAllResult(Displayed):
    """Mininet's pingall: for every ordered pair of hosts, whether the ping was answered."""
    kind: str
    answered: dict[str, bool]      # "h1->h2": True
    sent: int
    received: int
    finished: bool


@dataclass
class TracerouteHop:
    ttl: int
    probes: list[dict]             # {"address": "10.0.1.1" or None, "rtt_s": 0.0012 or None, "flag": "!H" or ""}


@dataclass
class TracerouteResult(Displayed):
    kind: str
    src: str
    dst: str
    hops: list[TracerouteHop]
    reached: bool
    finished: bool


@dataclass
class UdpResult(Displayed):
    kind: str
    src: str
    dst: str
    port: int
    sent: int
    received: int
    latency_s: list[float]         # one-way, per datagram received
    finished: bool


@dataclass
class TransferResult(Displayed):
    """A TCP transfer or an SCTP association: states both ends went through, and what arrived."""
    kind: str                      # "tcp" or "sctp"
    src: str
    dst: str
    port: int
    client_states: list[str]
    server_states: list[str]
    established_s: float | None    # handshake time, from the start of the transfer
    retransmissions: int
    intact: bool
    delivered_bytes: int
    total_bytes: int
    duration_s: float | None       # from ESTABLISHED to the server's last state change
    throughput_bps: float | None
    error: str | None
    finished: bool


@dataclass
class OtherResult(Displayed):
    """An application with no result type of its own: its report as text."""
    kind: str
    src: str
    report: str
    finished: bool = field(default=False)


def result(app):
    """The result of one application (a Ping, PingAll, Traceroute, UdpFlow, TcpTransfer, SctpTransfer...)."""
    for cls in type(app).__mro__:
        make = RESULTS.get(cls.__name__)
        if make is not None:
            return make(app)
    return OtherResult(app.name, app.host.name, app.render(), app.done)


def _ping(app) -> PingResult:
    rtts = [t / NS for t in app.rtts]
    n, r = app.transmitted, len(app.received)
    avg = sum(rtts) / len(rtts) if rtts else None
    mdev = math.sqrt(max(0.0, sum(x * x for x in rtts) / len(rtts) - avg * avg)) if rtts else None
    return PingResult("ping", app.host.name, _address(app.dst, app.v6), n, r, app.duplicates, app.errors,
                      (n - r) / n if n else 0.0, rtts, min(rtts, default=None), avg, max(rtts, default=None), mdev,
                      app.done)


def _pingall(app) -> PingAllResult:
    answered = {f"{a}->{b}": app.answered.get((a, b), False) for a, b in app.pairs}
    return PingAllResult("pingall", answered, len(app.pairs), app.received, app.done)


def _traceroute(app) -> TracerouteResult:
    hops = [TracerouteHop(ttl, [{"address": _address(addr, app.v6), "rtt_s": _seconds(rtt), "flag": flag}
                                for addr, rtt, flag in probes])
            for ttl, probes in enumerate(app.hops, 1)]
    return TracerouteResult("traceroute", app.host.name, _address(app.dst, app.v6), hops, app.reached, app.done)


def _udp(app) -> UdpResult:
    return UdpResult("udp", app.host.name, _address(app.dst, app.v6), app.port, app.sent, len(app.received),
                     [t / NS for _, t in app.received], app.done)


def _transfer(app) -> TransferResult:
    client, server = app.client, app.peer_end() if app.client is not None else None
    names = app.state_names
    established = None
    if client is not None:
        established = next((t for t, _, new in client.history if new == "ESTABLISHED"), None)
    if app.kind == "tcp":
        receipt = app.receipt()
        delivered, total = (receipt.count if receipt else 0), len(app.data)
    else:
        delivered, total = sum(map(len, app.delivered)), sum(map(len, app.messages))
    duration = throughput = None
    if established is not None and server is not None and server.history:
        last = server.history[-1][0] if server.state == "CLOSED" else app.sim.now_ns
        duration = (last - established) / NS
        throughput = delivered * 8 / duration if duration > 0 else None
    return TransferResult(
        app.kind, app.host.name, _address(app.dst, app.v6), app.port,
        names(client.history) if client is not None else [],
        names(server.history) if server is not None else [],
        None if established is None else (established - app.started_ns) / NS,
        client.retransmissions if client is not None else 0,
        bool(app.intact) if client is not None else False, delivered, total, duration, throughput,
        app.error or (client.error if client is not None else None), app.done)


def _pattern(app):
    from .patterns import pattern_result     # a traffic pattern: its flows, as PatternResult
    return pattern_result(app)


RESULTS = {"Ping": _ping, "PingAll": _pingall, "Traceroute": _traceroute, "UdpFlow": _udp,
           "TcpTransfer": _transfer, "SctpTransfer": _transfer, "PatternApp": _pattern}
