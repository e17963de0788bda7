"""selects.py: a select on several fields of one header compares the header's bits once per case, and
every packet goes where the select of the P4 program sends it."""

from __future__ import annotations

import ast
import random
import textwrap

from dataplane.compiler.program import compile_program
from dataplane.compiler.selects import merge_select_keys
from dataplane.diagnostics import SourceFile
from dataplane.frontend.program import check_source
from dataplane.runtime.device import Device

from .test_fused import fast_source, outcome


def rewritten(src: str) -> str:
    fn = ast.parse(textwrap.dedent(src)).body[0]
    merge_select_keys(fn)
    return ast.unparse(fn)


def run(src: str, *args):
    namespace: dict = {}
    exec(src, namespace)
    return namespace["f"](*args)


PORTS = """
def f(h_ipv4_b_p):
    k_1 = h_ipv4_b_p >> 109 & 0x1
    k_2 = h_ipv4_b_p >> 96 & 0x1fff
    k_3 = h_ipv4_b_p >> 80 & 0xff
    if k_1 == 0x0 and k_2 == 0x0 and (k_3 == 0x6):
        return 'tcp'
    elif k_1 == 0x0 and k_2 == 0x0 and (k_3 == 0x11):
        return 'udp'
    elif k_1 == 0x1 and (k_3 & 0xf0) == 0x80:
        return 'masked, fragOffset left out'
    else:
        return 'other'
"""


def test_the_keys_of_one_header_are_read_once_and_compared_once_per_case():
    out = rewritten(PORTS)
    assert out.count("h_ipv4_b_p") == 2          # the argument and one read
    assert "k_1 = h_ipv4_b_p >> 80 & 1073676543" in out     # 0x3fff00ff: mf, fragOffset and protocol
    assert "if k_1 == 6:" in out and "elif k_1 == 17:" in out
    assert "elif k_1 & 536871152 == 536871040:" in out      # 0x200000f0, 0x20000080
    assert "k_2" not in out and "k_3" not in out


def test_the_merged_select_takes_the_same_branch_for_every_value_of_the_fields():
    out = rewritten(PORTS)
    rng = random.Random(1)
    fields = [(mf, frag, proto) for mf in (0, 1) for frag in (0, 1, 0x1000, 0x1FFF)
              for proto in (0, 6, 0x11, 0x84, 0x80, 0x8F, 0x90, 0xFF)]
    for mf, frag, proto in fields:
        noise = rng.getrandbits(160) & ~(0x3FFF00FF << 80)
        h = noise | mf << 109 | frag << 96 | proto << 80
        assert run(out, h) == run(textwrap.dedent(PORTS), h), (mf, frag, proto)


def test_the_top_field_of_a_header_keeps_its_bits_upwards():
    src = PORTS.replace("k_1 = h_ipv4_b_p >> 109 & 0x1", "k_1 = h_ipv4_b_p >> 109")
    out = rewritten(src)
    assert "k_1 = h_ipv4_b_p >> 80 & ~65280" in out     # all bits but those between the fields (the TTL)
    for top in (0, 1, 2, 0x1FF):
        for proto in (6, 0x11, 0x80):
            h = top << 109 | proto << 80 | 0x5 << 90
            assert run(out, h) == run(textwrap.dedent(src), h)


def test_a_key_read_outside_its_select_keeps_the_select():
    src = PORTS.replace("return 'other'", "return k_3")
    assert "k_3 = h_ipv4_b_p >> 80 & 0xff" in rewritten(src).replace("255", "0xff")


def test_keys_of_two_headers_or_ranges_keep_the_select():
    two_headers = PORTS.replace("k_2 = h_ipv4_b_p >> 96", "k_2 = h_tcp_b_p >> 96").replace(
        "def f(h_ipv4_b_p)", "def f(h_ipv4_b_p, h_tcp_b_p)")
    assert "k_2" in rewritten(two_headers)
    ranged = PORTS.replace("(k_3 == 0x11)", "(0 <= k_3 <= 0x11)")
    assert "k_2" in rewritten(ranged)


def test_a_case_that_cannot_match_keeps_the_select():
    # 0x2 does not fit the 1-bit key: the case never matches; it is left for what it is.
    assert "k_2" in rewritten(PORTS.replace("elif k_1 == 0x0 and k_2", "elif k_1 == 0x2 and k_2"))


PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<4> a; bit<4> b; bit<8> c; bit<16> d; }
header x_t { bit<8> v; }
struct headers_t { h_t h; x_t x1; x_t x2; x_t x3; }
struct meta_t { }
parser P(packet_in pk, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        pk.extract(hdr.h);
        transition select(hdr.h.a, hdr.h.c, hdr.h.d) {
            (1, 2, 3): one;
            (1, _, 0x0800): two;
            (2, 0x10 &&& 0xf0, 5): three;
            default: accept;
        }
    }
    state one { pk.extract(hdr.x1); transition accept; }
    state two { pk.extract(hdr.x2); transition accept; }
    state three { pk.extract(hdr.x3); transition accept; }
}
control V(inout headers_t hdr, inout meta_t m) { apply { } }
control I(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.x1.isValid()) { sm.egress_spec = 2; }
        if (hdr.x2.isValid()) { sm.egress_spec = 3; }
        if (hdr.x3.isValid()) { sm.egress_spec = 4; hdr.x3.v = hdr.x3.v + 1; }
    }
}
control E(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers_t hdr, inout meta_t m) { apply { } }
control D(packet_out pk, in headers_t hdr) {
    apply { pk.emit(hdr.h); pk.emit(hdr.x1); pk.emit(hdr.x2); pk.emit(hdr.x3); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_a_program_select_on_three_fields_sends_every_case_where_the_stage_functions_do():
    compiled = compile_program(check_source(SourceFile("select3.p4", PROGRAM)))
    src = fast_source(compiled)
    # a, c and d in one read: all bits but b's (a is the top field: its bits go on upwards).
    assert "k_4 = h_h_b_p & ~0xf000000" in src and "if k_4 == 0x10020003:" in src
    fast_dev, staged_dev = Device(compiled), Device(compiled)
    ports = {}
    rng = random.Random(3)
    headers = [(a, b, c, d) for a in (0, 1, 2, 15) for b in (0, 9) for c in (0, 2, 0x10, 0x1F, 0x20, 0xFF)
               for d in (3, 5, 0x800, 0xFFFF)]
    for a, b, c, d in headers:
        for tail in (b"", b"\x07", bytes(rng.getrandbits(8) for _ in range(5))):
            data = bytes([a << 4 | b, c]) + d.to_bytes(2, "big") + tail
            fast, staged = fast_dev.process(0, data), staged_dev.process(0, data, trace=True)
            assert outcome(fast) == outcome(staged), data.hex()
            ports.setdefault(outcome(fast)[0][0][0] if outcome(fast)[0] else None, []).append(data)
    # Every case was hit (and a packet too short for its next header was dropped).
    assert {1, 2, 3, 4} <= set(ports)


def test_a_key_the_first_case_leaves_out_is_merged_too():
    src = PORTS.replace("if k_1 == 0x0 and k_2 == 0x0 and (k_3 == 0x6):", "if k_1 == 0x0 and k_3 == 0x6:")
    out = rewritten(src)
    assert "k_2" not in out and "if k_1 & 536871167 == 6:" in out       # 0x200000ff: mf and protocol
    for h in (6 << 80, 6 << 80 | 1 << 96, 6 << 80 | 1 << 109, 0x11 << 80, 0x11 << 80 | 1 << 96):
        assert run(out, h) == run(textwrap.dedent(src), h)


def test_a_select_in_a_handler_is_merged_once():
    body = textwrap.indent(textwrap.dedent(PORTS).split("\n", 2)[2], "        ")
    src = "def f(h_ipv4_b_p):\n    try:\n        raise KeyError\n    except KeyError:\n" + body
    out = rewritten(src)
    assert "k_2" not in out and out.count("if k_1 == 6:") == 1
    assert run(out, 0x11 << 80) == "udp" and run(out, 0x84 << 80) == "other"
