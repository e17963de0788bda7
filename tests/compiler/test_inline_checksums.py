"""Checksums and hashes over field lists whose width is known only at run time (fields of headers that
may be invalid, varbits) are computed inline; they must equal the runtime's generic functions."""

from __future__ import annotations

import zlib

from hypothesis import given, settings, strategies as st

from dataplane.compiler.program import compile_program
from dataplane.diagnostics import SourceFile
from dataplane.frontend.program import check_source
from dataplane.runtime.device import Device
from dataplane.runtime.hashing import csum16

from .test_fused import fast_source

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> x; bit<16> y; bit<16> ck; bit<32> h; }
header b_t { bit<8> z; }
header o_t { varbit<32> opt; }
struct H { a_t a; b_t b; o_t o; }
struct M { }
parser P(packet_in pk, out H hdr, inout M m, inout standard_metadata_t sm) {
    state start {
        pk.extract(hdr.a);
        transition select(hdr.a.x) { 1: parse_b; 2: parse_o; default: accept; }
    }
    state parse_b { pk.extract(hdr.b); transition accept; }
    state parse_o { pk.extract(hdr.o, (bit<32>)hdr.a.y[1:0] * 8); transition accept; }
}
control V(inout H hdr, inout M m) { apply { } }
control I(inout H hdr, inout M m, inout standard_metadata_t sm) {
    apply {
        hash(hdr.a.h, HashAlgorithm.crc32, 32w0, { hdr.a.x, hdr.b.z, hdr.a.y, hdr.o.opt }, 64w0x100000000);
        sm.egress_spec = 1;
    }
}
control E(inout H hdr, inout M m, inout standard_metadata_t sm) { apply { } }
control C(inout H hdr, inout M m) {
    apply { update_checksum(true, { hdr.a.x, hdr.a.y, hdr.b.z, hdr.o.opt }, hdr.a.ck, HashAlgorithm.csum16); }
}
control D(packet_out pk, in H hdr) { apply { pk.emit(hdr.a); pk.emit(hdr.b); pk.emit(hdr.o); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""

_COMPILED = compile_program(check_source(SourceFile("inline.p4", PROGRAM)))


def test_the_generic_functions_are_not_called():
    src = _COMPILED.source
    assert "checksum(" not in src.replace("update_checksum", "") and "hash_value(" not in src
    assert "crc32(" in fast_source(_COMPILED)


@settings(max_examples=200, deadline=None)
@given(x=st.sampled_from([0, 1, 2, 7]), y=st.integers(0, 0xFFFF), rest=st.binary(min_size=0, max_size=6),
       traced=st.booleans())
def test_inline_checksum_and_hash_equal_the_generic_ones(x, y, rest, traced):
    dev = Device(_COMPILED)
    data = bytes([x]) + y.to_bytes(2, "big") + bytes(6) + rest
    out = dev.process(0, data, trace=traced).outputs
    (port, pkt), = out
    # What the generic path takes: the fields of valid headers, a varbit with its length (a header cut
    # short is a parser error, and stays invalid).
    z = rest[:1] if x == 1 else b""
    opt = rest[:y & 3] if x == 2 and len(rest) >= (y & 3) else b""
    hashed = bytes([x]) + z + y.to_bytes(2, "big") + opt
    summed = bytes([x]) + y.to_bytes(2, "big") + z + opt
    assert int.from_bytes(pkt[5:9], "big") == zlib.crc32(hashed)
    assert int.from_bytes(pkt[3:5], "big") == csum16(summed)
