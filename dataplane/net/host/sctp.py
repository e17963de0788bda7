"""SCTP, the Stream Control Transmission Protocol (RFC 9260), single-homed, written to be read.

An SCTP packet is a 12-byte common header and a list of chunks::

    +--------------------+--------------------+
    | source port        | destination port   |
    +--------------------+--------------------+
    | verification tag (the receiver's tag)   |
    +-----------------------------------------+
    | CRC32c, stored low byte first (R33)     |
    +-----------------------------------------+
    | chunk: type | flags | length | value... | padded to 4 bytes
    | chunk ...                               |

(the layouts are those of inet.p4: sctp_t, sctp_chunk_t, sctp_init_t,
sctp_data_t, sctp_sack_t, sctp_shutdown_t). Each end of an association
picks a 32-bit tag, and every packet carries the tag of the end that
receives it, so a packet that does not belong to the association (a stale
one, or a blind attack) is recognised and discarded.

The four-way handshake (section 5.1, R32)::

    A (associate)                                  Z (listen)
    CLOSED -> COOKIE-WAIT
        INIT  [vtag 0, Initiate Tag a, Initial TSN]  ->
                 <-  INIT ACK [vtag a, Initiate Tag z, State Cookie]
    COOKIE-WAIT -> COOKIE-ECHOED                   (Z keeps NO state: all it
        COOKIE ECHO [vtag z, the cookie]  ->        needs is in the cookie)
                                                   CLOSED -> ESTABLISHED
                 <-  COOKIE ACK [vtag a]
    COOKIE-ECHOED -> ESTABLISHED

The State Cookie carries everything the responder needs to build the
association (both tags, both initial TSNs, the peer's window, the stream
counts, the addresses and ports, the time it was made and its lifetime),
authenticated with an HMAC-SHA256 under a secret only the responder knows.
A flood of INITs therefore costs the responder no memory, and a forged or
modified cookie is recognised and discarded.

Data transfer (section 6): user messages are cut into DATA chunks that fit
the path MTU, each with a TSN (transmission sequence number, one per chunk,
for reliability), a stream identifier and a stream sequence number (for
ordering within a stream), and B/E flags marking the first and last piece
of a message. The receiver acknowledges with SACK chunks (cumulative TSN,
gap blocks, duplicates), at least for every second packet and within
200 ms (delayed SACK), at once when it sees a gap or a duplicate. The sender
keeps unacknowledged chunks and retransmits them when the T3-rtx timer
expires (RTO from RTT measurements, initially 1 s, doubling on each
expiry), or at once after three SACKs report a chunk missing (fast
retransmit). Congestion control is that of section 7 (slow start,
congestion avoidance, cwnd to one MTU after a timeout). Each stream is
delivered in order; a lost message on one stream does not hold up the
others.

Closing: SHUTDOWN / SHUTDOWN ACK / SHUTDOWN COMPLETE once all data is
acknowledged (section 9.2), or ABORT at once (section 9.1).

Out-of-the-blue packets, those that belong to no association, are answered
by the rules of section 8.4 (an ABORT with the T bit set and the packet's
own tag reflected, with the exceptions listed there).

Left out, as a single-homed teaching stack: multi-homing (address
parameters in INIT are ignored and the packet's source is used; no
HEARTBEATs are sent, though HEARTBEATs are answered), the extensions (PR-SCTP,
I-DATA, AUTH, ASCONF, stream reconfiguration, ECN), the rate limiting of
OOTB answers, the cwnd reset after an idle period, Max.Burst, and the
T5-shutdown-guard timer.

Everything is deterministic: tags and TSNs come from a generator seeded from
the host's name and `seed` (a real stack uses a cryptographic generator,
section 5.3.1), and every timer is an event of the simulator.

Every received SCTP packet is accounted for: host.deliver("sctp") when the
stack used it (answering it counts), else host.drop(reason): BAD_CHECKSUM for
a bad CRC32c (R33) or a State Cookie whose MAC does not verify, MALFORMED for
impossible chunks, an INIT with Initiate Tag 0 or bundled with other chunks,
NOT_FOR_US for a verification tag that is not the association's, and
NO_LISTENER for out-of-the-blue packets (also when they are answered, as a
closed UDP port is answered with an ICMP error).

Use::

    SctpStack(b).listen(5000, on_accept)             # on_accept(association) once ESTABLISHED
    assoc = SctpStack(a).associate(ip4("10.0.0.2"), 5000)
    assoc.send(b"hello", stream=1)                   # may be called before the handshake completes
    assoc.shutdown()
    sim.run()                                        # then: assoc.state, assoc.history, peer.received
"""

from __future__ import annotations

import hashlib
import hmac
import random
import struct
from collections import deque
from dataclasses import dataclass
from typing import Callable

from ...protocols import packets as P
from ...protocols.checksums import sctp_checksum_ok
from ...protocols.library import inet
from ...runtime.trace import DropReason

# ---------------------------------------------------------------------------- numbers

_LIB = inet()
_COMMON = _LIB.header("sctp_t")
_CHUNK_HDR = _LIB.header("sctp_chunk_t")
_INIT = _LIB.header("sctp_init_t")
_DATA = _LIB.header("sctp_data_t")
_SACK = _LIB.header("sctp_sack_t")
_SHUTDOWN = _LIB.header("sctp_shutdown_t")

# Chunk types (section 3.2), from inet.p4.
DATA = _LIB.const("SCTP_DATA")
INIT = _LIB.const("SCTP_INIT")
INIT_ACK = _LIB.const("SCTP_INIT_ACK")
SACK = _LIB.const("SCTP_SACK")
HEARTBEAT = _LIB.const("SCTP_HEARTBEAT")
HEARTBEAT_ACK = _LIB.const("SCTP_HEARTBEAT_ACK")
ABORT = _LIB.const("SCTP_ABORT")
SHUTDOWN = _LIB.const("SCTP_SHUTDOWN")
SHUTDOWN_ACK = _LIB.const("SCTP_SHUTDOWN_ACK")
ERROR = _LIB.const("SCTP_ERROR")
COOKIE_ECHO = _LIB.const("SCTP_COOKIE_ECHO")
COOKIE_ACK = _LIB.const("SCTP_COOKIE_ACK")
SHUTDOWN_COMPLETE = _LIB.const("SCTP_SHUTDOWN_COMPLETE")
CHUNK_NAMES = {DATA: "DATA", INIT: "INIT", INIT_ACK: "INIT ACK", SACK: "SACK", HEARTBEAT: "HEARTBEAT",
               HEARTBEAT_ACK: "HEARTBEAT ACK", ABORT: "ABORT", SHUTDOWN: "SHUTDOWN", SHUTDOWN_ACK: "SHUTDOWN ACK",
               ERROR: "ERROR", COOKIE_ECHO: "COOKIE ECHO", COOKIE_ACK: "COOKIE ACK",
               SHUTDOWN_COMPLETE: "SHUTDOWN COMPLETE"}

# Chunk flags.
FLAG_T = 0x01                 # ABORT, SHUTDOWN COMPLETE: the verification tag is reflected (section 3.3.7)
FLAG_E, FLAG_B, FLAG_U = 0x01, 0x02, 0x04     # DATA: ending fragment, beginning fragment, unordered

# Parameters (section 3.3.2.1) and error causes (section 3.3.10).
PARAM_STATE_COOKIE = 7
PARAM_COOKIE_PRESERVATIVE = 9
PARAM_SUPPORTED_ADDRESS_TYPES = 12
PARAM_IPV4, PARAM_IPV6 = 5, 6
CAUSE_INVALID_STREAM = 1
CAUSE_MISSING_PARAMETER = 2
CAUSE_STALE_COOKIE = 3
CAUSE_UNRECOGNIZED_CHUNK = 6
CAUSE_INVALID_PARAMETER = 7
CAUSE_NO_USER_DATA = 9
CAUSE_COOKIE_WHILE_SHUTTING_DOWN = 10
CAUSE_USER_ABORT = 12

# Protocol parameters (section 16), in nanoseconds where they are times.
MS = 1_000_000
S = 1_000_000_000
RTO_INITIAL = 1 * S
RTO_MIN = 1 * S
RTO_MAX = 60 * S
RTO_ALPHA, RTO_BETA = 1 / 8, 1 / 4
VALID_COOKIE_LIFE = 60 * S
ASSOCIATION_MAX_RETRANS = 10
MAX_INIT_RETRANSMITS = 8
SACK_DELAY = 200 * MS          # section 6.2: "within 200 ms of the arrival of any unacknowledged DATA chunk"
SACK_EVERY_PACKETS = 2         # "... a SACK for at least every second packet"
RECEIVE_BUFFER = 65536         # our a_rwnd: bytes we are ready to hold out of order
MAX_DUPS_REPORTED = 16

STATES = ("CLOSED", "COOKIE-WAIT", "COOKIE-ECHOED", "ESTABLISHED", "SHUTDOWN-PENDING", "SHUTDOWN-SENT",
          "SHUTDOWN-RECEIVED", "SHUTDOWN-ACK-SENT")
SENDING_STATES = ("ESTABLISHED", "SHUTDOWN-PENDING", "SHUTDOWN-RECEIVED")      # DATA may go out
RECEIVING_STATES = ("COOKIE-ECHOED", "ESTABLISHED", "SHUTDOWN-PENDING", "SHUTDOWN-SENT", "SHUTDOWN-RECEIVED")

M32 = 0xFFFFFFFF


class SctpError(Exception):
    """A request the association cannot carry out (sending on a closed association, a bad stream)."""


# ---------------------------------------------------------------------------- serial number arithmetic

# TSNs are 32-bit numbers that wrap around; "a is before b" is serial number
# arithmetic (RFC 1982), as section 1.6 asks.

def tsn_lt(a: int, b: int) -> bool:
    return a != b and ((b - a) & M32) < 0x80000000


def tsn_le(a: int, b: int) -> bool:
    return a == b or tsn_lt(a, b)


# ---------------------------------------------------------------------------- chunks on the wire


@dataclass
class Chunk:
    type: int
    flags: int
    value: bytes               # without the 4-byte chunk header and without padding

    @property
    def name(self) -> str:
        return CHUNK_NAMES.get(self.type, f"chunk type {self.type}")

    def raw(self) -> bytes:
        return P.sctp_chunk(self.type, self.flags, self.value)


def parse_chunks(packet: bytes) -> list[Chunk] | None:
    """The chunks after the common header, or None if a chunk length is impossible."""
    chunks, off = [], 12
    while off + 4 <= len(packet):
        h = _CHUNK_HDR.unpack(packet, off)
        length = h["length"]
        if length < 4 or off + length > len(packet):
            return None
        chunks.append(Chunk(h["type"], h["flags"], packet[off + 4:off + length]))
        off += length + (-length % 4)          # the last chunk's padding may be missing; that is accepted
    if off < len(packet) and any(packet[off:]):
        return None
    return chunks


def parse_params(data: bytes) -> list[tuple[int, bytes]]:
    """Type-length-value parameters (or error causes), each padded to 4 bytes."""
    out, off = [], 0
    while off + 4 <= len(data):
        t, length = struct.unpack_from("!HH", data, off)
        if length < 4 or off + length > len(data):
            break
        out.append((t, data[off + 4:off + length]))
        off += length + (-length % 4)
    return out


def error_cause(code: int, info: bytes = b"") -> bytes:
    """An error cause (section 3.3.10) has the same layout as a parameter."""
    return P.sctp_param(code, info)


def init_chunk(type_: int, tag: int, a_rwnd: int, os_: int, mis: int, tsn: int, params: bytes = b"") -> bytes:
    """INIT or INIT ACK: the fixed fields of inet.p4's sctp_init_t, then the parameters."""
    fixed = _INIT.pack(initiateTag=tag, a_rwnd=a_rwnd, numOutboundStreams=os_, numInboundStreams=mis,
                       initialTsn=tsn)
    return P.sctp_chunk(type_, 0, fixed + params)


def data_chunk(tsn: int, sid: int, ssn: int, ppid: int, data: bytes, flags: int) -> bytes:
    return P.sctp_chunk(DATA, flags, _DATA.pack(tsn=tsn, streamId=sid, streamSeq=ssn, ppid=ppid) + data)


def sack_chunk(cum: int, a_rwnd: int, gaps: list[tuple[int, int]], dups: list[int]) -> bytes:
    value = _SACK.pack(cumTsnAck=cum, a_rwnd=a_rwnd, numGapBlocks=len(gaps), numDupTsns=len(dups))
    value += b"".join(struct.pack("!HH", s, e) for s, e in gaps)
    value += b"".join(struct.pack("!I", d) for d in dups)
    return P.sctp_chunk(SACK, 0, value)


def parse_sack(value: bytes) -> tuple[int, int, list[tuple[int, int]], list[int]] | None:
    if len(value) < _SACK.size:
        return None
    s = _SACK.unpack(value)
    n, d = s["numGapBlocks"], s["numDupTsns"]
    if len(value) < 12 + 4 * n + 4 * d:
        return None
    gaps = [struct.unpack_from("!HH", value, 12 + 4 * i) for i in range(n)]
    dups = [struct.unpack_from("!I", value, 12 + 4 * n + 4 * i)[0] for i in range(d)]
    return s["cumTsnAck"], s["a_rwnd"], gaps, dups


# ---------------------------------------------------------------------------- the State Cookie (section 5.1.3)


@dataclass
class StateCookie:
    """What the responder of an INIT needs to build the association later, carried by the initiator."""
    created_ns: int
    life_ns: int
    my_tag: int                # the responder's tag (Z), the Initiate Tag of the INIT ACK
    peer_tag: int              # the initiator's tag (A)
    my_tsn: int                # the responder's initial TSN
    peer_tsn: int              # the initiator's initial TSN
    peer_rwnd: int
    out_streams: int           # already negotiated: min(what one end offers, what the other accepts)
    in_streams: int
    tie_local: int             # Tie-Tags (section 5.2.2): the tags of an association that already existed,
    tie_peer: int              # 0 when there was none
    lport: int
    pport: int
    v6: bool
    local: int
    peer: int

    _LAYOUT = struct.Struct("!QQIIIIIHHIIHHI16s16s")     # 100 bytes, a multiple of 4: no padding needed
    MAC_LEN = 32

    def sign(self, secret: bytes) -> bytes:
        body = self._LAYOUT.pack(self.created_ns, self.life_ns, self.my_tag, self.peer_tag, self.my_tsn,
                                 self.peer_tsn, self.peer_rwnd, self.out_streams, self.in_streams, self.tie_local,
                                 self.tie_peer, self.lport, self.pport, int(self.v6),
                                 self.local.to_bytes(16, "big"), self.peer.to_bytes(16, "big"))
        return body + hmac.new(secret, body, hashlib.sha256).digest()

    @classmethod
    def open(cls, secret: bytes, data: bytes) -> "StateCookie | None":
        """The cookie, or None if it is not one of ours (wrong length, or the MAC does not verify)."""
        if len(data) != cls._LAYOUT.size + cls.MAC_LEN:
            return None
        body, mac = data[:cls._LAYOUT.size], data[cls._LAYOUT.size:]
        if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
            return None
        f = cls._LAYOUT.unpack(body)
        return cls(*f[:13], bool(f[13]), int.from_bytes(f[14], "big"), int.from_bytes(f[15], "big"))


# ---------------------------------------------------------------------------- the endpoint


class SctpStack:
    """The SCTP endpoint of a host: listeners, associations, and packets that belong to neither."""

    def __init__(self, host, seed: int = 0, secret: bytes | None = None, streams: int = 16,
                 cookie_life_ns: int = VALID_COOKIE_LIFE):
        self.host = host
        self.sim = host.sim
        self.rng = random.Random(f"sctp:{host.name}:{seed}")
        # The cookie secret: given, or derived from the seed so that runs repeat exactly.
        if secret is None:
            secret = hashlib.sha256(f"sctp secret {host.name} {seed}".encode()).digest()
        self.secret = secret
        self.streams = streams                    # outbound streams we ask for, inbound streams we accept
        self.cookie_life_ns = cookie_life_ns
        self.listeners: dict[int, Callable | None] = {}
        self.associations: dict[tuple, Association] = {}      # (v6, local, lport, peer, pport) -> association
        host.sctp = self
        host.protocols[(False, P.IP_SCTP)] = self.input
        host.protocols[(True, P.IP_SCTP)] = self.input
        host.icmp_listeners.append(self._icmp)

    # ------------------------------------------------------------------ the user's side

    def listen(self, port: int, on_accept: Callable[["Association"], None] | None = None) -> None:
        """Accept associations on `port`; on_accept(association) runs when one is ESTABLISHED."""
        self.listeners[port] = on_accept

    def unlisten(self, port: int) -> None:
        self.listeners.pop(port, None)

    def associate(self, dst: int, dport: int, v6: bool = False, sport: int | None = None) -> "Association":
        """Start the four-way handshake with dst:dport (section 5.1, step A)."""
        route = self.host.route6(dst) if v6 else self.host.route4(dst)
        if route is None:
            raise SctpError(f"no route to {_addr(dst, v6)}")
        iface = route[0]
        local = self.host.source6(iface, dst) if v6 else int(iface.ipv4.ip)
        if sport is None:
            sport = self._ephemeral_port()
        key = (v6, local, sport, dst, dport)
        if key in self.associations:
            raise SctpError(f"an association {_addr(local, v6)}:{sport} <-> {_addr(dst, v6)}:{dport} exists")
        a = Association(self, v6, local, sport, dst, dport)
        self.associations[key] = a
        a._start_handshake()
        return a

    # ------------------------------------------------------------------ helpers

    def new_tag(self) -> int:
        """A verification tag: any 32-bit value but 0 (section 5.3.1)."""
        return self.rng.randrange(1, 1 << 32)

    def new_tsn(self) -> int:
        return self.rng.randrange(0, 1 << 32)

    def _ephemeral_port(self) -> int:
        used = {k[2] for k in self.associations} | set(self.listeners)
        while True:
            port = self.rng.randrange(49152, 65536)
            if port not in used:
                return port

    def send_packet(self, v6: bool, src: int, dst: int, sport: int, dport: int, vtag: int,
                    chunks: list[bytes]) -> None:
        """One SCTP packet: the common header, the chunks, the CRC32c (R33), handed to IP."""
        packet = P.sctp(sport, dport, vtag, chunks)
        if v6:
            self.host.send_ipv6(dst, P.IP_SCTP, packet, src=src)
        else:
            # DF stays off: chunks are cut to the path MTU, and a retransmission after the path MTU
            # shrank may still need IP fragmentation (section 7.3).
            self.host.send_ipv4(dst, P.IP_SCTP, packet, src=src)

    def _reply(self, pkt, sport: int, dport: int, vtag: int, chunks: list[bytes]) -> None:
        """Answer a received packet: addresses and ports swapped."""
        self.send_packet(pkt.v6, pkt.dst, pkt.src, dport, sport, vtag, chunks)

    # ------------------------------------------------------------------ input

    def input(self, pkt) -> None:
        """A packet for protocol 132: check it, then hand it to its association or treat it as out of the blue."""
        data = pkt.payload
        if len(data) < 12:
            self.host.drop(DropReason.MALFORMED, "truncated SCTP common header")
            return
        # R33: the CRC32c is checked first; a bad one means silent discard (section 6.8).
        if not sctp_checksum_ok(data):
            self.host.drop(DropReason.BAD_CHECKSUM, "SCTP CRC32c")
            return
        h = _COMMON.unpack(data)
        sport, dport, vtag = h["srcPort"], h["dstPort"], h["verificationTag"]
        chunks = parse_chunks(data)
        if not chunks:
            self.host.drop(DropReason.MALFORMED, "SCTP packet without valid chunks")
            return
        # Section 3: "INIT, INIT ACK, and SHUTDOWN COMPLETE chunks MUST NOT be bundled with any other chunk
        # into an SCTP packet." A packet that does so is not processed (section 8.5.1 A for INIT).
        if len(chunks) > 1 and any(c.type in (INIT, INIT_ACK, SHUTDOWN_COMPLETE) for c in chunks):
            self.host.drop(DropReason.MALFORMED, "SCTP INIT, INIT ACK or SHUTDOWN COMPLETE bundled with other chunks")
            return
        assoc = self.associations.get((pkt.v6, pkt.dst, dport, pkt.src, sport))
        first = chunks[0]
        if first.type == INIT:
            self._on_init(pkt, sport, dport, vtag, first, assoc)
        elif first.type == COOKIE_ECHO:
            self._on_cookie_echo(pkt, sport, dport, vtag, chunks, assoc)
        elif assoc is not None:
            assoc._receive(vtag, chunks)
        else:
            self._out_of_the_blue(pkt, sport, dport, vtag, chunks)

    def _out_of_the_blue(self, pkt, sport: int, dport: int, vtag: int, chunks: list[Chunk]) -> None:
        """Section 8.4: a packet that belongs to no association (INIT and COOKIE ECHO are handled before)."""
        types = {c.type for c in chunks}
        unicast = not pkt.broadcast and not _multicast(pkt.dst, pkt.v6) \
            and not _multicast(pkt.src, pkt.v6)
        what = "+".join(c.name for c in chunks)
        if not unicast:                                                    # 1
            self.host.drop(DropReason.NO_LISTENER, f"SCTP out of the blue {what} to or from a non-unicast address")
        elif ABORT in types:                                               # 2
            self.host.drop(DropReason.NO_LISTENER, "SCTP out of the blue ABORT (silently discarded)")
        elif SHUTDOWN_ACK in types:                                        # 5
            # "... respond ... with a SHUTDOWN COMPLETE chunk. When sending the SHUTDOWN COMPLETE chunk, the
            # receiver of the OOTB packet MUST fill in the Verification Tag field of the outbound packet with
            # the Verification Tag received in the SHUTDOWN ACK chunk and set the T bit"
            self.host.drop(DropReason.NO_LISTENER, "SCTP out of the blue SHUTDOWN ACK (answered)")
            self.host.log(f"SCTP out of the blue SHUTDOWN ACK from {_addr(pkt.src, pkt.v6)}: SHUTDOWN COMPLETE, T=1")
            self._reply(pkt, sport, dport, vtag, [P.sctp_chunk(SHUTDOWN_COMPLETE, FLAG_T, b"")])
        elif SHUTDOWN_COMPLETE in types:                                   # 6
            self.host.drop(DropReason.NO_LISTENER, "SCTP out of the blue SHUTDOWN COMPLETE (silently discarded)")
        elif COOKIE_ACK in types or (ERROR in types and _has_cause(chunks, CAUSE_STALE_COOKIE)):      # 7
            self.host.drop(DropReason.NO_LISTENER, f"SCTP out of the blue {what} (discarded)")
        else:                                                              # 8
            # Step 8: answer with an ABORT whose verification tag is the one the OOTB packet carried, with
            # the T bit set to say that the tag is reflected; then discard the packet and do nothing more.
            self.host.drop(DropReason.NO_LISTENER, f"SCTP out of the blue {what} (answered with ABORT)")
            self.host.log(f"SCTP out of the blue {what} from {_addr(pkt.src, pkt.v6)}:{sport}: "
                          f"ABORT, T=1, vtag 0x{vtag:08x} reflected")
            self._reply(pkt, sport, dport, vtag, [P.sctp_chunk(ABORT, FLAG_T, b"")])

    # ------------------------------------------------------------------ INIT (sections 5.1, 5.2)

    def _on_init(self, pkt, sport: int, dport: int, vtag: int, chunk: Chunk, assoc: "Association | None") -> None:
        # Section 8.5.1 A: the sender of an INIT sets the verification tag to 0; anything else is discarded.
        if vtag != 0:
            self.host.drop(DropReason.MALFORMED, f"SCTP INIT with verification tag 0x{vtag:08x}, not 0")
            return
        if len(chunk.value) < _INIT.size:
            self.host.drop(DropReason.MALFORMED, "truncated SCTP INIT")
            return
        init = _INIT.unpack(chunk.value)
        tag = init["initiateTag"]
        if tag == 0:
            # RFC 9260 section 3.3.2: "If the value of the Initiate Tag in a received INIT chunk is found to
            # be 0, the receiver MUST silently discard the packet."
            # RFC 4960 section 3.3.2 said the opposite: "... the receiver MUST treat it as an error and close
            # the association by transmitting an ABORT." Such an ABORT would have to carry the Initiate Tag,
            # 0, as its verification tag (section 8.4 step 3), a tag that identifies no association.
            self.host.drop(DropReason.MALFORMED, "SCTP INIT with Initiate Tag 0 (RFC 9260: silently discarded)")
            return
        if init["numOutboundStreams"] == 0 or init["numInboundStreams"] == 0 or init["a_rwnd"] < 1500:
            # Section 3.3.2: "MUST discard the packet, SHOULD send a packet in response containing an ABORT
            # chunk and using the Initiate Tag as the Verification Tag, and MUST NOT change the state of any
            # existing association."
            self.host.drop(DropReason.MALFORMED, "SCTP INIT with 0 streams or a_rwnd below 1500 (ABORT sent)")
            self._reply(pkt, sport, dport, tag, [P.sctp_chunk(ABORT, 0, error_cause(CAUSE_INVALID_PARAMETER))])
            return
        if assoc is None and dport not in self.listeners:
            # Section 8.4 step 3: the ABORT carries the Initiate Tag, and T=0 (the tag is not reflected).
            self.host.drop(DropReason.NO_LISTENER, f"SCTP port {dport}")
            self.host.log(f"SCTP INIT to port {dport} with no listener: ABORT, vtag 0x{tag:08x}, T=0")
            self._reply(pkt, sport, dport, tag, [P.sctp_chunk(ABORT, 0, b"")])
            return
        if assoc is not None and assoc.state == "SHUTDOWN-ACK-SENT":
            # Section 9.2: the SHUTDOWN COMPLETE was probably lost; discard the INIT and repeat SHUTDOWN ACK.
            self.host.deliver("sctp")
            assoc._send_chunks([P.sctp_chunk(SHUTDOWN_ACK, 0, b"")])
            return
        preservative = 0
        for t, v in parse_params(chunk.value[_INIT.size:]):
            if t == PARAM_COOKIE_PRESERVATIVE and len(v) >= 4:
                preservative = min(struct.unpack("!I", v[:4])[0] * MS, VALID_COOKIE_LIFE)
        if assoc is None:
            # A new association: fresh tag and TSN, and no state kept here (section 5.1 step B).
            my_tag, my_tsn, tie_local, tie_peer = self.new_tag(), self.new_tsn(), 0, 0
        elif assoc.state in ("COOKIE-WAIT", "COOKIE-ECHOED"):
            # Section 5.2.1, an INIT collision: answer with the parameters of our own INIT (same tag).
            my_tag, my_tsn = assoc.my_tag, assoc.my_initial_tsn
            tie_local, tie_peer = (assoc.my_tag, assoc.peer_tag) if assoc.state == "COOKIE-ECHOED" else (0, 0)
        else:
            # Section 5.2.2, an unexpected INIT (the peer may have restarted): new tags, and the current
            # ones as Tie-Tags so that the COOKIE ECHO can be matched to this association (Table 2, case A).
            my_tag, my_tsn, tie_local, tie_peer = self.new_tag(), self.new_tsn(), assoc.my_tag, assoc.peer_tag
        cookie = StateCookie(
            created_ns=self.sim.now_ns, life_ns=self.cookie_life_ns + preservative, my_tag=my_tag, peer_tag=tag,
            my_tsn=my_tsn, peer_tsn=init["initialTsn"], peer_rwnd=init["a_rwnd"],
            out_streams=min(self.streams, init["numInboundStreams"]),
            in_streams=min(self.streams, init["numOutboundStreams"]),
            tie_local=tie_local, tie_peer=tie_peer, lport=dport, pport=sport, v6=pkt.v6, local=pkt.dst, peer=pkt.src)
        init_ack = init_chunk(INIT_ACK, my_tag, RECEIVE_BUFFER, self.streams, self.streams, my_tsn,
                              P.sctp_param(PARAM_STATE_COOKIE, cookie.sign(self.secret)))
        self.host.log(f"SCTP INIT from {_addr(pkt.src, pkt.v6)}:{sport} (tag 0x{tag:08x}): INIT ACK with tag "
                      f"0x{my_tag:08x} and a State Cookie" + (f" (association in {assoc.state})" if assoc else ""))
        self.host.deliver("sctp")
        self._reply(pkt, sport, dport, tag, [init_ack])      # the INIT ACK goes alone (section 6.10)

    # ------------------------------------------------------------------ COOKIE ECHO (sections 5.1.5, 5.2.4)

    def _on_cookie_echo(self, pkt, sport: int, dport: int, vtag: int, chunks: list[Chunk],
                        assoc: "Association | None") -> None:
        cookie = StateCookie.open(self.secret, chunks[0].value)
        if cookie is None:
            # Section 5.1.5 step 2: the MAC does not verify, so the cookie was not made here or was changed.
            self.host.drop(DropReason.BAD_CHECKSUM, "SCTP State Cookie does not authenticate")
            return
        # Step 3: the cookie must be for these ports and addresses, and the packet must carry the tag the
        # cookie gives us.
        if (cookie.v6, cookie.local, cookie.lport, cookie.peer, cookie.pport) != (pkt.v6, pkt.dst, dport, pkt.src,
                                                                                  sport) \
                or vtag != cookie.my_tag:
            self.host.drop(DropReason.NOT_FOR_US, "SCTP State Cookie for other addresses, ports or tag")
            return
        if assoc is not None:
            assoc._on_cookie_echo(cookie, chunks[1:])
            return
        if self.sim.now_ns > cookie.created_ns + cookie.life_ns:
            # Step 3: a stale cookie -> an ERROR with the Stale Cookie cause, the staleness in microseconds.
            stale_us = (self.sim.now_ns - cookie.created_ns - cookie.life_ns) // 1000
            self.host.deliver("sctp")
            self.host.log(f"SCTP stale State Cookie from {_addr(pkt.src, pkt.v6)}:{sport} ({stale_us} us late)")
            self._reply(pkt, sport, dport, cookie.peer_tag,
                        [P.sctp_chunk(ERROR, 0, error_cause(CAUSE_STALE_COOKIE, struct.pack("!I", stale_us)))])
            return
        if dport not in self.listeners:
            self._out_of_the_blue(pkt, sport, dport, vtag, chunks)
            return
        # Step 4: build the association from the cookie, go to ESTABLISHED and send COOKIE ACK.
        self.host.deliver("sctp")
        a = Association(self, pkt.v6, pkt.dst, dport, pkt.src, sport)
        self.associations[a.key] = a
        a._adopt(cookie)
        a._set_state("ESTABLISHED")
        a._send_chunks([P.sctp_chunk(COOKIE_ACK, 0, b"")])
        on_accept = self.listeners[dport]
        if on_accept is not None:
            on_accept(a)
        if len(chunks) > 1 and a.state != "CLOSED":
            a._process(chunks[1:])          # chunks bundled after the COOKIE ECHO (DATA, typically)
            a._after_packet()

    # ------------------------------------------------------------------ ICMP (appendix C)

    def _icmp(self, n) -> None:
        """A protocol unreachable for one of our packets ends the association (appendix C, ICMP3 and ICMP4)."""
        unreachable = (n.v6 and n.type == 4 and n.code == 1) or (not n.v6 and n.type == 3 and n.code == 2)
        if not unreachable:
            return
        q = n.data
        if n.v6:
            if len(q) < 40 + 12 or q[6] != P.IP_SCTP:
                return
            src, dst, off = int.from_bytes(q[8:24], "big"), int.from_bytes(q[24:40], "big"), 40
        else:
            if len(q) < 20 or q[9] != P.IP_SCTP:
                return
            off = (q[0] & 0xF) * 4
            if len(q) < off + 12:
                return
            src, dst = int.from_bytes(q[12:16], "big"), int.from_bytes(q[16:20], "big")
        sport, dport, vtag = struct.unpack_from("!HHI", q, off)
        a = self.associations.get((n.v6, src, sport, dst, dport))
        if a is None:
            return
        # ICMP5/ICMP6: the quoted tag must be the peer's, or, for an INIT (tag 0), its Initiate Tag ours.
        if vtag == 0:
            ok = len(q) >= off + 20 and q[off + 12] == INIT and struct.unpack_from("!I", q, off + 16)[0] == a.my_tag
        else:
            ok = vtag == a.peer_tag
        if ok:
            a._close(f"ICMP protocol unreachable from {_addr(n.src, n.v6)}")


# ---------------------------------------------------------------------------- an association


class _OutChunk:
    """A DATA chunk on the sending side, from the time it gets its TSN until it is acknowledged."""
    __slots__ = ("tsn", "wire", "size", "sent_count", "sent_ns", "gap_acked", "marked", "misses", "fast_done")

    def __init__(self, tsn: int, wire: bytes, size: int):
        self.tsn, self.wire, self.size = tsn, wire, size
        self.sent_count = 0            # transmissions so far
        self.sent_ns = 0
        self.gap_acked = False         # acknowledged by a gap block (may still be reneged: kept until cum ack)
        self.marked = False            # marked for retransmission
        self.misses = 0                # miss indications, for fast retransmit (section 7.2.4)
        self.fast_done = False         # fast retransmitted already (only once per chunk)


class Association:
    """One association (a TCB): its state, both tags, the sending and receiving halves, its timers.

    For the user: `state` (one of STATES), `history` [(time ns, old, new)], `received` [(stream,
    message)] in delivery order, `error` (why it ended, None after a graceful close), the callbacks
    `on_receive(stream, message)` and `on_close(association)`, and send / shutdown / abort.
    """

    def __init__(self, stack: SctpStack, v6: bool, local: int, lport: int, peer: int, pport: int):
        self.stack, self.host, self.sim = stack, stack.host, stack.sim
        self.v6, self.local, self.lport, self.peer, self.pport = v6, local, lport, peer, pport
        self.state = "CLOSED"
        self.history: list[tuple[int, str, str]] = []
        self.received: list[tuple[int, bytes]] = []
        self.on_receive: Callable[[int, bytes], None] | None = None     # (stream, message), as delivered
        self.on_close: Callable[["Association"], None] | None = None
        self.error: str | None = None          # why the association ended, if not by a graceful shutdown
        self._timers: dict[str, list] = {}
        # Tags and stream counts.
        self.my_tag = 0
        self.peer_tag = 0
        self.out_streams = stack.streams
        self.in_streams = stack.streams
        # Sender.
        self.my_initial_tsn = 0
        self.next_tsn = 0
        self.cum_ack = 0                       # the peer's cumulative TSN ack: everything up to it is acked
        self.queue: deque[_OutChunk] = deque()           # TSN assigned, never sent
        self.outstanding: dict[int, _OutChunk] = {}      # sent, not yet cumulatively acked (TSN order)
        self.out_ssn: dict[int, int] = {}
        self.peer_rwnd = 0
        self.cwnd = 0
        self.ssthresh = 0
        self.partial_bytes_acked = 0
        self.fast_recovery_exit: int | None = None
        self.rto = RTO_INITIAL
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rtt_probe: tuple[int, int] | None = None    # (TSN, time sent): one RTT measurement at a time
        self.error_count = 0
        self.init_retries = 0
        self.retransmissions = 0
        self._init_chunk = b""
        self._cookie_chunk = b""
        # Receiver.
        self.rx_cum = 0                        # our cumulative TSN: every TSN up to it has arrived
        self.rx_above: set[int] = set()        # TSNs that arrived beyond rx_cum (the gaps are what is missing)
        self.rx_chunks: dict[int, tuple[int, int, int, bytes]] = {}    # TSN -> (flags, stream, SSN, data)
        self.rx_held = 0                       # bytes held for reassembly or ordering
        self.in_ssn: dict[int, int] = {}       # stream -> next SSN to deliver
        self.ready: dict[int, dict[int, bytes]] = {}   # stream -> SSN -> complete message waiting its turn
        self.dups: list[int] = []
        self.packets_unacked = 0
        self.sack_now = False                  # set while processing a packet: a SACK must go without delay
        self._new_data = False
        self._errors: list[bytes] = []         # error causes to report in an ERROR chunk after this packet
        self._shutdown_requested = False
        self._in_packet = False                # processing a received packet: replies wait for its end

    # ------------------------------------------------------------------ names, state, timers

    @property
    def key(self) -> tuple:
        return (self.v6, self.local, self.lport, self.peer, self.pport)

    def __repr__(self) -> str:
        return f"<Association {self._name()} {self.state}>"

    def _name(self) -> str:
        return f"{_addr(self.local, self.v6)}:{self.lport} <-> {_addr(self.peer, self.v6)}:{self.pport}"

    def _set_state(self, new: str) -> None:
        old, self.state = self.state, new
        if old != new:
            self.history.append((self.sim.now_ns, old, new))
            self.host.log(f"SCTP {self._name()} {old} -> {new}")

    def _start_timer(self, name: str, delay_ns: int, fn: Callable) -> None:
        self._stop_timer(name)
        self._timers[name] = self.sim.schedule(delay_ns, self._fire, name, fn)

    def _stop_timer(self, name: str) -> None:
        self.sim.cancel(self._timers.pop(name, None))

    def _fire(self, name: str, fn: Callable) -> None:
        self._timers.pop(name, None)
        fn()

    def _close(self, error: str | None = None) -> None:
        """Delete the association (the TCB): stop the timers, forget the data, CLOSED."""
        for name in list(self._timers):
            self._stop_timer(name)
        if error is not None and self.error is None:
            self.error = error
            self.host.log(f"SCTP {self._name()}: {error}")
        self._set_state("CLOSED")
        if self.stack.associations.get(self.key) is self:
            del self.stack.associations[self.key]
        if self.on_close is not None:
            self.on_close(self)

    def _pmtu(self) -> int:
        route = self.host.route6(self.peer) if self.v6 else self.host.route4(self.peer)
        link_mtu = route[0].mtu if route else 1280
        return (self.host.pmtu6 if self.v6 else self.host.pmtu4).mtu(self.peer, link_mtu)

    def _max_packet(self) -> int:
        """Bytes of SCTP packet (common header and chunks) that fit the path MTU."""
        return self._pmtu() - (40 if self.v6 else 20)

    def _send_chunks(self, chunks: list[bytes], vtag: int | None = None) -> None:
        self.stack.send_packet(self.v6, self.local, self.peer, self.lport, self.pport,
                               self.peer_tag if vtag is None else vtag, chunks)

    # ------------------------------------------------------------------ the user's side

    def send(self, data: bytes, stream: int = 0, ppid: int = 0) -> None:
        """Queue a user message on a stream: cut into DATA chunks that fit the path MTU (section 6.9)."""
        if self.state not in ("COOKIE-WAIT", "COOKIE-ECHOED", "ESTABLISHED"):
            raise SctpError(f"cannot send in state {self.state}")
        if not data:
            raise SctpError("SCTP messages cannot be empty (section 3.3.1)")
        if not 0 <= stream < self.out_streams:
            raise SctpError(f"stream {stream} is not one of the {self.out_streams} outbound streams")
        ssn = self.out_ssn.get(stream, 0)
        self.out_ssn[stream] = (ssn + 1) & 0xFFFF
        # Each DATA chunk: 12-byte common header + 16-byte DATA header + data, multiple of 4.
        per_chunk = (self._max_packet() - 12 - 16) & ~3
        pieces = [data[i:i + per_chunk] for i in range(0, len(data), per_chunk)]
        for i, piece in enumerate(pieces):
            flags = (FLAG_B if i == 0 else 0) | (FLAG_E if i == len(pieces) - 1 else 0)
            tsn, self.next_tsn = self.next_tsn, (self.next_tsn + 1) & M32
            self.queue.append(_OutChunk(tsn, data_chunk(tsn, stream, ssn, ppid, piece, flags), len(piece)))
        if len(pieces) > 1:
            self.host.log(f"SCTP {self._name()}: {len(data)}-byte message on stream {stream} in "
                          f"{len(pieces)} DATA chunks")
        if not self._in_packet:                # an answer to a received packet leaves with its SACK
            self._transmit()

    def shutdown(self) -> None:
        """Graceful close (section 9.2): no new data; SHUTDOWN once everything sent is acknowledged."""
        if self.state in ("COOKIE-WAIT", "COOKIE-ECHOED"):
            self._shutdown_requested = True    # queued data first: the shutdown starts once ESTABLISHED
            return
        if self.state != "ESTABLISHED":
            return
        self._set_state("SHUTDOWN-PENDING")
        self._shutdown_progress()

    def abort(self, reason: bytes = b"") -> None:
        """Section 9.1: ABORT at once, with the User-Initiated Abort cause; queued data is lost."""
        if self.state == "CLOSED":
            return
        if self.state != "COOKIE-WAIT":        # in COOKIE-WAIT we do not know the peer's tag: just forget
            self._send_chunks([P.sctp_chunk(ABORT, 0, error_cause(CAUSE_USER_ABORT, reason))])
        self._close()

    # ------------------------------------------------------------------ the handshake, initiator side

    def _start_handshake(self) -> None:
        self.my_tag = self.stack.new_tag()
        self.my_initial_tsn = self.stack.new_tsn()
        self._reset_sender()
        self._send_init()

    def _send_init(self, preservative_ms: int = 0) -> None:
        addr_type = PARAM_IPV6 if self.v6 else PARAM_IPV4
        params = [P.sctp_param(PARAM_SUPPORTED_ADDRESS_TYPES, struct.pack("!H", addr_type))]
        if preservative_ms:
            params.append(P.sctp_param(PARAM_COOKIE_PRESERVATIVE, struct.pack("!I", preservative_ms)))
        self._init_chunk = init_chunk(INIT, self.my_tag, RECEIVE_BUFFER, self.stack.streams, self.stack.streams,
                                      self.my_initial_tsn, P.sctp_params(params))
        self._set_state("COOKIE-WAIT")
        self._send_chunks([self._init_chunk], vtag=0)          # alone, with verification tag 0
        self._start_timer("T1-init", self.rto, self._t1_expired)

    def _t1_expired(self) -> None:
        """T1-init or T1-cookie: send the INIT or COOKIE ECHO again, RTO doubled (section 5.1 C)."""
        self.init_retries += 1
        if self.init_retries > MAX_INIT_RETRANSMITS:
            self._close(f"no answer to {'INIT' if self.state == 'COOKIE-WAIT' else 'COOKIE ECHO'} after "
                        f"{MAX_INIT_RETRANSMITS} retransmissions")
            return
        self.rto = min(self.rto * 2, RTO_MAX)
        if self.state == "COOKIE-WAIT":
            self.host.log(f"SCTP {self._name()}: T1-init expired, INIT again (RTO {self.rto / S:g} s)")
            self._send_chunks([self._init_chunk], vtag=0)
        else:
            self.host.log(f"SCTP {self._name()}: T1-cookie expired, COOKIE ECHO again (RTO {self.rto / S:g} s)")
            self._send_chunks([self._cookie_chunk])
        self._start_timer("T1-init", self.rto, self._t1_expired)

    def _on_init_ack(self, c: Chunk) -> None:
        if self.state != "COOKIE-WAIT" or len(c.value) < _INIT.size:
            return                             # section 5.2.3: an unexpected INIT ACK is discarded
        f = _INIT.unpack(c.value)
        params = parse_params(c.value[_INIT.size:])
        cookie = next((v for t, v in params if t == PARAM_STATE_COOKIE), None)
        if f["initiateTag"] == 0 or f["numOutboundStreams"] == 0 or f["numInboundStreams"] == 0:
            # Section 3.3.3: destroy the association; the ABORT is optional and carries the Initiate Tag.
            self._send_chunks([P.sctp_chunk(ABORT, 0, error_cause(CAUSE_INVALID_PARAMETER))],
                              vtag=f["initiateTag"])
            self._close("INIT ACK with Initiate Tag 0 or no streams")
            return
        if cookie is None:
            cause = error_cause(CAUSE_MISSING_PARAMETER, struct.pack("!IH", 1, PARAM_STATE_COOKIE))
            self._send_chunks([P.sctp_chunk(ABORT, 0, cause)], vtag=f["initiateTag"])
            self._close("INIT ACK without a State Cookie")
            return
        self.peer_tag = f["initiateTag"]
        self._set_peer(f["initialTsn"], f["a_rwnd"], min(self.stack.streams, f["numInboundStreams"]),
                       min(self.stack.streams, f["numOutboundStreams"]))
        self._cookie_chunk = P.sctp_chunk(COOKIE_ECHO, 0, cookie)
        self._set_state("COOKIE-ECHOED")
        self._send_chunks([self._cookie_chunk])       # the cookie goes back as it came, opaque to us
        self._start_timer("T1-init", self.rto, self._t1_expired)

    def _on_cookie_ack(self) -> None:
        if self.state != "COOKIE-ECHOED":
            return
        self._stop_timer("T1-init")
        self._set_state("ESTABLISHED")

    def _on_stale_cookie(self, cause_info: bytes) -> None:
        """Section 5.2.6: the peer found our cookie stale: start again with an INIT asking for more time."""
        if self.state != "COOKIE-ECHOED":
            return
        self.init_retries += 1
        if self.init_retries > MAX_INIT_RETRANSMITS:
            self._close("State Cookie stale again and again")
            return
        stale_us = struct.unpack("!I", cause_info[:4])[0] if len(cause_info) >= 4 else 0
        self._stop_timer("T1-init")
        self.host.log(f"SCTP {self._name()}: State Cookie stale by {stale_us} us; INIT with a Cookie Preservative")
        self._send_init(preservative_ms=max(1, 2 * -(-stale_us // 1000)))

    # ------------------------------------------------------------------ the handshake, responder side

    def _adopt(self, ck: StateCookie) -> None:
        """Take the association's parameters from a valid State Cookie."""
        self.my_tag, self.peer_tag = ck.my_tag, ck.peer_tag
        self.my_initial_tsn = ck.my_tsn
        self._reset_sender()
        self._set_peer(ck.peer_tsn, ck.peer_rwnd, ck.out_streams, ck.in_streams)

    def _on_cookie_echo(self, ck: StateCookie, rest: list[Chunk]) -> None:
        """A COOKIE ECHO for an association that exists: Table 2 of section 5.2.4."""
        local_match = ck.my_tag == self.my_tag
        peer_match = ck.peer_tag == self.peer_tag
        ties_match = (ck.tie_local, ck.tie_peer) == (self.my_tag, self.peer_tag)
        if not local_match and not peer_match and ties_match:
            # Case A: the peer restarted.
            if self.state == "SHUTDOWN-ACK-SENT":
                self.host.deliver("sctp")
                self._send_chunks([P.sctp_chunk(SHUTDOWN_ACK, 0, b""),
                                   P.sctp_chunk(ERROR, 0, error_cause(CAUSE_COOKIE_WHILE_SHUTTING_DOWN))],
                                  vtag=ck.peer_tag)
                return
            self.host.log(f"SCTP {self._name()}: the peer restarted; the association starts again")
            for name in list(self._timers):
                self._stop_timer(name)
            self._adopt(ck)
            self._set_state("ESTABLISHED")
        elif local_match and not peer_match:
            # Case B: both ends sent INIT at once; take the peer's tag from the cookie.
            self.peer_tag = ck.peer_tag
            self._set_peer(ck.peer_tsn, ck.peer_rwnd, ck.out_streams, ck.in_streams)
            self._stop_timer("T1-init")
            self._set_state("ESTABLISHED")
        elif not local_match and peer_match and ck.tie_local == 0 and ck.tie_peer == 0:
            # Case C: a late cookie from an earlier attempt.
            self.host.drop(DropReason.NOT_FOR_US, "SCTP late COOKIE ECHO (section 5.2.4 case C)")
            return
        elif local_match and peer_match:
            # Case D: our COOKIE ACK was lost, or this is a collision; both tags agree.
            self._stop_timer("T1-init")
            if self.state in ("COOKIE-WAIT", "COOKIE-ECHOED"):
                self._set_state("ESTABLISHED")
        else:
            self.host.drop(DropReason.NOT_FOR_US, "SCTP COOKIE ECHO that matches no case of Table 2")
            return
        self.host.deliver("sctp")
        self._send_chunks([P.sctp_chunk(COOKIE_ACK, 0, b"")])
        if rest:
            self._process(rest)
        self._after_packet()

    def _reset_sender(self) -> None:
        self.next_tsn = self.my_initial_tsn
        self.cum_ack = (self.my_initial_tsn - 1) & M32
        self.queue.clear()
        self.outstanding.clear()
        self.out_ssn.clear()
        mtu = self._pmtu()
        # Section 7.2.1: the initial cwnd is min(4 * MTU, max(2 * MTU, 4404)) over IPv4, and the same with
        # 4344 over IPv6 (RFC 4960 had 4380 for both).
        self.cwnd = min(4 * mtu, max(2 * mtu, 4344 if self.v6 else 4404))
        self.partial_bytes_acked = 0
        self.fast_recovery_exit = None
        self.rtt_probe = None

    def _set_peer(self, peer_tsn: int, peer_rwnd: int, out_streams: int, in_streams: int) -> None:
        self.rx_cum = (peer_tsn - 1) & M32
        self.rx_above.clear()
        self.rx_chunks.clear()
        self.rx_held = 0
        self.in_ssn.clear()
        self.ready.clear()
        self.dups.clear()
        self.peer_rwnd = peer_rwnd
        self.ssthresh = peer_rwnd              # section 7.2.1: "MAY be arbitrarily high"; the peer's window
        self.out_streams, self.in_streams = out_streams, in_streams

    # ------------------------------------------------------------------ input

    def _receive(self, vtag: int, chunks: list[Chunk]) -> None:
        """A packet of this association (not INIT, not COOKIE ECHO): check the tag, then the chunks."""
        if not self._tag_ok(vtag, chunks):
            self.host.drop(DropReason.NOT_FOR_US, f"SCTP verification tag 0x{vtag:08x} is not this association's")
            return
        self.host.deliver("sctp")
        if SHUTDOWN_ACK in {c.type for c in chunks} and self.state in ("COOKIE-WAIT", "COOKIE-ECHOED"):
            # Section 8.5.1 E: treated as out of the blue -> SHUTDOWN COMPLETE with T=1.
            self._send_chunks([P.sctp_chunk(SHUTDOWN_COMPLETE, FLAG_T, b"")], vtag=vtag)
            return
        self._process(chunks)
        self._after_packet()

    def _process(self, chunks: list[Chunk]) -> None:
        self._in_packet = True
        try:
            self._process_chunks(chunks)
        finally:
            self._in_packet = False

    def _tag_ok(self, vtag: int, chunks: list[Chunk]) -> bool:
        """Section 8.5: the tag must be ours, except for ABORT and SHUTDOWN COMPLETE with the T bit."""
        for c in chunks:
            if c.type in (ABORT, SHUTDOWN_COMPLETE):
                # 8.5.1 B, C: accept "if the Verification Tag ... matches its own tag and the T bit is not
                # set OR if it is set to its peer's tag and the T bit is set". In COOKIE-WAIT the peer's tag
                # is not known yet (0), so a reflected tag cannot be checked and is not accepted.
                if c.flags & FLAG_T:
                    return self.peer_tag != 0 and vtag == self.peer_tag
                return vtag == self.my_tag
        if SHUTDOWN_ACK in {c.type for c in chunks} and self.state in ("COOKIE-WAIT", "COOKIE-ECHOED"):
            return True
        return vtag == self.my_tag

    def _process_chunks(self, chunks: list[Chunk]) -> None:
        for c in chunks:
            if self.state == "CLOSED":
                return
            t = c.type
            if t == DATA:
                if self.state in RECEIVING_STATES:
                    if not self._on_data(c):
                        return
            elif t == SACK:
                s = parse_sack(c.value)
                if s is not None and self.state in SENDING_STATES:
                    self._on_sack(*s)
            elif t == INIT_ACK:
                self._on_init_ack(c)
            elif t == COOKIE_ACK:
                self._on_cookie_ack()
            elif t == HEARTBEAT:
                self._send_chunks([P.sctp_chunk(HEARTBEAT_ACK, 0, c.value)])     # the info goes back unchanged
            elif t == HEARTBEAT_ACK:
                pass                           # we send no HEARTBEATs
            elif t == ABORT:
                causes = ", ".join(f"cause {code}" for code, _ in parse_params(c.value))
                self._close("aborted by the peer" + (f" ({causes})" if causes else ""))
                return
            elif t == SHUTDOWN:
                if len(c.value) >= 4:
                    self._on_shutdown(_SHUTDOWN.unpack(c.value)["cumTsnAck"])
            elif t == SHUTDOWN_ACK:
                self._on_shutdown_ack()
            elif t == SHUTDOWN_COMPLETE:
                if self.state == "SHUTDOWN-ACK-SENT":
                    self._close()
                return
            elif t == ERROR:
                for code, info in parse_params(c.value):
                    self.host.log(f"SCTP {self._name()}: ERROR from the peer, cause {code}")
                    if code == CAUSE_STALE_COOKIE:
                        self._on_stale_cookie(info)
            elif t == COOKIE_ECHO:
                pass                           # only meaningful as the first chunk, handled by the endpoint
            else:
                # Section 3.2: the two high bits of an unknown type say what to do.
                action = t >> 6
                if action in (1, 3):
                    self._errors.append(error_cause(CAUSE_UNRECOGNIZED_CHUNK, c.raw()))
                if action in (0, 1):
                    return                     # stop processing this packet

    # ------------------------------------------------------------------ receiving DATA (section 6.2)

    def _on_data(self, c: Chunk) -> bool:
        """One DATA chunk; False when the association was aborted."""
        if len(c.value) < _DATA.size:
            return True
        d = _DATA.unpack(c.value)
        tsn, sid, ssn, data = d["tsn"], d["streamId"], d["streamSeq"], c.value[_DATA.size:]
        if not data:
            # Section 6.2: a DATA chunk without user data is answered with an ABORT, cause "No User Data".
            self._send_chunks([P.sctp_chunk(ABORT, 0, error_cause(CAUSE_NO_USER_DATA, struct.pack("!I", tsn)))])
            self._close("DATA chunk without user data")
            return False
        if tsn_le(tsn, self.rx_cum) or tsn in self.rx_above:
            if len(self.dups) < MAX_DUPS_REPORTED:
                self.dups.append(tsn)
            self.sack_now = True               # a duplicate: SACK at once
            return True
        if sid >= self.in_streams:
            # Section 6.5: acknowledge the TSN, discard the data, report an Invalid Stream Identifier.
            self._errors.append(error_cause(CAUSE_INVALID_STREAM, struct.pack("!HH", sid, 0)))
            self._mark_received(tsn)
            self._new_data = True              # a new TSN, to be acknowledged like any other
            return True
        if self.rx_held + len(data) > RECEIVE_BUFFER and tsn != (self.rx_cum + 1) & M32:
            self.host.log(f"SCTP {self._name()}: receive buffer full, DATA TSN {tsn} dropped")
            return True
        self._mark_received(tsn)
        self.rx_chunks[tsn] = (c.flags, sid, ssn, data)
        self.rx_held += len(data)
        self._new_data = True
        self._reassemble(tsn)
        return True

    def _mark_received(self, tsn: int) -> None:
        self.rx_above.add(tsn)
        while (self.rx_cum + 1) & M32 in self.rx_above:
            self.rx_cum = (self.rx_cum + 1) & M32
            self.rx_above.discard(self.rx_cum)

    def _reassemble(self, tsn: int) -> None:
        """If the message that TSN belongs to is now complete, take it out and deliver it (section 6.9)."""
        flags, sid, ssn, _ = self.rx_chunks[tsn]
        first = last = tsn
        while not self.rx_chunks[first][0] & FLAG_B:          # back to the first piece
            prev = (first - 1) & M32
            p = self.rx_chunks.get(prev)
            if p is None or p[0] & FLAG_E or p[1] != sid:
                return
            first = prev
        while not self.rx_chunks[last][0] & FLAG_E:           # on to the last piece
            nxt = (last + 1) & M32
            n = self.rx_chunks.get(nxt)
            if n is None or n[0] & FLAG_B or n[1] != sid:
                return
            last = nxt
        pieces, t = [], first
        while True:
            pieces.append(self.rx_chunks.pop(t)[3])
            if t == last:
                break
            t = (t + 1) & M32
        message = b"".join(pieces)
        self.rx_held -= len(message)
        if flags & FLAG_U:
            self._deliver(sid, message)       # unordered: at once
            return
        # Ordered: wait for the stream's earlier messages.
        self.ready.setdefault(sid, {})[ssn] = message
        self.rx_held += len(message)
        waiting = self.ready[sid]
        expected = self.in_ssn.get(sid, 0)
        while expected in waiting:
            m = waiting.pop(expected)
            self.rx_held -= len(m)
            self._deliver(sid, m)
            expected = (expected + 1) & 0xFFFF
        self.in_ssn[sid] = expected

    def _deliver(self, sid: int, message: bytes) -> None:
        self.received.append((sid, message))
        if self.on_receive is not None:
            self.on_receive(sid, message)

    def _gap_blocks(self) -> list[tuple[int, int]]:
        offsets = sorted((t - self.rx_cum) & M32 for t in self.rx_above)
        blocks: list[list[int]] = []
        for o in offsets:
            if o > 0xFFFF:
                break                          # a gap block's offsets are 16-bit
            if blocks and o == blocks[-1][1] + 1:
                blocks[-1][1] = o
            else:
                blocks.append([o, o])
        return [(s, e) for s, e in blocks]

    def _make_sack(self) -> bytes:
        """A SACK for everything received so far; resets the delayed-SACK state."""
        chunk = self._sack_bytes()
        self._sack_sent()
        return chunk

    def _sack_bytes(self) -> bytes:
        return sack_chunk(self.rx_cum, max(0, RECEIVE_BUFFER - self.rx_held), self._gap_blocks(), self.dups)

    def _sack_sent(self) -> None:
        self.dups = []
        self.packets_unacked = 0
        self.sack_now = False
        self._stop_timer("delayed-SACK")

    def _after_packet(self) -> None:
        """After the chunks of a packet: decide about the SACK, then send what may go."""
        if self.state == "CLOSED":
            return
        if self._errors:
            causes, self._errors = self._errors, []
            self._send_chunks([P.sctp_chunk(ERROR, 0, P.sctp_params(causes))])
        if self._new_data:
            self._new_data = False
            self.packets_unacked += 1
            if self.rx_above or self.packets_unacked >= SACK_EVERY_PACKETS:
                self.sack_now = True           # a gap (section 6.7), or the second packet (section 6.2)
            elif "delayed-SACK" not in self._timers:
                self._start_timer("delayed-SACK", SACK_DELAY, self._delayed_sack)
        if self.state == "ESTABLISHED" and self._shutdown_requested:
            self._set_state("SHUTDOWN-PENDING")
        if self.state == "SHUTDOWN-SENT" and (self.sack_now or self.packets_unacked):
            # Section 9.2: the SHUTDOWN sender answers each packet with DATA with a SHUTDOWN (and a SACK).
            self._send_chunks([self._make_sack(), self._shutdown_chunk()])
            self._start_timer("T2-shutdown", self.rto, self._t2_expired)
            return
        self._transmit()
        self._shutdown_progress()

    def _delayed_sack(self) -> None:
        self.sack_now = True
        self._transmit()

    # ------------------------------------------------------------------ sending DATA (section 6.1)

    def _flight(self) -> int:
        """Bytes outstanding in the network: sent, not acknowledged, not waiting for retransmission."""
        return sum(c.size for c in self.outstanding.values() if not c.gap_acked and not c.marked)

    def _transmit(self, one_packet_now: bool = False) -> None:
        """Send a SACK if one is due, chunks marked for retransmission, then new DATA, as cwnd and rwnd allow.

        Rule C of section 6.1: retransmissions go before new data. Rule B: no new packet of DATA once
        cwnd bytes are in flight. Rule A: new data only while the peer's window has room, though one
        chunk may always be in flight (a window probe). A SACK that is due goes in the first packet; a
        delayed one rides along when DATA leaves anyway and there is room for it.
        `one_packet_now` is for a T3-rtx timeout (E3 of section 6.3.3) and a fast retransmit (step 3 of
        section 7.2.4): exactly one packet of the earliest marked chunks, whatever cwnd says.
        """
        room = self._max_packet() - 12                       # bytes of chunks in one packet
        while True:
            chunks: list[bytes] = []
            size, has_data, full = 0, False, False

            def fits(c: _OutChunk) -> bool:
                # A chunk that does not fit closes the packet; alone, it goes anyway (the path MTU shrank
                # after it was cut, and IP fragments it).
                return not chunks or size + len(c.wire) <= room

            may_send = self.state in SENDING_STATES and (one_packet_now or self._flight() < self.cwnd)
            if self.state in RECEIVING_STATES and (self.sack_now or "delayed-SACK" in self._timers):
                sack = self._sack_bytes()
                first = self._next_data() if may_send else None
                if self.sack_now or (first is not None and len(sack) + len(first.wire) <= room):
                    self._sack_sent()
                    chunks.append(sack)
                    size += len(sack)
            if may_send:
                for c in self.outstanding.values():
                    if not c.marked:
                        continue
                    if not fits(c):
                        full = True
                        break
                    c.marked = False
                    self._put(c, chunks)
                    size += len(c.wire)
                    has_data = True
                    self.retransmissions += 1
                    if self.rtt_probe is not None and self.rtt_probe[0] == c.tsn:
                        self.rtt_probe = None  # Karn: no RTT sample from a retransmitted chunk
                if not full and not any(c.marked for c in self.outstanding.values()):
                    while self.queue and self._window_allows(self.queue[0]):
                        c = self.queue[0]
                        if not fits(c):
                            full = True
                            break
                        self.queue.popleft()
                        self.outstanding[c.tsn] = c
                        self._put(c, chunks)
                        size += len(c.wire)
                        has_data = True
                        if self.rtt_probe is None:
                            self.rtt_probe = (c.tsn, self.sim.now_ns)
            if not chunks:
                return
            self._send_chunks(chunks)
            if has_data and "T3-rtx" not in self._timers:
                self._start_timer("T3-rtx", self.rto, self._t3_expired)      # rule R1 of section 6.3.2
            if one_packet_now and has_data:
                return
            if not has_data and not full:
                return                         # a SACK alone, and nothing else may go

    def _window_allows(self, c: _OutChunk) -> bool:
        """Rule A: new data only if the peer has room for it, or nothing is in flight (a window probe)."""
        flight = self._flight()
        return not flight or c.size <= self.peer_rwnd - flight

    def _next_data(self) -> _OutChunk | None:
        """The chunk the next packet of DATA would start with."""
        marked = next((c for c in self.outstanding.values() if c.marked), None)
        if marked is not None:
            return marked
        if self.queue and self._window_allows(self.queue[0]):
            return self.queue[0]
        return None

    def _put(self, c: _OutChunk, chunks: list[bytes]) -> None:
        c.sent_count += 1
        c.sent_ns = self.sim.now_ns
        chunks.append(c.wire)

    def _on_sack(self, cum: int, a_rwnd: int, gaps: list[tuple[int, int]], dups: list[int]) -> None:
        """Section 6.2.1: what the peer has; then RTT, congestion control, fast retransmit, T3-rtx."""
        if tsn_lt(cum, self.cum_ack):
            return                             # an old SACK, overtaken by a newer one
        if tsn_lt(next(reversed(self.outstanding), self.cum_ack), cum):
            return                             # acknowledges TSNs never sent
        mtu = self._pmtu()
        flight_before = self._flight()
        cum_advanced = tsn_lt(self.cum_ack, cum)
        newly_acked = 0
        highest_newly: int | None = None
        while self.outstanding:
            tsn, c = next(iter(self.outstanding.items()))
            if not tsn_le(tsn, cum):
                break
            del self.outstanding[tsn]
            if not c.gap_acked:
                newly_acked += c.size
                highest_newly = tsn
                self._rtt_sample(c)
        self.cum_ack = cum
        gap_acked = {(cum + off) & M32 for s, e in gaps for off in range(s, e + 1)}
        for tsn, c in self.outstanding.items():
            now_acked = tsn in gap_acked
            if now_acked and not c.gap_acked:
                newly_acked += c.size
                if highest_newly is None or tsn_lt(highest_newly, tsn):
                    highest_newly = tsn
                self._rtt_sample(c)
                c.marked = False
            c.gap_acked = now_acked            # a chunk no longer reported is "reneged" and outstanding again
        if newly_acked:
            self.error_count = 0
        # Fast retransmit (section 7.2.4): a miss indication for each chunk below the highest TSN newly
        # acknowledged by this SACK; the third one marks the chunk for retransmission (once).
        fast = []
        if highest_newly is not None:
            for tsn, c in self.outstanding.items():
                if not tsn_lt(tsn, highest_newly):
                    break
                if c.gap_acked or c.marked:
                    continue
                c.misses += 1
                if c.misses >= 3 and not c.fast_done:
                    c.marked = c.fast_done = True
                    fast.append(tsn)
        # Congestion control (sections 7.2.1, 7.2.2).
        if self.fast_recovery_exit is not None and tsn_le(self.fast_recovery_exit, cum):
            self.fast_recovery_exit = None
        if cum_advanced and self.fast_recovery_exit is None:
            if self.cwnd <= self.ssthresh:
                if flight_before >= self.cwnd:             # slow start, only when cwnd is in use
                    self.cwnd += min(newly_acked, mtu)
            else:
                self.partial_bytes_acked += newly_acked    # congestion avoidance: one MTU per RTT
                if self.partial_bytes_acked >= self.cwnd and flight_before >= self.cwnd:
                    self.partial_bytes_acked -= self.cwnd
                    self.cwnd += mtu
        if fast:
            if self.fast_recovery_exit is None:
                self.ssthresh = max(self.cwnd // 2, 4 * mtu)
                self.cwnd = self.ssthresh
                self.partial_bytes_acked = 0
                self.fast_recovery_exit = next(reversed(self.outstanding))     # the highest TSN sent
            self.host.log(f"SCTP {self._name()}: fast retransmit of TSN {', '.join(map(str, fast))}")
        self.peer_rwnd = max(0, a_rwnd - self._flight())
        # T3-rtx, rules R2 and R3 of section 6.3.2.
        if not self.outstanding:
            self._stop_timer("T3-rtx")
            self.partial_bytes_acked = 0
        elif cum_advanced:
            self._start_timer("T3-rtx", self.rto, self._t3_expired)
        if fast:
            self._transmit(one_packet_now=True)

    def _rtt_sample(self, c: _OutChunk) -> None:
        """Section 6.3.1: one RTT measurement per round trip, never from a retransmitted chunk."""
        if self.rtt_probe is None or self.rtt_probe[0] != c.tsn or c.sent_count != 1:
            return
        r = self.sim.now_ns - self.rtt_probe[1]
        self.rtt_probe = None
        if self.srtt is None:                  # C2: the first measurement
            self.srtt, self.rttvar = float(r), r / 2
        else:                                  # C3
            self.rttvar = (1 - RTO_BETA) * self.rttvar + RTO_BETA * abs(self.srtt - r)
            self.srtt = (1 - RTO_ALPHA) * self.srtt + RTO_ALPHA * r
        self.rto = int(min(max(self.srtt + 4 * self.rttvar, RTO_MIN), RTO_MAX))     # C6, C7

    def _t3_expired(self) -> None:
        """Section 6.3.3: back off, cwnd to one MTU, retransmit the earliest chunks that fit one packet."""
        self.error_count += 1
        if self.error_count > ASSOCIATION_MAX_RETRANS:
            # Section 8.1: the peer is unreachable; stop sending and tell the user.
            self._close(f"no acknowledgement after {ASSOCIATION_MAX_RETRANS} retransmissions")
            return
        mtu = self._pmtu()
        self.ssthresh = max(self.cwnd // 2, 4 * mtu)           # E1, section 7.2.3
        self.cwnd = mtu
        self.partial_bytes_acked = 0
        self.fast_recovery_exit = None
        self.rto = min(self.rto * 2, RTO_MAX)                  # E2
        self.rtt_probe = None
        for c in self.outstanding.values():                    # E3: all of them wait for retransmission
            if not c.gap_acked:
                c.marked = True
        self.host.log(f"SCTP {self._name()}: T3-rtx expired, retransmitting from TSN {self.cum_ack + 1 & M32} "
                      f"(RTO now {self.rto / S:g} s)")
        self._transmit(one_packet_now=True)
        if self.outstanding:
            self._start_timer("T3-rtx", self.rto, self._t3_expired)      # E4

    # ------------------------------------------------------------------ shutdown (section 9.2)

    def _shutdown_chunk(self) -> bytes:
        return P.sctp_chunk(SHUTDOWN, 0, _SHUTDOWN.pack(cumTsnAck=self.rx_cum))

    def _all_acked(self) -> bool:
        return not self.queue and not self.outstanding

    def _shutdown_progress(self) -> None:
        """SHUTDOWN-PENDING and SHUTDOWN-RECEIVED wait for all our data to be acknowledged."""
        if not self._all_acked():
            return
        if self.state == "SHUTDOWN-PENDING":
            self._send_chunks([self._shutdown_chunk()])
            self.packets_unacked, self.sack_now = 0, False     # the SHUTDOWN's cumulative TSN acknowledges
            self._stop_timer("delayed-SACK")
            self._set_state("SHUTDOWN-SENT")
            self._start_timer("T2-shutdown", self.rto, self._t2_expired)
        elif self.state == "SHUTDOWN-RECEIVED":
            self._send_chunks([P.sctp_chunk(SHUTDOWN_ACK, 0, b"")])
            self._set_state("SHUTDOWN-ACK-SENT")
            self._start_timer("T2-shutdown", self.rto, self._t2_expired)

    def _on_shutdown(self, cum: int) -> None:
        if self.state in ("ESTABLISHED", "SHUTDOWN-PENDING", "SHUTDOWN-RECEIVED"):
            # The Cumulative TSN Ack acknowledges like a SACK without gap blocks.
            if tsn_le(self.cum_ack, cum):
                self._on_sack(cum, self.peer_rwnd + self._flight(), [], [])
            self._set_state("SHUTDOWN-RECEIVED")
        elif self.state == "SHUTDOWN-SENT":
            # Both ends closed at once: answer with SHUTDOWN ACK at once.
            self._send_chunks([P.sctp_chunk(SHUTDOWN_ACK, 0, b"")])
            self._set_state("SHUTDOWN-ACK-SENT")
            self._start_timer("T2-shutdown", self.rto, self._t2_expired)

    def _on_shutdown_ack(self) -> None:
        if self.state in ("SHUTDOWN-SENT", "SHUTDOWN-ACK-SENT"):
            self._stop_timer("T2-shutdown")
            self._send_chunks([P.sctp_chunk(SHUTDOWN_COMPLETE, 0, b"")])
            self._close()

    def _t2_expired(self) -> None:
        self.error_count += 1
        if self.error_count > ASSOCIATION_MAX_RETRANS:
            self._close(f"no answer to {'SHUTDOWN' if self.state == 'SHUTDOWN-SENT' else 'SHUTDOWN ACK'}")
            return
        self.rto = min(self.rto * 2, RTO_MAX)
        if self.state == "SHUTDOWN-SENT":
            self._send_chunks([self._shutdown_chunk()])
        elif self.state == "SHUTDOWN-ACK-SENT":
            self._send_chunks([P.sctp_chunk(SHUTDOWN_ACK, 0, b"")])
        else:
            return
        self.host.log(f"SCTP {self._name()}: T2-shutdown expired, {self.state} repeated")
        self._start_timer("T2-shutdown", self.rto, self._t2_expired)


# ---------------------------------------------------------------------------- small helpers


def _addr(v: int, v6: bool) -> str:
    return f"[{P.ip6_str(v)}]" if v6 else P.ip4_str(v)


def _multicast(a: int, v6: bool) -> bool:
    return a >> 120 == 0xFF if v6 else (a >> 28 == 0xE or a == 0xFFFFFFFF)


def _has_cause(chunks: list[Chunk], code: int) -> bool:
    return any(c.type == ERROR and any(t == code for t, _ in parse_params(c.value)) for c in chunks)


__all__ = ["SctpStack", "Association", "SctpError", "StateCookie", "Chunk", "parse_chunks", "parse_params",
           "parse_sack", "tsn_lt", "tsn_le"]
