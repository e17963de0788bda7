"""`dataplane show TOPOLOGY`: the file a topology comes from and what it describes, as text.

Students read what they run: the topology's own text first (a shipped one is otherwise hidden in the
installed package), then the network it describes as the loader understood it: every node with its
kind, program and addresses, every link with its MTU, latency, bandwidth, queue and loss, and the
traffic. Nothing is simulated.
"""

from __future__ import annotations

import os

from ..protocols.packets import mac_str
from .topology import Topology
from .units import format_duration as _seconds
from .units import format_rate


def describe(topo: Topology) -> str:
    """The network of a loaded topology, one line per node, interface, link and traffic item."""
    out = [f"{topo.name}: {len(topo.nodes)} nodes, {len(topo.links)} links", "", "nodes:"]
    width = max((len(n) for n in topo.nodes), default=0)
    for name, node in topo.nodes.items():
        extra = ""
        if node.program:
            extra = f"  runs {os.path.basename(node.program)}"
            if isinstance(node.entries, str):
                extra += f" (entries: {node.entries if node.entries == 'auto' else os.path.basename(node.entries)})"
        out.append(f"  {name:<{width}}  {node.kind}{extra}")
        for iface in node.interfaces.values():
            addresses = ([str(iface.ipv4)] if iface.ipv4 else []) + [str(a) for a in iface.ipv6]
            out.append(f"  {'':<{width}}    {iface.name} (port {iface.port}, {mac_str(iface.mac)})"
                       + (f": {' '.join(addresses)}" if addresses else ""))
    out += ["", "links:"]
    ends = [f"{l.a[0]}:{l.a[1]} -- {l.b[0]}:{l.b[1]}" for l in topo.links]
    width = max((len(e) for e in ends), default=0)
    for link, end in zip(topo.links, ends):
        out.append(f"  {end:<{width}}  {link_properties(link)}")
    if topo.traffic:
        out += ["", "traffic:"]
        for t in topo.traffic:
            out.append(f"  {traffic_item(t)}")
    return "\n".join(out)


def traffic_item(t) -> str:
    """One traffic item as a line: 'at 3 s: ping h1 -> h2 (count 2, size 2000)'."""
    if t.kind == "send":
        from .craft import describe_send
        return f"at {_seconds(t.at_ns)}: send {describe_send(t.params)}"
    if t.kind == "pattern":
        from .patterns import describe
        return f"at {_seconds(t.at_ns)}: pattern {describe(t.params)}"
    ends = f" {t.params['from']} -> {t.params['to']}" if "from" in t.params else ""
    params = ", ".join(k if v is True else f"{k} {_seconds(v) if k == 'interval' else v}"
                       for k, v in t.params.items() if k not in ("from", "to") and v is not False)
    return f"at {_seconds(t.at_ns)}: {t.kind}{ends}" + (f" ({params})" if params else "")


def link_properties(link) -> str:
    """MTU, latency, bandwidth, queue and loss of a link, as a run's summary would state them."""
    bandwidth = "unlimited" if link.bandwidth_bps is None else format_rate(link.bandwidth_bps, 6)
    loss = f", loss {link.loss:g}" if link.loss else ""
    return (f"MTU {link.mtu}, latency {_seconds(link.latency_ns)}, bandwidth {bandwidth}, "
            f"queue {link.queue} frames{loss}")

