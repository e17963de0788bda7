"""Compiling programs: generated source, dumps for debugging, unsupported constructs reported as errors."""

from __future__ import annotations

import pytest

from dataplane.compiler.program import compile_program
from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.program import check_source, load_program
from p4helpers import PROGRAMS, V1MODEL_MAIN, V1MODEL_SKELETON, with_ingress


def test_dump_writes_the_generated_module_and_tracebacks_point_at_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPLANE_DUMP", str(tmp_path))
    program = compile_program(load_program(str(PROGRAMS / "basic_ipv4.p4")))
    dumped = tmp_path / "basic_ipv4.py"
    assert dumped.read_text() == program.source
    assert program.make_fast.__code__.co_filename == str(dumped)
    compile(program.source, "check", "exec")      # the dump is valid Python on its own


def test_one_program_many_devices():
    from dataplane.runtime.device import Device
    program = compile_program(load_program(str(PROGRAMS / "acl_stateful.p4")))
    a, b = Device(program), Device(program)
    assert a.externs["MyIngress.flow_packets"] is not b.externs["MyIngress.flow_packets"]
    assert a.tables["MyIngress.acl"] is not b.tables["MyIngress.acl"]


def test_every_shipped_program_compiles_with_a_fast_path():
    for path in sorted(PROGRAMS.glob("*.p4")):
        program = compile_program(load_program(str(path)))
        assert "def fast(port, data):" in program.source, path


def test_unsupported_constructs_are_diagnostics():
    text = with_ingress("table t { key = { meta.x: exact; } actions = { NoAction; } implementation = "
                        "action_profile(32w128); } apply { t.apply(); }")
    with pytest.raises(DiagnosticError) as exc:
        compile_program(check_source(SourceFile("t.p4", text)))
    assert "action profiles and selectors" in exc.value.diagnostics[0].message


def test_explicit_reject_warns_like_p4c():
    text = V1MODEL_SKELETON.replace("transition accept;", "transition reject;") + (
        "control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) "
        "{ apply { } }\n") + V1MODEL_MAIN
    program = compile_program(check_source(SourceFile("t.p4", text)))
    assert any("explicit transition to reject" in w.message for w in program.warnings)


def test_program_scope_instances_are_named_by_their_own_name():
    text = with_ingress(
        "action a() { m.read(meta.x); r.write(0, 1); }\n"
        "table t { key = { meta.y: exact; } actions = { a; } default_action = a; meters = m; }\n"
        "apply { t.apply(); }").replace(
        "control MyIngress", '@name("named") direct_meter<bit<32>>(MeterType.packets) m;\n'
                             "register<bit<8>>(4) r;\ncontrol MyIngress")
    program = compile_program(check_source(SourceFile("t.p4", text)))
    assert sorted(x.name for x in program.externs) == ["named", "r"]
    assert program.table("MyIngress.t").direct_meter == "named"
