"""`dataplane replay`: pcap in, one pcap per egress port out, a one-line summary."""

from __future__ import annotations

import json

from scapy.all import IP, UDP, Ether, raw, rdpcap, wrpcap

from dataplane import cli
from dataplane.pcap import PcapWriter, read_pcap
from p4helpers import PROGRAMS

RUNTIME = {
    "target": "bmv2",
    "table_entries": [
        {"table": "MyIngress.ipv4_lpm", "default_action": True, "action_name": "MyIngress.drop",
         "action_params": {}},
        {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.2.0", 24]},
         "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:02:22", "port": 2}},
        {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.3.0", 24]},
         "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:03:33", "port": 3}},
    ],
}


def _packet(dst: str, ttl: int = 64) -> bytes:
    return raw(Ether(src="08:00:00:00:01:11", dst="08:00:00:00:01:00") / IP(src="10.0.1.1", dst=dst, ttl=ttl) /
               UDP(sport=1234, dport=5678) / b"payload")


def test_replay_writes_one_pcap_per_port(tmp_path, capsys):
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(RUNTIME))
    inp = tmp_path / "h1.pcap"
    pkts = [Ether(_packet("10.0.2.7")), Ether(_packet("10.0.3.9")), Ether(_packet("10.0.2.8")),
            Ether(_packet("192.168.0.1"))]
    for i, p in enumerate(pkts):
        p.time = 1.0 + i
    wrpcap(str(inp), pkts)
    out = tmp_path / "out"
    assert cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "--runtime", str(runtime), "-i", f"1={inp}",
                     "--out-dir", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("replay: 4 packets in; out port 2: 2, port 3: 1; dropped 1 (mark_to_drop 1);")
    assert line.endswith("packets/s")
    port2 = rdpcap(str(out / "port2.pcap"))
    assert len(port2) == 2
    first = port2[0]
    assert first[Ether].dst == "08:00:00:00:02:22" and first[Ether].src == "08:00:00:00:01:00"
    assert first[IP].ttl == 63 and first[IP].dst == "10.0.2.7"
    # The checksum was recomputed correctly: scapy recomputes it to the same value.
    again = Ether(raw(first))
    del again[IP].chksum
    assert Ether(raw(again))[IP].chksum == first[IP].chksum
    assert float(first.time) == 1.0          # output timestamps follow the input's
    assert len(rdpcap(str(out / "port3.pcap"))) == 1
    assert not (out / "port0.pcap").exists()


def test_replay_input_errors(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "-i", "h1.pcap", "--out-dir", str(out)]) == 1
    assert "inputs are written PORT=FILE.pcap" in capsys.readouterr().err
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a pcap file at all")
    assert cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "-i", f"1={bad}", "--out-dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert "not a pcap file" in err and "Traceback" not in err


def test_pcap_round_trip(tmp_path):
    path = tmp_path / "x.pcap"
    with PcapWriter(str(path)) as w:
        w.write(b"\x01\x02\x03", 1_500_000_123)
        w.write(b"", 2_000_000_000)
    recs = read_pcap(str(path))
    assert [(r.time_ns, r.data) for r in recs] == [(1_500_000_123, b"\x01\x02\x03"), (2_000_000_000, b"")]
    assert len(rdpcap(str(path))) == 2          # scapy reads what we write
    (tmp_path / "t.pcap").write_bytes(path.read_bytes()[:-2])
    import pytest
    from dataplane.diagnostics import DiagnosticError
    with pytest.raises(DiagnosticError, match="truncated"):
        read_pcap(str(tmp_path / "t.pcap"))


def test_a_report_takes_the_scalar_engine_and_batch_refuses_it(tmp_path, capsys):
    """basic_ipv4 qualifies for the batch engine, but a report needs each packet's trace: auto replays it
    packet by packet and writes the report; --engine batch with --report is a one-line error."""
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(RUNTIME))
    inp = tmp_path / "h1.pcap"
    wrpcap(str(inp), [Ether(_packet("10.0.2.7")), Ether(_packet("10.0.3.9"))])
    base = ["replay", str(PROGRAMS / "basic_ipv4.p4"), "--runtime", str(runtime), "-i", f"1={inp}"]
    assert cli.main(base + ["--out-dir", str(tmp_path / "a")]) == 0
    assert "batch engine:" in capsys.readouterr().out
    report = tmp_path / "r.html"
    assert cli.main(base + ["--out-dir", str(tmp_path / "b"), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "batch engine:" not in out and report.exists()
    assert cli.main(base + ["--out-dir", str(tmp_path / "c"), "--report", str(report), "--engine", "batch"]) == 1
    err = capsys.readouterr().err
    assert "--report needs the scalar engine" in err and "Traceback" not in err


def test_the_untraced_loop_writes_what_the_traced_one_writes(tmp_path, monkeypatch):
    """The fast loop gathers records and writes them in batches (a small batch here, so that it writes
    several); the traced loop writes each packet with PcapWriter.write: the same files and counts."""
    import random
    from dataplane import replay as replay_module
    from dataplane.bench import _packet as bench_packet, _same_files, setup_lpm
    from dataplane.pcap import PcapReader
    from dataplane.replay import Source, replay
    monkeypatch.setattr(replay_module, "_RECORDS_PER_WRITE", 7)
    dev, _routes = setup_lpm(50)
    rng = random.Random(11)
    paths = []
    for k in range(2):
        paths.append(str(tmp_path / f"in{k}.pcap"))
        with PcapWriter(paths[-1]) as w:
            for i in range(300):
                data = bench_packet(rng, rng.getrandbits(32))
                if i % 10 == 0:
                    data = data[:20]                      # cut short: dropped
                w.write(data, i * 997 + k * 13 - (i % 5) * 3000)

    def run(out, trace):
        readers = [PcapReader(p) for p in paths]
        try:
            return replay(dev, [Source(k + 1, r) for k, r in enumerate(readers)], str(tmp_path / out), trace=trace)
        finally:
            for r in readers:
                r.close()
    fast, traced = run("fast", None), run("traced", lambda text: None)
    assert (fast.packets, fast.out, fast.drops) == (traced.packets, traced.out, traced.drops)
    assert fast.packets == 600 and sum(fast.out.values()) > 100 and fast.drops
    assert _same_files(str(tmp_path / "fast"), str(tmp_path / "traced"))


def _lpm_capture(path, n: int, seed: int) -> None:
    import random
    from dataplane.bench import _packet as bench_packet
    rng = random.Random(seed)
    with PcapWriter(str(path)) as w:
        for i in range(n):
            data = bench_packet(rng, rng.getrandbits(32))
            w.write(data[:20] if i % 10 == 0 else data, i * 997)


def test_one_capture_is_replayed_a_read_at_a_time_as_packet_by_packet(tmp_path, monkeypatch):
    """One classic pcap goes through the loop in lists of records (one per read of the file); the files
    and counts are those of the traced loop, also over reads that end inside a record."""
    from dataplane import pcap as pcap_module
    from dataplane.bench import _same_files, setup_lpm
    from dataplane.pcap import PcapReader
    from dataplane.replay import Source, replay
    monkeypatch.setattr(pcap_module, "_IO_CHUNK", 1000)
    dev, _routes = setup_lpm(50)
    _lpm_capture(tmp_path / "in.pcap", 500, 5)

    def run(out, trace):
        with PcapReader(str(tmp_path / "in.pcap")) as r:
            return replay(dev, [Source(1, r)], str(tmp_path / out), trace=trace)
    fast, traced = run("fast", None), run("traced", lambda text: None)
    assert (fast.packets, fast.out, fast.drops) == (traced.packets, traced.out, traced.drops)
    assert fast.packets == 500 and fast.drops
    assert _same_files(str(tmp_path / "fast"), str(tmp_path / "traced"))


def test_an_exception_in_the_pipeline_is_a_pipeline_error_drop_remembered_by_the_device(tmp_path):
    from dataplane.bench import setup_lpm
    from dataplane.pcap import PcapReader
    from dataplane.replay import Source, replay
    dev, _routes = setup_lpm(5)
    real = dev.stages(False)["fast"]

    def broken(port, data):
        if len(data) == 20:
            raise ZeroDivisionError("a bug")
        return real(port, data)
    dev._fast = dict(dev._fast, fast=broken)
    _lpm_capture(tmp_path / "in.pcap", 50, 6)
    with PcapReader(str(tmp_path / "in.pcap")) as r:
        counts = replay(dev, [Source(1, r)], str(tmp_path / "out"))
    assert counts.packets == 50 and counts.drops == {"pipeline_error": 5}
    assert [detail for _port, _data, detail in dev.internal_errors] == ["ZeroDivisionError: a bug"] * 5


def test_replay_fails_loudly_when_packets_hit_a_bug_in_the_pipeline(tmp_path, capsys, monkeypatch):
    """The packets are still accounted for (pipeline_error drops), but the exit status is an internal
    error's, not a success."""
    from dataplane.runtime.device import Device
    real = Device.stages

    def stages(self, traced):
        found = real(self, traced)
        if traced:
            return found

        def broken(port, data):
            raise ZeroDivisionError("a bug")
        return dict(found, fast=broken)
    monkeypatch.setattr(Device, "stages", stages)
    _lpm_capture(tmp_path / "in.pcap", 20, 7)
    code = cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "-i", f"1={tmp_path / 'in.pcap'}",
                     "--out-dir", str(tmp_path / "out"), "--engine", "scalar"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "dropped 20 (pipeline_error 20)" in out
    assert err == ("dataplane: internal error: 20 packets hit a bug in the pipeline (the first on port 1: "
                   "ZeroDivisionError: a bug)\nthis is a bug in dataplane; set DATAPLANE_DEBUG=1 for details\n")
