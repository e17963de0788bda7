"""The `--trace` view of a run: the life of each packet, hop by hop.

    net = Network(topo, trace=True)
    tracer = Tracer(net)              # before the run: it watches as frames move
    net.schedule_traffic()
    net.run()
    print(tracer.render(only="icmp"))

For every frame a device receives it shows the headers as received, the
parser's headers, the tables hit or missed with the action run, and each
frame sent with the fields that changed (`ipv4.ttl 64 -> 63`); frames the
router agent made (ICMP errors, echo replies, fragments) are shown whole, as
new packets. Hosts show the frames they send and receive, with the fate of
each received frame and the host's own events (ARP, replies, drops). Frames
lost on links (queue full, random loss, larger than the link MTU) appear
where and when they were lost.

Every frame carries its packet number (`#12`, net/numbering.py: a packet
keeps its number on every hop), the one its capture frame's comment shows.
Applications' lines (ping replies, traceroute hops, a transfer's connection
opening and closing) appear at the time they happen, among the packets
(`h1 ping: 64 bytes from ...`); their closing statistics are for the end.

How it watches: links call their `observers` when a frame goes on the wire
(which covers what hosts send), and the simulator's `watchers` hear, in
order, each device hop, each frame a host receives with its fate, each host
event, each frame a link drops, and each line an application prints.
`detach()` stops watching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from ..protocols import packets as P
from ..protocols.checksums import internet_checksum
from ..protocols.dissect import Layer, dissect, find, summarize
from ..router.agent import CPU_PORT
from ..runtime.trace import (ActionRun, Drop, DropReason, Emit, Extract, Output, PacketIn, ParserError, ParserState,
                             ProfileSelect, Select, StageStart, TableApply, format_value)
from .devices import HopRecord, P4Device
from .host.stack import Host
from .numbering import PacketNumber, PacketNumbers
from .sim import DropRecord, Link
from .tracefilter import TraceFilter, parse_filter

INDENT = " " * 18                 # lines under a record: two columns right of the node name
DETAIL = INDENT + "    "          # changed fields, under the frame they belong to


# ---------------------------------------------------------------------------- what was seen


@dataclass
class DeviceHop:
    """A device processed one frame (its HopRecord has the pipeline trace and the outputs)."""
    time_ns: int
    device: P4Device
    hop: HopRecord
    number: PacketNumber | None = None                   # of the frame received
    out_numbers: dict = field(default_factory=dict)      # index in hop.outputs -> number, for those sent

    @property
    def nodes(self) -> tuple:
        return (self.device.name,)

    def frames(self) -> list[bytes]:
        return [self.hop.frame] + [f for _, f in self.hop.outputs]

    def numbered_frames(self) -> list[tuple]:
        return [(self.hop.frame, self.number)] + \
            [(f, self.out_numbers.get(i)) for i, (_, f) in enumerate(self.hop.outputs)]


@dataclass
class HostFrame:
    """A host put a frame on a link, or received one (then `fate` says what became of it)."""
    time_ns: int
    host: Host
    port: int
    frame: bytes
    sent: bool
    peer: str
    fate: str | None = None
    number: PacketNumber | None = None

    @property
    def nodes(self) -> tuple:
        return (self.host.name,)

    def frames(self) -> list[bytes]:
        return [self.frame]

    def numbered_frames(self) -> list[tuple]:
        return [(self.frame, self.number)]


@dataclass
class HostEvent:
    """A line of a host's event log; `during` is the received frame that caused it, if any."""
    time_ns: int
    host: Host
    text: str
    during: HostFrame | None = None

    @property
    def nodes(self) -> tuple:
        return (self.host.name,)

    def frames(self) -> list[bytes]:
        return self.during.frames() if self.during is not None else []

    def numbered_frames(self) -> list[tuple]:
        return self.during.numbered_frames() if self.during is not None else []


@dataclass
class LinkDrop:
    """A frame the link refused (queue full, larger than its MTU) or lost on the way."""
    time_ns: int
    link: Link
    node: object                  # the sender
    port: int
    frame: bytes
    drop: DropRecord

    @property
    def nodes(self) -> tuple:
        return (self.node.name, self.link.end(self.node, self.port).peer.name)

    def frames(self) -> list[bytes]:
        return [self.frame]

    def numbered_frames(self) -> list[tuple]:
        return [(self.frame, self.drop.packet)]


@dataclass
class AppLine:
    """A line an application printed as the run went (a ping reply, a traceroute hop), or an event of its
    own worth seeing among the packets (a transfer's connection established)."""
    time_ns: int
    app: object
    text: str

    @property
    def nodes(self) -> tuple:
        return (self.app.host.name,)

    def frames(self) -> list[bytes]:
        return []

    def numbered_frames(self) -> list[tuple]:
        return []


# ---------------------------------------------------------------------------- the tracer


class NetWatcher:
    """What watches a Network's run from the simulator's hooks (sim.watchers, link observers), for the
    tracer here and for the views' recorder (views/record.py): `_attach` puts the devices in tracing mode
    (their pipelines' tables and actions), numbers the packets and registers `_event` and `_on_transmit`;
    `detach` undoes exactly what attaching did."""

    net = None

    def _attach(self) -> None:
        self._numbered_by_us = False
        self._traced_by_us: list = []            # (device, its trace flag, its hops) before we changed them
        for dev in self.net.devices.values():
            if not dev.trace or dev.hops is None:      # a Network built without trace=True
                self._traced_by_us.append((dev, dev.trace, dev.hops))
                dev.trace, dev.hops = True, []
        sim = self.net.sim
        if sim.numbers is None:
            sim.numbers, self._numbered_by_us = PacketNumbers(), True
        sim.watchers.append(self._event)
        for link in self.net.links.values():
            link.observers.append(self._on_transmit)

    def detach(self) -> None:
        """Stop watching."""
        sim = self.net.sim
        if self._event in sim.watchers:
            sim.watchers.remove(self._event)
        if self._numbered_by_us:
            sim.numbers, self._numbered_by_us = None, False
        for dev, trace, hops in self._traced_by_us:
            dev.trace, dev.hops = trace, hops
        self._traced_by_us = []
        for link in self.net.links.values():
            if self._on_transmit in link.observers:
                link.observers.remove(self._on_transmit)

    def _event(self, kind: str, *details) -> None:
        raise NotImplementedError

    def _on_transmit(self, *details) -> None:
        raise NotImplementedError


class Tracer(NetWatcher):
    """Watches a Network's run and renders it hop by hop. Attach before the run starts."""

    def __init__(self, net):
        self.net = net
        self.records: list = []
        self.only: TraceFilter | None = None          # the filter render() uses when given none
        self._receiving: HostFrame | None = None      # the frame a host is receiving right now
        self._hop: DeviceHop | None = None            # the hop whose outputs the device is sending now
        self._hop_cursor = 0                          # its outputs before this one have been sent
        self._attach()

    # ------------------------------------------------------------------ watching

    def _arriving(self, node) -> PacketNumber | None:
        """The number of the frame `node` is receiving now."""
        numbers = self.net.sim.numbers
        return numbers.receiving if numbers is not None and numbers.receiver is node else None

    def _now(self) -> int:
        return self.net.sim.now_ns

    def _event(self, kind: str, *d) -> None:
        """What the simulator's watchers hear, in the order it happens (see Simulator.watchers)."""
        if kind == "device_hop":
            dev, hop = d
            # Its outputs go on the links right after this: _on_transmit gives them their numbers.
            self._hop = DeviceHop(hop.time_ns, dev, hop, self._arriving(dev))
            self._hop_cursor = 0
            self.records.append(self._hop)
        elif kind == "host_rx":
            host, port, frame = d
            # Recorded before the host runs, so that what it does about the frame comes after.
            self._receiving = HostFrame(self._now(), host, port, frame, False, _peer_name(host, port),
                                        number=self._arriving(host))
            self.records.append(self._receiving)
        elif kind == "host_rx_fate":
            if self._receiving is not None:
                self._receiving.fate = d[1]
            self._receiving = None
        elif kind == "host_event":
            host, text = d
            rx = self._receiving
            self.records.append(HostEvent(self._now(), host, text, rx if rx is not None and rx.host is host else None))
        elif kind == "link_drop":
            link, node, port, frame, rec = d
            self.records.append(LinkDrop(self._now(), link, node, port, frame, rec))
        elif kind == "app_line":
            app, text = d
            self.records.append(AppLine(self._now(), app, text))

    def _on_transmit(self, link: Link, end, frame: bytes) -> None:
        # Devices' frames are shown with the hop that made them; hosts' frames are seen only here.
        numbers = self.net.sim.numbers
        number = numbers.last if numbers is not None else None
        if isinstance(end.node, Host):
            self.records.append(HostFrame(self._now(), end.node, end.port, frame, True, end.peer.name,
                                          number=number))
            return
        hop = self._hop
        if hop is None or hop.device is not end.node or hop.time_ns != self._now():
            return
        # The device sends its hop's outputs in order, skipping those on ports without a link.
        outputs = hop.hop.outputs
        for i in range(self._hop_cursor, len(outputs)):
            if outputs[i][0] == end.port and outputs[i][1] is frame:
                hop.out_numbers[i] = number
                self._hop_cursor = i + 1
                break

    # ------------------------------------------------------------------ showing

    def render(self, limit: int | None = None, only: str | TraceFilter | Callable[[bytes], bool] | None = None) -> str:
        """The records in time order, as text.

        `only` keeps some records: a filter (tracefilter.py: nodes, protocols,
        flows, ports, packet numbers, e.g. "s1, icmp" or "#12"), as text or
        parsed, or a predicate on a frame's bytes (records without a frame are
        then left out). `limit` is the most records shown.
        """
        view = _View(self.net)
        keep = _matcher(self.net, only, view)
        chosen = [r for r in sorted(self.records, key=lambda r: r.time_ns) if keep(r)]
        shown = chosen if limit is None else chosen[:max(0, limit)]
        lines: list[str] = []
        for rec in shown:
            lines.extend(view.lines(rec))
        if len(shown) < len(chosen):
            lines.append(f"... {len(chosen) - len(shown)} more records (raise the limit to see them)")
        if not chosen:
            lines.append("nothing traced" + ("" if only is None else f" for '{_filter_text(only)}'"))
        elif only is not None and all(isinstance(r, AppLine) for r in chosen):
            lines.append(f"no packets traced for '{_filter_text(only)}'")
        return "\n".join(lines)


def _peer_name(host: Host, port: int) -> str:
    link = host.interfaces[port].link
    return link.end(host, port).peer.name if link is not None else "?"


# ---------------------------------------------------------------------------- filters


def _filter_text(only) -> str:
    return only if isinstance(only, str) else getattr(only, "text", "a predicate")


def _matcher(net, only, view: "_View") -> Callable[[object], bool]:
    """Raises tracefilter.FilterError (a ValueError) for a filter it cannot read."""
    if only is None:
        return lambda rec: True
    if callable(only) and not isinstance(only, TraceFilter):
        # Events outside any received frame (timers, applications) belong to no packet: a predicate hides them.
        return lambda rec: any(only(f) for f in rec.frames())
    f = parse_filter(only, net) if isinstance(only, str) else only

    def keep(rec) -> bool:
        if isinstance(rec, AppLine):
            return f.keeps_app_line(rec.app.host.name)
        if not f.keeps_node(rec.nodes):
            return False
        if not f.selects_packets():
            return True
        return any(f.keeps_frame(view.layers(frame), number) for frame, number in rec.numbered_frames())
    return keep


# ---------------------------------------------------------------------------- rendering


class _View:
    """Turns records into lines; knows the network's names and keeps dissections for reuse."""

    def __init__(self, net):
        self._layers: dict[bytes, list[Layer]] = {}
        self._descriptions: dict[bytes, str] = {}
        self._iface_names = {name: {i.port: i.name for i in spec.interfaces.values()}
                             for name, spec in net.topo.nodes.items()}

    def layers(self, frame: bytes) -> list[Layer]:
        got = self._layers.get(frame)
        if got is None:
            got = self._layers[frame] = dissect(frame)
        return got

    def iface(self, node: str, port: int) -> str:
        return self._iface_names.get(node, {}).get(port, f"port {port}")

    def lines(self, rec) -> list[str]:
        head = f"[{rec.time_ns / 1e6:10.3f} ms] "       # milliseconds, to the microsecond
        if isinstance(rec, DeviceHop):
            body = self.hop_lines(rec)
        elif isinstance(rec, HostFrame):
            body = self.host_frame_lines(rec)
        elif isinstance(rec, HostEvent):
            body = [f"{rec.host.name}: " + _host_event_text(rec.text)]
        elif isinstance(rec, AppLine):
            body = [f"{rec.app.host.name} {rec.app.name}: {rec.text}"]
        else:
            body = self.link_drop_lines(rec)
        return [head + body[0]] + body[1:]

    def describe(self, frame: bytes, number: PacketNumber | None = None) -> str:
        """`#12 <summary> (98 bytes)`: the packet number (when packets are numbered) and what the frame is."""
        # Most frames are described twice: by the node that sends them and by the one that receives them.
        text = self._descriptions.get(frame)
        if text is None:
            text = self._descriptions[frame] = \
                f"{_with_echo_ids(summarize(frame), self.layers(frame))} ({len(frame)} bytes)"
        return text if number is None else f"{number} {text}"

    # ------------------------------------------------------------------ devices

    def hop_lines(self, rec: DeviceHop) -> list[str]:
        dev, hop = rec.device, rec.hop
        peer = dev.links[hop.port].end(dev, hop.port).peer.name if hop.port in dev.links else "?"
        lines = [f"{dev.name} port {hop.port} ({self.iface(dev.name, hop.port)}) <- {peer}: "
                 f"{self.describe(hop.frame, rec.number)}"]
        if hop.trace is not None:
            lines += [INDENT + line for line in pipeline_lines(hop.trace.events)]
        received = self.layers(hop.frame)
        for i, (port, frame) in enumerate(hop.outputs):
            lines += self.output_lines(dev, port, frame, received, hop.frame, from_pipeline=i < hop.forwarded,
                                       number=rec.out_numbers.get(i))
        # When the pipeline sent copies on, a drop is of one copy (a flood's copy back to its own port).
        copies = hop.forwarded > 0
        for reason, detail in hop.drops:
            lines.append(INDENT + _drop_text(reason, detail, copies))
        return lines

    def output_lines(self, dev: P4Device, port: int, frame: bytes, received: list[Layer], received_frame: bytes,
                     from_pipeline: bool, number: PacketNumber | None = None) -> list[str]:
        link = dev.links.get(port)
        where = f"{self.iface(dev.name, port)} to {link.end(dev, port).peer.name}" if link else "no link"
        sent = self.layers(frame)
        if not from_pipeline:
            # The agent's packets: fragments of the received one, or packets of its own.
            kind = "fragment" if _fragment_of(received, sent) else "new"
            return [f"{INDENT}-> port {port} ({where}): {kind}: {self.describe(frame, number)}"]
        lines = [f"{INDENT}-> port {port} ({where}): {self.describe(frame, number)}"]
        changes = field_changes(received, sent, received_frame, frame) + checksum_problems(sent, frame)
        lines += [DETAIL + c for c in changes] or [DETAIL + "unchanged"]
        return lines

    # ------------------------------------------------------------------ hosts and links

    def host_frame_lines(self, rec: HostFrame) -> list[str]:
        host, iface = rec.host.name, self.iface(rec.host.name, rec.port)
        if rec.sent:
            return [f"{host} {iface} -> {rec.peer}: {self.describe(rec.frame, rec.number)}"]
        lines = [f"{host} {iface} <- {rec.peer}: {self.describe(rec.frame, rec.number)}"]
        # A dropped frame's reason is in the host's own event that follows.
        if rec.fate in ("delivered", "reassembly"):
            lines.append(INDENT + ("delivered" if rec.fate == "delivered" else "kept for reassembly"))
        return lines

    def link_drop_lines(self, rec: LinkDrop) -> list[str]:
        sender = rec.node.name
        peer = rec.link.end(rec.node, rec.port).peer.name
        return [f"link {rec.link.name} ({sender} {self.iface(sender, rec.port)} -> {peer}): "
                f"{self.describe(rec.frame, rec.drop.packet)}",
                INDENT + _drop_text(rec.drop.reason, rec.drop.detail)]


def _host_event_text(text: str) -> str:
    # Host.drop logs "drop: <reason> (<detail>)" and Host.drop_outgoing "cannot send: ..."; mark them like every
    # other drop.
    if text.startswith("drop: "):
        return "x dropped: " + text[len("drop: "):]
    if text.startswith("cannot send: "):
        return "x " + text
    return text


def _drop_text(reason, detail: str, copy: bool = False) -> str:
    text = reason.value + (f" ({detail})" if detail else "")
    if reason is DropReason.CONSUMED:
        return text
    return ("x copy dropped: " if copy else "x dropped: ") + text


def _with_echo_ids(summary: str, layers: list[Layer]) -> str:
    """summarize() names echo messages; the id and sequence number tell a ping's packets apart."""
    for name, body_field, words in (("icmp", "restOfHeader", ("ICMP echo request", "ICMP echo reply")),
                                    ("icmpv6", "body", ("ICMP6 echo request", "ICMP6 echo reply"))):
        layer = find(layers, name)
        if layer is None or layer.problem:
            continue
        for w in words:
            if w in summary:
                body = layer[body_field]
                return summary.replace(w, f"{w} id {body >> 16} seq {body & 0xFFFF}", 1)
    return summary


# ---------------------------------------------------------------------------- the pipeline's trace

_SILENT = (StageStart, ParserState, Select, Emit, Drop)     # shown otherwise, or too fine-grained to help


def pipeline_lines(events: list) -> list[str]:
    """The pipeline's trace condensed: headers parsed, tables with the action run, other notable events.

    Emitted headers and output ports show as the frames sent; drops show from
    the hop's drop list, which also has the agent's.
    """
    lines: list[str] = []
    parsed: list[str] = []
    i = 0
    while i < len(events):
        e = events[i]
        i += 1
        if isinstance(e, Extract):
            parsed.append(e.header[4:] if e.header.startswith("hdr.") else e.header)
            continue
        if parsed and not isinstance(e, (ParserState, Select)):
            lines.append("parsed " + ", ".join(parsed))
            parsed = []
        if isinstance(e, TableApply):
            # An indirect table's member (or group and member) comes between the table and its action.
            chosen = events[i] if i < len(events) and isinstance(events[i], ProfileSelect) else None
            if chosen is not None:
                i += 1
            action = events[i] if i < len(events) and isinstance(events[i], ActionRun) \
                and events[i].action == e.action else None
            if action is not None:
                i += 1
            lines.append(table_line(e, action) + (_via(chosen) if chosen is not None else ""))
        elif isinstance(e, ActionRun):
            lines.append(f"action {_action_call(e.action, e.args)}")
        elif isinstance(e, ParserError):
            lines.append(f"parser error: {e.error}")
        elif isinstance(e, Output):
            if e.port == CPU_PORT:
                lines.append("to the agent (CPU port)")
        elif isinstance(e, PacketIn):
            if e.instance_type:
                lines.append(e.render())
        elif not isinstance(e, _SILENT):
            lines.append(e.render().strip())
    if parsed:
        lines.append("parsed " + ", ".join(parsed))
    return lines


def table_line(t: TableApply, action: ActionRun | None) -> str:
    """`table T: hit <entry's match> -> act(args)` or `table T: miss <key> -> default act(args)`."""
    call = _action_call(t.action, action.args if action is not None else {})
    if t.hit:
        return f"table {t.table}: hit {_entry_match(t)} -> {call}"
    key = ", ".join(_named(t.keys, k, format_value(_last(k), v, w)) for k, (v, w) in t.keys.items())
    return f"table {t.table}: miss{' ' + key if key else ''} -> default {call}"


def _via(chosen: ProfileSelect) -> str:
    """How an indirect table reached its action: ` (member 2)` or ` (group 1, member 2)`."""
    if chosen.group is None:
        return f" (member {chosen.member})"
    if chosen.member is None:
        return f" (group {chosen.group} is empty: no action)"
    return f" (group {chosen.group}, member {chosen.member})"


def _action_call(name: str, args: dict) -> str:
    """`ipv4_forward(08:00:00:00:02:22, 2)`: the action data as `table_add` takes it, each value written as
    its parameter's width and name say (format_value)."""
    shown = ", ".join(format_value(k, v, w) for k, (v, w) in args.items())
    return f"{_last(name)}({shown})"


_ENTRY = re.compile(r"^entry \d+ \[(.*)\] -> ")
_HEX = re.compile(r"0x[0-9a-fA-F]+")


def _entry_match(t: TableApply) -> str:
    """The matched entry's keys, with addresses written as addresses (the entry text has hex)."""
    m = _ENTRY.match(t.entry)
    if m is None:
        return t.entry
    parts = []
    for part in m.group(1).split(", "):
        name, _, value = part.partition("=")
        width = t.keys.get(name, (0, None))[1]
        value = _HEX.sub(lambda h: format_value(_last(name), int(h.group(), 16), width), value)
        parts.append(_named(t.keys, name, value))
    return ", ".join(parts)


def _named(keys: dict, name: str, value: str) -> str:
    """A key's value alone when the table has one key, else name=value."""
    return value if len(keys) == 1 else f"{_last(name)}={value}"


def _last(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


# ---------------------------------------------------------------------------- what changed


_FIELD_FORMATS = {("ethernet", "srcAddr"): P.mac_str, ("ethernet", "dstAddr"): P.mac_str,
                  ("arp", "sha"): P.mac_str, ("arp", "tha"): P.mac_str,
                  ("arp", "spa"): P.ip4_str, ("arp", "tpa"): P.ip4_str,
                  ("ipv4", "srcAddr"): P.ip4_str, ("ipv4", "dstAddr"): P.ip4_str,
                  ("ipv6", "srcAddr"): P.ip6_str, ("ipv6", "dstAddr"): P.ip6_str}


def format_field(layer: str, name: str, v) -> str:
    """A dissected field as people read it: addresses, checksums and EtherTypes in hex, the rest in decimal."""
    if isinstance(v, (bytes, bytearray)):
        return v[:16].hex() + ("..." if len(v) > 16 else "")
    fmt = _FIELD_FORMATS.get((layer, name))
    if fmt is not None:
        return fmt(v)
    if isinstance(v, int) and ("checksum" in name.lower() or name == "etherType"):
        return f"0x{v:04x}"
    return str(v)


def _keyed(layers: list[Layer]) -> dict[tuple[str, int], Layer]:
    """Layers by (name, occurrence), so that an inner IPv4 header is compared with the inner one."""
    seen: dict[str, int] = {}
    out = {}
    for l in layers:
        n = seen.get(l.name, 0)
        seen[l.name] = n + 1
        out[(l.name, n)] = l
    return out


def _label(key: tuple[str, int]) -> str:
    name = key[0].replace(" ", "_")
    return name if key[1] == 0 else f"{name}#{key[1] + 1}"


def field_changes(before: list[Layer], after: list[Layer], old_frame: bytes, new_frame: bytes) -> list[str]:
    """`layer.field old -> new` for every field that differs; layers added (+) or removed (-)."""
    old, new = _keyed(before), _keyed(after)
    lines = []
    for key, layer in new.items():
        was = old.get(key)
        if was is None:
            shown = " ".join(f"{f}={format_field(key[0], f, v)}" for f, v in layer.fields.items())
            lines.append(f"+ {_label(key)}" + (f": {shown}" if shown else ""))
            continue
        for f, v in layer.fields.items():
            if f in was.fields and was.fields[f] != v:
                lines.append(f"{_label(key)}.{f} {format_field(key[0], f, was.fields[f])} -> "
                             f"{format_field(key[0], f, v)}")
        if key[0] in ("payload", "fragment data") and layer.length == was.length and \
                old_frame[was.offset:was.offset + was.length] != new_frame[layer.offset:layer.offset + layer.length]:
            lines.append(f"{_label(key)}: contents changed")
    lines += [f"- {_label(key)}" for key in old if key not in new]
    return lines


def checksum_problems(layers: list[Layer], frame: bytes) -> list[str]:
    """A sent IPv4 header whose checksum is wrong: the classic bug of a program that changes the TTL."""
    ip = find(layers, "ipv4")
    if ip is None or ip.problem:
        return []
    header = frame[ip.offset:ip.offset + ip.length]
    if internet_checksum(header) == 0:
        return []
    right = internet_checksum(header[:10] + b"\x00\x00" + header[12:])
    return [f"ipv4.hdrChecksum 0x{ip['hdrChecksum']:04x} is wrong (should be 0x{right:04x})"]


def _fragment_of(received: list[Layer], sent: list[Layer]) -> bool:
    """Is the sent packet a fragment cut from the received one (same datagram: addresses, id, protocol)?"""
    a, b = find(received, "ipv4"), find(sent, "ipv4")
    if a is not None and b is not None and not a.problem and not b.problem:
        same = all(a[f] == b[f] for f in ("srcAddr", "dstAddr", "identification", "protocol"))
        return same and bool(b["mf"] or b["fragOffset"]) and b["totalLen"] < a["totalLen"]
    a6, b6 = find(received, "ipv6"), find(sent, "ipv6")
    if a6 is not None and b6 is not None and not a6.problem and not b6.problem:
        return find(sent, "ipv6 fragment") is not None and find(received, "ipv6 fragment") is None and \
            a6["srcAddr"] == b6["srcAddr"] and a6["dstAddr"] == b6["dstAddr"]
    return False
