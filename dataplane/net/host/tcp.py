"""TCP (RFC 9293), written to be read next to the RFC.

The code follows the RFC's own structure, so each part can be found there:

  3.3.1  the variables of a connection: SND.UNA, SND.NXT, SND.WND, SND.WL1,
         SND.WL2, ISS, RCV.NXT, RCV.WND, IRS (attributes with the same names
         in lower case)
  3.3.2  the eleven states (the constants below); every change is kept in
         `TcpConnection.history` and logged by the host as
         "TCP 10.0.0.1:49152 > 10.0.0.2:80 SYN-SENT -> ESTABLISHED"
  3.4    sequence numbers: modulo 2**32 comparisons (seq_lt, seq_le,
         seq_diff); SYN and FIN each take one number (R30); the initial
         sequence number is RFC 6528's M + F(4-tuple, secret), from a clock
         ticking every 4 microseconds and a secret drawn from a seeded
         generator, so runs are repeatable
  3.7.1  the MSS option on SYN segments: interface MTU - 40 (IPv4) or - 60
         (IPv6); 536 / 1220 when the peer sends none (R30); data segments are
         also limited by the path MTU cache of the host (pmtu.py)
  3.10   the user calls: OPEN (TcpStack.listen, TcpStack.connect), SEND,
         CLOSE, ABORT; and the event "SEGMENT ARRIVES", in the RFC's order:
         3.10.7.1 CLOSED (R31 resets), 3.10.7.2 LISTEN, 3.10.7.3 SYN-SENT,
         3.10.7.4 the other states (first check the sequence number, second
         the RST bit, fourth the SYN bit, fifth the ACK field, seventh the
         segment text, eighth the FIN bit)

What it leaves out, to stay short: urgent data, window scaling, timestamps,
SACK, delayed ACKs (every segment with data is acknowledged at once),
Nagle's algorithm, and congestion control. The sender is a plain sliding
window: it never has more than the peer's window, nor more than
MAX_SEGMENTS_IN_FLIGHT full segments, unacknowledged. Out-of-order segments
are kept until the gap is filled (RFC 9293 allows it).

Retransmission (RFC 6298): one timer per connection, running while data is
unacknowledged. RTO starts at 1 s; an RTT sample from a segment that was
never retransmitted (Karn's rule) updates SRTT and RTTVAR and sets RTO =
SRTT + 4 * RTTVAR, at least 1 s and at most 60 s. On a timeout the earliest
unacknowledged segment is sent again and RTO doubles; after MAX_RETRIES
timeouts in a row with no acknowledgment from the peer the connection is
aborted ("connection timed out"). Three duplicate ACKs resend the earliest
segment at once (fast retransmit, RFC 5681 3.2, without the congestion
window). When the peer's window is zero, the timer sends one byte at a time
as a window probe (3.8.6.1). An ICMP "fragmentation needed" or "packet too
big" for a connection resends everything in flight, cut to the new size.

ICMP errors (3.9.1, RFC 5461, RFC 5927): a Destination Unreachable (other
than "fragmentation needed"), or IPv6's "unrecognized Next Header", aborts a
connection in SYN-SENT; any other error only records `soft_error`, reported
if the connection later times out. The quoted sequence number must lie in
SND.UNA..SND.NXT, or the message is ignored.

Accounting: every segment handed to TCP ends as host.deliver("tcp") when a
connection or listener used it (this includes duplicates that TCP answers
with an ACK, which is their purpose after a lost ACK), or host.drop(reason,
detail): BAD_CHECKSUM, MALFORMED (too short, a bad header or option length),
TRANSPORT_DISCARD (a segment the RFC says to discard silently, such as a RST
outside the window), NO_LISTENER (a closed port, answered per R31), NOT_FOR_US (sent to
a broadcast or multicast address).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Callable

from ...protocols import packets as P
from ...protocols.checksums import verify_transport
from ...runtime.trace import DropReason

__all__ = ["TcpStack", "TcpListener", "TcpConnection", "TcpError", "Segment", "parse_segment", "STATES"]

# ---------------------------------------------------------------------------- the eleven states (3.3.2, R30)

CLOSED = "CLOSED"
LISTEN = "LISTEN"
SYN_SENT = "SYN-SENT"
SYN_RECEIVED = "SYN-RECEIVED"
ESTABLISHED = "ESTABLISHED"
FIN_WAIT_1 = "FIN-WAIT-1"
FIN_WAIT_2 = "FIN-WAIT-2"
CLOSE_WAIT = "CLOSE-WAIT"
CLOSING = "CLOSING"
LAST_ACK = "LAST-ACK"
TIME_WAIT = "TIME-WAIT"
STATES = (CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
          LAST_ACK, TIME_WAIT)

# States in which new data (and our FIN) may still go out.
SENDING_STATES = (ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1, CLOSING, LAST_ACK)
# States in which the peer has not sent its FIN yet, so its data is accepted (3.10.7.4, seventh).
RECEIVING_STATES = (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2)

# ---------------------------------------------------------------------------- constants

MOD = 1 << 32                         # sequence numbers are 32 bits (3.4)
NS = 1_000_000_000
DEFAULT_MSS = {False: 536, True: 1220}            # 3.7.1, R30: when the SYN carries no MSS option
IP_HEADER = {False: 20, True: 40}
TCP_HEADER = 20
RCV_WND = 65535                       # what we advertise; the application takes data at once, so it never shrinks
MAX_SEGMENTS_IN_FLIGHT = 10
RTO_INITIAL_NS = 1 * NS               # RFC 6298 2.1
RTO_MIN_NS = 1 * NS                   # RFC 6298 2.4
RTO_MAX_NS = 60 * NS                  # RFC 6298 2.5
MAX_RETRIES = 6                       # timeouts in a row before giving up (RFC 1122 4.2.3.5, "R2")
DUP_ACK_THRESHOLD = 3                 # RFC 5681 3.2
EPHEMERAL_FIRST, EPHEMERAL_COUNT = 49152, 16384   # RFC 6335 dynamic ports


class TcpError(Exception):
    """An error returned to the user by a TCP call (RFC 9293 3.10: "error: connection closing", ...)."""


# ---------------------------------------------------------------------------- sequence number arithmetic (3.4)


def seq_lt(a: int, b: int) -> bool:
    """a < b modulo 2**32: b is less than half the number space ahead of a."""
    return 0 < (b - a) % MOD < MOD // 2


def seq_le(a: int, b: int) -> bool:
    return a == b or seq_lt(a, b)


def seq_diff(a: int, b: int) -> int:
    """a - b as a signed distance in sequence space."""
    d = (a - b) % MOD
    return d - MOD if d >= MOD // 2 else d


# ---------------------------------------------------------------------------- segments


@dataclass
class Segment:
    """A received segment, with the RFC's names: SEG.SEQ, SEG.ACK, SEG.WND, the control bits, the text."""
    sport: int
    dport: int
    seq: int
    ack: int
    flags: frozenset              # of "syn", "ack", "fin", "rst", "psh", "urg", "ece", "cwr"
    wnd: int
    data: bytes
    mss: int | None = None        # the MSS option, if present

    @property
    def len(self) -> int:
        """SEG.LEN: the text, plus one for SYN and one for FIN (R30)."""
        return len(self.data) + ("syn" in self.flags) + ("fin" in self.flags)


def parse_segment(raw: bytes) -> Segment:
    """Decode a TCP segment (checksum already verified); ValueError if the header or an option is malformed."""
    h = P._TCP.unpack(raw)
    offset = h["dataOffset"] * 4
    if offset < TCP_HEADER or offset > len(raw):
        raise ValueError(f"data offset {offset} in a segment of {len(raw)} bytes")
    options, mss, i = raw[TCP_HEADER:offset], None, 0
    while i < len(options):
        kind = options[i]
        if kind == 0:                                  # End of Option List
            break
        if kind == 1:                                  # No-Operation
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2 or i + options[i + 1] > len(options):
            raise ValueError(f"option {kind} has an illegal length")
        if kind == 2 and options[i + 1] == 4:          # Maximum Segment Size
            mss = int.from_bytes(options[i + 2:i + 4], "big")
        i += options[i + 1]
    flags = frozenset(f for f in P.TCP_FLAGS if h[f])
    return Segment(h["srcPort"], h["dstPort"], h["seqNo"], h["ackNo"], flags, h["window"], bytes(raw[offset:]), mss)


def _flags_text(flags) -> str:
    return ",".join(f.upper() for f in P.TCP_FLAGS if f in flags)


def _addr(v: int, v6: bool) -> str:
    return P.ip6_str(v) if v6 else P.ip4_str(v)


# ---------------------------------------------------------------------------- the stack


class TcpStack:
    """TCP for one host: connections by 4-tuple, listeners by port, the CLOSED-state rules (R31)."""

    def __init__(self, host, msl_s: float = 30.0, seed: int = 0):
        self.host = host
        self.sim = host.sim
        self.msl_ns = int(msl_s * NS)
        rng = random.Random(seed)
        self._secret = rng.getrandbits(128).to_bytes(16, "big")     # RFC 6528's secret key
        self._next_port = EPHEMERAL_FIRST
        self.connections: dict[tuple, TcpConnection] = {}          # (v6, local, lport, remote, rport) -> TCB
        self.listeners: dict[int, TcpListener] = {}
        host.tcp = self
        host.protocols[(False, P.IP_TCP)] = self.segment_arrives
        host.protocols[(True, P.IP_TCP)] = self.segment_arrives
        host.icmp_listeners.append(self.icmp_arrives)

    # ------------------------------------------------------------------ OPEN (3.10.1)

    def listen(self, port: int, on_accept: Callable | None = None) -> "TcpListener":
        """A passive OPEN on `port`, for IPv4 and IPv6.

        on_accept(conn) is called when a SYN arrives, with the new connection in SYN-RECEIVED, before the
        SYN,ACK goes out."""
        if port in self.listeners:
            raise TcpError(f"port {port} is already listening")
        listener = TcpListener(self, port, on_accept)
        self.listeners[port] = listener
        listener._set_state(LISTEN)
        return listener

    def connect(self, dst: int, dport: int, v6: bool = False, sport: int | None = None) -> "TcpConnection":
        """An active OPEN: choose the source address and port, send a SYN, enter SYN-SENT."""
        route = self.host.route6(dst) if v6 else self.host.route4(dst)
        if route is None:
            raise TcpError("no route to host")
        iface = route[0]
        local = self.host.source6(iface, dst) if v6 else int(iface.ipv4.ip)
        if sport is None:
            sport = self._ephemeral_port(v6, local, dst, dport)
        key = (v6, local, sport, dst, dport)
        if key in self.connections:
            raise TcpError("connection already exists")
        conn = TcpConnection(self, v6, local, sport, dst, dport, iface)
        self.connections[key] = conn
        conn._open_active()
        return conn

    def _ephemeral_port(self, v6: bool, local: int, remote: int, rport: int) -> int:
        for _ in range(EPHEMERAL_COUNT):
            port = self._next_port
            self._next_port = EPHEMERAL_FIRST + (port - EPHEMERAL_FIRST + 1) % EPHEMERAL_COUNT
            if (v6, local, port, remote, rport) not in self.connections and port not in self.listeners:
                return port
        raise TcpError("no free ephemeral port")

    def initial_sequence_number(self, local: int, lport: int, remote: int, rport: int) -> int:
        """RFC 9293 3.4.1 (RFC 6528): ISN = M + F(localip, localport, remoteip, remoteport, secretkey)."""
        m = self.sim.now_ns // 4000                               # a clock ticking every 4 microseconds
        f = hashlib.sha256(self._secret + f"{local} {lport} {remote} {rport}".encode()).digest()
        return (m + int.from_bytes(f[:4], "big")) % MOD

    # ------------------------------------------------------------------ SEGMENT ARRIVES (3.10.7)

    def segment_arrives(self, pkt) -> None:
        """The host's handler for protocol 6: every segment ends delivered or dropped with a reason."""
        outcome = self._segment_arrives(pkt)
        if outcome is None:
            self.host.deliver("tcp")
        else:
            self.host.drop(*outcome)

    def _segment_arrives(self, pkt):
        if len(pkt.payload) < TCP_HEADER:
            return DropReason.MALFORMED, f"TCP segment of {len(pkt.payload)} bytes"
        bad = verify_transport(pkt.src, pkt.dst, P.IP_TCP, pkt.payload, pkt.v6)
        if bad is not None:
            return DropReason.BAD_CHECKSUM, f"TCP: {bad}"
        try:
            seg = parse_segment(pkt.payload)
        except ValueError as e:
            return DropReason.MALFORMED, f"TCP: {e}"
        if pkt.broadcast:
            # RFC 1122 4.2.3.10: TCP is for one peer; a SYN to a broadcast or multicast address is discarded.
            return DropReason.NOT_FOR_US, "TCP segment to a broadcast or multicast address"
        conn = self.connections.get((pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport))
        if conn is not None:
            return conn.segment_arrives(seg)
        listener = self.listeners.get(seg.dport)
        if listener is not None:
            return listener.segment_arrives(pkt, seg)
        return self._closed_port(pkt, seg)

    def _closed_port(self, pkt, seg: Segment):
        """3.10.7.1, R31: no connection and no listener, so answer with a reset (never a reset to a reset)."""
        where = f"TCP port {seg.dport} is closed"
        if "rst" in seg.flags:
            return DropReason.NO_LISTENER, f"{where}; a RST is never answered (R31)"
        if "ack" not in seg.flags:
            # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
            self.send_reset(pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, 0, (seg.seq + seg.len) % MOD)
        else:
            # <SEQ=SEG.ACK><CTL=RST>
            self.send_reset(pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, seg.ack)
        return DropReason.NO_LISTENER, f"{where}; reset sent (R31)"

    def send_reset(self, v6: bool, src: int, sport: int, dst: int, dport: int, seq: int,
                   ack: int | None = None) -> None:
        """A RST with SEQ=seq, and with the ACK bit and ACK=ack when ack is given."""
        flags = {"rst"} if ack is None else {"rst", "ack"}
        self.host.log(f"TCP {_addr(src, v6)}:{sport} > {_addr(dst, v6)}:{dport} sending "
                      f"{_flags_text(flags)} seq={seq}" + ("" if ack is None else f" ack={ack}"))
        raw = P.tcp(src, dst, sport, dport, seq, ack or 0, flags, window=0, v6=v6)
        self.ip_send(v6, src, dst, raw)

    def ip_send(self, v6: bool, src: int, dst: int, raw: bytes) -> str | None:
        """Hand a segment to IP; IPv4 sets DF, since TCP sizes its segments to the path MTU (3.7.2)."""
        if v6:
            return self.host.send_ipv6(dst, P.IP_TCP, raw, src=src)
        return self.host.send_ipv4(dst, P.IP_TCP, raw, src=src, df=True)

    # ------------------------------------------------------------------ ICMP (3.9.1)

    def icmp_arrives(self, notice) -> None:
        """An ICMP error quoting one of our segments goes to its connection."""
        if notice.v6:
            if notice.type not in (1, 2, 3, 4):
                return
            q = notice.data
            if len(q) < 48 or q[0] >> 4 != 6 or q[6] != P.IP_TCP:
                return
            src, dst, tcp = int.from_bytes(q[8:24], "big"), int.from_bytes(q[24:40], "big"), q[40:48]
            too_big = notice.type == 2
            hard = notice.type == 1 or (notice.type == 4 and notice.code == 1)
        else:
            if notice.type not in (3, 11, 12):
                return
            q = notice.data
            if len(q) < 20 or q[0] >> 4 != 4 or q[9] != P.IP_TCP or len(q) < (q[0] & 0xF) * 4 + 8:
                return
            ihl = (q[0] & 0xF) * 4
            src, dst, tcp = int.from_bytes(q[12:16], "big"), int.from_bytes(q[16:20], "big"), q[ihl:ihl + 8]
            too_big = notice.type == 3 and notice.code == 4
            hard = notice.type == 3 and not too_big
        sport, dport, seq = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big"), \
            int.from_bytes(tcp[4:8], "big")
        conn = self.connections.get((notice.v6, src, sport, dst, dport))
        if conn is not None:
            conn.icmp_error(notice, seq, too_big, hard)


# ---------------------------------------------------------------------------- LISTEN (3.10.7.2)


class TcpListener:
    """A passive OPEN. Each SYN makes a new connection, which starts as a copy of the listener (as in BSD)."""

    def __init__(self, stack: TcpStack, port: int, on_accept: Callable | None):
        self.stack = stack
        self.port = port
        self.on_accept = on_accept
        self.state = CLOSED
        self.history: list[tuple[int, str, str]] = []
        self.connections: list[TcpConnection] = []

    def _set_state(self, new: str) -> None:
        old, self.state = self.state, new
        self.history.append((self.stack.sim.now_ns, old, new))
        self.stack.host.log(f"TCP *:{self.port} > *:* {old} -> {new}")

    def close(self) -> None:
        """CLOSE in LISTEN: stop listening; connections already made are not affected."""
        if self.state == LISTEN:
            del self.stack.listeners[self.port]
            self._set_state(CLOSED)

    def segment_arrives(self, pkt, seg: Segment):
        stack = self.stack
        # first, check for a RST: an incoming RST is ignored.
        if "rst" in seg.flags:
            return DropReason.NO_LISTENER, f"RST to listening port {self.port} (no connection; ignored)"
        # second, check for an ACK: nothing has been sent yet, so any ACK is bad: <SEQ=SEG.ACK><CTL=RST>.
        if "ack" in seg.flags:
            stack.send_reset(pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, seg.ack)
            return DropReason.NO_LISTENER, f"ACK to listening port {self.port} with no connection; reset sent"
        # third, check for a SYN.
        if "syn" not in seg.flags:
            return DropReason.TRANSPORT_DISCARD, f"TCP segment without SYN, ACK or RST to listening port {self.port}"
        conn = TcpConnection(stack, pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, pkt.iface, listener=self)
        stack.connections[conn.key] = conn
        self.connections.append(conn)
        conn._open_passive(seg, self.on_accept)
        return None


# ---------------------------------------------------------------------------- a connection


class TcpConnection:
    """One connection: its TCB (RFC 9293 3.3.1), the user calls, and the processing of arriving segments."""

    def __init__(self, stack: TcpStack, v6: bool, local: int, lport: int, remote: int, rport: int, iface,
                 listener: TcpListener | None = None):
        self.stack = stack
        self.host = stack.host
        self.sim = stack.sim
        self.v6 = v6
        self.local, self.lport, self.remote, self.rport = local, lport, remote, rport
        self.iface = iface
        self.listener = listener                 # set when the connection came from a passive OPEN
        self.state = LISTEN if listener is not None else CLOSED
        self.history: list[tuple[int, str, str]] = []
        self.received = bytearray()              # in-order data received, for the application
        self.on_data: Callable | None = None     # on_data(conn, data)
        self.on_state: Callable | None = None    # on_state(conn, old_state, new_state)
        self.error: str | None = None            # why the connection closed, if it did not close normally
        self.soft_error: str | None = None       # the last ICMP soft error (3.9.1)
        # Send sequence variables (3.3.1).
        self.iss = 0
        self.snd_una = 0
        self.snd_nxt = 0
        self.snd_wnd = 0
        self.snd_wl1 = 0
        self.snd_wl2 = 0
        # Receive sequence variables.
        self.irs = 0
        self.rcv_nxt = 0
        self.rcv_wnd = RCV_WND
        # MSS: what we announce (3.7.1) and what the peer announced (R30 default when it sends none).
        self.our_mss = iface.mtu - IP_HEADER[v6] - TCP_HEADER
        self.peer_mss = DEFAULT_MSS[v6]
        # The send buffer holds the data from sequence number _buf_seq on (sent or not, but unacknowledged).
        self._sndbuf = bytearray()
        self._buf_seq = 0
        self._fin_requested = False              # CLOSE was called: a FIN follows the data
        self._close_when_established = False     # CLOSE in SYN-RECEIVED waits for ESTABLISHED
        self._out_of_order: dict[int, tuple[bytes, bool]] = {}    # seq -> (text, FIN) beyond RCV.NXT
        self._ack_needed = False
        # Retransmission (RFC 6298).
        self.rto_ns = RTO_INITIAL_NS
        self.srtt_ns: int | None = None
        self.rttvar_ns = 0
        self._rtt_timing: tuple[int, int] | None = None    # (sequence number to be acknowledged, time sent)
        self._rtx_timer = None
        self._retries = 0
        self._dup_acks = 0
        self._time_wait_timer = None
        self._mss_after_icmp: int | None = None  # the MSS when we last resent because of "too big"
        self.retransmissions = 0

    @property
    def key(self) -> tuple:
        return (self.v6, self.local, self.lport, self.remote, self.rport)

    @property
    def name(self) -> str:
        return f"{_addr(self.local, self.v6)}:{self.lport} > {_addr(self.remote, self.v6)}:{self.rport}"

    def __repr__(self) -> str:
        return f"<TcpConnection {self.name} {self.state}>"

    def _set_state(self, new: str) -> None:
        old = self.state
        if old == new:
            return
        self.state = new
        self.history.append((self.sim.now_ns, old, new))
        self.host.log(f"TCP {self.name} {old} -> {new}")
        if self.on_state is not None:
            self.on_state(self, old, new)

    def effective_mss(self) -> int:
        """3.7.1: the peer's MSS, and no more than the path MTU allows (pmtu.py) for a segment without options."""
        cache = self.host.pmtu6 if self.v6 else self.host.pmtu4
        path_mtu = cache.mtu(self.remote, self.iface.mtu)
        return max(1, min(self.peer_mss, path_mtu - IP_HEADER[self.v6] - TCP_HEADER))

    @property
    def _data_end(self) -> int:
        """The sequence number after the last byte the application has given us to send."""
        return (self._buf_seq + len(self._sndbuf)) % MOD

    @property
    def _fin_sent(self) -> bool:
        return self._fin_requested and self.snd_nxt == (self._data_end + 1) % MOD

    @property
    def _fin_acked(self) -> bool:
        return self._fin_sent and self.snd_una == self.snd_nxt

    # ------------------------------------------------------------------ user calls (3.10)

    def send(self, data: bytes) -> None:
        """SEND (3.10.2): queue the data; it goes out when the connection is established and the window allows."""
        if self.state in (CLOSED, LISTEN):
            raise TcpError("connection does not exist")
        if self._fin_requested or self._close_when_established or self.state not in (
                SYN_SENT, SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT):
            raise TcpError("connection closing")
        self._sndbuf += data
        self._output()

    def close(self) -> None:
        """CLOSE (3.10.4): "I have no more data to send". A FIN follows the queued data."""
        if self.state in (CLOSED, LISTEN):
            raise TcpError("connection does not exist")
        if self.state == SYN_SENT:
            self._enter_closed(None)                      # nothing was synchronized: just forget it
        elif self.state == SYN_RECEIVED:
            self._close_when_established = True           # the FIN waits until ESTABLISHED
        elif self.state == ESTABLISHED:
            self._fin_requested = True
            self._set_state(FIN_WAIT_1)
            self._output()
        elif self.state == CLOSE_WAIT:
            self._fin_requested = True
            self._set_state(LAST_ACK)
            self._output()
        else:
            raise TcpError("connection closing")

    def abort(self, reason: str = "connection aborted") -> None:
        """ABORT (3.10.5): a RST <SEQ=SND.NXT><CTL=RST> in the states where the peer has a TCB."""
        if self.state in (SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT):
            self._send(self.snd_nxt, {"rst"})
        if self.state != CLOSED:
            self._enter_closed(reason)

    # ------------------------------------------------------------------ opening

    def _open_active(self) -> None:
        """Active OPEN: <SEQ=ISS><CTL=SYN>, SND.UNA = ISS, SND.NXT = ISS + 1, enter SYN-SENT."""
        self._choose_iss()
        self._set_state(SYN_SENT)
        self._send_syn()

    def _open_passive(self, seg: Segment, on_accept: Callable | None) -> None:
        """LISTEN receives a SYN (3.10.7.2, third): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, enter SYN-RECEIVED."""
        self.irs = seg.seq
        self.rcv_nxt = (seg.seq + 1) % MOD        # the SYN takes one sequence number (R30)
        self.peer_mss = seg.mss if seg.mss else DEFAULT_MSS[self.v6]
        self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, 0
        self._choose_iss()
        self._set_state(SYN_RECEIVED)
        if on_accept is not None:
            on_accept(self)       # before the SYN,ACK: the application may set callbacks, RCV.WND, queue data
        if self.state == SYN_RECEIVED:
            self._send_syn()
        # Text on a SYN is not acknowledged (RCV.NXT is just after the SYN), so the peer sends it again.

    def _choose_iss(self) -> None:
        self.iss = self.stack.initial_sequence_number(self.local, self.lport, self.remote, self.rport)
        self.snd_una = self.iss
        self.snd_nxt = (self.iss + 1) % MOD
        self._buf_seq = self.snd_nxt              # the first data byte follows the SYN

    def _send_syn(self) -> None:
        self._rtt_timing = (self.snd_nxt, self.sim.now_ns)
        self._transmit(self.iss, 0)
        self._start_timer()

    def _established(self) -> None:
        self._set_state(ESTABLISHED)
        if self._close_when_established:
            self._close_when_established = False
            self.close()

    # ------------------------------------------------------------------ sending

    def _send(self, seq: int, flags: set, data: bytes = b"", options: bytes = b"") -> None:
        """Build one segment from the TCB and hand it to IP. Every segment with ACK carries ACK=RCV.NXT."""
        ack = self.rcv_nxt if "ack" in flags else 0
        raw = P.tcp(self.local, self.remote, self.lport, self.rport, seq, ack, flags,
                    window=min(self.rcv_wnd, 65535), payload=data, options=options, v6=self.v6)
        if "ack" in flags:
            self._ack_needed = False
        error = self.stack.ip_send(self.v6, self.local, self.remote, raw)
        if error is not None:
            self.host.log(f"TCP {self.name}: segment not sent: {error}")

    def _transmit(self, seq: int, n: int) -> int:
        """Send the segment that starts at `seq`: the SYN, or n bytes of data with the FIN if they end the data.

        Returns how many sequence numbers it takes. Used both for new data and for retransmissions, so a
        retransmitted segment is cut again with the current MSS."""
        if seq == self.iss and self.snd_una == self.iss:          # our SYN is not acknowledged yet
            flags = {"syn"} if self.state == SYN_SENT else {"syn", "ack"}
            self._send(self.iss, flags, options=P.tcp_mss_option(self.our_mss))
            return 1
        start = seq_diff(seq, self._buf_seq)
        data = bytes(self._sndbuf[start:start + n])
        end = (seq + len(data)) % MOD
        flags = {"ack"}
        if data and end == self._data_end:
            flags.add("psh")                                       # the last of what the application gave us
        if self._fin_requested and end == self._data_end:
            flags.add("fin")
        self._send(seq, flags, data)
        return len(data) + ("fin" in flags)

    def _output(self) -> None:
        """Send what the window allows, then an ACK if one is owed and no segment carried it."""
        if self.state in SENDING_STATES:
            mss = self.effective_mss()
            while True:
                unsent = seq_diff(self._data_end, self.snd_nxt)       # -1 once the FIN has gone
                if unsent > 0:
                    window = min(self.snd_wnd, MAX_SEGMENTS_IN_FLIGHT * mss)
                    room = seq_diff((self.snd_una + window) % MOD, self.snd_nxt)
                    n = min(unsent, mss, room)
                    if n <= 0:
                        break                                         # the window is full
                elif unsent == 0 and self._fin_requested:
                    n = 0                                             # the FIN alone
                else:
                    break
                used = self._transmit(self.snd_nxt, n)
                self.snd_nxt = (self.snd_nxt + used) % MOD
                if self._rtt_timing is None:
                    self._rtt_timing = (self.snd_nxt, self.sim.now_ns)
                if self._rtx_timer is None:
                    self._start_timer()
            if self._rtx_timer is None and seq_diff(self._data_end, self.snd_nxt) > 0:
                self._start_timer()                                   # a zero window: the persist timer
        if self._ack_needed:
            self._send(self.snd_nxt, {"ack"})

    def _retransmit(self, max_segments: int | None) -> None:
        """Send again what is unacknowledged, from SND.UNA: one segment, or (max_segments None) all of it."""
        self._rtt_timing = None                                       # Karn: never time a retransmission
        mss = self.effective_mss()
        seq, count = self.snd_una, 0
        while seq_lt(seq, self.snd_nxt) and (max_segments is None or count < max_segments):
            data_limit = self._data_end if self._fin_sent else self.snd_nxt
            used = self._transmit(seq, max(0, min(mss, seq_diff(data_limit, seq))))
            self.retransmissions += 1
            seq = (seq + used) % MOD
            count += 1
            if used == 0:
                break

    # ------------------------------------------------------------------ timers

    def _start_timer(self) -> None:
        self.sim.cancel(self._rtx_timer)
        self._rtx_timer = self.sim.schedule(self.rto_ns, self._timeout)

    def _stop_timer(self) -> None:
        self.sim.cancel(self._rtx_timer)
        self._rtx_timer = None

    def _timeout(self) -> None:
        """The retransmission timer expired (RFC 6298 5.4-5.6), or the persist timer of a zero window."""
        self._rtx_timer = None
        if self.state in (CLOSED, TIME_WAIT):
            return
        self.rto_ns = min(2 * self.rto_ns, RTO_MAX_NS)                # back off
        if self.snd_una == self.snd_nxt:
            if seq_diff(self._data_end, self.snd_nxt) > 0 and self.state in SENDING_STATES:
                self.host.log(f"TCP {self.name} zero window: probing with one byte")
                self.snd_nxt = (self.snd_nxt + self._transmit(self.snd_nxt, 1)) % MOD
                self._start_timer()
            return
        self._retries += 1
        if self._retries > MAX_RETRIES:
            self.host.log(f"TCP {self.name} giving up after {MAX_RETRIES} retransmissions")
            self.abort("connection timed out" + (f" ({self.soft_error})" if self.soft_error else ""))
            return
        self.host.log(f"TCP {self.name} retransmission timeout: resending seq {self.snd_una}, "
                      f"RTO now {self.rto_ns / NS:g} s")
        self._retransmit(1)
        self._start_timer()

    def _enter_time_wait(self) -> None:
        self._stop_timer()
        self._set_state(TIME_WAIT)
        self._restart_time_wait()

    def _restart_time_wait(self) -> None:
        self.sim.cancel(self._time_wait_timer)
        self._time_wait_timer = self.sim.schedule(2 * self.stack.msl_ns, self._enter_closed, None)

    def _enter_closed(self, error: str | None) -> None:
        """Delete the TCB: stop the timers, forget the queues, leave the stack's table."""
        self._stop_timer()
        self.sim.cancel(self._time_wait_timer)
        self._time_wait_timer = None
        self._out_of_order.clear()
        if error is not None:
            self.error = error
        if self.stack.connections.get(self.key) is self:
            del self.stack.connections[self.key]
        self._set_state(CLOSED)

    # ------------------------------------------------------------------ SEGMENT ARRIVES

    def segment_arrives(self, seg: Segment):
        """Returns None when the segment was used, or (DropReason, detail) when it is discarded."""
        if self.state == SYN_SENT:
            return self._arrives_in_syn_sent(seg)
        return self._arrives_in_other_states(seg)

    def _arrives_in_syn_sent(self, seg: Segment):
        """3.10.7.3."""
        flags = seg.flags
        # first, check the ACK bit: it must acknowledge our SYN, and nothing more.
        ack_ok = False
        if "ack" in flags:
            if seq_le(seg.ack, self.iss) or seq_lt(self.snd_nxt, seg.ack):
                if "rst" in flags:
                    return DropReason.TRANSPORT_DISCARD, "TCP RST with an unacceptable ACK in SYN-SENT"
                self._send(seg.ack, {"rst"})                          # <SEQ=SEG.ACK><CTL=RST>
                return None
            ack_ok = True
        # second, check the RST bit.
        if "rst" in flags:
            if ack_ok:
                self._enter_closed("connection reset")
                return None
            return DropReason.TRANSPORT_DISCARD, "TCP RST without ACK in SYN-SENT"
        # fourth, check the SYN bit.
        if "syn" in flags:
            self.irs = seg.seq
            self.rcv_nxt = (seg.seq + 1) % MOD
            self.peer_mss = seg.mss if seg.mss else DEFAULT_MSS[self.v6]
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, seg.ack
            if ack_ok:
                self._ack_advanced(seg.ack)
                self._ack_needed = True                               # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
                self._established()
                if seg.data or "fin" in flags:                       # "continue processing at the sixth step"
                    self._receive_text((seg.seq + 1) % MOD, seg.data, "fin" in flags)
            else:
                # A simultaneous open (figure 8): both sides sent a SYN. Answer with SYN,ACK.
                self._set_state(SYN_RECEIVED)
                self._transmit(self.iss, 0)
            self._output()
            return None
        # fifth, if neither SYN nor RST is set, drop the segment.
        return DropReason.TRANSPORT_DISCARD, "TCP segment without SYN or RST in SYN-SENT"

    def _acceptable(self, seg: Segment) -> bool:
        """3.10.7.4, first: the four cases of the acceptability test."""
        def in_window(x: int) -> bool:
            return seq_le(self.rcv_nxt, x) and seq_lt(x, (self.rcv_nxt + self.rcv_wnd) % MOD)
        if seg.len == 0:
            return seg.seq == self.rcv_nxt if self.rcv_wnd == 0 else in_window(seg.seq)
        if self.rcv_wnd == 0:
            return False
        return in_window(seg.seq) or in_window((seg.seq + seg.len - 1) % MOD)

    def _trim(self, seg: Segment) -> tuple[int, bytes, bool, bool]:
        """Keep only what lies in the window: (seq, text, SYN, FIN) of the new part."""
        seq, data = seg.seq, seg.data
        syn, fin = "syn" in seg.flags, "fin" in seg.flags
        if syn and seq_lt(seq, self.rcv_nxt):                        # an old SYN at the front
            syn, seq = False, (seq + 1) % MOD
        old = seq_diff(self.rcv_nxt, seq)
        if old > 0:                                                   # text we already have
            data, seq = data[old:], self.rcv_nxt
        room = seq_diff((self.rcv_nxt + self.rcv_wnd) % MOD, seq)
        if len(data) + fin > room:                                    # text beyond the right edge
            data, fin = data[:max(0, room)], False
        return seq, data, syn, fin

    def _arrives_in_other_states(self, seg: Segment):
        """3.10.7.4: SYN-RECEIVED and the synchronized states."""
        flags = seg.flags
        # first, check the sequence number.
        if not self._acceptable(seg):
            if "rst" in flags:
                return DropReason.TRANSPORT_DISCARD, "TCP RST outside the receive window"
            if self.state == SYN_RECEIVED and flags == {"syn"} and seg.seq == self.irs:
                # The peer sent its SYN again: our SYN,ACK was lost. Send it again at once.
                self._transmit(self.iss, 0)
                return None
            if self.state == TIME_WAIT and "fin" in flags:
                # The remote FIN again: our last ACK was lost. Acknowledge it and restart the 2 MSL wait
                # (3.10.7.4, fifth, TIME-WAIT).
                self._restart_time_wait()
            self._send(self.snd_nxt, {"ack"})                         # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
            return None
        seq, data, syn, fin = self._trim(seg)

        # second, check the RST bit (with RFC 5961 3.2: only an exact match resets the connection).
        if "rst" in flags:
            if seg.seq != self.rcv_nxt:
                self._send(self.snd_nxt, {"ack"})                     # a challenge ACK
                return None
            if self.state == SYN_RECEIVED and self.listener is not None:
                self._enter_closed(None)         # "return to LISTEN": the listener is still there
            elif self.state in (SYN_RECEIVED,):
                self._enter_closed("connection refused")
            elif self.state in (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT):
                self._enter_closed("connection reset")
            else:                                                      # CLOSING, LAST-ACK, TIME-WAIT
                self._enter_closed(None)
            return None

        # fourth, check the SYN bit: a SYN in the window (RFC 5961 4.2).
        if syn:
            if self.state == SYN_RECEIVED and self.listener is not None:
                self._enter_closed(None)         # "return to LISTEN"
            else:
                self._send(self.snd_nxt, {"ack"})                     # a challenge ACK
            return None

        # fifth, check the ACK field.
        if "ack" not in flags:
            return DropReason.TRANSPORT_DISCARD, f"TCP segment without ACK in {self.state}"
        self._retries = 0                                             # the peer is alive
        if self.state == SYN_RECEIVED:
            if not (seq_lt(self.snd_una, seg.ack) and seq_le(seg.ack, self.snd_nxt)):
                self._send(seg.ack, {"rst"})                          # <SEQ=SEG.ACK><CTL=RST>
                return None
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, seg.ack
            self._established()
        if seq_lt(self.snd_nxt, seg.ack):
            self._send(self.snd_nxt, {"ack"})                         # it acknowledges what we never sent
            return None
        # RFC 5681's duplicate ACK (the answer to a zero-window probe is not a sign of loss).
        duplicate = (seg.ack == self.snd_una and not seg.data and not ({"syn", "fin"} & flags)
                     and seg.wnd == self.snd_wnd != 0 and self.snd_una != self.snd_nxt)
        if seq_lt(self.snd_una, seg.ack):
            self._ack_advanced(seg.ack)
        elif duplicate:
            self._dup_acks += 1
            if self._dup_acks == DUP_ACK_THRESHOLD:
                self.host.log(f"TCP {self.name} fast retransmit of seq {self.snd_una}")
                self._retransmit(1)
        if seq_le(self.snd_una, seg.ack) and (seq_lt(self.snd_wl1, seg.seq) or (
                self.snd_wl1 == seg.seq and seq_le(self.snd_wl2, seg.ack))):
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, seg.ack     # the window update
        # Our FIN acknowledged? (CLOSE may have come before all the data went out, so until then these
        # states still send data, below.)
        if self.state == FIN_WAIT_1 and self._fin_acked:
            self._set_state(FIN_WAIT_2)
        elif self.state == CLOSING and self._fin_acked:
            self._enter_time_wait()
        elif self.state == LAST_ACK and self._fin_acked:
            self._enter_closed(None)
            return None
        elif self.state == TIME_WAIT:
            # "The only thing that can arrive in this state is a retransmission of the remote FIN."
            if fin:
                self._restart_time_wait()
                self._send(self.snd_nxt, {"ack"})
            return None

        # seventh and eighth: the segment text and the FIN bit (after the peer's FIN, in CLOSE-WAIT, CLOSING
        # and LAST-ACK, there is none: the text is ignored).
        if self.state in RECEIVING_STATES and (data or fin):
            self._receive_text(seq, data, fin)
        if self.state != CLOSED:
            self._output()
        return None

    def _ack_advanced(self, ack: int) -> None:
        """SND.UNA < SEG.ACK =< SND.NXT: forget what was acknowledged, sample the RTT, restart the timer."""
        self.snd_una = ack
        done = min(max(0, seq_diff(ack, self._buf_seq)), len(self._sndbuf))
        del self._sndbuf[:done]
        self._buf_seq = (self._buf_seq + done) % MOD
        self._dup_acks = 0
        self._retries = 0
        if self._rtt_timing is not None and seq_le(self._rtt_timing[0], ack):
            self._rtt_sample(self.sim.now_ns - self._rtt_timing[1])
            self._rtt_timing = None
        if self.snd_una == self.snd_nxt:
            self._stop_timer()                                        # RFC 6298 5.2
        else:
            self._start_timer()                                       # RFC 6298 5.3

    def _rtt_sample(self, r: int) -> None:
        """RFC 6298 2.2 and 2.3 (alpha 1/8, beta 1/4, K 4), with the 1 s minimum of 2.4."""
        if self.srtt_ns is None:
            self.srtt_ns, self.rttvar_ns = r, r // 2
        else:
            self.rttvar_ns = (3 * self.rttvar_ns + abs(self.srtt_ns - r)) // 4
            self.srtt_ns = (7 * self.srtt_ns + r) // 8
        self.rto_ns = min(RTO_MAX_NS, max(RTO_MIN_NS, self.srtt_ns + max(1, 4 * self.rttvar_ns)))

    # ------------------------------------------------------------------ receiving

    def _receive_text(self, seq: int, data: bytes, fin: bool) -> None:
        """Seventh and eighth steps: take text at RCV.NXT, keep later text until the gap is filled."""
        self._ack_needed = True
        if seq != self.rcv_nxt:
            held = self._out_of_order.get(seq)
            if held is None or len(held[0]) + held[1] < len(data) + fin:
                self._out_of_order[seq] = (data, fin)
            return
        self._take(data, fin)
        while self._out_of_order and self.state in RECEIVING_STATES:
            ready = [s for s in self._out_of_order if seq_le(s, self.rcv_nxt)]
            if not ready:
                break
            for s in sorted(ready, key=lambda s: seq_diff(s, self.rcv_nxt)):
                data, fin = self._out_of_order.pop(s)
                skip = seq_diff(self.rcv_nxt, s)
                if skip < len(data) or (fin and skip == len(data)):
                    self._take(data[skip:], fin)
                break

    def _take(self, data: bytes, fin: bool) -> None:
        if data:
            self.rcv_nxt = (self.rcv_nxt + len(data)) % MOD
            self.received += data
            if self.on_data is not None:
                self.on_data(self, data)
        if fin:
            self._fin_arrives()

    def _fin_arrives(self) -> None:
        """Eighth step: the FIN takes one sequence number (R30) and moves the state on."""
        self.rcv_nxt = (self.rcv_nxt + 1) % MOD
        self._ack_needed = True
        self._out_of_order.clear()
        if self.state in (SYN_RECEIVED, ESTABLISHED):
            self._set_state(CLOSE_WAIT)
        elif self.state == FIN_WAIT_1:
            self._set_state(CLOSING)             # our FIN is not acknowledged yet: a simultaneous close
        elif self.state == FIN_WAIT_2:
            self._enter_time_wait()

    # ------------------------------------------------------------------ ICMP

    def icmp_error(self, notice, seq: int, too_big: bool, hard: bool) -> None:
        """An ICMP error about one of our segments (3.9.1)."""
        if not (seq_le(self.snd_una, seq) and seq_lt(seq, self.snd_nxt)):
            self.host.log(f"TCP {self.name}: ICMP error quoting seq {seq} outside SND.UNA..SND.NXT; ignored")
            return                                                    # RFC 5927 4.1
        what = f"ICMP{'v6' if notice.v6 else ''} {notice.type}/{notice.code} from {_addr(notice.src, notice.v6)}"
        if too_big:
            # The host has lowered the path MTU already: what is in flight was too big and is lost. Resend it
            # once per decrease (the other segments of the flight bring the same news).
            mss = self.effective_mss()
            if mss != self._mss_after_icmp and self.state in SENDING_STATES:
                self._mss_after_icmp = mss
                self.host.log(f"TCP {self.name}: {what}: MSS now {mss}, resending what is in flight")
                self._retransmit(None)
            return
        if hard and self.state == SYN_SENT:
            self.host.log(f"TCP {self.name}: {what}: connection refused")
            self._enter_closed(f"destination unreachable ({what})")
            return
        self.soft_error = what
        self.host.log(f"TCP {self.name}: soft error {what}")
