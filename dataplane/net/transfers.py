"""TCP and SCTP exchanges between two hosts: open, send, close, and report what happened.

A TcpTransfer connects (three-way handshake), sends `nbytes`, closes (FIN
from the client, then from the server), and reports both ends' states in
order (ten of RFC 9293's eleven appear over the two ends; CLOSING takes a
simultaneous close), timings, retransmissions, and whether the bytes
arrived intact. An SctpTransfer
does the same with an association (four-way handshake with the cookie),
`messages` messages and a SHUTDOWN.

The receiving side is a `Sink` per (host, port): it listens once and keeps
a record per connection, so several transfers can share a port, and a new
connection from the same address and port (a later incarnation, or a stray
SYN) never replaces the record of an earlier one: a transfer finds its own
by the initial sequence number (the server's IRS is the client's ISS) or,
for SCTP, by the verification tag.

A transfer's bytes are never held whole: the sender computes each part of
`pattern` from its stream offset as the send buffer makes room, and the
receiver compares what arrives with the same pattern and keeps only a count
and the offset of the first difference. A 1 GiB transfer needs no more
memory than a 10 kB one (its time is that of the segments simulated).

To a well-known port the bytes are that port's application messages (net/appdata.py: an HTTP upload
to port 80 whose body is the pattern, DNS queries to port 53), so that Wireshark dissects them; the
transfer tells the sink what to expect before its SYN arrives, and the receipt checks against that.
"""

from __future__ import annotations

from . import appdata
from .apps import MS, App, _addr
from .host.sctp import SctpError
from .host.tcp import TcpError
from .units import format_rate


PERIOD = 251                                            # a prime: (i * 7 + salt) % 251 repeats every 251 bytes
_ONE_PERIOD = bytes((i * 7) % PERIOD for i in range(PERIOD))
_TILE = _ONE_PERIOD * (65536 // PERIOD + 2)              # any slice of up to 64 KiB, from any phase
INVERSE_OF_7 = 36                                       # 7 * 36 = 252 = 1 (mod 251)


def pattern(n: int, salt: int = 0) -> bytes:
    """Deterministic data that shows reordering or corruption (a plain counter would repeat too often):
    byte i is (i * 7 + salt) % 251."""
    return pattern_at(0, n, salt)


def pattern_at(offset: int, n: int, salt: int = 0) -> bytes:
    """Bytes offset .. offset + n - 1 of pattern(), computed from the offset. Byte i is byte i + 36 * salt of
    the salt-0 pattern, which is periodic, so this is a slice of repeated periods (fast, whatever the offset)."""
    phase = (offset + INVERSE_OF_7 * salt) % PERIOD
    if phase + n <= len(_TILE):
        return _TILE[phase:phase + n]
    return (_ONE_PERIOD * ((phase + n) // PERIOD + 1))[phase:phase + n]


class Payload:
    """`size` bytes of pattern(), produced part by part: len() is the size, chunk() computes a part."""

    def __init__(self, size: int, salt: int = 0):
        self.size = size
        self.salt = salt

    def __len__(self) -> int:
        return self.size

    def chunk(self, offset: int, n: int) -> bytes:
        return pattern_at(offset, max(0, min(n, self.size - offset)), self.salt)


class Receipt:
    """What one connection brought: a byte count, checked against what the client sends (`expected`, its
    application messages; pattern() when None) as the bytes arrive (on_data), and the offset of the first
    byte that differs; the bytes themselves are not kept."""

    def __init__(self, conn, expected=None):
        self.conn = conn
        self.expected = expected
        self.count = 0
        self.mismatch_at: int | None = None

    def data(self, conn, data: bytes) -> None:
        if self.mismatch_at is None:
            expected = pattern_at(self.count, len(data)) if self.expected is None else \
                self.expected.chunk(self.count, len(data))
            if data != expected:
                self.mismatch_at = self.count + next(i for i, (a, b) in enumerate(zip(data, expected)) if a != b)
        self.count += len(data)


def _endpoint(addr: int, port: int, v6: bool) -> str:
    """10.0.0.1:80, or [2001:db8::1]:80 (RFC 3986 brackets, so the port is not read as part of the address)."""
    return f"[{_addr(addr, True)}]:{port}" if v6 else f"{_addr(addr, False)}:{port}"


class _TcpSink:
    def __init__(self, host, port: int):
        self.by_peer: dict[tuple, list[Receipt]] = {}     # (address, port) -> a receipt per connection, oldest first
        self.expected: dict[tuple, object] = {}           # (address, port, ISS) -> what that client sends
        host.tcp.listen(port, self._accept)

    def expect(self, remote: int, rport: int, iss: int, data) -> None:
        """Tell the sink what the connection from this client will carry (before its SYN arrives)."""
        self.expected[(remote, rport, iss)] = data

    def _accept(self, conn) -> None:
        receipt = Receipt(conn, self.expected.get((conn.remote, conn.rport, conn.irs)))
        self.by_peer.setdefault((conn.remote, conn.rport), []).append(receipt)
        conn.keep_received = False           # the receipt counts and checks; nothing is stored
        conn.on_data = receipt.data
        conn.on_state = self._state

    def find(self, remote: int, rport: int, iss: int) -> Receipt | None:
        """The receipt of the connection the client with this ISS opened: the server's IRS is the client's ISS."""
        return next((r for r in self.by_peer.get((remote, rport), ()) if r.conn.irs == iss), None)

    def _state(self, conn, old: str, new: str) -> None:
        if new == "CLOSE-WAIT":
            conn.close()                     # the client is done: close our side too (four-segment close)
        elif new == "CLOSED" and old == "SYN-RECEIVED":
            self._forget(conn)               # never established, so nothing to report: a SYN flood leaves nothing

    def _forget(self, conn) -> None:
        receipts = self.by_peer.get((conn.remote, conn.rport), [])
        receipts[:] = [r for r in receipts if r.conn is not conn]
        if not receipts:
            self.by_peer.pop((conn.remote, conn.rport), None)


class _SctpSink:
    def __init__(self, host, port: int):
        self.by_peer: dict[tuple, list] = {}               # (address, port) -> its associations, oldest first
        host.sctp.listen(port, self._accept)

    def _accept(self, assoc) -> None:
        self.by_peer.setdefault((assoc.peer, assoc.pport), []).append(assoc)

    def find(self, remote: int, rport: int, tag: int):
        """The association the client with verification tag `tag` made (its peer_tag is the client's tag)."""
        return next((a for a in self.by_peer.get((remote, rport), ()) if a.peer_tag == tag), None)


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

    def zone(self) -> appdata.Zone:
        """The names application messages use: the network's hosts, and this transfer's server."""
        return appdata.Zone.of(self.net, self.server.name if self.server else None)

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
        """The server's end of this transfer's connection or association (not of a later one from the same port)."""
        if self.sink is None or self.client is None:
            return None
        found = self.sink.find(self.client_address(), self.client_port(), self.client_identity())
        return found.conn if isinstance(found, Receipt) else found

    def client_identity(self) -> int:
        raise NotImplementedError

    @staticmethod
    def state_names(history, first: str | None = None) -> list[str]:
        """The states a connection went through, in order (the first one's old state first)."""
        names = [first] if first else []
        for _, old, new in history:
            if not names:
                names.append(old)
            names.append(new)
        return names

    @classmethod
    def states(cls, history, first: str | None = None) -> str:
        return " -> ".join(cls.state_names(history, first)) or "(no state changes)"

    def client_address(self) -> int:
        return self.client.local

    def _ends(self) -> str:
        """client -> server, as the report's first line writes them."""
        return f"{_endpoint(self.client_address(), self.client_port(), self.v6)} -> " \
               f"{_endpoint(self.dst, self.port, self.v6)}"

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

    def __init__(self, net, src: str, dst: str, port: int = appdata.DEFAULT_PORT["tcp"], nbytes: int = 10_000,
                 v6: bool = False, cc: str | None = None, nodelay: bool = False, ecn: bool = False, sack: bool = True,
                 wscale: bool = True, timestamps: bool = True):
        super().__init__(net, src, dst, port, v6)
        # The port's application messages (an HTTP upload to port 80), else the test pattern itself.
        body = Payload(nbytes)
        self.data = (port in appdata.TCP and appdata.stream(port, nbytes, body, self.zone(), v6)) or body
        self.written = 0                     # bytes handed to TCP so far
        self.cc = cc                         # the congestion control (host/congestion.py); None: CUBIC
        self.nodelay = nodelay               # TCP_NODELAY: Nagle's algorithm off
        self.ecn = ecn                       # ask for ECN in the SYN (RFC 3168)
        self.sack = sack                     # offer SACK in the SYN (RFC 2018; on by default, as Linux)
        self.wscale = wscale                 # False: no window scale option in the SYN (RFC 7323)
        self.timestamps = timestamps         # False: no timestamps option in the SYN (RFC 7323)

    def _open(self) -> None:
        self.client = self.host.tcp.connect(self.dst, self.port, v6=self.v6, cc=self.cc, ecn=self.ecn,
                                            sack=self.sack, wscale=self.wscale, timestamps=self.timestamps)
        if self.sink is not None:
            self.sink.expect(self.client.local, self.client.lport, self.client.iss, self.data)
        self.client.nodelay = self.nodelay
        self.client.on_state = self._state

    def _state(self, conn, old: str, new: str) -> None:
        if new == "ESTABLISHED":
            self.announce(f"{self._ends()}: connection established")
            conn.on_writable = self._write
            self._write(conn)
        if new in ("TIME-WAIT", "CLOSED") and old not in ("TIME-WAIT", "CLOSED"):
            # Closed for the user when the closing handshake is over, though TIME-WAIT lasts 2 MSL more.
            self.announce(f"{self._ends()}: connection closed")
        if new == "CLOSED":
            self.done = True

    def _write(self, conn) -> None:
        """Queue the next part of the payload as the send buffer makes room; CLOSE after the last byte."""
        n = min(conn.writable(), len(self.data) - self.written)
        if n > 0:
            conn.send(self.data.chunk(self.written, n))
            self.written += n
        if self.written == len(self.data):
            conn.on_writable = None
            conn.close()

    def client_identity(self) -> int:
        return self.client.iss

    def receipt(self) -> Receipt | None:
        if self.sink is None or self.client is None:
            return None
        return self.sink.find(self.client_address(), self.client_port(), self.client.iss)

    @property
    def delivered(self) -> bytes:
        """What the server received, rebuilt: each byte was compared with what was sent on arrival, so this is
        the sent bytes up to the first difference (all of them when intact). Built on demand: for small transfers."""
        r = self.receipt()
        if r is None:
            return b""
        return self.data.chunk(0, r.count if r.mismatch_at is None else r.mismatch_at)

    @property
    def intact(self) -> bool:
        r = self.receipt()
        return r is not None and r.count == len(self.data) and r.mismatch_at is None

    def what(self) -> str:
        return f"{len(self.data)} bytes"

    def details(self, c, s, established: int) -> list[str]:
        lines = [f"handshake {((established - self.started_ns) / MS):.3f} ms; MSS {c.effective_mss()}; "
                 f"{c.retransmissions} retransmissions"]
        r = self.receipt()
        if s is not None and s.history and r is not None:
            last = s.history[-1][0] if s.state == "CLOSED" else self.sim.now_ns
            secs = (last - established) / 1e9
            rate = f", {format_rate(r.count * 8 / secs)}" if secs > 0 and r.count else ""
            if self.intact:
                verdict = f"{r.count} bytes intact"
            elif r.mismatch_at is None and r.count < len(self.data):
                verdict = f"{r.count} of {len(self.data)} bytes (the first ones, intact; the transfer did not finish)"
            else:
                where = r.mismatch_at if r.mismatch_at is not None else len(self.data)
                verdict = f"{r.count} of {len(self.data)} bytes, CORRUPTED from byte {where}"
            lines.append(f"delivered {verdict}{rate}")
        return lines


class SctpTransfer(_Transfer):
    kind = name = "sctp"
    opening, session = "associate", "association"

    def __init__(self, net, src: str, dst: str, port: int = appdata.DEFAULT_PORT["sctp"], messages: int = 3,
                 size: int = 100, v6: bool = False):
        super().__init__(net, src, dst, port, v6)
        size = max(1, size)
        zone = self.zone() if port in appdata.SCTP else None
        self.messages = [appdata.message(port, size, Payload(size, salt=i), zone, v6) or pattern(size, salt=i)
                         for i in range(messages)]

    def _open(self) -> None:
        self.client = self.host.sctp.associate(self.dst, self.port, v6=self.v6)
        for i, m in enumerate(self.messages):
            self.client.send(m, stream=i % self.client.out_streams)
        self.client.shutdown()
        self.client.on_close = self._closed

    def _closed(self, assoc) -> None:
        self.announce(f"{self._ends()}: association closed")
        self.done = True

    def client_identity(self) -> int:
        return self.client.my_tag

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
