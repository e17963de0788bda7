"""The fused fast(port, data) function: the optimised forms are generated, and it does what the stage
functions (the general path, also used when tracing) do, packet for packet."""

from __future__ import annotations

import io
import random
import re
import tokenize

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dataplane.frontend.program import check_source
from dataplane.diagnostics import SourceFile
from dataplane.compiler.program import compile_program
from dataplane.runtime.device import Device

from .test_byteorder import BIG
from .test_packet_fuzz import ALL, configured_device, program, stf_packets


def fast_source(compiled) -> str:
    """The source of the generated fast() function."""
    lines = compiled.source.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "def fast(port, data):")
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(i for i in range(start + 1, len(lines))
               if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) <= indent)
    return "\n".join(lines[start:end]) + "\n"


def attribute_reads_of_p(source: str) -> list[int]:
    """The lines (1-based) where the code uses an attribute of `p`, found as tokens (not in strings)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    return [a.start[0] for a, b in zip(tokens, tokens[1:]) if a.type == tokenize.NAME and a.string == "p"
            and b.string == "."]


def outcome(result) -> tuple:
    """What left and why the rest was dropped. An empty packet is left out: the general path drops it
    (truncated to zero bytes) while fast() sends it unless truncate() emptied it, a difference older than
    the fused function's locals (see the report of this change)."""
    from dataplane.runtime.trace import DropReason
    return ([o for o in result.outputs if o[1]],
            [r for r, _ in result.drops if r is not DropReason.TRUNCATED_TO_NOTHING])


def test_the_state_of_a_simple_program_is_in_locals():
    # basic_ipv4 never multicasts, clones or recirculates: its packets never leave for the general machinery.
    src = fast_source(program("basic_ipv4"))
    assert "State" not in src and "AFTER_" not in src and not attribute_reads_of_p(src)


def test_the_state_is_built_only_where_the_packet_leaves_for_the_general_machinery():
    src = fast_source(compile_program(check_source(SourceFile("clone.p4", CLONING))))
    lines = src.splitlines()
    uses = attribute_reads_of_p(src)
    # Only where the packet leaves for the general machinery is a State object built.
    built = [i + 1 for i, l in enumerate(lines) if l.strip() == "p = State()"]
    leaves = [i + 1 for i, l in enumerate(lines) if l.strip().startswith("return") and "AFTER_" in l]
    assert len(built) == len(leaves) >= 1
    assert all(any(b < u < l for b, l in zip(built, leaves)) for u in uses)
    assert "State" not in "\n".join(lines[leaves[-1]:])


def test_the_deparser_calls_to_bytes_once_without_a_list():
    src = fast_source(program("basic_ipv4"))
    assert src.count(".to_bytes(") == 1
    assert "out.append" not in src and "join" not in src
    # One expression: the IPv4 header's new value (its checksum updated) goes straight into it.
    assert re.search(r"\n +pkt = \(h_ethernet_b_p << 160 \| \(cx_\d+ \| .*\) << 64\)\)\.to_bytes\(34" + BIG +
                     r"\) \+ _payload_p\n", src)


def test_fixed_headers_are_extracted_at_constant_offsets():
    src = fast_source(program("basic_ipv4"))
    # Ethernet and IPv4 are read with one conversion where both are (joinedextracts.py), Ethernet alone where
    # the packet is too short for IPv4.
    assert f"int_from_bytes(data[0:14]{BIG})" in src and f"int_from_bytes(data[0:34]{BIG})" in src
    assert "off +" not in src and "off +=" not in src
    # Past the parser, the payload of an IPv4 packet starts at a constant offset; where the IPv4 header is
    # cut short, the packet is dropped, so where its payload would start is not even computed.
    assert "_payload_p = data[34:]" in src
    assert re.search(r"if 34 > n:\n +h_ethernet_b_p = int_from_bytes\(data\[0:14\]" + BIG + r"\)\n +raise ParserStop\(1\)\n",
                     src)


def test_no_checks_for_what_the_program_cannot_do():
    src = fast_source(program("basic_ipv4"))
    for unused in ("_special", "_truncate", "TIMESTAMPS", "QUEUEING", "global_timestamp", "dev.queueing"):
        assert unused not in src


CLONING = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; }
struct H { h_t h; }
struct M { }
parser P(packet_in pk, out H hdr, inout M m, inout standard_metadata_t sm) {
    state start { pk.extract(hdr.h); transition accept; }
}
control V(inout H hdr, inout M m) { apply { } }
control I(inout H hdr, inout M m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (hdr.h.a == 1) { clone(CloneType.I2E, 5); }
        if (hdr.h.a == 2) { truncate(1); }
    }
}
control E(inout H hdr, inout M m, inout standard_metadata_t sm) { apply { } }
control C(inout H hdr, inout M m) { apply { } }
control D(packet_out pk, in H hdr) { apply { pk.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_a_program_that_clones_and_truncates_keeps_those_checks_and_still_works():
    compiled = compile_program(check_source(SourceFile("clone.p4", CLONING)))
    src = fast_source(compiled)
    assert "if _special_p or s_mcast_grp_p:" in src or "if _special_p:" in src
    assert "if _truncate_p:" in src
    dev = Device(compiled)
    dev.clone_session_set(5, port=3)
    assert dev.process(0, b"\x00xyz").outputs == [(2, b"\x00xyz")]
    assert sorted(dev.process(0, b"\x01xyz").outputs) == [(2, b"\x01xyz"), (3, b"\x01xyz")]
    assert dev.process(0, b"\x02xyz").outputs == [(2, b"\x02")]


@pytest.mark.parametrize("name", ALL)
def test_fast_and_the_stage_functions_agree_on_mutated_packets(name):
    """Two devices configured alike, one running fast() and one the stage functions (tracing), see the same
    packets: every result must be the same (registers and counters evolve alike)."""
    fast_dev, staged_dev = configured_device(name), configured_device(name)
    rng = random.Random(name)
    base = stf_packets(name) or [(1, bytes(64))]
    for k in range(150):
        port, data = rng.choice(base)
        data = bytearray(data)
        for _ in range(rng.randrange(0, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            data = data[:rng.randrange(len(data) + 1)]
        a = fast_dev.process(port, bytes(data), now_us=k)
        b = staged_dev.process(port, bytes(data), now_us=k, trace=True)
        assert outcome(a) == outcome(b), bytes(data).hex()
    assert fast_dev.internal_errors == staged_dev.internal_errors == []


@pytest.mark.parametrize("name", ["basic_ipv4", "acl_stateful"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=120), port=st.integers(0, 510))
def test_fast_and_the_stage_functions_agree_on_random_bytes(name, data, port):
    fast_dev, staged_dev = configured_device(name), configured_device(name)
    a = fast_dev.process(port, data)
    b = staged_dev.process(port, data, trace=True)
    assert outcome(a) == outcome(b)


def test_generated_names_for_state_locals_cannot_meet_fresh_locals():
    # Fresh locals end in _<digits>; state locals end in _p.
    src = fast_source(program("basic_ipv4"))
    assert re.findall(r"\b\w+_p\b", src)
    assert not [n for n in re.findall(r"\b(\w+_p)\b", src) if not n.startswith(("h_", "m_", "s_", "_"))]


def test_consecutive_writes_of_fields_of_one_header_become_one_statement():
    from dataplane.compiler.emitter import merged_field_writes
    widths = {"b_p": 16}
    high = "if v_p: b_p = (b_p & 0xff) | (((b_p) & 0xff) << 8)"       # the high byte from the low one
    low = "if v_p: b_p = (b_p & 0xff00) | (x_1)"
    assert merged_field_writes(high, low, widths) == "if v_p: b_p = (b_p & 0x0) | (((b_p) & 0xff) << 8) | (x_1)"
    # The other way round the second value would read bits the first one changed.
    assert merged_field_writes(low, high, widths) is None
    # The same field twice, overlapping fields, other headers, locals of unknown width: kept apart.
    assert merged_field_writes(low, low.replace("x_1", "y_2"), widths) is None
    assert merged_field_writes(low, "if v_p: b_p = (b_p & 0xf00f) | ((y_2) << 4)", widths) is None
    assert merged_field_writes(low, "if w_p: b_p = (b_p & 0xff) | ((y_2) << 8)", widths) is None
    assert merged_field_writes(low, "if v_p: b_p = (b_p & 0xff) | ((y_2) << 8)", {}) is None
    src = fast_source(program("basic_ipv4"))
    # (h_ethernet_b_p & 0xffff, the EtherType, was read by the parser already: fieldreads.py reuses it.)
    assert "h_ethernet_b_p = ethernet_0_16 | h_ethernet_b_p >> 64 << 16 | dstAddr_" in src
