"""`dataplane replay --report`: a replay's packets as a run's data (views/record.py's `dataplane-views/1`), so the
HTML report shows them as it shows a network's run.

    recording = ReplayRecording(device, program_path)
    for t_ns, port, data in packets:
        r = device.process(port, data, now_us=t_ns / 1000, trace=True)
        recording.add(t_ns, port, data, r)
    data = recording.data()
    topo = recording.topology()       # for the picture: the device, with one end per port used

A replay has no network: the picture is the device with a node per port it received on or sent from
(`port 1`, ...), each joined to it by a link of that name. Each packet in is a `receive` at the device
`from` its port, with the pipeline's tables and actions; each packet out a `send` `to` its port, with the
fields the program changed; each drop a `drop`. Only the first `keep` packets are recorded (a replay may
hold millions); `packets_not_recorded` says how many more went through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..runtime.trace import ActionRun
from .layers import frame_layers
from .p4source import shown_path, source_index
from .record import FORMAT, HEADER_TYPES, drop_sentence, field_changes, pipeline_steps, protocol_of

KEEP_PACKETS = 3000


@dataclass
class _Interface:
    name: str
    port: int
    mac: int = 0
    ipv4: object = None
    ipv6: list = field(default_factory=list)


@dataclass
class _Node:
    name: str
    kind: str
    program: str | None
    interfaces: dict


@dataclass
class _Link:
    name: str
    a: tuple
    b: tuple
    mtu: int = 65535
    latency_ns: int = 0
    bandwidth_bps: float | None = None
    queue: int = 0
    loss: float = 0.0


@dataclass
class _Topology:
    name: str
    nodes: dict
    links: list


class ReplayRecording:
    """The events of a replay through one device, in the views' format."""

    def __init__(self, device, program_path: str, keep: int = KEEP_PACKETS):
        self.device = device
        self.program_path = program_path
        self.name = os.path.basename(program_path)
        self.keep = keep
        self.index = source_index(device.program)
        self.events: list[dict] = []
        self.frames: list[dict] = []
        self._frame_ids: dict[bytes, int] = {}
        self.ports: set[int] = set()
        self.packets = 0
        self.sent = 0
        self.drops = 0
        self.time_ns = 0

    @property
    def full(self) -> bool:
        """Whether the packets to record are all in (the rest are only counted: see `add`)."""
        return self.packets >= self.keep

    def add(self, time_ns: int, port: int, data: bytes, result=None) -> None:
        """One packet replayed: what went in, the pipeline's trace, what came out and what was dropped (only
        counted once `full`; then `result` may be None, and the replay need not trace it)."""
        self.packets += 1
        self.time_ns = max(self.time_ns, time_ns)
        if self.packets > self.keep or result is None:
            return
        packet = f"#{self.packets}"
        self.ports.add(port)
        frame = self._frame(data)
        trace = result.trace.events if result.trace is not None else []
        received = self.frames[frame]["layers"]
        outputs = list(result.outputs)
        fate = "forwarded" if outputs else ("dropped" if result.drops else "consumed")
        receive = self._add("receive", time_ns, port=port, interface=f"port {port}", **{"from": f"port {port}"},
                            frame=frame, packet=packet, sent_by=None, fate=fate, caused=[],
                            did=[], pipeline=pipeline_steps(trace, self.index))
        actions = [e.action for e in trace if isinstance(e, ActionRun)]
        for out_port, out in outputs:
            self.ports.add(out_port)
            self.sent += 1
            sent = self._frame(out)
            changes = field_changes(received, self.frames[sent]["layers"])
            if self.index is not None:
                keys = [(HEADER_TYPES.get(c["layer"], ""), c["field"]) for c in changes]
                for change, write in zip(changes, self.index.writers(keys, actions)):
                    if write is not None:
                        change["source"] = f"{write.owner}, {write.where}"
            send = self._add("send", time_ns, port=out_port, interface=f"port {out_port}", to=f"port {out_port}",
                             link=f"port {out_port}", frame=sent, packet=packet, caused_by=receive["id"],
                             origin="pipeline", made="forwarded", changes=changes, outcome=None)
            receive["caused"].append(send["id"])
            receive["did"].append(f"sent out of port {out_port}")
        v6 = any(layer["name"] == "ipv6" for layer in received)
        for reason, detail in result.drops:
            self.drops += 1
            receive["did"].append(drop_sentence(reason, detail, v6, copy=bool(outputs)))
            self._add("drop", time_ns, reason=reason.name.lower(), text=reason.value, detail=detail,
                      of=receive["id"], frame=frame, copy=bool(outputs))

    def _add(self, kind: str, time_ns: int, **fields) -> dict:
        event = {"id": len(self.events), "time_ns": time_ns, "kind": kind, "node": self.name}
        event.update(fields)
        self.events.append(event)
        return event

    def _frame(self, data: bytes) -> int:
        got = self._frame_ids.get(data)
        if got is None:
            from ..protocols.dissect import summarize
            got = self._frame_ids[data] = len(self.frames)
            layers = frame_layers(data)
            self.frames.append({"length": len(data), "bytes": data.hex(), "summary": summarize(data),
                                "protocol": protocol_of(layers), "layers": layers})
        return got

    def topology(self) -> _Topology:
        """The picture's topology: the device and a node per port."""
        ports = sorted(self.ports)
        device = _Node(self.name, "p4", self.program_path,
                       {f"port {p}": _Interface(f"port {p}", p) for p in ports})
        nodes = {self.name: device}
        links = []
        for p in ports:
            nodes[f"port {p}"] = _Node(f"port {p}", "host", None, {"pcap": _Interface("pcap", p)})
            links.append(_Link(f"port {p}", (self.name, f"port {p}"), (f"port {p}", "pcap")))
        return _Topology(f"replay through {self.name}", nodes, links)

    def data(self) -> dict:
        topo = self.topology()
        nodes = [{"name": n.name, "kind": n.kind, "program": shown_path(n.program) if n.program else None,
                  "interfaces": [{"name": i.name, "port": i.port, "mac": None, "ipv4": [], "ipv6": [], "mtu": None}
                                 for i in n.interfaces.values()]} for n in topo.nodes.values()]
        links = [{"name": l.name, "ends": [{"node": l.a[0], "interface": l.a[1], "port": int(l.name.split()[1])},
                                           {"node": l.b[0], "interface": l.b[1], "port": int(l.name.split()[1])}],
                  "mtu": None, "latency_ns": 0, "bandwidth_bps": None, "queue": None, "loss": 0.0} for l in topo.links]
        recorded = min(self.packets, self.keep)
        return {"format": FORMAT, "topology": topo.name, "time_ns": self.time_ns, "nodes": nodes, "links": links,
                "frames": self.frames, "events": self.events,
                "ledger": {"transmitted": sum(1 for e in self.events if e["kind"] == "send"), "arrived": recorded,
                           "link_drops": 0, "fates": {}, "drops": sum(1 for e in self.events if e["kind"] == "drop")},
                "bytes_kept": len(self.frames), "frames_without_bytes": 0,
                "packets_not_recorded": self.packets - recorded}

