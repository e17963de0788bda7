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
         also limited by the path MTU cache of the host (pmtu.py), less the
         12 bytes of timestamps when they are used
  3.10   the user calls: OPEN (TcpStack.listen, TcpStack.connect), SEND,
         CLOSE, ABORT; and the event "SEGMENT ARRIVES", in the RFC's order:
         3.10.7.1 CLOSED (R31 resets), 3.10.7.2 LISTEN, 3.10.7.3 SYN-SENT,
         3.10.7.4 the other states (first check the sequence number, second
         the RST bit, fourth the SYN bit, fifth the ACK field, seventh the
         segment text, eighth the FIN bit)

What it leaves out, to stay short: urgent data. The sender sends what both
windows allow: the peer's and the congestion window of its
congestion control (congestion.py: CUBIC by default as in Linux, NewReno or
Reno per connection; the initial window of RFC 6928). Nagle's algorithm
(RFC 896, Minshall's variant as Linux) holds a small segment while another
small one is unacknowledged, unless `nodelay`. The receiver delays its ACKs
as Linux does (RFC 1122 4.2.3.2: quick ACKs for the first 16 segments, then
one for every second full-sized segment or after 40 ms). ECN (RFC 3168) is
asked for with connect(ecn=True) and accepted from peers that ask (Linux's
tcp_ecn = 2): data goes out ECT(0), a CE mark is echoed with ECE until CWR,
and the sender halves its window once per window of data. ICMP Source
Quench is ignored (RFC 6633).
The application refills a send buffer of SEND_BUFFER bytes when ACKs make
room (`on_writable`, as a socket becomes writable), so a long transfer is
never held whole. Out-of-order segments are kept until the gap is filled
(RFC 9293 allows it), each byte once, within the receive window.

Window scaling and timestamps (RFC 7323), on by default as in Linux
(tcp_window_scaling = tcp_timestamps = 1; connect(wscale=False,
timestamps=False) or the traffic keys `wscale: false`, `timestamps: false`
leave them out of a SYN). The options go on SYNs in Linux's order (MSS,
NOP, NOP, TS, NOP, WS: tcp_options.py) and are used when both SYNs carry
them. The shift is Linux's: the smallest that lets the 16-bit field say
the largest receive buffer (tcp_rmem[2] = 6 MiB: 7), or the window the
application fixed by setting rcv_wnd (SO_RCVBUF). A SYN's window is never
scaled; other segments' are shifted both ways, rounded up, and the right
edge once advertised is never pulled back. The receive buffer starts at
128 KiB and offers half (64 KiB), and grows as Linux's autotuning grows it
(rcvbuf.py), so a long flow on a path with a large bandwidth-delay product
can fill it; the send buffer grows to twice cwnd (up to 4 MiB). Timestamps:
TSval is a 1 ms clock plus an offset per pair of addresses from the seeded
secret; TS.Recent follows the segment that covers the last ACK sent (4.3);
the ACK of data sent again is timed by its echo, where Karn's rule leaves
the RTT clock alone (as Linux does: other ACKs are timed from the sending
time, precise to the nanosecond); PAWS (5.3) drops a segment whose TSval is
more than one tick older than TS.Recent and answers it with an ACK
(PAWS_REJECTED), unless TS.Recent is over 24 days old (5.5); TIME-WAIT
takes a new SYN with a newer TSval whatever its sequence number (RFC 6191).
Data segments carry 12 bytes of options, so 1448 bytes on a 1500-byte MTU
while the MSS option still says 1460. SYN cookies keep the peer's window
scale and ECN wish in the low 6 bits of the SYN,ACK's TSval (Linux's
cookie_init_timestamp); a SYN without timestamps gets a cookie SYN,ACK
without window scaling or ECN, so that connection has neither. Left out:
Linux's exception for old pure ACKs (tcp_disordered_ack), and timestamps on
RSTs.

Hostile traffic, bounded as Linux bounds it:
  - SYN floods: a listener keeps at most `syn_backlog` connections in
    SYN-RECEIVED (Linux's tcp_max_syn_backlog, 128 on a small machine); a SYN
    that finds the queue full is answered with a SYN cookie (RFC 4987 3.6,
    Linux's tcp_syncookies=1), which costs no state until a valid ACK returns
    it. A SYN,ACK is retransmitted SYNACK_RETRIES = 5 times (Linux's
    tcp_synack_retries), then the half-open connection is forgotten without a
    RST (its source may be spoofed). Established connections the application
    has not accepted wait in an accept queue of `backlog` (listen()'s backlog).
  - ACK loops: an ACK in SYN-RECEIVED that does not acknowledge our SYN gets a
    reset (3.5.2), whatever its sequence number; the ACKs TCP sends for
    segments it cannot use are rate-limited per connection (RFC 5961 7, Linux's
    tcp_invalid_ratelimit 500 ms), and challenge ACKs optionally per host.
  - TIME-WAIT accepts a new SYN with a greater sequence number (RFC 1122
    4.2.2.13), or with timestamps a newer TSval (RFC 6191 2); an older one
    gets an ACK.
Counters: `TcpListener.stats` and `TcpStack.stats` (reason -> count), and
`TcpStack.counters()` for a run summary.

Retransmission (RFC 6298, with Linux's constants): one timer per connection,
running while data is unacknowledged. RTO starts at 1 s; an RTT sample from
a segment that was never retransmitted (Karn's rule) updates SRTT and RTTVAR
and sets RTO = SRTT + max(4 * RTTVAR, 200 ms) (Linux's TCP_RTO_MIN), at most
120 s (TCP_RTO_MAX). A SYN is sent SYN_RETRIES = 6 more times (given up at
127 s); an established connection gives up 924.6 s after the first sending
of what it keeps resending (Linux's tcp_retries2 = 15) and is aborted
("connection timed out").

SACK (RFC 2018; sack.py): SACK-permitted goes on our SYN (unless
connect(sack=False) or the stack's `sack` is off, Linux's tcp_sack) and on
our SYN,ACK when the peer's SYN had it; a connection uses SACK when both
did. A connection made from a SYN cookie has none (Linux keeps SACK in a
cookie only inside a timestamp). While the receiver holds data out of
order, every ACK carries SACK blocks, the block of the latest segment
first, then the most recent others, as many as the option room left by the
segment's other options holds (4 alone); a duplicate segment is reported
once in a D-SACK block (RFC 2883). A data segment carrying blocks is cut
shorter by their bytes, as Linux's tcp_current_mss does.

Loss recovery (the same for every congestion control, as in Linux): three
duplicate ACKs start fast retransmit and fast recovery (RFC 5681 3.2), with
NewReno's partial ACKs (RFC 6582) for NewReno and CUBIC, Reno's for Reno. A
timeout sets ssthresh, makes cwnd one segment, counts everything in flight
as lost and sends it again in slow start (Linux's loss state; without SACK
that is go-back-N). With SACK, recovery follows RFC 6675 with its
scoreboard: an ACK that SACKs new data is a duplicate; DupThresh of them, or
IsLost(SND.UNA), start it (RecoveryPoint = SND.NXT, cwnd = ssthresh); then,
while cwnd exceeds `pipe` (SetPipe: data neither SACKed nor lost, plus what
was resent), NextSeg sends lost ranges again, each once, and otherwise new
data; it ends when RecoveryPoint is acknowledged. After a timeout the
scoreboard is kept (RFC 6675 5.1, as Linux): only un-SACKed data is sent
again; if the peer acknowledged less than it had SACKed (reneging), the
timeout clears it. `retransmitted_bytes` counts the data sent again. When the peer's window is zero, the timer sends one byte
at a time as a window probe (3.8.6.1). An ICMP "fragmentation needed" or
"packet too big" for a connection resends everything in flight, cut to the
new size.

ICMP errors (3.9.1, RFC 5461, RFC 5927): a Destination Unreachable (other
than "fragmentation needed"), or IPv6's "unrecognized Next Header", aborts a
connection in SYN-SENT; a net or host unreachable, time exceeded or parameter
problem (ICMPv6: destination unreachable or parameter problem) quoting a
listener's SYN,ACK forgets that half-open connection at once (Linux's
tcp_req_err); any other error only records `soft_error`, reported
if the connection later times out. The quoted sequence number must lie in
SND.UNA..SND.NXT, or the message is ignored.

Accounting: every segment handed to TCP ends as host.deliver("tcp") when a
connection or listener used it (this includes duplicates that TCP answers
with an ACK, which is their purpose after a lost ACK), or host.drop(reason,
detail): BAD_CHECKSUM, MALFORMED (too short, a bad header or option length),
TRANSPORT_DISCARD (a segment the RFC says to discard silently, such as a RST
outside the window; an ACK that does not acknowledge our SYN),
ACK_RATE_LIMITED (a segment whose answering ACK was rate-limited),
BAD_SYN_COOKIE (an ACK that is not a valid SYN cookie), PAWS_REJECTED (an
old duplicate, RFC 7323 5), SYN_QUEUE_FULL (when
cookies are off), ACCEPT_QUEUE_FULL, OUT_OF_ORDER_QUEUE_FULL, NO_LISTENER (a
closed port, answered per R31), NOT_FOR_US (sent to a broadcast or multicast address). A SYN answered with a
cookie was used: delivered.
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from dataclasses import dataclass
from typing import Callable

from ...protocols import packets as P
from ...runtime.trace import DropReason
from . import congestion, tcp_wire
from .tcp_wire import ACK, CWR, ECE, FIN, PSH, RST, SYN
from .sack import MAX_OPTION_BYTES, ReceivedBlocks, Scoreboard, parse_blocks
from .rcvbuf import TCP_RMEM_MAX, ReceiveBuffer
from .tcp_options import (MAX_WSCALE, PAWS_24DAYS_NS, PAWS_WINDOW, TS_OPTION_HEAD, TS_OPTION_LEN, TS_TICK_NS,
                          TS_VALUES, cookie_ts_decode,
                          cookie_ts_encode, scaled_window, syn_options, timestamp_option, ts_before, ts_now,
                          ts_offset, window_shift)

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

# States in which header prediction applies (the synchronized states but TIME-WAIT: where data and its ACKs
# flow; the general path decides what the state makes of the segment, after the ACK, for both).
PREDICTED_STATES = frozenset((ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK))

# ---------------------------------------------------------------------------- constants

MOD = 1 << 32                         # sequence numbers are 32 bits (3.4)
HALF = MOD // 2                       # a distance of HALF or more modulo 2**32 is a negative one
NS = 1_000_000_000
DEFAULT_MSS = {False: 536, True: 1220}            # 3.7.1, R30: when the SYN carries no MSS option
IP_HEADER = {False: 20, True: 40}
TCP_HEADER = 20
RCV_WND = 65535                       # the largest window without scaling (and the first, before the handshake)
RTO_INITIAL_NS = 1 * NS               # RFC 6298 2.1
RTO_MIN_NS = NS // 5                  # Linux's TCP_RTO_MIN (RFC 6298 2.4 says 1 s; 200 ms is what Linux does)
RTO_MAX_NS = 120 * NS                 # Linux's TCP_RTO_MAX (RFC 6298 2.5: at least 60 s)
SYN_RETRIES = 6                       # Linux's tcp_syn_retries: SYN at 0, 1, 3, 7, 15, 31, 63 s; given up at 127 s
TCP_RETRIES2 = 15                     # Linux's tcp_retries2


def _retries_timeout_ns(boundary: int, rto_base_ns: int) -> int:
    """How long Linux retransmits before giving up (tcp_timer.c retransmits_timed_out): the time `boundary`
    timeouts take when RTO starts at rto_base and doubles up to TCP_RTO_MAX, whatever the real RTT."""
    threshold = (RTO_MAX_NS // rto_base_ns).bit_length() - 1          # ilog2(TCP_RTO_MAX / rto_base)
    if boundary <= threshold:
        return ((2 << boundary) - 1) * rto_base_ns
    return ((2 << threshold) - 1) * rto_base_ns + (boundary - threshold) * RTO_MAX_NS


# An established connection gives up 924.6 s after the first transmission of the data it keeps resending
# (RFC 1122 4.2.3.5's R2 is at least 100 s).
RETRIES2_TIMEOUT_NS = _retries_timeout_ns(TCP_RETRIES2, RTO_MIN_NS)
DUP_ACK_THRESHOLD = 3                 # RFC 5681 3.2
EPHEMERAL_FIRST, EPHEMERAL_COUNT = 49152, 16384   # RFC 6335 dynamic ports
# Delayed ACKs as Linux sends them (RFC 1122 4.2.3.2): the first TCP_MAX_QUICKACKS data segments of a
# connection are acknowledged at once (quick-ack mode, so that the peer's slow start is not held back);
# then an ACK goes when more than one full-sized segment is unacknowledged, or after TCP_DELACK_MIN.
# Out-of-order text, text that fills a hole, and a FIN are acknowledged at once.
TCP_MAX_QUICKACKS = 16
# ECN (RFC 3168): the IP header's two ECN bits.
ECN_ECT0 = 0b10
ECN_CE = 0b11
TCP_DELACK_MIN_NS = 40_000_000
SEND_BUFFER = 128 * 1024              # what on_writable keeps queued at least: twice a 64 KiB window
TCP_WMEM_MAX = 4 * 1024 * 1024        # Linux's tcp_wmem[2]: the send buffer grows to twice cwnd, up to this
# Hostile traffic (Linux defaults, net/ipv4/tcp_ipv4.c tcp_sk_init and ip-sysctl.rst).
SYNACK_RETRIES = 5                    # tcp_synack_retries: SYN,ACK at 0, 1, 3, 7, 15, 31 s; given up at 63 s
MAX_SYN_BACKLOG = 128                 # tcp_max_syn_backlog = max(128, established hash size / 128): 128 when small
LISTEN_BACKLOG = 128                  # listen()'s backlog when none is given (SOMAXCONN until Linux 5.4)
INVALID_RATELIMIT_NS = 500_000_000    # tcp_invalid_ratelimit (HZ/2): one answer to invalid segments per 500 ms
CHALLENGE_ACK_LIMIT = None            # tcp_challenge_ack_limit per second: INT_MAX (off) since Linux 6.0, 1000 before
SYNCOOKIE_PERIOD_NS = 64 * NS         # RFC 4987 3.6: t counts 64-second periods; its low 5 bits are in the cookie
SYNCOOKIE_MAX_AGE = 2                 # a cookie is good in the period it was made and the next (Linux's limit too)
SYNCOOKIE_VALID_NS = SYNCOOKIE_MAX_AGE * SYNCOOKIE_PERIOD_NS   # ACKs are checked as cookies this long after we sent one
COOKIE_MSS = (64, 536, 1220, 1360, 1400, 1440, 1460, 8960)    # the 3-bit MSS of a cookie: the peer's, rounded down
# The window scale shift of a SYN,ACK with a cookie: the one a new connection offers (its buffer may grow to
# tcp_rmem[2]), as Linux's cookie connections choose it again from the same settings when the ACK returns.
COOKIE_WSCALE = window_shift(TCP_RMEM_MAX)
SEGMENT_OVERHEAD = 256                # an out-of-order piece's cost besides its bytes (Linux: skb truesize)
# What out-of-order text may cost: Linux advertises about half of its receive buffer (tcp_adv_win_scale = 1),
# keeping the rest for the overhead, so a whole window of full-sized segments always fits.
RECEIVE_BUFFER = 2 * RCV_WND


# What TcpConnection.predicted_segment_arrives returns for a segment the general path must take.
NOT_PREDICTED = object()


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
    ce: bool = False              # the IP header said Congestion Experienced (ECN codepoint 11, RFC 3168)
    sack_permitted: bool = False  # the SACK-permitted option (RFC 2018), on a SYN
    sack: tuple = ()              # the SACK option's blocks, (left, right) pairs (sack.py)
    wscale: int | None = None     # the window scale option's shift (RFC 7323 2), if present
    tsval: int | None = None      # the timestamps option (RFC 7323 3), if present
    tsecr: int | None = None

    @property
    def len(self) -> int:
        """SEG.LEN: the text, plus one for SYN and one for FIN (R30)."""
        return len(self.data) + ("syn" in self.flags) + ("fin" in self.flags)


def parse_segment(raw: bytes) -> Segment:
    """Decode a TCP segment (checksum already verified); ValueError if the header or an option is malformed."""
    if len(raw) < TCP_HEADER:
        raise ValueError(f"tcp_t needs {TCP_HEADER} bytes, only {len(raw)} left")
    sport, dport, seq, ack, offset, flags, window = tcp_wire.HEADER.unpack_from(raw)
    offset = (offset >> 4) * 4
    if offset < TCP_HEADER or offset > len(raw):
        raise ValueError(f"data offset {offset} in a segment of {len(raw)} bytes")
    options, mss, i = raw[TCP_HEADER:offset], None, 0
    sack_permitted, sack_blocks = False, ()
    wscale = tsval = tsecr = None
    if len(options) == TS_OPTION_LEN and options[:4] == TS_OPTION_HEAD:   # NOP, NOP, TS: most segments
        tsval, tsecr = TS_VALUES.unpack_from(options, 4)
        i = TS_OPTION_LEN
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
        elif kind == 4 and options[i + 1] == 2:        # SACK-permitted (RFC 2018)
            sack_permitted = True
        elif kind == 5:                                # SACK (RFC 2018)
            sack_blocks = parse_blocks(options[i + 2:i + options[i + 1]])
        elif kind == 3 and options[i + 1] == 3:        # Window Scale (RFC 7323 2.2)
            wscale = options[i + 2]
        elif kind == 8 and options[i + 1] == 10:       # Timestamps (RFC 7323 3.2)
            tsval, tsecr = int.from_bytes(options[i + 2:i + 6], "big"), int.from_bytes(options[i + 6:i + 10], "big")
        i += options[i + 1]
    return Segment(sport, dport, seq, ack, tcp_wire.FLAG_SETS[flags], window, bytes(raw[offset:]), mss,
                   sack_permitted=sack_permitted, sack=sack_blocks, wscale=wscale, tsval=tsval, tsecr=tsecr)


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
        self._cookie_secret = hashlib.sha256(b"SYN cookie " + self._secret).digest()   # RFC 4987 3.6, from the seed
        self._rng = rng
        self._next_port = EPHEMERAL_FIRST
        self.connections: dict[tuple, TcpConnection] = {}          # (v6, local, lport, remote, rport) -> TCB
        self.listeners: dict[int, TcpListener] = {}
        self.syncookies = True                                     # Linux's tcp_syncookies=1: when the queue is full
        self.challenge_ack_limit: int | None = CHALLENGE_ACK_LIMIT
        self._challenge_second = -1
        self._challenge_budget = 0
        self.stats = dict.fromkeys(("challenge_acks", "challenge_acks_rate_limited", "dup_acks_rate_limited",
                                    "time_wait_reopened", "out_of_order_queue_full", "paws_rejected"), 0)
        # Retransmission timeouts of all connections: the simulated time spent waiting for them, so that a
        # run that lasted long because timers backed off (RFC 6298 5.5) can say so.
        # Linux's tcp_ecn = 2: ECN is used when the peer asks for it in its SYN; connect(ecn=True) asks.
        self.ecn_accept = True
        # Linux's tcp_sack = 1: SACK-permitted on our SYNs and SYN,ACKs (RFC 2018); connect(sack=False) leaves it off.
        self.sack = True
        # Linux's tcp_window_scaling = 1 and tcp_timestamps = 1 (RFC 7323): offered in every SYN, used when
        # the peer's SYN has them too.
        self.window_scaling = True
        self.timestamps = True
        # Header prediction (TcpConnection.predicted_segment_arrives): the common segment of an established
        # connection skips the general path. It changes nothing but the CPU time; False is for the tests
        # that prove it, by comparing runs with and without.
        self.header_prediction = True
        # rtt_watchers(conn, rtt_ns): every RTT measurement of every connection, as SRTT takes it (results).
        self.rtt_watchers: list[Callable] = []
        self.rto_timeouts = 0
        self.rto_waited_ns = 0
        self.rto_peak_ns = 0
        # RFC 4022's tcpInSegs and tcpOutSegs: every segment handed to TCP (errors included) and sent by it.
        self.in_segments = 0
        self.out_segments = 0
        host.tcp = self
        host.protocols[(False, P.IP_TCP)] = self.segment_arrives
        host.protocols[(True, P.IP_TCP)] = self.segment_arrives
        host.icmp_listeners.append(self.icmp_arrives)

    # ------------------------------------------------------------------ OPEN (3.10.1)

    def listen(self, port: int, on_accept: Callable | None = None, backlog: int = LISTEN_BACKLOG) -> "TcpListener":
        """A passive OPEN on `port`, for IPv4 and IPv6.

        on_accept(conn) is called when a SYN arrives, with the new connection in SYN-RECEIVED, before the
        SYN,ACK goes out (or, for a SYN answered with a cookie, when its ACK comes back). Without on_accept,
        established connections wait in the accept queue for TcpListener.accept(). `backlog` bounds that queue
        and, with MAX_SYN_BACKLOG, the half-open connections (Linux's listen() backlog)."""
        if port in self.listeners:
            raise TcpError(f"port {port} is already listening")
        listener = TcpListener(self, port, on_accept, backlog)
        self.listeners[port] = listener
        listener._set_state(LISTEN)
        return listener

    def connect(self, dst: int, dport: int, v6: bool = False, sport: int | None = None,
                cc: str | None = None, ecn: bool = False, sack: bool = True, wscale: bool = True,
                timestamps: bool = True) -> "TcpConnection":
        """An active OPEN: choose the source address and port, send a SYN, enter SYN-SENT. `cc` names the
        congestion control (congestion.py; default CUBIC, as Linux); sack=False sends no SACK-permitted;
        `wscale` and `timestamps` False leave those options (RFC 7323) out of the SYN, as the stack's settings
        would for every connection."""
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
        conn = TcpConnection(self, v6, local, sport, dst, dport, iface, cc=cc, ecn=ecn, sack=sack, wscale=wscale,
                             timestamps=timestamps)
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
        self.in_segments += 1
        outcome = self._segment_arrives(pkt)
        if outcome is None:
            self.host.deliver("tcp")
        else:
            self.host.drop(*outcome)

    def _segment_arrives(self, pkt):
        raw = pkt.payload
        if len(raw) < TCP_HEADER:
            return DropReason.MALFORMED, f"TCP segment of {len(raw)} bytes"
        if not tcp_wire.checksum_ok(pkt.src, pkt.dst, raw):
            return DropReason.BAD_CHECKSUM, "TCP: bad checksum"
        ecn = (pkt.datagram[1] >> 4) & 3 if pkt.v6 else pkt.datagram[1] & 3
        sport, dport, seq, ack, offset, flags, wnd = tcp_wire.HEADER.unpack_from(raw)
        if flags & ~PSH == ACK and not pkt.broadcast and self.header_prediction:
            # Header prediction (Linux's tcp_rcv_established): an ACK, with data or without, for an
            # established connection, with the options it always carries, goes straight to the connection.
            conn = self.connections.get((pkt.v6, pkt.dst, dport, pkt.src, sport))
            if conn is not None and conn.state in PREDICTED_STATES:
                if conn.ts_ok:
                    predicted = offset == 0x80 and len(raw) >= 32 and raw[20:24] == TS_OPTION_HEAD
                    tsval, tsecr = TS_VALUES.unpack_from(raw, 24) if predicted else (None, None)
                else:
                    predicted, tsval, tsecr = offset == 0x50, None, None
                if predicted:
                    data = bytes(raw[offset >> 2:])
                    outcome = conn.predicted_segment_arrives(seq, ack, flags, wnd, data, tsval, tsecr, ecn == ECN_CE)
                    if outcome is not NOT_PREDICTED:
                        return outcome
        try:
            seg = parse_segment(raw)
        except ValueError as e:
            return DropReason.MALFORMED, f"TCP: {e}"
        seg.ce = ecn == ECN_CE
        if pkt.broadcast:
            # RFC 1122 4.2.3.10: TCP is for one peer; a SYN to a broadcast or multicast address is discarded.
            return DropReason.NOT_FOR_US, "TCP segment to a broadcast or multicast address"
        conn = self.connections.get((pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport))
        listener = self.listeners.get(seg.dport)
        if conn is not None and listener is not None and conn.reopens(seg) and listener.has_room():
            return self._reopen(conn, listener, pkt, seg)
        if conn is not None:
            return conn.segment_arrives(seg)
        if listener is not None:
            return listener.segment_arrives(pkt, seg)
        return self._closed_port(pkt, seg)

    def _reopen(self, conn: "TcpConnection", listener: "TcpListener", pkt, seg: Segment):
        """A new SYN for a connection in TIME-WAIT (RFC 1122 4.2.2.13, RFC 6191 2): the old incarnation ends and
        the listener takes the SYN, with an ISS beyond anything the old one sent, so its old duplicates cannot
        be taken for new data (Linux also starts a window and a bit past SND.NXT)."""
        iss = (conn.snd_nxt + RCV_WND + 2) % MOD
        self.host.log(f"TCP {conn.name}: new SYN in TIME-WAIT (seq {seg.seq} after RCV.NXT {conn.rcv_nxt}): "
                      f"a new incarnation")
        self.stats["time_wait_reopened"] += 1
        conn._enter_closed(None)
        return listener.segment_arrives(pkt, seg, iss)

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

    def ip_send(self, v6: bool, src: int, dst: int, raw: bytes, ecn: int = 0) -> str | None:
        """Hand a segment to IP; IPv4 sets DF, since TCP sizes its segments to the path MTU (3.7.2). `ecn` is
        the IP header's ECN field (ECT(0) for the data of an ECN-capable connection)."""
        self.out_segments += 1
        if v6:
            return self.host.send_ipv6(dst, P.IP_TCP, raw, src=src, traffic_class=ecn)
        return self.host.send_ipv4(dst, P.IP_TCP, raw, src=src, df=True, ecn=ecn)

    # ------------------------------------------------------------------ SYN cookies (RFC 4987 3.6)

    def syn_cookie(self, v6: bool, local: int, lport: int, remote: int, rport: int, client_isn: int,
                   peer_mss: int) -> int:
        """The ISS of a SYN,ACK sent without keeping state: t mod 32 (5 bits, t counting 64-second periods), the
        peer's MSS as an index into COOKIE_MSS (3 bits), and 24 bits of a keyed hash of the 4-tuple, t and the
        client's ISN, so that only the ACK of this SYN,ACK returns it."""
        t = self.sim.now_ns // SYNCOOKIE_PERIOD_NS
        index = max((i for i, m in enumerate(COOKIE_MSS) if m <= peer_mss), default=0)
        return ((t % 32) << 27) | (index << 24) | self._cookie_mac(t, v6, local, lport, remote, rport, client_isn)

    def check_cookie(self, v6: bool, local: int, lport: int, remote: int, rport: int, seg: Segment) -> int | None:
        """The MSS a returning ACK's cookie (SEG.ACK - 1) carries, if we made it for SEG.SEQ - 1 in this
        period or the one before; None if it is not one of ours."""
        cookie, client_isn = (seg.ack - 1) % MOD, (seg.seq - 1) % MOD
        now = self.sim.now_ns // SYNCOOKIE_PERIOD_NS
        age = (now - (cookie >> 27)) % 32
        if age >= SYNCOOKIE_MAX_AGE:
            return None
        if cookie & 0xFFFFFF != self._cookie_mac(now - age, v6, local, lport, remote, rport, client_isn):
            return None
        return COOKIE_MSS[(cookie >> 24) & 7]

    def ts_offset(self, local: int, remote: int) -> int:
        """The timestamp clock's offset for connections between two addresses (tcp_options.ts_offset)."""
        return ts_offset(self._secret, local, remote)

    def _cookie_mac(self, t: int, v6: bool, local: int, lport: int, remote: int, rport: int, isn: int) -> int:
        text = f"{v6} {local} {lport} {remote} {rport} {t} {isn}".encode()
        return int.from_bytes(hashlib.sha256(self._cookie_secret + text).digest()[:3], "big")

    # ------------------------------------------------------------------ rate limits (RFC 5961 7)

    def challenge_ack_allowed(self) -> bool:
        """The host-wide limit on challenge ACKs per second (Linux's tcp_challenge_ack_limit), when one is set.
        Each second gets between limit/2 and 3*limit/2 of them, drawn from the seeded generator: Linux
        randomizes the count because a fixed one leaked connection state to an off-path attacker (CVE-2016-5696)."""
        limit = self.challenge_ack_limit
        if limit is None:
            return True
        second = self.sim.now_ns // NS
        if second != self._challenge_second:
            self._challenge_second = second
            half = (limit + 1) // 2
            self._challenge_budget = self._rng.randint(half, limit + half - 1) if limit > 0 else 0
        if self._challenge_budget <= 0:
            return False
        self._challenge_budget -= 1
        return True

    def counters(self) -> dict[str, int]:
        """The non-zero counters of the stack and of each listener ("port 80 cookies_sent"), for a run summary."""
        out = {name: n for name, n in self.stats.items() if n}
        for port, listener in sorted(self.listeners.items()):
            out.update((f"port {port} {name}", n) for name, n in listener.stats.items() if n)
        return out

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
            drops_request = notice.type in (1, 4)
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
            drops_request = notice.type in (11, 12) or (notice.type == 3 and notice.code in (0, 1))
        sport, dport, seq = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big"), \
            int.from_bytes(tcp[4:8], "big")
        conn = self.connections.get((notice.v6, src, sport, dst, dport))
        if conn is not None:
            conn.icmp_error(notice, seq, too_big, hard, drops_request)


# ---------------------------------------------------------------------------- LISTEN (3.10.7.2)


class TcpListener:
    """A passive OPEN. Each SYN makes a new connection, which starts as a copy of the listener (as in BSD).

    Bounded as Linux bounds a listening socket: `half_open` holds the connections in SYN-RECEIVED, at most
    `syn_backlog`; when it is full a SYN is answered with a SYN cookie and leaves no state. `accept_queue`
    holds the established connections the application has not taken with accept(), at most `backlog` (only
    without on_accept: on_accept takes each connection at once). `stats` counts what happened (reason -> count)."""

    def __init__(self, stack: TcpStack, port: int, on_accept: Callable | None, backlog: int = LISTEN_BACKLOG):
        self.stack = stack
        self.port = port
        self.on_accept = on_accept
        self.backlog = backlog
        self.syn_backlog = min(backlog, MAX_SYN_BACKLOG)
        self.state = CLOSED
        self.history: list[tuple[int, str, str]] = []
        self.connections: dict[tuple, TcpConnection] = {}      # the live connections it made, by key
        self.half_open: dict[tuple, TcpConnection] = {}        # those in SYN-RECEIVED (the SYN queue)
        self.accept_queue: deque[TcpConnection] = deque()
        self.last_overflow_ns: int | None = None               # when a SYN last found the SYN queue full
        self.stats = dict.fromkeys(("syn_queue_overflows", "cookies_sent", "cookies_validated", "bad_cookies",
                                    "accept_queue_overflows", "synack_timeouts", "icmp_request_drops"), 0)

    def _set_state(self, new: str) -> None:
        old, self.state = self.state, new
        self.history.append((self.stack.sim.now_ns, old, new))
        self.stack.host.log(f"TCP *:{self.port} > *:* {old} -> {new}")

    def close(self) -> None:
        """CLOSE in LISTEN: stop listening; connections already made are not affected."""
        if self.state == LISTEN:
            del self.stack.listeners[self.port]
            self._set_state(CLOSED)

    def accept(self) -> "TcpConnection | None":
        """The oldest established connection the application has not taken yet, or None."""
        return self.accept_queue.popleft() if self.accept_queue else None

    def segment_arrives(self, pkt, seg: Segment, iss: int | None = None):
        """3.10.7.2. `iss`, when given, is the ISS the new connection must use (a SYN that reopens TIME-WAIT)."""
        # first, check for a RST: an incoming RST is ignored.
        if "rst" in seg.flags:
            return DropReason.NO_LISTENER, f"RST to listening port {self.port} (no connection; ignored)"
        # second, check for an ACK: nothing has been sent yet, so any ACK is bad, unless it returns a cookie.
        if "ack" in seg.flags:
            return self._ack_arrives(pkt, seg)
        # third, check for a SYN.
        if "syn" not in seg.flags:
            return DropReason.TRANSPORT_DISCARD, f"TCP segment without SYN, ACK or RST to listening port {self.port}"
        if not self._room_to_accept():
            # Linux drops a SYN while the accept queue is full, cookie or not: the connection could not wait.
            self.stats["accept_queue_overflows"] += 1
            return DropReason.ACCEPT_QUEUE_FULL, f"TCP accept queue of port {self.port} full ({self.backlog})"
        if len(self.half_open) >= self.syn_backlog:
            return self._syn_queue_full(pkt, seg)
        conn = self._new_connection(pkt, seg)
        self.half_open[conn.key] = conn
        conn._open_passive(seg, self.on_accept, iss)
        return None

    def _new_connection(self, pkt, seg: Segment) -> "TcpConnection":
        conn = TcpConnection(self.stack, pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, pkt.iface, listener=self)
        self.stack.connections[conn.key] = conn
        self.connections[conn.key] = conn
        return conn

    def _room_to_accept(self) -> bool:
        return self.on_accept is not None or len(self.accept_queue) < self.backlog

    def has_room(self) -> bool:
        """Room for a new connection in SYN-RECEIVED. A SYN that reopens TIME-WAIT needs it: a cookie could not
        carry the ISS that the new incarnation must use, so without room TIME-WAIT stays and answers the SYN."""
        return self._room_to_accept() and len(self.half_open) < self.syn_backlog

    def _syn_queue_full(self, pkt, seg: Segment):
        """RFC 4987 3.6: with the SYN queue full, answer with a SYN cookie and keep nothing (Linux's
        tcp_syncookies=1); with cookies off, the SYN is dropped and the peer retries."""
        self.stats["syn_queue_overflows"] += 1
        stack = self.stack
        if not stack.syncookies:
            return DropReason.SYN_QUEUE_FULL, f"TCP SYN queue of port {self.port} full ({self.syn_backlog} half-open)"
        if self.last_overflow_ns is None:
            # Linux warns once per listener ("Possible SYN flooding on port ..."); counters tell the rest.
            stack.host.log(f"TCP *:{self.port}: possible SYN flooding ({self.syn_backlog} half-open): sending cookies")
        self.last_overflow_ns = stack.sim.now_ns
        peer_mss = seg.mss if seg.mss else DEFAULT_MSS[pkt.v6]
        cookie = stack.syn_cookie(pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, seg.seq, peer_mss)
        our_mss = pkt.iface.mtu - IP_HEADER[pkt.v6] - TCP_HEADER
        flags, options = {"syn", "ack"}, P.tcp_mss_option(our_mss)
        if stack.timestamps and seg.tsval is not None:
            # Linux keeps what the SYN negotiated in the low bits of our TSval, which the ACK echoes
            # (cookie_init_timestamp). Without timestamps a cookie connection has neither window scaling nor ECN.
            wscale = seg.wscale if stack.window_scaling else None
            ecn = stack.ecn_accept and {"ece", "cwr"} <= seg.flags
            if ecn:
                flags.add("ece")
            tsval = cookie_ts_encode(ts_now(stack.sim.now_ns, stack.ts_offset(pkt.dst, pkt.src)), wscale, False, ecn)
            options = syn_options(our_mss, None if wscale is None else COOKIE_WSCALE, (tsval, seg.tsval))
        raw = P.tcp(pkt.dst, pkt.src, seg.dport, seg.sport, cookie, (seg.seq + 1) % MOD, flags,
                    window=RCV_WND, options=options, v6=pkt.v6)
        stack.ip_send(pkt.v6, pkt.dst, pkt.src, raw)
        self.stats["cookies_sent"] += 1
        return None

    def _ack_arrives(self, pkt, seg: Segment):
        """An ACK with no connection: a returning SYN cookie makes the connection; anything else gets
        <SEQ=SEG.ACK><CTL=RST>. ACKs are checked as cookies only while we have been sending them (Linux
        does the same), so a guessed cookie cannot open a connection to a listener that is not flooded."""
        stack = self.stack
        cookies_recent = (self.last_overflow_ns is not None
                          and stack.sim.now_ns - self.last_overflow_ns < SYNCOOKIE_VALID_NS)
        if cookies_recent:
            peer_mss = stack.check_cookie(pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, seg)
            if peer_mss is not None:
                return self._cookie_returns(pkt, seg, peer_mss)
            self.stats["bad_cookies"] += 1
        stack.send_reset(pkt.v6, pkt.dst, seg.dport, pkt.src, seg.sport, seg.ack)
        if cookies_recent:
            return DropReason.BAD_SYN_COOKIE, f"ACK to listening port {self.port} is not a valid SYN cookie " \
                                                 f"(RFC 4987 3.6); reset sent"
        return DropReason.NO_LISTENER, f"ACK to listening port {self.port} with no connection; reset sent"

    def _cookie_returns(self, pkt, seg: Segment, peer_mss: int):
        if not self._room_to_accept():
            # As in SYN-RECEIVED (Linux): the ACK is dropped; the peer's next segment carries the cookie again.
            self.stats["accept_queue_overflows"] += 1
            return DropReason.ACCEPT_QUEUE_FULL, f"TCP accept queue of port {self.port} full ({self.backlog})"
        self.stats["cookies_validated"] += 1
        conn = self._new_connection(pkt, seg)
        conn._open_from_cookie(seg, peer_mss, self.on_accept)
        if conn.state != SYN_RECEIVED:
            return None                          # on_accept closed it
        return conn.segment_arrives(seg)         # the ACK (and any text on it) completes the handshake

    def _child_moved(self, conn: "TcpConnection", old: str, new: str) -> None:
        """Keep the queues current as a connection it made changes state."""
        if old == SYN_RECEIVED and self.half_open.get(conn.key) is conn:
            del self.half_open[conn.key]
        if new == ESTABLISHED and self.on_accept is None:
            self.accept_queue.append(conn)
        if new == CLOSED:
            if self.connections.get(conn.key) is conn:
                del self.connections[conn.key]
            if conn in self.accept_queue:
                self.accept_queue.remove(conn)


# ---------------------------------------------------------------------------- a connection


class TcpConnection:
    """One connection: its TCB (RFC 9293 3.3.1), the user calls, and the processing of arriving segments."""

    def __init__(self, stack: TcpStack, v6: bool, local: int, lport: int, remote: int, rport: int, iface,
                 listener: TcpListener | None = None, cc: str | None = None, ecn: bool = False,
                 sack: bool = True, wscale: bool = True, timestamps: bool = True):
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
        self.keep_received = True                # False: the application reads in on_data and wants no copy
        self.on_data: Callable | None = None     # on_data(conn, data)
        self.on_writable: Callable | None = None  # on_writable(conn): ACKs made room in the send buffer
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
        self._rcv_wnd = RCV_WND                  # RCV.WND: see the rcv_wnd property
        self._rcv_edge: int | None = None        # RCV.NXT + the window we last advertised: never moved left
        self.rcvbuf = ReceiveBuffer()            # the receive buffer, autotuned as Linux does (rcvbuf.py)
        self._copied = 0                         # bytes the application has taken, for the autotuning
        # RFC 7323: window scaling and timestamps, asked for in our SYN, used when both SYNs carry them.
        self.wscale_requested = wscale and stack.window_scaling
        self.ts_requested = timestamps and stack.timestamps
        self.wscale_ok = False
        self.rcv_wscale = 0                      # Rcv.Wind.Shift: our shift, once agreed
        self.snd_wscale = 0                      # Snd.Wind.Shift: the peer's
        self.ts_ok = False
        self.ts_recent = 0                       # TS.Recent (RFC 7323 4.3)
        self._ts_recent_ns = 0                   # when TS.Recent was recorded (the 24-day rule, 5.5)
        self._ts_offset = stack.ts_offset(local, remote)
        self._csum_base = tcp_wire.checksum_base(local, remote, lport, rport)   # every segment's checksum starts here
        self._seg_tsecr: int | None = None       # the TSecr of the segment being processed, when valid
        self._rtx_end: int | None = None         # the end of the data sent again (RTT from timestamps)
        # MSS: what we announce (3.7.1) and what the peer announced (R30 default when it sends none).
        self.our_mss = iface.mtu - IP_HEADER[v6] - TCP_HEADER
        self.peer_mss = DEFAULT_MSS[v6]
        # The send buffer holds the data from sequence number _buf_seq on (sent or not, but unacknowledged).
        self._sndbuf = bytearray()
        self._buf_seq = 0
        self._fin_requested = False              # CLOSE was called: a FIN follows the data
        self._close_when_established = False     # CLOSE in SYN-RECEIVED waits for ESTABLISHED
        self._out_of_order: dict[int, bytes] = {}   # seq -> text beyond RCV.NXT; the pieces never overlap
        self._ofo_cost = 0                       # their bytes plus SEGMENT_OVERHEAD each, within RECEIVE_BUFFER
        self._ofo_fin: int | None = None         # the sequence number of a FIN that came before the gap closed
        self._ack_needed = False
        self._delack_timer = None                # a delayed ACK is owed (RFC 1122 4.2.3.2)
        self._rcv_wup = 0                        # RCV.NXT when we last sent an ACK
        self._quickacks: int | None = None       # ACKs still sent at once (None until the first data arrives)
        self.nodelay = False                     # TCP_NODELAY: no Nagle (RFC 896)
        self._small_end: int | None = None       # the end of the last small segment sent (Minshall's Nagle)
        self._last_oow_ack_ns: int | None = None  # when we last answered an invalid segment (RFC 5961 7)
        # Retransmission (RFC 6298).
        self.rto_ns = RTO_INITIAL_NS
        self.srtt_ns: int | None = None
        self.rttvar_ns = 0
        self._rtt_timing: tuple[int, int] | None = None    # (sequence number to be acknowledged, time sent)
        self._rtx_timer = None
        self._rtx_armed_ns = 0
        self._first_sent_ns = 0
        self._retries = 0
        self._dup_acks = 0
        self._time_wait_timer = None
        self._mss_after_icmp: int | None = None  # the MSS when we last resent because of "too big"
        self.retransmissions = 0
        # Congestion control (RFC 5681, RFC 6582; the algorithm in congestion.py). The connection detects
        # losses and recovers; the algorithm sets ssthresh and grows cwnd.
        self.cc = congestion.make(cc, DEFAULT_MSS[v6])
        self._recover = 0                        # RFC 6582's "recover": SND.NXT when the last recovery began
        self._in_recovery = False                # fast recovery after three duplicate ACKs
        self._loss = False                       # after a retransmission timeout, until SND.NXT then is acked
        self._rtx_next = 0                       # in the loss state: the next sequence number to send again
        self.fast_retransmits = 0
        self.timeouts = 0
        # ECN (RFC 3168 6.1): asked for in our SYN, agreed in the handshake; then the receiver echoes a CE
        # mark with ECE until the sender's CWR, and the sender halves its window once per window of data.
        self.ecn_requested = ecn
        self.ecn = False
        self._ece_pending = False                # receiver: set ECE on our ACKs
        self._cwr_pending = False                # sender: set CWR on the next new data
        self._ecn_recover: int | None = None     # sender: no second reduction before this is acknowledged
        self.ecn_reductions = 0
        # SACK (RFC 2018, sack.py): offered in our SYN or SYN,ACK when wanted, used when both sides offered it.
        # The receiver reports what it holds out of order; the sender keeps RFC 6675's scoreboard.
        self.sack_wanted = sack and stack.sack
        self.sack_ok = False
        self._sack_rx: ReceivedBlocks | None = None
        self._scoreboard: Scoreboard | None = None
        self.retransmitted_bytes = 0             # data bytes sent more than once

    @property
    def rcv_wnd(self) -> int:
        """RCV.WND: the window we offer. Set by the application, it is fixed (as SO_RCVBUF fixes a socket's
        buffer: no autotuning, and the window scale shift follows it)."""
        return self._rcv_wnd

    @rcv_wnd.setter
    def rcv_wnd(self, window: int) -> None:
        self._rcv_wnd = window
        self.rcvbuf.lock(window)

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
        if self.listener is not None:
            self.listener._child_moved(self, old, new)
        if self.on_state is not None:
            self.on_state(self, old, new)

    def effective_mss(self) -> int:
        """3.7.1: the peer's MSS, and no more than the path MTU allows (pmtu.py), less the options every
        segment carries (RFC 7323's timestamps: 12 bytes, so 1448 on a 1500-byte MTU, as Linux sends)."""
        cache = self.host.pmtu6 if self.v6 else self.host.pmtu4
        path_mtu = cache.mtu(self.remote, self.iface.mtu)
        return max(1, min(self.peer_mss, path_mtu - IP_HEADER[self.v6] - TCP_HEADER) - self._option_bytes())

    def _option_bytes(self) -> int:
        return TS_OPTION_LEN if self.ts_ok else 0

    def _rcv_mss(self) -> int:
        """The size of the full segments we expect: our MSS less the options on each (Linux's rcv_mss)."""
        mss = self.our_mss - TS_OPTION_LEN if self.ts_ok else self.our_mss       # less _option_bytes()
        return mss if mss > 1 else 1

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

    def writable(self) -> int:
        """How many bytes SEND can queue before the send buffer is full (what a socket's send buffer bounds):
        SEND_BUFFER, or twice the congestion window when that is more, up to TCP_WMEM_MAX (Linux grows the
        send buffer with cwnd, tcp_sndbuf_expand). SEND takes more, but an application that streams should
        wait for on_writable."""
        size = min(TCP_WMEM_MAX, max(SEND_BUFFER, 2 * self.cc.cwnd))
        return max(0, size - len(self._sndbuf))

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

    def _open_passive(self, seg: Segment, on_accept: Callable | None, iss: int | None = None) -> None:
        """LISTEN receives a SYN (3.10.7.2, third): <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, enter SYN-RECEIVED."""
        self.irs = seg.seq
        self.rcv_nxt = (seg.seq + 1) % MOD        # the SYN takes one sequence number (R30)
        self._rcv_wup = self.rcv_nxt
        self.peer_mss = seg.mss if seg.mss else DEFAULT_MSS[self.v6]
        self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, 0
        self.ecn = self.stack.ecn_accept and {"ece", "cwr"} <= seg.flags        # RFC 3168 6.1.1
        self._agree_options(seg)
        self._choose_iss(iss)
        self._agree_sack(seg.sack_permitted)
        self._set_state(SYN_RECEIVED)
        if on_accept is not None:
            on_accept(self)       # before the SYN,ACK: the application may set callbacks, RCV.WND, queue data
        if self.state == SYN_RECEIVED:
            self._send_syn()
        # Text on a SYN is not acknowledged (RCV.NXT is just after the SYN), so the peer sends it again.

    def _open_from_cookie(self, seg: Segment, peer_mss: int, on_accept: Callable | None) -> None:
        """RFC 4987 3.6: the ACK returned a SYN cookie, so rebuild what SYN-RECEIVED would have held: IRS =
        SEG.SEQ - 1, ISS = SEG.ACK - 1 (the cookie), the peer's MSS from the cookie. No SYN,ACK goes out: the
        peer has it; the ACK then completes the handshake as in SYN-RECEIVED."""
        self.irs = (seg.seq - 1) % MOD
        self.rcv_nxt = seg.seq
        self._rcv_wup = self.rcv_nxt
        self.peer_mss = peer_mss
        if self.ts_requested and seg.tsval is not None and seg.tsecr:
            # The cookie's TSval, echoed, says what the SYN negotiated (TcpListener._syn_queue_full).
            wscale, _, self.ecn = cookie_ts_decode(seg.tsecr)
            self.ts_ok = True
            self._ts_recent_update(seg.tsval)
            if wscale is not None and self.wscale_requested:
                self.wscale_ok, self.snd_wscale, self.rcv_wscale = True, wscale, COOKIE_WSCALE
                self._open_window()
        self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd << self.snd_wscale, self.irs, 0
        self._choose_iss((seg.ack - 1) % MOD)
        # No SACK: without timestamps a cookie cannot remember that the SYN permitted it (Linux's
        # cookie_timestamp_decode), and our cookie SYN,ACK did not offer it.
        self._set_state(SYN_RECEIVED)
        if on_accept is not None:
            on_accept(self)

    def _agree_sack(self, peer_permitted: bool) -> None:
        """The handshake's SYN from the peer: SACK is used when both sides permitted it (RFC 2018 section 2)."""
        self.sack_ok = self.sack_wanted and peer_permitted
        if self.sack_ok:
            self._sack_rx = ReceivedBlocks()
            self._scoreboard = Scoreboard(self.snd_una)

    def _agree_options(self, seg: Segment) -> None:
        """The peer's SYN: window scaling and timestamps are used when both SYNs carry them (RFC 7323 2.2,
        3.2). Our window then opens to what the receive buffer offers."""
        self.wscale_ok = self.wscale_requested and seg.wscale is not None
        if self.wscale_ok:
            if seg.wscale > MAX_WSCALE:
                self.host.log(f"TCP {self.name}: window scale {seg.wscale} is above {MAX_WSCALE}; "
                              f"using {MAX_WSCALE} (RFC 7323 2.3)")
            self.snd_wscale = min(seg.wscale, MAX_WSCALE)
            self.rcv_wscale = self._our_wscale()
        else:
            self.snd_wscale = self.rcv_wscale = 0
        self.ts_ok = self.ts_requested and seg.tsval is not None
        if self.ts_ok:
            self._ts_recent_update(seg.tsval)
        self._open_window()

    def _our_wscale(self) -> int:
        """Linux's choice: the smallest shift that lets the 16-bit field say the buffer's largest size."""
        return window_shift(self.rcvbuf.shift_space)

    def _open_window(self) -> None:
        """Offer what the receive buffer allows (at most 65535 bytes without window scaling), unless the
        application fixed the window; the window only grows."""
        if self.rcvbuf.locked:
            return
        limit = 0xFFFF << self.rcv_wscale if self.wscale_ok else RCV_WND
        self._rcv_wnd = max(self._rcv_wnd, min(self.rcvbuf.window, limit))

    def _ts_recent_update(self, tsval: int) -> None:
        self.ts_recent = tsval
        self._ts_recent_ns = self.sim.now_ns

    def _tsval(self) -> int:
        return ts_now(self.sim.now_ns, self._ts_offset)

    def _pipe(self) -> int:
        """The bytes in flight. After a timeout every segment sent before it counts as lost (as Linux marks
        them in tcp_enter_loss): only those sent again since, and new data beyond, are in flight. With SACK,
        RFC 6675's SetPipe once anything is SACKed or lost: SACKed data has left the network."""
        sb = self._scoreboard
        if sb is not None and (sb.sacked_bytes or self._loss or self._in_recovery):
            return sb.set_pipe(self.snd_nxt, self.cc.mss)
        if self._loss:
            return max(0, seq_diff(self._rtx_next, self.snd_una)) + max(0, seq_diff(self.snd_nxt, self._recover))
        return seq_diff(self.snd_nxt, self.snd_una)

    def _choose_iss(self, iss: int | None = None) -> None:
        if iss is None:
            iss = self.stack.initial_sequence_number(self.local, self.lport, self.remote, self.rport)
        self.iss = iss
        self.snd_una = self.iss
        self.snd_nxt = (self.iss + 1) % MOD
        self._buf_seq = self.snd_nxt              # the first data byte follows the SYN
        self._recover = self.iss

    def _send_syn(self) -> None:
        self._rtt_timing = (self.snd_nxt, self.sim.now_ns)
        self._transmit(self.iss, 0)
        self._start_timer()

    def _established(self) -> None:
        self.rcvbuf.start(self.sim.now_ns, self.rcv_wnd, self._rcv_mss())
        self._set_state(ESTABLISHED)
        if self._close_when_established:
            self._close_when_established = False
            self.close()

    # ------------------------------------------------------------------ sending

    def _send(self, seq: int, flags: set, data: bytes = b"", options: bytes = b"", ecn: int = 0) -> None:
        """Build one segment from the TCB and hand it to IP (`flags` by name: {"syn", "ack"})."""
        self._emit(seq, tcp_wire.flag_bits(flags), data, options, ecn)

    def _emit(self, seq: int, flags: int, data: bytes = b"", options: bytes = b"", ecn: int = 0) -> None:
        """_send with the flags as the header's bits (tcp_wire.ACK | ...), the form the per-segment path uses.
        Every segment with ACK carries ACK=RCV.NXT (and ECE while a congestion mark is to be echoed)."""
        rcv_nxt = self.rcv_nxt
        if flags & ACK:
            ack = rcv_nxt
            if self._ece_pending and not flags & SYN:
                flags |= ECE
        else:
            ack = 0
        if flags & SYN:
            window = min(self._rcv_wnd, 0xFFFF)                       # a SYN's is never scaled (RFC 7323 2.2)
            shift = 0
            raw = tcp_wire.segment(self._csum_base, self.lport, self.rport, seq, ack, flags, window, options, data)
        else:
            # The window field: shifted, rounded up, and never bringing the right edge back from where we
            # advertised it (RFC 7323 2.4, RFC 9293 3.8.6).
            shift = self.rcv_wscale
            window = min(0xFFFF, -(-self._rcv_wnd >> shift))
            edge = self._rcv_edge
            if edge is not None:
                offered = seq_diff(edge, rcv_nxt)
                if offered > window << shift:
                    window = min(0xFFFF, -(-offered >> shift))
            rx = self._sack_rx
            sack = rx is not None and flags & ACK and (rx.blocks or rx.dsack)
            if self.ts_ok and not flags & RST:
                tsval = (self.sim.now_ns // TS_TICK_NS + self._ts_offset) % MOD          # tcp_options.ts_now
                if not sack and not options:
                    raw = tcp_wire.segment_with_timestamps(self._csum_base, self.lport, self.rport, seq, ack, flags,
                                                           window, tsval, self.ts_recent % MOD, data)
                else:
                    options = timestamp_option(tsval, self.ts_recent)
            else:
                tsval = None
            if tsval is None or sack or options:
                if sack:
                    # RFC 2018 section 4: while data is held out of order, every ACK says what; in the room the
                    # segment's other options (timestamps) leave.
                    options += rx.option(MAX_OPTION_BYTES - -(-len(options) // 4) * 4)
                raw = tcp_wire.segment(self._csum_base, self.lport, self.rport, seq, ack, flags, window, options,
                                       data)
        if flags & ACK:
            edge = (rcv_nxt + (window << shift)) % MOD
            if self._rcv_edge is None or seq_lt(self._rcv_edge, edge):
                self._rcv_edge = edge
            self._ack_sent()
        error = self.stack.ip_send(self.v6, self.local, self.remote, raw, ecn)
        if error is not None:
            self.host.log(f"TCP {self.name}: segment not sent: {error}")

    def _syn_options(self) -> bytes:
        """MSS (3.7.1), SACK-permitted (RFC 2018) and the RFC 7323 options: in SYN-SENT those we ask for, in a
        SYN,ACK those agreed."""
        active = self.state == SYN_SENT
        wscale = ts = None
        if active and self.wscale_requested:
            wscale = self._our_wscale()
        elif not active and self.wscale_ok:
            wscale = self.rcv_wscale = self._our_wscale()      # after on_accept, which may fix the window
        if self.ts_requested if active else self.ts_ok:
            ts = (self._tsval(), 0 if active else self.ts_recent)     # TSecr only with ACK (RFC 7323 3.2)
        sack = self.sack_wanted if active else self.sack_ok
        return syn_options(self.our_mss, wscale, ts, sack_permitted=sack)

    def _receive_window(self) -> int:
        """What arriving text may fill: RCV.WND, or more if we advertised a right edge beyond it."""
        if self._rcv_edge is None:
            return self.rcv_wnd
        return max(self.rcv_wnd, seq_diff(self._rcv_edge, self.rcv_nxt))

    def _ack_sent(self) -> None:
        """Any segment with ACK acknowledges everything up to RCV.NXT: no ACK is owed any more."""
        self._ack_needed = False
        if self._delack_timer is not None:
            self.sim.cancel(self._delack_timer)
            self._delack_timer = None
        if self._quickacks:
            self._quickacks = max(0, self._quickacks - max(1, seq_diff(self.rcv_nxt, self._rcv_wup)
                                                          // self._rcv_mss()))
        self._rcv_wup = self.rcv_nxt

    def _ack_in_order_text(self) -> None:
        """In-order text arrived: acknowledge it at once (quick-ack mode, or more than one full-sized segment
        unacknowledged) or within TCP_DELACK_MIN (Linux's __tcp_ack_snd_check)."""
        if self._quickacks is None:
            self._quickacks = min(RCV_WND // (2 * max(1, self.our_mss)), TCP_MAX_QUICKACKS)
        if self._quickacks or seq_diff(self.rcv_nxt, self._rcv_wup) > self._rcv_mss():
            self._ack_needed = True
        elif self._delack_timer is None:
            self._delack_timer = self.sim.schedule(TCP_DELACK_MIN_NS, self._delayed_ack)

    def _delayed_ack(self) -> None:
        self._delack_timer = None
        if self.state not in (CLOSED, LISTEN, SYN_SENT):
            self._emit(self.snd_nxt, ACK)

    def _transmit(self, seq: int, n: int) -> int:
        """Send the segment that starts at `seq`: the SYN, or n bytes of data with the FIN if they end the data.

        Returns how many sequence numbers it takes. Used both for new data and for retransmissions, so a
        retransmitted segment is cut again with the current MSS."""
        if seq == self.iss and self.snd_una == self.iss:          # our SYN is not acknowledged yet
            flags = {"syn"} if self.state == SYN_SENT else {"syn", "ack"}
            if self.state == SYN_SENT and self.ecn_requested:
                flags |= {"ece", "cwr"}                               # an ECN-setup SYN (RFC 3168 6.1.1)
            elif self.state != SYN_SENT and self.ecn:
                flags.add("ece")                                      # an ECN-setup SYN,ACK
            self._send(self.iss, flags, options=self._syn_options())
            return 1
        rx = self._sack_rx
        if rx is not None and (rx.blocks or rx.dsack):
            n = min(n, max(1, self.effective_mss() - rx.option_length()))   # room for the blocks
        buf_seq, sndbuf = self._buf_seq, self._sndbuf
        start = seq_diff(seq, buf_seq)
        data = bytes(sndbuf[start:start + n])
        flags = ACK
        if (seq + len(data)) % MOD == (buf_seq + len(sndbuf)) % MOD:     # the end of what we were given
            if data:
                flags |= PSH                                          # the last of what the application gave us
            if self._fin_requested:
                flags |= FIN
        ecn = 0
        if data:
            if seq != self.snd_nxt:
                self.retransmitted_bytes += len(data)
            else:
                if self._cwr_pending:
                    flags |= CWR                                      # the window was reduced (RFC 3168 6.1.2)
                    self._cwr_pending = False
                if self.ecn:
                    ecn = ECN_ECT0
        # New data of an ECN connection is ECN-capable; retransmissions are not (RFC 3168 6.1.5).
        self._emit(seq, flags, data, ecn=ecn)
        return len(data) + (flags & FIN)

    def _output(self) -> None:
        """Send what the windows allow (the peer's and the congestion window), then an ACK if one is owed
        and no segment carried it. After a timeout, what was lost goes again first."""
        if self.state in SENDING_STATES:
            mss = self.effective_mss()
            cc = self.cc
            if cc.mss != mss:
                cc.set_mss(mss)
            sb = self._scoreboard
            if sb is not None:
                if self._loss or self._in_recovery:
                    self._retransmit_holes(mss)                       # RFC 6675 NextSeg rule 1, then new data
            elif self._loss:
                self._retransmit_lost(mss)
            while True:
                # seq_diff(_data_end, SND.NXT) and the others, inline: this runs for every segment.
                snd_nxt, snd_una = self.snd_nxt, self.snd_una
                unsent = (self._buf_seq + len(self._sndbuf) - snd_nxt) % MOD
                if unsent >= HALF:
                    unsent -= MOD                                     # -1 once the FIN has gone
                if unsent > 0:
                    room = (snd_una + self.snd_wnd - snd_nxt) % MOD
                    if room >= HALF:
                        room -= MOD
                    full = unsent if unsent < mss else mss
                    n = full if full < room else room
                    if n <= 0:
                        break                                         # the peer's window is full
                    if n < full and snd_nxt != snd_una:
                        break             # no runt for the window's last bytes while ACKs will come (3.8.6.2.1)
                    if n < mss and self._nagle_holds(n == unsent):
                        break                                         # Nagle: wait for the small one's ACK
                    if self._loss or self._in_recovery or (sb is not None and sb.sacked_bytes):
                        pipe = self._pipe()
                    else:
                        pipe = (snd_nxt - snd_una) % MOD              # _pipe() when nothing is SACKed or lost
                        if pipe >= HALF:
                            pipe -= MOD
                    if cc.cwnd - pipe < n:
                        break                                         # the congestion window is full
                elif unsent == 0 and self._fin_requested:
                    n = 0                                             # the FIN alone
                else:
                    break
                used = self._transmit(snd_nxt, n)
                self.snd_nxt = snd_nxt = (snd_nxt + used) % MOD
                if 0 < n < mss:
                    self._small_end = snd_nxt
                if self._rtt_timing is None:
                    self._rtt_timing = (snd_nxt, self.sim.now_ns)
                if self._rtx_timer is None:
                    self._start_timer()
            if self._rtx_timer is None and seq_diff(self._data_end, self.snd_nxt) > 0:
                self._start_timer()                                   # a zero window: the persist timer
        if self._ack_needed:
            self._emit(self.snd_nxt, ACK)

    def _nagle_holds(self, last: bool) -> bool:
        """RFC 896 as Linux applies it (Minshall's variant, tcp_nagle_check): a segment smaller than the MSS
        waits while an earlier small segment is unacknowledged, unless TCP_NODELAY is set or it carries the
        FIN (CLOSE was called and it is the last of the data)."""
        if self.nodelay or (last and self._fin_requested) or self._small_end is None:
            return False
        return seq_lt(self.snd_una, self._small_end)

    def _offer_room(self) -> None:
        """Let the application refill the send buffer after an ACK made room (a socket becoming writable)."""
        if (self.on_writable is not None and not self._fin_requested and self.state in (ESTABLISHED, CLOSE_WAIT)
                and self.writable() > 0):
            self.on_writable(self)

    def _retransmit_lost(self, mss: int) -> None:
        """The loss state: send again, from the first unacknowledged byte, what was in flight at the timeout,
        as far as the congestion window allows (slow start from one segment)."""
        self._rtt_timing = None                                       # Karn: never time a retransmission
        while seq_lt(self._rtx_next, self._recover) and self._pipe() < self.cc.cwnd:
            used = self._resend(self._rtx_next, mss)
            if used == 0:
                break
            self._rtx_next = (self._rtx_next + used) % MOD
        if self._rtx_timer is None:
            self._start_timer()

    def _retransmit_holes(self, mss: int) -> None:
        """SACK's loss recovery (RFC 6675 5, step C) and loss state: while the congestion window has room
        beyond `pipe`, send again the next lost range NextSeg names, never data the peer SACKed."""
        sb = self._scoreboard
        while True:
            hole = sb.next_seg(self.snd_nxt, mss)
            if hole is None or self.cc.cwnd - self._pipe() < hole[1]:
                break
            if self._resend_hole(*hole) == 0:
                break
        if self._rtx_timer is None:
            self._start_timer()

    def _resend_hole(self, seq: int, n: int) -> int:
        """Send again n sequence numbers from `seq` (the FIN with them if they reach it); HighRxt moves past."""
        self._rtt_timing = None                                       # Karn: never time a retransmission
        data_limit = self._data_end if self._fin_sent else self.snd_nxt
        self.retransmissions += 1
        used = self._transmit(seq, max(0, min(n, seq_diff(data_limit, seq))))
        self._scoreboard.retransmitted(seq, used)
        return used

    def _resend(self, seq: int, mss: int) -> int:
        """Send again the segment that starts at `seq` (at most an MSS, the FIN after the last data once it
        went); returns the sequence numbers it takes."""
        data_limit = self._data_end if self._fin_sent else self.snd_nxt
        self.retransmissions += 1
        used = self._transmit(seq, max(0, min(mss, seq_diff(data_limit, seq))))
        end = (seq + used) % MOD
        if self._rtx_end is None or seq_lt(self._rtx_end, end):
            self._rtx_end = end
        return used

    def _retransmit(self, max_segments: int | None) -> None:
        """Send again what is unacknowledged, from SND.UNA: one segment, or (max_segments None) all of it."""
        self._rtt_timing = None                                       # Karn: never time a retransmission
        mss = self.effective_mss()
        seq, count = self.snd_una, 0
        while seq_lt(seq, self.snd_nxt) and (max_segments is None or count < max_segments):
            used = self._resend(seq, mss)
            seq = (seq + used) % MOD
            count += 1
            if used == 0:
                break

    # ------------------------------------------------------------------ timers

    def _start_timer(self) -> None:
        self.sim.cancel(self._rtx_timer)
        self._rtx_armed_ns = self.rto_ns
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
        if self._retries == 1:
            self._first_sent_ns = self.sim.now_ns - self._rtx_armed_ns   # when what times out was sent
        stack = self.stack
        stack.rto_timeouts += 1
        stack.rto_waited_ns += self._rtx_armed_ns
        stack.rto_peak_ns = max(stack.rto_peak_ns, self.rto_ns)
        if self.state == SYN_RECEIVED and self._retries > SYNACK_RETRIES:
            # Linux's tcp_synack_retries. The peer never answered, and may not exist (a spoofed SYN), so the
            # half-open connection is forgotten without a RST, as Linux drops a request that timed out.
            self.host.log(f"TCP {self.name} no ACK after {SYNACK_RETRIES} SYN,ACK retransmissions: forgotten")
            if self.listener is not None:
                self.listener.stats["synack_timeouts"] += 1
            self._enter_closed("connection timed out")
            return
        if (self._retries > SYN_RETRIES if self.state == SYN_SENT
                else self.sim.now_ns - self._first_sent_ns >= RETRIES2_TIMEOUT_NS):
            self.host.log(f"TCP {self.name} giving up after {self._retries - 1} retransmissions")
            self.abort("connection timed out" + (f" ({self.soft_error})" if self.soft_error else ""))
            return
        self.host.log(f"TCP {self.name} retransmission timeout: resending seq {self.snd_una}, "
                      f"RTO now {self.rto_ns / NS:g} s")
        self.timeouts += 1
        if self.state in SENDING_STATES:
            self._enter_loss()
            self._start_timer()
            self._output()
        else:
            self._retransmit(1)                                       # our SYN or SYN,ACK
            self._start_timer()

    def _enter_loss(self) -> None:
        """RFC 5681 3.1 on a timeout: ssthresh from the flight (held after a second timeout of the same data),
        cwnd one segment; every segment in flight counts as lost and is sent again in slow start."""
        sb = self._scoreboard
        if self._retries == 1:
            self.cc.on_loss(self._pipe() if sb is None else seq_diff(self.snd_nxt, self.snd_una), self.sim.now_ns)
        self.cc.on_timeout(self.sim.now_ns)
        self._in_recovery = False
        self._loss = True
        self._recover = self.snd_nxt
        self._rtx_next = self.snd_una
        if sb is not None:
            # With SACK the scoreboard stays (RFC 6675 5.1, as Linux): what the peer SACKed is not sent again,
            # unless it acknowledged less than it had SACKed (reneging, RFC 2018 8): then it is forgotten.
            if sb.reneged:
                self.host.log(f"TCP {self.name} the peer discarded data it had SACKed: scoreboard cleared")
            sb.timed_out(self.snd_nxt)

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
        self.sim.cancel(self._delack_timer)
        self._delack_timer = None
        self.sim.cancel(self._time_wait_timer)
        self._time_wait_timer = None
        self._forget_out_of_order()
        if error is not None:
            self.error = error
        if self.stack.connections.get(self.key) is self:
            del self.stack.connections[self.key]
        self._set_state(CLOSED)

    # ------------------------------------------------------------------ SEGMENT ARRIVES

    def segment_arrives(self, seg: Segment):
        """Returns None when the segment was used, or (DropReason, detail) when it is discarded."""
        if self.wscale_ok and "syn" not in seg.flags:
            seg.wnd <<= self.snd_wscale                               # RFC 7323 2.3; a SYN's is never scaled
        if self.state == SYN_SENT:
            return self._arrives_in_syn_sent(seg)
        return self._arrives_in_other_states(seg)

    def predicted_segment_arrives(self, seq: int, ack: int, flags: int, wnd: int, data: bytes, tsval: int | None,
                                  tsecr: int | None, ce: bool):
        """Header prediction, as Linux's tcp_rcv_established: in ESTABLISHED (and the closing states of
        PREDICTED_STATES), an ACK (PSH allowed, no other flag) at RCV.NXT with the options the connection
        always sends, that is neither a duplicate ACK nor news for the scoreboard, and whose text fits the
        window, needs only the steps of 3.10.7.4 that do something with it. Those are done here in the same
        order, with the same methods, as _arrives_in_other_states does them (the same _after_the_ack); any
        other segment (and this one when a condition fails, checked before anything changes) returns
        NOT_PREDICTED, and the caller takes the general path. TcpStack._segment_arrives has checked the
        state, the flags, the options and the checksum."""
        # (The comparisons of sequence numbers and timestamps are written out: seq_le(a, b) is
        # (b - a) % MOD < HALF, seq_lt(a, b) and ts_before(a, b) are 0 < (b - a) % MOD < HALF.)
        if seq != self.rcv_nxt:
            return NOT_PREDICTED
        snd_una, snd_nxt = self.snd_una, self.snd_nxt
        if (ack - snd_una) % MOD >= HALF or (snd_nxt - ack) % MOD >= HALF:
            return NOT_PREDICTED                  # an old ACK, or one of data never sent
        if tsval is not None and 0 < (self.ts_recent - tsval - PAWS_WINDOW) % MOD < HALF:
            return NOT_PREDICTED                  # PAWS may reject it (RFC 7323 5.3)
        window = self._rcv_wnd                    # _receive_window()
        edge = self._rcv_edge
        if edge is not None:
            offered = (edge - seq) % MOD
            if HALF > offered > window:
                window = offered
        if not 0 <= window < HALF or len(data) > window:
            return NOT_PREDICTED                  # not acceptable as a whole (first check, and _trim)
        if self.wscale_ok:
            wnd <<= self.snd_wscale                                   # RFC 7323 2.3
        if not data and ack == snd_una and wnd == self.snd_wnd != 0 and snd_una != snd_nxt:
            return NOT_PREDICTED                  # a duplicate ACK (RFC 5681)
        sb = self._scoreboard
        if sb is not None and sb.sacked_bytes:
            return NOT_PREDICTED                  # the scoreboard's Update
        # The segment is acceptable, and in the window whole. RFC 7323 4.3: TS.Recent.
        if tsval is not None:
            if (self._rcv_wup - seq) % MOD < HALF and (not 0 < (self.ts_recent - tsval) % MOD < HALF
                                                        or self._ts_recent_stale()):
                self._ts_recent_update(tsval)
            self._seg_tsecr = tsecr
        else:
            self._seg_tsecr = None
        # fifth, the ACK field.
        self._retries = 0
        if ack != snd_una:
            self._ack_advanced(ack, self._pipe() if snd_una != self.iss else None)
        wl1 = self.snd_wl1
        if (ack - self.snd_una) % MOD < HALF and (0 < (seq - wl1) % MOD < HALF or (
                wl1 == seq and (ack - self.snd_wl2) % MOD < HALF)):
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = wnd, seq, ack  # the window update
        return self._after_the_ack(seq, data, False, False, ce, len(data))

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
            self._rcv_wup = self.rcv_nxt
            self.peer_mss = seg.mss if seg.mss else DEFAULT_MSS[self.v6]
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, seg.ack    # a SYN's window is not scaled
            self._agree_sack(seg.sack_permitted)
            # An ECN-setup SYN,ACK has ECE and not CWR (RFC 3168 6.1.1).
            self.ecn = self.ecn_requested and "ece" in flags and "cwr" not in flags
            self._agree_options(seg)
            if ack_ok:
                self._seg_tsecr = seg.tsecr if self.ts_ok else None
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
        window = self._receive_window()

        def in_window(x: int) -> bool:
            return seq_le(self.rcv_nxt, x) and seq_lt(x, (self.rcv_nxt + window) % MOD)
        if seg.len == 0:
            return seg.seq == self.rcv_nxt if window == 0 else in_window(seg.seq)
        if window == 0:
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
        room = seq_diff((self.rcv_nxt + self._receive_window()) % MOD, seq)
        if len(data) + fin > room:                                    # text beyond the right edge
            data, fin = data[:max(0, room)], False
        return seq, data, syn, fin

    def reopens(self, seg: Segment) -> bool:
        """A SYN that may start a new incarnation of a connection in TIME-WAIT (RFC 1122 4.2.2.13; RFC 6191 2):
        when both incarnations use timestamps, its TSval is newer than TS.Recent, whatever its sequence number
        (an equal one falls back to the sequence number); otherwise its sequence number is greater than the
        last one the old incarnation received (RCV.NXT - 1, the peer's FIN), so no old segment can be taken
        for new data."""
        if not (self.state == TIME_WAIT and seg.flags & {"syn", "ack", "rst"} == {"syn"}):
            return False
        if self.ts_ok and seg.tsval is not None and seg.tsval != self.ts_recent:
            return ts_before(self.ts_recent, seg.tsval)
        return seq_le(self.rcv_nxt, seg.seq)

    def _arrives_in_other_states(self, seg: Segment):
        """3.10.7.4: SYN-RECEIVED and the synchronized states."""
        flags = seg.flags
        if self.state == SYN_RECEIVED and "ack" in flags and not self._acks_our_syn(seg.ack):
            return self._bad_ack_in_syn_received(seg)
        # RFC 7323 5.3 R1: PAWS, before the sequence number.
        if self.ts_ok and seg.tsval is not None:
            rejected = self._paws_rejects(seg)
            if rejected is not None:
                return rejected
        if self._sack_rx is not None and seg.data and seq_lt(seg.seq, self.rcv_nxt):
            # Text we had already: the next ACK reports it with a D-SACK block (RFC 2883 4.1).
            end = (seg.seq + len(seg.data)) % MOD
            self._sack_rx.duplicate(seg.seq, end if seq_lt(end, self.rcv_nxt) else self.rcv_nxt)
        # first, check the sequence number.
        if not self._acceptable(seg):
            return self._unacceptable(seg)
        seq, data, syn, fin = self._trim(seg)
        if self.ts_ok and seg.tsval is not None:
            # RFC 7323 4.3 (5.3 R3): TS.Recent follows the segment that covers Last.ACK.sent (the RCV.NXT our
            # last ACK carried), so our echo times the sender's oldest unacknowledged segment.
            if seq_le(seg.seq, self._rcv_wup) and (not ts_before(seg.tsval, self.ts_recent)
                                                   or self._ts_recent_stale()):
                self._ts_recent_update(seg.tsval)
        self._seg_tsecr = seg.tsecr if self.ts_ok and "ack" in seg.flags else None

        # second, check the RST bit (with RFC 5961 3.2: only an exact match resets the connection).
        if "rst" in flags:
            if seg.seq != self.rcv_nxt:
                return self._answer_invalid(seg, "RST in the window but not at RCV.NXT (RFC 5961 3.2)", True)
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
                return None
            return self._answer_invalid(seg, f"SYN in the window in {self.state} (RFC 5961 4.2)", True)

        # fifth, check the ACK field.
        if "ack" not in flags:
            return DropReason.TRANSPORT_DISCARD, f"TCP segment without ACK in {self.state}"
        self._retries = 0                                             # the peer is alive
        if self.state == SYN_RECEIVED:
            if self.listener is not None and not self.listener._room_to_accept():
                # Linux drops the ACK when the accept queue is full; the SYN,ACK timer makes the peer send it again.
                self.listener.stats["accept_queue_overflows"] += 1
                return DropReason.ACCEPT_QUEUE_FULL, f"TCP accept queue of port {self.lport} full ({self.listener.backlog})"
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, seg.ack
            self._established()
        if seq_lt(self.snd_nxt, seg.ack):
            return self._answer_invalid(seg, "ACK of data never sent")
        flight = self._pipe()
        # RFC 5681's duplicate ACK (the answer to a zero-window probe is not a sign of loss).
        duplicate = (seg.ack == self.snd_una and not seg.data and not ({"syn", "fin"} & flags)
                     and seg.wnd == self.snd_wnd != 0 and self.snd_una != self.snd_nxt)
        if self._scoreboard is not None and (seg.sack or self._scoreboard.sacked_bytes):
            duplicate = self._sack_update(seg, duplicate)
        if seq_lt(self.snd_una, seg.ack):
            # The ACK of our SYN alone is no news for congestion control.
            self._ack_advanced(seg.ack, flight if self.snd_una != self.iss else None)
        if duplicate:
            if self._scoreboard is not None:
                self._sack_duplicate_ack()
            else:
                self._duplicate_ack()
        if self.ecn and "ece" in flags:
            self._congestion_echoed()
        if seq_le(self.snd_una, seg.ack) and (seq_lt(self.snd_wl1, seg.seq) or (
                self.snd_wl1 == seg.seq and seq_le(self.snd_wl2, seg.ack))):
            self.snd_wnd, self.snd_wl1, self.snd_wl2 = seg.wnd, seg.seq, seg.ack     # the window update
        return self._after_the_ack(seq, data, fin, "cwr" in flags, seg.ce, len(seg.data))

    def _after_the_ack(self, seq: int, data: bytes, fin: bool, cwr: bool, ce: bool, length: int):
        """3.10.7.4 after the ACK field's news: our FIN acknowledged, then the segment text and the FIN bit
        (`seq`, `data`, `fin`: what _trim kept; `length`: the text as it came, for the receiver's RTT), then
        what may be sent."""
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
                self._emit(self.snd_nxt, ACK)
            return None

        # seventh and eighth: the segment text and the FIN bit (after the peer's FIN, in CLOSE-WAIT, CLOSING
        # and LAST-ACK, there is none: the text is ignored).
        outcome = None
        if self.ecn:
            if cwr:
                self._ece_pending = False                             # the sender reduced its window
            if ce and data:
                self._ece_pending = True                              # echo the mark until CWR (6.1.3)
                self._ack_needed = True                               # at once, as Linux does on CE
        if self.state in RECEIVING_STATES and (data or fin):
            if data:
                self._rcv_rtt_measure(length)
            outcome = self._receive_text(seq, data, fin)
        if self.state != CLOSED:
            self._offer_room()
            self._output()
        return outcome

    def _paws_rejects(self, seg: Segment):
        """RFC 7323 5.3 R1: a segment whose TSval is older than TS.Recent (by more than Linux's one-tick
        PAWS_WINDOW) is an old duplicate: it is dropped, and answered with an ACK (rate-limited as other
        answers to invalid segments). A RST is not checked; nor, after 24 days without one (5.5), TS.Recent,
        which is too old to judge by."""
        if "rst" in seg.flags or not ts_before((seg.tsval + PAWS_WINDOW) % MOD, self.ts_recent):
            return None
        if self._ts_recent_stale():
            return None
        self.stack.stats["paws_rejected"] += 1
        why = f"TSval {seg.tsval} older than TS.Recent {self.ts_recent} (PAWS, RFC 7323 5)"
        answered = self._answer_invalid(seg, why)
        return answered or (DropReason.PAWS_REJECTED, f"TCP {why}; ACK sent")

    def _ts_recent_stale(self) -> bool:
        """RFC 7323 5.5: TS.Recent recorded more than 24 days ago is invalid (the peer's clock may have wrapped)."""
        return self.sim.now_ns - self._ts_recent_ns >= PAWS_24DAYS_NS

    def _rcv_rtt_measure(self, length: int) -> None:
        """The receiver's RTT, for the autotuning (rcvbuf.py): from the echoed timestamp of a full segment
        (`length` bytes of text), or else from the time one window takes to arrive."""
        if self._seg_tsecr and length >= self._rcv_mss():
            ticks = (self._tsval() - self._seg_tsecr) % MOD
            if ticks < MOD // 2:
                self.rcvbuf.rtt_from_timestamp(max(1, ticks) * TS_TICK_NS)
                return
        self.rcvbuf.rtt_from_window(self.rcv_nxt, self.rcv_wnd, self.sim.now_ns)

    def _acks_our_syn(self, ack: int) -> bool:
        """SYN-RECEIVED's acceptable ACK (3.10.7.4, fifth): SND.UNA < SEG.ACK =< SND.NXT."""
        return seq_lt(self.snd_una, ack) and seq_le(ack, self.snd_nxt)

    def _bad_ack_in_syn_received(self, seg: Segment):
        """An ACK that does not acknowledge our SYN gets <SEQ=SEG.ACK><CTL=RST>, whatever its sequence number:
        the reset rule of a non-synchronized state (3.5.2, group 2; 3.10.7.4 fifth, SYN-RECEIVED), checked
        before the sequence number as Linux does. Answering it with an ACK (the first check's rule) let a
        connection in SYN-RECEIVED and the old incarnation in TIME-WAIT trade ACKs that neither could accept,
        for as long as TIME-WAIT lasted."""
        if "rst" in seg.flags:
            return DropReason.TRANSPORT_DISCARD, "TCP RST with an unacceptable ACK in SYN-RECEIVED"
        self._send(seg.ack, {"rst"})
        return DropReason.TRANSPORT_DISCARD, f"TCP ACK {seg.ack} does not acknowledge our SYN (ISS {self.iss}) " \
                                             f"in SYN-RECEIVED; reset sent (RFC 9293 3.5.2)"

    def _unacceptable(self, seg: Segment):
        """3.10.7.4, first: a segment outside the window is answered with an ACK (rate-limited), a RST dropped."""
        flags = seg.flags
        if "rst" in flags:
            return DropReason.TRANSPORT_DISCARD, "TCP RST outside the receive window"
        if self.state == SYN_RECEIVED and flags == {"syn"} and seg.seq == self.irs:
            # The peer sent its SYN again: our SYN,ACK was lost. Send it again at once, but not to a SYN
            # repeated faster than the rate limit (Linux limits these SYN,ACKs the same way).
            if self._oow_rate_limited():
                self.stack.stats["dup_acks_rate_limited"] += 1
                return DropReason.ACK_RATE_LIMITED, "TCP repeated SYN in SYN-RECEIVED; SYN,ACK rate-limited " \
                                                     "(RFC 5961 7)"
            self._transmit(self.iss, 0)
            return None
        if self.state == TIME_WAIT and "fin" in flags:
            # The remote FIN again: our last ACK was lost. Acknowledge it and restart the 2 MSL wait
            # (3.10.7.4, fifth, TIME-WAIT).
            self._restart_time_wait()
        if "syn" in flags:                       # Linux answers any SYN here with a challenge ACK (RFC 5961 4.2)
            return self._answer_invalid(seg, f"SYN outside the window in {self.state}", True)
        return self._answer_invalid(seg, f"segment outside the receive window in {self.state}")

    def _answer_invalid(self, seg: Segment, why: str, challenge: bool = False):
        """<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> for a segment TCP does not use, at most once per
        INVALID_RATELIMIT_NS per connection (RFC 5961 7; Linux's tcp_invalid_ratelimit): two TCPs that each
        find the other's ACKs unacceptable would otherwise answer each other forever. As in Linux, a segment
        with text or a FIN and no SYN is always answered: the sender may need the ACK, and such segments are
        not part of an ACK loop. Challenge ACKs (RFC 5961 3.2, 4.2) also obey the stack's per-second limit."""
        stats = self.stack.stats
        counter = "challenge_acks_rate_limited" if challenge else "dup_acks_rate_limited"
        exempt = not challenge and seg.len > 0 and "syn" not in seg.flags
        if not exempt and self._oow_rate_limited():
            stats[counter] += 1
            return DropReason.ACK_RATE_LIMITED, f"TCP {why}; ACK rate-limited (RFC 5961 7)"
        if challenge and not self.stack.challenge_ack_allowed():
            stats[counter] += 1
            return DropReason.ACK_RATE_LIMITED, f"TCP {why}; challenge ACK over the host's limit (RFC 5961 7)"
        if challenge:
            stats["challenge_acks"] += 1
        self._emit(self.snd_nxt, ACK)
        return None

    def _oow_rate_limited(self) -> bool:
        """True if this connection answered an invalid segment less than INVALID_RATELIMIT_NS ago; else note now."""
        now = self.sim.now_ns
        if self._last_oow_ack_ns is not None and now - self._last_oow_ack_ns < INVALID_RATELIMIT_NS:
            return True
        self._last_oow_ack_ns = now
        return False

    def _congestion_echoed(self) -> None:
        """An ACK with ECE: the network marked our data. Reduce the window as for a loss, but at most once
        per window of data, and without retransmitting anything (RFC 3168 6.1.2); CWR on the next data."""
        if self._in_recovery or self._loss:
            return                                                    # already reducing for a loss
        if self._ecn_recover is not None and seq_lt(self.snd_una, self._ecn_recover):
            return
        cc = self.cc
        cc.on_loss(self._pipe(), self.sim.now_ns)
        cc.cwnd = max(cc.ssthresh, cc.mss)
        self._ecn_recover = self.snd_nxt
        self._cwr_pending = True
        self.ecn_reductions += 1
        self.host.log(f"TCP {self.name} ECN echo: window reduced to {cc.cwnd} bytes")

    def _duplicate_ack(self) -> None:
        """RFC 5681 3.2 and RFC 6582 3.2: the third duplicate ACK starts fast retransmit and fast recovery
        (unless the ACK does not cover more than `recover`: then the duplicates may come from segments sent
        again after a timeout); each further one inflates cwnd by a segment."""
        self._dup_acks += 1
        cc = self.cc
        if self._in_recovery:
            cc.cwnd += cc.mss
            return
        if self._dup_acks != DUP_ACK_THRESHOLD or self._loss or not seq_lt(self._recover, self.snd_una):
            return
        self.host.log(f"TCP {self.name} fast retransmit of seq {self.snd_una}")
        cc.on_loss(self._pipe(), self.sim.now_ns)
        self._recover = self.snd_nxt
        self._in_recovery = True
        self.fast_retransmits += 1
        self._retransmit(1)
        cc.cwnd = cc.ssthresh + DUP_ACK_THRESHOLD * cc.mss

    def _sack_update(self, seg: Segment, duplicate: bool) -> bool:
        """Update() the scoreboard with the ACK's blocks; with blocks, the ACK is a duplicate when it SACKs
        octets not SACKed before (RFC 6675 2), even when it also acknowledges new data."""
        new = self._scoreboard.update(seg.ack, seg.sack, self.snd_nxt)
        return new > 0 if seg.sack else duplicate

    def _sack_duplicate_ack(self) -> None:
        """RFC 6675 5: outside recovery, DupThresh duplicates, or IsLost(HighACK + 1), start a recovery:
        RecoveryPoint = HighData, ssthresh from congestion control and cwnd = ssthresh, the first hole sent
        again at once; then the rest goes as `pipe` allows (_retransmit_holes, from _output). No new
        recovery starts before RecoveryPoint is acknowledged (5.1)."""
        self._dup_acks += 1
        if self._in_recovery or self._loss or not seq_le(self._recover, self.snd_una):
            return
        cc, sb = self.cc, self._scoreboard
        if self._dup_acks < DUP_ACK_THRESHOLD and not sb.is_lost(self.snd_una, cc.mss):
            return
        self.host.log(f"TCP {self.name} fast retransmit of seq {self.snd_una} (SACK recovery)")
        cc.on_loss(seq_diff(self.snd_nxt, self.snd_una), self.sim.now_ns)    # FlightSize (4.2)
        cc.cwnd = cc.ssthresh
        self._recover = self.snd_nxt
        self._in_recovery = True
        self.fast_retransmits += 1
        sb.start_recovery()
        first = sb.hole_at(self.snd_una, self.snd_nxt, cc.mss)      # (4.3): from HighACK + 1, lost or not
        if first is not None:
            self._resend_hole(*first)

    def _ack_advanced(self, ack: int, flight: int | None = None) -> None:
        """SND.UNA < SEG.ACK =< SND.NXT: forget what was acknowledged, sample the RTT, restart the timer,
        and let congestion control use the ACK (`flight`: the bytes in flight before it)."""
        acked = seq_diff(ack, self.snd_una)
        resent = self._rtx_end is not None and seq_lt(self.snd_una, self._rtx_end)
        self.snd_una = ack
        done = min(max(0, seq_diff(ack, self._buf_seq)), len(self._sndbuf))
        del self._sndbuf[:done]
        self._buf_seq = (self._buf_seq + done) % MOD
        self._dup_acks = 0
        self._retries = 0
        sb = self._scoreboard
        if sb is not None:
            if sb.sacked_bytes or sb.high_rxt or sb.lost_end:
                sb.advance(ack)
            else:
                sb.high_ack = ack                                     # nothing to move with it
        if self._rtt_timing is not None and seq_le(self._rtt_timing[0], ack):
            self._rtt_sample(self.sim.now_ns - self._rtt_timing[1])
            self._rtt_timing = None
        elif resent and self._seg_tsecr:
            # RFC 7323 4: the echoed TSval says which sending the ACK answers, so the ACK of data sent again
            # is timed too, where Karn's rule leaves the clock alone (Linux's tcp_ack_update_rtt).
            ticks = (self._tsval() - self._seg_tsecr) % MOD
            if ticks < MOD // 2:
                self._rtt_sample(max(1, ticks) * TS_TICK_NS)
        if self.snd_una == self.snd_nxt:
            self._stop_timer()                                        # RFC 6298 5.2
        else:
            self._start_timer()                                       # RFC 6298 5.3
        if flight is not None:
            self._congestion_ack(ack, acked, flight)

    def _congestion_ack(self, ack: int, acked: int, flight: int) -> None:
        """What an ACK of new data does to the congestion window: end or continue a recovery (RFC 6582 3.2
        steps 3 and 4; Reno's recovery ends at any new ACK), or grow cwnd through the algorithm when the
        window was in use (Linux's tcp_is_cwnd_limited: an application- or peer-limited sender does not
        grow it)."""
        cc = self.cc
        if self._in_recovery:
            if seq_le(self._recover, ack) or not (cc.newreno or self.sack_ok):
                self._in_recovery = False                             # a full ACK (or Reno): deflate to
                cc.cwnd = cc.ssthresh                                 # ssthresh, as Linux ends a reduction
            elif not self.sack_ok:                                    # a partial ACK: the next hole
                self._retransmit(1)
                cc.cwnd = max(cc.mss, cc.cwnd - acked + (cc.mss if acked >= cc.mss else 0))
            return
        if self._loss:
            if seq_lt(self._rtx_next, ack):
                self._rtx_next = ack                                  # the peer had kept what followed a hole
            if seq_le(self._recover, ack):
                self._loss = False
        slow_start = cc.cwnd < cc.ssthresh
        if flight + cc.mss >= cc.cwnd or (slow_start and 2 * flight >= cc.cwnd):
            cc.on_ack(acked, self.sim.now_ns, self.srtt_ns)

    def _rtt_sample(self, r: int) -> None:
        """RFC 6298 2.2 and 2.3 (alpha 1/8, beta 1/4, K 4); RTO = SRTT + max(4 RTTVAR, 200 ms) as Linux."""
        for watch in self.stack.rtt_watchers:
            watch(self, r)
        if self.srtt_ns is None:
            self.srtt_ns, self.rttvar_ns = r, r // 2
        else:
            self.rttvar_ns = (3 * self.rttvar_ns + abs(self.srtt_ns - r)) // 4
            self.srtt_ns = (7 * self.srtt_ns + r) // 8
        # Linux's tcp_set_rto: SRTT plus the variance term, which is at least TCP_RTO_MIN.
        self.rto_ns = min(RTO_MAX_NS, self.srtt_ns + max(RTO_MIN_NS, 4 * self.rttvar_ns))

    # ------------------------------------------------------------------ receiving

    def _receive_text(self, seq: int, data: bytes, fin: bool):
        """Seventh and eighth steps: take text at RCV.NXT, keep later text until the gap is filled.

        Returns None, or (DropReason, detail) when out-of-order text had no room."""
        if seq != self.rcv_nxt:
            self._ack_needed = True                                   # a duplicate ACK, at once (RFC 5681 4.2)
            return self._hold(seq, data, fin)
        filled_a_hole = bool(self._out_of_order)
        self._take(data, fin)
        self._take_held()
        if self._sack_rx is not None and self._sack_rx.blocks:
            self._sack_rx.advanced(self.rcv_nxt)
        if filled_a_hole:
            self._ack_needed = True
        elif data and not fin:                                        # _fin_arrives asked for an ACK already
            self._ack_in_order_text()
        return None

    def _hold(self, seq: int, data: bytes, fin: bool):
        """Keep text beyond RCV.NXT: only the bytes not held already, so overlapping segments cannot multiply
        it, and within RECEIVE_BUFFER counting SEGMENT_OVERHEAD per piece, so tiny segments cannot either
        (Linux charges each skb's truesize to the receive buffer and prunes its out-of-order queue when full).
        Text that does not fit is dropped; the ACK that follows tells the peer what is missing."""
        pieces = self._new_pieces(seq, data)
        cost = sum(len(p) + SEGMENT_OVERHEAD for _, p in pieces)
        budget = RECEIVE_BUFFER * self._receive_window() // RCV_WND
        if self._ofo_cost + cost > budget:
            self.stack.stats["out_of_order_queue_full"] += 1
            return DropReason.OUT_OF_ORDER_QUEUE_FULL, f"TCP out-of-order queue full ({self._ofo_cost} of {budget} bytes)"
        self._out_of_order.update(pieces)
        self._ofo_cost += cost
        if fin:
            self._ofo_fin = (seq + len(data)) % MOD
        if self._sack_rx is not None:
            end = (seq + len(data) + fin) % MOD
            if data and not pieces:
                self._sack_rx.duplicate(seq, end)                     # held already (RFC 2883 4.1.1)
            self._sack_rx.arrived(seq, end)
        return None

    def _new_pieces(self, seq: int, data: bytes) -> list[tuple[int, bytes]]:
        """The parts of `data` (at `seq`, beyond RCV.NXT) that no held piece covers, as (seq, text)."""
        start = seq_diff(seq, self.rcv_nxt)
        held = sorted((seq_diff(s, self.rcv_nxt), len(p)) for s, p in self._out_of_order.items())
        pieces, pos, end = [], start, start + len(data)
        for h_start, h_len in held:
            if h_start >= end:
                break
            if h_start > pos:
                pieces.append((pos, h_start))
            pos = max(pos, h_start + h_len)
        if pos < end:
            pieces.append((pos, end))
        return [((self.rcv_nxt + a) % MOD, data[a - start:b - start]) for a, b in pieces]

    def _take_held(self) -> None:
        """Take the held pieces the in-order text has reached, then a held FIN once nothing is missing."""
        if not self._out_of_order and self._ofo_fin is None:
            return                                                    # nothing held (nearly always)
        while self.state in RECEIVING_STATES:
            s = next((s for s in self._out_of_order if seq_le(s, self.rcv_nxt)), None)
            if s is None:
                break
            piece = self._out_of_order.pop(s)
            self._ofo_cost -= len(piece) + SEGMENT_OVERHEAD
            skip = seq_diff(self.rcv_nxt, s)
            if skip < len(piece):
                self._take(piece[skip:], False)
        if self._ofo_fin == self.rcv_nxt and self.state in RECEIVING_STATES:
            self._take(b"", True)

    def _forget_out_of_order(self) -> None:
        self._out_of_order.clear()
        self._ofo_cost = 0
        self._ofo_fin = None
        if self._sack_rx is not None:
            self._sack_rx.clear()

    def _take(self, data: bytes, fin: bool) -> None:
        if data:
            self.rcv_nxt = (self.rcv_nxt + len(data)) % MOD
            self._copied += len(data)
            if self.rcvbuf.adjust(self._copied, self.sim.now_ns, self._rcv_mss()):
                self._open_window()                                   # the application reads at once
            if self.keep_received:
                self.received += data
            if self.on_data is not None:
                self.on_data(self, data)
        if fin:
            self._fin_arrives()

    def _fin_arrives(self) -> None:
        """Eighth step: the FIN takes one sequence number (R30) and moves the state on."""
        self.rcv_nxt = (self.rcv_nxt + 1) % MOD
        self._ack_needed = True
        self._forget_out_of_order()
        if self.state in (SYN_RECEIVED, ESTABLISHED):
            self._set_state(CLOSE_WAIT)
        elif self.state == FIN_WAIT_1:
            self._set_state(CLOSING)             # our FIN is not acknowledged yet: a simultaneous close
        elif self.state == FIN_WAIT_2:
            self._enter_time_wait()

    # ------------------------------------------------------------------ ICMP

    def icmp_error(self, notice, seq: int, too_big: bool, hard: bool, drops_request: bool = False) -> None:
        """An ICMP error about one of our segments (3.9.1). `drops_request`: the error ends a half-open
        connection of a listener (SYN-RECEIVED), as Linux's tcp_req_err does for ICMP net / host
        unreachable, time exceeded and parameter problem (ICMPv6: destination unreachable and parameter
        problem): the client that sent the SYN cannot be reached, so its place in the SYN queue is freed
        at once instead of after five SYN,ACK retransmissions."""
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
        if drops_request and self.state == SYN_RECEIVED and self.listener is not None:
            self.host.log(f"TCP {self.name}: {what} about our SYN,ACK: half-open connection forgotten")
            self.listener.stats["icmp_request_drops"] += 1
            self._enter_closed(f"destination unreachable ({what})")
            return
        if hard and self.state == SYN_SENT:
            self.host.log(f"TCP {self.name}: {what}: connection refused")
            self._enter_closed(f"destination unreachable ({what})")
            return
        self.soft_error = what
        self.host.log(f"TCP {self.name}: soft error {what}")
