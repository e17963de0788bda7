"""Per-link, per-direction counters of a run: frames and bytes put on the wire, frames the link dropped.

    stats = link_stats(net)            # after net.run()
    [(s.link, s.src, s.dst, s.frames) for s in stats if s.frames]
    print(render_link_stats(stats))    # what `dataplane run TOPO --link-stats` prints

The links count as they go (sim.LinkEnd: sent, bytes, dropped); this only
reads them. A frame counts where it was sent: `frames` are the frames that
went on the wire (a frame lost on the way, at random or because the link
went down, counts there and also in `dropped`), `dropped` every frame the
link dropped (queue full, larger than the MTU, loss, link down).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LinkDirection:
    """One direction of one link: from `src` (node:interface) to `dst`."""
    link: str                 # the link's name, as in captures and the shell's `link` command
    src: str
    dst: str
    frames: int
    bytes: int
    dropped: int


def link_stats(net) -> list[LinkDirection]:
    """Both directions of every link, in the order of the topology's links (each link's first end first)."""
    out = []
    for (name, link), spec in zip(net.links.items(), net.topo.links):
        ends = [f"{node}:{iface}" for node, iface in (spec.a, spec.b)]
        for end, (src, dst) in zip(link.ends.values(), (ends, ends[::-1])):
            out.append(LinkDirection(name, src, dst, end.sent, end.bytes, end.dropped))
    return out


def render_link_stats(stats: list[LinkDirection]) -> str:
    """A table with one line per link direction that sent or dropped a frame."""
    used = [s for s in stats if s.frames or s.dropped]
    if not used:
        return "link directions with traffic: none"
    rows = [(s.link, f"{s.src} -> {s.dst}", f"{s.frames:,}", f"{s.bytes:,}", f"{s.dropped:,}") for s in used]
    head = ("link", "direction", "frames", "bytes", "dropped")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = [f"link directions with traffic: {len(used)} of {len(stats)}"]
    for r in [head] + rows:
        lines.append("  " + "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)
