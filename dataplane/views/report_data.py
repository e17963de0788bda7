"""What the HTML report adds to a run's recorded data (views/record.py's `dataplane-views/1`): the views that
span many events, derived from the events alone.

    extra = derive(data, topo)       # {"sources", "fragments", "conversations", "icmp_errors"}

- `sources`: the text of each P4 program the run's devices ran, by the path the events' `source` fields
  name (`programs/ipv4_router.p4`), so that the page shows a table's or an action's line inline.
- `fragments`: each fragmented IP datagram: `{key, version (IPv4, IPv6), src, dst, id, protocol,
  data_length, original_frame, reassembled_at: {node, event} | null, fragments: [{offset, length, mf, frame,
  event, packet, made_at, made_by (host, router)}]}`; a fragment's offset and length count bytes of the
  datagram's data; each distinct fragment is listed once, where it was first sent.
- `conversations`: each TCP connection and SCTP association seen between two hosts: `{key, protocol,
  a: {node, endpoint, initial}, b: {...}, segments: [{send, receive (null: lost), dir (a>b, b>a),
  time_ns, label, state_a, state_b, states_a, states_b}]}`. `a` is the end that sent first; a segment is listed where its
  end host sent it (each retransmission too) and where the other end host received it; `label` is as in
  Stevens' figures (`SYN seq=0 ack=0 len=0`, sequence numbers relative to each end's first one; SCTP: its
  chunk types); `state_a` / `state_b` is that end's state after the segment and `states_a` / `states_b`
  every state it went through on the way (from the hosts' state-change notes).
- `icmp_errors`: each ICMP or ICMPv6 error: `{event (the send where it was made), title, quoted_event (the
  receive of the packet it answers, or null), path (the events of the error packet, hop by hop)}`.
"""

from __future__ import annotations

import re

_ICMP_ERRORS = {"icmp": {3, 4, 5, 11, 12}, "icmpv6": {1, 2, 3, 4}}
_CONNECTION = re.compile(r"^(.*):(\d+|\*) (?:>|<->) (.*):(\d+|\*)$")
_TCP_FLAGS = ("syn", "fin", "rst", "psh", "ack", "urg")


def derive(data: dict, topo) -> dict:
    """The report's extra keys (see the module docstring)."""
    index = _Index(data)
    return {"sources": program_sources(data, topo),
            "fragments": fragments(index),
            "conversations": conversations(index),
            "icmp_errors": icmp_errors(index)}


class _Index:
    """The run's events and frames with the look-ups the derived views need."""

    def __init__(self, data: dict):
        self.events = data["events"]
        self.frames = data["frames"]
        self.kinds = {n["name"]: n["kind"] for n in data["nodes"]}
        self.by_packet: dict[str, list[dict]] = {}
        for e in self.events:
            if e["kind"] in ("send", "receive") and e.get("packet"):
                self.by_packet.setdefault(e["packet"], []).append(e)

    def layers(self, event: dict) -> list[dict]:
        return self.frames[event["frame"]]["layers"]

    def received_at(self, packet: str | None, node: str) -> dict | None:
        """The receive of `packet` at `node` (a packet keeps its number hop after hop)."""
        return next((e for e in self.by_packet.get(packet or "", ()) if e["kind"] == "receive" and e["node"] == node),
                    None)

    def is_host(self, node: str) -> bool:
        return self.kinds.get(node) == "host"


def _field(layer: dict | None, name: str):
    if layer is None:
        return None
    return next((f["value"] for f in layer["fields"] if f["name"] == name), None)


def _top(layers: list[dict], name: str) -> dict | None:
    """The first layer called `name` that is not inside an ICMP error's quote nor malformed."""
    return next((l for l in layers if l["name"] == name and not l.get("quoted") and not l.get("problem")), None)


# ---------------------------------------------------------------------------- sources


def program_sources(data: dict, topo) -> dict[str, str]:
    """The text of each program by its shown path (the one `source` fields name)."""
    out: dict[str, str] = {}
    for node in data["nodes"]:
        shown = node.get("program")
        spec = topo.nodes.get(node["name"]) if topo is not None else None
        if not shown or shown in out or spec is None or not spec.program:
            continue
        try:
            with open(spec.program, encoding="utf-8") as f:
                out[shown] = f.read()
        except OSError:
            continue                       # the page then shows the file:line without the text
    return out


# ---------------------------------------------------------------------------- fragments


def _fragment(layers: list[dict]) -> tuple | None:
    """((version, src, dst, id), offset, length of data, mf, protocol) of an IP fragment, or None."""
    ip = _top(layers, "ipv4")
    if ip is not None:
        offset, mf = _field(ip, "fragOffset") * 8, _field(ip, "mf")
        if not offset and not mf:
            return None
        length = _field(ip, "totalLen") - _field(ip, "ihl") * 4
        key = ("IPv4", _field(ip, "srcAddr"), _field(ip, "dstAddr"), _field(ip, "identification"))
        proto = next((f.get("text") for f in ip["fields"] if f["name"] == "protocol"), None) or str(_field(ip, "protocol"))
        return key, offset, length, mf, proto
    ip6, frag = _top(layers, "ipv6"), _top(layers, "ipv6 fragment")
    if ip6 is None or frag is None:
        return None
    length = _field(ip6, "payloadLen") - (frag["offset"] + frag["length"] - ip6["offset"] - ip6["length"])
    key = ("IPv6", _field(ip6, "srcAddr"), _field(ip6, "dstAddr"), _field(frag, "identification"))
    proto = next((f.get("text") for f in frag["fields"] if f["name"] == "nextHdr"), None) or str(_field(frag, "nextHdr"))
    return key, _field(frag, "fragOffset") * 8, length, _field(frag, "mf"), proto


def fragments(index: _Index) -> list[dict]:
    datagrams: dict[tuple, dict] = {}
    for e in index.events:
        if e["kind"] not in ("send", "receive"):
            continue
        found = _fragment(index.layers(e))
        if found is None:
            continue
        key, offset, length, mf, proto = found
        d = datagrams.get(key)
        if d is None:
            d = datagrams[key] = {"key": "/".join(map(str, key)), "version": key[0], "src": key[1], "dst": key[2],
                                  "id": key[3], "protocol": proto, "data_length": 0, "original_frame": None,
                                  "reassembled_at": None, "fragments": [], "_seen": set()}
        if e["kind"] == "send" and (offset, length, mf) not in d["_seen"]:
            d["_seen"].add((offset, length, mf))
            by_router = e.get("made") == "fragment"
            if by_router and d["original_frame"] is None and e.get("caused_by") is not None:
                d["original_frame"] = index.events[e["caused_by"]]["frame"]
            d["fragments"].append({"offset": offset, "length": length, "mf": mf, "frame": e["frame"], "event": e["id"],
                                   "packet": e.get("packet"), "made_at": e["node"],
                                   "made_by": "router" if by_router else "host"})
            if not mf:
                d["data_length"] = max(d["data_length"], offset + length)
        elif e["kind"] == "receive" and e.get("fate") == "delivered" and index.is_host(e["node"]):
            d["reassembled_at"] = {"node": e["node"], "event": e["id"]}
    out = []
    for d in datagrams.values():
        del d["_seen"]
        d["fragments"].sort(key=lambda x: (x["offset"], -x["length"]))
        if not d["data_length"]:
            d["data_length"] = max(x["offset"] + x["length"] for x in d["fragments"]) if d["fragments"] else 0
        out.append(d)
    return out


# ---------------------------------------------------------------------------- conversations


def _endpoints(layers: list[dict]) -> tuple | None:
    """(protocol, (src, sport), (dst, dport), transport layer) of a TCP segment or SCTP packet, not a quote."""
    ip = _top(layers, "ipv4") or _top(layers, "ipv6")
    if ip is None:
        return None
    for name, protocol in (("tcp", "TCP"), ("sctp", "SCTP")):
        t = _top(layers, name)
        if t is not None and _field(t, "dstPort") is not None:
            return (protocol, (_field(ip, "srcAddr"), _field(t, "srcPort")), (_field(ip, "dstAddr"), _field(t, "dstPort")),
                    t, ip)
    return None


def _endpoint_text(addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if ":" in str(addr) else f"{addr}:{port}"


def conversations(index: _Index) -> list[dict]:
    convs: dict[tuple, dict] = {}
    for e in index.events:
        if e["kind"] != "send" or e.get("origin") != "host" or not index.is_host(e["node"]):
            continue
        found = _endpoints(index.layers(e))
        if found is None:
            continue
        protocol, src, dst, transport, ip = found
        key = (protocol,) + tuple(sorted([src, dst], key=str))
        c = convs.get(key)
        if c is None:
            c = convs[key] = {"key": f"{protocol} {_endpoint_text(*src)} {_endpoint_text(*dst)}", "protocol": protocol,
                              "a": {"node": e["node"], "endpoint": _endpoint_text(*src), "addr": src},
                              "b": {"node": None, "endpoint": _endpoint_text(*dst), "addr": dst},
                              "segments": [], "_isn": {}}
        from_a = src == c["a"]["addr"]
        peer_node = None
        receive = None
        # The other end host: where this packet was received by a host other than the sender.
        for r in index.by_packet.get(e.get("packet") or "", ()):
            if r["kind"] == "receive" and r["node"] != e["node"] and index.is_host(r["node"]):
                receive, peer_node = r, r["node"]
                break
        if peer_node is not None:
            if from_a and c["b"]["node"] is None:
                c["b"]["node"] = peer_node
        if not from_a and c["b"]["node"] is None:
            c["b"]["node"] = e["node"]
        label = _tcp_label(transport, ip, c["_isn"], from_a) if protocol == "TCP" else _sctp_label(index.layers(e))
        c["segments"].append({"send": e["id"], "receive": receive["id"] if receive else None,
                              "dir": "a>b" if from_a else "b>a", "time_ns": e["time_ns"], "label": label})
    out = []
    notes = [e for e in index.events if e["kind"] == "note" and e.get("category") == "state"]
    for c in convs.values():
        del c["_isn"]
        _add_states(c, notes, index)
        for end in ("a", "b"):
            c[end].pop("addr")
            c[end]["node"] = c[end]["node"] or "?"
        out.append(c)
    return out


def _tcp_label(tcp: dict, ip: dict, isn: dict, from_a: bool) -> str:
    f = {x["name"]: x["value"] for x in tcp["fields"]}
    side, other = ("a", "b") if from_a else ("b", "a")
    if f.get("syn") or side not in isn:
        isn.setdefault(side, f["seqNo"])
    flags = ",".join(n.upper() for n in _TCP_FLAGS if f.get(n)) or "none"
    if ip["name"] == "ipv4":
        size = _field(ip, "totalLen") - _field(ip, "ihl") * 4
    else:
        size = _field(ip, "payloadLen")
    length = max(0, size - f["dataOffset"] * 4)
    seq = (f["seqNo"] - isn[side]) % 2 ** 32
    ack = (f["ackNo"] - isn[other]) % 2 ** 32 if f.get("ack") and other in isn else f["ackNo"] if f.get("ack") else 0
    return f"{flags} seq={seq} ack={ack} len={length}"


def _sctp_label(layers: list[dict]) -> str:
    chunks = [next((x.get("text") or str(x["value"]) for x in l["fields"] if x["name"] == "type"), "?")
              for l in layers if l["name"] == "sctp chunk" and not l.get("quoted")]
    return ", ".join(c.upper() for c in chunks) or "no chunks"


def _connection(note: dict) -> tuple | None:
    m = _CONNECTION.match(note.get("connection", ""))
    if not m:
        return None
    return (m.group(1).strip("[]"), m.group(2)), (m.group(3).strip("[]"), m.group(4))


def _notes_for(end: dict, peer: dict, notes: list[dict]) -> list[dict]:
    """The state notes of one end of a conversation: its own connection's, and its listener's before it."""
    addr, port = end["addr"]
    out = []
    for n in notes:
        if n["node"] != end["node"]:
            continue
        conn = _connection(n)
        if conn is None:
            continue
        (laddr, lport), (raddr, rport) = conn
        if lport != str(port):
            continue
        if (laddr == str(addr) and raddr == str(peer["addr"][0]) and rport == str(peer["addr"][1])) or laddr == "*":
            out.append(n)
    return out


def _add_states(c: dict, notes: list[dict], index: _Index) -> None:
    """Each end's state after each segment: the states it went through from its part in that segment (sending
    it, or receiving it) to its next part in the conversation, in the order things happened at that end
    (`states_a` / `states_b`: all of them, as one segment may move an end twice: a FIN received, the
    application closes at once: CLOSE-WAIT, LAST-ACK; `state_a` / `state_b`: the last)."""
    segs = c["segments"]
    for end, peer, name in ((c["a"], c["b"], "a"), (c["b"], c["a"], "b")):
        mine = _notes_for(end, peer, notes)
        # This end's event in each segment (its send, or its receive), taken in the order they happened.
        # (A segment lost on the way has no receive: the end that never saw it takes no part in it.)
        own = sorted((event, i) for event, i in
                     ((s["send"] if (s["dir"] == "a>b") == (name == "a") else s["receive"], i)
                      for i, s in enumerate(segs)) if event is not None)
        state = mine[0]["old"] if mine else ""
        k = 0
        # Before its first part: what happened earlier (a listener opened), not what goes with it.
        first = index.events[own[0][0]] if own else None
        while first is not None and k < len(mine) and mine[k]["time_ns"] < first["time_ns"]:
            state = mine[k]["new"]
            k += 1
        end["initial"] = state
        for j, (event, i) in enumerate(own):
            time_ns = index.events[event]["time_ns"]
            nxt = own[j + 1][0] if j + 1 < len(own) else None
            passed = []
            while k < len(mine) and mine[k]["time_ns"] <= time_ns and (nxt is None or mine[k]["id"] < nxt):
                passed.append(mine[k]["new"])
                k += 1
            state = passed[-1] if passed else state
            segs[i]["state_" + name] = state
            segs[i]["states_" + name] = passed or [state]
    for s in segs:
        for name in ("a", "b"):           # a lost segment: the end that never saw it stays as it was
            s.setdefault("state_" + name, "")
            s.setdefault("states_" + name, [])


# ---------------------------------------------------------------------------- ICMP errors


def icmp_errors(index: _Index) -> list[dict]:
    out = []
    for e in index.events:
        if e["kind"] != "send":
            continue
        layers = index.layers(e)
        icmp = next((l for l in layers if l["name"] in _ICMP_ERRORS and not l.get("quoted")), None)
        if icmp is None or _field(icmp, "type") not in _ICMP_ERRORS[icmp["name"]]:
            continue
        # Made here: a device's agent made it, or a host sent it itself (not forwarded on the way).
        if e.get("made", "new") == "forwarded":
            continue
        path = [x["id"] for x in index.by_packet.get(e.get("packet") or "", ())]
        out.append({"event": e["id"], "title": icmp["title"],
                    "quoted_event": e.get("caused_by"), "path": path or [e["id"]]})
    return out
