"""No packet, however malformed, makes a shipped program's pipeline raise: it is forwarded or dropped."""

from __future__ import annotations

import random
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dataplane.build import build
from dataplane.runtime.device import Device
from dataplane.stf import run_stf
from p4helpers import PROGRAMS, ROOT

ALL = sorted(p.stem for p in PROGRAMS.glob("*.p4"))


@lru_cache(maxsize=None)
def program(name: str):
    return build(str(PROGRAMS / f"{name}.p4"))


def configured_device(name: str) -> Device:
    """A device with the entries of the program's first STF file (so that packets reach the actions)."""
    dev = Device(program(name))
    stfs = sorted((ROOT / "tests" / "stf" / name).glob("*.stf"))
    if stfs:
        lines = [l for l in stfs[0].read_text().splitlines()
                 if l.split("#")[0].strip().split(" ")[0].lower() not in ("packet", "expect", "no_packet", "")]
        from dataplane.diagnostics import SourceFile
        run_stf(dev, SourceFile(str(stfs[0]), "\n".join(lines) + "\n"))
    return dev


def stf_packets(name: str) -> list[tuple[int, bytes]]:
    out = []
    for f in sorted((ROOT / "tests" / "stf" / name).glob("*.stf")):
        for line in f.read_text().splitlines():
            words = line.split("#")[0].split()
            if len(words) >= 2 and words[0].lower() == "packet":
                out.append((int(words[1], 0), bytes.fromhex("".join(words[2:]))))
    return out


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200), port=st.integers(0, 510), traced=st.booleans())
def test_random_bytes(name, data, port, traced):
    dev = configured_device(name)
    r = dev.process(port, data, trace=traced)
    assert dev.internal_errors == []
    assert r.outputs or r.drops or True


@pytest.mark.parametrize("name", ALL)
def test_mutated_valid_packets(name):
    dev = configured_device(name)
    rng = random.Random(name)
    base = stf_packets(name) or [(1, bytes(64))]
    for _ in range(150):
        port, pkt = rng.choice(base)
        pkt = bytearray(pkt)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(3)
            if op == 0 and pkt:
                pkt[rng.randrange(len(pkt))] = rng.randrange(256)
            elif op == 1:
                del pkt[rng.randrange(len(pkt) + 1):]
            else:
                pkt.extend(rng.randbytes(rng.randint(1, 30)))
        r = dev.process(port, bytes(pkt), trace=rng.random() < 0.3)
        assert dev.internal_errors == [], dev.internal_errors[:1]
        # Every packet is accounted for: sent somewhere or dropped with a reason.
        assert r.outputs or r.drops
