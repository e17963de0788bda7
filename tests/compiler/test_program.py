"""Compiling programs: generated source, dumps for debugging, unsupported constructs reported as errors."""

from __future__ import annotations

import pytest

from dataplane.compiler.program import compile_program
from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.program import check_source, load_program
from .test_byteorder import BIG
from p4helpers import PROGRAMS, V1MODEL_MAIN, V1MODEL_SKELETON, with_ingress


def test_dump_writes_the_generated_module_and_tracebacks_point_at_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPLANE_DUMP", str(tmp_path))
    program = compile_program(load_program(str(PROGRAMS / "basic_ipv4.p4")))
    dumped = tmp_path / "basic_ipv4.py"
    assert dumped.read_text() == program.source
    assert program.make_fast.__code__.co_filename == str(dumped)
    compile(program.source, "check", "exec")      # the dump is valid Python on its own


def test_generated_modules_call_zlibs_crc32_and_int_from_bytes_bound_once():
    import zlib
    from dataplane.runtime.hashing import crc32
    program = compile_program(load_program(str(PROGRAMS / "ipv4_router.p4")))
    assert program.namespace["crc32"] is zlib.crc32
    assert crc32(b"123456789") == zlib.crc32(b"123456789") == 0xCBF43926
    assert program.namespace["int_from_bytes"] == int.from_bytes
    assert "int.from_bytes(" not in program.source and f"int_from_bytes(data[0:14]{BIG})" in program.source


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


def test_value_sets_of_structs_match_the_select_keys_concatenated():
    from pathlib import Path
    from dataplane.runtime.device import Device
    regression = Path(__file__).resolve().parents[1] / "conformance" / "regressions" / "value_set_structs.p4"
    device = Device(compile_program(load_program(str(regression))))
    device.value_set_add("P.pairs", (0x1234 << 3) | 0b101)     # {f = 0x1234, inner = {g = 5}}
    device.value_set_add("P.singles", 0x0800)
    outputs = {data.hex(): [out.hex() for _port, out in device.process(0, data).outputs]
               for data in (bytes.fromhex("1234A0"), bytes.fromhex("1234C0"), bytes.fromhex("080020"))}
    assert outputs == {"1234a0": ["1234aa"], "1234c0": ["1234c0"], "080020": ["080011"]}


def test_log_msg_prints_headers_and_structs_by_their_fields():
    from dataplane.runtime.device import Device
    text = with_ingress('apply { meta.x = 7; meta.y = 9; '
                        'log_msg("valid={} eth={} x={}", {hdr.ethernet.isValid(), hdr.ethernet, meta.x}); '
                        'log_msg("x={} y={}", meta); }')
    logged = []
    device = Device(compile_program(check_source(SourceFile("t.p4", text))), log=logged.append)
    device.process(0, bytes.fromhex("000000000001" "000000000002" "0800"))
    assert [m for m in logged if "=" in m] == ["valid=True eth=(1, 2, 2048) x=7", "x=7 y=9"]


def test_match_kind_values_are_checked_but_not_run():
    text = with_ingress("const tuple<match_kind> kinds = { exact };\n"
                        "apply { match_kind k = ternary; }")
    checked = check_source(SourceFile("t.p4", text))
    with pytest.raises(DiagnosticError) as exc:
        compile_program(checked)
    assert "a match_kind value in a run-time expression is not supported" in str(exc.value)


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


def test_a_varbit_field_not_last_is_reported_at_the_field():
    text = with_ingress("apply { }").replace("header ethernet_t {", "header vb_t { bit<8> a; varbit<32> v; bit<8> b; }\n"
                                             "header ethernet_t {", 1)
    assert "header vb_t" in text
    text = text.replace("struct headers_t {", "struct headers_t {\n    vb_t vb;", 1)
    with pytest.raises(DiagnosticError) as exc:
        compile_program(check_source(SourceFile("t.p4", text)))
    [d] = exc.value.diagnostics
    source_line = "header vb_t { bit<8> a; varbit<32> v; bit<8> b; }"
    line = text.splitlines().index(source_line) + 1
    assert (d.span.line, d.span.col) == (line, source_line.index("varbit") + 1)
    assert d.message == "the varbit field 'v' of header 'vb_t' must be its last field"
