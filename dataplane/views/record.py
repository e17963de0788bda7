"""The run's data for the teaching views: nodes, links, and every frame's life hop by hop, as JSON.

    net = Network(topo)
    recording = Recording(net)        # before the run: it installs the hooks it needs, and only then
    net.schedule_traffic()
    net.run()
    data = recording.data()           # a dict that json.dumps takes as it is

Format `dataplane-views/1`:

- `format`: "dataplane-views/1"; `topology`: the topology's name; `time_ns`: when the run ended.
- `nodes`: `{name, kind (host, router, switch, p4), program (shown path or null), interfaces: [{name, port,
  mac, ipv4: [addr/len], ipv6: [addr/len], mtu}]}`, in the topology's order.
- `links`: `{name, ends: [{node, interface, port}, {...}], mtu, latency_ns, bandwidth_bps (null: unlimited),
  queue, loss}`.
- `frames`: each distinct frame once: `{length, bytes (hex, or null beyond `keep_bytes` frames), summary (one
  line, as --trace writes it), protocol (ARP, ND, ICMP, ICMPv6, IPv4, IPv6, UDP, TCP, SCTP, other), layers,
  fragment? ({version, src, dst, id, offset, length, more}: where a fragment's data sits in its datagram, in
  bytes)}`,
  where `layers` is views/layers.py's list `{name, offset, length, parent, title, fields: [{name, value,
  offset_bits, width_bits, text?}], quoted?, note?, problem?}` that covers the frame's bytes exactly.
  Events refer to a frame by its index.
- `events`, in the order they happened (so in time order), each with `id` (its index), `time_ns`, `kind`
  and `node`:
  - `receive`: a frame reached `node` on `port` (`interface`, `from` the node at the other end): `frame`,
    `packet` (its packet number, kept hop after hop: net/numbering.py), `sent_by` (the `send` event that put
    it on the link), `fate` (forwarded, delivered, consumed, dropped, reassembly), `caused` (the `send`
    events of the frames the node sent because of it: forwarded, fragments, ICMP errors, replies),
    `did` (sentences of what the node did, for people), and for a P4 device `pipeline`: `[{kind: table,
    table, hit, match, action, args, source}, {kind: action, action, args, source}, {kind: parser-error,
    error}, {kind: to-cpu}]`, `source` being `file:line` of the table or action in the P4 program.
  - `send`: `node` put `frame` on `link` from `port` (`interface`, `to` the node at the other end):
    `packet`, `caused_by` (the `receive` event it answers or carries on, or null: an application or a
    timer sent it), `origin` (pipeline: the P4 program forwarded it; agent: the device's control plane
    made it; host), `made` (for a device: `forwarded`, `fragment`, `new`), `changes` for a forwarded
    frame, and for a fragment the fields that differ from the packet it was cut from (`[{layer, field, old,
    new, by?, source?}]`: `source` is `file:line` of the P4 statement that most likely wrote the field and
    `by` the action or control it is in), and `outcome`: the `receive` or `drop` event it led to (null
    while in flight when the run stopped).
  - `drop`: a frame dropped, by a link or a node: `reason` (DropReason name in lower case), `text` (its
    sentence), `detail`, `of` (the `send` or `receive` event of the frame, or null for a timer's drop such
    as a reassembly timeout), `frame` (when known).
  - `note`: something a node did or knew: `text`, `during` (the `receive` being handled, or null), and
    `category`: state (with `protocol` TCP or SCTP, `connection`, `old`, `new`), fragmenting, arp, nd,
    other.
  - `app`: a line an application printed (`app`: ping, traceroute, ...), `text`.
- `programs`: the source text of each P4 program the devices run, by its shown path (`file` of every
  `file:line` above but core.p4's).
- `ledger`: the run's books (`transmitted`, `arrived`, `link_drops`, `fates`, `drops`), which the events
  match: one `send` per frame transmitted, one `receive` per frame arrived, one `drop` per drop.
- `bytes_kept`: how many frames have their bytes (`keep_bytes`), and `frames_without_bytes`.

Nothing is hooked into a network unless a Recording is made for it: a run without views costs nothing.
"""

from __future__ import annotations

import re

from ..net.tracing import NetWatcher
from ..protocols.dissect import summarize
from ..runtime.trace import ActionRun, DropReason, Output, ParserError, TableApply, format_value
from .layers import frame_layers
from .p4source import shown_path, source_index

FORMAT = "dataplane-views/1"

# "TCP 10.0.1.1:49152 > 10.0.2.2:80 SYN-SENT -> ESTABLISHED", as the host stacks log a state change.
_STATE = re.compile(r"^(TCP|SCTP) (.+) ([A-Z][A-Z0-9-]*) -> ([A-Z][A-Z0-9-]*)$")
_REASONS = sorted(DropReason, key=lambda r: -len(r.value))        # longest first: some are prefixes of others

# Where the rule a drop follows is written, for the sentence a student reads.
_RFC = {DropReason.TTL_EXCEEDED: ("RFC 1812 5.3.1", "RFC 8200 3"), DropReason.NO_ROUTE: ("RFC 1812 5.2.7.1",
        "RFC 4443 3.1"), DropReason.FRAGMENTATION_NEEDED: ("RFC 1191", "RFC 1191"),
        DropReason.PACKET_TOO_BIG: ("RFC 8201", "RFC 8201")}
_ICMP_ERROR_RFC = {("icmp", 11): "RFC 1812 5.3.1", ("icmp", 3): "RFC 1812 4.3.2.3",
                   ("icmpv6", 3): "RFC 4443 3.3", ("icmpv6", 1): "RFC 4443 3.1", ("icmpv6", 2): "RFC 4443 3.2"}


class Recording(NetWatcher):
    """Watches a Network's run for the views. Make it before the run starts; `data()` after."""

    def __init__(self, net, keep_bytes: int | None = None):
        self.net = net
        self.keep_bytes = keep_bytes
        self.events: list[dict] = []
        self.frames: list[dict] = []
        self._frame_ids: dict[bytes, int] = {}
        self._pending: dict[tuple[int, int], list] = {}       # (id(link), end index) -> [(frame, send id)]
        self._hop: dict | None = None          # the device receive whose outputs are being sent now
        self._receiving: dict | None = None    # the host receive being handled now
        self._reassembly: dict[tuple, int] = {}
        self._iface = {name: {i.port: i.name for i in spec.interfaces.values()}
                       for name, spec in net.topo.nodes.items()}
        self._attach()

    # ------------------------------------------------------------------ hooks

    def _event(self, kind: str, *d) -> None:
        if kind == "device_hop":
            self._device_hop(*d)
        elif kind == "host_rx":
            self._host_rx(*d)
        elif kind == "host_rx_fate":
            self._host_rx_fate(*d)
        elif kind == "host_event":
            self._host_event(*d)
        elif kind == "link_drop":
            self._link_drop(*d)
        elif kind == "app_line":
            app, text = d
            self._add("app", app.host.name, app=app.name, text=text)

    # ------------------------------------------------------------------ building events

    def _add(self, kind: str, node: str, **fields) -> dict:
        event = {"id": len(self.events), "time_ns": self.net.sim.now_ns, "kind": kind, "node": node}
        event.update(fields)
        self.events.append(event)
        return event

    def _frame(self, frame: bytes) -> int:
        got = self._frame_ids.get(frame)
        if got is None:
            got = self._frame_ids[frame] = len(self.frames)
            keep = self.keep_bytes is None or got < self.keep_bytes
            layers = frame_layers(frame)
            entry = {"length": len(frame), "bytes": frame.hex() if keep else None, "summary": summarize(frame),
                     "protocol": protocol_of(layers), "layers": layers}
            piece = fragment_of_datagram(layers)
            if piece is not None:
                entry["fragment"] = piece
            self.frames.append(entry)
        return got

    def _number(self, node) -> str | None:
        numbers = self.net.sim.numbers
        if numbers is not None and numbers.receiver is node and numbers.receiving is not None:
            return str(numbers.receiving)
        return None

    def _arrival(self, node, port: int, frame: bytes):
        """The link a frame arrived on at (node, port) and the send event that put it there."""
        link = node.links.get(port) if hasattr(node, "links") else node.interfaces[port].link
        if link is None:
            return None, None
        here = link.end(node, port)
        sender = link.end(here.peer, here.peer_port)
        return link, self._take_pending(link, sender.index, frame)

    def _take_pending(self, link, index: int, frame: bytes, front_only: bool = False) -> dict | None:
        queue = self._pending.get((id(link), index))
        if not queue:
            return None
        for i, (f, send) in enumerate(queue):
            if f is frame:
                del queue[i]
                return send
            if front_only:
                return None
        return None

    def _receive(self, node, port: int, frame: bytes) -> dict:
        link, send = self._arrival(node, port, frame)
        peer = link.end(node, port).peer.name if link is not None else None
        event = self._add("receive", node.name, port=port, interface=self._iface_name(node.name, port),
                          **{"from": peer}, frame=self._frame(frame), packet=self._number(node),
                          sent_by=send["id"] if send else None, fate=None, caused=[], did=[])
        if send is not None:
            send["outcome"] = event["id"]
        return event

    def _iface_name(self, node: str, port: int) -> str:
        return self._iface.get(node, {}).get(port, f"port {port}")

    # ------------------------------------------------------------------ devices

    def _device_hop(self, dev, hop) -> None:
        event = self._receive(dev, hop.port, hop.frame)
        event["fate"] = hop.fate
        index = source_index(dev.node.device.program)
        events = hop.trace.events if hop.trace is not None else []
        event["pipeline"] = pipeline_steps(events, index)
        received = self.frames[event["frame"]]["layers"]
        self._hop = {"event": event, "device": dev, "hop": hop, "cursor": 0, "index": index,
                     "actions": [e.action for e in events if isinstance(e, ActionRun)], "received": received}
        copies = hop.forwarded > 0
        for reason, detail in hop.drops:
            if reason is DropReason.CONSUMED:
                continue
            self._add("drop", dev.name, reason=reason.name.lower(), text=reason.value, detail=detail,
                      of=event["id"], frame=event["frame"], copy=copies)
        event["did"] = self._device_sentences(dev, hop, received)
        # Outputs on ports without a link are never sent: their drop (LINK_DOWN) is in hop.drops above.
        if any(d is dev for d, _, _ in self._traced_by_us):
            dev.hops.clear()          # kept only for us, and we have what we need: a long run stays small

    def _device_send(self, dev, port: int, frame: bytes, send: dict) -> None:
        """Which of the current hop's outputs `frame` is, and what changed in it."""
        ctx = self._hop
        if ctx is None or ctx["device"] is not dev or ctx["event"]["time_ns"] != self.net.sim.now_ns:
            send.update(caused_by=None, origin="agent", made="new")
            return
        hop = ctx["hop"]
        outputs = hop.outputs
        for i in range(ctx["cursor"], len(outputs)):
            if outputs[i][0] == port and outputs[i][1] is frame:
                ctx["cursor"] = i + 1
                from_pipeline = i < hop.forwarded
                break
        else:
            from_pipeline = False
        receive = ctx["event"]
        send["caused_by"] = receive["id"]
        receive["caused"].append(send["id"])
        sent = self.frames[send["frame"]]["layers"]
        if from_pipeline:
            send.update(origin="pipeline", made="forwarded",
                        changes=self._changes(ctx["received"], sent, ctx["index"], ctx["actions"]))
        elif _fragment_of(ctx["received"], sent):
            # The control plane cut it from the received packet: what differs is what fragmenting changed.
            send.update(origin="agent", made="fragment", changes=field_changes(ctx["received"], sent))
        else:
            send.update(origin="agent", made="new")

    def _changes(self, before: list[dict], after: list[dict], index, actions: list[str]) -> list[dict]:
        changes = field_changes(before, after)
        if index is None:
            return changes
        keys = [(HEADER_TYPES.get(c["layer"], ""), c["field"]) for c in changes]
        for change, write in zip(changes, index.writers(keys, actions)):
            if write is not None:
                change["by"], change["source"] = write.owner, write.where
        return changes

    def _device_sentences(self, dev, hop, received: list[dict]) -> list[str]:
        out: list[str] = []
        v6 = any(l["name"] == "ipv6" for l in received)
        sent = [(p, f) for p, f in hop.outputs]
        forwarded = sent[:hop.forwarded]
        made = sent[hop.forwarded:]
        ports = sorted({p for p, _ in forwarded})
        if forwarded:
            where = ", ".join(f"{self._iface_name(dev.name, p)}{_to(dev, p)}" for p in ports)
            out.append(f"forwarded out of {where}")
        fragments = [(p, f) for p, f in made if _fragment_of(received, frame_layers(f))]
        if fragments:
            port = fragments[0][0]
            link = dev.links.get(port)
            ip = next((l for l in received if l["name"] == "ipv4"), None)
            size = _field(ip, "totalLen") if ip else len(hop.frame) - 14
            mtu = f" > MTU {link.mtu} of {self._iface_name(dev.name, port)}" if link is not None else ""
            out.append(f"fragmented: {size} bytes{mtu} (RFC 791), into {len(fragments)} fragments")
        for p, f in made:
            if (p, f) in fragments:
                continue
            layers = frame_layers(f)
            out.append(f"sent {_describe_new(layers)} out of {self._iface_name(dev.name, p)}{_to(dev, p)}")
        for reason, detail in hop.drops:
            out.append(drop_sentence(reason, detail, v6, copy=bool(forwarded)))
        return out

    # ------------------------------------------------------------------ hosts

    def _host_rx(self, host, port: int, frame: bytes) -> None:
        self._receiving = self._receive(host, port, frame)

    def _host_rx_fate(self, host, fate: str) -> None:
        event = self._receiving
        self._receiving = None
        if event is None:
            return
        event["fate"] = fate
        layers = self.frames[event["frame"]]["layers"]
        datagram = _datagram(layers)
        if fate == "reassembly" and datagram is not None:
            key = (host.name,) + datagram
            self._reassembly[key] = self._reassembly.get(key, 0) + 1
            event["did"].insert(0, f"kept for reassembly: fragment {self._reassembly[key]} of datagram id "
                                   f"{datagram[2]} so far")
        elif fate == "delivered" and datagram is not None:
            count = self._reassembly.pop((host.name,) + datagram, 0) + 1
            event["did"].insert(0, f"reassembled datagram id {datagram[2]} from {count} fragments")
        elif fate == "delivered":
            event["did"].insert(0, "delivered to the host's stack")

    def _host_event(self, host, text: str) -> None:
        rx = self._receiving if self._receiving is not None and self._receiving["node"] == host.name else None
        during = rx["id"] if rx is not None else None
        for prefix in ("drop: ", "cannot send: "):
            if text.startswith(prefix):
                reason, detail = _parse_drop(text[len(prefix):])
                self._add("drop", host.name, reason=reason.name.lower() if reason else "other",
                          text=reason.value if reason else text, detail=detail,
                          of=during if prefix == "drop: " else None,
                          frame=rx["frame"] if rx is not None and prefix == "drop: " else None, copy=False)
                if rx is not None:
                    rx["did"].append("dropped: " + text[len(prefix):] if prefix == "drop: " else text)
                return
        fields = {"text": text, "during": during, "category": _category(text)}
        m = _STATE.match(text)
        if m:
            fields.update(category="state", protocol=m.group(1), connection=m.group(2), old=m.group(3),
                          new=m.group(4))
        self._add("note", host.name, **fields)
        if rx is not None:
            rx["did"].append(text)

    # ------------------------------------------------------------------ links

    def _on_transmit(self, link, end, frame: bytes) -> None:
        send = self._send(link, end.node, end.port, frame)
        self._pending.setdefault((id(link), end.index), []).append((frame, send))

    def _send(self, link, node, port: int, frame: bytes) -> dict:
        numbers = self.net.sim.numbers
        send = self._add("send", node.name, port=port, interface=self._iface_name(node.name, port),
                         to=link.end(node, port).peer.name, link=link.name, frame=self._frame(frame),
                         packet=str(numbers.last) if numbers is not None and numbers.last is not None else None,
                         caused_by=None, origin="host", outcome=None)
        if hasattr(node, "links"):
            self._device_send(node, port, frame, send)
        elif self._receiving is not None and self._receiving["node"] == node.name:
            send["caused_by"] = self._receiving["id"]
            self._receiving["caused"].append(send["id"])
        return send

    def _link_drop(self, link, node, port: int, frame: bytes, rec) -> None:
        end = link.end(node, port)
        at_send = rec.reason in (DropReason.EXCEEDS_LINK_MTU, DropReason.QUEUE_FULL)
        send = None if at_send else self._take_pending(link, end.index, frame, front_only=True)
        if send is None:
            # Refused as it was sent: the send is recorded here (links call observers only for frames
            # that go on the wire).
            send = self._send(link, node, port, frame)
            if rec.packet is not None:
                send["packet"] = str(rec.packet)
        drop = self._add("drop", node.name, reason=rec.reason.name.lower(), text=rec.reason.value,
                         detail=rec.detail, of=send["id"], frame=send["frame"], copy=False, link=link.name)
        send["outcome"] = drop["id"]

    # ------------------------------------------------------------------ the result

    def data(self) -> dict:
        """The run's data for the views (see the module docstring); json.dumps takes it as it is."""
        net = self.net
        ledger = net.sim.ledger
        kept = sum(1 for f in self.frames if f["bytes"] is not None)
        return {
            "format": FORMAT,
            "topology": net.topo.name,
            "time_ns": net.sim.now_ns,
            "nodes": nodes_data(net),
            "links": links_data(net),
            "programs": programs_data(net),
            "frames": self.frames,
            "events": self.events,
            "ledger": {"transmitted": ledger.transmitted, "arrived": ledger.arrived, "link_drops": ledger.link_drops,
                       "fates": dict(ledger.fates), "drops": ledger.total_drops},
            "bytes_kept": kept,
            "frames_without_bytes": len(self.frames) - kept,
        }


# ---------------------------------------------------------------------------- nodes and links


def nodes_data(net) -> list[dict]:
    mtus: dict[tuple[str, str], int] = {}
    for l in net.topo.links:
        mtus[l.a] = mtus[l.b] = l.mtu
    out = []
    for spec in net.topo.nodes.values():
        ifaces = [{"name": i.name, "port": i.port, "mac": _mac(i.mac),
                   "ipv4": [str(i.ipv4)] if i.ipv4 is not None else [], "ipv6": [str(a) for a in i.ipv6],
                   "mtu": mtus.get((spec.name, i.name))} for i in spec.interfaces.values()]
        out.append({"name": spec.name, "kind": spec.kind,
                    "program": shown_path(spec.program) if spec.program else None, "interfaces": ifaces})
    return out


def links_data(net) -> list[dict]:
    out = []
    for name, spec in zip(net.links, net.topo.links):
        ends = [{"node": node, "interface": iface, "port": net.topo.interface(node, iface).port}
                for node, iface in (spec.a, spec.b)]
        out.append({"name": name, "ends": ends, "mtu": spec.mtu, "latency_ns": spec.latency_ns,
                    "bandwidth_bps": spec.bandwidth_bps, "queue": spec.queue, "loss": spec.loss})
    return out


def programs_data(net) -> dict[str, str]:
    """The source of each P4 program the devices run, by its shown path, so that views can show the lines
    that tables, actions and changed fields point to."""
    out: dict[str, str] = {}
    for spec in net.topo.nodes.values():
        if spec.program and spec.kind != "host":
            shown = shown_path(spec.program)
            if shown not in out:
                try:
                    with open(spec.program, encoding="utf-8") as f:
                        out[shown] = f.read()
                except (OSError, UnicodeDecodeError):
                    out[shown] = ""          # it compiled, so it was readable: a file changed since
    return out


def _mac(v: int) -> str:
    return ":".join(f"{(v >> s) & 0xFF:02x}" for s in range(40, -8, -8))


# ---------------------------------------------------------------------------- frames


HEADER_TYPES = {"ethernet": "ethernet_t", "vlan": "vlan_tag_t", "arp": "arp_t", "ipv4": "ipv4_t",
                 "ipv6": "ipv6_t", "ipv6 fragment": "ipv6_frag_t", "icmp": "icmp_t", "icmpv6": "icmpv6_t",
                 "udp": "udp_t", "tcp": "tcp_t", "sctp": "sctp_t", "sctp chunk": "sctp_chunk_t"}
_PROTOCOLS = {"arp": "ARP", "icmp": "ICMP", "udp": "UDP", "tcp": "TCP", "sctp": "SCTP", "ipv4": "IPv4",
              "ipv6": "IPv6"}


def protocol_of(layers: list[dict]) -> str:
    """The protocol a student would filter the frame by: the highest layer that names one (quotes aside)."""
    found = "other"
    for layer in layers:
        if layer.get("quoted") or layer.get("problem"):
            continue
        name = layer["name"]
        if name == "icmpv6":
            found = "ND" if _field(layer, "type") in (133, 134, 135, 136, 137) else "ICMPv6"
        elif name in _PROTOCOLS:
            found = _PROTOCOLS[name]
    return found


def _field(layer: dict | None, name: str):
    if layer is None:
        return None
    for f in layer["fields"]:
        if f["name"] == name:
            return f["value"]
    return None


def _keyed(layers: list[dict]) -> dict[tuple[str, int], dict]:
    seen: dict[str, int] = {}
    out = {}
    for layer in layers:
        n = seen.get(layer["name"], 0)
        seen[layer["name"]] = n + 1
        out[(layer["name"], n)] = layer
    return out


def field_changes(before: list[dict], after: list[dict]) -> list[dict]:
    """The fields whose value differs between a received frame and a frame sent for it, layer by layer
    (the n-th layer of a name with the n-th), in the sent frame's order; layers added or removed too."""
    old, new = _keyed(before), _keyed(after)
    out: list[dict] = []
    for key, layer in new.items():
        was = old.get(key)
        if was is None:
            out.append({"layer": key[0], "field": None, "old": None, "new": "added"})
            continue
        values = {f["name"]: f["value"] for f in was["fields"]}
        for f in layer["fields"]:
            if f["name"] in values and values[f["name"]] != f["value"]:
                out.append({"layer": key[0], "field": f["name"], "old": values[f["name"]], "new": f["value"]})
    out += [{"layer": key[0], "field": None, "old": "removed", "new": None} for key in old if key not in new]
    return out


def fragment_of_datagram(layers: list[dict]) -> dict | None:
    """Where a fragment's data sits in its datagram: `{version, src, dst, id, offset, length, more}` (bytes), or None
    when the frame is not a fragment."""
    datagram = _datagram(layers)
    if datagram is None:
        return None
    ip = next(l for l in layers if l["name"] in ("ipv4", "ipv6"))
    if ip["name"] == "ipv4":
        offset, more = _field(ip, "fragOffset") * 8, bool(_field(ip, "mf"))
        length = _field(ip, "totalLen") - ip["length"]
    else:
        frag = next(l for l in layers if l["name"] == "ipv6 fragment")
        offset, more = _field(frag, "fragOffset") * 8, bool(_field(frag, "mf"))
        length = 40 + _field(ip, "payloadLen") - (frag["offset"] + frag["length"] - ip["offset"])
    return {"version": 4 if ip["name"] == "ipv4" else 6, "src": datagram[0], "dst": datagram[1], "id": datagram[2],
            "offset": offset, "length": length, "more": more}


def _datagram(layers: list[dict]) -> tuple | None:
    """(source, destination, id) of an IP fragment, or None when the frame is not one."""
    ip = next((l for l in layers if l["name"] == "ipv4" and not l.get("quoted")), None)
    if ip is not None and not ip.get("problem"):
        if _field(ip, "mf") or _field(ip, "fragOffset"):
            return (_field(ip, "srcAddr"), _field(ip, "dstAddr"), _field(ip, "identification"))
        return None
    ip6 = next((l for l in layers if l["name"] == "ipv6" and not l.get("quoted")), None)
    frag = next((l for l in layers if l["name"] == "ipv6 fragment" and not l.get("quoted")), None)
    if ip6 is not None and frag is not None and not frag.get("problem"):
        return (_field(ip6, "srcAddr"), _field(ip6, "dstAddr"), _field(frag, "identification"))
    return None


def _fragment_of(received: list[dict], sent: list[dict]) -> bool:
    """Is the sent packet a fragment cut from the received one (same datagram)?"""
    a = next((l for l in received if l["name"] == "ipv4"), None)
    b = next((l for l in sent if l["name"] == "ipv4"), None)
    if a is None or b is None or a.get("problem") or b.get("problem"):
        return False
    same = all(_field(a, f) == _field(b, f) for f in ("srcAddr", "dstAddr", "identification", "protocol"))
    return same and bool(_field(b, "mf") or _field(b, "fragOffset")) and _field(b, "totalLen") < _field(a, "totalLen")


# ---------------------------------------------------------------------------- sentences


def _to(dev, port: int) -> str:
    link = dev.links.get(port)
    return f" to {link.end(dev, port).peer.name}" if link is not None else ""


def _describe_new(layers: list[dict]) -> str:
    """What a packet a device's agent made is: `ICMP time exceeded to 10.0.1.1 (RFC 1812 5.3.1)`."""
    top = [l for l in layers if not l.get("quoted")]
    for l in reversed(top):
        if l["name"] in ("icmp", "icmpv6"):
            kind = next((f.get("text") for f in l["fields"] if f["name"] == "type"), None) or "message"
            ip = next((x for x in top if x["name"] in ("ipv4", "ipv6")), None)
            to = f" to {_field(ip, 'dstAddr')}" if ip is not None else ""
            rfc = _ICMP_ERROR_RFC.get((l["name"], _field(l, "type")))
            return f"{'ICMP' if l['name'] == 'icmp' else 'ICMPv6'} {kind}{to}" + (f" ({rfc})" if rfc else "")
        if l["name"] == "arp":
            return l["title"]
    return top[-1]["title"] if top else "a frame"


def drop_sentence(reason: DropReason, detail: str, v6: bool, copy: bool = False) -> str:
    if reason is DropReason.CONSUMED:
        return "taken in by the control plane" + (f" ({detail})" if detail else "")
    rfc = _RFC.get(reason)
    ref = f" ({rfc[1] if v6 else rfc[0]})" if rfc else ""
    return f"{'a copy ' if copy else ''}dropped: {reason.value}" + (f"; {detail}" if detail else "") + ref


def _parse_drop(text: str) -> tuple[DropReason | None, str]:
    """A host's "<reason> (<detail>)" log text back to its DropReason and detail."""
    for reason in _REASONS:
        if text.startswith(reason.value):
            rest = text[len(reason.value):].strip()
            if rest.startswith("(") and rest.endswith(")"):
                rest = rest[1:-1]
            return reason, rest
    return None, text


def _category(text: str) -> str:
    if text.startswith("fragmenting"):
        return "fragmenting"
    if text.startswith("ARP"):
        return "arp"
    if text.startswith("ND") or "neighbor" in text.lower():
        return "nd"
    return "other"


# ---------------------------------------------------------------------------- the pipeline


def pipeline_steps(events: list, index) -> list[dict]:
    """The pipeline's trace as data: tables applied with their decision, actions run, to the CPU."""
    out: list[dict] = []
    i = 0
    while i < len(events):
        e = events[i]
        i += 1
        if isinstance(e, TableApply):
            action = None
            j = i
            while j < len(events) and not isinstance(events[j], (TableApply, ActionRun)):
                j += 1
            if j < len(events) and isinstance(events[j], ActionRun) and events[j].action == e.action:
                action = events[j]
                i = j + 1
            args = {k: format_value(k, v, w) for k, (v, w) in action.args.items()} if action else {}
            key = {k: format_value(k.rsplit(".", 1)[-1], v, w) for k, (v, w) in e.keys.items()}
            out.append({"kind": "table", "table": e.table, "hit": e.hit, "key": key,
                        "match": _entry_match(e) if e.hit else None, "action": e.action, "args": args,
                        "source": index.table(e.table) if index else None,
                        "action_source": index.action(e.action) if index else None})
        elif isinstance(e, ActionRun):
            out.append({"kind": "action", "action": e.action,
                        "args": {k: format_value(k, v, w) for k, (v, w) in e.args.items()},
                        "source": index.action(e.action) if index else None})
        elif isinstance(e, ParserError):
            out.append({"kind": "parser-error", "error": e.error})
        elif isinstance(e, Output) and e.port == _cpu_port():
            out.append({"kind": "to-cpu"})
    return out


def _cpu_port() -> int:
    from ..router.agent import CPU_PORT
    return CPU_PORT


def _entry_match(t: TableApply) -> str:
    from ..net.tracing import table_line
    line = table_line(t, None)
    # "table T: hit <match> -> call": the match as the trace writes it, addresses as addresses.
    return line.split(": hit ", 1)[1].rsplit(" -> ", 1)[0] if ": hit " in line else t.entry
