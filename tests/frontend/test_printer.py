"""Tests of the AST pretty-printer (dataplane.frontend.printer).

The main property is the round trip: parse -> print -> parse gives an equal
tree (spans are not compared), and printing is idempotent. It is checked on
every program in programs/ and on an inline program that uses every AST node
class, so that a construct the printer gets wrong cannot go unnoticed.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend import ast as A
from dataplane.frontend.build_ast import build_ast
from dataplane.frontend.parser import parse_tree
from dataplane.frontend.preprocess import preprocess, read_source
from dataplane.frontend.printer import (expression_text, node_text, print_declaration, print_program,
                                        print_statement, type_text)

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"


def parse(source: SourceFile) -> A.Program:
    pre = preprocess(source)
    tree, _ = parse_tree(pre)
    return build_ast(tree, pre)


def parse_text(text: str, name: str = "<test>") -> A.Program:
    return parse(SourceFile(name, text))


def assert_round_trip(program: A.Program) -> str:
    printed = print_program(program)
    try:
        reparsed = parse_text(printed, "<printed>")
    except DiagnosticError as exc:  # pragma: no cover - shows the printed text on failure
        pytest.fail(f"printed program does not parse: {exc}\n{printed}")
    assert reparsed == program, _first_difference(program, reparsed)
    assert print_program(reparsed) == printed
    return printed


def _first_difference(a: A.Node, b: A.Node) -> str:
    """The first top-level declaration that differs, printed both ways, for a readable failure."""
    for x, y in zip(a.declarations, b.declarations):
        if x != y:
            return f"differs:\n{x!r}\n---\n{y!r}"
    return f"declaration counts differ: {len(a.declarations)} vs {len(b.declarations)}"


# ---------------------------------------------------------------------------- programs/*.p4


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.p4")), ids=lambda p: p.name)
def test_round_trip_program(path: Path):
    try:
        program = parse(read_source(str(path)))
    except DiagnosticError as exc:
        # Not the printer's business: the program itself has a syntax error.
        pytest.skip(f"{path.name} does not parse: {exc.diagnostics[0].message}")
    assert_round_trip(program)


# ---------------------------------------------------------------------------- every construct

EVERYTHING = r'''
#include <core.p4>

typedef bit<48> mac_t;
type bit<32> ip_t;
const bit<16> ETH_IPV4 = 16w0x0800;
const int<8> NEG = -8s3;
const bool FLAG = true;
const int BIG = 1_000_000;
const bit<8> BIN = 0b1010_0101;
const bit<8> OCT = 8w0o17;

error { BadThing, OtherThing }
match_kind { custom_kind }

@my_anno
header eth_t {
    mac_t dst;
    @field_doc("source") mac_t src;
    bit<16> type;
}

header opt_t {
    varbit<(8 * 4)> data;
    varbit<32> more;
}

@structured[key = "v", n = 1]
header h2_t {
    bit<8> a;
    int<8> b;
    bit c;
    bit<(2 + 2)> d;
}

header_union u_t {
    eth_t e;
    h2_t h;
}

struct gen_s<T> {
    T field;
}

struct s_t {
    eth_t eth;
    h2_t[4] stack;
    u_t u;
    tuple<bit<8>, bool> t;
    .mac_t top;
    bit<8>[2][3] grid;
}

struct empty_t {}

enum Color { Red, Green, Blue, }
@empty() enum bit<8> Op { Add = 1, Sub = 8w2, Mul = 0x3 }

extern Counter<T, S> {
    Counter(bit<32> size);
    @ctor_anno Counter(bit<32> size, T init);
    @attr void count(in bit<32> index);
    T read<R>(in R r, S s);
    R generic<R>();
}

extern void ext_fn<T>(in T x, bool flag = true);
@pure extern bit<8> ext_pure();
extern void log(string msg);

bit<8> add_one(in bit<8> x) {
    if (x == 8w255) {
        return 0;
    }
    return x + 1;
}

T ident<T>(in T x) {
    return x;
}

void nothing() {}

parser P<H>(packet_in pkt, out H h);
control C<H>(inout H h);
package Pkg<H>(P<H> p, C<H> c);

parser MyParser(packet_in pkt, out s_t hdr, inout bit<8> meta)(bit<8> ctor_arg) {
    value_set<bit<16>>(4) pvs;
    @vs value_set<tuple<bit<8>, bit<8>>>(8) pvs2;
    bit<8> local_var = 8w1;
    bit<8> uninit;
    const bit<8> LOCAL_CONST = 3;
    Counter<bit<8>, bit<16>>(32w1024) ctr;

    state start {
        pkt.extract(hdr.eth);
        pkt.extract<h2_t>(hdr.stack.next);
        bit<16> tmp = pkt.lookahead<bit<16>>();
        const bit<8> K = 1;
        ;
        @blk {
            meta = meta + 1;
        }
        if (tmp == 0) {
            meta = 1;
        } else {
            meta = 2;
        }
        transition select(hdr.eth.type, meta) {
            (ETH_IPV4, 8w1): parse_a;
            (16w0x86dd &&& 16w0xffff, _): parse_a;
            (16w1 .. 16w5, default): reject;
            (pvs, _): accept;
            default: accept;
        }
    }

    @state_anno
    state parse_a {
        transition select(meta) {
            8w0 &&& 8w1: accept;
            1 .. 3: parse_b;
            (4 .. 5): parse_b;
            _: reject;
        }
    }

    state parse_b {
        transition parse_c;
    }

    state parse_c {
        verify(meta != 0, error.BadThing);
        transition accept;
    }

    state parse_d {
    }
}

control Inner(inout bit<8> x) {
    apply {
        x = x + 1;
    }
}

control MyControl(inout s_t hdr, inout bit<8> meta, in bool b)(bit<8> size_arg) {
    bit<8> tmp;
    Inner() inner;
    Counter<bit<8>, bit<16>>(1024) ctr;
    gen_s<bit<8>> gs;
    const Color FAV = Color.Green;

    action a_noargs() {}

    @name("act") action a_set(bit<8> v, in bit<8> w) {
        meta = v;
        hdr.stack[1].a = w;
        hdr.stack[0].a[3:0] = v[7:4];
        meta |+|= 1;
        meta |-|= 1;
        meta += 1;
        meta -= 1;
        meta *= 2;
        meta /= 2;
        meta %= 3;
        meta <<= 2;
        meta >>= 1;
        meta &= 8w0xF;
        meta |= 1;
        meta ^= 1;
        exit;
    }

    table t1 {
        key = {
            hdr.eth.dst: exact;
            hdr.eth.type: ternary @name("etype");
            meta: lpm;
        }
        actions = {
            a_noargs;
            @defaultonly a_set;
            .NoAction;
        }
        const entries = {
            (48w1, 16w0x0800 &&& 16w0xffff, 8w0 .. 8w10): a_set(1, 2);
            const priority = 10: (_, _, default): a_noargs() @entry_anno;
            priority = (5 + 5): (48w2, _, _): .a_noargs;
        }
        const default_action = a_set(8w0, 8w0);
        size = 1024;
        @prop_anno const largest_priority_wins = false;
    }

    table t2 {
        key = {}
        actions = {
            a_noargs;
            a_set;
        }
        @anno entries = {
            1: a_noargs;
        }
        default_action = NoAction();
    }

    apply {
        for (bit<8> i = 0, tmp = 1; i < meta; i = i + 1, tmp = tmp + i) {
            if (i == 2) {
                continue;
            }
            break;
        }
        for (tmp = 0; tmp < 3; ) tmp = tmp + 1;
        @anno for (bit<8> v in 1 .. meta) {
            tmp = v;
        }
        tmp = meta;
        tmp = (meta + 1) * 2 - meta / 3 % 4;
        tmp = meta - (tmp - 1);
        tmp = meta << 2 >> 1;
        tmp = meta >> (tmp >> 1);
        tmp = meta & 8w1 | meta ^ 8w2;
        tmp = (meta | 8w1) & 8w3;
        tmp = meta |+| 1 |-| 2;
        tmp = -meta;
        tmp = -(-meta);
        tmp = +(+meta);
        tmp = ~(meta & tmp);
        tmp = ~~meta;
        hdr.u.h.b = -8s1;
        bool lt = meta < tmp || meta > tmp && meta <= tmp;
        bool ge = !(meta >= tmp) == (tmp != meta);
        bool nb = !!b;
        bit<16> wide = meta ++ tmp;
        bit<24> wider = meta ++ (tmp ++ meta);
        tmp = (bit<8>)(meta + 1);
        tmp = (bit<8>)(int<8>)hdr.u.h.b;
        tmp = ((bit<8>)wide)[7:0];
        bit<16> top = (bit<16>)(.ETH_IPV4);
        tmp = b ? meta : tmp;
        tmp = b ? (b ? meta : tmp) : (lt ? 1 : 2);
        tmp = (b ? lt : ge) ? meta : tmp;
        tmp = lt ? meta : ge ? tmp : 8w0;
        tmp = hdr.stack[meta].a;
        tmp = wide[15:8];
        tmp = wide[4 +: 8];
        wide[meta & 7 +: 8] = tmp;
        tmp = ident<bit<8>>(meta)[7:0];
        tmp = add_one(x = meta);
        gs = {field = 8w1};
        hdr.t = {meta, true};
        tuple<> nothing_at_all = {};
        Color c = Color.Red;
        Op o = .Op.Add;
        if (c == FAV) {
            log("a \"quoted\" \\ string\n\tend");
        }
        switch (t1.apply().action_run) {
            a_noargs:
            a_set: {
                meta = 1;
            }
            default: {}
        }
        switch (meta) {
            8w1: {}
            8w2:
            default:
        }
        if (t2.apply().hit) {
            meta = 1;
        } else if (b)
            meta = 2;
        else
            meta = 3;
        if (b)
            if (lt)
                meta = 4;
            else
                meta = 5;
        if (b) {} else {}
        Inner.apply(meta);
        inner.apply(meta);
        ext_fn<bit<8>>(meta, flag = false);
        ext_fn<_>(x = meta, flag = _);
        ext_fn(meta, _);
        ctr.count(32w0);
        hdr.stack.push_front(1);
        hdr.eth.setValid();
        nothing();
        @atomic {
            meta = meta + 1;
            Inner() inner2;
            const bit<8> KK = 2;
            {}
        }
        ;
        return;
    }
}

Pkg(MyParser(8w1), MyControl(8w2)) main;
'''


@pytest.fixture(scope="module")
def everything() -> A.Program:
    return parse_text(EVERYTHING, "<everything>")


def test_round_trip_everything(everything):
    assert_round_trip(everything)


def test_everything_uses_every_node_class(everything):
    """The inline program must keep exercising every AST node class (update it when
    ast.py grows), so that the round trip covers the whole printer."""
    abstract = {A.Node, A.TypeRef, A.Expression, A.Statement, A.Declaration, A.StructLikeDeclaration}
    classes = {cls for _, cls in inspect.getmembers(A, inspect.isclass)
               if issubclass(cls, A.Node) and cls.__module__ == A.__name__} - abstract
    seen = {type(n) for n in everything.walk()}
    assert classes - seen == set()


def test_every_node_prints_alone(everything):
    """node_text renders any node by itself (as compiler messages may quote any of them)."""
    for node in everything.walk():
        assert node_text(node)


def test_print_program_is_formatted(everything):
    """Spot checks of the layout a human reads."""
    text = print_program(everything)
    assert text.endswith("}\n\nPkg(MyParser(8w1), MyControl(8w2)) main;\n")
    assert "\n    state parse_b {\n        transition parse_c;\n    }\n" in text
    assert "        } else if (b)\n            meta = 2;\n        else\n            meta = 3;\n" in text
    assert "            a_noargs:\n            a_set: {\n" in text
    assert "            const priority = 10: (_, _, default): a_noargs() @entry_anno;\n" in text
    assert not any(line != line.rstrip() for line in text.splitlines())
    assert "\t" not in text.replace("\\t", "")


# ---------------------------------------------------------------------------- single pieces


def parse_expression(text: str) -> A.Expression:
    program = parse_text(f"const int __e = {text};")
    return program.declarations[-1].value


@pytest.mark.parametrize("source, expected", [
    ("(a + b) * c", "(a + b) * c"),
    ("a + b * c", "a + b * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("!(a && b)", "!(a && b)"),
    ("!a && b", "!a && b"),
    ("(bit<8>)(x + 1)", "(bit<8>)(x + 1)"),
    ("(bit<8>)x + 1", "(bit<8>)x + 1"),
    ("x[7:0]", "x[7:0]"),
    ("x[0+:8]", "x[0 +: 8]"),
    ("x[i & 7 +: 4]", "x[i & 7 +: 4]"),
    ("(x + y)[a + 1 +: 2][0:0]", "(x + y)[a + 1 +: 2][0:0]"),
    ("a.b[3][1 +: 2]", "a.b[3][1 +: 2]"),
    ("hdr.s[1].f", "hdr.s[1].f"),
    ("hdr.ipv4.ttl", "hdr.ipv4.ttl"),
    ("{a, b}", "{a, b}"),
    ("{a = 1, b = 2}", "{a = 1, b = 2}"),
    ("((a))", "a"),
    ("a ? b : c ? d : e", "a ? b : c ? d : e"),
    ("(a ? b : c) ? d : e", "(a ? b : c) ? d : e"),
    ("a == (b == c)", "a == (b == c)"),
    ("(a < b) == (c > d)", "a < b == c > d"),
    ("a | b & c ^ d", "a | b & c ^ d"),
    ("(a | b) & c", "(a | b) & c"),
    ("a << (b + c)", "a << b + c"),
    ("(a << b) + c", "(a << b) + c"),
    ("x >> 1", "x >> 1"),
    ("a ++ (b ++ c)", "a ++ (b ++ c)"),
    ("-(-x)", "- -x"),
    ("-(x + 1)", "-(x + 1)"),
    ("~x[3:0]", "~x[3:0]"),
    ("(~x)[3:0]", "(~x)[3:0]"),
    ("((bit<16>)x)[7:0]", "((bit<16>)x)[7:0]"),
    ("(bit<16>)(.g)", "(bit<16>)(.g)"),
    ("f<bit<8>>(x, y = 1, _)", "f<bit<8>>(x, y = 1, _)"),
    ("error.NoError", "error.NoError"),
    ("8w0x1F", "8w0x1F"),
    ('"a\\"b"', '"a\\"b"'),
    ("true || false", "true || false"),
])
def test_expression_text(source, expected):
    expr = parse_expression(source)
    assert expression_text(expr) == expected
    assert parse_expression(expected) == expr


def test_expression_text_without_source_spelling():
    # Literals and types built by the compiler have no source text.
    assert expression_text(A.IntLiteral(5, 8)) == "8w5"
    assert expression_text(A.IntLiteral(3, 4, signed=True)) == "4s3"
    assert expression_text(A.IntLiteral(42)) == "42"
    assert expression_text(A.StringLiteral('say "hi"\n')) == '"say \\"hi\\"\\n"'
    plain_bit = A.BitTypeRef(A.IntLiteral(1))        # `bit` written without a width
    assert type_text(plain_bit) == "bit<1>"
    assert type_text(A.BitTypeRef(A.IntLiteral(8), signed=True)) == "int<8>"
    assert type_text(A.BitTypeRef(A.Binary("+", A.Name("W"), A.IntLiteral(1)))) == "bit<(W + 1)>"
    stack = A.StackTypeRef(A.TypeNameRef("h_t"), A.IntLiteral(4))
    assert type_text(stack) == "h_t[4]"
    spec = A.SpecializedTypeRef(A.TypeNameRef("register", top_level=True),
                                [A.BitTypeRef(A.IntLiteral(32)), A.DontCareTypeRef()])
    assert type_text(spec) == ".register<bit<32>, _>"
    assert expression_text(A.Cast(A.BitTypeRef(A.IntLiteral(8)), A.Name("x"))) == "(bit<8>)x"
    # Our lexer would read these as type arguments or a top-level name without the parentheses.
    error_member = A.TypeMember(A.NamedBaseTypeRef("error"), "NoError")
    assert expression_text(A.Binary("<", A.Name("a"), error_member)) == "a < (error.NoError)"
    assert expression_text(A.Member(A.ListExpression([A.Name("a")]), "m")) == "({a}).m"


def test_c_style_array_declarators_print_as_array_types():
    """`bit<8> a[4];` (as p4c accepts) declares `bit<8>[4] a;`; `T x[2][3]` is (T[2])[3], as in p4c."""
    program = parse_text("header h_t { bit<8> a[4]; bool b[2][3]; }\n"
                         "control c() { apply { int<4> v[2]; } }")
    printed = print_program(program)
    assert "    bit<8>[4] a;\n    bool[2][3] b;\n" in printed
    assert "        int<4>[2] v;\n" in printed
    assert parse_text(printed) == program


def test_print_statement_and_declaration():
    program = parse_text("""
control c(inout bit<8> x) {
    action a(bit<8> v) { x = v; }
    apply {
        if (x == 0) { x = 1; } else { a(2); }
    }
}
""")
    control = program.declarations[0]
    assert print_declaration(control.locals[0]) == "action a(bit<8> v) {\n    x = v;\n}"
    assert print_statement(control.body.statements[0], indent=1) == (
        "    if (x == 0) {\n"
        "        x = 1;\n"
        "    } else {\n"
        "        a(2);\n"
        "    }")


def test_dangling_else_gets_braces():
    # Trees built by compiler passes may have an else-less if as the then-branch
    # of an if with else; printed bare, the else would move to the inner if.
    inner = A.IfStatement(A.Name("b"), A.ExitStatement())
    outer = A.IfStatement(A.Name("a"), inner, A.ReturnStatement())
    assert print_statement(outer) == "if (a) {\n    if (b)\n        exit;\n} else\n    return;"
    chained = A.IfStatement(A.Name("a"), A.IfStatement(A.Name("b"), A.ExitStatement(),
                                                       A.IfStatement(A.Name("c"), A.ExitStatement())),
                            A.ReturnStatement())
    assert print_statement(chained).startswith("if (a) {\n    if (b)\n")


def _random_expression(rng, depth: int) -> A.Expression:
    """A random expression tree over every operator, for the precedence round trip."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([
            lambda: A.Name(rng.choice(["a", "b", "x"])),
            lambda: A.Name("g", top_level=True),
            lambda: A.IntLiteral(rng.randrange(16)),
            lambda: A.IntLiteral(rng.randrange(16), 8),
            lambda: A.Member(A.Name("hdr"), "f"),
            lambda: A.BoolLiteral(rng.random() < 0.5),
            lambda: A.TypeMember(A.NamedBaseTypeRef("error"), "NoError"),
            lambda: A.ListExpression([A.Name("a"), A.IntLiteral(1)]),
        ])()
    sub = lambda: _random_expression(rng, depth - 1)  # noqa: E731
    return rng.choice([
        lambda: A.Binary(rng.choice(sorted(_BINARY_OPS)), sub(), sub()),
        lambda: A.Binary(rng.choice(sorted(_BINARY_OPS)), sub(), sub()),
        lambda: A.Binary(rng.choice(sorted(_BINARY_OPS)), sub(), sub()),
        lambda: A.Ternary(sub(), sub(), sub()),
        lambda: A.Unary(rng.choice("!~-+"), sub()),
        lambda: A.Cast(A.BitTypeRef(A.IntLiteral(8)), sub()),
        lambda: A.Slice(sub(), A.IntLiteral(3), A.IntLiteral(0)),
        lambda: A.Index(sub(), sub()),
        lambda: A.Member(sub(), "g"),
        lambda: A.Call(A.Member(sub(), "m"), [], [A.Argument(sub())]),
    ])()


_BINARY_OPS = {"||", "&&", "==", "!=", "<", ">", "<=", ">=", "|", "^", "&", "<<", ">>",
               "++", "+", "-", "|+|", "|-|", "*", "/", "%"}


def test_random_expressions_round_trip():
    import random
    rng = random.Random(20240601)
    for _ in range(500):
        expr = _random_expression(rng, 4)
        text = expression_text(expr)
        assert parse_expression(text) == expr, text
