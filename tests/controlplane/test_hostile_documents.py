"""Hostile control-plane documents (runtime JSON, entries YAML, and any text input): alias bombs, deep
nesting, huge numbers, devices given for files, files far longer than their tables, values that do not
fit, non-ASCII digits. Each is a `file:line:col: error` (or `file: error`) with exit status 1, never a
traceback, and costs bounded memory and time.

The last tests mutate valid topology, runtime JSON and entries documents at random (hypothesis).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import shutil
import tempfile

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataplane import cli
from dataplane.controlplane.positions import MAX_ALIAS_VALUES, MAX_DEPTH
from p4helpers import PROGRAMS
from hostile import assert_user_error, boxed, limited_cli

PROGRAM = str(PROGRAMS / "basic_ipv4.p4")
TABLE = "MyIngress.ipv4_lpm"
FORWARD = "MyIngress.ipv4_forward"


def json_entry(addr: str = "10.0.1.1", params: str = '"dstAddr": "08:00:00:00:01:11", "port": 1') -> str:
    return (f'{{"table": "{TABLE}", "match": {{"hdr.ipv4.dstAddr": ["{addr}", 32]}}, '
            f'"action_name": "{FORWARD}", "action_params": {{{params}}}}}')


def runtime(*entries: str) -> str:
    return '{"target": "bmv2",\n "table_entries": [\n' + ",\n".join(entries) + "\n]}\n"


def column(text: str, line: int, needle: str) -> int:
    """The 1-based column of the first `needle` on a 1-based line of text."""
    return text.splitlines()[line - 1].index(needle) + 1


def load(tmp_path, capsys, name: str, text: str) -> tuple[str, str]:
    """Load a control-plane file with `dataplane replay`; returns (its path, stderr) after a user error."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    flag = "--runtime" if name.endswith(".json") else "--entries"
    code = cli.main(["replay", PROGRAM, flag, str(path), "--out-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "internal error" not in err, err
    return str(path), err


def fails_at(tmp_path, capsys, name: str, text: str, line: int, col: int, message: str) -> str:
    path, err = load(tmp_path, capsys, name, text)
    assert err.startswith(f"{path}:{line}:{col}: error: "), err
    assert message in err.splitlines()[0], err
    return err


# ---------------------------------------------------------------------------- aliases and nesting

def laughs(levels: int = 9) -> list[str]:
    """ "Billion laughs": each anchor is a list of ten aliases of the one before; ~1 KB, 10^9 values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return lines


def test_an_alias_bomb_stops_at_the_alias_that_goes_over_the_limit(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text("tables:\n" + "".join(f"  {line}\n" for line in laughs()))
    done = limited_cli(["replay", PROGRAM, "--entries", path, "--out-dir", tmp_path / "out"], tmp_path)
    # a0..a3 hold 11, 111, 1111 and 11111 values; the tenth *a3 in a4 passes 100,000 in all.
    assert_user_error(done.returncode, done.stderr, f"{path}:6:47")
    assert f"aliases expand to too many values (more than {MAX_ALIAS_VALUES:,}) at *a3" in done.stderr


def test_aliases_within_the_limit_are_expanded_with_positions(tmp_path, capsys):
    text = ("tables:\n"
            "  ipv4_lpm:\n"
            "    - &e {match: {hdr.ipv4.dstAddr: 10.0.1.0/24}, action: ipv4_forward,\n"
            "          params: &p {dstAddr: 1, port: 600}}\n")
    # The error in the aliased params is found at the anchor, where the value is written.
    fails_at(tmp_path, capsys, "e.yaml", text, 4, 41, "parameter 'port' 600 does not fit in bit<9>")


@pytest.mark.parametrize("text,col", [("tables: &a {x: *a}\n", 16), ("tables: &a [1, [*a]]\n", 17)])
def test_a_recursive_alias_is_an_error_at_the_alias(tmp_path, capsys, text, col):
    fails_at(tmp_path, capsys, "e.yaml", text, 1, col, "recursive alias: *a is inside its own anchor &a")


# The error is at the 101st collection, the outermost one (the document's mapping) included.
@pytest.mark.parametrize("name,text,col", [
    ("deep.yaml", "tables: " + "[" * 2000 + "]" * 2000 + "\n", 9 + MAX_DEPTH - 1),
    ("block.yaml", "".join(" " * i + "k:\n" for i in range(2000)), None),
    ("deep.json", '{"table_entries": ' + "[" * 1000 + "]" * 1000 + "}\n", 19 + MAX_DEPTH - 1),
], ids=["yaml-flow", "yaml-block", "json"])
def test_deep_nesting_is_an_error_not_a_stack_overflow(tmp_path, name, text, col):
    path = tmp_path / name
    path.write_text(text)
    flag = "--runtime" if name.endswith(".json") else "--entries"
    done = limited_cli(["replay", PROGRAM, flag, path, "--out-dir", tmp_path / "out"], tmp_path)
    line = 1 if col is not None else MAX_DEPTH + 1
    where = f"{path}:{line}:{col if col is not None else MAX_DEPTH + 1}"
    assert_user_error(done.returncode, done.stderr, where)
    assert f"nested too deeply (more than {MAX_DEPTH} levels)" in done.stderr


def test_nesting_up_to_the_limit_is_accepted(tmp_path, capsys):
    # 100 levels, the document's object included: the document is read, then refused for its unknown key.
    text = '{"x": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}\n"
    fails_at(tmp_path, capsys, "r.json", text, 1, 2, "unknown key 'x' in the runtime JSON file")


# ---------------------------------------------------------------------------- numbers and values

@pytest.mark.parametrize("number", ["9" * 5000, "1e999", "-1e999", "1" + "0" * 400 + ".5"],
                         ids=["5000-digits", "1e999", "-1e999", "400-digit-float"])
def test_a_huge_json_number_is_too_large(tmp_path, capsys, number):
    text = runtime(json_entry(params=f'"dstAddr": 1, "port": {number}'))
    fails_at(tmp_path, capsys, "r.json", text, 3, column(text, 3, number), "number too large")


def test_a_huge_yaml_number_is_too_large(tmp_path, capsys):
    for number in ("9" * 5000, "0x" + "f" * 5000):
        text = "value_sets: {vs: [" + number + "]}\n"
        fails_at(tmp_path, capsys, "e.yaml", text, 1, column(text, 1, number), "number too large")


@pytest.mark.parametrize("value,message", [
    # A negative JSON number is its two's complement when it fits, as in the tutorials' p4runtime_lib.
    ("-257", "parameter 'port' -257 does not fit in bit<9> as a two's complement number"),
    ("512", "parameter 'port' 512 does not fit in bit<9>"),
    ('"0x200"', "parameter 'port' 0x200 does not fit in bit<9>"),
    ('"-3"', "parameter 'port' -3 does not fit in bit<9>"),
    ('"１２３"', "parameter 'port' '１２３' is not a number or an address"),
    ('"1٣"', "parameter 'port' '1٣' is not a number or an address"),
    ('"0x__"', "parameter 'port' '0x__' is not a number or an address"),
    ('"' + "7" * 5000 + '"', "parameter 'port' is too large (5000 digits)"),
], ids=["-257", "512", "hex-512", "string-minus-3", "fullwidth", "arabic-indic", "underscores", "5000-digits"])
def test_action_parameters_must_fit_their_field(tmp_path, capsys, value, message):
    text = runtime(json_entry(params=f'"dstAddr": 1, "port": {value}'))
    fails_at(tmp_path, capsys, "r.json", text, 3, column(text, 3, value), message)


def test_non_ascii_digits_are_not_numbers_in_json_numbers(tmp_path, capsys):
    text = runtime(json_entry(params='"dstAddr": 1, "port": 1２'))
    fails_at(tmp_path, capsys, "r.json", text, 3, column(text, 3, "２"), "invalid JSON: expected ',' or '}'")


@pytest.mark.parametrize("match", ["10.0.0.１/32", "10.0.1.0/２４", "１０.0.1.0"],
                         ids=["address", "prefix-length", "first-octet"])
def test_non_ascii_digits_are_not_addresses_or_prefix_lengths(tmp_path, capsys, match):
    text = f"tables:\n  ipv4_lpm:\n    - {{match: {{hdr.ipv4.dstAddr: {match}}}, action: drop}}\n"
    err = fails_at(tmp_path, capsys, "e.yaml", text, 3, column(text, 3, match), "is not a number or an address")
    assert "key 'hdr.ipv4.dstAddr'" in err or "prefix length" in err


def test_a_duplicate_action_parameter_is_an_error_at_the_second(tmp_path, capsys):
    text = runtime(json_entry(params='"dstAddr": 1, "port": 1, "port": 2'))
    fails_at(tmp_path, capsys, "r.json", text, 3, column(text, 3, '"port": 2'), "duplicate key 'port'")


@pytest.mark.parametrize("text,line,at,message", [
    ("tables: [1, 2]\n", 1, "[1", "tables must be a mapping"),
    ("multicast_groups: [1]\n", 1, "[1", "multicast_groups must be a mapping"),
    ("registers: 5\n", 1, "5", "registers must be a mapping"),
    ("tables:\n  ipv4_lpm: {entries: {a: 1}}\n", 2, "{a", "entries must be a list"),
    ("meters: {m: {0: {cir: .nan, cbs: 1, pir: 1, pbs: 1}}}\n", 1, ".nan", "cir must be a number from 0 to"),
    ("meters: {m: {0: {cir: 1, cbs: true, pir: 1, pbs: 1}}}\n", 1, "true", "cbs must be a number from 0 to"),
    ("meters: {m: {0: {cir: 1, cbs: 1, pir: -2, pbs: 1}}}\n", 1, "-2", "pir must be a number from 0 to"),
], ids=["tables-list", "groups-list", "registers-number", "entries-mapping", "cir-nan", "cbs-true", "pir-negative"])
def test_entries_sections_have_their_types(tmp_path, capsys, text, line, at, message):
    fails_at(tmp_path, capsys, "e.yaml", text, line, column(text, line, at), message)


def test_default_action_is_true_or_false(tmp_path, capsys):
    text = runtime(f'{{"table": "{TABLE}", "default_action": "no", "action_name": "MyIngress.drop"}}')
    fails_at(tmp_path, capsys, "r.json", text, 3, column(text, 3, '"no"'), "default_action must be true or false")


# ---------------------------------------------------------------------------- sizes and files

@pytest.mark.parametrize("form", ["json", "yaml"])
def test_a_file_longer_than_its_table_stops_at_the_first_entry_over(tmp_path, capsys, form):
    """Entries are added as they are read: the 1025th of a 1024-entry table is reported, and the damage
    at the end of the file is never reached (it would be, were the whole document read first)."""
    n = 1100
    if form == "json":
        text = runtime(*(json_entry(f"10.0.{i >> 8}.{i & 255}") for i in range(n))) + "damaged"
        where = (3 + 1024, 1)
    else:
        text = "tables:\n  ipv4_lpm:\n" + "".join(
            f"    - {{match: {{hdr.ipv4.dstAddr: 10.0.{i >> 8}.{i & 255}/32}}, action: drop}}\n"
            for i in range(n)) + "  [damaged\n"
        where = (3 + 1024, 7)
    fails_at(tmp_path, capsys, f"e.{form}", text, *where, f"table '{TABLE}' is full (1024 entries)")


@pytest.mark.parametrize("kind", ["device", "fifo"])
@pytest.mark.parametrize("command", ["runtime", "entries", "stf", "check"])
def test_only_regular_files_are_read(tmp_path, kind, command):
    path = "/dev/zero" if kind == "device" else tmp_path / "fifo"
    if kind == "fifo":
        os.mkfifo(path)                   # with no writer: opening it to read would wait forever
    args = {"runtime": ["replay", PROGRAM, "--runtime", path, "--out-dir", tmp_path / "out"],
            "entries": ["replay", PROGRAM, "--entries", path, "--out-dir", tmp_path / "out"],
            "stf": ["stf", PROGRAM, path],
            "check": ["check", path]}[command]
    done = limited_cli(args, tmp_path)
    assert_user_error(done.returncode, done.stderr, str(path))
    assert done.stderr.startswith(f"{path}: error: not a regular file"), done.stderr


def test_text_inputs_are_limited_in_size(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as f:
        f.truncate((64 << 20) + 1)        # sparse: no disk, and the check comes before any decoding
    code = cli.main(["replay", PROGRAM, "--entries", str(path), "--out-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{path}: error: the file is larger than 64 MiB, the limit for entries files"), err


# ---------------------------------------------------------------------------- random documents

def _scalars():
    return st.one_of(
        st.none(), st.booleans(), st.integers(), st.integers(min_value=-(1 << 70), max_value=1 << 70),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
        st.sampled_from(["１２３", "٣", "0x__", "1e999", "10.0.0.1", "10.0.0.0/８", "08:00:00:00:01:11", "*",
                         "-1", "9" * 5000, "0b2", ".inf", "true", "auto", "1ms", "0Mbps", "h1:eth0", "drop",
                         "ipv4_lpm", "MyIngress.ipv4_forward", "port", "&&&", "1..2"]))


VALUES = st.recursive(_scalars(), lambda inner: st.lists(inner, max_size=3) |
                      st.dictionaries(st.sampled_from(["port", "match", "action", "params", "entries",
                                                       "kind", "mtu", "x", "1"]) | st.text(max_size=6),
                                      inner, max_size=3), max_leaves=6)


def mutate_document(data, doc):
    """Replace, delete or add one value somewhere in doc (a parsed JSON or YAML document)."""
    doc = copy.deepcopy(doc)
    parent, key, node = None, None, doc
    while isinstance(node, (dict, list)) and node and data.draw(st.integers(0, 4)) > 0:
        key = data.draw(st.sampled_from(list(node) if isinstance(node, dict) else list(range(len(node)))))
        parent, node = node, node[key]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if parent is None:
        return data.draw(VALUES) if action == "replace" else doc
    if action == "delete":
        del parent[key]
    elif action == "add" and isinstance(node, dict):
        node[data.draw(st.text(max_size=8))] = data.draw(VALUES)
    else:
        parent[key] = data.draw(VALUES)
    return doc


def mutate_text(data, text: str) -> bytes:
    """Damage the bytes of a document: truncate it, flip a byte, or insert a few characters."""
    raw = text.encode("utf-8")
    at = data.draw(st.integers(0, len(raw)))
    action = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    if action == "truncate":
        return raw[:at]
    if action == "flip" and at < len(raw):
        return raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1:]
    return raw[:at] + data.draw(st.text(max_size=4)).encode("utf-8") + raw[at:]


def run_quietly(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, out: str, err: str) -> None:
    assert code in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    # Exit status 1 is an error, or (ping) a ping that got no answer: it says so, with no error.
    if code == 1 and not (err == "" and "0 received" in out):
        assert "error:" in err, err


RUNTIME_DOC = {
    **json.loads(runtime(
        f'{{"table": "{TABLE}", "default_action": true, "action_name": "MyIngress.drop", "action_params": {{}}}}',
        json_entry("10.0.1.1"), json_entry("10.0.2.2"))),
    "multicast_group_entries": [{"multicast_group_id": 1, "replicas": [{"egress_port": 1, "instance": 1}]}],
    "clone_session_entries": [{"clone_session_id": 5, "replicas": [{"egress_port": 2, "instance": 1},
                                                                   {"egress_port": 3, "instance": 1}]}],
}

ENTRIES_DOC = yaml.safe_load("""
tables:
  ipv4_lpm:
    default: drop
    entries:
      - match: {hdr.ipv4.dstAddr: 10.0.2.0/24}
        action: ipv4_forward
        params: {dstAddr: "08:00:00:00:02:22", port: 2}
        priority: 3
multicast_groups: {1: [1, 2, {port: 3, rid: 9}]}
clone_sessions: {7: 4, 8: {port: 2}}
""")

TOPOLOGY_DOC = yaml.safe_load("""
name: fuzz
seed: 3
max_frames: 5000
duration: 2s
defaults:
  link: {mtu: 1500, latency: 1ms, bandwidth: 100Mbps, queue: 100}
nodes:
  h1:
    kind: host
    interfaces: {eth0: {mac: "08:00:00:00:01:01", ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}}
    gateway: auto
    arp: {10.0.1.254: "00:00:00:00:01:00"}
    reassembly_timeout: 30s
  r1:
    kind: router
    icmp_rate: 10
    icmp_burst: 5
    interfaces:
      eth1: {ipv4: 10.0.1.254/24, ipv6: "2001:db8:1::fe/64", mac: "00:00:00:00:01:00"}
      eth2: {ipv4: 10.0.2.254/24, port: 7}
  h2:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.2.2/24}}
  s1:
    kind: p4
    program: basic_ipv4
    include: []
    defines: {UNUSED: 1}
    interfaces: {p1: {}, p2: {port: 2}}
    entries:
      tables: {ipv4_lpm: [{match: {hdr.ipv4.dstAddr: 10.0.9.0/24}, action: drop}]}
      multicast_groups: {1: [1, 2]}
links:
  - [h1:eth0, r1:eth1]
  - {ends: [r1:eth2, h2:eth0], mtu: 1280, latency: 2ms, bandwidth: 10Mbps, loss: 0.01, name: wan}
traffic:
  - {at: 1s, ping: {from: h1, to: h2, count: 1, size: 100, interval: 1s, ttl: 9, df: false}}
  - {at: 2s, traceroute: {from: h1, to: 10.0.2.2, max_hops: 3, queries: 1}}
  - {at: 3s, udp: {from: h1, to: h2, port: 5001, count: 2, size: 10, interval: 1ms}}
  - {at: 4s, tcp: {from: h1, to: h2, port: 80, bytes: 100}}
  - {at: 5s, sctp: {from: h1, to: h2, port: 9899, messages: 1, size: 10}}
  - {at: 6s, syn_flood: {from: h1, to: h2, port: 80, count: 10, rate: 100, spoof: true}}
  - {at: 7s, frag_flood: {from: h1, to: h2, count: 10, rate: 100, size: 1400}}
""")
# The `ping` command validates the traffic section without running it.

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fuzz(data, doc, name: str, dump, args) -> None:
    if data.draw(st.booleans()):
        raw = dump(mutate_document(data, doc)).encode("utf-8")
    else:
        raw = mutate_text(data, dump(doc))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(raw)
        command = args(path, d)
        with boxed(d, allowed=r"port\d+\.pcap"):
            check_outcome(*run_quietly(command))


def _json_dump(doc) -> str:
    return json.dumps(doc, indent=1)


def _yaml_dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _pcap(d: str) -> str:
    from dataplane.pcap import PcapWriter
    path = os.path.join(d, "in.pcap")
    with PcapWriter(path) as w:
        w.write(bytes.fromhex("080000000100080000000111080045000014000100004011") + bytes(28), 1000)
    return path


@FUZZ
@given(st.data())
def test_random_runtime_json_is_loaded_or_refused(data):
    _fuzz(data, RUNTIME_DOC, "r.json", _json_dump,
          lambda path, d: ["replay", PROGRAM, "--runtime", path, "-i", f"1={_pcap(d)}", "--out-dir", d])


@FUZZ
@given(st.data())
def test_random_entries_yaml_is_loaded_or_refused(data):
    _fuzz(data, ENTRIES_DOC, "e.yaml", _yaml_dump,
          lambda path, d: ["replay", PROGRAM, "--entries", path, "-i", f"1={_pcap(d)}", "--out-dir", d])


@FUZZ
@given(st.data())
def test_random_topologies_are_loaded_or_refused(data):
    _fuzz(data, TOPOLOGY_DOC, "t.yaml", _yaml_dump,
          lambda path, d: ["ping", path, "h1", "h2", "-c", "1", "--no-progress"])


TUTORIAL = os.path.join(os.path.dirname(__file__), os.pardir, "net", "tutorial_fixture", "basic")
TUTORIAL_DOC = json.loads(open(os.path.join(TUTORIAL, "pod-topo", "topology.json")).read())


@FUZZ
@given(st.data())
def test_random_tutorial_topologies_are_loaded_or_refused(data):
    """A P4 tutorials topology.json (with its sX-runtime.json files and the exercise's program beside it)."""
    if data.draw(st.booleans()):
        raw = _json_dump(mutate_document(data, TUTORIAL_DOC)).encode("utf-8")
    else:
        raw = mutate_text(data, _json_dump(TUTORIAL_DOC))
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(TUTORIAL, os.path.join(d, "basic"))
        path = os.path.join(d, "basic", "pod-topo", "topology.json")
        with open(path, "wb") as f:
            f.write(raw)
        with boxed(d):
            check_outcome(*run_quietly(["ping", path, "h1", "h2", "-c", "1", "--no-progress"]))


def test_the_fuzzed_documents_are_valid_to_begin_with(tmp_path):
    for doc, name, dump, flag in ((RUNTIME_DOC, "r.json", _json_dump, "--runtime"),
                                  (ENTRIES_DOC, "e.yaml", _yaml_dump, "--entries")):
        (tmp_path / name).write_text(dump(doc))
        code, _, err = run_quietly(["replay", PROGRAM, flag, str(tmp_path / name), "-i",
                                    f"1={_pcap(str(tmp_path))}", "--out-dir", str(tmp_path)])
        assert code == 0, err
    (tmp_path / "t.yaml").write_text(_yaml_dump(TOPOLOGY_DOC))
    code, out, err = run_quietly(["ping", str(tmp_path / "t.yaml"), "h1", "h2", "-c", "1", "--no-progress"])
    assert code == 0 and "1 received" in out, err
    code, out, err = run_quietly(["ping", os.path.join(TUTORIAL, "pod-topo", "topology.json"), "h1", "h2", "-c", "1",
                                  "--no-progress"])
    assert code == 0 and "1 received" in out, err
