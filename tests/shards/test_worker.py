"""replay_piece() and the program bundle, run in this process (as a worker runs them, without a cluster)."""

from __future__ import annotations

import json
import os

import pytest

from dataplane import cli
from dataplane.pcap import PcapReader, classic_header
from dataplane.replay import Source
from dataplane.shards import worker
from dataplane.shards.pieces import Limit, input_pieces
from dataplane.shards.worker import program_bundle, replay_piece
from p4helpers import PROGRAMS

from .captures import stf_packets, variants, write_capture
from .test_client import BASIC_RUNTIME


def _pieced_replay(bundle, capture: str, port: int, limit: Limit) -> tuple[dict, dict, int]:
    """The files and counts of a replay made of replay_piece results joined in order."""
    outputs, counts, packets = {}, {}, 0
    with PcapReader(capture) as reader:
        for piece in input_pieces([Source(port, reader)], limit):
            result = replay_piece(bundle, piece)
            assert result.index == piece.index and result.internal_errors == 0
            packets += result.packets
            for p, records in result.outputs.items():
                outputs[f"port{p}.pcap"] = outputs.get(f"port{p}.pcap", classic_header()) + bytes(records)
            for reason, n in result.drops.items():
                counts[reason] = counts.get(reason, 0) + n
    return outputs, counts, packets


@pytest.mark.parametrize("engine", ["scalar", "batch"])
def test_pieces_joined_give_the_files_of_one_replay(engine, tmp_path, capsys):
    runtime = tmp_path / "rt.json"
    runtime.write_text(json.dumps(BASIC_RUNTIME))
    write_capture(tmp_path / "in.pcap", [d for _, d in variants(stf_packets("basic_ipv4"), 400)])
    program = str(PROGRAMS / "basic_ipv4.p4")
    assert cli.main(["replay", program, "--runtime", str(runtime), "-i", f"1={tmp_path / 'in.pcap'}",
                     "--out-dir", str(tmp_path / "one"), "--engine", engine]) == 0
    line = capsys.readouterr().out
    bundle = program_bundle(program, [], {}, str(runtime), engine)
    outputs, drops, packets = _pieced_replay(bundle, str(tmp_path / "in.pcap"), 1, Limit(37, 1 << 20))
    assert outputs == {p.name: p.read_bytes() for p in (tmp_path / "one").glob("*.pcap")}
    assert line.startswith(f"replay: {packets} packets in;") and f"mark_to_drop {drops['mark_to_drop']})" in line


def test_the_bundle_carries_the_includes_and_the_worker_needs_no_file(tmp_path, monkeypatch, capsys):
    """A program with a quoted include beside it and one from an -I directory, and a -D define: the worker
    builds it from the bundle alone, in another directory, after the files are gone."""
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "inc").mkdir()
    text = (PROGRAMS / "basic_ipv4.p4").read_text()
    (tmp_path / "src" / "prog.p4").write_text('#include "lib/port.p4"\n#include <drop.p4>\n' + text.replace(
        "standard_metadata.egress_spec = port;", "standard_metadata.egress_spec = port + OFFSET + EXTRA;"))
    (tmp_path / "src" / "lib" / "port.p4").write_text("#define OFFSET 1\n")
    (tmp_path / "inc" / "drop.p4").write_text("#define EXTRA 0\n")
    write_capture(tmp_path / "in.pcap", [d for _, d in variants(stf_packets("basic_ipv4"), 100)])
    (tmp_path / "rt.json").write_text(json.dumps(BASIC_RUNTIME))
    monkeypatch.chdir(tmp_path)
    args = ["src/prog.p4", "-I", "inc", "-D", "UNUSED=3", "--runtime", "rt.json", "-i", "1=in.pcap"]
    assert cli.main(["replay", *args, "--out-dir", "one", "--engine", "scalar"]) == 0
    capsys.readouterr()
    bundle = program_bundle("src/prog.p4", ["inc"], {"UNUSED": "3"}, "rt.json", "scalar")
    assert sorted(os.path.relpath(p, tmp_path) for p, _ in bundle.files if p.startswith(str(tmp_path))) == \
        ["inc/drop.p4", "rt.json", "src/lib/port.p4", "src/prog.p4"]
    one = {p.name: p.read_bytes() for p in (tmp_path / "one").glob("*.pcap")}
    assert "port3.pcap" in one                   # the include's OFFSET moved port 2 to port 3
    for name in ("src/prog.p4", "src/lib/port.p4", "inc/drop.p4", "rt.json"):
        os.remove(tmp_path / name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(worker, "_PREPARED", type(worker._PREPARED)())
    outputs, _, _ = _pieced_replay(bundle, str(tmp_path / "in.pcap"), 1, Limit(30, 1 << 20))
    assert outputs == one


def test_a_program_is_built_once_per_worker_thread(tmp_path, monkeypatch):
    from dataplane import build as build_module
    built = []
    real = build_module.build
    monkeypatch.setattr(build_module, "build", lambda *a, **k: built.append(a) or real(*a, **k))
    monkeypatch.setattr(worker, "_PREPARED", type(worker._PREPARED)())
    write_capture(tmp_path / "in.pcap", [d for _, d in variants(stf_packets("qos"), 100)])
    bundle = program_bundle(str(PROGRAMS / "qos.p4"), [], {}, None, "batch")
    _pieced_replay(bundle, str(tmp_path / "in.pcap"), 1, Limit(10, 1 << 20))
    assert len(built) == 1


def test_the_digest_changes_with_what_makes_the_program(tmp_path):
    a = program_bundle(str(PROGRAMS / "qos.p4"), [], {}, None, "batch")
    assert a.digest == program_bundle(str(PROGRAMS / "qos.p4"), [], {}, None, "batch").digest
    assert a.digest != program_bundle(str(PROGRAMS / "qos.p4"), [], {"X": "1"}, None, "batch").digest
    assert a.digest != program_bundle(str(PROGRAMS / "qos.p4"), [], {}, None, "scalar").digest


def test_internal_errors_come_back_counted_with_the_first(tmp_path, monkeypatch):
    bundle = program_bundle(str(PROGRAMS / "qos.p4"), [], {}, None, "scalar")
    monkeypatch.setattr(worker, "_PREPARED", type(worker._PREPARED)())
    device, _ = worker._prepared(bundle)

    def broken(port, data):
        raise ValueError("a bug")
    monkeypatch.setattr(device, "stages", lambda traced: {"fast": broken})
    write_capture(tmp_path / "in.pcap", [bytes(20)] * 5)
    with PcapReader(str(tmp_path / "in.pcap")) as reader:
        piece = next(input_pieces([Source(7, reader)], Limit(10, 1 << 20)))
    result = replay_piece(bundle, piece)
    assert (result.internal_errors, result.first_internal_error) == (5, (7, "ValueError: a bug"))
    assert result.drops == {"pipeline_error": 5} and not device.internal_errors
