"""Rich display in Jupyter: the HTML behind `_repr_html_` of topologies, networks, run summaries and results.

    topo = load_topology("line.yaml")
    topo                      # in a notebook: the topology picture and its nodes and links
    net = Network(topo); net.schedule_traffic(); net.run()
    net.summary()             # the run's books as tables
    result(app)               # any application's result as a table of its fields
    read_pcap("caps/h1-r1.pcapng")[3]    # a packet: its layers as nested boxes, and its bytes
    dev.hops[0]               # what a device did with a frame: in, out, drops, each frame's layers

Each function returns an HTML fragment (not a page) with its own scoped
style, so that it sits in a notebook cell, and every text taken from the
topology or the run is escaped. The classes' `_repr_html_` methods only
call these, so the model classes stay free of HTML.
"""

from __future__ import annotations

import dataclasses
from html import escape

from .topology_svg import interface_lines, link_summary, render_svg

# One small style sheet, scoped by the .dataplane class so it touches nothing else in the notebook.
STYLE = """<style>
.dataplane{font:13px/1.4 system-ui,sans-serif}
.dataplane table{border-collapse:collapse;margin:4px 0 10px}
.dataplane th,.dataplane td{border:1px solid #ccd;padding:2px 8px;text-align:left;vertical-align:top}
.dataplane th{background:#eef}
.dataplane td.n{text-align:right;font-variant-numeric:tabular-nums}
.dataplane .problem{color:#a00;font-weight:bold}
.dataplane svg.topology{max-width:100%;height:auto}
.dataplane .node circle,.dataplane .node rect,.dataplane .node polygon{fill:#dde4f6;stroke:#335}
.dataplane .node.host rect{fill:#eef6e4}
.dataplane .node text{font-size:11px;text-anchor:middle}
.dataplane .link line{stroke:#889;stroke-width:2}
.dataplane .layer{border:1px solid #99a;border-left:4px solid #66a;margin:2px 0 2px 10px;padding:1px 6px}
.dataplane .layer .f{color:#445;font-size:12px}
.dataplane .hex{font:12px monospace;white-space:pre;color:#333}
.dataplane .link-label{font-size:9px;fill:#556;text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}
</style>"""


def _table(head: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="n">{escape(_text(c))}</td>' if i in numeric
                                    else f"<td>{escape(_text(c))}</td>" for i, c in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _text(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)


def topology_html(topo) -> str:
    """The picture, then the nodes and the links as tables."""
    nodes = [[name, spec.kind, "; ".join(interface_lines(spec))] for name, spec in topo.nodes.items()]
    links = [[link.name, f"{link.a[0]}:{link.a[1]}", f"{link.b[0]}:{link.b[1]}", link_summary(link)]
             for link in topo.links]
    return (f'{STYLE}<div class="dataplane"><b>{escape(topo.name)}</b>: {len(topo.nodes)} nodes, '
            f'{len(topo.links)} links<br>{render_svg(topo)}'
            + _table(["node", "kind", "interfaces"], nodes)
            + _table(["link", "from", "to", "properties"], links) + "</div>")


def summary_html(summary) -> str:
    """A run's books: frames on links, the fate of every frame at the nodes, drops by reason and by node."""
    from ..net.sim import FATES
    head = (f'<b>{escape(summary.name)}</b>: {summary.nodes} nodes, {summary.links} links; simulated '
            f'{summary.time_ns / 1e9:.6g} s, {summary.events:,} events')
    books = [["sent on links", summary.transmitted], ["arrived", summary.arrived],
             ["dropped on links", summary.link_drops], ["in flight", summary.on_links]]
    books += [[("kept for reassembly" if k == "reassembly" else k) + " at nodes", summary.fates.get(k, 0)]
              for k in FATES]
    out = [STYLE, '<div class="dataplane">', head, _table(["frames", "count"], books, {1})]
    if summary.drops:
        out.append(_table(["drop reason", "frames"], [[k.replace("_", " "), v] for k, v in summary.drops.items()],
                          {1}))
        out.append(_table(["node", "frames dropped"], [[k, v] for k, v in summary.drops_by_node.items()], {1}))
    notes = [escape(n) for n in summary.notes]
    notes += [f'<span class="problem">accounting problem (a bug in dataplane): {escape(p)}</span>'
              for p in summary.problems]
    if summary.stopped_by:
        notes.append(f"stopped: {escape(summary.stopped_by)}")
    if notes:
        out.append("<ul>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>")
    out.append("</div>")
    return "".join(out)


def network_html(net) -> str:
    """The topology; and the run's books once it has run."""
    html = topology_html(net.topo)
    if net.sim.events_run:
        html += summary_html(net.summary())
    return html


def result_html(res) -> str:
    """Any result dataclass (net/results.py) as a table of its fields; nested lists of dicts as sub-tables."""
    rows = []
    for f in dataclasses.fields(res):
        value = getattr(res, f.name)
        if isinstance(value, list) and value and (dataclasses.is_dataclass(value[0]) or isinstance(value[0], dict)):
            items = [dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for v in value]
            head = list(items[0])
            cell = _table(head, [[item.get(k) for k in head] for item in items])
            rows.append(f"<tr><th>{escape(f.name)}</th><td>{cell}</td></tr>")
        else:
            rows.append(f"<tr><th>{escape(f.name)}</th><td>{escape(_text(value))}</td></tr>")
    return (f'{STYLE}<div class="dataplane"><b>{escape(type(res).__name__)}</b><table>'
            + "".join(rows) + "</table></div>")


def frame_html(frame: bytes, title: str = "") -> str:
    """A frame as nested boxes, one per layer (views/layers.py: offsets and lengths, each field's value),
    and its bytes in hex."""
    from .layers import frame_layers
    layers = frame_layers(frame)
    children: dict = {}
    for i, layer in enumerate(layers):
        children.setdefault(layer.get("parent"), []).append(i)

    def box(i: int) -> str:
        layer = layers[i]
        fields = ", ".join(f"{f['name']}={f.get('text') or f['value']}" for f in layer["fields"])
        head = (f"<b>{escape(layer.get('title') or layer['name'])}</b> bytes {layer['offset']}-"
                f"{layer['offset'] + layer['length'] - 1} ({layer['length']})")
        problem = f' <span class="problem">{escape(layer["problem"])}</span>' if layer.get("problem") else ""
        inner = "".join(box(j) for j in children.get(i, []))
        return (f'<div class="layer">{head}{problem}' + (f'<div class="f">{escape(fields)}</div>' if fields else "")
                + inner + "</div>")
    rows = [f"{off:04x}  {frame[off:off + 16].hex(' ')}" for off in range(0, len(frame), 16)]
    return (f'{STYLE}<div class="dataplane">' + (f"<b>{escape(title)}</b> " if title else "")
            + f"{len(frame)} bytes" + "".join(box(i) for i in children.get(None, []))
            + f'<div class="hex">{escape(chr(10).join(rows))}</div></div>')


def hop_html(hop) -> str:
    """A device's handling of one frame (net/devices.py HopRecord): the frame in, each frame out, the drops."""
    parts = [frame_html(hop.frame, f"{hop.node} port {hop.port} in, at {hop.time_ns / 1e9:.9f} s")]
    for port, frame in hop.outputs:
        parts.append(frame_html(frame, f"{hop.node} port {port} out"))
    for reason, detail in hop.drops:
        text = getattr(reason, "value", str(reason)) + (f": {detail}" if detail else "")
        parts.append(f'{STYLE}<div class="dataplane"><span class="problem">dropped: {escape(text)}</span></div>')
    if hop.fate:
        parts.append(f'<div class="dataplane">fate: {escape(hop.fate)}</div>')
    return "".join(parts)
