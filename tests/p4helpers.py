"""Helpers shared by the tests: project paths and checking P4 source text."""

from __future__ import annotations

from pathlib import Path

from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.program import check_source

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "programs"
TOPOLOGIES = ROOT / "topologies"

V1MODEL_SKELETON = """
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dstAddr; bit<48> srcAddr; bit<16> etherType; }
struct headers_t { ethernet_t ethernet; }
struct metadata_t { bit<32> x; bit<8> y; }
parser MyParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.ethernet); transition accept; }
}
control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyEgress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) { apply { } }
control MyDeparser(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.ethernet); } }
"""

V1MODEL_MAIN = ("V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), "
                "MyComputeChecksum(), MyDeparser()) main;\n")


def check_text(text: str, name: str = "test.p4"):
    """Check P4 source text; return the CheckedProgram or raise DiagnosticError."""
    return check_source(SourceFile(name, text))


def with_ingress(body: str) -> str:
    """A complete v1model program whose ingress control is `body` (locals and apply block)."""
    return (V1MODEL_SKELETON
            + "control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {\n"
            + body + "\n}\n" + V1MODEL_MAIN)


def errors_of(text: str) -> list[str]:
    """The error messages reported for a program (empty if it is valid)."""
    try:
        check_text(text)
    except DiagnosticError as exc:
        return [d.message for d in exc.diagnostics if d.severity == "error"]
    return []
