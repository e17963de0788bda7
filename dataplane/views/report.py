"""The teaching report: one self-contained HTML file of a run, to step through in a browser.

    recording = Recording(net, keep_bytes=KEEP_BYTES)     # views/record.py, before the run
    net.run()
    write_report("run.html", recording.data(), net.topo)

The file holds everything it shows (inline CSS, JS and the topology's SVG; the page's Content-Security-Policy
forbids any network access) and opens by double-click in Chromium and Firefox. Its views: the topology with
the selected packet's path drawn hop by hop and its drops marked; the event list (time, device, from / to,
protocol, summary; filters by protocol and by host or flow; j / k or the arrow keys step through it; only
the rows in sight are drawn, so a run of thousands of events scrolls smoothly); the layers a device
received and sent, with what it did at each layer and the P4 table or action (its source line shown
inline); a frame's encapsulation as nested boxes and its bytes coloured by header and field; fragments;
TCP and SCTP conversations as ladder diagrams with each end's state; ICMP errors against the packet they
quote. `#event=ID` (and `&view=layers|encapsulation|fragments|conversations|icmp`) in the address selects
an event and a view on load.

The run's data is in `<script type="application/json" id="dataplane-run">`: the recording's
`dataplane-views/1` dict (see views/record.py) plus what views/report_data.py derives (`sources`,
`fragments`, `conversations`, `icmp_errors`), with `"report": "dataplane-report/1"`. Read it back with
`read_run(html)`.

The page's static parts are package files next to this module (report.html, report.css, report.js).
"""

from __future__ import annotations

import json
import re
from importlib import resources

from .report_data import derive
from .topology_svg import render_svg

FORMAT = "dataplane-report/1"
KEEP_BYTES = 2000            # frames whose bytes the report keeps (their hex dumps)
KEEP_DETAIL = 4000           # frames whose layers the report keeps (and their events' pipeline traces)
DERIVED_SHOWN = 300          # fragmented datagrams, conversations, ICMP errors listed
_PLACEHOLDER = re.compile(r"@@(TITLE|CSS|SVG|DATA|JS)@@")
_DATA = re.compile(r'<script type="application/json" id="dataplane-run">(.*?)</script>', re.S)


def _static(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script_json(value) -> str:
    """JSON safe inside a <script> element: no `</script>`, `<!--` or `]]>` can end or change it. `<`, `>`
    and `&` only occur inside JSON strings, where \\u escapes mean the same characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def report_data(data: dict, topo, keep_detail: int = KEEP_DETAIL) -> dict:
    """The recording's data with what the report derives from it (see report_data.py), trimmed to a size a
    browser opens quickly: frames after the first `keep_detail` lose their layers (`"trimmed": true`) and
    their events their pipeline trace and field changes; the derived lists keep their first
    `DERIVED_SHOWN` items. `detail_kept` and `trimmed` say what was left out."""
    out = dict(data)
    out["report"] = FORMAT
    out.update(derive(data, topo))
    trimmed = {"frames": 0, "fragments": 0, "conversations": 0, "icmp_errors": 0}
    if len(data["frames"]) > keep_detail:
        out["frames"] = data["frames"][:keep_detail] + [
            {"length": f["length"], "bytes": None, "summary": f["summary"], "protocol": f["protocol"], "layers": [],
             "trimmed": True} for f in data["frames"][keep_detail:]]
        out["events"] = [_lighter(e) if e.get("frame") is not None and e["frame"] >= keep_detail else e
                         for e in data["events"]]
        trimmed["frames"] = len(data["frames"]) - keep_detail
    for key in ("fragments", "conversations", "icmp_errors"):
        if len(out[key]) > DERIVED_SHOWN:
            trimmed[key] = len(out[key]) - DERIVED_SHOWN
            out[key] = out[key][:DERIVED_SHOWN]
    out["detail_kept"] = min(keep_detail, len(data["frames"]))
    out["trimmed"] = trimmed
    return out


def _lighter(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in ("pipeline", "changes")}


def render_report(data: dict, topo) -> str:
    """The whole HTML page for a run's recorded data (a Recording's data()) on its topology."""
    from html import escape
    parts = {"TITLE": escape(f"dataplane report: {topo.name}"), "CSS": _static("report.css"),
             "SVG": render_svg(topo), "DATA": script_json(report_data(data, topo)), "JS": _static("report.js")}
    # One pass over the template: text put in is never searched for placeholders again.
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _static("report.html"))


def write_report(path: str, data: dict, topo) -> int:
    """Write the report; its size in bytes."""
    page = render_report(data, topo)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return len(page.encode("utf-8"))


def read_run(html: str) -> dict:
    """The run's data embedded in a report page."""
    m = _DATA.search(html)
    if m is None:
        raise ValueError("no dataplane-run data in this page")
    return json.loads(m.group(1))
