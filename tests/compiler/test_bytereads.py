"""bytereads.py: a field of a header that still holds the bytes it was extracted from is read from them,
only where every path proves it, and nothing else changes."""

from __future__ import annotations

import ast
import random
import struct
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.bytereads import UNPACKERS, byte_read, read_fields_from_bytes, short_extract
from dataplane.compiler.simplify import _boolean_locals


def rewritten(src: str) -> str:
    """src's function after the pass (its ints unparsed in decimal: simplify.py writes masks back in hex)."""
    fn = ast.parse(textwrap.dedent(src)).body[0]
    read_fields_from_bytes(fn, _boolean_locals(fn))
    return ast.unparse(fn) + "\n"


class Stop(Exception):
    pass


def run(src: str, *args):
    namespace = {"int_from_bytes": int.from_bytes, "ParserStop": Stop}
    namespace.update({name: struct.Struct(layout).unpack_from for name, layout in UNPACKERS.values()})
    exec(textwrap.dedent(src), namespace)
    try:
        return namespace["f"](*args)
    except Exception as e:      # the same exception, the same way
        return type(e).__name__


def same_results(src: str, out: str, inputs) -> None:
    for args in inputs:
        assert run(out, *args) == run(src, *args), args


@st.composite
def fields(draw):
    """A header of 1 to 24 bytes at an offset of a packet, and one of its fields that lies within one byte or
    is 16 bits on a byte boundary, or any field at all (then byte_read may decline)."""
    size = draw(st.integers(1, 24))
    a = draw(st.integers(0, 40))
    packet = draw(st.binary(min_size=a + size, max_size=a + size + 8))
    bits = 8 * size
    shift = draw(st.integers(0, bits - 1))
    width = draw(st.integers(1, bits - shift))
    mask = None if draw(st.booleans()) and shift else (1 << width) - 1
    return packet, (a, a + size), shift, mask


@given(fields())
def test_a_byte_read_is_the_field_read_whenever_it_is_made(case):
    packet, (a, b), shift, mask = case
    h = int.from_bytes(packet[a:b], "big")
    expected = h >> shift if mask is None else h >> shift & mask
    read = byte_read(("h_x_b_p", shift, mask), (a, b), "data")
    width = 8 * (b - a) - shift if mask is None else mask.bit_length()
    within_a_byte = shift // 8 == (shift + width - 1) // 8
    assert (read is not None) == (within_a_byte or (shift % 8 == 0 and width == 16))
    if read is not None:
        assert eval(compile(ast.fix_missing_locations(ast.Expression(read)), "<read>", "eval"), {"data": packet}) == expected


def test_no_byte_read_for_a_mask_with_holes_or_a_field_past_the_header():
    assert byte_read(("h", 0, 0b101), (0, 4), "data") is None
    assert byte_read(("h", 28, 0xff), (0, 4), "data") is None
    assert byte_read(("h", 32, None), (0, 4), "data") is None


GUARDED = """
def f(port, data):
    h_ipv4_v_p = h_eth_v_p = False
    h_ipv4_b_p = 0
    n = len(data)
    if 34 > n:
        raise ParserStop(1)
    h_ipv4_b_p = int_from_bytes(data[14:34], 'big')
    h_ipv4_v_p = True
    return (h_ipv4_b_p >> 152 & 0xf, h_ipv4_b_p >> 156, h_ipv4_b_p >> 88 & 0xff, h_ipv4_b_p >> 128 & 0xffff,
            h_ipv4_b_p >> 80 & 0xff0f, h_ipv4_b_p & 0xffffffff)
"""


def packets(rng: random.Random, sizes=range(0, 60)):
    return [(1, rng.randbytes(size)) for size in sizes for _ in range(3)]


def test_reads_of_a_header_extracted_after_a_length_check_come_from_data():
    out = rewritten(GUARDED)
    assert "return (data[14] & 15, data[14] >> 4, data[22], data[16] << 8 | data[17], " in out
    # A mask with holes and a field wider than 16 bits are read from the header's int as before.
    assert "h_ipv4_b_p >> 80 & 65295, h_ipv4_b_p & 4294967295)" in out
    same_results(GUARDED, out, packets(random.Random(1)))


def test_nothing_is_rewritten_without_a_length_check_before_the_extraction():
    src = GUARDED.replace("if 34 > n:", "if 30 > n:")
    out = rewritten(src)
    assert "data[14] & 15" not in out and "data[22]" not in out
    same_results(src, out, packets(random.Random(2)))


def test_a_header_written_or_data_rebound_is_read_from_its_int():
    for change in ("h_ipv4_b_p = h_ipv4_b_p & 0xffffff00ffffffffffffffffffffffffffffffff | 7 << 128",
                   "data = data[1:]", "n = 40"):
        src = GUARDED.replace("    h_ipv4_v_p = True\n", f"    h_ipv4_v_p = True\n    {change}\n")
        out = rewritten(src)
        if change.startswith("n ="):
            assert "data[22]" in out          # n is no longer len(data), but the check came before
        else:
            assert "data[" not in out.split("return")[1], change
        same_results(src, out, packets(random.Random(3)))


BRANCHES = """
def f(port, data):
    h_cpu_v_p = h_ipv4_v_p = False
    h_ipv4_b_p = 0
    n = len(data)
    try:
        if port == 7:
            if 4 > n:
                raise ParserStop(1)
            h_cpu_v_p = True
            if 24 > n:
                raise ParserStop(1)
            h_ipv4_b_p = int_from_bytes(data[4:24], 'big')
            h_ipv4_v_p = True
        else:
            if 20 > n:
                raise ParserStop(1)
            h_ipv4_b_p = int_from_bytes(data[0:20], 'big')
            h_ipv4_v_p = True
            if h_ipv4_b_p >> 152 & 0xf == 6:
                if 21 > n:
                    raise ParserStop(2)
    except ParserStop as exc:
        err = exc.args[0]
    else:
        err = 0
    if h_ipv4_v_p and not h_cpu_v_p:
        return (err, h_ipv4_b_p >> 88 & 0xff)
    elif h_ipv4_v_p and h_cpu_v_p:
        return (err, h_ipv4_b_p >> 88 & 0xff)
    return (err, h_ipv4_b_p >> 88 & 0xff)
"""


def test_paths_are_told_apart_by_what_they_know_of_validity():
    out = rewritten(BRANCHES)
    body = out.split("err = 0")[1]
    # Without a CPU header IPv4 was extracted at 0, with one at 4; where either may be, from the int.
    assert body.count("data[8]") == 1 and body.count("data[12]") == 1 and body.count("h_ipv4_b_p >> 88") == 1
    # The parser's own read, after a raise that its handler catches, is rewritten too.
    assert "if data[0] & 15 == 6" in out
    rng = random.Random(4)
    same_results(BRANCHES, out, [(port, data) for port in (0, 7) for _, data in packets(rng)])


def test_a_handler_catching_what_a_call_may_raise_knows_only_what_the_try_never_changes():
    src = """
    def f(port, data):
        h_a_b_p = 0
        n = len(data)
        if 2 > n:
            return None
        h_a_b_p = int_from_bytes(data[0:2], 'big')
        try:
            h_a_b_p = int_from_bytes(data[port:port + 2], 'big')
            port = 1 // port
        except ZeroDivisionError:
            return h_a_b_p & 0xff
        return h_a_b_p >> 8
    """
    out = rewritten(src)
    # (The extraction at 0 itself becomes a read of its two bytes: short_extract.)
    assert "return h_a_b_p & 255" in out and "return h_a_b_p >> 8" in out
    same_results(src, out, [(port, bytes(range(5, 9))) for port in range(4)])


HELD = """
def f(port, data):
    h_cpu_v_p = h_ipv4_v_p = False
    h_ipv4_b_p = 0
    n = len(data)
    if 24 > n:
        return None
    if port == 7:
        h_cpu_v_p = True
        h_ipv4_b_p = int_from_bytes(data[4:24], 'big')
        h_ipv4_v_p = True
        k_1 = h_ipv4_b_p >> 152 & 0xf
    else:
        h_ipv4_b_p = int_from_bytes(data[0:20], 'big')
        h_ipv4_v_p = True
        k_2 = h_ipv4_b_p >> 152 & 0xf
        if k_2 == 3:
            k_2 = 9
    if h_ipv4_v_p and h_cpu_v_p:
        return (h_ipv4_b_p >> 152 & 0xf, h_ipv4_b_p >> 156)
    return (h_ipv4_b_p >> 152 & 0xf, h_ipv4_b_p >> 156)
"""


def test_a_local_that_holds_a_byte_read_on_every_path_serves_as_it_is():
    out = rewritten(HELD)
    # With the CPU header, k_1 holds IHL; without it, k_2 may have been changed: IHL is read again.
    assert "return (k_1, data[4] >> 4)" in out and "return (data[0] & 15, data[0] >> 4)" in out
    same_results(HELD, out, [(port, data) for port in (0, 7) for _, data in packets(random.Random(6))])


@given(st.integers(0, 12), st.integers(0, 12), st.binary(max_size=24))
def test_a_short_extract_is_the_int_of_its_bytes_where_they_are_all_there(a, size, packet):
    read = short_extract((a, a + size), "data")
    assert (read is not None) == (size in (1, 2, 4, 8))
    if read is not None and len(packet) >= a + size:
        namespace = {"data": packet, **{name: struct.Struct(layout).unpack_from for name, layout in UNPACKERS.values()}}
        value = eval(compile(ast.fix_missing_locations(ast.Expression(read)), "<read>", "eval"), namespace)
        assert value == int.from_bytes(packet[a:a + size], "big")


EXTRACTS = """
def f(port, data):
    a = b = c = d = e = g = 0
    n = len(data)
    if 18 > n:
        raise ParserStop(1)
    a = int_from_bytes(data[0:1], 'big')
    b = int_from_bytes(data[1:3], 'big')
    c = int_from_bytes(data[3:7], 'big')
    d = int_from_bytes(data[7:15], 'big')
    e = int_from_bytes(data[15:18], 'big')
    if port:
        g = int_from_bytes(data[18:22], 'big')
    elif 22 > n:
        raise ParserStop(1)
    else:
        g = int_from_bytes(data[17:21], 'big')
    return a, b, c, d, e, g
"""


def test_extracts_of_1_2_4_and_8_bytes_proven_in_bounds_read_without_int_from_bytes():
    out = rewritten(EXTRACTS)
    assert "a = data[0]\n" in out and "b = data[1] << 8 | data[2]\n" in out
    assert "c = unpack_u32_from(data, 3)[0]\n" in out and "d = unpack_u64_from(data, 7)[0]\n" in out
    assert "g = unpack_u32_from(data, 17)[0]\n" in out
    # 3 bytes: no cheaper read; past the length proven (a shorter packet gives a smaller int): kept.
    assert "e = int_from_bytes(data[15:18], 'big')" in out and "g = int_from_bytes(data[18:22], 'big')" in out
    same_results(EXTRACTS, out, [(port, packet) for port, packet in packets(random.Random(5), range(0, 30))]
                 + [(0, packet) for _, packet in packets(random.Random(6), range(0, 30))])


def test_an_extract_reached_by_a_path_without_the_length_check_is_kept():
    src = """
    def f(port, data):
        n = len(data)
        for _ in range(2):
            if port:
                if 4 > n:
                    raise ParserStop(1)
            x = int_from_bytes(data[0:4], 'big')
        return x
    """
    out = rewritten(src)
    assert "int_from_bytes(data[0:4], 'big')" in out
    same_results(src, out, packets(random.Random(7), range(0, 8)))


# An IPv4 header extracted from the bytes at 0, or at 4 behind a CPU header (port 7), after a length check.
IPV4_AT_0_OR_4 = """
def f(port, data):
    h_cpu_v_p = False
    h_ipv4_b_p = 0
    n = len(data)
    if 24 > n:
        return None
    if port == 7:
        h_cpu_v_p = True
        h_ipv4_b_p = int_from_bytes(data[4:24], 'big')
    else:
        h_ipv4_b_p = int_from_bytes(data[0:20], 'big')
"""

PARTS = IPV4_AT_0_OR_4 + """    src = h_ipv4_b_p >> 32 & 0xffffffff
    dst = h_ipv4_b_p & 0xffffffff
    if h_cpu_v_p:
        return (src >> 24 == 0, src >> 28, dst, dst >> 24)
    return (src >> 24 == 0 or src >> 24 == 0x7f, src >> 28 & 0x3, src & 0xff, dst, dst >> 24)
"""


def packets_of_every_size(seed: int):
    return [(port, data) for port in (0, 7) for _, data in packets(random.Random(seed))]


def test_a_local_read_only_in_parts_within_a_byte_is_left_out_for_those_bytes():
    out = rewritten(PARTS)
    # The source address: each part a byte of data where the path's header starts (4 with the CPU header).
    assert "src" not in out
    assert "return (data[16] == 0, data[16] >> 4, dst, dst >> 24)" in out
    assert "return (data[12] == 0 or data[12] == 127, data[12] >> 4 & 3, data[15], dst, dst >> 24)" in out
    # The destination address is also read whole: it stays, and so do its parts.
    assert "dst = h_ipv4_b_p & 4294967295" in out
    same_results(PARTS, out, packets_of_every_size(7))


@given(st.binary(max_size=30), st.sampled_from([0, 7]))
def test_old_and_new_agree_on_any_packet_with_parts(data, port):
    assert run(rewritten(PARTS), port, data) == run(PARTS, port, data)


def test_a_part_not_within_one_byte_or_not_known_on_every_path_keeps_the_local():
    changes = {
        "a part across two bytes": ("src >> 28 & 0x3,", "src >> 20 & 0xfff,"),
        "a part of 16 bits": ("src >> 28 & 0x3,", "src >> 16,"),
        "read whole": ("src & 0xff,", "src,"),
        "the header written": ("    src = h_ipv4_b_p", "    h_ipv4_b_p = h_ipv4_b_p | 1\n    src = h_ipv4_b_p"),
        "the header written after": ("    dst = h_ipv4_b_p", "    h_ipv4_b_p = 5\n    dst = h_ipv4_b_p"),
        "the local stored again": ("    dst = h_ipv4_b_p", "    src = port\n    dst = h_ipv4_b_p"),
        "a header that may be unread": ("        h_ipv4_b_p = int_from_bytes(data[4:24], 'big')\n", ""),
        "no length check": ("    if 24 > n:\n        return None\n", ""),
        "data rebound": ("    dst = h_ipv4_b_p", "    data = data[1:]\n    dst = h_ipv4_b_p"),
    }
    for why, (old, new) in changes.items():
        src = PARTS.replace(old, new)
        assert src != PARTS, why
        out = rewritten(src)
        assert "src = h_ipv4_b_p >> 32 & 4294967295" in out, why
        same_results(src, out, packets_of_every_size(8))


def test_a_local_bound_otherwise_is_kept():
    for binding in ("for src in range(2):\n        pass", "global src", "src += 1"):
        src = PARTS.replace("    dst = h_ipv4_b_p", f"    {binding}\n    dst = h_ipv4_b_p")
        out = rewritten(src)
        assert "src = h_ipv4_b_p >> 32 & 4294967295" in out, binding


ONE_BYTE = IPV4_AT_0_OR_4 + """    if not h_cpu_v_p:
        src = h_ipv4_b_p >> 32 & 0xffffffff
        if port == 3:
            return None
        return (src >> 24 == 0 or src >> 24 == 0x7f, src >> 28)
    return None
"""


def test_parts_all_of_one_byte_are_read_from_a_local_holding_that_byte():
    out = rewritten(ONE_BYTE)
    assert "ipv4_56_8 = data[12]\n" in out and "return (ipv4_56_8 == 0 or ipv4_56_8 == 127, ipv4_56_8 >> 4)" in out
    assert "src" not in out
    same_results(ONE_BYTE, out, packets_of_every_size(9))


def test_a_store_reached_with_the_header_from_other_bytes_keeps_the_parts_reading_data():
    src = ONE_BYTE.replace("    if not h_cpu_v_p:\n        src =", "    src =").replace(
        "        if port == 3:\n            return None\n        return (src", "    if not h_cpu_v_p:\n        return (src")
    assert "    src = h_ipv4_b_p" in src
    out = rewritten(src)
    assert "src" not in out and "ipv4_56_8" not in out
    assert "return (data[12] == 0 or data[12] == 127, data[12] >> 4)" in out
    same_results(src, out, packets_of_every_size(10))


@given(st.binary(max_size=30), st.sampled_from([0, 3, 7]))
def test_old_and_new_agree_on_any_packet_with_one_byte(data, port):
    assert run(rewritten(ONE_BYTE), port, data) == run(ONE_BYTE, port, data)
