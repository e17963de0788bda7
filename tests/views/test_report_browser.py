"""The HTML report in a real browser: headless Chromium opens each shipped topology's report, runs its scripts
and dumps the DOM, which must show no script error and every view rendered (the path drawn on the picture,
the layer view of the selected hop, the encapsulation boxes and bytes, the ladder of a TCP connection); a
screenshot of each view is kept as an artefact (its path is printed: run pytest with -s to see it).

One browser launch per page: Chromium takes a few seconds each on a small machine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.views.record import Recording
from dataplane.views.report import KEEP_BYTES, read_run, render_report

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"
# Floods and 500 routers take tens of seconds to run and give pages of 2 to 25 MB; the others are opened here.
HEAVY = {"syn-flood", "frag-flood", "routers-500"}
SHIPPED = sorted(p.stem for p in TOPOLOGIES.glob("*.yaml") if p.stem not in HEAVY)
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
TIMEOUT = 120

pytestmark = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium (the chromium package) installed")


def record(name: str):
    topo = load_topology(name)
    net = Network(topo)
    recording = Recording(net, keep_bytes=KEEP_BYTES)
    net.schedule_traffic()
    net.run()
    return recording.data(), topo


def _browser(page: Path, fragment: str, *args: str) -> subprocess.CompletedProcess:
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--virtual-time-budget=3000", *args, f"{page.as_uri()}#{fragment}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)


def dump_dom(page: Path, fragment: str) -> str:
    done = _browser(page, fragment, "--dump-dom")
    assert "<body" in done.stdout, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, fragment: str, png: Path, size: str = "1400,1200") -> Path:
    _browser(page, fragment, f"--screenshot={png}", f"--window-size={size}")
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no screenshot of {page}#{fragment}"
    print(f"screenshot: {png}")
    return png


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """name -> (page path, the run's data as JSON would give it); made once per topology."""
    folder = tmp_path_factory.mktemp("reports")
    made = {}

    def get(name: str):
        if name not in made:
            data, topo = record(name)
            page = folder / f"{name}.html"
            page.write_text(render_report(data, topo), encoding="utf-8")
            made[name] = (page, json.loads(json.dumps(data)))
        return made[name]
    return get


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-screenshots")
    print(f"\nreport screenshots in {folder}")
    return folder


def a_forwarded_hop(data: dict) -> int:
    """A device that received a frame and sent it on: every view has something to show there."""
    kinds = {n["name"]: n["kind"] for n in data["nodes"]}
    for e in data["events"]:
        if e["kind"] == "receive" and kinds[e["node"]] != "host" and e["fate"] == "forwarded" and e["caused"]:
            return e["id"]
    return next(e["id"] for e in data["events"] if e["kind"] == "receive")


def script_errors(dom: str) -> list[str]:
    return re.findall(r'<div class="script-error">(.*?)</div>', dom)


def view(dom: str, name: str) -> str:
    """The inner HTML of one view's element in the dumped DOM (the views follow each other in the page)."""
    start = dom.index(f'id="view-{name}"')
    ends = [dom.find('id="view-', start + 1), dom.find('id="tooltip"', start)]
    return dom[start:min(e for e in ends if e > 0)]


@pytest.mark.parametrize("name", SHIPPED)
def test_the_report_opens_with_no_script_error_and_every_view_rendered(name, reports):
    page, data = reports(name)
    event = a_forwarded_hop(data)
    dom = dump_dom(page, f"event={event}")
    assert script_errors(dom) == []
    assert 'data-ready="true"' in dom, "the page's script did not finish"
    # The embedded JSON as the browser has it: it parses and is the run.
    assert read_run(dom)["events"] == data["events"]
    # The selected event's row, and only the rows in sight (the list is virtualised).
    rows = re.findall(r'class="event-row[^"]*"[^>]*data-event="(\d+)"', dom)
    assert str(event) in rows and len(rows) <= 80
    assert re.search(rf'class="event-row selected"[^>]*data-event="{event}"', dom)
    # The path: the packet's hops drawn on the picture, the links it took marked.
    assert dom.count('class="path-hop') >= 1
    assert re.search(r'class="link on-path"', dom)
    # The layer view of the hop: what came in and what went out, layer by layer, with what the device did.
    layers = view(dom, "layers")
    inside, outside = layers.split('class="out-layers"')
    assert 'data-layer="ethernet"' in inside and 'data-layer="ethernet"' in outside
    assert 'class="sentence' in outside
    # Encapsulation: nested boxes and the coloured bytes.
    encap = view(dom, "encapsulation")
    assert encap.count('class="box"') >= 2 and 'class="byte"' in encap
    if data["events"] and any(f["bytes"] for f in data["frames"]):
        assert re.search(r'data-field="\d+"', encap)
    # Every view has content, and the TCP ladder is drawn when the run has a connection.
    for name_ in ("fragments", "conversations", "icmp"):
        assert len(view(dom, name_)) > 60
    if read_run(dom)["icmp_errors"]:                   # an error beside the packet it quotes, and what differs
        assert 'data-icmp-error=' in view(dom, "icmp") and 'class="quote-differences"' in view(dom, "icmp")
    if any(_is_tcp(f) for f in data["frames"]):
        assert 'class="ladder"' in dom and 'class="segment-row' in dom


def _is_tcp(frame: dict) -> bool:
    return frame["protocol"] == "TCP"


def test_a_p4_hop_links_its_tables_and_actions_to_their_source_lines(reports):
    page, data = reports("line")
    dom = dump_dom(page, f"event={a_forwarded_hop(data)}")
    layers = view(dom, "layers")
    assert re.search(r'data-source="programs/[a-z_0-9]+\.p4:\d+"', layers)
    assert 'class="source-line"' in layers                      # the source line, shown inline
    assert "ttl 64 \u2192 63" in layers or "ttl 64 → 63" in layers


def test_the_address_chooses_the_view_and_the_filter(reports):
    page, data = reports("line")
    dom = dump_dom(page, "find=tcp%20h2&view=conversations")
    assert script_errors(dom) == []
    assert re.search(r'<div id="view-conversations" class="view" data-view="conversations">', dom)   # not hidden
    rows = re.findall(r'class="event-row[^"]*"[^>]*data-event="(\d+)"', dom)
    assert rows and all(data["frames"][data["events"][int(i)]["frame"]]["protocol"] == "TCP"
                        for i in rows if data["events"][int(i)].get("frame") is not None)


def test_a_screenshot_of_each_view(reports, shots):
    page, data = reports("line")
    run = read_run(page.read_text())
    hop = a_forwarded_hop(data)
    fragment = run["fragments"][0]["fragments"][1]["event"]
    segment = run["conversations"][0]["segments"][0]["send"]
    error = run["icmp_errors"][0]["event"]
    for fragment_, file in ((f"event={hop}", "line-layers.png"), (f"event={hop}&view=encapsulation", "line-encapsulation.png"),
                            (f"event={fragment}&view=fragments", "line-fragments.png"),
                            (f"event={segment}&view=conversations", "line-conversations.png"),
                            (f"event={error}&view=icmp", "line-icmp.png")):
        assert screenshot(page, fragment_, shots / file).stat().st_size > 20_000
    page, data = reports("dual-stack")
    sctp = next(c for c in read_run(page.read_text())["conversations"] if c["protocol"] == "SCTP")
    screenshot(page, f"event={sctp['segments'][0]['send']}&view=conversations", shots / "dual-stack-sctp.png")
    page, data = reports("fat-tree")
    screenshot(page, f"event={a_forwarded_hop(data)}", shots / "fat-tree-layers.png", size="1600,1200")


HARNESS = """<!DOCTYPE html><html><body><pre id="out">pending</pre>
<iframe id="f" src="REPORT#event=START" width="1200" height="900"></iframe>
<script>
// Drives the report in the frame as a user would: keys, then a scroll of the event list.
var frame = document.getElementById("f"), out = [];
function selected(doc) { var r = doc.querySelector(".event-row.selected"); return r ? r.getAttribute("data-event") : "none"; }
window.onerror = function (m) { document.getElementById("out").textContent = "harness error: " + m; };
frame.addEventListener("load", function () {
  var win = frame.contentWindow, doc = frame.contentDocument;
  function key(k) { doc.dispatchEvent(new win.KeyboardEvent("keydown", {key: k, bubbles: true})); out.push(k + ":" + selected(doc)); }
  var ttl = doc.querySelector('#view-encapsulation .byte[data-offset="22"]');      // an IPv4 frame's TTL
  ttl.dispatchEvent(new win.MouseEvent("mouseover", {bubbles: true, clientX: 10, clientY: 10}));
  out.push("hover:" + doc.getElementById("tooltip").textContent.split("\\n").join("|"));
  key("j"); key("j"); key("ArrowDown"); key("k"); key("End"); key("Home");
  var list = doc.getElementById("event-list");
  list.scrollTop = 600 * 22;
  list.dispatchEvent(new win.Event("scroll"));
  win.requestAnimationFrame(function () {
    var rows = Array.prototype.map.call(doc.querySelectorAll("#event-rows .event-row"), function (r) { return r.getAttribute("data-event"); });
    out.push("rows:" + rows.length + ":" + rows[0] + "-" + rows[rows.length - 1]);
    out.push("errors:" + doc.querySelectorAll(".script-error").length);
    out.push("address:" + win.location.hash);
    document.getElementById("out").textContent = out.join("\\n");
  });
});
</script></body></html>"""


def test_keys_step_through_the_events_and_the_list_draws_the_rows_in_sight(reports, tmp_path):
    page, data = reports("line")
    harness = page.parent / "harness.html"
    start = a_forwarded_hop(data)
    harness.write_text(HARNESS.replace("REPORT", page.name).replace("START", str(start)))
    done = _browser(harness, "", "--dump-dom", "--allow-file-access-from-files")
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1) != "pending", done.stdout[-500:] + done.stderr[-2000:]
    lines = found.group(1).split("\n")
    hover = lines.pop(0)                                  # the hex dump names the field under the pointer
    assert hover.startswith("hover:byte 22|IPv4 ") and "|ipv4.ttl = 64  [bits 176+8]" in hover
    last = len(data["events"]) - 1
    assert lines[:6] == [f"j:{start + 1}", f"j:{start + 2}", f"ArrowDown:{start + 3}", f"k:{start + 2}", f"End:{last}",
                         "Home:0"]
    count, first, end = re.fullmatch(r"rows:(\d+):(\d+)-(\d+)", lines[6]).groups()
    assert int(count) <= 80 and int(first) <= 600 <= int(end)          # only the rows near the scroll position
    assert lines[7] == "errors:0"
    assert lines[8] == "address:#event=0"                                # the address follows the selection


def test_a_replay_report_opens_with_the_path_through_the_device(tmp_path):
    from dataplane.build import build
    from dataplane.runtime.device import Device
    from dataplane.views.replay_data import ReplayRecording
    scapy = pytest.importorskip("scapy.all")
    programs = Path(__file__).resolve().parents[2] / "programs"
    program = str(programs / "basic_ipv4.p4")
    device = Device(build(program, [], {}), name="s1")
    device.tables["MyIngress.ipv4_lpm"].set_default("MyIngress.ipv4_forward",
                                                    (0x080000000222, 2))
    rec = ReplayRecording(device, program)
    frame = scapy.raw(scapy.Ether() / scapy.IP(dst="10.0.2.1") / scapy.UDP() / b"x")
    rec.add(0, 1, frame, device.process(1, frame, trace=True))
    page = tmp_path / "replay.html"
    page.write_text(render_report(rec.data(), rec.topology()))
    dom = dump_dom(page, "event=0")
    assert script_errors(dom) == [] and 'data-ready="true"' in dom
    assert dom.count('class="path-hop') == 1 and 'class="link on-path" data-link="port 2"' in dom
    assert "ttl 64 \u2192 63" in view(dom, "layers")


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_the_large_reports_open_with_no_script_error(name, reports):
    """The floods and the 500-router network: pages of 2 to 25 MB, trimmed as the report says; they open,
    their script finishes without an error, and the list draws only the rows in sight."""
    page, data = reports(name)
    dom = dump_dom(page, f"event={a_forwarded_hop(data)}")
    assert script_errors(dom) == []
    assert 'data-ready="true"' in dom, "the page's script did not finish"
    assert len(re.findall(r'class="event-row[^"]*"[^>]*data-event="(\d+)"', dom)) <= 80
