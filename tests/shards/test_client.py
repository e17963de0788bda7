"""`dataplane replay --shards`: the same files and counts as one process, on one embedded cluster of 2 workers."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections import Counter

import pytest

from dataplane import cli
from dataplane.build import build
from dataplane.compiler.carried_state import carried_state
from dataplane.shards import client as shard_client
from dataplane.shards import pieces as shard_pieces
from p4helpers import PROGRAMS

from .captures import stf_packets, variants, write_capture

distributed = pytest.importorskip("distributed")

QUALIFYING = sorted(p.name for p in PROGRAMS.glob("*.p4") if carried_state(build(str(p))) is None)

BASIC_RUNTIME = {
    "target": "bmv2",
    "table_entries": [
        {"table": "MyIngress.ipv4_lpm", "default_action": True, "action_name": "MyIngress.drop",
         "action_params": {}},
        {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.0.0", 8]},
         "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:02:22", "port": 2}},
        {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.3.0", 24]},
         "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:03:33", "port": 3}},
    ],
}

ECMP_ENTRIES = """\
tables:
  ecmp_group:
    entries:
      - {match: {hdr.ipv4.dstAddr: 10.0.0.1/32}, action: set_ecmp_select, params: {ecmp_count: 2}}
      - {match: {hdr.ipv4.dstAddr: 10.0.0.4/32}, action: set_ecmp_select, params: {ecmp_count: 4}}
  ecmp_nhop:
    entries:
      - {match: {meta.ecmp_select: 0}, action: set_nhop, params: {nhop_dmac: 0x101, nhop_ipv4: 10.0.1.1, port: 1}}
      - {match: {meta.ecmp_select: 1}, action: set_nhop, params: {nhop_dmac: 0x202, nhop_ipv4: 10.0.2.2, port: 2}}
      - {match: {meta.ecmp_select: 2}, action: set_nhop, params: {nhop_dmac: 0x303, nhop_ipv4: 10.0.3.3, port: 3}}
  send_frame:
    entries:
      - {match: {standard_metadata.egress_port: 1}, action: rewrite_mac, params: {smac: 0x000000000100}}
      - {match: {standard_metadata.egress_port: 2}, action: rewrite_mac, params: {smac: 0x000000000200}}
"""


@pytest.fixture(scope="module")
def cluster_client():
    """One embedded cluster of 2 workers for the whole module."""
    from dataplane.cluster import open_client
    with open_client(workers=2) as client:
        yield client


@pytest.fixture
def sharded(cluster_client, monkeypatch):
    """`replay --shards` on the module's cluster (the command would start one of its own), with pieces of
    at most 40 packets, so that a capture makes several pieces per worker and they finish out of order."""
    @contextlib.contextmanager
    def the_cluster(workers=None, scheduler=None):
        yield cluster_client
    monkeypatch.setattr(shard_client, "open_client", the_cluster)
    monkeypatch.setattr(shard_pieces, "PIECE_PACKETS", 40)


def _replay(capsys, tmp_path, name: str, program: str, inputs: list[str], extra: list[str] = ()):
    out = tmp_path / name
    code = cli.main(["replay", program, *[a for i in inputs for a in ("-i", i)], "--out-dir", str(out), *extra])
    captured = capsys.readouterr()
    files = {p.name: p.read_bytes() for p in sorted(out.glob("*"))} if out.exists() else {}
    return code, captured.out, captured.err, files


def _counts(line: str) -> str:
    """The summary line without its engine and rate: the counts."""
    return line.rsplit(";", 1)[0]


def assert_same_as_one_process(capsys, tmp_path, program: str, inputs: list[str], extra: list[str] = ()):
    one = _replay(capsys, tmp_path, "one", program, inputs, extra)
    two = _replay(capsys, tmp_path, "sharded", program, inputs, [*extra, "--shards", "2"])
    assert one[0] == two[0] == 0, two[2]
    assert _counts(one[1]) == _counts(two[1])
    assert re.search(r"; (batch engine, )?\d+ pieces on [12] workers: [\d,]+ packets/s\n$", two[1]), two[1]
    assert one[3] == two[3]
    return one, two


def _capture(tmp_path, program: str, n: int = 300, seed: int = 1):
    packets = variants(stf_packets(program.removesuffix(".p4")), n, seed)
    port = Counter(p for p, _ in packets).most_common(1)[0][0]
    path = tmp_path / f"{program}.pcap"
    write_capture(path, [data for _, data in packets], seed)
    return f"{port}={path}"


@pytest.mark.parametrize("name", QUALIFYING)
def test_every_qualifying_program_gives_the_same_files(name, sharded, tmp_path, capsys):
    assert_same_as_one_process(capsys, tmp_path, str(PROGRAMS / name), [_capture(tmp_path, name)])


@pytest.mark.parametrize("engine", ["scalar", "batch"])
def test_runtime_json_entries_travel_with_the_program(engine, sharded, tmp_path, capsys):
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(BASIC_RUNTIME))
    one, two = assert_same_as_one_process(capsys, tmp_path, str(PROGRAMS / "basic_ipv4.p4"),
                                          [_capture(tmp_path, "basic_ipv4.p4", 500)],
                                          ["--runtime", str(runtime), "--engine", engine])
    assert {"port2.pcap", "port3.pcap"} <= set(two[3])         # the entries forwarded packets


def test_yaml_entries_travel_with_the_program(sharded, tmp_path, capsys):
    entries = tmp_path / "ecmp.yaml"
    entries.write_text(ECMP_ENTRIES)
    one, _ = assert_same_as_one_process(capsys, tmp_path, str(PROGRAMS / "ecmp.p4"),
                                        [_capture(tmp_path, "ecmp.p4", 400)], ["--entries", str(entries)])
    assert len(one[3]) >= 2


def test_several_inputs_are_merged_by_time(sharded, tmp_path, capsys):
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(BASIC_RUNTIME))
    inputs = []
    for port, seed in ((1, 3), (2, 4), (3, 5)):
        packets = [data for _, data in variants(stf_packets("basic_ipv4"), 150, seed)]
        path = tmp_path / f"in{port}.pcap"
        write_capture(path, packets, seed, start_ns=1_000_000_000 + port * 333)
        inputs.append(f"{port}={path}")
    assert_same_as_one_process(capsys, tmp_path, str(PROGRAMS / "basic_ipv4.p4"), inputs,
                               ["--runtime", str(runtime)])


def test_an_empty_capture(sharded, tmp_path, capsys):
    write_capture(tmp_path / "empty.pcap", [])
    code, out, _, files = _replay(capsys, tmp_path, "s", str(PROGRAMS / "basic_ipv4.p4"),
                                  [f"1={tmp_path / 'empty.pcap'}"], ["--shards", "2"])
    assert code == 0 and not files
    assert out == "replay: 0 packets in; out none; dropped 0 (none); batch engine, 0 pieces on 2 workers: 0 packets/s\n"


def test_a_damaged_capture_says_what_one_process_says(sharded, tmp_path, capsys):
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(BASIC_RUNTIME))
    write_capture(tmp_path / "in.pcap", [data for _, data in variants(stf_packets("basic_ipv4"), 200)])
    (tmp_path / "cut.pcap").write_bytes((tmp_path / "in.pcap").read_bytes()[:-5])
    args = ["--runtime", str(runtime), "--engine", "scalar"]
    one = _replay(capsys, tmp_path, "one", str(PROGRAMS / "basic_ipv4.p4"), [f"1={tmp_path / 'cut.pcap'}"], args)
    two = _replay(capsys, tmp_path, "two", str(PROGRAMS / "basic_ipv4.p4"), [f"1={tmp_path / 'cut.pcap'}"],
                  [*args, "--shards", "2"])
    assert one[0] == two[0] == 1 and "truncated packet" in one[2] and one[2] == two[2]
    assert one[3] and one[3] == two[3]          # the packets before the damage are replayed and written


# Refused before anything starts (no cluster is needed for these).

def test_a_program_that_writes_a_register_is_refused_at_the_write(tmp_path, capsys):
    code, out, err, files = _replay(capsys, tmp_path, "s", str(PROGRAMS / "acl_stateful.p4"),
                                    [f"1={tmp_path / 'none.pcap'}"], ["--shards", "2"])
    assert code == 1 and not out and not files
    assert err == (
        f"{PROGRAMS / 'acl_stateful.p4'}:134:9: error: this program cannot be sharded: writing the register "
        "'flow_packets' carries state from one packet to the next\n"
        "            flow_packets.write(meta.flow, n + 1);\n"
        "            ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
        "hint: replay it without --shards (one process replays the packets in order)\n")


@pytest.mark.parametrize("name, what", [
    ("externs.p4", "the meter 'port_meter'"),
    ("flow_controller.p4", "clone_preserving_field_list()"),
    ("l2_switch.p4", "digest()"),
    ("control_features.p4", "the direct meter 'flow_meter'"),
])
def test_other_stateful_programs_are_refused_with_their_reason(name, what, tmp_path, capsys):
    code, _, err, _ = _replay(capsys, tmp_path, "s", str(PROGRAMS / name), [f"1={tmp_path / 'x.pcap'}"],
                              ["--shards", "2"])
    assert code == 1
    assert f"error: this program cannot be sharded: {what} carries state from one packet to the next" in err


def test_random_is_refused(tmp_path, capsys, p4_file):
    from p4helpers import with_ingress
    prog = p4_file(with_ingress("apply { random(meta.x, 0, 7); }"))
    code, _, err, _ = _replay(capsys, tmp_path, "s", str(prog), [f"1={tmp_path / 'x.pcap'}"], ["--shards", "2"])
    assert code == 1 and err.startswith(f"{prog}:15:9: error: this program cannot be sharded: random() carries")


@pytest.mark.parametrize("extra, message", [
    (["--shards", "2", "--trace"], "error: --trace needs one process (traces come packet by packet, in order); "
                                   "leave out --shards\n"),
    (["--shards", "2", "--report", "r.html"], "error: --report needs one process (it steps through the packets in "
                                              "order); leave out --shards\n"),
    (["--scheduler", "tcp://127.0.0.1:8786"], "error: --scheduler needs --shards N (the replay is spread over that "
                                             "cluster's workers)\n"),
    (["--shards", "0"], "error: --shards must be at least 1, not 0\n"),
])
def test_options_that_do_not_go_with_shards(extra, message, tmp_path, capsys):
    code, out, err, files = _replay(capsys, tmp_path, "s", str(PROGRAMS / "basic_ipv4.p4"),
                                    [f"1={tmp_path / 'x.pcap'}"], extra)
    assert code == 1 and err == message and not files


def test_a_named_scheduler_gets_the_pieces_through_it(cluster_client, tmp_path, capsys, monkeypatch):
    """--scheduler: the module's cluster named by its address (pieces and results through the scheduler)."""
    monkeypatch.setattr(shard_pieces, "PIECE_PACKETS", 40)
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(BASIC_RUNTIME))
    address = cluster_client.scheduler.address
    capture = _capture(tmp_path, "basic_ipv4.p4", 200)
    one = _replay(capsys, tmp_path, "one", str(PROGRAMS / "basic_ipv4.p4"), [capture], ["--runtime", str(runtime)])
    two = _replay(capsys, tmp_path, "two", str(PROGRAMS / "basic_ipv4.p4"), [capture],
                  ["--runtime", str(runtime), "--shards", "3", "--scheduler", address])
    assert two[0] == 0 and _counts(one[1]) == _counts(two[1]) and one[3] and one[3] == two[3]
    assert "pieces on 2 workers" in two[1]


def test_without_distributed_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)         # import distributed fails
    write_capture(tmp_path / "in.pcap", [bytes(60)] * 3)
    code, _, err, _ = _replay(capsys, tmp_path, "s", str(PROGRAMS / "basic_ipv4.p4"),
                              [f"1={tmp_path / 'in.pcap'}"], ["--shards", "2"])
    assert code == 1 and err == ("error: this needs Dask distributed, an optional dependency: pip install "
                                 "'dataplane[cluster]' (or pip install distributed)\n")


def test_internal_errors_on_workers_fail_loudly_as_in_one_process(tmp_path, capsys, monkeypatch):
    """Packets that hit a bug on a worker (counted there, see test_worker.py) end the command with status 2
    and the message one process gives."""
    import dataplane.shards as shards
    from dataplane.replay import ReplayCounts
    run = shard_client.ShardedRun()
    run.counts = ReplayCounts(5, {}, {"pipeline_error": 5}, 1.0)
    run.pieces, run.internal_errors, run.first_internal_error = 1, 5, (7, "ValueError: a bug")
    monkeypatch.setattr(shards, "run_sharded", lambda *args: (run, 2))
    write_capture(tmp_path / "in.pcap", [bytes(20)] * 5)
    code, out, err, _ = _replay(capsys, tmp_path, "s", str(PROGRAMS / "qos.p4"), [f"7={tmp_path / 'in.pcap'}"],
                                ["--shards", "2"])
    assert code == 2 and out.startswith("replay: 5 packets in; out none; dropped 5 (pipeline_error 5); ")
    assert err == ("dataplane: internal error: 5 packets hit a bug in the pipeline (the first on port 7: ValueError: "
                   "a bug)\nthis is a bug in dataplane; set DATAPLANE_DEBUG=1 for details\n")

def test_a_worker_killed_in_the_middle_loses_nothing(sharded, cluster_client, tmp_path, capsys, monkeypatch):
    """Once the first piece is written, one worker process is killed (by its pid): Dask runs its pieces again
    on the other, and the files are still those of one process. (Last in the module: the cluster's nanny
    starts a new worker, waited for at the end.)"""
    victim = sorted(cluster_client.run(os.getpid).values())[0]
    killed = []
    real_write = shard_client._write

    def write_then_kill(result, out_dir, writers):
        real_write(result, out_dir, writers)
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    monkeypatch.setattr(shard_client, "_write", write_then_kill)
    runtime = tmp_path / "s1-runtime.json"
    runtime.write_text(json.dumps(BASIC_RUNTIME))
    try:
        assert_same_as_one_process(capsys, tmp_path, str(PROGRAMS / "basic_ipv4.p4"),
                                   [_capture(tmp_path, "basic_ipv4.p4", 1500)],
                                   ["--runtime", str(runtime), "--engine", "scalar"])
        assert killed == [victim]
    finally:
        cluster_client.wait_for_workers(2, timeout=60)
