"""The ast pass over the generated fast() function: what it removes, and what it must keep."""

from __future__ import annotations

import textwrap

import pytest

from dataplane.compiler.simplify import simplify_function

from .test_byteorder import BIG


def simplified(src: str) -> str:
    return "\n".join(simplify_function(textwrap.dedent(src).strip().splitlines())) + "\n"


def run(src: str, *args):
    namespace = {"ExitControl": type("ExitControl", (Exception,), {})}
    exec(src, namespace)
    return namespace["f"](*args)


def test_a_test_of_a_validity_bit_is_folded_where_the_bit_is_known():
    src = """
    def f(x):
        v_p = False
        for _ in range(1):      # (after an if that sets v_p, the code would go into its branches)
            if x:
                v_p = True
        if v_p:
            if v_p: x = 2
            y = (x if v_p else 0)
            return y
        return 0
    """
    out = simplified(src)
    assert out.count("if v_p") == 1 and " if v_p else" not in out
    assert run(out, 5) == run(textwrap.dedent(src), 5) == 2


def test_a_store_between_the_test_and_the_use_keeps_the_test():
    src = """
    def f(x):
        v_p = False
        for _ in range(1):
            if x:
                v_p = True
        if v_p:
            v_p = False
            if v_p: x = 2
        return x
    """
    out = simplified(src)
    assert out.count("if v_p") == 1      # the second one is known False: removed
    assert "x = 2" not in out
    src2 = src.replace("v_p = False\n            if v_p", "v_p = bool(x - 5)\n            if v_p")
    out2 = simplified(src2)
    assert out2.count("if v_p") == 2     # no longer a boolean only ever set to constants
    assert run(out2, 5) == 5 and run(out2, 6) == 2


def test_a_loop_forgets_what_its_body_stores():
    src = """
    def f(n):
        c_p = 0
        i = 0
        while i < n:
            if c_p == 1:
                return i
            c_p = 1
            i += 1
        return -1
    """
    out = simplified(src)
    assert "if c_p == 1" in out
    assert run(out, 3) == run(textwrap.dedent(src), 3) == 1


def test_a_metadata_field_only_ever_set_to_zero_is_never_tested():
    out = simplified("""
    def f(x):
        g_p = 0
        if x:
            g_p = 0
        if g_p:
            return 'multicast'
        return 'unicast'
    """)
    assert "multicast" not in out and "g_p" not in out


def test_try_except_exit_control_goes_only_where_nothing_exits():
    out = simplified("""
    def f(x):
        try:
            x = x + 1
        except ExitControl:
            pass
        try:
            if x > 2:
                raise ExitControl
            x = 0
        except ExitControl:
            pass
        return x
    """)
    assert out.count("try:") == 1 and out.count("raise ExitControl") == 1
    assert run(out, 1) == 0 and run(out, 5) == 6


def test_a_handler_knows_only_what_the_try_body_never_changes():
    src = """
    def f(x):
        v_p = True
        try:
            v_p = False
            if x:
                raise KeyError
            v_p = True
        except KeyError:
            if v_p:
                return 'valid'
            return 'invalid'
        return 'done'
    """
    out = simplified(src)
    assert "if v_p" in out
    assert run(out, 1) == "invalid" and run(out, 0) == "done"


def test_unread_stores_go_but_effects_stay():
    out = simplified("""
    def f(data, log):
        a_p = b_p = 0
        c_p = len(data)
        d_p = log.append(1)
        return b_p
    """)
    assert "a_p" not in out and "c_p" not in out and "log.append(1)" in out and "return 0" in out


def test_masks_stay_in_hex():
    assert "x & 0xffff" in simplified("""
    def f(x):
        return x & 0xffff
    """)


PARSER = """
def f(data):
    ParserStop = KeyError
    v_p = w_p = False
    n = len(data)
    off = 0
    try:
        if n < 1:
            raise ParserStop(1)
        v_p = True
        if data[0] == 1:
            if n < 2:
                off = 1
                raise ParserStop(2)
            w_p = True
            off = 2
        else:
            off = 1
    except ParserStop as exc:
        err = exc.args[0]
    else:
        err = 0
    out = []
    if v_p:
        out.append('v')
    if w_p:
        out.append('w')
    return out, err, data[off:]
"""


def test_the_code_after_the_parser_is_copied_to_each_exit_and_folded_there():
    out = simplified(PARSER)
    # Two exits and the handler: three copies of the tail, where each knows its validity bits.
    assert out.count("return (out,") == 3 and "if w_p" not in out
    original = textwrap.dedent(PARSER)
    for data in (b"", b"\x01", b"\x01\x02\x03", b"\x02\x03"):
        assert run(out, data) == run(original, data), data


def test_the_tail_is_not_copied_when_it_raises_parser_stop_itself():
    src = PARSER.replace("    return out, err, data[off:]", "    if err:\n        raise ParserStop(3)\n"
                         "    return out, err, data[off:]")
    out = simplified(src)
    assert out.count("return (out,") == 1
    assert run(out, b"\x02") == run(textwrap.dedent(src), b"\x02") == (["v"], 0, b"")
    with pytest.raises(KeyError):
        run(out, b"\x01")


def test_known_integers_are_substituted_and_folded():
    out = simplified("""
    def f(acc):
        aw = 104
        return (acc << (-aw & 7)).to_bytes((aw + 7) >> 3, 'big')
    """)
    assert f"to_bytes(13{BIG})" in out and "acc << 0" in out


def test_a_value_read_once_in_the_next_statement_moves_there():
    src = """
    def f(h, t, c):
        key = h & 0xff
        ent = t.get(key)
        a = h + 1
        b = c or a
        d = h * 2
        e = d + d
        return ent, b, e
    """
    out = simplified(src)
    assert "t.get(h & 0xff)" in out and "key" not in out
    assert "b = c or a" in out                  # behind `or`: a stays where it is computed
    assert "d = h * 2" in out and "d + d" in out    # d is read twice: it stays
    original = textwrap.dedent(src)
    for args in ((5, {5: "x"}, 0), (7, {}, 3)):
        assert run(out, *args) == run(original, *args)


def test_shifts_by_zero_and_ors_with_zero_of_ints_go_but_a_bool_stays_a_bool():
    src = """
    def f(h, t):
        acc = 0 << 160 | h & 0xff
        v = t | 0
        return (acc << 0, v, (acc | 0) >> 0)
    """
    out = simplified(src)
    assert "<< 0" not in out and ">> 0" not in out and "0 << 160" not in out
    assert "t | 0" in out                           # t may be a bool: `t | 0` is the int
    for args in [(0x1234, True), (0x1234, False), (7, 3)]:
        assert run(out, *args) == run(textwrap.dedent(src), *args)
        assert type(run(out, *args)[1]) is int


def test_a_known_true_operand_of_and_goes():
    src = """
    def f(x):
        v_p = True
        if v_p and x:
            return 1
        return 0
    """
    out = simplified(src)
    assert "if x:" in out
    assert [run(out, x) for x in (0, 1)] == [0, 1]


def test_an_if_that_the_branches_of_the_if_before_it_decide_goes_into_them():
    src = """
    def f(x):
        err = 0
        if x % 7:
            err = 1
        try:
            if err == 1:
                r = 10
            else:
                r = 20
        except ExitControl:
            pass
        return r + x
    """
    out = simplified(src)
    assert "err" not in out                         # each branch knows err: the flag and its test go
    assert [run(out, x) for x in range(10)] == [run(textwrap.dedent(src), x) for x in range(10)]


def test_an_if_whose_test_the_branches_do_not_both_decide_stays_after_them():
    src = """
    def f(x, y):
        err = 0
        if x:
            err = 1
        else:
            err = y
        if err == 1:
            return 1
        return 2
    """
    out = simplified(src)
    assert out.count("if err == 1") == 1
    assert [run(out, x, y) for x in (0, 1) for y in (0, 1)] == [2, 1, 1, 1]


def test_a_short_tail_that_tests_what_an_if_sets_goes_into_its_branches():
    src = """
    def f(x, spec):
        cpu_v_p = False
        out = 0
        if spec == 510:
            cpu_v_p = True
            cpu_b_p = x
        n = 0
        if cpu_v_p:
            out = cpu_b_p
            n = 8
        out = out << 112 | x
        n += 14
        return (out, n)
    """
    out = simplified(src)
    assert "if cpu_v_p" not in out and "return (0 | x, 14)" in out      # (x may be a bool: 0 | x stays)
    for args in [(5, 510), (5, 1), (0, 510)]:
        assert run(out, *args) == run(textwrap.dedent(src), *args)


def test_comparisons_of_known_integers_are_folded():
    out = simplified("""
    def f(cells):
        i = 0
        return (cells[i] if i < 1 else 0) | (cells[i] if i >= 1 else 5)
    """)
    assert "if" not in out and "cells[0] | 5" in out


def test_a_range_from_zero_on_a_value_never_negative_tests_its_top_only():
    src = """
    def f(h, x):
        k = h >> 152 & 0xf
        if 0 <= k <= 4:
            return 1
        if 0 <= (h >> 128 & 0xffff) - (k << 2 & 0xffff) & 0xffff <= 3:
            return 2
        if 0 <= x <= 3:
            return 3
        return 4
    """
    out = simplified(src)
    assert "if k <= 4:" in out and "& 0xffff <= 3:" in out and "0 <= (h" not in out
    assert "0 <= x <= 3" in out                 # x may be negative
    for args in [(5 << 152 | 22 << 128, 0), (3 << 152, -1), (6 << 152 | 24 << 128, 2), (6 << 152 | 30 << 128, 9)]:
        assert run(out, *args) == run(textwrap.dedent(src), *args)


def test_successive_rewrites_of_a_local_become_one_expression():
    src = """
    def f(a, b, c, spec):
        deparsed = a
        deparsed = deparsed << 160 | b
        deparsed = deparsed << 8 | c
        pkt = deparsed.to_bytes(22, 'big')
        return [(spec, pkt)]
    """
    out = simplified(src)
    assert f"pkt = ((a << 160 | b) << 8 | c).to_bytes(22{BIG})" in out and "deparsed" not in out
    assert run(out, 1, 2, 3, 4) == run(textwrap.dedent(src), 1, 2, 3, 4)


def test_a_value_read_by_the_last_statements_before_a_return_moves_there_though_read_elsewhere():
    src = """
    def f(x, y):
        if y:
            acc = x & 0xff
            cx = acc
            if cx % 7 == 1:
                return 1
            return cx
        acc = x & 0xf
        acc = acc << 8 | y
        return acc
    """
    out = simplified(src)
    assert "cx = x & 0xff" in out and "return (x & 0xf) * 256 | y" in out and "acc" not in out
    for args in [(8, 1), (9, 0), (15, 3)]:
        assert run(out, *args) == run(textwrap.dedent(src), *args)


def test_a_value_an_if_reads_in_its_test_and_its_branches_stays():
    # The test reads op once, but the elif reads it again: op must stay a local.
    src = """
    def f(h):
        op = h >> 8 & 0xff
        if op == 1:
            return 'one'
        elif op == 2:
            return 'two'
        return 'other'
    """
    out = simplified(src)
    assert "op = h >> 8 & 0xff" in out
    for h in (0x100, 0x200, 0x300):
        assert run(out, h) == run(textwrap.dedent(src), h)


def test_a_value_with_effects_moves_only_into_a_plain_copy():
    out = simplified("""
    def f(data, seen):
        la = int.from_bytes(data[0:4], 'big')
        x = la
        n = len(seen.pop())
        y = n + 1
        return x, y
    """)
    assert f"x = int.from_bytes(data[0:4]{BIG})" in out and "la" not in out
    assert "n = len(seen.pop())" in out


def test_a_value_read_where_a_handler_may_see_it_stays():
    src = """
    def f(a, b):
        try:
            x = a + 1
            y = x * 2
            if b:
                raise ExitControl
            return y
        except ExitControl:
            return x
    """
    out = simplified(src)
    assert "x = a + 1" in out
    assert run(out, 1, True) == run(textwrap.dedent(src), 1, True) == 2


def test_a_last_elif_that_does_nothing_goes_and_an_empty_if_branch_turns_round():
    src = """
    def f(aid, n, k):
        if aid == 0:
            r = 1
        elif aid == 1:
            pass
        else:
            r = 2
        if aid == 5:
            r = 3
        elif aid == 1:
            pass
        if k <= 3:
            pass
        else:
            r = r + 10
        return r
    """
    out = simplified(src)
    assert "elif not aid == 1:" in out      # not the last elif: it keeps the else from running
    assert out.count("aid == 1") == 1
    assert "if not k <= 3:" in out
    for args in [(0, 0, 0), (1, 0, 9), (2, 0, 2), (5, 0, 5)]:
        try:
            expected = run(textwrap.dedent(src), *args)
        except UnboundLocalError:
            continue
        assert run(out, *args) == expected


def test_a_value_moves_inside_a_try_whose_handlers_return_without_reading_it():
    src = """
    def f(a, b):
        try:
            if b:
                x = a
                raise ParserStop
            x = a + 1
            y = x * 2
            return y
        except ParserStop:
            return 0
    """
    namespace = {"ParserStop": type("ParserStop", (Exception,), {})}
    out = simplified(src)
    assert "x = a + 1" not in out and "return (a + 1) * 2" in out
    exec(out, namespace)
    assert namespace["f"](3, False) == 8 and namespace["f"](3, True) == 0
    # A handler that reads x sees the value it had where the exception was raised: x stays.
    out = simplified(src.replace("return 0", "return x"))
    assert "x = a + 1" in out
    exec(out, namespace)
    assert namespace["f"](3, False) == 8 and namespace["f"](3, True) == 3
