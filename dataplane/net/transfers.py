"""TCP and SCTP exchanges between two hosts: open, send, close, and report what happened.

A TcpTransfer connects (three-way handshake), sends `nbytes`, closes (FIN
from the client, then from the server), and reports both ends' states in
order (ten of RFC 9293's eleven appear over the two ends; CLOSING takes a
simultaneous close), timings, retransmissions, and whether the bytes
arrived intact. An SctpTransfer
does the same with an association (four-way handshake with the cookie),
`messages` messages and a SHUTDOWN.

The receiving side is a `Sink` per (host, port): it listens once and keeps
what each connection brings, so several transfers can share a port.
"""

from __future__ import annotations

from .apps import MS, App, _addr
from .host.sctp import SctpError
from .host.tcp import TcpError


def pattern(n: int, salt: int = 0) -> bytes:
    """Deterministic data that shows reordering or corruption (a plain counter would repeat too often)."""
    return bytes(((i * 7 + salt) % 251) for i in range(n))


def _endpoint(addr: int, port: int, v6: bool) -> str:
    """10.0.0.1:80, or [2001:db8::1]:80 (RFC 3986 brackets, so the port is not read as part of the address)."""
    return f"[{_addr(addr, True)}]:{port}" if v6 else f"{_addr(addr, False)}:{port}"


class _TcpSink:
    def __init__(self, host, port: int):
        self.by_peer: dict[tuple, object] = {}
        host.tcp.listen(port, self._accept)

    def _accept(self, conn) -> None:
        self.by_peer[(conn.remote, conn.rport)] = conn
        conn.on_state = self._state

    @staticmethod
    def _state(conn, old: str, new: str) -> None:
        if new == "CLOSE-WAIT":
            conn.close()                     # the client is done: close our side too (four-segment close)


class _SctpSink:
    def __init__(self, host, port: int):
        self.by_peer: dict[tuple, object] = {}
        host.sctp.listen(port, self._accept)

    def _accept(self, assoc) -> None:
        self.by_peer[(assoc.peer, assoc.pport)] = assoc


def _sink(net, host, port: int, kind: str):
    sinks = net.__dict__.setdefault("_sinks", {})
    key = (host.name, port, kind)
    if key not in sinks:
        sinks[key] = (_TcpSink if kind == "tcp" else _SctpSink)(host, port)
    return sinks[key]


class _Transfer(App):
    kind = ""

    def __init__(self, net, src: str, dst: str, port: int, v6: bool):
        super().__init__(net, src)
        self.v6 = v6
        self.port = port
        self.dst = net.address(dst, v6)
        name = dst if dst in net.hosts else net.name_of(self.dst, v6)
        self.server = net.hosts.get(name) if name else None
        self.sink = None
        self.client = None
        self.started_ns = 0
        self.error: str | None = None

    def _begin(self) -> None:
        self.started_ns = self.sim.now_ns
        if self.server is not None:
            self.sink = _sink(self.net, self.server, self.port, self.kind)
        try:
            self._open()
        except (TcpError, SctpError) as exc:
            self.error = str(exc)

    def _open(self) -> None:
        raise NotImplementedError

    def peer_end(self):
        if self.sink is None or self.client is None:
            return None
        return self.sink.by_peer.get((self.client_address(), self.client_port()))

    @staticmethod
    def states(history, first: str | None = None) -> str:
        names = [first] if first else []
        for _, old, new in history:
            if not names:
                names.append(old)
            names.append(new)
        return " -> ".join(names) if names else "(no state changes)"

    def client_address(self) -> int:
        return self.client.local

    def client_port(self) -> int:
        return self.client.lport

    def report(self) -> str:
        src = _endpoint(self.client_address(), self.client_port(), self.v6) if self.client else "-"
        lines = [f"{self.kind} {self.host.name} {src} -> {_endpoint(self.dst, self.port, self.v6)}, {self.what()}"]
        if self.error:
            lines.append(f"  {self.opening} failed: {self.error}")
            return "\n".join(lines)
        c, s = self.client, self.peer_end()
        lines.append(f"  client: {self.states(c.history)}" + (f" ({c.error})" if c.error else ""))
        if s is not None:
            lines.append(f"  server: {self.states(s.history)}")
        established = next((t for t, _, new in c.history if new == "ESTABLISHED"), None)
        if established is None:
            lines.append(f"  the {self.session} was never established")
        else:
            lines.extend("  " + line for line in self.details(c, s, established))
        return "\n".join(lines)

    def what(self) -> str:
        raise NotImplementedError

    def details(self, client, server, established_ns: int) -> list[str]:
        raise NotImplementedError


class TcpTransfer(_Transfer):
    kind = name = "tcp"
    opening, session = "connect", "connection"

    def __init__(self, net, src: str, dst: str, port: int = 5001, nbytes: int = 10_000, v6: bool = False):
        super().__init__(net, src, dst, port, v6)
        self.data = pattern(nbytes)

    def _open(self) -> None:
        self.client = self.host.tcp.connect(self.dst, self.port, v6=self.v6)
        self.client.on_state = self._state

    def _state(self, conn, old: str, new: str) -> None:
        if new == "ESTABLISHED":
            if self.data:
                conn.send(self.data)
            conn.close()
        if new == "CLOSED":
            self.done = True

    @property
    def delivered(self) -> bytes:
        peer = self.peer_end()
        return bytes(peer.received) if peer is not None else b""

    @property
    def intact(self) -> bool:
        return self.delivered == self.data

    def what(self) -> str:
        return f"{len(self.data)} bytes"

    def details(self, c, s, established: int) -> list[str]:
        lines = [f"handshake {((established - self.started_ns) / MS):.3f} ms; MSS {c.effective_mss()}; "
                 f"{c.retransmissions} retransmissions"]
        got = self.delivered
        if s is not None and s.history:
            last = s.history[-1][0] if s.state == "CLOSED" else self.sim.now_ns
            secs = (last - established) / 1e9
            rate = f", {len(got) * 8 / secs / 1e6:.2f} Mbit/s" if secs > 0 and got else ""
            verdict = "intact" if got == self.data else f"{len(got)} of {len(self.data)} bytes, " + \
                ("a prefix" if self.data.startswith(got) else "CORRUPTED")
            lines.append(f"delivered {len(got)} bytes {verdict}{rate}")
        return lines


class SctpTransfer(_Transfer):
    kind = name = "sctp"
    opening, session = "associate", "association"

    def __init__(self, net, src: str, dst: str, port: int = 5002, messages: int = 3, size: int = 100,
                 v6: bool = False):
        super().__init__(net, src, dst, port, v6)
        self.messages = [pattern(max(1, size), salt=i) for i in range(messages)]

    def _open(self) -> None:
        self.client = self.host.sctp.associate(self.dst, self.port, v6=self.v6)
        for i, m in enumerate(self.messages):
            self.client.send(m, stream=i % self.client.out_streams)
        self.client.shutdown()
        self.client.on_close = self._closed

    def _closed(self, assoc) -> None:
        self.done = True

    @property
    def delivered(self) -> list[bytes]:
        peer = self.peer_end()
        return [m for _, m in peer.received] if peer is not None else []

    @property
    def intact(self) -> bool:
        return sorted(self.delivered) == sorted(self.messages)

    def what(self) -> str:
        return f"{len(self.messages)} messages of {len(self.messages[0]) if self.messages else 0} bytes"

    def details(self, c, s, established: int) -> list[str]:
        return [f"handshake {((established - self.started_ns) / MS):.3f} ms; verification tags "
                f"0x{c.my_tag:08x} / 0x{c.peer_tag:08x}; {c.retransmissions} retransmissions",
                f"delivered {len(self.delivered)} of {len(self.messages)} messages "
                f"{'intact' if self.intact else 'with differences'}"]
