"""byteorder.py: the byte order 'big' is left out of int.from_bytes and to_bytes calls exactly where the
interpreter takes it as the default, and the calls return what they did."""

from __future__ import annotations

import ast
import sys
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.byteorder import BIG_IS_DEFAULT, drop_default_byteorder

# What follows a call's first argument in generated code: ", 'big'" where the byte order must be passed.
BIG = "" if BIG_IS_DEFAULT else ", 'big'"

SRC = """
def f(data, x, obj):
    a = int_from_bytes(data[0:4], 'big')
    b = int.from_bytes(data[4:6], 'big')
    c = (x << 8 | a).to_bytes(7, 'big')
    d = int_from_bytes(data[0:2], 'little')
    e = x.to_bytes(5, 'big', signed=True)
    g = obj.from_bytes(data, 'big')
    h = int_from_bytes(data[2:4], byteorder='big')
    return a, b, c, d, e, g, h
"""


class FromBytes:
    @staticmethod
    def from_bytes(data, order):
        return (data, order)


def rewritten(big_is_default: bool) -> str:
    fn = ast.parse(textwrap.dedent(SRC)).body[0]
    drop_default_byteorder(fn, big_is_default)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {"int_from_bytes": int.from_bytes}
    exec(src, namespace)
    return namespace["f"](*args)


def test_big_is_the_default_from_python_3_11():
    assert BIG_IS_DEFAULT == (sys.version_info >= (3, 11))


def test_only_a_trailing_big_of_from_bytes_and_to_bytes_goes():
    out = rewritten(True)
    assert "int_from_bytes(data[0:4])" in out and "int.from_bytes(data[4:6])" in out
    assert "(x << 8 | a).to_bytes(7)" in out
    # Another byte order, a keyword, another object's from_bytes: left as they are.
    assert "int_from_bytes(data[0:2], 'little')" in out and "x.to_bytes(5, 'big', signed=True)" in out
    assert "obj.from_bytes(data, 'big')" in out and "int_from_bytes(data[2:4], byteorder='big')" in out
    assert out.count("'big'") == 3


def test_nothing_changes_where_the_byte_order_is_required():
    assert rewritten(False) == ast.unparse(ast.parse(textwrap.dedent(SRC)).body[0]) + "\n"


@given(st.binary(min_size=0, max_size=8), st.integers(-2 ** 20, 2 ** 20))
def test_the_calls_return_what_they_did(data, x):
    args = (data, x, FromBytes)
    try:
        expected = run(textwrap.dedent(SRC), *args)
    except OverflowError:
        expected = OverflowError
    try:
        got = run(rewritten(BIG_IS_DEFAULT), *args)
    except OverflowError:
        got = OverflowError
    assert got == expected
