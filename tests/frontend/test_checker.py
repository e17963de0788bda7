"""The checker: every shipped program is accepted; types and constants are computed right."""

from __future__ import annotations

import pytest

from dataplane.frontend import ast as A
from dataplane.frontend.program import load_program, summary
from dataplane.frontend.types import BitsType, BoolType, IntType

from p4helpers import PROGRAMS, check_text, errors_of, with_ingress

ALL_PROGRAMS = sorted(PROGRAMS.glob("*.p4"))


@pytest.mark.parametrize("path", ALL_PROGRAMS, ids=lambda p: p.name)
def test_every_shipped_program_checks(path):
    prog = load_program(str(path))
    assert prog.architecture is not None and prog.architecture.name == "V1Switch"
    assert summary(prog).startswith(f"{path}: ok")


def _assigned_value(prog, var: str) -> A.Expression:
    for c in prog.controls:
        for node in c.walk():
            if isinstance(node, A.VariableDeclaration) and node.name == var:
                return node.init
    raise KeyError(var)


@pytest.mark.parametrize("expr,type_,value", [
    ("8w255 + 8w1", BitsType(8), 0),                      # wraps modulo 2^8
    ("8w250 |+| 8w10", BitsType(8), 255),                 # saturates
    ("8w5 |-| 8w10", BitsType(8), 0),
    ("(int<8>)8w200", BitsType(8, True), 200),            # patterns are kept unsigned
    ("(bit<16>)(int<16>)(int<8>)-2", BitsType(16), 0xFFFE),  # widening a signed value sign-extends
    ("(int<16>)(int<8>)-2", BitsType(16, True), 0xFFFE),
    ("8w1 << 9", BitsType(8), 0),                         # shifting past the width gives 0
    ("(int<8>)-128 >> 9", BitsType(8, True), 0xFF),       # arithmetic shift fills with the sign
    ("16w0xABCD[11:4]", BitsType(8), 0xBC),
    ("4w0xA ++ 4w0x5", BitsType(8), 0xA5),
    ("8w3 < 8w4", BoolType(), True),
    ("(int<8>)-1 < (int<8>)1", BoolType(), True),
    ("true && !false", BoolType(), True),
    ("(bit<1>)true", BitsType(1), 1),
    ("2 + 3 * 4", IntType(), 14),
    ("7 / 2", IntType(), 3),
    ("8w7 / 8w2", BitsType(8), 3),
])
def test_constant_folding(expr, type_, value):
    prog = check_text(with_ingress("apply { }\n") .replace(
        "control MyIngress", f"const {'bool' if isinstance(type_, BoolType) else 'int' if isinstance(type_, IntType) else str(type_)} C = {expr};\ncontrol MyIngress"))
    sym = prog.checker.globals.lookup("C")
    assert sym.value == value


def test_untyped_constants_take_the_type_of_the_other_operand():
    prog = check_text(with_ingress("apply { bit<16> v = hdr.ethernet.etherType + 1; }"))
    init = _assigned_value(prog, "v")
    assert init.type == BitsType(16)
    assert init.right.type == BitsType(16) and init.right.const == 1


def test_calls_are_bound_to_parameters_in_order():
    prog = check_text(with_ingress(
        "action set(bit<9> port, bit<8> tag) { sm.egress_spec = port; meta.y = tag; }\n"
        "apply { set(tag = 8w1, port = 9w3); }"))
    call = [n for c in prog.controls for n in c.walk() if isinstance(n, A.Call)
            and getattr(n, "callee", None) is not None and n.callee.name == "set"][0]
    assert [a.const for a in call.bound] == [3, 1]


def test_generic_extern_methods_infer_their_type_arguments():
    prog = check_text(with_ingress(
        "register<bit<32>>(16) r;\n"
        "apply { bit<32> v; r.read(v, 0); r.write(1, v + 1); hash(meta.x, HashAlgorithm.crc32, 32w0,"
        " { hdr.ethernet.srcAddr, hdr.ethernet.dstAddr }, 32w1024); }"))
    calls = {n.callee.name: n for c in prog.controls for n in c.walk()
             if isinstance(n, A.Call) and getattr(n, "callee", None) is not None}
    assert calls["read"].callee.params[0].type == BitsType(32)
    assert str(calls["hash"].callee.params[3].type) == "tuple<bit<48>, bit<48>>"


@pytest.mark.parametrize("body,message", [
    ("apply { meta.y = meta.x; }", "the assigned value has type bit<32> but bit<8> is expected"),
    ("apply { if (meta.x) {} }", "the condition of 'if' must be bool, not bit<32>"),
    ("apply { meta.x = meta.x + meta.y; }", "the operands of '+' have different types: bit<32> and bit<8>"),
    ("apply { meta.y = 8w300; }", "the value 300 does not fit in bit<8>"),
    ("apply { meta.x = hdr.ethernet.dstAddr[48:1]; }", "slice [48:1] is out of range for bit<48>"),
    ("action a(bit<8> v) { v = 1; } apply { }", "cannot assign to 'v': 'v' is a directionless parameter (read-only)"),
    ("apply { hdr.ethernet.ttl = 1; }", "header 'ethernet_t' has no field 'ttl'"),
    ("table t { key = { meta.x: exact; } actions = { nope; } } apply { }", "unknown action 'nope'"),
    ("table t { key = { meta.x: fuzzy; } actions = { NoAction; } } apply { }", "unknown match kind 'fuzzy'"),
    ("action a() {} table t { key = { meta.x: exact; } actions = { NoAction; } default_action = a(); } apply { }",
     "default action 'a' is not in the actions of table 't'"),
    ("apply { exit; return 1; }", "only functions return values; actions and controls use a plain 'return;'"),
    ("action a() { t.apply(); } table t { actions = { a; } } apply { }", "unknown name 't'"),
    ("table t { actions = { NoAction; } } action a() { t.apply(); } apply { }",
     "a table cannot be applied inside an action or a function"),
    ("apply { mark_to_drop(); }", "'mark_to_drop' takes 1 argument but 0 were given"),
    ("register<bit<8>>(4) r; apply { r.reed(meta.y, 0); }", "extern 'register' has no method 'reed'"),
    ("register(4) r; apply { }", "extern 'register' needs type arguments: register<T>(...)"),
    ("apply { meta.x = (bit<32>)(-7 / 2); }", "'/' is not defined for negative numbers"),
    ("apply { meta.y = (bit<8>)(int<16>)-2; }", "cannot cast a value of type int<16> to bit<8>"),
])
def test_errors(body, message):
    assert message in errors_of(with_ingress(body))


def test_duplicate_declarations_point_at_both():
    from dataplane.diagnostics import DiagnosticError
    with pytest.raises(DiagnosticError) as exc:
        check_text(with_ingress("action a() {}\naction a() {}\napply { }"))
    d = exc.value.diagnostics[0]
    assert d.message == "'a' is already declared in this scope"
    assert d.notes and d.notes[0].message == "'a' was declared here"


def test_tutorial_style_features():
    # Serializable enums, switch on an expression, const int used as bit<32>, ?: and |-|.
    prog = check_text(with_ingress(
        "enum bit<8> Op_t { NOP = 0, FWD = 1 }\n"
        "const int SESSION = 57;\n"
        "apply {\n"
        "  Op_t op = (Op_t)hdr.ethernet.etherType[7:0];\n"
        "  switch (op) { Op_t.FWD: { clone(CloneType.I2E, SESSION); } default: { } }\n"
        "  meta.y = (meta.x == 0) ? (meta.y |-| 1) : meta.y;\n"
        "}").replace("control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {\nenum",
                     "enum").replace("const int SESSION = 57;\napply", "const int SESSION = 57;\n"
                                     "control MyIngress(inout headers_t hdr, inout metadata_t meta, "
                                     "inout standard_metadata_t sm) {\napply"))
    assert prog.architecture is not None


_PIPELINE = """
package Pipeline<H, M>(Parser<H, M> p, VerifyChecksum<H, M> vr, Ingress<H, M> ig, Egress<H, M> eg,
                       ComputeChecksum<H, M> ck, Deparser<H> dep);
package Switch<H0, M0, H1, M1>(Pipeline<H0, M0> p0, @optional Pipeline<H1, M1> p1);
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) { apply { } }
Pipeline(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) p0;
"""


def test_a_package_instance_is_a_package_argument():
    from p4helpers import V1MODEL_SKELETON
    prog = check_text(V1MODEL_SKELETON + _PIPELINE + "Switch<headers_t, metadata_t, _, _>(p0) main;\n")
    arch = prog.checker.architecture
    assert arch.name == "Switch" and arch.blocks["p0"].name == "Pipeline"
    assert str(arch.type_bindings["H0"]) == "headers_t" and "H1" not in arch.type_bindings


def test_a_package_instance_of_other_types_is_refused_without_a_python_repr():
    from p4helpers import V1MODEL_SKELETON
    errors = errors_of(V1MODEL_SKELETON + _PIPELINE + "Switch<metadata_t, metadata_t, _, _>(p0) main;\n")
    assert errors == ["argument 1 of Switch ('p0') is a Pipeline<headers_t, metadata_t> but "
                      "Pipeline<metadata_t, metadata_t> is expected"]


def test_explicit_package_type_arguments_must_match_the_blocks():
    from p4helpers import V1MODEL_MAIN, V1MODEL_SKELETON
    text = with_ingress("apply { }").replace(V1MODEL_MAIN, "V1Switch<headers_t, headers_t>" + V1MODEL_MAIN[8:])
    assert "parameter 'meta' of 'MyParser' has type metadata_t but argument 1 of V1Switch ('p') needs " \
           "headers_t" in errors_of(text)
    assert errors_of(with_ingress("apply { }").replace(V1MODEL_MAIN, "V1Switch<headers_t, metadata_t>"
                                                        + V1MODEL_MAIN[8:])) == []


@pytest.mark.parametrize("locals_,message", [
    ("Wrong() w; Twice(w) t;", "constructor argument 's' has type Wrong but Step is expected"),
    ("Twice(5) t;", "constructor argument 's' has type int but Step is expected"),
    ("register<bit<16>>(1) r; Keep(r) k;", "constructor argument 'r' has type register<bit<16>> but "
                                           "register<bit<8>> is expected"),
])
def test_instances_as_constructor_arguments_must_fit(locals_, message):
    decls = ("control Step(inout bit<8> x);\ncontrol Wrong(in bit<8> x) { apply { } }\n"
             "control Twice(inout bit<8> x)(Step s) { apply { s.apply(x); } }\n"
             "control Keep()(register<bit<8>> r) { apply { } }\n")
    text = with_ingress(locals_ + " apply { }").replace("control MyIngress", decls + "control MyIngress")
    assert errors_of(text) == [message]
    good = with_ingress("Add() a; Twice(a) t; register<bit<8>>(1) r; Keep(r) k; apply { }").replace(
        "control MyIngress", decls + "control Add(inout bit<8> x) { apply { } }\ncontrol MyIngress")
    assert errors_of(good) == []


@pytest.mark.parametrize("decls,locals_,message", [
    ("struct S<T> { T f; }", "S s;", "struct 'S' needs type arguments: S<T>"),
    ("struct S<T> { T f; }", "S<bit<8>, bit<8>> s;", "struct 'S' takes 1 type argument(s), not 2"),
    ("struct R<T> { T f; R<R<T>> next; }", "R<bit<8>> r;",
     "'R' cannot have itself as a type argument (R<T>)"),     # else it would nest without end
])
def test_generic_struct_errors(decls, locals_, message):
    text = with_ingress(f"apply {{ {locals_} }}").replace("control MyIngress", decls + "\ncontrol MyIngress")
    assert message in errors_of(text)


def test_generic_struct_specializations_are_one_type():
    text = with_ingress("apply { S<bit<8>> a; S<bit<8>> b = a; S<bit<4>> c; c.f = a.f[3:0]; }").replace(
        "control MyIngress", "struct S<T> { T f; }\ncontrol MyIngress")
    assert errors_of(text) == []
