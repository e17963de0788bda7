"""Typed trace events of packet processing, and their text rendering.

Traced pipelines (the generated code compiled with tracing on) append events
to a list; nothing is formatted until someone asks. ``render`` turns events
into BMv2-style text lines. Drop reasons form an enum, so that every dropped
packet is accounted for with a reason a program can test.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class DropReason(enum.Enum):
    MARK_TO_DROP = "dropped by the program (egress_spec 511 at the end of ingress)"
    EGRESS_DROP = "dropped by the program (egress_spec 511 at the end of egress)"
    EMPTY_MULTICAST_GROUP = "multicast group has no members"
    UNKNOWN_MULTICAST_GROUP = "multicast group is not configured"
    ASSERTION_FAILED = "assert() or assume() failed"
    FOR_LOOP_LIMIT = "a for loop ran past its iteration limit"
    RESUBMIT_LIMIT = "too many resubmissions"
    RECIRCULATE_LIMIT = "too many recirculations"
    CLONE_LIMIT = "too many egress clones of egress clones"
    PORT_UNKNOWN = "egress port does not exist"
    TRUNCATED_TO_NOTHING = "truncated to zero bytes"
    # Network-level reasons, used by the topology runner and the routers.
    TTL_EXCEEDED = "TTL or hop limit exceeded"
    NO_ROUTE = "no route to the destination"
    EXCEEDS_LINK_MTU = "exceeds link MTU"
    # A router's deliberate drops of packets too big for the next link, each answered with ICMP (R14, R21),
    # unlike EXCEEDS_LINK_MTU, which marks a frame sent on a link it does not fit (a program's mistake).
    FRAGMENTATION_NEEDED = "fragmentation needed but DF set"
    PACKET_TOO_BIG = "packet too big for the next link"
    QUEUE_FULL = "queue full (drop-tail)"
    LINK_LOSS = "lost on the link (random loss)"
    LINK_DOWN = "no link on this port"
    BAD_CHECKSUM = "bad checksum"
    MALFORMED = "malformed packet"
    NOT_FOR_US = "not addressed to this host"
    NO_LISTENER = "no listener for the destination port"
    REASSEMBLY_TIMEOUT = "reassembly timed out"
    FRAGMENT_OVERLAP = "overlapping fragments"
    REASSEMBLY_LIMIT = "reassembly buffers full"
    REASSEMBLY_EVICTED = "evicted from full reassembly buffers (least recently used first)"
    NEIGHBOR_QUEUE_FULL = "neighbour resolution queue full (oldest packet dropped)"
    NEIGHBOR_TABLE_FULL = "neighbour table full (too many unresolved addresses)"
    TRANSPORT_DISCARD = "discarded by the transport (not valid in the connection's state)"
    SYN_QUEUE_FULL = "TCP SYN queue full (SYN cookies off)"
    ACCEPT_QUEUE_FULL = "TCP accept queue full"
    OUT_OF_ORDER_QUEUE_FULL = "TCP out-of-order queue full (beyond the receive window)"
    BAD_SYN_COOKIE = "ACK is not a valid SYN cookie"
    ACK_RATE_LIMITED = "answer rate-limited (RFC 5961 section 7)"
    PAWS_REJECTED = "TCP segment older than the connection's last timestamp (PAWS, RFC 7323)"
    CONSUMED = "consumed by the control plane"
    LOOP_LIMIT = "forwarding loop limit reached"
    PIPELINE_ERROR = "internal error in the pipeline (a bug in dataplane)"


@dataclass
class TraceEvent:
    def render(self) -> str:  # pragma: no cover - every event overrides it
        return self.__class__.__name__


@dataclass
class PacketIn(TraceEvent):
    port: int
    length: int
    instance_type: int = 0

    def render(self) -> str:
        kind = {0: "", 1: " (ingress clone)", 2: " (egress clone)", 4: " (recirculated)", 5: " (replica)",
                6: " (resubmitted)"}.get(self.instance_type, "")
        return f"packet in on port {self.port}, {self.length} bytes{kind}"


@dataclass
class StageStart(TraceEvent):
    stage: str
    block: str

    def render(self) -> str:
        return f"{self.stage} ({self.block})"


@dataclass
class ParserState(TraceEvent):
    parser: str
    state: str

    def render(self) -> str:
        return f"  parser {self.parser}: state {self.state}"


@dataclass
class Extract(TraceEvent):
    header: str
    layout: object
    bits: int
    varbit_len: int = 0

    def render(self) -> str:
        return f"    extract {self.header}: {format_header_fields(self.layout, self.bits)}"


@dataclass
class Select(TraceEvent):
    keys: tuple
    next_state: str

    def render(self) -> str:
        keys = ", ".join(f"0x{k:x}" if isinstance(k, int) and not isinstance(k, bool) else str(k) for k in self.keys)
        return f"    select ({keys}) -> {self.next_state}"


@dataclass
class ParserError(TraceEvent):
    error: str

    def render(self) -> str:
        return f"    parser error: {self.error}"


@dataclass
class TableApply(TraceEvent):
    table: str
    keys: dict
    hit: bool
    entry: str
    action: str

    def render(self) -> str:
        keys = ", ".join(f"{k}={_fmt_pair(k, v)}" for k, v in self.keys.items())
        if self.hit:
            return f"  table {self.table}: key {{{keys}}} hit {self.entry}"
        return f"  table {self.table}: key {{{keys}}} miss -> default {self.action}"


@dataclass
class ProfileSelect(TraceEvent):
    """What an indirect table's entry (or default) led to: a member, or a group and the member its hash chose."""
    profile: str
    kind: str                 # "action profile" or "action selector"
    member: int | None        # None: the group is empty, no action runs
    group: int | None = None
    hash: int | None = None
    group_size: int = 0

    def render(self) -> str:
        if self.group is None:
            return f"    {self.kind} {self.profile}: member {self.member}"
        if self.member is None:
            return f"    {self.kind} {self.profile}: group {self.group} is empty, no action runs"
        return (f"    {self.kind} {self.profile}: group {self.group} ({self.group_size} members), "
                f"hash 0x{self.hash:x} -> member {self.member}")


@dataclass
class ActionRun(TraceEvent):
    action: str
    args: dict

    def render(self) -> str:
        args = ", ".join(f"{k}={_fmt_pair(k, v)}" for k, v in self.args.items())
        return f"    action {self.action}({args})"


@dataclass
class ExternCall(TraceEvent):
    instance: str
    method: str
    detail: str = ""

    def render(self) -> str:
        return f"    {self.instance}.{self.method}{self.detail}"


@dataclass
class DigestSent(TraceEvent):
    """digest(receiver, data): the values sent to the control plane, by field name (widths: for formatting)."""
    receiver: int
    names: tuple
    values: tuple
    widths: tuple

    def render(self) -> str:
        fields = ", ".join(f"{n}={format_value(n, v, w)}" for n, v, w in zip(self.names, self.values, self.widths))
        return f"    digest to receiver {self.receiver}: {fields}"


@dataclass
class Log(TraceEvent):
    message: str

    def render(self) -> str:
        return f"    log: {self.message}"


@dataclass
class Emit(TraceEvent):
    header: str
    layout: object
    bits: int

    def render(self) -> str:
        return f"  emit {self.header}: {format_header_fields(self.layout, self.bits)}"


@dataclass
class Exit(TraceEvent):
    block: str

    def render(self) -> str:
        return f"    exit from {self.block}"


@dataclass
class Drop(TraceEvent):
    reason: DropReason
    detail: str = ""

    def render(self) -> str:
        return f"dropped: {self.reason.value}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Output(TraceEvent):
    port: int
    length: int

    def render(self) -> str:
        return f"packet out on port {self.port}, {self.length} bytes"


@dataclass
class Note(TraceEvent):
    """Something the architecture did: clone, multicast, resubmit, recirculate."""
    text: str

    def render(self) -> str:
        return self.text


@dataclass
class Trace:
    events: list = field(default_factory=list)

    def __call__(self, event: TraceEvent) -> None:
        self.events.append(event)

    def render(self) -> str:
        return "\n".join(e.render() for e in self.events)


def render(events) -> str:
    return "\n".join(e.render() for e in events)


# ---------------------------------------------------------------------------- value formatting


def _fmt_pair(name: str, v) -> str:
    """Format a value given as (value, width), or a bare value."""
    if isinstance(v, tuple) and len(v) == 2:
        return _fmt_value(name.rsplit(".", 1)[-1], v[0], v[1] or None)
    return _fmt_value(name.rsplit(".", 1)[-1], v)


def _fmt_value(name: str, v, width: int | None = None) -> str:
    return format_value(name, v, width)


_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Words of names that hold addresses (dstAddr, nhop_ipv4, dmac, srcIp, next_hop) ...
_ADDRESS_WORDS = {"addr", "address", "ip", "ipv4", "ipv6", "ip4", "ip6", "src", "dst", "sip", "dip", "nhop",
                  "nexthop", "gw", "gateway", "mac", "dmac", "smac", "da", "sa"}
_MAC_WORDS = {"mac", "dmac", "smac", "da", "sa"}
_IP_WORDS = {"ip", "ipv4", "ipv6", "ip4", "ip6", "sip", "dip"}
# ... and of names whose values people write in hex (EtherTypes, checksums, flags).
_HEX_WORDS = {"checksum", "csum", "crc", "flags", "ethertype", "ptype"}


def _words(name: str) -> set:
    return {w.lower() for w in _WORDS.findall(name)}


def format_value(name: str, v, width: int | None = None) -> str:
    """A P4 value as people write it, judged by its width and name (the last part of a dotted name): a
    48-bit address (dstAddr, dmac) as a MAC, a 32-bit one (dstAddr, nhop_ipv4) as IPv4, a 128-bit one as
    IPv6; EtherTypes, checksums and flags in hex; everything else (TTL, lengths, ports, identifiers, port
    numbers) in decimal, as the RFCs write them."""
    if isinstance(v, bool) or not isinstance(v, int):
        return str(v)
    words = _words(name.rsplit(".", 1)[-1])
    address = bool(words & _ADDRESS_WORDS)
    if (width == 48 and address) or (width is None and words & _MAC_WORDS and 0 <= v < 1 << 48):
        return ":".join(f"{(v >> s) & 0xFF:02x}" for s in range(40, -8, -8))
    if width == 32 and address and not words & _MAC_WORDS:
        return ".".join(str((v >> s) & 0xFF) for s in (24, 16, 8, 0))
    if width == 128 and address and not words & _MAC_WORDS:
        import ipaddress
        return str(ipaddress.IPv6Address(v))
    if words & _HEX_WORDS or (width == 16 and "type" in words and words != {"type"}) or (width or 0) > 64:
        digits = (width + 3) // 4 if width else 1
        return f"0x{v:0{digits}x}"
    return str(v)


def format_header_fields(layout, bits: int) -> str:
    if layout is None:
        return f"0x{bits:x}"
    parts = []
    for name, fl in layout.fields.items():
        v = (bits >> fl.offset) & fl.mask
        parts.append(f"{name}={_fmt_value(name, v, fl.width)}")
    return " ".join(parts)
