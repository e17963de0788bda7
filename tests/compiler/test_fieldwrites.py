"""fieldwrites.py: two writes of one header's fields with only arithmetic on other locals between them
become one statement, and nothing else changes."""

from __future__ import annotations

import ast
import random
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.fieldwrites import merge_separated_field_writes


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    merge_separated_field_writes(fn)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {"ExitControl": type("ExitControl", (Exception,), {})}
    exec(textwrap.dedent(src), namespace)
    try:
        return namespace["f"](*args)
    except Exception as e:
        return type(e).__name__


# The TTL decrement and checksum update of a router, as fieldreads.py leaves them.
TTL = """
def f(h_ipv4_b_p):
    ipv4_88_8 = h_ipv4_b_p >> 88 & 0xff
    ipv4_64_16 = h_ipv4_b_p >> 64 & 0xffff
    ipv4_88_8_2 = ipv4_88_8 - 1 & 0xff
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00ffffffffffffffffffffff | ipv4_88_8_2 << 88
    s = (ipv4_64_16 ^ 0xffff) + (ipv4_88_8 << 8 ^ 0xffff) + (ipv4_88_8_2 << 8) & 0xffffffff
    s = s % 0xffff or (0xffff if s else 0)
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffffffff0000ffffffffffffffff | (s & 0xffff ^ 0xffff) << 64
    return h_ipv4_b_p
"""


def test_a_write_moves_past_arithmetic_on_other_locals_into_the_next_write():
    out = rewritten(TTL)
    assert out.count("h_ipv4_b_p = ") == 1
    keep = 0xffffffffffffffff00ffffffffffffffffffffff & 0xffffffffffffffffffff0000ffffffffffffffff
    assert f"h_ipv4_b_p = h_ipv4_b_p & {keep} | ipv4_88_8_2 << 88 | (s & 65535 ^ 65535) << 64" in out


@given(st.integers(0, (1 << 160) - 1))
def test_the_merged_write_gives_the_same_header(h):
    assert run(rewritten(TTL), h) == run(TTL, h)


def blocked(between: str, first_value: str = "ipv4_88_8_2 << 88") -> str:
    return f"""
def f(h_ipv4_b_p, x):
    ipv4_88_8_2 = (h_ipv4_b_p >> 88) - 1 & 0xff
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00ffffffffffffffffffffff | {first_value}
    {between}
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffffffff0000ffffffffffffffff | (x & 0xffff) << 64
    return (h_ipv4_b_p, x)
"""


def test_what_keeps_the_writes_apart():
    for between in ("x = h_ipv4_b_p >> 88 & 0xff",     # reads the header the first write changed
                    "ipv4_88_8_2 = x & 0xff",          # changes what the first write's value reads
                    "x = len(str(x))",                 # calls
                    "if x: x = 1"):                    # not a plain assignment
        src = blocked(between)
        assert rewritten(src).count("h_ipv4_b_p = ") == 2, between
        for args in ((1 << 159) | (5 << 88), 3), ((7 << 88), 0):
            assert run(rewritten(src), *args) == run(src, *args)


def test_no_merge_when_the_second_write_clears_what_the_first_wrote_or_reads_the_header_or_it_calls():
    overlapping = blocked("x = x + 1").replace("0xffffffffffffffffffff0000ffffffffffffffff",
                                               "0xffffffffffffffff0000ffffffffffffffffffff")
    reading = blocked("x = x + 1").replace("(x & 0xffff) << 64", "(h_ipv4_b_p >> 88 & 0xff) << 64")
    calling = blocked("x = x + 1", first_value="(len(str(x)) & 0xff) << 88")     # the call would come later
    for src in (overlapping, reading, calling):
        assert rewritten(src).count("h_ipv4_b_p = ") == 2
        assert run(rewritten(src), 9 << 88, 4) == run(src, 9 << 88, 4)


def test_a_local_stored_twice_is_not_known_to_be_bounded():
    src = blocked("x = x + 1").replace("    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00",
                                       "    if x > 5:\n        ipv4_88_8_2 = x << 200\n"
                                       "    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00")
    assert rewritten(src).count("h_ipv4_b_p = ") == 2
    for x in (0, 6):
        assert run(rewritten(src), 3 << 88, x) == run(src, 3 << 88, x)


def test_nothing_moves_in_a_function_that_catches_other_exceptions():
    src = """
    def f(h_ipv4_b_p, x):
        try:
            h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00ffffffffffffffffffffff | (x & 0xff) << 88
            y = 1 // x
            h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffffffff0000ffffffffffffffff | (y & 0xffff) << 64
        except ZeroDivisionError:
            return h_ipv4_b_p
        return h_ipv4_b_p
    """
    out = rewritten(src)
    assert out.count("h_ipv4_b_p = ") == 2
    # The same without the handler: a division by zero leaves the function, whatever the header holds.
    unguarded = rewritten(src.replace("except ZeroDivisionError", "except ExitControl"))
    assert unguarded.count("h_ipv4_b_p = ") == 1
    rng = random.Random(5)
    for _ in range(20):
        args = (rng.getrandbits(160), rng.choice([0, 1, 2]))
        assert run(out, *args) == run(src, *args)
