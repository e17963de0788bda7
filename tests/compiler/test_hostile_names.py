"""User text reaches generated Python only as string constants: it can neither run nor break compilation.

Every carrier of user text into the compiler is tried with hostile strings
(quotes, backslashes, line breaks, NUL, format braces, Python code): the
program's file name, the directory of an #include, @name annotations on
tables, actions, controls, externs, header fields and keys, log_msg string
literals, and a topology's `program:` path. Each time the program must
compile and run, no file may appear in the working directory, and the
generated module, tokenized, must differ from the module of the same program
with harmless text only inside string literals. The exception is @name text
that is no name a control plane can address (control characters, line
breaks) or no string literal at all: that must be refused, with an error at
each annotation, before anything is generated.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import tokenize

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dataplane.build import build
from dataplane.compiler.emitter import Emitter
from dataplane.compiler.program import HEADER_COMMENT, check_comments, module_name
from dataplane.diagnostics import DiagnosticError
from dataplane.runtime.device import Device
from dataplane.runtime.tables import KeySpec, ActionSpec, MatchValue, Table, TableError
from dataplane.runtime.trace import DropReason

CODE = '__import__("os").system("touch PWNED")'
HOSTILE = ["'", '"', "'''", '"""', "\\", "\n", "\r", "\x00", "\u2028", "\u2029", "{x}", "{0}", "%s", CODE,
           # An end to a comment or a string, then code.
           f"x\n{CODE}\n#", f"');{CODE};#", f'");{CODE};#', f"'''\n{CODE}\n'''", "\\'\\\"\\\n"]
# A file name cannot hold NUL, and '/' would make it a path.
FILE_HOSTILE = [h for h in HOSTILE if "\x00" not in h and "/" not in h]
# What a control plane cannot address in a name: C0 and C1 control characters and Unicode line breaks.
UNADDRESSABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NAME_HOSTILE = [h for h in HOSTILE if not UNADDRESSABLE.search(h)]
NAME_REFUSED = [h for h in HOSTILE if UNADDRESSABLE.search(h)]

PROGRAM = """#include <core.p4>
#include <v1model.p4>
#include <checks.p4>
header ethernet_t { @name(NAME) bit<48> dstAddr; bit<48> srcAddr; bit<16> etherType; }
struct headers_t { ethernet_t ethernet; }
struct metadata_t { bit<32> x; }
parser MyParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.ethernet); transition accept; }
}
control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyEgress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) { apply { } }
control MyDeparser(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.ethernet); } }
@name(NAME) control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    @name(NAME) register<bit<32>>(4) seen;
    @name(NAME) counter(4, CounterType.packets) hits;
    @name(NAME) action forward(bit<9> port) { sm.egress_spec = port; log_msg(LOG); }
    @name(NAME) table route {
        key = { hdr.ethernet.dstAddr: exact @name(NAME); }
        actions = { forward; NoAction; }
        default_action = forward(2);
    }
    apply {
        seen.write(0, 1);
        hits.count(0);
        route.apply();
        check_type(hdr.ethernet.etherType);
    }
}
V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
"""
# Included from the include directory: its spans (which name the file) reach the generated code.
CHECKS = "action check_type(in bit<16> t) { assert(t != 0x0bad); }\n"

GOOD = bytes(12) + b"\x08\x00"
BAD = bytes(12) + b"\x0b\xad"          # fails the assertion in checks.p4

STRINGISH = {tokenize.STRING} | {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                                  if hasattr(tokenize, n)}


def p4_string(text: str) -> str:
    """text as a P4 string literal (the lexer takes any character but these three raw)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def program_text(name_body: str = '"plain"', log: str = "plain log") -> str:
    return PROGRAM.replace("NAME", name_body).replace("LOG", p4_string(log))


def write_program(directory, file_name: str, text: str, include_dir_name: str = "inc") -> tuple[str, str]:
    """Write the program and its include file; return (program path, include directory)."""
    inc = os.path.join(directory, include_dir_name)
    os.makedirs(inc, exist_ok=True)
    with open(os.path.join(inc, "checks.p4"), "w", encoding="utf-8", newline="") as f:
        f.write(CHECKS)
    path = os.path.join(directory, file_name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path, inc


def tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def code_tokens(source: str) -> list[tuple[int, str]]:
    """The tokens of a generated module other than string literals: all that could run."""
    return [(t.type, t.string) for t in tokens(source) if t.type not in STRINGISH]


def string_values(source: str) -> list[str]:
    """The values of the plain string literals of a generated module."""
    out = []
    for t in tokens(source):
        if t.type == tokenize.STRING and "f" not in re.match(r"[A-Za-z]*", t.string).group().lower():
            value = ast.literal_eval(t.string)
            if isinstance(value, str):
                out.append(value)
    return out


_REFERENCE: dict = {}


def reference_code(tmp_path_factory) -> list:
    """The code tokens of the program with harmless names: what every hostile variant must compile to."""
    if "code" not in _REFERENCE:
        d = tmp_path_factory.mktemp("reference")
        path, inc = write_program(str(d), "benign.p4", program_text())
        _REFERENCE["code"] = code_tokens(build(path, [inc]).source)
    return _REFERENCE["code"]


def compile_and_run(path: str, inc: str, cwd) -> tuple:
    """Build and run the program (fast and traced), in cwd; check nothing appeared there."""
    before = sorted(os.listdir(cwd))
    program = build(path, [inc])
    dev = Device(program)
    fast = dev.process(1, GOOD)
    traced = dev.process(1, GOOD, trace=True)
    failed = dev.process(1, BAD, trace=True)
    assert dev.internal_errors == []
    assert fast.outputs == traced.outputs == [(2, GOOD)]
    assert [r for r, _ in failed.drops] == [DropReason.ASSERTION_FAILED]
    assert sorted(os.listdir(cwd)) == before
    return program, dev, failed


def assert_only_strings_differ(source: str, reference: list) -> None:
    assert [t.string for t in tokens(source) if t.type == tokenize.COMMENT] == [HEADER_COMMENT]
    assert code_tokens(source) == reference


# ---------------------------------------------------------------------------- carriers


@pytest.mark.parametrize("hostile", FILE_HOSTILE)
def test_hostile_program_file_name(hostile, tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, inc = write_program(str(tmp_path), f"{hostile}.p4", program_text())
    program, dev, failed = compile_and_run(path, inc, tmp_path)
    assert_only_strings_differ(program.source, reference_code(tmp_path_factory))
    assert path in string_values(program.source)
    assert re.fullmatch(r"[A-Za-z0-9_]+", program.name)


@pytest.mark.parametrize("hostile", FILE_HOSTILE)
def test_hostile_include_directory(hostile, tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, inc = write_program(str(tmp_path), "prog.p4", program_text(), include_dir_name=hostile)
    program, dev, failed = compile_and_run(path, inc, tmp_path)
    assert_only_strings_differ(program.source, reference_code(tmp_path_factory))
    # The failed assertion names the included file, through the hostile directory.
    where = os.path.join(inc, "checks.p4")
    assert failed.drops[0][1].startswith(where + ":")
    assert any(v.startswith(where + ":") for v in string_values(program.source))


def test_the_hostile_names_cover_both_outcomes():
    assert CODE in NAME_HOSTILE and f'");{CODE};#' in NAME_HOSTILE
    assert "\n" in NAME_REFUSED and "\x00" in NAME_REFUSED and f"x\n{CODE}\n#" in NAME_REFUSED


@pytest.mark.parametrize("hostile", NAME_HOSTILE)
def test_hostile_name_annotations(hostile, tmp_path, tmp_path_factory, monkeypatch):
    program = check_name_annotation(p4_string(hostile), tmp_path, tmp_path_factory, monkeypatch)
    # The string literal is decoded: the name is the hostile text itself, not its escaped spelling.
    assert program.tables[0].name == f"MyIngress.{hostile}"


@pytest.mark.parametrize("hostile", NAME_REFUSED)
def test_unaddressable_name_annotations_are_refused(hostile, tmp_path, monkeypatch):
    check_name_refused(p4_string(hostile), "@name gives a control-plane name with the ",
                       tmp_path, monkeypatch)


@pytest.mark.parametrize("body", [
    # Not a string: the raw text between the parentheses, line breaks and all.
    f'"x"\n{CODE}\n"y"', CODE, "a\nb", '"a"\r"b"', '"x" "y"', "a.b",
])
def test_raw_name_annotation_bodies(body, tmp_path, monkeypatch):
    check_name_refused(body, "@name requires a string literal", tmp_path, monkeypatch)


def check_name_refused(body: str, message: str, tmp_path, monkeypatch) -> None:
    """The program is refused with one error at the body of each @name, and nothing is run or written."""
    monkeypatch.chdir(tmp_path)
    text = program_text(name_body=body)
    path, inc = write_program(str(tmp_path), "prog.p4", text)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(DiagnosticError) as exc:
        build(path, [inc])
    assert sorted(os.listdir(tmp_path)) == before
    bodies = [m.end() for m in re.finditer(r"@name\(", text)]
    expected = [(text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)) for at in bodies]
    diags = exc.value.diagnostics
    assert [(d.span.line, d.span.col) for d in diags] == expected
    for d in diags:
        assert d.severity == "error" and d.message.startswith(message)
        assert d.span.path == path
        assert "^" in d.render()


def check_name_annotation(body: str, tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, inc = write_program(str(tmp_path), "prog.p4", program_text(name_body=body))
    program, dev, failed = compile_and_run(path, inc, tmp_path)
    assert_only_strings_differ(program.source, reference_code(tmp_path_factory))
    table = program.tables[0]
    assert table.name != "MyIngress.route"                # the annotation was used
    strings = string_values(program.source)
    assert table.name in strings
    assert table.actions[0].name in strings
    trace_names = [getattr(e, "table", None) for e in failed.trace.events]
    assert table.name in trace_names
    return program


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_log_message(hostile, tmp_path, tmp_path_factory, monkeypatch):
    check_log_message(hostile, tmp_path, tmp_path_factory, monkeypatch)


def check_log_message(text: str, tmp_path, tmp_path_factory, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    path, inc = write_program(str(tmp_path), "prog.p4", program_text(log=text))
    program, dev, failed = compile_and_run(path, inc, tmp_path)
    assert_only_strings_differ(program.source, reference_code(tmp_path_factory))
    assert text in string_values(program.source)
    assert dev.log_lines[0] == text


NAME_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=24)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=NAME_TEXT)
def test_any_name_annotation_string(text, tmp_path_factory, monkeypatch):
    work = tmp_path_factory.mktemp("name")
    # "t" first: a name starting with "." is a top-level name, which is beside the point here.
    check_name_annotation(p4_string("t" + text), work, tmp_path_factory, monkeypatch)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=12), bad=st.characters(whitelist_categories=("Cc", "Zl", "Zp")), at=st.integers(0, 12))
def test_any_name_with_a_control_character_is_refused(text, bad, at, tmp_path_factory, monkeypatch):
    work = tmp_path_factory.mktemp("refused")
    name = text[:at] + bad + text[at:]
    check_name_refused(p4_string(name), "@name gives a control-plane name with the ",
                       work, monkeypatch)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
def test_any_log_message(text, tmp_path_factory, monkeypatch):
    work = tmp_path_factory.mktemp("log")
    check_log_message(text, work, tmp_path_factory, monkeypatch)


@pytest.mark.parametrize("hostile", ["'", '"\n\\{0}', f"x\n{CODE}\n#"])
def test_hostile_topology_program_path(hostile, tmp_path, tmp_path_factory, monkeypatch):
    from dataplane.net.network import Network
    from dataplane.net.topology import load_topology
    monkeypatch.chdir(tmp_path)
    # The topology's program path is relative to it: the include directory comes from its `include:`.
    path, inc = write_program(str(tmp_path), f"{hostile}.p4", program_text())
    topo = tmp_path / "net.yaml"
    topo.write_text(f"name: hostile\nnodes:\n  s1:\n    kind: p4\n    program: {json.dumps(hostile + '.p4')}\n"
                    f"    include: [{json.dumps(inc)}]\n    interfaces: {{p1: {{port: 1}}}}\n")
    before = sorted(os.listdir(tmp_path))
    net = Network(load_topology(str(topo)))
    program = net.devices["s1"].device.program
    assert sorted(os.listdir(tmp_path)) == before
    assert_only_strings_differ(program.source, reference_code(tmp_path_factory))
    assert os.path.normpath(path) in string_values(program.source)


def test_reported_file_name_through_the_cli(tmp_path, monkeypatch):
    """The reproducer of the hole: a file name that ended the header comment and ran code."""
    from dataplane.cli import main
    monkeypatch.chdir(tmp_path)
    for name in (f"x\n{CODE}\n#.p4", "y\nthis is not python\n.p4"):
        text = program_text().replace("#include <checks.p4>\n", "").replace(
            "check_type(hdr.ethernet.etherType);", "")
        (tmp_path / name).write_text(text)
        (tmp_path / "empty.stf").write_text("")
        before = sorted(os.listdir(tmp_path))
        assert main(["stf", name, "empty.stf"]) == 0
        assert sorted(os.listdir(tmp_path)) == before


# ---------------------------------------------------------------------------- the guards themselves


@pytest.mark.parametrize("bad", ["\n", "\r", "\x00", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"])
def test_emitter_refuses_line_breaks(bad):
    em = Emitter()
    with pytest.raises(AssertionError):
        em.line(f"x = 1{bad}y = 2")
    with pytest.raises(AssertionError):
        em.insert(0, [f"# {bad}"])
    assert em.lines == []


def test_only_the_compilers_own_comments_pass():
    check_comments(HEADER_COMMENT + "\nx = '#'\n")
    with pytest.raises(AssertionError):
        check_comments(HEADER_COMMENT + "\nx = 1  # from a file name\n")
    with pytest.raises(AssertionError):
        check_comments("# Generated by dataplane from prog.p4\n")


@pytest.mark.parametrize("hint", ["é²", "9lives", "", "a-b.c", "٣", "x" * 50])
def test_fresh_names_are_ascii_identifiers(hint):
    name = Emitter().fresh(hint)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)


@pytest.mark.parametrize("path", ["..", "../../etc/passwd", "dir/..", ".p4", "é².p4", "a\n..\n.p4",
                                  "x" * 300 + ".p4", "/", ""])
def test_module_names_cannot_leave_the_dump_directory(path):
    name = module_name(path)
    assert re.fullmatch(r"[A-Za-z0-9_]{1,100}", name)


def test_dump_file_stays_in_the_dump_directory(tmp_path, monkeypatch):
    dump = tmp_path / "dump"
    monkeypatch.setenv("DATAPLANE_DUMP", str(dump))
    path, inc = write_program(str(tmp_path), "..\n²é.p4", program_text(log="é\u2028"))
    program = build(path, [inc])
    files = os.listdir(dump)
    assert files == [f"{program.name}.py"] and program.name == "_____"
    assert (dump / files[0]).read_text(encoding="utf-8") == program.source
    assert program.make_fast.__code__.co_filename == str(dump / files[0])


def test_table_priorities_must_be_integers():
    """Priorities are pasted into the generated lookup of ternary tables: only numbers are taken."""
    t = Table("t", [KeySpec("k", "ternary", 8)], [ActionSpec("a", "a", [], 0)], 16)
    with pytest.raises(TableError):
        t.add([MatchValue(1, mask=0xff)], "a", (), priority="1 or __import__('os').system('touch PWNED')")
    t.add([MatchValue(1, mask=0xff)], "a", (), priority=5)
    t.add([MatchValue(2, mask=0x0f)], "a", (), priority=3)
    assert t.lookup(1).priority == 5 and t.lookup(0x12).priority == 3
