"""Our P4Info against p4c's and against the P4 tutorials' control planes (skipped without the corpus).

* p4c oracle: the P4Info files p4c wrote in testdata/p4_16_errors_outputs, for the programs dataplane
  compiles, must equal ours field by field (IDs, aliases, order, annotations, type_info);
* the tutorials: every table, action, match field and parameter name that an sX-runtime.json or the
  p4runtime exercise's controller uses resolves in our P4Info, the tutorials' own P4InfoHelper builds
  their table entries from it, and the IDs follow p4c's rule;
* p4runtime-shell builds its table and action objects from our P4Info (no server needed).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from google.protobuf import text_format
from p4.config.v1 import p4info_pb2

from conformance import corpus
from conformance.corpus import corpus_dir
from dataplane.build import build
from dataplane.diagnostics import DiagnosticError
from dataplane.p4runtime import ids
from dataplane.p4runtime.ids import hashed_id
from dataplane.p4runtime.p4info import build_p4info, p4info_bytes


def _p4c_outputs() -> list[Path]:
    d = corpus.testdata() / "p4_16_errors_outputs"
    return sorted(d.glob("*.p4info.txtpb")) if d.is_dir() else []


def _exercises() -> Path:
    return corpus_dir() / "tutorials" / "exercises"


def _runtime_files() -> list[Path]:
    d = _exercises()
    return sorted(d.glob("**/s*-runtime.json")) if d.is_dir() else []


def _require(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"the corpus is not here ({path})")


def _ours(program: Path) -> p4info_pb2.P4Info:
    return build_p4info(build(str(program)))


# ---------------------------------------------------------------------------- p4c's own P4Info files


@pytest.mark.parametrize("expected", _p4c_outputs() or [None], ids=lambda p: p.name if p else "no-corpus")
def test_same_p4info_as_p4c(expected):
    if expected is None:
        pytest.skip("p4c's testdata is not in the corpus")
    program = expected.parent.parent / "p4_16_errors" / expected.name[:-len(".p4info.txtpb")]
    try:
        ours = _ours(program)
    except DiagnosticError:
        pytest.skip("dataplane rejects this program (p4c, too, rejects it after writing its P4Info)")
    theirs = text_format.Parse(expected.read_text(), p4info_pb2.P4Info())
    assert ours == theirs
    assert p4info_bytes(ours, "text").decode() == expected.read_text()


def test_at_least_the_known_p4c_outputs_are_compared():
    outputs = _p4c_outputs()
    if not outputs:
        pytest.skip("p4c's testdata is not in the corpus")
    accepted = []
    for expected in outputs:
        try:
            _ours(expected.parent.parent / "p4_16_errors" / expected.name[:-len(".p4info.txtpb")])
            accepted.append(expected.name)
        except DiagnosticError:
            pass
    assert {"issue1777-bmv2.p4.p4info.txtpb", "issue3299.p4.p4info.txtpb"} <= set(accepted)


def test_name_annotations_as_p4c_names_them():
    program = corpus.testdata() / "p4_16_samples" / "name_annotations_to_p4info-bmv2.p4"
    _require(program)
    info = _ours(program)
    # p4c's output for this sample (p4_16_samples_outputs/name_annotations_to_p4info-bmv2.p4.p4info.txtpb):
    # the control's @name does not rename its objects; the table's, action's, key's and parameter's do.
    (table,) = info.tables
    assert (table.preamble.id, table.preamble.name, table.preamble.alias) == (49805857, "IngressI.red", "red")
    assert [(m.id, m.name, m.bitwidth) for m in table.match_fields] == [(1, "green", 9)]
    assert [r.id for r in table.action_refs] == [23079077, 21257015]
    assert table.const_default_action_id == 21257015
    assert [(a.preamble.id, a.preamble.name, a.preamble.alias) for a in info.actions] == [
        (21257015, "NoAction", "NoAction"), (23079077, "IngressI.blue", "blue")]
    assert [(p.id, p.name, p.bitwidth) for p in info.actions[1].params] == [(1, "orange", 9)]
    assert info.HasField("type_info")


# ---------------------------------------------------------------------------- the tutorials


def _program_for(runtime: Path) -> Path:
    """The solution program an sX-runtime.json is written for (its "p4info" names build/<prog>.p4.p4info...)."""
    name = Path(json.loads(runtime.read_text())["p4info"]).name.split(".p4info")[0]
    exercise = next(p for p in [runtime.parent, *runtime.parents] if p.parent == _exercises())
    for candidate in [exercise / "solution" / name, *_exercises().glob(f"*/solution/{name}")]:
        if candidate.exists():
            return candidate
    raise AssertionError(f"no solution program {name} for {runtime}")


def _names(objects) -> dict:
    return {o.preamble.name: o for o in objects}


@pytest.mark.parametrize("runtime", _runtime_files() or [None],
                         ids=lambda p: str(p.relative_to(_exercises())) if p else "no-corpus")
def test_runtime_json_names_resolve(runtime):
    if runtime is None:
        pytest.skip("the P4 tutorials are not in the corpus")
    info = _ours(_program_for(runtime))
    tables, actions = _names(info.tables), _names(info.actions)
    for entry in json.loads(runtime.read_text()).get("table_entries", []):
        table = tables[entry["table"]]
        action = actions[entry["action_name"]]
        assert action.preamble.id in [r.id for r in table.action_refs]
        assert set(entry.get("match", {})) <= {m.name for m in table.match_fields}
        assert set(entry.get("action_params", {})) <= {p.name for p in action.params}


@pytest.mark.parametrize("runtime", _runtime_files() or [None],
                         ids=lambda p: str(p.relative_to(_exercises())) if p else "no-corpus")
def test_tutorials_p4info_helper_builds_the_entries(runtime, tmp_path):
    if runtime is None:
        pytest.skip("the P4 tutorials are not in the corpus")
    helper_module = _tutorials_helper()
    path = tmp_path / "prog.p4info.txtpb"
    info = _ours(_program_for(runtime))
    path.write_bytes(p4info_bytes(info, "text"))
    helper = helper_module.P4InfoHelper(str(path))
    for e in json.loads(runtime.read_text()).get("table_entries", []):
        built = helper.buildTableEntry(table_name=e["table"], match_fields=e.get("match"),
                                       default_action=e.get("default_action", False),
                                       action_name=e["action_name"], action_params=e.get("action_params"),
                                       priority=e.get("priority"))
        assert built.table_id == _names(info.tables)[e["table"]].preamble.id
        assert built.action.action.action_id == _names(info.actions)[e["action_name"]].preamble.id


def _tutorials_helper():
    utils = corpus_dir() / "tutorials" / "utils"
    _require(utils / "p4runtime_lib" / "helper.py")
    if str(utils) not in sys.path:
        sys.path.insert(0, str(utils))
    from p4runtime_lib import helper
    return helper


def _solutions() -> list[Path]:
    d = _exercises()
    found = sorted(d.glob("*/solution/*.p4")) + sorted(d.glob("p4runtime/*.p4")) if d.is_dir() else []
    return found


@pytest.mark.parametrize("program", _solutions() or [None], ids=lambda p: p.name if p else "no-corpus")
def test_tutorial_ids_follow_the_rule(program):
    if program is None:
        pytest.skip("the P4 tutorials are not in the corpus")
    info = _ours(program)
    groups = [(ids.TABLE, info.tables), (ids.ACTION, info.actions), (ids.COUNTER, info.counters),
              (ids.REGISTER, info.registers), (ids.DIRECT_COUNTER, info.direct_counters)]
    for prefix, objects in groups:
        for o in objects:     # none of the tutorials uses @id, and no two of their names collide
            assert o.preamble.id == hashed_id(prefix, o.preamble.name), o.preamble.name
    for header in info.controller_packet_metadata:
        assert header.preamble.id >> 24 == ids.CONTROLLER_HEADER


def test_p4runtime_exercise_controller_names_resolve():
    exercise = _exercises() / "p4runtime"
    controller = exercise / "solution" / "mycontroller.py"
    _require(controller)
    info = _ours(exercise / "advanced_tunnel.p4")
    text = controller.read_text()
    known = {o.preamble.name for group in (info.tables, info.actions, info.counters) for o in group}
    named = set(re.findall(r'"(My(?:Ingress|Egress)\.\w+)"', text))
    assert named and named <= known
    fields = {m.name for t in info.tables for m in t.match_fields}
    assert set(re.findall(r'"(hdr\.[\w.]+)"', text)) <= fields
    counters = re.findall(r'printCounter\([^,]+,\s*\w+,\s*"([\w.]+)"', text)
    assert set(counters) <= {c.preamble.name for c in info.counters}


def test_tutorial_p4runtime_ids_match_p4c():
    # IDs p4c gives the basic exercise (the tutorials' build/basic.p4.p4info.txtpb, widely published).
    program = _exercises() / "basic" / "solution" / "basic.p4"
    _require(program)
    info = _ours(program)
    assert _names(info.tables)["MyIngress.ipv4_lpm"].preamble.id == 37375156
    assert {a.preamble.name: a.preamble.id for a in info.actions} == {
        "NoAction": 21257015, "MyIngress.drop": 25652968, "MyIngress.ipv4_forward": 28792405}


# ---------------------------------------------------------------------------- p4runtime-shell


@pytest.fixture
def shell_context():
    """p4runtime-shell's module-level context, restored after the test."""
    shell = pytest.importorskip("p4runtime_sh.shell")
    from p4runtime_sh.context import Context
    saved = shell.context
    shell.context = Context()
    try:
        yield shell
    finally:
        shell.context = saved


def test_p4runtime_shell_builds_objects_from_our_p4info(shell_context):
    program = _exercises() / "basic" / "solution" / "basic.p4"
    _require(program)
    from p4runtime_sh.context import P4Type
    sh = shell_context
    info = _ours(program)
    sh.context.set_p4info(info)
    assert sorted(sh.P4Objects(P4Type.table)._names) == ["MyIngress.ipv4_lpm"]
    assert sorted(sh.P4Objects(P4Type.action)._names) == ["MyIngress.drop", "MyIngress.ipv4_forward", "NoAction"]
    # By alias too, as shell users type them.
    assert sh.P4Objects(P4Type.table)["ipv4_lpm"] is not None
    te = sh.TableEntry("MyIngress.ipv4_lpm")(action="MyIngress.ipv4_forward")
    te.match["hdr.ipv4.dstAddr"] = "10.0.1.1/32"
    te.action["dstAddr"] = "08:00:00:00:01:11"
    te.action["port"] = "1"
    msg = te.msg()
    assert msg.table_id == 37375156
    assert msg.match[0].lpm.prefix_len == 32 and msg.match[0].lpm.value == bytes([10, 0, 1, 1])
    assert msg.action.action.action_id == 28792405
    assert [(p.param_id, p.value) for p in msg.action.action.params] == [
        (1, bytes.fromhex("080000000111")), (2, b"\x01")]
