"""fieldreads.py: a field read available in a local is not computed again, and nothing else changes."""

from __future__ import annotations

import ast
import random
import textwrap

from dataplane.compiler.fieldreads import read_key, reuse_field_reads


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    reuse_field_reads(fn)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {"ExitControl": type("ExitControl", (Exception,), {}), "seen": []}
    exec(src, namespace)
    return namespace["f"](*args), namespace["seen"]


def same_results(src: str, out: str, inputs) -> None:
    for args in inputs:
        assert run(out, *args) == run(textwrap.dedent(src), *args), args


def test_what_counts_as_a_field_read():
    def key(text):
        return read_key(ast.parse(text, mode="eval").body)
    assert key("h_ipv4_b_p >> 152 & 0xf") == ("h_ipv4_b_p", 152, 15)
    assert key("h_ipv4_b_p & 0xffffffff") == ("h_ipv4_b_p", 0, 0xFFFFFFFF)
    assert key("h_ipv4_b_p >> 156") == ("h_ipv4_b_p", 156, None)
    # Only a header's local, only constant shifts and masks.
    assert key("x >> 3 & 1") is None and key("h_a_b_p >> n & 1") is None and key("h_a_b_p >> 2 & m") is None


SRC = """
def f(h_ipv4_b_p, t):
    if h_ipv4_b_p >> 152 & 0xf < 5 or h_ipv4_b_p >> 128 & 0xffff < (h_ipv4_b_p >> 152 & 0xf) * 4:
        return 0
    seen.append(h_ipv4_b_p & 0xffffffff)
    if t:
        k = h_ipv4_b_p & 0xffffffff
    else:
        k = 7
    seen.append(h_ipv4_b_p >> 128 & 0xffff)
    h_ipv4_b_p = h_ipv4_b_p & ~(0xff << 88) | ((h_ipv4_b_p >> 88 & 0xff) - 1 & 0xff) << 88
    return (h_ipv4_b_p >> 88 & 0xff, h_ipv4_b_p >> 152 & 0xf, k)
"""


def test_a_read_repeated_before_its_header_changes_is_computed_once():
    out = rewritten(SRC)
    assert out.count("h_ipv4_b_p >> 152 & 15") == 2          # before the test, and after the store
    assert out.count("h_ipv4_b_p >> 128 & 65535") == 1
    assert out.count("h_ipv4_b_p & 4294967295") == 1
    # After the header's local is stored, its fields are read from it again.
    assert "return (h_ipv4_b_p >> 88 & 255, h_ipv4_b_p >> 152 & 15, k)" in out
    rng = random.Random(1)
    same_results(SRC, out, [(rng.getrandbits(160), rng.random() < 0.5) for _ in range(300)] +
                 [((4 << 156) | (n << 152) | (rng.getrandbits(16) << 128), t) for n in range(16) for t in (0, 1)])


def test_a_local_the_code_assigns_a_read_to_serves_as_it_is():
    src = """
    def f(h_a_b_p):
        k_1 = h_a_b_p >> 8 & 0xff
        if k_1 == 3:
            return h_a_b_p >> 8 & 0xff
        return 0
    """
    out = rewritten(src)
    assert "return k_1" in out and out.count(">> 8") == 1
    same_results(src, out, [(3 << 8,), (4 << 8,)])


def test_a_read_in_only_one_branch_is_not_available_after_the_join():
    src = """
    def f(h_a_b_p, t):
        if t:
            seen.append(h_a_b_p >> 4 & 0xf)
        return h_a_b_p >> 4 & 0xf
    """
    assert rewritten(src).count(">> 4 & 15") == 2


def test_a_store_of_the_holding_local_ends_its_use():
    src = """
    def f(h_a_b_p):
        k_1 = h_a_b_p & 0xff
        k_1 = 9
        return h_a_b_p & 0xff
    """
    out = rewritten(src)
    assert "return h_a_b_p & 255" in out
    same_results(src, out, [(0x1234,)])


def test_a_handler_does_not_use_what_the_try_body_computed():
    src = """
    def f(h_a_b_p, t):
        try:
            seen.append(h_a_b_p & 0xf)
            if t:
                raise ExitControl
            seen.append(h_a_b_p & 0xf)
        except ExitControl:
            return h_a_b_p & 0xf
        return h_a_b_p & 0xf
    """
    out = rewritten(src)
    same_results(src, out, [(0x1234, 0), (0x1234, 1)])
    assert "return h_a_b_p & 15" in out             # in the handler


def test_an_elif_stays_an_elif():
    src = """
    def f(h_a_b_p, t):
        if t == 1:
            return 1
        elif h_a_b_p & 0xf == 2:
            return h_a_b_p & 0xf
        return 0
    """
    out = rewritten(src)
    assert "elif h_a_b_p & 15 == 2" in out
    same_results(src, out, [(0x12, 0), (0x12, 1), (0x13, 0)])


def test_fresh_names_do_not_meet_the_function_s_own():
    src = """
    def f(h_a_b_p):
        a_4_8 = 1
        return (h_a_b_p >> 4 & 0xff) + (h_a_b_p >> 4 & 0xff) + a_4_8
    """
    out = rewritten(src)
    assert "a_4_8_2 = h_a_b_p >> 4 & 255" in out
    same_results(src, out, [(0x1234,)])


TTL_AND_CHECKSUM = """
def f(h_ipv4_b_p, m):
    ttl = h_ipv4_b_p >> 88 & 0xff
    seen.append(h_ipv4_b_p >> 64 & 0xffff)
    old = ttl << 8 | h_ipv4_b_p >> 80 & 0xff
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffff00ffffffffffffffffffffff | (ttl - 1 & 0xff) << 88
    s = (h_ipv4_b_p >> 64 & 0xffff ^ 0xffff) + old + ((h_ipv4_b_p >> 88 & 0xff) << 8 | h_ipv4_b_p >> 80 & 0xff)
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffffffff0000ffffffffffffffff | (s & 0xffff ^ 0xffff) << 64
    h_ipv4_b_p = h_ipv4_b_p & 0xffffffffffffffffffffffff00ffffffffffffff | m << 56
    return (h_ipv4_b_p, h_ipv4_b_p >> 80 & 0xff, h_ipv4_b_p >> 64 & 0xffff, h_ipv4_b_p >> 48 & 0xff)
"""


def test_a_field_write_keeps_the_reads_of_the_other_fields():
    out = rewritten(TTL_AND_CHECKSUM)
    lines = [line.strip() for line in out.splitlines()]
    # The protocol (bits 80..87) and the old checksum (64..79) are read once before the TTL write and used
    # after it; the new TTL (88..95) is the value written, kept in a local.
    assert lines[lines.index("ipv4_88_8 = ttl - 1 & 255") + 1].endswith("| ipv4_88_8 << 88")
    assert "s = (ipv4_64_16 ^ 65535) + old + (ipv4_88_8 << 8 | ipv4_80_8)" in lines
    # A write of a value whose bits are not known (m may be wider than its field) ends every read.
    assert lines[-1].endswith("(h_ipv4_b_p, h_ipv4_b_p >> 80 & 255, h_ipv4_b_p >> 64 & 65535, h_ipv4_b_p >> 48 & 255)")
    rng = random.Random(2)
    same_results(TTL_AND_CHECKSUM, out, [(rng.getrandbits(160), rng.getrandbits(8)) for _ in range(200)]
                 + [(rng.getrandbits(160), 0x1FF)])


def test_a_write_of_a_value_that_may_not_fit_its_field_is_not_reused():
    src = """
    def f(h_a_b_p, x):
        h_a_b_p = h_a_b_p & 0xffff00ff | (x & 0x1ff) << 8
        return h_a_b_p >> 8 & 0xff
    """
    out = rewritten(src)
    assert "return h_a_b_p >> 8 & 255" in out
    same_results(src, out, [(0x12345678, 0x1FF), (0x12345678, 0x0AB)])


def test_a_field_written_then_read_gives_the_value_written():
    src = """
    def f(h_a_b_p, x):
        h_a_b_p = h_a_b_p & 0xffff00ff | (x + 1 & 0xff) << 8
        seen.append(h_a_b_p >> 8 & 0xff)
        return h_a_b_p, h_a_b_p >> 8 & 0xff
    """
    out = rewritten(src)
    assert "a_8_8 = x + 1 & 255" in out and out.count(">> 8") == 0
    same_results(src, out, [(0x12345678, 0xFF), (0x12345678, 0x0AB)])
