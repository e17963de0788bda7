"""Arithmetic in compiled pipelines, checked against an independent model of P4_16.

Each test program is a v1model pipeline whose parser extracts one header
``h`` straight from the start of the packet. The header holds the operands
(``a``, ``b`` of the width under test, ``n`` a shift amount, ``c`` a narrow
partner for ``++``) followed by one result field per expression under test.
Ingress computes every result, sets ``egress_spec = 1``, and the deparser
emits the header, so the results are read back from the output bytes.

The expected values come from the small model below, written from the P4_16
specification ("Operations on fixed-width bit types (unsigned integers)",
"Operations on fixed-width signed integers", "Casts"), not from
``dataplane.bits``:

* bit<W>: + - * and unary - wrap modulo 2**W; ~ flips W bits; << and >> are
  logical and shifting by W or more gives 0; |+| |-| clamp to [0, 2**W-1];
  comparisons are unsigned.
* int<W>: two's complement; + - * wrap; comparisons use the signed order;
  >> is arithmetic (shifting by W or more gives 0 or -1); << is the same as
  on bit<W>; |+| |-| clamp to [-2**(W-1), 2**(W-1)-1].
* e[h:l] is bits h..l of e (width h-l+1); assigning to a slice changes only
  those bits. a ++ b has width Wa+Wb with a in the high bits.
* Casts: bit<W> -> bit<X> zero-extends or truncates; int<W> -> int<X>
  sign-extends or truncates; int<W> <-> bit<W> keeps the bits; a signed
  source cast to a wider bit<X> is sign-extended first (int<W> -> int<X> ->
  bit<X>); bool <-> bit<1> maps true to 1.

Values are compared as bit patterns (an int<W> field holds the W-bit two's
complement pattern of its value).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import pytest
from hypothesis import given, settings, strategies as st

from dataplane.compiler.program import compile_program
from dataplane.diagnostics import SourceFile
from dataplane.frontend.program import check_source
from dataplane.runtime.device import Device

U_WIDTHS = [1, 7, 8, 9, 16, 31, 32, 33, 48, 64, 128]
S_WIDTHS = [8, 16, 32, 33, 64]
CONCAT_WIDTH = 5          # width of the `c` operand of ++
SHIFT_WIDTH = 8           # width of the `n` operand (shift amounts 0..255)

SETTINGS = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------------------- the model (independent of dataplane)


def wrap(v: int, w: int) -> int:
    """The w-bit pattern of the integer v (reduction modulo 2**w)."""
    return v % (1 << w)


def signed(p: int, w: int) -> int:
    """The two's-complement value of the w-bit pattern p."""
    return p - (1 << w) if p >= (1 << (w - 1)) else p


def ones(w: int) -> int:
    return (1 << w) - 1


def clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else hi if v > hi else v


def u_shl(a: int, n: int, w: int) -> int:
    return 0 if n >= w else wrap(a * 2 ** n, w)


def u_shr(a: int, n: int, w: int) -> int:
    return 0 if n >= w else a // 2 ** n


def s_shr(a: int, n: int, w: int) -> int:
    """Arithmetic shift right of the int<w> pattern a (floor division by 2**n)."""
    v = signed(a, w)
    if n >= w:
        return wrap(-1 if v < 0 else 0, w)
    return wrap(v // 2 ** n, w)


def u_sat(v: int, w: int) -> int:
    return clamp(v, 0, ones(w))


def s_sat(v: int, w: int) -> int:
    return wrap(clamp(v, -(1 << (w - 1)), (1 << (w - 1)) - 1), w)


def bits_of(v: int, hi: int, lo: int) -> int:
    return (v // 2 ** lo) % 2 ** (hi - lo + 1)


def with_slice(v: int, hi: int, lo: int, new: int, w: int) -> int:
    """v (w bits) with bits hi..lo replaced by new."""
    low = v % 2 ** lo
    high = v // 2 ** (hi + 1)
    return wrap(high * 2 ** (hi + 1) + new * 2 ** lo + low, w)


def b1(cond: bool) -> int:
    return 1 if cond else 0


# ---------------------------------------------------------------------------- test programs


@dataclass(frozen=True)
class Res:
    """One result field: its P4 type, the statements computing it (`@R` is the field) and the model."""
    name: str
    ptype: str
    width: int
    group: str
    code: str
    model: Callable[[dict], int]


PROGRAM = """
#include <core.p4>
#include <v1model.p4>

header h_t {
%(fields)s
}
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
%(body)s
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""

JUNK = 0xA5C3_96F0_5A3C_690F_A5C3_96F0_5A3C_690F      # initial contents of result fields


class Pipeline:
    """A compiled test program and the packing of its header."""

    def __init__(self, name: str, inputs: list[tuple[str, str, int]], results: list[Res]):
        self.name = name
        self.inputs = inputs
        self.results = {r.name: r for r in results}
        assert len(self.results) == len(results), "duplicate result names"
        fields = list(inputs) + [(r.name, r.ptype, r.width) for r in results]
        total = sum(w for _, _, w in fields)
        if total % 8:
            fields.append(("pad", f"bit<{8 - total % 8}>", 8 - total % 8))
        self.fields = fields
        self.widths = {n: w for n, _, w in fields}
        self.nbytes = sum(w for _, _, w in fields) // 8
        body = "\n".join("        " + r.code.replace("@R", f"hdr.h.{r.name}") for r in results)
        self.text = PROGRAM % {"fields": "\n".join(f"    {t} {n};" for n, t, _ in fields), "body": body}
        self.device = Device(compile_program(check_source(SourceFile(f"{name}.p4", self.text))))

    def pack(self, values: dict) -> bytes:
        acc = 0
        for name, _, w in self.fields:
            v = values.get(name, JUNK)
            acc = (acc << w) | (int(v) & ones(w))
        return acc.to_bytes(self.nbytes, "big")

    def unpack(self, data: bytes) -> dict:
        acc = int.from_bytes(data[:self.nbytes], "big")
        out = {}
        shift = self.nbytes * 8
        for name, _, w in self.fields:
            shift -= w
            out[name] = (acc >> shift) & ones(w)
        return out

    def run(self, inputs: dict) -> dict:
        packet = self.pack(inputs) + b"\x01\x02\x03"
        result = self.device.process(0, packet)
        assert not result.drops, f"{self.name}: packet dropped: {result.drops}"
        assert len(result.outputs) == 1, f"{self.name}: outputs {result.outputs}"
        port, data = result.outputs[0]
        assert port == 1
        assert len(data) == len(packet) and data[self.nbytes:] == b"\x01\x02\x03"
        out = self.unpack(data)
        for name, _, _ in self.inputs:
            assert out[name] == inputs[name] & ones(self.widths[name]), f"{self.name}: input field {name} changed"
        return out

    def mismatches(self, inputs: dict, names) -> list[str]:
        out = self.run(inputs)
        shown = ", ".join(f"{k}={v:#x}" for k, v in inputs.items())
        bad = []
        for name in names:
            r = self.results[name]
            want = r.model(inputs)
            got = out[name]
            if got != want:
                bad.append(f"{self.name}: [{r.group}] {r.name} ({r.ptype}) `{r.code}` with {shown}: "
                           f"expected {want:#x}, got {got:#x}")
        return bad

    def check(self, inputs: dict, group: str | None = None) -> None:
        names = [n for n, r in self.results.items() if group is None or r.group == group]
        bad = self.mismatches(inputs, names)
        assert not bad, "\n".join(bad)


class Builder:
    def __init__(self):
        self.results: list[Res] = []

    def stmt(self, group: str, name: str, ptype: str, width: int, code: str, model) -> None:
        self.results.append(Res(name, ptype, width, group, code, model))

    def expr(self, group: str, name: str, width: int, e: str, model, signed_: bool = False) -> None:
        t = f"int<{width}>" if signed_ else f"bit<{width}>"
        self.stmt(group, name, t, width, f"@R = {e};", model)

    def flag(self, group: str, name: str, cond: str, model) -> None:
        self.stmt(group, name, "bit<1>", 1, f"@R = ({cond}) ? 1w1 : 1w0;", model)


A, B, N, C, UB = "hdr.h.a", "hdr.h.b", "hdr.h.n", "hdr.h.c", "hdr.h.ub"


def slice_ranges(w: int) -> list[tuple[int, int]]:
    cands = [(w - 1, 0), (w - 1, w - 1), (0, 0), (w - 1, w // 2), (w // 2, w // 4), (3 * w // 4, w // 3)]
    out = []
    for hi, lo in cands:
        if 0 <= lo <= hi < w and (hi, lo) not in out:
            out.append((hi, lo))
    return out


def shift_constants(w: int) -> list[int]:
    return sorted({0, 1, w - 1, w, w + 1, w + 7})


def unsigned_results(W: int) -> list[Res]:
    m = ones(W)
    K = CONCAT_WIDTH
    bd = Builder()
    e, f, s = bd.expr, bd.flag, bd.stmt

    # + - * and unary -
    e("arith", "add", W, f"{A} + {B}", lambda v: wrap(v["a"] + v["b"], W))
    e("arith", "sub", W, f"{A} - {B}", lambda v: wrap(v["a"] - v["b"], W))
    e("arith", "mul", W, f"{A} * {B}", lambda v: wrap(v["a"] * v["b"], W))
    e("arith", "neg", W, f"-{A}", lambda v: wrap(-v["a"], W))
    e("arith", "add1", W, f"{A} + 1", lambda v: wrap(v["a"] + 1, W))
    e("arith", "sub1", W, f"{A} - 1", lambda v: wrap(v["a"] - 1, W))
    e("arith", "rsub1", W, f"1 - {A}", lambda v: wrap(1 - v["a"], W))
    e("arith", "mix", W, f"{A} * {B} + {A} - {B}", lambda v: wrap(v["a"] * v["b"] + v["a"] - v["b"], W))
    e("arith", "negsum", W, f"-({A} + {B})", lambda v: wrap(-(v["a"] + v["b"]), W))
    if W >= 3:
        e("arith", "mul5", W, f"{A} * 5", lambda v: wrap(v["a"] * 5, W))
    # bitwise
    pat = int("01" * 64, 2) & m
    e("bitwise", "and", W, f"{A} & {B}", lambda v: v["a"] & v["b"])
    e("bitwise", "or", W, f"{A} | {B}", lambda v: v["a"] | v["b"])
    e("bitwise", "xor", W, f"{A} ^ {B}", lambda v: v["a"] ^ v["b"])
    e("bitwise", "not", W, f"~{A}", lambda v: m - v["a"])
    e("bitwise", "xnor", W, f"~({A} ^ {B})", lambda v: m - (v["a"] ^ v["b"]))
    e("bitwise", "andc", W, f"{A} & {W}w{pat:#x}", lambda v: v["a"] & pat)
    e("bitwise", "notand", W, f"~{A} & {B}", lambda v: (m - v["a"]) & v["b"])
    # shifts by constants, by an 8-bit amount and by a W-bit amount
    for k in shift_constants(W):
        e("shift", f"shl_c{k}", W, f"{A} << {k}", lambda v, k=k: u_shl(v["a"], k, W))
        e("shift", f"shr_c{k}", W, f"{A} >> {k}", lambda v, k=k: u_shr(v["a"], k, W))
    e("shift", "shl_n", W, f"{A} << {N}", lambda v: u_shl(v["a"], v["n"], W))
    e("shift", "shr_n", W, f"{A} >> {N}", lambda v: u_shr(v["a"], v["n"], W))
    e("shift", "shl_b", W, f"{A} << {B}", lambda v: u_shl(v["a"], v["b"], W))
    e("shift", "shr_b", W, f"{A} >> {B}", lambda v: u_shr(v["a"], v["b"], W))
    e("shift", "shlshr_n", W, f"({A} << {N}) >> {N}", lambda v: u_shr(u_shl(v["a"], v["n"], W), v["n"], W))
    e("shift", "shl_sum", W, f"({A} + {B}) << {N}", lambda v: u_shl(wrap(v["a"] + v["b"], W), v["n"], W))
    # saturating
    e("sat", "sadd", W, f"{A} |+| {B}", lambda v: u_sat(v["a"] + v["b"], W))
    e("sat", "ssub", W, f"{A} |-| {B}", lambda v: u_sat(v["a"] - v["b"], W))
    e("sat", "sadd1", W, f"{A} |+| 1", lambda v: u_sat(v["a"] + 1, W))
    e("sat", "ssub1", W, f"{A} |-| 1", lambda v: u_sat(v["a"] - 1, W))
    e("sat", "ssub_rev", W, f"{B} |-| {A}", lambda v: u_sat(v["b"] - v["a"], W))
    # comparisons
    f("cmp", "eq", f"{A} == {B}", lambda v: b1(v["a"] == v["b"]))
    f("cmp", "ne", f"{A} != {B}", lambda v: b1(v["a"] != v["b"]))
    f("cmp", "lt", f"{A} < {B}", lambda v: b1(v["a"] < v["b"]))
    f("cmp", "le", f"{A} <= {B}", lambda v: b1(v["a"] <= v["b"]))
    f("cmp", "gt", f"{A} > {B}", lambda v: b1(v["a"] > v["b"]))
    f("cmp", "ge", f"{A} >= {B}", lambda v: b1(v["a"] >= v["b"]))
    f("cmp", "ge1", f"{A} >= 1", lambda v: b1(v["a"] >= 1))
    f("cmp", "ltsum", f"{A} + {B} < {A}", lambda v: b1(wrap(v["a"] + v["b"], W) < v["a"]))
    f("cmp", "eqmax", f"{A} == {W}w{m:#x}", lambda v: b1(v["a"] == m))
    # slices: read, of an expression, assigned in a header field and in a local
    for i, (hi, lo) in enumerate(slice_ranges(W)):
        sw = hi - lo + 1
        e("slice", f"sl{i}", sw, f"{A}[{hi}:{lo}]", lambda v, hi=hi, lo=lo: bits_of(v["a"], hi, lo))
        e("slice", f"slx{i}", sw, f"({A} ^ {B})[{hi}:{lo}]",
          lambda v, hi=hi, lo=lo: bits_of(v["a"] ^ v["b"], hi, lo))
        e("slice", f"sls{i}", sw - sw // 2, f"{A}[{hi}:{lo}][{sw - 1}:{sw // 2}]",
          lambda v, hi=hi, lo=lo, sw=sw: bits_of(bits_of(v["a"], hi, lo), sw - 1, sw // 2))
        s("slice", f"sa{i}", f"bit<{W}>", W, f"@R = {A}; @R[{hi}:{lo}] = {B}[{sw - 1}:0];",
          lambda v, hi=hi, lo=lo, sw=sw: with_slice(v["a"], hi, lo, bits_of(v["b"], sw - 1, 0), W))
        s("slice", f"sal{i}", f"bit<{W}>", W,
          f"{{ bit<{W}> t = {A}; t[{hi}:{lo}] = {B}[{sw - 1}:0] ^ {A}[{hi}:{lo}]; @R = t; }}",
          lambda v, hi=hi, lo=lo, sw=sw: with_slice(v["a"], hi, lo,
                                                    bits_of(v["b"], sw - 1, 0) ^ bits_of(v["a"], hi, lo), W))
    # concatenation
    e("concat", "cat_ac", W + K, f"{A} ++ {C}", lambda v: v["a"] * 2 ** K + v["c"])
    e("concat", "cat_ca", W + K, f"{C} ++ {A}", lambda v: v["c"] * 2 ** W + v["a"])
    e("concat", "cat_ab", 2 * W, f"{A} ++ {B}", lambda v: v["a"] * 2 ** W + v["b"])
    e("concat", "cat_k", W + 3, f"{A} ++ 3w5", lambda v: v["a"] * 8 + 5)
    e("concat", "cat_n", W + SHIFT_WIDTH + K, f"{N} ++ {A} ++ {C}",
      lambda v: (v["n"] * 2 ** W + v["a"]) * 2 ** K + v["c"])
    e("concat", "cat_add", W + 1, f"(1w0 ++ {A}) + (1w0 ++ {B})", lambda v: v["a"] + v["b"])
    # casts
    for w2 in sorted({W + 1, W + 13, 2 * W, 128} - {W}):
        if w2 > W:
            e("cast", f"widen{w2}", w2, f"(bit<{w2}>) {A}", lambda v: v["a"])
    for w2 in sorted({1, W - 1, W // 2, 8}):
        if 0 < w2 < W:
            e("cast", f"narrow{w2}", w2, f"(bit<{w2}>) {A}", lambda v, w2=w2: wrap(v["a"], w2))
            e("cast", f"roundtrip{w2}", W, f"(bit<{W}>)((bit<{w2}>) {A})", lambda v, w2=w2: wrap(v["a"], w2))
    e("cast", "carry", W + 1, f"((bit<{W + 1}>) {A}) + ((bit<{W + 1}>) {B})", lambda v: v["a"] + v["b"])
    e("cast", "wide_mul", 2 * W, f"((bit<{2 * W}>) {A}) * ((bit<{2 * W}>) {B})", lambda v: v["a"] * v["b"])
    e("cast", "same", W, f"(bit<{W}>) {A}", lambda v: v["a"])
    # ?: with run-time conditions
    e("ternary", "min", W, f"({A} < {B}) ? {A} : {B}", lambda v: min(v["a"], v["b"]))
    e("ternary", "max", W, f"({A} > {B}) ? {A} : {B}", lambda v: max(v["a"], v["b"]))
    e("ternary", "bit0", W, f"({N}[0:0] == 1) ? {A} : {B}", lambda v: v["a"] if v["n"] & 1 else v["b"])
    e("ternary", "nested", W, f"({A} == {B}) ? {W}w0 : (({A} < {B}) ? {B} - {A} : {A} - {B})",
      lambda v: abs(v["a"] - v["b"]))
    e("shift", "one_shl_n", W, f"{W}w1 << {N}", lambda v: u_shl(1, v["n"], W))
    e("shift", "max_shr_n", W, f"{W}w{m:#x} >> {N}", lambda v: u_shr(m, v["n"], W))
    # constant expressions (folded at compile time), alone and mixed with fields
    top = 1 << (W - 1)
    e("const", "k_add", W, f"{W}w{m:#x} + {W}w1", lambda v: 0)
    e("const", "k_sub", W, f"{W}w0 - {W}w1", lambda v: m)
    e("const", "k_mul", W, f"{W}w{m:#x} * {W}w{m:#x}", lambda v: 1)
    e("const", "k_neg", W, f"-{W}w1", lambda v: m)
    e("const", "k_not", W, f"~{W}w0", lambda v: m)
    e("const", "k_sadd", W, f"{W}w{m:#x} |+| {W}w1", lambda v: m)
    e("const", "k_ssub", W, f"{W}w0 |-| {W}w1", lambda v: 0)
    e("const", "k_shr", W, f"{W}w{m:#x} >> {W}", lambda v: 0)
    e("const", "k_shl", W, f"{W}w1 << {W}", lambda v: 0)
    e("const", "k_shr1", W, f"{W}w{m:#x} >> {W - 1}", lambda v: 1)
    e("const", "k_shl1", W, f"{W}w1 << {W - 1}", lambda v: top)
    e("const", "k_cat", W + 3, f"{W}w{m:#x} ++ 3w5", lambda v: m * 8 + 5)
    e("const", "k_widen", W + 13, f"(bit<{W + 13}>) {W}w{m:#x}", lambda v: m)
    e("const", "k_narrow", 1, f"(bit<1>) {W}w{m:#x}", lambda v: 1)
    e("const", "k_from_int", W, f"(bit<{W}>) -1", lambda v: m)
    e("const", "k_slice", 1, f"{W}w{top:#x}[{W - 1}:{W - 1}]", lambda v: 1)
    f("const", "k_cmp", f"{W}w{m:#x} > {W}w0", lambda v: 1)
    f("const", "k_cmp2", f"{W}w{m:#x} < {W}w{top:#x}", lambda v: b1(m < top))
    e("const", "k_mix", W, f"({A} + {W}w{m:#x}) + 1", lambda v: v["a"])
    e("const", "k_mix2", W, f"{A} * ({W}w{m:#x} * {W}w{m:#x})", lambda v: v["a"])
    s("const", "k_local", f"bit<{W}>", W, f"{{ const bit<{W}> K = {W}w{m:#x}; @R = {A} ^ K; }}", lambda v: m - v["a"])
    return bd.results


def signed_results(W: int) -> list[Res]:
    bd = Builder()
    f, s = bd.flag, bd.stmt

    def e(group, name, width, expr, model, signed_=True):
        bd.expr(group, name, width, expr, model, signed_)

    def sv(v, k):
        return signed(v[k], W)

    e("arith", "add", W, f"{A} + {B}", lambda v: wrap(sv(v, "a") + sv(v, "b"), W))
    e("arith", "sub", W, f"{A} - {B}", lambda v: wrap(sv(v, "a") - sv(v, "b"), W))
    e("arith", "mul", W, f"{A} * {B}", lambda v: wrap(sv(v, "a") * sv(v, "b"), W))
    e("arith", "neg", W, f"-{A}", lambda v: wrap(-sv(v, "a"), W))
    e("arith", "mulm1", W, f"{A} * -1", lambda v: wrap(-sv(v, "a"), W))
    e("arith", "sub5", W, f"{A} - 5", lambda v: wrap(sv(v, "a") - 5, W))
    e("arith", "addm5", W, f"{A} + (-5)", lambda v: wrap(sv(v, "a") - 5, W))
    e("arith", "mix", W, f"{A} * {B} + {A}", lambda v: wrap(sv(v, "a") * sv(v, "b") + sv(v, "a"), W))
    e("arith", "not", W, f"~{A}", lambda v: wrap(-sv(v, "a") - 1, W))
    e("arith", "and", W, f"{A} & {B}", lambda v: v["a"] & v["b"])
    e("arith", "xor", W, f"{A} ^ {B}", lambda v: v["a"] ^ v["b"])

    f("cmp", "eq", f"{A} == {B}", lambda v: b1(sv(v, "a") == sv(v, "b")))
    f("cmp", "ne", f"{A} != {B}", lambda v: b1(sv(v, "a") != sv(v, "b")))
    f("cmp", "lt", f"{A} < {B}", lambda v: b1(sv(v, "a") < sv(v, "b")))
    f("cmp", "le", f"{A} <= {B}", lambda v: b1(sv(v, "a") <= sv(v, "b")))
    f("cmp", "gt", f"{A} > {B}", lambda v: b1(sv(v, "a") > sv(v, "b")))
    f("cmp", "ge", f"{A} >= {B}", lambda v: b1(sv(v, "a") >= sv(v, "b")))
    f("cmp", "neg0", f"{A} < 0", lambda v: b1(sv(v, "a") < 0))
    f("cmp", "gem1", f"{A} >= -1", lambda v: b1(sv(v, "a") >= -1))
    f("cmp", "m2lt", f"-2 < {A}", lambda v: b1(-2 < sv(v, "a")))
    f("cmp", "ltsum", f"{A} + {B} < {A}", lambda v: b1(signed(wrap(sv(v, "a") + sv(v, "b"), W), W) < sv(v, "a")))

    for k in sorted({1, W - 1, W, W + 3}):
        e("shift", f"shr_c{k}", W, f"{A} >> {k}", lambda v, k=k: s_shr(v["a"], k, W))
    e("shift", "shr_n", W, f"{A} >> {N}", lambda v: s_shr(v["a"], v["n"], W))
    e("shift", "shl_n", W, f"{A} << {N}", lambda v: u_shl(v["a"], v["n"], W))
    e("shift", "shl_c1", W, f"{A} << 1", lambda v: u_shl(v["a"], 1, W))
    e("shift", "shr_sum", W, f"({A} + {B}) >> {N}", lambda v: s_shr(wrap(sv(v, "a") + sv(v, "b"), W), v["n"], W))

    e("sat", "sadd", W, f"{A} |+| {B}", lambda v: s_sat(sv(v, "a") + sv(v, "b"), W))
    e("sat", "ssub", W, f"{A} |-| {B}", lambda v: s_sat(sv(v, "a") - sv(v, "b"), W))
    e("sat", "sadd_c", W, f"{A} |+| 100", lambda v: s_sat(sv(v, "a") + 100, W))
    e("sat", "ssub_c", W, f"{A} |-| 100", lambda v: s_sat(sv(v, "a") - 100, W))
    e("sat", "sadd_m", W, f"{A} |+| -100", lambda v: s_sat(sv(v, "a") - 100, W))

    # int<W> -> bit<X>
    e("cast", "to_bit", W, f"(bit<{W}>) {A}", lambda v: v["a"], signed_=False)
    for w2 in sorted({W + 8, 2 * W, 128}):
        e("cast", f"to_bit2_w{w2}", w2, f"(bit<{w2}>)((int<{w2}>) {A})",
          lambda v, w2=w2: wrap(sv(v, "a"), w2), signed_=False)
        e("cast", f"to_int_w{w2}", w2, f"(int<{w2}>) {A}", lambda v, w2=w2: wrap(sv(v, "a"), w2))
    for w2 in sorted({1, W // 2, W - 1}):
        # A cast changes the sign or the width, not both (P4 spec, p4c): narrow as int, then reinterpret.
        e("cast", f"to_bit_n{w2}", w2, f"(bit<{w2}>)((int<{w2}>) {A})", lambda v, w2=w2: wrap(v["a"], w2),
          signed_=False)
        if w2 >= 2:
            e("cast", f"to_int_n{w2}", w2, f"(int<{w2}>) {A}", lambda v, w2=w2: wrap(v["a"], w2))
    e("cast", "wide_add", W + 1, f"((int<{W + 1}>) {A}) + ((int<{W + 1}>) {B})",
      lambda v: wrap(sv(v, "a") + sv(v, "b"), W + 1))
    # bit<W> -> int<W>
    e("cast", "from_bit", W, f"(int<{W}>) {UB}", lambda v: v["ub"])
    e("cast", "from_bit_shr", W, f"((int<{W}>) {UB}) >> 1", lambda v: s_shr(v["ub"], 1, W))
    e("cast", "from_bit_ext", W + 8, f"(bit<{W + 8}>)((int<{W + 8}>)((int<{W}>) {UB}))",
      lambda v: wrap(signed(v["ub"], W), W + 8), signed_=False)
    e("cast", "from_bit_iext", W + 8, f"(int<{W + 8}>)((int<{W}>) {UB})", lambda v: wrap(signed(v["ub"], W), W + 8))
    e("cast", "from_bit_wide", W + 8, f"(int<{W + 8}>)((bit<{W + 8}>) {UB})", lambda v: v["ub"])
    f("cast", "from_bit_neg", f"((int<{W}>) {UB}) < 0", lambda v: b1(signed(v["ub"], W) < 0))
    f("cast", "from_bit_lt", f"((int<{W}>) {UB}) < {A}", lambda v: b1(signed(v["ub"], W) < sv(v, "a")))
    e("cast", "via_bit", W, f"(int<{W}>)((bit<{W}>) {A} + 1)", lambda v: wrap(sv(v, "a") + 1, W))
    # slices and ++ of signed values (a slice is unsigned; ++ takes the signedness of its left operand)
    e("slice", "sl_top", 4, f"{A}[{W - 1}:{W - 4}]", lambda v: bits_of(v["a"], W - 1, W - 4), signed_=False)
    e("slice", "sl_all", W, f"{A}[{W - 1}:0]", lambda v: v["a"], signed_=False)
    s("slice", "sa_low", f"int<{W}>", W, f"@R = {A}; @R[3:0] = {UB}[3:0];",
      lambda v: with_slice(v["a"], 3, 0, bits_of(v["ub"], 3, 0), W))
    s("slice", "sa_sign", f"int<{W}>", W, f"@R = {A}; @R[{W - 1}:{W - 1}] = {UB}[0:0];",
      lambda v: with_slice(v["a"], W - 1, W - 1, v["ub"] & 1, W))
    e("concat", "cat_s", W + 4, f"{A} ++ {UB}[3:0]", lambda v: v["a"] * 16 + v["ub"] % 16)
    e("concat", "cat_u", W + 4, f"{UB}[3:0] ++ {A}", lambda v: (v["ub"] % 16) * 2 ** W + v["a"], signed_=False)
    e("concat", "cat_s_shr", W + 4, f"({A} ++ {UB}[3:0]) >> 2",
      lambda v: s_shr(v["a"] * 16 + v["ub"] % 16, 2, W + 4))
    # negative constants next to run-time values
    smin, smax = 1 << (W - 1), (1 << (W - 1)) - 1
    f("cmp", "eqm1", f"{A} == -1", lambda v: b1(sv(v, "a") == -1))
    f("cmp", "nemin", f"{A} != -{smin}", lambda v: b1(sv(v, "a") != -smin))
    f("cmp", "lemin", f"{A} <= -{smin}", lambda v: b1(sv(v, "a") <= -smin))
    f("cmp", "gtmax", f"{A} > {smax}", lambda v: b1(sv(v, "a") > smax))
    e("arith", "tern_neg", W, f"({N}[0:0] == 1) ? -3 : {A}", lambda v: wrap(-3, W) if v["n"] & 1 else v["a"])
    s("arith", "local_neg", f"int<{W}>", W, f"{{ int<{W}> t = -3; @R = {A} * t; }}",
      lambda v: wrap(-3 * sv(v, "a"), W))
    s("arith", "set_neg", f"int<{W}>", W, "@R = -1;", lambda v: ones(W))
    s("sat", "ssub_k", f"int<{W}>", W, f"{{ const int<{W}> K = -7; @R = {A} |-| K; }}",
      lambda v: s_sat(sv(v, "a") + 7, W))
    for k in (W, W + 3):
        e("shift", f"shl_c{k}", W, f"{A} << {k}", lambda v: 0)
    # constant expressions
    e("const", "k_add", W, f"(int<{W}>) {smax} + 1", lambda v: smin)
    e("const", "k_neg", W, f"-((int<{W}>) -{smin})", lambda v: smin)
    e("const", "k_mul", W, f"(int<{W}>) -{smin} * -1", lambda v: smin)
    e("const", "k_mul2", W, f"(int<{W}>) -5 * 3", lambda v: wrap(-15, W))
    e("const", "k_shr", W, f"(int<{W}>) -1 >> {W + 5}", lambda v: ones(W))
    e("const", "k_shr1", W, f"(int<{W}>) -{smin} >> 1", lambda v: smin | (smin >> 1))
    e("const", "k_sadd", W, f"(int<{W}>) {smax} |+| 1", lambda v: smax)
    e("const", "k_ssub", W, f"(int<{W}>) -{smin} |-| 1", lambda v: smin)
    e("const", "k_ssub2", W, f"(int<{W}>) 0 |-| (int<{W}>) -{smin}", lambda v: smax)
    f("const", "k_lt", f"(int<{W}>) -1 < 0", lambda v: 1)
    f("const", "k_lt2", f"(int<{W}>) -{smin} < (int<{W}>) {smax}", lambda v: 1)
    e("const", "k_ext", W + 8, f"(bit<{W + 8}>)((int<{W + 8}>)((int<{W}>) -2))", lambda v: ones(W + 8) - 1, signed_=False)
    e("const", "k_iext", W + 8, f"(int<{W + 8}>)((int<{W}>) -2)", lambda v: ones(W + 8) - 1)
    e("const", "k_reint", W, f"(int<{W}>) {W}w{smin:#x}", lambda v: smin)
    e("const", "k_reint_shr", W, f"((int<{W}>) {W}w{smin:#x}) >> 1", lambda v: smin | (smin >> 1))
    e("const", "k_trunc", 4, f"(int<4>)((int<{W}>) -2)", lambda v: 0xE)
    e("const", "k_mix", W, f"{A} + ((int<{W}>) -1 * -1)", lambda v: wrap(sv(v, "a") + 1, W))
    return bd.results


def bool_results() -> list[Res]:
    X, Y, D, FB = "hdr.h.x", "hdr.h.y", "hdr.h.d", "hdr.h.fb"
    bd = Builder()
    e, s = bd.expr, bd.stmt
    e("bool", "rt", 1, f"(bit<1>)((bool) {C})", lambda v: v["c"])
    e("bool", "not", 1, f"(bit<1>)(!(bool) {C})", lambda v: 1 - v["c"])
    e("bool", "and", 1, f"(bit<1>)((bool) {C} && (bool) {D})", lambda v: v["c"] & v["d"])
    e("bool", "or", 1, f"(bit<1>)((bool) {C} || (bool) {D})", lambda v: v["c"] | v["d"])
    e("bool", "lt", 1, f"(bit<1>)({X} < {Y})", lambda v: b1(v["x"] < v["y"]))
    e("bool", "eq", 1, f"(bit<1>)({X} == {Y})", lambda v: b1(v["x"] == v["y"]))
    e("bool", "fbit", 1, f"(bit<1>) {FB}", lambda v: v["fb"])
    e("bool", "true1", 1, "(bit<1>) true", lambda v: 1)
    e("bool", "c_plus", 2, f"(bit<2>)((bit<1>)((bool) {C})) + (bit<2>)((bit<1>)((bool) {D}))",
      lambda v: v["c"] + v["d"])
    s("bool", "fbo", "bool", 1, f"@R = (bool) {C};", lambda v: v["c"])
    s("bool", "fbo2", "bool", 1, f"@R = {X} >= {Y};", lambda v: b1(v["x"] >= v["y"]))
    s("bool", "fbnot", "bool", 1, f"@R = !{FB};", lambda v: 1 - v["fb"])
    s("bool", "local", "bit<1>", 1, f"{{ bool t = {X} != {Y}; @R = (bit<1>) t; }}", lambda v: b1(v["x"] != v["y"]))
    e("ternary", "tc", 8, f"(bool) {C} ? {X} : {Y}", lambda v: v["x"] if v["c"] else v["y"])
    e("ternary", "tfb", 8, f"{FB} ? {X} : {Y}", lambda v: v["x"] if v["fb"] else v["y"])
    e("ternary", "tmax", 8, f"({X} > {Y}) ? {X} : {Y}", lambda v: max(v["x"], v["y"]))
    e("ternary", "tnest", 8, f"({X} == {Y}) ? 8w0 : (({X} < {Y}) ? 8w1 : 8w2)",
      lambda v: 0 if v["x"] == v["y"] else 1 if v["x"] < v["y"] else 2)
    e("ternary", "tand", 8, f"((bool) {C} && {X} != 0) ? {Y} + 1 : {Y} - 1",
      lambda v: wrap(v["y"] + 1, 8) if v["c"] and v["x"] else wrap(v["y"] - 1, 8))
    e("ternary", "tbit", 1, f"({X} < {Y}) ? {C} : {D}", lambda v: v["c"] if v["x"] < v["y"] else v["d"])
    s("ternary", "tif", "bit<8>", 8, f"if ((bool) {D}) {{ @R = {X} ^ {Y}; }} else {{ @R = {X} & {Y}; }}",
      lambda v: v["x"] ^ v["y"] if v["d"] else v["x"] & v["y"])
    return bd.results


@functools.lru_cache(maxsize=None)
def unsigned_pipeline(W: int) -> Pipeline:
    return Pipeline(f"u{W}", [("a", f"bit<{W}>", W), ("b", f"bit<{W}>", W), ("n", f"bit<{SHIFT_WIDTH}>", SHIFT_WIDTH),
                              ("c", f"bit<{CONCAT_WIDTH}>", CONCAT_WIDTH)], unsigned_results(W))


@functools.lru_cache(maxsize=None)
def signed_pipeline(W: int) -> Pipeline:
    return Pipeline(f"s{W}", [("a", f"int<{W}>", W), ("b", f"int<{W}>", W), ("ub", f"bit<{W}>", W),
                              ("n", f"bit<{SHIFT_WIDTH}>", SHIFT_WIDTH)], signed_results(W))


@functools.lru_cache(maxsize=None)
def bool_pipeline() -> Pipeline:
    return Pipeline("bools", [("c", "bit<1>", 1), ("d", "bit<1>", 1), ("fb", "bool", 1), ("x", "bit<8>", 8),
                              ("y", "bit<8>", 8)], bool_results())


U_GROUPS = ["arith", "bitwise", "shift", "sat", "cmp", "slice", "concat", "cast", "ternary", "const"]
S_GROUPS = ["arith", "cmp", "shift", "sat", "cast", "slice", "concat", "const"]


def groups_of(results: list[Res]) -> set[str]:
    return {r.group for r in results}


def test_groups_are_covered():
    assert groups_of(unsigned_results(8)) == set(U_GROUPS)
    assert groups_of(signed_results(8)) == set(S_GROUPS)


# ---------------------------------------------------------------------------- strategies


def edges_unsigned(w: int) -> list[int]:
    m = ones(w)
    return sorted({0, 1, 2 % (m + 1), m, m - 1, m >> 1, (m >> 1) + 1})


@functools.lru_cache(maxsize=None)
def operand(w: int):
    return st.one_of(st.sampled_from(edges_unsigned(w)), st.integers(0, ones(w)))


@functools.lru_cache(maxsize=None)
def shift_amount(w: int):
    return st.one_of(st.integers(0, w + 2), st.integers(0, ones(SHIFT_WIDTH)))


# ---------------------------------------------------------------------------- properties


# One Hypothesis test per width checks every result of that width's program (all
# groups at once): Hypothesis costs ~2 ms per example whatever the test does,
# so one test per (width, group) would be several times slower. A failure
# lists every mismatching result with its group, expression and operands.


@pytest.mark.parametrize("width", U_WIDTHS)
@SETTINGS
@given(data=st.data())
def test_unsigned_ops(width, data):
    pl = unsigned_pipeline(width)
    v = {"a": data.draw(operand(width), label="a"), "b": data.draw(operand(width), label="b"),
         "n": data.draw(shift_amount(width), label="n"), "c": data.draw(operand(CONCAT_WIDTH), label="c")}
    pl.check(v)


@pytest.mark.parametrize("width", S_WIDTHS)
@SETTINGS
@given(data=st.data())
def test_signed_ops(width, data):
    pl = signed_pipeline(width)
    v = {"a": data.draw(operand(width), label="a"), "b": data.draw(operand(width), label="b"),
         "ub": data.draw(operand(width), label="ub"), "n": data.draw(shift_amount(width), label="n")}
    pl.check(v)


@SETTINGS
@given(c=st.integers(0, 1), d=st.integers(0, 1), fb=st.integers(0, 1), x=operand(8), y=operand(8))
def test_bool_and_ternary(c, d, fb, x, y):
    bool_pipeline().check({"c": c, "d": d, "fb": fb, "x": x, "y": y})


# ---------------------------------------------------------------------------- edge values, exhaustively


def signed_edges(w: int) -> list[int]:
    smin = 1 << (w - 1)
    return sorted({0, 1, 2, ones(w), ones(w) - 1, smin, smin - 1, smin + 1})


@pytest.mark.parametrize("width", U_WIDTHS)
def test_unsigned_edge_matrix(width):
    pl = unsigned_pipeline(width)
    edges = edges_unsigned(width)
    bad = []
    for a in edges:
        for b in edges:
            for n in sorted({0, 1, width - 1, width, width + 1, 255}):
                bad += pl.mismatches({"a": a, "b": b, "n": n, "c": 0b10110}, pl.results)
    assert not bad, "\n".join(bad[:40]) + f"\n({len(bad)} mismatches)"


@pytest.mark.parametrize("width", S_WIDTHS)
def test_signed_edge_matrix(width):
    pl = signed_pipeline(width)
    edges = signed_edges(width)
    bad = []
    for a in edges:
        for b in edges:
            for n in sorted({0, 1, width - 1, width, width + 1, 255}):
                bad += pl.mismatches({"a": a, "b": b, "ub": a ^ b, "n": n}, pl.results)
    assert not bad, "\n".join(bad[:40]) + f"\n({len(bad)} mismatches)"


def test_bool_exhaustive():
    pl = bool_pipeline()
    bad = []
    for c in (0, 1):
        for d in (0, 1):
            for fb in (0, 1):
                for x, y in ((0, 0), (0, 255), (255, 0), (7, 7), (1, 2), (2, 1), (0x80, 0x7F)):
                    bad += pl.mismatches({"c": c, "d": d, "fb": fb, "x": x, "y": y}, pl.results)
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------------------- exact regressions (hand-computed)


def unsigned_cases(W: int):
    m = ones(W)
    top = 1 << (W - 1)
    cases = [
        ("add", dict(a=m, b=1), 0),
        ("add", dict(a=m, b=m), wrap(2 * m, W)),
        ("add1", dict(a=m), 0),
        ("sub", dict(a=0, b=1), m),
        ("sub1", dict(a=0), m),
        ("sub", dict(a=m, b=m), 0),
        ("mul", dict(a=m, b=m), 1),
        ("mul", dict(a=top, b=2 if W > 1 else 1), 0 if W > 1 else 1),
        ("neg", dict(a=1), m),
        ("neg", dict(a=0), 0),
        ("neg", dict(a=top), top),
        ("not", dict(a=0), m),
        ("not", dict(a=m), 0),
        ("sadd", dict(a=m, b=1), m),
        ("sadd", dict(a=m, b=m), m),
        ("sadd", dict(a=m - 1, b=1), m),
        ("sadd", dict(a=0, b=0), 0),
        ("ssub", dict(a=0, b=1), 0),
        ("ssub", dict(a=m, b=m), 0),
        ("ssub", dict(a=m, b=0), m),
        ("ssub", dict(a=1, b=m), 0),
        ("ssub1", dict(a=0), 0),
        ("shl_n", dict(a=1, n=W - 1), top),
        ("shl_n", dict(a=m, n=W), 0),
        ("shl_n", dict(a=m, n=255), 0),
        ("shr_n", dict(a=m, n=W - 1), 1),
        ("shr_n", dict(a=m, n=W), 0),
        ("shr_n", dict(a=m, n=255), 0),
        ("shl_b", dict(a=m, b=m), 0),
        ("shr_b", dict(a=m, b=m), 0),
        (f"shl_c{W}", dict(a=m), 0),
        (f"shr_c{W}", dict(a=m), 0),
        (f"shl_c{W - 1}", dict(a=m), top),
        (f"shr_c{W - 1}", dict(a=m), 1),
        ("lt", dict(a=m, b=0), 0),
        ("gt", dict(a=m, b=0), 1),
        ("ge", dict(a=m, b=m), 1),
        ("le", dict(a=0, b=m), 1),
        ("eq", dict(a=m, b=m), 1),
        ("ne", dict(a=m, b=m - 1), 1),
        ("cat_ac", dict(a=m, c=0), m << CONCAT_WIDTH),
        ("cat_ca", dict(a=0, c=ones(CONCAT_WIDTH)), ones(CONCAT_WIDTH) << W),
        ("cat_add", dict(a=m, b=m), 2 * m),
        ("carry", dict(a=m, b=1), 1 << W),
        ("wide_mul", dict(a=m, b=m), m * m),
        (f"widen{W + 13}", dict(a=m), m),
        ("sl0", dict(a=m), m),
        ("max", dict(a=m, b=0), m),
        ("min", dict(a=m, b=m - 1), m - 1),
    ]
    if W > 1:
        cases += [("lt", dict(a=m - 1, b=m), 1), ("narrow1", dict(a=m - 1), 0), ("narrow1", dict(a=m), 1),
                  (f"narrow{W - 1}", dict(a=m), ones(W - 1))]
    return cases


def signed_cases(W: int):
    m = ones(W)                 # -1
    smin = 1 << (W - 1)         # the most negative value
    smax = smin - 1
    return [
        ("add", dict(a=smax, b=1), smin),
        ("add", dict(a=m, b=1), 0),
        ("sub", dict(a=smin, b=1), smax),
        ("sub", dict(a=0, b=smin), smin),
        ("mul", dict(a=smin, b=m), smin),
        ("mul", dict(a=m, b=m), 1),
        ("neg", dict(a=smin), smin),
        ("neg", dict(a=1), m),
        ("mulm1", dict(a=smax), smin + 1),
        ("sub5", dict(a=smin), smax - 4),
        ("sadd", dict(a=smax, b=1), smax),
        ("sadd", dict(a=smin, b=m), smin),
        ("sadd", dict(a=smax, b=smin), m),
        ("sadd", dict(a=smax, b=smax), smax),
        ("sadd", dict(a=smin, b=smin), smin),
        ("ssub", dict(a=smin, b=1), smin),
        ("ssub", dict(a=smax, b=m), smax),
        ("ssub", dict(a=0, b=smin), smax),
        ("ssub", dict(a=m, b=smin), smax),
        ("ssub", dict(a=smin, b=smin), 0),
        ("sadd_c", dict(a=smax), smax),
        ("ssub_c", dict(a=smin), smin),
        ("sadd_m", dict(a=smin + 1), smin),
        ("shr_n", dict(a=smin, n=W - 1), m),
        ("shr_n", dict(a=smin, n=W), m),
        ("shr_n", dict(a=smin, n=255), m),
        ("shr_n", dict(a=smax, n=W), 0),
        ("shr_n", dict(a=smax, n=W - 2), 1),
        ("shr_n", dict(a=m, n=1), m),
        ("shr_n", dict(a=m - 1, n=1), m),
        (f"shr_c{W}", dict(a=smin), m),
        (f"shr_c{W + 3}", dict(a=smin + 5), m),
        (f"shr_c{W - 1}", dict(a=smax), 0),
        ("shr_c1", dict(a=smin), smin | (smin >> 1)),
        ("shl_n", dict(a=m, n=W - 1), smin),
        ("shl_n", dict(a=m, n=W), 0),
        ("lt", dict(a=smin, b=smax), 1),
        ("lt", dict(a=smax, b=smin), 0),
        ("lt", dict(a=m, b=0), 1),
        ("gt", dict(a=0, b=m), 1),
        ("le", dict(a=smin, b=smin), 1),
        ("ge", dict(a=m, b=smin), 1),
        ("neg0", dict(a=smin), 1),
        ("neg0", dict(a=smax), 0),
        ("gem1", dict(a=m), 1),
        ("gem1", dict(a=m - 1), 0),
        ("m2lt", dict(a=m - 1), 0),
        ("m2lt", dict(a=m), 1),
        ("to_bit", dict(a=m), m),
        (f"to_bit2_w{W + 8}", dict(a=m), ones(W + 8)),
        (f"to_bit2_w{W + 8}", dict(a=smax), smax),
        (f"to_bit2_w{W + 8}", dict(a=smin), ones(W + 8) ^ smax),
        ("to_bit2_w128", dict(a=m), ones(128)),
        (f"to_int_w{W + 8}", dict(a=smin), ones(W + 8) ^ smax),
        (f"to_bit_n{W // 2}", dict(a=m), ones(W // 2)),
        (f"to_int_n{W // 2}", dict(a=smin), 0),
        (f"to_int_n{W - 1}", dict(a=smax), ones(W - 1)),
        ("wide_add", dict(a=smin, b=smin), 1 << W),
        ("wide_add", dict(a=smax, b=smax), 2 * smax),
        ("from_bit", dict(ub=m), m),
        ("from_bit_shr", dict(ub=smin), smin | (smin >> 1)),
        ("from_bit_shr", dict(ub=smax), smax >> 1),
        ("from_bit_ext", dict(ub=smin), ones(W + 8) ^ smax),
        ("from_bit_iext", dict(ub=m), ones(W + 8)),
        ("from_bit_wide", dict(ub=m), m),
        ("from_bit_neg", dict(ub=smin), 1),
        ("from_bit_neg", dict(ub=smax), 0),
        ("from_bit_lt", dict(ub=m, a=0), 1),
    ]


def _ids(prefix: str, cases) -> list[str]:
    return [f"{prefix}{W}-{name}-" + "-".join(f"{k}{v:#x}" for k, v in inputs.items()) for W, name, inputs, _ in cases]


U_CASES = [(W, *c) for W in U_WIDTHS for c in unsigned_cases(W)]
S_CASES = [(W, *c) for W in S_WIDTHS for c in signed_cases(W)]


def _run_case(pl: Pipeline, name: str, inputs: dict, want: int, defaults: dict) -> None:
    values = dict(defaults)
    values.update(inputs)
    got = pl.run(values)[name]
    r = pl.results[name]
    shown = ", ".join(f"{k}={v:#x}" for k, v in values.items())
    assert got == want, f"{pl.name}: [{r.group}] {name} `{r.code}` with {shown}: expected {want:#x}, got {got:#x}"
    # The hand-computed value must agree with the model too (guards the model itself).
    assert r.model(values) == want, f"model disagrees for {name} with {shown}"


@pytest.mark.parametrize("width,name,inputs,want", U_CASES,
                         ids=_ids("u", U_CASES))
def test_unsigned_edges(width, name, inputs, want):
    _run_case(unsigned_pipeline(width), name, inputs, want, {"a": 0, "b": 0, "n": 0, "c": 0})


@pytest.mark.parametrize("width,name,inputs,want", S_CASES,
                         ids=_ids("s", S_CASES))
def test_signed_edges(width, name, inputs, want):
    _run_case(signed_pipeline(width), name, inputs, want, {"a": 0, "b": 0, "ub": 0, "n": 0})
