"""Robustness: mangled programs give diagnostics, never Python exceptions."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.frontend.program import check_source
from p4helpers import PROGRAMS

SEED_PROGRAMS = [p.read_text() for p in sorted(PROGRAMS.glob("*.p4"))[:6]]


def check_never_crashes(text: str) -> None:
    try:
        check_source(SourceFile("fuzz.p4", text))
    except DiagnosticError as exc:
        for d in exc.diagnostics:
            assert d.message
            d.render()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**9), which=st.integers(0, len(SEED_PROGRAMS) - 1),
       edits=st.integers(1, 4))
def test_token_level_mutations(seed, which, edits):
    rng = random.Random(seed)
    words = SEED_PROGRAMS[which].split(" ")
    for _ in range(edits):
        i = rng.randrange(len(words))
        op = rng.randrange(4)
        if op == 0:
            del words[i]
        elif op == 1:
            words.insert(i, rng.choice(words))
        elif op == 2:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
        else:
            words[i] = words[i][: rng.randrange(len(words[i]) + 1)]
    check_never_crashes(" ".join(words))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(list("{}()<>;:=.,+-*&|^!~@#\"_ \nabcxyz019") +
                                ["bit", "header", "control", "apply", "state", "transition", "select",
                                 "table", "key", "action", "extern", "<<", ">>", " "]), max_size=80))
def test_random_token_soup(parts):
    check_never_crashes("".join(parts))
