"""`--layers`: the layer view of a run in the terminal, hop by hop, with boxes for the encapsulation.

For every frame a node received: what the node did (a sentence per decision, the tables the P4 program
applied with their source lines), the frame as received, and each frame it sent because of it, as nested
boxes (Ethernet around IP around the transport header around the payload; an ICMP error around the packet
it quotes), each box with its header's offset and length in the frame. Fields a device changed are listed
in the box of their layer, with the P4 statement that changed them:

  [     3.129 ms] r1 eth1 <- h1: #3 IP 10.0.1.1 > 10.0.2.2 ttl 64 frag id 1 off 0 MF,
    ICMP echo request, 1514 bytes
    P4 program programs/dual_stack_router.p4:
      ...
      178 table MyIngress.ipv4_lpm: hit 10.0.2.0/24 -> forward(02:00:00:03:00:01, 2)
    => forwarded out of eth2 to r2
    ...
    out on eth2 to r2: #3 1514 bytes:
    ┌─ Ethernet 02:00:00:02:00:02 > 02:00:00:03:00:01 ────────────────────── offset 0, 14 bytes ─┐
    │ * dstAddr 02:00:00:02:00:01 -> 02:00:00:03:00:01   (MyIngress, line 252)                   │
    │ * srcAddr 02:00:00:01:00:01 -> 02:00:00:02:00:02   (MyIngress.set_egress, line 159)        │
    │┌─ IPv4 10.0.1.1 > 10.0.2.2 ttl 63 id 1 MF ICMP ───────────────────── offset 14, 20 bytes ─┐│
    ││ * ttl 64 -> 63   (MyIngress, line 255)                                                   ││
    ││ * hdrChecksum 0x3e1e -> 0x3f1e   (MyIngress, line 257)                                   ││
    ││┌─ ICMP echo request (type 8, code 0) ────────────────────────────── offset 34, 8 bytes ─┐││
    │││├─ Data: 1472 bytes ─────────────────────────────────────────── offset 42, 1472 bytes ─┤│││
    ││└────────────────────────────────────────────────────────────────────────────────────────┘││
    │└──────────────────────────────────────────────────────────────────────────────────────────┘│
    └────────────────────────────────────────────────────────────────────────────────────────────┘

Lines of the P4 program are given by number when the change or table is in the device's own program.
Frames a host sends on its own (not in answer to one it received) are shown when sent; drops on links,
host events and applications' lines at their times.

It renders the data of a Recording (views/record.py), not the network, so the same text comes from a saved
run. The output is the same for the same run, byte for byte (golden files test it), and fits a terminal of
`width` columns.
"""

from __future__ import annotations

import re
import textwrap

WIDTH = 96
INDENT = "  "


def render_layers(data: dict, width: int = WIDTH) -> str:
    """The layer view of a recorded run (views/record.py's data)."""
    return "\n".join(_Renderer(data, width).lines())


class _Renderer:
    def __init__(self, data: dict, width: int):
        self.data = data
        self.events = data["events"]
        self.frames = data["frames"]
        self.width = max(60, width)
        self.programs = {n["name"]: n["program"] for n in data["nodes"] if n.get("program")}

    def lines(self) -> list[str]:
        out: list[str] = []
        for e in self.events:
            kind = e["kind"]
            if kind == "receive":
                out += self.receive(e)
            elif kind == "send" and e["caused_by"] is None:
                out += self.lone_send(e)
            elif kind == "drop" and (e["of"] is None or self.events[e["of"]]["kind"] == "send"):
                out += self.drop(e)
            elif kind == "note" and e["during"] is None:
                out += _after_boxes(out, f"{_time(e)} {e['node']}: {e['text']}")
            elif kind == "app":
                out += _after_boxes(out, f"{_time(e)} {e['node']} {e['app']}: {e['text']}")
        if not out:
            out.append("no frames were sent")
        return out

    # ------------------------------------------------------------------ records

    def receive(self, e: dict) -> list[str]:
        frame = self.frames[e["frame"]]
        out = [""] + self.head(e, f"{e['interface']} <- {e['from']}", frame)
        for line in self.decisions(e):
            out += textwrap.wrap(line, self.width, initial_indent=INDENT, subsequent_indent=INDENT + " " * 9,
                                 break_on_hyphens=False) or [INDENT]
        out.append(f"{INDENT}in on {e['interface']}, {frame['length']} bytes:")
        out += self.boxes(frame, [])
        for send_id in e["caused"]:
            out += self.sent(self.events[send_id])
        return out

    def head(self, e: dict, where: str, frame: dict) -> list[str]:
        """`[  3.129 ms] r1 eth1 <- h1: #3 IP 10.0.1.1 > 10.0.2.2 ..., 1514 bytes`, wrapped at the width
        between the summary's parts."""
        parts = re.sub(r" (len|plen) \d+", "", _without_macs(frame["summary"])).split(", ")
        start = f"{_time(e)} {e['node']} {where}: {_packet(e)}"
        size = f"{frame['length']} bytes"
        if len(start + ", ".join(parts + [size])) > self.width:
            # The payload's size is in the boxes below: it goes first.
            parts = [p for p in parts if not re.fullmatch(r"\d+ bytes( \(fragment\))?", p)] or parts
        lines = [start]
        for i, part in enumerate(parts + [size]):
            last = i == len(parts)
            piece = part + ("" if last else ",")
            joined = lines[-1] + ("" if lines[-1] in (start, INDENT) else " ") + piece
            if len(joined) <= self.width or lines[-1] in (start, INDENT):
                lines[-1] = joined
            else:
                lines.append(INDENT + piece)
        return [_fit(line, self.width) for line in lines]

    def decisions(self, e: dict) -> list[str]:
        out = []
        program = self.programs.get(e["node"])
        if e.get("pipeline"):
            out.append(f"P4 program {program}:" if program else "P4 program:")
        for step in e.get("pipeline", ()):
            if step["kind"] == "table":
                args = ", ".join(step["args"].values())
                call = f"{step['action'].rsplit('.', 1)[-1]}({args})"
                if step["hit"]:
                    what = f"table {step['table']}: hit {step['match']} -> {call}"
                else:
                    key = ", ".join(step["key"].values())
                    what = f"table {step['table']}: miss{' ' + key if key else ''} -> default {call}"
                out.append(_at_line(what, step["source"], program))
            elif step["kind"] == "action":
                call = f"{step['action'].rsplit('.', 1)[-1]}({', '.join(step['args'].values())})"
                out.append(_at_line(f"action {call}", step["source"], program))
            elif step["kind"] == "parser-error":
                out.append(f"{_NO_LINE}parser error: {step['error']}")
            elif step["kind"] == "to-cpu":
                out.append(f"{_NO_LINE}to the control plane (CPU port)")
        out += [f"=> {sentence}" for sentence in e["did"]]
        return out

    def sent(self, e: dict) -> list[str]:
        frame = self.frames[e["frame"]]
        made = {"fragment": "fragment ", "new": "new packet "}.get(e.get("made"), "")
        out = [f"{INDENT}out on {e['interface']} to {e['to']}: {made}{_packet(e)}{frame['length']} bytes:"]
        out += self.boxes(frame, e.get("changes") or [], self.programs.get(e["node"]))
        outcome = self.events[e["outcome"]] if e.get("outcome") is not None else None
        if outcome is not None and outcome["kind"] == "drop":
            out.append(f"{INDENT}x dropped on link {e['link']}: {_drop_text(outcome)}")
        return out

    def lone_send(self, e: dict) -> list[str]:
        frame = self.frames[e["frame"]]
        out = [""] + self.head(e, f"{e['interface']} -> {e['to']}", frame)
        out.append(f"{INDENT}out on {e['interface']}, {frame['length']} bytes:")
        return out + self.boxes(frame, [])

    def drop(self, e: dict) -> list[str]:
        where = f"link {e['link']}" if e.get("link") else e["node"]
        return [f"{_time(e)} {where}: x dropped: {_drop_text(e)}"]

    # ------------------------------------------------------------------ boxes

    def boxes(self, frame: dict, changes: list[dict], program: str | None = None) -> list[str]:
        layers = frame["layers"]
        children: dict = {}
        for i, layer in enumerate(layers):
            children.setdefault(layer["parent"], []).append(i)
        marks = _marks(layers, changes, program)
        out: list[str] = []
        for root in children.get(None, []):
            out += self.box(root, layers, children, marks, self.width - len(INDENT))
        return [INDENT + line for line in out]

    def box(self, i: int, layers: list[dict], children: dict, marks: dict, width: int) -> list[str]:
        layer = layers[i]
        title = ("quoted " if layer.get("quoted") else "") + layer["title"]
        where = f"offset {layer['offset']}, {layer['length']} byte{'s' if layer['length'] != 1 else ''}"
        kids = children.get(i, [])
        lines = [f"options: {f['text']}" for f in layer["fields"] if f["name"] == "options" and f.get("text")]
        lines += marks.get(i, [])
        if layer.get("problem"):
            lines = [f"! malformed: {layer['problem']}"] + lines
        if not kids and not lines:
            return [_rule("├─ ", title, where, " ─┤", width)]
        out = [_rule("┌─ ", title, where, " ─┐", width)]
        for text in lines:
            out += ["│ " + part.ljust(width - 4) + " │" for part in _wrap(text, width - 4)]
        for k in kids:
            out += ["│" + line + "│" for line in self.box(k, layers, children, marks, width - 2)]
        out.append("└" + "─" * (width - 2) + "┘")
        return out


# ---------------------------------------------------------------------------- pieces


def _after_boxes(out: list[str], line: str) -> list[str]:
    """A one-line record, apart from the boxes of the record before it."""
    return ["", line] if out and out[-1].startswith(INDENT) else [line]


def _marks(layers: list[dict], changes: list[dict], program: str | None) -> dict[int, list[str]]:
    """The lines for changed fields, by the index of the layer they belong to (the n-th layer of a name)."""
    index: dict[tuple[str, int], int] = {}
    seen: dict[str, int] = {}
    for i, layer in enumerate(layers):
        n = seen.get(layer["name"], 0)
        seen[layer["name"]] = n + 1
        index.setdefault((layer["name"], n), i)
    out: dict[int, list[str]] = {}
    for c in changes:
        key = (c["layer"], 0)
        i = index.get(key)
        if i is None or c["field"] is None:
            continue
        text = f"* {c['field']} {_value(c['field'], c['old'])} -> {_value(c['field'], c['new'])}"
        if c.get("source"):
            where = c["source"]
            if program and where.startswith(program + ":"):
                where = "line " + where[len(program) + 1:]
            text += f"   ({c['by']}, {where})" if c.get("by") else f"   ({where})"
        out.setdefault(i, []).append(text)
    return out


def _value(field: str, v) -> str:
    if isinstance(v, int) and ("checksum" in field.lower() or field == "etherType"):
        return f"0x{v:04x}"
    return str(v)


def _rule(left: str, title: str, where: str, right: str, width: int) -> str:
    """`┌─ title ──── where ─┐` exactly `width` wide (the title cut short if it must be)."""
    room = width - len(left) - len(right) - len(where) - 2
    title = _fit(title, max(1, room))
    return f"{left}{title} {'─' * (room - len(title))} {where}{right}" if room >= len(title) else \
        f"{left}{title}{right}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


_NO_LINE = " " * 6


def _at_line(text: str, source: str | None, program: str | None) -> str:
    """`  163 table ...`: the line in the node's program, or the whole place when elsewhere (core.p4)."""
    if source and program and source.startswith(program + ":"):
        return f"{source[len(program) + 1:]:>5} {text}"
    return f"{_NO_LINE}{text}" + (f"   ({source})" if source else "")


def _wrap(text: str, width: int) -> list[str]:
    """A changed field's line, broken before its source when too long, each part cut to the width."""
    if len(text) <= width:
        return [text]
    head, sep, source = text.partition("   (")
    if sep:
        return [_fit(head, width), _fit("    (" + source, width)]
    return [_fit(text, width)]


def _without_macs(summary: str) -> str:
    """A frame's summary without its Ethernet addresses, which the boxes show."""
    first, sep, rest = summary.partition(", ")
    return rest if sep and " > " in first and first.count(":") >= 10 else summary


def _time(e: dict) -> str:
    return f"[{e['time_ns'] / 1e6:10.3f} ms]"


def _packet(e: dict) -> str:
    return f"{e['packet']} " if e.get("packet") else ""


def _drop_text(e: dict) -> str:
    return e["text"] + (f" ({e['detail']})" if e.get("detail") else "")
