"""for loops in generated code: a loop that does not end is stopped, and the packet dropped."""

from __future__ import annotations

import pytest

from dataplane.compiler import codegen
from dataplane.compiler.program import compile_program
from dataplane.diagnostics import SourceFile
from dataplane.frontend.program import check_source
from dataplane.runtime.device import Device
from dataplane.runtime.trace import DropReason
from p4helpers import with_ingress

FRAME = bytes(12) + b"\x08\x00" + b"\xaa" * 20


def device(apply_body: str, locals_: str = "") -> Device:
    text = with_ingress(f"{locals_}\napply {{\nsm.egress_spec = 1;\n{apply_body}\n}}")
    return Device(compile_program(check_source(SourceFile("loops.p4", text))))


@pytest.mark.parametrize("traced", [False, True])
def test_a_loop_that_never_ends_drops_the_packet_at_the_limit(traced, monkeypatch):
    monkeypatch.setattr(codegen, "MAX_LOOP_ITERATIONS", 300)
    # A bit<8> counter is always <= 255.
    dev = device("for (bit<8> i = 0; i <= 255; i = i + 1) { meta.x = meta.x + 1; }")
    r = dev.process(0, FRAME, trace=traced)
    assert r.outputs == []
    [(reason, where)] = r.drops
    assert reason is DropReason.FOR_LOOP_LIMIT and where.startswith("loops.p4:")
    assert not dev.internal_errors


def test_a_loop_within_the_limit_forwards(monkeypatch):
    monkeypatch.setattr(codegen, "MAX_LOOP_ITERATIONS", 300)
    dev = device("for (bit<16> i in 1 .. 300) { meta.x = meta.x + 1; }")
    r = dev.process(0, FRAME)
    assert [p for p, _ in r.outputs] == [1] and r.drops == []


def test_return_inside_loops_of_an_action_leaves_the_action():
    # The first i * j == 6 is i = 1, j = 6; without the return meta.y would end as 99.
    dev = device("find(); if (meta.y == 1) { sm.egress_spec = 2; }",
                 "action find() { for (bit<8> i in 0 .. 9) { for (bit<8> j in 0 .. 9) {"
                 " if (i * j == 6) { meta.y = i; return; } } } meta.y = 99; }")
    assert [p for p, _ in dev.process(0, FRAME).outputs] == [2]
