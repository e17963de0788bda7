"""Copy-in/copy-out costs nothing where it cannot be told apart from passing storage (dataplane.compiler.effects).

The behaviour itself is pinned by tests/conformance/regressions/copy_in_copy_out, exit_in_action and
evaluation_order; these tests pin that the generated fast path of the common cases has no copies and
no try/finally.
"""

from __future__ import annotations

from dataplane.compiler.program import compile_program
from p4helpers import check_text, with_ingress


def _fast_source(body: str) -> str:
    source = compile_program(check_text(with_ingress(body))).source
    return source[source.index("def fast(port, data):"):]


def test_an_aggregate_the_callee_cannot_reach_otherwise_is_not_copied():
    fast = _fast_source("action mark(inout ethernet_t carried) { carried.etherType = 1; meta.y = 2; }\n"
                        "apply { mark(hdr.ethernet); }")
    # The action names meta, not hdr: it works on hdr.ethernet in place.
    assert "carried_v" not in fast and "carried_b" not in fast


def test_an_aggregate_the_callee_also_names_is_copied_in_and_out():
    fast = _fast_source("action mark(inout ethernet_t carried) {\n"
                        "    hdr.ethernet.etherType = 1; carried.srcAddr = 2;\n"
                        "}\n"
                        "apply { mark(hdr.ethernet); }")
    assert "carried_v" in fast and "carried_b" in fast


def test_exit_copies_out_only_where_there_is_something_to_copy():
    plain = _fast_source("action stop() { exit; }\n"
                         "action set(inout bit<8> v) { v = 3; }\n"
                         "apply { set(meta.y); stop(); }")
    assert "finally:" not in plain
    leaving = _fast_source("action stop(inout bit<8> v) { v = 3; exit; }\n"
                           "apply { stop(meta.y); }")
    assert "finally:" in leaving
