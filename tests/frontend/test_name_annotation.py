"""@name: its body is one string literal, decoded, naming something a control plane can address."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from dataplane.compiler.program import compile_program
from dataplane.diagnostics import DiagnosticError
from dataplane.frontend import ast as A
from dataplane.frontend.build_ast import control_plane_name, name_annotation_value

from p4helpers import check_text, with_ingress

TABLE = """
    {action_ann} action set_port(bit<9> port) {{ sm.egress_spec = port; }}
    {table_ann} table route {{
        key = {{ hdr.ethernet.dstAddr: exact {key_ann}; }}
        actions = {{ set_port; NoAction; }}
    }}
    apply {{ route.apply(); }}
"""


def program(action_ann: str = "", table_ann: str = "", key_ann: str = "") -> str:
    return with_ingress(TABLE.format(action_ann=action_ann, table_ann=table_ann, key_ann=key_ann))


def diagnostics_of(text: str) -> list:
    with pytest.raises(DiagnosticError) as exc:
        check_text(text)
    return [d for d in exc.value.diagnostics if d.severity == "error"]


def p4_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ---------------------------------------------------------------------------- accepted


def test_escapes_are_decoded_in_table_action_and_key_names():
    prog = check_text(program(action_ann=r'@name("say \"hi\"")', table_ann=r'@name("back\\slash")',
                              key_ann=r'@name("dst\"mac")'))
    compiled = compile_program(prog)
    table = compiled.tables[0]
    assert table.name == "MyIngress.back\\slash"
    assert table.keys[0].name == 'dst"mac'
    assert table.actions[0].name == 'MyIngress.say "hi"'


def test_literals_joined_with_plus_plus_are_one_name():
    # p4c folds these (testdata/p4_16_samples/spec-issue1297-string-cat.p4).
    prog = compile_program(check_text(program(table_ann='@name("ro" ++ "ute" ++ "_a")')))
    assert prog.tables[0].name == "MyIngress.route_a"


def test_a_leading_dot_still_makes_a_top_level_name():
    prog = compile_program(check_text(program(table_ann='@name(  ".global_route"  )')))
    assert prog.tables[0].name == "global_route"


def test_without_name_the_declared_name_is_used():
    assert control_plane_name([A.Annotation("hidden")], "t") == "t"
    assert control_plane_name(None, "t") == "t"


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
       .filter(lambda s: s != "."))
def test_any_addressable_name_round_trips(text):
    assert name_annotation_value(A.Annotation("name", p4_string(text))) == text


# ---------------------------------------------------------------------------- refused


@pytest.mark.parametrize("body", [
    '__import__("os")',          # an expression, not a string
    "a.b",
    '"x" "y"',                   # two literals side by side
    '"x", "y"',
    "4",                         # p4c: "@name: should contain a string"
    "",
    "key = \"x\"",
])
def test_a_body_that_is_not_a_string_is_refused(body):
    ann = A.Annotation("name", body)
    with pytest.raises(DiagnosticError) as exc:
        name_annotation_value(ann)
    assert exc.value.diagnostics[0].message == "@name requires a string literal"


@pytest.mark.parametrize("annotation", [A.Annotation("name"), A.Annotation("name", '"x"', structured=True)])
def test_name_without_parenthesised_body_is_refused(annotation):
    with pytest.raises(DiagnosticError, match="@name requires a string literal"):
        name_annotation_value(annotation)


@pytest.mark.parametrize("literal, what", [
    (r'"a\nb"', "control character U+000A"), (r'"tab\there"', "control character U+0009"),
    ('"nul\x00"', "control character U+0000"), ('"esc\x1b[2J"', "control character U+001B"),
    ('"del\x7f"', "control character U+007F"), ('"nel\x85"', "control character U+0085"),
    ('"ls\u2028"', "line break U+2028"), ('"ps\u2029"', "line break U+2029"),
])
def test_control_characters_and_line_breaks_are_refused(literal, what):
    with pytest.raises(DiagnosticError) as exc:
        name_annotation_value(A.Annotation("name", literal))
    assert exc.value.diagnostics[0].message == f"@name gives a control-plane name with the {what}"


@pytest.mark.parametrize("literal", ['""', '"."', '"" ++ ""'])
def test_empty_names_are_refused(literal):
    with pytest.raises(DiagnosticError, match="empty control-plane name"):
        name_annotation_value(A.Annotation("name", literal))


def test_the_error_points_at_the_body_of_each_annotation():
    text = program(action_ann="@name(a.b)", table_ann='@name( "" )', key_ann=r'@name("k\n")')
    diags = diagnostics_of(text)
    lines = text.split("\n")
    found = []
    for d in diags:
        found.append((d.message, lines[d.span.line - 1][d.span.col - 1:d.span.end_col - 1]))
    assert found == [("@name requires a string literal", "a.b"),
                     ("@name gives an empty control-plane name", '""'),
                     ("@name gives a control-plane name with the control character U+000A", r'"k\n"')]
    assert all(d.span.path == "test.p4" for d in diags)


def test_a_body_spread_over_lines_is_located_at_its_first_line():
    text = program(table_ann='@name("x"\n    __import__("os")\n    "y")')
    [d] = diagnostics_of(text)
    assert d.message == "@name requires a string literal"
    assert text.split("\n")[d.span.line - 1].endswith('@name("x"')
    assert text.split("\n")[d.span.line - 1][d.span.col - 1:] == '"x"'


def test_every_name_annotation_is_checked_not_only_those_the_compiler_reads():
    text = with_ingress('@name(nope) register<bit<8>>(1) r;\napply { r.write(0, 1); }').replace(
        "bit<48> dstAddr;", "@name(\"\") bit<48> dstAddr;")
    messages = [d.message for d in diagnostics_of(text)]
    assert messages == ["@name gives an empty control-plane name", "@name requires a string literal"]
