"""joinedextracts.py: a header extracted from the bytes that follow another's is read with it in one
conversion, where nothing can tell, and every packet gives what it gave."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, strategies as st

from dataplane.compiler.bytereads import read_fields_from_bytes
from dataplane.compiler.joinedextracts import join_neighbouring_extracts

# A parser as the code generator and the passes before this one leave it: Ethernet, then IPv4 or ARP.
PARSER = """
def f(data):
    h_eth_b_p = h_ipv4_b_p = h_arp_b_p = 0
    n = len(data)
    try:
        if 14 > n:
            raise ParserStop(1)
        h_eth_b_p = int_from_bytes(data[0:14], 'big')
        k = data[12] * 256 + data[13]
        if k == 0x800:
            if 34 > n:
                raise ParserStop(2)
            h_ipv4_b_p = int_from_bytes(data[14:34], 'big')
        elif k == 0x806:
            if 42 > n:
                raise ParserStop(2)
            h_arp_b_p = int_from_bytes(data[14:42], 'big')
    except ParserStop as exc:
        return ('stop', exc.args[0], h_eth_b_p, h_ipv4_b_p, h_arp_b_p)
    return (h_eth_b_p, h_ipv4_b_p, h_arp_b_p)
"""


class ParserStop(Exception):
    pass


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    read_fields_from_bytes(fn, set())
    join_neighbouring_extracts(fn)
    return ast.unparse(fn) + "\n"


def run(src: str, *args):
    namespace = {"ParserStop": ParserStop, "int_from_bytes": int.from_bytes}
    exec(textwrap.dedent(src), namespace)
    try:
        return namespace["f"](*args)
    except Exception as e:
        return type(e).__name__


def joins(src: str) -> int:
    return rewritten(src).count(">> ")


def test_neighbouring_headers_are_read_with_one_conversion():
    out = rewritten(PARSER)
    assert "int_from_bytes(data[0:34], 'big')" in out and "int_from_bytes(data[0:42], 'big')" in out
    assert "h_eth_b_p_h_ipv4_b_p >> 160" in out and "h_eth_b_p_h_arp_b_p >> 224" in out
    # Where no second header is extracted (too short, another EtherType) Ethernet still is, on its own.
    assert out.count("int_from_bytes(data[0:14], 'big')") == 3


frames = st.one_of(
    st.binary(max_size=50),
    st.tuples(st.binary(min_size=12, max_size=12), st.sampled_from([b"\x08\x00", b"\x08\x06", b"\x86\xdd"]),
              st.binary(max_size=40)).map(lambda t: t[0] + t[1] + t[2]))


@given(frames)
def test_every_packet_gives_what_it_gave(data):
    assert run(rewritten(PARSER), data) == run(PARSER, data)


def test_what_keeps_the_extractions_apart():
    cases = {
        "reads the first header between": ("k = data[12] * 256 + data[13]",
                                           "k = data[12] * 256 + data[13] + h_eth_b_p % 7"),
        "calls between": ("k = data[12] * 256 + data[13]", "k = data[12] * 256 + len(str(data[13]))"),
        "no length proven for the second": ("if 34 > n:", "if 20 > n:"),
        "not the next bytes": ("data[14:34]", "data[15:34]"),
        "catches other exceptions": ("except ParserStop as exc:", "except (ParserStop, IndexError) as exc:"),
        "rebinds data": ("n = len(data)", "n = len(data)\n    data = data[:60]"),
    }
    for why, (old, new) in cases.items():
        src = PARSER.replace(old, new).replace("h_arp_b_p = int_from_bytes(data[14:42], 'big')", "h_arp_b_p = 1")
        assert old in PARSER and joins(src) == 0, why
        for data in (bytes(range(40)), bytes(12) + b"\x08\x00" + bytes(range(30)), bytes(12) + b"\x08\x00"):
            assert run(rewritten(src), data) == run(src, data), why


def test_nothing_changes_when_nothing_is_joined():
    src = PARSER.replace("data[14:34]", "data[16:34]").replace("data[14:42]", "data[16:42]")
    fn = ast.parse(textwrap.dedent(src)).body[0]
    read_fields_from_bytes(fn, set())
    before = ast.unparse(fn)
    join_neighbouring_extracts(fn)
    assert ast.unparse(fn) == before
