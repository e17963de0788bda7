"""`dataplane replay --engine`: the batch engine writes the scalar engine's files and reports the same counts."""

from __future__ import annotations

import json
import random

import pytest

from batchcheck import ipv4_packet, mixed_packets
from dataplane import cli
from dataplane.pcap import PcapngWriter, PcapWriter
from p4helpers import PROGRAMS

BASIC = str(PROGRAMS / "basic_ipv4.p4")
RUNTIME = {"target": "bmv2", "table_entries": [
    {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.2.0", 24]},
     "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:02:22", "port": 2}},
    {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.0.0", 8]},
     "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:03:33", "port": 3}},
]}


def _write(path, packets, times) -> None:
    with PcapWriter(str(path)) as w:
        for (_, data), t in zip(packets, times):
            w.write(data, t)


def _replay(tmp_path, capsys, engine: str, inputs: list[str], program: str = BASIC, extra=(), entries=None):
    out = tmp_path / f"out-{engine}"
    args = ["replay", program, "--out-dir", str(out), "--engine", engine, *extra]
    if program == BASIC or entries is not None:
        runtime = tmp_path / "runtime.json"
        runtime.write_text(json.dumps(RUNTIME if entries is None else entries))
        args += ["--runtime", str(runtime)]
    for spec in inputs:
        args += ["-i", spec]
    code = cli.main(args)
    captured = capsys.readouterr()
    files = {p.name: p.read_bytes() for p in sorted(out.glob("*.pcap"))} if out.exists() else {}
    return code, captured.out.strip(), captured.err, files


def _same_run(tmp_path, capsys, inputs: list[str]) -> str:
    code_s, line_s, _, files_s = _replay(tmp_path, capsys, "scalar", inputs)
    code_b, line_b, err_b, files_b = _replay(tmp_path, capsys, "batch", inputs)
    assert code_s == code_b == 0 and err_b == ""
    assert files_b == files_s and files_s
    counts = line_s.rsplit(";", 1)[0]
    assert line_b.startswith(counts + "; batch engine: ") and line_b.endswith(" packets/s")
    return line_b


def test_batch_replay_writes_the_scalar_files(tmp_path, capsys):
    rng = random.Random(1)
    packets = mixed_packets(rng, [0x0A000205, 0x0A010101, 0x0B000001], 500)
    times = [1_000_000_000 + i * 1000 - (5000 if i % 7 == 0 else 0) for i in range(len(packets))]  # some go back
    _write(tmp_path / "in.pcap", packets, times)
    line = _same_run(tmp_path, capsys, [f"1={tmp_path / 'in.pcap'}"])
    assert "mark_to_drop" in line


def test_batch_replay_of_equal_length_packets(tmp_path, capsys):
    """All records of one length: the file is read and written as a matrix of rows."""
    packets = [(0, ipv4_packet(0x0A000200 | i, payload=bytes(26))) for i in range(50)] + \
              [(0, ipv4_packet(0x0A000200 | i, good_checksum=False, payload=bytes(26))) for i in range(5)]
    _write(tmp_path / "in.pcap", packets, [10 ** 9 * i for i in range(len(packets))])
    _same_run(tmp_path, capsys, [f"3={tmp_path / 'in.pcap'}"])


def test_batch_replay_of_several_inputs_and_pcapng(tmp_path, capsys):
    rng = random.Random(2)
    a = mixed_packets(rng, [0x0A000205], 100)
    b = mixed_packets(rng, [0x0A000305], 100)
    _write(tmp_path / "a.pcap", a, [i * 2000 for i in range(100)])
    with PcapngWriter(str(tmp_path / "b.pcapng"), ["h2-eth0"]) as w:
        for i, (_, data) in enumerate(b):
            w.write(data, i * 3000 + 1)
    _same_run(tmp_path, capsys, [f"1={tmp_path / 'a.pcap'}", f"2={tmp_path / 'b.pcapng'}"])


def test_batch_replay_of_a_damaged_pcap_says_what_scalar_says(tmp_path, capsys):
    _write(tmp_path / "in.pcap", [(0, ipv4_packet(0x0A000205))] * 3, [0, 1, 2])
    (tmp_path / "cut.pcap").write_bytes((tmp_path / "in.pcap").read_bytes()[:-5])
    results = [_replay(tmp_path, capsys, engine, [f"1={tmp_path / 'cut.pcap'}"]) for engine in ("scalar", "batch")]
    assert results[0][0] == results[1][0] == 1
    assert "truncated packet" in results[0][2] and results[0][2] == results[1][2]


def test_auto_says_why_it_uses_the_scalar_engine(tmp_path, capsys):
    _write(tmp_path / "in.pcap", [(0, ipv4_packet(0x0A000205))], [0])
    code, line, err, _ = _replay(tmp_path, capsys, "auto", [f"1={tmp_path / 'in.pcap'}"],
                                 program=str(PROGRAMS / "acl_stateful.p4"))
    assert code == 0 and "batch engine" not in line
    assert err == ("replay: using the scalar engine: the batch engine does not run writing the register "
                   "'flow_packets' (acl_stateful.p4:134)\n")


def test_engine_batch_refuses_a_program_it_cannot_run(tmp_path, capsys):
    _write(tmp_path / "in.pcap", [(0, ipv4_packet(0x0A000205))], [0])
    code, _, err, files = _replay(tmp_path, capsys, "batch", [f"1={tmp_path / 'in.pcap'}"],
                                  program=str(PROGRAMS / "acl_stateful.p4"))
    assert code == 1 and not files
    assert "acl_stateful.p4:134:" in err and \
        "error: the batch engine does not run writing the register 'flow_packets'" in err
    assert "Traceback" not in err


def test_auto_uses_batch_when_it_can_and_trace_needs_scalar(tmp_path, capsys):
    _write(tmp_path / "in.pcap", [(0, ipv4_packet(0x0A000205))], [0])
    code, line, err, _ = _replay(tmp_path, capsys, "auto", [f"1={tmp_path / 'in.pcap'}"])
    assert code == 0 and "batch engine: " in line and err == ""
    code, _, err, _ = _replay(tmp_path, capsys, "batch", [f"1={tmp_path / 'in.pcap'}"], extra=["--trace"])
    assert code == 1 and "--trace needs the scalar engine" in err


def test_batch_replay_of_an_empty_capture(tmp_path, capsys):
    _write(tmp_path / "in.pcap", [], [])
    code, line, err, files = _replay(tmp_path, capsys, "batch", [f"1={tmp_path / 'in.pcap'}"])
    assert code == 0 and not files and err == ""
    assert line.startswith("replay: 0 packets in; out none; dropped 0 (none); batch engine: ")


def test_batch_replay_of_equal_length_frames_with_different_headers(tmp_path, capsys, p4_file):
    """Frames of one length, some VLAN-tagged: records of one length whose headers differ in length."""
    from test_batch_engine import INGRESS, SKELETON
    from p4helpers import V1MODEL_MAIN
    program = str(p4_file(SKELETON + INGRESS + V1MODEL_MAIN, "features.p4"))
    rng = random.Random(3)
    packets = []
    for i in range(120):
        inner = ipv4_packet(rng.getrandbits(32), payload=bytes(30))
        if i % 3 == 0:
            frame = inner[:12] + b"\x81\x00" + rng.getrandbits(16).to_bytes(2, "big") + b"\x08\x00" + inner[14:-4]
        else:
            frame = inner
        packets.append((0, frame))
    _write(tmp_path / "in.pcap", packets, list(range(len(packets))))
    routes = {"target": "bmv2", "table_entries": [
        {"table": "MyIngress.routes", "match": {"hdr.ipv4.dst": [f"{q << 6}.0.0.0", 2]},
         "action_name": "MyIngress.fwd", "action_params": {"port": q + 1, "dscp": q}} for q in range(4)]}
    results = [_replay(tmp_path, capsys, engine, [f"1={tmp_path / 'in.pcap'}"], program=program, entries=routes)
               for engine in ("scalar", "batch")]
    assert results[0][0] == results[1][0] == 0
    assert results[0][3] == results[1][3] and len(results[0][3]) > 1


@pytest.mark.parametrize("kind", ["pcap", "pcapng", "equal lengths"])
def test_a_large_capture_is_replayed_in_batches(tmp_path, capsys, monkeypatch, kind):
    """Past the size read whole, a pcap file is mapped; packets go through in batches (of a mapped file,
    or merged from the record readers); the clock carries from one to the next."""
    import dataplane.batch.replay as replay
    monkeypatch.setattr(replay, "WHOLE_FILE_LIMIT", 0)
    monkeypatch.setattr(replay, "CHUNK", 7)
    rng = random.Random(4)
    packets = mixed_packets(rng, [0x0A000205, 0x0A010101], 100)
    if kind == "equal lengths":
        packets = [(0, ipv4_packet(0x0A000200 | i, payload=bytes(26))) for i in range(60)]
    times = [10_000 - (i % 9) * 1000 for i in range(len(packets))]
    if kind == "pcapng":
        with PcapngWriter(str(tmp_path / "in.pcap"), ["h1-eth0"]) as w:
            for (_, data), t in zip(packets, times):
                w.write(data, t)
    else:
        _write(tmp_path / "in.pcap", packets, times)
    _same_run(tmp_path, capsys, [f"1={tmp_path / 'in.pcap'}"])


def test_batch_replay_of_a_big_endian_microsecond_pcap(tmp_path, capsys):
    import struct
    packets = [ipv4_packet(0x0A000205, payload=bytes(i % 3)) for i in range(20)]
    body = b"".join(struct.pack(">IIII", 100 + i, 999_999 - i, len(p), len(p) + 4) + p for i, p in enumerate(packets))
    (tmp_path / "in.pcap").write_bytes(struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + body)
    _same_run(tmp_path, capsys, [f"1={tmp_path / 'in.pcap'}"])
