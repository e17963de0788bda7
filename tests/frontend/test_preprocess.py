"""The preprocessor: includes, macros, conditionals, and line mapping."""

from __future__ import annotations

import pytest

from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.preprocess import preprocess, read_source


def pp(text: str, name: str = "main.p4", **kw):
    return preprocess(SourceFile(name, text), **kw)


def test_include_system_file_maps_lines_back_to_it():
    out = pp('#include <core.p4>\nconst bit<8> X = 1;\n')
    # The line after the include maps back to line 2 of main.p4.
    idx = out.text.split("\n").index("const bit<8> X = 1;")
    src, line = out.locate(idx + 1)
    assert (src.path, line) == ("main.p4", 2)
    assert any(f.path.endswith("core.p4") for f in out.files)


def test_quoted_include_is_relative_to_the_including_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.p4").write_text("const bit<8> INNER = 1;\n")
    (tmp_path / "sub" / "outer.p4").write_text('#include "inner.p4"\n')
    main = tmp_path / "main.p4"
    main.write_text('#include "sub/outer.p4"\n')
    out = preprocess(read_source(str(main)))
    assert "const bit<8> INNER = 1;" in out.text


def test_include_search_path(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mylib.p4").write_text("const bit<8> LIB = 2;\n")
    out = pp("#include <mylib.p4>\n", include_dirs=[str(tmp_path / "lib")])
    assert "LIB = 2" in out.text


def test_missing_include_is_reported_at_the_directive():
    with pytest.raises(DiagnosticError) as exc:
        pp("\n#include <nothere.p4>\n")
    d = exc.value.diagnostics[0]
    assert "cannot find include file 'nothere.p4'" in d.message
    assert (d.span.line, d.span.col) == (2, 1)


def test_ifdef_else_endif_and_include_guards():
    text = "#define A\n#ifdef A\nyes\n#else\nno\n#endif\n#ifndef A\nno2\n#endif\n"
    out = pp(text)
    assert "yes" in out.text and "no" not in out.text.replace("yes", "")


@pytest.mark.parametrize("expr,taken", [
    ("0", False), ("1", True), ("V >= 20200408", False), ("V < 20200408", True),
    ("defined(V) && !defined(W)", True), ("(2 + 3) * 4 == 20", True), ("UNKNOWN", False),
])
def test_if_expressions(expr, taken):
    out = pp(f"#define V 20180101\n#if {expr}\nTAKEN\n#endif\n")
    assert ("TAKEN" in out.text) == taken


def test_elif_chain():
    out = pp("#define X 2\n#if X == 1\none\n#elif X == 2\ntwo\n#else\nother\n#endif\n")
    assert "two" in out.text and "one" not in out.text and "other" not in out.text


def test_directives_inside_block_comments_are_ignored():
    out = pp("/*\n#include <nothere.p4>\n*/\nconst bit<8> A = 1;\n")
    assert "A = 1" in out.text


def test_macro_events_record_defines_and_undefs():
    out = pp("#define N 4\n#undef N\n")
    assert [(e.name, e.value) for e in out.macro_events] == [("N", "4"), ("N", None)]


@pytest.mark.parametrize("text,message", [
    ("#ifdef X\n", "unterminated conditional directive"),
    ("#endif\n", "#endif without #if"),
    ("#define F(x) x\n", "function-like macro 'F' is not supported"),
    ("#bogus\n", "unknown preprocessor directive '#bogus'"),
    ('#error "stop here"\n', '#error "stop here"'),
    ("#if 1 +\n#endif\n", "cannot evaluate #if expression"),
])
def test_errors(text, message):
    with pytest.raises(DiagnosticError) as exc:
        pp(text)
    assert message in exc.value.diagnostics[0].message


def test_non_utf8_file_is_a_user_error(tmp_path):
    p = tmp_path / "junk.p4"
    p.write_bytes(b"header h { bit<8> a; }\n\xff\xfe\x00junk")
    with pytest.raises(DiagnosticError) as exc:
        read_source(str(p))
    d = exc.value.diagnostics[0]
    assert "not UTF-8" in d.message and d.span.line == 2
