"""The token pass: type names, angle brackets, annotations, macros, prefixes."""

from __future__ import annotations

import pytest

from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.parser import parse_tree
from dataplane.frontend.preprocess import preprocess


def tokens(text: str) -> list[tuple[str, str]]:
    pre = preprocess(SourceFile("t.p4", text))
    try:
        _, inp = parse_tree(pre)
    except DiagnosticError:
        raise
    return [(t.type, t.value) for t in inp.tokens]


def test_declared_types_become_type_identifiers():
    toks = tokens("header h_t { bit<8> a; } struct s_t { h_t h; }")
    assert ("TYPE_IDENTIFIER", "h_t") in toks
    # The declaration's own name is an ordinary name token.
    assert toks[1] == ("IDENTIFIER", "h_t")


def test_typedef_names_are_types_after_their_declaration():
    toks = tokens("typedef bit<9> port_t; struct s { port_t p; }")
    assert toks.count(("TYPE_IDENTIFIER", "port_t")) == 1


def test_type_parameters_are_types_only_inside_their_declaration():
    toks = tokens("extern box<T> { box(); T get(); } struct s { bit<8> T; }")
    t_tokens = [t for t in toks if t[1] == "T"]
    assert ("TYPE_IDENTIFIER", "T") in t_tokens          # inside the extern
    assert t_tokens[-1] == ("IDENTIFIER", "T")           # a field named T afterwards


def test_nested_type_arguments_close_with_two_angles_not_a_shift():
    toks = tokens("extern register<T> { register(bit<32> n); } control c() { register<bit<32>>(8) r; apply {} }")
    assert ("SHR", ">>") not in toks


def test_shift_right_outside_type_arguments():
    toks = tokens("const bit<8> A = 8w16 >> 2;")
    assert ("SHR", ">>") in toks


def test_generic_call_versus_comparison():
    toks = tokens("control c(in bit<8> a, in bit<8> b) { apply { if (a < b) {} } }")
    assert ("LT", "<") in toks and not any(t == "LANGLE_ARGS" for t, _ in toks)
    toks = tokens("extern e { e(); T f<T>(); } control c() { e() x; apply { x.f<bit<8>>(); } }")
    assert any(t == "LANGLE_ARGS" for t, _ in toks)


def test_comparison_with_enum_member_is_not_type_arguments():
    toks = tokens("enum bit<8> E { A = 1 } control c(in bit<8> a) { apply { if (a < E.A) {} } }")
    assert ("LT", "<") in toks


def test_annotations_are_single_tokens():
    toks = tokens('@name("x.y") @hidden header h { @field_list(1, 2) bit<8> a; }')
    ann = [v for t, v in toks if t == "ANNOTATION"]
    assert ann == ['@name("x.y")', "@hidden", "@field_list(1, 2)"]


def test_leading_dot_is_a_prefix():
    toks = tokens("action a() {} control c() { table t { actions = { .a; } } apply {} }")
    assert ("DOT_PREFIX", ".") in toks


def test_macros_expand_at_the_position_of_their_use():
    pre = preprocess(SourceFile("t.p4", "#define W 16\nconst bit<W> X = 1;\n"))
    with pytest.raises(DiagnosticError):
        # bit<W> with a macro expanding to 16 is fine; the error below is about X's value.
        parse_tree(preprocess(SourceFile("t.p4", "#define W (\nconst bit<W> X = 1;\n")))
    _, inp = parse_tree(pre)
    sixteen = [t for t in inp.tokens if t.value == "16"][0]
    assert (sixteen.line, sixteen.column) == (2, 11)


def test_loop_keywords():
    toks = tokens("control c() { apply { for (; true; ) { break; continue; } } }")
    assert ("FOR", "for") in toks and ("BREAK", "break") in toks and ("CONTINUE", "continue") in toks


def test_free_form_annotation_bodies_are_any_characters():
    toks = tokens("@note(that's it, 50% -- 0xdead `x` #) header h { bit<8> a; }")
    assert toks[0] == ("ANNOTATION", "@note(that's it, 50% -- 0xdead `x` #)")


@pytest.mark.parametrize("text,message", [
    ("const bit<8> A = 1 ' 2;", "unexpected character \"'\""),
    ("@note(x) const bit<8> A = 1 # 2;", "unexpected character '#'"),
    ('@note("x) header h { bit<8> a; }', "unterminated string literal"),
])
def test_stray_characters_outside_annotation_bodies(text, message):
    with pytest.raises(DiagnosticError) as exc:
        tokens(text)
    assert exc.value.diagnostics[0].message == message


def test_strings_may_span_lines():
    toks = tokens('@entry_restriction("\n  // a comment /* in a string\n  a == 1;\n") header h { bit<8> a; }\n'
                  "header g { bit<8> b; }")
    assert toks[0][0] == "ANNOTATION" and ("TYPE_IDENTIFIER", "g") not in toks
    assert ("IDENTIFIER", "g") in toks


def test_unexpected_character():
    with pytest.raises(DiagnosticError) as exc:
        tokens("const bit<8> A = 1 $ 2;")
    d = exc.value.diagnostics[0]
    assert d.message == "unexpected character '$'" and (d.span.line, d.span.col) == (1, 20)
