"""`dataplane replay --report`: a replay's packets as a run's events (dataplane/views/replay_data.py), in the same
report as a network's run."""

from __future__ import annotations

import json

import pytest

from dataplane import cli
from dataplane.views.layers import covers
from dataplane.views.replay_data import ReplayRecording
from dataplane.views.report import read_run, render_report

scapy = pytest.importorskip("scapy.all")
from p4helpers import PROGRAMS  # noqa: E402

RUNTIME = {"target": "bmv2", "table_entries": [
    {"table": "MyIngress.ipv4_lpm", "default_action": True, "action_name": "MyIngress.drop", "action_params": {}},
    {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.2.0", 24]},
     "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:02:22", "port": 2}}]}


def _capture(tmp_path):
    from scapy.all import IP, UDP, Ether, wrpcap
    pkts = [Ether(src="08:00:00:00:01:11", dst="08:00:00:00:01:00") / IP(src="10.0.1.1", dst=dst) /
            UDP(sport=1234, dport=5678) / b"payload" for dst in ("10.0.2.7", "192.168.0.1", "10.0.2.8")]
    for i, p in enumerate(pkts):
        p.time = 1.0 + i
    path = tmp_path / "h1.pcap"
    wrpcap(str(path), pkts)
    runtime = tmp_path / "runtime.json"
    runtime.write_text(json.dumps(RUNTIME))
    return path, runtime


def test_replay_report_shows_each_packet_through_the_program(tmp_path, capsys):
    capture, runtime = _capture(tmp_path)
    page = tmp_path / "replay.html"
    assert cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "--runtime", str(runtime), "-i", f"1={capture}",
                     "--out-dir", str(tmp_path / "out"), "--report", str(page)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("replay: 3 packets in; out port 2: 2; dropped 1")
    assert f"report: {page} (" in out
    run = read_run(page.read_text())
    kinds = [e["kind"] for e in run["events"]]
    assert kinds == ["receive", "send", "receive", "drop", "receive", "send"]
    first, sent = run["events"][:2]
    assert first["from"] == "port 1" and sent["to"] == "port 2" and sent["caused_by"] == first["id"]
    assert first["time_ns"] == 1_000_000_000
    assert any(p["kind"] == "table" and p["table"] == "MyIngress.ipv4_lpm" and p["hit"] and p["source"]
               for p in first["pipeline"])
    ttl = next(c for c in sent["changes"] if c["field"] == "ttl")
    assert (ttl["old"], ttl["new"]) == (64, 63) and "basic_ipv4.p4:" in ttl["source"]
    assert "basic_ipv4.p4" in next(iter(run["sources"]))
    assert {n["name"] for n in run["nodes"]} == {"basic_ipv4.p4", "port 1", "port 2"}
    for f in run["frames"]:
        assert covers(f["layers"], bytes.fromhex(f["bytes"]))
    assert '<g class="link" data-link="port 2"' in page.read_text()


def test_a_long_replay_records_its_first_packets_and_counts_the_rest(tmp_path):
    from dataplane.build import build
    from dataplane.controlplane.loader import load_file
    from dataplane.runtime.device import Device
    _, runtime = _capture(tmp_path)
    program = build(str(PROGRAMS / "basic_ipv4.p4"), [], {})
    device = Device(program, name="s1")
    load_file(device, str(runtime))
    rec = ReplayRecording(device, str(PROGRAMS / "basic_ipv4.p4"), keep=2)
    from scapy.all import IP, Ether, raw
    frame = raw(Ether() / IP(dst="10.0.2.1"))
    for i in range(5):
        rec.add(i, 1, frame, None if rec.full else device.process(1, frame, trace=True))
    data = rec.data()
    assert data["packets_not_recorded"] == 3
    assert [e["kind"] for e in data["events"]] == ["receive", "send", "receive", "send"]
    assert "basic_ipv4.p4" in render_report(data, rec.topology())
