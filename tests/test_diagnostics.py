"""Diagnostics: the excerpt under a message stays readable whatever the line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dataplane.diagnostics import EXCERPT_WIDTH, Diagnostic, SourceFile


def test_a_short_line_is_shown_whole_with_the_caret_under_the_span():
    src = SourceFile("f.p4", "bit<8> x = 300;\n")
    out = Diagnostic("error", "too big", src.span(1, 12, 1, 15)).render().splitlines()
    assert out == ["f.p4:1:12: error: too big", "    bit<8> x = 300;", "               ^~~"]


def test_a_megabyte_line_shows_a_window_around_the_caret():
    line = "a" * 500_000 + "BAD" + "b" * 500_000
    src = SourceFile("min.json", line)
    out = Diagnostic("error", "here", src.span(1, 500_001, 1, 500_004)).render().splitlines()
    assert out[0] == "min.json:1:500001: error: here"
    shown, marker = out[1][4:], out[2][4:]
    assert len(shown) <= EXCERPT_WIDTH + 6 and shown.startswith("...") and shown.endswith("...")
    assert shown[marker.index("^"):].startswith("BAD") and marker.strip() == "^~~"


def test_the_window_at_the_ends_of_a_long_line():
    src = SourceFile("f", "X" + "y" * 1000 + "Z")
    first = Diagnostic("error", "m", src.span(1, 1)).render().splitlines()
    assert first[1] == "    X" + "y" * (EXCERPT_WIDTH - 1) + "..." and first[2] == "    ^"
    last = Diagnostic("error", "m", src.span(1, 1002)).render().splitlines()
    assert last[1].endswith("yZ") and last[1][4:].startswith("...") and last[2].index("^") == len(last[1]) - 1


@settings(deadline=None)      # the first example imports numpy
@given(st.text(alphabet=st.sampled_from("ab\n\r\u00e9\u20ac\U0001f600\u2028"), max_size=200))
def test_line_table_of_big_files_is_the_same_as_of_small_ones(text):
    # Big inputs find their newlines with numpy (ASCII as bytes, other text as UTF-32): the same offsets.
    import dataplane.diagnostics as diagnostics
    small = list(diagnostics._line_starts(text))
    saved = diagnostics._VECTOR_THRESHOLD
    diagnostics._VECTOR_THRESHOLD = 0
    try:
        assert list(diagnostics._line_starts(text)) == small
    finally:
        diagnostics._VECTOR_THRESHOLD = saved
    assert small == [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
