"""The HTML report (dataplane/views/report.py, report_data.py): one self-contained page whose embedded JSON is
the run, with the views derived from its events (fragments, conversations, ICMP errors). The page in a real
browser is tested in test_report_browser.py."""

from __future__ import annotations

import json
import re

import pytest

from dataplane.cli import main
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.views.layers import covers
from dataplane.views.record import Recording
from dataplane.views.report import FORMAT, KEEP_BYTES, read_run, render_report, report_data, script_json


def record(name: str, keep_bytes: int | None = KEEP_BYTES):
    topo = load_topology(name)
    net = Network(topo)
    recording = Recording(net, keep_bytes=keep_bytes)
    net.schedule_traffic()
    net.run()
    return recording.data(), topo


@pytest.fixture(scope="module")
def line():
    data, topo = record("line")
    return data, topo, render_report(data, topo)


def test_the_embedded_json_is_the_run_and_matches_its_ledger(line):
    data, _, html = line
    run = read_run(html)
    assert run["report"] == FORMAT and run["format"] == data["format"]
    assert run["events"] == json.loads(json.dumps(data["events"]))
    kinds = [e["kind"] for e in run["events"]]
    assert kinds.count("send") == run["ledger"]["transmitted"]
    assert kinds.count("receive") == run["ledger"]["arrived"]
    assert [e["id"] for e in run["events"]] == list(range(len(run["events"])))


def test_every_kept_frame_is_covered_exactly_by_its_layers(line):
    run = read_run(line[2])
    kept = [f for f in run["frames"] if f["bytes"] is not None]
    assert kept, "no frame kept its bytes"
    for f in kept:
        assert covers(f["layers"], bytes.fromhex(f["bytes"])), f["summary"]


def test_the_page_is_self_contained(line):
    html = line[2]
    assert "default-src 'none'" in html                  # the browser refuses any network access
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@@" not in html.split('id="dataplane-run"')[0]          # every placeholder was filled
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="topology"') == 1
    assert 'id="script-errors"' in html
    assert "function drawPath" in html and ".event-row" in html     # the script and the style are inline


def test_text_from_the_run_cannot_end_the_script_element():
    hostile = "</script><!--<script>alert(1)</script>&\u2028"
    text = script_json({"t": hostile})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text) == {"t": hostile}
    data, topo = record("single-switch")
    data["events"].append({"id": len(data["events"]), "time_ns": 0, "kind": "app", "node": "h1", "app": "x",
                           "text": hostile})
    html = render_report(data, topo)
    assert html.count("</script>") == 3                  # the error catcher, the data, the page's script
    assert read_run(html)["events"][-1]["text"] == hostile


def test_a_tcp_connection_is_a_ladder_with_each_ends_state(line):
    run = read_run(line[2])
    [conv] = run["conversations"]
    assert conv["protocol"] == "TCP" and conv["a"]["node"] == "h1" and conv["b"]["node"] == "h2"
    assert conv["b"]["initial"] == "LISTEN"
    segs = conv["segments"]
    assert [s["label"] for s in segs[:2]] == ["SYN seq=0 ack=0 len=0", "SYN,ACK seq=0 ack=1 len=0"]
    assert (segs[0]["state_a"], segs[0]["state_b"]) == ("SYN-SENT", "SYN-RECEIVED")
    assert (segs[1]["state_a"], segs[1]["state_b"]) == ("ESTABLISHED", "SYN-RECEIVED")
    assert segs[2]["state_b"] == "ESTABLISHED"
    passed_a = [x for s in segs for x in s["states_a"]]
    passed_b = [x for s in segs for x in s["states_b"]]
    assert {"FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"} <= set(passed_a)            # the active close
    assert {"CLOSE-WAIT", "LAST-ACK", "CLOSED"} <= set(passed_b)                # the passive close
    assert segs[-1]["states_b"] == ["CLOSED"] and segs[-1]["state_a"] == "TIME-WAIT"
    for s in segs:
        sent = run["events"][s["send"]]
        assert sent["kind"] == "send" and sent["node"] == (conv["a"] if s["dir"] == "a>b" else conv["b"])["node"]
        if s["receive"] is not None:
            assert run["events"][s["receive"]]["kind"] == "receive"


def test_an_sctp_association_shows_its_four_way_setup():
    data, topo = record("dual-stack")
    run = report_data(data, topo)
    [assoc] = [c for c in run["conversations"] if c["protocol"] == "SCTP"]
    labels = [s["label"] for s in assoc["segments"][:4]]
    assert labels == ["INIT", "INIT ACK", "COOKIE ECHO", "COOKIE ACK"]
    assert assoc["segments"][0]["state_a"] == "COOKIE-WAIT"
    assert assoc["segments"][1]["state_a"] == "COOKIE-ECHOED"
    assert assoc["segments"][3]["states_a"][0] == "ESTABLISHED"       # then SHUTDOWN-PENDING: the app closes at once
    assert assoc["segments"][2]["states_b"] == ["ESTABLISHED"]


def test_fragments_show_where_each_was_made_and_where_the_datagram_was_reassembled(line):
    run = read_run(line[2])
    d = next(d for d in run["fragments"] if d["src"] == "10.0.1.1" and d["version"] == "IPv4")
    made = {(x["made_at"], x["made_by"]) for x in d["fragments"]}
    assert made == {("h1", "host"), ("r2", "router")}           # h1 fragments, r2 cuts the first one again
    assert d["reassembled_at"]["node"] == "h2"
    assert d["data_length"] == 2008                             # ping -s 2000: 8 bytes of ICMP header, 2000 of data
    for x in d["fragments"]:
        assert run["events"][x["event"]]["kind"] == "send"
    assert any(v["version"] == "IPv6" for v in run["fragments"])  # h1 fragments at the source after Packet Too Big


def test_icmp_errors_are_paired_with_the_packet_they_quote(line):
    run = read_run(line[2])
    assert run["icmp_errors"]
    for err in run["icmp_errors"]:
        sent = run["events"][err["event"]]
        quoted = run["events"][err["quoted_event"]]
        assert sent["kind"] == "send" and quoted["kind"] == "receive" and quoted["node"] == sent["node"]
        inner = [l for l in run["frames"][sent["frame"]]["layers"] if l.get("quoted") and l["name"] in ("ipv4", "ipv6")]
        outer = [l for l in run["frames"][quoted["frame"]]["layers"] if l["name"] in ("ipv4", "ipv6")]
        src = lambda layer: next(f["value"] for f in layer["fields"] if f["name"] == "srcAddr")
        assert src(inner[0]) == src(outer[0])


def test_program_sources_are_embedded_for_the_source_lines(line):
    run = read_run(line[2])
    wheres = {c["source"].rsplit(", ", 1)[-1] for e in run["events"] for c in e.get("changes", ()) if c.get("source")}
    assert wheres
    for where in wheres:
        path, lineno = where.rsplit(":", 1)
        assert len(run["sources"][path].splitlines()) >= int(lineno)


def test_a_large_run_keeps_the_first_frames_detail_and_says_so():
    data, topo = record("line")
    run = report_data(data, topo, keep_detail=10)
    assert run["detail_kept"] == 10 and run["trimmed"]["frames"] == len(data["frames"]) - 10
    assert all(f["layers"] for f in run["frames"][:10])
    assert all(f["trimmed"] and f["layers"] == [] and f["summary"] for f in run["frames"][10:])
    assert len(run["events"]) == len(data["events"])
    assert not any("pipeline" in e for e in run["events"] if e.get("frame") is not None and e["frame"] >= 10)


def test_report_option_writes_the_page(tmp_path, capsys):
    out = tmp_path / "ping.html"
    assert main(["ping", "line", "h1", "h2", "-c", "1", "--report", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"report: {out} (" in text and "1 packets transmitted, 1 received" in text
    run = read_run(out.read_text())
    assert run["topology"] == "three routers in a line"
    assert sum(1 for e in run["events"] if e["kind"] == "app" and "icmp_seq=1" in e["text"]) == 1


def test_report_into_a_missing_directory_is_a_one_line_error(tmp_path, capsys):
    assert main(["ping", "line", "h1", "h2", "-c", "1", "--report", str(tmp_path / "no" / "r.html")]) != 0
    err = capsys.readouterr().err
    assert "cannot write the report" in err and "Traceback" not in err


def test_a_segment_lost_on_the_way_leaves_the_end_that_never_saw_it_as_it_was():
    """A TCP transfer over a link that loses a third of its frames: some segments have a send and no receive.
    The ladder still gives each end its states (the receiving end's are empty for a lost segment)."""
    from dataplane.net.topology import load_topology_text
    topo = load_topology_text("""
seed: 4
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - {ends: [h1:eth0, h2:eth0], loss: 0.3}
traffic:
  - {tcp: {from: h1, to: h2, bytes: 20000}}
""", "lossy.yaml")
    net = Network(topo)
    recording = Recording(net, keep_bytes=KEEP_BYTES)
    net.schedule_traffic()
    net.run()
    [ladder] = report_data(recording.data(), topo)["conversations"]
    lost = [s for s in ladder["segments"] if s["receive"] is None]
    assert lost, "the seed gives losses"
    for s in lost:
        receiver = "b" if s["dir"] == "a>b" else "a"
        assert s["states_" + receiver] == [] and s["state_" + receiver] == ""
