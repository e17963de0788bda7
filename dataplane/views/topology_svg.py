"""A picture of a topology as SVG: nodes by kind, links with their MTU, latency and bandwidth.

    svg = render_svg(topo)            # a string: <svg ...>...</svg>, to inline in HTML
    xy = layout(topo)                 # node name -> (x, y) in the picture's units

The layout is deterministic: the same topology always gives the same
picture (no random placement), so reports can be compared and tested. It is
drawn the way network diagrams in textbooks are:

  - a chain (every node with at most two links, no cycle: `line`, two hosts
    on a switch) is one row, from its first end in name order;
  - a ring (the devices form one cycle, hosts hang off it: `ring`) is a
    circle in the cycle's order, each host outside its device;
  - anything else is in tiers by distance from the hosts: hosts at the
    bottom, the devices that serve them above, and so on up to the core (the
    k=4 fat-tree shows hosts, edge, aggregation and core as four rows). The
    order within a tier follows the tier above (the mean position of a
    node's neighbours there; names break ties in natural order, h2 before
    h10), which keeps links from crossing where the structure allows;
  - separate pieces of the network sit side by side.

Every element carries what a script needs to find it: `data-node` on a
node's group, `data-link` (the link's name, as in captures and `--link-stats`)
on a link's, and `data-a` / `data-b` for its ends; each has a `<title>` that
browsers show on hover (a node's interfaces with their MAC and addresses; a
link's ends, MTU, latency, bandwidth, queue and loss). Every text taken from
the topology is escaped.
"""

from __future__ import annotations

import os
import re
from collections import deque
from html import escape

# Picture units: one tier is TIER high, one slot is SLOT wide.
SLOT = 120
CHAIN_SLOT = 190           # a chain has room for its link labels
TIER = 130
RING_RADIUS_PER_NODE = 34
MARGIN = 60
SHAPES = {"host": "host", "router": "router", "switch": "switch", "p4": "p4"}
LABELS_UP_TO = 24          # above this many links, link labels are in the tooltips only (the fat-tree's 48)


def _natural(name: str) -> tuple:
    """Sort key: digit runs as numbers, so h2 comes before h10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def _neighbours(topo) -> dict[str, set[str]]:
    adj = {name: set() for name in topo.nodes}
    for link in topo.links:
        a, b = link.a[0], link.b[0]
        if a != b:
            adj[a].add(b)
            adj[b].add(a)
    return adj


def _components(adj: dict[str, set[str]]) -> list[list[str]]:
    seen, out = set(), []
    for start in sorted(adj, key=_natural):
        if start in seen:
            continue
        part, queue = [], deque([start])
        seen.add(start)
        while queue:
            n = queue.popleft()
            part.append(n)
            for m in adj[n]:
                if m not in seen:
                    seen.add(m)
                    queue.append(m)
        out.append(sorted(part, key=_natural))
    return out


def _is_chain(part: list[str], adj) -> bool:
    edges = sum(len(adj[n]) for n in part) // 2
    return all(len(adj[n]) <= 2 for n in part) and edges == len(part) - 1


def _chain_order(part: list[str], adj) -> list[str]:
    ends = [n for n in part if len(adj[n]) <= 1]
    order, prev, n = [], None, min(ends, key=_natural)
    while n is not None:
        order.append(n)
        nxt = next((m for m in sorted(adj[n], key=_natural) if m != prev), None)
        prev, n = n, nxt
    return order


def _ring(part: list[str], adj) -> list[str] | None:
    """The devices of a ring in cycle order, when the nodes with more than one link form one cycle and
    every other node hangs off it; else None."""
    core = [n for n in part if len(adj[n]) > 1]
    if len(core) < 3 or any(len(adj[n] & set(core)) != 2 for n in core):
        return None
    order, prev, n = [], None, min(core, key=_natural)
    while n not in order:
        order.append(n)
        prev, n = n, min((m for m in adj[n] if m in core and m != prev), key=_natural)
    return order if len(order) == len(core) else None


def _ring_positions(order: list[str], part: list[str], adj, left: float) -> tuple[dict, float, float]:
    """Devices on a circle, each leaf outside its device; (positions, width, height)."""
    import math
    r = max(TIER, RING_RADIUS_PER_NODE * len(order) / math.pi * 2)
    outer = r + TIER * 0.8
    cx, cy = left + outer + SLOT / 2, MARGIN + outer + TIER / 2
    xy = {}
    for i, n in enumerate(order):
        angle = -math.pi / 2 + 2 * math.pi * i / len(order)
        xy[n] = (cx + r * math.cos(angle), cy + r * math.sin(angle))
        leaves = sorted((m for m in adj[n] if m not in order), key=_natural)
        for j, m in enumerate(leaves):
            a = angle + (j - (len(leaves) - 1) / 2) * 0.25
            xy[m] = (cx + outer * math.cos(a), cy + outer * math.sin(a))
    return xy, 2 * outer + SLOT, 2 * outer + TIER


def _tiers(part: list[str], adj, kinds: dict[str, str]) -> list[list[str]]:
    """Nodes by distance from the nearest host (tier 0 at the bottom); without hosts, from the nodes with
    the fewest links."""
    sources = [n for n in part if kinds[n] == "host"]
    if not sources:
        fewest = min(len(adj[n]) for n in part)
        sources = [n for n in part if len(adj[n]) == fewest]
    dist = {n: 0 for n in sources}
    queue = deque(sources)
    while queue:
        n = queue.popleft()
        for m in sorted(adj[n], key=_natural):
            if m not in dist:
                dist[m] = dist[n] + 1
                queue.append(m)
    tiers = [[] for _ in range(max(dist.values()) + 1)]
    for n in part:
        tiers[dist[n]].append(n)
    # Order each tier from the top down by its neighbours above, then once more from the bottom up.
    tiers = [sorted(t, key=_natural) for t in tiers]
    for i in range(len(tiers) - 2, -1, -1):
        tiers[i] = _by_neighbours(tiers[i], tiers[i + 1], adj)
    for i in range(1, len(tiers)):
        tiers[i] = _by_neighbours(tiers[i], tiers[i - 1], adj)
    return tiers


def _by_neighbours(tier: list[str], other: list[str], adj) -> list[str]:
    place = {n: i / max(1, len(other) - 1) for i, n in enumerate(other)}
    own = {n: i / max(1, len(tier) - 1) for i, n in enumerate(tier)}

    def key(n):
        near = [place[m] for m in adj[n] if m in place]
        return (sum(near) / len(near) if near else own[n], _natural(n))
    return sorted(tier, key=key)


def layout(topo) -> dict[str, tuple[float, float]]:
    """Node name -> (x, y): the centre of the node in picture units (y grows downwards)."""
    adj = _neighbours(topo)
    kinds = {name: spec.kind for name, spec in topo.nodes.items()}
    xy, left = {}, MARGIN
    for part in _components(adj):
        ring = None if len(part) < 3 or _is_chain(part, adj) else _ring(part, adj)
        if ring:
            placed, width, _ = _ring_positions(ring, part, adj, left)
            xy.update(placed)
            left += width
            continue
        chain = len(part) > 1 and _is_chain(part, adj)
        rows = [_chain_order(part, adj)] if chain else list(reversed(_tiers(part, adj, kinds)))
        slot = CHAIN_SLOT if chain else SLOT
        width = max(len(r) for r in rows)
        for level, row in enumerate(rows):
            shift = (width - len(row)) * slot / 2
            for i, name in enumerate(row):
                xy[name] = (left + shift + i * slot + slot / 2, MARGIN + level * TIER + TIER / 2)
        left += width * slot
    return xy


def _fmt_rate(bps: float | None) -> str:
    if bps is None:
        return "unlimited"
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:g} {unit}"
    return f"{bps:g} bit/s"


def _fmt_latency(ns: int) -> str:
    if ns % 1_000_000 == 0:
        return f"{ns // 1_000_000} ms"
    if ns % 1000 == 0:
        return f"{ns // 1000} µs"
    return f"{ns} ns"


def _mac(mac: int) -> str:
    return ":".join(f"{b:02x}" for b in mac.to_bytes(6, "big"))


def interface_lines(spec) -> list[str]:
    """A node's interfaces, one line each: name, port, MAC and addresses."""
    lines = []
    for iface in spec.interfaces.values():
        addrs = ([str(iface.ipv4)] if iface.ipv4 else []) + [str(a) for a in iface.ipv6]
        lines.append(f"{iface.name} (port {iface.port}, {_mac(iface.mac)})" + (": " + ", ".join(addrs) if addrs else ""))
    return lines


def _node_shape(kind: str, x: float, y: float) -> str:
    if kind == "router":
        return f'<circle cx="{x:g}" cy="{y:g}" r="22"/>'
    if kind == "switch":
        return f'<rect x="{x - 22:g}" y="{y - 18:g}" width="44" height="36"/>'
    if kind == "p4":
        return (f'<polygon points="{x - 24:g},{y:g} {x - 12:g},{y - 20:g} {x + 12:g},{y - 20:g} '
                f'{x + 24:g},{y:g} {x + 12:g},{y + 20:g} {x - 12:g},{y + 20:g}"/>')
    return f'<rect x="{x - 24:g}" y="{y - 16:g}" width="48" height="32" rx="6"/>'


def link_summary(link) -> str:
    """One line: MTU, latency, bandwidth (and loss when there is some)."""
    text = f"MTU {link.mtu}, {_fmt_latency(link.latency_ns)}, {_fmt_rate(link.bandwidth_bps)}"
    return text + (f", loss {link.loss:g}" if link.loss else "")


def _label_lines(link) -> tuple[str, str]:
    rest = f"{_fmt_latency(link.latency_ns)}, {_fmt_rate(link.bandwidth_bps)}"
    return f"MTU {link.mtu}", rest + (f", loss {link.loss:g}" if link.loss else "")


def render_svg(topo, positions: dict[str, tuple[float, float]] | None = None) -> str:
    """The topology as an SVG element (no XML declaration: it is meant to be inlined in HTML)."""
    xy = positions or layout(topo)
    width = max((x for x, _ in xy.values()), default=0) + SLOT / 2 + MARGIN
    height = max((y for _, y in xy.values()), default=0) + TIER / 2 + MARGIN / 2
    labelled = len(topo.links) <= LABELS_UP_TO
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="topology" viewBox="0 0 {width:g} {height:g}" '
           f'width="{width:g}" height="{height:g}" role="img" aria-label="{escape(topo.name)}">',
           '<g class="links">']
    for link in topo.links:
        (ax, ay), (bx, by) = xy[link.a[0]], xy[link.b[0]]
        ends = f"{link.a[0]}:{link.a[1]} - {link.b[0]}:{link.b[1]}"
        title = (f"{link.name}: {ends}\n{link_summary(link)}, queue {link.queue} frames")
        out.append(f'<g class="link" data-link="{escape(link.name)}" data-a="{escape(link.a[0])}" '
                   f'data-b="{escape(link.b[0])}"><title>{escape(title)}</title>'
                   f'<line x1="{ax:g}" y1="{ay:g}" x2="{bx:g}" y2="{by:g}"/>')
        if labelled:
            # Nearer the lower end: links fanning out of one node are apart there.
            t = 0.5 if ay == by else (0.68 if ay < by else 0.32)
            mx, my = ax + (bx - ax) * t, ay + (by - ay) * t
            mtu, rest = _label_lines(link)
            out.append(f'<text class="link-label" x="{mx:g}" y="{my - 18:g}">{escape(mtu)}'
                       f'<tspan x="{mx:g}" dy="11">{escape(rest)}</tspan></text>')
        out.append('</g>')
    out.append('</g><g class="nodes">')
    for name, spec in topo.nodes.items():
        x, y = xy[name]
        kind = SHAPES.get(spec.kind, "host")
        title = "\n".join([f"{name} ({spec.kind}" + (f", {os.path.basename(spec.program)}" if spec.program else "") + ")"]
                          + interface_lines(spec))
        out.append(f'<g class="node {kind}" data-node="{escape(name)}"><title>{escape(title)}</title>'
                   f'{_node_shape(kind, x, y)}<text x="{x:g}" y="{y + 4:g}">{escape(name)}</text></g>')
    out.append('</g></svg>')
    return "".join(out)
