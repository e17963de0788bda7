"""checksums.py: the verify of a header's own 16-bit checksum tested on the whole header, with the same
outcome for every header (the edge sums and checksums 0 and 0xffff above all), and only where the shapes
it needs hold."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.checksums import verify_checksums_whole

WIDTH = 160


def verify(shift: int, mask: int | None = None, field: str | None = None, op: str = "!=") -> str:
    mask = ((1 << WIDTH) - 1) & ~(0xffff << shift) if mask is None else mask
    field = f"h >> {shift} & 0xffff" if field is None else field
    return textwrap.dedent(f"""
    def f(h, g):
        cx = h & {mask:#x}
        if 0xffff ^ (cx % 0xffff or (0xffff if cx else 0)) {op} ({field}):
            return 'error'
        return 'ok'
    """)


def rewritten(src: str) -> str:
    fn = ast.parse(src).body[0]
    verify_checksums_whole(fn)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {}
    exec(src, namespace)
    return namespace["f"](*args)


def right_checksum(rest: int) -> int:
    return 0xffff ^ (rest % 0xffff or (0xffff if rest else 0))


@st.composite
def headers(draw):
    """A header of WIDTH bits with its checksum at a multiple of 16: the rest of it zero, a multiple of
    0xffff or anything; the checksum right, 0, 0xffff or anything."""
    shift = 16 * draw(st.integers(0, WIDTH // 16 - 1))
    rest = draw(st.one_of(st.just(0), st.integers(1, 2 ** 40).map(lambda k: k * 0xffff),
                          st.integers(0, (1 << WIDTH) - 1))) & ((1 << WIDTH) - 1) & ~(0xffff << shift)
    checksum = draw(st.one_of(st.just(right_checksum(rest)), st.sampled_from([0, 0xffff]),
                              st.integers(0, 0xffff)))
    return shift, rest | checksum << shift


@given(headers())
def test_the_test_on_the_whole_header_has_the_outcome_of_the_verify(case):
    shift, h = case
    src = verify(shift)
    out = rewritten(src)
    assert "cx" not in out.split("if ")[1]
    assert run(out, h, 0) == run(src, h, 0)


@given(headers(), st.integers(0, 2 ** 20))
def test_a_mask_that_does_not_keep_the_whole_header_stays_in_the_test(case, above):
    # The header's int may have bits above the mask (nothing says what it holds): the test keeps them out.
    shift, h = case
    src = verify(shift)
    out = rewritten(src)
    h |= above << WIDTH
    assert run(out, h, 0) == run(src, h, 0)


def test_where_the_header_may_only_have_its_bits_the_test_reads_it_as_it_is():
    src = verify(64).replace("def f(h, g):\n", "def f(data, g):\n    h = int_from_bytes(data[14:34], 'big')\n")
    out = rewritten(src)
    assert "if h % 65535 or (h >> 64 & 65535 == 65535 and h != " in out


def test_shapes_that_do_not_make_the_header_whole_are_left_alone():
    cases = [
        verify(8),                                                  # not a multiple of 16: 2**8 is not 1
        verify(64, mask=((1 << WIDTH) - 1) & ~(0xffff << 80)),      # the mask keeps the field
        verify(64, field="g >> 64 & 0xffff"),                       # another int's field
        verify(64, field="h >> 64 & 0xfff"),                        # not the 16 bits
        verify(64, op="=="),
        verify(64).replace("0xffff if cx else 0", "0xffff if h else 0"),
        verify(64).replace("cx = h &", "cx = g &"),
    ]
    for src in cases:
        assert rewritten(src) == ast.unparse(ast.parse(src).body[0]) + "\n", src
