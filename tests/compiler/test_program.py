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


def test_user_externs_are_located_diagnostics_that_list_what_dataplane_provides():
    # Valid P4 (`check` accepts it) that neither dataplane nor an unextended BMv2 can run.
    text = ("extern my_counter { my_counter(bit<32> n); void tick(); }\nextern void my_func(in bit<8> x);\n"
            + with_ingress("my_counter(4) c; apply { c.tick(); }"))
    with pytest.raises(DiagnosticError) as exc:
        compile_program(check_source(SourceFile("t.p4", text)))
    d = exc.value.diagnostics[0]
    assert d.message.startswith("extern 'my_counter' is not supported: dataplane runs only the externs of core.p4")
    assert d.span.source.line_text(d.span.line).startswith("my_counter(4) c;")
    assert "register, counter, meter" in d.hint and "mark_to_drop" in d.hint and "action_selector" in d.hint
    text = ("extern void my_func(in bit<8> x);\n" + with_ingress("apply { my_func(8w1); }"))
    with pytest.raises(DiagnosticError) as exc:
        compile_program(check_source(SourceFile("t.p4", text)))
    d = exc.value.diagnostics[0]
    assert d.message.startswith("extern function 'my_func' is not supported")
    assert "my_func(8w1)" in d.render() and "verify_checksum" in d.hint


def test_explicit_reject_warns_like_p4c():
    text = V1MODEL_SKELETON.replace("transition accept;", "transition reject;") + (
        "control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) "
        "{ apply { } }\n") + V1MODEL_MAIN
    program = compile_program(check_source(SourceFile("t.p4", text)))
    assert any("explicit transition to reject" in w.message for w in program.warnings)
