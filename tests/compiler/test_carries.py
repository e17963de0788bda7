"""carries.py: two end-around-carry folds of a value below 2**32 become one line, with the same result."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.carries import FOLDED, fold_end_around_carries


def two_folds(s: int) -> int:
    s = (s & 0xFFFF) + (s >> 16) & 0xFFFFFFFF
    return (s & 0xFFFF) + (s >> 16) & 0xFFFFFFFF


def one_line(s: int) -> int:
    return eval(FOLDED.format(name="s"), {"s": s})


# The values where a fold carries, wraps or stops: around 0, the 16-bit words' limits and multiples of 0xffff.
EDGES = sorted({v for base in (0, 0xFFFF, 0x10000, 0x1FFFE, 0x1FFFF, 0x20000, 0xFFFF * 0xFFFF, 0xFFFF0000,
                               0xFFFEFFFF, 0xFFFFFFFF) for v in (base - 1, base, base + 1) if 0 <= v < 1 << 32}
               | {0xFFFF * k for k in range(0, 0x10001, 0x1111)})


def test_the_one_line_is_the_two_folds_at_the_edges():
    for s in EDGES:
        assert one_line(s) == two_folds(s), hex(s)
    assert one_line(0) == 0 and one_line(0xFFFF) == 0xFFFF and one_line(0x1FFFE) == 0xFFFF


@given(st.integers(0, (1 << 32) - 1))
def test_the_one_line_is_the_two_folds_below_2_to_the_32(s):
    assert one_line(s) == two_folds(s)


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    fold_end_around_carries(fn)
    return ast.unparse(fn)


CSUM16_UPDATE = """
def f(hc, old, new):
    s = ((hc ^ 0xffff) + (old ^ 0xffff) & 0xffffffff) + new & 0xffffffff
    s = (s & 0xffff) + (s >> 0x10) & 0xffffffff
    s = (s & 0xffff) + (s >> 0x10) & 0xffffffff
    return s & 0xffff ^ 0xffff
"""


def run(src: str, *args):
    namespace: dict = {}
    exec(src, namespace)
    return namespace["f"](*args)


def test_an_incremental_checksum_update_folds_once_and_gives_the_same_checksums():
    out = rewritten(CSUM16_UPDATE)
    assert out.count("% 65535") == 1 and ">> 16" not in out
    words = [0, 1, 0xFF, 0x100, 0x7FFF, 0xFFFE, 0xFFFF]
    for hc in words:
        for old in words:
            for new in words:
                assert run(out, hc, old, new) == run(textwrap.dedent(CSUM16_UPDATE), hc, old, new)


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_incremental_updates_agree_on_any_words(hc, old, new):
    assert run(rewritten(CSUM16_UPDATE), hc, old, new) == run(textwrap.dedent(CSUM16_UPDATE), hc, old, new)


def test_folds_of_a_value_not_known_below_2_to_the_32_stay():
    # A 64-bit sum needs more than two folds; a value of unknown size may be anything.
    for first in ("s = a + b & 0xffffffffffffffff", "s = a + b", "s = a"):
        src = f"""
        def f(a, b):
            {first}
            s = (s & 0xffff) + (s >> 0x10) & 0xffffffff
            s = (s & 0xffff) + (s >> 0x10) & 0xffffffff
            return s
        """
        assert rewritten(src).count(">> 16") == 2, first


def test_folds_whose_mask_cuts_the_carry_stay():
    src = """
    def f(a):
        s = a & 0xffffffff
        s = (s & 0xffff) + (s >> 0x10) & 0xffff
        s = (s & 0xffff) + (s >> 0x10) & 0xffff
        return s
    """
    assert rewritten(src).count(">> 16") == 2
