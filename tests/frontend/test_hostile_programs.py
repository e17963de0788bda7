"""Hostile P4 programs get a located error (exit 1), never a traceback, a hang or gigabytes of memory.

A program from a stranger must be safe to check and run. Each hostile case
runs the command line boxed in (tests/hostile.py: at most 1 GiB more
address space, and a timeout; the worst cases in a fresh process) and
checks exit status 1 with a `file:line:col: error:` line at the construct
that passes a limit:

* macros that expand exponentially, and programs too long to check;
* nesting: brackets, statements, chains of operators, `else if` chains,
  unary operators, types, and code nested too deeply for the compiler
  (Python's own limits on indentation, brackets and blocks);
* numbers that would make the compiler or a device allocate in proportion:
  huge literals, widths, header stacks, registers, counters, meters,
  constants that grow by folding, structs that double at every level,
  actions that call others twice at every level (the compiler inlines);
* `#if` expressions that shift, nest or expand without bound.

Programs at the edge of each limit are accepted (and run), and a property
test throws nested and long constructs of random depth at `dataplane stf`.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import signal
import subprocess
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataplane import cli
from dataplane.compiler import emitter
from dataplane.frontend import lexer
from dataplane.frontend.build_ast import MAX_LITERAL_BITS, MAX_NESTING
from dataplane.frontend.check.declarations import MAX_STACK_SIZE, MAX_TYPE_NESTING
from dataplane.frontend.preprocess import MAX_IF_NESTING, MAX_PROGRAM_LINES
from dataplane.runtime.externs import MAX_EXTERN_CELLS, ExternError, Register
from hostile import assert_user_error, boxed, limited_cli
from p4helpers import errors_of, with_ingress

ETHERNET = "00" * 64
# The skeleton of with_ingress() sends every packet back out of port 0 unchanged.
ECHO_STF = f"packet 0 {ETHERNET}\nexpect 0 {ETHERNET}\n"


def program(tmp_path, text: str, name: str = "prog.p4") -> str:
    (tmp_path / name).write_text(text)
    return name


def at(text: str, needle: str, occurrence: int = 1, after: str | None = None) -> str:
    """'line:col' (1-based) of the occurrence-th `needle` in text (counted from `after`, if given)."""
    pos = text.index(after) if after is not None else -1
    for _ in range(occurrence):
        pos = text.index(needle, pos + 1)
    line = text.count("\n", 0, pos) + 1
    return f"{line}:{pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so that the command line does not report it as its own."""


def run_boxed(directory, args: list[str], timeout: float = 30.0) -> subprocess.CompletedProcess:
    """`dataplane ARGS` in this process, boxed in (tests/hostile.py: 1 GiB more address space at most, no new
    files) and with an alarm: as safe as limited_cli() for inputs that are refused quickly, without the
    second or so that starting a Python costs."""
    def alarm(signum, frame):
        raise _Timeout(f"dataplane {' '.join(args)} took more than {timeout} s")

    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with boxed(directory, allowed=r".*\.(p4|stf)"), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            rc = cli.main(args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())


def run_limited(tmp_path, text: str, command: str = "check", timeout: float = 30.0, fresh: bool = False):
    """`dataplane check` or `dataplane stf` (with the echo test) on text, boxed in; in a fresh process (see
    tests/hostile.py) for the worst cases, whose failure could take the test run with it."""
    name = program(tmp_path, text)
    args = ["check", name] if command == "check" else ["stf", name, program(tmp_path, ECHO_STF, "t.stf")]
    return limited_cli(args, tmp_path, timeout) if fresh else run_boxed(tmp_path, args, timeout)


def refused(tmp_path, text: str, needle: str, message: str, occurrence: int = 1, command: str = "check",
            timeout: float = 30.0, after: str | None = None, fresh: bool = False) -> str:
    """`dataplane COMMAND` refuses the program with `message` at the occurrence-th `needle` (see at())."""
    done = run_limited(tmp_path, text, command, timeout, fresh)
    assert_user_error(done.returncode, done.stderr, f"prog.p4:{at(text, needle, occurrence, after)}")
    first = done.stderr.splitlines()[0]
    assert message in first, done.stderr
    return done.stderr


def refused_somewhere(tmp_path, text: str, message: str, command: str = "stf",
                      fresh: bool = False) -> tuple[str, int]:
    """The program is refused with `message` at some line:col; return that line's text and the column."""
    done = run_limited(tmp_path, text, command, fresh=fresh)
    m = re.match(r"prog\.p4:(\d+):(\d+): error: ", done.stderr)
    assert m, done.stderr
    assert_user_error(done.returncode, done.stderr, m.group()[:-len(": error: ")])
    assert message in done.stderr.splitlines()[0], done.stderr
    return text.splitlines()[int(m.group(1)) - 1], int(m.group(2))


def runs(tmp_path, text: str) -> None:
    """`dataplane stf` compiles the program and passes the echo test."""
    done = run_limited(tmp_path, text, "stf", 60)
    assert done.returncode == 0 and done.stdout.startswith("PASS"), done.stdout + done.stderr


def ingress(apply_body: str, locals_: str = "") -> str:
    return with_ingress(f"{locals_}\napply {{\n{apply_body}\n}}")


def with_top(text: str, declarations: str) -> str:
    """text with declarations placed just after the includes."""
    return text.replace("#include <v1model.p4>\n", "#include <v1model.p4>\n" + declarations, 1)


# ---------------------------------------------------------------------- macros and length

def test_macro_expansion_bomb(tmp_path):
    # Each macro names the next twice: 2^40 tokens if expanded in full.
    defines = "".join(f"#define M{i} M{i + 1} M{i + 1}\n" for i in range(40)) + "#define M40 1\n"
    text = defines + "const bit<8> x = M0;\n"
    refused(tmp_path, text, "M0;", f"macro expansion of 'M0' makes the program longer than {lexer.MAX_TOKENS} tokens",
            fresh=True)


def test_program_longer_than_the_token_limit(tmp_path):
    # Empty declarations, one token each: refused at the first token past the limit, before the rest is read.
    text = ";" * (lexer.MAX_TOKENS + 10) + "\n"
    refused(tmp_path, text, ";", f"the program is longer than {lexer.MAX_TOKENS} tokens",
            occurrence=lexer.MAX_TOKENS + 1)


def test_macro_chain_longer_than_the_stack_expands():
    # Expansion keeps its own stack: a chain of 5,000 macros is fine.
    defines = "".join(f"#define C{i} C{i + 1}\n" for i in range(5000)) + "#define C5000 8w7\n"
    assert errors_of(defines + "const bit<8> x = C0;\n" + ingress("")) == []


def test_recursive_macros_are_not_expanded_again():
    # As in C: inside its own expansion a macro is a plain name (here an unknown one), not a loop.
    assert errors_of("#define A B + 1\n#define B A\nconst bit<8> x = A;\n" + ingress(""))[0] == "unknown name 'A'"


def test_function_like_macro_expansion_bomb(tmp_path):
    # Each macro passes its argument twice to the next: 2^40 tokens if expanded in full.
    defines = "".join(f"#define F{i}(x) F{i + 1}(x) F{i + 1}(x)\n" for i in range(40)) + "#define F40(x) x\n"
    refused(tmp_path, defines + "const bit<8> x = F0(1);\n", "F0(1)",
            f"macro expansion of 'F0' makes the program longer than {lexer.MAX_TOKENS} tokens", fresh=True)


def test_function_like_macro_argument_bomb(tmp_path):
    # Arguments are expanded before substitution: D(D(D(...))) doubles at every level inside arguments too.
    text = "#define D(x) x x\nconst bit<8> x = " + "D(" * 40 + "1" + ")" * 40 + ";\n"
    refused(tmp_path, text, "D(D(", f"macro expansion of 'D' makes the program longer than {lexer.MAX_TOKENS} tokens",
            fresh=True)


def test_macro_uses_nested_deeply_in_arguments(tmp_path):
    text = "#define I(x) x\nconst bit<8> x = " + "I(" * 1000 + "1" + ")" * 1000 + ";\n"
    refused(tmp_path, text, "I(I(", "macro uses nested too deeply in arguments")


def test_function_like_macros_at_the_edge_expand():
    defines = "".join(f"#define F{i}(x) F{i + 1}(x)\n" for i in range(2000)) + "#define F2000(x) x\n"
    assert errors_of(defines + "const bit<8> x = F0(8w7);\n" + ingress("")) == []


def test_include_bomb(tmp_path):
    # Five files, each including the next 50 times: 50^5 copies of the last one.
    for name, nxt in zip("abcde", "bcdef"):
        (tmp_path / f"{name}.p4").write_text(f'#include "{nxt}.p4"\n' * 50)
    (tmp_path / "f.p4").write_text("// a line\n")
    text = (tmp_path / "a.p4").read_text()
    done = run_limited(tmp_path, text)
    m = re.match(r"([a-e])\.p4:(\d+):1: error: ", done.stderr)
    assert m, done.stderr
    assert_user_error(done.returncode, done.stderr, m.group()[:-len(": error: ")])
    assert f"the program is longer than {MAX_PROGRAM_LINES} lines" in done.stderr, done.stderr


def test_file_of_newlines(tmp_path):
    # Refused at the first line past the limit, before the file is split into lines.
    refused(tmp_path, "\n" * (MAX_PROGRAM_LINES + 5), "\n", "the program is longer than",
            occurrence=MAX_PROGRAM_LINES + 1)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "."])
def test_include_of_a_device_or_directory(tmp_path, target):
    refused(tmp_path, f'#include "{target}"\n' + ingress(""), "#include", "include file")


# ---------------------------------------------------------------------- nesting

def test_brackets_nested_too_deeply(tmp_path):
    # 5,000 parentheses around an expression: refused at the first one past the limit.
    text = "const bit<8> x = " + "(" * 5000 + "1" + ")" * 5000 + ";\n"
    refused(tmp_path, text, "(", "brackets nested too deeply", occurrence=lexer.MAX_BRACKET_DEPTH + 1)


def test_blocks_nested_too_deeply(tmp_path):
    # Two braces, then each `if` holds one more: the limit is passed at the '(' of an if.
    text = "control c() { apply { " + "if (true) { " * 3000 + "}" * 3002 + "\n"
    refused(tmp_path, text, "(true)", "brackets nested too deeply", occurrence=lexer.MAX_BRACKET_DEPTH - 1,
            fresh=True)


def test_statements_nested_too_deeply(tmp_path):
    # Few enough braces for the bracket limit; too many levels for the tree.
    text = ingress("if (true) { " * 150 + "meta.y = 1;" + " }" * 150)
    refused(tmp_path, text, "if (true)", f"nested too deeply (more than {MAX_NESTING} levels)",
            occurrence=MAX_NESTING + 1)


def test_long_else_if_chain(tmp_path):
    text = ingress("if (meta.x == 0) { meta.y = 0; }"
                   + "".join(f"\nelse if (meta.x == {i}) {{ meta.y = 1; }}" for i in range(1, 3000)))
    refused(tmp_path, text, "if (meta.x", "nested too deeply", occurrence=MAX_NESTING + 1)


# An expression, and where the limit is passed: a tree that leans left (a + b + c...) at its start, one that
# leans right at the operator one past the limit.
@pytest.mark.parametrize("expression, needle, occurrence", [
    ("meta.x" + " + 1" * 20_000, "meta.x", 1),
    ("- " * 5000 + "meta.x", "-", MAX_NESTING + 1),
    ("~" * 5000 + "meta.x", "~", MAX_NESTING + 1),
    ("(bit<32>)" * 5000 + "meta.x", "(bit<32>)", MAX_NESTING + 1),
    ("meta.x" + "[31:0]" * 5000, "meta.x", 1),
    ("".join(f"meta.y == {i % 200} ? {i} : " for i in range(3000)) + "0", "meta.y ==", MAX_NESTING + 1),
], ids=["a+b+c", "minus", "complement", "casts", "slices", "ternaries"])
def test_expressions_nested_without_brackets(tmp_path, expression, needle, occurrence):
    text = ingress(f"meta.x = {expression};")
    refused(tmp_path, text, needle, f"nested too deeply (more than {MAX_NESTING} levels)", occurrence,
            after="meta.x = ")


def test_not_chain_in_a_condition(tmp_path):
    # The if is the first level, so the limit is passed at the 100th '!'.
    text = ingress("if (" + "!" * 5000 + "true) { meta.y = 1; }")
    refused(tmp_path, text, "!", "nested too deeply", occurrence=MAX_NESTING, after="if (")


def test_annotation_body_nested_too_deeply(tmp_path):
    # Annotation bodies are parsed on demand, with the same limit.
    text = ingress("t.apply();", '@name(".t") table t { actions = { NoAction; } }\n'
                                 "@field_list(" + "!" * 3000 + "true) action a() { }")
    done = run_limited(tmp_path, text, "stf")
    assert done.returncode in (0, 1) and "internal error" not in done.stderr, done.stderr


def test_types_nested_too_deeply(tmp_path):
    text = ingress("", "tuple<" * 150 + "bit<8>" + ">" * 150 + " t;")
    refused(tmp_path, text, "tuple<", "nested too deeply", occurrence=MAX_NESTING + 1)


def test_structs_nested_too_deeply(tmp_path):
    structs = "struct S0 { bit<8> f; }\n" + "".join(f"struct S{i + 1} {{ S{i} f; }}\n" for i in range(3000))
    text = with_top(ingress("", "S3000 s;"), structs)
    refused(tmp_path, text, f"S{MAX_TYPE_NESTING} {{", "nests types too deeply")


def test_nesting_at_the_limits_compiles_and_runs(tmp_path):
    # 150 parentheses, 40 nested ifs around a 50-term sum, a 60-deep else-if chain, 45 nested structs.
    structs = "struct S0 { bit<8> f; }\n" + "".join(f"struct S{i + 1} {{ S{i} f; }}\n" for i in range(45))
    body = ("meta.x = " + "(" * 150 + "meta.x + 1" + ")" * 150 + ";\n"
            + "if (meta.x != 0) { " * 40 + "meta.x = meta.x" + " + 1" * 50 + ";" + " }" * 40 + "\n"
            + "if (meta.y == 0) { meta.x = 0; }"
            + "".join(f" else if (meta.y == {i}) {{ meta.x = 1; }}" for i in range(1, 60)) + "\n"
            + "s" + ".f" * 46 + " = 1;")
    runs(tmp_path, with_top(ingress(body, "S45 s;"), structs))


def test_else_if_chain_too_deep_for_the_compiler(tmp_path):
    # Within the front end's limit, but nested deeper than Python's indentation allows.
    # Located at the `if` whose else would go too deep (how deep depends on the code around it).
    text = ingress("if (meta.y == 0) { meta.x = 0; }"
                   + "".join(f"\nelse if (meta.y == {i}) {{ meta.x = {i}; }}" for i in range(1, 98)))
    line, col = refused_somewhere(tmp_path, text, "nested too deeply for the dataplane compiler")
    assert line.startswith("else if") and line[col - 1:].startswith("if (meta.y == "), line


def test_early_returns_too_deep_for_the_compiler(tmp_path):
    # Each action returns early, so its inlined body is a loop; 40 of them nest 40 loops.
    actions = "action a40() { meta.x = 2; }\n" + "".join(
        f"action a{i}() {{ if (meta.x == 1) {{ return; }} a{i + 1}(); }}\n" for i in reversed(range(40)))
    text = ingress("a0();", actions)
    line, col = refused_somewhere(tmp_path, text, "nested too deeply for the dataplane compiler")
    assert line.startswith("action a") and re.match(r"(if|a\d+\(\))", line[col - 1:]), line


def test_python_limits_are_caught_when_the_generator_misses_them(tmp_path):
    # The net under the code generator's own limits: with them lifted, Python's compiler refuses 97 levels of
    # indentation, and that is reported at the program's main declaration, not as an internal error.
    text = ingress("if (meta.y == 0) { meta.x = 0; }"
                   + "".join(f"\nelse if (meta.y == {i}) {{ meta.x = {i}; }}" for i in range(1, 98)))
    with mock.patch.object(emitter, "MAX_INDENT", 10_000):
        refused(tmp_path, text, "V1Switch(", "(Python's compiler: too many levels of indentation)", command="stf")


def _call_chain(kind: str, n: int) -> str:
    """A program in which n actions, functions or controls each call the next."""
    if kind == "actions":
        return ingress("a0();", f"action a{n}() {{ meta.x = 2; }}\n" + "".join(
            f"action a{i}() {{ a{i + 1}(); }}\n" for i in reversed(range(n))))
    if kind == "functions":
        return with_top(ingress("meta.x = f0(meta.x);"), f"bit<32> f{n}(in bit<32> v) {{ return v; }}\n" + "".join(
            f"bit<32> f{i}(in bit<32> v) {{ return f{i + 1}(v) + 1; }}\n" for i in reversed(range(n))))
    controls = f"control C{n}(inout metadata_t m) {{ apply {{ m.x = m.x + 1; }} }}\n" + "".join(
        f"control C{i}(inout metadata_t m) {{ C{i + 1}() c; apply {{ c.apply(m); }} }}\n" for i in reversed(range(n)))
    return ingress("c0.apply(meta);", "C0() c0;").replace("control MyIngress", controls + "control MyIngress")


@pytest.mark.parametrize("kind", ["actions", "functions", "controls"])
def test_call_chains_too_deep_for_the_compiler(tmp_path, kind):
    # P4 has no recursion, but 500 actions may call one another; the compiler inlines every call.
    line, col = refused_somewhere(tmp_path, _call_chain(kind, 500), "nested too deeply for the dataplane compiler")
    assert re.match(r"(action a|bit<32> f|control C)\d+", line), line


@pytest.mark.parametrize("kind", ["actions", "functions", "controls"])
def test_call_chains_of_real_depth_run(tmp_path, kind):
    runs(tmp_path, _call_chain(kind, 20))


def test_inlining_bomb(tmp_path):
    # Each action calls the next twice: 2^30 inlined bodies. (With a lower limit, to save the seconds that
    # generating 100,000 lines takes; nothing else depends on its value.)
    actions = "action a30() { meta.x = meta.x + 1; }\n" + "".join(
        f"action a{i}() {{ a{i + 1}(); a{i + 1}(); }}\n" for i in reversed(range(30)))
    with mock.patch.object(emitter, "MAX_LINES", 20_000):
        line, col = refused_somewhere(tmp_path, ingress("a0();", actions), "more than 20000 lines of generated code")
    assert line.startswith("action a") and re.match(r"(a\d+\(\)|meta\.x = )", line[col - 1:]), line


# ---------------------------------------------------------------------- numbers

@pytest.mark.parametrize("literal, message", [
    ("9" * 100_000, "integer literal too large"),
    ("0x" + "f" * 1_000_000, "integer literal too large"),
    ("0b1" + "0" * MAX_LITERAL_BITS, "integer literal too large"),
    ("99999999999w1", "the width of an integer literal must be at most"),
    (f"{MAX_LITERAL_BITS + 1}w1", "the width of an integer literal must be at most"),
], ids=["decimal", "hex", "binary", "width", "width+1"])
def test_huge_literals(tmp_path, literal, message):
    text = ingress(f"meta.x = (bit<32>){literal};")
    refused(tmp_path, text, literal[:8], message, after="meta.x = ", fresh=literal.startswith("9"))


@pytest.mark.parametrize("bounds", ['{ }:0', '"tmp":0', "7:{ }"])
def test_slice_bounds_that_are_not_integers(bounds):
    # (These made the checker compare a tuple or a string with an int.)
    assert errors_of(f"const bool tmp = (1 != 8w2[{bounds}]);\n" + ingress(""))[0] == \
        "the bounds of a slice must be integer constants"


def test_literals_at_the_limit_are_accepted():
    assert errors_of(ingress("meta.x = (bit<32>)0x" + "f" * (MAX_LITERAL_BITS // 4) + ";")) == []
    assert errors_of(ingress("meta.x = (bit<32>)" + "0" * 50_000 + "7;")) == []


@pytest.mark.parametrize("declaration, needle, message", [
    ("bit<1000000000> w;", "1000000000", "the width of a bit type must be an integer from 0 to"),
    ("varbit<1000000000> w;", "1000000000", "the width of a varbit type must be an integer from 0 to"),
    ("ethernet_t[1000000000] s;", "1000000000", f"a header stack may have at most {MAX_STACK_SIZE} elements"),
    ("const int a = 1 << 0xFFFFFFFF;", "1 << ", "the value of this constant expression is too large"),
    ("const bit<4096> w = 0; const bit<32> c = (bit<32>)(w ++ w);", "++", "the result of '++' would be"),
], ids=["bit", "varbit", "stack", "shift", "concatenation"])
def test_huge_sizes_in_declarations(tmp_path, declaration, needle, message):
    text = ingress("", declaration)
    refused(tmp_path, text, needle, message, after=declaration[:12])


def test_constants_that_square_each_other(tmp_path):
    consts = "const int c0 = 0xFFFFFFFFFFFFFFFF;\n" + "".join(f"const int c{i + 1} = c{i} * c{i};\n" for i in range(40))
    text = with_top(ingress("meta.x = (bit<32>)c40;"), consts)
    refused(tmp_path, text, "c6 * c6", "the value of this constant expression is too large")


@pytest.mark.parametrize("kind, instance", [
    ("register", "register<bit<32>>(1000000000) r;"),
    ("counter", "counter(1000000000, CounterType.packets) r;"),
    ("meter", "meter(1000000000, MeterType.packets) r;"),
])
def test_huge_externs(tmp_path, kind, instance):
    text = ingress("", instance)
    refused(tmp_path, text, instance[:8], f"{kind} 'r' has 1000000000 cells; dataplane allows at most "
            f"{MAX_EXTERN_CELLS[kind]} per {kind}", command="stf")


def test_a_register_too_large_for_a_device():
    # Only a program the compiler refused could ask for it; a device made another way is stopped too.
    with pytest.raises(ExternError, match="cannot have"):
        Register("r", MAX_EXTERN_CELLS["register"] + 1, 8)


def test_externs_too_large_together(tmp_path):
    size = MAX_EXTERN_CELLS["register"]
    registers = "".join(f"register<bit<8>>({size}) r{i};\n" for i in range(8))
    refused(tmp_path, ingress("", registers), "register<bit<8>>", "brings the program's registers, counters and "
            "meters to more than", occurrence=5, command="stf")


def test_huge_table_and_value_set_sizes_run(tmp_path):
    # Tables and value sets allocate per entry, not per size: nothing to refuse.
    text = ingress("t.apply();", "action a() { } table t { key = { meta.x: exact; } actions = { a; } "
                   "size = 1000000000; }")
    runs(tmp_path, text)


def test_structs_that_double_at_every_level(tmp_path):
    structs = "struct D0 { bit<8> f; }\n" + "".join(f"struct D{i + 1} {{ D{i} a; D{i} b; }}\n" for i in range(40))
    text = with_top(ingress("", "D40 d;"), structs)
    refused(tmp_path, text, "D40 d;", "'d' is too large to lay out", command="stf", after="control MyIngress")


# ---------------------------------------------------------------------- #if

@pytest.mark.parametrize("condition, message", [
    ("1 << 10000000000", "shift count 10000000000 is out of range"),
    ("9" * 10_000, "is too large"),
    ("(" * 5000 + "1" + ")" * 5000, f"nested too deeply (more than {MAX_IF_NESTING} levels"),
    ("!" * 5000 + "1", "nested too deeply"),
    ("09", "invalid integer constant '09'"),
], ids=["shift", "digits", "parentheses", "not", "octal"])
def test_hostile_if_expressions(tmp_path, condition, message):
    refused(tmp_path, f"#if {condition}\n#endif\n" + ingress(""), "#if", message)


def test_if_expression_macro_bomb(tmp_path):
    defines = "".join(f"#define A{i} A{i + 1} + A{i + 1}\n" for i in range(30)) + "#define A30 1\n"
    refused(tmp_path, defines + "#if A0\n#endif\n" + ingress(""), "#if", "expands more than")


def test_if_arithmetic_is_c_arithmetic():
    cases = ["-7 / 2 == -3", "-7 % 2 == -1", "010 == 8", "0x7fffffffffffffff + 1 < 0", "1 << 63 < 0"]
    for condition in cases:
        text = f"#if {condition}\nconst bit<8> ok = 1;\n#endif\nconst bit<8> x = ok;\n" + ingress("")
        assert errors_of(text) == [], condition
    # `#define A A`: A is 0 inside its own expansion, as in C (not a loop, not an error).
    assert errors_of("#define A A\n#if A\nconst bit<8> no = 1;\n#endif\nconst bit<8> x = no;\n"
                     + ingress(""))[0] == "unknown name 'no'"


# ---------------------------------------------------------------------- property

_OPERATORS = ["+", "-", "*", "&", "|", "^", "<<", ">>", "|+|", "|-|", "++"]

_CONSTRUCTS = {
    "ifs": lambda n, r: ingress("if (meta.x == 1) { " * n + "meta.y = 1;" + " }" * n),
    "blocks": lambda n, r: ingress("{ " * n + "meta.y = 1;" + " }" * n),
    "else-ifs": lambda n, r: ingress("if (meta.y == 0) { }" + "".join(
        f" else if (meta.y == {i % 256}) {{ meta.x = {i}; }}" for i in range(n))),
    "switches": lambda n, r: ingress("switch (meta.y) { 1: {" * n + "meta.x = 1;" + "} }" * n),
    "operators": lambda n, r: ingress("meta.x = meta.x" + "".join(f" {r.choice(_OPERATORS)} 32w{r.randrange(40)}"
                                                                 for _ in range(n)) + ";"),
    "unary": lambda n, r: ingress("meta.x = " + "".join(r.choice(["-", "~", "(bit<32>)", "(int<32>)", "+"])
                                                       for _ in range(n)) + "meta.x;"),
    "parentheses": lambda n, r: ingress("meta.x = " + "(meta.x + " * n + "1" + ")" * n + ";"),
    "ternaries": lambda n, r: ingress("meta.x = " + "".join(f"meta.y == {i % 256} ? {i} : " for i in range(n)) + "0;"),
    "lists": lambda n, r: ingress("meta.x = " + "{" * n + "1" + "}" * n + ";"),
    "tuples": lambda n, r: ingress("", "tuple<" * n + "bit<8>" + ">" * n + " t;"),
    "structs": lambda n, r: with_top(ingress("", f"S{n} s;"), "struct S0 { bit<8> f; }\n" + "".join(
        f"struct S{i + 1} {{ S{i} f; {'S%d g;' % i if r.random() < 0.3 else ''} }}\n" for i in range(n))),
    "stacks": lambda n, r: ingress("s[0].setValid();", f"ethernet_t[{n * r.randrange(1, 4) // 2 + 1}] s;"),
    "macros": lambda n, r: ("".join(f"#define M{i} " + " ".join([f"M{i + 1}"] * r.randrange(1, 4)) + "\n"
                                    for i in range(n)) + f"#define M{n} 1\n" + ingress("meta.x = (bit<32>)(M0);")),
    "literals": lambda n, r: ingress("meta.x = (bit<32>)"
                                    + ("0x" + "f" * (n * 30) if r.random() < 0.5 else "9" * (n * 40)) + ";"),
    "actions": lambda n, r: ingress("a0();", f"action a{n}() {{ meta.x = meta.x + 1; }}\n" + "".join(
        f"action a{i}() {{ {'if (meta.x == 1) { return; } ' if r.random() < 0.5 else ''}"
        + f"a{i + 1}(); " * r.randrange(1, 3) + "}\n" for i in reversed(range(n)))),
}

_names = itertools.count()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(_CONSTRUCTS)), size=st.integers(0, 400), seed=st.integers(0, 2**32))
def test_nested_and_long_constructs_never_crash(tmp_path_factory, kind, size, seed):
    """Whatever the depth or length: PASS, FAIL or a located error, never an internal error.

    Runs in-process (boxed) with the token and generated-code limits lowered, so that an example that
    reaches them costs a fraction of a second; the paths taken are the same."""
    import random
    rng = random.Random(seed)
    size = size if kind not in ("macros", "actions") else size % 45
    directory = tmp_path_factory.mktemp("hostile")
    name = f"p{next(_names)}.p4"      # a new name each time: build() caches by path, size and time
    (directory / name).write_text(_CONSTRUCTS[kind](size, rng))
    (directory / "t.stf").write_text(ECHO_STF)
    with mock.patch.object(lexer, "MAX_TOKENS", 20_000), mock.patch.object(emitter, "MAX_LINES", 5_000):
        done = run_boxed(directory, ["stf", name, "t.stf"])
    assert done.returncode in (0, 1), done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    if done.returncode == 1 and not done.stdout.startswith("FAIL"):
        assert re.match(rf"{re.escape(name)}(:\d+:\d+)?: error: ", done.stderr), done.stderr
