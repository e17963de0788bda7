"""smallints.py: `<<`, `|` and `^` of small ints become `*`, `+` and `-` only where they mean the same; what
may make them differ (unknown or wide values, bits on both sides, bools) keeps them."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.smallints import use_specialized_arithmetic


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    use_specialized_arithmetic(fn)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {"int_from_bytes": int.from_bytes}
    exec(textwrap.dedent(src), namespace)
    try:
        result = namespace["f"](*args)
    except Exception as e:      # the same exception, the same way
        return type(e).__name__
    return result, [type(v) for v in result]


# The shapes the generated code has: 16-bit words of bytes, the ones' complement sum, a TTL word.
ROUTER = """
def f(port, data):
    n = len(data)
    k = data[0] & 0xf
    total = data[2] << 8 | data[3]
    short = total - (k << 2) & 0xffff <= 3
    ttl = data[8]
    word = ttl << 8 | data[9]
    ttl2 = ttl - 1 & 0xff
    s = ((data[10] << 8 | data[11]) ^ 0xffff) + (word ^ 0xffff) + (ttl2 << 8 | data[9])
    s = s % 0xffff or (0xffff if s else 0)
    check = 0xffff ^ (s & 0xffff)
    return total, short, word, s, check, s & 0xffff ^ 0xffff
"""


def test_the_router_shapes_become_arithmetic():
    out = rewritten(ROUTER)
    assert "total = data[2] * 256 + data[3]\n" in out
    assert "short = total - k * 4 & 65535 <= 3\n" in out
    assert "word = ttl * 256 + data[9]\n" in out
    assert "s = 65535 - (data[10] * 256 + data[11]) + (65535 - word) + (ttl2 * 256 + data[9])\n" in out
    assert "check = 65535 - (s & 65535)\n" in out
    assert "65535 - (s & 65535))\n" in out


@given(st.binary(max_size=24), st.integers(0, 511))
def test_old_and_new_agree_on_any_packet(data, port):
    assert run(ROUTER, port, data) == run(rewritten(ROUTER), port, data)


def test_values_not_known_to_be_small_ints_keep_their_operators():
    src = """
    def f(port, data):
        a = port << 8 | data[1]
        b = data[0] ^ port
        c = data[0] << 8 | port
        return a, b, c
    """
    out = rewritten(src)
    assert "a = port << 8 | data[1]\n" in out and "b = data[0] ^ port\n" in out
    assert "c = data[0] * 256 | port\n" in out       # the shift alone is the same for every int


def test_wide_values_keep_their_operators():
    src = """
    def f(data):
        h = int_from_bytes(data[0:16])
        a = data[0] << 30
        b = (h & 0x3fffffff) << 8
        c = (h & 0xffffffff) << 8
        d = (h & 0xffffffffffffffff) | data[0] << 64
        e = (h & 0xfffffffffffffff) | data[0] << 60
        f = h & 0xfffffffffffffff ^ 0xfffffffffffffff
        g = h & 0xffffffffffffffff ^ 0xffffffffffffffff
        return a, b, c, d, e, f, g
    """
    out = rewritten(src)
    # A product of two values of one digit each (below 2**30), whatever its size; sums below 2**60.
    assert "a = data[0] << 30\n" in out and "b = (h & 1073741823) * 256\n" in out
    assert "c = (h & 4294967295) << 8\n" in out
    assert "d = h & 18446744073709551615 | data[0] << 64\n" in out
    assert "e = h & 1152921504606846975 | data[0] << 60\n" in out      # data[0] << 60 is past 2**60
    assert "f = 1152921504606846975 - (h & 1152921504606846975)\n" in out
    assert "g = h & 18446744073709551615 ^ 18446744073709551615\n" in out


@given(st.binary(min_size=16, max_size=16))
def test_wide_values_rewritten_or_not_are_the_same(data):
    src = """
    def f(data):
        h = int_from_bytes(data[0:16])
        b = (h & 0x3fffffff) << 8
        e = (h & 0xffffffff) | data[0] << 40
        f = h & 0xfffffffffffffff ^ 0xfffffffffffffff
        return b, e, f
    """
    out = rewritten(src)
    assert "+" in out and "*" in out and "-" in out
    assert run(src, data) == run(out, data)


def test_neighbouring_shifts_of_small_values_are_shifted_together():
    src = """
    def f(data, h):
        ttl = data[8] - 1 & 0xff
        s = (data[10] << 8 | data[11]) + ttl
        a = h & 0xffff00ff0000 | ttl << 88 | (s & 0xffff ^ 0xffff) << 64
        b = ttl << 88 | h | (s & 0xffff) << 64
        c = ttl << 88 | (s & 0xffff) << 64 | data[0] << 48 | h
        d = h << 88 | ttl << 64
        return a, b, c, d
    """
    out = rewritten(src)
    assert "a = h & 281470698455040 | ttl * 16777216 + (65535 - (s & 65535)) << 64\n" in out
    assert "b = ttl << 88 | h | (s & 65535) << 64\n" in out          # not side by side
    # A run of three: shifted by 48 together, and the first two of them by 16 (each `|` then a sum).
    assert "c = (ttl * 16777216 + (s & 65535) << 16) + data[0] << 48 | h\n" in out
    assert "d = h << 88 | ttl << 64\n" in out                      # h's bits are not known


@given(st.binary(min_size=12, max_size=12), st.integers(0, 2 ** 128))
def test_shifted_together_or_not_the_same(data, h):
    src = """
    def f(data, h):
        ttl = data[8] - 1 & 0xff
        s = (data[10] << 8 | data[11]) + ttl
        a = h & 0xffff00ff0000 | ttl << 88 | (s & 0xffff ^ 0xffff) << 64
        c = ttl << 88 | (s & 0xffff) << 64 | data[0] << 48 | h
        return a, c
    """
    out = rewritten(src)
    assert run(src, data, h) == run(out, data, h)


def test_bits_on_both_sides_keep_the_or_and_bits_outside_the_constant_keep_the_xor():
    src = """
    def f(data):
        a = data[0] | data[1] << 4
        b = (data[0] & 0x1f) ^ 0xf
        return a, b
    """
    out = rewritten(src)
    assert "a = data[0] | data[1] * 16\n" in out
    assert "b = data[0] & 31 ^ 15\n" in out


def test_an_or_of_two_bools_stays_a_bool():
    src = """
    def f(data):
        a = data[0] & 1
        b = data[1] & 2
        return a | b, (data[0] & 1) | data[1] << 1
    """
    out = rewritten(src)
    assert "return (a | b, (data[0] & 1) + data[1] * 2)\n" in out


def test_a_rebound_data_is_not_bytes():
    src = """
    def f(data):
        data = [300, 400]
        return data[0] << 8 | data[1]
    """
    assert "data[0] << 8 | data[1]" in rewritten(src)


def test_nested_scopes_are_left_alone():
    src = """
    def f(data):
        g = lambda data: data[0] << 8 | data[1]
        return g, data[0] << 8 | data[1]
    """
    out = rewritten(src)
    assert "lambda data: data[0] << 8 | data[1]" in out and "data[0] * 256 + data[1])" in out
