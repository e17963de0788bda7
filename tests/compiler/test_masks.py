"""masks.py: a mask is left out only where it keeps every bit its operand can have, and nothing else
changes; what would let a wider value reach it keeps it."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.masks import drop_redundant_masks


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    drop_redundant_masks(fn)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {"int_from_bytes": int.from_bytes}
    exec(textwrap.dedent(src), namespace)
    try:
        return namespace["f"](*args)
    except Exception as e:      # the same exception, the same way
        return type(e).__name__


# The shapes the code generator writes, on fields read from bytes and from a header's int.
ROUTER = """
def f(port, data):
    n = len(data)
    h = 0
    k = 0
    if n >= 20:
        h = int_from_bytes(data[0:20], 'big')
        k = data[0] & 0xf
    hl = (data[2] << 8 | data[3]) - (k << 2 & 0xffff) & 0xffff
    short = data[2] << 8 | data[3] < k * 4 & 0xffff
    dst = h & 0xffffffff
    src = h >> 32 & 0xffffffff
    bad = dst >> 28 & 0xf == 0xe or src >> 24 & 0xff == 0x7f
    ttl = data[8]
    ttl2 = ttl - 1 & 0xff
    s = ((data[10] << 8 | data[11] ^ 0xffff) + (ttl << 8 ^ 0xffff) & 0xffffffff) + (ttl2 << 8) & 0xffffffff
    s = s % 0xffff or (0xffff if s else 0)
    mixed = s * (port | 1) & 0xffffffff
    region = ((mixed >> 16 & 0xffff) * port & 0xffffffff) >> 16 & 0xffff
    return hl, short, dst, src, bad, ttl2, s & 0xffff ^ 0xffff, region
"""


def test_masks_of_values_known_to_be_narrower_go():
    out = rewritten(ROUTER)
    assert "- (k << 2) & 65535\n" in out and "< k * 4\n" in out
    assert "dst >> 28 == 14" in out and "src >> 24 == 127" in out
    assert "s = (data[10] << 8 | data[11] ^ 65535) + (ttl << 8 ^ 65535) + (ttl2 << 8)\n" in out
    assert "region = ((mixed >> 16) * port & 4294967295) >> 16\n" in out


def test_masks_that_may_cut_bits_stay():
    out = rewritten(ROUTER)
    # A difference may be negative (the mask of `hl` above); a field of a wider int; a local with one store wider than the mask;
    # a product with an argument, whose width is unknown.
    assert "ttl - 1 & 255" in out
    assert "dst = h & 4294967295" in out and "src = h >> 32 & 4294967295" in out
    assert "s & 65535 ^ 65535" in out and "mixed = s * (port | 1) & 4294967295" in out


@given(st.binary(min_size=0, max_size=24), st.integers(0, 2 ** 40))
def test_the_function_returns_what_it_did(data, port):
    assert run(rewritten(ROUTER), port, data) == run(ROUTER, port, data)


def test_a_local_stored_otherwise_or_from_an_unknown_value_keeps_its_masks():
    src = """
    def f(port, data, xs):
        a = data[0]
        a += 300
        b = data[1]
        for b in xs:
            pass
        c = data[2]
        c = port
        d = data[3]
        (d, e) = xs
        g = data[4]
        g = g << 1
        return a & 0xff, b & 0xff, c & 0xff, d & 0xff, g & 0x1ff
    """
    out = rewritten(src)
    assert "return (a & 255, b & 255, c & 255, d & 255, g & 511)" in out
    for args in [(7, bytes([255, 255, 255, 255, 255]), [1000, 2000]), (9, bytes(5), [256, 512])]:
        assert run(out, *args) == run(src, *args)


def test_data_rebound_or_not_the_parameter_is_not_bytes():
    rebound = """
    def f(port, data):
        data = [port]
        return data[0] & 0xff
    """
    assert "data[0] & 255" in rewritten(rebound)
    assert run(rewritten(rebound), 300, b"") == run(rebound, 300, b"") == 300 & 0xff
    walrus = """
    def f(port, data):
        if (data := [port]):
            return data[0] & 0xff
    """
    assert "data[0] & 255" in rewritten(walrus)
    not_a_parameter = """
    def f(port, packet):
        data = [port]
        return data[0] & 0xff
    """
    assert "data[0] & 255" in rewritten(not_a_parameter)


def test_nested_scopes_and_their_names_are_left_alone():
    src = """
    def f(port, data):
        x = data[0]
        g = lambda x: x & 0xff
        h = [x & 0xff for x in (port, port + 1)]
        def k(y):
            nonlocal x
            x = y
        k(port)
        return g(port), h, x & 0xff, data[1] & 0xff
    """
    out = rewritten(src)
    assert "lambda x: x & 255" in out and "[x & 255 for x in" in out and "x & 255, data[1])" in out
    assert run(out, 1000, bytes([5, 6])) == run(src, 1000, bytes([5, 6]))


def test_slices_of_data_have_the_width_of_their_bytes():
    src = """
    def f(port, data):
        off = port
        a = int_from_bytes(data[0:2], 'big')
        b = int_from_bytes(data[off:off + 2], 'big')
        c = int_from_bytes(data[off:port + 2], 'big')
        d = int_from_bytes(data[0:2], 'big', signed=True)
        return a & 0xffff, b & 0xffff, c & 0xffff, d & 0xffff, a & 0xfff
    """
    out = rewritten(src)
    assert "return (a, b, c & 65535, d & 65535, a & 4095)" in out
    for port in range(4):
        assert run(out, port, b"\xff\x80\x01\x02\x03") == run(src, port, b"\xff\x80\x01\x02\x03")
