"""The preprocessor: includes, macros, conditionals, and line mapping."""

from __future__ import annotations

import pytest

from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.lexer import ParseInput, TokenPass
from dataplane.frontend.parser import get_parser
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
    ("#define F(x, x) x\n", "invalid parameter list of macro 'F': parameter 'x' appears twice"),
    ("#define F(x\n", "missing ')' in the parameter list of macro 'F'"),
    ("#define F(..., y) y\n", "'...' must be the last parameter"),
    ("#define F(x) x\n#if F(1)\n#endif\n", "function-like macro 'F' cannot be used in #if"),
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


def test_function_like_macro_events_carry_their_parameters():
    out = pp("#define F(a, b) a + b\n#define V(x, ...) x\n#define E() 1\n#define O (x)\n")
    assert [(e.name, e.params, e.variadic) for e in out.macro_events] == [
        ("F", ("a", "b"), False), ("V", ("x", "__VA_ARGS__"), True), ("E", (), False), ("O", None, False)]


def test_defined_sees_function_like_macros():
    assert "YES" in pp("#define F(x) x\n#if defined(F)\nYES\n#endif\n").text


# -- expansion (done token by token by the lexer, on what the preprocessor recorded) ------------------

def expand(text: str) -> str:
    """The tokens of `text` after macro expansion, on the lines after the #defines, joined by spaces."""
    first = sum(1 for line in text.split("\n") if line.startswith("#"))
    return " ".join(t.value for t in lex(text) if t.line > first)


def lex(text: str):
    """The token pass alone (no parsing): what the parser would be given."""
    return TokenPass(get_parser().parser.lexer.lexer.lexer.basic, ParseInput(pp(text))).run()


@pytest.mark.parametrize("defines,use,expansion", [
    # Arguments are expanded before substitution, then the result is scanned again.
    ("#define ADD(a, b) ((a) + (b))\n#define TWICE(x) ADD(x, x)", "TWICE(ADD(1, 2))",
     "( ( ( ( 1 ) + ( 2 ) ) ) + ( ( ( 1 ) + ( 2 ) ) ) )"),
    # Commas inside parentheses do not separate arguments; arguments may span lines.
    ("#define FIRST(a, b) a", "FIRST((1, 2),\n 3)", "( 1 , 2 )"),
    # A function-like macro's name without '(' is a plain name; the '(' may come on a later line.
    ("#define F(x) x + 1", "F; F\n(2)", "F ; 2 + 1"),
    # The name may come out of one expansion and its arguments from the text after it.
    ("#define F(x) x + 1\n#define G F", "G(5)", "5 + 1"),
    # Not expanded again inside its own expansion, even through an argument.
    ("#define L(x) L(x) + x", "L(L(1))", "L ( L ( 1 ) + 1 ) + L ( 1 ) + 1"),
    ("#define F F(1)\n#define G(x) x", "F", "F ( 1 )"),
    # '#' makes a string of the argument as written; '##' pastes, empty arguments included.
    ("#define S(x) #x", 'S(a  "q\\n" + b)', '"a \\"q\\\\n\\" + b"'),
    ("#define CAT(a, b) a ## b", "CAT(x, 1) CAT(, y) CAT(z, )", "x1 y z"),
    ("#define CAT(a, b) a ## b\n#define N 7", "CAT(N, N)", "NN"),
    # '...' collects the rest of the arguments, commas included, as __VA_ARGS__; it may be empty.
    ("#define V(f, ...) f(__VA_ARGS__)", "V(g, 1, (2, 3)) V(h)", "g ( 1 , ( 2 , 3 ) ) h ( )"),
    ("#define V(args...) [args]", "V(1, 2)", "[ 1 , 2 ]"),
    ("#define E() 7", "E() E ( )", "7 7"),
    # `>>` written in a value is a shift (all its tokens are placed at the use; `> >` stays two).
    ("#define S(x) (x >> 2)\n#define T x > > 2", "S(8) T", "( 8 >> 2 ) x > > 2"),
])
def test_function_like_macro_expansion(defines, use, expansion):
    assert expand(defines + "\n" + use) == expansion


def test_expanded_tokens_are_located_at_the_use_from_name_to_closing_parenthesis():
    plus = next(t for t in lex("#define F(x) x + 1\n  F(\n 2 ) ;\n") if t.value == "+")
    assert (plus.line, plus.column, plus.end_line, plus.end_column) == (2, 3, 3, 5)


@pytest.mark.parametrize("text,message,col", [
    ("#define F(a, b) a\nconst bit<8> x = F(1);\n", "macro 'F' takes 2 arguments, but 1 was given", 18),
    ("#define F(a) a\nconst bit<8> x = F((1, 2), 3);\n", "macro 'F' takes 1 argument, but 2 were given", 18),
    ("#define F() 1\nconst bit<8> x = F(2);\n", "macro 'F' takes 0 arguments, but 1 was given", 18),
    ("#define V(a, b, ...) a\nconst bit<8> x = V(1);\n", "macro 'V' takes at least 2 arguments, but 1 was given",
     18),
    ("#define F(a) a\nconst bit<8> x = F(1;\n", "unterminated argument list of macro 'F'", 18),
    ("#define S(a) # b\nconst string x = S(1);\n", "'#' must be followed by a parameter name", 18),
    ("#define C(a) a ## +\nconst bit<8> x = C(1);\n", "pasting '1' and '+' does not give one token", 18),
])
def test_function_like_macro_errors_are_located_at_the_use(text, message, col):
    with pytest.raises(DiagnosticError) as exc:
        lex(text)
    d = exc.value.diagnostics[0]
    assert message in d.message
    assert (d.span.line, d.span.col) == (2, col)


def test_recording_reads_lists_the_program_and_its_includes(tmp_path):
    from dataplane.frontend.preprocess import recording_reads
    (tmp_path / "defs.p4").write_text("#define N 4\n")
    main = tmp_path / "main.p4"
    main.write_text('#include "defs.p4"\nconst bit<8> X = N;\n')
    with recording_reads() as seen:
        preprocess(read_source(str(main)), [])
    assert seen == {str(main): main.read_text(), str(tmp_path / "defs.p4"): "#define N 4\n"}
    read_source(str(main))                      # after the block: nothing more is recorded
    assert len(seen) == 2
